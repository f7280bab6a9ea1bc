"""Commands of the pricing context: what a user asks crmkit to do with catalogs and quotes.

Commands are imperative (``AcceptQuote``, not ``QuoteAccepted``), immutable, and checked when
they are built: a command that exists is well-formed, and a malformed one raises a
:class:`~crmkit.errors.ValidationError` naming the field. Whether the command is *allowed* (the
quote exists, its status permits the move, the actor may do it) is decided when the message bus
handles it (see :mod:`crmkit.app.quotes`).

Every command carries ``actor``: the id of the user (or system) asking, or ``None``; an
approval decision needs one (the approver).

* Catalog and rules admin: :class:`UpsertProduct`, :class:`UpsertPriceBook`,
  :class:`SaveDiscountRuleSet`, :class:`CreateCoupon`.
* A quote's content: :class:`CreateQuote`, :class:`AddQuoteLine`, :class:`UpdateQuoteLine`,
  :class:`RemoveQuoteLine`, :class:`ApplyCoupon`, :class:`RemoveCoupon`,
  :class:`SetQuoteDiscount`.
* Its life: :class:`PriceQuote`, :class:`SubmitQuote`, :class:`ApproveQuote`,
  :class:`RejectQuoteApproval`, :class:`SendQuote`, :class:`AcceptQuote`, :class:`RejectQuote`,
  :class:`ExpireQuote`, :class:`ExpireDueQuotes`, :class:`ReviseQuote`.

Example:
    >>> from crmkit.pricing.commands import AddQuoteLine, CreateQuote
    >>> CreateQuote("cus_1", "TWD", customer_group=" dealer ").customer_group
    'dealer'
    >>> AddQuoteLine("quo_1", "TEA-500", "2.5").quantity
    Decimal('2.5')
    >>> CreateQuote("cus_1", "NTD")
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: currency: 'NTD' is not an ISO 4217 currency code (e.g. 'TWD',
    'CNY', 'USD')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import attrs

from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.ids import check_id
from crmkit.kernel.time import validate_optional_aware
from crmkit.pricing._model import Quote
from crmkit.pricing.catalog import PriceBook, Product, _optional_key, _tuple_of
from crmkit.pricing.engine import QuoteLine, _line_quantity, _line_sku
from crmkit.pricing.rules import Coupon, DiscountRuleSet, ManualDiscount, normalize_code

__all__ = [
    "AcceptQuote",
    "AddQuoteLine",
    "ApplyCoupon",
    "ApproveQuote",
    "CreateCoupon",
    "CreateQuote",
    "ExpireDueQuotes",
    "ExpireQuote",
    "PriceQuote",
    "RejectQuote",
    "RejectQuoteApproval",
    "RemoveCoupon",
    "RemoveQuoteLine",
    "ReviseQuote",
    "SaveDiscountRuleSet",
    "SendQuote",
    "SetQuoteDiscount",
    "SubmitQuote",
    "UpdateQuoteLine",
    "UpsertPriceBook",
    "UpsertProduct",
]

#: The instant a command's quote or line is checked at (any aware instant works: the checks
#: that need the real time run when the command is handled).
_CHECK_AT = datetime(2000, 1, 1, tzinfo=timezone.utc)


# ----- field helpers ---------------------------------------------------------------------------


def _id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_id(value, attribute.name)


def _optional_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _aware(instance: Any, attribute: Any, value: datetime | None) -> None:
    validate_optional_aware(instance, attribute, value)


def _instance(cls: type, path: str, optional: bool = False) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if optional and value is None:
            return
        if not isinstance(value, cls):
            wanted = f"a {cls.__name__} or None" if optional else f"a {cls.__name__}"
            raise ValidationError(f"must be {wanted}, not {type(value).__name__}", path=path)

    return check


def _lines(value: object) -> tuple[QuoteLine, ...]:
    return _tuple_of(QuoteLine, "lines")(value)


def _codes(value: object) -> tuple[str, ...]:
    return v.text_tuple("coupon_codes", normalize_code, max_items=20)(value)


def _code(value: object) -> str:
    return normalize_code(value)


def _optional_category(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="tax_category")
    return check_id(value.strip(), "tax_category")


def _optional_text(n: int) -> Any:
    return attrs.field(
        default=None, kw_only=True, converter=v.strip_optional, validator=v.optional_text(n)
    )


def _actor() -> Any:
    return attrs.field(default=None, kw_only=True, validator=_optional_id)


def _new_aggregate(what: str) -> Any:
    def check(_instance: object, _attribute: object, value: Any) -> None:
        if getattr(value, "pending_events", ()):
            raise ValidationError(
                f"has unsaved events; pass a {what} you built or loaded, not one mid-change",
                path=what,
            )

    return check


# ----- catalog and rules admin -----------------------------------------------------------------


@attrs.frozen
class UpsertProduct:
    """Store a product: add it, or replace the product with the same sku.

    A product built afresh (``version`` 0) replaces whatever is stored; one loaded from the
    store (``version`` > 0) is saved only if nobody changed it since (``ConcurrencyError``).

    Example:
        >>> cmd = UpsertProduct(Product(sku="TEA-500", name="Oolong tea 500 g", category="tea"))
        >>> cmd.product.id
        'TEA-500'
        >>> UpsertProduct("TEA-500")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: product: must be a Product, not str

    .. versionadded:: 0.1.0
    """

    product: Product = attrs.field(
        validator=[_instance(Product, "product"), _new_aggregate("product")]
    )
    actor: str | None = _actor()


@attrs.frozen
class UpsertPriceBook:
    """Store a price book: add it, or replace the book with the same id (as :class:`UpsertProduct`).

    Example:
        >>> from crmkit.kernel.money import Money
        >>> from crmkit.pricing import PriceBookEntry
        >>> book = PriceBook(id="pb_twd", name="Standard TWD", currency="TWD",
        ...     entries=[PriceBookEntry(sku="TEA-500", unit_price=Money("450", "TWD"))])
        >>> UpsertPriceBook(book).price_book.currency
        'TWD'

    .. versionadded:: 0.1.0
    """

    price_book: PriceBook = attrs.field(
        validator=[_instance(PriceBook, "price_book"), _new_aggregate("price_book")]
    )
    actor: str | None = _actor()


@attrs.frozen
class SaveDiscountRuleSet:
    """Store a discount rule set: add it, or replace the rule set with the same id.

    A rule set cannot be edited in place: build a new one (``attrs.evolve``) and save it, so
    pricing never sees half an edit.

    Example:
        >>> SaveDiscountRuleSet(DiscountRuleSet.empty("rs_none")).rule_set.id
        'rs_none'

    .. versionadded:: 0.1.0
    """

    rule_set: DiscountRuleSet = attrs.field(
        validator=[_instance(DiscountRuleSet, "rule_set"), _new_aggregate("rule_set")]
    )
    actor: str | None = _actor()


@attrs.frozen
class CreateCoupon:
    """Add a new coupon (``DuplicateError`` if its code exists); it starts with no uses.

    A coupon counts its own uses, so it is created once and never replaced; a stored coupon
    changes only through acceptances (:meth:`~crmkit.pricing.Coupon.redeem`).

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> CreateCoupon(Coupon(code="spring10", name="Spring", percent=10,
        ...                     created_at=now)).coupon.id
        'coupon_SPRING10'

    .. versionadded:: 0.1.0
    """

    coupon: Coupon = attrs.field(validator=[_instance(Coupon, "coupon"), _new_aggregate("coupon")])
    actor: str | None = _actor()

    def __attrs_post_init__(self) -> None:
        if self.coupon.version != 0:
            raise ValidationError(
                f"must be a new coupon (version 0), not a stored one (version "
                f"{self.coupon.version})",
                path="coupon.version",
            )
        if self.coupon.redemptions:
            raise ValidationError(
                f"a new coupon has no uses; got {len(self.coupon.redemptions)}",
                path="coupon.redemptions",
            )


# ----- a quote's content -----------------------------------------------------------------------


@attrs.frozen
class CreateQuote:
    """Create a draft quote for a customer, in a currency, valid until a moment.

    Args:
        customer_id: the customer (it must exist).
        currency: the ISO 4217 currency of every price on the quote.
        valid_until: when the offer lapses (aware; default: now plus the CRM's
            ``PricingSettings.valid_for``, 30 days).
        customer_group: the customer's price group (``"dealer"``), for group price books and
            rules.
        lines, coupon_codes, discount: the quote's first lines, coupon codes and the rep's
            discount on the whole quote.
        owner: the rep who owns the quote (an owner cannot approve their own quote).
        actor: who asks.

    Example:
        >>> from crmkit.pricing import QuoteLine
        >>> cmd = CreateQuote("cus_1", "TWD", coupon_codes=[" spring10 "],
        ...                   lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=3)])
        >>> cmd.coupon_codes, [line.sku for line in cmd.lines]
        (('SPRING10',), ['TEA-500'])

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    currency: str = attrs.field()
    valid_until: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware)
    customer_group: str | None = attrs.field(default=None, kw_only=True, converter=_optional_key)
    lines: tuple[QuoteLine, ...] = attrs.field(default=(), kw_only=True, converter=_lines)
    coupon_codes: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_codes)
    discount: ManualDiscount | None = attrs.field(
        default=None, kw_only=True, validator=_instance(ManualDiscount, "discount", True)
    )
    owner: str | None = attrs.field(default=None, kw_only=True, validator=_optional_id)
    actor: str | None = _actor()

    def __attrs_post_init__(self) -> None:
        # The quote itself checks the currency, the lines and the discount's currency.
        self.build(id="quo_check", now=_CHECK_AT, valid_until=self.valid_until or _CHECK_AT)

    def build(self, *, id: str, now: datetime, valid_until: datetime) -> Quote:
        """Return the quote this command describes, as it is before ``Quote.create`` checks time.

        Example:
            >>> from datetime import datetime, timezone
            >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
            >>> CreateQuote("cus_1", "TWD").build(id="quo_1", now=at, valid_until=at).status.value
            'draft'
        """
        return Quote(
            id=id,
            customer_id=self.customer_id,
            currency=self.currency,
            created_at=now,
            valid_until=valid_until,
            lines=self.lines,
            customer_group=self.customer_group,
            coupon_codes=self.coupon_codes,
            discount=self.discount,
            owner=self.owner,
        )


