"""Every pricing type round-trips through crmkit.serialization (rules are data)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings

from crmkit.errors import ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money
from crmkit.pricing import (
    ApprovalLevel,
    ApprovalPolicy,
    ApprovalRecord,
    BundleComponent,
    BundlePrice,
    BuyXGetY,
    Catalog,
    CompanyHeader,
    Coupon,
    CouponRedemption,
    DiscountRuleSet,
    GroupPrice,
    ManualDiscount,
    PriceBook,
    PriceBookEntry,
    PricedQuote,
    PriceTier,
    Product,
    Promotion,
    Quote,
    QuoteDiscount,
    QuoteLine,
    TaxPolicy,
    price_quote,
)
from crmkit.pricing.engine import _example, _example_setup
from crmkit.serialization import from_json, structure, to_json, unstructure
from crmkit.testing._pricing_strategies import (
    approval_policies,
    catalogs,
    coupons,
    discount_rule_sets,
    pricing_scenarios,
    quotes,
    tax_policies,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def roundtrip(obj):
    back = from_json(to_json(obj), type(obj))
    assert back == obj
    assert structure(unstructure(obj), type(obj)) == obj
    return back


@settings(max_examples=100)
@given(catalogs())
def test_catalogs_round_trip(catalog):
    back = roundtrip(catalog)
    assert back.products == catalog.products
    for book in catalog.price_books:
        roundtrip(book)
        for entry in book.entries:
            roundtrip(entry)


@settings(max_examples=100)
@given(discount_rule_sets())
def test_rule_sets_round_trip(rules):
    back = roundtrip(rules)
    assert [r.id for r in back.automatic_rules] == [r.id for r in rules.automatic_rules]


@settings(max_examples=100)
@given(coupons(), tax_policies(), approval_policies())
def test_coupons_tax_and_approval_policies_round_trip(coupon, tax, policy):
    roundtrip(coupon)
    roundtrip(tax)
    roundtrip(policy)


@settings(max_examples=100)
@given(quotes())
def test_draft_quotes_round_trip(quote):
    roundtrip(quote)


@settings(max_examples=100)
@given(pricing_scenarios())
def test_priced_quotes_round_trip(s):
    q = price_quote(s.lines, s.catalog, s.rules, s.now, **s.options())
    roundtrip(q)
    roundtrip(s.catalog)


@pytest.mark.parametrize(
    "obj",
    [
        Product(sku="TEA", name="Tea 茶", category="tea", unit="box", description="烏龍"),
        PriceTier(10, Money("90", "TWD")),
        PriceBookEntry(
            sku="TEA",
            unit_price=Money("100", "TWD"),
            tiers=[PriceTier(10, Money("90", "TWD"))],
            tier_mode="graduated",
            floor_price=Money("70", "TWD"),
        ),
        PriceBook(
            id="pb",
            name="VIP",
            currency="TWD",
            customer_group="vip",
            valid_from=NOW,
            valid_until=NOW + timedelta(days=30),
        ),
        Promotion(id="p", name="P", created_at=NOW, amount=Money("5", "TWD"), stacking="exclusive"),
        GroupPrice(id="g", name="G", created_at=NOW, customer_groups=["vip"], percent="7.5"),
        BuyXGetY(
            id="b",
            name="B",
            created_at=NOW,
            buy_quantity=2,
            get_quantity=1,
            get_sku="CUP",
            percent=50,
        ),
        BundleComponent("A", 2),
        BundlePrice(
            id="k",
            name="K",
            created_at=NOW,
            price=Money("10", "TWD"),
            components=[BundleComponent("A"), BundleComponent("B", 2)],
        ),
        QuoteDiscount(id="q", name="Q", created_at=NOW, percent=3, min_order=Money("9", "TWD")),
        ManualDiscount(amount=Money("12.34", "TWD"), reason="loyal customer"),
        QuoteLine(
            line_id="l1",
            sku="TEA",
            quantity="2.5",
            tax_category="reduced",
            description="Special blend",
        ),
        CouponRedemption(quote_id="q_1", customer_id="cus_1", at=NOW),
        ApprovalLevel("director", 25, "Director"),
        ApprovalPolicy.default(),
        ApprovalRecord(
            role="director", by="u_1", at=NOW, approved=False, round=2, comment="too deep"
        ),
        TaxPolicy(
            rates={"standard": 5, "exempt": 0},
            prices_include_tax=True,
            rounding="per_total",
            mode="ROUND_HALF_EVEN",
            name="TW VAT",
        ),
        CompanyHeader(
            name="Formosa Tea",
            address_lines=["台北市"],
            tax_id="12345678",
            phone="+886 2 1234 5678",
            email="sales@formosatea.tw",
        ),
        _example(),
        _example().lines[0],
        _example_setup()[0],
        _example_setup()[1],
    ],
    ids=lambda o: type(o).__name__,
)
def test_each_type_round_trips(obj):
    roundtrip(obj)


def _lifecycle_quote() -> tuple[Quote, Coupon]:
    catalog, rules, tax, now = _example_setup()
    coupon = Coupon(code="TEA5", name="Tea 5%", created_at=now, percent=5, usage_limit=5)
    quote = Quote.create(
        id="q_1",
        customer_id="cus_1",
        currency="TWD",
        now=now,
        owner="u_amy",
        valid_until=now + timedelta(days=30),
        coupon_codes=["tea5"],
        lines=[
            QuoteLine(line_id="l1", sku="TEA-500", quantity=60, discount=ManualDiscount(percent=20))
        ],
    )
    quote.price(
        catalog, rules, now=now, tax=tax, coupons=[coupon], approvals=ApprovalPolicy.default()
    )
    quote.submit(now=now)
    quote.approve("sales_manager", by="u_mgr", now=now, comment="ok")
    quote.approve("director", by="u_dir", now=now)
    quote.send(now=now)
    quote.accept(now=now, actor="u_amy")
    coupon.redeem(quote.id, quote.customer_id, now)
    return quote, coupon


def test_an_accepted_quote_its_coupon_and_their_events_round_trip():
    quote, coupon = _lifecycle_quote()
    events = [*quote.pull_events(), *coupon.pull_events()]

    back = roundtrip(quote)
    assert back.priced == quote.priced
    assert back.applied_coupon_codes == ("TEA5",)
    roundtrip(coupon)
    data = unstructure(events)
    json.dumps(data)
    assert structure(data, list[DomainEvent]) == events
    accepted = next(e for e in events if e.event_type == "pricing.QuoteAccepted")
    assert accepted.lines[0].total == quote.priced.lines[0].total


def test_a_lazily_built_priced_quote_serializes_in_full():
    """The engine builds lines on first access; serializing first gives the same data."""
    first = unstructure(_example())
    eager = _example()
    _ = eager.lines
    assert first == unstructure(eager)
    assert len(first["lines"]) == 1


def test_rules_json_with_a_mistake_names_the_path():
    data = unstructure(_example_setup()[1])
    data["promotions"][0]["percent"] = "150"
    with pytest.raises(ValidationError) as err:
        structure(data, DiscountRuleSet)
    assert "promotions[0]" in str(err.value)
    assert "percent" in str(err.value)


def test_catalog_json_with_an_unknown_field_is_refused():
    data = unstructure(Catalog(products=[Product(sku="A", name="A", category="x")]))
    data["products"][0]["colour"] = "red"
    with pytest.raises(ValidationError, match="colour"):
        structure(data, Catalog)


def test_priced_quote_from_storage_is_a_plain_priced_quote():
    back = structure(unstructure(_example()), PricedQuote)
    assert "_pending" not in vars(back)
    assert back.lines[0].sku == "TEA-500"


def test_a_lazily_built_priced_quote_copies_and_pickles():
    import copy
    import pickle

    for clone in (copy.copy, copy.deepcopy, lambda q: pickle.loads(pickle.dumps(q))):
        original = _example()
        duplicate = clone(original)
        assert duplicate == original
        assert duplicate.lines == original.lines
