"""The SQLAlchemy store, unit of work, repository and outbox (see the package docstring)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect

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
)
from crmkit.adapters.sqlalchemy._query import TableView
from crmkit.adapters.sqlalchemy._tables import (
    COMPONENT,
    DEFAULT_METADATA,
    SCHEMA_VERSION,
    TEXT_LENGTH,
    make_metadata,
    side_table_name,
    stored_value,
    utc_text,
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
from crmkit.kernel.ids import check_id
from crmkit.kernel.query import Order, Page, Query, RecordType, encode_cursor
from crmkit.kernel.time import Clock, SystemClock
from crmkit.leads import Lead
from crmkit.loyalty import LoyaltyProgram, Membership, Referral
from crmkit.notifications.delivery import Delivery
from crmkit.pipeline import Opportunity, Pipeline
from crmkit.ports import OutboxEntry, Repository, StoredRecord
from crmkit.pricing import Coupon, DiscountRuleSet, PriceBook, Product, Quote
from crmkit.serialization import default_converter, dumps, structure, to_json
from crmkit.service import Complaint, StoredCalendar, StoredSlaPolicySet
from crmkit.service.maintenance import MaintenanceContract, WorkOrder

if TYPE_CHECKING:
    from crmkit.adapters.sqlalchemy._analytics import SQLAlchemyAnalytics
    from crmkit.ports import Outbox, Store, UnitOfWork

__all__ = [
    "SQLAlchemyOutbox",
    "SQLAlchemyRepository",
    "SQLAlchemyStore",
    "SQLAlchemyUnitOfWork",
]

A = TypeVar("A", bound=Aggregate)

#: The record types a store must hold because the ``UnitOfWork`` port names their repositories.

#: How many ids or positions go into one ``IN (...)`` list.
_CHUNK = 500

#: Largest value a BIGINT position can hold.
_MAX_POSITION = 2**63 - 1

#: Layout migrations: ``_MIGRATIONS[n]`` brings the tables from layout ``n`` to ``n + 1``.
_MIGRATIONS: dict[int, Callable[[sa.Connection, sa.MetaData], None]] = {}

_NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL", "mariadb": "MariaDB", "sqlite": "SQLite"}


# ----- errors -------------------------------------------------------------------------------


def _database(dialect: Dialect) -> str:
    if getattr(dialect, "is_mariadb", False):
        return "MariaDB"
    return _NAMES.get(dialect.name, dialect.name)


def _is_conflict(orig: object) -> bool:
    """Whether a driver error is a deadlock, serialization failure or lock timeout."""
    if orig is None:
        return False
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in {"40001", "40P01"}:
        return True
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return args[0] in {1205, 1213}  # lock wait timeout, deadlock (MySQL/MariaDB)
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED and their extended codes
    text = str(orig)
    return "database is locked" in text or "database table is locked" in text


def translate(exc: sa_exc.SQLAlchemyError, what: str, dialect: Dialect) -> CRMError:
    """Turn a SQLAlchemy/driver error into ``ConcurrencyError`` or ``StorageError``.

    Deadlocks, serialization failures and lock timeouts (PostgreSQL 40001/40P01, MySQL and
    MariaDB 1213/1205, SQLite "database is locked") become ``ConcurrencyError`` so that retry
    loops written for stale saves handle them too; anything else is a ``StorageError``. The
    message names the database and the operation, never the statement's parameters.
    """
    orig = getattr(exc, "orig", None)
    reason = (str(orig) if orig is not None else str(exc)).strip().splitlines()
    first = reason[0] if reason else type(exc).__name__
    database = _database(dialect)
    details = {"operation": what, "database": database, "driver_error": first}
    if _is_conflict(orig):
        return ConcurrencyError(
            f"{database} could not {what}: the transaction conflicted with a concurrent one "
            f"({first}); it was rolled back, retry the unit of work",
            details=details,
        )
    return StorageError(f"{database} failed to {what}: {first}", details=details)


def _begin_immediate(conn: sa.Connection) -> None:
    """On SQLite (pysqlite), take the write lock now: ``BEGIN IMMEDIATE``.

    pysqlite starts its transaction lazily, at the first INSERT/UPDATE/DELETE, so a unit of work
    that read first would upgrade a read lock later, and SQLite fails such an upgrade at once
    when another writer is active. It would also let a savepoint be the outermost transaction.
    An engine that already begins transactions itself (the recipe in SQLAlchemy's SQLite
    documentation) is left alone.
    """
    if conn.dialect.name != "sqlite":
        return
    dbapi = conn.connection.dbapi_connection
    if dbapi is not None and getattr(dbapi, "in_transaction", True) is False:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _too_new(found: int) -> StorageError:
    return StorageError(
        f"crmkit's tables have layout version {found}, newer than this crmkit understands "
        f"({SCHEMA_VERSION}); upgrade crmkit",
        details={"found": found, "supported": SCHEMA_VERSION},
    )


def _plain_text(value: object) -> bool:
    """Short ASCII text without NUL: storable as it is on every database."""
    return (
        isinstance(value, str)
        and len(value) <= TEXT_LENGTH
        and value.isascii()
        and "\x00" not in value
    )


def _load_document(kind: str, id: str, text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise StorageError(
            f"the stored document of {kind} {id!r} is not valid JSON ({exc}); restore it from a "
            "backup or remove the row",
            details={"kind": kind, "id": id},
        ) from None
    if not isinstance(document, dict):
        raise StorageError(
            f"the stored document of {kind} {id!r} is a JSON {type(document).__name__}, not an "
            "object; restore it from a backup or remove the row",
            details={"kind": kind, "id": id},
        )
    return document


def _checked_text(text: str) -> str:
    """A document's JSON text, refused if it holds a lone surrogate (no database stores one)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "holds text that is not valid Unicode (a lone surrogate); remove it",
            path="aggregate",
        ) from None
    return text


def _views(
    metadata: sa.MetaData, record_types: Iterable[RecordType[Any]]
) -> tuple[dict[str, TableView], list[str]]:
    """Find each record type's tables in ``metadata``; also return what is missing."""
    views: dict[str, TableView] = {}
    missing: list[str] = []
    for record_type in record_types:
        main = metadata.tables.get(f"crm_{record_type.name}")
        if main is None:
            missing.append(f"table crm_{record_type.name}")
            continue
        sides: dict[str, sa.Table] = {}
        for field in record_type.fields:
            if field in main.c:
                continue
            side = metadata.tables.get(side_table_name(record_type.name, field))
            if side is None:
                missing.append(f"column crm_{record_type.name}.{field}")
            else:
                sides[field] = side
        views[record_type.name] = TableView(main, sides)
    for name in ("crm_outbox", "crm_outbox_lock", "crm_schema"):
        if name not in metadata.tables:
            missing.append(f"table {name}")
    return views, missing


