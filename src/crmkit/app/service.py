"""Use cases of the service context: one handler per command in :mod:`crmkit.service.commands`.

Each handler checks the access policy, loads what it needs through the unit of work, calls the
pure rules of :mod:`crmkit.service`, stores the result and commits. A failed command stores
nothing. The actions and the resource the policy is shown:

| action                     | commands                                        | resource         |
|----------------------------|-------------------------------------------------|------------------|
| `service.file`             | file a complaint                                | the customer     |
| `service.acknowledge`      | acknowledge                                     | the case         |
| `service.assign`           | assign (by hand or by the rules)                | the case         |
| `service.reply`            | reply to the customer                           | the case         |
| `service.customer_message` | record the customer's message                   | the case         |
| `service.note`             | add an internal note                            | the case         |
| `service.work`             | start work                                      | the case         |
| `service.resolve`          | resolve                                         | the case         |
| `service.close`            | close                                           | the case         |
| `service.reopen`           | reopen                                          | the case         |
| `service.cancel`           | cancel as a duplicate or spam                   | the case         |
| `service.compensate`       | grant compensation                              | a request (1)    |
| `service.csat`             | record a CSAT score                             | the case         |
| `service.read`             | show a case's SLA status                        | the case         |
| `service.view_public`      | show a case as its customer sees it             | the case         |
| `service.check_sla`        | record due breaches and escalations             | `None`           |
| `service.configure`        | save a business calendar, an SLA policy set     | what is stored   |
| `maintenance.sign`         | sign a contract                                 | the customer     |
| `maintenance.renew`        | renew a contract                                | the contract     |
| `maintenance.work_orders`  | open (2), dispatch, start, record a part,       | the work order   |
|                            | complete, cancel a work order                   |                  |
| `maintenance.read`         | list upcoming visits, renewals due              | `None`           |

(1) a :class:`CompensationRequest`: the case, the kind, the amount and the approver's role, so
a host's policy can tell whether the actor holds that role. (2) opening shows the contract, or
the case, the work order is for (``None`` for neither).

**Filing** (:func:`file_complaint`) needs a stored customer (and, if given, a contact of that
customer). The category and the priority come from the complaint policy
(:attr:`ServiceSettings.complaints`); the customer tier from the command, else from the
:attr:`ServiceHooks.tier_lookup` hook (the loyalty context plugs in here); the owner from the
command, else from :attr:`ServiceSettings.assignment` (by category to a team, then round robin,
least loaded or by skill; round robin resumes after the latest case the team's routes
assigned, read from the store, so nothing else needs storing). A reference that exists returns
its case: an intake retried files nothing twice.

**SLA clocks** are computed on read, never stored: :func:`show_complaint_sla` picks the case's
policy from the policy set (:attr:`ServiceSettings.sla`, or the stored set named by
:attr:`ServiceSettings.sla_policy_set_id`) by priority, customer tier and channel, and its
calendar (the stored calendar of the case's team in :attr:`ServiceSettings.team_calendars`, else
the stored :attr:`ServiceSettings.calendar_id`, else :attr:`ServiceSettings.calendar`, else
Monday to Friday 09:00-18:00 in :attr:`ServiceSettings.timezone`). Editing a stored calendar or
policy set changes every open case's deadlines at once and loses no paused time.
:func:`check_sla_breaches`, run by a scheduler, records each breach and escalation once (each
case in its own commit; a case changed meanwhile is skipped and checked on the next run).

**Compensation** (:func:`grant_compensation`) is idempotent on its reference and runs in one
unit of work: the case records the grant within the approver role's limit, and a ``voucher``
becomes a single-use :class:`~crmkit.pricing.Coupon` (code from the case and the reference, so
granting again finds it rather than making another); ``goodwill_points`` go through the
:attr:`ServiceHooks.goodwill_points` hook, called in the same unit of work so the points commit
with the case or not at all. Without that hook a points grant is refused: crmkit does not
pretend to have credited points. Refunds, upgrades and replacements are recorded on the case
and announced by ``service.CompensationGranted`` (in the outbox) for the host to carry out.

**Notifications**: the triggers :class:`SlaTrigger` (warning and breach alerts to the owner),
:class:`CsatSurveyTrigger` (the survey to the case's contact after a resolution),
:class:`MaintenanceDueTrigger` and :class:`RenewalDueTrigger` give the
:class:`~crmkit.app.dispatch.Dispatcher` events with stable ids (each fires once per
occurrence); :func:`service_subscriptions` routes them to the built-in templates.

Example:
    >>> from crmkit.app.service import _example_crm
    >>> crm, customer = _example_crm()
    >>> case = crm.file_complaint(customer.id, "Parcel never arrived", category="delivery",
    ...                           channel="email", impact="high", urgency="high")
    >>> case.reference, case.priority.value, case.owner
    ('CS-000001', 'critical', 'u_amy')
    >>> print(crm.complaint_sla(case.id).first_response.explain())
    first_response: ok; target 4h00m of business time
      started 2026-01-05T09:00:00+08:00
      elapsed 0h00m, remaining 4h00m, deadline 2026-01-05T13:00:00+08:00

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import attrs

from crmkit.app.messagebus import CommandHandler
from crmkit.customers import Contact
from crmkit.errors import (
    ConcurrencyError,
    DuplicateError,
    NotFoundError,
    RuleViolation,
    ValidationError,
)
from crmkit.kernel import _validators as v
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import IdGenerator, check_id
from crmkit.kernel.money import Money
from crmkit.kernel.query import Op, Query
from crmkit.kernel.time import Clock, ensure_aware
from crmkit.notifications.events import occurrence_id
from crmkit.notifications.subscriptions import Recipient, Subscription, Subscriptions
from crmkit.ports import AccessPolicy, PeopleDirectory, Repository, UnitOfWork
from crmkit.pricing import Coupon
from crmkit.service import (
    CaseStatus,
    Compensation,
    CompensationKind,
    Complaint,
    ComplaintPolicy,
    EscalationRecord,
    PublicCaseView,
    StoredCalendar,
    StoredSlaPolicySet,
    public_view,
)
from crmkit.service.assignment import (
    AssignmentState,
    CaseAssignment,
    CaseAssignmentRules,
    Strategy,
    assign_case,
)
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
from crmkit.service.events import (
    CsatSurveyDue,
    MaintenanceRenewalDue,
    MaintenanceVisitDue,
    SlaDeadlineApproaching,
    SlaDeadlinePassed,
)
from crmkit.service.maintenance import (
    Equipment,
    MaintenanceContract,
    RenewalDue,
    ScheduledVisit,
    ServicePlan,
    WorkOrder,
    contracts_due_for_renewal,
    upcoming_services,
)
from crmkit.service.sla import SlaPolicy, SlaPolicySet, SlaState, SlaStatus, sla_status

if TYPE_CHECKING:
    from crmkit.app._crm import CRM
    from crmkit.customers import Customer

__all__ = [
    "CompensationOutcome",
    "CompensationRequest",
    "CsatSurveyTrigger",
    "GoodwillPoints",
    "GoodwillPointsRequest",
    "MaintenanceDueTrigger",
    "RenewalDueTrigger",
    "ServiceHooks",
    "ServiceSettings",
    "SlaCheckRun",
    "SlaTrigger",
    "TierLookup",
    "acknowledge_complaint",
    "add_complaint_note",
    "assign_complaint",
    "cancel_complaint",
    "cancel_work_order",
    "check_sla_breaches",
    "close_complaint",
    "command_handlers",
    "complete_work_order",
    "dispatch_work_order",
    "file_complaint",
    "grant_compensation",
    "list_renewals_due",
    "list_upcoming_services",
    "open_work_order",
    "record_csat",
    "record_customer_message",
    "record_work_order_part",
    "renew_maintenance_contract",
    "reopen_complaint",
    "reply_to_complaint",
    "resolve_complaint",
    "save_business_calendar",
    "save_sla_policy_set",
    "service_subscriptions",
    "show_complaint_sla",
    "show_public_complaint",
    "sign_maintenance_contract",
    "start_complaint_work",
    "start_work_order",
    "voucher_code",
]

#: Page size for scans (open cases, contracts).
_PAGE = 500
#: A visit due this long before a window may move into it (as ``upcoming_services`` looks back).
_LOOKBACK = timedelta(days=31)
_UTC = timezone.utc

# ----- settings ------------------------------------------------------------------------------


def _default_complaints() -> ComplaintPolicy:
    return ComplaintPolicy(categories=["general", "product", "delivery", "billing", "service"])


def _default_sla() -> SlaPolicySet:
    return SlaPolicySet(
        default="standard",
        policies=[
            SlaPolicy(
                name="standard",
                first_response=timedelta(hours=24),
                resolution=timedelta(hours=72),
            )
        ],
    )


def _instance_of(cls: type, path: str, optional: bool = False) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if optional and value is None:
            return
        if not isinstance(value, cls):
            wanted = f"a {cls.__name__} or None" if optional else f"a {cls.__name__}"
            raise ValidationError(f"must be {wanted}, not {type(value).__name__}", path=path)

    return check


def _optional_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _team_calendars(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"must map team names to stored calendar ids, not {type(value).__name__}",
            path="team_calendars",
        )
    found: dict[str, str] = {}
    for team, calendar_id in value.items():
        if not isinstance(team, str) or not team.strip():
            raise ValidationError(f"must be a team name, got {team!r}", path="team_calendars")
        found[team.strip()] = check_id(calendar_id, f"team_calendars[{team!r}]")
    return found


def _prefix(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, str) or len(value) > 20 or not value.strip() == value:
        raise ValidationError(
            f"must be text of at most 20 characters without surrounding spaces, got {value!r}",
            path="reference_prefix",
        )


def _optional_positive(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, timedelta) or value <= timedelta(0)):
        raise ValidationError(
            f"must be a positive timedelta or None, got {value!r}", path=attribute.name
        )


@attrs.frozen(kw_only=True)
class ServiceSettings:
    """How the service use cases behave in one CRM; pass it as ``bootstrap(service=...)``.

    Attributes:
        complaints: the complaint policy: categories and root causes, the priority matrix, the
            reopen window (``reopen_within``, 14 days) and each approver role's compensation
            limits. Default: categories ``general``, ``product``, ``delivery``, ``billing``,
            ``service``, and no compensation limits (so nobody may grant any).
        sla: the SLA policy set when no stored one is named. Default: one ``standard`` policy,
            first response in 24 business hours, resolution in 72.
        sla_policy_set_id: the stored :class:`~crmkit.service.StoredSlaPolicySet` to use
            instead of ``sla`` (edit it with ``crm.save_sla_policy_set``).
        timezone: the zone of the default calendar and of "today" for maintenance (UTC).
        calendar: the business calendar when no stored one applies; ``None`` means Monday to
            Friday, 09:00-18:00, in ``timezone``.
        calendar_id: the stored :class:`~crmkit.service.StoredCalendar` to use instead of
            ``calendar`` (for SLAs and for moving maintenance visits off days off).
        team_calendars: team name to stored calendar id, for teams in other places (a London
            team and a Taipei team); a case's team picks its calendar.
        assignment: who gets new cases (``None``: the filer names the owner, or it is given
            on acknowledgement).
        reference_prefix: put before the case id's serial to make the public reference
            (``"CS-"``: ``case_000042`` becomes ``CS-000042``).
        voucher_valid_for: how long a compensation voucher's coupon is valid (180 days;
            ``None``: no end).

    Example:
        >>> from crmkit.serialization import structure, unstructure
        >>> settings = ServiceSettings(timezone="Asia/Taipei", team_calendars={"tw": "cal_tpe"})
        >>> settings.service_calendar.timezone, settings.sla.policy("standard").first_response
        ('Asia/Taipei', datetime.timedelta(days=1))
        >>> structure(unstructure(settings), ServiceSettings) == settings
        True

    .. versionadded:: 0.1.0
    """

    complaints: ComplaintPolicy = attrs.field(
        factory=_default_complaints, validator=_instance_of(ComplaintPolicy, "complaints")
    )
    sla: SlaPolicySet = attrs.field(
        factory=_default_sla, validator=_instance_of(SlaPolicySet, "sla")
    )
    sla_policy_set_id: str | None = attrs.field(default=None, validator=_optional_id)
    timezone: str = attrs.field(default="UTC", validator=v.text(100))
    calendar: BusinessCalendar | None = attrs.field(
        default=None, validator=_instance_of(BusinessCalendar, "calendar", optional=True)
    )
    calendar_id: str | None = attrs.field(default=None, validator=_optional_id)
    team_calendars: Mapping[str, str] = attrs.field(
        factory=dict, converter=_team_calendars, hash=False
    )
    assignment: CaseAssignmentRules | None = attrs.field(
        default=None, validator=_instance_of(CaseAssignmentRules, "assignment", optional=True)
    )
    reference_prefix: str = attrs.field(default="CS-", validator=_prefix)
    voucher_valid_for: timedelta | None = attrs.field(
        default=timedelta(days=180), validator=_optional_positive
    )
    _service_calendar: BusinessCalendar = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        try:  # checks the zone even when a calendar is given: "today" is read in it
            default = BusinessCalendar.office_hours(
                self.timezone, ("09:00", "18:00"), name="service desk"
            )
        except ValidationError as exc:  # the calendar's own error names the field: timezone
            raise ValidationError(errors=exc.errors) from None
        calendar = default if self.calendar is None else self.calendar
        object.__setattr__(self, "_service_calendar", calendar)

    @property
    def service_calendar(self) -> BusinessCalendar:
        """The calendar when no stored one applies: ``calendar``, or the default in ``timezone``.

        Example:
            >>> [h.weekday.value for h in ServiceSettings().service_calendar.hours]
            ['mon', 'tue', 'wed', 'thu', 'fri']
        """
        return self._service_calendar

    def reference_for(self, case_id: str) -> str:
        """The public reference of a new case: the prefix and the serial of its id.

        Example:
            >>> ServiceSettings().reference_for("case_01JQ3Z8K")
            'CS-01JQ3Z8K'
        """
        serial = case_id.split("_", 1)[-1].upper()
        return f"{self.reference_prefix}{serial}"[:64]


#: ``tier_lookup(uow, customer_id)``: the customer's tier (``"gold"``), or ``None``.
TierLookup = Callable[[UnitOfWork, str], "str | None"]
#: ``goodwill_points(uow, request)``: stage the points in ``uow``; raise to refuse.
GoodwillPoints = Callable[[UnitOfWork, "GoodwillPointsRequest"], object]


def _optional_callable(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not callable(value):
        raise ValidationError(
            f"must be callable or None, not {type(value).__name__}", path=attribute.name
        )


@attrs.frozen(kw_only=True)
class GoodwillPointsRequest:
    """What the goodwill-points hook is asked to credit: whom, how many, and why.

    ``reference`` is the compensation's reference: credit the points idempotently on it.

    Example:
        >>> from datetime import datetime, timezone
        >>> GoodwillPointsRequest(case_id="case_1", case_reference="CS-1001",
        ...     customer_id="cus_1", reference="gp-1", points=500, approved_by="u_lead",
        ...     at=datetime(2026, 1, 5, tzinfo=timezone.utc)).points
        500

    .. versionadded:: 0.1.0
    """

    case_id: str
    case_reference: str
    customer_id: str
    reference: str
    points: int
    approved_by: str
    at: datetime


@attrs.frozen(kw_only=True)
class ServiceHooks:
    """Functions the service use cases call into other contexts (``bootstrap(service_hooks=...)``).

    Unlike :class:`ServiceSettings` these are functions, not data, so they are not serialized.
    Both are called inside the command's unit of work, before it commits: whatever they stage
    there commits with the case, or not at all.

    Attributes:
        tier_lookup: ``tier_lookup(uow, customer_id) -> str | None``: the customer's tier for
            SLA selection when the filer gives none (the loyalty context's membership tier).
        goodwill_points: ``goodwill_points(uow, request)``: credit
            :class:`GoodwillPointsRequest` points (the loyalty context's ledger), idempotently
            on ``request.reference``. Without it, granting goodwill points is refused.

    Example:
        >>> hooks = ServiceHooks(tier_lookup=lambda uow, customer_id: "gold")
        >>> hooks.tier_lookup(None, "cus_1"), hooks.goodwill_points
        ('gold', None)

    .. versionadded:: 0.1.0
    """

    tier_lookup: TierLookup | None = attrs.field(default=None, validator=_optional_callable)
    goodwill_points: GoodwillPoints | None = attrs.field(default=None, validator=_optional_callable)


# ----- results and resources -----------------------------------------------------------------


@attrs.frozen(kw_only=True)
class CompensationRequest:
    """What the access policy is asked about a compensation: may the actor grant it as ``role``?

    Example:
        >>> from crmkit import bootstrap
        >>> from crmkit.errors import PermissionDeniedError
        >>> ROLES = {"u_lead": {"team_lead"}}
        >>> class RolePolicy:
        ...     def check(self, actor, action, resource=None):
        ...         if isinstance(resource, CompensationRequest) and (
        ...                 resource.approver_role not in ROLES.get(actor, ())):
        ...             raise PermissionDeniedError(f"{actor} is not a {resource.approver_role}")
        >>> crm, case = _example_case(policy=RolePolicy())
        >>> crm.grant_compensation(case.id, "comp-1", "voucher", approver_role="team_lead",
        ...                        amount=Money("300", "TWD"), actor="u_amy")
        Traceback (most recent call last):
        ...
        crmkit.errors.PermissionDeniedError: u_amy is not a team_lead

    .. versionadded:: 0.1.0
    """

    case: Complaint
    kind: CompensationKind
    approver_role: str
    amount: Money | None = None
    points: int | None = None


@attrs.frozen(kw_only=True)
class CompensationOutcome:
    """What :func:`grant_compensation` did: the case, the grant, its coupon, and whether new.

    ``granted`` is ``False`` when the reference had been granted before (nothing changed);
    ``coupon`` is the voucher's single-use coupon (``None`` for other kinds).

    Example:
        >>> crm, case = _example_case()
        >>> first = crm.grant_compensation(case.id, "comp-1", "voucher",
        ...     approver_role="team_lead", amount=Money("300", "TWD"), actor="u_lead")
        >>> again = crm.grant_compensation(case.id, "comp-1", "voucher",
        ...     approver_role="team_lead", amount=Money("300", "TWD"), actor="u_lead")
        >>> first.granted, again.granted, again.coupon.code == first.coupon.code
        (True, False, True)

    .. versionadded:: 0.1.0
    """

    case: Complaint
    compensation: Compensation
    coupon: Coupon | None = None
    granted: bool = True


@attrs.frozen(kw_only=True)
class SlaCheckRun:
    """What :func:`check_sla_breaches` did at ``at``: what it checked, recorded and skipped.

    ``breached`` lists ``(case id, target)``; ``escalated`` lists ``(case id, target,
    level)``; ``skipped`` the cases someone changed during the run (checked again next time).

    Example:
        >>> from datetime import datetime, timezone
        >>> run = SlaCheckRun(at=datetime(2026, 1, 6, tzinfo=timezone.utc), checked=3,
        ...                   breached=(("case_1", "first_response"),))
        >>> run.checked, run.breached[0][1], run.skipped
        (3, 'first_response', ())

    .. versionadded:: 0.1.0
    """

    at: datetime
    checked: int = 0
    breached: tuple[tuple[str, str], ...] = ()
    escalated: tuple[tuple[str, str, str], ...] = ()
    skipped: tuple[str, ...] = ()


# ----- loading ---------------------------------------------------------------------------------


def _scan(repository: Repository[Any], query: Query) -> Iterator[Any]:
    query = query.take(_PAGE)
    while True:
        page = repository.query(query)
        yield from page.items
        if page.next_cursor is None:
            return
        query = query.after(page.next_cursor)


class _Config:
    """The SLA policy set and calendars of one unit of work, each loaded at most once."""

    def __init__(self, uow: UnitOfWork, settings: ServiceSettings) -> None:
        self._uow = uow
        self._settings = settings
        self._policies: SlaPolicySet | None = None
        self._calendars: dict[str, BusinessCalendar] = {}

    @property
    def policies(self) -> SlaPolicySet:
        if self._policies is None:
            wanted = self._settings.sla_policy_set_id
            self._policies = (
                self._settings.sla
                if wanted is None
                else self._uow.sla_policy_sets.get(wanted).policies
            )
        return self._policies

    def calendar(self, team: str | None = None) -> BusinessCalendar:
        settings = self._settings
        wanted = settings.team_calendars.get(team) if team is not None else None
        wanted = wanted or settings.calendar_id
        if wanted is None:
            return settings.service_calendar
        found = self._calendars.get(wanted)
        if found is None:
            found = self._uow.business_calendars.get(wanted).calendar
            self._calendars[wanted] = found
        return found

    def status(self, case: Complaint, now: datetime) -> SlaStatus:
        policy = self.policies.select(case).policy
        return sla_status(case, policy, self.calendar(case.team), now)


def _by_reference(uow: UnitOfWork, reference: str) -> Complaint | None:
    found = uow.complaints.query(Query.where(reference=reference).take(1)).items
    return found[0] if found else None


def _save(uow: UnitOfWork, case: Complaint) -> Complaint:
    if case.pending_events:
        uow.complaints.save(case)
        uow.commit()
    return case


def _change(
    case_id: str,
    actor: str | None,
    action: str,
    uow: UnitOfWork,
    policy: AccessPolicy,
    change: Callable[[Complaint], object],
) -> Complaint:
    """Load a case, check ``action``, apply ``change``, save and commit (if anything changed)."""
    case = uow.complaints.get(case_id)
    policy.check(actor, action, case)
    change(case)
    return _save(uow, case)


# ----- assignment ------------------------------------------------------------------------------


def _round_robin_state(uow: UnitOfWork, rules: CaseAssignmentRules) -> AssignmentState:
    """Each round-robin team's last choice: the owner of the latest case its routes assigned."""
    last: dict[str, str] = {}
    for team in rules.teams:
        if team.strategy is not Strategy.ROUND_ROBIN:
            continue
        routes = tuple(r.name for r in rules.routes if r.team == team.name)
        if not routes:
            continue
        query = (
            Query.where(team=team.name)
            .filter("assignment_rule", Op.IN, routes)
            .order("-assigned_at", "-id")
            .take(1)
        )
        latest = uow.complaints.query(query).items
        if latest and latest[0].owner in team.users:
            last[team.name] = str(latest[0].owner)
    return AssignmentState(last)


def _open_loads(uow: UnitOfWork, rules: CaseAssignmentRules, case: Complaint) -> dict[str, int]:
    """Open case counts of the members whose teams need them (least loaded, by skill, a cap)."""
    members = {
        user
        for team in rules.teams
        if team.strategy is not Strategy.ROUND_ROBIN or team.max_open is not None
        for user in team.users
    }
    loads = {
        user: sum(1 for _ in _scan(uow.complaints, Query.where(is_open=True, owner=user)))
        for user in sorted(members)
    }
    if case.version > 0 and case.is_open and case.owner in loads:
        loads[str(case.owner)] -= 1  # the case being reassigned does not count against its owner
    return loads


def _assign_by_rules(
    uow: UnitOfWork,
    case: Complaint,
    rules: CaseAssignmentRules,
    now: datetime,
    actor: str | None,
) -> CaseAssignment:
    chosen = assign_case(case, rules, _round_robin_state(uow, rules), _open_loads(uow, rules, case))
    chosen.apply_to(case, now=now, actor=actor)
    return chosen


# ----- cases -----------------------------------------------------------------------------------


def _customer_tier(uow: UnitOfWork, command: FileComplaint, hooks: ServiceHooks) -> str | None:
    if command.customer_tier is not None or hooks.tier_lookup is None:
        return command.customer_tier
    tier = hooks.tier_lookup(uow, command.customer_id)
    if tier is not None and not isinstance(tier, str):
        raise ValidationError(
            f"tier_lookup must return text or None, returned {type(tier).__name__}",
            path="customer_tier",
        )
    return tier


def file_complaint(
    command: FileComplaint,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
    settings: ServiceSettings,
    hooks: ServiceHooks,
) -> Complaint:
    """File a complaint for a stored customer; return it as stored (see the module docs).

    Example:
        >>> crm, customer = _example_crm()
        >>> case = crm.file_complaint(customer.id, "Invoice charged twice", category="billing",
        ...     channel="phone", reference="CS-7001", customer_tier="gold")
        >>> again = crm.file_complaint(customer.id, "Invoice charged twice",
        ...     category="billing", channel="phone", reference="CS-7001")
        >>> again.id == case.id, case.assignments[-1].reason
        (True, "category 'billing' goes to team 'desk'; round robin: first turn in u_amy, u_bob")
        >>> crm.file_complaint(customer.id, "Rude driver", category="weather", channel="phone")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: category: 'weather' is not a complaint category; use ...

    .. versionadded:: 0.1.0
    """
    customer = uow.customers.get(command.customer_id)
    policy.check(command.actor, "service.file", customer)
    if command.contact_id is not None:
        contact: Contact = uow.contacts.get(command.contact_id)
        if contact.customer_id != customer.id:
            raise ValidationError(
                f"contact {contact.id!r} belongs to customer {contact.customer_id!r}, not to "
                f"{customer.id!r}",
                path="contact_id",
            )
    if command.reference is not None:
        existing = _by_reference(uow, command.reference)
        if existing is not None:
            if existing.customer_id != customer.id:
                raise DuplicateError(
                    f"complaint reference {command.reference!r} is another customer's case; "
                    "use a new reference",
                    details={"kind": "complaints", "reference": command.reference},
                )
            return existing
    now = clock.now()
    case_id = ids.new_id("case")
    case = Complaint.file(
        id=case_id,
        reference=command.reference or settings.reference_for(case_id),
        now=now,
        filed_at=command.filed_at,
        channel=command.channel,
        customer_id=customer.id,
        contact_id=command.contact_id,
        subject=command.subject,
        description=command.description,
        product_ref=command.product_ref,
        order_ref=command.order_ref,
        category=command.category,
        impact=command.impact,
        urgency=command.urgency,
        customer_tier=_customer_tier(uow, command, hooks),
        owner=command.owner,
        team=command.team,
        policy=settings.complaints,
        actor=command.actor,
    )
    if case.owner is None and settings.assignment is not None:
        _assign_by_rules(uow, case, settings.assignment, now, command.actor)
    uow.complaints.add(case)
    uow.commit()
    return case


def acknowledge_complaint(
    command: AcknowledgeComplaint,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: ServiceSettings,
) -> Complaint:
    """Acknowledge a new case; an owner is needed: the command's, the case's, or the rules'.

    Example:
        >>> crm, case = _example_case(acknowledged=False)
        >>> crm.acknowledge_complaint(case.id, owner="u_bob").owner
        'u_bob'

    .. versionadded:: 0.1.0
    """
    case = uow.complaints.get(command.case_id)
    policy.check(command.actor, "service.acknowledge", case)
    now = clock.now()
    if command.owner is None and case.owner is None and settings.assignment is not None:
        _assign_by_rules(uow, case, settings.assignment, now, command.actor)
    case.acknowledge(now=now, owner=command.owner, team=command.team, actor=command.actor)
    return _save(uow, case)


def assign_complaint(
    command: AssignComplaint,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: ServiceSettings,
) -> Complaint:
    """Give a case to the command's owner, or (with none) to whom the assignment rules choose.

    Example:
        >>> crm, case = _example_case()
        >>> case = crm.assign_complaint(case.id, "u_bob", reason="speaks Hakka", actor="u_lead")
        >>> [(a.owner, a.reason) for a in case.assignments]
        [('u_amy', "category 'delivery' goes to team 'desk'; round robin: first turn in u_amy,
        u_bob"), ('u_bob', 'speaks Hakka')]

    .. versionadded:: 0.1.0
    """
    case = uow.complaints.get(command.case_id)
    policy.check(command.actor, "service.assign", case)
    now = clock.now()
    if command.owner is not None:
        case.assign(
            command.owner, team=command.team, now=now, reason=command.reason, actor=command.actor
        )
    elif settings.assignment is None:
        raise ValidationError(
            "no assignment rules are configured (ServiceSettings.assignment); name the owner",
            path="owner",
        )
    else:
        _assign_by_rules(uow, case, settings.assignment, now, command.actor)
    return _save(uow, case)


def reply_to_complaint(
    command: ReplyToComplaint, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Complaint:
    """Send the customer a public reply (the first one meets the first-response target).

    Example:
        >>> crm, case = _example_case()
        >>> case = crm.reply_to_complaint(case.id, "Could you send a photo?", by="u_amy",
        ...                               wait_for_customer=True)
        >>> case.status.value, case.first_response_at is not None
        ('awaiting_customer', True)

    .. versionadded:: 0.1.0
    """
    return _change(
        command.case_id,
        command.actor,
        "service.reply",
        uow,
        policy,
        lambda case: case.reply(
            command.body,
            now=clock.now(),
            by=command.agent,
            wait_for_customer=command.wait_for_customer,
            actor=command.actor,
        ),
    )


def record_customer_message(
    command: RecordCustomerMessage, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Complaint:
    """Record the customer's message; a case waiting for them resumes.

    Example:
        >>> crm, case = _example_case()
        >>> _ = crm.reply_to_complaint(case.id, "A photo?", by="u_amy", wait_for_customer=True)
        >>> crm.record_customer_message(case.id, "Here it is").status.value
        'in_progress'

    .. versionadded:: 0.1.0
    """
    return _change(
        command.case_id,
        command.actor,
        "service.customer_message",
        uow,
        policy,
        lambda case: case.receive_customer_message(command.body, now=clock.now()),
    )


def add_complaint_note(
    command: AddComplaintNote, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Complaint:
    """Add an internal note (never shown to the customer).

    Example:
        >>> crm, case = _example_case()
        >>> crm.add_complaint_note(case.id, "Carrier says lost", by="u_amy").notes[0].body
        'Carrier says lost'

    .. versionadded:: 0.1.0
    """
    return _change(
        command.case_id,
        command.actor,
        "service.note",
        uow,
        policy,
        lambda case: case.add_note(command.body, now=clock.now(), by=command.author),
    )


def start_complaint_work(
    command: StartComplaintWork, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Complaint:
    """Move an acknowledged case (or one awaiting the customer) to ``in_progress``.

    Example:
        >>> crm, case = _example_case()
        >>> crm.start_complaint_work(case.id, actor="u_amy").status.value
        'in_progress'

    .. versionadded:: 0.1.0
    """
    return _change(
        command.case_id,
        command.actor,
        "service.work",
        uow,
        policy,
        lambda case: case.start_work(now=clock.now(), actor=command.actor),
    )


def resolve_complaint(
    command: ResolveComplaint,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: ServiceSettings,
) -> Complaint:
    """Resolve a case with a summary and root cause (checked against the complaint policy).

    Example:
        >>> crm, case = _example_case(working=True)
        >>> case = crm.resolve_complaint(case.id, "Re-shipped", root_cause="carrier_delay")
        >>> case.status.value, case.root_cause
        ('resolved', 'carrier_delay')

    .. versionadded:: 0.1.0
    """
    return _change(
        command.case_id,
        command.actor,
        "service.resolve",
        uow,
        policy,
        lambda case: case.resolve(
            now=clock.now(),
            summary=command.summary,
            policy=settings.complaints,
            root_cause=command.root_cause,
            actor=command.actor,
        ),
    )


def close_complaint(
    command: CloseComplaint, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Complaint:
    """Close a resolved case.

    Example:
        >>> crm, case = _example_case(working=True)
        >>> _ = crm.resolve_complaint(case.id, "Re-shipped")
        >>> crm.close_complaint(case.id).status.value
        'closed'

    .. versionadded:: 0.1.0
    """
    return _change(
        command.case_id,
        command.actor,
        "service.close",
        uow,
        policy,
        lambda case: case.close(now=clock.now(), actor=command.actor),
    )


def reopen_complaint(
    command: ReopenComplaint,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: ServiceSettings,
) -> Complaint:
    """Reopen a resolved or closed case within the complaint policy's window.

    Example:
        >>> from datetime import timedelta
        >>> crm, case = _example_case(working=True)
        >>> _ = crm.resolve_complaint(case.id, "Re-shipped")
        >>> _ = crm.clock.advance(timedelta(days=15))
        >>> crm.reopen_complaint(case.id, "still missing")
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: case 'CS-000001' was resolved 15 days, 0:00:00 ago; it
        may be reopened within 14 days, 0:00:00 of its resolution

    .. versionadded:: 0.1.0
    """
    return _change(
        command.case_id,
        command.actor,
        "service.reopen",
        uow,
        policy,
        lambda case: case.reopen(
            now=clock.now(),
            reason=command.reason,
            policy=settings.complaints,
            actor=command.actor,
        ),
    )


def cancel_complaint(
    command: CancelComplaint, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Complaint:
    """Cancel a case as a duplicate of another stored case, or as spam.

    Example:
        >>> crm, case = _example_case(acknowledged=False)
        >>> crm.cancel_complaint(case.id, "duplicate", note="same parcel", duplicate_of="case_9")
        Traceback (most recent call last):
        ...
        crmkit.errors.NotFoundError: no complaints record with id 'case_9'

    .. versionadded:: 0.1.0
    """
    case = uow.complaints.get(command.case_id)
    policy.check(command.actor, "service.cancel", case)
    if command.duplicate_of is not None and command.duplicate_of != case.id:
        uow.complaints.get(command.duplicate_of)
    case.cancel(
        command.reason,
        note=command.note,
        now=clock.now(),
        duplicate_of=command.duplicate_of,
        actor=command.actor,
    )
    return _save(uow, case)


def voucher_code(case_id: str, reference: str) -> str:
    """The coupon code of the voucher granted on ``case_id`` under ``reference``.

    Derived from both, so granting the same compensation again finds the same coupon.

    Example:
        >>> voucher_code("case_1", "comp-1") == voucher_code("case_1", "comp-1")
        True
        >>> voucher_code("case_1", "comp-1")[:5], len(voucher_code("case_1", "comp-1"))
        ('COMP-', 17)

    .. versionadded:: 0.1.0
    """
    digest = hashlib.sha256(f"{case_id}\x1f{reference}".encode()).hexdigest()
    return "COMP-" + digest[:12].upper()


def _voucher(
    uow: UnitOfWork,
    case: Complaint,
    grant: Compensation,
    now: datetime,
    settings: ServiceSettings,
    new: bool,
) -> Coupon | None:
    code = voucher_code(case.id, grant.reference)
    try:
        return uow.coupons.get(Coupon.id_for(code))
    except NotFoundError:
        if not new:
            return None  # granted long ago and the host removed the coupon: do not make another
    if grant.amount is None:  # pragma: no cover - a voucher always carries an amount
        raise ValidationError("a voucher needs an amount", path="amount")
    until = None if settings.voucher_valid_for is None else now + settings.voucher_valid_for
    coupon = Coupon(
        code=code,
        name=f"Compensation for case {case.reference}"[:200],
        amount=grant.amount,
        created_at=now,
        valid_until=until,
        usage_limit=1,
        per_customer_limit=1,
    )
    uow.coupons.add(coupon)
    return coupon


def grant_compensation(
    command: GrantCompensation,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: ServiceSettings,
    hooks: ServiceHooks,
) -> CompensationOutcome:
    """Grant compensation idempotently; a voucher becomes a coupon in the same commit.

    The actor is the approver: the access policy is asked ``service.compensate`` with a
    :class:`CompensationRequest` (does the actor hold ``approver_role``?), and the complaint
    policy caps what that role may grant. Goodwill points go through
    :attr:`ServiceHooks.goodwill_points`, refused without it.

    Example:
        >>> crm, case = _example_case()
        >>> outcome = crm.grant_compensation(case.id, "comp-1", "voucher",
        ...     approver_role="team_lead", amount=Money("300", "TWD"), actor="u_lead")
        >>> coupon = outcome.coupon
        >>> coupon.amount, coupon.usage_limit, crm.get_coupon(coupon.code) == coupon
        (Money('300', 'TWD'), 1, True)
        >>> crm.grant_compensation(case.id, "comp-2", "goodwill_points",
        ...     approver_role="team_lead", points=500, actor="u_lead")
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: goodwill points go through the loyalty context, and no ...

    .. versionadded:: 0.1.0
    """
    case = uow.complaints.get(command.case_id)
    request = CompensationRequest(
        case=case,
        kind=command.kind,
        approver_role=command.approver_role,
        amount=command.amount,
        points=command.points,
    )
    policy.check(command.actor, "service.compensate", request)
    if command.actor is None:
        raise ValidationError(
            "compensation needs its approver: give actor= (the user who approves it)",
            path="actor",
        )
    now = clock.now()
    grant = case.grant_compensation(
        reference=command.reference,
        kind=command.kind,
        approved_by=command.actor,
        approver_role=command.approver_role,
        policy=settings.complaints,
        now=now,
        amount=command.amount,
        points=command.points,
        description=command.description,
    )
    new = bool(case.pending_events)
    coupon = None
    if grant.kind is CompensationKind.VOUCHER:
        coupon = _voucher(uow, case, grant, now, settings, new)
    elif grant.kind is CompensationKind.GOODWILL_POINTS and new:
        if hooks.goodwill_points is None:
            raise RuleViolation(
                "goodwill points go through the loyalty context, and no goodwill_points hook "
                "is configured; pass bootstrap(service_hooks=ServiceHooks(goodwill_points=...))",
                details={"kind": grant.kind.value, "reference": grant.reference},
            )
        hooks.goodwill_points(
            uow,
            GoodwillPointsRequest(
                case_id=case.id,
                case_reference=case.reference,
                customer_id=case.customer_id,
                reference=grant.reference,
                points=grant.points or 0,
                approved_by=grant.approved_by,
                at=now,
            ),
        )
    if new:
        uow.complaints.save(case)
        uow.commit()
    return CompensationOutcome(case=case, compensation=grant, coupon=coupon, granted=new)


def record_csat(
    command: RecordCsat, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Complaint:
    """Record the customer's 1-5 score on a resolved or closed case (once).

    Example:
        >>> crm, case = _example_case(working=True)
        >>> _ = crm.resolve_complaint(case.id, "Re-shipped")
        >>> crm.record_csat(case.id, 5, comment="fast and kind").csat.score
        5

    .. versionadded:: 0.1.0
    """
    return _change(
        command.case_id,
        command.actor,
        "service.csat",
        uow,
        policy,
        lambda case: case.record_csat(
            command.score,
            now=clock.now(),
            comment=command.comment,
            survey_ref=command.survey_ref,
        ),
    )


def show_complaint_sla(
    command: ShowComplaintSla,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: ServiceSettings,
) -> SlaStatus:
    """Both SLA clocks of a case at the command's ``at`` (default now), explained.

    Example:
        >>> from datetime import timedelta
        >>> crm, case = _example_case()
        >>> _ = crm.clock.advance(timedelta(hours=3, minutes=30))
        >>> clock = crm.complaint_sla(case.id).first_response
        >>> clock.state.value, clock.remaining
        ('warning', datetime.timedelta(seconds=1800))

    .. versionadded:: 0.1.0
    """
    case = uow.complaints.get(command.case_id)
    policy.check(command.actor, "service.read", case)
    at = clock.now() if command.at is None else command.at
    return _Config(uow, settings).status(case, at)


def show_public_complaint(
    command: ShowPublicComplaint,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: ServiceSettings,
) -> PublicCaseView:
    """A case by its reference, as its customer may see it (nothing else).

    With the command's ``customer_id``, another customer's case is not found (the error does
    not tell whether the reference exists).

    Example:
        >>> crm, case = _example_case()
        >>> _ = crm.add_complaint_note(case.id, "internal: carrier at fault", by="u_amy")
        >>> _ = crm.reply_to_complaint(case.id, "We are on it", by="u_amy")
        >>> view = crm.public_complaint_view(case.reference, customer_id=case.customer_id)
        >>> view.status, [m.body for m in view.messages]
        ('acknowledged', ['We are on it'])
        >>> crm.public_complaint_view(case.reference, customer_id="cus_999")
        Traceback (most recent call last):
        ...
        crmkit.errors.NotFoundError: no complaint with reference 'CS-000001' for this customer

    .. versionadded:: 0.1.0
    """
    case = _by_reference(uow, command.reference)
    if case is None or (
        command.customer_id is not None and case.customer_id != command.customer_id
    ):
        whose = "" if command.customer_id is None else " for this customer"
        raise NotFoundError(
            f"no complaint with reference {command.reference!r}{whose}",
            details={"kind": "complaints", "reference": command.reference},
        )
    policy.check(command.actor, "service.view_public", case)
    return public_view(case, _Config(uow, settings).status(case, clock.now()))


def check_sla_breaches(
    command: CheckSlaBreaches,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: ServiceSettings,
) -> SlaCheckRun:
    """Record, once each, every SLA breach and escalation the open cases have reached.

    Run it from a scheduler more often than the shortest target. Each case is saved in its
    own commit (its ``SlaBreached`` and ``ComplaintEscalated`` events go to the outbox); a
    case someone changes during the run is skipped and checked again next time.

    Example:
        >>> from datetime import timedelta
        >>> crm, case = _example_case()
        >>> _ = crm.clock.advance(timedelta(hours=5))
        >>> run = crm.check_sla_breaches(actor="scheduler")
        >>> run.breached, crm.check_sla_breaches().breached
        ((('case_000001', 'first_response'),), ())

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "service.check_sla", None)
    now = clock.now()
    config = _Config(uow, settings)
    checked = 0
    breached: list[tuple[str, str]] = []
    escalated: list[tuple[str, str, str]] = []
    skipped: list[str] = []
    for case in _scan(uow.complaints, Query.where(is_open=True).order("filed_at")):
        checked += 1
        selected = config.policies.select(case).policy
        found = case.record_breaches(
            now, policy=selected, calendar=config.calendar(case.team), actor=command.actor
        )
        if not found:
            continue
        try:
            uow.complaints.save(case)
            uow.commit()
        except ConcurrencyError:
            uow.rollback()
            skipped.append(case.id)
            continue
        for item in found:
            if isinstance(item, EscalationRecord):
                escalated.append((case.id, item.target.value, item.level))
            else:
                breached.append((case.id, item.target.value))
    return SlaCheckRun(
        at=now,
        checked=checked,
        breached=tuple(breached),
        escalated=tuple(escalated),
        skipped=tuple(skipped),
    )


# ----- configuration ---------------------------------------------------------------------------


def save_business_calendar(
    command: SaveBusinessCalendar, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> StoredCalendar:
    """Store a business calendar under its id (add, or replace the stored one).

    Example:
        >>> from crmkit.kernel.calendar import BusinessCalendar
        >>> crm, _ = _example_crm()
        >>> cal = BusinessCalendar.office_hours("Asia/Taipei", ("08:30", "17:30"))
        >>> crm.save_business_calendar("cal_tpe", cal).version
        1
        >>> from datetime import date
        >>> crm.save_business_calendar("cal_tpe", cal.with_closures(date(2026, 2, 2))).version
        2

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "service.configure", command.calendar)
    now = clock.now()
    stored = _add_or_replace(
        uow.business_calendars,
        command.calendar_id,
        command.calendar,
        lambda: StoredCalendar(
            id=command.calendar_id,
            calendar=command.calendar,
            updated_at=now,
            updated_by=command.actor,
        ),
        now=now,
        actor=command.actor,
    )
    uow.commit()
    return stored


def save_sla_policy_set(
    command: SaveSlaPolicySet, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> StoredSlaPolicySet:
    """Store an SLA policy set under its id (add, or replace the stored one).

    Example:
        >>> from datetime import timedelta
        >>> from crmkit.service.sla import SlaPolicy, SlaPolicySet
        >>> crm, _ = _example_crm()
        >>> stored = crm.save_sla_policy_set("sla_default", SlaPolicySet(default="std",
        ...     policies=[SlaPolicy(name="std", first_response=timedelta(hours=8),
        ...                         resolution=timedelta(hours=40))]))
        >>> stored.id, stored.policies.default
        ('sla_default', 'std')

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "service.configure", command.policies)
    now = clock.now()
    stored = _add_or_replace(
        uow.sla_policy_sets,
        command.policy_set_id,
        command.policies,
        lambda: StoredSlaPolicySet(
            id=command.policy_set_id,
            policies=command.policies,
            updated_at=now,
            updated_by=command.actor,
        ),
        now=now,
        actor=command.actor,
    )
    uow.commit()
    return stored


_Stored = TypeVar("_Stored", StoredCalendar, StoredSlaPolicySet)


def _add_or_replace(
    repo: Repository[_Stored],
    id: str,
    value: Any,
    new: Callable[[], _Stored],
    *,
    now: datetime,
    actor: str | None,
) -> _Stored:
    """The stored configuration ``id`` with ``value`` put in: added, or replaced and saved."""
    try:
        stored = repo.get(id)
    except NotFoundError:
        stored = new()
        repo.add(stored)
    else:
        stored.replace(value, now=now, actor=actor)
        repo.save(stored)
    return stored


# ----- maintenance -----------------------------------------------------------------------------


def sign_maintenance_contract(
    command: SignMaintenanceContract,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
) -> MaintenanceContract:
    """Sign a maintenance contract for a stored customer; return it as stored.

    Example:
        >>> from datetime import date
        >>> crm, customer = _example_crm()
        >>> contract = crm.sign_maintenance_contract(customer.id,
        ...     [Equipment(serial="AC-0042", model="Daikin FTXM35", site="Taipei office",
        ...                installed_on=date(2025, 10, 9))],
        ...     ServicePlan(name="half-yearly", rule="FREQ=MONTHLY;INTERVAL=6"),
        ...     starts_on=date(2025, 10, 9), ends_on=date(2027, 10, 8))
        >>> contract.id, contract.version
        ('mc_000001', 1)

    .. versionadded:: 0.1.0
    """
    customer = uow.customers.get(command.customer_id)
    policy.check(command.actor, "maintenance.sign", customer)
    contract = MaintenanceContract.sign(
        id=ids.new_id("mc"),
        customer_id=customer.id,
        equipment=command.equipment,
        plan=command.plan,
        starts_on=command.starts_on,
        ends_on=command.ends_on,
        renewal_notice=command.renewal_notice,
        now=clock.now(),
        actor=command.actor,
    )
    uow.maintenance_contracts.add(contract)
    uow.commit()
    return contract


def renew_maintenance_contract(
    command: RenewMaintenanceContract, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> MaintenanceContract:
    """Extend a contract to a later end date.

    Example:
        >>> from datetime import date
        >>> crm, contract = _example_contract()
        >>> crm.renew_maintenance_contract(contract.id, date(2028, 10, 8)).ends_on
        datetime.date(2028, 10, 8)

    .. versionadded:: 0.1.0
    """
    contract = uow.maintenance_contracts.get(command.contract_id)
    policy.check(command.actor, "maintenance.renew", contract)
    contract.renew(command.until, now=clock.now(), actor=command.actor)
    uow.maintenance_contracts.save(contract)
    uow.commit()
    return contract


def open_work_order(
    command: OpenWorkOrder,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
) -> WorkOrder:
    """Open a work order; a named contract must cover the serial, a named case must exist.

    Example:
        >>> crm, contract = _example_contract()
        >>> job = crm.open_work_order("AC-0042", "maintenance", "half-yearly service",
        ...                           contract_id=contract.id)
        >>> job.status.value, job.contract_id
        ('open', 'mc_000001')
        >>> crm.open_work_order("AC-9999", "repair", "noisy", contract_id=contract.id)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: serial: contract 'mc_000001' does not cover 'AC-9999'; ...

    .. versionadded:: 0.1.0
    """
    resource: object | None = None
    if command.case_id is not None:
        resource = uow.complaints.get(command.case_id)
    if command.contract_id is not None:
        contract = uow.maintenance_contracts.get(command.contract_id)
        serials = [e.serial for e in contract.equipment]
        if command.serial not in serials:
            raise ValidationError(
                f"contract {contract.id!r} does not cover {command.serial!r}; it covers "
                + ", ".join(serials),
                path="serial",
            )
        resource = contract
    policy.check(command.actor, "maintenance.work_orders", resource)
    job = WorkOrder.open(
        id=ids.new_id("wo"),
        serial=command.serial,
        kind=command.kind,
        summary=command.summary,
        contract_id=command.contract_id,
        case_id=command.case_id,
        now=clock.now(),
        actor=command.actor,
    )
    uow.work_orders.add(job)
    uow.commit()
    return job


def _change_job(
    work_order_id: str,
    actor: str | None,
    uow: UnitOfWork,
    policy: AccessPolicy,
    change: Callable[[WorkOrder], object],
) -> WorkOrder:
    job = uow.work_orders.get(work_order_id)
    policy.check(actor, "maintenance.work_orders", job)
    change(job)
    uow.work_orders.save(job)
    uow.commit()
    return job


def dispatch_work_order(
    command: DispatchWorkOrder, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> WorkOrder:
    """Send a technician for a time window (again: reschedule).

    Example:
        >>> from datetime import datetime, timezone
        >>> crm, job = _example_work_order()
        >>> job = crm.dispatch_work_order(job.id, "u_tech",
        ...     start=datetime(2026, 4, 9, 1, tzinfo=timezone.utc),
        ...     end=datetime(2026, 4, 9, 3, tzinfo=timezone.utc))
        >>> job.status.value, job.technician
        ('dispatched', 'u_tech')

    .. versionadded:: 0.1.0
    """
    return _change_job(
        command.work_order_id,
        command.actor,
        uow,
        policy,
        lambda job: job.dispatch(
            command.technician,
            start=command.start,
            end=command.end,
            now=clock.now(),
            actor=command.actor,
        ),
    )


def start_work_order(
    command: StartWorkOrder, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> WorkOrder:
    """The technician starts the work.

    Example:
        >>> crm, job = _example_work_order()
        >>> crm.start_work_order(job.id)
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: cannot move work order 'wo_000001' from 'open' to
        'in_progress'; from 'open' it may move to 'dispatched', 'cancelled'

    .. versionadded:: 0.1.0
    """
    return _change_job(
        command.work_order_id,
        command.actor,
        uow,
        policy,
        lambda job: job.start(now=clock.now(), actor=command.actor),
    )


def record_work_order_part(
    command: RecordWorkOrderPart, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> WorkOrder:
    """Record a part used while the work is in progress.

    Example:
        >>> crm, job = _example_work_order(started=True)
        >>> crm.record_work_order_part(job.id, "FLT-200", 2, description="air filter"
        ...                            ).parts[0].quantity
        2

    .. versionadded:: 0.1.0
    """
    return _change_job(
        command.work_order_id,
        command.actor,
        uow,
        policy,
        lambda job: job.use_part(
            command.sku,
            command.quantity,
            now=clock.now(),
            description=command.description,
            serial=command.serial,
            actor=command.actor,
        ),
    )


def complete_work_order(
    command: CompleteWorkOrder, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> WorkOrder:
    """Complete the work with resolution notes.

    Example:
        >>> crm, job = _example_work_order(started=True)
        >>> crm.complete_work_order(job.id, "Filters replaced").status.value
        'completed'

    .. versionadded:: 0.1.0
    """
    return _change_job(
        command.work_order_id,
        command.actor,
        uow,
        policy,
        lambda job: job.complete(command.notes, now=clock.now(), actor=command.actor),
    )


def cancel_work_order(
    command: CancelWorkOrder, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> WorkOrder:
    """Cancel a work order before the work starts.

    Example:
        >>> crm, job = _example_work_order()
        >>> crm.cancel_work_order(job.id, "customer sold the unit").status.value
        'cancelled'

    .. versionadded:: 0.1.0
    """
    return _change_job(
        command.work_order_id,
        command.actor,
        uow,
        policy,
        lambda job: job.cancel(command.reason, now=clock.now(), actor=command.actor),
    )


def _contracts_between(
    uow: UnitOfWork, start: date, end: date, customer_id: str | None = None
) -> list[MaintenanceContract]:
    query = (
        Query()
        .filter("starts_on", Op.LE, end)
        .filter("ends_on", Op.GE, start - _LOOKBACK)
        .order("starts_on")
    )
    if customer_id is not None:
        query = query.filter("customer_id", Op.EQ, customer_id)
    return list(_scan(uow.maintenance_contracts, query))


def _today(clock: Clock, settings: ServiceSettings) -> date:
    return clock.now().astimezone(ZoneInfo(settings.timezone)).date()


def list_upcoming_services(
    command: ListUpcomingServices,
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    settings: ServiceSettings,
) -> tuple[ScheduledVisit, ...]:
    """The visits the stored contracts schedule from ``start`` to ``end``, by date.

    A visit on a day the service calendar does not work moves to the next working day, and
    says why.

    Example:
        >>> from datetime import date
        >>> crm, contract = _example_contract()
        >>> [(v.due_on.isoformat(), v.scheduled_on.isoformat(), v.moved_because) for v in
        ...  crm.upcoming_services(date(2026, 1, 1), date(2026, 12, 31))]
        [('2026-04-09', '2026-04-09', None), ('2026-10-09', '2026-10-12', '2026-10-09 is a
        holiday on the service calendar')]

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "maintenance.read", None)
    contracts = _contracts_between(uow, command.start, command.end, command.customer_id)
    calendar = _Config(uow, settings).calendar()
    return upcoming_services(contracts, calendar, start=command.start, end=command.end)


def list_renewals_due(
    command: ListRenewalsDue,
    uow: UnitOfWork,
    *,
    clock: Clock,
    policy: AccessPolicy,
    settings: ServiceSettings,
) -> tuple[RenewalDue, ...]:
    """The contracts within their renewal notice on ``today`` (default: today), soonest first.

    Example:
        >>> from datetime import date
        >>> crm, contract = _example_contract()
        >>> [(r.contract_id, r.days_left) for r in crm.renewals_due(date(2027, 9, 1))]
        [('mc_000001', 37)]

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "maintenance.read", None)
    today = command.today or _today(clock, settings)
    query = Query().filter("renewal_from", Op.LE, today).filter("ends_on", Op.GE, today)
    contracts = list(_scan(uow.maintenance_contracts, query.order("ends_on")))
    return contracts_due_for_renewal(contracts, today=today)


# ----- triggers --------------------------------------------------------------------------------


class _Names:
    """Looks up, once each, the names a message greets: users, customers, contacts."""

    def __init__(self, uow: UnitOfWork, people: PeopleDirectory | None) -> None:
        self._uow = uow
        self._people = people
        self._users: dict[str, str] = {}
        self._customers: dict[str, str] = {}
        self._first_contacts: dict[str, Contact | None] = {}

    def user(self, user_id: str | None) -> str:
        if user_id is None:
            return ""
        if user_id not in self._users:
            person = self._people.person(user_id) if self._people is not None else None
            self._users[user_id] = person.name if person is not None else user_id
        return self._users[user_id]

    def customer(self, customer_id: str) -> str:
        if customer_id not in self._customers:
            try:
                found: Customer = self._uow.customers.get(customer_id)
                self._customers[customer_id] = found.name
            except NotFoundError:
                self._customers[customer_id] = customer_id
        return self._customers[customer_id]

    def contact(self, contact_id: str | None, customer_id: str) -> str:
        if contact_id is not None:
            try:
                return str(self._uow.contacts.get(contact_id).name)
            except NotFoundError:
                pass
        return self.customer(customer_id)

    def first_contact(self, customer_id: str) -> Contact | None:
        if customer_id not in self._first_contacts:
            found = self._uow.contacts.query(Query.where(customer_id=customer_id).take(1)).items
            self._first_contacts[customer_id] = found[0] if found else None
        return self._first_contacts[customer_id]


def _utc(at: datetime) -> str:
    return at.astimezone(_UTC).isoformat()


@attrs.frozen
class SlaTrigger:
    """Emits SLA warnings and breach alerts for the open cases, once per deadline.

    For each running clock (not paused, not stopped) of each open case: past its warning share,
    :class:`~crmkit.service.events.SlaDeadlineApproaching`; past its deadline,
    :class:`~crmkit.service.events.SlaDeadlinePassed`. The event id derives from the case, the
    target and the deadline, so a pause that moves the deadline warns again for the new one.
    ``name`` is the owner's name from ``people`` (else the owner's id); the calendars and
    policies are the ones ``settings`` names, as for :func:`show_complaint_sla`.

    Example:
        >>> from datetime import timedelta
        >>> crm, case = _example_case()
        >>> trigger = SlaTrigger(_example_settings())
        >>> now = crm.clock.now() + timedelta(hours=3, minutes=30)
        >>> with crm.store.unit_of_work() as uow:
        ...     [(type(e).__name__, e.target, e.name, e.case) for e in trigger.fire(uow, now)]
        [('SlaDeadlineApproaching', 'first_response', 'u_amy', 'CS-000001')]

    .. versionadded:: 0.1.0
    """

    settings: ServiceSettings = attrs.field(factory=ServiceSettings)
    people: PeopleDirectory | None = attrs.field(default=None, eq=False)
    name: str = "service_sla"

    def fire(self, uow: UnitOfWork, now: datetime) -> list[DomainEvent]:
        """Return the warnings and breach alerts due at ``now``."""
        now = ensure_aware(now, "now")
        config = _Config(uow, self.settings)
        names = _Names(uow, self.people)
        events: list[DomainEvent] = []
        case: Complaint
        for case in _scan(uow.complaints, Query.where(is_open=True).order("filed_at")):
            status = config.status(case, now)
            for clock in status.clocks:
                if clock.paused or clock.stopped_at is not None:
                    continue
                if clock.state is SlaState.BREACHED:
                    kind: type[SlaDeadlineApproaching | SlaDeadlinePassed] = SlaDeadlinePassed
                    label = "breached"
                elif clock.state is SlaState.WARNING:
                    kind, label = SlaDeadlineApproaching, "warning"
                else:
                    continue
                events.append(
                    kind(
                        aggregate_id=case.id,
                        occurred_at=now,
                        event_id=occurrence_id(
                            f"{self.name}_{label}",
                            case.id,
                            f"{clock.target.value}@{_utc(clock.deadline)}",
                        ),
                        owner=case.owner,
                        team=case.team,
                        name=names.user(case.owner),
                        case=case.reference,
                        customer=names.customer(case.customer_id),
                        target=clock.target.value,
                        policy=status.policy,
                        due_at=clock.deadline,
                    )
                )
        return events


def _non_negative(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValidationError(
            f"must be a non-negative timedelta, got {value!r}", path=attribute.name
        )


@attrs.frozen
class CsatSurveyTrigger:
    """Emits a :class:`~crmkit.service.events.CsatSurveyDue` once per resolution of a case.

    A resolved (or closed) case without a CSAT score, resolved at least ``delay`` ago and at
    most ``within`` ago (7 days), gets one survey request to its contact; a case resolved again
    after a reopening gets a new one. ``name`` is the contact's name (the customer's for a case
    without a contact, whose ``contact_id`` is then ``None``: no one to send it to).

    Example:
        >>> crm, case = _example_case(working=True)
        >>> _ = crm.resolve_complaint(case.id, "Re-shipped")
        >>> with crm.store.unit_of_work() as uow:
        ...     [(e.case, e.name, e.contact_id) for e in
        ...      CsatSurveyTrigger().fire(uow, crm.clock.now())]
        [('CS-000001', 'Lin Mei-ling', 'con_000001')]

    .. versionadded:: 0.1.0
    """

    within: timedelta = attrs.field(default=timedelta(days=7), validator=_non_negative)
    delay: timedelta = attrs.field(default=timedelta(0), validator=_non_negative)
    name: str = "service_csat"

    def fire(self, uow: UnitOfWork, now: datetime) -> list[DomainEvent]:
        """Return a survey request for each case resolved in the window."""
        now = ensure_aware(now, "now")
        query = (
            Query.where(csat_score=None)
            .filter("status", Op.IN, (CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value))
            .filter("resolved_at", Op.GE, now - self.within)
            .filter("resolved_at", Op.LE, now - self.delay)
            .order("resolved_at")
        )
        names = _Names(uow, None)
        events: list[DomainEvent] = []
        case: Complaint
        for case in _scan(uow.complaints, query):
            resolved = case.resolved_at
            if resolved is None:  # pragma: no cover - the query selects resolved cases
                continue
            events.append(
                CsatSurveyDue(
                    aggregate_id=case.id,
                    occurred_at=now,
                    event_id=occurrence_id(self.name, case.id, _utc(resolved)),
                    customer_id=case.customer_id,
                    contact_id=case.contact_id,
                    name=names.contact(case.contact_id, case.customer_id),
                    case=case.reference,
                    resolved_at=resolved,
                )
            )
        return events


def _asset(contract: MaintenanceContract) -> str:
    return ", ".join(f"{e.model} ({e.serial})" for e in contract.equipment)


@attrs.frozen
class MaintenanceDueTrigger:
    """Emits a :class:`~crmkit.service.events.MaintenanceVisitDue` once per planned visit.

    A visit scheduled within ``notice`` (14 days) of today (in the settings' time zone) is
    announced to the customer's first contact; the id derives from the contract and the
    plan's date, so each visit is announced once.

    Example:
        >>> from datetime import datetime, timezone
        >>> crm, contract = _example_contract()
        >>> with crm.store.unit_of_work() as uow:
        ...     [(e.asset, e.due_at.isoformat(), e.name) for e in MaintenanceDueTrigger(
        ...         _example_settings()).fire(uow, datetime(2026, 4, 1, tzinfo=timezone.utc))]
        [('Daikin FTXM35 (AC-0042)', '2026-04-09', 'Lin Mei-ling')]

    .. versionadded:: 0.1.0
    """

    settings: ServiceSettings = attrs.field(factory=ServiceSettings)
    notice: timedelta = attrs.field(default=timedelta(days=14), validator=_non_negative)
    name: str = "maintenance_visit"

    def fire(self, uow: UnitOfWork, now: datetime) -> list[DomainEvent]:
        """Return an announcement for each visit scheduled within the notice."""
        now = ensure_aware(now, "now")
        today = now.astimezone(ZoneInfo(self.settings.timezone)).date()
        end = today + timedelta(days=self.notice.days)
        contracts = {c.id: c for c in _contracts_between(uow, today, end)}
        visits = upcoming_services(
            contracts.values(), _Config(uow, self.settings).calendar(), start=today, end=end
        )
        names = _Names(uow, None)
        events: list[DomainEvent] = []
        for visit in visits:
            contract = contracts[visit.contract_id]
            contact = names.first_contact(contract.customer_id)
            events.append(
                MaintenanceVisitDue(
                    aggregate_id=contract.id,
                    occurred_at=now,
                    event_id=occurrence_id(self.name, contract.id, visit.due_on.isoformat()),
                    customer_id=contract.customer_id,
                    contact_id=None if contact is None else contact.id,
                    name=names.customer(contract.customer_id) if contact is None else contact.name,
                    asset=_asset(contract),
                    due_at=visit.scheduled_on,
                    plan=visit.plan,
                    moved_because=visit.moved_because,
                )
            )
        return events


@attrs.frozen
class RenewalDueTrigger:
    """Emits a :class:`~crmkit.service.events.MaintenanceRenewalDue` once per contract term.

    A contract within its renewal notice today (in the settings' time zone) is announced to
    the customer's first contact; the id derives from the contract and its end date, so a
    renewed contract is announced again before its new end.

    Example:
        >>> from datetime import datetime, timezone
        >>> crm, contract = _example_contract()
        >>> with crm.store.unit_of_work() as uow:
        ...     [(e.contract, e.due_at.isoformat(), e.days_left) for e in RenewalDueTrigger(
        ...         _example_settings()).fire(uow, datetime(2027, 9, 1, tzinfo=timezone.utc))]
        [('mc_000001', '2027-10-08', 37)]

    .. versionadded:: 0.1.0
    """

    settings: ServiceSettings = attrs.field(factory=ServiceSettings)
    name: str = "maintenance_renewal"

    def fire(self, uow: UnitOfWork, now: datetime) -> list[DomainEvent]:
        """Return an announcement for each contract whose renewal notice runs today."""
        now = ensure_aware(now, "now")
        today = now.astimezone(ZoneInfo(self.settings.timezone)).date()
        query = Query().filter("renewal_from", Op.LE, today).filter("ends_on", Op.GE, today)
        contracts = {c.id: c for c in _scan(uow.maintenance_contracts, query.order("ends_on"))}
        names = _Names(uow, None)
        events: list[DomainEvent] = []
        for due in contracts_due_for_renewal(contracts.values(), today=today):
            contact = names.first_contact(due.customer_id)
            events.append(
                MaintenanceRenewalDue(
                    aggregate_id=due.contract_id,
                    occurred_at=now,
                    event_id=occurrence_id(self.name, due.contract_id, due.ends_on.isoformat()),
                    customer_id=due.customer_id,
                    contact_id=None if contact is None else contact.id,
                    name=names.customer(due.customer_id) if contact is None else contact.name,
                    contract=due.contract_id,
                    due_at=due.ends_on,
                    days_left=due.days_left,
                )
            )
        return events


def service_subscriptions(*, channel: str = "email") -> Subscriptions:
    """Subscriptions that route the service triggers' events to the built-in templates.

    SLA warnings (``sla_first_response_due``, ``sla_resolution_due``) and breach alerts
    (``sla_breached``, urgent) go to the case's owner (``Recipient.user("owner")``: the
    dispatcher's people directory knows their address); the CSAT survey (``csat_survey``) to
    the case's contact; maintenance visits (``maintenance_due``) and renewals
    (``maintenance_renewal_due``) to the customer's first contact. Switch any off with
    ``.switch(name, enabled=False)``.

    Example:
        >>> [s.name for s in service_subscriptions()]
        ['sla-first-response-warning', 'sla-resolution-warning', 'sla-breached', 'csat-survey',
         'maintenance-visit', 'maintenance-renewal']

    .. versionadded:: 0.1.0
    """
    owner, contact = Recipient.user("owner"), Recipient.contact("contact_id")
    return Subscriptions.of(
        Subscription(
            name="sla-first-response-warning",
            event_type=SlaDeadlineApproaching.event_type,
            template="sla_first_response_due",
            to=owner,
            channel=channel,
            when={"target": "first_response"},
        ),
        Subscription(
            name="sla-resolution-warning",
            event_type=SlaDeadlineApproaching.event_type,
            template="sla_resolution_due",
            to=owner,
            channel=channel,
            when={"target": "resolution"},
        ),
        Subscription(
            name="sla-breached",
            event_type=SlaDeadlinePassed.event_type,
            template="sla_breached",
            to=owner,
            channel=channel,
            urgent=True,
        ),
        Subscription(
            name="csat-survey",
            event_type=CsatSurveyDue.event_type,
            template="csat_survey",
            to=contact,
            channel=channel,
        ),
        Subscription(
            name="maintenance-visit",
            event_type=MaintenanceVisitDue.event_type,
            template="maintenance_due",
            to=contact,
            channel=channel,
        ),
        Subscription(
            name="maintenance-renewal",
            event_type=MaintenanceRenewalDue.event_type,
            template="maintenance_renewal_due",
            to=contact,
            channel=channel,
        ),
    )


# ----- wiring --------------------------------------------------------------------------------


def command_handlers(
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
    settings: ServiceSettings | None = None,
    hooks: ServiceHooks | None = None,
) -> Mapping[type, CommandHandler]:
    """Return this context's command handlers bound to their collaborators, by command class.

    ``settings`` defaults to ``ServiceSettings()``, ``hooks`` to ``ServiceHooks()``.

    Example:
        >>> from crmkit.access import AllowAll
        >>> from crmkit.kernel import ManualClock, SequentialIds
        >>> handlers = command_handlers(clock=ManualClock(), ids=SequentialIds(), policy=AllowAll())
        >>> len(handlers), sorted(cls.__name__ for cls in handlers)[:3]
        (28, ['AcknowledgeComplaint', 'AddComplaintNote', 'AssignComplaint'])

    .. versionadded:: 0.1.0
    """
    if settings is None:
        settings = ServiceSettings()
    elif not isinstance(settings, ServiceSettings):
        raise ValidationError(
            f"must be ServiceSettings, not {type(settings).__name__}", path="settings"
        )
    if hooks is None:
        hooks = ServiceHooks()
    elif not isinstance(hooks, ServiceHooks):
        raise ValidationError(f"must be ServiceHooks, not {type(hooks).__name__}", path="hooks")
    c, p, st = clock, policy, settings
    partial = functools.partial
    return {
        FileComplaint: partial(
            file_complaint, clock=c, ids=ids, policy=p, settings=st, hooks=hooks
        ),
        AcknowledgeComplaint: partial(acknowledge_complaint, clock=c, policy=p, settings=st),
        AssignComplaint: partial(assign_complaint, clock=c, policy=p, settings=st),
        ReplyToComplaint: partial(reply_to_complaint, clock=c, policy=p),
        RecordCustomerMessage: partial(record_customer_message, clock=c, policy=p),
        AddComplaintNote: partial(add_complaint_note, clock=c, policy=p),
        StartComplaintWork: partial(start_complaint_work, clock=c, policy=p),
        ResolveComplaint: partial(resolve_complaint, clock=c, policy=p, settings=st),
        CloseComplaint: partial(close_complaint, clock=c, policy=p),
        ReopenComplaint: partial(reopen_complaint, clock=c, policy=p, settings=st),
        CancelComplaint: partial(cancel_complaint, clock=c, policy=p),
        GrantCompensation: partial(grant_compensation, clock=c, policy=p, settings=st, hooks=hooks),
        RecordCsat: partial(record_csat, clock=c, policy=p),
        ShowComplaintSla: partial(show_complaint_sla, clock=c, policy=p, settings=st),
        ShowPublicComplaint: partial(show_public_complaint, clock=c, policy=p, settings=st),
        CheckSlaBreaches: partial(check_sla_breaches, clock=c, policy=p, settings=st),
        SaveBusinessCalendar: partial(save_business_calendar, clock=c, policy=p),
        SaveSlaPolicySet: partial(save_sla_policy_set, clock=c, policy=p),
        SignMaintenanceContract: partial(sign_maintenance_contract, clock=c, ids=ids, policy=p),
        RenewMaintenanceContract: partial(renew_maintenance_contract, clock=c, policy=p),
        OpenWorkOrder: partial(open_work_order, clock=c, ids=ids, policy=p),
        DispatchWorkOrder: partial(dispatch_work_order, clock=c, policy=p),
        StartWorkOrder: partial(start_work_order, clock=c, policy=p),
        RecordWorkOrderPart: partial(record_work_order_part, clock=c, policy=p),
        CompleteWorkOrder: partial(complete_work_order, clock=c, policy=p),
        CancelWorkOrder: partial(cancel_work_order, clock=c, policy=p),
        ListUpcomingServices: partial(list_upcoming_services, policy=p, settings=st),
        ListRenewalsDue: partial(list_renewals_due, clock=c, policy=p, settings=st),
    }


# ----- docstring fixtures --------------------------------------------------------------------


def _example_settings() -> ServiceSettings:
    """Taipei office hours, a team of two in round robin, and a team lead's limits."""
    from crmkit.kernel.calendar import BusinessCalendar
    from crmkit.service import CompensationLimit
    from crmkit.service.assignment import CategoryRoute, Team

    return ServiceSettings(
        complaints=ComplaintPolicy(
            categories=["delivery", "billing", "product"],
            root_causes=["carrier_delay", "pricing_error"],
            compensation_limits=[
                CompensationLimit(
                    role="team_lead", kind="voucher", max_amount=Money("1000", "TWD")
                ),
                CompensationLimit(role="team_lead", kind="goodwill_points", max_points=2000),
            ],
        ),
        sla=SlaPolicySet(
            default="standard",
            policies=[
                SlaPolicy(
                    name="standard",
                    first_response=timedelta(hours=4),
                    resolution=timedelta(hours=27),
                )
            ],
        ),
        timezone="Asia/Taipei",
        calendar=BusinessCalendar.office_hours(
            "Asia/Taipei",
            ("09:00", "18:00"),
            holidays=[date(2026, 4, 3), date(2026, 10, 9)],
            name="Taipei desk",
        ),
        assignment=CaseAssignmentRules(
            fallback_owner="u_lead",
            teams=[Team(name="desk", members=["u_amy", "u_bob"], lead="u_lead")],
            routes=[
                CategoryRoute(name="front desk", categories=["delivery", "billing"], team="desk")
            ],
        ),
    )


def _example_crm(
    *,
    policy: AccessPolicy | None = None,
    hooks: ServiceHooks | None = None,
    database: str | None = None,
) -> tuple[CRM, Customer]:
    """A CRM at Monday 2026-01-05 09:00 in Taipei, one customer with one contact."""
    from crmkit.app.bootstrap import bootstrap
    from crmkit.kernel.ids import SequentialIds
    from crmkit.kernel.time import ManualClock

    now = datetime(2026, 1, 5, 9, tzinfo=ZoneInfo("Asia/Taipei"))
    crm = bootstrap(
        clock=ManualClock(now),
        ids=SequentialIds(),
        policy=policy,
        database=database,
        service=_example_settings(),
        service_hooks=hooks,
    )
    customer = crm.register_customer("Formosa Tea Co.")
    crm.add_contact(customer.id, "Lin Mei-ling", emails=["mei@formosa-tea.example"])
    return crm, customer


def _example_case(
    *,
    policy: AccessPolicy | None = None,
    acknowledged: bool = True,
    working: bool = False,
) -> tuple[CRM, Complaint]:
    """A delivery complaint of the example customer, filed now (and acknowledged by u_amy)."""
    crm, customer = _example_crm(policy=policy)
    contact = crm.contacts_of(customer.id)[0]
    case = crm.file_complaint(
        customer.id,
        "Parcel never arrived",
        category="delivery",
        channel="email",
        contact_id=contact.id,
    )
    if acknowledged or working:
        case = crm.acknowledge_complaint(case.id, actor="u_amy")
    if working:
        case = crm.start_complaint_work(case.id, actor="u_amy")
    return crm, case


def _example_contract() -> tuple[CRM, MaintenanceContract]:
    """A half-yearly contract on one air conditioner, from 2025-10-09 to 2027-10-08."""
    crm, customer = _example_crm()
    contract = crm.sign_maintenance_contract(
        customer.id,
        [
            Equipment(
                serial="AC-0042",
                model="Daikin FTXM35",
                site="Taipei office",
                installed_on=date(2025, 10, 9),
            )
        ],
        ServicePlan(name="half-yearly", rule="FREQ=MONTHLY;INTERVAL=6"),
        starts_on=date(2025, 10, 9),
        ends_on=date(2027, 10, 8),
    )
    return crm, contract


def _example_work_order(*, started: bool = False) -> tuple[CRM, WorkOrder]:
    """An open maintenance work order on the example contract (dispatched and started if asked)."""
    crm, contract = _example_contract()
    job = crm.open_work_order(
        "AC-0042", "maintenance", "half-yearly service", contract_id=contract.id
    )
    if started:
        now = crm.clock.now()
        job = crm.dispatch_work_order(job.id, "u_tech", start=now, end=now + timedelta(hours=2))
        job = crm.start_work_order(job.id, actor="u_tech")
    return crm, job
