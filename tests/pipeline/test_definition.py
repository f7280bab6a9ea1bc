"""Pipeline definitions: validation lists every problem, labels translate, data round-trips."""

from __future__ import annotations

from datetime import datetime, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import DefinitionError, ValidationError
from crmkit.pipeline import (
    ChecklistItem,
    CompiledPipeline,
    ForecastCategory,
    Guard,
    GuardKind,
    Migration,
    Pipeline,
    Stage,
    StageKind,
    Transition,
)
from crmkit.serialization import from_json, structure, to_json, unstructure
from crmkit.testing._pipeline_strategies import pipelines

NOW = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)


def sales() -> Pipeline:
    return Pipeline(
        key="new_business",
        name="New business",
        labels={"zh_Hant_TW": "新客戶"},
        stages=[
            Stage("lead", "Lead", 10, labels={"zh-TW": "潛在客戶"}),
            Stage(
                "proposal",
                "Proposal",
                50,
                forecast_category="best_case",
                checklist=[ChecklistItem("budget_confirmed", "Budget confirmed")],
                stall_after_days=14,
            ),
            Stage("won", "Closed won", 100, kind="won"),
            Stage("lost", "Closed lost", 0, kind="lost"),
        ],
        transitions=[
            Transition("lead", "proposal", guards=[Guard.requires("amount")]),
            Transition("proposal", "won", guards=[Guard.checklist("budget_confirmed")]),
            Transition("lead", "lost"),
            Transition("proposal", "lost"),
            Transition("lost", "lead"),
        ],
    )


def test_a_valid_pipeline_builds_with_its_id_and_defaults() -> None:
    """A definition's id is key@revision, stages default to open/pipeline, closed to closed."""
    pipeline = sales()

    assert pipeline.id == "new_business@1"
    assert pipeline.initial_stage.key == "lead"
    assert pipeline.stage("lead").forecast_category is ForecastCategory.PIPELINE
    assert pipeline.stage("won").forecast_category is ForecastCategory.CLOSED
    assert pipeline.stage("lost").kind is StageKind.LOST
    assert pipeline.lost_reasons[0] == "price"


def test_a_broken_definition_lists_every_problem_at_once() -> None:
    """One DefinitionError names each problem (the issue's validation list), not only the first."""
    with pytest.raises(DefinitionError) as caught:
        Pipeline(
            key="bad key",
            revision=0,
            name="Broken",
            stages=[
                Stage("lead", "Lead", 10),
                Stage("lead", "Lead again", 20),
                Stage("proposal", "Proposal", 150),
                Stage("orphan", "Orphan", 30, forecast_category="closed"),
                Stage("won", "Won", 90, kind="won"),
                Stage("won_late", "Won late", 100, kind="won", forecast_category="commit"),
            ],
            transitions=[
                Transition("lead", "proposal", guards=[Guard.requires("amout")]),
                Transition("proposal", "won", guards=[Guard.checklist("nda_signed")]),
                Transition("proposal", "nowhere"),
                Transition("won", "won"),
                Transition("lead", "proposal"),
            ],
            lost_reasons=[],
            inactive_after_days=0,
        )

    problems = caught.value.details["problems"]
    expected_fragments = [
        "key 'bad key' must be",
        "revision must be 1 or more, not 0",
        "stage 'lead' is listed twice",
        "stage 'proposal': probability must be 0-100, not 150",
        "stage 'orphan': an open stage cannot be in forecast category 'closed'",
        "stage 'won': a won stage must have probability 100, not 90",
        "stage 'won_late': a won stage must be in forecast category 'closed'",
        "there is no lost stage",
        "guard requires unknown field 'amout'",
        "guard needs checklist item 'nda_signed', which no stage defines",
        "transition 'proposal' -> 'nowhere': there is no stage 'nowhere'",
        "transition 'won' -> 'won': a transition must lead to another stage",
        "transition 'lead' -> 'proposal': is listed twice",
        "stages 'orphan', 'won_late' cannot be reached from the first stage 'lead'",
        "open stage 'orphan' cannot lead to a won or lost stage",
        "lost_reasons must list at least one reason",
        "inactive_after_days must be at least 1, not 0",
    ]
    for fragment in expected_fragments:
        assert any(fragment in p for p in problems), (fragment, problems)
    assert len(problems) == len(expected_fragments)
    assert str(caught.value).startswith(
        f"pipeline 'bad key' (revision 0) has {len(problems)} problems"
    )
    assert caught.value.code == "definition_error"


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            {
                "stages": [
                    Stage("won", "Won", 100, kind="won"),
                    Stage("lead", "Lead", 10),
                    Stage("lost", "Lost", 0, kind="lost"),
                ]
            },
            "the first stage 'won' is where deals start: it must be open",
        ),
        (
            {
                "stages": [Stage("lead", "Lead", 10), Stage("lost", "Lost", 0, kind="lost")],
                "transitions": [Transition("lead", "lost")],
            },
            "there is no won stage",
        ),
        ({"lost_reasons": ["price", "price"]}, "lost_reasons: 'price' is listed twice"),
        ({"won_reasons": ["not a code"]}, "won_reasons: 'not a code' is not a reason code"),
        (
            {
                "stages": [
                    Stage("lead", "Lead", 10, stall_after_days=0),
                    Stage("won", "Won", 100, kind="won"),
                    Stage("lost", "Lost", 0, kind="lost"),
                ],
                "transitions": [Transition("lead", "won"), Transition("lead", "lost")],
            },
            "stall_after_days must be at least 1",
        ),
        (
            {
                "stages": [
                    Stage("lead", "Lead", 10),
                    Stage("won", "Won", 100, kind="won"),
                    Stage("lost", "Lost", 3, kind="lost"),
                ],
                "transitions": [Transition("lead", "won"), Transition("lead", "lost")],
            },
            "a lost stage must have probability 0, not 3",
        ),
        (
            {
                "transitions": [
                    Transition("lead", "won", guards=[Guard.predicate("9lives")]),
                    Transition("lead", "lost"),
                ]
            },
            "predicate name '9lives' must start with a letter",
        ),
        ({"id": "something_else"}, "id must be 'new_business@1' (key@revision)"),
    ],
)
def test_each_rule_is_checked(change: dict[str, object], fragment: str) -> None:
    """Every validation rule refuses on its own, with a message saying what would be right."""
    fields: dict[str, object] = {
        "key": "new_business",
        "name": "New business",
        "stages": [
            Stage("lead", "Lead", 10),
            Stage("won", "Won", 100, kind="won"),
            Stage("lost", "Lost", 0, kind="lost"),
        ],
        "transitions": [Transition("lead", "won"), Transition("lead", "lost")],
    }
    fields.update(change)

    with pytest.raises(DefinitionError) as caught:
        Pipeline(**fields)  # type: ignore[arg-type]

    assert any(fragment in p for p in caught.value.details["problems"]), caught.value


