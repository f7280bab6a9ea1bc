"""The customers context: customers, their contacts, and the interactions logged with them.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.customers import Customer
    >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> Customer.register(id="cus_1", name="Acme", kind="company", now=now).kind.value
    'company'

.. versionadded:: 0.1.0
"""

from crmkit.customers._contact_points import normalize_email, normalize_phone
from crmkit.customers._model import (
    Channel,
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
    "Contact",
    "Customer",
    "CustomerKind",
    "INTERACTIONS",
    "Interaction",
    "InteractionKind",
    "Lifecycle",
    "normalize_email",
    "normalize_phone",
]
