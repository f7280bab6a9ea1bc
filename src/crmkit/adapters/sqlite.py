"""The embedded default store, on the standard library's ``sqlite3``: no extra dependency.

Each aggregate is one row: its JSON document (made by crmkit's cattrs converter), its version, the
document's schema version, and the record type's projected fields as indexed columns for queries.
Writes are versioned (``UPDATE ... WHERE id = ? AND version = ?``), so two processes cannot
silently overwrite each other, and the outbox is written in the same transaction.

Transactions: reads run in autocommit mode; the first write of a unit of work opens
``BEGIN IMMEDIATE`` (which waits up to ``busy_timeout`` for the write lock instead of failing the
way a deferred transaction's upgrade does), and ``commit()`` commits it. Files use WAL so readers
never wait for the writer. Each thread gets its own connection; ``":memory:"`` has one
connection that units of work take turns on.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.customers import Customer
    >>> store = SQLiteStore(":memory:")
    >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> with store.unit_of_work() as uow:
    ...     uow.customers.add(Customer.register(id="cus_1", name="Acme", kind="company", now=now))
    ...     [e.event_type for e in uow.commit()]
    ['customers.CustomerRegistered']
    >>> with store.unit_of_work() as uow:
    ...     uow.customers.get("cus_1").version
    1

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from crmkit.access.audit import AuditEntry
from crmkit.adapters._shared import (
    RECORD_TYPES,
    check_aggregate,
    check_events,
    check_ids,
    check_new,
    check_record_types,
    check_stored,
    duplicate,
    from_document,
    not_found,
    pick_repository,
    stored_aggregate,
    stored_document,
    to_document,
)
from crmkit.customers import Contact, Customer, Interaction
from crmkit.customers import Order as PurchaseOrder
from crmkit.customers.dedup import DuplicateReview, MergeRecord
from crmkit.errors import (
    ConcurrencyError,
    CRMError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.query import Op, Order, Page, Query, RecordType, Scalar, encode_cursor
from crmkit.kernel.query import decode_cursor as _decode_cursor
from crmkit.leads import Lead
from crmkit.loyalty import LoyaltyProgram, Membership, Referral
from crmkit.notifications.delivery import Delivery
from crmkit.pipeline import Opportunity, Pipeline
from crmkit.ports import OutboxEntry, Repository, StoredRecord
from crmkit.pricing import Coupon, DiscountRuleSet, PriceBook, Product, Quote
from crmkit.serialization import dumps, structure, to_json
from crmkit.service import Complaint, StoredCalendar, StoredSlaPolicySet
from crmkit.service.maintenance import MaintenanceContract, WorkOrder

if TYPE_CHECKING:
    from crmkit.adapters.cipher import EncryptedFields
    from crmkit.adapters.sqlite_analytics import SQLiteAnalytics

__all__ = ["SQLiteOutbox", "SQLiteRepository", "SQLiteStore", "SQLiteUnitOfWork"]

A = TypeVar("A", bound=Aggregate)

_TAGS_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

#: The version of crmkit's SQLite table layout (not of the documents inside).
SCHEMA_VERSION = 1

_OUTBOX_INSERT = (
    "INSERT INTO crm_outbox (event_id, event_type, aggregate_id, payload) VALUES (?, ?, ?, ?)"
)


@contextmanager
def _storage_errors(what: str) -> Iterator[None]:
    """Translate sqlite3 errors into crmkit's ``StorageError`` with the operation named."""
    try:
        yield
    except sqlite3.Error as exc:
        hint = ""
        if "locked" in str(exc) or "busy" in str(exc):
            hint = "; another writer held the database longer than busy_timeout"
        raise StorageError(
            f"SQLite failed to {what}: {exc}{hint}", details={"sqlite_error": str(exc)}
        ) from exc


