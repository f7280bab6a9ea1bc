"""BusinessCalendar's index of working time per local day: far deadlines give the same answers
as near ones and as the day-by-day walk, across the index's blocks, for the same work."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.kernel.calendar import _BLOCK_DAYS, BusinessCalendar
from crmkit.serialization import from_json, to_json
from crmkit.testing._service_strategies import service_calendars
from crmkit.testing.strategies import aware_datetimes

UTC = timezone.utc
TAIPEI = ZoneInfo("Asia/Taipei")
US = timedelta(microseconds=1)
H = timedelta(hours=1)

#: Local days on which a block of the index starts, between 2025 and 2028.
BOUNDARIES = tuple(
    date.fromordinal(n * _BLOCK_DAYS)
    for n in range(date(2025, 1, 1).toordinal() // _BLOCK_DAYS + 1, 10_000)
    if date.fromordinal(n * _BLOCK_DAYS) < date(2028, 1, 1)
)


def taipei_nine_to_six(**kw: object) -> BusinessCalendar:
    return BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00"), **kw)  # type: ignore[arg-type]


def day_walk_deadline(calendar: BusinessCalendar, start: datetime, target: timedelta) -> datetime:
    """The reference: spend the target in the working periods one after the other."""
    instant = start.astimezone(UTC)
    remaining = target
    for begin, finish in calendar._intervals(instant.astimezone(calendar.zone).date()):
        if finish <= instant:
            continue
        begin = max(begin, instant)
        if finish - begin >= remaining:
            return (begin + remaining).astimezone(calendar.zone)
        remaining -= finish - begin
    raise AssertionError("unreachable")


def day_walk_between(calendar: BusinessCalendar, first: datetime, last: datetime) -> timedelta:
    total = timedelta(0)
    for begin, finish in calendar._intervals(first.astimezone(calendar.zone).date()):
        if begin >= last:
            break
        begin, finish = max(begin, first), min(finish, last)
        if finish > begin:
            total += finish - begin
    return total


# ----- worked examples -------------------------------------------------------------------------


def test_a_deadline_across_a_block_boundary() -> None:
    boundary = date(2026, 8, 12)  # a Wednesday on which a block of the index starts
    assert boundary.toordinal() % _BLOCK_DAYS == 0
    cal = taipei_nine_to_six()
    tuesday_5pm = datetime(2026, 8, 11, 17, tzinfo=TAIPEI)
    # 1 h on Tuesday (17-18) and 2 h on Wednesday (09-11).
    assert cal.add_business_time(tuesday_5pm, 3 * H) == datetime(2026, 8, 12, 11, tzinfo=TAIPEI)
    assert cal.business_time_between(tuesday_5pm, datetime(2026, 8, 13, tzinfo=TAIPEI)) == 10 * H
    # With the boundary day a holiday the 2 h move to Thursday.
    off = taipei_nine_to_six(holidays=[boundary])
    assert off.add_business_time(tuesday_5pm, 3 * H) == datetime(2026, 8, 13, 11, tzinfo=TAIPEI)
    assert off.business_time_between(tuesday_5pm, datetime(2026, 8, 13, tzinfo=TAIPEI)) == H


def test_one_year_and_ten_years_of_business_time() -> None:
    cal = taipei_nine_to_six()
    monday_9am = datetime(2026, 1, 5, 9, tzinfo=TAIPEI)
    # 52 weeks of 5 days x 9 h = 2,340 h: the last one ends on Friday 1 January 2027 at 18:00
    # (Monday 5 January 2026 + 364 days is Monday 4 January 2027), not at 09:00 on Monday.
    year_end = datetime(2027, 1, 1, 18, tzinfo=TAIPEI)
    assert cal.add_business_time(monday_9am, 2340 * H) == year_end
    assert cal.business_time_between(monday_9am, year_end) == 2340 * H
    # 520 weeks: Monday 5 January 2026 + 3,640 days is Monday 24 December 2035; the Friday before
    # is the 21st.
    decade_end = datetime(2035, 12, 21, 18, tzinfo=TAIPEI)
    assert cal.add_business_time(monday_9am, 23_400 * H) == decade_end
    assert cal.business_time_between(decade_end, monday_9am) == -23_400 * H


def test_a_warm_calendar_does_the_same_work_for_any_target(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once the index holds the days, a deadline reads the periods of two days: the start's and
    the deadline's, whatever the target."""
    cal = taipei_nine_to_six(holidays=[date(2026, 2, 16), date(2026, 2, 17)])
    start = datetime(2026, 1, 7, 15, 30, tzinfo=TAIPEI)
    targets = (4 * H, timedelta(days=5), timedelta(days=30), timedelta(days=300))
    for target in targets:  # warm the index
        cal.add_business_time(start, target)
    days_read: list[date] = []
    read = BusinessCalendar._day

    def counting(self: BusinessCalendar, day: date) -> Sequence[tuple[datetime, datetime]]:
        days_read.append(day)
        return read(self, day)

    monkeypatch.setattr(BusinessCalendar, "_day", counting)
    for target in targets:
        days_read.clear()
        due = cal.add_business_time(start, target)
        assert days_read == [date(2026, 1, 7), due.date()]


