"""Complaint: filing, the workflow's rules, messages and notes, compensation, CSAT, round trips."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings

from crmkit.errors import DefinitionError, NaiveDatetimeError, RuleViolation, ValidationError
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money
from crmkit.serialization import from_json, structure, to_json, unstructure
from crmkit.service import (
    REOPEN_MOVES,
    STATUS_GRAPH,
    CaseStatus,
    CompensationLimit,
    Complaint,
    ComplaintPolicy,
    Impact,
    Priority,
    PriorityCell,
    PriorityMatrix,
    Urgency,
)
from crmkit.testing._service_strategies import complaint_policies, complaints

UTC = timezone.utc
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = ComplaintPolicy(
    categories=["delivery", "billing"],
    root_causes=["carrier_delay", "pricing_error"],
    compensation_limits=[
        CompensationLimit(role="agent", kind="voucher", max_amount=Money("500", "TWD")),
        CompensationLimit(role="team_lead", kind="voucher", max_amount=Money("3000", "TWD")),
        CompensationLimit(role="agent", kind="goodwill_points", max_points=1000),
        CompensationLimit(role="agent", kind="refund", max_amount=Money("50", "USD")),
    ],
)


def filed(**kw: object) -> Complaint:
    args: dict[str, object] = {
        "id": "case_1",
        "reference": "CS-1001",
        "now": NOW,
        "channel": "email",
        "customer_id": "cus_1",
        "subject": "Parcel never arrived",
        "category": "delivery",
        "impact": "medium",
        "urgency": "high",
        "policy": POLICY,
    }
    args.update(kw)
    return Complaint.file(**args)  # type: ignore[arg-type]


def working(now: datetime = NOW) -> Complaint:
    case = filed()
    case.acknowledge(now=now, owner="u_amy")
    case.start_work(now=now)
    case.pull_events()
    return case


# ----- filing ----------------------------------------------------------------------------------


def test_filing_derives_the_priority_and_records_the_event() -> None:
    case = filed(contact_id="con_1", order_ref="SO-77", customer_tier="gold")
    assert case.priority is Priority.HIGH  # medium impact x high urgency
    assert case.status is CaseStatus.NEW and case.owner is None
    assert case.status_history[0].old is None and case.status_history[0].at == NOW
    (event,) = case.pull_events()
    assert event.event_type == "service.ComplaintFiled"
    assert event.priority == "high" and event.reference == "CS-1001"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"category": "weather"}, "category"),
        ({"channel": "fax"}, "channel"),
        ({"impact": "huge"}, "impact"),
        ({"urgency": 3}, "urgency"),
        ({"customer_id": "has space"}, "customer_id"),
        ({"subject": "  "}, "subject"),
        ({"filed_at": NOW + timedelta(minutes=1)}, "filed_at"),
        ({"policy": {"categories": ["delivery"]}}, "policy"),
    ],
)
def test_bad_filings_name_the_field(kwargs: dict, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        filed(**kwargs)
    assert info.value.errors[0].path == path


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(NaiveDatetimeError):
        filed(now=datetime(2026, 3, 2, 9))
    case = working()
    with pytest.raises(NaiveDatetimeError):
        case.wait_for_customer(now=datetime(2026, 3, 2, 10))
    assert case.status is CaseStatus.IN_PROGRESS


def test_a_complaint_filed_earlier_starts_its_clock_then() -> None:
    case = filed(filed_at=NOW - timedelta(hours=3))
    assert case.filed_at == NOW - timedelta(hours=3)
    assert case.status_history[0].at == case.filed_at


def test_the_priority_matrix_is_complete_and_data() -> None:
    with pytest.raises(DefinitionError, match="misses 8 of the 9"):
        PriorityMatrix([PriorityCell("high", "high", "critical")])
    cells = list(PriorityMatrix.default().cells)
    with pytest.raises(DefinitionError, match="more than once"):
        PriorityMatrix([*cells, PriorityCell("low", "low", "critical")])
    custom = PriorityMatrix([PriorityCell(i, u, "critical") for i in Impact for u in Urgency])
    policy = ComplaintPolicy(categories=["delivery"], priority_matrix=custom)
    assert filed(policy=policy, impact="low", urgency="low").priority is Priority.CRITICAL
    assert structure(unstructure(policy), ComplaintPolicy) == policy


def test_policy_definitions_are_checked() -> None:
    with pytest.raises(DefinitionError, match="at least one category"):
        ComplaintPolicy(categories=[])
    with pytest.raises(DefinitionError, match="more than once"):
        ComplaintPolicy(
            categories=["x"],
            compensation_limits=[
                CompensationLimit(role="agent", kind="refund", max_amount=Money("1", "TWD")),
                CompensationLimit(role="agent", kind="refund", max_amount=Money("2", "TWD")),
            ],
        )
    with pytest.raises(ValidationError) as info:
        ComplaintPolicy(categories=["x"], reopen_within=timedelta(days=-1))
    assert info.value.errors[0].path == "reopen_within"


# ----- the workflow ----------------------------------------------------------------------------


def test_the_whole_path_records_who_and_when() -> None:
    case = filed()
    t = [NOW + timedelta(hours=h) for h in range(7)]
    case.acknowledge(now=t[1], owner="u_amy", actor="u_lead")
    case.reply("Tracing it", now=t[2], by="u_amy", wait_for_customer=True)
    case.receive_customer_message("Here is the tracking number", now=t[3])
    case.resolve(now=t[4], summary="Re-shipped", root_cause="carrier_delay", policy=POLICY)
    case.close(now=t[5], actor="u_amy")
    moves = [(c.old and c.old.value, c.new.value, c.at, c.by) for c in case.status_history]
    assert moves == [
        (None, "new", NOW, None),
        ("new", "acknowledged", t[1], "u_lead"),
        ("acknowledged", "in_progress", t[2], "u_amy"),
        ("in_progress", "awaiting_customer", t[2], "u_amy"),
        ("awaiting_customer", "in_progress", t[3], None),
        ("in_progress", "resolved", t[4], None),
        ("resolved", "closed", t[5], "u_amy"),
    ]
    assert case.first_response_at == t[2] and case.resolved_at == t[4]
    assert case.root_cause == "carrier_delay" and case.resolution == "Re-shipped"
    types = [e.event_type for e in case.pull_events()]
    assert "service.ComplaintResolved" in types
    assert types.count("service.ComplaintStatusChanged") == 6


def test_every_refused_move_names_the_allowed_ones() -> None:
    for status, targets in STATUS_GRAPH.items():
        case = filed()
        case.status, case.owner = status, "u_amy"
        plain = {t.value for t in targets if (status, t) not in REOPEN_MOVES}
        for target in CaseStatus:
            if target.value in plain:
                continue
            with pytest.raises(RuleViolation) as info:
                case._check_move(target)
            assert set(info.value.details["allowed"]) == plain
            assert all(repr(name) in info.value.message for name in plain)
            assert f"from {status.value!r}" in info.value.message


def test_no_case_without_an_owner_once_acknowledged() -> None:
    case = filed()
    with pytest.raises(RuleViolation, match="needs an owner"):
        case.acknowledge(now=NOW)
    case.assign("u_bob", now=NOW, team="desk", rule="by category", reason="delivery")
    case.acknowledge(now=NOW)
    assert case.owner == "u_bob" and case.team == "desk"
    with pytest.raises(RuleViolation, match="keeps an owner"):
        case.assign(None, now=NOW)
    stored = unstructure(case)
    stored["owner"] = None
    with pytest.raises(ValidationError, match="has an owner"):
        structure(stored, Complaint)


def test_reassignment_is_recorded_and_the_same_assignment_changes_nothing() -> None:
    case = working()
    case.assign("u_bob", now=NOW, team="billing", rule="by skill", reason="speaks zh-TW")
    case.assign("u_bob", now=NOW, team="billing", rule="by skill", reason="speaks zh-TW")
    assert [(a.owner, a.team, a.rule) for a in case.assignments] == [
        ("u_amy", None, "manual"),
        ("u_bob", "billing", "by skill"),
    ]
    (event,) = case.pull_events()
    assert event.old_owner == "u_amy" and event.new_owner == "u_bob"  # type: ignore[attr-defined]


def test_replies_are_public_and_notes_are_internal() -> None:
    case = working()
    case.add_note("customer is a journalist", now=NOW, by="u_amy")
    case.reply("We are on it", now=NOW, by="u_amy")
    case.receive_customer_message("Thanks", now=NOW)
    assert [m.body for m in case.public_messages] == ["We are on it", "Thanks"]
    assert [n.body for n in case.notes] == ["customer is a journalist"]
    note_event = case.pull_events()[0]
    assert "journalist" not in to_json(note_event)


def test_replying_is_refused_before_acknowledgement_and_after_closing() -> None:
    case = filed()
    with pytest.raises(RuleViolation, match="acknowledge it first"):
        case.reply("hi", now=NOW, by="u_amy")
    case = working()
    case.resolve(now=NOW, summary="done", policy=POLICY)
    case.reply("Glad to help", now=NOW, by="u_amy")  # a resolved case may still be answered
    with pytest.raises(RuleViolation):
        case.reply("one more thing", now=NOW, by="u_amy", wait_for_customer=True)
    case.close(now=NOW)
    with pytest.raises(RuleViolation, match="reopen it first"):
        case.reply("hi", now=NOW, by="u_amy")


def test_attachments_and_duplicate_links_are_idempotent() -> None:
    case = working()
    for _ in range(2):
        case.attach("files/9", filename="photo.jpg", now=NOW, by="u_amy")
        case.link_duplicate("case_2", now=NOW, by="u_amy")
    assert len(case.attachments) == 1 and len(case.duplicates) == 1
    with pytest.raises(ValidationError):
        case.link_duplicate("case_1", now=NOW)


def test_reopen_within_the_window_keeps_the_history() -> None:
    case = working()
    resolved = NOW + timedelta(days=1)
    case.resolve(now=resolved, summary="fixed", policy=POLICY)
    case.close(now=resolved)
    history = case.status_history
    case.reopen(now=resolved + timedelta(days=14), reason="broke again", policy=POLICY)
    assert case.status is CaseStatus.IN_PROGRESS and case.reopened == 1
    assert case.status_history[: len(history)] == history
    assert case.status_history[-1].reason == "reopened: broke again"
    case.resolve(now=resolved + timedelta(days=15), summary="fixed again", policy=POLICY)
    with pytest.raises(RuleViolation, match="within 14 days"):
        case.reopen(now=resolved + timedelta(days=29, seconds=1), reason="x", policy=POLICY)
    with pytest.raises(RuleViolation, match="only a resolved or closed case"):
        working().reopen(now=NOW, reason="x", policy=POLICY)


def test_cancel_as_duplicate_or_spam() -> None:
    case = filed()
    with pytest.raises(ValidationError) as info:
        case.cancel("duplicate", note="same as CS-1000", now=NOW)
    assert info.value.errors[0].path == "duplicate_of"
    case.cancel("duplicate", note="same as CS-1000", now=NOW, duplicate_of="case_0")
    assert case.cancellation is not None and case.cancellation.duplicate_of == "case_0"
    assert [d.case_id for d in case.duplicates] == ["case_0"]
    with pytest.raises(RuleViolation, match="it is final"):
        case.cancel("spam", note="x", now=NOW)
    spam = working()
    spam.cancel("spam", note="advertising", now=NOW)
    assert spam.status is CaseStatus.CANCELLED


# ----- compensation and CSAT -------------------------------------------------------------------


def test_compensation_is_limited_by_the_approver_role() -> None:
    case = working()
    grant = {"kind": "voucher", "approved_by": "u_amy", "policy": POLICY, "now": NOW}
    with pytest.raises(RuleViolation, match="at most 500 TWD, not 800 TWD"):
        case.grant_compensation(
            reference="v1", amount=Money("800", "TWD"), approver_role="agent", **grant
        )
    case.grant_compensation(
        reference="v1", amount=Money("800", "TWD"), approver_role="team_lead", **grant
    )
    with pytest.raises(RuleViolation, match="may not grant a voucher in USD"):
        case.grant_compensation(
            reference="v2", amount=Money("10", "USD"), approver_role="agent", **grant
        )
    with pytest.raises(RuleViolation, match=r"may not grant a replacement in TWD$"):
        POLICY.check_compensation("agent", "replacement", amount=Money("1", "TWD"))
    with pytest.raises(RuleViolation, match="may not grant a voucher in TWD; roles that may: "):
        POLICY.check_compensation("support", "voucher", amount=Money("1", "TWD"))
    with pytest.raises(RuleViolation, match="at most 1000 goodwill points"):
        case.grant_compensation(
            reference="p1",
            kind="goodwill_points",
            points=1500,
            approved_by="u_amy",
            approver_role="agent",
            policy=POLICY,
            now=NOW,
        )
    assert [c.reference for c in case.compensations] == ["v1"]
    (event,) = case.pull_events()
    assert event.amount == Money("800", "TWD")  # type: ignore[attr-defined]


def test_compensation_is_idempotent_on_its_reference() -> None:
    case = working()
    args = {
        "reference": "refund-77",
        "kind": "refund",
        "amount": Money("20", "USD"),
        "approved_by": "u_amy",
        "approver_role": "agent",
        "policy": POLICY,
    }
    first = case.grant_compensation(now=NOW, **args)  # type: ignore[arg-type]
    again = case.grant_compensation(now=NOW + timedelta(hours=1), **args)  # type: ignore[arg-type]
    assert again is first and len(case.compensations) == 1
    assert len(case.pull_events()) == 1
    with pytest.raises(RuleViolation, match="with other terms"):
        case.grant_compensation(now=NOW, **{**args, "amount": Money("30", "USD")})  # type: ignore[arg-type]
    with pytest.raises(RuleViolation, match="acknowledged case"):
        filed().grant_compensation(now=NOW, **args)  # type: ignore[arg-type]


def test_csat_is_recorded_once_on_a_resolved_case() -> None:
    case = working()
    with pytest.raises(RuleViolation):
        case.record_csat(5, now=NOW)
    case.resolve(now=NOW, summary="done", policy=POLICY)
    case.record_csat(4, now=NOW, comment="quick", survey_ref="sv-1")
    case.record_csat(4, now=NOW + timedelta(days=1), comment="quick", survey_ref="sv-1")
    with pytest.raises(RuleViolation, match="recorded once"):
        case.record_csat(1, now=NOW)
    with pytest.raises(ValidationError):
        case.record_csat(6, now=NOW)
    assert case.csat is not None and case.csat.score == 4


# ----- data ----------------------------------------------------------------------------------


@settings(max_examples=40)
@given(complaints())
def test_complaints_and_their_events_round_trip(case: Complaint) -> None:
    assert structure(unstructure(case), Complaint) == case
    assert from_json(to_json(case), Complaint) == case
    for event in case.pending_events:
        assert structure(unstructure(event), DomainEvent) == event


@settings(max_examples=30)
@given(complaint_policies())
def test_complaint_policies_round_trip(policy: ComplaintPolicy) -> None:
    assert from_json(to_json(policy), ComplaintPolicy) == policy


def test_every_event_of_a_busy_case_round_trips() -> None:
    case = filed()
    case.acknowledge(now=NOW, owner="u_amy")
    case.reply("hi", now=NOW, by="u_amy", wait_for_customer=True)
    case.receive_customer_message("hello", now=NOW)
    case.add_note("n", now=NOW, by="u_amy")
    case.attach("f/1", filename="a.png", now=NOW)
    case.link_duplicate("case_9", now=NOW)
    case.promise_update(NOW + timedelta(days=1), now=NOW)
    case.reprioritise(impact="high", urgency="high", policy=POLICY, now=NOW, reason="press")
    case.grant_compensation(
        reference="g",
        kind="voucher",
        amount=Money("100", "TWD"),
        approved_by="u_amy",
        approver_role="agent",
        policy=POLICY,
        now=NOW,
    )
    case.resolve(now=NOW, summary="ok", policy=POLICY)
    case.record_csat(5, now=NOW)
    events = case.pull_events()
    assert len({e.event_type for e in events}) == 13
    for event in events:
        assert from_json(to_json(event), DomainEvent) == event
