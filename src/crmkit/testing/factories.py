"""Make test data through a CRM's own use cases, with defaults for whatever a test leaves out.

A factory never writes around the rules: each call is the use case a host would run, so what it
returns is valid and stored, and its events are in the outbox. Names and addresses are numbered
(``Customer 1``, ``contact1@example.com``) so tests can tell them apart.

Example:
    >>> from crmkit import bootstrap
    >>> from crmkit.kernel import SequentialIds
    >>> make = Factory(bootstrap(ids=SequentialIds()))
    >>> acme = make.customer(tags=["vip"])
    >>> amy = make.contact(acme.id)
    >>> acme.name, acme.tags, amy.emails
    ('Customer 1', ('vip',), ('contact1@example.com',))
    >>> make.lead().lead.email
    'lead1@example.com'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import itertools
from typing import Any

from crmkit.app import CRM
from crmkit.app.leads import CaptureResult
from crmkit.customers import Contact, Customer, Interaction

__all__ = ["Factory"]


class Factory:
    """Makes customers, contacts, interactions and leads through ``crm``'s use cases.

    Every keyword the use case takes can be given; what is left out gets a default.

    Example:
        >>> from crmkit import bootstrap
        >>> make = Factory(bootstrap())
        >>> make.customer(name="Formosa Tea Co.", kind="company").name
        'Formosa Tea Co.'

    .. versionadded:: 0.1.0
    """

    def __init__(self, crm: CRM) -> None:
        self.crm = crm
        self._numbers: dict[str, itertools.count[int]] = {}

    def _next(self, kind: str) -> int:
        return next(self._numbers.setdefault(kind, itertools.count(1)))

    def customer(self, **fields: Any) -> Customer:
        """Register a customer (default name ``Customer N``, a company)."""
        fields.setdefault("name", f"Customer {self._next('customer')}")
        return self.crm.register_customer(**fields)

    def contact(self, customer_id: str | None = None, **fields: Any) -> Contact:
        """Add a contact to ``customer_id`` (a new customer if omitted), with a numbered email."""
        if customer_id is None:
            customer_id = self.customer().id
        n = self._next("contact")
        fields.setdefault("name", f"Contact {n}")
        if "emails" not in fields and "phones" not in fields:
            fields["emails"] = [f"contact{n}@example.com"]
        return self.crm.add_contact(customer_id, **fields)

    def interaction(self, customer_id: str | None = None, **fields: Any) -> Interaction:
        """Log an interaction (default: a call) with ``customer_id`` (a new customer if omitted)."""
        if customer_id is None:
            customer_id = self.customer().id
        fields.setdefault("kind", "call")
        fields.setdefault("summary", f"Interaction {self._next('interaction')}")
        return self.crm.log_interaction(customer_id, **fields)

    def lead(self, source_channel: str = "web_form", **fields: Any) -> CaptureResult:
        """Capture a lead (default: a web form with a numbered email); the capture's result."""
        if "email" not in fields and "phone" not in fields:
            fields["email"] = f"lead{self._next('lead')}@example.com"
        return self.crm.capture_lead(source_channel, **fields)
