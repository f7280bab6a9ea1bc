"""The catalog: products, price books per currency and customer group, price tiers and floors.

A :class:`Product` says what is sold (sku, name, category, unit, tax category). A
:class:`PriceBook` says what it costs in one currency, for one customer group (or everyone),
during a validity window; each :class:`PriceBookEntry` holds a unit price, optional
:class:`PriceTier` quantity breaks and an optional floor (the minimum unit price any discount
may reach). Tiers come in the two semantics the industry names:

* :attr:`TierMode.VOLUME` (also called *range*): every unit costs the price of the tier the
  quantity falls in;
* :attr:`TierMode.GRADUATED` (also called *slab*): each unit costs the price of its own tier.

A tier's ``min_quantity`` is the first unit it prices (``10`` means "from the 10th unit").
With a fractional quantity the graduated bands are continuous: the tier from unit 10 prices
the quantity above 9.

A :class:`Catalog` gathers products and price books for pricing and indexes them once.

Example:
    >>> from crmkit.kernel.money import Money
    >>> entry = PriceBookEntry(sku="PEN", unit_price=Money("100", "TWD"),
    ...     tiers=[PriceTier(10, Money("90", "TWD")), PriceTier(50, Money("80", "TWD"))])
    >>> entry.amount_for(60).amount                       # volume: 60 x 80
    Decimal('4800.00')
    >>> graduated = PriceBookEntry(sku="PEN", unit_price=Money("100", "TWD"),
    ...     tiers=entry.tiers, tier_mode="graduated")
    >>> graduated.amount_for(60).amount                   # 9 x 100 + 40 x 90 + 11 x 80
    Decimal('5380.00')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs

from crmkit.errors import DefinitionError, RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money, Rounding, _to_decimal, currency_digits, is_currency
from crmkit.kernel.time import ensure_aware, validate_optional_aware

__all__ = [
    "Catalog",
    "PriceBook",
    "PriceBookEntry",
    "PriceChoice",
    "PriceTier",
    "Product",
    "TierCharge",
    "TierMode",
]

#: The rounding modes pricing accepts (what tax offices and ERPs use).
_ROUNDINGS = (Rounding.HALF_UP, Rounding.HALF_EVEN)


class TierMode(StrEnum):
    """How price tiers apply to a quantity.

    ``volume`` (range): all units at the price of the tier the quantity falls in.
    ``graduated`` (slab): each unit at the price of its own tier.

    Example:
        >>> TierMode("graduated") is TierMode.GRADUATED
        True

    .. versionadded:: 0.1.0
    """

    VOLUME = "volume"
    GRADUATED = "graduated"


# ----- shared helpers (used by rules, engine and the Quote too) ---------------------------------


def _sku(value: object, path: str = "sku") -> str:
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path=path)
    text = value.strip()
    return check_id(text, path)


def _sku_field(value: object) -> str:
    return _sku(value)


def _quantity(value: object, path: str = "quantity") -> Decimal:
    number = _to_decimal(value, path)
    if number <= 0:
        raise ValidationError(f"must be greater than 0, got {number}", path=path)
    if number > 1_000_000_000:
        raise ValidationError(f"must be at most 1000000000, got {number}", path=path)
    if number.as_tuple().exponent < -6:  # type: ignore[operator]
        raise ValidationError(f"must have at most 6 decimal places, got {number}", path=path)
    return Decimal(int(number)) if number == number.to_integral_value() else number


def _percent(value: object, path: str = "percent") -> Decimal:
    number = _to_decimal(value, path)
    if not 0 <= number <= 100:
        raise ValidationError(f"must be a percentage from 0 to 100, got {number}", path=path)
    return number


def _optional_percent(path: str) -> Callable[[object], Decimal | None]:
    def convert(value: object) -> Decimal | None:
        return None if value is None else _percent(value, path)

    return convert


def _rounding(value: object) -> Rounding:
    mode = v.to_enum(Rounding, "rounding")(value)
    if mode not in _ROUNDINGS:
        raise ValidationError(
            f"{mode.value!r} is not a pricing rounding mode; use 'ROUND_HALF_UP' or "
            "'ROUND_HALF_EVEN'",
            path="rounding",
        )
    return mode


def _tuple_of(cls: type, field: str) -> Callable[[object], tuple[Any, ...]]:
    def convert(value: object) -> tuple[Any, ...]:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise ValidationError(
                f"must be a list of {cls.__name__}, not {type(value).__name__}", path=field
            )
        items = tuple(value)
        for i, item in enumerate(items):
            if not isinstance(item, cls):
                raise ValidationError(
                    f"must be {cls.__name__}, not {type(item).__name__}", path=f"{field}[{i}]"
                )
        return items

    return convert


def _keys(field: str) -> Callable[[object], tuple[str, ...]]:
    """A tuple of ids (skus, categories, groups), trimmed, without blanks or repeats."""

    def normalise(text: str) -> str:
        return check_id(text)

    return v.text_tuple(field, normalise, max_items=10_000)


def _id_field(_instance: object, attribute: attrs.Attribute[str], value: Any) -> None:
    check_id(value, attribute.name)


def _optional_key(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="customer_group")
    return check_id(value.strip() or value, "customer_group")


def _money(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, Money):
        raise ValidationError(
            f"must be Money, not {type(value).__name__}", path=attribute.name.lstrip("_")
        )
    if value.is_negative():
        raise ValidationError(f"must not be negative, got {value}", path=attribute.name)


def _optional_money(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _money(instance, attribute, value)


def _window(instance: Any, _attribute: object, value: datetime | None) -> None:
    start = instance.valid_from
    if value is not None and start is not None and value <= start:
        raise ValidationError(
            f"must be after valid_from ({start.isoformat()}), got {value.isoformat()}",
            path="valid_until",
        )


def _in_window(start: datetime | None, end: datetime | None, now: datetime) -> bool:
    return (start is None or start <= now) and (end is None or now < end)


def _ratio(value: Decimal) -> tuple[int, int]:
    """``value`` as an exact fraction of two ints (numerator, positive denominator)."""
    return value.as_integer_ratio()


def _minor_ratio(money: Money) -> tuple[int, int]:
    """A price in minor units as an exact fraction (a unit price may have extra digits)."""
    return _ratio(money.amount.scaleb(currency_digits(money.currency)))


def _round_div(numerator: int, denominator: int, even: bool) -> int:
    """Round ``numerator / denominator`` (both >= 0, denominator > 0) to an int, half up/even."""
    quotient, remainder = divmod(numerator, denominator)
    twice = remainder + remainder
    if twice > denominator or (twice == denominator and (not even or quotient & 1)):
        quotient += 1
    return quotient


def _ceil_div(numerator: int, denominator: int) -> int:
    return -((-numerator) // denominator)


def _from_minor(units: int, currency: str) -> Money:
    return Money(Decimal(units).scaleb(-currency_digits(currency)), currency)


# ----- tiers and entries -------------------------------------------------------------------------


def _min_quantity(value: object) -> Decimal:
    number = _quantity(value, "min_quantity")
    if number <= 1:
        raise ValidationError(
            f"must be more than 1 (the unit price covers quantities from the first unit), "
            f"got {number}",
            path="min_quantity",
        )
    return number


@attrs.frozen
class PriceTier:
    """A quantity break: from the ``min_quantity``-th unit on, each unit costs ``unit_price``.

    Example:
        >>> PriceTier(10, Money("90", "TWD")).min_quantity
        Decimal('10')

    .. versionadded:: 0.1.0
    """

    min_quantity: Decimal = attrs.field(converter=_min_quantity)
    unit_price: Money = attrs.field(validator=_money)


@attrs.frozen
class TierCharge:
    """One band of a line's price: ``quantity`` units at ``unit_price`` make ``amount``.

    A volume-priced line has one charge; a graduated line has one per band it reaches.

    Example:
        >>> entry = PriceBookEntry(sku="PEN", unit_price=Money("100", "TWD"),
        ...     tiers=[PriceTier(10, Money("90", "TWD"))], tier_mode="graduated")
        >>> [(c.quantity, c.unit_price.amount) for c in entry.charges_for(12)]
        [(Decimal('9'), Decimal('100')), (Decimal('3'), Decimal('90'))]

    .. versionadded:: 0.1.0
    """

    quantity: Decimal
    unit_price: Money
    amount: Money


def _tier_mode(value: object) -> TierMode:
    return v.to_enum(TierMode, "tier_mode")(value)


def _tiers(value: object) -> tuple[PriceTier, ...]:
    return _tuple_of(PriceTier, "tiers")(value)


def _check_tiers(
    instance: PriceBookEntry, _attribute: object, value: tuple[PriceTier, ...]
) -> None:
    previous = Decimal(1)
    for i, tier in enumerate(value):
        if tier.unit_price.currency != instance.unit_price.currency:
            raise ValidationError(
                f"is in {tier.unit_price.currency}, but the entry's unit price is in "
                f"{instance.unit_price.currency}",
                path=f"tiers[{i}].unit_price",
            )
        if tier.min_quantity <= previous:
            raise ValidationError(
                f"min_quantity {tier.min_quantity} must be greater than the previous tier's "
                f"({previous}); list tiers from the smallest quantity up",
                path=f"tiers[{i}].min_quantity",
            )
        previous = tier.min_quantity


def _check_floor(instance: PriceBookEntry, attribute: attrs.Attribute[Any], value: Any) -> None:
    _optional_money(instance, attribute, value)
    if value is None:
        return
    assert isinstance(value, Money)
    prices = [instance.unit_price, *(t.unit_price for t in instance.tiers)]
    if value.currency != instance.unit_price.currency:
        raise ValidationError(
            f"is in {value.currency}, but the entry's unit price is in "
            f"{instance.unit_price.currency}",
            path="floor_price",
        )
    lowest = min(prices)
    if value > lowest:
        raise ValidationError(
            f"{value} is above the lowest price of the entry ({lowest}); a floor must be at "
            "or below every tier price",
            path="floor_price",
        )


@attrs.frozen(kw_only=True)
class PriceBookEntry:
    """The price of one product in a price book: unit price, tiers, tier mode and floor.

    ``unit_price`` prices units from the first one; each :class:`PriceTier` takes over from its
    ``min_quantity``. ``floor_price`` is the lowest unit price discounts may bring the line to.

    Example:
        >>> e = PriceBookEntry(sku="PEN", unit_price=Money("100", "TWD"),
        ...                    floor_price=Money("70", "TWD"))
        >>> e.amount_for(3), e.floor_price
        (Money('300.00', 'TWD'), Money('70', 'TWD'))

    .. versionadded:: 0.1.0
    """

    sku: str = attrs.field(converter=_sku_field)
    unit_price: Money = attrs.field(validator=_money)
    tiers: tuple[PriceTier, ...] = attrs.field(default=(), converter=_tiers, validator=_check_tiers)
    tier_mode: TierMode = attrs.field(default=TierMode.VOLUME, converter=_tier_mode)
    floor_price: Money | None = attrs.field(default=None, validator=_check_floor)

    def charges_for(
        self, quantity: Decimal | int | str, rounding: Rounding = Rounding.HALF_UP
    ) -> tuple[TierCharge, ...]:
        """Return the tier charges for ``quantity``: one band (volume) or several (graduated).

        Each band's amount is rounded to minor units with ``rounding``.

        Example:
            >>> e = PriceBookEntry(sku="PEN", unit_price=Money("100", "TWD"),
            ...                    tiers=[PriceTier(10, Money("90", "TWD"))])
            >>> [(c.quantity, c.amount.amount) for c in e.charges_for(12)]
            [(Decimal('12'), Decimal('1080.00'))]
        """
        compiled = _CompiledEntry.build(self, "")
        q = _quantity(quantity)
        even = _rounding(rounding) is Rounding.HALF_EVEN
        currency = self.unit_price.currency
        return tuple(
            TierCharge(band_q, price, _from_minor(units, currency))
            for band_q, price, units in compiled.bands(q, even)
        )

    def amount_for(
        self, quantity: Decimal | int | str, rounding: Rounding = Rounding.HALF_UP
    ) -> Money:
        """Return the price-book amount for ``quantity`` (the sum of :meth:`charges_for`).

        Example:
            >>> PriceBookEntry(sku="PEN", unit_price=Money("0.125", "USD")).amount_for(3)
            Money('0.38', 'USD')
        """
        charges = self.charges_for(quantity, rounding)
        return Money.sum((c.amount for c in charges), currency=self.unit_price.currency)


@attrs.frozen
class _CompiledEntry:
    """A price book entry prepared for fast pricing: prices as exact minor-unit fractions."""

    entry: PriceBookEntry
    book_id: str
    unit: tuple[int, int]
    starts: tuple[Decimal, ...]  # graduated: quantity already priced before each band
    thresholds: tuple[Decimal, ...]  # volume: min quantities of the tiers
    prices: tuple[tuple[int, int], ...]  # minor-unit fraction per band (unit price first)
    graduated: bool
    floor: tuple[int, int] | None
    band_prices: tuple[Money, ...]

    @classmethod
    def build(cls, entry: PriceBookEntry, book_id: str) -> _CompiledEntry:
        prices = (
            _minor_ratio(entry.unit_price),
            *(_minor_ratio(t.unit_price) for t in entry.tiers),
        )
        return cls(
            entry=entry,
            book_id=book_id,
            unit=prices[0],
            starts=(Decimal(0), *(t.min_quantity - 1 for t in entry.tiers)),
            thresholds=tuple(t.min_quantity for t in entry.tiers),
            prices=prices,
            graduated=entry.tier_mode is TierMode.GRADUATED,
            floor=None if entry.floor_price is None else _minor_ratio(entry.floor_price),
            band_prices=(entry.unit_price, *(t.unit_price for t in entry.tiers)),
        )

    def volume_index(self, quantity: Decimal) -> int:
        """The band a volume-priced ``quantity`` falls in (0: the unit price)."""
        index = 0
        for i, threshold in enumerate(self.thresholds):
            if quantity >= threshold:
                index = i + 1
            else:
                break
        return index

    def bands(
        self, quantity: Decimal, even: bool, scale: int = 1
    ) -> list[tuple[Decimal, Money, int]]:
        """``(quantity, unit price, amount)`` per band; amounts in minor units / ``scale``."""
        prices = self.band_prices
        if not self.graduated:
            index = 0
            for i, threshold in enumerate(self.thresholds):
                if quantity >= threshold:
                    index = i + 1
                else:
                    break
            num, den = self.prices[index]
            qn, qd = _ratio(quantity)
            return [(quantity, prices[index], _round_div(num * qn, den * qd * scale, even))]
        found = []
        starts = self.starts
        for i, start in enumerate(starts):
            if quantity <= start:
                break
            end = starts[i + 1] if i + 1 < len(starts) else None
            upper = quantity if end is None or quantity < end else end
            band = upper - start
            num, den = self.prices[i]
            qn, qd = _ratio(band)
            found.append((band, prices[i], _round_div(num * qn, den * qd * scale, even)))
        return found

    def amount(self, quantity: Decimal, qn: int, qd: int, even: bool, scale: int = 1) -> int:
        """The price-book amount in minor units / ``scale`` (the fast path of :meth:`bands`)."""
        if not self.graduated:
            num, den = self.unit
            for i, threshold in enumerate(self.thresholds):
                if quantity >= threshold:
                    num, den = self.prices[i + 1]
                else:
                    break
            if den == 1 and qd == 1 and scale == 1:
                return num * qn
            return _round_div(num * qn, den * qd * scale, even)
        return sum(units for _q, _p, units in self.bands(quantity, even, scale))

    def floor_amount(self, qn: int, qd: int, scale: int = 1) -> int:
        """The lowest amount (minor units / ``scale``) discounts may bring ``qn/qd`` units to."""
        if self.floor is None:
            return 0
        num, den = self.floor
        return _ceil_div(num * qn, den * qd * scale)


# ----- products ----------------------------------------------------------------------------------


def _product_id(product: Product) -> str:
    return product.sku


def _category(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="category")
    return check_id(value.strip(), "category")


def _tax_category(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="tax_category")
    return check_id(value.strip(), "tax_category")


@attrs.define(kw_only=True)
class Product(Aggregate):
    """Something sold: sku (also its id), name, category, unit and tax category.

    ``category`` is what discount rules and coupons may target; ``tax_category`` picks the rate
    from the :class:`~crmkit.pricing.engine.TaxPolicy`. An inactive product cannot be quoted.

    Example:
        >>> p = Product(sku="TEA-500", name="Oolong tea 500 g", category="tea", unit="box")
        >>> p.id, p.tax_category, p.active
        ('TEA-500', 'standard', True)

    .. versionadded:: 0.1.0
    """

    sku: str = attrs.field(converter=_sku_field)
    id: str = attrs.field(default=attrs.Factory(_product_id, takes_self=True), validator=_id_field)
    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    category: str = attrs.field(converter=_category)
    unit: str = attrs.field(default="pcs", converter=v.strip, validator=v.text(20))
    tax_category: str = attrs.field(default="standard", converter=_tax_category)
    active: bool = attrs.field(default=True, validator=v.of_type(bool))
    description: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(2000)
    )

    def __attrs_post_init__(self) -> None:
        if self.id != self.sku:
            raise ValidationError(
                f"must equal the sku {self.sku!r} (a product's id is its sku), got {self.id!r}",
                path="id",
            )


# ----- price books -------------------------------------------------------------------------------


def _currency(_instance: object, _attribute: object, value: Any) -> None:
    if not is_currency(value):
        raise ValidationError(
            f"{value!r} is not an ISO 4217 currency code (e.g. 'TWD', 'CNY', 'USD')",
            path="currency",
        )


def _entries(value: object) -> tuple[PriceBookEntry, ...]:
    return _tuple_of(PriceBookEntry, "entries")(value)


def _check_entries(
    instance: PriceBook, _attribute: object, value: tuple[PriceBookEntry, ...]
) -> None:
    seen: set[str] = set()
    for i, entry in enumerate(value):
        if entry.unit_price.currency != instance.currency:
            raise ValidationError(
                f"is in {entry.unit_price.currency}, but the price book is in {instance.currency}",
                path=f"entries[{i}].unit_price",
            )
        if entry.sku in seen:
            raise ValidationError(
                f"sku {entry.sku!r} is listed twice; a price book has one entry per sku",
                path=f"entries[{i}].sku",
            )
        seen.add(entry.sku)


@attrs.define(kw_only=True)
class PriceBook(Aggregate):
    """Prices in one currency for one customer group (``None``: everyone), valid in a window.

    For a quote in currency C for customer group G at time ``now``, a line's price comes from
    the valid price book in C for G that lists the sku, else from the valid one for everyone
    (``customer_group=None``); among several valid books of the same kind, the one that started
    last wins (then the smaller id). The line's *list price* is the unit price in the book for
    everyone, so the waterfall shows a group book's lower price as a step.
    ``valid_from`` is inclusive, ``valid_until`` exclusive; ``None`` means open-ended.

    Example:
        >>> book = PriceBook(id="pb_twd", name="Standard TWD", currency="TWD",
        ...     entries=[PriceBookEntry(sku="TEA-500", unit_price=Money("450", "TWD"))])
        >>> book.entry("TEA-500").unit_price
        Money('450', 'TWD')

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    currency: str = attrs.field(validator=_currency)
    entries: tuple[PriceBookEntry, ...] = attrs.field(
        factory=tuple, converter=_entries, validator=_check_entries
    )
    customer_group: str | None = attrs.field(default=None, converter=_optional_key)
    valid_from: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    valid_until: datetime | None = attrs.field(
        default=None, validator=[validate_optional_aware, _window]
    )

    def entry(self, sku: str) -> PriceBookEntry | None:
        """Return the entry for ``sku``, or ``None`` when this book does not list it.

        Example:
            >>> PriceBook(id="pb", name="Empty", currency="USD").entry("X") is None
            True
        """
        for entry in self.entries:
            if entry.sku == sku:
                return entry
        return None

    def is_valid_at(self, now: datetime) -> bool:
        """Tell whether ``now`` falls in the book's validity window.

        Example:
            >>> from datetime import datetime, timezone
            >>> book = PriceBook(id="pb", name="2026", currency="USD",
            ...                  valid_from=datetime(2026, 1, 1, tzinfo=timezone.utc))
            >>> book.is_valid_at(datetime(2025, 12, 31, tzinfo=timezone.utc))
            False
        """
        return _in_window(self.valid_from, self.valid_until, ensure_aware(now, "now"))


