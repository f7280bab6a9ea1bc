"""Loyalty events and rules as data: they round-trip through the converter, JSON included."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given

from crmkit.errors import ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money
from crmkit.loyalty import (
    ActivityReward,
    BaseRate,
    BirthdayBonus,
    CampaignBonus,
    CategoryMultiplier,
    EarnCaps,
    EarnOrder,
    EarnRules,
    ExpiryPolicy,
    LoyaltyProgram,
    Membership,
    ShortfallPolicy,
    Tier,
    TierBenefits,
    TierModel,
)
from crmkit.loyalty.events import PointsRedeemed
from crmkit.serialization import from_json, structure, to_json, unstructure
from crmkit.testing._loyalty_strategies import tier_models

TPE = ZoneInfo("Asia/Taipei")
T0 = datetime(2026, 3, 1, 10, tzinfo=TPE)


def twd(amount: str | int) -> Money:
    return Money(str(amount), "TWD")


def full_program() -> LoyaltyProgram:
    return LoyaltyProgram(
        id="tea_club",
        name="Tea Club 茶會",
        currency="TWD",
        time_zone="Asia/Taipei",
        point_value=twd("0.25"),
        pending_period=timedelta(days=14),
        expiry=ExpiryPolicy(kind="rolling_months", months=12),
        shortfall=ShortfallPolicy.NEGATIVE_BALANCE,
        min_redemption=100,
        earn=EarnRules(
            base=BaseRate(points=1, per=twd(100), rounding="ROUND_FLOOR"),
            excluded_categories=["gift_card"],
            category_multipliers=[
                CategoryMultiplier(id="tea_x2", categories=["tea"], multiplier=2)
            ],
            campaigns=[
                CampaignBonus(
                    id="double_11",
                    name="Double 11",
                    starts_at=datetime(2026, 11, 11, tzinfo=TPE),
                    ends_at=datetime(2026, 11, 12, tzinfo=TPE),
                    multiplier=2,
                    points=11,
                    min_spend=twd(1111),
                )
            ],
            first_purchase_points=50,
            birthday=BirthdayBonus(multiplier=2, points=100),
            activities=[ActivityReward(kind="review", name="Product review", points=20)],
            caps=EarnCaps(per_order=5000, per_day=10000),
        ),
        tiers=TierModel(
            metric="spend",
            period="anniversary",
            downgrade="after_days",
            downgrade_after_days=365,
            tiers=[
                Tier(id="member", name="Member", threshold=0),
                Tier(
                    id="gold",
                    name="Gold",
                    threshold="30000.50",
                    benefits=TierBenefits(
                        earn_multiplier="1.5",
                        free_shipping=True,
                        priority_service=True,
                        exclusive_offers=["gold_tea_tasting"],
                    ),
                ),
            ],
        ),
    )


def test_a_program_round_trips_through_json_with_readable_values() -> None:
    program = full_program()

    data = unstructure(program)

    assert from_json(to_json(program), LoyaltyProgram) == program
    assert data["pending_period"] == "P14D"
    assert data["point_value"] == {"amount": "0.25", "currency": "TWD"}
    assert data["earn"]["base"]["rounding"] == "ROUND_FLOOR"
    assert data["tiers"]["tiers"][1]["threshold"] == "30000.50"


def test_a_bad_program_in_json_lists_its_field_paths() -> None:
    data = unstructure(full_program())
    data["earn"]["base"]["points"] = 0
    data["tiers"]["period"] = "weekly"

    with pytest.raises(ValidationError) as caught:
        structure(data, LoyaltyProgram)

    paths = {e.path for e in caught.value.errors}
    assert {"earn.base.points", "tiers.period"} <= paths


@given(tier_models())
def test_tier_models_round_trip(model: TierModel) -> None:
    assert from_json(to_json(model), TierModel) == model


def test_every_event_a_membership_records_round_trips() -> None:
    program = full_program()
    m = Membership.enroll(id="mem_1", program=program, customer_id="cus_1", now=T0)
    m.earn(program, EarnOrder.of("o_1", twd(40_000), category="tea"), now=T0)
    m.reward_activity(program, "review", reference="rev_1", now=T0)
    m.adjust(program, 500, reference="adj_1", reason="welcome", actor="u_1", now=T0)
    later = T0 + timedelta(days=15)  # o_1's 850 points (400 + 400 tea + 50 first) are available
    m.redeem(program, 1200, reference="rdm_1", now=later, purpose="reward:mug")
    # The refund claws back 850; only 170 are left: a negative balance of 680.
    m.reverse(program, order_id="o_1", refund_id="rf_1", refunded=twd(40_000), now=later)
    m.grant_tier(program, "gold", reference="g_1", reason="VIP", actor="u_1", now=later)
    m.earn(program, EarnOrder.of("o_2", twd(100_000)), now=later)
    m.available(later + timedelta(days=14))  # o_2 matures and repays the 680
    m.available(T0 + timedelta(days=800))  # everything left expires

    events = m.pull_events()

    types = {e.event_type for e in events}
    assert types == {
        "loyalty.MembershipEnrolled",
        "loyalty.PointsEarned",
        "loyalty.PointsAdjusted",
        "loyalty.PointsRedeemed",
        "loyalty.PointsClawedBack",
        "loyalty.TierChanged",
        "loyalty.TierGranted",
        "loyalty.DebtRepaid",
        "loyalty.PointsExpired",
    }
    assert len({e.event_id for e in events}) == len(events)
    back = structure(unstructure(events), list[DomainEvent])
    assert back == events


def test_the_redemption_event_equals_one_built_with_its_validators() -> None:
    program = full_program()
    m = Membership.enroll(id="mem_1", program=program, customer_id="cus_1", now=T0)
    m.adjust(program, 500, reference="adj_1", reason="welcome", actor="u_1", now=T0)
    m.pull_events()

    m.redeem(program, 150, reference="rdm_1", now=T0, purpose="  payment ")

    (event,) = m.pull_events()
    assert isinstance(event, PointsRedeemed)
    rebuilt = PointsRedeemed(
        aggregate_id="mem_1",
        occurred_at=T0,
        aggregate_version=1,
        event_id=event.event_id,
        entry=2,
        reference="rdm_1",
        points=150,
        purpose="payment",
    )
    assert event == rebuilt
    assert m.entries[-1] == structure(unstructure(m.entries[-1]), type(m.entries[-1]))
