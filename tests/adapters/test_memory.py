"""The in-memory adapter: the public contract suites, plus what only the memory store promises."""

from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest

from crmkit.adapters import RECORD_TYPES, MemoryStore, RecordingNotifier
from crmkit.adapters._shared import from_document, record_type_for, to_document
from crmkit.customers import CUSTOMERS, Contact, Customer
from crmkit.errors import (
    ConcurrencyError,
    CRMError,
    DuplicateError,
    NotFoundError,
    ValidationError,
)
from crmkit.kernel.query import Query, RecordType
from crmkit.ports import Notification, Notifier, Outbox, Repository, Store, UnitOfWork
from crmkit.testing.contracts import OutboxContract, RepositoryContract, UnitOfWorkContract

NOW = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)


@pytest.fixture
def crm_store() -> MemoryStore:
    return MemoryStore()


class TestMemoryRepository(RepositoryContract):
    pass


class TestMemoryUnitOfWork(UnitOfWorkContract):
    pass


class TestMemoryOutbox(OutboxContract):
    pass


def acme(id: str = "cus_1", name: str = "Acme") -> Customer:
    return Customer.register(id=id, name=name, kind="company", now=NOW)


def commit(store: MemoryStore, *customers: Customer) -> None:
    with store.unit_of_work() as uow:
        for c in customers:
            uow.customers.add(c)
        uow.commit()


# ----- the ports --------------------------------------------------------------------------


def test_the_memory_classes_satisfy_the_ports(crm_store: MemoryStore) -> None:
    uow = crm_store.unit_of_work()
    assert isinstance(crm_store, Store)
    assert isinstance(uow, UnitOfWork)
    assert isinstance(uow.customers, Repository)
    assert isinstance(crm_store.outbox, Outbox)
    assert isinstance(RecordingNotifier(), Notifier)


def test_each_unit_of_work_is_new_and_the_outbox_is_one(crm_store: MemoryStore) -> None:
    assert crm_store.unit_of_work() is not crm_store.unit_of_work()
    assert crm_store.outbox is crm_store.outbox


# ----- store construction -----------------------------------------------------------------


def test_a_store_needs_crmkits_record_types() -> None:
    with pytest.raises(ValidationError) as info:
        MemoryStore(record_types=(CUSTOMERS,))
    assert "contacts" in str(info.value)
    assert "interactions" in str(info.value)


def test_a_store_refuses_repeated_or_foreign_record_types() -> None:
    with pytest.raises(ValidationError) as info:
        MemoryStore(record_types=(*RECORD_TYPES, CUSTOMERS, "notes"))  # type: ignore[arg-type]
    paths = [e.path for e in info.value.errors]
    assert paths == [f"record_types[{len(RECORD_TYPES)}]", f"record_types[{len(RECORD_TYPES) + 1}]"]


def test_extra_record_types_get_a_repository() -> None:
    vip = RecordType("vip_customers", Customer, {"name": lambda c: c.name})
    store = MemoryStore(record_types=(*RECORD_TYPES, vip))
    with store.unit_of_work() as uow:
        uow.repository(vip).add(acme())
        uow.commit()
    with store.unit_of_work() as uow:
        assert uow.repository(vip).get("cus_1").name == "Acme"
        with pytest.raises(NotFoundError):
            uow.customers.get("cus_1")
        other = RecordType("other", Contact)
        with pytest.raises(ValidationError):
            uow.repository(other)


# ----- isolation and commit-time checks (a locking adapter cannot run these in one thread) --


def test_uncommitted_writes_are_invisible_to_other_units_of_work(
    crm_store: MemoryStore,
) -> None:
    with crm_store.unit_of_work() as writer, crm_store.unit_of_work() as reader:
        writer.customers.add(acme())
        with pytest.raises(NotFoundError):
            reader.customers.get("cus_1")
        assert reader.customers.query(Query()).items == ()
        writer.commit()
        assert reader.customers.get("cus_1").name == "Acme"


