"""Hypothesis strategies for the pricing context: products, price books, rules, coupons, quotes.

:mod:`crmkit.testing.strategies` may re-export these. Every strategy builds valid objects
through the classes' own constructors. The values lean towards what breaks pricing code in
practice: currencies with 0, 2 and 3 minor digits (JPY, TWD, KWD), unit prices with more digits
than the currency has, zero prices, floors, tiers of both kinds, 100% discounts, amounts larger
than the line, exclusive rules competing, coupons at their limits, ties in priority and
creation time, tax-inclusive prices and both tax rounding levels.

* :func:`products`, :func:`price_books`, :func:`catalogs`;
* :func:`discount_rule_sets`, :func:`coupons`, :func:`tax_policies`;
* :func:`quote_lines`, :func:`quotes`;
* :func:`pricing_scenarios`: a consistent :class:`PricingScenario` (catalog, rules, coupons,
  lines, tax, currency, customer, time) ready for :func:`~crmkit.pricing.price_quote`.

Example:
    >>> from hypothesis import given, settings
    >>> from crmkit.pricing import price_quote
    >>> @settings(max_examples=5)
    ... @given(pricing_scenarios())
    ... def test_total_is_never_negative(s):
    ...     priced = price_quote(s.lines, s.catalog, s.rules, s.now, **s.options())
    ...     assert not priced.total.is_negative()
    >>> test_total_is_never_negative()

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

from crmkit.kernel.money import Money, Rounding, currency_digits
from crmkit.pricing import (
    ApprovalLevel,
    ApprovalPolicy,
    BundleComponent,
    BundlePrice,
    BuyXGetY,
    Catalog,
    Coupon,
    CouponRedemption,
    DiscountRuleSet,
    GroupPrice,
    ManualDiscount,
    PriceBook,
    PriceBookEntry,
    PriceTier,
    Product,
    Promotion,
    Quote,
    QuoteDiscount,
    QuoteLine,
    Resolution,
    Stacking,
    TaxPolicy,
    TaxRounding,
    TierMode,
)

__all__ = [
    "PricingScenario",
    "approval_policies",
    "catalogs",
    "coupons",
    "discount_rule_sets",
    "manual_discounts",
    "price_books",
    "pricing_scenarios",
    "products",
    "quote_lines",
    "quotes",
    "tax_policies",
]

#: The time scenarios are priced at; rule windows are drawn around it.
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
_CURRENCIES = ("TWD", "CNY", "USD", "JPY", "KWD")
_CATEGORIES = ("tea", "ware", "gift")
_TAX_CATEGORIES = ("standard", "reduced", "exempt")
_GROUP = "vip"
#: A few creation times, so rules often tie on priority and creation time.
_CREATED = tuple(NOW - timedelta(days=d) for d in (30, 30, 10, 1))


def _money(currency: str, max_units: int, *, extra_digits: bool = False) -> Any:
    digits = currency_digits(currency)
    units = st.integers(0, max_units)
    plain = units.map(lambda u: Money(Decimal(u).scaleb(-digits), currency))
    if not extra_digits:
        return plain
    finer = st.integers(0, max_units * 1000).map(
        lambda u: Money(Decimal(u).scaleb(-digits - 3), currency)
    )
    return st.one_of(plain, plain, finer)


def _percent() -> st.SearchStrategy[Decimal]:
    return st.one_of(
        st.sampled_from([Decimal(0), Decimal(5), Decimal(10), Decimal("12.5"), Decimal(100)]),
        st.integers(0, 10_000).map(lambda n: Decimal(n).scaleb(-2)),
    )


def products(count: int | None = None) -> st.SearchStrategy[list[Product]]:
    """Lists of products with distinct skus ``P0``, ``P1``..., categories and tax categories.

    Example:
        >>> from hypothesis import find
        >>> [p.sku for p in find(products(2), lambda ps: True)]
        ['P0', 'P1']

    .. versionadded:: 0.1.0
    """
    sizes = st.just(count) if count is not None else st.integers(1, 6)

    def build(n: int) -> st.SearchStrategy[list[Product]]:
        one = st.tuples(st.sampled_from(_CATEGORIES), st.sampled_from(_TAX_CATEGORIES))
        return st.lists(one, min_size=n, max_size=n).map(
            lambda kinds: [
                Product(sku=f"P{i}", name=f"Product {i}", category=c, tax_category=t)
                for i, (c, t) in enumerate(kinds)
            ]
        )

    return sizes.flatmap(build)


@st.composite
def _entry(draw: st.DrawFn, sku: str, currency: str) -> PriceBookEntry:
    unit = draw(_money(currency, 100_000, extra_digits=True))
    prices = [unit]
    tiers = []
    start = 1
    for _ in range(draw(st.integers(0, 3))):
        start += draw(st.integers(1, 40))
        lower = draw(st.integers(0, 100)) * prices[-1].amount / 100
        price = Money(lower.quantize(Decimal(1).scaleb(-currency_digits(currency) - 3)), currency)
        tiers.append(PriceTier(start, price))
        prices.append(price)
    floor = None
    if draw(st.booleans()):
        floor = Money(min(p.amount for p in prices) * draw(st.integers(0, 100)) / 100, currency)
        floor = Money(floor.amount.quantize(Decimal("0.001")), currency)
        if floor > min(prices):
            floor = None
    return PriceBookEntry(
        sku=sku,
        unit_price=unit,
        tiers=tiers,
        tier_mode=draw(st.sampled_from(TierMode)),
        floor_price=floor,
    )


@st.composite
def _price_books(draw: st.DrawFn, items: Sequence[Product], currency: str) -> list[PriceBook]:
    books = [
        PriceBook(
            id="pb_std",
            name="Standard",
            currency=currency,
            entries=[draw(_entry(p.sku, currency)) for p in items],
        )
    ]
    grouped = draw(st.lists(st.sampled_from([p.sku for p in items]), unique=True, max_size=3))
    if grouped:
        books.append(
            PriceBook(
                id="pb_vip",
                name="VIP",
                currency=currency,
                customer_group=_GROUP,
                entries=[draw(_entry(sku, currency)) for sku in grouped],
            )
        )
    return books


def price_books(
    items: Sequence[Product], currency: str = "TWD"
) -> st.SearchStrategy[list[PriceBook]]:
    """A standard price book listing every product, and maybe a ``vip`` group book.

    Example:
        >>> from hypothesis import find
        >>> books = find(price_books([Product(sku="A", name="A", category="x")]), lambda b: True)
        >>> books[0].currency, [e.sku for e in books[0].entries]
        ('TWD', ['A'])

    .. versionadded:: 0.1.0
    """
    return _price_books(items, currency)


@st.composite
def _catalogs(draw: st.DrawFn, currency: str | None) -> Catalog:
    cur = currency or draw(st.sampled_from(_CURRENCIES))
    items = draw(products())
    return Catalog(products=items, price_books=draw(price_books(items, cur)))


def catalogs(currency: str | None = None) -> st.SearchStrategy[Catalog]:
    """Catalogs of products and price books in one currency (drawn when not given).

    Example:
        >>> from hypothesis import find
        >>> find(catalogs("USD"), lambda c: True).price_books[0].currency
        'USD'

    .. versionadded:: 0.1.0
    """
    return _catalogs(currency)


@st.composite
def _window(draw: st.DrawFn) -> tuple[datetime | None, datetime | None]:
    start = draw(st.one_of(st.none(), st.integers(-20, 5).map(lambda d: NOW + timedelta(days=d))))
    end = draw(st.one_of(st.none(), st.integers(-5, 30).map(lambda d: NOW + timedelta(days=d))))
    if start is not None and end is not None and end <= start:
        end = start + timedelta(days=1)
    return start, end


@st.composite
def _common(draw: st.DrawFn, index: int, skus: Sequence[str]) -> dict[str, Any]:
    start, end = draw(_window())
    targets = draw(st.lists(st.sampled_from(skus), unique=True, max_size=2)) if skus else []
    return {
        "id": f"r{index}",
        "name": f"Rule {index}",
        "created_at": draw(st.sampled_from(_CREATED)),
        "priority": draw(st.integers(-1, 1)),
        "stacking": draw(st.sampled_from(Stacking)),
        "valid_from": start,
        "valid_until": end,
        "customer_groups": draw(st.sampled_from([(), (_GROUP,)])),
        "skus": targets,
        "categories": draw(st.lists(st.sampled_from(_CATEGORIES), unique=True, max_size=1)),
    }


@st.composite
def _rule_sets(
    draw: st.DrawFn, items: Sequence[Product] | None, currency: str | None
) -> DiscountRuleSet:
    cur = currency or draw(st.sampled_from(_CURRENCIES))
    skus = [p.sku for p in items] if items else ["P0", "P1"]
    counter = iter(range(1000))
    promotions = []
    for _ in range(draw(st.integers(0, 3))):
        common = draw(_common(next(counter), skus))
        if draw(st.booleans()):
            promotions.append(Promotion(**common, percent=draw(_percent())))
        else:
            promotions.append(Promotion(**common, amount=draw(_money(cur, 20_000))))
    group_prices = []
    for _ in range(draw(st.integers(0, 2))):
        common = draw(_common(next(counter), skus))
        common["customer_groups"] = (_GROUP,)
        if draw(st.booleans()):
            group_prices.append(GroupPrice(**common, percent=draw(_percent())))
        else:
            group_prices.append(GroupPrice(**common, unit_price=draw(_money(cur, 100_000))))
    bxgy = []
    if draw(st.booleans()):
        common = draw(_common(next(counter), skus))
        bxgy.append(
            BuyXGetY(
                **common,
                buy_quantity=draw(st.integers(1, 4)),
                get_quantity=draw(st.integers(1, 2)),
                get_sku=draw(st.one_of(st.none(), st.sampled_from(skus))),
                percent=draw(st.sampled_from([Decimal(100), Decimal(50)])),
            )
        )
    bundles = []
    if len(skus) >= 2 and draw(st.booleans()):
        common = draw(_common(next(counter), skus))
        pair = draw(st.lists(st.sampled_from(skus), min_size=2, max_size=2, unique=True))
        bundles.append(
            BundlePrice(
                **common,
                components=[BundleComponent(s, draw(st.integers(1, 3))) for s in pair],
                price=draw(_money(cur, 200_000)),
            )
        )
    quote_discounts = []
    for _ in range(draw(st.integers(0, 2))):
        common = draw(_common(next(counter), skus))
        minimum = draw(st.one_of(st.none(), _money(cur, 500_000)))
        if draw(st.booleans()):
            quote_discounts.append(
                QuoteDiscount(**common, percent=draw(_percent()), min_order=minimum)
            )
        else:
            quote_discounts.append(
                QuoteDiscount(**common, amount=draw(_money(cur, 100_000)), min_order=minimum)
            )
    return DiscountRuleSet(
        id="rs",
        name="Rules",
        promotions=promotions,
        group_prices=group_prices,
        buy_x_get_y=bxgy,
        bundles=bundles,
        quote_discounts=quote_discounts,
        cap_percent=draw(st.one_of(st.none(), _percent())),
        cap_amount=draw(st.one_of(st.none(), _money(cur, 1_000_000))),
        resolution=draw(st.sampled_from(Resolution)),
        rounding=draw(st.sampled_from([Rounding.HALF_UP, Rounding.HALF_EVEN])),
    )


def discount_rule_sets(
    items: Sequence[Product] | None = None, currency: str | None = None
) -> st.SearchStrategy[DiscountRuleSet]:
    """Rule sets with every kind of rule, windows around :data:`NOW`, stacking, caps.

    Example:
        >>> from hypothesis import find
        >>> find(discount_rule_sets(currency="TWD"), lambda r: len(r.promotions) > 1).name
        'Rules'

    .. versionadded:: 0.1.0
    """
    return _rule_sets(items, currency)


@st.composite
def _coupons(draw: st.DrawFn, code: str, currency: str, skus: Sequence[str]) -> Coupon:
    common = draw(_common(0, skus))
    used = draw(st.integers(0, 3))
    redemptions = [
        CouponRedemption(
            quote_id=f"q_old{i}",
            customer_id=draw(st.sampled_from(["cus_1", "cus_2"])),
            at=NOW - timedelta(days=1),
        )
        for i in range(used)
    ]
    fields: dict[str, Any] = {
        "code": code,
        "name": f"Coupon {code}",
        "created_at": common["created_at"],
        "priority": common["priority"],
        "stacking": common["stacking"],
        "valid_from": common["valid_from"],
        "valid_until": common["valid_until"],
        "customer_groups": common["customer_groups"],
        "skus": common["skus"],
        "categories": common["categories"],
        "min_order": draw(st.one_of(st.none(), _money(currency, 300_000))),
        "usage_limit": draw(st.one_of(st.none(), st.integers(1, 5))),
        "per_customer_limit": draw(st.one_of(st.none(), st.integers(1, 3))),
        "redemptions": redemptions,
    }
    if draw(st.booleans()):
        fields["percent"] = draw(_percent())
    else:
        fields["amount"] = draw(_money(currency, 100_000))
    return Coupon(**fields)


def coupons(
    code: str = "SAVE10", currency: str = "TWD", skus: Sequence[str] = ("P0", "P1")
) -> st.SearchStrategy[Coupon]:
    """Coupons with a window, minimum order, targets, limits and some uses already.

    Example:
        >>> from hypothesis import find
        >>> find(coupons("WELCOME"), lambda c: True).code
        'WELCOME'

    .. versionadded:: 0.1.0
    """
    return _coupons(code, currency, skus)


@st.composite
def _tax_policies(draw: st.DrawFn) -> TaxPolicy:
    rates = {
        c: draw(st.sampled_from([Decimal(0), Decimal(5), Decimal(13), Decimal("8.25")]))
        for c in _TAX_CATEGORIES
    }
    return TaxPolicy(
        rates=rates,
        prices_include_tax=draw(st.booleans()),
        rounding=draw(st.sampled_from(TaxRounding)),
        mode=draw(st.sampled_from([Rounding.HALF_UP, Rounding.HALF_EVEN])),
    )


def tax_policies() -> st.SearchStrategy[TaxPolicy]:
    """Tax policies with a rate for each tax category :func:`products` uses.

    Example:
        >>> from hypothesis import find
        >>> sorted(find(tax_policies(), lambda t: True).rates)
        ['exempt', 'reduced', 'standard']

    .. versionadded:: 0.1.0
    """
    return _tax_policies()


@st.composite
def _manual(draw: st.DrawFn, currency: str) -> ManualDiscount | None:
    kind = draw(st.sampled_from(["none", "none", "percent", "amount"]))
    if kind == "none":
        return None
    if kind == "percent":
        return ManualDiscount(percent=draw(_percent()))
    return ManualDiscount(amount=draw(_money(currency, 200_000)))


@st.composite
def _quote_lines(draw: st.DrawFn, skus: Sequence[str], currency: str) -> list[QuoteLine]:
    count = draw(st.integers(1, 8))
    quantities = st.one_of(
        st.integers(1, 200).map(Decimal),
        st.integers(1, 20_000).map(lambda n: Decimal(n).scaleb(-2)),
    )
    return [
        QuoteLine(
            line_id=f"l{i}",
            sku=draw(st.sampled_from(skus)),
            quantity=draw(quantities),
            discount=draw(_manual(currency)),
        )
        for i in range(count)
    ]


def quote_lines(
    skus: Sequence[str] = ("P0", "P1"), currency: str = "TWD"
) -> st.SearchStrategy[list[QuoteLine]]:
    """One to eight lines of the given skus, whole or fractional quantities, manual discounts.

    Example:
        >>> from hypothesis import find
        >>> find(quote_lines(["TEA"]), lambda ls: True)[0].sku
        'TEA'

    .. versionadded:: 0.1.0
    """
    return _quote_lines(skus, currency)


@st.composite
def _quotes(draw: st.DrawFn, skus: Sequence[str], currency: str) -> Quote:
    return Quote(
        id=draw(st.sampled_from(["q_1", "q_2", "quote-0001"])),
        customer_id=draw(st.sampled_from(["cus_1", "cus_2"])),
        currency=currency,
        created_at=NOW,
        valid_until=NOW + timedelta(days=draw(st.integers(1, 60))),
        lines=draw(quote_lines(skus, currency)),
        customer_group=draw(st.sampled_from([None, _GROUP])),
        coupon_codes=draw(st.lists(st.sampled_from(["SAVE10", "WELCOME"]), unique=True)),
        discount=draw(_manual(currency)),
        owner=draw(st.sampled_from([None, "u_amy"])),
    )


def quotes(skus: Sequence[str] = ("P0", "P1"), currency: str = "TWD") -> st.SearchStrategy[Quote]:
    """Draft quotes (never priced) with lines, coupon codes and a manual discount.

    Example:
        >>> from hypothesis import find
        >>> find(quotes(currency="CNY"), lambda q: True).status.value
        'draft'

    .. versionadded:: 0.1.0
    """
    return _quotes(skus, currency)


def approval_policies() -> st.SearchStrategy[ApprovalPolicy]:
    """Approval policies of one to three rising thresholds.

    Example:
        >>> from hypothesis import find
        >>> len(find(approval_policies(), lambda p: len(p.levels) == 2).levels)
        2

    .. versionadded:: 0.1.0
    """
    thresholds = st.lists(st.integers(0, 99), min_size=1, max_size=3, unique=True).map(sorted)
    return thresholds.map(
        lambda ts: ApprovalPolicy(levels=[ApprovalLevel(f"level{i}", t) for i, t in enumerate(ts)])
    )


@attrs.frozen
class PricingScenario:
    """Everything :func:`~crmkit.pricing.price_quote` needs, drawn consistently.

    Example:
        >>> from hypothesis import find
        >>> s = find(pricing_scenarios(), lambda s: True)
        >>> sorted(s.options())
        ['cash', 'coupon_codes', 'coupons', 'currency', 'customer_group', 'customer_id',
         'discount', 'tax']

    .. versionadded:: 0.1.0
    """

    catalog: Catalog
    rules: DiscountRuleSet
    coupons: tuple[Coupon, ...]
    coupon_codes: tuple[str, ...]
    lines: tuple[QuoteLine, ...]
    discount: ManualDiscount | None
    tax: TaxPolicy
    currency: str
    customer_id: str
    customer_group: str | None
    cash: bool
    now: datetime = NOW

    def options(self, **overrides: Any) -> dict[str, Any]:
        """The keyword arguments of ``price_quote`` for this scenario (overridable)."""
        found: dict[str, Any] = {
            "currency": self.currency,
            "customer_id": self.customer_id,
            "customer_group": self.customer_group,
            "coupon_codes": self.coupon_codes,
            "discount": self.discount,
            "coupons": self.coupons,
            "tax": self.tax,
            "cash": self.cash,
        }
        found.update(overrides)
        return found


@st.composite
def _scenarios(draw: st.DrawFn, currency: str | None) -> PricingScenario:
    cur = currency or draw(st.sampled_from(_CURRENCIES))
    catalog = draw(catalogs(cur))
    skus = [p.sku for p in catalog.products]
    coupon_list = [draw(coupons(code, cur, skus)) for code in ("SAVE10", "WELCOME")]
    kept = draw(st.lists(st.sampled_from(coupon_list), unique_by=lambda c: c.code))
    codes = draw(st.lists(st.sampled_from(["SAVE10", "WELCOME", "NOSUCH"]), unique=True))
    return PricingScenario(
        catalog=catalog,
        rules=draw(discount_rule_sets(catalog.products, cur)),
        coupons=tuple(kept),
        coupon_codes=tuple(codes),
        lines=tuple(draw(quote_lines(skus, cur))),
        discount=draw(_manual(cur)),
        tax=draw(tax_policies()),
        currency=cur,
        customer_id=draw(st.sampled_from(["cus_1", "cus_2"])),
        customer_group=draw(st.sampled_from([None, _GROUP])),
        cash=draw(st.booleans()),
    )


def pricing_scenarios(currency: str | None = None) -> st.SearchStrategy[PricingScenario]:
    """Consistent pricing scenarios: catalog, rules, coupons, lines, tax and customer.

    Example:
        >>> from hypothesis import find
        >>> find(pricing_scenarios("JPY"), lambda s: True).currency
        'JPY'

    .. versionadded:: 0.1.0
    """
    return _scenarios(currency)


def manual_discounts(currency: str = "TWD") -> st.SearchStrategy[ManualDiscount]:
    """Valid manual discounts a rep types: a percent (0-100) or an amount in ``currency``.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(manual_discounts())
        ... def test_one_of_percent_or_amount(discount):
        ...     assert (discount.percent is None) != (discount.amount is None)
        >>> test_one_of_percent_or_amount()

    .. versionadded:: 0.1.0
    """
    amounts: st.SearchStrategy[Money] = _money(currency, 200_000)
    return st.builds(ManualDiscount, percent=_percent()) | amounts.map(
        lambda amount: ManualDiscount(amount=amount)
    )
