"""``crmkit export`` and ``crmkit import``: SQLite to SQLite, customer files.

The same commands into PostgreSQL run in tests/adapters/test_backup.py (its database fixtures).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmkit import bootstrap
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.cli import main
from crmkit.kernel.query import Query


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def demo_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    path = tmp_path / "demo.db"
    assert run(capsys, "demo", "--database", str(path))[0] == 0
    return path


def customers(store: object) -> list[object]:
    with store.unit_of_work() as uow:  # type: ignore[attr-defined]
        return list(uow.customers.query(Query()).items)


def test_export_then_import_into_a_new_sqlite_file(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "backup.jsonl"
    code, out, err = run(capsys, "export", "--database", str(demo_db), str(backup))
    assert (code, err) == (0, "")
    assert out.startswith("exported ") and " customers, " in out
    target = tmp_path / "copy.db"
    code, out, err = run(capsys, "import", "--database", str(target), str(backup))
    assert (code, err) == (0, "") and out.startswith("restored ")
    source_store, copy_store = SQLiteStore(demo_db), SQLiteStore(target)
    try:
        assert customers(copy_store) == customers(source_store)
    finally:
        source_store.close()
        copy_store.close()


def test_import_refuses_a_non_empty_target_unless_allowed(
    demo_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backup = tmp_path / "backup.jsonl"
    run(capsys, "export", "--database", str(demo_db), str(backup))
    code, _out, err = run(capsys, "import", "--database", str(demo_db), str(backup))
    assert code == 1 and "holds records already" in err and "--allow-existing" in err


def test_export_refuses_a_missing_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "export", "--database", str(tmp_path / "no.db"), "b.jsonl")
    assert code == 1 and "does not exist" in err
    assert not (tmp_path / "no.db").exists()


def test_database_or_url_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "export", "backup.jsonl")[0] == 2


def test_import_customers_with_a_mapping_a_dry_run_and_all_or_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "people.csv"
    data.write_text("Who,Mail\nAmy,amy@example.com\n,bob@\nLi,LI@example.com\n", encoding="utf-8")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"name": "Who", "email": "Mail"}), encoding="utf-8")
    db = tmp_path / "crm.db"
    base = ["import", "--database", str(db), "--customers", "--mapping", str(mapping), str(data)]
    code, out, _ = run(capsys, *base, "--dry-run")
    assert code == 0 and out.startswith("would import 3 rows: 2 customers")
    assert "row 3, name: must not be empty" in out and "row 3, email:" in out
    code, out, _ = run(capsys, *base, "--all-or-nothing")
    assert code == 1 and out.startswith("imported nothing of 3 rows")
    code, out, _ = run(capsys, *base)
    assert code == 0 and out.startswith("imported 3 rows: 2 customers, 2 contacts; 1 bad rows")
    code, out, _ = run(capsys, *base)
    assert out.startswith("imported 3 rows: 0 customers") and "2 duplicates" in out
    store = SQLiteStore(db)
    try:
        assert sorted(c.name for c in customers(store)) == ["Amy", "Li"]  # type: ignore[attr-defined]
    finally:
        store.close()


def test_a_bad_mapping_file_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text("{", encoding="utf-8")
    code, _, err = run(
        capsys, "import", "--database", str(tmp_path / "crm.db"), "--customers",
        "--mapping", str(mapping), str(tmp_path / "x.csv"),
    )  # fmt: skip
    assert code == 1 and "is not JSON" in err
    assert bootstrap  # the facade the import goes through