def test_a_save_accepted_at_save_time_is_refused_at_commit(crm_store: MemoryStore) -> None:
    commit(crm_store, acme())
    with crm_store.unit_of_work() as first, crm_store.unit_of_work() as second:
        mine = first.customers.get("cus_1")
        mine.rename("First", now=NOW)
        first.customers.save(mine)  # accepted: nobody has saved yet
        theirs = second.customers.get("cus_1")
        theirs.rename("Second", now=NOW)
        second.customers.save(theirs)
        second.commit()
        first.contacts.add(Contact.create(id="con_1", customer_id="cus_1", name="Amy", now=NOW))
        with pytest.raises(ConcurrencyError) as info:
            first.commit()
        assert info.value.details == {
            "kind": "customers",
            "id": "cus_1",
            "expected_version": 1,
            "actual_version": 2,
        }
        # a failed commit discards the staging: nothing of it is left to commit
        assert first.commit() == ()
    with crm_store.unit_of_work() as uow:
        assert uow.customers.get("cus_1").name == "Second"
        with pytest.raises(NotFoundError):
            uow.contacts.get("con_1")
    assert [e.event.event_type for e in crm_store.outbox.pending()] == [
        "customers.CustomerRegistered",
        "customers.CustomerRenamed",
    ]


def test_an_add_racing_another_add_is_refused_at_commit(crm_store: MemoryStore) -> None:
    with crm_store.unit_of_work() as first, crm_store.unit_of_work() as second:
        first.customers.add(acme(name="First"))
        second.customers.add(acme(name="Second"))
        second.commit()
        with pytest.raises(DuplicateError):
            first.commit()
    with crm_store.unit_of_work() as uow:
        assert uow.customers.get("cus_1").name == "Second"


def test_outbox_positions_count_from_one_in_commit_order(crm_store: MemoryStore) -> None:
    commit(crm_store, acme("cus_2"), acme("cus_1"))
    commit(crm_store, acme("cus_3"))
    entries = crm_store.outbox.pending()
    assert [(e.position, e.event.aggregate_id) for e in entries] == [
        (1, "cus_2"),
        (2, "cus_1"),
        (3, "cus_3"),
    ]


# ----- staging details --------------------------------------------------------------------


def test_add_then_remove_in_one_unit_of_work_stores_nothing(crm_store: MemoryStore) -> None:
    with crm_store.unit_of_work() as uow:
        c = acme()
        uow.customers.add(c)
        uow.customers.remove(c)
        uow.commit()
    with crm_store.unit_of_work() as uow:
        assert uow.customers.query(Query()).items == ()


def test_remove_then_add_again_in_one_unit_of_work_starts_at_version_1(
    crm_store: MemoryStore,
) -> None:
    commit(crm_store, acme(name="Old"))
    with crm_store.unit_of_work() as uow:
        old = uow.customers.get("cus_1")
        old.rename("Old 2", now=NOW)
        uow.customers.save(old)
        uow.customers.remove(old)
        uow.customers.add(acme(name="New"))
        uow.commit()
    with crm_store.unit_of_work() as uow:
        new = uow.customers.get("cus_1")
    assert (new.name, new.version) == ("New", 1)


def test_several_saves_in_one_unit_of_work_commit_once(crm_store: MemoryStore) -> None:
    commit(crm_store, acme())
    with crm_store.unit_of_work() as uow:
        c = uow.customers.get("cus_1")
        for n in range(3):
            c.rename(f"Acme {n}", now=NOW)
            uow.customers.save(c)
        events = uow.commit()
    assert len(events) == 3
    with crm_store.unit_of_work() as uow:
        stored = uow.customers.get("cus_1")
    assert (stored.name, stored.version) == ("Acme 2", 4)


def test_remove_of_a_never_added_aggregate_is_not_found(crm_store: MemoryStore) -> None:
    with crm_store.unit_of_work() as uow, pytest.raises(NotFoundError):
        uow.customers.remove(acme())


def test_bad_ids_and_queries_are_validation_errors(crm_store: MemoryStore) -> None:
    with crm_store.unit_of_work() as uow:
        with pytest.raises(ValidationError):
            uow.customers.get("")
        with pytest.raises(ValidationError):
            uow.customers.get(42)  # type: ignore[arg-type]
        with pytest.raises(ValidationError) as info:
            uow.customers.get_many("cus_1")
        assert info.value.errors[0].path == "ids"
        with pytest.raises(ValidationError):
            uow.customers.get_many(["cus_1", " "])
        with pytest.raises(ValidationError):
            uow.customers.query({"kind": "company"})  # type: ignore[arg-type]


