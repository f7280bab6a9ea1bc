"""Random moves on random valid pipelines (a RuleBasedStateMachine).

Every step tries a move to any stage (defined or not) with or without a reason, or changes what
the guards look at. A model written from the *definition* (not the compiled tables) predicts each
outcome, and after every step the invariants of the issue hold: no deal reaches a stage by a
transition that is not defined, every accepted move had its guards met, the history replays to
the current stage, time in stage sums to the deal's age, and the derived fields follow the stage.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel.money import Money
from crmkit.pipeline import (
    ContactRole,
    GuardKind,
    Opportunity,
    Pipeline,
    RequiredField,
    StageChange,
    StageKind,
)
from crmkit.serialization import structure, unstructure
from crmkit.testing._pipeline_strategies import PREDICATE_NAMES, pipelines

T0 = datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("Asia/Taipei"))
REASONS = (None, "price", "competitor", "relationship", "The customer came back", "   ")


class PipelineMachine(RuleBasedStateMachine):
    """Drives one opportunity through one random pipeline."""

    pipeline: Pipeline
    deal: Opportunity

    @initialize(pipeline=pipelines(), truths=st.lists(st.booleans(), min_size=3, max_size=3))
    def open_deal(self, pipeline: Pipeline, truths: list[bool]) -> None:
        self.pipeline = pipeline
        self.compiled = pipeline.compile()
        self.truth = dict(zip(PREDICATE_NAMES, truths, strict=True))
        self.predicates = {name: self._predicate(name) for name in PREDICATE_NAMES}
        self.now = T0
        self.deal = Opportunity.open(
            id="opp_1", customer_id="cus_1", name="Acme: 20 seats", pipeline=pipeline, now=T0
        )
        self.accepted = 0
        self.edges = {(t.source, t.target): t for t in pipeline.transitions}
        self.stages = {s.key: s for s in pipeline.stages}

    def _predicate(self, name: str) -> Any:
        return lambda _deal: self.truth[name]

    # ----- the model: what the definition says a move should do ---------------------------

    def expected_unmet(self, source: str, target: str, reason: str | None) -> set[tuple[str, str]]:
        transition = self.edges[(source, target)]
        stage = self.stages[target]
        deal = self.deal
        unmet: set[tuple[str, str]] = set()
        for guard in (*transition.guards, *stage.guards):
            if guard.kind is GuardKind.FIELD:
                met = {
                    RequiredField.AMOUNT: deal.amount is not None and deal.amount.amount > 0,
                    RequiredField.CLOSE_DATE: deal.expected_close_date is not None,
                    RequiredField.DECISION_MAKER: any(
                        c.role is ContactRole.DECISION_MAKER for c in deal.contacts
                    ),
                    RequiredField.CONTACT: bool(deal.contacts),
                    RequiredField.OWNER: deal.owner is not None,
                    RequiredField.NEXT_STEP: deal.next_step is not None,
                }[RequiredField(guard.name)]
            elif guard.kind is GuardKind.CHECKLIST:
                met = guard.name in deal.checklist
            else:
                met = self.truth[guard.name]
            if not met:
                unmet.add((guard.kind.value, guard.name))
        reopens = not self.stages[source].is_open and stage.is_open
        if reason is None and (stage.kind is StageKind.LOST or reopens):
            unmet.add(("reason", "reason"))
        return unmet

    def reason_is_bad(self, target: str, reason: str | None) -> bool:
        if reason is None:
            return False
        kind = self.stages[target].kind
        if kind is StageKind.LOST:
            return reason not in self.pipeline.lost_reasons
        if kind is StageKind.WON and self.pipeline.won_reasons:
            return reason not in self.pipeline.won_reasons
        return False

    # ----- rules ------------------------------------------------------------------------------

    @rule(data=st.data(), hours=st.integers(0, 24 * 20))
    def move(self, data: st.DataObject, hours: int) -> None:
        """Try a move to any stage, with any reason."""
        everywhere = [s.key for s in self.pipeline.stages]
        onward = list(self.compiled.targets(self.deal.stage))
        target = data.draw(
            st.sampled_from(onward) | st.sampled_from(everywhere)
            if onward
            else st.sampled_from(everywhere)
        )
        fitting: list[str | None] = [None]
        if self.stages[target].kind is StageKind.LOST:
            fitting = list(self.pipeline.lost_reasons)
        elif self.stages[target].kind is StageKind.WON and self.pipeline.won_reasons:
            fitting += list(self.pipeline.won_reasons)
        elif not self.stages[self.deal.stage].is_open:
            fitting = ["The customer came back"]
        reason = data.draw(st.sampled_from(fitting) | st.sampled_from(REASONS))
        self.now += timedelta(hours=hours)
        source = self.deal.stage
        before = unstructure(self.deal)
        free_text = self.stages[target].kind is StageKind.OPEN or (
            self.stages[target].kind is StageKind.WON and not self.pipeline.won_reasons
        )
        given = reason.strip() or None if (reason is not None and free_text) else reason
        outcome: StageChange | RuleViolation | ValidationError
        try:
            outcome = self.deal.move(
                target,
                pipeline=self.pipeline,
                now=self.now,
                by="u_rep",
                predicates=self.predicates,
                reason=reason,
            )
        except (RuleViolation, ValidationError) as refused:
            outcome = refused
        defined = (source, target) in self.edges
        if isinstance(outcome, RuleViolation):
            event(f"move refused: {outcome.details['rule']}")
            assert unstructure(self.deal) == before, "a refused move changed the deal"
            if not defined:
                assert outcome.details["rule"] == "pipeline.transition_not_defined"
            else:
                assert not self.reason_is_bad(target, given)
                unmet = {(u["kind"], u["name"]) for u in outcome.details["unmet"]}
                assert unmet == self.expected_unmet(source, target, given)
                assert unmet, "refused with nothing unmet"
                assert "Still needed: " in str(outcome)
        elif isinstance(outcome, ValidationError):
            event("move refused: bad reason")
            assert unstructure(self.deal) == before, "an invalid move changed the deal"
            assert defined
            assert self.reason_is_bad(target, given)
        else:
            event(f"move accepted into a stage of kind {self.stages[target].kind.value}")
            assert defined, f"moved by an undefined transition {source} -> {target}"
            assert not self.reason_is_bad(target, given)
            assert self.expected_unmet(source, target, given) == set(), "a guard was not met"
            assert (outcome.source, outcome.target, outcome.at, outcome.reason) == (
                source,
                target,
                self.now,
                given,
            )
            self.accepted += 1

    @rule()
    def prepare_everything(self) -> None:
        """The rep fills in everything any guard can ask for, and every predicate holds."""
        deal = self.deal
        if deal.is_open or deal.stage_kind is StageKind.LOST:
            deal.change_amount(Money("120000", "TWD"), now=self.now)
        deal.change_close_date((self.now + timedelta(days=30)).date(), now=self.now)
        deal.add_contact("con_1", ContactRole.DECISION_MAKER, now=self.now)
        deal.assign_owner("u_amy", now=self.now)
        deal.set_next_step("Send the quote", now=self.now)
        for stage in self.pipeline.stages:
            for item in stage.checklist:
                deal.tick(item.key, pipeline=self.pipeline, now=self.now)
        self.truth = dict.fromkeys(PREDICATE_NAMES, True)

    @rule(data=st.data())
    def edit(self, data: st.DataObject) -> None:
        """The rep changes one thing the guards look at (amount, date, contacts, checklist...)."""
        deal, now = self.deal, self.now
        action = data.draw(
            st.sampled_from(
                (
                    "amount",
                    "close_date",
                    "contact",
                    "uncontact",
                    "checklist",
                    "owner",
                    "step",
                    "probability",
                    "activity",
                )
            )
        )
        if action == "amount":
            amount = data.draw(st.none() | st.integers(0, 10**7).map(lambda n: Money(n, "TWD")))
            try:
                deal.change_amount(amount, now=now)
            except RuleViolation:
                assert deal.stage_kind is StageKind.WON
            else:
                assert deal.stage_kind is not StageKind.WON
                assert deal.amount == amount
        elif action == "close_date":
            days = data.draw(st.none() | st.integers(0, 400))
            deal.change_close_date(
                None if days is None else (now + timedelta(days=days)).date(), now=now
            )
        elif action == "contact":
            deal.add_contact(
                data.draw(st.sampled_from(("con_1", "con_2"))),
                data.draw(st.sampled_from(ContactRole)),
                now=now,
            )
        elif action == "uncontact":
            deal.remove_contact(data.draw(st.sampled_from(("con_1", "con_2"))), now=now)
        elif action == "checklist":
            items = [i.key for s in self.pipeline.stages for i in s.checklist]
            if items:
                item = data.draw(st.sampled_from(items))
                if data.draw(st.booleans()):
                    deal.tick(item, pipeline=self.pipeline, now=now)
                else:
                    deal.untick(item, pipeline=self.pipeline, now=now)
        elif action == "owner":
            deal.assign_owner(data.draw(st.none() | st.just("u_amy")), now=now)
        elif action == "step":
            deal.set_next_step(data.draw(st.none() | st.just("Call Amy")), now=now)
        elif action == "probability":
            probability = data.draw(st.none() | st.integers(0, 100))
            try:
                deal.override_probability(probability, pipeline=self.pipeline, now=now)
            except RuleViolation:
                assert not deal.is_open
        else:
            self.now += timedelta(hours=data.draw(st.integers(0, 24 * 30)))
            deal.record_activity(self.now, now=self.now)

    @rule(name=st.sampled_from(PREDICATE_NAMES))
    def flip_predicate(self, name: str) -> None:
        """The host's answer for a predicate changes (a quote gets approved)."""
        self.truth[name] = not self.truth[name]

    # ----- invariants ---------------------------------------------------------------------------

    @invariant()
    def only_defined_transitions_in_the_history(self) -> None:
        for change in self.deal.history:
            assert (change.source, change.target) in self.edges

    @invariant()
    def history_replays_to_the_current_stage(self) -> None:
        stage = self.pipeline.initial_stage.key
        for change in self.deal.history:
            assert change.source == stage
            stage = change.target
        assert stage == self.deal.stage
        assert len(self.deal.history) == self.accepted

    @invariant()
    def time_in_stage_sums_to_the_age(self) -> None:
        deal = self.deal
        spent = sum((c.time_in_stage for c in deal.history), timedelta(0))
        assert spent + deal.time_in_stage(self.now) == deal.age(self.now)

    @invariant()
    def derived_fields_follow_the_stage(self) -> None:
        deal = self.deal
        stage = self.compiled.stage(deal.stage)
        assert deal.stage_kind is stage.kind
        assert deal.forecast_category is stage.forecast_category
        if stage.is_open:
            expected = deal.probability_override
            assert deal.probability == (stage.probability if expected is None else expected)
            assert deal.closed_at is None and deal.close_reason is None
        else:
            assert deal.probability_override is None
            assert deal.probability == stage.probability
            assert deal.closed_at is not None
        if stage.kind is StageKind.LOST:
            assert deal.close_reason in self.pipeline.lost_reasons

    @invariant()
    def one_stage_event_per_accepted_move(self) -> None:
        moved = [
            e for e in self.deal.pending_events if type(e).__name__ == "OpportunityStageChanged"
        ]
        assert len(moved) == self.accepted
        assert [(e.source, e.target) for e in moved] == [
            (c.source, c.target) for c in self.deal.history
        ]

    @invariant()
    def the_deal_round_trips(self) -> None:
        assert structure(unstructure(self.deal), Opportunity) == self.deal


PipelineMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=40)
TestPipelineMachine = PipelineMachine.TestCase
