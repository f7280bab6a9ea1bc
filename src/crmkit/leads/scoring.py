"""Lead scoring as data: a :class:`ScoringModel` of rules, and :func:`score` that explains itself.

A model holds three categories of rules, each a list of small attrs values:

* **fit** (who the lead is): :class:`IndustryRule`, :class:`CompanySizeRule`,
  :class:`BudgetRule`, :class:`JobTitleRule`, :class:`RegionRule`;
* **engagement** (what the lead did): :class:`EngagementRule` gives points per activity of a
  kind, halved every ``half_life`` since the activity, up to a ``cap`` per rule;
* **negative**: :class:`EmailDomainRule` (a competitor's domain, or a free-mail address for
  B2B: :data:`FREE_MAIL_DOMAINS`) and :class:`ActivityPenaltyRule` (unsubscribed, bounced).

:class:`CategoryCaps` bound each category's sum and :class:`FitGrades` turn fit points into a
grade from A to D. Points are ``Decimal`` with at most two places; every contribution is rounded
to two places (half-even; a decay factor is computed in decimal at 20 significant digits, the
same on every machine), so ``score.total`` is *exactly* the sum of ``score.contributions``. A
category cap appears as a contribution of its own (rule ``"cap:fit"``, ``"cap:engagement"`` or
``"cap:negative"``) that brings the category back to its cap; a per-rule cap is applied inside
that rule's contribution and its reason says so.

Models round-trip through :mod:`crmkit.serialization` (``to_json`` / ``from_json``), so a host
can store, edit and version them. A model checks itself when built (unique rule names, valid
patterns, points of the right sign) and prepares its lookups once, so scoring many leads is fast.

Example:
    >>> from datetime import datetime, timedelta, timezone
    >>> from crmkit.leads import Lead
    >>> from crmkit.leads.scoring import (EngagementRule, EmailDomainRule, IndustryRule,
    ...     ScoringModel, score)
    >>> model = ScoringModel(name="b2b", industries=[IndustryRule("target industry",
    ...     ["Software", "Manufacturing"], 20)],
    ...     engagement=[EngagementRule("pricing visits", "page_visited", 5,
    ...                                half_life=timedelta(days=7), cap=12)],
    ...     email_domains=[EmailDomainRule.free_mail(-15)])
    >>> now = datetime(2026, 1, 12, 9, tzinfo=timezone.utc)
    >>> lead = Lead.capture(id="lead_1", now=now - timedelta(days=14), source_channel="web_form",
    ...                     email="amy@gmail.com", industry="software")
    >>> for days in (7, 0, 0):
    ...     _ = lead.log_activity("page_visited", now=now, at=now - timedelta(days=days))
    >>> result = score(lead, model, now)
    >>> for c in result.contributions:
    ...     print(c.category.value, c.rule, c.points, "-", c.reason)
    fit target industry 20.00 - industry 'software' is one of 'Software', 'Manufacturing'
    engagement pricing visits 12.00 - 3 page_visited activities worth 12.50 (half-life 7 days),
      capped at 12.00
    negative free-mail address -15.00 - email domain 'gmail.com' is listed
    >>> result.total, result.fit_grade.value
    (Decimal('17.00'), 'C')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from typing import Any

import attrs

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.money import Money, _to_decimal
from crmkit.kernel.time import ensure_aware
from crmkit.leads._model import ActivityKind, Grade, Lead

__all__ = [
    "ActivityPenaltyRule",
    "BudgetRule",
    "Category",
    "CategoryCaps",
    "CompanySizeRule",
    "Contribution",
    "EmailDomainRule",
    "EngagementRule",
    "FREE_MAIL_DOMAINS",
    "FitGrades",
    "Grade",
    "IndustryRule",
    "JobTitleRule",
    "LeadScore",
    "RegionRule",
    "Rule",
    "ScoringModel",
    "score",
]

#: Consumer email domains, for a "free-mail address" rule in B2B scoring
#: (:meth:`EmailDomainRule.free_mail`): Google, Yahoo (incl. Taiwan, Hong Kong, Japan),
#: Microsoft, Apple, AOL, Proton, GMX, Yandex, and the big mainland China and Taiwan providers.
FREE_MAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.com.tw",
    "yahoo.com.hk",
    "yahoo.co.jp",
    "ymail.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "msn.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.com",
    "gmx.net",
    "mail.com",
    "yandex.com",
    "qq.com",
    "foxmail.com",
    "163.com",
    "126.com",
    "yeah.net",
    "sina.com",
    "sina.cn",
    "sohu.com",
    "aliyun.com",
    "139.com",
    "hinet.net",
    "pchome.com.tw",
)

_CENTS = Decimal("0.01")
_ZERO = Decimal("0.00")
#: The decimal context decay factors are computed in: 20 significant digits, half-even.
_DECAY = Context(prec=20, rounding=ROUND_HALF_EVEN)
#: The context sums are made in, whatever the host set as its own (sums of cents are exact).
_SUMS = Context(prec=28, rounding=ROUND_HALF_EVEN)
_MINUS_LN2 = -_DECAY.ln(Decimal(2))
_CAP_PREFIX = "cap:"


class Category(StrEnum):
    """The category of a rule and of its contribution.

    Example:
        >>> [c.value for c in Category]
        ['fit', 'engagement', 'negative']

    .. versionadded:: 0.1.0
    """

    FIT = "fit"
    ENGAGEMENT = "engagement"
    NEGATIVE = "negative"


# ----- field helpers ---------------------------------------------------------------------------


def _two_places(value: object, path: str) -> Decimal:
    number = _to_decimal(value, path)
    if number != number.quantize(_CENTS, context=_DECAY):
        raise ValidationError(f"must have at most two decimal places, got {number}", path=path)
    return number.quantize(_CENTS, context=_DECAY)


def _points(value: object) -> Decimal:
    return _two_places(value, "points")


def _optional_cap(value: object) -> Decimal | None:
    if value is None:
        return None
    cap = _two_places(value, "cap")
    if cap < 0:
        raise ValidationError(f"must not be negative, got {cap}", path="cap")
    return cap


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _words(field: str) -> Any:
    def convert(value: object) -> tuple[str, ...]:
        items = v.text_tuple(field, max_items=500)(value)
        if not items:
            raise ValidationError("must list at least one value", path=field)
        return items

    return convert


def _industries(value: object) -> tuple[str, ...]:
    return _words("industries")(value)  # type: ignore[no-any-return]


def _regions(value: object) -> tuple[str, ...]:
    return _words("regions")(value)  # type: ignore[no-any-return]


def _domains(value: object) -> tuple[str, ...]:
    items = _words("domains")(value)
    return tuple(_fold(d).lstrip("@").lstrip(".") for d in items)


def _keywords(value: object) -> tuple[str, ...]:
    return v.text_tuple("keywords", max_items=100)(value)


def _patterns(value: object) -> tuple[str, ...]:
    items = v.text_tuple("patterns", max_items=100)(value)
    for i, pattern in enumerate(items):
        try:
            re.compile(pattern, re.IGNORECASE)
        except re.error as exc:
            raise ValidationError(
                f"{pattern!r} is not a regular expression: {exc}", path=f"patterns[{i}]"
            ) from None
    return items


def _kind(value: object) -> ActivityKind:
    return v.to_enum(ActivityKind, "kind")(value)


def _optional_size(_instance: object, attribute: attrs.Attribute[int | None], value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValidationError(
            f"must be a non-negative int or None, got {value!r}", path=attribute.name
        )


def _optional_duration(
    _instance: object, attribute: attrs.Attribute[timedelta | None], value: Any
) -> None:
    if value is None:
        return
    if not isinstance(value, timedelta):
        raise ValidationError(
            f"must be a timedelta or None, not {type(value).__name__}", path=attribute.name
        )
    if value <= timedelta(0):
        raise ValidationError(f"must be positive, got {value}", path=attribute.name)


def _money(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, Money):
        raise ValidationError(
            f"must be Money, not {type(value).__name__}; e.g. Money('1000000', 'TWD')",
            path="at_least",
        )
    if value.is_negative():
        raise ValidationError(f"must not be negative, got {value}", path="at_least")


def _negative(instance: object, _attribute: object, value: Decimal) -> None:
    if value >= 0:
        raise ValidationError(
            f"must be negative for a {type(instance).__name__} (a penalty), got {value}",
            path="points",
        )


def _positive(instance: object, _attribute: object, value: Decimal) -> None:
    if value <= 0:
        raise ValidationError(
            f"must be positive for an {type(instance).__name__}; penalise with an "
            f"ActivityPenaltyRule instead, got {value}",
            path="points",
        )


def _shown(values: Sequence[str], limit: int = 5) -> str:
    text = ", ".join(map(repr, values[:limit]))
    return text + (f" and {len(values) - limit} more" if len(values) > limit else "")


def _duration(value: timedelta) -> str:
    if value.seconds == 0 and value.microseconds == 0:
        return f"{value.days} day{'s' if value.days != 1 else ''}"
    hours = value / timedelta(hours=1)
    return f"{hours:g} h"


# ----- rules -----------------------------------------------------------------------------------


@attrs.frozen
class IndustryRule:
    """Fit: ``points`` when the lead's industry is one of ``industries`` (case-insensitive).

    Example:
        >>> IndustryRule("target industry", ["Software", "Retail"], 15).points
        Decimal('15.00')

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    industries: tuple[str, ...] = attrs.field(converter=_industries)
    points: Decimal = attrs.field(converter=_points)


