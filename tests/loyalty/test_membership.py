"""The Membership aggregate: commands, idempotency, refusals, shortfalls, persistence, events."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel.money import Money
from crmkit.loyalty import (
    ActivityReward,
    BaseRate,
    EarnCaps,
    EarnOrder,
    EarnRules,
    ExpiryPolicy,
    InsufficientPoints,
    LoyaltyProgram,
    Membership,
    ShortfallPolicy,
    Tier,
    TierModel,
)
from crmkit.serialization import from_json, to_json, unstructure

TPE = ZoneInfo("Asia/Taipei")
UTC = ZoneInfo("UTC")
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=TPE)


def twd(amount: str | int) -> Money:
    return Money(str(amount), "TWD")


def program(**overrides: object) -> LoyaltyProgram:
    fields: dict[str, object] = {
        "id": "club",
        "name": "Club",
        "currency": "TWD",
        "time_zone": "Asia/Taipei",
        "point_value": twd("0.5"),
        "earn": EarnRules(
            base=BaseRate(points=1, per=twd(100)),
            activities=[ActivityReward(kind="review", name="Review", points=20)],
        ),
    }
    fields.update(overrides)
    return LoyaltyProgram(**fields)  # type: ignore[arg-type]


def enroll(p: LoyaltyProgram, **kw: object) -> Membership:
    return Membership.enroll(id="mem_1", program=p, customer_id="cus_1", now=T0, **kw)  # type: ignore[arg-type]


def order(order_id: str, amount: int | str) -> EarnOrder:
    return EarnOrder.of(order_id, twd(amount))


def gift(m: Membership, p: LoyaltyProgram, points: int, ref: str = "adj_1", now: datetime = T0):
    return m.adjust(p, points, reference=ref, reason="gift", actor="u_amy", now=now)


# ----- enrollment ------------------------------------------------------------------------------


def test_enrollment_keeps_only_the_birthday_month_and_day() -> None:
    m = enroll(program(), birthday=date(1988, 2, 29))

    assert (m.birth_month, m.birth_day) == (2, 29)
    assert "1988" not in to_json(m)
    assert [e.event_type for e in m.pull_events()] == ["loyalty.MembershipEnrolled"]


def test_a_birthday_must_be_a_real_day() -> None:
    p = program()

    with pytest.raises(ValidationError, match="must be a date"):
        Membership.enroll(id="m", program=p, customer_id="c", now=T0, birthday="1990-01-01")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="2/30 is not a day"):
        Membership(
            id="m",
            program_id="club",
            customer_id="c",
            enrolled_at=T0,
            as_of=T0,
            birth_month=2,
            birth_day=30,
        )


def test_a_membership_takes_only_its_own_program() -> None:
    m = enroll(program())
    other = program(id="other")

    with pytest.raises(ValidationError, match="belongs to program 'club', not 'other'"):
        m.earn(other, order("o_1", 100), now=T0)


# ----- earning ---------------------------------------------------------------------------------


def test_the_same_order_twice_earns_once() -> None:
    p = program()
    m = enroll(p)
    first = m.earn(p, order("o_1", 1000), now=T0)
    events = len(m.pending_events)

    again = m.earn(p, EarnOrder.of("o_1", twd("1000.00")), now=T0 + timedelta(hours=1))

    assert again is first
    assert (len(m.entries), len(m.pending_events), m.available(T0 + timedelta(hours=1))) == (
        1,
        events,
        10,
    )


def test_the_same_order_id_with_other_lines_is_refused_and_changes_nothing() -> None:
    p = program()
    m = enroll(p)
    m.earn(p, order("o_1", 1000), now=T0)
    before = unstructure(m)

    with pytest.raises(RuleViolation, match="reference 'o_1' was already used"):
        m.earn(p, order("o_1", 2000), now=T0)
    assert unstructure(m) == before


def test_an_order_that_earns_nothing_is_still_recorded() -> None:
    p = program(earn=EarnRules(base=BaseRate(per=twd(100)), first_purchase_points=50))
    m = enroll(p)

    small = m.earn(p, order("o_small", 99), now=T0)  # 0.99 -> 0, plus the first-order 50
    second = m.earn(p, order("o_2", 99), now=T0)  # not the first order any more

    assert (small.points, small.lot, second.points, second.lot) == (50, "lot-1", 0, None)
    assert m.entry_for("earn", "o_2") is second


def test_points_are_pending_for_the_return_window() -> None:
    p = program(pending_period=timedelta(days=14))
    m = enroll(p)
    m.earn(p, order("o_1", 5000), now=T0)

    assert (m.available(T0), m.pending(T0)) == (0, 50)
    with pytest.raises(InsufficientPoints, match="cannot redeem 1 points: 0 available"):
        m.redeem(p, 1, reference="r_1", now=T0 + timedelta(days=14) - timedelta(seconds=1))
    assert m.available(T0 + timedelta(days=14)) == 50


def test_the_daily_cap_counts_across_orders_of_the_local_day() -> None:
    p = program(earn=EarnRules(base=BaseRate(per=twd(100)), caps=EarnCaps(per_day=100)))
    m = enroll(p)

    assert m.earn(p, order("o_1", 8000), now=T0).points == 80
    assert m.earn(p, order("o_2", 8000), now=T0 + timedelta(hours=1)).points == 20
    # Midnight in Taipei starts a new day (2026-03-02 00:00 +08:00 is 03-01 16:00 UTC).
    tomorrow = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert m.earn(p, order("o_3", 8000), now=tomorrow).points == 80


def test_activities_pay_once_per_reference() -> None:
    p = program()
    m = enroll(p)

    first = m.reward_activity(p, "review", reference="rev_1", now=T0)
    assert m.reward_activity(p, "review", reference="rev_1", now=T0) is first
    assert m.available(T0) == 20
    with pytest.raises(ValidationError, match="rewards no activity 'survey'"):
        m.reward_activity(p, "survey", reference="sv_1", now=T0)


# ----- redeeming -------------------------------------------------------------------------------


def test_redemptions_take_the_soonest_expiring_points_first() -> None:
    p = program(expiry=ExpiryPolicy(kind="rolling_months", months=12))
    m = enroll(p)
    gift(m, p, 30, "adj_old", T0)
    gift(m, p, 30, "adj_new", T0 + timedelta(days=40))

    entry = m.redeem(p, 40, reference="rdm_1", now=T0 + timedelta(days=41), purpose="reward:mug")

    assert [(d.lot, d.points) for d in entry.draws] == [("lot-1", 30), ("lot-2", 10)]
    assert (entry.purpose, entry.points) == ("reward:mug", -40)


def test_a_redemption_replays_and_refuses_other_payloads() -> None:
    p = program()
    m = enroll(p)
    gift(m, p, 100)
    first = m.redeem(p, 40, reference="pay_1", now=T0, purpose="payment")

    assert m.redeem(p, 40, reference="pay_1", now=T0, purpose="payment") is first
    with pytest.raises(RuleViolation, match="reference 'pay_1' was already used"):
        m.redeem(p, 41, reference="pay_1", now=T0, purpose="payment")
    assert m.available(T0) == 60


def test_redemption_minimum_and_bad_input() -> None:
    p = program(min_redemption=50)
    m = enroll(p)
    gift(m, p, 100)

    with pytest.raises(RuleViolation, match="the program's minimum is 50"):
        m.redeem(p, 49, reference="r_1", now=T0)
    with pytest.raises(ValidationError, match="must be an int >= 1"):
        m.redeem(p, 0, reference="r_1", now=T0)
    with pytest.raises(ValidationError, match="must be an int >= 1"):
        m.redeem(p, True, reference="r_1", now=T0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="must be timezone-aware"):
        m.redeem(p, 50, reference="r_1", now=datetime(2026, 3, 1))
    with pytest.raises(ValidationError, match="reference"):
        m.redeem(p, 50, reference="has space", now=T0)
    with pytest.raises(ValidationError, match="at most 200 characters"):
        m.redeem(p, 50, reference="r_1", now=T0, purpose="x" * 201)
    assert m.available(T0) == 100


def test_insufficient_points_say_how_many_are_available() -> None:
    p = program()
    m = enroll(p)
    gift(m, p, 10)

    with pytest.raises(InsufficientPoints) as caught:
        m.redeem(p, 11, reference="r_1", now=T0)

    assert caught.value.details == {"requested": 11, "available": 10}
    assert caught.value.code == "loyalty.insufficient_points"


def test_time_never_goes_backwards() -> None:
    p = program()
    m = enroll(p)
    m.available(T0 + timedelta(days=1))

    with pytest.raises(RuleViolation, match="would go back in time"):
        m.redeem(p, 1, reference="r_1", now=T0)
    with pytest.raises(RuleViolation, match="would go back in time"):
        m.balance(T0)


def test_one_instant_in_two_time_zones_is_the_same_time() -> None:
    p = program(expiry=ExpiryPolicy(kind="rolling_months", months=1))
    m = enroll(p)
    gift(m, p, 10)
    expires = m.lots["lot-1"].expires_at
    assert expires is not None

    just_before = (expires - timedelta(microseconds=1)).astimezone(UTC)
    assert m.available(just_before) == 10
    assert m.available(expires.astimezone(UTC)) == 0


# ----- adjusting -------------------------------------------------------------------------------


def test_adjustments_need_a_reason_and_an_actor() -> None:
    p = program()
    m = enroll(p)

    with pytest.raises(ValidationError, match="must say why"):
        m.adjust(p, 10, reference="a", reason="  ", actor="u_1", now=T0)
    with pytest.raises(ValidationError, match="actor"):
        m.adjust(p, 10, reference="a", reason="x", actor=None, now=T0)  # type: ignore[arg-type]
    with pytest.raises(InsufficientPoints):
        m.adjust(p, -1, reference="a", reason="x", actor="u_1", now=T0)


def test_a_negative_adjustment_takes_like_a_redemption() -> None:
    p = program()
    m = enroll(p)
    gift(m, p, 25)

    entry = m.adjust(p, -10, reference="adj_2", reason="double credit", actor="u_1", now=T0)

    assert (entry.points, entry.reason, entry.actor, m.available(T0)) == (
        -10,
        "double credit",
        "u_1",
        15,
    )


# ----- refunds ---------------------------------------------------------------------------------


def test_a_refund_of_an_unknown_order_or_in_another_currency_is_refused() -> None:
    p = program()
    m = enroll(p)
    m.earn(p, order("o_1", 1000), now=T0)

    with pytest.raises(RuleViolation, match="order 'o_9' earned nothing"):
        m.reverse(p, order_id="o_9", refund_id="rf_1", refunded=twd(10), now=T0)
    with pytest.raises(ValidationError, match="is in CNY, the order in TWD"):
        m.reverse(p, order_id="o_1", refund_id="rf_1", refunded=Money("10", "CNY"), now=T0)
    with pytest.raises(ValidationError, match="must be Money above 0"):
        m.reverse(p, order_id="o_1", refund_id="rf_1", refunded=twd(0), now=T0)


def spent_then_refunded(policy: ShortfallPolicy) -> tuple[LoyaltyProgram, Membership]:
    p = program(shortfall=policy)
    m = enroll(p)
    m.earn(p, order("o_1", 3000), now=T0)  # 30 points
    m.redeem(p, 30, reference="r_1", now=T0)
    m.reverse(p, order_id="o_1", refund_id="rf_1", refunded=twd(3000), now=T0)
    return p, m


def test_a_negative_balance_program_lets_the_balance_go_below_zero() -> None:
    p, m = spent_then_refunded(ShortfallPolicy.NEGATIVE_BALANCE)

    assert m.balance(T0).available == -30
    with pytest.raises(InsufficientPoints):
        m.redeem(p, 1, reference="r_2", now=T0)
    # Later points pay it back first: 50 new points leave 20.
    m.earn(p, order("o_2", 5000), now=T0)
    assert (m.available(T0), m.negative) == (20, 0)


def test_a_debt_program_keeps_the_balance_at_zero_and_records_the_debt() -> None:
    _p, m = spent_then_refunded(ShortfallPolicy.DEBT)

    balance = m.balance(T0)
    assert (balance.available, balance.debt, balance.negative) == (0, 30, 0)
    assert m.entries[-1].debt == 30


def test_a_write_off_program_forgives_the_shortfall_on_the_record() -> None:
    p, m = spent_then_refunded(ShortfallPolicy.WRITE_OFF)

    assert m.balance(T0) == m.balance(T0).__class__(available=0, pending=0, debt=0, negative=0)
    assert m.entries[-1].written_off == 30
    m.earn(p, order("o_2", 1000), now=T0)
    assert m.available(T0) == 10  # nothing to pay back


def test_refunds_lower_the_qualifying_history_not_just_the_points() -> None:
    p = program(
        tiers=TierModel(
            metric="orders",
            period="calendar",
            tiers=[Tier(id="a", name="A", threshold=0), Tier(id="b", name="B", threshold=2)],
        )
    )
    m = enroll(p)
    m.earn(p, order("o_1", 1000), now=T0)
    m.reverse(p, order_id="o_1", refund_id="rf_1", refunded=twd(400), now=T0)
    m.reverse(p, order_id="o_1", refund_id="rf_2", refunded=twd(600), now=T0)

    assert [(q.points, q.spend, q.orders) for q in m.qualifying] == [
        (10, Decimal(1000), 1),
        (-4, Decimal(-400), 0),  # floor(10 x 400 / 1000) = 4
        (-6, Decimal(-600), -1),  # the whole order now: 10 - 4 = 6, and it no longer counts
    ]
    m.earn(p, order("o_2", 1000), now=T0)
    assert m.tier == "a"  # one order counts, not two


# ----- tiers on the membership -----------------------------------------------------------------


def tiered() -> LoyaltyProgram:
    return program(
        tiers=TierModel(
            metric="points",
            period="calendar",
            tiers=[
                Tier(id="member", name="Member", threshold=0),
                Tier(id="gold", name="Gold", threshold=1000),
            ],
        )
    )


def test_grants_are_idempotent_and_need_tiers() -> None:
    p = tiered()
    m = enroll(p)
    until = T0 + timedelta(days=30)
    first = m.grant_tier(p, "gold", reference="g_1", reason="VIP", actor="u_1", now=T0, until=until)

    assert (
        m.grant_tier(p, "gold", reference="g_1", reason="VIP", actor="u_1", now=T0, until=until)
        is first
    )
    with pytest.raises(RuleViolation, match="reference 'g_1' was already used"):
        m.grant_tier(p, "gold", reference="g_1", reason="VIP", actor="u_1", now=T0)
    with pytest.raises(RuleViolation, match="has no tiers to grant"):
        enroll(program()).grant_tier(
            program(), "gold", reference="g", reason="r", actor="u", now=T0
        )
    with pytest.raises(RuleViolation, match="has no tiers"):
        enroll(program()).tier_status(program(), T0)
    assert m.tier == "gold"
    assert m.tier_status(p, until).tier == "member"


def test_tier_changes_are_events() -> None:
    p = tiered()
    m = enroll(p)
    m.pull_events()
    m.earn(p, order("o_1", 100_000), now=T0)

    events = m.pull_events()
    assert [e.event_type for e in events] == ["loyalty.PointsEarned", "loyalty.TierChanged"]
    changed = events[1]
    assert (changed.from_tier, changed.to_tier, changed.reason.value) == (
        "member",
        "gold",
        "upgrade",
    )  # type: ignore[attr-defined]
    assert {e.aggregate_version for e in events} == {1}


# ----- persistence -----------------------------------------------------------------------------


def busy_membership() -> tuple[LoyaltyProgram, Membership, datetime]:
    p = tiered()
    p = LoyaltyProgram(
        id=p.id,
        name=p.name,
        currency="TWD",
        time_zone="Asia/Taipei",
        point_value=twd("0.5"),
        earn=p.earn,
        tiers=p.tiers,
        pending_period=timedelta(days=7),
        expiry=ExpiryPolicy(kind="rolling_months", months=1),
    )
    m = enroll(p, birthday=date(1990, 3, 9))
    now = T0
    for i in range(12):
        m.earn(p, order(f"o_{i}", 1000 * (i + 1)), now=now)
        now += timedelta(days=5)
        if m.available(now) > 20:
            m.redeem(p, 20, reference=f"r_{i}", now=now)
    m.reverse(p, order_id="o_11", refund_id="rf_1", refunded=twd(5000), now=now)
    m.grant_tier(p, "gold", reference="g_1", reason="VIP", actor="u_1", now=now)
    return p, m, now


def test_a_membership_round_trips_and_answers_the_same_after_loading() -> None:
    p, m, now = busy_membership()

    loaded = from_json(to_json(m), Membership)

    assert loaded == m
    later = now + timedelta(days=40)
    assert loaded.balance(later) == m.balance(later)
    assert loaded.expiring_before(later + timedelta(days=60), now=later) == m.expiring_before(
        later + timedelta(days=60), now=later
    )
    assert loaded.tier_status(p, later) == m.tier_status(p, later)
    # The reference index is rebuilt: replays still return the first entry.
    assert loaded.earn(p, order("o_3", 4000), now=later) == m.entry_for("earn", "o_3")


def test_a_stored_ledger_that_does_not_balance_is_refused() -> None:
    _p, m, _now = busy_membership()
    data = unstructure(m)
    data["entries"][0]["points"] += 1

    with pytest.raises(ValidationError, match="the ledger does not balance"):
        from_json(to_json(data), Membership)


def test_a_stored_lot_without_points_is_refused() -> None:
    _p, m, _now = busy_membership()
    data = unstructure(m)
    lot = next(iter(data["lots"]))
    data["lots"][lot]["remaining"] = 0

    with pytest.raises(ValidationError, match="only live lots are kept"):
        from_json(to_json(data), Membership)


def test_expiring_before_counts_pending_lots_too() -> None:
    p = program(
        pending_period=timedelta(days=14), expiry=ExpiryPolicy(kind="rolling_months", months=1)
    )
    m = enroll(p)
    m.earn(p, order("o_1", 1000), now=T0)

    # Earned Mar 1: expires 2026-04-02 00:00 Taipei, pending until Mar 15.
    assert m.expiring_before(datetime(2026, 4, 2, tzinfo=TPE), now=T0) == 10
    assert m.expiring_before(datetime(2026, 4, 1, 23, 59, tzinfo=TPE), now=T0) == 0
