"""Time: aware datetimes only, clocks, and "naive datetimes are refused everywhere"."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.customers import Contact, Customer, Interaction
from crmkit.customers import events as customer_events
from crmkit.errors import NaiveDatetimeError, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.time import Clock, ManualClock, SystemClock, ensure_aware, validate_aware
from crmkit.serialization import from_json, structure
from crmkit.testing.strategies import aware_datetimes

TAIPEI = ZoneInfo("Asia/Taipei")
NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=TAIPEI)


class _NoOffset(tzinfo):
    """A tzinfo that does not know its offset: datetimes with it are naive too."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return None


# ----- ensure_aware / validate_aware ------------------------------------------------------------


@given(aware_datetimes())
def test_ensure_aware_returns_aware_datetimes_unchanged(value: datetime) -> None:
    assert ensure_aware(value, "due_at") is value


@given(st.datetimes())
def test_ensure_aware_refuses_naive_datetimes_naming_the_field(value: datetime) -> None:
    with pytest.raises(NaiveDatetimeError) as info:
        ensure_aware(value, "due_at")
    assert [e.path for e in info.value.errors] == ["due_at"]
    assert "timezone-aware" in str(info.value)
    assert isinstance(info.value, ValidationError)
    assert info.value.code == "naive_datetime"


def test_a_tzinfo_without_an_offset_counts_as_naive() -> None:
    with pytest.raises(NaiveDatetimeError):
        ensure_aware(datetime(2026, 1, 1, tzinfo=_NoOffset()), "due_at")


@pytest.mark.parametrize("value", ["2026-01-01T00:00:00+00:00", date(2026, 1, 1), 0, None])
def test_ensure_aware_refuses_non_datetimes_with_a_plain_validation_error(value: object) -> None:
    with pytest.raises(ValidationError) as info:
        ensure_aware(value, "due_at")
    assert not isinstance(info.value, NaiveDatetimeError)
    assert "must be a datetime" in str(info.value)


def test_validate_aware_checks_an_attrs_field() -> None:
    @attrs.define
    class Call:
        at: datetime = attrs.field(validator=validate_aware)

    assert Call(NOW).at == NOW
    with pytest.raises(NaiveDatetimeError) as info:
        Call(datetime(2026, 1, 1))
    assert info.value.errors[0].path == "at"


# ----- clocks ----------------------------------------------------------------------------------


def test_system_clock_tells_aware_utc_time() -> None:
    now = SystemClock().now()
    assert now.tzinfo is timezone.utc
    assert isinstance(SystemClock(), Clock)


def test_manual_clock_stands_still_until_moved() -> None:
    clock = ManualClock(NOW)
    assert clock.now() == NOW
    assert clock.now() == NOW
    assert clock.advance(timedelta(hours=2)) == NOW + timedelta(hours=2)
    assert clock.now() == NOW + timedelta(hours=2)
    later = datetime(2026, 3, 1, tzinfo=NEW_YORK)
    assert clock.set(later) == later
    assert clock.now() == later
    assert isinstance(clock, Clock)


def test_manual_clock_starts_at_an_aware_default() -> None:
    assert ManualClock().now().utcoffset() is not None


@given(st.datetimes())
def test_manual_clock_refuses_a_naive_start_or_set(value: datetime) -> None:
    with pytest.raises(NaiveDatetimeError):
        ManualClock(value)
    clock = ManualClock(NOW)
    with pytest.raises(NaiveDatetimeError):
        clock.set(value)
    assert clock.now() == NOW


@pytest.mark.parametrize("delta", [1, 1.5, "1h", None])
def test_manual_clock_advance_wants_a_timedelta(delta: object) -> None:
    clock = ManualClock(NOW)
    with pytest.raises(ValidationError) as info:
        clock.advance(delta)  # type: ignore[arg-type]
    assert info.value.errors[0].path == "delta"
    assert clock.now() == NOW


@given(st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400))))
def test_manual_clock_advances_by_the_sum_of_its_steps(steps: list[timedelta]) -> None:
    clock = ManualClock(NOW)
    for step in steps:
        clock.advance(step)
    assert clock.now() == NOW + sum(steps, timedelta(0))


# ----- aware_datetimes strategy ----------------------------------------------------------------


@given(
    aware_datetimes(
        datetime(2026, 3, 8, 5, tzinfo=timezone.utc), datetime(2026, 3, 8, 9, tzinfo=timezone.utc)
    )
)
def test_aware_datetimes_stay_within_the_bounds_in_any_zone(value: datetime) -> None:
    assert value.utcoffset() is not None
    assert datetime(2026, 3, 8, 5, tzinfo=timezone.utc) <= value
    assert value <= datetime(2026, 3, 8, 9, tzinfo=timezone.utc)


def test_aware_datetimes_refuses_naive_bounds() -> None:
    with pytest.raises(NaiveDatetimeError):
        aware_datetimes(min_value=datetime(2026, 1, 1))


# ----- naive datetimes are refused everywhere ---------------------------------------------------


def _customer() -> Customer:
    return Customer(id="cus_1", name="Acme", kind="company", created_at=NOW)


def _contact() -> Contact:
    return Contact(id="con_1", customer_id="cus_1", name="Amy")


def _naive_json(value: datetime) -> str:
    return json.dumps(
        {"id": "cus_1", "name": "Acme", "kind": "company", "created_at": value.isoformat()}
    )


