"""Worked SLA examples, checked by hand: a London team and a Taipei team, public holidays from the
holidays package, a daylight-saving change, and pauses while awaiting the customer."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from crmkit.kernel.calendar import BusinessCalendar, Weekday, WorkingHours
from crmkit.service import Complaint, ComplaintPolicy
from crmkit.service.sla import SlaPolicy, SlaState, sla_status

LONDON = ZoneInfo("Europe/London")
TAIPEI = ZoneInfo("Asia/Taipei")
UTC = timezone.utc
H = timedelta(hours=1)

POLICY = ComplaintPolicy(categories=["delivery", "billing"])
SLA = SlaPolicy(name="standard", first_response=24 * H, resolution=40 * H)


@pytest.fixture(scope="module")
def london() -> BusinessCalendar:
    """Monday to Friday 09:00-18:00 in London, with England's bank holidays of 2026 and 2027."""
    calendar = BusinessCalendar.office_hours("Europe/London", ("09:00", "18:00"), name="London")
    return calendar.with_public_holidays("GB", years=[2026, 2027], subdivision="ENG")


@pytest.fixture(scope="module")
def taipei() -> BusinessCalendar:
    """Monday to Friday 09:00-12:00 and 13:00-18:00 in Taipei, with Taiwan's 2026 holidays."""
    calendar = BusinessCalendar.office_hours(
        "Asia/Taipei", ("09:00", "12:00"), ("13:00", "18:00"), name="Taipei"
    )
    return calendar.with_public_holidays("TW", years=[2026])


def file(at: datetime) -> Complaint:
    return Complaint.file(
        id="case_1",
        reference="CS-1001",
        now=at,
        channel="email",
        customer_id="cus_1",
        subject="Parcel never arrived",
        category="delivery",
        impact="medium",
        urgency="high",
        policy=POLICY,
    )


def test_the_holidays_come_from_the_holidays_package(
    london: BusinessCalendar, taipei: BusinessCalendar
) -> None:
    assert london.is_holiday(date(2026, 5, 4))  # Early May bank holiday (a Monday)
    assert london.is_holiday(date(2027, 3, 26)) and london.is_holiday(date(2027, 3, 29))
    assert taipei.is_holiday(date(2026, 10, 26))  # Restoration Day, observed on the Monday
    assert [s.country for s in london.public_holidays] == ["GB"]
    assert london.public_holidays[0].subdivision == "ENG"


def test_london_friday_1730_before_a_bank_holiday_monday(london: BusinessCalendar) -> None:
    filed = datetime(2026, 5, 1, 17, 30, tzinfo=LONDON)  # Friday; Monday 4 May is a holiday
    # 24 business hours:
    #   Fri 1 May   17:30-18:00  0.5 h   (0.5)
    #   Sat, Sun, and Monday's bank holiday: nothing
    #   Tue 5 May   09:00-18:00  9 h     (9.5)
    #   Wed 6 May   09:00-18:00  9 h     (18.5)
    #   Thu 7 May   09:00-14:30  5.5 h   (24)
    clock = sla_status(file(filed), SLA, london, filed).first_response
    assert clock.deadline == datetime(2026, 5, 7, 14, 30, tzinfo=LONDON)
    assert clock.deadline.utcoffset() == H  # British Summer Time
    assert clock.elapsed == timedelta(0)
    assert clock.remaining == 24 * H
    assert clock.state is SlaState.OK


def test_london_good_friday_to_easter_monday_across_the_clocks_going_forward(
    london: BusinessCalendar,
) -> None:
    # Filed on Good Friday 26 March 2027 at 17:30 GMT; Easter Monday 29 March is a holiday too,
    # and the clocks go forward on Sunday 28 March. The wall-clock hours are what count:
    #   Tue 30 March 09:00-18:00 BST  9 h  (9)
    #   Wed 31 March 09:00-18:00      9 h  (18)
    #   Thu 1 April  09:00-15:00      6 h  (24)
    filed = datetime(2027, 3, 26, 17, 30, tzinfo=LONDON)
    clock = sla_status(file(filed), SLA, london, filed).first_response
    assert clock.deadline == datetime(2027, 4, 1, 15, 0, tzinfo=LONDON)
    assert clock.deadline.utcoffset() == H
    # Five days and 21.5 hours pass on the wall clock (Fri 17:30 to Thu 15:00), an hour less
    # in real time.
    real = clock.deadline.astimezone(UTC) - filed.astimezone(UTC)
    assert real == timedelta(days=5, hours=20, minutes=30)


