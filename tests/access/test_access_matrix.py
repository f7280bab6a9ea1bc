"""The access matrix: every command on the bus x every built-in role x own / team / other /
other-tenant record, plus the facade's reads with masking.

The expected answer of each cell comes from the rules as data (the role's level for the
action's record type and operation) and the scenario: ``own`` is reached by ``own``, ``team``
and ``all``; ``team`` by ``team`` and ``all``; ``other`` only by ``all``; a record of another
tenant by nobody. Every case names the action its handler must check, and a spy policy proves
the handler checked exactly that. A denied command must change nothing in either tenant's
store. A command registered on the bus without a case here fails
``test_every_command_on_the_bus_has_a_case``, so no new use case slips past access control.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

from crmkit.access import AccessRules, Actor, Level, RoleBasedPolicy, StaticActorDirectory
from crmkit.app import CRM
from crmkit.app.bootstrap import bootstrap
from crmkit.app.loyalty import _example_program, _example_settings
from crmkit.app.merge import DismissDuplicate, FindDuplicates, MergeCustomers, PreviewMerge
from crmkit.app.privacy import ApplyRetention, ErasePerson, ExportPerson
from crmkit.app.quotes import PricingSettings
from crmkit.app.service import _example_settings as _service_settings
from crmkit.app.tenants import UnitOfWorkOwners
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
from crmkit.customers.purchases import OrderLine
from crmkit.errors import CRMError, NotFoundError, PermissionDeniedError
from crmkit.kernel.ids import SequentialIds
from crmkit.kernel.money import Money
from crmkit.kernel.query import Query
from crmkit.kernel.time import ManualClock
from crmkit.leads.commands import (
    AnswerQualification,
    AssignLead,
    CaptureLead,
    ConvertLead,
    DisqualifyLead,
    LogLeadActivity,
    MarkLeadContacted,
    NurtureLead,
    QualifyLead,
    RecycleLead,
    ScoreLead,
    StartWorkingLead,
)
from crmkit.leads.scoring import RegionRule, ScoringModel
from crmkit.loyalty import EarnOrder, referral_code
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
from crmkit.pricing import Coupon, ManualDiscount, QuoteLine
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
from crmkit.pricing.engine import _example_setup
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
from crmkit.service.maintenance import Equipment, ServicePlan

RULES = AccessRules.builtin()
ROLES = ("rep", "manager", "service_agent", "auditor", "admin")
SCENARIOS = ("own", "team", "other", "other_tenant")
START = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
HOME, AWAY = "acme", "globex"


def _directory() -> StaticActorDirectory:
    actors = [Actor(id=f"u_{role}", roles=[role], teams=["north"], tenant=HOME) for role in ROLES]
    actors += [
        Actor(id="u_mate", roles=["rep"], teams=["north"], tenant=HOME),
        Actor(id="u_other", roles=["rep"], teams=["south"], tenant=HOME),
        Actor(id="u_far", roles=["admin"], teams=["north"], tenant=AWAY),
    ]
    return StaticActorDirectory(actors)


class SpyPolicy:
    """Records every action checked, then lets the real policy decide."""

    def __init__(self, inner: RoleBasedPolicy) -> None:
        self.inner = inner
        self.actions: list[str] = []

    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        if actor is not None:
            self.actions.append(action)
        self.inner.check(actor, action, resource)

    def mask(self, actor: str | None, record_type: str, document: dict[str, Any]) -> dict[str, Any]:
        return self.inner.mask(actor, record_type, document)


class World:
    """Two tenants with a catalog, a loyalty program and service settings each."""

    def __init__(self) -> None:
        self.clock = ManualClock(START)
        self.ids = SequentialIds()  # one sequence: no id is in both tenants
        directory = _directory()
        self.spies: dict[str, SpyPolicy] = {}
        self.crms: dict[str, CRM] = {}
        for tenant in (HOME, AWAY):
            catalog, rule_set, tax, _ = _example_setup()  # fresh objects per store
            spy = SpyPolicy(
                RoleBasedPolicy(RULES, directory, tenant=tenant, owners=UnitOfWorkOwners())
            )
            crm = bootstrap(
                policy=spy,
                clock=self.clock,
                ids=self.ids,
                pricing=PricingSettings(tax=tax, rule_set_id=rule_set.id),
                service=attrs.evolve(_service_settings(), assignment=None),
                loyalty=_example_settings(),
            )
            self.spies[tenant] = spy
            self.crms[tenant] = crm
            with crm.store.unit_of_work() as uow:
                uow.products.add_many(catalog.products)
                uow.price_books.add_many(catalog.price_books)
                uow.discount_rule_sets.add(rule_set)
                uow.coupons.add(
                    Coupon(
                        code="SPRING5",
                        name="Spring 5%",
                        percent=5,
                        created_at=START,
                        usage_limit=100,
                    )
                )
                uow.commit()
            crm.save_loyalty_program(_example_program())
        self._n = itertools.count(1)

    def crm(self, tenant: str) -> CRM:
        return self.crms[tenant]

    def n(self) -> int:
        return next(self._n)

    # ----- records, made by the system (actor None) or the tenant's admin ---------------------
    @staticmethod
    def admin(crm: CRM) -> str:
        assert isinstance(crm.policy, SpyPolicy)
        return "u_admin" if crm.policy.inner.tenant == HOME else "u_far"

    def customer(self, crm: CRM, owner: str) -> str:
        return crm.register_customer(f"Customer {self.n()}", owner=owner).id

    def contact(self, crm: CRM, owner: str) -> str:
        customer = self.customer(crm, owner)
        return crm.add_contact(
            customer, "Amy Lin", emails=["amy@example.com"], phones=["+886912345678"]
        ).id

    def lead(self, crm: CRM, owner: str, *, working: bool = False) -> str:
        n = self.n()
        lead = crm.capture_lead(
            "web_form",
            name=f"Bo Chen {n}",
            email=f"bo{n}@example.com",
            company=f"Bo Tea {n}",
            owner=owner,
        ).lead
        if working:
            crm.start_working_lead(lead.id)
        return lead.id

    def quote(
        self, crm: CRM, owner: str, *, percent: int | None = None, quote_owner: str | None = None
    ) -> str:
        customer = self.customer(crm, owner)
        discount = None if percent is None else ManualDiscount(percent=percent)
        line = QuoteLine(line_id="l1", sku="TEA-500", quantity=60, discount=discount)
        quote_owner = owner if quote_owner is None else quote_owner
        return crm.create_quote(customer, "TWD", owner=quote_owner, lines=[line]).id

    def sent_quote(self, crm: CRM, owner: str) -> str:
        quote = self.quote(crm, owner)
        crm.price_quote(quote)
        crm.submit_quote(quote)
        crm.send_quote(quote)
        return quote

    def pending_quote(self, crm: CRM, owner: str) -> str:
        # nobody approves the discount on a quote they own: on the actor's own customer, the
        # quote is a teammate's (still the actor's record: they own its customer)
        quote_owner = owner if owner in ("u_mate", "u_other", "u_far") else "u_mate"
        quote = self.quote(crm, owner, percent=15, quote_owner=quote_owner)
        crm.price_quote(quote)
        crm.submit_quote(quote)
        return quote

    def case(self, crm: CRM, owner: str, *, state: str = "new") -> str:
        customer = self.customer(crm, owner)
        case = crm.file_complaint(
            customer, "Parcel never arrived", category="delivery", channel="email", owner=owner
        ).id
        if state in ("acknowledged", "working", "resolved", "closed"):
            crm.acknowledge_complaint(case)
        if state in ("working", "resolved", "closed"):
            crm.start_complaint_work(case)
        if state in ("resolved", "closed"):
            crm.resolve_complaint(case, "Re-shipped")
        if state == "closed":
            crm.close_complaint(case)
        return case

    def member(self, crm: CRM, owner: str, *, points: int = 0) -> str:
        customer = self.customer(crm, owner)
        crm.enroll_member(customer)
        if points:
            crm.adjust_points(
                customer,
                points,
                reference=f"welcome-{self.n()}",
                reason="welcome",
                actor=self.admin(crm),
            )
        return customer

    def contract(self, crm: CRM, owner: str) -> str:
        customer = self.customer(crm, owner)
        return crm.sign_maintenance_contract(
            customer,
            [
                Equipment(
                    serial="AC-0042", model="Daikin", site="Office", installed_on=date(2025, 10, 9)
                )
            ],
            ServicePlan(name="half-yearly", rule="FREQ=MONTHLY;INTERVAL=6"),
            starts_on=date(2025, 10, 9),
            ends_on=date(2027, 10, 8),
        ).id

    def work_order(self, crm: CRM, owner: str, *, started: bool = False) -> str:
        contract = self.contract(crm, owner)
        job = crm.open_work_order(
            "AC-0042", "maintenance", "half-yearly service", contract_id=contract
        ).id
        now = self.clock.now()
        crm.dispatch_work_order(job, owner, start=now, end=now + timedelta(hours=2))
        if started:
            crm.start_work_order(job)
        return job

    def order(self, crm: CRM, owner: str) -> tuple[str, str]:
        customer = self.customer(crm, owner)
        ref = f"#{self.n()}"
        crm.handle(
            RecordOrder(
                customer,
                "shop",
                ref,
                START,
                Money("600", "TWD"),
                lines=[
                    OrderLine(sku="TEA-500", name="Oolong", quantity=1, amount=Money("600", "TWD"))
                ],
            )
        )
        return customer, ref


#: A case builds the records a command needs (owned by ``owner``) and returns the command
#: for an actor. ``scoped=False``: the command acts on no particular record.
Build = Callable[[World, CRM, str], Callable[[str], object]]


@attrs.frozen
class Case:
    action: str
    build: Build
    scoped: bool = True


CASES: dict[type, Case] = {}


def case(command: type, action: str, *, scoped: bool = True) -> Callable[[Build], Build]:
    def register(build: Build) -> Build:
        assert command not in CASES, command
        CASES[command] = Case(action, build, scoped)
        return build

    return register


# ----- customers ---------------------------------------------------------------------------
@case(RegisterCustomer, "customers.register", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    return lambda actor: RegisterCustomer("New Co", "company", actor=actor)


@case(AddContact, "customers.add_contact")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    customer = w.customer(crm, owner)
    return lambda actor: AddContact(customer, "Amy", actor=actor)


@case(LogInteraction, "customers.log_interaction")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    customer = w.customer(crm, owner)
    return lambda actor: LogInteraction(customer, "call", "Asked for a quote", actor=actor)


@case(RenameCustomer, "customers.rename")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    customer = w.customer(crm, owner)
    return lambda actor: RenameCustomer(customer, "Renamed", actor=actor)


@case(TagCustomer, "customers.tag")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    customer = w.customer(crm, owner)
    return lambda actor: TagCustomer(customer, add=["vip"], actor=actor)


@case(AssignCustomerOwner, "customers.assign_owner")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    customer = w.customer(crm, owner)
    return lambda actor: AssignCustomerOwner(customer, "u_mate", actor=actor)


@case(RecordConsent, "customers.record_consent")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    contact = w.contact(crm, owner)
    return lambda actor: RecordConsent(contact, "email", True, "web form", actor=actor)


@case(SetContactPreferences, "customers.set_contact_preferences")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    contact = w.contact(crm, owner)
    return lambda actor: SetContactPreferences(contact, timezone="Asia/Taipei", actor=actor)


@case(RecordOrder, "customers.record_order")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    customer = w.customer(crm, owner)
    ref = f"#{w.n()}"
    return lambda actor: RecordOrder(customer, "shop", ref, START, Money("600", "TWD"), actor=actor)


@case(RecordRefund, "customers.record_refund")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    _customer, ref = w.order(crm, owner)
    return lambda actor: RecordRefund(
        "shop", ref, f"r{w.n()}", Money("100", "TWD"), START, actor=actor
    )


@case(ShowCustomer360, "customers.read")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    customer = w.customer(crm, owner)
    return lambda actor: ShowCustomer360(customer, actor=actor)


@case(ShowSegments, "customers.segment", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    return lambda actor: ShowSegments(actor=actor)


@case(FindDuplicates, "customers.find_duplicates", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    return lambda actor: FindDuplicates(actor=actor)


def _duplicates(w: World, crm: CRM, owner: str) -> tuple[str, str]:
    n = w.n()
    phone = f"+8869{n:08d}"
    first = crm.register_customer(f"Twin Tea {n} Co.", owner=owner).id
    second = crm.register_customer(f"Twin Tea {n} Co., Ltd.", owner=owner).id
    crm.add_contact(first, "Twin Chen", phones=[phone])
    crm.add_contact(second, "Twin Chen", phones=[phone])
    return first, second


@case(DismissDuplicate, "customers.dismiss_duplicate", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    _duplicates(w, crm, owner)
    scan = crm.find_duplicates()
    review = (*scan.queued, *scan.updated)[-1]
    return lambda actor: DismissDuplicate(review, actor=actor)


@case(PreviewMerge, "customers.merge")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    first, second = _duplicates(w, crm, owner)
    return lambda actor: PreviewMerge(first, [second], actor=actor)


@case(MergeCustomers, "customers.merge")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    first, second = _duplicates(w, crm, owner)
    return lambda actor: MergeCustomers(first, [second], actor=actor)


@case(ExportPerson, "privacy.export", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    contact = w.contact(crm, owner)
    return lambda actor: ExportPerson(contact_id=contact, actor=actor)


@case(ErasePerson, "privacy.erase", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    contact = w.contact(crm, owner)
    return lambda actor: ErasePerson(contact_id=contact, actor=actor)


@case(ApplyRetention, "privacy.erase", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    return lambda actor: ApplyRetention(actor=actor)


# ----- leads -------------------------------------------------------------------------------
@case(CaptureLead, "leads.capture", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    email = f"new{w.n()}@example.com"
    return lambda actor: CaptureLead("web_form", email=email, actor=actor)


def _lead_case(command: type, action: str, make: Callable[[str, str], object], **kw: bool) -> None:
    @case(command, action)
    def build(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
        lead = w.lead(crm, owner, **kw)
        return lambda actor: make(lead, actor)


_lead_case(
    LogLeadActivity,
    "leads.log_activity",
    lambda lead, actor: LogLeadActivity(lead, "call", actor=actor),
)
_lead_case(
    MarkLeadContacted,
    "leads.mark_contacted",
    lambda lead, actor: MarkLeadContacted(lead, actor=actor),
)
_lead_case(
    ScoreLead,
    "leads.score",
    lambda lead, actor: ScoreLead(
        lead, model=ScoringModel(name="geo", regions=[RegionRule("home", ["TW"], 10)]), actor=actor
    ),
)
_lead_case(
    AnswerQualification,
    "leads.answer_qualification",
    lambda lead, actor: AnswerQualification(lead, "budget", evidence="NT$1M", actor=actor),
)
_lead_case(
    StartWorkingLead, "leads.start_working", lambda lead, actor: StartWorkingLead(lead, actor=actor)
)
_lead_case(
    NurtureLead, "leads.nurture", lambda lead, actor: NurtureLead(lead, actor=actor), working=True
)
_lead_case(
    DisqualifyLead,
    "leads.disqualify",
    lambda lead, actor: DisqualifyLead(lead, "no_budget", actor=actor),
    working=True,
)
_lead_case(AssignLead, "leads.assign", lambda lead, actor: AssignLead(lead, "u_mate", actor=actor))


@case(QualifyLead, "leads.qualify")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    lead = w.lead(crm, owner, working=True)
    return lambda actor: QualifyLead(lead, actor=actor)


@case(ConvertLead, "leads.convert")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    lead = w.lead(crm, owner, working=True)
    crm.qualify_lead(lead)
    return lambda actor: ConvertLead(lead, actor=actor)


@case(RecycleLead, "leads.recycle")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    lead = w.lead(crm, owner, working=True)
    crm.disqualify_lead(lead, "no_budget")
    w.clock.advance(timedelta(days=91))
    return lambda actor: RecycleLead(lead, actor=actor)


# ----- catalog and quotes ------------------------------------------------------------------
@case(UpsertProduct, "catalog.manage", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    product = _example_setup()[0].products[0]
    return lambda actor: UpsertProduct(product, actor=actor)


@case(UpsertPriceBook, "catalog.manage", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    book = _example_setup()[0].price_books[0]
    return lambda actor: UpsertPriceBook(book, actor=actor)


@case(SaveDiscountRuleSet, "catalog.manage", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    rule_set = _example_setup()[1]
    return lambda actor: SaveDiscountRuleSet(rule_set, actor=actor)


@case(CreateCoupon, "catalog.manage", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    code = f"NEW{w.n()}"
    return lambda actor: CreateCoupon(
        Coupon(code=code, name="New", percent=5, created_at=START), actor=actor
    )


@case(CreateQuote, "quotes.create")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    customer = w.customer(crm, owner)
    return lambda actor: CreateQuote(customer, "TWD", actor=actor)


def _quote_case(
    command: type, action: str, make: Callable[[str, str], object], state: str = "draft"
) -> None:
    @case(command, action)
    def build(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
        if state == "sent":
            quote = w.sent_quote(crm, owner)
        elif state == "pending":
            quote = w.pending_quote(crm, owner)
        elif state == "coupon":
            quote = w.quote(crm, owner)
            crm.apply_coupon(quote, "SPRING5")
        elif state == "due":
            quote = w.sent_quote(crm, owner)
            w.clock.advance(timedelta(days=31))
        elif state == "priced":
            quote = w.quote(crm, owner)
            crm.price_quote(quote)
        else:
            quote = w.quote(crm, owner)
        return lambda actor: make(quote, actor)


_quote_case(
    AddQuoteLine,
    "quotes.edit",
    lambda q, actor: AddQuoteLine(q, "TEA-500", 1, line_id="l2", actor=actor),
)
_quote_case(
    UpdateQuoteLine,
    "quotes.edit",
    lambda q, actor: UpdateQuoteLine(
        q, QuoteLine(line_id="l1", sku="TEA-500", quantity=70), actor=actor
    ),
)
_quote_case(RemoveQuoteLine, "quotes.edit", lambda q, actor: RemoveQuoteLine(q, "l1", actor=actor))
_quote_case(ApplyCoupon, "quotes.edit", lambda q, actor: ApplyCoupon(q, "SPRING5", actor=actor))
_quote_case(
    RemoveCoupon,
    "quotes.edit",
    lambda q, actor: RemoveCoupon(q, "SPRING5", actor=actor),
    state="coupon",
)
_quote_case(
    SetQuoteDiscount,
    "quotes.edit",
    lambda q, actor: SetQuoteDiscount(q, ManualDiscount(percent=5), actor=actor),
)
_quote_case(PriceQuote, "quotes.price", lambda q, actor: PriceQuote(q, actor=actor))
_quote_case(
    SubmitQuote, "quotes.submit", lambda q, actor: SubmitQuote(q, actor=actor), state="priced"
)
_quote_case(
    ApproveQuote,
    "quotes.approve",
    lambda q, actor: ApproveQuote(q, "sales_manager", actor=actor),
    state="pending",
)
_quote_case(
    RejectQuoteApproval,
    "quotes.approve",
    lambda q, actor: RejectQuoteApproval(q, "sales_manager", actor=actor),
    state="pending",
)
_quote_case(
    AcceptQuote, "quotes.accept", lambda q, actor: AcceptQuote(q, actor=actor), state="sent"
)
_quote_case(
    RejectQuote, "quotes.reject", lambda q, actor: RejectQuote(q, actor=actor), state="sent"
)
_quote_case(ExpireQuote, "quotes.expire", lambda q, actor: ExpireQuote(q, actor=actor), state="due")
_quote_case(
    ReviseQuote, "quotes.revise", lambda q, actor: ReviseQuote(q, actor=actor), state="sent"
)


@case(SendQuote, "quotes.send")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    quote = w.quote(crm, owner)
    crm.price_quote(quote)
    crm.submit_quote(quote)
    return lambda actor: SendQuote(quote, actor=actor)


@case(ExpireDueQuotes, "quotes.expire", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    return lambda actor: ExpireDueQuotes(actor=actor)


# ----- service -----------------------------------------------------------------------------
@case(FileComplaint, "service.file")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    customer = w.customer(crm, owner)
    return lambda actor: FileComplaint(
        customer, "Broken lid", category="product", channel="phone", actor=actor
    )


def _case_case(
    command: type, action: str, make: Callable[[str, str], object], state: str = "new"
) -> None:
    @case(command, action)
    def build(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
        case_id = w.case(crm, owner, state=state)
        return lambda actor: make(case_id, actor)


_case_case(
    AcknowledgeComplaint,
    "service.acknowledge",
    lambda c, actor: AcknowledgeComplaint(c, actor=actor),
)
_case_case(
    AssignComplaint, "service.assign", lambda c, actor: AssignComplaint(c, "u_mate", actor=actor)
)
_case_case(
    ReplyToComplaint,
    "service.reply",
    lambda c, actor: ReplyToComplaint(c, "We are on it", actor=actor),
    "acknowledged",
)
_case_case(
    RecordCustomerMessage,
    "service.customer_message",
    lambda c, actor: RecordCustomerMessage(c, "Any news?", actor=actor),
    "acknowledged",
)
_case_case(
    AddComplaintNote,
    "service.note",
    lambda c, actor: AddComplaintNote(c, "Called the carrier", actor=actor),
)
_case_case(
    StartComplaintWork,
    "service.work",
    lambda c, actor: StartComplaintWork(c, actor=actor),
    "acknowledged",
)
_case_case(
    ResolveComplaint,
    "service.resolve",
    lambda c, actor: ResolveComplaint(c, "Re-shipped", actor=actor),
    "working",
)
_case_case(
    CloseComplaint, "service.close", lambda c, actor: CloseComplaint(c, actor=actor), "resolved"
)
_case_case(
    ReopenComplaint,
    "service.reopen",
    lambda c, actor: ReopenComplaint(c, "Still broken", actor=actor),
    "resolved",
)
_case_case(
    CancelComplaint,
    "service.cancel",
    lambda c, actor: CancelComplaint(c, "spam", note="Spam mail", actor=actor),
)
_case_case(
    GrantCompensation,
    "service.compensate",
    lambda c, actor: GrantCompensation(
        c,
        reference="comp-1",
        kind="voucher",
        approver_role="team_lead",
        amount=Money("300", "TWD"),
        actor=actor,
    ),
    "acknowledged",
)
_case_case(RecordCsat, "service.csat", lambda c, actor: RecordCsat(c, 5, actor=actor), "closed")
_case_case(ShowComplaintSla, "service.read", lambda c, actor: ShowComplaintSla(c, actor=actor))


@case(ShowPublicComplaint, "service.view_public")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    reference = crm.get_complaint(w.case(crm, owner)).reference
    return lambda actor: ShowPublicComplaint(reference, actor=actor)


@case(CheckSlaBreaches, "service.check_sla", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    return lambda actor: CheckSlaBreaches(actor=actor)


@case(SaveBusinessCalendar, "service.configure", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    from crmkit.kernel.calendar import BusinessCalendar

    calendar = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00"))
    return lambda actor: SaveBusinessCalendar("cal_tpe", calendar, actor=actor)


@case(SaveSlaPolicySet, "service.configure", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    policies = _service_settings().sla
    return lambda actor: SaveSlaPolicySet("sla_main", policies, actor=actor)


@case(SignMaintenanceContract, "maintenance.sign")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    customer = w.customer(crm, owner)
    return lambda actor: SignMaintenanceContract(
        customer,
        [Equipment(serial="AC-1", model="Daikin", site="Office", installed_on=date(2025, 1, 2))],
        ServicePlan(name="yearly", rule="FREQ=YEARLY"),
        starts_on=date(2026, 1, 1),
        ends_on=date(2026, 12, 31),
        actor=actor,
    )


@case(RenewMaintenanceContract, "maintenance.renew")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    contract = w.contract(crm, owner)
    return lambda actor: RenewMaintenanceContract(contract, date(2029, 10, 8), actor=actor)


@case(OpenWorkOrder, "maintenance.work_orders")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    contract = w.contract(crm, owner)
    return lambda actor: OpenWorkOrder(
        "AC-0042", "repair", "Leaking", contract_id=contract, actor=actor
    )


def _job_case(command: type, make: Callable[[str, str], object], started: bool = False) -> None:
    @case(command, "maintenance.work_orders")
    def build(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
        job = w.work_order(crm, owner, started=started)
        return lambda actor: make(job, actor)


_job_case(
    DispatchWorkOrder,
    lambda j, actor: DispatchWorkOrder(
        j,
        "u_mate",
        start=START + timedelta(days=1),
        end=START + timedelta(days=1, hours=2),
        actor=actor,
    ),
)
_job_case(StartWorkOrder, lambda j, actor: StartWorkOrder(j, actor=actor))
_job_case(
    RecordWorkOrderPart,
    lambda j, actor: RecordWorkOrderPart(j, "FILTER-1", 1, actor=actor),
    started=True,
)
_job_case(
    CompleteWorkOrder, lambda j, actor: CompleteWorkOrder(j, "Cleaned", actor=actor), started=True
)
_job_case(CancelWorkOrder, lambda j, actor: CancelWorkOrder(j, "Customer away", actor=actor))


@case(ListUpcomingServices, "maintenance.read", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    return lambda actor: ListUpcomingServices(date(2026, 1, 1), date(2026, 12, 31), actor=actor)


@case(ListRenewalsDue, "maintenance.read", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    return lambda actor: ListRenewalsDue(date(2027, 9, 1), actor=actor)


# ----- loyalty -----------------------------------------------------------------------------
@case(SaveLoyaltyProgram, "loyalty.manage", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    return lambda actor: SaveLoyaltyProgram(_example_program(), actor=actor)


@case(EnrollMember, "loyalty.enroll")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    customer = w.customer(crm, owner)
    return lambda actor: EnrollMember(customer, actor=actor)


def _member_case(
    command: type, action: str, make: Callable[[str, str], object], points: int = 0
) -> None:
    @case(command, action)
    def build(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
        member = w.member(crm, owner, points=points)
        return lambda actor: make(member, actor)


_member_case(
    EarnForOrder,
    "loyalty.earn",
    lambda m, actor: EarnForOrder(m, EarnOrder.of("o_1", Money("12000", "TWD")), actor=actor),
)
_member_case(
    RecordActivity,
    "loyalty.earn",
    lambda m, actor: RecordActivity(m, "review", reference="rev_1", actor=actor),
)
_member_case(
    RedeemReward,
    "loyalty.redeem",
    lambda m, actor: RedeemReward(m, "v100", reference="rr_1", actor=actor),
    500,
)
_member_case(
    PayWithPoints,
    "loyalty.redeem",
    lambda m, actor: PayWithPoints(
        m, 200, order_total=Money("600", "TWD"), reference="pay_1", actor=actor
    ),
    500,
)
_member_case(
    AdjustPoints,
    "loyalty.adjust",
    lambda m, actor: AdjustPoints(m, 80, reference="adj_1", reason="late parcel", actor=actor),
)
_member_case(
    GrantTier,
    "loyalty.adjust",
    lambda m, actor: GrantTier(m, "silver", reference="g_1", reason="launch", actor=actor),
)
_member_case(ShowMembership, "loyalty.read", lambda m, actor: ShowMembership(m, actor=actor))
_member_case(ShowPointsBalance, "loyalty.read", lambda m, actor: ShowPointsBalance(m, actor=actor))


@case(RefundOrder, "loyalty.refund")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    member = w.member(crm, owner)
    crm.earn_for_order(member, EarnOrder.of("o_1", Money("999", "TWD")))
    return lambda actor: RefundOrder(
        member, "o_1", refund_id="rf_1", refunded=Money("999", "TWD"), actor=actor
    )


@case(ReverseRedemption, "loyalty.redeem")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    member = w.member(crm, owner, points=500)
    crm.pay_with_points(member, 200, order_total=Money("600", "TWD"), reference="pay_1")
    return lambda actor: ReverseRedemption(member, "pay_1", actor=actor)


@case(RegisterReferral, "loyalty.refer")
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    referrer = w.member(crm, "u_other")
    referee = w.member(crm, owner)
    code = referral_code("tea_club", referrer)
    return lambda actor: RegisterReferral(referee, code, actor=actor)


@case(AdvanceMemberships, "loyalty.schedule", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    return lambda actor: AdvanceMemberships(actor=actor)


@case(QualifyReferrals, "loyalty.schedule", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    return lambda actor: QualifyReferrals(actor=actor)


@case(ShowLoyaltyReport, "loyalty.read", scoped=False)
def _(w: World, crm: CRM, owner: str) -> Callable[[str], object]:
    return lambda actor: ShowLoyaltyReport(actor=actor)


# ----- the oracle --------------------------------------------------------------------------
def expected_allowed(role: str, entry: Case, scenario: str) -> bool:
    rule = RULES.action(entry.action)
    assert rule is not None, f"{entry.action} is not mapped by the built-in rules"
    level = RULES.level([role], rule.record_type, rule.operation)
    if scenario == "other_tenant":
        return False
    if not entry.scoped:
        if rule.operation == "create" or rule.listing:
            return level >= Level.OWN
        return level is Level.ALL
    needed = {"own": Level.OWN, "team": Level.TEAM, "other": Level.ALL}[scenario]
    return level >= needed


def snapshot(crm: CRM) -> dict[str, dict[str, int]]:
    """Every record's version, by record type, and the outbox length: what a change moves."""
    seen: dict[str, dict[str, int]] = {}
    with crm.store.unit_of_work() as uow:
        for record_type in crm.store.record_types:  # type: ignore[attr-defined]
            repo = uow.repository(record_type)  # type: ignore[attr-defined]
            versions: dict[str, int] = {}
            query = Query().take(1000)
            while True:
                page = repo.query(query)
                versions.update({item.id: item.version for item in page.items})
                if page.next_cursor is None:
                    break
                query = query.after(page.next_cursor)
            seen[record_type.name] = versions
    seen["outbox"] = {"entries": len(crm.store.outbox.pending(limit=1_000_000))}
    return seen


