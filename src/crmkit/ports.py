"""The ports: ``typing.Protocol`` classes a host (or an adapter crmkit ships) implements.

Adapters satisfy these structurally; nothing needs to inherit from them. Every adapter crmkit ships
passes the matching contract suite in :mod:`crmkit.testing.contracts`, and a host's own adapter can
run the same suite.

Example:
    >>> from crmkit.adapters.memory import MemoryStore
    >>> from crmkit.ports import UnitOfWork
    >>> isinstance(MemoryStore().unit_of_work(), UnitOfWork)
    True

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar, runtime_checkable

import attrs

from crmkit.customers import Contact, Customer, Interaction, Order
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import IdGenerator
from crmkit.kernel.query import Page, Query
from crmkit.kernel.time import Clock

if TYPE_CHECKING:
    from datetime import date

    from crmkit.access.audit import AuditEntry
    from crmkit.analytics import Periods, Rate, SalesFacts
    from crmkit.customers.dedup import DuplicateReview, MergeRecord
    from crmkit.leads import Lead
    from crmkit.loyalty import LoyaltyProgram, Membership, Referral
    from crmkit.notifications.delivery import Delivery
    from crmkit.pipeline import Opportunity, Pipeline
    from crmkit.pricing import Coupon, DiscountRuleSet, PriceBook, Product, Quote
    from crmkit.service import Complaint, StoredCalendar, StoredSlaPolicySet
    from crmkit.service.maintenance import MaintenanceContract, WorkOrder

__all__ = [
    "AccessPolicy",
    "AnalyticsQueries",
    "BulkLoader",
    "Cipher",
    "Clock",
    "ExchangeRates",
    "IdGenerator",
    "MaskingPolicy",
    "Notification",
    "Notifier",
    "Outbox",
    "OutboxEntry",
    "PeopleDirectory",
    "Person",
    "Repository",
    "Store",
    "StoredRecord",
    "UnitOfWork",
]

A = TypeVar("A")


@runtime_checkable
class Repository(Protocol[A]):
    """Stores one kind of aggregate. Every read returns a fresh copy; writes are versioned.

    * ``get`` raises ``NotFoundError``; ``get_many`` returns them in the order asked and raises
      ``NotFoundError`` naming every missing id.
    * ``add`` stores a new aggregate at version 1 (``DuplicateError`` if the id exists);
      ``add_many`` does the same for a batch, all or nothing (the fast path for imports).
    * ``save`` stores a changed aggregate if the stored version still equals ``aggregate.version``
      and bumps both by one; otherwise ``ConcurrencyError``, and nothing changes.
    * ``remove`` deletes it under the same version check.
    * ``query`` filters, sorts and pages on the record type's projected fields.

    Writes take effect when the unit of work commits.

    Example:
        >>> from crmkit.adapters.memory import MemoryStore
        >>> with MemoryStore().unit_of_work() as uow:
        ...     isinstance(uow.customers, Repository)
        True

    .. versionadded:: 0.1.0
    """

    def get(self, id: str) -> A:
        """Return a copy of the aggregate with ``id``."""
        ...

    def get_many(self, ids: Iterable[str]) -> list[A]:
        """Return copies of the aggregates with ``ids``, in that order."""
        ...

    def add(self, aggregate: A) -> None:
        """Stage a new aggregate for insertion."""
        ...

    def add_many(self, aggregates: Iterable[A]) -> None:
        """Stage many new aggregates: all of them, or none (``DuplicateError``)."""
        ...

    def save(self, aggregate: A) -> None:
        """Stage a changed aggregate, checking its version."""
        ...

    def remove(self, aggregate: A) -> None:
        """Stage the removal of an aggregate, checking its version."""
        ...

    def query(self, query: Query) -> Page[A]:
        """Return one page of aggregates matching ``query``."""
        ...


@runtime_checkable
class UnitOfWork(Protocol):
    """One atomic business transaction across every repository.

    Use it as a context manager. ``commit()`` writes every staged change and appends the
    aggregates' pending events to the outbox in the same transaction, then returns those events;
    leaving the block without ``commit()`` (or with an exception) rolls everything back.

    Example:
        >>> from crmkit.adapters.memory import MemoryStore
        >>> store = MemoryStore()
        >>> with store.unit_of_work() as uow:
        ...     events = uow.commit()
        >>> events
        ()

    .. versionadded:: 0.1.0
    """

    customers: Repository[Customer]
    contacts: Repository[Contact]
    interactions: Repository[Interaction]
    duplicate_reviews: Repository[DuplicateReview]
    customer_merges: Repository[MergeRecord]
    orders: Repository[Order]
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

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> tuple[DomainEvent, ...]:
        """Make every staged change durable at once; return the events committed."""
        ...

    def rollback(self) -> None:
        """Discard every staged change."""
        ...


@attrs.frozen
class OutboxEntry:
    """An event in the outbox, with its position in commit order.

    Example:
        >>> from datetime import datetime, timezone
        >>> e = DomainEvent(aggregate_id="x", occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
        >>> OutboxEntry(position=1, event=e).position
        1

    .. versionadded:: 0.1.0
    """

    position: int
    event: DomainEvent


@runtime_checkable
class Outbox(Protocol):
    """The committed events, in commit order, until they are marked delivered.

    Example:
        >>> from crmkit.adapters.memory import MemoryStore
        >>> MemoryStore().outbox.pending()
        []

    .. versionadded:: 0.1.0
    """

    def pending(self, limit: int = 100) -> list[OutboxEntry]:
        """Return up to ``limit`` undelivered entries, oldest first."""
        ...

    def mark_delivered(self, positions: Iterable[int]) -> None:
        """Mark entries delivered so ``pending`` no longer returns them."""
        ...


@runtime_checkable
class Store(Protocol):
    """Where an application's records live: makes units of work, exposes the outbox.

    ``unit_of_work()`` returns a new unit of work on every call (use one per thread);
    ``outbox`` gives the events committed through those units of work. crmkit ships
    ``MemoryStore`` and ``SQLiteStore``; a host's own store passes the contract suites in
    :mod:`crmkit.testing.contracts` by providing a ``crm_store`` fixture.

    Example:
        >>> from crmkit.adapters.memory import MemoryStore
        >>> store = MemoryStore()
        >>> isinstance(store, Store), isinstance(store.outbox, Outbox)
        (True, True)
        >>> with store.unit_of_work() as uow:
        ...     uow.commit()
        ()

    .. versionadded:: 0.1.0
    """

    def unit_of_work(self) -> UnitOfWork:
        """Return a new unit of work."""
        ...

    @property
    def outbox(self) -> Outbox:
        """The outbox of committed events."""
        ...


class StoredRecord(NamedTuple):
    """One record as a store keeps it, for bulk loads (a restore, an import).

    ``type`` is the record type's name and ``document`` what
    ``crmkit.adapters.to_document`` makes (written with ``schema_version``). ``aggregate`` is
    optional: the aggregate the document describes (``version`` set), or a function that takes
    the record and returns it; stores that project columns use it instead of building the
    aggregate from the document. (A named tuple, not an attrs class: an import makes hundreds
    of thousands of them.)

    Example:
        >>> StoredRecord("customers", "cus_1", 3, 1, {"id": "cus_1"}).version
        3

    .. versionadded:: 0.1.0
    """

    type: str
    id: str
    version: int
    schema_version: int
    document: dict[str, Any]
    aggregate: object = None


@runtime_checkable
class BulkLoader(Protocol):
    """A store that can load many records at once, versions included (every crmkit store can).

    ``load_records`` writes the records and appends ``events`` to the outbox in one
    transaction, all or nothing; an id stored already is a ``DuplicateError``. Imports and
    restores use it; a host store without it gets the slower ``add_many`` path (imports) or
    cannot be restored into.

    Example:
        >>> from crmkit.adapters.memory import MemoryStore
        >>> isinstance(MemoryStore(), BulkLoader)
        True

    .. versionadded:: 0.1.0
    """

    def load_records(
        self, records: Iterable[StoredRecord], events: Iterable[DomainEvent] = ()
    ) -> None:
        """Store ``records`` as they are and append ``events`` to the outbox, atomically."""
        ...


@attrs.frozen
class Notification:
    """A message to send: who, through which channel, which template, in which locale.

    ``idempotency_key`` lets a receiver (and crmkit's dispatcher) drop duplicates. ``timezone``
    is the recipient's IANA zone: templates show dates and times in it.

    Example:
        >>> Notification(recipient="amy@example.com", channel="email",
        ...              template="customer_registered", locale="zh_Hant_TW",
        ...              context={"name": "Acme"}, idempotency_key="evt_1:owner").channel
        'email'

    .. versionadded:: 0.1.0
    """

    recipient: str
    channel: str
    template: str
    locale: str
    context: Mapping[str, Any] = attrs.field(factory=dict)
    idempotency_key: str = ""
    timezone: str = "UTC"


@runtime_checkable
class Notifier(Protocol):
    """Delivers notifications (email, webhook, log, ...). Raises on failure; never swallows.

    Example:
        >>> from crmkit.adapters.memory import RecordingNotifier
        >>> isinstance(RecordingNotifier(), Notifier)
        True

    .. versionadded:: 0.1.0
    """

    def send(self, notification: Notification) -> None:
        """Deliver one notification."""
        ...


@attrs.frozen
class Person:
    """A user of the host application (a sales rep, an agent) as notifications need them.

    ``addresses`` maps a channel to an address on it (``{"sms": "+886912345678"}``); ``email``
    is the address for the ``email`` channel.

    Example:
        >>> amy = Person(id="usr_amy", name="Amy", email="amy@example.com",
        ...              locale="zh_Hant_TW", timezone="Asia/Taipei")
        >>> amy.address_for("email"), amy.address_for("sms")
        ('amy@example.com', None)

    .. versionadded:: 0.1.0
    """

    id: str
    name: str
    email: str | None = None
    locale: str = "en"
    timezone: str = "UTC"
    addresses: Mapping[str, str] = attrs.field(factory=dict)

    def address_for(self, channel: str) -> str | None:
        """Return this person's address on ``channel``, if they have one."""
        if channel == "email" and self.email:
            return self.email
        return self.addresses.get(channel)


@runtime_checkable
class PeopleDirectory(Protocol):
    """Finds the host's users by id, so notifications can reach a record's owner.

    crmkit keeps owners as user ids; the host knows their addresses, language and time zone.
    :class:`crmkit.adapters.memory.StaticDirectory` serves a fixed list.

    Example:
        >>> from crmkit.adapters.memory import StaticDirectory
        >>> isinstance(StaticDirectory([]), PeopleDirectory)
        True

    .. versionadded:: 0.1.0
    """

    def person(self, user_id: str) -> Person | None:
        """Return the user with ``user_id``, or ``None`` if there is none."""
        ...


@runtime_checkable
class Cipher(Protocol):
    """Encrypts and decrypts bytes bound to associated data, with keys the host supplies.

    A token names the key that made it, so keys can rotate: ``key_id`` is the key new tokens
    are made with, and ``decrypt`` accepts tokens of every key the cipher still holds. A wrong
    key, other associated data or a changed token raises ``StorageError``.
    :class:`crmkit.adapters.cipher.AesGcmCipher` implements it (the ``crypto`` extra).

    Example:
        >>> from crmkit.adapters.cipher import AesGcmCipher
        >>> isinstance(AesGcmCipher({"2026": bytes(32)}), Cipher)
        True

    .. versionadded:: 0.1.0
    """

    @property
    def key_id(self) -> str:
        """The id of the key new tokens are made with."""
        ...

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """Return a token for ``plaintext``, bound to ``associated_data``."""
        ...

    def decrypt(self, token: bytes, associated_data: bytes) -> bytes:
        """Return the plaintext of ``token``; ``StorageError`` if it cannot be read."""
        ...


@runtime_checkable
class AccessPolicy(Protocol):
    """Decides whether an actor may perform an action; raises ``PermissionDeniedError`` if not.

    ``action`` is a dotted name (``"customers.register"``); ``resource`` is the aggregate acted
    on, when there is one.

    Example:
        >>> from crmkit.access import AllowAll
        >>> isinstance(AllowAll(), AccessPolicy)
        True

    .. versionadded:: 0.1.0
    """

    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        """Return if allowed; raise ``PermissionDeniedError`` otherwise."""
        ...


@runtime_checkable
class MaskingPolicy(Protocol):
    """An access policy's optional second duty: hide the fields an actor may not see.

    ``mask(actor, record_type, document)`` takes a record as a JSON-ready document
    (:func:`crmkit.serialization.unstructure`) and returns it with the actor's masked fields
    masked (``"a***@example.com"``, ``"+8869****5678"``, an amount as ``None``); with nothing
    to mask it may return the document itself. Reads call it after ``check`` allowed them.

    Example:
        >>> from crmkit.access import AllowAll
        >>> isinstance(AllowAll(), MaskingPolicy)
        True

    .. versionadded:: 0.1.0
    """

    def mask(self, actor: str | None, record_type: str, document: dict[str, Any]) -> dict[str, Any]:
        """Return ``document`` as ``actor`` may see it."""
        ...


@runtime_checkable
class ExchangeRates(Protocol):
    """Answers exchange rates, so analytics can total amounts in several currencies.

    ``rate`` returns the rate for ``1 base = x quote`` in force on day ``on`` (the returned
    :class:`~crmkit.analytics.Rate` records the day it was published for), or raises
    ``NotFoundError``. :class:`crmkit.analytics.StaticRates` serves a fixed table.

    Example:
        >>> from crmkit.analytics import StaticRates
        >>> isinstance(StaticRates({}), ExchangeRates)
        True

    .. versionadded:: 0.1.0
    """

    def rate(self, base: str, quote: str, on: date) -> Rate:
        """Return the ``base`` -> ``quote`` rate for day ``on``."""
        ...


@runtime_checkable
class AnalyticsQueries(Protocol):
    """Computes analytics facts inside the store (``GROUP BY`` in SQL), not in Python.

    A store offering it has an ``analytics()`` method returning one; its answers equal the
    pure functions' over the same records (:func:`crmkit.analytics.sales_facts`).

    Example:
        >>> from crmkit.adapters.sqlite import SQLiteStore
        >>> isinstance(SQLiteStore(":memory:").analytics(), AnalyticsQueries)
        True

    .. versionadded:: 0.1.0
    """

    def sales_facts(self, periods: Periods, *, pipeline_key: str | None = None) -> SalesFacts:
        """Reduce the stored opportunities (of ``pipeline_key``, if given) to sales facts."""
        ...
