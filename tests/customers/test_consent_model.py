"""Contact consent history, quiet hours, time zone and channel preference on the aggregate."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit import NaiveDatetimeError, ValidationError
from crmkit.adapters._shared import from_document
from crmkit.customers import (
    CONTACTS,
    Channel,
    ConsentRecord,
    Contact,
    Purpose,
    QuietHours,
)
from crmkit.customers import events as ev
from crmkit.kernel.events import DomainEvent
from crmkit.serialization import from_json, structure, to_json, unstructure
from crmkit.testing.strategies import (
    _event_strategies,
    consent_records,
    contacts,
    quiet_hours,
)

TPE = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TPE)


def _contact(**kw: Any) -> Contact:
    return Contact(**{"id": "con_1", "customer_id": "cus_1", "name": "Lin Mei-ling", **kw})


def _paths(error: ValidationError) -> list[str]:
    return [e.path for e in error.errors]


def _state(contact: Contact) -> tuple[Any, ...]:
    return (attrs.asdict(contact, recurse=False), contact.pending_events)


# ----- ConsentRecord ---------------------------------------------------------------------------


def test_a_consent_record_keeps_channel_purpose_time_source_and_who() -> None:
    record = ConsentRecord(
        channel="line",
        granted=True,
        at=NOW,
        source=" 門市登記 ",
        by="u_amy",
        note="signed the paper form v3",
    )
    assert record.channel is Channel.LINE
    assert record.purpose is Purpose.MARKETING  # consent is about marketing unless said
    assert record.source == "門市登記"
    assert record.recorded_at == record.at == NOW


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("channel", {"channel": "fax"}),
        ("granted", {"granted": "yes"}),
        ("granted", {"granted": 1}),
        ("at", {"at": datetime(2026, 3, 2, 9, 0)}),
        ("source", {"source": ""}),
        ("source", {"source": "x" * 201}),
        ("purpose", {"purpose": "spam"}),
        ("by", {"by": "has space"}),
        ("note", {"note": 5}),
        ("recorded_at", {"recorded_at": NOW - timedelta(seconds=1)}),
    ],
)
def test_a_malformed_consent_record_names_the_field(field: str, kw: dict[str, Any]) -> None:
    args: dict[str, Any] = {"channel": "sms", "granted": False, "at": NOW, "source": "call"}
    with pytest.raises(ValidationError) as info:
        ConsentRecord(**{**args, **kw})
    assert _paths(info.value) == [field]


def test_describe_names_the_date_source_and_taker() -> None:
    record = ConsentRecord(
        channel="sms",
        granted=False,
        at=NOW,
        source="phone call",
        by="u_amy",
        recorded_at=NOW + timedelta(days=2),
    )
    assert record.describe() == (
        "opted out of marketing by sms on 2026-03-02T09:00+08:00 (source: phone call, taken by "
        "u_amy, recorded 2026-03-04T09:00+08:00)"
    )


# ----- QuietHours -------------------------------------------------------------------------------


def test_quiet_hours_may_wrap_midnight() -> None:
    night = QuietHours("22:00", "08:00")
    assert night.wraps_midnight
    inside = [time(22, 0), time(23, 59), time(0, 0), time(3, 0), time(7, 59)]
    outside = [time(8, 0), time(12, 0), time(21, 59)]
    assert all(night.contains(t) for t in inside)
    assert not any(night.contains(t) for t in outside)


def test_quiet_hours_within_a_day() -> None:
    lunch = QuietHours(time(12, 0), time(13, 30))
    assert not lunch.wraps_midnight
    assert lunch.contains(time(12, 0)) and lunch.contains(time(13, 29))
    assert not lunch.contains(time(13, 30)) and not lunch.contains(time(11, 59))
    assert str(lunch) == "12:00-13:30"


@pytest.mark.parametrize(
    ("field", "start", "end"),
    [
        ("end", "22:00", "22:00"),
        ("start", "25:00", "08:00"),
        ("start", "late", "08:00"),
        ("end", "22:00", 8),
        ("start", time(22, 0, 30), "08:00"),
        ("end", "22:00", time(8, 0, tzinfo=timezone.utc)),
        ("start", None, "08:00"),
    ],
)
def test_malformed_quiet_hours_name_the_field(field: str, start: Any, end: Any) -> None:
    with pytest.raises(ValidationError) as info:
        QuietHours(start, end)
    assert _paths(info.value) == [field]


@given(quiet_hours(), st.times())
def test_a_wall_time_is_inside_exactly_when_the_window_says(q: QuietHours, wall: time) -> None:
    outside = (q.end <= wall < q.start) if q.wraps_midnight else not (q.start <= wall < q.end)
    expected = not outside
    assert q.contains(wall) is expected


# ----- record_consent and consent_for ------------------------------------------------------------


def test_record_consent_appends_and_records_an_event() -> None:
    mei = _contact()
    record = mei.record_consent("sms", True, source="web form", now=NOW, actor="u_amy")
    assert mei.consents == (record,)
    assert (record.by, record.at, record.recorded_at) == ("u_amy", NOW, NOW)
    (event,) = mei.pending_events
    assert isinstance(event, ev.ConsentRecorded)
    assert (event.channel, event.purpose, event.granted, event.source, event.at) == (
        "sms",
        "marketing",
        True,
        "web form",
        NOW,
    )
    assert (event.actor, event.by, event.customer_id) == ("u_amy", "u_amy", "cus_1")


def test_withdrawing_keeps_every_earlier_record() -> None:
    mei = _contact()
    mei.record_consent("email", True, source="web form", now=NOW)
    mei.record_consent("email", False, source="unsubscribe link", now=NOW + timedelta(days=1))
    mei.record_consent("email", True, source="web form", now=NOW + timedelta(days=2))
    assert [(r.granted, r.source) for r in mei.consents] == [
        (True, "web form"),
        (False, "unsubscribe link"),
        (True, "web form"),
    ]
    latest = mei.consent_for("email")
    assert latest is not None and latest.granted and latest.at == NOW + timedelta(days=2)
    assert [type(e) for e in mei.pending_events] == [ev.ConsentRecorded] * 3


def test_an_imported_older_statement_does_not_override_a_newer_one() -> None:
    mei = _contact()
    mei.record_consent("sms", False, source="replied STOP", now=NOW)
    old = NOW - timedelta(days=365)
    mei.record_consent("sms", True, source="import", now=NOW + timedelta(hours=1), at=old)
    assert len(mei.consents) == 2
    latest = mei.consent_for("sms")
    assert latest is not None and latest.source == "replied STOP"
    imported = mei.consents[-1]
    assert (imported.at, imported.recorded_at) == (old, NOW + timedelta(hours=1))


def test_the_later_entry_wins_a_tie() -> None:
    mei = _contact()
    mei.record_consent("line", True, source="web form", now=NOW)
    mei.record_consent("line", False, source="phone call", now=NOW)
    latest = mei.consent_for("line")
    assert latest is not None and not latest.granted


def test_consent_is_per_channel_and_purpose() -> None:
    mei = _contact()
    mei.record_consent("sms", False, source="replied STOP", now=NOW)
    mei.record_consent("sms", True, source="web form", now=NOW, purpose="transactional")
    assert mei.consent_for("email") is None
    marketing = mei.consent_for(Channel.SMS)
    transactional = mei.consent_for("sms", "transactional")
    assert marketing is not None and not marketing.granted
    assert transactional is not None and transactional.granted


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("at", {"at": NOW + timedelta(minutes=1)}),
        ("at", {"at": datetime(2026, 3, 1)}),
        ("now", {"now": datetime(2026, 3, 2, 9)}),
        ("source", {"source": "  "}),
        ("channel", {"channel": "fax"}),
        ("granted", {"granted": None}),
        ("purpose", {"purpose": "MARKETING"}),
        ("by", {"by": ""}),
        ("actor", {"actor": "a b"}),
    ],
)
def test_a_refused_consent_changes_nothing(field: str, kw: dict[str, Any]) -> None:
    mei = _contact()
    mei.record_consent("sms", True, source="web form", now=NOW)
    before = _state(mei)
    args: dict[str, Any] = {"channel": "sms", "granted": False, "source": "call", "now": NOW}
    with pytest.raises(ValidationError) as info:
        mei.record_consent(**{**args, **kw})
    assert _paths(info.value) == [field]
    assert _state(mei) == before


def test_a_naive_time_is_a_naive_datetime_error() -> None:
    with pytest.raises(NaiveDatetimeError):
        _contact().record_consent("sms", True, source="x", now=NOW, at=datetime(2026, 3, 1))


_STATEMENTS = st.tuples(
    st.sampled_from([Channel.EMAIL, Channel.SMS]),
    st.sampled_from(Purpose),
    st.booleans(),
    st.integers(-5, 0).map(lambda days: timedelta(days=days)),
)


@settings(max_examples=60)
@given(st.lists(_STATEMENTS, max_size=12))
def test_history_only_grows_and_the_latest_statement_wins(
    statements: list[tuple[Channel, Purpose, bool, timedelta]],
) -> None:
    mei = _contact()
    now = NOW
    seen: list[ConsentRecord] = []
    for channel, purpose, granted, back in statements:
        before = mei.consents
        record = mei.record_consent(
            channel, granted, source="form", now=now, purpose=purpose, at=now + back
        )
        assert mei.consents[: len(before)] == before  # never rewritten
        assert mei.consents == (*before, record)
        seen.append(record)
        now += timedelta(hours=1)
    assert len(mei.pending_events) == len(statements)
    for channel in (Channel.EMAIL, Channel.SMS):
        for purpose in Purpose:
            mine = [
                (r.at, i, r)
                for i, r in enumerate(seen)
                if (r.channel, r.purpose) == (channel, purpose)
            ]
            expected = max(mine, key=lambda item: (item[0], item[1]))[2] if mine else None
            assert mei.consent_for(channel, purpose) is expected


# ----- time zone, quiet hours, preferred channel -----------------------------------------------


def test_set_time_zone_checks_and_canonicalises_the_name() -> None:
    mei = _contact()
    mei.set_time_zone("asia/taipei", now=NOW)
    assert mei.timezone == "Asia/Taipei"
    mei.set_time_zone(ZoneInfo("Asia/Taipei"), now=NOW)  # type: ignore[arg-type]
    (event,) = mei.pending_events
    assert isinstance(event, ev.ContactTimeZoneChanged)
    assert (event.old, event.new) == (None, "Asia/Taipei")
    mei.set_time_zone(None, now=NOW)
    assert mei.timezone is None and len(mei.pending_events) == 2


@pytest.mark.parametrize(
    "name", ["Asia/Taipie", "Taipei", "", "../etc/passwd", "America", "+08:00"]
)
def test_an_unknown_time_zone_is_refused(name: str) -> None:
    mei = _contact()
    with pytest.raises(ValidationError) as info:
        mei.set_time_zone(name, now=NOW)
    assert _paths(info.value) == ["timezone"]
    assert "IANA time zone" in str(info.value)
    assert mei.timezone is None and mei.pending_events == ()


def test_a_misspelt_time_zone_gets_a_suggestion() -> None:
    with pytest.raises(ValidationError, match="did you mean 'Asia/Taipei'"):
        _contact(timezone="Asia/Taipie")


def test_set_quiet_hours_takes_a_pair_and_records_old_and_new() -> None:
    mei = _contact()
    mei.set_quiet_hours(("22:00", "08:00"), now=NOW)
    mei.set_quiet_hours(QuietHours("22:00", "08:00"), now=NOW)  # unchanged: no event
    mei.set_quiet_hours((time(23, 0), time(7, 0)), now=NOW)
    mei.set_quiet_hours(None, now=NOW)
    changes = [
        (e.old, e.new) for e in mei.pending_events if isinstance(e, ev.ContactQuietHoursChanged)
    ]
    assert changes == [
        (None, QuietHours("22:00", "08:00")),
        (QuietHours("22:00", "08:00"), QuietHours("23:00", "07:00")),
        (QuietHours("23:00", "07:00"), None),
    ]
    assert mei.quiet_hours is None


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("quiet_hours.end", ("22:00", "22:00")),
        ("quiet_hours.start", ("nope", "08:00")),
        ("quiet_hours", ("22:00",)),
        ("quiet_hours", "22:00-08:00"),
    ],
)
def test_malformed_quiet_hours_change_nothing(path: str, value: Any) -> None:
    mei = _contact(quiet_hours=QuietHours("21:00", "07:00"))
    with pytest.raises(ValidationError) as info:
        mei.set_quiet_hours(value, now=NOW)
    assert _paths(info.value) == [path]
    assert mei.quiet_hours == QuietHours("21:00", "07:00") and mei.pending_events == ()


def test_set_preferred_channel_records_old_and_new() -> None:
    mei = _contact(preferred_channel="email")
    mei.set_preferred_channel("line", now=NOW, actor="u_amy")
    mei.set_preferred_channel(Channel.LINE, now=NOW)
    (event,) = mei.pending_events
    assert isinstance(event, ev.ContactPreferredChannelChanged)
    assert (event.old, event.new, event.actor) == ("email", "line", "u_amy")
    with pytest.raises(ValidationError, match="preferred_channel"):
        mei.set_preferred_channel("fax", now=NOW)
    assert mei.preferred_channel is Channel.LINE


def test_the_constructor_refuses_a_consent_history_that_is_not_records() -> None:
    with pytest.raises(ValidationError) as info:
        _contact(consents=({"channel": "sms"},))
    assert _paths(info.value) == ["consents[0]"]
    with pytest.raises(ValidationError):
        _contact(quiet_hours=("22:00", "08:00"))


# ----- storage ---------------------------------------------------------------------------------


@settings(max_examples=60)
@given(contacts(versions=st.integers(0, 5)))
def test_contacts_round_trip_through_json(contact: Contact) -> None:
    assert from_json(to_json(contact), Contact) == contact


def test_a_contact_with_consents_and_quiet_hours_has_a_readable_document() -> None:
    mei = _contact(timezone="America/New_York", quiet_hours=QuietHours("22:00", "08:00"))
    ambiguous = datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York"))
    mei.record_consent("sms", False, source="replied STOP", now=ambiguous)
    data = unstructure(mei)
    assert data["quiet_hours"] == {"start": "22:00", "end": "08:00"}
    assert data["consents"][0]["at"] == "2026-11-01T01:30:00-05:00[America/New_York]"
    back = structure(json.loads(json.dumps(data)), Contact)
    assert back == mei
    assert back.consents[0].at.fold == 1  # the second 01:30 stays the second one


def test_a_document_written_before_consent_existed_still_loads() -> None:
    old = {
        "id": "con_1",
        "customer_id": "cus_1",
        "name": "Lin Mei-ling",
        "emails": ["mei@example.com"],
        "phones": ["+886912345678"],
        "role": None,
        "decision_maker": False,
        "birthday": "1990-04-01",
        "locale": "zh_Hant_TW",
        "preferred_channel": "line",
    }
    assert CONTACTS.schema_version == 1  # new fields have defaults: no upcaster needed
    contact = from_document(CONTACTS, old, version=3, schema_version=1)
    assert (contact.timezone, contact.quiet_hours, contact.consents) == (None, None, ())
    assert contact.preferred_channel is Channel.LINE and contact.version == 3


def test_a_stored_document_with_a_bad_consent_names_the_path() -> None:
    data = unstructure(_contact())
    data["consents"] = [{"channel": "sms", "granted": "no", "at": "2026-03-02T09:00:00+08:00"}]
    with pytest.raises(ValidationError) as info:
        structure(data, Contact)
    assert set(_paths(info.value)) == {"consents[0].granted", "consents[0].source"}


@settings(max_examples=40)
@given(consent_records(), quiet_hours())
def test_values_round_trip(record: ConsentRecord, quiet: QuietHours) -> None:
    assert from_json(to_json(record), ConsentRecord) == record
    assert from_json(to_json(quiet), QuietHours) == quiet


_NEW_EVENTS = (
    ev.ConsentRecorded,
    ev.ContactTimeZoneChanged,
    ev.ContactQuietHoursChanged,
    ev.ContactPreferredChannelChanged,
)


@settings(max_examples=60)
@given(st.one_of(*(st.from_type(cls) for cls in _NEW_EVENTS)))
def test_the_new_events_round_trip(event: DomainEvent) -> None:
    assert from_json(to_json(event), DomainEvent) == event


def test_domain_events_include_the_new_events() -> None:
    assert set(_NEW_EVENTS) <= set(_event_strategies(st.just("con_1")))
