"""decide(): opt-outs suppress marketing, transactional goes through, quiet hours defer."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit import NaiveDatetimeError, ValidationError
from crmkit.customers import Channel, Contact, QuietHours
from crmkit.notifications.consent import ConsentDecision, Purpose, Verdict, decide
from crmkit.serialization import from_json, to_json
from crmkit.testing.strategies import aware_datetimes, contacts, quiet_hours

UTC = timezone.utc
TPE = ZoneInfo("Asia/Taipei")
NY = ZoneInfo("America/New_York")
LON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=TPE)


def _contact(**kw: Any) -> Contact:
    return Contact(**{"id": "con_1", "customer_id": "cus_1", "name": "Lin Mei-ling", **kw})


def _opted(granted: bool, channel: str = "sms", **kw: Any) -> Contact:
    mei = _contact(**kw)
    mei.record_consent(channel, granted, source="phone call", now=NOW, by="u_amy")
    return mei


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# ----- consent ---------------------------------------------------------------------------------


def test_an_opt_out_suppresses_marketing_and_names_the_record() -> None:
    d = decide(_opted(False), "sms", "marketing", NOW)
    assert d.verdict is Verdict.SUPPRESS and d.send_at is None
    assert "opted out of marketing by sms on 2026-03-02T10:00+08:00" in d.reason
    assert "source: phone call" in d.reason
    assert d.logged_as == "marketing (suppressed: opted out)"
    assert d.consent is not None and not d.consent.granted


def test_an_opt_out_on_one_channel_leaves_the_others_alone() -> None:
    mei = _opted(False, "sms")
    mei.record_consent("email", True, source="web form", now=NOW)
    assert decide(mei, "email", "marketing", NOW).verdict is Verdict.SEND


def test_no_record_suppresses_marketing_when_opt_in_is_required() -> None:
    d = decide(_contact(), "line", "marketing", NOW)
    assert d.verdict is Verdict.SUPPRESS and d.consent is None
    assert "needs a recorded opt-in" in d.reason and "require_opt_in=False" in d.reason
    assert d.logged_as == "marketing (suppressed: no opt-in)"


def test_no_record_sends_marketing_where_opt_in_is_not_required() -> None:
    d = decide(_contact(), "line", "marketing", NOW, require_opt_in=False)
    assert d.verdict is Verdict.SEND
    assert d.logged_as == "marketing (no consent on record; opt-in not required)"


def test_an_opt_out_suppresses_even_where_opt_in_is_not_required() -> None:
    d = decide(_opted(False), "sms", "marketing", NOW, require_opt_in=False)
    assert d.verdict is Verdict.SUPPRESS


def test_an_opt_in_sends_marketing() -> None:
    d = decide(_opted(True), "sms", "marketing", NOW)
    assert (d.verdict, d.logged_as) == (Verdict.SEND, "marketing (opted in)")
    assert "opted in to marketing by sms" in d.reason


def test_the_latest_statement_wins() -> None:
    mei = _opted(False)
    mei.record_consent("sms", True, source="web form", now=NOW + timedelta(days=1))
    later = NOW + timedelta(days=2)
    assert decide(mei, "sms", "marketing", later).verdict is Verdict.SEND
    mei.record_consent("sms", False, source="replied STOP", now=later)
    d = decide(mei, "sms", "marketing", later)
    assert d.verdict is Verdict.SUPPRESS and "replied STOP" in d.reason
    assert len(mei.consents) == 3


def test_a_transactional_message_is_sent_despite_an_opt_out_and_logged_as_such() -> None:
    d = decide(_opted(False), "sms", "transactional", NOW)
    assert d.verdict is Verdict.SEND
    assert d.logged_as == "transactional (sent despite opt-out)"
    assert "opted out of marketing by sms" in d.reason
    assert d.consent is not None and not d.consent.granted


def test_a_transactional_opt_out_is_reported_too() -> None:
    mei = _contact()
    mei.record_consent(
        "sms", False, source="asked for no order texts", now=NOW, purpose="transactional"
    )
    d = decide(mei, "sms", Purpose.TRANSACTIONAL, NOW)
    assert d.verdict is Verdict.SEND and d.logged_as == "transactional (sent despite opt-out)"
    assert "opted out of transactional by sms" in d.reason


def test_a_transactional_message_without_opt_out_is_plain_transactional() -> None:
    d = decide(_opted(True), "sms", "transactional", NOW)
    assert (d.verdict, d.logged_as, d.consent) == (Verdict.SEND, "transactional", None)


# ----- quiet hours -----------------------------------------------------------------------------


def _night(zone: str = "Asia/Taipei", **kw: Any) -> Contact:
    return _opted(True, timezone=zone, quiet_hours=QuietHours("22:00", "08:00"), **kw)


@pytest.mark.parametrize(
    ("local", "send_at"),
    [
        (datetime(2026, 3, 2, 23, 30), datetime(2026, 3, 3, 8, 0)),
        (datetime(2026, 3, 2, 22, 0), datetime(2026, 3, 3, 8, 0)),
        (datetime(2026, 3, 3, 0, 0), datetime(2026, 3, 3, 8, 0)),
        (datetime(2026, 3, 3, 7, 59), datetime(2026, 3, 3, 8, 0)),
        (datetime(2026, 3, 3, 8, 0), None),
        (datetime(2026, 3, 2, 21, 59), None),
    ],
)
def test_quiet_hours_wrap_midnight_in_taipei(local: datetime, send_at: datetime | None) -> None:
    at = local.replace(tzinfo=TPE)
    d = decide(_night(), "sms", "marketing", at)
    if send_at is None:
        assert d.verdict is Verdict.SEND and "outside the quiet hours 22:00-08:00" in d.reason
    else:
        assert d.verdict is Verdict.DEFER
        assert d.send_at == send_at.replace(tzinfo=TPE)
        assert "within the quiet hours 22:00-08:00" in d.reason
        assert "in Asia/Taipei" in d.reason


def test_quiet_hours_are_read_on_the_contacts_clock_not_the_callers() -> None:
    at = datetime(2026, 3, 2, 14, 30, tzinfo=UTC)  # 22:30 in Taipei, 14:30 in London
    assert decide(_night(), "sms", "marketing", at).verdict is Verdict.DEFER
    assert decide(_night("Europe/London"), "sms", "marketing", at).verdict is Verdict.SEND


def test_a_transactional_message_waits_for_quiet_hours_too() -> None:
    d = decide(_night(), "sms", "transactional", datetime(2026, 3, 2, 23, 0, tzinfo=TPE))
    assert d.verdict is Verdict.DEFER and d.send_at == datetime(2026, 3, 3, 8, 0, tzinfo=TPE)
    assert d.logged_as == "transactional"


def test_an_urgent_transactional_message_goes_through_quiet_hours() -> None:
    at = datetime(2026, 3, 2, 23, 0, tzinfo=TPE)
    d = decide(_night(), "sms", "transactional", at, urgent=True)
    assert d.verdict is Verdict.SEND and "urgent" in d.reason and d.send_at is None


def test_marketing_cannot_be_urgent() -> None:
    with pytest.raises(ValidationError) as info:
        decide(_night(), "sms", "marketing", NOW, urgent=True)
    assert info.value.errors[0].path == "urgent"


def test_a_suppressed_message_is_not_deferred() -> None:
    mei = _opted(False, timezone="Asia/Taipei", quiet_hours=QuietHours("22:00", "08:00"))
    d = decide(mei, "sms", "marketing", datetime(2026, 3, 2, 23, 0, tzinfo=TPE))
    assert d.verdict is Verdict.SUPPRESS and d.send_at is None


def test_a_contact_without_a_zone_is_read_in_the_default_zone() -> None:
    mei = _opted(True, quiet_hours=QuietHours("22:00", "08:00"))
    at = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 07:00 the next day in Taipei
    in_utc = decide(mei, "sms", "marketing", at)
    assert in_utc.verdict is Verdict.DEFER and in_utc.timezone == "UTC"
    assert "the contact has no time zone; read in UTC" in in_utc.reason
    in_taipei = decide(mei, "sms", "marketing", at, default_timezone="Asia/Taipei")
    assert in_taipei.send_at == datetime(2026, 3, 3, 8, 0, tzinfo=TPE)
    assert decide(mei, "sms", "marketing", at, default_timezone=TPE).timezone == "Asia/Taipei"


def test_no_quiet_hours_means_send_now() -> None:
    d = decide(_opted(True, timezone="Asia/Taipei"), "sms", "marketing", NOW.replace(hour=3))
    assert d.verdict is Verdict.SEND and "no quiet hours are set" in d.reason


# ----- daylight saving -------------------------------------------------------------------------


def _quiet(start: str, end: str, zone: str) -> Contact:
    return _opted(True, timezone=zone, quiet_hours=QuietHours(start, end))


def test_new_york_spring_forward_window_lasts_one_real_hour() -> None:
    # 2026-03-08: clocks go from 02:00 EST to 03:00 EDT; 01:00-03:00 is 06:00-07:00 UTC.
    at = datetime(2026, 3, 8, 1, 30, tzinfo=NY)
    d = decide(_quiet("01:00", "03:00", "America/New_York"), "sms", "marketing", at)
    assert d.verdict is Verdict.DEFER and d.send_at is not None
    assert d.send_at.isoformat() == "2026-03-08T03:00:00-04:00"
    assert _utc(d.send_at) - _utc(at) == timedelta(minutes=30)


def test_new_york_window_ending_at_a_skipped_time_ends_at_the_jump() -> None:
    # 02:30 never happens on 2026-03-08; the first moment the clock shows 02:30 or later is
    # 03:00 EDT (07:00 UTC), not 03:30 EDT (what fold=0 would give) nor 01:30 EST (fold=1).
    at = datetime(2026, 3, 7, 23, 0, tzinfo=NY)
    d = decide(_quiet("22:00", "02:30", "America/New_York"), "sms", "marketing", at)
    assert d.send_at is not None and _utc(d.send_at) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert d.send_at.isoformat() == "2026-03-08T03:00:00-04:00"


def test_new_york_fall_back_window_lasts_three_real_hours() -> None:
    # 2026-11-01: clocks go from 02:00 EDT back to 01:00 EST; 01:00-03:00 is 05:00-08:00 UTC.
    first = datetime(2026, 11, 1, 1, 30, tzinfo=NY)  # fold=0: 05:30 UTC
    second = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NY)  # 06:30 UTC
    contact = _quiet("01:00", "03:00", "America/New_York")
    for at in (first, second):
        d = decide(contact, "sms", "marketing", at)
        assert d.send_at is not None
        assert _utc(d.send_at) == datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def test_new_york_window_ending_at_a_repeated_time() -> None:
    # 01:30 happens twice on 2026-11-01. Quiet hours are wall-clock: the window ends at the
    # first 01:30 (EDT); when the clock goes back, 01:00-01:30 EST is quiet again.
    contact = _quiet("22:00", "01:30", "America/New_York")
    evening = decide(contact, "sms", "marketing", datetime(2026, 10, 31, 23, 0, tzinfo=NY))
    assert evening.send_at is not None
    assert evening.send_at.isoformat() == "2026-11-01T01:30:00-04:00"
    between = datetime(2026, 11, 1, 1, 45, tzinfo=NY)  # 01:45 EDT, the first pass
    assert decide(contact, "sms", "marketing", between).verdict is Verdict.SEND
    repeated = datetime(2026, 11, 1, 1, 10, fold=1, tzinfo=NY)  # 01:10 EST
    again = decide(contact, "sms", "marketing", repeated)
    assert again.send_at is not None
    assert _utc(again.send_at) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert again.send_at.fold == 1


def test_a_jump_over_the_whole_open_time_waits_for_the_next_end() -> None:
    # 02:45-02:30 leaves only 02:30-02:45 open, which 2026-03-08 skips entirely.
    at = datetime(2026, 3, 7, 23, 0, tzinfo=NY)
    d = decide(_quiet("02:45", "02:30", "America/New_York"), "sms", "marketing", at)
    assert d.send_at is not None and d.send_at.isoformat() == "2026-03-09T02:30:00-04:00"


def test_london_spring_forward() -> None:
    # 2026-03-29: 01:00 GMT becomes 02:00 BST; 01:30 never happens.
    at = datetime(2026, 3, 29, 0, 45, tzinfo=LON)
    d = decide(_quiet("00:30", "01:30", "Europe/London"), "sms", "marketing", at)
    assert d.send_at is not None and d.send_at.isoformat() == "2026-03-29T02:00:00+01:00"
    assert _utc(d.send_at) == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_london_fall_back() -> None:
    # 2026-10-25: 02:00 BST becomes 01:00 GMT; 23:00-08:00 lasts ten real hours that night.
    contact = _quiet("23:00", "08:00", "Europe/London")
    at = datetime(2026, 10, 24, 23, 30, tzinfo=LON)
    d = decide(contact, "sms", "marketing", at)
    assert d.send_at is not None and d.send_at.isoformat() == "2026-10-25T08:00:00+00:00"
    assert _utc(d.send_at) - _utc(at) == timedelta(hours=9, minutes=30)
    repeated = datetime(2026, 10, 25, 1, 15, fold=1, tzinfo=LON)
    assert decide(contact, "sms", "marketing", repeated).send_at == d.send_at


def test_taipei_has_no_daylight_saving() -> None:
    contact = _quiet("01:00", "03:00", "Asia/Taipei")
    for day in (8, 9):  # the New York change makes no difference in Taipei
        at = datetime(2026, 3, day, 1, 30, tzinfo=TPE)
        d = decide(contact, "sms", "marketing", at)
        assert d.send_at is not None and _utc(d.send_at) - _utc(at) == timedelta(minutes=90)


# ----- input and the decision value ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kw"),
    [
        ("contact", {"contact": "con_1"}),
        ("channel", {"channel": "fax"}),
        ("purpose", {"purpose": "spam"}),
        ("at", {"at": "2026-03-02T10:00:00+08:00"}),
        ("require_opt_in", {"require_opt_in": "yes"}),
        ("urgent", {"urgent": 1}),
        ("default_timezone", {"default_timezone": "Mars/Olympus"}),
    ],
)
def test_malformed_input_names_the_argument(path: str, kw: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "contact": _contact(quiet_hours=QuietHours("22:00", "08:00")),
        "channel": "sms",
        "purpose": "transactional",
        "at": NOW,
    }
    args.update(kw)
    with pytest.raises(ValidationError) as info:
        decide(**args)
    assert info.value.errors[0].path == path


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        decide(_contact(), "sms", "transactional", datetime(2026, 3, 2, 10, 0))


def test_a_decision_round_trips_through_json() -> None:
    d = decide(_night(), "sms", "marketing", datetime(2026, 3, 2, 23, 0, tzinfo=TPE))
    assert from_json(to_json(d), ConsentDecision) == d


def test_send_at_belongs_to_deferred_decisions_only() -> None:
    base: dict[str, Any] = {
        "reason": "r",
        "logged_as": "transactional",
        "channel": "sms",
        "purpose": "transactional",
        "timezone": "UTC",
    }
    with pytest.raises(ValidationError, match="send_at"):
        ConsentDecision(verdict="defer", **base)
    with pytest.raises(ValidationError, match="send_at"):
        ConsentDecision(verdict="send", send_at=NOW, **base)


# ----- properties ------------------------------------------------------------------------------

_TIMES = aware_datetimes(
    datetime(2025, 1, 1, tzinfo=UTC),
    datetime(2028, 1, 1, tzinfo=UTC),
)


@st.composite
def _quiet_contacts(draw: st.DrawFn) -> Contact:
    contact = draw(contacts())
    contact.quiet_hours = draw(quiet_hours())
    return contact


@settings(max_examples=150)
@given(
    _quiet_contacts(),
    st.sampled_from(Channel),
    st.sampled_from(Purpose),
    _TIMES,
    st.booleans(),
)
def test_a_deferral_ends_after_at_and_outside_quiet_hours(
    contact: Contact, channel: Channel, purpose: Purpose, at: datetime, opt_in: bool
) -> None:
    d = decide(contact, channel, purpose, at, require_opt_in=opt_in)
    assert contact.quiet_hours is not None
    zone = ZoneInfo(contact.timezone or "UTC")
    if d.verdict is not Verdict.DEFER:
        assert d.send_at is None
        if d.verdict is Verdict.SEND:
            assert not contact.quiet_hours.contains(at.astimezone(zone).time())
        return
    assert d.send_at is not None
    assert _utc(d.send_at) > _utc(at)
    assert not contact.quiet_hours.contains(d.send_at.astimezone(zone).time())
    # ... and it is the end of the window: a moment earlier was still quiet.
    just_before = _utc(d.send_at) - timedelta(microseconds=1)
    assert contact.quiet_hours.contains(just_before.astimezone(zone).time())
    assert contact.quiet_hours.contains(at.astimezone(zone).time())
    # Deciding again at send_at does not defer (nothing else changed).
    assert decide(contact, channel, purpose, d.send_at, require_opt_in=opt_in).verdict is not (
        Verdict.DEFER
    )


@settings(max_examples=200)
@given(contacts(), st.sampled_from(Channel), _TIMES, st.booleans())
def test_the_latest_consent_record_decides_marketing(
    contact: Contact, channel: Channel, at: datetime, opt_in: bool
) -> None:
    mine = [
        (r.at, i, r)
        for i, r in enumerate(contact.consents)
        if r.channel is channel and r.purpose is Purpose.MARKETING
    ]
    latest = max(mine, key=lambda item: (item[0], item[1]))[2] if mine else None
    d = decide(contact, channel, "marketing", at, require_opt_in=opt_in)
    suppressed = (latest is not None and not latest.granted) or (latest is None and opt_in)
    assert (d.verdict is Verdict.SUPPRESS) is suppressed
    assert d.consent is latest
    if latest is not None:
        assert latest.source in d.reason and latest.at.isoformat(timespec="minutes") in d.reason


@settings(max_examples=200)
@given(contacts(), st.sampled_from(Channel), _TIMES, st.booleans())
def test_transactional_messages_are_never_suppressed(
    contact: Contact, channel: Channel, at: datetime, urgent: bool
) -> None:
    d = decide(contact, channel, "transactional", at, urgent=urgent)
    assert d.verdict is not Verdict.SUPPRESS
    if urgent:
        assert d.verdict is Verdict.SEND
    opted_out = any(
        (r := contact.consent_for(channel, p)) is not None and not r.granted for p in Purpose
    )
    assert (d.logged_as == "transactional (sent despite opt-out)") is opted_out
    assert d.reason


@settings(max_examples=100)
@given(contacts(), st.sampled_from(Channel), st.sampled_from(Purpose), _TIMES)
def test_deciding_changes_nothing_and_round_trips(
    contact: Contact, channel: Channel, purpose: Purpose, at: datetime
) -> None:
    before = to_json(contact)
    d = decide(contact, channel, purpose, at)
    assert to_json(contact) == before
    assert from_json(to_json(d), ConsentDecision) == d


#: Clock changes in 2026: (zone, the instant in UTC).
_CHANGES = [
    ("America/New_York", datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
    ("America/New_York", datetime(2026, 11, 1, 6, 0, tzinfo=UTC)),
    ("Europe/London", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    ("Europe/London", datetime(2026, 10, 25, 1, 0, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2026, 4, 4, 15, 0, tzinfo=UTC)),  # a half-hour change
]


@settings(max_examples=300)
@given(
    st.sampled_from(_CHANGES),
    st.integers(-36 * 60, 36 * 60),
    quiet_hours(),
    st.sampled_from(Purpose),
)
def test_deferrals_are_right_around_clock_changes(
    change: tuple[str, datetime], minutes: int, quiet: QuietHours, purpose: Purpose
) -> None:
    zone_name, instant = change
    zone = ZoneInfo(zone_name)
    contact = _opted(True, timezone=zone_name, quiet_hours=quiet)
    at = (instant + timedelta(minutes=minutes)).astimezone(zone)
    d = decide(contact, "sms", purpose, at)
    inside = quiet.contains(at.time())
    assert (d.verdict is Verdict.DEFER) is inside
    if d.send_at is None:
        return
    assert _utc(d.send_at) > _utc(at)
    assert not quiet.contains(d.send_at.astimezone(zone).time())
    assert quiet.contains((_utc(d.send_at) - timedelta(microseconds=1)).astimezone(zone).time())
    # Every whole minute in between is quiet too: the window does not end earlier.
    step = _utc(at).replace(second=0, microsecond=0) + timedelta(minutes=1)
    while step < _utc(d.send_at):
        assert quiet.contains(step.astimezone(zone).time()), step
        step += timedelta(minutes=1)


def test_a_clock_set_back_out_of_the_window_ends_it_at_the_change() -> None:
    """Found by hypothesis: quiet 01:01-00:00 on New York's fall-back night.

    At 01:59 EDT the contact is in quiet hours; at 06:00 UTC the clock goes back to 01:00 EST,
    which is outside them, so the message may go then, not at midnight.
    """
    ny = ZoneInfo("America/New_York")
    quiet = QuietHours("01:01", "00:00")
    at = datetime(2026, 11, 1, 5, 59, tzinfo=timezone.utc)
    end = quiet.window_end(at, ny)
    assert end is not None
    assert end.astimezone(timezone.utc) == datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)
    assert (end.hour, end.minute, end.fold) == (1, 0, 1)
