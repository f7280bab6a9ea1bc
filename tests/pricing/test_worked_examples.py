"""Worked examples with hand-checked numbers (each number is worked out in the comment)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel.money import Money, currency_digits
from crmkit.pricing import (
    ApprovalBasis,
    ApprovalLevel,
    ApprovalPolicy,
    BundleComponent,
    BundlePrice,
    BuyXGetY,
    Clamp,
    Coupon,
    DiscountKind,
    DiscountRuleSet,
    GroupPrice,
    ManualDiscount,
    PriceBook,
    PriceBookEntry,
    Promotion,
    QuoteDiscount,
    QuoteLine,
    Resolution,
    Stacking,
    TaxPolicy,
    TaxRounding,
    UnappliedReason,
    price_quote,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def twd(amount: str | int) -> Money:
    return Money(str(amount), "TWD")


def line(sku: str = "TEA", quantity: int | str = 1, line_id: str = "l1", **kw: object) -> QuoteLine:
    return QuoteLine(line_id=line_id, sku=sku, quantity=quantity, **kw)  # type: ignore[arg-type]


# ----- tiers -------------------------------------------------------------------------------------


def test_volume_and_graduated_tiers_on_the_same_quantity(make_catalog, tiered_entry, no_rules):
    """60 units; 100 each, 90 from the 10th, 80 from the 50th.

    Volume: all 60 at 80 = 4,800. Graduated: 9 x 100 + 40 x 90 + 11 x 80 = 900 + 3,600 + 880
    = 5,380. The list price is 60 x 100 = 6,000 either way.
    """
    volume = price_quote(
        [line(quantity=60)],
        make_catalog({"TEA": tiered_entry("volume")}),
        no_rules,
        NOW,
        currency="TWD",
    ).lines[0]
    graduated = price_quote(
        [line(quantity=60)],
        make_catalog({"TEA": tiered_entry("graduated")}),
        no_rules,
        NOW,
        currency="TWD",
    ).lines[0]

    assert (volume.list_amount, volume.tier_price, volume.tier_amount) == (
        twd(6000),
        twd(80),
        twd(4800),
    )
    assert volume.tiers == ()
    assert graduated.list_amount == twd(6000)
    assert graduated.tier_amount == twd(5380)
    assert [(c.quantity, c.unit_price, c.amount) for c in graduated.tiers] == [
        (Decimal(9), twd(100), twd(900)),
        (Decimal(40), twd(90), twd(3600)),
        (Decimal(11), twd(80), twd(880)),
    ]


@pytest.mark.parametrize(
    ("quantity", "volume", "graduated"),
    [
        (1, "100", "100"),
        (9, "900", "900"),  # the last unit at the base price
        (10, "900", "990"),  # volume: 10 x 90; graduated: 9 x 100 + 1 x 90
        (49, "4410", "4500"),  # volume: 49 x 90; graduated: 9 x 100 + 40 x 90 (units 10..49)
        (50, "4000", "4580"),  # volume: 50 x 80; graduated: 900 + 3,600 + 1 x 80
        ("9.5", "950", "945"),  # 9.5 x 100; graduated: 9 x 100 + 0.5 x 90 = 945
    ],
)
def test_tier_boundaries(make_catalog, tiered_entry, no_rules, quantity, volume, graduated):
    """At and around the breaks, both semantics agree with a hand count."""
    for mode, expected in (("volume", volume), ("graduated", graduated)):
        priced = price_quote(
            [line(quantity=quantity)],
            make_catalog({"TEA": tiered_entry(mode)}),
            no_rules,
            NOW,
            currency="TWD",
        )
        assert priced.lines[0].tier_amount == twd(expected), mode


# ----- best for the customer ---------------------------------------------------------------------


def _spring(percent: int = 15, **kw: object) -> Promotion:
    return Promotion(id="spring", name="Spring sale", created_at=NOW, percent=percent, **kw)  # type: ignore[arg-type]


def _welcome(percent: int = 10, **kw: object) -> Coupon:
    return Coupon(
        code="WELCOME", name="Welcome", created_at=NOW, percent=percent, stacking="exclusive", **kw
    )  # type: ignore[arg-type]


def test_an_exclusive_coupon_loses_to_a_better_automatic_promotion(make_catalog):
    """10 x 1,000 = 10,000. Promotion 15% (combinable) vs coupon 10% (exclusive).

    Options: the promotion alone: 10,000 - 1,500 = 8,500 (+5% VAT 425 = 8,925); the coupon
    alone: 10,000 - 1,000 = 9,000 (+450 = 9,450). Best for the customer: the promotion.
    """
    rules = DiscountRuleSet(id="rs", name="Spring", promotions=[_spring()])
    priced = price_quote(
        [line(quantity=10)],
        make_catalog(),
        rules,
        NOW,
        currency="TWD",
        coupon_codes=["welcome"],
        coupons=[_welcome()],
        tax=TaxPolicy(rates={"standard": 5}),
    )

    assert [(d.rule_id, d.amount) for d in priced.lines[0].discounts] == [("spring", twd(1500))]
    assert priced.quote_discounts == ()
    assert (priced.subtotal, priced.tax, priced.total) == (twd(8500), twd(425), twd(8925))
    [lost] = priced.unapplied
    assert (lost.code, lost.reason) == ("WELCOME", UnappliedReason.NOT_BEST)


def test_a_better_exclusive_coupon_wins_and_excludes_the_promotion(make_catalog):
    """Coupon 20% exclusive: 10,000 - 2,000 = 8,000 beats the promotion's 8,500."""
    rules = DiscountRuleSet(id="rs", name="Spring", promotions=[_spring()])
    priced = price_quote(
        [line(quantity=10)],
        make_catalog(),
        rules,
        NOW,
        currency="TWD",
        coupon_codes=["WELCOME"],
        coupons=[_welcome(20)],
    )

    assert priced.lines[0].discounts == ()
    [coupon] = priced.quote_discounts
    assert (coupon.kind, coupon.code, coupon.amount) == (DiscountKind.COUPON, "WELCOME", twd(2000))
    assert priced.total == twd(8000)
    assert [(u.rule_id, u.reason) for u in priced.unapplied] == [
        ("spring", UnappliedReason.EXCLUDED)
    ]


