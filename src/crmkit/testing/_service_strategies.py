"""Hypothesis strategies for the service context: calendars, SLA policies, complaints.

:mod:`crmkit.testing.strategies` may re-export these. Every strategy builds valid objects through
the classes' own constructors, and leans towards what breaks SLA code in practice: zones with
daylight-saving changes (London, New York, Lord Howe's half hour) next to Taipei's none, split
shifts and night shifts, holidays and closures around the changes, pauses that start or end
outside working time, reopened cases.

* :func:`service_calendars`: business calendars with holidays and closures near DST changes;
* :func:`sla_policies`, :func:`sla_policy_sets`, :func:`complaint_policies`;
* :func:`complaints`: cases filed and moved along the workflow by legal moves only;
* :func:`maintenance_contracts`, :func:`work_orders` (at every stage of their life).

Example:
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=5, database=None)
    ... @given(complaints())
    ... def test_acknowledged_cases_have_owners(case):
    ...     assert case.owner is not None or case.status.value in ("new", "cancelled")
    >>> test_acknowledged_cases_have_owners()

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from crmkit.kernel.calendar import BusinessCalendar, Closure, Weekday, WorkingHours
from crmkit.service import CaseStatus, Channel, Complaint, ComplaintPolicy, Impact, Urgency
from crmkit.service.assignment import (
    CaseAssignmentRules,
    CategoryRoute,
    Strategy,
    Team,
    TeamMember,
)
from crmkit.service.maintenance import (
    Equipment,
    MaintenanceContract,
    ServicePlan,
    WorkOrder,
    WorkOrderKind,
)
from crmkit.service.sla import EscalationLevel, SlaPolicy, SlaPolicySet, SlaRule

__all__ = [
    "SERVICE_ZONES",
    "case_assignment_rules",
    "complaint_policies",
    "complaints",
    "equipment",
    "maintenance_contracts",
    "service_calendars",
    "sla_policies",
    "service_plans",
    "sla_policy_sets",
    "work_orders",
]

#: Zones the service strategies draw from: two DST rules, a half-hour DST, and none.
SERVICE_ZONES = ("Europe/London", "Asia/Taipei", "America/New_York", "Australia/Lord_Howe")

#: Periods on whole hours: a wall time inside a DST gap never bounds a period (see
#: ``BusinessCalendar`` for how such periods read), so a minute-by-minute reference agrees.
_SHIFTS = (
    (("09:00", "18:00"),),
    (("09:00", "12:00"), ("13:00", "18:00")),
    (("08:00", "12:00"), ("13:00", "17:00")),
    (("00:00", "06:00"), ("22:00", "00:00")),
    (("00:00", "00:00"),),
    (("01:00", "03:00"),),
)
_UTC = timezone.utc
_CATEGORIES = ("delivery", "billing", "product_defect", "服務態度", "installation")
_ROOT_CAUSES = ("carrier_delay", "pricing_error", "manufacturing", "training")


@st.composite
def _calendars(
    draw: st.DrawFn, zones: tuple[str, ...], start: date, days: int, closures: bool
) -> BusinessCalendar:
    weekdays = draw(st.lists(st.sampled_from(Weekday), min_size=1, max_size=7, unique=True))
    hours = [
        WorkingHours(day, begin, end)
        for day in weekdays
        for begin, end in draw(st.sampled_from(_SHIFTS))
    ]
    holidays = draw(
        st.lists(st.integers(0, days).map(lambda n: start + timedelta(days=n)), max_size=8)
    )
    spans: list[Closure] = []
    if closures:
        first = datetime.combine(start, datetime.min.time(), tzinfo=_UTC)
        for _ in range(draw(st.integers(0, 3))):
            begin = first + timedelta(minutes=draw(st.integers(0, days * 24 * 60)))
            length = timedelta(minutes=draw(st.integers(1, 3 * 24 * 60)))
            spans.append(Closure(start=begin, end=begin + length, reason="closed"))
    return BusinessCalendar(
        timezone=draw(st.sampled_from(zones)),
        hours=hours,
        holidays=holidays,
        closures=spans,
        name=draw(st.none() | st.sampled_from(("support", "客服", "London desk"))),
    )


def service_calendars(
    zones: tuple[str, ...] = SERVICE_ZONES,
    *,
    start: date = date(2026, 3, 1),
    days: int = 270,
    closures: bool = True,
) -> st.SearchStrategy[BusinessCalendar]:
    """Business calendars in ``zones`` whose holidays and closures fall in ``days`` from ``start``.

    Periods start and end on whole hours; the default window holds both 2026 DST changes of
    every zone in :data:`SERVICE_ZONES`.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=5, database=None)
        ... @given(service_calendars())
        ... def test_a_week_holds_working_time(calendar):
        ...     assert calendar.weekly_hours > timedelta(0)
        >>> test_a_week_holds_working_time()

    .. versionadded:: 0.1.0
    """
    return _calendars(tuple(zones), start, days, closures)


@st.composite
def _sla_policies(draw: st.DrawFn) -> SlaPolicy:
    first = timedelta(minutes=draw(st.integers(1, 48 * 60)))
    resolution = first + timedelta(minutes=draw(st.integers(0, 10 * 24 * 60)))
    levels = []
    if draw(st.booleans()):
        levels.append(
            EscalationLevel(
                level="team_lead",
                target="resolution",
                after=timedelta(minutes=draw(st.integers(1, 10 * 24 * 60))),
                notify="team_lead",
            )
        )
    if draw(st.booleans()):
        levels.append(
            EscalationLevel(
                level="manager",
                target=draw(st.sampled_from(("first_response", "resolution"))),
                after=timedelta(minutes=draw(st.integers(1, 10 * 24 * 60))),
                notify="service_manager",
            )
        )
    pauses = draw(
        st.sampled_from(
            (
                ("awaiting_customer",),
                (),
                ("awaiting_customer", "acknowledged"),
            )
        )
    )
    return SlaPolicy(
        name=draw(st.sampled_from(("standard", "gold", "p1", "標準"))),
        first_response=first,
        resolution=resolution,
        pause_statuses=pauses,
        warn_at=draw(st.sampled_from(("0.5", "0.75", "0.8", "1"))),
        escalations=levels,
    )


def sla_policies() -> st.SearchStrategy[SlaPolicy]:
    """SLA policies with targets from a minute to days, pauses, warnings and escalations.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=5, database=None)
        ... @given(sla_policies())
        ... def test_resolution_is_no_sooner(policy):
        ...     assert policy.resolution >= policy.first_response
        >>> test_resolution_is_no_sooner()

    .. versionadded:: 0.1.0
    """
    return _sla_policies()


@st.composite
def _sla_policy_sets(draw: st.DrawFn) -> SlaPolicySet:
    policies = draw(st.lists(sla_policies(), min_size=1, max_size=4, unique_by=lambda p: p.name))
    names = [p.name for p in policies]
    rules = []
    for i in range(draw(st.integers(0, 4))):
        rules.append(
            SlaRule(
                name=f"rule {i}",
                policy=draw(st.sampled_from(names)),
                priorities=draw(st.lists(st.sampled_from(("critical", "high", "medium", "low")))),
                tiers=draw(st.lists(st.sampled_from(("gold", "silver", "Platinum")))),
                channels=draw(st.lists(st.sampled_from(Channel), max_size=3)),
            )
        )
    return SlaPolicySet(policies=policies, rules=rules, default=draw(st.sampled_from(names)))


def sla_policy_sets() -> st.SearchStrategy[SlaPolicySet]:
    """Policy sets whose rules name their own policies, by priority, tier and channel.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=5, database=None)
        ... @given(sla_policy_sets())
        ... def test_every_case_gets_a_policy(policies):
        ...     assert policies.select_for(priority="low", channel="email").policy
        >>> test_every_case_gets_a_policy()

    .. versionadded:: 0.1.0
    """
    return _sla_policy_sets()


def complaint_policies() -> st.SearchStrategy[ComplaintPolicy]:
    """Complaint policies with some of a fixed set of categories and root causes.

    Example:
        >>> from hypothesis import find
        >>> "delivery" in find(complaint_policies(), lambda p: "delivery" in p.categories
        ...                    ).categories
        True

    .. versionadded:: 0.1.0
    """
    return st.builds(
        ComplaintPolicy,
        categories=st.lists(st.sampled_from(_CATEGORIES), min_size=1, unique=True),
        root_causes=st.lists(st.sampled_from(_ROOT_CAUSES), unique=True),
        reopen_within=st.integers(0, 30).map(lambda d: timedelta(days=d)),
    )


_MOVES = ("acknowledge", "start", "wait", "reply", "customer", "resolve", "close", "cancel")


@st.composite
def _complaints(
    draw: st.DrawFn, start: datetime, policy: ComplaintPolicy | None, steps: int
) -> Complaint:
    policy = policy if policy is not None else draw(complaint_policies())
    now = start + timedelta(minutes=draw(st.integers(0, 60 * 24 * 60)))
    case = Complaint.file(
        id=f"case_{draw(st.integers(1, 10**6))}",
        reference=f"CS-{draw(st.integers(1000, 999_999))}",
        now=now,
        channel=draw(st.sampled_from(Channel)),
        customer_id=draw(st.sampled_from(("cus_1", "cus_2", "cus_3"))),
        subject=draw(st.sampled_from(("Parcel never arrived", "Wrong invoice", "壞了"))),
        category=draw(st.sampled_from(policy.categories)),
        impact=draw(st.sampled_from(Impact)),
        urgency=draw(st.sampled_from(Urgency)),
        policy=policy,
        customer_tier=draw(st.none() | st.sampled_from(("gold", "silver"))),
    )
    for _ in range(draw(st.integers(0, steps))):
        now += timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        move = draw(st.sampled_from(_MOVES))
        _try(case, move, now, policy, draw)
    case.pull_events()
    return case


def _try(case: Complaint, move: str, now: datetime, policy: ComplaintPolicy, draw: Any) -> None:
    status = case.status
    if move == "acknowledge" and status is CaseStatus.NEW:
        case.acknowledge(now=now, owner=draw(st.sampled_from(("u_amy", "u_bob"))))
    elif move == "start" and status in (CaseStatus.ACKNOWLEDGED, CaseStatus.AWAITING_CUSTOMER):
        case.start_work(now=now)
    elif move == "wait" and status is CaseStatus.IN_PROGRESS:
        case.wait_for_customer(now=now)
    elif move == "reply" and status in (CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS):
        case.reply("We are on it.", now=now, by=case.owner or "u_amy")
    elif move == "customer" and status.is_open:
        case.receive_customer_message("Any news?", now=now)
    elif move == "resolve" and status in (CaseStatus.IN_PROGRESS, CaseStatus.AWAITING_CUSTOMER):
        case.resolve(now=now, summary="fixed", policy=policy)
    elif move == "close" and status is CaseStatus.RESOLVED:
        case.close(now=now)
    elif move == "cancel" and status.is_open and draw(st.integers(0, 4)) == 0:
        case.cancel("spam", note="advertising", now=now)


def complaints(
    *,
    start: datetime = datetime(2026, 3, 1, tzinfo=_UTC),
    policy: ComplaintPolicy | None = None,
    steps: int = 8,
) -> st.SearchStrategy[Complaint]:
    """Complaints filed within 60 days of ``start`` and moved by up to ``steps`` legal moves.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=5, database=None)
        ... @given(complaints())
        ... def test_history_starts_new(case):
        ...     assert case.status_history[0].new.value == "new"
        >>> test_history_starts_new()

    .. versionadded:: 0.1.0
    """
    return _complaints(start, policy, steps)


_PLAN_RULES = (
    "FREQ=MONTHLY;INTERVAL=6",
    "FREQ=MONTHLY;INTERVAL=3",
    "FREQ=YEARLY",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=SA",
    "FREQ=MONTHLY;BYMONTHDAY=31",
)


@st.composite
def _maintenance_contracts(draw: st.DrawFn, start: date) -> MaintenanceContract:
    starts = start + timedelta(days=draw(st.integers(0, 365)))
    ends = starts + timedelta(days=draw(st.integers(0, 3 * 366)))
    serials = draw(
        st.lists(st.sampled_from(("AC-0042", "AC-0043", "EM-3", "冷氣-1")), min_size=1, unique=True)
    )
    contract = MaintenanceContract.sign(
        id=f"mc_{draw(st.integers(1, 10**6))}",
        customer_id=draw(st.sampled_from(("cus_1", "cus_2"))),
        equipment=[
            Equipment(
                serial=serial,
                model=draw(st.sampled_from(("Daikin FTXM35", "Espresso EM-3"))),
                site=draw(st.sampled_from(("Taipei office", "台北倉庫"))),
                installed_on=starts - timedelta(days=draw(st.integers(0, 60))),
            )
            for serial in serials
        ],
        plan=ServicePlan(
            name=draw(st.sampled_from(("half-yearly", "quarterly", "plan"))),
            rule=draw(st.sampled_from(_PLAN_RULES)),
            move_to_working_day=draw(st.booleans()),
        ),
        starts_on=starts,
        ends_on=ends,
        renewal_notice=timedelta(days=draw(st.integers(0, 120))),
        now=datetime.combine(starts, datetime.min.time(), tzinfo=_UTC),
    )
    contract.pull_events()
    return contract


def maintenance_contracts(
    *, start: date = date(2026, 1, 1)
) -> st.SearchStrategy[MaintenanceContract]:
    """Maintenance contracts starting within a year of ``start``, for up to three years.

    Plans include every-other-Saturday and 31st-of-the-month rules, so visits land on days
    off and in short months.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=5, database=None)
        ... @given(maintenance_contracts())
        ... def test_terms_are_ordered(contract):
        ...     assert contract.starts_on <= contract.ends_on
        >>> test_terms_are_ordered()

    .. versionadded:: 0.1.0
    """
    return _maintenance_contracts(start)


@st.composite
def _work_orders(draw: st.DrawFn, start: datetime) -> WorkOrder:
    now = start + timedelta(minutes=draw(st.integers(0, 60 * 24 * 60)))
    job = WorkOrder.open(
        id=f"wo_{draw(st.integers(1, 10**6))}",
        serial=draw(st.sampled_from(("AC-0042", "EM-3"))),
        kind=draw(st.sampled_from(WorkOrderKind)),
        summary=draw(st.sampled_from(("half-yearly service", "noisy fan", "漏水"))),
        contract_id=draw(st.none() | st.just("mc_1")),
        case_id=draw(st.none() | st.just("case_1")),
        now=now,
    )
    stage = draw(st.sampled_from(("open", "dispatched", "in_progress", "completed", "cancelled")))
    if stage == "cancelled":
        job.cancel("customer sold the unit", now=now)
    elif stage != "open":
        visit = now + timedelta(days=draw(st.integers(0, 30)))
        job.dispatch("u_tech", start=visit, end=visit + timedelta(hours=2), now=now)
        if stage in ("in_progress", "completed"):
            job.start(now=visit)
            for _ in range(draw(st.integers(0, 3))):
                job.use_part(
                    draw(st.sampled_from(("FLT-200", "FAN-12"))), draw(st.integers(1, 4)), now=visit
                )
        if stage == "completed":
            job.complete("done", now=visit + timedelta(hours=2))
    job.pull_events()
    return job


def work_orders(
    *, start: datetime = datetime(2026, 3, 1, tzinfo=_UTC)
) -> st.SearchStrategy[WorkOrder]:
    """Work orders opened within 60 days of ``start``, at every stage of their life.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=5, database=None)
        ... @given(work_orders())
        ... def test_history_starts_open(job):
        ...     assert job.history[0].new.value == "open"
        >>> test_history_starts_open()

    .. versionadded:: 0.1.0
    """
    return _work_orders(start)


# ----- assignment, plans and equipment -------------------------------------------------------

_AGENTS = ("u_amy", "u_bob", "u_ivy", "u_lin", "u_chen")
_SKILLS = ("zh-tw", "en", "billing", "aircon", "espresso")


@st.composite
def _teams(draw: st.DrawFn, name: str) -> Team:
    users = draw(st.lists(st.sampled_from(_AGENTS), min_size=1, max_size=4, unique=True))
    return Team(
        name=name,
        members=[
            TeamMember(user, skills=draw(st.lists(st.sampled_from(_SKILLS), max_size=2)))
            for user in users
        ],
        strategy=draw(st.sampled_from(Strategy)),
        lead=draw(st.none() | st.sampled_from(_AGENTS)),
        manager=draw(st.none() | st.sampled_from(_AGENTS)),
        max_open=draw(st.none() | st.integers(1, 50)),
    )


@st.composite
def _case_assignment_rules(draw: st.DrawFn) -> CaseAssignmentRules:
    names = draw(st.lists(st.sampled_from(("logistics", "billing", "客服一組")), unique=True))
    teams = [draw(_teams(name)) for name in names]
    routes = [
        CategoryRoute(
            name=f"route {n + 1}",
            categories=draw(st.lists(st.sampled_from(_CATEGORIES), min_size=1, unique=True)),
            team=draw(st.sampled_from(names)),
            skills=draw(st.lists(st.sampled_from(_SKILLS), max_size=1)),
        )
        for n in range(draw(st.integers(0, 3) if names else st.just(0)))
    ]
    return CaseAssignmentRules(
        fallback_owner=draw(st.sampled_from(_AGENTS)),
        fallback_team=draw(st.none() | st.sampled_from(names)) if names else None,
        teams=teams,
        routes=routes,
    )


def case_assignment_rules() -> st.SearchStrategy[CaseAssignmentRules]:
    """Valid complaint assignment rules: teams with skills, routes to them, a fallback owner.

    Every route names a team that exists; team strategies are round robin, least loaded or
    by skill; some teams cap open cases.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(case_assignment_rules())
        ... def test_routes_reach_teams(rules):
        ...     assert {r.team for r in rules.routes} <= {t.name for t in rules.teams}
        >>> test_routes_reach_teams()

    .. versionadded:: 0.1.0
    """
    return _case_assignment_rules()


def service_plans() -> st.SearchStrategy[ServicePlan]:
    """Valid maintenance service plans: RRULEs every 2 weeks to yearly, 31st-of-month included.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(service_plans())
        ... def test_rules_are_rrules(plan):
        ...     assert plan.rule.startswith("FREQ=")
        >>> test_rules_are_rrules()

    .. versionadded:: 0.1.0
    """
    return st.builds(
        ServicePlan,
        name=st.sampled_from(("half-yearly", "quarterly", "年度保養")),
        rule=st.sampled_from(_PLAN_RULES),
        move_to_working_day=st.booleans(),
    )


def equipment(*, installed_from: date = date(2020, 1, 1)) -> st.SearchStrategy[Equipment]:
    """Valid equipment under contract: a serial, a model, a site, installed on or after a date.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(equipment())
        ... def test_installed_in_range(unit):
        ...     assert unit.installed_on.year >= 2020
        >>> test_installed_in_range()

    .. versionadded:: 0.1.0
    """
    return st.builds(
        Equipment,
        serial=st.sampled_from(("AC-0042", "AC-0043", "EM-3", "冷氣-1")),
        model=st.sampled_from(("Daikin FTXM35", "Espresso EM-3", "日立 RAS-36")),
        site=st.sampled_from(("Taipei office", "台北倉庫", "Kaohsiung shop")),
        installed_on=st.integers(0, 3650).map(lambda n: installed_from + timedelta(days=n)),
    )
