"""Shared builders for the pricing tests: a small tea-shop catalog priced in TWD."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from crmkit.kernel.money import Money
from crmkit.pricing import (
    Catalog,
    DiscountRuleSet,
    PriceBook,
    PriceBookEntry,
    PriceTier,
    Product,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
LATER = NOW + timedelta(days=30)


def twd(amount: str | int) -> Money:
    return Money(str(amount), "TWD")


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def make_catalog() -> Callable[..., Catalog]:
    """Build a catalog: sku -> (unit price, tiers, mode, floor); categories by sku."""

    def build(
        entries: dict[str, Any] | None = None,
        *,
        categories: dict[str, str] | None = None,
        tax_categories: dict[str, str] | None = None,
        currency: str = "TWD",
        books: list[PriceBook] | None = None,
    ) -> Catalog:
        entries = entries or {"TEA": "1000"}
        categories = categories or {}
        tax_categories = tax_categories or {}
        items = [
            Product(
                sku=sku,
                name=f"{sku} name",
                category=categories.get(sku, "tea"),
                tax_category=tax_categories.get(sku, "standard"),
            )
            for sku in entries
        ]
        built = []
        for sku, spec in entries.items():
            if isinstance(spec, PriceBookEntry):
                built.append(spec)
            else:
                built.append(PriceBookEntry(sku=sku, unit_price=Money(str(spec), currency)))
        book = PriceBook(id="pb_std", name="Standard", currency=currency, entries=built)
        return Catalog(products=items, price_books=[book, *(books or [])])

    return build


@pytest.fixture
def tiered_entry() -> Callable[[str], PriceBookEntry]:
    """The tier example of the docs: 100 each, 90 from the 10th unit, 80 from the 50th."""

    def build(mode: str, sku: str = "TEA") -> PriceBookEntry:
        return PriceBookEntry(
            sku=sku,
            unit_price=twd(100),
            tiers=[PriceTier(10, twd(90)), PriceTier(50, twd(80))],
            tier_mode=mode,
        )

    return build


@pytest.fixture
def no_rules() -> DiscountRuleSet:
    return DiscountRuleSet.empty()
