"""The loyalty program as data, and the pure function that says how many points an order earns.

A :class:`LoyaltyProgram` holds the rules a host edits in an admin screen and keeps in its
database (it round-trips through :mod:`crmkit.serialization`):

* :class:`EarnRules`: the :class:`BaseRate` (1 point per NT$100, with a rounding rule for
  fractions; floor by default), categories that earn nothing, :class:`CategoryMultiplier`
  rules, :class:`CampaignBonus` rules with date windows, a first-purchase bonus, a
  :class:`BirthdayBonus`, :class:`ActivityReward` points for a review or a survey, and
  :class:`EarnCaps` per order and per day;
* the pending period (the return window) before earned points can be spent, and the
  :class:`ExpiryPolicy` (rolling N months per lot, or the end of the following calendar year);
* the :class:`ShortfallPolicy` for a refund that claws back points already spent;
* the money value of a point (for the liability report), the minimum redemption, and the
  :class:`~crmkit.loyalty.tiers.TierModel`.

:func:`compute_earn` is pure. It returns an :class:`EarnBreakdown` listing each rule's
contribution, so the member's "why did I get 37 points?" has an answer. The arithmetic:

* an order's **eligible spend** is the sum of its lines outside ``excluded_categories``;
* the **base** is ``spend x points / per``, rounded once with the base rate's rounding;
* every **multiplier** (category, tier, campaign, birthday) *adds* ``(multiplier - 1) x`` the
  exact base points of the lines it covers, rounded with the same rule, as its own
  contribution; a line takes only its highest category multiplier;
* **fixed bonuses** (campaign points, first purchase, birthday points once a year) add on;
* the **caps** come last: the per-order cap, then what is left of the per-day cap (the
  member's local day of ``now`` in the program's time zone), each shown as a negative
  contribution.

Campaign windows and the birthday month are judged at the order's ``placed_at`` (or ``now``)
in the program's time zone.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.money import Money
    >>> program = LoyaltyProgram(id="tea_club", name="Tea Club", currency="TWD",
    ...     time_zone="Asia/Taipei", point_value=Money("0.5", "TWD"),
    ...     earn=EarnRules(base=BaseRate(points=1, per=Money("100", "TWD")),
    ...         category_multipliers=[CategoryMultiplier(id="tea_x2", categories=["tea"],
    ...                                                  multiplier=2)]))
    >>> order = EarnOrder(id="o_1", lines=[EarnLine(amount=Money("1250", "TWD"), category="tea"),
    ...                                    EarnLine(amount=Money("380", "TWD"))])
    >>> b = compute_earn(program, order, MemberContext(),
    ...                  datetime(2026, 3, 2, 9, tzinfo=timezone.utc))
    >>> [(c.rule, c.points) for c in b.contributions], b.total
    ([('base', 16), ('tea_x2', 12)], 28)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from dateutil.relativedelta import relativedelta

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.money import Money, Rounding
from crmkit.kernel.time import ensure_aware, validate_aware, validate_optional_aware
from crmkit.loyalty._common import (
    currency_field,
    decimal_in,
    id_field,
    ids_tuple,
    int_range,
    money_field,
    non_negative_int,
    optional_decimal_in,
    optional_id,
    optional_int_range,
    optional_money,
    tuple_of,
    zone_field,
)
from crmkit.loyalty.tiers import TierModel

__all__ = [
    "ActivityReward",
    "BaseRate",
    "BirthdayBonus",
    "CampaignBonus",
    "CategoryMultiplier",
    "ContributionKind",
    "EarnBreakdown",
    "EarnCaps",
    "EarnContribution",
    "EarnLine",
    "EarnOrder",
    "EarnRules",
    "ExpiryKind",
    "ExpiryPolicy",
    "LoyaltyProgram",
    "MemberContext",
    "ShortfallPolicy",
    "compute_activity",
    "compute_earn",
]

_ONE = Decimal(1)
_MAX_POINTS = 1_000_000_000
_MAX_MULTIPLIER = Decimal(100)


# ----- expiry -----------------------------------------------------------------------------------


class ExpiryKind(StrEnum):
    """How a lot of points expires: ``never``, ``rolling_months`` or ``end_of_following_year``.

    Example:
        >>> ExpiryKind("rolling_months") is ExpiryKind.ROLLING_MONTHS
        True

    .. versionadded:: 0.1.0
    """

    NEVER = "never"
    ROLLING_MONTHS = "rolling_months"
    END_OF_FOLLOWING_YEAR = "end_of_following_year"


def _expiry_kind(value: object) -> ExpiryKind:
    return v.to_enum(ExpiryKind, "kind")(value)


@attrs.frozen(kw_only=True)
class ExpiryPolicy:
    """When a lot of earned points expires, counted from when it was earned.

    ``rolling_months``: ``months`` months after the day it was earned, at the end of that day
    (midnight in the program's time zone); ``end_of_following_year``: at the end of the
    calendar year after the one it was earned in (points of 2026 expire when 2027 ends);
    ``never``.

    Example:
        >>> from datetime import datetime
        >>> from zoneinfo import ZoneInfo
        >>> tz = ZoneInfo("Asia/Taipei")
        >>> earned = datetime(2026, 1, 31, 15, 0, tzinfo=tz)
        >>> ExpiryPolicy(kind="rolling_months", months=1).expires_at(earned, tz).isoformat()
        '2026-03-01T00:00:00+08:00'
        >>> ExpiryPolicy(kind="end_of_following_year").expires_at(earned, tz).isoformat()
        '2028-01-01T00:00:00+08:00'

    .. versionadded:: 0.1.0
    """

    kind: ExpiryKind = attrs.field(default=ExpiryKind.NEVER, converter=_expiry_kind)
    months: int | None = attrs.field(default=None, validator=optional_int_range(1, 120))

    def __attrs_post_init__(self) -> None:
        rolling = self.kind is ExpiryKind.ROLLING_MONTHS
        if rolling and self.months is None:
            raise ValidationError("rolling_months expiry needs months", path="months")
        if not rolling and self.months is not None:
            raise ValidationError(
                f"months is only for rolling_months expiry, not {self.kind.value}", path="months"
            )

    def expires_at(self, earned_at: datetime, zone: ZoneInfo) -> datetime | None:
        """The instant a lot earned at ``earned_at`` expires (``None``: never).

        Example:
            >>> from datetime import datetime, timezone
            >>> ExpiryPolicy().expires_at(datetime(2026, 1, 1, tzinfo=timezone.utc),
            ...                           timezone.utc) is None
            True
        """
        if self.kind is ExpiryKind.NEVER:
            return None
        local = earned_at.astimezone(zone)
        if self.kind is ExpiryKind.END_OF_FOLLOWING_YEAR:
            return datetime(local.year + 2, 1, 1, tzinfo=zone)
        day = local.date() + relativedelta(months=self.months or 0, days=1)
        return datetime(day.year, day.month, day.day, tzinfo=zone)

    def shortest_life(self) -> timedelta | None:
        """A lower bound on how long a lot lives (``None``: forever); pending must be shorter.

        Example:
            >>> ExpiryPolicy(kind="rolling_months", months=12).shortest_life().days
            324
        """
        if self.kind is ExpiryKind.NEVER:
            return None
        if self.kind is ExpiryKind.END_OF_FOLLOWING_YEAR:
            return timedelta(days=365)
        return timedelta(days=27 * (self.months or 0))


# ----- earn rules -------------------------------------------------------------------------------


def _rounding(value: object) -> Rounding:
    return v.to_enum(Rounding, "rounding")(value)


def _per(_instance: object, attribute: object, value: Any) -> None:
    money_field(_instance, attribute, value)
    if value.is_zero():
        raise ValidationError(f"must be more than 0, got {value}", path="per")


@attrs.frozen(kw_only=True)
class BaseRate:
    """The base earn rate: ``points`` per ``per`` of eligible spend, with a rounding rule.

    ``rounding`` turns the exact fraction into whole points (``ROUND_FLOOR`` by default:
    NT$1,299 at 1 point per NT$100 earns 12).

    Example:
        >>> from crmkit.kernel.money import Money
        >>> BaseRate(points=1, per=Money("100", "TWD")).rounding.value
        'ROUND_FLOOR'

    .. versionadded:: 0.1.0
    """

    points: int = attrs.field(default=1, validator=int_range(1, 1_000_000))
    per: Money = attrs.field(validator=_per)
    rounding: Rounding = attrs.field(default=Rounding.FLOOR, converter=_rounding)

    def exact(self, amount: Decimal) -> Decimal:
        """The exact (unrounded) base points for ``amount`` of spend.

        Example:
            >>> from decimal import Decimal
            >>> from crmkit.kernel.money import Money
            >>> BaseRate(points=1, per=Money("100", "TWD")).exact(Decimal("1299"))
            Decimal('12.99')
        """
        return amount * self.points / self.per.amount

    def round(self, exact: Decimal) -> int:
        """Round exact points to whole points with this rate's rounding rule.

        Example:
            >>> from decimal import Decimal
            >>> from crmkit.kernel.money import Money
            >>> BaseRate(per=Money("100", "TWD"), rounding="ROUND_HALF_UP").round(Decimal("2.5"))
            3
        """
        return int(exact.quantize(_ONE, rounding=self.rounding.value))


_multiplier_in = decimal_in("multiplier", _ONE, _MAX_MULTIPLIER)
_optional_multiplier_in = optional_decimal_in("multiplier", _ONE, _MAX_MULTIPLIER)
_exact_in = optional_decimal_in("exact", Decimal(-(10**15)), Decimal(10**15))


def _multiplier(value: object) -> Decimal:
    return _multiplier_in(value)


def _optional_multiplier(value: object) -> Decimal | None:
    return _optional_multiplier_in(value)


def _exact(value: object) -> Decimal | None:
    return _exact_in(value)


def _categories(value: object) -> tuple[str, ...]:
    return ids_tuple("categories")(value)


@attrs.frozen(kw_only=True)
class CategoryMultiplier:
    """Lines in ``categories`` earn ``multiplier`` times the base (a line takes its highest).

    Example:
        >>> CategoryMultiplier(id="tea_x2", categories=["tea"], multiplier=2).multiplier
        Decimal('2')

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=id_field)
    categories: tuple[str, ...] = attrs.field(converter=_categories)
    multiplier: Decimal = attrs.field(converter=_multiplier)

    def __attrs_post_init__(self) -> None:
        if not self.categories:
            raise ValidationError("must name at least one category", path="categories")


