"""Deadlines against references: a brute-force minute-by-minute count on small ranges, the day
by day walk on long ones, and pauses that never shorten a deadline."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from crmkit.kernel.calendar import BusinessCalendar
from crmkit.service import Complaint, ComplaintPolicy
from crmkit.service.sla import SlaPolicy, sla_status
from crmkit.testing._service_strategies import service_calendars

UTC = timezone.utc
MINUTE = timedelta(minutes=1)
US = timedelta(microseconds=1)

#: Days just before the 2026 daylight-saving changes of London, New York and Lord Howe, and an
#: ordinary one: starts are drawn within a few days after them.
ANCHORS = (
    date(2026, 3, 6),  # New York springs forward on Sunday 8 March
    date(2026, 3, 27),  # London on Sunday 29 March
    date(2026, 4, 3),  # Lord Howe falls back half an hour on Sunday 5 April
    date(2026, 6, 10),
    date(2026, 10, 2),  # Lord Howe springs forward on Sunday 4 October
    date(2026, 10, 23),  # London falls back on Sunday 25 October
    date(2026, 10, 30),  # New York on Sunday 1 November
)


@st.composite
def starts(draw: st.DrawFn) -> datetime:
    """Whole-minute instants within four days after one of the anchors."""
    anchor = datetime.combine(draw(st.sampled_from(ANCHORS)), time(0), tzinfo=UTC)
    return anchor + timedelta(minutes=draw(st.integers(0, 4 * 24 * 60)))


def working_minute(calendar: BusinessCalendar, minute: datetime) -> bool:
    """Whether the minute starting at ``minute`` is working time, read from the calendar's data
    alone: its local date, weekday and wall-clock time against the weekly hours, holidays and
    closures (no interval arithmetic shared with the code under test)."""
    for closure in calendar.closures:
        if closure.start <= minute < closure.end:
            return False
    local = minute.astimezone(calendar.zone)
    if local.date() in calendar.holidays:
        return False
    wall = local.time().replace(tzinfo=None, fold=0)
    for hours in calendar.hours:
        if hours.weekday.number != local.weekday():
            continue
        if hours.start <= wall and (hours.end == time(0) or wall < hours.end):
            return True
    return False


def brute_force_deadline(calendar: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    """Step minute by minute from ``start``; the deadline is the end of the minute that brings
    the count of working minutes to ``minutes``."""
    count = 0
    minute = start
    while True:
        if working_minute(calendar, minute):
            count += 1
            if count == minutes:
                return minute + MINUTE
        minute += MINUTE


def day_walk_deadline(calendar: BusinessCalendar, start: datetime, target: timedelta) -> datetime:
    """The walk the calendar did before it skipped weeks: one interval after the other."""
    instant = start.astimezone(UTC)
    remaining = target
    for begin, finish in calendar._intervals(instant.astimezone(calendar.zone).date()):
        if finish <= instant:
            continue
        begin = max(begin, instant)
        if finish - begin >= remaining:
            return begin + remaining
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


@settings(max_examples=40)
@given(service_calendars(), starts(), st.integers(1, 3 * 24 * 60))
def test_the_deadline_is_the_earliest_instant_with_exactly_the_target_elapsed(
    calendar: BusinessCalendar, start: datetime, minutes: int
) -> None:
    # Keep the brute force to a few weeks of minutes: at most two weeks of this calendar's time.
    minutes = min(minutes, int(calendar.weekly_hours / MINUTE) * 2)
    assume(minutes >= 1)
    expected = brute_force_deadline(calendar, start, minutes)
    deadline = calendar.add_business_time(start, timedelta(minutes=minutes))
    assert deadline == expected
    assert deadline.tzinfo == calendar.zone
    assert calendar.business_time_between(start, deadline) == timedelta(minutes=minutes)
    assert calendar.business_time_between(start, deadline - US) < timedelta(minutes=minutes)


@settings(max_examples=40)
@given(
    service_calendars(),
    starts(),
    st.integers(1, 60 * 24 * 60).map(lambda m: timedelta(minutes=m))
    | st.integers(1, 10**12).map(lambda us: timedelta(microseconds=us)),
)
def test_long_targets_agree_with_the_day_by_day_walk(
    calendar: BusinessCalendar, start: datetime, target: timedelta
) -> None:
    deadline = calendar.add_business_time(start, target)
    assert deadline == day_walk_deadline(calendar, start, target)
    assert calendar.business_time_between(start, deadline) == target


@settings(max_examples=40)
@given(service_calendars(), starts(), st.integers(0, 200 * 24 * 60))
def test_long_spans_agree_with_the_day_by_day_walk(
    calendar: BusinessCalendar, start: datetime, minutes: int
) -> None:
    end = start + timedelta(minutes=minutes, microseconds=minutes % 997)
    assert calendar.business_time_between(start, end) == day_walk_between(calendar, start, end)


# ----- pauses --------------------------------------------------------------------------------

POLICY = ComplaintPolicy(categories=["delivery"])


def _case(filed: datetime) -> Complaint:
    case = Complaint.file(
        id="case_1",
        reference="CS-1",
        now=filed,
        channel="email",
        customer_id="cus_1",
        subject="Parcel never arrived",
        category="delivery",
        impact="medium",
        urgency="medium",
        policy=POLICY,
    )
    case.acknowledge(now=filed, owner="u_amy")
    case.start_work(now=filed)
    return case


@settings(max_examples=60)
@given(
    service_calendars(closures=False),
    starts(),
    st.integers(1, 5 * 24 * 60),
    st.integers(0, 6 * 24 * 60),
    st.integers(0, 6 * 24 * 60),
    st.integers(0, 6 * 24 * 60),
)
def test_pausing_and_resuming_never_shortens_a_deadline(
    calendar: BusinessCalendar,
    filed: datetime,
    target_minutes: int,
    pause_after: int,
    pause_minutes: int,
    look_after: int,
) -> None:
    policy = SlaPolicy(
        name="std",
        first_response=timedelta(hours=1),
        resolution=timedelta(minutes=target_minutes),
    )
    paused_at = filed + timedelta(minutes=pause_after)
    resumed_at = paused_at + timedelta(minutes=pause_minutes)
    now = paused_at + timedelta(minutes=look_after)  # during or after the pause

    steady = _case(filed)
    held = _case(filed)
    held.wait_for_customer(now=paused_at)
    if resumed_at <= now:
        held.receive_customer_message("Here is the photo", now=resumed_at)

    plain = sla_status(steady, policy, calendar, now).resolution
    paused = sla_status(held, policy, calendar, now).resolution
    assert paused.deadline >= plain.deadline
    assert paused.elapsed <= plain.elapsed

    if resumed_at <= now:
        # The pause moves the deadline by exactly the business time it held, once it is over.
        held_back = calendar.business_time_between(paused_at, resumed_at)
        if plain.deadline <= paused_at:
            assert paused.deadline == plain.deadline
        else:
            target = policy.resolution
            assert paused.deadline == calendar.add_business_time(filed, target + held_back)
        assert paused.elapsed == plain.elapsed - calendar.business_time_between(
            paused_at, min(resumed_at, now)
        )
