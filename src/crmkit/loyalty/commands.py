"""Commands of the loyalty context: what a user (or a host's order system) asks of the program.

Commands are imperative, immutable, and checked when they are built: a malformed one raises a
:class:`~crmkit.errors.ValidationError` naming the field. Whether it is *allowed* (the member
exists, there are points enough, the actor may do it) is decided when the message bus handles
it (see :mod:`crmkit.app.loyalty`). Every command acts on the program named by
:attr:`crmkit.app.loyalty.LoyaltySettings.program_id` and carries ``actor``.

Commands that echo an outside fact carry its reference, and the same reference twice has the
effect of once: :class:`EarnForOrder` (the order id), :class:`RefundOrder` (the refund id),
:class:`RedeemReward`, :class:`PayWithPoints`, :class:`ReverseRedemption`,
:class:`AdjustPoints`, :class:`RecordActivity` and :class:`GrantTier` (their ``reference``).

* The program: :class:`SaveLoyaltyProgram`.
* A member: :class:`EnrollMember`, :class:`EarnForOrder`, :class:`RefundOrder`,
  :class:`RecordActivity`, :class:`RedeemReward`, :class:`PayWithPoints`,
  :class:`ReverseRedemption`, :class:`AdjustPoints`, :class:`GrantTier`.
* Referrals: :class:`RegisterReferral`, :class:`QualifyReferrals` (a scheduler's).
* Time: :class:`AdvanceMemberships` (a scheduler's: expiry, pending points, tier evaluation).
* Reads: :class:`ShowMembership`, :class:`ShowPointsBalance`, :class:`ShowLoyaltyReport`.

Example:
    >>> from crmkit.kernel.money import Money
    >>> from crmkit.loyalty import EarnOrder
    >>> EarnForOrder("cus_1", EarnOrder.of("o_1", Money("1200", "TWD"))).order.id
    'o_1'
    >>> AdjustPoints("cus_1", 0, reference="adj_1", reason="oops", actor="u_amy")
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: points: must be a non-zero int, got 0

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs

from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money
from crmkit.kernel.time import validate_optional_aware
from crmkit.loyalty.program import EarnOrder, LoyaltyProgram

__all__ = [
    "AdjustPoints",
    "AdvanceMemberships",
    "EarnForOrder",
    "EnrollMember",
    "GrantTier",
    "PayWithPoints",
    "QualifyReferrals",
    "RecordActivity",
    "RedeemReward",
    "RefundOrder",
    "RegisterReferral",
    "ReverseRedemption",
    "SaveLoyaltyProgram",
    "ShowLoyaltyReport",
    "ShowMembership",
    "ShowPointsBalance",
]

_MAX_POINTS = 10**12


def _id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_id(value, attribute.name)


def _optional_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _actor() -> Any:
    return attrs.field(default=None, kw_only=True, validator=_optional_id)


def _instance(cls: type) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, cls):
            raise ValidationError(
                f"must be a {cls.__name__}, not {type(value).__name__}", path=attribute.name
            )

    return check


def _positive_points(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_POINTS:
        raise ValidationError(
            f"must be an int from 1 to {_MAX_POINTS}, got {value!r}", path=attribute.name
        )


def _nonzero_points(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value == 0
        or abs(value) > _MAX_POINTS
    ):
        raise ValidationError(f"must be a non-zero int, got {value!r}", path=attribute.name)


def _money(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Money) or value.amount <= 0:
        raise ValidationError(f"must be Money above 0, got {value!r}", path=attribute.name)


def _optional_date(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
        raise ValidationError(
            f"must be a date or None, not {type(value).__name__}", path=attribute.name
        )


def _reason() -> Any:
    return attrs.field(kw_only=True, converter=v.strip, validator=v.text(500))


def _required_actor(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        raise ValidationError(
            "needs the user who does it: give actor= (manual changes are audited)",
            path=attribute.name,
        )
    check_id(value, attribute.name)


# ----- the program ---------------------------------------------------------------------------


@attrs.frozen
class SaveLoyaltyProgram:
    """Add the loyalty program, or replace the stored one with the same id.

    Example:
        >>> SaveLoyaltyProgram("tea_club")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: program: must be a LoyaltyProgram, not str

    .. versionadded:: 0.1.0
    """

    program: LoyaltyProgram = attrs.field(validator=_instance(LoyaltyProgram))
    actor: str | None = _actor()


# ----- a member ------------------------------------------------------------------------------


@attrs.frozen
class EnrollMember:
    """Enroll an existing customer in the program (one membership per program and customer).

    Enrolling a member again returns the membership as it is.

    Example:
        >>> from datetime import date
        >>> EnrollMember("cus_1", birthday=date(1990, 3, 14)).birthday
        datetime.date(1990, 3, 14)

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    birthday: date | None = attrs.field(default=None, kw_only=True, validator=_optional_date)
    actor: str | None = _actor()


