"""Domain events of the service context: complaints, their SLA clocks, and work orders.

Events carry what a subscriber needs to react (grant goodwill points through the loyalty
context, page the team lead on an escalation) and no more personal data than that: ids and
references, never the text of internal notes.

The last five (:class:`SlaDeadlineApproaching`, :class:`SlaDeadlinePassed`,
:class:`CsatSurveyDue`, :class:`MaintenanceVisitDue`, :class:`MaintenanceRenewalDue`) are events
time makes happen: no aggregate records them; the service triggers of :mod:`crmkit.app.service`
find them at ``now`` with stable ids, and carry the names a message template greets.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.service.events import ComplaintFiled
    >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
    >>> e = ComplaintFiled(aggregate_id="case_1", occurred_at=now, reference="CS-1001",
    ...                    customer_id="cus_1", channel="email", category="delivery",
    ...                    priority="high")
    >>> e.event_type, e.reference
    ('service.ComplaintFiled', 'CS-1001')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money

__all__ = [
    "AttachmentAdded",
    "CompensationGranted",
    "ComplaintAssigned",
    "ComplaintCancelled",
    "ComplaintEscalated",
    "ComplaintFiled",
    "ComplaintReopened",
    "ComplaintReplied",
    "ComplaintReprioritised",
    "ComplaintResolved",
    "ComplaintStatusChanged",
    "CsatRecorded",
    "CsatSurveyDue",
    "CustomerMessageReceived",
    "DuplicateLinked",
    "InternalNoteAdded",
    "MaintenanceContractRenewed",
    "MaintenanceContractSigned",
    "MaintenanceRenewalDue",
    "MaintenanceVisitDue",
    "NextUpdatePromised",
    "SlaBreached",
    "SlaDeadlineApproaching",
    "SlaDeadlinePassed",
    "WorkOrderCancelled",
    "WorkOrderCompleted",
    "WorkOrderDispatched",
    "WorkOrderOpened",
    "WorkOrderPartUsed",
    "WorkOrderStarted",
]


@attrs.frozen(kw_only=True)
class ComplaintFiled(DomainEvent):
    """A complaint was filed through a channel and given its public reference.

    Example:
        >>> ComplaintFiled.event_type
        'service.ComplaintFiled'

    .. versionadded:: 0.1.0
    """

    event_type = "service.ComplaintFiled"
    reference: str
    customer_id: str
    channel: str
    category: str
    priority: str
    owner: str | None = None
    team: str | None = None


@attrs.frozen(kw_only=True)
class ComplaintStatusChanged(DomainEvent):
    """A complaint moved from one status to another (every move, with who and why).

    Example:
        >>> ComplaintStatusChanged.event_type
        'service.ComplaintStatusChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "service.ComplaintStatusChanged"
    old: str
    new: str
    reason: str | None = None


@attrs.frozen(kw_only=True)
class ComplaintAssigned(DomainEvent):
    """A complaint was given to an owner (and team), by a rule or by hand.

    Example:
        >>> ComplaintAssigned.event_type
        'service.ComplaintAssigned'

    .. versionadded:: 0.1.0
    """

    event_type = "service.ComplaintAssigned"
    old_owner: str | None
    new_owner: str | None
    team: str | None
    rule: str
    reason: str


@attrs.frozen(kw_only=True)
class ComplaintReprioritised(DomainEvent):
    """A complaint's impact and urgency were reassessed, giving a new priority.

    Example:
        >>> ComplaintReprioritised.event_type
        'service.ComplaintReprioritised'

    .. versionadded:: 0.1.0
    """

    event_type = "service.ComplaintReprioritised"
    old_priority: str
    new_priority: str
    reason: str | None = None


@attrs.frozen(kw_only=True)
class ComplaintReplied(DomainEvent):
    """An agent sent the customer a public reply (the first one meets the first-response target).

    Example:
        >>> ComplaintReplied.event_type
        'service.ComplaintReplied'

    .. versionadded:: 0.1.0
    """

    event_type = "service.ComplaintReplied"
    first_response: bool


