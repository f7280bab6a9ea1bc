"""Forecasts, currency conversion and periods: hand-computed cases and properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.analytics import (
    Explanation,
    Periods,
    StaticRates,
    convert_totals,
    history_forecast,
    revenue,
    sales_facts,
    weighted_by_period,
)
from crmkit.errors import CurrencyMismatchError, NotFoundError, ValidationError
from crmkit.kernel.money import Money
from crmkit.testing._analytics_strategies import deal

UTC = timezone.utc


def usd(*amounts: str) -> list[Money]:
    return [Money(a, "USD") for a in amounts]


def test_seasonal_naive_wins_on_a_seasonal_series() -> None:
    history = usd("10", "20", "30", "40", "12", "22", "32", "42", "14", "24", "34", "44")
    f = history_forecast(history, horizon=6, season=4, window=2)
    # back-test on the last 8: seasonal naive misses by 2 each time
    assert {m.method: m.error for m in f.methods}["seasonal_naive"] == Money("2", "USD")
    # moving average of 2: e.g. t=4 predicts (30+40)/2=35 for 12 -> 23; t=5: (40+12)/2=26
    # for 22 -> 4; t=6: 17 for 32 -> 15; t=7: 27 for 42 -> 15; t=8: 37 for 14 -> 23;
    # t=9: 28 for 24 -> 4; t=10: 19 for 34 -> 15; t=11: 29 for 44 -> 15; mean 114/8 = 14.25
    assert {m.method: m.error for m in f.methods}["moving_average"] == Money("14.25", "USD")
    assert (f.method, f.error) == ("seasonal_naive", Money("2", "USD"))
    assert f.values == tuple(usd("14", "24", "34", "44", "14", "24"))
    assert f.explanation.counted == 12


def test_moving_average_wins_on_a_level_noisy_series() -> None:
    history = usd("10", "12", "10", "12", "11", "9", "11", "10")
    f = history_forecast(history, horizon=2, season=4, window=4, holdout=4)
    # seasonal: 11 vs 10 -> 1, 9 vs 12 -> 3, 11 vs 10 -> 1, 10 vs 12 -> 2: mean 1.75
    # moving(4): t=4 (10+12+10+12)/4=11 vs 11 -> 0; t=5: 11.25 vs 9 -> 2.25;
    # t=6: 10.5 vs 11 -> 0.5; t=7: 10.75 vs 10 -> 0.75: mean 0.875 -> 0.88
    assert {m.method: m.error for m in f.methods} == {
        "seasonal_naive": Money("1.75", "USD"),
        "moving_average": Money("0.88", "USD"),
    }
    assert f.method == "moving_average"
    assert f.values == tuple(usd("10.25", "10.25"))  # mean of 9, 11, 10, 11... last four


def test_history_forecast_reads_a_revenue_report_and_refuses_short_or_mixed_history() -> None:
    deals = [
        deal(
            f"d{m}",
            created=datetime(2025, m, 1, tzinfo=UTC),
            amount=Money(str(m), "TWD"),
            outcome="won",
            closed=datetime(2025, m, 2, tzinfo=UTC),
        )
        for m in range(1, 13)
    ]
    report = revenue(sales_facts(deals, Periods(date(2025, 1, 1), 12)), currency="TWD")
    f = history_forecast(report, horizon=1, season=4, window=1)
    assert f.method == "moving_average" and f.values == (Money("12", "TWD"),)
    with pytest.raises(ValidationError, match="at least 13 periods"):
        history_forecast(report, season=12)
    with pytest.raises(CurrencyMismatchError, match="TWD"):
        history_forecast([*usd("1", "2"), Money("1", "TWD")], season=1, window=1)
    with pytest.raises(ValidationError, match="holdout"):
        history_forecast(usd("1", "2", "3"), season=1, window=1, holdout=3)


@settings(max_examples=50, deadline=None)
@given(
    level=st.integers(0, 10_000),
    n=st.integers(13, 30),
    season=st.integers(1, 12),
    window=st.integers(1, 12),
)
def test_a_flat_history_is_forecast_exactly(level: int, n: int, season: int, window: int) -> None:
    f = history_forecast([Money(level, "USD")] * n, season=season, window=window)
    assert f.error == Money(0, "USD")
    assert all(v == Money(level, "USD") for v in f.values)


def test_weighted_pipeline_per_period() -> None:
    deals = [
        deal(
            "a",
            created=datetime(2026, 1, 1, tzinfo=UTC),
            amount=Money("1000", "TWD"),
            expected=date(2026, 2, 10),
        ),  # lead 10 % -> 100
        deal(
            "b",
            created=datetime(2026, 1, 1, tzinfo=UTC),
            amount=Money("333.33", "TWD"),
            expected=date(2026, 2, 28),
            proposal_at=datetime(2026, 1, 2, tzinfo=UTC),
        ),
        # 60 % of 333.33 = 199.998 -> the period's 299.998 rounds once to 300.00
        deal("c", created=datetime(2026, 1, 1, tzinfo=UTC), amount=Money("50", "TWD")),
    ]
    report = weighted_by_period(sales_facts(deals, Periods(date(2026, 1, 1), 2)), currency="TWD")
    assert [(line.period.key, line.deals, line.amount, line.weighted) for line in report.lines] == [
        ("2026-01", 0, Money("0", "TWD"), Money("0", "TWD")),
        ("2026-02", 2, Money("1333.33", "TWD"), Money("300.00", "TWD")),
    ]
    assert dict(report.explanation.excluded) == {
        "expected to close outside the periods or undated": 1
    }


def test_conversion_records_rates_and_never_mixes_silently() -> None:
    rates = StaticRates(
        {
            ("USD", "TWD"): [(date(2026, 1, 1), Decimal("32")), (date(2026, 2, 1), Decimal("31"))],
            ("TWD", "JPY"): [(date(2026, 1, 1), Decimal("4.8"))],
        }
    )
    done = convert_totals(
        {"USD": Decimal("10"), "TWD": Decimal("5"), "JPY": Decimal("96")},
        currency="TWD",
        rates=rates,
        on=date(2026, 2, 15),
    )
    # 10 x 31 + 5 + 96 x (1 / 4.8 = 0.2083333333333) = 315 + 19.999999999997 -> 335.00
    assert done.total == Money("335.00", "TWD")
    assert [(r.base, r.quote, r.on) for r in done.rates] == [
        ("JPY", "TWD", date(2026, 1, 1)),
        ("USD", "TWD", date(2026, 2, 1)),
    ]
    with pytest.raises(CurrencyMismatchError, match="JPY, USD"):
        convert_totals({"USD": Decimal(1), "JPY": Decimal(1)}, currency="TWD")
    with pytest.raises(NotFoundError):
        rates.rate("EUR", "TWD", date(2026, 1, 1))
    with pytest.raises(ValidationError, match="currency"):
        convert_totals({}, currency="XXXX")


@settings(max_examples=100, deadline=None)
@given(
    amounts=st.dictionaries(
        st.sampled_from(["TWD", "USD", "JPY"]),
        st.decimals(min_value=0, max_value=10**9, places=2),
    ),
)
def test_converting_at_rate_one_is_the_plain_sum(amounts: dict[str, Decimal]) -> None:
    ones = StaticRates({(c, "EUR"): [(date(2000, 1, 1), Decimal(1))] for c in amounts})
    total = convert_totals(amounts, currency="EUR", rates=ones, on=date(2026, 1, 1)).total
    assert total == Money(sum(amounts.values(), Decimal(0)), "EUR").round()


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(["UTC", "Asia/Taipei", "America/New_York", "Australia/Adelaide"]),
    kind=st.sampled_from(["month", "quarter"]),
)
def test_an_instant_falls_in_the_period_of_its_local_date(
    moment: datetime, zone: str, kind: str
) -> None:
    span = Periods(date(2025, 1, 1), 36 if kind == "month" else 12, kind=kind, time_zone=zone)
    local = moment.astimezone(ZoneInfo(zone)).date()
    index = span.index_of(moment)
    if local < date(2025, 1, 1):
        assert index is None
    else:
        assert index is not None and local in span.periods[index]
        assert span.index_of(local) == index


def test_periods_are_validated() -> None:
    with pytest.raises(ValidationError, match="time_zone"):
        Periods(date(2026, 1, 1), 1, time_zone="Mars/Olympus")
    with pytest.raises(ValidationError, match="count"):
        Periods(date(2026, 1, 1), 0)
    with pytest.raises(ValidationError, match="start"):
        Periods(date(2026, 1, 2), 1)
    with pytest.raises(ValidationError, match="moment"):
        Periods(date(2026, 1, 1), 1).index_of("2026-01-01")  # type: ignore[arg-type]
    assert Periods.ending(date(2026, 5, 9), 2, kind="quarter").start == date(2026, 1, 1)
    taipei = Periods(date(2026, 1, 1), 1, time_zone="Asia/Taipei")
    assert taipei.bounds[0] == datetime(2025, 12, 31, 16, tzinfo=UTC)
    assert (
        taipei.index_of(datetime(2025, 12, 31, 16, tzinfo=UTC) - timedelta(microseconds=1)) is None
    )


def test_explanations_count_reasons() -> None:
    e = Explanation("f", 2, [("b", 1), ("a", 2), ("b", 1), ("c", 0)], ["note"])
    assert e.excluded == (("a", 2), ("b", 2))
    assert str(e) == "f; counted 2; excluded 4: a (2), b (2); note"
    with pytest.raises(ValidationError, match="excluded"):
        Explanation("f", 1, {"a": -1})
