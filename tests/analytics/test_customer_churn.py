"""Churn per period: hand-computed fixtures and properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.analytics.customers import churn_per_period
from crmkit.analytics.periods import Periods
from crmkit.customers.segments import LifecycleRules
from crmkit.errors import ValidationError

UTC = timezone.utc
RULES = LifecycleRules(at_risk_after=timedelta(days=20), churned_after=timedelta(days=30))


@attrs.frozen
class Sale:
    customer_id: str
    ordered_at: datetime


def test_a_hand_computed_quarter_in_taipei() -> None:
    taipei = ZoneInfo("Asia/Taipei")
    orders = [
        # churns 2026-01-31 17:00 UTC = 1 Feb 01:00 in Taipei: February, not January
        Sale("a", datetime(2026, 1, 1, 17, 0, tzinfo=UTC)),
        # orders every 20 days: never quiet for 30 days until after the last one
        Sale("b", datetime(2026, 1, 1, tzinfo=UTC)),
        Sale("b", datetime(2026, 1, 21, tzinfo=UTC)),
        Sale("b", datetime(2026, 2, 10, tzinfo=UTC)),  # churns 12 Mar
        # ordered in December, churns in January
        Sale("c", datetime(2025, 12, 10, tzinfo=UTC)),
        # churn moment after now: not counted yet
        Sale("d", datetime(2026, 3, 20, tzinfo=UTC)),
    ]
    report = churn_per_period(
        orders,
        RULES,
        Periods(date(2026, 1, 1), 3, time_zone="Asia/Taipei"),
        now=datetime(2026, 4, 1, tzinfo=taipei),
    )
    assert [(line.period.key, line.customer_ids) for line in report.lines] == [
        ("2026-01", ("c",)),
        ("2026-02", ("a",)),
        ("2026-03", ("b",)),
    ]
    assert report.total == 3
    assert dict(report.explanation.excluded) == {"churn moment after now": 1}


@given(
    st.lists(st.integers(min_value=0, max_value=29), min_size=1, max_size=20),
    st.integers(min_value=0, max_value=400),
)
def test_a_customer_who_never_goes_quiet_long_enough_churns_only_after_the_last_order(
    gaps: list[int], wait: int
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    moments, at = [], start
    for gap in gaps:
        at += timedelta(days=gap)
        moments.append(at)
    now = moments[-1] + timedelta(days=wait)
    periods = Periods(date(2025, 12, 1), 36)
    report = churn_per_period([Sale("x", m) for m in moments], RULES, periods, now=now)
    expected = 1 if wait >= 30 else 0
    assert report.total == expected
    if expected:
        churned_at = moments[-1] + RULES.churned_after
        (line,) = [line for line in report.lines if line.churned]
        assert line.period.key == f"{churned_at.year}-{churned_at.month:02d}"


@given(st.lists(st.integers(min_value=0, max_value=200), max_size=15))
def test_churn_events_never_exceed_orders_and_never_lie_in_the_future(days: list[int]) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    orders = [Sale(f"c{d % 3}", start + timedelta(days=d)) for d in days]
    now = start + timedelta(days=150)
    report = churn_per_period(orders, RULES, Periods(date(2026, 1, 1), 12), now=now)
    assert report.total <= len(orders)
    assert all(line.period.start <= now.date() for line in report.lines if line.churned)


def test_bad_input_is_a_validation_error() -> None:
    periods = Periods(date(2026, 1, 1), 1)
    now = datetime(2026, 2, 1, tzinfo=UTC)
    with pytest.raises(ValidationError, match="rules"):
        churn_per_period([], "365 days", periods, now=now)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"orders\[0\]"):
        churn_per_period([object()], RULES, periods, now=now)
    with pytest.raises(ValidationError, match="now"):
        churn_per_period([], RULES, periods, now=datetime(2026, 2, 1))