def test_wrong_types_are_validation_errors_with_paths() -> None:
    """Malformed parts (not rules) are refused where they are built, naming the field."""
    with pytest.raises(ValidationError, match="probability: must be an int, not str"):
        Stage("lead", "Lead", "10")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="kind: 'maybe' is not one of"):
        Stage("lead", "Lead", 10, kind="maybe")
    with pytest.raises(ValidationError, match="kind: 'rule' is not one of"):
        Guard("rule", "amount")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"labels.xx_YY: 'xx_YY' is not a known locale"):
        Stage("lead", "Lead", 10, labels={"xx_YY": "?"})
    with pytest.raises(ValidationError, match=r"stages\[1\]: must be Stage, not dict"):
        Pipeline(key="k", name="K", stages=[Stage("a", "A", 1), {"key": "b"}], transitions=[])


def test_a_published_revision_cannot_be_changed() -> None:
    """Definition fields are read-only: a change is a new revision (version stays writable)."""
    pipeline = sales()

    with pytest.raises(attrs.exceptions.FrozenAttributeError, match="define a new revision"):
        pipeline.stages = ()  # type: ignore[misc]
    pipeline.version = 3  # the repository's optimistic-concurrency counter

    assert pipeline.version == 3


def test_labels_fall_back_from_region_to_script_to_language_to_default() -> None:
    """Labels are looked up zh_Hant_TW -> zh_Hant -> zh -> the default label."""
    stage = Stage("lead", "Lead", 10, labels={"zh_Hant": "潛在客戶", "zh": "线索"})

    assert stage.label_for("zh_Hant_TW") == "潛在客戶"
    assert stage.label_for("zh-TW") == "潛在客戶"
    assert stage.label_for("zh_Hans_CN") == "线索"
    assert stage.label_for("ja") == "Lead"
    assert stage.label_for("not a locale") == "Lead"
    assert sales().label_for("zh_Hant_TW") == "新客戶"
    assert sales().stage("lead").labels == {"zh_Hant_TW": "潛在客戶"}


def test_define_records_the_pipeline_defined_event() -> None:
    """Pipeline.define checks the definition and records PipelineDefined."""
    fields = attrs.asdict(sales(), recurse=False, filter=lambda a, _v: a.init and a.name != "id")
    fields.pop("version")

    pipeline = Pipeline.define(now=NOW, actor="u_admin", **fields)

    (event,) = pipeline.pull_events()
    assert (event.event_type, event.actor, event.stages) == (
        "pipeline.PipelineDefined",
        "u_admin",
        ("lead", "proposal", "won", "lost"),
    )


