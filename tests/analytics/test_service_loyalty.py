"""Service and loyalty metrics on hand-computed fixtures."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest

from crmkit.analytics import (
    Periods,
    Ratio,
    active_members,
    average_handling_time,
    complaints_by_category,
    csat_average,
    loyalty_summary,
    points_flow,
    reopen_rate,
    repeat_purchase_rate,
    service_summary,
    sla_compliance,
)
from crmkit.analytics.loyalty import _example_members
from crmkit.analytics.service import _example_cases
from crmkit.errors import ValidationError
from crmkit.kernel.money import Money

UTC = timezone.utc
JAN = Periods(date(2026, 1, 1), 1)


def test_complaints_per_category_and_root_cause() -> None:
    counts = complaints_by_category(_example_cases(), JAN)
    assert [(c.period.key, c.category, c.root_cause, c.complaints) for c in counts.lines] == [
        ("2026-01", "billing", None, 1),
        ("2026-01", "delivery", None, 1),  # case_3, not resolved
        ("2026-01", "delivery", "carrier_delay", 2),
    ]
    feb = complaints_by_category(_example_cases(), Periods(date(2026, 2, 1), 1))
    assert feb.lines == () and dict(feb.explanation.excluded) == {"filed outside the periods": 4}


def test_first_response_and_resolution_compliance() -> None:
    cases = _example_cases()
    first = sla_compliance(cases, JAN, "first_response")
    # case_1 met; case_2 and case_3 breached; case_4 still running
    assert first.ratio == Ratio(1, 3)
    assert dict(first.explanation.excluded) == {"not responded yet, no breach": 1}
    resolution = sla_compliance(cases, JAN, "resolution")
    # case_1 met; case_3 breached; case_2 reopened (unresolved again) and case_4 running
    assert resolution.ratio == Ratio(1, 2)
    with pytest.raises(ValidationError, match="target"):
        sla_compliance(cases, JAN, "lunch")


def test_handling_time_reopen_rate_and_csat() -> None:
    cases = _example_cases()
    assert average_handling_time(cases, JAN).average == timedelta(days=1)
    assert reopen_rate(cases, JAN).ratio == Ratio(1, 2)
    csat = csat_average(cases, JAN)
    assert (csat.average, csat.responses) == (Decimal("4.00"), 2)
    summary = service_summary(cases, JAN)
    assert summary.csat == csat and summary.first_response.ratio == Ratio(1, 3)


def test_service_metrics_use_the_periods_time_zone() -> None:
    cases = _example_cases()  # filed 6-9 Jan 09:00 UTC
    honolulu = Periods(date(2026, 1, 1), 1, time_zone="Pacific/Honolulu")
    assert complaints_by_category(cases, honolulu).explanation.counted == 4


def test_loyalty_points_per_period_and_members() -> None:
    program, members = _example_members()
    now = datetime(2026, 2, 28, tzinfo=UTC)
    span = Periods(date(2026, 1, 1), 2)
    flow = points_flow(members, span)
    assert [(p.period.key, p.issued, p.redeemed, p.expired, p.net) for p in flow.lines] == [
        ("2026-01", 1500, 0, 0, 1500),
        ("2026-02", 0, 400, 0, -400),
    ]
    assert active_members(members, now=now).ratio == Ratio(1, 2)  # c1 redeemed in February
    assert active_members(members, now=now, active_days=60).ratio == Ratio(1, 2)
    with pytest.raises(ValidationError, match="active_days"):
        active_members(members, now=now, active_days=0)
    summary = loyalty_summary(program, members, span, now=now)
    assert summary.liability.points == 1100
    assert summary.liability.value == Money("1100", "TWD")
    assert [(t.tier, t.members) for t in summary.tiers] == [(None, 2)]


@attrs.frozen
class Sale:
    customer_id: str
    ordered_at: datetime


def test_repeat_purchase_rate_of_members_and_others() -> None:
    _, members = _example_members()  # customers c1 and c2
    jan = datetime(2026, 1, 20, tzinfo=UTC)
    orders = [
        Sale("c1", jan),
        Sale("c1", jan + timedelta(days=3)),  # member, repeat
        Sale("c2", jan),  # member, once
        Sale("c8", jan),
        Sale("c8", jan),
        Sale("c8", jan),  # non-member, repeat
        Sale("c9", jan),  # non-member, once
        Sale("c2", datetime(2026, 3, 1, tzinfo=UTC)),  # outside January
    ]
    rate = repeat_purchase_rate(orders, members, JAN)
    assert (rate.members, rate.non_members) == (Ratio(1, 2), Ratio(1, 2))
    assert rate.explanation.counted == 7
    assert dict(rate.explanation.excluded) == {"ordered outside the periods": 1}
    with pytest.raises(ValidationError, match=r"orders\[0\]"):
        repeat_purchase_rate(["x"], members, JAN)  # type: ignore[list-item]