# ----- properties ------------------------------------------------------------------------------

targets = st.integers(1, 7 * 24 * 60).map(lambda m: timedelta(minutes=m)) | st.integers(
    1, 10**14
).map(lambda us: timedelta(microseconds=us))


@settings(max_examples=40, deadline=None)
@given(
    service_calendars(),
    aware_datetimes(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    targets,
)
def test_near_and_far_deadlines_agree_with_the_day_by_day_walk(
    calendar: BusinessCalendar, start: datetime, target: timedelta
) -> None:
    # Up to about 3 years of business time (10**14 us) at 40 h a week; keep the walk to 150
    # weeks of this calendar's hours.
    target = min(target, calendar.weekly_hours * 150)
    due = calendar.add_business_time(start, target)
    assert due == day_walk_deadline(calendar, start, target)
    assert calendar.business_time_between(start, due) == target
    assert calendar.business_time_between(start, due - US) < target
    assert calendar.business_time_between(due, start) == -target


@st.composite
def near_a_boundary(draw: st.DrawFn) -> datetime:
    """Instants (to the microsecond) within three local days either side of a block boundary."""
    boundary = draw(st.sampled_from(BOUNDARIES))
    midnight = datetime.combine(boundary, time(0), tzinfo=UTC)
    offset = draw(st.integers(-3 * 24 * 60, 3 * 24 * 60))
    return midnight + timedelta(minutes=offset, microseconds=draw(st.integers(0, 999_999)))


@settings(max_examples=40, deadline=None)
@given(st.data(), near_a_boundary(), st.integers(0, 10 * 24 * 60))
def test_the_index_agrees_with_the_walk_across_block_boundaries(
    data: st.DataObject, start: datetime, minutes: int
) -> None:
    # Holidays and closures fall in the days around the boundary too.
    first = start.date() - timedelta(days=5)
    calendar = data.draw(service_calendars(start=first, days=12))
    target = timedelta(minutes=minutes, microseconds=minutes % 997)
    end = start + target * 3
    expected_between = day_walk_between(calendar, start, end)
    expected_due = day_walk_deadline(calendar, start, target) if target else start
    # Warm one copy from the far side first, so its blocks are built in another order.
    warm = from_json(to_json(calendar), BusinessCalendar)
    warm.add_business_time(end, timedelta(days=100))
    for cal in (calendar, warm):
        assert cal.business_time_between(start, end) == expected_between
        assert cal.add_business_time(start, target) == expected_due


# ----- the cache is private --------------------------------------------------------------------


def test_the_index_is_no_part_of_the_calendars_value() -> None:
    cal = taipei_nine_to_six(holidays=[date(2026, 8, 12)])
    fresh = from_json(to_json(cal), BusinessCalendar)
    cal.add_business_time(datetime(2026, 1, 5, 9, tzinfo=TAIPEI), timedelta(days=400))
    assert cal == fresh
    assert hash(cal) == hash(fresh)
    assert repr(cal) == repr(fresh)
    assert to_json(cal) == to_json(fresh)


def test_threads_building_the_index_at_once_agree_with_one_thread() -> None:
    calendar = BusinessCalendar.office_hours(
        "Europe/London", ("09:00", "12:30"), ("13:30", "18:00"), holidays=["2026-12-25"]
    )
    starts = [datetime(2025, 1, 1, 9, tzinfo=UTC) + timedelta(days=37 * n) for n in range(40)]
    target = timedelta(days=30)
    expected = [
        from_json(to_json(calendar), BusinessCalendar).add_business_time(s, target) for s in starts
    ]
    shared = from_json(to_json(calendar), BusinessCalendar)  # a cold index, for every thread
    results: dict[int, list[datetime]] = {}
    barrier = threading.Barrier(4)

    def work(n: int) -> None:
        order = starts if n % 2 == 0 else starts[::-1]
        barrier.wait()
        found = {s: shared.add_business_time(s, target) for s in order}
        results[n] = [found[s] for s in starts]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == dict.fromkeys(range(4), expected)
