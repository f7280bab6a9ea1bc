"""Opportunity: guarded moves, readable refusals, history, events, locks, migrations, storage."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.adapters import RECORD_TYPES
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.errors import (
    CRMError,
    DefinitionError,
    NaiveDatetimeError,
    RuleViolation,
    ValidationError,
)
from crmkit.kernel.money import Money
from crmkit.kernel.query import Query
from crmkit.pipeline import (
    OPPORTUNITIES,
    PIPELINES,
    ChecklistItem,
    ContactRole,
    ForecastCategory,
    Guard,
    Opportunity,
    OpportunityContact,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
    Transition,
    _model,
    move_many,
)
from crmkit.serialization import from_json, structure, to_json, unstructure
from crmkit.testing._pipeline_strategies import opportunities, pipelines

T0 = datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Asia/Taipei"))
DAY = timedelta(days=1)
QUOTE = {"has_approved_quote": lambda opp: opp.amount is not None}


def sales() -> Pipeline:
    return Pipeline(
        key="new_business",
        name="New business",
        stages=[
            Stage("lead", "Lead", 10),
            Stage(
                "qualified",
                "Qualified",
                25,
                checklist=[
                    ChecklistItem("budget_confirmed", "Budget confirmed"),
                    ChecklistItem("needs_analysis", "Needs analysis done"),
                ],
            ),
            Stage(
                "proposal",
                "Proposal",
                50,
                forecast_category="best_case",
                guards=[Guard.requires("next_step")],
            ),
            Stage("negotiation", "Negotiation", 80, forecast_category="commit"),
            Stage("won", "Closed won", 100, kind="won"),
            Stage("lost", "Closed lost", 0, kind="lost"),
        ],
        transitions=[
            Transition("lead", "qualified"),
            Transition(
                "qualified",
                "proposal",
                guards=[
                    Guard.requires("amount"),
                    Guard.requires("close_date"),
                    Guard.requires("decision_maker"),
                    Guard.checklist("budget_confirmed"),
                    Guard.predicate("has_approved_quote", "an approved quote"),
                ],
            ),
            Transition("proposal", "negotiation"),
            Transition("negotiation", "proposal"),
            Transition("negotiation", "won"),
            Transition("lead", "proposal"),
            *(Transition(s, "lost") for s in ("lead", "qualified", "proposal", "negotiation")),
            Transition("lost", "qualified"),
            Transition("won", "negotiation"),
        ],
        won_reasons=["price", "relationship"],
        lost_reasons=["price", "competitor", "no_budget"],
        inactive_after_days=14,
    )


def opened(pipeline: Pipeline | None = None, **fields: Any) -> Opportunity:
    defaults: dict[str, Any] = {
        "id": "opp_1",
        "customer_id": "cus_1",
        "name": "Acme: 20 seats",
        "pipeline": pipeline or sales(),
        "now": T0,
        "owner": "u_amy",
    }
    return Opportunity.open(**(defaults | fields))


def ready(opp: Opportunity, pipeline: Pipeline) -> Opportunity:
    """Give ``opp`` what the qualified -> proposal guards ask for."""
    opp.change_amount(Money("120000", "TWD"), now=T0)
    opp.change_close_date(date(2026, 6, 30), now=T0)
    opp.add_contact("con_1", "decision_maker", now=T0)
    opp.tick("budget_confirmed", pipeline=pipeline, now=T0)
    opp.set_next_step("Send the revised quote", now=T0)
    return opp


def snapshot(opp: Opportunity) -> tuple[Any, ...]:
    return (unstructure(opp), opp.pending_events, opp.version)


# ----- opening ----------------------------------------------------------------------------------


def test_open_starts_in_the_first_stage_with_its_derived_values() -> None:
    """A new deal stands in the first stage, with that stage's probability and category."""
    deal = opened(amount=Money("90000", "TWD"), expected_close_date=date(2026, 5, 31))

    assert (deal.stage, deal.stage_kind, deal.forecast_category, deal.probability) == (
        "lead",
        StageKind.OPEN,
        ForecastCategory.PIPELINE,
        10,
    )
    assert deal.created_at == deal.stage_entered_at == deal.last_activity_at == T0
    assert deal.history == ()
    (event,) = deal.pending_events
    assert (event.event_type, event.aggregate_version, event.stage, event.amount) == (
        "pipeline.OpportunityOpened",
        1,
        "lead",
        Money("90000", "TWD"),
    )


