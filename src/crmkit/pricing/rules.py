"""Discounts as data: promotions, group prices, buy-X-get-Y, bundles, quote discounts, coupons.

Every rule is a frozen attrs object that round-trips through :mod:`crmkit.serialization`, so a
host keeps rule sets in its database and edits them in an admin screen. Rules share:

* ``id``, ``name`` and ``created_at`` (creation order breaks every tie, deterministically);
* ``priority``: rules apply in ascending priority (1 before 2), then creation order, then id;
  never in the order they are listed or the order coupon codes were typed;
* ``stacking``: :attr:`Stacking.COMBINABLE` rules apply together, each on the output of the one
  before; an :attr:`Stacking.EXCLUSIVE` rule applies alone (manual discounts, which a rep types
  and an approver checks, always apply). When exclusive rules compete, the rule set's
  :class:`Resolution` decides: :attr:`Resolution.BEST_FOR_CUSTOMER` prices every option (all
  combinable rules together, or each exclusive rule alone) and keeps the lowest total;
  :attr:`Resolution.PRIORITY` keeps the option whose first rule comes first;
* a validity window (``valid_from`` inclusive, ``valid_until`` exclusive), the customer groups
  it is for (empty: everyone) and the products it targets by ``skus`` or ``categories``
  (both empty: every product).

Automatic rules (:class:`GroupPrice`, :class:`Promotion`, :class:`BuyXGetY`,
:class:`BundlePrice`) act on lines; :class:`QuoteDiscount` and :class:`Coupon` act on the quote
and are allocated back to the lines. :class:`ManualDiscount` is what a rep types on a line or
on the whole quote. A :class:`DiscountRuleSet` holds the automatic rules, the total-discount cap,
the resolution and the rounding mode; coupons are separate aggregates because each counts its
own uses (:meth:`Coupon.redeem`), which must hold under concurrent acceptances.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.money import Money
    >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    >>> rules = DiscountRuleSet(id="rs_1", name="Spring", cap_percent=30, promotions=[
    ...     Promotion(id="spring", name="Spring sale", created_at=t0, percent=10,
    ...               categories=["tea"], valid_from=t0,
    ...               valid_until=datetime(2026, 4, 1, tzinfo=timezone.utc))])
    >>> [r.id for r in rules.automatic_rules], rules.cap_percent
    (['spring'], Decimal('30'))

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from crmkit.errors import DefinitionError, RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money, Rounding
from crmkit.kernel.time import ensure_aware, validate_aware, validate_optional_aware
from crmkit.pricing.catalog import (
    Product,
    _id_field,
    _in_window,
    _keys,
    _money,
    _optional_money,
    _optional_percent,
    _percent,
    _rounding,
    _sku,
    _tuple_of,
    _window,
)
from crmkit.pricing.events import CouponRedeemed

__all__ = [
    "BundleComponent",
    "BundlePrice",
    "BuyXGetY",
    "Coupon",
    "CouponRedemption",
    "DiscountRuleSet",
    "GroupPrice",
    "ManualDiscount",
    "Promotion",
    "QuoteDiscount",
    "Resolution",
    "Stacking",
    "normalize_code",
]


class Stacking(StrEnum):
    """Whether a rule combines with others (``combinable``) or applies alone (``exclusive``).

    Example:
        >>> Stacking("exclusive") is Stacking.EXCLUSIVE
        True

    .. versionadded:: 0.1.0
    """

    COMBINABLE = "combinable"
    EXCLUSIVE = "exclusive"


class Resolution(StrEnum):
    """How competing exclusive rules are settled.

    ``best_for_customer``: price each option and keep the lowest total (ties: the option whose
    first rule comes first by priority, creation time, id). ``priority``: keep the option whose
    first rule comes first, whatever it costs.

    Example:
        >>> Resolution.BEST_FOR_CUSTOMER.value
        'best_for_customer'

    .. versionadded:: 0.1.0
    """

    BEST_FOR_CUSTOMER = "best_for_customer"
    PRIORITY = "priority"


def _stacking(value: object) -> Stacking:
    return v.to_enum(Stacking, "stacking")(value)


def _resolution(value: object) -> Resolution:
    return v.to_enum(Resolution, "resolution")(value)


def _priority(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not -1000 <= value <= 1000:
        raise ValidationError(f"must be an int from -1000 to 1000, got {value!r}", path="priority")


def _positive_int(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
        raise ValidationError(
            f"must be an int from 1 to 1000000, got {value!r}", path=attribute.name
        )


def _optional_positive_int(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is not None:
        _positive_int(instance, attribute, value)


def _percent_or_none(value: object) -> Decimal | None:
    return _optional_percent("percent")(value)


def _free_percent(value: object) -> Decimal:
    return _percent(value, "percent")


def _skus(value: object) -> tuple[str, ...]:
    return _keys("skus")(value)


def _categories(value: object) -> tuple[str, ...]:
    return _keys("categories")(value)


def _groups(value: object) -> tuple[str, ...]:
    return _keys("customer_groups")(value)


def _one_of(instance: Any, first: str, second: str) -> None:
    a, b = getattr(instance, first), getattr(instance, second)
    if (a is None) == (b is None):
        raise ValidationError(
            f"give exactly one of {first} or {second}",
            path=first if a is None else second,
        )


def _rule_key(rule: Any) -> tuple[int, datetime, str]:
    return (rule.priority, rule.created_at, rule.id)


def _targets(rule: Any, product: Product) -> bool:
    """Whether ``rule`` (by its skus and categories) targets ``product``."""
    if not rule.skus and not rule.categories:
        return True
    return product.sku in rule.skus or product.category in rule.categories


def _active(rule: Any, now: datetime, group: str | None) -> bool:
    if not _in_window(rule.valid_from, rule.valid_until, now):
        return False
    return not rule.customer_groups or (group is not None and group in rule.customer_groups)


@attrs.frozen(kw_only=True)
class ManualDiscount:
    """A discount a rep types: ``percent`` off, or a fixed ``amount`` off (exactly one).

    On a line the amount comes off the line (not each unit); on the quote it comes off the
    quote and is allocated to the lines. ``reason`` is shown to the approver.

    Example:
        >>> ManualDiscount(percent="12.5").percent
        Decimal('12.5')
        >>> ManualDiscount()
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: percent: give exactly one of percent or amount

    .. versionadded:: 0.1.0
    """

    percent: Decimal | None = attrs.field(default=None, converter=_percent_or_none)
    amount: Money | None = attrs.field(default=None, validator=_optional_money)
    reason: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(500)
    )

    def __attrs_post_init__(self) -> None:
        _one_of(self, "percent", "amount")


@attrs.frozen(kw_only=True)
class _Rule:
    """Fields every discount rule has (see the module docstring)."""

    id: str = attrs.field(validator=_id_field)
    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    created_at: datetime = attrs.field(validator=validate_aware)
    priority: int = attrs.field(default=0, validator=_priority)
    stacking: Stacking = attrs.field(default=Stacking.COMBINABLE, converter=_stacking)
    valid_from: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    valid_until: datetime | None = attrs.field(
        default=None, validator=[validate_optional_aware, _window]
    )
    customer_groups: tuple[str, ...] = attrs.field(default=(), converter=_groups)
    skus: tuple[str, ...] = attrs.field(default=(), converter=_skus)
    categories: tuple[str, ...] = attrs.field(default=(), converter=_categories)

    def targets(self, product: Product) -> bool:
        """Tell whether the rule targets ``product`` (by sku or category; none given: all)."""
        return _targets(self, product)

    def is_active(self, now: datetime, customer_group: str | None = None) -> bool:
        """Tell whether the rule is in its window at ``now`` and for ``customer_group``."""
        return _active(self, ensure_aware(now, "now"), customer_group)


@attrs.frozen(kw_only=True)
class Promotion(_Rule):
    """An automatic campaign: ``percent`` off each targeted line, or ``amount`` off per unit.

    Give the campaign's dates as ``valid_from``/``valid_until``.

    Example:
        >>> from datetime import datetime, timezone
        >>> t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
        >>> sale = Promotion(id="p1", name="Spring sale", created_at=t0, percent=10,
        ...                  categories=["tea"], valid_from=t0)
        >>> sale.is_active(datetime(2026, 3, 5, tzinfo=timezone.utc))
        True

    .. versionadded:: 0.1.0
    """

    percent: Decimal | None = attrs.field(default=None, converter=_percent_or_none)
    amount: Money | None = attrs.field(default=None, validator=_optional_money)

    def __attrs_post_init__(self) -> None:
        _one_of(self, "percent", "amount")


@attrs.frozen(kw_only=True)
class GroupPrice(_Rule):
    """A customer group's price: ``percent`` off, or a fixed ``unit_price``, on targeted lines.

    ``customer_groups`` must name at least one group. A fixed price above the running price
    gives no discount (never a surcharge).

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> GroupPrice(id="g1", name="Dealers", created_at=t0, customer_groups=["dealer"],
        ...            unit_price=Money("380", "TWD"), skus=["TEA"]).unit_price
        Money('380', 'TWD')

    .. versionadded:: 0.1.0
    """

    percent: Decimal | None = attrs.field(default=None, converter=_percent_or_none)
    unit_price: Money | None = attrs.field(default=None, validator=_optional_money)

    def __attrs_post_init__(self) -> None:
        _one_of(self, "percent", "unit_price")
        if not self.customer_groups:
            raise ValidationError("must name at least one customer group", path="customer_groups")


def _optional_sku(value: object) -> str | None:
    return None if value is None else _sku(value, "get_sku")


@attrs.frozen(kw_only=True)
class BuyXGetY(_Rule):
    """Buy ``buy_quantity`` targeted units, get ``get_quantity`` units ``percent`` off.

    With ``get_sku=None`` the free units are of the same line ("buy 2 get 1": of every 3 units
    on a line, 1 is free). With a ``get_sku``, every ``buy_quantity`` targeted units in the
    quote make ``get_quantity`` units of that sku free, taken from its lines in line order.

    Example:
        >>> from datetime import datetime, timezone
        >>> b2g1 = BuyXGetY(id="b2g1", name="Buy 2 get 1", skus=["TEA"],
        ...     created_at=datetime(2026, 1, 1, tzinfo=timezone.utc), buy_quantity=2,
        ...     get_quantity=1)
        >>> b2g1.percent
        Decimal('100')

    .. versionadded:: 0.1.0
    """

    buy_quantity: int = attrs.field(validator=_positive_int)
    get_quantity: int = attrs.field(validator=_positive_int)
    get_sku: str | None = attrs.field(default=None, converter=_optional_sku)
    percent: Decimal = attrs.field(default=Decimal(100), converter=_free_percent)


def _component_sku(value: object) -> str:
    return _sku(value)


@attrs.frozen
class BundleComponent:
    """One product of a bundle and how many units one bundle holds.

    Example:
        >>> BundleComponent("DOCK", 2).quantity
        2

    .. versionadded:: 0.1.0
    """

    sku: str = attrs.field(converter=_component_sku)
    quantity: int = attrs.field(default=1, validator=_positive_int)


def _components(value: object) -> tuple[BundleComponent, ...]:
    return _tuple_of(BundleComponent, "components")(value)


def _check_components(
    _instance: object, _attribute: object, value: tuple[BundleComponent, ...]
) -> None:
    if len(value) < 2:
        raise ValidationError("a bundle needs at least 2 components", path="components")
    skus = [c.sku for c in value]
    if len(set(skus)) != len(skus):
        raise ValidationError("lists a sku twice; give its quantity instead", path="components")


@attrs.frozen(kw_only=True)
class BundlePrice(_Rule):
    """A set of products sold together for ``price`` per bundle.

    The quote holds as many bundles as its lines allow (the scarcest component decides); the
    discount is what the bundled units cost at that step minus the bundle prices, allocated to
    the component lines. A bundle price above the running price gives no discount.
    ``skus``/``categories`` are not used: the components say what the bundle holds.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> kit = BundlePrice(id="kit", name="Laptop + dock",
        ...     created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        ...     components=[BundleComponent("LAPTOP"), BundleComponent("DOCK")],
        ...     price=Money("30000", "TWD"))
        >>> [c.sku for c in kit.components]
        ['LAPTOP', 'DOCK']

    .. versionadded:: 0.1.0
    """

    components: tuple[BundleComponent, ...] = attrs.field(
        converter=_components, validator=_check_components
    )
    price: Money = attrs.field(validator=_money)


@attrs.frozen(kw_only=True)
class QuoteDiscount(_Rule):
    """An automatic quote-level discount: ``percent`` or ``amount`` off the targeted lines.

    ``min_order`` is the smallest quote subtotal (the sum of line nets) it needs.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> big = QuoteDiscount(id="big", name="Big order", percent=3,
        ...     created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        ...     min_order=Money("100000", "TWD"))
        >>> big.min_order
        Money('100000', 'TWD')

    .. versionadded:: 0.1.0
    """

    percent: Decimal | None = attrs.field(default=None, converter=_percent_or_none)
    amount: Money | None = attrs.field(default=None, validator=_optional_money)
    min_order: Money | None = attrs.field(default=None, validator=_optional_money)

    def __attrs_post_init__(self) -> None:
        _one_of(self, "percent", "amount")
        _same_currency(self, self.amount, self.min_order)


def _same_currency(rule: Any, *amounts: Money | None) -> None:
    currencies = {a.currency for a in amounts if a is not None}
    if len(currencies) > 1:
        raise ValidationError(
            f"amounts are in {', '.join(sorted(currencies))}; a rule uses one currency",
            path=rule.id,
        )


#: What an automatic, line-level rule may be.
LineRule = GroupPrice | Promotion | BuyXGetY | BundlePrice


# ----- coupons -----------------------------------------------------------------------------------

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")


def normalize_code(value: object, path: str = "code") -> str:
    """Return a coupon code as stored: trimmed and upper-cased; check its characters.

    Codes are 2 to 40 letters A-Z, digits, ``-`` or ``_``, so a code typed in any case finds
    its coupon.

    Example:
        >>> normalize_code(" spring-10 ")
        'SPRING-10'

    .. versionadded:: 0.1.0
    """
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path=path)
    code = value.strip().upper()
    if not _CODE.match(code):
        raise ValidationError(
            f"{value!r} is not a coupon code: 2 to 40 letters A-Z, digits, '-' or '_', "
            "starting with a letter or digit",
            path=path,
        )
    return code


def _code(value: object) -> str:
    return normalize_code(value)


@attrs.frozen(kw_only=True)
class CouponRedemption:
    """One use of a coupon: by which accepted quote, for which customer, when.

    Example:
        >>> from datetime import datetime, timezone
        >>> CouponRedemption(quote_id="q_1", customer_id="cus_1",
        ...                  at=datetime(2026, 3, 2, tzinfo=timezone.utc)).quote_id
        'q_1'

    .. versionadded:: 0.1.0
    """

    quote_id: str = attrs.field(validator=_id_field)
    customer_id: str = attrs.field(validator=_id_field)
    at: datetime = attrs.field(validator=validate_aware)


def _redemptions(value: object) -> tuple[CouponRedemption, ...]:
    return _tuple_of(CouponRedemption, "redemptions")(value)


def _coupon_id(coupon: Coupon) -> str:
    return Coupon.id_for(coupon.code)


@attrs.define(kw_only=True)
class Coupon(Aggregate):
    """A coupon code: its discount, window, minimum order, targets and usage limits.

    The discount is ``percent`` or ``amount`` off the targeted lines, at the quote-level step.
    ``usage_limit`` caps uses overall and ``per_customer_limit`` per customer (``None``: no
    limit). The coupon counts its own uses: :meth:`redeem` records one when a quote using it is
    accepted, idempotently per quote, and refuses once a limit is reached. The coupon is an
    aggregate with a ``version``, so saving it through a unit of work makes the limit hold
    under concurrent acceptances (a stale save is a ``ConcurrencyError``: reload and retry).
    The id defaults to ``coupon_<CODE>`` (:meth:`id_for`), so a host loads it by code.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> c = Coupon(code="spring10", name="Spring 10%", percent=10, created_at=now,
        ...            usage_limit=1)
        >>> c.id, c.redeem("q_1", "cus_1", now), c.redeem("q_1", "cus_1", now), c.times_used
        ('coupon_SPRING10', True, False, 1)
        >>> c.redeem("q_2", "cus_2", now)
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: coupon SPRING10 has reached its usage limit (1 use)

    .. versionadded:: 0.1.0
    """

    code: str = attrs.field(converter=_code)
    id: str = attrs.field(default=attrs.Factory(_coupon_id, takes_self=True), validator=_id_field)
    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    created_at: datetime = attrs.field(validator=validate_aware)
    percent: Decimal | None = attrs.field(default=None, converter=_percent_or_none)
    amount: Money | None = attrs.field(default=None, validator=_optional_money)
    priority: int = attrs.field(default=0, validator=_priority)
    stacking: Stacking = attrs.field(default=Stacking.COMBINABLE, converter=_stacking)
    valid_from: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    valid_until: datetime | None = attrs.field(
        default=None, validator=[validate_optional_aware, _window]
    )
    min_order: Money | None = attrs.field(default=None, validator=_optional_money)
    customer_groups: tuple[str, ...] = attrs.field(default=(), converter=_groups)
    skus: tuple[str, ...] = attrs.field(default=(), converter=_skus)
    categories: tuple[str, ...] = attrs.field(default=(), converter=_categories)
    usage_limit: int | None = attrs.field(default=None, validator=_optional_positive_int)
    per_customer_limit: int | None = attrs.field(default=None, validator=_optional_positive_int)
    redemptions: tuple[CouponRedemption, ...] = attrs.field(default=(), converter=_redemptions)

    def __attrs_post_init__(self) -> None:
        _one_of(self, "percent", "amount")
        _same_currency(self, self.amount, self.min_order)

    @staticmethod
    def id_for(code: str) -> str:
        """Return the default id of the coupon with ``code`` (``coupon_`` + normalised code).

        Example:
            >>> Coupon.id_for(" spring10 ")
            'coupon_SPRING10'
        """
        return f"coupon_{normalize_code(code)}"

    @property
    def times_used(self) -> int:
        """How many accepted quotes used the coupon."""
        return len(self.redemptions)

    def uses_by(self, customer_id: str) -> int:
        """How many accepted quotes of ``customer_id`` used the coupon.

        Example:
            >>> from datetime import datetime, timezone
            >>> c = Coupon(code="X1", name="X", amount=Money("5", "USD"),
            ...            created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
            >>> c.uses_by("cus_1")
            0
        """
        return sum(1 for r in self.redemptions if r.customer_id == customer_id)

    def targets(self, product: Product) -> bool:
        """Tell whether the coupon applies to ``product`` (by sku or category; none: all)."""
        return _targets(self, product)

    def unusable_reason(
        self, customer_id: str | None, now: datetime, customer_group: str | None = None
    ) -> str | None:
        """Say why the coupon cannot be used now by this customer, or ``None`` if it can.

        Example:
            >>> from datetime import datetime, timezone
            >>> c = Coupon(code="X1", name="X", percent=5, per_customer_limit=1,
            ...            created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
            ...            valid_until=datetime(2026, 2, 1, tzinfo=timezone.utc))
            >>> c.unusable_reason("cus_1", datetime(2026, 3, 1, tzinfo=timezone.utc))
            'coupon X1 is valid until 2026-02-01T00:00:00+00:00'
        """
        now = ensure_aware(now, "now")
        if self.valid_from is not None and now < self.valid_from:
            return f"coupon {self.code} is valid from {self.valid_from.isoformat()}"
        if self.valid_until is not None and now >= self.valid_until:
            return f"coupon {self.code} is valid until {self.valid_until.isoformat()}"
        if self.customer_groups and customer_group not in self.customer_groups:
            groups = ", ".join(self.customer_groups)
            return f"coupon {self.code} is only for customer groups {groups}"
        if self.usage_limit is not None and self.times_used >= self.usage_limit:
            uses = "use" if self.usage_limit == 1 else "uses"
            return f"coupon {self.code} has reached its usage limit ({self.usage_limit} {uses})"
        if (
            self.per_customer_limit is not None
            and customer_id is not None
            and self.uses_by(customer_id) >= self.per_customer_limit
        ):
            return (
                f"customer {customer_id} has used coupon {self.code} the most times allowed "
                f"({self.per_customer_limit})"
            )
        return None

    def redeem(
        self, quote_id: str, customer_id: str, now: datetime, *, actor: str | None = None
    ) -> bool:
        """Count one use by the accepted quote ``quote_id``; ``False`` if it was counted before.

        Refuses with :class:`~crmkit.errors.RuleViolation` outside the window or when the
        overall or per-customer limit is reached (and then changes nothing). Records
        ``CouponRedeemed``. Save the coupon in the same unit of work as the quote.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 3, 2, tzinfo=timezone.utc)
            >>> c = Coupon(code="ONCE", name="Once each", percent=5, created_at=now,
            ...            per_customer_limit=1)
            >>> c.redeem("q_1", "cus_1", now), c.redeem("q_2", "cus_2", now)
            (True, True)
            >>> c.redeem("q_3", "cus_1", now)
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: customer cus_1 has used coupon ONCE the most times
            allowed (1)
        """
        check_id(quote_id, "quote_id")
        check_id(customer_id, "customer_id")
        now = ensure_aware(now, "now")
        if actor is not None:
            check_id(actor, "actor")
        if any(r.quote_id == quote_id for r in self.redemptions):
            return False
        reason = self.unusable_reason(customer_id, now)
        if reason is not None:
            raise RuleViolation(
                reason,
                details={"code": self.code, "quote_id": quote_id, "customer_id": customer_id},
            )
        self.redemptions = (
            *self.redemptions,
            CouponRedemption(quote_id=quote_id, customer_id=customer_id, at=now),
        )
        self.record(
            CouponRedeemed(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                code=self.code,
                quote_id=quote_id,
                customer_id=customer_id,
                times_used=self.times_used,
            )
        )
        return True


#: A rule of the quote-level step: an automatic quote discount or a coupon.
QuoteRule = QuoteDiscount | Coupon


# ----- the rule set ------------------------------------------------------------------------------


class _RuleSetIsFixed(attrs.exceptions.FrozenAttributeError):
    """attrs' frozen-attribute error, saying why and what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.msg = message
        self.args = (message,)

    def __str__(self) -> str:
        return self.msg


