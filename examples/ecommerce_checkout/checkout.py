"""The checkout plugin: price a cart with crmkit's rules, earn points on payment, reverse on refund.

A shop calls three methods of :class:`Checkout`:

* :meth:`Checkout.price_cart` when the customer opens the checkout page: the cart becomes a
  crmkit quote priced through the waterfall (price book and volume tier, the automatic
  promotion, the coupon, VAT included), and the page shows :meth:`PricedCart.explain`. The
  quote's id is the *checkout id*: the shop passes it to its payment provider as metadata,
  and the provider's callbacks bring it back.
* :meth:`Checkout.order_paid` from the payment provider's "order paid" callback, with the
  shop's order reference: the quote is accepted (which redeems the coupon, once) and the order
  earns Tea Club points through crmkit's loyalty use case. Providers repeat callbacks; the
  same order reference again changes nothing and answers the same.
* :meth:`Checkout.order_refunded` from the refund callback, with the refund's reference: the
  points are clawed back in proportion to the refunded amount, once per refund reference.

Everything crmkit refuses is a ``CRMError`` with a stable ``code`` the shop can show or map to
an HTTP status (:mod:`crmkit.http`); the plugin adds one error of its own,
:class:`CouponRefused`, a ``RuleViolation`` with the code ``checkout.coupon_refused``.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from crmkit import CRM, Money
from crmkit.errors import RuleViolation, ValidationError
from crmkit.loyalty import EarnOrder, PointsBalance
from crmkit.pricing import PricedQuote, Quote, QuoteLine, QuoteStatus

__all__ = ["CartItem", "Checkout", "CouponRefused", "Payment", "PricedCart", "Refund"]


class CouponRefused(RuleViolation):
    """The coupon exists but cannot be used on this cart now (expired, used, order too small).

    ``details`` holds ``code`` (the coupon), ``reason`` (crmkit's
    :class:`~crmkit.pricing.UnappliedReason` value) and ``checkout_id``.
    """

    code = "checkout.coupon_refused"


@attrs.frozen
class CartItem:
    """One line of the shop's cart: a SKU and a whole quantity."""

    sku: str
    quantity: int


@attrs.frozen
class PricedCart:
    """A priced cart: its checkout id (the quote's id), the customer and crmkit's result."""

    checkout_id: str
    customer_id: str
    priced: PricedQuote

    @property
    def total(self) -> Money:
        """What the customer pays, VAT included."""
        return self.priced.total

    def explain(self, locale: str) -> str:
        """crmkit's full waterfall, line by line, in ``locale`` (en, zh_Hant_TW, zh_Hans_CN)."""
        return self.priced.explain(locale)

    def waterfall(self) -> list[tuple[str, Money]]:
        """The cart's waterfall in short, for a checkout page: each step and its amount.

        List price, the volume tier's saving, each automatic promotion and each coupon (as
        negative amounts), the total and the VAT it includes. The steps add up to the total.
        """
        priced, currency = self.priced, self.priced.currency
        steps = [("List price", priced.list_total)]
        if priced.tier_total != priced.list_total:
            steps.append(("Volume price", priced.tier_total - priced.list_total))
        promotions: dict[str, list[Money]] = {}
        for line in priced.lines:
            for discount in line.discounts:
                promotions.setdefault(discount.name, []).append(discount.amount)
        for name, amounts in promotions.items():
            steps.append((name, -Money.sum(amounts, currency=currency)))
        for quote_discount in priced.quote_discounts:
            code = quote_discount.code
            steps.append(
                (f"Coupon {code}" if code else quote_discount.name, -quote_discount.amount)
            )
        steps.append(("Total", priced.total))
        steps.append(("of which VAT", priced.tax))
        return steps


@attrs.frozen
class Payment:
    """What an "order paid" callback did: the points the order earned and the member's balance."""

    order_ref: str
    checkout_id: str
    customer_id: str
    paid: Money
    points: int
    balance: PointsBalance


@attrs.frozen
class Refund:
    """What a refund callback did: the points taken back (negative) and the balance after."""

    order_ref: str
    refund_ref: str
    refunded: Money
    points: int
    balance: PointsBalance


