"""Points ledger costs: crmkit's live-lot index vs a naive full scan of the ledger.

Run: ``python benchmarks/loyalty.py [--sizes 10000 100000 1000000] [--rounds 5] [--quick]``
(``--quick``: 10k and 100k entries, 10k orders).

For each size a member's ledger is built through the writer (``Membership.earn`` and
``Membership.redeem``, with time moving forward so pending lots mature and year-old lots expire)
until it holds that many entries. Then, side by side in one run:

* ``balance``: the points available at ``now`` (a new ``now`` every call, a microsecond later:
  no call can reuse the previous one's answer by identity).
  ``crmkit``: ``Membership.available(now)`` and ``Membership.balance(now)`` (available,
  pending, debt); ``full scan``: replay every entry to find what is left of each lot, then add
  up the lots that are available at ``now``: the reference point, what a ledger without an
  index has to do.
* ``redeem``: spend 3 points, soonest-expiring lots first, recording which lots it drew from.
  ``crmkit``: ``Membership.redeem`` (a new entry, the draws, the event, idempotency on the
  reference); ``full scan``: the same replay, then the available lots sorted by expiry and
  drawn from (it computes the draws only; it records nothing).

Both contenders must agree on the balance and on which lots the first redemption draws from
before anything is timed. Rounds interleave the contenders and the best round of each is
reported in microseconds per call, with the ratio. Then the time to earn 100k orders (a program
with a category multiplier, a campaign, caps, a pending period, rolling expiry and a spend tier
model) on a fresh membership. The garbage collector is run and the built ledgers frozen
(``gc.freeze``) before timing, for both contenders alike. Nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from itertools import islice

from crmkit.kernel.money import Money
from crmkit.loyalty import (
    BaseRate,
    CampaignBonus,
    CategoryMultiplier,
    EarnCaps,
    EarnLine,
    EarnOrder,
    EarnRules,
    ExpiryPolicy,
    LoyaltyProgram,
    Membership,
    Tier,
    TierBenefits,
    TierModel,
)

UTC = timezone.utc
START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
#: Three years of history: with 12-month rolling expiry about a third of the lots are live.
SPAN = timedelta(days=3 * 365)


def program() -> LoyaltyProgram:
    return LoyaltyProgram(
        id="tea_club",
        name="Tea Club",
        currency="TWD",
        time_zone="Asia/Taipei",
        point_value=Money("0.5", "TWD"),
        pending_period=timedelta(days=7),
        expiry=ExpiryPolicy(kind="rolling_months", months=12),
        earn=EarnRules(
            base=BaseRate(points=1, per=Money(100, "TWD")),
            category_multipliers=[
                CategoryMultiplier(id="tea_x2", categories=["tea"], multiplier=2)
            ],
            campaigns=[
                CampaignBonus(
                    id="double_11",
                    name="Double 11",
                    starts_at=datetime(2026, 11, 10, 16, tzinfo=UTC),
                    ends_at=datetime(2026, 11, 11, 16, tzinfo=UTC),
                    multiplier=2,
                )
            ],
            first_purchase_points=50,
            caps=EarnCaps(per_order=5000, per_day=20_000),
        ),
        tiers=TierModel(
            metric="spend",
            period="calendar",
            tiers=[
                Tier(id="member", name="Member", threshold=0),
                Tier(
                    id="gold",
                    name="Gold",
                    threshold=30_000,
                    benefits=TierBenefits(earn_multiplier="1.5"),
                ),
            ],
        ),
    )


def orders(n: int, prefix: str = "o") -> list[EarnOrder]:
    return [
        EarnOrder(
            id=f"{prefix}{i}",
            lines=[
                EarnLine(amount=Money(300 + (i * 37) % 2700, "TWD"), category="tea"),
                EarnLine(amount=Money(100 + (i * 53) % 900, "TWD"), category="ware"),
            ],
        )
        for i in range(n)
    ]


def build(entries: int) -> tuple[LoyaltyProgram, Membership, datetime]:
    """A member whose ledger holds ``entries`` entries, written through the commands."""
    p = program()
    m = Membership.enroll(id="mem_1", program=p, customer_id="cus_1", now=START)
    earns = entries // 2
    step = SPAN / max(earns, 1)
    now = START
    i = 0
    while len(m.entries) < entries:
        now = now + step
        order = EarnOrder(
            id=f"o{i}",
            lines=[EarnLine(amount=Money(500 + (i * 37) % 2500, "TWD"), category="tea")],
        )
        m.earn(p, order, now=now)
        if len(m.entries) < entries and m.available(now) >= 20:
            m.redeem(p, 7 + i % 13, reference=f"r{i}", now=now)
        i += 1
        if i % 4096 == 0:
            m.pull_events()  # as a unit of work would on commit
    m.pull_events()
    return p, m, now


# ----- the naive reference: replay the whole ledger ------------------------------------------


def lot_info(m: Membership) -> dict[str, tuple[datetime, datetime | None]]:
    """Each lot's (available_at, expires_at), as a store keeping every lot row would hold."""
    return {lot.id: (lot.available_at, lot.expires_at) for lot in m.lots.values()}


