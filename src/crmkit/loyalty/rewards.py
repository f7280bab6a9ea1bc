"""The rewards catalog and redemption: vouchers, products, experiences, and points as payment.

A :class:`RewardCatalog` is data (it round-trips through :mod:`crmkit.serialization`): the
rewards of one program, each with its points cost, and the :class:`PointsPaymentRules` for
paying part of an order with points at the program's rate (``point_value``).

* :func:`redeem_reward` spends a reward's points on a membership, idempotently on the
  redemption's reference, and says what to deliver (:class:`RewardRedemption`); a voucher
  becomes a single-use coupon in the pricing context through the app layer
  (:mod:`crmkit.app.loyalty`), under the code :attr:`RewardRedemption.voucher_code`.
* :func:`quote_points_payment` explains what points pay for an order (:class:`PointsPayment`)
  and :func:`pay_with_points` spends them.
* :func:`reverse_reward` undoes either (``Membership.reverse_redemption``): the points go back
  to their lots, and those that expired meanwhile stay expired.

**Money.** Points pay ``points x point_value``, rounded *down* to the currency's minor unit
(the member never pays less than the points are worth in the shop's favour, nor the shop more
than they are worth); :func:`points_for` is the fewest points that pay an amount.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.money import Money
    >>> from crmkit.loyalty import BaseRate, EarnRules, LoyaltyProgram, Membership
    >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD", time_zone="UTC",
    ...     point_value=Money("0.5", "TWD"),
    ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
    >>> catalog = RewardCatalog(program_id="club", rewards=[
    ...     Reward(id="v100", name="NT$100 voucher", kind="voucher", points=200,
    ...            voucher_value=Money("100", "TWD")),
    ...     Reward(id="mug", name="Club mug", kind="product", points=300, sku="MUG-1")])
    >>> now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    >>> m = Membership.enroll(id="m1", program=program, customer_id="c1", now=now)
    >>> _ = m.adjust(program, 500, reference="gift", reason="welcome", actor="u1", now=now)
    >>> r = redeem_reward(m, program, catalog, "v100", reference="rr_1", now=now)
    >>> r.points, r.voucher_value, m.available(now)
    (200, Money('100', 'TWD'), 300)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import hashlib
from decimal import ROUND_CEILING, Decimal
from typing import Any

import attrs

from crmkit.errors import NotFoundError, RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.money import Money, Rounding
from crmkit.loyalty._common import (
    decimal_in,
    id_field,
    int_range,
    optional_id,
    optional_money,
    tuple_of,
)
from crmkit.loyalty.ledger import EntryKind, LedgerEntry
from crmkit.loyalty.membership import Membership
from crmkit.loyalty.program import LoyaltyProgram

__all__ = [
    "PointsPayment",
    "PointsPaymentRules",
    "Reward",
    "RewardCatalog",
    "RewardKind",
    "RewardRedemption",
    "pay_with_points",
    "points_for",
    "quote_points_payment",
    "redeem_reward",
    "reverse_reward",
]

_MAX_POINTS = 10**12


class RewardKind(StrEnum):
    """What a reward is: a ``voucher``, a ``product`` or an ``experience``.

    A voucher becomes a single-use coupon; a product is a SKU to ship; an experience is an
    event or a service the host books.

    Example:
        >>> RewardKind("voucher") is RewardKind.VOUCHER
        True

    .. versionadded:: 0.1.0
    """

    VOUCHER = "voucher"
    PRODUCT = "product"
    EXPERIENCE = "experience"


def _kind(value: object) -> RewardKind:
    return v.to_enum(RewardKind, "kind")(value)


def _voucher(instance: Reward, _attribute: object, value: Money | None) -> None:
    optional_money(instance, _attribute, value)
    if instance.kind is RewardKind.VOUCHER:
        if value is None or value.amount <= 0:
            raise ValidationError(
                f"a voucher reward needs a voucher_value above 0, got {value!r}",
                path="voucher_value",
            )
    elif value is not None:
        raise ValidationError(
            f"only a voucher has a voucher_value, not a {instance.kind.value}",
            path="voucher_value",
        )


@attrs.frozen(kw_only=True)
class Reward:
    """One reward of the catalog: what it is and what it costs in points.

    ``voucher_value`` is the amount off the coupon a ``voucher`` becomes; ``sku`` names a
    ``product``. An inactive reward stays in the catalog (past redemptions name it) but can
    no longer be redeemed.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> Reward(id="v", name="Voucher", kind="voucher", points=100)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: voucher_value: a voucher reward needs a voucher_value above 0, got None

    .. versionadded:: 0.1.0
    """  # noqa: E501

    id: str = attrs.field(validator=id_field)
    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    kind: RewardKind = attrs.field(converter=_kind)
    points: int = attrs.field(validator=int_range(1, _MAX_POINTS))
    voucher_value: Money | None = attrs.field(default=None, validator=_voucher)
    sku: str | None = attrs.field(default=None, validator=optional_id)
    description: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(2000)
    )
    active: bool = attrs.field(default=True, validator=v.of_type(bool))


_SHARE = decimal_in("max_share", Decimal("0.0001"), Decimal(1))


def _share(value: object) -> Decimal:
    return _SHARE(value)


@attrs.frozen(kw_only=True)
class PointsPaymentRules:
    """How points may pay part of an order.

    At least ``min_points`` per payment, and at most ``max_share`` (0 < share <= 1) of the
    order's total.

    Example:
        >>> PointsPaymentRules(min_points=100, max_share="0.5").max_share
        Decimal('0.5')

    .. versionadded:: 0.1.0
    """

    min_points: int = attrs.field(default=1, validator=int_range(1, _MAX_POINTS))
    max_share: Decimal = attrs.field(default=Decimal(1), converter=_share)


def _rewards(value: object) -> tuple[Reward, ...]:
    return tuple_of(Reward, "rewards")(value)


@attrs.frozen(kw_only=True)
class RewardCatalog:
    """The rewards of program ``program_id`` and the rules for points as payment.

    Reward ids are unique; voucher values are in the program's currency (checked when a
    reward is redeemed, where the program is known).

    Example:
        >>> RewardCatalog(program_id="club", rewards=[
        ...     Reward(id="x", name="A", kind="experience", points=10),
        ...     Reward(id="x", name="B", kind="experience", points=20)])
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: rewards: reward id 'x' is used twice

    .. versionadded:: 0.1.0
    """

    program_id: str = attrs.field(validator=id_field)
    rewards: tuple[Reward, ...] = attrs.field(default=(), converter=_rewards)
    payment: PointsPaymentRules = attrs.field(
        factory=PointsPaymentRules, validator=v.of_type(PointsPaymentRules)
    )

    def __attrs_post_init__(self) -> None:
        seen: set[str] = set()
        for reward in self.rewards:
            if reward.id in seen:
                raise ValidationError(f"reward id {reward.id!r} is used twice", path="rewards")
            seen.add(reward.id)

    def reward(self, reward_id: str) -> Reward:
        """The reward ``reward_id``, or :class:`~crmkit.errors.NotFoundError`.

        Example:
            >>> RewardCatalog(program_id="club").reward("nope")
            Traceback (most recent call last):
            ...
            crmkit.errors.NotFoundError: catalog of program 'club' has no reward 'nope'
        """
        for reward in self.rewards:
            if reward.id == reward_id:
                return reward
        raise NotFoundError(
            f"catalog of program {self.program_id!r} has no reward {reward_id!r}",
            details={"reward_id": reward_id},
        )


@attrs.frozen(kw_only=True)
class RewardRedemption:
    """What a reward redemption spent and what to deliver.

    ``voucher_code`` (vouchers only) is the single-use coupon code the app layer creates:
    derived from the membership and the reference, so a retried redemption names the same
    coupon.

    Example:
        >>> RewardRedemption.voucher_code_for("mem_1", "rr_1")
        'RW-6EE317AE4C0BDB51'

    .. versionadded:: 0.1.0
    """

    reference: str = attrs.field(validator=id_field)
    membership_id: str = attrs.field(validator=id_field)
    reward: Reward = attrs.field(validator=v.of_type(Reward))
    points: int = attrs.field(validator=int_range(1, _MAX_POINTS))
    entry: int = attrs.field(validator=int_range(1, _MAX_POINTS))

    @property
    def voucher_value(self) -> Money | None:
        """The coupon's amount off (vouchers), else ``None``."""
        return self.reward.voucher_value

    @property
    def voucher_code(self) -> str | None:
        """The coupon code a voucher becomes, else ``None``."""
        if self.reward.kind is not RewardKind.VOUCHER:
            return None
        return self.voucher_code_for(self.membership_id, self.reference)

    @staticmethod
    def voucher_code_for(membership_id: str, reference: str) -> str:
        """The coupon code of voucher redemption ``reference`` on ``membership_id``."""
        digest = hashlib.blake2b(f"{membership_id}\x1f{reference}".encode(), digest_size=8)
        return f"RW-{digest.hexdigest().upper()}"


