"""Customer metrics: churn per period (customers whose lifecycle moved to churned).

A customer churns when ``LifecycleRules.churned_after`` passes after an order with no later order
in between; a customer who comes back and goes quiet again churns again. The moment of churn is
``order + churned_after``, counted in the period (in the periods' time zone) it falls in, and only
once it is no later than ``now``.

Example:
    >>> from datetime import date, datetime, timedelta, timezone
    >>> import attrs
    >>> from crmkit.customers.segments import LifecycleRules
    >>> @attrs.frozen
    ... class Sale:
    ...     customer_id: str
    ...     ordered_at: datetime
    >>> rules = LifecycleRules(at_risk_after=timedelta(days=30), churned_after=timedelta(days=60))
    >>> orders = [Sale("c1", datetime(2026, 1, 5, tzinfo=timezone.utc))]
    >>> churn = churn_per_period(orders, rules, Periods(date(2026, 1, 1), 6),
    ...                          now=datetime(2026, 7, 1, tzinfo=timezone.utc))
    >>> [(line.period.key, line.churned) for line in churn.lines if line.churned]
    [('2026-03', 1)]

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from crmkit.analytics._common import Explanation
from crmkit.analytics.loyalty import Purchase
from crmkit.analytics.periods import Periods
from crmkit.customers.segments import LifecycleRules
from crmkit.errors import ValidationError
from crmkit.kernel.time import ensure_aware
from crmkit.pipeline.forecast import Period

__all__ = ["ChurnLine", "ChurnReport", "churn_per_period"]


@attrs.frozen
class ChurnLine:
    """How many customers churned in one period, and which.

    Example:
        >>> from datetime import date
        >>> ChurnLine(Periods(date(2026, 1, 1), 1).periods[0], 1, ("c1",)).churned
        1

    .. versionadded:: 0.1.0
    """

    period: Period
    churned: int
    customer_ids: tuple[str, ...]


@attrs.frozen
class ChurnReport:
    """Churn per period, with the rule used and what was counted.

    Example:
        >>> from datetime import date, datetime, timezone
        >>> r = churn_per_period([], LifecycleRules(), Periods(date(2026, 1, 1), 2),
        ...                      now=datetime(2026, 3, 1, tzinfo=timezone.utc))
        >>> r.total, len(r.lines)
        (0, 2)

    .. versionadded:: 0.1.0
    """

    lines: tuple[ChurnLine, ...]
    explanation: Explanation

    @property
    def total(self) -> int:
        """Churn events in all the periods.

        Example:
            >>> ChurnReport((), Explanation("x", 0)).total
            0
        """
        return sum(line.churned for line in self.lines)


def churn_per_period(
    orders: Iterable[Purchase], rules: LifecycleRules, periods: Periods, *, now: datetime
) -> ChurnReport:
    """Count the customers whose lifecycle moved to churned in each period.

    ``orders`` are anything with ``customer_id`` and an aware ``ordered_at`` (crmkit's
    :class:`~crmkit.customers.purchases.Order` qualifies); every order counts, whether or not it
    falls in the periods, because an order before them can churn inside them.

    Example:
        >>> from datetime import date, datetime, timedelta, timezone
        >>> import attrs
        >>> @attrs.frozen
        ... class Sale:
        ...     customer_id: str
        ...     ordered_at: datetime
        >>> utc = timezone.utc
        >>> rules = LifecycleRules(at_risk_after=timedelta(days=20),
        ...                        churned_after=timedelta(days=30))
        >>> orders = [Sale("c1", datetime(2026, 1, 1, tzinfo=utc)),   # churns 31 Jan
        ...           Sale("c1", datetime(2026, 3, 10, tzinfo=utc)),  # back, churns 9 Apr
        ...           Sale("c2", datetime(2026, 3, 20, tzinfo=utc))]  # churns 19 Apr
        >>> r = churn_per_period(orders, rules, Periods(date(2026, 1, 1), 4),
        ...                      now=datetime(2026, 5, 1, tzinfo=utc))
        >>> [(line.period.key, line.customer_ids) for line in r.lines]
        [('2026-01', ('c1',)), ('2026-02', ()), ('2026-03', ()), ('2026-04', ('c1', 'c2'))]

    .. versionadded:: 0.1.0
    """
    if not isinstance(rules, LifecycleRules):
        raise ValidationError(f"must be LifecycleRules, not {type(rules).__name__}", path="rules")
    if not isinstance(periods, Periods):
        raise ValidationError(f"must be Periods, not {type(periods).__name__}", path="periods")
    now = ensure_aware(now, "now")
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Iterable):
        raise ValidationError("must be an iterable of orders", path="orders")
    dates: dict[str, list[datetime]] = {}
    for i, order in enumerate(orders):
        if not isinstance(order, Purchase):
            raise ValidationError(
                f"must have customer_id and ordered_at, not be a {type(order).__name__}",
                path=f"orders[{i}]",
            )
        dates.setdefault(order.customer_id, []).append(
            ensure_aware(order.ordered_at, f"orders[{i}].ordered_at")
        )
    churned: list[list[str]] = [[] for _ in periods.periods]
    not_yet = outside = 0
    for customer_id in sorted(dates):
        ordered = sorted(dates[customer_id])
        for at, following in zip(ordered, [*ordered[1:], None], strict=True):
            moment = at + rules.churned_after
            if following is not None and following < moment:
                continue  # ordered again before going quiet that long
            if moment > now:
                not_yet += 1
                continue
            index = periods.index_of(moment)
            if index is None:
                outside += 1
            else:
                churned[index].append(customer_id)
    lines = tuple(
        ChurnLine(period, len(ids), tuple(ids))
        for period, ids in zip(periods.periods, churned, strict=True)
    )
    explanation = Explanation(
        f"customers whose last order before a gap of {rules.churned_after.days} days "
        "(churned_after) churned, counted in the period the gap ended",
        sum(len(ids) for ids in churned),
        {"churn moment after now": not_yet, "churned outside the periods": outside},
    )
    return ChurnReport(lines, explanation)
