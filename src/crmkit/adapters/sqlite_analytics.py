"""Analytics pushed down into the SQLite store: ``GROUP BY`` over the projected columns.

:class:`SQLiteAnalytics` implements :class:`crmkit.ports.AnalyticsQueries` on the
``crm_opportunities`` table of a :class:`~crmkit.adapters.sqlite.SQLiteStore` (get one with
``store.analytics()``). One query reads the projected columns (owner, stage, stage kind,
currency, amount, probability, dates), puts each deal in its period with a ``CASE`` over the
periods' boundaries (instants in the periods' time zone, compared as the store's fixed-width
UTC text), and groups; no document is parsed and no deal is built in Python, so memory stays
flat however many deals there are.

The first call on a store creates a covering index of those columns
(``ix_crm_opportunities_sales_facts``, ``CREATE INDEX IF NOT EXISTS``: once per database, a
few seconds per million deals, then kept up to date by every write), so the query reads the
index, not the rows with their JSON documents; a database without it still opens and works.

Amounts are stored as decimal text; SQLite's own ``SUM`` would add them as floats, so the sums
go through a small aggregate function (``crm_sales_sums``) that adds them as ``Decimal``
inside the query: exact, and equal to :func:`crmkit.analytics.sales_facts`.

Example:
    >>> from datetime import date
    >>> from crmkit.adapters.sqlite import SQLiteStore
    >>> from crmkit.analytics import Periods
    >>> from crmkit.analytics.sales import _example_deals
    >>> store = SQLiteStore(":memory:")
    >>> with store.unit_of_work() as uow:
    ...     uow.opportunities.add_many(_example_deals())
    ...     _ = uow.commit()
    >>> facts = SQLiteAnalytics(store).sales_facts(Periods(date(2026, 3, 1), 2))
    >>> [(g.owner, g.stage, g.amount) for g in facts.groups]  # doctest: +NORMALIZE_WHITESPACE
    [('u_amy', 'lost', Decimal('800')), ('u_amy', 'proposal', Decimal('500')),
     ('u_amy', 'won', Decimal('3000')), ('u_ben', 'won', Decimal('1000'))]

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import weakref
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from crmkit.adapters.sqlite import _column, _storage_errors
from crmkit.analytics import Periods, SalesFacts, SalesGroup
from crmkit.analytics.sales import _check_scope

if TYPE_CHECKING:
    from crmkit.adapters.sqlite import SQLiteStore

__all__ = ["SQLiteAnalytics"]


#: A covering index of the columns the sales facts read, so SQLite scans it instead of the rows
#: (whose JSON documents make a table scan read the whole file).
_INDEX = (
    'CREATE INDEX IF NOT EXISTS "ix_crm_opportunities_sales_facts" ON {table} '
    '("owner", "stage", "stage_kind", "currency", "pipeline_key", "amount", "probability", '
    '"expected_close_date", "closed_at", "created_at")'
)

#: The stores whose database has the index (checked once per store object).
_INDEXED: weakref.WeakSet[SQLiteStore] = weakref.WeakSet()


class _SalesSums:
    """``crm_sales_sums(amount, probability)``: exact Decimal sums of amount and amount x p."""

    def __init__(self) -> None:
        self.amount = Decimal(0)
        self.weighted = Decimal(0)

    def step(self, amount: str | None, probability: int | None) -> None:
        if amount is not None:
            value = Decimal(amount)
            self.amount += value
            self.weighted += value * (probability or 0)

    def finalize(self) -> str:
        return f"{self.amount} {self.weighted}"


def _case(column: str, bounds: list[Any]) -> tuple[str, list[Any]]:
    """``CASE`` giving the index of the period ``column`` falls in (``NULL`` outside)."""
    parts = [f"CASE WHEN {column} IS NULL OR {column} < ? THEN NULL"]
    params: list[Any] = [bounds[0]]
    for i, bound in enumerate(bounds[1:]):
        parts.append(f"WHEN {column} < ? THEN {i}")
        params.append(bound)
    parts.append("ELSE NULL END")
    return " ".join(parts), params


def _seconds(column: str) -> str:
    return f"CAST(strftime('%s', substr({column}, 1, 19)) AS INTEGER)"


class SQLiteAnalytics:
    """:class:`crmkit.ports.AnalyticsQueries` computed by SQLite over a store's tables.

    Example:
        >>> from crmkit.adapters.sqlite import SQLiteStore
        >>> from crmkit.ports import AnalyticsQueries
        >>> isinstance(SQLiteAnalytics(SQLiteStore()), AnalyticsQueries)
        True

    .. versionadded:: 0.1.0
    """

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    def sales_facts(self, periods: Periods, *, pipeline_key: str | None = None) -> SalesFacts:
        """The stored opportunities reduced to :class:`~crmkit.analytics.SalesFacts` in SQL.

        Example:
            >>> from datetime import date
            >>> from crmkit.adapters.sqlite import SQLiteStore
            >>> SQLiteAnalytics(SQLiteStore()).sales_facts(Periods(date(2026, 1, 1), 1)).groups
            ()
        """
        table = self._store._tables.get("opportunities")
        _check_scope(periods, pipeline_key, keeps_deals=table is not None)
        assert table is not None
        open_case, open_params = _case(
            '"expected_close_date"', [_column(d) for d in periods.day_bounds]
        )
        closed_case, closed_params = _case('"closed_at"', [_column(b) for b in periods.bounds])
        won = '"stage_kind" = \'won\' AND "closed_at" IS NOT NULL'
        cycle = _seconds('"closed_at"') + " - " + _seconds('"created_at"')
        where, where_params = "", []
        if pipeline_key is not None:
            # unary + keeps SQLite on the covering index (not the pipeline_key one)
            where, where_params = 'WHERE +"pipeline_key" = ?', [pipeline_key]
        sql = (
            "SELECT owner, stage, stage_kind, currency, period, COUNT(*), COUNT(amount), "
            "crm_sales_sums(amount, probability), COUNT(cycle), COALESCE(SUM(cycle), 0) "
            'FROM (SELECT "owner" AS owner, "stage" AS stage, "stage_kind" AS stage_kind, '
            '"currency" AS currency, "amount" AS amount, "probability" AS probability, '
            f"CASE WHEN \"stage_kind\" = 'open' THEN {open_case} ELSE {closed_case} END "
            f"AS period, CASE WHEN {won} THEN {cycle} END AS cycle "
            f"FROM {table.name} {where}) "
            "GROUP BY owner, stage, stage_kind, currency, period"
        )
        params = [*open_params, *closed_params, *where_params]
        groups = []
        with self._store._session() as conn, _storage_errors("compute sales facts"):
            if self._store not in _INDEXED:
                conn.execute(_INDEX.format(table=table.name))
                _INDEXED.add(self._store)
            conn.create_aggregate("crm_sales_sums", 2, _SalesSums)  # type: ignore[arg-type]
            for row in conn.execute(sql, params):
                # row: the five keys, deals, priced, "amount weighted", cycles, cycle seconds
                amount, weighted = (Decimal(part) for part in row[7].split())
                owner, stage, kind, currency, period, deals, priced = row[:7]
                cycles, seconds = row[8], row[9]
                group = (owner, stage, kind, currency, period, deals, priced)
                groups.append(SalesGroup(*group, amount, weighted, cycles, seconds))
        return SalesFacts(periods, tuple(groups), pipeline_key)
