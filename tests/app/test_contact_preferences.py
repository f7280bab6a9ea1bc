"""Consent and contact preferences through the CRM facade, on the in-memory and SQLite stores."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit import (
    CRM,
    ManualClock,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    bootstrap,
)
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.customers import Channel, Contact, Purpose, QuietHours
from crmkit.customers.commands import RecordConsent, SetContactPreferences
from crmkit.kernel import SequentialIds
from crmkit.notifications.consent import Verdict, decide

TPE = ZoneInfo("Asia/Taipei")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TPE)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, clock: ManualClock) -> Iterator[CRM]:
    if request.param == "memory":
        yield bootstrap(store=MemoryStore(), clock=clock, ids=SequentialIds())
        return
    store = SQLiteStore(":memory:")
    yield bootstrap(store=store, clock=clock, ids=SequentialIds())
    store.close()


def _mei(crm: CRM) -> Contact:
    tea = crm.register_customer("Formosa Tea Co.")
    return crm.add_contact(tea.id, "Lin Mei-ling", phones=["0912 345 678"], region="TW")


def _stored(crm: CRM, contact: Contact) -> Contact:
    (found,) = [c for c in crm.contacts_of(contact.customer_id) if c.id == contact.id]
    return found


def _outbox(crm: CRM) -> list[Any]:
    return [entry.event for entry in crm.store.outbox.pending(1000)]


# ----- record_consent -----------------------------------------------------------------------------


def test_record_consent_stores_the_history_and_an_event(crm: CRM, clock: ManualClock) -> None:
    mei = _mei(crm)
    crm.record_consent(mei.id, "sms", True, source="web form", actor="u_amy")
    clock.advance(timedelta(days=30))
    mei = crm.record_consent(mei.id, "sms", False, source="replied STOP", note="texted STOP")
    assert mei.version == 3
    stored = _stored(crm, mei)
    assert stored == mei
    assert [(r.granted, r.source, r.by, r.at) for r in stored.consents] == [
        (True, "web form", "u_amy", START),
        (False, "replied STOP", None, START + timedelta(days=30)),
    ]
    latest = stored.consent_for("sms")
    assert latest is not None and latest.note == "texted STOP"
    events = [e for e in _outbox(crm) if e.event_type == "customers.ConsentRecorded"]
    assert [(e.granted, e.source, e.aggregate_version) for e in events] == [
        (True, "web form", 2),
        (False, "replied STOP", 3),
    ]


def test_an_imported_consent_keeps_its_original_date(crm: CRM) -> None:
    mei = _mei(crm)
    given = datetime(2024, 5, 1, 10, 0, tzinfo=TPE)
    mei = crm.record_consent(
        mei.id, "email", True, source="import", at=given, by="u_admin", purpose="marketing"
    )
    (record,) = mei.consents
    assert (record.at, record.recorded_at, record.by) == (given, START, "u_admin")


def test_handle_takes_the_command(crm: CRM) -> None:
    mei = _mei(crm)
    done = crm.handle(
        RecordConsent(mei.id, Channel.LINE, True, source="web form", purpose=Purpose.MARKETING)
    )
    assert done.consent_for("line").granted


def test_consent_for_an_unknown_contact_is_not_found(crm: CRM) -> None:
    _mei(crm)
    before = _outbox(crm)
    with pytest.raises(NotFoundError):
        crm.record_consent("con_404", "sms", True, source="web form")
    assert _outbox(crm) == before


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("at", {"at": START + timedelta(seconds=1)}),
        ("at", {"at": datetime(2026, 3, 1)}),
        ("source", {"source": ""}),
        ("channel", {"channel": "fax"}),
        ("granted", {"granted": "no"}),
        ("purpose", {"purpose": "newsletter"}),
        ("note", {"note": "x" * 1001}),
        ("by", {"by": "a b"}),
        ("contact_id", {"contact_id": ""}),
    ],
)
def test_a_refused_consent_stores_nothing(crm: CRM, field: str, kw: dict[str, Any]) -> None:
    mei = _mei(crm)
    before = _outbox(crm)
    args: dict[str, Any] = {
        "contact_id": mei.id,
        "channel": "sms",
        "granted": False,
        "source": "phone call",
    }
    with pytest.raises(ValidationError) as info:
        crm.record_consent(**{**args, **kw})
    assert info.value.errors[0].path.split(".")[0] == field
    assert _stored(crm, mei) == mei
    assert _outbox(crm) == before


# ----- set_contact_preferences --------------------------------------------------------------------


def test_set_contact_preferences_sets_and_clears(crm: CRM) -> None:
    mei = _mei(crm)
    mei = crm.set_contact_preferences(
        mei.id, timezone="Asia/Taipei", quiet_hours=("22:00", "08:00"), preferred_channel="line"
    )
    assert (mei.timezone, mei.quiet_hours, mei.preferred_channel) == (
        "Asia/Taipei",
        QuietHours("22:00", "08:00"),
        Channel.LINE,
    )
    assert _stored(crm, mei) == mei
    types = [e.event_type for e in _outbox(crm)][-3:]
    assert types == [
        "customers.ContactTimeZoneChanged",
        "customers.ContactQuietHoursChanged",
        "customers.ContactPreferredChannelChanged",
    ]
    mei = crm.set_contact_preferences(mei.id, clear=["quiet_hours", "preferred_channel"])
    assert (mei.timezone, mei.quiet_hours, mei.preferred_channel) == ("Asia/Taipei", None, None)
    assert _stored(crm, mei) == mei


def test_an_unchanged_preference_records_no_event(crm: CRM) -> None:
    mei = _mei(crm)
    crm.set_contact_preferences(mei.id, timezone="Asia/Taipei")
    before = _outbox(crm)
    mei = crm.handle(SetContactPreferences(mei.id, timezone="Asia/Taipei"))
    assert _outbox(crm) == before
    assert mei.timezone == "Asia/Taipei"


@pytest.mark.parametrize(
    ("field", "kw"),
    [
        ("timezone", {"timezone": "Taipei"}),
        ("quiet_hours", {"quiet_hours": "22:00-08:00"}),
        ("quiet_hours.end", {"quiet_hours": ("22:00", "22:00")}),
        ("preferred_channel", {"preferred_channel": "fax"}),
        ("clear", {"clear": ["emails"]}),
        ("clear", {"clear": "timezone"}),
        ("clear", {"timezone": "Asia/Taipei", "clear": ["timezone"]}),
        ("", {}),
    ],
)
def test_malformed_preferences_store_nothing(crm: CRM, field: str, kw: dict[str, Any]) -> None:
    mei = _mei(crm)
    before = _outbox(crm)
    with pytest.raises(ValidationError) as info:
        crm.set_contact_preferences(mei.id, **kw)
    path = info.value.errors[0].path
    assert path.split("[")[0] == field
    assert _stored(crm, mei) == mei
    assert _outbox(crm) == before


# ----- access policy ------------------------------------------------------------------------------


class DenyAll:
    def __init__(self) -> None:
        self.asked: list[tuple[str | None, str, object | None]] = []

    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        self.asked.append((actor, action, resource))
        raise PermissionDeniedError(f"{actor!r} may not {action}")


@pytest.mark.parametrize(
    ("action", "run"),
    [
        (
            "customers.record_consent",
            lambda crm, con: crm.record_consent(con, "sms", True, source="form", actor="u"),
        ),
        (
            "customers.set_contact_preferences",
            lambda crm, con: crm.set_contact_preferences(con, timezone="Asia/Taipei", actor="u"),
        ),
    ],
)
def test_the_policy_is_asked_about_the_contacts_customer(
    clock: ManualClock, action: str, run: Any
) -> None:
    store = MemoryStore()
    mei = _mei(bootstrap(store=store, clock=clock, ids=SequentialIds()))
    policy = DenyAll()
    crm = bootstrap(store=store, clock=clock, ids=SequentialIds(start=10), policy=policy)
    with pytest.raises(PermissionDeniedError, match=action):
        run(crm, mei.id)
    ((actor, asked, resource),) = policy.asked
    assert (actor, asked) == ("u", action)
    assert resource == crm.get_customer(mei.customer_id)
    assert _stored(crm, mei) == mei


# ----- the whole story: preferences and consent drive decide() ------------------------------------


def test_a_stored_contact_drives_the_consent_decision(crm: CRM, clock: ManualClock) -> None:
    mei = _mei(crm)
    crm.set_contact_preferences(mei.id, timezone="Asia/Taipei", quiet_hours=("22:00", "08:00"))
    crm.record_consent(mei.id, "sms", True, source="web form")
    clock.set(datetime(2026, 3, 2, 23, 0, tzinfo=TPE))
    mei = crm.record_consent(mei.id, "sms", False, source="replied STOP")
    at = clock.now()
    assert decide(mei, "sms", "marketing", at).verdict is Verdict.SUPPRESS
    ack = decide(mei, "sms", "transactional", at)
    assert ack.verdict is Verdict.DEFER
    assert ack.send_at == datetime(2026, 3, 3, 8, 0, tzinfo=TPE)
    assert ack.logged_as == "transactional (sent despite opt-out)"


# ----- stored documents ---------------------------------------------------------------------------


def test_a_contact_stored_before_consent_existed_still_loads(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "crm.sqlite3"
    store = SQLiteStore(path)
    crm = bootstrap(store=store, clock=clock, ids=SequentialIds())
    mei = _mei(crm)
    store.close()
    # Rewrite the stored document as an earlier crmkit wrote it: without the new fields.
    old = {
        "id": mei.id,
        "customer_id": mei.customer_id,
        "name": "Lin Mei-ling",
        "emails": [],
        "phones": ["+886912345678"],
        "role": None,
        "decision_maker": False,
        "birthday": None,
        "locale": None,
        "preferred_channel": "line",
    }
    with sqlite3.connect(path) as conn:
        done = conn.execute(
            "UPDATE crm_contacts SET document = ? WHERE id = ?", (json.dumps(old), mei.id)
        )
        assert done.rowcount == 1
    conn.close()
    store = SQLiteStore(path)
    crm = bootstrap(store=store, clock=clock, ids=SequentialIds(start=10))
    loaded = _stored(crm, mei)
    assert (loaded.timezone, loaded.quiet_hours, loaded.consents) == (None, None, ())
    assert loaded.preferred_channel is Channel.LINE
    # ... and it takes the new preferences and consent like any other.
    crm.record_consent(mei.id, "sms", True, source="web form")
    updated = crm.set_contact_preferences(mei.id, timezone="Asia/Taipei")
    assert _stored(crm, mei) == updated and len(updated.consents) == 1
    store.close()


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["sms", "email", "line"]), st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_stored_history_only_grows(statements: list[tuple[str, bool]]) -> None:
    crm = bootstrap(clock=ManualClock(START), ids=SequentialIds())
    mei = _mei(crm)
    history: tuple[Any, ...] = ()
    for channel, granted in statements:
        mei = crm.record_consent(mei.id, channel, granted, source="form")
        stored = _stored(crm, mei)
        assert stored.consents[: len(history)] == history
        assert len(stored.consents) == len(history) + 1
        history = stored.consents
    assert attrs.evolve(mei) == mei
