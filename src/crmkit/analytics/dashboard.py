# ruff: noqa: RUF002
"""The dashboard: a manager's one-page view of sales, service, loyalty and customers.

A :class:`Dashboard` is a plain snapshot of the metrics of :mod:`crmkit.analytics` for some
periods, in one currency, for one locale: :class:`SalesSection` (revenue against target, open
and weighted pipeline, deals per stage, win rate, average deal size and cycle, reps against the
team average with the flag), :class:`ServiceSection` (complaints per category, SLA compliance,
handling time, reopen rate, CSAT), one :class:`LoyaltySection` per loyalty program (members per
tier, points issued/redeemed/expired, liability) and :class:`CustomersSection` (segment sizes).
A section is ``None`` (or the loyalty tuple empty) when there is nothing to show.

It renders three ways, always in its :attr:`~Dashboard.locale` (money, dates, percentages and
labels through babel and crmkit's message catalogs; never the process locale):

* :meth:`Dashboard.to_json`, read back with :meth:`Dashboard.from_json` (an equal object);
* :meth:`Dashboard.to_text`: aligned terminal tables (CJK text counts two columns);
* :meth:`Dashboard.to_html`: one self-contained HTML page with static SVG charts drawn by
  matplotlib (the ``report`` extra), readable on a phone.

:func:`crmkit.app.dashboard.build_dashboard` builds one from a store.

Example:
    >>> d = _example_dashboard()
    >>> d.sales.total, d.sales.win_rate.value
    (Money('1000.00', 'TWD'), Decimal('0.5000'))
    >>> Dashboard.from_json(d.to_json()) == d
    True
    >>> print(d.to_text().splitlines()[0])
    Dashboard: January 2026 – March 2026 (Asia/Taipei), TWD

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, TypeVar

import attrs
from babel.core import Locale, UnknownLocaleError

from crmkit.analytics._common import Ratio
from crmkit.analytics.loyalty import LoyaltySummary
from crmkit.analytics.periods import Periods
from crmkit.analytics.sales import RepLine, SalesSummary, StageCount
from crmkit.analytics.service import ServiceSummary
from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.money import Money
from crmkit.kernel.time import validate_aware
from crmkit.loyalty.reports import TierCount

__all__ = [
    "CategoryRow",
    "CountRow",
    "CustomersSection",
    "Dashboard",
    "LoyaltySection",
    "PointsRow",
    "RevenueRow",
    "SalesSection",
    "ServiceSection",
]

_FOUR = Decimal("0.0001")

T = TypeVar("T")


def _locale(_instance: object, _attribute: object, value: Any) -> None:
    try:
        if not isinstance(value, str):
            raise TypeError
        Locale.parse(value)
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValidationError(
            f"{value!r} is not a known locale (e.g. 'en', 'zh_Hant_TW', 'zh_Hans_CN')",
            path="locale",
        ) from None


def _currency(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha() or not value.isupper():
        raise ValidationError(
            f"must be an ISO 4217 currency code such as 'TWD', not {value!r}", path="currency"
        )


def _rows(value: Iterable[Any], cls: type[T], path: str) -> tuple[T, ...]:
    """A tuple of ``cls``: from its objects, or from their JSON form (read back by cattrs)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of {cls.__name__}, not {type(value).__name__}", path=path
        )
    found: list[T] = []
    for i, item in enumerate(value):
        if isinstance(item, Mapping):
            from crmkit.serialization import structure

            item = structure(dict(item), cls)
        if not isinstance(item, cls):
            raise ValidationError(
                f"must be a {cls.__name__}, not {type(item).__name__}", path=f"{path}[{i}]"
            )
        found.append(item)
    return tuple(found)


def _notes(value: Iterable[object]) -> tuple[str, ...]:
    return tuple(str(note) for note in value)


