"""Leads: capture from every channel, explainable scoring, qualification and assignment.

A :class:`Lead` is a person (and their company) who may buy. :meth:`Lead.capture` normalises
what they typed (email, E.164 phone) and records where they came from; its methods move it
along :data:`STATUS_GRAPH` (``new -> working -> nurturing <-> working -> qualified |
disqualified -> converted``; :data:`RECYCLE_MOVES` bring disqualified and nurturing leads back
after a waiting period), log its :class:`Activity` history, record qualification answers,
owner assignments and scores, and mark contacts against the speed-to-lead deadline from
:func:`follow_up_due`. :data:`CONTACT_KINDS` are the activities that count as contacting the
lead; :data:`DISQUALIFICATION_REASONS` is the default list of reasons to disqualify.

The rules are data and live in submodules: :mod:`crmkit.leads.scoring` (``ScoringModel``,
``score``), :mod:`crmkit.leads.qualification` (``BANT``, frameworks, MQL/SQL thresholds),
:mod:`crmkit.leads.assignment` (territories, round robin, least loaded) and
:mod:`crmkit.leads.normalize` (keys and duplicate matching). :data:`LEADS` tells adapters how
to store leads and which fields queries may use. What users ask crmkit to do with leads are
the commands of :mod:`crmkit.leads.commands` (capture, score, qualify, assign, convert...);
:mod:`crmkit.app.leads` runs them, and the CRM facade (``crm.capture_lead(...)``) wraps them.

Example:
    >>> from datetime import datetime, timedelta, timezone
    >>> from crmkit.leads import ConversionResult, Lead
    >>> from crmkit.leads.qualification import BANT
    >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    >>> lead = Lead.capture(id="lead_1", now=now, source_channel="trade_show",
    ...     campaign="2023 trade show", name="Amy Chen", company="Acme Ltd",
    ...     email="amy@acme.example", phone="0912 345 678", phone_region="TW")
    >>> lead.start_working(now=now, actor="u_amy")
    >>> for key in BANT.keys:
    ...     _ = lead.answer(key, evidence="confirmed on the call", now=now, by="u_amy")
    >>> lead.qualify(now=now, framework=BANT)
    >>> lead.mark_converted(ConversionResult(customer_id="cus_1", contact_id="con_1"), now=now)
    >>> [change.new.value for change in lead.status_history]
    ['new', 'working', 'qualified', 'converted']

.. versionadded:: 0.1.0
"""

from crmkit.leads._model import (
    CONTACT_KINDS,
    DISQUALIFICATION_REASONS,
    RECYCLE_MOVES,
    STATUS_GRAPH,
    Activity,
    ActivityKind,
    ConversionResult,
    CustomerLink,
    Disqualification,
    DuplicateFlag,
    Grade,
    IntakeConsent,
    Lead,
    LeadStatus,
    OwnerAssignment,
    SourceChannel,
    SourceTouch,
    StatusChange,
    follow_up_due,
)
from crmkit.leads._records import LEADS

__all__ = [
    "Activity",
    "ActivityKind",
    "CONTACT_KINDS",
    "ConversionResult",
    "CustomerLink",
    "DISQUALIFICATION_REASONS",
    "Disqualification",
    "DuplicateFlag",
    "Grade",
    "IntakeConsent",
    "LEADS",
    "Lead",
    "LeadStatus",
    "OwnerAssignment",
    "RECYCLE_MOVES",
    "STATUS_GRAPH",
    "SourceChannel",
    "SourceTouch",
    "StatusChange",
    "follow_up_due",
]