@attrs.frozen(kw_only=True)
class CustomerMessageReceived(DomainEvent):
    """The customer wrote on the case; a case awaiting them resumes.

    Example:
        >>> CustomerMessageReceived.event_type
        'service.CustomerMessageReceived'

    .. versionadded:: 0.1.0
    """

    event_type = "service.CustomerMessageReceived"
    resumed: bool


@attrs.frozen(kw_only=True)
class InternalNoteAdded(DomainEvent):
    """Someone added an internal note (its text stays on the case, not in the event).

    Example:
        >>> InternalNoteAdded.event_type
        'service.InternalNoteAdded'

    .. versionadded:: 0.1.0
    """

    event_type = "service.InternalNoteAdded"


@attrs.frozen(kw_only=True)
class AttachmentAdded(DomainEvent):
    """A file was attached to the case by reference.

    Example:
        >>> AttachmentAdded.event_type
        'service.AttachmentAdded'

    .. versionadded:: 0.1.0
    """

    event_type = "service.AttachmentAdded"
    ref: str


@attrs.frozen(kw_only=True)
class DuplicateLinked(DomainEvent):
    """The case was linked to another case about the same problem.

    Example:
        >>> DuplicateLinked.event_type
        'service.DuplicateLinked'

    .. versionadded:: 0.1.0
    """

    event_type = "service.DuplicateLinked"
    other_case_id: str


@attrs.frozen(kw_only=True)
class NextUpdatePromised(DomainEvent):
    """An agent told the customer when they will hear from us next.

    Example:
        >>> NextUpdatePromised.event_type
        'service.NextUpdatePromised'

    .. versionadded:: 0.1.0
    """

    event_type = "service.NextUpdatePromised"
    at: datetime


@attrs.frozen(kw_only=True)
class ComplaintResolved(DomainEvent):
    """A complaint was resolved: the moment to send the customer a CSAT survey.

    Example:
        >>> ComplaintResolved.event_type
        'service.ComplaintResolved'

    .. versionadded:: 0.1.0
    """

    event_type = "service.ComplaintResolved"
    reference: str
    customer_id: str
    contact_id: str | None
    root_cause: str | None


@attrs.frozen(kw_only=True)
class ComplaintReopened(DomainEvent):
    """A resolved or closed complaint was reopened within the reopen window.

    Example:
        >>> ComplaintReopened.event_type
        'service.ComplaintReopened'

    .. versionadded:: 0.1.0
    """

    event_type = "service.ComplaintReopened"
    reason: str
    times: int


@attrs.frozen(kw_only=True)
class ComplaintCancelled(DomainEvent):
    """A complaint was cancelled as a duplicate of another case, or as spam.

    Example:
        >>> ComplaintCancelled.event_type
        'service.ComplaintCancelled'

    .. versionadded:: 0.1.0
    """

    event_type = "service.ComplaintCancelled"
    reason: str
    duplicate_of: str | None = None


@attrs.frozen(kw_only=True)
class CompensationGranted(DomainEvent):
    """Compensation was granted on a case.

    The app layer turns it into a refund, a coupon (pricing context) or goodwill points
    (loyalty context).

    Example:
        >>> CompensationGranted.event_type
        'service.CompensationGranted'

    .. versionadded:: 0.1.0
    """

    event_type = "service.CompensationGranted"
    reference: str
    kind: str
    customer_id: str
    amount: Money | None = None
    points: int | None = None
    approved_by: str
    approver_role: str


@attrs.frozen(kw_only=True)
class CsatRecorded(DomainEvent):
    """The customer's satisfaction score (1-5) was recorded on the case.

    Example:
        >>> CsatRecorded.event_type
        'service.CsatRecorded'

    .. versionadded:: 0.1.0
    """

    event_type = "service.CsatRecorded"
    score: int