def _window(instance: Any, _attribute: object, value: datetime) -> None:
    if value <= instance.starts_at:
        raise ValidationError(
            f"must be after starts_at ({instance.starts_at.isoformat()}), got {value.isoformat()}",
            path="ends_at",
        )


@attrs.frozen(kw_only=True)
class CampaignBonus:
    """A campaign from ``starts_at`` (inclusive) to ``ends_at`` (exclusive).

    It adds ``(multiplier - 1) x`` the base points of the lines in ``categories`` (all lines
    when empty) and/or a fixed ``points`` bonus per order, for orders whose eligible spend
    reaches ``min_spend``. At least one of ``multiplier`` and ``points`` is given.

    Example:
        >>> from datetime import datetime, timezone
        >>> c = CampaignBonus(id="double_11", name="Double 11", multiplier=2,
        ...     starts_at=datetime(2026, 11, 11, tzinfo=timezone.utc),
        ...     ends_at=datetime(2026, 11, 12, tzinfo=timezone.utc))
        >>> c.active_at(datetime(2026, 11, 11, 23, 59, tzinfo=timezone.utc))
        True

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=id_field)
    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    starts_at: datetime = attrs.field(validator=validate_aware)
    ends_at: datetime = attrs.field(validator=[validate_aware, _window])
    multiplier: Decimal | None = attrs.field(default=None, converter=_optional_multiplier)
    points: int | None = attrs.field(default=None, validator=optional_int_range(1, _MAX_POINTS))
    categories: tuple[str, ...] = attrs.field(default=(), converter=_categories)
    min_spend: Money | None = attrs.field(default=None, validator=optional_money)

    def __attrs_post_init__(self) -> None:
        if self.multiplier is None and self.points is None:
            raise ValidationError("give a multiplier, points or both", path="multiplier")

    def active_at(self, when: datetime) -> bool:
        """Tell whether ``when`` is inside the campaign's window.

        Example:
            >>> from datetime import datetime, timezone
            >>> CampaignBonus(id="c", name="C", points=50,
            ...     starts_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
            ...     ends_at=datetime(2026, 2, 1, tzinfo=timezone.utc)).active_at(
            ...     datetime(2026, 2, 1, tzinfo=timezone.utc))
            False
        """
        return self.starts_at <= when < self.ends_at


@attrs.frozen(kw_only=True)
class BirthdayBonus:
    """Extra points in the member's birthday month (program time zone).

    ``multiplier`` applies to every order in that month; ``points`` is a fixed gift, given
    once a year with the first order of the month.

    Example:
        >>> BirthdayBonus(multiplier=2, points=100).points
        100

    .. versionadded:: 0.1.0
    """

    multiplier: Decimal = attrs.field(default=_ONE, converter=_multiplier)
    points: int = attrs.field(default=0, validator=int_range(0, _MAX_POINTS))

    def __attrs_post_init__(self) -> None:
        if self.multiplier == _ONE and self.points == 0:
            raise ValidationError("give a multiplier above 1, points or both", path="multiplier")


@attrs.frozen(kw_only=True)
class ActivityReward:
    """Fixed points for an activity such as a product review or a survey (``kind``).

    Example:
        >>> ActivityReward(kind="review", name="Product review", points=20).points
        20

    .. versionadded:: 0.1.0
    """

    kind: str = attrs.field(validator=id_field)
    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    points: int = attrs.field(validator=int_range(1, _MAX_POINTS))


@attrs.frozen(kw_only=True)
class EarnCaps:
    """At most ``per_order`` points per order and ``per_day`` per member and local day.

    The daily cap counts every point earned by rule (orders and activities) on the local day
    of ``now`` in the program's time zone; manual adjustments are not capped.

    Example:
        >>> EarnCaps(per_order=5000).per_day is None
        True

    .. versionadded:: 0.1.0
    """

    per_order: int | None = attrs.field(default=None, validator=optional_int_range(1, _MAX_POINTS))
    per_day: int | None = attrs.field(default=None, validator=optional_int_range(1, _MAX_POINTS))


def _category_multipliers(value: object) -> tuple[CategoryMultiplier, ...]:
    return tuple_of(CategoryMultiplier, "category_multipliers")(value)


def _campaigns(value: object) -> tuple[CampaignBonus, ...]:
    return tuple_of(CampaignBonus, "campaigns")(value)


def _activities(value: object) -> tuple[ActivityReward, ...]:
    return tuple_of(ActivityReward, "activities")(value)


def _excluded(value: object) -> tuple[str, ...]:
    return ids_tuple("excluded_categories")(value)


def _optional_birthday(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, BirthdayBonus):
        raise ValidationError(
            f"must be a BirthdayBonus or None, not {type(value).__name__}", path="birthday"
        )


@attrs.frozen(kw_only=True)
class EarnRules:
    """Every rule that turns an order or an activity into points (see the module docstring).

    Example:
        >>> from crmkit.kernel.money import Money
        >>> rules = EarnRules(base=BaseRate(per=Money("100", "TWD")), first_purchase_points=50,
        ...                   activities=[ActivityReward(kind="review", name="Review", points=20)])
        >>> rules.activity("review").points
        20

    .. versionadded:: 0.1.0
    """

    base: BaseRate = attrs.field(validator=v.of_type(BaseRate))
    excluded_categories: tuple[str, ...] = attrs.field(default=(), converter=_excluded)
    category_multipliers: tuple[CategoryMultiplier, ...] = attrs.field(
        default=(), converter=_category_multipliers
    )
    campaigns: tuple[CampaignBonus, ...] = attrs.field(default=(), converter=_campaigns)
    first_purchase_points: int = attrs.field(default=0, validator=int_range(0, _MAX_POINTS))
    birthday: BirthdayBonus | None = attrs.field(default=None, validator=_optional_birthday)
    activities: tuple[ActivityReward, ...] = attrs.field(default=(), converter=_activities)
    caps: EarnCaps = attrs.field(factory=EarnCaps, validator=v.of_type(EarnCaps))

    def activity(self, kind: str) -> ActivityReward:
        """Return the activity reward for ``kind``; an unknown kind is a ``ValidationError``.

        Example:
            >>> from crmkit.kernel.money import Money
            >>> EarnRules(base=BaseRate(per=Money("100", "TWD"))).activity("survey")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: kind: the program rewards no activity 'survey' ...
        """
        for reward in self.activities:
            if reward.kind == kind:
                return reward
        known = ", ".join(repr(a.kind) for a in self.activities) or "none"
        raise ValidationError(
            f"the program rewards no activity {kind!r} (it rewards: {known})", path="kind"
        )


class ShortfallPolicy(StrEnum):
    """What happens when a refund claws back more points than the member still has.

    ``negative_balance``: the balance goes below zero, and later points pay it back first.
    ``debt``: the balance stops at zero; the shortfall is a debt later points pay back first.
    ``write_off``: the balance stops at zero; the shortfall is forgiven (the entry records it).

    Example:
        >>> ShortfallPolicy("debt") is ShortfallPolicy.DEBT
        True

    .. versionadded:: 0.1.0
    """

    NEGATIVE_BALANCE = "negative_balance"
    DEBT = "debt"
    WRITE_OFF = "write_off"


def _shortfall(value: object) -> ShortfallPolicy:
    return v.to_enum(ShortfallPolicy, "shortfall")(value)


def _pending(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, timedelta):
        raise ValidationError(
            f"must be a timedelta, not {type(value).__name__}", path="pending_period"
        )
    if value < timedelta(0) or value > timedelta(days=366):
        raise ValidationError(f"must be from 0 to 366 days, got {value}", path="pending_period")


def _optional_tiers(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, TierModel):
        raise ValidationError(
            f"must be a TierModel or None, not {type(value).__name__}", path="tiers"
        )


class _ProgramIsFixed(attrs.exceptions.FrozenAttributeError):
    """attrs' frozen-attribute error, saying what to do instead."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.msg = message
        self.args = (message,)


