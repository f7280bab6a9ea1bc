"""Forecast and funnel against figures worked out by hand (21 placed deals, 3 quarters, 3 owners).

The fixture: stages lead 10 % (pipeline), qualified 25 % (pipeline), proposal 50 % (best case),
negotiation 80 % (commit). Each line's weighted amount is the exact sum of amount x probability
of its deals, rounded half-up to cents once; the comments show the arithmetic.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import CurrencyMismatchError, ValidationError
from crmkit.kernel.money import Money
from crmkit.pipeline import ForecastCategory, Opportunity, Pipeline, Stage, Transition
from crmkit.pipeline.forecast import (
    Forecast,
    Period,
    PeriodKind,
    StallReason,
    average_time_in_stage,
    conversion_rate,
    funnel,
    stalled_deals,
    weighted_pipeline,
)
from crmkit.testing._pipeline_strategies import opportunities

T0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
PATH = ("lead", "qualified", "proposal", "negotiation")

PIPELINE = Pipeline(
    key="new_business",
    name="New business",
    stages=[
        Stage("lead", "Lead", 10),
        Stage("qualified", "Qualified", 25, stall_after_days=20),
        Stage("proposal", "Proposal", 50, forecast_category="best_case", stall_after_days=10),
        Stage("negotiation", "Negotiation", 80, forecast_category="commit"),
        Stage("won", "Won", 100, kind="won"),
        Stage("lost", "Lost", 0, kind="lost"),
    ],
    transitions=[
        Transition("lead", "qualified"),
        Transition("qualified", "proposal"),
        Transition("proposal", "negotiation"),
        Transition("negotiation", "won"),
        *(Transition(s, "lost") for s in PATH),
    ],
    inactive_after_days=30,
)

#: (id, owner, stage, amount in TWD, expected close date, probability override)
DEALS = [
    # Q2 2026
    ("opp_01", "u_amy", "lead", "100000", date(2026, 4, 15), None),  # x10% = 10000
    ("opp_02", "u_amy", "lead", "55555.55", date(2026, 5, 20), None),  # x10% = 5555.555
    ("opp_03", "u_amy", "proposal", "200000", date(2026, 6, 30), None),  # x50% = 100000
    ("opp_04", "u_ben", "qualified", "33333.33", date(2026, 4, 1), None),  # x25% = 8333.3325
    ("opp_05", "u_ben", "qualified", "33333.33", date(2026, 5, 1), None),  # x25% = 8333.3325
    ("opp_06", "u_ben", "negotiation", "150000", date(2026, 6, 10), None),  # x80% = 120000
    ("opp_07", "u_cho", "negotiation", "90000", date(2026, 5, 5), 95),  # x95% = 85500
    ("opp_08", "u_cho", "lead", "12345.67", date(2026, 4, 30), None),  # x10% = 1234.567
    # Q3 2026
    ("opp_09", "u_amy", "negotiation", "300000", date(2026, 7, 31), None),  # x80% = 240000
    ("opp_10", "u_amy", "qualified", "80000", date(2026, 8, 15), 40),  # x40% = 32000
    ("opp_11", "u_ben", "proposal", "45000.50", date(2026, 9, 30), None),  # x50% = 22500.25
    ("opp_12", "u_ben", "lead", "10000", date(2026, 7, 1), None),  # x10% = 1000
    ("opp_13", "u_cho", "proposal", "77777.77", date(2026, 8, 8), None),  # x50% = 38888.885
    ("opp_14", "u_cho", "proposal", "22222.23", date(2026, 9, 9), None),  # x50% = 11111.115
    ("opp_15", "u_cho", "qualified", "60000", date(2026, 7, 20), None),  # x25% = 15000
    # Q4 2026
    ("opp_16", "u_amy", "lead", "250000", date(2026, 10, 10), None),  # x10% = 25000
    ("opp_17", "u_ben", "negotiation", "500000", date(2026, 12, 31), None),  # x80% = 400000
    ("opp_18", "u_ben", "negotiation", "120000", date(2026, 11, 11), 60),  # x60% = 72000
    ("opp_19", "u_cho", "qualified", "99999.99", date(2026, 10, 31), None),  # x25% = 24999.9975
    ("opp_20", "u_cho", "lead", "40000", date(2026, 12, 1), None),  # x10% = 4000
    ("opp_21", "u_amy", "proposal", "65432.10", date(2026, 11, 30), None),  # x50% = 32716.05
]


def build() -> list[Opportunity]:
    deals = []
    for i, (id, owner, stage, amount, close, override) in enumerate(DEALS):
        deal = Opportunity.open(
            id=id,
            customer_id=f"cus_{i}",
            name=f"Deal {i}",
            pipeline=PIPELINE,
            now=T0,
            owner=owner,
            amount=Money(amount, "TWD"),
            expected_close_date=close,
        )
        for step, target in enumerate(PATH[1 : PATH.index(stage) + 1], start=1):
            deal.move(target, pipeline=PIPELINE, now=T0 + timedelta(days=2 * step))
        if override is not None:
            deal.override_probability(override, pipeline=PIPELINE, now=T0 + timedelta(days=9))
        deals.append(deal)
    won = Opportunity.open(
        id="opp_22",
        customer_id="cus_22",
        name="Won deal",
        pipeline=PIPELINE,
        now=T0,
        owner="u_amy",
        amount=Money("50000", "TWD"),
        expected_close_date=date(2026, 9, 1),
    )
    for target in (*PATH[1:], "won"):
        won.move(target, pipeline=PIPELINE, now=datetime(2026, 5, 10, tzinfo=timezone.utc))
    lost = Opportunity.open(
        id="opp_23",
        customer_id="cus_23",
        name="Lost deal",
        pipeline=PIPELINE,
        now=T0,
        owner="u_ben",
        amount=Money("70000", "TWD"),
        expected_close_date=date(2026, 5, 1),
    )
    lost.move("lost", pipeline=PIPELINE, now=T0, reason="price")
    no_date = Opportunity.open(
        id="opp_24",
        customer_id="cus_24",
        name="No date",
        pipeline=PIPELINE,
        now=T0,
        owner="u_cho",
        amount=Money("1000", "TWD"),
    )
    no_amount = Opportunity.open(
        id="opp_25",
        customer_id="cus_25",
        name="No amount",
        pipeline=PIPELINE,
        now=T0,
        owner="u_amy",
        expected_close_date=date(2026, 5, 1),
    )
    return [*deals, won, lost, no_date, no_amount]


def twd(amount: str) -> Money:
    return Money(amount, "TWD")


def test_the_weighted_forecast_matches_the_hand_computed_lines() -> None:
    """Every (quarter, owner, category) line: deals, amount and weighted amount as worked out."""
    forecast = weighted_pipeline(build(), currency="TWD", period="quarter")

    assert [
        (line.period.key, line.owner, line.category.value, line.deals, line.amount, line.weighted)
        for line in forecast.lines
    ] == [
        ("2026-Q2", "u_amy", "pipeline", 2, twd("155555.55"), twd("15555.56")),  # 15555.555
        ("2026-Q2", "u_amy", "best_case", 1, twd("200000"), twd("100000.00")),
        ("2026-Q2", "u_ben", "pipeline", 2, twd("66666.66"), twd("16666.67")),  # 16666.665
        ("2026-Q2", "u_ben", "commit", 1, twd("150000"), twd("120000.00")),
        ("2026-Q2", "u_cho", "pipeline", 1, twd("12345.67"), twd("1234.57")),  # 1234.567
        ("2026-Q2", "u_cho", "commit", 1, twd("90000"), twd("85500.00")),
        ("2026-Q3", "u_amy", "pipeline", 1, twd("80000"), twd("32000.00")),
        ("2026-Q3", "u_amy", "commit", 1, twd("300000"), twd("240000.00")),
        ("2026-Q3", "u_ben", "pipeline", 1, twd("10000"), twd("1000.00")),
        ("2026-Q3", "u_ben", "best_case", 1, twd("45000.50"), twd("22500.25")),
        ("2026-Q3", "u_cho", "pipeline", 1, twd("60000"), twd("15000.00")),
        ("2026-Q3", "u_cho", "best_case", 2, twd("100000.00"), twd("50000.00")),  # 50000.000
        ("2026-Q4", "u_amy", "pipeline", 1, twd("250000"), twd("25000.00")),
        ("2026-Q4", "u_amy", "best_case", 1, twd("65432.10"), twd("32716.05")),
        ("2026-Q4", "u_ben", "commit", 2, twd("620000"), twd("472000.00")),
        ("2026-Q4", "u_cho", "pipeline", 2, twd("139999.99"), twd("29000.00")),  # 28999.9975
    ]
    assert forecast.unplaced == ("opp_24", "opp_25")


def test_forecast_totals_by_period_owner_and_category() -> None:
    """Totals add the rounded lines: per quarter, per owner, per category, and all together."""
    forecast = weighted_pipeline(build(), currency="TWD", period="quarter")

    assert forecast.total(period="2026-Q2") == twd("338956.80")
    assert forecast.total(period="2026-Q3") == twd("360500.25")
    assert forecast.total(period=Period(date(2026, 10, 1), "quarter")) == twd("558716.05")
    assert forecast.total(owner="u_amy") == twd("445271.61")
    assert forecast.total(owner="u_ben") == twd("632166.92")
    assert forecast.total(owner="u_cho") == twd("180734.57")
    assert forecast.total(category="commit") == twd("917500.00")
    assert forecast.total() == twd("1258173.10")
    assert forecast.total(owner="u_ben", period="2026-Q4", weighted=False) == twd("620000")


def test_a_monthly_forecast_rounds_each_line_once() -> None:
    """By month, ben's two qualified deals fall in separate lines, each rounded on its own."""
    forecast = weighted_pipeline(build(), currency="TWD", period=PeriodKind.MONTH)
    ben = {
        line.period.key: line.weighted
        for line in forecast.lines
        if line.owner == "u_ben" and line.category is ForecastCategory.PIPELINE
    }

    assert ben == {"2026-04": twd("8333.33"), "2026-05": twd("8333.33"), "2026-07": twd("1000.00")}
    assert forecast.period_kind is PeriodKind.MONTH