@attrs.frozen
class PriceChoice:
    """Where a line's price comes from: the entry used, its book, and the list-price entry.

    Example:
        >>> from datetime import datetime, timezone
        >>> catalog = Catalog(
        ...     products=[Product(sku="TEA", name="Tea", category="tea")],
        ...     price_books=[PriceBook(id="pb", name="Std", currency="TWD",
        ...         entries=[PriceBookEntry(sku="TEA", unit_price=Money("450", "TWD"))])])
        >>> choice = catalog.price_for("TEA", "TWD", datetime(2026, 1, 1, tzinfo=timezone.utc))
        >>> choice.book_id, choice.list_price
        ('pb', Money('450', 'TWD'))

    .. versionadded:: 0.1.0
    """

    entry: PriceBookEntry
    book_id: str
    list_entry: PriceBookEntry
    list_book_id: str

    @property
    def list_price(self) -> Money:
        """The list unit price (the book for everyone, else the entry used)."""
        return self.list_entry.unit_price


def _products(value: object) -> tuple[Product, ...]:
    return _tuple_of(Product, "products")(value)


def _books(value: object) -> tuple[PriceBook, ...]:
    return _tuple_of(PriceBook, "price_books")(value)


@attrs.frozen
class _BookIndex:
    book: PriceBook
    entries: dict[str, _CompiledEntry]


