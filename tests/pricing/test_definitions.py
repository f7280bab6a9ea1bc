"""Invalid catalogs, rules, tax and approval policies are refused when built, with a path."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs
import pytest

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel.money import Money
from crmkit.pricing import (
    ApprovalLevel,
    ApprovalPolicy,
    BundleComponent,
    BundlePrice,
    Catalog,
    DiscountRuleSet,
    GroupPrice,
    ManualDiscount,
    PriceBook,
    PriceBookEntry,
    PriceTier,
    Product,
    Promotion,
    QuoteLine,
    TaxPolicy,
    price_quote,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def twd(amount: str | int) -> Money:
    return Money(str(amount), "TWD")


def path_of(err: pytest.ExceptionInfo[ValidationError]) -> str:
    return err.value.errors[0].path


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: PriceTier(1, twd(90)), "min_quantity"),
        (lambda: PriceTier(10, Money("-1", "TWD")), "unit_price"),
        (
            lambda: PriceBookEntry(
                sku="A", unit_price=twd(100), tiers=[PriceTier(10, twd(90)), PriceTier(5, twd(80))]
            ),
            "tiers[1].min_quantity",
        ),
        (
            lambda: PriceBookEntry(
                sku="A", unit_price=twd(100), tiers=[PriceTier(10, Money("90", "USD"))]
            ),
            "tiers[0].unit_price",
        ),
        (
            lambda: PriceBookEntry(
                sku="A", unit_price=twd(100), tiers=[PriceTier(10, twd(90))], floor_price=twd(95)
            ),
            "floor_price",
        ),
        (
            lambda: PriceBook(
                id="pb",
                name="x",
                currency="TWD",
                entries=[PriceBookEntry(sku="A", unit_price=Money("1", "USD"))],
            ),
            "entries[0].unit_price",
        ),
        (
            lambda: PriceBook(
                id="pb",
                name="x",
                currency="TWD",
                entries=[
                    PriceBookEntry(sku="A", unit_price=twd(1)),
                    PriceBookEntry(sku="A", unit_price=twd(2)),
                ],
            ),
            "entries[1].sku",
        ),
        (
            lambda: PriceBook(id="pb", name="x", currency="TWD", valid_from=NOW, valid_until=NOW),
            "valid_until",
        ),
        (lambda: Product(sku="A B", name="x", category="c"), "sku"),
        (lambda: Product(sku="A", id="B", name="x", category="c"), "id"),
        (lambda: ManualDiscount(percent=101), "percent"),
        (lambda: ManualDiscount(percent=5, amount=twd(1)), "amount"),
        (lambda: Promotion(id="p", name="p", created_at=NOW), "percent"),
        (
            lambda: Promotion(id="p", name="p", created_at=datetime(2026, 1, 1), percent=1),
            "created_at",
        ),
        (lambda: GroupPrice(id="g", name="g", created_at=NOW, percent=5), "customer_groups"),
        (
            lambda: BundlePrice(
                id="b", name="b", created_at=NOW, price=twd(1), components=[BundleComponent("A")]
            ),
            "components",
        ),
        (lambda: QuoteLine(line_id="l1", sku="A", quantity=0), "quantity"),
        (lambda: QuoteLine(line_id="l1", sku="A", quantity="0.0000001"), "quantity"),
        (lambda: TaxPolicy(rates={"standard": 5}, mode="ROUND_DOWN"), "rounding"),
        (lambda: TaxPolicy(rates={"standard": -1}), "rates.standard"),
    ],
)
def test_invalid_values_name_their_field(build, path):
    with pytest.raises(ValidationError) as err:
        build()
    assert path_of(err) == path


def test_invalid_definitions_list_their_problems():
    with pytest.raises(DefinitionError, match="sku 'A' is listed twice"):
        Catalog(products=[Product(sku="A", name="a", category="c")] * 2)
    with pytest.raises(DefinitionError, match="must rise strictly"):
        ApprovalPolicy(levels=[ApprovalLevel("a", 10), ApprovalLevel("b", 10)])
    with pytest.raises(DefinitionError, match="two approval levels"):
        ApprovalPolicy(levels=[ApprovalLevel("a", 10), ApprovalLevel("a", 20)])
    catalog = Catalog(
        products=[Product(sku="A", name="a", category="c", tax_category="books")],
        price_books=[
            PriceBook(
                id="pb",
                name="pb",
                currency="TWD",
                entries=[PriceBookEntry(sku="A", unit_price=twd(1))],
            )
        ],
    )
    with pytest.raises(DefinitionError, match="no rate for tax category 'books'"):
        price_quote(
            [QuoteLine(line_id="l", sku="A", quantity=1)],
            catalog,
            DiscountRuleSet.empty(),
            NOW,
            currency="TWD",
            tax=TaxPolicy(rates={"standard": 5}),
        )


def test_a_rule_set_cannot_be_changed_in_place():
    rules = DiscountRuleSet(id="rs", name="x")
    with pytest.raises(attrs.exceptions.FrozenAttributeError, match="build a new rule set"):
        rules.cap_percent = 10  # type: ignore[misc]
    changed = attrs.evolve(rules, cap_percent=10)
    assert changed.cap_percent == 10


def test_price_book_selection_by_group_and_window():
    """A dated 2026 book overrides an open-ended one; the group book wins for its group."""
    old = PriceBook(
        id="pb_old",
        name="Old",
        currency="TWD",
        entries=[PriceBookEntry(sku="A", unit_price=twd(100))],
    )
    new = PriceBook(
        id="pb_2026",
        name="2026",
        currency="TWD",
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=1),
        entries=[PriceBookEntry(sku="A", unit_price=twd(110))],
    )
    vip = PriceBook(
        id="pb_vip",
        name="VIP",
        currency="TWD",
        customer_group="vip",
        entries=[PriceBookEntry(sku="A", unit_price=twd(90))],
    )
    catalog = Catalog(
        products=[Product(sku="A", name="a", category="c")], price_books=[old, new, vip]
    )

    assert catalog.price_for("A", "TWD", NOW).book_id == "pb_2026"
    assert catalog.price_for("A", "TWD", NOW + timedelta(days=2)).book_id == "pb_old"
    vip_choice = catalog.price_for("A", "TWD", NOW, customer_group="vip")
    assert (vip_choice.book_id, vip_choice.list_book_id) == ("pb_vip", "pb_2026")
    assert catalog.price_for("A", "TWD", NOW, customer_group="other").book_id == "pb_2026"


def test_inactive_products_cannot_be_quoted():
    catalog = Catalog(
        products=[Product(sku="A", name="a", category="c", active=False)],
        price_books=[
            PriceBook(
                id="pb",
                name="pb",
                currency="TWD",
                entries=[PriceBookEntry(sku="A", unit_price=twd(1))],
            )
        ],
    )
    with pytest.raises(ValidationError, match="inactive"):
        price_quote(
            [QuoteLine(line_id="l", sku="A", quantity=1)],
            catalog,
            DiscountRuleSet.empty(),
            NOW,
            currency="TWD",
        )


def test_a_quote_and_keyword_overrides_are_not_mixed():
    from crmkit.pricing import Quote
    from crmkit.pricing.engine import _example_setup

    catalog, rules, _tax, now = _example_setup()
    quote = Quote.create(
        id="q",
        customer_id="c",
        currency="TWD",
        now=now,
        valid_until=now + timedelta(days=1),
        lines=[QuoteLine(line_id="l", sku="TEA-500", quantity=1)],
    )
    with pytest.raises(ValidationError, match="come from the quote"):
        price_quote(quote, catalog, rules, now, currency="TWD")
    with pytest.raises(ValidationError, match="is required when pricing lines"):
        price_quote(list(quote.lines), catalog, rules, now)
    with pytest.raises(ValidationError, match="must be a Quote or a list"):
        price_quote(iter(quote.lines), catalog, rules, now)  # type: ignore[arg-type]
