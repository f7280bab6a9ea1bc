"""How the pricing context's aggregates are stored and queried."""

from __future__ import annotations

from decimal import Decimal

from crmkit.kernel.query import RecordType
from crmkit.pricing._model import Quote
from crmkit.pricing.catalog import PriceBook, Product
from crmkit.pricing.rules import Coupon, DiscountRuleSet

__all__ = ["COUPONS", "DISCOUNT_RULE_SETS", "PRICE_BOOKS", "PRODUCTS", "QUOTES"]


def _total(quote: Quote) -> Decimal | None:
    return None if quote.priced is None else quote.priced.total.amount


#: Quotes: queryable by customer, owner, status, currency, total, validity, revision chain,
#: coupon codes and customer group; a customer's open quotes are
#: ``Query.where(customer_id=..., status="sent")``.
QUOTES: RecordType[Quote] = RecordType(
    "quotes",
    Quote,
    {
        "customer_id": lambda q: q.customer_id,
        "owner": lambda q: q.owner,
        "status": lambda q: q.status.value,
        "currency": lambda q: q.currency,
        "total": _total,
        "valid_until": lambda q: q.valid_until,
        "created_at": lambda q: q.created_at,
        "revision": lambda q: q.revision,
        "previous_revision_id": lambda q: q.previous_revision_id,
        "superseded_by": lambda q: q.superseded_by,
        "coupon_codes": lambda q: q.coupon_codes,
        "customer_group": lambda q: q.customer_group,
    },
    kinds={
        "total": "decimal",
        "valid_until": "datetime",
        "created_at": "datetime",
        "revision": "integer",
        "coupon_codes": "multi",
    },
)

#: Products (id = sku): queryable by name (case-folded), category, tax category and activity.
PRODUCTS: RecordType[Product] = RecordType(
    "products",
    Product,
    {
        "name_folded": lambda p: p.name.casefold(),
        "category": lambda p: p.category,
        "tax_category": lambda p: p.tax_category,
        "active": lambda p: p.active,
    },
    kinds={"active": "boolean"},
)

#: Price books: queryable by currency, customer group and validity window; load the books for
#: a currency with ``Query.where(currency="TWD")`` and build a ``Catalog``.
PRICE_BOOKS: RecordType[PriceBook] = RecordType(
    "price_books",
    PriceBook,
    {
        "name": lambda b: b.name,
        "currency": lambda b: b.currency,
        "customer_group": lambda b: b.customer_group,
        "valid_from": lambda b: b.valid_from,
        "valid_until": lambda b: b.valid_until,
    },
    kinds={"valid_from": "datetime", "valid_until": "datetime"},
)

#: Coupons (id = ``coupon_<CODE>``, see ``Coupon.id_for``): queryable by code, window and use.
#: Save a coupon in the same unit of work as the quote whose acceptance redeems it: its version
#: check makes the usage limit hold under concurrent acceptances.
COUPONS: RecordType[Coupon] = RecordType(
    "coupons",
    Coupon,
    {
        "code": lambda c: c.code,
        "valid_from": lambda c: c.valid_from,
        "valid_until": lambda c: c.valid_until,
        "times_used": lambda c: c.times_used,
        "usage_limit": lambda c: c.usage_limit,
    },
    kinds={
        "valid_from": "datetime",
        "valid_until": "datetime",
        "times_used": "integer",
        "usage_limit": "integer",
    },
)

#: Discount rule sets: queryable by name.
DISCOUNT_RULE_SETS: RecordType[DiscountRuleSet] = RecordType(
    "discount_rule_sets",
    DiscountRuleSet,
    {"name": lambda r: r.name},
)
