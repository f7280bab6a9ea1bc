"""Working leads through the CRM facade: activities, contact, scoring, qualification, status
moves, assignment, reads, the access policy, malformed input, and the settings as data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit import (
    CRM,
    CRMError,
    DefinitionError,
    ManualClock,
    NotFoundError,
    PermissionDeniedError,
    RuleViolation,
    ValidationError,
    bootstrap,
)
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.leads import LeadSettings
from crmkit.kernel import SequentialIds
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money
from crmkit.leads import Lead
from crmkit.leads.assignment import AssignmentRule, AssignmentRules
from crmkit.leads.qualification import BANT, Criterion, Framework
from crmkit.leads.scoring import (
    EmailDomainRule,
    EngagementRule,
    IndustryRule,
    RegionRule,
    ScoringModel,
)
from crmkit.serialization import structure, unstructure

TPE = ZoneInfo("Asia/Taipei")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TPE)

MODEL = ScoringModel(
    name="b2b",
    industries=[IndustryRule("target industry", ["Software"], 20)],
    regions=[RegionRule("home market", ["TW"], 10)],
    engagement=[
        EngagementRule("pricing visits", "page_visited", 5, half_life=timedelta(days=7), cap=12)
    ],
    email_domains=[EmailDomainRule.free_mail(-15)],
)
RULES = AssignmentRules(
    fallback_owner="u_lead",
    rules=[AssignmentRule.round_robin("inbound", ["u_amy", "u_bob"])],
)
MEDDIC = Framework(
    "meddic",
    "MEDDIC",
    [Criterion("metrics", "Metrics"), Criterion("champion", "Champion")],
)


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest) -> Iterator[CRM]:
    store = MemoryStore() if request.param == "memory" else SQLiteStore(":memory:")
    yield bootstrap(
        store=store,
        clock=ManualClock(START),
        ids=SequentialIds(),
        leads=LeadSettings(
            timezone="Asia/Taipei",
            scoring_model=MODEL,
            assignment_rules=RULES,
            disqualification_reasons=["no_budget", "spam"],
            recycle_after=timedelta(days=30),
        ),
    )
    if isinstance(store, SQLiteStore):
        store.close()


def clock_of(crm: CRM) -> ManualClock:
    assert isinstance(crm.clock, ManualClock)
    return crm.clock


def new_lead(crm: CRM, **kw: Any) -> Lead:
    args: dict[str, Any] = {"name": "Amy Chen", "email": "amy@acme.example", **kw}
    return crm.capture_lead(args.pop("channel", "web_form"), **args).lead


def outbox_types(crm: CRM) -> list[str]:
    return [entry.event.event_type for entry in crm.store.outbox.pending(1000)]


class TestActivitiesAndContact:
    def test_activities_build_the_history_and_an_owners_call_is_a_contact(self, crm: CRM) -> None:
        lead = new_lead(crm)
        assert lead.owner == "u_amy"
        clock_of(crm).advance(timedelta(hours=2))
        crm.log_lead_activity(lead.id, "page_visited", detail="/pricing")
        assert crm.get_lead(lead.id).first_contacted_at is None
        lead = crm.log_lead_activity(lead.id, "call", by="u_amy", detail="intro call")
        assert [a.kind.value for a in lead.activities] == ["page_visited", "call"]
        assert lead.first_contacted_at == START + timedelta(hours=2)
        assert crm.get_lead(lead.id) == lead

    def test_mark_contacted_records_the_first_contact_once(self, crm: CRM) -> None:
        lead = new_lead(crm)
        clock_of(crm).advance(timedelta(hours=1))
        first = crm.mark_lead_contacted(lead.id, by="u_bob")
        clock_of(crm).advance(timedelta(hours=1))
        second = crm.mark_lead_contacted(lead.id, by="u_bob")
        assert second.first_contacted_at == first.first_contacted_at == START + timedelta(hours=1)
        assert second.last_contacted_at == START + timedelta(hours=2)

    def test_an_activity_in_the_future_is_refused_and_nothing_stored(self, crm: CRM) -> None:
        lead = new_lead(crm)
        with pytest.raises(ValidationError, match="at: must not be after now"):
            crm.log_lead_activity(lead.id, "download", at=START + timedelta(days=1))
        assert crm.get_lead(lead.id) == lead


class TestScoring:
    def test_the_configured_model_scores_and_the_score_is_stored(self, crm: CRM) -> None:
        lead = new_lead(crm, email="amy@gmail.com", industry="software", region="TW")
        for days in (3, 0):
            crm.log_lead_activity(lead.id, "page_visited", at=START - timedelta(days=days))
        result = crm.score_lead(lead.id)
        assert result.model == "b2b" and result.at == START
        assert result.by_rule() == {
            "target industry": Decimal("20.00"),
            "home market": Decimal("10.00"),
            "pricing visits": Decimal("8.71"),
            "free-mail address": Decimal("-15.00"),
        }
        assert result.total == sum(c.points for c in result.contributions) == Decimal("23.71")
        stored = crm.get_lead(lead.id)
        assert (stored.score, stored.fit_grade, stored.scoring_model) == (
            result.total,
            result.fit_grade,
            "b2b",
        )
        assert "leads.LeadScored" in outbox_types(crm)

    def test_a_model_passed_in_overrides_the_configured_one(self, crm: CRM) -> None:
        lead = new_lead(crm, region="TW")
        other = ScoringModel(name="geo", regions=[RegionRule("tw", ["TW"], 3)])
        assert crm.score_lead(lead.id, model=other).total == Decimal("3.00")
        assert crm.get_lead(lead.id).scoring_model == "geo"

    def test_without_any_model_scoring_is_refused(self) -> None:
        crm = bootstrap(clock=ManualClock(START))
        lead = new_lead(crm)
        with pytest.raises(ValidationError, match="no scoring model"):
            crm.score_lead(lead.id)
        assert crm.get_lead(lead.id).score is None

    def test_a_positive_activity_never_lowers_the_stored_score(self, crm: CRM) -> None:
        lead = new_lead(crm, industry="Software")
        before = crm.score_lead(lead.id).total
        crm.log_lead_activity(lead.id, "page_visited")
        assert crm.score_lead(lead.id).total >= before


class TestQualificationAndStatus:
    def test_bant_answers_then_qualify_with_the_framework(self, crm: CRM) -> None:
        lead = new_lead(crm)
        crm.start_working_lead(lead.id, actor="u_amy")
        with pytest.raises(RuleViolation, match="cannot be qualified by 'bant' yet"):
            crm.qualify_lead(lead.id, framework=BANT)
        for key in BANT.keys:
            crm.answer_qualification(lead.id, key, evidence="said so on the call", by="u_amy")
        lead = crm.qualify_lead(lead.id, framework=BANT)
        assert lead.status.value == "qualified"
        assert [a.criterion for a in lead.qualification.answers] == list(BANT.keys)

    def test_the_crms_framework_is_required_when_configured(self) -> None:
        crm = bootstrap(
            clock=ManualClock(START),
            leads=LeadSettings(framework=MEDDIC, require_framework=True),
        )
        lead = new_lead(crm)
        crm.start_working_lead(lead.id)
        crm.answer_qualification(lead.id, "metrics", evidence="20% faster quoting")
        with pytest.raises(RuleViolation, match="champion not met"):
            crm.qualify_lead(lead.id)
        crm.answer_qualification(lead.id, "champion", evidence="the CTO")
        assert crm.qualify_lead(lead.id).status.value == "qualified"

    def test_an_unknown_criterion_is_refused(self, crm: CRM) -> None:
        lead = new_lead(crm)
        with pytest.raises(ValidationError, match="criterion"):
            crm.answer_qualification(lead.id, "vibes", evidence="good")
        assert crm.get_lead(lead.id) == lead

    def test_nurture_recycle_and_the_configured_wait(self, crm: CRM) -> None:
        lead = new_lead(crm)
        crm.nurture_lead(lead.id, reason="budget next year")
        clock_of(crm).advance(timedelta(days=10))
        with pytest.raises(RuleViolation, match="may be recycled after 30 days"):
            crm.recycle_lead(lead.id)
        clock_of(crm).advance(timedelta(days=20))
        assert crm.recycle_lead(lead.id).status.value == "new"

    def test_disqualify_takes_only_the_configured_reasons(self, crm: CRM) -> None:
        lead = new_lead(crm)
        with pytest.raises(ValidationError, match="use one of 'no_budget', 'spam'"):
            crm.disqualify_lead(lead.id, "bad_timing")
        lead = crm.disqualify_lead(lead.id, "no_budget", note="frozen until 2027")
        assert lead.disqualification is not None
        assert (lead.disqualification.reason, lead.disqualification.note) == (
            "no_budget",
            "frozen until 2027",
        )
        assert not lead.is_open

    def test_an_illegal_move_names_the_allowed_ones_and_changes_nothing(self, crm: CRM) -> None:
        lead = new_lead(crm)
        with pytest.raises(RuleViolation) as refused:
            crm.qualify_lead(lead.id)
        assert refused.value.details["allowed"] == ["working", "nurturing", "disqualified"]
        assert crm.get_lead(lead.id) == lead

    def test_a_missing_lead_is_not_found(self, crm: CRM) -> None:
        with pytest.raises(NotFoundError):
            crm.start_working_lead("lead_404")


class TestAssign:
    def test_by_hand_records_manual_and_the_reason(self, crm: CRM) -> None:
        lead = new_lead(crm)
        lead = crm.assign_lead(lead.id, "u_cat", reason="speaks Hakka")
        assert lead.owner == "u_cat"
        assert lead.assignment is not None
        assert (lead.assignment.rule, lead.assignment.reason) == ("manual", "speaks Hakka")
        unassigned = crm.assign_lead(lead.id, None)
        assert unassigned.owner is None and unassigned.assignment is not None
        assert unassigned.assignment.reason == "unassigned by hand"

    def test_by_rules_continues_the_round_robin(self, crm: CRM) -> None:
        first = new_lead(crm)  # u_amy by the rules at capture
        second = new_lead(crm, email="bob@acme.example", owner="u_zed")
        assert (first.owner, second.owner) == ("u_amy", "u_zed")
        lead = crm.assign_lead(second.id, by_rules=True)
        assert lead.owner == "u_bob"
        assert lead.assignment is not None and lead.assignment.rule == "inbound"

    def test_by_rules_without_rules_is_refused(self) -> None:
        crm = bootstrap(clock=ManualClock(START))
        lead = new_lead(crm)
        with pytest.raises(ValidationError, match="no assignment rules are configured"):
            crm.assign_lead(lead.id, by_rules=True)


class TestReads:
    def test_find_leads_filters_and_pages_newest_first(self, crm: CRM) -> None:
        for n in range(3):
            new_lead(crm, email=f"p{n}@acme.example", campaign="spring" if n else "autumn")
            clock_of(crm).advance(timedelta(minutes=1))
        spring = crm.find_leads(campaign="spring", limit=1)
        assert [lead.email for lead in spring.items] == ["p2@acme.example"]
        rest = crm.find_leads(campaign="spring", cursor=spring.next_cursor)
        assert [lead.email for lead in rest.items] == ["p1@acme.example"]
        crm.disqualify_lead(rest.items[0].id, "spam")
        assert [x.email for x in crm.find_leads(open=False).items] == ["p1@acme.example"]
        assert len(crm.find_leads(status="new", owner="u_amy").items) == 2

    def test_get_lead_of_nothing_is_not_found(self, crm: CRM) -> None:
        with pytest.raises(NotFoundError):
            crm.get_lead("lead_404")


# ----- the access policy -----------------------------------------------------------------------


class DenyAll:
    def __init__(self) -> None:
        self.asked: list[tuple[str | None, str, object | None]] = []

    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        self.asked.append((actor, action, resource))
        raise PermissionDeniedError(f"{actor!r} may not {action}")


Run = Callable[[CRM, str], object]

DENIED: list[tuple[str, Run]] = [
    ("leads.log_activity", lambda crm, lid: crm.log_lead_activity(lid, "call", actor="u_eve")),
    ("leads.mark_contacted", lambda crm, lid: crm.mark_lead_contacted(lid, actor="u_eve")),
    ("leads.score", lambda crm, lid: crm.score_lead(lid, actor="u_eve")),
    (
        "leads.answer_qualification",
        lambda crm, lid: crm.answer_qualification(lid, "need", evidence="x", actor="u_eve"),
    ),
    ("leads.start_working", lambda crm, lid: crm.start_working_lead(lid, actor="u_eve")),
    ("leads.nurture", lambda crm, lid: crm.nurture_lead(lid, actor="u_eve")),
    ("leads.qualify", lambda crm, lid: crm.qualify_lead(lid, actor="u_eve")),
    ("leads.disqualify", lambda crm, lid: crm.disqualify_lead(lid, "spam", actor="u_eve")),
    ("leads.recycle", lambda crm, lid: crm.recycle_lead(lid, actor="u_eve")),
    ("leads.assign", lambda crm, lid: crm.assign_lead(lid, "u_eve", actor="u_eve")),
    ("leads.convert", lambda crm, lid: crm.convert_lead(lid, actor="u_eve")),
]


class TestAccessPolicy:
    def test_a_denied_capture_stores_nothing(self) -> None:
        policy = DenyAll()
        crm = bootstrap(clock=ManualClock(START), policy=policy)
        seen: list[DomainEvent] = []
        crm.bus.subscribe(DomainEvent, seen.append)
        with pytest.raises(PermissionDeniedError):
            crm.capture_lead("web_form", email="amy@acme.example", actor="u_eve")
        assert policy.asked == [("u_eve", "leads.capture", None)]
        assert crm.find_leads().items == ()
        assert outbox_types(crm) == [] and seen == []

    @pytest.mark.parametrize(("action", "run"), DENIED, ids=[a for a, _ in DENIED])
    def test_a_denied_change_stores_nothing(self, action: str, run: Run) -> None:
        store = MemoryStore()
        setup = bootstrap(
            store=store, clock=ManualClock(START), leads=LeadSettings(scoring_model=MODEL)
        )
        lead = setup.capture_lead("web_form", email="amy@acme.example").lead
        before = outbox_types(setup)
        policy = DenyAll()
        crm = bootstrap(
            store=store,
            clock=ManualClock(START),
            policy=policy,
            leads=LeadSettings(scoring_model=MODEL),
        )
        with pytest.raises(PermissionDeniedError, match=action):
            run(crm, lead.id)
        assert [(a, b) for a, b, _ in policy.asked] == [("u_eve", action)]
        resource = policy.asked[0][2]
        assert isinstance(resource, Lead) and resource.id == lead.id
        assert crm.get_lead(lead.id) == lead
        assert outbox_types(crm) == before


# ----- malformed input -------------------------------------------------------------------------

NAIVE = datetime(2026, 3, 2, 9, 0)
Call = Callable[[CRM, str], Any]


def _capture(**kw: Any) -> Call:
    args = {"source_channel": "web_form", "email": "amy@acme.example", **kw}
    return lambda crm, lid: crm.capture_lead(**args)


MALFORMED: list[tuple[str, Call]] = [
    ("source_channel", _capture(source_channel="fax")),
    ("source_channel", _capture(source_channel=None)),
    ("email", _capture(email=None)),
    ("email", _capture(email="amy@")),
    ("email", _capture(email=5)),
    ("phone", _capture(phone="0912 345 678")),
    ("phone", _capture(phone=912345678)),
    ("phone_region", _capture(phone="0912 345 678", phone_region=886)),
    ("phone", _capture(phone="0912", phone_region="TW")),
    ("name", _capture(name=5)),
    ("name", _capture(name="x" * 201)),
    ("company_size", _capture(company_size="40")),
    ("company_size", _capture(company_size=-1)),
    ("budget", _capture(budget=5000)),
    ("budget", _capture(budget=Money("-1", "TWD"))),
    ("consent", _capture(consent=True)),
    ("owner", _capture(owner="has space")),
    ("captured_at", _capture(captured_at=NAIVE)),
    ("captured_at", _capture(captured_at="2026-03-02")),
    ("captured_at", _capture(captured_at=START + timedelta(days=1))),
    ("duplicates", _capture(duplicates="ignore")),
    ("duplicates", _capture(duplicates=["merge"])),
    ("external_ref", _capture(external_ref=7)),
    ("actor", _capture(actor="")),
    ("lead_id", lambda crm, lid: crm.log_lead_activity(None, "call")),
    ("kind", lambda crm, lid: crm.log_lead_activity(lid, "tweet")),
    ("at", lambda crm, lid: crm.log_lead_activity(lid, "call", at=NAIVE)),
    ("by", lambda crm, lid: crm.mark_lead_contacted(lid, by=5)),
    ("model", lambda crm, lid: crm.score_lead(lid, model={"name": "x"})),
    ("evidence", lambda crm, lid: crm.answer_qualification(lid, "need", evidence="")),
    ("met", lambda crm, lid: crm.answer_qualification(lid, "need", evidence="x", met="yes")),
    ("framework", lambda crm, lid: crm.qualify_lead(lid, framework="bant")),
    ("reason", lambda crm, lid: crm.disqualify_lead(lid, None)),
    ("reason", lambda crm, lid: crm.disqualify_lead(lid, "nope")),
    ("to", lambda crm, lid: crm.recycle_lead(lid, to="lost")),
    ("after", lambda crm, lid: crm.recycle_lead(lid, after=30)),
    ("after", lambda crm, lid: crm.recycle_lead(lid, after=timedelta(days=-1))),
    ("owner", lambda crm, lid: crm.assign_lead(lid, "u_amy", by_rules=True)),
    ("owner", lambda crm, lid: crm.assign_lead(lid, 5)),
    ("by_rules", lambda crm, lid: crm.assign_lead(lid, by_rules="yes")),
    ("customer_kind", lambda crm, lid: crm.convert_lead(lid, customer_kind="shop")),
    ("tags", lambda crm, lid: crm.convert_lead(lid, tags="vip")),
    ("create_opportunity", lambda crm, lid: crm.convert_lead(lid, create_opportunity="opp")),
    ("id", lambda crm, lid: crm.get_lead(None)),
    ("status", lambda crm, lid: crm.find_leads(status="lost")),
    ("open", lambda crm, lid: crm.find_leads(open="yes")),
    ("campaign", lambda crm, lid: crm.find_leads(campaign=5)),
    ("limit", lambda crm, lid: crm.find_leads(limit=0)),
    ("cursor", lambda crm, lid: crm.find_leads(cursor="not-a-cursor")),
]


def _field(error: ValidationError) -> str:
    return error.errors[0].path.split("[", 1)[0].split(".", 1)[0]


@pytest.mark.parametrize(("field", "call"), MALFORMED)
def test_malformed_input_is_a_validation_error_naming_the_field(field: str, call: Call) -> None:
    crm = bootstrap(clock=ManualClock(START), ids=SequentialIds())
    lead = new_lead(crm)
    before = crm.store.outbox.pending(1000)
    with pytest.raises(CRMError) as caught:
        call(crm, lead.id)
    assert isinstance(caught.value, ValidationError), repr(caught.value)
    assert _field(caught.value) == field
    assert crm.store.outbox.pending(1000) == before
    assert crm.find_leads().items == (lead,)


_junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.decimals(allow_nan=True),
    st.text(max_size=5),
    st.binary(max_size=3),
    st.lists(st.one_of(st.none(), st.integers(), st.text(max_size=3)), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.datetimes(),
    st.dates(),
)


@settings(max_examples=60)
@given(
    channel=_junk,
    name=_junk,
    email=_junk,
    phone=_junk,
    region=_junk,
    size=_junk,
    when=_junk,
    kind=_junk,
)
def test_any_input_gives_a_result_or_a_crm_error_and_failures_store_nothing(
    channel: Any,
    name: Any,
    email: Any,
    phone: Any,
    region: Any,
    size: Any,
    when: Any,
    kind: Any,
) -> None:
    crm = bootstrap(clock=ManualClock(START), ids=SequentialIds())
    lead = new_lead(crm)
    attempts: list[Callable[[], object]] = [
        lambda: crm.capture_lead(
            channel, name=name, email=email, phone=phone, phone_region=region, company_size=size
        ),
        lambda: crm.capture_lead("web_form", email=email, captured_at=when, duplicates=kind),
        lambda: crm.log_lead_activity(lead.id, kind, at=when, detail=name),
        lambda: crm.disqualify_lead(lead.id, kind, note=name),
        lambda: crm.assign_lead(lead.id, name),
        lambda: crm.find_leads(status=kind, campaign=name, limit=size),
    ]
    for attempt in attempts:
        before = len(crm.store.outbox.pending(1000))
        leads = crm.find_leads(limit=1000).items
        try:
            attempt()
        except CRMError:
            assert len(crm.store.outbox.pending(1000)) == before
            assert crm.find_leads(limit=1000).items == leads


# ----- settings as data ------------------------------------------------------------------------


class TestSettings:
    def test_settings_round_trip_through_the_converter(self) -> None:
        configured = LeadSettings(
            duplicates="create_and_flag",
            calendar=BusinessCalendar.office_hours(
                "Asia/Taipei", ("09:00", "12:00"), ("13:00", "18:00"), holidays=[date(2026, 4, 3)]
            ),
            follow_up_within=timedelta(hours=4),
            scoring_model=MODEL,
            assignment_rules=RULES,
            framework=MEDDIC,
            require_framework=True,
            disqualification_reasons=["spam"],
            recycle_after=timedelta(days=14),
        )
        data = unstructure(configured)
        assert data["follow_up_within"] == "PT4H" and data["duplicates"] == "create_and_flag"
        assert structure(data, LeadSettings) == configured
        assert structure(unstructure(LeadSettings()), LeadSettings) == LeadSettings()

    @pytest.mark.parametrize(
        ("kwargs", "path"),
        [
            ({"duplicates": "ignore"}, "duplicates"),
            ({"timezone": "Mars/Olympus"}, "timezone"),
            ({"calendar": "office"}, "calendar"),
            ({"follow_up_within": timedelta(0)}, "follow_up_within"),
            ({"scoring_model": {"name": "x"}}, "scoring_model"),
            ({"assignment_rules": []}, "assignment_rules"),
            ({"framework": "bant"}, "framework"),
            ({"require_framework": 1}, "require_framework"),
            ({"disqualification_reasons": []}, "disqualification_reasons"),
            ({"recycle_after": -1}, "recycle_after"),
        ],
    )
    def test_bad_settings_name_the_field(self, kwargs: dict[str, Any], path: str) -> None:
        with pytest.raises(ValidationError) as refused:
            LeadSettings(**kwargs)
        assert refused.value.errors[0].path.startswith(path)

    def test_bootstrap_refuses_something_else(self) -> None:
        with pytest.raises(ValidationError, match="settings"):
            bootstrap(leads={"duplicates": "merge"})  # type: ignore[arg-type]

    def test_a_bad_rule_set_is_a_definition_error(self) -> None:
        with pytest.raises(DefinitionError):
            AssignmentRules(
                fallback_owner="u_lead",
                rules=[
                    AssignmentRule.round_robin("a", ["u1"]),
                    AssignmentRule.round_robin("a", ["u2"]),
                ],
            )
