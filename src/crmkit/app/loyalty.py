"""Use cases of the loyalty context: one handler per command in :mod:`crmkit.loyalty.commands`.

Each handler checks the access policy, loads the program and the membership through the unit
of work, calls the pure rules of :mod:`crmkit.loyalty`, stores the result and commits, once. A
failed command stores nothing. The actions and the resource the policy is shown:

| action             | commands                                            | resource          |
|--------------------|-----------------------------------------------------|-------------------|
| `loyalty.manage`   | save the program                                    | the program       |
| `loyalty.enroll`   | enroll a member                                     | the customer      |
| `loyalty.earn`     | earn for an order; record an activity               | the membership    |
| `loyalty.refund`   | claw back for a refund                              | the membership    |
| `loyalty.redeem`   | redeem a reward; pay with points; reverse either    | the membership    |
| `loyalty.adjust`   | adjust points; grant a tier                         | the membership    |
| `loyalty.refer`    | register a referral                                 | the referee's     |
|                    |                                                     | membership        |
| `loyalty.schedule` | qualify referrals; advance memberships              | the program       |
| `loyalty.read`     | show a membership, a balance, the reports           | the membership;   |
|                    |                                                     | the program       |

**Idempotency and races.** Every command that echoes an outside fact carries its reference
(the order id for an earn, the refund id, the redemption, payment, adjustment, activity and
grant references), and the membership answers a repeated reference with the first entry and
changes nothing. Two commands racing on one membership make one save stale; the handler then
rolls back, reads everything again and retries, up to :attr:`LoyaltySettings.attempts` times,
so no points are lost or doubled by a mere race (the retried command sees the other's entry).

**Vouchers.** Redeeming a ``voucher`` reward creates its single-use coupon
(:class:`~crmkit.pricing.Coupon`, code :attr:`~crmkit.loyalty.RewardRedemption.voucher_code`,
derived from the membership and the reference) in the same unit of work as the points; a
repeated redemption returns the same coupon. Reversing it removes the coupon, and is refused
once the coupon has been used.

**Referrals.** A referee's first earn records the referral's first order, a full refund of
that order before the referral is due voids it, and :func:`qualify_referrals` (a scheduler's)
credits both sides as adjustments once the pending period has passed.

**Time.** :func:`advance_memberships` (a scheduler's) brings every membership of the program
to now: pending points mature, lots expire, debts are repaid, tiers are evaluated. Each
membership commits on its own; one changed concurrently is skipped and advanced next run.

**Notifications.** :class:`PointsExpiringTrigger` gives the
:class:`~crmkit.app.dispatch.Dispatcher` a :class:`~crmkit.loyalty.events.PointsExpiringSoon`
for each member's points that expire within :attr:`LoyaltySettings.expiring_within_days`, once
per membership and expiry date; :func:`loyalty_subscriptions` routes it to the built-in
``points_expiring`` template, to the customer's first contact.

:class:`LoyaltySettings` is the configuration the handlers share
(``bootstrap(loyalty=...)``); it is data and round-trips through :mod:`crmkit.serialization`.

Example:
    >>> from crmkit.app.loyalty import _example_crm
    >>> from crmkit.loyalty import EarnOrder
    >>> crm = _example_crm()
    >>> _ = crm.enroll_member("cus_000001")
    >>> crm.earn_for_order("cus_000001", EarnOrder.of("o_1", Money("2500", "TWD"))).points
    25
    >>> crm.earn_for_order("cus_000001", EarnOrder.of("o_1", Money("2500", "TWD"))).points
    25
    >>> crm.points_balance("cus_000001").balance
    PointsBalance(available=0, pending=25, debt=0, negative=0)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from crmkit.app.messagebus import CommandHandler
from crmkit.app.triggers import scan
from crmkit.customers import Contact
from crmkit.errors import ConcurrencyError, NotFoundError, RuleViolation, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money
from crmkit.kernel.query import Op, Page, Query
from crmkit.kernel.time import Clock, ensure_aware
from crmkit.loyalty import (
    BreakageEstimate,
    EntryKind,
    ExpiringPoints,
    LedgerEntry,
    Lot,
    LoyaltyProgram,
    Membership,
    PointsBalance,
    PointsLiability,
    PointsPayment,
    Referral,
    ReferralPolicy,
    ReferralStatus,
    RewardCatalog,
    RewardKind,
    RewardRedemption,
    TierCount,
    TierGrant,
    breakage_estimate,
    members_per_tier,
    pay_with_points,
    points_expiring,
    points_liability,
    redeem_reward,
    reverse_reward,
)
from crmkit.loyalty.commands import (
    AdjustPoints,
    AdvanceMemberships,
    EarnForOrder,
    EnrollMember,
    GrantTier,
    PayWithPoints,
    QualifyReferrals,
    RecordActivity,
    RedeemReward,
    RefundOrder,
    RegisterReferral,
    ReverseRedemption,
    SaveLoyaltyProgram,
    ShowLoyaltyReport,
    ShowMembership,
    ShowPointsBalance,
)
from crmkit.loyalty.events import PointsExpiringSoon
from crmkit.notifications.consent import Purpose
from crmkit.notifications.events import occurrence_id
from crmkit.notifications.subscriptions import Recipient, Subscription, Subscriptions
from crmkit.ports import AccessPolicy, UnitOfWork
from crmkit.pricing import Coupon

if TYPE_CHECKING:
    from crmkit.app._crm import CRM
    from crmkit.app.service import GoodwillPointsRequest

__all__ = [
    "LoyaltyReport",
    "LoyaltySettings",
    "MemberBalance",
    "MembershipRun",
    "PointsExpiringTrigger",
    "ReferralRun",
    "RewardOutcome",
    "adjust_points",
    "advance_memberships",
    "command_handlers",
    "earn_for_order",
    "enroll_member",
    "goodwill_points_hook",
    "grant_tier",
    "loyalty_subscriptions",
    "pay_with_points_for_order",
    "qualify_referrals",
    "record_activity",
    "redeem_reward_for_member",
    "refund_order",
    "register_referral",
    "reverse_redemption",
    "save_loyalty_program",
    "show_loyalty_report",
    "show_membership",
    "show_points_balance",
    "tier_lookup_hook",
]

A = TypeVar("A")
R = TypeVar("R")

#: Page size for loading memberships and referrals.
_PAGE = 500


# ----- settings ------------------------------------------------------------------------------


def _id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_id(value, attribute.name)


def _optional(cls: type, path: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, cls):
            raise ValidationError(
                f"must be a {cls.__name__} or None, not {type(value).__name__}", path=path
            )

    return check


def _optional_positive(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, timedelta) or value <= timedelta(0)):
        raise ValidationError(
            f"must be a positive timedelta or None, got {value!r}", path=attribute.name
        )


def _int_range(low: int, high: int) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValidationError(
                f"must be an int from {low} to {high}, got {value!r}", path=attribute.name
            )

    return check


@attrs.frozen(kw_only=True)
class LoyaltySettings:
    """How the loyalty use cases behave in one CRM; pass it as ``bootstrap(loyalty=...)``.

    The program itself is stored (``crm.save_loyalty_program``) so it can be edited and
    versioned; the settings name it.

    Attributes:
        program_id: the stored :class:`~crmkit.loyalty.LoyaltyProgram` the use cases run.
        catalog: the rewards and the rules for points as payment
            (:attr:`RewardCatalog.payment <crmkit.loyalty.RewardCatalog.payment>`); ``None``:
            an empty catalog with the default payment rules.
        referrals: the points a referral gives each side; ``None``: referrals are refused.
        voucher_valid_for: how long a voucher reward's coupon is valid (90 days; ``None``:
            no end).
        attempts: how many times a command is tried when a concurrent one makes its save
            stale (10); then the ``ConcurrencyError`` reaches the caller.
        expiring_within_days: the horizon of "expiring soon" in balances and reports (30).

    Example:
        >>> from crmkit.loyalty import (PointsPaymentRules, ReferralPolicy, Reward,
        ...     RewardCatalog)
        >>> from crmkit.serialization import structure, unstructure
        >>> settings = LoyaltySettings(program_id="tea_club",
        ...     catalog=RewardCatalog(program_id="tea_club", rewards=[
        ...         Reward(id="v100", name="NT$100 voucher", kind="voucher", points=200,
        ...                voucher_value=Money("100", "TWD"))],
        ...         payment=PointsPaymentRules(min_points=100, max_share="0.5")),
        ...     referrals=ReferralPolicy(referrer_points=200, referee_points=100))
        >>> structure(unstructure(settings), LoyaltySettings) == settings
        True
        >>> LoyaltySettings(program_id="other", catalog=settings.catalog)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: catalog: the catalog belongs to program 'tea_club', not 'other'

    .. versionadded:: 0.1.0
    """  # noqa: E501

    program_id: str = attrs.field(validator=_id)
    catalog: RewardCatalog | None = attrs.field(
        default=None, validator=_optional(RewardCatalog, "catalog")
    )
    referrals: ReferralPolicy | None = attrs.field(
        default=None, validator=_optional(ReferralPolicy, "referrals")
    )
    voucher_valid_for: timedelta | None = attrs.field(
        default=timedelta(days=90), validator=_optional_positive
    )
    attempts: int = attrs.field(default=10, validator=_int_range(1, 100))
    expiring_within_days: int = attrs.field(default=30, validator=_int_range(1, 3660))

    def __attrs_post_init__(self) -> None:
        if self.catalog is not None and self.catalog.program_id != self.program_id:
            raise ValidationError(
                f"the catalog belongs to program {self.catalog.program_id!r}, "
                f"not {self.program_id!r}",
                path="catalog",
            )

    def reward_catalog(self) -> RewardCatalog:
        """The catalog, or an empty one for the program.

        Example:
            >>> LoyaltySettings(program_id="club").reward_catalog().rewards
            ()
        """
        return (
            self.catalog if self.catalog is not None else RewardCatalog(program_id=self.program_id)
        )


# ----- results -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class RewardOutcome:
    """What :func:`redeem_reward_for_member` did: the redemption, its coupon, and whether new.

    ``coupon`` is the voucher's single-use coupon (``None`` for other kinds); ``redeemed`` is
    ``False`` when the reference had been redeemed before (nothing changed).

    Example:
        >>> crm = _example_crm(member_points=500)
        >>> out = crm.redeem_reward("cus_000001", "v100", reference="rr_1")
        >>> out.redemption.points, out.coupon.amount, out.coupon.usage_limit, out.redeemed
        (200, Money('100', 'TWD'), 1, True)
        >>> crm.redeem_reward("cus_000001", "v100", reference="rr_1").redeemed
        False

    .. versionadded:: 0.1.0
    """

    redemption: RewardRedemption
    membership: Membership
    coupon: Coupon | None = None
    redeemed: bool = True


@attrs.frozen(kw_only=True)
class MemberBalance:
    """A member's points at ``at``, explained: the balance, the live lots behind it, the tier.

    ``lots`` are the lots with points left, soonest expiry first (the order redemptions take
    them); ``available`` in ``balance`` is the sum of the lots that are past their pending
    period, less what is owed. ``expiring_soon`` is what expires before ``expiring_before``.

    Example:
        >>> crm = _example_crm(member_points=500)
        >>> b = crm.points_balance("cus_000001")
        >>> b.balance.available, [(lot.source, lot.remaining) for lot in b.lots], b.tier
        (500, [('welcome', 500)], 'member')

    .. versionadded:: 0.1.0
    """

    membership_id: str
    customer_id: str
    at: datetime
    balance: PointsBalance
    tier: str | None
    lots: tuple[Lot, ...]
    expiring_soon: int
    expiring_before: datetime


@attrs.frozen(kw_only=True)
class LoyaltyReport:
    """The program's reports at ``at``: liability, breakage, members per tier, expiring soon.

    Example:
        >>> crm = _example_crm(member_points=500)
        >>> report = crm.loyalty_report()
        >>> report.liability.points, report.liability.value
        (500, Money('250.00', 'TWD'))

    .. versionadded:: 0.1.0
    """

    at: datetime
    liability: PointsLiability
    breakage: BreakageEstimate
    tiers: tuple[TierCount, ...]
    expiring: tuple[ExpiringPoints, ...]


@attrs.frozen(kw_only=True)
class ReferralRun:
    """What :func:`qualify_referrals` did: the referrals rewarded, and the ones skipped.

    A referral is skipped when a member it credits changed while the run was crediting it;
    the next run rewards it if it is still due.

    Example:
        >>> from datetime import datetime, timezone
        >>> ReferralRun(at=datetime(2026, 4, 2, tzinfo=timezone.utc), rewarded=("rfl_1",)
        ...             ).skipped
        ()

    .. versionadded:: 0.1.0
    """

    at: datetime
    rewarded: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class MembershipRun:
    """What :func:`advance_memberships` did: the memberships changed, and the ones skipped.

    Example:
        >>> from datetime import datetime, timezone
        >>> MembershipRun(at=datetime(2026, 4, 2, tzinfo=timezone.utc)).changed
        ()

    .. versionadded:: 0.1.0
    """

    at: datetime
    changed: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


# ----- loading -------------------------------------------------------------------------------


def _all(run: Callable[[Query], Page[A]], query: Query) -> list[A]:
    found: list[A] = []
    while True:
        page = run(query)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        query = query.after(page.next_cursor)


def _program(uow: UnitOfWork, settings: LoyaltySettings) -> LoyaltyProgram:
    try:
        return uow.loyalty_programs.get(settings.program_id)
    except NotFoundError:
        raise NotFoundError(
            f"no loyalty program {settings.program_id!r} is stored; save it first "
            "(crm.save_loyalty_program)",
            details={"kind": "loyalty_programs", "id": settings.program_id},
        ) from None


def _membership(uow: UnitOfWork, program_id: str, customer_id: str) -> Membership:
    try:
        return uow.memberships.get(Membership.id_for(program_id, customer_id))
    except NotFoundError:
        raise NotFoundError(
            f"customer {customer_id!r} is not a member of program {program_id!r}; "
            "enroll them first (crm.enroll_member)",
            details={"kind": "memberships", "customer_id": customer_id},
        ) from None


def _retry(uow: UnitOfWork, attempts: int, once: Callable[[], R]) -> R:
    """Run ``once``; on a stale save roll back and run it again, up to ``attempts`` times."""
    attempt = 1
    while True:
        try:
            return once()
        except ConcurrencyError:
            uow.rollback()
            if attempt >= attempts:
                raise
            attempt += 1


def _save(uow: UnitOfWork, *members: Membership) -> None:
    for member in members:
        if member.pending_events:
            uow.memberships.save(member)


def _change_member(
    command: Any,
    uow: UnitOfWork,
    action: str,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
    change: Callable[[LoyaltyProgram, Membership, datetime], R],
) -> R:
    """Load the program and the member, check ``action``, apply ``change``, save, commit."""

    def once() -> R:
        program = _program(uow, settings)
        member = _membership(uow, program.id, command.customer_id)
        policy.check(command.actor, action, member)
        result = change(program, member, clock.now())
        if member.pending_events:
            uow.memberships.save(member)
            uow.commit()
        return result

    return _retry(uow, settings.attempts, once)


# ----- the program ---------------------------------------------------------------------------


def save_loyalty_program(
    command: SaveLoyaltyProgram, uow: UnitOfWork, *, policy: AccessPolicy
) -> LoyaltyProgram:
    """Add the program, or replace the stored one with the same id; return it as stored.

    Example:
        >>> from crmkit import bootstrap
        >>> from crmkit.app.loyalty import _example_program
        >>> crm = bootstrap()
        >>> crm.save_loyalty_program(_example_program()).version
        1
        >>> crm.save_loyalty_program(_example_program()).version
        2

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "loyalty.manage", command.program)
    stored = attrs.evolve(command.program)
    try:
        current = uow.loyalty_programs.get(stored.id)
    except NotFoundError:
        uow.loyalty_programs.add(stored)
    else:
        if stored.version == 0:
            stored = attrs.evolve(stored, version=current.version)
        uow.loyalty_programs.save(stored)
    uow.commit()
    return stored


