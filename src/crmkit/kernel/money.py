"""Money: a Decimal amount in one ISO 4217 currency, with exact allocation.

Precision policy (decided once, used everywhere):

* **Arithmetic and storage** use the currency's *accounting* minor units from CLDR via babel's
  ``get_currency_precision`` (TWD 2, USD 2, JPY 0, KWD 3). This matches ISO 4217, so amounts
  from invoices, payment providers and ERPs round-trip unchanged.
* **Display** uses babel's ``format_currency`` with the same digits by default. Where a host shows
  cash prices (TWD and HUF are paid without decimals), ``Money.format(locale, cash=True)``
  rounds to CLDR's *cash* digits (TWD 0) with an explicit rounding mode and shows those digits.
  The formatter never rounds silently: what it shows with ``cash=False`` is the stored amount.

Intermediate amounts (a unit price of 0.125) may carry more digits than the currency has;
``round()`` brings them to minor units and ``allocate()`` splits an amount that is exact in minor
units into parts that sum to it exactly.

Example:
    >>> from crmkit.kernel.money import Money
    >>> price = Money("100.00", "TWD")
    >>> [str(p) for p in price.allocate([1, 1, 1])]
    ['33.34 TWD', '33.33 TWD', '33.33 TWD']
    >>> price.format("zh_Hant_TW")
    '$100.00'
    >>> price.format("zh_Hant_TW", cash=True)
    '$100'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import copy
import decimal
import functools
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
from babel.core import Locale, UnknownLocaleError, get_global
from babel.numbers import format_currency, get_currency_precision, list_currencies

from crmkit.errors import CurrencyMismatchError, ValidationError
from crmkit.kernel._enum import StrEnum

__all__ = ["Money", "Rounding", "currency_digits", "is_currency"]

Number = int | Decimal | str


class Rounding(StrEnum):
    """Named rounding modes; every rounding in crmkit says which one it uses.

    Example:
        >>> Money("0.125", "USD").round(Rounding.HALF_EVEN).amount
        Decimal('0.12')
        >>> Money("0.125", "USD").round(Rounding.HALF_UP).amount
        Decimal('0.13')

    .. versionadded:: 0.1.0
    """

    HALF_UP = decimal.ROUND_HALF_UP
    HALF_EVEN = decimal.ROUND_HALF_EVEN
    HALF_DOWN = decimal.ROUND_HALF_DOWN
    UP = decimal.ROUND_UP
    DOWN = decimal.ROUND_DOWN
    CEILING = decimal.ROUND_CEILING
    FLOOR = decimal.ROUND_FLOOR


@functools.cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def is_currency(code: object) -> bool:
    """Tell whether ``code`` is an ISO 4217 currency code babel knows.

    Example:
        >>> is_currency("TWD"), is_currency("twd"), is_currency("ABC")
        (True, False, False)

    .. versionadded:: 0.1.0
    """
    return isinstance(code, str) and code in _known_currencies()


@functools.cache
def currency_digits(currency: str, *, cash: bool = False) -> int:
    """Return the currency's minor-unit digits from CLDR (accounting, or cash with ``cash=True``).

    Example:
        >>> currency_digits("TWD"), currency_digits("TWD", cash=True), currency_digits("JPY")
        (2, 0, 0)

    .. versionadded:: 0.1.0
    """
    if not cash:
        return int(get_currency_precision(currency))
    fractions: Mapping[str, tuple[int, int, int, int]] = get_global("currency_fractions")
    _digits, _rounding, cash_digits, _cash_rounding = fractions.get(currency, fractions["DEFAULT"])
    return int(cash_digits)


def _to_decimal(value: object, path: str = "amount") -> Decimal:
    if isinstance(value, (bool, float)):
        kind = type(value).__name__
        raise ValidationError(
            f"must be a Decimal, int or str, not {kind} ({value!r}); "
            f"floats cannot hold cents exactly, write Decimal({str(value)!r}) or {str(value)!r}",
            path=path,
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except decimal.InvalidOperation:
            raise ValidationError(f"{value!r} is not a number", path=path) from None
    else:
        raise ValidationError(
            f"must be a Decimal, int or str, not {type(value).__name__}", path=path
        )
    if not result.is_finite():
        raise ValidationError(f"must be a finite number, not {result}", path=path)
    return result


def _check_currency(_instance: object, _attribute: object, value: Any) -> None:
    if not is_currency(value):
        hint = ""
        if isinstance(value, str) and is_currency(value.strip().upper()):
            hint = f"; did you mean {value.strip().upper()!r}?"
        raise ValidationError(
            f"{value!r} is not an ISO 4217 currency code (e.g. 'TWD', 'CNY', 'USD'){hint}",
            path="currency",
        )


@attrs.frozen(repr=False, order=False)
class Money:
    """An amount of money in one currency.

    Build it from ``Decimal``, ``int`` or ``str`` (never ``float``) and an ISO 4217 code.
    ``+``, ``-``, comparison and ``Money.sum`` work within one currency only; ``*`` takes a
    number. Equal amounts are equal whatever their trailing zeros (``1`` == ``1.00``).

    Example:
        >>> total = Money("19.99", "USD") * 3 + Money("5", "USD")
        >>> total
        Money('64.97', 'USD')
        >>> total.minor_units
        6497
        >>> Money(1.5, "USD")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: amount: must be a Decimal, int or str, not float (1.5); ...

    .. versionadded:: 0.1.0
    """

    amount: Decimal = attrs.field(converter=_to_decimal)
    currency: str = attrs.field(validator=_check_currency)

    # ----- construction -------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str) -> Money:
        """Return zero in ``currency``.

        Example:
            >>> Money.zero("JPY")
            Money('0', 'JPY')
        """
        return cls(Decimal(0), currency)

    @classmethod
    def from_minor(cls, units: int, currency: str) -> Money:
        """Build an amount from integer minor units (cents).

        Example:
            >>> Money.from_minor(12345, "TWD"), Money.from_minor(500, "JPY")
            (Money('123.45', 'TWD'), Money('500', 'JPY'))
        """
        if isinstance(units, bool) or not isinstance(units, int):
            raise ValidationError(f"must be an int, not {type(units).__name__}", path="units")
        money = cls(Decimal(0), currency)  # validates the currency first
        return cls(Decimal(units).scaleb(-currency_digits(money.currency)), currency)

    @classmethod
    def sum(cls, items: Iterable[Money], *, currency: str) -> Money:
        """Add up ``items``, all in ``currency``; an empty iterable gives zero in ``currency``.

        Example:
            >>> Money.sum([Money("1.10", "CNY"), Money("2.20", "CNY")], currency="CNY")
            Money('3.30', 'CNY')
            >>> Money.sum([], currency="CNY")
            Money('0', 'CNY')
        """
        total = cls.zero(currency)
        if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
            raise ValidationError(
                f"must be an iterable of Money, not {type(items).__name__}", path="items"
            )
        for i, item in enumerate(items):
            if not isinstance(item, Money):
                raise ValidationError(
                    f"must be Money, not {type(item).__name__} ({item!r})", path=f"items[{i}]"
                )
            total = total + item
        return total

    # ----- views ---------------------------------------------------------------------------
    @property
    def digits(self) -> int:
        """The currency's minor-unit digits used for arithmetic (CLDR accounting digits).

        Example:
            >>> Money("1", "KWD").digits
            3
        """
        return currency_digits(self.currency)

    @property
    def minor_units(self) -> int:
        """The amount in integer minor units; the amount must be exact in them (round first).

        Example:
            >>> Money("12.30", "USD").minor_units
            1230
        """
        scaled = self.amount.scaleb(self.digits)
        if scaled != scaled.to_integral_value():
            raise ValidationError(
                f"{self.amount} {self.currency} has more than {self.digits} decimal places; "
                "call .round() first",
                path="amount",
            )
        return int(scaled)

    def is_zero(self) -> bool:
        """Tell whether the amount is zero.

        Example:
            >>> Money("0.00", "USD").is_zero()
            True
        """
        return self.amount == 0

    def is_negative(self) -> bool:
        """Tell whether the amount is below zero.

        Example:
            >>> (-Money("1", "USD")).is_negative()
            True
        """
        return self.amount < 0

    # ----- rounding and splitting --------------------------------------------------------
    def round(self, mode: Rounding = Rounding.HALF_UP, *, cash: bool = False) -> Money:
        """Round to the currency's minor units (or cash digits) with a named mode.

        Example:
            >>> Money("10.005", "USD").round()
            Money('10.01', 'USD')
            >>> Money("10.005", "USD").round(Rounding.HALF_EVEN)
            Money('10.00', 'USD')
            >>> Money("149.50", "TWD").round(cash=True)
            Money('150', 'TWD')
        """
        try:
            rounding = Rounding(mode).value
        except ValueError:
            allowed = ", ".join(m.name for m in Rounding)
            raise ValidationError(
                f"{mode!r} is not a rounding mode ({allowed})", path="mode"
            ) from None
        digits = currency_digits(self.currency, cash=cash)
        exponent = Decimal(1).scaleb(-digits)
        rounded = self.amount.quantize(exponent, rounding=rounding)
        if rounded.is_zero():
            rounded = rounded.copy_abs()  # no "-0" after rounding a small negative amount
        return Money(rounded, self.currency)

    def allocate(self, ratios: Sequence[Number]) -> tuple[Money, ...]:
        """Split into parts proportional to ``ratios`` that sum exactly to this amount.

        Works in minor units by the largest-remainder method: each part gets the floor of its
        share, and the cents left over go one each to the parts with the largest remainders;
        ties go to the earlier part. Zero ratios get zero. The amount must be exact in minor
        units (``round()`` first). Negative amounts split like positive ones, negated.

        Example:
            >>> [m.amount for m in Money("0.05", "USD").allocate([1, 1, 1])]
            [Decimal('0.02'), Decimal('0.02'), Decimal('0.01')]
            >>> [m.amount for m in Money("10", "JPY").allocate([0, 3, 7])]
            [Decimal('0'), Decimal('3'), Decimal('7')]
        """
        if isinstance(ratios, (str, bytes)) or not isinstance(ratios, Sequence):
            raise ValidationError("must be a sequence of numbers", path="ratios")
        weights = [_to_decimal(r, f"ratios[{i}]") for i, r in enumerate(ratios)]
        if not weights:
            raise ValidationError("must hold at least one ratio", path="ratios")
        for i, w in enumerate(weights):
            if w < 0:
                raise ValidationError(f"must not be negative, got {w}", path=f"ratios[{i}]")
        whole = sum(weights, Decimal(0))
        if whole == 0:
            raise ValidationError("must not all be zero", path="ratios")
        units = self.minor_units
        sign = -1 if units < 0 else 1
        units = abs(units)
        with decimal.localcontext() as ctx:
            ctx.prec = max(28, len(str(units)) + 40)
            exact = [Decimal(units) * w / whole for w in weights]
        floors = [int(share) for share in exact]  # shares are >= 0, int() floors
        left = units - sum(floors)
        by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
        for i in by_remainder[:left]:
            floors[i] += 1
        return tuple(Money.from_minor(sign * part, self.currency) for part in floors)

    # ----- formatting --------------------------------------------------------------------
    def format(self, locale: str | Locale, *, cash: bool = False) -> str:
        """Format for people with babel in ``locale`` (always given; never the process locale).

        With ``cash=True`` the amount is first rounded HALF_UP to the currency's cash digits.

        Example:
            >>> m = Money("1234.5", "TWD")
            >>> m.format("en"), m.format("zh_Hant_TW"), m.format("zh_Hant_TW", cash=True)
            ('NT$1,234.50', '$1,234.50', '$1,235')
            >>> Money("1234.5", "CNY").format("zh_Hans_CN")
            '¥1,234.50'
        """
        try:
            loc = Locale.parse(locale)
        except (UnknownLocaleError, ValueError, TypeError):
            raise ValidationError(
                f"{locale!r} is not a known locale (e.g. 'en', 'zh_Hant_TW', 'zh_Hans_CN')",
                path="locale",
            ) from None
        if not cash:
            # decimal_quantization=False: an amount with more digits than the currency shows
            # them all; the formatter never rounds (round in the domain, with a named mode).
            return format_currency(
                self.amount, self.currency, locale=loc, decimal_quantization=False
            )
        digits = currency_digits(self.currency, cash=True)
        pattern = copy.copy(loc.currency_formats["standard"])
        pattern.frac_prec = (digits, digits)
        return format_currency(
            self.round(cash=True).amount,
            self.currency,
            format=pattern,
            locale=loc,
            currency_digits=False,
        )

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    def __repr__(self) -> str:
        return f"Money({str(self.amount)!r}, {self.currency!r})"

    # ----- arithmetic ----------------------------------------------------------------------
    def _same(self, other: Money, verb: str) -> None:
        if self.currency != other.currency:
            raise CurrencyMismatchError(
                f"cannot {verb} {self.currency} and {other.currency} amounts; convert one first",
                details={"currencies": [self.currency, other.currency]},
            )

    def _money(self, other: object, verb: str) -> Money:
        if not isinstance(other, Money):
            raise ValidationError(
                f"cannot {verb} {type(other).__name__} ({other!r}) and Money; "
                f"make it Money first, e.g. Money({str(other)!r}, {self.currency!r})",
                path="other",
            )
        self._same(other, verb)
        return other

    def __add__(self, other: object) -> Money:
        return Money(self.amount + self._money(other, "add").amount, self.currency)

    def __radd__(self, other: object) -> Money:
        return Money(self._money(other, "add").amount + self.amount, self.currency)

    def __sub__(self, other: object) -> Money:
        return Money(self.amount - self._money(other, "subtract").amount, self.currency)

    def __rsub__(self, other: object) -> Money:
        return Money(self._money(other, "subtract").amount - self.amount, self.currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, Money):
            raise ValidationError("cannot multiply money by money", path="factor")
        return Money(self.amount * _to_decimal(factor, "factor"), self.currency)

    __rmul__ = __mul__

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def _compare(self, other: object) -> Decimal:
        if not isinstance(other, Money):
            raise ValidationError(f"cannot compare money with {type(other).__name__}", path="other")
        self._same(other, "compare")
        return self.amount - other.amount

    def __lt__(self, other: Any) -> bool:
        return self._compare(other) < 0

    def __le__(self, other: Any) -> bool:
        return self._compare(other) <= 0

    def __gt__(self, other: Any) -> bool:
        return self._compare(other) > 0

    def __ge__(self, other: Any) -> bool:
        return self._compare(other) >= 0
