"""BusinessCalendar: working hours, holidays, business-time arithmetic across DST, round trips."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import DefinitionError, NaiveDatetimeError, ValidationError
from crmkit.kernel.calendar import BusinessCalendar, Weekday, WorkingHours
from crmkit.serialization import from_json, structure, to_json, unstructure
from crmkit.testing._lead_strategies import business_calendars
from crmkit.testing.strategies import aware_datetimes

NEW_YORK = ZoneInfo("America/New_York")
TAIPEI = ZoneInfo("Asia/Taipei")
US = timedelta(microseconds=1)
START = datetime(2025, 1, 1, tzinfo=timezone.utc)
END = datetime(2027, 6, 1, tzinfo=timezone.utc)


def taipei_office(**kw: object) -> BusinessCalendar:
    return BusinessCalendar.office_hours(
        "Asia/Taipei",
        ("09:00", "12:00"),
        ("13:00", "18:00"),
        holidays=kw.pop("holidays", [date(2026, 2, 16), date(2026, 2, 17)]),
        **kw,  # type: ignore[arg-type]
    )


def all_week(zone: str) -> BusinessCalendar:
    return BusinessCalendar(
        timezone=zone, hours=[WorkingHours(day, "00:00", "00:00") for day in Weekday]
    )


# ----- construction ----------------------------------------------------------------------------


def test_hours_are_sorted_and_holidays_deduplicated() -> None:
    cal = BusinessCalendar(
        timezone="asia/taipei",
        hours=[WorkingHours("tue", "13:00", "18:00"), WorkingHours("mon", "09:00", "12:00")],
        holidays=["2026-01-01", date(2026, 1, 1), date(2025, 12, 25)],
    )
    assert cal.timezone == "Asia/Taipei"
    assert [(h.weekday.value, h.start) for h in cal.hours] == [
        ("mon", time(9)),
        ("tue", time(13)),
    ]
    assert cal.holidays == (date(2025, 12, 25), date(2026, 1, 1))
    assert cal.zone == TAIPEI


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"timezone": "Asia/Taipie"}, "timezone"),
        ({"timezone": 8}, "timezone"),
        ({"holidays": [datetime(2026, 1, 1, tzinfo=timezone.utc)]}, "holidays[0]"),
        ({"holidays": ["01/01/2026"]}, "holidays[0]"),
        ({"hours": ["mon 9-18"]}, "hours[0]"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field(kwargs: dict, path: str) -> None:
    args = {"timezone": "Asia/Taipei", "hours": [WorkingHours("mon", "09:00", "18:00")], **kwargs}
    with pytest.raises(ValidationError) as info:
        BusinessCalendar(**args)
    assert info.value.errors[0].path == path


@pytest.mark.parametrize(
    ("args", "path"),
    [
        (("funday", "09:00", "18:00"), "weekday"),
        (("mon", "9am", "18:00"), "start"),
        (("mon", "18:00", "09:00"), "end"),
        (("mon", "09:00", "09:00"), "end"),
        (("mon", time(9, tzinfo=timezone.utc), time(18)), "start"),
        (("mon", 9, time(18)), "start"),
    ],
)
def test_bad_working_hours_are_refused(args: tuple, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        WorkingHours(*args)
    assert info.value.errors[0].path == path


def test_overlapping_hours_and_an_empty_week_are_definition_errors() -> None:
    with pytest.raises(DefinitionError, match="overlap"):
        BusinessCalendar(
            timezone="UTC",
            hours=[WorkingHours("mon", "09:00", "13:00"), WorkingHours("mon", "12:00", "18:00")],
        )
    with pytest.raises(DefinitionError, match="overlap"):
        BusinessCalendar(
            timezone="UTC",
            hours=[WorkingHours("mon", "20:00", "00:00"), WorkingHours("mon", "21:00", "22:00")],
        )
    with pytest.raises(DefinitionError, match="at least one working period"):
        BusinessCalendar(timezone="UTC", hours=[])


def test_touching_periods_are_allowed_and_midnight_ends_the_day() -> None:
    cal = BusinessCalendar(
        timezone="UTC",
        hours=[WorkingHours("mon", "09:00", "12:00"), WorkingHours("mon", "12:00", "00:00")],
    )
    monday = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    assert cal.business_time_between(monday, monday + timedelta(days=1)) == timedelta(hours=15)
    assert WorkingHours("sat", "00:00", "00:00").length == timedelta(hours=24)


def test_office_hours_checks_its_periods() -> None:
    with pytest.raises(ValidationError) as info:
        BusinessCalendar.office_hours("UTC", ("09:00", "08:00"))
    assert info.value.errors[0].path == "periods[0].end"
    with pytest.raises(ValidationError):
        BusinessCalendar.office_hours("UTC", "09:00-18:00")  # type: ignore[arg-type]
    with pytest.raises(DefinitionError):
        BusinessCalendar.office_hours("UTC")


def test_naive_datetimes_are_refused() -> None:
    cal = taipei_office()
    naive = datetime(2026, 1, 5, 9)
    for call in (
        lambda: cal.add_business_time(naive, timedelta(hours=1)),
        lambda: cal.business_time_between(naive, naive),
        lambda: cal.is_working_time(naive),
        lambda: cal.next_working_time(naive),
    ):
        with pytest.raises(NaiveDatetimeError):
            call()
    with pytest.raises(ValidationError, match="timedelta"):
        cal.add_business_time(datetime(2026, 1, 5, tzinfo=TAIPEI), 3600)  # type: ignore[arg-type]


# ----- arithmetic: examples ------------------------------------------------------------------


def test_split_shift_skips_lunch_nights_weekends_and_holidays() -> None:
    cal = taipei_office()
    friday = datetime(2026, 2, 13, 11, 0, tzinfo=TAIPEI)  # Friday before the holidays
    # 1 h before lunch, 5 h afternoon = 6 h; weekend and Mon/Tue holidays skipped; Wed 09:00 + 2 h.
    due = cal.add_business_time(friday, timedelta(hours=8))
    assert due == datetime(2026, 2, 18, 11, 0, tzinfo=TAIPEI)
    assert due.tzinfo == TAIPEI
    assert cal.business_time_between(friday, due) == timedelta(hours=8)


def test_the_earliest_instant_is_returned_at_the_end_of_a_period() -> None:
    cal = taipei_office()
    monday = datetime(2026, 1, 5, 9, tzinfo=TAIPEI)
    assert cal.add_business_time(monday, timedelta(hours=3)) == monday.replace(hour=12)
    assert cal.add_business_time(monday, timedelta(hours=8)) == monday.replace(hour=18)
    assert cal.add_business_time(monday, timedelta(0)) == monday


def test_start_outside_working_time_begins_at_the_next_opening() -> None:
    cal = taipei_office()
    saturday_night = datetime(2026, 1, 10, 23, 0, tzinfo=TAIPEI)
    assert cal.next_working_time(saturday_night) == datetime(2026, 1, 12, 9, tzinfo=TAIPEI)
    assert cal.add_business_time(saturday_night, timedelta(minutes=30)) == datetime(
        2026, 1, 12, 9, 30, tzinfo=TAIPEI
    )
    lunch = datetime(2026, 1, 12, 12, 30, tzinfo=TAIPEI)
    assert cal.next_working_time(lunch) == lunch.replace(hour=13, minute=0)
    assert cal.next_working_time(lunch.replace(hour=10)) == lunch.replace(hour=10)


def test_any_input_zone_gives_a_result_in_the_calendar_zone() -> None:
    cal = taipei_office()
    utc_start = datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc)  # 09:00 in Taipei
    due = cal.add_business_time(utc_start, timedelta(hours=1))
    assert due == datetime(2026, 1, 5, 10, 0, tzinfo=TAIPEI)
    assert due.utcoffset() == timedelta(hours=8)


def test_is_working_time_edges() -> None:
    cal = taipei_office()
    assert cal.is_working_time(datetime(2026, 1, 5, 9, 0, tzinfo=TAIPEI))
    assert not cal.is_working_time(datetime(2026, 1, 5, 12, 0, tzinfo=TAIPEI))
    assert cal.is_working_time(datetime(2026, 1, 5, 11, 59, 59, 999999, tzinfo=TAIPEI))
    assert not cal.is_working_time(datetime(2026, 2, 16, 10, 0, tzinfo=TAIPEI))  # holiday
    assert cal.is_holiday(date(2026, 2, 16))
    assert not cal.is_holiday(date(2026, 2, 18))


def test_between_is_negative_when_the_end_comes_first() -> None:
    cal = taipei_office()
    a = datetime(2026, 1, 5, 10, tzinfo=TAIPEI)
    b = datetime(2026, 1, 6, 10, tzinfo=TAIPEI)
    assert cal.business_time_between(a, b) == timedelta(hours=8)
    assert cal.business_time_between(b, a) == -timedelta(hours=8)
    assert cal.business_time_between(a, a) == timedelta(0)


# ----- daylight saving -----------------------------------------------------------------------


def test_new_york_spring_forward_day_is_23_hours() -> None:
    cal = all_week("America/New_York")
    saturday_noon = datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK)
    due = cal.add_business_time(saturday_noon, timedelta(hours=24))
    assert due == datetime(2026, 3, 8, 13, 0, tzinfo=NEW_YORK)  # the clock skipped 02:00-03:00
    assert due - saturday_noon == timedelta(hours=25)  # same tzinfo: Python subtracts wall times
    assert due.astimezone(timezone.utc) - saturday_noon.astimezone(timezone.utc) == timedelta(
        hours=24
    )


def test_new_york_night_shift_across_both_changes() -> None:
    cal = BusinessCalendar(
        timezone="America/New_York", hours=[WorkingHours("sun", "00:00", "06:00")]
    )
    spring = datetime(2026, 3, 8, 0, 0, tzinfo=NEW_YORK)
    fall = datetime(2026, 11, 1, 0, 0, tzinfo=NEW_YORK)
    assert cal.business_time_between(spring, spring.replace(hour=6)) == timedelta(hours=5)
    assert cal.business_time_between(fall, fall.replace(hour=6)) == timedelta(hours=7)
    # 6 hours from the start of the spring shift end one hour into the next Sunday's shift.
    assert cal.add_business_time(spring, timedelta(hours=6)) == datetime(
        2026, 3, 15, 1, 0, tzinfo=NEW_YORK
    )
    # During the repeated hour on fall-back day, the second 01:30 (fold=1) is an hour later.
    first = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK)
    second = first.replace(fold=1)
    assert cal.business_time_between(first, second) == timedelta(hours=1)
    assert cal.add_business_time(fall, timedelta(hours=2, minutes=30)) == second


def test_a_period_starting_inside_the_gap_is_clamped_and_never_negative() -> None:
    cal = BusinessCalendar(
        timezone="America/New_York",
        hours=[WorkingHours("sun", "01:00", "02:30"), WorkingHours("sun", "02:45", "03:00")],
    )
    spring = datetime(2026, 3, 8, 0, 0, tzinfo=NEW_YORK)
    # The missing wall time 02:30 reads with fold=0 (EST), i.e. 03:30 EDT: the first period
    # holds 1.5 real hours. 02:45-03:00 starts after that (03:45 EDT) but ends before it
    # (03:00 EDT): clamped to nothing, never negative, never counted twice.
    total = cal.business_time_between(spring, spring + timedelta(hours=12))
    assert total == timedelta(hours=1, minutes=30)
    assert cal.add_business_time(spring, timedelta(hours=1, minutes=30)) == datetime(
        2026, 3, 8, 3, 30, tzinfo=NEW_YORK
    )
    assert cal.add_business_time(spring, timedelta(hours=1, minutes=31)) == datetime(
        2026, 3, 15, 1, 1, tzinfo=NEW_YORK
    )


def test_taipei_has_no_daylight_saving_and_honours_holidays() -> None:
    cal = taipei_office(holidays=[date(2026, 4, 3)])  # Children's Day observed (a Friday)
    thursday = datetime(2026, 4, 2, 17, 0, tzinfo=TAIPEI)
    due = cal.add_business_time(thursday, timedelta(hours=2))
    assert due == datetime(2026, 4, 6, 10, 0, tzinfo=TAIPEI)
    assert cal.business_time_between(thursday, due) == timedelta(hours=2)


# ----- properties ------------------------------------------------------------------------------

durations = st.integers(1, 120 * 60).map(lambda minutes: timedelta(minutes=minutes)) | st.integers(
    1, 10**6
).map(lambda us: timedelta(microseconds=us))
instants = aware_datetimes(START, END)


@settings(max_examples=60)
@given(business_calendars(), instants, durations)
def test_the_result_lies_in_working_time_or_at_a_period_end(
    cal: BusinessCalendar, start: datetime, d: timedelta
) -> None:
    due = cal.add_business_time(start, d)
    assert due > start
    assert cal.is_working_time(due - US)
    assert due.tzinfo == cal.zone


@settings(max_examples=60)
@given(business_calendars(), instants, durations)
def test_between_undoes_add(cal: BusinessCalendar, start: datetime, d: timedelta) -> None:
    assert cal.business_time_between(start, cal.add_business_time(start, d)) == d


@settings(max_examples=60)
@given(business_calendars(), instants, durations, durations)
def test_add_is_monotone_in_the_duration(
    cal: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    low, high = sorted((d1, d2))
    assert cal.add_business_time(start, low) <= cal.add_business_time(start, high)


@settings(max_examples=40)
@given(business_calendars(), instants, durations, durations)
def test_adding_in_two_steps_equals_adding_once(
    cal: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    once = cal.add_business_time(start, d1 + d2)
    twice = cal.add_business_time(cal.add_business_time(start, d1), d2)
    assert once == twice


@settings(max_examples=40)
@given(business_calendars(), instants, instants, instants)
def test_between_is_additive_and_bounded_by_elapsed_time(
    cal: BusinessCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    ab, bc = cal.business_time_between(a, b), cal.business_time_between(b, c)
    assert ab + bc == cal.business_time_between(a, c)
    assert timedelta(0) <= ab <= b - a


@settings(max_examples=40)
@given(
    business_calendars(zones=("America/New_York", "Asia/Taipei")),
    aware_datetimes(
        datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 11, 10, tzinfo=timezone.utc)
    ),
    durations,
)
def test_new_york_and_taipei_across_dst_changes(
    cal: BusinessCalendar, start: datetime, d: timedelta
) -> None:
    due = cal.add_business_time(start, d)
    assert cal.business_time_between(start, due) == d
    assert cal.is_working_time(due - US)


@settings(max_examples=40)
@given(business_calendars(), instants)
def test_next_working_time_is_working_and_nothing_before_it_is(
    cal: BusinessCalendar, at: datetime
) -> None:
    opening = cal.next_working_time(at)
    assert opening >= at
    assert cal.is_working_time(opening)
    assert cal.business_time_between(at, opening) == timedelta(0)


@settings(max_examples=40)
@given(business_calendars())
def test_calendars_round_trip_through_the_converter(cal: BusinessCalendar) -> None:
    assert structure(unstructure(cal), BusinessCalendar) == cal
    again = from_json(to_json(cal), BusinessCalendar)
    assert again == cal
    assert again.zone == cal.zone


def test_the_stored_shape_is_plain_json() -> None:
    cal = taipei_office(name="support")
    data = unstructure(cal)
    assert data["timezone"] == "Asia/Taipei"
    assert data["hours"][0] == {"weekday": "mon", "start": "09:00", "end": "12:00"}
    assert data["holidays"] == ["2026-02-16", "2026-02-17"]
    assert data["closures"] == [] and data["public_holidays"] == []
    assert set(data) == {"timezone", "hours", "holidays", "closures", "public_holidays", "name"}
    # A calendar stored before closures and holiday sources existed still reads.
    old = {k: data[k] for k in ("timezone", "hours", "holidays", "name")}
    assert structure(old, BusinessCalendar) == cal


def test_bad_stored_calendars_list_every_problem() -> None:
    with pytest.raises(ValidationError) as info:
        structure(
            {
                "timezone": "Mars/Olympus",
                "hours": [{"weekday": "mon", "start": "nine", "end": "18:00"}],
                "holidays": ["2026-13-01"],
            },
            BusinessCalendar,
        )
    paths = {e.path for e in info.value.errors}
    assert {"hours[0].start", "holidays[0]"} <= paths
    with pytest.raises(ValidationError) as info:
        structure({"timezone": "Mars/Olympus", "hours": []}, BusinessCalendar)
    assert info.value.errors[0].path == "timezone"
