"""The SQLAlchemy adapter on SQLite, PostgreSQL and MariaDB: the contract suites, plus what only
real databases show: concurrent writers (threads and processes), deadlocks, faults mid-unit,
old documents read through upcasters, the layout version, the public MetaData, and query
results checked against the in-memory adapter."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.adapters._shared import RECORD_TYPES
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlalchemy import (
    SCHEMA_VERSION,
    SQLAlchemyStore,
    make_metadata,
    metadata,
)
from crmkit.adapters.sqlalchemy import _store as store_module
from crmkit.customers import CUSTOMERS, Customer
from crmkit.customers.events import CustomerRegistered, CustomerRenamed
from crmkit.errors import (
    ConcurrencyError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.query import Op, Query, RecordType
from crmkit.ports import Store
from crmkit.testing.contracts import OutboxContract, RepositoryContract, UnitOfWorkContract

NOW = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
TAIPEI = ZoneInfo("Asia/Taipei")
NEW_YORK = ZoneInfo("America/New_York")

BACKENDS = ["sqlite", "postgres", "mariadb"]


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest) -> sa.Engine:
    """A clean engine on each backend in turn."""
    result: sa.Engine = request.getfixturevalue(f"{request.param}_engine")
    return result


@pytest.fixture
def store(engine: sa.Engine) -> SQLAlchemyStore:
    return SQLAlchemyStore(engine)


# ----- the contract suites, on every backend -------------------------------------------------


class _OnSQLite:
    @pytest.fixture
    def crm_store(self, sqlite_engine: sa.Engine) -> SQLAlchemyStore:
        return SQLAlchemyStore(sqlite_engine)


class _OnPostgres:
    @pytest.fixture
    def crm_store(self, postgres_engine: sa.Engine) -> SQLAlchemyStore:
        return SQLAlchemyStore(postgres_engine)


class _OnMariaDB:
    @pytest.fixture
    def crm_store(self, mariadb_engine: sa.Engine) -> SQLAlchemyStore:
        return SQLAlchemyStore(mariadb_engine)


class TestSQLiteRepository(_OnSQLite, RepositoryContract):
    pass


class TestSQLiteUnitOfWork(_OnSQLite, UnitOfWorkContract):
    pass


class TestSQLiteOutbox(_OnSQLite, OutboxContract):
    pass


class TestPostgresRepository(_OnPostgres, RepositoryContract):
    pass


class TestPostgresUnitOfWork(_OnPostgres, UnitOfWorkContract):
    pass


class TestPostgresOutbox(_OnPostgres, OutboxContract):
    pass


class TestMariaDBRepository(_OnMariaDB, RepositoryContract):
    pass


class TestMariaDBUnitOfWork(_OnMariaDB, UnitOfWorkContract):
    pass


class TestMariaDBOutbox(_OnMariaDB, OutboxContract):
    pass


# ----- helpers ------------------------------------------------------------------------------


def _customer(id: str, name: str = "Acme", **fields: Any) -> Customer:
    fields.setdefault("kind", "company")
    fields.setdefault("now", NOW)
    return Customer.register(id=id, name=name, **fields)


def _store_all(store: Store, aggregates: list[Customer]) -> tuple[DomainEvent, ...]:
    with store.unit_of_work() as uow:
        for aggregate in aggregates:
            uow.customers.add(aggregate)
        return uow.commit()


def _ids(store: Store, query: Query) -> list[str]:
    with store.unit_of_work() as uow:
        return [c.id for c in uow.customers.query(query).items]


def _name(store: Store, id: str) -> str:
    with store.unit_of_work() as uow:
        return uow.customers.get(id).name


def _increment(store: SQLAlchemyStore, id: str = "cus_counter") -> int:
    """Read-modify-write ``n=K`` -> ``n=K+1`` once, retrying on conflict; return the retries."""
    retries = 0
    while True:
        try:
            with store.unit_of_work() as uow:
                counter = uow.customers.get(id)
                n = int(counter.name.removeprefix("n="))
                counter.rename(f"n={n + 1}", now=NOW)
                uow.customers.save(counter)
                uow.commit()
                return retries
        except ConcurrencyError:
            retries += 1


def _in_threads(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(i)`` in ``count`` threads started together; re-raise the first failure."""
    start = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait(timeout=60)
            work(i)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    if errors:
        raise errors[0]


# ----- concurrency --------------------------------------------------------------------------


