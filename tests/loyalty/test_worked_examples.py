"""Worked examples with hand-checked numbers (the arithmetic is in the comments).

The program in all of them, unless a test says otherwise: Tea Club, TWD, Asia/Taipei,
1 point per NT$100 rounded down, every lot a separate line of the ledger.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crmkit.errors import RuleViolation
from crmkit.kernel.money import Money
from crmkit.loyalty import (
    BaseRate,
    BirthdayBonus,
    EarnOrder,
    EarnRules,
    EntryKind,
    ExpiryPolicy,
    LoyaltyProgram,
    Membership,
    ShortfallPolicy,
    Tier,
    TierBenefits,
    TierModel,
    compute_tier,
)
from crmkit.loyalty.events import PointsEarned

TPE = ZoneInfo("Asia/Taipei")


def twd(amount: str | int) -> Money:
    return Money(str(amount), "TWD")


def at(y: int, m: int, d: int, hh: int = 12, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TPE)


def club(**overrides: object) -> LoyaltyProgram:
    fields: dict[str, object] = {
        "id": "tea_club",
        "name": "Tea Club",
        "currency": "TWD",
        "time_zone": "Asia/Taipei",
        "point_value": twd("0.5"),
        "earn": EarnRules(base=BaseRate(points=1, per=twd(100))),
    }
    fields.update(overrides)
    return LoyaltyProgram(**fields)  # type: ignore[arg-type]


# ----- 1. a year of purchases, with a tier upgrade mid-year -------------------------------------


def year_program() -> LoyaltyProgram:
    return club(
        pending_period=timedelta(days=14),
        expiry=ExpiryPolicy(kind="rolling_months", months=12),
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
                    benefits=TierBenefits(earn_multiplier=2, free_shipping=True),
                ),
            ],
        ),
    )


def test_a_year_of_purchases_with_a_tier_upgrade_mid_year() -> None:
    program = year_program()
    m = Membership.enroll(id="mem_amy", program=program, customer_id="cus_amy", now=at(2026, 1, 5))

    def buy(order_id: str, amount: int, when: datetime) -> int:
        return m.earn(program, EarnOrder.of(order_id, twd(amount)), now=when).points

    # Jan 10: NT$4,800 as Member: 4800 / 100 = 48 points. Spend this year: 4,800.
    assert buy("o_0110", 4800, at(2026, 1, 10)) == 48
    # Mar 3: NT$6,250, still Member when ordering: 62.5 -> 62. Spend 11,050 >= 10,000: Silver.
    assert buy("o_0303", 6250, at(2026, 3, 3)) == 62
    assert m.tier == "silver"
    # May 20: NT$8,999 as Silver: base 89.99 -> 89; x1.5 adds 89.99 x 0.5 = 44.995 -> 44;
    # 89 + 44 = 133. Spend 20,049.
    assert buy("o_0520", 8999, at(2026, 5, 20)) == 133
    # Jul 8: NT$12,000 as Silver: 120 + 60 = 180. Spend 32,049 >= 30,000: Gold.
    assert buy("o_0708", 12000, at(2026, 7, 8)) == 180
    assert m.tier == "gold"

    # Aug 1: every lot so far is past its 14 pending days: 48 + 62 + 133 + 180 = 423.
    assert m.available(at(2026, 8, 1)) == 423
    # Redeem 200 for a tea set: soonest expiry first: Jan lot 48, Mar lot 62, then 90 of May's.
    redemption = m.redeem(program, 200, reference="rdm_teaset", now=at(2026, 8, 1))
    assert [(d.lot, d.points) for d in redemption.draws] == [
        ("lot-1", 48),
        ("lot-2", 62),
        ("lot-3", 90),
    ]
    assert m.available(at(2026, 8, 1)) == 223  # 423 - 200
    assert m.tier == "gold"  # redeeming never demotes

    # Oct 1: NT$5,000 as Gold: 50 + 50 = 100. Dec 24: NT$2,000: 20 + 20 = 40.
    assert buy("o_1001", 5000, at(2026, 10, 1)) == 100
    assert buy("o_1224", 2000, at(2026, 12, 24)) == 40

    # Dec 31: 223 + 100 available; Dec 24's 40 pending until Jan 7.
    balance = m.balance(at(2026, 12, 31))
    assert (balance.available, balance.pending) == (323, 40)
    # 48 + 62 + 133 + 180 + 100 + 40 = 563 earned; 200 spent.
    earned = sum(e.points for e in m.entries if e.kind is EntryKind.EARN)
    assert (earned, balance.total) == (563, 363)

    # Jan 1 2027 the year is evaluated: 2026 spend 4,800 + 6,250 + 8,999 + 12,000 + 5,000
    # + 2,000 = 39,049 >= 30,000, so Gold stays for 2027.
    status = m.tier_status(program, at(2027, 1, 2))
    assert status.tier == "gold"
    assert status.next_evaluation == datetime(2028, 1, 1, tzinfo=TPE)
    assert [(c.at.date(), c.to_tier, c.reason.value, c.value) for c in m.tier_history] == [
        (date(2026, 1, 5), "member", "enrolled", None),
        (date(2026, 3, 3), "silver", "upgrade", Decimal(11050)),
        (date(2026, 7, 8), "gold", "upgrade", Decimal(32049)),
    ]
    # The pure function says the same from the qualifying history.
    pure = compute_tier(
        program.tiers,  # type: ignore[arg-type]
        m.qualifying,
        enrolled_at=at(2026, 1, 5),
        now=at(2027, 1, 2),
        time_zone="Asia/Taipei",
    )
    assert (pure.tier, list(pure.history)) == ("gold", m.tier_history)

    # Jan 11 2027 00:00 the Jan 10 lot's expiry comes: it was fully spent, nothing expires.
    # Mar 4 2027 00:00 the Mar 3 lot's expiry comes: also spent. May's lot keeps its
    # 133 - 90 = 43 until 2027-05-21 00:00.
    assert m.expiring_before(datetime(2027, 5, 21, tzinfo=TPE), now=at(2027, 1, 11)) == 43
    assert m.available(datetime(2027, 5, 21, tzinfo=TPE)) == 363 - 43
    expired = [e for e in m.entries if e.kind is EntryKind.EXPIRE]
    assert [(e.at, e.points) for e in expired] == [(datetime(2027, 5, 21, tzinfo=TPE), -43)]


# ----- 2. a partial refund's clawback ----------------------------------------------------------


def test_partial_refunds_claw_back_in_proportion_and_add_up_to_the_order() -> None:
    program = club(pending_period=timedelta(days=14), shortfall=ShortfallPolicy.DEBT)
    m = Membership.enroll(id="mem_bo", program=program, customer_id="cus_bo", now=at(2026, 3, 1))
    # A welcome gift of 5 points, available at once.
    m.adjust(
        program, 5, reference="adj_welcome", reason="welcome", actor="u_amy", now=at(2026, 3, 1)
    )
    # NT$2,599 -> 25.99 -> 25 points, pending until Mar 16.
    assert m.earn(program, EarnOrder.of("o_1", twd(2599)), now=at(2026, 3, 2)).points == 25

    # Mar 5: NT$1,000 of it is refunded: floor(25 x 1000 / 2599) = floor(9.619) = 9 points,
    # taken from the order's own (still pending) lot: 25 -> 16.
    first = m.reverse(
        program, order_id="o_1", refund_id="rf_1", refunded=twd(1000), now=at(2026, 3, 5)
    )
    assert (first.points, [(d.lot, d.points) for d in first.draws]) == (-9, [("lot-2", 9)])
    assert m.balance(at(2026, 3, 5)).pending == 16

    # Mar 20: 16 + 5 available; redeem 10: soonest expiry first (no expiry: FIFO), so the
    # welcome lot's 5, then 5 of the order's: the order's lot keeps 11.
    m.redeem(program, 10, reference="rdm_1", now=at(2026, 3, 20))
    assert {k: lot.remaining for k, lot in m.lots.items()} == {"lot-2": 11}

    # Mar 25: the other NT$1,599 is refunded: 2,599 in all, the whole order: 25 points in
    # all, 25 - 9 = 16 more. The order's lot has 11, nothing else is available: shortfall 5,
    # a debt under this program.
    second = m.reverse(
        program, order_id="o_1", refund_id="rf_2", refunded=twd(1599), now=at(2026, 3, 25)
    )
    assert (second.points, second.debt) == (-11, 5)
    balance = m.balance(at(2026, 3, 25))
    assert (balance.available, balance.debt) == (0, 5)
    # 9 + (11 from lots + 5 owed) = 25: the two refunds together take exactly the order's points.
    assert -first.points + (-second.points + second.debt) == 25

    # A third refund would exceed the order: refused, nothing recorded.
    entries = len(m.entries)
    with pytest.raises(RuleViolation, match="more than its eligible spend"):
        m.reverse(program, order_id="o_1", refund_id="rf_3", refunded=twd(1), now=at(2026, 3, 26))
    assert len(m.entries) == entries

    # The next order's 10 points pay the debt of 5 when they become available (Apr 15).
    m.earn(program, EarnOrder.of("o_2", twd(1000)), now=at(2026, 4, 1))
    balance = m.balance(at(2026, 4, 15))
    assert (balance.available, balance.debt) == (5, 0)
    repay = m.entries[-1]
    assert (repay.kind, repay.points, repay.debt) == (EntryKind.REPAY, -5, -5)


# ----- 3. points expiring on schedule ----------------------------------------------------------


def test_points_expire_on_schedule_and_only_what_is_left_of_a_lot() -> None:
    program = club(expiry=ExpiryPolicy(kind="rolling_months", months=12))
    m = Membership.enroll(id="mem_cy", program=program, customer_id="cus_cy", now=at(2026, 3, 1))
    # Mar 15 2026 15:00: 120 points; 12 months later, at the end of that day: the lot expires
    # at 2027-03-16 00:00 Taipei time.
    lot = m.earn(program, EarnOrder.of("o_1", twd(12000)), now=at(2026, 3, 15, 15)).lot
    assert m.lots[lot or ""].expires_at == datetime(2027, 3, 16, tzinfo=TPE)
    # Jun 1: 100 of it is spent. Sep 1: 50 more points (expire 2027-09-02 00:00).
    m.redeem(program, 100, reference="rdm_1", now=at(2026, 6, 1))
    m.earn(program, EarnOrder.of("o_2", twd(5000)), now=at(2026, 9, 1))

    # The 30-day warning on 2027-02-20: 20 points expire by 2027-03-22.
    assert m.expiring_before(at(2027, 3, 22), now=at(2027, 2, 20)) == 20
    # A second before midnight they are still there; at midnight only the 20 left expire.
    assert m.available(datetime(2027, 3, 15, 23, 59, 59, tzinfo=TPE)) == 70
    assert m.available(datetime(2027, 3, 16, tzinfo=TPE)) == 50
    expiry = m.entries[-1]
    assert (expiry.kind, expiry.points, [(d.lot, d.points) for d in expiry.draws]) == (
        EntryKind.EXPIRE,
        -20,
        [("lot-1", 20)],
    )
    assert expiry.at == datetime(2027, 3, 16, tzinfo=TPE)
    # 120 earned - 100 spent - 20 expired + 50 earned = 50: the spent points were not taken again.
    assert sum(e.points for e in m.entries) == 50


def test_end_of_following_year_expiry_counts_in_the_program_time_zone() -> None:
    program = club(expiry=ExpiryPolicy(kind="end_of_following_year"))
    m = Membership.enroll(id="m", program=program, customer_id="c", now=at(2026, 1, 1))
    # 2026-12-31 23:30 in Taipei is still 2026 there (it is 15:30 UTC): expires when 2027 ends.
    entry = m.earn(program, EarnOrder.of("o_1", twd(1000)), now=at(2026, 12, 31, 23, 30))
    assert m.lots[entry.lot or ""].expires_at == datetime(2028, 1, 1, tzinfo=TPE)
    # Ten minutes later it is 2027 in Taipei: a lot from then lasts until the end of 2028.
    entry = m.earn(program, EarnOrder.of("o_2", twd(1000)), now=at(2027, 1, 1, 0, 10))
    assert m.lots[entry.lot or ""].expires_at == datetime(2029, 1, 1, tzinfo=TPE)


# ----- 4. a birthday bonus ---------------------------------------------------------------------


def test_birthday_month_doubles_points_and_gives_the_gift_once_a_year() -> None:
    program = club(
        earn=EarnRules(
            base=BaseRate(points=1, per=twd(100)),
            birthday=BirthdayBonus(multiplier=2, points=100),
        )
    )
    m = Membership.enroll(
        id="m",
        program=program,
        customer_id="c",
        now=at(2026, 1, 1),
        birthday=date(1990, 5, 17),
    )
    # 2026-04-30 17:30 UTC is May 1 01:30 in Taipei: the birthday month has begun there.
    may_first = datetime(2026, 4, 30, 17, 30, tzinfo=ZoneInfo("UTC"))
    # NT$1,500: base 15, x2 adds 15, the gift 100: 130.
    first = m.earn(program, EarnOrder.of("o_1", twd(1500)), now=may_first)
    assert first.points == 130
    # May 20, NT$800: 8 + 8; the gift was given this year: 16.
    assert m.earn(program, EarnOrder.of("o_2", twd(800)), now=at(2026, 5, 20)).points == 16
    # June 2: no birthday: 8.
    assert m.earn(program, EarnOrder.of("o_3", twd(800)), now=at(2026, 6, 2)).points == 8
    # Next May, the gift again: 8 + 8 + 100 = 116.
    assert m.earn(program, EarnOrder.of("o_4", twd(800)), now=at(2027, 5, 3)).points == 116
    # The breakdown names the rules (the event carries it).
    earned = next(e for e in m.pending_events if isinstance(e, PointsEarned))
    # o_1's breakdown: the base and the birthday rule (15 doubled + the 100 gift).
    assert [(c.rule, c.points) for c in earned.breakdown.contributions] == [
        ("base", 15),
        ("birthday", 115),
    ]


# ----- 5. a downgrade with a soft landing ------------------------------------------------------


def points_tiers(max_levels_down: int | None = 1) -> TierModel:
    return TierModel(
        metric="points",
        period="calendar",
        max_levels_down=max_levels_down,
        tiers=[
            Tier(id="member", name="Member", threshold=0),
            Tier(id="silver", name="Silver", threshold=500),
            Tier(id="gold", name="Gold", threshold=1500),
            Tier(id="platinum", name="Platinum", threshold=3000),
        ],
    )


def test_a_downgrade_lands_softly_one_level_per_evaluation() -> None:
    program = club(tiers=points_tiers())
    m = Membership.enroll(id="m", program=program, customer_id="c", now=at(2026, 1, 2))
    # 2026: NT$320,000 -> 3,200 points >= 3,000: Platinum at once.
    m.earn(program, EarnOrder.of("o_2026", twd(320_000)), now=at(2026, 2, 1))
    assert m.tier == "platinum"
    # Spending the points does not demote: qualifying points are not the balance.
    m.redeem(program, 3200, reference="rdm_all", now=at(2026, 2, 2))
    assert m.tier == "platinum"
    # 2027: NT$60,000 -> 600 points. Jan 1 2027 judged 2026 (3,200): Platinum stays.
    m.earn(program, EarnOrder.of("o_2027", twd(60_000)), now=at(2027, 6, 1))
    assert m.tier_status(program, at(2027, 12, 31)).tier == "platinum"
    # Jan 1 2028 judges 2027: 600 earns Silver, but the landing is soft: one level, to Gold.
    assert m.tier_status(program, at(2028, 1, 1, 0, 0)).tier == "gold"
    # 2028: nothing. Jan 1 2029 judges 0 points: Member earned, one level down: Silver.
    assert m.tier_status(program, at(2029, 1, 1, 0, 0)).tier == "silver"
    assert [(c.at, c.to_tier, c.reason.value, c.value) for c in m.tier_history[1:]] == [
        (at(2026, 2, 1), "platinum", "upgrade", Decimal(3200)),
        (datetime(2028, 1, 1, tzinfo=TPE), "gold", "downgrade", Decimal(600)),
        (datetime(2029, 1, 1, tzinfo=TPE), "silver", "downgrade", Decimal(0)),
    ]


def test_without_a_soft_landing_the_downgrade_goes_straight_to_the_earned_tier() -> None:
    program = club(tiers=points_tiers(max_levels_down=None))
    m = Membership.enroll(id="m", program=program, customer_id="c", now=at(2026, 1, 2))
    m.earn(program, EarnOrder.of("o_2026", twd(320_000)), now=at(2026, 2, 1))
    m.earn(program, EarnOrder.of("o_2027", twd(60_000)), now=at(2027, 6, 1))
    # Jan 1 2028 judges 2027's 600 points: Silver, two levels down at once.
    assert m.tier_status(program, at(2028, 1, 2)).tier == "silver"
