"""Capturing leads through the CRM facade, on the in-memory and SQLite stores: normalisation,
the speed-to-lead deadline, idempotent external references, the three duplicate policies and
assignment at capture."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit import CRM, ManualClock, bootstrap
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.leads import CaptureOutcome, CaptureResult, LeadSettings
from crmkit.kernel import SequentialIds
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.query import Query
from crmkit.leads import Lead
from crmkit.leads.assignment import AssignmentRule, AssignmentRules
from crmkit.leads.commands import CaptureLead, DuplicatePolicy
from crmkit.leads.normalize import MatchKind

TPE = ZoneInfo("Asia/Taipei")
MONDAY_9AM = datetime(2026, 3, 2, 9, 0, tzinfo=TPE)


def make_crm(kind: str, clock: ManualClock, **settings: Any) -> CRM:
    store = MemoryStore() if kind == "memory" else SQLiteStore(":memory:")
    return bootstrap(
        store=store,
        clock=clock,
        ids=SequentialIds(),
        leads=LeadSettings(timezone="Asia/Taipei", **settings),
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_9AM)


@pytest.fixture(params=["memory", "sqlite"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def crm(store_kind: str, clock: ManualClock) -> Iterator[CRM]:
    crm = make_crm(store_kind, clock)
    yield crm
    close = getattr(crm.store, "close", None)
    if close is not None:
        close()


def all_leads(crm: CRM) -> list[Lead]:
    with crm.store.unit_of_work() as uow:
        return list(uow.leads.query(Query().order("captured_at").take(1000)).items)


def outbox_types(crm: CRM) -> list[str]:
    return [entry.event.event_type for entry in crm.store.outbox.pending(1000)]


def web_form(crm: CRM, **kw: Any) -> CaptureResult:
    args: dict[str, Any] = {
        "name": "Amy Chen",
        "email": "Amy.Chen@Acme.example",
        "company": "Acme Ltd",
        "campaign": "spring promo",
        "external_ref": "form-1042",
        **kw,
    }
    return crm.capture_lead("web_form", **args)


def trade_show(crm: CRM, **kw: Any) -> CaptureResult:
    args: dict[str, Any] = {
        "name": "Amy  CHEN",
        "company": "ACME Co., Ltd.",
        "phone": "0912 345 678",
        "phone_region": "TW",
        "job_title": "CTO",
        "campaign": "2023 trade show",
        "external_ref": "badge-77",
        **kw,
    }
    return crm.capture_lead("trade_show", **args)


# ----- plain capture ---------------------------------------------------------------------------


class TestCapture:
    def test_a_new_person_becomes_a_new_lead_with_normalised_keys(self, crm: CRM) -> None:
        result = crm.capture_lead(
            "trade_show",
            name=" Amy Chen ",
            email="Amy.Chen@ACME.example",
            phone="0912-345-678",
            phone_region="TW",
            company="Acme Ltd",
            campaign="2023 trade show",
        )
        assert result.outcome is CaptureOutcome.CREATED and result.created
        assert result.match is None and result.duplicate_of is None
        lead = result.lead
        assert (lead.id, lead.version) == ("lead_000001", 1)
        assert (lead.name, lead.email, lead.phone) == (
            "Amy Chen",
            "Amy.Chen@acme.example",
            "+886912345678",
        )
        assert crm.get_lead(lead.id) == lead
        assert outbox_types(crm) == ["leads.LeadCaptured"]
        assert result.reason == "created lead lead_000001"

    def test_the_follow_up_deadline_is_24_business_hours_on_the_configured_calendar(
        self, crm: CRM
    ) -> None:
        # Monday 09:00 in Taipei; 9 working hours a day: Mon 9 + Tue 9 + Wed 6 = Wed 15:00
        lead = crm.capture_lead("web_form", email="amy@acme.example").lead
        assert lead.follow_up_due_at == datetime(2026, 3, 4, 15, 0, tzinfo=TPE)

    def test_the_default_calendar_is_monday_to_friday_nine_to_six_in_utc(
        self, clock: ManualClock
    ) -> None:
        crm = bootstrap(clock=clock, ids=SequentialIds())
        friday_5pm_utc = datetime(2026, 3, 6, 17, 0, tzinfo=ZoneInfo("UTC"))
        clock.set(friday_5pm_utc)
        lead = crm.capture_lead("web_form", email="amy@acme.example").lead
        # 1 h on Friday, then Monday to Wednesday: 9 + 9 + 5 = 23 h -> Wednesday 14:00 UTC
        assert lead.follow_up_due_at == datetime(2026, 3, 11, 14, 0, tzinfo=ZoneInfo("UTC"))

    def test_a_configured_calendar_and_window_are_used(self, clock: ManualClock) -> None:
        calendar = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "12:00"))
        crm = bootstrap(
            clock=clock,
            leads=LeadSettings(calendar=calendar, follow_up_within=timedelta(hours=4)),
        )
        lead = crm.capture_lead("web_form", email="amy@acme.example").lead
        assert lead.follow_up_due_at == datetime(2026, 3, 3, 10, 0, tzinfo=TPE)

    def test_an_import_keeps_the_capture_time_and_its_deadline(self, crm: CRM) -> None:
        earlier = MONDAY_9AM - timedelta(days=7)
        lead = crm.capture_lead("import", email="amy@acme.example", captured_at=earlier).lead
        assert lead.captured_at == earlier
        assert lead.follow_up_due_at == datetime(2026, 2, 25, 15, 0, tzinfo=TPE)

    def test_a_named_owner_is_recorded_as_a_manual_assignment(self, crm: CRM) -> None:
        lead = crm.capture_lead("phone", phone="+886912345678", owner="u_amy").lead
        assert lead.owner == "u_amy"
        assert lead.assignment is not None
        assert (lead.assignment.rule, lead.assignment.reason) == ("manual", "named at capture")

    def test_handle_takes_the_command_itself(self, crm: CRM) -> None:
        result = crm.handle(CaptureLead("ads", email="amy@acme.example"))
        assert result.outcome is CaptureOutcome.CREATED


# ----- idempotency -----------------------------------------------------------------------------


class TestExternalReference:
    def test_the_same_reference_again_returns_the_lead_unchanged(self, crm: CRM) -> None:
        first = web_form(crm).lead
        crm.store.outbox.mark_delivered(e.position for e in crm.store.outbox.pending(100))
        again = web_form(crm, name="Someone Else", email="other@acme.example")
        assert again.outcome is CaptureOutcome.ALREADY_CAPTURED
        assert again.lead == first
        assert again.reason == "already captured in lead lead_000001; nothing changed"
        assert all_leads(crm) == [first]
        assert outbox_types(crm) == []

    def test_a_reference_merged_into_a_lead_is_recognised_too(self, crm: CRM) -> None:
        web_form(crm)
        merged = trade_show(crm, email="amy.chen@acme.example")
        assert merged.outcome is CaptureOutcome.MERGED
        again = trade_show(crm, email="amy.chen@acme.example")
        assert again.outcome is CaptureOutcome.ALREADY_CAPTURED
        assert again.lead.version == merged.lead.version
        assert len(all_leads(crm)) == 1

    def test_a_closed_lead_still_holds_its_reference(self, crm: CRM) -> None:
        lead = web_form(crm).lead
        crm.disqualify_lead(lead.id, "spam")
        again = web_form(crm)
        assert again.outcome is CaptureOutcome.ALREADY_CAPTURED
        assert again.lead.status.value == "disqualified"


# ----- the same person through two channels, per policy ----------------------------------------


class TestMerge:
    def test_web_form_then_trade_show_yields_one_lead(self, crm: CRM) -> None:
        web = web_form(crm)
        show = trade_show(crm, duplicates="merge")
        assert show.outcome is CaptureOutcome.MERGED
        assert show.match is not None and show.match.kind is MatchKind.COMPANY_AND_NAME
        (lead,) = all_leads(crm)
        assert lead.id == web.lead.id == show.lead.id
        assert [t.channel.value for t in lead.touches] == ["web_form", "trade_show"]
        assert [t.external_ref for t in lead.touches] == ["form-1042", "badge-77"]
        # what the trade show added fills the gaps; nothing is overwritten
        assert (lead.phone, lead.company, lead.job_title) == (
            "+886912345678",
            "Acme Ltd",
            "CTO",
        )
        assert lead.name == "Amy Chen" and lead.campaign == "spring promo"

    def test_the_match_explains_why_and_the_strongest_key_wins(self, crm: CRM) -> None:
        web_form(crm)
        show = trade_show(crm, email="AMY.CHEN@acme.example", duplicates="merge")
        assert show.match.kind is MatchKind.EMAIL
        assert show.match.kinds == (MatchKind.EMAIL, MatchKind.COMPANY_AND_NAME)
        assert show.reason == ("merged into lead lead_000001: same email 'amy.chen@acme.example'")

    def test_a_merged_capture_keeps_the_leads_owner_and_deadline(self, crm: CRM) -> None:
        web = web_form(crm, owner="u_amy").lead
        show = trade_show(crm, owner="u_bob", company="Acme")
        assert show.lead.owner == "u_amy"
        assert show.lead.follow_up_due_at == web.follow_up_due_at

    def test_a_known_customer_contact_without_a_lead_is_flagged(self, crm: CRM) -> None:
        acme = crm.register_customer("Acme Ltd")
        amy = crm.add_contact(acme.id, "Amy Chen", emails=["amy.chen@acme.example"])
        result = web_form(crm, duplicates="merge")
        assert result.outcome is CaptureOutcome.FLAGGED
        assert result.duplicate_of == amy.id and result.customer_id == acme.id
        assert result.lead.duplicate.of == amy.id
        assert result.lead.customer_link is None

    def test_closed_leads_are_not_merged_into(self, crm: CRM) -> None:
        old = web_form(crm, external_ref=None).lead
        crm.disqualify_lead(old.id, "bad_timing")
        again = web_form(crm, external_ref=None)
        assert again.outcome is CaptureOutcome.CREATED
        assert len(all_leads(crm)) == 2

    def test_different_people_at_one_company_stay_apart(self, crm: CRM) -> None:
        web_form(crm)
        bob = trade_show(crm, name="Bob Lin", phone="0922 333 444")
        assert bob.outcome is CaptureOutcome.CREATED
        assert len(all_leads(crm)) == 2


class TestLink:
    def test_web_form_then_trade_show_yields_one_lead_linked_to_the_customer(
        self, crm: CRM
    ) -> None:
        acme = crm.register_customer("Acme Co., Ltd.")
        amy = crm.add_contact(acme.id, "Amy Chen", emails=["amy.chen@acme.example"])
        web = web_form(crm, duplicates="link")
        assert web.outcome is CaptureOutcome.LINKED
        assert web.match.kind is MatchKind.EMAIL
        assert web.reason == (
            "created lead lead_000001, linked to customer cus_000001: "
            "same email 'amy.chen@acme.example'"
        )
        show = trade_show(crm, duplicates="link")  # company + name, no email: the same person
        assert show.outcome is CaptureOutcome.MERGED
        (lead,) = all_leads(crm)
        assert lead.customer_link is not None
        assert (lead.customer_link.customer_id, lead.customer_link.contact_id) == (acme.id, amy.id)
        assert [t.channel.value for t in lead.touches] == ["web_form", "trade_show"]
        assert show.customer_id == acme.id

    def test_a_capture_merging_into_an_unlinked_lead_links_it(self, crm: CRM) -> None:
        web_form(crm, duplicates="link")  # not a customer yet
        acme = crm.register_customer("Acme Ltd")
        crm.add_contact(acme.id, "Amy Chen", phones=["+886912345678"])
        show = trade_show(crm, duplicates="link")
        assert show.outcome is CaptureOutcome.MERGED
        assert show.lead.customer_link.customer_id == acme.id
        assert "linked to customer cus_000001" in show.reason

    def test_a_lead_linked_to_the_matched_contact_is_the_same_person(self, crm: CRM) -> None:
        acme = crm.register_customer("Acme Co., Ltd.")
        amy = crm.add_contact(acme.id, "Amy Chen", emails=["amy.chen@acme.example"])
        web = web_form(crm, company=None, duplicates="link")  # the email links it to Amy
        assert web.outcome is CaptureOutcome.LINKED
        show = trade_show(crm, duplicates="link")  # company and name match Amy, not the lead
        assert show.outcome is CaptureOutcome.MERGED
        assert show.lead.id == web.lead.id
        assert show.match is not None
        assert show.match.reason.endswith(
            f", as contact {amy.id}, to whom lead {web.lead.id} is linked"
        )
        assert len(all_leads(crm)) == 1

    def test_a_person_customer_is_not_matched_by_company(self, crm: CRM) -> None:
        crm.register_customer("Acme", kind="person")
        result = trade_show(crm, duplicates="link")
        assert result.outcome is CaptureOutcome.CREATED


class TestCreateAndFlag:
    def test_web_form_then_trade_show_yields_two_leads_the_second_flagged(self, crm: CRM) -> None:
        web = web_form(crm, company="Acme Ltd")
        show = trade_show(crm, duplicates="create_and_flag")
        assert show.outcome is CaptureOutcome.FLAGGED
        first, second = all_leads(crm)
        assert first.id == web.lead.id and first.duplicate is None
        assert second.duplicate is not None and second.duplicate.of == first.id
        assert second.duplicate.reason == show.match.reason
        assert show.reason.startswith(
            "created lead lead_000002, flagged as a likely duplicate of lead_000001: same company"
        )
        assert "leads.LeadFlaggedAsDuplicate" in outbox_types(crm)

    def test_a_contact_match_is_flagged_against_the_contact(self, crm: CRM) -> None:
        acme = crm.register_customer("Acme Ltd")
        amy = crm.add_contact(acme.id, "Amy Chen", phones=["+886 912 345 678"])
        show = trade_show(crm, duplicates="create_and_flag")
        assert show.lead.duplicate.of == amy.id
        assert show.match.kind is MatchKind.PHONE


def test_the_crm_default_policy_applies_unless_the_call_names_one(clock: ManualClock) -> None:
    crm = make_crm("memory", clock, duplicates=DuplicatePolicy.CREATE_AND_FLAG)
    web_form(crm)
    assert web_form(crm, external_ref="f-2").outcome is CaptureOutcome.FLAGGED
    assert web_form(crm, external_ref="f-3", duplicates="merge").outcome is CaptureOutcome.MERGED


# ----- assignment at capture -------------------------------------------------------------------


RULES = AssignmentRules(
    fallback_owner="u_lead",
    rules=[
        AssignmentRule.territory("enterprise", owner="u_kim", min_company_size=1000),
        AssignmentRule.round_robin("taiwan", ["u_amy", "u_bob", "u_cat"], regions=["TW"]),
        AssignmentRule.least_loaded("retail", ["u_dan", "u_eve"], industries=["retail"]),
    ],
)


class TestAssignment:
    def test_round_robin_takes_turns_and_records_the_rule_and_reason(
        self, store_kind: str, clock: ManualClock
    ) -> None:
        crm = make_crm(store_kind, clock, assignment_rules=RULES)
        owners = []
        for n in range(4):
            lead = crm.capture_lead("ads", email=f"p{n}@acme.example", region="TW").lead
            owners.append(lead.owner)
        assert owners == ["u_amy", "u_bob", "u_cat", "u_amy"]
        assert lead.assignment is not None
        assert lead.assignment.rule == "taiwan"
        assert lead.assignment.reason == (
            "region 'TW' matched; round robin: next after u_cat in u_amy, u_bob, u_cat"
        )

    def test_round_robin_resumes_from_storage_in_a_new_process(self, clock: ManualClock) -> None:
        store = MemoryStore()
        first = bootstrap(store=store, clock=clock, leads=LeadSettings(assignment_rules=RULES))
        first.capture_lead("ads", email="a@acme.example", region="TW")
        clock.advance(timedelta(minutes=1))
        second = bootstrap(store=store, clock=clock, leads=LeadSettings(assignment_rules=RULES))
        assert second.capture_lead("ads", email="b@acme.example", region="TW").lead.owner == "u_bob"

    def test_least_loaded_counts_open_leads(self, store_kind: str, clock: ManualClock) -> None:
        crm = make_crm(store_kind, clock, assignment_rules=RULES)
        for n in range(2):
            crm.capture_lead("ads", email=f"d{n}@shop.example", owner="u_dan")
        closed = crm.capture_lead("ads", email="e0@shop.example", owner="u_eve").lead
        crm.disqualify_lead(closed.id, "spam")  # closed leads do not count
        lead = crm.capture_lead("ads", email="new@shop.example", industry="Retail").lead
        assert lead.owner == "u_eve"
        assert lead.assignment is not None
        assert "u_eve holds 0 open leads" in lead.assignment.reason

    def test_territory_and_fallback(self, store_kind: str, clock: ManualClock) -> None:
        crm_rules = make_crm(store_kind, clock, assignment_rules=RULES)
        big = crm_rules.capture_lead("ads", email="ceo@big.example", company_size=5000).lead
        nobody = crm_rules.capture_lead("ads", email="x@elsewhere.example").lead
        assert (big.owner, big.assignment.rule) == ("u_kim", "enterprise")
        assert (nobody.owner, nobody.assignment.rule) == ("u_lead", "fallback")

    def test_a_named_owner_wins_over_the_rules(self, clock: ManualClock) -> None:
        crm = make_crm("memory", clock, assignment_rules=RULES)
        lead = crm.capture_lead("ads", email="a@acme.example", region="TW", owner="u_zed").lead
        assert (lead.owner, lead.assignment.rule) == ("u_zed", "manual")


# ----- properties ------------------------------------------------------------------------------

PEOPLE = [
    {"name": "Amy Chen", "email": "amy@acme.example", "company": "Acme Ltd"},
    {"name": "Bob Lin", "phone": "+886922333444", "company": "Acme Ltd"},
    {"name": "Cat Wu", "email": "cat@tea.example"},
]
CHANNELS = ["web_form", "trade_show", "ads", "referral"]

captures = st.lists(
    st.tuples(st.sampled_from(range(len(PEOPLE))), st.sampled_from(CHANNELS)),
    min_size=1,
    max_size=8,
)


@settings(max_examples=30)
@given(captures, st.sampled_from(["merge", "link"]))
def test_merging_policies_keep_one_open_lead_per_person(
    sequence: list[tuple[int, str]], policy: str
) -> None:
    crm = bootstrap(clock=ManualClock(MONDAY_9AM), ids=SequentialIds())
    for person, channel in sequence:
        crm.capture_lead(channel, duplicates=policy, **PEOPLE[person])
    leads = all_leads(crm)
    assert len(leads) == len({p for p, _ in sequence})
    assert sum(len(lead.touches) for lead in leads) == len(sequence)


@settings(max_examples=30)
@given(captures)
def test_create_and_flag_keeps_every_capture_and_flags_all_but_the_first(
    sequence: list[tuple[int, str]],
) -> None:
    crm = bootstrap(clock=ManualClock(MONDAY_9AM), ids=SequentialIds())
    for person, channel in sequence:
        crm.capture_lead(channel, duplicates="create_and_flag", **PEOPLE[person])
    leads = all_leads(crm)
    assert len(leads) == len(sequence)
    assert sum(lead.duplicate is None for lead in leads) == len({p for p, _ in sequence})


@settings(max_examples=30)
@given(captures)
def test_capturing_the_same_references_again_changes_nothing(
    sequence: list[tuple[int, str]],
) -> None:
    crm = bootstrap(clock=ManualClock(MONDAY_9AM), ids=SequentialIds())

    def run() -> None:
        for n, (person, channel) in enumerate(sequence):
            crm.capture_lead(channel, external_ref=f"ref-{n}", **PEOPLE[person])

    run()
    before = all_leads(crm)
    run()
    assert all_leads(crm) == before
