"""Business calendars: working hours in one IANA time zone, holidays, and business-time arithmetic.

A :class:`BusinessCalendar` says when a business works: periods per weekday (split shifts such
as 09:00-12:00 and 13:00-18:00 are two periods), wall-clock times in its own IANA zone, minus
holidays. :meth:`~BusinessCalendar.add_business_time` answers "when are 24 working hours up?"
and :meth:`~BusinessCalendar.business_time_between` "how much working time passed?".

Business time is *elapsed* time inside working periods. A period whose wall-clock span crosses
a daylight-saving change is as long as the time that really passes: on the day New York springs
forward, 00:00-06:00 holds five hours, on the day it falls back seven. Wall times that did not
exist are read with ``fold=0`` (the offset before the change), and a period never counts an
instant twice. Days are walked with dateutil's ``rrule``; zones come from ``zoneinfo``.

A calendar is data: it round-trips through :mod:`crmkit.serialization`, so a host can store it
and edit it, and SLA policies and lead follow-up rules can name the one they use.

Example:
    >>> from datetime import date, datetime, timedelta
    >>> from zoneinfo import ZoneInfo
    >>> taipei = BusinessCalendar.office_hours(
    ...     "Asia/Taipei", ("09:00", "12:00"), ("13:00", "18:00"), holidays=[date(2026, 1, 1)])
    >>> friday_4pm = datetime(2026, 1, 2, 16, 0, tzinfo=ZoneInfo("Asia/Taipei"))
    >>> taipei.add_business_time(friday_4pm, timedelta(hours=8)).isoformat()
    '2026-01-05T16:00:00+08:00'
    >>> taipei.business_time_between(friday_4pm, datetime(2026, 1, 5, 16, 0,
    ...                                                   tzinfo=ZoneInfo("Asia/Taipei")))
    datetime.timedelta(seconds=28800)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import attrs
from dateutil.rrule import DAILY, rrule, weekday

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.time import ensure_aware

__all__ = ["BusinessCalendar", "Weekday", "WorkingHours"]

_UTC = timezone.utc
_MIDNIGHT = time(0)
_ZERO = timedelta(0)


class Weekday(StrEnum):
    """A day of the week, Monday first (``Weekday.MON.number == 0``, as ``date.weekday()``).

    Example:
        >>> Weekday("sat").number, Weekday.for_date(date(2026, 1, 5))
        (5, <Weekday.MON: 'mon'>)

    .. versionadded:: 0.1.0
    """

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def number(self) -> int:
        """0 for Monday up to 6 for Sunday."""
        return _WEEKDAY_INDEX[self]

    @classmethod
    def for_date(cls, day: date) -> Weekday:
        """The weekday of ``day``."""
        return _WEEKDAYS[day.weekday()]


_WEEKDAYS: tuple[Weekday, ...] = tuple(Weekday)
_WEEKDAY_INDEX: dict[Weekday, int] = {w: i for i, w in enumerate(_WEEKDAYS)}
_WORKING_DAYS = (Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU, Weekday.FRI)


def _read_time(value: object, path: str) -> object:
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(
                f"{value!r} is not a time of day such as '09:00'", path=path
            ) from None
    return value


def _start_time(value: object) -> object:
    return _read_time(value, "start")


def _end_time(value: object) -> object:
    return _read_time(value, "end")


def _check_time(_instance: object, attribute: attrs.Attribute[time], value: object) -> None:
    if not isinstance(value, time):
        raise ValidationError(
            f"must be a time of day such as '09:00', not {type(value).__name__}",
            path=attribute.name,
        )
    if value.tzinfo is not None:
        raise ValidationError(
            "must be a wall-clock time without tzinfo: the calendar's time zone applies",
            path=attribute.name,
        )


def _weekday(value: object) -> Weekday:
    return v.to_enum(Weekday, "weekday")(value)


@attrs.frozen
class WorkingHours:
    """One working period on one weekday, in wall-clock time of the calendar's zone.

    ``end`` is after ``start``; an ``end`` of ``00:00`` means midnight at the end of the day,
    so ``WorkingHours("sat", "00:00", "00:00")`` is the whole Saturday.

    Example:
        >>> WorkingHours("mon", "09:00", "12:00")
        WorkingHours(weekday=<Weekday.MON: 'mon'>, start=datetime.time(9, 0),
                     end=datetime.time(12, 0))
        >>> WorkingHours("mon", "12:00", "09:00")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: end: must be after start (12:00:00), got 09:00:00; ...

    .. versionadded:: 0.1.0
    """

    weekday: Weekday = attrs.field(converter=_weekday)
    start: time = attrs.field(converter=_start_time, validator=_check_time)
    end: time = attrs.field(converter=_end_time, validator=_check_time)

    def __attrs_post_init__(self) -> None:
        if self.end != _MIDNIGHT and self.end <= self.start:
            raise ValidationError(
                f"must be after start ({self.start}), got {self.end}; "
                "use 00:00 for midnight at the end of the day",
                path="end",
            )

    @property
    def length(self) -> timedelta:
        """The wall-clock length of the period (ignoring daylight-saving changes).

        Example:
            >>> WorkingHours("fri", "13:00", "18:00").length
            datetime.timedelta(seconds=18000)
        """
        day = date(2000, 1, 3)
        end = datetime.combine(day + timedelta(days=1) if self.end == _MIDNIGHT else day, self.end)
        return end - datetime.combine(day, self.start)


# ----- time zones -----------------------------------------------------------------------------


@functools.cache
def _zone_names() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def _timezone(value: object) -> str:
    if isinstance(value, ZoneInfo):
        value = value.key
    if not isinstance(value, str):
        raise ValidationError(
            f"must be an IANA time zone name such as 'Asia/Taipei', not {type(value).__name__}",
            path="timezone",
        )
    name = value.strip()
    if name and not name.startswith(("/", ".")) and ".." not in name:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            return name
    known = _zone_names().get(name.casefold())
    if known is not None:
        return known
    raise ValidationError(
        f"{value!r} is not an IANA time zone (e.g. 'Asia/Taipei', 'America/New_York')",
        path="timezone",
    )


def _hours(value: object) -> tuple[WorkingHours, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of WorkingHours, not {type(value).__name__}", path="hours"
        )
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, WorkingHours):
            raise ValidationError(
                f"must be WorkingHours, not {type(item).__name__}", path=f"hours[{i}]"
            )
    return tuple(sorted(items, key=lambda h: (h.weekday.number, h.start)))


def _holidays(value: object) -> tuple[date, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of dates, not {type(value).__name__}", path="holidays"
        )
    found: set[date] = set()
    for i, item in enumerate(value):
        if isinstance(item, str):
            try:
                item = date.fromisoformat(item.strip())
            except ValueError:
                raise ValidationError(
                    f"{item!r} is not a date (YYYY-MM-DD)", path=f"holidays[{i}]"
                ) from None
        if not isinstance(item, date) or isinstance(item, datetime):
            raise ValidationError(
                f"must be a date, not {type(item).__name__}", path=f"holidays[{i}]"
            )
        found.add(item)
    return tuple(sorted(found))


def _end_of(hours: WorkingHours) -> time | None:
    """``None`` stands for midnight at the end of the day."""
    return None if hours.end == _MIDNIGHT else hours.end


@attrs.frozen(kw_only=True)
class BusinessCalendar:
    """When a business works: weekly hours in an IANA zone, minus holidays.

    ``hours`` may list several periods per weekday (a lunch break splits a day in two); they
    must not overlap. ``holidays`` are local dates on which nobody works. The calendar needs
    at least one working period, so every deadline it computes exists.

    Example:
        >>> from datetime import datetime, timedelta
        >>> from zoneinfo import ZoneInfo
        >>> ny = BusinessCalendar(timezone="America/New_York", name="support",
        ...     hours=[WorkingHours(day, "09:00", "17:00") for day in ("mon", "tue", "wed")])
        >>> start = datetime(2026, 3, 4, 16, 0, tzinfo=ZoneInfo("America/New_York"))
        >>> ny.add_business_time(start, timedelta(hours=2)).isoformat()
        '2026-03-09T10:00:00-04:00'

    .. versionadded:: 0.1.0
    """

    timezone: str = attrs.field(converter=_timezone)
    hours: tuple[WorkingHours, ...] = attrs.field(converter=_hours)
    holidays: tuple[date, ...] = attrs.field(default=(), converter=_holidays)
    name: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(100)
    )
    _zone: ZoneInfo = attrs.field(init=False, repr=False, eq=False, hash=False)
    _by_weekday: tuple[tuple[tuple[time, time | None], ...], ...] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )
    _rrule_days: tuple[weekday, ...] = attrs.field(init=False, repr=False, eq=False, hash=False)
    _holiday_set: frozenset[date] = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        if not self.hours:
            raise DefinitionError(
                "a business calendar needs at least one working period, e.g. "
                "WorkingHours('mon', '09:00', '18:00')"
            )
        by_day: list[list[tuple[time, time | None]]] = [[] for _ in _WEEKDAYS]
        for hours in self.hours:
            periods = by_day[hours.weekday.number]
            if periods:
                last_end = periods[-1][1]
                if last_end is None or last_end > hours.start:
                    raise DefinitionError(
                        f"working hours on {hours.weekday.value} overlap: a period ends at "
                        f"{'24:00' if last_end is None else last_end} and the next starts at "
                        f"{hours.start}"
                    )
            periods.append((hours.start, _end_of(hours)))
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))
        object.__setattr__(self, "_by_weekday", tuple(tuple(p) for p in by_day))
        object.__setattr__(
            self,
            "_rrule_days",
            tuple(weekday(i) for i, periods in enumerate(by_day) if periods),
        )
        object.__setattr__(self, "_holiday_set", frozenset(self.holidays))

    @classmethod
    def office_hours(
        cls,
        timezone: str | ZoneInfo,
        *periods: tuple[time | str, time | str],
        weekdays: Iterable[Weekday | str] = _WORKING_DAYS,
        holidays: Iterable[date | str] = (),
        name: str | None = None,
    ) -> BusinessCalendar:
        """Build a calendar with the same ``periods`` on each of ``weekdays`` (Mon-Fri).

        Example:
            >>> cal = BusinessCalendar.office_hours("Asia/Shanghai", ("09:00", "18:00"))
            >>> len(cal.hours), cal.hours[0].weekday.value
            (5, 'mon')
        """
        if not periods:
            raise DefinitionError("office_hours needs at least one (start, end) period")
        hours = []
        for day in weekdays:
            for i, period in enumerate(periods):
                if not isinstance(period, (tuple, list)) or len(period) != 2:
                    raise ValidationError(
                        f"must be a (start, end) pair such as ('09:00', '18:00'), got {period!r}",
                        path=f"periods[{i}]",
                    )
                try:
                    hours.append(WorkingHours(day, period[0], period[1]))
                except ValidationError as exc:
                    raise exc.at(f"periods[{i}]") from None
        return cls(timezone=timezone, hours=hours, holidays=holidays, name=name)

    # ----- queries ---------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone as a ``ZoneInfo``.

        Example:
            >>> BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00")).zone
            zoneinfo.ZoneInfo(key='Asia/Taipei')
        """
        return self._zone

    def is_holiday(self, day: date) -> bool:
        """Tell whether ``day`` (a local date) is one of the calendar's holidays.

        Example:
            >>> cal = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00"),
            ...                                     holidays=["2026-02-16"])
            >>> cal.is_holiday(date(2026, 2, 16))
            True
        """
        return day in self._holiday_set

    def is_working_time(self, at: datetime) -> bool:
        """Tell whether ``at`` lies inside a working period (a period's end is outside it).

        Example:
            >>> from zoneinfo import ZoneInfo
            >>> cal = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "12:00"),
            ...                                     ("13:00", "18:00"))
            >>> tpe = ZoneInfo("Asia/Taipei")
            >>> [cal.is_working_time(datetime(2026, 1, 5, h, 30, tzinfo=tpe)) for h in (8, 9, 12)]
            [False, True, False]
        """
        instant = ensure_aware(at, "at").astimezone(_UTC)
        for start, end in self._intervals(self._local_day(instant)):
            if start > instant:
                return False
            if instant < end:
                return True
        return False  # pragma: no cover - _intervals never ends

    def next_working_time(self, at: datetime) -> datetime:
        """The earliest instant at or after ``at`` that is working time, in the calendar's zone.

        Example:
            >>> from zoneinfo import ZoneInfo
            >>> cal = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00"))
            >>> saturday = datetime(2026, 1, 3, 10, 0, tzinfo=ZoneInfo("Asia/Taipei"))
            >>> cal.next_working_time(saturday).isoformat()
            '2026-01-05T09:00:00+08:00'
        """
        instant = ensure_aware(at, "at").astimezone(_UTC)
        for start, end in self._intervals(self._local_day(instant)):
            if instant < end:
                return max(start, instant).astimezone(self._zone)
        raise AssertionError("unreachable")  # pragma: no cover

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant when ``duration`` of working time has passed since ``start``.

        The result is the *earliest* such instant, in the calendar's zone: for a positive
        ``duration`` it lies inside a working period or exactly at its end (9 hours from 09:00
        in a 09:00-18:00 day is 18:00 that day, not 09:00 the next). A zero ``duration``
        gives ``start`` itself.

        Example:
            >>> from zoneinfo import ZoneInfo
            >>> cal = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00"))
            >>> start = datetime(2026, 1, 5, 9, 0, tzinfo=ZoneInfo("Asia/Taipei"))
            >>> cal.add_business_time(start, timedelta(hours=9)).isoformat()
            '2026-01-05T18:00:00+08:00'
            >>> cal.add_business_time(start, timedelta(hours=-1))
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: duration: must not be negative, got -1 day, 23:00:00
        """
        instant = ensure_aware(start, "start").astimezone(_UTC)
        if not isinstance(duration, timedelta):
            raise ValidationError(
                f"must be a timedelta, not {type(duration).__name__}", path="duration"
            )
        if duration < _ZERO:
            raise ValidationError(f"must not be negative, got {duration}", path="duration")
        if duration == _ZERO:
            return instant.astimezone(self._zone)
        remaining = duration
        for period_start, period_end in self._intervals(self._local_day(instant)):
            if period_end <= instant:
                continue
            begin = max(period_start, instant)
            available = period_end - begin
            if available >= remaining:
                return (begin + remaining).astimezone(self._zone)
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The working time between two instants; negative when ``end`` is before ``start``.

        Example:
            >>> from zoneinfo import ZoneInfo
            >>> cal = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "12:00"),
            ...                                     ("13:00", "18:00"))
            >>> tpe = ZoneInfo("Asia/Taipei")
            >>> cal.business_time_between(datetime(2026, 1, 5, 11, tzinfo=tpe),
            ...                           datetime(2026, 1, 5, 14, tzinfo=tpe))
            datetime.timedelta(seconds=7200)
        """
        first = ensure_aware(start, "start").astimezone(_UTC)
        last = ensure_aware(end, "end").astimezone(_UTC)
        if last < first:
            return -self.business_time_between(last, first)
        total = _ZERO
        for period_start, period_end in self._intervals(self._local_day(first)):
            if period_start >= last:
                break
            begin, finish = max(period_start, first), min(period_end, last)
            if finish > begin:
                total += finish - begin
        return total

    # ----- internals -------------------------------------------------------------------------

    def _local_day(self, instant: datetime) -> date:
        return instant.astimezone(self._zone).date()

    def _working_days(self, first: date) -> Iterator[date]:
        days = rrule(
            DAILY,
            dtstart=datetime.combine(first, _MIDNIGHT),
            byweekday=self._rrule_days,
            cache=False,
        )
        for moment in days:
            day = moment.date()
            if day not in self._holiday_set:
                yield day

    def _intervals(self, first: date) -> Iterator[tuple[datetime, datetime]]:
        """Working periods from local day ``first`` on, as ordered, disjoint UTC intervals."""
        zone = self._zone
        floor: datetime | None = None
        for day in self._working_days(first):
            next_day = day + timedelta(days=1)
            for start, end in self._by_weekday[day.weekday()]:
                begin = datetime.combine(day, start, tzinfo=zone).astimezone(_UTC)
                finish = datetime.combine(
                    next_day if end is None else day, _MIDNIGHT if end is None else end, tzinfo=zone
                ).astimezone(_UTC)
                # A wall time inside a daylight-saving gap can map before an earlier one: clamp,
                # so intervals stay ordered and never count an instant twice.
                if floor is not None and begin < floor:
                    begin = floor
                finish = max(finish, begin)
                floor = finish
                yield begin, finish