def test_open_builds_the_same_deal_as_the_validating_constructor() -> None:
    """open() writes fields directly for speed; the result equals the checked constructor's."""
    pipeline = sales()
    contacts = (OpportunityContact("con_1", "champion"),)
    deal = opened(pipeline, amount=Money("5", "USD"), contacts=contacts, next_step="Call")
    fields = {a.name: getattr(deal, a.name) for a in attrs.fields(Opportunity) if a.init}

    assert Opportunity(**fields) == deal
    for attribute in attrs.fields(Opportunity):
        getattr(deal, attribute.name)  # every slot is set


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": "has space"}, "id: must be a non-empty string"),
        ({"customer_id": ""}, "customer_id: must be a non-empty string"),
        ({"name": "   "}, "name: must not be empty"),
        ({"owner": 7}, "owner: must be a non-empty string"),
        ({"amount": 12.5}, "amount: must be Money or None, not float"),
        ({"amount": Money("-1", "TWD")}, "amount: must not be negative"),
        (
            {"expected_close_date": datetime(2026, 1, 1, tzinfo=timezone.utc)},
            "expected_close_date: must be a date, not datetime",
        ),
        (
            {"contacts": [OpportunityContact("con_1"), OpportunityContact("con_1")]},
            "contacts[1]: 'con_1' is listed twice",
        ),
        ({"contacts": ["con_1"]}, "contacts[0]: must be OpportunityContact, not str"),
        ({"now": datetime(2026, 1, 1)}, "now: must be timezone-aware"),
        ({"by": "u 1"}, "by: must be a non-empty string"),
    ],
)
def test_open_refuses_bad_input_naming_the_field(fields: dict[str, Any], message: str) -> None:
    """Bad input to open() is a ValidationError whose message names the field."""
    with pytest.raises(ValidationError) as caught:
        opened(**fields)

    assert message in str(caught.value)


def test_open_trims_text_and_accepts_a_list_of_contacts() -> None:
    """Names and next steps are trimmed; any iterable of contacts becomes a tuple."""
    deal = opened(
        name="  Acme  ", next_step=" Call Amy ", contacts=[OpportunityContact("con_1", "user")]
    )

    assert (deal.name, deal.next_step) == ("Acme", "Call Amy")
    assert deal.contacts == (OpportunityContact("con_1", ContactRole.USER),)


# ----- moves ------------------------------------------------------------------------------------


def test_a_move_records_history_event_and_derived_fields() -> None:
    """A move appends a history entry (with time in stage), updates the derived fields and
    records OpportunityStageChanged."""
    pipeline = sales()
    deal = opened(pipeline)
    deal.pull_events()

    change = deal.move("qualified", pipeline=pipeline, now=T0 + 2 * DAY, by="u_amy")

    assert change == StageChange(
        "lead", "qualified", at=T0 + 2 * DAY, entered_at=T0, by="u_amy", reason=None
    )
    assert change.time_in_stage == 2 * DAY
    assert deal.history == (change,)
    assert (deal.stage, deal.probability, deal.stage_entered_at, deal.last_activity_at) == (
        "qualified",
        25,
        T0 + 2 * DAY,
        T0 + 2 * DAY,
    )
    (event,) = deal.pull_events()
    assert (event.source, event.target, event.stage_kind, event.probability, event.actor) == (
        "lead",
        "qualified",
        "open",
        25,
        "u_amy",
    )
    assert event.entered_source_at == T0
    assert event.occurred_at == T0 + 2 * DAY


