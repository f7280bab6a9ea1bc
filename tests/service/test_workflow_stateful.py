"""The complaint workflow under random commands (a RuleBasedStateMachine).

Every command is tried whether or not it is allowed now; a plain model of the issue's workflow
says which should succeed. A refused command raises RuleViolation and changes nothing; the
history only grows (a reopened case keeps it); a breach is recorded at most once per target.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from crmkit.errors import RuleViolation
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.money import Money
from crmkit.serialization import structure, unstructure
from crmkit.service import CompensationLimit, Complaint, ComplaintPolicy, SlaBreach
from crmkit.service.sla import EscalationLevel, SlaPolicy

UTC = timezone.utc
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

# The workflow as the issue states it, written out independently of crmkit's STATUS_GRAPH:
# new -> acknowledged -> in_progress <-> awaiting_customer -> resolved -> closed; cancel from any
# open status; reopen (to in_progress) only through reopen().
MODEL = {
    "new": {"acknowledged", "cancelled"},
    "acknowledged": {"in_progress", "cancelled"},
    "in_progress": {"awaiting_customer", "resolved", "cancelled"},
    "awaiting_customer": {"in_progress", "resolved", "cancelled"},
    "resolved": {"closed"},
    "closed": set(),
    "cancelled": set(),
}
OPEN = {"new", "acknowledged", "in_progress", "awaiting_customer"}
REOPEN_WINDOW = timedelta(days=5)

POLICY = ComplaintPolicy(
    categories=["delivery"],
    root_causes=["carrier_delay"],
    reopen_within=REOPEN_WINDOW,
    compensation_limits=[
        CompensationLimit(role="agent", kind="voucher", max_amount=Money("500", "TWD")),
        CompensationLimit(role="agent", kind="goodwill_points", max_points=1000),
    ],
)
SLA = SlaPolicy(
    name="tight",
    first_response=timedelta(hours=6),
    resolution=timedelta(hours=20),
    escalations=[
        EscalationLevel(level="team_lead", target="resolution", after=timedelta(hours=10)),
        EscalationLevel(level="manager", target="resolution", after=timedelta(hours=16)),
    ],
)
CALENDAR = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "12:00"), ("13:00", "18:00"))


class ComplaintMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.case = Complaint.file(
            id="case_1",
            reference="CS-1001",
            now=self.now,
            channel="phone",
            customer_id="cus_1",
            subject="Broken on arrival",
            category="delivery",
            impact="high",
            urgency="medium",
            policy=POLICY,
        )
        self.status = "new"
        self.owner: str | None = None
        self.resolved_at: datetime | None = None
        self.history = list(self.case.status_history)
        self.csat: int | None = None
        self.grants: dict[str, tuple[str, int]] = {}
        self.refused = 0

    @initialize()
    def start(self) -> None:
        assert self.case.status.value == "new"

    # ----- helpers ---------------------------------------------------------------------------

    def attempt(self, allowed: bool, command, *args, **kwargs) -> bool:  # type: ignore[no-untyped-def]
        """Run ``command``; if the model says it is not allowed, it must raise and change
        nothing."""
        before = unstructure(self.case)
        events = len(self.case.pending_events)
        if allowed:
            command(*args, **kwargs)
            return True
        with pytest.raises(RuleViolation) as info:
            command(*args, **kwargs)
        assert unstructure(self.case) == before
        assert len(self.case.pending_events) == events
        if "allowed" in info.value.details:  # a refused move names the allowed ones
            assert set(info.value.details["allowed"]) == MODEL[self.status]
            for status in MODEL[self.status]:
                assert repr(status) in info.value.message
        self.refused += 1
        return False

    def move(self, target: str) -> bool:
        return target in MODEL[self.status]

    # ----- time ------------------------------------------------------------------------------

    @rule(minutes=st.integers(0, 3 * 24 * 60))
    def time_passes(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)

    # ----- the workflow ----------------------------------------------------------------------

    @rule(owner=st.none() | st.sampled_from(["u_amy", "u_bob"]))
    def acknowledge(self, owner: str | None) -> None:
        ok = self.move("acknowledged") and (owner is not None or self.owner is not None)
        if self.attempt(ok, self.case.acknowledge, now=self.now, owner=owner, actor="u_amy"):
            self.status = "acknowledged"
            self.owner = owner or self.owner

    @rule()
    def start_work(self) -> None:
        if self.attempt(self.move("in_progress"), self.case.start_work, now=self.now):
            self.status = "in_progress"

    @rule()
    def wait_for_customer(self) -> None:
        if self.attempt(self.move("awaiting_customer"), self.case.wait_for_customer, now=self.now):
            self.status = "awaiting_customer"

    @rule(wait=st.booleans())
    def reply(self, wait: bool) -> None:
        ok = self.status in {"acknowledged", "in_progress", "awaiting_customer"} or (
            self.status == "resolved" and not wait
        )
        if (
            self.attempt(
                ok, self.case.reply, "An update", now=self.now, by="u_amy", wait_for_customer=wait
            )
            and wait
        ):
            self.status = "awaiting_customer"

    @rule()
    def customer_writes(self) -> None:
        self.case.receive_customer_message("Any news?", now=self.now)
        if self.status == "awaiting_customer":
            self.status = "in_progress"

    @rule(owner=st.none() | st.sampled_from(["u_amy", "u_bob", "u_kim"]))
    def assign(self, owner: str | None) -> None:
        ok = self.status != "cancelled" and (owner is not None or self.status == "new")
        if self.attempt(ok, self.case.assign, owner, now=self.now, team="desk"):
            self.owner = owner

    @rule()
    def resolve(self) -> None:
        if self.attempt(
            self.move("resolved"),
            self.case.resolve,
            now=self.now,
            summary="Replaced",
            root_cause="carrier_delay",
            policy=POLICY,
        ):
            self.status = "resolved"
            self.resolved_at = self.now

    @rule()
    def close(self) -> None:
        if self.attempt(self.move("closed"), self.case.close, now=self.now):
            self.status = "closed"

    @rule()
    def reopen(self) -> None:
        ok = (
            self.status in {"resolved", "closed"}
            and self.resolved_at is not None
            and self.now - self.resolved_at <= REOPEN_WINDOW
        )
        if self.attempt(ok, self.case.reopen, now=self.now, reason="still broken", policy=POLICY):
            self.status = "in_progress"
            self.resolved_at = None

    @rule(reason=st.sampled_from(["spam", "duplicate"]))
    def cancel(self, reason: str) -> None:
        other = "case_0" if reason == "duplicate" else None
        if self.attempt(
            self.move("cancelled"),
            self.case.cancel,
            reason,
            note="not a real complaint",
            now=self.now,
            duplicate_of=other,
        ):
            self.status = "cancelled"

    # ----- records ---------------------------------------------------------------------------

    @rule(score=st.integers(1, 5))
    def csat(self, score: int) -> None:
        ok = self.status in {"resolved", "closed"} and self.csat in (None, score)
        if self.attempt(ok, self.case.record_csat, score, now=self.now):
            self.csat = score

    @rule(ref=st.sampled_from(["c1", "c2"]), points=st.sampled_from([100, 200, 5000]))
    def compensate(self, ref: str, points: int) -> None:
        known = self.grants.get(ref)
        if known is not None:
            ok = known == ("goodwill_points", points)
        else:
            ok = self.status not in {"new", "cancelled"} and points <= 1000
        grant = self.case.grant_compensation
        if self.attempt(
            ok,
            grant,
            reference=ref,
            kind="goodwill_points",
            points=points,
            approved_by="u_amy",
            approver_role="agent",
            policy=POLICY,
            now=self.now,
        ):
            self.grants[ref] = ("goodwill_points", points)

    @rule()
    def record_breaches(self) -> None:
        before = {b.target for b in self.case.breaches}
        new = self.case.record_breaches(self.now, policy=SLA, calendar=CALENDAR)
        assert not {item.target for item in new if isinstance(item, SlaBreach)} & before

    # ----- invariants ------------------------------------------------------------------------

    @invariant()
    def status_matches_the_model(self) -> None:
        assert self.case.status.value == self.status
        assert self.case.status_history[-1].new.value == self.status

    @invariant()
    def history_only_grows_along_the_graph(self) -> None:
        history = list(self.case.status_history)
        assert history[: len(self.history)] == self.history
        for change in history[1:]:
            old, new = change.old.value, change.new.value  # type: ignore[union-attr]
            reopened = old in {"resolved", "closed"} and new == "in_progress"
            assert new in MODEL[old] or reopened, f"{old} -> {new}"
        assert history == sorted(history, key=lambda c: c.at)
        self.history = history

    @invariant()
    def an_acknowledged_case_has_an_owner(self) -> None:
        if self.status not in {"new", "cancelled"}:
            assert self.case.owner is not None

    @invariant()
    def a_breach_is_recorded_at_most_once_per_target(self) -> None:
        targets = [b.target for b in self.case.breaches]
        assert len(targets) == len(set(targets))
        levels = [(e.target, e.level) for e in self.case.escalations]
        assert len(levels) == len(set(levels))

    @invariant()
    def compensation_is_idempotent(self) -> None:
        assert sorted(c.reference for c in self.case.compensations) == sorted(self.grants)

    @invariant()
    def the_case_round_trips(self) -> None:
        assert structure(unstructure(self.case), Complaint) == self.case


ComplaintMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40)
TestComplaintWorkflow = ComplaintMachine.TestCase