class Checkout:
    """The shop's checkout, over a CRM set up with its catalog, rules and loyalty program."""

    def __init__(self, crm: CRM, *, currency: str = "TWD") -> None:
        self.crm = crm
        self.currency = currency

    # ----- the checkout page ----------------------------------------------------------------
    def price_cart(
        self, customer_id: str, items: Iterable[CartItem], *, coupon: str | None = None
    ) -> PricedCart:
        """Price the cart for the customer, with the coupon the customer typed (if any).

        An unknown coupon code is crmkit's ``NotFoundError`` (``not_found``) and nothing is
        stored; a known coupon that cannot be used now is :class:`CouponRefused`. (The quote
        priced for a refused coupon stays a draft and expires with the others.)
        """
        lines = [
            QuoteLine(line_id=f"l{n}", sku=item.sku, quantity=item.quantity)
            for n, item in enumerate(items, start=1)
        ]
        if not lines:
            raise ValidationError("the cart is empty; add at least one item", path="items")
        quote = self.crm.create_quote(
            customer_id, self.currency, lines=lines, coupon_codes=[coupon] if coupon else []
        )
        priced = self.crm.price_quote(quote.id)
        for skipped in priced.unapplied:
            if skipped.code is not None:  # a coupon the customer typed, not an automatic rule
                raise CouponRefused(
                    f"coupon {skipped.code} cannot be used on this order: {skipped.detail}",
                    details={
                        "code": skipped.code,
                        "reason": skipped.reason.value,
                        "checkout_id": quote.id,
                    },
                )
        return PricedCart(checkout_id=quote.id, customer_id=customer_id, priced=priced)

    # ----- the payment provider's callbacks ---------------------------------------------------
    def order_paid(self, order_ref: str, *, checkout_id: str, amount: Money) -> Payment:
        """The "order paid" callback: accept the priced cart and earn the order's points.

        ``amount`` must be the checkout's total (a ``ValidationError`` on ``amount`` if not).
        The same ``order_ref`` again returns the same points and earns nothing more.
        """
        quote = self.crm.get_quote(checkout_id)
        if quote.priced is None:
            raise ValidationError(
                f"checkout {checkout_id} was never priced; call price_cart first",
                path="checkout_id",
            )
        if amount != quote.priced.total:
            raise ValidationError(
                f"the payment of {amount.format('en')} does not match the checkout's total of "
                f"{quote.priced.total.format('en')}",
                path="amount",
            )
        quote = self._accept(quote)  # redeems the coupon, once
        crm = self.crm
        crm.enroll_member(quote.customer_id)  # the membership as it is, if enrolled already
        entry = crm.earn_for_order(quote.customer_id, EarnOrder.of(order_ref, amount))
        return Payment(
            order_ref=order_ref,
            checkout_id=checkout_id,
            customer_id=quote.customer_id,
            paid=amount,
            points=entry.points,
            balance=crm.points_balance(quote.customer_id).balance,
        )

    def order_refunded(
        self, order_ref: str, *, checkout_id: str, refund_ref: str, amount: Money
    ) -> Refund:
        """The refund callback: take back the order's points in proportion, once per refund."""
        customer_id = self.crm.get_quote(checkout_id).customer_id
        entry = self.crm.refund_order(customer_id, order_ref, refund_id=refund_ref, refunded=amount)
        return Refund(
            order_ref=order_ref,
            refund_ref=refund_ref,
            refunded=amount,
            points=entry.points,
            balance=self.crm.points_balance(customer_id).balance,
        )

    def _accept(self, quote: Quote) -> Quote:
        """Walk the quote to accepted: submit and send (no approvals here), then accept.

        Each step is skipped once done, so a repeated callback finds the quote accepted and
        accepting it again redeems nothing.
        """
        crm = self.crm
        if quote.status is QuoteStatus.DRAFT:
            quote = crm.submit_quote(quote.id)
        if quote.status is QuoteStatus.APPROVED:
            quote = crm.send_quote(quote.id)
        return crm.accept_quote(quote.id)