@attrs.frozen
class Catalog:
    """Products and price books for pricing, indexed once when built.

    Build one from the records a repository returned; it keeps a snapshot, so build a new
    catalog after changing a product or a price book. Duplicate skus or price book ids are a
    :class:`~crmkit.errors.DefinitionError`.

    Example:
        >>> from datetime import datetime, timezone
        >>> catalog = Catalog(
        ...     products=[Product(sku="TEA", name="Tea", category="tea")],
        ...     price_books=[PriceBook(id="pb", name="Std", currency="TWD",
        ...         entries=[PriceBookEntry(sku="TEA", unit_price=Money("450", "TWD"))])])
        >>> catalog.product("TEA").name
        'Tea'
        >>> catalog.price_for("TEA", "USD", datetime(2026, 1, 1, tzinfo=timezone.utc))
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: no USD price book valid at 2026-01-01T00:00:00+00:00
        lists sku 'TEA' (customer group: none)

    .. versionadded:: 0.1.0
    """

    products: tuple[Product, ...] = attrs.field(factory=tuple, converter=_products)
    price_books: tuple[PriceBook, ...] = attrs.field(factory=tuple, converter=_books)
    _by_sku: dict[str, Product] = attrs.field(init=False, factory=dict, eq=False, repr=False)
    _books: dict[tuple[str, str | None], list[_BookIndex]] = attrs.field(
        init=False, factory=dict, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        problems: list[str] = []
        for product in self.products:
            if product.sku in self._by_sku:
                problems.append(f"sku {product.sku!r} is listed twice")
            self._by_sku[product.sku] = product
        seen: set[str] = set()
        for book in self.price_books:
            if book.id in seen:
                problems.append(f"price book id {book.id!r} is listed twice")
            seen.add(book.id)
            index = _BookIndex(
                book, {e.sku: _CompiledEntry.build(e, book.id) for e in book.entries}
            )
            self._books.setdefault((book.currency, book.customer_group), []).append(index)
        if problems:
            raise DefinitionError(
                f"the catalog has {len(problems)} problem(s): {'; '.join(problems)}",
                details={"problems": problems},
            )
        for indexes in self._books.values():
            # The book that started last wins; then the smaller id (deterministic).
            indexes.sort(key=_book_order)

    def product(self, sku: str) -> Product:
        """Return the product with ``sku``; an unknown sku is a ``ValidationError``.

        Example:
            >>> Catalog().product("NOPE")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: sku: no product with sku 'NOPE' in the catalog
        """
        product = self._by_sku.get(sku)
        if product is None:
            raise ValidationError(f"no product with sku {sku!r} in the catalog", path="sku")
        return product

    def _find(
        self, sku: str, currency: str, group: str | None, now: datetime
    ) -> _CompiledEntry | None:
        for index in self._books.get((currency, group), ()):
            compiled = index.entries.get(sku)
            if compiled is not None and _in_window(
                index.book.valid_from, index.book.valid_until, now
            ):
                return compiled
        return None

    def _choose(
        self, sku: str, currency: str, group: str | None, now: datetime
    ) -> tuple[_CompiledEntry, _CompiledEntry]:
        standard = self._find(sku, currency, None, now)
        chosen = self._find(sku, currency, group, now) if group is not None else None
        chosen = chosen or standard
        if chosen is None:
            raise RuleViolation(
                f"no {currency} price book valid at {now.isoformat()} lists sku {sku!r} "
                f"(customer group: {group or 'none'})",
                details={"sku": sku, "currency": currency, "customer_group": group},
            )
        return chosen, standard or chosen

    def price_for(
        self, sku: str, currency: str, now: datetime, customer_group: str | None = None
    ) -> PriceChoice:
        """Choose the price book entry for ``sku`` (see :class:`PriceBook` for the rule).

        No valid price book listing the sku is a :class:`~crmkit.errors.RuleViolation`.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> catalog = Catalog(products=[Product(sku="TEA", name="Tea", category="tea")],
            ...     price_books=[
            ...         PriceBook(id="std", name="Std", currency="TWD",
            ...             entries=[PriceBookEntry(sku="TEA", unit_price=Money("450", "TWD"))]),
            ...         PriceBook(id="vip", name="VIP", currency="TWD", customer_group="vip",
            ...             entries=[PriceBookEntry(sku="TEA", unit_price=Money("400", "TWD"))])])
            >>> c = catalog.price_for("TEA", "TWD", now, customer_group="vip")
            >>> c.book_id, c.entry.unit_price.amount, c.list_price.amount
            ('vip', Decimal('400'), Decimal('450'))
        """
        ensure_aware(now, "now")
        chosen, standard = self._choose(sku, currency, customer_group, now)
        return PriceChoice(chosen.entry, chosen.book_id, standard.entry, standard.book_id)


def _book_order(index: _BookIndex) -> tuple[int, float, str]:
    start = index.book.valid_from
    if start is None:
        return (1, 0.0, index.book.id)
    return (0, -start.timestamp(), index.book.id)
