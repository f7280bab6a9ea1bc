"""Service metrics over complaints filed in the periods (by ``filed_at`` in their time zone).

* :func:`complaints_by_category`: complaints per period, category and root cause;
* :func:`sla_compliance`: the share of measured complaints that met the first-response (or
  resolution) target, from the breaches the SLA check recorded on each complaint;
* :func:`average_handling_time`: mean of ``resolved_at - filed_at`` (wall-clock time);
* :func:`reopen_rate`: of the complaints resolved at least once, the share reopened;
* :func:`csat_average`: the mean CSAT score;
* :func:`service_summary`: all of them.

Cancelled complaints count in the category numbers only. Every result explains itself.

Example:
    >>> from datetime import date
    >>> from crmkit.analytics import Periods
    >>> s = service_summary(_example_cases(), Periods(date(2026, 1, 1), 1))
    >>> s.first_response.ratio.value, s.handling.average, s.reopen.ratio.value, s.csat.average
    (Decimal('0.3333'), datetime.timedelta(days=1), Decimal('0.5000'), Decimal('4.00'))

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal

import attrs

from crmkit.analytics._common import Explanation, Ratio, average, check_items
from crmkit.analytics.periods import Periods
from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.pipeline.forecast import Period
from crmkit.service import CaseStatus, Complaint, SlaTarget

__all__ = [
    "CategoryCount",
    "CategoryCounts",
    "CsatAverage",
    "HandlingTime",
    "ReopenRate",
    "ServiceSummary",
    "SlaCompliance",
    "average_handling_time",
    "complaints_by_category",
    "csat_average",
    "reopen_rate",
    "service_summary",
    "sla_compliance",
]


def _in_periods(
    complaints: Iterable[Complaint], periods: Periods
) -> tuple[list[tuple[int, Complaint]], int]:
    if not isinstance(periods, Periods):
        raise ValidationError(f"must be Periods, not {type(periods).__name__}", path="periods")
    found: list[tuple[int, Complaint]] = []
    outside = 0
    for case in check_items(complaints, Complaint, "complaints"):
        i = periods.index_of(case.filed_at)
        if i is None:
            outside += 1
        else:
            found.append((i, case))
    return found, outside


@attrs.frozen
class CategoryCount:
    """How many complaints of ``category`` (and ``root_cause``) were filed in ``period``.

    Example:
        >>> from datetime import date
        >>> CategoryCount(Period(date(2026, 1, 1)), "delivery", None, 3).complaints
        3

    .. versionadded:: 0.1.0
    """

    period: Period
    category: str
    root_cause: str | None
    complaints: int


@attrs.frozen
class CategoryCounts:
    """Complaints per period, category and root cause (``None``: no root cause yet).

    Example:
        >>> from datetime import date
        >>> c = complaints_by_category(_example_cases(), Periods(date(2026, 1, 1), 1))
        >>> [(x.category, x.root_cause, x.complaints) for x in c.lines]
        [('billing', None, 1), ('delivery', None, 1), ('delivery', 'carrier_delay', 2)]

    .. versionadded:: 0.1.0
    """

    lines: tuple[CategoryCount, ...]
    explanation: Explanation


def complaints_by_category(complaints: Iterable[Complaint], periods: Periods) -> CategoryCounts:
    """Count complaints filed in each period by category and root cause.

    Example:
        >>> from datetime import date
        >>> complaints_by_category([], Periods(date(2026, 1, 1), 1)).lines
        ()

    .. versionadded:: 0.1.0
    """
    cases, outside = _in_periods(complaints, periods)
    counts = Counter((i, c.category, c.root_cause) for i, c in cases)
    lines = tuple(
        CategoryCount(periods.periods[i], category, cause, n)
        for (i, category, cause), n in sorted(
            counts.items(), key=lambda x: (x[0][0], x[0][1], x[0][2] or "")
        )
    )
    explanation = Explanation(
        f"complaints per period of filing ({periods.time_zone}), category and root cause",
        len(cases),
        {"filed outside the periods": outside},
    )
    return CategoryCounts(lines, explanation)


def _target(value: object) -> SlaTarget:
    return v.to_enum(SlaTarget, "target")(value)


@attrs.frozen
class SlaCompliance:
    """How many measured complaints met the ``target`` (first response or resolution).

    Example:
        >>> SlaCompliance("first_response", Ratio(9, 10), Explanation("x", 10)).ratio.value
        Decimal('0.9000')

    .. versionadded:: 0.1.0
    """

    target: SlaTarget = attrs.field(converter=_target)
    ratio: Ratio
    explanation: Explanation


def sla_compliance(
    complaints: Iterable[Complaint], periods: Periods, target: SlaTarget | str
) -> SlaCompliance:
    """Share of complaints filed in the periods that met an SLA target.

    A complaint is measured once it reached the target (first response sent, or resolved)
    or breached it; it met the target when it reached it and no breach of that target is
    recorded on it. Complaints still running within their target, and cancelled ones, are
    excluded and counted.

    Example:
        >>> from datetime import date
        >>> c = sla_compliance(_example_cases(), Periods(date(2026, 1, 1), 1), "resolution")
        >>> c.ratio, c.explanation.excluded
        (Ratio(part=1, whole=2), (('not resolved yet, no breach', 2),))

    .. versionadded:: 0.1.0
    """
    wanted = _target(target)
    cases, outside = _in_periods(complaints, periods)
    met = measured = running = cancelled = 0
    for _i, case in cases:
        if case.status is CaseStatus.CANCELLED:
            cancelled += 1
            continue
        reached = case.first_response_at if wanted is SlaTarget.FIRST_RESPONSE else case.resolved_at
        breached = any(b.target is wanted for b in case.breaches)
        if reached is None and not breached:
            running += 1
            continue
        measured += 1
        if reached is not None and not breached:
            met += 1
    what = "responded" if wanted is SlaTarget.FIRST_RESPONSE else "resolved"
    explanation = Explanation(
        f"met / measured: {what} with no {wanted.value} breach recorded, of those {what} "
        "or breached",
        measured,
        {
            "filed outside the periods": outside,
            "cancelled": cancelled,
            f"not {what} yet, no breach": running,
        },
    )
    return SlaCompliance(wanted, Ratio(met, measured), explanation)


@attrs.frozen
class HandlingTime:
    """Mean time from filing to resolution (whole seconds; ``None`` with nothing resolved).

    Example:
        >>> HandlingTime(None, Explanation("x", 0)).average is None
        True

    .. versionadded:: 0.1.0
    """

    average: timedelta | None
    explanation: Explanation


def average_handling_time(complaints: Iterable[Complaint], periods: Periods) -> HandlingTime:
    """Mean of ``resolved_at - filed_at`` over resolved complaints filed in the periods.

    Wall-clock time, waiting for the customer included (the SLA clock is what pauses).

    Example:
        >>> from datetime import date
        >>> average_handling_time(_example_cases(), Periods(date(2026, 1, 1), 1)).average
        datetime.timedelta(days=1)

    .. versionadded:: 0.1.0
    """
    cases, outside = _in_periods(complaints, periods)
    spans = [
        c.resolved_at - c.filed_at
        for _i, c in cases
        if c.resolved_at is not None and c.status is not CaseStatus.CANCELLED
    ]
    explanation = Explanation(
        "mean of (resolved_at - filed_at) over resolved complaints",
        len(spans),
        {"filed outside the periods": outside, "not resolved": len(cases) - len(spans)},
    )
    if not spans:
        return HandlingTime(None, explanation)
    total = sum(spans, timedelta(0)) / timedelta(microseconds=1)
    mean = (Decimal(total) / len(spans) / 1_000_000).quantize(Decimal(1), ROUND_HALF_EVEN)
    return HandlingTime(timedelta(seconds=int(mean)), explanation)


@attrs.frozen
class ReopenRate:
    """Of the complaints resolved at least once, how many were reopened.

    Example:
        >>> ReopenRate(Ratio(1, 4), Explanation("x", 4)).ratio.value
        Decimal('0.2500')

    .. versionadded:: 0.1.0
    """

    ratio: Ratio
    explanation: Explanation


def reopen_rate(complaints: Iterable[Complaint], periods: Periods) -> ReopenRate:
    """Share of complaints filed in the periods and resolved at least once that were reopened.

    Example:
        >>> from datetime import date
        >>> reopen_rate(_example_cases(), Periods(date(2026, 1, 1), 1)).ratio
        Ratio(part=1, whole=2)

    .. versionadded:: 0.1.0
    """
    cases, outside = _in_periods(complaints, periods)
    resolved = [c for _i, c in cases if c.resolved_at is not None or c.reopened]
    reopened = sum(1 for c in resolved if c.reopened)
    explanation = Explanation(
        "reopened / resolved at least once",
        len(resolved),
        {"filed outside the periods": outside, "never resolved": len(cases) - len(resolved)},
    )
    return ReopenRate(Ratio(reopened, len(resolved)), explanation)


@attrs.frozen
class CsatAverage:
    """Mean CSAT score (two places) over ``responses`` answers.

    Example:
        >>> from decimal import Decimal
        >>> CsatAverage(Decimal("4.50"), 2, Explanation("x", 2)).average
        Decimal('4.50')

    .. versionadded:: 0.1.0
    """

    average: Decimal | None
    responses: int
    explanation: Explanation


def csat_average(complaints: Iterable[Complaint], periods: Periods) -> CsatAverage:
    """Mean CSAT score of complaints filed in the periods that have one.

    Example:
        >>> from datetime import date
        >>> csat_average(_example_cases(), Periods(date(2026, 1, 1), 1)).responses
        2

    .. versionadded:: 0.1.0
    """
    cases, outside = _in_periods(complaints, periods)
    scores = [c.csat.score for _i, c in cases if c.csat is not None]
    explanation = Explanation(
        "sum of CSAT scores / answers",
        len(scores),
        {"filed outside the periods": outside, "no CSAT answer": len(cases) - len(scores)},
    )
    return CsatAverage(average(Decimal(sum(scores)), len(scores)), len(scores), explanation)


@attrs.frozen
class ServiceSummary:
    """Every service metric for one set of complaints and periods.

    Example:
        >>> from datetime import date
        >>> service_summary([], Periods(date(2026, 1, 1), 1)).csat.average is None
        True

    .. versionadded:: 0.1.0
    """

    categories: CategoryCounts
    first_response: SlaCompliance
    resolution: SlaCompliance
    handling: HandlingTime
    reopen: ReopenRate
    csat: CsatAverage


def service_summary(complaints: Iterable[Complaint], periods: Periods) -> ServiceSummary:
    """All service metrics of complaints filed in the periods.

    Example:
        >>> from datetime import date
        >>> s = service_summary(_example_cases(), Periods(date(2026, 1, 1), 1))
        >>> s.resolution.ratio.value
        Decimal('0.5000')

    .. versionadded:: 0.1.0
    """
    cases = check_items(complaints, Complaint, "complaints")
    return ServiceSummary(
        categories=complaints_by_category(cases, periods),
        first_response=sla_compliance(cases, periods, SlaTarget.FIRST_RESPONSE),
        resolution=sla_compliance(cases, periods, SlaTarget.RESOLUTION),
        handling=average_handling_time(cases, periods),
        reopen=reopen_rate(cases, periods),
        csat=csat_average(cases, periods),
    )


def _example_cases() -> list[Complaint]:
    """Four January complaints for the doctests.

    * case_1 (delivery): answered in an hour, resolved (carrier_delay) after 1 day, CSAT 5;
    * case_2 (delivery): first response breached, answered late, resolved after 1 day
      (carrier_delay), CSAT 3, then reopened (so unresolved again);
    * case_3 (delivery): acknowledged only, both breaches recorded;
    * case_4 (billing): just filed.
    """
    from crmkit.kernel.calendar import BusinessCalendar, Weekday, WorkingHours
    from crmkit.service import ComplaintPolicy
    from crmkit.service.sla import SlaPolicy

    policy = ComplaintPolicy(categories=["delivery", "billing"], root_causes=["carrier_delay"])
    sla = SlaPolicy(name="std", first_response=timedelta(hours=2), resolution=timedelta(hours=30))
    always = BusinessCalendar(
        timezone="UTC", hours=[WorkingHours(d, "00:00", "00:00") for d in Weekday]
    )
    start = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    cases = []
    for n, category in enumerate(["delivery", "delivery", "delivery", "billing"], start=1):
        filed = start + timedelta(days=n)
        case = Complaint.file(
            id=f"case_{n}",
            reference=f"CS-{n}",
            now=filed,
            channel="email",
            customer_id="cus_1",
            subject="Parcel never arrived",
            category=category,
            impact="medium",
            urgency="high",
            policy=policy,
        )
        if n <= 3:
            case.acknowledge(now=filed, owner="u_amy")
        if n == 2:
            case.record_breaches(filed + timedelta(hours=3), policy=sla, calendar=always)
        if n <= 2:
            case.reply("On it", now=filed + timedelta(hours=1 if n == 1 else 4), by="u_amy")
            case.start_work(now=filed + timedelta(hours=5))
            case.resolve(
                now=filed + timedelta(days=1),
                summary="Re-sent",
                root_cause="carrier_delay",
                policy=policy,
            )
            case.record_csat(5 if n == 1 else 3, now=filed + timedelta(days=1, hours=1))
        if n == 2:
            case.reopen(now=filed + timedelta(days=1, hours=2), reason="Broken", policy=policy)
        if n == 3:
            case.record_breaches(filed + timedelta(days=2), policy=sla, calendar=always)
        cases.append(case)
    return cases
