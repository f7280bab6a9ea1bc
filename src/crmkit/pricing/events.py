"""Domain events of the pricing context: a quote's life, its approvals, and coupon uses.

A quote records one event per change: created (or created as a revision), edited, priced,
submitted, an approval decision, approved, sent, accepted, rejected, expired, revised. A coupon
records :class:`CouponRedeemed`. :class:`QuoteAccepted` carries what an ERP needs to make a
sales order: the customer, the currency and, per line, the sku, quantity, prices, discount, tax
and total, all frozen at acceptance. Amounts are exact Money; percentages are never stored.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.money import Money
    >>> e = QuoteSent(aggregate_id="q_1", occurred_at=datetime(2026, 3, 2, tzinfo=timezone.utc),
    ...               total=Money("1050", "TWD"),
    ...               valid_until=datetime(2026, 4, 1, tzinfo=timezone.utc))
    >>> e.event_type, e.total
    ('pricing.QuoteSent', Money('1050', 'TWD'))

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money

__all__ = [
    "CouponRedeemed",
    "OrderLine",
    "QuoteAccepted",
    "QuoteApprovalDecided",
    "QuoteApprovalReset",
    "QuoteApproved",
    "QuoteCreated",
    "QuoteEdited",
    "QuoteExpired",
    "QuotePriced",
    "QuoteRejected",
    "QuoteRevised",
    "QuoteSent",
    "QuoteSubmitted",
]


@attrs.frozen(kw_only=True)
class QuoteCreated(DomainEvent):
    """A quote was created: new, or as revision ``revision`` of ``previous_revision_id``.

    Example:
        >>> QuoteCreated.event_type
        'pricing.QuoteCreated'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.QuoteCreated"
    customer_id: str
    currency: str
    valid_until: datetime
    revision: int = 1
    previous_revision_id: str | None = None


@attrs.frozen(kw_only=True)
class QuoteEdited(DomainEvent):
    """A quote's lines, coupons or discount changed; ``changes`` names what.

    ``approvals_reset`` is true when the edit threw away a pricing that was submitted or
    approved (the quote is a draft again and must be priced and approved anew).

    Example:
        >>> QuoteEdited.event_type
        'pricing.QuoteEdited'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.QuoteEdited"
    changes: tuple[str, ...]
    approvals_reset: bool = False


@attrs.frozen(kw_only=True)
class QuotePriced(DomainEvent):
    """A quote was priced: its totals and the approval levels the discount needs.

    ``discount_total`` is every discount in exact money and ``price_book_total`` what the lines
    cost before discounts, so a reader derives the percentage without a stored rounding.

    Example:
        >>> QuotePriced.event_type
        'pricing.QuotePriced'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.QuotePriced"
    subtotal: Money
    discount_total: Money
    price_book_total: Money
    tax: Money
    total: Money
    required_approvals: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class QuoteSubmitted(DomainEvent):
    """A priced quote was submitted; ``required_approvals`` lists the roles that must approve.

    Example:
        >>> QuoteSubmitted.event_type
        'pricing.QuoteSubmitted'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.QuoteSubmitted"
    required_approvals: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class QuoteApprovalDecided(DomainEvent):
    """Someone in ``role`` approved (``approved=True``) or rejected the quote's discount.

    Example:
        >>> QuoteApprovalDecided.event_type
        'pricing.QuoteApprovalDecided'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.QuoteApprovalDecided"
    role: str
    by: str
    approved: bool
    comment: str | None = None


@attrs.frozen(kw_only=True)
class QuoteApproved(DomainEvent):
    """Every required approval is in (or none was needed): the quote may be sent.

    Example:
        >>> QuoteApproved.event_type
        'pricing.QuoteApproved'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.QuoteApproved"
    approved_by: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class QuoteApprovalReset(DomainEvent):
    """The approvals given so far no longer count (a priced line changed, or one was rejected).

    Example:
        >>> QuoteApprovalReset.event_type
        'pricing.QuoteApprovalReset'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.QuoteApprovalReset"
    reason: str


@attrs.frozen(kw_only=True)
class QuoteSent(DomainEvent):
    """The quote was sent to the customer, with the total it shows and how long it is valid.

    Example:
        >>> QuoteSent.event_type
        'pricing.QuoteSent'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.QuoteSent"
    total: Money
    valid_until: datetime


@attrs.frozen(kw_only=True)
class OrderLine:
    """One line of an accepted quote, as an ERP needs it to make a sales order line.

    ``list_price`` is per unit; ``price_book_amount`` is the line before discounts;
    ``discount`` every discount on the line (its own and its share of quote-level ones);
    ``amount`` what remains (tax-inclusive when ``QuoteAccepted.tax_included``); ``tax`` and
    ``total`` are exact to the cent and sum to the quote's.

    Example:
        >>> OrderLine(line_id="l1", sku="TEA", quantity=Decimal("2"), unit="box",
        ...     tax_category="standard", tax_rate=Decimal("5"),
        ...     list_price=Money("450", "TWD"), price_book_amount=Money("900", "TWD"),
        ...     discount=Money("90", "TWD"), amount=Money("810", "TWD"),
        ...     tax=Money("40.50", "TWD"), total=Money("850.50", "TWD")).total
        Money('850.50', 'TWD')

    .. versionadded:: 0.1.0
    """

    line_id: str
    sku: str
    quantity: Decimal
    unit: str
    tax_category: str
    tax_rate: Decimal
    list_price: Money
    price_book_amount: Money
    discount: Money
    amount: Money
    tax: Money
    total: Money


@attrs.frozen(kw_only=True)
class QuoteAccepted(DomainEvent):
    """The customer accepted the quote: prices are frozen; an ERP can make the order from this.

    Example:
        >>> QuoteAccepted.event_type
        'pricing.QuoteAccepted'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.QuoteAccepted"
    customer_id: str
    revision: int
    currency: str
    lines: tuple[OrderLine, ...]
    subtotal: Money
    quote_discount: Money
    tax: Money
    total: Money
    tax_included: bool
    coupon_codes: tuple[str, ...] = ()
    customer_group: str | None = None
    priced_at: datetime | None = None


@attrs.frozen(kw_only=True)
class QuoteRejected(DomainEvent):
    """The customer rejected the quote.

    Example:
        >>> QuoteRejected.event_type
        'pricing.QuoteRejected'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.QuoteRejected"
    reason: str | None = None


@attrs.frozen(kw_only=True)
class QuoteExpired(DomainEvent):
    """The quote passed its ``valid_until`` before the customer accepted it.

    Example:
        >>> QuoteExpired.event_type
        'pricing.QuoteExpired'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.QuoteExpired"
    valid_until: datetime


@attrs.frozen(kw_only=True)
class QuoteRevised(DomainEvent):
    """The quote was superseded by a new revision (``new_quote_id``); it stays readable.

    Example:
        >>> QuoteRevised.event_type
        'pricing.QuoteRevised'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.QuoteRevised"
    new_quote_id: str
    new_revision: int


@attrs.frozen(kw_only=True)
class CouponRedeemed(DomainEvent):
    """A coupon was used by an accepted quote; ``times_used`` counts uses so far.

    Example:
        >>> CouponRedeemed.event_type
        'pricing.CouponRedeemed'

    .. versionadded:: 0.1.0
    """

    event_type = "pricing.CouponRedeemed"
    code: str
    quote_id: str
    customer_id: str
    times_used: int
