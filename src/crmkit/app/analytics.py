"""Analytics use cases: the metrics of :mod:`crmkit.analytics` over a store, pushed down.

:class:`Analytics` (``crm.analytics``) answers the dashboard's questions. The sales metrics go
through the store's :class:`~crmkit.ports.AnalyticsQueries` when it offers one
(``store.analytics()``: the SQLite and SQLAlchemy stores compute the facts with ``GROUP BY``);
otherwise :class:`LoadingAnalytics` loads the opportunities page by page and runs the pure
function (the in-memory store, or a host's store without the port). The metrics that need
whole records (stage history, leads, complaints, memberships) load them.

Example:
    >>> from datetime import date
    >>> from crmkit import bootstrap
    >>> from crmkit.analytics import Periods
    >>> from crmkit.analytics.sales import _example_deals
    >>> crm = bootstrap()
    >>> with crm.store.unit_of_work() as uow:
    ...     uow.opportunities.add_many(_example_deals())
    ...     _ = uow.commit()
    >>> crm.analytics.sales(Periods(date(2026, 3, 1), 2), currency="TWD").revenue.total
    Money('4000.00', 'TWD')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

import attrs

from crmkit.analytics import (
    Attribution,
    HistoryForecast,
    LoyaltySummary,
    Periods,
    SalesFacts,
    SalesSummary,
    ServiceSummary,
    StageConversion,
    TimeInStage,
    WeightedPipeline,
    history_forecast,
    lead_attribution,
    loyalty_summary,
    revenue,
    sales_facts,
    sales_summary,
    service_summary,
    stage_conversion,
    time_in_stage,
    weighted_by_period,
)
from crmkit.app.service import _scan
from crmkit.errors import ValidationError
from crmkit.kernel.money import Money
from crmkit.kernel.query import Query
from crmkit.kernel.time import Clock
from crmkit.pipeline import CompiledPipeline, Pipeline
from crmkit.ports import AccessPolicy, AnalyticsQueries, ExchangeRates, Store

__all__ = ["Analytics", "LoadingAnalytics"]


class LoadingAnalytics:
    """:class:`~crmkit.ports.AnalyticsQueries` by loading every opportunity into Python.

    For stores without push-down (the in-memory one); memory grows with the data.

    Example:
        >>> from datetime import date
        >>> from crmkit.adapters.memory import MemoryStore
        >>> LoadingAnalytics(MemoryStore()).sales_facts(Periods(date(2026, 1, 1), 1)).deals
        0

    .. versionadded:: 0.1.0
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def sales_facts(self, periods: Periods, *, pipeline_key: str | None = None) -> SalesFacts:
        """Load the opportunities (of ``pipeline_key``) and reduce them in Python."""
        query = None if pipeline_key is None else Query.where(pipeline_key=pipeline_key)
        with self._store.unit_of_work() as uow:
            deals = list(_scan(uow.opportunities, query or Query()))
        return sales_facts(deals, periods, pipeline_key=pipeline_key)


