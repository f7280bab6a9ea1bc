"""crmkit's store on SQLAlchemy 2 Core: PostgreSQL, MariaDB/MySQL and SQLite from one code path.

The host owns the :class:`sqlalchemy.Engine` and passes it in; nothing connects at import and
nothing is global. Each aggregate is one row of ``crm_<name>``: ``id``, ``version`` (optimistic
concurrency), ``schema_version`` (of the document), ``document`` (the JSON of crmkit's cattrs
converter) and one indexed column per projected field of its record type, so queries filter,
sort and page in SQL. Multi-valued fields (customer ``tags``, contact ``emails``) live in side
tables ``crm_<name>__<field>(id, value)``, so ``contains`` is a portable ``EXISTS``; no
dialect-specific JSON SQL is used. Text columns compare by code point on every database (the
``C`` collation on PostgreSQL, ``utf8mb4_bin`` on MySQL/MariaDB), as Python does, so a query
returns what the in-memory adapter returns; multi-valued fields compare as sets with ``eq`` and
cannot be sorted by. A projected value the columns cannot hold on every database (text over 255
characters or with a NUL, an integer beyond BIGINT, a decimal beyond Numeric(38, 10)) is a
``ValidationError`` before anything is written.

Writes are versioned (``UPDATE ... WHERE id = :id AND version = :version``) and the outbox rows
are written in the same transaction; committing units of work take turns on the single row of
``crm_outbox_lock`` (``SELECT ... FOR UPDATE``), so outbox positions follow commit order even
with many writers. Deadlocks and serialization failures surface as ``ConcurrencyError``, like a
stale save, so one retry loop handles both; other database errors are ``StorageError``.

**The layout and its migrations.** :data:`SCHEMA_VERSION` is the version of this table layout
(not of the documents inside: those carry their own ``schema_version`` and are upcast on read by
their record type's upcasters). It is kept in ``crm_schema(component, version)``, in the row
whose component is ``"sqlalchemy"``. When a store starts:

* no row yet: the tables are taken as this layout and the row is written;
* a newer version than this crmkit knows: ``StorageError`` telling you to upgrade crmkit (an
  older crmkit never writes to a layout it does not understand);
* an older version: :meth:`SQLAlchemyStore.create_all` (run at start unless ``create=False``)
  applies crmkit's migration steps in one transaction and records the new version; with
  ``create=False``, or when no step leads from that version, the store refuses with a
  ``StorageError`` saying what to do.

**Alembic.** :data:`metadata` is crmkit's public ``MetaData``; to manage crmkit's tables with
your own migrations, include it in ``env.py`` (``target_metadata = [app_metadata,
crmkit.adapters.sqlalchemy.metadata]``), let ``alembic revision --autogenerate`` create them, and
construct the store with ``create=False``. When a crmkit release changes the layout, its notes
give the steps and the new :data:`SCHEMA_VERSION`; your migration applies them and sets
``crm_schema.version`` for the component ``"sqlalchemy"``. For your own record types, build the
``MetaData`` with :func:`make_metadata` and pass it as ``metadata=``.

**Engines.** Use one store (and one engine) from many threads, one unit of work per thread; the
engine's pool gives each its own connection. With SQLite, use a file (``sqlite:///crm.db``): an
in-memory ``sqlite://`` database belongs to one thread. The first write of a unit of work on
SQLite takes the write lock (``BEGIN IMMEDIATE``); enabling WAL on your engine lets readers run
beside the writer. On MySQL/MariaDB, equality ignores trailing spaces (PAD SPACE collations).

Example:
    >>> import sqlalchemy
    >>> from datetime import datetime, timezone
    >>> from crmkit.customers import Customer
    >>> from crmkit.kernel.query import Query
    >>> engine = sqlalchemy.create_engine("sqlite://")
    >>> store = SQLAlchemyStore(engine)
    >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> with store.unit_of_work() as uow:
    ...     uow.customers.add(Customer.register(id="cus_1", name="Acme", kind="company",
    ...                                         now=now, tags=["vip"]))
    ...     _ = uow.commit()
    >>> with store.unit_of_work() as uow:
    ...     [c.name for c in uow.customers.query(Query().filter("tags", "contains", "vip")).items]
    ['Acme']
    >>> [e.event.event_type for e in store.outbox.pending()]
    ['customers.CustomerRegistered']
    >>> SCHEMA_VERSION, "crm_customers__tags" in metadata.tables
    (1, True)
    >>> engine.dispose()

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from crmkit.adapters.sqlalchemy._analytics import SQLAlchemyAnalytics
from crmkit.adapters.sqlalchemy._store import (
    SQLAlchemyOutbox,
    SQLAlchemyRepository,
    SQLAlchemyStore,
    SQLAlchemyUnitOfWork,
)
from crmkit.adapters.sqlalchemy._tables import (
    COLUMN_KINDS,
    DEFAULT_METADATA,
    SCHEMA_VERSION,
    FieldKind,
    make_metadata,
)

__all__ = [
    "COLUMN_KINDS",
    "FieldKind",
    "SCHEMA_VERSION",
    "SQLAlchemyAnalytics",
    "SQLAlchemyOutbox",
    "SQLAlchemyRepository",
    "SQLAlchemyStore",
    "SQLAlchemyUnitOfWork",
    "make_metadata",
    "metadata",
]

#: crmkit's tables for its own record types, for ``metadata.create_all(engine)`` or Alembic.
metadata = DEFAULT_METADATA