def test_taipei_team_gets_a_complaint_written_in_london(taipei: BusinessCalendar) -> None:
    # The customer wrote from London on Friday 23 October 2026 at 10:30 BST: 17:30 in Taipei,
    # where Monday 26 October is the observed Restoration Day. 24 business hours in Taipei:
    #   Fri 23 Oct  17:30-18:00                0.5 h  (0.5)
    #   Tue 27 Oct  09:00-12:00, 13:00-18:00   8 h    (8.5)
    #   Wed 28 Oct                             8 h    (16.5)
    #   Thu 29 Oct  09:00-12:00                3 h    (19.5)
    #               13:00-17:30                4.5 h  (24)
    # London's clocks go back on Sunday 25 October; Taipei keeps UTC+8 throughout.
    filed = datetime(2026, 10, 23, 10, 30, tzinfo=LONDON)
    status = sla_status(file(filed), SLA, taipei, filed)
    assert status.first_response.deadline == datetime(2026, 10, 29, 17, 30, tzinfo=TAIPEI)
    assert status.first_response.started_at == datetime(2026, 10, 23, 17, 30, tzinfo=TAIPEI)
    assert status.timezone == "Asia/Taipei" and status.calendar == "Taipei"


def test_a_two_day_pause_moves_the_deadline_by_exactly_the_business_time_paused(
    london: BusinessCalendar,
) -> None:
    filed = datetime(2026, 5, 1, 17, 30, tzinfo=LONDON)
    tuesday_10 = datetime(2026, 5, 5, 10, 0, tzinfo=LONDON)
    thursday_10 = datetime(2026, 5, 7, 10, 0, tzinfo=LONDON)
    later = datetime(2026, 5, 8, 12, 0, tzinfo=LONDON)

    steady = file(filed)
    steady.acknowledge(now=tuesday_10, owner="u_amy")
    steady.reply("We are tracing it.", now=tuesday_10, by="u_amy")
    steady.start_work(now=tuesday_10)

    paused = file(filed)
    paused.acknowledge(now=tuesday_10, owner="u_amy")
    paused.reply("Could you confirm the address?", now=tuesday_10, by="u_amy",
                 wait_for_customer=True)  # fmt: skip
    paused.receive_customer_message("It is 10 Downing St.", now=thursday_10)

    # Resolution target 40 business hours, without a pause:
    #   Fri 0.5 h; Tue 9 (9.5); Wed 9 (18.5); Thu 9 (27.5); Fri 8 May 9 (36.5);
    #   Mon 11 May 09:00-12:30 3.5 h (40)
    plain = sla_status(steady, SLA, london, later).resolution
    assert plain.deadline == datetime(2026, 5, 11, 12, 30, tzinfo=LONDON)

    # Paused from Tuesday 10:00 to Thursday 10:00: Tue 10:00-18:00 8 h + Wed 9 h + Thu
    # 09:00-10:00 1 h = 18 business hours held back. The deadline moves by exactly those:
    #   from Mon 11 May 12:30: 5.5 h that Monday, 9 h Tuesday (14.5), 3.5 h Wednesday (18)
    held = sla_status(paused, SLA, london, later).resolution
    assert held.pauses[0].business_time == 18 * H
    assert (held.pauses[0].start, held.pauses[0].end) == (tuesday_10, thursday_10)
    assert held.deadline == datetime(2026, 5, 13, 12, 30, tzinfo=LONDON)
    assert london.business_time_between(plain.deadline, held.deadline) == 18 * H
    assert held.elapsed == plain.elapsed - 18 * H
    # The first response was met on Tuesday at 10:00 either way: 0.5 h + 1 h = 1.5 h.
    first = sla_status(paused, SLA, london, later).first_response
    assert first.state is SlaState.MET and first.elapsed == timedelta(hours=1, minutes=30)


def _paused_case(filed: datetime, pause: datetime, resume: datetime) -> Complaint:
    case = file(filed)
    case.acknowledge(now=filed, owner="u_mei")
    case.start_work(now=filed)
    case.wait_for_customer(now=pause, reason="photo of the damage")
    case.receive_customer_message("Photo attached", now=resume)
    return case


