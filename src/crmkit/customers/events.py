"""Domain events of the customers context.

Example:
    >>> from crmkit.customers.events import CustomerRegistered
    >>> CustomerRegistered.event_type
    'customers.CustomerRegistered'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import datetime

import attrs

from crmkit.customers._consent import QuietHours
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money

__all__ = [
    "ConsentRecorded",
    "ContactAdded",
    "ContactPreferredChannelChanged",
    "ContactQuietHoursChanged",
    "ContactTimeZoneChanged",
    "ContactUpdated",
    "CustomerLifecycleChanged",
    "CustomerOwnerAssigned",
    "CustomerRegistered",
    "CustomerRenamed",
    "CustomerTagged",
    "InteractionLogged",
    "OrderRecorded",
    "OrderRefunded",
]


@attrs.frozen(kw_only=True)
class CustomerRegistered(DomainEvent):
    """A customer (company or person) was registered.

    Example:
        >>> from datetime import datetime, timezone
        >>> CustomerRegistered(aggregate_id="cus_1", name="Acme", kind="company",
        ...     occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc)).name
        'Acme'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.CustomerRegistered"
    name: str
    kind: str
    source: str | None = None
    owner: str | None = None


@attrs.frozen(kw_only=True)
class CustomerRenamed(DomainEvent):
    """A customer's name changed.

    Example:
        >>> CustomerRenamed.event_type
        'customers.CustomerRenamed'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.CustomerRenamed"
    old_name: str
    new_name: str


@attrs.frozen(kw_only=True)
class CustomerTagged(DomainEvent):
    """Tags were added to or removed from a customer.

    Example:
        >>> CustomerTagged.event_type
        'customers.CustomerTagged'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.CustomerTagged"
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class CustomerOwnerAssigned(DomainEvent):
    """A customer got a new owner (or none).

    Example:
        >>> CustomerOwnerAssigned.event_type
        'customers.CustomerOwnerAssigned'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.CustomerOwnerAssigned"
    old_owner: str | None
    new_owner: str | None


@attrs.frozen(kw_only=True)
class CustomerLifecycleChanged(DomainEvent):
    """A customer moved to another lifecycle stage (prospect, active, at risk, churned).

    Example:
        >>> CustomerLifecycleChanged.event_type
        'customers.CustomerLifecycleChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.CustomerLifecycleChanged"
    old: str
    new: str


@attrs.frozen(kw_only=True)
class ContactAdded(DomainEvent):
    """A contact person was added to a customer.

    Example:
        >>> ContactAdded.event_type
        'customers.ContactAdded'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.ContactAdded"
    customer_id: str
    name: str


@attrs.frozen(kw_only=True)
class ContactUpdated(DomainEvent):
    """A contact's details changed; ``fields`` names which.

    Example:
        >>> ContactUpdated.event_type
        'customers.ContactUpdated'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.ContactUpdated"
    customer_id: str
    fields: tuple[str, ...]


@attrs.frozen(kw_only=True)
class InteractionLogged(DomainEvent):
    """An interaction (call, email, meeting, visit, message, note) was logged.

    Example:
        >>> InteractionLogged.event_type
        'customers.InteractionLogged'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.InteractionLogged"
    customer_id: str
    kind: str
    summary: str


@attrs.frozen(kw_only=True)
class ConsentRecorded(DomainEvent):
    """A contact opted in to (``granted``) or out of a purpose on a channel.

    One event for both directions, mirroring the :class:`~crmkit.customers.ConsentRecord` it
    appended: ``at`` is when the contact said so, ``occurred_at`` when it was recorded.

    Example:
        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
        >>> e = ConsentRecorded(aggregate_id="con_1", occurred_at=at, customer_id="cus_1",
        ...     channel="sms", purpose="marketing", granted=False, at=at, source="phone call")
        >>> e.event_type, e.granted
        ('customers.ConsentRecorded', False)

    .. versionadded:: 0.1.0
    """

    event_type = "customers.ConsentRecorded"
    customer_id: str
    channel: str
    purpose: str
    granted: bool
    at: datetime
    source: str
    by: str | None = None
    note: str | None = None


@attrs.frozen(kw_only=True)
class ContactTimeZoneChanged(DomainEvent):
    """A contact's IANA time zone changed (``None``: not known).

    Example:
        >>> ContactTimeZoneChanged.event_type
        'customers.ContactTimeZoneChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.ContactTimeZoneChanged"
    customer_id: str
    old: str | None
    new: str | None


@attrs.frozen(kw_only=True)
class ContactQuietHoursChanged(DomainEvent):
    """A contact's quiet hours were set, changed or cleared (``None``).

    Example:
        >>> ContactQuietHoursChanged.event_type
        'customers.ContactQuietHoursChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.ContactQuietHoursChanged"
    customer_id: str
    old: QuietHours | None
    new: QuietHours | None


@attrs.frozen(kw_only=True)
class ContactPreferredChannelChanged(DomainEvent):
    """A contact's preferred channel changed (``None``: no preference).

    Example:
        >>> ContactPreferredChannelChanged.event_type
        'customers.ContactPreferredChannelChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.ContactPreferredChannelChanged"
    customer_id: str
    old: str | None
    new: str | None


@attrs.frozen(kw_only=True)
class OrderRecorded(DomainEvent):
    """A host reported a customer's order (recorded once per source and reference).

    Example:
        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> e = OrderRecorded(aggregate_id="ord_1", occurred_at=at, customer_id="cus_1",
        ...     source="shop", external_ref="#1001", ordered_at=at, total=Money("900", "TWD"))
        >>> e.event_type, e.total
        ('customers.OrderRecorded', Money('900', 'TWD'))

    .. versionadded:: 0.1.0
    """

    event_type = "customers.OrderRecorded"
    customer_id: str
    source: str
    external_ref: str
    ordered_at: datetime
    total: Money
    channel: str | None = None


@attrs.frozen(kw_only=True)
class OrderRefunded(DomainEvent):
    """A host reported a refund of (part of) an order; ``net`` is what is left of its total.

    Example:
        >>> OrderRefunded.event_type
        'customers.OrderRefunded'

    .. versionadded:: 0.1.0
    """

    event_type = "customers.OrderRefunded"
    customer_id: str
    refund_ref: str
    amount: Money
    refunded_at: datetime
    net: Money
