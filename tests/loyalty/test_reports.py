"""Reports: liability in money, breakage (redemption-rate method), members per tier, expiring."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import ValidationError
from crmkit.kernel.money import Money
from crmkit.loyalty import (
    BaseRate,
    EarnOrder,
    EarnRules,
    ExpiryPolicy,
    LoyaltyProgram,
    Membership,
    Tier,
    TierModel,
    breakage_estimate,
    members_per_tier,
    points_expiring,
    points_liability,
)

TZ = ZoneInfo("Asia/Taipei")
T0 = datetime(2026, 1, 5, 12, tzinfo=TZ)
PROGRAM = LoyaltyProgram(
    id="club",
    name="Club",
    currency="TWD",
    time_zone="Asia/Taipei",
    point_value=Money("0.25", "TWD"),
    pending_period=timedelta(days=7),
    expiry=ExpiryPolicy(kind="rolling_months", months=2),
    earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))),
    tiers=TierModel(
        metric="points",
        period="calendar",
        tiers=[
            Tier(id="member", name="Member", threshold=0),
            Tier(id="gold", name="Gold", threshold=100),
        ],
    ),
)


def enroll(i: int) -> Membership:
    return Membership.enroll(id=f"m{i}", program=PROGRAM, customer_id=f"c{i}", now=T0)


def test_liability_counts_available_and_pending_at_the_point_value() -> None:
    a, b = enroll(1), enroll(2)
    a.adjust(PROGRAM, 101, reference="x", reason="gift", actor="u1", now=T0)
    b.earn(PROGRAM, EarnOrder.of("o1", Money("5000", "TWD")), now=T0)  # 50 pending
    report = points_liability(PROGRAM, [a, b], now=T0)
    assert (report.available, report.pending, report.points) == (101, 50, 151)
    assert report.value == Money("37.75", "TWD")  # 151 x 0.25 = 37.75
    with pytest.raises(ValidationError):
        points_liability(PROGRAM, [a, "b"], now=T0)  # type: ignore[list-item]


def test_members_per_tier_and_expiring_soon() -> None:
    a, b, c = enroll(1), enroll(2), enroll(3)
    a.earn(PROGRAM, EarnOrder.of("o1", Money("20000", "TWD")), now=T0)  # 200 points: gold
    b.adjust(PROGRAM, 30, reference="x", reason="gift", actor="u1", now=T0)
    counts = members_per_tier(PROGRAM, [a, b, c], now=T0)
    assert [(t.tier, t.members) for t in counts] == [("member", 2), ("gold", 1)]
    assert points_expiring([a, b, c], now=T0) == ()
    # the lots expire at the end of 5 March (2 months): within 30 days of 10 February
    feb10 = datetime(2026, 2, 10, tzinfo=TZ)
    rows = points_expiring([a, b, c], now=feb10)
    assert [(r.customer_id, r.points) for r in rows] == [("c1", 200), ("c2", 30)]


def test_breakage_with_no_history_is_zero() -> None:
    a = enroll(1)
    a.adjust(PROGRAM, 100, reference="x", reason="gift", actor="u1", now=T0)
    b = breakage_estimate(PROGRAM, [a], now=T0)
    assert (b.settled, b.rate, b.points, b.outstanding) == (0, Decimal(0), 0, 100)


@settings(max_examples=50)
@given(
    plans=st.lists(
        st.tuples(st.integers(1, 500), st.integers(0, 100), st.booleans()), min_size=1, max_size=6
    )
)
def test_breakage_rate_is_expired_over_settled(plans: list[tuple[int, int, bool]]) -> None:
    """Each member gets a gift, spends a share of it, and maybe lets the rest expire."""
    members = []
    expired = redeemed = outstanding = 0
    later = T0 + timedelta(days=120)
    for i, (gift, percent, lapse) in enumerate(plans):
        m = enroll(i)
        m.adjust(PROGRAM, gift, reference="g", reason="gift", actor="u1", now=T0)
        spend = gift * percent // 100
        if spend:
            m.redeem(PROGRAM, spend, reference="r", now=T0)
        if lapse:
            expired += gift - spend
        else:  # a fresh gift at the report date keeps the member's remainder outstanding
            m.adjust(
                PROGRAM,
                gift - spend or 1,
                reference="g2",
                reason="gift",
                actor="u1",
                now=later - timedelta(days=1),
            )
            expired += gift - spend  # the first gift's remainder still expired
            outstanding += gift - spend or 1
        redeemed += spend
        members.append(m)
    b = breakage_estimate(PROGRAM, members, now=later)
    assert (b.expired, b.redeemed, b.outstanding) == (expired, redeemed, outstanding)
    settled = expired + redeemed
    assert b.rate == (Decimal(expired) / settled if settled else 0)
    assert 0 <= b.points <= b.outstanding
    assert b.points == int(outstanding * b.rate)
