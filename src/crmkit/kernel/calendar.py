"""Business calendars: working hours in one IANA time zone, holidays, closures, business time.

A :class:`BusinessCalendar` says when a business works: periods per weekday (split shifts such
as 09:00-12:00 and 13:00-18:00 are two periods), wall-clock times in its own IANA zone, minus
holidays (local dates) and :class:`Closure` ranges (an office move on Friday afternoon).
:meth:`~BusinessCalendar.add_business_time` answers "when are 24 working hours up?" and
:meth:`~BusinessCalendar.business_time_between` "how much working time passed?".

Business time is *elapsed* time inside working periods. A period whose wall-clock span crosses
a daylight-saving change is as long as the time that really passes: on the day New York springs
forward, 00:00-06:00 holds five hours, on the day it falls back seven. Wall times that did not
exist are read with ``fold=0`` (the offset before the change), and a period never counts an
instant twice. Days are walked with dateutil's ``rrule``; zones come from ``zoneinfo``.

Long spans cost no more than short ones: each calendar keeps a private index, built lazily
a block of days at a time, of the working time up to the start of every local day, so a
deadline is a binary search in it plus the periods of the day where it falls. A 30-day target
takes as long as a 4-hour one.

Public holidays come from the `holidays` package (``pip install "crmkit[holidays]"``) through
:meth:`BusinessCalendar.with_public_holidays`: a :class:`HolidaySource` (country, subdivision,
years) is expanded to dates once, and the calendar keeps both, so it stays plain data.

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
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import attrs
from dateutil.rrule import DAILY, rrule, weekday

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.time import ensure_aware, validate_aware

__all__ = ["BusinessCalendar", "Closure", "HolidaySource", "Weekday", "WorkingHours"]

_UTC = timezone.utc
_MIDNIGHT = time(0)
_ZERO = timedelta(0)
_T = TypeVar("_T")


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


# ----- public holidays and closures ----------------------------------------------------------

_FIRST_YEAR, _LAST_YEAR = 1900, 2200


def _country(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(
            f"must be a country code such as 'TW', not {type(value).__name__}", path="country"
        )
    code = value.strip().upper()
    if not (2 <= len(code) <= 3 and code.isascii() and code.isalpha()):
        raise ValidationError(
            f"{value!r} is not an ISO 3166 country code such as 'TW', 'HK', 'CN' or 'GB'",
            path="country",
        )
    return code


def _subdivision(value: object) -> str | None:
    value = v.strip_optional(value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(
            f"must be a subdivision code such as 'ENG', not {type(value).__name__}",
            path="subdivision",
        )
    code = value.upper()
    if len(code) > 10 or not code.isascii() or not code.replace("-", "").isalnum():
        raise ValidationError(
            f"{value!r} is not a subdivision code such as 'ENG' or 'TPE'", path="subdivision"
        )
    return code


def _years(value: object) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(f"must be a list of years, not {type(value).__name__}", path="years")
    found: set[int] = set()
    for i, year in enumerate(value):
        if isinstance(year, bool) or not isinstance(year, int):
            raise ValidationError(f"must be an int, not {type(year).__name__}", path=f"years[{i}]")
        if not _FIRST_YEAR <= year <= _LAST_YEAR:
            raise ValidationError(
                f"must be between {_FIRST_YEAR} and {_LAST_YEAR}, got {year}", path=f"years[{i}]"
            )
        found.add(year)
    if not found:
        raise ValidationError("must name at least one year", path="years")
    return tuple(sorted(found))


@attrs.frozen(kw_only=True)
class HolidaySource:
    """Where public holidays come from: a country, maybe a subdivision, and the years covered.

    It is data (it round-trips through the converter); :meth:`dates` expands it with the
    well-kept `holidays <https://pypi.org/project/holidays/>`_ package, installed with
    ``pip install "crmkit[holidays]"``. A calendar keeps the source *and* the dates it gave,
    so reading a stored calendar never depends on the package or on its version.

    Example:
        >>> source = HolidaySource(country="gb", subdivision="eng", years=[2026])
        >>> source.country, source.subdivision
        ('GB', 'ENG')
        >>> from datetime import date
        >>> date(2026, 5, 4) in source.dates()          # the Early May bank holiday
        True
        >>> HolidaySource(country="XX", years=[2026]).dates()
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: country: the holidays package knows no country 'XX'; use ...

    .. versionadded:: 0.1.0
    """

    country: str = attrs.field(converter=_country)
    years: tuple[int, ...] = attrs.field(converter=_years)
    subdivision: str | None = attrs.field(default=None, converter=_subdivision)
    observed: bool = attrs.field(default=True, validator=v.of_type(bool))

    def dates(self) -> tuple[date, ...]:
        """The public holidays of :attr:`years`, sorted (observed days included by default).

        Example:
            >>> from datetime import date
            >>> taiwan = HolidaySource(country="TW", years=[2026]).dates()
            >>> date(2026, 10, 10) in taiwan, date(2026, 10, 12) in taiwan
            (True, False)
        """
        try:
            import holidays as library
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError(
                "public holidays need the 'holidays' package: pip install 'crmkit[holidays]'"
            ) from None
        try:
            found = library.country_holidays(
                self.country, subdiv=self.subdivision, years=self.years, observed=self.observed
            )
        except NotImplementedError as exc:
            known = library.list_supported_countries().get(self.country)
            if known is None:
                raise ValidationError(
                    f"the holidays package knows no country {self.country!r}; use an ISO 3166 "
                    "code such as 'TW', 'HK', 'CN', 'GB' or 'US'",
                    path="country",
                ) from None
            raise ValidationError(
                f"{self.country} has no subdivision {self.subdivision!r}; known ones: "
                f"{', '.join(known)}",
                path="subdivision",
                details={"library_message": str(exc)},
            ) from None
        return tuple(sorted(found))


def _closure_reason(value: object) -> object:
    return v.strip_optional(value)


@attrs.frozen(kw_only=True)
class Closure:
    """A span of time nobody works although the weekly hours say they would (aware instants).

    Whole days off belong in the calendar's ``holidays``; a closure is for part of a day or a
    span across days: an office move, a system outage, a company event.

    Example:
        >>> from datetime import datetime
        >>> from zoneinfo import ZoneInfo
        >>> tpe = ZoneInfo("Asia/Taipei")
        >>> c = Closure(start=datetime(2026, 3, 6, 14, tzinfo=tpe),
        ...             end=datetime(2026, 3, 6, 18, tzinfo=tpe), reason="office move")
        >>> c.end - c.start
        datetime.timedelta(seconds=14400)
        >>> Closure(start=c.end, end=c.start)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: end: must be after start (2026-03-06T18:00:00+08:00), ...

    .. versionadded:: 0.1.0
    """

    start: datetime = attrs.field(validator=validate_aware)
    end: datetime = attrs.field(validator=validate_aware)
    reason: str | None = attrs.field(
        default=None, converter=_closure_reason, validator=v.optional_text(200)
    )

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise ValidationError(
                f"must be after start ({self.start.isoformat()}), got {self.end.isoformat()}",
                path="end",
            )


def _tuple_of_kind(cls: type[_T], field: str, value: object) -> tuple[_T, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of {cls.__name__}, not {type(value).__name__}", path=field
        )
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, cls):
            raise ValidationError(
                f"must be a {cls.__name__}, not {type(item).__name__}", path=f"{field}[{i}]"
            )
    return items


def _closures(value: object) -> tuple[Closure, ...]:
    items = _tuple_of_kind(Closure, "closures", value)
    return tuple(sorted(items, key=lambda c: (c.start, c.end)))


def _sources(value: object) -> tuple[HolidaySource, ...]:
    return tuple(dict.fromkeys(_tuple_of_kind(HolidaySource, "public_holidays", value)))


# ----- daylight-saving changes -----------------------------------------------------------------

_SAMPLE = timedelta(hours=6)
_DAY = timedelta(days=1)


@functools.lru_cache(maxsize=512)
def _irregular_days(zone_key: str, year: int) -> tuple[tuple[date, ...], frozenset[date]]:
    """Local dates in or next to ``year`` on or around which the zone's UTC offset changes.

    The offset is sampled every six hours (no zone changes twice within that), and every local
    date between two samples that differ, plus a day either side, is irregular: business time
    there is computed by walking the day, never by the weekly arithmetic.
    """
    zone = ZoneInfo(zone_key)
    at = datetime(year, 1, 1, tzinfo=_UTC) - 2 * _DAY
    stop = datetime(year + 1, 1, 1, tzinfo=_UTC) + 2 * _DAY
    before = at.astimezone(zone)
    found: set[date] = set()
    while at < stop:
        at += _SAMPLE
        now = at.astimezone(zone)
        if now.utcoffset() != before.utcoffset():
            day = before.date() - _DAY
            while day <= now.date() + _DAY:
                found.add(day)
                day += _DAY
        before = now
    return tuple(sorted(found)), frozenset(found)


@attrs.frozen(kw_only=True)
class BusinessCalendar:
    """When a business works: weekly hours in an IANA zone, minus holidays and closures.

    ``hours`` may list several periods per weekday (a lunch break splits a day in two); they
    must not overlap. ``holidays`` are local dates on which nobody works (public holidays and
    company days off alike); ``closures`` are spans of time off (:class:`Closure`);
    ``public_holidays`` records where the public ones came from (:class:`HolidaySource`, see
    :meth:`with_public_holidays`). The calendar needs at least one working period, so every
    deadline it computes exists.

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
    closures: tuple[Closure, ...] = attrs.field(default=(), converter=_closures)
    public_holidays: tuple[HolidaySource, ...] = attrs.field(default=(), converter=_sources)
    name: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(100)
    )
    _zone: ZoneInfo = attrs.field(init=False, repr=False, eq=False, hash=False)
    _by_weekday: tuple[tuple[tuple[time, time | None], ...], ...] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )
    _rrule_days: tuple[weekday, ...] = attrs.field(init=False, repr=False, eq=False, hash=False)
    _holiday_set: frozenset[date] = attrs.field(init=False, repr=False, eq=False, hash=False)
    _wall: tuple[timedelta, ...] = attrs.field(init=False, repr=False, eq=False, hash=False)
    _week: timedelta = attrs.field(init=False, repr=False, eq=False, hash=False)
    _closed: tuple[tuple[datetime, datetime], ...] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )
    _closed_ends: tuple[datetime, ...] = attrs.field(init=False, repr=False, eq=False, hash=False)
    _closed_days: tuple[tuple[date, date], ...] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )
    _walked: dict[tuple[date, date], tuple[tuple[datetime, datetime], ...]] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )
    _obstacles: dict[int, tuple[tuple[date, ...], frozenset[date]]] = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )
    _blocks: dict[int, _Block] = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        if not self.hours:
            raise DefinitionError(
                "a business calendar needs at least one working period, e.g. "
                "WorkingHours('mon', '09:00', '18:00')"
            )
        by_day: list[list[tuple[time, time | None]]] = [[] for _ in _WEEKDAYS]
        wall = [_ZERO for _ in _WEEKDAYS]
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
            wall[hours.weekday.number] += hours.length
        zone = ZoneInfo(self.timezone)
        closed: list[tuple[datetime, datetime]] = []
        for closure in self.closures:  # sorted by start: merge the overlapping ones
            start, end = closure.start.astimezone(_UTC), closure.end.astimezone(_UTC)
            if closed and start <= closed[-1][1]:
                closed[-1] = (closed[-1][0], max(closed[-1][1], end))
            else:
                closed.append((start, end))
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_by_weekday", tuple(tuple(p) for p in by_day))
        object.__setattr__(
            self,
            "_rrule_days",
            tuple(weekday(i) for i, periods in enumerate(by_day) if periods),
        )
        object.__setattr__(self, "_holiday_set", frozenset(self.holidays))
        object.__setattr__(self, "_wall", tuple(wall))
        object.__setattr__(self, "_week", sum(wall, _ZERO))
        object.__setattr__(self, "_closed", tuple(closed))
        object.__setattr__(self, "_closed_ends", tuple(end for _start, end in closed))
        # A closure touches the local days from its start's (less one) to its end's (plus one):
        # the weekly arithmetic stops short of them and walks them.
        closed_days = tuple(
            (start.astimezone(zone).date() - _DAY, end.astimezone(zone).date() + _DAY)
            for start, end in closed
        )
        object.__setattr__(self, "_closed_days", closed_days)
        # The irregular stretches already walked (a memo: a calendar has a few a year).
        object.__setattr__(self, "_walked", {})
        object.__setattr__(self, "_obstacles", {})
        # The index of cumulative working time, a block of local days at a time (see _block).
        object.__setattr__(self, "_blocks", {})

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

    def with_public_holidays(
        self,
        country: str,
        years: Iterable[int] | int,
        *,
        subdivision: str | None = None,
        observed: bool = True,
    ) -> BusinessCalendar:
        """This calendar plus the public holidays of ``country`` in ``years``.

        The dates come from the `holidays` package (``pip install "crmkit[holidays]"``) and
        are stored in :attr:`holidays`; the :class:`HolidaySource` is kept in
        :attr:`public_holidays`, so a host can see where they came from and add later years.

        Example:
            >>> from datetime import date
            >>> cal = BusinessCalendar.office_hours("Asia/Hong_Kong", ("09:00", "18:00"))
            >>> hk = cal.with_public_holidays("HK", years=[2026])
            >>> hk.is_holiday(date(2026, 7, 1)), hk.public_holidays[0].country
            (True, 'HK')
        """
        source = HolidaySource(
            country=country, subdivision=subdivision, years=years, observed=observed
        )
        return attrs.evolve(
            self,
            holidays=(*self.holidays, *source.dates()),
            public_holidays=(*self.public_holidays, source),
        )

    def with_closures(self, *closures: Closure | date) -> BusinessCalendar:
        """This calendar with company closures: whole local dates, or :class:`Closure` spans.

        Example:
            >>> from datetime import date, datetime
            >>> from zoneinfo import ZoneInfo
            >>> cal = BusinessCalendar.office_hours("Europe/London", ("09:00", "17:00"))
            >>> tea = Closure(start=datetime(2026, 6, 5, 15, tzinfo=ZoneInfo("Europe/London")),
            ...               end=datetime(2026, 6, 5, 17, tzinfo=ZoneInfo("Europe/London")))
            >>> closed = cal.with_closures(date(2026, 12, 24), tea)
            >>> closed.is_holiday(date(2026, 12, 24)), len(closed.closures)
            (True, 1)
        """
        days: list[date] = []
        spans: list[Closure] = []
        for i, item in enumerate(closures):
            if isinstance(item, Closure):
                spans.append(item)
            elif isinstance(item, date) and not isinstance(item, datetime):
                days.append(item)
            else:
                raise ValidationError(
                    f"must be a date or a Closure, not {type(item).__name__}",
                    path=f"closures[{i}]",
                )
        return attrs.evolve(
            self, holidays=(*self.holidays, *days), closures=(*self.closures, *spans)
        )

    # ----- queries ---------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone as a ``ZoneInfo``.

        Example:
            >>> BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00")).zone
            zoneinfo.ZoneInfo(key='Asia/Taipei')
        """
        return self._zone

    @property
    def weekly_hours(self) -> timedelta:
        """The working time of a week without holidays, closures or daylight-saving changes.

        Example:
            >>> BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "12:00"),
            ...                               ("13:00", "18:00")).weekly_hours
            datetime.timedelta(days=1, seconds=57600)
        """
        return self._week

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
        gives ``start`` itself. The cost does not grow with ``duration``: the calendar's index
        of working time per local day (built once per block of days and kept) is searched by
        bisection, and only the day where the deadline falls is looked at period by period.

        Example:
            >>> from zoneinfo import ZoneInfo
            >>> cal = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00"))
            >>> start = datetime(2026, 1, 5, 9, 0, tzinfo=ZoneInfo("Asia/Taipei"))
            >>> cal.add_business_time(start, timedelta(hours=9)).isoformat()
            '2026-01-05T18:00:00+08:00'
            >>> cal.add_business_time(start, timedelta(days=30)).isoformat()  # 80 working days
            '2026-04-24T18:00:00+08:00'
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
        try:
            return self._add(instant, duration).astimezone(self._zone)
        except OverflowError:
            raise ValidationError(
                f"{duration} of business time from {start.isoformat()} ends after the year "
                f"{date.max.year}",
                path="duration",
            ) from None

    def _add(self, instant: datetime, duration: timedelta) -> datetime:
        number, target = self._position(instant)
        target += duration // _US
        while True:
            first, cumulative = self._block(number)
            if target <= cumulative[-1]:
                # The earliest day whose end reaches the target: it holds working time, and the
                # target is reached inside it or exactly at the end of one of its periods.
                i = bisect_left(cumulative, target) - 1
                found, _ = _consume(
                    self._day(date.fromordinal(first + i)),
                    None,
                    timedelta(microseconds=target - cumulative[i]),
                )
                assert found is not None  # the day holds cumulative[i + 1] - cumulative[i]
                return found
            target -= cumulative[-1]
            number += 1

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The working time between two instants; negative when ``end`` is before ``start``.

        Two look-ups in the calendar's index of working time per local day (and one sum per
        block of days in between), so the cost does not grow with the span.

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
        number, position = self._position(first)
        last_number, last_position = self._position(last)
        total = last_position - position
        for between in range(number, last_number):
            total += self._block(between)[1][-1]
        return timedelta(microseconds=total)

    # ----- internals -------------------------------------------------------------------------

    def _local_day(self, instant: datetime) -> date:
        return instant.astimezone(self._zone).date()

    def _working_days(self, first: date, stop: date | None = None) -> Iterator[date]:
        """Local working days (not holidays) from ``first`` up to ``stop`` (excluded).

        Unbounded walks use dateutil's ``rrule``; a bounded stretch (a few days around a
        daylight-saving change) is short enough that building the rule would cost more than
        the walk, so it steps through the dates.
        """
        if stop is not None:
            day = first
            while day < stop:
                if self._by_weekday[day.weekday()] and day not in self._holiday_set:
                    yield day
                day += _DAY
            return
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

    def _intervals(
        self, first: date, stop: date | None = None
    ) -> Iterator[tuple[datetime, datetime]]:
        """Working periods of local days ``first`` up to ``stop`` (excluded; ``None``: for ever).

        Ordered, disjoint, non-empty UTC intervals, closures cut out.
        """
        zone = self._zone
        closed = self._closed
        floor: datetime | None = None
        for day in self._working_days(first, stop):
            next_day = day + _DAY
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
                if finish == begin:
                    continue
                if closed:
                    yield from self._open_parts(begin, finish)
                else:
                    yield begin, finish

    def _open_parts(self, begin: datetime, finish: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The parts of ``[begin, finish)`` outside every closure."""
        closed = self._closed
        i = bisect_right(self._closed_ends, begin)
        while i < len(closed) and closed[i][0] < finish:
            shut, reopen = closed[i]
            if shut > begin:
                yield begin, shut
            begin = max(begin, reopen)
            if begin >= finish:
                return
            i += 1
        yield begin, finish

    def _irregular(self, year: int) -> tuple[tuple[date, ...], frozenset[date]]:
        """This calendar's irregular local days of ``year``, sorted and as a set.

        The zone's days around daylight-saving changes, and the days a closure touches (each
        with a day either side): the weekly arithmetic stops short of them and walks them.
        """
        found = self._obstacles.get(year)
        if found is None:
            days = {day for day in _irregular_days(self.timezone, year)[0] if day.year == year}
            low, high = date(year, 1, 1), date(year, 12, 31)
            for first, last in self._closed_days:
                day = max(first, low)
                while day <= min(last, high):
                    days.add(day)
                    day += _DAY
            found = (tuple(sorted(days)), frozenset(days))
            self._obstacles[year] = found
        return found

    def _is_regular(self, day: date) -> bool:
        """Whether local ``day`` is far from daylight-saving changes and closures."""
        if not _FIRST_YEAR <= day.year <= _LAST_YEAR:
            return False
        return day not in self._irregular(day.year)[1]

    def _walk(self, first: date, stop: date) -> tuple[tuple[datetime, datetime], ...]:
        """:meth:`_intervals` of an irregular stretch, remembered (there are few a year)."""
        key = (first, stop)
        found = self._walked.get(key)
        if found is None:
            found = tuple(self._intervals(first, stop))
            if len(self._walked) >= 1024:
                self._walked.clear()
            self._walked[key] = found
        return found

    def _day(self, day: date) -> Sequence[tuple[datetime, datetime]]:
        """The working periods of local ``day`` as UTC intervals."""
        if not self._is_regular(day):
            return self._walk(day, day + _DAY)
        if day in self._holiday_set:
            return []
        zone = self._zone
        found = []
        for start, end in self._by_weekday[day.weekday()]:
            begin = datetime.combine(day, start, tzinfo=zone).astimezone(_UTC)
            if end is None:
                finish = datetime.combine(day + _DAY, _MIDNIGHT, tzinfo=zone)
            else:
                finish = datetime.combine(day, end, tzinfo=zone)
            found.append((begin, finish.astimezone(_UTC)))
        return found

    def _position(self, instant: datetime) -> tuple[int, int]:
        """Where ``instant`` lies in the index: a block number, and the time worked up to it.

        The time is integer microseconds of working time from the start of that block.
        """
        day = self._local_day(instant)
        number = day.toordinal() // _BLOCK_DAYS
        first, cumulative = self._block(number)
        i = day.toordinal() - first
        if not 0 <= i < len(cumulative) - 1:
            raise OverflowError("outside the dates Python represents")
        elapsed = _ZERO
        for begin, finish in self._day(day):
            if begin >= instant:
                break
            elapsed += min(finish, instant) - begin
        return number, cumulative[i] + elapsed // _US

    def _block(self, number: int) -> _Block:
        """Block ``number`` of the index of working time (``_BLOCK_DAYS`` local days).

        It is the ordinal of the block's first local day, and the working time (integer
        microseconds) from the start of that day to the start of each of its days and to its
        end.

        A regular day holds its weekday's hours (none on a holiday); the others (around
        daylight-saving changes and closures, and outside the years with zone tables) are
        walked, so each day's share is exactly the length of :meth:`_day`. Built lazily into a
        local tuple and published with one assignment: two threads building the same block at
        once only do the work twice.
        """
        found = self._blocks.get(number)
        if found is not None:
            return found
        first = max(number * _BLOCK_DAYS, 1)
        stop = min((number + 1) * _BLOCK_DAYS, _LAST_ORDINAL)  # date.max has no day after it
        if first >= stop:
            raise OverflowError("past the last date Python represents")
        wall = [hours // _US for hours in self._wall]
        holidays = self._holiday_set
        cumulative = [0]
        total = 0
        year = 0
        zone_table = False
        irregular: frozenset[date] = frozenset()
        day = date.fromordinal(first)
        for ordinal in range(first, stop):
            if day.year != year:
                year = day.year
                zone_table = _FIRST_YEAR <= year <= _LAST_YEAR
                irregular = self._irregular(year)[1] if zone_table else frozenset()
            if not zone_table or day in irregular:
                try:
                    total += sum((e - b for b, e in self._intervals(day, day + _DAY)), _ZERO) // _US
                except OverflowError:
                    if year > 1:  # the end of time: the index stops before this day
                        break
                    first, cumulative, total = ordinal + 1, [0], 0  # the beginning of time
                    day += _DAY
                    continue
            elif day not in holidays:
                total += wall[day.weekday()]
            cumulative.append(total)
            day += _DAY
        if len(cumulative) == 1:
            raise OverflowError("outside the dates Python represents")
        found = (first, tuple(cumulative))
        if len(self._blocks) >= _MAX_BLOCKS:
            self._blocks.clear()
        self._blocks[number] = found
        return found


#: A block of the index of working time: its first day's ordinal, and the cumulative working time
#: (integer microseconds) at the start of each day and at its end.
_Block = tuple[int, tuple[int, ...]]
_BLOCK_DAYS = 256
_MAX_BLOCKS = 256  # about 180 years of days; more and the index starts again
_LAST_ORDINAL = date.max.toordinal()
_US = timedelta(microseconds=1)


def _consume(
    intervals: Iterable[tuple[datetime, datetime]], after: datetime | None, remaining: timedelta
) -> tuple[datetime | None, timedelta]:
    """Spend ``remaining`` working time in ``intervals`` (from ``after`` on).

    Returns the instant it runs out, or ``None`` and what is left.
    """
    for begin, finish in intervals:
        if after is not None:
            if finish <= after:
                continue
            begin = max(begin, after)
        available = finish - begin
        if available >= remaining:
            return begin + remaining, _ZERO
        remaining -= available
    return None, remaining
