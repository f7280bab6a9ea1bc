"""How a contact may be reached: channels, consent records, quiet hours and time zones.

Consent is a legal record, so it is kept as an append-only history of :class:`ConsentRecord`
values (who said yes or no, to what, on which channel, when, and how we know) rather than as a
flag that is overwritten. Quiet hours are wall-clock times in the contact's own time zone.
"""

from __future__ import annotations

import difflib
import functools
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import attrs

from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.ids import check_id
from crmkit.kernel.time import ensure_aware, validate_aware

__all__ = ["Channel", "ConsentRecord", "Purpose", "QuietHours"]


class Channel(StrEnum):
    """A way to reach a contact, as used for preferences and interactions.

    Example:
        >>> Channel("line")
        <Channel.LINE: 'line'>

    .. versionadded:: 0.1.0
    """

    EMAIL = "email"
    PHONE = "phone"
    SMS = "sms"
    LINE = "line"
    WECHAT = "wechat"
    WHATSAPP = "whatsapp"
    IN_PERSON = "in_person"
    POST = "post"
    WEB = "web"


class Purpose(StrEnum):
    """Why a message is sent: to market, or to carry out a transaction the contact is part of.

    ``MARKETING`` (newsletters, offers, campaigns) needs the contact's consent on the channel.
    ``TRANSACTIONAL`` (a complaint acknowledgement, an order or appointment notice) does not: it
    is sent even to a contact who opted out, and logged as such. A consent record defaults to
    ``MARKETING``; a ``TRANSACTIONAL`` one may be kept (a contact asked for no order texts),
    and a decision reports it, but does not suppress the message.

    Example:
        >>> Purpose("marketing") is Purpose.MARKETING
        True

    .. versionadded:: 0.1.0
    """

    MARKETING = "marketing"
    TRANSACTIONAL = "transactional"


# ----- time zones -----------------------------------------------------------------------------


@functools.cache
def _zone_names() -> dict[str, str]:
    """Every IANA zone name this machine knows, by its case-folded form (read once)."""
    return {name.casefold(): name for name in available_timezones()}


def _timezone_name(value: object, path: str = "timezone") -> str | None:
    """Check an IANA time zone name (or a ``ZoneInfo``) and return its canonical name."""
    if value is None:
        return None
    if isinstance(value, ZoneInfo):
        value = value.key
    if not isinstance(value, str):
        raise ValidationError(
            f"must be an IANA time zone name such as 'Asia/Taipei', not {type(value).__name__}",
            path=path,
        )
    name = value.strip()
    if name and not name.startswith(("/", ".")) and ".." not in name:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
        else:
            return name
    known = _zone_names()
    if name.casefold() in known:
        return known[name.casefold()]
    close = difflib.get_close_matches(name, sorted(known.values()), n=3, cutoff=0.75)
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    raise ValidationError(
        f"{value!r} is not an IANA time zone (e.g. 'Asia/Taipei', 'Asia/Shanghai', "
        f"'America/New_York'){hint}",
        path=path,
    )


def _zone(value: tzinfo | str, path: str = "zone") -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    name = _timezone_name(value, path)
    if name is None:
        raise ValidationError("must be a time zone, not None", path=path)
    return ZoneInfo(name)


# ----- consent records ------------------------------------------------------------------------


def _channel(value: object) -> Channel:
    return v.to_enum(Channel, "channel")(value)


def _purpose(value: object) -> Purpose:
    return v.to_enum(Purpose, "purpose")(value)


def _optional_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _not_before_given(instance: ConsentRecord, _attribute: object, value: datetime) -> None:
    validate_aware(instance, _attribute, value)
    if value < instance.at:
        raise ValidationError(
            f"must not be before the consent was given ({instance.at.isoformat()}), "
            f"got {value.isoformat()}",
            path="recorded_at",
        )


