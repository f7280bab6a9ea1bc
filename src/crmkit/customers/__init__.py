"""The customers context: customers, their contacts, and the interactions logged with them.

A contact also carries how it wants to be reached: its time zone, quiet hours, preferred
channel and the append-only history of its consent per channel (:class:`ConsentRecord`).

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.customers import Customer
    >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> Customer.register(id="cus_1", name="Acme", kind="company", now=now).kind.value
    'company'

.. versionadded:: 0.1.0
"""

from crmkit.customers._consent import Channel, ConsentRecord, Purpose, QuietHours
from crmkit.customers._contact_points import normalize_email, normalize_phone
from crmkit.customers._model import (
    Contact,
    Customer,
    CustomerKind,
    Interaction,
    InteractionKind,
    Lifecycle,
)
from crmkit.customers._records import CONTACTS, CUSTOMERS, INTERACTIONS

__all__ = [
    "CONTACTS",
    "CUSTOMERS",
    "Channel",
    "ConsentRecord",
    "Contact",
    "Customer",
    "CustomerKind",
    "INTERACTIONS",
    "Interaction",
    "InteractionKind",
    "Lifecycle",
    "Purpose",
    "QuietHours",
    "normalize_email",
    "normalize_phone",
]
