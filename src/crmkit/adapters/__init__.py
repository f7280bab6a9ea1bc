"""Storage and delivery adapters: implementations of :mod:`crmkit.ports`.

The in-memory adapter is re-exported here; the SQLite adapter lives in
:mod:`crmkit.adapters.sqlite`. ``RECORD_TYPES`` lists the record types every store keeps.

Example:
    >>> from crmkit.adapters import MemoryStore
    >>> from crmkit.ports import Store
    >>> isinstance(MemoryStore(), Store)
    True

.. versionadded:: 0.1.0
"""

from crmkit.adapters._shared import RECORD_TYPES
from crmkit.adapters.memory import (
    MemoryOutbox,
    MemoryRepository,
    MemoryStore,
    MemoryUnitOfWork,
    RecordingNotifier,
)

__all__ = [
    "MemoryOutbox",
    "MemoryRepository",
    "MemoryStore",
    "MemoryUnitOfWork",
    "RECORD_TYPES",
    "RecordingNotifier",
]
