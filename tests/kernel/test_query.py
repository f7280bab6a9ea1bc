"""Queries: filters, ordering and cursor pagination in Python; record types and upcasting."""

from __future__ import annotations

import base64
import functools
import math
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import CRMError, ValidationError
from crmkit.kernel.query import (
    Filter,
    Op,
    Order,
    Page,
    Query,
    RecordType,
    Scalar,
    decode_cursor,
    encode_cursor,
    run_query,
)

Row = tuple[str, Mapping[str, Scalar], str]

_WHEN = [
    datetime(2026, 1, 1, tzinfo=timezone.utc),
    datetime(2026, 1, 1, 8, tzinfo=ZoneInfo("Asia/Taipei")),  # the same instant as above
    datetime(2026, 7, 1, 12, tzinfo=ZoneInfo("Asia/Taipei")),
    datetime(2026, 3, 8, 3, 30, tzinfo=ZoneInfo("America/New_York")),
]
_TAGS = ["vip", "b2b", "taipei"]


@st.composite
def _rows(draw: st.DrawFn, max_size: int = 30) -> list[Row]:
    row_ids = draw(
        st.lists(st.text("abcdef0123", min_size=1, max_size=4), unique=True, max_size=max_size)
    )
    rows: list[Row] = []
    for row_id in row_ids:
        fields: dict[str, Scalar] = {
            "n": draw(st.none() | st.integers(-3, 3)),
            "s": draw(st.none() | st.sampled_from(["", "a", "ab", "b", "Ba"])),
            "d": draw(
                st.sampled_from([Decimal("0"), Decimal("1.50"), Decimal("1.5"), Decimal("-2")])
            ),
            "flag": draw(st.booleans()),
            "tags": tuple(draw(st.lists(st.sampled_from(_TAGS), unique=True))),
            "when": draw(st.none() | st.sampled_from(_WHEN)),
        }
        rows.append((row_id, fields, f"item-{row_id}"))
    return rows


_FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "n": st.integers(-3, 3),
    "s": st.sampled_from(["", "a", "ab", "b", "Ba"]),
    "d": st.sampled_from([Decimal("0"), Decimal("1.5"), Decimal("-2")]),
    "flag": st.booleans(),
    "when": st.sampled_from(_WHEN),
}


@st.composite
def _filters(draw: st.DrawFn) -> Filter:
    op = draw(st.sampled_from(Op))
    if op is Op.CONTAINS:
        return Filter("tags", op, draw(st.sampled_from(_TAGS)))
    if op is Op.STARTSWITH:
        return Filter("s", op, draw(st.sampled_from(["", "a", "B"])))
    field = draw(st.sampled_from(sorted(_FIELD_VALUES)))
    values = _FIELD_VALUES[field]
    if op is Op.IN:
        return Filter(field, op, tuple(draw(st.lists(values, max_size=3))))
    return Filter(field, op, draw(values))


def _oracle(value: Any, flt: Filter) -> bool:
    target = flt.value
    if flt.op is Op.EQ:
        return bool(value == target)
    if flt.op is Op.NE:
        return bool(value != target)
    if flt.op is Op.IN:
        return any(value == t for t in target)
    if flt.op is Op.CONTAINS:
        return target in value
    if flt.op is Op.STARTSWITH:
        return isinstance(value, str) and value.startswith(target)
    if value is None:
        return False
    return bool(
        {
            Op.LT: value < target,
            Op.LE: value <= target,
            Op.GT: value > target,
            Op.GE: value >= target,
        }[flt.op]
    )


def _all_pages(rows: list[Row], query: Query) -> tuple[list[str], int]:
    page = run_query(rows, query)
    items, count = list(page.items), 1
    while page.next_cursor is not None:
        assert page.items, "a page with a next cursor is never empty"
        page = run_query(rows, query.after(page.next_cursor))
        items += page.items
        count += 1
    return items, count


def _utc(value: Any) -> Any:
    return value.astimezone(timezone.utc) if isinstance(value, datetime) else value


def _expected_order(rows: list[Row], orders: tuple[Order, ...]) -> list[str]:
    def compare(a: Row, b: Row) -> int:
        for order in (*orders, Order("id")):
            x = a[0] if order.field == "id" else _utc(a[1].get(order.field))
            y = b[0] if order.field == "id" else _utc(b[1].get(order.field))
            if x == y:
                continue
            if x is None:  # None sorts before any value
                result = -1
            elif y is None:
                result = 1
            else:
                result = -1 if x < y else 1
            return -result if order.descending else result
        return 0

    return [r[2] for r in sorted(rows, key=functools.cmp_to_key(compare))]


