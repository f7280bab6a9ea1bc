"""Sales metrics on a hand-computed fixture, in Asia/Taipei months, and their properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.analytics import (
    Periods,
    StaticRates,
    average_deal_size,
    average_sales_cycle,
    lead_attribution,
    open_pipeline,
    rep_comparison,
    revenue,
    sales_facts,
    sales_summary,
    stage_conversion,
    stage_counts,
    time_in_stage,
    win_rate,
)
from crmkit.errors import CurrencyMismatchError, NotFoundError, ValidationError
from crmkit.kernel.money import Money
from crmkit.leads import ConversionResult, Lead
from crmkit.pipeline.forecast import weighted_pipeline
from crmkit.testing._analytics_strategies import SALES, deal, deal_lists

UTC = timezone.utc
TAIPEI = Periods(date(2026, 1, 1), 3, time_zone="Asia/Taipei")  # Jan, Feb, Mar 2026 in Taipei


def at(day: int, month: int = 1, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def twd(amount: str) -> Money:
    return Money(amount, "TWD")


def fixture() -> list:
    """Eight deals; the comments say where each one lands in Taipei time (UTC+8)."""
    return [
        # won 31 Jan 17:00 UTC = 1 Feb 01:00 Taipei -> February, 10-day cycle
        deal(
            "w1",
            created=at(21, 1, 17),
            owner="amy",
            amount=twd("1000"),
            outcome="won",
            closed=at(31, 1, 17),
        ),
        # won 15 Jan -> January, 14-day cycle, proposal stage on the way
        deal(
            "w2",
            created=at(1, 1, 0),
            owner="amy",
            amount=twd("2000.50"),
            proposal_at=at(5),
            outcome="won",
            closed=at(15),
        ),
        # won 10 Mar -> March, 30-day cycle
        deal(
            "w3", created=at(8, 2), owner="ben", amount=twd("500"), outcome="won", closed=at(10, 3)
        ),
        # won without an amount in January: counted in win rate and cycle, not in revenue
        deal("w4", created=at(2), owner="ben", outcome="won", closed=at(4)),
        # won in December 2025 (Taipei): outside the periods
        deal(
            "w5",
            created=datetime(2025, 12, 1, tzinfo=UTC),
            owner="cho",
            amount=twd("9999"),
            outcome="won",
            closed=datetime(2025, 12, 20, tzinfo=UTC),
        ),
        # lost in February
        deal(
            "l1",
            created=at(1, 2),
            owner="cho",
            amount=twd("700"),
            proposal_at=at(2, 2),
            outcome="lost",
            closed=at(20, 2),
        ),
        # open in proposal (60 %), expected in March
        deal(
            "o1",
            created=at(1, 3),
            owner="cho",
            amount=twd("800"),
            expected=date(2026, 3, 31),
            proposal_at=at(3, 3),
        ),
        # open in lead (10 %), no amount, no date
        deal("o2", created=at(2, 3), owner=None),
    ]


def facts():
    return sales_facts(fixture(), TAIPEI)


def test_revenue_per_taipei_month_against_target() -> None:
    report = revenue(facts(), currency="TWD", targets={"2026-02": twd("2000")})
    assert [(line.period.key, line.won, line.deals) for line in report.lines] == [
        ("2026-01", twd("2000.50"), 1),
        ("2026-02", twd("1000"), 1),  # 31 Jan 17:00 UTC is February in Taipei
        ("2026-03", twd("500"), 1),
    ]
    assert report.lines[1].target == twd("2000")
    assert report.lines[1].attainment == Decimal("0.5")
    assert report.lines[0].attainment is None
    assert report.total == twd("3500.50")
    assert report.explanation.counted == 3
    assert dict(report.explanation.excluded) == {
        "won outside the periods": 1,
        "won without an amount": 1,
    }
    assert "Asia/Taipei" in report.explanation.formula


def test_a_utc_month_is_not_a_taipei_month() -> None:
    utc = revenue(sales_facts(fixture(), Periods(date(2026, 1, 1), 3)), currency="TWD")
    assert [line.won for line in utc.lines] == [twd("3000.50"), twd("0"), twd("500")]


def test_open_and_weighted_pipeline() -> None:
    value = open_pipeline(facts(), currency="TWD")
    # o1: 800 x 60 % = 480; o2 has no amount
    assert (value.deals, value.amount, value.weighted) == (1, twd("800"), twd("480"))
    assert dict(value.explanation.excluded) == {"open without an amount": 1}


def test_counts_by_stage() -> None:
    counts = stage_counts(facts())
    assert [(s.stage, s.kind, s.deals) for s in counts.stages] == [
        ("lead", "open", 1),
        ("proposal", "open", 1),
        ("won", "won", 4),
        ("lost", "lost", 1),
    ]
    assert dict(counts.explanation.excluded) == {"closed outside the periods": 1}


def test_win_rate() -> None:
    rate = win_rate(facts())
    assert (rate.ratio.part, rate.ratio.whole, rate.ratio.value) == (4, 5, Decimal("0.8000"))


def test_average_deal_size() -> None:
    size = average_deal_size(facts(), currency="TWD")
    assert size.average == twd("1166.83")  # 3500.50 / 3 = 1166.8333 -> half-up to cents
    assert size.explanation.counted == 3


def test_average_sales_cycle() -> None:
    cycle = average_sales_cycle(facts())
    assert cycle.average == timedelta(days=14)  # (10 + 14 + 30 + 2) / 4 days
    assert cycle.explanation.counted == 4


def test_reps_against_the_team_average_with_a_threshold() -> None:
    reps = rep_comparison(facts(), currency="TWD", threshold=Decimal("0.5"))
    # in scope: amy 3000.50 won; ben 500 won; cho 0 won (lost l1, open o1); o2 has no owner
    assert reps.team_average == twd("1166.83")
    assert [(r.owner, r.won, r.deals_won, r.below) for r in reps.reps] == [
        ("amy", twd("3000.50"), 2, False),
        ("ben", twd("500"), 2, True),
        ("cho", twd("0"), 0, True),
    ]
    assert reps.reps[0].vs_team == Decimal("2.5715")
    assert reps.reps[2].win_rate.whole == 1  # the lost deal; the December win is outside
    assert reps.flagged == ("ben", "cho")
    assert rep_comparison(facts(), currency="TWD", threshold="0.4").flagged == ("cho",)
    assert dict(reps.explanation.excluded) == {"no owner": 1}


def test_threshold_must_be_a_share() -> None:
    with pytest.raises(ValidationError, match="threshold"):
        rep_comparison(facts(), currency="TWD", threshold=Decimal("1.5"))


def test_stage_conversion_and_time_in_stage_from_histories() -> None:
    deals = fixture()
    conversion = stage_conversion(deals, SALES)
    # all 8 reached lead; 7 reached proposal or further (the 5 wins, skipping it or not,
    # l1 lost from proposal, o1 in proposal; only o2 is still a lead); 5 of those 7 were won
    steps = [(s.source, s.target, s.reached, s.advanced) for s in conversion.steps]
    assert steps == [("lead", "proposal", 8, 7), ("proposal", "won", 7, 5)]
    times = time_in_stage(deals, SALES)
    by_stage = {t.stage: (t.stints, t.average) for t in times.stages}
    assert by_stage["proposal"] == (2, timedelta(days=14))  # w2 10 days, l1 18 days


def test_lead_attribution_per_source_and_campaign() -> None:
    deals = fixture()
    expo = Lead.capture(
        id="lead_1",
        source_channel="trade_show",
        campaign="Expo",
        name="A",
        email="a@example.com",
        now=at(3),
    )
    web = Lead.capture(
        id="lead_2", source_channel="web_form", name="B", email="b@example.com", now=at(4)
    )
    old = Lead.capture(
        id="lead_3",
        source_channel="web_form",
        name="C",
        email="c@example.com",
        now=datetime(2025, 11, 1, tzinfo=UTC),
    )
    for lead, opp in ((expo, "w2"), (web, "missing")):
        lead.start_working(now=at(5))
        lead.qualify(now=at(5))
        done = ConversionResult(customer_id="cus_1", contact_id="con_1", opportunity_id=opp)
        lead.mark_converted(done, now=at(5))
    result = lead_attribution([expo, web, old], deals, TAIPEI, currency="TWD")
    assert [
        (x.source, x.campaign, x.leads, x.converted, x.won_deals, x.won) for x in result.lines
    ] == [
        ("trade_show", "Expo", 1, 1, 1, twd("2000.50")),
        ("web_form", None, 1, 1, 0, twd("0")),
    ]
    assert dict(result.explanation.excluded) == {
        "captured outside the periods": 1,
        "deal not given": 1,
    }


def test_several_currencies_need_rates_and_record_them() -> None:
    deals = [
        *fixture(),
        deal(
            "u1",
            created=at(1),
            owner="amy",
            amount=Money("100", "USD"),
            outcome="won",
            closed=at(2),
        ),
    ]
    mixed = sales_facts(deals, TAIPEI)
    with pytest.raises(CurrencyMismatchError, match="USD"):
        revenue(mixed, currency="TWD")
    rates = StaticRates({("USD", "TWD"): [(date(2026, 1, 1), Decimal("32"))]})
    report = revenue(mixed, currency="TWD", rates=rates)
    assert report.lines[0].won == twd("5200.50")  # 2000.50 + 100 x 32
    assert [(r.base, r.quote, r.value, r.on) for r in report.rates] == [
        ("USD", "TWD", Decimal("32"), date(2026, 1, 1))
    ]
    assert "converted at 1 USD = 32 TWD on 2026-01-01" in report.explanation.notes
    with pytest.raises(NotFoundError, match="USD->TWD"):
        revenue(mixed, currency="TWD", rates=rates, rates_on=date(2025, 6, 1))


def test_targets_are_checked() -> None:
    with pytest.raises(ValidationError, match="2026-07"):
        revenue(facts(), currency="TWD", targets={"2026-07": twd("1")})
    with pytest.raises(CurrencyMismatchError, match="USD"):
        revenue(facts(), currency="TWD", targets={"2026-01": Money("1", "USD")})


def test_bad_input_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match=r"opportunities\[0\]"):
        sales_facts(["not a deal"], TAIPEI)  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="periods"):
        sales_facts([], "2026-01")  # type: ignore[arg-type]


# ----- properties ---------------------------------------------------------------------------------

periods = st.builds(
    Periods,
    start=st.sampled_from([date(2025, 12, 1), date(2026, 1, 1)]),
    count=st.integers(1, 8),
    time_zone=st.sampled_from(["UTC", "Asia/Taipei", "Pacific/Honolulu"]),
)
RATES = StaticRates({("USD", "TWD"): [(date(2025, 1, 1), Decimal("30"))]})


@settings(max_examples=60, deadline=None)
@given(deals=deal_lists(), span=periods)
def test_facts_cover_every_deal_and_revenue_adds_up(deals: list, span: Periods) -> None:
    facts = sales_facts(deals, span)
    assert facts.deals == len(deals)
    report = revenue(facts, currency="TWD", rates=RATES)
    assert report.total == Money.sum((line.won for line in report.lines), currency="TWD")
    won_in = [
        d for d in deals if d.stage_kind.value == "won" and span.index_of(d.closed_at) is not None
    ]
    assert report.explanation.counted + dict(report.explanation.excluded).get(
        "won without an amount", 0
    ) == len(won_in)
    summary = sales_summary(facts, currency="TWD", rates=RATES)
    assert summary.win_rate.ratio.part == len(won_in)
    assert sum(s.deals for s in summary.stages.stages) + dict(
        summary.stages.explanation.excluded
    ).get("closed outside the periods", 0) == len(deals)


@settings(max_examples=60, deadline=None)
@given(deals=deal_lists(), start=st.sampled_from([date(2025, 10, 1), date(2026, 1, 1)]))
def test_weighted_pipeline_per_period_agrees_with_the_pipeline_forecast(
    deals: list, start: date
) -> None:
    from crmkit.analytics import weighted_by_period

    twd_deals = [d for d in deals if d.amount is None or d.amount.currency == "TWD"]
    span = Periods(start, 4, kind="quarter")
    ours = weighted_by_period(sales_facts(twd_deals, span), currency="TWD")
    theirs = weighted_pipeline(twd_deals, currency="TWD", period="quarter")
    for line in ours.lines:
        assert line.amount == theirs.total(period=line.period.key, weighted=False)
        # ours rounds once per period, the pipeline forecast once per owner and category line
        lines = sum(1 for x in theirs.lines if x.period.key == line.period.key)
        gap = abs(line.weighted.amount - theirs.total(period=line.period.key).amount)
        assert gap <= Decimal("0.005") * (lines + 1)
