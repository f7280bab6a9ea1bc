"""Fakes for tests: a clock you move, predictable ids, a notifier that records.

Example:
    >>> from datetime import datetime, timedelta, timezone
    >>> clock = ManualClock(datetime(2026, 1, 5, 9, tzinfo=timezone.utc))
    >>> ids = SequentialIds()
    >>> notifier = RecordingNotifier()
    >>> clock.advance(timedelta(hours=1)).hour, ids.new_id("cus"), notifier.sent
    (10, 'cus_000001', [])

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from crmkit.adapters.memory import MemoryStore, RecordingNotifier
from crmkit.kernel.ids import SequentialIds
from crmkit.kernel.time import ManualClock

__all__ = ["ManualClock", "MemoryStore", "RecordingNotifier", "SequentialIds"]
