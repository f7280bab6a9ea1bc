"""Lead: capture, the status graph, activities and contact, duplicates, conversion, round trips,
and the lead's life as a hypothesis state machine."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from crmkit.errors import CRMError, NaiveDatetimeError, RuleViolation, ValidationError
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money
from crmkit.kernel.time import ManualClock
from crmkit.leads import (
    CONTACT_KINDS,
    DISQUALIFICATION_REASONS,
    RECYCLE_MOVES,
    STATUS_GRAPH,
    ActivityKind,
    ConversionResult,
    IntakeConsent,
    Lead,
    LeadStatus,
    follow_up_due,
)
from crmkit.leads import events as ev
from crmkit.leads.qualification import BANT, Criterion, Framework
from crmkit.leads.scoring import RegionRule, ScoringModel, score
from crmkit.serialization import from_json, structure, to_json, unstructure
from crmkit.testing._lead_strategies import activities, leads

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=TAIPEI)
DONE = ConversionResult(customer_id="cus_1", contact_id="con_1", opportunity_id="opp_1")


def capture(**kw: Any) -> Lead:
    args: dict[str, Any] = {
        "id": "lead_1",
        "now": NOW,
        "source_channel": "web_form",
        "email": "amy@acme.example",
        "name": "Amy Chen",
        "company": "Acme Ltd",
    }
    args.update(kw)
    return Lead.capture(**args)


def at_status(status: LeadStatus) -> Lead:
    lead = capture()
    path = {
        LeadStatus.NEW: [],
        LeadStatus.WORKING: [LeadStatus.WORKING],
        LeadStatus.NURTURING: [LeadStatus.NURTURING],
        LeadStatus.QUALIFIED: [LeadStatus.WORKING, LeadStatus.QUALIFIED],
        LeadStatus.DISQUALIFIED: [LeadStatus.DISQUALIFIED],
        LeadStatus.CONVERTED: [LeadStatus.WORKING, LeadStatus.QUALIFIED, LeadStatus.CONVERTED],
    }[status]
    for step in path:
        if step is LeadStatus.CONVERTED:
            lead.mark_converted(DONE, now=NOW)
        else:
            lead.move_to(step, now=NOW, reason="spam" if step is LeadStatus.DISQUALIFIED else None)
    lead.pull_events()
    return lead


def snapshot(lead: Lead) -> tuple[dict[str, Any], int]:
    return attrs.asdict(lead, recurse=False), len(lead.pending_events)


# ----- capture ---------------------------------------------------------------------------------


def test_capture_normalises_and_records_where_the_lead_came_from() -> None:
    lead = capture(
        email=" Amy@ACME.example ",
        phone="0912-345-678",
        phone_region="TW",
        source_channel="trade_show",
        campaign=" 2023 trade show ",
        external_ref="badge-0042",
        budget=Money("500000", "TWD"),
        company_size=120,
        consent=IntakeConsent(marketing=True, source="badge scan", at=NOW),
        owner="u_amy",
        actor="u_bot",
    )
    assert (lead.email, lead.phone, lead.campaign) == (
        "Amy@acme.example",
        "+886912345678",
        "2023 trade show",
    )
    assert lead.status is LeadStatus.NEW
    assert lead.captured_at == lead.updated_at == lead.status_changed_at == NOW
    assert [(t.channel.value, t.campaign, t.external_ref) for t in lead.touches] == [
        ("trade_show", "2023 trade show", "badge-0042")
    ]
    assert [(c.old, c.new) for c in lead.status_history] == [(None, LeadStatus.NEW)]
    (event,) = lead.pending_events
    assert isinstance(event, ev.LeadCaptured)
    assert (event.source_channel, event.campaign, event.owner, event.actor) == (
        "trade_show",
        "2023 trade show",
        "u_amy",
        "u_bot",
    )
    assert event.aggregate_version == 1


def test_an_import_keeps_its_original_capture_time() -> None:
    lead = capture(source_channel="import", captured_at=NOW - timedelta(days=30))
    assert lead.captured_at == NOW - timedelta(days=30)
    assert lead.updated_at == NOW
    with pytest.raises(ValidationError) as info:
        capture(captured_at=NOW + timedelta(minutes=1))
    assert info.value.errors[0].path == "captured_at"


@pytest.mark.parametrize(
    ("kw", "path"),
    [
        ({"email": None, "phone": None}, "email"),
        ({"email": "amy@"}, "email"),
        ({"phone": "12345", "phone_region": "TW"}, "phone"),
        ({"source_channel": "carrier pigeon"}, "source_channel"),
        ({"company_size": -1}, "company_size"),
        ({"company_size": True}, "company_size"),
        ({"budget": 1000}, "budget"),
        ({"budget": Money("-1", "TWD")}, "budget"),
        ({"owner": "has space"}, "owner"),
        ({"name": "x" * 201}, "name"),
        ({"actor": ""}, "actor"),
        ({"consent": {"marketing": True}}, "consent"),
    ],
)
def test_capture_refuses_bad_input_naming_the_field(kw: dict[str, Any], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        capture(**kw)
    assert info.value.errors[0].path == path


def test_capture_refuses_a_naive_now() -> None:
    with pytest.raises(NaiveDatetimeError):
        capture(now=datetime(2026, 1, 5, 9))


def test_a_phone_alone_is_enough_and_an_e164_phone_needs_no_region() -> None:
    lead = capture(email=None, phone="+86 138 0013 8000")
    assert lead.phone == "+8613800138000"
    assert lead.match_keys().phones == ("+8613800138000",)


# ----- the status graph ----------------------------------------------------------------------


def test_the_graph_is_data_over_every_status() -> None:
    assert set(STATUS_GRAPH) == set(LeadStatus)
    assert STATUS_GRAPH[LeadStatus.CONVERTED] == ()
    for old, new in RECYCLE_MOVES:
        assert new in STATUS_GRAPH[old]
    assert {k.value for k in CONTACT_KINDS} == {"call", "email_replied", "meeting"}


def _move(lead: Lead, target: LeadStatus) -> None:
    if target is LeadStatus.CONVERTED:
        again = lead.status is LeadStatus.CONVERTED  # the same result again would be a no-op
        other = ConversionResult(customer_id="cus_2", contact_id="con_2")
        lead.mark_converted(other if again else DONE, now=NOW)
    elif (lead.status, target) in RECYCLE_MOVES or target is LeadStatus.NEW:
        lead.recycle(now=NOW, after=timedelta(0), to=target)
    else:
        lead.move_to(target, now=NOW, reason="spam" if target is LeadStatus.DISQUALIFIED else None)


@pytest.mark.parametrize("source", list(LeadStatus))
@pytest.mark.parametrize("target", list(LeadStatus))
def test_every_move_follows_the_graph(source: LeadStatus, target: LeadStatus) -> None:
    lead = at_status(source)
    before = snapshot(lead)
    if target in STATUS_GRAPH[source]:
        _move(lead, target)
        assert lead.status is target
        assert lead.status_history[-1].old is source
        assert isinstance(lead.pending_events[-1], (ev.LeadStatusChanged, ev.LeadConverted))
    else:
        with pytest.raises(RuleViolation) as info:
            _move(lead, target)
        assert repr(source.value) in str(info.value)
        assert info.value.details["current"] == source.value
        allowed = [s for s in STATUS_GRAPH[source] if (source, s) not in RECYCLE_MOVES]
        assert info.value.details.get("allowed", []) == [s.value for s in allowed]
        assert snapshot(lead) == before  # a failed command changes nothing


def test_an_illegal_move_names_the_allowed_ones() -> None:
    lead = capture()
    with pytest.raises(
        RuleViolation, match="it may move to 'working', 'nurturing', 'disqualified'"
    ):
        lead.qualify(now=NOW)
    converted = at_status(LeadStatus.CONVERTED)
    with pytest.raises(RuleViolation, match="it is final"):
        converted.start_working(now=NOW)
    disqualified = at_status(LeadStatus.DISQUALIFIED)
    with pytest.raises(RuleViolation, match=r"recycled to 'new', 'working' with recycle\(\)"):
        disqualified.start_working(now=NOW)


def test_move_to_converted_or_new_points_to_the_right_method() -> None:
    with pytest.raises(RuleViolation, match=r"mark_converted\(\)"):
        at_status(LeadStatus.QUALIFIED).move_to("converted", now=NOW)
    with pytest.raises(RuleViolation, match=r"recycle\(\)"):
        at_status(LeadStatus.NURTURING).move_to("new", now=NOW)
    with pytest.raises(ValidationError):
        capture().move_to("won", now=NOW)


def test_disqualify_needs_a_reason_from_the_configured_list() -> None:
    lead = capture()
    for bad in (None, "", "  ", "too small"):
        with pytest.raises(ValidationError) as info:
            lead.disqualify(bad, now=NOW)  # type: ignore[arg-type]
        assert info.value.errors[0].path == "reason"
        assert "'no_budget'" in str(info.value)
    assert lead.status is LeadStatus.NEW and lead.pending_events[1:] == ()
    lead.disqualify("too small", now=NOW, reasons=["too small", "student"], note="3 employees")
    assert lead.disqualification is not None
    assert (lead.disqualification.reason, lead.disqualification.note) == (
        "too small",
        "3 employees",
    )
    assert lead.status_history[-1].reason == "too small"
    assert "spam" in DISQUALIFICATION_REASONS


def test_recycling_waits_n_days_in_the_status() -> None:
    clock = ManualClock(NOW)
    lead = capture()
    lead.disqualify("bad_timing", now=clock.now())
    clock.advance(timedelta(days=89, hours=23))
    with pytest.raises(RuleViolation) as info:
        lead.recycle(now=clock.now(), after=timedelta(days=90))
    assert "89 days 23 h" in str(info.value)
    assert info.value.details["recyclable_at"] == (NOW + timedelta(days=90)).isoformat()
    assert lead.status is LeadStatus.DISQUALIFIED
    clock.advance(timedelta(hours=1))
    lead.recycle(now=clock.now(), after=timedelta(days=90), to="working", actor="u_amy")
    assert lead.status is LeadStatus.WORKING
    assert lead.disqualification is None
    assert lead.status_history[-1].reason == "recycled from disqualified after 90 days"


def test_a_nurturing_lead_recycles_to_new_only() -> None:
    lead = at_status(LeadStatus.NURTURING)
    with pytest.raises(RuleViolation, match="cannot recycle"):
        lead.recycle(now=NOW + timedelta(days=40), after=timedelta(days=30), to="working")
    lead.recycle(now=NOW + timedelta(days=40), after=timedelta(days=30))
    assert lead.status is LeadStatus.NEW
    with pytest.raises(RuleViolation, match="cannot recycle"):
        at_status(LeadStatus.WORKING).recycle(now=NOW, after=timedelta(0))
    with pytest.raises(ValidationError):
        lead.recycle(now=NOW, after=-timedelta(days=1))


def test_qualify_with_a_framework_requires_it_complete() -> None:
    lead = at_status(LeadStatus.WORKING)
    for key in ("budget", "authority", "need"):
        lead.answer(key, evidence="said on the call", now=NOW, by="u_amy")
    lead.answer("timeline", evidence="not this year", met=False, now=NOW)
    with pytest.raises(RuleViolation) as info:
        lead.qualify(now=NOW, framework=BANT)
    assert info.value.details["missing"] == ["timeline"]
    later = NOW + timedelta(days=3)
    lead.answer("timeline", evidence="budget moved to Q2", now=later, by="u_amy")
    lead.qualify(now=later, framework=BANT)
    assert lead.status is LeadStatus.QUALIFIED and lead.qualified_at == later
    answered = [e for e in lead.pending_events if isinstance(e, ev.LeadQualificationAnswered)]
    assert [e.complete for e in answered] == [False, False, False, False, True]


def test_answers_check_the_criterion_and_time() -> None:
    lead = capture()
    with pytest.raises(ValidationError) as info:
        lead.answer("money", evidence="x", now=NOW)
    assert info.value.errors[0].path == "criterion"
    with pytest.raises(ValidationError):
        lead.answer("budget", evidence="", now=NOW)
    with pytest.raises(ValidationError):
        lead.answer("budget", evidence="x", now=NOW, at=NOW + timedelta(hours=1))
    custom = Framework("fit", "Fit check", [Criterion("seats", "20+ seats")])
    answer = lead.answer("seats", framework=custom, evidence="40 seats", now=NOW, actor="u_amy")
    assert (answer.framework, answer.by) == ("fit", "u_amy")
    assert lead.qualification.is_complete(custom)


def test_conversion_is_recorded_once() -> None:
    lead = at_status(LeadStatus.QUALIFIED)
    lead.mark_converted(DONE, now=NOW, actor="u_amy")
    events = lead.pull_events()
    assert [type(e) for e in events] == [ev.LeadStatusChanged, ev.LeadConverted]
    converted = events[-1]
    assert isinstance(converted, ev.LeadConverted)
    assert (converted.customer_id, converted.opportunity_id, converted.source_channel) == (
        "cus_1",
        "opp_1",
        "web_form",
    )
    lead.mark_converted(DONE, now=NOW + timedelta(days=1))
    assert lead.pending_events == () and lead.converted_at == NOW
    with pytest.raises(RuleViolation, match="converted' already"):
        lead.mark_converted(ConversionResult(customer_id="cus_2", contact_id="con_2"), now=NOW)


def test_a_converted_lead_refuses_further_work() -> None:
    lead = at_status(LeadStatus.CONVERTED)
    before = snapshot(lead)
    for call in (
        lambda: lead.update(now=NOW, job_title="CTO"),
        lambda: lead.log_activity("call", now=NOW),
        lambda: lead.assign_owner("u_bob", now=NOW),
        lambda: lead.answer("budget", evidence="x", now=NOW),
        lambda: lead.mark_contacted(now=NOW),
        lambda: lead.schedule_follow_up(NOW, now=NOW),
        lambda: lead.link_to_customer("cus_9", reason="x", now=NOW),
        lambda: lead.merge_capture(capture(id="lead_2"), now=NOW),
    ):
        with pytest.raises(RuleViolation, match="it was converted"):
            call()
    assert snapshot(lead) == before


def test_the_stored_status_invariants_hold() -> None:
    with pytest.raises(ValidationError) as info:
        Lead(
            id="l1",
            source_channel="ads",
            email="a@b.example",
            status="converted",
            captured_at=NOW,
            updated_at=NOW,
            status_changed_at=NOW,
        )
    assert info.value.errors[0].path == "conversion"
    with pytest.raises(ValidationError) as info:
        Lead(
            id="l1",
            source_channel="ads",
            email="a@b.example",
            status="disqualified",
            captured_at=NOW,
            updated_at=NOW,
            status_changed_at=NOW,
        )
    assert info.value.errors[0].path == "disqualification"


# ----- details, activities, contact ----------------------------------------------------------


def test_update_checks_everything_before_changing_anything() -> None:
    lead = capture()
    before = snapshot(lead)
    with pytest.raises(ValidationError):
        lead.update(now=NOW, job_title="CTO", email="broken@")
    with pytest.raises(ValidationError) as info:
        lead.update(now=NOW, owner="u_amy")
    assert "changeable fields" in str(info.value)
    assert snapshot(lead) == before
    lead.update(now=NOW, job_title="CTO", phone="02 2345 6789", phone_region="TW")
    assert (lead.job_title, lead.phone) == ("CTO", "+886223456789")
    event = lead.pending_events[-1]
    assert isinstance(event, ev.LeadUpdated) and event.fields == ("phone", "job_title")
    lead.update(now=NOW, job_title="CTO")  # unchanged: no event
    assert lead.pending_events[-1] is event
    with pytest.raises(ValidationError):
        lead.update(now=NOW, email=None, phone=None)  # would leave nobody to reach


def test_activities_and_first_contact_by_the_owner() -> None:
    lead = capture(owner="u_amy", follow_up_due_at=NOW + timedelta(hours=24))
    lead.log_activity("email_opened", now=NOW)
    lead.log_activity("call", now=NOW + timedelta(hours=1), by="u_bob")  # not the owner
    assert lead.first_contacted_at is None
    assert lead.is_follow_up_overdue(NOW + timedelta(hours=25))
    lead.log_activity("meeting", now=NOW + timedelta(hours=30), by="u_amy", detail="demo")
    assert lead.first_contacted_at == lead.last_contacted_at == NOW + timedelta(hours=30)
    assert not lead.is_follow_up_overdue(NOW + timedelta(days=9))
    contacted = [e for e in lead.pending_events if isinstance(e, ev.LeadContacted)]
    assert [(e.first, e.by, e.follow_up_due_at) for e in contacted] == [
        (True, "u_amy", NOW + timedelta(hours=24))
    ]
    lead.mark_contacted(now=NOW + timedelta(days=2), by="u_bob", at=NOW + timedelta(hours=40))
    assert lead.first_contacted_at == NOW + timedelta(hours=30)
    assert lead.last_contacted_at == NOW + timedelta(hours=40)
    assert [a.kind for a in lead.activities] == [
        ActivityKind.EMAIL_OPENED,
        ActivityKind.CALL,
        ActivityKind.MEETING,
    ]


def test_activities_from_the_future_are_refused() -> None:
    lead = capture()
    with pytest.raises(ValidationError) as info:
        lead.log_activity("download", now=NOW, at=NOW + timedelta(seconds=1))
    assert info.value.errors[0].path == "at"
    with pytest.raises(ValidationError):
        lead.log_activity("dance", now=NOW)
    with pytest.raises(ValidationError):
        lead.mark_contacted(now=NOW, at=NOW + timedelta(seconds=1))
    assert lead.activities == ()


def test_marketing_needs_consent_and_no_unsubscribe() -> None:
    lead = capture(consent=IntakeConsent(marketing=True, source="checkbox", at=NOW))
    assert lead.may_market()
    lead.log_activity("unsubscribed", now=NOW)
    assert not lead.may_market()
    assert not capture().may_market()
    assert not capture(consent=IntakeConsent(marketing=False, source="form", at=NOW)).may_market()


def test_follow_up_due_uses_business_hours() -> None:
    cal = BusinessCalendar.office_hours(
        "Asia/Taipei", ("09:00", "12:00"), ("13:00", "18:00"), holidays=[date(2026, 1, 1)]
    )
    wednesday_evening = datetime(2025, 12, 31, 17, 0, tzinfo=TAIPEI)
    due = follow_up_due(wednesday_evening, cal)
    # 1 h Wed, Thu is a holiday, 8 h Fri, 8 h Mon, 7 h Tue: 24 business hours.
    assert due == datetime(2026, 1, 6, 17, 0, tzinfo=TAIPEI)
    lead = capture(captured_at=wednesday_evening, now=NOW, follow_up_due_at=due)
    assert lead.follow_up_due_at == due
    assert follow_up_due(wednesday_evening, cal, within=timedelta(hours=1)) == datetime(
        2025, 12, 31, 18, 0, tzinfo=TAIPEI
    )
    with pytest.raises(ValidationError):
        follow_up_due(wednesday_evening, "Asia/Taipei")  # type: ignore[arg-type]


def test_schedule_follow_up_records_only_changes() -> None:
    lead = capture()
    lead.schedule_follow_up(NOW + timedelta(hours=4), now=NOW)
    lead.schedule_follow_up(NOW + timedelta(hours=4), now=NOW)
    lead.schedule_follow_up(None, now=NOW)
    scheduled = [e for e in lead.pending_events if isinstance(e, ev.LeadFollowUpScheduled)]
    assert [e.due_at for e in scheduled] == [NOW + timedelta(hours=4), None]


def test_assignment_is_recorded_with_its_rule() -> None:
    lead = capture()
    lead.assign_owner("u_amy", now=NOW, rule="north", reason="region 'TW' matched")
    lead.assign_owner("u_amy", now=NOW, rule="north", reason="again")
    lead.assign_owner("u_bob", now=NOW)
    assigned = [e for e in lead.pending_events if isinstance(e, ev.LeadOwnerAssigned)]
    assert [(e.old_owner, e.new_owner, e.rule) for e in assigned] == [
        (None, "u_amy", "north"),
        ("u_amy", "u_bob", "manual"),
    ]
    assert lead.assignment is not None and lead.assignment.reason == "assigned by hand"
    with pytest.raises(ValidationError):
        lead.assign_owner("u_amy", now=NOW, rule="")


def test_record_score_stores_the_total_and_reports_changes() -> None:
    model = ScoringModel(name="geo", regions=[RegionRule("home", ["TW"], 10)])
    lead = capture(region="TW")
    lead.record_score(score(lead, model, NOW), now=NOW)
    lead.record_score(score(lead, model, NOW), now=NOW + timedelta(hours=1))
    scored = [e for e in lead.pending_events if isinstance(e, ev.LeadScored)]
    assert [(str(e.total), e.fit_grade, e.old_total) for e in scored] == [("10.00", "C", None)]
    assert lead.scored_at == NOW + timedelta(hours=1) and lead.scoring_model == "geo"


# ----- duplicates ------------------------------------------------------------------------------


def test_merge_fills_blanks_and_keeps_every_touch() -> None:
    first = capture(email="amy@acme.example", job_title=None, phone=None)
    first.log_activity("page_visited", now=NOW)
    later = NOW + timedelta(days=2)
    again = capture(
        id="lead_2",
        now=later,
        source_channel="trade_show",
        campaign="2023 trade show",
        external_ref="badge-7",
        email="AMY@acme.example",
        name="Amy C.",
        phone="+886912345678",
        job_title="CTO",
        consent=IntakeConsent(marketing=True, source="badge", at=later),
    )
    again.log_activity("event_attended", now=later)
    first.pull_events()
    filled = first.merge_capture(again, now=later, match_reason="same email 'amy@acme.example'")
    assert filled == ("phone", "job_title")
    assert first.name == "Amy Chen"  # never overwritten
    assert [t.external_ref for t in first.touches] == [None, "badge-7"]
    assert [a.kind.value for a in first.activities] == ["page_visited", "event_attended"]
    assert first.consent is not None and first.consent.source == "badge"
    (merged,) = first.pull_events()
    assert isinstance(merged, ev.LeadCaptureMerged)
    assert (merged.merged_lead_id, merged.external_ref, merged.match_reason) == (
        "lead_2",
        "badge-7",
        "same email 'amy@acme.example'",
    )
    first.merge_capture(again, now=later)  # the same activities are not added twice
    assert len(first.activities) == 2
    with pytest.raises(ValidationError):
        first.merge_capture(first, now=later)


def test_link_and_flag_policies() -> None:
    lead = capture(id="lead_2")
    lead.link_to_customer("cus_1", contact_id="con_1", reason="same email", now=NOW)
    lead.link_to_customer("cus_1", contact_id="con_1", reason="same email", now=NOW)
    lead.flag_duplicate("lead_1", reason="same phone", now=NOW)
    lead.flag_duplicate("lead_1", reason="same phone", now=NOW)
    with pytest.raises(ValidationError):
        lead.flag_duplicate("lead_2", reason="itself", now=NOW)
    lead.clear_duplicate(now=NOW)
    lead.clear_duplicate(now=NOW)
    kinds = [type(e).__name__ for e in lead.pending_events]
    assert kinds == [
        "LeadCaptured",
        "LeadLinkedToCustomer",
        "LeadFlaggedAsDuplicate",
        "LeadDuplicateCleared",
    ]
    assert lead.customer_link is not None and lead.duplicate is None


# ----- round trips -----------------------------------------------------------------------------


@settings(max_examples=40)
@given(leads())
def test_leads_round_trip_through_the_converter(lead: Lead) -> None:
    again = from_json(to_json(lead), Lead)
    assert again == lead
    assert structure(unstructure(lead), Lead) == lead


@settings(max_examples=40)
@given(leads())
def test_generated_leads_keep_their_invariants(lead: Lead) -> None:
    assert lead.status in STATUS_GRAPH
    assert lead.status_history[-1].new is lead.status
    assert lead.email is not None or lead.phone is not None
    for before, after in itertools.pairwise(lead.status_history):
        assert after.old is before.new
        assert after.new in STATUS_GRAPH[before.new]


def test_events_round_trip() -> None:
    lead = at_status(LeadStatus.QUALIFIED)
    lead.log_activity("call", now=NOW, by="u_amy")
    lead.mark_converted(DONE, now=NOW)
    for event in lead.pull_events():
        assert from_json(to_json(event), DomainEvent) == event


# ----- failed commands change nothing ---------------------------------------------------------

bad_commands = st.sampled_from(
    [
        lambda lead: lead.update(now=NOW, company_size=-5),
        lambda lead: lead.log_activity("call", now=datetime(2026, 1, 5)),
        lambda lead: lead.log_activity("call", now=NOW, at=NOW + timedelta(days=1)),
        lambda lead: lead.answer("nope", evidence="x", now=NOW),
        lambda lead: lead.disqualify("because", now=NOW),
        lambda lead: lead.recycle(now=NOW, after=timedelta(days=1), to="converted"),
        lambda lead: lead.assign_owner("bad owner", now=NOW),
        lambda lead: lead.mark_converted("cus_1", now=NOW),  # type: ignore[arg-type]
        lambda lead: lead.link_to_customer("", reason="x", now=NOW),
        lambda lead: lead.schedule_follow_up(datetime(2026, 1, 5), now=NOW),
        lambda lead: lead.merge_capture("lead_2", now=NOW),  # type: ignore[arg-type]
        lambda lead: lead.qualify(now=NOW, framework="bant"),  # type: ignore[arg-type]
    ]
)


@settings(max_examples=60)
@given(leads(), bad_commands)
def test_a_failed_command_changes_nothing(lead: Lead, command: Any) -> None:
    before = snapshot(lead)
    with pytest.raises(CRMError):
        command(lead)
    assert snapshot(lead) == before


# ----- the life of a lead ----------------------------------------------------------------------


class LeadLife(RuleBasedStateMachine):
    """Any sequence of commands keeps the lead inside its graph, with a history that only grows."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(NOW)
        self.lead = capture(owner="u_amy")
        self.history = self.lead.status_history
        self.activities = self.lead.activities
        self.events = len(self.lead.pending_events)

    def attempt(self, command: Any) -> None:
        before = snapshot(self.lead)
        try:
            command()
        except (RuleViolation, ValidationError):
            assert snapshot(self.lead) == before

    @rule(hours=st.integers(0, 24 * 200))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(timedelta(hours=hours))

    @rule(to=st.sampled_from(LeadStatus), reason=st.sampled_from(("spam", "no_budget", "x")))
    def move(self, to: LeadStatus, reason: str) -> None:
        self.attempt(lambda: self.lead.move_to(to, now=self.clock.now(), reason=reason))

    @rule(days=st.integers(0, 120), to=st.sampled_from(LeadStatus))
    def recycle(self, days: int, to: LeadStatus) -> None:
        self.attempt(
            lambda: self.lead.recycle(now=self.clock.now(), after=timedelta(days=days), to=to)
        )

    @rule(with_bant=st.booleans())
    def qualify(self, with_bant: bool) -> None:
        self.attempt(
            lambda: self.lead.qualify(now=self.clock.now(), framework=BANT if with_bant else None)
        )

    @rule(key=st.sampled_from(BANT.keys), met=st.booleans())
    def answer(self, key: str, met: bool) -> None:
        self.attempt(
            lambda: self.lead.answer(key, evidence="heard it", met=met, now=self.clock.now())
        )

    @precondition(lambda self: self.lead.status is LeadStatus.QUALIFIED)
    @rule()
    def convert(self) -> None:
        self.lead.mark_converted(DONE, now=self.clock.now())

    @rule(activity=activities(NOW - timedelta(days=30), NOW))
    def log(self, activity: Any) -> None:
        self.attempt(
            lambda: self.lead.log_activity(
                activity.kind, now=self.clock.now(), at=activity.at, by=activity.by
            )
        )

    @rule(owner=st.sampled_from(("u_amy", "u_bob")))
    def assign(self, owner: str) -> None:
        self.attempt(lambda: self.lead.assign_owner(owner, now=self.clock.now()))

    @invariant()
    def status_is_a_node_of_the_graph(self) -> None:
        assert self.lead.status in STATUS_GRAPH
        assert self.lead.status_history[-1].new is self.lead.status
        assert (self.lead.status is LeadStatus.CONVERTED) == (self.lead.conversion is not None)
        assert (self.lead.status is LeadStatus.DISQUALIFIED) == (
            self.lead.disqualification is not None
        )

    @invariant()
    def history_only_grows(self) -> None:
        history = self.lead.status_history
        assert history[: len(self.history)] == self.history
        for before, after in itertools.pairwise(history):
            assert after.old is before.new and after.new in STATUS_GRAPH[before.new]
        self.history = history
        assert self.lead.activities[: len(self.activities)] == self.activities
        self.activities = self.lead.activities
        assert len(self.lead.pending_events) >= self.events
        self.events = len(self.lead.pending_events)


LeadLife.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
TestLeadLife = LeadLife.TestCase


def test_recycling_waits_elapsed_time_across_daylight_saving() -> None:
    new_york = ZoneInfo("America/New_York")
    saturday = datetime(2026, 3, 7, 12, 0, tzinfo=new_york)
    lead = capture(now=saturday)
    lead.disqualify("bad_timing", now=saturday)
    sunday_noon = datetime(2026, 3, 8, 12, 0, tzinfo=new_york)  # 23 hours later
    with pytest.raises(RuleViolation) as info:
        lead.recycle(now=sunday_noon, after=timedelta(hours=24))
    assert info.value.details["recyclable_at"] == "2026-03-08T13:00:00-04:00"
    lead.recycle(now=sunday_noon + timedelta(hours=1), after=timedelta(hours=24))
    assert lead.status is LeadStatus.NEW
