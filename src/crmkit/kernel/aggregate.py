"""The aggregate base: an id, a version for optimistic concurrency, and pending events.

Aggregates are mutable attrs classes whose methods check the rules and record events. The
repository bumps ``version`` on every save and refuses a save whose version is stale; the unit of
work pulls the pending events when it commits.

Example:
    >>> import attrs
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.events import DomainEvent
    >>> @attrs.frozen(kw_only=True)
    ... class Renamed(DomainEvent):
    ...     event_type = "examples.Renamed"
    ...     name: str
    >>> @attrs.define(kw_only=True)
    ... class Thing(Aggregate):
    ...     name: str
    ...     def rename(self, name: str, now: datetime) -> None:
    ...         self.name = name
    ...         self.record(Renamed(aggregate_id=self.id, occurred_at=now, name=name))
    >>> t = Thing(id="t1", name="a")
    >>> t.rename("b", datetime(2026, 1, 1, tzinfo=timezone.utc))
    >>> [(e.name, e.aggregate_version) for e in t.pull_events()], t.pending_events
    ([('b', 1)], ())

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import attrs

from crmkit.errors import ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import check_id

__all__ = ["Aggregate"]


def _valid_id(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    check_id(value, attribute.name)


def _valid_version(_instance: object, _attribute: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"must be a non-negative int, got {value!r}", path="version")


@attrs.define(kw_only=True)
class Aggregate:
    """Base class of every aggregate: ``id``, ``version`` and the events not yet committed.

    ``version`` is 0 for an aggregate never stored; the repository sets it on add and save.

    Example:
        >>> Aggregate(id="a1").version
        0

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=_valid_id)
    version: int = attrs.field(default=0, validator=_valid_version)
    _events: list[DomainEvent] = attrs.field(init=False, factory=list, repr=False, eq=False)

    def record(self, event: DomainEvent) -> None:
        """Append ``event`` to the pending events, stamped with the version this change makes.

        Example:
            >>> from datetime import datetime, timezone
            >>> a = Aggregate(id="a1")
            >>> a.record(DomainEvent(aggregate_id="a1",
            ...                      occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
            >>> a.pending_events[0].aggregate_version
            1
        """
        if event.aggregate_id != self.id:
            raise ValidationError(
                f"event for {event.aggregate_id!r} recorded on aggregate {self.id!r}",
                path="aggregate_id",
            )
        self._events.append(attrs.evolve(event, aggregate_version=self.version + 1))

    @property
    def pending_events(self) -> tuple[DomainEvent, ...]:
        """The events recorded since the last commit, oldest first."""
        return tuple(self._events)

    def pull_events(self) -> list[DomainEvent]:
        """Return and clear the pending events (the unit of work calls this on commit).

        Example:
            >>> Aggregate(id="a1").pull_events()
            []
        """
        events, self._events = self._events, []
        return events