def _short(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


@attrs.frozen(kw_only=True)
class ConsentRecord:
    """One statement of consent: the contact said yes (or no) to ``purpose`` on ``channel``.

    A contact's records are an append-only history (:attr:`Contact.consents
    <crmkit.customers.Contact.consents>`); the one with the latest ``at`` counts, and the older
    ones stay as the legal trail.

    Attributes:
        channel: the channel the statement is about.
        granted: ``True`` for an opt-in, ``False`` for an opt-out (withdrawal).
        at: when the contact said so (aware).
        source: how we know: ``"web form"``, ``"phone call"``, ``"import"``, ``"unsubscribe link"``.
        purpose: what it is consent to; :attr:`Purpose.MARKETING` unless said otherwise.
        by: the user who took the statement, if a person did.
        note: free text (what the contact said, the form version).
        recorded_at: when crmkit recorded it; defaults to ``at``, never before it (an import
            records older statements).

    Example:
        >>> from datetime import datetime
        >>> from zoneinfo import ZoneInfo
        >>> at = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Taipei"))
        >>> no = ConsentRecord(channel="sms", granted=False, at=at, source="phone call",
        ...                    by="u_amy")
        >>> no.purpose.value
        'marketing'
        >>> print(no.describe())
        opted out of marketing by sms on 2026-03-02T09:00+08:00 (source: phone call, taken by u_amy)

    .. versionadded:: 0.1.0
    """

    channel: Channel = attrs.field(converter=_channel)
    granted: bool = attrs.field(validator=v.of_type(bool))
    at: datetime = attrs.field(validator=validate_aware)
    source: str = attrs.field(converter=v.strip, validator=v.text(200))
    purpose: Purpose = attrs.field(default=Purpose.MARKETING, converter=_purpose)
    by: str | None = attrs.field(default=None, validator=_optional_id)
    note: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(1000)
    )
    recorded_at: datetime = attrs.field(
        default=attrs.Factory(lambda self: self.at, takes_self=True),
        validator=_not_before_given,
    )

    def describe(self) -> str:
        """Say what this record states, with its date and source, for reasons and audits.

        Example:
            >>> from datetime import datetime, timezone
            >>> yes = ConsentRecord(channel="email", granted=True, source="web form",
            ...                     at=datetime(2026, 1, 5, 10, tzinfo=timezone.utc))
            >>> yes.describe()
            'opted in to marketing by email on 2026-01-05T10:00+00:00 (source: web form)'
        """
        verb = "opted in to" if self.granted else "opted out of"
        extra = f", taken by {self.by}" if self.by is not None else ""
        if self.recorded_at != self.at:
            extra += f", recorded {_short(self.recorded_at)}"
        return (
            f"{verb} {self.purpose.value} by {self.channel.value} on {_short(self.at)} "
            f"(source: {self.source}{extra})"
        )


def _latest(
    records: tuple[ConsentRecord, ...], channel: Channel, purpose: Purpose
) -> ConsentRecord | None:
    """The record with the latest ``at`` for the pair; a later entry wins a tie."""
    found: ConsentRecord | None = None
    for record in records:
        same = record.channel is channel and record.purpose is purpose
        if same and (found is None or record.at >= found.at):
            found = record
    return found


# ----- quiet hours ----------------------------------------------------------------------------


def _wall_time(value: object, path: str) -> time:
    if isinstance(value, str):
        try:
            value = time.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError(
                f"{value!r} is not a time of day such as '22:00'", path=path
            ) from None
    if not isinstance(value, time):
        raise ValidationError(
            f"must be a time of day such as time(22, 0) or '22:00', not {type(value).__name__}",
            path=path,
        )
    if value.tzinfo is not None:
        raise ValidationError(
            "must be a wall-clock time without tzinfo; quiet hours are read in the contact's "
            "own time zone",
            path=path,
        )
    if value.second or value.microsecond:
        raise ValidationError(
            f"must be a whole minute such as '22:00', got {value.isoformat()}", path=path
        )
    return value.replace(fold=0)


def _start(value: object) -> time:
    return _wall_time(value, "start")


def _end(value: object) -> time:
    return _wall_time(value, "end")


def _differs_from_start(instance: QuietHours, _attribute: object, value: time) -> None:
    if value == instance.start:
        raise ValidationError(
            f"must differ from start ({instance.start:%H:%M}); a window from a time to the same "
            "time is either empty or the whole day; clear the quiet hours instead",
            path="end",
        )


#: Enough steps to walk past any run of clock changes (real zones change at most a few times a
#: year, so two steps always suffice in practice).
_MAX_STEPS = 8