@attrs.frozen
class AddQuoteLine:
    """Add a line to a quote: a product (by sku), a quantity, optionally a manual discount.

    ``line_id`` defaults to the next free ``l<n>`` of the quote (``l1``, ``l2``...).

    Example:
        >>> AddQuoteLine("quo_1", " TEA-500 ", 60, discount=ManualDiscount(percent=5)).sku
        'TEA-500'
        >>> AddQuoteLine("quo_1", "TEA-500", 0)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: quantity: must be greater than 0, got 0

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    sku: str = attrs.field(converter=_line_sku)
    quantity: Decimal = attrs.field(converter=_line_quantity)
    line_id: str | None = attrs.field(default=None, kw_only=True, validator=_optional_id)
    discount: ManualDiscount | None = attrs.field(
        default=None, kw_only=True, validator=_instance(ManualDiscount, "discount", True)
    )
    tax_category: str | None = attrs.field(default=None, kw_only=True, converter=_optional_category)
    description: str | None = _optional_text(500)
    actor: str | None = _actor()

    def __attrs_post_init__(self) -> None:
        self.build(self.line_id or "l1")

    def build(self, line_id: str) -> QuoteLine:
        """Return the :class:`~crmkit.pricing.QuoteLine` this command adds, with ``line_id``.

        Example:
            >>> AddQuoteLine("quo_1", "TEA-500", 2).build("l7").line_id
            'l7'
        """
        return QuoteLine(
            line_id=line_id,
            sku=self.sku,
            quantity=self.quantity,
            discount=self.discount,
            tax_category=self.tax_category,
            description=self.description,
        )


@attrs.frozen
class UpdateQuoteLine:
    """Replace the quote's line with the same ``line_id`` by ``line`` (quantity, discount...).

    Read the line with ``quote.line(line_id)`` and change it with ``attrs.evolve``.

    Example:
        >>> from crmkit.pricing import QuoteLine
        >>> line = QuoteLine(line_id="l1", sku="TEA-500", quantity=80)
        >>> UpdateQuoteLine("quo_1", line).line.quantity
        Decimal('80')

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    line: QuoteLine = attrs.field(validator=_instance(QuoteLine, "line"))
    actor: str | None = _actor()