@attrs.frozen
class RevenueRow:
    """Won revenue in one period (``period`` is its key, ``2026-03``) against its target.

    Example:
        >>> RevenueRow("2026-03", Money("80", "TWD"), 2, Money("100", "TWD")).attainment
        Decimal('0.8000')

    .. versionadded:: 0.1.0
    """

    period: str
    won: Money
    deals: int
    target: Money | None = None

    @property
    def attainment(self) -> Decimal | None:
        """``won / target`` to four places; ``None`` without a (non-zero) target."""
        if self.target is None or not self.target.amount:
            return None
        return (self.won.amount / self.target.amount).quantize(_FOUR)


def _revenue(value: Iterable[Any]) -> tuple[RevenueRow, ...]:
    return _rows(value, RevenueRow, "revenue")


def _stages(value: Iterable[Any]) -> tuple[StageCount, ...]:
    return _rows(value, StageCount, "stages")


def _reps(value: Iterable[Any]) -> tuple[RepLine, ...]:
    return _rows(value, RepLine, "reps")


@attrs.frozen
class SalesSection:
    """The sales metrics of a :class:`Dashboard`; ``notes`` say how each was computed.

    Example:
        >>> s = _example_dashboard().sales
        >>> s.open_pipeline, s.weighted_pipeline, [r.owner for r in s.reps if r.below]
        (Money('500.00', 'TWD'), Money('250.00', 'TWD'), ['u_amy'])

    .. versionadded:: 0.1.0
    """

    revenue: tuple[RevenueRow, ...] = attrs.field(converter=_revenue)
    total: Money
    open_deals: int
    open_pipeline: Money
    weighted_pipeline: Money
    stages: tuple[StageCount, ...] = attrs.field(converter=_stages)
    win_rate: Ratio
    average_deal: Money | None
    average_cycle: timedelta | None
    team_average: Money
    threshold: Decimal
    reps: tuple[RepLine, ...] = attrs.field(converter=_reps)
    notes: tuple[str, ...] = attrs.field(default=(), converter=_notes)

    @property
    def target(self) -> Money | None:
        """The sum of the periods' targets; ``None`` when no period has one."""
        targets = [row.target for row in self.revenue if row.target is not None]
        if not targets:
            return None
        return Money.sum(targets, currency=self.total.currency)

    @classmethod
    def from_summary(cls, summary: SalesSummary) -> SalesSection:
        """The section for a :class:`~crmkit.analytics.SalesSummary`.

        Example:
            >>> from datetime import date
            >>> from crmkit.analytics import Periods, sales_facts, sales_summary
            >>> from crmkit.analytics.sales import _example_deals
            >>> facts = sales_facts(_example_deals(), Periods(date(2026, 3, 1), 2))
            >>> SalesSection.from_summary(sales_summary(facts, currency="TWD")).total
            Money('4000.00', 'TWD')
        """
        if not isinstance(summary, SalesSummary):
            raise ValidationError(
                f"must be a SalesSummary, not {type(summary).__name__}", path="summary"
            )
        return cls(
            revenue=[
                RevenueRow(line.period.key, line.won, line.deals, line.target)
                for line in summary.revenue.lines
            ],
            total=summary.revenue.total,
            open_deals=summary.pipeline.deals,
            open_pipeline=summary.pipeline.amount,
            weighted_pipeline=summary.pipeline.weighted,
            stages=summary.stages.stages,
            win_rate=summary.win_rate.ratio,
            average_deal=summary.deal_size.average,
            average_cycle=summary.cycle.average,
            team_average=summary.reps.team_average,
            threshold=summary.reps.threshold,
            reps=summary.reps.reps,
            notes=[
                summary.revenue.explanation,
                summary.pipeline.explanation,
                summary.stages.explanation,
                summary.win_rate.explanation,
                summary.deal_size.explanation,
                summary.cycle.explanation,
                summary.reps.explanation,
            ],
        )