def _same_program(program: LoyaltyProgram, catalog: RewardCatalog) -> None:
    if not isinstance(catalog, RewardCatalog):
        raise ValidationError(
            f"must be a RewardCatalog, not {type(catalog).__name__}", path="catalog"
        )
    if catalog.program_id != program.id:
        raise ValidationError(
            f"the catalog belongs to program {catalog.program_id!r}, not {program.id!r}",
            path="catalog",
        )


def redeem_reward(
    membership: Membership,
    program: LoyaltyProgram,
    catalog: RewardCatalog,
    reward_id: str,
    *,
    reference: str,
    now: Any,
    actor: str | None = None,
) -> RewardRedemption:
    """Spend the points of reward ``reward_id`` on ``membership`` (purpose ``reward:<id>``).

    Idempotent on ``reference``: the same reference and reward again returns the same
    redemption and spends nothing; another reward under a used reference is a
    :class:`~crmkit.errors.RuleViolation`. An inactive reward, a voucher in another currency,
    too few points (:class:`~crmkit.loyalty.ledger.InsufficientPoints`) or fewer than the
    program's ``min_redemption`` are refused and change nothing.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> from crmkit.loyalty import BaseRate, EarnRules, LoyaltyProgram, Membership
        >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD", time_zone="UTC",
        ...     point_value=Money("1", "TWD"),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
        >>> catalog = RewardCatalog(program_id="club", rewards=[
        ...     Reward(id="tour", name="Tea farm tour", kind="experience", points=50)])
        >>> now = datetime(2026, 3, 1, tzinfo=timezone.utc)
        >>> m = Membership.enroll(id="m1", program=program, customer_id="c1", now=now)
        >>> _ = m.adjust(program, 80, reference="gift", reason="welcome", actor="u1", now=now)
        >>> a = redeem_reward(m, program, catalog, "tour", reference="rr_1", now=now)
        >>> b = redeem_reward(m, program, catalog, "tour", reference="rr_1", now=now)
        >>> a == b, m.available(now)
        (True, 30)

    .. versionadded:: 0.1.0
    """
    _same_program(program, catalog)
    reward = catalog.reward(reward_id)
    purpose = f"reward:{reward.id}"
    first = membership.entry_for(EntryKind.REDEEM, reference)
    if first is None:
        if not reward.active:
            raise RuleViolation(
                f"reward {reward.id!r} is no longer offered", details={"reward_id": reward.id}
            )
        if reward.voucher_value is not None and reward.voucher_value.currency != program.currency:
            raise ValidationError(
                f"reward {reward.id!r} is a voucher in {reward.voucher_value.currency}, "
                f"the program in {program.currency}",
                path="voucher_value",
            )
    entry = membership.redeem(
        program, reward.points, reference=reference, now=now, purpose=purpose, actor=actor
    )
    return RewardRedemption(
        reference=reference,
        membership_id=membership.id,
        reward=reward,
        points=-entry.points,
        entry=entry.seq,
    )