def _read_only(instance: Any, attribute: attrs.Attribute[Any], _value: Any) -> Any:
    raise _ProgramIsFixed(
        f"{type(instance).__name__}.{attribute.name} cannot be changed: build a new program "
        "(attrs.evolve) and save it"
    )


@attrs.define(kw_only=True)
class LoyaltyProgram(Aggregate):
    """A loyalty program: earn rules, pending period, expiry, shortfall policy, value, tiers.

    ``currency`` is what orders are paid in and ``time_zone`` (IANA) where days, months and
    years are counted (daily caps, birthday months, expiry dates, tier periods).
    ``point_value`` is the money one point is worth (for the liability report; it may carry
    more digits than the currency). ``min_redemption`` is the fewest points one redemption may
    spend. Building a program checks it and a broken one is a
    :class:`~crmkit.errors.DefinitionError` listing every problem: amounts in the program's
    currency, rule ids unique, a pending period shorter than the shortest life of a lot, and
    the tier model's own checks. Once built its fields cannot be changed: build a new one with
    ``attrs.evolve``.

    Example:
        >>> from datetime import timedelta
        >>> from crmkit.kernel.money import Money
        >>> LoyaltyProgram(id="p", name="P", currency="TWD", time_zone="Asia/Taipei",
        ...     point_value=Money("1", "USD"), pending_period=timedelta(days=200),
        ...     expiry=ExpiryPolicy(kind="rolling_months", months=6),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "CNY"))))
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: program 'p' has 3 problems: point_value is in USD, the
        program in TWD; earn.base.per is in CNY, the program in TWD; pending_period (200 days)
        must be shorter than the shortest life of a lot under rolling_months expiry (162 days)

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(200), on_setattr=_read_only)
    currency: str = attrs.field(validator=currency_field, on_setattr=_read_only)
    time_zone: str = attrs.field(validator=zone_field, on_setattr=_read_only)
    earn: EarnRules = attrs.field(validator=v.of_type(EarnRules), on_setattr=_read_only)
    point_value: Money = attrs.field(validator=money_field, on_setattr=_read_only)
    pending_period: timedelta = attrs.field(
        default=timedelta(0), validator=_pending, on_setattr=_read_only
    )
    expiry: ExpiryPolicy = attrs.field(
        factory=ExpiryPolicy, validator=v.of_type(ExpiryPolicy), on_setattr=_read_only
    )
    shortfall: ShortfallPolicy = attrs.field(
        default=ShortfallPolicy.DEBT, converter=_shortfall, on_setattr=_read_only
    )
    min_redemption: int = attrs.field(
        default=1, validator=int_range(1, _MAX_POINTS), on_setattr=_read_only
    )
    tiers: TierModel | None = attrs.field(
        default=None, validator=_optional_tiers, on_setattr=_read_only
    )
    _zone: ZoneInfo = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        problems = _program_problems(self)
        if problems:
            count = f"{len(problems)} problems" if len(problems) > 1 else "a problem"
            raise DefinitionError(
                f"program {self.id!r} has {count}: {'; '.join(problems)}",
                details={"problems": problems},
            )
        object.__setattr__(self, "_zone", ZoneInfo(self.time_zone))

    @property
    def zone(self) -> ZoneInfo:
        """The program's time zone as a ``ZoneInfo``."""
        return self._zone

    def value_of(self, points: int) -> Money:
        """The money ``points`` are worth at ``point_value``, rounded HALF_UP to minor units.

        Example:
            >>> from crmkit.kernel.money import Money
            >>> p = LoyaltyProgram(id="p", name="P", currency="TWD", time_zone="Asia/Taipei",
            ...     point_value=Money("0.3", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> p.value_of(12345)
            Money('3703.50', 'TWD')
        """
        return (self.point_value * points).round(Rounding.HALF_UP)

    def tier_benefits(self, tier_id: str | None) -> Any:
        """The :class:`~crmkit.loyalty.tiers.TierBenefits` of ``tier_id`` (``None``: none).

        Example:
            >>> from crmkit.kernel.money import Money
            >>> LoyaltyProgram(id="p", name="P", currency="TWD", time_zone="Asia/Taipei",
            ...     point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD")))).tier_benefits(None)
        """
        if tier_id is None or self.tiers is None:
            return None
        return self.tiers.tier(tier_id).benefits

    def expires_at(self, earned_at: datetime) -> datetime | None:
        """When a lot earned at ``earned_at`` expires under this program's policy.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> LoyaltyProgram(id="p", name="P", currency="TWD", time_zone="Asia/Taipei",
            ...     point_value=Money("1", "TWD"),
            ...     expiry=ExpiryPolicy(kind="end_of_following_year"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD")))).expires_at(
            ...     datetime(2026, 12, 31, 17, tzinfo=timezone.utc)).isoformat()
            '2029-01-01T00:00:00+08:00'
        """
        return self.expiry.expires_at(earned_at, self._zone)


