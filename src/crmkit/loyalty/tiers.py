"""Tiers: what a member qualifies for, when they move up, and how gently they move down.

A :class:`TierModel` is data: the qualifying :class:`QualifyingMetric` (points earned, spend, or
number of orders), the :class:`TierPeriod` it is counted over, the ordered :class:`Tier` list
with thresholds and :class:`TierBenefits`, and the :class:`DowngradeMode`.

The rules, spelled out (times in the program's time zone):

* **The qualifying value is kept apart from the spendable balance.** It is the sum of
  :class:`QualifyingActivity` records (an order adds its points, spend and 1 order; a refund
  takes back what it claws back, its refunded spend, and the order once fully refunded).
  Redeeming points never touches it, so redeeming never demotes a member.
* **Periods.** ``calendar``: periods of ``period_months`` months from 1 January (12: calendar
  years; 3: quarters). ``anniversary``: periods of ``period_months`` months from the day the
  member enrolled. ``rolling``: the last ``rolling_days`` days; the tier is then reviewed every
  ``period_months`` months from 1 January.
* **Upgrade at once.** Whenever an activity brings the value of the current period (calendar,
  anniversary) or of the last ``rolling_days`` days (rolling) to a higher tier's threshold,
  the member moves up to that tier at that moment, skipping levels if the value allows.
* **Downgrade only on an evaluation date.** ``at_evaluation``: at each period boundary (for
  rolling: each review date) the value of the period that just ended (rolling: the
  ``rolling_days`` before it) is compared with the thresholds. ``after_days``: the tier is
  reviewed ``downgrade_after_days`` days after the last change of the computed tier, and
  every ``downgrade_after_days`` days after that while nothing changes, over the period (or
  rolling window) that ends on the review. ``never``: no automatic downgrades. An evaluation
  only ever lowers the tier, by at most ``max_levels_down`` levels (the soft landing; 1 by
  default, ``None`` drops straight to the tier the value earns).
* **Manual grants.** A :class:`TierGrant` holds a member at a tier from its start until its
  end date (or for good). The member's tier is the higher of the computed tier and the
  highest active grant, so a grant matters only while it is higher than the computed tier.
* **History.** Every change of the member's tier is a :class:`TierChange` with its reason and
  the qualifying value that decided it.

:func:`compute_tier` replays a qualifying history with these rules. It is pure: the
:class:`~crmkit.loyalty.Membership` keeps the same state incrementally, and its tier always
equals what :func:`compute_tier` says for its history.

Example:
    >>> from datetime import datetime
    >>> from zoneinfo import ZoneInfo
    >>> tz = ZoneInfo("Asia/Taipei")
    >>> model = TierModel(metric="points", period="calendar", tiers=[
    ...     Tier(id="member", name="Member", threshold=0),
    ...     Tier(id="gold", name="Gold", threshold=1000,
    ...          benefits=TierBenefits(earn_multiplier="1.5", free_shipping=True))])
    >>> history = [QualifyingActivity(at=datetime(2026, 3, 1, tzinfo=tz), points=600),
    ...            QualifyingActivity(at=datetime(2026, 6, 1, tzinfo=tz), points=500)]
    >>> status = compute_tier(model, history, enrolled_at=datetime(2026, 1, 5, tzinfo=tz),
    ...                       now=datetime(2027, 2, 1, tzinfo=tz), time_zone="Asia/Taipei")
    >>> status.tier, [(c.at.date().isoformat(), c.to_tier, c.reason.value)
    ...               for c in status.history]
    ('gold', [('2026-01-05', 'member', 'enrolled'), ('2026-06-01', 'gold', 'upgrade')])

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
from dateutil.relativedelta import relativedelta

from crmkit.errors import DefinitionError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.time import ensure_aware, validate_aware, validate_optional_aware
from crmkit.loyalty._common import (
    decimal_in,
    id_field,
    ids_tuple,
    int_range,
    optional_id,
    optional_int_range,
    plain_int,
    tuple_of,
    zone_field,
)

__all__ = [
    "DowngradeMode",
    "QualifyingActivity",
    "QualifyingMetric",
    "Tier",
    "TierBenefits",
    "TierChange",
    "TierChangeReason",
    "TierGrant",
    "TierModel",
    "TierPeriod",
    "TierStatus",
    "compute_tier",
]

_ONE = Decimal(1)
_ZERO = Decimal(0)


class QualifyingMetric(StrEnum):
    """What qualifies a member for a tier: ``points`` earned, ``spend``, or ``orders``.

    Example:
        >>> QualifyingMetric("spend") is QualifyingMetric.SPEND
        True

    .. versionadded:: 0.1.0
    """

    POINTS = "points"
    SPEND = "spend"
    ORDERS = "orders"


class TierPeriod(StrEnum):
    """The period the qualifying value is counted over (see the module docstring).

    Example:
        >>> TierPeriod("anniversary").value
        'anniversary'

    .. versionadded:: 0.1.0
    """

    CALENDAR = "calendar"
    ANNIVERSARY = "anniversary"
    ROLLING = "rolling"


class DowngradeMode(StrEnum):
    """When a member may move down: ``never``, ``at_evaluation`` or ``after_days``.

    Example:
        >>> DowngradeMode("after_days") is DowngradeMode.AFTER_DAYS
        True

    .. versionadded:: 0.1.0
    """

    NEVER = "never"
    AT_EVALUATION = "at_evaluation"
    AFTER_DAYS = "after_days"


class TierChangeReason(StrEnum):
    """Why a member's tier changed.

    ``enrolled`` (the first tier), ``upgrade`` (a threshold was crossed), ``downgrade`` (an
    evaluation), ``grant`` (a manual grant raised it), ``grant_ended`` (a grant ran out).

    Example:
        >>> TierChangeReason.UPGRADE.value
        'upgrade'

    .. versionadded:: 0.1.0
    """

    ENROLLED = "enrolled"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    GRANT = "grant"
    GRANT_ENDED = "grant_ended"


def _metric(value: object) -> QualifyingMetric:
    return v.to_enum(QualifyingMetric, "metric")(value)


def _period(value: object) -> TierPeriod:
    return v.to_enum(TierPeriod, "period")(value)


def _downgrade(value: object) -> DowngradeMode:
    return v.to_enum(DowngradeMode, "downgrade")(value)


def _reason(value: object) -> TierChangeReason:
    return v.to_enum(TierChangeReason, "reason")(value)


_earn_multiplier_in = decimal_in("earn_multiplier", _ONE, Decimal(100))
_threshold_in = decimal_in("threshold", _ZERO, Decimal(1_000_000_000_000))
_offers_in = ids_tuple("exclusive_offers")


def _earn_multiplier(value: object) -> Decimal:
    return _earn_multiplier_in(value)


def _threshold(value: object) -> Decimal:
    return _threshold_in(value)


def _offers(value: object) -> tuple[str, ...]:
    return _offers_in(value)


@attrs.frozen(kw_only=True)
class TierBenefits:
    """What a tier gives: an earn multiplier and flags other contexts read.

    ``earn_multiplier`` (1 to 100) adds ``(multiplier - 1) x`` the base points of every order;
    ``free_shipping`` and ``priority_service`` are flags the host's checkout and the service
    context read; ``exclusive_offers`` names offers (reward or campaign ids) only this tier sees.

    Example:
        >>> TierBenefits(earn_multiplier="1.25", priority_service=True).earn_multiplier
        Decimal('1.25')

    .. versionadded:: 0.1.0
    """

    earn_multiplier: Decimal = attrs.field(default=_ONE, converter=_earn_multiplier)
    free_shipping: bool = attrs.field(default=False, validator=v.of_type(bool))
    priority_service: bool = attrs.field(default=False, validator=v.of_type(bool))
    exclusive_offers: tuple[str, ...] = attrs.field(default=(), converter=_offers)


@attrs.frozen(kw_only=True)
class Tier:
    """One tier: its id, display name, qualifying threshold and benefits.

    ``threshold`` is in the model's metric: points, an amount of the program's currency, or a
    number of orders. The first tier of a model is the base tier, with threshold 0.

    Example:
        >>> Tier(id="gold", name="Gold", threshold=1000).threshold
        Decimal('1000')

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=id_field)
    name: str = attrs.field(converter=v.strip, validator=v.text(100))
    threshold: Decimal = attrs.field(converter=_threshold)
    benefits: TierBenefits = attrs.field(factory=TierBenefits, validator=v.of_type(TierBenefits))


