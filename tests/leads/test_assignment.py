"""Assignment: territories, round robin, least loaded, max_open, fallback; pure and fair."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import DefinitionError, ValidationError
from crmkit.leads import Lead
from crmkit.leads.assignment import (
    Assignment,
    AssignmentRule,
    AssignmentRules,
    AssignmentState,
    Strategy,
    assign,
)
from crmkit.serialization import from_json, structure, to_json, unstructure
from crmkit.testing._lead_strategies import leads

NOW = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
TEAM = ("u_amy", "u_bob", "u_cat")


def lead(**kw: Any) -> Lead:
    args: dict[str, Any] = {
        "id": "lead_1",
        "now": NOW,
        "source_channel": "web_form",
        "email": "a@b.example",
    }
    args.update(kw)
    return Lead.capture(**args)


def rules() -> AssignmentRules:
    return AssignmentRules(
        fallback_owner="u_lead",
        rules=[
            AssignmentRule.territory("enterprise", owner="u_kim", min_company_size=1000),
            AssignmentRule.territory(
                "north manufacturing",
                team=["u_dan", "u_eve"],
                strategy="least_loaded",
                regions=["TW-TPE", "TW-HSZ"],
                industries=["Manufacturing", "製造業"],
            ),
            AssignmentRule.round_robin("inbound", TEAM, source_channels=["web_form", "ads"]),
        ],
    )


def test_the_first_matching_rule_wins_and_says_why() -> None:
    big = assign(lead(company_size=5000, region="tw-tpe", industry="製造業"), rules())
    assert (big.owner, big.rule) == ("u_kim", "enterprise")
    assert big.reason == "company size 5000 at least 1000; owned by u_kim"
    north = assign(
        lead(company_size=300, region="tw-tpe", industry="製造業"),
        rules(),
        loads={"u_dan": 7, "u_eve": 3},
    )
    assert (north.owner, north.rule) == ("u_eve", "north manufacturing")
    assert north.reason == (
        "region 'tw-tpe' matched; industry '製造業' matched; least loaded: u_eve holds 3 open "
        "leads, the fewest in u_dan, u_eve"
    )
    inbound = assign(lead(), rules())
    assert (inbound.owner, inbound.rule) == ("u_amy", "inbound")
    trade_show = assign(lead(source_channel="trade_show"), rules())
    assert (trade_show.owner, trade_show.rule, trade_show.reason) == (
        "u_lead",
        "fallback",
        "no rule matched",
    )


def test_round_robin_takes_turns_and_the_state_comes_back() -> None:
    state = AssignmentState()
    owners = []
    for _ in range(7):
        result = assign(lead(), rules(), state)
        owners.append(result.owner)
        state = result.new_state
    assert owners == ["u_amy", "u_bob", "u_cat", "u_amy", "u_bob", "u_cat", "u_amy"]
    assert state.last == {"inbound": "u_amy"}


def test_round_robin_survives_team_changes() -> None:
    state = AssignmentState({"inbound": "u_zed"})  # no longer on the team: start again
    assert assign(lead(), rules(), state).owner == "u_amy"
    state = AssignmentState({"inbound": "u_cat"})
    assert assign(lead(), rules(), state).owner == "u_amy"


def test_max_open_skips_full_owners_and_falls_back_with_the_reason() -> None:
    capped = AssignmentRules(
        fallback_owner="u_lead",
        rules=[AssignmentRule.round_robin("inbound", TEAM, max_open=5)],
    )
    loads = {"u_amy": 5, "u_bob": 2, "u_cat": 9}
    first = assign(lead(), capped, loads=loads)
    assert first.owner == "u_bob"
    second = assign(lead(), capped, first.new_state, loads=loads)
    assert second.owner == "u_bob"
    full = assign(lead(), capped, loads=dict.fromkeys(TEAM, 5))
    assert (full.owner, full.rule) == ("u_lead", "fallback")
    assert "every owner holds 5 or more open leads" in full.reason
    assert full.new_state == AssignmentState()


def test_least_loaded_ties_go_to_the_earlier_member() -> None:
    rule = AssignmentRules(
        fallback_owner="u_lead", rules=[AssignmentRule.least_loaded("pool", TEAM)]
    )
    assert assign(lead(), rule).owner == "u_amy"
    assert assign(lead(), rule, loads={"u_amy": 1, "u_bob": 0, "u_cat": 0}).owner == "u_bob"


def test_assignment_is_recorded_on_the_lead() -> None:
    target = lead()
    result = assign(target, rules())
    result.apply_to(target, now=NOW, actor="u_bot")
    assert target.owner == "u_amy"
    assert target.assignment is not None
    assert (target.assignment.rule, target.assignment.reason) == (result.rule, result.reason)


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: AssignmentRule(name="x", strategy="owner", owners=["a", "b"]), "owners"),
        (lambda: AssignmentRule(name="x", strategy="round_robin", owners=[]), "owners"),
        (lambda: AssignmentRule(name="x", strategy="random", owners=["a"]), "strategy"),
        (lambda: AssignmentRule(name="x", strategy="owner", owners=["a b"]), "owners[0]"),
        (
            lambda: AssignmentRule(
                name="x", strategy="owner", owners=["a"], min_company_size=9, max_company_size=1
            ),
            "min_company_size",
        ),
        (
            lambda: AssignmentRule(name="x", strategy="owner", owners=["a"], max_open=-1),
            "max_open",
        ),
        (
            lambda: AssignmentRule(
                name="x", strategy="owner", owners=["a"], source_channels=["fax"]
            ),
            "source_channels[0]",
        ),
        (lambda: AssignmentRule.territory("x"), "owner"),
        (lambda: AssignmentRule.territory("x", owner="a", team=["b"]), "owner"),
        (lambda: AssignmentRules(fallback_owner=""), "fallback_owner"),
        (lambda: AssignmentState({"inbound": ""}), "last['inbound']"),
    ],
)
def test_bad_rules_are_validation_errors(build: Any, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    assert info.value.errors[0].path == path


def test_rule_names_are_unique() -> None:
    with pytest.raises(DefinitionError, match="more than once"):
        AssignmentRules(
            fallback_owner="u",
            rules=[
                AssignmentRule.round_robin("a", ["u1"]),
                AssignmentRule.least_loaded("a", ["u2"]),
            ],
        )
    with pytest.raises(DefinitionError, match="reserved"):
        AssignmentRules(fallback_owner="u", rules=[AssignmentRule.round_robin("fallback", ["u1"])])


def test_assign_checks_its_arguments() -> None:
    with pytest.raises(ValidationError) as info:
        assign(lead(), rules(), loads={"u_amy": -1})
    assert info.value.errors[0].path == "loads['u_amy']"
    with pytest.raises(ValidationError):
        assign(lead(), rules(), state={"inbound": "u_amy"})  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        assign(lead(), [])  # type: ignore[arg-type]


def test_rules_and_state_round_trip() -> None:
    for value, cls in (
        (rules(), AssignmentRules),
        (AssignmentState({"inbound": "u_bob"}), AssignmentState),
    ):
        assert from_json(to_json(value), cls) == value
    data = unstructure(rules())
    assert data["rules"][2] == {
        "name": "inbound",
        "strategy": "round_robin",
        "owners": list(TEAM),
        "regions": [],
        "industries": [],
        "source_channels": ["web_form", "ads"],
        "min_company_size": None,
        "max_company_size": None,
        "max_open": None,
    }
    data["rules"][0]["strategy"] = "random"
    with pytest.raises(ValidationError) as info:
        structure(data, AssignmentRules)
    assert info.value.errors[0].path == "rules[0].strategy"
    restored = from_json(to_json(rules()), AssignmentRules)
    assert assign(lead(region="TW-TPE", industry="manufacturing"), restored).rule == (
        "north manufacturing"
    )


# ----- properties ------------------------------------------------------------------------------


@settings(max_examples=40)
@given(st.integers(1, 60), st.integers(1, 6))
def test_round_robin_is_fair(n: int, size: int) -> None:
    team = [f"u_{i}" for i in range(size)]
    rr = AssignmentRules(fallback_owner="u_lead", rules=[AssignmentRule.round_robin("rr", team)])
    state = AssignmentState()
    counts: Counter[str] = Counter()
    for _ in range(n):
        result = assign(lead(), rr, state)
        counts[result.owner] += 1
        state = result.new_state
    assert max(counts.values()) - min(counts.get(o, 0) for o in team) <= 1


@settings(max_examples=60)
@given(
    leads(statuses=False),
    st.dictionaries(st.sampled_from((*TEAM, "u_kim", "u_dan", "u_eve")), st.integers(0, 20)),
    st.sampled_from((None, "u_amy", "u_bob", "u_cat")),
)
def test_assign_is_pure_and_always_names_an_owner(
    target: Lead, loads: dict[str, int], last: str | None
) -> None:
    state = AssignmentState({} if last is None else {"inbound": last})
    loads_before = dict(loads)
    first = assign(target, rules(), state, loads)
    again = assign(target, rules(), state, loads)
    assert first == again
    assert isinstance(first, Assignment) and first.reason
    assert state.last == ({} if last is None else {"inbound": last})
    assert loads == loads_before
    every_owner = {o for r in rules().rules for o in r.owners} | {"u_lead"}
    assert first.owner in every_owner
    if first.rule == "fallback":
        assert first.owner == "u_lead"
    else:
        chosen = next(r for r in rules().rules if r.name == first.rule)
        assert chosen.matches(target) is not None
        assert first.owner in chosen.owners
        if chosen.strategy is Strategy.LEAST_LOADED:
            assert loads.get(first.owner, 0) == min(loads.get(o, 0) for o in chosen.owners)