def reverse_reward(
    membership: Membership,
    program: LoyaltyProgram,
    reference: str,
    *,
    now: Any,
    actor: str | None = None,
) -> LedgerEntry:
    """Reverse a reward redemption or a points payment: :meth:`Membership.reverse_redemption`.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> from crmkit.loyalty import BaseRate, EarnRules, LoyaltyProgram, Membership
        >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD", time_zone="UTC",
        ...     point_value=Money("1", "TWD"),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
        >>> now = datetime(2026, 3, 1, tzinfo=timezone.utc)
        >>> m = Membership.enroll(id="m1", program=program, customer_id="c1", now=now)
        >>> _ = m.adjust(program, 80, reference="gift", reason="welcome", actor="u1", now=now)
        >>> _ = m.redeem(program, 50, reference="rr_1", now=now)
        >>> reverse_reward(m, program, "rr_1", now=now).points, m.available(now)
        (50, 80)

    .. versionadded:: 0.1.0
    """
    return membership.reverse_redemption(program, reference, now=now, actor=actor)


@attrs.frozen(kw_only=True)
class PointsPayment:
    """What ``points`` pay towards an order of ``order_total``: ``value`` off, ``to_pay`` left.

    ``rate`` is the program's ``point_value``; ``value`` is ``points x rate`` rounded down to
    the currency's minor unit.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> PointsPayment(points=300, rate=Money("0.5", "TWD"), value=Money("150", "TWD"),
        ...     order_total=Money("1000", "TWD")).to_pay
        Money('850', 'TWD')

    .. versionadded:: 0.1.0
    """

    points: int = attrs.field(validator=int_range(1, _MAX_POINTS))
    rate: Money = attrs.field(validator=v.of_type(Money))
    value: Money = attrs.field(validator=v.of_type(Money))
    order_total: Money = attrs.field(validator=v.of_type(Money))
    entry: int | None = attrs.field(default=None)

    @property
    def to_pay(self) -> Money:
        """What is left to pay in money."""
        return self.order_total - self.value


