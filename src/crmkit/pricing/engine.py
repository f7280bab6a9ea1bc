# The waterfall is printed with "×" and "−", as people write it.
# ruff: noqa: RUF002, RUF003
"""The pricing engine: one documented waterfall from list price to total, exact to the cent.

:func:`price_quote` prices quote lines in six steps, each working on the output of the one
before it, so a stacked voucher is never computed on the undiscounted amount:

1. **list**: the list unit price (the price book for everyone) times the quantity;
2. **tier / price book**: the customer group's price book (or the one for everyone) with its
   volume or graduated tiers gives the line's price-book amount;
3. **automatic promotions**: group prices, promotions, buy-X-get-Y and bundles, in rule order;
4. **line discounts**: the rep's manual discount on each line; the result is the line *net*;
5. **quote-level discounts and coupons**: automatic quote discounts and coupons in rule order,
   then the rep's manual quote discount; each is computed on the running amount of the lines
   it targets and allocated back to them exactly (largest remainder, ties to the earlier line,
   in proportion to what each line can still give up above its floor);
6. **tax**: per line or per total, on prices that exclude or include tax.

Every amount is kept in integer minor units and rounded once where it is made, with the rule
set's rounding mode (``HALF_UP`` or ``HALF_EVEN``). A discount never exceeds what its base can
give (it is clamped at zero, or at the floor price), and the sum of all discounts never exceeds
the rule set's cap. The result, :class:`PricedQuote`, lists every step per line and for the
quote, derives percentages from exact amounts (never storing a rounded one), and
:meth:`PricedQuote.explain` prints the waterfall.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.money import Money
    >>> from crmkit.pricing import (Catalog, DiscountRuleSet, ManualDiscount, PriceBook,
    ...     PriceBookEntry, Product, QuoteLine, TaxPolicy, price_quote)
    >>> now = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> catalog = Catalog(products=[Product(sku="TEA", name="Oolong", category="tea")],
    ...     price_books=[PriceBook(id="pb", name="Std", currency="TWD",
    ...         entries=[PriceBookEntry(sku="TEA", unit_price=Money("450", "TWD"))])])
    >>> priced = price_quote([QuoteLine(line_id="l1", sku="TEA", quantity=3,
    ...                                 discount=ManualDiscount(percent=10))],
    ...     catalog, DiscountRuleSet.empty(), now, currency="TWD",
    ...     tax=TaxPolicy(rates={"standard": 5}))
    >>> priced.subtotal, priced.tax, priced.total
    (Money('1215.00', 'TWD'), Money('60.75', 'TWD'), Money('1275.75', 'TWD'))
    >>> priced.effective_discount_percent
    Decimal('10')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money, Rounding, currency_digits, is_currency
from crmkit.kernel.time import ensure_aware
from crmkit.pricing.catalog import (
    Catalog,
    Product,
    TierCharge,
    TierMode,
    _CompiledEntry,
    _id_field,
    _minor_ratio,
    _percent,
    _quantity,
    _ratio,
    _round_div,
    _rounding,
    _sku,
)
from crmkit.pricing.rules import (
    BundlePrice,
    BuyXGetY,
    Coupon,
    DiscountRuleSet,
    GroupPrice,
    ManualDiscount,
    Promotion,
    QuoteDiscount,
    Resolution,
    Stacking,
    _active,
    _rule_key,
    _targets,
    normalize_code,
)

__all__ = [
    "AppliedDiscount",
    "Clamp",
    "DiscountKind",
    "PricedLine",
    "PricedQuote",
    "QuoteLevelDiscount",
    "QuoteLine",
    "Step",
    "TaxAmount",
    "TaxPolicy",
    "TaxRounding",
    "Unapplied",
    "UnappliedReason",
    "allocate_minor",
    "price_quote",
]


# ----- enums -------------------------------------------------------------------------------------


class TaxRounding(StrEnum):
    """Where tax is rounded: on each line (``per_line``) or once on the quote (``per_total``).

    With ``per_total`` the quote's tax is rounded once and allocated back to the lines exactly,
    so the lines still carry a tax that sums to the total. The two differ by at most half a
    minor unit per line (``HALF_UP``; with ``HALF_EVEN`` a three-way tie on exact halves can
    add one more unit, see the how-to).

    Example:
        >>> TaxRounding("per_total") is TaxRounding.PER_TOTAL
        True

    .. versionadded:: 0.1.0
    """

    PER_LINE = "per_line"
    PER_TOTAL = "per_total"


class Step(StrEnum):
    """The waterfall step a discount belongs to.

    Example:
        >>> [s.value for s in Step]
        ['automatic', 'line', 'quote']

    .. versionadded:: 0.1.0
    """

    AUTOMATIC = "automatic"
    LINE = "line"
    QUOTE = "quote"


class DiscountKind(StrEnum):
    """What made a discount.

    Example:
        >>> DiscountKind("coupon") is DiscountKind.COUPON
        True

    .. versionadded:: 0.1.0
    """

    GROUP_PRICE = "group_price"
    PROMOTION = "promotion"
    BUY_X_GET_Y = "buy_x_get_y"
    BUNDLE = "bundle"
    MANUAL = "manual"
    QUOTE_DISCOUNT = "quote_discount"
    COUPON = "coupon"


class Clamp(StrEnum):
    """Why a discount came out smaller than its rule asked.

    ``base``: it would have taken the amount below zero; ``floor``: below the floor price;
    ``cap``: over the rule set's total-discount cap.

    Example:
        >>> Clamp.CAP.value
        'cap'

    .. versionadded:: 0.1.0
    """

    BASE = "base"
    FLOOR = "floor"
    CAP = "cap"


class UnappliedReason(StrEnum):
    """Why a coupon or rule that could have applied did not.

    Example:
        >>> UnappliedReason("usage_limit").value
        'usage_limit'

    .. versionadded:: 0.1.0
    """

    UNKNOWN_CODE = "unknown_code"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    CUSTOMER_GROUP = "customer_group"
    USAGE_LIMIT = "usage_limit"
    CUSTOMER_LIMIT = "customer_limit"
    CURRENCY = "currency"
    MIN_ORDER = "min_order"
    NOT_BEST = "not_best"
    EXCLUDED = "excluded"


_KIND_OF: dict[type, DiscountKind] = {
    GroupPrice: DiscountKind.GROUP_PRICE,
    Promotion: DiscountKind.PROMOTION,
    BuyXGetY: DiscountKind.BUY_X_GET_Y,
    BundlePrice: DiscountKind.BUNDLE,
    QuoteDiscount: DiscountKind.QUOTE_DISCOUNT,
    Coupon: DiscountKind.COUPON,
}

_MANUAL_ID = "manual"


# ----- inputs ------------------------------------------------------------------------------------


def _line_sku(value: object) -> str:
    return _sku(value)


def _line_quantity(value: object) -> Decimal:
    return _quantity(value)


def _optional_manual(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, ManualDiscount):
        raise ValidationError(
            f"must be a ManualDiscount or None, not {type(value).__name__}", path="discount"
        )


def _optional_category(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="tax_category")
    return check_id(value.strip(), "tax_category")


@attrs.frozen(kw_only=True)
class QuoteLine:
    """A line a rep typed: which product, how many, and optionally a manual discount.

    ``tax_category`` overrides the product's; ``description`` overrides its name on documents.

    Example:
        >>> line = QuoteLine(line_id="l1", sku=" TEA ", quantity="2.5",
        ...                  discount=ManualDiscount(percent=5))
        >>> line.sku, line.quantity
        ('TEA', Decimal('2.5'))

    .. versionadded:: 0.1.0
    """

    line_id: str = attrs.field(validator=_id_field)
    sku: str = attrs.field(converter=_line_sku)
    quantity: Decimal = attrs.field(converter=_line_quantity)
    discount: ManualDiscount | None = attrs.field(default=None, validator=_optional_manual)
    tax_category: str | None = attrs.field(default=None, converter=_optional_category)
    description: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(500)
    )


def _tax_rounding(value: object) -> TaxRounding:
    return v.to_enum(TaxRounding, "rounding")(value)


def _rates(value: object) -> dict[str, Decimal]:
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"must map tax categories to percentages, not {type(value).__name__}", path="rates"
        )
    found: dict[str, Decimal] = {}
    for key, rate in value.items():
        category = check_id(key.strip() if isinstance(key, str) else key, "rates")
        found[category] = _percent(rate, f"rates.{category}")
    return found


@attrs.frozen(kw_only=True)
class TaxPolicy:
    """How tax is computed: rates per tax category (percent), inclusive or not, rounding.

    ``prices_include_tax=True`` means price book prices already contain the tax (common in
    Taiwan, 5% VAT, and mainland China, 13% VAT): the tax is then the part of each amount
    that is tax, ``amount * rate / (100 + rate)``, and the total is not increased. ``rounding``
    says whether tax is rounded per line or once per quote, ``mode`` how.

    Example:
        >>> tw = TaxPolicy(rates={"standard": 5, "exempt": 0}, prices_include_tax=True,
        ...                name="Taiwan VAT")
        >>> tw.rate_for("standard"), tw.mode.name
        (Decimal('5'), 'HALF_UP')

    .. versionadded:: 0.1.0
    """

    rates: dict[str, Decimal] = attrs.field(converter=_rates)
    prices_include_tax: bool = attrs.field(default=False, validator=v.of_type(bool))
    rounding: TaxRounding = attrs.field(default=TaxRounding.PER_LINE, converter=_tax_rounding)
    mode: Rounding = attrs.field(default=Rounding.HALF_UP, converter=_rounding)
    name: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(200)
    )

    def rate_for(self, category: str) -> Decimal:
        """Return the rate (percent) of ``category``; a missing one is a ``DefinitionError``.

        Example:
            >>> TaxPolicy(rates={"standard": 13}).rate_for("books")
            Traceback (most recent call last):
            ...
            crmkit.errors.DefinitionError: tax policy has no rate for tax category 'books';
            it has standard
        """
        rate = self.rates.get(category)
        if rate is None:
            known = ", ".join(sorted(self.rates)) or "none"
            raise DefinitionError(
                f"tax policy has no rate for tax category {category!r}; it has {known}",
                details={"tax_category": category},
            )
        return rate


_NO_TAX = TaxPolicy(rates={})


# ----- results -----------------------------------------------------------------------------------


@attrs.frozen
class AppliedDiscount:
    """One discount applied to a line: which rule, what kind, at which step, how much.

    ``rule_id`` is ``"manual"`` for a rep's discount; ``percent`` is the rule's configured
    percentage (``None`` for amounts); ``limited_by`` says why it came out smaller than asked.

    Example:
        >>> d = AppliedDiscount("spring", "Spring sale", DiscountKind.PROMOTION, Step.AUTOMATIC,
        ...                     Money("45", "TWD"), Decimal("10"))
        >>> d.amount, d.limited_by
        (Money('45', 'TWD'), None)

    .. versionadded:: 0.1.0
    """

    rule_id: str
    name: str
    kind: DiscountKind
    step: Step
    amount: Money
    percent: Decimal | None = None
    limited_by: Clamp | None = None


@attrs.frozen
class QuoteLevelDiscount:
    """A quote-level discount or coupon and its exact allocation to the lines.

    ``base`` is the running amount of the lines it targets when it applied; ``shares`` has one
    amount per line of the priced quote (zero for lines it does not target) and sums exactly
    to ``amount``.

    Example:
        >>> q = QuoteLevelDiscount("manual", "Quote discount", DiscountKind.MANUAL,
        ...     Money("100", "TWD"), Money("10", "TWD"),
        ...     (Money("3.33", "TWD"), Money("6.67", "TWD")))
        >>> Money.sum(q.shares, currency="TWD") == q.amount
        True

    .. versionadded:: 0.1.0
    """

    rule_id: str
    name: str
    kind: DiscountKind
    base: Money
    amount: Money
    shares: tuple[Money, ...]
    percent: Decimal | None = None
    code: str | None = None
    limited_by: Clamp | None = None


@attrs.frozen
class TaxAmount:
    """Tax per category and rate: the amount taxed (excluding tax) and the tax.

    Example:
        >>> TaxAmount("standard", Decimal("5"), Money("1000", "TWD"), Money("50", "TWD")).tax
        Money('50', 'TWD')

    .. versionadded:: 0.1.0
    """

    category: str
    rate: Decimal
    taxable: Money
    tax: Money


@attrs.frozen
class Unapplied:
    """A coupon or rule that did not apply, and why (a code and an English sentence).

    Example:
        >>> Unapplied("SPRING", "SPRING", UnappliedReason.UNKNOWN_CODE,
        ...           "no coupon with code SPRING").reason.value
        'unknown_code'

    .. versionadded:: 0.1.0
    """

    rule_id: str
    name: str
    reason: UnappliedReason
    detail: str
    code: str | None = None


@attrs.frozen(kw_only=True)
class PricedLine:
    """One priced line: every step of the waterfall for it.

    ``list_amount`` is the list price times the quantity; ``tier_amount`` the price-book amount
    (``tier_price`` is the unit price of the tier the quantity reaches; a graduated line also
    lists its ``tiers``); ``discounts`` the automatic and manual line discounts in order;
    ``net`` what is left after them; ``quote_discount`` the line's share of quote-level
    discounts; :attr:`amount` what is left after those (tax-inclusive when ``tax_included``);
    ``tax`` its tax and :attr:`total` what the customer pays for the line.

    Example:
        >>> from crmkit.pricing.engine import _example
        >>> line = _example().lines[0]
        >>> line.list_amount, line.tier_amount, line.net, line.tax, line.total
        (Money('6000.00', 'TWD'), Money('4800.00', 'TWD'), Money('4320.00', 'TWD'),
         Money('205.71', 'TWD'), Money('4320.00', 'TWD'))

    .. versionadded:: 0.1.0
    """

    line_id: str
    sku: str
    name: str
    quantity: Decimal
    unit: str
    list_price: Money
    list_amount: Money
    price_book_id: str
    tier_mode: TierMode
    tier_price: Money
    tier_amount: Money
    discounts: tuple[AppliedDiscount, ...]
    net: Money
    quote_discount: Money
    tax_category: str
    tax_rate: Decimal
    tax: Money
    tax_included: bool = False
    tiers: tuple[TierCharge, ...] = ()

    @property
    def amount(self) -> Money:
        """``net - quote_discount``: the line after every discount (tax-inclusive if prices are)."""
        return self.net - self.quote_discount

    @property
    def total(self) -> Money:
        """What the customer pays for the line: :attr:`amount`, plus tax unless it is included."""
        return self.amount if self.tax_included else self.amount + self.tax

    @property
    def discount(self) -> Money:
        """Every discount on the line: its own and its share of quote-level ones."""
        return self.tier_amount - self.amount


#: Derived percentages: 28 significant digits, whatever decimal context a host set.
_PERCENT = Context(prec=28)


def _exact_percent(part: Money, whole: Money) -> Decimal:
    if whole.is_zero():
        return Decimal(0)
    value = _PERCENT.divide(part.amount * 100, whole.amount)
    return Decimal(int(value)) if value == value.to_integral_value() else value


#: The fields :func:`price_quote` fills on first access (see :class:`PricedQuote`).
_LAZY_FIELDS = frozenset({"lines", "quote_discounts", "taxes"})


@attrs.frozen(kw_only=True, slots=False)
class PricedQuote:
    """A priced quote: its lines, quote-level discounts, tax and totals, and how they came about.

    ``subtotal`` is the sum of line nets; ``quote_discount`` the sum of quote-level discounts
    (each in :attr:`quote_discounts` with its exact allocation); ``tax`` the sum of line taxes;
    ``total`` = ``subtotal - quote_discount + tax`` (``+ 0`` when ``tax_included``: the tax is
    inside the amounts). Every amount is exact in minor units; percentages are derived.

    :func:`price_quote` computes every amount up front but builds the line-by-line objects
    (:attr:`lines`, :attr:`quote_discounts`, :attr:`taxes`) the first time one is read, since
    many callers only read the totals; the object behaves exactly like one built eagerly
    (equality, hashing, ``repr``, serialization).

    Example:
        >>> from crmkit.pricing.engine import _example
        >>> q = _example()
        >>> q.subtotal - q.quote_discount + (0 * q.tax if q.tax_included else q.tax) == q.total
        True
        >>> q.effective_discount_percent
        Decimal('10')

    .. versionadded:: 0.1.0
    """

    currency: str
    priced_at: datetime
    customer_group: str | None
    lines: tuple[PricedLine, ...]
    list_total: Money
    tier_total: Money
    subtotal: Money
    quote_discounts: tuple[QuoteLevelDiscount, ...]
    quote_discount: Money
    tax_included: bool
    taxes: tuple[TaxAmount, ...]
    tax: Money
    total: Money
    rounding: Rounding
    tax_rounding: TaxRounding
    cash: bool = False
    cap: Money | None = None
    unapplied: tuple[Unapplied, ...] = ()

    @property
    def amount_after_discounts(self) -> Money:
        """``subtotal - quote_discount``: what the lines cost after every discount."""
        return self.subtotal - self.quote_discount

    @property
    def discount_total(self) -> Money:
        """Every discount (automatic, manual, quote-level, coupons), exact."""
        return self.tier_total - self.amount_after_discounts

    @property
    def manual_discount_total(self) -> Money:
        """The discounts reps typed (on lines and on the quote), exact."""
        on_lines = [
            d.amount for line in self.lines for d in line.discounts if d.kind is DiscountKind.MANUAL
        ]
        on_quote = [q.amount for q in self.quote_discounts if q.kind is DiscountKind.MANUAL]
        return Money.sum([*on_lines, *on_quote], currency=self.currency)

    @property
    def effective_discount_percent(self) -> Decimal:
        """:attr:`discount_total` as a percentage of the price-book amount, derived exactly.

        Computed on each access from exact amounts (to 28 significant digits); never stored.
        """
        return _exact_percent(self.discount_total, self.tier_total)

    @property
    def list_discount_percent(self) -> Decimal:
        """How far below the list price the quote is, as a percentage, derived exactly."""
        return _exact_percent(self.list_total - self.amount_after_discounts, self.list_total)

    @property
    def total_excluding_tax(self) -> Money:
        """The total without tax (revenue)."""
        return self.total - self.tax

    def explain(self, locale: str = "en") -> str:
        """Return the waterfall as readable text in ``locale`` (en, zh_Hant_TW, zh_Hans_CN).

        Example:
            >>> from crmkit.pricing.engine import _example
            >>> print(_example().explain())  # doctest: +ELLIPSIS
            Priced 2026-03-02 09:00 UTC in TWD ...
            1. TEA-500 Oolong tea 500 g × 60 box
               List price       60 × NT$100.00 = NT$6,000.00
               ...
        """
        from crmkit.pricing.render import explain

        return explain(self, locale)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        pending = state.pop("_pending", None)
        if pending is not None:
            state.update(pending.materialize())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    if not TYPE_CHECKING:  # keep attribute typos visible to type checkers

        def __getattr__(self, name: str) -> Any:
            if name in _LAZY_FIELDS:
                pending = self.__dict__.get("_pending")
                if pending is not None:
                    values = pending.materialize()
                    self.__dict__.update(values)
                    self.__dict__.pop("_pending", None)
                    return values[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


# ----- allocation --------------------------------------------------------------------------------


def allocate_minor(units: int, weights: Sequence[int]) -> list[int]:
    """Split ``units`` (an int >= 0) in proportion to int ``weights`` by largest remainder.

    The same rule as :meth:`crmkit.kernel.money.Money.allocate` (floor each share, hand the
    units left one each to the largest remainders, ties to the earlier part), computed on
    integers so pricing a 100-line quote stays fast; a property test pins the two together.
    Zero weights get zero; all-zero weights are a ``ValidationError``.

    Example:
        >>> allocate_minor(5, [30, 70]), allocate_minor(4, [1, 1, 1])
        ([2, 3], [2, 1, 1])
        >>> allocate_minor(1000, [1, 1, 1])
        [334, 333, 333]

    .. versionadded:: 0.1.0
    """
    whole = sum(weights)
    if whole <= 0 or any(w < 0 for w in weights):
        raise ValidationError("weights must be >= 0 and not all zero", path="weights")
    if units < 0:
        raise ValidationError(f"must be >= 0, got {units}", path="units")
    parts = []
    remainders = []
    given = 0
    for i, weight in enumerate(weights):
        part, remainder = divmod(units * weight, whole)
        parts.append(part)
        given += part
        if remainder:
            remainders.append((-remainder, i))
    left = units - given
    if left:
        remainders.sort()
        for _r, i in remainders[:left]:
            parts[i] += 1
    return parts


# ----- the engine --------------------------------------------------------------------------------


class _QuoteLike(Protocol):
    @property
    def lines(self) -> Sequence[QuoteLine]: ...
    @property
    def currency(self) -> str: ...
    @property
    def customer_id(self) -> str: ...
    @property
    def customer_group(self) -> str | None: ...
    @property
    def coupon_codes(self) -> tuple[str, ...]: ...
    @property
    def discount(self) -> ManualDiscount | None: ...


class _Line:
    """What the engine knows about a line before any discount (the same for every option)."""

    __slots__ = (
        "category",
        "choice",
        "floor",
        "line",
        "list_amount",
        "list_entry",
        "product",
        "q",
        "qd",
        "qn",
        "rate",
        "rate_pct",
        "tier_amount",
    )

    def __init__(
        self,
        line: QuoteLine,
        product: Product,
        choice: _CompiledEntry,
        list_entry: _CompiledEntry,
        qn: int,
        qd: int,
        list_amount: int,
        tier_amount: int,
        floor: int,
        category: str,
        rate: tuple[Decimal, tuple[int, int]],
    ) -> None:
        self.line = line
        self.product = product
        self.choice = choice
        self.list_entry = list_entry
        self.q = line.quantity
        self.qn = qn
        self.qd = qd
        self.list_amount = list_amount
        self.tier_amount = tier_amount
        self.floor = floor
        self.category = category
        self.rate_pct, self.rate = rate


class _Manual:
    """Stands in for a rule when recording a rep's manual discount."""

    __slots__ = ("id", "name", "percent")

    def __init__(self, name: str, percent: Decimal | None) -> None:
        self.id = _MANUAL_ID
        self.name = name
        self.percent = percent


