"""Queries over stored records: filters, ordering and cursor pagination, plus record types.

A :class:`RecordType` tells an adapter how to store one aggregate class: its collection name, the
projected fields that queries may filter and sort on, and the document schema version with the
upcasters that bring older documents up to date. :func:`run_query` evaluates a :class:`Query` in
Python (the in-memory adapter uses it; SQL adapters push the same query down to SQL).

Example:
    >>> q = Query.where(status="open").order("-created_at").take(20)
    >>> [(f.field, f.op.value, f.value) for f in q.filters], q.order_by[0].descending, q.limit
    ([('status', 'eq', 'open')], True, 20)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar, get_args

import attrs

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel._enum import StrEnum

__all__ = [
    "FieldKind",
    "Filter",
    "Op",
    "Order",
    "Page",
    "Query",
    "RecordType",
    "Scalar",
    "decode_cursor",
    "encode_cursor",
    "run_query",
]

T = TypeVar("T")
A = TypeVar("A")

#: A value a projected field may hold (tuples are for multi-valued fields such as tags).
Scalar = str | int | bool | Decimal | date | datetime | None | tuple[str, ...]

#: What a projected field holds, so SQL adapters pick its column type: ``text``, ``integer``,
#: ``boolean``, ``datetime`` (aware), ``date``, ``decimal``, or ``multi`` (a tuple of text,
#: such as tags). A field a record type does not declare is ``text``.
FieldKind = Literal["text", "integer", "boolean", "datetime", "date", "decimal", "multi"]

FIELD_KINDS: tuple[str, ...] = get_args(FieldKind)


class Op(StrEnum):
    """Comparison operators a filter may use.

    ``contains`` tests membership in a multi-valued field (tags); ``in`` tests that the field's
    value is one of several; ``startswith`` is a prefix match on text.

    Example:
        >>> Op("eq") is Op.EQ
        True

    .. versionadded:: 0.1.0
    """

    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    IN = "in"
    CONTAINS = "contains"
    STARTSWITH = "startswith"


def _to_op(value: object) -> Op:
    try:
        return Op(value)
    except ValueError:
        allowed = ", ".join(repr(o.value) for o in Op)
        raise ValidationError(f"{value!r} is not an operator ({allowed})", path="op") from None


@attrs.frozen
class Filter:
    """One condition: ``field op value``.

    Example:
        >>> Filter("owner", Op.IN, ("u1", "u2")).op
        <Op.IN: 'in'>

    .. versionadded:: 0.1.0
    """

    field: str
    op: Op = attrs.field(converter=_to_op)
    value: Any


@attrs.frozen
class Order:
    """Sort by ``field``, ascending unless ``descending``; ``None`` sorts before any value.

    Example:
        >>> Order.parse("-name")
        Order(field='name', descending=True)

    .. versionadded:: 0.1.0
    """

    field: str
    descending: bool = False

    @classmethod
    def parse(cls, spec: str) -> Order:
        """Read ``"name"`` or ``"-name"`` (descending)."""
        if not isinstance(spec, str) or not spec.lstrip("-"):
            raise ValidationError(
                f"must be a field name, optionally prefixed by '-', not {spec!r}", path="order_by"
            )
        if spec.startswith("-"):
            return cls(spec[1:], True)
        return cls(spec)


def _check_limit(_instance: object, _attribute: object, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise ValidationError(f"must be an int from 1 to 1000, got {value!r}", path="limit")


@attrs.frozen
class Query:
    """What to fetch: all filters must hold; sorted by ``order_by`` then id; one page at a time.

    Example:
        >>> Query.where(kind="company").filter("tags", "contains", "vip").take(10).limit
        10

    .. versionadded:: 0.1.0
    """

    filters: tuple[Filter, ...] = ()
    order_by: tuple[Order, ...] = ()
    limit: int = attrs.field(default=50, validator=_check_limit)
    cursor: str | None = None

    @classmethod
    def where(cls, **equals: Any) -> Query:
        """Start a query whose fields equal the given values."""
        return cls(filters=tuple(Filter(k, Op.EQ, v) for k, v in equals.items()))

    def filter(self, field: str, op: Op | str, value: Any) -> Query:
        """Return this query with one more condition."""
        return attrs.evolve(self, filters=(*self.filters, Filter(field, _to_op(op), value)))

    def order(self, *specs: str) -> Query:
        """Return this query sorted by ``specs`` (``"name"``, ``"-created_at"``)."""
        return attrs.evolve(self, order_by=tuple(Order.parse(s) for s in specs))

    def take(self, limit: int) -> Query:
        """Return this query with a page size of ``limit``."""
        return attrs.evolve(self, limit=limit)

    def after(self, cursor: str | None) -> Query:
        """Return this query for the page after ``cursor`` (a :attr:`Page.next_cursor`)."""
        return attrs.evolve(self, cursor=cursor)


@attrs.frozen
class Page(Generic[T]):
    """One page of results and the cursor for the next page (``None`` on the last page).

    Example:
        >>> Page(items=("a", "b"), next_cursor=None).items
        ('a', 'b')

    .. versionadded:: 0.1.0
    """

    items: tuple[T, ...]
    next_cursor: str | None = None


@attrs.frozen
class RecordType(Generic[A]):
    """How an aggregate class is stored: collection name, projected fields, schema version.

    ``fields`` maps a queryable field name to a function computing it from the aggregate;
    ``kinds`` names the :data:`FieldKind` of the fields that are not text, so SQL adapters
    choose column types. ``upcasters[n]`` turns a version-``n`` document into a version
    ``n + 1`` document.

    Example:
        >>> import attrs
        >>> @attrs.define
        ... class Note:
        ...     id: str
        ...     text: str
        >>> notes = RecordType("notes", Note, {"text": lambda n: n.text})
        >>> notes.project(Note("n1", "hi"))
        {'text': 'hi'}

    .. versionadded:: 0.1.0
    """

    name: str
    cls: type[A]
    fields: Mapping[str, Callable[[A], Scalar]] = attrs.field(factory=dict)
    schema_version: int = 1
    upcasters: Mapping[int, Callable[[dict[str, Any]], dict[str, Any]]] = attrs.field(factory=dict)
    kinds: Mapping[str, FieldKind] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        for field, kind in self.kinds.items():
            if field not in self.fields:
                raise DefinitionError(
                    f"{self.name}: kinds names {field!r}, which is not a projected field; "
                    f"the fields are {', '.join(self.fields) or 'none'}"
                )
            if kind not in FIELD_KINDS:
                raise DefinitionError(
                    f"{self.name}: {kind!r} is not a field kind for {field!r}; "
                    f"use one of {', '.join(FIELD_KINDS)}"
                )

    def kind(self, field: str) -> FieldKind:
        """Return the kind of projected ``field`` (``"text"`` unless declared).

        Example:
            >>> RecordType("x", dict, {"n": len}, kinds={"n": "integer"}).kind("n")
            'integer'
        """
        return self.kinds.get(field, "text")

    def project(self, aggregate: A) -> dict[str, Scalar]:
        """Compute every projected field of ``aggregate``."""
        return {name: fn(aggregate) for name, fn in self.fields.items()}

    def upcast(self, document: dict[str, Any], version: int) -> dict[str, Any]:
        """Bring ``document`` written at schema ``version`` up to :attr:`schema_version`.

        Example:
            >>> rt = RecordType("x", dict, schema_version=2,
            ...                 upcasters={1: lambda d: {**d, "tags": []}})
            >>> rt.upcast({"id": "x1"}, 1)
            {'id': 'x1', 'tags': []}
        """
        if version > self.schema_version:
            raise ValidationError(
                f"{self.name} document has schema version {version}, newer than this crmkit "
                f"understands ({self.schema_version}); upgrade crmkit",
                path="schema_version",
            )
        while version < self.schema_version:
            step = self.upcasters.get(version)
            if step is None:
                raise ValidationError(
                    f"no upcaster for {self.name} documents from schema version {version}",
                    path="schema_version",
                )
            document = step(document)
            version += 1
        return document

    def check_query(self, query: Query) -> None:
        """Raise a ``ValidationError`` naming any field the query uses that is not projected."""
        known = set(self.fields) | {"id"}
        used = [f.field for f in query.filters] + [o.field for o in query.order_by]
        bad = [name for name in used if name not in known]
        if bad:
            raise ValidationError(
                f"{self.name} cannot be queried by {', '.join(map(repr, bad))}; "
                f"queryable fields are {', '.join(sorted(known))}",
                path="query",
            )


# ----- cursors ----------------------------------------------------------------------------


def _jsonable(value: Scalar) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return {"t": [_jsonable(v) for v in value]}


def _from_jsonable(value: Any) -> Scalar:
    if isinstance(value, dict):
        if "d" in value:
            return Decimal(value["d"])
        if "dt" in value:
            return datetime.fromisoformat(value["dt"])
        if "date" in value:
            return date.fromisoformat(value["date"])
        return tuple(_from_jsonable(v) for v in value["t"])  # type: ignore[misc]
    return value  # type: ignore[no-any-return]


def encode_cursor(values: Sequence[Scalar]) -> str:
    """Encode the sort key of the last row of a page as an opaque, URL-safe cursor.

    Example:
        >>> decode_cursor(encode_cursor(["Acme", "cus_1"]))
        ['Acme', 'cus_1']

    .. versionadded:: 0.1.0
    """
    raw = json.dumps([_jsonable(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Scalar]:
    """Decode a cursor made by :func:`encode_cursor`; a damaged one is a ``ValidationError``.

    Example:
        >>> decode_cursor("not a cursor")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: cursor: is not a cursor this query returned

    .. versionadded:: 0.1.0
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list):
            raise TypeError
        return [_from_jsonable(v) for v in values]
    except (ValueError, TypeError, KeyError, ArithmeticError):
        raise ValidationError("is not a cursor this query returned", path="cursor") from None


