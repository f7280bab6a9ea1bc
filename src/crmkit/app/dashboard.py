"""Build the :class:`~crmkit.analytics.dashboard.Dashboard` from a CRM's store.

:func:`build_dashboard` reads the metrics through ``crm.analytics`` (the sales facts pushed
down into SQL when the store can), ``crm.segment_customers`` (segment sizes and lifecycle), and
every loyalty program in the store, and keeps only the sections that have records: a store
without complaints gets no service section, a program without members no loyalty section.

Example:
    >>> from datetime import date
    >>> from crmkit import bootstrap
    >>> from crmkit.analytics import Periods
    >>> crm = bootstrap()
    >>> _ = crm.register_customer("Formosa Tea Co.")
    >>> board = build_dashboard(crm, Periods(date(2026, 1, 1), 3), currency="TWD")
    >>> board.sales is None, board.customers.customers
    (True, 1)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from crmkit.analytics import Periods, sales_summary
from crmkit.analytics.dashboard import (
    CountRow,
    CustomersSection,
    Dashboard,
    LoyaltySection,
    SalesSection,
    ServiceSection,
)
from crmkit.app.triggers import scan
from crmkit.errors import ValidationError
from crmkit.kernel.money import Money
from crmkit.ports import ExchangeRates

if TYPE_CHECKING:
    from crmkit.app._crm import CRM

__all__ = ["build_dashboard"]


def build_dashboard(
    crm: CRM,
    periods: Periods,
    *,
    currency: str,
    locale: str = "en",
    targets: Mapping[str, Money] | None = None,
    threshold: Decimal | str = Decimal("0.5"),
    rates: ExchangeRates | None = None,
    active_days: int = 90,
    title: str | None = None,
    actor: str | None = None,
) -> Dashboard:
    """The dashboard of ``crm``'s store over ``periods``, totals in ``currency``, for ``locale``.

    ``targets`` maps period keys (``"2026-03"``) to revenue targets; ``threshold`` flags reps
    under that share of the team average; ``rates`` converts other currencies (else a second
    currency is refused, see :class:`~crmkit.app.analytics.Analytics`). ``actor`` must be
    allowed ``analytics.sales``, ``analytics.service`` and ``analytics.loyalty``.

    Example:
        >>> from datetime import date
        >>> from crmkit import bootstrap
        >>> from crmkit.analytics import Periods
        >>> build_dashboard(bootstrap(), Periods(date(2026, 1, 1), 1), currency="TWD",
        ...                 locale="xx_YY")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: locale: 'xx_YY' is not a known locale (e.g. 'en', 'zh_Hant_TW', 'zh_Hans_CN')

    .. versionadded:: 0.1.0
    """  # noqa: E501
    if not isinstance(periods, Periods):
        raise ValidationError(
            f"must be Periods (e.g. Periods(date(2026, 1, 1), 3)), not {type(periods).__name__}",
            path="periods",
        )
    now = crm.clock.now()
    # Checked before anything is read, so a wrong argument costs no query.
    empty = Dashboard(periods, currency, locale, now, title=title)
    analytics = crm.analytics if rates is None else crm.analytics.with_rates(rates)

    sales = None
    facts = analytics.sales_facts(periods, actor=actor)
    if facts.groups:
        summary = sales_summary(
            facts, currency=currency, targets=targets, threshold=threshold, rates=analytics.rates
        )
        sales = SalesSection.from_summary(summary)

    service = None
    service_summary = analytics.service(periods, actor=actor)
    if service_summary.categories.lines:
        service = ServiceSection.from_summary(service_summary)

    loyalty = []
    with crm.store.unit_of_work() as uow:
        programs = [(p.id, p.name) for p in scan(uow.loyalty_programs)]
    for program_id, name in programs:
        found = analytics.loyalty(
            program_id, periods, active_days=active_days, now=now, actor=actor
        )
        if found.active.ratio.whole:
            loyalty.append(LoyaltySection.from_summary(program_id, name, found))

    customers = None
    segmented = crm.segment_customers(at=now, actor=actor)
    if segmented:
        sizes: Counter[str] = Counter()
        for result in segmented:
            sizes.update(result.names)
        # Every result lists every rule segment (matched or not) in the rules' order.
        order = {match.segment: i for i, match in enumerate(segmented[0].matches)}
        lifecycle = Counter(result.lifecycle.status.value for result in segmented)
        customers = CustomersSection(
            len(segmented),
            [
                CountRow(name, count)
                for name, count in sorted(
                    sizes.items(), key=lambda item: (order.get(item[0], len(order)), item[0])
                )
            ],
            [CountRow(status, count) for status, count in sorted(lifecycle.items())],
        )
    return Dashboard(
        periods,
        empty.currency,
        empty.locale,
        now,
        sales=sales,
        service=service,
        loyalty=loyalty,
        customers=customers,
        title=title,
    )