def test_a_refused_move_lists_every_unmet_guard_in_words_a_rep_reads() -> None:
    """The refusal names everything still needed at once, in one sentence, and changes nothing."""
    pipeline = sales()
    deal = opened(pipeline)
    deal.move("qualified", pipeline=pipeline, now=T0 + DAY)
    before = snapshot(deal)

    with pytest.raises(RuleViolation) as caught:
        deal.move("proposal", pipeline=pipeline, now=T0 + 2 * DAY, predicates=QUOTE)

    assert str(caught.value) == (
        'Can\'t move "Acme: 20 seats" from Qualified to Proposal yet. Still needed: an amount, '
        'an expected close date, a decision-maker contact, the checklist item "Budget '
        'confirmed", an approved quote and a next step.'
    )
    details = caught.value.details
    assert details["rule"] == "pipeline.guards_unmet"
    assert [(u["kind"], u["name"]) for u in details["unmet"]] == [
        ("field", "amount"),
        ("field", "close_date"),
        ("field", "decision_maker"),
        ("checklist", "budget_confirmed"),
        ("predicate", "has_approved_quote"),
        ("field", "next_step"),
    ]
    assert snapshot(deal) == before


def test_only_the_guards_still_unmet_are_listed_and_then_the_move_passes() -> None:
    """As the rep fills things in, the list shrinks; with all met the move goes through."""
    pipeline = sales()
    deal = opened(pipeline)
    deal.move("qualified", pipeline=pipeline, now=T0 + DAY)
    ready(deal, pipeline)
    deal.change_close_date(None, now=T0 + DAY)

    with pytest.raises(RuleViolation, match=r"Still needed: an expected close date\.$"):
        deal.move("proposal", pipeline=pipeline, now=T0 + 2 * DAY, predicates=QUOTE)
    assert [b.name for b in deal.blockers("proposal", pipeline=pipeline, predicates=QUOTE)] == [
        "close_date"
    ]

    deal.change_close_date(date(2026, 6, 30), now=T0 + DAY)

    assert deal.blockers("proposal", pipeline=pipeline, predicates=QUOTE) == ()
    assert deal.move("proposal", pipeline=pipeline, now=T0 + 2 * DAY, predicates=QUOTE).target == (
        "proposal"
    )


def test_a_move_the_pipeline_does_not_define_is_refused_with_the_ways_out() -> None:
    """Skipping ahead is only allowed where a transition says so; the message lists the options."""
    pipeline = sales()
    deal = opened(pipeline)
    before = snapshot(deal)

    with pytest.raises(RuleViolation) as caught:
        deal.move("won", pipeline=pipeline, now=T0 + DAY)

    assert str(caught.value) == (
        'Can\'t move "Acme: 20 seats" from Lead to Closed won: the New business pipeline has no '
        "step from Lead to Closed won. From Lead it can go to Qualified, Proposal or Closed lost."
    )
    assert caught.value.details["allowed"] == ["qualified", "proposal", "lost"]
    assert snapshot(deal) == before
    with pytest.raises(RuleViolation, match='"Acme: 20 seats" is already in Lead'):
        deal.move("lead", pipeline=pipeline, now=T0 + DAY)
    with pytest.raises(ValidationError, match="has no stage 'closed'"):
        deal.move("closed", pipeline=pipeline, now=T0 + DAY)


def test_an_entry_guard_applies_whichever_transition_enters_the_stage() -> None:
    """The proposal stage's own guard (a next step) holds for lead -> proposal too."""
    pipeline = sales()
    deal = opened(pipeline)

    with pytest.raises(RuleViolation, match=r"Still needed: a next step\.$"):
        deal.move("proposal", pipeline=pipeline, now=T0)


def test_a_missing_predicate_is_a_definition_error_not_a_rule() -> None:
    """A guard on a predicate the host did not register is the host's mistake, said clearly."""
    pipeline = sales()
    deal = ready(opened(pipeline), pipeline)
    deal.move("qualified", pipeline=pipeline, now=T0)

    with pytest.raises(DefinitionError, match="predicate 'has_approved_quote', which the host"):
        deal.move("proposal", pipeline=pipeline, now=T0, predicates={})


