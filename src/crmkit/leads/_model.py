"""Lead: the aggregate, its values, and the status graph."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs

from crmkit.customers import normalize_email
from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money, _to_decimal
from crmkit.kernel.time import ensure_aware, validate_aware, validate_optional_aware
from crmkit.leads.events import (
    LeadActivityLogged,
    LeadCaptured,
    LeadCaptureMerged,
    LeadContacted,
    LeadConverted,
    LeadDuplicateCleared,
    LeadFlaggedAsDuplicate,
    LeadFollowUpScheduled,
    LeadLinkedToCustomer,
    LeadOwnerAssigned,
    LeadQualificationAnswered,
    LeadScored,
    LeadStatusChanged,
    LeadUpdated,
)
from crmkit.leads.normalize import MatchKeys, phone_key
from crmkit.leads.qualification import BANT, Framework, Qualification, QualificationAnswer

if TYPE_CHECKING:
    from crmkit.leads.scoring import LeadScore

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

T = TypeVar("T")


# ----- enums ---------------------------------------------------------------------------------


class SourceChannel(StrEnum):
    """Where a lead came from.

    Example:
        >>> SourceChannel("trade_show"), SourceChannel.IMPORT.value
        (<SourceChannel.TRADE_SHOW: 'trade_show'>, 'import')

    .. versionadded:: 0.1.0
    """

    WEB_FORM = "web_form"
    TRADE_SHOW = "trade_show"
    ADS = "ads"
    SOCIAL = "social"
    REFERRAL = "referral"
    PHONE = "phone"
    IMPORT = "import"
    PARTNER = "partner"


class LeadStatus(StrEnum):
    """Where a lead stands; :data:`STATUS_GRAPH` says which moves are allowed.

    Example:
        >>> [s.value for s in LeadStatus]
        ['new', 'working', 'nurturing', 'qualified', 'disqualified', 'converted']

    .. versionadded:: 0.1.0
    """

    NEW = "new"
    WORKING = "working"
    NURTURING = "nurturing"
    QUALIFIED = "qualified"
    DISQUALIFIED = "disqualified"
    CONVERTED = "converted"


class ActivityKind(StrEnum):
    """What a lead did, or what we did with the lead; engagement scoring reads these.

    Example:
        >>> ActivityKind("page_visited") in CONTACT_KINDS, ActivityKind.CALL in CONTACT_KINDS
        (False, True)

    .. versionadded:: 0.1.0
    """

    EMAIL_OPENED = "email_opened"
    PAGE_VISITED = "page_visited"
    DOWNLOAD = "download"
    EVENT_ATTENDED = "event_attended"
    CALL = "call"
    EMAIL_REPLIED = "email_replied"
    MEETING = "meeting"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"


class Grade(StrEnum):
    """A fit grade, A (best) to D, from a scoring model's fit points.

    Example:
        >>> Grade("B") < Grade("C")
        True

    .. versionadded:: 0.1.0
    """

    A = "A"
    B = "B"
    C = "C"
    D = "D"


_S = LeadStatus

#: The status graph: from each status, the statuses a lead may move to. Moves listed in
#: :data:`RECYCLE_MOVES` happen only through :meth:`Lead.recycle`, after a waiting period.
STATUS_GRAPH: Mapping[LeadStatus, tuple[LeadStatus, ...]] = MappingProxyType(
    {
        _S.NEW: (_S.WORKING, _S.NURTURING, _S.DISQUALIFIED),
        _S.WORKING: (_S.NURTURING, _S.QUALIFIED, _S.DISQUALIFIED),
        _S.NURTURING: (_S.WORKING, _S.DISQUALIFIED, _S.NEW),
        _S.QUALIFIED: (_S.CONVERTED, _S.DISQUALIFIED),
        _S.DISQUALIFIED: (_S.NEW, _S.WORKING),
        _S.CONVERTED: (),
    }
)

#: The moves of :data:`STATUS_GRAPH` that only :meth:`Lead.recycle` makes.
RECYCLE_MOVES: frozenset[tuple[LeadStatus, LeadStatus]] = frozenset(
    {(_S.NURTURING, _S.NEW), (_S.DISQUALIFIED, _S.NEW), (_S.DISQUALIFIED, _S.WORKING)}
)

#: Activity kinds that, done by the lead's owner, count as contacting the lead.
CONTACT_KINDS: frozenset[ActivityKind] = frozenset(
    {ActivityKind.CALL, ActivityKind.EMAIL_REPLIED, ActivityKind.MEETING}
)

#: The default reasons a lead may be disqualified for; pass your own list to ``disqualify``.
DISQUALIFICATION_REASONS: tuple[str, ...] = (
    "no_budget",
    "no_authority",
    "no_need",
    "bad_timing",
    "chose_competitor",
    "not_a_fit",
    "unreachable",
    "duplicate",
    "spam",
    "other",
)

_OPEN = frozenset({_S.NEW, _S.WORKING, _S.NURTURING, _S.QUALIFIED})


# ----- validators and converters ---------------------------------------------------------------


def _id_field(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    check_id(value, attribute.name)


def _optional_id(_instance: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _check_call(now: object, actor: object) -> datetime:
    """Check a method's ``now`` and ``actor`` before it changes anything."""
    if actor is not None:
        check_id(actor, "actor")
    return ensure_aware(now, "now")