# ----- building queries ------------------------------------------------------------------------


def test_query_builders() -> None:
    q = Query.where(status="open").filter("tags", "contains", "vip").order("-created_at", "name")
    assert q.filters == (Filter("status", Op.EQ, "open"), Filter("tags", Op.CONTAINS, "vip"))
    assert q.order_by == (Order("created_at", True), Order("name", False))
    assert q.take(5).limit == 5
    assert q.after("abc").cursor == "abc"
    assert q.limit == 50 and q.cursor is None


def test_order_parse() -> None:
    assert Order.parse("name") == Order("name")
    assert Order.parse("-name") == Order("name", descending=True)


@pytest.mark.parametrize("limit", [0, 1001, -1, "10", 2.0, True, None])
def test_limit_must_be_an_int_from_1_to_1000(limit: object) -> None:
    with pytest.raises(ValidationError) as info:
        Query(limit=limit)  # type: ignore[arg-type]
    assert info.value.errors[0].path == "limit"


@pytest.mark.parametrize(
    "build",
    [
        lambda: Filter("n", "bogus", 1),
        lambda: Query().filter("n", "bogus", 1),
        lambda: Query().order(5),  # type: ignore[arg-type]
    ],
    ids=["Filter(op)", "Query.filter(op)", "Query.order(int)"],
)
def test_malformed_query_parts_are_validation_errors(build: Any) -> None:
    with pytest.raises(ValidationError):
        build()


# ----- filtering -------------------------------------------------------------------------------


@given(rows=_rows(), filters=st.lists(_filters(), max_size=3))
def test_filtering_equals_a_list_comprehension(rows: list[Row], filters: list[Filter]) -> None:
    query = Query(filters=tuple(filters), limit=1000)
    expected = sorted(
        (r for r in rows if all(_oracle(r[1].get(f.field), f) for f in filters)),
        key=lambda r: r[0],
    )
    assert run_query(rows, query).items == tuple(r[2] for r in expected)


def test_comparing_incomparable_values_is_a_validation_error_naming_the_field() -> None:
    rows: list[Row] = [("a", {"n": 1}, "a")]
    with pytest.raises(ValidationError) as info:
        run_query(rows, Query().filter("n", "lt", "x"))
    assert info.value.errors[0].path == "query.n"


def test_a_missing_field_is_none() -> None:
    rows: list[Row] = [("a", {}, "a"), ("b", {"owner": "u1"}, "b")]
    assert run_query(rows, Query.where(owner=None)).items == ("a",)
    assert run_query(rows, Query().filter("owner", "gt", "a")).items == ("b",)


# ----- ordering and paging ---------------------------------------------------------------------


_orders = st.lists(
    st.builds(Order, st.sampled_from(["n", "s", "d", "flag", "tags", "when", "id"]), st.booleans()),
    max_size=3,
    unique_by=lambda o: o.field,
).map(tuple)


@given(rows=_rows(), orders=_orders, limit=st.integers(1, 12))
@settings(max_examples=200)
def test_paging_returns_every_match_exactly_once_in_sorted_order(
    rows: list[Row], orders: tuple[Order, ...], limit: int
) -> None:
    query = Query(order_by=orders, limit=limit)
    items, pages = _all_pages(rows, query)
    assert items == _expected_order(rows, orders)
    assert pages == max(1, math.ceil(len(rows) / limit))


@given(
    rows=_rows(), filters=st.lists(_filters(), max_size=2), orders=_orders, limit=st.integers(1, 5)
)
@settings(max_examples=100)
def test_paging_through_a_filtered_query(
    rows: list[Row], filters: list[Filter], orders: tuple[Order, ...], limit: int
) -> None:
    query = Query(filters=tuple(filters), order_by=orders, limit=limit)
    items, _ = _all_pages(rows, query)
    everything = run_query(rows, attrs.evolve(query, limit=1000)).items
    assert tuple(items) == everything
    assert len(set(items)) == len(items)


def test_paging_with_an_ambiguous_new_york_time_as_the_sort_key() -> None:
    # 01:30 on 2026-11-01 happens twice in New York; fold=1 is the second (EST) one. Every row
    # has the same instant, so the id decides the order and paging must still see all five.
    when = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York"))
    rows: list[Row] = [(f"c{i}", {"when": when}, f"c{i}") for i in range(5)]
    items, _ = _all_pages(rows, Query().order("when").take(2))
    assert items == ["c0", "c1", "c2", "c3", "c4"]


def test_descending_puts_none_last() -> None:
    rows: list[Row] = [("a", {"n": None}, "a"), ("b", {"n": 2}, "b"), ("c", {"n": 1}, "c")]
    assert run_query(rows, Query().order("n")).items == ("a", "c", "b")
    assert run_query(rows, Query().order("-n")).items == ("b", "c", "a")


