# ruff: noqa: RUF001
"""The crmkit command: --version, the demo story on SQLite, and the report."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import crmkit
from crmkit import bootstrap
from crmkit.cli import main

QUOTE_TOTAL_IN = {
    "en": "NT$57,592",
    "zh_Hant_TW": "$57,592",
    "zh_Hans_CN": "NT$57,592",
}
START_IN = {
    "en": "3/2/26, 9:00 AM",
    "zh_Hant_TW": "2026/3/2 上午9:00",
    "zh_Hans_CN": "2026/3/2 09:00",
}
#: A sentence of the story and a dashboard label, in each language.
WORDS_IN = {
    "en": ("1. Leads, ", "Revenue (won)"),
    "zh_Hant_TW": ("1. 潛在客戶，", "營收（成交）"),
    "zh_Hans_CN": ("1. 销售线索，", "收入（赢单）"),
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
    match = re.search(r"SQLite file (\S+)", lines[0])
    assert match is not None
    assert "deleted afterwards" in lines[1]
    assert not Path(match.group(1)).exists()
    assert not Path(match.group(1)).parent.exists()
    story = [
        # leads from the website and the trade show, scored and assigned by round robin
        "Formosa Tea Co. from the website (spring promo): score 40, grade B, assigned to u_amy",
        "Jade Garden Teahouse from the trade show (Taipei Tea Expo 2026): score 30, grade B, "
        "assigned to u_ben",
        "Sun Moon Lake Hotel from the trade show (Taipei Tea Expo 2026): score 20, grade C, "
        "assigned to u_amy",
        # converted, each with a deal
        "Formosa Tea Co. [cus_000001] with deal opp_000001 of NT$50,000 (owner u_amy)",
        # the quote: volume tier, promotion, approved discount; won
        "60 boxes of oolong at the volume price NT$1,000 (list NT$1,200), two teapots",
        "Spring promotion -5% on tea, and 8% off the quote approved by u_lin",
        "Deal won: Formosa Tea Co., NT$57,592, 3/3/26, 2:00 PM",
        "Deal lost: Jade Garden Teahouse chose a cheaper supplier",
        # the order, points and the tier upgrade
        "4. Order quo_000001 recorded;",
        "Formosa Tea Co. moved up from Member to Silver",
        # the complaint within its SLA, goodwill points, CSAT
        "5. Complaint CS-000001 (silver SLA), filed 3/6/26, 4:00 PM",
        "First reply after 2.5 hr of business time (target 4 hr): met",
        "300 goodwill points granted, CSAT 5 of 5, case closed",
        # the maintenance visit
        "6. Maintenance visit for roaster RST-0007 on Apr 1, 2026",
        # the dashboard
        "Formosa Tea: first quarter: January 2026 – March 2026 (Asia/Taipei), TWD",
        "u_ben   NT$38,000.00          1  33.3% (1/3)    37.5%  below the team",
    ]
    text = out.replace("\u202f", " ")  # CLDR's narrow no-break space before AM/PM
    positions = [text.index(line) for line in story]
    assert positions == sorted(positions), "the story is told in order"
    assert lines[-1] == "Run with --html FILE to write the dashboard as a page with charts."


def test_demo_output_is_the_same_every_time(capsys: pytest.CaptureFixture[str]) -> None:
    _, first, _ = run(capsys, "demo")
    _, second, _ = run(capsys, "demo")
    assert first.splitlines()[1:] == second.splitlines()[1:]


@pytest.mark.parametrize("locale", sorted(QUOTE_TOTAL_IN))
def test_demo_in_each_locale(capsys: pytest.CaptureFixture[str], locale: str) -> None:
    code, out, err = run(capsys, "demo", "--locale", locale)
    assert (code, err) == (0, "")
    assert f" {locale}" in out.splitlines()[1]
    assert QUOTE_TOTAL_IN[locale] in out
    assert START_IN[locale] in out.replace("\u202f", " ")  # CLDR's narrow no-break space
    sentence, label = WORDS_IN[locale]
    assert sentence in out
    assert label in out


def test_demo_keeps_the_database_and_writes_the_dashboard_beside_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib", reason="the report extra: pip install -e '.[report]'")
    path = tmp_path / "demo.sqlite3"
    code, out, _err = run(capsys, "demo", "--database", str(path))
    assert code == 0
    assert "kept" in out.splitlines()[1]
    page = tmp_path / "demo.html"
    assert out.splitlines()[-1] == f"Dashboard written as HTML to {page}"
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    crm = bootstrap(database=path)
    try:
        names = [c.name for c in crm.find_customers().items]
        assert names == ["Formosa Tea Co.", "Jade Garden Teahouse", "Sun Moon Lake Hotel"]
        assert crm.get_quote("quo_000001").status.value == "accepted"
    finally:
        crm.store.close()  # type: ignore[attr-defined]


def test_demo_without_matplotlib_says_how_to_get_the_html(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    page = tmp_path / "board.html"
    code, out, _err = run(capsys, "demo", "--html", str(page))
    assert code == 0
    assert out.splitlines()[-1] == (
        'The HTML dashboard needs matplotlib: pip install "crmkit[report]"'
    )
    assert not page.exists()


# ----- crmkit report ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "crm.db"
    assert main(["demo", "--database", str(path), "--html", str(path.with_suffix(".x"))]) == 0
    return path


def test_report_prints_the_dashboard_and_writes_html_and_json(
    capsys: pytest.CaptureFixture[str], demo_database: Path, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib", reason="the report extra: pip install -e '.[report]'")
    from crmkit.analytics.dashboard import Dashboard

    capsys.readouterr()
    html, data = tmp_path / "out.html", tmp_path / "out.json"
    code, out, err = run(
        capsys,
        "report",
        "--database",
        str(demo_database),
        "--end",
        "2026-03",
        "--time-zone",
        "Asia/Taipei",
        "--target",
        "2026-03=100000",
        "--locale",
        "zh_Hans_CN",
        "--html",
        str(html),
        "--json",
        str(data),
    )
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "仪表板：2026年1月 – 2026年3月（Asia/Taipei），TWD"
    assert "2026年3月  NT$57,592.00       1  NT$100,000.00   57.6%" in lines
    assert lines[-2:] == [f"仪表板已写成 JSON：{data}", f"仪表板已写成 HTML：{html}"]
    board = Dashboard.from_json(data.read_text(encoding="utf-8"))
    assert (board.locale, board.currency, board.periods.count) == ("zh_Hans_CN", "TWD", 3)
    assert board.sales is not None and board.sales.win_rate.value == Decimal("0.6667")
    # Segments are settings, not stored: the report's store has none, so no segment chart.
    assert html.read_text(encoding="utf-8").count("<svg") == 6


def test_report_takes_the_currency_of_the_deals(
    capsys: pytest.CaptureFixture[str], demo_database: Path
) -> None:
    argv = ["report", "--database", str(demo_database), "--months", "1"]
    code, out, _ = run(capsys, *argv, "--end", "2026-03")
    assert code == 0
    assert out.splitlines()[0] == "Dashboard: March 2026 (UTC), TWD"
    # No deal in these months: the loyalty program's currency.
    code, out, _ = run(capsys, *argv, "--end", "2030-01")
    assert (code, out.splitlines()[0]) == (0, "Dashboard: January 2030 (UTC), TWD")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--database", "{missing}"], "database: {missing} does not exist"),
        (["--target", "March=100"], "target: 'March=100' is not YYYY-MM=AMOUNT"),
        (["--end", "2026-13"], "end: '2026-13' is not a month YYYY-MM"),
        (["--time-zone", "Mars/Olympus"], "time_zone: 'Mars/Olympus' is not an IANA time zone"),
    ],
)
def test_report_refuses_bad_options_with_exit_1(
    capsys: pytest.CaptureFixture[str],
    demo_database: Path,
    tmp_path: Path,
    argv: list[str],
    message: str,
) -> None:
    missing = str(tmp_path / "nope.db")
    argv = [a.format(missing=missing) for a in argv]
    if "--database" not in argv:
        argv = ["--database", str(demo_database), *argv]
    code, out, err = run(capsys, "report", *argv)
    assert (code, out) == (1, "")
    assert err.startswith("crmkit: error: " + message.format(missing=missing))
    assert not Path(missing).exists()


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
    assert "$57,592" in result.stdout


def test_python_dash_m_crmkit_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crmkit", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "crmkit 0.1.0")


# ----- the demo's output in the docs --------------------------------------------------------

DOCS_WITH_DEMO = [
    "README.md",
    "docs/index.md",
    "docs/getting-started.md",
    "docs/zh-Hant/getting-started.md",
]


@pytest.fixture(scope="module")
def demo_output() -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["demo"]) == 0
    return out.getvalue().replace("\u202f", " ").splitlines()


@pytest.mark.parametrize("doc", DOCS_WITH_DEMO)
def test_the_docs_show_the_demo_as_it_runs(demo_output: list[str], doc: str) -> None:
    text = (Path(__file__).resolve().parent.parent / doc).read_text(encoding="utf-8")
    start = text.index("```text\ncrmkit 0.1.0 demo on SQLite file")
    shown = text[start:].split("\n", 1)[1].split("\n```", 1)[0].splitlines()
    # Every line shown, but elisions ("...") and the temporary path, is printed, in order.
    at = 0
    for line in shown:
        if "..." in line:
            continue
        at = demo_output.index(line, at) + 1
    assert shown[-1] == demo_output[-1]
