"""Hypothesis strategies for the pipeline context: valid pipeline definitions and opportunities.

:mod:`crmkit.testing.strategies` re-exports these. This module reaches the shared strategies
(money, ids, aware datetimes...) only when a strategy is built, never at import, so either module
may import the other first.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from types import ModuleType

from hypothesis import strategies as st

from crmkit.pipeline import (
    ChecklistItem,
    ContactRole,
    ForecastCategory,
    Guard,
    Opportunity,
    OpportunityContact,
    Pipeline,
    Predicate,
    RequiredField,
    Stage,
    StageKind,
    Transition,
)

__all__ = ["opportunities", "pipelines"]

#: The predicate names generated pipelines guard on; register them all (see ``PREDICATES``).
PREDICATE_NAMES = ("has_approved_quote", "credit_checked", "legal.review_done")

#: A registry where every predicate of :data:`PREDICATE_NAMES` holds.
PREDICATES: Mapping[str, Predicate] = {name: (lambda _opp: True) for name in PREDICATE_NAMES}

_OPEN_KEYS = (
    "lead",
    "qualified",
    "discovery",
    "demo",
    "proposal",
    "negotiation",
    "contract",
    "review",
    "poc",
)
_WON_KEYS = ("won", "closed_won", "signed", "renewed")
_LOST_KEYS = ("lost", "closed_lost", "no_decision", "churned")
_ITEM_KEYS = (
    "needs_analysis",
    "budget_confirmed",
    "decision_maker_met",
    "demo_done",
    "security_review",
    "quote_sent",
    "po_received",
)
_REASONS = ("price", "competitor", "no_budget", "no_decision", "timing", "other", "lost-contact")
_WON_REASONS = ("price", "relationship", "product_fit", "referral")
_LABELS: tuple[dict[str, str], ...] = (
    {},
    {"zh_Hant_TW": "階段"},
    {"zh_Hans_CN": "阶段", "en": "Stage"},
)


def _base() -> ModuleType:
    """The shared strategies module, imported on first use (see the module docstring)."""
    from crmkit.testing import strategies

    return strategies


def _keys(pool: tuple[str, ...], count: int) -> st.SearchStrategy[list[str]]:
    generated = st.from_regex(r"[a-z][a-z0-9_-]{0,11}", fullmatch=True)
    return st.lists(st.sampled_from(pool) | generated, min_size=count, max_size=count, unique=True)


@st.composite
def _pipeline(draw: st.DrawFn, key: str | None, revision: int | None) -> Pipeline:
    n_open = draw(st.integers(1, 6))
    n_won = draw(st.integers(1, 2))
    n_lost = draw(st.integers(1, 2))
    keys = draw(_keys(_OPEN_KEYS + _WON_KEYS + _LOST_KEYS, n_open + n_won + n_lost))
    open_keys, won_keys, lost_keys = (
        keys[:n_open],
        keys[n_open : n_open + n_won],
        keys[n_open + n_won :],
    )
    items = draw(st.lists(st.sampled_from(_ITEM_KEYS), unique=True, max_size=5))
    checklists: dict[str, list[ChecklistItem]] = {k: [] for k in open_keys}
    for item in items:
        checklists[draw(st.sampled_from(open_keys))].append(
            ChecklistItem(item, item.replace("_", " ").capitalize())
        )
    guard_pool = (
        [Guard.requires(f) for f in RequiredField]
        + [Guard.checklist(item) for item in items]
        + [
            Guard.predicate(name, draw(st.none() | st.just(f"{name} to be true")))
            for name in PREDICATE_NAMES
        ]
    )

    def guards(max_size: int) -> list[Guard]:
        return draw(
            st.lists(
                st.sampled_from(guard_pool),
                max_size=max_size,
                unique_by=lambda g: (g.kind, g.name),
            )
        )

    stall = st.none() | st.integers(1, 60)
    stages = [
        Stage(
            k,
            k.replace("_", " ").title(),
            draw(st.integers(0, 100)),
            forecast_category=draw(
                st.sampled_from(
                    (ForecastCategory.PIPELINE, ForecastCategory.BEST_CASE, ForecastCategory.COMMIT)
                )
            ),
            labels=draw(st.sampled_from(_LABELS)),
            checklist=checklists[k],
            guards=guards(1) if i else [],
            stall_after_days=draw(stall),
        )
        for i, k in enumerate(open_keys)
    ]
    stages += [Stage(k, k.title(), 100, kind=StageKind.WON) for k in won_keys]
    stages += [Stage(k, k.title(), 0, kind=StageKind.LOST) for k in lost_keys]
    pairs: list[tuple[str, str]] = list(itertools.pairwise(open_keys))
    pairs += [(open_keys[-1], w) for w in won_keys]
    pairs += [(draw(st.sampled_from(open_keys)), lost) for lost in lost_keys]
    every = [s.key for s in stages]
    extra = draw(st.lists(st.tuples(st.sampled_from(every), st.sampled_from(every)), max_size=8))
    for source, target in extra:
        if source != target and (source, target) not in pairs:
            pairs.append((source, target))
    transitions = [Transition(a, b, guards=guards(3)) for a, b in pairs]
    lost_reasons = draw(st.lists(st.sampled_from(_REASONS), min_size=1, max_size=4, unique=True))
    won_reasons = draw(st.lists(st.sampled_from(_WON_REASONS), max_size=3, unique=True))
    return Pipeline(
        key=key
        if key is not None
        else draw(st.sampled_from(("new_business", "renewal", "upsell"))),
        revision=revision if revision is not None else draw(st.integers(1, 5)),
        name=draw(st.sampled_from(("New business", "Renewal", "Upsell", "新客戶"))),
        labels=draw(st.sampled_from(_LABELS)),
        stages=stages,
        transitions=transitions,
        lost_reasons=lost_reasons,
        won_reasons=won_reasons,
        inactive_after_days=draw(stall),
    )


def pipelines(
    *, key: str | None = None, revision: int | None = None
) -> st.SearchStrategy[Pipeline]:
    """Valid random pipeline definitions: 1-6 open stages, 1-2 won and 1-2 lost stages.

    Every stage is reachable and every open stage can close (a chain through the open stages
    to each won stage, a way into each lost stage), plus up to 8 random transitions: skips,
    moves back, reopenings, won to lost. Guards mix required fields, checklist items of the
    stages and the predicates named in ``PREDICATE_NAMES`` of this module.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=20, database=None)
        ... @given(pipelines(key="renewal"))
        ... def test_first_stage_is_open(pipeline):
        ...     assert pipeline.key == "renewal" and pipeline.initial_stage.is_open
        >>> test_first_stage_is_open()

    .. versionadded:: 0.1.0
    """
    return _pipeline(key, revision)


def _satisfy(
    draw: st.DrawFn, opp: Opportunity, pipeline: Pipeline, now: datetime, currency: str
) -> None:
    """Give ``opp`` everything any guard may require (so every defined move can be taken)."""
    base = _base()
    if (opp.amount is None or opp.amount.is_zero()) and opp.stage_kind is not StageKind.WON:
        opp.change_amount(draw(base.money(currency, min_value=1)), now=now)
    if opp.expected_close_date is None:
        opp.change_close_date(now.date() + timedelta(days=draw(st.integers(0, 365))), now=now)
    if not any(c.role is ContactRole.DECISION_MAKER for c in opp.contacts):
        opp.add_contact(draw(base.ids("con")), ContactRole.DECISION_MAKER, now=now)
    if opp.owner is None:
        opp.assign_owner(draw(base.ids("usr")), now=now)
    if opp.next_step is None:
        opp.set_next_step("Send the quote", now=now)
    for stage in pipeline.stages:
        for item in stage.checklist:
            opp.tick(item.key, pipeline=pipeline, now=now)


@st.composite
def _opportunity(
    draw: st.DrawFn,
    pipeline_strategy: st.SearchStrategy[Pipeline],
    max_moves: int,
    versions: st.SearchStrategy[int],
) -> Opportunity:
    base = _base()
    pipeline = draw(pipeline_strategy)
    now = draw(base.aware_datetimes())
    currency = draw(st.sampled_from(("TWD", "CNY", "USD", "JPY")))
    opp = Opportunity.open(
        id=draw(base.ids("opp")),
        customer_id=draw(base.ids("cus")),
        name=draw(base.names()),
        pipeline=pipeline,
        now=now,
        owner=draw(st.none() | base.ids("usr")),
        amount=draw(st.none() | base.money(currency, min_value=0)),
        expected_close_date=draw(st.none() | st.dates(date(2020, 1, 1), date(2035, 12, 31))),
        contacts=draw(
            st.lists(
                st.builds(OpportunityContact, base.ids("con"), st.sampled_from(ContactRole)),
                max_size=3,
                unique_by=lambda c: c.contact_id,
            )
        ),
        by=draw(st.none() | base.ids("usr")),
    )
    if max_moves and draw(st.booleans()):
        _satisfy(draw, opp, pipeline, now, currency)
    compiled = pipeline.compile()
    for _ in range(draw(st.integers(0, max_moves))):
        targets = opp.allowed_moves(compiled)
        if not targets:
            break
        to = draw(st.sampled_from(targets))
        now = now + timedelta(seconds=draw(st.integers(0, 30 * 86400)))
        edge = compiled.edges[opp.stage][to]
        reason: str | None = None
        if edge.reasons is not None:
            reason = draw(st.sampled_from(edge.reasons))
        elif edge.reopens:
            reason = "the customer came back"
        if opp.blockers(to, pipeline=compiled, predicates=PREDICATES, reason=reason):
            _satisfy(draw, opp, pipeline, now, currency)
            if opp.blockers(to, pipeline=compiled, predicates=PREDICATES, reason=reason):
                continue  # e.g. a reopening that needs an amount a won deal keeps locked
        opp.move(
            to,
            pipeline=compiled,
            now=now,
            by=draw(st.none() | base.ids("usr")),
            predicates=PREDICATES,
            reason=reason,
        )
    opp.pull_events()
    opp.version = draw(versions)
    return opp


def opportunities(
    pipelines: st.SearchStrategy[Pipeline] | Pipeline | None = None,
    *,
    max_moves: int = 8,
    versions: st.SearchStrategy[int] | None = None,
) -> st.SearchStrategy[Opportunity]:
    """Valid opportunities, opened in a drawn pipeline and moved up to ``max_moves`` times.

    ``pipelines`` is a pipeline, or a strategy of them (default: :func:`pipelines`). Moves follow
    the pipeline's transitions; when a guard stands in the way the deal first gets what it lacks
    (amount, close date, decision maker, owner, next step, checklist), so the histories are ones
    the rules allow. Drawn deals carry no pending events; ``versions`` defaults to 0.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(opportunities(max_moves=4))
        ... def test_history_ends_in_the_stage(deal):
        ...     assert deal.stages_visited()[-1] == deal.stage and not deal.pending_events
        >>> test_history_ends_in_the_stage()

    .. versionadded:: 0.1.0
    """
    if isinstance(pipelines, Pipeline):
        source: st.SearchStrategy[Pipeline] = st.just(pipelines)
    else:
        source = pipelines if pipelines is not None else _pipeline(None, None)
    return _opportunity(source, max_moves, versions if versions is not None else st.just(0))