def _program_problems(program: LoyaltyProgram) -> list[str]:
    problems: list[str] = []
    currency = program.currency
    amounts: list[tuple[str, Money | None]] = [
        ("point_value", program.point_value),
        ("earn.base.per", program.earn.base.per),
    ]
    amounts += [(f"campaign {c.id!r} min_spend", c.min_spend) for c in program.earn.campaigns]
    for where, amount in amounts:
        if amount is not None and amount.currency != currency:
            problems.append(f"{where} is in {amount.currency}, the program in {currency}")
    for kind, ids in (
        ("category multiplier", [m.id for m in program.earn.category_multipliers]),
        ("campaign", [c.id for c in program.earn.campaigns]),
        ("activity", [a.kind for a in program.earn.activities]),
    ):
        seen: set[str] = set()
        for item in ids:
            if item in seen:
                problems.append(f"{kind} {item!r} is defined twice")
            seen.add(item)
    life = program.expiry.shortest_life()
    if life is not None and program.pending_period >= life:
        problems.append(
            f"pending_period ({program.pending_period.days} days) must be shorter than the "
            f"shortest life of a lot under {program.expiry.kind.value} expiry ({life.days} days)"
        )
    return problems


# ----- orders, member context and the breakdown ------------------------------------------------


@attrs.frozen(kw_only=True)
class EarnLine:
    """One line of an order as the points engine sees it: an amount and its category.

    ``amount`` is what the customer paid for the line (after discounts), in the program's
    currency.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> EarnLine(amount=Money("450", "TWD"), category="tea", sku="OOLONG").category
        'tea'

    .. versionadded:: 0.1.0
    """

    amount: Money = attrs.field(validator=money_field)
    category: str | None = attrs.field(default=None, validator=optional_id)
    sku: str | None = attrs.field(default=None, validator=optional_id)


