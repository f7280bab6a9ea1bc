# ruff: noqa: RUF001
"""The Dashboard: built from a store, round-tripped through JSON, rendered as text and HTML."""

from __future__ import annotations

import io
import json
import re
import sys
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit import bootstrap
from crmkit._demo_story import _segmentation, tell
from crmkit.analytics import Periods, StaticRates, sales_facts, sales_summary
from crmkit.analytics._common import Ratio
from crmkit.analytics._dashboard_text import display_width, pad, shorten
from crmkit.analytics.dashboard import (
    CountRow,
    CustomersSection,
    Dashboard,
    RevenueRow,
    SalesSection,
    _example_dashboard,
)
from crmkit.app.customer360 import CustomerSettings
from crmkit.app.dashboard import build_dashboard
from crmkit.errors import MissingDependencyError, ValidationError
from crmkit.kernel.money import Money
from crmkit.kernel.query import Query
from crmkit.testing._analytics_strategies import deal_lists

QUARTER = Periods(date(2026, 1, 1), 3, time_zone="Asia/Taipei")
NOW = datetime(2026, 3, 31, 10, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SQLite store ``crmkit demo`` leaves (its month of March 2026), HTML beside it."""
    folder = tmp_path_factory.mktemp("demo")
    path = folder / "demo.db"
    tell(path, kept=True, locale="en", out=io.StringIO(), html=folder / "story.html")
    return path


def _board(path: Path, locale: str = "en") -> Dashboard:
    crm = bootstrap(database=path, customers=CustomerSettings(segmentation=_segmentation()))
    try:
        targets = {"2026-03": Money("100000", "TWD")}
        return build_dashboard(crm, QUARTER, currency="TWD", locale=locale, targets=targets)
    finally:
        crm.store.close()  # type: ignore[attr-defined]


# ----- built from a store ---------------------------------------------------------------------


def test_the_demo_store_gives_the_hand_computed_sales_section(demo_db: Path) -> None:
    crm = bootstrap(database=demo_db)
    try:
        quote_total = crm.get_quote("quo_000001").priced.total  # type: ignore[union-attr]
    finally:
        crm.store.close()  # type: ignore[attr-defined]
    sales = _board(demo_db).sales
    assert sales is not None
    # January: Kaohsiung 62,000; February: Taipei 101 Cafe 38,000 + Tainan 45,000; March: the quote.
    assert [(r.period, r.won.amount, r.deals) for r in sales.revenue] == [
        ("2026-01", Decimal("62000"), 1),
        ("2026-02", Decimal("83000"), 2),
        ("2026-03", quote_total.amount, 1),
    ]
    assert sales.target == Money("100000", "TWD")
    assert sales.total == Money("145000", "TWD") + quote_total
    # Open: the hotel's NT$80,000 deal in "proposal" (60 %).
    assert (sales.open_deals, sales.open_pipeline, sales.weighted_pipeline) == (
        1,
        Money("80000", "TWD"),
        Money("48000", "TWD"),
    )
    assert [(s.stage, s.deals) for s in sales.stages] == [("proposal", 1), ("won", 4), ("lost", 2)]
    assert sales.win_rate == Ratio(4, 6)
    # Amy won three deals, Ben one of three: Ben is under half the team average.
    assert [(r.owner, r.deals_won, r.below) for r in sales.reps] == [
        ("u_amy", 3, False),
        ("u_ben", 1, True),
    ]
    assert sales.team_average == sales.total.allocate([1, 1])[0]


def test_the_demo_store_gives_service_loyalty_and_customer_sections(demo_db: Path) -> None:
    board = _board(demo_db)
    assert board.service is not None
    assert board.service.complaints == 1
    assert [(c.category, c.root_cause, c.complaints) for c in board.service.categories] == [
        ("product", "packing", 1)
    ]
    assert (board.service.first_response, board.service.resolution) == (Ratio(1, 1), Ratio(1, 1))
    assert board.service.csat == Decimal("5.00")
    [club] = board.loyalty
    assert (club.program, club.name, club.members) == ("tea_club", "Tea Club", 1)
    assert [(t.tier, t.members) for t in club.tiers] == [("member", 0), ("silver", 1), ("gold", 0)]
    # Issued in March: the order's points and 300 goodwill points; none redeemed or expired.
    crm = bootstrap(database=demo_db)
    try:
        with crm.store.unit_of_work() as uow:
            [member] = uow.memberships.query(Query()).items
    finally:
        crm.store.close()  # type: ignore[attr-defined]
    # The ledger: the order's points, then the 300 goodwill points.
    assert [e.kind.value for e in member.entries] == ["earn", "adjust"]
    assert member.entries[1].points == 300
    assert [(p.period, p.redeemed, p.expired) for p in club.points] == [
        ("2026-01", 0, 0),
        ("2026-02", 0, 0),
        ("2026-03", 0, 0),
    ]
    assert club.points[2].issued == club.outstanding == sum(e.points for e in member.entries)
    assert club.liability == Money("0.5", "TWD") * club.outstanding
    assert board.customers is not None
    assert board.customers.customers == 3
    # The demo's rules: two came from the expo, one from the web shop, one is Silver.
    assert [(s.name, s.customers) for s in board.customers.segments] == [
        ("tea_expo_2026", 2),
        ("web_shop", 1),
        ("silver_or_gold", 1),
    ]


def test_an_empty_store_has_no_sections_and_says_so() -> None:
    board = build_dashboard(bootstrap(), QUARTER, currency="TWD", locale="zh_Hant_TW")
    assert (board.sales, board.service, board.loyalty, board.customers) == (None, None, (), None)
    lines = board.to_text().splitlines()
    assert len(lines) == 4
    assert lines[0] == "儀表板：2026年1月 – 2026年3月（Asia/Taipei），TWD"
    assert lines[-1] == "這段期間還沒有任何紀錄。"


def test_build_dashboard_refuses_bad_arguments() -> None:
    crm = bootstrap()
    with pytest.raises(ValidationError, match=r"^periods: must be Periods"):
        build_dashboard(crm, date(2026, 1, 1), currency="TWD")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"^currency: "):
        build_dashboard(crm, QUARTER, currency="NTD$")
    with pytest.raises(ValidationError, match=r"^locale: 'klingon' is not a known locale"):
        build_dashboard(crm, QUARTER, currency="TWD", locale="klingon")


# ----- JSON -----------------------------------------------------------------------------------


def test_json_round_trips_and_keeps_money_exact(demo_db: Path) -> None:
    board = _board(demo_db, "zh_Hans_CN")
    text = board.to_json()
    assert Dashboard.from_json(text) == board
    data = json.loads(text)
    assert data["locale"] == "zh_Hans_CN"
    assert data["sales"]["revenue"][0]["won"] == {"amount": "62000.00", "currency": "TWD"}
    assert data["periods"] == {
        "start": "2026-01-01",
        "count": 3,
        "kind": "month",
        "time_zone": "Asia/Taipei",
    }


@settings(max_examples=40, deadline=None)
@given(deals=deal_lists(), locale=st.sampled_from(["en", "zh_Hant_TW", "zh_Hans_CN"]))
def test_any_sales_dashboard_round_trips_through_json(deals: list, locale: str) -> None:
    rates = StaticRates({("USD", "TWD"): [(date(2025, 1, 1), Decimal("30"))]})
    summary = sales_summary(sales_facts(deals, QUARTER), currency="TWD", rates=rates)
    board = Dashboard(QUARTER, "TWD", locale, NOW, sales=SalesSection.from_summary(summary))
    assert Dashboard.from_json(board.to_json()) == board
    # The section keeps the summary's figures exactly.
    assert board.sales is not None
    assert board.sales.total == summary.revenue.total
    assert [r.won for r in board.sales.revenue] == [line.won for line in summary.revenue.lines]


def test_from_json_names_the_bad_field() -> None:
    data = json.loads(_example_dashboard().to_json())
    data["generated_at"] = "2026-03-31T10:00:00"  # naive
    with pytest.raises(ValidationError, match="generated_at"):
        Dashboard.from_json(json.dumps(data))


def test_a_dashboard_refuses_bad_values() -> None:
    with pytest.raises(ValidationError, match=r"^currency: "):
        Dashboard(QUARTER, "twd", "en", NOW)
    with pytest.raises(ValidationError, match=r"^locale: "):
        Dashboard(QUARTER, "TWD", "xx_XX", NOW)
    with pytest.raises(ValidationError, match="generated_at"):
        Dashboard(QUARTER, "TWD", "en", datetime(2026, 3, 31))
    with pytest.raises(ValidationError, match=r"^loyalty\[0\]: must be a LoyaltySection"):
        Dashboard(QUARTER, "TWD", "en", NOW, loyalty=["club"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match=r"^summary: must be a SalesSummary"):
        SalesSection.from_summary("sales")  # type: ignore[arg-type]


# ----- text -----------------------------------------------------------------------------------


def test_display_width_counts_wide_characters_twice() -> None:
    assert display_width("NT$1,000") == 8
    assert display_width("2026年3月") == 9  # five digits, two wide characters
    assert display_width("积分ab") == 6
    assert display_width("e\u0301") == 1  # a combining accent takes no cell
    assert pad("積分", 6) == "積分  "
    assert pad("積分", 6, right=True) == "  積分"
    assert shorten("below the team", 8) == "below t…"
    assert shorten("低於團隊平均", 7) == "低於團…"


@given(st.text(alphabet=st.sampled_from("ab1 積分點數$,"), max_size=12), st.integers(2, 20))
def test_pad_and_shorten_fit_the_width(text: str, width: int) -> None:
    short = shorten(text, width)
    assert display_width(short) <= width
    if display_width(text) <= width:
        assert short == text
        assert display_width(pad(text, width)) == width


@pytest.mark.parametrize(
    ("locale", "period", "won"),
    [
        ("en", "January 2026", "NT$62,000.00"),
        ("zh_Hant_TW", "2026年1月", "$62,000.00"),
        ("zh_Hans_CN", "2026年1月", "NT$62,000.00"),
    ],
)
def test_text_is_in_the_locale_and_aligned(
    demo_db: Path, locale: str, period: str, won: str
) -> None:
    text = _board(demo_db, locale).to_text()
    board = _board(demo_db, locale)
    labels = [p.label(locale) for p in board.periods.periods]
    assert labels[0] == period
    rows = [next(line for line in text.splitlines() if line.startswith(label)) for label in labels]
    assert won in rows[0]
    # Every row of the revenue table takes the same cells (right-aligned numbers) ...
    assert len({display_width(row) for row in rows}) == 1, rows
    # ... and the won amounts end in the same cell.
    ends = set()
    for row, line in zip(rows, board.sales.revenue, strict=True):  # type: ignore[union-attr]
        amount = line.won.format(locale)
        ends.add(display_width(row[: row.index(amount) + len(amount)]))
    assert len(ends) == 1


def test_text_width_shortens_the_widest_column() -> None:
    board = attrs.evolve(_example_dashboard(), locale="zh_Hant_TW")
    narrow = board.to_text(width=52)
    rep_rows = [line for line in narrow.splitlines() if line.startswith(("u_amy", "u_ben"))]
    assert rep_rows and all(display_width(line) <= 52 for line in rep_rows)
    assert any("…" in line for line in rep_rows)


def test_text_formats_money_durations_and_ratios_with_babel() -> None:
    text = _example_dashboard().to_text()
    assert "Win rate             50% (1/2)" in text
    assert "Average sales cycle  20 days" in text
    assert "First response within SLA  33.3% (1/3)" in text
    zh = attrs.evolve(_example_dashboard(), locale="zh_Hans_CN").to_text()
    assert "20天" in zh


# ----- HTML -----------------------------------------------------------------------------------


def test_html_is_one_self_contained_page_with_a_chart_per_figure(demo_db: Path) -> None:
    page = _board(demo_db, "zh_Hant_TW").to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-Hant-TW">' in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "<script" not in page
    # The only URLs are the SVG and XLink namespaces.
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    charts = re.findall(r'<figure class="chart" data-chart="([^"]+)">', page)
    assert charts == ["revenue", "stages", "reps", "complaints", "tiers0", "points0", "segments"]
    assert page.count("<svg") == len(charts)
    # Chart labels stay text, in the locale.
    assert ">2026年3月</text>" in page
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "element ids must be unique across the inline charts"


def test_html_is_the_same_every_time() -> None:
    board = _example_dashboard()
    assert board.to_html() == board.to_html()


def test_html_without_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError) as caught:
        _example_dashboard().to_html()
    assert caught.value.details["extra"] == "report"
    assert 'pip install "crmkit[report]"' in str(caught.value)


def test_html_escapes_what_it_shows() -> None:
    board = attrs.evolve(
        _example_dashboard(),
        title="<b>Q1</b>",
        customers=CustomersSection(1, [CountRow("<script>x</script>", 1)]),
    )
    page = board.to_html()
    assert "<b>Q1</b>" not in page and "&lt;b&gt;Q1&lt;/b&gt;" in page
    assert "<script>" not in page


def test_revenue_rows_without_a_target_have_no_attainment() -> None:
    row = RevenueRow("2026-01", Money("5", "TWD"), 1)
    assert row.attainment is None
    assert RevenueRow("2026-01", Money("5", "TWD"), 1, Money("0", "TWD")).attainment is None
    assert attrs.evolve(row, target=Money("20", "TWD")).attainment == Decimal("0.2500")
