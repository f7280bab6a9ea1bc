"""``DjangoStore``: crmkit's storage ports (Store, UnitOfWork, Repository, Outbox) on Django's ORM.

It passes crmkit's contract suites (``crmkit.testing.contracts``); see
``tests/examples/test_django_app.py`` in crmkit's repository.

Transactions
    A unit of work opens ``transaction.atomic()`` at its first write, not when the ``with``
    block starts: reads before that run in autocommit, and a second unit of work in the same
    thread (one that reads, then another that writes and commits) is then its own transaction
    instead of a savepoint of the first. ``commit()`` appends the events to the outbox and
    leaves the atomic block (COMMIT); leaving the ``with`` block without it rolls back.
    Every write runs in a savepoint of its own, so a refused write (a duplicate id, a stale
    version, a database error) changes nothing and the unit of work can still commit the rest.
    Opened inside a host's own ``atomic()`` (``ATOMIC_REQUESTS``), the unit of work is a
    savepoint of the host's transaction, and what it commits is only durable when that commits.
    Django's atomic blocks nest, so in one thread a unit of work that starts writing while
    another has uncommitted writes must finish first (crmkit's use cases never interleave so).

Optimistic concurrency
    ``save`` is ``Record.objects.filter(kind=..., record_id=..., version=v).update(version=v+1,
    ...)``: one conditional UPDATE whose row count says whether the version was still current
    (0 rows: ``ConcurrencyError``, or ``NotFoundError`` for an aggregate never added). ``remove``
    claims the row the same way before deleting it. No read-check-write.

Queries
    SQL narrows, Python decides. ``eq``, ``in``, ``contains`` and ``startswith`` filters become
    ``EXISTS`` subqueries on the indexed ``RecordTerm`` table; the surviving rows' projected fields
    (not their documents) are loaded, and :func:`crmkit.kernel.query.run_query` applies every
    filter exactly, sorts, and cuts the page and its cursor, the same code the in-memory store
    runs. Only the page's documents are then read and structured. Range filters and sorting are
    done in Python over the narrowed rows: fine for thousands of records of a kind; for millions,
    give a record type its own model with a typed column per projected field and push ``ORDER BY``
    and the cursor condition down to SQL (crmkit's SQLite and SQLAlchemy stores do).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal
from types import TracebackType
from typing import Any, Generic, TypeVar

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Now

from crmkit import ports
from crmkit.adapters._shared import (
    RECORD_TYPES,
    check_aggregate,
    check_ids,
    check_new,
    check_record_types,
    duplicate,
    from_document,
    not_found,
    pick_repository,
    to_document,
)
from crmkit.errors import ConcurrencyError, CRMError, NotFoundError, StorageError, ValidationError
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.query import Filter, Op, Page, Query, RecordType, Scalar, run_query
from crmkit.serialization import structure, unstructure

from .models import OutboxEntry, OutboxLock, Record, RecordTerm

__all__ = ["DjangoOutbox", "DjangoRepository", "DjangoStore", "DjangoUnitOfWork"]

A = TypeVar("A", bound=Aggregate)

#: How many ids go into one ``IN (...)`` list.
_CHUNK = 500
#: ``RecordTerm.value`` is a ``CharField(max_length=255)``.
_TERM_LENGTH = 255


@contextmanager
def _storage_errors(what: str) -> Iterator[None]:
    """Turn Django's database errors into crmkit's ``StorageError``, naming the operation."""
    try:
        yield
    except DatabaseError as exc:
        hint = ""
        if "locked" in str(exc) or "busy" in str(exc):
            hint = "; another writer held the database longer than the 'timeout' option"
        raise StorageError(
            f"the database failed to {what}: {exc}{hint}", details={"database_error": str(exc)}
        ) from exc


# ----- projected values: typed JSON for Python, canonical text terms for SQL -----------------


def _encode(value: Scalar) -> Any:
    """A projected value as JSON that :func:`_decode` turns back into the same value."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return [_encode(v) for v in value]


def _decode(value: Any) -> Scalar:
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)  # type: ignore[misc]
    if isinstance(value, dict):
        if "decimal" in value:
            return Decimal(value["decimal"])
        if "datetime" in value:
            return datetime.fromisoformat(value["datetime"])
        return date.fromisoformat(value["date"])
    return value  # type: ignore[no-any-return]


