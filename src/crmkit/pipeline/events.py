"""Domain events of the pipeline context.

An opportunity records one event per change: opened, moved between stages, amount or close date
changed, probability overridden, checklist ticked, contacts and owner changed, moved to another
pipeline (or revision). A pipeline definition records :class:`PipelineDefined` when it is
published. Events carry what a subscriber needs (notify the owner, update a forecast, audit who
moved what) and no personal data beyond ids.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.pipeline.events import OpportunityStageChanged
    >>> now = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    >>> e = OpportunityStageChanged(aggregate_id="opp_1", occurred_at=now, actor="u_amy",
    ...     pipeline_key="new_business", source="qualified", target="proposal",
    ...     stage_kind="open", probability=40, entered_source_at=now)
    >>> e.event_type, e.source, e.target
    ('pipeline.OpportunityStageChanged', 'qualified', 'proposal')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money

__all__ = [
    "OpportunityActivityRecorded",
    "OpportunityAmountChanged",
    "OpportunityChecklistChanged",
    "OpportunityCloseDateChanged",
    "OpportunityContactsChanged",
    "OpportunityNextStepSet",
    "OpportunityOpened",
    "OpportunityOwnerAssigned",
    "OpportunityPipelineChanged",
    "OpportunityProbabilityChanged",
    "OpportunityStageChanged",
    "PipelineDefined",
]


@attrs.frozen(kw_only=True)
class PipelineDefined(DomainEvent):
    """A pipeline definition (one revision of it) was published.

    Example:
        >>> PipelineDefined.event_type
        'pipeline.PipelineDefined'

    .. versionadded:: 0.1.0
    """

    event_type = "pipeline.PipelineDefined"
    key: str
    revision: int
    stages: tuple[str, ...]


@attrs.frozen(kw_only=True)
class OpportunityOpened(DomainEvent):
    """A new opportunity (deal) was opened for a customer in a pipeline.

    Example:
        >>> OpportunityOpened.event_type
        'pipeline.OpportunityOpened'

    .. versionadded:: 0.1.0
    """

    event_type = "pipeline.OpportunityOpened"
    customer_id: str
    name: str
    pipeline_key: str
    pipeline_revision: int
    stage: str
    owner: str | None = None
    amount: Money | None = None
    expected_close_date: date | None = None


@attrs.frozen(kw_only=True)
class OpportunityStageChanged(DomainEvent):
    """An opportunity moved from ``source`` to ``target`` along a defined transition.

    ``stage_kind`` is the kind of the target (``open``, ``won`` or ``lost``): a subscriber that
    only cares about won deals filters on it. ``reason`` is the lost (or won) reason code, or why
    a closed deal was reopened. ``entered_source_at`` is when the deal entered ``source``, so
    ``occurred_at - entered_source_at`` is the time it spent there.

    Example:
        >>> OpportunityStageChanged.event_type
        'pipeline.OpportunityStageChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "pipeline.OpportunityStageChanged"
    pipeline_key: str
    source: str
    target: str
    stage_kind: str
    probability: int
    entered_source_at: datetime
    reason: str | None = None


@attrs.frozen(kw_only=True)
class OpportunityPipelineChanged(DomainEvent):
    """An opportunity was moved to another pipeline, or migrated to a new revision of its own.

    ``old_stage`` and ``new_stage`` differ when the stage was mapped (a removed stage, or the
    explicit stage chosen in the other pipeline).

    Example:
        >>> OpportunityPipelineChanged.event_type
        'pipeline.OpportunityPipelineChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "pipeline.OpportunityPipelineChanged"
    old_pipeline_key: str
    old_revision: int
    new_pipeline_key: str
    new_revision: int
    old_stage: str
    new_stage: str


@attrs.frozen(kw_only=True)
class OpportunityAmountChanged(DomainEvent):
    """The amount of an opportunity was set, changed or cleared (``None``).

    Example:
        >>> OpportunityAmountChanged.event_type
        'pipeline.OpportunityAmountChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "pipeline.OpportunityAmountChanged"
    old: Money | None
    new: Money | None


@attrs.frozen(kw_only=True)
class OpportunityCloseDateChanged(DomainEvent):
    """The expected close date was set, changed or cleared (``None``).

    Example:
        >>> OpportunityCloseDateChanged.event_type
        'pipeline.OpportunityCloseDateChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "pipeline.OpportunityCloseDateChanged"
    old: date | None
    new: date | None


@attrs.frozen(kw_only=True)
class OpportunityProbabilityChanged(DomainEvent):
    """A rep overrode the probability (``override`` set) or cleared the override (``None``).

    ``probability`` is the probability in force afterwards.

    Example:
        >>> OpportunityProbabilityChanged.event_type
        'pipeline.OpportunityProbabilityChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "pipeline.OpportunityProbabilityChanged"
    override: int | None
    probability: int


@attrs.frozen(kw_only=True)
class OpportunityChecklistChanged(DomainEvent):
    """A checklist item was ticked (``done=True``) or unticked.

    Example:
        >>> OpportunityChecklistChanged.event_type
        'pipeline.OpportunityChecklistChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "pipeline.OpportunityChecklistChanged"
    item: str
    done: bool


@attrs.frozen(kw_only=True)
class OpportunityContactsChanged(DomainEvent):
    """A contact was added to the deal with a role (``role`` set) or removed (``None``).

    Example:
        >>> OpportunityContactsChanged.event_type
        'pipeline.OpportunityContactsChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "pipeline.OpportunityContactsChanged"
    contact_id: str
    role: str | None


@attrs.frozen(kw_only=True)
class OpportunityOwnerAssigned(DomainEvent):
    """The deal was given to another owner (or to nobody, ``None``).

    Example:
        >>> OpportunityOwnerAssigned.event_type
        'pipeline.OpportunityOwnerAssigned'

    .. versionadded:: 0.1.0
    """

    event_type = "pipeline.OpportunityOwnerAssigned"
    old_owner: str | None
    new_owner: str | None


@attrs.frozen(kw_only=True)
class OpportunityNextStepSet(DomainEvent):
    """The next step of the deal was set or cleared (``None``).

    Example:
        >>> OpportunityNextStepSet.event_type
        'pipeline.OpportunityNextStepSet'

    .. versionadded:: 0.1.0
    """

    event_type = "pipeline.OpportunityNextStepSet"
    next_step: str | None


@attrs.frozen(kw_only=True)
class OpportunityActivityRecorded(DomainEvent):
    """Something happened on the deal (a call, a meeting) at ``at``: it is not idle.

    Example:
        >>> OpportunityActivityRecorded.event_type
        'pipeline.OpportunityActivityRecorded'

    .. versionadded:: 0.1.0
    """

    event_type = "pipeline.OpportunityActivityRecorded"
    at: datetime
