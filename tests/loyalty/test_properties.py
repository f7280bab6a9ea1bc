"""Properties of the earn rules, the ledger and the tiers, over generated programs and histories."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from crmkit.kernel.money import Money
from crmkit.loyalty import (
    BaseRate,
    ContributionKind,
    EarnLine,
    EarnOrder,
    EarnRules,
    EntryKind,
    LoyaltyProgram,
    MemberContext,
    Membership,
    QualifyingActivity,
    ShortfallPolicy,
    compute_earn,
    compute_tier,
)
from crmkit.serialization import from_json, structure, to_json, unstructure
from crmkit.testing._loyalty_strategies import (
    START,
    LoyaltyScenario,
    earn_orders,
    loyalty_programs,
    loyalty_scenarios,
    tier_models,
)

contexts = st.builds(
    MemberContext,
    first_order=st.booleans(),
    birth_month=st.one_of(st.none(), st.integers(1, 12)),
    birthday_points_given=st.booleans(),
    earned_today=st.integers(0, 20_000),
)


@st.composite
def earn_cases(draw: st.DrawFn) -> tuple[LoyaltyProgram, EarnOrder, MemberContext, datetime]:
    program = draw(loyalty_programs())
    order = draw(earn_orders())
    member = draw(contexts)
    if program.tiers is not None:
        member = MemberContext(
            tier=draw(st.sampled_from([t.id for t in program.tiers.tiers])),
            first_order=member.first_order,
            birth_month=member.birth_month,
            birthday_points_given=member.birthday_points_given,
            earned_today=member.earned_today,
        )
    now = START + timedelta(days=draw(st.integers(0, 120)), minutes=draw(st.integers(0, 1440)))
    return program, order, member, now


@given(earn_cases())
def test_a_breakdown_adds_up_is_never_negative_and_respects_the_caps(case) -> None:
    program, order, member, now = case

    b = compute_earn(program, order, member, now)

    assert b.total == sum(c.points for c in b.contributions) >= 0
    assert all(c.points >= 0 for c in b.contributions if c.kind is not ContributionKind.CAP)
    caps = program.earn.caps
    if caps.per_order is not None:
        assert b.total <= caps.per_order
    if caps.per_day is not None:
        assert b.total <= max(0, caps.per_day - member.earned_today)
    assert compute_earn(program, order, member, now) == b  # pure


@given(earn_cases(), st.integers(1, 100_000))
def test_more_spend_never_earns_fewer_base_points(case, extra: int) -> None:
    program, order, member, now = case
    last = order.lines[-1]
    grown = EarnLine(amount=last.amount + Money(extra, "TWD"), category=last.category)
    bigger = EarnOrder(id=order.id, lines=[*order.lines[:-1], grown])

    def base(o: EarnOrder) -> int:
        found = compute_earn(program, o, member, now).contribution("base")
        assert found is not None
        return found.points

    assert base(bigger) >= base(order)


@given(
    st.integers(1, 1_000_000),
    st.lists(st.integers(1, 100), min_size=1, max_size=6),
    st.booleans(),
)
def test_partial_refunds_never_claw_back_more_than_the_order_earned(
    amount: int, parts: list[int], finish: bool
) -> None:
    program = LoyaltyProgram(
        id="p",
        name="P",
        currency="TWD",
        time_zone="UTC",
        point_value=Money("1", "TWD"),
        earn=EarnRules(base=BaseRate(per=Money(100, "TWD"))),
        shortfall=ShortfallPolicy.DEBT,
    )
    m = Membership.enroll(id="m", program=program, customer_id="c", now=START)
    earned = m.earn(program, EarnOrder.of("o", Money(amount, "TWD")), now=START).points
    spend = Decimal(amount)
    weights = Decimal(sum(parts)) * (1 if finish else 2)
    refunds = [(spend * p / weights).quantize(Decimal("0.01")) for p in parts]
    if finish:
        refunds[-1] = spend - sum(refunds[:-1])
    clawed = 0
    for i, refund in enumerate(refunds):
        if refund <= 0:
            continue
        entry = m.reverse(
            program, order_id="o", refund_id=f"rf_{i}", refunded=Money(refund, "TWD"), now=START
        )
        clawed += -entry.points + entry.debt
        so_far = sum(r for r in refunds[: i + 1] if r > 0)
        # Cumulative: floor(earned x refunded so far / spend), exactly.
        assert clawed == (earned if so_far == spend else int(earned * so_far // spend))
    assert clawed <= earned
    if finish:
        assert clawed == earned
        assert m.balance(START).total == 0


@given(loyalty_scenarios())
def test_every_history_keeps_the_ledger_identities(s: LoyaltyScenario) -> None:
    m = s.membership
    held = sum(lot.remaining for lot in m.lots.values())

    assert sum(e.points for e in m.entries) == held
    assert sum(e.debt for e in m.entries) == m.debt
    assert sum(e.negative for e in m.entries) == m.negative
    balance = m.balance(s.now)
    assert balance.available + balance.pending == held - m.negative
    if s.program.shortfall is not ShortfallPolicy.NEGATIVE_BALANCE:
        assert balance.available >= 0
    # Expiry only ever takes what is left of a lot, never more than the lot earned.
    for entry in m.entries:
        if entry.kind is EntryKind.EXPIRE:
            assert entry.points == -sum(d.points for d in entry.draws) < 0


@given(loyalty_scenarios(), st.integers(0, 800))
def test_time_passing_only_expires_what_was_due_and_repays(s: LoyaltyScenario, days: int) -> None:
    m = s.membership
    later = s.now + timedelta(days=days)
    due = m.expiring_before(later, now=s.now)
    owed = m.debt + m.negative
    seen = len(m.entries)

    after = m.balance(later)

    new = m.entries[seen:]
    assert {e.kind for e in new} <= {EntryKind.EXPIRE, EntryKind.REPAY}
    expired = -sum(e.points for e in new if e.kind is EntryKind.EXPIRE)
    repaid = -sum(e.points for e in new if e.kind is EntryKind.REPAY)
    assert repaid <= owed
    # What expires is what was due, less what repaid a debt before its expiry.
    assert due - repaid <= expired <= due
    if s.program.shortfall is not ShortfallPolicy.NEGATIVE_BALANCE:
        assert after.available >= 0


@given(loyalty_scenarios())
def test_memberships_round_trip_and_answer_the_same(s: LoyaltyScenario) -> None:
    m = s.membership

    back = from_json(to_json(m), Membership)

    assert back == m
    assert structure(unstructure(m), Membership) == m
    later = s.now + timedelta(days=45)
    assert back.balance(later) == m.balance(later)
    if s.program.tiers is not None:
        assert back.tier_status(s.program, later) == m.tier_status(s.program, later)


@given(loyalty_programs())
def test_programs_round_trip(program: LoyaltyProgram) -> None:
    assert from_json(to_json(program), LoyaltyProgram) == program


@given(loyalty_scenarios(), st.data())
def test_replaying_any_reference_changes_nothing(s: LoyaltyScenario, data: st.DataObject) -> None:
    m = s.membership
    replayable = [e for e in m.entries if e.kind in (EntryKind.REDEEM, EntryKind.ADJUST)]
    assume(replayable)
    entry = data.draw(st.sampled_from(replayable))
    before = unstructure(m)

    if entry.kind is EntryKind.REDEEM:
        again = m.redeem(s.program, -entry.points, reference=entry.reference, now=s.now)
    else:
        again = m.adjust(
            s.program,
            entry.points,
            reference=entry.reference,
            reason=entry.reason or "",
            actor=entry.actor or "",
            now=s.now,
        )

    assert again is entry
    assert unstructure(m) == before


@given(loyalty_scenarios())
def test_the_membership_tier_is_the_pure_tier_of_its_history(s: LoyaltyScenario) -> None:
    assume(s.program.tiers is not None)
    m = s.membership
    status = m.tier_status(s.program, s.now)

    pure = compute_tier(
        s.program.tiers,  # type: ignore[arg-type]
        m.qualifying,
        enrolled_at=m.enrolled_at,
        now=s.now,
        time_zone=s.program.time_zone,
        grants=m.grants,
    )

    assert pure.tier == status.tier
    assert pure.computed_tier == status.computed_tier
    assert list(pure.history) == m.tier_history  # no grants in these histories: no ties


@given(tier_models(), st.lists(st.tuples(st.integers(0, 700), st.integers(-50, 400)), max_size=12))
def test_the_tier_is_never_below_what_no_evaluation_could_lower(model, items) -> None:
    history = sorted(
        (
            QualifyingActivity(at=START + timedelta(days=d), points=n, spend=n, orders=n % 3)
            for d, n in items
        ),
        key=lambda a: a.at,
    )
    end = START + timedelta(days=701)
    status = compute_tier(model, history, enrolled_at=START, now=end, time_zone="Asia/Taipei")

    levels = [model.index(c.to_tier) for c in status.history]
    assert status.tier == status.computed_tier  # no grants
    if model.downgrade.value == "never":
        assert levels == sorted(levels)  # only ever up
    if model.max_levels_down == 1:
        assert all(b >= a - 1 for a, b in itertools.pairwise(levels))  # soft landing