def test_closing_lost_needs_a_reason_from_the_list() -> None:
    """Lost needs a reason from lost_reasons: missing is a blocker, unknown a ValidationError."""
    pipeline = sales()
    deal = opened(pipeline)

    with pytest.raises(
        RuleViolation,
        match=r"a reason why the deal was lost \(price, competitor "
        r"or no budget\)",
    ):
        deal.move("lost", pipeline=pipeline, now=T0)
    with pytest.raises(ValidationError, match="'weather' is not a lost reason of this pipeline"):
        deal.move("lost", pipeline=pipeline, now=T0, reason="weather")

    deal.move("lost", pipeline=pipeline, now=T0 + DAY, reason="competitor", by="u_amy")

    assert (deal.stage_kind, deal.close_reason, deal.closed_at, deal.probability) == (
        StageKind.LOST,
        "competitor",
        T0 + DAY,
        0,
    )
    assert deal.forecast_category is ForecastCategory.CLOSED


def test_reopening_a_lost_deal_is_a_defined_move_that_needs_a_reason() -> None:
    """lost -> qualified is defined; it needs a reason and clears the close fields."""
    pipeline = sales()
    deal = opened(pipeline)
    deal.move("lost", pipeline=pipeline, now=T0, reason="no_budget")

    with pytest.raises(RuleViolation, match=r"Still needed: a reason for reopening it\.$"):
        deal.move("qualified", pipeline=pipeline, now=T0 + DAY)

    change = deal.move("qualified", pipeline=pipeline, now=T0 + DAY, reason=" Budget approved ")

    assert change.reason == "Budget approved"
    assert (deal.stage_kind, deal.closed_at, deal.close_reason, deal.probability) == (
        StageKind.OPEN,
        None,
        None,
        25,
    )


def test_a_won_deal_is_locked_against_amount_changes_until_reopened() -> None:
    """The amount of a won deal cannot change; reopening it unlocks the amount."""
    pipeline = sales()
    deal = opened(pipeline, amount=Money("100", "TWD"))
    for to in ("proposal", "negotiation"):
        deal.set_next_step("Next", now=T0)
        deal.move(to, pipeline=pipeline, now=T0)
    deal.move("won", pipeline=pipeline, now=T0 + DAY, reason="relationship")

    with pytest.raises(RuleViolation, match=r"is won: its amount is locked\. Reopen the deal"):
        deal.change_amount(Money("90", "TWD"), now=T0 + DAY)
    assert deal.amount == Money("100", "TWD")

    deal.move("negotiation", pipeline=pipeline, now=T0 + 2 * DAY, reason="scope changed")
    deal.change_amount(Money("90", "TWD"), now=T0 + 2 * DAY)

    assert deal.amount == Money("90", "TWD")
    with pytest.raises(ValidationError, match="'luck' is not a won reason"):
        deal.move("won", pipeline=pipeline, now=T0 + 3 * DAY, reason="luck")


def test_a_probability_override_survives_moves_until_cleared_and_closing_clears_it() -> None:
    """The rep's probability stays through open moves; cleared, the stage's returns."""
    pipeline = sales()
    deal = opened(pipeline)
    deal.override_probability(35, pipeline=pipeline, now=T0)
    deal.move("qualified", pipeline=pipeline, now=T0)

    assert (deal.probability, deal.probability_override) == (35, 35)

    deal.override_probability(None, pipeline=pipeline, now=T0)

    assert (deal.probability, deal.probability_override) == (25, None)

    deal.override_probability(5, pipeline=pipeline, now=T0)
    deal.move("lost", pipeline=pipeline, now=T0, reason="price")

    assert (deal.probability, deal.probability_override) == (0, None)
    with pytest.raises(RuleViolation, match="is lost: its probability is 0 and cannot be"):
        deal.override_probability(50, pipeline=pipeline, now=T0)
    with pytest.raises(ValidationError, match="must be an int from 0 to 100"):
        opened(pipeline).override_probability(101, pipeline=pipeline, now=T0)