def test_get_many_names_a_missing_id_once(crm_store: MemoryStore) -> None:
    with crm_store.unit_of_work() as uow, pytest.raises(NotFoundError) as info:
        uow.customers.get_many(["cus_9", "cus_9"])
    assert info.value.details["ids"] == ["cus_9"]


def test_outbox_argument_checks(crm_store: MemoryStore) -> None:
    commit(crm_store, acme())
    for limit in (0, -1, True, "5"):
        with pytest.raises(ValidationError):
            crm_store.outbox.pending(limit=limit)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        crm_store.outbox.mark_delivered("1")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        crm_store.outbox.mark_delivered([1.0])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        crm_store.outbox.mark_delivered([0])
    assert len(crm_store.outbox.pending()) == 1


def test_threads_appending_to_the_outbox_get_distinct_positions(
    crm_store: MemoryStore,
) -> None:
    start = threading.Barrier(4)

    def add_many(prefix: str) -> None:
        start.wait(timeout=60)
        for n in range(25):
            commit(crm_store, acme(f"cus_{prefix}{n}"))

    threads = [threading.Thread(target=add_many, args=(p,)) for p in "abcd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    positions = [e.position for e in crm_store.outbox.pending(limit=1000)]
    assert positions == list(range(1, 101))


# ----- shared helpers ---------------------------------------------------------------------


def test_documents_hold_no_version_and_round_trip() -> None:
    c = acme()
    document = to_document(CUSTOMERS, c)
    assert "version" not in document
    assert from_document(CUSTOMERS, document, 7, CUSTOMERS.schema_version) == Customer(
        id="cus_1", version=7, name="Acme", kind="company", created_at=NOW
    )


def test_old_documents_are_upcast_on_a_copy() -> None:
    v2 = RecordType(
        "customers",
        Customer,
        schema_version=2,
        upcasters={1: lambda d: {"name": d.pop("title"), **d}},
    )
    stored = {"id": "cus_1", "title": "Acme", "kind": "company", "created_at": NOW.isoformat()}
    c = from_document(v2, stored, 3, 1)
    assert (c.name, c.version) == ("Acme", 3)
    assert "title" in stored  # the upcaster's pop touched a copy


def test_record_type_for_finds_each_aggregate_class() -> None:
    assert [record_type_for(rt.cls) for rt in RECORD_TYPES] == list(RECORD_TYPES)


# ----- RecordingNotifier ------------------------------------------------------------------


def note(recipient: str = "amy@example.com", key: str = "") -> Notification:
    return Notification(recipient, "email", "welcome", "zh_Hant_TW", {"name": "Amy"}, key)


def test_recording_notifier_records_in_order() -> None:
    notifier = RecordingNotifier()
    notifier.send(note("a@example.com"))
    notifier.send(note("b@example.com"))
    assert [n.recipient for n in notifier.sent] == ["a@example.com", "b@example.com"]
    assert notifier.failed == []
    notifier.clear()
    assert notifier.sent == []


def test_recording_notifier_keeps_duplicates_for_tests_to_see() -> None:
    notifier = RecordingNotifier()
    notifier.send(note(key="evt_1:owner"))
    notifier.send(note(key="evt_1:owner"))
    assert len(notifier.sent) == 2


def test_recording_notifier_injects_failures() -> None:
    notifier = RecordingNotifier(fail_on=lambda n: n.recipient.startswith("down"))
    notifier.send(note("up@example.com"))
    with pytest.raises(CRMError) as info:
        notifier.send(note("down@example.com", key="k1"))
    assert info.value.details["idempotency_key"] == "k1"
    assert [n.recipient for n in notifier.sent] == ["up@example.com"]
    assert [n.recipient for n in notifier.failed] == ["down@example.com"]


def test_recording_notifier_passes_on_the_error_fail_on_raises() -> None:
    def refuse(n: Notification) -> bool:
        raise ConnectionRefusedError(n.recipient)

    notifier = RecordingNotifier(fail_on=refuse)
    with pytest.raises(ConnectionRefusedError):
        notifier.send(note())
    assert notifier.sent == []
    assert len(notifier.failed) == 1


def test_recording_notifier_refuses_what_is_not_a_notification() -> None:
    with pytest.raises(ValidationError):
        RecordingNotifier().send({"recipient": "x"})  # type: ignore[arg-type]