def _read_only(instance: Any, attribute: attrs.Attribute[Any], _value: Any) -> Any:
    raise _RuleSetIsFixed(
        f"{type(instance).__name__}.{attribute.name} cannot be changed: build a new rule set "
        "(attrs.evolve) and save it, so pricing never sees half an edit"
    )


def _promotions(value: object) -> tuple[Promotion, ...]:
    return _tuple_of(Promotion, "promotions")(value)


def _group_prices(value: object) -> tuple[GroupPrice, ...]:
    return _tuple_of(GroupPrice, "group_prices")(value)


def _buy_x_get_y(value: object) -> tuple[BuyXGetY, ...]:
    return _tuple_of(BuyXGetY, "buy_x_get_y")(value)


def _bundles(value: object) -> tuple[BundlePrice, ...]:
    return _tuple_of(BundlePrice, "bundles")(value)


def _quote_discounts(value: object) -> tuple[QuoteDiscount, ...]:
    return _tuple_of(QuoteDiscount, "quote_discounts")(value)


def _cap_percent(value: object) -> Decimal | None:
    return _optional_percent("cap_percent")(value)


@attrs.define(kw_only=True)
class DiscountRuleSet(Aggregate):
    """The automatic discount rules, the total-discount cap, the resolution and the rounding.

    Rules are kept per kind (``group_prices``, ``promotions``, ``buy_x_get_y``, ``bundles``,
    ``quote_discounts``) so the JSON reads plainly; the order within a list never matters.
    ``cap_percent`` (of the price-book amount) and ``cap_amount`` cap the sum of every discount
    on a quote, manual ones included; the discount that would cross the cap is cut, and the
    ones after it get nothing. ``rounding`` rounds discount and tier amounts to minor units.
    Rule ids must be unique across kinds. The fields cannot be reassigned: build a new rule set
    with ``attrs.evolve``.

    Example:
        >>> from datetime import datetime, timezone
        >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> DiscountRuleSet(id="rs", name="Bad", promotions=[
        ...     Promotion(id="p", name="A", created_at=t0, percent=5),
        ...     Promotion(id="p", name="B", created_at=t0, percent=6)])
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: rule set 'rs': rule id 'p' is used twice

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(200), on_setattr=_read_only)
    group_prices: tuple[GroupPrice, ...] = attrs.field(
        default=(), converter=_group_prices, on_setattr=_read_only
    )
    promotions: tuple[Promotion, ...] = attrs.field(
        default=(), converter=_promotions, on_setattr=_read_only
    )
    buy_x_get_y: tuple[BuyXGetY, ...] = attrs.field(
        default=(), converter=_buy_x_get_y, on_setattr=_read_only
    )
    bundles: tuple[BundlePrice, ...] = attrs.field(
        default=(), converter=_bundles, on_setattr=_read_only
    )
    quote_discounts: tuple[QuoteDiscount, ...] = attrs.field(
        default=(), converter=_quote_discounts, on_setattr=_read_only
    )
    cap_percent: Decimal | None = attrs.field(
        default=None, converter=_cap_percent, on_setattr=_read_only
    )
    cap_amount: Money | None = attrs.field(
        default=None, validator=_optional_money, on_setattr=_read_only
    )
    resolution: Resolution = attrs.field(
        default=Resolution.BEST_FOR_CUSTOMER, converter=_resolution, on_setattr=_read_only
    )
    rounding: Rounding = attrs.field(
        default=Rounding.HALF_UP, converter=_rounding, on_setattr=_read_only
    )
    _automatic: tuple[LineRule, ...] = attrs.field(init=False, default=(), eq=False, repr=False)
    _quote_level: tuple[QuoteDiscount, ...] = attrs.field(
        init=False, default=(), eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        everything: list[Any] = [
            *self.group_prices,
            *self.promotions,
            *self.buy_x_get_y,
            *self.bundles,
            *self.quote_discounts,
        ]
        seen: set[str] = set()
        problems = []
        for rule in everything:
            if rule.id in seen:
                problems.append(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        if problems:
            raise DefinitionError(
                f"rule set {self.id!r}: {'; '.join(problems)}", details={"problems": problems}
            )
        automatic = sorted(everything[: len(everything) - len(self.quote_discounts)], key=_rule_key)
        object.__setattr__(self, "_automatic", tuple(automatic))
        object.__setattr__(self, "_quote_level", tuple(sorted(self.quote_discounts, key=_rule_key)))

    @classmethod
    def empty(cls, id: str = "rules_none") -> DiscountRuleSet:
        """Return a rule set without rules or cap (only manual discounts and coupons apply).

        Example:
            >>> DiscountRuleSet.empty().automatic_rules
            ()
        """
        return cls(id=id, name="No automatic discounts")

    @property
    def automatic_rules(self) -> tuple[LineRule, ...]:
        """The line-level rules in the order they apply (priority, creation time, id)."""
        return self._automatic

    @property
    def quote_rules(self) -> tuple[QuoteDiscount, ...]:
        """The automatic quote-level rules in the order they apply."""
        return self._quote_level

    def rule(self, rule_id: str) -> Any:
        """Return the rule with ``rule_id``; an unknown id is a ``ValidationError``.

        Example:
            >>> DiscountRuleSet.empty().rule("nope")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: rule_id: no rule 'nope' in rule set 'rules_none'
        """
        for rule in (*self._automatic, *self._quote_level):
            if rule.id == rule_id:
                return rule
        raise ValidationError(f"no rule {rule_id!r} in rule set {self.id!r}", path="rule_id")