def owner_for(role: str, scenario: str) -> str:
    return {"own": f"u_{role}", "team": "u_mate", "other": "u_other", "other_tenant": "u_far"}[
        scenario
    ]


def test_every_command_on_the_bus_has_a_case() -> None:
    world = World()
    registered = set(world.crm(HOME).bus._command_handlers)
    missing = sorted(c.__name__ for c in registered - set(CASES))
    assert not missing, (
        f"commands without a case in the access matrix: {missing}; add a case to "
        "tests/access/test_access_matrix.py (and map its action in AccessRules)"
    )
    for entry in CASES.values():
        assert RULES.action(entry.action) is not None, entry.action


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize(
    "command", sorted(CASES, key=lambda c: c.__name__), ids=lambda c: c.__name__
)
def test_access_matrix(command: type, scenario: str) -> None:
    entry = CASES[command]
    world = World()
    home, away = world.crm(HOME), world.crm(AWAY)
    for role in ROLES:
        actor = f"u_{role}"
        owner = owner_for(role, scenario)
        where = away if scenario == "other_tenant" else home
        make = entry.build(world, where, owner)
        command_obj = make(actor)
        allowed = expected_allowed(role, entry, scenario)
        before = None if allowed else (snapshot(home), snapshot(away))
        if scenario == "other_tenant" and not entry.scoped:
            # no record to reach across: only the other tenant's CRM itself is left to try
            with pytest.raises(PermissionDeniedError, match="belongs to tenant 'acme'"):
                away.handle(command_obj)
            assert (snapshot(home), snapshot(away)) == before
            continue
        spy = world.spies[HOME]
        spy.actions.clear()
        try:
            if allowed:
                home.handle(command_obj)
            else:
                with pytest.raises((PermissionDeniedError, NotFoundError)) as denied:
                    home.handle(command_obj)
                if scenario != "other_tenant" or not entry.scoped:
                    assert denied.type is PermissionDeniedError
                    assert actor in str(denied.value)
                assert (snapshot(home), snapshot(away)) == before, "a denied command changed data"
            if scenario != "other_tenant":
                assert entry.action in spy.actions, f"checked {spy.actions}, not {entry.action}"
        except (CRMError, AssertionError) as exc:
            raise AssertionError(
                f"{command.__name__} as {role} on a {scenario} record: expected "
                f"{'allow' if allowed else 'deny'}, got {type(exc).__name__}: {exc}"
            ) from exc
        if scenario == "other_tenant":
            # the same actor through the other tenant's CRM is refused by its policy
            with pytest.raises(PermissionDeniedError, match="belongs to tenant 'acme'"):
                away.handle(make(actor))
            assert (snapshot(home), snapshot(away)) == before