def _column(value: Scalar) -> Any:
    """Turn a projected value into what is stored in (and compared against) its column."""
    if value is None or type(value) is str or type(value) is int:
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        # UTC with fixed width sorts chronologically as text.
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return _TAGS_ENCODER.encode(value)
    return value


def _quote(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValidationError(f"{name!r} is not a usable column name", path="field")
    return f'"{name}"'


class _Table(Generic[A]):
    """SQL for one record type."""

    def __init__(
        self, record_type: RecordType[A], encryption: EncryptedFields | None = None
    ) -> None:
        self.record_type = record_type
        self.encryption = encryption
        self.name = _quote(f"crm_{record_type.name}")
        self.fields = list(record_type.fields)
        self.getters = list(record_type.fields.values())
        if encryption is not None:  # personal data in projected columns -> blind indexes
            self.getters = [
                _blind_getter(encryption, record_type.name, f, get)
                if encryption.is_blind(record_type.name, f)
                else get
                for f, get in record_type.fields.items()
            ]
        cols = "".join(f", {_quote(f)}" for f in self.fields)
        marks = ", ".join("?" for _ in range(4 + len(self.fields)))
        sets = "".join(f", {_quote(f)} = ?" for f in self.fields)
        self.insert_sql = (
            f"INSERT INTO {self.name} (id, version, schema_version, document{cols}) "
            f"VALUES ({marks})"
        )
        self.update_sql = (
            f"UPDATE {self.name} SET version = version + 1, schema_version = ?, "
            f"document = ?{sets} WHERE id = ? AND version = ?"
        )

    def ddl(self) -> list[str]:
        cols = "".join(f", {_quote(f)}" for f in self.fields)
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self.name} (id TEXT PRIMARY KEY, "
            "version INTEGER NOT NULL, schema_version INTEGER NOT NULL, "
            f"document TEXT NOT NULL{cols})"
        ]
        for f in self.fields:
            index = _quote(f"ix_crm_{self.record_type.name}_{f}")
            statements.append(f"CREATE INDEX IF NOT EXISTS {index} ON {self.name} ({_quote(f)})")
        return statements

    def row(self, aggregate: A) -> list[Any]:
        return [_column(get(aggregate)) for get in self.getters]

    def seal(self, id: str, document: dict[str, Any]) -> dict[str, Any]:
        """The document as stored: its personal data encrypted when encryption is on."""
        if self.encryption is None:
            return document
        return self.encryption.seal(self.record_type.name, id, document)

    def open(self, document: dict[str, Any]) -> dict[str, Any]:
        """The stored document, decrypted when encryption is on."""
        if self.encryption is None:
            return document
        return self.encryption.open(self.record_type.name, str(document.get("id")), document)


def _blind_getter(
    encryption: EncryptedFields, name: str, field: str, get: Callable[[Any], Scalar]
) -> Callable[[Any], Scalar]:
    def blind(aggregate: Any) -> Scalar:
        value: Scalar = encryption.project(name, field, get(aggregate))
        return value

    return blind