def test_eight_threads_make_4000_increments_on_postgres(
    postgres_engine: sa.Engine, record_property: Callable[[str, object], None]
) -> None:
    """8 threads x 500 read-modify-write renames of one record, retried on conflict: 4000."""
    store = SQLAlchemyStore(postgres_engine)
    _store_all(store, [_customer("cus_counter", "n=0")])
    retries: list[int] = []
    lock = threading.Lock()

    def work(_: int) -> None:
        mine = sum(_increment(store) for _ in range(500))
        with lock:
            retries.append(mine)

    _in_threads(8, work)
    record_property("conflicts_retried", sum(retries))
    with store.unit_of_work() as uow:
        final = uow.customers.get("cus_counter")
    assert (final.name, final.version) == ("n=4000", 4001)
    # Outbox positions follow commit order: the renames appear as n=1, n=2, ... n=4000.
    renames = [
        e.event.new_name
        for e in store.outbox.pending(limit=5000)
        if isinstance(e.event, CustomerRenamed)
    ]
    assert renames == [f"n={k}" for k in range(1, 4001)]


def _increments_in_a_process(url: str, count: int) -> int:
    """Child process: its own engine and store; ``count`` increments; return the retries."""
    engine = sa.create_engine(url)
    try:
        store = SQLAlchemyStore(engine, create=False)
        return sum(_increment(store) for _ in range(count))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["postgres", "mariadb"])
def test_two_processes_make_1000_increments(
    backend: str,
    request: pytest.FixtureRequest,
    record_property: Callable[[str, object], None],
) -> None:
    """Two spawned processes, each with its own engine, x 500 increments: exactly 1000."""
    engine: sa.Engine = request.getfixturevalue(f"{backend}_engine")
    url: str = request.getfixturevalue(f"{backend}_url")
    store = SQLAlchemyStore(engine)
    _store_all(store, [_customer("cus_counter", "n=0")])
    with multiprocessing.get_context("spawn").Pool(processes=2) as pool:
        result = pool.starmap_async(_increments_in_a_process, [(url, 500), (url, 500)])
        record_property("conflicts_retried", sum(result.get(timeout=600)))
    with store.unit_of_work() as uow:
        final = uow.customers.get("cus_counter")
    assert (final.name, final.version) == ("n=1000", 1001)
    renames = [
        e.event.new_name
        for e in store.outbox.pending(limit=2000)
        if isinstance(e.event, CustomerRenamed)
    ]
    assert renames == [f"n={k}" for k in range(1, 1001)]