def _customer_with_contact(w: World, crm: CRM, owner: str) -> str:
    customer = w.customer(crm, owner)
    crm.add_contact(customer, "Amy Lin", emails=["amy@example.com"])
    return customer


# ----- reads through the facade -------------------------------------------------------------
#: A read: the action it checks, how to make its record (owned by ``owner``), and how to read.
READS: dict[str, tuple[str, Callable[[World, CRM, str], str], Callable[[CRM, str, str], Any]]] = {
    "get_customer": (
        "customers.read",
        lambda w, crm, owner: w.customer(crm, owner),
        lambda crm, id, actor: crm.get_customer(id, actor=actor),
    ),
    "contacts_of": (
        "customers.read_contacts",
        lambda w, crm, owner: _customer_with_contact(w, crm, owner),
        lambda crm, id, actor: crm.contacts_of(id, actor=actor),
    ),
    "timeline": (
        "customers.read_timeline",
        lambda w, crm, owner: w.customer(crm, owner),
        lambda crm, id, actor: crm.timeline(id, actor=actor),
    ),
    "get_lead": (
        "leads.read",
        lambda w, crm, owner: w.lead(crm, owner),
        lambda crm, id, actor: crm.get_lead(id, actor=actor),
    ),
    "get_quote": (
        "quotes.read",
        lambda w, crm, owner: w.quote(crm, owner),
        lambda crm, id, actor: crm.get_quote(id, actor=actor),
    ),
    "get_complaint": (
        "service.read",
        lambda w, crm, owner: w.case(crm, owner),
        lambda crm, id, actor: crm.get_complaint(id, actor=actor),
    ),
    "get_maintenance_contract": (
        "maintenance.read",
        lambda w, crm, owner: w.contract(crm, owner),
        lambda crm, id, actor: crm.get_maintenance_contract(id, actor=actor),
    ),
    "get_work_order": (
        "maintenance.read_work_orders",
        lambda w, crm, owner: w.work_order(crm, owner),
        lambda crm, id, actor: crm.get_work_order(id, actor=actor),
    ),
    "orders_of": (
        "customers.read_orders",
        lambda w, crm, owner: w.order(crm, owner)[0],
        lambda crm, id, actor: crm.orders_of(id, actor=actor),
    ),
    "customer_360": (
        "customers.read",
        lambda w, crm, owner: w.customer(crm, owner),
        lambda crm, id, actor: crm.customer_360(id, actor=actor),
    ),
}

