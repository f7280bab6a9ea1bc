"""Scoring: each rule kind, caps, grades, reasons, validation, round trips, and the properties
(the total is the sum of its contributions; engagement never lowers a score; decay is monotone)."""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import DefinitionError, NaiveDatetimeError, ValidationError
from crmkit.kernel.money import Money
from crmkit.leads import Activity, ActivityKind, Grade, Lead
from crmkit.leads.scoring import (
    FREE_MAIL_DOMAINS,
    ActivityPenaltyRule,
    BudgetRule,
    Category,
    CategoryCaps,
    CompanySizeRule,
    Contribution,
    EmailDomainRule,
    EngagementRule,
    FitGrades,
    IndustryRule,
    JobTitleRule,
    LeadScore,
    RegionRule,
    ScoringModel,
    score,
)
from crmkit.serialization import from_json, structure, to_json, unstructure
from crmkit.testing._lead_strategies import leads, scoring_models
from crmkit.testing.strategies import aware_datetimes

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def lead(**kw: Any) -> Lead:
    args: dict[str, Any] = {
        "id": "lead_1",
        "now": NOW - timedelta(days=60),
        "source_channel": "web_form",
        "email": "amy@acme.example",
    }
    args.update(kw)
    return Lead.capture(**args)


def with_activities(target: Lead, *items: tuple[str, timedelta]) -> Lead:
    for kind, age in items:
        target.log_activity(kind, now=NOW, at=NOW - age)
    return target


def model(**kw: Any) -> ScoringModel:
    return ScoringModel(name="test", **kw)


def b2b_model() -> ScoringModel:
    """The 20-rule model of the benchmark, read from ``benchmarks/leads.py`` itself."""
    return _benchmark().MODEL  # type: ignore[no-any-return]