# ----- the store ----------------------------------------------------------------------------


class SQLAlchemyStore:
    """crmkit's records in any database SQLAlchemy 2 reaches; implements ``crmkit.ports.Store``.

    Args:
        engine: the host's ``sqlalchemy.Engine`` (PostgreSQL, MariaDB/MySQL or SQLite). The
            store opens one connection from its pool per unit of work and never disposes it.
        record_types: the aggregates to store; must include crmkit's own
            (:data:`~crmkit.adapters.RECORD_TYPES`, the default).
        metadata: the ``MetaData`` holding the tables, if not crmkit's default (for your own
            record types, build it with :func:`make_metadata`).
        create: create missing tables and record the layout version now (idempotent); with
            ``False`` the tables must exist already (say, made by your Alembic migrations).
        clock: where ``mark_delivered`` reads the delivery time (``SystemClock`` by default).

    A layout newer than this crmkit knows is a ``StorageError`` telling you to upgrade crmkit;
    an older one is migrated by :meth:`create_all` or refused with what to do.

    Example:
        >>> import sqlalchemy
        >>> from datetime import datetime, timezone
        >>> from crmkit.customers import Customer
        >>> engine = sqlalchemy.create_engine("sqlite://")
        >>> store = SQLAlchemyStore(engine)
        >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> with store.unit_of_work() as uow:
        ...     uow.customers.add(Customer.register(id="cus_1", name="Acme", kind="company",
        ...                                         now=now))
        ...     [e.event_type for e in uow.commit()]
        ['customers.CustomerRegistered']
        >>> SQLAlchemyStore("sqlite://")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: engine: must be a sqlalchemy.Engine, not str; ...
        >>> engine.dispose()

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        record_types: Sequence[RecordType[Any]] = RECORD_TYPES,
        metadata: sa.MetaData | None = None,
        create: bool = True,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(engine, sa.Engine):
            raise ValidationError(
                f"must be a sqlalchemy.Engine, not {type(engine).__name__}; "
                "make one with sqlalchemy.create_engine(url)",
                path="engine",
            )
        by_name = check_record_types(record_types)
        if metadata is not None and not isinstance(metadata, sa.MetaData):
            raise ValidationError(
                f"must be a sqlalchemy.MetaData, not {type(metadata).__name__}", path="metadata"
            )
        if metadata is None:
            views, missing = _views(DEFAULT_METADATA, by_name.values())
            metadata = DEFAULT_METADATA
            if missing:
                metadata = make_metadata(by_name.values())
                views, missing = _views(metadata, by_name.values())
        else:
            views, missing = _views(metadata, by_name.values())
        if missing:
            raise ValidationError(
                f"the metadata lacks {', '.join(missing)}; build it with "
                "crmkit.adapters.sqlalchemy.make_metadata(record_types)",
                path="metadata",
            )
        self._engine = engine
        self._metadata = metadata
        self._record_types = by_name
        self._views = views
        self._outbox_table = metadata.tables["crm_outbox"]
        self._lock_table = metadata.tables["crm_outbox_lock"]
        self._schema_table = metadata.tables["crm_schema"]
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._outbox = SQLAlchemyOutbox(self)
        if create:
            self.create_all()
        else:
            self._check_layout(migrate=False)

    @property
    def engine(self) -> sa.Engine:
        """The engine this store uses."""
        return self._engine

    @property
    def metadata(self) -> sa.MetaData:
        """The ``MetaData`` holding this store's tables."""
        return self._metadata

    @property
    def record_types(self) -> tuple[RecordType[Any], ...]:
        """The record types this store keeps, in the order given."""
        return tuple(self._record_types.values())

    def tables(self) -> list[sa.Table]:
        """This store's tables, in dependency order (a subset of :attr:`metadata`'s).

        Example:
            >>> import sqlalchemy
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> [t.name for t in SQLAlchemyStore(engine).tables() if "contacts" in t.name]
            ['crm_contacts', 'crm_contacts__emails', 'crm_contacts__phones']
            >>> engine.dispose()
        """
        names = {"crm_outbox", "crm_outbox_lock", "crm_schema"}
        for view in self._views.values():
            names.add(view.main.name)
            names.update(side.name for side in view.sides.values())
        return [t for t in self._metadata.sorted_tables if t.name in names]

    def create_all(self) -> None:
        """Create the missing tables, migrate an older layout, record the layout version.

        Idempotent, and safe when several processes start at once.

        Example:
            >>> import sqlalchemy
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> store = SQLAlchemyStore(engine)
            >>> store.create_all(); store.create_all()
            >>> engine.dispose()
        """
        self._refuse_newer_layout()  # before creating anything a newer layout may not have
        tables = self.tables()
        for attempt in (1, 2):
            try:
                with self._engine.begin() as conn:
                    self._metadata.create_all(conn, tables=tables, checkfirst=True)
                break
            except sa_exc.SQLAlchemyError as exc:
                if attempt == 2:  # another process was creating them at the same moment
                    raise translate(exc, "create crmkit's tables", self._engine.dialect) from exc
        self._check_layout(migrate=True)

    def _refuse_newer_layout(self) -> None:
        schema = self._schema_table
        try:
            with self._engine.connect() as conn:
                if not sa.inspect(conn).has_table(schema.name):
                    return
                found = conn.execute(
                    sa.select(schema.c.version).where(schema.c.component == COMPONENT)
                ).scalar_one_or_none()
        except sa_exc.SQLAlchemyError as exc:
            raise translate(exc, "read crmkit's layout version", self._engine.dialect) from exc
        if found is not None and int(found) > SCHEMA_VERSION:
            raise _too_new(int(found))

    def _check_layout(self, *, migrate: bool) -> None:
        schema, lock = self._schema_table, self._lock_table
        for attempt in (1, 2):
            try:
                with self._engine.begin() as conn:
                    _begin_immediate(conn)
                    found = conn.execute(
                        sa.select(schema.c.version)
                        .where(schema.c.component == COMPONENT)
                        .with_for_update()
                    ).scalar_one_or_none()
                    if found is None:
                        conn.execute(
                            sa.insert(schema).values(component=COMPONENT, version=SCHEMA_VERSION)
                        )
                    elif int(found) != SCHEMA_VERSION:
                        self._migrate(conn, int(found), migrate=migrate)
                    if conn.execute(sa.select(lock.c.id).where(lock.c.id == 1)).first() is None:
                        conn.execute(sa.insert(lock).values(id=1))
                return
            except sa_exc.IntegrityError as exc:  # two processes stamped at the same moment
                if attempt == 2:
                    error = translate(exc, "record crmkit's layout version", self._engine.dialect)
                    raise error from exc
            except sa_exc.SQLAlchemyError as exc:
                error = translate(exc, "read crmkit's layout version", self._engine.dialect)
                if isinstance(error, ConcurrencyError):
                    raise error from exc
                raise StorageError(
                    f"{error.message}; create crmkit's tables with SQLAlchemyStore(engine) "
                    "(create=True), store.create_all(), or your own migrations built from "
                    "crmkit.adapters.sqlalchemy.metadata",
                    details=error.details,
                ) from exc

    def _migrate(self, conn: sa.Connection, found: int, *, migrate: bool) -> None:
        if found > SCHEMA_VERSION:
            raise _too_new(found)
        version = found
        steps: list[Callable[[sa.Connection, sa.MetaData], None]] = []
        while version < SCHEMA_VERSION and version in _MIGRATIONS:
            steps.append(_MIGRATIONS[version])
            version += 1
        if version != SCHEMA_VERSION:
            raise StorageError(
                f"crmkit's tables have layout version {found}, which this crmkit (layout "
                f"{SCHEMA_VERSION}) cannot migrate; export the records with the crmkit that "
                "wrote them and import them into fresh tables",
                details={"found": found, "supported": SCHEMA_VERSION},
            )
        if not migrate:
            raise StorageError(
                f"crmkit's tables have layout version {found}; this crmkit needs "
                f"{SCHEMA_VERSION}: migrate them with store.create_all() (or "
                "SQLAlchemyStore(engine, create=True)), or with your own migration",
                details={"found": found, "supported": SCHEMA_VERSION},
            )
        for step in steps:
            step(conn, self._metadata)
        conn.execute(
            sa.update(self._schema_table)
            .where(self._schema_table.c.component == COMPONENT)
            .values(version=SCHEMA_VERSION)
        )

    # ----- the Store port -------------------------------------------------------------------
    def unit_of_work(self) -> SQLAlchemyUnitOfWork:
        """Return a new unit of work; use it as a context manager, one per thread.

        Example:
            >>> import sqlalchemy
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> store = SQLAlchemyStore(engine)
            >>> store.unit_of_work() is store.unit_of_work()
            False
            >>> engine.dispose()
        """
        return SQLAlchemyUnitOfWork(self)

    @property
    def outbox(self) -> SQLAlchemyOutbox:
        """The committed events, in commit order, until marked delivered."""
        return self._outbox

    def analytics(self) -> SQLAlchemyAnalytics:
        """Analytics queries computed in SQL (:class:`crmkit.ports.AnalyticsQueries`)."""
        from crmkit.adapters.sqlalchemy._analytics import SQLAlchemyAnalytics

        return SQLAlchemyAnalytics(self)

    def load_records(
        self, records: Iterable[StoredRecord], events: Iterable[DomainEvent] = ()
    ) -> None:
        """Bulk-load records as they are, versions included, and events into the outbox.

        For restores and imports: one transaction, all of it or nothing. An id stored already
        (or twice in the batch) is a ``DuplicateError``. Each record's projected columns come
        from its ``aggregate`` (built from the document when not given).

        Example:
            >>> import sqlalchemy
            >>> from crmkit.ports import StoredRecord
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> store = SQLAlchemyStore(engine)
            >>> doc = {"id": "cus_1", "name": "Acme", "kind": "company",
            ...        "created_at": "2026-01-05T00:00:00+00:00"}
            >>> store.load_records([StoredRecord("customers", "cus_1", 7, 1, doc)])
            >>> with store.unit_of_work() as uow:
            ...     uow.customers.get("cus_1").version
            7
            >>> engine.dispose()
        """
        groups = check_stored(self._record_types, records)
        pending = check_events(events)
        with self.unit_of_work() as uow:
            for rt, batch in groups:
                uow._repositories[rt.name]._load_stored(batch)
            conn = uow._write("write the outbox")
            if pending:
                uow._append(conn, pending)
            uow.commit()

    @contextmanager
    def _transaction(self, what: str, *, write: bool = True) -> Iterator[sa.Connection]:
        try:
            with self._engine.begin() as conn:
                if write:
                    _begin_immediate(conn)
                yield conn
        except sa_exc.SQLAlchemyError as exc:
            raise translate(exc, what, self._engine.dialect) from exc