# ----- evaluation in Python ----------------------------------------------------------------


def _comparable(value: Any) -> Any:
    # Aware datetimes in one zone compare by wall time, ignoring ``fold``; compare instants.
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    return value


def _sort_key(value: Scalar) -> tuple[int, Any]:
    return (0, 0) if value is None else (1, _comparable(value))


def _matches(row: Mapping[str, Scalar], flt: Filter) -> bool:
    value = _comparable(row.get(flt.field))
    target = _comparable(flt.value)
    try:
        if flt.op is Op.EQ:
            return bool(value == target)
        if flt.op is Op.NE:
            return bool(value != target)
        if flt.op is Op.IN:
            return value in tuple(target)
        if flt.op is Op.CONTAINS:
            return isinstance(value, tuple) and target in value
        if flt.op is Op.STARTSWITH:
            return isinstance(value, str) and value.startswith(str(target))
        if value is None or target is None:
            return False
        if flt.op is Op.LT:
            return bool(value < target)
        if flt.op is Op.LE:
            return bool(value <= target)
        if flt.op is Op.GT:
            return bool(value > target)
        return bool(value >= target)
    except TypeError:
        raise ValidationError(
            f"cannot compare field {flt.field!r} ({type(value).__name__}) with "
            f"{type(target).__name__} {target!r}",
            path=f"query.{flt.field}",
        ) from None