def _tiers(value: object) -> tuple[Tier, ...]:
    return tuple_of(Tier, "tiers")(value)


@attrs.frozen(kw_only=True)
class TierModel:
    """The tier rules as data: metric, period, tiers, and how downgrades happen.

    Building a model checks it; a broken one is a :class:`~crmkit.errors.DefinitionError`
    listing every problem: at least one tier, the first with threshold 0, thresholds rising
    strictly, tier ids unique, whole thresholds for points and orders, ``period_months``
    dividing 12 for calendar and rolling models, ``rolling_days`` given exactly for rolling
    models and ``downgrade_after_days`` exactly for ``after_days``.

    Example:
        >>> TierModel(metric="orders", period="rolling", tiers=[
        ...     Tier(id="a", name="A", threshold=1), Tier(id="b", name="B", threshold=1)])
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: tier model has 3 problems: the first tier ('a') must have
        threshold 0, not 1; tier 'b': threshold 1 must be above the previous tier's (1); a
        rolling model needs rolling_days

    .. versionadded:: 0.1.0
    """

    metric: QualifyingMetric = attrs.field(converter=_metric)
    period: TierPeriod = attrs.field(converter=_period)
    tiers: tuple[Tier, ...] = attrs.field(converter=_tiers)
    period_months: int = attrs.field(default=12, validator=int_range(1, 120))
    rolling_days: int | None = attrs.field(default=None, validator=optional_int_range(1, 3660))
    downgrade: DowngradeMode = attrs.field(
        default=DowngradeMode.AT_EVALUATION, converter=_downgrade
    )
    downgrade_after_days: int | None = attrs.field(
        default=None, validator=optional_int_range(1, 3660)
    )
    max_levels_down: int | None = attrs.field(default=1, validator=optional_int_range(1, 100))
    _thresholds: tuple[Decimal, ...] = attrs.field(init=False, eq=False, repr=False)
    _index: dict[str, int] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        problems = _model_problems(self)
        if problems:
            count = f"{len(problems)} problems" if len(problems) > 1 else "a problem"
            raise DefinitionError(
                f"tier model has {count}: {'; '.join(problems)}", details={"problems": problems}
            )
        object.__setattr__(self, "_thresholds", tuple(t.threshold for t in self.tiers))
        object.__setattr__(self, "_index", {t.id: i for i, t in enumerate(self.tiers)})

    def index(self, tier_id: str) -> int:
        """Return the position of ``tier_id`` (0 is the base tier); unknown ids are refused.

        Example:
            >>> TierModel(metric="points", period="calendar",
            ...           tiers=[Tier(id="base", name="Base", threshold=0)]).index("base")
            0
        """
        found = self._index.get(tier_id)
        if found is None:
            known = ", ".join(repr(t.id) for t in self.tiers)
            raise ValidationError(f"no tier {tier_id!r}; the tiers are {known}", path="tier")
        return found

    def tier(self, tier_id: str) -> Tier:
        """Return the tier with ``tier_id``.

        Example:
            >>> TierModel(metric="points", period="calendar",
            ...           tiers=[Tier(id="base", name="Base", threshold=0)]).tier("base").name
            'Base'
        """
        return self.tiers[self.index(tier_id)]

    def tier_for(self, value: Decimal | int) -> Tier:
        """Return the highest tier whose threshold ``value`` reaches.

        Example:
            >>> model = TierModel(metric="points", period="calendar", tiers=[
            ...     Tier(id="base", name="Base", threshold=0),
            ...     Tier(id="gold", name="Gold", threshold=100)])
            >>> model.tier_for(99).id, model.tier_for(100).id
            ('base', 'gold')
        """
        return self.tiers[self._level(Decimal(value))]

    def _level(self, value: Decimal) -> int:
        return max(0, bisect_right(self._thresholds, value) - 1)


