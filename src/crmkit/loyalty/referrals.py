"""Referrals: codes, and rewards granted only once the referee's first order is final.

A member shares a referral code (:func:`referral_code`, derived from the program and the
customer, so it never needs storing). A new customer who joins with it becomes the referee of
a :class:`Referral`, which:

* refuses self-referral, a customer referred twice, and loops (A refers B, B may not refer A,
  nor anyone up A's chain);
* waits for the referee's **first** order (later orders do not count), then for the
  program's pending period (the return window) from that order;
* rewards both sides once it is due (:meth:`Referral.qualify` returns the
  :class:`ReferralGrant` s the app layer credits as adjustments, idempotently on their
  references), or is voided if that first order is refunded in full before then.

The points each side gets are data: :class:`ReferralPolicy`.

Example:
    >>> from datetime import datetime, timedelta, timezone
    >>> from crmkit.kernel.money import Money
    >>> from crmkit.loyalty import BaseRate, EarnRules, LoyaltyProgram
    >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD", time_zone="UTC",
    ...     point_value=Money("1", "TWD"), pending_period=timedelta(days=7),
    ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
    >>> t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
    >>> r = Referral.register(program_id="club", code=referral_code("club", "amy"),
    ...     referrer_id="amy", referee_id="bob", now=t0, referred_by={})
    >>> r.record_first_order(program, "o_1", ordered_at=t0)
    True
    >>> r.qualify(ReferralPolicy(referrer_points=100, referee_points=50), now=t0)
    ()
    >>> [(g.customer_id, g.points) for g in r.qualify(
    ...     ReferralPolicy(referrer_points=100, referee_points=50), now=t0 + timedelta(days=7))]
    [('amy', 100), ('bob', 50)]

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

import attrs

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.ids import check_id
from crmkit.kernel.time import validate_aware, validate_optional_aware
from crmkit.loyalty._common import check_now, id_field, int_range, new_event_id, optional_id
from crmkit.loyalty.events import ReferralRegistered, ReferralRewarded, ReferralVoided
from crmkit.loyalty.program import LoyaltyProgram

__all__ = [
    "Referral",
    "ReferralGrant",
    "ReferralPolicy",
    "ReferralStatus",
    "referral_code",
]


def referral_code(program_id: str, customer_id: str) -> str:
    """The referral code customer ``customer_id`` shares in program ``program_id``.

    Derived (a hash), so the same customer always has the same code and nothing is stored.

    Example:
        >>> referral_code("club", "amy")
        'REF-A3FEF1F4BB'

    .. versionadded:: 0.1.0
    """
    check_id(program_id, "program_id")
    check_id(customer_id, "customer_id")
    digest = hashlib.blake2b(f"{program_id}\x1f{customer_id}".encode(), digest_size=5)
    return f"REF-{digest.hexdigest().upper()}"


@attrs.frozen(kw_only=True)
class ReferralPolicy:
    """Points for the referrer and the referee once the referee's first order is final.

    Example:
        >>> ReferralPolicy(referrer_points=200, referee_points=100).referrer_points
        200

    .. versionadded:: 0.1.0
    """

    referrer_points: int = attrs.field(validator=int_range(0, 10**9))
    referee_points: int = attrs.field(validator=int_range(0, 10**9))


class ReferralStatus(StrEnum):
    """Where a referral is.

    ``registered`` (no order yet), ``qualifying`` (first order in its pending period),
    ``rewarded``, or ``void`` (the first order was refunded in full).

    Example:
        >>> ReferralStatus("void") is ReferralStatus.VOID
        True

    .. versionadded:: 0.1.0
    """

    REGISTERED = "registered"
    QUALIFYING = "qualifying"
    REWARDED = "rewarded"
    VOID = "void"


@attrs.frozen(kw_only=True)
class ReferralGrant:
    """Points a referral grants ``customer_id``; ``reference`` makes crediting idempotent.

    Example:
        >>> ReferralGrant(customer_id="amy", points=100, reference="rfl_1-referrer",
        ...               role="referrer").role
        'referrer'

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=id_field)
    points: int = attrs.field(validator=int_range(1, 10**9))
    reference: str = attrs.field(validator=id_field)
    role: str = attrs.field(validator=attrs.validators.in_(("referrer", "referee")))


def _status(value: object) -> ReferralStatus:
    return v.to_enum(ReferralStatus, "status")(value)


