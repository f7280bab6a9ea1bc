"""Opportunity: a deal moving through a pipeline, its guarded moves and its stage history."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final, TypeVar, cast
from zoneinfo import ZoneInfo

import attrs

from crmkit.errors import FieldError, RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money
from crmkit.kernel.time import ensure_aware, validate_aware
from crmkit.pipeline.definition import (
    _KEY,
    Blocker,
    CompiledPipeline,
    ForecastCategory,
    Migration,
    Pipeline,
    Predicate,
    Stage,
    StageKind,
    _Edge,
)
from crmkit.pipeline.events import (
    OpportunityActivityRecorded,
    OpportunityAmountChanged,
    OpportunityChecklistChanged,
    OpportunityCloseDateChanged,
    OpportunityContactsChanged,
    OpportunityNextStepSet,
    OpportunityOpened,
    OpportunityOwnerAssigned,
    OpportunityPipelineChanged,
    OpportunityProbabilityChanged,
    OpportunityStageChanged,
)

__all__ = [
    "ContactRole",
    "Opportunity",
    "OpportunityContact",
    "StageChange",
    "move_many",
]

_OPEN: Final = StageKind.OPEN
_WON: Final = StageKind.WON
_LOST: Final = StageKind.LOST


class ContactRole(StrEnum):
    """The part a contact plays in a deal (the buying committee).

    A guard requiring ``decision_maker`` is met by a contact with the ``decision_maker`` role.

    Example:
        >>> ContactRole("champion").value
        'champion'

    .. versionadded:: 0.1.0
    """

    DECISION_MAKER = "decision_maker"
    ECONOMIC_BUYER = "economic_buyer"
    CHAMPION = "champion"
    INFLUENCER = "influencer"
    TECHNICAL_EVALUATOR = "technical_evaluator"
    USER = "user"
    OTHER = "other"


def _id_field(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    check_id(value, attribute.name)


def _optional_id(_instance: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _role(value: object) -> ContactRole:
    return v.to_enum(ContactRole, "role")(value)


@attrs.frozen
class OpportunityContact:
    """A contact (by id, from the customers context) and the role they play in this deal.

    Example:
        >>> OpportunityContact("con_1", "decision_maker").role
        <ContactRole.DECISION_MAKER: 'decision_maker'>

    .. versionadded:: 0.1.0
    """

    contact_id: str = attrs.field(validator=_id_field)
    role: ContactRole = attrs.field(default=ContactRole.OTHER, converter=_role)


def _change_order(instance: StageChange, _attribute: object, value: datetime) -> None:
    if value < instance.entered_at:
        raise ValidationError(
            f"must not be before entered_at ({instance.entered_at.isoformat()}), "
            f"got {value.isoformat()}",
            path="at",
        )


@attrs.define(on_setattr=attrs.setters.NO_OP)
class StageChange:
    """One entry of an opportunity's stage history: from, to, when, by whom, time in stage.

    ``entered_at`` is when the deal entered ``source``, so :attr:`time_in_stage` is how long it
    stayed there. ``reason`` is the lost or won reason code, or why a closed deal was reopened.
    ``pipeline`` is set when the change came with a move to another pipeline (or revision): the
    new pipeline's id.

    Entries are values: the history only ever grows by :meth:`Opportunity.move` (and pipeline
    changes), and nothing changes an entry once it is written.

    Example:
        >>> from datetime import datetime, timezone
        >>> c = StageChange("lead", "proposal", at=datetime(2026, 3, 9, tzinfo=timezone.utc),
        ...                 entered_at=datetime(2026, 3, 2, tzinfo=timezone.utc), by="u_amy")
        >>> c.time_in_stage.days
        7

    .. versionadded:: 0.1.0
    """

    source: str = attrs.field(validator=v.text(50))
    target: str = attrs.field(validator=v.text(50))
    at: datetime = attrs.field(validator=[validate_aware, _change_order], kw_only=True)
    entered_at: datetime = attrs.field(validator=validate_aware, kw_only=True)
    by: str | None = attrs.field(default=None, validator=_optional_id, kw_only=True)
    reason: str | None = attrs.field(default=None, validator=v.optional_text(200), kw_only=True)
    pipeline: str | None = attrs.field(default=None, validator=v.optional_text(64), kw_only=True)

    @property
    def time_in_stage(self) -> timedelta:
        """How long the deal stayed in ``source`` before this change.

        Example:
            >>> from datetime import datetime, timezone
            >>> t = datetime(2026, 3, 2, tzinfo=timezone.utc)
            >>> StageChange("a", "b", at=t, entered_at=t).time_in_stage
            datetime.timedelta(0)
        """
        return self.at - self.entered_at


_new = object.__new__


def _stage_change(
    source: str,
    target: str,
    at: datetime,
    entered_at: datetime,
    by: str | None,
    reason: str | None,
    pipeline: str | None = None,
) -> StageChange:
    """Build a history entry from values already checked (no validators run again)."""
    change: StageChange = _new(StageChange)
    change.source = source
    change.target = target
    change.at = at
    change.entered_at = entered_at
    change.by = by
    change.reason = reason
    change.pipeline = pipeline
    return change


# ----- cheap checks for the hot path -----------------------------------------------------------

_AWARE_ZONES: Final = (timezone, ZoneInfo)
_known_actors: set[str] = set()


def _check_now(now: object) -> datetime:
    """``ensure_aware`` with a fast path for the zone types that always have an offset."""
    if type(now) is datetime and type(now.tzinfo) in _AWARE_ZONES:
        return now
    return ensure_aware(now, "now")


def _check_by(by: object) -> None:
    if by is None or (type(by) is str and by in _known_actors):
        return
    check_id(by, "by")
    if len(_known_actors) > 4096:
        _known_actors.clear()
    _known_actors.add(by)  # type: ignore[arg-type]  # check_id proved it is a str


def _optional_text(value: object, max_length: int, path: str) -> str | None:
    """Strip ``value``; empty becomes ``None``; refuse what ``v.text`` refuses."""
    cleaned = v.strip_optional(value)
    if cleaned is not None:
        v.text(max_length)(None, _Named(path), cleaned)
    return cleaned  # type: ignore[return-value]


@attrs.frozen
class _Named:
    name: str


def _sentence(parts: Sequence[str], last: str = "and") -> str:
    if len(parts) == 1:
        return parts[0]
    return f"{', '.join(parts[:-1])} {last} {parts[-1]}"


def _humanize(code: str) -> str:
    return code.replace("_", " ").replace("-", " ")


def _compiled(pipeline: Pipeline | CompiledPipeline) -> CompiledPipeline:
    if type(pipeline) is CompiledPipeline:
        return pipeline
    if isinstance(pipeline, Pipeline):
        return pipeline.compile()
    raise ValidationError(
        f"must be a Pipeline or a CompiledPipeline, not {type(pipeline).__name__}",
        path="pipeline",
    )


# ----- deferred events ------------------------------------------------------------------------
#
# open() and move() capture their event without building it: a validated, frozen DomainEvent
# with a fresh uuid costs several times a whole move, and every object a move keeps alive makes
# the garbage collector's work grow. The data an event needs is already on the opportunity: the
# last moves are the last history entries, and what they do not hold (the kind of stage each
# move led to and the probability after it) is packed, one byte a move, in one int: a marker
# bit (128) and the probability (0-100) after a move to an open stage, or 101 for won, 102 for
# lost (their probability is fixed). The events are built when someone reads them (the unit of
# work, at commit). Every other change builds the captured events first, so they describe the
# deal as it was when it moved, in order.

_CAPTURED_KIND: Final[Mapping[int, str]] = {101: "won", 102: "lost"}
_CAPTURED_PROBABILITY: Final[Mapping[int, int]] = {101: 100, 102: 0}

_NOT_PENDING: Final = object()
E = TypeVar("E", bound=DomainEvent)

# A deal with no pending events shares this empty tuple instead of the list the aggregate base
# gives each aggregate (56 bytes, a tenth of a deal's footprint); its first event gets a list.
_NO_EVENTS: Final = cast("list[DomainEvent]", ())


def _slot_setter(cls: type, name: str) -> Callable[[object, object], None]:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            setter: Callable[[object, object], None] = klass.__dict__[name].__set__
            return setter
    raise AssertionError(f"{cls.__name__} has no slot {name!r}")  # pragma: no cover


def _event_builder(cls: type[E]) -> Callable[..., E]:
    """Build a frozen event from keyword values already checked, skipping its validators.

    The builder is generated once per class, as attrs generates ``__init__``: one slot write per
    field, every field required by name (a test builds each event both ways and compares).
    """
    names = [a.name for a in attrs.fields(cls)]
    scope: dict[str, Any] = {"_new": _new, "_cls": cls}
    lines = [f"def build(*, {', '.join(names)}):", "    event = _new(_cls)"]
    for i, name in enumerate(names):
        scope[f"_set{i}"] = _slot_setter(cls, name)
        lines.append(f"    _set{i}(event, {name})")
    lines.append("    return event")
    exec("\n".join(lines), scope)  # noqa: S102 - code made from the class's own field names
    build: Callable[..., E] = scope["build"]
    return build


def _event_id() -> str:
    """A random UUID4 in hex, like the kernel's default but without ``uuid.UUID``'s checks."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    return raw.hex()


