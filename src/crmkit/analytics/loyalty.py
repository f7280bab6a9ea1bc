"""Loyalty metrics: active members, tiers, points, liability, repeat purchases.

Active members, members per tier, points issued, redeemed and expired, the liability, and
the repeat purchase rate of members against non-members.

Points per period come from each member's ledger (entries by their time in the periods' time
zone): *issued* adds earned, activity and positive adjustment points; *redeemed* the points
spent on rewards or payments, net of reversed redemptions; *expired* what expiry took. Members
per tier and the liability are :mod:`crmkit.loyalty.reports`' own reports. Orders come in
through the small :class:`Purchase` protocol (``customer_id`` and ``ordered_at``, as the
orders of :mod:`crmkit.customers.purchases` have).

Example:
    >>> from datetime import date, datetime, timezone
    >>> from crmkit.analytics import Periods
    >>> program, members = _example_members()
    >>> s = loyalty_summary(program, members, Periods(date(2026, 1, 1), 2),
    ...                     now=datetime(2026, 2, 28, tzinfo=timezone.utc))
    >>> s.active.ratio, [(p.period.key, p.issued, p.redeemed) for p in s.points.lines]
    (Ratio(part=1, whole=2), [('2026-01', 1500, 0), ('2026-02', 0, 400)])
    >>> s.liability.value
    Money('1100.00', 'TWD')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import attrs

from crmkit.analytics._common import Explanation, Ratio, check_items
from crmkit.analytics.periods import Periods
from crmkit.errors import ValidationError
from crmkit.kernel.time import ensure_aware
from crmkit.loyalty import LoyaltyProgram, Membership
from crmkit.loyalty.ledger import EntryKind
from crmkit.loyalty.reports import PointsLiability, TierCount, members_per_tier, points_liability
from crmkit.pipeline.forecast import Period

__all__ = [
    "ActiveMembers",
    "LoyaltySummary",
    "PointsFlow",
    "PointsLine",
    "Purchase",
    "RepeatPurchase",
    "active_members",
    "loyalty_summary",
    "points_flow",
    "repeat_purchase_rate",
]

_ACTIVE = frozenset({EntryKind.EARN, EntryKind.ACTIVITY, EntryKind.REDEEM})


@runtime_checkable
class Purchase(Protocol):
    """What the repeat purchase rate needs of an order: who bought, and when.

    Example:
        >>> from datetime import datetime, timezone
        >>> import attrs
        >>> @attrs.frozen
        ... class Sale:
        ...     customer_id: str
        ...     ordered_at: datetime
        >>> isinstance(Sale("cus_1", datetime(2026, 1, 5, tzinfo=timezone.utc)), Purchase)
        True

    .. versionadded:: 0.1.0
    """

    @property
    def customer_id(self) -> str:
        """The customer who bought."""
        ...

    @property
    def ordered_at(self) -> datetime:
        """When the order was placed (aware)."""
        ...


@attrs.frozen
class ActiveMembers:
    """Members with an earn, activity or redemption in the ``days`` before ``now``.

    Example:
        >>> ActiveMembers(Ratio(3, 4), 90, Explanation("x", 4)).ratio.value
        Decimal('0.7500')

    .. versionadded:: 0.1.0
    """

    ratio: Ratio
    days: int
    explanation: Explanation


def _days(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(
            f"must be a whole number of days, 1 or more, not {value!r}", path="active_days"
        )
    return value


def active_members(
    memberships: Iterable[Membership], *, now: datetime, active_days: int = 90
) -> ActiveMembers:
    """Of the members enrolled by ``now``, those with a ledger activity in the last days.

    Example:
        >>> from datetime import datetime, timezone
        >>> _, members = _example_members()
        >>> active_members(members, now=datetime(2026, 6, 1, tzinfo=timezone.utc)).ratio
        Ratio(part=0, whole=2)

    .. versionadded:: 0.1.0
    """
    at = ensure_aware(now, "now")
    days = _days(active_days)
    since = at - timedelta(days=days)
    members = check_items(memberships, Membership, "memberships")
    enrolled = [m for m in members if m.enrolled_at <= at]
    active = sum(
        1 for m in enrolled if any(e.kind in _ACTIVE and since < e.at <= at for e in m.entries)
    )
    explanation = Explanation(
        f"members with an earn, activity or redemption in the {days} days before "
        f"{at.isoformat()} / members",
        len(enrolled),
        {"enrolled later": len(members) - len(enrolled)},
    )
    return ActiveMembers(Ratio(active, len(enrolled)), days, explanation)


@attrs.frozen
class PointsLine:
    """Points issued, redeemed and expired in one period.

    Example:
        >>> from datetime import date
        >>> PointsLine(Period(date(2026, 1, 1)), 100, 40, 10).net
        50

    .. versionadded:: 0.1.0
    """

    period: Period
    issued: int
    redeemed: int
    expired: int

    @property
    def net(self) -> int:
        """Issued less redeemed and expired."""
        return self.issued - self.redeemed - self.expired


@attrs.frozen
class PointsFlow:
    """Points issued, redeemed and expired per period.

    Example:
        >>> from datetime import date
        >>> _, members = _example_members()
        >>> flow = points_flow(members, Periods(date(2026, 1, 1), 2))
        >>> flow.explanation.counted
        3

    .. versionadded:: 0.1.0
    """

    lines: tuple[PointsLine, ...]
    explanation: Explanation


def points_flow(memberships: Iterable[Membership], periods: Periods) -> PointsFlow:
    """Sum the ledger entries of each period into issued, redeemed and expired points.

    Clawbacks of refunded orders, repayments and negative adjustments are neither issued nor
    redeemed; they are counted apart in the explanation.

    Example:
        >>> from datetime import date
        >>> points_flow([], Periods(date(2026, 1, 1), 1)).lines[0].issued
        0

    .. versionadded:: 0.1.0
    """
    if not isinstance(periods, Periods):
        raise ValidationError(f"must be Periods, not {type(periods).__name__}", path="periods")
    issued = [0] * periods.count
    redeemed = [0] * periods.count
    expired = [0] * periods.count
    counted = outside = other = 0
    for m in check_items(memberships, Membership, "memberships"):
        for entry in m.entries:
            i = periods.index_of(entry.at)
            if i is None:
                outside += 1
                continue
            kind = entry.kind
            if kind in (EntryKind.EARN, EntryKind.ACTIVITY) or (
                kind is EntryKind.ADJUST and entry.points > 0
            ):
                issued[i] += entry.points
            elif kind in (EntryKind.REDEEM, EntryKind.RESTORE):
                redeemed[i] -= entry.points
            elif kind is EntryKind.EXPIRE:
                expired[i] -= entry.points
            else:
                other += 1
                continue
            counted += 1
    lines = tuple(
        PointsLine(p, issued[i], redeemed[i], expired[i]) for i, p in enumerate(periods.periods)
    )
    explanation = Explanation(
        "issued: earn + activity + positive adjustments; redeemed: redemptions - restored; "
        f"expired: expiry; per period of the entry ({periods.time_zone})",
        counted,
        {"outside the periods": outside, "clawback, repayment or negative adjustment": other},
    )
    return PointsFlow(lines, explanation)


@attrs.frozen
class RepeatPurchase:
    """Buyers with two or more orders in the periods, members and non-members apart.

    Example:
        >>> RepeatPurchase(Ratio(2, 4), Ratio(1, 4), Explanation("x", 8)).members.value
        Decimal('0.5000')

    .. versionadded:: 0.1.0
    """

    members: Ratio
    non_members: Ratio
    explanation: Explanation


def repeat_purchase_rate(
    orders: Iterable[Purchase], memberships: Iterable[Membership], periods: Periods
) -> RepeatPurchase:
    """Repeat buyers / buyers, for customers with a membership and for the others.

    Example:
        >>> from datetime import date, datetime, timezone
        >>> import attrs
        >>> @attrs.frozen
        ... class Sale:
        ...     customer_id: str
        ...     ordered_at: datetime
        >>> jan = datetime(2026, 1, 9, tzinfo=timezone.utc)
        >>> orders = [Sale("c1", jan), Sale("c1", jan), Sale("c2", jan), Sale("c9", jan)]
        >>> _, members = _example_members()          # customers c1 and c2
        >>> r = repeat_purchase_rate(orders, members, Periods(date(2026, 1, 1), 1))
        >>> r.members, r.non_members
        (Ratio(part=1, whole=2), Ratio(part=0, whole=1))

    .. versionadded:: 0.1.0
    """
    if not isinstance(periods, Periods):
        raise ValidationError(f"must be Periods, not {type(periods).__name__}", path="periods")
    member_ids = {m.customer_id for m in check_items(memberships, Membership, "memberships")}
    counts: dict[str, int] = {}
    outside = 0
    items = list(orders) if isinstance(orders, Iterable) else None
    if items is None or isinstance(orders, (str, bytes)):
        raise ValidationError("must be an iterable of orders", path="orders")
    for i, order in enumerate(items):
        if not isinstance(order, Purchase):
            raise ValidationError(
                f"must have customer_id and ordered_at, not be a {type(order).__name__}",
                path=f"orders[{i}]",
            )
        if periods.index_of(order.ordered_at) is None:
            outside += 1
            continue
        counts[order.customer_id] = counts.get(order.customer_id, 0) + 1
    members = [n for c, n in counts.items() if c in member_ids]
    others = [n for c, n in counts.items() if c not in member_ids]
    explanation = Explanation(
        "customers with 2+ orders / customers with an order, in the periods",
        sum(counts.values()),
        {"ordered outside the periods": outside},
    )
    return RepeatPurchase(
        Ratio(sum(1 for n in members if n >= 2), len(members)),
        Ratio(sum(1 for n in others if n >= 2), len(others)),
        explanation,
    )


@attrs.frozen
class LoyaltySummary:
    """Every loyalty metric of :func:`loyalty_summary`.

    Example:
        >>> from datetime import date, datetime, timezone
        >>> program, members = _example_members()
        >>> s = loyalty_summary(program, members, Periods(date(2026, 1, 1), 1),
        ...                     now=datetime(2026, 2, 28, tzinfo=timezone.utc))
        >>> s.repeat is None, [(t.tier, t.members) for t in s.tiers]
        (True, [(None, 2)])

    .. versionadded:: 0.1.0
    """

    active: ActiveMembers
    tiers: tuple[TierCount, ...]
    points: PointsFlow
    liability: PointsLiability
    repeat: RepeatPurchase | None = None


def loyalty_summary(
    program: LoyaltyProgram,
    memberships: Iterable[Membership],
    periods: Periods,
    *,
    now: datetime,
    active_days: int = 90,
    orders: Iterable[Purchase] | None = None,
) -> LoyaltySummary:
    """One program's loyalty metrics over the periods, as of ``now``.

    Active members, members per tier, points per period, the liability, and (with
    ``orders``) the repeat purchase rate.

    Example:
        >>> from datetime import date, datetime, timezone
        >>> program, members = _example_members()
        >>> loyalty_summary(program, members, Periods(date(2026, 1, 1), 1),
        ...     now=datetime(2026, 2, 28, tzinfo=timezone.utc)).liability.points
        1100

    .. versionadded:: 0.1.0
    """
    members = check_items(memberships, Membership, "memberships")
    return LoyaltySummary(
        active=active_members(members, now=now, active_days=active_days),
        tiers=members_per_tier(program, members, now=now),
        points=points_flow(members, periods),
        liability=points_liability(program, members, now=now),
        repeat=None if orders is None else repeat_purchase_rate(orders, members, periods),
    )


def _example_members() -> tuple[LoyaltyProgram, list[Membership]]:
    """A program (1 point = 1 TWD) and two members for the doctests.

    c1 got 1000 points in January and spent 400 in February; c2 got 500 in January.
    """
    from datetime import timezone

    from crmkit.kernel.money import Money
    from crmkit.loyalty import BaseRate, EarnRules

    program = LoyaltyProgram(
        id="club",
        name="Club",
        currency="TWD",
        time_zone="UTC",
        point_value=Money("1", "TWD"),
        earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))),
    )
    jan = datetime(2026, 1, 10, tzinfo=timezone.utc)
    members = []
    for n, points in ((1, 1000), (2, 500)):
        m = Membership.enroll(id=f"m{n}", program=program, customer_id=f"c{n}", now=jan)
        m.adjust(program, points, reference=f"gift{n}", reason="welcome", actor="u1", now=jan)
        members.append(m)
    members[0].redeem(
        program, 400, reference="rdm_1", now=datetime(2026, 2, 3, tzinfo=timezone.utc)
    )
    for m in members:
        m.pull_events()
    return program, members
