"""Turn a :class:`~crmkit.kernel.query.Query` into portable SQLAlchemy Core expressions.

The semantics are those of :func:`crmkit.kernel.query.run_query` (the in-memory adapter's):
``None`` sorts before every value (so last when descending), a comparison with ``None`` or with a
value of another type matches nothing, ``ne`` matches ``None``, ordering comparisons between
incompatible types are a ``ValidationError``, and ties are broken by id. Multi-valued fields live
in side tables, so ``contains`` is an ``EXISTS`` subquery on every dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from crmkit.adapters.sqlalchemy._tables import fits, out_of_range, python_type_name, to_column
from crmkit.errors import ValidationError
from crmkit.kernel.query import Filter, Op, Order, decode_cursor

__all__ = ["TableView"]


class TableView:
    """One record type's tables, with the SQL for its queries."""

    def __init__(self, main: sa.Table, sides: dict[str, sa.Table]) -> None:
        self.main = main
        self.sides = sides
        self.kinds: dict[str, str] = {"id": "text"}
        for column in main.columns:
            if column.name not in {"id", "version", "schema_version", "document"}:
                self.kinds[column.name] = str(column.info.get("crmkit_kind", "text"))
        for field in sides:
            self.kinds[field] = "multi"

    # ----- filters ---------------------------------------------------------------------------
    def where(self, flt: Filter) -> ColumnElement[bool]:
        """The condition for one filter."""
        kind = self.kinds[flt.field]
        if kind == "multi":
            return self._multi(flt)
        col = self.main.c[flt.field]
        value = flt.value
        op = flt.op
        if op is Op.EQ:
            return self._eq(col, kind, value)
        if op is Op.NE:
            if value is None:
                return col.is_not(None)
            if not fits(kind, value):
                return sa.true()
            return sa.or_(col.is_(None), sa.not_(self._eq(col, kind, value)))
        if op is Op.IN:
            options = _options(flt)
            return sa.or_(sa.false(), *(self._eq(col, kind, v) for v in options))
        if op is Op.CONTAINS:
            return sa.false()
        if op is Op.STARTSWITH:
            if kind != "text":
                return sa.false()
            prefix = str(value)
            # The length test keeps PAD SPACE collations (MySQL/MariaDB) from matching "Acme"
            # to the prefix "Acme ".
            return sa.and_(
                sa.func.substr(col, 1, len(prefix)) == prefix,
                sa.func.char_length(col) >= len(prefix),
            )
        if value is None:
            return sa.false()
        if not fits(kind, value):
            raise _incomparable(flt, kind)
        beyond = out_of_range(kind, value)
        if beyond:  # every stored value is above (-1) or below (1) it
            below = (beyond == 1) == (op in {Op.LT, Op.LE})
            return col.is_not(None) if below else sa.false()
        # A bound parameter of the column's type (``col < True`` would be refused as a constant).
        target = sa.literal(to_column(kind, value), type_=col.type)
        compared: ColumnElement[bool]
        if op is Op.LT:
            compared = col < target
        elif op is Op.LE:
            compared = col <= target
        elif op is Op.GT:
            compared = col > target
        else:
            compared = col >= target
        return compared

    @staticmethod
    def _eq(col: sa.Column[Any], kind: str, value: Any) -> ColumnElement[bool]:
        if value is None:
            return col.is_(None)
        if not fits(kind, value) or out_of_range(kind, value):
            return sa.false()
        equal: ColumnElement[bool] = col == sa.literal(to_column(kind, value), type_=col.type)
        if kind == "text" and col.name != "id":
            # PAD SPACE collations (MySQL/MariaDB) take "Acme" = "Acme "; Python does not.
            return sa.and_(equal, sa.func.char_length(col) == len(value))
        return equal

    def _multi(self, flt: Filter) -> ColumnElement[bool]:
        side = self.sides[flt.field]
        op, value = flt.op, flt.value
        if op is Op.CONTAINS:
            if not isinstance(value, str):
                return sa.false()
            return self._has(side, value)
        if op is Op.EQ:
            return self._same_set(side, value)
        if op is Op.NE:
            return sa.not_(self._same_set(side, value))
        if op is Op.IN:
            return sa.or_(sa.false(), *(self._same_set(side, v) for v in _options(flt)))
        if op is Op.STARTSWITH:
            return sa.false()
        if value is None:
            return sa.false()
        raise _incomparable(flt, "multi")

    def _has(self, side: sa.Table, value: str) -> ColumnElement[bool]:
        return sa.exists().where(side.c.id == self.main.c.id, side.c.value == value)

    def _same_set(self, side: sa.Table, value: Any) -> ColumnElement[bool]:
        """The field holds exactly the values of the tuple ``value`` (as a set)."""
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            return sa.false()
        wanted = sorted(set(value))
        others = sa.exists().where(side.c.id == self.main.c.id)
        if wanted:
            others = others.where(side.c.value.not_in(wanted))
        return sa.and_(sa.not_(others), *(self._has(side, v) for v in wanted))

    # ----- order and cursors ------------------------------------------------------------------
    def check_orders(self, orders: Sequence[Order]) -> None:
        """Refuse sorting by a multi-valued field (it has no single value to sort by)."""
        for order in orders:
            if self.kinds[order.field] == "multi":
                raise ValidationError(
                    f"cannot sort by {order.field!r}: it holds several values; filter it with "
                    "'contains' instead",
                    path="query",
                )

    def order_by(self, orders: Sequence[Order]) -> list[ColumnElement[Any]]:
        """ORDER BY terms: ``None`` first ascending, last descending, on every dialect."""
        terms: list[ColumnElement[Any]] = []
        for order in orders:
            col = self.main.c[order.field]
            if order.field != "id":
                present = sa.case((col.is_(None), 0), else_=1)
                terms.append(present.desc() if order.descending else present.asc())
            terms.append(col.desc() if order.descending else col.asc())
        return terms

    def after(self, orders: Sequence[Order], cursor: str) -> ColumnElement[bool]:
        """Keyset condition: rows strictly after the cursor's position in ``orders``."""
        marks = decode_cursor(cursor)
        if len(marks) != len(orders):
            raise _bad_cursor()
        values: list[Any] = []
        for order, mark in zip(orders, marks, strict=True):
            kind = self.kinds[order.field]
            if mark is None and order.field != "id":
                values.append(None)
            elif fits(kind, mark) and not out_of_range(kind, mark):
                column_type = self.main.c[order.field].type
                values.append(sa.literal(to_column(kind, mark), type_=column_type))
            else:
                raise _bad_cursor()
        alternatives: list[ColumnElement[bool]] = []
        for i, order in enumerate(orders):
            parts: list[ColumnElement[bool]] = []
            for prev, value in zip(orders[:i], values[:i], strict=True):
                prev_col = self.main.c[prev.field]
                parts.append(prev_col.is_(None) if value is None else prev_col == value)
            col, value = self.main.c[order.field], values[i]
            if not order.descending:
                parts.append(col.is_not(None) if value is None else col > value)
            elif value is None:
                parts.append(sa.false())
            else:
                parts.append(sa.or_(col.is_(None), col < value))
            alternatives.append(sa.and_(*parts))
        return sa.or_(*alternatives)


def _options(flt: Filter) -> list[Any]:
    value = flt.value
    try:
        return list(value)
    except TypeError:
        raise ValidationError(
            f"'in' needs a list of values for field {flt.field!r}, not "
            f"{type(value).__name__} {value!r}",
            path=f"query.{flt.field}",
        ) from None


def _incomparable(flt: Filter, kind: str) -> ValidationError:
    return ValidationError(
        f"cannot compare field {flt.field!r} ({python_type_name(kind)}) with "
        f"{type(flt.value).__name__} {flt.value!r}",
        path=f"query.{flt.field}",
    )


def _bad_cursor() -> ValidationError:
    return ValidationError("is not a cursor this query returned", path="cursor")
