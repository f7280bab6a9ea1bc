"""The SQLite adapter: the contract suites on a file and in memory, plus what only a real
database file can show: concurrent writers (threads and processes), faults mid-commit, old
documents read through upcasters, and the table-layout version check."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest

from crmkit.adapters._shared import RECORD_TYPES
from crmkit.adapters.sqlite import SCHEMA_VERSION, SQLiteStore
from crmkit.customers import CUSTOMERS, Customer
from crmkit.errors import ConcurrencyError, StorageError
from crmkit.kernel.query import Query
from crmkit.testing.contracts import OutboxContract, RepositoryContract, UnitOfWorkContract

NOW = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)


@pytest.fixture(params=["file", "memory"])
def crm_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "crm.sqlite3") if request.param == "file" else SQLiteStore()
    yield store
    store.close()


class TestSQLiteRepository(RepositoryContract):
    pass


class TestSQLiteUnitOfWork(UnitOfWorkContract):
    pass


class TestSQLiteOutbox(OutboxContract):
    pass


def _counter(store: SQLiteStore, customer_id: str = "cus_counter") -> int:
    with store.unit_of_work() as uow:
        return int(uow.customers.get(customer_id).name.split()[-1])


def _seed_counter(store: SQLiteStore) -> None:
    with store.unit_of_work() as uow:
        uow.customers.add(
            Customer.register(id="cus_counter", name="count 0", kind="company", now=NOW)
        )
        uow.commit()


def _increment(store: SQLiteStore) -> int:
    """Read-modify-write once, retrying on ConcurrencyError; return the retries it took."""
    retries = 0
    while True:
        try:
            with store.unit_of_work() as uow:
                c = uow.customers.get("cus_counter")
                c.rename(f"count {int(c.name.split()[-1]) + 1}", now=NOW)
                uow.customers.save(c)
                uow.commit()
                return retries
        except ConcurrencyError:
            retries += 1


def test_eight_threads_increment_without_losing_an_update(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "crm.sqlite3")
    _seed_counter(store)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            for _ in range(500):
                _increment(store)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _counter(store) == 4000
    # Every committed rename left exactly one event in the outbox, in commit order.
    with closing(sqlite3.connect(tmp_path / "crm.sqlite3")) as raw:
        payloads = [json.loads(p) for (p,) in raw.execute("SELECT payload FROM crm_outbox")]
    renames = [p["new_name"] for p in payloads if p["event_type"] == "customers.CustomerRenamed"]
    assert renames == [f"count {n}" for n in range(1, 4001)]


_CHILD_INCREMENTS = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from crmkit.adapters.sqlite import SQLiteStore
    from crmkit.errors import ConcurrencyError
    store = SQLiteStore(sys.argv[1])
    now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    done = 0
    while done < int(sys.argv[2]):
        try:
            with store.unit_of_work() as uow:
                c = uow.customers.get("cus_counter")
                c.rename(f"count {int(c.name.split()[-1]) + 1}", now=now)
                uow.customers.save(c)
                uow.commit()
                done += 1
        except ConcurrencyError:
            pass
    """
)


