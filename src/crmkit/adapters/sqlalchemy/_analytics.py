"""Analytics pushed down into SQL with SQLAlchemy Core (PostgreSQL, MariaDB/MySQL, SQLite).

:class:`SQLAlchemyAnalytics` implements :class:`crmkit.ports.AnalyticsQueries` on the
``crm_opportunities`` table of a :class:`~crmkit.adapters.sqlalchemy.SQLAlchemyStore` (get one
with ``store.analytics()``): an inner ``SELECT`` puts each deal in its period with a ``CASE``
over the periods' boundaries (the store keeps instants as fixed-width UTC text and dates as ISO
text, so they compare as text) and the outer one groups by owner, stage, stage kind, currency
and period. Amounts are ``NUMERIC`` on PostgreSQL and MariaDB/MySQL, so ``SUM`` is exact there;
on SQLite, where ``NUMERIC`` is stored as a float, the amounts are summed as floats and are
exact only as far as the stored values are.

Example:
    >>> import sqlalchemy
    >>> from datetime import date
    >>> from crmkit.adapters.sqlalchemy import SQLAlchemyStore
    >>> from crmkit.analytics import Periods
    >>> from crmkit.analytics.sales import _example_deals
    >>> engine = sqlalchemy.create_engine("sqlite://")
    >>> store = SQLAlchemyStore(engine)
    >>> with store.unit_of_work() as uow:
    ...     uow.opportunities.add_many(_example_deals())
    ...     _ = uow.commit()
    >>> facts = store.analytics().sales_facts(Periods(date(2026, 3, 1), 2))
    >>> [(g.owner, g.stage, g.deals) for g in facts.groups]  # doctest: +NORMALIZE_WHITESPACE
    [('u_amy', 'lost', 1), ('u_amy', 'proposal', 1), ('u_amy', 'won', 1), ('u_ben', 'won', 1)]
    >>> engine.dispose()

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from crmkit.adapters.sqlalchemy._tables import utc_text
from crmkit.analytics import Periods, SalesFacts, SalesGroup
from crmkit.analytics.sales import _check_scope

if TYPE_CHECKING:
    from crmkit.adapters.sqlalchemy._store import SQLAlchemyStore

__all__ = ["SQLAlchemyAnalytics"]


def _period(column: sa.ColumnElement[Any], bounds: list[str]) -> sa.ColumnElement[Any]:
    whens: list[tuple[Any, Any]] = [(column.is_(None), sa.null()), (column < bounds[0], sa.null())]
    whens += [(column < bound, i) for i, bound in enumerate(bounds[1:])]
    return sa.case(*whens, else_=sa.null())


def _epoch(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """Whole UTC seconds since 1970 of a fixed-width UTC text column."""
    text = sa.func.substr(column, 1, 19)
    if dialect == "postgresql":
        return sa.cast(sa.extract("epoch", sa.cast(text, sa.DateTime())), sa.BigInteger)
    if dialect in ("mysql", "mariadb"):
        return sa.func.timestampdiff(
            sa.literal_column("SECOND"),
            sa.literal("1970-01-01 00:00:00"),
            sa.cast(sa.func.replace(text, "T", " "), sa.DateTime()),
        )
    return sa.cast(sa.func.strftime("%s", text), sa.Integer)


class SQLAlchemyAnalytics:
    """:class:`crmkit.ports.AnalyticsQueries` computed by the database of a SQLAlchemy store.

    Example:
        >>> import sqlalchemy
        >>> from crmkit.adapters.sqlalchemy import SQLAlchemyStore
        >>> from crmkit.ports import AnalyticsQueries
        >>> engine = sqlalchemy.create_engine("sqlite://")
        >>> isinstance(SQLAlchemyAnalytics(SQLAlchemyStore(engine)), AnalyticsQueries)
        True
        >>> engine.dispose()

    .. versionadded:: 0.1.0
    """

    def __init__(self, store: SQLAlchemyStore) -> None:
        self._store = store

    def sales_facts(self, periods: Periods, *, pipeline_key: str | None = None) -> SalesFacts:
        """The stored opportunities reduced to :class:`~crmkit.analytics.SalesFacts` in SQL.

        Example:
            >>> import sqlalchemy
            >>> from datetime import date
            >>> from crmkit.adapters.sqlalchemy import SQLAlchemyStore
            >>> engine = sqlalchemy.create_engine("sqlite://")
            >>> store = SQLAlchemyStore(engine)
            >>> SQLAlchemyAnalytics(store).sales_facts(Periods(date(2026, 1, 1), 1)).groups
            ()
            >>> engine.dispose()
        """
        view = self._store._views.get("opportunities")
        _check_scope(periods, pipeline_key, keeps_deals=view is not None)
        assert view is not None
        t = view.main
        dialect = self._store.engine.dialect.name
        period = sa.case(
            (
                t.c.stage_kind == "open",
                _period(t.c.expected_close_date, [d.isoformat() for d in periods.day_bounds]),
            ),
            else_=_period(t.c.closed_at, [utc_text(b) for b in periods.bounds]),
        )
        won = sa.and_(t.c.stage_kind == "won", t.c.closed_at.is_not(None))
        cycle = sa.case(
            (won, _epoch(t.c.closed_at, dialect) - _epoch(t.c.created_at, dialect)),
            else_=sa.null(),
        )
        inner = sa.select(
            t.c.owner,
            t.c.stage,
            t.c.stage_kind,
            t.c.currency,
            t.c.amount,
            (t.c.amount * t.c.probability).label("weighted"),
            period.label("period"),
            cycle.label("cycle"),
        )
        if pipeline_key is not None:
            inner = inner.where(t.c.pipeline_key == pipeline_key)
        s = inner.subquery("deals")
        keys = (s.c.owner, s.c.stage, s.c.stage_kind, s.c.currency, s.c.period)
        query = sa.select(
            *keys,
            sa.func.count(),
            sa.func.count(s.c.amount),
            sa.func.sum(s.c.amount),
            sa.func.sum(s.c.weighted),
            sa.func.count(s.c.cycle),
            sa.func.sum(s.c.cycle),
        ).group_by(*keys)
        groups = []
        with self._store._transaction("compute sales facts", write=False) as conn:
            for row in conn.execute(query):
                owner, stage, kind, currency, period, *counts = row
                deals, priced, amount, weighted, cycles, seconds = counts
                groups.append(
                    SalesGroup(
                        owner,
                        stage,
                        kind,
                        currency,
                        None if period is None else int(period),
                        int(deals),
                        int(priced),
                        _decimal(amount),
                        _decimal(weighted),
                        int(cycles),
                        int(seconds or 0),
                    )
                )
        return SalesFacts(periods, tuple(groups), pipeline_key)


def _decimal(value: object) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))
