"""Domain events of the loyalty context: a membership's points and tier changes.

A membership records one event per ledger entry it appends (earned, redeemed, adjusted, clawed
back, expired, debt repaid) and one per tier change. ``entry`` is the ledger entry's ``seq``;
``points`` are always the size of the change (a positive number) and the event's name says its
direction. :class:`PointsEarned` carries the :class:`~crmkit.loyalty.program.EarnBreakdown`, so
a notification can say which rules earned what.

:class:`PointsExpiringSoon` is an event time makes happen: no membership records it; the
``PointsExpiringTrigger`` of :mod:`crmkit.app.loyalty` finds it at ``now`` with a stable id and
carries the names the ``points_expiring`` template greets.

Example:
    >>> from datetime import datetime, timezone
    >>> e = PointsRedeemed(aggregate_id="mem_1", occurred_at=datetime(2026, 4, 1,
    ...     tzinfo=timezone.utc), entry=7, reference="rdm_1", points=150, purpose="reward:mug")
    >>> e.event_type, e.points
    ('loyalty.PointsRedeemed', 150)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import attrs

from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money
from crmkit.loyalty.ledger import EntryKind
from crmkit.loyalty.program import EarnBreakdown, ShortfallPolicy
from crmkit.loyalty.tiers import TierChangeReason

__all__ = [
    "DebtRepaid",
    "MembershipEnrolled",
    "PointsAdjusted",
    "PointsClawedBack",
    "PointsEarned",
    "PointsExpired",
    "PointsExpiringSoon",
    "PointsRedeemed",
    "RedemptionReversed",
    "ReferralRegistered",
    "ReferralRewarded",
    "ReferralVoided",
    "TierChanged",
    "TierGranted",
]


@attrs.frozen(kw_only=True)
class MembershipEnrolled(DomainEvent):
    """A customer joined a program; ``tier`` is the base tier (``None`` without tiers).

    Example:
        >>> MembershipEnrolled.event_type
        'loyalty.MembershipEnrolled'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.MembershipEnrolled"
    program_id: str
    customer_id: str
    tier: str | None = None


@attrs.frozen(kw_only=True)
class PointsEarned(DomainEvent):
    """An order (``source`` ``earn``) or an activity (``activity``) earned points.

    ``available_at`` and ``expires_at`` describe the new lot (``None`` when nothing was
    earned, or the lot never expires).

    Example:
        >>> PointsEarned.event_type
        'loyalty.PointsEarned'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.PointsEarned"
    entry: int
    source: EntryKind
    reference: str
    points: int
    breakdown: EarnBreakdown
    available_at: datetime | None = None
    expires_at: datetime | None = None


@attrs.frozen(kw_only=True)
class PointsRedeemed(DomainEvent):
    """Points were spent; ``purpose`` says on what (a reward, a payment).

    Example:
        >>> PointsRedeemed.event_type
        'loyalty.PointsRedeemed'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.PointsRedeemed"
    entry: int
    reference: str
    points: int
    purpose: str | None = None


@attrs.frozen(kw_only=True)
class RedemptionReversed(DomainEvent):
    """A redemption was reversed: ``points`` went back to lots, ``expired`` stayed expired.

    ``reference`` is the redemption's id. The lots it drew from that expired since are not
    revived; their share of the redemption is counted in ``expired``.

    Example:
        >>> RedemptionReversed.event_type
        'loyalty.RedemptionReversed'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.RedemptionReversed"
    entry: int
    reference: str
    points: int
    expired: int = 0


@attrs.frozen(kw_only=True)
class PointsAdjusted(DomainEvent):
    """Someone adjusted the points by hand (``points`` is signed here) for ``reason``.

    Example:
        >>> PointsAdjusted.event_type
        'loyalty.PointsAdjusted'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.PointsAdjusted"
    entry: int
    reference: str
    points: int
    reason: str