def test_priority_resolution_keeps_the_first_rule_even_if_it_costs_more(make_catalog):
    """With ``resolution="priority"`` the exclusive coupon (priority -1) applies: 9,000."""
    rules = DiscountRuleSet(
        id="rs", name="Spring", promotions=[_spring()], resolution=Resolution.PRIORITY
    )
    priced = price_quote(
        [line(quantity=10)],
        make_catalog(),
        rules,
        NOW,
        currency="TWD",
        coupon_codes=["WELCOME"],
        coupons=[_welcome(priority=-1)],
    )

    assert priced.total == twd(9000)


def test_a_stacked_voucher_works_on_the_discounted_amount(make_catalog):
    """Promotion 10% then a combinable coupon 10%: 10,000 -> 9,000 -> 8,100 (never 8,000)."""
    rules = DiscountRuleSet(id="rs", name="Spring", promotions=[_spring(10)])
    coupon = Coupon(code="TEN", name="Ten", created_at=NOW, percent=10)
    priced = price_quote(
        [line(quantity=10)],
        make_catalog(),
        rules,
        NOW,
        currency="TWD",
        coupon_codes=["TEN"],
        coupons=[coupon],
    )

    assert priced.subtotal == twd(9000)
    assert priced.quote_discounts[0].base == twd(9000)
    assert priced.quote_discounts[0].amount == twd(900)
    assert priced.total == twd(8100)


def test_ties_break_by_creation_order_not_by_the_order_codes_were_typed(make_catalog):
    """Two 100-off coupons, the second would be clamped at what is left.

    One line of 150: the coupon created first takes 100, the other the remaining 50, whatever
    order the codes were typed in or the coupons were loaded in.
    """
    older = Coupon(code="AAA", name="A", created_at=NOW, amount=twd(100))
    newer = Coupon(code="BBB", name="B", created_at=NOW.replace(hour=10), amount=twd(100))
    catalog = make_catalog({"TEA": "150"})
    results = [
        price_quote(
            [line()],
            catalog,
            DiscountRuleSet.empty(),
            NOW,
            currency="TWD",
            coupon_codes=codes,
            coupons=loaded,
        )
        for codes, loaded in ((["BBB", "AAA"], [newer, older]), (["AAA", "BBB"], [older, newer]))
    ]

    assert results[0] == results[1]
    assert [(q.code, q.amount, q.limited_by) for q in results[0].quote_discounts] == [
        ("AAA", twd(100), None),
        ("BBB", twd(50), Clamp.BASE),
    ]


