"""Complaints and maintenance through the CRM facade.

A case's whole life on the in-memory store and on SQLite; assignment from the stored cases;
SLA clocks from stored calendars and policy sets (changed mid-flight, per team, per tier);
the scheduler's breach check; compensation that is idempotent and atomic (one coupon per
voucher, goodwill points through the hook in the same unit of work); the access policy; the
customer's view; the notification triggers run by the dispatcher; maintenance contracts and
work orders; the settings as data; and a stateful run of compensations where every refused
grant must leave the store as it was.

Deadlines in the worked examples are hand-checked on the Taipei desk calendar: Monday to
Friday, 09:00-18:00 (9 business hours a day), Asia/Taipei (UTC+8, no daylight saving).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from crmkit import (
    CRM,
    DuplicateError,
    ManualClock,
    NotFoundError,
    PermissionDeniedError,
    RuleViolation,
    ValidationError,
    bootstrap,
)
from crmkit.adapters.memory import MemoryStore, RecordingNotifier, StaticDirectory
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.dispatch import Dispatcher
from crmkit.app.service import (
    CompensationRequest,
    CsatSurveyTrigger,
    GoodwillPointsRequest,
    MaintenanceDueTrigger,
    RenewalDueTrigger,
    ServiceHooks,
    ServiceSettings,
    SlaTrigger,
    service_subscriptions,
    voucher_code,
)
from crmkit.customers import Interaction
from crmkit.kernel import SequentialIds
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.money import Money
from crmkit.kernel.query import Query
from crmkit.notifications import TemplateRenderer
from crmkit.ports import Person, UnitOfWork
from crmkit.pricing import Coupon
from crmkit.serialization import structure, to_json, unstructure
from crmkit.service import CompensationLimit, Complaint, ComplaintPolicy
from crmkit.service.assignment import CaseAssignmentRules, CategoryRoute, Team
from crmkit.service.maintenance import Equipment, ServicePlan
from crmkit.service.sla import EscalationLevel, SlaPolicy, SlaPolicySet, SlaRule

TPE = ZoneInfo("Asia/Taipei")
LDN = ZoneInfo("Europe/London")
MON = datetime(2026, 1, 5, 9, 0, tzinfo=TPE)  # a Monday, 09:00 in Taipei
H = timedelta(hours=1)

TAIPEI_DESK = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00"), name="Taipei desk")
LONDON_DESK = BusinessCalendar.office_hours("Europe/London", ("09:00", "17:00"), name="London")

POLICIES = SlaPolicySet(
    default="standard",
    policies=[
        SlaPolicy(
            name="standard",
            first_response=timedelta(hours=4),
            resolution=timedelta(hours=27),  # three 9-hour business days
            warn_at="0.75",
            escalations=[
                EscalationLevel(
                    level="team_lead", target="resolution", after=18 * H, notify="team_lead"
                )
            ],
        ),
        SlaPolicy(name="gold", first_response=1 * H, resolution=9 * H),
    ],
    rules=[SlaRule(name="gold members", policy="gold", tiers=["gold"])],
)

COMPLAINTS = ComplaintPolicy(
    categories=["delivery", "billing", "product"],
    root_causes=["carrier_delay", "pricing_error"],
    compensation_limits=[
        CompensationLimit(role="team_lead", kind="voucher", max_amount=Money("1000", "TWD")),
        CompensationLimit(role="team_lead", kind="refund", max_amount=Money("500", "TWD")),
        CompensationLimit(role="team_lead", kind="goodwill_points", max_points=2000),
    ],
)

ASSIGNMENT = CaseAssignmentRules(
    fallback_owner="u_lead",
    teams=[
        Team(name="desk", members=["u_amy", "u_bob"], lead="u_lead"),
        Team(name="billing", members=["u_cat", "u_dan"], strategy="least_loaded"),
    ],
    routes=[
        CategoryRoute(name="front desk", categories=["delivery"], team="desk"),
        CategoryRoute(name="billing desk", categories=["billing"], team="billing"),
    ],
)

SETTINGS = ServiceSettings(
    complaints=COMPLAINTS,
    sla=POLICIES,
    timezone="Asia/Taipei",
    calendar=TAIPEI_DESK,
    assignment=ASSIGNMENT,
)

PEOPLE = StaticDirectory(
    [
        Person(id="u_amy", name="Amy", email="amy@example.com", timezone="Asia/Taipei"),
        Person(id="u_bob", name="Bob", email="bob@example.com"),
    ]
)


def make_crm(
    store: Any = None,
    *,
    service: ServiceSettings = SETTINGS,
    hooks: ServiceHooks | None = None,
    policy: Any = None,
    clock: ManualClock | None = None,
    ids: SequentialIds | None = None,
) -> CRM:
    return bootstrap(
        store=store if store is not None else MemoryStore(),
        clock=clock or ManualClock(MON),
        ids=ids or SequentialIds(),
        service=service,
        service_hooks=hooks,
        policy=policy,
    )


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, tmp_path: Any) -> CRM:
    store = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "crm.db")
    return make_crm(store)


def customer_with_contact(crm: CRM, name: str = "Formosa Tea Co.") -> tuple[str, str]:
    customer = crm.register_customer(name)
    contact = crm.add_contact(customer.id, "Lin Mei-ling", emails=["mei@formosa-tea.example"])
    return customer.id, contact.id


def file(crm: CRM, customer_id: str, **fields: Any) -> Complaint:
    fields.setdefault("category", "delivery")
    fields.setdefault("channel", "email")
    return crm.file_complaint(customer_id, "Parcel never arrived", **fields)


def outbox_types(crm: CRM) -> list[str]:
    return [entry.event.event_type for entry in crm.store.outbox.pending(limit=1000)]


def advance_to(crm: CRM, when: datetime) -> None:
    crm.clock.set(when)  # type: ignore[attr-defined]


# ----- a case's life ---------------------------------------------------------------------------


def test_a_case_from_filing_to_closing_keeps_its_whole_history(crm: CRM) -> None:
    customer_id, contact_id = customer_with_contact(crm)
    case = file(crm, customer_id, contact_id=contact_id, impact="high", urgency="high")
    assert (case.reference, case.priority.value, case.owner, case.team) == (
        "CS-000001",
        "critical",
        "u_amy",
        "desk",
    )
    advance_to(crm, MON + 1 * H)
    crm.acknowledge_complaint(case.id, actor="u_amy")
    crm.add_complaint_note(case.id, "Carrier confirms the loss", by="u_amy")
    advance_to(crm, MON + 2 * H)
    crm.reply_to_complaint(case.id, "Which address?", by="u_amy", wait_for_customer=True)
    advance_to(crm, MON + 26 * H)  # Tuesday 11:00
    crm.record_customer_message(case.id, "The shop's, please.")
    advance_to(crm, MON + 28 * H)
    crm.resolve_complaint(case.id, "Re-shipped", root_cause="carrier_delay", actor="u_amy")
    crm.record_csat(case.id, 4, comment="slow but kind")
    advance_to(crm, MON + 50 * H)
    case = crm.close_complaint(case.id, actor="u_amy")

    assert [c.new.value for c in case.status_history] == [
        "new",
        "acknowledged",
        "in_progress",
        "awaiting_customer",
        "in_progress",
        "resolved",
        "closed",
    ]
    assert crm.get_complaint(case.id) == case
    assert case.csat is not None and case.csat.score == 4
    status = crm.complaint_sla(case.id)
    assert [c.state.value for c in status.clocks] == ["met", "met"]
    # paused from Monday 11:00 to Tuesday 11:00: 7 + 2 = 9 business hours held back
    assert status.resolution.pauses[0].business_time == 9 * H
    moved = "service.ComplaintStatusChanged"
    assert [t for t in outbox_types(crm) if t.startswith("service.")] == [
        "service.ComplaintFiled",
        "service.ComplaintAssigned",  # by the rules, when filed
        moved,  # acknowledged
        "service.InternalNoteAdded",
        "service.ComplaintReplied",
        moved,  # in progress (the reply starts the work)
        moved,  # awaiting the customer
        "service.CustomerMessageReceived",
        moved,  # in progress again
        moved,  # resolved
        "service.ComplaintResolved",
        "service.CsatRecorded",
        moved,  # closed
    ]


def test_filing_needs_a_stored_customer_and_one_of_its_contacts(crm: CRM) -> None:
    customer_id, contact_id = customer_with_contact(crm)
    other_id, _ = customer_with_contact(crm, "Huangpu Trading")
    with pytest.raises(NotFoundError):
        file(crm, "cus_404")
    with pytest.raises(ValidationError) as refused:
        file(crm, other_id, contact_id=contact_id)
    assert refused.value.errors[0].path == "contact_id"
    with pytest.raises(ValidationError) as refused:
        file(crm, customer_id, category="weather")
    assert refused.value.errors[0].path == "category"
    assert crm.find_complaints().items == ()
    assert "service.ComplaintFiled" not in outbox_types(crm)


def test_filing_again_with_a_reference_returns_the_case_and_files_nothing(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    other_id, _ = customer_with_contact(crm, "Huangpu Trading")
    first = file(crm, customer_id, reference="WEB-7781")
    again = file(crm, customer_id, reference="WEB-7781")
    assert again == first
    with pytest.raises(DuplicateError):
        file(crm, other_id, reference="WEB-7781")
    assert [c.id for c in crm.find_complaints().items] == [first.id]
    assert outbox_types(crm).count("service.ComplaintFiled") == 1


# ----- assignment -------------------------------------------------------------------------------


def test_round_robin_resumes_after_the_latest_stored_case(tmp_path: Any) -> None:
    path = tmp_path / "crm.db"
    crm = make_crm(SQLiteStore(path))
    customer_id, _ = customer_with_contact(crm)
    owners = [file(crm, customer_id).owner for _ in range(3)]
    # a second process on the same database goes on from where the first stopped
    later = make_crm(SQLiteStore(path), clock=ManualClock(MON + H), ids=SequentialIds(100))
    owners.append(file(later, customer_id).owner)
    assert owners == ["u_amy", "u_bob", "u_amy", "u_bob"]


def test_least_loaded_counts_only_open_cases(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    first = file(crm, customer_id, category="billing")
    second = file(crm, customer_id, category="billing")
    assert (first.owner, second.owner) == ("u_cat", "u_dan")
    crm.cancel_complaint(first.id, "spam", note="advertising")  # u_cat has none open now
    third = file(crm, customer_id, category="billing")
    assert third.owner == "u_cat"
    assert "least loaded: u_cat holds 0 open cases" in third.assignments[-1].reason


def test_a_category_without_a_route_goes_to_the_fallback_owner(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    case = file(crm, customer_id, category="product")
    assert (case.owner, case.assignments[-1].rule) == ("u_lead", "fallback")


def test_without_rules_an_owner_is_needed_to_acknowledge() -> None:
    crm = make_crm(service=ServiceSettings(complaints=COMPLAINTS, calendar=TAIPEI_DESK))
    customer_id, _ = customer_with_contact(crm)
    case = file(crm, customer_id)
    assert case.owner is None
    with pytest.raises(RuleViolation):
        crm.acknowledge_complaint(case.id)
    with pytest.raises(ValidationError):
        crm.assign_complaint(case.id)
    assert crm.acknowledge_complaint(case.id, owner="u_eve").owner == "u_eve"


# ----- failures store nothing ------------------------------------------------------------------


def test_a_refused_move_changes_nothing(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    before, events = crm.get_complaint(case.id), outbox_types(crm)
    with pytest.raises(RuleViolation) as refused:
        crm.resolve_complaint(case.id, "done")
    assert refused.value.details["allowed"] == ["in_progress", "cancelled"]
    with pytest.raises(RuleViolation):
        crm.record_csat(case.id, 5)
    with pytest.raises(ValidationError):
        crm.resolve_complaint(case.id, "done", root_cause="gremlins")
    with pytest.raises(NotFoundError):
        crm.cancel_complaint(case.id, "duplicate", note="same", duplicate_of="case_404")
    assert crm.get_complaint(case.id) == before
    assert outbox_types(crm) == events


# ----- compensation ----------------------------------------------------------------------------


def test_a_voucher_becomes_one_single_use_coupon_however_often_it_is_granted(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    grant = {"approver_role": "team_lead", "amount": Money("300", "TWD"), "actor": "u_lead"}
    outcomes = [crm.grant_compensation(case.id, "comp-1", "voucher", **grant) for _ in range(3)]

    assert [o.granted for o in outcomes] == [True, False, False]
    coupon = crm.get_coupon(voucher_code(case.id, "comp-1"))
    assert all(o.coupon == coupon for o in outcomes)
    assert (coupon.amount, coupon.usage_limit, coupon.per_customer_limit) == (
        Money("300", "TWD"),
        1,
        1,
    )
    assert coupon.valid_until == MON + timedelta(days=180)
    with crm.store.unit_of_work() as uow:
        assert len(uow.coupons.query(Query()).items) == 1
    stored = crm.get_complaint(case.id)
    assert [c.reference for c in stored.compensations] == ["comp-1"]
    assert outbox_types(crm).count("service.CompensationGranted") == 1
    # the same reference with other terms is refused, and stores nothing
    with pytest.raises(RuleViolation):
        crm.grant_compensation(
            case.id,
            "comp-1",
            "voucher",
            approver_role="team_lead",
            amount=Money("400", "TWD"),
            actor="u_lead",
        )
    assert crm.get_complaint(case.id) == stored


def test_a_grant_over_the_roles_limit_stores_no_coupon(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    with pytest.raises(RuleViolation) as refused:
        crm.grant_compensation(
            case.id,
            "comp-9",
            "voucher",
            approver_role="team_lead",
            amount=Money("1500", "TWD"),
            actor="u_lead",
        )
    assert refused.value.details["max_amount"] == "1000"
    with pytest.raises(NotFoundError):
        crm.get_coupon(voucher_code(case.id, "comp-9"))
    assert crm.get_complaint(case.id).compensations == ()


def test_goodwill_points_go_through_the_hook_in_the_same_unit_of_work() -> None:
    calls: list[GoodwillPointsRequest] = []

    def credit(uow: UnitOfWork, request: GoodwillPointsRequest) -> None:
        calls.append(request)
        uow.interactions.add(  # stands in for the loyalty ledger's entry
            Interaction.log(
                id=f"int_{request.reference}",
                customer_id=request.customer_id,
                kind="note",
                summary=f"{request.points} goodwill points",
                occurred_at=request.at,
                now=request.at,
            )
        )
        if request.points > 1000:
            raise RuleViolation("the ledger refuses more than 1000 points")

    crm = make_crm(hooks=ServiceHooks(goodwill_points=credit))
    customer_id, _ = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    for _ in range(2):
        crm.grant_compensation(
            case.id,
            "gp-1",
            "goodwill_points",
            approver_role="team_lead",
            points=500,
            actor="u_lead",
        )
    assert [(c.points, c.reference) for c in calls] == [(500, "gp-1")]
    assert [i.summary for i in crm.timeline(customer_id)] == ["500 goodwill points"]
    # the hook refuses: neither the points' entry nor the grant is stored
    with pytest.raises(RuleViolation):
        crm.grant_compensation(
            case.id,
            "gp-2",
            "goodwill_points",
            approver_role="team_lead",
            points=1500,
            actor="u_lead",
        )
    assert [i.summary for i in crm.timeline(customer_id)] == ["500 goodwill points"]
    assert [c.reference for c in crm.get_complaint(case.id).compensations] == ["gp-1"]


def test_without_the_loyalty_hook_goodwill_points_are_refused_not_faked(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    with pytest.raises(RuleViolation) as refused:
        crm.grant_compensation(
            case.id,
            "gp-1",
            "goodwill_points",
            approver_role="team_lead",
            points=500,
            actor="u_lead",
        )
    assert "goodwill_points hook" in str(refused.value)
    assert crm.get_complaint(case.id).compensations == ()
    assert "service.CompensationGranted" not in outbox_types(crm)


def test_a_refund_is_recorded_and_announced_for_the_host_to_pay(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    outcome = crm.grant_compensation(
        case.id,
        "refund-77",
        "refund",
        approver_role="team_lead",
        amount=Money("450", "TWD"),
        actor="u_lead",
    )
    assert outcome.coupon is None and outcome.granted
    granted = [
        e.event
        for e in crm.store.outbox.pending(limit=1000)
        if e.event.event_type == "service.CompensationGranted"
    ]
    assert [(e.reference, e.amount, e.customer_id) for e in granted] == [  # type: ignore[attr-defined]
        ("refund-77", Money("450", "TWD"), customer_id)
    ]


def test_compensation_needs_an_approver() -> None:
    crm = make_crm()
    customer_id, _ = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    with pytest.raises(ValidationError) as refused:
        crm.grant_compensation(
            case.id, "comp-1", "voucher", approver_role="team_lead", amount=Money("1", "TWD")
        )
    assert refused.value.errors[0].path == "actor"


# ----- the access policy -----------------------------------------------------------------------


class RecordingPolicy:
    """Allows everything except ``refused`` actions; remembers every question."""

    def __init__(self, *refused: str) -> None:
        self.refused = set(refused)
        self.asked: list[tuple[str | None, str, str]] = []

    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        self.asked.append((actor, action, type(resource).__name__))
        if action in self.refused:
            raise PermissionDeniedError(f"{actor} may not {action}")


def test_every_use_case_asks_the_policy_and_a_refusal_stores_nothing() -> None:
    policy = RecordingPolicy("service.compensate", "service.resolve")
    crm = make_crm(policy=policy)
    customer_id, _ = customer_with_contact(crm)
    case = file(crm, customer_id, actor="u_desk")
    crm.acknowledge_complaint(case.id, actor="u_amy")
    crm.start_complaint_work(case.id, actor="u_amy")
    crm.complaint_sla(case.id, actor="u_amy")
    before, events = crm.get_complaint(case.id), outbox_types(crm)
    with pytest.raises(PermissionDeniedError):
        crm.resolve_complaint(case.id, "done", actor="u_amy")
    with pytest.raises(PermissionDeniedError):
        crm.grant_compensation(
            case.id,
            "comp-1",
            "voucher",
            approver_role="team_lead",
            amount=Money("100", "TWD"),
            actor="u_amy",
        )
    assert crm.get_complaint(case.id) == before
    assert outbox_types(crm) == events
    with pytest.raises(NotFoundError):
        crm.get_coupon(voucher_code(case.id, "comp-1"))
    service_questions = [(a, act, r) for a, act, r in policy.asked if act.startswith("service.")]
    assert service_questions == [
        ("u_desk", "service.file", "Customer"),
        ("u_amy", "service.acknowledge", "Complaint"),
        ("u_amy", "service.work", "Complaint"),
        ("u_amy", "service.read", "Complaint"),
        ("u_amy", "service.resolve", "Complaint"),
        ("u_amy", "service.compensate", "CompensationRequest"),
    ]


def test_the_compensation_request_names_the_role_the_actor_claims() -> None:
    class TeamLeadsOnly:
        def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
            if isinstance(resource, CompensationRequest) and actor != "u_lead":
                raise PermissionDeniedError(f"{actor} is not a {resource.approver_role}")

    crm = make_crm(policy=TeamLeadsOnly())
    customer_id, _ = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    terms: dict[str, Any] = {"approver_role": "team_lead", "amount": Money("100", "TWD")}
    with pytest.raises(PermissionDeniedError, match="u_amy is not a team_lead"):
        crm.grant_compensation(case.id, "comp-1", "voucher", actor="u_amy", **terms)
    assert crm.grant_compensation(case.id, "comp-1", "voucher", actor="u_lead", **terms).granted


# ----- SLA clocks --------------------------------------------------------------------------------


def test_a_pause_moves_the_deadline_by_exactly_the_business_time_paused(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    # 27 business hours from Monday 09:00: Mon 9 + Tue 9 + Wed 9 -> Wednesday 18:00
    assert crm.complaint_sla(case.id).resolution.deadline == datetime(2026, 1, 7, 18, tzinfo=TPE)
    advance_to(crm, MON + 2 * H)  # Monday 11:00
    crm.reply_to_complaint(case.id, "Order number?", by="u_amy", wait_for_customer=True)
    advance_to(crm, MON + 50 * H)  # Wednesday 11:00
    crm.record_customer_message(case.id, "SO-7781")
    status = crm.complaint_sla(case.id)
    # paused Mon 11-18 (7 h) + Tue (9 h) + Wed 09-11 (2 h) = 18 business hours;
    # 2 h ran before the pause, 25 h remain: Wed 11-18 (7), Thu (9), Fri (9) -> Friday 18:00
    assert status.resolution.pauses[0].business_time == 18 * H
    assert status.resolution.deadline == datetime(2026, 1, 9, 18, tzinfo=TPE)
    assert status.first_response.state.value == "met"


def test_stored_calendars_and_policy_sets_change_open_cases_at_once() -> None:
    settings = ServiceSettings(
        complaints=COMPLAINTS,
        assignment=ASSIGNMENT,
        calendar_id="cal_tpe",
        sla_policy_set_id="sla_default",
    )
    crm = make_crm(service=settings)
    crm.save_business_calendar("cal_tpe", TAIPEI_DESK, actor="u_admin")
    crm.save_sla_policy_set("sla_default", POLICIES, actor="u_admin")
    customer_id, _ = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    advance_to(crm, MON + 2 * H)
    crm.reply_to_complaint(case.id, "Order number?", by="u_amy", wait_for_customer=True)
    advance_to(crm, MON + 50 * H)
    crm.record_customer_message(case.id, "SO-7781")
    assert crm.complaint_sla(case.id).resolution.deadline == datetime(2026, 1, 9, 18, tzinfo=TPE)

    # the office closes on Thursday 8 January: Wed 11-18 (7), Fri (9), Mon 12 (9) -> Mon 18:00;
    # the 18 paused hours stay paused on the new calendar
    stored = crm.save_business_calendar("cal_tpe", TAIPEI_DESK.with_closures(date(2026, 1, 8)))
    assert stored.version == 2
    status = crm.complaint_sla(case.id)
    assert status.resolution.deadline == datetime(2026, 1, 12, 18, tzinfo=TPE)
    assert status.resolution.pauses[0].business_time == 18 * H

    # a faster policy set: resolution in 18 business hours -> Wed 11-18 (7), Fri (9), Mon 11:00
    faster = SlaPolicySet(
        default="standard",
        policies=[SlaPolicy(name="standard", first_response=4 * H, resolution=20 * H)],
    )
    crm.save_sla_policy_set("sla_default", faster)
    assert crm.complaint_sla(case.id).resolution.deadline == datetime(2026, 1, 12, 11, tzinfo=TPE)


def test_each_team_reads_its_own_calendar() -> None:
    settings = ServiceSettings(
        complaints=COMPLAINTS, sla=POLICIES, calendar=TAIPEI_DESK, team_calendars={"uk": "cal_ldn"}
    )
    crm = make_crm(service=settings)
    crm.save_business_calendar("cal_ldn", LONDON_DESK)
    customer_id, _ = customer_with_contact(crm)
    taipei = file(crm, customer_id, owner="u_amy", team="tw")
    london = file(crm, customer_id, owner="u_jane", team="uk")
    # filed Monday 09:00 in Taipei = Monday 01:00 in London (GMT): London opens at 09:00
    assert crm.complaint_sla(taipei.id).first_response.deadline.isoformat() == (
        "2026-01-05T13:00:00+08:00"
    )
    assert crm.complaint_sla(london.id).first_response.deadline.isoformat() == (
        "2026-01-05T13:00:00+00:00"
    )
    assert crm.complaint_sla(london.id).calendar == "London"


def test_the_tier_comes_from_the_command_else_from_the_hook() -> None:
    hooks = ServiceHooks(tier_lookup=lambda uow, customer_id: "Gold")
    crm = make_crm(hooks=hooks)
    customer_id, _ = customer_with_contact(crm)
    gold = file(crm, customer_id)
    silver = file(crm, customer_id, customer_tier="silver")
    assert (gold.customer_tier, silver.customer_tier) == ("Gold", "silver")
    assert crm.complaint_sla(gold.id).policy == "gold"
    assert crm.complaint_sla(gold.id).first_response.deadline == MON + H
    assert crm.complaint_sla(silver.id).policy == "standard"

    bad = make_crm(hooks=ServiceHooks(tier_lookup=lambda uow, customer_id: 3))  # type: ignore[arg-type,return-value]
    with pytest.raises(ValidationError):
        file(bad, customer_with_contact(bad)[0])


def test_the_scheduler_records_each_breach_and_escalation_once(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    advance_to(crm, MON + 4.5 * H)  # first response due Monday 13:00
    first = crm.check_sla_breaches(actor="scheduler")
    assert (first.checked, first.breached, first.escalated) == (
        1,
        ((case.id, "first_response"),),
        (),
    )
    assert crm.check_sla_breaches().breached == ()
    # team lead after 18 business hours: Mon (9) + Tue (9) -> Tuesday 18:00
    advance_to(crm, datetime(2026, 1, 7, 10, tzinfo=TPE))
    assert crm.check_sla_breaches().escalated == ((case.id, "resolution", "team_lead"),)
    # resolution due Wednesday 18:00
    advance_to(crm, datetime(2026, 1, 8, 10, tzinfo=TPE))
    assert crm.check_sla_breaches().breached == ((case.id, "resolution"),)
    again = crm.check_sla_breaches()
    assert (again.breached, again.escalated) == ((), ())
    types = outbox_types(crm)
    assert (types.count("service.SlaBreached"), types.count("service.ComplaintEscalated")) == (2, 1)
    stored = crm.get_complaint(case.id)
    assert [b.target.value for b in stored.breaches] == ["first_response", "resolution"]


# ----- what the customer sees ------------------------------------------------------------------


def test_the_public_view_shows_only_the_customers_own_case_and_public_words(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    other_id, _ = customer_with_contact(crm, "Huangpu Trading")
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    crm.add_complaint_note(case.id, "SECRET: carrier blames our packing", by="u_amy")
    crm.reply_to_complaint(case.id, "A new parcel leaves today.", by="u_amy")
    file(crm, other_id, reference="CS-OTHER")

    view = crm.public_complaint_view(case.reference, customer_id=customer_id)
    shown = json.dumps(unstructure(view), ensure_ascii=False)
    assert "SECRET" not in shown and "u_amy" not in shown and "CS-OTHER" not in shown
    assert [m.body for m in view.messages] == ["A new parcel leaves today."]
    # the first response is met: the next update expected is the resolution deadline
    assert view.expected_next_update == datetime(2026, 1, 7, 18, tzinfo=TPE)
    with pytest.raises(NotFoundError) as hidden:
        crm.public_complaint_view(case.reference, customer_id=other_id)
    with pytest.raises(NotFoundError) as missing:
        crm.public_complaint_view("CS-NOPE", customer_id=other_id)
    assert str(hidden.value).replace(case.reference, "?") == str(missing.value).replace(
        "CS-NOPE", "?"
    )


# ----- notifications ---------------------------------------------------------------------------


def dispatcher(crm: CRM, *triggers: Any) -> tuple[Dispatcher, RecordingNotifier]:
    notifier = RecordingNotifier()
    return (
        Dispatcher(
            crm.store,
            notifier,
            service_subscriptions(),
            clock=crm.clock,
            people=PEOPLE,
            triggers=triggers,
        ),
        notifier,
    )


def test_sla_warnings_and_breaches_reach_the_owner_once_per_deadline(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id).id)
    run, notifier = dispatcher(crm, SlaTrigger(SETTINGS, people=PEOPLE))
    advance_to(crm, MON + 3.5 * H)  # 3.5 of 4 hours: past the 75% warning
    run.run_once()
    advance_to(crm, MON + 3.75 * H)
    run.run_once()
    advance_to(crm, MON + 4.5 * H)
    run.run_once()
    run.run_once()
    sent = [(n.template, n.recipient, n.context["case"]) for n in notifier.sent]
    assert sent == [
        ("sla_first_response_due", "amy@example.com", case.reference),
        ("sla_breached", "amy@example.com", case.reference),
    ]
    warning = notifier.sent[0]
    assert warning.context["due_at"] == datetime(2026, 1, 5, 13, tzinfo=TPE)
    message = TemplateRenderer().render(attrs_evolve_locale(warning, "zh_Hant_TW"))
    assert message.subject == "案件 CS-000001 須於 2026年1月5日 下午1:00 前首次回覆"
    # once the first reply went out, nothing more about the first response is sent
    crm.reply_to_complaint(case.id, "On it", by="u_amy")
    advance_to(crm, MON + 5 * H)
    assert run.run_once().sent == 0


def attrs_evolve_locale(notification: Any, locale: str) -> Any:
    import attrs

    return attrs.evolve(notification, locale=locale)


def test_a_resolved_case_sends_its_contact_one_survey_per_resolution(crm: CRM) -> None:
    customer_id, contact_id = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id, contact_id=contact_id).id)
    crm.start_complaint_work(case.id)
    run, notifier = dispatcher(crm, CsatSurveyTrigger())
    advance_to(crm, MON + 3 * H)
    crm.resolve_complaint(case.id, "Re-shipped")
    run.run_once()
    advance_to(crm, MON + 5 * H)
    run.run_once()
    assert [(n.template, n.recipient) for n in notifier.sent] == [
        ("csat_survey", "mei@formosa-tea.example")
    ]
    rendered = TemplateRenderer().render(notifier.sent[0])
    assert rendered.subject == "How did we do with case CS-000001?"
    assert "Dear Lin Mei-ling" in rendered.text
    # reopened and resolved again: a new resolution, a new survey; once answered, no more
    crm.reopen_complaint(case.id, "the new parcel is damaged too")
    advance_to(crm, MON + 6 * H)
    crm.resolve_complaint(case.id, "Refunded")
    run.run_once()
    crm.record_csat(case.id, 3)
    advance_to(crm, MON + 8 * H)
    run.run_once()
    assert [n.template for n in notifier.sent] == ["csat_survey", "csat_survey"]


def test_a_survey_is_not_sent_after_its_window(crm: CRM) -> None:
    customer_id, contact_id = customer_with_contact(crm)
    case = crm.acknowledge_complaint(file(crm, customer_id, contact_id=contact_id).id)
    crm.start_complaint_work(case.id)
    crm.resolve_complaint(case.id, "Re-shipped")
    advance_to(crm, MON + timedelta(days=8))
    run, notifier = dispatcher(crm, CsatSurveyTrigger(within=timedelta(days=7)))
    run.run_once()
    assert notifier.sent == []


# ----- maintenance -----------------------------------------------------------------------------


def sign(crm: CRM, customer_id: str) -> Any:
    return crm.sign_maintenance_contract(
        customer_id,
        [
            Equipment(
                serial="AC-0042",
                model="Daikin FTXM35",
                site="Taipei office",
                installed_on=date(2025, 10, 9),
            ),
        ],
        ServicePlan(name="half-yearly", rule="FREQ=MONTHLY;INTERVAL=6"),
        starts_on=date(2025, 10, 9),
        ends_on=date(2027, 10, 8),
    )


def test_a_contract_and_its_work_orders_through_the_facade(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    contract = sign(crm, customer_id)
    # the Taipei desk works every Friday: the October visit stays on Friday 9 October
    visits = crm.upcoming_services(date(2026, 1, 1), date(2026, 12, 31))
    assert [(v.due_on, v.scheduled_on) for v in visits] == [
        (date(2026, 4, 9), date(2026, 4, 9)),
        (date(2026, 10, 9), date(2026, 10, 9)),
    ]
    with pytest.raises(ValidationError):
        crm.open_work_order("AC-9999", "repair", "noisy", contract_id=contract.id)
    job = crm.open_work_order(
        "AC-0042", "maintenance", "half-yearly service", contract_id=contract.id
    )
    visit = datetime(2026, 4, 9, 10, tzinfo=TPE)
    crm.dispatch_work_order(job.id, "u_tech", start=visit, end=visit + 2 * H)
    crm.start_work_order(job.id, actor="u_tech")
    crm.record_work_order_part(job.id, "FLT-200", 2, description="air filter")
    job = crm.complete_work_order(job.id, "Filters replaced; pressure normal")
    assert [c.new.value for c in job.history] == ["open", "dispatched", "in_progress", "completed"]
    assert crm.get_work_order(job.id) == job
    with pytest.raises(RuleViolation):
        crm.cancel_work_order(job.id, "too late")
    assert crm.renewals_due(date(2027, 8, 8)) == ()
    assert [r.days_left for r in crm.renewals_due(date(2027, 8, 9))] == [60]
    renewed = crm.renew_maintenance_contract(contract.id, date(2029, 10, 8))
    assert crm.get_maintenance_contract(contract.id) == renewed
    assert crm.renewals_due(date(2027, 9, 1)) == ()


def test_visits_move_off_the_service_calendars_holidays() -> None:
    settings = ServiceSettings(calendar=TAIPEI_DESK.with_closures(date(2026, 10, 9)))
    crm = make_crm(service=settings)
    customer_id, _ = customer_with_contact(crm)
    sign(crm, customer_id)
    (visit,) = crm.upcoming_services(date(2026, 10, 1), date(2026, 10, 31))
    assert (visit.due_on, visit.scheduled_on) == (date(2026, 10, 9), date(2026, 10, 12))
    assert visit.moved_because is not None


def test_visits_and_renewals_are_announced_to_the_customer_once(crm: CRM) -> None:
    customer_id, _ = customer_with_contact(crm)
    sign(crm, customer_id)
    run, notifier = dispatcher(crm, MaintenanceDueTrigger(SETTINGS), RenewalDueTrigger(SETTINGS))
    for day in (date(2026, 3, 20), date(2026, 3, 30), date(2026, 4, 2)):
        advance_to(crm, datetime.combine(day, datetime.min.time(), tzinfo=TPE) + 10 * H)
        run.run_once()
    advance_to(crm, datetime(2027, 9, 1, 10, tzinfo=TPE))
    run.run_once()
    run.run_once()
    sent = [
        (n.template, n.recipient, n.context.get("asset") or n.context.get("contract"))
        for n in notifier.sent
    ]
    assert sent == [
        ("maintenance_due", "mei@formosa-tea.example", "Daikin FTXM35 (AC-0042)"),
        ("maintenance_renewal_due", "mei@formosa-tea.example", "mc_000001"),
    ]
    rendered = TemplateRenderer().render(notifier.sent[1])
    assert rendered.subject == "Your maintenance contract mc_000001 ends on Oct 8, 2027"


# ----- the settings ----------------------------------------------------------------------------


def test_the_settings_are_data_that_round_trip_through_json() -> None:
    full = ServiceSettings(
        complaints=COMPLAINTS,
        sla=POLICIES,
        sla_policy_set_id="sla_default",
        timezone="Asia/Taipei",
        calendar=TAIPEI_DESK.with_closures(date(2026, 2, 2)),
        calendar_id="cal_tpe",
        team_calendars={"uk": "cal_ldn"},
        assignment=ASSIGNMENT,
        reference_prefix="TW-",
        voucher_valid_for=None,
    )
    text = to_json(full)
    assert structure(json.loads(text), ServiceSettings) == full
    assert full.reference_for("case_000042") == "TW-000042"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("complaints", "delivery"),
        ("timezone", "Mars/Olympus"),
        ("team_calendars", {"uk": "not an id!"}),
        ("reference_prefix", " CS-"),
        ("voucher_valid_for", timedelta(0)),
    ],
)
def test_bad_settings_are_refused_naming_the_field(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as refused:
        ServiceSettings(**{field: value})
    assert refused.value.errors[0].path.split("[")[0].split(".")[0] == field


def test_bootstrap_refuses_what_is_not_service_settings() -> None:
    with pytest.raises(ValidationError):
        bootstrap(service="fast")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        bootstrap(service_hooks={"tier_lookup": None})  # type: ignore[arg-type]


# ----- a stateful run of compensations --------------------------------------------------------


class Compensations(RuleBasedStateMachine):
    """Grants and re-grants on one case: each reference counts once, refusals store nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.points: list[GoodwillPointsRequest] = []
        hooks = ServiceHooks(goodwill_points=lambda uow, request: self.points.append(request))
        self.crm = make_crm(hooks=hooks)
        customer_id, _ = customer_with_contact(self.crm)
        self.case_id = self.crm.acknowledge_complaint(file(self.crm, customer_id).id).id
        self.granted: dict[str, tuple[str, Money | None, int | None]] = {}

    @rule(
        reference=st.sampled_from(["c1", "c2", "c3", "c4"]),
        kind=st.sampled_from(["voucher", "refund", "goodwill_points"]),
        size=st.sampled_from([100, 450, 900, 1500, 2500]),
    )
    def grant(self, reference: str, kind: str, size: int) -> None:
        amount = None if kind == "goodwill_points" else Money(size, "TWD")
        points = size if kind == "goodwill_points" else None
        limit = {"voucher": 1000, "refund": 500, "goodwill_points": 2000}[kind]
        before = self.crm.get_complaint(self.case_id)
        known = self.granted.get(reference)
        try:
            outcome = self.crm.grant_compensation(
                self.case_id,
                reference,
                kind,
                approver_role="team_lead",
                amount=amount,
                points=points,
                actor="u_lead",
            )
        except RuleViolation:
            assert (known is not None and known != (kind, amount, points)) or (
                known is None and size > limit
            )
            assert self.crm.get_complaint(self.case_id) == before
            return
        assert known in (None, (kind, amount, points))
        assert size <= limit
        assert outcome.granted == (known is None)
        self.granted[reference] = (kind, amount, points)

    @invariant()
    def each_reference_counts_once(self) -> None:
        case = self.crm.get_complaint(self.case_id)
        assert [c.reference for c in case.compensations] == list(self.granted)
        events = [
            e.event
            for e in self.crm.store.outbox.pending(limit=1000)
            if e.event.event_type == "service.CompensationGranted"
        ]
        assert len(events) == len(self.granted)
        with self.crm.store.unit_of_work() as uow:
            codes = sorted(c.code for c in uow.coupons.query(Query()).items)
        vouchers = [ref for ref, (kind, _, _) in self.granted.items() if kind == "voucher"]
        assert codes == sorted(voucher_code(self.case_id, ref) for ref in vouchers)
        assert all(isinstance(self.crm.get_coupon(code), Coupon) for code in codes)
        goodwill = [ref for ref, (kind, _, _) in self.granted.items() if kind == "goodwill_points"]
        assert [p.reference for p in self.points] == goodwill


Compensations.TestCase.settings = hypothesis_settings(
    max_examples=25, stateful_step_count=12, deadline=None
)
TestCompensations = Compensations.TestCase
