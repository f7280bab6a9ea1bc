"""Qualification: frameworks as data, answers with evidence, completeness, MQL/SQL stages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import DefinitionError, ValidationError
from crmkit.leads import Lead
from crmkit.leads.qualification import (
    BANT,
    Criterion,
    Framework,
    Qualification,
    QualificationAnswer,
    Stage,
    StageThresholds,
    stage_for,
)
from crmkit.leads.scoring import ScoringModel, score
from crmkit.serialization import from_json, structure, to_json, unstructure

NOW = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)

MEDDIC = Framework(
    "meddic",
    "MEDDIC",
    [
        Criterion("metrics", "Metrics"),
        Criterion("economic_buyer", "Economic buyer"),
        Criterion("decision_criteria", "Decision criteria"),
        Criterion("decision_process", "Decision process"),
        Criterion("identify_pain", "Identified pain"),
        Criterion("champion", "Champion", required=False),
    ],
)


def answer(
    key: str, met: bool = True, at: datetime = NOW, framework: str = "bant"
) -> QualificationAnswer:
    return QualificationAnswer(
        framework=framework, criterion=key, met=met, evidence="heard it", at=at, by="u_amy"
    )


def all_bant() -> Qualification:
    q = Qualification()
    for key in BANT.keys:
        q = q.with_answer(answer(key))
    return q


def test_bant_is_built_in() -> None:
    assert BANT.keys == ("budget", "authority", "need", "timeline")
    assert all(c.required for c in BANT.criteria)


def test_the_latest_answer_per_criterion_counts() -> None:
    q = all_bant().with_answer(answer("timeline", met=False, at=NOW + timedelta(days=1)))
    assert q.missing(BANT) == ("timeline",)
    assert not q.is_complete(BANT)
    # An answer recorded later about an earlier moment does not override a newer one.
    q = q.with_answer(answer("timeline", met=True, at=NOW))
    assert q.missing(BANT) == ("timeline",)
    q = q.with_answer(answer("timeline", met=True, at=NOW + timedelta(days=2)))
    assert q.is_complete(BANT)
    assert len(q.answers) == 7  # history is kept


def test_optional_criteria_and_other_frameworks_do_not_interfere() -> None:
    q = all_bant()
    assert q.missing(MEDDIC) == (
        "metrics",
        "economic_buyer",
        "decision_criteria",
        "decision_process",
        "identify_pain",
    )
    for key in MEDDIC.keys[:-1]:
        q = q.with_answer(answer(key, framework="meddic"))
    assert q.is_complete(MEDDIC)  # the champion is optional
    assert set(q.latest(MEDDIC)) == set(MEDDIC.keys[:-1])


def test_frameworks_are_checked_when_built() -> None:
    with pytest.raises(DefinitionError, match="at least one criterion"):
        Framework("empty", "Empty", [])
    with pytest.raises(DefinitionError, match="'need' more than once"):
        Framework("x", "X", [Criterion("need", "Need"), Criterion("need", "Need again")])
    with pytest.raises(ValidationError) as info:
        Criterion("Has Budget", "Budget")
    assert info.value.errors[0].path == "key"
    with pytest.raises(ValidationError) as info:
        Framework("x", "X", ["need"])  # type: ignore[list-item]
    assert info.value.errors[0].path == "criteria[0]"


def test_answers_are_checked_when_built() -> None:
    with pytest.raises(ValidationError) as info:
        QualificationAnswer(
            framework="bant",
            criterion="budget",
            met="yes",
            evidence="x",
            at=NOW,  # type: ignore[arg-type]
        )
    assert info.value.errors[0].path == "met"
    with pytest.raises(ValidationError):
        QualificationAnswer(framework="bant", criterion="budget", met=True, evidence=" ", at=NOW)
    with pytest.raises(ValidationError):
        Qualification().with_answer("budget")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("total", "complete", "thresholds", "stage"),
    [
        (Decimal("49.99"), False, StageThresholds(), Stage.LEAD),
        (Decimal("50"), False, StageThresholds(), Stage.MQL),
        (Decimal("10"), True, StageThresholds(), Stage.SQL),
        (Decimal("10"), True, StageThresholds(sql_score=40), Stage.LEAD),
        (Decimal("45"), True, StageThresholds(mql_score=40, sql_score=40), Stage.SQL),
        (60, False, StageThresholds(sql_framework=MEDDIC), Stage.MQL),
    ],
)
def test_stage_for(
    total: Decimal, complete: bool, thresholds: StageThresholds, stage: Stage
) -> None:
    q = all_bant() if complete else Qualification()
    assert stage_for(total, q, thresholds) is stage


def test_stage_for_takes_a_lead_score() -> None:
    captured = Lead.capture(id="l1", now=NOW, source_channel="ads", email="a@b.example")
    result = score(captured, ScoringModel(name="empty"), NOW)
    assert stage_for(result, all_bant(), StageThresholds()) is Stage.SQL
    with pytest.raises(ValidationError):
        stage_for("50", Qualification(), StageThresholds())  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        stage_for(Decimal(50), BANT, StageThresholds())  # type: ignore[arg-type]


def test_frameworks_and_thresholds_round_trip() -> None:
    for value, cls in (
        (MEDDIC, Framework),
        (BANT, Framework),
        (all_bant(), Qualification),
        (StageThresholds(mql_score=40, sql_framework=MEDDIC, sql_score="55.5"), StageThresholds),
    ):
        assert from_json(to_json(value), cls) == value
    data = unstructure(MEDDIC)
    data["criteria"][0]["key"] = "Metrics!"
    with pytest.raises(ValidationError) as info:
        structure(data, Framework)
    assert info.value.errors[0].path == "criteria[0].key"


@settings(max_examples=50)
@given(
    st.lists(st.tuples(st.sampled_from(BANT.keys), st.booleans(), st.integers(0, 100)), max_size=12)
)
def test_complete_means_every_required_criterion_latest_met(
    steps: list[tuple[str, bool, int]],
) -> None:
    q = Qualification()
    for key, met, hours in steps:
        q = q.with_answer(answer(key, met=met, at=NOW + timedelta(hours=hours)))
    latest = q.latest(BANT)
    expected = all(k in latest and latest[k].met for k in BANT.keys)
    assert q.is_complete(BANT) is expected
    assert set(q.missing(BANT)) == {k for k in BANT.keys if not (k in latest and latest[k].met)}
    assert from_json(to_json(q), Qualification) == q