# ----- tax ---------------------------------------------------------------------------------------


def test_twd_minor_units_accounting_and_cash():
    """CLDR (through babel): TWD has 2 accounting digits (as ISO 4217) and 0 cash digits."""
    assert (currency_digits("TWD"), currency_digits("TWD", cash=True)) == (2, 0)
    assert (currency_digits("CNY"), currency_digits("CNY", cash=True)) == (2, 2)


def test_a_twd_quote_with_tax_inclusive_prices(make_catalog):
    """Taiwan VAT 5%, prices include tax. Gift box 888 x 2 = 1,776; card 100 x 1 = 100.

    Tax in 1,776: 1,776 x 5 / 105 = 84.5714... -> 84.57; in 100: 4.7619... -> 4.76;
    per line 84.57 + 4.76 = 89.33. Per total: 1,876 x 5 / 105 = 89.333... -> 89.33.
    In cash digits (whole dollars, what a Taiwan invoice shows): per line 85 + 5 = 90,
    per total 89.333... -> 89, allocated 84 + 5 (largest remainder: 84.57 -> 84 + .57,
    4.76 -> 4 + .76; the one unit left goes to the larger remainder, the card).
    The total stays 1,876 (tax is inside the prices).
    """
    catalog = make_catalog({"BOX": "888", "CARD": "100"})
    lines = [line("BOX", 2, "l1"), line("CARD", 1, "l2")]
    results = {}
    for cash in (False, True):
        for per in TaxRounding:
            tax = TaxPolicy(rates={"standard": 5}, prices_include_tax=True, rounding=per)
            results[cash, per] = price_quote(
                lines, catalog, DiscountRuleSet.empty(), NOW, currency="TWD", tax=tax, cash=cash
            )

    per_line = results[False, TaxRounding.PER_LINE]
    assert [x.tax for x in per_line.lines] == [twd("84.57"), twd("4.76")]
    assert (per_line.tax, per_line.total, per_line.total_excluding_tax) == (
        twd("89.33"),
        twd(1876),
        twd("1786.67"),
    )
    assert results[False, TaxRounding.PER_TOTAL].tax == twd("89.33")
    cash_line = results[True, TaxRounding.PER_LINE]
    assert [x.tax for x in cash_line.lines] == [twd(85), twd(5)]
    assert (cash_line.tax, cash_line.total) == (twd(90), twd(1876))
    cash_total = results[True, TaxRounding.PER_TOTAL]
    assert [x.tax for x in cash_total.lines] == [twd(84), twd(5)]
    assert cash_total.tax == twd(89)
    assert [(t.taxable, t.tax) for t in cash_total.taxes] == [(twd(1787), twd(89))]


def test_cn_13_percent_inclusive_and_exclusive():
    """113 incl. 13% VAT is 100 + 13; 100 excl. 13% is 100 + 13 = 113."""
    from crmkit.pricing import Catalog, PriceBook, Product

    catalog = Catalog(
        products=[Product(sku="TEA", name="Tea", category="tea")],
        price_books=[
            PriceBook(
                id="cny",
                name="CNY",
                currency="CNY",
                entries=[PriceBookEntry(sku="TEA", unit_price=Money("113", "CNY"))],
            )
        ],
    )
    incl = price_quote(
        [line()],
        catalog,
        DiscountRuleSet.empty(),
        NOW,
        currency="CNY",
        tax=TaxPolicy(rates={"standard": 13}, prices_include_tax=True),
    )
    excl = price_quote(
        [line()],
        catalog,
        DiscountRuleSet.empty(),
        NOW,
        currency="CNY",
        tax=TaxPolicy(rates={"standard": 13}),
    )

    assert (incl.tax, incl.total) == (Money("13.00", "CNY"), Money("113.00", "CNY"))
    assert (excl.tax, excl.total) == (Money("14.69", "CNY"), Money("127.69", "CNY"))