@attrs.frozen
class Analytics:
    """The metrics of a store, for ``crm.analytics``; every method takes the periods to cover.

    Amounts in several currencies need ``rates`` (an :class:`~crmkit.ports.ExchangeRates`);
    ``rates_on`` is the day whose rates convert them (default: the periods' last day).
    ``actor`` is checked against the policy with the actions ``analytics.sales``,
    ``analytics.service`` and ``analytics.loyalty``.

    Example:
        >>> from datetime import date
        >>> from crmkit import bootstrap
        >>> from crmkit.analytics import Periods
        >>> crm = bootstrap()
        >>> january = Periods(date(2026, 1, 1), 1)
        >>> crm.analytics.pushed_down, crm.analytics.service(january).csat.average
        (False, None)

    .. versionadded:: 0.1.0
    """

    store: Store
    clock: Clock
    policy: AccessPolicy
    rates: ExchangeRates | None = None

    def with_rates(self, rates: ExchangeRates) -> Analytics:
        """This accessor converting currencies with ``rates``.

        Example:
            >>> from crmkit import bootstrap
            >>> from crmkit.analytics import StaticRates
            >>> bootstrap().analytics.with_rates(StaticRates({})).rates is not None
            True
        """
        if not isinstance(rates, ExchangeRates):
            raise ValidationError(
                f"must be an ExchangeRates port (with rate()), not {type(rates).__name__}",
                path="rates",
            )
        return attrs.evolve(self, rates=rates)

    @property
    def queries(self) -> AnalyticsQueries:
        """The store's push-down queries, or :class:`LoadingAnalytics` without them."""
        offer = getattr(self.store, "analytics", None)
        if callable(offer):
            found = offer()
            if isinstance(found, AnalyticsQueries):
                return found
        return LoadingAnalytics(self.store)

    @property
    def pushed_down(self) -> bool:
        """Whether the sales facts are computed by the store (not loaded into Python)."""
        return not isinstance(self.queries, LoadingAnalytics)

    def sales_facts(
        self, periods: Periods, *, pipeline_key: str | None = None, actor: str | None = None
    ) -> SalesFacts:
        """The sales facts over ``periods`` (pushed down when the store can)."""
        self.policy.check(actor, "analytics.sales")
        return self.queries.sales_facts(periods, pipeline_key=pipeline_key)

    def sales(
        self,
        periods: Periods,
        *,
        currency: str,
        targets: Mapping[str, Money] | None = None,
        threshold: Decimal | str = Decimal("0.5"),
        rates_on: date | None = None,
        pipeline_key: str | None = None,
        actor: str | None = None,
    ) -> SalesSummary:
        """Revenue against target, pipeline, stages, win rate, deal size, cycle and reps."""
        facts = self.sales_facts(periods, pipeline_key=pipeline_key, actor=actor)
        return sales_summary(
            facts,
            currency=currency,
            targets=targets,
            threshold=threshold,
            rates=self.rates,
            rates_on=rates_on,
        )

    def weighted_pipeline(
        self,
        periods: Periods,
        *,
        currency: str,
        rates_on: date | None = None,
        pipeline_key: str | None = None,
        actor: str | None = None,
    ) -> WeightedPipeline:
        """Open deals per period of their expected close date, weighted by probability."""
        facts = self.sales_facts(periods, pipeline_key=pipeline_key, actor=actor)
        return weighted_by_period(facts, currency=currency, rates=self.rates, rates_on=rates_on)

    def forecast(
        self,
        history: Periods,
        *,
        currency: str,
        horizon: int = 3,
        season: int = 12,
        window: int = 3,
        rates_on: date | None = None,
        pipeline_key: str | None = None,
        actor: str | None = None,
    ) -> HistoryForecast:
        """Forecast won revenue after ``history`` (its periods) by the better back-tested method."""
        facts = self.sales_facts(history, pipeline_key=pipeline_key, actor=actor)
        won = revenue(facts, currency=currency, rates=self.rates, rates_on=rates_on)
        return history_forecast(won, horizon=horizon, season=season, window=window)

    def stage_conversion(
        self, pipeline: Pipeline | CompiledPipeline, *, actor: str | None = None
    ) -> StageConversion:
        """The pipeline's funnel from its deals' histories (loads its deals)."""
        self.policy.check(actor, "analytics.sales")
        with self.store.unit_of_work() as uow:
            query = Query.where(pipeline_key=pipeline.key)
            deals = list(_scan(uow.opportunities, query or Query()))
        return stage_conversion(deals, pipeline)

    def time_in_stage(
        self,
        pipeline: Pipeline | CompiledPipeline,
        *,
        now: datetime | None = None,
        actor: str | None = None,
    ) -> TimeInStage:
        """Average time in each stage (open stays up to ``now``, default the clock's now)."""
        self.policy.check(actor, "analytics.sales")
        with self.store.unit_of_work() as uow:
            query = Query.where(pipeline_key=pipeline.key)
            deals = list(_scan(uow.opportunities, query or Query()))
        at = now if now is not None else self.clock.now()
        return time_in_stage(deals, pipeline, now=at)

    def lead_attribution(
        self,
        periods: Periods,
        *,
        currency: str,
        rates_on: date | None = None,
        actor: str | None = None,
    ) -> Attribution:
        """Leads captured in the periods per source and campaign, and the revenue they won."""
        self.policy.check(actor, "analytics.sales")
        with self.store.unit_of_work() as uow:
            leads = list(_scan(uow.leads, Query()))
            won = list(_scan(uow.opportunities, Query.where(stage_kind="won")))
        return lead_attribution(
            leads, won, periods, currency=currency, rates=self.rates, rates_on=rates_on
        )

    def service(self, periods: Periods, *, actor: str | None = None) -> ServiceSummary:
        """Complaints per category, SLA compliance, handling time, reopen rate and CSAT."""
        self.policy.check(actor, "analytics.service")
        first, end = periods.bounds[0], periods.bounds[-1]
        query = Query().filter("filed_at", "ge", first).filter("filed_at", "lt", end)
        with self.store.unit_of_work() as uow:
            complaints = list(_scan(uow.complaints, query))
        return service_summary(complaints, periods)

    def loyalty(
        self,
        program_id: str,
        periods: Periods,
        *,
        active_days: int = 90,
        now: datetime | None = None,
        actor: str | None = None,
    ) -> LoyaltySummary:
        """One program's members, tiers, points per period, liability and repeat purchases.

        The repeat purchase rate is included when the store keeps orders.
        """
        self.policy.check(actor, "analytics.loyalty")
        at = now if now is not None else self.clock.now()
        with self.store.unit_of_work() as uow:
            program = uow.loyalty_programs.get(program_id)
            members = list(_scan(uow.memberships, Query.where(program_id=program_id)))
            orders_repo = getattr(uow, "orders", None)
            orders = None if orders_repo is None else list(_scan(orders_repo, Query()))
        return loyalty_summary(
            program, members, periods, now=at, active_days=active_days, orders=orders
        )