#: A listing: the per-record action, how to make a record, and whether a listing shows it.
FINDS: dict[str, tuple[str, Callable[[World, CRM, str], str], Callable[[CRM, str, str], bool]]] = {
    "find_customers": (
        "customers.read",
        lambda w, crm, owner: w.customer(crm, owner),
        lambda crm, id, actor: (
            id
            in [c.id for c in crm.find_customers(name=crm.get_customer(id).name, actor=actor).items]
        ),
    ),
    "find_leads": (
        "leads.read",
        lambda w, crm, owner: w.lead(crm, owner),
        lambda crm, id, actor: id in [x.id for x in crm.find_leads(limit=1000, actor=actor).items],
    ),
    "find_quotes": (
        "quotes.read",
        lambda w, crm, owner: w.quote(crm, owner),
        lambda crm, id, actor: (
            id
            in [
                q.id
                for q in crm.find_quotes(
                    customer_id=crm.get_quote(id).customer_id, actor=actor
                ).items
            ]
        ),
    ),
    "find_complaints": (
        "service.read",
        lambda w, crm, owner: w.case(crm, owner),
        lambda crm, id, actor: (
            id
            in [
                c.id
                for c in crm.find_complaints(
                    customer_id=crm.get_complaint(id).customer_id, actor=actor
                ).items
            ]
        ),
    ),
}