def test_a_100_percent_discount_with_tax_leaves_exactly_zero(make_catalog):
    """odoo PR #271032: 100% off two lines of 11.50 with 15% tax must total 0.00, not 0.01."""
    catalog = make_catalog({"A": "11.50", "B": "11.50"})
    tax = TaxPolicy(rates={"standard": 15}, rounding="per_total")
    for lines, discount in (
        (
            [
                line("A", 1, "l1", discount=ManualDiscount(percent=100)),
                line("B", 1, "l2", discount=ManualDiscount(percent=100)),
            ],
            None,
        ),
        ([line("A", 1, "l1"), line("B", 1, "l2")], ManualDiscount(percent=100)),
    ):
        priced = price_quote(
            lines, catalog, DiscountRuleSet.empty(), NOW, currency="TWD", tax=tax, discount=discount
        )
        assert (priced.tax, priced.total) == (twd(0), twd(0))


# ----- allocation --------------------------------------------------------------------------------


def test_a_quote_discount_is_allocated_exactly(make_catalog):
    """ERPNext #58042: 10.00 off three lines of 100.00 -> 3.34 / 3.33 / 3.33 (ties: earlier).

    Each line's amount is its net minus its share: 96.66, 96.67, 96.67, summing to 290.00.
    """
    catalog = make_catalog({"A": "100"})
    lines = [line("A", 1, f"l{i}") for i in range(3)]
    priced = price_quote(
        lines,
        catalog,
        DiscountRuleSet.empty(),
        NOW,
        currency="TWD",
        discount=ManualDiscount(amount=twd(10)),
    )

    [quote_discount] = priced.quote_discounts
    assert quote_discount.shares == (twd("3.34"), twd("3.33"), twd("3.33"))
    assert [x.amount for x in priced.lines] == [twd("96.66"), twd("96.67"), twd("96.67")]
    assert priced.total == twd(290)


def test_foemmels_conundrum(make_catalog):
    """5 cents off lines of 0.30 and 0.70 split 2 + 3 (not 2 + 4 or 1 + 3)."""
    catalog = make_catalog({"A": "0.30", "B": "0.70"})
    priced = price_quote(
        [line("A", 1, "l1"), line("B", 1, "l2")],
        catalog,
        DiscountRuleSet.empty(),
        NOW,
        currency="TWD",
        discount=ManualDiscount(amount=twd("0.05")),
    )

    assert priced.quote_discounts[0].shares == (twd("0.02"), twd("0.03"))


# ----- other rules -------------------------------------------------------------------------------


def test_buy_two_get_one_free(make_catalog):
    """7 units at 100: of every 3, 1 free -> 2 free units -> 200 off; net 500."""
    rules = DiscountRuleSet(
        id="rs",
        name="B2G1",
        buy_x_get_y=[
            BuyXGetY(id="b2g1", name="Buy 2 get 1", created_at=NOW, buy_quantity=2, get_quantity=1)
        ],
    )
    priced = price_quote(
        [line(quantity=7)], make_catalog({"TEA": "100"}), rules, NOW, currency="TWD"
    )

    assert priced.lines[0].net == twd(500)


def test_buy_a_get_b_free(make_catalog):
    """Buy 3 teas (300 each) get a cup (50) free: 7 teas -> 2 free cups of the 3 quoted."""
    rules = DiscountRuleSet(
        id="rs",
        name="Cups",
        buy_x_get_y=[
            BuyXGetY(
                id="cup",
                name="Free cup",
                created_at=NOW,
                skus=["TEA"],
                buy_quantity=3,
                get_quantity=1,
                get_sku="CUP",
            )
        ],
    )
    priced = price_quote(
        [line("TEA", 7, "l1"), line("CUP", 3, "l2")],
        make_catalog({"TEA": "300", "CUP": "50"}),
        rules,
        NOW,
        currency="TWD",
    )

    assert [x.net for x in priced.lines] == [twd(2100), twd(50)]