def test_two_processes_increment_without_losing_an_update(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    store = SQLiteStore(path)
    _seed_counter(store)
    children = [
        subprocess.Popen([sys.executable, "-c", _CHILD_INCREMENTS, str(path), "500"])
        for _ in range(2)
    ]
    assert [child.wait(timeout=300) for child in children] == [0, 0]
    assert _counter(store) == 1000


def test_an_exception_between_saves_leaves_nothing(crm_store: SQLiteStore) -> None:
    with crm_store.unit_of_work() as uow:
        uow.customers.add(Customer.register(id="cus_a", name="A", kind="company", now=NOW))
        uow.commit()

    def half_done_unit() -> None:
        with crm_store.unit_of_work() as uow:
            a = uow.customers.get("cus_a")
            a.rename("A2", now=NOW)
            uow.customers.save(a)
            uow.customers.add(Customer.register(id="cus_b", name="B", kind="company", now=NOW))
            raise RuntimeError("injected after the first saves")

    with pytest.raises(RuntimeError, match="injected"):
        half_done_unit()
    with crm_store.unit_of_work() as uow:
        assert uow.customers.get("cus_a").name == "A"
        assert uow.customers.query(Query()).items == (uow.customers.get("cus_a"),)
    assert [e.event.event_type for e in crm_store.outbox.pending()] == [
        "customers.CustomerRegistered"
    ]


_CHILD_KILLED_IN_COMMIT = textwrap.dedent(
    """
    import os, signal, sqlite3, sys
    from datetime import datetime, timezone
    from crmkit.adapters.sqlite import SQLiteStore
    from crmkit.customers import Customer

    class DiesInCommit(sqlite3.Connection):
        armed = False
        def execute(self, sql, *args):
            if DiesInCommit.armed and sql == "COMMIT":
                os.kill(os.getpid(), signal.SIGKILL)
            return super().execute(sql, *args)

    store = SQLiteStore(sys.argv[1], connect=lambda: sqlite3.connect(
        sys.argv[1], factory=DiesInCommit, isolation_level=None))
    now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    with store.unit_of_work() as uow:
        uow.customers.add(Customer.register(id="cus_kept", name="Kept", kind="company", now=now))
        uow.commit()
    DiesInCommit.armed = True
    with store.unit_of_work() as uow:
        for i in range(5):
            uow.customers.add(Customer.register(id=f"cus_{i}", name=f"Lost {i}", kind="person",
                                                now=now))
        kept = uow.customers.get("cus_kept")
        kept.rename("Renamed", now=now)
        uow.customers.save(kept)
        uow.commit()
    print("not killed")
    """
)


def test_sigkill_during_commit_keeps_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    child = subprocess.run(
        [sys.executable, "-c", _CHILD_KILLED_IN_COMMIT, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    store = SQLiteStore(path)
    with store.unit_of_work() as uow:
        names = [c.name for c in uow.customers.query(Query()).items]
    assert names == ["Kept"]
    assert [e.event.aggregate_id for e in store.outbox.pending()] == ["cus_kept"]


_CHILD_KILLED_ANYWHERE = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from crmkit.adapters.sqlite import SQLiteStore
    from crmkit.customers import Customer
    store = SQLiteStore(sys.argv[1])
    now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    n = 0
    while True:
        with store.unit_of_work() as uow:
            for i in range(7):
                uow.customers.add(Customer.register(id=f"cus_{n}_{i}", name="x", kind="person",
                                                    now=now))
            uow.commit()
        n += 1
        if n == 20:
            print("running", flush=True)
    """
)


def test_sigkill_at_any_moment_keeps_whole_units(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD_KILLED_ANYWHERE, str(path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "running"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=60)
    child.stdout.close()
    with closing(sqlite3.connect(path)) as raw, raw:
        (customers,) = raw.execute("SELECT count(*) FROM crm_customers").fetchone()
        (events,) = raw.execute("SELECT count(*) FROM crm_outbox").fetchone()
    assert customers >= 140
    assert customers % 7 == 0
    assert events == customers


def test_old_documents_are_read_through_the_upcaster(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    SQLiteStore(path)  # creates the tables
    old_document = {
        "id": "cus_old",
        "name": "Legacy Ltd",
        "kind": "company",
        "created_at": "2020-01-01T00:00:00+00:00",
        "labels": ["old-crm"],  # schema 1 called tags "labels"
        "source": None,
        "owner": None,
        "lifecycle": "active",
    }
    with closing(sqlite3.connect(path)) as raw, raw:
        raw.execute(
            "INSERT INTO crm_customers (id, version, schema_version, document, name) "
            "VALUES ('cus_old', 3, 1, ?, 'Legacy Ltd')",
            (json.dumps(old_document),),
        )

    def rename_labels(doc: dict[str, Any]) -> dict[str, Any]:
        doc = dict(doc)
        doc["tags"] = doc.pop("labels")
        return doc

    customers_v2 = attrs.evolve(CUSTOMERS, schema_version=2, upcasters={1: rename_labels})
    types = tuple(customers_v2 if rt.name == "customers" else rt for rt in RECORD_TYPES)
    store = SQLiteStore(path, record_types=types)
    with store.unit_of_work() as uow:
        legacy = uow.customers.get("cus_old")
        assert (legacy.tags, legacy.version) == (("old-crm",), 3)
        legacy.rename("Legacy Holdings", now=NOW)
        uow.customers.save(legacy)
        uow.commit()
    with closing(sqlite3.connect(path)) as raw, raw:
        version, schema_version, doc = raw.execute(
            "SELECT version, schema_version, document FROM crm_customers WHERE id = 'cus_old'"
        ).fetchone()
    assert (version, schema_version) == (4, 2)
    assert json.loads(doc)["tags"] == ["old-crm"]


def test_a_newer_table_layout_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    SQLiteStore(path)
    with closing(sqlite3.connect(path)) as raw, raw:
        raw.execute("UPDATE crm_schema SET version = ? WHERE component = 'sqlite'", (99,))
    with pytest.raises(StorageError, match="newer crmkit"):
        SQLiteStore(path)
    assert SCHEMA_VERSION < 99


def test_files_use_wal_and_a_corrupt_file_is_a_storage_error(tmp_path: Path) -> None:
    assert SQLiteStore(tmp_path / "ok.sqlite3").journal_mode == "wal"
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="SQLite failed"):
        SQLiteStore(bad)