def _read_expected(role: str, action: str, scenario: str) -> bool:
    return expected_allowed(role, Case(action, lambda *_: lambda _a: None), scenario)


def test_every_read_is_in_the_matrix() -> None:
    for name, (action, _make, _read) in {**READS, **FINDS}.items():
        assert RULES.action(action) is not None, (name, action)


@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize("read", sorted(READS))
def test_read_matrix(read: str, scenario: str) -> None:
    action, make, run = READS[read]
    world = World()
    home, away = world.crm(HOME), world.crm(AWAY)
    for role in ROLES:
        actor = f"u_{role}"
        where = away if scenario == "other_tenant" else home
        record = make(world, where, owner_for(role, scenario))
        before = (snapshot(home), snapshot(away))
        if scenario == "other_tenant":
            with pytest.raises(NotFoundError):
                run(home, record, actor)
            with pytest.raises(PermissionDeniedError, match="belongs to tenant 'acme'"):
                run(away, record, actor)
        elif _read_expected(role, action, scenario):
            assert run(home, record, actor) is not None
        else:
            with pytest.raises(PermissionDeniedError, match=actor):
                run(home, record, actor)
        assert (snapshot(home), snapshot(away)) == before, "a read changed data"


@pytest.mark.parametrize("scenario", ["own", "team", "other"])
@pytest.mark.parametrize("find", sorted(FINDS))
def test_find_matrix_lists_exactly_the_readable_records(find: str, scenario: str) -> None:
    action, make, shows = FINDS[find]
    world = World()
    home = world.crm(HOME)
    for role in ROLES:
        actor = f"u_{role}"
        record = make(world, home, owner_for(role, scenario))
        rule = RULES.action(action)
        assert rule is not None
        if RULES.level([role], rule.record_type, rule.operation) is Level.NONE:
            with pytest.raises(PermissionDeniedError, match=f"grant no read on {rule.record_type}"):
                shows(home, record, actor)
        else:
            assert shows(home, record, actor) is _read_expected(role, action, scenario), role
        assert shows(home, record, None)  # the system sees everything