# ----- the repository ------------------------------------------------------------------------


class SQLAlchemyRepository(Generic[A]):
    """One record type's table, through a unit of work; implements ``crmkit.ports.Repository``.

    Writes run at once inside the unit of work's transaction (so its own reads see them) and
    become visible to others when it commits. ``save`` and ``remove`` are versioned
    (``UPDATE ... WHERE id = :id AND version = :version``), so of two units of work that read
    the same version, only one can write it.

    Example:
        >>> import sqlalchemy
        >>> engine = sqlalchemy.create_engine("sqlite://")
        >>> with SQLAlchemyStore(engine).unit_of_work() as uow:
        ...     uow.customers.get("cus_404")
        Traceback (most recent call last):
        ...
        crmkit.errors.NotFoundError: no customers record with id 'cus_404'
        >>> engine.dispose()

    .. versionadded:: 0.1.0
    """

    def __init__(
        self, uow: SQLAlchemyUnitOfWork, record_type: RecordType[A], view: TableView
    ) -> None:
        self._uow = uow
        self._record_type = record_type
        self._view = view
        self._kind = record_type.name
        main = view.main
        self._columns = (main.c.id, main.c.version, main.c.schema_version, main.c.document)
        # The projected fields grouped by kind, so writing a row tests each value once against
        # its kind's common case (see _values) instead of walking every kind for every field.
        self._texts: list[tuple[str, Callable[[Any], Any]]] = []
        self._datetimes: list[tuple[str, Callable[[Any], Any]]] = []
        self._multis: list[tuple[str, Callable[[Any], Any]]] = []
        self._others: list[tuple[str, Callable[[Any], Any], str]] = []
        for field, get in record_type.fields.items():
            kind = view.kinds[field]
            if kind == "text":
                self._texts.append((field, get))
            elif kind == "datetime":
                self._datetimes.append((field, get))
            elif kind == "multi":
                self._multis.append((field, get))
            else:
                self._others.append((field, get, kind))
        # The converter's unstructure hook per aggregate class (what unstructure() dispatches to).
        self._unstructure_hooks: dict[type[Any], Callable[[Any], Any]] = {}

    @property
    def record_type(self) -> RecordType[A]:
        """The record type this repository stores."""
        return self._record_type

    # ----- reads ---------------------------------------------------------------------------
    def _load(self, row: Sequence[Any]) -> A:
        id, version, schema_version, text = row[0], row[1], row[2], row[3]
        document = _load_document(self._kind, str(id), str(text))
        return from_document(
            self._record_type, document, int(version), int(schema_version), owned=True
        )

    def get(self, id: str) -> A:
        """Return a fresh copy of the aggregate with ``id``; ``NotFoundError`` if there is none.

        Example:
            >>> import sqlalchemy
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> with SQLAlchemyStore(engine).unit_of_work() as uow:
            ...     uow.contacts.get("")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: id: must be a non-empty string of at most 64 ...
            >>> engine.dispose()
        """
        check_id(id)
        conn = self._uow._conn()
        with self._uow._guard(f"read {self._kind}"):
            row = conn.execute(sa.select(*self._columns).where(self._view.main.c.id == id)).first()
        if row is None:
            raise not_found(self._kind, [id])
        return self._load(row)

    def get_many(self, ids: Iterable[str]) -> list[A]:
        """Return fresh copies in the order asked; ``NotFoundError`` names every missing id.

        Example:
            >>> import sqlalchemy
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> with SQLAlchemyStore(engine).unit_of_work() as uow:
            ...     uow.contacts.get_many(["con_1", "con_2"])
            Traceback (most recent call last):
            ...
            crmkit.errors.NotFoundError: no contacts records with ids 'con_1', 'con_2'
            >>> engine.dispose()
        """
        wanted = check_ids(ids)
        distinct = list(dict.fromkeys(wanted))
        found: dict[str, A] = {}
        conn = self._uow._conn()
        for start in range(0, len(distinct), _CHUNK):
            chunk = distinct[start : start + _CHUNK]
            with self._uow._guard(f"read {self._kind}"):
                rows = conn.execute(
                    sa.select(*self._columns).where(self._view.main.c.id.in_(chunk))
                ).all()
            for row in rows:
                found[str(row[0])] = self._load(row)
        missing = [id for id in distinct if id not in found]
        if missing:
            raise not_found(self._kind, missing)
        return [found[id] for id in wanted]

    def query(self, query: Query) -> Page[A]:
        """Return one page of aggregates matching ``query``, filtered, sorted and paged in SQL.

        Semantics are the in-memory adapter's; multi-valued fields (``tags``, ``emails``) can
        be filtered with ``contains`` (and compared as sets with ``eq``), not sorted by.

        Example:
            >>> import sqlalchemy
            >>> from crmkit.kernel.query import Query
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> with SQLAlchemyStore(engine).unit_of_work() as uow:
            ...     uow.customers.query(Query.where(kind="company").order("-created_at")).items
            ()
            >>> engine.dispose()
        """
        if not isinstance(query, Query):
            raise ValidationError(
                f"must be a crmkit.kernel.Query, not {type(query).__name__}", path="query"
            )
        record_type, view = self._record_type, self._view
        record_type.check_query(query)
        orders = [*query.order_by, Order("id")]
        view.check_orders(orders)
        conditions = [view.where(flt) for flt in query.filters]
        if query.cursor is not None:
            conditions.append(view.after(orders, query.cursor))
        statement = (
            sa.select(*self._columns)
            .where(*conditions)
            .order_by(*view.order_by(orders))
            .limit(query.limit + 1)
        )
        conn = self._uow._conn()
        with self._uow._guard(f"query {self._kind}"):
            rows = conn.execute(statement).all()
        items = [self._load(row) for row in rows[: query.limit]]
        cursor = None
        if len(rows) > query.limit and items:
            last = items[-1]
            projected = record_type.project(last)
            cursor = encode_cursor(
                [last.id if o.field == "id" else projected[o.field] for o in orders]
            )
        return Page(items=tuple(items), next_cursor=cursor)

    # ----- writes --------------------------------------------------------------------------
    def _document(self, aggregate: A) -> str:
        """The aggregate's document as JSON text: ``dumps(to_document(...))``, checked.

        Calls the converter's hook for the aggregate's class directly (``unstructure`` looks
        the same hook up on every call); the caller has checked the class already.
        """
        cls = aggregate.__class__
        hook = self._unstructure_hooks.get(cls)
        if hook is None:
            hook = self._unstructure_hooks[cls] = default_converter().get_unstructure_hook(cls)
        document = hook(aggregate)
        document.pop("version", None)
        return _checked_text(dumps(document))

    def _values(
        self, aggregate: A, columns: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """The projected columns (added to ``columns``) and the multi-valued fields, checked.

        The fast path takes each kind's common case (short ASCII text without NUL, an aware
        datetime, a tuple of such text), which ``stored_value`` would store unchanged (or, for
        a datetime, as ``utc_text``); other kinds go through ``stored_value``. Any value
        outside those cases (or refused) sends every field through :meth:`_checked_values`, in
        field order, so results and errors are exactly its.
        """
        if columns is None:
            columns = {}
        for field, get in self._texts:
            value = get(aggregate)
            if value is None or (
                isinstance(value, str)
                and len(value) <= TEXT_LENGTH
                and value.isascii()
                and "\x00" not in value
            ):
                columns[field] = value
            else:
                return self._checked_values(aggregate, columns)
        for field, get in self._datetimes:
            value = get(aggregate)
            if isinstance(value, datetime) and value.utcoffset() is not None:
                columns[field] = utc_text(value)
            else:
                return self._checked_values(aggregate, columns)
        multi: dict[str, list[str]] = {}
        for field, get in self._multis:
            value = get(aggregate)
            if isinstance(value, tuple) and all(map(_plain_text, value)):
                multi[field] = list(dict.fromkeys(value)) if len(value) > 1 else list(value)
            else:
                return self._checked_values(aggregate, columns)
        for field, get, kind in self._others:
            try:
                columns[field] = stored_value(self._kind, field, kind, get(aggregate))
            except ValidationError:
                return self._checked_values(aggregate, columns)
        return columns, multi

    def _checked_values(
        self, aggregate: A, columns: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """Every projected field through ``stored_value``, in field order.

        The first field it refuses is the error.
        """
        multi: dict[str, list[str]] = {}
        for field, get in self._record_type.fields.items():
            kind = self._view.kinds[field]
            stored = stored_value(self._kind, field, kind, get(aggregate))
            if kind == "multi":
                multi[field] = stored
            else:
                columns[field] = stored
        return columns, multi

    def _write_sides(
        self, conn: sa.Connection, id: str, multi: dict[str, list[str]], *, replace: bool
    ) -> None:
        for field, side in self._view.sides.items():
            if replace:
                conn.execute(sa.delete(side).where(side.c.id == id))
            values = multi.get(field, [])
            if values:
                conn.execute(sa.insert(side), [{"id": id, "value": v} for v in values])

    def add(self, aggregate: A) -> None:
        """Insert a new aggregate at version 1 (and set its ``version`` to 1).

        ``DuplicateError`` if the id is stored already; a ``ValidationError`` if the aggregate's
        version is not 0 (it was stored before: use :meth:`save`).

        Example:
            >>> import sqlalchemy
            >>> from datetime import datetime, timezone
            >>> from crmkit.customers import Customer
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> with SQLAlchemyStore(engine).unit_of_work() as uow:
            ...     uow.customers.add(Customer.register(id="cus_1", name="A", kind="person",
            ...                                         now=now))
            ...     uow.customers.add(Customer.register(id="cus_1", name="B", kind="person",
            ...                                         now=now))
            Traceback (most recent call last):
            ...
            crmkit.errors.DuplicateError: customers record 'cus_1' already exists; ...
            >>> engine.dispose()
        """
        agg = check_aggregate(self._record_type, aggregate)
        if agg.version != 0:
            raise ValidationError(
                f"a new {self._kind} record must have version 0, got {agg.version}; "
                "use save() for stored records",
                path="version",
            )
        columns, multi = self._values(agg)
        document = self._document(agg)
        what = f"insert into {self._kind}"
        conn = self._uow._write(what)
        with self._uow._guard(what):
            try:
                with conn.begin_nested():
                    conn.execute(
                        sa.insert(self._view.main).values(
                            {
                                "id": agg.id,
                                "version": 1,
                                "schema_version": self._record_type.schema_version,
                                "document": document,
                                **columns,
                            }
                        )
                    )
            except sa_exc.IntegrityError:
                raise duplicate(self._kind, agg.id) from None
            self._write_sides(conn, agg.id, multi, replace=False)
        agg.version = 1
        self._uow._track(agg)

    def add_many(self, aggregates: Iterable[A]) -> None:
        """Insert many new aggregates in one batch: all of them, or none (``DuplicateError``).

        The fast path for imports: one ``executemany`` per table inside a savepoint.

        Example:
            >>> import sqlalchemy
            >>> from datetime import datetime, timezone
            >>> from crmkit.customers import Customer
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> with SQLAlchemyStore(engine).unit_of_work() as uow:
            ...     uow.customers.add_many(
            ...         Customer(id=f"cus_{i}", name="A", kind="person", created_at=now)
            ...         for i in range(3))
            ...     len(uow.customers.get_many(["cus_0", "cus_1", "cus_2"]))
            3
            >>> engine.dispose()
        """
        batch = check_new(self._record_type, aggregates)
        if not batch:
            return
        schema = self._record_type.schema_version
        document, values = self._document, self._values
        main_rows: list[dict[str, Any]] = []
        side_rows: dict[str, list[dict[str, Any]]] = {f: [] for f in self._view.sides}
        for i, agg in enumerate(batch):
            key = agg.id
            try:
                row: dict[str, Any] = {
                    "id": key,
                    "version": 1,
                    "schema_version": schema,
                    "document": document(agg),
                }
                multi = values(agg, row)[1]
            except ValidationError as exc:
                raise exc.at(f"aggregates[{i}]") from None
            main_rows.append(row)
            for field, distinct in multi.items():
                rows = side_rows[field]
                for value in distinct:
                    rows.append({"id": key, "value": value})
        self._insert(main_rows, side_rows)
        tracked = self._uow._tracked
        for agg in batch:
            agg.version = 1
            tracked.setdefault(id(agg), agg)

    def _insert(
        self, main_rows: list[dict[str, Any]], side_rows: dict[str, list[dict[str, Any]]]
    ) -> None:
        """Insert prepared rows in one savepoint; ``DuplicateError`` names an id stored already."""
        what = f"insert into {self._kind}"
        conn = self._uow._write(what)
        with self._uow._guard(what):
            try:
                with conn.begin_nested():
                    conn.execute(sa.insert(self._view.main), main_rows)
                    for field, rows in side_rows.items():
                        if rows:
                            conn.execute(sa.insert(self._view.sides[field]), rows)
            except sa_exc.IntegrityError:
                taken = self._first_stored(conn, [row["id"] for row in main_rows])
                if taken is not None:
                    raise duplicate(self._kind, taken) from None
                raise

    def _load_stored(self, batch: Sequence[StoredRecord]) -> None:
        """Insert stored records as they are (versions included), for a bulk load."""
        rt = self._record_type
        main_rows: list[dict[str, Any]] = []
        side_rows: dict[str, list[dict[str, Any]]] = {f: [] for f in self._view.sides}
        for record in batch:
            row: dict[str, Any] = {
                "id": record.id,
                "version": record.version,
                "schema_version": rt.schema_version,
                "document": _checked_text(dumps(stored_document(rt, record))),
            }
            multi = self._values(stored_aggregate(rt, record), row)[1]
            main_rows.append(row)
            for field, distinct in multi.items():
                side_rows[field].extend({"id": record.id, "value": v} for v in distinct)
        if main_rows:
            self._insert(main_rows, side_rows)

    def _first_stored(self, conn: sa.Connection, ids: Sequence[str]) -> str | None:
        """The first of ``ids`` (in chunks, in order) that is stored already, if any."""
        column = self._view.main.c.id
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            stored = set(conn.execute(sa.select(column).where(column.in_(chunk))).scalars())
            for key in chunk:
                if key in stored:
                    return key
        return None

    def save(self, aggregate: A) -> None:
        """Update a stored aggregate if its version is still current; bump its version by one.

        ``ConcurrencyError`` if someone else saved or removed it since it was read;
        ``NotFoundError`` if it was never stored (version 0).

        Example:
            >>> import sqlalchemy
            >>> from datetime import datetime, timezone
            >>> from crmkit.customers import Customer
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> store = SQLAlchemyStore(engine)
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> with store.unit_of_work() as uow:
            ...     uow.customers.add(Customer.register(id="cus_1", name="A", kind="person",
            ...                                         now=now))
            ...     _ = uow.commit()
            >>> with store.unit_of_work() as uow:
            ...     old = uow.customers.get("cus_1")
            >>> with store.unit_of_work() as uow:
            ...     new = uow.customers.get("cus_1")
            ...     new.rename("B", now=now)
            ...     uow.customers.save(new)
            ...     _ = uow.commit()
            >>> with store.unit_of_work() as uow:
            ...     uow.customers.save(old)
            Traceback (most recent call last):
            ...
            crmkit.errors.ConcurrencyError: customers 'cus_1' was changed by someone else ...
            >>> engine.dispose()
        """
        agg = check_aggregate(self._record_type, aggregate)
        columns, multi = self._values(agg)
        document = self._document(agg)
        what = f"update {self._kind}"
        main = self._view.main
        conn = self._uow._write(what)
        with self._uow._guard(what):
            result = conn.execute(
                sa.update(main)
                .where(main.c.id == agg.id, main.c.version == agg.version)
                .values(
                    {
                        "version": agg.version + 1,
                        "schema_version": self._record_type.schema_version,
                        "document": document,
                        **columns,
                    }
                )
            )
            if result.rowcount != 1:
                raise self._stale(conn, agg)
            self._write_sides(conn, agg.id, multi, replace=True)
        agg.version += 1
        self._uow._track(agg)

    def remove(self, aggregate: A) -> None:
        """Delete a stored aggregate, under the same version check as :meth:`save`.

        Example:
            >>> import sqlalchemy
            >>> from datetime import datetime, timezone
            >>> from crmkit.customers import Customer
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> with SQLAlchemyStore(engine).unit_of_work() as uow:
            ...     c = Customer.register(id="cus_1", name="A", kind="person", now=now)
            ...     uow.customers.add(c)
            ...     uow.customers.remove(c)
            ...     uow.customers.get("cus_1")
            Traceback (most recent call last):
            ...
            crmkit.errors.NotFoundError: no customers record with id 'cus_1'
            >>> engine.dispose()
        """
        agg = check_aggregate(self._record_type, aggregate)
        what = f"delete from {self._kind}"
        main = self._view.main
        conn = self._uow._write(what)
        with self._uow._guard(what):
            result = conn.execute(
                sa.delete(main).where(main.c.id == agg.id, main.c.version == agg.version)
            )
            if result.rowcount != 1:
                raise self._stale(conn, agg)
            self._write_sides(conn, agg.id, {}, replace=True)
        self._uow._track(agg)

    def _stale(self, conn: sa.Connection, agg: A) -> ConcurrencyError | NotFoundError:
        """The error for a versioned write that matched no row: read back what is stored."""
        main = self._view.main
        statement = sa.select(main.c.version).where(main.c.id == agg.id)
        if conn.dialect.name in {"mysql", "mariadb"}:
            # InnoDB's REPEATABLE READ reads a snapshot; a locking read sees the latest version
            # (the failed UPDATE holds this row's lock already). PostgreSQL's READ COMMITTED
            # reads the latest version anyway, and a share lock would only hold up the winner.
            statement = statement.with_for_update(read=True)
        row = conn.execute(statement).first()
        if row is None and agg.version == 0:
            return NotFoundError(
                f"no {self._kind} record with id {agg.id!r}; use add() for new records",
                details={"kind": self._kind, "id": agg.id, "ids": [agg.id]},
            )
        return ConcurrencyError.stale(
            self._kind, agg.id, expected=agg.version, actual=None if row is None else int(row[0])
        )


# ----- the unit of work ----------------------------------------------------------------------


class SQLAlchemyUnitOfWork:
    """One database transaction on one pooled connection; implements ``crmkit.ports.UnitOfWork``.

    Entering opens a connection and begins a transaction; repositories run their SQL on it, so
    reads see the unit's own writes. :meth:`commit` appends the pending events of every
    aggregate passed to ``add``/``save``/``remove`` to the outbox (holding the outbox lock row,
    so positions follow commit order), commits, then clears those events and returns them.
    Leaving the block without committing rolls back and returns the connection to the pool.

    A database error while working (a lost connection, a deadlock) rolls the whole transaction
    back and is raised as ``StorageError`` or ``ConcurrencyError``; if earlier writes were lost
    that way, the unit of work refuses further work until :meth:`rollback`, so a partial unit
    can never be committed. After ``commit()`` or ``rollback()`` the unit of work can be used
    again, with a new transaction.

    On SQLite the first write takes the database's write lock (``BEGIN IMMEDIATE``).

    Example:
        >>> import sqlalchemy
        >>> from datetime import datetime, timezone
        >>> from crmkit.customers import Customer
        >>> from crmkit.kernel.query import Query
        >>> engine = sqlalchemy.create_engine("sqlite://")
        >>> store = SQLAlchemyStore(engine)
        >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> with store.unit_of_work() as uow:
        ...     uow.customers.add(Customer.register(id="cus_1", name="A", kind="person", now=now))
        >>> with store.unit_of_work() as uow:  # the block above never committed
        ...     uow.customers.query(Query()).items
        ()
        >>> engine.dispose()

    .. versionadded:: 0.1.0
    """

    # Typed as the port (whose attributes are mutable, hence invariant) so that a
    # SQLAlchemyUnitOfWork is a crmkit.ports.UnitOfWork; each is a SQLAlchemyRepository.
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

    def __init__(self, store: SQLAlchemyStore) -> None:
        self._store = store
        self._connection: sa.Connection | None = None
        self._writing = False
        self._tracked: dict[int, Aggregate] = {}  # by identity, in first-touch order
        self._failure: CRMError | None = None
        self._repositories: dict[str, SQLAlchemyRepository[Any]] = {
            name: SQLAlchemyRepository(self, store._record_types[name], view)
            for name, view in store._views.items()
        }
        self.customers = self._repositories["customers"]
        self.contacts = self._repositories["contacts"]
        self.interactions = self._repositories["interactions"]
        self.duplicate_reviews = self._repositories["duplicate_reviews"]
        self.customer_merges = self._repositories["customer_merges"]
        self.orders = self._repositories["orders"]
        self.deliveries = self._repositories["deliveries"]
        self.leads = self._repositories["leads"]
        self.pipelines = self._repositories["pipelines"]
        self.opportunities = self._repositories["opportunities"]
        self.products = self._repositories["products"]
        self.price_books = self._repositories["price_books"]
        self.discount_rule_sets = self._repositories["discount_rule_sets"]
        self.coupons = self._repositories["coupons"]
        self.quotes = self._repositories["quotes"]
        self.complaints = self._repositories["complaints"]
        self.business_calendars = self._repositories["business_calendars"]
        self.sla_policy_sets = self._repositories["sla_policy_sets"]
        self.maintenance_contracts = self._repositories["maintenance_contracts"]
        self.work_orders = self._repositories["work_orders"]
        self.loyalty_programs = self._repositories["loyalty_programs"]
        self.memberships = self._repositories["memberships"]
        self.referrals = self._repositories["referrals"]
        self.audit_entries = self._repositories["audit_entries"]

    def repository(self, record_type: RecordType[A]) -> SQLAlchemyRepository[A]:
        """Return the repository for ``record_type`` (for record types beyond crmkit's own).

        Example:
            >>> import sqlalchemy
            >>> from crmkit.customers import CONTACTS
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> uow = SQLAlchemyStore(engine).unit_of_work()
            >>> uow.repository(CONTACTS) is uow.contacts
            True
            >>> engine.dispose()
        """
        return pick_repository(self._repositories, record_type)

    def __enter__(self) -> SQLAlchemyUnitOfWork:
        self._conn()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> tuple[DomainEvent, ...]:
        """Write the outbox rows and commit; return the events committed, in order.

        The events are those of the aggregates in the order they were first added, saved or
        removed in this unit of work; their pending events are cleared only after the commit
        succeeded. A failed commit rolls everything back.

        Example:
            >>> import sqlalchemy
            >>> from datetime import datetime, timezone
            >>> from crmkit.customers import Customer
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> store = SQLAlchemyStore(engine)
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> with store.unit_of_work() as uow:
            ...     c = Customer.register(id="cus_1", name="A", kind="person", now=now)
            ...     uow.customers.add(c)
            ...     [type(e).__name__ for e in uow.commit()], c.pending_events
            (['CustomerRegistered'], ())
            >>> engine.dispose()
        """
        if self._failure is not None:
            raise self._refusal()
        # Only aggregates with pending events need pulling (a bulk import has none).
        tracked = [agg for agg in self._tracked.values() if agg.pending_events]
        events = tuple(e for agg in tracked for e in agg.pending_events)
        if not self._writing and not events:
            self._discard()
            return ()
        try:
            conn = self._write("write the outbox")
            if events:
                self._append(conn, events)
            with self._guard("commit"):
                conn.commit()
        except BaseException:
            self._discard()
            self._failure = None
            raise
        self._discard()
        for agg in tracked:
            agg.pull_events()
        return events

    def _append(self, conn: sa.Connection, events: Sequence[DomainEvent]) -> None:
        """Append ``events`` to the outbox while holding the outbox lock row."""
        lock, outbox = self._store._lock_table, self._store._outbox_table
        with self._guard("write the outbox"):
            held = conn.execute(
                sa.select(lock.c.id).where(lock.c.id == 1).with_for_update()
            ).first()
            if held is None:
                raise StorageError(
                    "crm_outbox_lock has no row, so commits cannot be ordered; call "
                    "store.create_all() (or construct SQLAlchemyStore with create=True) once",
                    details={"table": "crm_outbox_lock"},
                )
            conn.execute(
                sa.insert(outbox),
                [
                    {
                        "event_id": e.event_id,
                        "event_type": e.event_type,
                        "aggregate_id": e.aggregate_id,
                        "payload": to_json(e),
                        "delivered_at": None,
                    }
                    for e in events
                ],
            )

    def outbox_entries(self) -> list[OutboxEntry]:
        """Every outbox entry, delivered or not, oldest first (as this transaction sees it).

        Example:
            >>> import sqlalchemy
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> with SQLAlchemyStore(engine).unit_of_work() as uow:
            ...     uow.outbox_entries()
            []
            >>> engine.dispose()
        """
        outbox = self._store._outbox_table
        conn = self._conn()
        with self._guard("read the outbox"):
            rows = conn.execute(
                sa.select(outbox.c.position, outbox.c.payload).order_by(outbox.c.position)
            ).all()
        return [
            OutboxEntry(
                position=int(position),
                event=structure(
                    _load_document("outbox entry", str(position), str(payload)), DomainEvent
                ),
            )
            for position, payload in rows
        ]

    def redact_outbox(self, scrub: Callable[[DomainEvent], DomainEvent | None]) -> list[int]:
        """Rewrite outbox entries, delivered ones too, in this transaction (privacy requests).

        ``scrub`` gets each entry's event and returns the event to keep instead, or ``None``
        to keep it as it is. Returns the positions rewritten; ``commit()`` makes it durable.

        Example:
            >>> import sqlalchemy
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> with SQLAlchemyStore(engine).unit_of_work() as uow:
            ...     uow.redact_outbox(lambda event: None)
            []
            >>> engine.dispose()
        """
        outbox = self._store._outbox_table
        changed: list[int] = []
        for entry in self.outbox_entries():
            event = scrub(entry.event)
            if event is None or event == entry.event:
                continue
            conn = self._write("rewrite the outbox")
            with self._guard("rewrite the outbox"):
                conn.execute(
                    sa.update(outbox)
                    .where(outbox.c.position == entry.position)
                    .values(payload=to_json(event))
                )
            changed.append(entry.position)
        return changed

    def rollback(self) -> None:
        """Discard every change since the transaction began, and return the connection.

        Example:
            >>> import sqlalchemy
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> SQLAlchemyStore(engine).unit_of_work().rollback()
            >>> engine.dispose()
        """
        self._discard()
        self._failure = None

    # ----- used by the repositories ----------------------------------------------------------
    def _refusal(self) -> StorageError:
        cause = self._failure
        return StorageError(
            "this unit of work was rolled back after an earlier error "
            f"({cause}); its earlier writes are gone: call rollback() and redo the work in a new "
            "unit of work",
            details={"cause": cause.to_dict() if cause is not None else None},
        )

    def _conn(self) -> sa.Connection:
        if self._failure is not None:
            raise self._refusal()
        if self._connection is None:
            engine = self._store._engine
            try:
                conn = engine.connect()
            except sa_exc.SQLAlchemyError as exc:
                raise translate(exc, "connect", engine.dialect) from exc
            try:
                conn.begin()
            except sa_exc.SQLAlchemyError as exc:
                conn.close()
                raise translate(exc, "begin a transaction", engine.dialect) from exc
            self._connection = conn
        return self._connection

    def _write(self, what: str) -> sa.Connection:
        conn = self._conn()
        if not self._writing:
            with self._guard(what):
                _begin_immediate(conn)
            self._writing = True
        return conn

    @contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Translate database errors; one aborts (rolls back) the whole transaction."""
        try:
            yield
        except sa_exc.SQLAlchemyError as exc:
            error = translate(exc, what, self._store._engine.dialect)
            lost = self._writing or bool(self._tracked)
            self._discard()
            if lost:
                self._failure = error
            raise error from exc

    def _discard(self) -> None:
        conn, self._connection = self._connection, None
        self._writing = False
        self._tracked.clear()
        if conn is not None:
            try:
                conn.close()  # rolls back whatever is still open
            except sa_exc.SQLAlchemyError:
                conn.invalidate()

    def _track(self, aggregate: Aggregate) -> None:
        self._tracked.setdefault(id(aggregate), aggregate)


# ----- the outbox ----------------------------------------------------------------------------


class SQLAlchemyOutbox:
    """The ``crm_outbox`` table; implements ``crmkit.ports.Outbox``.

    Positions grow in commit order (committing units of work take turns on the outbox lock
    row) and are never reused; a rolled-back commit may leave a gap.

    Example:
        >>> import sqlalchemy
        >>> from datetime import datetime, timezone
        >>> from crmkit.customers import Customer
        >>> engine = sqlalchemy.create_engine("sqlite://")
        >>> store = SQLAlchemyStore(engine)
        >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> for n in (1, 2):
        ...     with store.unit_of_work() as uow:
        ...         uow.customers.add(Customer.register(id=f"cus_{n}", name="A", kind="person",
        ...                                             now=now))
        ...         _ = uow.commit()
        >>> [e.position for e in store.outbox.pending()]
        [1, 2]
        >>> store.outbox.mark_delivered([1])
        >>> [e.event.aggregate_id for e in store.outbox.pending()]
        ['cus_2']
        >>> engine.dispose()

    .. versionadded:: 0.1.0
    """

    def __init__(self, store: SQLAlchemyStore) -> None:
        self._store = store

    def pending(self, limit: int = 100) -> list[OutboxEntry]:
        """Return up to ``limit`` (at least 1) undelivered entries, oldest first.

        Example:
            >>> import sqlalchemy
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> SQLAlchemyStore(engine).outbox.pending(limit=0)
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: limit: must be a positive int, got 0
            >>> engine.dispose()
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError(f"must be a positive int, got {limit!r}", path="limit")
        outbox = self._store._outbox_table
        statement = (
            sa.select(outbox.c.position, outbox.c.payload)
            .where(outbox.c.delivered_at.is_(None))
            .order_by(outbox.c.position)
            .limit(min(limit, _MAX_POSITION))
        )
        with self._store._transaction("read the outbox", write=False) as conn:
            rows = conn.execute(statement).all()
        entries: list[OutboxEntry] = []
        for position, payload in rows:
            data = _load_document("outbox entry", str(position), str(payload))
            entries.append(OutboxEntry(position=int(position), event=structure(data, DomainEvent)))
        return entries

    def mark_delivered(self, positions: Iterable[int]) -> None:
        """Mark entries delivered; marking one twice is harmless.

        Unknown positions are a ``ValidationError`` naming them, and then nothing is marked.

        Example:
            >>> import sqlalchemy
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> SQLAlchemyStore(engine).outbox.mark_delivered([7])
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: positions: no outbox entries at positions [7]; ...
            >>> engine.dispose()
        """
        if isinstance(positions, (str, bytes)) or not isinstance(positions, Iterable):
            raise ValidationError(
                f"must be a list of positions, not {type(positions).__name__}", path="positions"
            )
        wanted = list(positions)
        for n, position in enumerate(wanted):
            if isinstance(position, bool) or not isinstance(position, int):
                raise ValidationError(
                    f"must be an int, not {type(position).__name__}", path=f"positions[{n}]"
                )
        if not wanted:
            return
        distinct = sorted(set(wanted))
        storable = [p for p in distinct if 1 <= p <= _MAX_POSITION]
        outbox = self._store._outbox_table
        position_col = outbox.c.position
        with self._store._transaction("mark outbox entries delivered") as conn:
            known: set[int] = set()
            for start in range(0, len(storable), _CHUNK):
                chunk = storable[start : start + _CHUNK]
                known.update(
                    int(p)
                    for p in conn.execute(
                        sa.select(position_col).where(position_col.in_(chunk))
                    ).scalars()
                )
            unknown = [p for p in distinct if p not in known]
            if unknown:
                last = conn.execute(sa.select(sa.func.max(position_col))).scalar()
                raise ValidationError(
                    f"no outbox entries at positions {unknown}; positions run from 1 to "
                    f"{int(last or 0)}",
                    path="positions",
                )
            delivered_at = utc_text(self._store._clock.now())
            for start in range(0, len(storable), _CHUNK):
                chunk = storable[start : start + _CHUNK]
                conn.execute(
                    sa.update(outbox)
                    .where(position_col.in_(chunk), outbox.c.delivered_at.is_(None))
                    .values(delivered_at=delivered_at)
                )


if TYPE_CHECKING:  # the SQLAlchemy classes satisfy the ports (checked by mypy only)

    def _is_store(store: SQLAlchemyStore) -> Store:
        return store

    def _is_unit_of_work(uow: SQLAlchemyUnitOfWork) -> UnitOfWork:
        return uow

    def _is_outbox(outbox: SQLAlchemyOutbox) -> Outbox:
        return outbox
