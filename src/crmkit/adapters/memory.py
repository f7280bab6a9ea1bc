"""The in-memory store: the ports' full semantics, kept in one process, for tests and examples.

Nothing here is a dict without rules. A :class:`MemoryStore` keeps each record as a serialized
document beside its version, so every read builds a fresh object and nothing a caller holds is
shared with the store. A :class:`MemoryUnitOfWork` stages writes (snapshots of documents, not
the objects) and its ``commit()`` re-checks every staged version and applies all writes, plus
the outbox entries, under the store's one lock: an atomic versioned write, so two threads can
never both win a read-modify-write.

Use one unit of work per thread; the store itself is thread-safe.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.customers import Customer
    >>> store = MemoryStore()
    >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> with store.unit_of_work() as uow:
    ...     uow.customers.add(Customer.register(id="cus_1", name="Acme", kind="company", now=now))
    ...     [e.event_type for e in uow.commit()]
    ['customers.CustomerRegistered']
    >>> with store.unit_of_work() as uow:
    ...     acme = uow.customers.get("cus_1")
    ...     acme.rename("Acme Corp", now=now)
    ...     uow.customers.save(acme)
    ...     _ = uow.commit()
    >>> acme.version, [(e.position, e.event.event_type) for e in store.outbox.pending()]
    (2, [(1, 'customers.CustomerRegistered'), (2, 'customers.CustomerRenamed')])

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

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
    stored_document,
    to_document,
)
from crmkit.customers import Contact, Customer, Interaction
from crmkit.customers import Order as PurchaseOrder
from crmkit.customers.dedup import DuplicateReview, MergeRecord
from crmkit.errors import (
    ConcurrencyError,
    ConflictError,
    CRMError,
    NotFoundError,
    ValidationError,
)
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import check_id
from crmkit.kernel.query import Page, Query, RecordType, Scalar, run_query
from crmkit.leads import Lead
from crmkit.loyalty import LoyaltyProgram, Membership, Referral
from crmkit.notifications.delivery import Delivery
from crmkit.pipeline import Opportunity, Pipeline
from crmkit.ports import Notification, OutboxEntry, Person, Repository, StoredRecord
from crmkit.pricing import Coupon, DiscountRuleSet, PriceBook, Product, Quote
from crmkit.service import Complaint, StoredCalendar, StoredSlaPolicySet
from crmkit.service.maintenance import MaintenanceContract, WorkOrder

if TYPE_CHECKING:
    from crmkit.adapters.cipher import EncryptedFields
    from crmkit.ports import Notifier, Store, UnitOfWork

__all__ = [
    "MemoryOutbox",
    "MemoryRepository",
    "MemoryStore",
    "MemoryUnitOfWork",
    "RecordingNotifier",
    "StaticDirectory",
]

A = TypeVar("A", bound=Aggregate)

#: The record types a store must hold because the ``UnitOfWork`` port names their repositories.

# A committed or staged record: (version, document).
_Record = tuple[int, dict[str, Any]]


@attrs.frozen
class _Staged:
    """One record's pending change in a unit of work.

    ``base`` is the committed version this change was made against (``None``: the record must
    not exist when committing); ``version``/``document`` are the new state (``None``: removed).
    """

    base: int | None
    version: int | None
    document: dict[str, Any] | None


class MemoryStore:
    """Keeps records, as documents, and the outbox in memory; implements ``crmkit.ports.Store``.

    Args:
        record_types: the aggregates to store; must include crmkit's own
            (:data:`~crmkit.adapters.RECORD_TYPES`, the default).

    Example:
        >>> store = MemoryStore()
        >>> [rt.name for rt in store.record_types]
        ['customers', 'contacts', 'interactions', 'orders', 'duplicate_reviews',
         'customer_merges', 'deliveries', 'leads', 'pipelines',
         'opportunities', 'products', 'price_books', 'discount_rule_sets', 'coupons', 'quotes',
         'complaints', 'business_calendars', 'sla_policy_sets', 'maintenance_contracts',
         'work_orders', 'loyalty_programs', 'memberships', 'referrals', 'audit_entries']
        >>> MemoryStore(record_types=())
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: record_types: must include customers, contacts, ...

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        record_types: Sequence[RecordType[Any]] = RECORD_TYPES,
        *,
        encryption: EncryptedFields | None = None,
    ) -> None:
        by_name = check_record_types(record_types)
        self.encryption = encryption
        self._record_types = by_name
        self._data: dict[str, dict[str, _Record]] = {name: {} for name in by_name}
        self._entries: list[OutboxEntry] = []
        self._undelivered: dict[int, OutboxEntry] = {}
        self._lock = threading.Lock()
        self._outbox = MemoryOutbox(self)

    @property
    def record_types(self) -> tuple[RecordType[Any], ...]:
        """The record types this store keeps, in the order given."""
        return tuple(self._record_types.values())

    def unit_of_work(self) -> MemoryUnitOfWork:
        """Return a new unit of work; use it as a context manager, one per thread.

        Example:
            >>> store = MemoryStore()
            >>> store.unit_of_work() is store.unit_of_work()
            False
        """
        return MemoryUnitOfWork(self)

    @property
    def outbox(self) -> MemoryOutbox:
        """The committed events, in commit order, until marked delivered."""
        return self._outbox

    def load_records(
        self, records: Iterable[StoredRecord], events: Iterable[DomainEvent] = ()
    ) -> None:
        """Bulk-load records as they are, versions included, and events into the outbox.

        For restores and imports: all of it or nothing. An id stored already (or twice in the
        batch) is a ``DuplicateError``. The store keeps each document it is given (do not change
        it afterwards) and trusts it to be what ``to_document`` makes:
        :func:`crmkit.adapters.backup.restore` checks every record before it loads them.

        Example:
            >>> from crmkit.ports import StoredRecord
            >>> store = MemoryStore()
            >>> doc = {"id": "cus_1", "name": "Acme", "kind": "company",
            ...        "created_at": "2026-01-05T00:00:00+00:00"}
            >>> store.load_records([StoredRecord("customers", "cus_1", 7, 1, doc)])
            >>> with store.unit_of_work() as uow:
            ...     uow.customers.get("cus_1").version
            7
        """
        groups = check_stored(self._record_types, records)
        rows: list[tuple[str, list[tuple[str, int, dict[str, Any]]]]] = []
        for rt, group in groups:
            current = rt.schema_version
            documents = [
                (r.id, r.version, r.document)
                if r.schema_version == current
                else (r.id, r.version, stored_document(rt, r))
                for r in group
            ]
            if self.encryption is not None:
                documents = [(i, v, self._seal(rt.name, i, d)) for i, v, d in documents]
            rows.append((rt.name, documents))
        pending = check_events(events)
        with self._lock:
            for name, batch in rows:
                stored = self._data[name]
                for id, _, _ in batch:
                    if id in stored:
                        raise duplicate(name, id)
            for name, batch in rows:
                stored = self._data[name]
                for id, version, document in batch:
                    stored[id] = (version, document)
            for event in pending:
                entry = OutboxEntry(position=len(self._entries) + 1, event=event)
                self._entries.append(entry)
                self._undelivered[entry.position] = entry

    def _seal(self, name: str, id: str, document: dict[str, Any]) -> dict[str, Any]:
        """The document as kept: its personal data encrypted when encryption is on."""
        if self.encryption is None:
            return document
        return self.encryption.seal(name, id, document)

    # ----- used by units of work, always under the lock --------------------------------------
    def _read(self, name: str, id: str) -> _Record | None:
        with self._lock:
            return self._data[name].get(id)

    def _read_all(self, name: str) -> dict[str, _Record]:
        with self._lock:
            return dict(self._data[name])


