"""Sales metrics: revenue against target, pipeline, stages, win rate, deal size, cycle, reps.

The metrics come in two steps, so a database can do the heavy one:

1. :func:`sales_facts` reduces opportunities to :class:`SalesFacts`: one :class:`SalesGroup`
   per owner, stage, currency and period with counts and exact sums. The SQL adapters compute
   the same facts with ``GROUP BY`` (:class:`~crmkit.ports.AnalyticsQueries`), so no deal is
   loaded into Python; the push-down and this function give equal facts.
2. :func:`sales_summary` (or each metric function on its own) derives the metrics from facts.

A won or lost deal belongs to the period its ``closed_at`` falls in (in the periods' time
zone); an open deal to the period of its expected close date. Every result carries an
:class:`~crmkit.analytics.Explanation`: the formula, the deals counted, those excluded and why.
Amounts in several currencies are converted through an exchange-rate port (rates recorded) or
refused with a :class:`~crmkit.errors.CurrencyMismatchError`.

:func:`stage_conversion`, :func:`time_in_stage` and :func:`lead_attribution` need each deal's
stage history or its lead, so they run over records (the pipeline's own
:func:`~crmkit.pipeline.forecast.funnel` and
:func:`~crmkit.pipeline.forecast.average_time_in_stage` do the counting).

Example:
    >>> from datetime import date
    >>> from crmkit.analytics import Periods
    >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
    >>> summary = sales_summary(facts, currency="TWD")
    >>> [(line.period.key, line.won) for line in summary.revenue.lines]
    [('2026-03', Money('1000.00', 'TWD')), ('2026-04', Money('3000.00', 'TWD'))]
    >>> summary.win_rate.ratio.value, summary.deal_size.average, summary.pipeline.weighted
    (Decimal('0.6667'), Money('2000.00', 'TWD'), Money('250.00', 'TWD'))
    >>> str(summary.win_rate.explanation)
    'won / (won + lost), deals closed in the periods; counted 3'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

import attrs

from crmkit.analytics._common import Explanation, Ratio, check_items
from crmkit.analytics.currency import Converted, Rate, convert_totals
from crmkit.analytics.periods import Periods
from crmkit.errors import CurrencyMismatchError, ValidationError
from crmkit.kernel.money import Money, Rounding
from crmkit.leads import Lead, LeadStatus
from crmkit.pipeline import CompiledPipeline, Opportunity, Pipeline
from crmkit.pipeline.forecast import (
    FunnelStep,
    Period,
    StageTime,
    average_time_in_stage,
    funnel,
)

if TYPE_CHECKING:
    from crmkit.ports import ExchangeRates

__all__ = [
    "Attribution",
    "AttributionLine",
    "DealSize",
    "PipelineValue",
    "RepComparison",
    "RepLine",
    "Revenue",
    "RevenueLine",
    "SalesCycle",
    "SalesFacts",
    "SalesGroup",
    "SalesSummary",
    "StageConversion",
    "StageCount",
    "StageCounts",
    "TimeInStage",
    "WinRate",
    "average_deal_size",
    "average_sales_cycle",
    "lead_attribution",
    "open_pipeline",
    "rep_comparison",
    "revenue",
    "sales_facts",
    "sales_summary",
    "stage_conversion",
    "stage_counts",
    "time_in_stage",
    "win_rate",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_KIND_ORDER = {"open": 0, "won": 1, "lost": 2}


def _epoch_seconds(at: datetime) -> int:
    """Whole UTC seconds since 1970 (microseconds dropped), as the SQL adapters compute them."""
    utc = at.astimezone(timezone.utc).replace(microsecond=0)
    return (utc - _EPOCH) // timedelta(seconds=1)


# ----- facts -----------------------------------------------------------------------------------


@attrs.frozen
class SalesGroup:
    """The deals of one owner, stage, currency and period, reduced to counts and exact sums.

    ``period`` is the index into :attr:`SalesFacts.periods` (``None``: outside them, or an
    open deal without an expected close date); ``currency`` is ``None`` for deals without an
    amount. ``priced`` deals have an amount; ``amount`` sums them and ``weighted`` sums
    amount x probability (in percent, not yet divided by 100). ``cycles`` won deals add up to
    ``cycle_seconds`` whole seconds from creation to close.

    Example:
        >>> from decimal import Decimal
        >>> g = SalesGroup("u_amy", "won", "won", "TWD", 0, 2, 2, Decimal("300"),
        ...                Decimal("30000"), 2, 172800)
        >>> g.deals, g.amount
        (2, Decimal('300'))

    .. versionadded:: 0.1.0
    """

    owner: str | None
    stage: str
    stage_kind: str
    currency: str | None
    period: int | None
    deals: int
    priced: int
    amount: Decimal
    weighted: Decimal
    cycles: int
    cycle_seconds: int

    @property
    def key(self) -> tuple[bool, str, str, str, bool, str, bool, int]:
        """The canonical sort key (owner, stage, kind, currency, period; ``None`` last).

        Example:
            >>> from decimal import Decimal
            >>> SalesGroup(None, "lead", "open", None, None, 1, 0, Decimal(0), Decimal(0),
            ...            0, 0).key
            (True, '', 'lead', 'open', True, '', True, 0)
        """
        return (
            self.owner is None,
            self.owner or "",
            self.stage,
            self.stage_kind,
            self.currency is None,
            self.currency or "",
            self.period is None,
            self.period or 0,
        )


def _groups(value: Iterable[SalesGroup]) -> tuple[SalesGroup, ...]:
    return tuple(sorted(check_items(value, SalesGroup, "groups"), key=lambda g: g.key))


@attrs.frozen
class SalesFacts:
    """Every deal in scope, reduced to :class:`SalesGroup` rows over :attr:`periods`.

    Groups are kept in their canonical order, so facts from SQL and from Python compare equal.

    Example:
        >>> from datetime import date
        >>> facts = SalesFacts(Periods(date(2026, 1, 1), 1), ())
        >>> facts.deals
        0

    .. versionadded:: 0.1.0
    """

    periods: Periods
    groups: tuple[SalesGroup, ...] = attrs.field(default=(), converter=_groups)
    pipeline_key: str | None = None

    @property
    def deals(self) -> int:
        """How many deals the facts cover."""
        return sum(g.deals for g in self.groups)


def _check_scope(periods: object, pipeline_key: object, *, keeps_deals: bool = True) -> None:
    """What every implementation of ``sales_facts`` checks of its arguments (and store)."""
    if not keeps_deals:
        raise ValidationError(
            "this store does not keep opportunities (no 'opportunities' record type)",
            path="store",
        )
    if not isinstance(periods, Periods):
        raise ValidationError(f"must be Periods, not {type(periods).__name__}", path="periods")
    if pipeline_key is not None and not isinstance(pipeline_key, str):
        raise ValidationError(
            f"must be a pipeline key or None, not {type(pipeline_key).__name__}",
            path="pipeline_key",
        )


def sales_facts(
    opportunities: Iterable[Opportunity],
    periods: Periods,
    *,
    pipeline_key: str | None = None,
) -> SalesFacts:
    """Reduce ``opportunities`` (of ``pipeline_key`` only, if given) to :class:`SalesFacts`.

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> for g in facts.groups:
        ...     print(g.owner, g.stage, g.period, g.deals, g.amount)
        u_amy lost 0 1 800
        u_amy proposal 1 1 500
        u_amy won 1 1 3000
        u_ben won 0 1 1000

    .. versionadded:: 0.1.0
    """
    _check_scope(periods, pipeline_key)
    sums: dict[tuple[str | None, str, str, str | None, int | None], list[object]] = {}
    for opp in check_items(opportunities, Opportunity, "opportunities"):
        if pipeline_key is not None and opp.pipeline_key != pipeline_key:
            continue
        kind = opp.stage_kind.value
        when: date | datetime | None = opp.expected_close_date if kind == "open" else opp.closed_at
        index = None if when is None else periods.index_of(when)
        money = opp.amount
        key = (opp.owner, opp.stage, kind, None if money is None else money.currency, index)
        row = sums.setdefault(key, [0, 0, Decimal(0), Decimal(0), 0, 0])
        row[0] += 1  # type: ignore[operator]
        if money is not None:
            row[1] += 1  # type: ignore[operator]
            row[2] += money.amount  # type: ignore[operator]
            row[3] += money.amount * opp.probability  # type: ignore[operator]
        if kind == "won" and opp.closed_at is not None:
            row[4] += 1  # type: ignore[operator]
            row[5] += _epoch_seconds(opp.closed_at) - _epoch_seconds(opp.created_at)  # type: ignore[operator]
    groups = [
        SalesGroup(*key, *row)  # type: ignore[arg-type]
        for key, row in sums.items()
    ]
    return SalesFacts(periods, tuple(groups), pipeline_key)


# ----- conversion ------------------------------------------------------------------------------


@attrs.define
class _Money:
    """Converts per-currency subtotals for one report, collecting the rates used."""

    currency: str
    rates: ExchangeRates | None
    on: date | None
    used: dict[tuple[str, str, date], Rate] = attrs.field(factory=dict)

    def total(self, totals: Mapping[str, Decimal]) -> Money:
        converted: Converted = convert_totals(
            totals, currency=self.currency, rates=self.rates, on=self.on
        )
        for rate in converted.rates:
            self.used[(rate.base, rate.quote, rate.on)] = rate
        return converted.total

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(f"converted at {rate}" for rate in self.used.values())

    @property
    def rates_used(self) -> tuple[Rate, ...]:
        return tuple(self.used.values())


def _converter(
    facts: SalesFacts, currency: str, rates: ExchangeRates | None, rates_on: date | None
) -> _Money:
    on = rates_on if rates_on is not None else facts.periods.end - timedelta(days=1)
    return _Money(currency, rates, on)


def _add(totals: dict[str, Decimal], group: SalesGroup, value: Decimal) -> None:
    if group.currency is not None:
        totals[group.currency] = totals.get(group.currency, Decimal(0)) + value


def _closed(facts: SalesFacts, kind: str) -> list[SalesGroup]:
    return [g for g in facts.groups if g.stage_kind == kind and g.period is not None]


def _outside(facts: SalesFacts, kind: str) -> int:
    return sum(g.deals for g in facts.groups if g.stage_kind == kind and g.period is None)


# ----- revenue ----------------------------------------------------------------------------------


@attrs.frozen
class RevenueLine:
    """Won revenue in one period against its target (``attainment`` = won / target).

    Example:
        >>> from datetime import date
        >>> line = RevenueLine(Period(date(2026, 3, 1)), Money("80", "USD"), 2,
        ...                    Money("100", "USD"))
        >>> line.attainment
        Decimal('0.8000')

    .. versionadded:: 0.1.0
    """

    period: Period
    won: Money
    deals: int
    target: Money | None = None

    @property
    def attainment(self) -> Decimal | None:
        """``won / target`` to four places; ``None`` without a (non-zero) target."""
        if self.target is None or not self.target.amount:
            return None
        return (self.won.amount / self.target.amount).quantize(Decimal("0.0001"))


@attrs.frozen
class Revenue:
    """Won revenue per period (with targets), its total, and how it was computed.

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> revenue(facts, currency="TWD").total
        Money('4000.00', 'TWD')

    .. versionadded:: 0.1.0
    """

    currency: str
    lines: tuple[RevenueLine, ...]
    total: Money
    explanation: Explanation
    rates: tuple[Rate, ...] = ()


def _targets(
    value: Mapping[str, Money] | None, periods: Periods, currency: str
) -> dict[str, Money]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"must map period keys to Money, not {type(value).__name__}", path="targets"
        )
    keys = [p.key for p in periods.periods]
    found: dict[str, Money] = {}
    for key, target in value.items():
        if key not in keys:
            raise ValidationError(
                f"{key!r} is not one of the periods ({', '.join(keys)})", path="targets"
            )
        if not isinstance(target, Money):
            raise ValidationError(
                f"must be Money, not {type(target).__name__}", path=f"targets[{key!r}]"
            )
        if target.currency != currency:
            raise CurrencyMismatchError(
                f"the target for {key} is in {target.currency}, the report in {currency}; "
                "give targets in the report currency",
                details={"period": key, "currency": target.currency, "report": currency},
            )
        found[key] = target
    return found


def revenue(
    facts: SalesFacts,
    *,
    currency: str,
    targets: Mapping[str, Money] | None = None,
    rates: ExchangeRates | None = None,
    rates_on: date | None = None,
) -> Revenue:
    """Won amount per period (by close date in the periods' time zone) against ``targets``.

    ``targets`` maps period keys (``"2026-03"``) to :class:`~crmkit.kernel.money.Money` in
    ``currency``. Amounts in other currencies are converted with ``rates`` on ``rates_on``
    (default: the last day of the periods), each period's total rounded once.

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> report = revenue(facts, currency="TWD", targets={"2026-04": Money("4000", "TWD")})
        >>> report.lines[1].attainment, str(report.explanation)
        (Decimal('0.7500'), 'sum of won amounts per period of the close date (UTC); counted 2')

    .. versionadded:: 0.1.0
    """
    wanted = _targets(targets, facts.periods, currency)
    money = _converter(facts, currency, rates, rates_on)
    per_period: list[dict[str, Decimal]] = [{} for _ in facts.periods.periods]
    deals = [0] * facts.periods.count
    unpriced = 0
    for g in _closed(facts, "won"):
        assert g.period is not None
        _add(per_period[g.period], g, g.amount)
        deals[g.period] += g.priced
        unpriced += g.deals - g.priced
    lines = tuple(
        RevenueLine(p, money.total(per_period[i]), deals[i], wanted.get(p.key))
        for i, p in enumerate(facts.periods.periods)
    )
    explanation = Explanation(
        f"sum of won amounts per period of the close date ({facts.periods.time_zone})",
        sum(deals),
        {"won outside the periods": _outside(facts, "won"), "won without an amount": unpriced},
        money.notes,
    )
    total = Money.sum((line.won for line in lines), currency=currency)
    return Revenue(currency, lines, total, explanation, money.rates_used)


# ----- pipeline -------------------------------------------------------------------------------


@attrs.frozen
class PipelineValue:
    """The open pipeline: amount of every open deal, and amount x probability.

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> p = open_pipeline(facts, currency="TWD")
        >>> p.deals, p.amount, p.weighted
        (1, Money('500.00', 'TWD'), Money('250.00', 'TWD'))

    .. versionadded:: 0.1.0
    """

    deals: int
    amount: Money
    weighted: Money
    explanation: Explanation
    rates: tuple[Rate, ...] = ()


def open_pipeline(
    facts: SalesFacts,
    *,
    currency: str,
    rates: ExchangeRates | None = None,
    rates_on: date | None = None,
) -> PipelineValue:
    """Open and weighted pipeline over every open deal, whatever its expected close date.

    The weighted value is the exact sum of amount x probability / 100, rounded half-up once
    (as :func:`crmkit.pipeline.forecast.weighted_pipeline` rounds a line).

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> str(open_pipeline(facts, currency="TWD").explanation)
        'sum of amount (and amount x probability / 100) of open deals; counted 1'

    .. versionadded:: 0.1.0
    """
    money = _converter(facts, currency, rates, rates_on)
    amounts: dict[str, Decimal] = {}
    weighted: dict[str, Decimal] = {}
    priced = unpriced = 0
    for g in facts.groups:
        if g.stage_kind != "open":
            continue
        _add(amounts, g, g.amount)
        _add(weighted, g, g.weighted / 100)
        priced += g.priced
        unpriced += g.deals - g.priced
    explanation = Explanation(
        "sum of amount (and amount x probability / 100) of open deals",
        priced,
        {"open without an amount": unpriced},
        money.notes,
    )
    amount, value = money.total(amounts), money.total(weighted)
    return PipelineValue(priced, amount, value, explanation, money.rates_used)


@attrs.frozen
class StageCount:
    """How many deals are in ``stage`` (of kind ``open``, ``won`` or ``lost``).

    Example:
        >>> StageCount("proposal", "open", 4).deals
        4

    .. versionadded:: 0.1.0
    """

    stage: str
    kind: str
    deals: int


@attrs.frozen
class StageCounts:
    """Deals per stage: every open deal, and the won and lost deals closed in the periods.

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> [(s.stage, s.deals) for s in stage_counts(facts).stages]
        [('proposal', 1), ('won', 2), ('lost', 1)]

    .. versionadded:: 0.1.0
    """

    stages: tuple[StageCount, ...]
    explanation: Explanation


def stage_counts(facts: SalesFacts) -> StageCounts:
    """Count deals by stage: open ones all, closed ones if they closed in the periods.

    Example:
        >>> from datetime import date
        >>> stage_counts(SalesFacts(Periods(date(2026, 1, 1), 1), ())).stages
        ()

    .. versionadded:: 0.1.0
    """
    counts: dict[tuple[str, str], int] = defaultdict(int)
    outside = 0
    for g in facts.groups:
        if g.stage_kind != "open" and g.period is None:
            outside += g.deals
            continue
        counts[(g.stage, g.stage_kind)] += g.deals
    stages = tuple(
        StageCount(stage, kind, n)
        for (stage, kind), n in sorted(counts.items(), key=lambda i: (_KIND_ORDER[i[0][1]], i[0]))
    )
    explanation = Explanation(
        "deals per stage: all open deals, closed deals closed in the periods",
        sum(counts.values()),
        {"closed outside the periods": outside},
    )
    return StageCounts(stages, explanation)


# ----- win rate, deal size, cycle -------------------------------------------------------------


@attrs.frozen
class WinRate:
    """Won deals over decided deals (won + lost) closed in the periods.

    Example:
        >>> WinRate(Ratio(2, 3), Explanation("won / (won + lost)", 3)).ratio.value
        Decimal('0.6667')

    .. versionadded:: 0.1.0
    """

    ratio: Ratio
    explanation: Explanation


def win_rate(facts: SalesFacts) -> WinRate:
    """Share of deals closed in the periods that were won.

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> win_rate(facts).ratio
        Ratio(part=2, whole=3)

    .. versionadded:: 0.1.0
    """
    won = sum(g.deals for g in _closed(facts, "won"))
    lost = sum(g.deals for g in _closed(facts, "lost"))
    outside = _outside(facts, "won") + _outside(facts, "lost")
    explanation = Explanation(
        "won / (won + lost), deals closed in the periods",
        won + lost,
        {"closed outside the periods": outside},
    )
    return WinRate(Ratio(won, won + lost), explanation)


@attrs.frozen
class DealSize:
    """The average won deal: won amount / won deals with an amount (``None`` if none).

    Example:
        >>> DealSize(None, Explanation("x", 0)).average is None
        True

    .. versionadded:: 0.1.0
    """

    average: Money | None
    explanation: Explanation
    rates: tuple[Rate, ...] = ()


def average_deal_size(
    facts: SalesFacts,
    *,
    currency: str,
    rates: ExchangeRates | None = None,
    rates_on: date | None = None,
) -> DealSize:
    """Average amount of the deals won in the periods (converted total / count, half-up).

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> average_deal_size(facts, currency="TWD").average
        Money('2000.00', 'TWD')

    .. versionadded:: 0.1.0
    """
    money = _converter(facts, currency, rates, rates_on)
    totals: dict[str, Decimal] = {}
    priced = unpriced = 0
    for g in _closed(facts, "won"):
        _add(totals, g, g.amount)
        priced += g.priced
        unpriced += g.deals - g.priced
    explanation = Explanation(
        "won amount / won deals, deals won in the periods",
        priced,
        {"won outside the periods": _outside(facts, "won"), "won without an amount": unpriced},
        money.notes,
    )
    if not priced:
        return DealSize(None, explanation)
    total = money.total(totals)
    average = Money(total.amount / priced, currency).round(Rounding.HALF_UP)
    return DealSize(average, explanation, money.rates_used)


@attrs.frozen
class SalesCycle:
    """Average time from a deal's creation to its win (whole seconds; ``None`` if no wins).

    Example:
        >>> from datetime import timedelta
        >>> SalesCycle(timedelta(days=3), Explanation("x", 1)).average.days
        3

    .. versionadded:: 0.1.0
    """

    average: timedelta | None
    explanation: Explanation


def average_sales_cycle(facts: SalesFacts) -> SalesCycle:
    """Mean of ``closed_at - created_at`` over deals won in the periods, to the second.

    Each time is taken to the whole second (UTC) before subtracting; the mean is rounded
    half-even to a whole second.

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> average_sales_cycle(facts).average  # 20 and 60 days
        datetime.timedelta(days=40)

    .. versionadded:: 0.1.0
    """
    won = _closed(facts, "won")
    cycles = sum(g.cycles for g in won)
    seconds = sum(g.cycle_seconds for g in won)
    explanation = Explanation(
        "mean of (closed_at - created_at) over deals won in the periods",
        cycles,
        {"won outside the periods": _outside(facts, "won")},
    )
    if not cycles:
        return SalesCycle(None, explanation)
    mean = (Decimal(seconds) / cycles).quantize(Decimal(1), ROUND_HALF_EVEN)
    return SalesCycle(timedelta(seconds=int(mean)), explanation)


# ----- reps -----------------------------------------------------------------------------------


@attrs.frozen
class RepLine:
    """One rep's won revenue and win rate, and how it compares with the team average.

    ``vs_team`` is won / team average (four places); ``below`` is set when it is under the
    comparison's threshold.

    Example:
        >>> RepLine("u_amy", Money("10", "USD"), 1, Ratio(1, 2), Decimal("0.25"), True).below
        True

    .. versionadded:: 0.1.0
    """

    owner: str
    won: Money
    deals_won: int
    win_rate: Ratio
    vs_team: Decimal | None
    below: bool


@attrs.frozen
class RepComparison:
    """Every rep against the team average; ``threshold`` is the share under which one is flagged.

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> c = rep_comparison(facts, currency="TWD", threshold=Decimal("0.5"))
        >>> c.team_average
        Money('2000.00', 'TWD')
        >>> for r in c.reps:
        ...     print(r.owner, r.won, r.vs_team, r.below)
        u_amy 3000.00 TWD 1.5000 False
        u_ben 1000.00 TWD 0.5000 False

    .. versionadded:: 0.1.0
    """

    reps: tuple[RepLine, ...]
    team_average: Money
    threshold: Decimal
    explanation: Explanation
    rates: tuple[Rate, ...] = ()

    @property
    def flagged(self) -> tuple[str, ...]:
        """The owners flagged as far below the team average."""
        return tuple(r.owner for r in self.reps if r.below)


def _threshold(value: object) -> Decimal:
    if isinstance(value, (int, str)) and not isinstance(value, bool):
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite() or not 0 < value <= 1:
        raise ValidationError(
            f"must be a Decimal share above 0 and at most 1 (0.5 = half the average), "
            f"not {value!r}",
            path="threshold",
        )
    return value


def rep_comparison(
    facts: SalesFacts,
    *,
    currency: str,
    threshold: Decimal | str = Decimal("0.5"),
    rates: ExchangeRates | None = None,
    rates_on: date | None = None,
) -> RepComparison:
    """Each owner's won revenue in the periods against the team average.

    The team is every owner with a deal in scope (open, or closed in the periods); the
    average is total won / team size. A rep is flagged ``below`` when won < average x
    ``threshold`` (data: 0.5 flags reps under half the average).

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> rep_comparison(facts, currency="TWD", threshold="0.9").flagged
        ('u_ben',)

    .. versionadded:: 0.1.0
    """
    share = _threshold(threshold)
    money = _converter(facts, currency, rates, rates_on)
    won: dict[str, dict[str, Decimal]] = defaultdict(dict)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    unassigned = 0
    for g in facts.groups:
        if g.stage_kind != "open" and g.period is None:
            continue
        if g.owner is None:
            unassigned += g.deals
            continue
        entry = counts[g.owner]
        won.setdefault(g.owner, {})
        if g.stage_kind == "won":
            _add(won[g.owner], g, g.amount)
            entry[0] += g.deals
        if g.stage_kind != "open":
            entry[1] += g.deals
    totals = {owner: money.total(won[owner]) for owner in sorted(counts)}
    team = Money.sum(totals.values(), currency=currency)
    average = (
        Money(team.amount / len(totals), currency).round(Rounding.HALF_UP)
        if totals
        else Money.zero(currency)
    )
    reps = []
    for owner, total in totals.items():
        vs = (
            None
            if not average.amount
            else (total.amount / average.amount).quantize(Decimal("0.0001"))
        )
        below = bool(average.amount) and total.amount < average.amount * share
        reps.append(RepLine(owner, total, counts[owner][0], Ratio(*counts[owner]), vs, below))
    explanation = Explanation(
        f"each rep's won amount vs total won / reps; flagged under {share} x the average",
        sum(c[1] for c in counts.values()),
        {"no owner": unassigned},
        money.notes,
    )
    return RepComparison(tuple(reps), average, share, explanation, money.rates_used)


# ----- summary --------------------------------------------------------------------------------


@attrs.frozen
class SalesSummary:
    """Every sales metric of :func:`sales_summary` for one set of facts.

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> sales_summary(facts, currency="TWD").cycle.average.days
        40

    .. versionadded:: 0.1.0
    """

    revenue: Revenue
    pipeline: PipelineValue
    stages: StageCounts
    win_rate: WinRate
    deal_size: DealSize
    cycle: SalesCycle
    reps: RepComparison


def sales_summary(
    facts: SalesFacts,
    *,
    currency: str,
    targets: Mapping[str, Money] | None = None,
    threshold: Decimal | str = Decimal("0.5"),
    rates: ExchangeRates | None = None,
    rates_on: date | None = None,
) -> SalesSummary:
    """The sales dashboard's metrics: revenue, pipeline, stages, win rate, size, cycle, reps.

    Example:
        >>> from datetime import date
        >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
        >>> sales_summary(facts, currency="TWD").reps.flagged
        ()

    .. versionadded:: 0.1.0
    """
    conv = {"currency": currency, "rates": rates, "rates_on": rates_on}
    return SalesSummary(
        revenue=revenue(facts, targets=targets, **conv),  # type: ignore[arg-type]
        pipeline=open_pipeline(facts, **conv),  # type: ignore[arg-type]
        stages=stage_counts(facts),
        win_rate=win_rate(facts),
        deal_size=average_deal_size(facts, **conv),  # type: ignore[arg-type]
        cycle=average_sales_cycle(facts),
        reps=rep_comparison(facts, threshold=threshold, **conv),  # type: ignore[arg-type]
    )


# ----- over records: conversion, time in stage, attribution -----------------------------------


@attrs.frozen
class StageConversion:
    """Conversion between consecutive stages (the pipeline's funnel), explained.

    Example:
        >>> from crmkit.pipeline.definition import _example
        >>> c = stage_conversion(_example_deals(), _example())
        >>> [(s.source, s.target, s.rate) for s in c.steps]
        [('lead', 'proposal', Decimal('0.7500')), ('proposal', 'won', Decimal('0.6667'))]

    .. versionadded:: 0.1.0
    """

    steps: tuple[FunnelStep, ...]
    explanation: Explanation


def stage_conversion(
    opportunities: Iterable[Opportunity], pipeline: Pipeline | CompiledPipeline
) -> StageConversion:
    """Of the deals that reached each stage, the share that reached the next one.

    Counted by :func:`crmkit.pipeline.forecast.funnel`: a deal that skipped a stage counts
    as having passed it; deals of other pipelines are excluded.

    Example:
        >>> from crmkit.pipeline.definition import _example
        >>> stage_conversion(_example_deals(), _example()).explanation.counted
        4

    .. versionadded:: 0.1.0
    """
    deals = check_items(opportunities, Opportunity, "opportunities")
    steps = funnel(deals, pipeline)
    key = pipeline.key if isinstance(pipeline, (Pipeline, CompiledPipeline)) else None
    mine = sum(1 for d in deals if d.pipeline_key == key)
    explanation = Explanation(
        "advanced / reached per consecutive stage pair (furthest stage each deal reached)",
        mine,
        {"another pipeline": len(deals) - mine},
    )
    return StageConversion(steps, explanation)


@attrs.frozen
class TimeInStage:
    """Average time deals stayed in each stage, explained.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.pipeline.definition import _example
        >>> t = time_in_stage(_example_deals(), _example(),
        ...                   now=datetime(2026, 5, 1, tzinfo=timezone.utc))
        >>> [(s.stage, s.stints, s.average.days) for s in t.stages]
        [('lead', 4, 12), ('proposal', 3, 36)]

    .. versionadded:: 0.1.0
    """

    stages: tuple[StageTime, ...]
    explanation: Explanation


def time_in_stage(
    opportunities: Iterable[Opportunity],
    pipeline: Pipeline | CompiledPipeline,
    *,
    now: datetime | None = None,
) -> TimeInStage:
    """Average time in each stage from the deals' histories (and, with ``now``, open stays).

    Example:
        >>> from crmkit.pipeline.definition import _example
        >>> time_in_stage([], _example()).stages
        ()

    .. versionadded:: 0.1.0
    """
    deals = check_items(opportunities, Opportunity, "opportunities")
    stages = average_time_in_stage(deals, pipeline=pipeline, now=now)
    formula = "total time in stage / stays, from each deal's stage history"
    if now is not None:
        formula += f", open stays up to {now.isoformat()}"
    return TimeInStage(stages, Explanation(formula, sum(s.stints for s in stages)))


@attrs.frozen
class AttributionLine:
    """Leads of one source channel and campaign, and the revenue their deals won.

    Example:
        >>> line = AttributionLine("web_form", None, 4, 2, 1, Money("100", "USD"))
        >>> line.conversion.value
        Decimal('0.5000')

    .. versionadded:: 0.1.0
    """

    source: str
    campaign: str | None
    leads: int
    converted: int
    won_deals: int
    won: Money

    @property
    def conversion(self) -> Ratio:
        """Converted leads / leads."""
        return Ratio(self.converted, self.leads)


@attrs.frozen
class Attribution:
    """Won revenue attributed to each lead source and campaign (single touch: the lead's own).

    Example:
        >>> Attribution((), Explanation("x", 0)).lines
        ()

    .. versionadded:: 0.1.0
    """

    lines: tuple[AttributionLine, ...]
    explanation: Explanation
    rates: tuple[Rate, ...] = ()


def lead_attribution(
    leads: Iterable[Lead],
    opportunities: Iterable[Opportunity],
    periods: Periods,
    *,
    currency: str,
    rates: ExchangeRates | None = None,
    rates_on: date | None = None,
) -> Attribution:
    """Leads captured in the periods, per source channel and campaign, and what they won.

    A converted lead's deal (its conversion's ``opportunity_id``) counts when it is won,
    whenever it was won; a deal not among ``opportunities`` is excluded and counted.

    Example:
        >>> from datetime import date, datetime, timezone
        >>> from crmkit.leads import Lead
        >>> at = datetime(2026, 3, 3, tzinfo=timezone.utc)
        >>> lead = Lead.capture(id="lead_1", source_channel="trade_show", campaign="Expo",
        ...                     name="Amy", email="amy@example.com", now=at)
        >>> a = lead_attribution([lead], _example_deals(), Periods(date(2026, 3, 1), 1),
        ...                      currency="TWD")
        >>> [(x.source, x.campaign, x.leads, x.converted, x.won) for x in a.lines]
        [('trade_show', 'Expo', 1, 0, Money('0.00', 'TWD'))]

    .. versionadded:: 0.1.0
    """
    if not isinstance(periods, Periods):
        raise ValidationError(f"must be Periods, not {type(periods).__name__}", path="periods")
    deals = {d.id: d for d in check_items(opportunities, Opportunity, "opportunities")}
    on = rates_on if rates_on is not None else periods.end - timedelta(days=1)
    money = _Money(currency, rates, on)
    rows: dict[tuple[str, str | None], list[object]] = {}
    outside = missing = 0
    for lead in check_items(leads, Lead, "leads"):
        if periods.index_of(lead.captured_at) is None:
            outside += 1
            continue
        row = rows.setdefault(
            (lead.source_channel.value, lead.campaign), [0, 0, 0, defaultdict(Decimal)]
        )
        row[0] += 1  # type: ignore[operator]
        if lead.status is not LeadStatus.CONVERTED or lead.conversion is None:
            continue
        row[1] += 1  # type: ignore[operator]
        deal_id = lead.conversion.opportunity_id
        if deal_id is None:
            continue
        deal = deals.get(deal_id)
        if deal is None:
            missing += 1
            continue
        if deal.stage_kind.value == "won" and deal.amount is not None:
            row[2] += 1  # type: ignore[operator]
            row[3][deal.amount.currency] += deal.amount.amount  # type: ignore[index]
    lines = tuple(
        AttributionLine(source, campaign, n, conv, won, money.total(totals))  # type: ignore[arg-type]
        for (source, campaign), (n, conv, won, totals) in sorted(
            rows.items(), key=lambda i: (i[0][0], i[0][1] or "")
        )
    )
    explanation = Explanation(
        "leads captured in the periods per source and campaign; won amount of their deals",
        sum(line.leads for line in lines),
        {"captured outside the periods": outside, "deal not given": missing},
        money.notes,
    )
    return Attribution(lines, explanation, money.rates_used)


# ----- examples -------------------------------------------------------------------------------


def _build_deal(
    id: str,
    *,
    pipeline: Pipeline,
    created: datetime,
    owner: str | None = None,
    amount: Money | None = None,
    expected: date | None = None,
    proposal_at: datetime | None = None,
    outcome: str | None = None,
    closed: datetime | None = None,
) -> Opportunity:
    """Open a deal at ``created``; optionally move it to proposal, then win or lose it."""
    opp = Opportunity.open(
        id=id,
        customer_id="cus_1",
        name=f"Deal {id}",
        pipeline=pipeline,
        now=created,
        owner=owner,
        amount=amount,
        expected_close_date=expected,
    )
    if proposal_at is not None:
        opp.move("proposal", pipeline=pipeline, now=proposal_at)
    if outcome is not None and closed is not None:
        reason = "price" if outcome == "lost" else None
        opp.move(outcome, pipeline=pipeline, now=closed, reason=reason)
    opp.pull_events()
    return opp


def _example_deals() -> list[Opportunity]:
    """Four deals for the docstring examples (pipeline ``definition._example``).

    Two won (1000 TWD in March by u_ben, 3000 TWD in April by u_amy), one lost in March
    (u_amy), one open in proposal (500 TWD, 50 %, expected in April, u_amy).
    """
    from crmkit.pipeline.definition import _example

    sales = _example()
    start = datetime(2026, 2, 20, tzinfo=timezone.utc)
    plan = [
        ("opp_1", "u_ben", "1000", "won", datetime(2026, 3, 12, tzinfo=timezone.utc)),
        ("opp_2", "u_amy", "3000", "won", datetime(2026, 4, 21, tzinfo=timezone.utc)),
        ("opp_3", "u_amy", "800", "lost", datetime(2026, 3, 20, tzinfo=timezone.utc)),
        ("opp_4", "u_amy", "500", None, None),
    ]
    return [
        _build_deal(
            id,
            pipeline=sales,
            created=start if i < 2 else start + timedelta(days=10),
            owner=owner,
            amount=Money(amount, "TWD"),
            expected=date(2026, 4, 30),
            proposal_at=None
            if id == "opp_3"
            else (start if i < 2 else start + timedelta(days=10)) + timedelta(days=10),
            outcome=end,
            closed=closed,
        )
        for i, (id, owner, amount, end, closed) in enumerate(plan)
    ]