class SQLiteRepository(Generic[A]):
    """A repository over one table; implements :class:`crmkit.ports.Repository`.

    Example:
        >>> store = SQLiteStore()
        >>> with store.unit_of_work() as uow:
        ...     uow.customers.get("cus_404")
        Traceback (most recent call last):
        ...
        crmkit.errors.NotFoundError: no customers record with id 'cus_404'

    .. versionadded:: 0.1.0
    """

    def __init__(self, uow: SQLiteUnitOfWork, table: _Table[A]) -> None:
        self._uow = uow
        self._table = table
        self._kind = table.record_type.name

    @property
    def record_type(self) -> RecordType[A]:
        """The record type this repository stores."""
        return self._table.record_type

    # ----- reads ---------------------------------------------------------------------------
    def _load(self, row: sqlite3.Row | tuple[Any, ...]) -> A:
        doc_text, version, schema_version = row[0], row[1], row[2]
        return from_document(
            self._table.record_type,
            self._table.open(json.loads(doc_text)),
            int(version),
            int(schema_version),
            owned=True,
        )

    def get(self, id: str) -> A:
        """Return a fresh copy of the aggregate with ``id``; ``NotFoundError`` if there is none."""
        sql = f"SELECT document, version, schema_version FROM {self._table.name} WHERE id = ?"
        with _storage_errors(f"read {self._kind}"):
            row = self._uow._conn().execute(sql, (id,)).fetchone()
        if row is None:
            raise not_found(self._kind, [id])
        return self._load(row)

    def get_many(self, ids: Iterable[str]) -> list[A]:
        """Return fresh copies in the order asked; ``NotFoundError`` lists every missing id."""
        wanted = check_ids(ids)
        found: dict[str, A] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            sql = (
                f"SELECT document, version, schema_version, id FROM {self._table.name} "
                f"WHERE id IN ({marks})"
            )
            with _storage_errors(f"read {self._kind}"):
                for row in self._uow._conn().execute(sql, chunk):
                    found[row[3]] = self._load(row)
        missing = [i for i in wanted if i not in found]
        if missing:
            raise not_found(self._kind, missing)
        return [found[i] for i in wanted]

    def query(self, query: Query) -> Page[A]:
        """Return one page of aggregates matching ``query``, filtered and sorted in SQL."""
        rt = self._table.record_type
        rt.check_query(query)
        if self._table.encryption is not None:
            query = self._table.encryption.query(rt.name, query)
        where: list[str] = []
        params: list[Any] = []
        for flt in query.filters:
            clause, values = _filter_sql(flt.field, flt.op, flt.value)
            where.append(clause)
            params.extend(values)
        orders = [*query.order_by, Order("id")]
        if query.cursor is not None:
            after = _decode_cursor(query.cursor)
            if len(after) != len(orders):
                raise ValidationError("is not a cursor this query returned", path="cursor")
            clause, values = _after_sql(orders, after)
            where.append(clause)
            params.extend(values)
        sql = f"SELECT document, version, schema_version FROM {self._table.name}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY " + ", ".join(
            f"{_quote(o.field)} {'DESC' if o.descending else 'ASC'}" for o in orders
        )
        sql += " LIMIT ?"
        params.append(query.limit + 1)
        with _storage_errors(f"query {self._kind}"):
            rows = self._uow._conn().execute(sql, params).fetchall()
        items = [self._load(r) for r in rows[: query.limit]]
        cursor = None
        if len(rows) > query.limit and items:
            last = items[-1]
            projected = rt.project(last)
            cursor = encode_cursor(
                [last.id if o.field == "id" else projected[o.field] for o in orders]
            )
        return Page(items=tuple(items), next_cursor=cursor)

    # ----- writes --------------------------------------------------------------------------
    def _check_type(self, aggregate: object) -> A:
        return check_aggregate(self._table.record_type, aggregate)

    def add(self, aggregate: A) -> None:
        """Insert a new aggregate at version 1; ``DuplicateError`` if the id exists."""
        agg = self._check_type(aggregate)
        if agg.version != 0:
            raise ValidationError(
                f"a new {self._kind} record must have version 0, got {agg.version}; "
                "use save() for stored records",
                path="version",
            )
        document = dumps(self._table.seal(agg.id, to_document(self._table.record_type, agg)))
        sql = self._table.insert_sql
        conn = self._uow._begin()
        with _storage_errors(f"insert into {self._kind}"):
            try:
                conn.execute(
                    sql,
                    (
                        agg.id,
                        1,
                        self._table.record_type.schema_version,
                        document,
                        *self._table.row(agg),
                    ),
                )
            except sqlite3.IntegrityError:
                raise duplicate(self._kind, agg.id) from None
        agg.version = 1
        self._uow._track(agg)

    def add_many(self, aggregates: Iterable[A]) -> None:
        """Insert many new aggregates in one batch: all of them, or none (``DuplicateError``).

        The fast path for imports: one ``executemany`` inside a savepoint.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.customers import Customer
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> store = SQLiteStore()
            >>> with store.unit_of_work() as uow:
            ...     uow.customers.add_many(
            ...         Customer(id=f"cus_{i}", name="A", kind="person", created_at=now)
            ...         for i in range(3))
            ...     _ = uow.commit()
            >>> with store.unit_of_work() as uow:
            ...     [c.version for c in uow.customers.get_many(["cus_0", "cus_2"])]
            [1, 1]
        """
        table = self._table
        batch = check_new(table.record_type, aggregates)
        schema = table.record_type.schema_version
        rows = [
            (
                agg.id,
                1,
                schema,
                dumps(table.seal(agg.id, to_document(table.record_type, agg))),
                *table.row(agg),
            )
            for agg in batch
        ]
        conn = self._uow._begin()
        with _storage_errors(f"insert into {self._kind}"):
            conn.execute("SAVEPOINT crm_add_many")
            try:
                conn.executemany(table.insert_sql, rows)
            except sqlite3.IntegrityError:
                conn.execute("ROLLBACK TO crm_add_many")
                conn.execute("RELEASE crm_add_many")
                raise self._duplicates(conn, [agg.id for agg in batch]) from None
            except BaseException:
                conn.execute("ROLLBACK TO crm_add_many")
                conn.execute("RELEASE crm_add_many")
                raise
            conn.execute("RELEASE crm_add_many")
        for agg in batch:
            agg.version = 1
            self._uow._track(agg)

    def _duplicates(self, conn: sqlite3.Connection, ids: list[str]) -> CRMError:
        return _duplicates(conn, self._table, ids)

    def save(self, aggregate: A) -> None:
        """Update a stored aggregate if its version is current, bumping it by one."""
        agg = self._check_type(aggregate)
        document = dumps(self._table.seal(agg.id, to_document(self._table.record_type, agg)))
        sql = self._table.update_sql
        conn = self._uow._begin()
        with _storage_errors(f"update {self._kind}"):
            cur = conn.execute(
                sql,
                (
                    self._table.record_type.schema_version,
                    document,
                    *self._table.row(agg),
                    agg.id,
                    agg.version,
                ),
            )
        if cur.rowcount != 1:
            raise self._stale(conn, agg)
        agg.version += 1
        self._uow._track(agg)

    def remove(self, aggregate: A) -> None:
        """Delete a stored aggregate if its version is current."""
        agg = self._check_type(aggregate)
        conn = self._uow._begin()
        with _storage_errors(f"delete from {self._kind}"):
            cur = conn.execute(
                f"DELETE FROM {self._table.name} WHERE id = ? AND version = ?",
                (agg.id, agg.version),
            )
        if cur.rowcount != 1:
            raise self._stale(conn, agg)
        self._uow._track(agg)

    def _stale(self, conn: sqlite3.Connection, agg: A) -> ConcurrencyError | NotFoundError:
        with _storage_errors(f"read {self._kind}"):
            row = conn.execute(
                f"SELECT version FROM {self._table.name} WHERE id = ?", (agg.id,)
            ).fetchone()
        if row is None and agg.version == 0:
            return not_found(self._kind, [agg.id])
        return ConcurrencyError.stale(
            self._kind, agg.id, expected=agg.version, actual=None if row is None else row[0]
        )