def run_query(rows: Iterable[tuple[str, Mapping[str, Scalar], T]], query: Query) -> Page[T]:
    """Evaluate ``query`` over ``(id, projected fields, item)`` rows in Python.

    Example:
        >>> rows = [(f"c{i}", {"n": i % 3}, f"item{i}") for i in range(8)]
        >>> query = Query.where(n=1).order("-n").take(2)
        >>> page = run_query(rows, query)
        >>> page.items, run_query(rows, query.after(page.next_cursor)).items
        (('item1', 'item4'), ('item7',))

    .. versionadded:: 0.1.0
    """
    selected = [r for r in rows if all(_matches({**r[1], "id": r[0]}, f) for f in query.filters)]

    def key_values(row: tuple[str, Mapping[str, Scalar], T]) -> list[Scalar]:
        return [row[1].get(o.field) if o.field != "id" else row[0] for o in query.order_by] + [
            row[0]
        ]

    orders = [*query.order_by, Order("id")]
    try:
        for position in reversed(range(len(orders))):
            selected.sort(
                key=lambda r, p=position: _sort_key(key_values(r)[p]),  # type: ignore[misc]
                reverse=orders[position].descending,
            )
    except TypeError:
        raise ValidationError(
            "cannot sort: a field holds values of different types", path="query.order_by"
        ) from None
    if query.cursor is not None:
        after = decode_cursor(query.cursor)
        if len(after) != len(orders):
            raise ValidationError("is not a cursor this query returned", path="cursor")
        try:
            selected = [r for r in selected if _after(key_values(r), after, orders)]
        except TypeError:
            raise ValidationError("is not a cursor this query returned", path="cursor") from None
    page = selected[: query.limit]
    more = len(selected) > query.limit
    cursor = encode_cursor(key_values(page[-1])) if more and page else None
    return Page(items=tuple(r[2] for r in page), next_cursor=cursor)


def _after(values: list[Scalar], cursor: list[Scalar], orders: list[Order]) -> bool:
    for value, mark, order in zip(values, cursor, orders, strict=True):
        a, b = _sort_key(value), _sort_key(mark)
        if a == b:
            continue
        return (a < b) if order.descending else (a > b)
    return False