@functools.cache
def _benchmark() -> Any:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[2] / "benchmarks" / "leads.py"
    spec = importlib.util.spec_from_file_location("crmkit_benchmark_leads", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fit_rules_match_case_insensitively_and_explain() -> None:
    target = lead(
        industry="software",
        company_size=1200,
        budget=Money("2000000", "TWD"),
        job_title="Chief Technology Officer (CTO)",
        region="tw",
    )
    result = score(target, b2b_model(), NOW)
    assert result.by_rule() == {
        "core industry": Decimal("20.00"),
        "enterprise": Decimal("15.00"),
        "real budget": Decimal("10.00"),
        "c-level": Decimal("20.00"),
        "home market": Decimal("5.00"),
        "cap:fit": Decimal("-10.00"),
    }
    reasons = {c.rule: c.reason for c in result.contributions}
    assert reasons["core industry"] == "industry 'software' is one of 'Software', 'SaaS'"
    assert reasons["enterprise"] == "company size 1200 is at least 1000"
    assert reasons["real budget"] == "budget 2000000 TWD is at least 1000000 TWD"
    assert reasons["c-level"] == "job title 'Chief Technology Officer (CTO)' matches 'CTO'"
    assert reasons["cap:fit"] == "fit points 70.00 capped at 60.00"
    assert (result.fit_points, result.fit_grade) == (Decimal("60.00"), Grade.A)


def test_size_budget_and_title_edges() -> None:
    rules = model(
        company_sizes=[CompanySizeRule("small", None, 49, 5), CompanySizeRule("mid", 50, 999, 10)],
        budgets=[BudgetRule("budget", Money("1000", "USD"), 10)],
        job_titles=[JobTitleRule("boss", ["總經理"], 15)],
    )
    assert score(lead(company_size=49), rules, NOW).by_rule() == {"small": Decimal("5.00")}
    assert score(lead(company_size=50), rules, NOW).by_rule() == {"mid": Decimal("10.00")}
    assert score(lead(company_size=999), rules, NOW).by_rule() == {"mid": Decimal("10.00")}
    assert score(lead(budget=Money("1000", "USD")), rules, NOW).by_rule() == {
        "budget": Decimal("10.00")
    }
    assert score(lead(budget=Money("999.99", "USD")), rules, NOW).contributions == ()
    # Another currency never matches: no exchange rates in scoring.
    assert score(lead(budget=Money("9000000", "TWD")), rules, NOW).contributions == ()
    assert score(lead(job_title="台灣區總經理"), rules, NOW).by_rule() == {"boss": Decimal("15.00")}


def test_negative_fit_points_and_grades() -> None:
    result = score(lead(job_title="Marketing Intern"), b2b_model(), NOW)
    assert result.by_rule() == {"student": Decimal("-10.00")}
    assert (result.fit_points, result.fit_grade, result.total) == (
        Decimal("-10.00"),
        Grade.D,
        Decimal("-10.00"),
    )
    grades = FitGrades(a=40, b=25, c=10)
    assert [grades.grade_for(Decimal(p)) for p in ("40", "39.99", "25", "10", "9.99")] == [
        Grade.A,
        Grade.B,
        Grade.B,
        Grade.C,
        Grade.D,
    ]


# ----- engagement ------------------------------------------------------------------------------


def test_half_life_halves_the_points() -> None:
    rules = model(engagement=[EngagementRule("events", "event_attended", 10, half_life=30 * DAY)])
    fresh = with_activities(lead(), ("event_attended", timedelta(0)))
    assert score(fresh, rules, NOW).total == Decimal("10.00")
    assert score(fresh, rules, NOW + 30 * DAY).total == Decimal("5.00")
    assert score(fresh, rules, NOW + 60 * DAY).total == Decimal("2.50")
    assert score(fresh, rules, NOW + 15 * DAY).total == Decimal("7.07")  # 10 / sqrt(2)
    assert score(fresh, rules, NOW + 3650 * DAY).total == Decimal("0.00")
    (c,) = score(fresh, rules, NOW + 60 * DAY).contributions
    assert c.reason == "1 event_attended activity worth 2.50 (half-life 30 days)"


def test_window_cap_and_future_activities() -> None:
    rules = model(
        engagement=[
            EngagementRule("replies", "email_replied", 8, window=90 * DAY),
            EngagementRule("visits", "page_visited", 2, cap=5),
        ]
    )
    target = with_activities(
        lead(),
        ("email_replied", 10 * DAY),
        ("email_replied", 91 * DAY),
        ("page_visited", DAY),
        ("page_visited", DAY),
        ("page_visited", 2 * DAY),
    )
    result = score(target, rules, NOW)
    assert result.by_rule() == {"replies": Decimal("8.00"), "visits": Decimal("5.00")}
    reasons = [c.reason for c in result.contributions]
    assert reasons == [
        "1 email_replied activity worth 8.00",
        "3 page_visited activities worth 6.00, capped at 5.00",
    ]
    # Scored as of a day ago, the newest visits had not happened yet.
    assert score(target, rules, NOW - timedelta(days=1, hours=1)).by_rule()["visits"] == Decimal(
        "2.00"
    )


def test_category_caps_are_explicit_contributions() -> None:
    rules = model(
        engagement=[EngagementRule("meetings", "meeting", 15)],
        penalties=[
            ActivityPenaltyRule("unsubscribed", "unsubscribed", -30),
            ActivityPenaltyRule("bounced", "bounced", -30),
        ],
        caps=CategoryCaps(engagement=20, negative=40),
    )
    target = with_activities(
        lead(),
        ("meeting", DAY),
        ("meeting", 2 * DAY),
        ("unsubscribed", DAY),
        ("bounced", 3 * DAY),
    )
    result = score(target, rules, NOW)
    assert [(c.rule, c.category, c.points) for c in result.contributions] == [
        ("meetings", Category.ENGAGEMENT, Decimal("30.00")),
        ("cap:engagement", Category.ENGAGEMENT, Decimal("-10.00")),
        ("unsubscribed", Category.NEGATIVE, Decimal("-30.00")),
        ("bounced", Category.NEGATIVE, Decimal("-30.00")),
        ("cap:negative", Category.NEGATIVE, Decimal("20.00")),
    ]
    assert (result.engagement, result.negative, result.total) == (
        Decimal("20.00"),
        Decimal("-40.00"),
        Decimal("-20.00"),
    )
    assert result.contributions[2].reason == "unsubscribed on 2026-01-04"


# ----- negative --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "expected", "reason"),
    [
        ("amy@gmail.com", {"free-mail address": Decimal("-10.00")}, "is listed"),
        ("amy@Yahoo.com.TW", {"free-mail address": Decimal("-10.00")}, "is listed"),
        ("amy@rival.example", {"competitor": Decimal("-50.00")}, "is listed"),
        ("amy@sales.rival.example", {"competitor": Decimal("-50.00")}, "under listed"),
        ("amy@notrival.example", {}, ""),
        ("amy@acme.example", {}, ""),
    ],
)
def test_email_domain_rules(email: str, expected: dict[str, Decimal], reason: str) -> None:
    result = score(lead(email=email), b2b_model(), NOW)
    assert result.by_rule() == expected
    if expected:
        assert reason in result.contributions[0].reason