@attrs.frozen
class CompanySizeRule:
    """Fit: ``points`` when the company has ``min_size`` to ``max_size`` employees (inclusive).

    Either bound may be ``None`` (open), not both.

    Example:
        >>> CompanySizeRule("mid-market", 50, 500, 10).max_size
        500

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    min_size: int | None = attrs.field(validator=_optional_size)
    max_size: int | None = attrs.field(validator=_optional_size)
    points: Decimal = attrs.field(converter=_points)

    def __attrs_post_init__(self) -> None:
        if self.min_size is None and self.max_size is None:
            raise ValidationError("give min_size, max_size or both", path="min_size")
        if (
            self.min_size is not None
            and self.max_size is not None
            and self.min_size > self.max_size
        ):
            raise ValidationError(
                f"must not exceed max_size {self.max_size}, got {self.min_size}", path="min_size"
            )


@attrs.frozen
class BudgetRule:
    """Fit: ``points`` when the lead's budget is at least ``at_least`` (same currency only).

    Example:
        >>> BudgetRule("real budget", Money("1000000", "TWD"), 10).at_least
        Money('1000000', 'TWD')

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    at_least: Money = attrs.field(validator=_money)
    points: Decimal = attrs.field(converter=_points)


@attrs.frozen
class JobTitleRule:
    r"""Fit: ``points`` when the job title contains one of ``keywords`` or matches a pattern.

    Both are case-insensitive; ``patterns`` are Python regular expressions (searched).

    Example:
        >>> JobTitleRule("decision maker", ["director", "總經理"], 15,
        ...              patterns=[r"\bC[EFIOT]O\b"]).patterns
        ('\\bC[EFIOT]O\\b',)

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    keywords: tuple[str, ...] = attrs.field(converter=_keywords)
    points: Decimal = attrs.field(converter=_points)
    patterns: tuple[str, ...] = attrs.field(default=(), converter=_patterns)

    def __attrs_post_init__(self) -> None:
        if not self.keywords and not self.patterns:
            raise ValidationError("give at least one keyword or pattern", path="keywords")


@attrs.frozen
class RegionRule:
    """Fit: ``points`` when the lead's region is one of ``regions`` (case-insensitive).

    Example:
        >>> RegionRule("home market", ["TW", "HK"], 5).regions
        ('TW', 'HK')

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    regions: tuple[str, ...] = attrs.field(converter=_regions)
    points: Decimal = attrs.field(converter=_points)


