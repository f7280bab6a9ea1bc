"""``crm.analytics``: push-down when the store offers it, the same answers when it loads."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from crmkit import bootstrap
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.analytics import Periods, Ratio, StaticRates
from crmkit.analytics.loyalty import _example_members
from crmkit.analytics.sales import _example_deals
from crmkit.analytics.service import _example_cases
from crmkit.app.analytics import LoadingAnalytics
from crmkit.errors import CurrencyMismatchError, ValidationError
from crmkit.kernel.money import Money
from crmkit.kernel.time import ManualClock
from crmkit.pipeline.definition import _example
from crmkit.testing._analytics_strategies import deal

SPAN = Periods(date(2026, 3, 1), 2)


def _crm(store: object):  # type: ignore[no-untyped-def]
    crm = bootstrap(store=store, clock=ManualClock(datetime(2026, 5, 1, tzinfo=timezone.utc)))
    with crm.store.unit_of_work() as uow:
        uow.opportunities.add_many(_example_deals())
        uow.complaints.add_many(_example_cases())
        program, members = _example_members()
        uow.loyalty_programs.add(program)
        uow.memberships.add_many(members)
        uow.commit()
    return crm


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return _crm(MemoryStore() if request.param == "memory" else SQLiteStore(":memory:"))


def test_push_down_is_picked_when_the_store_offers_it() -> None:
    assert _crm(SQLiteStore(":memory:")).analytics.pushed_down
    memory = _crm(MemoryStore()).analytics
    assert not memory.pushed_down and isinstance(memory.queries, LoadingAnalytics)


def test_both_paths_give_the_same_sales_dashboard() -> None:
    pushed = _crm(SQLiteStore(":memory:")).analytics
    loaded = _crm(MemoryStore()).analytics
    assert pushed.sales_facts(SPAN) == loaded.sales_facts(SPAN)
    assert pushed.sales(SPAN, currency="TWD") == loaded.sales(SPAN, currency="TWD")


def test_sales_metrics_through_the_facade(crm) -> None:  # type: ignore[no-untyped-def]
    sales = crm.analytics.sales(SPAN, currency="TWD", targets={"2026-04": Money("6000", "TWD")})
    assert sales.revenue.total == Money("4000", "TWD")
    assert sales.revenue.lines[1].attainment == Decimal("0.5")
    assert sales.win_rate.ratio == Ratio(2, 3)
    weighted = crm.analytics.weighted_pipeline(SPAN, currency="TWD")
    assert [line.weighted for line in weighted.lines] == [Money("0", "TWD"), Money("250", "TWD")]
    steps = crm.analytics.stage_conversion(_example()).steps
    assert [(s.reached, s.advanced) for s in steps] == [(4, 3), (3, 2)]
    assert crm.analytics.time_in_stage(_example()).stages[0].stage == "lead"
    assert crm.analytics.lead_attribution(SPAN, currency="TWD").lines == ()


def test_several_currencies_need_rates(crm) -> None:  # type: ignore[no-untyped-def]
    usd = deal(
        "usd_1",
        created=datetime(2026, 3, 1, tzinfo=timezone.utc),
        owner="u_amy",
        amount=Money("100", "USD"),
        outcome="won",
        closed=datetime(2026, 3, 5, tzinfo=timezone.utc),
    )
    with crm.store.unit_of_work() as uow:
        uow.opportunities.add(usd)
        uow.commit()
    with pytest.raises(CurrencyMismatchError, match="USD"):
        crm.analytics.sales(SPAN, currency="TWD")
    rates = StaticRates({("USD", "TWD"): [(date(2026, 3, 1), Decimal("32"))]})
    sales = crm.analytics.with_rates(rates).sales(SPAN, currency="TWD")
    assert sales.revenue.lines[0].won == Money("4200", "TWD")
    assert sales.revenue.rates[0].on == date(2026, 3, 1)
    with pytest.raises(ValidationError, match="rates"):
        crm.analytics.with_rates({"USD": 32})  # type: ignore[arg-type]


def test_forecast_from_the_stored_history(crm) -> None:  # type: ignore[no-untyped-def]
    history = Periods(date(2026, 1, 1), 4)
    f = crm.analytics.forecast(history, currency="TWD", horizon=2, season=2, window=1)
    # January 0, February 0, March 1000, April 3000
    assert {m.method: m.error for m in f.methods} == {
        "seasonal_naive": Money("2000", "TWD"),  # |1000-0|, |3000-0|
        "moving_average": Money("1500", "TWD"),  # |1000-0|, |3000-1000|
    }
    assert f.method == "moving_average" and f.values == (Money("3000", "TWD"),) * 2


def test_service_and_loyalty_through_the_facade(crm) -> None:  # type: ignore[no-untyped-def]
    service = crm.analytics.service(Periods(date(2026, 1, 1), 1))
    assert service.first_response.ratio == Ratio(1, 3)
    assert service.csat.average == Decimal("4.00")
    loyalty = crm.analytics.loyalty(
        "club", Periods(date(2026, 1, 1), 2), now=datetime(2026, 2, 28, tzinfo=timezone.utc)
    )
    assert [line.issued for line in loyalty.points.lines] == [1500, 0]
    assert loyalty.liability.points == 1100
