"""Use cases of the leads context: one handler per command in :mod:`crmkit.leads.commands`.

Each handler checks the access policy (actions ``leads.capture``, ``leads.log_activity``,
``leads.mark_contacted``, ``leads.score``, ``leads.answer_qualification``,
``leads.start_working``, ``leads.nurture``, ``leads.qualify``, ``leads.disqualify``,
``leads.recycle``, ``leads.assign``, ``leads.convert``; the resource is the lead acted on,
``None`` for a capture), loads what it needs through the unit of work, calls the pure rules,
stores the result and commits. A failed command stores nothing.

:class:`LeadSettings` is the configuration the handlers share (``bootstrap(leads=...)``): the
default :class:`~crmkit.leads.commands.DuplicatePolicy`, the speed-to-lead calendar and window,
the scoring model, the assignment rules, the qualification framework, the disqualification
reasons and the recycling wait. It is data: it round-trips through :mod:`crmkit.serialization`.

**Capture** (:func:`capture_lead`) is idempotent on ``external_ref``: a reference any lead holds
(its own or a merged capture's) returns that lead unchanged. Otherwise the capture is compared
with the *open* leads (same email, same phone, or same company and a similar name, by
:func:`crmkit.leads.normalize.match`) and with the customers' contacts (by email, by phone, and
the contacts of company customers whose name has the same company key; candidates are found by
the start of the customer's name, case-folded). The policy then decides:

| found          | ``merge``           | ``link``                      | ``create_and_flag`` |
|----------------|---------------------|-------------------------------|---------------------|
| nothing        | created             | created                       | created             |
| an open lead   | merged into it      | merged into it (and linked)   | created, flagged    |
| a contact only | created, flagged    | created, linked               | created, flagged    |

"Linked" is linked to the matched contact's customer (under ``link``, an open lead a capture
merges into is linked too when a contact matched as well); "flagged" is flagged as a likely
duplicate of the open lead, or else of the contact. An open lead linked to the contact a
capture matches counts as a matching open lead: it is the same person.

A new lead gets its speed-to-lead deadline, :func:`crmkit.leads.follow_up_due` of its capture
time on the settings' calendar (by default 24 business hours of a Monday to Friday,
09:00-18:00 calendar in ``LeadSettings.timezone``, UTC unless set), and an owner: the one the
command names, else the one the assignment rules choose (round robin resumes after the latest
lead the rule assigned; loads are the owners' open lead counts), recorded with the rule and the
reason. A merged capture keeps the lead's owner and deadline. Two captures at the same moment
may take the same round-robin turn; nothing else is lost.

**Conversion** (:func:`convert_lead`) runs in one unit of work: the customer (existing or new,
carrying the lead's campaign as ``source`` and its channels as tags), the contact (existing or
new, with the lead's email, phone, job title and intake consent), the optional opportunity hook,
and the converted lead are committed together or not at all. Converting a converted lead returns
its first result and creates nothing.

Example:
    >>> from crmkit.access import AllowAll
    >>> from crmkit.adapters.memory import MemoryStore
    >>> from crmkit.kernel import ManualClock, SequentialIds
    >>> from crmkit.leads.commands import CaptureLead
    >>> store, clock, ids = MemoryStore(), ManualClock(), SequentialIds()
    >>> with store.unit_of_work() as uow:
    ...     result = capture_lead(CaptureLead("web_form", email="amy@acme.example"), uow,
    ...         clock=clock, ids=ids, policy=AllowAll(), settings=LeadSettings())
    >>> result.outcome.value, result.lead.id
    ('created', 'lead_000001')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs

from crmkit.app.messagebus import CommandHandler
from crmkit.customers import Contact, Customer, CustomerKind
from crmkit.errors import NotFoundError, RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.ids import IdGenerator, check_id
from crmkit.kernel.query import Op, Query
from crmkit.kernel.time import Clock
from crmkit.leads import (
    DISQUALIFICATION_REASONS,
    ActivityKind,
    ConversionResult,
    Lead,
    LeadStatus,
    follow_up_due,
)
from crmkit.leads.assignment import (
    Assignment,
    AssignmentRules,
    AssignmentState,
    Strategy,
    assign,
)
from crmkit.leads.commands import (
    AnswerQualification,
    AssignLead,
    CaptureLead,
    ConvertLead,
    DisqualifyLead,
    DuplicatePolicy,
    LogLeadActivity,
    MarkLeadContacted,
    NurtureLead,
    OpportunityHook,
    QualifyLead,
    RecycleLead,
    ScoreLead,
    StartWorkingLead,
)
from crmkit.leads.normalize import Match, MatchKeys, MatchKind, company_key, email_key, match
from crmkit.leads.qualification import BANT, Framework
from crmkit.leads.scoring import LeadScore, ScoringModel, score
from crmkit.pipeline import Opportunity
from crmkit.ports import AccessPolicy, UnitOfWork

__all__ = [
    "CaptureOutcome",
    "CaptureResult",
    "LeadConversion",
    "LeadSettings",
    "answer_qualification",
    "assign_lead",
    "capture_lead",
    "command_handlers",
    "convert_lead",
    "disqualify_lead",
    "log_lead_activity",
    "mark_lead_contacted",
    "nurture_lead",
    "open_opportunity_in",
    "qualify_lead",
    "recycle_lead",
    "score_lead",
    "start_working_lead",
]

#: How many candidates each duplicate lookup reads (one page per key).
_CANDIDATES = 200
#: The page size for counting open leads.
_PAGE = 1000
_RANK = {MatchKind.EMAIL: 0, MatchKind.PHONE: 1, MatchKind.COMPANY_AND_NAME: 2}


# ----- settings ------------------------------------------------------------------------------


def _policy(value: object) -> DuplicatePolicy:
    return v.to_enum(DuplicatePolicy, "duplicates")(value)


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError(f"must be a positive timedelta, got {value!r}", path=attribute.name)


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValidationError(
            f"must be a non-negative timedelta, got {value!r}", path=attribute.name
        )


def _optional_of(cls: type, path: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, cls):
            raise ValidationError(
                f"must be a {cls.__name__} or None, not {type(value).__name__}", path=path
            )

    return check


def _framework(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, Framework):
        raise ValidationError(
            f"must be a Framework (such as BANT), not {type(value).__name__}", path="framework"
        )


def _reasons(value: object) -> tuple[str, ...]:
    reasons = v.text_tuple("disqualification_reasons", max_items=100)(value)
    if not reasons:
        raise ValidationError("must list at least one reason", path="disqualification_reasons")
    return reasons


@attrs.frozen(kw_only=True)
class LeadSettings:
    """How the leads use cases behave in one CRM; pass it as ``bootstrap(leads=...)``.

    Attributes:
        duplicates: the default :class:`~crmkit.leads.commands.DuplicatePolicy` (``merge``).
        timezone: the zone of the default follow-up calendar (``"UTC"``).
        calendar: the business calendar of the speed-to-lead deadline; ``None`` means Monday
            to Friday, 09:00-18:00, in ``timezone``.
        follow_up_within: business time from capture to the follow-up deadline (24 hours).
        scoring_model: the model :func:`score_lead` uses when the command names none.
        assignment_rules: the rules that give new leads an owner (``None``: nobody, unless
            the capture names one).
        framework: the qualification framework answers belong to by default (BANT).
        require_framework: whether qualifying needs ``framework`` complete (``False``).
        disqualification_reasons: the reason codes a lead may be disqualified for.
        recycle_after: how long a lead stays disqualified or nurturing before recycling.

    Example:
        >>> from crmkit.serialization import structure, unstructure
        >>> settings = LeadSettings(duplicates="link", timezone="Asia/Taipei")
        >>> settings.follow_up_calendar.timezone, settings.follow_up_within
        ('Asia/Taipei', datetime.timedelta(days=1))
        >>> structure(unstructure(settings), LeadSettings) == settings
        True

    .. versionadded:: 0.1.0
    """

    duplicates: DuplicatePolicy = attrs.field(default=DuplicatePolicy.MERGE, converter=_policy)
    timezone: str = attrs.field(default="UTC", validator=v.text(100))
    calendar: BusinessCalendar | None = attrs.field(
        default=None, validator=_optional_of(BusinessCalendar, "calendar")
    )
    follow_up_within: timedelta = attrs.field(default=timedelta(hours=24), validator=_positive)
    scoring_model: ScoringModel | None = attrs.field(
        default=None, validator=_optional_of(ScoringModel, "scoring_model")
    )
    assignment_rules: AssignmentRules | None = attrs.field(
        default=None, validator=_optional_of(AssignmentRules, "assignment_rules")
    )
    framework: Framework = attrs.field(default=BANT, validator=_framework)
    require_framework: bool = attrs.field(default=False, validator=v.of_type(bool))
    disqualification_reasons: tuple[str, ...] = attrs.field(
        default=DISQUALIFICATION_REASONS, converter=_reasons
    )
    recycle_after: timedelta = attrs.field(default=timedelta(days=90), validator=_non_negative)
    _follow_up_calendar: BusinessCalendar = attrs.field(
        init=False, repr=False, eq=False, hash=False
    )

    def __attrs_post_init__(self) -> None:
        calendar = self.calendar
        if calendar is None:
            try:
                calendar = BusinessCalendar.office_hours(
                    self.timezone, ("09:00", "18:00"), name="lead follow-up"
                )
            except ValidationError as exc:
                raise ValidationError(errors=exc.errors).at("timezone") from None
        object.__setattr__(self, "_follow_up_calendar", calendar)

    @property
    def follow_up_calendar(self) -> BusinessCalendar:
        """The calendar deadlines are computed on: ``calendar``, or the default in ``timezone``.

        Example:
            >>> [h.weekday.value for h in LeadSettings().follow_up_calendar.hours]
            ['mon', 'tue', 'wed', 'thu', 'fri']
        """
        return self._follow_up_calendar


# ----- results -------------------------------------------------------------------------------


class CaptureOutcome(StrEnum):
    """What a capture did (see the table in :mod:`crmkit.app.leads`).

    Example:
        >>> [o.value for o in CaptureOutcome]
        ['created', 'merged', 'linked', 'flagged', 'already_captured']

    .. versionadded:: 0.1.0
    """

    CREATED = "created"
    MERGED = "merged"
    LINKED = "linked"
    FLAGGED = "flagged"
    ALREADY_CAPTURED = "already_captured"


@attrs.frozen(kw_only=True)
class CaptureResult:
    """The outcome of a capture: the lead that holds it, what happened, and why.

    Attributes:
        outcome: created, merged, linked, flagged, or already captured.
        lead: the lead as stored (the existing one after a merge or a repeated reference).
        match: why the capture was taken for a known person (``None`` when it was not).
        duplicate_of: the id of the lead or contact the capture matched.
        customer_id: the customer the lead was linked to by this capture, or whose contact
            the capture matched.
        policy: the duplicate policy applied.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> first = crm.capture_lead("web_form", email="amy@acme.example", external_ref="f-1")
        >>> again = crm.capture_lead("web_form", email="amy@acme.example", external_ref="f-1")
        >>> again.outcome.value, again.lead.id == first.lead.id
        ('already_captured', True)

    .. versionadded:: 0.1.0
    """

    outcome: CaptureOutcome
    lead: Lead
    match: Match | None = None
    duplicate_of: str | None = None
    customer_id: str | None = None
    policy: DuplicatePolicy = DuplicatePolicy.MERGE

    @property
    def created(self) -> bool:
        """Whether the capture made a new lead.

        Example:
            >>> from crmkit import bootstrap
            >>> bootstrap().capture_lead("ads", email="amy@acme.example").created
            True
        """
        return self.outcome in (
            CaptureOutcome.CREATED,
            CaptureOutcome.LINKED,
            CaptureOutcome.FLAGGED,
        )

    @property
    def reason(self) -> str:
        """What happened, in a sentence.

        Example:
            >>> from crmkit import bootstrap
            >>> from crmkit.kernel import SequentialIds
            >>> crm = bootstrap(ids=SequentialIds())
            >>> _ = crm.capture_lead("web_form", email="amy@acme.example")
            >>> crm.capture_lead("trade_show", email="AMY@acme.example").reason
            "merged into lead lead_000001: same email 'amy@acme.example'"
        """
        lead = self.lead.id
        why = "" if self.match is None else f": {self.match.reason}"
        if self.outcome is CaptureOutcome.ALREADY_CAPTURED:
            return f"already captured in lead {lead}; nothing changed"
        if self.outcome is CaptureOutcome.MERGED:
            linked = (
                f"; linked to customer {self.customer_id}"
                if self.customer_id is not None
                and self.lead.customer_link is not None
                and self.lead.customer_link.customer_id == self.customer_id
                else ""
            )
            return f"merged into lead {lead}{why}{linked}"
        if self.outcome is CaptureOutcome.LINKED:
            return f"created lead {lead}, linked to customer {self.customer_id}{why}"
        if self.outcome is CaptureOutcome.FLAGGED:
            return f"created lead {lead}, flagged as a likely duplicate of {self.duplicate_of}{why}"
        return f"created lead {lead}"


@attrs.frozen(kw_only=True)
class LeadConversion:
    """The outcome of a conversion: the converted lead, its customer and contact, what was new.

    ``repeated`` is ``True`` when the lead was converted already: nothing was created and
    ``result`` is the first conversion's.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> lead = crm.capture_lead("web_form", name="Amy Chen", company="Acme Ltd",
        ...                         email="amy@acme.example").lead
        >>> _ = crm.start_working_lead(lead.id); _ = crm.qualify_lead(lead.id)
        >>> done = crm.convert_lead(lead.id)
        >>> done.customer.name, done.contact.emails, done.customer_created, done.repeated
        ('Acme Ltd', ('amy@acme.example',), True, False)
        >>> crm.convert_lead(lead.id).repeated
        True

    .. versionadded:: 0.1.0
    """

    lead: Lead
    customer: Customer
    contact: Contact
    result: ConversionResult
    customer_created: bool = False
    contact_created: bool = False
    repeated: bool = False


# ----- duplicate lookup ----------------------------------------------------------------------


@attrs.frozen
class _LeadHit:
    lead: Lead
    match: Match


@attrs.frozen
class _ContactHit:
    contact: Contact
    customer: Customer
    match: Match


def _strength(found: Match) -> tuple[int, Decimal]:
    return _RANK[found.kind], -(found.similarity or Decimal(0))


def _open_lead_match(uow: UnitOfWork, candidate: Lead) -> _LeadHit | None:
    """The open lead ``candidate`` is most surely the same person as, and why."""
    keys = candidate.match_keys()
    queries: list[Query] = []
    if candidate.email is not None:
        queries.append(Query.where(is_open=True, email=email_key(candidate.email)))
    if candidate.phone is not None:
        queries.append(Query.where(is_open=True, phone=candidate.phone))
    if keys.company is not None and keys.name is not None:
        queries.append(Query.where(is_open=True, company_folded=keys.company))
    found: dict[str, Lead] = {}
    for query in queries:
        for lead in uow.leads.query(query.order("captured_at").take(_CANDIDATES)).items:
            found.setdefault(lead.id, lead)
    best: tuple[Any, ...] | None = None
    hit: _LeadHit | None = None
    for lead in found.values():
        why = match(keys, lead.match_keys())
        if why is None:
            continue
        rank = (*_strength(why), lead.captured_at.astimezone(timezone.utc), lead.id)
        if best is None or rank < best:
            best, hit = rank, _LeadHit(lead, why)
    return hit


def _company_key_or_none(name: str) -> str | None:
    try:
        return company_key(name)
    except ValidationError:
        return None


def _contact_keys(contact: Contact, customer: Customer) -> MatchKeys:
    company = customer.name if customer.kind is CustomerKind.COMPANY else None
    try:
        return MatchKeys(
            emails=contact.emails, phones=contact.phones, company=company, name=contact.name
        )
    except ValidationError:  # a company name without letters: match on the contact points
        return MatchKeys(emails=contact.emails, phones=contact.phones, name=contact.name)


def _contact_match(uow: UnitOfWork, candidate: Lead) -> _ContactHit | None:
    """The customer's contact ``candidate`` is most surely the same person as, and why."""
    keys = candidate.match_keys()
    contacts: dict[str, Contact] = {}
    customers: dict[str, Customer] = {}
    if candidate.email is not None:
        query = Query().filter("emails", Op.CONTAINS, candidate.email.casefold())
        for contact in uow.contacts.query(query.take(_CANDIDATES)).items:
            contacts.setdefault(contact.id, contact)
    if candidate.phone is not None:
        query = Query().filter("phones", Op.CONTAINS, candidate.phone)
        for contact in uow.contacts.query(query.take(_CANDIDATES)).items:
            contacts.setdefault(contact.id, contact)
    if keys.company is not None and keys.name is not None:
        prefix = keys.company.split()[0]
        query = Query.where(kind=CustomerKind.COMPANY.value).filter(
            "name_folded", Op.STARTSWITH, prefix
        )
        for customer in uow.customers.query(query.take(_CANDIDATES)).items:
            if _company_key_or_none(customer.name) != keys.company:
                continue
            customers[customer.id] = customer
            people = uow.contacts.query(Query.where(customer_id=customer.id).take(_CANDIDATES))
            for contact in people.items:
                contacts.setdefault(contact.id, contact)
    best: tuple[Any, ...] | None = None
    hit: _ContactHit | None = None
    for contact in contacts.values():
        known = customers.get(contact.customer_id)
        if known is None:
            try:
                known = customers[contact.customer_id] = uow.customers.get(contact.customer_id)
            except NotFoundError:
                continue
        customer = known
        why = match(keys, _contact_keys(contact, customer))
        if why is None:
            continue
        rank = (*_strength(why), customer.created_at.astimezone(timezone.utc), contact.id)
        if best is None or rank < best:
            best, hit = rank, _ContactHit(contact, customer, why)
    return hit