@attrs.frozen
class CategoryRow:
    """Complaints in a category (and root cause, ``None`` when not yet known) over the periods.

    Example:
        >>> CategoryRow("delivery", "carrier_delay", 2).complaints
        2

    .. versionadded:: 0.1.0
    """

    category: str
    root_cause: str | None
    complaints: int


def _categories(value: Iterable[Any]) -> tuple[CategoryRow, ...]:
    return _rows(value, CategoryRow, "categories")


@attrs.frozen
class ServiceSection:
    """The service metrics of a :class:`Dashboard`.

    Example:
        >>> s = _example_dashboard().service
        >>> s.complaints, s.first_response.value, s.csat
        (4, Decimal('0.3333'), Decimal('4.00'))

    .. versionadded:: 0.1.0
    """

    complaints: int
    categories: tuple[CategoryRow, ...] = attrs.field(converter=_categories)
    first_response: Ratio
    resolution: Ratio
    csat: Decimal | None
    csat_responses: int
    handling: timedelta | None
    reopened: Ratio
    notes: tuple[str, ...] = attrs.field(default=(), converter=_notes)

    @property
    def per_category(self) -> tuple[tuple[str, int], ...]:
        """Complaints per category (root causes added up), most first, then by name."""
        found: dict[str, int] = {}
        for row in self.categories:
            found[row.category] = found.get(row.category, 0) + row.complaints
        return tuple(sorted(found.items(), key=lambda item: (-item[1], item[0])))

    @classmethod
    def from_summary(cls, summary: ServiceSummary) -> ServiceSection:
        """The section for a :class:`~crmkit.analytics.ServiceSummary`.

        Example:
            >>> from datetime import date
            >>> from crmkit.analytics import Periods, service_summary
            >>> from crmkit.analytics.service import _example_cases
            >>> s = service_summary(_example_cases(), Periods(date(2026, 1, 1), 3))
            >>> ServiceSection.from_summary(s).complaints
            4
        """
        if not isinstance(summary, ServiceSummary):
            raise ValidationError(
                f"must be a ServiceSummary, not {type(summary).__name__}", path="summary"
            )
        rows: dict[tuple[str, str | None], int] = {}
        for line in summary.categories.lines:
            key = (line.category, line.root_cause)
            rows[key] = rows.get(key, 0) + line.complaints
        return cls(
            complaints=sum(rows.values()),
            categories=[
                CategoryRow(category, cause, count)
                for (category, cause), count in sorted(
                    rows.items(), key=lambda item: (item[0][0], item[0][1] or "")
                )
            ],
            first_response=summary.first_response.ratio,
            resolution=summary.resolution.ratio,
            csat=summary.csat.average,
            csat_responses=summary.csat.responses,
            handling=summary.handling.average,
            reopened=summary.reopen.ratio,
            notes=[
                summary.categories.explanation,
                summary.first_response.explanation,
                summary.resolution.explanation,
                summary.handling.explanation,
                summary.reopen.explanation,
                summary.csat.explanation,
            ],
        )


@attrs.frozen
class PointsRow:
    """Points issued, redeemed and expired in one period (its key, ``2026-03``).

    Example:
        >>> PointsRow("2026-03", 1500, 500, 0).redeemed
        500

    .. versionadded:: 0.1.0
    """

    period: str
    issued: int
    redeemed: int
    expired: int


def _points(value: Iterable[Any]) -> tuple[PointsRow, ...]:
    return _rows(value, PointsRow, "points")


def _tiers(value: Iterable[Any]) -> tuple[TierCount, ...]:
    return _rows(value, TierCount, "tiers")


