"""Forecast and funnel: pure functions over opportunities (the analytics context reuses them).

* :func:`weighted_pipeline`: amount x probability per period (month or quarter), owner and
  forecast category, in :class:`~crmkit.kernel.money.Money`; weighted sums are exact and
  rounded half-up once per line, never per deal.
* :func:`funnel` and :func:`conversion_rate`: how many deals that reached a stage went on.
* :func:`average_time_in_stage`: how long deals stay in each stage.
* :func:`stalled_deals`: open deals in a stage longer than its ``stall_after_days``, or without
  activity for longer than the pipeline's ``inactive_after_days``; notification triggers read it.

Periods are calendar months or quarters of a deal's expected close date (the close date for
won deals), computed with dateutil and labelled with babel in the locale you pass.

Example:
    >>> from datetime import date, datetime, timezone
    >>> from crmkit.kernel.money import Money
    >>> from crmkit.pipeline import Opportunity
    >>> from crmkit.pipeline.definition import _example
    >>> sales = _example()
    >>> now = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> deals = [Opportunity.open(id=f"opp_{i}", customer_id="cus_1", name="Deal",
    ...     pipeline=sales, now=now, owner="u_amy", amount=Money(amount, "TWD"),
    ...     expected_close_date=date(2026, 5, 20)) for i, amount in enumerate(["1000", "2500"])]
    >>> forecast = weighted_pipeline(deals, currency="TWD")
    >>> line = forecast.lines[0]
    >>> line.period.key, line.owner, line.category.value, line.deals, line.amount, line.weighted
    ('2026-Q2', 'u_amy', 'pipeline', 2, Money('3500', 'TWD'), Money('350.00', 'TWD'))
    >>> forecast.lines[0].period.label("zh_Hant_TW")
    '2026年第2季'

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import attrs
from babel.core import Locale, UnknownLocaleError
from babel.dates import format_skeleton
from dateutil.relativedelta import relativedelta

from crmkit.errors import CurrencyMismatchError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.money import Money, Rounding, is_currency
from crmkit.kernel.time import ensure_aware
from crmkit.pipeline._model import Opportunity
from crmkit.pipeline.definition import (
    CompiledPipeline,
    ForecastCategory,
    Pipeline,
    StageKind,
)

__all__ = [
    "Forecast",
    "ForecastLine",
    "FunnelStep",
    "Period",
    "PeriodKind",
    "StageTime",
    "StallReason",
    "StalledDeal",
    "average_time_in_stage",
    "conversion_rate",
    "funnel",
    "stalled_deals",
    "weighted_pipeline",
]

_CATEGORY_ORDER = {c: i for i, c in enumerate(ForecastCategory)}


class PeriodKind(StrEnum):
    """How a forecast groups close dates: by calendar ``month`` or ``quarter``.

    Example:
        >>> PeriodKind("quarter") is PeriodKind.QUARTER
        True

    .. versionadded:: 0.1.0
    """

    MONTH = "month"
    QUARTER = "quarter"


def _period_kind(value: object) -> PeriodKind:
    return v.to_enum(PeriodKind, "period")(value)


def _category(value: object) -> ForecastCategory:
    return v.to_enum(ForecastCategory, "category")(value)


def _first_day(_instance: object, _attribute: object, value: Any) -> None:
    if type(value) is not date:
        raise ValidationError(f"must be a date, not {type(value).__name__}", path="start")


@attrs.frozen(order=True)
class Period:
    """A calendar month or quarter, from ``start`` (its first day) up to :attr:`end` (excluded).

    Example:
        >>> from datetime import date
        >>> q = Period.containing(date(2026, 5, 20), "quarter")
        >>> q.start, q.end, q.key
        (datetime.date(2026, 4, 1), datetime.date(2026, 7, 1), '2026-Q2')
        >>> q.label("en"), q.label("zh_Hans_CN")
        ('Q2 2026', '2026年第2季度')
        >>> Period.containing(date(2026, 5, 20), "month").label("zh_Hant_TW")
        '2026年5月'

    .. versionadded:: 0.1.0
    """

    start: date = attrs.field(validator=_first_day)
    kind: PeriodKind = attrs.field(default=PeriodKind.MONTH, converter=_period_kind)

    @classmethod
    def containing(cls, day: date, kind: PeriodKind | str = PeriodKind.MONTH) -> Period:
        """The month or quarter ``day`` falls in.

        Example:
            >>> from datetime import date
            >>> Period.containing(date(2026, 12, 31), "quarter").key
            '2026-Q4'
        """
        v.optional_date(None, attrs.fields(cls).start, day)
        period = _period_kind(kind)
        if type(day) is datetime:  # pragma: no cover - optional_date refused it already
            raise ValidationError("must be a date, not a datetime", path="day")
        month = day.month if period is PeriodKind.MONTH else 3 * ((day.month - 1) // 3) + 1
        return cls(date(day.year, month, 1), period)

    @property
    def end(self) -> date:
        """The first day after the period.

        Example:
            >>> from datetime import date
            >>> Period(date(2026, 12, 1)).end
            datetime.date(2027, 1, 1)
        """
        months = 1 if self.kind is PeriodKind.MONTH else 3
        end: date = self.start + relativedelta(months=months)
        return end

    @property
    def key(self) -> str:
        """A sortable, locale-free key: ``2026-05`` for a month, ``2026-Q2`` for a quarter.

        Example:
            >>> from datetime import date
            >>> Period(date(2026, 5, 1)).key
            '2026-05'
        """
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year}-{self.start.month:02d}"
        return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"

    def label(self, locale: str | Locale) -> str:
        """The period's name for people, from babel (``April 2026``, ``2026年第2季``).

        Example:
            >>> from datetime import date
            >>> Period(date(2026, 4, 1), "quarter").label("en")
            'Q2 2026'
        """
        try:
            loc = Locale.parse(locale)
        except (UnknownLocaleError, ValueError, TypeError):
            raise ValidationError(
                f"{locale!r} is not a known locale (e.g. 'en', 'zh_Hant_TW', 'zh_Hans_CN')",
                path="locale",
            ) from None
        skeleton = "yMMMM" if self.kind is PeriodKind.MONTH else "yQQQ"
        return str(format_skeleton(skeleton, self.start, locale=loc))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end


@attrs.frozen
class ForecastLine:
    """One line of a forecast: the deals of one period, owner and forecast category.

    ``amount`` is their total amount; ``weighted`` the sum of amount x probability / 100,
    computed exactly and rounded half-up to the currency's minor unit once, for the line.

    Example:
        >>> from datetime import date
        >>> line = ForecastLine(Period(date(2026, 4, 1), "quarter"), "u_amy", "commit", 2,
        ...                     Money("100", "USD"), Money("80.00", "USD"))
        >>> line.category.value, line.weighted
        ('commit', Money('80.00', 'USD'))

    .. versionadded:: 0.1.0
    """

    period: Period
    owner: str | None
    category: ForecastCategory = attrs.field(converter=_category)
    deals: int
    amount: Money
    weighted: Money


@attrs.frozen
class Forecast:
    """A weighted pipeline: its lines, and the open deals it could not place.

    ``unplaced`` lists the ids of open deals without an amount or an expected close date (a
    rep's to-do list, not a rounding error). :meth:`total` adds lines up by any mix of period,
    owner and category.

    Example:
        >>> Forecast("USD", PeriodKind.MONTH, (), ("opp_9",)).total()
        Money('0', 'USD')

    .. versionadded:: 0.1.0
    """

    currency: str
    period_kind: PeriodKind
    lines: tuple[ForecastLine, ...]
    unplaced: tuple[str, ...] = ()

    def total(
        self,
        *,
        period: Period | str | None = None,
        owner: str | None = None,
        category: ForecastCategory | str | None = None,
        weighted: bool = True,
    ) -> Money:
        """The weighted (or, with ``weighted=False``, plain) total of the matching lines.

        ``period`` is a :class:`Period` or its key (``"2026-Q2"``); ``None`` for any value.

        Example:
            >>> from datetime import date
            >>> lines = (ForecastLine(Period(date(2026, 4, 1)), "u_amy", "commit", 1,
            ...                       Money("100", "USD"), Money("80.00", "USD")),
            ...          ForecastLine(Period(date(2026, 5, 1)), "u_ben", "pipeline", 1,
            ...                       Money("50", "USD"), Money("5.00", "USD")))
            >>> f = Forecast("USD", PeriodKind.MONTH, lines)
            >>> f.total(), f.total(owner="u_ben"), f.total(period="2026-04", weighted=False)
            (Money('85.00', 'USD'), Money('5.00', 'USD'), Money('100', 'USD'))
        """
        wanted_category = (
            None if category is None else v.to_enum(ForecastCategory, "category")(category)
        )
        key = period.key if isinstance(period, Period) else period
        return Money.sum(
            (
                line.weighted if weighted else line.amount
                for line in self.lines
                if (key is None or line.period.key == key)
                and (owner is None or line.owner == owner)
                and (wanted_category is None or line.category is wanted_category)
            ),
            currency=self.currency,
        )


def _opportunities(value: Iterable[Opportunity]) -> list[Opportunity]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be an iterable of Opportunity, not {type(value).__name__}",
            path="opportunities",
        )
    found = list(value)
    for i, item in enumerate(found):
        if not isinstance(item, Opportunity):
            raise ValidationError(
                f"must be an Opportunity, not {type(item).__name__}", path=f"opportunities[{i}]"
            )
    return found


def weighted_pipeline(
    opportunities: Iterable[Opportunity],
    *,
    currency: str,
    period: PeriodKind | str = PeriodKind.QUARTER,
    include_won: bool = False,
) -> Forecast:
    """Forecast amount x probability per period, owner and forecast category.

    Open deals are placed by their expected close date; with ``include_won`` won deals count
    too, in category ``closed`` at 100 %, placed by the day they closed. Lost deals never count.
    Every amount must be in ``currency``: a deal in another one is a
    :class:`~crmkit.errors.CurrencyMismatchError` naming it (convert first, or forecast each
    currency on its own).

    Example:
        >>> weighted_pipeline([], currency="CNY", period="month").lines
        ()

    .. versionadded:: 0.1.0
    """
    if not is_currency(currency):
        raise ValidationError(f"{currency!r} is not an ISO 4217 currency code", path="currency")
    kind = _period_kind(period)
    groups: dict[tuple[Period, str | None, ForecastCategory], list[Opportunity]] = defaultdict(list)
    unplaced: list[str] = []
    foreign: list[str] = []
    for opp in _opportunities(opportunities):
        if opp.stage_kind is StageKind.LOST or (
            opp.stage_kind is StageKind.WON and not include_won
        ):
            continue
        if opp.stage_kind is StageKind.WON and opp.closed_at is not None:
            day = opp.closed_at.date()
        elif opp.expected_close_date is not None:
            day = opp.expected_close_date
        else:
            unplaced.append(opp.id)
            continue
        if opp.amount is None:
            unplaced.append(opp.id)
            continue
        if opp.amount.currency != currency:
            foreign.append(f"{opp.id} ({opp.amount.currency})")
            continue
        groups[(Period.containing(day, kind), opp.owner, opp.forecast_category)].append(opp)
    if foreign:
        raise CurrencyMismatchError(
            f"cannot forecast in {currency}: {len(foreign)} deal(s) are in another currency: "
            + ", ".join(foreign)
            + "; convert their amounts first or forecast each currency separately",
            details={"currency": currency, "deals": foreign},
        )
    lines = []
    for (when, owner, category), deals in groups.items():
        exact = sum((d.amount.amount * d.probability for d in deals if d.amount), Decimal(0))
        lines.append(
            ForecastLine(
                period=when,
                owner=owner,
                category=category,
                deals=len(deals),
                amount=Money.sum((d.amount for d in deals if d.amount), currency=currency),
                weighted=Money(exact / 100, currency).round(Rounding.HALF_UP),
            )
        )
    lines.sort(key=lambda x: (x.period, x.owner or "", _CATEGORY_ORDER[x.category]))
    return Forecast(currency, kind, tuple(lines), tuple(unplaced))


# ----- funnel --------------------------------------------------------------------------------


@attrs.frozen
class FunnelStep:
    """Of ``reached`` deals that got to ``source`` (or further), ``advanced`` reached ``target``.

    ``rate`` is ``advanced / reached`` to four decimal places, ``None`` when no deal reached
    ``source``.

    Example:
        >>> FunnelStep("lead", "proposal", 8, 2).rate
        Decimal('0.2500')

    .. versionadded:: 0.1.0
    """

    source: str
    target: str
    reached: int
    advanced: int

    @property
    def rate(self) -> Decimal | None:
        """``advanced / reached``, rounded half-even to 4 places; ``None`` if none reached.

        Example:
            >>> FunnelStep("proposal", "won", 3, 1).rate, FunnelStep("a", "b", 0, 0).rate
            (Decimal('0.3333'), None)
        """
        if not self.reached:
            return None
        return (Decimal(self.advanced) / Decimal(self.reached)).quantize(Decimal("0.0001"))


def _compiled(pipeline: Pipeline | CompiledPipeline) -> CompiledPipeline:
    if isinstance(pipeline, CompiledPipeline):
        return pipeline
    if isinstance(pipeline, Pipeline):
        return pipeline.compile()
    raise ValidationError(
        f"must be a Pipeline or a CompiledPipeline, not {type(pipeline).__name__}",
        path="pipeline",
    )


def funnel(
    opportunities: Iterable[Opportunity], pipeline: Pipeline | CompiledPipeline
) -> tuple[FunnelStep, ...]:
    """Conversion between consecutive stages: the open stages in order, then the won stage.

    A deal *reached* a stage if it was ever in it or in any later stage of that order, so a
    deal that skipped a stage counts as having passed it. Only deals of ``pipeline``'s key
    count (any revision: stages are matched by key).

    Example:
        >>> from datetime import timedelta
        >>> from crmkit.pipeline._model import _opened
        >>> from crmkit.pipeline.definition import _example
        >>> sales = _example()
        >>> a, b = _opened(sales, "opp_a"), _opened(sales, "opp_b")
        >>> _ = a.move("proposal", pipeline=sales, now=a.created_at + timedelta(days=1))
        >>> for step in funnel([a, b], sales):
        ...     print(step.source, step.target, step.reached, step.advanced, step.rate)
        lead proposal 2 1 0.5000
        proposal won 1 0 0.0000

    .. versionadded:: 0.1.0
    """
    compiled = _compiled(pipeline)
    stages = compiled.pipeline.stages
    order = [s.key for s in stages if s.is_open]
    won = [s.key for s in stages if s.kind is StageKind.WON]
    order += won[:1]
    rank = {key: i for i, key in enumerate(order)}
    for key in won[1:]:
        rank[key] = len(order) - 1
    furthest: list[int] = []
    for opp in _opportunities(opportunities):
        if opp.pipeline_key != compiled.key:
            continue
        ranks = [rank[s] for s in opp.stages_visited() if s in rank]
        if ranks:
            furthest.append(max(ranks))
    return tuple(
        FunnelStep(
            source=order[i],
            target=order[i + 1],
            reached=sum(1 for f in furthest if f >= i),
            advanced=sum(1 for f in furthest if f >= i + 1),
        )
        for i in range(len(order) - 1)
    )


def conversion_rate(
    opportunities: Iterable[Opportunity], source: str, target: str
) -> Decimal | None:
    """Of the deals that were ever in ``source``, the share that later entered ``target``.

    Four decimal places (half-even); ``None`` when no deal was ever in ``source``.

    Example:
        >>> from datetime import timedelta
        >>> from crmkit.pipeline._model import _opened
        >>> from crmkit.pipeline.definition import _example
        >>> sales = _example()
        >>> deals = [_opened(sales, f"opp_{i}") for i in range(4)]
        >>> for deal in deals[:3]:
        ...     _ = deal.move("proposal", pipeline=sales, now=deal.created_at)
        >>> conversion_rate(deals, "lead", "proposal")
        Decimal('0.7500')

    .. versionadded:: 0.1.0
    """
    entered = advanced = 0
    for opp in _opportunities(opportunities):
        visited = opp.stages_visited()
        if source not in visited:
            continue
        entered += 1
        if target in visited[visited.index(source) + 1 :]:
            advanced += 1
    return FunnelStep(source, target, entered, advanced).rate


# ----- time in stage --------------------------------------------------------------------------


@attrs.frozen
class StageTime:
    """How long deals stayed in ``stage``: ``stints`` stays adding up to ``total``.

    Example:
        >>> from datetime import timedelta
        >>> StageTime("proposal", 2, timedelta(days=9)).average
        datetime.timedelta(days=4, seconds=43200)

    .. versionadded:: 0.1.0
    """

    stage: str
    stints: int
    total: timedelta

    @property
    def average(self) -> timedelta:
        """``total / stints`` (zero when there were none).

        Example:
            >>> from datetime import timedelta
            >>> StageTime("lead", 0, timedelta(0)).average
            datetime.timedelta(0)
        """
        return self.total / self.stints if self.stints else timedelta(0)


def average_time_in_stage(
    opportunities: Iterable[Opportunity],
    *,
    pipeline: Pipeline | CompiledPipeline | None = None,
    now: datetime | None = None,
) -> tuple[StageTime, ...]:
    """Average time deals spent in each stage, from their histories.

    Every finished stay counts; with ``now``, so does the current stay of each open deal. With
    ``pipeline``, only its deals (by key) and stages count, in the pipeline's order; without,
    stages come in the order first seen. Stages no deal stayed in are left out.

    Example:
        >>> from datetime import timedelta
        >>> from crmkit.pipeline._model import _opened
        >>> from crmkit.pipeline.definition import _example
        >>> sales = _example()
        >>> deal = _opened(sales)
        >>> _ = deal.move("proposal", pipeline=sales, now=deal.created_at + timedelta(days=4))
        >>> [(t.stage, t.average.days) for t in average_time_in_stage([deal], pipeline=sales,
        ...     now=deal.created_at + timedelta(days=6))]
        [('lead', 4), ('proposal', 2)]

    .. versionadded:: 0.1.0
    """
    at = None if now is None else ensure_aware(now, "now")
    compiled = None if pipeline is None else _compiled(pipeline)
    totals: dict[str, list[Any]] = {}
    if compiled is not None:
        for stage in compiled.pipeline.stages:
            totals[stage.key] = [0, timedelta(0)]

    def add(stage: str, spent: timedelta) -> None:
        if compiled is not None and stage not in totals:
            return
        entry = totals.setdefault(stage, [0, timedelta(0)])
        entry[0] += 1
        entry[1] += spent

    for opp in _opportunities(opportunities):
        if compiled is not None and opp.pipeline_key != compiled.key:
            continue
        for change in opp.history:
            add(change.source, change.time_in_stage)
        if at is not None and opp.is_open:
            if at < opp.stage_entered_at:
                raise ValidationError(
                    f"must not be before {opp.id!r} entered its stage "
                    f"({opp.stage_entered_at.isoformat()})",
                    path="now",
                )
            add(opp.stage, at - opp.stage_entered_at)
    return tuple(
        StageTime(stage, count, total) for stage, (count, total) in totals.items() if count
    )


# ----- stalled deals --------------------------------------------------------------------------


class StallReason(StrEnum):
    """Why a deal counts as stalled: too long ``in_stage``, or ``no_activity`` for too long.

    Example:
        >>> StallReason("no_activity").value
        'no_activity'

    .. versionadded:: 0.1.0
    """

    IN_STAGE = "in_stage"
    NO_ACTIVITY = "no_activity"


@attrs.frozen
class StalledDeal:
    """An open deal that needs attention, and why.

    Example:
        >>> from datetime import timedelta
        >>> d = StalledDeal("opp_1", "u_amy", "new_business@1", "proposal",
        ...                 (StallReason.IN_STAGE,), timedelta(days=30), timedelta(days=2))
        >>> d.reasons[0].value, d.in_stage.days
        ('in_stage', 30)

    .. versionadded:: 0.1.0
    """

    opportunity_id: str
    owner: str | None
    pipeline_id: str
    stage: str
    reasons: tuple[StallReason, ...]
    in_stage: timedelta
    idle: timedelta


def stalled_deals(
    opportunities: Iterable[Opportunity],
    *,
    pipelines: Iterable[Pipeline | CompiledPipeline],
    now: datetime,
    inactive_days: int | None = None,
) -> tuple[StalledDeal, ...]:
    """Open deals in their stage longer than its ``stall_after_days``, or idle too long.

    A deal is idle when its ``last_activity_at`` is ``inactive_days`` or more before ``now``
    (default: its pipeline's ``inactive_after_days``; no idle check when neither is set).
    ``pipelines`` are the definitions the deals run on (each deal's key and revision); a deal
    whose definition is missing is a ``ValidationError``. Days are 24-hour spans. The longest
    stalled come first.

    Example:
        >>> from datetime import timedelta
        >>> from crmkit.pipeline._model import _opened
        >>> from crmkit.pipeline.definition import _example
        >>> sales = _example()
        >>> deal = _opened(sales)
        >>> [(s.opportunity_id, [r.value for r in s.reasons]) for s in stalled_deals([deal],
        ...     pipelines=[sales], now=deal.created_at + timedelta(days=10), inactive_days=7)]
        [('opp_1', ['no_activity'])]

    .. versionadded:: 0.1.0
    """
    at = ensure_aware(now, "now")
    if inactive_days is not None and (
        isinstance(inactive_days, bool) or not isinstance(inactive_days, int) or inactive_days < 1
    ):
        raise ValidationError(
            f"must be a whole number of days, 1 or more, not {inactive_days!r}",
            path="inactive_days",
        )
    known: dict[tuple[str, int], CompiledPipeline] = {}
    for p in pipelines:
        given_pipeline = _compiled(p)
        known[(given_pipeline.key, given_pipeline.revision)] = given_pipeline
    found: list[StalledDeal] = []
    for opp in _opportunities(opportunities):
        if not opp.is_open:
            continue
        compiled = known.get((opp.pipeline_key, opp.pipeline_revision))
        if compiled is None:
            given = ", ".join(c.id for c in known.values()) or "none"
            raise ValidationError(
                f"deal {opp.id!r} runs on pipeline {opp.pipeline_id!r}, which was not given; "
                f"pass it in pipelines (given: {given})",
                path="pipelines",
            )
        stage = compiled.stage(opp.stage)
        in_stage = at - opp.stage_entered_at
        idle = at - opp.last_activity_at
        reasons = []
        if stage.stall_after_days is not None and in_stage >= timedelta(
            days=stage.stall_after_days
        ):
            reasons.append(StallReason.IN_STAGE)
        days = inactive_days if inactive_days is not None else compiled.pipeline.inactive_after_days
        if days is not None and idle >= timedelta(days=days):
            reasons.append(StallReason.NO_ACTIVITY)
        if reasons:
            found.append(
                StalledDeal(
                    opportunity_id=opp.id,
                    owner=opp.owner,
                    pipeline_id=opp.pipeline_id,
                    stage=opp.stage,
                    reasons=tuple(reasons),
                    in_stage=in_stage,
                    idle=idle,
                )
            )
    found.sort(key=lambda s: (-s.in_stage, s.opportunity_id))
    return tuple(found)