@pytest.mark.parametrize("find", sorted(FINDS))
def test_a_listing_refuses_actors_of_another_tenant(find: str) -> None:
    _action, make, shows = FINDS[find]
    world = World()
    away = world.crm(AWAY)
    record = make(world, away, "u_far")
    assert shows(away, record, "u_far")
    with pytest.raises(PermissionDeniedError, match="belongs to tenant 'acme'"):
        shows(away, record, "u_admin")


# ----- masking -------------------------------------------------------------------------------
def test_an_auditor_sees_contact_details_masked_and_a_rep_sees_them_whole() -> None:
    world = World()
    crm = world.crm(HOME)
    customer = world.customer(crm, "u_rep")
    crm.add_contact(
        customer,
        "Amy Lin",
        emails=["amy@example.com"],
        phones=["+886912345678"],
        birthday=date(1990, 5, 17),
    )
    (seen_by_auditor,) = crm.contacts_of(customer, actor="u_auditor")
    assert seen_by_auditor.emails == ("a***@example.com",)
    assert seen_by_auditor.phones == ("+8869****5678",)
    assert seen_by_auditor.birthday is None
    assert seen_by_auditor.name == "Amy Lin"
    (seen_by_rep,) = crm.contacts_of(customer, actor="u_rep")
    assert seen_by_rep.emails == ("amy@example.com",)
    assert seen_by_rep.birthday == date(1990, 5, 17)
    # masking made a copy: the stored contact is whole
    (stored,) = crm.contacts_of(customer)
    assert stored.phones == ("+886912345678",)