@attrs.frozen
class LoyaltySection:
    """One loyalty program's metrics: members, tiers, points per period and the liability.

    ``repeat_members`` and ``repeat_others`` (repeat purchase rates) are ``None`` when the
    store keeps no orders.

    Example:
        >>> s = _example_dashboard().loyalty[0]
        >>> s.name, s.members, s.outstanding, s.liability
        ('Club', 2, 1100, Money('1100.00', 'TWD'))

    .. versionadded:: 0.1.0
    """

    program: str
    name: str
    active: Ratio
    tiers: tuple[TierCount, ...] = attrs.field(converter=_tiers)
    points: tuple[PointsRow, ...] = attrs.field(converter=_points)
    outstanding: int
    liability: Money
    repeat_members: Ratio | None = None
    repeat_others: Ratio | None = None
    notes: tuple[str, ...] = attrs.field(default=(), converter=_notes)

    @property
    def members(self) -> int:
        """Every member of the program (active or not)."""
        return self.active.whole

    @classmethod
    def from_summary(cls, program: str, name: str, summary: LoyaltySummary) -> LoyaltySection:
        """The section for the :class:`~crmkit.analytics.LoyaltySummary` of program ``program``.

        Example:
            >>> from datetime import date, datetime, timezone
            >>> from crmkit.analytics import Periods, loyalty_summary
            >>> from crmkit.analytics.loyalty import _example_members
            >>> program, members = _example_members()
            >>> s = loyalty_summary(program, members, Periods(date(2026, 1, 1), 1),
            ...                     now=datetime(2026, 2, 28, tzinfo=timezone.utc))
            >>> LoyaltySection.from_summary(program.id, program.name, s).outstanding
            1100
        """
        if not isinstance(summary, LoyaltySummary):
            raise ValidationError(
                f"must be a LoyaltySummary, not {type(summary).__name__}", path="summary"
            )
        repeat = summary.repeat
        notes: list[object] = [summary.active.explanation, summary.points.explanation]
        if repeat is not None:
            notes.append(repeat.explanation)
        return cls(
            program=program,
            name=name,
            active=summary.active.ratio,
            tiers=summary.tiers,
            points=[
                PointsRow(line.period.key, line.issued, line.redeemed, line.expired)
                for line in summary.points.lines
            ],
            outstanding=summary.liability.points,
            liability=summary.liability.value,
            repeat_members=None if repeat is None else repeat.members,
            repeat_others=None if repeat is None else repeat.non_members,
            notes=notes,
        )


@attrs.frozen
class CountRow:
    """How many customers are in a segment (or a lifecycle status).

    Example:
        >>> CountRow("vip", 4).customers
        4

    .. versionadded:: 0.1.0
    """

    name: str
    customers: int


def _segments(value: Iterable[Any]) -> tuple[CountRow, ...]:
    return _rows(value, CountRow, "segments")


def _lifecycle(value: Iterable[Any]) -> tuple[CountRow, ...]:
    return _rows(value, CountRow, "lifecycle")


@attrs.frozen
class CustomersSection:
    """Customer counts: per rule segment (a customer may be in several) and per lifecycle.

    Example:
        >>> s = _example_dashboard().customers
        >>> s.customers, [(r.name, r.customers) for r in s.segments]
        (3, [('wholesale', 2), ('vip', 1)])

    .. versionadded:: 0.1.0
    """

    customers: int
    segments: tuple[CountRow, ...] = attrs.field(converter=_segments)
    lifecycle: tuple[CountRow, ...] = attrs.field(default=(), converter=_lifecycle)


def _loyalty(value: Iterable[Any]) -> tuple[LoyaltySection, ...]:
    return _rows(value, LoyaltySection, "loyalty")


