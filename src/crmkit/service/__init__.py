"""The service context: complaints (cases), their SLA clocks, assignment, maintenance contracts.

A :class:`Complaint` is filed through a :class:`Channel`, checked against a
:class:`ComplaintPolicy` (categories and root causes as data, the :class:`PriorityMatrix` of
impact x urgency, the reopen window, compensation limits per approver role), and moves along
:data:`STATUS_GRAPH`: ``new -> acknowledged -> in_progress <-> awaiting_customer -> resolved ->
closed``; the moves in :data:`REOPEN_MOVES` happen only through ``Complaint.reopen``, within the
window; :data:`CLOCK_STOPPING_STATUSES` stop every SLA clock. :func:`public_view` is what a
customer may see of a case.

The rest lives in submodules: :mod:`crmkit.service.sla` (policies, clocks, ``sla_status``),
:mod:`crmkit.service.assignment` (by category to a team, then round robin, least loaded or by
skill), :mod:`crmkit.service.maintenance` (installed equipment, service plans as recurrence
rules, work orders), :mod:`crmkit.service.configuration` (calendars and SLA policy sets kept in
the store), :mod:`crmkit.service.commands` and :mod:`crmkit.service.events`. The use cases are
in :mod:`crmkit.app.service`; the record types :data:`COMPLAINTS`,
:data:`BUSINESS_CALENDARS`, :data:`SLA_POLICY_SETS`, :data:`MAINTENANCE_CONTRACTS` and
:data:`WORK_ORDERS` say how every store keeps them.

Example:
    >>> from datetime import datetime, timedelta, timezone
    >>> from crmkit.service import Complaint, ComplaintPolicy, public_view
    >>> policy = ComplaintPolicy(categories=["delivery"], root_causes=["carrier_delay"])
    >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    >>> case = Complaint.file(id="case_1", reference="CS-1001", now=now, channel="web_form",
    ...     customer_id="cus_1", subject="Parcel never arrived", category="delivery",
    ...     impact="high", urgency="high", policy=policy)
    >>> case.acknowledge(now=now, owner="u_amy")
    >>> case.add_note("Carrier says: lost in the depot", now=now, by="u_amy")
    >>> case.reply("We are sending a new parcel today.", now=now, by="u_amy")
    >>> view = public_view(case)
    >>> view.reference, view.status, [m.body for m in view.messages]
    ('CS-1001', 'acknowledged', ['We are sending a new parcel today.'])

.. versionadded:: 0.1.0
"""

from crmkit.service._enums import (
    CLOCK_STOPPING_STATUSES,
    REOPEN_MOVES,
    STATUS_GRAPH,
    CancelReason,
    CaseStatus,
    Channel,
    CompensationKind,
    Impact,
    MessageAuthor,
    Priority,
    SlaTarget,
    Urgency,
)
from crmkit.service._model import (
    Attachment,
    Cancellation,
    Compensation,
    Complaint,
    Csat,
    DuplicateLink,
    EscalationRecord,
    Message,
    Note,
    OwnerChange,
    SlaBreach,
    StatusChange,
)
from crmkit.service._policy import (
    CompensationLimit,
    ComplaintPolicy,
    PriorityCell,
    PriorityMatrix,
)
from crmkit.service._public import PublicCaseView, PublicMessage, public_view
from crmkit.service._records import (
    BUSINESS_CALENDARS,
    COMPLAINTS,
    MAINTENANCE_CONTRACTS,
    SLA_POLICY_SETS,
    WORK_ORDERS,
)
from crmkit.service.configuration import StoredCalendar, StoredSlaPolicySet

__all__ = [
    "Attachment",
    "BUSINESS_CALENDARS",
    "CLOCK_STOPPING_STATUSES",
    "COMPLAINTS",
    "CancelReason",
    "Cancellation",
    "CaseStatus",
    "Channel",
    "Compensation",
    "CompensationKind",
    "CompensationLimit",
    "Complaint",
    "ComplaintPolicy",
    "Csat",
    "DuplicateLink",
    "EscalationRecord",
    "Impact",
    "MAINTENANCE_CONTRACTS",
    "Message",
    "MessageAuthor",
    "Note",
    "OwnerChange",
    "Priority",
    "PriorityCell",
    "PriorityMatrix",
    "PublicCaseView",
    "PublicMessage",
    "REOPEN_MOVES",
    "SLA_POLICY_SETS",
    "STATUS_GRAPH",
    "SlaBreach",
    "SlaTarget",
    "StatusChange",
    "StoredCalendar",
    "StoredSlaPolicySet",
    "Urgency",
    "WORK_ORDERS",
    "public_view",
]