_LINE_MANUAL = "Line discount"
_QUOTE_MANUAL = "Quote discount"

#: A line-level discount as the engine records it: (line index, rule, amount, clamp).
_Rec = tuple[int, Any, int, Clamp | None]


class _QRec:
    """A quote-level discount as the engine records it."""

    __slots__ = ("amount", "base", "clamp", "rule", "shares")

    def __init__(
        self, rule: Any, base: int, amount: int, shares: list[int] | None, clamp: Clamp | None
    ) -> None:
        self.rule = rule
        self.base = base
        self.amount = amount
        self.shares = shares
        self.clamp = clamp


class _Outcome:
    """The result of one option (one set of rules), in minor units."""

    __slots__ = ("amounts", "nets", "quote_recs", "recs", "rules", "taxes", "total", "unmet")

    def __init__(
        self,
        rules: Sequence[Any],
        nets: list[int],
        amounts: list[int],
        recs: list[_Rec],
        quote_recs: list[_QRec],
        unmet: list[Any],
        taxes: list[int],
        total: int,
    ) -> None:
        self.rules = rules
        self.nets = nets
        self.amounts = amounts
        self.recs = recs
        self.quote_recs = quote_recs
        self.unmet = unmet
        self.taxes = taxes
        self.total = total


class _Context:
    """Everything fixed for one pricing call: lines, rates, rounding, the cap."""

    def __init__(
        self,
        lines: list[_Line],
        currency: str,
        rules: DiscountRuleSet,
        tax: TaxPolicy,
        quote_discount: ManualDiscount | None,
        cash: bool,
        scale: int,
    ) -> None:
        self.lines = lines
        self.currency = currency
        self.cash = cash
        # Amounts are integers of 10 ** -digits; scale turns accounting units into those.
        self.digits = currency_digits(currency) - len(str(scale)) + 1
        self.scale = scale
        self.even = rules.rounding is Rounding.HALF_EVEN
        self.rounding = rules.rounding
        self.tax = tax
        self.inclusive = tax.prices_include_tax
        self.tax_even = tax.mode is Rounding.HALF_EVEN
        self.quote_discount = quote_discount
        self._targeted: dict[int, list[int]] = {}
        self._pcts: dict[Decimal, tuple[int, int]] = {}
        self._minor: dict[Money, tuple[int, int]] = {}
        self._manual: dict[Decimal | None, _Manual] = {}
        self.cap: int | None = None

    def pct(self, percent: Decimal) -> tuple[int, int]:
        found = self._pcts.get(percent)
        if found is None:
            num, den = _ratio(percent)
            found = self._pcts[percent] = (num, den * 100)
        return found

    def minor(self, money: Money) -> tuple[int, int]:
        found = self._minor.get(money)
        if found is None:
            num, den = _minor_ratio(money)
            found = self._minor[money] = (num, den * self.scale)
        return found

    def manual_line(self, percent: Decimal | None) -> _Manual:
        found = self._manual.get(percent)
        if found is None:
            found = self._manual[percent] = _Manual(_LINE_MANUAL, percent)
        return found

    def targeted(self, rule: Any) -> list[int]:
        found = self._targeted.get(id(rule))
        if found is None:
            found = self._targeted[id(rule)] = [
                i for i, line in enumerate(self.lines) if _targets(rule, line.product)
            ]
        return found

    def taxes(self, amounts: list[int]) -> list[int]:
        lines = self.lines
        even = self.tax_even
        inclusive = self.inclusive
        if self.tax.rounding is TaxRounding.PER_LINE:
            found: list[int] = []
            append = found.append
            for line, amount in zip(lines, amounts, strict=True):
                num, den = line.rate
                if num == 0:
                    append(0)
                else:
                    if inclusive:
                        den += num
                    quotient, remainder = divmod(amount * num, den)
                    twice = remainder + remainder
                    if twice > den or (twice == den and (not even or quotient & 1)):
                        quotient += 1
                    append(quotient)
            return found
        exact = []
        for line, amount in zip(lines, amounts, strict=True):
            num, den = line.rate
            exact.append(Fraction(amount * num, den + num if inclusive else den))
        total = sum(exact, Fraction(0))
        units = _round_div(total.numerator, total.denominator, even)
        if units == 0:
            return [0] * len(lines)
        common = math.lcm(*(e.denominator for e in exact))
        weights = [e.numerator * (common // e.denominator) for e in exact]
        return allocate_minor(units, weights)


class _Run:
    """One evaluation of the waterfall for one option (a set of rules)."""

    __slots__ = ("cap_left", "ctx", "floors", "recs", "rules", "running")

    def __init__(self, ctx: _Context, rules: Sequence[Any]) -> None:
        self.ctx = ctx
        self.rules = rules
        self.running = [line.tier_amount for line in ctx.lines]
        self.floors = [line.floor for line in ctx.lines]
        self.cap_left = ctx.cap
        self.recs: list[_Rec] = []

    def take(self, i: int, wanted: int) -> tuple[int, Clamp | None]:
        """Take up to ``wanted`` off line ``i``; clamp at its floor (or zero) and at the cap."""
        clamp = None
        floor = self.floors[i]
        limit = self.running[i] - floor
        if wanted > limit:
            wanted = limit
            clamp = Clamp.FLOOR if floor else Clamp.BASE
        cap_left = self.cap_left
        if cap_left is not None:
            if wanted > cap_left:
                wanted = cap_left
                clamp = Clamp.CAP
            self.cap_left = cap_left - wanted
        self.running[i] -= wanted
        return wanted, clamp

    def line_discount(self, i: int, rule: Any, wanted: int) -> None:
        amount, clamp = self.take(i, wanted)
        self.recs.append((i, rule, amount, clamp))

    # -- step 3: automatic promotions ------------------------------------------------------

    def automatic(self, rule: Any) -> None:
        ctx = self.ctx
        even = ctx.even
        if isinstance(rule, BuyXGetY):
            self.buy_x_get_y(rule)
            return
        if isinstance(rule, BundlePrice):
            self.bundle(rule)
            return
        fixed = rule.amount if isinstance(rule, Promotion) else rule.unit_price
        for i in ctx.targeted(rule):
            line = ctx.lines[i]
            if rule.percent is not None:
                pn, pd = ctx.pct(rule.percent)
                wanted = _round_div(self.running[i] * pn, pd, even)
            elif isinstance(rule, Promotion):
                num, den = ctx.minor(fixed)  # type: ignore[arg-type]  # percent or amount
                wanted = _round_div(num * line.qn, den * line.qd, even)
            else:
                num, den = ctx.minor(fixed)  # type: ignore[arg-type]  # percent or unit price
                price = _round_div(num * line.qn, den * line.qd, even)
                wanted = max(0, self.running[i] - price)
            self.line_discount(i, rule, wanted)

    def buy_x_get_y(self, rule: BuyXGetY) -> None:
        ctx = self.ctx
        pn, pd = ctx.pct(rule.percent)
        buy, get = rule.buy_quantity, rule.get_quantity
        targeted = ctx.targeted(rule)
        if rule.get_sku is None:
            for i in targeted:
                line = ctx.lines[i]
                free = math.floor(line.q / (buy + get)) * get
                if free:
                    # running * (free / q) * percent, rounded once
                    num = self.running[i] * free * line.qd * pn
                    self.line_discount(i, rule, _round_div(num, line.qn * pd, ctx.even))
            return
        bought = sum((ctx.lines[i].q for i in targeted), Decimal(0))
        free_left = Decimal(math.floor(bought / buy) * get)
        for i, line in enumerate(ctx.lines):
            if free_left <= 0:
                break
            if line.product.sku != rule.get_sku:
                continue
            used = min(free_left, line.q)
            free_left -= used
            un, ud = _ratio(used)
            num = self.running[i] * un * line.qd * pn
            self.line_discount(i, rule, _round_div(num, ud * line.qn * pd, ctx.even))

    def bundle(self, rule: BundlePrice) -> None:
        ctx = self.ctx
        by_sku: dict[str, list[int]] = {}
        for i, line in enumerate(ctx.lines):
            by_sku.setdefault(line.product.sku, []).append(i)
        count: int | None = None
        for component in rule.components:
            have = sum((ctx.lines[i].q for i in by_sku.get(component.sku, ())), Decimal(0))
            fits = math.floor(have / component.quantity)
            count = fits if count is None else min(count, fits)
        if not count:
            return
        value = Fraction(0)
        used_lines: list[tuple[int, Fraction]] = []
        for component in rule.components:
            need = Decimal(component.quantity * count)
            for i in by_sku[component.sku]:
                if need <= 0:
                    break
                line = ctx.lines[i]
                used = min(need, line.q)
                need -= used
                share = Fraction(self.running[i]) * Fraction(used) / Fraction(line.q)
                value += share
                used_lines.append((i, share))
        num, den = ctx.minor(rule.price)
        exact = value - Fraction(num * count, den)
        if exact <= 0:
            return
        wanted = _round_div(exact.numerator, exact.denominator, ctx.even)
        # Each line gives at most what its bundled units are worth above its floor.
        weights = [
            min(math.floor(share), self.running[i] - self.floors[i]) for i, share in used_lines
        ]
        room = sum(weights)
        if room <= 0:
            return
        for (i, _share), part in zip(
            used_lines, allocate_minor(min(wanted, room), weights), strict=True
        ):
            self.line_discount(i, rule, part)

    # -- step 4: the rep's line discounts -------------------------------------------------

    def manual_lines(self) -> None:
        # The hot loop of a typical quote: take() and the rounding are written out here.
        ctx = self.ctx
        even = ctx.even
        running = self.running
        floors = self.floors
        append = self.recs.append
        pcts = ctx._pcts
        for i, line in enumerate(ctx.lines):
            discount = line.line.discount
            if discount is None:
                continue
            percent = discount.percent
            if percent is not None:
                ratio = pcts.get(percent) or ctx.pct(percent)
                quotient, remainder = divmod(running[i] * ratio[0], ratio[1])
                twice = remainder + remainder
                if twice > ratio[1] or (twice == ratio[1] and (not even or quotient & 1)):
                    quotient += 1
                wanted = quotient
            else:
                num, den = ctx.minor(discount.amount)  # type: ignore[arg-type]
                wanted = num if den == 1 else _round_div(num, den, even)
            clamp = None
            limit = running[i] - floors[i]
            if wanted > limit:
                wanted = limit
                clamp = Clamp.FLOOR if floors[i] else Clamp.BASE
            cap_left = self.cap_left
            if cap_left is not None:
                if wanted > cap_left:
                    wanted = cap_left
                    clamp = Clamp.CAP
                self.cap_left = cap_left - wanted
            running[i] -= wanted
            append((i, ctx.manual_line(percent), wanted, clamp))

    # -- step 5: quote-level discounts and coupons ----------------------------------------

    def quote_level(
        self,
        rule: Any,
        eligible: Sequence[int] | None,
        percent: Decimal | None,
        amount: Money | None,
    ) -> _QRec:
        ctx = self.ctx
        running, floors = self.running, self.floors
        if eligible is None:
            base = sum(running)
            weights = [r - f for r, f in zip(running, floors, strict=True)]
            room = base - sum(floors)
            floored = any(floors)
        else:
            base = 0
            weights = [0] * len(running)
            floored = False
            for i in eligible:
                base += running[i]
                weights[i] = running[i] - floors[i]
                floored = floored or floors[i] > 0
            room = sum(weights)
        if percent is not None:
            pn, pd = ctx.pct(percent)
            wanted = _round_div(base * pn, pd, ctx.even)
        else:
            num, den = ctx.minor(amount)  # type: ignore[arg-type]
            wanted = _round_div(num, den, ctx.even)
        clamp = None
        if wanted > room:
            wanted = room
            clamp = Clamp.FLOOR if floored else Clamp.BASE
        if self.cap_left is not None and wanted > self.cap_left:
            wanted = self.cap_left
            clamp = Clamp.CAP
        shares = None
        if wanted > 0:
            shares = allocate_minor(wanted, weights)
            for i, part in enumerate(shares):
                if part:
                    running[i] -= part
            if self.cap_left is not None:
                self.cap_left -= wanted
        return _QRec(rule, base, wanted, shares, clamp)

    # -- the whole waterfall --------------------------------------------------------------

    def run(self) -> _Outcome:
        ctx = self.ctx
        quote_rules = []
        for rule in self.rules:
            if isinstance(rule, (QuoteDiscount, Coupon)):
                quote_rules.append(rule)
            else:
                self.automatic(rule)
        self.manual_lines()
        nets = list(self.running)
        subtotal = sum(nets)
        quote_recs = []
        unmet = []
        for rule in quote_rules:
            minimum = rule.min_order
            if minimum is not None:
                num, den = ctx.minor(minimum)
                if subtotal * den < num:
                    unmet.append(rule)
                    continue
            eligible = None if not rule.skus and not rule.categories else ctx.targeted(rule)
            quote_recs.append(self.quote_level(rule, eligible, rule.percent, rule.amount))
        manual = ctx.quote_discount
        if manual is not None:
            rule = _Manual(_QUOTE_MANUAL, manual.percent)
            quote_recs.append(self.quote_level(rule, None, manual.percent, manual.amount))
        amounts = self.running
        taxes = ctx.taxes(amounts)
        after = sum(amounts)
        total = after if ctx.inclusive else after + sum(taxes)
        return _Outcome(self.rules, nets, amounts, self.recs, quote_recs, unmet, taxes, total)


#: Exact: minor units to an amount never rounds, whatever decimal context a host set.
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def _fast_money(currency: str, digits: int) -> Any:
    """A maker of Money from minor units, for one currency checked up front.

    The engine makes many amounts from integers it computed itself, in a currency it
    validated once; this skips ``Money``'s per-instance converter and currency check.
    """
    new = object.__new__
    set_amount = Money.__dict__["amount"].__set__
    set_currency = Money.__dict__["currency"].__set__
    exponent = -digits
    cache: dict[int, Money] = {}

    def make(units: int) -> Money:
        found = cache.get(units)
        if found is None:
            found = new(Money)
            set_amount(found, Decimal(units).scaleb(exponent, _EXACT))
            set_currency(found, currency)
            cache[units] = found
        return found

    return make


def _reason_for(detail: str) -> UnappliedReason:
    if "valid from" in detail:
        return UnappliedReason.NOT_YET_VALID
    if "valid until" in detail:
        return UnappliedReason.EXPIRED
    if "customer groups" in detail:
        return UnappliedReason.CUSTOMER_GROUP
    if "usage limit" in detail:
        return UnappliedReason.USAGE_LIMIT
    return UnappliedReason.CUSTOMER_LIMIT


def _rule_currency(rule: Any) -> str | None:
    for name in ("amount", "unit_price", "price", "min_order"):
        value = getattr(rule, name, None)
        if isinstance(value, Money):
            return value.currency
    return None


def _prepare_lines(
    lines: Sequence[QuoteLine],
    catalog: Catalog,
    currency: str,
    group: str | None,
    now: datetime,
    tax: TaxPolicy,
    even: bool,
    scale: int,
) -> list[_Line]:
    prepared = []
    seen: set[str] = set()
    products = catalog._by_sku
    by_sku: dict[str, tuple[Product, _CompiledEntry, _CompiledEntry]] = {}
    ratios: dict[Decimal, tuple[int, int]] = {}
    rates: dict[str, tuple[Decimal, tuple[int, int]]] = {}
    no_tax = tax is _NO_TAX
    for i, quote_line in enumerate(lines):
        if not isinstance(quote_line, QuoteLine):
            raise ValidationError(
                f"must be a QuoteLine, not {type(quote_line).__name__}", path=f"lines[{i}]"
            )
        if quote_line.line_id in seen:
            raise ValidationError(
                f"line id {quote_line.line_id!r} is used twice", path=f"lines[{i}].line_id"
            )
        seen.add(quote_line.line_id)
        sku = quote_line.sku
        found = by_sku.get(sku)
        if found is None:
            product = products.get(sku)
            if product is None:
                raise ValidationError(
                    f"no product with sku {sku!r} in the catalog", path=f"lines[{i}].sku"
                )
            if not product.active:
                raise ValidationError(
                    f"product {sku!r} is inactive and cannot be quoted", path=f"lines[{i}].sku"
                )
            chosen, standard = catalog._choose(sku, currency, group, now)
            found = by_sku[sku] = (product, chosen, standard)
        product, chosen, standard = found
        q = quote_line.quantity
        ratio = ratios.get(q)
        if ratio is None:
            ratio = ratios[q] = _ratio(q)
        qn, qd = ratio
        num, den = standard.unit
        if den == 1 and qd == 1 and scale == 1:
            list_amount = num * qn
        else:
            list_amount = _round_div(num * qn, den * qd * scale, even)
        tier_amount = chosen.amount(q, qn, qd, even, scale)
        floor = 0 if chosen.floor is None else min(chosen.floor_amount(qn, qd, scale), tier_amount)
        category = quote_line.tax_category or product.tax_category
        rate = rates.get(category)
        if rate is None:
            pct = Decimal(0) if no_tax else tax.rate_for(category)
            rn, rd = _ratio(pct)
            rate = rates[category] = (pct, (rn, rd * 100))
        prepared.append(
            _Line(
                quote_line,
                product,
                chosen,
                standard,
                qn,
                qd,
                list_amount,
                tier_amount,
                floor,
                category,
                rate,
            )
        )
    return prepared


def _options(
    candidates: list[Any], resolution: Resolution
) -> list[tuple[list[Any], tuple[Any, ...]]]:
    """The sets of rules to try: all combinable together, and each exclusive alone."""
    combinable = [r for r in candidates if r.stacking is Stacking.COMBINABLE]
    exclusive = [r for r in candidates if r.stacking is Stacking.EXCLUSIVE]
    last = (math.inf,)
    combinable_key = _rule_key(combinable[0]) if combinable else last
    if not exclusive:
        return [(combinable, combinable_key)]
    if resolution is Resolution.PRIORITY:
        first = candidates[0]
        if first.stacking is Stacking.EXCLUSIVE:
            return [([first], _rule_key(first))]
        return [(combinable, combinable_key)]
    return [(combinable, combinable_key), *(([r], _rule_key(r)) for r in exclusive)]


def price_quote(
    quote_or_lines: _QuoteLike | Sequence[QuoteLine],
    catalog: Catalog,
    rules: DiscountRuleSet,
    now: datetime,
    *,
    currency: str | None = None,
    customer_id: str | None = None,
    customer_group: str | None = None,
    coupon_codes: Iterable[str] = (),
    discount: ManualDiscount | None = None,
    coupons: Iterable[Coupon] = (),
    tax: TaxPolicy | None = None,
    cash: bool = False,
) -> PricedQuote:
    """Price a quote (or lines) through the waterfall; see the module docstring for the steps.

    Give a :class:`~crmkit.pricing.Quote` (its currency, customer, customer group, coupon codes
    and manual quote discount are used), or a list of :class:`QuoteLine` with ``currency`` and
    the rest as keywords. ``coupons`` are the :class:`~crmkit.pricing.Coupon` records for the
    codes (load them by :meth:`Coupon.id_for`); a code without one, or one that cannot be used
    now, is listed in :attr:`PricedQuote.unapplied` with the reason. ``tax=None`` prices
    without tax. The result depends only on the arguments: not on the order of rules, coupons
    or codes.

    Amounts are exact in the currency's accounting minor units (CLDR, as ISO 4217: TWD 2);
    with ``cash=True`` they are rounded to its cash digits instead (TWD 0: Taiwan invoices are
    in whole dollars), at every step, so the document adds up in what people pay.

    Example:
        >>> from crmkit.pricing.engine import _example
        >>> q = _example()
        >>> [(d.rule_id, d.amount) for d in q.lines[0].discounts]
        [('spring', Money('480.00', 'TWD'))]
        >>> q.total, q.tax
        (Money('4320.00', 'TWD'), Money('205.71', 'TWD'))

    .. versionadded:: 0.1.0
    """
    now = ensure_aware(now, "now")
    if not isinstance(catalog, Catalog):
        raise ValidationError(f"must be a Catalog, not {type(catalog).__name__}", path="catalog")
    if not isinstance(rules, DiscountRuleSet):
        raise ValidationError(
            f"must be a DiscountRuleSet, not {type(rules).__name__}", path="rules"
        )
    if tax is None:
        tax = _NO_TAX
    elif not isinstance(tax, TaxPolicy):
        raise ValidationError(f"must be a TaxPolicy, not {type(tax).__name__}", path="tax")
    if not isinstance(cash, bool):
        raise ValidationError(f"must be True or False, not {cash!r}", path="cash")
    if isinstance(quote_or_lines, Sequence):
        lines = quote_or_lines
        if currency is None:
            raise ValidationError("is required when pricing lines", path="currency")
        if isinstance(coupon_codes, str):
            raise ValidationError("must be a list of codes, not one string", path="coupon_codes")
        codes = tuple(normalize_code(c, "coupon_codes") for c in coupon_codes)
        if customer_group is not None:
            check_id(customer_group, "customer_group")
        if customer_id is not None:
            check_id(customer_id, "customer_id")
    else:
        if not hasattr(quote_or_lines, "lines") or not hasattr(quote_or_lines, "currency"):
            raise ValidationError(
                f"must be a Quote or a list of QuoteLine, not {type(quote_or_lines).__name__}",
                path="quote_or_lines",
            )
        given = [
            name
            for name, value in (
                ("currency", currency),
                ("customer_id", customer_id),
                ("customer_group", customer_group),
                ("discount", discount),
            )
            if value is not None
        ]
        if given or tuple(coupon_codes):
            raise ValidationError(
                f"{', '.join(given) or 'coupon_codes'} come from the quote; do not pass them too",
                path="quote_or_lines",
            )
        quote = quote_or_lines
        lines = quote.lines
        currency = quote.currency
        customer_id = quote.customer_id
        customer_group = quote.customer_group
        codes = tuple(quote.coupon_codes)
        discount = quote.discount
    if not is_currency(currency):
        raise ValidationError(f"{currency!r} is not an ISO 4217 currency code", path="currency")
    if discount is not None:
        if not isinstance(discount, ManualDiscount):
            raise ValidationError(
                f"must be a ManualDiscount or None, not {type(discount).__name__}",
                path="discount",
            )
        if discount.amount is not None:
            _check_currency(discount.amount, currency, "discount.amount")
    for i, quote_line in enumerate(lines):
        manual = getattr(quote_line, "discount", None)
        if manual is not None and manual.amount is not None:
            _check_currency(manual.amount, currency, f"lines[{i}].discount.amount")

    even = rules.rounding is Rounding.HALF_EVEN
    scale = 10 ** max(0, currency_digits(currency) - currency_digits(currency, cash=cash))
    prepared = _prepare_lines(lines, catalog, currency, customer_group, now, tax, even, scale)
    ctx = _Context(prepared, currency, rules, tax, discount, cash, scale)
    tier_total = sum(line.tier_amount for line in prepared)
    cap = None
    if rules.cap_percent is not None:
        num, den = ctx.pct(rules.cap_percent)
        cap = tier_total * num // den  # rounded down: the cap is never exceeded
    if rules.cap_amount is not None and rules.cap_amount.currency == currency:
        num, den = ctx.minor(rules.cap_amount)
        cap_amount = num // den
        cap = cap_amount if cap is None else min(cap, cap_amount)
    ctx.cap = cap

    unapplied: list[Unapplied] = []
    candidates: list[Any] = []
    for rule in (*rules.automatic_rules, *rules.quote_rules):
        if not _active(rule, now, customer_group):
            continue
        rule_currency = _rule_currency(rule)
        if rule_currency is not None and rule_currency != currency:
            continue  # a rule in another currency is for quotes in that currency
        candidates.append(rule)
    candidates.extend(
        _usable_coupons(codes, coupons, currency, customer_id, customer_group, now, unapplied)
    )
    candidates.sort(key=_rule_key)

    options = _options(candidates, rules.resolution)
    best: _Outcome | None = None
    best_key: tuple[int, tuple[Any, ...]] | None = None
    for option, key in options:
        outcome = _Run(ctx, option).run()
        ranked = (outcome.total, key)
        if best_key is None or ranked < best_key:
            best, best_key = outcome, ranked
    assert best is not None
    _explain_losers(candidates, best, rules.resolution, unapplied)
    return _result(ctx, best, now, customer_group, tier_total, unapplied)


def _check_currency(amount: Money, currency: str, path: str) -> None:
    if amount.currency != currency:
        raise ValidationError(f"is in {amount.currency}, but the quote is in {currency}", path=path)


def _usable_coupons(
    codes: tuple[str, ...],
    coupons: Iterable[Coupon],
    currency: str,
    customer_id: str | None,
    group: str | None,
    now: datetime,
    unapplied: list[Unapplied],
) -> list[Coupon]:
    by_code: dict[str, Coupon] = {}
    for coupon in coupons:
        if not isinstance(coupon, Coupon):
            raise ValidationError(f"must be a Coupon, not {type(coupon).__name__}", path="coupons")
        by_code[coupon.code] = coupon
    usable = []
    for code in sorted(set(codes)):
        found = by_code.get(code)
        if found is None:
            unapplied.append(
                Unapplied(
                    code, code, UnappliedReason.UNKNOWN_CODE, f"no coupon with code {code}", code
                )
            )
            continue
        coupon = found
        detail = coupon.unusable_reason(customer_id, now, group)
        if detail is not None:
            unapplied.append(Unapplied(coupon.id, coupon.name, _reason_for(detail), detail, code))
            continue
        coupon_currency = _rule_currency(coupon)
        if coupon_currency not in (None, currency):
            unapplied.append(
                Unapplied(
                    coupon.id,
                    coupon.name,
                    UnappliedReason.CURRENCY,
                    f"coupon {code} is in {coupon_currency}, the quote in {currency}",
                    code,
                )
            )
            continue
        usable.append(coupon)
    return usable


def _explain_losers(
    candidates: list[Any],
    best: _Outcome,
    resolution: Resolution,
    unapplied: list[Unapplied],
) -> None:
    chosen = {id(r) for r in best.rules}
    winner = best.rules[0] if len(best.rules) == 1 else None
    if winner is not None and winner.stacking is not Stacking.EXCLUSIVE:
        winner = None
    for rule in candidates:
        if id(rule) in chosen:
            continue
        code = rule.code if isinstance(rule, Coupon) else None
        if rule.stacking is Stacking.EXCLUSIVE and resolution is Resolution.BEST_FOR_CUSTOMER:
            reason = UnappliedReason.NOT_BEST
            detail = f"{rule.name} is exclusive, and another option gives a lower total"
        elif winner is not None:
            reason = UnappliedReason.EXCLUDED
            detail = f"{rule.name} does not combine with the exclusive {winner.name}"
        else:
            reason = UnappliedReason.EXCLUDED
            detail = f"{rule.name} is exclusive, and a rule earlier by priority applied"
        unapplied.append(Unapplied(rule.id, rule.name, reason, detail, code))
    for rule in best.unmet:
        code = rule.code if isinstance(rule, Coupon) else None
        unapplied.append(
            Unapplied(
                rule.id,
                rule.name,
                UnappliedReason.MIN_ORDER,
                f"{rule.name} needs an order of at least {rule.min_order}",
                code,
            )
        )


def _kind(rule: Any, default: DiscountKind) -> DiscountKind:
    return _KIND_OF.get(type(rule), default)


def _result(
    ctx: _Context,
    best: _Outcome,
    now: datetime,
    group: str | None,
    tier_total: int,
    unapplied: list[Unapplied],
) -> PricedQuote:
    """Build the PricedQuote: totals now, line-by-line detail on first access."""
    money = _fast_money(ctx.currency, ctx.digits)
    priced = object.__new__(PricedQuote)
    priced.__dict__.update(
        currency=ctx.currency,
        priced_at=now,
        customer_group=group,
        list_total=money(sum(line.list_amount for line in ctx.lines)),
        tier_total=money(tier_total),
        subtotal=money(sum(best.nets)),
        quote_discount=money(sum(r.amount for r in best.quote_recs)),
        tax_included=ctx.inclusive,
        tax=money(sum(best.taxes)),
        total=money(best.total),
        rounding=ctx.rounding,
        tax_rounding=ctx.tax.rounding,
        cash=ctx.cash,
        cap=None if ctx.cap is None else money(ctx.cap),
        unapplied=tuple(unapplied),
        _pending=_Pending(ctx, best, money),
    )
    return priced


class _Pending:
    """The line-by-line detail of a priced quote, built when first read."""

    __slots__ = ("best", "ctx", "money")

    def __init__(self, ctx: _Context, best: _Outcome, money: Any) -> None:
        self.ctx = ctx
        self.best = best
        self.money = money

    def materialize(self) -> dict[str, Any]:
        ctx, best, money = self.ctx, self.best, self.money
        n = len(ctx.lines)
        inclusive = ctx.inclusive
        quote_shares = [0] * n
        quote_discounts = []
        zeros = None
        for rec in best.quote_recs:
            if rec.shares is None:
                zeros = zeros or (money(0),) * n
                shares = zeros
            else:
                for i, part in enumerate(rec.shares):
                    quote_shares[i] += part
                shares = tuple(map(money, rec.shares))
            rule = rec.rule
            is_manual = isinstance(rule, _Manual)
            quote_discounts.append(
                QuoteLevelDiscount(
                    rule.id,
                    rule.name,
                    DiscountKind.MANUAL if is_manual else _kind(rule, DiscountKind.QUOTE_DISCOUNT),
                    money(rec.base),
                    money(rec.amount),
                    shares,
                    rule.percent,
                    rule.code if isinstance(rule, Coupon) else None,
                    rec.clamp,
                )
            )
        per_line: list[list[AppliedDiscount]] = [[] for _ in range(n)]
        for i, rule, amount, clamp in best.recs:
            is_manual = isinstance(rule, _Manual)
            per_line[i].append(
                AppliedDiscount(
                    rule.id,
                    rule.name,
                    DiscountKind.MANUAL if is_manual else _kind(rule, DiscountKind.PROMOTION),
                    Step.LINE if is_manual else Step.AUTOMATIC,
                    money(amount),
                    None if isinstance(rule, BundlePrice) else rule.percent,
                    clamp,
                )
            )
        lines = []
        tax_groups: dict[tuple[str, Decimal], list[int]] = {}
        for i, line in enumerate(ctx.lines):
            amount = best.amounts[i]
            tax_units = best.taxes[i]
            entry = line.choice
            tiers: tuple[TierCharge, ...] = ()
            if entry.graduated:
                bands = entry.bands(line.q, ctx.even, ctx.scale)
                tiers = tuple(TierCharge(q, price, money(units)) for q, price, units in bands)
                tier_price = bands[-1][1]
            else:
                tier_price = entry.band_prices[entry.volume_index(line.q)]
            product = line.product
            lines.append(
                PricedLine(
                    line_id=line.line.line_id,
                    sku=product.sku,
                    name=line.line.description or product.name,
                    quantity=line.q,
                    unit=product.unit,
                    list_price=line.list_entry.entry.unit_price,
                    list_amount=money(line.list_amount),
                    price_book_id=entry.book_id,
                    tier_mode=entry.entry.tier_mode,
                    tier_price=tier_price,
                    tier_amount=money(line.tier_amount),
                    discounts=tuple(per_line[i]),
                    net=money(best.nets[i]),
                    quote_discount=money(quote_shares[i]),
                    tax_category=line.category,
                    tax_rate=line.rate_pct,
                    tax=money(tax_units),
                    tax_included=inclusive,
                    tiers=tiers,
                )
            )
            key = (line.category, line.rate_pct)
            sums = tax_groups.get(key)
            if sums is None:
                sums = tax_groups[key] = [0, 0]
            sums[0] += amount - tax_units if inclusive else amount
            sums[1] += tax_units
        taxes = tuple(
            TaxAmount(category, rate, money(sums[0]), money(sums[1]))
            for (category, rate), sums in sorted(tax_groups.items())
        )
        return {"lines": tuple(lines), "quote_discounts": tuple(quote_discounts), "taxes": taxes}


def _example_setup() -> tuple[Catalog, DiscountRuleSet, TaxPolicy, datetime]:
    """Catalog, rules, tax and time for the docstrings: tea in boxes, volume tiers, TW VAT."""
    from datetime import timezone

    from crmkit.pricing.catalog import PriceBook, PriceBookEntry, PriceTier

    now = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    twd = "TWD"
    catalog = Catalog(
        products=[Product(sku="TEA-500", name="Oolong tea 500 g", category="tea", unit="box")],
        price_books=[
            PriceBook(
                id="pb_twd",
                name="Standard TWD",
                currency=twd,
                entries=[
                    PriceBookEntry(
                        sku="TEA-500",
                        unit_price=Money("100", twd),
                        tiers=[PriceTier(10, Money("90", twd)), PriceTier(50, Money("80", twd))],
                    )
                ],
            )
        ],
    )
    rules = DiscountRuleSet(
        id="rs_spring",
        name="Spring",
        promotions=[
            Promotion(
                id="spring", name="Spring sale", created_at=now, percent=10, categories=["tea"]
            )
        ],
    )
    tax = TaxPolicy(rates={"standard": 5}, prices_include_tax=True, name="Taiwan VAT")
    return catalog, rules, tax, now


def _example() -> PricedQuote:
    """A priced quote for the docstrings: 60 boxes, volume tiers, a promotion, TW VAT incl."""
    catalog, rules, tax, now = _example_setup()
    return price_quote(
        [QuoteLine(line_id="l1", sku="TEA-500", quantity=60)],
        catalog,
        rules,
        now,
        currency="TWD",
        tax=tax,
    )
