"""Service configuration a host stores and edits: named business calendars and SLA policy sets.

A :class:`~crmkit.kernel.calendar.BusinessCalendar` and an
:class:`~crmkit.service.sla.SlaPolicySet` are plain values (rules as data). To keep them in the
store beside the cases, so an admin screen can edit them and every SLA clock reads the new
version at once, each is wrapped in a small aggregate with an ``id`` and a ``version``: a
:class:`StoredCalendar` (say ``"cal_london"`` for the London team) and a
:class:`StoredSlaPolicySet` (say ``"sla_default"``). The wrapper adds nothing to the rules: it
says when they were last changed and by whom, and its version makes two concurrent edits
collide (``ConcurrencyError``) instead of one silently undoing the other.

Because SLA clocks are computed on read (see :func:`crmkit.service.sla.sla_status`), replacing a
stored calendar or policy set changes every open case's deadlines from that moment on, and
loses no paused time.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.calendar import BusinessCalendar
    >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> stored = StoredCalendar(id="cal_tpe", updated_at=now,
    ...     calendar=BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00")))
    >>> stored.replace(stored.calendar.with_closures(datetime(2026, 2, 2).date()), now=now,
    ...                actor="u_admin")
    >>> stored.calendar.is_holiday(datetime(2026, 2, 2).date()), stored.updated_by
    (True, 'u_admin')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from crmkit.errors import ValidationError
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.ids import check_id
from crmkit.kernel.time import ensure_aware, validate_aware
from crmkit.service.sla import SlaPolicySet

__all__ = ["StoredCalendar", "StoredSlaPolicySet"]


def _instance(cls: type, path: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if not isinstance(value, cls):
            raise ValidationError(
                f"must be a {cls.__name__}, not {type(value).__name__}", path=path
            )

    return check


def _optional_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _check_edit(now: object, actor: object) -> datetime:
    if actor is not None:
        check_id(actor, "actor")
    return ensure_aware(now, "now")


@attrs.define(kw_only=True)
class StoredCalendar(Aggregate):
    """A business calendar kept in the store under an id, with who changed it last and when.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.calendar import BusinessCalendar
        >>> StoredCalendar(id="cal_1", calendar="Mon-Fri",
        ...                updated_at=datetime(2026, 1, 5, tzinfo=timezone.utc))
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: calendar: must be a BusinessCalendar, not str

    .. versionadded:: 0.1.0
    """

    calendar: BusinessCalendar = attrs.field(validator=_instance(BusinessCalendar, "calendar"))
    updated_at: datetime = attrs.field(validator=validate_aware)
    updated_by: str | None = attrs.field(default=None, validator=_optional_id)

    def replace(
        self, calendar: BusinessCalendar, *, now: datetime, actor: str | None = None
    ) -> None:
        """Put ``calendar`` in place of the stored one (the id and the history stay).

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.calendar import BusinessCalendar
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> stored = StoredCalendar(id="cal_1", updated_at=now,
            ...     calendar=BusinessCalendar.office_hours("UTC", ("09:00", "17:00")))
            >>> stored.replace(BusinessCalendar.office_hours("UTC", ("08:00", "16:00")),
            ...                now=now)
            >>> str(stored.calendar.hours[0].start)
            '08:00:00'
        """
        now = _check_edit(now, actor)
        _instance(BusinessCalendar, "calendar")(None, None, calendar)
        self.calendar = calendar
        self.updated_at = now
        self.updated_by = actor


@attrs.define(kw_only=True)
class StoredSlaPolicySet(Aggregate):
    """An SLA policy set kept in the store under an id, with who changed it last and when.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> from crmkit.service.sla import SlaPolicy, SlaPolicySet
        >>> stored = StoredSlaPolicySet(id="sla_default",
        ...     updated_at=datetime(2026, 1, 5, tzinfo=timezone.utc),
        ...     policies=SlaPolicySet(default="standard", policies=[SlaPolicy(
        ...         name="standard", first_response=timedelta(hours=24),
        ...         resolution=timedelta(days=5))]))
        >>> stored.policies.policy("standard").first_response
        datetime.timedelta(days=1)

    .. versionadded:: 0.1.0
    """

    policies: SlaPolicySet = attrs.field(validator=_instance(SlaPolicySet, "policies"))
    updated_at: datetime = attrs.field(validator=validate_aware)
    updated_by: str | None = attrs.field(default=None, validator=_optional_id)

    def replace(self, policies: SlaPolicySet, *, now: datetime, actor: str | None = None) -> None:
        """Put ``policies`` in place of the stored set (the id and the history stay).

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> from crmkit.service.sla import SlaPolicy, SlaPolicySet
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> def one(hours):
            ...     return SlaPolicySet(default="std", policies=[SlaPolicy(name="std",
            ...         first_response=timedelta(hours=hours), resolution=timedelta(days=5))])
            >>> stored = StoredSlaPolicySet(id="sla_1", updated_at=now, policies=one(24))
            >>> stored.replace(one(8), now=now, actor="u_admin")
            >>> stored.policies.policy("std").first_response, stored.updated_by
            (datetime.timedelta(seconds=28800), 'u_admin')
        """
        now = _check_edit(now, actor)
        _instance(SlaPolicySet, "policies")(None, None, policies)
        self.policies = policies
        self.updated_at = now
        self.updated_by = actor
