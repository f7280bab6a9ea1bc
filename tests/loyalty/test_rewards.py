"""Rewards catalog, reward redemption and its reversal, and points as partial payment."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.errors import NotFoundError, RuleViolation, ValidationError
from crmkit.kernel.money import Money
from crmkit.loyalty import (
    BaseRate,
    EarnOrder,
    EarnRules,
    EntryKind,
    ExpiryPolicy,
    InsufficientPoints,
    LoyaltyProgram,
    Membership,
    PointsPaymentRules,
    Reward,
    RewardCatalog,
    pay_with_points,
    points_for,
    quote_points_payment,
    redeem_reward,
    reverse_reward,
)
from crmkit.serialization import structure, unstructure

TZ = ZoneInfo("Asia/Taipei")
T0 = datetime(2026, 3, 1, 12, tzinfo=TZ)


def program(**kw: object) -> LoyaltyProgram:
    fields: dict[str, object] = {
        "id": "club",
        "name": "Club",
        "currency": "TWD",
        "time_zone": "Asia/Taipei",
        "point_value": Money("0.5", "TWD"),
        "earn": EarnRules(base=BaseRate(points=1, per=Money("100", "TWD"))),
        "expiry": ExpiryPolicy(kind="rolling_months", months=1),
        "min_redemption": 10,
    }
    fields.update(kw)
    return LoyaltyProgram(**fields)  # type: ignore[arg-type]


CATALOG = RewardCatalog(
    program_id="club",
    rewards=[
        Reward(
            id="v100",
            name="NT$100 off",
            kind="voucher",
            points=200,
            voucher_value=Money("100", "TWD"),
        ),
        Reward(id="mug", name="Mug", kind="product", points=300, sku="MUG-1"),
        Reward(id="old", name="Old", kind="experience", points=50, active=False),
        Reward(id="usd", name="USD", kind="voucher", points=50, voucher_value=Money("3", "USD")),
    ],
    payment=PointsPaymentRules(min_points=100, max_share="0.5"),
)


def member(points: int = 1000, p: LoyaltyProgram | None = None) -> Membership:
    p = p or program()
    m = Membership.enroll(id="mem_1", program=p, customer_id="cus_1", now=T0)
    m.adjust(p, points, reference="seed", reason="seed", actor="u1", now=T0)
    return m


def test_catalog_round_trips_through_the_converter() -> None:
    assert structure(unstructure(CATALOG), RewardCatalog) == CATALOG


def test_reward_validation() -> None:
    with pytest.raises(ValidationError, match="only a voucher"):
        Reward(id="m", name="M", kind="product", points=1, voucher_value=Money("1", "TWD"))
    with pytest.raises(ValidationError, match="points"):
        Reward(id="m", name="M", kind="product", points=0)
    with pytest.raises(NotFoundError):
        CATALOG.reward("nope")


def test_voucher_redemption_spends_and_names_a_stable_coupon_code() -> None:
    p, m = program(), member()
    r = redeem_reward(m, p, CATALOG, "v100", reference="rr_1", now=T0)
    assert (r.points, m.available(T0)) == (200, 800)
    assert r.voucher_value == Money("100", "TWD")
    assert r.voucher_code is not None and r.voucher_code.startswith("RW-")
    again = redeem_reward(m, p, CATALOG, "v100", reference="rr_1", now=T0)
    assert again == r and m.available(T0) == 800
    assert m.entry_for(EntryKind.REDEEM, "rr_1").purpose == "reward:v100"  # type: ignore[union-attr]
    product = redeem_reward(m, p, CATALOG, "mug", reference="rr_2", now=T0)
    assert product.voucher_code is None and product.reward.sku == "MUG-1"


def test_same_reference_for_another_reward_is_refused_and_changes_nothing() -> None:
    p, m = program(), member()
    redeem_reward(m, p, CATALOG, "v100", reference="rr_1", now=T0)
    before = len(m.entries)
    with pytest.raises(RuleViolation):
        redeem_reward(m, p, CATALOG, "mug", reference="rr_1", now=T0)
    assert len(m.entries) == before and m.available(T0) == 800


@pytest.mark.parametrize(
    ("reward", "error"),
    [("old", RuleViolation), ("usd", ValidationError), ("nope", NotFoundError)],
)
def test_refused_rewards_change_nothing(reward: str, error: type[Exception]) -> None:
    p, m = program(), member()
    with pytest.raises(error):
        redeem_reward(m, p, CATALOG, reward, reference="rr_1", now=T0)
    assert m.available(T0) == 1000 and m.entry_for(EntryKind.REDEEM, "rr_1") is None


def test_not_enough_points() -> None:
    p, m = program(), member(100)
    with pytest.raises(InsufficientPoints):
        redeem_reward(m, p, CATALOG, "v100", reference="rr_1", now=T0)
    assert m.available(T0) == 100


def test_catalog_of_another_program_is_refused() -> None:
    p, m = program(), member()
    with pytest.raises(ValidationError, match="belongs to program"):
        redeem_reward(m, p, RewardCatalog(program_id="other"), "v100", reference="r", now=T0)


def test_reverse_reward_restores_points_and_is_idempotent() -> None:
    p, m = program(), member()
    redeem_reward(m, p, CATALOG, "mug", reference="rr_1", now=T0)
    e = reverse_reward(m, p, "rr_1", now=T0)
    assert (e.kind, e.points, m.available(T0)) == (EntryKind.RESTORE, 300, 1000)
    assert reverse_reward(m, p, "rr_1", now=T0) is e
    assert m.available(T0) == 1000
    with pytest.raises(RuleViolation, match="no redemption"):
        reverse_reward(m, p, "rr_9", now=T0)


def test_reversal_leaves_expired_lots_expired_and_survives_a_reload() -> None:
    p = program()
    m = Membership.enroll(id="mem_1", program=p, customer_id="cus_1", now=T0)
    m.adjust(p, 100, reference="a1", reason="x", actor="u1", now=T0)  # lot-1, expires ~1 Apr
    t1 = T0 + timedelta(days=20)
    m.adjust(p, 100, reference="a2", reason="x", actor="u1", now=t1)  # lot-2, expires ~21 Apr
    m.redeem(p, 150, reference="r1", now=t1)  # 100 from lot-1, 50 from lot-2
    t2 = T0 + timedelta(days=35)  # lot-1 has expired (it was empty: nothing expired)
    e = m.reverse_redemption(p, "r1", now=t2)
    assert [(d.lot, d.points) for d in e.draws] == [("lot-2", 50)]
    assert m.available(t2) == 100  # 50 left in lot-2 + 50 back; lot-1's 100 stay gone
    events = [ev for ev in m.pull_events() if ev.event_type == "loyalty.RedemptionReversed"]
    assert (events[0].points, events[0].expired) == (50, 100)  # type: ignore[attr-defined]
    loaded = structure(unstructure(m), Membership)
    assert loaded.balance(t2) == m.balance(t2)
    # lot-2's points then expire with lot-2, and nothing else is left
    t3 = T0 + timedelta(days=60)
    assert loaded.available(t3) == 0 and m.available(t3) == 0


def test_reversal_revives_a_spent_lot_in_its_place() -> None:
    p = program()
    m = Membership.enroll(id="mem_1", program=p, customer_id="cus_1", now=T0)
    m.adjust(p, 100, reference="a1", reason="x", actor="u1", now=T0)
    m.adjust(p, 100, reference="a2", reason="x", actor="u1", now=T0)  # same day: same bucket
    m.redeem(p, 100, reference="r1", now=T0)  # lot-1 spent to nothing
    m.reverse_redemption(p, "r1", now=T0)
    # lot-1 is back ahead of lot-2 (availability, then entry order), as a reload would put it
    assert [(d.lot, d.points) for d in m.redeem(p, 50, reference="r2", now=T0).draws] == [
        ("lot-1", 50)
    ]
    assert sum(e.points for e in m.entries) == sum(lot.remaining for lot in m.lots.values())


def test_restored_points_repay_a_debt_first() -> None:
    p = program(pending_period=timedelta(days=7), shortfall="debt")
    m = Membership.enroll(id="mem_1", program=p, customer_id="cus_1", now=T0)
    m.earn(p, EarnOrder.of("o1", Money("10000", "TWD")), now=T0)  # 100 points
    t1 = T0 + timedelta(days=7)
    m.redeem(p, 100, reference="r1", now=t1)
    m.reverse(p, order_id="o1", refund_id="rf1", refunded=Money("10000", "TWD"), now=t1)
    assert m.debt == 100
    m.reverse_redemption(p, "r1", now=t1)
    assert (m.debt, m.available(t1)) == (0, 0)


def test_points_for_and_payment_quote() -> None:
    p = program()
    assert points_for(p, Money("100", "TWD")) == 200
    q = quote_points_payment(p, CATALOG, 1000, Money("1000", "TWD"))
    assert (q.value, q.to_pay) == (Money("500", "TWD"), Money("500", "TWD"))
    with pytest.raises(RuleViolation, match="more than 50%"):
        quote_points_payment(p, CATALOG, 1002, Money("1000", "TWD"))
    with pytest.raises(RuleViolation, match="minimum is 100"):
        quote_points_payment(p, CATALOG, 99, Money("1000", "TWD"))
    with pytest.raises(ValidationError):
        quote_points_payment(p, CATALOG, 100, Money("1000", "USD"))


def test_pay_with_points_is_idempotent_and_reversible() -> None:
    p, m = program(), member()
    pay = pay_with_points(
        m, p, CATALOG, 400, order_total=Money("999", "TWD"), reference="pay_1", now=T0
    )
    assert (pay.value, pay.to_pay, m.available(T0)) == (
        Money("200", "TWD"),
        Money("799", "TWD"),
        600,
    )
    assert (
        pay_with_points(
            m, p, CATALOG, 400, order_total=Money("999", "TWD"), reference="pay_1", now=T0
        )
        == pay
    )
    assert m.available(T0) == 600
    reverse_reward(m, p, "pay_1", now=T0)
    assert m.available(T0) == 1000


@given(
    rate=st.decimals("0.001", "5", places=3),
    points=st.integers(1, 10**7),
)
def test_payment_never_pays_more_than_the_points_are_worth(rate: Decimal, points: int) -> None:
    p = program(point_value=Money(rate, "TWD"), min_redemption=1)
    catalog = RewardCatalog(program_id="club")
    total = Money("100000000", "TWD")
    q = quote_points_payment(p, catalog, points, total)
    exact = rate * points
    assert q.value.amount <= exact < q.value.amount + Decimal("0.01")
    assert q.to_pay + q.value == total
    # points_for is the fewest points that pay an amount
    need = points_for(p, q.value)
    assert (p.point_value * need).amount >= q.value.amount
    assert need == 1 or (p.point_value * (need - 1)).amount < q.value.amount


@given(seq=st.lists(st.tuples(st.sampled_from(["v100", "mug"]), st.booleans()), max_size=12))
def test_redeem_then_reverse_everything_restores_the_balance(
    seq: list[tuple[str, bool]],
) -> None:
    p, m = program(), member(5000)
    refs = []
    for i, (reward, reverse_now) in enumerate(seq):
        redeem_reward(m, p, CATALOG, reward, reference=f"rr_{i}", now=T0)
        refs.append(f"rr_{i}")
        if reverse_now:
            reverse_reward(m, p, f"rr_{i}", now=T0)
    for ref in refs:
        reverse_reward(m, p, ref, now=T0)
    assert m.available(T0) == 5000
    assert sum(e.points for e in m.entries) == sum(lot.remaining for lot in m.lots.values())
