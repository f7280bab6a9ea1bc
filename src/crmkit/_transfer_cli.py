"""``crmkit export`` and ``crmkit import``: backups, restores and customer imports from the shell.

``crmkit export --database crm.db backup.jsonl`` writes every record and the pending outbox of a
SQLite file (or of ``--url URL``, any SQLAlchemy database) to a backup file;
``crmkit import --url postgresql+psycopg://... backup.jsonl`` restores it into another store
(refusing one that holds records, unless ``--allow-existing``). With ``--customers``,
``crmkit import`` reads customers and contacts from a CSV or JSON Lines file instead
(``--mapping`` a JSON file ``{"columns": {...}}``, ``--dry-run``, ``--all-or-nothing``).

Example:
    >>> import argparse
    >>> open_store(argparse.Namespace(database=None, url=None))
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: store: give --database PATH (a SQLite file) or --url URL ...

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from crmkit.adapters.backup import export_store, restore_store
from crmkit.app.transfer import ImportReport
from crmkit.customers.transfer import ColumnMapping
from crmkit.errors import ValidationError
from crmkit.ports import Store
from crmkit.serialization import structure

__all__ = ["open_store", "run_export", "run_import"]


def open_store(
    args: argparse.Namespace, *, must_exist: bool = False
) -> tuple[Store, Callable[[], None]]:
    """The store ``--database`` or ``--url`` names, and how to close it.

    Example:
        >>> import argparse, tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "crm.db"
        >>> store, close = open_store(argparse.Namespace(database=str(path), url=None))
        >>> type(store).__name__
        'SQLiteStore'
        >>> close()
    """
    database, url = getattr(args, "database", None), getattr(args, "url", None)
    if (database is None) == (url is None):
        raise ValidationError(
            "give --database PATH (a SQLite file) or --url URL (a SQLAlchemy database URL such "
            "as postgresql+psycopg://user@host/db), one of them",
            path="store",
        )
    if database is not None:
        from crmkit.adapters.sqlite import SQLiteStore

        if must_exist and not Path(database).is_file():
            raise ValidationError(
                f"{database} does not exist; give an existing SQLite file", path="database"
            )
        sqlite = SQLiteStore(database)
        return sqlite, sqlite.close
    try:
        import sqlalchemy
    except ImportError:  # pragma: no cover - the extra is installed in development
        raise ValidationError(
            "--url needs SQLAlchemy: pip install 'crmkit[sqlalchemy]' and the database's driver",
            path="url",
        ) from None
    from crmkit.adapters.sqlalchemy import SQLAlchemyStore

    try:
        engine = sqlalchemy.create_engine(str(url))
    except (sqlalchemy.exc.ArgumentError, ImportError) as exc:
        raise ValidationError(f"cannot use {url!r}: {exc}", path="url") from None
    return SQLAlchemyStore(engine), engine.dispose


@contextmanager
def _opened(args: argparse.Namespace, *, must_exist: bool = False) -> Iterator[Store]:
    store, close = open_store(args, must_exist=must_exist)
    try:
        yield store
    finally:
        close()


def run_export(args: argparse.Namespace, out: TextIO) -> int:
    """``crmkit export``: write the store's backup to ``args.file``."""
    with _opened(args, must_exist=True) as store:
        summary = export_store(store, args.file)
    kinds = ", ".join(f"{n} {name}" for name, n in summary.records.items()) or "no records"
    print(f"exported {summary.total} records ({kinds}) and {summary.outbox} outbox entries "
          f"to {args.file}", file=out)  # fmt: skip
    return 0


def run_import(args: argparse.Namespace, out: TextIO) -> int:
    """``crmkit import``: restore a backup, or (``--customers``) import customers."""
    if args.customers:
        return _import_customers(args, out)
    with _opened(args) as store:
        summary = restore_store(store, args.file, allow_existing=args.allow_existing)
    print(f"restored {summary.total} records and {summary.outbox} outbox entries "
          f"from {args.file}", file=out)  # fmt: skip
    return 0


def _mapping(path: str | None) -> ColumnMapping | None:
    if path is None:
        return None
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror}", path="mapping") from None
    except ValueError as exc:
        raise ValidationError(f"{path} is not JSON: {exc}", path="mapping") from None
    if isinstance(data, dict) and "columns" not in data:
        data = {"columns": data}
    return structure(data, ColumnMapping)


def _import_customers(args: argparse.Namespace, out: TextIO) -> int:
    from crmkit import bootstrap

    mapping = _mapping(args.mapping)
    with _opened(args) as store:
        crm = bootstrap(store=store)
        report = crm.import_customers(
            args.file,
            mapping,
            mode="all_or_nothing" if args.all_or_nothing else "good_rows",
            dry_run=args.dry_run,
            region=args.region,
            phone_check=args.phone_check,
        )
    _print_report(report, out)
    return 1 if report.errors and not report.loaded and not report.dry_run else 0


def _print_report(report: ImportReport, out: TextIO) -> None:
    verb = (
        "would import"
        if report.dry_run
        else ("imported" if report.loaded else "imported nothing of")
    )
    print(f"{verb} {report.rows} rows: {report.customers_created} customers, "
          f"{report.contacts_created} contacts; {len(report.bad_rows)} bad rows, "
          f"{len(report.duplicates)} duplicates", file=out)  # fmt: skip
    for error in report.errors:
        where = f"row {error.row}" + (f", {error.field}" if error.field else "")
        print(f"  {where}: {error.error} ({error.suggestion})", file=out)
    for dup in report.duplicates:
        print(
            f"  row {dup.row}: duplicate {dup.field} {dup.value!r} (matches {dup.matches})",
            file=out,
        )