def test_compile_builds_the_transition_table_once() -> None:
    """compile() is cached; it answers targets and allowed moves from the table."""
    pipeline = sales()
    compiled = pipeline.compile()

    assert compiled is pipeline.compile()
    assert isinstance(compiled, CompiledPipeline)
    assert compiled.targets("lead") == ("proposal", "lost")
    assert compiled.allows("lost", "lead")
    assert not compiled.allows("lead", "won")
    with pytest.raises(ValidationError, match="has no stage 'nope'"):
        compiled.targets("nope")


def test_a_migration_maps_removed_stages_and_is_refused_while_one_is_missing() -> None:
    """Removed stages must be mapped (to a stage of the same kind); others keep their key."""
    old = sales()
    new = Pipeline(
        key="new_business",
        revision=2,
        name="New business",
        stages=[
            Stage("lead", "Lead", 15),
            Stage("signed", "Signed", 100, kind="won"),
            Stage("lost", "Closed lost", 0, kind="lost"),
        ],
        transitions=[Transition("lead", "signed"), Transition("lead", "lost")],
    )

    with pytest.raises(DefinitionError) as caught:
        Migration.plan(old, new, {"proposal": "signed", "ghost": "lead"})

    problems = caught.value.details["problems"]
    assert any("'ghost' is not a stage of 'new_business@1'" in p for p in problems)
    assert any(
        "stage 'won' does not exist in 'new_business@2': map it to one of signed" in p
        for p in problems
    )
    assert any("stage 'proposal' is open but 'signed' is won" in p for p in problems)

    plan = old.migration_to(new, {"proposal": "lead", "won": "signed"})

    assert plan.stage_map == {"lead": "lead", "proposal": "lead", "won": "signed", "lost": "lost"}
    assert (plan.source_revision, plan.target_revision) == (1, 2)


def test_guard_builders() -> None:
    """Guard.requires / checklist / predicate make the three kinds of guard."""
    assert Guard.requires("amount") == Guard(GuardKind.FIELD, "amount")
    assert Guard.checklist(" demo_done ").name == "demo_done"
    assert Guard.predicate("has_approved_quote", "an approved quote").message == (
        "an approved quote"
    )


def test_a_pipeline_round_trips_through_json() -> None:
    """The example pipeline survives unstructure/structure and JSON unchanged."""
    pipeline = sales()

    assert structure(unstructure(pipeline), Pipeline) == pipeline
    assert from_json(to_json(pipeline), Pipeline) == pipeline
    assert unstructure(pipeline)["stages"][1]["checklist"] == [
        {"key": "budget_confirmed", "label": "Budget confirmed", "labels": {}}
    ]


def test_a_broken_pipeline_in_json_is_refused() -> None:
    """Data that describes a broken pipeline never becomes a Pipeline."""
    data = unstructure(sales())
    data["stages"][2]["probability"] = 90

    with pytest.raises(ValueError):  # noqa: PT011 - DefinitionError or ValidationError
        structure(data, Pipeline)


@settings(max_examples=60)
@given(pipelines())
def test_every_generated_pipeline_round_trips(pipeline: Pipeline) -> None:
    """Property: every valid definition round-trips through structure/unstructure and JSON."""
    assert structure(unstructure(pipeline), Pipeline) == pipeline
    assert from_json(to_json(pipeline), Pipeline) == pipeline


@settings(max_examples=60)
@given(pipelines(), st.data())
def test_every_stage_is_reachable_and_every_open_stage_can_close(
    pipeline: Pipeline, data: st.DataObject
) -> None:
    """Property: the validation's graph promises hold for every accepted definition."""
    compiled = pipeline.compile()
    reached = {pipeline.initial_stage.key}
    frontier = [pipeline.initial_stage.key]
    while frontier:
        for target in compiled.targets(frontier.pop()):
            if target not in reached:
                reached.add(target)
                frontier.append(target)

    assert reached == {s.key for s in pipeline.stages}
    stage = data.draw(st.sampled_from([s for s in pipeline.stages if s.is_open]))
    seen, frontier = {stage.key}, [stage.key]
    while frontier:
        for target in compiled.targets(frontier.pop()):
            seen.add(target)
            if target not in frontier and compiled.stage(target).is_open and target not in seen:
                frontier.append(target)
    closing = {s.key for s in pipeline.stages if not s.is_open}
    assert _can_close(compiled, stage.key, closing)


def _can_close(compiled: CompiledPipeline, start: str, closing: set[str]) -> bool:
    seen, frontier = {start}, [start]
    while frontier:
        for target in compiled.targets(frontier.pop()):
            if target in closing:
                return True
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return False