@attrs.frozen
class EngagementRule:
    """Engagement: ``points`` per activity of ``kind``, decayed, summed, capped per rule.

    With ``half_life``, an activity is worth ``points * 0.5 ** (age / half_life)``; with
    ``window``, activities older than it count nothing; ``cap`` bounds the rule's sum.
    Activities after the scoring ``now`` are not counted.

    Example:
        >>> from datetime import timedelta
        >>> EngagementRule("webinar", "event_attended", 15, half_life=timedelta(days=30)).kind
        <ActivityKind.EVENT_ATTENDED: 'event_attended'>

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    kind: ActivityKind = attrs.field(converter=_kind)
    points: Decimal = attrs.field(converter=_points, validator=_positive)
    half_life: timedelta | None = attrs.field(
        default=None, kw_only=True, validator=_optional_duration
    )
    cap: Decimal | None = attrs.field(default=None, kw_only=True, converter=_optional_cap)
    window: timedelta | None = attrs.field(default=None, kw_only=True, validator=_optional_duration)


@attrs.frozen
class EmailDomainRule:
    """Negative: ``points`` (below zero) when the email's domain, or a parent of it, is listed.

    Example:
        >>> EmailDomainRule("competitor", ["rival.example"], -50).domains
        ('rival.example',)

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    domains: tuple[str, ...] = attrs.field(converter=_domains)
    points: Decimal = attrs.field(converter=_points, validator=_negative)

    @classmethod
    def free_mail(
        cls,
        points: Decimal | int | str = -10,
        *,
        name: str = "free-mail address",
        domains: Iterable[str] = FREE_MAIL_DOMAINS,
    ) -> EmailDomainRule:
        """A rule against consumer addresses (:data:`FREE_MAIL_DOMAINS`), for B2B scoring.

        Example:
            >>> EmailDomainRule.free_mail(-10).name
            'free-mail address'
        """
        return cls(name, tuple(domains), points)


