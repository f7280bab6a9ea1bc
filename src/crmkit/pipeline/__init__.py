"""The sales pipeline: pipeline definitions as data, opportunities moving through them, forecasts.

* :class:`Pipeline` (with :class:`Stage`, :class:`Transition`, :class:`Guard`): stages, the moves
  allowed between them and what must hold first; validated when built, versioned by revision.
* :class:`Opportunity`: a deal; :meth:`Opportunity.move` checks the graph and every guard and
  lists all that is missing when it refuses.
* :mod:`crmkit.pipeline.forecast`: weighted pipeline, conversion, time in stage, stalled deals;
  :mod:`crmkit.pipeline.events`: the events deals and definitions record.
* :data:`OPPORTUNITIES` and :data:`PIPELINES` tell adapters how to store deals and pipeline
  revisions (one record per ``key@revision``) and which fields queries may use;
  :data:`DEFAULT_LOST_REASONS` is the lost-reason list a pipeline gets unless it sets its own;
  :data:`Predicate` is the type of the host's named guard functions.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.money import Money
    >>> from crmkit.pipeline import Guard, Opportunity, Pipeline, Stage, Transition
    >>> sales = Pipeline(key="new_business", name="New business",
    ...     stages=[Stage("lead", "Lead", 10), Stage("won", "Won", 100, kind="won"),
    ...             Stage("lost", "Lost", 0, kind="lost")],
    ...     transitions=[Transition("lead", "won", guards=[Guard.requires("amount")]),
    ...                  Transition("lead", "lost")])
    >>> now = datetime(2026, 3, 2, tzinfo=timezone.utc)
    >>> deal = Opportunity.open(id="opp_1", customer_id="cus_1", name="Acme", pipeline=sales,
    ...                         now=now, amount=Money("5000", "USD"))
    >>> deal.move("won", pipeline=sales, now=now).target, deal.probability
    ('won', 100)

.. versionadded:: 0.1.0
"""

from crmkit.pipeline._model import (
    ContactRole,
    Opportunity,
    OpportunityContact,
    StageChange,
    move_many,
)
from crmkit.pipeline._records import OPPORTUNITIES, PIPELINES
from crmkit.pipeline.definition import (
    DEFAULT_LOST_REASONS,
    Blocker,
    ChecklistItem,
    CompiledPipeline,
    ForecastCategory,
    Guard,
    GuardKind,
    Migration,
    Pipeline,
    Predicate,
    RequiredField,
    Stage,
    StageKind,
    Transition,
)

__all__ = [
    "Blocker",
    "ChecklistItem",
    "CompiledPipeline",
    "ContactRole",
    "DEFAULT_LOST_REASONS",
    "ForecastCategory",
    "Guard",
    "GuardKind",
    "Migration",
    "OPPORTUNITIES",
    "Opportunity",
    "OpportunityContact",
    "PIPELINES",
    "Pipeline",
    "Predicate",
    "RequiredField",
    "Stage",
    "StageChange",
    "StageKind",
    "Transition",
    "move_many",
]
