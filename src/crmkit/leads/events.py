"""Domain events of the leads context.

Events carry what a subscriber needs to react (notify the new owner, remind about a follow-up,
feed analytics) and no more personal data than that: names and companies, not emails or phones.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.leads.events import LeadCaptured
    >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> e = LeadCaptured(aggregate_id="lead_1", occurred_at=now, source_channel="trade_show",
    ...                  campaign="2023 trade show")
    >>> e.event_type, e.campaign
    ('leads.LeadCaptured', '2023 trade show')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import attrs

from crmkit.kernel.events import DomainEvent

__all__ = [
    "LeadActivityLogged",
    "LeadCaptureMerged",
    "LeadCaptured",
    "LeadContacted",
    "LeadConverted",
    "LeadDuplicateCleared",
    "LeadFlaggedAsDuplicate",
    "LeadFollowUpScheduled",
    "LeadLinkedToCustomer",
    "LeadOwnerAssigned",
    "LeadQualificationAnswered",
    "LeadScored",
    "LeadStatusChanged",
    "LeadUpdated",
]


@attrs.frozen(kw_only=True)
class LeadCaptured(DomainEvent):
    """A lead was captured from a channel (web form, trade show, ads...).

    Example:
        >>> LeadCaptured.event_type
        'leads.LeadCaptured'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadCaptured"
    source_channel: str
    campaign: str | None = None
    external_ref: str | None = None
    name: str | None = None
    company: str | None = None
    owner: str | None = None
    follow_up_due_at: datetime | None = None


@attrs.frozen(kw_only=True)
class LeadUpdated(DomainEvent):
    """Some of a lead's person or company details changed; ``fields`` names which.

    Example:
        >>> LeadUpdated.event_type
        'leads.LeadUpdated'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadUpdated"
    fields: tuple[str, ...]


@attrs.frozen(kw_only=True)
class LeadCaptureMerged(DomainEvent):
    """Another capture of the same person was merged into this lead (the "merge" policy).

    ``merged_lead_id`` is the id the new capture had; ``filled`` names the empty fields it
    filled in; ``match_reason`` says why it was taken for the same person.

    Example:
        >>> LeadCaptureMerged.event_type
        'leads.LeadCaptureMerged'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadCaptureMerged"
    merged_lead_id: str
    source_channel: str
    campaign: str | None = None
    external_ref: str | None = None
    filled: tuple[str, ...] = ()
    match_reason: str | None = None


@attrs.frozen(kw_only=True)
class LeadActivityLogged(DomainEvent):
    """An activity (email opened, page visited, call...) was added to the lead's history.

    Example:
        >>> LeadActivityLogged.event_type
        'leads.LeadActivityLogged'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadActivityLogged"
    kind: str
    at: datetime
    by: str | None = None


@attrs.frozen(kw_only=True)
class LeadContacted(DomainEvent):
    """Someone of ours reached the lead; ``first`` is true for the first contact.

    ``follow_up_due_at`` is the speed-to-lead deadline that was in force (``None``: none was set),
    so a subscriber can tell whether the first contact was in time.

    Example:
        >>> LeadContacted.event_type
        'leads.LeadContacted'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadContacted"
    at: datetime
    by: str | None
    first: bool
    follow_up_due_at: datetime | None = None


@attrs.frozen(kw_only=True)
class LeadStatusChanged(DomainEvent):
    """The lead moved along its status graph (``reason`` for disqualifications and recycling).

    Example:
        >>> LeadStatusChanged.event_type
        'leads.LeadStatusChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadStatusChanged"
    old: str
    new: str
    reason: str | None = None


@attrs.frozen(kw_only=True)
class LeadOwnerAssigned(DomainEvent):
    """The lead got a new owner; ``rule`` and ``reason`` say which assignment rule chose it.

    Example:
        >>> LeadOwnerAssigned.event_type
        'leads.LeadOwnerAssigned'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadOwnerAssigned"
    old_owner: str | None
    new_owner: str | None
    rule: str
    reason: str


@attrs.frozen(kw_only=True)
class LeadFollowUpScheduled(DomainEvent):
    """The speed-to-lead deadline was set, moved or cleared (``None``).

    Example:
        >>> LeadFollowUpScheduled.event_type
        'leads.LeadFollowUpScheduled'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadFollowUpScheduled"
    due_at: datetime | None


@attrs.frozen(kw_only=True)
class LeadQualificationAnswered(DomainEvent):
    """A qualification criterion was answered (met or not).

    Example:
        >>> LeadQualificationAnswered.event_type
        'leads.LeadQualificationAnswered'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadQualificationAnswered"
    framework: str
    criterion: str
    met: bool
    complete: bool


@attrs.frozen(kw_only=True)
class LeadScored(DomainEvent):
    """The lead's stored score or fit grade changed.

    Example:
        >>> LeadScored.event_type
        'leads.LeadScored'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadScored"
    model: str
    total: Decimal
    fit_grade: str
    old_total: Decimal | None = None
    old_fit_grade: str | None = None


@attrs.frozen(kw_only=True)
class LeadLinkedToCustomer(DomainEvent):
    """The lead was linked to an existing customer (the "link" duplicate policy).

    Example:
        >>> LeadLinkedToCustomer.event_type
        'leads.LeadLinkedToCustomer'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadLinkedToCustomer"
    customer_id: str
    contact_id: str | None
    reason: str


@attrs.frozen(kw_only=True)
class LeadFlaggedAsDuplicate(DomainEvent):
    """The lead was flagged as a likely duplicate of another record ("create and flag").

    Example:
        >>> LeadFlaggedAsDuplicate.event_type
        'leads.LeadFlaggedAsDuplicate'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadFlaggedAsDuplicate"
    of: str
    reason: str


@attrs.frozen(kw_only=True)
class LeadDuplicateCleared(DomainEvent):
    """A duplicate flag was reviewed and cleared: the lead is someone else after all.

    Example:
        >>> LeadDuplicateCleared.event_type
        'leads.LeadDuplicateCleared'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadDuplicateCleared"
    of: str


@attrs.frozen(kw_only=True)
class LeadConverted(DomainEvent):
    """The qualified lead became a customer, a contact and, optionally, an opportunity.

    ``source_channel`` and ``campaign`` travel with it for attribution.

    Example:
        >>> LeadConverted.event_type
        'leads.LeadConverted'

    .. versionadded:: 0.1.0
    """

    event_type = "leads.LeadConverted"
    customer_id: str
    contact_id: str
    opportunity_id: str | None
    source_channel: str
    campaign: str | None = None
