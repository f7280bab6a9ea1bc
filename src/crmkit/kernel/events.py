"""Domain events: immutable facts an aggregate records, handed out after commit.

Every event names its ``event_type`` (``"customers.CustomerRegistered"``), the aggregate it
happened to and that aggregate's version after the change, when it happened (aware) and who
did it. Events are past-tense nouns; a context defines its own in its ``events`` module.

Example:
    >>> import attrs
    >>> from datetime import datetime, timezone
    >>> @attrs.frozen(kw_only=True)
    ... class DoorOpened(DomainEvent):
    ...     event_type = "examples.DoorOpened"
    ...     door: str
    >>> e = DoorOpened(aggregate_id="d1", occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    ...                door="front")
    >>> e.event_type, e.door, len(e.event_id)
    ('examples.DoorOpened', 'front', 32)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

import attrs

from crmkit.errors import ValidationError
from crmkit.kernel.ids import check_id
from crmkit.kernel.time import validate_aware

__all__ = ["DomainEvent", "event_class"]


def _new_event_id() -> str:
    return uuid.uuid4().hex


def _id(_instance: object, attribute: attrs.Attribute[str], value: Any) -> None:
    check_id(value, attribute.name)


def _optional_id(_instance: object, attribute: attrs.Attribute[str | None], value: Any) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _version(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            f"must be a non-negative int, got {value!r}", path="aggregate_version"
        )


@attrs.frozen(kw_only=True)
class DomainEvent:
    """Base of every domain event (frozen attrs, keyword-only fields).

    Example:
        >>> from datetime import datetime, timezone
        >>> DomainEvent(aggregate_id="x1", occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        ...             actor="u1").actor
        'u1'

    .. versionadded:: 0.1.0
    """

    event_type: ClassVar[str] = "kernel.DomainEvent"

    aggregate_id: str = attrs.field(validator=_id)
    occurred_at: datetime = attrs.field(validator=validate_aware)
    actor: str | None = attrs.field(default=None, validator=_optional_id)
    aggregate_version: int = attrs.field(default=0, validator=_version)
    event_id: str = attrs.field(factory=_new_event_id, validator=_id)


def _all_subclasses(cls: type[DomainEvent]) -> list[type[DomainEvent]]:
    found: list[type[DomainEvent]] = []
    stack = [cls]
    while stack:
        current = stack.pop()
        for sub in current.__subclasses__():
            found.append(sub)
            stack.append(sub)
    return found


def event_class(event_type: str) -> type[DomainEvent]:
    """Find the event class for an ``event_type`` among the imported event classes.

    Example:
        >>> event_class("kernel.DomainEvent") is DomainEvent
        True
        >>> event_class("nope.Nothing")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: event_type: unknown event type 'nope.Nothing'...

    .. versionadded:: 0.1.0
    """
    if event_type == DomainEvent.event_type:
        return DomainEvent
    for sub in _all_subclasses(DomainEvent):
        # attrs slotted classes replace the original class; the replaced one has no
        # __attrs_attrs__ of its own and is skipped by the identity check on the name.
        if sub.__dict__.get("event_type") == event_type and "__attrs_attrs__" in sub.__dict__:
            return sub
    raise ValidationError(
        f"unknown event type {event_type!r}; import the module that defines it first",
        path="event_type",
    )