def _model_problems(model: TierModel) -> list[str]:
    problems: list[str] = []
    if not model.tiers:
        problems.append("there must be at least one tier")
    else:
        first = model.tiers[0]
        if first.threshold != 0:
            problems.append(
                f"the first tier ({first.id!r}) must have threshold 0, not {first.threshold}"
            )
    seen: set[str] = set()
    for i, tier in enumerate(model.tiers):
        if tier.id in seen:
            problems.append(f"tier id {tier.id!r} is used twice")
        seen.add(tier.id)
        if model.metric is not QualifyingMetric.SPEND and tier.threshold != int(tier.threshold):
            problems.append(
                f"tier {tier.id!r}: a {model.metric.value} threshold must be whole, "
                f"not {tier.threshold}"
            )
        if i and tier.threshold <= model.tiers[i - 1].threshold:
            problems.append(
                f"tier {tier.id!r}: threshold {tier.threshold} must be above the previous "
                f"tier's ({model.tiers[i - 1].threshold})"
            )
    if model.period is not TierPeriod.ANNIVERSARY and 12 % model.period_months:
        problems.append(
            f"period_months must divide 12 for a {model.period.value} model "
            f"(1, 2, 3, 4, 6 or 12), not {model.period_months}"
        )
    rolling = model.period is TierPeriod.ROLLING
    if rolling and model.rolling_days is None:
        problems.append("a rolling model needs rolling_days")
    if not rolling and model.rolling_days is not None:
        problems.append(f"rolling_days is only for rolling models, not {model.period.value}")
    after = model.downgrade is DowngradeMode.AFTER_DAYS
    if after and model.downgrade_after_days is None:
        problems.append("downgrade 'after_days' needs downgrade_after_days")
    if not after and model.downgrade_after_days is not None:
        problems.append(
            f"downgrade_after_days is only for downgrade 'after_days', not "
            f"{model.downgrade.value!r}"
        )
    return problems


