"""The CRM facade: the one object a host holds to run crmkit's use cases."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any, TypeVar, cast

import attrs

from crmkit.access.audit import AuditEntry, AuditReport
from crmkit.app import _access
from crmkit.app import audit as audit_app
from crmkit.app.analytics import Analytics
from crmkit.app.customer360 import Customer360
from crmkit.app.leads import CaptureResult, LeadConversion
from crmkit.app.loyalty import (
    LoyaltyReport,
    MemberBalance,
    MembershipRun,
    ReferralRun,
    RewardOutcome,
)
from crmkit.app.merge import (
    DismissDuplicate,
    DuplicateScan,
    FindDuplicates,
    MergeCustomers,
    MergePlan,
    PreviewMerge,
)
from crmkit.app.messagebus import MessageBus
from crmkit.app.privacy import ErasureReport, RetentionRun
from crmkit.app.quotes import QuoteExpiryRun
from crmkit.app.service import CompensationOutcome, SlaCheckRun
from crmkit.app.transfer import ImportReport, import_customers
from crmkit.customers import (
    Channel,
    Contact,
    Customer,
    Interaction,
    Lifecycle,
    Purpose,
    QuietHours,
)
from crmkit.customers.commands import (
    AddContact,
    AssignCustomerOwner,
    LogInteraction,
    RecordConsent,
    RecordOrder,
    RecordRefund,
    RegisterCustomer,
    RenameCustomer,
    SetContactPreferences,
    ShowCustomer360,
    ShowSegments,
    TagCustomer,
)
from crmkit.customers.dedup import (
    DuplicateReview,
    MatchRules,
    ReviewStatus,
    Survivorship,
    resolve_id,
)
from crmkit.customers.purchases import Order, OrderLine
from crmkit.customers.segments import CustomerSegments
from crmkit.customers.transfer import ColumnMapping
from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.ids import IdGenerator, check_id
from crmkit.kernel.money import Money
from crmkit.kernel.query import Op, Page, Query
from crmkit.kernel.time import Clock
from crmkit.leads import ActivityKind, IntakeConsent, Lead, LeadStatus, SourceChannel
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
from crmkit.leads.qualification import Framework
from crmkit.leads.scoring import LeadScore, ScoringModel
from crmkit.loyalty import (
    EarnOrder,
    LedgerEntry,
    LoyaltyProgram,
    Membership,
    PointsPayment,
    Referral,
    TierGrant,
)
from crmkit.loyalty.commands import (
    AdjustPoints,
    AdvanceMemberships,
    EarnForOrder,
    EnrollMember,
    GrantTier,
    PayWithPoints,
    QualifyReferrals,
    RecordActivity,
    RedeemReward,
    RefundOrder,
    RegisterReferral,
    ReverseRedemption,
    SaveLoyaltyProgram,
    ShowLoyaltyReport,
    ShowMembership,
    ShowPointsBalance,
)
from crmkit.ports import AccessPolicy, Notifier, Store
from crmkit.pricing import (
    Coupon,
    DiscountRuleSet,
    ManualDiscount,
    PriceBook,
    PricedQuote,
    Product,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from crmkit.pricing.commands import (
    AcceptQuote,
    AddQuoteLine,
    ApplyCoupon,
    ApproveQuote,
    CreateCoupon,
    CreateQuote,
    ExpireDueQuotes,
    ExpireQuote,
    PriceQuote,
    RejectQuote,
    RejectQuoteApproval,
    RemoveCoupon,
    RemoveQuoteLine,
    ReviseQuote,
    SaveDiscountRuleSet,
    SendQuote,
    SetQuoteDiscount,
    SubmitQuote,
    UpdateQuoteLine,
    UpsertPriceBook,
    UpsertProduct,
)
from crmkit.service import (
    CancelReason,
    CaseStatus,
    CompensationKind,
    Complaint,
    Impact,
    PublicCaseView,
    StoredCalendar,
    StoredSlaPolicySet,
    Urgency,
)
from crmkit.service import Channel as CaseChannel
from crmkit.service.commands import (
    AcknowledgeComplaint,
    AddComplaintNote,
    AssignComplaint,
    CancelComplaint,
    CancelWorkOrder,
    CheckSlaBreaches,
    CloseComplaint,
    CompleteWorkOrder,
    DispatchWorkOrder,
    FileComplaint,
    GrantCompensation,
    ListRenewalsDue,
    ListUpcomingServices,
    OpenWorkOrder,
    RecordCsat,
    RecordCustomerMessage,
    RecordWorkOrderPart,
    RenewMaintenanceContract,
    ReopenComplaint,
    ReplyToComplaint,
    ResolveComplaint,
    SaveBusinessCalendar,
    SaveSlaPolicySet,
    ShowComplaintSla,
    ShowPublicComplaint,
    SignMaintenanceContract,
    StartComplaintWork,
    StartWorkOrder,
)
from crmkit.service.maintenance import (
    Equipment,
    MaintenanceContract,
    RenewalDue,
    ScheduledVisit,
    ServicePlan,
    WorkOrder,
    WorkOrderKind,
)
from crmkit.service.sla import SlaPolicySet, SlaStatus

__all__ = ["CRM"]

A = TypeVar("A")


def _optional_search_text(value: object, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"must be text or None, not {type(value).__name__}", path=path)
    return value.strip() or None


@attrs.frozen(kw_only=True)
class CRM:
    """crmkit, wired: run use cases and read customers. Build it with :func:`bootstrap`.

    Every write goes through :attr:`bus` as a command, in its own unit of work, and returns the
    aggregate as stored. Reads return fresh copies from :attr:`store`; given ``actor=``, a read
    asks :attr:`policy` first (``PermissionDeniedError`` if they may not) and returns what they
    may see (masked copies, and only their readable records on a page); ``actor=None`` is the
    system, which reads everything.

    Attributes:
        store: where aggregates live (``unit_of_work()`` and ``outbox``).
        clock: the time used for ``now``.
        ids: makes new ids.
        notifier: delivers notifications.
        policy: decides who may do what.
        bus: the message bus commands go through; subscribe event handlers here.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> tea = crm.register_customer("Formosa Tea Co.", tags=["tea"], source="2023 trade show")
        >>> amy = crm.add_contact(tea.id, "Lin Mei-ling", phones=["0912 345 678"], region="TW")
        >>> call = crm.log_interaction(tea.id, "call", "Asked for a quote", contact_id=amy.id)
        >>> [c.phones for c in crm.contacts_of(tea.id)], crm.timeline(tea.id)[0].summary
        ([('+886912345678',)], 'Asked for a quote')

    .. versionadded:: 0.1.0
    """

    store: Store
    clock: Clock
    ids: IdGenerator
    notifier: Notifier
    policy: AccessPolicy
    bus: MessageBus

    # ----- writes ------------------------------------------------------------------------
    def handle(self, command: object) -> Any:
        """Handle any command through the bus and return its handler's result.

        Example:
            >>> from crmkit import bootstrap
            >>> from crmkit.customers.commands import RegisterCustomer
            >>> bootstrap().handle(RegisterCustomer("Acme", "company")).kind.value
            'company'

        .. versionadded:: 0.1.0
        """
        return self.bus.handle(command)

    def _run(self, command: object, result: type[A]) -> A:
        return cast(A, self.bus.handle(command))

    def register_customer(
        self,
        name: str,
        kind: str = "company",
        *,
        tags: Iterable[str] = (),
        source: str | None = None,
        owner: str | None = None,
        actor: str | None = None,
    ) -> Customer:
        """Register a customer (``kind`` is ``"company"`` or ``"person"``) and return it.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> crm.register_customer("Wang Xiao-ming", "person", tags=["VIP"]).tags
            ('vip',)
            >>> crm.register_customer("")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: name: must not be empty

        .. versionadded:: 0.1.0
        """
        command = RegisterCustomer(name, kind, tags=tags, source=source, owner=owner, actor=actor)
        return self._run(command, Customer)

    def add_contact(
        self,
        customer_id: str,
        name: str,
        *,
        emails: Iterable[str] = (),
        phones: Iterable[str] = (),
        region: str | None = None,
        role: str | None = None,
        decision_maker: bool = False,
        birthday: date | None = None,
        locale: str | None = None,
        preferred_channel: Channel | str | None = None,
        actor: str | None = None,
    ) -> Contact:
        """Add a contact to a customer; phones local to ``region`` are stored in E.164.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> shop = crm.register_customer("Huangpu Trading")
            >>> li = crm.add_contact(shop.id, "Li Na", phones=["138 0013 8000"], region="CN",
            ...                      emails=["li.na@example.com"], preferred_channel="wechat")
            >>> li.phones, li.preferred_channel.value
            (('+8613800138000',), 'wechat')

        .. versionadded:: 0.1.0
        """
        command = AddContact(
            customer_id,
            name,
            emails=emails,
            phones=phones,
            region=region,
            role=role,
            decision_maker=decision_maker,
            birthday=birthday,
            locale=locale,
            preferred_channel=preferred_channel,
            actor=actor,
        )
        return self._run(command, Contact)

    def import_customers(
        self,
        source: str | os.PathLike[str] | IO[str],
        mapping: ColumnMapping | None = None,
        *,
        format: str | None = None,
        mode: str = "good_rows",
        dry_run: bool = False,
        region: str | None = None,
        phone_check: str = "e164",
        actor: str | None = None,
    ) -> ImportReport:
        """Import customers and contacts from a CSV or JSON Lines file; report every row.

        See :func:`crmkit.app.transfer.import_customers` for the mapping, the modes, the
        dry run and how duplicates are found.

        Example:
            >>> import io
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> csv_text = io.StringIO("name,email,external_id" + chr(10) + "Amy,amy@example.com,1")
            >>> crm.import_customers(csv_text).contacts_created
            1
            >>> crm.import_customers(io.StringIO("name,email" + chr(10) + "Amy,AMY@example.com"),
            ...                      dry_run=True).duplicates[0].field
            'email'

        .. versionadded:: 0.1.0
        """
        return import_customers(
            self.store,
            source,
            mapping,
            clock=self.clock,
            ids=self.ids,
            policy=self.policy,
            format=format,
            mode=mode,
            dry_run=dry_run,
            region=region,
            phone_check=phone_check,
            actor=actor,
        )

    def log_interaction(
        self,
        customer_id: str,
        kind: str,
        summary: str,
        *,
        occurred_at: datetime | None = None,
        by: str | None = None,
        contact_id: str | None = None,
        channel: Channel | str | None = None,
        links: Iterable[str] = (),
        actor: str | None = None,
    ) -> Interaction:
        """Log an interaction with a customer; ``occurred_at`` (aware) defaults to now.

        Example:
            >>> from datetime import datetime
            >>> from zoneinfo import ZoneInfo
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> at = datetime(2026, 3, 2, 15, 0, tzinfo=ZoneInfo("Asia/Taipei"))
            >>> crm.log_interaction(tea.id, "meeting", "Tasting", occurred_at=at).occurred_at.hour
            15

        .. versionadded:: 0.1.0
        """
        command = LogInteraction(
            customer_id,
            kind,
            summary,
            occurred_at=occurred_at,
            by=by,
            contact_id=contact_id,
            channel=channel,
            links=links,
            actor=actor,
        )
        return self._run(command, Interaction)

    def rename_customer(self, customer_id: str, name: str, *, actor: str | None = None) -> Customer:
        """Rename a customer and return it.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea")
            >>> crm.rename_customer(tea.id, "Formosa Tea Co.").name
            'Formosa Tea Co.'

        .. versionadded:: 0.1.0
        """
        return self._run(RenameCustomer(customer_id, name, actor=actor), Customer)

    def tag_customer(
        self,
        customer_id: str,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        actor: str | None = None,
    ) -> Customer:
        """Add and remove a customer's tags and return it.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.", tags=["lead"])
            >>> crm.tag_customer(tea.id, add=["Wholesale"], remove=["lead"]).tags
            ('wholesale',)

        .. versionadded:: 0.1.0
        """
        command = TagCustomer(customer_id, add=add, remove=remove, actor=actor)
        return self._run(command, Customer)

    def assign_customer_owner(
        self, customer_id: str, owner: str | None, *, actor: str | None = None
    ) -> Customer:
        """Give a customer to user ``owner`` (or to nobody with ``None``) and return it.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> crm.assign_customer_owner(tea.id, "u_amy").owner
            'u_amy'

        .. versionadded:: 0.1.0
        """
        return self._run(AssignCustomerOwner(customer_id, owner, actor=actor), Customer)

    def record_consent(
        self,
        contact_id: str,
        channel: Channel | str,
        granted: bool,
        *,
        source: str,
        purpose: Purpose | str = Purpose.MARKETING,
        at: datetime | None = None,
        by: str | None = None,
        note: str | None = None,
        actor: str | None = None,
    ) -> Contact:
        """Record an opt-in (``granted=True``) or opt-out for a contact's channel; return it.

        The consent history only grows; the latest statement counts. ``source`` says how you
        know (``"web form"``, ``"phone call"``, ``"import"``); ``at`` (aware, not in the future)
        is when the contact said so and defaults to now; ``purpose`` is ``"marketing"`` unless
        you say ``"transactional"``.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> amy = crm.add_contact(crm.register_customer("Acme").id, "Amy")
            >>> _ = crm.record_consent(amy.id, "sms", True, source="web form")
            >>> amy = crm.record_consent(amy.id, "sms", False, source="replied STOP")
            >>> [(r.granted, r.source) for r in amy.consents]
            [(True, 'web form'), (False, 'replied STOP')]

        .. versionadded:: 0.1.0
        """
        command = RecordConsent(
            contact_id,
            channel,
            granted,
            source=source,
            purpose=purpose,
            at=at,
            by=by,
            note=note,
            actor=actor,
        )
        return self._run(command, Contact)

    def set_contact_preferences(
        self,
        contact_id: str,
        *,
        timezone: str | None = None,
        quiet_hours: QuietHours | tuple[object, object] | None = None,
        preferred_channel: Channel | str | None = None,
        clear: Iterable[str] = (),
        actor: str | None = None,
    ) -> Contact:
        """Set a contact's time zone, quiet hours and preferred channel; return the contact.

        A preference left ``None`` keeps its value; name it in ``clear`` to remove it.
        ``quiet_hours`` is a ``(start, end)`` pair of wall-clock times in the contact's zone and
        may wrap midnight (``("22:00", "08:00")``).

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> amy = crm.add_contact(crm.register_customer("Acme").id, "Amy")
            >>> amy = crm.set_contact_preferences(amy.id, timezone="Asia/Taipei",
            ...     quiet_hours=("22:00", "08:00"), preferred_channel="line")
            >>> amy.timezone, str(amy.quiet_hours), amy.preferred_channel.value
            ('Asia/Taipei', '22:00-08:00', 'line')
            >>> crm.set_contact_preferences(amy.id, clear=["quiet_hours"]).quiet_hours is None
            True

        .. versionadded:: 0.1.0
        """
        command = SetContactPreferences(
            contact_id,
            timezone=timezone,
            quiet_hours=quiet_hours,
            preferred_channel=preferred_channel,
            clear=clear,
            actor=actor,
        )
        return self._run(command, Contact)

    # ----- leads -------------------------------------------------------------------------
    def capture_lead(
        self,
        source_channel: SourceChannel | str,
        *,
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
        duplicates: DuplicatePolicy | str | None = None,
        actor: str | None = None,
    ) -> CaptureResult:
        """Capture a lead from a channel; return what happened (:class:`CaptureResult`).

        An email or a phone is required. ``external_ref`` (a form submission id) makes the
        capture idempotent; ``duplicates`` (``"merge"``, ``"link"``, ``"create_and_flag"``)
        overrides the CRM's policy for a person crmkit already knows (see
        :mod:`crmkit.app.leads`). A new lead gets its follow-up deadline and an owner.

        Example:
            >>> from crmkit import bootstrap
            >>> from crmkit.kernel import SequentialIds
            >>> crm = bootstrap(ids=SequentialIds())
            >>> web = crm.capture_lead("web_form", name="Amy Chen", company="Acme Ltd",
            ...     email="amy@acme.example", campaign="spring promo", external_ref="form-1")
            >>> show = crm.capture_lead("trade_show", name="Amy Chen", company="ACME Inc.",
            ...     phone="0912 345 678", phone_region="TW", campaign="2023 trade show")
            >>> show.outcome.value, show.reason
            ('merged', "merged into lead lead_000001: same company 'acme' and similar names
            ('amy chen' ~ 'amy chen', 1.00)")
            >>> [t.channel.value for t in show.lead.touches], show.lead.phone
            (['web_form', 'trade_show'], '+886912345678')

        .. versionadded:: 0.1.0
        """
        command = CaptureLead(
            source_channel,
            name=name,
            email=email,
            phone=phone,
            phone_region=phone_region,
            job_title=job_title,
            company=company,
            industry=industry,
            company_size=company_size,
            region=region,
            budget=budget,
            campaign=campaign,
            external_ref=external_ref,
            consent=consent,
            owner=owner,
            captured_at=captured_at,
            duplicates=duplicates,
            actor=actor,
        )
        return self._run(command, CaptureResult)

    def log_lead_activity(
        self,
        lead_id: str,
        kind: ActivityKind | str,
        *,
        at: datetime | None = None,
        detail: str | None = None,
        by: str | None = None,
        actor: str | None = None,
    ) -> Lead:
        """Add an activity (``"page_visited"``, ``"download"``, ``"call"``...) to a lead.

        A call, an email reply or a meeting ``by`` the lead's owner counts as contacting it.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
            >>> lead = crm.log_lead_activity(lead.id, "download", detail="pricing.pdf")
            >>> [(a.kind.value, a.detail) for a in lead.activities]
            [('download', 'pricing.pdf')]

        .. versionadded:: 0.1.0
        """
        command = LogLeadActivity(lead_id, kind, at=at, detail=detail, by=by, actor=actor)
        return self._run(command, Lead)

    def mark_lead_contacted(
        self,
        lead_id: str,
        *,
        by: str | None = None,
        at: datetime | None = None,
        actor: str | None = None,
    ) -> Lead:
        """Record that someone reached the lead; the first contact meets the follow-up deadline.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
            >>> lead = crm.mark_lead_contacted(lead.id, by="u_amy")
            >>> lead.first_contacted_at == lead.last_contacted_at
            True

        .. versionadded:: 0.1.0
        """
        return self._run(MarkLeadContacted(lead_id, by=by, at=at, actor=actor), Lead)

    def score_lead(
        self, lead_id: str, *, model: ScoringModel | None = None, actor: str | None = None
    ) -> LeadScore:
        """Score a lead with ``model`` (default: the CRM's), store it, and return the score.

        The :class:`~crmkit.leads.scoring.LeadScore` lists every rule's contribution.

        Example:
            >>> from crmkit import bootstrap
            >>> from crmkit.leads.scoring import IndustryRule, ScoringModel
            >>> crm = bootstrap()
            >>> lead = crm.capture_lead("ads", email="amy@acme.example", industry="Retail").lead
            >>> model = ScoringModel(name="fit",
            ...                      industries=[IndustryRule("retail", ["retail"], 15)])
            >>> crm.score_lead(lead.id, model=model).by_rule()
            {'retail': Decimal('15.00')}

        .. versionadded:: 0.1.0
        """
        return self._run(ScoreLead(lead_id, model=model, actor=actor), LeadScore)

    def answer_qualification(
        self,
        lead_id: str,
        criterion: str,
        *,
        evidence: str,
        met: bool = True,
        framework: Framework | None = None,
        by: str | None = None,
        at: datetime | None = None,
        actor: str | None = None,
    ) -> Lead:
        """Answer a qualification criterion (BANT's by default) with evidence; return the lead.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
            >>> lead = crm.answer_qualification(lead.id, "need", evidence="CRM is a spreadsheet")
            >>> lead.qualification.answers[0].criterion
            'need'

        .. versionadded:: 0.1.0
        """
        command = AnswerQualification(
            lead_id,
            criterion,
            evidence=evidence,
            met=met,
            framework=framework,
            by=by,
            at=at,
            actor=actor,
        )
        return self._run(command, Lead)

    def start_working_lead(self, lead_id: str, *, actor: str | None = None) -> Lead:
        """Move a lead to ``working`` (from ``new`` or ``nurturing``) and return it.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
            >>> crm.start_working_lead(lead.id, actor="u_amy").status.value
            'working'

        .. versionadded:: 0.1.0
        """
        return self._run(StartWorkingLead(lead_id, actor=actor), Lead)

    def nurture_lead(
        self, lead_id: str, *, reason: str | None = None, actor: str | None = None
    ) -> Lead:
        """Move a lead to ``nurturing`` (not ready yet) and return it.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
            >>> crm.nurture_lead(lead.id, reason="budget next year").status.value
            'nurturing'

        .. versionadded:: 0.1.0
        """
        return self._run(NurtureLead(lead_id, reason=reason, actor=actor), Lead)

    def qualify_lead(
        self, lead_id: str, *, framework: Framework | None = None, actor: str | None = None
    ) -> Lead:
        """Move a ``working`` lead to ``qualified``; a ``framework`` must be complete first.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
            >>> crm.qualify_lead(lead.id)
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: cannot move lead '...' from 'new' to 'qualified'; from
            'new' it may move to 'working', 'nurturing', 'disqualified'

        .. versionadded:: 0.1.0
        """
        return self._run(QualifyLead(lead_id, framework=framework, actor=actor), Lead)

    def disqualify_lead(
        self,
        lead_id: str,
        reason: str,
        *,
        note: str | None = None,
        actor: str | None = None,
    ) -> Lead:
        """Disqualify a lead for ``reason`` (one of the CRM's reason codes) and return it.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
            >>> crm.disqualify_lead(lead.id, "no_budget", note="frozen").disqualification.note
            'frozen'

        .. versionadded:: 0.1.0
        """
        return self._run(DisqualifyLead(lead_id, reason, note=note, actor=actor), Lead)

    def recycle_lead(
        self,
        lead_id: str,
        *,
        to: LeadStatus | str = LeadStatus.NEW,
        after: timedelta | None = None,
        actor: str | None = None,
    ) -> Lead:
        """Bring a disqualified or nurturing lead back once ``after`` (default 90 days) passed.

        Example:
            >>> from datetime import timedelta
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
            >>> _ = crm.nurture_lead(lead.id)
            >>> crm.recycle_lead(lead.id, after=timedelta(0)).status.value
            'new'

        .. versionadded:: 0.1.0
        """
        return self._run(RecycleLead(lead_id, to=to, after=after, actor=actor), Lead)

    def assign_lead(
        self,
        lead_id: str,
        owner: str | None = None,
        *,
        by_rules: bool = False,
        reason: str | None = None,
        actor: str | None = None,
    ) -> Lead:
        """Give a lead to ``owner``, or by the CRM's assignment rules with ``by_rules=True``.

        The lead records the rule (``"manual"`` by hand) and the reason.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
            >>> crm.assign_lead(lead.id, "u_bob").assignment.reason
            'assigned by hand'

        .. versionadded:: 0.1.0
        """
        command = AssignLead(lead_id, owner, by_rules=by_rules, reason=reason, actor=actor)
        return self._run(command, Lead)

    def convert_lead(
        self,
        lead_id: str,
        *,
        customer_id: str | None = None,
        contact_id: str | None = None,
        customer_name: str | None = None,
        customer_kind: str | None = None,
        tags: Iterable[str] = (),
        create_opportunity: OpportunityHook | None = None,
        actor: str | None = None,
    ) -> LeadConversion:
        """Convert a qualified lead into a customer and a contact, in one unit of work.

        Converting again returns the first conversion (``repeated=True``) and creates
        nothing. ``create_opportunity(uow, lead, customer, contact)`` may return an
        opportunity id to record; see :func:`crmkit.app.leads.convert_lead`.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> lead = crm.capture_lead("trade_show", name="Amy Chen", company="Acme Ltd",
            ...     email="amy@acme.example", campaign="2023 trade show").lead
            >>> _ = crm.start_working_lead(lead.id); _ = crm.qualify_lead(lead.id)
            >>> done = crm.convert_lead(lead.id)
            >>> done.customer.source, done.customer.tags, done.lead.status.value
            ('2023 trade show', ('trade_show',), 'converted')

        .. versionadded:: 0.1.0
        """
        command = ConvertLead(
            lead_id,
            customer_id=customer_id,
            contact_id=contact_id,
            customer_name=customer_name,
            customer_kind=customer_kind,
            tags=tags,
            create_opportunity=create_opportunity,
            actor=actor,
        )
        return self._run(command, LeadConversion)

    # ----- catalog and quotes ------------------------------------------------------------
    def upsert_product(self, product: Product, *, actor: str | None = None) -> Product:
        """Add a product, or replace the one with the same sku; return it as stored.

        Example:
            >>> from crmkit import bootstrap
            >>> from crmkit.pricing import Product
            >>> crm = bootstrap()
            >>> crm.upsert_product(Product(sku="TEAPOT", name="Yixing teapot", category="ware")).id
            'TEAPOT'

        .. versionadded:: 0.1.0
        """
        return self._run(UpsertProduct(product, actor=actor), Product)

    def upsert_price_book(self, price_book: PriceBook, *, actor: str | None = None) -> PriceBook:
        """Add a price book, or replace the one with the same id; return it as stored.

        Example:
            >>> from crmkit import Money, bootstrap
            >>> from crmkit.pricing import PriceBook, PriceBookEntry
            >>> crm = bootstrap()
            >>> crm.upsert_price_book(PriceBook(id="pb_cny", name="Standard CNY", currency="CNY",
            ...     entries=[PriceBookEntry(sku="TEA", unit_price=Money("113", "CNY"))])).version
            1

        .. versionadded:: 0.1.0
        """
        return self._run(UpsertPriceBook(price_book, actor=actor), PriceBook)

    def save_discount_rule_set(
        self, rule_set: DiscountRuleSet, *, actor: str | None = None
    ) -> DiscountRuleSet:
        """Add a discount rule set, or replace the one with the same id; return it as stored.

        Name it in ``PricingSettings(rule_set_id=...)`` (or in :meth:`price_quote`) to use it.

        Example:
            >>> from crmkit import bootstrap
            >>> from crmkit.pricing import DiscountRuleSet
            >>> crm = bootstrap()
            >>> crm.save_discount_rule_set(DiscountRuleSet(id="rs_1", name="Caps",
            ...                                            cap_percent=30)).name
            'Caps'

        .. versionadded:: 0.1.0
        """
        return self._run(SaveDiscountRuleSet(rule_set, actor=actor), DiscountRuleSet)

    def create_coupon(self, coupon: Coupon, *, actor: str | None = None) -> Coupon:
        """Add a new coupon (``DuplicateError`` if its code exists); return it as stored.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit import bootstrap
            >>> from crmkit.pricing import Coupon
            >>> crm = bootstrap()
            >>> start = datetime(2026, 3, 1, tzinfo=timezone.utc)
            >>> crm.create_coupon(Coupon(code="welcome500", name="Welcome", percent=5,
            ...                          created_at=start, per_customer_limit=1)).code
            'WELCOME500'

        .. versionadded:: 0.1.0
        """
        return self._run(CreateCoupon(coupon, actor=actor), Coupon)

    def create_quote(
        self,
        customer_id: str,
        currency: str,
        *,
        valid_until: datetime | None = None,
        customer_group: str | None = None,
        lines: Iterable[QuoteLine] = (),
        coupon_codes: Iterable[str] = (),
        discount: ManualDiscount | None = None,
        owner: str | None = None,
        actor: str | None = None,
    ) -> Quote:
        """Create a draft quote for a customer in ``currency``; return it.

        ``valid_until`` (aware) defaults to now plus ``PricingSettings.valid_for`` (30 days);
        ``customer_group`` picks group price books and rules; coupon codes must exist.

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> from crmkit.pricing import QuoteLine
            >>> crm, _ = _example_crm()
            >>> quote = crm.create_quote("cus_000001", "TWD", owner="u_amy",
            ...     lines=[QuoteLine(line_id="l1", sku="TEA-500", quantity=12)])
            >>> quote.id, quote.status.value, quote.owner
            ('quo_000002', 'draft', 'u_amy')

        .. versionadded:: 0.1.0
        """
        command = CreateQuote(
            customer_id,
            currency,
            valid_until=valid_until,
            customer_group=customer_group,
            lines=lines,
            coupon_codes=coupon_codes,
            discount=discount,
            owner=owner,
            actor=actor,
        )
        return self._run(command, Quote)

    def add_quote_line(
        self,
        quote_id: str,
        sku: str,
        quantity: int | str | Decimal,
        *,
        line_id: str | None = None,
        discount: ManualDiscount | None = None,
        tax_category: str | None = None,
        description: str | None = None,
        actor: str | None = None,
    ) -> Quote:
        """Add a line to a quote (``line_id`` default: the next free ``l<n>``); return the quote.

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> from crmkit.pricing import ManualDiscount
            >>> crm, quote = _example_crm()
            >>> quote = crm.add_quote_line(quote.id, "TEA-500", 2,
            ...                            discount=ManualDiscount(percent=100, reason="sample"))
            >>> [line.line_id for line in quote.lines]
            ['l1', 'l2']

        .. versionadded:: 0.1.0
        """
        command = AddQuoteLine(
            quote_id,
            sku,
            quantity,
            line_id=line_id,
            discount=discount,
            tax_category=tax_category,
            description=description,
            actor=actor,
        )
        return self._run(command, Quote)

    def update_quote_line(
        self, quote_id: str, line: QuoteLine, *, actor: str | None = None
    ) -> Quote:
        """Replace the quote's line with ``line.line_id`` by ``line``; return the quote.

        An edit after pricing throws the pricing and any approvals away.

        Example:
            >>> import attrs
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> _ = crm.price_quote(quote.id)
            >>> quote = crm.update_quote_line(quote.id, attrs.evolve(quote.line("l1"), quantity=9))
            >>> quote.line("l1").quantity, quote.priced
            (Decimal('9'), None)

        .. versionadded:: 0.1.0
        """
        return self._run(UpdateQuoteLine(quote_id, line, actor=actor), Quote)

    def remove_quote_line(self, quote_id: str, line_id: str, *, actor: str | None = None) -> Quote:
        """Remove line ``line_id`` from a quote; return the quote.

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> crm.remove_quote_line(quote.id, "l9")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: line_id: quote 'quo_000001' has no line 'l9'

        .. versionadded:: 0.1.0
        """
        return self._run(RemoveQuoteLine(quote_id, line_id, actor=actor), Quote)

    def apply_coupon(self, quote_id: str, code: str, *, actor: str | None = None) -> Quote:
        """Put coupon ``code`` on a quote (it must exist; pricing decides if it applies).

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> crm.apply_coupon(quote.id, " spring5 ").coupon_codes
            ('SPRING5',)

        .. versionadded:: 0.1.0
        """
        return self._run(ApplyCoupon(quote_id, code, actor=actor), Quote)

    def remove_coupon(self, quote_id: str, code: str, *, actor: str | None = None) -> Quote:
        """Take coupon ``code`` off a quote; return the quote.

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> _ = crm.apply_coupon(quote.id, "SPRING5")
            >>> crm.remove_coupon(quote.id, "SPRING5").coupon_codes
            ()

        .. versionadded:: 0.1.0
        """
        return self._run(RemoveCoupon(quote_id, code, actor=actor), Quote)

    def set_quote_discount(
        self, quote_id: str, discount: ManualDiscount | None, *, actor: str | None = None
    ) -> Quote:
        """Set the rep's discount on the whole quote (``None`` clears it); return the quote.

        Example:
            >>> from crmkit import Money
            >>> from crmkit.app.quotes import _example_crm
            >>> from crmkit.pricing import ManualDiscount
            >>> crm, quote = _example_crm()
            >>> crm.set_quote_discount(quote.id, ManualDiscount(amount=Money("100", "TWD"))
            ...     ).discount.amount
            Money('100', 'TWD')

        .. versionadded:: 0.1.0
        """
        return self._run(SetQuoteDiscount(quote_id, discount, actor=actor), Quote)

    def price_quote(
        self, quote_id: str, *, rule_set_id: str | None = None, actor: str | None = None
    ) -> PricedQuote:
        """Price a quote with the stored catalog, rule set and coupons; return the result.

        The result is stored on the quote; ``explain()`` prints its waterfall. ``rule_set_id``
        defaults to ``PricingSettings.rule_set_id``.

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> priced = crm.price_quote(quote.id)
            >>> priced.total, priced.tax, crm.get_quote(quote.id).priced == priced
            (Money('4320.00', 'TWD'), Money('205.71', 'TWD'), True)

        .. versionadded:: 0.1.0
        """
        return self._run(PriceQuote(quote_id, rule_set_id=rule_set_id, actor=actor), PricedQuote)

    def submit_quote(self, quote_id: str, *, actor: str | None = None) -> Quote:
        """Submit a priced draft for the approvals its discount needs (or approve it at once).

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> _ = crm.price_quote(quote.id)
            >>> crm.submit_quote(quote.id).status.value     # 10% off: no approval needed
            'approved'

        .. versionadded:: 0.1.0
        """
        return self._run(SubmitQuote(quote_id, actor=actor), Quote)

    def approve_quote(
        self, quote_id: str, role: str, *, actor: str, comment: str | None = None
    ) -> Quote:
        """Approve a quote's discount in ``role`` as ``actor``; the last approval approves it.

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm(percent=5)
            >>> _ = crm.price_quote(quote.id); _ = crm.submit_quote(quote.id)
            >>> quote = crm.approve_quote(quote.id, "sales_manager", actor="u_lin", comment="ok")
            >>> quote.status.value, quote.approvals[0].by
            ('approved', 'u_lin')

        .. versionadded:: 0.1.0
        """
        return self._run(ApproveQuote(quote_id, role, actor=actor, comment=comment), Quote)

    def reject_quote_approval(
        self, quote_id: str, role: str, *, actor: str, comment: str | None = None
    ) -> Quote:
        """Refuse a quote's discount in ``role`` as ``actor``: the quote is a draft again.

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm(percent=5)
            >>> _ = crm.price_quote(quote.id); _ = crm.submit_quote(quote.id)
            >>> crm.reject_quote_approval(quote.id, "sales_manager", actor="u_lin").status.value
            'draft'

        .. versionadded:: 0.1.0
        """
        command = RejectQuoteApproval(quote_id, role, actor=actor, comment=comment)
        return self._run(command, Quote)

    def send_quote(self, quote_id: str, *, actor: str | None = None) -> Quote:
        """Mark an approved quote as sent to the customer; return it.

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> _ = crm.price_quote(quote.id); _ = crm.submit_quote(quote.id)
            >>> crm.send_quote(quote.id).sent_at == crm.clock.now()
            True

        .. versionadded:: 0.1.0
        """
        return self._run(SendQuote(quote_id, actor=actor), Quote)

    def accept_quote(self, quote_id: str, *, actor: str | None = None) -> Quote:
        """Accept a sent quote and redeem its coupons, atomically; accepting again is a no-op.

        A coupon over its limit makes the whole acceptance fail and nothing is stored; see
        :func:`crmkit.app.quotes.accept_quote`.

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> _ = crm.price_quote(quote.id); _ = crm.submit_quote(quote.id)
            >>> _ = crm.send_quote(quote.id)
            >>> crm.accept_quote(quote.id).status.value
            'accepted'

        .. versionadded:: 0.1.0
        """
        return self._run(AcceptQuote(quote_id, actor=actor), Quote)

    def reject_quote(
        self, quote_id: str, *, reason: str | None = None, actor: str | None = None
    ) -> Quote:
        """Record that the customer rejected a sent quote, and why; return it.

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> _ = crm.price_quote(quote.id); _ = crm.submit_quote(quote.id)
            >>> _ = crm.send_quote(quote.id)
            >>> crm.reject_quote(quote.id, reason="too expensive").status.value
            'rejected'

        .. versionadded:: 0.1.0
        """
        return self._run(RejectQuote(quote_id, reason=reason, actor=actor), Quote)

    def expire_quote(self, quote_id: str, *, actor: str | None = None) -> Quote:
        """Expire one open quote whose ``valid_until`` has passed; return it.

        Example:
            >>> from datetime import timedelta
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> _ = crm.clock.advance(timedelta(days=30))
            >>> crm.expire_quote(quote.id).status.value
            'expired'

        .. versionadded:: 0.1.0
        """
        return self._run(ExpireQuote(quote_id, actor=actor), Quote)

    def expire_due_quotes(self, *, actor: str | None = None) -> QuoteExpiryRun:
        """Expire every open quote past its ``valid_until`` (run it from a scheduler).

        Example:
            >>> from datetime import timedelta
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> _ = crm.clock.advance(timedelta(days=45))
            >>> crm.expire_due_quotes(actor="scheduler").expired
            ('quo_000001',)

        .. versionadded:: 0.1.0
        """
        return self._run(ExpireDueQuotes(actor=actor), QuoteExpiryRun)

    def revise_quote(
        self, quote_id: str, *, valid_until: datetime | None = None, actor: str | None = None
    ) -> Quote:
        """Supersede a quote with a new draft revision and return the revision.

        The old quote stays readable (``superseded``); the revision has the same lines,
        coupons and discount and must be priced and approved again.

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> revision = crm.revise_quote(quote.id)
            >>> revision.revision, crm.get_quote(quote.id).status.value
            (2, 'superseded')

        .. versionadded:: 0.1.0
        """
        return self._run(ReviseQuote(quote_id, valid_until=valid_until, actor=actor), Quote)

    # ----- complaints ----------------------------------------------------------------------
    def file_complaint(
        self,
        customer_id: str,
        subject: str,
        *,
        category: str,
        channel: CaseChannel | str,
        impact: Impact | str = "medium",
        urgency: Urgency | str = "medium",
        description: str | None = None,
        contact_id: str | None = None,
        product_ref: str | None = None,
        order_ref: str | None = None,
        customer_tier: str | None = None,
        owner: str | None = None,
        team: str | None = None,
        reference: str | None = None,
        filed_at: datetime | None = None,
        actor: str | None = None,
    ) -> Complaint:
        """File a complaint for a stored customer and return it.

        The priority comes from the complaint policy's impact x urgency matrix, the owner from
        the assignment rules (unless given), and a ``reference`` that exists returns its case
        instead of filing twice (see :func:`crmkit.app.service.file_complaint`). ``channel``
        is ``"phone"``, ``"email"``, ``"web_form"``, ``"chat"``, ``"social"`` or
        ``"in_store"``.

        Example:
            >>> from crmkit.app.service import _example_crm
            >>> crm, customer = _example_crm()
            >>> case = crm.file_complaint(customer.id, "Parcel never arrived",
            ...     category="delivery", channel="web_form", impact="high", urgency="medium",
            ...     order_ref="SO-7781")
            >>> case.reference, case.status.value, case.priority.value, case.owner
            ('CS-000001', 'new', 'high', 'u_amy')

        .. versionadded:: 0.1.0
        """
        command = FileComplaint(
            customer_id,
            subject,
            category=category,
            channel=channel,
            impact=impact,
            urgency=urgency,
            description=description,
            contact_id=contact_id,
            product_ref=product_ref,
            order_ref=order_ref,
            customer_tier=customer_tier,
            owner=owner,
            team=team,
            reference=reference,
            filed_at=filed_at,
            actor=actor,
        )
        return self._run(command, Complaint)

    def acknowledge_complaint(
        self,
        case_id: str,
        *,
        owner: str | None = None,
        team: str | None = None,
        actor: str | None = None,
    ) -> Complaint:
        """Acknowledge a new case; it needs an owner: this one, its own, or the rules' choice.

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case(acknowledged=False)
            >>> case = crm.acknowledge_complaint(case.id, actor="u_amy")
            >>> case.status.value, case.owner
            ('acknowledged', 'u_amy')

        .. versionadded:: 0.1.0
        """
        command = AcknowledgeComplaint(case_id, owner=owner, team=team, actor=actor)
        return self._run(command, Complaint)

    def assign_complaint(
        self,
        case_id: str,
        owner: str | None = None,
        *,
        team: str | None = None,
        reason: str = "assigned by hand",
        actor: str | None = None,
    ) -> Complaint:
        """Give a case to ``owner`` (and ``team``), or, with no owner, to the rules' choice.

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case()
            >>> crm.assign_complaint(case.id, "u_bob", reason="back from leave").owner
            'u_bob'

        .. versionadded:: 0.1.0
        """
        command = AssignComplaint(case_id, owner, team=team, reason=reason, actor=actor)
        return self._run(command, Complaint)

    def reply_to_complaint(
        self,
        case_id: str,
        body: str,
        *,
        by: str | None = None,
        wait_for_customer: bool = False,
        actor: str | None = None,
    ) -> Complaint:
        """Send the customer a public reply (``by``: the agent, default ``actor``).

        With ``wait_for_customer=True`` the case waits for the customer and its SLA clocks
        pause until :meth:`record_customer_message`.

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case()
            >>> case = crm.reply_to_complaint(case.id, "We are tracing it.", by="u_amy")
            >>> [m.body for m in case.messages], case.first_response_at == crm.clock.now()
            (['We are tracing it.'], True)

        .. versionadded:: 0.1.0
        """
        command = ReplyToComplaint(
            case_id, body, by=by, wait_for_customer=wait_for_customer, actor=actor
        )
        return self._run(command, Complaint)

    def record_customer_message(
        self, case_id: str, body: str, *, actor: str | None = None
    ) -> Complaint:
        """Record what the customer wrote; a case waiting for them resumes.

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case()
            >>> _ = crm.reply_to_complaint(case.id, "Order number?", by="u_amy",
            ...                            wait_for_customer=True)
            >>> crm.record_customer_message(case.id, "SO-7781").status.value
            'in_progress'

        .. versionadded:: 0.1.0
        """
        return self._run(RecordCustomerMessage(case_id, body, actor=actor), Complaint)

    def add_complaint_note(
        self, case_id: str, body: str, *, by: str | None = None, actor: str | None = None
    ) -> Complaint:
        """Add an internal note (colleagues see it; the customer never does).

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case()
            >>> crm.add_complaint_note(case.id, "VIP, handle with care", by="u_amy").notes[0].by
            'u_amy'

        .. versionadded:: 0.1.0
        """
        return self._run(AddComplaintNote(case_id, body, by=by, actor=actor), Complaint)

    def start_complaint_work(self, case_id: str, *, actor: str | None = None) -> Complaint:
        """Move an acknowledged case to ``in_progress``.

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case()
            >>> crm.start_complaint_work(case.id).status.value
            'in_progress'

        .. versionadded:: 0.1.0
        """
        return self._run(StartComplaintWork(case_id, actor=actor), Complaint)

    def resolve_complaint(
        self,
        case_id: str,
        summary: str,
        *,
        root_cause: str | None = None,
        actor: str | None = None,
    ) -> Complaint:
        """Resolve a case in progress with a summary and, optionally, its root cause.

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case(working=True)
            >>> crm.resolve_complaint(case.id, "Re-shipped", root_cause="carrier_delay"
            ...                       ).resolution
            'Re-shipped'

        .. versionadded:: 0.1.0
        """
        command = ResolveComplaint(case_id, summary, root_cause=root_cause, actor=actor)
        return self._run(command, Complaint)

    def close_complaint(self, case_id: str, *, actor: str | None = None) -> Complaint:
        """Close a resolved case.

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case()
            >>> crm.close_complaint(case.id)
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: cannot move case 'CS-000001' from 'acknowledged' to
            'closed'; from 'acknowledged' it may move to 'in_progress', 'cancelled'

        .. versionadded:: 0.1.0
        """
        return self._run(CloseComplaint(case_id, actor=actor), Complaint)

    def reopen_complaint(self, case_id: str, reason: str, *, actor: str | None = None) -> Complaint:
        """Reopen a resolved or closed case within the policy's window; its history is kept.

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case(working=True)
            >>> _ = crm.resolve_complaint(case.id, "Re-shipped")
            >>> case = crm.reopen_complaint(case.id, "still not here")
            >>> case.status.value, case.reopened
            ('in_progress', 1)

        .. versionadded:: 0.1.0
        """
        return self._run(ReopenComplaint(case_id, reason, actor=actor), Complaint)

    def cancel_complaint(
        self,
        case_id: str,
        reason: CancelReason | str,
        *,
        note: str,
        duplicate_of: str | None = None,
        actor: str | None = None,
    ) -> Complaint:
        """Cancel a case as a ``"duplicate"`` (of ``duplicate_of``) or as ``"spam"``.

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case(acknowledged=False)
            >>> crm.cancel_complaint(case.id, "spam", note="advertising").status.value
            'cancelled'

        .. versionadded:: 0.1.0
        """
        command = CancelComplaint(
            case_id, reason, note=note, duplicate_of=duplicate_of, actor=actor
        )
        return self._run(command, Complaint)

    def grant_compensation(
        self,
        case_id: str,
        reference: str,
        kind: CompensationKind | str,
        *,
        approver_role: str,
        amount: Money | None = None,
        points: int | None = None,
        description: str | None = None,
        actor: str | None = None,
    ) -> CompensationOutcome:
        """Grant compensation approved by ``actor`` as ``approver_role``, once per ``reference``.

        ``kind`` is ``"refund"``, ``"voucher"`` (it becomes a single-use coupon),
        ``"goodwill_points"`` (through the ``ServiceHooks.goodwill_points`` hook),
        ``"upgrade"`` or ``"replacement"``. See
        :func:`crmkit.app.service.grant_compensation`.

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case()
            >>> outcome = crm.grant_compensation(case.id, "comp-1", "voucher",
            ...     approver_role="team_lead", amount=Money("300", "TWD"), actor="u_lead")
            >>> outcome.compensation.amount, outcome.coupon.usage_limit
            (Money('300', 'TWD'), 1)
            >>> crm.grant_compensation(case.id, "comp-2", "voucher",
            ...     approver_role="team_lead", amount=Money("1500", "TWD"), actor="u_lead")
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: role 'team_lead' may grant a voucher of at most 1000
            TWD, not 1500 TWD; ask a role with a higher limit

        .. versionadded:: 0.1.0
        """
        command = GrantCompensation(
            case_id,
            reference=reference,
            kind=kind,
            approver_role=approver_role,
            amount=amount,
            points=points,
            description=description,
            actor=actor,
        )
        return self._run(command, CompensationOutcome)

    def record_csat(
        self,
        case_id: str,
        score: int,
        *,
        comment: str | None = None,
        survey_ref: str | None = None,
        actor: str | None = None,
    ) -> Complaint:
        """Record the customer's 1-5 satisfaction score on a resolved or closed case (once).

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case(working=True)
            >>> _ = crm.resolve_complaint(case.id, "Re-shipped")
            >>> crm.record_csat(case.id, 4, comment="took a while").csat.comment
            'took a while'

        .. versionadded:: 0.1.0
        """
        command = RecordCsat(case_id, score, comment=comment, survey_ref=survey_ref, actor=actor)
        return self._run(command, Complaint)

    def complaint_sla(
        self, case_id: str, *, at: datetime | None = None, actor: str | None = None
    ) -> SlaStatus:
        """Both SLA clocks of a case at ``at`` (default: now), computed from its history.

        Each clock explains itself: start, pauses, calendar, target, elapsed, remaining and
        deadline (``.explain()``).

        Example:
            >>> from datetime import timedelta
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case()
            >>> _ = crm.clock.advance(timedelta(hours=5))
            >>> status = crm.complaint_sla(case.id)
            >>> status.policy, status.first_response.state.value, status.calendar
            ('standard', 'breached', 'Taipei desk')

        .. versionadded:: 0.1.0
        """
        return self._run(ShowComplaintSla(case_id, at=at, actor=actor), SlaStatus)

    def public_complaint_view(
        self, reference: str, *, customer_id: str | None = None, actor: str | None = None
    ) -> PublicCaseView:
        """A case by its public reference, as its customer may see it (and nothing more).

        Give the signed-in customer's ``customer_id`` so another customer's case is not found.

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case()
            >>> view = crm.public_complaint_view(case.reference, customer_id=case.customer_id)
            >>> view.reference, view.expected_next_update.isoformat()
            ('CS-000001', '2026-01-05T13:00:00+08:00')

        .. versionadded:: 0.1.0
        """
        command = ShowPublicComplaint(reference, customer_id=customer_id, actor=actor)
        return self._run(command, PublicCaseView)

    def check_sla_breaches(self, *, actor: str | None = None) -> SlaCheckRun:
        """Record every SLA breach and escalation the open cases reached (run it on a schedule).

        Example:
            >>> from datetime import timedelta
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case()
            >>> _ = crm.clock.advance(timedelta(days=3))
            >>> run = crm.check_sla_breaches(actor="scheduler")
            >>> run.checked, sorted(target for _, target in run.breached)
            (1, ['first_response', 'resolution'])

        .. versionadded:: 0.1.0
        """
        return self._run(CheckSlaBreaches(actor=actor), SlaCheckRun)

    def save_business_calendar(
        self, calendar_id: str, calendar: BusinessCalendar, *, actor: str | None = None
    ) -> StoredCalendar:
        """Store a business calendar under ``calendar_id`` (add it, or replace the stored one).

        Name it in ``ServiceSettings.calendar_id`` or ``team_calendars`` to use it.

        Example:
            >>> from crmkit import bootstrap
            >>> from crmkit.kernel.calendar import BusinessCalendar
            >>> crm = bootstrap()
            >>> stored = crm.save_business_calendar("cal_ldn", BusinessCalendar.office_hours(
            ...     "Europe/London", ("09:00", "17:30")), actor="u_admin")
            >>> stored.calendar.timezone, stored.updated_by
            ('Europe/London', 'u_admin')

        .. versionadded:: 0.1.0
        """
        command = SaveBusinessCalendar(calendar_id, calendar, actor=actor)
        return self._run(command, StoredCalendar)

    def save_sla_policy_set(
        self, policy_set_id: str, policies: SlaPolicySet, *, actor: str | None = None
    ) -> StoredSlaPolicySet:
        """Store an SLA policy set under ``policy_set_id`` (add it, or replace the stored one).

        Name it in ``ServiceSettings.sla_policy_set_id`` to use it.

        Example:
            >>> from datetime import timedelta
            >>> from crmkit import bootstrap
            >>> from crmkit.service.sla import SlaPolicy, SlaPolicySet
            >>> crm = bootstrap()
            >>> crm.save_sla_policy_set("sla_default", SlaPolicySet(default="std", policies=[
            ...     SlaPolicy(name="std", first_response=timedelta(hours=8),
            ...               resolution=timedelta(hours=40))])).version
            1

        .. versionadded:: 0.1.0
        """
        command = SaveSlaPolicySet(policy_set_id, policies, actor=actor)
        return self._run(command, StoredSlaPolicySet)

    def get_complaint(self, id: str, *, actor: str | None = None) -> Complaint:
        """Return the case with ``id`` (``NotFoundError`` if there is none).

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case()
            >>> crm.get_complaint(case.id).subject
            'Parcel never arrived'

        .. versionadded:: 0.1.0
        """
        check_id(id, "id")
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            found = uow.complaints.get(id)
            return _access.visible(self.policy, actor, "service.read", "complaints", found)

    def find_complaints(
        self,
        *,
        customer_id: str | None = None,
        status: CaseStatus | str | None = None,
        owner: str | None = None,
        team: str | None = None,
        open_only: bool = False,
        limit: int = 50,
        cursor: str | None = None,
        actor: str | None = None,
    ) -> Page[Complaint]:
        """Return one page of cases, newest first; every filter given must hold.

        Args:
            customer_id: the customer's cases.
            status: ``"new"``, ``"acknowledged"``, ``"in_progress"``,
                ``"awaiting_customer"``, ``"resolved"``, ``"closed"`` or ``"cancelled"``.
            owner: the cases this user owns.
            team: the cases of this team.
            open_only: only the cases someone still has to work on.
            limit: page size, 1 to 1000.
            cursor: ``next_cursor`` of the previous page, to get the next one.
            actor: the user reading (``None``: the system). Only the records they may
                read are on the page (so it may hold fewer than ``limit``), masked for them.

        Example:
            >>> from crmkit.app.service import _example_case
            >>> crm, case = _example_case()
            >>> [c.id for c in crm.find_complaints(owner="u_amy", open_only=True).items]
            ['case_000001']

        .. versionadded:: 0.1.0
        """
        query = Query().order("-filed_at", "-id").take(limit)
        if customer_id is not None:
            query = query.filter("customer_id", Op.EQ, check_id(customer_id, "customer_id"))
        if status is not None:
            wanted = v.to_enum(CaseStatus, "status")(status)
            query = query.filter("status", Op.EQ, wanted.value)
        if owner is not None:
            query = query.filter("owner", Op.EQ, check_id(owner, "owner"))
        if team is not None:
            query = query.filter("team", Op.EQ, _optional_search_text(team, "team"))
        if not isinstance(open_only, bool):
            raise ValidationError(
                f"must be True or False, not {type(open_only).__name__}", path="open_only"
            )
        if open_only:
            query = query.filter("is_open", Op.EQ, True)
        if cursor is not None and not isinstance(cursor, str):
            raise ValidationError(
                f"must be a cursor string or None, not {type(cursor).__name__}", path="cursor"
            )
        query = query.after(cursor)
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            page = uow.complaints.query(query)
            return _access.visible_page(
                self.policy, actor, "service.find", "service.read", "complaints", page
            )

    # ----- maintenance contracts and work orders ---------------------------------------------
    def sign_maintenance_contract(
        self,
        customer_id: str,
        equipment: Iterable[Equipment],
        plan: ServicePlan,
        *,
        starts_on: date,
        ends_on: date,
        renewal_notice: timedelta = timedelta(days=60),
        actor: str | None = None,
    ) -> MaintenanceContract:
        """Sign a maintenance contract covering a customer's equipment under a service plan.

        Example:
            >>> from datetime import date
            >>> from crmkit.app.service import _example_crm
            >>> from crmkit.service.maintenance import Equipment, ServicePlan
            >>> crm, customer = _example_crm()
            >>> contract = crm.sign_maintenance_contract(customer.id,
            ...     [Equipment(serial="AC-0042", model="Daikin FTXM35", site="Taipei office",
            ...                installed_on=date(2025, 10, 9))],
            ...     ServicePlan(name="yearly", rule="FREQ=YEARLY"),
            ...     starts_on=date(2025, 10, 9), ends_on=date(2026, 10, 8))
            >>> contract.plan.name, contract.is_active(date(2026, 1, 5))
            ('yearly', True)

        .. versionadded:: 0.1.0
        """
        command = SignMaintenanceContract(
            customer_id,
            equipment,
            plan,
            starts_on=starts_on,
            ends_on=ends_on,
            renewal_notice=renewal_notice,
            actor=actor,
        )
        return self._run(command, MaintenanceContract)

    def renew_maintenance_contract(
        self, contract_id: str, until: date, *, actor: str | None = None
    ) -> MaintenanceContract:
        """Extend a contract to ``until``.

        Example:
            >>> from datetime import date
            >>> from crmkit.app.service import _example_contract
            >>> crm, contract = _example_contract()
            >>> crm.renew_maintenance_contract(contract.id, date(2027, 1, 1))
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: contract 'mc_000001' already runs to 2027-10-08; a
            renewal extends it beyond that, not to 2027-01-01

        .. versionadded:: 0.1.0
        """
        command = RenewMaintenanceContract(contract_id, until, actor=actor)
        return self._run(command, MaintenanceContract)

    def open_work_order(
        self,
        serial: str,
        kind: WorkOrderKind | str,
        summary: str,
        *,
        contract_id: str | None = None,
        case_id: str | None = None,
        actor: str | None = None,
    ) -> WorkOrder:
        """Open a work order on a piece of equipment, for a contract, a case, or on its own.

        ``kind`` is ``"maintenance"``, ``"repair"``, ``"installation"`` or ``"inspection"``.

        Example:
            >>> from crmkit.app.service import _example_contract
            >>> crm, contract = _example_contract()
            >>> crm.open_work_order("AC-0042", "repair", "noisy fan", contract_id=contract.id
            ...                     ).status.value
            'open'

        .. versionadded:: 0.1.0
        """
        command = OpenWorkOrder(
            serial, kind, summary, contract_id=contract_id, case_id=case_id, actor=actor
        )
        return self._run(command, WorkOrder)

    def dispatch_work_order(
        self,
        work_order_id: str,
        technician: str,
        *,
        start: datetime,
        end: datetime,
        actor: str | None = None,
    ) -> WorkOrder:
        """Send a technician for the window ``start``-``end`` (again: reschedule).

        Example:
            >>> from datetime import timedelta
            >>> from crmkit.app.service import _example_work_order
            >>> crm, job = _example_work_order()
            >>> at = crm.clock.now() + timedelta(days=2)
            >>> crm.dispatch_work_order(job.id, "u_tech", start=at, end=at + timedelta(hours=2)
            ...                         ).window_start == at
            True

        .. versionadded:: 0.1.0
        """
        command = DispatchWorkOrder(work_order_id, technician, start=start, end=end, actor=actor)
        return self._run(command, WorkOrder)

    def start_work_order(self, work_order_id: str, *, actor: str | None = None) -> WorkOrder:
        """The technician starts the work.

        Example:
            >>> from datetime import timedelta
            >>> from crmkit.app.service import _example_work_order
            >>> crm, job = _example_work_order()
            >>> now = crm.clock.now()
            >>> _ = crm.dispatch_work_order(job.id, "u_tech", start=now,
            ...                             end=now + timedelta(hours=2))
            >>> crm.start_work_order(job.id, actor="u_tech").status.value
            'in_progress'

        .. versionadded:: 0.1.0
        """
        return self._run(StartWorkOrder(work_order_id, actor=actor), WorkOrder)

    def record_work_order_part(
        self,
        work_order_id: str,
        sku: str,
        quantity: int,
        *,
        description: str | None = None,
        serial: str | None = None,
        actor: str | None = None,
    ) -> WorkOrder:
        """Record a part used on a work order in progress.

        Example:
            >>> from crmkit.app.service import _example_work_order
            >>> crm, job = _example_work_order(started=True)
            >>> crm.record_work_order_part(job.id, "FLT-200", 2).parts[0].sku
            'FLT-200'

        .. versionadded:: 0.1.0
        """
        command = RecordWorkOrderPart(
            work_order_id, sku, quantity, description=description, serial=serial, actor=actor
        )
        return self._run(command, WorkOrder)

    def complete_work_order(
        self, work_order_id: str, notes: str, *, actor: str | None = None
    ) -> WorkOrder:
        """Complete the work with resolution notes.

        Example:
            >>> from crmkit.app.service import _example_work_order
            >>> crm, job = _example_work_order(started=True)
            >>> crm.complete_work_order(job.id, "Filters replaced").resolution_notes
            'Filters replaced'

        .. versionadded:: 0.1.0
        """
        return self._run(CompleteWorkOrder(work_order_id, notes, actor=actor), WorkOrder)

    def cancel_work_order(
        self, work_order_id: str, reason: str, *, actor: str | None = None
    ) -> WorkOrder:
        """Cancel a work order before the work starts.

        Example:
            >>> from crmkit.app.service import _example_work_order
            >>> crm, job = _example_work_order()
            >>> crm.cancel_work_order(job.id, "unit sold").status.value
            'cancelled'

        .. versionadded:: 0.1.0
        """
        return self._run(CancelWorkOrder(work_order_id, reason, actor=actor), WorkOrder)

    def upcoming_services(
        self,
        start: date,
        end: date,
        *,
        customer_id: str | None = None,
        actor: str | None = None,
    ) -> tuple[ScheduledVisit, ...]:
        """The service visits the stored contracts schedule from ``start`` to ``end``.

        A visit on a day off of the service calendar moves to the next working day.

        Example:
            >>> from datetime import date
            >>> from crmkit.app.service import _example_contract
            >>> crm, contract = _example_contract()
            >>> [v.scheduled_on.isoformat() for v in crm.upcoming_services(
            ...     date(2026, 1, 1), date(2026, 6, 30))]
            ['2026-04-09']

        .. versionadded:: 0.1.0
        """
        command = ListUpcomingServices(start, end, customer_id=customer_id, actor=actor)
        return cast(tuple[ScheduledVisit, ...], self.bus.handle(command))

    def renewals_due(
        self, today: date | None = None, *, actor: str | None = None
    ) -> tuple[RenewalDue, ...]:
        """The contracts within their renewal notice on ``today`` (default: today).

        Example:
            >>> from datetime import date
            >>> from crmkit.app.service import _example_contract
            >>> crm, contract = _example_contract()
            >>> crm.renewals_due(date(2026, 9, 1))
            ()

        .. versionadded:: 0.1.0
        """
        return cast(tuple[RenewalDue, ...], self.bus.handle(ListRenewalsDue(today, actor=actor)))

    def get_maintenance_contract(self, id: str, *, actor: str | None = None) -> MaintenanceContract:
        """Return the maintenance contract with ``id`` (``NotFoundError`` if there is none).

        Example:
            >>> from crmkit.app.service import _example_contract
            >>> crm, contract = _example_contract()
            >>> [e.serial for e in crm.get_maintenance_contract(contract.id).equipment]
            ['AC-0042']

        .. versionadded:: 0.1.0
        """
        check_id(id, "id")
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            found = uow.maintenance_contracts.get(id)
            return _access.visible(
                self.policy, actor, "maintenance.read", "maintenance_contracts", found
            )

    def get_work_order(self, id: str, *, actor: str | None = None) -> WorkOrder:
        """Return the work order with ``id`` (``NotFoundError`` if there is none).

        Example:
            >>> from crmkit.app.service import _example_work_order
            >>> crm, job = _example_work_order()
            >>> crm.get_work_order(job.id).summary
            'half-yearly service'

        .. versionadded:: 0.1.0
        """
        check_id(id, "id")
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            found = uow.work_orders.get(id)
            return _access.visible(
                self.policy, actor, "maintenance.read_work_orders", "work_orders", found
            )

    # ----- loyalty -------------------------------------------------------------------------
    def save_loyalty_program(
        self, program: LoyaltyProgram, *, actor: str | None = None
    ) -> LoyaltyProgram:
        """Add the loyalty program, or replace the stored one with the same id; return it.

        Example:
            >>> from crmkit import bootstrap
            >>> from crmkit.app.loyalty import _example_program
            >>> bootstrap().save_loyalty_program(_example_program()).name
            'Tea Club'

        .. versionadded:: 0.1.0
        """
        return self._run(SaveLoyaltyProgram(program, actor=actor), LoyaltyProgram)

    def enroll_member(
        self, customer_id: str, *, birthday: date | None = None, actor: str | None = None
    ) -> Membership:
        """Enroll a customer in the configured program (again: the membership as it is).

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> crm = _example_crm()
            >>> crm.enroll_member("cus_000001").tier
            'member'

        .. versionadded:: 0.1.0
        """
        return self._run(EnrollMember(customer_id, birthday=birthday, actor=actor), Membership)

    def earn_for_order(
        self, customer_id: str, order: EarnOrder, *, actor: str | None = None
    ) -> LedgerEntry:
        """Credit the points a paid order earns, once per order id; return the ledger entry.

        See :func:`crmkit.app.loyalty.earn_for_order`.

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> from crmkit.loyalty import EarnOrder
            >>> crm = _example_crm(member_points=0)
            >>> crm.earn_for_order("cus_000001", EarnOrder.of("o_1", Money("12000", "TWD"))
            ...                    ).points
            120

        .. versionadded:: 0.1.0
        """
        return self._run(EarnForOrder(customer_id, order, actor=actor), LedgerEntry)

    def refund_order(
        self,
        customer_id: str,
        order_id: str,
        *,
        refund_id: str,
        refunded: Money,
        actor: str | None = None,
    ) -> LedgerEntry:
        """Claw back an order's points for a refund, in proportion, once per refund id.

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> from crmkit.loyalty import EarnOrder
            >>> crm = _example_crm(member_points=0)
            >>> _ = crm.earn_for_order("cus_000001", EarnOrder.of("o_1", Money("999", "TWD")))
            >>> crm.refund_order("cus_000001", "o_1", refund_id="rf_1",
            ...                  refunded=Money("999", "TWD")).points
            -9

        .. versionadded:: 0.1.0
        """
        command = RefundOrder(
            customer_id, order_id, refund_id=refund_id, refunded=refunded, actor=actor
        )
        return self._run(command, LedgerEntry)

    def record_activity(
        self, customer_id: str, kind: str, *, reference: str, actor: str | None = None
    ) -> LedgerEntry:
        """Credit the program's points for an activity (a review, a survey), once per reference.

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> crm = _example_crm(member_points=0)
            >>> crm.record_activity("cus_000001", "review", reference="rev_9").points
            20

        .. versionadded:: 0.1.0
        """
        return self._run(
            RecordActivity(customer_id, kind, reference=reference, actor=actor), LedgerEntry
        )

    def redeem_reward(
        self, customer_id: str, reward_id: str, *, reference: str, actor: str | None = None
    ) -> RewardOutcome:
        """Spend points on a catalog reward, once per reference; a voucher becomes a coupon.

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> crm = _example_crm(member_points=500)
            >>> out = crm.redeem_reward("cus_000001", "v100", reference="rr_1")
            >>> crm.get_coupon(out.coupon.code).amount
            Money('100', 'TWD')

        .. versionadded:: 0.1.0
        """
        command = RedeemReward(customer_id, reward_id, reference=reference, actor=actor)
        return self._run(command, RewardOutcome)

    def pay_with_points(
        self,
        customer_id: str,
        points: int,
        *,
        order_total: Money,
        reference: str,
        actor: str | None = None,
    ) -> PointsPayment:
        """Spend points as partial payment of an order, once per reference.

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> crm = _example_crm(member_points=500)
            >>> crm.pay_with_points("cus_000001", 200, order_total=Money("600", "TWD"),
            ...                     reference="pay_1").to_pay
            Money('500.00', 'TWD')

        .. versionadded:: 0.1.0
        """
        command = PayWithPoints(
            customer_id, points, order_total=order_total, reference=reference, actor=actor
        )
        return self._run(command, PointsPayment)

    def reverse_redemption(
        self, customer_id: str, reference: str, *, actor: str | None = None
    ) -> LedgerEntry:
        """Give back the points of a reward redemption or a points payment (and its coupon).

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> crm = _example_crm(member_points=500)
            >>> _ = crm.pay_with_points("cus_000001", 200, order_total=Money("600", "TWD"),
            ...                         reference="pay_1")
            >>> crm.reverse_redemption("cus_000001", "pay_1").points
            200

        .. versionadded:: 0.1.0
        """
        return self._run(ReverseRedemption(customer_id, reference, actor=actor), LedgerEntry)

    def adjust_points(
        self, customer_id: str, points: int, *, reference: str, reason: str, actor: str
    ) -> LedgerEntry:
        """Add or take points by hand; ``actor`` and ``reason`` go on the entry.

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> crm = _example_crm(member_points=0)
            >>> crm.adjust_points("cus_000001", 80, reference="adj_1", reason="late parcel",
            ...                   actor="u_amy").points
            80

        .. versionadded:: 0.1.0
        """
        command = AdjustPoints(customer_id, points, reference=reference, reason=reason, actor=actor)
        return self._run(command, LedgerEntry)

    def grant_tier(
        self,
        customer_id: str,
        tier: str,
        *,
        reference: str,
        reason: str,
        actor: str,
        until: datetime | None = None,
    ) -> TierGrant:
        """Hold a member at ``tier`` until ``until`` (``None``: no end).

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> crm = _example_crm(member_points=0)
            >>> crm.grant_tier("cus_000001", "silver", reference="g_1", reason="launch",
            ...                actor="u_amy").tier
            'silver'

        .. versionadded:: 0.1.0
        """
        command = GrantTier(
            customer_id, tier, reference=reference, reason=reason, until=until, actor=actor
        )
        return self._run(command, TierGrant)

    def register_referral(
        self, referee_id: str, code: str, *, actor: str | None = None
    ) -> Referral:
        """Record that member ``referee_id`` joined with another member's referral ``code``.

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> from crmkit.loyalty import referral_code
            >>> crm = _example_crm(member_points=0, referee=True)
            >>> crm.register_referral("cus_000002", referral_code("tea_club", "cus_000001")
            ...                       ).status.value
            'registered'

        .. versionadded:: 0.1.0
        """
        return self._run(RegisterReferral(referee_id, code, actor=actor), Referral)

    def qualify_referrals(self, *, actor: str | None = None) -> ReferralRun:
        """Reward the referrals whose first order is past its pending period (a scheduler's).

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> _example_crm(member_points=0).qualify_referrals().rewarded
            ()

        .. versionadded:: 0.1.0
        """
        return self._run(QualifyReferrals(actor=actor), ReferralRun)

    def advance_memberships(self, *, actor: str | None = None) -> MembershipRun:
        """Bring every membership to now: expiry, maturing points, tier evaluation.

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> _example_crm(member_points=0).advance_memberships().skipped
            ()

        .. versionadded:: 0.1.0
        """
        return self._run(AdvanceMemberships(actor=actor), MembershipRun)

    def get_membership(self, customer_id: str, *, actor: str | None = None) -> Membership:
        """Return a customer's membership of the configured program.

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> _example_crm(member_points=0).get_membership("cus_000001").customer_id
            'cus_000001'

        .. versionadded:: 0.1.0
        """
        return self._run(ShowMembership(customer_id, actor=actor), Membership)

    def points_balance(self, customer_id: str, *, actor: str | None = None) -> MemberBalance:
        """Return a customer's points now, with the lots behind them and what expires soon.

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> _example_crm(member_points=120).points_balance("cus_000001").balance.available
            120

        .. versionadded:: 0.1.0
        """
        return self._run(ShowPointsBalance(customer_id, actor=actor), MemberBalance)

    def loyalty_report(self, *, actor: str | None = None) -> LoyaltyReport:
        """Return the program's liability, breakage, members per tier and points expiring soon.

        Example:
            >>> from crmkit.app.loyalty import _example_crm
            >>> _example_crm(member_points=120).loyalty_report().liability.members
            1

        .. versionadded:: 0.1.0
        """
        return self._run(ShowLoyaltyReport(actor=actor), LoyaltyReport)

    # ----- purchase history --------------------------------------------------------------
    def record_order(
        self,
        customer_id: str,
        source: str,
        external_ref: str,
        ordered_at: datetime,
        total: Money,
        *,
        lines: Iterable[OrderLine | Mapping[str, Any]] = (),
        channel: str | None = None,
        region: str | None = None,
        actor: str | None = None,
    ) -> Order:
        """Record an order the host reports; the same ``source`` and reference again is a no-op.

        A second report of the reference with different data is an
        :class:`~crmkit.customers.OrderConflict` naming the fields that differ.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> at = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
            >>> order = crm.record_order(tea.id, "shop", "#1001", at, Money("1200", "TWD"),
            ...     lines=[{"sku": "TEA-500", "name": "Oolong 500 g", "quantity": 2,
            ...             "amount": Money("1200", "TWD")}], channel="web")
            >>> crm.record_order(tea.id, "shop", "#1001", at, Money("1200", "TWD")).lines
            Traceback (most recent call last):
            ...
            crmkit.customers.purchases.OrderConflict: order '#1001' from 'shop' was already ...

        .. versionadded:: 0.1.0
        """
        command = RecordOrder(
            customer_id,
            source,
            external_ref,
            ordered_at,
            total,
            lines=lines,
            channel=channel,
            region=region,
            actor=actor,
        )
        return self._run(command, Order)

    def record_refund(
        self,
        source: str,
        order_ref: str,
        refund_ref: str,
        amount: Money,
        refunded_at: datetime,
        *,
        reason: str | None = None,
        actor: str | None = None,
    ) -> Order:
        """Record a refund of a reported order (idempotent by ``refund_ref``); return the order.

        Refunds never add up to more than the order
        (:class:`~crmkit.customers.RefundExceedsOrder`).

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> at = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
            >>> _ = crm.record_order(tea.id, "shop", "#1001", at, Money("1200", "TWD"))
            >>> crm.record_refund("shop", "#1001", "rf-1", Money("200", "TWD"), at).net
            Money('1000', 'TWD')

        .. versionadded:: 0.1.0
        """
        command = RecordRefund(
            source, order_ref, refund_ref, amount, refunded_at, reason=reason, actor=actor
        )
        return self._run(command, Order)

    # ----- dedup and merge -----------------------------------------------------------------
    def find_duplicates(
        self, rules: MatchRules | None = None, *, actor: str | None = None
    ) -> DuplicateScan:
        """Scan every live customer for duplicates and queue the pairs found for review.

        ``rules`` default to :data:`crmkit.customers.dedup.DEFAULT_RULES` (fuzzy rules need
        ``crmkit[dedup]``). Pairs already dismissed or merged stay as they are.

        Example:
            >>> from crmkit.app.merge import _example
            >>> scan = _example().find_duplicates()
            >>> print(scan.result.pairs[0].explain())
            cus_000001 ~ cus_000002: score 0.85 (accept from 0.60)
              phone exact: '+886912345678' = '+886912345678' (1.00) +0.60
              company fuzzy: 'formosa tea' ~ '台湾 formosa tea' (0.88) +0.25

        .. versionadded:: 0.1.0
        """
        return self._run(FindDuplicates(rules, actor=actor), DuplicateScan)

    def duplicate_reviews(
        self,
        status: ReviewStatus | str | None = ReviewStatus.PENDING,
        *,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[DuplicateReview]:
        """Return one page of the review queue, highest score first (``status=None``: all).

        Example:
            >>> from crmkit.app.merge import _example
            >>> crm = _example()
            >>> _ = crm.find_duplicates()
            >>> [(r.customer_ids, str(r.score)) for r in crm.duplicate_reviews().items]
            [(('cus_000001', 'cus_000002'), '0.85')]

        .. versionadded:: 0.1.0
        """
        query = Query().order("-score", "id").take(limit)
        if status is not None:
            wanted = v.to_enum(ReviewStatus, "status")(status)
            query = query.filter("status", Op.EQ, wanted.value)
        if cursor is not None and not isinstance(cursor, str):
            raise ValidationError(
                f"must be a cursor string or None, not {type(cursor).__name__}", path="cursor"
            )
        with self.store.unit_of_work() as uow:
            return uow.duplicate_reviews.query(query.after(cursor))

    def dismiss_duplicate(
        self, review_id: str, *, note: str | None = None, actor: str | None = None
    ) -> DuplicateReview:
        """Say a queued pair is not a duplicate; it stays dismissed when found again.

        Example:
            >>> from crmkit.app.merge import _example
            >>> crm = _example()
            >>> review_id = crm.find_duplicates().queued[0]
            >>> crm.dismiss_duplicate(review_id).status.value
            'dismissed'

        .. versionadded:: 0.1.0
        """
        return self._run(DismissDuplicate(review_id, note, actor=actor), DuplicateReview)

    def preview_merge(
        self,
        survivor_id: str,
        merged_ids: Iterable[str],
        *,
        survivorship: Survivorship | None = None,
        actor: str | None = None,
    ) -> MergePlan:
        """The dry run of :meth:`merge_customers`: the survivor as it would be, every move.

        Example:
            >>> from crmkit.app.merge import _example
            >>> plan = _example().preview_merge("cus_000001", ["cus_000002"])
            >>> plan.survivor.tags, len(plan.moves)
            (('tea', 'vip'), 1)

        .. versionadded:: 0.1.0
        """
        command = PreviewMerge(survivor_id, merged_ids, survivorship=survivorship, actor=actor)
        return self._run(command, MergePlan)

    def merge_customers(
        self,
        survivor_id: str,
        merged_ids: Iterable[str],
        *,
        survivorship: Survivorship | None = None,
        actor: str | None = None,
    ) -> MergePlan:
        """Merge customers into ``survivor_id``: fields, related records, tombstones, record.

        Example:
            >>> from crmkit.app.merge import _example
            >>> crm = _example()
            >>> plan = crm.merge_customers("cus_000001", ["cus_000002"])
            >>> [c.name for c in crm.contacts_of("cus_000001")]
            ['Amy Chen', 'Amy Chen']

        .. versionadded:: 0.1.0
        """
        command = MergeCustomers(survivor_id, merged_ids, survivorship=survivorship, actor=actor)
        return self._run(command, MergePlan)

    def resolve_customer(self, id: str) -> Customer:
        """Return the customer with ``id``, or, if it was merged, the customer it survives in.

        Example:
            >>> from crmkit.app.merge import _example
            >>> crm = _example()
            >>> _ = crm.merge_customers("cus_000001", ["cus_000002"])
            >>> crm.resolve_customer("cus_000002").id
            'cus_000001'

        .. versionadded:: 0.1.0
        """
        check_id(id, "id")
        with self.store.unit_of_work() as uow:
            return resolve_id(id, uow.customers.get)

    # ----- reads -------------------------------------------------------------------------
    def get_customer(self, id: str, *, actor: str | None = None) -> Customer:
        """Return the customer with ``id`` (``NotFoundError`` if there is none).

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> crm.get_customer(tea.id).name
            'Formosa Tea Co.'
            >>> crm.get_customer("cus_404")
            Traceback (most recent call last):
            ...
            crmkit.errors.NotFoundError: ...

        .. versionadded:: 0.1.0
        """
        check_id(id, "id")
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            found = uow.customers.get(id)
            return _access.visible(self.policy, actor, "customers.read", "customers", found)

    def find_customers(
        self,
        *,
        name: str | None = None,
        tag: str | None = None,
        owner: str | None = None,
        lifecycle: Lifecycle | str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        actor: str | None = None,
    ) -> Page[Customer]:
        """Return one page of customers, sorted by name; every filter given must hold.

        Args:
            name: the name starts with this, ignoring case (blank means no filter).
            tag: the customer has this tag (ASCII tags ignore case; blank means no filter).
            owner: the customer is owned by this user id.
            lifecycle: ``"prospect"``, ``"active"``, ``"at_risk"`` or ``"churned"``.
            limit: page size, 1 to 1000.
            cursor: ``next_cursor`` of the previous page, to get the next one.
            actor: the user reading (``None``: the system). Only the records they may
                read are on the page (so it may hold fewer than ``limit``), masked for them.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> for name in ["Formosa Tea Co.", "Huangpu Trading", "Formosa Oolong Ltd."]:
            ...     _ = crm.register_customer(name)
            >>> page = crm.find_customers(name="formosa", limit=1)
            >>> [c.name for c in page.items]
            ['Formosa Oolong Ltd.']
            >>> [c.name for c in crm.find_customers(name="formosa", cursor=page.next_cursor).items]
            ['Formosa Tea Co.']

        .. versionadded:: 0.1.0
        """
        query = Query().order("name_folded").take(limit)
        prefix = _optional_search_text(name, "name")
        if prefix is not None:
            query = query.filter("name_folded", Op.STARTSWITH, prefix.casefold())
        wanted_tag = _optional_search_text(tag, "tag")
        if wanted_tag is not None:
            folded = wanted_tag.casefold() if wanted_tag.isascii() else wanted_tag
            query = query.filter("tags", Op.CONTAINS, folded)
        if owner is not None:
            query = query.filter("owner", Op.EQ, check_id(owner, "owner"))
        if lifecycle is not None:
            stage = v.to_enum(Lifecycle, "lifecycle")(lifecycle)
            query = query.filter("lifecycle", Op.EQ, stage.value)
        if cursor is not None and not isinstance(cursor, str):
            raise ValidationError(
                f"must be a cursor string or None, not {type(cursor).__name__}", path="cursor"
            )
        query = query.after(cursor)
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            page = uow.customers.query(query)
            return _access.visible_page(
                self.policy, actor, "customers.find", "customers.read", "customers", page
            )

    def contacts_of(self, customer_id: str, *, actor: str | None = None) -> list[Contact]:
        """Return a customer's contacts, oldest first (``NotFoundError`` for no such customer).

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> _ = crm.add_contact(tea.id, "Lin Mei-ling")
            >>> _ = crm.add_contact(tea.id, "Chen Wei")
            >>> [c.name for c in crm.contacts_of(tea.id)]
            ['Lin Mei-ling', 'Chen Wei']

        .. versionadded:: 0.1.0
        """
        check_id(customer_id, "customer_id")
        query = Query.where(customer_id=customer_id).take(1000)
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            customer = uow.customers.get(customer_id)
            _access.check_read(self.policy, actor, "customers.read_contacts", customer)
            found = _all_pages(uow.contacts.query, query)
            return [_access.masked(self.policy, actor, "contacts", c) for c in found]

    def timeline(self, customer_id: str, *, actor: str | None = None) -> list[Interaction]:
        """Return a customer's interactions, newest first (``NotFoundError`` for no customer).

        Example:
            >>> from datetime import timedelta
            >>> from crmkit import bootstrap, ManualClock
            >>> crm = bootstrap(clock=ManualClock())
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> _ = crm.log_interaction(tea.id, "call", "First call")
            >>> _ = crm.clock.advance(timedelta(days=1))
            >>> _ = crm.log_interaction(tea.id, "meeting", "Tasting")
            >>> [i.summary for i in crm.timeline(tea.id)]
            ['Tasting', 'First call']

        .. versionadded:: 0.1.0
        """
        check_id(customer_id, "customer_id")
        query = Query.where(customer_id=customer_id).order("-occurred_at", "-id").take(1000)
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            customer = uow.customers.get(customer_id)
            _access.check_read(self.policy, actor, "customers.read_timeline", customer)
            found = _all_pages(uow.interactions.query, query)
            return [_access.masked(self.policy, actor, "interactions", i) for i in found]

    def orders_of(self, customer_id: str, *, actor: str | None = None) -> list[Order]:
        """Return a customer's orders, latest first (``NotFoundError`` for no such customer).

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
            >>> for n in range(3):
            ...     _ = crm.record_order(tea.id, "pos", f"A-{n}", at + timedelta(days=n),
            ...                          Money(100 * (n + 1), "TWD"))
            >>> [o.external_ref for o in crm.orders_of(tea.id)]
            ['A-2', 'A-1', 'A-0']

        .. versionadded:: 0.1.0
        """
        check_id(customer_id, "customer_id")
        query = Query.where(customer_id=customer_id).order("-ordered_at", "-id").take(1000)
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            customer = uow.customers.get(customer_id)
            _access.check_read(self.policy, actor, "customers.read_orders", customer)
            found = _all_pages(uow.orders.query, query)
            return [_access.masked(self.policy, actor, "orders", o) for o in found]

    def customer_360(
        self,
        customer_id: str,
        *,
        at: datetime | None = None,
        timeline: int = 20,
        actor: str | None = None,
    ) -> Customer360:
        """Return everything about a customer, as ``actor`` may see it, in one read.

        See :class:`crmkit.app.customer360.Customer360`: profile, contacts, the latest
        ``timeline`` interactions and orders, open leads and opportunities, quotes, purchase
        summary, loyalty, open complaints with their SLA clocks, and segments.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> view = crm.customer_360(tea.id)
            >>> view.profile["name"], view.purchases.order_count, view.complaints
            ('Formosa Tea Co.', 0, ())

        .. versionadded:: 0.1.0
        """
        command = ShowCustomer360(customer_id, at=at, timeline=timeline, actor=actor)
        return self._run(command, Customer360)

    def segment_customers(
        self, *, segment: str | None = None, at: datetime | None = None, actor: str | None = None
    ) -> list[CustomerSegments]:
        """Segment every customer with the configured rules; ``segment`` keeps one segment.

        Each result lists the rule segments (every condition explained), the RFM score (with
        the quintile boundaries), the lifecycle status and the "needs attention" flag.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> _ = crm.register_customer("Formosa Tea Co.")
            >>> [s.lifecycle.status.value for s in crm.segment_customers()]
            ['prospect']

        .. versionadded:: 0.1.0
        """
        command = ShowSegments(segment, at=at, actor=actor)
        return cast("list[CustomerSegments]", self.bus.handle(command))

    def get_lead(self, id: str, *, actor: str | None = None) -> Lead:
        """Return the lead with ``id`` (``NotFoundError`` if there is none).

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> lead = crm.capture_lead("ads", email="amy@acme.example").lead
            >>> crm.get_lead(lead.id).email
            'amy@acme.example'

        .. versionadded:: 0.1.0
        """
        check_id(id, "id")
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            found = uow.leads.get(id)
            return _access.visible(self.policy, actor, "leads.read", "leads", found)

    def find_leads(
        self,
        *,
        status: LeadStatus | str | None = None,
        owner: str | None = None,
        open: bool | None = None,
        campaign: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        actor: str | None = None,
    ) -> Page[Lead]:
        """Return one page of leads, newest capture first; every filter given must hold.

        Args:
            status: ``"new"``, ``"working"``, ``"nurturing"``, ``"qualified"``,
                ``"disqualified"`` or ``"converted"``.
            owner: the lead is owned by this user id.
            open: ``True`` for leads still in play, ``False`` for converted or disqualified.
            campaign: one of the lead's captures came from this campaign.
            limit: page size, 1 to 1000.
            cursor: ``next_cursor`` of the previous page, to get the next one.
            actor: the user reading (``None``: the system). Only the records they may
                read are on the page (so it may hold fewer than ``limit``), masked for them.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> for n in range(3):
            ...     _ = crm.capture_lead("ads", email=f"p{n}@acme.example", campaign="spring")
            >>> page = crm.find_leads(campaign="spring", open=True, limit=2)
            >>> len(page.items), page.next_cursor is not None
            (2, True)

        .. versionadded:: 0.1.0
        """
        query = Query().order("-captured_at", "-id").take(limit)
        if status is not None:
            query = query.filter("status", Op.EQ, v.to_enum(LeadStatus, "status")(status).value)
        if owner is not None:
            query = query.filter("owner", Op.EQ, check_id(owner, "owner"))
        if open is not None:
            if not isinstance(open, bool):
                raise ValidationError(
                    f"must be True, False or None, not {type(open).__name__}", path="open"
                )
            query = query.filter("is_open", Op.EQ, open)
        wanted = _optional_search_text(campaign, "campaign")
        if wanted is not None:
            query = query.filter("campaigns", Op.CONTAINS, wanted)
        if cursor is not None and not isinstance(cursor, str):
            raise ValidationError(
                f"must be a cursor string or None, not {type(cursor).__name__}", path="cursor"
            )
        query = query.after(cursor)
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            page = uow.leads.query(query)
            return _access.visible_page(
                self.policy, actor, "leads.find", "leads.read", "leads", page
            )

    def get_quote(self, id: str, *, actor: str | None = None) -> Quote:
        """Return the quote with ``id`` (``NotFoundError`` if there is none).

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> crm.get_quote(quote.id).lines[0].sku
            'TEA-500'

        .. versionadded:: 0.1.0
        """
        check_id(id, "id")
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            found = uow.quotes.get(id)
            return _access.visible(self.policy, actor, "quotes.read", "quotes", found)

    def find_quotes(
        self,
        *,
        customer_id: str | None = None,
        status: QuoteStatus | str | None = None,
        owner: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        actor: str | None = None,
    ) -> Page[Quote]:
        """Return one page of quotes, newest first; every filter given must hold.

        Args:
            customer_id: the quote is for this customer.
            status: ``"draft"``, ``"pending_approval"``, ``"approved"``, ``"sent"``,
                ``"accepted"``, ``"rejected"``, ``"expired"`` or ``"superseded"``.
            owner: the quote is owned by this user id.
            limit: page size, 1 to 1000.
            cursor: ``next_cursor`` of the previous page, to get the next one.
            actor: the user reading (``None``: the system). Only the records they may
                read are on the page (so it may hold fewer than ``limit``), masked for them.

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, quote = _example_crm()
            >>> _ = crm.revise_quote(quote.id)
            >>> [q.revision for q in crm.find_quotes(customer_id="cus_000001").items]
            [2, 1]
            >>> [q.id for q in crm.find_quotes(status="superseded").items] == [quote.id]
            True

        .. versionadded:: 0.1.0
        """
        query = Query().order("-created_at", "-id").take(limit)
        if customer_id is not None:
            query = query.filter("customer_id", Op.EQ, check_id(customer_id, "customer_id"))
        if status is not None:
            wanted = v.to_enum(QuoteStatus, "status")(status)
            query = query.filter("status", Op.EQ, wanted.value)
        if owner is not None:
            query = query.filter("owner", Op.EQ, check_id(owner, "owner"))
        if cursor is not None and not isinstance(cursor, str):
            raise ValidationError(
                f"must be a cursor string or None, not {type(cursor).__name__}", path="cursor"
            )
        query = query.after(cursor)
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            page = uow.quotes.query(query)
            return _access.visible_page(
                self.policy, actor, "quotes.find", "quotes.read", "quotes", page
            )

    def get_coupon(self, code: str, *, actor: str | None = None) -> Coupon:
        """Return the coupon with ``code`` (any case; ``NotFoundError`` if there is none).

        Example:
            >>> from crmkit.app.quotes import _example_crm
            >>> crm, _ = _example_crm()
            >>> coupon = crm.get_coupon("spring5")
            >>> coupon.code, coupon.times_used, coupon.usage_limit
            ('SPRING5', 0, 100)

        .. versionadded:: 0.1.0
        """
        with self.store.unit_of_work() as uow, _access.bound(uow, self.policy, actor):
            found = uow.coupons.get(Coupon.id_for(code))
            return _access.visible(self.policy, actor, "catalog.read", "coupons", found)

    # ----- audit log ---------------------------------------------------------------------
    def audit_trail(self, record_type: str, id: str) -> list[AuditEntry]:
        """Return every audit entry of one record, oldest first: who changed what, and when.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> acme = crm.register_customer("Acme", actor="usr_amy")
            >>> _ = crm.rename_customer(acme.id, "Acme Corp", actor="usr_bob")
            >>> [(e.actor, [(c.path, c.before.value, c.after.value) for c in e.changes])
            ...  for e in crm.audit_trail("customers", acme.id)[1:]]
            [('usr_bob', [('/name', 'Acme', 'Acme Corp')])]

        .. versionadded:: 0.1.0
        """
        with self.store.unit_of_work() as uow:
            return audit_app.audit_trail(uow, record_type, id)

    def audit_by_actor(
        self,
        actor: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[AuditEntry]:
        """Return one page of the audit entries ``actor`` caused, newest first.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> _ = crm.register_customer("Acme", actor="usr_amy")
            >>> [(e.record_type, e.command) for e in crm.audit_by_actor("usr_amy").items]
            [('customers', 'RegisterCustomer')]

        .. versionadded:: 0.1.0
        """
        with self.store.unit_of_work() as uow:
            return audit_app.audit_by_actor(
                uow, actor, since=since, until=until, limit=limit, cursor=cursor
            )

    def verify_audit(self) -> AuditReport:
        """Verify the whole audit log against the records; the report names each problem.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> _ = crm.register_customer("Acme")
            >>> report = crm.verify_audit()
            >>> report.ok, report.entries, report.records
            (True, 1, 1)

        .. versionadded:: 0.1.0
        """
        settings = self.bus.audit or audit_app.AuditSettings()
        with self.store.unit_of_work() as uow:
            return audit_app.verify_audit(uow, key=settings.key, exclude=settings.exclude)

    def pseudonymise_audit(
        self,
        record_type: str,
        id: str,
        *,
        paths: Iterable[str] | None = None,
        containing: Iterable[str] = (),
    ) -> int:
        """Drop values (keep digests) in one record's audit entries; return how many changed.

        For privacy requests: the chain still verifies. See
        :func:`crmkit.access.audit.pseudonymise` for ``paths`` and ``containing``.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> amy = crm.register_customer("Amy Lin", "person")
            >>> crm.pseudonymise_audit("customers", amy.id, containing=["amy lin"])
            1
            >>> crm.verify_audit().ok
            True

        .. versionadded:: 0.1.0
        """
        with self.store.unit_of_work() as uow:
            changed = audit_app.pseudonymise_trail(
                uow, record_type, id, paths=paths, containing=containing
            )
            uow.commit()
        return changed

    # ----- privacy requests ------------------------------------------------------------------
    def export_person(
        self,
        *,
        customer_id: str | None = None,
        contact_id: str | None = None,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Return everything crmkit holds about a person as one JSON-ready document.

        Give a person customer's id or a contact's id; action ``privacy.export``. See
        :func:`crmkit.app.privacy.export_person`.

        Example:
            >>> import json
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> amy = crm.register_customer("Amy Chen", "person")
            >>> json.loads(json.dumps(crm.export_person(customer_id=amy.id)))["subject"]
            {'customer_id': 'cus_...', 'contact_ids': [], 'lead_ids': []}

        .. versionadded:: 0.1.0
        """
        from crmkit.app.privacy import ExportPerson

        command = ExportPerson(customer_id=customer_id, contact_id=contact_id, actor=actor)
        return cast("dict[str, Any]", self.bus.handle(command))

    def erase_person(
        self,
        *,
        customer_id: str | None = None,
        contact_id: str | None = None,
        actor: str | None = None,
    ) -> ErasureReport:
        """Erase (anonymise) a person everywhere, in one unit of work; action ``privacy.erase``.

        See :func:`crmkit.app.privacy.erase_person`: amounts on quotes and orders and the
        points ledger stay; a leftover identifier anywhere fails the erasure, naming the path.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> amy = crm.register_customer("Amy Chen", "person")
            >>> crm.erase_person(customer_id=amy.id).records
            {'customers/cus_...': ('name',)}

        .. versionadded:: 0.1.0
        """
        from crmkit.app.privacy import ErasePerson

        command = ErasePerson(customer_id=customer_id, contact_id=contact_id, actor=actor)
        return self._run(command, ErasureReport)

    def apply_retention(
        self, *, now: datetime | None = None, actor: str | None = None
    ) -> RetentionRun:
        """Delete or anonymise the records past their retention period (``now`` default: now).

        See :func:`crmkit.app.privacy.apply_retention`; action ``privacy.erase``.

        Example:
            >>> from crmkit import bootstrap
            >>> bootstrap().apply_retention()
            RetentionRun(deleted=(), anonymised=())

        .. versionadded:: 0.1.0
        """
        from crmkit.app.privacy import ApplyRetention

        return self._run(ApplyRetention(now=now, actor=actor), RetentionRun)

    # ----- analytics -------------------------------------------------------------------------
    @property
    def analytics(self) -> Analytics:
        """The metrics of this CRM's store (sales pushed down into SQL when the store can).

        See :class:`crmkit.app.analytics.Analytics`; ``crm.analytics.with_rates(rates)``
        converts several currencies.

        Example:
            >>> from datetime import date
            >>> from crmkit import bootstrap
            >>> from crmkit.analytics import Periods
            >>> sales = bootstrap().analytics.sales(Periods(date(2026, 1, 1), 1), currency="USD")
            >>> sales.win_rate.ratio
            Ratio(part=0, whole=0)

        .. versionadded:: 0.1.0
        """
        return Analytics(self.store, self.clock, self.policy)


def _all_pages(run: Callable[[Query], Page[A]], query: Query) -> list[A]:
    found: list[A] = []
    while True:
        page = run(query)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        query = query.after(page.next_cursor)
