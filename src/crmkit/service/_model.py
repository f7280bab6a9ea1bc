"""Complaint: the case aggregate and its values."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money
from crmkit.kernel.time import ensure_aware, validate_aware, validate_optional_aware
from crmkit.service._enums import (
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
from crmkit.service._policy import ComplaintPolicy, tuple_of
from crmkit.service.events import (
    AttachmentAdded,
    CompensationGranted,
    ComplaintAssigned,
    ComplaintCancelled,
    ComplaintEscalated,
    ComplaintFiled,
    ComplaintReopened,
    ComplaintReplied,
    ComplaintReprioritised,
    ComplaintResolved,
    ComplaintStatusChanged,
    CsatRecorded,
    CustomerMessageReceived,
    DuplicateLinked,
    InternalNoteAdded,
    NextUpdatePromised,
    SlaBreached,
)

if TYPE_CHECKING:
    from crmkit.service.sla import SlaPolicy

__all__ = [
    "Attachment",
    "Cancellation",
    "Compensation",
    "Complaint",
    "Csat",
    "DuplicateLink",
    "EscalationRecord",
    "Message",
    "Note",
    "OwnerChange",
    "SlaBreach",
    "StatusChange",
]


# ----- validators ------------------------------------------------------------------------------


def _id_field(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    check_id(value, attribute.name)


def _optional_id(_instance: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _text(n: int) -> Any:
    return attrs.field(converter=v.strip, validator=v.text(n))


def _optional_text(n: int) -> Any:
    return attrs.field(default=None, converter=v.strip_optional, validator=v.optional_text(n))


def _optional_instance(cls: type, field: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, cls):
            raise ValidationError(
                f"must be {cls.__name__} or None, not {type(value).__name__}", path=field
            )

    return check


def _check_call(now: object, actor: object) -> datetime:
    """Check a method's ``now`` and ``actor`` before it changes anything."""
    if actor is not None:
        check_id(actor, "actor")
    return ensure_aware(now, "now")


def _check_text(value: object, field: str, n: int) -> str:
    cleaned = v.strip(value)
    v.text(n)(None, _Field(field), cleaned)
    return str(cleaned)


def _check_optional_text(value: object, field: str, n: int) -> str | None:
    cleaned = v.strip_optional(value)
    if cleaned is None:
        return None
    return _check_text(cleaned, field, n)


@attrs.frozen
class _Field:
    """Names a value for the shared validators, which read ``.name``."""

    name: str


# ----- converters (named, for the attrs mypy plugin) -----------------------------------


def _optional_old(value: object) -> CaseStatus | None:
    return v.to_optional_enum(CaseStatus, "old")(value)


def _new(value: object) -> CaseStatus:
    return v.to_enum(CaseStatus, "new")(value)


def _author(value: object) -> MessageAuthor:
    return v.to_enum(MessageAuthor, "author")(value)


def _reason(value: object) -> CancelReason:
    return v.to_enum(CancelReason, "reason")(value)


def _kind(value: object) -> CompensationKind:
    return v.to_enum(CompensationKind, "kind")(value)


def _target(value: object) -> SlaTarget:
    return v.to_enum(SlaTarget, "target")(value)


def _channel(value: object) -> Channel:
    return v.to_enum(Channel, "channel")(value)


def _impact(value: object) -> Impact:
    return v.to_enum(Impact, "impact")(value)


def _urgency(value: object) -> Urgency:
    return v.to_enum(Urgency, "urgency")(value)


def _priority(value: object) -> Priority:
    return v.to_enum(Priority, "priority")(value)


def _status(value: object) -> CaseStatus:
    return v.to_enum(CaseStatus, "status")(value)


def _status_history(value: object) -> tuple[StatusChange, ...]:
    return tuple_of(StatusChange, "status_history", value)


def _messages(value: object) -> tuple[Message, ...]:
    return tuple_of(Message, "messages", value)


def _notes(value: object) -> tuple[Note, ...]:
    return tuple_of(Note, "notes", value)


def _attachments(value: object) -> tuple[Attachment, ...]:
    return tuple_of(Attachment, "attachments", value)


def _duplicates(value: object) -> tuple[DuplicateLink, ...]:
    return tuple_of(DuplicateLink, "duplicates", value)


def _assignments(value: object) -> tuple[OwnerChange, ...]:
    return tuple_of(OwnerChange, "assignments", value)


def _compensations(value: object) -> tuple[Compensation, ...]:
    return tuple_of(Compensation, "compensations", value)


def _breaches(value: object) -> tuple[SlaBreach, ...]:
    return tuple_of(SlaBreach, "breaches", value)


def _escalations(value: object) -> tuple[EscalationRecord, ...]:
    return tuple_of(EscalationRecord, "escalations", value)


# ----- values ----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class StatusChange:
    """One step of a case's status history: from, to, when, who and why.

    ``old`` is ``None`` for the filing.

    Example:
        >>> from datetime import datetime, timezone
        >>> StatusChange(old="new", new="acknowledged", by="u_amy",
        ...              at=datetime(2026, 1, 5, tzinfo=timezone.utc)).new
        <CaseStatus.ACKNOWLEDGED: 'acknowledged'>

    .. versionadded:: 0.1.0
    """

    old: CaseStatus | None = attrs.field(converter=_optional_old)
    new: CaseStatus = attrs.field(converter=_new)
    at: datetime = attrs.field(validator=validate_aware)
    by: str | None = attrs.field(default=None, validator=_optional_id)
    reason: str | None = _optional_text(500)


@attrs.frozen(kw_only=True)
class Message:
    """A public message on the case: a reply from one of our agents, or the customer's words.

    The customer sees these (see ``public_view``); ``by`` is the agent's user id, which the
    public view leaves out.

    Example:
        >>> from datetime import datetime, timezone
        >>> Message(author="agent", by="u_amy", body="We are on it.",
        ...         at=datetime(2026, 1, 5, tzinfo=timezone.utc)).author
        <MessageAuthor.AGENT: 'agent'>

    .. versionadded:: 0.1.0
    """

    author: MessageAuthor = attrs.field(converter=_author)
    body: str = _text(10_000)
    at: datetime = attrs.field(validator=validate_aware)
    by: str | None = attrs.field(default=None, validator=_optional_id)


