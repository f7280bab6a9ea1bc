"""Persistence throughput: crmkit's adapters side by side with their practical limits.

Run: ``python benchmarks/persistence.py [--n 100000] [--repeat 5] [--url postgresql+psycopg://...]``

For each contender it inserts ``n`` customers in one unit of work (one transaction) into a fresh
database file, then reads them all back as objects, and prints rows per second and the ratio to
the limit it is measured against (lower is better; 1.00x is the limit itself):

* crmkit's SQLite adapter vs raw ``sqlite3.executemany`` of the same rows, with JSON documents made
  by a hand-written dict + ``json.dumps`` (reading: one ``SELECT``, ``json.loads`` and a
  hand-written ``Customer(...)`` call, so both sides build the same validated objects);
* crmkit's SQLAlchemy adapter vs plain SQLAlchemy Core (``executemany`` on crmkit's own tables,
  hand-made rows) and vs the SQLAlchemy ORM unit of work (a mapped class, ``add_all`` + commit).

Every contender writes the same projected columns and indexes, and works on an equal heap: each
builds its own ``n`` customers before its clock starts, frees the rows it built for the insert
inside its timing, and keeps every object it reads in one list; each timing starts after a
``gc.collect()``, so no contender pays for garbage another left. Timings are the best of
``--repeat`` runs; nothing here is asserted, the numbers are for reading.
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from crmkit.adapters.sqlalchemy import SQLAlchemyStore, make_metadata
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.customers import Customer
from crmkit.kernel.query import Query

NOW = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
FIELDS = ("name", "name_folded", "kind", "owner", "lifecycle", "source", "created_at")


def customers(n: int) -> list[Customer]:
    return [
        Customer(
            id=f"cus_{i:07d}",
            name=f"Customer {i}",
            kind="company" if i % 3 else "person",
            created_at=NOW,
            tags=["vip", "taipei"] if i % 2 else ["wholesale"],
            source="2023 trade show",
            owner=f"u_{i % 17}",
        )
        for i in range(n)
    ]


def clock() -> float:
    """Start a timing from the same state for every contender: no garbage left from before."""
    gc.collect()
    return time.perf_counter()


def utc_text(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def hand_document(c: Customer) -> dict[str, object]:
    return {
        "id": c.id,
        "name": c.name,
        "kind": c.kind.value,
        "created_at": c.created_at.isoformat(),
        "tags": list(c.tags),
        "source": c.source,
        "owner": c.owner,
        "lifecycle": c.lifecycle.value,
    }


def hand_customer(doc: dict[str, Any], version: int) -> Customer:
    """The practical limit of reading: hand-written construction through the class's own
    validators (what any correct reader must run), without a generic converter."""
    return Customer(
        id=doc["id"],
        version=version,
        name=doc["name"],
        kind=doc["kind"],
        created_at=datetime.fromisoformat(doc["created_at"]),
        tags=doc["tags"],
        source=doc["source"],
        owner=doc["owner"],
        lifecycle=doc["lifecycle"],
    )


def read_all(store: SQLiteStore | SQLAlchemyStore) -> list[Customer]:
    """Every customer, page by page; kept in one list, as the limits keep theirs."""
    loaded: list[Customer] = []
    with store.unit_of_work() as uow:
        query = Query().take(1000)
        while True:
            page = uow.customers.query(query)
            loaded.extend(page.items)
            if page.next_cursor is None:
                return loaded
            query = query.after(page.next_cursor)


def crmkit_sqlite(n: int, path: Path, *, bulk: bool) -> tuple[float, float]:
    rows = customers(n)
    store = SQLiteStore(path)
    start = clock()
    with store.unit_of_work() as uow:
        if bulk:
            uow.customers.add_many(rows)
        else:
            for c in rows:
                uow.customers.add(c)
        uow.commit()
    written = time.perf_counter() - start
    start = clock()
    loaded = read_all(store)
    read = time.perf_counter() - start
    assert len(loaded) == len(rows)
    return written, read


def raw_sqlite(n: int, path: Path) -> tuple[float, float]:
    rows = customers(n)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        "CREATE TABLE crm_customers (id TEXT PRIMARY KEY, version INTEGER NOT NULL, "
        "schema_version INTEGER NOT NULL, document TEXT NOT NULL, name, name_folded, kind, "
        "owner, lifecycle, source, tags, created_at)"
    )
    for field in (*FIELDS, "tags"):
        conn.execute(f"CREATE INDEX ix_{field} ON crm_customers ({field})")
    start = clock()
    values = [
        (
            c.id,
            1,
            1,
            json.dumps(hand_document(c)),
            c.name,
            c.name.casefold(),
            c.kind.value,
            c.owner,
            c.lifecycle.value,
            c.source,
            json.dumps(list(c.tags)),
            utc_text(c.created_at),
        )
        for c in rows
    ]
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO crm_customers VALUES ({', '.join('?' * 12)})", values)
    conn.execute("COMMIT")
    del values  # freed inside the timing, as an adapter frees the rows it built
    written = time.perf_counter() - start
    start = clock()
    docs = [
        hand_customer(json.loads(d), v)
        for d, v in conn.execute("SELECT document, version FROM crm_customers ORDER BY id")
    ]
    assert len(docs) == len(rows)
    read = time.perf_counter() - start
    conn.close()
    return written, read


def crmkit_sqlalchemy(n: int, url: str, *, bulk: bool) -> tuple[float, float]:
    engine = sa.create_engine(url)
    make_metadata().drop_all(engine)
    store = SQLAlchemyStore(engine)
    rows = customers(n)
    start = clock()
    with store.unit_of_work() as uow:
        if bulk:
            uow.customers.add_many(rows)
        else:
            for c in rows:
                uow.customers.add(c)
        uow.commit()
    written = time.perf_counter() - start
    start = clock()
    loaded = read_all(store)
    read = time.perf_counter() - start
    assert len(loaded) == len(rows)
    engine.dispose()
    return written, read


def core(n: int, url: str) -> tuple[float, float]:
    rows = customers(n)
    engine = sa.create_engine(url)
    metadata = make_metadata()
    metadata.drop_all(engine)
    metadata.create_all(engine)
    table, tags = metadata.tables["crm_customers"], metadata.tables["crm_customers__tags"]
    start = clock()
    main = [
        {
            "id": c.id,
            "version": 1,
            "schema_version": 1,
            "document": json.dumps(hand_document(c)),
            "name": c.name,
            "name_folded": c.name.casefold(),
            "kind": c.kind.value,
            "owner": c.owner,
            "lifecycle": c.lifecycle.value,
            "source": c.source,
            "created_at": utc_text(c.created_at),
        }
        for c in rows
    ]
    side = [{"id": c.id, "value": t} for c in rows for t in c.tags]
    with engine.begin() as conn:
        conn.execute(table.insert(), main)
        conn.execute(tags.insert(), side)
    del main, side  # freed inside the timing, as an adapter frees the rows it built
    written = time.perf_counter() - start
    start = clock()
    with engine.connect() as conn:
        query = sa.select(table.c.document, table.c.version).order_by(table.c.id)
        docs = [hand_customer(json.loads(d), v) for d, v in conn.execute(query)]
    assert len(docs) == len(rows)
    read = time.perf_counter() - start
    engine.dispose()
    return written, read


class Base(orm.DeclarativeBase):
    pass


class CustomerRow(Base):
    __tablename__ = "bench_orm_customers"
    id: orm.Mapped[str] = orm.mapped_column(sa.String(64), primary_key=True)
    version: orm.Mapped[int]
    schema_version: orm.Mapped[int]
    document: orm.Mapped[str] = orm.mapped_column(sa.Text)
    name: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    name_folded: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    kind: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    owner: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), index=True)
    lifecycle: orm.Mapped[str] = orm.mapped_column(sa.String(255), index=True)
    source: orm.Mapped[str | None] = orm.mapped_column(sa.String(255), index=True)
    created_at: orm.Mapped[str] = orm.mapped_column(sa.String(32), index=True)
    tags: orm.Mapped[list[TagRow]] = orm.relationship(cascade="all, delete-orphan")


class TagRow(Base):
    __tablename__ = "bench_orm_customer_tags"
    id: orm.Mapped[str] = orm.mapped_column(
        sa.ForeignKey("bench_orm_customers.id"), primary_key=True
    )
    value: orm.Mapped[str] = orm.mapped_column(sa.String(255), primary_key=True, index=True)


def orm_unit_of_work(n: int, url: str) -> tuple[float, float]:
    rows = customers(n)
    engine = sa.create_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    start = clock()
    with orm.Session(engine) as session:
        session.add_all(
            CustomerRow(
                id=c.id,
                version=1,
                schema_version=1,
                document=json.dumps(hand_document(c)),
                name=c.name,
                name_folded=c.name.casefold(),
                kind=c.kind.value,
                owner=c.owner,
                lifecycle=c.lifecycle.value,
                source=c.source,
                created_at=utc_text(c.created_at),
                tags=[TagRow(value=t) for t in c.tags],
            )
            for c in rows
        )
        session.commit()
    written = time.perf_counter() - start
    start = clock()
    with orm.Session(engine) as session:
        loaded = session.scalars(sa.select(CustomerRow)).all()
        docs = [hand_customer(json.loads(r.document), r.version) for r in loaded]
    assert len(docs) == len(rows)
    read = time.perf_counter() - start
    Base.metadata.drop_all(engine)
    engine.dispose()
    return written, read


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="customers per run")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (best kept)")
    parser.add_argument("--url", help="SQLAlchemy URL (default: a SQLite file per run)")
    args = parser.parse_args(argv)
    n = args.n
    work = Path(tempfile.mkdtemp(prefix="crmkit-bench-"))

    def fresh(name: str) -> Callable[[int], Path]:
        return lambda i: work / f"{name}-{i}.sqlite3"

    def url(name: str) -> Callable[[int], str]:
        return (lambda i: args.url) if args.url else (lambda i: f"sqlite:///{work}/{name}-{i}.db")

    sqlite_path, row_path, raw_path = fresh("crmkit"), fresh("rows"), fresh("raw")
    sa_url, sa_row_url, core_url, orm_url = url("sa"), url("sa-rows"), url("core"), url("orm")
    runners: dict[str, Callable[[int], tuple[float, float]]] = {
        "raw sqlite3 executemany + json.dumps": lambda i: raw_sqlite(n, raw_path(i)),
        "crmkit SQLiteStore add_many": lambda i: crmkit_sqlite(n, sqlite_path(i), bulk=True),
        "crmkit SQLiteStore add per row": lambda i: crmkit_sqlite(n, row_path(i), bulk=False),
        "SQLAlchemy Core executemany": lambda i: core(n, core_url(i)),
        "crmkit SQLAlchemyStore add_many": lambda i: crmkit_sqlalchemy(n, sa_url(i), bulk=True),
        "crmkit SQLAlchemyStore add per row": lambda i: crmkit_sqlalchemy(
            n, sa_row_url(i), bulk=False
        ),
        "SQLAlchemy ORM unit of work": lambda i: orm_unit_of_work(n, orm_url(i)),
    }
    # Interleaved rounds: every contender runs once per round, so a slow spell on a shared
    # machine hits all of them alike; the best round of each is kept.
    rounds: dict[str, list[tuple[float, float]]] = {name: [] for name in runners}
    for i in range(args.repeat):
        for name, run in runners.items():
            rounds[name].append(run(i))
    measured = {
        name: (min(r[0] for r in runs), min(r[1] for r in runs)) for name, runs in rounds.items()
    }
    limits = {
        "raw sqlite3 executemany + json.dumps": "raw sqlite3 executemany + json.dumps",
        "crmkit SQLiteStore add_many": "raw sqlite3 executemany + json.dumps",
        "crmkit SQLiteStore add per row": "raw sqlite3 executemany + json.dumps",
        "SQLAlchemy Core executemany": "SQLAlchemy Core executemany",
        "crmkit SQLAlchemyStore add_many": "SQLAlchemy Core executemany",
        "crmkit SQLAlchemyStore add per row": "SQLAlchemy Core executemany",
        "SQLAlchemy ORM unit of work": "SQLAlchemy Core executemany",
    }
    where = args.url.split("@")[-1] if args.url else "SQLite files"
    print(f"{args.n:,} customers, best of {args.repeat}; SQLAlchemy on {where}")
    print(
        f"{'contender':40} {'insert rows/s':>14} {'x limit':>8} {'read rows/s':>12} {'x limit':>8}"
    )
    for name, (written, read) in measured.items():
        lw, lr = measured[limits[name]]
        print(
            f"{name:40} {args.n / written:14,.0f} {written / lw:7.2f}x "
            f"{args.n / read:12,.0f} {read / lr:7.2f}x"
        )
    print("ratios: time / time of the limit (raw sqlite3 for SQLite rows, Core for SQLAlchemy)")


if __name__ == "__main__":
    main()
