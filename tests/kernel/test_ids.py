"""Ids: deterministic ids for tests, sortable unique ids, and check_id."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import ValidationError
from crmkit.kernel.ids import IdGenerator, SequentialIds, SortableIds, check_id
from crmkit.kernel.time import ManualClock
from crmkit.testing.strategies import ids

START = datetime(2026, 1, 1, 9, tzinfo=timezone.utc)
CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")


def test_sequential_ids_count_per_prefix() -> None:
    gen = SequentialIds()
    assert [gen.new_id("cus"), gen.new_id("cus"), gen.new_id("con"), gen.new_id("cus")] == [
        "cus_000001",
        "cus_000002",
        "con_000001",
        "cus_000003",
    ]
    assert SequentialIds(start=41).new_id("lead") == "lead_000042"


def test_sequential_ids_are_deterministic() -> None:
    def run() -> list[str]:
        gen = SequentialIds()
        return [gen.new_id(p) for p in ("cus", "con", "cus", "int", "con")]

    assert run() == run()


def test_sequential_ids_are_unique_across_threads() -> None:
    gen = SequentialIds()
    made: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [gen.new_id("cus") for _ in range(200)]
        with lock:
            made.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 800


def test_generators_satisfy_the_protocol() -> None:
    assert isinstance(SequentialIds(), IdGenerator)
    assert isinstance(SortableIds(ManualClock(START)), IdGenerator)


def test_sortable_ids_have_a_prefix_and_26_crockford_characters() -> None:
    new = SortableIds(ManualClock(START)).new_id("cus")
    prefix, _, body = new.partition("_")
    assert prefix == "cus"
    assert len(body) == 26
    assert set(body) <= CROCKFORD
    assert check_id(new) == new


@given(st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=1)), max_size=200))
@settings(max_examples=50)
def test_sortable_ids_sort_by_creation_and_never_repeat(steps: list[timedelta]) -> None:
    clock = ManualClock(START)
    gen = SortableIds(clock)
    made = [gen.new_id("cus")]
    for step in steps:
        clock.advance(step)
        made.append(gen.new_id("cus"))
    assert made == sorted(made)
    assert len(set(made)) == len(made)


def test_sortable_ids_from_separate_generators_sort_by_millisecond() -> None:
    early = SortableIds(ManualClock(START)).new_id("cus")
    late = SortableIds(ManualClock(START + timedelta(milliseconds=1))).new_id("cus")
    assert early < late


def test_sortable_ids_stay_increasing_when_the_clock_goes_back() -> None:
    clock = ManualClock(START)
    gen = SortableIds(clock)
    first = gen.new_id("cus")
    clock.set(START - timedelta(days=1))
    assert gen.new_id("cus") > first


def test_sortable_ids_are_unique_across_threads() -> None:
    gen = SortableIds(ManualClock(START))
    made: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [gen.new_id("cus") for _ in range(200)]
        with lock:
            made.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(made)) == 800


@pytest.mark.parametrize("good", ["c", "cus_01", "x" * 64, "客戶_1", "a-b.c:d"])
def test_check_id_accepts_short_strings_without_whitespace(good: str) -> None:
    assert check_id(good) == good


@pytest.mark.parametrize(
    "bad", ["", " ", "a b", "a\tb", "a\nb", "x" * 65, None, 5, b"cus_1", ["cus_1"]]
)
def test_check_id_refuses_other_values_naming_the_path(bad: object) -> None:
    with pytest.raises(ValidationError) as info:
        check_id(bad, "owner")
    assert [e.path for e in info.value.errors] == ["owner"]
    assert "64 characters" in str(info.value)


@given(st.one_of(st.none(), ids("cus"), ids()))
def test_the_ids_strategy_makes_valid_ids(value: str | None) -> None:
    if value is not None:
        assert check_id(value) == value


def test_the_ids_strategy_refuses_a_bad_prefix() -> None:
    with pytest.raises(ValidationError):
        ids("a b")
    with pytest.raises(ValidationError):
        ids("x" * 63)