def test_an_auditor_sees_a_leads_email_and_phone_masked() -> None:
    world = World()
    crm = world.crm(HOME)
    lead = crm.capture_lead(
        "web_form", email="amy@example.com", phone="+886912345678", owner="u_rep"
    ).lead
    seen = crm.get_lead(lead.id, actor="u_auditor")
    assert (seen.email, seen.phone) == ("a***@example.com", "+8869****5678")
    page = crm.find_leads(actor="u_auditor")
    assert [(x.email, x.phone) for x in page.items] == [("a***@example.com", "+8869****5678")]
    assert crm.get_lead(lead.id, actor="u_manager").email == "amy@example.com"


def test_a_service_agent_sees_orders_and_quotes_without_amounts() -> None:
    world = World()
    crm = world.crm(HOME)
    customer, _ref = world.order(crm, "u_rep")
    view = crm.customer_360(customer, actor="u_service_agent")
    assert [order["total"] for order in view.orders] == [None]
    assert [order.total for order in crm.orders_of(customer, actor="u_service_agent")] == [None]
    assert all(line["amount"] is None for line in view.orders[0]["lines"])
    whole = crm.customer_360(customer, actor="u_manager")
    assert whole.orders[0]["total"] == {"amount": "600", "currency": "TWD"}
    document = {"id": "quo_1", "priced": {"total": {"amount": "10", "currency": "TWD"}}}
    assert crm.policy.mask("u_service_agent", "quotes", document) == {"id": "quo_1", "priced": None}