@attrs.frozen
class QuietHours:
    """A daily window of wall-clock time when a contact should not be disturbed.

    ``start`` is inside the window and ``end`` is not; a window whose end is not after its start
    wraps midnight (``22:00``-``08:00``). Times are whole minutes in the contact's own time
    zone, and they mean what the contact's clock shows: on a night the clocks change, the
    window is longer or shorter in real time, and a repeated hour that falls in the window is
    quiet both times.

    Example:
        >>> from datetime import time
        >>> night = QuietHours("22:00", "08:00")
        >>> str(night), night.wraps_midnight
        ('22:00-08:00', True)
        >>> night.contains(time(23, 30)), night.contains(time(8, 0))
        (True, False)
        >>> QuietHours("22:00", "22:00")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: end: must differ from start (22:00); ...

    .. versionadded:: 0.1.0
    """

    start: time = attrs.field(converter=_start)
    end: time = attrs.field(converter=_end, validator=_differs_from_start)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def wraps_midnight(self) -> bool:
        """Whether the window runs past midnight into the next day (``end < start``)."""
        return self.end < self.start

    def contains(self, wall: time) -> bool:
        """Whether a wall-clock time is inside the window (``start`` in, ``end`` out).

        Example:
            >>> from datetime import time
            >>> QuietHours("12:00", "13:30").contains(time(13, 29))
            True
        """
        wall = wall.replace(tzinfo=None)
        if self.wraps_midnight:
            return wall >= self.start or wall < self.end
        return self.start <= wall < self.end

    def window_end(self, at: datetime, zone: tzinfo | str) -> datetime | None:
        """When the quiet window that ``at`` falls in is over, in ``zone``; ``None`` if outside.

        The answer is the first instant after ``at`` at which the clock in ``zone`` shows a time
        outside the window, so it is right across daylight-saving changes:

        * an ``end`` the clocks skip (02:30 on a spring-forward night in New York) ends the
          window at the jump itself (03:00 daylight time): the first moment the clock shows a
          time at or after 02:30;
        * an ``end`` the clocks show twice (01:30 on a fall-back night) ends the window at the
          next time the clock shows it after ``at``: ``fold=0`` (the first 01:30) for a time in
          the first pass, ``fold=1`` for a time in the repeated hour, which the wall clock puts
          back inside the window;
        * a clock set back can leave the window before ``end`` (quiet 01:01-00:00 on a
          fall-back night reads 01:00 again at the change): the change ends the window;
        * when a jump skips every time outside the window, it goes on to the next ``end``.

        Example:
            >>> from datetime import datetime
            >>> from zoneinfo import ZoneInfo
            >>> ny = ZoneInfo("America/New_York")
            >>> night = QuietHours("01:00", "03:00")
            >>> # the spring-forward night: 02:00-03:00 never happens, the window lasts one hour
            >>> night.window_end(datetime(2026, 3, 8, 1, 30, tzinfo=ny), ny).isoformat()
            '2026-03-08T03:00:00-04:00'
            >>> night.window_end(datetime(2026, 3, 8, 12, 0, tzinfo=ny), ny) is None
            True

        .. versionadded:: 0.1.0
        """
        at = ensure_aware(at, "at")
        tz = _zone(zone)
        moment = at.astimezone(timezone.utc)
        if not self.contains(moment.astimezone(tz).time()):
            return None
        try:
            for _ in range(_MAX_STEPS):
                end = self._next_end(moment, tz)
                # A clock set back before then may leave the window early (the repeated hour
                # can read outside it): the change itself is then the window's end.
                change = _offset_change(moment, end, tz)
                if change is not None and not self.contains(change.astimezone(tz).time()):
                    return change.astimezone(tz)
                moment = end
                local = moment.astimezone(tz)
                if not self.contains(local.time()):
                    return local
        except OverflowError:
            raise ValidationError(
                f"{at.isoformat()} is too close to the end of the calendar to defer",
                path="at",
            ) from None
        raise ValidationError(  # pragma: no cover - no real zone changes its clock this often
            f"the clock in {zone} never leaves quiet hours {self} after {at.isoformat()}",
            path="zone",
        )

    def _next_end(self, moment: datetime, tz: tzinfo) -> datetime:
        """The first UTC instant after ``moment`` at which ``tz``'s clock reaches ``end``."""
        local = moment.astimezone(tz)
        day = local.date()
        if self.wraps_midnight and local.time() >= self.start:
            day += timedelta(days=1)
        for _ in range(3):
            later = [u for u in _instants_reading(day, self.end, tz) if u > moment]
            if later:
                return min(later)
            day += timedelta(days=1)
        raise ValidationError(  # pragma: no cover - some day within three always reaches it
            f"the clock in {tz} does not reach {self.end:%H:%M} after {moment.isoformat()}",
            path="zone",
        )


def _offset_change(after: datetime, until: datetime, tz: tzinfo) -> datetime | None:
    """The first UTC instant in ``(after, until]`` at which ``tz`` changes its offset, if any."""
    if after.astimezone(tz).utcoffset() == until.astimezone(tz).utcoffset():
        return None
    final = until.astimezone(tz).utcoffset()
    lo, hi = int(after.timestamp()), int(until.timestamp())
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == final:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, timezone.utc)


def _instants_reading(day: date, wall: time, tz: tzinfo) -> list[datetime]:
    """The UTC instants at which ``tz``'s clock reaches ``wall`` on ``day``.

    One for an ordinary time, two for a time the clocks show twice, and for a time the clocks
    skip, the instant of the jump (the first one showing a later time).
    """
    naive = datetime.combine(day, wall)
    found: list[datetime] = []
    earliest = latest = None
    for fold in (0, 1):
        instant = naive.replace(tzinfo=tz, fold=fold).astimezone(timezone.utc)
        earliest = instant if earliest is None or instant < earliest else earliest
        latest = instant if latest is None or instant > latest else latest
        if instant.astimezone(tz).replace(tzinfo=None) == naive and instant not in found:
            found.append(instant)
    if found or earliest is None or latest is None:
        return found
    return [_jump(earliest, latest, naive, tz)]


def _jump(low: datetime, high: datetime, naive: datetime, tz: tzinfo) -> datetime:
    """Bisect whole seconds for the first instant whose wall time is at or after ``naive``."""
    lo = int(low.timestamp()) - 1  # wall time before naive
    hi = int(high.timestamp()) + 1  # wall time after naive
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, timezone.utc)