def _term(value: object) -> str | None:
    """Canonical text of one value: values Python finds equal get equal text.

    Numbers (``True == 1 == Decimal("1.0")``) share the ``n:`` form; datetimes are compared as
    instants, so they become UTC. Text is cut to the column's length: two long values with the
    same beginning share a term, and the exact check in Python tells them apart.
    """
    if value is None:
        return None
    if isinstance(value, (bool, int, Decimal)):
        number = Decimal(int(value)) if isinstance(value, bool) else Decimal(value)
        text = "n:0" if number == 0 else f"n:{number.normalize():f}"
    elif isinstance(value, datetime):
        if value.tzinfo is None:
            text = f"t?:{value.isoformat()}"
        else:
            utc = value.astimezone(timezone.utc)
            text = f"t:{utc.strftime('%Y-%m-%dT%H:%M:%S.%f')}+00:00"
    elif isinstance(value, date):
        text = f"d:{value.isoformat()}"
    elif isinstance(value, str):
        text = f"s:{value}"
    else:
        text = f"x:{value!r}"
    return text[:_TERM_LENGTH]


def _terms(projected: dict[str, Scalar]) -> list[tuple[str, str | None]]:
    """The ``(field, term)`` rows of one record: one per value, one per item of a tuple."""
    rows: list[tuple[str, str | None]] = []
    for field, value in projected.items():
        values = value if isinstance(value, tuple) else (value,)
        rows.extend((field, _term(v)) for v in values)
    return rows


def _pushable(value: object) -> bool:
    """Whether a filter value has a term that matches exactly what Python's ``==`` matches."""
    if isinstance(value, datetime):
        return value.tzinfo is not None
    return value is None or isinstance(value, (bool, int, Decimal, date, str))


def _term_condition(flt: Filter) -> Q | None:
    """The condition on ``RecordTerm`` rows one filter implies, or ``None`` to leave it to Python.

    Every condition selects a superset of the records the filter matches, never fewer: SQL
    narrows, :func:`run_query` decides.
    """
    if flt.op in (Op.EQ, Op.CONTAINS) and _pushable(flt.value):
        term = _term(flt.value)
        return Q(value__isnull=True) if term is None else Q(value=term)
    if flt.op is Op.IN and isinstance(flt.value, (list, tuple, set, frozenset)):
        items = list(flt.value)
        if not all(_pushable(v) for v in items):
            return None
        terms = [t for t in map(_term, items) if t is not None]
        condition = Q(value__in=terms)
        if len(terms) < len(items):
            condition |= Q(value__isnull=True)
        return condition
    if flt.op is Op.STARTSWITH:
        prefix = f"s:{flt.value}"
        # SQLite's LIKE ignores ASCII case, so this may keep a few rows too many; never too few.
        return Q(value__startswith=prefix) if len(prefix) <= _TERM_LENGTH else None
    return None


def _narrow(rows: QuerySet[Record], flt: Filter) -> QuerySet[Record]:
    """Apply the SQL part of one filter to a queryset of one kind's records."""
    if flt.field == "id":
        if flt.op is Op.EQ and isinstance(flt.value, str):
            return rows.filter(record_id=flt.value)
        if flt.op is Op.IN and isinstance(flt.value, (list, tuple, set, frozenset)):
            ids = list(flt.value)
            if all(isinstance(i, str) for i in ids):
                return rows.filter(record_id__in=ids)
        return rows
    condition = _term_condition(flt)
    if condition is None:
        return rows
    terms = RecordTerm.objects.filter(condition, record=OuterRef("pk"), field=flt.field)
    return rows.filter(Exists(terms))


# ----- the repository -------------------------------------------------------------------------


