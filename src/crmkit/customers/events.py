"""Domain events of the customers context.

Example:
    >>> from crmkit.customers.events import CustomerRegistered
    >>> CustomerRegistered.event_type
    'customers.CustomerRegistered'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import attrs

from crmkit.kernel.events import DomainEvent

__all__ = [
    "ContactAdded",
    "ContactUpdated",
    "CustomerLifecycleChanged",
    "CustomerOwnerAssigned",
    "CustomerRegistered",
    "CustomerRenamed",
    "CustomerTagged",
    "InteractionLogged",
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
