"""Domain events and the aggregate base: stamping, pulling, ownership and event lookup."""

from __future__ import annotations

from datetime import datetime, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.customers import events as customer_events
from crmkit.errors import ValidationError
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.events import DomainEvent, event_class
from crmkit.testing.strategies import domain_events

NOW = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)


@attrs.frozen(kw_only=True)
class DoorOpened(DomainEvent):
    event_type = "tests.kernel.DoorOpened"
    door: str


def _event(aggregate_id: str = "a1", **kw: object) -> DomainEvent:
    return DomainEvent(aggregate_id=aggregate_id, occurred_at=NOW, **kw)  # type: ignore[arg-type]


def test_events_are_immutable_and_identified() -> None:
    e = DoorOpened(aggregate_id="d1", occurred_at=NOW, door="front")
    assert e.event_type == "tests.kernel.DoorOpened"
    assert e.aggregate_version == 0
    assert e.actor is None
    assert len(e.event_id) == 32
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        e.door = "back"  # type: ignore[misc]


def test_every_event_gets_its_own_id() -> None:
    assert len({_event().event_id for _ in range(100)}) == 100


def test_events_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        DomainEvent("a1", NOW)  # type: ignore[call-arg]


def test_record_stamps_the_version_the_change_makes() -> None:
    agg = Aggregate(id="a1", version=4)
    original = _event()
    agg.record(original)
    (stamped,) = agg.pending_events
    assert stamped.aggregate_version == 5
    assert original.aggregate_version == 0  # the event given is not changed
    assert stamped.event_id == original.event_id
    assert agg.version == 4  # only the repository moves the version


def test_events_recorded_before_one_save_all_carry_the_next_version() -> None:
    agg = Aggregate(id="a1", version=2)
    agg.record(_event())
    agg.record(_event())
    assert [e.aggregate_version for e in agg.pending_events] == [3, 3]


def test_pull_events_returns_them_oldest_first_and_clears() -> None:
    agg = Aggregate(id="a1")
    first, second = _event(actor="u1"), _event(actor="u2")
    agg.record(first)
    agg.record(second)
    pulled = agg.pull_events()
    assert [e.event_id for e in pulled] == [first.event_id, second.event_id]
    assert agg.pending_events == ()
    assert agg.pull_events() == []


def test_pending_events_is_a_read_only_snapshot() -> None:
    agg = Aggregate(id="a1")
    agg.record(_event())
    snapshot = agg.pending_events
    assert isinstance(snapshot, tuple)
    agg.record(_event())
    assert len(snapshot) == 1 and len(agg.pending_events) == 2


def test_an_event_for_another_aggregate_is_refused() -> None:
    agg = Aggregate(id="a1")
    with pytest.raises(ValidationError) as info:
        agg.record(_event("a2"))
    assert info.value.errors[0].path == "aggregate_id"
    assert "'a2'" in str(info.value) and "'a1'" in str(info.value)
    assert agg.pending_events == ()


def test_pending_events_do_not_take_part_in_equality() -> None:
    a, b = Aggregate(id="a1"), Aggregate(id="a1")
    a.record(_event())
    assert a == b


@pytest.mark.parametrize("version", [-1, "1", 1.0, True, None])
def test_version_must_be_a_non_negative_int(version: object) -> None:
    with pytest.raises(ValidationError) as info:
        Aggregate(id="a1", version=version)  # type: ignore[arg-type]
    assert info.value.errors[0].path == "version"


@pytest.mark.parametrize("bad", ["", "a b", None, 7, "x" * 65])
def test_id_must_be_a_usable_id(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        Aggregate(id=bad)  # type: ignore[arg-type]
    assert info.value.errors[0].path == "id"


def test_event_class_finds_imported_event_classes() -> None:
    assert event_class("kernel.DomainEvent") is DomainEvent
    assert event_class("tests.kernel.DoorOpened") is DoorOpened
    assert event_class("customers.CustomerRenamed") is customer_events.CustomerRenamed


@pytest.mark.parametrize("name", customer_events.__all__)
def test_every_customers_event_is_found_by_its_type(name: str) -> None:
    cls = getattr(customer_events, name)
    assert event_class(cls.event_type) is cls
    assert cls.event_type == f"customers.{name}"


def test_event_class_of_an_unknown_type_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match=r"unknown event type 'nope\.Nothing'") as info:
        event_class("nope.Nothing")
    assert info.value.errors[0].path == "event_type"


def test_event_types_are_unique() -> None:
    types = [getattr(customer_events, n).event_type for n in customer_events.__all__]
    assert len(types) == len(set(types))


@given(domain_events(), st.integers(0, 1000))
def test_recording_any_customers_event_stamps_it(event: DomainEvent, version: int) -> None:
    agg = Aggregate(id=event.aggregate_id, version=version)
    agg.record(event)
    (stamped,) = agg.pull_events()
    assert stamped.aggregate_version == version + 1
    assert attrs.evolve(stamped, aggregate_version=event.aggregate_version) == event


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("actor", 5),
        ("actor", ""),
        ("aggregate_id", None),
        ("aggregate_version", -1),
        ("event_id", ""),
    ],
)
def test_event_metadata_is_validated(field: str, value: object) -> None:
    # An event with actor=5 serialises but can never be read back (the converter wants a str).
    with pytest.raises(ValidationError):
        DomainEvent(**{"aggregate_id": "a1", "occurred_at": NOW, field: value})  # type: ignore[arg-type]


def test_event_class_never_returns_the_class_attrs_replaced() -> None:
    """attrs rebuilds slotted classes; the discarded original lingers until gc runs."""
    import gc

    import attrs as _attrs

    gc.disable()
    try:

        @_attrs.frozen(kw_only=True)
        class DoorClosed(DomainEvent):
            event_type = "tests.DoorClosed"
            door: str

        found = event_class("tests.DoorClosed")
        assert found is DoorClosed
        assert "__attrs_attrs__" in found.__dict__
    finally:
        gc.enable()
