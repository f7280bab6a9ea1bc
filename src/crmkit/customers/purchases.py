"""Purchase history: the orders and refunds a host reports, kept as facts for CRM rules.

crmkit does not become an ERP. The host's shop, POS or ERP reports each order once it is
placed (:meth:`Order.report`) and each refund (:meth:`Order.refund`), with its own outside
reference; crmkit keeps what CRM rules need: the customer, when, how much, in which currency,
a summary of the lines, the channel (and the region shipped to, if known).

**Idempotency.** An order is identified by its ``source`` (the system that reports it, such as
``"shopify"``) and its ``external_ref`` there; its id is derived from both
(:meth:`Order.id_for`), so a store holds it once. Reporting the same order again with the same
data has the effect of once; reporting it with different data is an :class:`OrderConflict`
that names the fields that differ. Refunds carry their own references and behave the same way
(:class:`RefundConflict`). Refunds never add up to more than the order's total
(:class:`RefundExceedsOrder`).

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.money import Money
    >>> at = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    >>> order = Order.report(customer_id="cus_1", source="shop", external_ref="#1001",
    ...     ordered_at=at, total=Money("1200", "TWD"), now=at, channel="web",
    ...     lines=[OrderLine(sku="TEA-500", name="Oolong 500 g", quantity=2,
    ...                      amount=Money("1200", "TWD"))])
    >>> order.id == Order.id_for("shop", "#1001")
    True
    >>> order.refund("r-1", Money("300", "TWD"), refunded_at=at, now=at).amount
    Money('300', 'TWD')
    >>> order.net
    Money('900', 'TWD')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

import attrs

from crmkit.customers.events import OrderRecorded, OrderRefunded
from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money, _to_decimal
from crmkit.kernel.time import ensure_aware, validate_aware

__all__ = [
    "Order",
    "OrderConflict",
    "OrderLine",
    "PurchaseSummary",
    "Refund",
    "RefundConflict",
    "RefundExceedsOrder",
    "summarize_purchases",
]


T = TypeVar("T")


class OrderConflict(RuleViolation):
    """An order reference was reported again with different data.

    ``details`` holds ``source``, ``external_ref``, ``order_id`` and ``fields`` (the fields that
    differ, each with the stored and the new value).

    Example:
        >>> OrderConflict.code
        'customers.order_conflict'

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "customers.order_conflict"


class RefundConflict(RuleViolation):
    """A refund reference was reported again with a different amount, time or reason.

    Example:
        >>> RefundConflict.code
        'customers.refund_conflict'

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "customers.refund_conflict"


class RefundExceedsOrder(RuleViolation):
    """A refund would take the refunds of an order above the order's total.

    ``details`` holds ``order_id``, ``total``, ``refunded`` (so far) and ``requested``.

    Example:
        >>> RefundExceedsOrder.code
        'customers.refund_exceeds_order'

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "customers.refund_exceeds_order"