def replay(m: Membership) -> dict[str, int]:
    remaining: dict[str, int] = {}
    for entry in m.entries:
        if entry.lot is not None:
            remaining[entry.lot] = entry.points
        for draw in entry.draws:
            remaining[draw.lot] -= draw.points
    return remaining


def scan_available(
    m: Membership, info: dict[str, tuple[datetime, datetime | None]], now: datetime
) -> int:
    total = 0
    for lot, left in replay(m).items():
        if left:
            available_at, expires_at = info[lot]
            if available_at <= now and (expires_at is None or now < expires_at):
                total += left
    return total - m.negative


def scan_redeem(
    m: Membership, info: dict[str, tuple[datetime, datetime | None]], points: int, now: datetime
) -> list[tuple[str, int]]:
    never = datetime.max.replace(tzinfo=UTC)
    live = []
    for lot, left in replay(m).items():
        if left:
            available_at, expires_at = info[lot]
            if available_at <= now and (expires_at is None or now < expires_at):
                live.append((expires_at or never, int(lot[4:]), lot, left))
    live.sort()
    draws = []
    for _expires, _seq, lot, left in live:
        if not points:
            break
        take = min(points, left)
        draws.append((lot, take))
        points -= take
    if points:
        raise ValueError("not enough points")
    return draws


# ----- timing ------------------------------------------------------------------------------------


def per_call(fn: Callable[[int], None], n: int) -> float:
    start = time.perf_counter()
    fn(n)
    return (time.perf_counter() - start) / n


