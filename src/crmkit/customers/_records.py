"""How the customers context's aggregates are stored and queried."""

from __future__ import annotations

from crmkit.customers._model import Contact, Customer, Interaction
from crmkit.kernel.query import RecordType

__all__ = ["CONTACTS", "CUSTOMERS", "INTERACTIONS"]

#: Customers: queryable by name, kind, owner, lifecycle, source, tags and creation time.
CUSTOMERS: RecordType[Customer] = RecordType(
    "customers",
    Customer,
    {
        "name": lambda c: c.name,
        "name_folded": lambda c: c.name.casefold(),
        "kind": lambda c: c.kind.value,
        "owner": lambda c: c.owner,
        "lifecycle": lambda c: c.lifecycle.value,
        "source": lambda c: c.source,
        "tags": lambda c: c.tags,
        "created_at": lambda c: c.created_at,
    },
    kinds={"tags": "multi", "created_at": "datetime"},
)

#: Contacts: queryable by customer, name, emails and phones.
CONTACTS: RecordType[Contact] = RecordType(
    "contacts",
    Contact,
    {
        "customer_id": lambda c: c.customer_id,
        "name": lambda c: c.name,
        "emails": lambda c: tuple(e.casefold() for e in c.emails),
        "phones": lambda c: c.phones,
        "decision_maker": lambda c: c.decision_maker,
    },
    kinds={"emails": "multi", "phones": "multi", "decision_maker": "boolean"},
)

#: Interactions: queryable by customer, contact, kind, who and when.
INTERACTIONS: RecordType[Interaction] = RecordType(
    "interactions",
    Interaction,
    {
        "customer_id": lambda i: i.customer_id,
        "contact_id": lambda i: i.contact_id,
        "kind": lambda i: i.kind.value,
        "by": lambda i: i.by,
        "occurred_at": lambda i: i.occurred_at,
    },
    kinds={"occurred_at": "datetime"},
)