def test_won_deals_count_as_closed_in_the_period_they_closed() -> None:
    """With include_won, a won deal counts at 100 % in 'closed', placed by its close day."""
    forecast = weighted_pipeline(build(), currency="TWD", include_won=True)

    closed = [line for line in forecast.lines if line.category is ForecastCategory.CLOSED]
    assert [(line.period.key, line.owner, line.weighted) for line in closed] == [
        ("2026-Q2", "u_amy", twd("50000.00"))
    ]


def test_a_deal_in_another_currency_is_named_not_dropped() -> None:
    """Mixing currencies is refused, naming the deals; nothing is silently left out."""
    deals = build()
    deals.append(
        Opportunity.open(
            id="opp_usd",
            customer_id="cus_9",
            name="USD deal",
            pipeline=PIPELINE,
            now=T0,
            amount=Money("10", "USD"),
            expected_close_date=date(2026, 5, 1),
        )
    )

    with pytest.raises(CurrencyMismatchError, match=r"opp_usd \(USD\)"):
        weighted_pipeline(deals, currency="TWD")
    with pytest.raises(ValidationError, match="'EURO' is not an ISO 4217"):
        weighted_pipeline(deals, currency="EURO")
    with pytest.raises(ValidationError, match="'week' is not one of"):
        weighted_pipeline(deals, currency="TWD", period="week")