@attrs.frozen(kw_only=True)
class PointsClawedBack(DomainEvent):
    """A refund took back points its order earned.

    ``points`` is what the refund claws back in all; ``from_lots`` what came out of the
    member's lots; the rest (``shortfall``) went to the negative balance, the debt, or was
    written off, as ``policy`` says.

    Example:
        >>> PointsClawedBack.event_type
        'loyalty.PointsClawedBack'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.PointsClawedBack"
    entry: int
    refund_id: str
    order_id: str
    refunded: Money
    points: int
    from_lots: int
    shortfall: int
    policy: ShortfallPolicy


@attrs.frozen(kw_only=True)
class PointsExpired(DomainEvent):
    """What was left of the lots in ``lots`` expired (``occurred_at`` is the expiry instant).

    Example:
        >>> PointsExpired.event_type
        'loyalty.PointsExpired'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.PointsExpired"
    entry: int
    points: int
    lots: tuple[str, ...]


@attrs.frozen(kw_only=True)
class DebtRepaid(DomainEvent):
    """Points that became available paid back a negative balance or a debt.

    Example:
        >>> DebtRepaid.event_type
        'loyalty.DebtRepaid'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.DebtRepaid"
    entry: int
    points: int
    lot: str


@attrs.frozen(kw_only=True)
class TierChanged(DomainEvent):
    """The member's tier changed (the notification trigger reads ``reason`` ``upgrade``).

    Example:
        >>> TierChanged.event_type
        'loyalty.TierChanged'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.TierChanged"
    program_id: str
    from_tier: str | None
    to_tier: str
    reason: TierChangeReason
    value: Decimal | None = None


@attrs.frozen(kw_only=True)
class TierGranted(DomainEvent):
    """Someone granted the member a tier by hand until ``until`` (``None``: no end).

    Example:
        >>> TierGranted.event_type
        'loyalty.TierGranted'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.TierGranted"
    reference: str
    tier: str
    reason: str
    until: datetime | None = None


@attrs.frozen(kw_only=True)
class ReferralRegistered(DomainEvent):
    """``referee_id`` joined through ``referrer_id``'s referral ``code``.

    Example:
        >>> ReferralRegistered.event_type
        'loyalty.ReferralRegistered'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.ReferralRegistered"
    program_id: str
    code: str
    referrer_id: str
    referee_id: str


@attrs.frozen(kw_only=True)
class ReferralRewarded(DomainEvent):
    """The referee's first order ``order_id`` passed its pending period: both are rewarded.

    Example:
        >>> ReferralRewarded.event_type
        'loyalty.ReferralRewarded'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.ReferralRewarded"
    program_id: str
    order_id: str
    referrer_id: str
    referrer_points: int
    referee_id: str
    referee_points: int


@attrs.frozen(kw_only=True)
class ReferralVoided(DomainEvent):
    """The referee's first order was refunded in full before it qualified: no rewards.

    Example:
        >>> ReferralVoided.event_type
        'loyalty.ReferralVoided'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.ReferralVoided"
    program_id: str
    order_id: str


@attrs.frozen(kw_only=True)
class PointsExpiringSoon(DomainEvent):
    """``points`` of a member's points expire at the end of ``due_at``: remind them to spend.

    ``aggregate_id`` is the membership. One event per expiry date: ``points`` are what the
    lots expiring at ``expires_at`` (the exact instant, midnight at the end of ``due_at`` in the
    program's time zone) still hold, and ``value`` what they are worth at the program's point
    value. ``due_at`` is the last day they can be spent, the date the ``points_expiring``
    template shows; ``program`` is the program's name. ``name`` is whom it greets and
    ``contact_id`` what ``Recipient.contact("contact_id")`` reaches (the customer's first
    contact; ``None`` when the customer has none, and the name is then the customer's).

    Example:
        >>> PointsExpiringSoon.event_type
        'loyalty.PointsExpiringSoon'

    .. versionadded:: 0.1.0
    """

    event_type = "loyalty.PointsExpiringSoon"
    program_id: str
    program: str
    customer_id: str
    contact_id: str | None
    name: str
    points: int
    value: Money
    due_at: date
    expires_at: datetime
