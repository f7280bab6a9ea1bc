"""Commands of the leads context: what a user asks crmkit to do with leads.

Commands are imperative (``CaptureLead``, not ``LeadCaptured``), immutable, and checked when
they are built: a command that exists is well-formed, and a malformed one raises a
:class:`~crmkit.errors.ValidationError` naming the field. Whether the command is *allowed* (the
lead exists, the move is in the status graph, the actor may do it) is decided when the message
bus handles it (see :mod:`crmkit.app.leads`).

Every command carries ``actor``: the id of the user (or system) asking, or ``None``.

:class:`DuplicatePolicy` says what capturing a person who is already known does: ``merge`` into
their open lead, ``link`` the lead to the customer they already are, or ``create_and_flag`` a
new lead marked as a likely duplicate. :data:`OpportunityHook` is the shape of the optional
``create_opportunity`` hook conversion runs in its unit of work:
``hook(uow, lead, customer, contact) -> opportunity id or None``.

Example:
    >>> from crmkit.leads.commands import CaptureLead
    >>> cmd = CaptureLead("web_form", name="Amy Chen", email="amy@acme.example",
    ...                   external_ref="form-1042", duplicates="link")
    >>> cmd.source_channel.value, cmd.duplicates.value
    ('web_form', 'link')
    >>> CaptureLead("web_form", name="Amy Chen")
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: email: a lead needs an email or a phone so someone can follow
    it up

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import attrs

from crmkit.customers import CustomerKind
from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money
from crmkit.kernel.time import validate_optional_aware
from crmkit.leads._model import (
    ActivityKind,
    IntakeConsent,
    Lead,
    LeadStatus,
    SourceChannel,
)
from crmkit.leads.qualification import Framework
from crmkit.leads.scoring import ScoringModel

if TYPE_CHECKING:
    from crmkit.customers import Contact, Customer
    from crmkit.ports import UnitOfWork

__all__ = [
    "AnswerQualification",
    "AssignLead",
    "CaptureLead",
    "ConvertLead",
    "DisqualifyLead",
    "DuplicatePolicy",
    "LogLeadActivity",
    "MarkLeadContacted",
    "NurtureLead",
    "OpportunityHook",
    "QualifyLead",
    "RecycleLead",
    "ScoreLead",
    "StartWorkingLead",
]


class DuplicatePolicy(StrEnum):
    """What capturing a person crmkit already knows does.

    * ``merge``: the capture joins the person's open lead (one lead per person). A person
      known only as a customer's contact has no lead to merge into: the new lead is flagged.
    * ``link``: as ``merge``, and a lead of someone who is already a customer's contact is
      linked to that customer (the new lead, or the open lead the capture merged into).
    * ``create_and_flag``: always a new lead, flagged as a likely duplicate of the open lead
      (or, failing that, the contact) it matched, for someone to review.

    Example:
        >>> [p.value for p in DuplicatePolicy]
        ['merge', 'link', 'create_and_flag']

    .. versionadded:: 0.1.0
    """

    MERGE = "merge"
    LINK = "link"
    CREATE_AND_FLAG = "create_and_flag"


# ----- field helpers ---------------------------------------------------------------------------

#: The instant a capture is checked at when it names no ``captured_at`` (any aware instant works:
#: checking only needs one no earlier than ``captured_at``).
_CHECK_NOW = datetime(2000, 1, 1, tzinfo=timezone.utc)

#: The signature of the opportunity hook :class:`ConvertLead` and the leads handlers accept.
OpportunityHook = Callable[["UnitOfWork", Lead, "Customer", "Contact"], "str | None"]


def _id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_id(value, attribute.name)


def _optional_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _aware(instance: Any, attribute: Any, value: datetime | None) -> None:
    validate_optional_aware(instance, attribute, value)


_to_channel = v.to_enum(SourceChannel, "source_channel")
_to_duplicates = v.to_optional_enum(DuplicatePolicy, "duplicates")
_to_activity = v.to_enum(ActivityKind, "kind")
_to_target = v.to_enum(LeadStatus, "to")
_to_customer_kind = v.to_optional_enum(CustomerKind, "customer_kind")
_to_tags = v.text_tuple("tags", lambda t: t.casefold() if t.isascii() else t)


def _channel(value: object) -> SourceChannel:
    return _to_channel(value)


def _duplicates(value: object) -> DuplicatePolicy | None:
    return _to_duplicates(value)


def _activity(value: object) -> ActivityKind:
    return _to_activity(value)


def _target(value: object) -> LeadStatus:
    return _to_target(value)


def _customer_kind(value: object) -> CustomerKind | None:
    return _to_customer_kind(value)


def _tags(value: object) -> tuple[str, ...]:
    return _to_tags(value)


def _instance_or_none(cls: type, path: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is not None and not isinstance(value, cls):
            raise ValidationError(
                f"must be a {cls.__name__} or None, not {type(value).__name__}", path=path
            )

    return check


def _optional_duration(_instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (not isinstance(value, timedelta) or value < timedelta(0)):
        raise ValidationError(
            f"must be a non-negative timedelta or None, got {value!r}", path=attribute.name
        )


def _optional_hook(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not callable(value):
        raise ValidationError(
            "must be callable as create_opportunity(uow, lead, customer, contact) -> id or None, "
            f"not {type(value).__name__}",
            path=attribute.name,
        )


def _text(n: int) -> Any:
    return attrs.field(converter=v.strip, validator=v.text(n))


def _optional_text(n: int) -> Any:
    return attrs.field(
        default=None, kw_only=True, converter=v.strip_optional, validator=v.optional_text(n)
    )


def _actor() -> Any:
    return attrs.field(default=None, kw_only=True, validator=_optional_id)


# ----- capture ---------------------------------------------------------------------------------


@attrs.frozen
class CaptureLead:
    """Capture a lead from a channel: a form submission, a badge scan, an ad, a call.

    Every field is checked as :meth:`crmkit.leads.Lead.capture` checks it (the command builds a
    throwaway lead to be sure), so a malformed capture never reaches the store.

    Args:
        source_channel: ``"web_form"``, ``"trade_show"``, ``"ads"``, ``"social"``,
            ``"referral"``, ``"phone"``, ``"import"`` or ``"partner"``.
        name, email, phone, job_title, company, industry, company_size, region, budget: what
            the person told us; an email or a phone is required.
        phone_region: how to read a local ``phone`` (``"TW"``); stored in E.164.
        campaign: the campaign or source tag (``"2023 trade show"``).
        external_ref: the outside reference (a form submission id): capturing it again returns
            the lead that holds it, unchanged.
        consent: the marketing consent given at intake.
        owner: a user id to give the lead to (else the assignment rules choose, if any).
        captured_at: when the person reached us (aware; default now), for imports.
        duplicates: the :class:`DuplicatePolicy` for this capture (default: the CRM's).
        actor: who asks.

    Example:
        >>> CaptureLead("fax", email="amy@acme.example")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: source_channel: 'fax' is not one of 'web_form', ...
        >>> CaptureLead("phone", phone="0912 345 678")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: phone: '0912 345 678' is not a valid phone number (no
        region given: write it as +<country code>)

    .. versionadded:: 0.1.0
    """

    source_channel: SourceChannel = attrs.field(converter=_channel)
    name: str | None = _optional_text(200)
    email: str | None = attrs.field(default=None, kw_only=True)
    phone: str | None = attrs.field(default=None, kw_only=True)
    phone_region: str | None = attrs.field(default=None, kw_only=True)
    job_title: str | None = _optional_text(200)
    company: str | None = _optional_text(200)
    industry: str | None = _optional_text(100)
    company_size: int | None = attrs.field(default=None, kw_only=True)
    region: str | None = _optional_text(100)
    budget: Money | None = attrs.field(default=None, kw_only=True)
    campaign: str | None = _optional_text(200)
    external_ref: str | None = _optional_text(200)
    consent: IntakeConsent | None = attrs.field(default=None, kw_only=True)
    owner: str | None = attrs.field(default=None, kw_only=True, validator=_optional_id)
    captured_at: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware)
    duplicates: DuplicatePolicy | None = attrs.field(
        default=None, kw_only=True, converter=_duplicates
    )
    actor: str | None = _actor()

    def __attrs_post_init__(self) -> None:
        self.build(id="lead_check", now=self.captured_at or _CHECK_NOW)

    def build(self, *, id: str, now: datetime, follow_up_due_at: datetime | None = None) -> Lead:
        """Capture the lead this command describes, with ``id`` at ``now`` (no owner yet).

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> lead = CaptureLead("ads", email="Amy@Acme.example").build(id="lead_1", now=now)
            >>> lead.id, lead.email, lead.owner
            ('lead_1', 'Amy@acme.example', None)
        """
        if self.phone_region is not None and not isinstance(self.phone_region, str):
            raise ValidationError(
                f"must be a region code such as 'TW', not {type(self.phone_region).__name__}",
                path="phone_region",
            )
        return Lead.capture(
            id=id,
            now=now,
            source_channel=self.source_channel,
            name=self.name,
            email=self.email,
            phone=self.phone,
            phone_region=self.phone_region,
            job_title=self.job_title,
            company=self.company,
            industry=self.industry,
            company_size=self.company_size,
            region=self.region,
            budget=self.budget,
            campaign=self.campaign,
            external_ref=self.external_ref,
            consent=self.consent,
            captured_at=self.captured_at,
            follow_up_due_at=follow_up_due_at,
            actor=self.actor,
        )


# ----- history ---------------------------------------------------------------------------------


@attrs.frozen
class LogLeadActivity:
    """Add an activity to a lead's history (an email opened, a page visited, a call...).

    A call, an email reply or a meeting ``by`` the lead's owner also counts as contacting the
    lead (it stops the speed-to-lead clock).

    Example:
        >>> LogLeadActivity("lead_1", "page_visited", detail="/pricing").kind.value
        'page_visited'
        >>> LogLeadActivity("lead_1", "tweeted")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: kind: 'tweeted' is not one of 'email_opened', ...

    .. versionadded:: 0.1.0
    """

    lead_id: str = attrs.field(validator=_id)
    kind: ActivityKind = attrs.field(converter=_activity)
    at: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware)
    detail: str | None = _optional_text(500)
    by: str | None = attrs.field(default=None, kw_only=True, validator=_optional_id)
    actor: str | None = _actor()


@attrs.frozen
class MarkLeadContacted:
    """Record that someone of ours reached the lead (``at`` defaults to now).

    Example:
        >>> MarkLeadContacted("lead_1", by="u_amy").by
        'u_amy'

    .. versionadded:: 0.1.0
    """

    lead_id: str = attrs.field(validator=_id)
    by: str | None = attrs.field(default=None, kw_only=True, validator=_optional_id)
    at: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware)
    actor: str | None = _actor()


# ----- scoring and qualification ---------------------------------------------------------------


@attrs.frozen
class ScoreLead:
    """Score a lead with ``model`` (default: the CRM's scoring model) and store the score.

    Example:
        >>> ScoreLead("lead_1", model="b2b")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: model: must be a ScoringModel or None, not str

    .. versionadded:: 0.1.0
    """

    lead_id: str = attrs.field(validator=_id)
    model: ScoringModel | None = attrs.field(
        default=None, kw_only=True, validator=_instance_or_none(ScoringModel, "model")
    )
    actor: str | None = _actor()


@attrs.frozen
class AnswerQualification:
    """Answer one criterion of a qualification framework, with the evidence.

    Args:
        lead_id: the lead.
        criterion: the criterion's key (``"budget"``).
        evidence: what shows it (``"NT$2M approved for Q3"``).
        met: whether the criterion is met (default ``True``).
        framework: the framework (default: the CRM's, BANT unless configured).
        by: who judged it (default ``actor``); at: when (default now).
        actor: who asks.

    Example:
        >>> AnswerQualification("lead_1", "budget", evidence="NT$2M approved").met
        True

    .. versionadded:: 0.1.0
    """

    lead_id: str = attrs.field(validator=_id)
    criterion: str = _text(50)
    evidence: str = attrs.field(kw_only=True, converter=v.strip, validator=v.text(2000))
    met: bool = attrs.field(default=True, kw_only=True, validator=v.of_type(bool))
    framework: Framework | None = attrs.field(
        default=None, kw_only=True, validator=_instance_or_none(Framework, "framework")
    )
    by: str | None = attrs.field(default=None, kw_only=True, validator=_optional_id)
    at: datetime | None = attrs.field(default=None, kw_only=True, validator=_aware)
    actor: str | None = _actor()


# ----- status ----------------------------------------------------------------------------------


@attrs.frozen
class StartWorkingLead:
    """Move a lead to ``working``: someone is on it (from ``new`` or ``nurturing``).

    Example:
        >>> StartWorkingLead("lead_1", actor="u_amy").actor
        'u_amy'

    .. versionadded:: 0.1.0
    """

    lead_id: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class NurtureLead:
    """Move a lead to ``nurturing``: not ready yet, keep in touch.

    Example:
        >>> NurtureLead("lead_1", reason="budget next year").reason
        'budget next year'

    .. versionadded:: 0.1.0
    """

    lead_id: str = attrs.field(validator=_id)
    reason: str | None = _optional_text(500)
    actor: str | None = _actor()


@attrs.frozen
class QualifyLead:
    """Move a lead to ``qualified``; with a ``framework``, only once every criterion is met.

    ``framework=None`` uses the CRM's framework when its settings require one, else none.

    Example:
        >>> from crmkit.leads.qualification import BANT
        >>> QualifyLead("lead_1", framework=BANT).framework.key
        'bant'

    .. versionadded:: 0.1.0
    """

    lead_id: str = attrs.field(validator=_id)
    framework: Framework | None = attrs.field(
        default=None, kw_only=True, validator=_instance_or_none(Framework, "framework")
    )
    actor: str | None = _actor()


@attrs.frozen
class DisqualifyLead:
    """Move a lead to ``disqualified`` for ``reason``, a code from the CRM's list of reasons.

    Example:
        >>> DisqualifyLead("lead_1", "no_budget", note="frozen until 2027").reason
        'no_budget'
        >>> DisqualifyLead("lead_1", "")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: reason: must not be empty

    .. versionadded:: 0.1.0
    """

    lead_id: str = attrs.field(validator=_id)
    reason: str = _text(50)
    note: str | None = _optional_text(1000)
    actor: str | None = _actor()


@attrs.frozen
class RecycleLead:
    """Bring a disqualified or nurturing lead back (to ``new``, or ``working``) after a wait.

    ``after`` is how long it must have been in its status (default: the CRM's, 90 days).

    Example:
        >>> from datetime import timedelta
        >>> RecycleLead("lead_1", to="working", after=timedelta(days=30)).to.value
        'working'

    .. versionadded:: 0.1.0
    """

    lead_id: str = attrs.field(validator=_id)
    to: LeadStatus = attrs.field(default=LeadStatus.NEW, kw_only=True, converter=_target)
    after: timedelta | None = attrs.field(default=None, kw_only=True, validator=_optional_duration)
    actor: str | None = _actor()


# ----- assignment ------------------------------------------------------------------------------


@attrs.frozen
class AssignLead:
    """Give a lead to ``owner`` by hand, or (``by_rules=True``) by the CRM's assignment rules.

    ``owner=None`` without ``by_rules`` takes the lead from its owner.

    Example:
        >>> AssignLead("lead_1", "u_amy").owner
        'u_amy'
        >>> AssignLead("lead_1", "u_amy", by_rules=True)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: owner: give an owner or by_rules=True, not both

    .. versionadded:: 0.1.0
    """

    lead_id: str = attrs.field(validator=_id)
    owner: str | None = attrs.field(default=None, validator=_optional_id)
    by_rules: bool = attrs.field(default=False, kw_only=True, validator=v.of_type(bool))
    reason: str | None = _optional_text(500)
    actor: str | None = _actor()

    def __attrs_post_init__(self) -> None:
        if self.by_rules and self.owner is not None:
            raise ValidationError("give an owner or by_rules=True, not both", path="owner")


# ----- conversion ------------------------------------------------------------------------------


@attrs.frozen
class ConvertLead:
    """Convert a qualified lead into a customer and a contact (and maybe an opportunity).

    Args:
        lead_id: the lead.
        customer_id: an existing customer to convert into (default: the customer the lead is
            linked to, else a new one).
        contact_id: an existing contact of that customer to use (default: the linked contact,
            else one of the customer's contacts with the lead's email or phone, else a new
            one).
        customer_name: the new customer's name (default: the lead's company, else its name).
        customer_kind: ``"company"`` or ``"person"`` (default: company when the lead names one).
        tags: more tags for a new customer.
        create_opportunity: ``hook(uow, lead, customer, contact) -> opportunity id or None``,
            run in the conversion's unit of work (default: the CRM's hook, if any).
        actor: who asks.

    Example:
        >>> ConvertLead("lead_1", customer_kind="shop")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: customer_kind: 'shop' is not one of 'company', 'person'

    .. versionadded:: 0.1.0
    """

    lead_id: str = attrs.field(validator=_id)
    customer_id: str | None = attrs.field(default=None, kw_only=True, validator=_optional_id)
    contact_id: str | None = attrs.field(default=None, kw_only=True, validator=_optional_id)
    customer_name: str | None = _optional_text(200)
    customer_kind: CustomerKind | None = attrs.field(
        default=None, kw_only=True, converter=_customer_kind
    )
    tags: tuple[str, ...] = attrs.field(default=(), kw_only=True, converter=_tags)
    create_opportunity: OpportunityHook | None = attrs.field(
        default=None, kw_only=True, validator=_optional_hook, eq=False
    )
    actor: str | None = _actor()