@attrs.frozen(kw_only=True)
class SlaBreached(DomainEvent):
    """An SLA target's deadline passed without the target being met (recorded once per target).

    Example:
        >>> SlaBreached.event_type
        'service.SlaBreached'

    .. versionadded:: 0.1.0
    """

    event_type = "service.SlaBreached"
    target: str
    deadline: datetime
    policy: str


@attrs.frozen(kw_only=True)
class ComplaintEscalated(DomainEvent):
    """An escalation level's timer ran out: ``notify`` (a role) should step in.

    Example:
        >>> ComplaintEscalated.event_type
        'service.ComplaintEscalated'

    .. versionadded:: 0.1.0
    """

    event_type = "service.ComplaintEscalated"
    target: str
    level: str
    notify: str | None
    due_at: datetime


@attrs.frozen(kw_only=True)
class MaintenanceContractSigned(DomainEvent):
    """A maintenance contract was signed for a customer's installed equipment.

    Example:
        >>> MaintenanceContractSigned.event_type
        'service.MaintenanceContractSigned'

    .. versionadded:: 0.1.0
    """

    event_type = "service.MaintenanceContractSigned"
    customer_id: str
    starts_on: date
    ends_on: date


@attrs.frozen(kw_only=True)
class MaintenanceContractRenewed(DomainEvent):
    """A maintenance contract was renewed until a later date.

    Example:
        >>> MaintenanceContractRenewed.event_type
        'service.MaintenanceContractRenewed'

    .. versionadded:: 0.1.0
    """

    event_type = "service.MaintenanceContractRenewed"
    old_ends_on: date
    new_ends_on: date


@attrs.frozen(kw_only=True)
class WorkOrderOpened(DomainEvent):
    """A work order was opened for a piece of equipment.

    Example:
        >>> WorkOrderOpened.event_type
        'service.WorkOrderOpened'

    .. versionadded:: 0.1.0
    """

    event_type = "service.WorkOrderOpened"
    serial: str
    kind: str
    contract_id: str | None = None
    case_id: str | None = None


@attrs.frozen(kw_only=True)
class WorkOrderDispatched(DomainEvent):
    """A work order was dispatched to a technician for a time window (again: rescheduled).

    Example:
        >>> WorkOrderDispatched.event_type
        'service.WorkOrderDispatched'

    .. versionadded:: 0.1.0
    """

    event_type = "service.WorkOrderDispatched"
    technician: str
    start: datetime
    end: datetime


@attrs.frozen(kw_only=True)
class WorkOrderStarted(DomainEvent):
    """The technician started the work on site.

    Example:
        >>> WorkOrderStarted.event_type
        'service.WorkOrderStarted'

    .. versionadded:: 0.1.0
    """

    event_type = "service.WorkOrderStarted"


@attrs.frozen(kw_only=True)
class WorkOrderPartUsed(DomainEvent):
    """A part was used on a work order.

    Example:
        >>> WorkOrderPartUsed.event_type
        'service.WorkOrderPartUsed'

    .. versionadded:: 0.1.0
    """

    event_type = "service.WorkOrderPartUsed"
    sku: str
    quantity: int


@attrs.frozen(kw_only=True)
class WorkOrderCompleted(DomainEvent):
    """The work was done; the resolution notes are on the work order.

    Example:
        >>> WorkOrderCompleted.event_type
        'service.WorkOrderCompleted'

    .. versionadded:: 0.1.0
    """

    event_type = "service.WorkOrderCompleted"
    serial: str
    contract_id: str | None = None


@attrs.frozen(kw_only=True)
class WorkOrderCancelled(DomainEvent):
    """A work order was cancelled before the work was done.

    Example:
        >>> WorkOrderCancelled.event_type
        'service.WorkOrderCancelled'

    .. versionadded:: 0.1.0
    """

    event_type = "service.WorkOrderCancelled"
    reason: str


