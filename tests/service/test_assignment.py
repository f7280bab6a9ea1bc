"""Complaint assignment: by category to a team, then round robin, least loaded or by skill."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import DefinitionError, RuleViolation, ValidationError
from crmkit.serialization import from_json, to_json
from crmkit.service import Complaint, ComplaintPolicy
from crmkit.service.assignment import (
    AssignmentState,
    CaseAssignmentRules,
    CategoryRoute,
    Team,
    TeamMember,
    assign_case,
)

NOW = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
POLICY = ComplaintPolicy(categories=["delivery", "billing", "installation", "other"])
RULES = CaseAssignmentRules(
    fallback_owner="u_lead",
    fallback_team="front desk",
    teams=[
        Team(name="logistics", members=["u_amy", "u_bob", "u_cat"], lead="u_lead"),
        Team(name="finance", members=["u_dan", "u_eve"], strategy="least_loaded", max_open=3),
        Team(
            name="field",
            strategy="by_skill",
            members=[
                TeamMember("u_fay", ["install", "zh-TW"]),
                TeamMember("u_gus", ["install"]),
                TeamMember("u_hal", ["zh-TW"]),
            ],
        ),
    ],
    routes=[
        CategoryRoute(name="delivery", categories=["delivery"], team="logistics"),
        CategoryRoute(name="billing", categories=["billing"], team="finance"),
        CategoryRoute(
            name="installs", categories=["installation"], team="field", skills=["INSTALL"]
        ),
    ],
)


def case(category: str = "delivery") -> Complaint:
    return Complaint.file(
        id="case_1",
        reference="CS-1",
        now=NOW,
        channel="phone",
        customer_id="cus_1",
        subject="x",
        category=category,
        impact="low",
        urgency="low",
        policy=POLICY,
    )


def test_round_robin_takes_turns_and_the_state_carries_them() -> None:
    state = AssignmentState()
    owners = []
    for _ in range(7):
        chosen = assign_case(case(), RULES, state)
        owners.append(chosen.owner)
        state = chosen.new_state
    assert owners == ["u_amy", "u_bob", "u_cat", "u_amy", "u_bob", "u_cat", "u_amy"]
    assert state.last == {"logistics": "u_amy"}


@settings(max_examples=50)
@given(st.lists(st.integers(0, 5), min_size=3, max_size=3), st.integers(1, 30))
def test_round_robin_is_fair(loads: list[int], rounds: int) -> None:
    state = AssignmentState()
    counts: Counter[str] = Counter()
    for _ in range(rounds * 3):
        chosen = assign_case(case(), RULES, state, dict(zip(("u_amy", "u_bob", "u_cat"), loads)))
        counts[chosen.owner] += 1
        state = chosen.new_state
    assert set(counts.values()) == {rounds}


def test_least_loaded_respects_max_open_and_falls_back() -> None:
    chosen = assign_case(case("billing"), RULES, loads={"u_dan": 2, "u_eve": 1})
    assert (chosen.owner, chosen.team) == ("u_eve", "finance")
    assert "least loaded: u_eve holds 1 open cases" in chosen.reason
    full = assign_case(case("billing"), RULES, loads={"u_dan": 3, "u_eve": 7})
    assert (full.owner, full.team, full.rule) == ("u_lead", "front desk", "fallback")
    assert "every member of 'finance' holds 3 or more open cases" in full.reason


def test_by_skill_picks_the_least_loaded_of_the_skilled() -> None:
    chosen = assign_case(case("installation"), RULES, loads={"u_fay": 4, "u_gus": 2, "u_hal": 0})
    assert chosen.owner == "u_gus"  # u_hal is free but cannot install
    assert "the fewest of those with install (u_fay, u_gus)" in chosen.reason


def test_unrouted_categories_go_to_the_fallback_owner() -> None:
    chosen = assign_case(case("other"), RULES)
    assert (chosen.owner, chosen.rule, chosen.reason) == (
        "u_lead",
        "fallback",
        "no route for category 'other'",
    )


def test_applying_records_the_reassignment_on_the_case() -> None:
    complaint = case()
    first = assign_case(complaint, RULES)
    first.apply_to(complaint, now=NOW)
    complaint.acknowledge(now=NOW)
    second = assign_case(complaint, RULES, first.new_state)
    second.apply_to(complaint, now=NOW, actor="u_lead")
    assert [(a.owner, a.team, a.rule) for a in complaint.assignments] == [
        ("u_amy", "logistics", "delivery"),
        ("u_bob", "logistics", "delivery"),
    ]
    assert complaint.assignments[-1].by == "u_lead"
    with pytest.raises(RuleViolation):
        complaint.assign(None, now=NOW)


def test_definitions_are_checked() -> None:
    with pytest.raises(DefinitionError) as info:
        CaseAssignmentRules(
            fallback_owner="u1",
            teams=[Team(name="a", members=["u1"]), Team(name="a", members=["u2"])],
            routes=[
                CategoryRoute(name="r", categories=["x"], team="b"),
                CategoryRoute(name="r", categories=["y"], team="a"),
            ],
        )
    message = str(info.value)
    assert "team 'a' is defined more than once" in message
    assert "route 'r' is defined more than once" in message
    assert "unknown team 'b'" in message
    with pytest.raises(ValidationError, match="more than once"):
        Team(name="t", members=["u1", "u1"])
    with pytest.raises(ValidationError):
        Team(name="t", members=[])
    with pytest.raises(ValidationError):
        assign_case(case(), RULES, loads={"u_amy": -1})


def test_rules_round_trip() -> None:
    assert from_json(to_json(RULES), CaseAssignmentRules) == RULES
    state = AssignmentState({"logistics": "u_bob"})
    assert from_json(to_json(state), AssignmentState) == state
