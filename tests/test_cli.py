"""The crmkit command: --version, and the demo story on SQLite."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import crmkit
from crmkit import bootstrap
from crmkit.cli import main

MONEY_IN = {
    "en": "NT$370,000",
    "zh_Hant_TW": "$370,000",
    "zh_Hans_CN": "NT$370,000",
}
CALL_TIME_IN = {
    "en": "3/2/26, 9:30 AM",
    "zh_Hant_TW": "2026/3/2 上午9:30",
    "zh_Hans_CN": "2026/3/2 09:30",
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"crmkit {crmkit.__version__}"
    assert crmkit.__version__ == "0.1.0"
    assert err == ""


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run(capsys)
    assert code == 2
    assert "usage: crmkit" in err


@pytest.mark.parametrize(
    "argv",
    [["demo", "--locale", "fr"], ["frobnicate"], ["demo", "--nope"]],
)
def test_bad_arguments_are_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert "usage:" in err


def test_demo_tells_the_story_in_a_temporary_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "demo")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert len(lines) <= 40
    match = re.search(r"SQLite file (\S+)", lines[0])
    assert match is not None
    assert "deleted afterwards" in lines[1]
    assert not Path(match.group(1)).exists()
    assert not Path(match.group(1)).parent.exists()
    for expected in [
        "Formosa Tea Co. [cus_000001]",
        "Huangpu Trading Ltd. [cus_000002]",
        "tags: tea, wholesale, taipei; source: 2023 trade show",
        "0912 345 678 (TW) stored as +886912345678",
        "(02) 2345-6789 (TW) stored as +886223456789",
        "138 0013 8000 (CN) stored as +8613800138000",
        "Refused (ValidationError): emails[0]: 'wang.jun@' is not a valid email address",
        "Refused (RuleViolation): contact 'con_000003' belongs to customer 'cus_000002'",
        "Nothing was stored: Formosa Tea Co. still has 2 contacts and 2 interactions.",
    ]:
        assert expected in out
    # the timeline is newest first
    assert out.index("Tasting session") < out.index("Asked for a quote")


def test_demo_output_is_the_same_every_time(capsys: pytest.CaptureFixture[str]) -> None:
    _, first, _ = run(capsys, "demo")
    _, second, _ = run(capsys, "demo")
    assert first.splitlines()[1:] == second.splitlines()[1:]


@pytest.mark.parametrize("locale", sorted(MONEY_IN))
def test_demo_in_each_locale(capsys: pytest.CaptureFixture[str], locale: str) -> None:
    code, out, err = run(capsys, "demo", "--locale", locale)
    assert (code, err) == (0, "")
    assert f"locale {locale}" in out
    assert f"= {MONEY_IN[locale]} (stored exactly as 370000 TWD)" in out
    assert CALL_TIME_IN[locale] in out.replace("\u202f", " ")  # CLDR's narrow no-break space


def test_demo_keeps_the_database_it_is_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "demo.sqlite3"
    code, out, _err = run(capsys, "demo", "--database", str(path))
    assert code == 0
    assert "kept" in out.splitlines()[1]
    crm = bootstrap(database=path)
    try:
        names = [c.name for c in crm.find_customers().items]
        assert names == ["Formosa Tea Co.", "Huangpu Trading Ltd."]
        assert len(crm.timeline("cus_000001")) == 2
    finally:
        crm.store.close()  # type: ignore[attr-defined]


def test_demo_refuses_an_existing_database(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "mine.sqlite3"
    path.write_bytes(b"precious")
    code, out, err = run(capsys, "demo", "--database", str(path))
    assert code == 1
    assert out == ""
    assert err.startswith("crmkit: error: database: ")
    assert "already exists" in err
    assert path.read_bytes() == b"precious"


def test_demo_reports_a_storage_error_with_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _out, err = run(capsys, "demo", "--database", str(tmp_path / "missing" / "x.db"))
    assert code == 1
    assert err.startswith("crmkit: error: ")


def test_python_dash_m_crmkit_demo_runs() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONWARNINGS")}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-m", "crmkit", "demo", "--locale", "zh_Hant_TW"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={**env, "PYTHONIOENCODING": "utf-8"},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Formosa Tea Co." in result.stdout
    assert "$370,000" in result.stdout


def test_python_dash_m_crmkit_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crmkit", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "crmkit 0.1.0")