# ----- events that time makes happen ------------------------------------------------------------
# No aggregate records these: the service triggers (crmkit.app.service) find them when they scan
# the store at ``now``, with an ``event_id`` stable for what they are about
# (crmkit.notifications.events.occurrence_id), and the dispatcher routes them to templates.


@attrs.frozen(kw_only=True)
class SlaDeadlineApproaching(DomainEvent):
    """A case's SLA clock passed its warning share: ``due_at`` is near and the target unmet.

    The fields fill the built-in ``sla_first_response_due`` and ``sla_resolution_due``
    templates: ``name`` is whom it greets (the owner's name), ``case`` the case reference,
    ``customer`` the customer's name. ``owner`` (a user id) is what ``Recipient.user("owner")``
    reaches; ``target`` is ``first_response`` or ``resolution``.

    Example:
        >>> SlaDeadlineApproaching.event_type
        'service.SlaDeadlineApproaching'

    .. versionadded:: 0.1.0
    """

    event_type = "service.SlaDeadlineApproaching"
    owner: str | None
    team: str | None
    name: str
    case: str
    customer: str
    target: str
    policy: str
    due_at: datetime


@attrs.frozen(kw_only=True)
class SlaDeadlinePassed(DomainEvent):
    """A case's SLA deadline ``due_at`` passed with the target unmet (the ``sla_breached`` alert).

    Fields as :class:`SlaDeadlineApproaching`.

    Example:
        >>> SlaDeadlinePassed.event_type
        'service.SlaDeadlinePassed'

    .. versionadded:: 0.1.0
    """

    event_type = "service.SlaDeadlinePassed"
    owner: str | None
    team: str | None
    name: str
    case: str
    customer: str
    target: str
    policy: str
    due_at: datetime


@attrs.frozen(kw_only=True)
class CsatSurveyDue(DomainEvent):
    """A case was resolved: ask its contact how satisfied they are (the ``csat_survey`` template).

    ``name`` is the contact's name, ``case`` the case reference; ``contact_id`` is what
    ``Recipient.contact("contact_id")`` reaches (``None`` for a case filed without a contact:
    there is no one to ask).

    Example:
        >>> CsatSurveyDue.event_type
        'service.CsatSurveyDue'

    .. versionadded:: 0.1.0
    """

    event_type = "service.CsatSurveyDue"
    customer_id: str
    contact_id: str | None
    name: str
    case: str
    resolved_at: datetime


@attrs.frozen(kw_only=True)
class MaintenanceVisitDue(DomainEvent):
    """A contract's service visit is coming up on ``due_at`` (the ``maintenance_due`` template).

    ``asset`` describes the equipment (model and serial); ``name`` is whom it greets (the
    customer's first contact, else the customer); ``moved_because`` says why the visit moved off
    the plan's date, if it did.

    Example:
        >>> MaintenanceVisitDue.event_type
        'service.MaintenanceVisitDue'

    .. versionadded:: 0.1.0
    """

    event_type = "service.MaintenanceVisitDue"
    customer_id: str
    contact_id: str | None
    name: str
    asset: str
    due_at: date
    plan: str
    moved_because: str | None = None


@attrs.frozen(kw_only=True)
class MaintenanceRenewalDue(DomainEvent):
    """A maintenance contract ends on ``due_at`` and its renewal notice has started.

    The fields fill the ``maintenance_renewal_due`` template: ``name`` (the customer's first
    contact, else the customer), ``contract`` (its id), ``due_at``.

    Example:
        >>> MaintenanceRenewalDue.event_type
        'service.MaintenanceRenewalDue'

    .. versionadded:: 0.1.0
    """

    event_type = "service.MaintenanceRenewalDue"
    customer_id: str
    contact_id: str | None
    name: str
    contract: str
    due_at: date
    days_left: int