_EVENT_FIELDS: dict[type[DomainEvent], dict[str, Any]] = {
    DomainEvent: {},
    customer_events.CustomerRegistered: {"name": "Acme", "kind": "company"},
    customer_events.CustomerRenamed: {"old_name": "A", "new_name": "B"},
    customer_events.CustomerTagged: {"added": ("vip",)},
    customer_events.CustomerOwnerAssigned: {"old_owner": None, "new_owner": "u1"},
    customer_events.CustomerLifecycleChanged: {"old": "prospect", "new": "active"},
    customer_events.ContactAdded: {"customer_id": "cus_1", "name": "Amy"},
    customer_events.ContactUpdated: {"customer_id": "cus_1", "fields": ("name",)},
    customer_events.InteractionLogged: {"customer_id": "cus_1", "kind": "call", "summary": "hi"},
}


def _event_case(cls: type[DomainEvent]) -> Callable[[datetime], object]:
    return lambda naive: cls(aggregate_id="cus_1", occurred_at=naive, **_EVENT_FIELDS[cls])


_TAKES_A_DATETIME: dict[str, Callable[[datetime], object]] = {
    **{f"{cls.__name__}(occurred_at)": _event_case(cls) for cls in _EVENT_FIELDS},
    "Customer(created_at)": lambda naive: Customer(
        id="cus_1", name="Acme", kind="company", created_at=naive
    ),
    "Interaction(occurred_at)": lambda naive: Interaction(
        id="int_1", customer_id="cus_1", kind="call", occurred_at=naive, summary="hi"
    ),
    "Customer.register(now)": lambda naive: Customer.register(
        id="cus_1", name="Acme", kind="company", now=naive
    ),
    "Contact.create(now)": lambda naive: Contact.create(
        id="con_1", customer_id="cus_1", name="Amy", now=naive
    ),
    "Contact.update(now)": lambda naive: _contact().update(now=naive, name="Bob"),
    "Interaction.log(now)": lambda naive: Interaction.log(
        id="int_1", customer_id="cus_1", kind="call", summary="hi", occurred_at=NOW, now=naive
    ),
    "Interaction.log(occurred_at)": lambda naive: Interaction.log(
        id="int_1", customer_id="cus_1", kind="call", summary="hi", occurred_at=naive, now=NOW
    ),
    "Customer.rename(now)": lambda naive: _customer().rename("Acme 2", now=naive),
    "Customer.tag(now)": lambda naive: _customer().tag(add=["vip"], now=naive),
    "Customer.assign_owner(now)": lambda naive: _customer().assign_owner("u1", now=naive),
    "Customer.change_lifecycle(now)": lambda naive: _customer().change_lifecycle(
        "active", now=naive
    ),
    "ManualClock(start)": ManualClock,
    "ManualClock.set(when)": lambda naive: ManualClock(NOW).set(naive),
    "ensure_aware": ensure_aware,
    "aware_datetimes(min_value)": lambda naive: aware_datetimes(min_value=naive),
    "structure(iso string, datetime)": lambda naive: structure(naive.isoformat(), datetime),
    "from_json(Customer with naive created_at)": lambda naive: from_json(
        _naive_json(naive), Customer
    ),
}


@pytest.mark.parametrize("call", list(_TAKES_A_DATETIME.values()), ids=list(_TAKES_A_DATETIME))
@given(naive=st.datetimes())
@settings(max_examples=25)
def test_naive_datetimes_are_refused_everywhere(
    call: Callable[[datetime], object], naive: datetime
) -> None:
    with pytest.raises(NaiveDatetimeError):
        call(naive)


def test_a_failed_method_with_a_naive_now_changes_nothing() -> None:
    customer = _customer()
    before = attrs.asdict(customer)
    methods: list[Callable[[], object]] = [
        lambda: customer.rename("Other", now=datetime(2026, 1, 1)),
        lambda: customer.tag(add=["x"], now=datetime(2026, 1, 1)),
        lambda: customer.assign_owner("u9", now=datetime(2026, 1, 1)),
        lambda: customer.change_lifecycle("churned", now=datetime(2026, 1, 1)),
    ]
    for method in methods:
        with pytest.raises(NaiveDatetimeError):
            method()
    assert attrs.asdict(customer) == before
    assert customer.pending_events == ()


@pytest.mark.parametrize(
    "call",
    [
        lambda: Customer(id="cus_1", name="Acme", kind="company", created_at=None),  # type: ignore[arg-type]
        lambda: Customer.register(id="cus_1", name="Acme", kind="company", now=None),  # type: ignore[arg-type]
        lambda: Interaction(
            id="int_1",
            customer_id="cus_1",
            kind="call",
            occurred_at=None,  # type: ignore[arg-type]
            summary="hi",
        ),
        lambda: DomainEvent(aggregate_id="cus_1", occurred_at=None),  # type: ignore[arg-type]
    ],
    ids=[
        "Customer(created_at)",
        "Customer.register(now)",
        "Interaction(occurred_at)",
        "DomainEvent(occurred_at)",
    ],
)
def test_required_datetimes_refuse_none(call: Callable[[], object]) -> None:
    # validate_aware lets None pass "for optional fields", but these fields are required.
    with pytest.raises(ValidationError):
        call()