@attrs.define(kw_only=True)
class Referral(Aggregate):
    """One referral: ``referrer_id`` brought ``referee_id`` into program ``program_id``.

    The id is :meth:`id_for` the program and the referee, so a customer can be referred once.

    Example:
        >>> from datetime import datetime, timezone
        >>> Referral.register(program_id="club", code="REF-1", referrer_id="amy",
        ...     referee_id="amy", now=datetime(2026, 3, 1, tzinfo=timezone.utc),
        ...     referred_by={})
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: customer 'amy' cannot refer themselves

    .. versionadded:: 0.1.0
    """

    program_id: str = attrs.field(validator=id_field)
    code: str = attrs.field(validator=id_field)
    referrer_id: str = attrs.field(validator=id_field)
    referee_id: str = attrs.field(validator=id_field)
    created_at: datetime = attrs.field(validator=validate_aware)
    status: ReferralStatus = attrs.field(default=ReferralStatus.REGISTERED, converter=_status)
    order_id: str | None = attrs.field(default=None, validator=optional_id)
    qualifies_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    settled_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)

    @staticmethod
    def id_for(program_id: str, referee_id: str) -> str:
        """The referral id of ``referee_id`` in ``program_id`` (one referral per referee).

        Example:
            >>> Referral.id_for("club", "bob")
            'rfl_c191b5fc930d9ad43739'
        """
        check_id(program_id, "program_id")
        check_id(referee_id, "referee_id")
        digest = hashlib.blake2b(f"{program_id}\x1f{referee_id}".encode(), digest_size=10)
        return f"rfl_{digest.hexdigest()}"

    @classmethod
    def register(
        cls,
        *,
        program_id: str,
        code: str,
        referrer_id: str,
        referee_id: str,
        now: datetime,
        referred_by: Mapping[str, str],
        actor: str | None = None,
    ) -> Referral:
        """Record that ``referee_id`` joined with ``referrer_id``'s ``code``.

        ``referred_by`` maps each customer already referred in the program to their referrer
        (the app layer reads it from the stored referrals). Refused with a
        :class:`~crmkit.errors.RuleViolation`: self-referral, a referee already referred, and
        a loop (the referee is up the referrer's chain).

        Example:
            >>> from datetime import datetime, timezone
            >>> Referral.register(program_id="club", code="REF-2", referrer_id="bob",
            ...     referee_id="amy", now=datetime(2026, 3, 1, tzinfo=timezone.utc),
            ...     referred_by={"bob": "cat", "cat": "amy"})
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: referring 'amy' by 'bob' would make a loop: amy -> cat -> bob -> amy
        """  # noqa: E501
        now = check_now(now, actor)
        check_id(referrer_id, "referrer_id")
        check_id(referee_id, "referee_id")
        if referrer_id == referee_id:
            raise RuleViolation(
                f"customer {referee_id!r} cannot refer themselves",
                details={"customer_id": referee_id},
            )
        if referee_id in referred_by:
            raise RuleViolation(
                f"customer {referee_id!r} was already referred by {referred_by[referee_id]!r}",
                details={"referee_id": referee_id, "referrer_id": referred_by[referee_id]},
            )
        chain = [referrer_id]
        current = referrer_id
        while current in referred_by and len(chain) <= len(referred_by):
            current = referred_by[current]
            chain.append(current)
            if current == referee_id:
                path = " -> ".join([referee_id, *reversed(chain[:-1]), referee_id])
                raise RuleViolation(
                    f"referring {referee_id!r} by {referrer_id!r} would make a loop: {path}",
                    details={"chain": chain},
                )
        referral = cls(
            id=cls.id_for(program_id, referee_id),
            program_id=program_id,
            code=code,
            referrer_id=referrer_id,
            referee_id=referee_id,
            created_at=now,
        )
        referral.record(
            ReferralRegistered(
                aggregate_id=referral.id,
                occurred_at=now,
                actor=actor,
                event_id=new_event_id(),
                program_id=program_id,
                code=code,
                referrer_id=referrer_id,
                referee_id=referee_id,
            )
        )
        return referral

    def record_first_order(
        self, program: LoyaltyProgram, order_id: str, *, ordered_at: datetime
    ) -> bool:
        """Note the referee's order; only the first one counts. True if this one counts.

        The referral is due at ``ordered_at`` + the program's pending period. The same first
        order again is True and changes nothing; any other order is False.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty import BaseRate, EarnRules, LoyaltyProgram
            >>> program = LoyaltyProgram(id="club", name="Club", currency="TWD",
            ...     time_zone="UTC", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
            >>> r = Referral.register(program_id="club", code="REF-1", referrer_id="amy",
            ...     referee_id="bob", now=t0, referred_by={})
            >>> [r.record_first_order(program, o, ordered_at=t0) for o in ("o1", "o2", "o1")]
            [True, False, True]
        """
        check_id(order_id, "order_id")
        ordered_at = check_now(ordered_at)
        if not isinstance(program, LoyaltyProgram) or program.id != self.program_id:
            raise ValidationError(f"must be program {self.program_id!r}", path="program")
        if self.order_id is not None:
            return self.order_id == order_id
        if self.status is not ReferralStatus.REGISTERED:
            return False
        self.order_id = order_id
        self.qualifies_at = ordered_at + program.pending_period
        self.status = ReferralStatus.QUALIFYING
        return True

    def first_order_refunded(self, order_id: str, *, now: datetime) -> bool:
        """Void the referral if its first order was refunded in full before it was due.

        Returns True if this voided it; a refund of another order, or after the rewards were
        granted, changes nothing (the points granted are the referral's, not the order's).

        Example:
            >>> from datetime import datetime, timezone
            >>> t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)
            >>> r = Referral.register(program_id="club", code="REF-1", referrer_id="amy",
            ...     referee_id="bob", now=t0, referred_by={})
            >>> r.first_order_refunded("o1", now=t0)
            False
        """
        now = check_now(now)
        if self.status is not ReferralStatus.QUALIFYING or self.order_id != order_id:
            return False
        self.status = ReferralStatus.VOID
        self.settled_at = now
        self.record(
            ReferralVoided(
                aggregate_id=self.id,
                occurred_at=now,
                event_id=new_event_id(),
                program_id=self.program_id,
                order_id=order_id,
            )
        )
        return True

    def grants(self, policy: ReferralPolicy) -> tuple[ReferralGrant, ...]:
        """The grants of a rewarded referral under ``policy`` (what to credit, idempotently).

        Example:
            >>> from datetime import datetime, timezone
            >>> r = Referral(id="rfl_1", program_id="club", code="REF-1", referrer_id="amy",
            ...     referee_id="bob", created_at=datetime(2026, 3, 1, tzinfo=timezone.utc),
            ...     status="rewarded", order_id="o1")
            >>> [g.reference for g in r.grants(ReferralPolicy(referrer_points=10,
            ...                                                referee_points=0))]
            ['rfl_1-referrer']
        """
        if self.status is not ReferralStatus.REWARDED:
            return ()
        grants = []
        if policy.referrer_points:
            grants.append(
                ReferralGrant(
                    customer_id=self.referrer_id,
                    points=policy.referrer_points,
                    reference=f"{self.id}-referrer",
                    role="referrer",
                )
            )
        if policy.referee_points:
            grants.append(
                ReferralGrant(
                    customer_id=self.referee_id,
                    points=policy.referee_points,
                    reference=f"{self.id}-referee",
                    role="referee",
                )
            )
        return tuple(grants)

    def qualify(self, policy: ReferralPolicy, *, now: datetime) -> tuple[ReferralGrant, ...]:
        """Reward the referral if its first order's pending period has passed by ``now``.

        Returns the grants to credit (empty if not due, or already settled: crediting is
        the caller's, idempotent on each grant's reference).

        Example:
            >>> from datetime import datetime, timezone
            >>> r = Referral(id="rfl_1", program_id="club", code="REF-1", referrer_id="amy",
            ...     referee_id="bob", created_at=datetime(2026, 3, 1, tzinfo=timezone.utc))
            >>> r.qualify(ReferralPolicy(referrer_points=10, referee_points=5),
            ...           now=datetime(2027, 1, 1, tzinfo=timezone.utc))   # no order yet
            ()
        """
        now = check_now(now)
        if not isinstance(policy, ReferralPolicy):
            raise ValidationError(
                f"must be a ReferralPolicy, not {type(policy).__name__}", path="policy"
            )
        if (
            self.status is not ReferralStatus.QUALIFYING
            or self.qualifies_at is None
            or now < self.qualifies_at
        ):
            return ()
        self.status = ReferralStatus.REWARDED
        self.settled_at = now
        self.record(
            ReferralRewarded(
                aggregate_id=self.id,
                occurred_at=now,
                event_id=new_event_id(),
                program_id=self.program_id,
                order_id=self.order_id or "",
                referrer_id=self.referrer_id,
                referrer_points=policy.referrer_points,
                referee_id=self.referee_id,
                referee_points=policy.referee_points,
            )
        )
        return self.grants(policy)