@attrs.frozen
class RemoveQuoteLine:
    """Remove the line ``line_id`` from a quote.

    Example:
        >>> RemoveQuoteLine("quo_1", "l2").line_id
        'l2'

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    line_id: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class ApplyCoupon:
    """Put coupon ``code`` on a quote (normalised: trimmed, upper case); it must exist.

    Whether it applies (window, minimum order, targets, limits) is decided when the quote is
    priced; one that does not is listed in the pricing's ``unapplied`` with the reason.

    Example:
        >>> ApplyCoupon("quo_1", " spring10 ").code
        'SPRING10'

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    code: str = attrs.field(converter=_code)
    actor: str | None = _actor()


@attrs.frozen
class RemoveCoupon:
    """Take coupon ``code`` off a quote (a code it does not have is a no-op).

    Example:
        >>> RemoveCoupon("quo_1", "spring10").code
        'SPRING10'

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    code: str = attrs.field(converter=_code)
    actor: str | None = _actor()


@attrs.frozen
class SetQuoteDiscount:
    """Set the rep's discount on the whole quote, or clear it with ``None``.

    Example:
        >>> SetQuoteDiscount("quo_1", ManualDiscount(percent=5, reason="loyal")).discount.percent
        Decimal('5')

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    discount: ManualDiscount | None = attrs.field(
        validator=_instance(ManualDiscount, "discount", True)
    )
    actor: str | None = _actor()


