"""Ids: sortable unique strings from an :class:`IdGenerator`, deterministic ones for tests.

Every aggregate id is a string with a short prefix naming its kind (``cus_``, ``con_``), so ids
are readable in logs and URLs. The default generator makes ULID-style ids: 48 bits of
milliseconds then 80 random bits in Crockford base32, monotonic within one generator, so ids
sort by creation time. Tests inject :class:`SequentialIds` for ids they can predict.

Example:
    >>> ids = SequentialIds()
    >>> ids.new_id("cus"), ids.new_id("cus"), ids.new_id("con")
    ('cus_000001', 'cus_000002', 'con_000001')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import secrets
import threading
from collections import defaultdict
from typing import Protocol, runtime_checkable

from crmkit.errors import ValidationError
from crmkit.kernel.time import Clock, SystemClock

__all__ = ["IdGenerator", "SequentialIds", "SortableIds", "check_id"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def check_id(value: object, path: str = "id") -> str:
    """Return ``value`` if it is a usable id: a non-empty string without whitespace, <= 64 chars.

    Example:
        >>> check_id("cus_01")
        'cus_01'
        >>> check_id("")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: id: must be a non-empty string of at most 64 characters ...

    .. versionadded:: 0.1.0
    """
    if (
        not isinstance(value, str)
        or not value
        or len(value) > 64
        or not value.isprintable()  # refuses controls and every space but U+0020
        or " " in value
    ):
        raise ValidationError(
            f"must be a non-empty string of at most 64 characters without spaces, got {value!r}",
            path=path,
        )
    return value


@runtime_checkable
class IdGenerator(Protocol):
    """Makes new unique ids; ``prefix`` names the kind of record (``"cus"``).

    Example:
        >>> isinstance(SequentialIds(), IdGenerator)
        True

    .. versionadded:: 0.1.0
    """

    def new_id(self, prefix: str) -> str:
        """Return a new id that starts with ``prefix + "_"``."""
        ...


class SortableIds:
    """ULID-style ids that sort by creation time; unique across processes (80 random bits).

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.time import ManualClock
        >>> gen = SortableIds(ManualClock(datetime(2026, 1, 1, tzinfo=timezone.utc)))
        >>> a, b = gen.new_id("cus"), gen.new_id("cus")
        >>> a < b, a.startswith("cus_"), len(a)
        (True, True, 30)

    .. versionadded:: 0.1.0
    """

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._last = 0

    def new_id(self, prefix: str) -> str:
        """Return ``prefix_`` followed by 26 Crockford base32 characters."""
        millis = int(self._clock.now().timestamp() * 1000)
        with self._lock:
            value = (millis << 80) | secrets.randbits(80)
            if value <= self._last:
                value = self._last + 1
            self._last = value
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return f"{prefix}_{''.join(reversed(chars))}"


class SequentialIds:
    """Predictable ids for tests and examples: ``prefix_000001``, counting per prefix.

    Example:
        >>> SequentialIds(start=41).new_id("lead")
        'lead_000042'

    .. versionadded:: 0.1.0
    """

    def __init__(self, start: int = 0) -> None:
        self._counters: defaultdict[str, int] = defaultdict(lambda: start)
        self._lock = threading.Lock()

    def new_id(self, prefix: str) -> str:
        """Return the next id for ``prefix``."""
        with self._lock:
            self._counters[prefix] += 1
            return f"{prefix}_{self._counters[prefix]:06d}"