@attrs.frozen
class Dashboard:
    """The metrics of ``periods`` in ``currency``, to be shown in ``locale``.

    ``title`` heads the page (default: "Dashboard", translated); ``generated_at`` is when the
    figures were read (an aware datetime, shown in the periods' time zone).

    Example:
        >>> d = _example_dashboard()
        >>> d.currency, d.locale, d.periods.time_zone, len(d.loyalty)
        ('TWD', 'en', 'Asia/Taipei', 1)
        >>> Dashboard(d.periods, "twd", "en", d.generated_at)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: currency: must be an ISO 4217 currency code such as 'TWD', not 'twd'

    .. versionadded:: 0.1.0
    """  # noqa: E501

    periods: Periods = attrs.field(validator=v.of_type(Periods))
    currency: str = attrs.field(validator=_currency)
    locale: str = attrs.field(validator=_locale)
    generated_at: datetime = attrs.field(validator=validate_aware)
    sales: SalesSection | None = attrs.field(
        default=None, validator=attrs.validators.optional(v.of_type(SalesSection))
    )
    service: ServiceSection | None = attrs.field(
        default=None, validator=attrs.validators.optional(v.of_type(ServiceSection))
    )
    loyalty: tuple[LoyaltySection, ...] = attrs.field(default=(), converter=_loyalty)
    customers: CustomersSection | None = attrs.field(
        default=None, validator=attrs.validators.optional(v.of_type(CustomersSection))
    )
    title: str | None = None

    def to_json(self) -> str:
        """The dashboard as JSON (money as ``{"amount", "currency"}``, Decimals as strings).

        Example:
            >>> import json
            >>> data = json.loads(_example_dashboard().to_json())
            >>> data["sales"]["total"], data["service"]["csat"]
            ({'amount': '1000.00', 'currency': 'TWD'}, '4.00')
        """
        from crmkit.serialization import to_json

        return to_json(self)

    @classmethod
    def from_json(cls, text: str | bytes) -> Dashboard:
        """Read back what :meth:`to_json` wrote (``ValidationError`` naming the field if bad).

        Example:
            >>> Dashboard.from_json('{"currency": "TWD"}')
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: ...
        """
        from crmkit.serialization import from_json

        return from_json(text, cls)

    def to_text(self, *, width: int | None = None) -> str:
        """The dashboard as aligned plain-text tables for a terminal, in :attr:`locale`.

        Columns are measured in terminal cells (a CJK character takes two); with ``width``
        the widest column of a table too wide is shortened with ``…``.

        Example:
            >>> text = _example_dashboard().to_text()
            >>> "Revenue" in text and "NT$1,000.00" in text
            True
        """
        from crmkit.analytics._dashboard_text import render_text

        return render_text(self, width=width)

    def to_html(self) -> str:
        """One self-contained HTML page (inline CSS and SVG charts; no script, no URL).

        Needs matplotlib (``pip install "crmkit[report]"``); without it this raises
        :class:`~crmkit.errors.MissingDependencyError`.

        Example:
            >>> html = _example_dashboard().to_html()
            >>> html.startswith("<!DOCTYPE html>") and html.count("<svg") >= 4
            True
        """
        from crmkit.analytics._dashboard_html import render_html

        return render_html(self)


def _example_dashboard() -> Dashboard:
    """A dashboard over the analytics examples, for the docstrings."""
    from crmkit.analytics import loyalty_summary, sales_facts, sales_summary, service_summary
    from crmkit.analytics.loyalty import _example_members
    from crmkit.analytics.sales import _example_deals
    from crmkit.analytics.service import _example_cases

    quarter = Periods(date(2026, 1, 1), 3, time_zone="Asia/Taipei")
    targets = {"2026-02": Money("150000", "TWD"), "2026-03": Money("100000", "TWD")}
    program, members = _example_members()
    now = datetime(2026, 3, 31, 10, tzinfo=timezone.utc)
    return Dashboard(
        quarter,
        "TWD",
        "en",
        now,
        sales=SalesSection.from_summary(
            sales_summary(sales_facts(_example_deals(), quarter), currency="TWD", targets=targets)
        ),
        service=ServiceSection.from_summary(service_summary(_example_cases(), quarter)),
        loyalty=[
            LoyaltySection.from_summary(
                program.id, program.name, loyalty_summary(program, members, quarter, now=now)
            )
        ],
        customers=CustomersSection(
            3,
            [CountRow("wholesale", 2), CountRow("vip", 1)],
            [CountRow("active", 2), CountRow("at_risk", 1)],
        ),
    )
