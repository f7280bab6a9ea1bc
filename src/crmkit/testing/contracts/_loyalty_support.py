"""Sample loyalty-context records for the contract suites (private).

One of each stored kind, with as many fields set as the aggregates allow: a program with
every kind of earn rule, an expiry policy and tiers; a membership taken through earns in
several tiers, an activity reward, a redemption and its reversal, a manual adjustment, a
partial refund's clawback, a tier grant and expired lots; and a referral whose first order
has been rewarded.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.money import Money
from crmkit.loyalty import (
    ActivityReward,
    BaseRate,
    BirthdayBonus,
    CampaignBonus,
    CategoryMultiplier,
    EarnCaps,
    EarnLine,
    EarnOrder,
    EarnRules,
    ExpiryPolicy,
    LoyaltyProgram,
    Membership,
    Referral,
    ReferralPolicy,
    ShortfallPolicy,
    Tier,
    TierBenefits,
    TierModel,
    referral_code,
)

__all__ = ["LoyaltyRecords", "loyalty_records"]

_TPE = ZoneInfo("Asia/Taipei")
#: Noon in Taipei on the day the member joins.
_JOINED = datetime(2026, 1, 5, 12, tzinfo=_TPE)


def _twd(amount: str | int) -> Money:
    return Money(str(amount), "TWD")


@attrs.frozen
class LoyaltyRecords:
    """The sample records, by kind."""

    program: LoyaltyProgram
    membership: Membership
    referee: Membership
    referral: Referral

    def all(self) -> list[Aggregate]:
        """Every record, in the order to store them."""
        return [self.program, self.membership, self.referee, self.referral]


def sample_program() -> LoyaltyProgram:
    """Tea Club: every kind of earn rule, rolling 12-month expiry, three tiers, debts."""
    return LoyaltyProgram(
        id="tea_club",
        name="Tea Club",
        currency="TWD",
        time_zone="Asia/Taipei",
        point_value=_twd("0.5"),
        pending_period=timedelta(days=14),
        expiry=ExpiryPolicy(kind="rolling_months", months=12),
        shortfall=ShortfallPolicy.DEBT,
        earn=EarnRules(
            base=BaseRate(points=1, per=_twd(100)),
            excluded_categories=["gift_cards"],
            category_multipliers=[
                CategoryMultiplier(id="tea_x2", categories=["tea"], multiplier=2)
            ],
            campaigns=[
                CampaignBonus(
                    id="spring",
                    name="Spring",
                    starts_at=datetime(2026, 3, 1, tzinfo=_TPE),
                    ends_at=datetime(2026, 4, 1, tzinfo=_TPE),
                    multiplier="1.5",
                    categories=["tea"],
                    min_spend=_twd(1000),
                )
            ],
            first_purchase_points=50,
            birthday=BirthdayBonus(multiplier=2, points=10),
            activities=[ActivityReward(kind="review", name="Product review", points=20)],
            caps=EarnCaps(per_order=5000, per_day=8000),
        ),
        tiers=TierModel(
            metric="spend",
            period="calendar",
            tiers=[
                Tier(id="member", name="Member", threshold=0),
                Tier(
                    id="silver",
                    name="Silver",
                    threshold=10_000,
                    benefits=TierBenefits(earn_multiplier="1.5"),
                ),
                Tier(
                    id="gold",
                    name="Gold",
                    threshold=30_000,
                    benefits=TierBenefits(
                        earn_multiplier=2, free_shipping=True, priority_service=True
                    ),
                ),
            ],
        ),
    )


def loyalty_records() -> LoyaltyRecords:
    """A program, a member with a long ledger, the member's referee and the referral."""
    program = sample_program()
    m = Membership.enroll(
        id=Membership.id_for(program.id, "cus_amy"),
        program=program,
        customer_id="cus_amy",
        now=_JOINED,
        birthday=date(1990, 3, 14),
        actor="u_desk",
    )
    m.earn(program, EarnOrder.of("o_0110", _twd(4800)), now=_JOINED + timedelta(days=5))
    tea = EarnOrder(
        id="o_0314",
        lines=[
            EarnLine(amount=_twd(6250), category="tea"),
            EarnLine(amount=_twd(1000), category="cups", sku="cup-12"),
        ],
        placed_at=datetime(2026, 3, 14, 14, tzinfo=_TPE),
    )
    m.earn(program, tea, now=datetime(2026, 3, 14, 15, tzinfo=_TPE))
    m.reward_activity(program, "review", reference="rev_1", now=datetime(2026, 3, 20, tzinfo=_TPE))
    m.earn(program, EarnOrder.of("o_0708", _twd(24000)), now=datetime(2026, 7, 8, tzinfo=_TPE))
    m.redeem(
        program, 100, reference="rdm_1", purpose="tea set", now=datetime(2026, 8, 1, tzinfo=_TPE)
    )
    m.redeem(program, 30, reference="rdm_2", now=datetime(2026, 8, 2, tzinfo=_TPE))
    m.reverse_redemption(program, "rdm_2", now=datetime(2026, 8, 3, tzinfo=_TPE))
    m.adjust(
        program,
        -7,
        reference="adj_1",
        reason="duplicate review",
        actor="u_amy",
        now=datetime(2026, 8, 4, tzinfo=_TPE),
    )
    m.reverse(
        program,
        order_id="o_0708",
        refund_id="rf_1",
        refunded=_twd(4000),
        now=datetime(2026, 8, 5, tzinfo=_TPE),
    )
    m.grant_tier(
        program,
        "gold",
        reference="grant_vip",
        reason="VIP event",
        actor="u_amy",
        now=datetime(2026, 8, 6, tzinfo=_TPE),
        until=datetime(2027, 12, 31, tzinfo=_TPE),
    )
    m.advance(program, datetime(2027, 4, 1, tzinfo=_TPE))  # the March lot expires

    bob = Membership.enroll(
        id=Membership.id_for(program.id, "cus_bob"),
        program=program,
        customer_id="cus_bob",
        now=datetime(2026, 9, 1, tzinfo=_TPE),
    )
    referral = Referral.register(
        program_id=program.id,
        code=referral_code(program.id, "cus_amy"),
        referrer_id="cus_amy",
        referee_id="cus_bob",
        now=datetime(2026, 9, 1, tzinfo=_TPE),
        referred_by={},
    )
    bob.earn(program, EarnOrder.of("o_bob_1", _twd(1500)), now=datetime(2026, 9, 2, tzinfo=_TPE))
    referral.record_first_order(program, "o_bob_1", ordered_at=datetime(2026, 9, 2, tzinfo=_TPE))
    referral.qualify(
        ReferralPolicy(referrer_points=200, referee_points=100),
        now=datetime(2026, 9, 20, tzinfo=_TPE),
    )
    return LoyaltyRecords(program=program, membership=m, referee=bob, referral=referral)
