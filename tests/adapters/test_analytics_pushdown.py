"""Analytics push-down: the facts SQL computes equal the pure function's, on generated data.

The :class:`~crmkit.testing.contracts.AnalyticsQueriesContract` suite runs on the SQLite store
and on the SQLAlchemy store with PostgreSQL and MariaDB (``CI=true`` makes an unreachable
server a failure); then what only the SQLite push-down does (its covering index, an existing
database file).
"""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from crmkit.adapters.sqlalchemy import SQLAlchemyStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.analytics import Periods, sales_facts
from crmkit.analytics.sales import _example_deals
from crmkit.testing.contracts import AnalyticsQueriesContract


class TestSQLiteAnalytics(AnalyticsQueriesContract):
    max_examples = 40

    @pytest.fixture
    def crm_store(self) -> SQLiteStore:
        return SQLiteStore(":memory:")


class TestPostgreSQLAnalytics(AnalyticsQueriesContract):
    max_examples = 25

    @pytest.fixture
    def crm_store(self, postgres_engine: sa.Engine) -> SQLAlchemyStore:
        return SQLAlchemyStore(postgres_engine)


class TestMariaDBAnalytics(AnalyticsQueriesContract):
    max_examples = 25

    @pytest.fixture
    def crm_store(self, mariadb_engine: sa.Engine) -> SQLAlchemyStore:
        return SQLAlchemyStore(mariadb_engine)


def test_sqlite_push_down_reads_an_existing_file_and_adds_its_index(tmp_path: Path) -> None:
    path = tmp_path / "crm.sqlite3"
    first = SQLiteStore(path)
    with first.unit_of_work() as uow:
        uow.opportunities.add_many(_example_deals())
        uow.commit()
    first.close()
    again = SQLiteStore(path)  # the table layout is unchanged: an existing file opens as it is
    periods = Periods(date(2026, 3, 1), 2)
    facts = again.analytics().sales_facts(periods, pipeline_key="new_business")
    assert facts.groups == sales_facts(_example_deals(), periods).groups
    assert again.analytics().sales_facts(periods, pipeline_key="nope").groups == ()
    with sqlite3.connect(path) as conn:
        found = conn.execute(
            "SELECT name FROM sqlite_master WHERE name = 'ix_crm_opportunities_sales_facts'"
        ).fetchall()
    assert found == [("ix_crm_opportunities_sales_facts",)]