def test_a_bulk_move_moves_all_or_none_and_keeps_derived_fields_consistent() -> None:
    """move_many checks every deal first; one blocked deal stops them all, naming it."""
    pipeline = sales()
    deals = [opened(pipeline, id=f"opp_{i}", name=f"Deal {i}") for i in range(3)]
    deals[1].override_probability(40, pipeline=pipeline, now=T0)
    move_many(deals, "qualified", pipeline=pipeline, now=T0 + DAY, by="u_lead")
    for deal in deals[:2]:
        ready(deal, pipeline)
    before = [snapshot(d) for d in deals]

    with pytest.raises(RuleViolation) as caught:
        move_many(deals, "proposal", pipeline=pipeline, now=T0 + 2 * DAY, predicates=QUOTE)

    assert str(caught.value).startswith(
        'Can\'t move 1 of 3 deals to Proposal; none was moved. "Deal 2" still needs an amount'
    )
    assert [r["opportunity_id"] for r in caught.value.details["refused"]] == ["opp_2"]
    assert [snapshot(d) for d in deals] == before

    changes = move_many(
        deals[:2], "proposal", pipeline=pipeline, now=T0 + 2 * DAY, predicates=QUOTE
    )

    assert [c.target for c in changes] == ["proposal", "proposal"]
    assert [(d.probability, d.probability_override) for d in deals] == [
        (50, None),
        (40, 40),
        (25, None),
    ]


def test_a_move_needs_the_deals_own_pipeline_revision_and_time_that_does_not_go_back() -> None:
    """Another revision is refused (migrate first); ``now`` before entering the stage too."""
    pipeline = sales()
    deal = opened(pipeline)
    other = attrs.evolve(pipeline, revision=2, id="new_business@2")

    with pytest.raises(
        RuleViolation, match="runs on pipeline 'new_business@1', not 'new_business@2'"
    ):
        deal.move("qualified", pipeline=other, now=T0)
    with pytest.raises(ValidationError, match="now: must not be before the deal entered"):
        deal.move("qualified", pipeline=pipeline, now=T0 - DAY)
    with pytest.raises(NaiveDatetimeError):
        deal.move("qualified", pipeline=pipeline, now=datetime(2026, 3, 3))
    with pytest.raises(ValidationError, match="must be a Pipeline or a CompiledPipeline"):
        deal.move("qualified", pipeline="new_business", now=T0)  # type: ignore[arg-type]


def test_moves_accept_the_compiled_pipeline_and_any_aware_zone() -> None:
    """A compiled pipeline works the same; dateutil zones are accepted through the slow path."""
    from dateutil import tz

    pipeline = sales()
    deal = opened(pipeline)
    when = datetime(2026, 3, 4, 9, tzinfo=tz.gettz("Asia/Taipei"))

    deal.move("qualified", pipeline=pipeline.compile(), now=when)

    assert deal.stage_entered_at == when


# ----- other changes -------------------------------------------------------------------------


def test_checklist_contacts_owner_next_step_and_activity_record_events() -> None:
    """Each change records its event; no-op changes record nothing."""
    pipeline = sales()
    deal = opened(pipeline)
    deal.pull_events()

    deal.tick("needs_analysis", pipeline=pipeline, now=T0, by="u_amy")
    deal.tick("needs_analysis", pipeline=pipeline, now=T0)
    deal.add_contact("con_9", "champion", now=T0)
    deal.add_contact("con_9", ContactRole.DECISION_MAKER, now=T0)
    deal.remove_contact("con_8", now=T0)
    deal.assign_owner("u_ben", now=T0)
    deal.set_next_step("Demo on Friday", now=T0)
    deal.record_activity(T0 + DAY, now=T0 + DAY)
    deal.record_activity(T0, now=T0 + DAY)
    deal.untick("needs_analysis", pipeline=pipeline, now=T0 + DAY)

    assert [type(e).__name__ for e in deal.pull_events()] == [
        "OpportunityChecklistChanged",
        "OpportunityContactsChanged",
        "OpportunityContactsChanged",
        "OpportunityOwnerAssigned",
        "OpportunityNextStepSet",
        "OpportunityActivityRecorded",
        "OpportunityChecklistChanged",
    ]
    assert deal.contacts == (OpportunityContact("con_9", "decision_maker"),)
    assert deal.last_activity_at == T0 + DAY
    with pytest.raises(ValidationError, match="has no checklist item 'nda'"):
        deal.tick("nda", pipeline=pipeline, now=T0)
    with pytest.raises(ValidationError, match="at: must not be after now"):
        deal.record_activity(T0 + 5 * DAY, now=T0 + DAY)