def _ref(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    v.text(100)(_instance, attribute, value)


def _source(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_id(value, attribute.name)


def _money(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Money):
        raise ValidationError(f"must be Money, not {type(value).__name__}", path=attribute.name)


def _positive_money(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _money(instance, attribute, value)
    assert isinstance(value, Money)
    if value.amount <= 0:
        raise ValidationError(f"must be more than zero, got {value}", path=attribute.name)


def _non_negative_money(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _money(instance, attribute, value)
    assert isinstance(value, Money)
    if value.is_negative():
        raise ValidationError(f"must not be negative, got {value}", path=attribute.name)


def _quantity(value: object) -> Decimal:
    if isinstance(value, bool):
        raise ValidationError("must be a number, not bool", path="quantity")
    amount = _to_decimal(value, "quantity")
    if not amount.is_finite() or amount <= 0:
        raise ValidationError(f"must be a number above zero, got {value!r}", path="quantity")
    return amount


@attrs.frozen(kw_only=True)
class OrderLine:
    """One line of an order's summary: what was bought, how many, for how much in all.

    ``amount`` is the line's total (not a unit price). Lines summarise an order for CRM
    rules and the customer 360 view; they need not add up to the order's total, which may
    hold shipping, tax or order-level discounts.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> OrderLine(sku="TEA-500", name="Oolong", quantity="1.5", amount=Money("750", "TWD"))
        OrderLine(sku='TEA-500', name='Oolong', quantity=Decimal('1.5'), amount=Money('750', 'TWD'))
        >>> OrderLine(name="Oolong", quantity=0, amount=Money("1", "TWD"))
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: quantity: must be a number above zero, got 0

    .. versionadded:: 0.1.0
    """

    sku: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(100)
    )
    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    quantity: Decimal = attrs.field(default=Decimal(1), converter=_quantity)
    amount: Money = attrs.field(validator=_non_negative_money)


def _line(value: object, index: int) -> OrderLine:
    if isinstance(value, OrderLine):
        return value
    if isinstance(value, Mapping):
        try:
            return OrderLine(**value)
        except ValidationError as exc:
            raise exc.at(f"lines[{index}]") from None
        except TypeError as exc:
            raise ValidationError(
                f"must have sku, name, quantity and amount: {exc}", path=f"lines[{index}]"
            ) from None
    raise ValidationError(
        f"must be an OrderLine or a mapping, not {type(value).__name__}", path=f"lines[{index}]"
    )


def _lines(value: object) -> tuple[OrderLine, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of OrderLine, not {type(value).__name__}", path="lines"
        )
    lines = tuple(_line(item, i) for i, item in enumerate(value))
    if len(lines) > 500:
        raise ValidationError(f"must hold at most 500 lines, got {len(lines)}", path="lines")
    return lines


def _region(value: object) -> str | None:
    value = v.strip_optional(value)
    if value is None:
        return None
    if not isinstance(value, str) or not (len(value) == 2 and value.isascii() and value.isalpha()):
        raise ValidationError(
            f"must be an ISO 3166 region code such as 'TW' or 'CN', got {value!r}", path="region"
        )
    return value.upper()


@attrs.frozen(kw_only=True)
class Refund:
    """A refund of (part of) an order, as the host reported it.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> at = datetime(2026, 3, 9, tzinfo=timezone.utc)
        >>> Refund(external_ref="r-1", amount=Money("300", "TWD"), refunded_at=at,
        ...        recorded_at=at).amount
        Money('300', 'TWD')

    .. versionadded:: 0.1.0
    """

    external_ref: str = attrs.field(converter=v.strip, validator=_ref)
    amount: Money = attrs.field(validator=_positive_money)
    refunded_at: datetime = attrs.field(validator=validate_aware)
    recorded_at: datetime = attrs.field(validator=validate_aware)
    reason: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(500)
    )


def _tuple_of(cls: type[T], path: str, value: object) -> tuple[T, ...]:
    """``value`` as a tuple of ``cls`` instances, or a ValidationError naming the bad item."""
    if isinstance(value, (str, bytes, Mapping, cls)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of {cls.__name__}, not {type(value).__name__}", path=path
        )
    found = tuple(value)
    for i, item in enumerate(found):
        if not isinstance(item, cls):
            raise ValidationError(
                f"must be {cls.__name__}, not {type(item).__name__}", path=f"{path}[{i}]"
            )
    return found


def _refunds(value: object) -> tuple[Refund, ...]:
    return _tuple_of(Refund, "refunds", value)


def _check_order(order: Order) -> None:
    """The invariants across fields: one currency, unique refund refs, refunds <= total."""
    currency = order.total.currency
    for i, line in enumerate(order.lines):
        if line.amount.currency != currency:
            raise ValidationError(
                f"is in {line.amount.currency}, the order is in {currency}; "
                "give every line in the order's currency",
                path=f"lines[{i}].amount",
            )
    seen: set[str] = set()
    refunded = Decimal(0)
    for i, refund in enumerate(order.refunds):
        if refund.amount.currency != currency:
            raise ValidationError(
                f"is in {refund.amount.currency}, the order is in {currency}",
                path=f"refunds[{i}].amount",
            )
        if refund.external_ref in seen:
            raise ValidationError(
                f"repeats the refund reference {refund.external_ref!r}",
                path=f"refunds[{i}].external_ref",
            )
        seen.add(refund.external_ref)
        refunded += refund.amount.amount
    if refunded > order.total.amount:
        raise ValidationError(
            f"add up to {Money(refunded, currency)}, more than the order's total {order.total}",
            path="refunds",
        )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _show(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(item) for item in value) + "]"
    return str(value)


@attrs.define(kw_only=True)
class Order(Aggregate):
    """An order a host reported for a customer, with the refunds reported since.

    Build one with :meth:`report`; its id is :meth:`id_for` its ``source`` and
    ``external_ref``. :attr:`net` is the total less every refund, never below zero.

    Attributes:
        customer_id: the customer who bought.
        source: the system that reported the order (an id such as ``"shopify"``, ``"pos"``).
        external_ref: the order's reference in that system (up to 100 characters).
        ordered_at: when the order was placed (aware).
        total: what the customer paid (at least zero).
        lines: a summary of what was bought (:class:`OrderLine`).
        channel: where it was sold (``"web"``, ``"store"``, ``"phone"``...), if known.
        region: the ISO 3166 region it went to (``"TW"``), if known.
        recorded_at: when crmkit first heard of it.
        refunds: the refunds reported for it (:class:`Refund`), in the order reported.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> order = Order.report(customer_id="cus_1", source="pos", external_ref="A-7",
        ...     ordered_at=at, total=Money("500", "TWD"), now=at)
        >>> order.refund("r-1", Money("600", "TWD"), refunded_at=at, now=at)
        Traceback (most recent call last):
        ...
        crmkit.customers.purchases.RefundExceedsOrder: refund 'r-1' of 600 TWD would ...

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_source)
    source: str = attrs.field(validator=_source)
    external_ref: str = attrs.field(converter=v.strip, validator=_ref)
    ordered_at: datetime = attrs.field(validator=validate_aware)
    total: Money = attrs.field(validator=_non_negative_money)
    lines: tuple[OrderLine, ...] = attrs.field(default=(), converter=_lines)
    channel: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(50)
    )
    region: str | None = attrs.field(default=None, converter=_region)
    recorded_at: datetime = attrs.field(validator=validate_aware)
    refunds: tuple[Refund, ...] = attrs.field(default=(), converter=_refunds)

    def __attrs_post_init__(self) -> None:
        _check_order(self)

    @staticmethod
    def id_for(source: str, external_ref: str) -> str:
        """The id of the order ``external_ref`` from ``source``: the same fact, the same id.

        Example:
            >>> Order.id_for("shop", "#1001") == Order.id_for("shop", " #1001 ")
            True
            >>> Order.id_for("shop", "#1001") == Order.id_for("pos", "#1001")
            False
        """
        check_id(source, "source")
        ref = v.strip(external_ref)
        _ref(None, attrs.fields(Order).external_ref, ref)
        return f"ord_{_digest(source, str(ref))}"

    @classmethod
    def report(
        cls,
        *,
        customer_id: str,
        source: str,
        external_ref: str,
        ordered_at: datetime,
        total: Money,
        now: datetime,
        lines: Iterable[OrderLine | Mapping[str, Any]] = (),
        channel: str | None = None,
        region: str | None = None,
        actor: str | None = None,
    ) -> Order:
        """Build a new order from the host's report and record ``OrderRecorded``."""
        ensure_aware(now, "now")
        if actor is not None:
            check_id(actor, "actor")
        order = cls(
            id=cls.id_for(source, external_ref),
            customer_id=customer_id,
            source=source,
            external_ref=external_ref,
            ordered_at=ordered_at,
            total=total,
            lines=lines,
            channel=channel,
            region=region,
            recorded_at=now,
        )
        order.record(
            OrderRecorded(
                aggregate_id=order.id,
                occurred_at=now,
                actor=actor,
                customer_id=order.customer_id,
                source=order.source,
                external_ref=order.external_ref,
                ordered_at=order.ordered_at,
                total=order.total,
                channel=order.channel,
            )
        )
        return order

    def differences(self, other: Order) -> dict[str, tuple[str, str]]:
        """The reported fields in which ``other`` (a second report) differs from this order.

        Compared: customer, time of the order (the instant), total, lines, channel, region.

        Example:
            >>> _example_order("500").differences(_example_order("550"))
            {'total': ('500 TWD', '550 TWD')}
        """
        found: dict[str, tuple[str, str]] = {}
        for name in ("customer_id", "ordered_at", "total", "lines", "channel", "region"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                found[name] = (_show(mine), _show(theirs))
        return found

    @property
    def refunded(self) -> Money:
        """The sum of the refunds so far (zero in the order's currency if none).

        Example:
            >>> _example_order("500").refunded
            Money('0', 'TWD')
        """
        return Money.sum((r.amount for r in self.refunds), currency=self.total.currency)

    @property
    def net(self) -> Money:
        """The total less the refunds: what the customer kept paying for (never negative).

        Example:
            >>> _example_order("500").net
            Money('500', 'TWD')
        """
        return self.total - self.refunded

    @property
    def fully_refunded(self) -> bool:
        """Whether refunds took back the whole (non-zero) total.

        Example:
            >>> o = _example_order("500")
            >>> _ = o.refund("r-1", Money("500", "TWD"), refunded_at=o.ordered_at, now=o.ordered_at)
            >>> o.fully_refunded
            True
        """
        return bool(self.refunds) and self.net.is_zero()

    def refund(
        self,
        external_ref: str,
        amount: Money,
        *,
        refunded_at: datetime,
        now: datetime,
        reason: str | None = None,
        actor: str | None = None,
    ) -> Refund:
        """Record a refund of ``amount`` and ``OrderRefunded``; return the refund.

        The same ``external_ref`` again with the same amount, time and reason returns the first
        refund and changes nothing; with other data it is a :class:`RefundConflict`. A refund
        in another currency is a ``ValidationError``; one that would take the refunds above the
        total is a :class:`RefundExceedsOrder`. Either way nothing changes.

        Example:
            >>> o = _example_order("500")
            >>> at = o.ordered_at
            >>> first = o.refund("r-1", Money("200", "TWD"), refunded_at=at, now=at)
            >>> o.refund("r-1", Money("200", "TWD"), refunded_at=at, now=at) == first
            True
            >>> o.net, len(o.refunds)
            (Money('300', 'TWD'), 1)
        """
        ensure_aware(now, "now")
        if actor is not None:
            check_id(actor, "actor")
        refund = Refund(
            external_ref=external_ref,
            amount=amount,
            refunded_at=refunded_at,
            recorded_at=now,
            reason=reason,
        )
        for earlier in self.refunds:
            if earlier.external_ref != refund.external_ref:
                continue
            same = (earlier.amount, earlier.refunded_at, earlier.reason) == (
                refund.amount,
                refund.refunded_at,
                refund.reason,
            )
            if same:
                return earlier
            raise RefundConflict(
                f"refund {refund.external_ref!r} of order {self.external_ref!r} was already "
                f"reported as {earlier.amount} at {earlier.refunded_at.isoformat()}"
                f" (reason {earlier.reason!r}); this report says {refund.amount} at "
                f"{refund.refunded_at.isoformat()} (reason {refund.reason!r}). Report a new "
                "refund with a new reference",
                details={
                    "order_id": self.id,
                    "refund_ref": refund.external_ref,
                    "first": {
                        "amount": str(earlier.amount.amount),
                        "at": _show(earlier.refunded_at),
                    },
                    "now": {"amount": str(refund.amount.amount), "at": _show(refund.refunded_at)},
                },
            )
        if refund.amount.currency != self.total.currency:
            raise ValidationError(
                f"is in {refund.amount.currency}, the order is in {self.total.currency}; "
                "refund in the order's currency",
                path="amount",
            )
        if refund.amount > self.net:
            raise RefundExceedsOrder(
                f"refund {refund.external_ref!r} of {refund.amount} would take the refunds of "
                f"order {self.external_ref!r} above its total {self.total} (refunded so far "
                f"{self.refunded}; at most {self.net} is left to refund)",
                details={
                    "order_id": self.id,
                    "total": str(self.total.amount),
                    "refunded": str(self.refunded.amount),
                    "requested": str(refund.amount.amount),
                    "currency": self.total.currency,
                },
            )
        self.refunds = (*self.refunds, refund)
        self.record(
            OrderRefunded(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                customer_id=self.customer_id,
                refund_ref=refund.external_ref,
                amount=refund.amount,
                refunded_at=refund.refunded_at,
                net=self.net,
            )
        )
        return refund


def _example_order(total: str, currency: str = "TWD") -> Order:
    """An order ``A-7`` of ``cus_1`` from ``pos`` for the docstrings, placed 2026-03-02."""
    at = datetime(2026, 3, 2, tzinfo=timezone.utc)
    return Order.report(
        customer_id="cus_1",
        source="pos",
        external_ref="A-7",
        ordered_at=at,
        total=Money(total, currency),
        now=at,
    )


@attrs.frozen(kw_only=True)
class PurchaseSummary:
    """What a customer's orders add up to: per currency, never summed across currencies.

    Attributes:
        order_count: orders recorded (fully refunded ones included).
        refunded_orders: how many of them were refunded in full.
        first_order_at: the earliest order, if any.
        last_order_at: the latest order, if any.
        last_order_id: the id of the latest order, if any.
        lifetime_value: the net amount (totals less refunds) per currency, sorted by currency.
        refunded: the refunds per currency, sorted by currency (currencies with none left out).

    Example:
        >>> PurchaseSummary().value_in("TWD")
        Money('0', 'TWD')

    .. versionadded:: 0.1.0
    """

    order_count: int = 0
    refunded_orders: int = 0
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    last_order_id: str | None = None
    lifetime_value: tuple[Money, ...] = ()
    refunded: tuple[Money, ...] = ()

    def value_in(self, currency: str) -> Money:
        """The lifetime value in ``currency`` (zero if the customer never paid in it).

        Example:
            >>> PurchaseSummary(order_count=1, lifetime_value=(Money("5", "USD"),)).value_in("USD")
            Money('5', 'USD')
        """
        for value in self.lifetime_value:
            if value.currency == currency:
                return value
        return Money.zero(currency)


def summarize_purchases(orders: Sequence[Order] | Iterable[Order]) -> PurchaseSummary:
    """Summarise a customer's orders: counts, first and last order, net value per currency.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> orders = [Order.report(customer_id="cus_1", source="pos", external_ref=ref,
        ...     ordered_at=at, total=total, now=at)
        ...     for ref, total in [("1", Money("500", "TWD")), ("2", Money("20", "USD")),
        ...                        ("3", Money("100", "TWD"))]]
        >>> summary = summarize_purchases(orders)
        >>> summary.order_count, summary.lifetime_value
        (3, (Money('600', 'TWD'), Money('20', 'USD')))

    .. versionadded:: 0.1.0
    """
    values: dict[str, Money] = {}
    refunds: dict[str, Money] = {}
    count = refunded_orders = 0
    first: Order | None = None
    last: Order | None = None
    for i, order in enumerate(orders):
        if not isinstance(order, Order):
            raise ValidationError(
                f"must be an Order, not {type(order).__name__}", path=f"orders[{i}]"
            )
        count += 1
        currency = order.total.currency
        values[currency] = values.get(currency, Money.zero(currency)) + order.net
        if order.refunds:
            refunds[currency] = refunds.get(currency, Money.zero(currency)) + order.refunded
        refunded_orders += order.fully_refunded
        if first is None or (order.ordered_at, order.id) < (first.ordered_at, first.id):
            first = order
        if last is None or (order.ordered_at, order.id) > (last.ordered_at, last.id):
            last = order
    return PurchaseSummary(
        order_count=count,
        refunded_orders=refunded_orders,
        first_order_at=None if first is None else first.ordered_at,
        last_order_at=None if last is None else last.ordered_at,
        last_order_id=None if last is None else last.id,
        lifetime_value=tuple(values[c] for c in sorted(values)),
        refunded=tuple(refunds[c] for c in sorted(refunds)),
    )
