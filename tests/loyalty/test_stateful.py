"""THE stateful test of a membership's ledger and tier against a naive model.

The model keeps a plain dict of lots and recomputes everything by scanning: which lots are
pending, which expire, which a redemption draws from (soonest expiry first, then the order
they became available), what a refund claws back, and the tier from the whole qualifying
history. Random earns, redemptions, partial refunds, adjustments, activities, grants, replays
and clock moves run against a real Membership; after every step:

* available == sum of remaining in live, non-pending lots (naive scan) - negative balance;
* it is never negative unless the program allows a negative balance;
* every lot holds what the model says, and the ledger sums to the lots;
* expired or pending points were never redeemed;
* the ledger only grows, and replaying a reference changes nothing;
* the tier equals what the naive qualifying history says (and what compute_tier says).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    precondition,
    rule,
)

from crmkit.errors import RuleViolation
from crmkit.kernel.money import Money
from crmkit.loyalty import (
    ActivityReward,
    BaseRate,
    EarnOrder,
    EarnRules,
    EntryKind,
    ExpiryPolicy,
    InsufficientPoints,
    LoyaltyProgram,
    Membership,
    QualifyingMetric,
    ShortfallPolicy,
    TierModel,
    TierPeriod,
    compute_tier,
)
from crmkit.loyalty.tiers import DowngradeMode
from crmkit.serialization import structure, unstructure
from crmkit.testing._loyalty_strategies import tier_models

START = datetime(2026, 1, 5, 10, 0, tzinfo=ZoneInfo("Asia/Taipei"))
NEVER = datetime.max.replace(tzinfo=ZoneInfo("UTC"))
ACTIVITY_POINTS = 20


# ----- the naive model -------------------------------------------------------------------------


@dataclass
class ModelLot:
    seq: int
    points: int
    remaining: int
    available_at: datetime
    expires_at: datetime | None
    order: int | None = None  # when it became available (FIFO within one expiry instant)


@dataclass
class ModelOrder:
    points: int
    spend: Decimal
    lot: str | None
    refunded: Decimal = Decimal(0)
    clawed: int = 0


@dataclass
class Ledger:
    """The naive ledger: lots in a dict, everything else by scanning them."""

    lots: dict[str, ModelLot] = field(default_factory=dict)
    as_of: datetime = START
    negative: int = 0
    debt: int = 0
    counter: int = 0

    def pending(self, lot: ModelLot) -> bool:
        return lot.order is None  # not made available yet

    def available_lots(self) -> list[tuple[str, ModelLot]]:
        live = [
            (lot_id, lot)
            for lot_id, lot in self.lots.items()
            if lot.remaining and not self.pending(lot)
        ]
        return sorted(live, key=lambda item: (item[1].expires_at or NEVER, item[1].order))

    def available(self) -> int:
        return sum(lot.remaining for _, lot in self.available_lots()) - self.negative

    def pending_total(self) -> int:
        return sum(lot.remaining for lot in self.lots.values() if self.pending(lot))

    def make_available(self, lot_id: str) -> None:
        self.counter += 1
        self.lots[lot_id].order = self.counter
        self.repay(lot_id)

    def repay(self, lot_id: str) -> None:
        lot = self.lots[lot_id]
        take = min(self.negative + self.debt, lot.remaining)
        negative = min(self.negative, take)
        self.negative -= negative
        self.debt -= take - negative
        lot.remaining -= take

    def advance(self, now: datetime) -> None:
        while True:
            due = []
            for lot_id, lot in self.lots.items():
                if not lot.remaining:
                    continue
                if self.pending(lot):
                    if lot.available_at <= now:
                        due.append((lot.available_at, 1, lot.seq, lot_id))
                elif lot.expires_at is not None and lot.expires_at <= now:
                    due.append((lot.expires_at, 0, lot.seq, lot_id))
            if not due:
                break
            at, kind, _seq, lot_id = min(due)
            self.as_of = max(self.as_of, at)
            if kind == 0:
                for lot in self.lots.values():
                    if lot.remaining and not self.pending(lot) and lot.expires_at == at:
                        lot.remaining = 0
            else:
                self.make_available(lot_id)
        self.as_of = max(self.as_of, now)

    def draw(self, points: int) -> list[tuple[str, int]]:
        draws = []
        for lot_id, lot in self.available_lots():
            if not points:
                break
            take = min(points, lot.remaining)
            lot.remaining -= take
            points -= take
            draws.append((lot_id, take))
        assert points == 0
        return draws

    def live(self) -> dict[str, int]:
        return {lot_id: lot.remaining for lot_id, lot in self.lots.items() if lot.remaining}


def naive_tier(
    model: TierModel,
    zone: ZoneInfo,
    enrolled_at: datetime,
    activities: list[tuple[datetime, Decimal]],
    grants: list[tuple[datetime, datetime | None, int]],
    now: datetime,
) -> tuple[str, list[tuple[datetime, str, str]]]:
    """The tier rules done the slow way: every window summed by a full scan.

    ``activities``: (at, value in the model's metric); ``grants``: (start, end, level).
    Returns the tier at ``now`` and the history as (at, to_tier, reason).
    """
    tiers = model.tiers
    local = enrolled_at.astimezone(zone)
    if model.period is TierPeriod.ANNIVERSARY:
        anchor = datetime(local.year, local.month, local.day, tzinfo=zone)
    else:
        anchor = datetime(local.year, 1, 1, tzinfo=zone)
    step = model.period_months
    boundaries = []
    k = 0
    while True:
        boundary = anchor + relativedelta(months=k * step)
        boundaries.append(boundary)
        if boundary > now + timedelta(days=400):
            break
        k += 1

    def level(value: Decimal) -> int:
        return max((i for i, tier in enumerate(tiers) if tier.threshold <= value), default=0)

    seen = 0  # activities recorded so far (a later one at the same instant is not yet known)

    def total(start: datetime, end: datetime, *, include_end: bool) -> Decimal:
        return sum(
            (
                value
                for at, value in activities[:seen]
                if start <= at and (at <= end if include_end else at < end)
            ),
            Decimal(0),
        )

    def period_start(when: datetime) -> datetime:
        return max(b for b in boundaries if b <= when)

    def upgrade_value(when: datetime) -> Decimal:
        if model.period is TierPeriod.ROLLING:
            return total(when - timedelta(days=model.rolling_days), when, include_end=True)
        return total(period_start(when), when, include_end=True)

    def lookback(when: datetime) -> Decimal:
        if model.period is TierPeriod.ROLLING:
            start = when - timedelta(days=model.rolling_days)
        elif model.downgrade is DowngradeMode.AT_EVALUATION:
            start = max(b for b in boundaries if b < when)
        else:
            start = when.astimezone(zone) - relativedelta(months=step)
        return total(start, when, include_end=False)

    def granted(when: datetime) -> int:
        active = [
            lvl for start, end, lvl in grants if start <= when and (end is None or when < end)
        ]
        return max(active, default=-1)

    def next_evaluation(after: datetime) -> datetime | None:
        if model.downgrade is DowngradeMode.NEVER:
            return None
        if model.downgrade is DowngradeMode.AFTER_DAYS:
            return after + timedelta(days=model.downgrade_after_days)
        return min(b for b in boundaries if b > after)

    computed, effective = 0, 0
    history = [(enrolled_at, tiers[0].id, "enrolled")]
    evaluation = next_evaluation(enrolled_at)
    cursor = enrolled_at

    def settle(when: datetime, before: int) -> None:
        nonlocal effective
        new = max(computed, granted(when))
        if new == effective:
            return
        if computed != before and new == computed:
            reason = "upgrade" if computed > before else "downgrade"
        else:
            reason = "grant" if new > effective else "grant_ended"
        effective = new
        history.append((when, tiers[new].id, reason))

    def run_until(until: datetime) -> None:
        nonlocal computed, evaluation, cursor
        settle(cursor, computed)
        while True:
            moments = [e for s, e, _ in grants for e in (s, e) if e is not None]
            edges = [m for m in moments if cursor < m <= until]
            if evaluation is not None and evaluation <= until:
                edges.append(evaluation)
            if not edges:
                break
            at = min(edges)
            before = computed
            if at == evaluation:
                target = level(lookback(at))
                if target < computed:
                    drop = model.max_levels_down
                    computed = target if drop is None else max(target, computed - drop)
                    changed[0] = at
                evaluation = next_evaluation(at)
            cursor = at
            settle(at, before)
        cursor = max(cursor, until)

    changed = [enrolled_at]
    for at, value in activities:
        run_until(at)
        seen += 1
        if value > 0:
            before = computed
            target = level(upgrade_value(at))
            if target > computed:
                computed = target
                changed[0] = at
                if model.downgrade is DowngradeMode.AFTER_DAYS:
                    evaluation = at + timedelta(days=model.downgrade_after_days)
            settle(at, before)
    run_until(now)
    return tiers[effective].id, history


def per_instant(history: Any) -> list[tuple[datetime, str]]:
    """(instant, tier at the end of it) for every instant the tier changed over."""
    out: list[tuple[datetime, str]] = []
    start: dict[datetime, str | None] = {}
    for change in history:
        start.setdefault(change.at, change.from_tier)
        if out and out[-1][0] == change.at:
            out.pop()
        if change.to_tier != start[change.at]:
            out.append((change.at, change.to_tier))
    return out


# ----- the machine ---------------------------------------------------------------------------


def _expiries() -> st.SearchStrategy[ExpiryPolicy]:
    return st.sampled_from(
        [
            ExpiryPolicy(),
            ExpiryPolicy(kind="rolling_months", months=1),
            ExpiryPolicy(kind="rolling_months", months=3),
            ExpiryPolicy(kind="end_of_following_year"),
        ]
    )


class MembershipMachine(RuleBasedStateMachine):
    orders = Bundle("orders")
    commands = Bundle("commands")

    @initialize(
        target=orders,
        first=st.integers(1000, 30_000),
        policy=st.sampled_from(list(ShortfallPolicy)),
        pending=st.sampled_from([0, 3, 14]),
        expiry=_expiries(),
        tiers=st.one_of(st.none(), tier_models()),
        zone=st.sampled_from(["Asia/Taipei", "America/New_York", "UTC"]),
    )
    def setup(
        self,
        policy: ShortfallPolicy,
        pending: int,
        expiry: ExpiryPolicy,
        tiers: TierModel | None,
        zone: str,
        first: int,
    ) -> tuple[str, int]:
        """A program, a membership of it, and a first order (so most runs have lots)."""
        self.program = LoyaltyProgram(
            id="club",
            name="Club",
            currency="TWD",
            time_zone=zone,
            point_value=Money("1", "TWD"),
            pending_period=timedelta(days=pending),
            expiry=expiry,
            shortfall=policy,
            earn=EarnRules(
                base=BaseRate(points=1, per=Money(10, "TWD")),
                activities=[ActivityReward(kind="review", name="Review", points=ACTIVITY_POINTS)],
            ),
            tiers=tiers,
        )
        self.now = START
        self.m = Membership.enroll(id="mem", program=self.program, customer_id="cus", now=START)
        self.model = Ledger()
        self.model_orders: dict[str, ModelOrder] = {}
        self.qualifying: list[tuple[datetime, int, Decimal, int]] = []
        self.grants: list[tuple[datetime, datetime | None, int]] = []
        self.seen_entries: list[Any] = []
        self.redemptions: dict[str, list[tuple[str, int]]] = {}
        self.n = 0
        return self.earn(first)

    # -- helpers ------------------------------------------------------------------------------

    def ref(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"

    def sync(self) -> None:
        """Advance the model to now (the membership advances itself inside each command)."""
        self.model.advance(self.now)

    def tier_level(self) -> int:
        if self.program.tiers is None:
            return 0
        return self.program.tiers.index(self.naive()[0])

    def naive(self) -> tuple[str, list[tuple[datetime, str, str]]]:
        model = self.program.tiers
        assert model is not None
        metric = model.metric
        values = []
        for at, points, spend, orders in self.qualifying:
            value = {
                QualifyingMetric.POINTS: Decimal(points),
                QualifyingMetric.SPEND: spend,
                QualifyingMetric.ORDERS: Decimal(orders),
            }[metric]
            values.append((at, value))
        return naive_tier(
            model, ZoneInfo(self.program.time_zone), START, values, self.grants, self.now
        )

    def earned_points(self, amount: int) -> int:
        exact = Decimal(amount) / 10
        points = int(exact.to_integral_value(ROUND_FLOOR))
        model = self.program.tiers
        if model is not None:
            multiplier = model.tiers[self.tier_level()].benefits.earn_multiplier
            if multiplier > 1:
                points += int((exact * (multiplier - 1)).to_integral_value(ROUND_FLOOR))
        return points

    def add_lot(self, seq: int, points: int, pending: bool) -> str:
        lot_id = f"lot-{seq}"
        self.model.lots[lot_id] = ModelLot(
            seq=seq,
            points=points,
            remaining=points,
            available_at=self.now + (self.program.pending_period if pending else timedelta(0)),
            expires_at=self.program.expires_at(self.now),
        )
        if self.model.lots[lot_id].available_at <= self.model.as_of:
            self.model.make_available(lot_id)
        return lot_id

    def snapshot(self) -> tuple[Any, ...]:
        return (
            len(self.m.entries),
            {k: lot.remaining for k, lot in self.m.lots.items()},
            self.m.negative,
            self.m.debt,
            len(self.m.pending_events),
            self.m.tier,
            len(self.m.tier_history),
        )

    # -- rules --------------------------------------------------------------------------------

    @rule(target=orders, amount=st.one_of(st.integers(0, 30_000), st.sampled_from([9, 10, 11])))
    def earn(self, amount: int) -> tuple[str, int]:
        # The tier the order earns with is the tier before the order (after time moved).
        if self.program.tiers is not None:
            self.m.advance(self.program, self.now)
        self.sync()
        points = self.earned_points(amount)
        order_id = self.ref("o")
        entry = self.m.earn(
            self.program, EarnOrder.of(order_id, Money(amount, "TWD")), now=self.now
        )
        assert entry.points == points
        lot = self.add_lot(entry.seq, points, pending=True) if points else None
        self.model_orders[order_id] = ModelOrder(points=points, spend=Decimal(amount), lot=lot)
        self.qualifying.append((self.now, points, Decimal(amount), 1))
        return order_id, amount

    @rule(order=orders, wait=st.booleans())
    def spend_everything_then_refund(self, order: tuple[str, int], wait: bool) -> None:
        """The refund-of-spent-points case: drain the balance, then refund the whole order."""
        if wait:
            self.tick(60 * 24 * 15)
        self.redeem(0)
        self.refund(order, 100)

    @rule(amount=st.integers(100, 30_000), days=st.integers(20, 800))
    def spend_part_then_let_it_expire(self, amount: int, days: int) -> None:
        """The expiry-after-spending case: only what is left of a lot may expire."""
        self.earn(amount)
        self.tick(60 * 24 * 15)
        self.redeem(max(self.model.available() // 2, 1))
        self.tick(60 * 24 * days)

    @rule(order=orders, other=st.booleans())
    def replay_earn(self, order: tuple[str, int], other: bool) -> None:
        order_id, amount = order
        before = self.snapshot()
        first = self.m.entry_for("earn", order_id)
        again = EarnOrder.of(order_id, Money(amount + (1 if other else 0), "TWD"))
        if other:
            with pytest.raises(RuleViolation):
                self.m.earn(self.program, again, now=self.now)
        else:
            assert self.m.earn(self.program, again, now=self.now) is first
        assert self.snapshot() == before

    @rule(
        target=commands,
        points=st.one_of(st.integers(1, 3000), st.integers(1, 30), st.sampled_from([0, -1])),
    )
    def redeem(self, points: int) -> Any:
        """Redeem ``points``; 0: everything available; -1: all but one point."""
        self.sync()
        reference = self.ref("r")
        available = self.model.available()
        if points <= 0:
            points = max(available + points, 1)
        if points > available:
            before_entries = len(self.m.entries)
            with pytest.raises(InsufficientPoints):
                self.m.redeem(self.program, points, reference=reference, now=self.now)
            # Only what time did (expiry, repayment entries) may have been recorded.
            assert all(
                e.kind in (EntryKind.EXPIRE, EntryKind.REPAY)
                for e in self.m.entries[before_entries:]
            )
            return None
        entry = self.m.redeem(self.program, points, reference=reference, now=self.now)
        draws = self.model.draw(points)
        assert [(d.lot, d.points) for d in entry.draws] == draws
        self.redemptions[reference] = draws
        for lot_id, _ in draws:  # never pending, never expired
            lot = self.model.lots[lot_id]
            assert lot.available_at <= self.now
            assert lot.expires_at is None or self.now < lot.expires_at
        return ("redeem", reference, points)

    @rule(order=orders, percent=st.sampled_from([1, 10, 33, 50, 100, 100, 150]))
    def refund(self, order: tuple[str, int], percent: int) -> None:
        order_id, _ = order
        state = self.model_orders[order_id]
        left = state.spend - state.refunded
        amount = (state.spend * percent / 100).quantize(Decimal("0.01"))
        if amount <= 0:
            return
        self.sync()
        refund_id = self.ref("rf")
        if amount > left:
            before = self.snapshot()
            with pytest.raises(RuleViolation):
                self.m.reverse(
                    self.program,
                    order_id=order_id,
                    refund_id=refund_id,
                    refunded=Money(amount, "TWD"),
                    now=self.now,
                )
            assert self.snapshot()[0] == before[0]  # no entry (the check is before time moves)
            return
        entry = self.m.reverse(
            self.program,
            order_id=order_id,
            refund_id=refund_id,
            refunded=Money(amount, "TWD"),
            now=self.now,
        )
        so_far = state.refunded + amount
        if so_far == state.spend:
            target = state.points
        else:
            target = int((state.points * so_far / state.spend).to_integral_value(ROUND_FLOOR))
        claw = target - state.clawed
        expected_draws = []
        rest = claw
        if state.lot is not None and rest:
            lot = self.model.lots[state.lot]
            own = min(rest, lot.remaining)
            if own:
                lot.remaining -= own
                expected_draws.append((state.lot, own))
                rest -= own
        available = sum(lot.remaining for _, lot in self.model.available_lots())
        if rest and available:
            expected_draws += self.model.draw(min(rest, available))
            rest -= min(rest, available)
        policy = self.program.shortfall
        if policy is ShortfallPolicy.NEGATIVE_BALANCE:
            self.model.negative += rest
        elif policy is ShortfallPolicy.DEBT:
            self.model.debt += rest
        assert [(d.lot, d.points) for d in entry.draws if d.points] == [
            d for d in expected_draws if d[1]
        ]
        assert entry.written_off == (rest if policy is ShortfallPolicy.WRITE_OFF else 0)
        state.refunded = so_far
        state.clawed += claw
        assert state.clawed <= state.points
        self.qualifying.append((self.now, -claw, -amount, -1 if so_far == state.spend else 0))

    @rule(target=commands, points=st.integers(-500, 500).filter(bool))
    def adjust(self, points: int) -> Any:
        self.sync()
        reference = self.ref("a")
        if points < 0 and -points > self.model.available():
            with pytest.raises(InsufficientPoints):
                self.m.adjust(
                    self.program,
                    points,
                    reference=reference,
                    reason="fix",
                    actor="u1",
                    now=self.now,
                )
            return None
        entry = self.m.adjust(
            self.program, points, reference=reference, reason="fix", actor="u1", now=self.now
        )
        if points > 0:
            self.add_lot(entry.seq, points, pending=False)
        else:
            assert [(d.lot, d.points) for d in entry.draws] == self.model.draw(-points)
        return ("adjust", reference, points)

    @precondition(lambda self: bool(self.redemptions))
    @rule(data=st.data())
    def reverse_redemption(self, data: st.DataObject) -> None:
        """A reversed redemption gives its points back; lots that expired stay expired."""
        reference = data.draw(st.sampled_from(sorted(self.redemptions)))
        self.sync()
        first = self.m.entry_for("restore", reference)
        if first is not None:
            before = self.snapshot()
            assert self.m.reverse_redemption(self.program, reference, now=self.now) is first
            assert self.snapshot() == before
            return
        entry = self.m.reverse_redemption(self.program, reference, now=self.now)
        expected = []
        for lot_id, points in self.redemptions[reference]:
            lot = self.model.lots[lot_id]
            if lot.expires_at is not None and lot.expires_at <= self.now:
                continue  # expired meanwhile: stays expired
            lot.remaining += points
            expected.append((lot_id, points))
        assert [(d.lot, d.points) for d in entry.draws] == expected
        assert entry.points == sum(p for _, p in expected)
        for lot_id, _ in expected:
            self.model.repay(lot_id)

    @rule()
    def activity(self) -> None:
        self.sync()
        entry = self.m.reward_activity(
            self.program, "review", reference=self.ref("rev"), now=self.now
        )
        self.add_lot(entry.seq, ACTIVITY_POINTS, pending=False)
        self.qualifying.append((self.now, ACTIVITY_POINTS, Decimal(0), 0))

    @rule(command=commands, other=st.booleans())
    def replay(self, command: Any, other: bool) -> None:
        if command is None:
            return
        kind, reference, points = command
        before = self.snapshot()
        first = self.m.entry_for(kind, reference)
        assert first is not None
        changed = points + 1 if other else points
        if kind == "redeem":
            call = lambda: self.m.redeem(self.program, changed, reference=reference, now=self.now)  # noqa: E731
        else:
            call = lambda: self.m.adjust(  # noqa: E731
                self.program,
                changed or 1,
                reference=reference,
                reason="fix",
                actor="u1",
                now=self.now,
            )
        if other:
            with pytest.raises(RuleViolation):
                call()
        else:
            assert call() is first
        assert self.snapshot() == before

    @precondition(lambda self: self.program.tiers is not None)
    @rule(level=st.integers(0, 3), days=st.one_of(st.none(), st.integers(1, 200)))
    def grant(self, level: int, days: int | None) -> None:
        model = self.program.tiers
        assert model is not None
        level = min(level, len(model.tiers) - 1)
        until = None if days is None else self.now + timedelta(days=days)
        self.m.grant_tier(
            self.program,
            model.tiers[level].id,
            reference=self.ref("g"),
            reason="courtesy",
            actor="u1",
            now=self.now,
            until=until,
        )
        self.grants.append((self.now, until, level))

    @rule(
        minutes=st.one_of(
            st.integers(0, 60 * 24 * 3),
            st.integers(0, 60 * 24 * 40),
            st.integers(0, 60 * 24 * 400),
        )
    )
    def tick(self, minutes: int) -> None:
        self.now = self.now + timedelta(minutes=minutes)
        self.sync()

    @rule()
    def back_in_time(self) -> None:
        if self.m.as_of > START:
            with pytest.raises(RuleViolation):
                self.m.available(self.m.as_of - timedelta(seconds=1))

    @rule()
    def reload(self) -> None:
        """Store and load the membership: the rebuilt index answers the same."""
        events = self.m.pull_events()
        data = unstructure(self.m)
        loaded = structure(data, Membership)
        assert loaded == self.m
        assert loaded.balance(self.m.as_of) == self.m.balance(self.m.as_of)
        self.m = loaded
        assert events is not None

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def balances_match_the_naive_scan(self) -> None:
        self.sync()
        balance = self.m.balance(self.now)
        assert balance.available == self.model.available()
        assert balance.pending == self.model.pending_total()
        assert (balance.negative, balance.debt) == (self.model.negative, self.model.debt)
        scanned = sum(
            lot.remaining
            for lot in self.m.lots.values()
            if lot.available_at <= self.now
            and (lot.expires_at is None or self.now < lot.expires_at)
        )
        assert balance.available == scanned - self.m.negative

    @invariant()
    def never_negative_unless_allowed(self) -> None:
        if self.program.shortfall is not ShortfallPolicy.NEGATIVE_BALANCE:
            assert self.m.available(self.now) >= 0
            assert self.m.negative == 0
        if self.program.shortfall is not ShortfallPolicy.DEBT:
            assert self.m.debt == 0

    @invariant()
    def lots_match_and_the_ledger_balances(self) -> None:
        assert {k: lot.remaining for k, lot in self.m.lots.items()} == self.model.live()
        held = sum(lot.remaining for lot in self.m.lots.values())
        assert sum(e.points for e in self.m.entries) == held
        assert sum(e.negative for e in self.m.entries) == self.m.negative
        assert sum(e.debt for e in self.m.entries) == self.m.debt

    @invariant()
    def the_ledger_only_grows(self) -> None:
        entries = self.m.entries
        assert entries[: len(self.seen_entries)] == self.seen_entries
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        self.seen_entries = list(entries)

    @invariant()
    def the_tier_is_what_the_history_says(self) -> None:
        model = self.program.tiers
        if model is None:
            assert self.m.tier is None
            return
        status = self.m.tier_status(self.program, self.now)
        tier, history = self.naive()
        assert status.tier == self.m.tier == tier
        pure = compute_tier(
            model,
            self.m.qualifying,
            enrolled_at=START,
            now=self.now,
            time_zone=self.program.time_zone,
            grants=self.m.grants,
        )
        assert pure.tier == tier
        assert [(c.at, c.to_tier, c.reason.value) for c in pure.history] == history
        # Commands at one instant may interleave a grant with activities in another order
        # than the replay does; the tier at the end of every instant is the same.
        assert per_instant(self.m.tier_history) == per_instant(pure.history)


MembershipMachine.TestCase.settings = settings(deadline=None, stateful_step_count=80)
TestMembership = MembershipMachine.TestCase


_ = consumes  # (imported for readers extending the machine)