def _lines(value: object) -> tuple[EarnLine, ...]:
    return tuple_of(EarnLine, "lines")(value)


def _check_lines(_instance: object, _attribute: object, value: tuple[EarnLine, ...]) -> None:
    if not value:
        raise ValidationError("an order needs at least one line", path="lines")
    if len(value) > 10_000:
        raise ValidationError("an order holds at most 10000 lines", path="lines")
    currency = value[0].amount.currency
    for i, line in enumerate(value):
        if line.amount.currency != currency:
            raise ValidationError(
                f"is in {line.amount.currency}, the order's first line in {currency}",
                path=f"lines[{i}].amount",
            )


@attrs.frozen(kw_only=True)
class EarnOrder:
    """An order (paid) that earns points: its id, lines and when it was placed.

    ``placed_at`` (default: the time points are credited) decides campaign windows and the
    birthday month.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> EarnOrder.of("o_1", Money("1299", "TWD"), category="tea").total
        Money('1299', 'TWD')

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=id_field)
    lines: tuple[EarnLine, ...] = attrs.field(converter=_lines, validator=_check_lines)
    placed_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)

    @classmethod
    def of(
        cls,
        id: str,
        amount: Money,
        *,
        category: str | None = None,
        placed_at: datetime | None = None,
    ) -> EarnOrder:
        """An order of one line.

        Example:
            >>> from crmkit.kernel.money import Money
            >>> len(EarnOrder.of("o_2", Money("10", "TWD")).lines)
            1
        """
        return cls(id=id, lines=(EarnLine(amount=amount, category=category),), placed_at=placed_at)

    @property
    def currency(self) -> str:
        """The order's currency."""
        return self.lines[0].amount.currency

    @property
    def total(self) -> Money:
        """The sum of the lines."""
        return Money.sum((line.amount for line in self.lines), currency=self.currency)


