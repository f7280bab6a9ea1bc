"""Time: aware datetimes only, and clocks that rules take instead of reading the system time.

Nothing in crmkit reads the system clock except :class:`SystemClock`; rules take ``now`` or a
:class:`Clock`. Tests use :class:`ManualClock` and move it.

Example:
    >>> from datetime import datetime, timedelta, timezone
    >>> clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc))
    >>> clock.advance(timedelta(hours=2)).isoformat()
    '2026-01-05T11:00:00+00:00'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol, runtime_checkable

from crmkit.errors import NaiveDatetimeError, ValidationError

__all__ = [
    "Clock",
    "ManualClock",
    "SystemClock",
    "ensure_aware",
    "validate_aware",
    "validate_optional_aware",
]


def ensure_aware(value: object, path: str = "datetime") -> datetime:
    """Return ``value`` if it is a timezone-aware datetime; raise a crmkit error otherwise.

    Example:
        >>> from datetime import datetime, timezone
        >>> ensure_aware(datetime(2026, 1, 1, tzinfo=timezone.utc), "due_at").year
        2026
        >>> ensure_aware("2026-01-01", "due_at")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: due_at: must be a datetime, not str

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, datetime):
        raise ValidationError(f"must be a datetime, not {type(value).__name__}", path=path)
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(
            f"must be timezone-aware (got naive {value.isoformat()}); attach a zone, e.g. "
            "datetime(..., tzinfo=ZoneInfo('Asia/Taipei'))",
            path=path,
        )
    return value


def validate_aware(_instance: object, attribute: object, value: Any) -> None:
    """Validate an attrs field holding an aware datetime (required: ``None`` is refused).

    Example:
        >>> import attrs
        >>> from datetime import datetime
        >>> @attrs.define
        ... class Call:
        ...     at: datetime = attrs.field(validator=validate_aware)
        >>> Call(datetime(2026, 1, 1))
        Traceback (most recent call last):
        ...
        crmkit.errors.NaiveDatetimeError: at: must be timezone-aware ...

    .. versionadded:: 0.1.0
    """
    ensure_aware(value, getattr(attribute, "name", "datetime"))


def validate_optional_aware(instance: object, attribute: object, value: Any) -> None:
    """Validate an optional attrs field: ``None`` or an aware datetime.

    Example:
        >>> validate_optional_aware(None, None, None) is None
        True

    .. versionadded:: 0.1.0
    """
    if value is not None:
        validate_aware(instance, attribute, value)


@runtime_checkable
class Clock(Protocol):
    """Tells the current time as an aware datetime.

    Example:
        >>> isinstance(SystemClock(), Clock)
        True

    .. versionadded:: 0.1.0
    """

    def now(self) -> datetime:
        """Return the current time, timezone-aware."""
        ...


class SystemClock:
    """The real clock, in UTC: the one place crmkit reads the system time.

    Example:
        >>> SystemClock().now().tzinfo
        datetime.timezone.utc

    .. versionadded:: 0.1.0
    """

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that stands still until a test sets or advances it; thread-safe.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> clock = ManualClock(datetime(2026, 3, 1, tzinfo=timezone.utc))
        >>> _ = clock.advance(timedelta(days=1))
        >>> clock.now().day
        2

    .. versionadded:: 0.1.0
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = ensure_aware(
            start if start is not None else datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc),
            "start",
        )
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Return the clock's current time."""
        with self._lock:
            return self._now

    def set(self, when: datetime) -> datetime:
        """Move the clock to ``when`` (aware) and return it."""
        with self._lock:
            self._now = ensure_aware(when, "when")
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        if not isinstance(delta, timedelta):
            raise ValidationError(f"must be a timedelta, not {type(delta).__name__}", path="delta")
        with self._lock:
            self._now = self._now + delta
            return self._now
