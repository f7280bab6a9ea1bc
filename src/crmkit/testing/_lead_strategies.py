"""Hypothesis strategies for the leads context and business calendars.

:mod:`crmkit.testing.strategies` re-exports these. This module reaches the shared strategies
(money, emails, phones, ids...) only when a strategy is built, never at import, so either
module may import the other first.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from types import ModuleType
from typing import Any

from hypothesis import strategies as st

from crmkit.kernel.calendar import BusinessCalendar, Weekday, WorkingHours
from crmkit.leads import (
    DISQUALIFICATION_REASONS,
    RECYCLE_MOVES,
    Activity,
    ActivityKind,
    ConversionResult,
    IntakeConsent,
    Lead,
    LeadStatus,
    SourceChannel,
)
from crmkit.leads.assignment import AssignmentRule, AssignmentRules, Strategy
from crmkit.leads.qualification import BANT, Criterion, Framework, StageThresholds
from crmkit.leads.scoring import (
    FREE_MAIL_DOMAINS,
    ActivityPenaltyRule,
    BudgetRule,
    CategoryCaps,
    CompanySizeRule,
    EmailDomainRule,
    EngagementRule,
    FitGrades,
    IndustryRule,
    JobTitleRule,
    RegionRule,
    ScoringModel,
)

__all__ = [
    "activities",
    "business_calendars",
    "lead_assignment_rules",
    "leads",
    "qualification_frameworks",
    "scoring_models",
    "stage_thresholds",
]


def _base() -> ModuleType:
    """The shared strategies module, imported on first use (see the module docstring)."""
    from crmkit.testing import strategies

    return strategies


_NOW = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
_INDUSTRIES = ("Software", "Manufacturing", "Retail", "零售", "製造業", "Finance", "Education")
_REGIONS = ("TW", "TW-TPE", "CN", "CN-SH", "HK", "US", "北部", "华东")
_TITLES = ("CEO", "CTO", "IT Director", "採購經理", "总经理", "Intern", "Sales Manager", "Student")
_CAMPAIGNS = ("2023 trade show", "spring promo", "webinar: pricing", "台北國際電腦展")
_CALENDAR_ZONES = ("America/New_York", "Asia/Taipei", "Asia/Shanghai", "Europe/London", "UTC")
_SPLITS = (
    (("09:00", "18:00"),),
    (("09:00", "12:00"), ("13:00", "18:00")),
    (("08:30", "12:00"), ("13:30", "17:30")),
    (("00:00", "06:00"), ("22:00", "00:00")),
    (("00:00", "00:00"),),
)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def activities(
    min_at: datetime = _NOW - timedelta(days=180),
    max_at: datetime = _NOW,
    *,
    kinds: st.SearchStrategy[ActivityKind] | None = None,
) -> st.SearchStrategy[Activity]:
    """Activities of any kind between ``min_at`` and ``max_at`` (aware), some by a user.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(activities())
        ... def test_activities_are_aware(activity):
        ...     assert activity.at.tzinfo is not None
        >>> test_activities_are_aware()

    .. versionadded:: 0.1.0
    """
    return st.builds(
        Activity,
        kind=kinds if kinds is not None else st.sampled_from(ActivityKind),
        at=_base().aware_datetimes(min_at, max_at),
        detail=_optional(st.sampled_from(("/pricing", "whitepaper.pdf", "demo call", "展覽"))),
        by=_optional(_base().ids("u")),
    )


@st.composite
def _leads(draw: st.DrawFn, now: datetime, statuses: bool, parts: dict[str, Any]) -> Lead:
    captured = draw(parts["captured"])
    email = draw(_optional(parts["emails"]))
    phone = draw(parts["phones"]) if email is None else draw(_optional(parts["phones"]))
    owner = draw(_optional(st.sampled_from(("u_amy", "u_bob", "u_kim"))))
    lead = Lead.capture(
        id=draw(parts["ids"]),
        now=now,
        captured_at=captured,
        source_channel=draw(st.sampled_from(SourceChannel)),
        name=draw(_optional(parts["names"])),
        email=email,
        phone=phone,
        job_title=draw(_optional(st.sampled_from(_TITLES))),
        company=draw(_optional(parts["names"])),
        industry=draw(_optional(st.sampled_from(_INDUSTRIES))),
        company_size=draw(_optional(st.integers(0, 100_000))),
        region=draw(_optional(st.sampled_from(_REGIONS))),
        budget=draw(_optional(parts["budgets"])),
        campaign=draw(_optional(st.sampled_from(_CAMPAIGNS))),
        external_ref=draw(_optional(parts["refs"])),
        consent=draw(
            _optional(
                st.builds(
                    IntakeConsent,
                    marketing=st.booleans(),
                    source=st.just("web form"),
                    at=st.just(captured),
                )
            )
        ),
        owner=owner,
    )
    for activity in draw(st.lists(activities(captured, now), max_size=8)):
        lead.log_activity(
            activity.kind, now=now, at=activity.at, detail=activity.detail, by=activity.by
        )
    if statuses:
        for target in draw(st.lists(st.sampled_from(LeadStatus), max_size=4)):
            if target not in lead.allowed_moves:
                continue
            if target is LeadStatus.CONVERTED:
                lead.mark_converted(
                    ConversionResult(customer_id="cus_1", contact_id="con_1"), now=now
                )
            elif target is LeadStatus.DISQUALIFIED:
                lead.disqualify(draw(st.sampled_from(DISQUALIFICATION_REASONS)), now=now)
            elif (lead.status, target) not in RECYCLE_MOVES:
                lead.move_to(target, now=now)
    lead.pull_events()
    return lead


def leads(now: datetime = _NOW, *, statuses: bool = True) -> st.SearchStrategy[Lead]:
    """Leads captured in the year before ``now``, with activities and (``statuses``) moves.

    Every lead is built through :meth:`~crmkit.leads.Lead.capture` and its methods, so it is one
    a host could have stored; pending events are cleared. Emails include free-mail domains.

    Example:
        >>> from hypothesis import given, settings
        >>> from crmkit.leads import STATUS_GRAPH
        >>> @settings(max_examples=10, database=None)
        ... @given(leads())
        ... def test_a_lead_is_in_its_graph(lead):
        ...     assert lead.status in STATUS_GRAPH and lead.pending_events == ()
        >>> test_a_lead_is_in_its_graph()

    .. versionadded:: 0.1.0
    """
    base = _base()
    parts = {
        "captured": base.aware_datetimes(now - timedelta(days=365), now),
        "emails": base.emails() | st.sampled_from(("amy@gmail.com", "bob@qq.com")),
        "phones": base.phones(),
        "ids": base.ids("lead"),
        "names": base.names(),
        "budgets": base.money(st.sampled_from(("TWD", "USD")), min_value=0),
        "refs": base.ids("form"),
    }
    return _leads(now, statuses, parts)


def _points(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.integers(low * 100, high * 100).map(lambda cents: Decimal(cents).scaleb(-2))


def _durations() -> st.SearchStrategy[timedelta]:
    return st.integers(1, 24 * 120).map(lambda hours: timedelta(hours=hours))


@st.composite
def _scoring_models(draw: st.DrawFn, max_rules: int) -> ScoringModel:
    counter = iter(range(1_000_000))

    def name(kind: str) -> str:
        return f"{kind} {next(counter)}"

    def some(strategy: st.SearchStrategy[Any]) -> list[Any]:
        return draw(st.lists(strategy, max_size=max(1, max_rules // 4)))

    industries = some(
        st.builds(
            lambda values, points: IndustryRule(name("industry"), values, points),
            st.lists(st.sampled_from(_INDUSTRIES), min_size=1, max_size=3),
            _points(-20, 40),
        )
    )
    sizes = some(
        st.builds(
            lambda low, span, points: CompanySizeRule(
                name("size"), low, None if span is None else (low or 0) + span, points
            ),
            _optional(st.integers(0, 5000)),
            st.integers(0, 5000),
            _points(-20, 40),
        )
    )
    budgets = some(
        st.builds(
            lambda at_least, points: BudgetRule(name("budget"), at_least, points),
            _base().money(st.sampled_from(("TWD", "USD")), min_value=0, max_value=10_000_000),
            _points(0, 40),
        )
    )
    titles = some(
        st.builds(
            lambda words, points: JobTitleRule(name("title"), words, points),
            st.lists(st.sampled_from(("ceo", "director", "經理", "manager", "cto")), min_size=1),
            _points(-20, 40),
        )
    )
    regions = some(
        st.builds(
            lambda values, points: RegionRule(name("region"), values, points),
            st.lists(st.sampled_from(_REGIONS), min_size=1, max_size=3),
            _points(-20, 40),
        )
    )
    engagement = some(
        st.builds(
            lambda kind, points, half_life, cap, window: EngagementRule(
                name("engagement"), kind, points, half_life=half_life, cap=cap, window=window
            ),
            st.sampled_from(
                [
                    k
                    for k in ActivityKind
                    if k not in (ActivityKind.UNSUBSCRIBED, ActivityKind.BOUNCED)
                ]
            ),
            _points(1, 30),
            _optional(_durations()),
            _optional(_points(0, 60)),
            _optional(_durations()),
        )
    )
    domains = some(
        st.builds(
            lambda values, points: EmailDomainRule(name("domain"), values, points),
            st.lists(
                st.sampled_from((*FREE_MAIL_DOMAINS[:6], "rival.example", "example.com")),
                min_size=1,
            ),
            _points(-50, -1),
        )
    )
    penalties = some(
        st.builds(
            lambda kind, points: ActivityPenaltyRule(name("penalty"), kind, points),
            st.sampled_from((ActivityKind.UNSUBSCRIBED, ActivityKind.BOUNCED)),
            _points(-50, -1),
        )
    )
    c = draw(_optional(_points(0, 60)))
    b = draw(_optional(_points(0, 40)))
    grades = (
        FitGrades() if c is None or b is None else FitGrades(a=c + b + Decimal(10), b=c + b, c=c)
    )
    return ScoringModel(
        name=draw(st.sampled_from(("default", "b2b", "電商"))),
        version=draw(st.integers(1, 20)),
        industries=industries,
        company_sizes=sizes,
        budgets=budgets,
        job_titles=titles,
        regions=regions,
        engagement=engagement,
        email_domains=domains,
        penalties=penalties,
        caps=CategoryCaps(
            fit=draw(_optional(_points(0, 100))),
            engagement=draw(_optional(_points(0, 100))),
            negative=draw(_optional(_points(0, 100))),
        ),
        grades=grades,
    )


def scoring_models(max_rules: int = 20) -> st.SearchStrategy[ScoringModel]:
    """Valid scoring models with rules of every kind, caps and grades (about ``max_rules``).

    Engagement rules never target ``unsubscribed`` or ``bounced``: those are penalties.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(scoring_models())
        ... def test_rule_names_are_unique(model):
        ...     names = [rule.name for rule in model.rules]
        ...     assert len(names) == len(set(names))
        >>> test_rule_names_are_unique()

    .. versionadded:: 0.1.0
    """
    return _scoring_models(max_rules)


@st.composite
def _calendars(draw: st.DrawFn, zones: tuple[str, ...]) -> BusinessCalendar:
    days = draw(st.lists(st.sampled_from(Weekday), min_size=1, max_size=7, unique=True))
    hours: list[WorkingHours] = []
    for day in days:
        for start, end in draw(st.sampled_from(_SPLITS)):
            hours.append(WorkingHours(day, start, end))
    first = date(2025, 1, 1)
    holidays = draw(
        st.lists(st.integers(0, 3 * 365).map(lambda n: first + timedelta(days=n)), max_size=20)
    )
    return BusinessCalendar(
        timezone=draw(st.sampled_from(zones)),
        hours=hours,
        holidays=holidays,
        name=draw(_optional(st.sampled_from(("support", "sales", "客服")))),
    )


def business_calendars(
    zones: tuple[str, ...] = _CALENDAR_ZONES,
) -> st.SearchStrategy[BusinessCalendar]:
    """Business calendars in ``zones``, daylight-saving ones included.

    Weekdays have split shifts, night shifts across midnight or whole days; holidays fall in
    2025-2027.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(business_calendars())
        ... def test_there_is_always_working_time(calendar):
        ...     assert calendar.hours
        >>> test_there_is_always_working_time()

    .. versionadded:: 0.1.0
    """
    return _calendars(tuple(zones))


# ----- qualification and assignment ----------------------------------------------------------

_CRITERIA = (
    ("budget", "Budget"),
    ("authority", "Authority"),
    ("need", "Need"),
    ("timeline", "Timeline"),
    ("champion", "Champion"),
    ("metrics", "Metrics"),
    ("decision-process", "決策流程"),
)
_OWNERS = ("u_amy", "u_bob", "u_ivy", "u_lin", "u_chen")


@st.composite
def _frameworks(draw: st.DrawFn) -> Framework:
    chosen = draw(st.lists(st.sampled_from(_CRITERIA), min_size=1, unique=True))
    criteria = [
        Criterion(
            key,
            label,
            required=draw(st.booleans()),
            description=draw(_optional(st.sampled_from(("Ask early.", "問清楚預算來源。")))),
        )
        for key, label in chosen
    ]
    return Framework(
        draw(st.sampled_from(("bant", "meddic", "champ", "custom-1"))),
        draw(st.sampled_from(("BANT", "MEDDIC", "CHAMP", "我們的資格審查"))),
        criteria,
    )


def qualification_frameworks() -> st.SearchStrategy[Framework]:
    """Valid qualification frameworks: one to seven criteria, required or not, unique keys.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(qualification_frameworks())
        ... def test_keys_are_unique(framework):
        ...     assert len(set(framework.keys)) == len(framework.criteria)
        >>> test_keys_are_unique()

    .. versionadded:: 0.1.0
    """
    return _frameworks()


def stage_thresholds() -> st.SearchStrategy[StageThresholds]:
    """Valid MQL/SQL thresholds: scores 0-100 (SQL's optional) over BANT or a drawn framework.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(stage_thresholds())
        ... def test_mql_is_a_score(thresholds):
        ...     assert 0 <= thresholds.mql_score <= 100
        >>> test_mql_is_a_score()

    .. versionadded:: 0.1.0
    """
    return st.builds(
        StageThresholds,
        mql_score=_points(0, 100),
        sql_framework=st.just(BANT) | qualification_frameworks(),
        sql_score=_optional(_points(0, 100)),
    )


@st.composite
def _assignment_rules(draw: st.DrawFn, owners: tuple[str, ...]) -> AssignmentRules:
    rules: list[AssignmentRule] = []
    for n in range(draw(st.integers(0, 4))):
        strategy = draw(st.sampled_from(Strategy))
        team = draw(st.lists(st.sampled_from(owners), min_size=1, max_size=3, unique=True))
        low = draw(_optional(st.integers(0, 500)))
        high = draw(_optional(st.integers(low or 0, 5000)))
        rules.append(
            AssignmentRule(
                name=f"rule {n + 1}",
                strategy=strategy,
                owners=team[:1] if strategy is Strategy.OWNER else team,
                regions=draw(st.lists(st.sampled_from(_REGIONS), max_size=3, unique=True)),
                industries=draw(st.lists(st.sampled_from(_INDUSTRIES), max_size=2, unique=True)),
                source_channels=draw(st.lists(st.sampled_from(SourceChannel), max_size=2)),
                min_company_size=low,
                max_company_size=high,
                max_open=draw(_optional(st.integers(1, 50))),
            )
        )
    return AssignmentRules(fallback_owner=draw(st.sampled_from(owners)), rules=rules)


def lead_assignment_rules(
    owners: tuple[str, ...] = _OWNERS,
) -> st.SearchStrategy[AssignmentRules]:
    """Valid lead assignment rules over ``owners``: territories, round robin, least loaded.

    Up to four rules with regions, industries, channels and company-size bounds (low never
    above high), and a fallback owner.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(max_examples=10, database=None)
        ... @given(lead_assignment_rules())
        ... def test_everyone_named_is_an_owner(rules):
        ...     named = {o for rule in rules.rules for o in rule.owners} | {rules.fallback_owner}
        ...     assert named <= {"u_amy", "u_bob", "u_ivy", "u_lin", "u_chen"}
        >>> test_everyone_named_is_an_owner()

    .. versionadded:: 0.1.0
    """
    return _assignment_rules(tuple(owners))