@attrs.frozen(kw_only=True)
class MemberContext:
    """What the earn rules need to know about the member (the Membership builds it).

    ``tier``: the member's tier id; ``first_order``: no order has earned on the membership
    yet; ``birth_month``: 1-12 or ``None``; ``birthday_points_given``: this year's fixed
    birthday points were already given; ``earned_today``: points earned by rule on the local
    day of ``now`` so far (for the daily cap).

    Example:
        >>> MemberContext(tier="gold", first_order=True).earned_today
        0

    .. versionadded:: 0.1.0
    """

    tier: str | None = attrs.field(default=None, validator=optional_id)
    first_order: bool = attrs.field(default=False, validator=v.of_type(bool))
    birth_month: int | None = attrs.field(default=None, validator=optional_int_range(1, 12))
    birthday_points_given: bool = attrs.field(default=False, validator=v.of_type(bool))
    earned_today: int = attrs.field(default=0, validator=non_negative_int)


class ContributionKind(StrEnum):
    """The kind of rule behind one line of a points breakdown.

    Example:
        >>> ContributionKind("campaign") is ContributionKind.CAMPAIGN
        True

    .. versionadded:: 0.1.0
    """

    BASE = "base"
    CATEGORY = "category"
    TIER = "tier"
    CAMPAIGN = "campaign"
    FIRST_PURCHASE = "first_purchase"
    BIRTHDAY = "birthday"
    ACTIVITY = "activity"
    CAP = "cap"


def _contribution_kind(value: object) -> ContributionKind:
    return v.to_enum(ContributionKind, "kind")(value)


