"""Backups: export from one store, restore into another, record by record; bulk loads."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from crmkit import ManualClock, bootstrap
from crmkit.adapters import RECORD_TYPES
from crmkit.adapters._shared import to_document
from crmkit.adapters.backup import FORMAT, export_store, restore_store
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlalchemy import SQLAlchemyStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.customers import CUSTOMERS, Customer
from crmkit.errors import DuplicateError, ValidationError
from crmkit.kernel import SequentialIds
from crmkit.kernel.query import Query
from crmkit.ports import Store, StoredRecord

TPE = ZoneInfo("Asia/Taipei")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TPE)


def everything(store: Store) -> dict[str, list[Any]]:
    """Every record of every record type, in id order."""
    found: dict[str, list[Any]] = {}
    with store.unit_of_work() as uow:
        for record_type in RECORD_TYPES:
            items: list[Any] = []
            query: Query | None = Query().take(1000)
            while query is not None:
                page = uow.repository(record_type).query(query)  # type: ignore[attr-defined]
                items.extend(page.items)
                query = None if page.next_cursor is None else query.after(page.next_cursor)
            found[record_type.name] = items
    return found


def generated_data(store: Store, seed: int = 3) -> None:
    """A data set with several record types, changed records (versions > 1) and outbox events."""
    rnd = random.Random(seed)
    clock = ManualClock(START)
    crm = bootstrap(store=store, clock=clock, ids=SequentialIds())
    customers = []
    for i in range(30):
        customer = crm.register_customer(
            f"Customer {i} 客戶", rnd.choice(["company", "person"]), tags=[f"t{i % 4}", "vip"]
        )
        customers.append(customer)
        contact = crm.add_contact(
            customer.id,
            f"Contact {i}",
            emails=[f"c{i}@example.com"],
            phones=[f"+8869{i:08d}"],
            preferred_channel=rnd.choice(["email", "sms", None]),
        )
        crm.log_interaction(customer.id, "call", f"Call {i}", contact_id=contact.id)
        for _ in range(rnd.randrange(3)):
            crm.rename_customer(customer.id, f"Customer {i} v{rnd.randrange(100)}")
    crm.capture_lead("web_form", name="Amy Chen", email="amy@example.com")
    text = "name,email,external_id\n" + "".join(
        f"Imp {i},imp{i}@example.com,E{i}\n" for i in range(20)
    )
    crm.import_customers(io.StringIO(text))


@pytest.fixture
def sqlite_source(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "source.db")
    generated_data(store)
    yield store
    store.close()


def round_trip(source: Store, target: Store, tmp_path: Path) -> None:
    path = tmp_path / "backup.jsonl"
    exported = export_store(source, path)
    restored = restore_store(target, path)
    assert restored == exported
    before, after = everything(source), everything(target)
    for name in before:
        assert after[name] == before[name], name
    assert sum(map(len, before.values())) == exported.total > 100
    pending = source.outbox.pending(limit=10_000)
    assert [e.event for e in target.outbox.pending(limit=10_000)] == [e.event for e in pending]
    assert len(pending) == exported.outbox > 0


def test_sqlite_file_to_postgresql(
    sqlite_source: SQLiteStore, postgres_engine: sa.Engine, tmp_path: Path
) -> None:
    round_trip(sqlite_source, SQLAlchemyStore(postgres_engine), tmp_path)


def test_sqlite_file_to_mariadb(
    sqlite_source: SQLiteStore, mariadb_engine: sa.Engine, tmp_path: Path
) -> None:
    round_trip(sqlite_source, SQLAlchemyStore(mariadb_engine), tmp_path)


def test_the_two_documented_commands_move_sqlite_to_postgresql(
    sqlite_source: SQLiteStore,
    postgres_engine: sa.Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from crmkit.cli import main

    backup = tmp_path / "backup.jsonl"
    assert main(["export", "--database", sqlite_source.path, str(backup)]) == 0
    url = postgres_engine.url.render_as_string(hide_password=False)
    assert main(["import", "--url", url, str(backup)]) == 0, capsys.readouterr().err
    assert everything(SQLAlchemyStore(postgres_engine)) == everything(sqlite_source)


def test_sqlite_file_to_memory_and_back_to_sqlite(
    sqlite_source: SQLiteStore, tmp_path: Path
) -> None:
    memory = MemoryStore()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    round_trip(sqlite_source, memory, tmp_path / "a")
    again = SQLiteStore(tmp_path / "again.db")
    try:
        round_trip(memory, again, tmp_path / "b")
    finally:
        again.close()


def test_a_restored_store_keeps_working(sqlite_source: SQLiteStore, tmp_path: Path) -> None:
    target = SQLiteStore(tmp_path / "target.db")
    try:
        path = tmp_path / "b.jsonl"
        export_store(sqlite_source, path)
        restore_store(target, path)
        crm = bootstrap(store=target, clock=ManualClock(START), ids=SequentialIds(start=1000))
        customer = everything(target)["customers"][0]
        renamed = crm.rename_customer(customer.id, "Renamed")
        assert renamed.version == customer.version + 1
    finally:
        target.close()


# ----- refusals ---------------------------------------------------------------------------------


@pytest.fixture
def backup_text() -> str:
    store = MemoryStore()
    generated_data(store)
    out = io.StringIO()
    export_store(store, out)
    return out.getvalue()


def test_a_non_empty_target_is_refused_unless_allowed(backup_text: str) -> None:
    target = MemoryStore()
    bootstrap(store=target).register_customer("Already here")
    with pytest.raises(ValidationError, match="holds records already"):
        restore_store(target, io.StringIO(backup_text))
    summary = restore_store(target, io.StringIO(backup_text), allow_existing=True)
    assert len(everything(target)["customers"]) == summary.records["customers"] + 1


def test_an_id_in_both_loads_nothing(backup_text: str) -> None:
    target = MemoryStore()
    restore_store(target, io.StringIO(backup_text))
    before = everything(target)
    with pytest.raises(DuplicateError):
        restore_store(target, io.StringIO(backup_text), allow_existing=True)
    assert everything(target) == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda lines: lines[:-1], "no end line came"),
        (lambda lines: lines[:3] + lines[4:], "records and"),
        (lambda lines: ['{"format": "other"}', *lines[1:]], "header"),
        (lambda lines: [lines[0].replace('"format_version":1', '"format_version":9'), *lines[1:]],
         "format version 9"),
        (lambda lines: [*lines[:2], "{not json", *lines[2:]], "line 3: is not valid JSON"),
        (lambda lines: [*lines, lines[1]], "line .*: has data after the end line"),
        (lambda lines: [lines[0], lines[1].replace('"kind":"', '"kind":"x'), *lines[2:]],
         "line 2: customers"),
        (lambda lines: [lines[0], lines[1].replace('"version":', '"version":"'), *lines[2:]],
         "line 2"),
        (lambda lines: [lines[0], '{"hello": 1}', *lines[1:]], "neither a record"),
        (lambda lines: [], "empty"),
    ],
)  # fmt: skip
def test_a_damaged_backup_is_refused_with_its_line_and_loads_nothing(
    backup_text: str, change: Any, message: str
) -> None:
    lines = backup_text.splitlines()
    target = MemoryStore()
    with pytest.raises(ValidationError, match=message):
        restore_store(target, io.StringIO("\n".join(change(lines))))
    assert not any(everything(target).values())


def test_a_backup_header_names_record_types_and_versions(backup_text: str) -> None:
    header = json.loads(backup_text.splitlines()[0])
    assert header["format"] == FORMAT and header["format_version"] == 1
    assert header["record_types"]["customers"] == CUSTOMERS.schema_version


# ----- load_records on every store ---------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite", "sqlalchemy"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "memory":
        yield MemoryStore()
    elif request.param == "sqlite":
        store = SQLiteStore(tmp_path / "crm.db")
        yield store
        store.close()
    else:
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'sa.db'}")
        yield SQLAlchemyStore(engine)
        engine.dispose()


def _record(i: int, version: int) -> StoredRecord:
    customer = Customer(id=f"cus_{i}", name=f"C {i}", kind="person", created_at=START, tags=["a"])
    return StoredRecord("customers", customer.id, version, 1, to_document(CUSTOMERS, customer))


def test_load_records_keeps_versions_and_is_queryable(any_store: Any) -> None:
    any_store.load_records([_record(1, 5), _record(2, 1)])
    with any_store.unit_of_work() as uow:
        assert [c.version for c in uow.customers.get_many(["cus_1", "cus_2"])] == [5, 1]
        assert len(uow.customers.query(Query().filter("tags", "contains", "a")).items) == 2


def test_load_records_is_all_or_nothing(any_store: Any) -> None:
    any_store.load_records([_record(1, 1)])
    with pytest.raises(DuplicateError):
        any_store.load_records([_record(2, 1), _record(1, 3)])
    with pytest.raises(DuplicateError):
        any_store.load_records([_record(3, 1), _record(3, 1)])
    with any_store.unit_of_work() as uow:
        assert [c.id for c in uow.customers.query(Query()).items] == ["cus_1"]


def test_load_records_refuses_what_it_cannot_store(any_store: Any) -> None:
    with pytest.raises(ValidationError, match=r"records\[0\].type"):
        any_store.load_records([StoredRecord("widgets", "w_1", 1, 1, {"id": "w_1"})])
    with pytest.raises(ValidationError, match=r"records\[0\].version"):
        any_store.load_records([_record(1, 0)])
    with pytest.raises(ValidationError, match=r"records\[0\].document"):
        any_store.load_records([StoredRecord("customers", "cus_1", 1, 1, {"id": "cus_2"})])
    with pytest.raises(ValidationError, match=r"events\[0\]"):
        any_store.load_records([], ["not an event"])