def test_page_on_an_empty_collection() -> None:
    assert run_query([], Query()) == Page(items=(), next_cursor=None)


def test_cursors_round_trip_their_values() -> None:
    values: list[Scalar] = [
        "Acme",
        3,
        True,
        None,
        Decimal("1.50"),
        datetime(2026, 1, 1, 8, tzinfo=timezone.utc),
        ("a", "b"),
    ]
    assert decode_cursor(encode_cursor(values)) == values


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "",
        _b64(b"{}"),
        _b64(b"[1]"),
        _b64(b'[{"x": 1}]'),
        _b64(b'[{"dt": "bad"}]'),
        _b64(b'[{"d": "bad"}]'),
        _b64(b'[{"d": 5}]'),
        _b64(b'[{"t": 5}]'),
        _b64(b'[{"date": "2026-13-01"}]'),
        _b64(b"not json"),
    ],
)
def test_a_damaged_cursor_is_a_validation_error(cursor: str) -> None:
    rows: list[Row] = [(f"c{i}", {"n": i}, f"c{i}") for i in range(5)]
    with pytest.raises(ValidationError) as info:
        run_query(rows, Query().order("n").take(2).after(cursor))
    assert info.value.errors[0].path == "cursor"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (Query().order("n").take(2), Query().order("s").take(2)),
        (Query().order("n").take(2), Query().order("n", "s").take(2)),
        (Query().order("s").take(2), Query().order("tags").take(2)),
        (Query().order("n").take(2), Query().take(2)),
    ],
    ids=["other-field", "more-fields", "text-vs-tuple", "fewer-fields"],
)
def test_a_cursor_from_another_query_is_a_validation_error(first: Query, second: Query) -> None:
    rows: list[Row] = [(f"c{i}", {"n": i, "s": f"s{i}", "tags": ("t",)}, f"c{i}") for i in range(5)]
    cursor = run_query(rows, first).next_cursor
    assert cursor is not None
    with pytest.raises(ValidationError) as info:
        run_query(rows, second.after(cursor))
    assert info.value.errors[0].path == "cursor"


def test_sorting_a_field_holding_values_of_different_types_is_a_crm_error() -> None:
    rows: list[Row] = [("a", {"v": "x"}, "a"), ("b", {"v": 2}, "b")]
    with pytest.raises(CRMError):
        run_query(rows, Query().order("v"))


# ----- record types ----------------------------------------------------------------------------


@attrs.define
class _Note:
    id: str
    text: str


NOTES: RecordType[_Note] = RecordType(
    "notes",
    _Note,
    {"text": lambda n: n.text, "length": lambda n: len(n.text)},
    schema_version=3,
    upcasters={
        1: lambda d: {**d, "tags": []},
        2: lambda d: {**d, "text": d.get("body", ""), "v": 3},
    },
)


def test_project_computes_every_field() -> None:
    assert NOTES.project(_Note("n1", "hello")) == {"text": "hello", "length": 5}


def test_upcast_chains_every_step_up_to_the_current_version() -> None:
    assert NOTES.upcast({"id": "n1", "body": "hi"}, 1) == {
        "id": "n1",
        "body": "hi",
        "tags": [],
        "text": "hi",
        "v": 3,
    }
    assert NOTES.upcast({"id": "n1", "body": "hi", "tags": ["x"]}, 2)["tags"] == ["x"]
    current = {"id": "n1", "text": "hi"}
    assert NOTES.upcast(current, 3) == current


def test_upcast_refuses_a_document_newer_than_known() -> None:
    with pytest.raises(ValidationError, match="newer than this crmkit understands") as info:
        NOTES.upcast({"id": "n1"}, 4)
    assert info.value.errors[0].path == "schema_version"


def test_upcast_refuses_a_version_without_an_upcaster() -> None:
    gappy: RecordType[_Note] = RecordType(
        "notes", _Note, schema_version=3, upcasters={2: lambda d: d}
    )
    with pytest.raises(
        ValidationError, match="no upcaster for notes documents from schema version 1"
    ):
        gappy.upcast({"id": "n1"}, 1)


def test_check_query_names_unknown_fields() -> None:
    NOTES.check_query(Query.where(text="hi").order("-length", "id"))
    with pytest.raises(ValidationError, match="'colour'") as info:
        NOTES.check_query(Query.where(colour="red"))
    assert info.value.errors[0].path == "query"
    with pytest.raises(ValidationError, match="'size'"):
        NOTES.check_query(Query().order("size"))