@settings(max_examples=40)
@given(st.lists(opportunities(max_moves=5), max_size=6), st.sampled_from(PeriodKind))
def test_the_weighted_total_never_drifts_more_than_half_a_cent_a_line(
    deals: list[Opportunity], period: PeriodKind
) -> None:
    """Property: the total equals the exact sum to within half a minor unit per line."""
    twd_deals = [d for d in deals if d.amount is None or d.amount.currency == "TWD"]
    forecast = weighted_pipeline(twd_deals, currency="TWD", period=period)
    exact = sum(
        (
            d.amount.amount * d.probability / 100
            for d in twd_deals
            if d.is_open and d.amount is not None and d.expected_close_date is not None
        ),
        Decimal(0),
    )

    assert abs(forecast.total().amount - exact) <= Decimal("0.005") * len(forecast.lines)
    assert sum(line.deals for line in forecast.lines) + len(forecast.unplaced) == sum(
        1 for d in twd_deals if d.is_open
    )


def test_funnel_counts_deals_that_reached_each_stage_or_beyond() -> None:
    """25 deals reached lead; 16 went further (5 qualified, 5 proposal, 5 negotiation, 1 won);
    the lost one and the three other leads stopped there."""
    steps = funnel(build(), PIPELINE)

    assert [(s.source, s.target, s.reached, s.advanced) for s in steps] == [
        ("lead", "qualified", 25, 16),
        ("qualified", "proposal", 16, 11),
        ("proposal", "negotiation", 11, 6),
        ("negotiation", "won", 6, 1),
    ]
    assert [s.rate for s in steps] == [
        Decimal("0.6400"),
        Decimal("0.6875"),
        Decimal("0.5455"),
        Decimal("0.1667"),
    ]


def test_conversion_rate_between_two_stages() -> None:
    """Of the deals ever in proposal, the share that later entered negotiation."""
    deals = build()

    assert conversion_rate(deals, "proposal", "negotiation") == Decimal("0.5455")  # 6 / 11
    assert conversion_rate(deals, "negotiation", "won") == Decimal("0.1667")  # 1 / 6
    assert conversion_rate(deals, "won", "lost") == Decimal("0.0000")
    assert conversion_rate([], "lead", "won") is None


def test_average_time_in_stage_from_the_histories() -> None:
    """Deals moved along the path spent 2 days in each stage they left; the won deal left lead
    68 days 15 hours after opening (2 March 09:00 to 10 May 00:00) and the other stages at once;
    the lost deal left lead at once."""
    deals = build()

    finished = {t.stage: (t.stints, t.total) for t in average_time_in_stage(deals)}

    assert finished == {
        "lead": (17, timedelta(days=15 * 2) + timedelta(days=68, hours=15)),
        "qualified": (11, timedelta(days=10 * 2)),
        "proposal": (6, timedelta(days=5 * 2)),
        "negotiation": (1, timedelta(0)),
    }
    assert {t.stage: t.average for t in average_time_in_stage(deals)}["proposal"] == (
        timedelta(days=10) / 6
    )