def _instance(cls: type, field: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if not isinstance(value, cls):
            raise ValidationError(f"must be {cls.__name__}, not {type(value).__name__}", path=field)

    return check


def _optional_instance(cls: type, field: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, cls):
            raise ValidationError(
                f"must be {cls.__name__} or None, not {type(value).__name__}", path=field
            )

    return check


def _tuple_of(cls: type[T], field: str) -> Any:
    def convert(value: object) -> tuple[T, ...]:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise ValidationError(
                f"must be a list of {cls.__name__}, not {type(value).__name__}", path=field
            )
        items = tuple(value)
        for i, item in enumerate(items):
            if not isinstance(item, cls):
                raise ValidationError(
                    f"must be {cls.__name__}, not {type(item).__name__}", path=f"{field}[{i}]"
                )
        return cast("tuple[T, ...]", items)

    return convert


def _touches(value: object) -> tuple[SourceTouch, ...]:
    return _tuple_of(SourceTouch, "touches")(value)  # type: ignore[no-any-return]


def _history(value: object) -> tuple[StatusChange, ...]:
    return _tuple_of(StatusChange, "status_history")(value)  # type: ignore[no-any-return]


def _activities(value: object) -> tuple[Activity, ...]:
    return _tuple_of(Activity, "activities")(value)  # type: ignore[no-any-return]


def _email(value: object) -> str | None:
    value = v.strip_optional(value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="email")
    try:
        return normalize_email(value)
    except ValidationError as exc:
        raise exc.at("email") from None


def _e164(value: object) -> str | None:
    value = v.strip_optional(value)
    if value is None:
        return None
    if not (
        isinstance(value, str)
        and value.startswith("+")
        and value[1:].isdigit()
        and value[1:].isascii()
        and 8 <= len(value) <= 16
    ):
        raise ValidationError(
            f"{value!r} is not an E.164 number such as '+886912345678' "
            "(Lead.capture reads local numbers with phone_region)",
            path="phone",
        )
    return value


def _company_size(_instance: object, _attribute: object, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            f"must be a non-negative int (number of employees), got {value!r}", path="company_size"
        )


def _budget(_instance: object, _attribute: object, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, Money):
        raise ValidationError(
            f"must be Money or None, not {type(value).__name__}; e.g. Money('500000', 'TWD')",
            path="budget",
        )
    if value.is_negative():
        raise ValidationError(f"must not be negative, got {value}", path="budget")


def _channel(value: object) -> SourceChannel:
    return v.to_enum(SourceChannel, "source_channel")(value)


def _status(value: object) -> LeadStatus:
    return v.to_enum(LeadStatus, "status")(value)


def _optional_status(value: object) -> LeadStatus | None:
    return v.to_optional_enum(LeadStatus, "old")(value)


def _new_status(value: object) -> LeadStatus:
    return v.to_enum(LeadStatus, "new")(value)


def _activity_kind(value: object) -> ActivityKind:
    return v.to_enum(ActivityKind, "kind")(value)


def _optional_grade(value: object) -> Grade | None:
    return v.to_optional_enum(Grade, "fit_grade")(value)


def _optional_score(value: object) -> Decimal | None:
    return None if value is None else _to_decimal(value, "score")


def _reason_code(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not (isinstance(value, str) and value.strip() and len(value) <= 50):
        raise ValidationError(
            f"must be a reason code such as 'no_budget', got {value!r}", path=attribute.name
        )


def _text(n: int) -> Any:
    return attrs.field(converter=v.strip, validator=v.text(n))


def _optional_text(n: int) -> Any:
    return attrs.field(default=None, converter=v.strip_optional, validator=v.optional_text(n))


# ----- values --------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Activity:
    """One thing in a lead's history: what kind, when, an optional detail, and who (ours).

    ``by`` is a user id when one of ours did it (a call, a meeting); ``None`` when the lead did
    it (opened an email, visited a page).

    Example:
        >>> from datetime import datetime, timezone
        >>> a = Activity(kind="download", at=datetime(2026, 1, 5, tzinfo=timezone.utc),
        ...              detail="pricing.pdf")
        >>> a.kind.value, a.detail
        ('download', 'pricing.pdf')

    .. versionadded:: 0.1.0
    """

    kind: ActivityKind = attrs.field(converter=_activity_kind)
    at: datetime = attrs.field(validator=validate_aware)
    detail: str | None = _optional_text(500)
    by: str | None = attrs.field(default=None, validator=_optional_id)


@attrs.frozen(kw_only=True)
class IntakeConsent:
    """The marketing consent a lead gave (or refused) when captured: yes/no, how, when.

    Example:
        >>> from datetime import datetime, timezone
        >>> IntakeConsent(marketing=True, source="web form checkbox",
        ...               at=datetime(2026, 1, 5, tzinfo=timezone.utc)).marketing
        True

    .. versionadded:: 0.1.0
    """

    marketing: bool = attrs.field(validator=v.of_type(bool))
    source: str = _text(200)
    at: datetime = attrs.field(validator=validate_aware)


@attrs.frozen(kw_only=True)
class SourceTouch:
    """One capture of the lead: channel, campaign, outside reference, when.

    A lead's first touch is its intake; captures of the same person merged into it add more.

    Example:
        >>> from datetime import datetime, timezone
        >>> SourceTouch(channel="ads", campaign="spring promo",
        ...             at=datetime(2026, 1, 5, tzinfo=timezone.utc)).channel.value
        'ads'

    .. versionadded:: 0.1.0
    """

    channel: SourceChannel = attrs.field(converter=_channel)
    at: datetime = attrs.field(validator=validate_aware)
    campaign: str | None = _optional_text(200)
    external_ref: str | None = _optional_text(200)


@attrs.frozen(kw_only=True)
class StatusChange:
    """One step of a lead's status history (``old`` is ``None`` for the capture).

    Example:
        >>> from datetime import datetime, timezone
        >>> StatusChange(old=None, new="new", at=datetime(2026, 1, 5, tzinfo=timezone.utc)).new
        <LeadStatus.NEW: 'new'>

    .. versionadded:: 0.1.0
    """

    old: LeadStatus | None = attrs.field(converter=_optional_status)
    new: LeadStatus = attrs.field(converter=_new_status)
    at: datetime = attrs.field(validator=validate_aware)
    by: str | None = attrs.field(default=None, validator=_optional_id)
    reason: str | None = _optional_text(500)


@attrs.frozen(kw_only=True)
class OwnerAssignment:
    """Who owns the lead, which assignment rule chose them and why, and when.

    Example:
        >>> from datetime import datetime, timezone
        >>> OwnerAssignment(owner="u_amy", rule="north territory", reason="region 'TW-TPE'",
        ...                 at=datetime(2026, 1, 5, tzinfo=timezone.utc)).rule
        'north territory'

    .. versionadded:: 0.1.0
    """

    owner: str | None = attrs.field(validator=_optional_id)
    rule: str = _text(100)
    reason: str = _text(500)
    at: datetime = attrs.field(validator=validate_aware)


@attrs.frozen(kw_only=True)
class Disqualification:
    """Why and when a lead was disqualified (``reason`` is a code from a configured list).

    Example:
        >>> from datetime import datetime, timezone
        >>> Disqualification(reason="no_budget", note="frozen until 2027",
        ...                  at=datetime(2026, 1, 5, tzinfo=timezone.utc)).reason
        'no_budget'

    .. versionadded:: 0.1.0
    """

    reason: str = attrs.field(validator=_reason_code)
    at: datetime = attrs.field(validator=validate_aware)
    note: str | None = _optional_text(1000)
    by: str | None = attrs.field(default=None, validator=_optional_id)


@attrs.frozen(kw_only=True)
class CustomerLink:
    """The existing customer (and contact) a lead was linked to, and why.

    Example:
        >>> from datetime import datetime, timezone
        >>> CustomerLink(customer_id="cus_1", contact_id="con_1", reason="same email",
        ...              at=datetime(2026, 1, 5, tzinfo=timezone.utc)).customer_id
        'cus_1'

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id_field)
    reason: str = _text(500)
    at: datetime = attrs.field(validator=validate_aware)
    contact_id: str | None = attrs.field(default=None, validator=_optional_id)


@attrs.frozen(kw_only=True)
class DuplicateFlag:
    """A mark that the lead is probably the same person as record ``of`` (a lead or contact).

    Example:
        >>> from datetime import datetime, timezone
        >>> DuplicateFlag(of="lead_1", reason="same phone '+886912345678'",
        ...               at=datetime(2026, 1, 5, tzinfo=timezone.utc)).of
        'lead_1'

    .. versionadded:: 0.1.0
    """

    of: str = attrs.field(validator=_id_field)
    reason: str = _text(500)
    at: datetime = attrs.field(validator=validate_aware)


@attrs.frozen(kw_only=True)
class ConversionResult:
    """What a converted lead became: a customer, a contact and maybe an opportunity.

    Example:
        >>> ConversionResult(customer_id="cus_1", contact_id="con_1").opportunity_id is None
        True

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id_field)
    contact_id: str = attrs.field(validator=_id_field)
    opportunity_id: str | None = attrs.field(default=None, validator=_optional_id)


# ----- the aggregate -------------------------------------------------------------------------

_PROFILE_FIELDS = (
    "name",
    "email",
    "phone",
    "job_title",
    "company",
    "industry",
    "company_size",
    "region",
    "budget",
)


def _moves(status: LeadStatus) -> str:
    plain = [s.value for s in STATUS_GRAPH[status] if (status, s) not in RECYCLE_MOVES]
    recycled = [s.value for s in STATUS_GRAPH[status] if (status, s) in RECYCLE_MOVES]
    parts = []
    if plain:
        parts.append(f"it may move to {', '.join(map(repr, plain))}")
    if recycled:
        parts.append(f"it may be recycled to {', '.join(map(repr, recycled))} with recycle()")
    if not parts:
        return "it is final: no move is allowed"
    return " and ".join(parts)


@attrs.define(kw_only=True)
class Lead(Aggregate):
    """A person (and their company) who may buy: captured, scored, worked and converted.

    Build one with :meth:`capture`, which normalises the email and phone and records
    ``LeadCaptured``. Methods move it along :data:`STATUS_GRAPH`, log its activities, record
    qualification answers, owner assignments and scores; each records an event, checks
    everything before it changes anything, and raises :class:`~crmkit.errors.RuleViolation`
    for a move the rules forbid now.

    A lead needs an email or a phone: someone must be able to follow it up.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
        >>> lead = Lead.capture(id="lead_1", now=now, source_channel="trade_show",
        ...     campaign="2023 trade show", name="Amy Chen", company="Acme Ltd",
        ...     email="Amy@Acme.example", phone="0912 345 678", phone_region="TW")
        >>> lead.email, lead.phone, lead.status.value
        ('Amy@acme.example', '+886912345678', 'new')
        >>> lead.qualify(now=now)
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: cannot move lead 'lead_1' from 'new' to 'qualified'; from
        'new' it may move to 'working', 'nurturing', 'disqualified'
        >>> lead.start_working(now=now + timedelta(hours=1), actor="u_amy")
        >>> [e.event_type for e in lead.pull_events()]
        ['leads.LeadCaptured', 'leads.LeadStatusChanged']

    .. versionadded:: 0.1.0
    """

    # person
    name: str | None = _optional_text(200)
    email: str | None = attrs.field(default=None, converter=_email)
    phone: str | None = attrs.field(default=None, converter=_e164)
    job_title: str | None = _optional_text(200)
    # company
    company: str | None = _optional_text(200)
    industry: str | None = _optional_text(100)
    company_size: int | None = attrs.field(default=None, validator=_company_size)
    region: str | None = _optional_text(100)
    budget: Money | None = attrs.field(default=None, validator=_budget)
    # source
    source_channel: SourceChannel = attrs.field(converter=_channel)
    campaign: str | None = _optional_text(200)
    external_ref: str | None = _optional_text(200)
    consent: IntakeConsent | None = attrs.field(
        default=None, validator=_optional_instance(IntakeConsent, "consent")
    )
    touches: tuple[SourceTouch, ...] = attrs.field(default=(), converter=_touches)
    # ownership and status
    owner: str | None = attrs.field(default=None, validator=_optional_id)
    assignment: OwnerAssignment | None = attrs.field(
        default=None, validator=_optional_instance(OwnerAssignment, "assignment")
    )
    status: LeadStatus = attrs.field(default=LeadStatus.NEW, converter=_status)
    status_history: tuple[StatusChange, ...] = attrs.field(default=(), converter=_history)
    # timestamps
    captured_at: datetime = attrs.field(validator=validate_aware)
    updated_at: datetime = attrs.field(validator=validate_aware)
    status_changed_at: datetime = attrs.field(validator=validate_aware)
    follow_up_due_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    first_contacted_at: datetime | None = attrs.field(
        default=None, validator=validate_optional_aware
    )
    last_contacted_at: datetime | None = attrs.field(
        default=None, validator=validate_optional_aware
    )
    qualified_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    converted_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    # history and outcomes
    activities: tuple[Activity, ...] = attrs.field(default=(), converter=_activities)
    qualification: Qualification = attrs.field(
        factory=Qualification, validator=_instance(Qualification, "qualification")
    )
    disqualification: Disqualification | None = attrs.field(
        default=None, validator=_optional_instance(Disqualification, "disqualification")
    )
    conversion: ConversionResult | None = attrs.field(
        default=None, validator=_optional_instance(ConversionResult, "conversion")
    )
    customer_link: CustomerLink | None = attrs.field(
        default=None, validator=_optional_instance(CustomerLink, "customer_link")
    )
    duplicate: DuplicateFlag | None = attrs.field(
        default=None, validator=_optional_instance(DuplicateFlag, "duplicate")
    )
    # the last stored score
    score: Decimal | None = attrs.field(default=None, converter=_optional_score)
    fit_grade: Grade | None = attrs.field(default=None, converter=_optional_grade)
    scored_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    scoring_model: str | None = _optional_text(100)

    def __attrs_post_init__(self) -> None:
        if self.email is None and self.phone is None:
            raise ValidationError(
                "a lead needs an email or a phone so someone can follow it up", path="email"
            )
        if (self.status is LeadStatus.CONVERTED) != (self.conversion is not None):
            raise ValidationError(
                "a converted lead carries its conversion result, and only a converted one",
                path="conversion",
            )
        if (self.status is LeadStatus.DISQUALIFIED) != (self.disqualification is not None):
            raise ValidationError(
                "a disqualified lead carries its disqualification, and only a disqualified one",
                path="disqualification",
            )

    # ----- capture ---------------------------------------------------------------------------

    @classmethod
    def capture(
        cls,
        *,
        id: str,
        now: datetime,
        source_channel: SourceChannel | str,
        name: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        phone_region: str | None = None,
        job_title: str | None = None,
        company: str | None = None,
        industry: str | None = None,
        company_size: int | None = None,
        region: str | None = None,
        budget: Money | None = None,
        campaign: str | None = None,
        external_ref: str | None = None,
        consent: IntakeConsent | None = None,
        owner: str | None = None,
        captured_at: datetime | None = None,
        follow_up_due_at: datetime | None = None,
        actor: str | None = None,
    ) -> Lead:
        """Create a lead from one capture and record ``LeadCaptured``.

        ``phone`` may be local when ``phone_region`` (``"TW"``) says how to read it; it is
        stored in E.164. ``captured_at`` (default ``now``, never later) is when the person
        reached us, for imports of older leads. ``follow_up_due_at`` is the speed-to-lead
        deadline (see :func:`follow_up_due`).

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> Lead.capture(id="lead_1", now=now, source_channel="web_form", name="Bob")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: email: a lead needs an email or a phone so someone
            can follow it up
        """
        now = _check_call(now, actor)
        at = now if captured_at is None else ensure_aware(captured_at, "captured_at")
        if at > now:
            raise ValidationError(
                f"must not be after now ({now.isoformat()}), got {at.isoformat()}",
                path="captured_at",
            )
        phone_value = v.strip_optional(phone)
        if isinstance(phone_value, str):
            try:
                phone_value = phone_key(phone_value, phone_region)
            except ValidationError as exc:
                raise exc.at("phone") from None
        lead = cls(
            id=id,
            name=name,
            email=email,
            phone=phone_value,
            job_title=job_title,
            company=company,
            industry=industry,
            company_size=company_size,
            region=region,
            budget=budget,
            source_channel=source_channel,
            campaign=campaign,
            external_ref=external_ref,
            consent=consent,
            owner=owner,
            captured_at=at,
            updated_at=now,
            status_changed_at=at,
            follow_up_due_at=follow_up_due_at,
        )
        lead.touches = (
            SourceTouch(
                channel=lead.source_channel,
                at=at,
                campaign=lead.campaign,
                external_ref=lead.external_ref,
            ),
        )
        lead.status_history = (StatusChange(old=None, new=LeadStatus.NEW, at=at, by=actor),)
        lead.record(
            LeadCaptured(
                aggregate_id=lead.id,
                occurred_at=now,
                actor=actor,
                source_channel=lead.source_channel.value,
                campaign=lead.campaign,
                external_ref=lead.external_ref,
                name=lead.name,
                company=lead.company,
                owner=lead.owner,
                follow_up_due_at=lead.follow_up_due_at,
            )
        )
        return lead

    # ----- views -----------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """Whether the lead is still in play (not converted nor disqualified).

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example").is_open
            True
        """
        return self.status in _OPEN

    @property
    def allowed_moves(self) -> tuple[LeadStatus, ...]:
        """The statuses the lead may move to now (recycling moves included).

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> [s.value for s in lead.allowed_moves]
            ['working', 'nurturing', 'disqualified']
        """
        return STATUS_GRAPH[self.status]

    def may_market(self) -> bool:
        """Whether marketing may be sent: consent given at intake and no unsubscribe since.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example",
            ...     consent=IntakeConsent(marketing=True, source="form", at=now))
            >>> lead.may_market()
            True
        """
        if self.consent is None or not self.consent.marketing:
            return False
        return not any(a.kind is ActivityKind.UNSUBSCRIBED for a in self.activities)

    def is_follow_up_overdue(self, now: datetime) -> bool:
        """Whether the speed-to-lead deadline passed without a first contact.

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example",
            ...                     follow_up_due_at=now + timedelta(hours=8))
            >>> lead.is_follow_up_overdue(now + timedelta(hours=9))
            True
        """
        now = ensure_aware(now, "now")
        return (
            self.follow_up_due_at is not None
            and self.first_contacted_at is None
            and self.is_open
            and now > self.follow_up_due_at
        )

    def match_keys(self) -> MatchKeys:
        """The keys duplicate matching compares (see :func:`crmkit.leads.normalize.match`).

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> Lead.capture(id="l1", now=now, source_channel="ads", email="Amy@B.example",
            ...              company="B Ltd").match_keys().company
            'b'
        """
        return MatchKeys(
            emails=() if self.email is None else (self.email,),
            phones=() if self.phone is None else (self.phone,),
            company=self.company,
            name=self.name,
        )

    # ----- details and history ---------------------------------------------------------------

    def update(
        self,
        *,
        now: datetime,
        actor: str | None = None,
        phone_region: str | None = None,
        **changes: object,
    ) -> None:
        """Change person or company details; all are checked before any is applied.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> lead.update(now=now, job_title="CTO", company_size=120)
            >>> lead.job_title, lead.company_size
            ('CTO', 120)
            >>> lead.update(now=now, status="qualified")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: status: cannot be changed with update(); ...
        """
        now = _check_call(now, actor)
        unknown = sorted(set(changes) - set(_PROFILE_FIELDS))
        if unknown:
            raise ValidationError(
                f"cannot be changed with update(); changeable fields are "
                f"{', '.join(_PROFILE_FIELDS)}",
                path=unknown[0],
            )
        self._refuse_when_converted("update")
        phone = changes.get("phone")
        if isinstance(phone, str) and phone.strip():
            try:
                changes["phone"] = phone_key(phone.strip(), phone_region)
            except ValidationError as exc:
                raise exc.at("phone") from None
        updated = attrs.evolve(self, **cast("dict[str, Any]", changes))  # validates all
        changed = tuple(n for n in _PROFILE_FIELDS if getattr(updated, n) != getattr(self, n))
        if not changed:
            return
        for name in changed:
            setattr(self, name, getattr(updated, name))
        self.updated_at = now
        self.record(LeadUpdated(aggregate_id=self.id, occurred_at=now, actor=actor, fields=changed))

    def log_activity(
        self,
        kind: ActivityKind | str,
        *,
        now: datetime,
        at: datetime | None = None,
        detail: str | None = None,
        by: str | None = None,
        actor: str | None = None,
    ) -> Activity:
        """Add an activity to the history and record ``LeadActivityLogged``.

        ``at`` (default ``now``) must not be after ``now``. A call, an email reply or a meeting
        (:data:`CONTACT_KINDS`) ``by`` the lead's owner also counts as contacting the lead
        (see :meth:`mark_contacted`).

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example",
            ...                     owner="u_amy")
            >>> _ = lead.log_activity("page_visited", now=now, detail="/pricing")
            >>> _ = lead.log_activity("call", now=now, by="u_amy", detail="intro call")
            >>> len(lead.activities), lead.first_contacted_at == now
            (2, True)
        """
        now = _check_call(now, actor)
        when = now if at is None else ensure_aware(at, "at")
        if when > now:
            raise ValidationError(
                f"must not be after now ({now.isoformat()}), got {when.isoformat()}", path="at"
            )
        activity = Activity(kind=kind, at=when, detail=detail, by=by)
        self._refuse_when_converted("log an activity on")
        self.activities = (*self.activities, activity)
        self.updated_at = now
        self.record(
            LeadActivityLogged(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                kind=activity.kind.value,
                at=activity.at,
                by=activity.by,
            )
        )
        if activity.kind in CONTACT_KINDS and by is not None and by == self.owner:
            self._contacted(activity.at, by, now, actor)
        return activity

    def mark_contacted(
        self,
        *,
        now: datetime,
        by: str | None = None,
        at: datetime | None = None,
        actor: str | None = None,
    ) -> None:
        """Record that someone of ours reached the lead (``at`` defaults to ``now``).

        The first contact stops the speed-to-lead clock (:meth:`is_follow_up_overdue`).

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example",
            ...                     follow_up_due_at=now + timedelta(hours=24))
            >>> lead.mark_contacted(now=now + timedelta(hours=2), by="u_bob")
            >>> lead.is_follow_up_overdue(now + timedelta(days=5))
            False
        """
        now = _check_call(now, actor)
        if by is not None:
            check_id(by, "by")
        when = now if at is None else ensure_aware(at, "at")
        if when > now:
            raise ValidationError(
                f"must not be after now ({now.isoformat()}), got {when.isoformat()}", path="at"
            )
        self._refuse_when_converted("mark as contacted")
        self._contacted(when, by, now, actor)

    def _contacted(self, when: datetime, by: str | None, now: datetime, actor: str | None) -> None:
        first = self.first_contacted_at is None
        if first:
            self.first_contacted_at = when
        if self.last_contacted_at is None or when > self.last_contacted_at:
            self.last_contacted_at = when
        self.updated_at = now
        self.record(
            LeadContacted(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                at=when,
                by=by,
                first=first,
                follow_up_due_at=self.follow_up_due_at,
            )
        )

    def schedule_follow_up(
        self, due_at: datetime | None, *, now: datetime, actor: str | None = None
    ) -> None:
        """Set (or clear with ``None``) the speed-to-lead deadline; a no-op when unchanged.

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> lead.schedule_follow_up(now + timedelta(hours=4), now=now)
            >>> lead.follow_up_due_at.hour
            13
        """
        now = _check_call(now, actor)
        due = None if due_at is None else ensure_aware(due_at, "due_at")
        if due == self.follow_up_due_at:
            return
        self._refuse_when_converted("schedule a follow-up for")
        self.follow_up_due_at = due
        self.updated_at = now
        self.record(
            LeadFollowUpScheduled(aggregate_id=self.id, occurred_at=now, actor=actor, due_at=due)
        )

    def assign_owner(
        self,
        owner: str | None,
        *,
        now: datetime,
        rule: str = "manual",
        reason: str = "assigned by hand",
        actor: str | None = None,
    ) -> None:
        """Give the lead to ``owner``, recording which rule chose them and why.

        Pass an :class:`~crmkit.leads.assignment.Assignment`'s ``owner``, ``rule`` and
        ``reason`` (or use its ``apply_to``). Assigning the same owner by the same rule again
        changes nothing.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> lead.assign_owner("u_amy", now=now, rule="north", reason="region 'TW' matched")
            >>> lead.owner, lead.assignment.rule
            ('u_amy', 'north')
        """
        now = _check_call(now, actor)
        record = OwnerAssignment(owner=owner, rule=rule, reason=reason, at=now)
        if (
            owner == self.owner
            and self.assignment is not None
            and self.assignment.rule == record.rule
        ):
            return
        self._refuse_when_converted("reassign")
        old = self.owner
        self.owner = owner
        self.assignment = record
        self.updated_at = now
        self.record(
            LeadOwnerAssigned(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                old_owner=old,
                new_owner=owner,
                rule=record.rule,
                reason=record.reason,
            )
        )

    def answer(
        self,
        criterion: str,
        *,
        evidence: str,
        now: datetime,
        met: bool = True,
        framework: Framework = BANT,
        by: str | None = None,
        at: datetime | None = None,
        actor: str | None = None,
    ) -> QualificationAnswer:
        """Answer one qualification criterion of ``framework`` (BANT by default).

        ``by`` (default ``actor``) is who judged it; ``at`` (default ``now``) when. The history
        keeps every answer; the latest per criterion counts.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> _ = lead.answer("budget", evidence="NT$2M approved", now=now, by="u_amy")
            >>> lead.qualification.missing(BANT)
            ('authority', 'need', 'timeline')
        """
        now = _check_call(now, actor)
        if not isinstance(framework, Framework):
            raise ValidationError(
                f"must be a Framework, not {type(framework).__name__}", path="framework"
            )
        framework.criterion(criterion)
        answer = QualificationAnswer(
            framework=framework.key,
            criterion=criterion,
            met=met,
            evidence=evidence,
            at=now if at is None else at,
            by=actor if by is None else by,
        )
        if answer.at > now:
            raise ValidationError(
                f"must not be after now ({now.isoformat()}), got {answer.at.isoformat()}",
                path="at",
            )
        self._refuse_when_converted("qualify")
        self.qualification = self.qualification.with_answer(answer)
        self.updated_at = now
        self.record(
            LeadQualificationAnswered(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                framework=framework.key,
                criterion=criterion,
                met=answer.met,
                complete=self.qualification.is_complete(framework),
            )
        )
        return answer

    def record_score(self, score: LeadScore, *, now: datetime, actor: str | None = None) -> None:
        """Store a :class:`~crmkit.leads.scoring.LeadScore`'s total and fit grade on the lead.

        ``LeadScored`` is recorded only when the total or the grade changed.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.leads.scoring import ScoringModel, score
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> lead.record_score(score(lead, ScoringModel(name="empty"), now), now=now)
            >>> lead.score, lead.fit_grade.value
            (Decimal('0.00'), 'D')
        """
        now = _check_call(now, actor)
        total = _to_decimal(getattr(score, "total", None), "score.total")
        grade = _optional_grade(getattr(score, "fit_grade", None))
        if grade is None:
            raise ValidationError("must carry a fit grade", path="score.fit_grade")
        model = str(getattr(score, "model", ""))
        changed = total != self.score or grade is not self.fit_grade
        old_total, old_grade = self.score, self.fit_grade
        self.score, self.fit_grade, self.scored_at = total, grade, now
        self.scoring_model = model or None
        if changed:
            self.updated_at = now
            self.record(
                LeadScored(
                    aggregate_id=self.id,
                    occurred_at=now,
                    actor=actor,
                    model=model,
                    total=total,
                    fit_grade=grade.value,
                    old_total=old_total,
                    old_fit_grade=None if old_grade is None else old_grade.value,
                )
            )

    # ----- duplicates ------------------------------------------------------------------------

    def link_to_customer(
        self,
        customer_id: str,
        *,
        reason: str,
        now: datetime,
        contact_id: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Link the lead to an existing customer (and contact): the "link" duplicate policy.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> lead.link_to_customer("cus_1", contact_id="con_1", reason="same email", now=now)
            >>> lead.customer_link.customer_id
            'cus_1'
        """
        now = _check_call(now, actor)
        link = CustomerLink(customer_id=customer_id, contact_id=contact_id, reason=reason, at=now)
        if (
            self.customer_link is not None
            and self.customer_link.customer_id == link.customer_id
            and self.customer_link.contact_id == link.contact_id
        ):
            return
        self._refuse_when_converted("link")
        self.customer_link = link
        self.updated_at = now
        self.record(
            LeadLinkedToCustomer(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                customer_id=link.customer_id,
                contact_id=link.contact_id,
                reason=link.reason,
            )
        )

    def flag_duplicate(
        self, of: str, *, reason: str, now: datetime, actor: str | None = None
    ) -> None:
        """Flag the lead as a likely duplicate of record ``of``: the "create and flag" policy.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l2", now=now, source_channel="ads", email="a@b.example")
            >>> lead.flag_duplicate("l1", reason="same email 'a@b.example'", now=now)
            >>> lead.duplicate.of
            'l1'
        """
        now = _check_call(now, actor)
        flag = DuplicateFlag(of=of, reason=reason, at=now)
        if flag.of == self.id:
            raise ValidationError("a lead cannot be a duplicate of itself", path="of")
        if self.duplicate is not None and self.duplicate.of == flag.of:
            return
        self.duplicate = flag
        self.updated_at = now
        self.record(
            LeadFlaggedAsDuplicate(
                aggregate_id=self.id, occurred_at=now, actor=actor, of=flag.of, reason=flag.reason
            )
        )

    def clear_duplicate(self, *, now: datetime, actor: str | None = None) -> None:
        """Clear the duplicate flag after review; a no-op when there is none.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l2", now=now, source_channel="ads", email="a@b.example")
            >>> lead.flag_duplicate("l1", reason="same name at Acme", now=now)
            >>> lead.clear_duplicate(now=now); lead.duplicate is None
            True
        """
        now = _check_call(now, actor)
        if self.duplicate is None:
            return
        of = self.duplicate.of
        self.duplicate = None
        self.updated_at = now
        self.record(LeadDuplicateCleared(aggregate_id=self.id, occurred_at=now, actor=actor, of=of))

    def merge_capture(
        self,
        other: Lead,
        *,
        now: datetime,
        match_reason: str | None = None,
        actor: str | None = None,
    ) -> tuple[str, ...]:
        """Merge another capture of the same person into this lead: the "merge" policy.

        Empty person and company fields are filled from ``other`` (nothing is overwritten);
        its activities join the history (repeats once); its source becomes one more touch;
        its intake consent replaces this one when given later. ``other`` itself is left
        alone: the caller drops it. Returns the names of the fields filled in.

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> first = Lead.capture(id="l1", now=now, source_channel="web_form",
            ...                      email="amy@acme.example", name="Amy Chen")
            >>> again = Lead.capture(id="l2", now=now + timedelta(days=3),
            ...     source_channel="trade_show", campaign="2023 trade show",
            ...     email="AMY@acme.example", phone="+886912345678", job_title="CTO")
            >>> first.merge_capture(again, now=now + timedelta(days=3))
            ('phone', 'job_title')
            >>> [t.channel.value for t in first.touches]
            ['web_form', 'trade_show']
        """
        now = _check_call(now, actor)
        if not isinstance(other, Lead):
            raise ValidationError(f"must be a Lead, not {type(other).__name__}", path="other")
        if other.id == self.id:
            raise ValidationError("cannot merge a lead into itself", path="other")
        reason = _optional_reason(match_reason, "match_reason")
        self._refuse_when_converted("merge a capture into")
        filled = tuple(
            n for n in _PROFILE_FIELDS if getattr(self, n) is None and getattr(other, n) is not None
        )
        seen = set(self.activities)
        activities = list(self.activities)
        for activity in other.activities:
            if activity not in seen:
                seen.add(activity)
                activities.append(activity)
        touches = other.touches or (
            SourceTouch(
                channel=other.source_channel,
                at=other.captured_at,
                campaign=other.campaign,
                external_ref=other.external_ref,
            ),
        )
        for name in filled:
            setattr(self, name, getattr(other, name))
        self.activities = tuple(sorted(activities, key=lambda a: a.at))
        self.touches = (*self.touches, *touches)
        if other.consent is not None and (
            self.consent is None or other.consent.at > self.consent.at
        ):
            self.consent = other.consent
        self.updated_at = now
        self.record(
            LeadCaptureMerged(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                merged_lead_id=other.id,
                source_channel=other.source_channel.value,
                campaign=other.campaign,
                external_ref=other.external_ref,
                filled=filled,
                match_reason=reason,
            )
        )
        return filled

    # ----- status ----------------------------------------------------------------------------

    def start_working(self, *, now: datetime, actor: str | None = None) -> None:
        """Move to ``working``: someone is on it (from ``new`` or ``nurturing``).

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> lead.start_working(now=now); lead.status.value
            'working'
        """
        now = _check_call(now, actor)
        self._check_move(LeadStatus.WORKING)
        self._set_status(LeadStatus.WORKING, now, actor, None)

    def nurture(
        self, *, now: datetime, reason: str | None = None, actor: str | None = None
    ) -> None:
        """Move to ``nurturing``: not ready yet, keep in touch (from ``new`` or ``working``).

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> lead.nurture(now=now, reason="budget next year"); lead.status.value
            'nurturing'
        """
        now = _check_call(now, actor)
        self._check_move(LeadStatus.NURTURING)
        self._set_status(LeadStatus.NURTURING, now, actor, _optional_reason(reason, "reason"))

    def qualify(
        self, *, now: datetime, framework: Framework | None = None, actor: str | None = None
    ) -> None:
        """Move to ``qualified`` (from ``working``); with ``framework``, only once it is complete.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> lead.start_working(now=now)
            >>> lead.qualify(now=now, framework=BANT)
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: lead 'l1' cannot be qualified by 'bant' yet: budget,
            authority, need, timeline not met
        """
        now = _check_call(now, actor)
        self._check_move(LeadStatus.QUALIFIED)
        if framework is not None:
            if not isinstance(framework, Framework):
                raise ValidationError(
                    f"must be a Framework, not {type(framework).__name__}", path="framework"
                )
            missing = self.qualification.missing(framework)
            if missing:
                raise RuleViolation(
                    f"lead {self.id!r} cannot be qualified by {framework.key!r} yet: "
                    f"{', '.join(missing)} not met",
                    details={"framework": framework.key, "missing": list(missing)},
                )
        self._set_status(LeadStatus.QUALIFIED, now, actor, None)
        self.qualified_at = now

    def disqualify(
        self,
        reason: str,
        *,
        now: datetime,
        note: str | None = None,
        reasons: Iterable[str] = DISQUALIFICATION_REASONS,
        actor: str | None = None,
    ) -> None:
        """Move to ``disqualified`` for ``reason``, one of ``reasons`` (a configurable list).

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> lead.disqualify("too small", now=now)
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: reason: 'too small' is not a disqualification reason;
            use one of 'no_budget', ...
            >>> lead.disqualify("spam", now=now); lead.disqualification.reason
            'spam'
        """
        now = _check_call(now, actor)
        allowed = tuple(reasons) if not isinstance(reasons, str) else (reasons,)
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError(
                f"is required to disqualify a lead; use one of {', '.join(map(repr, allowed))}",
                path="reason",
            )
        code = reason.strip()
        if code not in allowed:
            raise ValidationError(
                f"{code!r} is not a disqualification reason; use one of "
                f"{', '.join(map(repr, allowed))}",
                path="reason",
            )
        record = Disqualification(reason=code, note=note, at=now, by=actor)
        self._check_move(LeadStatus.DISQUALIFIED)
        self.disqualification = record
        self._set_status(LeadStatus.DISQUALIFIED, now, actor, code)

    def recycle(
        self,
        *,
        now: datetime,
        after: timedelta,
        to: LeadStatus | str = LeadStatus.NEW,
        actor: str | None = None,
    ) -> None:
        """Bring a disqualified or nurturing lead back, once ``after`` has passed in its status.

        A disqualified lead returns to ``new`` or ``working``; a nurturing one to ``new``.

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> lead.disqualify("bad_timing", now=now)
            >>> lead.recycle(now=now + timedelta(days=10), after=timedelta(days=90))
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: lead 'l1' has been 'disqualified' for 10 days; it may be
            recycled after 90 days, from 2026-04-05T09:00:00+00:00
            >>> lead.recycle(now=now + timedelta(days=90), after=timedelta(days=90))
            >>> lead.status.value, lead.disqualification is None
            ('new', True)
        """
        now = _check_call(now, actor)
        if not isinstance(after, timedelta) or after < timedelta(0):
            raise ValidationError(f"must be a non-negative timedelta, got {after!r}", path="after")
        target = v.to_enum(LeadStatus, "to")(to)
        if (self.status, target) not in RECYCLE_MOVES:
            raise RuleViolation(
                f"cannot recycle lead {self.id!r} from {self.status.value!r} to "
                f"{target.value!r}; from {self.status.value!r} {_moves(self.status)}",
                details=self._move_details(target),
            )
        # Elapsed time between instants (not wall-clock time, which a shared tzinfo would give).
        since = self.status_changed_at
        waited = now.astimezone(timezone.utc) - since.astimezone(timezone.utc)
        if waited < after:
            ready = (since.astimezone(timezone.utc) + after).astimezone(since.tzinfo)
            raise RuleViolation(
                f"lead {self.id!r} has been {self.status.value!r} for {_duration(waited)}; it "
                f"may be recycled after {_duration(after)}, from {ready.isoformat()}",
                details={
                    "current": self.status.value,
                    "since": since.isoformat(),
                    "recyclable_at": ready.isoformat(),
                },
            )
        old = self.status
        self.disqualification = None
        self._set_status(target, now, actor, f"recycled from {old.value} after {_duration(waited)}")

    def move_to(
        self,
        status: LeadStatus | str,
        *,
        now: datetime,
        reason: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Move to ``status`` by the method that makes that move (a generic entry for UIs).

        ``disqualified`` needs a ``reason`` code; ``converted`` only comes from
        :meth:`mark_converted` and recycling from :meth:`recycle`.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> lead.move_to("working", now=now); lead.status.value
            'working'
        """
        target = v.to_enum(LeadStatus, "status")(status)
        if target is LeadStatus.WORKING:
            self.start_working(now=now, actor=actor)
        elif target is LeadStatus.NURTURING:
            self.nurture(now=now, reason=reason, actor=actor)
        elif target is LeadStatus.QUALIFIED:
            self.qualify(now=now, actor=actor)
        elif target is LeadStatus.DISQUALIFIED:
            self.disqualify(reason, now=now, actor=actor)  # type: ignore[arg-type]
        else:
            _check_call(now, actor)
            self._check_move(target)
            how = "mark_converted()" if target is LeadStatus.CONVERTED else "recycle()"
            raise RuleViolation(
                f"lead {self.id!r} moves to {target.value!r} only through {how}",
                details=self._move_details(target),
            )

    def mark_converted(
        self, result: ConversionResult, *, now: datetime, actor: str | None = None
    ) -> None:
        """Record the conversion of a qualified lead; the same result again changes nothing.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example")
            >>> lead.start_working(now=now); lead.qualify(now=now)
            >>> done = ConversionResult(customer_id="cus_1", contact_id="con_1")
            >>> lead.mark_converted(done, now=now); lead.mark_converted(done, now=now)
            >>> lead.status.value, lead.conversion.customer_id
            ('converted', 'cus_1')
        """
        now = _check_call(now, actor)
        if not isinstance(result, ConversionResult):
            raise ValidationError(
                f"must be a ConversionResult, not {type(result).__name__}", path="result"
            )
        if self.status is LeadStatus.CONVERTED:
            if result == self.conversion:
                return
            done = self.conversion
            raise RuleViolation(
                f"lead {self.id!r} is 'converted' already (to customer "
                f"{done.customer_id if done else '?'!r}); a lead converts once",
                details={"current": self.status.value},
            )
        self._check_move(LeadStatus.CONVERTED)
        self.conversion = result
        self.converted_at = now
        self._set_status(LeadStatus.CONVERTED, now, actor, None)
        self.record(
            LeadConverted(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                customer_id=result.customer_id,
                contact_id=result.contact_id,
                opportunity_id=result.opportunity_id,
                source_channel=self.source_channel.value,
                campaign=self.campaign,
            )
        )

    # ----- internals -------------------------------------------------------------------------

    def _move_details(self, target: LeadStatus) -> dict[str, object]:
        return {
            "current": self.status.value,
            "target": target.value,
            "allowed": [
                s.value for s in STATUS_GRAPH[self.status] if (self.status, s) not in RECYCLE_MOVES
            ],
            "recyclable_to": [
                s.value for s in STATUS_GRAPH[self.status] if (self.status, s) in RECYCLE_MOVES
            ],
        }

    def _check_move(self, target: LeadStatus) -> None:
        edge = (self.status, target)
        if target in STATUS_GRAPH[self.status] and edge not in RECYCLE_MOVES:
            return
        raise RuleViolation(
            f"cannot move lead {self.id!r} from {self.status.value!r} to {target.value!r}; "
            f"from {self.status.value!r} {_moves(self.status)}",
            details=self._move_details(target),
        )

    def _refuse_when_converted(self, what: str) -> None:
        if self.status is LeadStatus.CONVERTED:
            raise RuleViolation(
                f"cannot {what} lead {self.id!r}: it was converted; work on customer "
                f"{self.conversion.customer_id if self.conversion else '?'!r} instead",
                details={"current": self.status.value},
            )

    def _set_status(
        self, new: LeadStatus, now: datetime, actor: str | None, reason: str | None
    ) -> None:
        old = self.status
        change = StatusChange(old=old, new=new, at=now, by=actor, reason=reason)
        if new is not LeadStatus.DISQUALIFIED:
            self.disqualification = None
        self.status = new
        self.status_changed_at = now
        self.status_history = (*self.status_history, change)
        self.updated_at = now
        self.record(
            LeadStatusChanged(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                old=old.value,
                new=new.value,
                reason=reason,
            )
        )


def _optional_reason(value: object, path: str) -> str | None:
    reason = v.strip_optional(value)
    if reason is None:
        return None
    v.text(500)(None, _Field(path), reason)
    return cast("str", reason)


@attrs.frozen
class _Field:
    """Names a value for the shared validators, which read ``.name``."""

    name: str


def _duration(value: timedelta) -> str:
    """``"90 days"``, ``"2 days 3 h 5 min"``: a duration people read at a glance."""
    value = max(value, timedelta(0))
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = []
    if value.days:
        parts.append(f"{value.days} day{'s' if value.days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if minutes:
        parts.append(f"{minutes} min")
    if seconds or value.microseconds:
        parts.append(f"{seconds + value.microseconds / 1_000_000:g} s")
    return " ".join(parts) or "0 s"


def follow_up_due(
    captured_at: datetime,
    calendar: BusinessCalendar,
    within: timedelta = timedelta(hours=24),
) -> datetime:
    """The speed-to-lead deadline: ``within`` business time of ``captured_at`` on ``calendar``.

    Example:
        >>> from datetime import datetime
        >>> from zoneinfo import ZoneInfo
        >>> cal = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00"))
        >>> friday_5pm = datetime(2026, 1, 9, 17, 0, tzinfo=ZoneInfo("Asia/Taipei"))
        >>> follow_up_due(friday_5pm, cal, within=timedelta(hours=4)).isoformat()
        '2026-01-12T12:00:00+08:00'

    .. versionadded:: 0.1.0
    """
    if not isinstance(calendar, BusinessCalendar):
        raise ValidationError(
            f"must be a BusinessCalendar, not {type(calendar).__name__}", path="calendar"
        )
    return calendar.add_business_time(ensure_aware(captured_at, "captured_at"), within)