def test_bundle_price_allocated_to_its_components(make_catalog):
    """Laptop 30,000 + dock 5,000 sell for 32,000 together; 2 laptops + 1 dock = 1 bundle.

    Discount 35,000 - 32,000 = 3,000, split by what each line's bundled units are worth
    (30,000 : 5,000): 2,571.428... and 428.571... -> 2,571.43 and 428.57 (largest remainder).
    """
    rules = DiscountRuleSet(
        id="rs",
        name="Kits",
        bundles=[
            BundlePrice(
                id="kit",
                name="Laptop + dock",
                created_at=NOW,
                components=[BundleComponent("LAPTOP"), BundleComponent("DOCK")],
                price=twd(32000),
            )
        ],
    )
    priced = price_quote(
        [line("LAPTOP", 2, "l1"), line("DOCK", 1, "l2")],
        make_catalog({"LAPTOP": "30000", "DOCK": "5000"}),
        rules,
        NOW,
        currency="TWD",
    )

    assert [x.discounts[0].amount for x in priced.lines] == [twd("2571.43"), twd("428.57")]
    assert priced.total == twd(62000)


def test_group_price_and_group_price_book(make_catalog):
    """The VIP book lists TEA at 420 (list 450); a dealer group price of 400 fixed on top.

    List 2 x 450 = 900; the VIP book gives 840; the group price 2 x 400 = 800 -> 40 off.
    """
    vip_book = PriceBook(
        id="pb_vip",
        name="VIP",
        currency="TWD",
        customer_group="vip",
        entries=[PriceBookEntry(sku="TEA", unit_price=twd(420))],
    )
    rules = DiscountRuleSet(
        id="rs",
        name="Groups",
        group_prices=[
            GroupPrice(
                id="vip_tea",
                name="VIP tea",
                created_at=NOW,
                customer_groups=["vip"],
                unit_price=twd(400),
                skus=["TEA"],
            )
        ],
    )
    catalog = make_catalog({"TEA": "450"}, books=[vip_book])
    vip = price_quote(
        [line(quantity=2)], catalog, rules, NOW, currency="TWD", customer_group="vip"
    ).lines[0]
    anyone = price_quote([line(quantity=2)], catalog, rules, NOW, currency="TWD").lines[0]

    assert (vip.list_amount, vip.price_book_id, vip.tier_amount, vip.net) == (
        twd(900),
        "pb_vip",
        twd(840),
        twd(800),
    )
    assert (anyone.price_book_id, anyone.net) == ("pb_std", twd(900))


def test_floor_price_limits_discounts(make_catalog):
    """Price 100, floor 80: a 30% manual discount on 5 units stops at 5 x 80 = 400."""
    entry = PriceBookEntry(sku="TEA", unit_price=twd(100), floor_price=twd(80))
    priced = price_quote(
        [line(quantity=5, discount=ManualDiscount(percent=30))],
        make_catalog({"TEA": entry}),
        DiscountRuleSet.empty(),
        NOW,
        currency="TWD",
    )

    [discount] = priced.lines[0].discounts
    assert (discount.amount, discount.limited_by) == (twd(100), Clamp.FLOOR)
    assert priced.lines[0].net == twd(400)


def test_cap_on_the_total_discount(make_catalog):
    """Cap 20% of 10,000 = 2,000. Promotion 15% = 1,500, then manual 10% of 8,500 = 850,
    cut to the 500 left under the cap; the 5% quote discount after it gets nothing."""
    rules = DiscountRuleSet(
        id="rs",
        name="Capped",
        promotions=[_spring()],
        cap_percent=20,
        quote_discounts=[QuoteDiscount(id="q5", name="Five", created_at=NOW, percent=5)],
    )
    priced = price_quote(
        [line(quantity=10, discount=ManualDiscount(percent=10))],
        make_catalog(),
        rules,
        NOW,
        currency="TWD",
    )

    assert [(d.amount, d.limited_by) for d in priced.lines[0].discounts] == [
        (twd(1500), None),
        (twd(500), Clamp.CAP),
    ]
    assert (priced.quote_discounts[0].amount, priced.quote_discounts[0].limited_by) == (
        twd(0),
        Clamp.CAP,
    )
    assert priced.discount_total == twd(2000) == priced.cap
    assert priced.effective_discount_percent == Decimal(20)


def test_discounts_are_clamped_at_their_base(make_catalog):
    """A 500 amount off a 300 line takes 300; a 1,000 quote discount on 0 left takes 0."""
    priced = price_quote(
        [line(discount=ManualDiscount(amount=twd(500)))],
        make_catalog({"TEA": "300"}),
        DiscountRuleSet.empty(),
        NOW,
        currency="TWD",
        discount=ManualDiscount(amount=twd(1000)),
    )

    assert (priced.lines[0].discounts[0].amount, priced.lines[0].discounts[0].limited_by) == (
        twd(300),
        Clamp.BASE,
    )
    assert priced.quote_discounts[0].amount == twd(0)
    assert priced.total == twd(0)