class MemoryRepository(Generic[A]):
    """One record type's view through a unit of work; implements ``crmkit.ports.Repository``.

    Reads see the unit of work's own staged writes. Every read returns a fresh object built from
    a document, and writes stage a snapshot of the object's document, so changing an object
    afterwards (without saving it again) changes nothing stored or staged.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.customers import Customer
        >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> with MemoryStore().unit_of_work() as uow:
        ...     c = Customer.register(id="cus_1", name="Acme", kind="company", now=now)
        ...     uow.customers.add(c)
        ...     copy = uow.customers.get("cus_1")
        ...     (c.version, copy.version, copy == c, copy is c)
        (1, 1, True, False)

    .. versionadded:: 0.1.0
    """

    def __init__(self, uow: MemoryUnitOfWork, record_type: RecordType[A]) -> None:
        self._uow = uow
        self._record_type = record_type
        self._kind = record_type.name

    @property
    def record_type(self) -> RecordType[A]:
        """The record type this repository stores."""
        return self._record_type

    # ----- reads ---------------------------------------------------------------------------
    def _build(self, record: _Record) -> A:
        version, document = record
        encryption = self._uow._store.encryption
        if encryption is not None:
            document = encryption.open(self._kind, str(document.get("id")), copy.deepcopy(document))
        return from_document(self._record_type, document, version, self._record_type.schema_version)

    def get(self, id: str) -> A:
        """Return a fresh copy of the aggregate with ``id``; ``NotFoundError`` if there is none.

        Example:
            >>> with MemoryStore().unit_of_work() as uow:
            ...     uow.customers.get("cus_404")
            Traceback (most recent call last):
            ...
            crmkit.errors.NotFoundError: no customers record with id 'cus_404'
        """
        check_id(id)
        record = self._uow._visible(self._kind, id)
        if record is None:
            raise not_found(self._kind, [id])
        return self._build(record)

    def get_many(self, ids: Iterable[str]) -> list[A]:
        """Return fresh copies in the order asked; ``NotFoundError`` names every missing id.

        Example:
            >>> with MemoryStore().unit_of_work() as uow:
            ...     uow.contacts.get_many(["con_1", "con_2"])
            Traceback (most recent call last):
            ...
            crmkit.errors.NotFoundError: no contacts records with ids 'con_1', 'con_2'
        """
        wanted = check_ids(ids)
        found: dict[str, _Record] = {}
        missing: list[str] = []
        for id in wanted:
            record = self._uow._visible(self._kind, id)
            if record is None:
                if id not in missing:
                    missing.append(id)
            else:
                found[id] = record
        if missing:
            raise not_found(self._kind, missing)
        return [self._build(found[id]) for id in wanted]

    def query(self, query: Query) -> Page[A]:
        """Return one page of aggregates matching ``query`` (see :class:`~crmkit.kernel.Query`).

        Example:
            >>> from crmkit.kernel.query import Query
            >>> with MemoryStore().unit_of_work() as uow:
            ...     uow.customers.query(Query.where(kind="company")).items
            ()
        """
        if not isinstance(query, Query):
            raise ValidationError(
                f"must be a crmkit.kernel.Query, not {type(query).__name__}", path="query"
            )
        self._record_type.check_query(query)
        rows: list[tuple[str, dict[str, Scalar], A]] = []
        for id, record in self._uow._visible_all(self._kind).items():
            aggregate = self._build(record)
            rows.append((id, self._record_type.project(aggregate), aggregate))
        return run_query(rows, query)

    # ----- writes --------------------------------------------------------------------------
    def add(self, aggregate: A) -> None:
        """Stage a new aggregate at version 1 (and set its ``version`` to 1).

        ``DuplicateError`` if the id is stored or staged already; a ``ValidationError`` if the
        aggregate's version is not 0 (it was stored before: use :meth:`save`).

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.customers import Customer
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> with MemoryStore().unit_of_work() as uow:
            ...     uow.customers.add(Customer.register(id="cus_1", name="A", kind="person",
            ...                                         now=now))
            ...     uow.customers.add(Customer.register(id="cus_1", name="B", kind="person",
            ...                                         now=now))
            Traceback (most recent call last):
            ...
            crmkit.errors.DuplicateError: customers record 'cus_1' already exists; ...
        """
        agg = check_aggregate(self._record_type, aggregate)
        if agg.version != 0:
            raise ValidationError(
                f"a new {self._kind} record must have version 0, got {agg.version}; "
                "use save() for stored records",
                path="version",
            )
        if self._uow._visible(self._kind, agg.id) is not None:
            raise duplicate(self._kind, agg.id)
        document = self._uow._store._seal(self._kind, agg.id, to_document(self._record_type, agg))
        staged = self._uow._staged_entry(self._kind, agg.id)
        base = staged.base if staged is not None else None
        self._uow._stage(self._kind, agg.id, _Staged(base, 1, document))
        agg.version = 1
        self._uow._touch(agg)

    def add_many(self, aggregates: Iterable[A]) -> None:
        """Stage many new aggregates at once: all of them, or none (``DuplicateError``).

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.customers import Customer
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> with MemoryStore().unit_of_work() as uow:
            ...     uow.customers.add_many(
            ...         Customer(id=f"cus_{i}", name="A", kind="person", created_at=now)
            ...         for i in range(3))
            ...     len(uow.customers.get_many(["cus_0", "cus_1", "cus_2"]))
            3
        """
        batch = check_new(self._record_type, aggregates)
        for agg in batch:
            if self._uow._visible(self._kind, agg.id) is not None:
                raise duplicate(self._kind, agg.id)
        for agg in batch:
            self.add(agg)

    def save(self, aggregate: A) -> None:
        """Stage a changed aggregate if its version is still current; bump its version by one.

        ``ConcurrencyError`` if someone else saved or removed it since it was read (checked now
        and again at commit); ``NotFoundError`` if it was never stored (version 0).

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.customers import Customer
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> store = MemoryStore()
            >>> with store.unit_of_work() as uow:
            ...     uow.customers.add(Customer.register(id="cus_1", name="A", kind="person",
            ...                                         now=now))
            ...     _ = uow.commit()
            >>> with store.unit_of_work() as first, store.unit_of_work() as second:
            ...     mine, theirs = first.customers.get("cus_1"), second.customers.get("cus_1")
            ...     second.customers.save(theirs)
            ...     _ = second.commit()
            ...     first.customers.save(mine)
            Traceback (most recent call last):
            ...
            crmkit.errors.ConcurrencyError: customers 'cus_1' was changed by someone else ...
        """
        agg = check_aggregate(self._record_type, aggregate)
        base = self._check_version(agg)
        document = self._uow._store._seal(self._kind, agg.id, to_document(self._record_type, agg))
        self._uow._stage(self._kind, agg.id, _Staged(base, agg.version + 1, document))
        agg.version += 1
        self._uow._touch(agg)

    def remove(self, aggregate: A) -> None:
        """Stage the removal of an aggregate, under the same version check as :meth:`save`.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.customers import Customer
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> with MemoryStore().unit_of_work() as uow:
            ...     c = Customer.register(id="cus_1", name="A", kind="person", now=now)
            ...     uow.customers.add(c)
            ...     uow.customers.remove(c)
            ...     uow.customers.get("cus_1")
            Traceback (most recent call last):
            ...
            crmkit.errors.NotFoundError: no customers record with id 'cus_1'
        """
        agg = check_aggregate(self._record_type, aggregate)
        base = self._check_version(agg)
        if base is None:  # added in this unit of work: removing it leaves nothing to write
            self._uow._unstage(self._kind, agg.id)
        else:
            self._uow._stage(self._kind, agg.id, _Staged(base, None, None))
        self._uow._touch(agg)

    def _check_version(self, agg: A) -> int | None:
        """Check ``agg.version`` against what this unit of work sees; return the staging base."""
        record = self._uow._visible(self._kind, agg.id)
        if record is None:
            if agg.version == 0:
                raise NotFoundError(
                    f"no {self._kind} record with id {agg.id!r}; use add() for new records",
                    details={"kind": self._kind, "id": agg.id, "ids": [agg.id]},
                )
            raise ConcurrencyError.stale(self._kind, agg.id, expected=agg.version, actual=None)
        if record[0] != agg.version:
            raise ConcurrencyError.stale(self._kind, agg.id, expected=agg.version, actual=record[0])
        staged = self._uow._staged_entry(self._kind, agg.id)
        return staged.base if staged is not None else record[0]