def test_captured_events_keep_their_order_and_version_across_saves() -> None:
    """Events captured by moves are built in order with the other events, each stamped with
    the version of the save it belongs to."""
    pipeline = sales()
    deal = opened(pipeline)
    deal.move("qualified", pipeline=pipeline, now=T0)
    deal.assign_owner("u_ben", now=T0)
    deal.version = 1  # the repository saved it
    deal.move("lost", pipeline=pipeline, now=T0, reason="price")

    events = deal.pull_events()

    assert [(type(e).__name__, e.aggregate_version) for e in events] == [
        ("OpportunityOpened", 1),
        ("OpportunityStageChanged", 1),
        ("OpportunityOwnerAssigned", 1),
        ("OpportunityStageChanged", 2),
    ]
    assert events[0].owner == "u_amy"  # the deal as it was opened
    assert (events[3].stage_kind, events[3].probability, events[3].reason) == ("lost", 0, "price")
    assert deal.pending_events == ()
    assert len({e.event_id for e in events}) == 4


def test_captured_events_equal_the_ones_their_constructors_build() -> None:
    """The fast event builder gives the same events as the validating constructors."""
    pipeline = sales()
    deal = opened(pipeline, by="u_amy")
    deal.move("qualified", pipeline=pipeline, now=T0 + DAY, by="u_amy")

    for event in deal.pull_events():
        fields = {a.name: getattr(event, a.name) for a in attrs.fields(type(event))}
        assert type(event)(**fields) == event


# ----- other pipelines ---------------------------------------------------------------------------


def test_migrating_to_a_new_revision_maps_removed_stages_and_keeps_others() -> None:
    """A deal on a removed stage moves to its mapped stage (a history entry); others stay put."""
    old = sales()
    stages = [s for s in old.stages if s.key != "negotiation"]
    new = Pipeline(
        key=old.key,
        revision=2,
        name=old.name,
        stages=stages,
        transitions=[t for t in old.transitions if "negotiation" not in (t.source, t.target)]
        + [Transition("proposal", "won"), Transition("won", "proposal")],
        lost_reasons=old.lost_reasons,
    )
    plan = old.migration_to(new, {"negotiation": "proposal"})
    moved, kept = opened(old, id="opp_1"), opened(old, id="opp_2")
    moved.set_next_step("Next", now=T0)
    moved.move("proposal", pipeline=old, now=T0)
    moved.move("negotiation", pipeline=old, now=T0 + DAY)

    moved.migrate(plan, pipeline=new, now=T0 + 2 * DAY, by="u_admin")
    kept.migrate(plan, pipeline=new, now=T0 + 2 * DAY)

    assert (moved.pipeline_id, moved.stage, moved.probability) == ("new_business@2", "proposal", 50)
    assert moved.history[-1] == StageChange(
        "negotiation",
        "proposal",
        at=T0 + 2 * DAY,
        entered_at=T0 + DAY,
        by="u_admin",
        pipeline="new_business@2",
    )
    assert (kept.pipeline_id, kept.stage, kept.history, kept.stage_entered_at) == (
        "new_business@2",
        "lead",
        (),
        T0,
    )
    assert type(kept.pending_events[-1]).__name__ == "OpportunityPipelineChanged"
    with pytest.raises(RuleViolation, match="the migration starts from 'new_business@1'"):
        kept.migrate(plan, pipeline=new, now=T0 + 2 * DAY)
    by_hand = attrs.evolve(plan, stage_map={**plan.stage_map, "lead": "won"})
    with pytest.raises(RuleViolation, match=r"maps 'lead' \(open\) to 'won' \(won\)"):
        opened(old, id="opp_3").migrate(by_hand, pipeline=new, now=T0 + 2 * DAY)


def renewal() -> Pipeline:
    return Pipeline(
        key="renewal",
        name="Renewal",
        stages=[
            Stage("review", "Review", 60),
            Stage("renewed", "Renewed", 100, kind="won"),
            Stage("churned", "Churned", 0, kind="lost"),
        ],
        transitions=[Transition("review", "renewed"), Transition("review", "churned")],
    )


