"""Tier models and compute_tier: periods, upgrades, evaluations, soft landing, grants."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crmkit.errors import DefinitionError, ValidationError
from crmkit.loyalty import (
    QualifyingActivity,
    Tier,
    TierGrant,
    TierModel,
    compute_tier,
)

TPE = ZoneInfo("Asia/Taipei")


def t(y: int, m: int, d: int, hh: int = 12) -> datetime:
    return datetime(y, m, d, hh, tzinfo=TPE)


def model(**overrides: object) -> TierModel:
    fields: dict[str, object] = {
        "metric": "points",
        "period": "calendar",
        "tiers": [
            Tier(id="member", name="Member", threshold=0),
            Tier(id="silver", name="Silver", threshold=100),
            Tier(id="gold", name="Gold", threshold=300),
        ],
    }
    fields.update(overrides)
    return TierModel(**fields)  # type: ignore[arg-type]


def points(*items: tuple[datetime, int]) -> list[QualifyingActivity]:
    return [QualifyingActivity(at=at, points=n) for at, n in items]


def run(m: TierModel, history: list[QualifyingActivity], now: datetime, **kw: object):
    return compute_tier(
        m,
        history,
        enrolled_at=t(2026, 1, 10),
        now=now,
        time_zone="Asia/Taipei",
        **kw,  # type: ignore[arg-type]
    )


def changes(status) -> list[tuple[datetime, str, str]]:
    return [(c.at, c.to_tier, c.reason.value) for c in status.history]


def test_a_broken_model_lists_every_problem() -> None:
    with pytest.raises(DefinitionError) as caught:
        TierModel(
            metric="points",
            period="calendar",
            period_months=5,
            rolling_days=30,
            downgrade="after_days",
            tiers=[
                Tier(id="a", name="A", threshold=0),
                Tier(id="a", name="B", threshold="10.5"),
            ],
        )

    assert caught.value.details["problems"] == [
        "tier id 'a' is used twice",
        "tier 'a': a points threshold must be whole, not 10.5",
        "period_months must divide 12 for a calendar model (1, 2, 3, 4, 6 or 12), not 5",
        "rolling_days is only for rolling models, not calendar",
        "downgrade 'after_days' needs downgrade_after_days",
    ]


def test_tier_for_takes_the_highest_threshold_reached() -> None:
    m = model()

    assert [m.tier_for(v).id for v in (0, 99, 100, 299, 300, 10**6)] == [
        "member",
        "member",
        "silver",
        "silver",
        "gold",
        "gold",
    ]
    assert m.tier_for(-5).id == "member"  # refunds can make a period's value negative


def test_upgrades_happen_at_once_and_may_skip_levels() -> None:
    s = run(model(), points((t(2026, 2, 1), 50), (t(2026, 3, 1), 400)), t(2026, 6, 1))

    assert changes(s) == [
        (t(2026, 1, 10), "member", "enrolled"),
        (t(2026, 3, 1), "gold", "upgrade"),
    ]
    assert s.value == Decimal(450)


def test_a_calendar_period_starts_again_on_january_first() -> None:
    # 80 points in December and 80 in January never add up to Silver's 100.
    s = run(model(), points((t(2026, 12, 20), 80), (t(2027, 1, 3), 80)), t(2027, 2, 1))

    assert s.tier == "member"
    assert s.value == Decimal(80)


def test_quarterly_evaluations_judge_the_quarter_that_ended() -> None:
    m = model(period_months=3)
    # Gold in Feb (Q1: 300); Q2 has 120: at Jul 1, Q2's 120 earns Silver: one level down.
    s = run(m, points((t(2026, 2, 1), 300), (t(2026, 5, 1), 120)), t(2026, 7, 2))

    assert changes(s)[-1] == (datetime(2026, 7, 1, tzinfo=TPE), "silver", "downgrade")
    assert s.next_evaluation == datetime(2026, 10, 1, tzinfo=TPE)


def test_anniversary_periods_count_from_the_enrollment_day_clamped_at_month_end() -> None:
    m = model(period="anniversary", period_months=1)
    enrolled = t(2026, 1, 31, 9)
    # Periods: Jan 31 -, Feb 28 -, Mar 31 - (each counted from Jan 31, not from the previous).
    history = points((t(2026, 2, 27), 60), (t(2026, 2, 28, 1), 60), (t(2026, 3, 30), 50))
    s = compute_tier(
        m, history, enrolled_at=enrolled, now=t(2026, 3, 30, 13), time_zone="Asia/Taipei"
    )

    # Feb 27 (period from Jan 31): 60. Feb 28 starts a new period: 60; Mar 30: 60 + 50 = 110.
    assert changes(s)[-1] == (t(2026, 3, 30), "silver", "upgrade")
    assert s.next_evaluation == datetime(2026, 3, 31, tzinfo=TPE)


def test_rolling_windows_review_monthly() -> None:
    m = model(period="rolling", rolling_days=30, period_months=1)
    s = run(m, points((t(2026, 1, 20), 60), (t(2026, 2, 10), 60)), t(2026, 4, 2))

    # Feb 10: the last 30 days hold 120: Silver. Mar 1 review: Jan 30 - Mar 1 holds 60
    # (the Jan 20 points left the window): Member. Apr 1: nothing changes.
    assert changes(s)[1:] == [
        (t(2026, 2, 10), "silver", "upgrade"),
        (datetime(2026, 3, 1, tzinfo=TPE), "member", "downgrade"),
    ]


def test_never_downgrade_keeps_the_tier() -> None:
    s = run(model(downgrade="never"), points((t(2026, 2, 1), 500)), t(2030, 1, 1))

    assert (s.tier, s.next_evaluation) == ("gold", None)


def test_after_days_reviews_n_days_after_the_last_change_then_every_n_days() -> None:
    m = model(downgrade="after_days", downgrade_after_days=90, period="rolling", rolling_days=90)
    s = run(m, points((t(2026, 2, 1), 320), (t(2026, 5, 1), 150)), t(2026, 10, 1))

    # Gold on Feb 1. May 2 (Feb 1 + 90 days) reviews [Feb 1 12:00, May 2 12:00): 320 + 150:
    # Gold stays. Jul 31 (+90) reviews [May 2, Jul 31): nothing: Member earned, one level
    # down to Silver. The next review is 90 days later.
    assert changes(s)[1:] == [
        (t(2026, 2, 1), "gold", "upgrade"),
        (t(2026, 7, 31), "silver", "downgrade"),
    ]
    assert s.next_evaluation == t(2026, 10, 29)


def test_a_grant_holds_the_tier_while_higher_and_until_its_end() -> None:
    grant = TierGrant(
        reference="g_1",
        tier="gold",
        starts_at=t(2026, 2, 1),
        ends_at=t(2026, 4, 1),
        reason="apology for a lost parcel",
    )
    s = run(model(), points((t(2026, 3, 1), 150)), t(2026, 5, 1), grants=[grant])

    # Gold from the grant; the Mar 1 upgrade to Silver is hidden under it; at the end of the
    # grant the member falls back to the computed tier, Silver.
    assert changes(s)[1:] == [
        (t(2026, 2, 1), "gold", "grant"),
        (t(2026, 4, 1), "silver", "grant_ended"),
    ]
    assert (s.tier, s.computed_tier, s.granted_tier) == ("silver", "silver", None)


def test_a_grant_below_the_computed_tier_changes_nothing() -> None:
    grant = TierGrant(reference="g", tier="silver", starts_at=t(2026, 3, 2), reason="courtesy")
    s = run(model(), points((t(2026, 3, 1), 400)), t(2026, 5, 1), grants=[grant])

    assert (s.tier, s.granted_tier) == ("gold", "silver")
    assert [c.reason.value for c in s.history] == ["enrolled", "upgrade"]


def test_spend_and_orders_metrics() -> None:
    by_spend = model(
        metric="spend",
        tiers=[Tier(id="a", name="A", threshold=0), Tier(id="b", name="B", threshold="999.50")],
    )
    by_orders = model(
        metric="orders",
        tiers=[Tier(id="a", name="A", threshold=0), Tier(id="b", name="B", threshold=3)],
    )
    history = [
        QualifyingActivity(at=t(2026, 2, 1), spend="600", orders=1),
        QualifyingActivity(at=t(2026, 2, 2), spend="399.50", orders=1),
        QualifyingActivity(at=t(2026, 2, 3), spend="-100", orders=-1),  # a full refund
    ]

    assert run(by_spend, history, t(2026, 2, 4)).tier == "b"  # 999.50 reached on Feb 2
    assert run(by_orders, history, t(2026, 2, 4)).tier == "a"  # never 3 orders


def test_history_outside_enrollment_and_now_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"outside enrolled_at\.\.now"):
        run(model(), points((t(2026, 1, 1), 5)), t(2026, 2, 1))
    with pytest.raises(ValidationError, match="no tier 'platinum'"):
        run(
            model(),
            [],
            t(2026, 2, 1),
            grants=[
                TierGrant(reference="g", tier="platinum", starts_at=t(2026, 1, 11), reason="x")
            ],
        )


def test_a_grant_must_end_after_it_starts() -> None:
    with pytest.raises(ValidationError, match="must be after starts_at"):
        TierGrant(
            reference="g", tier="gold", starts_at=t(2026, 2, 1), ends_at=t(2026, 2, 1), reason="x"
        )


def test_compute_tier_is_pure() -> None:
    history = points((t(2026, 2, 1), 320), (t(2026, 7, 1), 10))
    first = run(model(), history, t(2028, 1, 2))
    second = run(model(), list(history), t(2028, 1, 2))

    assert first == second
    # Jan 1 2027 judges 2026 (330): Gold stays; Jan 1 2028 judges 2027 (0): one level down.
    assert [c.to_tier for c in first.history] == ["member", "gold", "silver"]
    assert first.changed_at == datetime(2028, 1, 1, tzinfo=TPE)


def test_status_explains_the_next_evaluation_and_value() -> None:
    s = run(model(), points((t(2026, 2, 1), 120)), t(2026, 2, 5) + timedelta(hours=1))

    assert (s.tier, s.value, s.next_evaluation) == (
        "silver",
        Decimal(120),
        datetime(2027, 1, 1, tzinfo=TPE),
    )