def _lead_linked_to(uow: UnitOfWork, hit: _ContactHit) -> _LeadHit | None:
    """The open lead linked to the contact a capture matched: the same person, by the link."""
    query = Query.where(is_open=True, customer_id=hit.customer.id).order("captured_at")
    for lead in uow.leads.query(query.take(_CANDIDATES)).items:
        link = lead.customer_link
        if link is not None and link.contact_id == hit.contact.id:
            why = attrs.evolve(
                hit.match,
                reason=f"{hit.match.reason}, as contact {hit.contact.id}, to whom lead "
                f"{lead.id} is linked",
            )
            return _LeadHit(lead, why)
    return None


# ----- assignment ----------------------------------------------------------------------------


def _round_robin_state(uow: UnitOfWork, rules: AssignmentRules) -> AssignmentState:
    """Each round-robin rule's last choice: the owner of the latest lead it assigned."""
    last: dict[str, str] = {}
    for rule in rules.rules:
        if rule.strategy is not Strategy.ROUND_ROBIN:
            continue
        query = Query.where(assignment_rule=rule.name).order("-assigned_at", "-id").take(1)
        latest = uow.leads.query(query).items
        if latest and latest[0].owner is not None:
            last[rule.name] = latest[0].owner
    return AssignmentState(last)