# ----- a quote's life --------------------------------------------------------------------------


@attrs.frozen
class PriceQuote:
    """Price a quote with the stored catalog, a discount rule set and the quote's coupons.

    ``rule_set_id`` names the stored :class:`~crmkit.pricing.DiscountRuleSet` (default: the
    CRM's ``PricingSettings.rule_set_id``; with neither, only manual discounts and coupons
    apply).

    Example:
        >>> PriceQuote("quo_1", rule_set_id="rs_spring").rule_set_id
        'rs_spring'

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    rule_set_id: str | None = attrs.field(default=None, kw_only=True, validator=_optional_id)
    actor: str | None = _actor()


@attrs.frozen
class SubmitQuote:
    """Submit a priced draft: it waits for the approvals its discount needs, or is approved.

    Example:
        >>> SubmitQuote("quo_1", actor="u_amy").actor
        'u_amy'

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class ApproveQuote:
    """Approve a quote's discount in ``role``; ``actor`` is the approver and is required.

    Example:
        >>> ApproveQuote("quo_1", "sales_manager", actor="u_lin", comment="key account").role
        'sales_manager'
        >>> ApproveQuote("quo_1", "sales_manager", actor="")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: actor: must be a non-empty string of at most 64
        characters without spaces, got ''

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    role: str = attrs.field(validator=_id)
    actor: str = attrs.field(kw_only=True, validator=_id)
    comment: str | None = _optional_text(2000)


@attrs.frozen
class RejectQuoteApproval:
    """Refuse a quote's discount in ``role``: the quote becomes a draft again; ``actor`` decides.

    Example:
        >>> RejectQuoteApproval("quo_1", "director", actor="u_dir", comment="too deep").comment
        'too deep'

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    role: str = attrs.field(validator=_id)
    actor: str = attrs.field(kw_only=True, validator=_id)
    comment: str | None = _optional_text(2000)


@attrs.frozen
class SendQuote:
    """Mark an approved quote as sent to the customer.

    Example:
        >>> SendQuote("quo_1").quote_id
        'quo_1'

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class AcceptQuote:
    """Record that the customer accepted a sent quote, and redeem its coupons, atomically.

    Accepting an accepted quote returns it and changes nothing.

    Example:
        >>> AcceptQuote("quo_1", actor="portal").actor
        'portal'

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class RejectQuote:
    """Record that the customer rejected a sent quote, and why.

    Example:
        >>> RejectQuote("quo_1", reason="  went with a competitor ").reason
        'went with a competitor'

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    reason: str | None = _optional_text(2000)
    actor: str | None = _actor()


@attrs.frozen
class ExpireQuote:
    """Expire one open quote whose ``valid_until`` has passed.

    Example:
        >>> ExpireQuote("quo_1").quote_id
        'quo_1'

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class ExpireDueQuotes:
    """Expire every open quote whose ``valid_until`` has passed (for a scheduler).

    Example:
        >>> ExpireDueQuotes(actor="scheduler").actor
        'scheduler'

    .. versionadded:: 0.1.0
    """

    actor: str | None = _actor()


@attrs.frozen
class ReviseQuote:
    """Supersede a quote with a new draft revision, valid until ``valid_until``.

    ``valid_until`` defaults to the quote's own, or, when that has passed, to now plus the
    CRM's ``PricingSettings.valid_for``.

    Example:
        >>> ReviseQuote("quo_1").valid_until is None
        True

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id)
    valid_until: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware)
    actor: str | None = _actor()
