"""Reporting periods in a time zone: a run of calendar months or quarters.

A month in Asia/Taipei starts at local midnight on its first day, which is 16:00 UTC the day
before: :class:`Periods` keeps the boundaries as aware instants in its time zone, so an instant
(a deal's close, a complaint's filing) falls in the period its local calendar date falls in.
Plain dates (an expected close date) fall in the period their date falls in.

Example:
    >>> from datetime import date, datetime, timezone
    >>> months = Periods(date(2026, 1, 1), 3, time_zone="Asia/Taipei")
    >>> [p.key for p in months.periods]
    ['2026-01', '2026-02', '2026-03']
    >>> months.index_of(datetime(2026, 1, 31, 17, 0, tzinfo=timezone.utc))  # Feb 1 in Taipei
    1

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, time
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
from dateutil.relativedelta import relativedelta

from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.time import ensure_aware
from crmkit.pipeline.forecast import Period, PeriodKind

__all__ = ["Periods"]


def _kind(value: object) -> PeriodKind:
    return v.to_enum(PeriodKind, "kind")(value)


def _start(_instance: object, _attribute: object, value: Any) -> None:
    if type(value) is not date:
        raise ValidationError(f"must be a date, not {type(value).__name__}", path="start")


def _count(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1200:
        raise ValidationError(f"must be a whole number from 1 to 1200, not {value!r}", path="count")


def _zone(_instance: object, _attribute: object, value: object) -> None:
    try:
        if not isinstance(value, str):
            raise TypeError
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, TypeError, ValueError):
        raise ValidationError(
            f"{value!r} is not an IANA time zone (e.g. 'UTC', 'Asia/Taipei')", path="time_zone"
        ) from None


@attrs.frozen(eq=True)
class Periods:
    """``count`` consecutive months (or quarters) from the one starting on ``start``.

    ``start`` must be the first day of a month (of a quarter for quarters).

    Example:
        >>> from datetime import date
        >>> q = Periods(date(2026, 1, 1), 4, kind="quarter")
        >>> [p.key for p in q.periods], q.end
        (['2026-Q1', '2026-Q2', '2026-Q3', '2026-Q4'], datetime.date(2027, 1, 1))
        >>> Periods(date(2026, 2, 1), 1, kind="quarter")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: start: 2026-02-01 does not start a quarter; use 2026-01-01

    .. versionadded:: 0.1.0
    """

    start: date = attrs.field(validator=_start)
    count: int = attrs.field(validator=_count)
    kind: PeriodKind = attrs.field(default=PeriodKind.MONTH, converter=_kind, kw_only=True)
    time_zone: str = attrs.field(default="UTC", validator=_zone, kw_only=True)

    def __attrs_post_init__(self) -> None:
        first = Period.containing(self.start, self.kind)
        if first.start != self.start:
            raise ValidationError(
                f"{self.start.isoformat()} does not start a {self.kind.value}; "
                f"use {first.start.isoformat()}",
                path="start",
            )

    @classmethod
    def ending(
        cls,
        day: date,
        count: int,
        *,
        kind: PeriodKind | str = PeriodKind.MONTH,
        time_zone: str = "UTC",
    ) -> Periods:
        """The ``count`` periods up to and including the one ``day`` falls in.

        Example:
            >>> from datetime import date
            >>> [p.key for p in Periods.ending(date(2026, 3, 15), 2).periods]
            ['2026-02', '2026-03']
        """
        last = Period.containing(day, kind)
        months = 1 if last.kind is PeriodKind.MONTH else 3
        _count(None, None, count)
        first: date = last.start - relativedelta(months=months * (count - 1))
        return cls(first, count, kind=last.kind, time_zone=time_zone)

    @cached_property
    def periods(self) -> tuple[Period, ...]:
        """The periods, oldest first."""
        months = 1 if self.kind is PeriodKind.MONTH else 3
        return tuple(
            Period(self.start + relativedelta(months=months * i), self.kind)
            for i in range(self.count)
        )

    @property
    def end(self) -> date:
        """The first day after the last period."""
        return self.periods[-1].end

    @cached_property
    def bounds(self) -> tuple[datetime, ...]:
        """The ``count + 1`` boundaries: local midnight of each period's first day, then the end.

        Example:
            >>> from datetime import date
            >>> Periods(date(2026, 1, 1), 1, time_zone="Asia/Taipei").bounds[0].isoformat()
            '2026-01-01T00:00:00+08:00'
        """
        zone = ZoneInfo(self.time_zone)
        days = [p.start for p in self.periods] + [self.end]
        return tuple(datetime.combine(d, time(0), tzinfo=zone) for d in days)

    @cached_property
    def day_bounds(self) -> tuple[date, ...]:
        """The ``count + 1`` boundaries as dates (for plain dates such as close dates)."""
        return (*(p.start for p in self.periods), self.end)

    def index_of(self, moment: datetime | date) -> int | None:
        """The position of the period an instant (in :attr:`time_zone`) or a date falls in.

        ``None`` when it falls outside every period.

        Example:
            >>> from datetime import date
            >>> m = Periods(date(2026, 1, 1), 2)
            >>> m.index_of(date(2026, 2, 28)), m.index_of(date(2026, 3, 1))
            (1, None)
        """
        if isinstance(moment, datetime):
            at = ensure_aware(moment, "moment")
            i = bisect_right(self.bounds, at) - 1
        elif isinstance(moment, date):
            i = bisect_right(self.day_bounds, moment) - 1
        else:
            raise ValidationError(
                f"must be a datetime or a date, not {type(moment).__name__}", path="moment"
            )
        return i if 0 <= i < self.count else None

    def period(self, index: int | None) -> Period | None:
        """The period at ``index`` (as :meth:`index_of` returns), or ``None``.

        Example:
            >>> from datetime import date
            >>> Periods(date(2026, 1, 1), 2).period(1).key
            '2026-02'
        """
        return None if index is None else self.periods[index]