def _count_open(uow: UnitOfWork, owner: str) -> int:
    query = Query.where(is_open=True, owner=owner).take(_PAGE)
    count = 0
    while True:
        page = uow.leads.query(query)
        count += len(page.items)
        if page.next_cursor is None:
            return count
        query = query.after(page.next_cursor)


def _open_loads(uow: UnitOfWork, rules: AssignmentRules, lead: Lead) -> dict[str, int]:
    """Open lead counts of the owners whose rules need them (least loaded, or a maximum)."""
    owners = {
        owner
        for rule in rules.rules
        if rule.strategy is Strategy.LEAST_LOADED or rule.max_open is not None
        for owner in rule.owners
    }
    loads = {owner: _count_open(uow, owner) for owner in sorted(owners)}
    if lead.version > 0 and lead.is_open and lead.owner in loads:
        loads[lead.owner] -= 1  # the lead being reassigned does not count against its owner
    return loads


def _assign_by_rules(
    uow: UnitOfWork, lead: Lead, rules: AssignmentRules, clock: Clock, actor: str | None
) -> Assignment:
    assignment = assign(lead, rules, _round_robin_state(uow, rules), _open_loads(uow, rules, lead))
    assignment.apply_to(lead, now=clock.now(), actor=actor)
    return assignment


