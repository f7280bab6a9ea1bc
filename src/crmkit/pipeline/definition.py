"""Pipeline definitions as data: stages, transitions and guards, validated and compiled.

A :class:`Pipeline` is plain data a host can keep in its database and edit in an admin screen:
ordered :class:`Stage` s (key, localizable label, probability, :class:`ForecastCategory`,
:class:`StageKind`), the :class:`Transition` s allowed between them (only those: skipping ahead
or moving back is allowed where a transition says so), and the :class:`Guard` s that must hold
before a deal takes a transition or enters a stage: required fields (:class:`RequiredField`), SOP
checklist items (:class:`ChecklistItem`) and named predicates that the host registers, so the
definition itself stays pure data.

A pipeline is checked when it is built: every problem is listed at once in one
:class:`~crmkit.errors.DefinitionError`. Definitions are versioned by ``revision``; a
:class:`Migration` maps the stages of one revision (or pipeline) onto another and is refused
while a stage has nowhere to go. :meth:`Pipeline.compile` turns a definition into the lookup
tables moves run on (:class:`CompiledPipeline`). :data:`Predicate` is the type of the functions
a host registers for predicate guards; :data:`DEFAULT_LOST_REASONS` the reason codes a pipeline
offers for lost deals unless it lists its own.

Example:
    >>> sales = Pipeline(
    ...     key="new_business", name="New business",
    ...     stages=[
    ...         Stage("lead", "Lead", 10),
    ...         Stage("proposal", "Proposal", 50,
    ...               checklist=[ChecklistItem("budget_confirmed", "Budget confirmed")]),
    ...         Stage("won", "Closed won", 100, kind="won"),
    ...         Stage("lost", "Closed lost", 0, kind="lost"),
    ...     ],
    ...     transitions=[
    ...         Transition("lead", "proposal", guards=[Guard.requires("amount")]),
    ...         Transition("proposal", "won", guards=[Guard.checklist("budget_confirmed")]),
    ...         Transition("lead", "lost"), Transition("proposal", "lost"),
    ...     ],
    ... )
    >>> sales.id, sales.compile().targets("lead")
    ('new_business@1', ('proposal', 'lost'))

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import attrs
from babel.core import Locale, UnknownLocaleError

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.ids import check_id
from crmkit.kernel.time import ensure_aware
from crmkit.pipeline.events import PipelineDefined

if TYPE_CHECKING:
    from crmkit.pipeline._model import Opportunity

__all__ = [
    "Blocker",
    "ChecklistItem",
    "CompiledPipeline",
    "DEFAULT_LOST_REASONS",
    "ForecastCategory",
    "Guard",
    "GuardKind",
    "Migration",
    "Pipeline",
    "Predicate",
    "RequiredField",
    "Stage",
    "StageKind",
    "Transition",
]

#: A host-registered check, looked up by name: takes the opportunity, answers whether it holds.
Predicate = Callable[["Opportunity"], bool]

#: Why deals are lost when a pipeline does not say otherwise (reason codes; hosts translate).
DEFAULT_LOST_REASONS: Final[tuple[str, ...]] = (
    "price",
    "competitor",
    "no_budget",
    "no_decision",
    "timing",
    "other",
)

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,49}")
_PREDICATE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,99}")


class StageKind(StrEnum):
    """Whether a stage is still open, or closes the deal as won or lost.

    Example:
        >>> StageKind("won") is StageKind.WON
        True

    .. versionadded:: 0.1.0
    """

    OPEN = "open"
    WON = "won"
    LOST = "lost"


class ForecastCategory(StrEnum):
    """Which forecast bucket a stage's deals count in: pipeline, best case, commit or closed.

    Won and lost stages are ``closed``; open stages are one of the other three.

    Example:
        >>> ForecastCategory("best_case").value
        'best_case'

    .. versionadded:: 0.1.0
    """

    PIPELINE = "pipeline"
    BEST_CASE = "best_case"
    COMMIT = "commit"
    CLOSED = "closed"


class RequiredField(StrEnum):
    """A field a guard can require: set amount, close date, a decision-maker contact...

    ``amount`` means an amount above zero; ``decision_maker`` a contact with that role.

    Example:
        >>> RequiredField("close_date").value
        'close_date'

    .. versionadded:: 0.1.0
    """

    AMOUNT = "amount"
    CLOSE_DATE = "close_date"
    DECISION_MAKER = "decision_maker"
    CONTACT = "contact"
    OWNER = "owner"
    NEXT_STEP = "next_step"


class GuardKind(StrEnum):
    """What a guard checks: a required ``field``, a ``checklist`` item, or a named ``predicate``.

    Example:
        >>> GuardKind("predicate") is GuardKind.PREDICATE
        True

    .. versionadded:: 0.1.0
    """

    FIELD = "field"
    CHECKLIST = "checklist"
    PREDICATE = "predicate"


#: What a sales rep reads for each unmet required field ("Still needed: an amount, ...").
_FIELD_TEXT: Final[Mapping[str, str]] = {
    RequiredField.AMOUNT: "an amount",
    RequiredField.CLOSE_DATE: "an expected close date",
    RequiredField.DECISION_MAKER: "a decision-maker contact",
    RequiredField.CONTACT: "at least one contact",
    RequiredField.OWNER: "an owner",
    RequiredField.NEXT_STEP: "a next step",
}


# ----- converters ------------------------------------------------------------------------------


def _stage_kind(value: object) -> StageKind:
    return v.to_enum(StageKind, "kind")(value)


def _category(value: object) -> ForecastCategory:
    return v.to_enum(ForecastCategory, "forecast_category")(value)


def _guard_kind(value: object) -> GuardKind:
    return v.to_enum(GuardKind, "kind")(value)


def _tuple_of(cls: type, field: str) -> Callable[[object], tuple[Any, ...]]:
    def convert(value: object) -> tuple[Any, ...]:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise ValidationError(
                f"must be a list of {cls.__name__}, not {type(value).__name__}", path=field
            )
        items = tuple(value)
        for i, item in enumerate(items):
            if not isinstance(item, cls):
                raise ValidationError(
                    f"must be {cls.__name__}, not {type(item).__name__}", path=f"{field}[{i}]"
                )
        return items

    return convert


def _text_list(field: str) -> Callable[[object], tuple[str, ...]]:
    def convert(value: object) -> tuple[str, ...]:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise ValidationError(f"must be a list of text, not {type(value).__name__}", path=field)
        items = tuple(value)
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise ValidationError(
                    f"must be text, not {type(item).__name__}", path=f"{field}[{i}]"
                )
        return items

    return convert


def _checklist_items(value: object) -> tuple[ChecklistItem, ...]:
    return _tuple_of(ChecklistItem, "checklist")(value)


def _guards(value: object) -> tuple[Guard, ...]:
    return _tuple_of(Guard, "guards")(value)


def _stages(value: object) -> tuple[Stage, ...]:
    return _tuple_of(Stage, "stages")(value)


def _transitions(value: object) -> tuple[Transition, ...]:
    return _tuple_of(Transition, "transitions")(value)


def _lost_reasons(value: object) -> tuple[str, ...]:
    return _text_list("lost_reasons")(value)


def _won_reasons(value: object) -> tuple[str, ...]:
    return _text_list("won_reasons")(value)


@functools.lru_cache(maxsize=256)
def _locale_id(value: str) -> str:
    return str(Locale.parse(value.strip().replace("-", "_")))


def _labels(value: object) -> dict[str, str]:
    """Translations of a label keyed by babel locale id (``zh-TW`` is stored as ``zh_Hant_TW``)."""
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"must be a mapping of locale to text, not {type(value).__name__}", path="labels"
        )
    found: dict[str, str] = {}
    for key, text in value.items():
        if not isinstance(key, str):
            raise ValidationError(f"must be a locale id, not {type(key).__name__}", path="labels")
        try:
            locale = _locale_id(key)
        except (UnknownLocaleError, ValueError):
            raise ValidationError(
                f"{key!r} is not a known locale (e.g. 'en', 'zh_Hant_TW', 'zh_Hans_CN')",
                path=f"labels.{key}",
            ) from None
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("must be non-empty text", path=f"labels.{key}")
        found[locale] = text.strip()
    return found


@functools.lru_cache(maxsize=256)
def _locale_chain(locale: str) -> tuple[str, ...]:
    """``zh_Hant_TW`` -> ``("zh_Hant_TW", "zh_Hant", "zh")``; an unknown locale gives ``()``."""
    try:
        parts = _locale_id(locale).split("_")
    except (UnknownLocaleError, ValueError):
        return ()
    return tuple("_".join(parts[:n]) for n in range(len(parts), 0, -1))


def _translate(default: str, labels: Mapping[str, str], locale: str | None) -> str:
    if locale is None or not labels:
        return default
    for candidate in _locale_chain(str(locale)):
        text = labels.get(candidate)
        if text is not None:
            return text
    return default


def _optional_days(_instance: object, attribute: attrs.Attribute[int | None], value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValidationError(
            f"must be a whole number of days or None, not {type(value).__name__}",
            path=attribute.name,
        )


def _int(_instance: object, attribute: attrs.Attribute[int], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"must be an int, not {type(value).__name__}", path=attribute.name)


# ----- the parts of a definition ---------------------------------------------------------------


@attrs.frozen
class Guard:
    """One condition a deal must meet to take a transition or enter a stage.

    Build guards with :meth:`requires` (a :class:`RequiredField`), :meth:`checklist` (an SOP
    checklist item's key) or :meth:`predicate` (a name the host registers with a function). The
    optional ``message`` is what a sales rep reads when the guard is not met.

    Example:
        >>> Guard.requires("close_date")
        Guard(kind=<GuardKind.FIELD: 'field'>, name='close_date', message=None)
        >>> Guard.predicate("has_approved_quote", "an approved quote").message
        'an approved quote'

    .. versionadded:: 0.1.0
    """

    kind: GuardKind = attrs.field(converter=_guard_kind)
    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    message: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(200)
    )

    @classmethod
    def requires(cls, field: RequiredField | str, message: str | None = None) -> Guard:
        """A guard met when ``field`` is set (``amount``, ``close_date``, ``decision_maker``...).

        Example:
            >>> Guard.requires("amount").kind.value
            'field'
        """
        return cls(GuardKind.FIELD, field, message)

    @classmethod
    def checklist(cls, item: str, message: str | None = None) -> Guard:
        """A guard met when the checklist item ``item`` (its key) is ticked.

        Example:
            >>> Guard.checklist("budget_confirmed").name
            'budget_confirmed'
        """
        return cls(GuardKind.CHECKLIST, item, message)

    @classmethod
    def predicate(cls, name: str, message: str | None = None) -> Guard:
        """A guard met when the host's predicate registered as ``name`` returns true.

        Example:
            >>> Guard.predicate("has_approved_quote").kind.value
            'predicate'
        """
        return cls(GuardKind.PREDICATE, name, message)


@attrs.frozen
class ChecklistItem:
    """One step of a stage's SOP checklist: a key guards refer to, and a label reps read.

    Example:
        >>> item = ChecklistItem("budget_confirmed", "Budget confirmed",
        ...                      labels={"zh-TW": "預算已確認"})
        >>> item.label_for("zh_Hant_TW"), item.label_for("fr")
        ('預算已確認', 'Budget confirmed')

    .. versionadded:: 0.1.0
    """

    key: str = attrs.field(validator=v.text(50))
    label: str = attrs.field(converter=v.strip, validator=v.text(200))
    labels: dict[str, str] = attrs.field(factory=dict, converter=_labels, hash=False, kw_only=True)

    def label_for(self, locale: str | None) -> str:
        """The label in ``locale`` (falling back ``zh_Hant_TW`` -> ``zh_Hant`` -> ``zh``).

        Example:
            >>> ChecklistItem("demo", "Demo done").label_for(None)
            'Demo done'
        """
        return _translate(self.label, self.labels, locale)


def _default_category(stage: Stage) -> ForecastCategory:
    return ForecastCategory.PIPELINE if stage.kind is StageKind.OPEN else ForecastCategory.CLOSED


@attrs.frozen
class Stage:
    """One stage of a pipeline: key, label, win probability (0-100), kind and forecast category.

    ``checklist`` is the stage's SOP checklist; ``guards`` must hold before any deal *enters*
    the stage, whichever transition it takes; ``stall_after_days`` says when a deal sitting in
    the stage counts as stalled. ``forecast_category`` defaults to ``pipeline`` for open stages
    and ``closed`` for won and lost ones.

    Example:
        >>> s = Stage("negotiation", "Negotiation", 70, forecast_category="commit",
        ...           labels={"zh_Hant_TW": "議價"}, stall_after_days=14)
        >>> s.kind.value, s.label_for("zh-Hant-TW"), s.label_for("en")
        ('open', '議價', 'Negotiation')

    .. versionadded:: 0.1.0
    """

    key: str = attrs.field(validator=v.text(50))
    label: str = attrs.field(converter=v.strip, validator=v.text(200))
    probability: int = attrs.field(validator=_int)
    kind: StageKind = attrs.field(default=StageKind.OPEN, converter=_stage_kind, kw_only=True)
    forecast_category: ForecastCategory = attrs.field(
        default=attrs.Factory(_default_category, takes_self=True),
        converter=_category,
        kw_only=True,
    )
    labels: dict[str, str] = attrs.field(factory=dict, converter=_labels, hash=False, kw_only=True)
    checklist: tuple[ChecklistItem, ...] = attrs.field(
        default=(), converter=_checklist_items, kw_only=True
    )
    guards: tuple[Guard, ...] = attrs.field(default=(), converter=_guards, kw_only=True)
    stall_after_days: int | None = attrs.field(default=None, validator=_optional_days, kw_only=True)

    @property
    def is_open(self) -> bool:
        """Whether deals in this stage are still open (neither won nor lost).

        Example:
            >>> Stage("won", "Won", 100, kind="won").is_open
            False
        """
        return self.kind is StageKind.OPEN

    def label_for(self, locale: str | None) -> str:
        """The label in ``locale``, or the default ``label`` when there is no translation.

        Example:
            >>> Stage("lead", "Lead", 10).label_for("zh_Hans_CN")
            'Lead'
        """
        return _translate(self.label, self.labels, locale)


@attrs.frozen
class Transition:
    """A move the pipeline allows, from stage ``source`` to stage ``target``, and its guards.

    Example:
        >>> Transition("proposal", "negotiation", guards=[Guard.requires("decision_maker")])
        Transition(source='proposal', target='negotiation', guards=(Guard(...),))

    .. versionadded:: 0.1.0
    """

    source: str = attrs.field(validator=v.text(50))
    target: str = attrs.field(validator=v.text(50))
    guards: tuple[Guard, ...] = attrs.field(default=(), converter=_guards, kw_only=True)


@attrs.frozen
class Blocker:
    """One unmet condition of a move, in words a sales rep understands.

    ``kind`` is ``field``, ``checklist`` or ``predicate`` (an unmet guard), or ``reason`` (the
    move needs a reason: a lost reason, or why a closed deal is reopened). ``name`` is the
    guard's name (``amount``, ``budget_confirmed``, ``has_approved_quote``) or ``reason``.

    Example:
        >>> Blocker("field", "amount", "an amount").text
        'an amount'

    .. versionadded:: 0.1.0
    """

    kind: str
    name: str
    text: str


# ----- the pipeline ----------------------------------------------------------------------------


def _pipeline_id(pipeline: Pipeline) -> str:
    return Pipeline.id_for(pipeline.key, pipeline.revision)


class _RevisionIsFixed(attrs.exceptions.FrozenAttributeError):
    """attrs' frozen-attribute error, saying why and what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.msg = message
        self.args = (message,)


def _read_only(instance: Any, attribute: attrs.Attribute[Any], _value: Any) -> Any:
    raise _RevisionIsFixed(
        f"{type(instance).__name__}.{attribute.name} cannot be changed: a published pipeline "
        "revision is fixed; define a new revision instead"
    )


@attrs.define(kw_only=True)
class Pipeline(Aggregate):
    """A sales pipeline definition: one revision of it, stored as an aggregate.

    ``id`` is ``"<key>@<revision>"``. Stages are ordered (the first is where new deals start);
    ``transitions`` are the only moves allowed. ``lost_reasons`` is the list a lost deal's
    reason comes from (required when closing lost); ``won_reasons`` the optional list for won
    deals. ``inactive_after_days`` is how long without activity makes an open deal stalled.

    Building a pipeline checks it, and a broken one is refused with a
    :class:`~crmkit.errors.DefinitionError` listing every problem: stage keys unique, at least
    one won and one lost stage, probabilities 0-100 with won = 100 and lost = 0, every stage
    reachable from the first, every open stage able to reach a close, guards naming known
    fields and checklist items. Once built, its fields cannot be changed: a new definition is a
    new ``revision``.

    Example:
        >>> Pipeline(key="broken", name="Broken", stages=[Stage("a", "A", 150)],
        ...          transitions=[Transition("a", "b")])
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: pipeline 'broken' (revision 1) has 4 problems: stage 'a':
        probability must be 0-100, not 150; there is no won stage (kind 'won'); there is no lost
        stage (kind 'lost'); transition 'a' -> 'b': there is no stage 'b'

    .. versionadded:: 0.1.0
    """

    key: str = attrs.field(validator=v.text(50), on_setattr=_read_only)
    revision: int = attrs.field(default=1, validator=_int, on_setattr=_read_only)
    id: str = attrs.field(
        default=attrs.Factory(_pipeline_id, takes_self=True), on_setattr=_read_only
    )
    name: str = attrs.field(converter=v.strip, validator=v.text(200), on_setattr=_read_only)
    stages: tuple[Stage, ...] = attrs.field(converter=_stages, on_setattr=_read_only)
    transitions: tuple[Transition, ...] = attrs.field(converter=_transitions, on_setattr=_read_only)
    labels: dict[str, str] = attrs.field(factory=dict, converter=_labels, on_setattr=_read_only)
    lost_reasons: tuple[str, ...] = attrs.field(
        default=DEFAULT_LOST_REASONS, converter=_lost_reasons, on_setattr=_read_only
    )
    won_reasons: tuple[str, ...] = attrs.field(
        default=(), converter=_won_reasons, on_setattr=_read_only
    )
    inactive_after_days: int | None = attrs.field(
        default=None, validator=_optional_days, on_setattr=_read_only
    )
    _compiled: CompiledPipeline | None = attrs.field(init=False, default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            count = f"{len(problems)} problems" if len(problems) > 1 else "a problem"
            raise DefinitionError(
                f"pipeline {self.key!r} (revision {self.revision}) has {count}: "
                + "; ".join(problems),
                details={"key": self.key, "revision": self.revision, "problems": problems},
            )

    @staticmethod
    def id_for(key: str, revision: int) -> str:
        """The aggregate id of revision ``revision`` of pipeline ``key``.

        Example:
            >>> Pipeline.id_for("renewal", 3)
            'renewal@3'
        """
        return f"{key}@{revision}"

    @classmethod
    def define(cls, *, now: datetime, actor: str | None = None, **fields: Any) -> Pipeline:
        """Build (and check) a pipeline and record :class:`~crmkit.pipeline.events.PipelineDefined`.

        Example:
            >>> from datetime import datetime, timezone
            >>> p = Pipeline.define(now=datetime(2026, 1, 5, tzinfo=timezone.utc),
            ...     key="upsell", name="Upsell",
            ...     stages=[Stage("open", "Open", 30), Stage("won", "Won", 100, kind="won"),
            ...             Stage("lost", "Lost", 0, kind="lost")],
            ...     transitions=[Transition("open", "won"), Transition("open", "lost")])
            >>> [e.event_type for e in p.pending_events]
            ['pipeline.PipelineDefined']
        """
        ensure_aware(now, "now")
        if actor is not None:
            check_id(actor, "actor")
        pipeline = cls(**fields)
        pipeline.record(
            PipelineDefined(
                aggregate_id=pipeline.id,
                occurred_at=now,
                actor=actor,
                key=pipeline.key,
                revision=pipeline.revision,
                stages=tuple(s.key for s in pipeline.stages),
            )
        )
        return pipeline

    @property
    def initial_stage(self) -> Stage:
        """The first stage: where new deals start unless told otherwise.

        Example:
            >>> _example().initial_stage.key
            'lead'
        """
        return self.stages[0]

    def stage(self, key: str) -> Stage:
        """The stage with ``key``; a ``ValidationError`` naming the stages if there is none.

        Example:
            >>> _example().stage("won").probability
            100
        """
        return self.compile().stage(key)

    def label_for(self, locale: str | None) -> str:
        """The pipeline's name in ``locale``, or ``name`` when there is no translation.

        Example:
            >>> _example().label_for("en")
            'New business'
        """
        return _translate(self.name, self.labels, locale)

    def compile(self) -> CompiledPipeline:
        """The lookup tables moves run on (built once per pipeline object, then reused).

        Example:
            >>> p = _example()
            >>> p.compile() is p.compile()
            True
        """
        compiled = self._compiled
        if compiled is None:
            compiled = CompiledPipeline(self)
            object.__setattr__(self, "_compiled", compiled)
        return compiled

    def migration_to(self, new: Pipeline, stage_map: Mapping[str, str] | None = None) -> Migration:
        """Plan moving deals from this pipeline (revision) to ``new``: see :meth:`Migration.plan`.

        Example:
            >>> old = _example()
            >>> new = Pipeline(key=old.key, revision=2, name=old.name,
            ...     stages=[s for s in old.stages if s.key != "proposal"],
            ...     transitions=[Transition("lead", "won"), Transition("lead", "lost")])
            >>> old.migration_to(new, {"proposal": "lead"}).stage_map["proposal"]
            'lead'
        """
        return Migration.plan(self, new, stage_map)


def _example() -> Pipeline:
    """A small pipeline for the examples in this module's docstrings."""
    return Pipeline(
        key="new_business",
        name="New business",
        stages=[
            Stage("lead", "Lead", 10),
            Stage("proposal", "Proposal", 50),
            Stage("won", "Closed won", 100, kind="won"),
            Stage("lost", "Closed lost", 0, kind="lost"),
        ],
        transitions=[
            Transition("lead", "proposal"),
            Transition("proposal", "won"),
            Transition("lead", "lost"),
            Transition("proposal", "lost"),
            Transition("lost", "lead"),
        ],
    )


def _example_with_checklist() -> Pipeline:
    """:func:`_example` with an SOP checklist on the proposal stage, guarding the win."""
    base = _example()
    stages = list(base.stages)
    stages[1] = Stage(
        "proposal",
        "Proposal",
        50,
        checklist=[
            ChecklistItem("budget_confirmed", "Budget confirmed"),
            ChecklistItem("needs_analysis", "Needs analysis done"),
        ],
    )
    transitions = [
        Transition(t.source, t.target, guards=[Guard.checklist("budget_confirmed")])
        if (t.source, t.target) == ("proposal", "won")
        else t
        for t in base.transitions
    ]
    return Pipeline(key=base.key, name=base.name, stages=stages, transitions=transitions)


def _example_v2() -> Pipeline:
    """Revision 2 of :func:`_example`: the proposal stage is gone, leads close directly."""
    return Pipeline(
        key="new_business",
        revision=2,
        name="New business",
        stages=[
            Stage("lead", "Lead", 15),
            Stage("won", "Closed won", 100, kind="won"),
            Stage("lost", "Closed lost", 0, kind="lost"),
        ],
        transitions=[
            Transition("lead", "won"),
            Transition("lead", "lost"),
            Transition("lost", "lead"),
        ],
    )


def _example_renewal() -> Pipeline:
    """A renewal pipeline beside :func:`_example`."""
    return Pipeline(
        key="renewal",
        name="Renewal",
        stages=[
            Stage("review", "Account review", 60),
            Stage("renewed", "Renewed", 100, kind="won"),
            Stage("churned", "Churned", 0, kind="lost"),
        ],
        transitions=[Transition("review", "renewed"), Transition("review", "churned")],
        lost_reasons=["price", "moved_to_competitor", "closed_business"],
    )


# ----- validation ------------------------------------------------------------------------------


def _guard_problems(
    where: str, guards: tuple[Guard, ...], items: frozenset[str], problems: list[str]
) -> None:
    seen: set[tuple[GuardKind, str]] = set()
    for guard in guards:
        if (guard.kind, guard.name) in seen:
            problems.append(f"{where}: guard {guard.kind.value} {guard.name!r} is listed twice")
        seen.add((guard.kind, guard.name))
        if guard.kind is GuardKind.FIELD and guard.name not in _FIELD_TEXT:
            known = ", ".join(f.value for f in RequiredField)
            problems.append(
                f"{where}: guard requires unknown field {guard.name!r} (known fields: {known})"
            )
        elif guard.kind is GuardKind.CHECKLIST and guard.name not in items:
            known = ", ".join(sorted(items)) or "none are defined"
            problems.append(
                f"{where}: guard needs checklist item {guard.name!r}, which no stage defines "
                f"(checklist items: {known})"
            )
        elif guard.kind is GuardKind.PREDICATE and not _PREDICATE_NAME.fullmatch(guard.name):
            problems.append(
                f"{where}: predicate name {guard.name!r} must start with a letter or '_' and "
                "hold only letters, digits, '_', '.', ':' and '-'"
            )


def _reason_problems(field: str, reasons: tuple[str, ...], problems: list[str]) -> None:
    seen: set[str] = set()
    for reason in reasons:
        if not _KEY.fullmatch(reason):
            problems.append(
                f"{field}: {reason!r} is not a reason code (letters, digits, '_' and '-', "
                "at most 50)"
            )
        elif reason in seen:
            problems.append(f"{field}: {reason!r} is listed twice")
        seen.add(reason)


def _stage_problems(stage: Stage, items: frozenset[str], problems: list[str]) -> None:
    where = f"stage {stage.key!r}"
    if not _KEY.fullmatch(stage.key):
        problems.append(
            f"{where}: the key must be 1-50 letters, digits, '_' or '-', starting with a letter "
            "or digit"
        )
    if not 0 <= stage.probability <= 100:
        problems.append(f"{where}: probability must be 0-100, not {stage.probability}")
    elif stage.kind is StageKind.WON and stage.probability != 100:
        problems.append(f"{where}: a won stage must have probability 100, not {stage.probability}")
    elif stage.kind is StageKind.LOST and stage.probability != 0:
        problems.append(f"{where}: a lost stage must have probability 0, not {stage.probability}")
    closed = stage.forecast_category is ForecastCategory.CLOSED
    if stage.is_open and closed:
        problems.append(
            f"{where}: an open stage cannot be in forecast category 'closed' "
            "(use pipeline, best_case or commit)"
        )
    elif not stage.is_open and not closed:
        problems.append(
            f"{where}: a {stage.kind.value} stage must be in forecast category 'closed', "
            f"not {stage.forecast_category.value!r}"
        )
    keys: set[str] = set()
    for item in stage.checklist:
        if not _KEY.fullmatch(item.key):
            problems.append(
                f"{where}: checklist item key {item.key!r} must be letters, digits, '_' or '-'"
            )
        if item.key in keys:
            problems.append(f"{where}: checklist item {item.key!r} is listed twice")
        keys.add(item.key)
    _guard_problems(where, stage.guards, items, problems)
    if stage.stall_after_days is not None and stage.stall_after_days < 1:
        problems.append(
            f"{where}: stall_after_days must be at least 1, not {stage.stall_after_days}"
        )


def _graph_problems(pipeline: Pipeline, known: dict[str, Stage], problems: list[str]) -> None:
    items = frozenset(i.key for s in pipeline.stages for i in s.checklist)
    edges: dict[str, list[str]] = {key: [] for key in known}
    seen: set[tuple[str, str]] = set()
    for t in pipeline.transitions:
        where = f"transition {t.source!r} -> {t.target!r}"
        bad = [end for end in (t.source, t.target) if end not in known]
        for end in dict.fromkeys(bad):
            problems.append(f"{where}: there is no stage {end!r}")
        if t.source == t.target:
            problems.append(f"{where}: a transition must lead to another stage")
        elif (t.source, t.target) in seen:
            problems.append(f"{where}: is listed twice")
        elif not bad:
            edges[t.source].append(t.target)
        seen.add((t.source, t.target))
        _guard_problems(where, t.guards, items, problems)
    if not pipeline.stages:
        return
    first = pipeline.stages[0]
    reached = {first.key}
    todo = [first.key]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in reached:
                reached.add(nxt)
                todo.append(nxt)
    unreachable = [s.key for s in pipeline.stages if s.key not in reached]
    if unreachable:
        problems.append(
            f"stages {', '.join(map(repr, unreachable))} cannot be reached from the first stage "
            f"{first.key!r}; add transitions into them"
            if len(unreachable) > 1
            else f"stage {unreachable[0]!r} cannot be reached from the first stage "
            f"{first.key!r}; add a transition into it"
        )
    closing = {k for k, s in known.items() if not s.is_open}
    reverse: dict[str, list[str]] = {key: [] for key in known}
    for source, targets in edges.items():
        for target in targets:
            reverse[target].append(source)
    can_close = set(closing)
    todo = list(closing)
    while todo:
        for prev in reverse[todo.pop()]:
            if prev not in can_close:
                can_close.add(prev)
                todo.append(prev)
    stuck = [s.key for s in pipeline.stages if s.is_open and s.key not in can_close]
    if stuck and closing:
        problems.append(
            f"open stage{'s' if len(stuck) > 1 else ''} {', '.join(map(repr, stuck))} "
            "cannot lead to a won or lost stage; a deal there could never be closed"
        )


def _problems(pipeline: Pipeline) -> list[str]:
    problems: list[str] = []
    if not _KEY.fullmatch(pipeline.key):
        problems.append(
            f"key {pipeline.key!r} must be 1-50 letters, digits, '_' or '-', starting with a "
            "letter or digit"
        )
    if pipeline.revision < 1:
        problems.append(f"revision must be 1 or more, not {pipeline.revision}")
    expected_id = Pipeline.id_for(pipeline.key, pipeline.revision)
    if pipeline.id != expected_id:
        problems.append(f"id must be {expected_id!r} (key@revision), not {pipeline.id!r}")
    known: dict[str, Stage] = {}
    items = frozenset(i.key for s in pipeline.stages for i in s.checklist)
    for stage in pipeline.stages:
        if stage.key in known:
            problems.append(f"stage {stage.key!r} is listed twice")
        known.setdefault(stage.key, stage)
        _stage_problems(stage, items, problems)
    kinds = {s.kind for s in pipeline.stages}
    if pipeline.stages and not pipeline.stages[0].is_open:
        problems.append(
            f"the first stage {pipeline.stages[0].key!r} is where deals start: it must be open, "
            f"not {pipeline.stages[0].kind.value}"
        )
    if StageKind.WON not in kinds:
        problems.append("there is no won stage (kind 'won')")
    if StageKind.LOST not in kinds:
        problems.append("there is no lost stage (kind 'lost')")
    _graph_problems(pipeline, known, problems)
    if not pipeline.lost_reasons:
        problems.append("lost_reasons must list at least one reason a deal can be lost for")
    _reason_problems("lost_reasons", pipeline.lost_reasons, problems)
    _reason_problems("won_reasons", pipeline.won_reasons, problems)
    if pipeline.inactive_after_days is not None and pipeline.inactive_after_days < 1:
        problems.append(
            f"inactive_after_days must be at least 1, not {pipeline.inactive_after_days}"
        )
    return problems


# ----- migrations ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Migration:
    """How deals move from one pipeline (revision) to another: every old stage's new stage.

    Build one with :meth:`plan` (or :meth:`Pipeline.migration_to`), which refuses a plan that
    leaves a stage without a mapping. Stages present in both keep their key unless mapped;
    a stage maps to one of the same kind (open deals stay open, won stay won).

    Example:
        >>> from crmkit.pipeline.definition import _example
        >>> old = _example()
        >>> new = Pipeline(key=old.key, revision=2, name=old.name,
        ...     stages=[Stage("lead", "Lead", 10), Stage("won", "Won", 100, kind="won"),
        ...             Stage("lost", "Lost", 0, kind="lost")],
        ...     transitions=[Transition("lead", "won"), Transition("lead", "lost")])
        >>> Migration.plan(old, new)
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: cannot migrate 'new_business@1' to 'new_business@2': ...
        >>> Migration.plan(old, new, {"proposal": "lead"}).stage_map
        {'lead': 'lead', 'proposal': 'lead', 'won': 'won', 'lost': 'lost'}

    .. versionadded:: 0.1.0
    """

    source_key: str
    source_revision: int
    target_key: str
    target_revision: int
    stage_map: dict[str, str] = attrs.field(hash=False)

    @classmethod
    def plan(
        cls, old: Pipeline, new: Pipeline, stage_map: Mapping[str, str] | None = None
    ) -> Migration:
        """Check ``stage_map`` (old stage -> new stage) and complete it with unchanged keys.

        Raises a ``DefinitionError`` listing every stage without a mapping, every mapping to or
        from a stage that does not exist, and every mapping that changes a stage's kind.

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> Migration.plan(_example(), _example(), {}).stage_map["won"]
            'won'
        """
        stage_map = {} if stage_map is None else stage_map
        if not isinstance(stage_map, Mapping):
            raise ValidationError(
                f"must be a mapping of old stage to new stage, not {type(stage_map).__name__}",
                path="stage_map",
            )
        old_stages = {s.key: s for s in old.stages}
        new_stages = {s.key: s for s in new.stages}
        problems: list[str] = []
        for source, wanted in stage_map.items():
            if type(source) is not str or type(wanted) is not str:
                raise ValidationError(
                    f"must map stage keys to stage keys, not {source!r} to {wanted!r}",
                    path="stage_map",
                )
            if source not in old_stages:
                problems.append(f"{source!r} is not a stage of {old.id!r}")
            if wanted not in new_stages:
                problems.append(f"{wanted!r} (mapped from {source!r}) is not a stage of {new.id!r}")
        full: dict[str, str] = {}
        for key, stage in old_stages.items():
            mapped_to = stage_map.get(key)
            target = mapped_to if mapped_to is not None else key if key in new_stages else None
            if target is None:
                problems.append(
                    f"stage {key!r} does not exist in {new.id!r}: map it to one of "
                    + ", ".join(s.key for s in new.stages if s.kind is stage.kind)
                )
                continue
            mapped = new_stages.get(target)
            if mapped is not None and mapped.kind is not stage.kind:
                problems.append(
                    f"stage {key!r} is {stage.kind.value} but {target!r} is "
                    f"{mapped.kind.value}: map it to a stage of the same kind"
                )
            full[key] = target
        if (old.key, old.revision) == (new.key, new.revision):
            skipped = [f"{k!r} -> {t!r}" for k, t in full.items() if k != t]
            if skipped:
                problems.append(
                    f"a migration within {old.id!r} cannot move stages ({', '.join(skipped)}); "
                    "deals change stage by moves, whose guards apply"
                )
        if problems:
            raise DefinitionError(
                f"cannot migrate {old.id!r} to {new.id!r}: " + "; ".join(problems),
                details={"source": old.id, "target": new.id, "problems": problems},
            )
        return cls(
            source_key=old.key,
            source_revision=old.revision,
            target_key=new.key,
            target_revision=new.revision,
            stage_map=full,
        )


# ----- the compiled form -----------------------------------------------------------------------


def _has_amount(opp: Any, _predicates: Any) -> bool:
    amount = opp.amount
    return amount is not None and amount.amount > 0


def _has_close_date(opp: Any, _predicates: Any) -> bool:
    return opp.expected_close_date is not None


def _has_decision_maker(opp: Any, _predicates: Any) -> bool:
    return any(c.role == "decision_maker" for c in opp.contacts)


def _has_contact(opp: Any, _predicates: Any) -> bool:
    return bool(opp.contacts)


def _has_owner(opp: Any, _predicates: Any) -> bool:
    return opp.owner is not None


def _has_next_step(opp: Any, _predicates: Any) -> bool:
    return opp.next_step is not None


_FIELD_CHECKS: Final[Mapping[str, Callable[[Any, Any], bool]]] = {
    RequiredField.AMOUNT: _has_amount,
    RequiredField.CLOSE_DATE: _has_close_date,
    RequiredField.DECISION_MAKER: _has_decision_maker,
    RequiredField.CONTACT: _has_contact,
    RequiredField.OWNER: _has_owner,
    RequiredField.NEXT_STEP: _has_next_step,
}


def _ticked(item: str) -> Callable[[Any, Any], bool]:
    def check(opp: Any, _predicates: Any) -> bool:
        return item in opp.checklist

    return check


def _registered(name: str, pipeline_id: str) -> Callable[[Any, Any], bool]:
    def check(opp: Any, predicates: Mapping[str, Predicate] | None) -> bool:
        if predicates is not None and not isinstance(predicates, Mapping):
            raise ValidationError(
                f"must be a mapping of predicate name to function, not {type(predicates).__name__}",
                path="predicates",
            )
        fn = None if predicates is None else predicates.get(name)
        if fn is None:
            known = ", ".join(sorted(predicates or ())) or "none"
            raise DefinitionError(
                f"pipeline {pipeline_id!r} has a guard on predicate {name!r}, which the host did "
                f"not register (registered: {known}); pass predicates={{{name!r}: ...}}",
                details={"pipeline": pipeline_id, "predicate": name},
            )
        return bool(fn(opp))

    return check


def _humanize(name: str) -> str:
    return name.replace("_", " ").replace("-", " ")


class _Edge:
    """One compiled transition: the target's derived values and the guard checks to run."""

    __slots__ = (
        "bits",
        "category",
        "checks",
        "closes",
        "guarded",
        "kind",
        "needs_reason",
        "probability",
        "reasons",
        "reopens",
        "source",
        "target",
    )

    def __init__(
        self,
        source: Stage,
        target: Stage,
        checks: tuple[tuple[Callable[[Any, Any], bool], Blocker], ...],
        reasons: tuple[str, ...] | None,
    ) -> None:
        self.source = source.key
        self.target = target.key
        self.kind = target.kind
        self.category = target.forecast_category
        self.probability = target.probability
        self.closes = not target.is_open
        self.reopens = not source.is_open and target.is_open
        self.needs_reason = target.kind is StageKind.LOST or self.reopens
        # How a captured move to a closed stage is packed (see Opportunity's deferred events).
        self.bits = 128 | {StageKind.OPEN: 0, StageKind.WON: 101, StageKind.LOST: 102}[target.kind]
        self.reasons = reasons
        self.checks = checks
        self.guarded = bool(checks) or self.needs_reason


_NO_EDGES: Final[dict[str, _Edge]] = {}


class CompiledPipeline:
    """A pipeline turned into lookup tables: what moves run on. Build it with ``compile()``.

    Example:
        >>> from crmkit.pipeline.definition import _example
        >>> compiled = _example().compile()
        >>> compiled.id, compiled.targets("proposal"), compiled.stage("proposal").probability
        ('new_business@1', ('won', 'lost'), 50)

    .. versionadded:: 0.1.0
    """

    __slots__ = ("edges", "id", "initial", "key", "pipeline", "revision", "stages")

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.id = pipeline.id
        self.key = pipeline.key
        self.revision = pipeline.revision
        self.stages: dict[str, Stage] = {s.key: s for s in pipeline.stages}
        self.initial = pipeline.stages[0]
        items = {i.key: i for s in pipeline.stages for i in s.checklist}
        edges: dict[str, dict[str, _Edge]] = {s.key: {} for s in pipeline.stages}
        lost = pipeline.lost_reasons
        won = pipeline.won_reasons
        for t in pipeline.transitions:
            source, target = self.stages[t.source], self.stages[t.target]
            checks: dict[tuple[GuardKind, str], tuple[Callable[[Any, Any], bool], Blocker]] = {}
            for guard in (*t.guards, *target.guards):
                if (guard.kind, guard.name) in checks:
                    continue
                if guard.kind is GuardKind.FIELD:
                    fn = _FIELD_CHECKS[guard.name]
                    text = guard.message or _FIELD_TEXT[guard.name]
                elif guard.kind is GuardKind.CHECKLIST:
                    fn = _ticked(guard.name)
                    text = guard.message or f'the checklist item "{items[guard.name].label}"'
                else:
                    fn = _registered(guard.name, pipeline.id)
                    text = guard.message or _humanize(guard.name)
                checks[(guard.kind, guard.name)] = (
                    fn,
                    Blocker(guard.kind.value, guard.name, text),
                )
            reasons = (
                lost
                if target.kind is StageKind.LOST
                else won
                if target.kind is StageKind.WON and won
                else None
            )
            edges[t.source][t.target] = _Edge(source, target, tuple(checks.values()), reasons)
        self.edges = edges

    def stage(self, key: str) -> Stage:
        """The stage with ``key``; a ``ValidationError`` naming the stages if there is none.

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> _example().compile().stage("nope")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: stage: pipeline 'new_business@1' has no stage 'nope';
            its stages are lead, proposal, won, lost
        """
        found = self.stages.get(key) if type(key) is str else None
        if found is None:
            raise ValidationError(
                f"pipeline {self.id!r} has no stage {key!r}; its stages are "
                + ", ".join(self.stages),
                path="stage",
            )
        return found

    def targets(self, source: str) -> tuple[str, ...]:
        """The stages a deal in ``source`` may move to, in the order transitions are defined.

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> _example().compile().targets("lost")
            ('lead',)
        """
        self.stage(source)
        return tuple(self.edges[source])

    def allows(self, source: str, target: str) -> bool:
        """Whether a transition from ``source`` to ``target`` is defined (guards aside).

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> c = _example().compile()
            >>> c.allows("lead", "proposal"), c.allows("lead", "won")
            (True, False)
        """
        return target in self.edges.get(source, _NO_EDGES)
