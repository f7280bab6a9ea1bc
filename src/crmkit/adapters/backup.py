"""All-data export (backup) and restore into any store, as one JSON Lines file.

The file is a header line, one line per record, one per pending outbox entry, and an end line:

* ``{"format": "crmkit-backup", "format_version": 1, "crmkit_version": ...,
  "record_types": {"customers": 1, ...}}``: the record types and their schema versions;
* ``{"type": "customers", "id": ..., "version": 3, "schema_version": 1, "document": {...}}``;
* ``{"outbox": 7, "event": {...}}``: an event committed but not yet delivered (its position in
  the source store; the target gives it its own, in the same order);
* ``{"end": true, "records": 1234, "outbox": 5}``, so a cut-off file is refused.

:func:`export_store` reads every record type of a store through its units of work (so it works
on any store), :func:`restore_store` checks every line (each document is built into its aggregate,
so a bad one is refused with its line number before anything is written) and then loads it all in
one transaction with the store's ``load_records``, keeping every version exactly. A target that
holds records already is refused unless ``allow_existing=True`` (and then an id in both is a
``DuplicateError`` and nothing is loaded). Moving from the SQLite default to PostgreSQL is
``crmkit export --database crm.db backup.jsonl`` then
``crmkit import --url postgresql+psycopg://... backup.jsonl``.

Example:
    >>> import io
    >>> from crmkit import bootstrap
    >>> from crmkit.adapters.memory import MemoryStore
    >>> crm = bootstrap()
    >>> tea = crm.register_customer("Formosa Tea Co.")
    >>> tea = crm.rename_customer(tea.id, "Formosa Tea")
    >>> backup = io.StringIO()
    >>> export_store(crm.store, backup).records["customers"]
    1
    >>> target = MemoryStore()
    >>> summary = restore_store(target, io.StringIO(backup.getvalue()))
    >>> summary.records["customers"], summary.outbox
    (1, 2)
    >>> with target.unit_of_work() as uow:
    ...     uow.customers.get(tea.id).version
    2

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import attrs

from crmkit.adapters._shared import RECORD_TYPES, from_document, to_document
from crmkit.errors import NotFoundError, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.query import Query, RecordType
from crmkit.ports import BulkLoader, Store, StoredRecord
from crmkit.serialization import dumps, structure, unstructure

__all__ = ["BackupSummary", "FORMAT", "FORMAT_VERSION", "export_store", "restore_store"]

#: The ``format`` a backup file's header names.
FORMAT = "crmkit-backup"

#: The version of the backup file's layout this crmkit writes and reads.
FORMAT_VERSION = 1

_PAGE = 1000
_ALL = 2**62  # "every pending entry" for Outbox.pending


@attrs.frozen
class BackupSummary:
    """What an export wrote or a restore loaded: records per type, and outbox entries.

    Example:
        >>> BackupSummary({"customers": 2}, 1).total
        2

    .. versionadded:: 0.1.0
    """

    records: Mapping[str, int]
    outbox: int

    @property
    def total(self) -> int:
        """How many records, of every type."""
        return sum(self.records.values())


def _record_types(store: Store) -> tuple[RecordType[Any], ...]:
    kept = getattr(store, "record_types", None)
    if isinstance(kept, tuple) and all(isinstance(rt, RecordType) for rt in kept):
        return kept
    return RECORD_TYPES


def _repository(uow: Any, record_type: RecordType[Any]) -> Any:
    pick = getattr(uow, "repository", None)
    if pick is not None:
        return pick(record_type)
    return getattr(uow, record_type.name)


def _all(store: Store, record_type: RecordType[Any]) -> Iterator[Any]:
    with store.unit_of_work() as uow:
        repository = _repository(uow, record_type)
        query: Query | None = Query().take(_PAGE)
        while query is not None:
            page = repository.query(query)
            yield from page.items
            query = None if page.next_cursor is None else query.after(page.next_cursor)


def _open_target(target: str | os.PathLike[str] | IO[str], mode: str) -> tuple[IO[str], bool]:
    if isinstance(target, (str, os.PathLike)):
        try:
            return Path(target).open(mode, encoding="utf-8", newline="\n"), True
        except OSError as exc:
            raise ValidationError(
                f"cannot open {os.fspath(target)!r}: {exc.strerror}", path="file"
            ) from None
    if hasattr(target, "write" if mode == "w" else "read"):
        return target, False
    raise ValidationError(
        f"must be a file path or an open text file, not {type(target).__name__}", path="file"
    )


def export_store(store: Store, file: str | os.PathLike[str] | IO[str]) -> BackupSummary:
    """Write every record of every record type, and the pending outbox, to a JSON Lines file.

    Records are read through the store's units of work, a page at a time, in id order; each
    line holds the record's version and its document at the current schema version.

    Example:
        >>> import io
        >>> from crmkit.adapters.memory import MemoryStore
        >>> out = io.StringIO()
        >>> export_store(MemoryStore(), out)
        BackupSummary(records={}, outbox=0)
        >>> import json
        >>> [sorted(json.loads(line)) for line in out.getvalue().splitlines()]
        [['crmkit_version', 'format', 'format_version', 'record_types'],
         ['end', 'outbox', 'records']]

    .. versionadded:: 0.1.0
    """
    import crmkit

    record_types = _record_types(store)
    handle, owned = _open_target(file, "w")
    counts: dict[str, int] = {}
    try:
        header = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "crmkit_version": crmkit.__version__,
            "record_types": {rt.name: rt.schema_version for rt in record_types},
        }
        handle.write(dumps(header) + "\n")
        for record_type in record_types:
            for aggregate in _all(store, record_type):
                line = {
                    "type": record_type.name,
                    "id": aggregate.id,
                    "version": aggregate.version,
                    "schema_version": record_type.schema_version,
                    "document": to_document(record_type, aggregate),
                }
                handle.write(dumps(line) + "\n")
                counts[record_type.name] = counts.get(record_type.name, 0) + 1
        pending = store.outbox.pending(limit=_ALL)
        for entry in pending:
            handle.write(dumps({"outbox": entry.position, "event": unstructure(entry.event)}))
            handle.write("\n")
        total = sum(counts.values())
        handle.write(dumps({"end": True, "records": total, "outbox": len(pending)}) + "\n")
    finally:
        if owned:
            handle.close()
    return BackupSummary(counts, len(pending))


def _bad(line: int, message: str) -> ValidationError:
    return ValidationError(
        f"{message}; the file is not a complete crmkit backup", path=f"line {line}"
    )


def _read(
    handle: IO[str], record_types: Mapping[str, RecordType[Any]]
) -> tuple[list[StoredRecord], list[DomainEvent], dict[str, int]]:
    records: list[StoredRecord] = []
    events: list[DomainEvent] = []
    counts: dict[str, int] = {}
    schemas: dict[str, int] = {}
    ended = False
    number = 0
    for number, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        if ended:
            raise _bad(number, "has data after the end line")
        try:
            line = json.loads(text)
        except ValueError as exc:
            raise _bad(number, f"is not valid JSON ({exc})") from None
        if not isinstance(line, dict):
            raise _bad(number, "is not a JSON object")
        if number == 1:
            if line.get("format") != FORMAT:
                raise _bad(1, f"has no {FORMAT!r} header (write one with crmkit export)")
            if line.get("format_version") != FORMAT_VERSION:
                raise _bad(
                    1,
                    f"has format version {line.get('format_version')!r}; this crmkit reads "
                    f"{FORMAT_VERSION}: restore it with the crmkit that wrote it, or a newer one",
                )
            schemas = line.get("record_types") or {}
            unknown = sorted(set(schemas) - set(record_types))
            if unknown:
                raise _bad(
                    1,
                    f"holds record types this store does not keep ({', '.join(unknown)}); "
                    "restore into a store built with them",
                )
            continue
        if "type" in line:
            records.append(_record(number, line, record_types))
            counts[line["type"]] = counts.get(line["type"], 0) + 1
        elif "event" in line:
            try:
                events.append(structure(line["event"], DomainEvent))
            except (ValidationError, KeyError) as exc:
                raise _bad(number, f"holds an outbox event that does not load ({exc})") from None
        elif line.get("end") is True:
            if line.get("records") != len(records) or line.get("outbox") != len(events):
                raise _bad(
                    number,
                    f"says {line.get('records')} records and {line.get('outbox')} outbox "
                    f"entries, but {len(records)} and {len(events)} came before it",
                )
            ended = True
        else:
            raise _bad(number, "is neither a record, an outbox entry nor the end line")
    if number == 0:
        raise _bad(1, "is missing: the file is empty")
    if not ended:
        raise _bad(number, "is the last line, and no end line came")
    return records, events, counts


def _record(number: int, line: dict[str, Any], record_types: Mapping[str, RecordType[Any]]) -> Any:
    record_type = record_types.get(line.get("type"))  # type: ignore[arg-type]
    if record_type is None:
        raise _bad(number, f"has a record of type {line.get('type')!r}, which this store keeps not")
    id, version, schema = line.get("id"), line.get("version"), line.get("schema_version")
    document = line.get("document")
    if not isinstance(id, str) or type(version) is not int or type(schema) is not int:
        raise _bad(number, "needs an id (text), a version and a schema_version (whole numbers)")
    if not isinstance(document, dict) or document.get("id") != id:
        raise _bad(number, f"needs the document of {id!r} (an object with that id)")
    try:
        aggregate = from_document(record_type, document, version, schema)
    except ValidationError as exc:
        raise ValidationError(
            f"{record_type.name} {id!r} does not load: {exc}", path=f"line {number}"
        ) from None
    return StoredRecord(record_type.name, id, version, schema, document, aggregate)


def _is_empty(store: Store, record_types: tuple[RecordType[Any], ...]) -> bool:
    with store.unit_of_work() as uow:
        for record_type in record_types:
            if _repository(uow, record_type).query(Query().take(1)).items:
                return False
    return not store.outbox.pending(limit=1)


def restore_store(
    store: Store, file: str | os.PathLike[str] | IO[str], *, allow_existing: bool = False
) -> BackupSummary:
    """Load a backup made by :func:`export_store` into ``store``, versions and outbox included.

    Every line is checked first (a bad one is a ``ValidationError`` naming its line); then all
    of it is loaded in one transaction, or nothing. A store that holds records (or outbox
    entries) already is refused unless ``allow_existing=True``.

    Example:
        >>> import io
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> _ = crm.register_customer("Acme")
        >>> backup = io.StringIO()
        >>> _ = export_store(crm.store, backup)
        >>> restore_store(crm.store, io.StringIO(backup.getvalue()))
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: store: holds records already; restore into an empty ...

    .. versionadded:: 0.1.0
    """
    if not isinstance(store, BulkLoader):
        raise ValidationError(
            f"{type(store).__name__} cannot load records in bulk (it has no load_records); "
            "restore into a MemoryStore, SQLiteStore or SQLAlchemyStore",
            path="store",
        )
    if not isinstance(allow_existing, bool):
        raise ValidationError(
            f"must be True or False, not {allow_existing!r}", path="allow_existing"
        )
    record_types = _record_types(store)
    handle, owned = _open_target(file, "r")
    try:
        records, events, counts = _read(handle, {rt.name: rt for rt in record_types})
    except UnicodeDecodeError as exc:
        raise ValidationError(f"is not UTF-8 text ({exc.reason})", path="file") from None
    except FileNotFoundError as exc:  # pragma: no cover - opened above
        raise NotFoundError(str(exc)) from None
    finally:
        if owned:
            handle.close()
    if not allow_existing and not _is_empty(store, record_types):
        raise ValidationError(
            "holds records already; restore into an empty store, or pass allow_existing=True "
            "(crmkit import --allow-existing) to add the backup's records beside them",
            path="store",
        )
    store.load_records(records, events)
    return BackupSummary(counts, len(events))