# ----- a member ------------------------------------------------------------------------------


def enroll_member(
    command: EnrollMember,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> Membership:
    """Enroll an existing customer; a member already enrolled is returned as they are.

    The membership's id is ``Membership.id_for(program_id, customer_id)``: one card per
    program and customer, even when two enrollments race.

    Example:
        >>> crm = _example_crm()
        >>> m = crm.enroll_member("cus_000001")
        >>> m.id == crm.enroll_member("cus_000001").id, m.tier
        (True, 'member')
        >>> crm.enroll_member("cus_404")
        Traceback (most recent call last):
        ...
        crmkit.errors.NotFoundError: no customers record with id 'cus_404'

    .. versionadded:: 0.1.0
    """

    def once() -> Membership:
        customer = uow.customers.get(command.customer_id)
        policy.check(command.actor, "loyalty.enroll", customer)
        program = _program(uow, settings)
        member_id = Membership.id_for(program.id, command.customer_id)
        try:
            return uow.memberships.get(member_id)
        except NotFoundError:
            pass
        member = Membership.enroll(
            id=member_id,
            program=program,
            customer_id=command.customer_id,
            now=clock.now(),
            birthday=command.birthday,
            actor=command.actor,
        )
        uow.memberships.add(member)
        uow.commit()
        return member

    return _retry(uow, settings.attempts, once)


def _referral_of(uow: UnitOfWork, program_id: str, referee_id: str) -> Referral | None:
    try:
        return uow.referrals.get(Referral.id_for(program_id, referee_id))
    except NotFoundError:
        return None


def earn_for_order(
    command: EarnForOrder,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> LedgerEntry:
    """Credit the points an order earns; the same order id again returns the first entry.

    The entry's ``breakdown``-style facts (the order, its spend, the lot) say where the points
    came from; :func:`crmkit.loyalty.compute_earn` gives the rule-by-rule breakdown. A
    referee's first order also starts their referral's pending period.

    Example:
        >>> from crmkit.loyalty import EarnOrder
        >>> crm = _example_crm(member_points=0)
        >>> entry = crm.earn_for_order("cus_000001", EarnOrder.of("o_7", Money("1999", "TWD")))
        >>> entry.points, entry.order_id, entry.lot   # 1999 / 100 = 19.99, rounded down
        (19, 'o_7', 'lot-1')

    .. versionadded:: 0.1.0
    """

    def once() -> LedgerEntry:
        program = _program(uow, settings)
        member = _membership(uow, program.id, command.customer_id)
        policy.check(command.actor, "loyalty.earn", member)
        now = clock.now()
        entry = member.earn(program, command.order, now=now, actor=command.actor)
        if member.pending_events:
            uow.memberships.save(member)
            referral = _referral_of(uow, program.id, command.customer_id)
            ordered_at = command.order.placed_at or now
            if referral is not None:
                before = (referral.status, referral.order_id)
                referral.record_first_order(program, command.order.id, ordered_at=ordered_at)
                if (referral.status, referral.order_id) != before or referral.pending_events:
                    uow.referrals.save(referral)
            uow.commit()
        return entry

    return _retry(uow, settings.attempts, once)


def _fully_refunded(member: Membership, order_id: str) -> bool:
    earned = member.entry_for(EntryKind.EARN, order_id)
    if earned is None or earned.amount is None:
        return False
    refunds = [
        e.amount
        for e in member.entries
        if e.kind is EntryKind.REVERSE and e.order_id == order_id and e.amount is not None
    ]
    total = Money.sum(refunds, currency=earned.amount.currency)
    return total >= earned.amount


def refund_order(
    command: RefundOrder,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> LedgerEntry:
    """Claw back an order's points for a refund, in proportion; the same refund id is a no-op.

    The clawback takes from the order's own lot first, then like a redemption; what is
    missing becomes a debt or a negative balance as the program says. A full refund of a
    referee's first order before their referral is due voids the referral.

    Example:
        >>> from crmkit.loyalty import EarnOrder
        >>> crm = _example_crm(member_points=0)
        >>> _ = crm.earn_for_order("cus_000001", EarnOrder.of("o_1", Money("1000", "TWD")))
        >>> crm.refund_order("cus_000001", "o_1", refund_id="rf_1",
        ...                  refunded=Money("400", "TWD")).points    # 10 x 400 / 1000
        -4

    .. versionadded:: 0.1.0
    """

    def once() -> LedgerEntry:
        program = _program(uow, settings)
        member = _membership(uow, program.id, command.customer_id)
        policy.check(command.actor, "loyalty.refund", member)
        now = clock.now()
        entry = member.reverse(
            program,
            order_id=command.order_id,
            refund_id=command.refund_id,
            refunded=command.refunded,
            now=now,
            actor=command.actor,
        )
        if member.pending_events:
            uow.memberships.save(member)
            referral = _referral_of(uow, program.id, command.customer_id)
            if (
                referral is not None
                and _fully_refunded(member, command.order_id)
                and referral.first_order_refunded(command.order_id, now=now)
            ):
                uow.referrals.save(referral)
            uow.commit()
        return entry

    return _retry(uow, settings.attempts, once)


def record_activity(
    command: RecordActivity,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> LedgerEntry:
    """Credit the program's points for an activity (a review, a survey), once per reference.

    Example:
        >>> crm = _example_crm(member_points=0)
        >>> crm.record_activity("cus_000001", "review", reference="rev_1").points
        20

    .. versionadded:: 0.1.0
    """
    return _change_member(
        command,
        uow,
        "loyalty.earn",
        clock,
        policy,
        settings,
        lambda program, member, now: member.reward_activity(
            program, command.kind, reference=command.reference, now=now, actor=command.actor
        ),
    )


def _voucher_coupon(
    uow: UnitOfWork, redemption: RewardRedemption, now: datetime, settings: LoyaltySettings
) -> Coupon | None:
    code = redemption.voucher_code
    value = redemption.voucher_value
    if code is None or value is None:
        return None
    try:
        return uow.coupons.get(Coupon.id_for(code))
    except NotFoundError:
        pass
    until = None if settings.voucher_valid_for is None else now + settings.voucher_valid_for
    coupon = Coupon(
        code=code,
        name=f"Reward: {redemption.reward.name}"[:200],
        amount=value,
        created_at=now,
        valid_until=until,
        usage_limit=1,
        per_customer_limit=1,
    )
    uow.coupons.add(coupon)
    return coupon


def redeem_reward_for_member(
    command: RedeemReward,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> RewardOutcome:
    """Spend points on a reward; a voucher's single-use coupon is created in the same commit.

    Idempotent on the reference: again, it returns the same redemption and coupon and
    spends nothing. Too few points (:class:`~crmkit.loyalty.InsufficientPoints`), an inactive
    reward or one below the minimum redemption store nothing, coupon included.

    Example:
        >>> crm = _example_crm(member_points=150)
        >>> crm.redeem_reward("cus_000001", "v100", reference="rr_1")
        Traceback (most recent call last):
        ...
        crmkit.loyalty.ledger.InsufficientPoints: ...
        >>> len(crm.get_membership("cus_000001").entries)      # only the welcome points
        1

    .. versionadded:: 0.1.0
    """

    def once() -> RewardOutcome:
        program = _program(uow, settings)
        member = _membership(uow, program.id, command.customer_id)
        policy.check(command.actor, "loyalty.redeem", member)
        now = clock.now()
        redemption = redeem_reward(
            member,
            program,
            settings.reward_catalog(),
            command.reward_id,
            reference=command.reference,
            now=now,
            actor=command.actor,
        )
        new = bool(member.pending_events)
        coupon = _voucher_coupon(uow, redemption, now, settings) if new else None
        if not new and redemption.voucher_code is not None:
            try:
                coupon = uow.coupons.get(Coupon.id_for(redemption.voucher_code))
            except NotFoundError:
                coupon = None  # reversed, or removed by the host: never made again
        if new:
            uow.memberships.save(member)
            uow.commit()
        return RewardOutcome(redemption=redemption, membership=member, coupon=coupon, redeemed=new)

    return _retry(uow, settings.attempts, once)


def pay_with_points_for_order(
    command: PayWithPoints,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> PointsPayment:
    """Spend points as partial payment at the program's point value, once per reference.

    Example:
        >>> crm = _example_crm(member_points=500)
        >>> pay = crm.pay_with_points("cus_000001", 300, order_total=Money("1000", "TWD"),
        ...                           reference="pay_1")
        >>> pay.value, pay.to_pay      # 300 x NT$0.5
        (Money('150.00', 'TWD'), Money('850.00', 'TWD'))

    .. versionadded:: 0.1.0
    """
    return _change_member(
        command,
        uow,
        "loyalty.redeem",
        clock,
        policy,
        settings,
        lambda program, member, now: pay_with_points(
            member,
            program,
            settings.reward_catalog(),
            command.points,
            order_total=command.order_total,
            reference=command.reference,
            now=now,
            actor=command.actor,
        ),
    )


def reverse_redemption(
    command: ReverseRedemption,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> LedgerEntry:
    """Give back the points of a reward redemption or a points payment; again is a no-op.

    A voucher's coupon is removed in the same commit; once the coupon has been used the
    reversal is refused (:class:`~crmkit.errors.RuleViolation`).

    Example:
        >>> crm = _example_crm(member_points=500)
        >>> coupon = crm.redeem_reward("cus_000001", "v100", reference="rr_1").coupon
        >>> crm.reverse_redemption("cus_000001", "rr_1").points
        200
        >>> crm.get_coupon(coupon.code)
        Traceback (most recent call last):
        ...
        crmkit.errors.NotFoundError: ...

    .. versionadded:: 0.1.0
    """

    def once() -> LedgerEntry:
        program = _program(uow, settings)
        member = _membership(uow, program.id, command.customer_id)
        policy.check(command.actor, "loyalty.redeem", member)
        coupon: Coupon | None = None
        code = RewardRedemption.voucher_code_for(member.id, command.reference)
        redeemed = member.entry_for(EntryKind.REDEEM, command.reference)
        is_voucher = (
            redeemed is not None
            and redeemed.purpose is not None
            and redeemed.purpose.startswith("reward:")
            and _is_voucher(settings, redeemed.purpose.removeprefix("reward:"))
        )
        entry = reverse_reward(
            member, program, command.reference, now=clock.now(), actor=command.actor
        )
        if member.pending_events and is_voucher:
            try:
                coupon = uow.coupons.get(Coupon.id_for(code))
            except NotFoundError:
                coupon = None
            if coupon is not None:
                if coupon.times_used:
                    raise RuleViolation(
                        f"redemption {command.reference!r} became coupon {code}, which has "
                        "been used; it cannot be reversed",
                        details={"reference": command.reference, "code": code},
                    )
                uow.coupons.remove(coupon)
        if member.pending_events:
            uow.memberships.save(member)
            uow.commit()
        return entry

    return _retry(uow, settings.attempts, once)


def _is_voucher(settings: LoyaltySettings, reward_id: str) -> bool:
    try:
        return settings.reward_catalog().reward(reward_id).kind is RewardKind.VOUCHER
    except NotFoundError:
        return True  # a reward since dropped from the catalog: look for its coupon anyway


def adjust_points(
    command: AdjustPoints,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> LedgerEntry:
    """Add or take points by hand, with the actor and the reason on the entry.

    Example:
        >>> crm = _example_crm(member_points=500)
        >>> entry = crm.adjust_points("cus_000001", -50, reference="adj_2",
        ...                           reason="duplicate review", actor="u_amy")
        >>> entry.points, entry.actor, entry.reason
        (-50, 'u_amy', 'duplicate review')

    .. versionadded:: 0.1.0
    """
    actor = command.actor or ""
    return _change_member(
        command,
        uow,
        "loyalty.adjust",
        clock,
        policy,
        settings,
        lambda program, member, now: member.adjust(
            program,
            command.points,
            reference=command.reference,
            reason=command.reason,
            actor=actor,
            now=now,
        ),
    )


def grant_tier(
    command: GrantTier,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> TierGrant:
    """Hold a member at a tier until a date (kept while higher than the computed tier).

    Example:
        >>> crm = _example_crm()
        >>> _ = crm.enroll_member("cus_000001")
        >>> _ = crm.grant_tier("cus_000001", "gold", reference="g_1", reason="VIP",
        ...                    actor="u_amy")
        >>> crm.get_membership("cus_000001").tier
        'gold'

    .. versionadded:: 0.1.0
    """
    actor = command.actor or ""
    return _change_member(
        command,
        uow,
        "loyalty.adjust",
        clock,
        policy,
        settings,
        lambda program, member, now: member.grant_tier(
            program,
            command.tier,
            reference=command.reference,
            reason=command.reason,
            actor=actor,
            now=now,
            until=command.until,
        ),
    )


# ----- referrals -----------------------------------------------------------------------------


def _referral_policy(settings: LoyaltySettings) -> ReferralPolicy:
    if settings.referrals is None:
        raise RuleViolation(
            "referrals are not configured; pass LoyaltySettings(referrals=ReferralPolicy(...))",
            details={"program_id": settings.program_id},
        )
    return settings.referrals


def register_referral(
    command: RegisterReferral,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> Referral:
    """Record that a member joined with another member's referral code.

    The code names the referrer (:func:`~crmkit.loyalty.referral_code`); self-referral, a
    member referred twice and loops are refused.

    Example:
        >>> from crmkit.loyalty import referral_code
        >>> crm = _example_crm(member_points=0, referee=True)
        >>> code = referral_code("tea_club", "cus_000001")
        >>> crm.register_referral("cus_000002", code).referrer_id
        'cus_000001'
        >>> crm.register_referral("cus_000001", referral_code("tea_club", "cus_000002"))
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: ...

    .. versionadded:: 0.1.0
    """
    _referral_policy(settings)

    def once() -> Referral:
        program = _program(uow, settings)
        referee = _membership(uow, program.id, command.referee_id)
        policy.check(command.actor, "loyalty.refer", referee)
        referrers = uow.memberships.query(
            Query.where(program_id=program.id, referral_code=command.code).take(2)
        ).items
        if not referrers:
            raise NotFoundError(
                f"no member of program {program.id!r} has referral code {command.code!r}",
                details={"kind": "memberships", "referral_code": command.code},
            )
        referred = _all(uow.referrals.query, Query.where(program_id=program.id).take(_PAGE))
        referral = Referral.register(
            program_id=program.id,
            code=command.code,
            referrer_id=referrers[0].customer_id,
            referee_id=command.referee_id,
            now=clock.now(),
            referred_by={r.referee_id: r.referrer_id for r in referred},
            actor=command.actor,
        )
        uow.referrals.add(referral)
        uow.commit()
        return referral

    return _retry(uow, settings.attempts, once)


def _credit_referral(
    uow: UnitOfWork,
    settings: LoyaltySettings,
    referral_id: str,
    actor: str,
    clock: Clock,
) -> bool:
    program = _program(uow, settings)
    referral = uow.referrals.get(referral_id)
    grants = referral.qualify(_referral_policy(settings), now=clock.now())
    if not grants:
        return False
    for grant in grants:
        member = _membership(uow, program.id, grant.customer_id)
        member.adjust(
            program,
            grant.points,
            reference=grant.reference,
            reason=f"referral {referral.id} ({grant.role})",
            actor=actor,
            now=clock.now(),
        )
        _save(uow, member)
    uow.referrals.save(referral)
    uow.commit()
    return True


def qualify_referrals(
    command: QualifyReferrals,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> ReferralRun:
    """Reward every referral whose first order has passed its pending period (a scheduler's).

    Each referral commits on its own with both members' points; one whose members changed
    concurrently is retried, then skipped (and rewarded by the next run).

    Example:
        >>> from datetime import timedelta
        >>> from crmkit.loyalty import EarnOrder, referral_code
        >>> crm = _example_crm(member_points=0, referee=True)
        >>> _ = crm.register_referral("cus_000002", referral_code("tea_club", "cus_000001"))
        >>> _ = crm.earn_for_order("cus_000002", EarnOrder.of("o_1", Money("800", "TWD")))
        >>> crm.qualify_referrals().rewarded
        ()
        >>> _ = crm.clock.advance(timedelta(days=15))
        >>> crm.qualify_referrals().rewarded, crm.points_balance("cus_000001").balance.available
        (('rfl_...',), 200)

    .. versionadded:: 0.1.0
    """
    program = _program(uow, settings)
    policy.check(command.actor, "loyalty.schedule", program)
    _referral_policy(settings)
    now = clock.now()
    due = _all(
        uow.referrals.query,
        Query.where(program_id=program.id, status=ReferralStatus.QUALIFYING.value)
        .filter("qualifies_at", Op.LE, now)
        .order("qualifies_at", "id")
        .take(_PAGE),
    )
    uow.rollback()
    actor = command.actor or "loyalty.referrals"
    rewarded: list[str] = []
    skipped: list[str] = []
    for referral in due:
        try:
            if _retry(
                uow,
                settings.attempts,
                functools.partial(_credit_referral, uow, settings, referral.id, actor, clock),
            ):
                rewarded.append(referral.id)
        except ConcurrencyError:
            skipped.append(referral.id)
    return ReferralRun(at=now, rewarded=tuple(rewarded), skipped=tuple(skipped))


# ----- time ----------------------------------------------------------------------------------


def advance_memberships(
    command: AdvanceMemberships,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> MembershipRun:
    """Bring every membership of the program to now (a scheduler's): expiry, maturing, tiers.

    Each membership commits on its own; one changed concurrently is skipped (and advanced by
    the next run). Memberships with nothing to record are not written.

    Example:
        >>> from datetime import timedelta
        >>> crm = _example_crm(member_points=500)
        >>> _ = crm.clock.advance(timedelta(days=400))     # the welcome lot lives 12 months
        >>> crm.advance_memberships().changed
        ('mem_tea_club_cus_000001',)
        >>> crm.points_balance("cus_000001").balance.available
        0

    .. versionadded:: 0.1.0
    """
    program = _program(uow, settings)
    policy.check(command.actor, "loyalty.schedule", program)
    now = clock.now()
    query = Query.where(program_id=program.id).order("id").take(_PAGE)
    changed: list[str] = []
    skipped: list[str] = []
    while True:
        page = uow.memberships.query(query)
        for member in page.items:
            member.advance(program, now)
            if not member.pending_events:
                continue
            try:
                uow.memberships.save(member)
                uow.commit()
            except ConcurrencyError:
                uow.rollback()
                skipped.append(member.id)
            else:
                changed.append(member.id)
        if page.next_cursor is None:
            break
        query = query.after(page.next_cursor)
    return MembershipRun(at=now, changed=tuple(changed), skipped=tuple(skipped))


# ----- reads ---------------------------------------------------------------------------------


def show_membership(
    command: ShowMembership, uow: UnitOfWork, *, policy: AccessPolicy, settings: LoyaltySettings
) -> Membership:
    """Read a customer's membership (its ledger, lots, tier and tier history).

    Example:
        >>> crm = _example_crm(member_points=500)
        >>> [e.kind.value for e in crm.get_membership("cus_000001").entries]
        ['adjust']

    .. versionadded:: 0.1.0
    """
    member = _membership(uow, settings.program_id, command.customer_id)
    policy.check(command.actor, "loyalty.read", member)
    return member


def show_points_balance(
    command: ShowPointsBalance,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> MemberBalance:
    """Read a customer's balance now, with the live lots behind it and what expires soon.

    Example:
        >>> crm = _example_crm(member_points=500)
        >>> crm.points_balance("cus_000001").expiring_soon
        0

    .. versionadded:: 0.1.0
    """
    member = _membership(uow, settings.program_id, command.customer_id)
    policy.check(command.actor, "loyalty.read", member)
    now = clock.now()
    horizon = now + timedelta(days=settings.expiring_within_days)
    far = datetime.max.replace(tzinfo=now.tzinfo)
    lots = sorted(
        (lot for lot in member.lots.values() if lot.remaining > 0),
        key=lambda lot: (lot.expires_at or far, lot.entry),
    )
    return MemberBalance(
        membership_id=member.id,
        customer_id=member.customer_id,
        at=now,
        balance=member.balance(now),
        tier=member.tier,
        lots=tuple(lots),
        expiring_soon=member.expiring_before(horizon, now),
        expiring_before=horizon,
    )


def show_loyalty_report(
    command: ShowLoyaltyReport,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings,
) -> LoyaltyReport:
    """Read the program's reports now over every membership (liability, breakage, tiers).

    Example:
        >>> crm = _example_crm(member_points=500)
        >>> [(t.tier, t.members) for t in crm.loyalty_report().tiers]
        [('member', 1), ('silver', 0), ('gold', 0)]

    .. versionadded:: 0.1.0
    """
    program = _program(uow, settings)
    policy.check(command.actor, "loyalty.read", program)
    now = clock.now()
    members = _all(
        uow.memberships.query, Query.where(program_id=program.id).order("id").take(_PAGE)
    )
    return LoyaltyReport(
        at=now,
        liability=points_liability(program, members, now=now),
        breakage=breakage_estimate(program, members, now=now),
        tiers=members_per_tier(program, members, now=now),
        expiring=points_expiring(members, now=now, days=settings.expiring_within_days),
    )


# ----- hooks for the service context ---------------------------------------------------------


def tier_lookup_hook(settings: LoyaltySettings) -> Callable[[UnitOfWork, str], str | None]:
    """The service context's ``tier_lookup``: a customer's membership tier, else ``None``.

    Example:
        >>> crm = _example_crm(member_points=0)
        >>> lookup = tier_lookup_hook(LoyaltySettings(program_id="tea_club"))
        >>> with crm.store.unit_of_work() as uow:
        ...     lookup(uow, "cus_000001"), lookup(uow, "cus_404")
        ('member', None)

    .. versionadded:: 0.1.0
    """

    def lookup(uow: UnitOfWork, customer_id: str) -> str | None:
        try:
            member = uow.memberships.get(Membership.id_for(settings.program_id, customer_id))
        except NotFoundError:
            return None
        return member.tier

    return lookup


def goodwill_points_hook(
    settings: LoyaltySettings,
) -> Callable[[UnitOfWork, GoodwillPointsRequest], LedgerEntry]:
    """The service context's ``goodwill_points``: a manual adjustment on the member's ledger.

    Idempotent on the compensation's reference; the approver is the entry's actor and the
    case's reference is in its reason. It stages the membership in the case's unit of work,
    so the points commit with the compensation or not at all.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.app.service import GoodwillPointsRequest
        >>> crm = _example_crm(member_points=0)
        >>> credit = goodwill_points_hook(LoyaltySettings(program_id="tea_club"))
        >>> request = GoodwillPointsRequest(case_id="case_1", case_reference="CS-1001",
        ...     customer_id="cus_000001", reference="gp-1", points=300, approved_by="u_lead",
        ...     at=crm.clock.now())
        >>> with crm.store.unit_of_work() as uow:
        ...     entry = credit(uow, request)
        ...     _ = uow.commit()
        >>> entry.points, entry.reason
        (300, 'goodwill for case CS-1001')

    .. versionadded:: 0.1.0
    """

    def credit(uow: UnitOfWork, request: GoodwillPointsRequest) -> LedgerEntry:
        program = _program(uow, settings)
        member = _membership(uow, program.id, request.customer_id)
        entry = member.adjust(
            program,
            request.points,
            reference=request.reference,
            reason=f"goodwill for case {request.case_reference}",
            actor=request.approved_by,
            now=request.at,
        )
        _save(uow, member)
        return entry

    return credit


# ----- notifications -------------------------------------------------------------------------


def _settings(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, LoyaltySettings):
        raise ValidationError(
            f"must be LoyaltySettings, not {type(value).__name__}", path="settings"
        )


def _last_day(expires_at: datetime, program: LoyaltyProgram) -> date:
    """The last day (in the program's zone) points expiring at ``expires_at`` can be spent."""
    return (expires_at.astimezone(program.zone) - timedelta(microseconds=1)).date()


class _Recipients:
    """Looks up, once per customer, the first contact (else the customer's name) to greet."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._found: dict[str, tuple[str | None, str]] = {}

    def of(self, customer_id: str) -> tuple[str | None, str]:
        if customer_id not in self._found:
            contacts: list[Contact] = list(
                self._uow.contacts.query(Query.where(customer_id=customer_id).take(1)).items
            )
            if contacts:
                self._found[customer_id] = (contacts[0].id, contacts[0].name)
            else:
                try:
                    name = str(self._uow.customers.get(customer_id).name)
                except NotFoundError:
                    name = customer_id
                self._found[customer_id] = (None, name)
        return self._found[customer_id]


@attrs.frozen
class PointsExpiringTrigger:
    """Emits a :class:`~crmkit.loyalty.events.PointsExpiringSoon` per member and expiry date.

    Reads the program's memberships a page at a time and, for each, the live lots (available
    or pending at ``now``) that expire after ``now`` and at most ``notice`` later (default
    :attr:`LoyaltySettings.expiring_within_days`, as in :func:`~crmkit.loyalty.points_expiring`,
    whose totals the events of a member add up to). Lots expiring at the same date make one
    event; the id derives from the membership and that date, so each reminder fires once
    however often the dispatcher runs, and points expiring on a later date get their own
    reminder when that date comes within the notice.

    One event per expiry date, rather than one per member with the earliest date: each message
    then says exactly how many points go on which day, never summing points that expire on
    different days under one date, and a lot that enters the window later is announced instead
    of being folded into a reminder already sent.

    The recipient is the customer's first contact (the customer's name, and no contact, when
    there is none). Without a stored program there are no members: nothing fires.

    Example:
        >>> from datetime import datetime
        >>> from zoneinfo import ZoneInfo
        >>> crm = _example_crm(member_points=500)   # lot earned 2026-03-02, lives 12 months
        >>> trigger = PointsExpiringTrigger(_example_settings())
        >>> now = datetime(2027, 2, 10, tzinfo=ZoneInfo("Asia/Taipei"))
        >>> with crm.store.unit_of_work() as uow:
        ...     [(e.points, e.value, e.due_at.isoformat(), e.name) for e in trigger.fire(uow, now)]
        [(500, Money('250.00', 'TWD'), '2027-03-02', 'Lin Mei-ling')]

    .. versionadded:: 0.1.0
    """

    settings: LoyaltySettings = attrs.field(validator=_settings)
    notice: timedelta | None = attrs.field(default=None, validator=_optional_positive)
    name: str = "points_expiring"

    @property
    def window(self) -> timedelta:
        """The notice in force: ``notice``, else the settings' ``expiring_within_days``.

        Example:
            >>> PointsExpiringTrigger(LoyaltySettings(program_id="club")).window.days
            30
        """
        if self.notice is not None:
            return self.notice
        return timedelta(days=self.settings.expiring_within_days)

    def fire(self, uow: UnitOfWork, now: datetime) -> list[DomainEvent]:
        """Return a reminder for each member's points expiring within the notice, per date."""
        now = ensure_aware(now, "now")
        try:
            program = uow.loyalty_programs.get(self.settings.program_id)
        except NotFoundError:
            return []
        horizon = now + self.window
        recipients = _Recipients(uow)
        events: list[DomainEvent] = []
        member: Membership
        for member in scan(uow.memberships, Query.where(program_id=program.id).order("id")):
            # A command may have saved the member a moment after this pass read the clock:
            # read it at its own time then, rather than refuse to go back.
            read_at = max(now, member.as_of)
            if member.expiring_before(horizon, read_at) <= 0:  # O(b): most members stop here
                continue
            by_day: dict[date, tuple[int, datetime]] = {}
            for lot in member.lots.values():
                at = lot.expires_at
                if not lot.remaining or at is None or not read_at < at <= horizon:
                    continue
                day = _last_day(at, program)
                points, first = by_day.get(day, (0, at))
                by_day[day] = (points + lot.remaining, min(first, at))
            contact_id, name = recipients.of(member.customer_id)
            for day in sorted(by_day):
                points, expires_at = by_day[day]
                events.append(
                    PointsExpiringSoon(
                        aggregate_id=member.id,
                        occurred_at=now,
                        event_id=occurrence_id(self.name, member.id, day.isoformat()),
                        program_id=program.id,
                        program=program.name,
                        customer_id=member.customer_id,
                        contact_id=contact_id,
                        name=name,
                        points=points,
                        value=program.value_of(points),
                        due_at=day,
                        expires_at=expires_at,
                    )
                )
        return events


def loyalty_subscriptions(*, channel: str = "email") -> Subscriptions:
    """Subscriptions that route the loyalty triggers' events to the built-in templates.

    ``points-expiring`` sends ``points_expiring`` to the customer's first contact
    (``Recipient.contact("contact_id")``). It is *transactional*, not marketing: how many of
    the member's own points lapse, and when, is information about their account, like a
    statement, so it goes to a contact who has not opted in to offers (and is logged as
    such); it carries no offer. A host that words it as a promotion should switch it to
    ``purpose="marketing"``. Switch it off with ``.switch("points-expiring", enabled=False)``.

    Example:
        >>> [(s.name, s.template, s.purpose.value) for s in loyalty_subscriptions()]
        [('points-expiring', 'points_expiring', 'transactional')]

    .. versionadded:: 0.1.0
    """
    return Subscriptions.of(
        Subscription(
            name="points-expiring",
            event_type=PointsExpiringSoon.event_type,
            template="points_expiring",
            to=Recipient.contact("contact_id"),
            channel=channel,
            purpose=Purpose.TRANSACTIONAL,
        ),
    )


# ----- wiring --------------------------------------------------------------------------------


def command_handlers(
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LoyaltySettings | None = None,
) -> Mapping[type, CommandHandler]:
    """Return this context's command handlers bound to their collaborators, by command class.

    Without ``settings`` there is no program to run: no handlers.

    Example:
        >>> from crmkit.access import AllowAll
        >>> from crmkit.kernel import ManualClock
        >>> handlers = command_handlers(clock=ManualClock(), policy=AllowAll(),
        ...                             settings=LoyaltySettings(program_id="club"))
        >>> len(handlers), len(command_handlers(clock=ManualClock(), policy=AllowAll()))
        (16, 1)

    .. versionadded:: 0.1.0
    """
    p = policy
    partial = functools.partial
    if settings is None:
        return {SaveLoyaltyProgram: partial(save_loyalty_program, policy=p)}
    if not isinstance(settings, LoyaltySettings):
        raise ValidationError(
            f"must be LoyaltySettings, not {type(settings).__name__}", path="settings"
        )
    kw: dict[str, Any] = {"clock": clock, "policy": p, "settings": settings}
    return {
        SaveLoyaltyProgram: partial(save_loyalty_program, policy=p),
        EnrollMember: partial(enroll_member, **kw),
        EarnForOrder: partial(earn_for_order, **kw),
        RefundOrder: partial(refund_order, **kw),
        RecordActivity: partial(record_activity, **kw),
        RedeemReward: partial(redeem_reward_for_member, **kw),
        PayWithPoints: partial(pay_with_points_for_order, **kw),
        ReverseRedemption: partial(reverse_redemption, **kw),
        AdjustPoints: partial(adjust_points, **kw),
        GrantTier: partial(grant_tier, **kw),
        RegisterReferral: partial(register_referral, **kw),
        QualifyReferrals: partial(qualify_referrals, **kw),
        AdvanceMemberships: partial(advance_memberships, **kw),
        ShowMembership: partial(show_membership, policy=p, settings=settings),
        ShowPointsBalance: partial(show_points_balance, **kw),
        ShowLoyaltyReport: partial(show_loyalty_report, **kw),
    }


# ----- docstring fixture ---------------------------------------------------------------------


def _example_program() -> LoyaltyProgram:
    """Tea Club: 1 point per NT$100, 14 pending days, lots live 12 months, three tiers."""
    from crmkit.loyalty import (
        ActivityReward,
        BaseRate,
        EarnRules,
        ExpiryPolicy,
        Tier,
        TierBenefits,
        TierModel,
    )

    return LoyaltyProgram(
        id="tea_club",
        name="Tea Club",
        currency="TWD",
        time_zone="Asia/Taipei",
        point_value=Money("0.5", "TWD"),
        pending_period=timedelta(days=14),
        expiry=ExpiryPolicy(kind="rolling_months", months=12),
        earn=EarnRules(
            base=BaseRate(points=1, per=Money("100", "TWD")),
            activities=[ActivityReward(kind="review", name="Product review", points=20)],
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
                    benefits=TierBenefits(earn_multiplier=2, priority_service=True),
                ),
            ],
        ),
    )


def _example_settings() -> LoyaltySettings:
    """Settings for the docstrings: a NT$100 voucher for 200 points, referrals 200 + 100."""
    from crmkit.loyalty import PointsPaymentRules, Reward

    return LoyaltySettings(
        program_id="tea_club",
        catalog=RewardCatalog(
            program_id="tea_club",
            rewards=[
                Reward(
                    id="v100",
                    name="NT$100 voucher",
                    kind="voucher",
                    points=200,
                    voucher_value=Money("100", "TWD"),
                ),
                Reward(id="tour", name="Tea farm tour", kind="experience", points=1000),
            ],
            payment=PointsPaymentRules(min_points=100, max_share="0.5"),
        ),
        referrals=ReferralPolicy(referrer_points=200, referee_points=100),
    )


def _example_crm(*, member_points: int | None = None, referee: bool = False) -> CRM:
    """A CRM for the docstrings running Tea Club, with customer ``cus_000001``.

    With ``member_points`` the customer is enrolled (and given that many points, available
    at once, as a ``welcome`` adjustment when above 0); with ``referee`` a second customer
    ``cus_000002`` is enrolled too.
    """
    from zoneinfo import ZoneInfo

    from crmkit.app.bootstrap import bootstrap
    from crmkit.kernel.ids import SequentialIds
    from crmkit.kernel.time import ManualClock

    clock = ManualClock(datetime(2026, 3, 2, 10, tzinfo=ZoneInfo("Asia/Taipei")))
    crm = bootstrap(clock=clock, ids=SequentialIds(), loyalty=_example_settings())
    crm.save_loyalty_program(_example_program())
    crm.register_customer("Lin Mei-ling", "person")
    if referee:
        crm.register_customer("Chen Bo", "person")
    if member_points is not None:
        crm.enroll_member("cus_000001")
        if referee:
            crm.enroll_member("cus_000002")
        if member_points > 0:
            crm.adjust_points(
                "cus_000001", member_points, reference="welcome", reason="welcome", actor="u_amy"
            )
    return crm
