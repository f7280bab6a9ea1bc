"""How the customers context's aggregates are stored and queried."""

from __future__ import annotations

from crmkit.customers._model import Contact, Customer, Interaction
from crmkit.customers.purchases import Order
from crmkit.kernel.query import RecordType

__all__ = ["CONTACTS", "CUSTOMERS", "INTERACTIONS", "ORDERS"]

#: Customers: queryable by name, kind, owner, lifecycle, source, tags, creation time and
#: external id.
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
        "external_id": lambda c: c.external_id,
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

#: Orders (id = ``Order.id_for(source, external_ref)``, so a store keeps each reported order
#: once): queryable by customer, source, reference, time, channel, region, currency and whether
#: refunds took all of it back.
ORDERS: RecordType[Order] = RecordType(
    "orders",
    Order,
    {
        "customer_id": lambda o: o.customer_id,
        "source": lambda o: o.source,
        "external_ref": lambda o: o.external_ref,
        "ordered_at": lambda o: o.ordered_at,
        "channel": lambda o: o.channel,
        "region": lambda o: o.region,
        "currency": lambda o: o.total.currency,
        "fully_refunded": lambda o: o.fully_refunded,
    },
    kinds={"ordered_at": "datetime", "fully_refunded": "boolean"},
)