class DjangoRepository(Generic[A]):
    """The records of one kind in ``Record``; implements :class:`crmkit.ports.Repository`."""

    def __init__(self, uow: DjangoUnitOfWork, record_type: RecordType[A]) -> None:
        self._uow = uow
        self._type = record_type
        self._kind = record_type.name

    @property
    def record_type(self) -> RecordType[A]:
        """The record type this repository stores."""
        return self._type

    def _rows(self) -> QuerySet[Record]:
        return Record.objects.using(self._uow.using).filter(kind=self._kind)

    def _load(self, document: dict[str, Any], version: int, schema_version: int) -> A:
        return from_document(self._type, document, version, schema_version)

    # ----- reads ------------------------------------------------------------------------------
    def get(self, id: str) -> A:
        """Return a fresh copy of the aggregate with ``id``; ``NotFoundError`` if there is none."""
        with _storage_errors(f"read {self._kind}"):
            row = (
                self._rows()
                .filter(record_id=id)
                .values_list("document", "version", "schema_version")
                .first()
            )
        if row is None:
            raise not_found(self._kind, [id])
        return self._load(*row)

    def _documents(self, ids: Sequence[str]) -> dict[str, A]:
        found: dict[str, A] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            with _storage_errors(f"read {self._kind}"):
                rows = list(
                    self._rows()
                    .filter(record_id__in=chunk)
                    .values_list("record_id", "document", "version", "schema_version")
                )
            for record_id, document, version, schema_version in rows:
                found[record_id] = self._load(document, version, schema_version)
        return found

    def get_many(self, ids: Iterable[str]) -> list[A]:
        """Return fresh copies in the order asked; ``NotFoundError`` lists every missing id."""
        wanted = check_ids(ids)
        found = self._documents(wanted)
        missing = [i for i in wanted if i not in found]
        if missing:
            raise not_found(self._kind, missing)
        return [found[i] for i in wanted]

    # --8<-- [start:query]
    def query(self, query: Query) -> Page[A]:
        """Return one page of aggregates matching ``query`` (see the module docstring)."""
        self._type.check_query(query)
        rows = self._rows()
        for flt in query.filters:
            rows = _narrow(rows, flt)
        with _storage_errors(f"query {self._kind}"):
            candidates = list(rows.values_list("record_id", "projection"))
        page = run_query(
            ((rid, {k: _decode(v) for k, v in fields.items()}, rid) for rid, fields in candidates),
            query,
        )
        found = self._documents(page.items)
        return Page(items=tuple(found[rid] for rid in page.items), next_cursor=page.next_cursor)

    # --8<-- [end:query]

    # ----- writes -----------------------------------------------------------------------------
    def _prepare(
        self, agg: A
    ) -> tuple[dict[str, Any], dict[str, Any], list[tuple[str, str | None]]]:
        projected = self._type.project(agg)
        document = to_document(self._type, agg)  # a copy: later changes to agg are not stored
        return document, {k: _encode(v) for k, v in projected.items()}, _terms(projected)

    def _write_terms(self, record_pk: int, terms: list[tuple[str, str | None]]) -> None:
        RecordTerm.objects.using(self._uow.using).bulk_create(
            RecordTerm(record_id=record_pk, field=field, value=value) for field, value in terms
        )

    def add(self, aggregate: A) -> None:
        """Insert a new aggregate at version 1; ``DuplicateError`` if the id exists."""
        agg = check_aggregate(self._type, aggregate)
        if agg.version != 0:
            raise ValidationError(
                f"a new {self._kind} record must have version 0, got {agg.version}; "
                "use save() for stored records",
                path="version",
            )
        document, projection, terms = self._prepare(agg)
        using = self._uow.begin()
        with _storage_errors(f"insert into {self._kind}"):
            try:
                with transaction.atomic(using=using):  # a savepoint: a duplicate undoes only this
                    record = Record.objects.using(using).create(
                        kind=self._kind,
                        record_id=agg.id,
                        version=1,
                        schema_version=self._type.schema_version,
                        document=document,
                        projection=projection,
                    )
                    self._write_terms(record.pk, terms)
            except IntegrityError:
                raise duplicate(self._kind, agg.id) from None
        agg.version = 1
        self._uow.track(agg)

    def add_many(self, aggregates: Iterable[A]) -> None:
        """Insert many new aggregates with ``bulk_create``: all of them, or none."""
        batch = check_new(self._type, aggregates)
        if not batch:
            return
        prepared = [(agg, *self._prepare(agg)) for agg in batch]
        using = self._uow.begin()
        with _storage_errors(f"insert into {self._kind}"):
            try:
                with transaction.atomic(using=using):
                    records = Record.objects.using(using).bulk_create(
                        Record(
                            kind=self._kind,
                            record_id=agg.id,
                            version=1,
                            schema_version=self._type.schema_version,
                            document=document,
                            projection=projection,
                        )
                        for agg, document, projection, _terms in prepared
                    )
                    pks = [r.pk for r in records]
                    if None in pks:  # a backend that cannot return ids from a bulk insert
                        by_id = dict(
                            self._rows()
                            .filter(record_id__in=[a.id for a in batch])
                            .values_list("record_id", "pk")
                        )
                        pks = [by_id[agg.id] for agg in batch]
                    RecordTerm.objects.using(using).bulk_create(
                        RecordTerm(record_id=pk, field=field, value=value)
                        for pk, (_agg, _doc, _proj, terms) in zip(pks, prepared, strict=True)
                        for field, value in terms
                    )
            except IntegrityError:
                raise self._duplicates([agg.id for agg in batch]) from None
        for agg in batch:
            agg.version = 1
            self._uow.track(agg)

    def _duplicates(self, ids: list[str]) -> CRMError:
        stored: set[str] = set()
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            stored.update(
                self._rows().filter(record_id__in=chunk).values_list("record_id", flat=True)
            )
        for id in ids:
            if id in stored:
                return duplicate(self._kind, id)
        return StorageError(
            f"the database refused the batch for {self._kind} (a constraint failed)"
        )

    # --8<-- [start:save]
    def save(self, aggregate: A) -> None:
        """Update a stored aggregate if its version is current, bumping it by one."""
        agg = check_aggregate(self._type, aggregate)
        document, projection, terms = self._prepare(agg)
        using = self._uow.begin()
        with _storage_errors(f"update {self._kind}"), transaction.atomic(using=using):
            updated = (
                self._rows()
                .filter(record_id=agg.id, version=agg.version)
                .update(
                    version=agg.version + 1,
                    schema_version=self._type.schema_version,
                    document=document,
                    projection=projection,
                )
            )
            if updated != 1:  # someone else saved or removed it first: never overwrite silently
                raise self._stale(agg)
            pk = self._rows().filter(record_id=agg.id).values_list("pk", flat=True).get()
            RecordTerm.objects.using(using).filter(record_id=pk).delete()
            self._write_terms(pk, terms)
        agg.version += 1
        self._uow.track(agg)

    def remove(self, aggregate: A) -> None:
        """Delete a stored aggregate if its version is current."""
        agg = check_aggregate(self._type, aggregate)
        using = self._uow.begin()
        with _storage_errors(f"delete from {self._kind}"), transaction.atomic(using=using):
            # Claim the row with the same conditional UPDATE as save(), then delete it: a plain
            # filtered delete() lets Django collect the rows first and delete them by pk, which
            # would not re-check the version.
            claimed = (
                self._rows()
                .filter(record_id=agg.id, version=agg.version)
                .update(version=agg.version + 1)
            )
            if claimed != 1:
                raise self._stale(agg)
            pk = self._rows().filter(record_id=agg.id).values_list("pk", flat=True).get()
            RecordTerm.objects.using(using).filter(record_id=pk).delete()
            Record.objects.using(using).filter(pk=pk).delete()
        self._uow.track(agg)

    def _stale(self, agg: A) -> ConcurrencyError | NotFoundError:
        actual = self._rows().filter(record_id=agg.id).values_list("version", flat=True).first()
        if actual is None and agg.version == 0:
            return not_found(self._kind, [agg.id])
        return ConcurrencyError.stale(self._kind, agg.id, expected=agg.version, actual=actual)

    # --8<-- [end:save]