def test_the_free_mail_list_is_documented_and_folded() -> None:
    for domain in ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "qq.com", "163.com"):
        assert domain in FREE_MAIL_DOMAINS
    assert EmailDomainRule("x", ["@Rival.Example"], -1).domains == ("rival.example",)


# ----- the model as data -----------------------------------------------------------------------


def test_the_benchmark_model_has_twenty_rules_and_round_trips() -> None:
    m = b2b_model()
    assert len(m.rules) == 20
    data = unstructure(m)
    assert data["engagement"][0]["half_life"] == "P14D"
    assert json.loads(to_json(m)) == data
    assert from_json(to_json(m), ScoringModel) == m


@settings(max_examples=40)
@given(scoring_models())
def test_models_round_trip_through_the_converter(m: ScoringModel) -> None:
    again = from_json(to_json(m), ScoringModel)
    assert again == m
    assert again.rules == m.rules


@settings(max_examples=30)
@given(leads(), scoring_models())
def test_scores_round_trip(target: Lead, m: ScoringModel) -> None:
    result = score(target, m, NOW)
    assert from_json(to_json(result), LeadScore) == result


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda: IndustryRule("x", [], 5), "industries"),
        (lambda: IndustryRule("", ["a"], 5), "name"),
        (lambda: IndustryRule("x", ["a"], 1.5), "points"),
        (lambda: IndustryRule("x", ["a"], "0.125"), "points"),
        (lambda: CompanySizeRule("x", None, None, 5), "min_size"),
        (lambda: CompanySizeRule("x", 10, 5, 5), "min_size"),
        (lambda: CompanySizeRule("x", -1, 5, 5), "min_size"),
        (lambda: BudgetRule("x", 1000, 5), "at_least"),
        (lambda: JobTitleRule("x", [], 5), "keywords"),
        (lambda: JobTitleRule("x", [], 5, patterns=["(unclosed"]), "patterns[0]"),
        (lambda: EngagementRule("x", "page_visited", -2), "points"),
        (lambda: EngagementRule("x", "page_visited", 0), "points"),
        (lambda: EngagementRule("x", "visit", 2), "kind"),
        (lambda: EngagementRule("x", "download", 2, half_life=timedelta(0)), "half_life"),
        (lambda: EngagementRule("x", "download", 2, window=30), "window"),
        (lambda: EngagementRule("x", "download", 2, cap=-1), "cap"),
        (lambda: EmailDomainRule("x", ["gmail.com"], 10), "points"),
        (lambda: ActivityPenaltyRule("x", "bounced", 0), "points"),
        (lambda: CategoryCaps(fit=-5), "cap"),
        (lambda: FitGrades(a=10, b=20, c=5), "a"),
        (lambda: ScoringModel(name="m", version=0), "version"),
        (lambda: ScoringModel(name="m", regions=[IndustryRule("x", ["a"], 1)]), "regions[0]"),
        (lambda: ScoringModel(name="m", caps={"fit": 10}), "caps"),
    ],
)
def test_invalid_rules_are_validation_errors_with_a_path(build: Any, path: str) -> None:
    with pytest.raises(ValidationError) as info:
        build()
    assert info.value.errors[0].path == path


def test_rule_names_are_unique_and_caps_are_reserved() -> None:
    with pytest.raises(DefinitionError, match="'home' more than once"):
        model(
            regions=[RegionRule("home", ["TW"], 5)],
            industries=[IndustryRule("home", ["x"], 1)],
        )
    with pytest.raises(DefinitionError, match="reserved"):
        model(regions=[RegionRule("cap:fit", ["TW"], 5)])


def test_a_stored_model_with_errors_lists_each_path() -> None:
    data = unstructure(b2b_model())
    data["engagement"][1]["kind"] = "visit"
    data["engagement"][2]["half_life"] = "two weeks"
    data["regions"][0]["points"] = 5.5
    with pytest.raises(ValidationError) as info:
        structure(data, ScoringModel)
    paths = {e.path for e in info.value.errors}
    assert {"engagement[1].kind", "engagement[2].half_life", "regions[0].points"} <= paths


def test_score_checks_its_arguments() -> None:
    with pytest.raises(NaiveDatetimeError):
        score(lead(), b2b_model(), datetime(2026, 1, 5))
    with pytest.raises(ValidationError):
        score("lead", b2b_model(), NOW)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        score(lead(), {"name": "m"}, NOW)  # type: ignore[arg-type]