def test_minimum_order_and_unusable_coupons_are_explained(make_catalog):
    """A quote discount needing 50,000 and a used-up coupon are listed with their reasons."""
    rules = DiscountRuleSet(
        id="rs",
        name="Big",
        quote_discounts=[
            QuoteDiscount(
                id="big", name="Big order", created_at=NOW, percent=3, min_order=twd(50000)
            )
        ],
    )
    used = Coupon(code="ONCE", name="Once", created_at=NOW, percent=5, usage_limit=1)
    used.redeem("q_old", "cus_9", NOW)
    priced = price_quote(
        [line(quantity=10)],
        make_catalog(),
        rules,
        NOW,
        currency="TWD",
        coupon_codes=["ONCE", "NOPE"],
        coupons=[used],
        customer_id="cus_1",
    )

    assert [(u.code or u.rule_id, u.reason) for u in priced.unapplied] == [
        ("NOPE", UnappliedReason.UNKNOWN_CODE),
        ("ONCE", UnappliedReason.USAGE_LIMIT),
        ("big", UnappliedReason.MIN_ORDER),
    ]
    assert priced.total == twd(10000)


# ----- approvals ---------------------------------------------------------------------------------


def test_a_quote_needing_two_approval_levels(make_catalog):
    """10 x 1,000; promotion 15% -> 8,500; manual 15% -> 7,225. Discount 2,775 = 27.75%:
    over 10% (sales manager) and over 25% (director)."""
    rules = DiscountRuleSet(id="rs", name="Spring", promotions=[_spring()])
    priced = price_quote(
        [line(quantity=10, discount=ManualDiscount(percent=15))],
        make_catalog(),
        rules,
        NOW,
        currency="TWD",
    )
    policy = ApprovalPolicy.default()

    assert priced.discount_total == twd(2775)
    assert priced.effective_discount_percent == Decimal("27.75")
    assert policy.required_roles(priced) == ("sales_manager", "director")
    manual_only = ApprovalPolicy(levels=policy.levels, basis=ApprovalBasis.MANUAL_DISCOUNTS)
    # the manual part alone is 1,275 = 12.75% of 10,000: only the sales manager
    assert manual_only.required_roles(priced) == ("sales_manager",)


def test_thresholds_compare_exactly(make_catalog):
    """Exactly 10% is not over 10%; 10.01% is."""
    catalog = make_catalog({"TEA": "100"})
    policy = ApprovalPolicy(levels=[ApprovalLevel("manager", 10)])
    at = price_quote(
        [line(discount=ManualDiscount(percent=10))],
        catalog,
        DiscountRuleSet.empty(),
        NOW,
        currency="TWD",
    )
    over = price_quote(
        [line(discount=ManualDiscount(amount=twd("10.01")))],
        catalog,
        DiscountRuleSet.empty(),
        NOW,
        currency="TWD",
    )

    assert policy.required_roles(at) == ()
    assert policy.required_roles(over) == ("manager",)


# ----- errors ------------------------------------------------------------------------------------


def test_unknown_sku_and_missing_price_are_explicit_errors(make_catalog, no_rules):
    with pytest.raises(ValidationError) as unknown:
        price_quote([line("NOPE")], make_catalog(), no_rules, NOW, currency="TWD")
    assert unknown.value.errors[0].path == "lines[0].sku"
    with pytest.raises(RuleViolation, match="no USD price book"):
        price_quote([line()], make_catalog(), no_rules, NOW, currency="USD")


def test_amounts_in_another_currency_are_refused(make_catalog, no_rules):
    with pytest.raises(ValidationError) as err:
        price_quote(
            [line(discount=ManualDiscount(amount=Money("1", "USD")))],
            make_catalog(),
            no_rules,
            NOW,
            currency="TWD",
        )
    assert err.value.errors[0].path == "lines[0].discount.amount"


def test_exclusive_rules_and_stacking_values():
    assert Stacking("exclusive") is Stacking.EXCLUSIVE