def test_average_time_in_stage_of_simple_deals_including_the_current_stay() -> None:
    """Two deals: 4 days and 2 days in lead; one still in qualified for 3 days at ``now``."""
    a = Opportunity.open(id="opp_a", customer_id="c", name="A", pipeline=PIPELINE, now=T0)
    b = Opportunity.open(id="opp_b", customer_id="c", name="B", pipeline=PIPELINE, now=T0)
    a.move("qualified", pipeline=PIPELINE, now=T0 + timedelta(days=4))
    b.move("lost", pipeline=PIPELINE, now=T0 + timedelta(days=2), reason="timing")

    times = average_time_in_stage([a, b], pipeline=PIPELINE, now=T0 + timedelta(days=7))

    assert [(t.stage, t.stints, t.total, t.average) for t in times] == [
        ("lead", 2, timedelta(days=6), timedelta(days=3)),
        ("qualified", 1, timedelta(days=3), timedelta(days=3)),
    ]


def test_stalled_deals_by_stage_threshold_and_by_inactivity() -> None:
    """Proposal stalls after 10 days, qualified after 20; any open deal idle 30 days stalls."""
    fresh = Opportunity.open(
        id="opp_f", customer_id="c", name="Fresh", pipeline=PIPELINE, now=T0, owner="u_amy"
    )
    stuck = Opportunity.open(
        id="opp_s", customer_id="c", name="Stuck", pipeline=PIPELINE, now=T0, owner="u_ben"
    )
    stuck.move("qualified", pipeline=PIPELINE, now=T0)
    stuck.move("proposal", pipeline=PIPELINE, now=T0 + timedelta(days=1))
    busy = Opportunity.open(
        id="opp_b", customer_id="c", name="Busy", pipeline=PIPELINE, now=T0, owner="u_cho"
    )
    busy.move("qualified", pipeline=PIPELINE, now=T0)
    now = T0 + timedelta(days=31)
    busy.record_activity(now - timedelta(days=1), now=now)

    found = stalled_deals([fresh, stuck, busy], pipelines=[PIPELINE], now=now)

    assert [(s.opportunity_id, s.owner, s.stage, [r.value for r in s.reasons]) for s in found] == [
        ("opp_b", "u_cho", "qualified", ["in_stage"]),
        ("opp_f", "u_amy", "lead", ["no_activity"]),
        ("opp_s", "u_ben", "proposal", ["in_stage", "no_activity"]),
    ]
    assert found[2].in_stage == timedelta(days=30)
    assert found[0].idle == timedelta(days=1)
    assert stalled_deals([fresh], pipelines=[PIPELINE], now=now, inactive_days=40) == ()
    assert [
        r
        for s in stalled_deals([stuck], pipelines=[PIPELINE], now=now, inactive_days=40)
        for r in s.reasons
    ] == [StallReason.IN_STAGE]
    with pytest.raises(ValidationError, match="which was not given"):
        stalled_deals([fresh], pipelines=[], now=now)


def test_periods_are_calendar_months_and_quarters_labelled_by_babel() -> None:
    """Periods start on the first day, end where the next starts, and read well in each locale."""
    quarter = Period.containing(date(2026, 12, 31), "quarter")
    month = Period.containing(date(2026, 2, 28))

    assert (quarter.start, quarter.end, quarter.key) == (
        date(2026, 10, 1),
        date(2027, 1, 1),
        "2026-Q4",
    )
    assert (month.start, month.end, month.key) == (date(2026, 2, 1), date(2026, 3, 1), "2026-02")
    assert date(2026, 2, 28) in month and date(2026, 3, 1) not in month
    assert [quarter.label(loc) for loc in ("en", "zh_Hant_TW", "zh_Hans_CN")] == [
        "Q4 2026",
        "2026年第4季",
        "2026年第4季度",
    ]
    assert month.label("en") == "February 2026"
    with pytest.raises(ValidationError, match="is not a known locale"):
        month.label("xx")
    with pytest.raises(ValidationError, match="must be a date, not datetime"):
        Period.containing(T0, "month")  # type: ignore[arg-type]


def test_an_empty_forecast_totals_zero() -> None:
    """No deals: no lines, and every total is zero in the currency."""
    forecast = weighted_pipeline([], currency="JPY")

    assert forecast == Forecast("JPY", PeriodKind.QUARTER, (), ())
    assert forecast.total() == Money("0", "JPY")