_build_opened = _event_builder(OpportunityOpened)
_build_moved = _event_builder(OpportunityStageChanged)


# ----- the aggregate -----------------------------------------------------------------------------


def _same_time(_self: Opportunity) -> datetime:
    return _self.created_at


def _entered_time(_self: Opportunity) -> datetime:
    return _self.stage_entered_at


@attrs.define(kw_only=True, on_setattr=attrs.setters.NO_OP)
class Opportunity(Aggregate):
    """A deal: a customer, an amount, a close date, and where it stands in a pipeline.

    Open one with :meth:`open` and change it only through its methods; they check the rules
    and record events (fields are public for reading). :meth:`move` takes a deal along a
    transition its pipeline defines, once every guard holds; otherwise it raises a
    :class:`~crmkit.errors.RuleViolation` listing everything still needed. Each move appends a
    :class:`StageChange` to the append-only ``history``.

    Derived fields follow the stage: ``stage_kind``, ``forecast_category`` and ``probability``
    (the stage's, unless a rep set ``probability_override``; an override survives moves
    between open stages until cleared, and closing the deal clears it: won is 100, lost 0).
    A won deal's amount is locked until the deal is reopened. Lost deals carry a
    ``close_reason`` from the pipeline's ``lost_reasons``.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> from crmkit.kernel.money import Money
        >>> from crmkit.pipeline.definition import _example
        >>> sales = _example()
        >>> now = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
        >>> deal = Opportunity.open(id="opp_1", customer_id="cus_1", name="Acme: 20 seats",
        ...     pipeline=sales, now=now, owner="u_amy", amount=Money("120000", "TWD"))
        >>> deal.stage, deal.probability
        ('lead', 10)
        >>> change = deal.move("proposal", pipeline=sales, now=now + timedelta(days=3), by="u_amy")
        >>> deal.stage, deal.probability, change.time_in_stage.days
        ('proposal', 50, 3)
        >>> [e.event_type for e in deal.pending_events]
        ['pipeline.OpportunityOpened', 'pipeline.OpportunityStageChanged']

    .. versionadded:: 0.1.0
    """

    customer_id: str
    name: str
    pipeline_key: str
    pipeline_revision: int
    stage: str
    stage_kind: StageKind
    forecast_category: ForecastCategory
    probability: int
    created_at: datetime
    stage_entered_at: datetime = attrs.field(default=attrs.Factory(_same_time, takes_self=True))
    last_activity_at: datetime = attrs.field(default=attrs.Factory(_entered_time, takes_self=True))
    probability_override: int | None = None
    owner: str | None = None
    amount: Money | None = None
    expected_close_date: date | None = None
    contacts: tuple[OpportunityContact, ...] = ()
    checklist: tuple[str, ...] = ()
    next_step: str | None = None
    close_reason: str | None = None
    closed_at: datetime | None = None
    history: tuple[StageChange, ...] = ()
    # Captured events (see "deferred events" above): the aggregate version they belong to
    # (0: none), the packed kind and probability of each captured move, and who opened the
    # deal while its OpportunityOpened is captured.
    _lazy_version: int = attrs.field(init=False, default=0, eq=False, repr=False)
    _lazy_moves: int = attrs.field(init=False, default=0, eq=False, repr=False)
    _lazy_opened: Any = attrs.field(init=False, default=_NOT_PENDING, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not _looks_valid(self):
            errors = _problems(self)
            if errors:
                raise ValidationError(errors=errors)
        if not self._events:
            self._events = _NO_EVENTS

    # ----- creation ------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        id: str,
        customer_id: str,
        name: str,
        pipeline: Pipeline | CompiledPipeline,
        now: datetime,
        owner: str | None = None,
        amount: Money | None = None,
        expected_close_date: date | None = None,
        contacts: Iterable[OpportunityContact] = (),
        next_step: str | None = None,
        by: str | None = None,
    ) -> Opportunity:
        """Open a deal in the first stage of ``pipeline`` and record ``OpportunityOpened``.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.pipeline.definition import _example
            >>> deal = Opportunity.open(id="opp_1", customer_id="cus_1", name="Renewal 2026",
            ...     pipeline=_example(), now=datetime(2026, 3, 2, tzinfo=timezone.utc))
            >>> deal.stage, deal.stage_kind.value, deal.forecast_category.value, deal.history
            ('lead', 'open', 'pipeline', ())
        """
        compiled = _compiled(pipeline)
        now = _check_now(now)
        _check_by(by)
        first = compiled.initial
        if type(contacts) is not tuple:
            contacts = _contacts(contacts)
        # What the caller gave is checked here; what comes from the compiled pipeline is valid
        # already. The fields are written directly (the same ones __init__ writes; a test
        # proves both paths build equal deals), then one pass checks the caller's values.
        opp: Opportunity = _new(cls)
        opp.id = id
        opp.version = 0
        opp._events = _NO_EVENTS
        opp.customer_id = customer_id
        opp.name = name
        opp.pipeline_key = compiled.key
        opp.pipeline_revision = compiled.revision
        opp.stage = first.key
        opp.stage_kind = first.kind
        opp.forecast_category = first.forecast_category
        opp.probability = first.probability
        opp.created_at = now
        opp.stage_entered_at = now
        opp.last_activity_at = now
        opp.probability_override = None
        opp.owner = owner
        opp.amount = amount
        opp.expected_close_date = expected_close_date
        opp.contacts = contacts
        opp.checklist = ()
        opp.next_step = next_step
        opp.close_reason = None
        opp.closed_at = None
        opp.history = ()
        opp._lazy_version = 1
        opp._lazy_moves = 0
        opp._lazy_opened = by
        if not _opened_valid(opp):
            errors = _problems(opp)
            if errors:
                raise ValidationError(errors=errors)
        return opp

    # ----- events --------------------------------------------------------------------------

    def _flush(self) -> None:
        """Build the captured events (see "deferred events") into the pending events."""
        version = self._lazy_version
        if not version:
            return
        self._lazy_version = 0
        packed, self._lazy_moves = self._lazy_moves, 0
        metas: list[int] = []
        while packed:
            metas.append(packed & 127)
            packed >>= 8
        metas.reverse()
        history = self.history
        moved = history[len(history) - len(metas) :] if metas else ()
        events = self._events
        if events is _NO_EVENTS:
            self._events = events = []
        opened_by, self._lazy_opened = self._lazy_opened, _NOT_PENDING
        if opened_by is not _NOT_PENDING:
            events.append(
                _build_opened(
                    event_id=_event_id(),
                    aggregate_id=self.id,
                    occurred_at=self.created_at,
                    actor=opened_by,
                    aggregate_version=version,
                    customer_id=self.customer_id,
                    name=self.name,
                    pipeline_key=self.pipeline_key,
                    pipeline_revision=self.pipeline_revision,
                    stage=moved[0].source if moved else self.stage,
                    owner=self.owner,
                    amount=self.amount,
                    expected_close_date=self.expected_close_date,
                )
            )
        for change, meta in zip(moved, metas, strict=False):
            events.append(
                _build_moved(
                    event_id=_event_id(),
                    aggregate_id=self.id,
                    occurred_at=change.at,
                    actor=change.by,
                    aggregate_version=version,
                    pipeline_key=self.pipeline_key,
                    source=change.source,
                    target=change.target,
                    stage_kind=_CAPTURED_KIND.get(meta, "open"),
                    probability=_CAPTURED_PROBABILITY.get(meta, meta),
                    entered_source_at=change.entered_at,
                    reason=change.reason,
                )
            )

    def record(self, event: DomainEvent) -> None:
        """Append ``event`` to the pending events, after those captured by earlier moves.

        Moves and :meth:`open` capture their event and build it when the pending events are
        read; recording any other event builds those first, so the order is kept.

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> deal = _opened(_example())
            >>> deal.assign_owner("u_ben", now=deal.created_at)
            >>> [e.event_type for e in deal.pending_events]
            ['pipeline.OpportunityOpened', 'pipeline.OpportunityOwnerAssigned']
        """
        self._flush()
        if self._events is _NO_EVENTS:
            self._events = []
        super().record(event)

    @property
    def pending_events(self) -> tuple[DomainEvent, ...]:
        """The events recorded since the last commit, oldest first (captured ones built now).

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> deal = _opened(_example())
            >>> deal.pending_events == deal.pending_events  # built once, the same events
            True
        """
        self._flush()
        return tuple(self._events)

    def pull_events(self) -> list[DomainEvent]:
        """Return and clear the pending events (the unit of work calls this on commit).

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> deal = _opened(_example())
            >>> [e.aggregate_version for e in deal.pull_events()], deal.pending_events
            ([1], ())
        """
        self._flush()
        events = list(self._events)
        self._events = _NO_EVENTS
        return events

    # ----- reading -------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the deal is neither won nor lost.

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> _opened(_example()).is_open
            True
        """
        return self.stage_kind is _OPEN

    @property
    def pipeline_id(self) -> str:
        """The id of the pipeline revision this deal runs on (``key@revision``).

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> _opened(_example()).pipeline_id
            'new_business@1'
        """
        return Pipeline.id_for(self.pipeline_key, self.pipeline_revision)

    def age(self, now: datetime) -> timedelta:
        """How long the deal has existed at ``now``.

        Example:
            >>> from datetime import timedelta
            >>> from crmkit.pipeline.definition import _example
            >>> deal = _opened(_example())
            >>> deal.age(deal.created_at + timedelta(days=2)).days
            2
        """
        return _check_now(now) - self.created_at

    def time_in_stage(self, now: datetime) -> timedelta:
        """How long the deal has been in its current stage at ``now``.

        Example:
            >>> from datetime import timedelta
            >>> from crmkit.pipeline.definition import _example
            >>> deal = _opened(_example())
            >>> deal.time_in_stage(deal.created_at + timedelta(hours=5)).seconds // 3600
            5
        """
        return _check_now(now) - self.stage_entered_at

    def stages_visited(self) -> tuple[str, ...]:
        """Every stage the deal has been in, in order (the history replayed).

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> _opened(_example()).stages_visited()
            ('lead',)
        """
        if not self.history:
            return (self.stage,)
        return (self.history[0].source, *(c.target for c in self.history))

    def allowed_moves(self, pipeline: Pipeline | CompiledPipeline) -> tuple[str, ...]:
        """The stages the pipeline lets this deal move to from its stage (guards aside).

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> _opened(_example()).allowed_moves(_example())
            ('proposal', 'lost')
        """
        compiled = self._own(pipeline)
        return tuple(compiled.edges.get(self.stage, {}))

    def blockers(
        self,
        to: str,
        *,
        pipeline: Pipeline | CompiledPipeline,
        predicates: Mapping[str, Predicate] | None = None,
        reason: str | None = None,
    ) -> tuple[Blocker, ...]:
        """Everything that stops a move to ``to`` now (empty: the move would succeed).

        A move the pipeline does not define gives one blocker of kind ``transition``. Use it
        to grey out a button and say why.

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> sales = _example()
            >>> for blocker in _opened(sales).blockers("lost", pipeline=sales):
            ...     print(blocker.kind, "|", blocker.text)
            reason | a reason why the deal was lost (price, competitor, no budget, no decision,
            timing or other)
        """
        compiled = self._own(pipeline)
        if type(to) is not str:
            raise ValidationError(f"must be a stage key, not {type(to).__name__}", path="to")
        compiled.stage(to)
        edge = compiled.edges.get(self.stage, {}).get(to)
        if edge is None:
            return (Blocker("transition", to, self._no_step_text(compiled, to)),)
        return tuple(self._unmet(edge, predicates, self._checked_reason(edge, reason)))

    # ----- moves ---------------------------------------------------------------------------

    def move(
        self,
        to: str,
        *,
        pipeline: Pipeline | CompiledPipeline,
        now: datetime,
        by: str | None = None,
        predicates: Mapping[str, Predicate] | None = None,
        reason: str | None = None,
    ) -> StageChange:
        """Move the deal to stage ``to`` along a defined transition whose guards all hold.

        ``pipeline`` is the deal's pipeline revision (or its compiled form); ``predicates``
        maps the names of the host's predicate guards to functions of the deal. Closing as lost
        needs ``reason`` from the pipeline's ``lost_reasons``; reopening a closed deal needs a
        ``reason`` too (free text). On success the move appends a :class:`StageChange` to
        ``history``, updates the derived fields and records ``OpportunityStageChanged``; on
        failure it raises a :class:`~crmkit.errors.RuleViolation` that lists every unmet
        condition and changes nothing.

        Example:
            >>> from datetime import timedelta
            >>> from crmkit.pipeline.definition import _example
            >>> sales = _example()
            >>> deal = _opened(sales)
            >>> later = deal.created_at + timedelta(days=1)
            >>> deal.move("won", pipeline=sales, now=later)
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: Can't move "Acme: 20 seats" from Lead to Closed won: ...
            >>> deal.move("lost", pipeline=sales, now=later, reason="price").target
            'lost'
            >>> deal.move("lead", pipeline=sales, now=later, reason="budget approved after all")
            StageChange(source='lost', target='lead', ...)
        """
        # The hot path: every value a move stores was checked on the way in (or comes from the
        # compiled pipeline), so nothing here re-validates; see docs/how-to/pipeline.md.
        compiled = pipeline if type(pipeline) is CompiledPipeline else _compiled(pipeline)
        if compiled.key != self.pipeline_key or compiled.revision != self.pipeline_revision:
            raise self._wrong_pipeline(compiled)
        if type(now) is not datetime or type(now.tzinfo) not in _AWARE_ZONES:
            now = ensure_aware(now, "now")
        if by is not None and (type(by) is not str or by not in _known_actors):
            _check_by(by)
        source = self.stage
        try:
            edge = compiled.edges[source][to]
        except (KeyError, TypeError):
            raise self._not_allowed(compiled, to) from None
        entered = self.stage_entered_at
        if now < entered:
            raise ValidationError(
                f"must not be before the deal entered its stage ({entered.isoformat()}), "
                f"got {now.isoformat()}",
                path="now",
            )
        if edge.guarded or reason is not None:
            reason = self._checked_reason(edge, reason)
            for check, _blocker in edge.checks:
                if not check(self, predicates):
                    raise self._refusal(compiled, edge, self._unmet(edge, predicates, reason))
            if reason is None and edge.needs_reason:
                raise self._refusal(compiled, edge, self._unmet(edge, predicates, reason))
        change = _new(StageChange)
        change.source = source
        change.target = to
        change.at = now
        change.entered_at = entered
        change.by = by
        change.reason = reason
        change.pipeline = None
        self.history += (change,)
        self.stage = to
        self.stage_entered_at = self.last_activity_at = now
        if edge.closes:
            self.closed_at = now
            self.close_reason = reason
            self.probability_override = None
            self.probability = edge.probability
            captured = edge.bits
        else:
            if self.closed_at is not None:
                self.closed_at = self.close_reason = None
            override = self.probability_override
            self.probability = captured = edge.probability if override is None else override
            captured |= 128
        self.stage_kind = edge.kind
        self.forecast_category = edge.category
        if self._lazy_version != self.version + 1:
            if self._lazy_version:
                self._flush()  # events captured before a save belong to the older version
            self._lazy_version = self.version + 1
        self._lazy_moves = (self._lazy_moves << 8) | captured
        return change

    def _own(self, pipeline: Pipeline | CompiledPipeline) -> CompiledPipeline:
        compiled = _compiled(pipeline)
        if compiled.key != self.pipeline_key or compiled.revision != self.pipeline_revision:
            raise self._wrong_pipeline(compiled)
        return compiled

    def _checked_reason(self, edge: _Edge, reason: str | None) -> str | None:
        """Validate the shape of ``reason`` for ``edge`` (a missing one is a blocker, later)."""
        if reason is None:
            return None
        if edge.reasons is not None:
            if reason not in edge.reasons:
                kind = "lost" if edge.kind is _LOST else "won"
                raise ValidationError(
                    f"{reason!r} is not a {kind} reason of this pipeline; use one of "
                    + ", ".join(edge.reasons),
                    path="reason",
                )
            return reason
        return _optional_text(reason, 200, "reason")

    def _unmet(
        self, edge: _Edge, predicates: Mapping[str, Predicate] | None, reason: str | None
    ) -> list[Blocker]:
        unmet = [blocker for check, blocker in edge.checks if not check(self, predicates)]
        if reason is None and edge.needs_reason:
            if edge.reopens:
                unmet.append(Blocker("reason", "reason", "a reason for reopening it"))
            else:
                codes = _sentence([_humanize(r) for r in edge.reasons or ()], "or")
                unmet.append(
                    Blocker("reason", "reason", f"a reason why the deal was lost ({codes})")
                )
        return unmet

    def _label(self, compiled: CompiledPipeline, key: str) -> str:
        stage = compiled.stages.get(key)
        return key if stage is None else stage.label

    def _no_step_text(self, compiled: CompiledPipeline, to: str) -> str:
        here = self._label(compiled, self.stage)
        targets = [self._label(compiled, t) for t in compiled.edges.get(self.stage, {})]
        onward = (
            f"From {here} it can go to {_sentence(targets, 'or')}."
            if targets
            else f"{here} has no way out."
        )
        return (
            f"the {compiled.pipeline.name} pipeline has no step from {here} to "
            f"{self._label(compiled, to)}. {onward}"
        )

    def _not_allowed(self, compiled: CompiledPipeline, to: str) -> RuleViolation:
        if type(to) is not str:
            raise ValidationError(f"must be a stage key, not {type(to).__name__}", path="to")
        compiled.stage(to)  # an unknown stage is bad input, not a rule
        if to == self.stage:
            message = f'"{self.name}" is already in {self._label(compiled, to)}.'
        else:
            message = (
                f'Can\'t move "{self.name}" from {self._label(compiled, self.stage)} to '
                f"{self._label(compiled, to)}: {self._no_step_text(compiled, to)}"
            )
        return RuleViolation(
            message,
            details={
                "rule": "pipeline.transition_not_defined",
                "opportunity_id": self.id,
                "pipeline": compiled.id,
                "from_stage": self.stage,
                "to_stage": to,
                "allowed": list(compiled.edges.get(self.stage, {})),
            },
        )

    def _refusal(
        self, compiled: CompiledPipeline, edge: _Edge, unmet: list[Blocker]
    ) -> RuleViolation:
        return RuleViolation(
            f'Can\'t move "{self.name}" from {self._label(compiled, edge.source)} to '
            f"{self._label(compiled, edge.target)} yet. Still needed: "
            f"{_sentence([b.text for b in unmet])}.",
            details={
                "rule": "pipeline.guards_unmet",
                "opportunity_id": self.id,
                "pipeline": compiled.id,
                "from_stage": edge.source,
                "to_stage": edge.target,
                "unmet": [{"kind": b.kind, "name": b.name, "text": b.text} for b in unmet],
            },
        )

    def _wrong_pipeline(self, compiled: CompiledPipeline) -> RuleViolation:
        return RuleViolation(
            f"opportunity {self.id!r} runs on pipeline {self.pipeline_id!r}, not "
            f"{compiled.id!r}; load that revision (or migrate the deal first)",
            details={
                "rule": "pipeline.wrong_pipeline",
                "opportunity_id": self.id,
                "pipeline": self.pipeline_id,
                "given": compiled.id,
            },
        )

    # ----- other changes -------------------------------------------------------------------

    def change_amount(self, amount: Money | None, *, now: datetime, by: str | None = None) -> None:
        """Set the deal's amount (``None``: unknown); refused on a won deal until reopened.

        Example:
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.pipeline.definition import _example
            >>> deal = _opened(_example())
            >>> deal.change_amount(Money("90000", "TWD"), now=deal.created_at); deal.amount
            Money('90000', 'TWD')
        """
        now = self._begin(now, by)
        _check_amount(amount)
        if self.stage_kind is _WON:
            raise RuleViolation(
                f'"{self.name}" is won: its amount is locked. Reopen the deal to change it.',
                details={"rule": "pipeline.won_amount_locked", "opportunity_id": self.id},
            )
        old = self.amount
        if amount != old:
            self.amount = amount
            self.record(
                OpportunityAmountChanged(
                    aggregate_id=self.id, occurred_at=now, actor=by, old=old, new=amount
                )
            )

    def change_close_date(
        self, expected: date | None, *, now: datetime, by: str | None = None
    ) -> None:
        """Set the expected close date (``None``: unknown).

        Example:
            >>> from datetime import date
            >>> from crmkit.pipeline.definition import _example
            >>> deal = _opened(_example())
            >>> deal.change_close_date(date(2026, 6, 30), now=deal.created_at)
            >>> deal.expected_close_date
            datetime.date(2026, 6, 30)
        """
        now = self._begin(now, by)
        v.optional_date(None, _Named("expected_close_date"), expected)
        old = self.expected_close_date
        if expected != old:
            self.expected_close_date = expected
            self.record(
                OpportunityCloseDateChanged(
                    aggregate_id=self.id, occurred_at=now, actor=by, old=old, new=expected
                )
            )

    def override_probability(
        self,
        probability: int | None,
        *,
        pipeline: Pipeline | CompiledPipeline,
        now: datetime,
        by: str | None = None,
    ) -> None:
        """Override the stage's probability (0-100), or clear the override with ``None``.

        The override survives moves between open stages until it is cleared; a closed deal's
        probability is fixed (won 100, lost 0) and cannot be overridden. ``pipeline`` (the
        deal's own) gives the stage's probability back when the override is cleared.

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> sales = _example()
            >>> deal = _opened(sales)
            >>> deal.override_probability(35, pipeline=sales, now=deal.created_at)
            >>> deal.probability
            35
            >>> deal.override_probability(None, pipeline=sales, now=deal.created_at)
            >>> deal.probability
            10
        """
        now = self._begin(now, by)
        compiled = self._own(pipeline)
        if probability is not None and (
            type(probability) is not int or not 0 <= probability <= 100
        ):
            raise ValidationError(
                f"must be an int from 0 to 100 or None, got {probability!r}", path="probability"
            )
        if not self.is_open:
            raise RuleViolation(
                f'"{self.name}" is {self.stage_kind.value}: its probability is '
                f"{self.probability} and cannot be overridden. Reopen the deal first.",
                details={"rule": "pipeline.closed_probability", "opportunity_id": self.id},
            )
        if probability == self.probability_override:
            return
        self.probability_override = probability
        self.probability = (
            compiled.stage(self.stage).probability if probability is None else probability
        )
        self.record(
            OpportunityProbabilityChanged(
                aggregate_id=self.id,
                occurred_at=now,
                actor=by,
                override=probability,
                probability=self.probability,
            )
        )

    def tick(
        self,
        item: str,
        *,
        pipeline: Pipeline | CompiledPipeline,
        now: datetime,
        by: str | None = None,
    ) -> None:
        """Mark checklist item ``item`` (a key some stage of the pipeline defines) as done.

        Example:
            >>> from crmkit.pipeline.definition import _example_with_checklist
            >>> sales = _example_with_checklist()
            >>> deal = _opened(sales)
            >>> deal.tick("budget_confirmed", pipeline=sales, now=deal.created_at)
            >>> deal.checklist
            ('budget_confirmed',)
        """
        self._set_item(item, True, pipeline, now, by)

    def untick(
        self,
        item: str,
        *,
        pipeline: Pipeline | CompiledPipeline,
        now: datetime,
        by: str | None = None,
    ) -> None:
        """Mark checklist item ``item`` as not done (again).

        Example:
            >>> from crmkit.pipeline.definition import _example_with_checklist
            >>> sales = _example_with_checklist()
            >>> deal = _opened(sales)
            >>> deal.tick("budget_confirmed", pipeline=sales, now=deal.created_at)
            >>> deal.untick("budget_confirmed", pipeline=sales, now=deal.created_at)
            >>> deal.checklist
            ()
        """
        self._set_item(item, False, pipeline, now, by)

    def _set_item(
        self,
        item: str,
        done: bool,
        pipeline: Pipeline | CompiledPipeline,
        now: datetime,
        by: str | None,
    ) -> None:
        now = self._begin(now, by)
        compiled = self._own(pipeline)
        known = [i.key for s in compiled.pipeline.stages for i in s.checklist]
        if item not in known:
            raise ValidationError(
                f"pipeline {compiled.id!r} has no checklist item {item!r}; its items are "
                + (", ".join(known) or "none"),
                path="item",
            )
        if (item in self.checklist) is done:
            return
        if done:
            self.checklist = (*self.checklist, item)
        else:
            self.checklist = tuple(i for i in self.checklist if i != item)
        self.record(
            OpportunityChecklistChanged(
                aggregate_id=self.id, occurred_at=now, actor=by, item=item, done=done
            )
        )

    def add_contact(
        self,
        contact_id: str,
        role: ContactRole | str = ContactRole.OTHER,
        *,
        now: datetime,
        by: str | None = None,
    ) -> None:
        """Add a contact to the deal with a role (or change the role of one already on it).

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> deal = _opened(_example())
            >>> deal.add_contact("con_7", "decision_maker", now=deal.created_at)
            >>> [(c.contact_id, c.role.value) for c in deal.contacts]
            [('con_7', 'decision_maker')]
        """
        now = self._begin(now, by)
        entry = OpportunityContact(contact_id, role)
        if entry in self.contacts:
            return
        others = tuple(c for c in self.contacts if c.contact_id != entry.contact_id)
        self.contacts = (*others, entry)
        self.record(
            OpportunityContactsChanged(
                aggregate_id=self.id,
                occurred_at=now,
                actor=by,
                contact_id=entry.contact_id,
                role=entry.role.value,
            )
        )

    def remove_contact(self, contact_id: str, *, now: datetime, by: str | None = None) -> None:
        """Take a contact off the deal; a no-op when it is not on it.

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> deal = _opened(_example())
            >>> deal.add_contact("con_7", now=deal.created_at)
            >>> deal.remove_contact("con_7", now=deal.created_at); deal.contacts
            ()
        """
        now = self._begin(now, by)
        check_id(contact_id, "contact_id")
        kept = tuple(c for c in self.contacts if c.contact_id != contact_id)
        if kept != self.contacts:
            self.contacts = kept
            self.record(
                OpportunityContactsChanged(
                    aggregate_id=self.id,
                    occurred_at=now,
                    actor=by,
                    contact_id=contact_id,
                    role=None,
                )
            )

    def assign_owner(self, owner: str | None, *, now: datetime, by: str | None = None) -> None:
        """Give the deal to ``owner`` (a user id), or to nobody with ``None``.

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> deal = _opened(_example())
            >>> deal.assign_owner("u_ben", now=deal.created_at); deal.owner
            'u_ben'
        """
        now = self._begin(now, by)
        if owner is not None:
            check_id(owner, "owner")
        old = self.owner
        if owner != old:
            self.owner = owner
            self.record(
                OpportunityOwnerAssigned(
                    aggregate_id=self.id, occurred_at=now, actor=by, old_owner=old, new_owner=owner
                )
            )

    def set_next_step(self, next_step: str | None, *, now: datetime, by: str | None = None) -> None:
        """Say what happens next on the deal (``None`` or empty text clears it).

        Example:
            >>> from crmkit.pipeline.definition import _example
            >>> deal = _opened(_example())
            >>> deal.set_next_step(" Send revised quote ", now=deal.created_at); deal.next_step
            'Send revised quote'
        """
        now = self._begin(now, by)
        cleaned = _optional_text(next_step, 500, "next_step")
        if cleaned != self.next_step:
            self.next_step = cleaned
            self.record(
                OpportunityNextStepSet(
                    aggregate_id=self.id, occurred_at=now, actor=by, next_step=cleaned
                )
            )

    def record_activity(self, at: datetime, *, now: datetime, by: str | None = None) -> None:
        """Note that something happened on the deal at ``at`` (a call, a meeting).

        ``last_activity_at`` only moves forward; ``at`` may not be after ``now``. The stalled
        deals report reads it.

        Example:
            >>> from datetime import timedelta
            >>> from crmkit.pipeline.definition import _example
            >>> deal = _opened(_example())
            >>> later = deal.created_at + timedelta(days=4)
            >>> deal.record_activity(later, now=later)
            >>> (deal.last_activity_at - deal.created_at).days
            4
        """
        now = self._begin(now, by)
        at = ensure_aware(at, "at")
        if at > now:
            raise ValidationError(
                f"must not be after now ({now.isoformat()}), got {at.isoformat()}", path="at"
            )
        if at > self.last_activity_at:
            self.last_activity_at = at
            self.record(
                OpportunityActivityRecorded(aggregate_id=self.id, occurred_at=now, actor=by, at=at)
            )

    # ----- other pipelines -----------------------------------------------------------------

    def migrate(
        self,
        migration: Migration,
        *,
        pipeline: Pipeline | CompiledPipeline,
        now: datetime,
        by: str | None = None,
    ) -> None:
        """Move the deal to the pipeline ``migration`` leads to, its stage mapped by the plan.

        ``pipeline`` is that target pipeline. A deal whose stage keeps its key keeps its time in
        stage; a mapped stage is a new history entry (with ``pipeline`` set). Records
        ``OpportunityPipelineChanged``.

        Example:
            >>> from crmkit.pipeline.definition import _example, _example_v2
            >>> old, new = _example(), _example_v2()
            >>> deal = _opened(old)
            >>> _ = deal.move("proposal", pipeline=old, now=deal.created_at)
            >>> deal.migrate(old.migration_to(new, {"proposal": "lead"}), pipeline=new,
            ...              now=deal.created_at)
            >>> deal.pipeline_id, deal.stage, deal.history[-1].pipeline
            ('new_business@2', 'lead', 'new_business@2')
        """
        now = self._begin(now, by)
        target = _compiled(pipeline)
        if not isinstance(migration, Migration):
            raise ValidationError(
                f"must be a Migration, not {type(migration).__name__}", path="migration"
            )
        if (migration.source_key, migration.source_revision) != (
            self.pipeline_key,
            self.pipeline_revision,
        ):
            raise RuleViolation(
                f"the migration starts from "
                f"{Pipeline.id_for(migration.source_key, migration.source_revision)!r}, but "
                f"opportunity {self.id!r} runs on {self.pipeline_id!r}",
                details={"rule": "pipeline.wrong_pipeline", "opportunity_id": self.id},
            )
        if (migration.target_key, migration.target_revision) != (target.key, target.revision):
            raise ValidationError(
                f"the migration leads to "
                f"{Pipeline.id_for(migration.target_key, migration.target_revision)!r}, not "
                f"{target.id!r}",
                path="pipeline",
            )
        stage = migration.stage_map.get(self.stage)
        if stage is None:
            raise RuleViolation(
                f"the migration has no mapping for stage {self.stage!r}",
                details={"rule": "pipeline.migration_incomplete", "opportunity_id": self.id},
            )
        new_stage = target.stage(stage)
        if new_stage.kind is not self.stage_kind or (
            target.id == self.pipeline_id and stage != self.stage
        ):
            # Migration.plan() refuses both; a Migration built by hand is checked here.
            raise RuleViolation(
                f"the migration maps {self.stage!r} ({self.stage_kind.value}) to {stage!r} "
                f"({new_stage.kind.value}) in {target.id!r}; plan it with Migration.plan()",
                details={"rule": "pipeline.migration_invalid", "opportunity_id": self.id},
            )
        self._switch(target, new_stage, now, by)

    def change_pipeline(
        self,
        pipeline: Pipeline | CompiledPipeline,
        *,
        stage: str,
        now: datetime,
        by: str | None = None,
    ) -> None:
        """Move the deal to another pipeline (new business -> renewal), into ``stage`` of it.

        The stage is always given explicitly, and must be of the same kind as the current one
        (an open deal goes to an open stage). Records ``OpportunityPipelineChanged``.

        Example:
            >>> from crmkit.pipeline.definition import _example, _example_renewal
            >>> deal = _opened(_example())
            >>> deal.change_pipeline(_example_renewal(), stage="review", now=deal.created_at)
            >>> deal.pipeline_id, deal.stage, deal.probability
            ('renewal@1', 'review', 60)
        """
        now = self._begin(now, by)
        target = _compiled(pipeline)
        if target.key == self.pipeline_key:
            raise RuleViolation(
                f'"{self.name}" is already in the {target.pipeline.name} pipeline: move it with '
                "move() (its transitions and guards apply), or migrate() it to another revision",
                details={"rule": "pipeline.same_pipeline", "opportunity_id": self.id},
            )
        new_stage = target.stage(stage)
        if new_stage.kind is not self.stage_kind:
            raise RuleViolation(
                f'"{self.name}" is {self.stage_kind.value}; it can only go to a '
                f"{self.stage_kind.value} stage of {target.id!r}, not {stage!r} "
                f"({new_stage.kind.value})",
                details={"rule": "pipeline.stage_kind_mismatch", "opportunity_id": self.id},
            )
        self._switch(target, new_stage, now, by)

    def _switch(
        self, target: CompiledPipeline, stage: Stage, now: datetime, by: str | None
    ) -> None:
        if now < self.stage_entered_at:
            raise ValidationError(
                f"must not be before the deal entered its stage "
                f"({self.stage_entered_at.isoformat()}), got {now.isoformat()}",
                path="now",
            )
        old_key, old_revision, old_stage = self.pipeline_key, self.pipeline_revision, self.stage
        if (old_key, old_revision, old_stage) == (target.key, target.revision, stage.key):
            return
        self._flush()
        if stage.key != old_stage or target.key != old_key:
            change = _stage_change(
                old_stage, stage.key, now, self.stage_entered_at, by, None, target.id
            )
            self.history += (change,)
            self.stage = stage.key
            self.stage_entered_at = now
        self.pipeline_key = target.key
        self.pipeline_revision = target.revision
        self.stage_kind = stage.kind
        self.forecast_category = stage.forecast_category
        if self.probability_override is None or not stage.is_open:
            self.probability = stage.probability
        self.record(
            OpportunityPipelineChanged(
                aggregate_id=self.id,
                occurred_at=now,
                actor=by,
                old_pipeline_key=old_key,
                old_revision=old_revision,
                new_pipeline_key=target.key,
                new_revision=target.revision,
                old_stage=old_stage,
                new_stage=stage.key,
            )
        )

    def _begin(self, now: datetime, by: str | None) -> datetime:
        """Check ``now`` and ``by``, and build the captured events before anything changes."""
        now = _check_now(now)
        _check_by(by)
        self._flush()
        return now


def _check_amount(amount: object) -> None:
    if amount is None:
        return
    if not isinstance(amount, Money):
        raise ValidationError(
            f"must be Money or None, not {type(amount).__name__}; write Money('120000', 'TWD')",
            path="amount",
        )
    if amount.amount < 0:
        raise ValidationError(f"must not be negative, got {amount}", path="amount")


def move_many(
    opportunities: Sequence[Opportunity],
    to: str,
    *,
    pipeline: Pipeline | CompiledPipeline,
    now: datetime,
    by: str | None = None,
    predicates: Mapping[str, Predicate] | None = None,
    reason: str | None = None,
) -> tuple[StageChange, ...]:
    """Move several deals to ``to`` at once: all of them, or (if any is blocked) none.

    Every deal is checked first; if any move is refused, one ``RuleViolation`` lists each
    deal's unmet conditions and no deal changes. Each moved deal keeps its derived fields
    consistent (probability override kept, probability from the new stage otherwise).

    Example:
        >>> from crmkit.pipeline.definition import _example
        >>> sales = _example()
        >>> deals = [_opened(sales, f"opp_{i}") for i in range(3)]
        >>> [c.target for c in move_many(deals, "proposal", pipeline=sales,
        ...                              now=deals[0].created_at)]
        ['proposal', 'proposal', 'proposal']

    .. versionadded:: 0.1.0
    """
    compiled = _compiled(pipeline)
    now = _check_now(now)
    _check_by(by)
    problems: list[str] = []
    refused: list[dict[str, Any]] = []
    for opp in opportunities:
        if not isinstance(opp, Opportunity):
            raise ValidationError(
                f"must be Opportunity objects, not {type(opp).__name__}", path="opportunities"
            )
        try:
            blockers = opp.blockers(to, pipeline=compiled, predicates=predicates, reason=reason)
        except RuleViolation as exc:
            problems.append(str(exc))
            refused.append({"opportunity_id": opp.id, "unmet": [], "message": str(exc)})
            continue
        if now < opp.stage_entered_at:
            raise ValidationError(
                f"must not be before {opp.id!r} entered its stage "
                f"({opp.stage_entered_at.isoformat()})",
                path="now",
            )
        if blockers:
            texts = [b.text for b in blockers]
            problems.append(f'"{opp.name}" still needs {_sentence(texts)}')
            refused.append(
                {
                    "opportunity_id": opp.id,
                    "unmet": [{"kind": b.kind, "name": b.name, "text": b.text} for b in blockers],
                }
            )
    if problems:
        raise RuleViolation(
            f"Can't move {len(problems)} of {len(opportunities)} deals to "
            f"{compiled.stage(to).label}; none was moved. " + "; ".join(problems) + ".",
            details={"rule": "pipeline.bulk_move_refused", "to_stage": to, "refused": refused},
        )
    return tuple(
        opp.move(to, pipeline=compiled, now=now, by=by, predicates=predicates, reason=reason)
        for opp in opportunities
    )


def _opened(pipeline: Pipeline, id: str = "opp_1") -> Opportunity:
    """A deal opened in ``pipeline`` for the docstring examples."""
    return Opportunity.open(
        id=id,
        customer_id="cus_1",
        name="Acme: 20 seats",
        pipeline=pipeline,
        now=datetime(2026, 3, 2, 9, tzinfo=timezone.utc),
    )


# ----- construction checks -----------------------------------------------------------------------
#
# _looks_valid answers "valid as given?" with cheap checks and no allocation; only when it says
# no does _problems run, which normalises what it can (strips text, makes tuples) and lists
# every problem with its path.

_good_keys: set[str] = set()


def _key_ok(value: object) -> bool:
    if type(value) is not str:
        return False
    if value in _good_keys:
        return True
    if _KEY.fullmatch(value):
        if len(_good_keys) > 4096:
            _good_keys.clear()
        _good_keys.add(value)
        return True
    return False


def _id_ok(value: object) -> bool:
    return type(value) is str and 0 < len(value) <= 64 and value.isprintable() and " " not in value


def _time_ok(value: object) -> bool:
    return type(value) is datetime and type(value.tzinfo) in _AWARE_ZONES


def _name_ok(value: object, limit: int) -> bool:
    return (
        type(value) is str
        and 0 < len(value) <= limit
        and value.isprintable()
        and value[0] != " "
        and value[-1] != " "
    )


def _opened_valid(o: Opportunity) -> bool:
    """The checks of _looks_valid that concern what a caller of ``open()`` gives."""
    owner, amount, close, step = o.owner, o.amount, o.expected_close_date, o.next_step
    return (
        _id_ok(o.id)
        and _id_ok(o.customer_id)
        and _name_ok(o.name, 200)
        and (owner is None or _id_ok(owner))
        and (amount is None or (type(amount) is Money and amount.amount >= 0))
        and (close is None or type(close) is date)
        and (step is None or _name_ok(step, 500))
        and (o.contacts == () or _contacts_ok(o.contacts))
    )


def _contacts_ok(contacts: object) -> bool:
    if type(contacts) is not tuple:
        return False
    ids = {c.contact_id for c in contacts if type(c) is OpportunityContact}
    return len(ids) == len(contacts)


def _contacts(value: object) -> tuple[OpportunityContact, ...]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of OpportunityContact, not {type(value).__name__}", path="contacts"
        )
    return tuple(value)


def _looks_valid(o: Opportunity) -> bool:
    if not (
        _opened_valid(o)
        and type(o.version) is int
        and _key_ok(o.pipeline_key)
        and type(o.pipeline_revision) is int
        and o.pipeline_revision >= 1
        and _key_ok(o.stage)
        and type(o.probability) is int
        and 0 <= o.probability <= 100
        and _time_ok(o.created_at)
        and _time_ok(o.stage_entered_at)
        and _time_ok(o.last_activity_at)
        and o.created_at <= o.stage_entered_at <= o.last_activity_at
        and type(o.contacts) is tuple
        and type(o.checklist) is tuple
        and type(o.history) is tuple
    ):
        return False
    kind, override, closed_at, reason = (
        o.stage_kind,
        o.probability_override,
        o.closed_at,
        o.close_reason,
    )
    if kind is _OPEN:
        if not (
            o.forecast_category is not ForecastCategory.CLOSED
            and type(o.forecast_category) is ForecastCategory
            and closed_at is None
            and reason is None
            and (override is None or override == o.probability)
        ):
            return False
    elif kind is _WON or kind is _LOST:
        if not (
            o.forecast_category is ForecastCategory.CLOSED
            and _time_ok(closed_at)
            and override is None
            and o.probability == (100 if kind is _WON else 0)
            and (reason is None if kind is _WON else True)
            and (reason is None or _name_ok(reason, 200))
            and (kind is _WON or reason is not None)
        ):
            return False
    else:
        return False
    if override is not None and (type(override) is not int or not 0 <= override <= 100):
        return False
    if o.checklist and not all(_key_ok(item) for item in o.checklist):
        return False
    if o.checklist and len(set(o.checklist)) != len(o.checklist):
        return False
    if o.history:
        return False  # replaying the history is _problems' job
    return o.stage_entered_at == o.created_at


def _problems(opp: Opportunity) -> list[FieldError]:
    errors: list[FieldError] = []
    add = errors.append
    for path in ("id", "customer_id"):
        try:
            check_id(getattr(opp, path), path)
        except ValidationError as exc:
            errors.extend(exc.errors)
    name = opp.name
    if not _name_ok(name, 200):
        try:
            v.text(200)(None, _Named("name"), name)
            opp.name = name.strip()
        except ValidationError as exc:
            errors.extend(exc.errors)
    if type(opp.pipeline_key) is not str or not _KEY.fullmatch(opp.pipeline_key):
        add(FieldError("pipeline_key", f"must be a pipeline key, not {opp.pipeline_key!r}"))
    rev = opp.pipeline_revision
    if type(rev) is not int or rev < 1:
        add(FieldError("pipeline_revision", f"must be an int of 1 or more, not {rev!r}"))
    if type(opp.stage) is not str or not _KEY.fullmatch(opp.stage):
        add(FieldError("stage", f"must be a stage key, not {opp.stage!r}"))
    kind = opp.stage_kind
    if type(kind) is not StageKind:
        try:
            kind = opp.stage_kind = v.to_enum(StageKind, "stage_kind")(kind)
        except ValidationError as exc:
            errors.extend(exc.errors)
    category = opp.forecast_category
    if type(category) is not ForecastCategory:
        try:
            category = opp.forecast_category = v.to_enum(ForecastCategory, "forecast_category")(
                category
            )
        except ValidationError as exc:
            errors.extend(exc.errors)
    for path in ("probability", "probability_override"):
        p = getattr(opp, path)
        if p is None and path == "probability_override":
            continue
        if type(p) is not int or not 0 <= p <= 100:
            add(FieldError(path, f"must be an int from 0 to 100, not {p!r}"))
    times_ok = True
    for path in ("created_at", "stage_entered_at", "last_activity_at", "closed_at"):
        value = getattr(opp, path)
        if value is None and path == "closed_at":
            continue
        if type(value) is not datetime or type(value.tzinfo) not in _AWARE_ZONES:
            try:
                ensure_aware(value, path)
            except ValidationError as exc:
                errors.extend(exc.errors)
                times_ok = False
    if times_ok:
        if opp.stage_entered_at < opp.created_at:
            add(FieldError("stage_entered_at", "must not be before created_at"))
        if opp.last_activity_at < opp.stage_entered_at:
            add(FieldError("last_activity_at", "must not be before stage_entered_at"))
    if opp.owner is not None:
        try:
            check_id(opp.owner, "owner")
        except ValidationError as exc:
            errors.extend(exc.errors)
    if opp.amount is not None:
        try:
            _check_amount(opp.amount)
        except ValidationError as exc:
            errors.extend(exc.errors)
    try:
        v.optional_date(None, _Named("expected_close_date"), opp.expected_close_date)
    except ValidationError as exc:
        errors.extend(exc.errors)
    _check_contacts(opp, errors)
    _check_checklist(opp, errors)
    for path, limit in (("next_step", 500), ("close_reason", 200)):
        text = getattr(opp, path)
        if text is not None and not _name_ok(text, limit):
            try:
                setattr(opp, path, _optional_text(text, limit, path))
            except ValidationError as exc:
                errors.extend(exc.errors)
    if not errors:
        _check_consistency(opp, kind, category, errors)
    return errors


def _check_contacts(opp: Opportunity, errors: list[FieldError]) -> None:
    contacts = opp.contacts
    if type(contacts) is not tuple:
        if isinstance(contacts, (str, bytes, Mapping)) or not isinstance(contacts, Iterable):
            errors.append(FieldError("contacts", "must be a list of OpportunityContact"))
            return
        contacts = opp.contacts = tuple(contacts)
    seen: set[str] = set()
    for i, contact in enumerate(contacts):
        if type(contact) is not OpportunityContact:
            errors.append(
                FieldError(
                    f"contacts[{i}]", f"must be OpportunityContact, not {type(contact).__name__}"
                )
            )
        elif contact.contact_id in seen:
            errors.append(FieldError(f"contacts[{i}]", f"{contact.contact_id!r} is listed twice"))
        else:
            seen.add(contact.contact_id)


def _check_checklist(opp: Opportunity, errors: list[FieldError]) -> None:
    items = opp.checklist
    if type(items) is not tuple:
        if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
            errors.append(FieldError("checklist", "must be a list of checklist item keys"))
            return
        items = opp.checklist = tuple(items)
    if not items:
        return
    for i, item in enumerate(items):
        if type(item) is not str or not _KEY.fullmatch(item):
            errors.append(
                FieldError(f"checklist[{i}]", f"must be a checklist item key, not {item!r}")
            )
    if len(set(items)) != len(items):
        errors.append(FieldError("checklist", "lists an item twice"))


def _check_consistency(
    opp: Opportunity, kind: StageKind, category: ForecastCategory, errors: list[FieldError]
) -> None:
    add = errors.append
    closed = kind is not _OPEN
    if closed != (category is ForecastCategory.CLOSED):
        add(
            FieldError(
                "forecast_category",
                f"must be 'closed' exactly when the deal is won or lost, not {category.value!r} "
                f"for a {kind.value} deal",
            )
        )
    if closed:
        if opp.closed_at is None:
            add(FieldError("closed_at", f"must be set on a {kind.value} deal"))
        if opp.probability_override is not None:
            add(FieldError("probability_override", f"must be None on a {kind.value} deal"))
        expected = 100 if kind is _WON else 0
        if opp.probability != expected:
            add(FieldError("probability", f"must be {expected} on a {kind.value} deal"))
        if kind is _LOST and opp.close_reason is None:
            add(FieldError("close_reason", "must be set on a lost deal"))
    else:
        if opp.closed_at is not None:
            add(FieldError("closed_at", "must be None on an open deal"))
        if opp.close_reason is not None:
            add(FieldError("close_reason", "must be None on an open deal"))
        override = opp.probability_override
        if override is not None and opp.probability != override:
            add(FieldError("probability", f"must equal probability_override ({override})"))
    _check_history(opp, errors)


def _check_history(opp: Opportunity, errors: list[FieldError]) -> None:
    history = opp.history
    if type(history) is not tuple:
        if isinstance(history, (str, bytes, Mapping)) or not isinstance(history, Iterable):
            errors.append(FieldError("history", "must be a list of StageChange"))
            return
        history = opp.history = tuple(history)
    previous_target: str | None = None
    previous_at = opp.created_at
    for i, change in enumerate(history):
        path = f"history[{i}]"
        if type(change) is not StageChange:
            errors.append(FieldError(path, f"must be a StageChange, not {type(change).__name__}"))
            return
        if previous_target is not None and change.source != previous_target:
            errors.append(
                FieldError(
                    f"{path}.source",
                    f"must be {previous_target!r}, where the previous change led",
                )
            )
        if change.entered_at != previous_at:
            errors.append(
                FieldError(
                    f"{path}.entered_at",
                    f"must be {previous_at.isoformat()}, when the deal entered {change.source!r}",
                )
            )
        previous_target, previous_at = change.target, change.at
    if previous_target is not None and previous_target != opp.stage:
        errors.append(FieldError("stage", f"must be {previous_target!r}, where the history ends"))
    if opp.stage_entered_at != previous_at:
        errors.append(
            FieldError(
                "stage_entered_at",
                f"must be {previous_at.isoformat()}, when the history entered {opp.stage!r}",
            )
        )