def _duplicates(conn: sqlite3.Connection, table: _Table[Any], ids: list[str]) -> CRMError:
    """The error for a batch insert SQLite refused: the first id stored already, if any."""
    kind = table.record_type.name
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        row = conn.execute(
            f"SELECT id FROM {table.name} WHERE id IN ({marks}) LIMIT 1", chunk
        ).fetchone()
        if row is not None:
            return duplicate(kind, row[0])
    return StorageError(f"SQLite refused the batch for {kind} (a constraint failed)")


def _filter_sql(field: str, op: Op, value: Any) -> tuple[str, list[Any]]:
    col = _quote(field)
    if op is Op.EQ:
        return f"{col} IS ?", [_column(value)]
    if op is Op.NE:
        return f"{col} IS NOT ?", [_column(value)]
    if op is Op.IN:
        values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        if not values:
            return "0", []
        return f"{col} IN ({', '.join('?' for _ in values)})", [_column(v) for v in values]
    if op is Op.CONTAINS:
        return f"EXISTS (SELECT 1 FROM json_each({col}) WHERE value = ?)", [_column(value)]
    if op is Op.STARTSWITH:
        return f"substr({col}, 1, ?) = ?", [len(str(value)), str(value)]
    sql_op = {Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}[op]
    if value is None:
        return "0", []
    return f"({col} IS NOT NULL AND {col} {sql_op} ?)", [_column(value)]