def test_a_score_that_does_not_add_up_cannot_exist() -> None:
    good = score(with_activities(lead(industry="SaaS"), ("meeting", DAY)), b2b_model(), NOW)
    with pytest.raises(ValidationError) as info:
        attrs.evolve(good, engagement=good.engagement + 1)
    assert info.value.errors[0].path == "engagement"
    with pytest.raises(ValidationError):
        attrs.evolve(
            good,
            contributions=(*good.contributions, Contribution("extra", "fit", Decimal(1), "x")),
        )


# ----- properties ------------------------------------------------------------------------------

scoring_times = aware_datetimes(NOW, NOW + timedelta(days=400))


@settings(max_examples=80)
@given(leads(), scoring_models(), scoring_times)
def test_the_total_is_exactly_the_sum_of_the_contributions(
    target: Lead, m: ScoringModel, at: datetime
) -> None:
    result = score(target, m, at)
    assert result.total == sum((c.points for c in result.contributions), Decimal(0))
    for category, value in (
        (Category.FIT, result.fit_points),
        (Category.ENGAGEMENT, result.engagement),
        (Category.NEGATIVE, result.negative),
    ):
        parts = [c.points for c in result.contributions if c.category is category]
        assert value == sum(parts, Decimal(0))
    for c in result.contributions:
        assert c.points == c.points.quantize(Decimal("0.01"))
        assert c.reason
    caps = m.caps
    assert caps.fit is None or result.fit_points <= caps.fit
    assert caps.engagement is None or result.engagement <= caps.engagement
    assert caps.negative is None or result.negative >= -caps.negative
    assert result.engagement >= 0 and result.negative <= 0
    assert result.fit_grade is m.grades.grade_for(result.fit_points)


positive_kinds = st.sampled_from(
    [k for k in ActivityKind if k not in (ActivityKind.UNSUBSCRIBED, ActivityKind.BOUNCED)]
)


@settings(max_examples=80)
@given(leads(), scoring_models(), positive_kinds, st.integers(0, 400 * 24))
def test_a_positive_engagement_activity_never_lowers_the_score(
    target: Lead, m: ScoringModel, kind: ActivityKind, hours_ago: int
) -> None:
    penalised = {r.kind for r in m.penalties}
    before = score(target, m, NOW)
    more = Activity(kind=kind, at=NOW - timedelta(hours=hours_ago))
    after = score(attrs.evolve(target, activities=(*target.activities, more)), m, NOW)
    if kind not in penalised:  # the generated penalties only target unsubscribed and bounced
        assert after.total >= before.total
        assert after.engagement >= before.engagement


@settings(max_examples=80)
@given(leads(), scoring_models(), st.integers(0, 10**6), st.integers(0, 10**6))
def test_decay_is_monotone_in_time(target: Lead, m: ScoringModel, a: int, b: int) -> None:
    early, late = sorted((a, b))
    earlier = score(target, m, NOW + timedelta(minutes=early))
    later = score(target, m, NOW + timedelta(minutes=late))
    assert later.total <= earlier.total
    assert later.engagement <= earlier.engagement
    assert later.fit_points == earlier.fit_points and later.negative == earlier.negative


@settings(max_examples=40)
@given(leads(), scoring_models())
def test_scoring_is_pure(target: Lead, m: ScoringModel) -> None:
    before = attrs.asdict(target, recurse=False)
    assert score(target, m, NOW) == score(target, m, NOW)
    assert attrs.asdict(target, recurse=False) == before


def test_the_hosts_decimal_context_does_not_change_a_score() -> None:
    import decimal

    target = with_activities(
        lead(industry="SaaS", company_size=120, email="amy@gmail.com"),
        ("page_visited", timedelta(hours=5)),
        ("download", 3 * DAY),
        ("event_attended", 20 * DAY),
    )
    expected = score(target, b2b_model(), NOW)
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = decimal.ROUND_DOWN
        assert score(target, b2b_model(), NOW) == expected


def test_ages_are_elapsed_time_across_daylight_saving() -> None:
    from zoneinfo import ZoneInfo

    new_york = ZoneInfo("America/New_York")
    before = datetime(2026, 3, 7, 12, 0, tzinfo=new_york)
    after = datetime(2026, 3, 8, 12, 0, tzinfo=new_york)  # 23 hours later: clocks sprang forward
    rules = model(
        engagement=[EngagementRule("events", "event_attended", 10, half_life=timedelta(hours=23))]
    )
    target = lead(now=before)
    target.log_activity("event_attended", now=before)
    assert score(target, rules, after).total == Decimal("5.00")
