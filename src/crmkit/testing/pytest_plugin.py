"""crmkit's pytest plugin: fixtures for a host's own test suite.

Installed with crmkit, registered through the ``pytest11`` entry point, so a host's tests can ask
for these fixtures without importing anything. Every fixture is function-scoped (a fresh CRM per
test), and nothing here imports hypothesis.

* ``clock``: a :class:`~crmkit.kernel.time.ManualClock` at 2026-01-05 09:00 UTC (a Monday) that
  the test moves with ``clock.advance(...)`` or ``clock.set(...)``.
* ``crm_ids``: :class:`~crmkit.kernel.ids.SequentialIds`, so ids read ``cus_000001``, ...
* ``notifications``: the :class:`~crmkit.adapters.memory.RecordingNotifier` the ``crm``
  fixtures send to; ``notifications.sent`` lists what was sent.
* ``crm``: an in-memory CRM from :func:`crmkit.bootstrap` wired to the three above.
* ``crm_sqlite``: the same on a throwaway SQLite file under ``tmp_path``.
* ``crm_factory``: a :class:`~crmkit.testing.factories.Factory` that makes customers, contacts,
  leads and the like through ``crm``'s use cases, with sensible defaults.

A host overrides any of them with a fixture of the same name in its ``conftest.py`` (for example
``clock`` in the host's own time zone); the others follow, since they ask for it by name.

Example:
    A host's test, no imports needed for the fixtures:

    >>> def test_a_new_customer_is_a_prospect(crm, clock):
    ...     tea = crm.register_customer("Formosa Tea Co.")
    ...     assert tea.created_at == clock.now()
    ...     assert tea.lifecycle.value == "prospect"

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crmkit.adapters.memory import RecordingNotifier
from crmkit.app import CRM, bootstrap
from crmkit.kernel.ids import SequentialIds
from crmkit.kernel.time import ManualClock
from crmkit.testing.factories import Factory

__all__ = ["START", "clock", "crm", "crm_factory", "crm_ids", "crm_sqlite", "notifications"]

#: Where the ``clock`` fixture starts: Monday 2026-01-05 09:00 UTC, inside office hours.
START = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> ManualClock:
    """A clock that stands still at :data:`START` until the test moves it.

    Example:
        >>> from datetime import timedelta
        >>> def test_an_hour_later(clock):
        ...     assert clock.advance(timedelta(hours=1)).hour == 10

    .. versionadded:: 0.1.0
    """
    return ManualClock(START)


@pytest.fixture
def crm_ids() -> SequentialIds:
    """Ids in creation order per prefix: ``cus_000001``, ``cus_000002``, ...

    Example:
        >>> def test_first_customer_id(crm):
        ...     assert crm.register_customer("Acme").id == "cus_000001"

    .. versionadded:: 0.1.0
    """
    return SequentialIds()


@pytest.fixture
def notifications() -> RecordingNotifier:
    """The notifier the ``crm`` fixtures use; ``.sent`` lists every notification.

    Example:
        >>> def test_nothing_sent_yet(crm, notifications):
        ...     assert crm.notifier is notifications and notifications.sent == []

    .. versionadded:: 0.1.0
    """
    return RecordingNotifier()


@pytest.fixture
def crm(clock: ManualClock, crm_ids: SequentialIds, notifications: RecordingNotifier) -> CRM:
    """An in-memory CRM on the test's clock, ids and notifier; everything allowed.

    Example:
        >>> def test_register(crm, clock):
        ...     assert crm.register_customer("Acme").created_at == clock.now()

    .. versionadded:: 0.1.0
    """
    return bootstrap(clock=clock, ids=crm_ids, notifier=notifications)


@pytest.fixture
def crm_sqlite(
    tmp_path: Path,
    clock: ManualClock,
    crm_ids: SequentialIds,
    notifications: RecordingNotifier,
) -> Iterator[CRM]:
    """A CRM on a throwaway SQLite file (``tmp_path / "crm.db"``), closed after the test.

    Example:
        >>> def test_stored_in_a_file(crm_sqlite, tmp_path):
        ...     crm_sqlite.register_customer("Acme")
        ...     assert (tmp_path / "crm.db").exists()

    .. versionadded:: 0.1.0
    """
    from crmkit.adapters.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "crm.db")
    try:
        yield bootstrap(store=store, clock=clock, ids=crm_ids, notifier=notifications)
    finally:
        store.close()


@pytest.fixture
def crm_factory(crm: CRM) -> Factory:
    """Makes customers, contacts and leads through ``crm``, with defaults for what a test omits.

    Example:
        >>> def test_a_contact(crm, crm_factory):
        ...     amy = crm_factory.contact()
        ...     assert crm.contacts_of(amy.customer_id) == [amy]

    .. versionadded:: 0.1.0
    """
    return Factory(crm)
