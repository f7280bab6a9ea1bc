"""The loyalty context: programs as data, the points ledger with expiring lots, and tiers.

* :mod:`crmkit.loyalty.program`: :class:`LoyaltyProgram` (earn rules, pending period, expiry,
  shortfall policy, point value, tiers) and :func:`compute_earn`, the pure points breakdown;
* :mod:`crmkit.loyalty.tiers`: :class:`TierModel` and :func:`compute_tier`, the pure tier rules
  (upgrade at once, downgrade on evaluation dates with a soft landing, manual grants);
* :mod:`crmkit.loyalty.ledger`: the append-only :class:`LedgerEntry`, the :class:`Lot` of
  points with its expiry, and how queries avoid scanning history;
* :class:`Membership`: the aggregate that earns, redeems, adjusts, claws back for refunds,
  expires and tracks the tier, idempotently on every outside reference;
* :mod:`crmkit.loyalty.rewards`: the :class:`RewardCatalog`, :func:`redeem_reward` (vouchers
  become single-use coupons through the app layer) and points as partial payment;
* :mod:`crmkit.loyalty.referrals`: referral codes and the :class:`Referral` that rewards both
  sides once the referee's first order is final;
* :mod:`crmkit.loyalty.reports`: liability, breakage, members per tier, points expiring soon;
* :mod:`crmkit.loyalty.events`: the domain events it records;
* :data:`LOYALTY_PROGRAMS`, :data:`MEMBERSHIPS` and :data:`REFERRALS`: how stores keep them.

Example:
    >>> from datetime import datetime, timedelta
    >>> from zoneinfo import ZoneInfo
    >>> from crmkit.kernel.money import Money
    >>> from crmkit.loyalty import (BaseRate, EarnOrder, EarnRules, ExpiryPolicy,
    ...     LoyaltyProgram, Membership, Tier, TierBenefits, TierModel)
    >>> program = LoyaltyProgram(id="tea_club", name="Tea Club", currency="TWD",
    ...     time_zone="Asia/Taipei", point_value=Money("0.5", "TWD"),
    ...     pending_period=timedelta(days=7),
    ...     expiry=ExpiryPolicy(kind="rolling_months", months=12),
    ...     earn=EarnRules(base=BaseRate(points=1, per=Money("100", "TWD"))),
    ...     tiers=TierModel(metric="spend", period="calendar", tiers=[
    ...         Tier(id="member", name="Member", threshold=0),
    ...         Tier(id="gold", name="Gold", threshold=20000,
    ...              benefits=TierBenefits(earn_multiplier=2))]))
    >>> t0 = datetime(2026, 3, 1, 12, tzinfo=ZoneInfo("Asia/Taipei"))
    >>> m = Membership.enroll(id="mem_1", program=program, customer_id="cus_1", now=t0)
    >>> m.earn(program, EarnOrder.of("o_1", Money("25000", "TWD")), now=t0).points
    250
    >>> m.tier
    'gold'
    >>> m.earn(program, EarnOrder.of("o_2", Money("1000", "TWD")), now=t0).points  # 10 + 10
    20
    >>> m.balance(t0 + timedelta(days=7))
    PointsBalance(available=270, pending=0, debt=0, negative=0)

.. versionadded:: 0.1.0
"""

from crmkit.loyalty._records import LOYALTY_PROGRAMS, MEMBERSHIPS, REFERRALS
from crmkit.loyalty.ledger import (
    EntryKind,
    InsufficientPoints,
    LedgerEntry,
    Lot,
    LotDraw,
    PointsBalance,
)
from crmkit.loyalty.membership import Membership
from crmkit.loyalty.program import (
    ActivityReward,
    BaseRate,
    BirthdayBonus,
    CampaignBonus,
    CategoryMultiplier,
    ContributionKind,
    EarnBreakdown,
    EarnCaps,
    EarnContribution,
    EarnLine,
    EarnOrder,
    EarnRules,
    ExpiryKind,
    ExpiryPolicy,
    LoyaltyProgram,
    MemberContext,
    ShortfallPolicy,
    compute_activity,
    compute_earn,
)
from crmkit.loyalty.referrals import (
    Referral,
    ReferralGrant,
    ReferralPolicy,
    ReferralStatus,
    referral_code,
)
from crmkit.loyalty.reports import (
    BreakageEstimate,
    ExpiringPoints,
    PointsLiability,
    TierCount,
    breakage_estimate,
    members_per_tier,
    points_expiring,
    points_liability,
)
from crmkit.loyalty.rewards import (
    PointsPayment,
    PointsPaymentRules,
    Reward,
    RewardCatalog,
    RewardKind,
    RewardRedemption,
    pay_with_points,
    points_for,
    quote_points_payment,
    redeem_reward,
    reverse_reward,
)
from crmkit.loyalty.tiers import (
    DowngradeMode,
    QualifyingActivity,
    QualifyingMetric,
    Tier,
    TierBenefits,
    TierChange,
    TierChangeReason,
    TierGrant,
    TierModel,
    TierPeriod,
    TierStatus,
    compute_tier,
)

__all__ = [
    "ActivityReward",
    "BaseRate",
    "BirthdayBonus",
    "BreakageEstimate",
    "CampaignBonus",
    "CategoryMultiplier",
    "ContributionKind",
    "DowngradeMode",
    "EarnBreakdown",
    "EarnCaps",
    "EarnContribution",
    "EarnLine",
    "EarnOrder",
    "EarnRules",
    "EntryKind",
    "ExpiringPoints",
    "ExpiryKind",
    "ExpiryPolicy",
    "InsufficientPoints",
    "LOYALTY_PROGRAMS",
    "LedgerEntry",
    "Lot",
    "LotDraw",
    "LoyaltyProgram",
    "MEMBERSHIPS",
    "MemberContext",
    "Membership",
    "PointsBalance",
    "PointsLiability",
    "PointsPayment",
    "PointsPaymentRules",
    "QualifyingActivity",
    "QualifyingMetric",
    "REFERRALS",
    "Referral",
    "ReferralGrant",
    "ReferralPolicy",
    "ReferralStatus",
    "Reward",
    "RewardCatalog",
    "RewardKind",
    "RewardRedemption",
    "ShortfallPolicy",
    "Tier",
    "TierBenefits",
    "TierChange",
    "TierChangeReason",
    "TierCount",
    "TierGrant",
    "TierModel",
    "TierPeriod",
    "TierStatus",
    "breakage_estimate",
    "compute_activity",
    "compute_earn",
    "compute_tier",
    "members_per_tier",
    "pay_with_points",
    "points_expiring",
    "points_for",
    "points_liability",
    "quote_points_payment",
    "redeem_reward",
    "referral_code",
    "reverse_reward",
]