@pytest.mark.parametrize("backend", ["postgres", "mariadb"])
def test_a_deadlock_is_a_concurrency_error_and_rolls_the_victim_back(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Two units of work saving two records in opposite orders: one wins, one must retry."""
    engine: sa.Engine = request.getfixturevalue(f"{backend}_engine")
    store = SQLAlchemyStore(engine)
    _store_all(store, [_customer("cus_a", "A"), _customer("cus_b", "B")])
    both_hold_one = threading.Barrier(2)
    outcome: dict[int, BaseException | None] = {}
    order = {0: ("cus_a", "cus_b"), 1: ("cus_b", "cus_a")}

    def work(i: int) -> None:
        with store.unit_of_work() as uow:
            first, second = (uow.customers.get(id) for id in order[i])
            first.rename(f"{first.name} by {i}", now=NOW)
            uow.customers.save(first)
            both_hold_one.wait(timeout=60)
            try:
                second.rename(f"{second.name} by {i}", now=NOW)
                uow.customers.save(second)
                uow.commit()
                outcome[i] = None
            except ConcurrencyError as exc:
                outcome[i] = exc
                with pytest.raises(StorageError, match="rolled back after an earlier error"):
                    uow.commit()

    _in_threads(2, work)
    victims = [exc for exc in outcome.values() if exc is not None]
    assert len(victims) == 1
    assert "conflicted with a concurrent" in str(victims[0])
    winner = next(i for i, exc in outcome.items() if exc is None)
    assert (_name(store, "cus_a"), _name(store, "cus_b")) == (f"A by {winner}", f"B by {winner}")


def test_sqlite_lock_timeout_is_a_concurrency_error(tmp_path: Any) -> None:
    """A writer that cannot get SQLite's write lock in time gets a retryable ConcurrencyError."""
    engine = sa.create_engine(
        f"sqlite:///{tmp_path / 'locked.sqlite3'}", connect_args={"timeout": 0.05}
    )
    try:
        store = SQLAlchemyStore(engine)
        with store.unit_of_work() as holder:
            holder.customers.add(_customer("cus_1"))
            with store.unit_of_work() as blocked, pytest.raises(ConcurrencyError) as info:
                blocked.customers.add(_customer("cus_2"))
            holder.commit()
        assert info.value.details["database"] == "SQLite"
        assert _ids(store, Query()) == ["cus_1"]
    finally:
        engine.dispose()


# ----- faults -------------------------------------------------------------------------------


class _InjectedError(Exception):
    pass


def test_an_exception_after_the_first_save_leaves_nothing(store: SQLAlchemyStore) -> None:
    """A fault after the first of several saves: none of the unit's changes, no events."""
    registered = _store_all(store, [_customer(f"cus_{n}", f"Name {n}") for n in range(3)])

    def fail_after_the_first_save() -> None:
        with store.unit_of_work() as uow:
            uow.customers.add(_customer("cus_new"))
            for n, c in enumerate(uow.customers.get_many(["cus_0", "cus_1", "cus_2"])):
                c.rename(f"Changed {n}", now=NOW)
                uow.customers.save(c)
                if n == 0:
                    raise _InjectedError
            uow.commit()

    with pytest.raises(_InjectedError):
        fail_after_the_first_save()
    with store.unit_of_work() as uow:
        stored = uow.customers.query(Query().order("name")).items
    assert [(c.id, c.name, c.version) for c in stored] == [
        ("cus_0", "Name 0", 1),
        ("cus_1", "Name 1", 1),
        ("cus_2", "Name 2", 1),
    ]
    assert [e.event for e in store.outbox.pending()] == list(registered)


def test_a_database_error_in_commit_leaves_nothing(store: SQLAlchemyStore) -> None:
    """The outbox insert fails inside commit (a repeated event id): every write is undone."""
    (registered,) = _store_all(store, [_customer("cus_1", "Acme")])
    with store.unit_of_work() as uow:
        acme = uow.customers.get("cus_1")
        acme.rename("Renamed", now=NOW)
        uow.customers.save(acme)
        uow.customers.add(_customer("cus_2"))
        acme.record(
            DomainEvent(aggregate_id="cus_1", occurred_at=NOW, event_id=registered.event_id)
        )
        with pytest.raises(StorageError, match="write the outbox") as info:
            uow.commit()
        assert info.value.details["operation"] == "write the outbox"
        assert len(acme.pending_events) == 2  # kept for a retry
    assert _ids(store, Query()) == ["cus_1"]
    assert _name(store, "cus_1") == "Acme"
    assert [e.event for e in store.outbox.pending()] == [registered]


def test_after_a_database_error_the_unit_of_work_refuses_until_rolled_back(
    store: SQLAlchemyStore, engine: sa.Engine
) -> None:
    """A failed statement loses the unit's earlier writes, so it refuses to go on half-done."""
    _store_all(store, [_customer("cus_1", tags=["vip"])])
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE crm_customers__tags"))
    with store.unit_of_work() as uow:
        uow.customers.add(_customer("cus_2"))
        acme = uow.customers.get("cus_1")
        acme.rename("Renamed", now=NOW)
        with pytest.raises(StorageError, match="failed to update customers") as info:
            uow.customers.save(acme)
        assert info.value.details["operation"] == "update customers"
        with pytest.raises(StorageError, match="call rollback"):
            uow.customers.get("cus_2")
        with pytest.raises(StorageError, match="call rollback"):
            uow.commit()
        uow.rollback()
        with pytest.raises(NotFoundError):
            uow.customers.get("cus_2")
    assert _name(store, "cus_1") == "Acme"


def _killed_in_commit(url: str) -> None:
    """Child process: write several records, then die (SIGKILL) as COMMIT is sent."""
    engine = sa.create_engine(url)
    store = SQLAlchemyStore(engine, create=False)

    @sa.event.listens_for(engine, "commit")
    def _die(_conn: sa.Connection) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    with store.unit_of_work() as uow:
        for n in range(5):
            uow.customers.add(_customer(f"cus_lost_{n}"))
        kept = uow.customers.get("cus_kept")
        kept.rename("Renamed", now=NOW)
        uow.customers.save(kept)
        uow.commit()


@pytest.mark.parametrize("backend", ["postgres", "mariadb"])
def test_a_process_killed_in_commit_leaves_nothing(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """SIGKILL while committing: the server rolls the whole unit back, outbox included."""
    engine: sa.Engine = request.getfixturevalue(f"{backend}_engine")
    url: str = request.getfixturevalue(f"{backend}_url")
    store = SQLAlchemyStore(engine)
    registered = _store_all(store, [_customer("cus_kept", "Kept")])
    child = multiprocessing.get_context("spawn").Process(target=_killed_in_commit, args=(url,))
    child.start()
    child.join(timeout=300)
    assert child.exitcode == -signal.SIGKILL
    assert _ids(store, Query()) == ["cus_kept"]
    assert _name(store, "cus_kept") == "Kept"
    assert [e.event for e in store.outbox.pending()] == list(registered)


# ----- documents, values and queries ----------------------------------------------------------


def test_an_old_document_is_read_through_the_upcaster(
    store: SQLAlchemyStore, engine: sa.Engine
) -> None:
    """A row written at schema version 1 reads back upcast by a version-2 record type."""
    old = {
        "id": "cus_old",
        "title": "Old Co",  # schema 1 called it "title"
        "kind": "company",
        "created_at": "2020-01-01T00:00:00+00:00",
    }
    with engine.begin() as conn:
        conn.execute(
            sa.insert(metadata.tables["crm_customers"]).values(
                id="cus_old", version=3, schema_version=1, document=store_module.json.dumps(old)
            )
        )

    def rename_title(document: dict[str, Any]) -> dict[str, Any]:
        document = dict(document)
        document["name"] = document.pop("title")
        return document

    v2 = attrs.evolve(CUSTOMERS, schema_version=2, upcasters={1: rename_title})
    upcasting = SQLAlchemyStore(engine, record_types=(v2, *RECORD_TYPES[1:]))
    with upcasting.unit_of_work() as uow:
        old_co = uow.customers.get("cus_old")
        assert (old_co.name, old_co.version) == ("Old Co", 3)
        assert [c.name for c in uow.customers.query(Query()).items] == ["Old Co"]
        old_co.rename("Old Co Ltd", now=NOW)
        uow.customers.save(old_co)
        uow.commit()
    table = metadata.tables["crm_customers"]
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(table.c.schema_version, table.c.name).where(table.c.id == "cus_old")
        ).one()
    assert tuple(row) == (2, "Old Co Ltd")
    with upcasting.unit_of_work() as uow:  # already at version 2: not upcast again
        assert uow.customers.get("cus_old").name == "Old Co Ltd"
    with store.unit_of_work() as uow, pytest.raises(ValidationError, match="upgrade crmkit"):
        uow.customers.get("cus_old")  # the version-1 crmkit cannot read a version-2 document


def test_text_orders_by_code_point_and_compares_exactly(store: SQLAlchemyStore) -> None:
    """Case, accents, CJK and emoji sort as Python sorts them; equality is case-sensitive."""
    names = ["acme", "Acme", "Äcme", "Zed", "大神", "😀 Smile", "Acme-1", "Acme 1", "beta"]
    _store_all(store, [_customer(f"cus_{n}", name) for n, name in enumerate(names)])
    with store.unit_of_work() as uow:
        ordered = [c.name for c in uow.customers.query(Query().order("name")).items]
        assert [c.name for c in uow.customers.query(Query.where(name="acme")).items] == ["acme"]
        emoji = uow.customers.query(Query().filter("name", "startswith", "😀")).items
    assert ordered == sorted(names)
    assert [c.name for c in emoji] == ["😀 Smile"]


def test_datetimes_in_any_zone_sort_by_instant(store: SQLAlchemyStore) -> None:
    """created_at in Taipei, New York and UTC sort and compare chronologically."""
    base = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    times = {
        "cus_ny": base.astimezone(NEW_YORK) + timedelta(minutes=1),
        "cus_tpe": base.astimezone(TAIPEI) - timedelta(minutes=1),
        "cus_utc": base,
        "cus_same": base.astimezone(TAIPEI),  # the same instant as cus_utc
    }
    _store_all(store, [_customer(id, now=t) for id, t in times.items()])
    assert _ids(store, Query().order("created_at")) == ["cus_tpe", "cus_same", "cus_utc", "cus_ny"]
    assert _ids(store, Query().filter("created_at", "eq", base.astimezone(NEW_YORK))) == [
        "cus_same",
        "cus_utc",
    ]
    assert _ids(store, Query().filter("created_at", "gt", base)) == ["cus_ny"]


def test_too_long_or_unstorable_text_is_refused_before_writing(engine: sa.Engine) -> None:
    """Text longer than a column holds, or with a NUL: ValidationError, nothing written."""
    record_types = (*RECORD_TYPES, TICKETS)
    md = make_metadata(record_types, column_kinds=TICKET_KINDS)
    md.drop_all(engine)
    try:
        store = SQLAlchemyStore(engine, record_types=record_types, metadata=md)
        ticket = _tickets()[0]
        with store.unit_of_work() as uow:
            tickets = uow.repository(TICKETS)
            for subject, problem in [("x" * 256, "at most 255"), ("Bro\x00ken", "NUL")]:
                with pytest.raises(ValidationError, match=problem) as info:
                    tickets.add(attrs.evolve(ticket, subject=subject))
                assert info.value.errors[0].path == "subject"
            tickets.add(attrs.evolve(ticket, subject="y" * 255))
            uow.commit()
        with store.unit_of_work() as uow:
            assert [t.subject for t in uow.repository(TICKETS).query(Query()).items] == ["y" * 255]
    finally:
        md.drop_all(engine)


def test_filters_on_the_id(store: SQLAlchemyStore) -> None:
    """``id`` can be filtered like a projected text field (and is the final sort key)."""
    _store_all(store, [_customer(f"cus_{n}") for n in (1, 2, 10)])
    assert _ids(store, Query.where(id="cus_1")) == ["cus_1"]
    assert _ids(store, Query().filter("id", "in", ["cus_2", "cus_9"])) == ["cus_2"]
    assert _ids(store, Query().filter("id", "startswith", "cus_1")) == ["cus_1", "cus_10"]
    assert _ids(store, Query().filter("id", "gt", "cus_10").order("-id")) == ["cus_2"]


def test_multi_valued_fields(store: SQLAlchemyStore) -> None:
    """Tags: contains, set equality, removal on save; sorting by them is refused."""
    _store_all(
        store,
        [
            _customer("cus_1", tags=["vip", "north"]),
            _customer("cus_2", tags=["north"]),
            _customer("cus_3"),
        ],
    )
    assert _ids(store, Query().filter("tags", "eq", ("north", "vip"))) == ["cus_1"]
    assert _ids(store, Query().filter("tags", "eq", ())) == ["cus_3"]
    assert _ids(store, Query().filter("tags", "ne", ("north",))) == ["cus_1", "cus_3"]
    assert _ids(store, Query().filter("tags", "contains", "vip")) == ["cus_1"]
    with store.unit_of_work() as uow:
        first = uow.customers.get("cus_1")
        first.tag(remove=["vip"], now=NOW)
        uow.customers.save(first)
        uow.commit()
    assert _ids(store, Query().filter("tags", "contains", "vip")) == []
    assert _ids(store, Query().filter("tags", "contains", "north")) == ["cus_1", "cus_2"]
    with store.unit_of_work() as uow, pytest.raises(ValidationError, match="several values"):
        uow.customers.query(Query().order("tags"))


def test_comparing_a_field_with_another_type(store: SQLAlchemyStore) -> None:
    """eq/ne/in with another type match nothing/everything; lt etc. are a ValidationError."""
    _store_all(store, [_customer("cus_1"), _customer("cus_2", owner="u_1")])
    assert _ids(store, Query().filter("name", "eq", 5)) == []
    assert _ids(store, Query().filter("owner", "ne", 5)) == ["cus_1", "cus_2"]
    assert _ids(store, Query().filter("owner", "in", [5, None])) == ["cus_1"]
    assert _ids(store, Query().filter("created_at", "lt", None)) == []
    with store.unit_of_work() as uow, pytest.raises(ValidationError, match="cannot compare"):
        uow.customers.query(Query().filter("created_at", "lt", "2026"))
    with store.unit_of_work() as uow, pytest.raises(ValidationError, match="cursor"):
        uow.customers.query(Query().order("name").after("WyJ4Il0"))  # ["x"]: one value short


# ----- your own record types, and the results of every query against memory -------------------


@attrs.define(kw_only=True)
class Ticket(Aggregate):
    """A host's own aggregate with integer, boolean, date, decimal and datetime fields."""

    subject: str | None
    priority: int
    urgent: bool = False
    due: date | None = None
    amount: Decimal = Decimal("0")
    opened_at: datetime


TICKETS: RecordType[Ticket] = RecordType(
    "tickets",
    Ticket,
    {
        "subject": lambda t: t.subject,
        "priority": lambda t: t.priority,
        "urgent": lambda t: t.urgent,
        "due": lambda t: t.due,
        "amount": lambda t: t.amount,
        "opened_at": lambda t: t.opened_at,
    },
)
TICKET_KINDS: dict[tuple[str, str], Any] = {
    ("tickets", "priority"): "integer",
    ("tickets", "urgent"): "boolean",
    ("tickets", "due"): "date",
    ("tickets", "amount"): "decimal",
    ("tickets", "opened_at"): "datetime",
}


def _tickets() -> list[Ticket]:
    subjects = ["Broken", "broken", "Billing", "Bill", "Éclair", "退款", None]
    amounts = [Decimal("0"), Decimal("10.50"), Decimal("10.5"), Decimal("-3.25"), Decimal("1e6")]
    tickets = []
    for n in range(21):
        tickets.append(
            Ticket(
                id=f"tik_{n:02d}",
                subject=subjects[n % 7],
                priority=[3, 1, 2, -5, 10**12][n % 5],
                urgent=n % 3 == 0,
                due=None if n % 4 == 0 else date(2026, 1, 1) + timedelta(days=n % 6),
                amount=amounts[n % 5],
                opened_at=(NOW + timedelta(hours=n % 7)).astimezone([TAIPEI, NEW_YORK][n % 2]),
            )
        )
    return tickets


def _customers() -> list[Customer]:
    names = ["Acme", "Acme Asia", "acme", "Äcme", "Beta", "Zed", "大神", "Acme-Ltd"]
    made = []
    for n in range(24):
        c = _customer(
            f"cus_{n:02d}",
            names[n % len(names)],
            kind=["company", "person"][n % 2],
            owner=[None, "u_1", "u_2", "U_1"][n % 4],
            source=[None, "fair", "Fair"][n % 3],
            tags=[["vip"], [], ["north", "vip"], ["south"]][n % 4],
            now=(NOW + timedelta(days=n % 5)).astimezone([TAIPEI, NEW_YORK, timezone.utc][n % 3]),
        )
        if n % 5 == 0:
            c.change_lifecycle("active", now=NOW)
        made.append(c)
    return made


def _walk(store: Store, record_type: RecordType[Any], query: Query) -> list[str]:
    """Every id the query returns, page by page."""
    with store.unit_of_work() as uow:
        repository = uow.repository(record_type)  # type: ignore[attr-defined]
        page = repository.query(query)
        ids = [a.id for a in page.items]
        while page.next_cursor is not None:
            page = repository.query(query.after(page.next_cursor))
            ids += [a.id for a in page.items]
        return ids


def _queries(
    values: dict[str, list[Any]], comparable: dict[str, list[Any]], sortable: list[str]
) -> st.SearchStrategy[Query]:
    """Queries of up to two filters and two orders over ``values``, in pages of 1 to 7.

    Ordering comparisons (lt, le, gt, ge) use only ``comparable`` values: with another type the
    in-memory adapter raises only if some row reaches the comparison, the SQL one always.
    """

    def one_filter(field: str) -> st.SearchStrategy[tuple[str, Op, Any]]:
        pool = values[field]
        prefixes = sorted({v[:k] for v in pool if isinstance(v, str) for k in (0, 1, 4, len(v))})
        options = [
            st.tuples(st.just(field), st.sampled_from([Op.EQ, Op.NE]), st.sampled_from(pool)),
            st.tuples(st.just(field), st.just(Op.IN), st.lists(st.sampled_from(pool), max_size=3)),
            st.tuples(st.just(field), st.just(Op.STARTSWITH), st.sampled_from(prefixes or ["x"])),
        ]
        if comparable.get(field):
            options.append(
                st.tuples(
                    st.just(field),
                    st.sampled_from([Op.LT, Op.LE, Op.GT, Op.GE]),
                    st.sampled_from(comparable[field]),
                )
            )
        return st.one_of(options)

    def build(filters: list[tuple[str, Op, Any]], orders: list[str], limit: int) -> Query:
        query = Query(limit=limit)
        for field, op, value in filters:
            query = query.filter(field, op, value)
        return query.order(*orders)

    return st.builds(
        build,
        st.lists(st.sampled_from(sorted(values)).flatmap(one_filter), max_size=2),
        st.lists(
            st.sampled_from([*sortable, *(f"-{f}" for f in sortable)]),
            max_size=2,
            unique_by=lambda spec: spec.lstrip("-"),
        ),
        st.integers(1, 7),
    )


def test_queries_match_the_in_memory_adapter(engine: sa.Engine) -> None:
    """Property: any filter/order/page-size walk returns what the in-memory adapter returns."""
    record_types = (*RECORD_TYPES, TICKETS)
    md = make_metadata(record_types, column_kinds=TICKET_KINDS)
    md.drop_all(engine)
    try:
        sql = SQLAlchemyStore(engine, record_types=record_types, metadata=md)
        memory = MemoryStore(record_types=record_types)
        for target in (sql, memory):
            with target.unit_of_work() as uow:
                for c in _customers():
                    uow.customers.add(c)
                for t in _tickets():
                    uow.repository(TICKETS).add(t)
                uow.commit()
        customer_values: dict[str, list[Any]] = {
            "name": ["Acme", "acme", "Acme ", "Zed", "大神", "Nobody", 5, None],
            "owner": [None, "u_1", "U_1", "u_9", 7],
            "kind": ["company", "person", "robot"],
            "source": [None, "fair", "Fair", "f"],
            "created_at": [
                NOW,
                NOW + timedelta(days=2),
                (NOW + timedelta(days=1)).astimezone(TAIPEI),
            ],
            "tags": ["vip", "north", "nowhere"],
        }
        ticket_values: dict[str, list[Any]] = {
            "subject": ["Broken", "broken", "Bill", "Billing", None, "退款"],
            "priority": [3, -5, 10**12, 0, None, True, 10**20, -(10**20)],
            "urgent": [True, False, None],
            "due": [date(2026, 1, 3), date(2026, 1, 1), None],
            "amount": [Decimal("10.5"), Decimal("0"), Decimal("-3.25"), 10, None],
            "opened_at": [NOW + timedelta(hours=3), (NOW + timedelta(hours=2)).astimezone(TAIPEI)],
        }
        customer_comparable: dict[str, list[Any]] = {
            "name": ["Acme", "Zed", "acme", "大神", None],
            "owner": ["u_1", "U_1"],
            "kind": ["person"],
            "source": ["fair", "Fair", None],
            "created_at": customer_values["created_at"],
        }
        ticket_comparable: dict[str, list[Any]] = {
            "subject": ["Broken", "broken", "Bill", None],
            "priority": [3, -5, 0, True, 10**20, -(10**20)],
            "urgent": [True, False],
            "due": [date(2026, 1, 3), None],
            "amount": [Decimal("10.5"), Decimal("-3.25"), 10],
            "opened_at": ticket_values["opened_at"],
        }
        customer_queries = _queries(
            {k: v for k, v in customer_values.items() if k != "tags"},
            customer_comparable,
            ["name", "owner", "kind", "source", "created_at", "lifecycle", "id"],
        )
        ticket_queries = _queries(
            ticket_values,
            ticket_comparable,
            ["subject", "priority", "urgent", "due", "amount", "opened_at"],
        )
        contains = st.sampled_from(customer_values["tags"]).map(
            lambda tag: Query().filter("tags", "contains", tag).order("-name").take(3)
        )

        @settings(deadline=None, max_examples=200)
        @given(
            query=st.one_of(
                customer_queries.map(lambda q: (CUSTOMERS, q)),
                ticket_queries.map(lambda q: (TICKETS, q)),
                contains.map(lambda q: (CUSTOMERS, q)),
            )
        )
        def same_answers(query: tuple[RecordType[Any], Query]) -> None:
            record_type, q = query
            try:
                expected: list[str] | type[ValidationError] = _walk(memory, record_type, q)
            except ValidationError:
                expected = ValidationError
            if expected is ValidationError:
                with pytest.raises(ValidationError):
                    _walk(sql, record_type, q)
            else:
                assert _walk(sql, record_type, q) == expected, q

        same_answers()
    finally:
        md.drop_all(engine)


def test_numbers_beyond_the_columns(sqlite_engine: sa.Engine) -> None:
    """Values a BIGINT or Numeric(38, 10) cannot hold are refused; filters with them still work."""
    record_types = (*RECORD_TYPES, TICKETS)
    md = make_metadata(record_types, column_kinds=TICKET_KINDS)
    store = SQLAlchemyStore(sqlite_engine, record_types=record_types, metadata=md)
    ticket = _tickets()[0]
    with store.unit_of_work() as uow:
        tickets = uow.repository(TICKETS)
        for change, path in [
            ({"priority": 2**63}, "priority"),
            ({"amount": Decimal("0.00000000001")}, "amount"),
            ({"amount": Decimal("1e28")}, "amount"),
        ]:
            with pytest.raises(ValidationError, match="to be stored") as info:
                tickets.add(attrs.evolve(ticket, **change))
            assert info.value.errors[0].path == path
        tickets.add(attrs.evolve(ticket, priority=2**63 - 1, amount=Decimal("1.5000000000000")))
        uow.commit()
    with store.unit_of_work() as uow:
        tickets = uow.repository(TICKETS)

        def ids(query: Query) -> list[str]:
            return [t.id for t in tickets.query(query).items]

        assert ids(Query().filter("priority", "lt", 2**64)) == [ticket.id]
        assert ids(Query().filter("priority", "gt", 2**64)) == []
        assert ids(Query().filter("priority", "eq", 2**64)) == []
        assert ids(Query().filter("priority", "gt", -(2**64))) == [ticket.id]
        assert ids(Query().filter("amount", "eq", Decimal("1.5"))) == [ticket.id]
        with pytest.raises(ValidationError, match="cannot compare field 'priority'"):
            tickets.query(Query().filter("priority", "lt", Decimal("2")))


# ----- the layout version and the public MetaData ---------------------------------------------


def _set_layout(engine: sa.Engine, version: int) -> None:
    schema = metadata.tables["crm_schema"]
    with engine.begin() as conn:
        conn.execute(sa.update(schema).values(version=version))


def test_a_newer_layout_is_refused(engine: sa.Engine) -> None:
    """Tables written by a newer crmkit: StorageError telling you to upgrade crmkit."""
    SQLAlchemyStore(engine)
    _set_layout(engine, SCHEMA_VERSION + 1)
    for create in (True, False):
        with pytest.raises(StorageError, match="upgrade crmkit") as info:
            SQLAlchemyStore(engine, create=create)
        assert info.value.details == {"found": SCHEMA_VERSION + 1, "supported": SCHEMA_VERSION}


def test_an_older_layout_is_migrated_or_refused(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older layout: refused without a migration step, migrated by create_all with one."""
    SQLAlchemyStore(engine)
    _set_layout(engine, SCHEMA_VERSION - 1)
    with pytest.raises(StorageError, match="cannot migrate"):
        SQLAlchemyStore(engine)
    ran: list[int] = []
    monkeypatch.setitem(
        store_module._MIGRATIONS, SCHEMA_VERSION - 1, lambda conn, md: ran.append(1)
    )
    with pytest.raises(StorageError, match=r"migrate them with store\.create_all"):
        SQLAlchemyStore(engine, create=False)
    assert ran == []
    SQLAlchemyStore(engine)
    assert ran == [1]
    with engine.connect() as conn:
        stored = conn.execute(sa.select(metadata.tables["crm_schema"].c.version)).scalar_one()
    assert stored == SCHEMA_VERSION
    SQLAlchemyStore(engine, create=False)  # now current


def test_missing_tables_without_create_say_how_to_make_them(engine: sa.Engine) -> None:
    with pytest.raises(StorageError, match="create_all"):
        SQLAlchemyStore(engine, create=False)


def test_the_host_creates_the_tables_from_the_public_metadata(engine: sa.Engine) -> None:
    """A host's own create_all (or Alembic) with crmkit's public MetaData beside its own."""
    host = sa.MetaData()
    sa.Table("host_orders", host, sa.Column("id", sa.Integer, primary_key=True))
    try:
        host.create_all(engine)
        metadata.create_all(engine)
        names = set(sa.inspect(engine).get_table_names())
        assert set(metadata.tables) | {"host_orders"} <= names
        store = SQLAlchemyStore(engine, create=False)  # records the layout version
        _store_all(store, [_customer("cus_1", tags=["vip"])])
        assert _ids(store, Query().filter("tags", "contains", "vip")) == ["cus_1"]
        assert [type(e.event) for e in store.outbox.pending()] == [CustomerRegistered]
        with engine.connect() as conn:
            layout = conn.execute(sa.select(metadata.tables["crm_schema"].c.version)).scalar_one()
        assert layout == SCHEMA_VERSION
    finally:
        host.drop_all(engine)


def test_a_mariadb_url_gets_the_same_tables(mariadb_url: str, mariadb_engine: sa.Engine) -> None:
    """``mariadb+pymysql://`` (SQLAlchemy's mariadb dialect) lays out the same tables."""
    engine = sa.create_engine(sa.make_url(mariadb_url).set(drivername="mariadb+pymysql"))
    try:
        store = SQLAlchemyStore(engine)
        _store_all(store, [_customer("cus_1", "😀 Émoji", tags=["ü"]), _customer("cus_2", "acme")])
        assert _ids(store, Query().order("name")) == ["cus_2", "cus_1"]
        with engine.connect() as conn:
            collation = conn.execute(
                sa.text(
                    "SELECT table_collation FROM information_schema.tables "
                    "WHERE table_schema = DATABASE() AND table_name = 'crm_customers'"
                )
            ).scalar_one()
        assert collation == "utf8mb4_bin"
    finally:
        engine.dispose()


def test_create_is_idempotent_and_keeps_records(engine: sa.Engine) -> None:
    store = SQLAlchemyStore(engine)
    _store_all(store, [_customer("cus_1")])
    store.create_all()
    assert _ids(SQLAlchemyStore(engine), Query()) == ["cus_1"]


def test_constructor_arguments_are_checked(sqlite_engine: sa.Engine) -> None:
    with pytest.raises(ValidationError, match="record_types"):
        SQLAlchemyStore(sqlite_engine, record_types=(CUSTOMERS,))
    with pytest.raises(ValidationError, match="crm_tickets"):
        SQLAlchemyStore(sqlite_engine, record_types=(*RECORD_TYPES, TICKETS), metadata=metadata)
    with pytest.raises(ValidationError, match=r"must be a sqlalchemy\.MetaData"):
        SQLAlchemyStore(sqlite_engine, metadata={})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="cannot name a column"):
        make_metadata([RecordType("bad", Customer, {"version": lambda c: 1})])


def test_a_projected_value_of_an_undeclared_type_says_how_to_declare_it(
    sqlite_engine: sa.Engine,
) -> None:
    """A host field not declared in column_kinds is text; an int there names the fix."""
    record_types = (*RECORD_TYPES, TICKETS)
    store = SQLAlchemyStore(sqlite_engine, record_types=record_types)
    ticket = _tickets()[1]
    with store.unit_of_work() as uow, pytest.raises(ValidationError, match="column_kinds"):
        uow.repository(TICKETS).add(ticket)