def _decimal_amount(value: object) -> Decimal:
    return decimal_in("spend", Decimal(-1_000_000_000_000), Decimal(1_000_000_000_000))(value)


def _optional_amount(value: object) -> Decimal | None:
    return None if value is None else _decimal_amount(value)


@attrs.frozen(kw_only=True)
class QualifyingActivity:
    """A change of the qualifying value at ``at``: points, spend and orders (each may be < 0).

    An order adds its points, its eligible spend and 1 order; a refund subtracts what it took
    back. ``reference`` names the cause (an order or refund id) for the reader.

    Example:
        >>> from datetime import datetime, timezone
        >>> QualifyingActivity(at=datetime(2026, 1, 1, tzinfo=timezone.utc), points=12,
        ...                    spend="1250", orders=1, reference="o_1").spend
        Decimal('1250')

    .. versionadded:: 0.1.0
    """

    at: datetime = attrs.field(validator=validate_aware)
    points: int = attrs.field(default=0, validator=plain_int)
    spend: Decimal = attrs.field(default=_ZERO, converter=_decimal_amount)
    orders: int = attrs.field(default=0, validator=plain_int)
    reference: str | None = attrs.field(default=None, validator=optional_id)

    def value(self, metric: QualifyingMetric) -> Decimal:
        """This activity's contribution to ``metric``.

        Example:
            >>> from datetime import datetime, timezone
            >>> QualifyingActivity(at=datetime(2026, 1, 1, tzinfo=timezone.utc),
            ...                    points=5, orders=1).value(QualifyingMetric.ORDERS)
            Decimal('1')
        """
        if metric is QualifyingMetric.POINTS:
            return Decimal(self.points)
        if metric is QualifyingMetric.SPEND:
            return self.spend
        return Decimal(self.orders)