@attrs.frozen
class EarnForOrder:
    """Credit the points a paid order earns (from the host's order facts), once per order id.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> EarnForOrder("cus_1", EarnOrder.of("o_9", Money("500", "TWD"))).customer_id
        'cus_1'

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    order: EarnOrder = attrs.field(validator=_instance(EarnOrder))
    actor: str | None = _actor()


@attrs.frozen
class RefundOrder:
    """Claw back the points of ``order_id`` for a refund of ``refunded``, once per refund id.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> RefundOrder("cus_1", "o_1", refund_id="rf_1", refunded=Money("0", "TWD"))
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: refunded: must be Money above 0, got Money('0', 'TWD')

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    order_id: str = attrs.field(validator=_id)
    refund_id: str = attrs.field(kw_only=True, validator=_id)
    refunded: Money = attrs.field(kw_only=True, validator=_money)
    actor: str | None = _actor()


@attrs.frozen
class RecordActivity:
    """Credit the program's points for an activity (a review, a survey), once per reference.

    Example:
        >>> RecordActivity("cus_1", "review", reference="rev_1").kind
        'review'

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    kind: str = attrs.field(validator=_id)
    reference: str = attrs.field(kw_only=True, validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class RedeemReward:
    """Spend points on a reward of the catalog, once per reference; a voucher becomes a coupon.

    Example:
        >>> RedeemReward("cus_1", "voucher_100", reference="rr_1").reward_id
        'voucher_100'

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    reward_id: str = attrs.field(validator=_id)
    reference: str = attrs.field(kw_only=True, validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class PayWithPoints:
    """Spend ``points`` as partial payment of an order of ``order_total``, once per reference.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> PayWithPoints("cus_1", 300, order_total=Money("1000", "TWD"), reference="pay_1").points
        300

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    points: int = attrs.field(validator=_positive_points)
    order_total: Money = attrs.field(kw_only=True, validator=_money)
    reference: str = attrs.field(kw_only=True, validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class ReverseRedemption:
    """Give back the points of a reward redemption or a points payment (``reference``).

    A voucher's coupon is removed with it; a voucher whose coupon was used cannot be reversed.

    Example:
        >>> ReverseRedemption("cus_1", "rr_1").reference
        'rr_1'

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    reference: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class AdjustPoints:
    """Add (``points`` > 0) or take (< 0) points by hand, with a reason; ``actor`` is required.

    Example:
        >>> AdjustPoints("cus_1", 50, reference="adj_1", reason="  late parcel ",
        ...              actor="u_amy").reason
        'late parcel'

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    points: int = attrs.field(validator=_nonzero_points)
    reference: str = attrs.field(kw_only=True, validator=_id)
    reason: str = _reason()
    actor: str | None = attrs.field(default=None, kw_only=True, validator=_required_actor)


@attrs.frozen
class GrantTier:
    """Hold the member at ``tier`` until ``until`` (``None``: no end); ``actor`` is required.

    Example:
        >>> GrantTier("cus_1", "gold", reference="g_1", reason="VIP", actor=None)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: actor: needs the user who does it: give actor= (manual
        changes are audited)

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    tier: str = attrs.field(validator=_id)
    reference: str = attrs.field(kw_only=True, validator=_id)
    reason: str = _reason()
    until: datetime | None = attrs.field(
        default=None, kw_only=True, validator=validate_optional_aware
    )
    actor: str | None = attrs.field(default=None, kw_only=True, validator=_required_actor)


# ----- referrals -----------------------------------------------------------------------------


@attrs.frozen
class RegisterReferral:
    """Record that ``referee_id`` (a member) joined with a member's referral ``code``.

    Example:
        >>> RegisterReferral("cus_bob", "REF-123").code
        'REF-123'

    .. versionadded:: 0.1.0
    """

    referee_id: str = attrs.field(validator=_id)
    code: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class QualifyReferrals:
    """Reward every referral whose first order has passed its pending period (a scheduler's).

    Example:
        >>> QualifyReferrals(actor="scheduler").actor
        'scheduler'

    .. versionadded:: 0.1.0
    """

    actor: str | None = _actor()


# ----- time ----------------------------------------------------------------------------------


@attrs.frozen
class AdvanceMemberships:
    """Bring every membership to now: expire lots, release pending points, evaluate tiers.

    Example:
        >>> AdvanceMemberships(actor="scheduler").actor
        'scheduler'

    .. versionadded:: 0.1.0
    """

    actor: str | None = _actor()


# ----- reads ---------------------------------------------------------------------------------


@attrs.frozen
class ShowMembership:
    """Read a customer's membership (``NotFoundError`` if they are not a member).

    Example:
        >>> ShowMembership("cus_1").customer_id
        'cus_1'

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class ShowPointsBalance:
    """Read a customer's balance now, with its breakdown (lots, expiring soon, tier).

    Example:
        >>> ShowPointsBalance("cus_1").customer_id
        'cus_1'

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class ShowLoyaltyReport:
    """Read the program's reports now: liability, breakage, members per tier, expiring soon.

    Example:
        >>> ShowLoyaltyReport().actor is None
        True

    .. versionadded:: 0.1.0
    """

    actor: str | None = _actor()