def test_changing_pipeline_maps_the_stage_explicitly_and_keeps_the_kind() -> None:
    """A deal moves to another pipeline into a stage named explicitly, of the same kind; within
    its own pipeline it only changes stage by moves."""
    deal = opened()

    with pytest.raises(RuleViolation, match="is already in the New business pipeline"):
        deal.change_pipeline(sales(), stage="negotiation", now=T0)
    with pytest.raises(DefinitionError, match="a migration within 'new_business@1' cannot move"):
        sales().migration_to(sales(), {"lead": "negotiation"})
    renewal_pipeline = renewal()

    with pytest.raises(RuleViolation, match="can only go to a open stage of 'renewal@1'"):
        deal.change_pipeline(renewal_pipeline, stage="renewed", now=T0)

    deal.change_pipeline(renewal_pipeline, stage="review", now=T0 + DAY)

    assert (deal.pipeline_id, deal.stage, deal.probability) == ("renewal@1", "review", 60)
    assert deal.stages_visited() == ("lead", "review")
    assert deal.move("renewed", pipeline=renewal_pipeline, now=T0 + 2 * DAY).target == "renewed"


# ----- construction and storage ---------------------------------------------------------------


def test_the_constructor_checks_consistency_and_replays_the_history() -> None:
    """A deal read from storage must be consistent; every problem is listed with its path."""
    pipeline = sales()
    deal = opened(pipeline)
    deal.move("qualified", pipeline=pipeline, now=T0 + DAY)
    data = unstructure(deal)
    data["stage"] = "proposal"
    data["history"][0]["entered_at"] = (T0 - DAY).isoformat()
    data["close_reason"] = "price"
    data["probability_override"] = 30

    with pytest.raises(ValidationError) as caught:
        structure(data, Opportunity)

    paths = {e.path for e in caught.value.errors}
    assert {"history[0].entered_at", "stage", "close_reason", "probability"} <= paths


@settings(max_examples=60)
@given(opportunities())
def test_every_opportunity_round_trips_through_the_converter_and_json(deal: Opportunity) -> None:
    """Property: any deal the rules allow survives structure/unstructure and JSON."""
    assert structure(unstructure(deal), Opportunity) == deal
    assert from_json(to_json(deal), Opportunity) == deal


@settings(max_examples=60)
@given(opportunities(), st.data())
def test_the_fast_check_never_accepts_what_the_full_check_refuses(
    deal: Opportunity, data: st.DataObject
) -> None:
    """Property: _looks_valid is at most as lenient as _problems (the slow, complete check)."""
    field = data.draw(st.sampled_from([a.name for a in attrs.fields(Opportunity) if a.init]))
    junk = data.draw(
        st.sampled_from([None, "", " x", 7, -1, 101, "open", T0, datetime(2026, 1, 1), (), ("x",)])
    )
    object.__setattr__(deal, field, junk)

    if _model._looks_valid(deal):
        assert _model._problems(deal) == []


@settings(max_examples=30)
@given(pipelines())
def test_the_compiled_transition_table_matches_the_definition(pipeline: Pipeline) -> None:
    """Property: compile() allows exactly the defined transitions."""
    compiled = pipeline.compile()
    defined = {(t.source, t.target) for t in pipeline.transitions}
    keys = [s.key for s in pipeline.stages]

    assert {(a, b) for a in keys for b in keys if compiled.allows(a, b)} == defined