def _check_grant_end(instance: TierGrant, _attribute: object, value: datetime | None) -> None:
    if value is not None and value <= instance.starts_at:
        raise ValidationError(
            f"must be after starts_at ({instance.starts_at.isoformat()}), got {value.isoformat()}",
            path="ends_at",
        )


@attrs.frozen(kw_only=True)
class TierGrant:
    """A manual tier grant: ``tier`` from ``starts_at`` until ``ends_at`` (``None``: no end).

    Example:
        >>> from datetime import datetime, timezone
        >>> g = TierGrant(reference="g_1", tier="gold", reason="VIP courtesy", actor="u_amy",
        ...     starts_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
        ...     ends_at=datetime(2026, 7, 1, tzinfo=timezone.utc))
        >>> g.active_at(datetime(2026, 7, 1, tzinfo=timezone.utc))
        False

    .. versionadded:: 0.1.0
    """

    reference: str = attrs.field(validator=id_field)
    tier: str = attrs.field(validator=id_field)
    starts_at: datetime = attrs.field(validator=validate_aware)
    ends_at: datetime | None = attrs.field(
        default=None, validator=[validate_optional_aware, _check_grant_end]
    )
    reason: str = attrs.field(converter=v.strip, validator=v.text(500))
    actor: str | None = attrs.field(default=None, validator=optional_id)

    def active_at(self, when: datetime) -> bool:
        """Tell whether the grant holds at ``when`` (start inclusive, end exclusive).

        Example:
            >>> from datetime import datetime, timezone
            >>> TierGrant(reference="g", tier="gold", reason="r",
            ...     starts_at=datetime(2026, 1, 1, tzinfo=timezone.utc)).active_at(
            ...     datetime(2030, 1, 1, tzinfo=timezone.utc))
            True
        """
        return self.starts_at <= when and (self.ends_at is None or when < self.ends_at)


@attrs.frozen(kw_only=True)
class TierChange:
    """One change of a member's tier: when, from and to which tier, why, on what value.

    ``value`` is the qualifying value that decided an upgrade or downgrade (``None`` for
    grants and enrollment).

    Example:
        >>> from datetime import datetime, timezone
        >>> TierChange(at=datetime(2026, 6, 1, tzinfo=timezone.utc), from_tier="member",
        ...            to_tier="gold", reason="upgrade", value=1100).reason.value
        'upgrade'

    .. versionadded:: 0.1.0
    """

    at: datetime = attrs.field(validator=validate_aware)
    from_tier: str | None = attrs.field(validator=optional_id)
    to_tier: str = attrs.field(validator=id_field)
    reason: TierChangeReason = attrs.field(converter=_reason)
    value: Decimal | None = attrs.field(
        default=None,
        converter=_optional_amount,
    )


def _history(value: object) -> tuple[TierChange, ...]:
    return tuple_of(TierChange, "history")(value)


@attrs.frozen(kw_only=True)
class TierStatus:
    """Where a member stands: the tier, the computed and granted tiers, the value, the history.

    ``tier`` is the higher of ``computed_tier`` (what the qualifying history says) and
    ``granted_tier`` (the highest active grant, if any); ``value`` is the qualifying value of
    the current period (or rolling window); ``changed_at`` when the computed tier last
    changed; ``next_evaluation`` when a downgrade may next happen (``None``: never).

    Example:
        >>> from datetime import datetime, timezone
        >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> TierStatus(tier="gold", computed_tier="silver", granted_tier="gold", value=500,
        ...            changed_at=t0, next_evaluation=None).tier
        'gold'

    .. versionadded:: 0.1.0
    """

    tier: str = attrs.field(validator=id_field)
    computed_tier: str = attrs.field(validator=id_field)
    granted_tier: str | None = attrs.field(validator=optional_id)
    value: Decimal = attrs.field(converter=_decimal_amount)
    changed_at: datetime = attrs.field(validator=validate_aware)
    next_evaluation: datetime | None = attrs.field(validator=validate_optional_aware)
    history: tuple[TierChange, ...] = attrs.field(default=(), converter=_history)


