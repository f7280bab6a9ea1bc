"""The unit-of-work contract: atomic commits, rollbacks, conflicts and events, as pytest tests.

Subclass :class:`UnitOfWorkContract` (name the subclass ``Test...``) and give it a
``crm_store`` fixture returning a fresh, empty ``crmkit.ports.Store``. The tests use one unit of
work per thread, and in one thread they open a second unit of work only while the first has
written nothing yet, so an adapter that shares a connection per thread passes them too.

Example:
    >>> import pytest
    >>> from crmkit.adapters.memory import MemoryStore
    >>> class TestMemoryUnitOfWork(UnitOfWorkContract):
    ...     @pytest.fixture
    ...     def crm_store(self):
    ...         return MemoryStore()
    >>> "test_concurrent_increments_lose_no_update" in dir(TestMemoryUnitOfWork)
    True

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import sys
import threading

import pytest

from crmkit.customers.events import (
    ContactAdded,
    CustomerRegistered,
    CustomerRenamed,
    CustomerTagged,
    InteractionLogged,
)
from crmkit.errors import ConcurrencyError, DuplicateError, NotFoundError
from crmkit.ports import Store
from crmkit.testing.contracts._support import (
    add_and_commit,
    contact,
    customer,
    customer_ids,
    interaction,
    new_clock,
    read_customer,
    save_and_commit,
    store_all,
)

__all__ = ["UnitOfWorkContract"]

#: The thread test: this many threads each make this many read-modify-write increments.
THREADS = 8
INCREMENTS = 50


class _BoomError(Exception):
    """An error raised inside a unit of work by a test."""


class UnitOfWorkContract:
    """Tests every unit of work must pass: atomic commit, rollback, conflicts, events, threads.

    Needs one fixture, ``crm_store``: a fresh, empty ``crmkit.ports.Store``.

    Example:
        >>> UnitOfWorkContract.__name__.endswith("Contract")  # so pytest does not collect it
        True

    .. versionadded:: 0.1.0
    """

    # ----- commit and rollback --------------------------------------------------------------

    def test_commit_is_atomic_across_repositories(self, crm_store: Store) -> None:
        """One commit stores a customer, a contact and an interaction together."""
        with crm_store.unit_of_work() as uow:
            uow.customers.add(customer("cus_1"))
            uow.contacts.add(contact("con_1", "cus_1"))
            uow.interactions.add(interaction("int_1", "cus_1"))
            uow.commit()
        with crm_store.unit_of_work() as uow:
            assert uow.customers.get("cus_1").version == 1
            assert uow.contacts.get("con_1").customer_id == "cus_1"
            assert uow.interactions.get("int_1").customer_id == "cus_1"

    def test_commit_without_changes_returns_no_events(self, crm_store: Store) -> None:
        """Committing an empty unit of work returns ``()`` and writes nothing."""
        with crm_store.unit_of_work() as uow:
            assert uow.commit() == ()
        assert crm_store.outbox.pending() == []

    def test_leaving_without_commit_discards_every_write(self, crm_store: Store) -> None:
        """A ``with`` block left without ``commit()`` stores nothing."""
        with crm_store.unit_of_work() as uow:
            uow.customers.add(customer("cus_1"))
            uow.contacts.add(contact("con_1", "cus_1"))
        with crm_store.unit_of_work() as uow, pytest.raises(NotFoundError):
            uow.contacts.get("con_1")
        assert customer_ids(crm_store) == []
        assert crm_store.outbox.pending() == []

    def test_rollback_discards_every_write(self, crm_store: Store) -> None:
        """``rollback()`` discards what was staged; a later commit has nothing to write."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Acme")])
        with crm_store.unit_of_work() as uow:
            uow.customers.add(customer("cus_2"))
            acme = uow.customers.get("cus_1")
            acme.rename("Renamed", now=clock.now())
            uow.customers.save(acme)
            uow.rollback()
            assert uow.commit() == ()
        assert customer_ids(crm_store) == ["cus_1"]
        stored = read_customer(crm_store, "cus_1")
        assert (stored.name, stored.version) == ("Acme", 1)

    def test_an_exception_rolls_back_and_propagates(self, crm_store: Store) -> None:
        """An exception leaving the block rolls everything back and is not swallowed."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Acme")])

        def fail_halfway() -> None:
            with crm_store.unit_of_work() as uow:
                uow.customers.add(customer("cus_2"))
                acme = uow.customers.get("cus_1")
                acme.rename("Renamed", now=clock.now())
                uow.customers.save(acme)
                raise _BoomError

        with pytest.raises(_BoomError):
            fail_halfway()
        assert customer_ids(crm_store) == ["cus_1"]
        assert read_customer(crm_store, "cus_1").name == "Acme"
        assert [e.event.aggregate_id for e in crm_store.outbox.pending()] == ["cus_1"]

    def test_a_unit_of_work_can_commit_again_after_a_commit(self, crm_store: Store) -> None:
        """Writes after a commit need (and get) their own commit, with their own events."""
        with crm_store.unit_of_work() as uow:
            uow.customers.add(customer("cus_1"))
            first = uow.commit()
            uow.customers.add(customer("cus_2"))
            second = uow.commit()
        assert [e.aggregate_id for e in first] == ["cus_1"]
        assert [e.aggregate_id for e in second] == ["cus_2"]
        assert customer_ids(crm_store) == ["cus_1", "cus_2"]

    def test_writes_after_a_commit_are_discarded_without_a_second_commit(
        self, crm_store: Store
    ) -> None:
        """Leaving the block rolls back writes made after the last commit."""
        with crm_store.unit_of_work() as uow:
            uow.customers.add(customer("cus_1"))
            uow.commit()
            uow.customers.add(customer("cus_2"))
        assert customer_ids(crm_store) == ["cus_1"]

    # ----- conflicts ------------------------------------------------------------------------

    def test_a_stale_save_is_refused_and_keeps_the_stored_state(self, crm_store: Store) -> None:
        """Saving what another unit of work changed since it was read raises ConcurrencyError."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Acme")])
        with crm_store.unit_of_work() as loser:
            mine = loser.customers.get("cus_1")
            with crm_store.unit_of_work() as winner:
                theirs = winner.customers.get("cus_1")
                theirs.rename("Theirs", now=clock.now())
                save_and_commit(winner, theirs)
            mine.rename("Mine", now=clock.now())
            with pytest.raises(ConcurrencyError) as info:
                save_and_commit(loser, mine)
        assert info.value.details["expected_version"] == 1
        assert info.value.details["actual_version"] == 2
        stored = read_customer(crm_store, "cus_1")
        assert (stored.name, stored.version) == ("Theirs", 2)

    def test_a_refused_commit_applies_nothing(self, crm_store: Store) -> None:
        """When one write of a unit of work conflicts, none of its other writes is stored."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Acme")])
        with crm_store.unit_of_work() as loser:
            mine = loser.customers.get("cus_1")
            with crm_store.unit_of_work() as winner:
                theirs = winner.customers.get("cus_1")
                theirs.tag(add=["won"], now=clock.now())
                save_and_commit(winner, theirs)
            loser.contacts.add(contact("con_1", "cus_1"))
            loser.interactions.add(interaction("int_1", "cus_1"))
            mine.rename("Mine", now=clock.now())
            with pytest.raises(ConcurrencyError):
                save_and_commit(loser, mine)
        with crm_store.unit_of_work() as uow:
            with pytest.raises(NotFoundError):
                uow.contacts.get("con_1")
            with pytest.raises(NotFoundError):
                uow.interactions.get("int_1")
            stored = uow.customers.get("cus_1")
        assert (stored.name, stored.tags, stored.version) == ("Acme", ("won",), 2)
        kinds = [type(e.event) for e in crm_store.outbox.pending()]
        assert kinds == [CustomerRegistered, CustomerTagged]

    def test_saving_what_someone_else_removed_is_refused(self, crm_store: Store) -> None:
        """Saving a record removed since it was read raises ConcurrencyError (actual: None)."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Acme")])
        with crm_store.unit_of_work() as loser:
            mine = loser.customers.get("cus_1")
            with crm_store.unit_of_work() as winner:
                winner.customers.remove(winner.customers.get("cus_1"))
                winner.commit()
            mine.rename("Mine", now=clock.now())
            with pytest.raises(ConcurrencyError) as info:
                save_and_commit(loser, mine)
        assert info.value.details["actual_version"] is None
        assert customer_ids(crm_store) == []

    def test_adding_an_id_someone_else_added_first_is_a_duplicate(self, crm_store: Store) -> None:
        """Two units of work adding one id: the second to write gets DuplicateError."""
        with crm_store.unit_of_work() as loser:
            with crm_store.unit_of_work() as winner:
                winner.customers.add(customer("cus_1", "Winner"))
                winner.commit()
            with pytest.raises(DuplicateError):
                add_and_commit(loser, customer("cus_1", "Loser"))
        assert read_customer(crm_store, "cus_1").name == "Winner"

    # ----- events ---------------------------------------------------------------------------

    def test_commit_returns_the_events_in_order_and_clears_them(self, crm_store: Store) -> None:
        """``commit()`` returns every pending event of the aggregates written, oldest first."""
        clock = new_clock()
        acme = customer("cus_1", "Acme")
        acme.rename("Acme Corp", now=clock.now())
        amy = contact("con_1", "cus_1")
        call = interaction("int_1", "cus_1")
        with crm_store.unit_of_work() as uow:
            uow.customers.add(acme)
            uow.contacts.add(amy)
            uow.interactions.add(call)
            events = uow.commit()
        assert [type(e) for e in events] == [
            CustomerRegistered,
            CustomerRenamed,
            ContactAdded,
            InteractionLogged,
        ]
        assert (acme.pending_events, amy.pending_events, call.pending_events) == ((), (), ())

    def test_events_of_saves_and_removals_are_committed(self, crm_store: Store) -> None:
        """Events recorded before ``save``/``remove`` are committed with them."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Acme"), customer("cus_2", "Beta")])
        with crm_store.unit_of_work() as uow:
            acme = uow.customers.get("cus_1")
            acme.tag(add=["vip"], now=clock.now())
            uow.customers.save(acme)
            beta = uow.customers.get("cus_2")
            beta.rename("Beta (closed)", now=clock.now())
            uow.customers.remove(beta)
            events = uow.commit()
        assert [(type(e), e.aggregate_id) for e in events] == [
            (CustomerTagged, "cus_1"),
            (CustomerRenamed, "cus_2"),
        ]
        assert events[0].aggregate_version == 2

    def test_a_refused_commit_keeps_the_pending_events(self, crm_store: Store) -> None:
        """After a conflict the aggregate keeps its pending events, and the outbox gains none."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "Acme")])
        before = len(crm_store.outbox.pending())
        with crm_store.unit_of_work() as loser:
            mine = loser.customers.get("cus_1")
            with crm_store.unit_of_work() as winner:
                theirs = winner.customers.get("cus_1")
                theirs.rename("Theirs", now=clock.now())
                save_and_commit(winner, theirs)
            mine.rename("Mine", now=clock.now())
            with pytest.raises(ConcurrencyError):
                save_and_commit(loser, mine)
        assert [type(e) for e in mine.pending_events] == [CustomerRenamed]
        assert len(crm_store.outbox.pending()) == before + 1

    def test_rolled_back_events_stay_pending_and_out_of_the_outbox(self, crm_store: Store) -> None:
        """A rollback writes no event to the outbox and leaves the aggregate's events pending."""
        acme = customer("cus_1")
        with crm_store.unit_of_work() as uow:
            uow.customers.add(acme)
            uow.rollback()
        assert crm_store.outbox.pending() == []
        assert [type(e) for e in acme.pending_events] == [CustomerRegistered]

    # ----- threads --------------------------------------------------------------------------

    def test_concurrent_increments_lose_no_update(self, crm_store: Store) -> None:
        """8 threads x 50 read-modify-write renames, retried on conflict, make exactly 400."""
        clock = new_clock()
        store_all(crm_store, [customer("cus_1", "n=0")])
        start = threading.Barrier(THREADS)
        errors: list[BaseException] = []

        def increment_once() -> bool:
            with crm_store.unit_of_work() as uow:
                counter = uow.customers.get("cus_1")
                n = int(counter.name.removeprefix("n="))
                counter.rename(f"n={n + 1}", now=clock.now())
                try:
                    save_and_commit(uow, counter)
                except ConcurrencyError:
                    return False
                return True

        def worker() -> None:
            try:
                start.wait(timeout=60)
                for _ in range(INCREMENTS):
                    for _attempt in range(100_000):
                        if increment_once():
                            break
                    else:
                        raise AssertionError("no increment got through after 100000 tries")
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(THREADS)]
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)  # switch threads often, so interleavings really happen
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=600)
        finally:
            sys.setswitchinterval(interval)
        assert not any(t.is_alive() for t in threads), "a worker thread hung"
        assert errors == []
        total = THREADS * INCREMENTS
        final = read_customer(crm_store, "cus_1")
        assert (final.name, final.version) == (f"n={total}", total + 1)
        renames = [
            e.event
            for e in crm_store.outbox.pending(limit=total + 10)
            if isinstance(e.event, CustomerRenamed)
        ]
        assert [e.new_name for e in renames] == [f"n={k}" for k in range(1, total + 1)]