def _after_sql(orders: Sequence[Order], after: Sequence[Scalar]) -> tuple[str, list[Any]]:
    """Keyset condition: rows strictly after ``after`` in the order (None sorts first)."""
    alternatives: list[str] = []
    params: list[Any] = []
    for i, order in enumerate(orders):
        parts: list[str] = []
        for prev, mark in zip(orders[:i], after[:i], strict=True):
            parts.append(f"{_quote(prev.field)} IS ?")
            params.append(_column(mark))
        col, mark = _quote(order.field), after[i]
        if not order.descending:
            if mark is None:
                parts.append(f"{col} IS NOT NULL")
            else:
                parts.append(f"({col} IS NOT NULL AND {col} > ?)")
                params.append(_column(mark))
        elif mark is None:
            parts.append("0")
        else:
            parts.append(f"({col} IS NULL OR {col} < ?)")
            params.append(_column(mark))
        alternatives.append("(" + " AND ".join(parts) + ")")
    return "(" + " OR ".join(alternatives) + ")", params


class SQLiteUnitOfWork:
    """One SQLite transaction; implements :class:`crmkit.ports.UnitOfWork`.

    Example:
        >>> store = SQLiteStore()
        >>> with store.unit_of_work() as uow:
        ...     uow.commit()
        ()

    .. versionadded:: 0.1.0
    """

    customers: Repository[Customer]
    contacts: Repository[Contact]
    interactions: Repository[Interaction]
    duplicate_reviews: Repository[DuplicateReview]
    customer_merges: Repository[MergeRecord]
    orders: Repository[PurchaseOrder]
    deliveries: Repository[Delivery]
    leads: Repository[Lead]
    pipelines: Repository[Pipeline]
    opportunities: Repository[Opportunity]
    products: Repository[Product]
    price_books: Repository[PriceBook]
    discount_rule_sets: Repository[DiscountRuleSet]
    coupons: Repository[Coupon]
    quotes: Repository[Quote]
    complaints: Repository[Complaint]
    business_calendars: Repository[StoredCalendar]
    sla_policy_sets: Repository[StoredSlaPolicySet]
    maintenance_contracts: Repository[MaintenanceContract]
    work_orders: Repository[WorkOrder]
    loyalty_programs: Repository[LoyaltyProgram]
    memberships: Repository[Membership]
    referrals: Repository[Referral]
    audit_entries: Repository[AuditEntry]

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store
        self._connection: sqlite3.Connection | None = None
        self._in_transaction = False
        self._tracked: dict[int, Aggregate] = {}  # by object identity, in first-touch order
        self._holding_memory_lock = False
        self._repositories: dict[str, SQLiteRepository[Any]] = {
            name: SQLiteRepository(self, table) for name, table in store._tables.items()
        }
        for name, repository in self._repositories.items():
            setattr(self, name, repository)

    def repository(self, record_type: RecordType[A]) -> SQLiteRepository[A]:
        """Return the repository for ``record_type`` (for record types beyond crmkit's own).

        Example:
            >>> from crmkit.customers import CONTACTS
            >>> uow = SQLiteStore().unit_of_work()
            >>> uow.repository(CONTACTS) is uow.contacts
            True
        """
        return pick_repository(self._repositories, record_type)

    def __enter__(self) -> SQLiteUnitOfWork:
        self._conn()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self._release()

    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            if self._store._memory_lock is not None:
                self._store._memory_lock.acquire()
                self._holding_memory_lock = True
            self._connection = self._store._connection()
        return self._connection

    def _release(self) -> None:
        self._connection = None
        if self._holding_memory_lock and self._store._memory_lock is not None:
            self._holding_memory_lock = False
            self._store._memory_lock.release()

    def _begin(self) -> sqlite3.Connection:
        conn = self._conn()
        if not self._in_transaction:
            with _storage_errors("begin a write transaction"):
                conn.execute("BEGIN IMMEDIATE")
            self._in_transaction = True
        return conn

    def _track(self, aggregate: Aggregate) -> None:
        self._tracked.setdefault(id(aggregate), aggregate)

    def commit(self) -> tuple[DomainEvent, ...]:
        """Write the outbox rows and commit; return the events committed, in order."""
        events = [e for agg in self._tracked.values() for e in agg.pending_events]
        if not self._in_transaction:
            if events:  # pragma: no cover - tracked aggregates always opened a transaction
                self._begin()
            else:
                return ()
        conn = self._conn()
        try:
            with _storage_errors("write the outbox"):
                conn.executemany(
                    _OUTBOX_INSERT,
                    [
                        (e.event_id, e.event_type, e.aggregate_id, self._store._payload(e))
                        for e in events
                    ],
                )
            with _storage_errors("commit"):
                conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise
        self._in_transaction = False
        for agg in self._tracked.values():
            agg.pull_events()
        self._tracked.clear()
        return tuple(events)

    def outbox_entries(self) -> list[OutboxEntry]:
        """Every outbox entry, delivered or not, oldest first (as this transaction sees it).

        Example:
            >>> with SQLiteStore().unit_of_work() as uow:
            ...     uow.outbox_entries()
            []
        """
        with _storage_errors("read the outbox"):
            rows = (
                self._conn()
                .execute("SELECT position, payload FROM crm_outbox ORDER BY position")
                .fetchall()
            )
        return [
            OutboxEntry(position=int(p), event=self._store._event(payload)) for p, payload in rows
        ]

    def redact_outbox(self, scrub: Callable[[DomainEvent], DomainEvent | None]) -> list[int]:
        """Rewrite outbox entries, delivered ones too, in this transaction (for privacy requests).

        ``scrub`` gets each entry's event and returns the event to keep instead, or ``None``
        to keep it as it is. Returns the positions rewritten; ``commit()`` makes it durable.

        Example:
            >>> with SQLiteStore().unit_of_work() as uow:
            ...     uow.redact_outbox(lambda event: None)
            []
        """
        changed: list[int] = []
        for entry in self.outbox_entries():
            event = scrub(entry.event)
            if event is None or event == entry.event:
                continue
            conn = self._begin()
            with _storage_errors("rewrite the outbox"):
                conn.execute(
                    "UPDATE crm_outbox SET payload = ? WHERE position = ?",
                    (self._store._payload(event), entry.position),
                )
            changed.append(entry.position)
        return changed

    def rollback(self) -> None:
        """Discard every change since the transaction began."""
        if self._in_transaction and self._connection is not None:
            self._in_transaction = False
            with _storage_errors("roll back"):
                self._connection.execute("ROLLBACK")
        self._tracked.clear()


