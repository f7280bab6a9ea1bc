"""The loyalty use cases through the CRM facade, on the in-memory and SQLite stores.

What a host relies on: one membership per program and customer; every outside fact (order,
refund, redemption, payment, adjustment) counted once; a failed command stores nothing (the
voucher's coupon included); the access policy is asked with the documented action and
resource; referrals and the scheduler runs; the settings round-trip; and the service
context's hooks (SLA by the member's tier, goodwill points on the ledger) when both are
configured.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from crmkit import CRM, ManualClock, bootstrap
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.loyalty import (
    LoyaltySettings,
    _example_program,
    _example_settings,
)
from crmkit.app.service import ServiceHooks, ServiceSettings
from crmkit.errors import (
    ConcurrencyError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolation,
    ValidationError,
)
from crmkit.kernel import SequentialIds
from crmkit.kernel.money import Money
from crmkit.kernel.query import Query
from crmkit.loyalty import (
    EarnOrder,
    EntryKind,
    InsufficientPoints,
    Membership,
    RewardRedemption,
    referral_code,
)
from crmkit.pricing import Coupon
from crmkit.serialization import structure, to_json, unstructure
from crmkit.service import CompensationLimit, ComplaintPolicy
from crmkit.service.sla import SlaPolicy, SlaPolicySet, SlaRule

TPE = ZoneInfo("Asia/Taipei")
START = datetime(2026, 3, 2, 10, tzinfo=TPE)


def twd(amount: str | int) -> Money:
    return Money(str(amount), "TWD")


def make_crm(store: Any = None, *, policy: Any = None, **kwargs: Any) -> CRM:
    crm = bootstrap(
        store=store if store is not None else MemoryStore(),
        clock=ManualClock(START),
        ids=SequentialIds(),
        loyalty=kwargs.pop("loyalty", _example_settings()),
        policy=policy,
        **kwargs,
    )
    crm.save_loyalty_program(_example_program())
    crm.register_customer("Lin Mei-ling", "person")  # cus_000001
    crm.register_customer("Chen Bo", "person")  # cus_000002
    crm.register_customer("Wu Cai", "person")  # cus_000003
    return crm


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest) -> CRM:
    return make_crm(MemoryStore() if request.param == "memory" else SQLiteStore())


AMY, BOB, CAI = "cus_000001", "cus_000002", "cus_000003"


def stored_member(crm: CRM, customer_id: str = AMY) -> Membership:
    with crm.store.unit_of_work() as uow:
        return uow.memberships.get(Membership.id_for("tea_club", customer_id))


# ----- enrollment ----------------------------------------------------------------------------


def test_one_membership_per_program_and_customer(crm: CRM) -> None:
    first = crm.enroll_member(AMY, birthday=date(1990, 3, 14))
    again = crm.enroll_member(AMY, birthday=date(1985, 1, 1))
    assert again == first
    assert stored_member(crm).birth_month == 3
    with pytest.raises(NotFoundError, match="cus_404"):
        crm.enroll_member("cus_404")
    with pytest.raises(NotFoundError, match="not a member of program 'tea_club'"):
        crm.earn_for_order(BOB, EarnOrder.of("o_1", twd(100)))


def test_without_a_stored_program_the_error_says_what_to_do() -> None:
    crm = bootstrap(clock=ManualClock(START), ids=SequentialIds(), loyalty=_example_settings())
    crm.register_customer("Lin Mei-ling", "person")
    with pytest.raises(NotFoundError, match="save it first"):
        crm.enroll_member(AMY)


# ----- earning and refunds -------------------------------------------------------------------


def test_an_order_earns_once_and_a_refund_claws_back_once(crm: CRM) -> None:
    crm.enroll_member(AMY)
    order = EarnOrder.of("o_1", twd(2599))
    first = crm.earn_for_order(AMY, order)
    assert first.points == 25  # 2599 / 100 = 25.99, rounded down
    assert crm.earn_for_order(AMY, order) == first
    # 14 pending days: nothing available yet.
    assert crm.points_balance(AMY).balance.pending == 25
    # A partial refund of NT$1,000: floor(25 x 1000 / 2599) = 9 points back.
    refund = crm.refund_order(AMY, "o_1", refund_id="rf_1", refunded=twd(1000))
    assert refund.points == -9
    assert crm.refund_order(AMY, "o_1", refund_id="rf_1", refunded=twd(1000)) == refund
    member = stored_member(crm)
    assert [(e.kind, e.points) for e in member.entries] == [
        (EntryKind.EARN, 25),
        (EntryKind.REVERSE, -9),
    ]
    # Refunds may not exceed the order: refused, nothing stored.
    with pytest.raises(RuleViolation, match="more than its eligible spend"):
        crm.refund_order(AMY, "o_1", refund_id="rf_2", refunded=twd(2000))
    assert stored_member(crm).entries == member.entries


def test_the_same_order_id_with_other_facts_is_refused(crm: CRM) -> None:
    crm.enroll_member(AMY)
    crm.earn_for_order(AMY, EarnOrder.of("o_1", twd(1000)))
    with pytest.raises(RuleViolation):
        crm.earn_for_order(AMY, EarnOrder.of("o_1", twd(9000)))
    assert crm.points_balance(AMY).balance.total == 10


# ----- rewards, vouchers and payment ---------------------------------------------------------


def test_a_voucher_becomes_one_single_use_coupon_once(crm: CRM) -> None:
    crm.enroll_member(AMY)
    crm.adjust_points(AMY, 500, reference="gift", reason="welcome", actor="u_amy")
    first = crm.redeem_reward(AMY, "v100", reference="rr_1")
    assert first.redeemed and first.coupon is not None
    assert (first.coupon.amount, first.coupon.usage_limit, first.coupon.per_customer_limit) == (
        twd(100),
        1,
        1,
    )
    assert first.coupon.valid_until == START + timedelta(days=90)
    again = crm.redeem_reward(AMY, "v100", reference="rr_1")
    assert (again.redeemed, again.coupon, again.redemption) == (
        False,
        first.coupon,
        first.redemption,
    )
    assert crm.points_balance(AMY).balance.available == 300  # 500 - 200, once
    assert crm.get_coupon(first.redemption.voucher_code or "") == first.coupon


def test_a_refused_redemption_stores_neither_points_nor_coupon(crm: CRM) -> None:
    crm.enroll_member(AMY)
    crm.adjust_points(AMY, 150, reference="gift", reason="welcome", actor="u_amy")
    before = stored_member(crm)
    with pytest.raises(InsufficientPoints):
        crm.redeem_reward(AMY, "v100", reference="rr_1")
    with pytest.raises(NotFoundError, match="no reward 'nope'"):
        crm.redeem_reward(AMY, "nope", reference="rr_2")
    assert stored_member(crm) == before
    code = Coupon.id_for(RewardRedemption.voucher_code_for(before.id, "rr_1"))
    with crm.store.unit_of_work() as uow, pytest.raises(NotFoundError):
        uow.coupons.get(code)


def test_the_coupon_is_not_stored_when_the_membership_save_fails() -> None:
    """A stale membership save after the coupon was staged rolls both back (retries off)."""
    store = MemoryStore()
    settings = LoyaltySettings(
        program_id="tea_club", catalog=_example_settings().catalog, attempts=1
    )
    crm = make_crm(store, loyalty=settings)
    crm.enroll_member(AMY)
    crm.adjust_points(AMY, 500, reference="gift", reason="welcome", actor="u_amy")

    class Racing:
        """Allows everything, but on the redemption a concurrent writer bumps the member."""

        def check(self, actor: str | None, action: str, resource: object = None) -> None:
            if action == "loyalty.redeem":
                crm.adjust_points(AMY, 1, reference="race", reason="race", actor="u_bob")

    racing = bootstrap(store=store, clock=crm.clock, policy=Racing(), loyalty=settings)
    with pytest.raises(ConcurrencyError):
        racing.redeem_reward(AMY, "v100", reference="rr_1")
    assert crm.points_balance(AMY).balance.available == 501
    assert [e.reference for e in stored_member(crm).entries] == ["gift", "race"]
    with store.unit_of_work() as uow:
        assert uow.coupons.query(Query()).items == ()


def test_reversing_a_voucher_removes_its_coupon_unless_used(crm: CRM) -> None:
    crm.enroll_member(AMY)
    crm.adjust_points(AMY, 500, reference="gift", reason="welcome", actor="u_amy")
    coupon = crm.redeem_reward(AMY, "v100", reference="rr_1").coupon
    assert coupon is not None
    assert crm.reverse_redemption(AMY, "rr_1").points == 200
    assert crm.reverse_redemption(AMY, "rr_1").points == 200  # again: the same entry
    with pytest.raises(NotFoundError):
        crm.get_coupon(coupon.code)
    assert crm.points_balance(AMY).balance.available == 500
    # A used voucher cannot be reversed.
    used = crm.redeem_reward(AMY, "v100", reference="rr_2").coupon
    assert used is not None
    with crm.store.unit_of_work() as uow:
        stored = uow.coupons.get(used.id)
        stored.redeem("quo_1", AMY, START)
        uow.coupons.save(stored)
        uow.commit()
    with pytest.raises(RuleViolation, match="has been used"):
        crm.reverse_redemption(AMY, "rr_2")
    assert crm.points_balance(AMY).balance.available == 300


def test_points_pay_part_of_an_order_within_the_rules(crm: CRM) -> None:
    crm.enroll_member(AMY)
    crm.adjust_points(AMY, 2000, reference="gift", reason="welcome", actor="u_amy")
    pay = crm.pay_with_points(AMY, 600, order_total=twd(1000), reference="pay_1")
    # 600 x NT$0.5 = NT$300 off; NT$700 left to pay.
    assert (pay.value, pay.to_pay) == (Money("300.00", "TWD"), Money("700.00", "TWD"))
    assert crm.pay_with_points(AMY, 600, order_total=twd(1000), reference="pay_1") == pay
    with pytest.raises(RuleViolation, match="more than 50%"):
        crm.pay_with_points(AMY, 1200, order_total=twd(1000), reference="pay_2")
    with pytest.raises(RuleViolation, match="minimum is 100"):
        crm.pay_with_points(AMY, 50, order_total=twd(1000), reference="pay_3")
    assert crm.points_balance(AMY).balance.available == 1400


# ----- manual changes ------------------------------------------------------------------------


def test_adjustments_and_grants_need_an_actor_and_keep_the_reason(crm: CRM) -> None:
    crm.enroll_member(AMY)
    with pytest.raises(ValidationError, match="actor"):
        crm.adjust_points(AMY, 10, reference="a1", reason="x", actor=None)  # type: ignore[arg-type]
    entry = crm.adjust_points(AMY, 10, reference="a1", reason="late parcel", actor="u_amy")
    assert (entry.actor, entry.reason) == ("u_amy", "late parcel")
    grant = crm.grant_tier(
        AMY, "gold", reference="g1", reason="VIP", actor="u_amy", until=START + timedelta(days=30)
    )
    assert grant.tier == "gold"
    assert crm.get_membership(AMY).tier == "gold"
    crm.clock.advance(timedelta(days=31))  # type: ignore[attr-defined]
    crm.advance_memberships()
    assert crm.get_membership(AMY).tier == "member"


# ----- referrals -----------------------------------------------------------------------------


def test_a_referral_rewards_both_once_its_first_order_is_final(crm: CRM) -> None:
    for customer in (AMY, BOB):
        crm.enroll_member(customer)
    code = referral_code("tea_club", AMY)
    referral = crm.register_referral(BOB, code)
    assert referral.referrer_id == AMY
    with pytest.raises(RuleViolation):
        crm.register_referral(AMY, referral_code("tea_club", BOB))  # a loop
    with pytest.raises(NotFoundError, match="referral code"):
        crm.register_referral(AMY, "REF-NOBODY")
    crm.earn_for_order(BOB, EarnOrder.of("o_1", twd(800)))
    crm.earn_for_order(BOB, EarnOrder.of("o_2", twd(900)))  # not the first: does not count
    assert crm.qualify_referrals().rewarded == ()
    crm.clock.advance(timedelta(days=14))  # type: ignore[attr-defined]
    run = crm.qualify_referrals()
    assert run.rewarded == (referral.id,)
    assert crm.qualify_referrals().rewarded == ()
    assert crm.points_balance(AMY).balance.available == 200
    # Bob: 8 + 9 earned (past their 14 days) + 100 for being referred.
    assert crm.points_balance(BOB).balance.available == 117


def test_a_fully_refunded_first_order_voids_the_referral(crm: CRM) -> None:
    for customer in (AMY, CAI):
        crm.enroll_member(customer)
    referral = crm.register_referral(CAI, referral_code("tea_club", AMY))
    crm.earn_for_order(CAI, EarnOrder.of("o_1", twd(800)))
    crm.refund_order(CAI, "o_1", refund_id="rf_1", refunded=twd(300))
    with crm.store.unit_of_work() as uow:
        assert uow.referrals.get(referral.id).status.value == "qualifying"
    crm.refund_order(CAI, "o_1", refund_id="rf_2", refunded=twd(500))
    with crm.store.unit_of_work() as uow:
        assert uow.referrals.get(referral.id).status.value == "void"
    crm.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    assert crm.qualify_referrals().rewarded == ()
    assert crm.points_balance(AMY).balance.available == 0


def test_referrals_are_refused_when_not_configured() -> None:
    settings = LoyaltySettings(program_id="tea_club")
    crm = make_crm(loyalty=settings)
    crm.enroll_member(AMY)
    crm.enroll_member(BOB)
    with pytest.raises(RuleViolation, match="referrals are not configured"):
        crm.register_referral(BOB, referral_code("tea_club", AMY))


# ----- time and reports ----------------------------------------------------------------------


def test_the_scheduler_expires_lots_and_the_reports_see_it(crm: CRM) -> None:
    crm.enroll_member(AMY)
    crm.enroll_member(BOB)
    crm.earn_for_order(AMY, EarnOrder.of("o_1", twd(10000)))  # 100 points, 14 days pending
    crm.adjust_points(BOB, 40, reference="gift", reason="welcome", actor="u_amy")
    report = crm.loyalty_report()
    # Liability: Amy's 100 pending + Bob's 40 available, at NT$0.5: NT$70.
    assert (report.liability.points, report.liability.value) == (140, Money("70.00", "TWD"))
    # Amy's NT$10,000 reaches Silver's threshold at once; Bob stays a Member.
    assert [(t.tier, t.members) for t in report.tiers] == [
        ("member", 1),
        ("silver", 1),
        ("gold", 0),
    ]
    # Amy's lot expires 12 months after it was earned; 11.5 months on it is expiring soon.
    crm.clock.advance(timedelta(days=350))  # type: ignore[attr-defined]
    balance = crm.points_balance(AMY)
    assert (balance.balance.available, balance.expiring_soon) == (100, 100)
    assert [(lot.source, lot.remaining) for lot in balance.lots] == [("o_1", 100)]
    assert [(e.customer_id, e.points) for e in crm.loyalty_report().expiring] == [
        (AMY, 100),
        (BOB, 40),
    ]
    crm.clock.advance(timedelta(days=30))  # type: ignore[attr-defined]
    run = crm.advance_memberships()
    assert set(run.changed) == {Membership.id_for("tea_club", c) for c in (AMY, BOB)}
    assert crm.advance_memberships().changed == ()
    assert crm.points_balance(AMY).balance.available == 0
    expired = [e for e in stored_member(crm).entries if e.kind is EntryKind.EXPIRE]
    assert [e.points for e in expired] == [-100]
    assert crm.loyalty_report().liability.points == 0


# ----- access policy -------------------------------------------------------------------------


class Recording:
    def __init__(self, deny: str | None = None) -> None:
        self.calls: list[tuple[str | None, str, str]] = []
        self.deny = deny

    def check(self, actor: str | None, action: str, resource: object = None) -> None:
        self.calls.append((actor, action, type(resource).__name__))
        if action == self.deny:
            raise PermissionDeniedError(f"{actor} may not {action}")


def test_the_policy_is_asked_with_the_documented_actions() -> None:
    policy = Recording()
    crm = make_crm(policy=policy)
    policy.calls.clear()
    crm.enroll_member(AMY, actor="u_desk")
    crm.earn_for_order(AMY, EarnOrder.of("o_1", twd(1000)), actor="shop")
    crm.refund_order(AMY, "o_1", refund_id="rf_1", refunded=twd(100), actor="shop")
    crm.adjust_points(AMY, 500, reference="a1", reason="gift", actor="u_amy")
    crm.redeem_reward(AMY, "v100", reference="rr_1", actor="portal")
    crm.points_balance(AMY, actor="portal")
    crm.advance_memberships(actor="cron")
    assert policy.calls == [
        ("u_desk", "loyalty.enroll", "Customer"),
        ("shop", "loyalty.earn", "Membership"),
        ("shop", "loyalty.refund", "Membership"),
        ("u_amy", "loyalty.adjust", "Membership"),
        ("portal", "loyalty.redeem", "Membership"),
        ("portal", "loyalty.read", "Membership"),
        ("cron", "loyalty.schedule", "LoyaltyProgram"),
    ]


def test_a_denied_command_stores_nothing() -> None:
    crm = make_crm(policy=Recording(deny="loyalty.adjust"))
    crm.enroll_member(AMY)
    with pytest.raises(PermissionDeniedError):
        crm.adjust_points(AMY, 500, reference="a1", reason="gift", actor="u_eve")
    assert stored_member(crm).entries == []


# ----- settings ------------------------------------------------------------------------------


@hypothesis_settings(max_examples=30)
@given(
    attempts=st.integers(1, 100),
    days=st.integers(1, 3660),
    valid=st.none() | st.integers(1, 400).map(lambda d: timedelta(days=d)),
)
def test_settings_round_trip_through_json(
    attempts: int, days: int, valid: timedelta | None
) -> None:
    base = _example_settings()
    settings = LoyaltySettings(
        program_id=base.program_id,
        catalog=base.catalog,
        referrals=base.referrals,
        voucher_valid_for=valid,
        attempts=attempts,
        expiring_within_days=days,
    )
    assert structure(unstructure(settings), LoyaltySettings) == settings
    assert to_json(settings)


def test_bad_settings_are_refused_with_the_field() -> None:
    with pytest.raises(ValidationError, match="attempts"):
        LoyaltySettings(program_id="tea_club", attempts=0)
    with pytest.raises(ValidationError, match="loyalty"):
        bootstrap(loyalty="tea_club")  # type: ignore[arg-type]


# ----- the service context's hooks -----------------------------------------------------------


def service_settings() -> ServiceSettings:
    return ServiceSettings(
        complaints=ComplaintPolicy(
            categories=["delivery"],
            compensation_limits=[
                CompensationLimit(role="team_lead", kind="goodwill_points", max_points=2000)
            ],
        ),
        sla=SlaPolicySet(
            default="standard",
            policies=[
                SlaPolicy(
                    name="standard",
                    first_response=timedelta(hours=8),
                    resolution=timedelta(hours=72),
                ),
                SlaPolicy(
                    name="gold", first_response=timedelta(hours=1), resolution=timedelta(hours=9)
                ),
            ],
            rules=[SlaRule(name="gold members", policy="gold", tiers=["gold"])],
        ),
        timezone="Asia/Taipei",
    )


def test_with_service_and_loyalty_the_tier_picks_the_sla_and_goodwill_lands_on_the_ledger() -> None:
    crm = make_crm(service=service_settings())
    crm.enroll_member(AMY)
    crm.enroll_member(BOB)
    crm.grant_tier(AMY, "gold", reference="g1", reason="VIP", actor="u_amy")
    gold = crm.file_complaint(AMY, "Late parcel", category="delivery", channel="phone")
    plain = crm.file_complaint(BOB, "Late parcel", category="delivery", channel="phone")
    assert (gold.customer_tier, plain.customer_tier) == ("gold", "member")
    case = crm.acknowledge_complaint(gold.id, owner="u_amy")
    for _ in range(2):
        crm.grant_compensation(
            case.id, "gp-1", "goodwill_points", approver_role="team_lead", points=500,
            actor="u_lead",
        )  # fmt: skip
    entries = [e for e in stored_member(crm).entries if e.kind is EntryKind.ADJUST]
    assert [(e.points, e.reference, e.actor, e.reason) for e in entries] == [
        (500, "gp-1", "u_lead", f"goodwill for case {case.reference}")
    ]


def test_goodwill_for_a_non_member_stores_neither_the_grant_nor_points() -> None:
    crm = make_crm(service=service_settings())
    case = crm.acknowledge_complaint(
        crm.file_complaint(CAI, "Late parcel", category="delivery", channel="phone").id,
        owner="u_amy",
    )
    with pytest.raises(NotFoundError, match="not a member"):
        crm.grant_compensation(
            case.id, "gp-1", "goodwill_points", approver_role="team_lead", points=500,
            actor="u_lead",
        )  # fmt: skip
    assert crm.get_complaint(case.id).compensations == ()


def test_a_hosts_own_hooks_win_over_the_loyalty_ones() -> None:
    crm = make_crm(
        service=service_settings(),
        service_hooks=ServiceHooks(tier_lookup=lambda uow, customer_id: "gold"),
    )
    case = crm.file_complaint(CAI, "Late parcel", category="delivery", channel="phone")
    assert case.customer_tier == "gold"