@pytest.mark.parametrize("adapter", ["memory", "sqlite"])
def test_opportunities_and_pipelines_are_stored_and_queried(adapter: str, tmp_path: Path) -> None:
    """The record types project the fields queries use; a handler's load-move-save works in
    the in-memory store and in SQLite (typed columns from the record types' kinds)."""
    kept = RECORD_TYPES
    store: Any = (
        MemoryStore(record_types=kept)
        if adapter == "memory"
        else SQLiteStore(tmp_path / "crm.sqlite3", record_types=kept)
    )
    pipeline = sales()
    with store.unit_of_work() as uow:
        uow.repository(PIPELINES).add(pipeline)
        uow.repository(OPPORTUNITIES).add(opened(pipeline, amount=Money("10", "TWD")))
        uow.commit()

    with store.unit_of_work() as uow:
        deal = uow.repository(OPPORTUNITIES).get("opp_1")
        definition = uow.repository(PIPELINES).get(deal.pipeline_id)
        deal.move("qualified", pipeline=definition, now=T0 + DAY, by="u_amy")
        uow.repository(OPPORTUNITIES).save(deal)
        events = uow.commit()

    assert [(type(e).__name__, e.aggregate_version) for e in events] == [
        ("OpportunityStageChanged", 2)
    ]
    with store.unit_of_work() as uow:
        found = uow.repository(OPPORTUNITIES).query(
            Query.where(stage="qualified", is_open=True, owner="u_amy", currency="TWD")
            .filter("probability", "ge", 20)
            .filter("created_at", "le", T0)
        )
        latest = uow.repository(PIPELINES).query(
            Query.where(key="new_business").order("-revision").take(1)
        )
    assert [d.id for d in found.items] == ["opp_1"]
    assert found.items[0].history[0].by == "u_amy"
    assert [p.id for p in latest.items] == ["new_business@1"]
    assert OPPORTUNITIES.project(found.items[0])["probability"] == 25


JUNK = st.sampled_from(
    [
        None,
        "",
        " ",
        "lead",
        "won",
        "nope",
        7,
        1.5,
        [],
        {},
        ["lead"],
        b"lead",
        object(),
        T0,
        datetime(2026, 3, 2),
        date(2026, 3, 2),
        Money("1", "TWD"),
        "x" * 300,
    ]
)


@settings(max_examples=150)
@given(to=JUNK, now=JUNK, by=JUNK, reason=JUNK, predicates=JUNK)
def test_bad_input_to_a_move_only_ever_raises_crmkit_errors_and_changes_nothing(
    to: Any, now: Any, by: Any, reason: Any, predicates: Any
) -> None:
    """Property: whatever a caller passes, a move raises a CRMError (never a TypeError,
    KeyError or AttributeError) or succeeds; a refused move changes nothing."""
    pipeline = sales()
    deal = opened(pipeline)
    before = snapshot(deal)

    try:
        deal.move(to, pipeline=pipeline, now=now, by=by, reason=reason, predicates=predicates)
    except CRMError:
        assert snapshot(deal) == before
    with contextlib.suppress(CRMError):
        deal.blockers(to, pipeline=pipeline, reason=reason, predicates=predicates)


def test_every_event_kind_round_trips_as_a_domain_event() -> None:
    """Each of the context's event classes comes back from JSON as the same event."""
    from crmkit.kernel.events import DomainEvent
    from crmkit.pipeline import events as pipeline_events

    pipeline = sales()
    fields = attrs.asdict(pipeline, recurse=False, filter=lambda a, _v: a.init and a.name != "id")
    fields.pop("version")
    defined = Pipeline.define(now=T0, actor="u_admin", **fields)
    deal = opened(pipeline, by="u_amy")
    deal.change_amount(Money("100", "TWD"), now=T0, by="u_amy")
    deal.change_close_date(date(2026, 5, 1), now=T0)
    deal.override_probability(30, pipeline=pipeline, now=T0)
    deal.tick("budget_confirmed", pipeline=pipeline, now=T0)
    deal.add_contact("con_1", "decision_maker", now=T0)
    deal.assign_owner("u_ben", now=T0)
    deal.set_next_step("Call", now=T0)
    deal.record_activity(T0 + DAY / 2, now=T0 + DAY)
    deal.move("qualified", pipeline=pipeline, now=T0 + DAY, by="u_amy")
    deal.change_pipeline(renewal(), stage="review", now=T0 + DAY)
    events = [*defined.pull_events(), *deal.pull_events()]

    assert {type(e).__name__ for e in events} == set(pipeline_events.__all__)
    for event in events:
        assert from_json(to_json(event), DomainEvent) == event  # type: ignore[type-abstract]


def test_a_migration_plan_round_trips() -> None:
    """A migration is data too: it round-trips through JSON."""
    old = sales()
    plan = old.migration_to(old)

    assert from_json(to_json(plan), type(plan)) == plan
