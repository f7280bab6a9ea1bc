"""Erasure on the SQLAlchemy store: every table and column of PostgreSQL (and SQLite) is clean.

The data set and the identifiers searched for are those of ``tests/app/test_privacy.py``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
import sqlalchemy as sa

from crmkit.adapters.sqlalchemy import SQLAlchemyStore


def _privacy_tests() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "app" / "test_privacy.py"
    spec = importlib.util.spec_from_file_location("crmkit_privacy_test_data", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


data_set = _privacy_tests()


def everything(engine: sa.Engine) -> str:
    """Every row of every table, every column, as text."""
    meta = sa.MetaData()
    meta.reflect(engine)
    rows: dict[str, list[list[str]]] = {}
    with engine.connect() as conn:
        for table in meta.sorted_tables:
            rows[table.name] = [[str(v) for v in row] for row in conn.execute(sa.select(table))]
    return json.dumps(rows, ensure_ascii=False)


@pytest.mark.parametrize("database", ["postgres", "sqlite"])
def test_erasure_leaves_no_trace_in_any_table(
    database: str, request: pytest.FixtureRequest
) -> None:
    engine: sa.Engine = request.getfixturevalue(f"{database}_engine")
    data = data_set.build(SQLAlchemyStore(engine))
    assert data_set.NAME in data_set.leaks(everything(engine))
    ledger = data.crm.get_membership(data.wang).entries
    total = data.crm.get_quote(data.quote).priced.total

    data.crm.erase_person(customer_id=data.wang)

    assert data_set.leaks(everything(engine)) == []
    assert data.crm.get_membership(data.wang).entries == ledger
    assert data.crm.get_quote(data.quote).priced.total == total
    assert data.crm.verify_audit().ok