# ----- capture -------------------------------------------------------------------------------


def _already_captured(uow: UnitOfWork, ref: str) -> Lead | None:
    query = Query().filter("external_refs", Op.CONTAINS, ref).order("captured_at").take(1)
    found = uow.leads.query(query).items
    return found[0] if found else None


def capture_lead(
    command: CaptureLead,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
    settings: LeadSettings,
) -> CaptureResult:
    """Capture a lead: idempotent on ``external_ref``, duplicates handled by the policy.

    See the module documentation for the duplicate policies, the deadline and the assignment.

    Example:
        >>> from crmkit import bootstrap
        >>> from crmkit.kernel import SequentialIds
        >>> crm = bootstrap(ids=SequentialIds())
        >>> _ = crm.capture_lead("web_form", name="Amy Chen", email="amy@acme.example")
        >>> show = crm.capture_lead("trade_show", name="Amy Chen", email="amy@acme.example",
        ...                         duplicates="create_and_flag")
        >>> show.outcome.value, show.lead.duplicate.of
        ('flagged', 'lead_000001')

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "leads.capture", None)
    chosen = command.duplicates or settings.duplicates
    if command.external_ref is not None:
        existing = _already_captured(uow, command.external_ref)
        if existing is not None:
            return CaptureResult(
                outcome=CaptureOutcome.ALREADY_CAPTURED, lead=existing, policy=chosen
            )
    now = clock.now()
    captured_at = command.captured_at or now
    due = follow_up_due(captured_at, settings.follow_up_calendar, settings.follow_up_within)
    candidate = command.build(id=ids.new_id("lead"), now=now, follow_up_due_at=due)
    lead_hit = _open_lead_match(uow, candidate)
    contact_hit = _contact_match(uow, candidate)
    if lead_hit is None and contact_hit is not None:
        lead_hit = _lead_linked_to(uow, contact_hit)
    actor = command.actor

    if lead_hit is not None and chosen is not DuplicatePolicy.CREATE_AND_FLAG:
        existing = lead_hit.lead
        existing.merge_capture(candidate, now=now, match_reason=lead_hit.match.reason, actor=actor)
        customer_id = None
        if contact_hit is not None:
            customer_id = contact_hit.customer.id
            if chosen is DuplicatePolicy.LINK:
                existing.link_to_customer(
                    customer_id,
                    contact_id=contact_hit.contact.id,
                    reason=contact_hit.match.reason,
                    now=now,
                    actor=actor,
                )
        uow.leads.save(existing)
        uow.commit()
        return CaptureResult(
            outcome=CaptureOutcome.MERGED,
            lead=existing,
            match=lead_hit.match,
            duplicate_of=existing.id,
            customer_id=customer_id,
            policy=chosen,
        )

    result = CaptureResult(outcome=CaptureOutcome.CREATED, lead=candidate, policy=chosen)
    if lead_hit is not None:  # create and flag
        candidate.flag_duplicate(
            lead_hit.lead.id, reason=lead_hit.match.reason, now=now, actor=actor
        )
        result = attrs.evolve(
            result,
            outcome=CaptureOutcome.FLAGGED,
            match=lead_hit.match,
            duplicate_of=lead_hit.lead.id,
            customer_id=None if contact_hit is None else contact_hit.customer.id,
        )
    elif contact_hit is not None:
        found = contact_hit
        if chosen is DuplicatePolicy.LINK:
            candidate.link_to_customer(
                found.customer.id,
                contact_id=found.contact.id,
                reason=found.match.reason,
                now=now,
                actor=actor,
            )
            outcome = CaptureOutcome.LINKED
        else:
            candidate.flag_duplicate(
                found.contact.id, reason=found.match.reason, now=now, actor=actor
            )
            outcome = CaptureOutcome.FLAGGED
        result = attrs.evolve(
            result,
            outcome=outcome,
            match=found.match,
            duplicate_of=found.contact.id,
            customer_id=found.customer.id,
        )
    if command.owner is not None:
        candidate.assign_owner(
            command.owner, now=now, rule="manual", reason="named at capture", actor=actor
        )
    elif settings.assignment_rules is not None:
        _assign_by_rules(uow, candidate, settings.assignment_rules, clock, actor)
    uow.leads.add(candidate)
    uow.commit()
    return result


# ----- changes to one lead -------------------------------------------------------------------


def _change_lead(
    lead_id: str,
    actor: str | None,
    action: str,
    uow: UnitOfWork,
    policy: AccessPolicy,
    change: Any,
) -> Lead:
    """Load a lead, check ``action`` for ``actor``, apply ``change``, save and commit."""
    lead: Lead = uow.leads.get(lead_id)
    policy.check(actor, action, lead)
    change(lead)
    uow.leads.save(lead)
    uow.commit()
    return lead


def log_lead_activity(
    command: LogLeadActivity, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Lead:
    """Add an activity to a lead's history; return the lead as stored.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> lead = crm.capture_lead("ads", email="amy@acme.example", owner="u_amy").lead
        >>> lead = crm.log_lead_activity(lead.id, "call", by="u_amy", detail="intro call")
        >>> [a.kind.value for a in lead.activities], lead.first_contacted_at is not None
        (['call'], True)

    .. versionadded:: 0.1.0
    """

    def change(lead: Lead) -> None:
        lead.log_activity(
            command.kind,
            now=clock.now(),
            at=command.at,
            detail=command.detail,
            by=command.by,
            actor=command.actor,
        )

    return _change_lead(command.lead_id, command.actor, "leads.log_activity", uow, policy, change)


def mark_lead_contacted(
    command: MarkLeadContacted, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Lead:
    """Record that someone of ours reached the lead; the first contact stops the deadline.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
        >>> crm.mark_lead_contacted(lead.id, by="u_bob").first_contacted_at is not None
        True

    .. versionadded:: 0.1.0
    """
    return _change_lead(
        command.lead_id,
        command.actor,
        "leads.mark_contacted",
        uow,
        policy,
        lambda lead: lead.mark_contacted(
            now=clock.now(), by=command.by, at=command.at, actor=command.actor
        ),
    )


def score_lead(
    command: ScoreLead,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LeadSettings,
) -> LeadScore:
    """Score a lead (with the command's model, else the CRM's), store the score, return it.

    Example:
        >>> from crmkit import bootstrap
        >>> from crmkit.leads.scoring import RegionRule, ScoringModel
        >>> crm = bootstrap()
        >>> lead = crm.capture_lead("ads", email="amy@acme.example", region="TW").lead
        >>> model = ScoringModel(name="geo", regions=[RegionRule("home", ["TW"], 10)])
        >>> result = crm.score_lead(lead.id, model=model)
        >>> result.total, [c.reason for c in result.contributions]
        (Decimal('10.00'), ["region 'TW' is one of 'TW'"])
        >>> crm.get_lead(lead.id).score
        Decimal('10.00')

    .. versionadded:: 0.1.0
    """
    model = command.model or settings.scoring_model
    if model is None:
        raise ValidationError(
            "no scoring model: pass model= or configure LeadSettings(scoring_model=...)",
            path="model",
        )
    lead: Lead = uow.leads.get(command.lead_id)
    policy.check(command.actor, "leads.score", lead)
    now = clock.now()
    result = score(lead, model, now)
    lead.record_score(result, now=now, actor=command.actor)
    uow.leads.save(lead)
    uow.commit()
    return result


def answer_qualification(
    command: AnswerQualification,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LeadSettings,
) -> Lead:
    """Answer one qualification criterion (of the CRM's framework by default); return the lead.

    Example:
        >>> from crmkit import bootstrap
        >>> from crmkit.leads.qualification import BANT
        >>> crm = bootstrap()
        >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
        >>> lead = crm.answer_qualification(lead.id, "budget", evidence="NT$2M approved")
        >>> lead.qualification.missing(BANT)
        ('authority', 'need', 'timeline')

    .. versionadded:: 0.1.0
    """
    framework = command.framework or settings.framework

    def change(lead: Lead) -> None:
        lead.answer(
            command.criterion,
            evidence=command.evidence,
            now=clock.now(),
            met=command.met,
            framework=framework,
            by=command.by,
            at=command.at,
            actor=command.actor,
        )

    return _change_lead(
        command.lead_id, command.actor, "leads.answer_qualification", uow, policy, change
    )


def start_working_lead(
    command: StartWorkingLead, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Lead:
    """Move a lead to ``working``; return it as stored.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
        >>> crm.start_working_lead(lead.id).status.value
        'working'

    .. versionadded:: 0.1.0
    """
    return _change_lead(
        command.lead_id,
        command.actor,
        "leads.start_working",
        uow,
        policy,
        lambda lead: lead.start_working(now=clock.now(), actor=command.actor),
    )


def nurture_lead(
    command: NurtureLead, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Lead:
    """Move a lead to ``nurturing``; return it as stored.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
        >>> crm.nurture_lead(lead.id, reason="budget next year").status.value
        'nurturing'

    .. versionadded:: 0.1.0
    """
    return _change_lead(
        command.lead_id,
        command.actor,
        "leads.nurture",
        uow,
        policy,
        lambda lead: lead.nurture(now=clock.now(), reason=command.reason, actor=command.actor),
    )


def qualify_lead(
    command: QualifyLead,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LeadSettings,
) -> Lead:
    """Move a lead to ``qualified``, checking the framework when one applies; return it.

    The framework is the command's, else the CRM's when ``require_framework`` is set.

    Example:
        >>> from crmkit import bootstrap
        >>> from crmkit.leads.qualification import BANT
        >>> crm = bootstrap()
        >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
        >>> _ = crm.start_working_lead(lead.id)
        >>> crm.qualify_lead(lead.id, framework=BANT)
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: lead '...' cannot be qualified by 'bant' yet: budget,
        authority, need, timeline not met

    .. versionadded:: 0.1.0
    """
    framework = command.framework or (settings.framework if settings.require_framework else None)
    return _change_lead(
        command.lead_id,
        command.actor,
        "leads.qualify",
        uow,
        policy,
        lambda lead: lead.qualify(now=clock.now(), framework=framework, actor=command.actor),
    )


def disqualify_lead(
    command: DisqualifyLead,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LeadSettings,
) -> Lead:
    """Move a lead to ``disqualified`` for one of the CRM's reasons; return it.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
        >>> crm.disqualify_lead(lead.id, "spam").disqualification.reason
        'spam'

    .. versionadded:: 0.1.0
    """
    return _change_lead(
        command.lead_id,
        command.actor,
        "leads.disqualify",
        uow,
        policy,
        lambda lead: lead.disqualify(
            command.reason,
            now=clock.now(),
            note=command.note,
            reasons=settings.disqualification_reasons,
            actor=command.actor,
        ),
    )


def recycle_lead(
    command: RecycleLead,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LeadSettings,
) -> Lead:
    """Bring a disqualified or nurturing lead back after the wait; return it.

    Example:
        >>> from datetime import timedelta
        >>> from crmkit import ManualClock, bootstrap
        >>> crm = bootstrap(clock=ManualClock())
        >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
        >>> _ = crm.disqualify_lead(lead.id, "bad_timing")
        >>> _ = crm.clock.advance(timedelta(days=30))
        >>> crm.recycle_lead(lead.id)
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: lead '...' has been 'disqualified' for 30 days; it may be
        recycled after 90 days, from ...

    .. versionadded:: 0.1.0
    """
    after = settings.recycle_after if command.after is None else command.after
    return _change_lead(
        command.lead_id,
        command.actor,
        "leads.recycle",
        uow,
        policy,
        lambda lead: lead.recycle(now=clock.now(), after=after, to=command.to, actor=command.actor),
    )


def assign_lead(
    command: AssignLead,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: LeadSettings,
) -> Lead:
    """Give a lead to an owner by hand, or by the CRM's assignment rules; return it.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
        >>> lead = crm.assign_lead(lead.id, "u_amy", reason="speaks Taiwanese")
        >>> lead.owner, lead.assignment.rule, lead.assignment.reason
        ('u_amy', 'manual', 'speaks Taiwanese')
        >>> crm.assign_lead(lead.id, by_rules=True)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: by_rules: no assignment rules are configured ...

    .. versionadded:: 0.1.0
    """
    rules = settings.assignment_rules
    if command.by_rules and rules is None:
        raise ValidationError(
            "no assignment rules are configured (LeadSettings(assignment_rules=...)); "
            "name an owner instead",
            path="by_rules",
        )

    def change(lead: Lead) -> None:
        if command.by_rules and rules is not None:
            _assign_by_rules(uow, lead, rules, clock, command.actor)
            return
        reason = command.reason or ("assigned by hand" if command.owner else "unassigned by hand")
        lead.assign_owner(
            command.owner, now=clock.now(), rule="manual", reason=reason, actor=command.actor
        )

    return _change_lead(command.lead_id, command.actor, "leads.assign", uow, policy, change)


# ----- conversion ----------------------------------------------------------------------------


def _repeat(uow: UnitOfWork, command: ConvertLead, lead: Lead) -> LeadConversion:
    done = lead.conversion
    assert done is not None  # a converted lead carries its result (the model checks it)
    for given, first, what in (
        (command.customer_id, done.customer_id, "customer"),
        (command.contact_id, done.contact_id, "contact"),
    ):
        if given is not None and given != first:
            raise RuleViolation(
                f"lead {lead.id!r} was converted to {what} {first!r} already; a lead converts "
                f"once, so it cannot convert to {what} {given!r}",
                details={"lead_id": lead.id, what: first, "asked": given},
            )
    return LeadConversion(
        lead=lead,
        customer=uow.customers.get(done.customer_id),
        contact=uow.contacts.get(done.contact_id),
        result=done,
        repeated=True,
    )


def _tags_for(lead: Lead, extra: tuple[str, ...]) -> tuple[str, ...]:
    channels = [lead.source_channel.value, *(t.channel.value for t in lead.touches)]
    return tuple(dict.fromkeys((*extra, *channels)))


def _customer_for(
    uow: UnitOfWork,
    command: ConvertLead,
    lead: Lead,
    ids: IdGenerator,
    now: datetime,
) -> tuple[Customer, Contact | None, bool]:
    """The conversion's customer (and a contact already chosen), and whether it is new."""
    contact: Contact | None = None
    if command.contact_id is not None:
        contact = uow.contacts.get(command.contact_id)
    if command.customer_id is not None:
        return uow.customers.get(command.customer_id), contact, False
    if contact is not None:
        return uow.customers.get(contact.customer_id), contact, False
    link = lead.customer_link
    if link is not None:
        customer = uow.customers.get(link.customer_id)
        if link.contact_id is not None:
            contact = uow.contacts.get(link.contact_id)
        return customer, contact, False
    company = lead.company is not None
    kind = command.customer_kind or (CustomerKind.COMPANY if company else CustomerKind.PERSON)
    name = command.customer_name or lead.company or lead.name or lead.email or lead.phone
    customer = Customer.register(
        id=ids.new_id("cus"),
        name=str(name),
        kind=kind,
        now=now,
        tags=_tags_for(lead, command.tags),
        source=lead.campaign or lead.source_channel.value,
        owner=lead.owner,
        actor=command.actor,
    )
    uow.customers.add(customer)
    return customer, None, True


def _existing_contact(uow: UnitOfWork, customer: Customer, lead: Lead) -> Contact | None:
    for field, value in (
        ("emails", None if lead.email is None else lead.email.casefold()),
        ("phones", lead.phone),
    ):
        if value is None:
            continue
        query = Query.where(customer_id=customer.id).filter(field, Op.CONTAINS, value)
        found = uow.contacts.query(query.take(1)).items
        if found:
            return found[0]
    return None


def _new_contact(
    uow: UnitOfWork,
    customer: Customer,
    lead: Lead,
    ids: IdGenerator,
    now: datetime,
    actor: str | None,
) -> Contact:
    contact = Contact.create(
        id=ids.new_id("con"),
        customer_id=customer.id,
        name=str(lead.name or lead.email or lead.phone),
        now=now,
        emails=() if lead.email is None else (lead.email,),
        phones=() if lead.phone is None else (lead.phone,),
        role=lead.job_title,
        actor=actor,
    )
    consent = lead.consent
    if consent is not None and lead.email is not None:
        source = f"lead {lead.id}: {consent.source}"
        contact.record_consent(
            "email", consent.marketing, source=source, now=now, at=consent.at, actor=actor
        )
        unsubscribed = [
            a.at
            for a in lead.activities
            if a.kind is ActivityKind.UNSUBSCRIBED and a.at >= consent.at
        ]
        if consent.marketing and unsubscribed:
            contact.record_consent(
                "email",
                False,
                source=f"lead {lead.id}: unsubscribed",
                now=now,
                at=max(unsubscribed),
                actor=actor,
            )
    uow.contacts.add(contact)
    return contact


def convert_lead(
    command: ConvertLead,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
    create_opportunity: OpportunityHook | None = None,
) -> LeadConversion:
    """Convert a qualified lead into a customer and a contact, atomically and once.

    The customer is the command's, else the linked one, else a new one (named after the
    lead's company, else the person; ``source`` the lead's campaign, else its channel; tagged
    with every channel the person came through; owned by the lead's owner). The contact is
    the command's, else the linked one, else the customer's contact with the lead's email or
    phone, else a new one with the lead's name, email, phone, job title and intake consent.
    Then ``create_opportunity`` (the command's, else the CRM's) runs in the same unit of work
    and returns the opportunity id to record; the pipeline context provides the default.
    If anything fails, nothing is stored. A converted lead returns its first result.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
        >>> crm.convert_lead(lead.id)
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: lead '...' is 'new'; only a qualified lead converts ...

    .. versionadded:: 0.1.0
    """
    lead: Lead = uow.leads.get(command.lead_id)
    policy.check(command.actor, "leads.convert", lead)
    if lead.status is LeadStatus.CONVERTED:
        return _repeat(uow, command, lead)
    if lead.status is not LeadStatus.QUALIFIED:
        raise RuleViolation(
            f"lead {lead.id!r} is {lead.status.value!r}; only a qualified lead converts "
            "(qualify it first)",
            details={"lead_id": lead.id, "current": lead.status.value, "required": "qualified"},
        )
    now = clock.now()
    customer, contact, customer_created = _customer_for(uow, command, lead, ids, now)
    if contact is not None and contact.customer_id != customer.id:
        raise RuleViolation(
            f"contact {contact.id!r} belongs to customer {contact.customer_id!r}, not to "
            f"{customer.id!r}; choose a contact of {customer.id!r}",
            details={
                "contact_id": contact.id,
                "customer_id": customer.id,
                "contact_customer_id": contact.customer_id,
            },
        )
    contact_created = False
    if contact is None and not customer_created:
        contact = _existing_contact(uow, customer, lead)
    if contact is None:
        contact = _new_contact(uow, customer, lead, ids, now, command.actor)
        contact_created = True
    hook = command.create_opportunity or create_opportunity
    opportunity_id = None if hook is None else hook(uow, lead, customer, contact)
    if opportunity_id is not None:
        check_id(opportunity_id, "opportunity_id")
    result = ConversionResult(
        customer_id=customer.id, contact_id=contact.id, opportunity_id=opportunity_id
    )
    lead.mark_converted(result, now=now, actor=command.actor)
    uow.leads.save(lead)
    uow.commit()
    return LeadConversion(
        lead=lead,
        customer=customer,
        contact=contact,
        result=result,
        customer_created=customer_created,
        contact_created=contact_created,
    )


# ----- wiring --------------------------------------------------------------------------------


def command_handlers(
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
    settings: LeadSettings | None = None,
    create_opportunity: OpportunityHook | None = None,
) -> Mapping[type, CommandHandler]:
    """Return this context's command handlers bound to their collaborators, by command class.

    ``settings`` defaults to ``LeadSettings()``; ``create_opportunity`` is the conversion's
    default opportunity hook (the pipeline context wires one).

    Example:
        >>> from crmkit.access import AllowAll
        >>> from crmkit.kernel import ManualClock, SequentialIds
        >>> handlers = command_handlers(clock=ManualClock(), ids=SequentialIds(), policy=AllowAll())
        >>> sorted(cls.__name__ for cls in handlers)  # doctest: +NORMALIZE_WHITESPACE
        ['AnswerQualification', 'AssignLead', 'CaptureLead', 'ConvertLead', 'DisqualifyLead',
         'LogLeadActivity', 'MarkLeadContacted', 'NurtureLead', 'QualifyLead', 'RecycleLead',
         'ScoreLead', 'StartWorkingLead']

    .. versionadded:: 0.1.0
    """
    if settings is None:
        settings = LeadSettings()
    elif not isinstance(settings, LeadSettings):
        raise ValidationError(
            f"must be LeadSettings, not {type(settings).__name__}", path="settings"
        )
    if create_opportunity is not None and not callable(create_opportunity):
        raise ValidationError(
            "must be callable as create_opportunity(uow, lead, customer, contact), not "
            f"{type(create_opportunity).__name__}",
            path="create_opportunity",
        )
    c, p, st = clock, policy, settings
    return {
        CaptureLead: functools.partial(capture_lead, clock=c, ids=ids, policy=p, settings=st),
        LogLeadActivity: functools.partial(log_lead_activity, clock=c, policy=p),
        MarkLeadContacted: functools.partial(mark_lead_contacted, clock=c, policy=p),
        ScoreLead: functools.partial(score_lead, clock=c, policy=p, settings=st),
        AnswerQualification: functools.partial(
            answer_qualification, clock=c, policy=p, settings=st
        ),
        StartWorkingLead: functools.partial(start_working_lead, clock=c, policy=p),
        NurtureLead: functools.partial(nurture_lead, clock=c, policy=p),
        QualifyLead: functools.partial(qualify_lead, clock=c, policy=p, settings=st),
        DisqualifyLead: functools.partial(disqualify_lead, clock=c, policy=p, settings=st),
        RecycleLead: functools.partial(recycle_lead, clock=c, policy=p, settings=st),
        AssignLead: functools.partial(assign_lead, clock=c, policy=p, settings=st),
        ConvertLead: functools.partial(
            convert_lead, clock=c, ids=ids, policy=p, create_opportunity=create_opportunity
        ),
    }


def open_opportunity_in(pipeline_id: str, *, clock: Clock, ids: IdGenerator) -> OpportunityHook:
    """Return a ``create_opportunity`` hook that opens a deal in pipeline ``pipeline_id``.

    The deal belongs to the converted lead's customer, starts in the pipeline's first stage,
    is owned by the lead's owner and carries the lead's budget as its amount; it is added in
    the conversion's own unit of work, so it exists only if the conversion commits. A missing
    pipeline is a ``NotFoundError`` and the conversion stores nothing.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel import ManualClock, SequentialIds
        >>> clock, ids = ManualClock(datetime(2026, 3, 2, tzinfo=timezone.utc)), SequentialIds()
        >>> hook = open_opportunity_in("new_business@1", clock=clock, ids=ids)
        >>> callable(hook)
        True

    .. versionadded:: 0.1.0
    """
    check_id(pipeline_id, "pipeline_id")

    def hook(uow: UnitOfWork, lead: Lead, customer: Customer, contact: Contact) -> str | None:
        pipeline = uow.pipelines.get(pipeline_id)
        deal = Opportunity.open(
            id=ids.new_id("opp"),
            customer_id=customer.id,
            name=f"{customer.name}: {lead.campaign or 'new business'}",
            pipeline=pipeline,
            now=clock.now(),
            owner=lead.owner,
            amount=lead.budget,
        )
        uow.opportunities.add(deal)
        return deal.id

    return hook
