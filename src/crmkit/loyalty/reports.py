"""Loyalty reports as pure functions over a program's memberships.

* :func:`points_liability`: what the points members hold are worth in money;
* :func:`breakage_estimate`: how many of them will probably never be redeemed;
* :func:`members_per_tier`: how many members each tier has;
* :func:`points_expiring`: who has points expiring in the next N days (30 by default; the
  ``PointsExpiringSoon`` notification trigger reads it).

Each takes the memberships (loaded by the caller) and ``now``. Reading a membership at ``now``
applies what time did (maturing, expiry) to the loaded object, as any query does; the report
saves nothing.

**Breakage, the method.** Breakage is the share of issued points that will expire unspent.
The estimate uses the members' own settled history (the "redemption-rate" method): over every
ledger, ``rate = expired / (expired + redeemed)``, where ``redeemed`` counts points spent on
rewards and payments (net of reversed redemptions) and negative adjustments, and ``expired``
the points that expired. Points clawed back by refunds are neither: they were never the
member's to keep. The estimated breakage is ``floor(outstanding x rate)`` of the outstanding
points (available + pending), valued at the program's ``point_value``. With no settled
history the rate is 0 and the report says so (``settled == 0``): a young program should use
an industry rate instead.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.money import Money
    >>> from crmkit.loyalty import BaseRate, EarnRules, LoyaltyProgram, Membership
    >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD", time_zone="UTC",
    ...     point_value=Money("0.5", "TWD"),
    ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
    >>> now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    >>> m = Membership.enroll(id="m1", program=program, customer_id="c1", now=now)
    >>> _ = m.adjust(program, 1001, reference="gift", reason="welcome", actor="u1", now=now)
    >>> points_liability(program, [m], now=now).value   # 1001 x 0.5 = 500.5
    Money('500.50', 'TWD')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

import attrs

from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.money import Money
from crmkit.kernel.time import ensure_aware
from crmkit.loyalty.ledger import EntryKind
from crmkit.loyalty.membership import Membership
from crmkit.loyalty.program import LoyaltyProgram

__all__ = [
    "BreakageEstimate",
    "ExpiringPoints",
    "PointsLiability",
    "TierCount",
    "breakage_estimate",
    "members_per_tier",
    "points_expiring",
    "points_liability",
]


def _members(program: LoyaltyProgram, memberships: Iterable[Membership]) -> list[Membership]:
    if not isinstance(program, LoyaltyProgram):
        raise ValidationError(
            f"must be a LoyaltyProgram, not {type(program).__name__}", path="program"
        )
    members = list(memberships)
    for i, m in enumerate(members):
        if not isinstance(m, Membership):
            raise ValidationError(
                f"must be a Membership, not {type(m).__name__}", path=f"memberships[{i}]"
            )
        if m.program_id != program.id:
            raise ValidationError(
                f"membership {m.id!r} is of program {m.program_id!r}, not {program.id!r}",
                path=f"memberships[{i}]",
            )
    return members


@attrs.frozen(kw_only=True)
class PointsLiability:
    """Outstanding points and their money value at ``rate`` (the program's point value).

    ``available`` and ``pending`` are summed over members (a member's negative balance is
    not netted against others' points); ``debt`` is what members owe, shown apart.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> PointsLiability(members=1, available=10, pending=0, debt=0,
        ...     rate=Money("0.5", "TWD"), value=Money("5", "TWD")).points
        10

    .. versionadded:: 0.1.0
    """

    members: int
    available: int
    pending: int
    debt: int
    rate: Money
    value: Money

    @property
    def points(self) -> int:
        """Available plus pending points."""
        return self.available + self.pending


def points_liability(
    program: LoyaltyProgram, memberships: Iterable[Membership], *, now: datetime
) -> PointsLiability:
    """The points members hold at ``now`` (available above zero, plus pending), in money.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> from crmkit.loyalty import BaseRate, EarnRules, LoyaltyProgram
        >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD", time_zone="UTC",
        ...     point_value=Money("0.5", "TWD"),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
        >>> points_liability(program, [], now=datetime(2026, 1, 1, tzinfo=timezone.utc)).value
        Money('0.00', 'TWD')

    .. versionadded:: 0.1.0
    """
    now = ensure_aware(now, "now")
    members = _members(program, memberships)
    available = pending = debt = 0
    for m in members:
        balance = m.balance(now)
        available += max(balance.available, 0)
        pending += balance.pending
        debt += balance.debt
    return PointsLiability(
        members=len(members),
        available=available,
        pending=pending,
        debt=debt,
        rate=program.point_value,
        value=program.value_of(available + pending),
    )


@attrs.frozen(kw_only=True)
class BreakageEstimate:
    """The breakage estimate and the history it rests on (see the module docstring).

    Example:
        >>> from decimal import Decimal
        >>> from crmkit.kernel.money import Money
        >>> BreakageEstimate(issued=100, redeemed=60, expired=20, settled=80,
        ...     rate=Decimal("0.25"), outstanding=20, points=5,
        ...     value=Money("5", "TWD")).rate
        Decimal('0.25')

    .. versionadded:: 0.1.0
    """

    issued: int
    redeemed: int
    expired: int
    settled: int
    rate: Decimal
    outstanding: int
    points: int
    value: Money


_SPENT = (EntryKind.REDEEM, EntryKind.RESTORE)


def breakage_estimate(
    program: LoyaltyProgram, memberships: Iterable[Membership], *, now: datetime
) -> BreakageEstimate:
    """Estimate the outstanding points that will expire unspent: the redemption-rate method.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> from crmkit.kernel.money import Money
        >>> from crmkit.loyalty import BaseRate, EarnRules, ExpiryPolicy, LoyaltyProgram, Membership
        >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD", time_zone="UTC",
        ...     point_value=Money("1", "TWD"), expiry=ExpiryPolicy(kind="rolling_months", months=1),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
        >>> t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> m = Membership.enroll(id="m1", program=program, customer_id="c1", now=t0)
        >>> _ = m.adjust(program, 100, reference="a1", reason="gift", actor="u1", now=t0)
        >>> _ = m.redeem(program, 75, reference="r1", now=t0)       # 25 left, will expire
        >>> t1 = t0 + timedelta(days=40)
        >>> _ = m.adjust(program, 200, reference="a2", reason="gift", actor="u1", now=t1)
        >>> b = breakage_estimate(program, [m], now=t1)
        >>> b.rate, b.outstanding, b.points          # 25 / (25 + 75); floor(200 x 0.25)
        (Decimal('0.25'), 200, 50)

    .. versionadded:: 0.1.0
    """
    now = ensure_aware(now, "now")
    members = _members(program, memberships)
    issued = redeemed = expired = outstanding = 0
    for m in members:
        balance = m.balance(now)  # applies expiry up to now first
        outstanding += max(balance.available, 0) + balance.pending
        for entry in m.entries:
            kind = entry.kind
            if kind is EntryKind.EXPIRE:
                expired -= entry.points
            elif kind in _SPENT or (kind is EntryKind.ADJUST and entry.points < 0):
                redeemed -= entry.points
            elif entry.points > 0 and entry.lot is not None:
                issued += entry.points
    settled = expired + redeemed
    rate = Decimal(0) if settled <= 0 else Decimal(expired) / Decimal(settled)
    points = int((outstanding * rate).to_integral_value(ROUND_FLOOR))
    return BreakageEstimate(
        issued=issued,
        redeemed=redeemed,
        expired=expired,
        settled=settled,
        rate=rate,
        outstanding=outstanding,
        points=points,
        value=program.value_of(points),
    )


@attrs.frozen(kw_only=True)
class TierCount:
    """How many members hold ``tier`` (``None``: a program without tiers).

    Example:
        >>> TierCount(tier="gold", name="Gold", members=3).members
        3

    .. versionadded:: 0.1.0
    """

    tier: str | None
    name: str | None
    members: int = attrs.field(validator=v.of_type(int))


def members_per_tier(
    program: LoyaltyProgram, memberships: Iterable[Membership], *, now: datetime
) -> tuple[TierCount, ...]:
    """Members per tier at ``now``, every tier of the model in order (zero counts included).

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> from crmkit.loyalty import (BaseRate, EarnRules, LoyaltyProgram, Membership, Tier,
        ...     TierModel)
        >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD", time_zone="UTC",
        ...     point_value=Money("1", "TWD"),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))),
        ...     tiers=TierModel(metric="points", period="calendar", tiers=[
        ...         Tier(id="member", name="Member", threshold=0),
        ...         Tier(id="gold", name="Gold", threshold=500)]))
        >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> ms = [Membership.enroll(id=f"m{i}", program=program, customer_id=f"c{i}", now=now)
        ...       for i in range(3)]
        >>> [(c.tier, c.members) for c in members_per_tier(program, ms, now=now)]
        [('member', 3), ('gold', 0)]

    .. versionadded:: 0.1.0
    """
    now = ensure_aware(now, "now")
    members = _members(program, memberships)
    if program.tiers is None:
        return (TierCount(tier=None, name=None, members=len(members)),)
    counts = {tier.id: 0 for tier in program.tiers.tiers}
    for m in members:
        counts[m.tier_status(program, now).tier] += 1
    return tuple(
        TierCount(tier=tier.id, name=tier.name, members=counts[tier.id])
        for tier in program.tiers.tiers
    )


@attrs.frozen(kw_only=True)
class ExpiringPoints:
    """``points`` of membership ``membership_id`` expire before ``before``.

    Example:
        >>> from datetime import datetime, timezone
        >>> ExpiringPoints(membership_id="m1", customer_id="c1", points=40,
        ...     before=datetime(2026, 2, 1, tzinfo=timezone.utc)).points
        40

    .. versionadded:: 0.1.0
    """

    membership_id: str
    customer_id: str
    points: int
    before: datetime


def points_expiring(
    memberships: Iterable[Membership], *, now: datetime, days: int = 30
) -> tuple[ExpiringPoints, ...]:
    """Members with points expiring within ``days`` of ``now`` (by membership id).

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> from crmkit.loyalty import (BaseRate, EarnRules, ExpiryPolicy, LoyaltyProgram,
        ...     Membership)
        >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD", time_zone="UTC",
        ...     point_value=Money("1", "TWD"), expiry=ExpiryPolicy(kind="rolling_months", months=1),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
        >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
        >>> m = Membership.enroll(id="m1", program=program, customer_id="c1", now=now)
        >>> _ = m.adjust(program, 70, reference="a1", reason="gift", actor="u1", now=now)
        >>> [(e.customer_id, e.points) for e in points_expiring([m], now=now, days=45)]
        [('c1', 70)]
        >>> points_expiring([m], now=now, days=10)
        ()

    .. versionadded:: 0.1.0
    """
    now = ensure_aware(now, "now")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValidationError(f"must be an int >= 1, got {days!r}", path="days")
    before = now + timedelta(days=days)
    rows = []
    for m in memberships:
        points = m.expiring_before(before, now=now)
        if points > 0:
            rows.append(
                ExpiringPoints(
                    membership_id=m.id, customer_id=m.customer_id, points=points, before=before
                )
            )
    return tuple(sorted(rows, key=lambda row: row.membership_id))