def _signed_points(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 10 * _MAX_POINTS:
        raise ValidationError(f"must be an int, got {value!r}", path="points")


@attrs.frozen(kw_only=True)
class EarnContribution:
    """One line of a points breakdown: which rule, how many points, and how it got them.

    ``rule`` is the rule's id (``"base"``, a category multiplier's or campaign's id, the tier
    id, ``"first_purchase"``, ``"birthday"``, the activity kind, ``"per_order"`` or
    ``"per_day"`` for caps); ``exact`` the points before rounding (``None`` for fixed ones);
    ``note`` says the arithmetic in words.

    Example:
        >>> EarnContribution(kind="base", rule="base", points=12, exact="12.99",
        ...                  note="1 point per 100 TWD on 1299 TWD").points
        12

    .. versionadded:: 0.1.0
    """

    kind: ContributionKind = attrs.field(converter=_contribution_kind)
    rule: str = attrs.field(validator=id_field)
    points: int = attrs.field(validator=_signed_points)
    exact: Decimal | None = attrs.field(
        default=None,
        converter=_exact,
    )
    note: str = attrs.field(default="", validator=v.of_type(str))


def _contributions(value: object) -> tuple[EarnContribution, ...]:
    return tuple_of(EarnContribution, "contributions")(value)


@attrs.frozen(kw_only=True)
class EarnBreakdown:
    """The points an order or activity earns, rule by rule: the "points breakdown".

    ``total`` is the sum of the contributions (caps included, never below 0); ``spend`` the
    eligible spend (zero for activities).

    Example:
        >>> from crmkit.kernel.money import Money
        >>> b = EarnBreakdown(reference="o_1", spend=Money("1000", "TWD"), contributions=[
        ...     EarnContribution(kind="base", rule="base", points=10),
        ...     EarnContribution(kind="cap", rule="per_order", points=-2)])
        >>> b.total, b.uncapped
        (8, 10)

    .. versionadded:: 0.1.0
    """

    reference: str = attrs.field(validator=id_field)
    spend: Money = attrs.field(validator=money_field)
    contributions: tuple[EarnContribution, ...] = attrs.field(converter=_contributions)

    @property
    def total(self) -> int:
        """The points earned."""
        return sum(c.points for c in self.contributions)

    @property
    def uncapped(self) -> int:
        """The points before the caps."""
        return sum(c.points for c in self.contributions if c.kind is not ContributionKind.CAP)

    def contribution(self, rule: str) -> EarnContribution | None:
        """The contribution of ``rule`` (by id), if it contributed.

        Example:
            >>> from crmkit.kernel.money import Money
            >>> EarnBreakdown(reference="o", spend=Money("0", "TWD"),
            ...               contributions=[]).contribution("base") is None
            True
        """
        for item in self.contributions:
            if item.rule == rule:
                return item
        return None


def _fmt(number: Decimal) -> str:
    return format(number.normalize(), "f")


def _local(when: datetime, program: LoyaltyProgram) -> datetime:
    return when.astimezone(program.zone)


def _caps(program: LoyaltyProgram, points: int, member: MemberContext) -> list[EarnContribution]:
    found: list[EarnContribution] = []
    caps = program.earn.caps
    if caps.per_order is not None and points > caps.per_order:
        found.append(
            EarnContribution(
                kind=ContributionKind.CAP,
                rule="per_order",
                points=caps.per_order - points,
                note=f"at most {caps.per_order} points per order",
            )
        )
        points = caps.per_order
    if caps.per_day is not None:
        left = max(0, caps.per_day - member.earned_today)
        if points > left:
            found.append(
                EarnContribution(
                    kind=ContributionKind.CAP,
                    rule="per_day",
                    points=left - points,
                    note=(
                        f"at most {caps.per_day} points per day; {member.earned_today} "
                        "already earned today"
                    ),
                )
            )
    return found


def _check_member(member: object) -> MemberContext:
    if not isinstance(member, MemberContext):
        raise ValidationError(
            f"must be a MemberContext, not {type(member).__name__}", path="member"
        )
    return member


def compute_earn(
    program: LoyaltyProgram, order: EarnOrder, member: MemberContext, now: datetime
) -> EarnBreakdown:
    """Compute the points ``order`` earns for a member, rule by rule (pure).

    See the module docstring for the arithmetic. The order must be in the program's currency
    and placed no later than ``now``.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> program = LoyaltyProgram(id="p", name="P", currency="TWD", time_zone="Asia/Taipei",
        ...     point_value=Money("1", "TWD"),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD")), first_purchase_points=50,
        ...                    caps=EarnCaps(per_order=60)))
        >>> b = compute_earn(program, EarnOrder.of("o_1", Money("1299", "TWD")),
        ...                  MemberContext(first_order=True),
        ...                  datetime(2026, 3, 2, tzinfo=timezone.utc))
        >>> [(c.rule, c.points) for c in b.contributions], b.total
        ([('base', 12), ('first_purchase', 50), ('per_order', -2)], 60)

    .. versionadded:: 0.1.0
    """
    if not isinstance(program, LoyaltyProgram):
        raise ValidationError(
            f"must be a LoyaltyProgram, not {type(program).__name__}", path="program"
        )
    if not isinstance(order, EarnOrder):
        raise ValidationError(f"must be an EarnOrder, not {type(order).__name__}", path="order")
    member = _check_member(member)
    now = ensure_aware(now, "now")
    if order.currency != program.currency:
        raise ValidationError(
            f"order {order.id!r} is in {order.currency}, the program in {program.currency}",
            path="order.lines",
        )
    placed = order.placed_at if order.placed_at is not None else now
    if placed > now:
        raise ValidationError(
            f"must not be after now ({now.isoformat()}), got {placed.isoformat()}",
            path="order.placed_at",
        )
    rules = program.earn
    rate = rules.base
    excluded = set(rules.excluded_categories)
    eligible = [line for line in order.lines if line.category not in excluded]
    spend = Money.sum((line.amount for line in eligible), currency=program.currency)
    exact = [rate.exact(line.amount.amount) for line in eligible]
    base_exact = sum(exact, Decimal(0))
    found = [
        EarnContribution(
            kind=ContributionKind.BASE,
            rule="base",
            points=rate.round(base_exact),
            exact=base_exact,
            note=f"{rate.points} per {rate.per} on {spend}",
        )
    ]

    # Category multipliers: each line takes its highest (first listed on ties).
    best: dict[int, CategoryMultiplier] = {}
    for i, line in enumerate(eligible):
        for rule in rules.category_multipliers:
            if line.category in rule.categories and (
                i not in best or rule.multiplier > best[i].multiplier
            ):
                best[i] = rule
    for rule in rules.category_multipliers:
        covered = [exact[i] for i, chosen in best.items() if chosen is rule]
        if covered:
            extra = sum(covered, Decimal(0)) * (rule.multiplier - _ONE)
            found.append(
                EarnContribution(
                    kind=ContributionKind.CATEGORY,
                    rule=rule.id,
                    points=rate.round(extra),
                    exact=extra,
                    note=f"x{_fmt(rule.multiplier)} on {', '.join(rule.categories)}",
                )
            )

    # The tier's multiplier.
    benefits = program.tier_benefits(member.tier)
    if benefits is not None and benefits.earn_multiplier > _ONE and member.tier is not None:
        extra = base_exact * (benefits.earn_multiplier - _ONE)
        found.append(
            EarnContribution(
                kind=ContributionKind.TIER,
                rule=member.tier,
                points=rate.round(extra),
                exact=extra,
                note=f"x{_fmt(benefits.earn_multiplier)} for tier {member.tier}",
            )
        )

    # Campaigns in their window at placed_at.
    for campaign in rules.campaigns:
        if not campaign.active_at(placed):
            continue
        if campaign.min_spend is not None and spend < campaign.min_spend:
            continue
        points = 0
        notes = []
        extra_exact: Decimal | None = None
        if campaign.multiplier is not None:
            covered = [
                exact[i]
                for i, line in enumerate(eligible)
                if not campaign.categories or line.category in campaign.categories
            ]
            extra_exact = sum(covered, Decimal(0)) * (campaign.multiplier - _ONE)
            points += rate.round(extra_exact)
            notes.append(f"x{_fmt(campaign.multiplier)}")
        if campaign.points is not None:
            points += campaign.points
            notes.append(f"+{campaign.points}")
        found.append(
            EarnContribution(
                kind=ContributionKind.CAMPAIGN,
                rule=campaign.id,
                points=points,
                exact=extra_exact,
                note=f"{campaign.name}: {' and '.join(notes)}",
            )
        )

    if member.first_order and rules.first_purchase_points:
        found.append(
            EarnContribution(
                kind=ContributionKind.FIRST_PURCHASE,
                rule="first_purchase",
                points=rules.first_purchase_points,
                note="first order",
            )
        )

    birthday = rules.birthday
    if (
        birthday is not None
        and member.birth_month is not None
        and _local(placed, program).month == member.birth_month
    ):
        points = 0
        birthday_exact: Decimal | None = None
        notes = []
        if birthday.multiplier > _ONE:
            birthday_exact = base_exact * (birthday.multiplier - _ONE)
            points += rate.round(birthday_exact)
            notes.append(f"x{_fmt(birthday.multiplier)}")
        if birthday.points and not member.birthday_points_given:
            points += birthday.points
            notes.append(f"+{birthday.points} once a year")
        if notes:
            found.append(
                EarnContribution(
                    kind=ContributionKind.BIRTHDAY,
                    rule="birthday",
                    points=points,
                    exact=birthday_exact,
                    note=f"birthday month: {' and '.join(notes)}",
                )
            )

    found += _caps(program, sum(c.points for c in found), member)
    return EarnBreakdown(reference=order.id, spend=spend, contributions=found)


def compute_activity(
    program: LoyaltyProgram, kind: str, reference: str, member: MemberContext
) -> EarnBreakdown:
    """Compute the points an activity (``kind``: a review, a survey) earns, daily cap applied.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> program = LoyaltyProgram(id="p", name="P", currency="TWD", time_zone="Asia/Taipei",
        ...     point_value=Money("1", "TWD"),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD")), caps=EarnCaps(per_day=25),
        ...         activities=[ActivityReward(kind="review", name="Review", points=20)]))
        >>> compute_activity(program, "review", "rev_1", MemberContext(earned_today=10)).total
        15

    .. versionadded:: 0.1.0
    """
    member = _check_member(member)
    reward = program.earn.activity(kind)
    found = [
        EarnContribution(
            kind=ContributionKind.ACTIVITY,
            rule=reward.kind,
            points=reward.points,
            note=reward.name,
        )
    ]
    caps = program.earn.caps
    if caps.per_day is not None:
        left = max(0, caps.per_day - member.earned_today)
        if reward.points > left:
            found.append(
                EarnContribution(
                    kind=ContributionKind.CAP,
                    rule="per_day",
                    points=left - reward.points,
                    note=(
                        f"at most {caps.per_day} points per day; {member.earned_today} "
                        "already earned today"
                    ),
                )
            )
    return EarnBreakdown(
        reference=reference, spend=Money.zero(program.currency), contributions=found
    )
