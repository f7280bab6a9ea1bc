"""The analytics contract: a store's push-down gives the facts the pure function gives.

Subclass :class:`AnalyticsQueriesContract` (name the subclass ``Test...``) and give it a
``crm_store`` fixture returning a fresh, empty store that offers push-down: an ``analytics()``
method returning a :class:`crmkit.ports.AnalyticsQueries`. The suite writes generated deals
(owners, currencies, missing amounts, open deals with and without a date, closes near month
boundaries), and checks that ``sales_facts`` over them equals
:func:`crmkit.analytics.sales_facts` in several time zones, by month and by quarter, with and
without a pipeline filter.

Example:
    >>> import pytest
    >>> from crmkit.adapters.sqlite import SQLiteStore
    >>> class TestSQLiteAnalytics(AnalyticsQueriesContract):
    ...     @pytest.fixture
    ...     def crm_store(self):
    ...         return SQLiteStore(":memory:")
    >>> "test_push_down_equals_the_pure_facts" in dir(TestSQLiteAnalytics)
    True

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmkit.analytics import Periods, StaticRates, sales_facts, sales_summary
from crmkit.errors import ValidationError
from crmkit.kernel.query import Query
from crmkit.pipeline import Opportunity
from crmkit.ports import AnalyticsQueries
from crmkit.testing._analytics_strategies import deal_lists

__all__ = ["AnalyticsQueriesContract"]

_RATES = StaticRates({("USD", "TWD"): [(date(2025, 1, 1), Decimal("31.25"))]})

_PERIODS = st.one_of(
    st.builds(
        Periods,
        start=st.sampled_from([date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]),
        count=st.integers(1, 6),
        time_zone=st.sampled_from(["UTC", "Asia/Taipei", "America/New_York"]),
    ),
    st.builds(
        Periods,
        start=st.sampled_from([date(2025, 10, 1), date(2026, 1, 1)]),
        count=st.integers(1, 3),
        kind=st.just("quarter"),
        time_zone=st.sampled_from(["UTC", "Asia/Taipei"]),
    ),
)


def _replace_deals(store: Any, deals: list[Opportunity]) -> None:
    with store.unit_of_work() as uow:
        query: Query | None = Query().take(1000)
        stored: list[Opportunity] = []
        while query is not None:
            page = uow.opportunities.query(query)
            stored.extend(page.items)
            query = None if page.next_cursor is None else query.after(page.next_cursor)
        for old in stored:
            uow.opportunities.remove(old)
        uow.opportunities.add_many(deals)
        uow.commit()


class AnalyticsQueriesContract:
    """Tests every push-down must pass: equal facts to the pure function, and checked input.

    Needs one fixture, ``crm_store``: a fresh, empty store with an ``analytics()`` method.

    Example:
        >>> AnalyticsQueriesContract.__name__.endswith("Contract")
        True

    .. versionadded:: 0.1.0
    """

    #: How many generated data sets the equality property tries.
    max_examples = 30

    def test_the_store_offers_analytics_queries(self, crm_store: Any) -> None:
        """``analytics()`` returns an :class:`~crmkit.ports.AnalyticsQueries`."""
        assert isinstance(crm_store.analytics(), AnalyticsQueries)

    def test_push_down_equals_the_pure_facts(self, crm_store: Any) -> None:
        """Generated deals give the same facts (and dashboard) both ways."""

        @settings(
            max_examples=self.max_examples,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(deals=deal_lists(), periods=_PERIODS)
        def check(deals: list[Opportunity], periods: Periods) -> None:
            _replace_deals(crm_store, deals)
            queries = crm_store.analytics()
            pushed = queries.sales_facts(periods)
            pure = sales_facts(deals, periods)
            assert pushed == pure
            for key in (deals[0].pipeline_key if deals else "sales", "other"):
                assert queries.sales_facts(periods, pipeline_key=key) == sales_facts(
                    deals, periods, pipeline_key=key
                )
            assert sales_summary(pushed, currency="TWD", rates=_RATES) == sales_summary(
                pure, currency="TWD", rates=_RATES
            )

        check()

    def test_arguments_are_checked(self, crm_store: Any) -> None:
        """Not-periods and a non-text pipeline key are ``ValidationError``s."""
        queries = crm_store.analytics()
        with pytest.raises(ValidationError, match="periods"):
            queries.sales_facts("2026-03")
        with pytest.raises(ValidationError, match="pipeline_key"):
            queries.sales_facts(Periods(date(2026, 1, 1), 1), pipeline_key=7)