class SQLiteOutbox:
    """The outbox table: committed events in commit order until marked delivered.

    Example:
        >>> SQLiteStore().outbox.pending()
        []

    .. versionadded:: 0.1.0
    """

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    def pending(self, limit: int = 100) -> list[OutboxEntry]:
        """Return up to ``limit`` undelivered events, oldest first."""
        with self._store._session() as conn, _storage_errors("read the outbox"):
            rows = conn.execute(
                "SELECT position, payload FROM crm_outbox WHERE delivered_at IS NULL "
                "ORDER BY position LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            OutboxEntry(position=int(p), event=self._store._event(payload)) for p, payload in rows
        ]

    def mark_delivered(self, positions: Iterable[int]) -> None:
        """Mark entries delivered; marking twice is harmless, unknown positions are refused."""
        wanted = sorted(set(positions))
        if not wanted:
            return
        with self._store._session() as conn, _storage_errors("update the outbox"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                marks = ", ".join("?" for _ in wanted)
                known = {
                    r[0]
                    for r in conn.execute(
                        f"SELECT position FROM crm_outbox WHERE position IN ({marks})", wanted
                    )
                }
                unknown = [p for p in wanted if p not in known]
                if unknown:
                    raise ValidationError(
                        f"no outbox entries at positions {unknown}", path="positions"
                    )
                conn.execute(
                    "UPDATE crm_outbox SET delivered_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
                    f"WHERE delivered_at IS NULL AND position IN ({marks})",
                    wanted,
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise


class SQLiteStore:
    """crmkit's embedded default store: a SQLite file (or ``":memory:"``).

    Args:
        path: a file path, or ``":memory:"`` for a private in-memory database.
        record_types: the aggregates to store (crmkit's own by default).
        connect: a factory returning a new ``sqlite3.Connection``, for hosts that manage
            connections themselves; it is called once per thread.
        busy_timeout: seconds a writer waits for another writer's lock.
        encryption: encrypt personal data in the stored documents and keep blind indexes in
            the projected columns (:class:`crmkit.adapters.cipher.EncryptedFields`).

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "crm.sqlite3"
        >>> SQLiteStore(path).journal_mode
        'wal'

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        record_types: Sequence[RecordType[Any]] = RECORD_TYPES,
        connect: Callable[[], sqlite3.Connection] | None = None,
        busy_timeout: float = 10.0,
        encryption: EncryptedFields | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self._busy_ms = int(busy_timeout * 1000)
        self._connect = connect
        self.encryption = encryption
        self._tables: dict[str, _Table[Any]] = {
            name: _Table(rt, encryption) for name, rt in check_record_types(record_types).items()
        }
        self._local = threading.local()
        self._memory = self.path == ":memory:" and connect is None
        self._memory_lock: threading.RLock | None = threading.RLock() if self._memory else None
        self._shared: sqlite3.Connection | None = None
        self.journal_mode = ""
        with self._session() as conn:
            self._create_schema(conn)

    # ----- outbox payloads (encrypted whole when encryption is on) --------------------------
    def _payload(self, event: DomainEvent) -> str:
        text = to_json(event)
        return text if self.encryption is None else self.encryption.seal_text("outbox", text)

    def _event(self, payload: str) -> DomainEvent:
        if self.encryption is not None:
            payload = self.encryption.open_text("outbox", payload)
        event: DomainEvent = structure(json.loads(payload), DomainEvent)
        return event

    # ----- connections ---------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        with _storage_errors(f"open {self.path}"):
            if self._connect is not None:
                conn = self._connect()
                conn.isolation_level = None
            else:
                conn = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=not self._memory
                )
            conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            conn.execute("PRAGMA foreign_keys = ON")
            if not self._memory:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                self.journal_mode = str(mode).lower()
        return conn

    def _connection(self) -> sqlite3.Connection:
        if self._memory:
            if self._shared is None:
                self._shared = self._open()
            return self._shared
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    @contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        if self._memory_lock is None:
            yield self._connection()
            return
        with self._memory_lock:
            yield self._connection()

    def _create_schema(self, conn: sqlite3.Connection) -> None:
        with _storage_errors("create crmkit's tables"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS crm_schema "
                    "(component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
                )
                row = conn.execute(
                    "SELECT version FROM crm_schema WHERE component = 'sqlite'"
                ).fetchone()
                if row is not None and int(row[0]) > SCHEMA_VERSION:
                    raise StorageError(
                        f"{self.path} was written by a newer crmkit (table layout "
                        f"{row[0]}, this crmkit knows {SCHEMA_VERSION}); upgrade crmkit",
                        details={"found": int(row[0]), "supported": SCHEMA_VERSION},
                    )
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS crm_outbox (position INTEGER PRIMARY KEY "
                    "AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, event_type TEXT NOT NULL, "
                    "aggregate_id TEXT NOT NULL, payload TEXT NOT NULL, delivered_at TEXT)"
                )
                conn.execute(
                    "CREATE INDEX IF NOT EXISTS ix_crm_outbox_pending "
                    "ON crm_outbox (delivered_at, position)"
                )
                for table in self._tables.values():
                    for statement in table.ddl():
                        conn.execute(statement)
                conn.execute(
                    "INSERT OR REPLACE INTO crm_schema (component, version) VALUES ('sqlite', ?)",
                    (SCHEMA_VERSION,),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def load_records(
        self, records: Iterable[StoredRecord], events: Iterable[DomainEvent] = ()
    ) -> None:
        """Bulk-load records as they are, versions included, and events into the outbox.

        For restores and imports: one transaction, all of it or nothing. An id stored already
        (or twice in the batch) is a ``DuplicateError``. Each record's projected columns come
        from its ``aggregate`` (built from the document when not given).

        Example:
            >>> from crmkit.ports import StoredRecord
            >>> store = SQLiteStore()
            >>> doc = {"id": "cus_1", "name": "Acme", "kind": "company",
            ...        "created_at": "2026-01-05T00:00:00+00:00"}
            >>> store.load_records([StoredRecord("customers", "cus_1", 7, 1, doc)])
            >>> with store.unit_of_work() as uow:
            ...     uow.customers.get("cus_1").version
            7
        """
        by_name = {name: table.record_type for name, table in self._tables.items()}
        groups = check_stored(by_name, records)
        pending = check_events(events)
        prepared: list[tuple[_Table[Any], list[tuple[Any, ...]], list[str]]] = []
        for rt, batch in groups:
            table = self._tables[rt.name]
            rows = [
                (
                    r.id,
                    r.version,
                    rt.schema_version,
                    dumps(table.seal(r.id, stored_document(rt, r))),
                    *table.row(stored_aggregate(rt, r)),
                )
                for r in batch
            ]
            prepared.append((table, rows, [r.id for r in batch]))
        outbox = [(e.event_id, e.event_type, e.aggregate_id, self._payload(e)) for e in pending]
        with self._session() as conn, _storage_errors("load records"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                for table, rows, ids in prepared:
                    try:
                        conn.executemany(table.insert_sql, rows)
                    except sqlite3.IntegrityError:
                        raise _duplicates(conn, table, ids) from None
                conn.executemany(_OUTBOX_INSERT, outbox)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # ----- the Store port -------------------------------------------------------------------
    def unit_of_work(self) -> SQLiteUnitOfWork:
        """Return a new unit of work (use one per thread, as a context manager)."""
        return SQLiteUnitOfWork(self)

    @property
    def outbox(self) -> SQLiteOutbox:
        """The outbox of committed events."""
        return SQLiteOutbox(self)

    def analytics(self) -> SQLiteAnalytics:
        """Analytics queries computed in SQL (:class:`crmkit.ports.AnalyticsQueries`)."""
        from crmkit.adapters.sqlite_analytics import SQLiteAnalytics

        return SQLiteAnalytics(self)

    def close(self) -> None:
        """Close this thread's connection (and the shared one for ``":memory:"``)."""
        conn = self._shared if self._memory else getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        self._shared = None
        self._local = threading.local()