# ----- the unit of work -----------------------------------------------------------------------


class DjangoUnitOfWork:
    """One ``transaction.atomic()`` block; implements :class:`crmkit.ports.UnitOfWork`."""

    customers: ports.Repository[Any]
    contacts: ports.Repository[Any]
    interactions: ports.Repository[Any]
    deliveries: ports.Repository[Any]
    leads: ports.Repository[Any]
    pipelines: ports.Repository[Any]
    opportunities: ports.Repository[Any]
    products: ports.Repository[Any]
    price_books: ports.Repository[Any]
    discount_rule_sets: ports.Repository[Any]
    coupons: ports.Repository[Any]
    quotes: ports.Repository[Any]

    def __init__(self, store: DjangoStore) -> None:
        self.using = store.using
        self._atomic: transaction.Atomic | None = None
        self._tracked: dict[int, Aggregate] = {}  # by object identity, in first-touch order
        self._repositories: dict[str, DjangoRepository[Any]] = {
            name: DjangoRepository(self, rt) for name, rt in store.record_types.items()
        }
        for name, repository in self._repositories.items():
            setattr(self, name, repository)

    def repository(self, record_type: RecordType[A]) -> DjangoRepository[A]:
        """Return the repository for ``record_type`` (for record types beyond crmkit's own)."""
        return pick_repository(self._repositories, record_type)

    def __enter__(self) -> DjangoUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    # --8<-- [start:unit_of_work]
    def begin(self) -> str:
        """Open this unit of work's transaction if it is not open yet; return the database alias.

        Called by the repositories before their first write.
        """
        if self._atomic is None:
            atomic = transaction.atomic(using=self.using)
            with _storage_errors("begin a transaction"):
                atomic.__enter__()
            self._atomic = atomic
        return self.using

    def track(self, aggregate: Aggregate) -> None:
        """Remember an aggregate written in this unit of work, for its events."""
        self._tracked.setdefault(id(aggregate), aggregate)

    def commit(self) -> tuple[DomainEvent, ...]:
        """Append the written aggregates' events to the outbox and commit; return the events."""
        events = [e for agg in self._tracked.values() for e in agg.pending_events]
        if self._atomic is None and not events:
            self._tracked.clear()
            return ()
        using = self.begin()
        try:
            if events:
                with _storage_errors("write the outbox"):
                    # Hold the outbox lock until COMMIT, so positions follow commit order.
                    lock = OutboxLock.objects.using(using).select_for_update().filter(pk=1)
                    if not list(lock.values_list("pk", flat=True)):
                        raise StorageError(
                            "the outbox lock row (crm_bridge_outboxlock, id 1) is missing; "
                            "run `python manage.py migrate crm_bridge`",
                            details={"table": "crm_bridge_outboxlock"},
                        )
                    OutboxEntry.objects.using(using).bulk_create(
                        OutboxEntry(
                            event_id=e.event_id,
                            event_type=e.event_type,
                            aggregate_id=e.aggregate_id,
                            payload=unstructure(e),
                        )
                        for e in events
                    )
        except BaseException:
            self.rollback()
            raise
        atomic, self._atomic = self._atomic, None
        assert atomic is not None
        with _storage_errors("commit"):
            atomic.__exit__(None, None, None)
        for agg in self._tracked.values():
            agg.pull_events()
        self._tracked.clear()
        return tuple(events)

    def rollback(self) -> None:
        """Discard every write since the transaction began."""
        atomic, self._atomic = self._atomic, None
        if atomic is not None:
            transaction.set_rollback(True, using=self.using)
            with _storage_errors("roll back"):
                atomic.__exit__(None, None, None)
        self._tracked.clear()

    # --8<-- [end:unit_of_work]