def measure(size: int, rounds: int) -> dict[str, float]:
    built = time.perf_counter()
    p, m, now = build(size)
    built = time.perf_counter() - built
    size_built, live_lots = len(m.entries), len(m.lots)
    info = lot_info(m)
    # Every lot that ever existed, for the scan (dead lots are no longer in m.lots).
    for entry in m.entries:
        if entry.lot is not None and entry.lot not in info:
            info[entry.lot] = (START, START)  # dead: its remaining replays to 0
    # Enough points for every timed redemption (a small ledger may not hold them).
    need = 3 * (20_000 // 4) * rounds + 3
    if m.available(now) < need:
        m.adjust(p, need, reference="bench_top_up", reason="benchmark", actor="bench", now=now)
        info[f"lot-{len(m.entries)}"] = (now, m.lots[f"lot-{len(m.entries)}"].expires_at)
    gc.collect()
    gc.freeze()
    try:
        expected = m.available(now)
        assert scan_available(m, info, now) == expected, "the scan and crmkit disagree"
        plan = scan_redeem(m, info, 3, now)
        first = m.redeem(p, 3, reference="check", now=now)
        assert [(d.lot, d.points) for d in first.draws] == plan, "the redemptions disagree"

        n_fast = 20_000
        n_slow = max(1, min(20, 2_000_000 // size))
        tick = timedelta(microseconds=1)
        # A new `now` for every call: no call can reuse the previous answer by identity.
        fresh = iter([now + tick * (i + 1) for i in range(n_fast * rounds * 3)])
        refs = iter([f"bench{i}" for i in range(n_fast * rounds)])
        last = now + tick * (n_fast * rounds * 3 + 1)

        def available(n: int) -> None:
            deque(map(m.available, islice(fresh, n)), maxlen=0)  # the loop runs in C

        def balance(n: int) -> None:
            deque(map(m.balance, islice(fresh, n)), maxlen=0)

        def redeem(n: int) -> None:
            for _ in range(n):
                m.redeem(p, 3, reference=next(refs), now=next(fresh))

        def scan_balance(n: int) -> None:
            for _ in range(n):
                scan_available(m, info, last)

        def scan_draw(n: int) -> None:
            for _ in range(n):
                scan_redeem(m, info, 3, last)

        contenders: dict[str, tuple[Callable[[int], None], int]] = {
            "crmkit available(now)": (available, n_fast),
            "crmkit balance(now)": (balance, n_fast),
            "full scan balance": (scan_balance, n_slow),
            "crmkit redeem": (redeem, n_fast // 4),
            "full scan redeem": (scan_draw, n_slow),
        }
        best = dict.fromkeys(contenders, float("inf"))
        names = list(contenders)
        for r in range(rounds):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                fn, n = contenders[name]
                best[name] = min(best[name], per_call(fn, n))
    finally:
        gc.unfreeze()
    best["build s"] = built
    best["entries"] = size_built
    best["live lots"] = live_lots
    return best


def earn_orders(n: int) -> tuple[float, int]:
    p = program()
    m = Membership.enroll(id="mem_2", program=p, customer_id="cus_2", now=START)
    todo = orders(n, "e")
    step = SPAN / n
    nows = [START + step * (i + 1) for i in range(n)]
    gc.collect()
    start = time.perf_counter()
    for i, order in enumerate(todo):
        m.earn(p, order, now=nows[i])
        if i % 4096 == 4095:
            m.pull_events()
    elapsed = time.perf_counter() - start
    return elapsed, sum(e.points for e in m.entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument(
        "--orders", type=int, default=100_000, help="orders earned in the last test"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="10k and 100k entries, 10k orders")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.orders, args.rounds = [10_000, 100_000], 10_000, 3

    rows = []
    for size in args.sizes:
        print(f"building a ledger of {size:,} entries through the writer...", flush=True)
        rows.append((size, measure(size, args.rounds)))

    print(f"\nbest of {args.rounds} rounds, µs per call (scan rounds run fewer calls):")
    header = (
        f"{'entries':>10}{'live lots':>10}{'available':>11}{'balance':>10}{'scan':>12}"
        f"{'redeem':>10}{'scan':>12}{'bal. x':>10}{'redeem x':>10}"
    )
    print(header)
    for _size, best in rows:
        us = {k: v * 1e6 for k, v in best.items()}
        print(
            f"{int(best['entries']):>10,}{int(best['live lots']):>10,}"
            f"{us['crmkit available(now)']:>11.2f}{us['crmkit balance(now)']:>10.2f}"
            f"{us['full scan balance']:>12.0f}{us['crmkit redeem']:>10.2f}"
            f"{us['full scan redeem']:>12.0f}"
            f"{best['full scan balance'] / best['crmkit available(now)']:>9.0f}x"
            f"{best['full scan redeem'] / best['crmkit redeem']:>9.0f}x"
        )
    print(
        "\n(available/balance/redeem: crmkit; scan: the full-scan reference; x: how many times "
        "faster crmkit is. Targets at 1M entries: balance < 1 µs, redeem < 10 µs.)"
    )
    for size, best in rows:
        print(f"built {size:,} entries in {best['build s']:.1f} s")

    elapsed, points = earn_orders(args.orders)
    print(
        f"\nearn {args.orders:,} orders on a fresh membership: {elapsed:.2f} s "
        f"({elapsed / args.orders * 1e6:.1f} µs per order; {points:,} points in all)"
    )


if __name__ == "__main__":
    main()
