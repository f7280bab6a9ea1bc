"""The outbox contract: committed events in commit order, handed over exactly once.

Subclass :class:`OutboxContract` (name the subclass ``Test...``) and give it a ``crm_store``
fixture returning a fresh, empty ``crmkit.ports.Store``.

Example:
    >>> import pytest
    >>> from crmkit.adapters.memory import MemoryStore
    >>> class TestMemoryOutbox(OutboxContract):
    ...     @pytest.fixture
    ...     def crm_store(self):
    ...         return MemoryStore()
    >>> "test_hand_over_is_exactly_once" in dir(TestMemoryOutbox)
    True

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import pytest

from crmkit.customers.events import CustomerRegistered, CustomerRenamed
from crmkit.errors import ConcurrencyError, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.ports import OutboxEntry, Store
from crmkit.testing.contracts._support import (
    customer,
    new_clock,
    save_and_commit,
    store_all,
)

__all__ = ["OutboxContract"]


def _commit_customers(store: Store, *ids: str) -> tuple[DomainEvent, ...]:
    return store_all(store, [customer(id) for id in ids])


def _event_ids(entries: list[OutboxEntry]) -> list[str]:
    return [e.event.event_id for e in entries]


class OutboxContract:
    """Tests every outbox must pass: commit order, delivery marks, exactly-once hand-over.

    Needs one fixture, ``crm_store``: a fresh, empty ``crmkit.ports.Store``.

    Example:
        >>> OutboxContract.__name__.endswith("Contract")  # so pytest does not collect it
        True

    .. versionadded:: 0.1.0
    """

    def test_a_new_store_has_nothing_pending(self, crm_store: Store) -> None:
        """A fresh store's outbox is empty."""
        assert crm_store.outbox.pending() == []

    def test_pending_lists_committed_events_in_commit_order(self, crm_store: Store) -> None:
        """Entries come in commit order, with increasing positions, equal to what commit gave."""
        clock = new_clock()
        first = _commit_customers(crm_store, "cus_2", "cus_1")
        with crm_store.unit_of_work() as uow:
            acme = uow.customers.get("cus_1")
            acme.rename("Acme Corp", now=clock.now())
            second = save_and_commit(uow, acme)
        third = _commit_customers(crm_store, "cus_3")
        entries = crm_store.outbox.pending()
        assert [e.event for e in entries] == [*first, *second, *third]
        assert [type(e.event) for e in entries] == [
            CustomerRegistered,
            CustomerRegistered,
            CustomerRenamed,
            CustomerRegistered,
        ]
        positions = [e.position for e in entries]
        assert positions == sorted(set(positions))

    def test_pending_honours_limit_oldest_first(self, crm_store: Store) -> None:
        """``pending(limit)`` returns at most ``limit`` entries, the oldest ones."""
        events = _commit_customers(crm_store, "cus_1", "cus_2", "cus_3", "cus_4", "cus_5")
        assert _event_ids(crm_store.outbox.pending(limit=2)) == [e.event_id for e in events[:2]]
        assert len(crm_store.outbox.pending(limit=100)) == 5

    def test_delivered_entries_leave_pending(self, crm_store: Store) -> None:
        """Marked entries are no longer pending; the rest keep their order and positions."""
        events = _commit_customers(crm_store, "cus_1", "cus_2", "cus_3")
        entries = crm_store.outbox.pending()
        crm_store.outbox.mark_delivered([entries[0].position, entries[2].position])
        assert crm_store.outbox.pending() == [entries[1]]
        assert crm_store.outbox.pending()[0].event == events[1]

    def test_mark_delivered_is_idempotent(self, crm_store: Store) -> None:
        """Marking an entry twice, or with no positions at all, is harmless."""
        _commit_customers(crm_store, "cus_1", "cus_2")
        first = crm_store.outbox.pending()[0].position
        crm_store.outbox.mark_delivered([first])
        crm_store.outbox.mark_delivered([first, first])
        crm_store.outbox.mark_delivered([])
        assert [e.event.aggregate_id for e in crm_store.outbox.pending()] == ["cus_2"]

    def test_unknown_positions_are_refused_and_nothing_is_marked(self, crm_store: Store) -> None:
        """``mark_delivered`` with an unknown position raises ValidationError and marks none."""
        _commit_customers(crm_store, "cus_1", "cus_2")
        entries = crm_store.outbox.pending()
        unknown = max(e.position for e in entries) + 1000
        with pytest.raises(ValidationError) as info:
            crm_store.outbox.mark_delivered([entries[0].position, unknown])
        assert str(unknown) in str(info.value)
        assert crm_store.outbox.pending() == entries

    def test_hand_over_is_exactly_once(self, crm_store: Store) -> None:
        """A relay taking pages and marking them sees every event once, in order, then none."""
        clock = new_clock()
        committed = list(_commit_customers(crm_store, "cus_1", "cus_2", "cus_3"))
        with crm_store.unit_of_work() as uow:
            acme = uow.customers.get("cus_1")
            acme.rename("Acme Corp", now=clock.now())
            committed += save_and_commit(uow, acme)
        handed: list[DomainEvent] = []
        while batch := crm_store.outbox.pending(limit=2):
            handed += [e.event for e in batch]
            crm_store.outbox.mark_delivered(e.position for e in batch)
        assert handed == committed
        assert crm_store.outbox.pending() == []
        later = _commit_customers(crm_store, "cus_4")
        assert [e.event for e in crm_store.outbox.pending()] == list(later)

    def test_a_rolled_back_unit_of_work_adds_nothing(self, crm_store: Store) -> None:
        """Neither a rollback nor leaving the block without commit writes to the outbox."""
        with crm_store.unit_of_work() as uow:
            uow.customers.add(customer("cus_1"))
            uow.rollback()
        with crm_store.unit_of_work() as uow:
            uow.customers.add(customer("cus_2"))
        assert crm_store.outbox.pending() == []

    def test_a_refused_commit_adds_nothing(self, crm_store: Store) -> None:
        """A unit of work whose commit is refused for a conflict writes no event."""
        clock = new_clock()
        _commit_customers(crm_store, "cus_1")
        with crm_store.unit_of_work() as loser:
            mine = loser.customers.get("cus_1")
            with crm_store.unit_of_work() as winner:
                theirs = winner.customers.get("cus_1")
                theirs.rename("Theirs", now=clock.now())
                save_and_commit(winner, theirs)
            loser.customers.add(customer("cus_2"))
            mine.rename("Mine", now=clock.now())
            with pytest.raises(ConcurrencyError):
                save_and_commit(loser, mine)
        names = [getattr(e.event, "new_name", None) for e in crm_store.outbox.pending()]
        assert names == [None, "Theirs"]