@attrs.frozen(kw_only=True)
class Note:
    """An internal note: for colleagues only, never shown to the customer.

    Example:
        >>> from datetime import datetime, timezone
        >>> Note(by="u_amy", body="Carrier confirms the parcel is lost.",
        ...      at=datetime(2026, 1, 5, tzinfo=timezone.utc)).by
        'u_amy'

    .. versionadded:: 0.1.0
    """

    by: str = attrs.field(validator=_id_field)
    body: str = _text(10_000)
    at: datetime = attrs.field(validator=validate_aware)


@attrs.frozen(kw_only=True)
class Attachment:
    """A file attached to the case, by reference (the host stores the bytes).

    Example:
        >>> from datetime import datetime, timezone
        >>> Attachment(ref="files/abc123", filename="photo.jpg", content_type="image/jpeg",
        ...            by="u_amy", at=datetime(2026, 1, 5, tzinfo=timezone.utc)).filename
        'photo.jpg'

    .. versionadded:: 0.1.0
    """

    ref: str = _text(500)
    filename: str = _text(255)
    at: datetime = attrs.field(validator=validate_aware)
    by: str | None = attrs.field(default=None, validator=_optional_id)
    content_type: str | None = _optional_text(100)


@attrs.frozen(kw_only=True)
class DuplicateLink:
    """A link to another case about the same problem.

    Example:
        >>> from datetime import datetime, timezone
        >>> DuplicateLink(case_id="case_7", at=datetime(2026, 1, 5, tzinfo=timezone.utc)).case_id
        'case_7'

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id_field)
    at: datetime = attrs.field(validator=validate_aware)
    by: str | None = attrs.field(default=None, validator=_optional_id)
    note: str | None = _optional_text(500)


@attrs.frozen(kw_only=True)
class OwnerChange:
    """One (re-)assignment of the case: the owner and team, the rule that chose them, and why.

    Example:
        >>> from datetime import datetime, timezone
        >>> OwnerChange(owner="u_amy", team="billing", rule="by category", reason="billing",
        ...             at=datetime(2026, 1, 5, tzinfo=timezone.utc)).team
        'billing'

    .. versionadded:: 0.1.0
    """

    owner: str | None = attrs.field(validator=_optional_id)
    team: str | None = _optional_text(100)
    rule: str = _text(100)
    reason: str = _text(500)
    at: datetime = attrs.field(validator=validate_aware)
    by: str | None = attrs.field(default=None, validator=_optional_id)


@attrs.frozen(kw_only=True)
class Cancellation:
    """Why a case was cancelled: a duplicate (of ``duplicate_of``) or spam, with a note.

    Example:
        >>> from datetime import datetime, timezone
        >>> Cancellation(reason="spam", note="advertising", at=datetime(2026, 1, 5,
        ...              tzinfo=timezone.utc)).reason
        <CancelReason.SPAM: 'spam'>

    .. versionadded:: 0.1.0
    """

    reason: CancelReason = attrs.field(converter=_reason)
    note: str = _text(500)
    at: datetime = attrs.field(validator=validate_aware)
    by: str | None = attrs.field(default=None, validator=_optional_id)
    duplicate_of: str | None = attrs.field(default=None, validator=_optional_id)

    def __attrs_post_init__(self) -> None:
        if (self.reason is CancelReason.DUPLICATE) != (self.duplicate_of is not None):
            raise ValidationError(
                "a case cancelled as a duplicate names the case it duplicates, and only then",
                path="duplicate_of",
            )


def _points(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValidationError(f"must be a positive int or None, got {value!r}", path="points")


def _positive_money(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None:
        if not isinstance(value, Money):
            raise ValidationError(
                f"must be Money or None, not {type(value).__name__}", path="amount"
            )
        if value.amount <= 0:
            raise ValidationError(f"must be more than zero, got {value}", path="amount")


def _role(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="approver_role")
    return check_id(value.strip(), "approver_role")


@attrs.frozen(kw_only=True)
class Compensation:
    """Something given to the customer to make up for the problem, approved by someone.

    ``reference`` is the outside reference that makes granting idempotent (the refund or
    voucher request id). Goodwill points carry ``points``; every other kind an ``amount``.

    Example:
        >>> from datetime import datetime, timezone
        >>> c = Compensation(reference="comp-1", kind="voucher", amount=Money("300", "TWD"),
        ...                  approved_by="u_lead", approver_role="team_lead",
        ...                  at=datetime(2026, 1, 5, tzinfo=timezone.utc))
        >>> c.kind.value, c.amount
        ('voucher', Money('300', 'TWD'))

    .. versionadded:: 0.1.0
    """

    reference: str = _text(100)
    kind: CompensationKind = attrs.field(converter=_kind)
    amount: Money | None = attrs.field(default=None, validator=_positive_money)
    points: int | None = attrs.field(default=None, validator=_points)
    description: str | None = _optional_text(500)
    approved_by: str = attrs.field(validator=_id_field)
    approver_role: str = attrs.field(converter=_role)
    at: datetime = attrs.field(validator=validate_aware)

    def __attrs_post_init__(self) -> None:
        if self.kind.in_points:
            if self.points is None or self.amount is not None:
                raise ValidationError("goodwill points carry points, not an amount", path="points")
        elif self.amount is None or self.points is not None:
            raise ValidationError(
                f"a {self.kind.value} carries an amount, not points", path="amount"
            )

    def same_grant(self, other: Compensation) -> bool:
        """Whether ``other`` grants the same thing (ignoring when it was recorded).

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> c = Compensation(reference="c1", kind="goodwill_points", points=500,
            ...                  approved_by="u1", approver_role="agent", at=now)
            >>> c.same_grant(attrs.evolve(c, at=now + timedelta(hours=1)))
            True
        """
        return attrs.evolve(other, at=self.at) == self


def _score(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError(f"must be an int from 1 to 5, got {value!r}", path="score")


@attrs.frozen(kw_only=True)
class Csat:
    """The customer's satisfaction with how the case was handled: 1 (poor) to 5, a comment.

    Example:
        >>> from datetime import datetime, timezone
        >>> Csat(score=4, comment="quick and kind", at=datetime(2026, 1, 9,
        ...      tzinfo=timezone.utc)).score
        4

    .. versionadded:: 0.1.0
    """

    score: int = attrs.field(validator=_score)
    at: datetime = attrs.field(validator=validate_aware)
    comment: str | None = _optional_text(2000)
    survey_ref: str | None = _optional_text(100)


@attrs.frozen(kw_only=True)
class SlaBreach:
    """A recorded SLA breach: which target, under which policy, its deadline, when noticed.

    Example:
        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 1, 6, 9, tzinfo=timezone.utc)
        >>> SlaBreach(target="first_response", policy="standard", deadline=at,
        ...           recorded_at=at).target
        <SlaTarget.FIRST_RESPONSE: 'first_response'>

    .. versionadded:: 0.1.0
    """

    target: SlaTarget = attrs.field(converter=_target)
    policy: str = _text(100)
    deadline: datetime = attrs.field(validator=validate_aware)
    recorded_at: datetime = attrs.field(validator=validate_aware)


@attrs.frozen(kw_only=True)
class EscalationRecord:
    """A recorded escalation: a level's timer on a target ran out, and whom to tell.

    Example:
        >>> from datetime import datetime, timezone
        >>> at = datetime(2026, 1, 6, 9, tzinfo=timezone.utc)
        >>> EscalationRecord(target="resolution", level="team_lead", notify="team_lead",
        ...                  due_at=at, recorded_at=at).level
        'team_lead'

    .. versionadded:: 0.1.0
    """

    target: SlaTarget = attrs.field(converter=_target)
    level: str = _text(100)
    due_at: datetime = attrs.field(validator=validate_aware)
    recorded_at: datetime = attrs.field(validator=validate_aware)
    notify: str | None = _optional_text(100)


# ----- the aggregate -------------------------------------------------------------------------


def _moves(status: CaseStatus) -> str:
    plain = [s.value for s in STATUS_GRAPH[status] if (status, s) not in REOPEN_MOVES]
    reopen = [s.value for s in STATUS_GRAPH[status] if (status, s) in REOPEN_MOVES]
    parts = []
    if plain:
        parts.append(f"it may move to {', '.join(map(repr, plain))}")
    if reopen:
        parts.append(f"it may be reopened to {', '.join(map(repr, reopen))} with reopen()")
    if not parts:
        return "it is final: no move is allowed"
    return " and ".join(parts)


def _owner_needed(status: CaseStatus) -> bool:
    return status not in (CaseStatus.NEW, CaseStatus.CANCELLED)


@attrs.define(kw_only=True)
class Complaint(Aggregate):
    """A customer's complaint (a case): who, what, how urgent, who owns it, and its record.

    File one with :meth:`file`, which checks the category against a
    :class:`~crmkit.service.ComplaintPolicy` and derives the priority from its impact x
    urgency matrix. Its methods move it along :data:`~crmkit.service.STATUS_GRAPH`
    (``new -> acknowledged -> in_progress <-> awaiting_customer -> resolved -> closed``,
    :meth:`reopen` within the policy's window, :meth:`cancel` as a duplicate or spam), keep
    public messages and internal notes apart, and record compensation, CSAT, SLA breaches and
    escalations. Each method checks everything before it changes anything, records who and
    when, and raises :class:`~crmkit.errors.RuleViolation` naming the allowed moves when the
    move is not allowed now. Once acknowledged, a case always has an owner.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> from crmkit.service import ComplaintPolicy
        >>> policy = ComplaintPolicy(categories=["delivery"], root_causes=["carrier_delay"])
        >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
        >>> case = Complaint.file(id="case_1", reference="CS-1001", now=now, channel="email",
        ...     customer_id="cus_1", subject="Parcel never arrived", category="delivery",
        ...     impact="medium", urgency="high", policy=policy)
        >>> case.priority.value, case.status.value
        ('high', 'new')
        >>> case.start_work(now=now)
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: cannot move case 'CS-1001' from 'new' to 'in_progress';
        from 'new' it may move to 'acknowledged', 'cancelled'
        >>> case.acknowledge(now=now, owner="u_amy")
        >>> case.reply("Sorry! We are tracing it with the carrier.", now=now, by="u_amy")
        >>> case.start_work(now=now + timedelta(hours=1), actor="u_amy")
        >>> case.resolve(now=now + timedelta(days=1), summary="Re-shipped",
        ...              root_cause="carrier_delay", policy=policy, actor="u_amy")
        >>> [c.new.value for c in case.status_history]
        ['new', 'acknowledged', 'in_progress', 'resolved']

    .. versionadded:: 0.1.0
    """

    reference: str = _text(64)
    channel: Channel = attrs.field(converter=_channel)
    customer_id: str = attrs.field(validator=_id_field)
    contact_id: str | None = attrs.field(default=None, validator=_optional_id)
    subject: str = _text(300)
    description: str | None = _optional_text(20_000)
    product_ref: str | None = _optional_text(100)
    order_ref: str | None = _optional_text(100)
    category: str = _text(100)
    root_cause: str | None = _optional_text(100)
    impact: Impact = attrs.field(converter=_impact)
    urgency: Urgency = attrs.field(converter=_urgency)
    priority: Priority = attrs.field(converter=_priority)
    customer_tier: str | None = _optional_text(50)
    owner: str | None = attrs.field(default=None, validator=_optional_id)
    team: str | None = _optional_text(100)
    status: CaseStatus = attrs.field(default=CaseStatus.NEW, converter=_status)
    status_history: tuple[StatusChange, ...] = attrs.field(default=(), converter=_status_history)
    filed_at: datetime = attrs.field(validator=validate_aware)
    updated_at: datetime = attrs.field(validator=validate_aware)
    acknowledged_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    first_response_at: datetime | None = attrs.field(
        default=None, validator=validate_optional_aware
    )
    resolved_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    closed_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    resolution: str | None = _optional_text(5000)
    next_update_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    messages: tuple[Message, ...] = attrs.field(default=(), converter=_messages)
    notes: tuple[Note, ...] = attrs.field(default=(), converter=_notes)
    attachments: tuple[Attachment, ...] = attrs.field(default=(), converter=_attachments)
    duplicates: tuple[DuplicateLink, ...] = attrs.field(default=(), converter=_duplicates)
    assignments: tuple[OwnerChange, ...] = attrs.field(default=(), converter=_assignments)
    cancellation: Cancellation | None = attrs.field(
        default=None, validator=_optional_instance(Cancellation, "cancellation")
    )
    compensations: tuple[Compensation, ...] = attrs.field(default=(), converter=_compensations)
    csat: Csat | None = attrs.field(default=None, validator=_optional_instance(Csat, "csat"))
    breaches: tuple[SlaBreach, ...] = attrs.field(default=(), converter=_breaches)
    escalations: tuple[EscalationRecord, ...] = attrs.field(default=(), converter=_escalations)
    reopened: int = attrs.field(default=0, validator=v.of_type(int))

    def __attrs_post_init__(self) -> None:
        if _owner_needed(self.status) and self.owner is None:
            raise ValidationError(
                f"a case that is {self.status.value!r} has an owner", path="owner"
            )
        if (self.status is CaseStatus.CANCELLED) != (self.cancellation is not None):
            raise ValidationError(
                "a cancelled case carries its cancellation, and only a cancelled one",
                path="cancellation",
            )
        if self.reopened < 0:
            raise ValidationError(f"must not be negative, got {self.reopened}", path="reopened")

    # ----- filing ----------------------------------------------------------------------------

    @classmethod
    def file(
        cls,
        *,
        id: str,
        reference: str,
        now: datetime,
        channel: Channel | str,
        customer_id: str,
        subject: str,
        category: str,
        impact: Impact | str,
        urgency: Urgency | str,
        policy: ComplaintPolicy,
        description: str | None = None,
        contact_id: str | None = None,
        product_ref: str | None = None,
        order_ref: str | None = None,
        customer_tier: str | None = None,
        owner: str | None = None,
        team: str | None = None,
        filed_at: datetime | None = None,
        actor: str | None = None,
    ) -> Complaint:
        """File a complaint and record ``ComplaintFiled``.

        ``reference`` is the public reference number the customer quotes (the host generates
        it, e.g. from :class:`~crmkit.kernel.ids.SequentialIds`). ``filed_at`` (default
        ``now``, never later) is when the customer reached us: the SLA clocks start there.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.service import ComplaintPolicy
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> Complaint.file(id="case_1", reference="CS-1001", now=now, channel="fax",
            ...     customer_id="cus_1", subject="x", category="delivery", impact="low",
            ...     urgency="low", policy=ComplaintPolicy(categories=["delivery"]))
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: channel: 'fax' is not one of 'phone', 'email', ...
        """
        now = _check_call(now, actor)
        if not isinstance(policy, ComplaintPolicy):
            raise ValidationError(
                f"must be a ComplaintPolicy, not {type(policy).__name__}", path="policy"
            )
        filed = now if filed_at is None else ensure_aware(filed_at, "filed_at")
        if filed > now:
            raise ValidationError(
                f"must not be after now ({now.isoformat()}), got {filed.isoformat()}",
                path="filed_at",
            )
        category = policy.check_category(category)
        priority = policy.priority_matrix.priority(impact, urgency)
        case = cls(
            id=id,
            reference=reference,
            channel=channel,
            customer_id=customer_id,
            contact_id=contact_id,
            subject=subject,
            description=description,
            product_ref=product_ref,
            order_ref=order_ref,
            category=category,
            impact=impact,
            urgency=urgency,
            priority=priority,
            customer_tier=customer_tier,
            owner=owner,
            team=team,
            status_history=(StatusChange(old=None, new=CaseStatus.NEW, at=filed, by=actor),),
            filed_at=filed,
            updated_at=now,
        )
        if owner is not None or team is not None:
            case.assignments = (
                OwnerChange(
                    owner=owner, team=team, rule="intake", reason="set when filed", at=now, by=actor
                ),
            )
        case.record(
            ComplaintFiled(
                aggregate_id=case.id,
                occurred_at=now,
                actor=actor,
                reference=case.reference,
                customer_id=case.customer_id,
                channel=case.channel.value,
                category=case.category,
                priority=case.priority.value,
                owner=owner,
                team=case.team,
            )
        )
        return case

    # ----- queries ---------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether someone still has to work on the case.

        Example:
            >>> _example().is_open
            True
        """
        return self.status.is_open

    @property
    def allowed_moves(self) -> tuple[CaseStatus, ...]:
        """The statuses the case may move to now (reopening included when resolved or closed).

        Example:
            >>> [s.value for s in _example().allowed_moves]
            ['acknowledged', 'cancelled']
        """
        return STATUS_GRAPH[self.status]

    @property
    def public_messages(self) -> tuple[Message, ...]:
        """The messages the customer sees: our replies and their own words, oldest first.

        Example:
            >>> _example().public_messages
            ()
        """
        return self.messages

    # ----- the workflow ------------------------------------------------------------------------

    def acknowledge(
        self,
        *,
        now: datetime,
        owner: str | None = None,
        team: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Acknowledge a new case; it needs an owner from now on (give one, or assign first).

        Example:
            >>> from datetime import datetime, timezone
            >>> case = _example()
            >>> case.acknowledge(now=datetime(2026, 1, 5, 10, tzinfo=timezone.utc))
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: case 'CS-1001' needs an owner to be acknowledged; pass
            owner= or assign it first
        """
        now = _check_call(now, actor)
        if owner is not None:
            check_id(owner, "owner")
        self._check_move(CaseStatus.ACKNOWLEDGED)
        if owner is None and self.owner is None:
            raise RuleViolation(
                f"case {self.reference!r} needs an owner to be acknowledged; pass owner= or "
                "assign it first",
                details={"current": self.status.value},
            )
        if owner is not None:
            self._assign(owner, team, now, "manual", "owner on acknowledgement", actor)
        self.acknowledged_at = now
        self._set_status(CaseStatus.ACKNOWLEDGED, now, actor, None)

    def start_work(self, *, now: datetime, actor: str | None = None) -> None:
        """Move an acknowledged case (or one awaiting the customer) to ``in_progress``.

        Example:
            >>> from datetime import datetime, timezone
            >>> case = _example(acknowledged=True)
            >>> case.start_work(now=datetime(2026, 1, 5, 10, tzinfo=timezone.utc))
            >>> case.status.value
            'in_progress'
        """
        now = _check_call(now, actor)
        self._check_move(CaseStatus.IN_PROGRESS)
        self._set_status(CaseStatus.IN_PROGRESS, now, actor, None)

    def wait_for_customer(
        self, *, now: datetime, reason: str | None = None, actor: str | None = None
    ) -> None:
        """Wait for the customer (the SLA clocks pause); their next message resumes the case.

        Example:
            >>> from datetime import datetime, timezone
            >>> case = _example(acknowledged=True)
            >>> case.wait_for_customer(now=datetime(2026, 1, 5, 10, tzinfo=timezone.utc))
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: cannot move case 'CS-1001' from 'acknowledged' to
            'awaiting_customer'; from 'acknowledged' it may move to 'in_progress', 'cancelled'
        """
        now = _check_call(now, actor)
        reason = _check_optional_text(reason, "reason", 500)
        self._check_move(CaseStatus.AWAITING_CUSTOMER)
        self._set_status(CaseStatus.AWAITING_CUSTOMER, now, actor, reason)

    def reply(
        self,
        body: str,
        *,
        now: datetime,
        by: str,
        wait_for_customer: bool = False,
        actor: str | None = None,
    ) -> None:
        """Send the customer a public reply; the first one meets the first-response target.

        With ``wait_for_customer=True`` the case also moves to ``awaiting_customer`` (a
        question to the customer), in one step.

        Example:
            >>> from datetime import datetime, timezone
            >>> case = _example(acknowledged=True)
            >>> now = datetime(2026, 1, 5, 10, tzinfo=timezone.utc)
            >>> case.reply("Could you send a photo?", now=now, by="u_amy")
            >>> case.first_response_at == now, case.messages[0].author.value
            (True, 'agent')
        """
        now = _check_call(now, actor)
        check_id(by, "by")
        body = _check_text(body, "body", 10_000)
        if self.status in (CaseStatus.NEW, CaseStatus.CLOSED, CaseStatus.CANCELLED):
            hint = "acknowledge it first" if self.status is CaseStatus.NEW else "reopen it first"
            raise RuleViolation(
                f"cannot reply on case {self.reference!r} while it is {self.status.value!r}; "
                + hint,
                details={"current": self.status.value},
            )
        if wait_for_customer and self.status not in (
            CaseStatus.ACKNOWLEDGED,
            CaseStatus.IN_PROGRESS,
            CaseStatus.AWAITING_CUSTOMER,
        ):
            self._check_move(CaseStatus.AWAITING_CUSTOMER)
        first = self.first_response_at is None
        self.messages = (
            *self.messages,
            Message(author=MessageAuthor.AGENT, body=body, at=now, by=by),
        )
        if first:
            self.first_response_at = now
        self.updated_at = now
        self.record(
            ComplaintReplied(
                aggregate_id=self.id, occurred_at=now, actor=actor or by, first_response=first
            )
        )
        if wait_for_customer and self.status is not CaseStatus.AWAITING_CUSTOMER:
            if self.status is CaseStatus.ACKNOWLEDGED:
                self._set_status(CaseStatus.IN_PROGRESS, now, actor or by, None)
            self._set_status(CaseStatus.AWAITING_CUSTOMER, now, actor or by, "asked the customer")

    def receive_customer_message(self, body: str, *, now: datetime) -> None:
        """Record the customer's message; a case awaiting them resumes (the clocks run again).

        Example:
            >>> from datetime import datetime, timezone
            >>> case = _example(acknowledged=True)
            >>> now = datetime(2026, 1, 5, 10, tzinfo=timezone.utc)
            >>> case.reply("Could you send a photo?", now=now, by="u_amy",
            ...            wait_for_customer=True)
            >>> case.receive_customer_message("Here it is.", now=now)
            >>> case.status.value, [m.author.value for m in case.messages]
            ('in_progress', ['agent', 'customer'])
        """
        now = _check_call(now, None)
        body = _check_text(body, "body", 10_000)
        resumed = self.status is CaseStatus.AWAITING_CUSTOMER
        self.messages = (*self.messages, Message(author=MessageAuthor.CUSTOMER, body=body, at=now))
        self.updated_at = now
        self.record(CustomerMessageReceived(aggregate_id=self.id, occurred_at=now, resumed=resumed))
        if resumed:
            self._set_status(CaseStatus.IN_PROGRESS, now, None, "the customer replied")

    def add_note(self, body: str, *, now: datetime, by: str) -> None:
        """Add an internal note: colleagues see it, the customer never does.

        Example:
            >>> from datetime import datetime, timezone
            >>> case = _example()
            >>> case.add_note("VIP: handle with care", now=datetime(2026, 1, 5,
            ...               tzinfo=timezone.utc), by="u_amy")
            >>> case.notes[0].body, case.messages
            ('VIP: handle with care', ())
        """
        now = _check_call(now, by)
        self.notes = (*self.notes, Note(by=by, body=body, at=now))
        self.updated_at = now
        self.record(InternalNoteAdded(aggregate_id=self.id, occurred_at=now, actor=by))

    def attach(
        self,
        ref: str,
        *,
        filename: str,
        now: datetime,
        by: str | None = None,
        content_type: str | None = None,
    ) -> None:
        """Attach a file by reference; the same reference again changes nothing.

        Example:
            >>> from datetime import datetime, timezone
            >>> case = _example()
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> case.attach("files/1", filename="photo.jpg", now=now)
            >>> case.attach("files/1", filename="photo.jpg", now=now)
            >>> len(case.attachments)
            1
        """
        now = _check_call(now, by)
        item = Attachment(ref=ref, filename=filename, at=now, by=by, content_type=content_type)
        if any(a.ref == item.ref for a in self.attachments):
            return
        self.attachments = (*self.attachments, item)
        self.updated_at = now
        self.record(AttachmentAdded(aggregate_id=self.id, occurred_at=now, actor=by, ref=item.ref))

    def link_duplicate(
        self, case_id: str, *, now: datetime, by: str | None = None, note: str | None = None
    ) -> None:
        """Link another case about the same problem; linking it again changes nothing.

        Example:
            >>> from datetime import datetime, timezone
            >>> case = _example()
            >>> case.link_duplicate("case_1", now=datetime(2026, 1, 5, tzinfo=timezone.utc))
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: case_id: a case cannot duplicate itself ('case_1')
        """
        now = _check_call(now, by)
        check_id(case_id, "case_id")
        if case_id == self.id:
            raise ValidationError(f"a case cannot duplicate itself ({case_id!r})", path="case_id")
        if any(link.case_id == case_id for link in self.duplicates):
            return
        self.duplicates = (
            *self.duplicates,
            DuplicateLink(case_id=case_id, at=now, by=by, note=note),
        )
        self.updated_at = now
        self.record(
            DuplicateLinked(aggregate_id=self.id, occurred_at=now, actor=by, other_case_id=case_id)
        )

    def assign(
        self,
        owner: str | None,
        *,
        now: datetime,
        team: str | None = None,
        rule: str = "manual",
        reason: str = "assigned by hand",
        actor: str | None = None,
    ) -> None:
        """Give the case to ``owner`` (and ``team``), recording the rule and reason.

        A re-assignment is recorded in :attr:`assignments`; the same owner, team and rule
        again changes nothing. An acknowledged case cannot lose its owner.

        Example:
            >>> from datetime import datetime, timezone
            >>> case = _example(acknowledged=True)
            >>> now = datetime(2026, 1, 5, 11, tzinfo=timezone.utc)
            >>> case.assign("u_bob", team="billing", now=now, reason="billing question")
            >>> [(a.owner, a.reason) for a in case.assignments]
            [('u_amy', 'owner on acknowledgement'), ('u_bob', 'billing question')]
            >>> case.assign(None, now=now)
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: case 'CS-1001' is 'acknowledged': it keeps an owner; ...
        """
        now = _check_call(now, actor)
        if owner is not None:
            check_id(owner, "owner")
        team = _check_optional_text(team, "team", 100)
        _check_text(rule, "rule", 100)
        _check_text(reason, "reason", 500)
        if owner is None and _owner_needed(self.status):
            raise RuleViolation(
                f"case {self.reference!r} is {self.status.value!r}: it keeps an owner; assign "
                "someone else instead",
                details={"current": self.status.value},
            )
        if self.status is CaseStatus.CANCELLED:
            raise RuleViolation(
                f"case {self.reference!r} was cancelled; it takes no new owner",
                details={"current": self.status.value},
            )
        last = self.assignments[-1] if self.assignments else None
        if (
            owner == self.owner
            and (team or self.team) == self.team
            and last is not None
            and last.rule == rule.strip()
        ):
            return
        self._assign(owner, team, now, rule, reason, actor)

    def reprioritise(
        self,
        *,
        impact: Impact | str,
        urgency: Urgency | str,
        policy: ComplaintPolicy,
        now: datetime,
        reason: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Reassess impact and urgency; the priority follows the policy's matrix.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.service import ComplaintPolicy
            >>> case = _example()
            >>> case.reprioritise(impact="high", urgency="high", now=datetime(2026, 1, 5,
            ...     tzinfo=timezone.utc), policy=ComplaintPolicy(categories=["delivery"]))
            >>> case.priority.value
            'critical'
        """
        now = _check_call(now, actor)
        reason = _check_optional_text(reason, "reason", 500)
        new_impact = v.to_enum(Impact, "impact")(impact)
        new_urgency = v.to_enum(Urgency, "urgency")(urgency)
        priority = policy.priority_matrix.priority(new_impact, new_urgency)
        if (new_impact, new_urgency) == (self.impact, self.urgency):
            return
        self._refuse_when_done("reprioritise")
        old = self.priority
        self.impact, self.urgency, self.priority = new_impact, new_urgency, priority
        self.updated_at = now
        self.record(
            ComplaintReprioritised(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                old_priority=old.value,
                new_priority=priority.value,
                reason=reason,
            )
        )

    def promise_update(self, at: datetime, *, now: datetime, by: str | None = None) -> None:
        """Tell the customer when they will hear from us next (shown in the public view).

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> case = _example()
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> case.promise_update(now + timedelta(days=1), now=now)
            >>> case.next_update_at - now
            datetime.timedelta(days=1)
        """
        now = _check_call(now, by)
        at = ensure_aware(at, "at")
        if at < now:
            raise ValidationError(
                f"must not be before now ({now.isoformat()}), got {at.isoformat()}", path="at"
            )
        self._refuse_when_done("promise an update on")
        self.next_update_at = at
        self.updated_at = now
        self.record(NextUpdatePromised(aggregate_id=self.id, occurred_at=now, actor=by, at=at))

    def resolve(
        self,
        *,
        now: datetime,
        summary: str,
        policy: ComplaintPolicy,
        root_cause: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Resolve the case with a summary and root cause; records ``ComplaintResolved``.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.service import ComplaintPolicy
            >>> case = _example(acknowledged=True)
            >>> case.resolve(now=datetime(2026, 1, 5, tzinfo=timezone.utc), summary="done",
            ...              policy=ComplaintPolicy(categories=["delivery"]))
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: cannot move case 'CS-1001' from 'acknowledged' to
            'resolved'; from 'acknowledged' it may move to 'in_progress', 'cancelled'
        """
        now = _check_call(now, actor)
        summary = _check_text(summary, "summary", 5000)
        cause = None if root_cause is None else policy.check_root_cause(root_cause)
        self._check_move(CaseStatus.RESOLVED)
        self.resolution = summary
        if cause is not None:
            self.root_cause = cause
        self.resolved_at = now
        self.next_update_at = None
        self._set_status(CaseStatus.RESOLVED, now, actor, None)
        self.record(
            ComplaintResolved(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                reference=self.reference,
                customer_id=self.customer_id,
                contact_id=self.contact_id,
                root_cause=self.root_cause,
            )
        )

    def close(self, *, now: datetime, actor: str | None = None) -> None:
        """Close a resolved case.

        Example:
            >>> from datetime import datetime, timezone
            >>> case = _example(acknowledged=True)
            >>> case.close(now=datetime(2026, 1, 5, tzinfo=timezone.utc))
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: cannot move case 'CS-1001' from 'acknowledged' to
            'closed'; from 'acknowledged' it may move to 'in_progress', 'cancelled'
        """
        now = _check_call(now, actor)
        self._check_move(CaseStatus.CLOSED)
        self.closed_at = now
        self._set_status(CaseStatus.CLOSED, now, actor, None)

    def reopen(
        self,
        *,
        now: datetime,
        reason: str,
        policy: ComplaintPolicy,
        actor: str | None = None,
    ) -> None:
        """Reopen a resolved or closed case within ``policy.reopen_within`` of its resolution.

        The history is kept: the reopening is one more step of it, and the SLA clocks resume.

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> from crmkit.service import ComplaintPolicy
            >>> policy = ComplaintPolicy(categories=["delivery"])
            >>> case = _example(acknowledged=True)
            >>> now = datetime(2026, 1, 5, 12, tzinfo=timezone.utc)
            >>> case.start_work(now=now)
            >>> case.resolve(now=now, summary="re-shipped", policy=policy)
            >>> case.reopen(now=now + timedelta(days=15), reason="still missing", policy=policy)
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: case 'CS-1001' was resolved 15 days, 0:00:00 ago; it
            may be reopened within 14 days, 0:00:00 of its resolution
        """
        now = _check_call(now, actor)
        reason = _check_text(reason, "reason", 500)
        if not isinstance(policy, ComplaintPolicy):
            raise ValidationError(
                f"must be a ComplaintPolicy, not {type(policy).__name__}", path="policy"
            )
        if self.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            raise RuleViolation(
                f"case {self.reference!r} is {self.status.value!r}; only a resolved or closed "
                f"case is reopened, and from {self.status.value!r} {_moves(self.status)}",
                details=self._move_details(CaseStatus.IN_PROGRESS),
            )
        resolved = self.resolved_at or self.status_history[-1].at
        waited = now - resolved
        if waited > policy.reopen_within:
            raise RuleViolation(
                f"case {self.reference!r} was resolved {waited} ago; it may be reopened within "
                f"{policy.reopen_within} of its resolution",
                details={
                    "resolved_at": resolved.isoformat(),
                    "reopen_within": str(policy.reopen_within),
                },
            )
        self.reopened += 1
        self.resolved_at = None
        self.closed_at = None
        self._set_status(CaseStatus.IN_PROGRESS, now, actor, f"reopened: {reason}")
        self.record(
            ComplaintReopened(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                reason=reason,
                times=self.reopened,
            )
        )

    def cancel(
        self,
        reason: CancelReason | str,
        *,
        note: str,
        now: datetime,
        duplicate_of: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Cancel the case as a ``duplicate`` (of ``duplicate_of``, linked) or as ``spam``.

        Example:
            >>> from datetime import datetime, timezone
            >>> case = _example()
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> case.cancel("duplicate", note="same parcel as CS-0999", duplicate_of="case_0",
            ...             now=now)
            >>> case.status.value, case.duplicates[0].case_id
            ('cancelled', 'case_0')
        """
        now = _check_call(now, actor)
        record = Cancellation(reason=reason, note=note, at=now, by=actor, duplicate_of=duplicate_of)
        if duplicate_of == self.id:
            raise ValidationError(
                f"a case cannot duplicate itself ({duplicate_of!r})", path="duplicate_of"
            )
        self._check_move(CaseStatus.CANCELLED)
        if duplicate_of is not None:
            self.link_duplicate(duplicate_of, now=now, by=actor, note=record.note)
        self.cancellation = record
        self.next_update_at = None
        self._set_status(CaseStatus.CANCELLED, now, actor, f"{record.reason.value}: {record.note}")
        self.record(
            ComplaintCancelled(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                reason=record.reason.value,
                duplicate_of=duplicate_of,
            )
        )

    # ----- compensation and satisfaction -------------------------------------------------------

    def grant_compensation(
        self,
        *,
        reference: str,
        kind: CompensationKind | str,
        approved_by: str,
        approver_role: str,
        policy: ComplaintPolicy,
        now: datetime,
        amount: Money | None = None,
        points: int | None = None,
        description: str | None = None,
    ) -> Compensation:
        """Record compensation within the approver role's limit; idempotent on ``reference``.

        The same ``reference`` with the same grant returns the recorded one and changes
        nothing; with a different grant it is a :class:`~crmkit.errors.RuleViolation`. The
        app layer turns ``CompensationGranted`` into the refund, coupon or points.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.service import CompensationLimit, ComplaintPolicy
            >>> policy = ComplaintPolicy(categories=["delivery"], compensation_limits=[
            ...     CompensationLimit(role="agent", kind="goodwill_points", max_points=1000)])
            >>> case = _example(acknowledged=True)
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> grant = dict(reference="gp-1", kind="goodwill_points", points=500,
            ...              approved_by="u_amy", approver_role="agent", policy=policy, now=now)
            >>> case.grant_compensation(**grant).points
            500
            >>> _ = case.grant_compensation(**grant)
            >>> len(case.compensations)
            1
        """
        now = _check_call(now, approved_by)
        record = Compensation(
            reference=reference,
            kind=kind,
            amount=amount,
            points=points,
            description=description,
            approved_by=approved_by,
            approver_role=approver_role,
            at=now,
        )
        for done in self.compensations:
            if done.reference == record.reference:
                if done.same_grant(record):
                    return done
                raise RuleViolation(
                    f"compensation {record.reference!r} was already granted on case "
                    f"{self.reference!r} with other terms; use a new reference",
                    details={"reference": record.reference},
                )
        if self.status in (CaseStatus.NEW, CaseStatus.CANCELLED):
            raise RuleViolation(
                f"case {self.reference!r} is {self.status.value!r}; compensation is granted "
                "on an acknowledged case",
                details={"current": self.status.value},
            )
        policy.check_compensation(record.approver_role, record.kind, amount=amount, points=points)
        self.compensations = (*self.compensations, record)
        self.updated_at = now
        self.record(
            CompensationGranted(
                aggregate_id=self.id,
                occurred_at=now,
                actor=approved_by,
                reference=record.reference,
                kind=record.kind.value,
                customer_id=self.customer_id,
                amount=record.amount,
                points=record.points,
                approved_by=record.approved_by,
                approver_role=record.approver_role,
            )
        )
        return record

    def record_csat(
        self,
        score: int,
        *,
        now: datetime,
        comment: str | None = None,
        survey_ref: str | None = None,
    ) -> None:
        """Record the customer's 1-5 satisfaction score on a resolved or closed case (once).

        The same answer again changes nothing; a different one is a rule violation.

        Example:
            >>> from datetime import datetime, timezone
            >>> case = _example(acknowledged=True)
            >>> case.record_csat(5, now=datetime(2026, 1, 5, tzinfo=timezone.utc))
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: case 'CS-1001' is 'acknowledged'; CSAT is recorded on a
            resolved or closed case
        """
        now = _check_call(now, None)
        answer = Csat(score=score, at=now, comment=comment, survey_ref=survey_ref)
        if self.csat is not None:
            if attrs.evolve(answer, at=self.csat.at) == self.csat:
                return
            raise RuleViolation(
                f"case {self.reference!r} has a CSAT score already ({self.csat.score}); it is "
                "recorded once",
                details={"score": self.csat.score},
            )
        if self.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
            raise RuleViolation(
                f"case {self.reference!r} is {self.status.value!r}; CSAT is recorded on a "
                "resolved or closed case",
                details={"current": self.status.value},
            )
        self.csat = answer
        self.updated_at = now
        self.record(CsatRecorded(aggregate_id=self.id, occurred_at=now, score=answer.score))

    # ----- SLA -----------------------------------------------------------------------------

    def record_breaches(
        self,
        now: datetime,
        *,
        policy: SlaPolicy,
        calendar: BusinessCalendar,
        actor: str | None = None,
    ) -> tuple[SlaBreach | EscalationRecord, ...]:
        """Record each SLA target breached and each escalation level reached, once each.

        The SLA status is computed from the history (see :func:`crmkit.service.sla.sla_status`);
        whatever is new is recorded (``SlaBreached``, ``ComplaintEscalated``) and returned;
        calling again records nothing twice, even after a reopening.

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> from crmkit.kernel.calendar import BusinessCalendar, Weekday, WorkingHours
            >>> from crmkit.service.sla import SlaPolicy
            >>> always = BusinessCalendar(timezone="UTC",
            ...     hours=[WorkingHours(d, "00:00", "00:00") for d in Weekday])
            >>> policy = SlaPolicy(name="std", first_response=timedelta(hours=4),
            ...                    resolution=timedelta(hours=48))
            >>> case = _example()
            >>> later = case.filed_at + timedelta(hours=5)
            >>> [b.target.value for b in case.record_breaches(later, policy=policy,
            ...                                                calendar=always)]
            ['first_response']
            >>> case.record_breaches(later, policy=policy, calendar=always)
            ()
        """
        from crmkit.service.sla import SlaState, sla_status

        now = _check_call(now, actor)
        status = sla_status(self, policy, calendar, now)
        done = {b.target for b in self.breaches}
        escalated = {(e.target, e.level) for e in self.escalations}
        new: list[SlaBreach | EscalationRecord] = []
        for clock in status.clocks:
            if clock.state is SlaState.BREACHED and clock.target not in done:
                new.append(
                    SlaBreach(
                        target=clock.target,
                        policy=policy.name,
                        deadline=clock.deadline,
                        recorded_at=now,
                    )
                )
            for level in clock.escalations:
                if level.reached and (clock.target, level.level) not in escalated:
                    new.append(
                        EscalationRecord(
                            target=clock.target,
                            level=level.level,
                            notify=level.notify,
                            due_at=level.due_at,
                            recorded_at=now,
                        )
                    )
        for item in new:
            if isinstance(item, SlaBreach):
                self.breaches = (*self.breaches, item)
                self.record(
                    SlaBreached(
                        aggregate_id=self.id,
                        occurred_at=now,
                        actor=actor,
                        target=item.target.value,
                        deadline=item.deadline,
                        policy=item.policy,
                    )
                )
            else:
                self.escalations = (*self.escalations, item)
                self.record(
                    ComplaintEscalated(
                        aggregate_id=self.id,
                        occurred_at=now,
                        actor=actor,
                        target=item.target.value,
                        level=item.level,
                        notify=item.notify,
                        due_at=item.due_at,
                    )
                )
        if new:
            self.updated_at = now
        return tuple(new)

    # ----- internals -------------------------------------------------------------------------

    def _assign(
        self,
        owner: str | None,
        team: str | None,
        now: datetime,
        rule: str,
        reason: str,
        actor: str | None,
    ) -> None:
        change = OwnerChange(
            owner=owner, team=team or self.team, rule=rule, reason=reason, at=now, by=actor
        )
        old = self.owner
        self.owner = owner
        self.team = change.team
        self.assignments = (*self.assignments, change)
        self.updated_at = now
        self.record(
            ComplaintAssigned(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                old_owner=old,
                new_owner=owner,
                team=change.team,
                rule=change.rule,
                reason=change.reason,
            )
        )

    def _move_details(self, target: CaseStatus) -> dict[str, object]:
        return {
            "current": self.status.value,
            "target": target.value,
            "allowed": [
                s.value for s in STATUS_GRAPH[self.status] if (self.status, s) not in REOPEN_MOVES
            ],
            "reopen_to": [
                s.value for s in STATUS_GRAPH[self.status] if (self.status, s) in REOPEN_MOVES
            ],
        }

    def _check_move(self, target: CaseStatus) -> None:
        if target in STATUS_GRAPH[self.status] and (self.status, target) not in REOPEN_MOVES:
            return
        raise RuleViolation(
            f"cannot move case {self.reference!r} from {self.status.value!r} to "
            f"{target.value!r}; from {self.status.value!r} {_moves(self.status)}",
            details=self._move_details(target),
        )

    def _refuse_when_done(self, what: str) -> None:
        if not self.status.is_open:
            raise RuleViolation(
                f"cannot {what} case {self.reference!r}: it is {self.status.value!r}",
                details={"current": self.status.value},
            )

    def _set_status(
        self, new: CaseStatus, now: datetime, actor: str | None, reason: str | None
    ) -> None:
        old = self.status
        self.status = new
        self.status_history = (
            *self.status_history,
            StatusChange(old=old, new=new, at=now, by=actor, reason=reason),
        )
        self.updated_at = now
        self.record(
            ComplaintStatusChanged(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                old=old.value,
                new=new.value,
                reason=reason,
            )
        )


def _example(*, acknowledged: bool = False) -> Complaint:
    """A new complaint for the doctests (acknowledged by ``u_amy`` if asked)."""
    from datetime import timezone

    now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    case = Complaint.file(
        id="case_1",
        reference="CS-1001",
        now=now,
        channel="email",
        customer_id="cus_1",
        subject="Parcel never arrived",
        category="delivery",
        impact="medium",
        urgency="high",
        policy=ComplaintPolicy(categories=["delivery"]),
    )
    if acknowledged:
        case.acknowledge(now=now, owner="u_amy")
    case.pull_events()
    return case
