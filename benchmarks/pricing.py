"""Quote pricing throughput: crmkit's engine vs a plain-Decimal loop vs the same with py-moneyed.

Run: ``python benchmarks/pricing.py [--n 200] [--rounds 7] [--lines 100] [--seed 7]``
(py-moneyed comes with the ``bench`` extra: ``pip install "crmkit[bench]"``).

Every contender prices the same 100-line TWD quote: 20 products with three volume tiers each,
quantities from 1 to 120, a manual line discount on two lines in three (percent or amount), an
automatic 2% quote-level discount (minimum order 10,000), a 5% coupon on the tea lines, 5% VAT
on top, rounded per line, HALF_UP:

* ``crmkit``: ``crmkit.pricing.price_quote(...)`` building the full ``PricedQuote`` (every line
  with its waterfall, each discount with its exact allocation, tax breakdown, unapplied rules);
  the catalog and rule set are built once, as a host would keep them;
* ``plain loop``: one hand-written function doing the same arithmetic on ``Decimal`` and int
  cents (the same tier lookup, rounding and largest-remainder allocations), returning only the
  totals: the practical limit for computing these totals in Python;
* ``py-moneyed``: the plain loop written with ``moneyed.Money`` values, the way code using
  py-moneyed would (``Money`` arithmetic, ``.round(2)`` under a HALF_UP context).

The totals (subtotal, quote discount, coupon, tax, total) are checked to agree before anything
is timed. Rounds interleave the contenders (rotating which goes first) and the best round of
each is reported as microseconds per quote, with ratios. Nothing is asserted about time.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, localcontext

from crmkit.kernel.money import Money
from crmkit.pricing import (
    Catalog,
    Coupon,
    DiscountRuleSet,
    ManualDiscount,
    PriceBook,
    PriceBookEntry,
    PriceTier,
    Product,
    QuoteDiscount,
    QuoteLine,
    TaxPolicy,
    price_quote,
)

try:
    import moneyed
except ImportError:  # pragma: no cover - the bench extra is optional
    moneyed = None

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
CUR = "TWD"
CENT = Decimal("0.01")
VAT = Decimal("0.05")
QUOTE_PCT = Decimal(2)
COUPON_PCT = Decimal(5)
MIN_ORDER = Decimal(10_000)
COUPON_CATEGORY = "tea"

#: subtotal, quote-level discounts (the 2% and the coupon together), tax, total
Totals = tuple[Decimal, Decimal, Decimal, Decimal]


def build(
    seed: int, n_lines: int
) -> tuple[
    list[tuple[str, int, Decimal | None, Decimal | None]],
    dict[str, tuple[Decimal, list[tuple[int, Decimal]]]],
    dict[str, str],
]:
    rng = random.Random(seed)
    prices: dict[str, tuple[Decimal, list[tuple[int, Decimal]]]] = {}
    categories: dict[str, str] = {}
    for i in range(20):
        sku = f"SKU-{i:02d}"
        unit = Decimal(rng.randrange(50_00, 5_000_00)) / 100
        tiers = [
            (10, (unit * Decimal("0.95")).quantize(CENT)),
            (50, (unit * Decimal("0.90")).quantize(CENT)),
            (100, (unit * Decimal("0.85")).quantize(CENT)),
        ]
        prices[sku] = (unit, tiers)
        categories[sku] = COUPON_CATEGORY if i % 3 == 0 else "ware"
    lines = []
    for n in range(n_lines):
        sku = f"SKU-{rng.randrange(20):02d}"
        qty = rng.randrange(1, 121)
        pct: Decimal | None = None
        amount: Decimal | None = None
        if n % 3 == 1:
            pct = Decimal(rng.choice(["2", "5", "7.5", "12.5"]))
        elif n % 3 == 2:
            amount = Decimal(rng.randrange(1, 500))
        lines.append((sku, qty, pct, amount))
    return lines, prices, categories


# ----- the contenders ------------------------------------------------------------------------


def make_crmkit(lines, prices, categories, *, materialize: bool = False) -> Callable[[], Totals]:
    catalog = Catalog(
        products=[Product(sku=s, name=s, category=categories[s]) for s in prices],
        price_books=[
            PriceBook(
                id="pb_twd",
                name="TWD",
                currency=CUR,
                entries=[
                    PriceBookEntry(
                        sku=s,
                        unit_price=Money(unit, CUR),
                        tiers=[PriceTier(q, Money(p, CUR)) for q, p in tiers],
                    )
                    for s, (unit, tiers) in prices.items()
                ],
            )
        ],
    )
    rules = DiscountRuleSet(
        id="rs",
        name="Bench",
        quote_discounts=[
            QuoteDiscount(
                id="big",
                name="Big order",
                created_at=NOW,
                percent=QUOTE_PCT,
                min_order=Money(MIN_ORDER, CUR),
            )
        ],
    )
    coupon = Coupon(
        code="TEA5",
        name="Tea 5%",
        created_at=NOW,
        percent=COUPON_PCT,
        categories=[COUPON_CATEGORY],
        priority=1,
    )
    tax = TaxPolicy(rates={"standard": 5})
    quote_lines = [
        QuoteLine(
            line_id=f"l{i}",
            sku=sku,
            quantity=qty,
            discount=(
                ManualDiscount(percent=pct)
                if pct is not None
                else ManualDiscount(amount=Money(amount, CUR))
                if amount is not None
                else None
            ),
        )
        for i, (sku, qty, pct, amount) in enumerate(lines)
    ]

    def price():
        return price_quote(
            quote_lines,
            catalog,
            rules,
            NOW,
            currency=CUR,
            coupon_codes=["TEA5"],
            coupons=[coupon],
            tax=tax,
        )

    def run() -> Totals:
        q = price()
        if materialize:
            _ = q.lines, q.quote_discounts, q.taxes
        return q.subtotal.amount, q.quote_discount.amount, q.tax.amount, q.total.amount

    # Outside the timing: the 2% and the coupon one by one, and their allocations, agree too.
    q = price()
    big, tea = q.quote_discounts
    run.split = (big.amount.amount, tea.amount.amount)  # type: ignore[attr-defined]
    assert all(sum(d.shares, Money.zero(CUR)) == d.amount for d in q.quote_discounts)
    return run


def _allocate(units: int, weights: list[int]) -> list[int]:
    whole = sum(weights)
    parts = []
    rest = []
    given = 0
    for i, w in enumerate(weights):
        part, remainder = divmod(units * w, whole)
        parts.append(part)
        given += part
        if remainder:
            rest.append((-remainder, i))
    rest.sort()
    for _r, i in rest[: units - given]:
        parts[i] += 1
    return parts


def make_plain(lines, prices, categories) -> Callable[[], Totals]:
    hundred = Decimal(100)

    def run() -> Totals:
        nets: list[Decimal] = []
        tea: list[bool] = []
        for sku, qty, pct, amount in lines:
            price, tiers = prices[sku]
            for min_q, tier_price in tiers:
                if qty >= min_q:
                    price = tier_price
                else:
                    break
            line = price * qty
            if pct is not None:
                line -= (line * pct / hundred).quantize(CENT, ROUND_HALF_UP)
            elif amount is not None:
                line -= min(amount, line)
            nets.append(line)
            tea.append(categories[sku] == COUPON_CATEGORY)
        subtotal = sum(nets, Decimal(0))
        cents = [int(n * 100) for n in nets]
        big = 0
        if subtotal >= MIN_ORDER:
            big = int((subtotal * QUOTE_PCT).quantize(Decimal(1), ROUND_HALF_UP))
            for i, share in enumerate(_allocate(big, cents)):
                cents[i] -= share
        eligible = [c if t else 0 for c, t in zip(cents, tea, strict=True)]
        coupon = int(
            (Decimal(sum(eligible)) * COUPON_PCT / hundred).quantize(Decimal(1), ROUND_HALF_UP)
        )
        for i, share in enumerate(_allocate(coupon, eligible)):
            cents[i] -= share
        tax = 0
        for c in cents:
            tax += int((Decimal(c) * VAT).quantize(Decimal(1), ROUND_HALF_UP))
        total = sum(cents) + tax
        run.split = (Decimal(big) / 100, Decimal(coupon) / 100)  # type: ignore[attr-defined]
        return subtotal, Decimal(big + coupon) / 100, Decimal(tax) / 100, Decimal(total) / 100

    return run


def make_moneyed(lines, prices, categories) -> Callable[[], Totals]:
    money = moneyed.Money
    mprices = {
        s: (money(u, CUR), [(q, money(p, CUR)) for q, p in t]) for s, (u, t) in prices.items()
    }
    mlines = [(s, q, p, None if a is None else money(a, CUR)) for s, q, p, a in lines]
    zero = money(0, CUR)
    hundred = Decimal(100)
    min_order = money(MIN_ORDER, CUR)

    def allocate(total: moneyed.Money, weights: list[moneyed.Money]) -> list[moneyed.Money]:
        units = int(total.amount * 100)
        parts = _allocate(units, [int(w.amount * 100) for w in weights])
        return [money(Decimal(p) / 100, CUR) for p in parts]

    def run() -> Totals:
        with localcontext() as ctx:
            ctx.rounding = ROUND_HALF_UP
            nets = []
            tea = []
            for sku, qty, pct, amount in mlines:
                price, tiers = mprices[sku]
                for min_q, tier_price in tiers:
                    if qty >= min_q:
                        price = tier_price
                    else:
                        break
                line = price * qty
                if pct is not None:
                    line = line - (line * pct / hundred).round(2)
                elif amount is not None:
                    line = line - min(amount, line)
                nets.append(line)
                tea.append(categories[sku] == COUPON_CATEGORY)
            subtotal = sum(nets, zero)
            running = list(nets)
            big = zero
            if subtotal >= min_order:
                big = (subtotal * QUOTE_PCT / hundred).round(2)
                running = [r - s for r, s in zip(running, allocate(big, running), strict=True)]
            eligible = [r if t else zero for r, t in zip(running, tea, strict=True)]
            coupon = (sum(eligible, zero) * COUPON_PCT / hundred).round(2)
            running = [r - s for r, s in zip(running, allocate(coupon, eligible), strict=True)]
            tax = sum(((r * VAT).round(2) for r in running), zero)
            total = sum(running, zero) + tax
            return subtotal.amount, (big + coupon).amount, tax.amount, total.amount

    return run


# ----- timing --------------------------------------------------------------------------------


def best_of(fn: Callable[[], Totals], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="quotes priced per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--lines", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    data = build(args.seed, args.lines)
    contenders: dict[str, Callable[[], Totals]] = {
        "crmkit": make_crmkit(*data),
        "plain loop": make_plain(*data),
    }
    if moneyed is not None:
        contenders["py-moneyed"] = make_moneyed(*data)
    else:
        print("py-moneyed is not installed (pip install 'crmkit[bench]'); skipping it")

    contenders["crmkit, every line built"] = make_crmkit(*data, materialize=True)
    results = {name: fn() for name, fn in contenders.items()}
    expected = results["plain loop"]
    for name, got in results.items():
        assert got == expected, f"{name} computed {got}, the plain loop {expected}"
    split = contenders["plain loop"].split  # type: ignore[attr-defined]
    assert contenders["crmkit"].split == split, "the 2% discount and the coupon differ"  # type: ignore[attr-defined]
    print(
        f"all contenders agree: subtotal {expected[0]}, 2% quote discount {split[0]}, "
        f"coupon {split[1]}, tax {expected[2]}, total {expected[3]} {CUR}"
    )

    names = list(contenders)
    best = dict.fromkeys(names, float("inf"))
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            best[name] = min(best[name], best_of(contenders[name], args.n))

    plain = best["plain loop"]
    print(f"\n{args.lines}-line quote, best of {args.rounds} rounds x {args.n} quotes:")
    print(f"{'contender':<26}{'µs/quote':>10}{'vs plain':>10}")
    for name in names:
        print(f"{name:<26}{best[name] * 1e6:>10.1f}{best[name] / plain:>9.2f}x")
    if "py-moneyed" in best:
        print(
            f"\ncrmkit vs py-moneyed: {best['py-moneyed'] / best['crmkit']:.2f}x faster "
            f"(target >= 3x); crmkit vs plain loop: {best['crmkit'] / plain:.2f}x "
            f"(target <= 2x)"
        )


if __name__ == "__main__":
    main()