def _utc(when: datetime) -> datetime:
    return when if when.tzinfo is timezone.utc else when.astimezone(timezone.utc)


# ----- the engine ------------------------------------------------------------------------------


class _TierTracker:
    """The tier rules applied step by step; the Membership keeps one, compute_tier replays one.

    State: the computed and effective tier levels, when the computed tier last changed, the
    next evaluation date, and prefix sums of the qualifying value over time (so a window's
    value is two bisections, never a scan).
    """

    __slots__ = (
        "_anchor",
        "_boundaries",
        "_cum",
        "_next",
        "_next_utc",
        "_times",
        "as_of",
        "changed_at",
        "computed",
        "effective",
        "grants",
        "model",
        "zone",
    )

    def __init__(
        self,
        model: TierModel,
        zone: ZoneInfo,
        enrolled_at: datetime,
        *,
        computed: int,
        effective: int,
        changed_at: datetime,
        next_evaluation: datetime | None,
        as_of: datetime,
        grants: list[TierGrant],
        history: Iterable[QualifyingActivity] = (),
    ) -> None:
        self.model = model
        self.zone = zone
        local = enrolled_at.astimezone(zone)
        if model.period is TierPeriod.ANNIVERSARY:
            self._anchor = datetime(local.year, local.month, local.day, tzinfo=zone)
        else:
            self._anchor = datetime(local.year, 1, 1, tzinfo=zone)
        self.computed = computed
        self.effective = effective
        self.changed_at = changed_at
        self.next_evaluation = next_evaluation
        self.as_of = as_of
        self.grants = grants
        self._boundaries: dict[int, datetime] = {}
        self._times: list[datetime] = []  # in UTC: bisecting compares without utcoffset()
        self._cum: list[Decimal] = [_ZERO]
        metric = model.metric
        for activity in history:
            self._times.append(_utc(activity.at))
            self._cum.append(self._cum[-1] + activity.value(metric))

    @classmethod
    def start(
        cls, model: TierModel, zone: ZoneInfo, enrolled_at: datetime, grants: list[TierGrant]
    ) -> tuple[_TierTracker, TierChange]:
        tracker = cls(
            model,
            zone,
            enrolled_at,
            computed=0,
            effective=0,
            changed_at=enrolled_at,
            next_evaluation=None,
            as_of=enrolled_at,
            grants=grants,
        )
        tracker.next_evaluation = tracker._first_evaluation(enrolled_at)
        first = TierChange(
            at=enrolled_at,
            from_tier=None,
            to_tier=model.tiers[0].id,
            reason=TierChangeReason.ENROLLED,
        )
        return tracker, first

    # -- calendar arithmetic ------------------------------------------------------------------

    def _boundary(self, k: int) -> datetime:
        found = self._boundaries.get(k)
        if found is None:
            found = self._anchor + relativedelta(months=k * self.model.period_months)
            if len(self._boundaries) > 4096:
                self._boundaries.clear()
            self._boundaries[k] = found
        return found

    def _period_index(self, when: datetime) -> int:
        local = when.astimezone(self.zone)
        months = (local.year - self._anchor.year) * 12 + (local.month - self._anchor.month)
        k = months // self.model.period_months
        while k > 0 and self._boundary(k) > when:
            k -= 1
        while self._boundary(k + 1) <= when:
            k += 1
        return k

    def _first_evaluation(self, after: datetime) -> datetime | None:
        mode = self.model.downgrade
        if mode is DowngradeMode.NEVER:
            return None
        if mode is DowngradeMode.AFTER_DAYS:
            return after + timedelta(days=self.model.downgrade_after_days or 0)
        return self._boundary(self._period_index(after) + 1)

    # -- windows ------------------------------------------------------------------------------

    def _sum(self, start: datetime, end: datetime, *, include_end: bool) -> Decimal:
        start, end = _utc(start), _utc(end)
        hi = bisect_right(self._times, end) if include_end else bisect_left(self._times, end)
        lo = bisect_left(self._times, start)
        return self._cum[hi] - self._cum[lo] if hi > lo else _ZERO

    def current_value(self, when: datetime) -> Decimal:
        """The value of the current period (or rolling window) at ``when``, ``when`` included."""
        if self.model.period is TierPeriod.ROLLING:
            start = when - timedelta(days=self.model.rolling_days or 0)
        else:
            start = self._boundary(self._period_index(when))
        return self._sum(start, when, include_end=True)

    def _lookback(self, when: datetime) -> Decimal:
        """The value an evaluation at ``when`` judges: the window that ends at ``when``."""
        model = self.model
        if model.period is TierPeriod.ROLLING:
            start = when - timedelta(days=model.rolling_days or 0)
        elif model.downgrade is DowngradeMode.AT_EVALUATION:
            start = self._boundary(self._period_index(when) - 1)
        else:
            start = when.astimezone(self.zone) - relativedelta(months=model.period_months)
        return self._sum(start, when, include_end=False)

    # -- steps --------------------------------------------------------------------------------

    def _granted(self, when: datetime) -> int:
        level = -1
        for grant in self.grants:
            if grant.active_at(when):
                level = max(level, self.model.index(grant.tier))
        return level

    def granted_tier(self, when: datetime) -> str | None:
        level = self._granted(when)
        return None if level < 0 else self.model.tiers[level].id

    def _settle(self, when: datetime, before: int, value: Decimal | None) -> list[TierChange]:
        """Recompute the effective tier at ``when``; ``before`` is the computed level before."""
        effective = max(self.computed, self._granted(when))
        if effective == self.effective:
            return []
        if self.computed != before and effective == self.computed:
            reason = (
                TierChangeReason.UPGRADE if self.computed > before else TierChangeReason.DOWNGRADE
            )
        else:
            reason = (
                TierChangeReason.GRANT
                if effective > self.effective
                else TierChangeReason.GRANT_ENDED
            )
            value = None
        tiers = self.model.tiers
        change = TierChange(
            at=when,
            from_tier=tiers[self.effective].id,
            to_tier=tiers[effective].id,
            reason=reason,
            value=value,
        )
        self.effective = effective
        return [change]

    def _evaluate(self, when: datetime) -> Decimal:
        value = self._lookback(when)
        target = self.model._level(value)
        if target < self.computed:
            levels = self.model.max_levels_down
            self.computed = target if levels is None else max(target, self.computed - levels)
            self.changed_at = when
        if self.model.downgrade is DowngradeMode.AFTER_DAYS:
            self.next_evaluation = when + timedelta(days=self.model.downgrade_after_days or 0)
        else:
            self.next_evaluation = self._boundary(self._period_index(when) + 1)
        return value

    @property
    def next_evaluation(self) -> datetime | None:
        return self._next

    @next_evaluation.setter
    def next_evaluation(self, value: datetime | None) -> None:
        self._next = value
        self._next_utc = None if value is None else _utc(value)

    def due(self, until: datetime) -> bool:
        """Whether an evaluation or a grant's start or end falls in (as_of, until]."""
        if self._next_utc is not None and self._next_utc <= until:
            return True
        as_of = self.as_of
        for grant in self.grants:
            if as_of < grant.starts_at <= until:
                return True
            if grant.ends_at is not None and as_of < grant.ends_at <= until:
                return True
        return False

    def advance(self, until: datetime) -> list[TierChange]:
        """Apply every evaluation date and grant start or end up to ``until``."""
        changes = self._settle(self.as_of, self.computed, None)
        while True:
            due: datetime | None = None
            if self.next_evaluation is not None and self.next_evaluation <= until:
                due = self.next_evaluation
            for grant in self.grants:
                for edge in (grant.starts_at, grant.ends_at):
                    if (
                        edge is not None
                        and self.as_of < edge <= until
                        and (due is None or edge < due)
                    ):
                        due = edge
            if due is None:
                break
            before = self.computed
            value = self._evaluate(due) if due == self.next_evaluation else None
            self.as_of = due
            changes += self._settle(due, before, value)
        self.as_of = max(self.as_of, until)
        return changes

    def add(self, activity: QualifyingActivity) -> list[TierChange]:
        """Record a qualifying activity (at or after ``as_of``) and upgrade if it crosses."""
        changes = self.advance(activity.at)
        amount = activity.value(self.model.metric)
        self._times.append(_utc(activity.at))
        self._cum.append(self._cum[-1] + amount)
        if amount > 0:
            before = self.computed
            value = self.current_value(activity.at)
            target = self.model._level(value)
            if target > self.computed:
                self.computed = target
                self.changed_at = activity.at
                if self.model.downgrade is DowngradeMode.AFTER_DAYS:
                    self.next_evaluation = activity.at + timedelta(
                        days=self.model.downgrade_after_days or 0
                    )
            changes += self._settle(activity.at, before, value)
        return changes

    def status(self, when: datetime, history: Sequence[TierChange]) -> TierStatus:
        tiers = self.model.tiers
        return TierStatus(
            tier=tiers[self.effective].id,
            computed_tier=tiers[self.computed].id,
            granted_tier=self.granted_tier(when),
            value=self.current_value(when),
            changed_at=self.changed_at,
            next_evaluation=self.next_evaluation,
            history=tuple(history),
        )


