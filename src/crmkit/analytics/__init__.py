"""Analytics: sales, service and loyalty metrics and forecasts, as pure functions over records.

Nothing here does I/O. Sales metrics go through :class:`~crmkit.analytics.sales.SalesFacts`
(counts and exact sums per owner, stage, currency and period), which the SQL adapters compute
with ``GROUP BY`` through the :class:`~crmkit.ports.AnalyticsQueries` port; the metrics are
then derived from the facts, so the push-down and the pure path give the same answers.
Every result explains itself (:class:`Explanation`); periods are months or quarters in a time
zone (:class:`Periods`); totals across currencies go through an exchange-rate port.

* :mod:`crmkit.analytics.sales`: revenue against target, pipeline, stages, win rate, deal
  size, sales cycle, reps against the team, stage conversion, time in stage, lead attribution;
* :mod:`crmkit.analytics.forecast`: weighted pipeline per period and a back-tested history
  forecast (seasonal naive or moving average);
* :mod:`crmkit.analytics.service`: complaints per category and root cause, SLA compliance,
  handling time, reopen rate, CSAT;
* :mod:`crmkit.analytics.loyalty`: active members, tiers, points issued/redeemed/expired,
  liability, repeat purchase rate of members vs non-members;
* :mod:`crmkit.analytics.currency`: rates and conversion.

Example:
    >>> from datetime import date
    >>> from crmkit.analytics.sales import _example_deals
    >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2, time_zone="UTC"))
    >>> sales_summary(facts, currency="TWD").revenue.total
    Money('4000.00', 'TWD')

.. versionadded:: 0.1.0
"""

from crmkit.analytics._common import (
    Explanation,
    Ratio,
)
from crmkit.analytics.currency import (
    Converted,
    Rate,
    StaticRates,
    convert_totals,
)
from crmkit.analytics.customers import (
    ChurnLine,
    ChurnReport,
    churn_per_period,
)
from crmkit.analytics.forecast import (
    HistoryForecast,
    MethodError,
    WeightedLine,
    WeightedPipeline,
    history_forecast,
    weighted_by_period,
)
from crmkit.analytics.loyalty import (
    ActiveMembers,
    LoyaltySummary,
    PointsFlow,
    PointsLine,
    Purchase,
    RepeatPurchase,
    active_members,
    loyalty_summary,
    points_flow,
    repeat_purchase_rate,
)
from crmkit.analytics.periods import (
    Periods,
)
from crmkit.analytics.sales import (
    Attribution,
    AttributionLine,
    DealSize,
    PipelineValue,
    RepComparison,
    RepLine,
    Revenue,
    RevenueLine,
    SalesCycle,
    SalesFacts,
    SalesGroup,
    SalesSummary,
    StageConversion,
    StageCount,
    StageCounts,
    TimeInStage,
    WinRate,
    average_deal_size,
    average_sales_cycle,
    lead_attribution,
    open_pipeline,
    rep_comparison,
    revenue,
    sales_facts,
    sales_summary,
    stage_conversion,
    stage_counts,
    time_in_stage,
    win_rate,
)
from crmkit.analytics.service import (
    CategoryCount,
    CategoryCounts,
    CsatAverage,
    HandlingTime,
    ReopenRate,
    ServiceSummary,
    SlaCompliance,
    average_handling_time,
    complaints_by_category,
    csat_average,
    reopen_rate,
    service_summary,
    sla_compliance,
)

__all__ = [
    "ActiveMembers",
    "Attribution",
    "AttributionLine",
    "CategoryCount",
    "CategoryCounts",
    "ChurnLine",
    "ChurnReport",
    "Converted",
    "CsatAverage",
    "DealSize",
    "Explanation",
    "HandlingTime",
    "HistoryForecast",
    "LoyaltySummary",
    "MethodError",
    "Periods",
    "PipelineValue",
    "PointsFlow",
    "PointsLine",
    "Purchase",
    "Rate",
    "Ratio",
    "ReopenRate",
    "RepComparison",
    "RepLine",
    "RepeatPurchase",
    "Revenue",
    "RevenueLine",
    "SalesCycle",
    "SalesFacts",
    "SalesGroup",
    "SalesSummary",
    "ServiceSummary",
    "SlaCompliance",
    "StageConversion",
    "StageCount",
    "StageCounts",
    "StaticRates",
    "TimeInStage",
    "WeightedLine",
    "WeightedPipeline",
    "WinRate",
    "active_members",
    "average_deal_size",
    "average_handling_time",
    "average_sales_cycle",
    "churn_per_period",
    "complaints_by_category",
    "convert_totals",
    "csat_average",
    "history_forecast",
    "lead_attribution",
    "loyalty_summary",
    "open_pipeline",
    "points_flow",
    "reopen_rate",
    "rep_comparison",
    "repeat_purchase_rate",
    "revenue",
    "sales_facts",
    "sales_summary",
    "service_summary",
    "sla_compliance",
    "stage_conversion",
    "stage_counts",
    "time_in_stage",
    "weighted_by_period",
    "win_rate",
]
