"""What every storage adapter shares: the record types, documents, and the standard errors.

An adapter stores each aggregate as a *document* (the JSON-ready dict crmkit's cattrs converter
makes, without ``version``) beside two numbers: the aggregate's ``version`` (for optimistic
concurrency) and the document's ``schema_version`` (so older documents can be upcast when read).
The in-memory and SQLite adapters both build on these helpers, so they read, write and fail the
same way.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.customers import CUSTOMERS, Customer
    >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> acme = Customer.register(id="cus_1", name="Acme", kind="company", now=now)
    >>> doc = to_document(CUSTOMERS, acme)
    >>> "version" in doc, doc["name"]
    (False, 'Acme')
    >>> from_document(CUSTOMERS, doc, version=3, schema_version=1).version
    3

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from crmkit.access.audit import AUDIT_ENTRIES
from crmkit.customers import CONTACTS, CUSTOMERS, INTERACTIONS, ORDERS
from crmkit.customers.dedup import CUSTOMER_MERGES, DUPLICATE_REVIEWS
from crmkit.errors import DuplicateError, FieldError, NotFoundError, ValidationError
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import check_id
from crmkit.kernel.query import RecordType
from crmkit.leads import LEADS
from crmkit.loyalty import LOYALTY_PROGRAMS, MEMBERSHIPS, REFERRALS
from crmkit.notifications.delivery import DELIVERIES
from crmkit.pipeline import OPPORTUNITIES, PIPELINES
from crmkit.ports import StoredRecord
from crmkit.pricing import COUPONS, DISCOUNT_RULE_SETS, PRICE_BOOKS, PRODUCTS, QUOTES
from crmkit.serialization import structure, unstructure
from crmkit.service import (
    BUSINESS_CALENDARS,
    COMPLAINTS,
    MAINTENANCE_CONTRACTS,
    SLA_POLICY_SETS,
    WORK_ORDERS,
)

__all__ = [
    "RECORD_TYPES",
    "REQUIRED_NAMES",
    "check_stored",
    "check_aggregate",
    "check_events",
    "check_new",
    "check_record_types",
    "check_ids",
    "duplicate",
    "from_document",
    "not_found",
    "pick_repository",
    "record_type_for",
    "stored_aggregate",
    "stored_document",
    "to_document",
]

A = TypeVar("A", bound=Aggregate)

#: The record types every crmkit store keeps, in a stable order.
RECORD_TYPES: tuple[RecordType[Any], ...] = (
    CUSTOMERS,
    CONTACTS,
    INTERACTIONS,
    ORDERS,
    DUPLICATE_REVIEWS,
    CUSTOMER_MERGES,
    DELIVERIES,
    LEADS,
    PIPELINES,
    OPPORTUNITIES,
    PRODUCTS,
    PRICE_BOOKS,
    DISCOUNT_RULE_SETS,
    COUPONS,
    QUOTES,
    COMPLAINTS,
    BUSINESS_CALENDARS,
    SLA_POLICY_SETS,
    MAINTENANCE_CONTRACTS,
    WORK_ORDERS,
    LOYALTY_PROGRAMS,
    MEMBERSHIPS,
    REFERRALS,
    AUDIT_ENTRIES,
)

#: The record types every store must keep (a host may add its own beside them).
REQUIRED_NAMES = tuple(rt.name for rt in RECORD_TYPES)


def to_document(record_type: RecordType[A], aggregate: A) -> dict[str, Any]:
    """Return the aggregate's document: its unstructured data without ``version``.

    The version is stored beside the document, so a document never disagrees with it. The result
    is a new dict that shares no mutable part with ``aggregate``.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.customers import CUSTOMERS, Customer
        >>> c = Customer.register(id="cus_1", name="Acme", kind="company",
        ...                       now=datetime(2026, 1, 5, tzinfo=timezone.utc), tags=["vip"])
        >>> to_document(CUSTOMERS, c)
        {'id': 'cus_1', 'name': 'Acme', 'kind': 'company',
         'created_at': '2026-01-05T00:00:00+00:00', 'tags': ['vip'], 'source': None,
         'owner': None, 'lifecycle': 'prospect', 'address': None, 'merged_into': None,
         'external_id': None}

    .. versionadded:: 0.1.0
    """
    check_aggregate(record_type, aggregate)
    document: dict[str, Any] = unstructure(aggregate)
    document.pop("version", None)
    return document


def from_document(
    record_type: RecordType[A],
    document: dict[str, Any],
    version: int,
    schema_version: int,
    *,
    owned: bool = False,
) -> A:
    """Build an aggregate from a stored document: upcast, structure, and set ``version``.

    ``schema_version`` is the schema the document was written with; older documents are brought
    up to date with ``record_type.upcast`` (on a copy, so the stored document is never changed).
    A document that does not fit the class is a ``ValidationError`` naming each field path.
    ``owned=True`` says the caller hands the document over (it was just parsed from the store's
    text), so ``version`` is set in it instead of in a copy: one dict less per record read.

    Example:
        >>> from crmkit.customers import CUSTOMERS
        >>> doc = {"id": "cus_1", "name": "Acme", "kind": "company",
        ...        "created_at": "2026-01-05T00:00:00+00:00"}
        >>> c = from_document(CUSTOMERS, doc, version=2, schema_version=1)
        >>> c.name, c.version, c.pending_events
        ('Acme', 2, ())
        >>> from_document(CUSTOMERS, {**doc, "kind": "alien"}, version=2, schema_version=1)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: kind: 'alien' is not one of 'company', 'person'

    .. versionadded:: 0.1.0
    """
    if schema_version != record_type.schema_version:
        document = record_type.upcast(
            document if owned else copy.deepcopy(document), schema_version
        )
        owned = True
    if not owned:
        document = dict(document)
    document["version"] = version
    return structure(document, record_type.cls)


def record_type_for(
    cls: type[A], record_types: Iterable[RecordType[Any]] = RECORD_TYPES
) -> RecordType[A]:
    """Return the record type that stores ``cls`` (an aggregate class).

    Example:
        >>> from crmkit.customers import Contact
        >>> record_type_for(Contact).name
        'contacts'
        >>> record_type_for(str)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: aggregate: no record type stores str objects; ...

    .. versionadded:: 0.1.0
    """
    known = list(record_types)
    for record_type in known:
        if record_type.cls is cls:
            return record_type
    names = ", ".join(f"{rt.cls.__name__} ({rt.name})" for rt in known)
    raise ValidationError(
        f"no record type stores {cls.__name__} objects; known are {names}", path="aggregate"
    )


def check_aggregate(record_type: RecordType[A], aggregate: object) -> A:
    """Return ``aggregate`` if it is an instance of the record type's class, else refuse it.

    Example:
        >>> from crmkit.customers import CONTACTS
        >>> check_aggregate(CONTACTS, "cus_1")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: aggregate: contacts stores Contact objects, not str

    .. versionadded:: 0.1.0
    """
    if not isinstance(aggregate, record_type.cls):
        raise ValidationError(
            f"{record_type.name} stores {record_type.cls.__name__} objects, "
            f"not {type(aggregate).__name__}",
            path="aggregate",
        )
    return aggregate


def not_found(kind: str, ids: Sequence[str]) -> NotFoundError:
    """Build the standard ``NotFoundError`` for one or more missing ids of ``kind``.

    ``details`` holds ``kind`` and ``ids`` (every missing id, in the order asked), and ``id``
    as well when exactly one is missing.

    Example:
        >>> err = not_found("customers", ["cus_9"])
        >>> str(err), err.details["id"]
        ("no customers record with id 'cus_9'", 'cus_9')
        >>> err = not_found("customers", ["cus_8", "cus_9"])
        >>> str(err), err.details["ids"]
        ("no customers records with ids 'cus_8', 'cus_9'", ['cus_8', 'cus_9'])

    .. versionadded:: 0.1.0
    """
    missing = list(ids)
    details: dict[str, Any] = {"kind": kind, "ids": missing}
    if len(missing) == 1:
        details["id"] = missing[0]
        return NotFoundError(f"no {kind} record with id {missing[0]!r}", details=details)
    return NotFoundError(
        f"no {kind} records with ids {', '.join(map(repr, missing))}", details=details
    )


def duplicate(kind: str, id: str) -> DuplicateError:
    """Build the standard ``DuplicateError`` for adding an id of ``kind`` that already exists.

    Example:
        >>> print(duplicate("contacts", "con_1"))
        contacts record 'con_1' already exists; use save() to change it

    .. versionadded:: 0.1.0
    """
    return DuplicateError(
        f"{kind} record {id!r} already exists; use save() to change it",
        details={"kind": kind, "id": id},
    )


def check_ids(ids: object) -> list[str]:
    """Return ``ids`` as a list of valid ids; a lone string or a bad id is a ``ValidationError``.

    Example:
        >>> check_ids(("cus_1", "cus_2"))
        ['cus_1', 'cus_2']
        >>> check_ids("cus_1")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: ids: must be a list of ids, not a single str; ...

    .. versionadded:: 0.1.0
    """
    if isinstance(ids, str) or not isinstance(ids, Iterable):
        raise ValidationError(
            f"must be a list of ids, not a single {type(ids).__name__}; "
            "use get() for one id or wrap it in a list",
            path="ids",
        )
    return [check_id(i, f"ids[{n}]") for n, i in enumerate(ids)]


def check_new(record_type: RecordType[A], aggregates: Iterable[object]) -> list[A]:
    """Check a batch for ``add_many``: right class, version 0, no id twice in the batch.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.customers import CUSTOMERS, Customer
        >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> twice = [Customer(id="cus_1", name=n, kind="person", created_at=now) for n in "AB"]
        >>> check_new(CUSTOMERS, twice)
        Traceback (most recent call last):
        ...
        crmkit.errors.DuplicateError: customers record 'cus_1' already exists; ...

    .. versionadded:: 0.1.0
    """
    if isinstance(aggregates, (str, bytes)) or not isinstance(aggregates, Iterable):
        raise ValidationError(
            f"must be an iterable of {record_type.cls.__name__}, not {type(aggregates).__name__}",
            path="aggregates",
        )
    batch: list[A] = []
    seen: set[str] = set()
    for i, item in enumerate(aggregates):
        try:
            agg = check_aggregate(record_type, item)
        except ValidationError as exc:
            raise exc.at(f"aggregates[{i}]") from None
        if agg.version != 0:
            raise ValidationError(
                f"a new {record_type.name} record must have version 0, got {agg.version}; "
                "use save() for stored records",
                path=f"aggregates[{i}].version",
            )
        if agg.id in seen:
            raise duplicate(record_type.name, agg.id)
        seen.add(agg.id)
        batch.append(agg)
    return batch


def check_record_types(record_types: object) -> dict[str, RecordType[Any]]:
    """Check the record types a store is built with; return them by name.

    Every problem is listed: a non-RecordType, a repeated name, a missing crmkit record type.

    Example:
        >>> sorted(check_record_types(RECORD_TYPES))
        ['audit_entries', 'business_calendars', 'complaints', 'contacts', 'coupons',
         'customer_merges', 'customers', 'deliveries', 'discount_rule_sets', 'duplicate_reviews',
         'interactions', 'leads', 'loyalty_programs', 'maintenance_contracts',
         'memberships', 'opportunities', 'orders', 'pipelines', 'price_books', 'products',
         'quotes', 'referrals', 'sla_policy_sets', 'work_orders']
        >>> check_record_types([])
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: record_types: must include customers, contacts, ...

    .. versionadded:: 0.1.0
    """
    problems: list[FieldError] = []
    by_name: dict[str, RecordType[Any]] = {}
    if isinstance(record_types, (str, bytes)) or not isinstance(record_types, Iterable):
        raise ValidationError(
            f"must be a list of RecordType, not {type(record_types).__name__}",
            path="record_types",
        )
    for n, record_type in enumerate(record_types):
        if not isinstance(record_type, RecordType):
            problems.append(
                FieldError(
                    f"record_types[{n}]",
                    f"must be a RecordType, not {type(record_type).__name__}",
                )
            )
        elif record_type.name in by_name:
            problems.append(
                FieldError(f"record_types[{n}]", f"repeats the name {record_type.name!r}")
            )
        else:
            by_name[record_type.name] = record_type
    missing = [name for name in REQUIRED_NAMES if name not in by_name]
    if missing:
        problems.append(
            FieldError(
                "record_types",
                f"must include {', '.join(REQUIRED_NAMES)} (missing {', '.join(missing)}); "
                "to add your own, pass record_types=(*RECORD_TYPES, YOURS)",
            )
        )
    if problems:
        raise ValidationError(errors=problems)
    return by_name


R = TypeVar("R")


def pick_repository(repositories: Mapping[str, R], record_type: object) -> R:
    """Return the repository a unit of work keeps for ``record_type``, or refuse it.

    Shared by every store's ``uow.repository(record_type)``; each repository has a
    ``record_type`` property.

    Example:
        >>> from crmkit.customers import CONTACTS, CUSTOMERS
        >>> pick_repository({}, CUSTOMERS)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: record_type: this store does not keep the record type ...

    .. versionadded:: 0.1.0
    """
    name = record_type.name if isinstance(record_type, RecordType) else None
    repository = repositories.get(name) if name is not None else None
    kept = getattr(getattr(repository, "record_type", None), "cls", None)
    if repository is None or kept is not getattr(record_type, "cls", None):
        label = getattr(record_type, "name", type(record_type).__name__)
        raise ValidationError(
            f"this store does not keep the record type {label!r}; "
            f"it keeps {', '.join(repositories)}",
            path="record_type",
        )
    return repository


def stored_aggregate(record_type: RecordType[A], record: StoredRecord) -> A:
    """A bulk-loaded record's aggregate: ``record.aggregate`` (or ``record.aggregate(record)``).

    Without ``record.aggregate`` it is built from the document, which checks the document.

    Example:
        >>> from crmkit.customers import CUSTOMERS
        >>> doc = {"id": "cus_1", "name": "Acme", "kind": "company",
        ...        "created_at": "2026-01-05T00:00:00+00:00"}
        >>> stored_aggregate(CUSTOMERS, StoredRecord("customers", "cus_1", 4, 1, doc)).version
        4

    .. versionadded:: 0.1.0
    """
    given = record.aggregate
    if given is None:
        return from_document(record_type, record.document, record.version, record.schema_version)
    if callable(given) and not isinstance(given, Aggregate):
        given = given(record)
    return check_aggregate(record_type, given)


def stored_document(record_type: RecordType[A], record: StoredRecord) -> dict[str, Any]:
    """A bulk-loaded record's document at the record type's current schema (upcast if older).

    Example:
        >>> from crmkit.customers import CUSTOMERS
        >>> stored_document(CUSTOMERS, StoredRecord("customers", "cus_1", 1, 1, {"id": "cus_1"}))
        {'id': 'cus_1'}

    .. versionadded:: 0.1.0
    """
    if record.schema_version == record_type.schema_version:
        return record.document
    return to_document(record_type, stored_aggregate(record_type, record))


def check_stored(
    record_types: Mapping[str, RecordType[Any]], records: Iterable[object]
) -> list[tuple[RecordType[Any], list[StoredRecord]]]:
    """Check a bulk load and group it by record type, in the order the types first appear.

    Refused (``ValidationError`` with the item's path): an item that is not a
    :class:`StoredRecord`, a type the store does not keep, a version below 1, a document that is
    not a dict or names another id; ``DuplicateError`` for an id twice in the batch.

    Example:
        >>> from crmkit.customers import CUSTOMERS
        >>> from crmkit.ports import StoredRecord
        >>> check_stored({"customers": CUSTOMERS}, [StoredRecord("orders", "o_1", 1, 1, {})])
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: records[0].type: this store keeps no 'orders' records; ...

    .. versionadded:: 0.1.0
    """
    if isinstance(records, (str, bytes)) or not isinstance(records, Iterable):
        raise ValidationError(
            f"must be an iterable of StoredRecord, not {type(records).__name__}", path="records"
        )
    groups: dict[str, tuple[RecordType[Any], list[StoredRecord], set[str]]] = {}
    for n, record in enumerate(records):
        if not isinstance(record, StoredRecord):
            raise ValidationError(
                f"must be a StoredRecord, not {type(record).__name__}", path=f"records[{n}]"
            )
        group = groups.get(record.type)
        if group is None:
            record_type = record_types.get(record.type)
            if record_type is None:
                raise ValidationError(
                    f"this store keeps no {record.type!r} records; it keeps "
                    f"{', '.join(record_types)}",
                    path=f"records[{n}].type",
                )
            group = groups[record.type] = (record_type, [], set())
        version = record.version
        if type(version) is not int or version < 1:  # bool is refused too
            raise ValidationError(
                f"must be a positive int, got {version!r}", path=f"records[{n}].version"
            )
        document = record.document
        if not isinstance(document, dict) or document.get("id", record.id) != record.id:
            raise ValidationError(
                f"must be the document of {record.type} {record.id!r} (a dict with that id)",
                path=f"records[{n}].document",
            )
        if record.id in group[2]:
            raise duplicate(record.type, record.id)
        group[2].add(record.id)
        group[1].append(record)
    return [(record_type, batch) for record_type, batch, _ in groups.values()]


def check_events(events: object) -> list[DomainEvent]:
    """Return ``events`` as a list of domain events (for a bulk load's outbox), or refuse them.

    Example:
        >>> check_events(["CustomerRegistered"])
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: events[0]: must be a DomainEvent, not str

    .. versionadded:: 0.1.0
    """
    if isinstance(events, (str, bytes)) or not isinstance(events, Iterable):
        raise ValidationError(
            f"must be an iterable of DomainEvent, not {type(events).__name__}", path="events"
        )
    pending = list(events)
    for n, event in enumerate(pending):
        if not isinstance(event, DomainEvent):
            raise ValidationError(
                f"must be a DomainEvent, not {type(event).__name__}", path=f"events[{n}]"
            )
    return pending
