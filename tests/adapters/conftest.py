"""Database fixtures for the adapter tests: the real PostgreSQL and MariaDB servers, and SQLite.

The servers come from ``CRMKIT_TEST_POSTGRES_URL`` and ``CRMKIT_TEST_MARIADB_URL`` (defaults: the
local servers, trust/socket auth). Each test session works in its own scratch database on each
server (``crmkit_test_<pid>_<random>``, dropped at the end; a killed run may leave one behind,
harmless to later runs), so two test runs at once never touch each other's tables; if the role
may not create databases, the URL's own database is used. Each test starts from a clean set of
crmkit's tables: they are dropped before and after it.

An unreachable server skips its tests with the reason locally; with ``CI=true`` it fails them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from crmkit.adapters.sqlalchemy import metadata

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(what: str, url: sa.URL, exc: BaseException) -> None:
    reason = (
        f"{what} at {url.render_as_string(hide_password=True)} is unreachable: "
        f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}"
    )
    if _in_ci():
        pytest.fail(f"{reason} (CI=true: the database tests must run)", pytrace=False)
    pytest.skip(reason)


def _drop_database(conn: sa.Connection, name: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")


def _create_database(conn: sa.Connection, name: str) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    else:
        conn.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")


def _scratch_url(what: str, env: str, default: str) -> Iterator[str]:
    """Yield the URL of a scratch database on the server named by ``env``; drop it afterwards."""
    url = sa.make_url(os.environ.get(env, default))
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    failure: sa.exc.SQLAlchemyError | None = None
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        failure = exc
    if failure is not None:
        admin.dispose()
        _unavailable(what, url, failure)
    name = f"crmkit_test_{os.getpid()}_{secrets.token_hex(3)}"
    created = False
    try:
        with admin.connect() as conn:
            _create_database(conn, name)
            created = True
    except sa.exc.SQLAlchemyError:
        created = False  # no right to create databases: use the URL's own database
    try:
        yield (url.set(database=name) if created else url).render_as_string(hide_password=False)
    finally:
        if created:
            with admin.connect() as conn:
                _drop_database(conn, name)
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of this session's scratch database on the PostgreSQL server."""
    yield from _scratch_url("PostgreSQL", "CRMKIT_TEST_POSTGRES_URL", POSTGRES_URL)


@pytest.fixture(scope="session")
def mariadb_url() -> Iterator[str]:
    """URL of this session's scratch database on the MariaDB server."""
    yield from _scratch_url("MariaDB", "CRMKIT_TEST_MARIADB_URL", MARIADB_URL)


def _drop_crm_tables(url: str) -> None:
    """Drop crmkit's tables, giving up after 20 s rather than hang behind a leaked lock."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        args: dict[str, object] = {"options": "-c lock_timeout=20000"}
    else:
        args = {"init_command": "SET SESSION lock_wait_timeout = 20"}
    cleaner = sa.create_engine(parsed, connect_args=args)
    try:
        metadata.drop_all(cleaner)
    finally:
        cleaner.dispose()


def _clean_engine(url: str) -> Iterator[sa.Engine]:
    _drop_crm_tables(url)
    engine = sa.create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        _drop_crm_tables(url)


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[sa.Engine]:
    """An engine on the scratch PostgreSQL database, without crmkit's tables."""
    yield from _clean_engine(postgres_url)


@pytest.fixture
def mariadb_engine(mariadb_url: str) -> Iterator[sa.Engine]:
    """An engine on the scratch MariaDB database, without crmkit's tables."""
    yield from _clean_engine(mariadb_url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite file."""
    return f"sqlite:///{tmp_path / 'crm.sqlite3'}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[sa.Engine]:
    """An engine on a fresh SQLite file (WAL, so readers never wait for the writer)."""
    engine = sa.create_engine(sqlite_url)

    @sa.event.listens_for(engine, "connect")
    def _wal(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    try:
        yield engine
    finally:
        engine.dispose()