@pytest.mark.parametrize(
    ("pause", "resume", "held_back", "deadline"),
    [
        # Friday 16 Oct 17:00 to Sunday 18 Oct 17:00: two days, of which only Friday
        # 17:00-18:00 is working time: 48 h + 1 h = 49 h, Tue 20 Oct 09:00-10:00.
        ((2026, 10, 16, 17), (2026, 10, 18, 17), 1, (2026, 10, 20, 10)),
        # Tuesday 13 Oct 17:00 to Thursday 15 Oct 17:00: Tue 1 h + Wed 8 h + Thu 09:00-12:00 and
        # 13:00-17:00 7 h = 16 h: 48 h + 16 h = 64 h, Tue 20 8 h (56), Wed 21 8 h (64) 18:00.
        ((2026, 10, 13, 17), (2026, 10, 15, 17), 16, (2026, 10, 21, 18)),
        # Friday 9 Oct (National Day, observed) 17:00 to Sunday: a holiday and a weekend hold
        # nothing back, and the deadline stays where it was.
        ((2026, 10, 9, 17), (2026, 10, 11, 17), 0, (2026, 10, 19, 18)),
    ],
)
def test_a_two_day_pause_holds_back_only_the_working_time_in_it(
    taipei: BusinessCalendar,
    pause: tuple[int, ...],
    resume: tuple[int, ...],
    held_back: int,
    deadline: tuple[int, ...],
) -> None:
    # Taipei, filed Monday 12 October 2026 at 09:00 (8 business hours a day, no holiday until
    # the 25th); the resolution target is 48 business hours: Mon 12 to Fri 16 Oct give 40 h and
    # Mon 19 Oct 8 h more, so without a pause the deadline is Monday 19 October at 18:00.
    sla = SlaPolicy(name="p3", first_response=8 * H, resolution=48 * H)
    filed = datetime(2026, 10, 12, 9, 0, tzinfo=TAIPEI)
    if pause < (2026, 10, 12):  # the holiday variant: file a week earlier, pause on the 9th
        filed -= timedelta(days=7)
    case = _paused_case(filed, datetime(*pause, tzinfo=TAIPEI), datetime(*resume, tzinfo=TAIPEI))
    clock = sla_status(case, sla, taipei, datetime(2026, 10, 22, tzinfo=TAIPEI)).resolution
    assert clock.pauses[0].business_time == held_back * H
    if pause < (2026, 10, 12):
        # Filed Mon 5 Oct: Mon-Thu 32 h (Friday 9th is the holiday), Mon 12 to Wed 14 24 h
        # (56 h > 48): 48 h fall on Tue 13 Oct at 18:00 - untouched by the pause.
        assert clock.deadline == datetime(2026, 10, 13, 18, 0, tzinfo=TAIPEI)
    else:
        assert clock.deadline == datetime(*deadline, tzinfo=TAIPEI)


def test_a_round_the_clock_desk_counts_the_real_hours_of_the_long_autumn_sunday() -> None:
    desk = BusinessCalendar(
        timezone="Europe/London", hours=[WorkingHours(d, "00:00", "00:00") for d in Weekday]
    )
    # London falls back on Sunday 25 October 2026: that day has 25 hours. 24 business hours
    # from Saturday 12:00 BST end on Sunday at 11:00 GMT (12 h on Saturday, 12 h on Sunday,
    # one of Sunday's being the repeated 01:00-02:00).
    start = datetime(2026, 10, 24, 12, 0, tzinfo=LONDON)
    deadline = desk.add_business_time(start, 24 * H)
    assert deadline == datetime(2026, 10, 25, 11, 0, tzinfo=LONDON)
    assert deadline.astimezone(UTC) - start.astimezone(UTC) == 24 * H


def test_a_breach_is_recorded_once_and_explained(london: BusinessCalendar) -> None:
    filed = datetime(2026, 5, 1, 17, 30, tzinfo=LONDON)
    case = file(filed)
    after = datetime(2026, 5, 7, 14, 31, tzinfo=LONDON)  # a minute past the deadline
    status = sla_status(case, SLA, london, after)
    assert status.first_response.state is SlaState.BREACHED
    assert status.first_response.overdue == timedelta(minutes=1)
    text = status.explain()
    assert "first_response: breached" in text
    assert "deadline 2026-05-07T14:30:00+01:00" in text
    assert "calendar 'London' in Europe/London" in text
    new = case.record_breaches(after, policy=SLA, calendar=london)
    assert [b.target.value for b in new] == ["first_response"]
    assert case.record_breaches(after + 100 * H, policy=SLA, calendar=london) == (
        case.breaches[1],
    )  # the resolution target breached later, once
    assert case.record_breaches(after + 200 * H, policy=SLA, calendar=london) == ()
    assert [b.target.value for b in case.breaches] == ["first_response", "resolution"]