# ----- the outbox -----------------------------------------------------------------------------


class DjangoOutbox:
    """The ``OutboxEntry`` table; implements :class:`crmkit.ports.Outbox`."""

    def __init__(self, using: str) -> None:
        self.using = using

    def pending(self, limit: int = 100) -> list[ports.OutboxEntry]:
        """Return up to ``limit`` (at least 1) undelivered events, oldest first."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError(f"must be a positive int, got {limit!r}", path="limit")
        with _storage_errors("read the outbox"):
            rows = list(
                OutboxEntry.objects.using(self.using)
                .filter(delivered_at__isnull=True)
                .order_by("position")
                .values_list("position", "payload")[:limit]
            )
        return [
            ports.OutboxEntry(position=position, event=structure(payload, DomainEvent))
            for position, payload in rows
        ]

    def mark_delivered(self, positions: Iterable[int]) -> None:
        """Mark entries delivered; marking twice is harmless, unknown positions are refused."""
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
        wanted = sorted(set(wanted))
        if not wanted:
            return
        entries = OutboxEntry.objects.using(self.using)
        with _storage_errors("update the outbox"), transaction.atomic(using=self.using):
            known: set[int] = set()
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                known.update(entries.filter(position__in=chunk).values_list("position", flat=True))
            unknown = [p for p in wanted if p not in known]
            if unknown:
                raise ValidationError(f"no outbox entries at positions {unknown}", path="positions")
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                entries.filter(position__in=chunk, delivered_at__isnull=True).update(
                    delivered_at=Now()
                )


# ----- the store ------------------------------------------------------------------------------


class DjangoStore:
    """crmkit's records in this app's Django models; implements :class:`crmkit.ports.Store`.

    Args:
        using: the Django database alias (``"default"``).
        record_types: the aggregates to store (crmkit's own by default; add yours with
            ``(*RECORD_TYPES, NOTES)``; they need no migration).

    The store holds no connection: Django gives each thread its own, so a ``DjangoStore`` is
    safe to share between threads (use one unit of work per thread).
    """

    def __init__(
        self, *, using: str = "default", record_types: Sequence[RecordType[Any]] = RECORD_TYPES
    ) -> None:
        self.using = using
        self.record_types = check_record_types(record_types)

    def unit_of_work(self) -> DjangoUnitOfWork:
        """Return a new unit of work (use one per thread, as a context manager)."""
        return DjangoUnitOfWork(self)

    @property
    def outbox(self) -> DjangoOutbox:
        """The outbox of committed events."""
        return DjangoOutbox(self.using)
