"""The cattrs converter: JSON round trips for every public attrs class, and malformed input."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.customers import Channel, Contact, Customer, CustomerKind, Interaction
from crmkit.customers import events as customer_events
from crmkit.errors import CRMError, FieldError, NaiveDatetimeError, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money
from crmkit.kernel.query import Filter, Op, Order, Query
from crmkit.ports import Notification, OutboxEntry
from crmkit.serialization import (
    default_converter,
    from_json,
    make_converter,
    structure,
    to_json,
    unstructure,
)
from crmkit.testing.strategies import (
    contacts,
    customers,
    domain_events,
    ids,
    interactions,
    money,
    queries,
)

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=ZoneInfo("Asia/Taipei"))
VERSIONS = st.integers(0, 10**6)

# ----- helpers ---------------------------------------------------------------------------------


def _assert_round_trips(obj: Any, as_type: type) -> Any:
    text = to_json(obj)
    json.loads(text)  # it is JSON
    back: Any = from_json(text, as_type)
    assert type(back) is type(obj)
    assert to_json(back) == text
    assert back == obj
    return back


def _attempt(call: Callable[[], Any]) -> tuple[Any, CRMError | None]:
    """Run ``call``; return its result, or the crmkit error it raised (anything else escapes)."""
    try:
        return call(), None
    except CRMError as exc:
        return None, exc


def _paths(error: ValidationError) -> list[str]:
    return [e.path for e in error.errors]


# ----- the documented JSON shapes ---------------------------------------------------------------


def test_money_is_an_object_with_a_string_amount() -> None:
    assert unstructure(Money("12.30", "TWD")) == {"amount": "12.30", "currency": "TWD"}
    assert to_json(Money("100", "TWD")) == '{"amount":"100","currency":"TWD"}'


def test_datetimes_are_iso_8601_with_their_offset_and_iana_zone_and_dates_are_iso() -> None:
    assert unstructure(NOW) == "2026-01-05T09:30:00+08:00[Asia/Taipei]"
    back = structure("2026-01-05T09:30:00+08:00[Asia/Taipei]", datetime)
    assert back == NOW and back.tzinfo == ZoneInfo("Asia/Taipei")
    fixed = datetime(2026, 1, 5, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    assert unstructure(fixed) == "2026-01-05T09:30:00+08:00"  # no zone, no suffix
    assert structure("2026-01-05T09:30:00+08:00", datetime) == NOW
    assert unstructure(date(1990, 4, 1)) == "1990-04-01"


def test_the_zone_suffix_keeps_the_instant_and_the_zone() -> None:
    # An offset that disagrees with the zone: the instant wins, shown in the zone.
    back = structure("2026-01-05T09:30:00+09:00[Asia/Taipei]", datetime)
    assert back == datetime(2026, 1, 5, 8, 30, tzinfo=ZoneInfo("Asia/Taipei"))
    assert back.tzinfo == ZoneInfo("Asia/Taipei")


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-05T09:30:00+08:00[Mars/Olympus]",
        "2026-01-05T09:30:00+08:00[]",
        "2026-01-05T09:30:00[Asia/Taipei]",
        "2026-01-05T09:30:00+08:00[Asia/Taipei",
        "[Asia/Taipei]",
        "2026-01-05T09:30:00+08:00[../../etc/passwd]",
    ],
)
def test_a_bad_zone_suffix_is_a_validation_error(text: str) -> None:
    with pytest.raises(ValidationError):
        structure(text, datetime)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-05T01:30:00Z", NOW),
        ("2026-01-05T01:30:00.5Z", NOW + timedelta(milliseconds=500)),
        ("2026-01-05T09:30:00.1234+08:00", NOW + timedelta(microseconds=123400)),
    ],
)
def test_common_iso_forms_are_read_on_every_supported_python(text: str, expected: datetime) -> None:
    # JavaScript's toISOString() writes "Z"; Python 3.10's fromisoformat reads neither "Z" nor
    # fractions other than 3 or 6 digits.
    assert structure(text, datetime) == expected


def test_enums_by_value_tuples_as_lists_and_non_ascii_kept() -> None:
    c = Customer(
        id="cus_1", name="台積電", kind=CustomerKind.COMPANY, created_at=NOW, tags=["VIP", "台北"]
    )
    data = unstructure(c)
    assert data == {
        "id": "cus_1",
        "version": 0,
        "name": "台積電",
        "kind": "company",
        "created_at": "2026-01-05T09:30:00+08:00[Asia/Taipei]",
        "tags": ["vip", "台北"],
        "source": None,
        "owner": None,
        "lifecycle": "prospect",
        "address": None,
        "merged_into": None,
        "external_id": None,
    }
    assert "台積電" in to_json(c)


def test_pending_events_are_not_serialised() -> None:
    c = Customer.register(id="cus_1", name="Acme", kind="company", now=NOW)
    assert c.pending_events
    back = from_json(to_json(c), Customer)
    assert back.pending_events == ()
    assert "events" not in unstructure(c)


def test_events_carry_their_type_tag() -> None:
    e = customer_events.CustomerRenamed(
        aggregate_id="cus_1", occurred_at=NOW, old_name="A", new_name="B", event_id="e1"
    )
    assert unstructure(e) == {
        "event_type": "customers.CustomerRenamed",
        "aggregate_id": "cus_1",
        "occurred_at": "2026-01-05T09:30:00+08:00[Asia/Taipei]",
        "actor": None,
        "aggregate_version": 0,
        "event_id": "e1",
        "old_name": "A",
        "new_name": "B",
    }


def test_a_list_of_mixed_events_round_trips_through_the_base_class() -> None:
    events: list[DomainEvent] = [
        customer_events.CustomerRenamed(
            aggregate_id="c", occurred_at=NOW, old_name="A", new_name="B"
        ),
        customer_events.CustomerTagged(aggregate_id="c", occurred_at=NOW, added=("vip",)),
    ]
    back = structure(unstructure(events), list[DomainEvent])
    assert back == events
    assert [type(e) for e in back] == [type(e) for e in events]


def test_an_event_of_another_type_is_refused_for_a_specific_class() -> None:
    e = customer_events.CustomerTagged(aggregate_id="c", occurred_at=NOW, added=("vip",))
    with pytest.raises(ValidationError) as info:
        from_json(to_json(e), customer_events.CustomerRenamed)
    assert _paths(info.value) == ["event_type"]


def test_default_converter_is_shared_and_make_converter_builds_a_new_one() -> None:
    assert default_converter() is default_converter()
    assert make_converter() is not default_converter()


# ----- round trips -----------------------------------------------------------------------------


@given(money(exact=False) | money())
def test_money_round_trips(m: Money) -> None:
    back = _assert_round_trips(m, Money)
    assert str(back.amount) == str(m.amount)  # not only equal: the same digits


@given(customers(versions=VERSIONS))
def test_customer_round_trips(c: Customer) -> None:
    _assert_round_trips(c, Customer)


@given(contacts(versions=VERSIONS))
def test_contact_round_trips(c: Contact) -> None:
    _assert_round_trips(c, Contact)


@given(interactions(versions=VERSIONS))
def test_interaction_round_trips(i: Interaction) -> None:
    _assert_round_trips(i, Interaction)


@given(domain_events())
def test_every_customers_event_round_trips_through_the_base_class(event: DomainEvent) -> None:
    back = _assert_round_trips(event, DomainEvent)
    assert back.event_type == event.event_type
    _assert_round_trips(event, type(event))


@given(st.builds(OutboxEntry, position=st.integers(0, 10**9), event=domain_events()))
def test_outbox_entry_round_trips(entry: OutboxEntry) -> None:
    _assert_round_trips(entry, OutboxEntry)


# Hypothesis checks that a recursive strategy's `extend` uses its argument by validating the
# result once; when the same child strategy was already validated elsewhere in the session
# (strategies are cached), the check misses the use and warns. Our `extend`s plainly use it.
pytestmark = pytest.mark.filterwarnings(
    "ignore:extend=.*doesn't use it's argument:hypothesis.errors.HypothesisDeprecationWarning"
)

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    st.builds(
        Notification,
        recipient=st.text(min_size=1, max_size=30),
        channel=st.sampled_from([c.value for c in Channel]),
        template=st.text(min_size=1, max_size=30),
        locale=st.sampled_from(["en", "zh_Hant_TW", "zh_Hans_CN"]),
        context=st.dictionaries(st.text(max_size=8), _json, max_size=4),
        idempotency_key=st.text(max_size=20),
    )
)
def test_notification_round_trips(n: Notification) -> None:
    _assert_round_trips(n, Notification)


@given(st.builds(FieldError, st.text(max_size=20), st.text(max_size=40)))
def test_field_error_round_trips(fe: FieldError) -> None:
    _assert_round_trips(fe, FieldError)


@given(st.builds(Order, st.text(min_size=1, max_size=10), st.booleans()))
def test_order_round_trips(order: Order) -> None:
    _assert_round_trips(order, Order)


@given(
    st.builds(
        Query,
        filters=st.lists(
            st.builds(
                Filter,
                st.text(min_size=1, max_size=8),
                st.sampled_from(Op),
                st.none() | st.booleans() | st.integers() | st.text(max_size=8),
            ),
            max_size=3,
        ).map(tuple),
        order_by=st.lists(
            st.builds(Order, st.text(min_size=1, max_size=8), st.booleans()), max_size=2
        ).map(tuple),
        limit=st.integers(1, 1000),
        cursor=st.none() | st.text(min_size=1, max_size=20),
    )
)
def test_query_with_json_scalar_values_round_trips(query: Query) -> None:
    _assert_round_trips(query, Query)


@given(queries())
@settings(max_examples=200)
def test_any_query_round_trips(query: Query) -> None:
    # Filter values may be Decimal, date, datetime or a tuple (for "in"): a saved segment must
    # come back with the same values, not with strings and lists.
    _assert_round_trips(query, Query)


@pytest.mark.parametrize("fold", [0, 1])
def test_an_ambiguous_new_york_time_round_trips_equal(fold: int) -> None:
    # 01:30 on 2026-11-01 happens twice in New York; fold=1 is the second (EST) one. Python's
    # == says False between it and any datetime in another zone (a bare -05:00 offset, say), so
    # the zone itself must come back for the customer read back to equal the one written.
    created = datetime(2026, 11, 1, 1, 30, fold=fold, tzinfo=ZoneInfo("America/New_York"))
    c = Customer(id="cus_1", name="Acme", kind="company", created_at=created)
    back = from_json(to_json(c), Customer)
    assert back.created_at.timestamp() == created.timestamp()
    assert back.created_at.fold == fold
    assert back == c


# ----- malformed input -------------------------------------------------------------------------

_CUSTOMER = {
    "id": "cus_1",
    "name": "Acme",
    "kind": "company",
    "created_at": "2026-01-05T09:30:00+08:00",
}
_CONTACT = {
    "id": "con_1",
    "customer_id": "cus_1",
    "name": "Amy",
    "emails": ["amy@example.com"],
    "phones": ["+886912345678"],
}
_INTERACTION = {
    "id": "int_1",
    "customer_id": "cus_1",
    "kind": "call",
    "occurred_at": "2026-01-05T09:30:00+08:00",
    "summary": "hi",
}
_EVENT = {
    "event_type": "customers.CustomerRenamed",
    "aggregate_id": "cus_1",
    "occurred_at": "2026-01-05T09:30:00+08:00",
    "old_name": "A",
    "new_name": "B",
}

_MALFORMED: list[tuple[str, type, Any, list[str]]] = [
    # money
    ("money float amount", Money, {"amount": 12.3, "currency": "TWD"}, ["amount"]),
    ("money unknown currency", Money, {"amount": "1", "currency": "XXQ"}, ["currency"]),
    ("money lowercase currency", Money, {"amount": "1", "currency": "twd"}, ["currency"]),
    ("money missing currency", Money, {"amount": "1"}, ["currency"]),
    ("money extra key", Money, {"amount": "1", "currency": "TWD", "x": 1}, ["x"]),
    ("money as a string", Money, "12.3 TWD", [""]),
    ("money nan", Money, {"amount": "NaN", "currency": "TWD"}, ["amount"]),
    ("money bool amount", Money, {"amount": True, "currency": "TWD"}, ["amount"]),
    # customers
    (
        "customer naive created_at",
        Customer,
        {**_CUSTOMER, "created_at": "2026-01-05T09:30:00"},
        ["created_at"],
    ),
    ("customer not a datetime", Customer, {**_CUSTOMER, "created_at": "yesterday"}, ["created_at"]),
    (
        "customer created_at number",
        Customer,
        {**_CUSTOMER, "created_at": 1767576600},
        ["created_at"],
    ),
    ("customer created_at null", Customer, {**_CUSTOMER, "created_at": None}, ["created_at"]),
    ("customer empty name", Customer, {**_CUSTOMER, "name": "  "}, ["name"]),
    ("customer name number", Customer, {**_CUSTOMER, "name": 5}, ["name"]),
    ("customer name too long", Customer, {**_CUSTOMER, "name": "x" * 201}, ["name"]),
    ("customer unknown kind", Customer, {**_CUSTOMER, "kind": "alien"}, ["kind"]),
    ("customer unknown lifecycle", Customer, {**_CUSTOMER, "lifecycle": "dead"}, ["lifecycle"]),
    ("customer tag number", Customer, {**_CUSTOMER, "tags": ["vip", 1]}, ["tags[1]"]),
    ("customer tags null", Customer, {**_CUSTOMER, "tags": None}, ["tags"]),
    ("customer tags a string", Customer, {**_CUSTOMER, "tags": "vip"}, ["tags"]),
    ("customer version string", Customer, {**_CUSTOMER, "version": "1"}, ["version"]),
    ("customer version float", Customer, {**_CUSTOMER, "version": 1.0}, ["version"]),
    ("customer version bool", Customer, {**_CUSTOMER, "version": True}, ["version"]),
    ("customer version negative", Customer, {**_CUSTOMER, "version": -1}, ["version"]),
    ("customer owner with space", Customer, {**_CUSTOMER, "owner": "a b"}, ["owner"]),
    ("customer extra key", Customer, {**_CUSTOMER, "colour": "red"}, ["colour"]),
    (
        "customer missing name",
        Customer,
        {k: v for k, v in _CUSTOMER.items() if k != "name"},
        ["name"],
    ),
    (
        "customer missing two",
        Customer,
        {k: v for k, v in _CUSTOMER.items() if k not in ("id", "kind")},
        ["id", "kind"],
    ),
    ("customer a list", Customer, [_CUSTOMER], [""]),
    ("customer null", Customer, None, [""]),
    ("customer a string", Customer, "cus_1", [""]),
    # contacts
    (
        "contact bad email",
        Contact,
        {**_CONTACT, "emails": ["amy@example.com", "amy@"]},
        ["emails[1]"],
    ),
    ("contact emails a string", Contact, {**_CONTACT, "emails": "amy@example.com"}, ["emails"]),
    ("contact bad phone", Contact, {**_CONTACT, "phones": ["0912345678"]}, ["phones[0]"]),
    ("contact phone number", Contact, {**_CONTACT, "phones": [886912345678]}, ["phones[0]"]),
    (
        "contact decision_maker str",
        Contact,
        {**_CONTACT, "decision_maker": "false"},
        ["decision_maker"],
    ),
    ("contact decision_maker int", Contact, {**_CONTACT, "decision_maker": 0}, ["decision_maker"]),
    (
        "contact birthday datetime",
        Contact,
        {**_CONTACT, "birthday": "1990-04-01T00:00:00+08:00"},
        ["birthday"],
    ),
    ("contact birthday bad", Contact, {**_CONTACT, "birthday": "1990-13-01"}, ["birthday"]),
    ("contact unknown locale", Contact, {**_CONTACT, "locale": "xx_YY"}, ["locale"]),
    (
        "contact unknown channel",
        Contact,
        {**_CONTACT, "preferred_channel": "fax"},
        ["preferred_channel"],
    ),
    ("contact empty customer_id", Contact, {**_CONTACT, "customer_id": ""}, ["customer_id"]),
    # interactions
    ("interaction unknown kind", Interaction, {**_INTERACTION, "kind": "fax"}, ["kind"]),
    (
        "interaction naive occurred_at",
        Interaction,
        {**_INTERACTION, "occurred_at": "2026-01-05T09:30:00"},
        ["occurred_at"],
    ),
    ("interaction empty summary", Interaction, {**_INTERACTION, "summary": ""}, ["summary"]),
    ("interaction bad link", Interaction, {**_INTERACTION, "links": ["ok", "a b"]}, ["links[1]"]),
    (
        "interaction unknown channel",
        Interaction,
        {**_INTERACTION, "channel": "pigeon"},
        ["channel"],
    ),
    # events
    ("event unknown type", DomainEvent, {**_EVENT, "event_type": "customers.Nope"}, ["event_type"]),
    (
        "event without type",
        DomainEvent,
        {k: v for k, v in _EVENT.items() if k != "event_type"},
        ["event_type"],
    ),
    (
        "event naive occurred_at",
        DomainEvent,
        {**_EVENT, "occurred_at": "2026-01-05T09:30:00"},
        ["occurred_at"],
    ),
    (
        "event missing field",
        DomainEvent,
        {k: v for k, v in _EVENT.items() if k != "new_name"},
        ["new_name"],
    ),
    ("event extra field", DomainEvent, {**_EVENT, "colour": "red"}, ["colour"]),
    ("event actor number", DomainEvent, {**_EVENT, "actor": 5}, ["actor"]),
    ("event not an object", DomainEvent, ["customers.CustomerRenamed"], [""]),
    (
        "outbox nested naive",
        OutboxEntry,
        {"position": 1, "event": {**_EVENT, "occurred_at": "2026-01-05T09:30:00"}},
        ["event.occurred_at"],
    ),
    ("outbox position string", OutboxEntry, {"position": "1", "event": _EVENT}, ["position"]),
    # others
    (
        "notification context list",
        Notification,
        {"recipient": "a", "channel": "email", "template": "t", "locale": "en", "context": []},
        ["context"],
    ),
    ("field error path number", FieldError, {"path": 1, "message": "m"}, ["path"]),
    (
        "query unknown op",
        Query,
        {"filters": [{"field": "a", "op": "zz", "value": 1}]},
        ["filters[0].op"],
    ),
    ("query missing value", Query, {"filters": [{"field": "a", "op": "eq"}]}, ["filters[0].value"]),
    ("query filters a string", Query, {"filters": "name"}, ["filters"]),
    ("query limit zero", Query, {"limit": 0}, ["limit"]),
    (
        "query descending string",
        Query,
        {"order_by": [{"field": "a", "descending": "yes"}]},
        ["order_by[0].descending"],
    ),
]


@pytest.mark.parametrize(
    ("cls", "data", "paths"),
    [case[1:] for case in _MALFORMED],
    ids=[case[0] for case in _MALFORMED],
)
def test_malformed_input_is_one_validation_error_naming_each_field(
    cls: type, data: Any, paths: list[str]
) -> None:
    with pytest.raises(ValidationError) as info:
        structure(data, cls)
    assert _paths(info.value) == paths
    for path in paths:
        if path:
            assert path in str(info.value)
    with pytest.raises(ValidationError):
        from_json(json.dumps(data), cls)


@pytest.mark.parametrize(
    ("cls", "data"),
    [
        (Customer, {**_CUSTOMER, "created_at": "2026-01-05T09:30:00"}),
        (Interaction, {**_INTERACTION, "occurred_at": "2026-01-05T09:30:00"}),
        (DomainEvent, {**_EVENT, "occurred_at": "2026-01-05T09:30:00"}),
    ],
    ids=["Customer", "Interaction", "DomainEvent"],
)
def test_a_naive_datetime_string_inside_an_object_is_a_naive_datetime_error(
    cls: type, data: Any
) -> None:
    with pytest.raises(NaiveDatetimeError):
        structure(data, cls)


@pytest.mark.parametrize("text", ["", "{", "[1,", "nul", b"\xff\xfe", "{'a': 1}"])
def test_text_that_is_not_json_is_a_validation_error(text: str | bytes) -> None:
    with pytest.raises(ValidationError, match="is not valid JSON"):
        from_json(text, Customer)


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=10)
    | st.sampled_from(
        [
            "",
            " ",
            "2026-01-05T09:30:00",
            "2026-01-05",
            "company",
            "+886912345678",
            "a@b",
            "12.30",
            "TWD",
            "customers.CustomerRenamed",
        ]
    ),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
_valid_objects = st.one_of(
    customers(versions=VERSIONS),
    contacts(versions=VERSIONS),
    interactions(versions=VERSIONS),
    domain_events(),
    money(),
)


@given(obj=_valid_objects, data=st.data())
@settings(max_examples=300)
def test_any_one_field_replaced_by_any_json_gives_a_validation_error_naming_it_or_a_valid_object(
    obj: Any, data: st.DataObject
) -> None:
    cls = DomainEvent if isinstance(obj, DomainEvent) else type(obj)
    document = unstructure(obj)
    key = data.draw(st.sampled_from(sorted(document)), label="key")
    document[key] = data.draw(_json_values, label="value")
    back, error = _attempt(lambda: structure(document, cls))
    if error is None:
        assert isinstance(back, cls)
    elif key != "event_type":
        assert isinstance(error, ValidationError)
        assert any(p == key or p.startswith((f"{key}.", f"{key}[")) for p in _paths(error))


@given(obj=_valid_objects, data=st.data())
@settings(max_examples=100)
def test_any_key_removed_or_added_gives_a_validation_error_or_a_default(
    obj: Any, data: st.DataObject
) -> None:
    cls = DomainEvent if isinstance(obj, DomainEvent) else type(obj)
    document = unstructure(obj)
    key = data.draw(st.sampled_from(sorted(document)))
    del document[key]
    _, error = _attempt(lambda: structure(document, cls))
    if error is not None:
        assert isinstance(error, ValidationError)
        assert key in _paths(error)
    document[key + "_x"] = 1
    with pytest.raises(ValidationError):
        structure(document, cls)


@given(st.one_of(_json_values, st.text()))
@settings(max_examples=200)
def test_anything_at_all_gives_only_validation_errors(value: Any) -> None:
    for cls in (Customer, Contact, Interaction, DomainEvent, Money, OutboxEntry, Query):
        _, error = _attempt(lambda cls=cls: structure(value, cls))  # type: ignore[misc]
        assert error is None or isinstance(error, ValidationError)


@given(ids("cus"), st.integers(-(10**6), 10**6), st.sampled_from(["TWD", "JPY", "KWD"]))
def test_money_inside_json_keeps_cents_exactly(ident: str, units: int, code: str) -> None:
    m = Money.from_minor(units, code)
    assert from_json(json.dumps({"amount": str(m.amount), "currency": code}), Money) == m
    assert m.minor_units == units


def test_a_utc_offset_survives() -> None:
    when = datetime(2026, 1, 5, 9, 30, tzinfo=timezone(timedelta(hours=5, minutes=45)))
    assert structure(unstructure(when), datetime).utcoffset() == timedelta(hours=5, minutes=45)


def test_decimal_round_trip_keeps_digits() -> None:
    assert unstructure(Decimal("1.50")) == "1.50"
    assert structure("1.50", Decimal) == Decimal("1.50")
    with pytest.raises(ValidationError):
        structure(1.5, Decimal)


def _raw_attempt(build: Any) -> tuple[Any, BaseException | None]:
    # The raw converters raise cattrs' exception groups; structure() turns them into ours.
    try:
        return build(), None
    except Exception as exc:
        return None, exc


@given(obj=_valid_objects, data=st.data())
@settings(max_examples=300)
def test_the_fast_reader_is_exactly_as_strict_as_the_detailed_one(
    obj: Any, data: st.DataObject
) -> None:
    """``structure`` reads through a fast converter first; it must accept exactly what the
    detailed converter accepts, and build the same object."""
    from crmkit.serialization import _fast_converter, default_converter

    cls = DomainEvent if isinstance(obj, DomainEvent) else type(obj)
    document = unstructure(obj)
    if data.draw(st.booleans(), label="mutate"):
        key = data.draw(st.sampled_from(sorted(document)), label="key")
        document[key] = data.draw(_json_values, label="value")
    fast, fast_error = _raw_attempt(lambda: _fast_converter().structure(document, cls))
    slow, slow_error = _raw_attempt(lambda: default_converter().structure(document, cls))
    assert (fast_error is None) == (slow_error is None), (fast_error, slow_error)
    if fast_error is None:
        assert fast == slow


@settings(max_examples=300)
@given(st.timedeltas())
def test_a_timedelta_round_trips_as_an_iso_8601_duration(value: timedelta) -> None:
    text = unstructure(value)
    assert isinstance(text, str) and text.lstrip("-").startswith("P")
    assert structure(text, timedelta) == value


@pytest.mark.parametrize("text", ["P1Y", "P1M", "1 day", "PT", "P", "", "PT1.1234567S"])
def test_durations_with_years_months_or_bad_syntax_are_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="ISO 8601 duration"):
        structure(text, timedelta)


def test_durations_read_as_people_write_them() -> None:
    assert structure("P1DT2H30M", timedelta) == timedelta(days=1, hours=2, minutes=30)
    assert unstructure(timedelta(hours=24)) == "P1D"
    assert unstructure(timedelta(0)) == "PT0S"


@settings(max_examples=200)
@given(
    owner=st.one_of(st.none(), st.text(max_size=5), st.integers(), st.booleans(), st.floats()),
    created_at=st.one_of(
        st.datetimes(timezones=st.sampled_from([timezone.utc, ZoneInfo("Asia/Taipei")])).map(
            lambda d: d.isoformat()
        ),
        st.datetimes().map(lambda d: d.isoformat()),
        st.text(max_size=12),
        st.integers(),
    ),
)
def test_the_fast_reader_is_exactly_as_strict_as_the_detailed_converter(
    owner: object, created_at: object
) -> None:
    """Optional fields and datetimes have fast paths; their answers are the detailed ones."""
    data = {"id": "cus_1", "name": "Acme", "kind": "company", "created_at": created_at}
    data["owner"] = owner
    try:
        fast: object = structure(data, Customer)
    except ValidationError as exc:
        fast = type(exc)
    try:
        detailed: object = default_converter().structure(data, Customer)
    except Exception:  # cattrs wraps failures; only "it failed" matters here
        detailed = None
    if detailed is None:
        assert isinstance(fast, type) and issubclass(fast, ValidationError)
    else:
        assert fast == detailed
        assert isinstance(fast, Customer) and fast.created_at.utcoffset() is not None
