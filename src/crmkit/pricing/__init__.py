"""The pricing context: catalog, discount rules and coupons, the engine, approvals, the Quote.

* :mod:`crmkit.pricing.catalog`: :class:`Product`, :class:`PriceBook` (per currency, customer
  group and validity window) with :class:`PriceTier` volume or graduated tiers and floors, and
  the :class:`Catalog` that indexes them for pricing.
* :mod:`crmkit.pricing.rules`: discounts as data (group prices, promotions, buy-X-get-Y,
  bundles, quote discounts, :class:`Coupon`), stacking and the :class:`DiscountRuleSet`.
* :mod:`crmkit.pricing.engine`: :func:`price_quote`, the documented waterfall (list → tier /
  price book → automatic promotions → line discounts → quote-level discounts and coupons →
  tax), exact to the cent, returning a :class:`PricedQuote` that explains itself.
* :mod:`crmkit.pricing.approvals`: discount thresholds as data (:class:`ApprovalPolicy`).
* :class:`Quote`: the aggregate from draft through approval to accepted, with revisions.
* :mod:`crmkit.pricing.render`: HTML and text quote documents in en, zh_Hant_TW, zh_Hans_CN.
* Record types for storage: :data:`QUOTES`, :data:`PRODUCTS`, :data:`PRICE_BOOKS`,
  :data:`COUPONS` and :data:`DISCOUNT_RULE_SETS`.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.money import Money
    >>> from crmkit.pricing import (Catalog, DiscountRuleSet, PriceBook, PriceBookEntry,
    ...     Product, QuoteLine, TaxPolicy, price_quote)
    >>> catalog = Catalog(products=[Product(sku="TEA", name="Oolong", category="tea")],
    ...     price_books=[PriceBook(id="pb", name="Std", currency="CNY",
    ...         entries=[PriceBookEntry(sku="TEA", unit_price=Money("113", "CNY"))])])
    >>> priced = price_quote([QuoteLine(line_id="l1", sku="TEA", quantity=10)], catalog,
    ...     DiscountRuleSet.empty(), datetime(2026, 3, 2, tzinfo=timezone.utc), currency="CNY",
    ...     tax=TaxPolicy(rates={"standard": 13}, prices_include_tax=True))
    >>> priced.total, priced.tax, priced.total_excluding_tax
    (Money('1130.00', 'CNY'), Money('130.00', 'CNY'), Money('1000.00', 'CNY'))
    >>> QUOTES.name
    'quotes'

.. versionadded:: 0.1.0
"""

from crmkit.pricing._model import (
    ApprovalRecord,
    Quote,
    QuoteStatus,
)
from crmkit.pricing._records import (
    COUPONS,
    DISCOUNT_RULE_SETS,
    PRICE_BOOKS,
    PRODUCTS,
    QUOTES,
)
from crmkit.pricing.approvals import (
    ApprovalBasis,
    ApprovalLevel,
    ApprovalPolicy,
    required_approvals,
)
from crmkit.pricing.catalog import (
    Catalog,
    PriceBook,
    PriceBookEntry,
    PriceChoice,
    PriceTier,
    Product,
    TierCharge,
    TierMode,
)
from crmkit.pricing.engine import (
    AppliedDiscount,
    Clamp,
    DiscountKind,
    PricedLine,
    PricedQuote,
    QuoteLevelDiscount,
    QuoteLine,
    Step,
    TaxAmount,
    TaxPolicy,
    TaxRounding,
    Unapplied,
    UnappliedReason,
    allocate_minor,
    price_quote,
)
from crmkit.pricing.render import (
    CompanyHeader,
    explain,
    render_html,
    render_text,
)
from crmkit.pricing.rules import (
    BundleComponent,
    BundlePrice,
    BuyXGetY,
    Coupon,
    CouponRedemption,
    DiscountRuleSet,
    GroupPrice,
    ManualDiscount,
    Promotion,
    QuoteDiscount,
    Resolution,
    Stacking,
    normalize_code,
)

__all__ = [
    "AppliedDiscount",
    "ApprovalBasis",
    "ApprovalLevel",
    "ApprovalPolicy",
    "ApprovalRecord",
    "BundleComponent",
    "BundlePrice",
    "BuyXGetY",
    "COUPONS",
    "Catalog",
    "Clamp",
    "CompanyHeader",
    "Coupon",
    "CouponRedemption",
    "DISCOUNT_RULE_SETS",
    "DiscountKind",
    "DiscountRuleSet",
    "GroupPrice",
    "ManualDiscount",
    "PRICE_BOOKS",
    "PRODUCTS",
    "PriceBook",
    "PriceBookEntry",
    "PriceChoice",
    "PriceTier",
    "PricedLine",
    "PricedQuote",
    "Product",
    "Promotion",
    "QUOTES",
    "Quote",
    "QuoteDiscount",
    "QuoteLevelDiscount",
    "QuoteLine",
    "QuoteStatus",
    "Resolution",
    "Stacking",
    "Step",
    "TaxAmount",
    "TaxPolicy",
    "TaxRounding",
    "TierCharge",
    "TierMode",
    "Unapplied",
    "UnappliedReason",
    "allocate_minor",
    "explain",
    "normalize_code",
    "price_quote",
    "render_html",
    "render_text",
    "required_approvals",
]
