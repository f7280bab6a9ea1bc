"""Forecasts: the weighted pipeline per period, and a back-tested forecast from history.

* :func:`weighted_by_period`: open deals by the period of their expected close date, amount and
  amount x probability, from :class:`~crmkit.analytics.sales.SalesFacts` (so it runs pushed down
  into SQL too); it agrees with :func:`crmkit.pipeline.forecast.weighted_pipeline` per period,
  which rounds once per owner and category line where this rounds once per period.
* :func:`history_forecast`: the next periods from past won revenue, by a seasonal naive forecast
  (the same period one season ago) and a moving average (the mean of the last ``window``
  periods). Each method is back-tested on the last periods of the history, each prediction
  made only from what came before it; the method with the lower mean absolute error wins
  (seasonal naive on a tie) and the forecast reports that error and every method's.

Example:
    >>> from decimal import Decimal
    >>> history = [Money(x, "USD") for x in
    ...            ["10", "20", "30", "40", "12", "22", "32", "42", "14", "24", "34", "44"]]
    >>> f = history_forecast(history, horizon=2, season=4, window=3)
    >>> f.method, f.error, [str(m) for m in f.values]
    ('seasonal_naive', Money('2.00', 'USD'), ['14.00 USD', '24.00 USD'])

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from crmkit.analytics._common import Explanation
from crmkit.analytics.currency import Rate
from crmkit.analytics.sales import Revenue, SalesFacts, _add, _converter
from crmkit.errors import CurrencyMismatchError, ValidationError
from crmkit.kernel.money import Money, Rounding
from crmkit.pipeline.forecast import Period

if TYPE_CHECKING:
    from crmkit.ports import ExchangeRates

__all__ = [
    "HistoryForecast",
    "MethodError",
    "WeightedLine",
    "WeightedPipeline",
    "history_forecast",
    "weighted_by_period",
]


@attrs.frozen
class WeightedLine:
    """Open deals expected to close in ``period``: their amount and weighted amount.

    Example:
        >>> from datetime import date
        >>> WeightedLine(Period(date(2026, 4, 1)), 1, Money("500", "TWD"),
        ...              Money("250", "TWD")).weighted
        Money('250', 'TWD')

    .. versionadded:: 0.1.0
    """

    period: Period
    deals: int
    amount: Money
    weighted: Money


@attrs.frozen
class WeightedPipeline:
    """The weighted pipeline per period, and how it was computed.

    Example:
        >>> from datetime import date
        >>> from crmkit.analytics import Periods, sales_facts
        >>> from crmkit.analytics.sales import _example_deals
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> [(l.period.key, l.weighted) for l in weighted_by_period(facts, currency="TWD").lines]
        [('2026-03', Money('0.00', 'TWD')), ('2026-04', Money('250.00', 'TWD'))]

    .. versionadded:: 0.1.0
    """

    lines: tuple[WeightedLine, ...]
    explanation: Explanation
    rates: tuple[Rate, ...] = ()


def weighted_by_period(
    facts: SalesFacts,
    *,
    currency: str,
    rates: ExchangeRates | None = None,
    rates_on: date | None = None,
) -> WeightedPipeline:
    """Open deals per period of their expected close date: amount x probability / 100.

    Each period's weighted value is the exact sum rounded half-up once, as
    :func:`crmkit.pipeline.forecast.weighted_pipeline` rounds a line.

    Example:
        >>> from datetime import date
        >>> from crmkit.analytics import Periods, sales_facts
        >>> from crmkit.analytics.sales import _example_deals
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 5, 1), 1))
        >>> weighted_by_period(facts, currency="TWD").explanation.excluded
        (('expected to close outside the periods or undated', 1),)

    .. versionadded:: 0.1.0
    """
    money = _converter(facts, currency, rates, rates_on)
    amounts: list[dict[str, Decimal]] = [{} for _ in facts.periods.periods]
    weighted: list[dict[str, Decimal]] = [{} for _ in facts.periods.periods]
    deals = [0] * facts.periods.count
    outside = unpriced = 0
    for g in facts.groups:
        if g.stage_kind != "open":
            continue
        if g.period is None:
            outside += g.deals
            continue
        _add(amounts[g.period], g, g.amount)
        _add(weighted[g.period], g, g.weighted / 100)
        deals[g.period] += g.priced
        unpriced += g.deals - g.priced
    lines = tuple(
        WeightedLine(p, deals[i], money.total(amounts[i]), money.total(weighted[i]))
        for i, p in enumerate(facts.periods.periods)
    )
    explanation = Explanation(
        "amount x probability / 100 of open deals per period of the expected close date",
        sum(deals),
        {
            "expected to close outside the periods or undated": outside,
            "open without an amount": unpriced,
        },
        money.notes,
    )
    return WeightedPipeline(lines, explanation, money.rates_used)


# ----- history forecast -----------------------------------------------------------------------


@attrs.frozen
class MethodError:
    """One method's back-test: its mean absolute error over ``tested`` periods.

    Example:
        >>> MethodError("moving_average", Money("3", "USD"), 4).method
        'moving_average'

    .. versionadded:: 0.1.0
    """

    method: str
    error: Money
    tested: int


@attrs.frozen
class HistoryForecast:
    """The next periods' values by the method with the lower back-tested error.

    Example:
        >>> f = history_forecast([Money(x, "USD") for x in ["5", "5", "5", "5"]], season=2,
        ...                      window=2)
        >>> f.method, f.error, len(f.values)
        ('seasonal_naive', Money('0.00', 'USD'), 3)

    .. versionadded:: 0.1.0
    """

    method: str
    values: tuple[Money, ...]
    error: Money
    methods: tuple[MethodError, ...]
    explanation: Explanation


def _seasonal(history: Sequence[Decimal], season: int, ahead: int) -> Decimal:
    # The value one season before the predicted position len(history) + ahead.
    n = len(history)
    back = season * (ahead // season + 1)
    return history[n + ahead - back]


def _moving(history: Sequence[Decimal], window: int) -> Decimal:
    return sum(history[-window:], Decimal(0)) / window


def _whole(value: object, path: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValidationError(f"must be a whole number of at least {low}, not {value!r}", path=path)
    return value


def history_forecast(
    history: Sequence[Money] | Revenue,
    *,
    horizon: int = 3,
    season: int = 12,
    window: int = 3,
    holdout: int | None = None,
) -> HistoryForecast:
    """Forecast ``horizon`` periods after ``history`` (oldest first; or a revenue report).

    Both methods are back-tested on the last ``holdout`` periods (default: every period both
    can predict, i.e. after the first ``max(season, window)``); the lower mean absolute error
    wins. Needs at least ``max(season, window) + 1`` periods.

    Example:
        >>> history_forecast([Money("1", "USD")] * 3, season=12)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: history: needs at least 13 periods to back-test ...

    .. versionadded:: 0.1.0
    """
    values = [line.won for line in history.lines] if isinstance(history, Revenue) else list(history)
    _whole(horizon, "horizon", 1)
    _whole(season, "season", 1)
    _whole(window, "window", 1)
    if not values or not all(isinstance(v, Money) for v in values):
        raise ValidationError("must be a non-empty sequence of Money, oldest first", path="history")
    currency = values[0].currency
    others = sorted({v.currency for v in values} - {currency})
    if others:
        raise CurrencyMismatchError(
            f"history mixes {currency} with {', '.join(others)}; convert it to one currency first",
            details={"currencies": [currency, *others]},
        )
    first = max(season, window)
    if len(values) <= first:
        raise ValidationError(
            f"needs at least {first + 1} periods to back-test (season {season}, window "
            f"{window}), got {len(values)}",
            path="history",
        )
    tests = len(values) - first if holdout is None else _whole(holdout, "holdout", 1)
    if tests > len(values) - first:
        raise ValidationError(
            f"at most {len(values) - first} periods can be held out, not {tests}", path="holdout"
        )
    series = [v.amount for v in values]
    errors: dict[str, Decimal] = {"seasonal_naive": Decimal(0), "moving_average": Decimal(0)}
    for t in range(len(series) - tests, len(series)):
        past = series[:t]
        errors["seasonal_naive"] += abs(_seasonal(past, season, 0) - series[t])
        errors["moving_average"] += abs(_moving(past, window) - series[t])
    scored = tuple(
        MethodError(name, Money(total / tests, currency).round(Rounding.HALF_UP), tests)
        for name, total in errors.items()
    )
    best = min(scored, key=lambda m: m.error.amount)
    if best.method == "seasonal_naive":
        predicted = [_seasonal(series, season, i) for i in range(horizon)]
    else:
        average = _moving(series, window)
        predicted = [average] * horizon
    explanation = Explanation(
        f"{best.method.replace('_', ' ')} chosen by mean absolute error over the last "
        f"{tests} period(s) (seasonal naive: same period {season} back; moving average: "
        f"mean of the last {window})",
        len(values),
        notes=tuple(f"{m.method}: error {m.error}" for m in scored),
    )
    return HistoryForecast(
        best.method,
        tuple(Money(p, currency).round(Rounding.HALF_UP) for p in predicted),
        best.error,
        scored,
        explanation,
    )