@attrs.frozen
class ActivityPenaltyRule:
    """Negative: ``points`` (below zero), once, when the lead has any activity of ``kind``.

    Example:
        >>> ActivityPenaltyRule("unsubscribed", "unsubscribed", -30).points
        Decimal('-30.00')

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    kind: ActivityKind = attrs.field(converter=_kind)
    points: Decimal = attrs.field(converter=_points, validator=_negative)


@attrs.frozen(kw_only=True)
class CategoryCaps:
    """How far each category's sum may go; ``None`` is no bound.

    Fit and engagement sum to at most ``fit`` / ``engagement`` points; penalties to at most
    ``negative`` points below zero (given as a positive number).

    Example:
        >>> CategoryCaps(engagement=40, negative=50).negative
        Decimal('50.00')

    .. versionadded:: 0.1.0
    """

    fit: Decimal | None = attrs.field(default=None, converter=_optional_cap)
    engagement: Decimal | None = attrs.field(default=None, converter=_optional_cap)
    negative: Decimal | None = attrs.field(default=None, converter=_optional_cap)


def _grade_a(value: object) -> Decimal:
    return _two_places(value, "a")


def _grade_b(value: object) -> Decimal:
    return _two_places(value, "b")


def _grade_c(value: object) -> Decimal:
    return _two_places(value, "c")


@attrs.frozen(kw_only=True)
class FitGrades:
    """Fit points needed for grades A, B and C (``a >= b >= c``); below ``c`` is D.

    Example:
        >>> grades = FitGrades(a=40, b=25, c=10)
        >>> [grades.grade_for(Decimal(p)).value for p in (45, 25, 9)]
        ['A', 'B', 'D']

    .. versionadded:: 0.1.0
    """

    a: Decimal = attrs.field(default=Decimal(40), converter=_grade_a)
    b: Decimal = attrs.field(default=Decimal(25), converter=_grade_b)
    c: Decimal = attrs.field(default=Decimal(10), converter=_grade_c)

    def __attrs_post_init__(self) -> None:
        if not self.a >= self.b >= self.c:
            raise ValidationError(
                f"grade thresholds must not increase from A to C, got a={self.a}, b={self.b}, "
                f"c={self.c}",
                path="a",
            )

    def grade_for(self, fit_points: Decimal) -> Grade:
        """The grade ``fit_points`` earn.

        Example:
            >>> FitGrades().grade_for(Decimal("39.99")).value
            'B'
        """
        if fit_points >= self.a:
            return Grade.A
        if fit_points >= self.b:
            return Grade.B
        if fit_points >= self.c:
            return Grade.C
        return Grade.D


def _rules(cls: type, field: str) -> Any:
    def convert(value: object) -> tuple[Any, ...]:
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise ValidationError(
                f"must be a list of {cls.__name__}, not {type(value).__name__}", path=field
            )
        items = tuple(value)
        for i, item in enumerate(items):
            if not isinstance(item, cls):
                raise ValidationError(
                    f"must be {cls.__name__}, not {type(item).__name__}", path=f"{field}[{i}]"
                )
        return items

    return convert


def _industry_rules(value: object) -> tuple[IndustryRule, ...]:
    return _rules(IndustryRule, "industries")(value)  # type: ignore[no-any-return]


def _size_rules(value: object) -> tuple[CompanySizeRule, ...]:
    return _rules(CompanySizeRule, "company_sizes")(value)  # type: ignore[no-any-return]


def _budget_rules(value: object) -> tuple[BudgetRule, ...]:
    return _rules(BudgetRule, "budgets")(value)  # type: ignore[no-any-return]


def _title_rules(value: object) -> tuple[JobTitleRule, ...]:
    return _rules(JobTitleRule, "job_titles")(value)  # type: ignore[no-any-return]


def _region_rules(value: object) -> tuple[RegionRule, ...]:
    return _rules(RegionRule, "regions")(value)  # type: ignore[no-any-return]


def _engagement_rules(value: object) -> tuple[EngagementRule, ...]:
    return _rules(EngagementRule, "engagement")(value)  # type: ignore[no-any-return]


def _domain_rules(value: object) -> tuple[EmailDomainRule, ...]:
    return _rules(EmailDomainRule, "email_domains")(value)  # type: ignore[no-any-return]


def _penalty_rules(value: object) -> tuple[ActivityPenaltyRule, ...]:
    return _rules(ActivityPenaltyRule, "penalties")(value)  # type: ignore[no-any-return]


def _instance(cls: type, field: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if not isinstance(value, cls):
            raise ValidationError(f"must be {cls.__name__}, not {type(value).__name__}", path=field)

    return check


def _version(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"must be a positive int, got {value!r}", path="version")


Rule = (
    IndustryRule
    | CompanySizeRule
    | BudgetRule
    | JobTitleRule
    | RegionRule
    | EngagementRule
    | EmailDomainRule
    | ActivityPenaltyRule
)


@attrs.frozen(kw_only=True)
class ScoringModel:
    """A named, versioned set of scoring rules with category caps and fit grades.

    Rule names are unique within the model (they name the contributions) and may not start
    with ``"cap:"``, which the category caps use.

    Example:
        >>> from crmkit.serialization import from_json, to_json
        >>> model = ScoringModel(name="smb", regions=[RegionRule("home", ["TW"], 10)],
        ...                      penalties=[ActivityPenaltyRule("bounced", "bounced", -20)])
        >>> print(to_json(model))  # doctest: +ELLIPSIS
        {"name":"smb","version":1,...,"regions":[{"name":"home","regions":["TW"],"points":"10.00"}],...}
        >>> from_json(to_json(model), ScoringModel) == model
        True
        >>> len(model.rules)
        2

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    version: int = attrs.field(default=1, validator=_version)
    industries: tuple[IndustryRule, ...] = attrs.field(default=(), converter=_industry_rules)
    company_sizes: tuple[CompanySizeRule, ...] = attrs.field(default=(), converter=_size_rules)
    budgets: tuple[BudgetRule, ...] = attrs.field(default=(), converter=_budget_rules)
    job_titles: tuple[JobTitleRule, ...] = attrs.field(default=(), converter=_title_rules)
    regions: tuple[RegionRule, ...] = attrs.field(default=(), converter=_region_rules)
    engagement: tuple[EngagementRule, ...] = attrs.field(default=(), converter=_engagement_rules)
    email_domains: tuple[EmailDomainRule, ...] = attrs.field(default=(), converter=_domain_rules)
    penalties: tuple[ActivityPenaltyRule, ...] = attrs.field(default=(), converter=_penalty_rules)
    caps: CategoryCaps = attrs.field(
        factory=CategoryCaps, validator=_instance(CategoryCaps, "caps")
    )
    grades: FitGrades = attrs.field(factory=FitGrades, validator=_instance(FitGrades, "grades"))
    _plan: _Plan = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        names = [r.name for r in self.rules]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise DefinitionError(
                f"scoring model {self.name!r} names rule {', '.join(map(repr, repeated))} more "
                "than once; rule names must be unique"
            )
        reserved = [n for n in names if n.startswith(_CAP_PREFIX)]
        if reserved:
            raise DefinitionError(
                f"scoring model {self.name!r}: rule names starting with {_CAP_PREFIX!r} are "
                f"reserved for category caps: {', '.join(map(repr, reserved))}"
            )
        object.__setattr__(self, "_plan", _Plan(self))

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Every rule, in scoring order: fit, then engagement, then negative.

        Example:
            >>> ScoringModel(name="empty").rules
            ()
        """
        return (
            *self.industries,
            *self.company_sizes,
            *self.budgets,
            *self.job_titles,
            *self.regions,
            *self.engagement,
            *self.email_domains,
            *self.penalties,
        )


# ----- results ---------------------------------------------------------------------------------


_TO_CATEGORY = v.to_enum(Category, "category")
_TO_GRADE = v.to_enum(Grade, "fit_grade")


def _category(value: object) -> Category:
    return value if type(value) is Category else _TO_CATEGORY(value)


@attrs.frozen
class Contribution:
    """What one rule (or a category cap) added to a score, and why.

    Example:
        >>> Contribution("home", "fit", Decimal("10.00"), "region 'TW' is one of 'TW'").points
        Decimal('10.00')

    .. versionadded:: 0.1.0
    """

    rule: str
    category: Category = attrs.field(converter=_category)
    points: Decimal
    reason: str


def _grade(value: object) -> Grade:
    return value if type(value) is Grade else _TO_GRADE(value)


def _contributions(value: object) -> tuple[Contribution, ...]:
    return _rules(Contribution, "contributions")(value)  # type: ignore[no-any-return]


@attrs.frozen(kw_only=True)
class LeadScore:
    """A lead's score under a model at an instant, with every contribution listed.

    ``total == fit_points + engagement + negative`` and each of those is the sum of its
    category's contributions, exactly (construction checks it).

    Example:
        >>> from datetime import datetime, timezone
        >>> LeadScore(model="m", at=datetime(2026, 1, 5, tzinfo=timezone.utc), total=Decimal(1),
        ...           fit_points=Decimal(0), fit_grade="D", engagement=Decimal(0),
        ...           negative=Decimal(0), contributions=())
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: total: must equal the sum of the contributions (0), got 1

    .. versionadded:: 0.1.0
    """

    model: str
    at: datetime
    total: Decimal
    fit_points: Decimal
    fit_grade: Grade = attrs.field(converter=_grade)
    engagement: Decimal
    negative: Decimal
    contributions: tuple[Contribution, ...] = attrs.field(converter=_contributions)

    def __attrs_post_init__(self) -> None:
        ensure_aware(self.at, "at")
        sums = {
            Category.FIT: Decimal(0),
            Category.ENGAGEMENT: Decimal(0),
            Category.NEGATIVE: Decimal(0),
        }
        for c in self.contributions:
            sums[c.category] += c.points
        for path, value, expected in (
            ("fit_points", self.fit_points, sums[Category.FIT]),
            ("engagement", self.engagement, sums[Category.ENGAGEMENT]),
            ("negative", self.negative, sums[Category.NEGATIVE]),
            ("total", self.total, sum(sums.values(), Decimal(0))),
        ):
            if value != expected:
                raise ValidationError(
                    f"must equal the sum of the {'' if path == 'total' else path + ' '}"
                    f"contributions ({expected}), got {value}",
                    path=path,
                )

    def by_rule(self) -> dict[str, Decimal]:
        """The points per rule name (caps included), for quick lookups and reports.

        Example:
            >>> from datetime import datetime, timezone
            >>> s = LeadScore(model="m", at=datetime(2026, 1, 5, tzinfo=timezone.utc),
            ...     total=Decimal(5), fit_points=Decimal(5), fit_grade="D",
            ...     engagement=Decimal(0), negative=Decimal(0),
            ...     contributions=[Contribution("home", "fit", Decimal(5), "region 'TW'")])
            >>> s.by_rule()
            {'home': Decimal('5')}
        """
        return {c.rule: c.points for c in self.contributions}


# ----- the engine ------------------------------------------------------------------------------


def _us(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


class _Plan:
    """A model's rules prepared for fast scoring: folded sets, compiled patterns, constants."""

    __slots__ = (
        "budgets",
        "caps",
        "domains",
        "engagement",
        "grades",
        "industries",
        "name",
        "penalties",
        "regions",
        "sizes",
        "titles",
    )

    def __init__(self, model: ScoringModel) -> None:
        self.name = model.name
        self.industries = tuple(
            (r.name, frozenset(map(_fold, r.industries)), r.points, _shown(r.industries))
            for r in model.industries
        )
        self.sizes = tuple(
            (r.name, r.min_size, r.max_size, r.points, _size_text(r.min_size, r.max_size))
            for r in model.company_sizes
        )
        self.budgets = tuple(
            (r.name, r.at_least.currency, r.at_least.amount, r.points, str(r.at_least))
            for r in model.budgets
        )
        self.titles = tuple(
            (
                r.name,
                tuple(map(_fold, r.keywords)),
                tuple(re.compile(p, re.IGNORECASE) for p in r.patterns),
                r.points,
            )
            for r in model.job_titles
        )
        self.regions = tuple(
            (r.name, frozenset(map(_fold, r.regions)), r.points, _shown(r.regions))
            for r in model.regions
        )
        self.engagement = tuple(
            (
                r.name,
                r.kind,
                r.points,
                None
                if r.half_life is None
                else _DECAY.divide(_MINUS_LN2, Decimal(_us(r.half_life))),
                None if r.window is None else _us(r.window),
                r.cap,
                "" if r.half_life is None else f" (half-life {_duration(r.half_life)})",
            )
            for r in model.engagement
        )
        self.domains = tuple((r.name, frozenset(r.domains), r.points) for r in model.email_domains)
        self.penalties = tuple((r.name, r.kind, r.points) for r in model.penalties)
        self.caps = model.caps
        self.grades = model.grades