def compute_tier(
    model: TierModel,
    history: Iterable[QualifyingActivity],
    *,
    enrolled_at: datetime,
    now: datetime,
    time_zone: str,
    grants: Iterable[TierGrant] = (),
) -> TierStatus:
    """Replay a member's qualifying history with ``model``'s rules and say where they stand.

    Pure: the same history, grants and ``now`` always give the same :class:`TierStatus`,
    whose ``history`` lists every change from enrollment on. Activities must lie between
    ``enrolled_at`` and ``now``; they are taken in time order (ties keep their given order).
    At one instant, evaluations and the starts and ends of grants come before that instant's
    activities. A membership applies commands in the order they come, so where a grant was
    given *after* an activity of the same instant, its history may split that instant's
    change differently; the tier at the end of every instant is the same.

    Example:
        >>> from datetime import datetime, timezone
        >>> model = TierModel(metric="orders", period="rolling", rolling_days=30,
        ...     period_months=1, tiers=[Tier(id="new", name="New", threshold=0),
        ...                             Tier(id="regular", name="Regular", threshold=2)])
        >>> t = lambda m, d: datetime(2026, m, d, tzinfo=timezone.utc)
        >>> orders = [QualifyingActivity(at=t(1, 10), orders=1),
        ...           QualifyingActivity(at=t(1, 20), orders=1)]
        >>> s = compute_tier(model, orders, enrolled_at=t(1, 1), now=t(3, 15), time_zone="UTC")
        >>> [(c.at.date().isoformat(), c.to_tier) for c in s.history]
        [('2026-01-01', 'new'), ('2026-01-20', 'regular'), ('2026-03-01', 'new')]

    .. versionadded:: 0.1.0
    """
    enrolled_at = ensure_aware(enrolled_at, "enrolled_at")
    now = ensure_aware(now, "now")
    zone_field(None, _Named("time_zone"), time_zone)
    activities = sorted(history, key=lambda a: a.at)
    for i, activity in enumerate(activities):
        if not isinstance(activity, QualifyingActivity):
            raise ValidationError(
                f"must be QualifyingActivity, not {type(activity).__name__}", path=f"history[{i}]"
            )
        if not enrolled_at <= activity.at <= now:
            raise ValidationError(
                f"activity at {activity.at.isoformat()} is outside enrolled_at..now "
                f"({enrolled_at.isoformat()} .. {now.isoformat()})",
                path=f"history[{i}].at",
            )
    grant_list = list(grants)
    for grant in grant_list:
        model.index(grant.tier)
    tracker, first = _TierTracker.start(model, ZoneInfo(time_zone), enrolled_at, grant_list)
    changes = [first]
    for activity in activities:
        changes += tracker.add(activity)
    changes += tracker.advance(now)
    return tracker.status(now, changes)


@attrs.frozen
class _Named:
    name: str
