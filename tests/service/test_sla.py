"""SLA policies as data, and clocks computed on read: states, pauses, stops, escalations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.serialization import from_json, to_json
from crmkit.service import CaseStatus, Complaint, ComplaintPolicy, SlaTarget
from crmkit.service.sla import (
    EscalationLevel,
    SlaPolicy,
    SlaPolicySet,
    SlaRule,
    SlaState,
    sla_status,
)
from crmkit.testing._service_strategies import (
    complaints,
    service_calendars,
    sla_policies,
    sla_policy_sets,
)

UTC = timezone.utc
H = timedelta(hours=1)
MON = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
CAL = BusinessCalendar.office_hours("UTC", ("09:00", "17:00"), name="HQ")  # 8 h a day
POLICY = ComplaintPolicy(categories=["delivery"])
SLA = SlaPolicy(
    name="std",
    first_response=4 * H,
    resolution=16 * H,
    escalations=[
        EscalationLevel(level="team_lead", target="resolution", after=8 * H, notify="lead"),
        EscalationLevel(level="manager", target="resolution", after=12 * H, notify="mgr"),
    ],
)


def case_at(filed: datetime = MON, **kw: object) -> Complaint:
    return Complaint.file(
        id="case_1",
        reference="CS-1",
        now=filed,
        channel=kw.pop("channel", "email"),
        customer_id="cus_1",
        subject="x",
        category="delivery",
        impact=kw.pop("impact", "medium"),
        urgency=kw.pop("urgency", "medium"),
        policy=POLICY,
        **kw,  # type: ignore[arg-type]
    )


# ----- policies as data --------------------------------------------------------------------


def test_policy_fields_are_checked() -> None:
    with pytest.raises(ValidationError) as info:
        SlaPolicy(name="x", first_response=timedelta(0), resolution=H)
    assert info.value.errors[0].path == "first_response"
    with pytest.raises(ValidationError, match="cannot pause a clock"):
        SlaPolicy(name="x", first_response=H, resolution=H, pause_statuses=["resolved"])
    with pytest.raises(ValidationError, match="not float"):
        SlaPolicy(name="x", first_response=H, resolution=H, warn_at=0.8)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="above 0 and at most 1"):
        SlaPolicy(name="x", first_response=H, resolution=H, warn_at="1.2")
    level = EscalationLevel(level="lead", target="resolution", after=H)
    with pytest.raises(DefinitionError, match="more than once"):
        SlaPolicy(name="x", first_response=H, resolution=H, escalations=[level, level])


def test_policy_sets_check_their_names_and_pick_by_priority_tier_and_channel() -> None:
    std = SlaPolicy(name="standard", first_response=24 * H, resolution=40 * H)
    gold = SlaPolicy(name="gold", first_response=4 * H, resolution=16 * H)
    p1 = SlaPolicy(name="p1", first_response=H, resolution=8 * H)
    policies = SlaPolicySet(
        default="standard",
        policies=[std, gold, p1],
        rules=[
            SlaRule(name="critical", policy="p1", priorities=["critical"]),
            SlaRule(name="gold phone", policy="gold", tiers=["gold"], channels=["phone", "chat"]),
        ],
    )
    assert policies.select(case_at(impact="high", urgency="high")).policy is p1
    chosen = policies.select(case_at(customer_tier="Gold", channel="chat"))
    assert (chosen.policy, chosen.rule) == (gold, "gold phone")
    assert chosen.reason == "tier 'Gold' matched; channel 'chat' matched"
    assert policies.select(case_at(customer_tier="gold", channel="email")).policy is std
    with pytest.raises(DefinitionError) as info:
        SlaPolicySet(
            default="nope",
            policies=[std, std],
            rules=[SlaRule(name="r", policy="ghost")],
        )
    message = str(info.value)
    assert "'standard' is defined more than once" in message
    assert "default policy 'nope'" in message and "unknown policy 'ghost'" in message


@settings(max_examples=30)
@given(sla_policy_sets())
def test_policy_sets_round_trip(policies: SlaPolicySet) -> None:
    assert from_json(to_json(policies), SlaPolicySet) == policies


@settings(max_examples=30)
@given(sla_policies())
def test_policies_round_trip(policy: SlaPolicy) -> None:
    assert from_json(to_json(policy), SlaPolicy) == policy


# ----- clocks ------------------------------------------------------------------------------


def test_a_fresh_case_has_zero_elapsed_and_the_full_target_left() -> None:
    status = sla_status(case_at(), SLA, CAL, MON)
    for clock in status.clocks:
        assert clock.elapsed == timedelta(0)
        assert clock.remaining == clock.duration and clock.overdue == timedelta(0)
        assert clock.state is SlaState.OK and not clock.paused and clock.pauses == ()
    assert status.first_response.deadline == MON + 4 * H
    # Resolution: 16 h = Monday 8 h + Tuesday 8 h -> Tuesday 17:00.
    assert status.resolution.deadline == MON + timedelta(days=1, hours=8)


def test_states_move_from_ok_to_warning_to_breached() -> None:
    case = case_at()
    clock = lambda now: sla_status(case, SLA, CAL, now).first_response  # noqa: E731
    # Warning at 80% of 4 h: 3 h 12 min into Monday.
    assert clock(MON + timedelta(hours=3, minutes=11)).state is SlaState.OK
    assert clock(MON).warning_at == MON + timedelta(hours=3, minutes=12)
    assert clock(MON + timedelta(hours=3, minutes=12)).state is SlaState.WARNING
    assert clock(MON + 4 * H).state is SlaState.WARNING  # the deadline itself is still in time
    late = clock(MON + 4 * H + timedelta(microseconds=1))
    assert late.state is SlaState.BREACHED and late.overdue == timedelta(microseconds=1)
    # Overnight no business time passes, but the deadline is behind us: still breached.
    assert clock(MON + 14 * H).state is SlaState.BREACHED


def test_a_reply_in_time_meets_the_first_response_target() -> None:
    case = case_at()
    case.acknowledge(now=MON + H, owner="u_amy")
    case.reply("hello", now=MON + 4 * H, by="u_amy")
    clock = sla_status(case, SLA, CAL, MON + 30 * H).first_response
    assert clock.state is SlaState.MET
    assert clock.stopped_at == MON + 4 * H and clock.stopped_by == "first reply"
    assert clock.elapsed == 4 * H and clock.remaining == timedelta(0)


def test_resolving_without_a_reply_stops_both_clocks() -> None:
    case = case_at()
    case.acknowledge(now=MON, owner="u_amy")
    case.start_work(now=MON)
    case.resolve(now=MON + 2 * H, summary="fixed on the phone", policy=POLICY)
    status = sla_status(case, SLA, CAL, MON + 100 * H)
    assert [c.state for c in status.clocks] == [SlaState.MET, SlaState.MET]
    assert [c.stopped_by for c in status.clocks] == ["resolved", "resolved"]
    assert status.resolution.elapsed == 2 * H


def test_a_reopened_case_resumes_its_clock_without_counting_the_resolved_time() -> None:
    case = case_at()
    case.acknowledge(now=MON, owner="u_amy")
    case.start_work(now=MON)
    case.resolve(now=MON + 2 * H, summary="fixed", policy=POLICY)  # Mon 11:00
    case.reopen(now=MON + 26 * H, reason="not fixed", policy=POLICY)  # Tue 11:00
    clock = sla_status(case, SLA, CAL, MON + 27 * H).resolution  # Tue 12:00
    assert clock.stopped_at is None and clock.state is SlaState.OK
    assert [(p.status, p.business_time) for p in clock.pauses] == [(CaseStatus.RESOLVED, 8 * H)]
    assert clock.elapsed == 3 * H  # Mon 09-11 and Tue 11-12
    # 16 h - 2 h (Monday 09-11) = 14 h left from Tue 11:00: 6 h on Tuesday, 8 h on Wednesday
    # -> Wed 17:00.
    assert clock.deadline == MON + timedelta(days=2, hours=8)


def test_which_statuses_pause_is_configurable() -> None:
    case = case_at()
    case.acknowledge(now=MON, owner="u_amy")
    case.start_work(now=MON + 2 * H)
    stops_while_acknowledged = SlaPolicy(
        name="ack pauses",
        first_response=4 * H,
        resolution=16 * H,
        pause_statuses=["acknowledged", "awaiting_customer"],
    )
    now = MON + 3 * H
    assert sla_status(case, SLA, CAL, now).resolution.elapsed == 3 * H
    assert sla_status(case, stops_while_acknowledged, CAL, now).resolution.elapsed == H
    never = SlaPolicy(name="never", first_response=4 * H, resolution=16 * H, pause_statuses=[])
    case.wait_for_customer(now=now)
    assert sla_status(case, never, CAL, MON + 5 * H).resolution.elapsed == 5 * H
    paused = sla_status(case, SLA, CAL, MON + 5 * H).resolution
    assert paused.paused and paused.deadline_projected and paused.pauses[-1].end is None
    assert "if resumed now" in paused.explain()


def test_changing_the_policy_mid_flight_loses_no_paused_time() -> None:
    case = case_at()
    case.acknowledge(now=MON, owner="u_amy")
    case.reply("photo please", now=MON + H, by="u_amy", wait_for_customer=True)
    case.receive_customer_message("here", now=MON + 5 * H)
    now = MON + 6 * H
    longer = SlaPolicy(name="relaxed", first_response=8 * H, resolution=40 * H)
    for policy in (SLA, longer):
        clock = sla_status(case, policy, CAL, now).resolution
        assert clock.elapsed == 2 * H  # 09-10 and 14-15: the 4 h pause held back
        assert clock.pauses[0].business_time == 4 * H


def test_history_after_now_is_ignored() -> None:
    case = case_at()
    case.acknowledge(now=MON, owner="u_amy")
    case.reply("hi", now=MON + 2 * H, by="u_amy", wait_for_customer=True)
    earlier = sla_status(case, SLA, CAL, MON + H)
    assert earlier.first_response.state is SlaState.OK
    assert earlier.first_response.stopped_at is None
    assert not earlier.resolution.paused and earlier.resolution.elapsed == H


def test_escalation_levels_have_their_own_timers_and_are_recorded_once() -> None:
    case = case_at()
    case.acknowledge(now=MON, owner="u_amy")
    case.reply("on it", now=MON, by="u_amy")
    case.start_work(now=MON)
    status = sla_status(case, SLA, CAL, MON + 25 * H)  # Tue 10:00: 9 business hours in
    levels = {e.level: e for e in status.resolution.escalations}
    assert levels["team_lead"].reached and levels["team_lead"].due_at == MON + 8 * H
    assert not levels["manager"].reached
    assert levels["manager"].due_at == MON + timedelta(days=1, hours=4)  # Tue 13:00
    recorded = case.record_breaches(MON + 25 * H, policy=SLA, calendar=CAL)
    assert [(r.level, r.notify) for r in recorded] == [("team_lead", "lead")]  # type: ignore[union-attr]
    assert case.record_breaches(MON + 25 * H, policy=SLA, calendar=CAL) == ()
    again = case.record_breaches(MON + 48 * H, policy=SLA, calendar=CAL)
    kinds = sorted(type(r).__name__ for r in again)
    assert kinds == ["EscalationRecord", "SlaBreach"]  # the manager, and the resolution breach
    types = [e.event_type for e in case.pull_events()][-3:]
    assert types == [
        "service.ComplaintEscalated",  # the team lead, at Tue 10:00
        "service.SlaBreached",  # then, at Wed 09:00: the resolution target
        "service.ComplaintEscalated",  # and the manager
    ]


def test_cancelling_stops_the_clocks() -> None:
    case = case_at()
    case.cancel("spam", note="advert", now=MON + H)
    status = sla_status(case, SLA, CAL, MON + 100 * H)
    assert [c.stopped_by for c in status.clocks] == ["cancelled", "cancelled"]
    assert all(c.state is SlaState.MET for c in status.clocks)


def test_a_now_before_filing_starts_nothing() -> None:
    clock = sla_status(case_at(), SLA, CAL, MON - H).first_response
    assert clock.elapsed == timedelta(0) and clock.state is SlaState.OK
    assert clock.deadline == MON + 4 * H and not clock.deadline_projected


def test_bad_arguments_are_validation_errors() -> None:
    with pytest.raises(ValidationError):
        sla_status("case", SLA, CAL, MON)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        sla_status(case_at(), SLA, "cal", MON)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        sla_status(case_at(), SLA, CAL, datetime(2026, 3, 2))


# ----- properties ----------------------------------------------------------------------------


@settings(max_examples=40)
@given(complaints(), sla_policies(), service_calendars(), st.integers(0, 90 * 24 * 60))
def test_clocks_are_consistent(
    case: Complaint, policy: SlaPolicy, calendar: BusinessCalendar, minutes: int
) -> None:
    now = case.filed_at + timedelta(minutes=minutes)
    status = sla_status(case, policy, calendar, now)
    for clock in status.clocks:
        assert clock.elapsed >= timedelta(0)
        assert clock.elapsed + sum((p.business_time for p in clock.pauses), timedelta(0)) <= (
            calendar.business_time_between(case.filed_at, clock.stopped_at or now)
        )
        assert clock.remaining == max(clock.duration - clock.elapsed, timedelta(0))
        assert clock.overdue == max(clock.elapsed - clock.duration, timedelta(0))
        assert (clock.state is SlaState.BREACHED) == (
            not clock.deadline_projected and clock.deadline < (clock.stopped_at or now)
        )
        if clock.state is not SlaState.BREACHED:
            assert clock.elapsed <= clock.duration
        assert clock.warning_at <= clock.deadline
        assert clock.deadline.tzinfo == calendar.zone
        assert (clock.state is SlaState.MET) <= (clock.stopped_at is not None)
        assert clock.explain().startswith(f"{clock.target.value}: {clock.state.value}")
    assert status.first_response.target is SlaTarget.FIRST_RESPONSE
    assert status.resolution.duration == policy.resolution
    # The same inputs give the same answer: nothing is stored.
    assert sla_status(case, policy, calendar, now) == status


def test_warn_at_one_warns_only_at_the_deadline() -> None:
    policy = SlaPolicy(name="x", first_response=4 * H, resolution=8 * H, warn_at=Decimal(1))
    clock = sla_status(case_at(), policy, CAL, MON + 3 * H).first_response
    assert clock.state is SlaState.OK and clock.warning_at == clock.deadline