def _size_text(low: int | None, high: int | None) -> str:
    if low is None:
        return f"at most {high}"
    if high is None:
        return f"at least {low}"
    return f"within {low}-{high}"


def score(lead: Lead, model: ScoringModel, now: datetime) -> LeadScore:
    """Score ``lead`` under ``model`` at ``now``, listing each rule's contribution and reason.

    Only activities at or before ``now`` count. See the module documentation for the rules,
    caps and rounding.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
        >>> lead = Lead.capture(id="l1", now=now, source_channel="ads", email="a@b.example",
        ...                     region="tw")
        >>> s = score(lead, ScoringModel(name="m", regions=[RegionRule("home", ["TW"], 10)]), now)
        >>> s.total, s.contributions[0].reason
        (Decimal('10.00'), "region 'tw' is one of 'TW'")

    .. versionadded:: 0.1.0
    """
    if not isinstance(lead, Lead):
        raise ValidationError(f"must be a Lead, not {type(lead).__name__}", path="lead")
    if not isinstance(model, ScoringModel):
        raise ValidationError(f"must be a ScoringModel, not {type(model).__name__}", path="model")
    now = ensure_aware(now, "now")
    with localcontext(_SUMS):
        return _score(lead, model._plan, now)


def _score(lead: Lead, plan: _Plan, now: datetime) -> LeadScore:
    out: list[Contribution] = []
    add = out.append
    fit = engagement = negative = _ZERO

    # fit -----------------------------------------------------------------------------------
    if plan.industries and lead.industry is not None:
        key = _fold(lead.industry)
        for name, values, points, shown in plan.industries:
            if key in values:
                add(
                    Contribution(
                        name, Category.FIT, points, f"industry {lead.industry!r} is one of {shown}"
                    )
                )
                fit += points
    if plan.sizes and lead.company_size is not None:
        size = lead.company_size
        for name, low, high, points, text in plan.sizes:
            if (low is None or size >= low) and (high is None or size <= high):
                add(Contribution(name, Category.FIT, points, f"company size {size} is {text}"))
                fit += points
    if plan.budgets and lead.budget is not None:
        budget = lead.budget
        for name, currency, amount, points, text in plan.budgets:
            if budget.currency == currency and budget.amount >= amount:
                add(Contribution(name, Category.FIT, points, f"budget {budget} is at least {text}"))
                fit += points
    if plan.titles and lead.job_title is not None:
        title = _fold(lead.job_title)
        for name, keywords, patterns, points in plan.titles:
            hit = next((k for k in keywords if k in title), None)
            for pattern in patterns if hit is None else ():
                found = pattern.search(lead.job_title)
                if found is not None:
                    hit = found.group(0)
                    break
            if hit is not None:
                add(
                    Contribution(
                        name, Category.FIT, points, f"job title {lead.job_title!r} matches {hit!r}"
                    )
                )
                fit += points
    if plan.regions and lead.region is not None:
        key = _fold(lead.region)
        for name, values, points, shown in plan.regions:
            if key in values:
                add(
                    Contribution(
                        name, Category.FIT, points, f"region {lead.region!r} is one of {shown}"
                    )
                )
                fit += points
    cap = plan.caps.fit
    if cap is not None and fit > cap:
        add(Contribution("cap:fit", Category.FIT, cap - fit, f"fit points {fit} capped at {cap}"))
        fit = cap

    # engagement ----------------------------------------------------------------------------
    # Ages are measured between UTC instants: two datetimes sharing a tzinfo would otherwise
    # subtract as wall times, an hour off across a daylight-saving change.
    now_utc = now.astimezone(timezone.utc)
    ages: dict[ActivityKind, list[int]] = {}
    if (plan.engagement or plan.penalties) and lead.activities:
        for activity in lead.activities:
            if activity.at <= now_utc:
                age = now_utc - activity.at
                ages.setdefault(activity.kind, []).append(
                    (age.days * 86_400 + age.seconds) * 1_000_000 + age.microseconds
                )
    for name, kind, points, rate, window, rule_cap, decay_text in plan.engagement:
        found_ages = ages.get(kind)
        if not found_ages:
            continue
        count = 0
        raw = Decimal(0)
        for age_us in found_ages:
            if window is not None and age_us > window:
                continue
            count += 1
            if rate is None:
                raw += points
            else:
                raw += _DECAY.multiply(points, _DECAY.exp(_DECAY.multiply(age_us, rate)))
        if not count:
            continue
        value = raw.quantize(_CENTS, context=_DECAY)
        noun = "activity" if count == 1 else "activities"
        reason = f"{count} {kind.value} {noun} worth {value}{decay_text}"
        if rule_cap is not None and value > rule_cap:
            reason += f", capped at {rule_cap}"
            value = rule_cap
        add(Contribution(name, Category.ENGAGEMENT, value, reason))
        engagement += value
    cap = plan.caps.engagement
    if cap is not None and engagement > cap:
        add(
            Contribution(
                "cap:engagement",
                Category.ENGAGEMENT,
                cap - engagement,
                f"engagement points {engagement} capped at {cap}",
            )
        )
        engagement = cap

    # negative ------------------------------------------------------------------------------
    if plan.domains and lead.email is not None:
        domain = _fold(lead.email.rpartition("@")[2])
        labels = domain.split(".")
        suffixes = [".".join(labels[i:]) for i in range(len(labels))]
        for name, domains, points in plan.domains:
            hit = next((s for s in suffixes if s in domains), None)
            if hit is not None:
                listed = "listed" if hit == domain else f"under listed {hit!r}"
                add(
                    Contribution(
                        name, Category.NEGATIVE, points, f"email domain {domain!r} is {listed}"
                    )
                )
                negative += points
    for name, kind, points in plan.penalties:
        found_ages = ages.get(kind)
        if found_ages:
            latest = now_utc - timedelta(microseconds=min(found_ages))
            when = latest.astimezone(now.tzinfo).date().isoformat()
            add(Contribution(name, Category.NEGATIVE, points, f"{kind.value} on {when}"))
            negative += points
    cap = plan.caps.negative
    if cap is not None and negative < -cap:
        add(
            Contribution(
                "cap:negative",
                Category.NEGATIVE,
                -cap - negative,
                f"penalties {negative} capped at -{cap}",
            )
        )
        negative = -cap

    return LeadScore(
        model=plan.name,
        at=now,
        total=fit + engagement + negative,
        fit_points=fit,
        fit_grade=plan.grades.grade_for(fit),
        engagement=engagement,
        negative=negative,
        contributions=tuple(out),
    )
