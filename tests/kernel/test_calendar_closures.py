"""BusinessCalendar: closures, public holidays from the holidays package, and the weekly skip."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import ValidationError
from crmkit.kernel.calendar import BusinessCalendar, Closure, HolidaySource
from crmkit.serialization import from_json, structure, to_json, unstructure
from crmkit.testing._lead_strategies import business_calendars
from crmkit.testing._service_strategies import service_calendars
from crmkit.testing.strategies import aware_datetimes

TAIPEI = ZoneInfo("Asia/Taipei")
LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)


def office() -> BusinessCalendar:
    return BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "12:00"), ("13:00", "18:00"))


# ----- closures ------------------------------------------------------------------------------


def test_a_closure_cuts_working_time_out_of_a_day() -> None:
    move = Closure(
        start=datetime(2026, 3, 6, 14, tzinfo=TAIPEI),
        end=datetime(2026, 3, 6, 16, tzinfo=TAIPEI),
        reason="office move",
    )
    cal = office().with_closures(move)
    friday = datetime(2026, 3, 6, 9, tzinfo=TAIPEI)
    # Friday: 09-12 (3 h), 13-14 (1 h), closed 14-16, 16-18 (2 h) = 6 h instead of 8.
    assert cal.business_time_between(friday, friday + 12 * H) == 6 * H
    assert cal.add_business_time(friday, 4 * H) == datetime(2026, 3, 6, 14, tzinfo=TAIPEI)
    assert cal.add_business_time(friday, 4 * H + timedelta(minutes=1)) == datetime(
        2026, 3, 6, 16, 1, tzinfo=TAIPEI
    )
    assert not cal.is_working_time(datetime(2026, 3, 6, 15, tzinfo=TAIPEI))
    assert cal.next_working_time(datetime(2026, 3, 6, 14, 30, tzinfo=TAIPEI)) == datetime(
        2026, 3, 6, 16, tzinfo=TAIPEI
    )


def test_overlapping_closures_and_closures_across_weeks() -> None:
    a = Closure(
        start=datetime(2026, 3, 2, 10, tzinfo=TAIPEI), end=datetime(2026, 3, 4, 10, tzinfo=TAIPEI)
    )
    b = Closure(
        start=datetime(2026, 3, 3, 10, tzinfo=TAIPEI), end=datetime(2026, 3, 16, 11, tzinfo=TAIPEI)
    )
    cal = office().with_closures(b, a)
    assert cal.closures == (a, b)  # kept sorted
    monday = datetime(2026, 3, 2, 9, tzinfo=TAIPEI)
    # Open Monday 09-10 (1 h), closed until Monday 16 March 11:00, then 11-12 and 13-18 (6 h).
    assert cal.business_time_between(monday, monday + timedelta(days=15)) == 7 * H
    assert cal.add_business_time(monday, 2 * H) == datetime(2026, 3, 16, 12, tzinfo=TAIPEI)


def test_whole_day_closures_are_holidays_and_bad_ones_are_refused() -> None:
    cal = office().with_closures(date(2026, 12, 31))
    assert cal.is_holiday(date(2026, 12, 31)) and cal.closures == ()
    with pytest.raises(ValidationError) as info:
        office().with_closures("2026-12-31")  # type: ignore[arg-type]
    assert info.value.errors[0].path == "closures[0]"
    with pytest.raises(ValidationError) as info:
        Closure(start=datetime(2026, 1, 1, tzinfo=TAIPEI), end=datetime(2026, 1, 1, tzinfo=TAIPEI))
    assert info.value.errors[0].path == "end"
    with pytest.raises(ValidationError):
        Closure(start=datetime(2026, 1, 1), end=datetime(2026, 1, 2))


# ----- public holidays ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "subdivision", "day"),
    [
        ("TW", None, date(2026, 10, 10)),  # National Day
        ("HK", None, date(2026, 7, 1)),  # HKSAR Establishment Day
        ("CN", None, date(2026, 10, 1)),  # National Day
        ("GB", "SCT", date(2026, 11, 30)),  # St Andrew's Day (Scotland only)
    ],
)
def test_public_holidays_come_from_the_holidays_package(
    country: str, subdivision: str | None, day: date
) -> None:
    cal = office().with_public_holidays(country, years=[2026], subdivision=subdivision)
    assert cal.is_holiday(day)
    assert cal.public_holidays == (
        HolidaySource(country=country, subdivision=subdivision, years=[2026]),
    )


def test_adding_years_keeps_both_sources_and_every_date() -> None:
    cal = office().with_public_holidays("TW", years=2026).with_public_holidays("TW", years=[2027])
    assert [s.years for s in cal.public_holidays] == [(2026,), (2027,)]
    assert cal.is_holiday(date(2026, 10, 10)) and cal.is_holiday(date(2027, 10, 11))
    again = cal.with_public_holidays("TW", years=2026)
    assert again.holidays == cal.holidays and len(again.public_holidays) == 2


def test_england_is_not_scotland() -> None:
    england = office().with_public_holidays("GB", years=[2026], subdivision="ENG")
    assert not england.is_holiday(date(2026, 11, 30))
    assert england.is_holiday(date(2026, 8, 31))  # Summer bank holiday in England


@pytest.mark.parametrize(
    ("kwargs", "path", "message"),
    [
        ({"country": "Taiwan", "years": [2026]}, "country", "ISO 3166"),
        ({"country": "TW", "years": []}, "years", "at least one year"),
        ({"country": "TW", "years": [1066]}, "years[0]", "between 1900 and 2200"),
        ({"country": "TW", "years": ["2026"]}, "years[0]", "must be an int"),
        ({"country": "GB", "years": [2026], "subdivision": "Wessex!"}, "subdivision", "code"),
    ],
)
def test_bad_holiday_sources_name_the_field(kwargs: dict, path: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        HolidaySource(**kwargs)
    assert info.value.errors[0].path == path


def test_unknown_countries_and_subdivisions_are_validation_errors() -> None:
    with pytest.raises(ValidationError) as info:
        HolidaySource(country="XX", years=[2026]).dates()
    assert info.value.errors[0].path == "country"
    with pytest.raises(ValidationError, match="ENG") as info:
        HolidaySource(country="GB", subdivision="XYZ", years=[2026]).dates()
    assert info.value.errors[0].path == "subdivision"


def test_calendars_with_closures_and_sources_round_trip() -> None:
    cal = (
        office()
        .with_public_holidays("TW", years=[2026])
        .with_closures(
            Closure(
                start=datetime(2026, 3, 6, 14, tzinfo=TAIPEI),
                end=datetime(2026, 3, 6, 16, tzinfo=TAIPEI),
                reason="move",
            )
        )
    )
    data = unstructure(cal)
    assert data["public_holidays"] == [
        {"country": "TW", "years": [2026], "subdivision": None, "observed": True}
    ]
    assert data["closures"][0]["start"] == "2026-03-06T14:00:00+08:00[Asia/Taipei]"
    assert structure(data, BusinessCalendar) == cal
    assert (
        from_json(to_json(cal), BusinessCalendar).business_time_between(
            datetime(2026, 3, 6, 9, tzinfo=TAIPEI), datetime(2026, 3, 7, tzinfo=TAIPEI)
        )
        == 6 * H
    )


@settings(max_examples=30)
@given(service_calendars())
def test_service_calendars_round_trip(cal: BusinessCalendar) -> None:
    assert from_json(to_json(cal), BusinessCalendar) == cal


# ----- the weekly skip ---------------------------------------------------------------------------


def test_weekly_hours() -> None:
    assert office().weekly_hours == 40 * H


def test_thirty_days_of_business_time_over_a_dst_change_and_bank_holidays() -> None:
    cal = BusinessCalendar.office_hours("Europe/London", ("09:00", "17:00"))
    cal = cal.with_public_holidays("GB", years=[2026], subdivision="ENG")
    start = datetime(2026, 3, 2, 9, tzinfo=LONDON)
    # 30 x 24 h = 720 h at 8 h a day = 90 working days. From Monday 2 March: 18 weeks of five
    # days, less Good Friday (3 April), Easter Monday (6 April), 4 May and 25 May, is 86 days
    # by Friday 3 July; four more days end on Thursday 9 July at 17:00 (BST).
    due = cal.add_business_time(start, timedelta(days=30))
    assert due == datetime(2026, 7, 9, 17, tzinfo=LONDON)
    assert cal.business_time_between(start, due) == timedelta(days=30)


durations = st.integers(1, 90 * 24).map(lambda h: timedelta(hours=h)) | st.integers(1, 10**13).map(
    lambda us: timedelta(microseconds=us)
)


@settings(max_examples=60)
@given(
    business_calendars(),
    aware_datetimes(
        datetime(2025, 1, 1, tzinfo=timezone.utc), datetime(2027, 1, 1, tzinfo=timezone.utc)
    ),
    durations,
)
def test_long_durations_round_trip_through_between(
    cal: BusinessCalendar, start: datetime, d: timedelta
) -> None:
    due = cal.add_business_time(start, d)
    assert cal.business_time_between(start, due) == d
    assert cal.is_working_time(due - timedelta(microseconds=1))


def test_far_dates_are_walked_and_the_end_of_time_is_a_validation_error() -> None:
    cal = BusinessCalendar.office_hours("UTC", ("09:00", "17:00"))
    utc = timezone.utc
    # Outside 1900-2200 no daylight-saving table is read: the days are walked one by one.
    assert cal.add_business_time(datetime(2250, 12, 1, tzinfo=utc), timedelta(days=10)) == (
        datetime(2251, 1, 10, 17, tzinfo=utc)  # 30 working days: December's 22, January's 8
    )
    first, last = datetime(1890, 1, 1, tzinfo=utc), datetime(1910, 1, 1, tzinfo=utc)
    weekdays = sum(1 for n in range((last - first).days) if (first + timedelta(n)).weekday() < 5)
    assert cal.business_time_between(first, last) == weekdays * 8 * H
    with pytest.raises(ValidationError, match="ends after the year 9999") as info:
        cal.add_business_time(datetime(9999, 12, 1, tzinfo=utc), timedelta(days=100))
    assert info.value.errors[0].path == "duration"
