"""Totals across currencies: converted through an exchange-rate port, never summed silently.

A metric keeps one subtotal per currency; :func:`convert_totals` turns them into one
:class:`~crmkit.kernel.money.Money` in the report currency with rates from an
:class:`~crmkit.ports.ExchangeRates` port, and records every :class:`Rate` it used (with the
date the rate is for). Without a rate port, amounts in another currency are a
:class:`~crmkit.errors.CurrencyMismatchError` naming the currencies. :class:`StaticRates` is a
fixed rate table (tests, demos, or a host that loads its rates once a day).

Example:
    >>> from datetime import date
    >>> from decimal import Decimal
    >>> rates = StaticRates({("USD", "TWD"): [(date(2026, 1, 1), Decimal("32.5"))]})
    >>> total = convert_totals({"TWD": Decimal("100"), "USD": Decimal("2")}, currency="TWD",
    ...                        rates=rates, on=date(2026, 3, 31))
    >>> total.total, [str(r) for r in total.rates]
    (Money('165.00', 'TWD'), ['1 USD = 32.5 TWD on 2026-01-01'])

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.errors import CurrencyMismatchError, NotFoundError, ValidationError
from crmkit.kernel.money import Money, Rounding, is_currency

if TYPE_CHECKING:
    from crmkit.ports import ExchangeRates

__all__ = ["Converted", "Rate", "StaticRates", "convert_totals"]


def _currency(path: str) -> Callable[[Any, Any, Any], None]:
    def check(_instance: object, _attribute: object, value: Any) -> None:
        if not is_currency(value):
            raise ValidationError(f"{value!r} is not an ISO 4217 currency code", path=path)

    return check


def _positive_rate(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise ValidationError(f"must be a positive Decimal, not {value!r}", path="value")


@attrs.frozen
class Rate:
    """``1 base = value quote``, the rate published for day ``on``.

    Example:
        >>> from datetime import date
        >>> from decimal import Decimal
        >>> str(Rate("EUR", "USD", Decimal("1.08"), date(2026, 3, 2)))
        '1 EUR = 1.08 USD on 2026-03-02'

    .. versionadded:: 0.1.0
    """

    base: str = attrs.field(validator=_currency("base"))
    quote: str = attrs.field(validator=_currency("quote"))
    value: Decimal = attrs.field(validator=_positive_rate)
    on: date

    def __str__(self) -> str:
        return f"1 {self.base} = {self.value} {self.quote} on {self.on.isoformat()}"


class StaticRates:
    """A fixed table of dated rates; the rate for a day is the latest one on or before it.

    Keys are ``(base, quote)``; values list ``(day, rate)``. The inverse pair is answered with
    ``1 / rate`` (to 12 significant places) when only one direction is given.

    Example:
        >>> from datetime import date
        >>> from decimal import Decimal
        >>> table = StaticRates({("USD", "TWD"): [(date(2026, 1, 1), Decimal("32")),
        ...                                        (date(2026, 2, 1), Decimal("31"))]})
        >>> table.rate("USD", "TWD", date(2026, 1, 31)).value
        Decimal('32')
        >>> table.rate("TWD", "USD", date(2026, 3, 1)).value
        Decimal('0.0322580645161')
        >>> table.rate("USD", "JPY", date(2026, 3, 1))
        Traceback (most recent call last):
        ...
        crmkit.errors.NotFoundError: no USD->JPY rate on or before 2026-03-01; add one to the table

    .. versionadded:: 0.1.0
    """

    def __init__(self, table: Mapping[tuple[str, str], Sequence[tuple[date, Decimal]]]) -> None:
        self._table: dict[tuple[str, str], list[Rate]] = {}
        for (base, quote), points in table.items():
            rows = [Rate(base, quote, value, day) for day, value in points]
            rows.sort(key=lambda r: r.on)
            self._table[(base, quote)] = rows

    def rate(self, base: str, quote: str, on: date) -> Rate:
        """The rate for ``base`` -> ``quote`` on day ``on`` (``NotFoundError`` if none)."""
        if base == quote:
            return Rate(base, quote, Decimal(1), on)
        direct = self._latest((base, quote), on)
        if direct is not None:
            return direct
        inverse = self._latest((quote, base), on)
        if inverse is not None:
            value = (Decimal(1) / inverse.value).quantize(Decimal("1e-13"))
            return Rate(base, quote, value.normalize(), inverse.on)
        raise NotFoundError(
            f"no {base}->{quote} rate on or before {on.isoformat()}; add one to the table",
            details={"base": base, "quote": quote, "on": on.isoformat()},
        )

    def _latest(self, pair: tuple[str, str], on: date) -> Rate | None:
        rows = self._table.get(pair, [])
        i = bisect_right([r.on for r in rows], on)
        return rows[i - 1] if i else None


@attrs.frozen
class Converted:
    """A total in one currency and the rates that made it.

    Example:
        >>> Converted(Money("5", "USD")).rates
        ()

    .. versionadded:: 0.1.0
    """

    total: Money
    rates: tuple[Rate, ...] = ()


def convert_totals(
    totals: Mapping[str, Decimal],
    *,
    currency: str,
    rates: ExchangeRates | None = None,
    on: date | None = None,
) -> Converted:
    """Add per-currency subtotals up in ``currency``, rounding half-up once at the end.

    Subtotals in ``currency`` are taken as they are; every other one needs ``rates`` (and the
    day ``on`` whose rates to use), else a :class:`~crmkit.errors.CurrencyMismatchError`
    names the currencies found.

    Example:
        >>> from decimal import Decimal
        >>> convert_totals({"TWD": Decimal("10.5")}, currency="TWD").total
        Money('10.50', 'TWD')
        >>> convert_totals({"TWD": Decimal("1"), "USD": Decimal("1")}, currency="TWD")
        Traceback (most recent call last):
        ...
        crmkit.errors.CurrencyMismatchError: cannot total USD amounts in TWD without exchange ...

    .. versionadded:: 0.1.0
    """
    if not is_currency(currency):
        raise ValidationError(f"{currency!r} is not an ISO 4217 currency code", path="currency")
    foreign = sorted(c for c in totals if c != currency)
    if foreign and rates is None:
        raise CurrencyMismatchError(
            f"cannot total {', '.join(foreign)} amounts in {currency} without exchange rates; "
            "pass rates= (an ExchangeRates port) or report each currency on its own",
            details={"currency": currency, "found": foreign},
        )
    if foreign and on is None:
        raise ValidationError("must be the day whose rates to use when converting", path="on")
    exact = totals.get(currency, Decimal(0))
    used: list[Rate] = []
    for code in foreign:
        assert rates is not None
        assert on is not None
        rate = rates.rate(code, currency, on)
        used.append(rate)
        exact += totals[code] * rate.value
    return Converted(Money(exact, currency).round(Rounding.HALF_UP), tuple(used))