def points_for(program: LoyaltyProgram, amount: Money) -> int:
    """The fewest points whose value (rounded down) pays ``amount``.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> from crmkit.loyalty import BaseRate, EarnRules, LoyaltyProgram
        >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD", time_zone="UTC",
        ...     point_value=Money("0.3", "TWD"),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
        >>> points_for(program, Money("100", "TWD"))   # 333 x 0.3 = 99.9; 334 x 0.3 = 100.2
        334

    .. versionadded:: 0.1.0
    """
    if not isinstance(amount, Money) or amount.currency != program.currency:
        raise ValidationError(f"must be Money in {program.currency}, got {amount!r}", path="amount")
    exact = amount.amount / program.point_value.amount
    return int(exact.to_integral_value(ROUND_CEILING))


def _payment_value(program: LoyaltyProgram, points: int) -> Money:
    return (program.point_value * points).round(Rounding.DOWN)


def quote_points_payment(
    program: LoyaltyProgram,
    catalog: RewardCatalog,
    points: int,
    order_total: Money,
) -> PointsPayment:
    """What ``points`` would pay towards ``order_total``, or why they may not.

    Refused (:class:`~crmkit.errors.RuleViolation`): fewer than the catalog's
    ``payment.min_points`` or the program's ``min_redemption``, or a value above
    ``payment.max_share`` of the order's total.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> from crmkit.loyalty import BaseRate, EarnRules, LoyaltyProgram
        >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD", time_zone="UTC",
        ...     point_value=Money("0.5", "TWD"),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
        >>> catalog = RewardCatalog(program_id="club",
        ...     payment=PointsPaymentRules(min_points=100, max_share="0.5"))
        >>> quote_points_payment(program, catalog, 600, Money("1000", "TWD")).to_pay
        Money('700.00', 'TWD')
        >>> quote_points_payment(program, catalog, 1200, Money("1000", "TWD"))
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: 1200 points pay 600.00 TWD, more than 50% of the order's 1000 TWD (at most 500.00 TWD, 1000 points)

    .. versionadded:: 0.1.0
    """  # noqa: E501
    _same_program(program, catalog)
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        raise ValidationError(f"must be an int >= 1, got {points!r}", path="points")
    if not isinstance(order_total, Money) or order_total.currency != program.currency:
        raise ValidationError(
            f"must be Money in {program.currency}, got {order_total!r}", path="order_total"
        )
    minimum = max(catalog.payment.min_points, program.min_redemption)
    if points < minimum:
        raise RuleViolation(
            f"cannot pay with {points} points: the minimum is {minimum}",
            details={"requested": points, "minimum": minimum},
        )
    value = _payment_value(program, points)
    share = catalog.payment.max_share
    cap = (order_total * share).round(Rounding.DOWN)
    if value > cap:
        most = int((cap.amount / program.point_value.amount).to_integral_value(Rounding.FLOOR))
        raise RuleViolation(
            f"{points} points pay {value.amount} {value.currency}, more than "
            f"{(share * 100).normalize():f}% of the order's {order_total.amount} "
            f"{order_total.currency} "
            f"(at most {cap.amount} {cap.currency}, {most} points)",
            details={"requested": points, "value": str(value.amount), "cap": str(cap.amount)},
        )
    return PointsPayment(
        points=points, rate=program.point_value, value=value, order_total=order_total
    )


def pay_with_points(
    membership: Membership,
    program: LoyaltyProgram,
    catalog: RewardCatalog,
    points: int,
    *,
    order_total: Money,
    reference: str,
    now: Any,
    actor: str | None = None,
) -> PointsPayment:
    """Spend ``points`` as partial payment of an order (purpose ``payment``), idempotently.

    ``reference`` is the payment's id; the same reference and points again returns the same
    payment and spends nothing.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> from crmkit.loyalty import BaseRate, EarnRules, LoyaltyProgram, Membership
        >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD", time_zone="UTC",
        ...     point_value=Money("0.5", "TWD"),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
        >>> now = datetime(2026, 3, 1, tzinfo=timezone.utc)
        >>> m = Membership.enroll(id="m1", program=program, customer_id="c1", now=now)
        >>> _ = m.adjust(program, 500, reference="gift", reason="welcome", actor="u1", now=now)
        >>> pay = pay_with_points(m, program, RewardCatalog(program_id="club"), 300,
        ...     order_total=Money("1000", "TWD"), reference="pay_1", now=now)
        >>> pay.value, pay.to_pay, m.available(now)
        (Money('150.00', 'TWD'), Money('850.00', 'TWD'), 200)

    .. versionadded:: 0.1.0
    """
    quote = quote_points_payment(program, catalog, points, order_total)
    entry = membership.redeem(
        program, points, reference=reference, now=now, purpose="payment", actor=actor
    )
    return attrs.evolve(quote, entry=entry.seq)