class MemoryUnitOfWork:
    """One atomic transaction over a :class:`MemoryStore`; implements ``crmkit.ports.UnitOfWork``.

    Writes are staged until :meth:`commit`, which, under the store's lock, re-checks every
    staged write against the committed versions, then applies all of them and appends the
    touched aggregates' pending events to the outbox, or applies nothing and raises
    (``ConcurrencyError``; ``DuplicateError`` when another unit of work added the same id first).
    A failed commit also discards the staging, as :meth:`rollback` does.

    Aggregates' ``version`` numbers change when they are added or saved, not at commit; after a
    rollback or a failed commit, read them again instead of reusing the objects.

    After ``commit()`` or ``rollback()`` the unit of work can be used again: later writes start
    a fresh staging area and need their own ``commit()``. Leaving the ``with`` block always
    rolls back whatever is still staged, also when an exception leaves it.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.customers import Customer
        >>> from crmkit.kernel.query import Query
        >>> store = MemoryStore()
        >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> with store.unit_of_work() as uow:
        ...     uow.customers.add(Customer.register(id="cus_1", name="A", kind="person", now=now))
        >>> with store.unit_of_work() as uow:  # the block above never committed
        ...     uow.customers.query(Query()).items
        ()

    .. versionadded:: 0.1.0
    """

    # Typed as the port (whose attributes are mutable, hence invariant) so that a
    # MemoryUnitOfWork is a crmkit.ports.UnitOfWork; each is a MemoryRepository.
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

    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._staged: dict[str, dict[str, _Staged]] = {name: {} for name in store._data}
        self._touched: dict[int, Aggregate] = {}  # by identity, in first-touch order
        self._rewrites: dict[int, DomainEvent] = {}  # outbox position -> redacted event
        self._repositories: dict[str, MemoryRepository[Any]] = {
            rt.name: MemoryRepository(self, rt) for rt in store.record_types
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

    def repository(self, record_type: RecordType[A]) -> MemoryRepository[A]:
        """Return the repository for ``record_type`` (for record types beyond crmkit's own).

        Example:
            >>> from crmkit.customers import CONTACTS
            >>> uow = MemoryStore().unit_of_work()
            >>> uow.repository(CONTACTS) is uow.contacts
            True
        """
        return pick_repository(self._repositories, record_type)

    def __enter__(self) -> MemoryUnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    def commit(self) -> tuple[DomainEvent, ...]:
        """Apply every staged write and append the events to the outbox, atomically.

        Returns the committed events, in the order their aggregates were first added, saved or
        removed in this unit of work; those aggregates' pending events are cleared only after
        the commit succeeded.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.customers import Customer
            >>> store = MemoryStore()
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> with store.unit_of_work() as uow:
            ...     c = Customer.register(id="cus_1", name="A", kind="person", now=now)
            ...     uow.customers.add(c)
            ...     [type(e).__name__ for e in uow.commit()], c.pending_events
            (['CustomerRegistered'], ())
        """
        touched = list(self._touched.values())
        events = tuple(e for agg in touched for e in agg.pending_events)
        store = self._store
        try:
            with store._lock:
                for name, staged in self._staged.items():
                    committed = store._data[name]
                    for id, change in staged.items():
                        current = committed.get(id)
                        actual = None if current is None else current[0]
                        if actual != change.base:
                            raise self._conflict(name, id, change.base, actual)
                for name, staged in self._staged.items():
                    committed = store._data[name]
                    for id, change in staged.items():
                        if change.version is None or change.document is None:
                            committed.pop(id, None)
                        else:
                            committed[id] = (change.version, change.document)
                for event in events:
                    entry = OutboxEntry(position=len(store._entries) + 1, event=event)
                    store._entries.append(entry)
                    store._undelivered[entry.position] = entry
                for position, event in self._rewrites.items():
                    entry = OutboxEntry(position=position, event=event)
                    store._entries[position - 1] = entry
                    if position in store._undelivered:
                        store._undelivered[position] = entry
        except ConflictError:
            self.rollback()
            raise
        for agg in touched:
            agg.pull_events()
        self._reset()
        return events

    def rollback(self) -> None:
        """Discard every staged write; nothing reaches the store or the outbox.

        Example:
            >>> uow = MemoryStore().unit_of_work()
            >>> uow.rollback()
        """
        self._reset()

    @staticmethod
    def _conflict(name: str, id: str, expected: int | None, actual: int | None) -> ConflictError:
        if expected is None:
            return duplicate(name, id)
        return ConcurrencyError.stale(name, id, expected=expected, actual=actual)

    # ----- staging, used by the repositories -----------------------------------------------
    def outbox_entries(self) -> list[OutboxEntry]:
        """Every outbox entry, delivered or not, oldest first, with this unit's rewrites.

        Example:
            >>> MemoryStore().unit_of_work().outbox_entries()
            []
        """
        with self._store._lock:
            entries = list(self._store._entries)
        return [
            OutboxEntry(e.position, self._rewrites[e.position])
            if e.position in self._rewrites
            else e
            for e in entries
        ]

    def redact_outbox(self, scrub: Callable[[DomainEvent], DomainEvent | None]) -> list[int]:
        """Stage rewriting outbox entries, delivered ones too (for privacy requests).

        ``scrub`` gets each entry's event and returns the event to keep instead, or ``None``
        to keep it as it is. Returns the positions rewritten; ``commit()`` applies them.

        Example:
            >>> MemoryStore().unit_of_work().redact_outbox(lambda event: None)
            []
        """
        changed: list[int] = []
        for entry in self.outbox_entries():
            event = scrub(entry.event)
            if event is not None and event != entry.event:
                self._rewrites[entry.position] = event
                changed.append(entry.position)
        return changed

    def _reset(self) -> None:
        self._rewrites.clear()
        for staged in self._staged.values():
            staged.clear()
        self._touched.clear()

    def _staged_entry(self, name: str, id: str) -> _Staged | None:
        return self._staged[name].get(id)

    def _stage(self, name: str, id: str, change: _Staged) -> None:
        self._staged[name][id] = change

    def _unstage(self, name: str, id: str) -> None:
        self._staged[name].pop(id, None)

    def _touch(self, aggregate: Aggregate) -> None:
        self._touched.setdefault(id(aggregate), aggregate)

    def _visible(self, name: str, id: str) -> _Record | None:
        change = self._staged[name].get(id)
        if change is None:
            return self._store._read(name, id)
        if change.version is None or change.document is None:
            return None
        return (change.version, change.document)

    def _visible_all(self, name: str) -> dict[str, _Record]:
        records = self._store._read_all(name)
        for id, change in self._staged[name].items():
            if change.version is None or change.document is None:
                records.pop(id, None)
            else:
                records[id] = (change.version, change.document)
        return records


class MemoryOutbox:
    """A :class:`MemoryStore`'s outbox; implements ``crmkit.ports.Outbox``.

    Positions count 1, 2, 3, ... in commit order and are never reused.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.customers import Customer
        >>> store = MemoryStore()
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

    .. versionadded:: 0.1.0
    """

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    def pending(self, limit: int = 100) -> list[OutboxEntry]:
        """Return up to ``limit`` (at least 1) undelivered entries, oldest first.

        Example:
            >>> MemoryStore().outbox.pending(limit=0)
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: limit: must be a positive int, got 0
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValidationError(f"must be a positive int, got {limit!r}", path="limit")
        with self._store._lock:
            return list(itertools.islice(self._store._undelivered.values(), limit))

    def mark_delivered(self, positions: Iterable[int]) -> None:
        """Mark entries delivered; marking one twice is harmless.

        Unknown positions are a ``ValidationError`` naming them, and then nothing is marked.

        Example:
            >>> MemoryStore().outbox.mark_delivered([7])
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: positions: no outbox entries at positions [7]; ...
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
        with self._store._lock:
            last = len(self._store._entries)
            unknown = sorted({p for p in wanted if not 1 <= p <= last})
            if unknown:
                raise ValidationError(
                    f"no outbox entries at positions {unknown}; positions run from 1 to {last}",
                    path="positions",
                )
            for position in wanted:
                self._store._undelivered.pop(position, None)


class RecordingNotifier:
    """A notifier that records what it is asked to send; implements ``crmkit.ports.Notifier``.

    Args:
        fail_on: a predicate; when it returns true for a notification, ``send`` raises a
            ``CRMError`` instead of recording it as sent (the notification goes to ``failed``).
            To fail with a particular error, raise it from ``fail_on``.

    Example:
        >>> from crmkit.ports import Notification
        >>> notifier = RecordingNotifier(fail_on=lambda n: n.recipient.endswith("@down.example"))
        >>> notifier.send(Notification("amy@example.com", "email", "welcome", "en"))
        >>> notifier.send(Notification("bob@down.example", "email", "welcome", "en"))
        Traceback (most recent call last):
        ...
        crmkit.errors.CRMError: could not deliver 'welcome' to 'bob@down.example' by email ...
        >>> [n.recipient for n in notifier.sent], [n.recipient for n in notifier.failed]
        (['amy@example.com'], ['bob@down.example'])

    .. versionadded:: 0.1.0
    """

    def __init__(self, fail_on: Callable[[Notification], bool] | None = None) -> None:
        self.fail_on = fail_on
        self.sent: list[Notification] = []
        self.failed: list[Notification] = []
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        """Record ``notification`` as sent, or raise if ``fail_on`` says it fails."""
        if not isinstance(notification, Notification):
            raise ValidationError(
                f"must be a crmkit.ports.Notification, not {type(notification).__name__}",
                path="notification",
            )
        try:
            failing = self.fail_on is not None and self.fail_on(notification)
        except BaseException:
            with self._lock:
                self.failed.append(notification)
            raise
        with self._lock:
            if failing:
                self.failed.append(notification)
            else:
                self.sent.append(notification)
        if failing:
            raise CRMError(
                f"could not deliver {notification.template!r} to {notification.recipient!r} "
                f"by {notification.channel} (failure injected by RecordingNotifier.fail_on)",
                details={
                    "recipient": notification.recipient,
                    "channel": notification.channel,
                    "template": notification.template,
                    "idempotency_key": notification.idempotency_key,
                },
            )

    def clear(self) -> None:
        """Forget every recorded notification.

        Example:
            >>> notifier = RecordingNotifier()
            >>> notifier.clear(); notifier.sent
            []
        """
        with self._lock:
            self.sent.clear()
            self.failed.clear()


class StaticDirectory:
    """A fixed list of people; implements :class:`crmkit.ports.PeopleDirectory`.

    Example:
        >>> from crmkit.ports import Person
        >>> people = StaticDirectory([Person(id="usr_amy", name="Amy", email="amy@example.com")])
        >>> people.person("usr_amy").email, people.person("usr_bob")
        ('amy@example.com', None)

    .. versionadded:: 0.1.0
    """

    def __init__(self, people: Iterable[Person]) -> None:
        self._people: dict[str, Person] = {}
        for n, person in enumerate(people):
            if not isinstance(person, Person):
                raise ValidationError(
                    f"must be a crmkit.ports.Person, not {type(person).__name__}",
                    path=f"people[{n}]",
                )
            self._people[person.id] = person

    def person(self, user_id: str) -> Person | None:
        """Return the person with ``user_id``, or ``None``."""
        return self._people.get(user_id)


if TYPE_CHECKING:  # the in-memory classes satisfy the ports (checked by mypy only)

    def _is_store(store: MemoryStore) -> Store:
        return store

    def _is_unit_of_work(uow: MemoryUnitOfWork) -> UnitOfWork:
        return uow

    def _is_notifier(notifier: RecordingNotifier) -> Notifier:
        return notifier
