"""Hypothesis strategies for the loyalty context: programs, tier models, orders, memberships.

:mod:`crmkit.testing.strategies` may re-export these. Every strategy builds valid objects
through the classes' own constructors, and a membership is built through its own commands (an
earn, a redemption, a refund, an adjustment, time passing), never by filling in its fields:
what a strategy draws is what a host could have stored. The values lean towards what breaks
loyalty code in practice: amounts just under a rate's step, partial refunds, refunds of
points already spent, pending periods, lots expiring on the same instant, all three shortfall
policies, every tier period and downgrade mode, and time zones with and without daylight
saving.

* :func:`tier_models`, :func:`loyalty_programs`;
* :func:`earn_orders`;
* :func:`memberships` (for a given program) and :func:`loyalty_scenarios` (a consistent
  :class:`LoyaltyScenario`: program, membership and the time it is at).

Example:
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5)
    ... @given(loyalty_scenarios())
    ... def test_the_ledger_balances(s):
    ...     held = sum(lot.remaining for lot in s.membership.lots.values())
    ...     assert sum(e.points for e in s.membership.entries) == held
    >>> test_the_ledger_balances()

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st

from crmkit.errors import RuleViolation
from crmkit.kernel.money import Money, Rounding
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
    PointsPaymentRules,
    Referral,
    ReferralPolicy,
    Reward,
    RewardCatalog,
    RewardKind,
    ShortfallPolicy,
    Tier,
    TierBenefits,
    TierModel,
)

__all__ = [
    "LoyaltyScenario",
    "earn_orders",
    "loyalty_programs",
    "loyalty_scenarios",
    "memberships",
    "referral_policies",
    "referrals",
    "reward_catalogs",
    "tier_models",
]

#: When programs start; campaign windows and enrollments are drawn around it.
START = datetime(2026, 1, 1, 9, 0, tzinfo=ZoneInfo("Asia/Taipei"))
_ZONES = ("Asia/Taipei", "Asia/Shanghai", "America/New_York", "Europe/Berlin", "UTC")
_CATEGORIES = ("tea", "ware", "gift_card")


def tier_models() -> st.SearchStrategy[TierModel]:
    """Tier models of every metric, period and downgrade mode, with 1 to 4 tiers.

    Example:
        >>> from hypothesis import find
        >>> find(tier_models(), lambda m: len(m.tiers) > 2).tiers[0].threshold
        Decimal('0')

    .. versionadded:: 0.1.0
    """
    return _tier_models()


@st.composite
def _tier_models(draw: st.DrawFn) -> TierModel:
    metric = draw(st.sampled_from(["points", "spend", "orders"]))
    period = draw(st.sampled_from(["calendar", "anniversary", "rolling"]))
    steps = draw(st.lists(st.integers(1, 40), min_size=0, max_size=3))
    scale = {"points": 10, "spend": 1000, "orders": 1}[metric]
    thresholds = [0]
    for step in steps:
        thresholds.append(thresholds[-1] + step * scale)
    tiers = [
        Tier(
            id=f"t{i}",
            name=f"Tier {i}",
            threshold=threshold,
            benefits=TierBenefits(
                earn_multiplier=Decimal(1) + Decimal(i) / 2,
                free_shipping=i > 1,
                priority_service=i > 2,
            ),
        )
        for i, threshold in enumerate(thresholds)
    ]
    downgrade = draw(st.sampled_from(["never", "at_evaluation", "after_days"]))
    return TierModel(
        metric=metric,
        period=period,
        tiers=tiers,
        period_months=draw(
            st.sampled_from([1, 3, 6, 12] if period != "anniversary" else [1, 5, 12])
        ),
        rolling_days=draw(st.integers(7, 400)) if period == "rolling" else None,
        downgrade=downgrade,
        downgrade_after_days=draw(st.integers(10, 400)) if downgrade == "after_days" else None,
        max_levels_down=draw(st.sampled_from([1, 2, None])),
    )


def loyalty_programs(currency: str = "TWD") -> st.SearchStrategy[LoyaltyProgram]:
    """Loyalty programs: base rates with every rounding, multipliers, campaigns, caps, tiers.

    Example:
        >>> from hypothesis import find
        >>> find(loyalty_programs("JPY"), lambda p: p.tiers is not None).currency
        'JPY'

    .. versionadded:: 0.1.0
    """
    return _programs(currency)


@st.composite
def _programs(draw: st.DrawFn, currency: str) -> LoyaltyProgram:
    per = Money(draw(st.sampled_from([1, 10, 25, 100, 1000])), currency)
    base = BaseRate(
        points=draw(st.integers(1, 5)),
        per=per,
        rounding=draw(
            st.sampled_from([Rounding.FLOOR, Rounding.FLOOR, Rounding.HALF_UP, Rounding.CEILING])
        ),
    )
    multipliers = []
    if draw(st.booleans()):
        multipliers.append(
            CategoryMultiplier(
                id="tea_bonus",
                categories=["tea"],
                multiplier=draw(st.sampled_from([Decimal("1.5"), Decimal(2), Decimal(3)])),
            )
        )
    campaigns = []
    if draw(st.booleans()):
        start = START + timedelta(days=draw(st.integers(0, 60)))
        multiplier, points = draw(
            st.sampled_from([(Decimal(2), None), (None, 20), (Decimal(2), 20)])
        )
        campaigns.append(
            CampaignBonus(
                id="spring",
                name="Spring",
                starts_at=start,
                ends_at=start + timedelta(days=draw(st.integers(1, 30))),
                multiplier=multiplier,
                points=points,
                categories=draw(st.sampled_from([(), ("tea",)])),
            )
        )
    birthday = draw(
        st.sampled_from(
            [
                None,
                BirthdayBonus(multiplier=2),
                BirthdayBonus(points=100),
                BirthdayBonus(multiplier=2, points=50),
            ]
        )
    )
    caps = EarnCaps(
        per_order=draw(st.sampled_from([None, None, 200, 5000])),
        per_day=draw(st.sampled_from([None, None, 300, 10_000])),
    )
    expiry = draw(
        st.sampled_from(
            [
                ExpiryPolicy(),
                ExpiryPolicy(kind="rolling_months", months=1),
                ExpiryPolicy(kind="rolling_months", months=12),
                ExpiryPolicy(kind="end_of_following_year"),
            ]
        )
    )
    pending = timedelta(days=draw(st.sampled_from([0, 0, 7, 14])))
    return LoyaltyProgram(
        id="prog",
        name="Program",
        currency=currency,
        time_zone=draw(st.sampled_from(_ZONES)),
        point_value=Money(draw(st.sampled_from(["0.01", "0.5", "1"])), currency),
        pending_period=pending,
        expiry=expiry,
        shortfall=draw(st.sampled_from(list(ShortfallPolicy))),
        min_redemption=draw(st.sampled_from([1, 1, 10])),
        earn=EarnRules(
            base=base,
            excluded_categories=draw(st.sampled_from([(), ("gift_card",)])),
            category_multipliers=multipliers,
            campaigns=campaigns,
            first_purchase_points=draw(st.sampled_from([0, 0, 50])),
            birthday=birthday,
            activities=[ActivityReward(kind="review", name="Review", points=20)],
            caps=caps,
        ),
        tiers=draw(st.one_of(st.none(), tier_models())),
    )


def earn_orders(
    currency: str = "TWD", *, ids: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[EarnOrder]:
    """Orders of 1 to 4 lines in ``currency``, in the categories the programs use.

    Amounts lean towards a rate's step (99, 100, 101 of the currency) and zero.

    Example:
        >>> from hypothesis import find
        >>> find(earn_orders("CNY"), lambda o: len(o.lines) == 2).currency
        'CNY'

    .. versionadded:: 0.1.0
    """
    amounts = st.one_of(
        st.sampled_from([0, 99, 100, 101, 999, 1000, 1299]),
        st.integers(0, 200_000),
    ).map(lambda n: Money(n, currency))
    line = st.builds(
        EarnLine,
        amount=amounts,
        category=st.sampled_from([None, *_CATEGORIES]),
    )
    return st.builds(
        EarnOrder,
        id=ids if ids is not None else st.integers(1, 10**9).map(lambda n: f"o_{n}"),
        lines=st.lists(line, min_size=1, max_size=4),
    )


@attrs.frozen
class LoyaltyScenario:
    """A program, a membership of it built through its commands, and the time it is at.

    Example:
        >>> from hypothesis import find
        >>> s = find(loyalty_scenarios(), lambda s: len(s.membership.entries) > 2)
        >>> s.membership.program_id == s.program.id, s.now >= s.membership.enrolled_at
        (True, True)

    .. versionadded:: 0.1.0
    """

    program: LoyaltyProgram
    membership: Membership
    now: datetime


_STEPS = st.lists(
    st.tuples(
        st.sampled_from(["earn", "earn", "redeem", "refund", "adjust", "activity", "wait"]),
        st.integers(0, 100_000),
        st.integers(0, 60 * 24 * 90),
    ),
    max_size=25,
)


def _play(
    program: LoyaltyProgram, steps: list[tuple[str, int, int]], birth: Any
) -> LoyaltyScenario:
    now = START
    membership = Membership.enroll(
        id="mem_1", program=program, customer_id="cus_1", now=now, birthday=birth
    )
    orders: list[tuple[str, Money]] = []
    refunded: dict[str, Decimal] = {}
    for n, (kind, amount, minutes) in enumerate(steps):
        try:
            if kind == "earn":
                order = EarnOrder.of(f"o_{n}", Money(amount, program.currency), category="tea")
                entry = membership.earn(program, order, now=now)
                if entry.amount is not None:
                    orders.append((order.id, entry.amount))
            elif kind == "redeem":
                available = membership.available(now)
                if available >= max(1, program.min_redemption):
                    points = max(program.min_redemption, amount % available + 1)
                    membership.redeem(program, min(points, available), reference=f"r_{n}", now=now)
            elif kind == "refund" and orders:
                order_id, spend = orders[amount % len(orders)]
                left = spend.amount - refunded.get(order_id, Decimal(0))
                if left > 0:
                    part = min(left, Decimal(amount % 5000 + 1))
                    membership.reverse(
                        program,
                        order_id=order_id,
                        refund_id=f"rf_{n}",
                        refunded=Money(part, program.currency),
                        now=now,
                    )
                    refunded[order_id] = refunded.get(order_id, Decimal(0)) + part
            elif kind == "adjust":
                points = amount % 500 - 100 or 1
                if points < 0 and -points > membership.available(now):
                    points = -points
                membership.adjust(
                    program, points, reference=f"a_{n}", reason="strategy", actor="u_1", now=now
                )
            elif kind == "activity" and any(a.kind == "review" for a in program.earn.activities):
                membership.reward_activity(program, "review", reference=f"rev_{n}", now=now)
            else:
                now = now + timedelta(minutes=minutes)
                membership.advance(program, now)
        except RuleViolation:  # pragma: no cover - the steps avoid refusals
            pass
    membership.pull_events()
    return LoyaltyScenario(program=program, membership=membership, now=now)


def memberships(program: LoyaltyProgram) -> st.SearchStrategy[Membership]:
    """Memberships of ``program`` after a random history of up to 25 commands and waits.

    Example:
        >>> from hypothesis import find
        >>> from crmkit.loyalty import BaseRate, EarnRules, LoyaltyProgram
        >>> program = LoyaltyProgram(id="p", name="P", currency="TWD", time_zone="UTC",
        ...     point_value=Money("1", "TWD"),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
        >>> find(memberships(program), lambda m: len(m.entries) > 1).program_id
        'p'

    .. versionadded:: 0.1.0
    """
    return st.builds(_play, st.just(program), _STEPS, _birthdays()).map(lambda s: s.membership)


def _birthdays() -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), st.dates().filter(lambda d: d.year > 1900))


def loyalty_scenarios(currency: str = "TWD") -> st.SearchStrategy[LoyaltyScenario]:
    """A program, a membership of it after a random history, and the time it is at.

    Example:
        >>> from hypothesis import find
        >>> find(loyalty_scenarios("JPY"), lambda s: True).program.currency
        'JPY'

    .. versionadded:: 0.1.0
    """
    return st.builds(_play, loyalty_programs(currency), _STEPS, _birthdays())


# ----- rewards and referrals -----------------------------------------------------------------


@st.composite
def _rewards(draw: st.DrawFn, currency: str, n: int) -> Reward:
    kind = draw(st.sampled_from(RewardKind))
    voucher = kind is RewardKind.VOUCHER
    return Reward(
        id=f"rw_{n}",
        name=draw(st.sampled_from(("NT$100 voucher", "Tea tumbler", "茶葉禮盒", "Free shipping"))),
        kind=kind,
        points=draw(st.integers(1, 100_000)),
        voucher_value=Money(draw(st.integers(1, 5000)), currency) if voucher else None,
        sku=None if voucher else draw(st.none() | st.sampled_from(("TUMBLER", "GIFT-BOX"))),
        active=draw(st.booleans()),
    )


@st.composite
def _reward_catalogs(draw: st.DrawFn, program_id: str, currency: str) -> RewardCatalog:
    count = draw(st.integers(0, 5))
    return RewardCatalog(
        program_id=program_id,
        rewards=[draw(_rewards(currency, n)) for n in range(count)],
        payment=PointsPaymentRules(
            min_points=draw(st.integers(1, 1000)),
            max_share=draw(st.sampled_from(("1", "0.5", "0.3", "0.05"))),
        ),
    )


def reward_catalogs(
    program_id: str = "tea_club", currency: str = "TWD"
) -> st.SearchStrategy[RewardCatalog]:
    """Valid reward catalogs of ``program_id``: vouchers in ``currency`` and product rewards.

    Up to five rewards (some inactive) with unique ids, and the rules for paying with points
    (a minimum, a maximum share of the order).

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(reward_catalogs())
        ... def test_vouchers_have_a_value(catalog):
        ...     for reward in catalog.rewards:
        ...         assert (reward.voucher_value is not None) == (reward.kind.value == "voucher")
        >>> test_vouchers_have_a_value()

    .. versionadded:: 0.1.0
    """
    return _reward_catalogs(program_id, currency)


def referral_policies() -> st.SearchStrategy[ReferralPolicy]:
    """Valid referral policies: points for the referrer and the referee (either may be 0).

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(referral_policies())
        ... def test_points_are_not_negative(policy):
        ...     assert policy.referrer_points >= 0 and policy.referee_points >= 0
        >>> test_points_are_not_negative()

    .. versionadded:: 0.1.0
    """
    return st.builds(
        ReferralPolicy, referrer_points=st.integers(0, 5000), referee_points=st.integers(0, 5000)
    )


@st.composite
def _referrals(draw: st.DrawFn, program: LoyaltyProgram | None) -> Referral:
    program = program or draw(loyalty_programs())
    now = START + timedelta(minutes=draw(st.integers(0, 60 * 24 * 365)))
    referrer, referee = draw(
        st.lists(st.sampled_from(("cus_1", "cus_2", "cus_3")), min_size=2, max_size=2, unique=True)
    )
    referral = Referral.register(
        program_id=program.id,
        code=f"REF-{draw(st.integers(1, 9999))}",
        referrer_id=referrer,
        referee_id=referee,
        now=now,
        referred_by={},
    )
    if draw(st.booleans()):
        ordered = now + timedelta(days=draw(st.integers(0, 30)))
        referral.record_first_order(program, f"o_{draw(st.integers(1, 999))}", ordered_at=ordered)
        if draw(st.booleans()):
            referral.first_order_refunded(referral.order_id or "", now=ordered)
    referral.pull_events()
    return referral


def referrals(program: LoyaltyProgram | None = None) -> st.SearchStrategy[Referral]:
    """Referrals of ``program`` (default: drawn), registered, with a first order, or voided.

    Each is built through :meth:`Referral.register <crmkit.loyalty.Referral.register>` and its
    own methods; the referrer and the referee are different customers.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(referrals())
        ... def test_nobody_refers_themselves(referral):
        ...     assert referral.referrer_id != referral.referee_id
        >>> test_nobody_refers_themselves()

    .. versionadded:: 0.1.0
    """
    return _referrals(program)
