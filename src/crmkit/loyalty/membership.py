"""The Membership aggregate: one customer's points ledger and tier in one loyalty program.

Commands (each takes the :class:`~crmkit.loyalty.program.LoyaltyProgram`, since rules are data
the host passes in, and ``now``):

* :meth:`Membership.earn` an order's points (pending for the program's return window);
* :meth:`Membership.reward_activity` points for a review or a survey;
* :meth:`Membership.redeem` points for a reward or as payment (soonest-expiring lots first);
* :meth:`Membership.reverse_redemption` to give a redemption's points back (lots that
  expired meanwhile stay expired);
* :meth:`Membership.adjust` points by hand, with a reason and an actor;
* :meth:`Membership.reverse` an order's points for a refund, in proportion to what was
  refunded (the order's own lot first, then available lots, then the program's shortfall
  policy);
* :meth:`Membership.grant_tier` a tier by hand until a date;
* :meth:`Membership.advance` to apply what time does: pending points become available,
  expiring lots expire, tiers are evaluated.

**Idempotency.** Every command names its outside cause (order id, refund id, redemption id,
adjustment id, activity id, grant id). The same kind and reference twice has the effect of
once: the second call returns the first entry and changes nothing. The same reference with a
different payload is a :class:`~crmkit.errors.RuleViolation`.

**Time.** ``now`` never goes backwards for a membership: a command or query earlier than the
time the membership was last advanced to is a :class:`~crmkit.errors.RuleViolation`. Before
any command the membership applies what time has done up to ``now`` (maturing, expiry,
repayment of debts, tier evaluations) and records those entries and events at the instants
they happened. A command that is then refused changes nothing further; what time did stays,
as it would at the next read.

**Refunds and expiry, spelled out.**

* A refund of ``r`` of an order's eligible spend ``s`` that earned ``p`` points claws back,
  over all refunds of the order so far, ``floor(p x refunded so far / s)`` points (all ``p``
  once the whole spend is refunded), minus what earlier refunds of the order clawed back. So
  partial refunds add up exactly and never take more than the order earned.
* The clawback takes from the order's own lot first (pending or available), then from
  available lots soonest-expiring first; what is still missing is the shortfall, which the
  program's :class:`~crmkit.loyalty.program.ShortfallPolicy` turns into a negative balance,
  a debt, or a write-off. Points that become available later pay back the negative balance
  and the debt first (a ``repay`` entry).
* A lot expires at its ``expires_at``; only what is left of it expires. Pending points never
  expire before they are available (a program's pending period is shorter than the shortest
  life of a lot).

**Tiers** follow :mod:`crmkit.loyalty.tiers`: the membership keeps the qualifying history and
the tier state incrementally, and the tier it holds always equals
:func:`~crmkit.loyalty.tiers.compute_tier` over that history.

Example:
    >>> from datetime import datetime, timedelta
    >>> from zoneinfo import ZoneInfo
    >>> from crmkit.kernel.money import Money
    >>> from crmkit.loyalty.program import BaseRate, EarnOrder, EarnRules, LoyaltyProgram
    >>> tz = ZoneInfo("Asia/Taipei")
    >>> program = LoyaltyProgram(id="tea_club", name="Tea Club", currency="TWD",
    ...     time_zone="Asia/Taipei", point_value=Money("0.5", "TWD"),
    ...     pending_period=timedelta(days=14),
    ...     earn=EarnRules(base=BaseRate(points=1, per=Money("100", "TWD"))))
    >>> t0 = datetime(2026, 3, 1, 10, tzinfo=tz)
    >>> m = Membership.enroll(id="mem_1", program=program, customer_id="cus_1", now=t0)
    >>> m.earn(program, EarnOrder.of("o_1", Money("2599", "TWD")), now=t0).points
    25
    >>> m.balance(t0)
    PointsBalance(available=0, pending=25, debt=0, negative=0)
    >>> later = t0 + timedelta(days=14)
    >>> m.redeem(program, 20, reference="rdm_1", now=later, purpose="reward:mug").points
    -20
    >>> m.available(later)
    5

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import hashlib
import types
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any, TypeVar

import attrs

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money
from crmkit.kernel.time import ensure_aware, validate_aware, validate_optional_aware
from crmkit.loyalty._common import (
    check_now,
    check_points,
    id_field,
    mismatch,
    new_event_id,
    non_negative_int,
    optional_id,
    optional_int_range,
)
from crmkit.loyalty.events import (
    DebtRepaid,
    MembershipEnrolled,
    PointsAdjusted,
    PointsClawedBack,
    PointsEarned,
    PointsExpired,
    PointsRedeemed,
    RedemptionReversed,
    TierChanged,
    TierGranted,
)
from crmkit.loyalty.ledger import (
    EntryKind,
    InsufficientPoints,
    LedgerEntry,
    Lot,
    LotDraw,
    PointsBalance,
    _LotBook,
    _trusted_balance,
    _trusted_redemption,
)
from crmkit.loyalty.program import (
    EarnBreakdown,
    EarnOrder,
    LoyaltyProgram,
    MemberContext,
    ShortfallPolicy,
    compute_activity,
    compute_earn,
)
from crmkit.loyalty.tiers import (
    QualifyingActivity,
    TierChange,
    TierGrant,
    TierStatus,
    _TierTracker,
)

__all__ = ["Membership"]

_T = TypeVar("_T")

_ZERO = Decimal(0)


def _list_of(cls: type[_T], field: str) -> Callable[[object], list[_T]]:
    def convert(value: object) -> list[_T]:
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            raise ValidationError(
                f"must be a list of {cls.__name__}, not {type(value).__name__}", path=field
            )
        items = list(value)
        for i, item in enumerate(items):
            if not isinstance(item, cls):
                raise ValidationError(
                    f"must be {cls.__name__}, not {type(item).__name__}", path=f"{field}[{i}]"
                )
        return items

    return convert


def _entries(value: object) -> list[LedgerEntry]:
    return _list_of(LedgerEntry, "entries")(value)


def _qualifying(value: object) -> list[QualifyingActivity]:
    return _list_of(QualifyingActivity, "qualifying")(value)


def _tier_history(value: object) -> list[TierChange]:
    return _list_of(TierChange, "tier_history")(value)


def _grants(value: object) -> list[TierGrant]:
    return _list_of(TierGrant, "grants")(value)


def _lots(value: object) -> dict[str, Lot]:
    if not isinstance(value, Mapping):
        raise ValidationError(
            f"must be a mapping of lot id to Lot, not {type(value).__name__}", path="lots"
        )
    lots: dict[str, Lot] = {}
    for key, lot in value.items():
        if not isinstance(lot, Lot):
            raise ValidationError(f"must be Lot, not {type(lot).__name__}", path=f"lots.{key}")
        if key != lot.id:
            raise ValidationError(f"is filed under {key!r}, its id is {lot.id!r}", path="lots")
        if not lot.remaining:
            raise ValidationError(
                "holds no points: only live lots are kept", path=f"lots.{key}.remaining"
            )
        lots[key] = lot
    return lots


_new = object.__new__
_set = object.__setattr__


def _purpose(value: object) -> str | None:
    """A redemption's purpose: stripped text of at most 200 characters (blank: None)."""
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="purpose")
    cleaned = v.strip_optional(value)
    v.optional_text(200)(None, _PURPOSE_FIELD, cleaned)
    return None if cleaned is None else str(cleaned)


#: What the shared text validator names in its messages.
_PURPOSE_FIELD = types.SimpleNamespace(name="purpose")


def _optional_date(_instance: object, _attribute: object, value: Any) -> None:
    v.optional_date(_instance, _attribute, value)


def _birth_day(instance: Membership, _attribute: object, value: int | None) -> None:
    month = instance.birth_month
    if (month is None) != (value is None):
        raise ValidationError("give both birth_month and birth_day, or neither", path="birth_day")
    if month is not None and value is not None:
        try:
            date(2024, month, value)  # a leap year: 29 February is a birthday too
        except ValueError:
            raise ValidationError(
                f"{month}/{value} is not a day of the year", path="birth_day"
            ) from None


class _OrderState:
    """An order that earned on the membership: its earn entry and what refunds took so far."""

    __slots__ = ("clawed", "entry", "refunded")

    def __init__(self, entry: LedgerEntry) -> None:
        self.entry = entry
        self.refunded = _ZERO
        self.clawed = 0


def _digest(*parts: object) -> str:
    text = "\x1f".join(repr(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


@attrs.define(kw_only=True)
class Membership(Aggregate):
    """One customer's membership of one program: the points ledger, the live lots, the tier.

    Build one with :meth:`enroll`. The fields are the persisted state: ``entries`` (the
    append-only ledger), ``lots`` (only the lots that still hold points), the ``negative``
    balance and ``debt`` owed, ``as_of`` (the time the lots are advanced to), the daily cap
    counter, the qualifying history and tier state, tier history and grants. The index that
    makes balance queries O(1) is rebuilt from the lots when a membership is built or loaded,
    after checking that the ledger balances (see :mod:`crmkit.loyalty.ledger`). The
    birthday is kept as month and day only.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
        >>> program = LoyaltyProgram(id="p", name="P", currency="TWD", time_zone="Asia/Taipei",
        ...     point_value=Money("1", "TWD"),
        ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
        >>> now = datetime(2026, 3, 1, tzinfo=timezone.utc)
        >>> m = Membership.enroll(id="mem_1", program=program, customer_id="cus_1", now=now)
        >>> m.adjust(program, 100, reference="adj_1", reason="welcome gift", actor="u_amy",
        ...          now=now).points
        100
        >>> m.redeem(program, 150, reference="rdm_1", now=now)
        Traceback (most recent call last):
        ...
        crmkit.loyalty.ledger.InsufficientPoints: cannot redeem 150 points: 100 available

    .. versionadded:: 0.1.0
    """

    program_id: str = attrs.field(validator=id_field)
    customer_id: str = attrs.field(validator=id_field)
    enrolled_at: datetime = attrs.field(validator=validate_aware)
    as_of: datetime = attrs.field(validator=validate_aware)
    birth_month: int | None = attrs.field(default=None, validator=optional_int_range(1, 12))
    birth_day: int | None = attrs.field(default=None, validator=_birth_day)
    entries: list[LedgerEntry] = attrs.field(factory=list, converter=_entries)
    lots: dict[str, Lot] = attrs.field(factory=dict, converter=_lots)
    negative: int = attrs.field(default=0, validator=non_negative_int)
    debt: int = attrs.field(default=0, validator=non_negative_int)
    cap_day: date | None = attrs.field(default=None, validator=_optional_date)
    cap_day_points: int = attrs.field(default=0, validator=non_negative_int)
    birthday_points_year: int | None = attrs.field(
        default=None, validator=optional_int_range(1, 9999)
    )
    qualifying: list[QualifyingActivity] = attrs.field(factory=list, converter=_qualifying)
    tier: str | None = attrs.field(default=None, validator=optional_id)
    computed_tier: str | None = attrs.field(default=None, validator=optional_id)
    tier_changed_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    next_tier_evaluation: datetime | None = attrs.field(
        default=None, validator=validate_optional_aware
    )
    tier_as_of: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    tier_history: list[TierChange] = attrs.field(factory=list, converter=_tier_history)
    grants: list[TierGrant] = attrs.field(factory=list, converter=_grants)
    _book: _LotBook = attrs.field(init=False, eq=False, repr=False)
    _refs: dict[tuple[EntryKind, str], LedgerEntry] = attrs.field(init=False, eq=False, repr=False)
    _orders: dict[str, _OrderState] = attrs.field(init=False, eq=False, repr=False)
    _tracker: _TierTracker | None = attrs.field(init=False, default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        self._check_ledger()
        refs: dict[tuple[EntryKind, str], LedgerEntry] = {}
        orders: dict[str, _OrderState] = {}
        for entry in self.entries:
            kind = entry.kind
            if kind is EntryKind.EXPIRE or kind is EntryKind.REPAY:
                continue
            refs[(kind, entry.reference)] = entry
            if kind is EntryKind.EARN:
                orders[entry.reference] = _OrderState(entry)
            elif kind is EntryKind.REVERSE and entry.order_id in orders:
                state = orders[entry.order_id]
                state.refunded += entry.amount.amount if entry.amount is not None else _ZERO
                state.clawed += -entry.points + entry.negative + entry.debt + entry.written_off
        self._refs = refs
        self._orders = orders
        self._book = _LotBook(self.lots, self.as_of)

    def _check_ledger(self) -> None:
        problems = []
        for i, entry in enumerate(self.entries):
            if entry.seq != i + 1:
                problems.append(f"entries[{i}] has seq {entry.seq}, expected {i + 1}")
                break
        held = sum(lot.remaining for lot in self.lots.values())
        total = sum(entry.points for entry in self.entries)
        if total != held:
            problems.append(f"the entries add up to {total} points but the lots hold {held}")
        for name in ("negative", "debt"):
            owed = sum(getattr(entry, name) for entry in self.entries)
            if owed != getattr(self, name):
                problems.append(f"the entries add up to {name} {owed}, not {getattr(self, name)}")
        if problems:
            raise ValidationError(
                f"membership {self.id!r}: the ledger does not balance: {'; '.join(problems)}",
                path="entries",
            )

    # ----- creation ----------------------------------------------------------------------------

    @staticmethod
    def id_for(program_id: str, customer_id: str) -> str:
        """The id of ``customer_id``'s membership of ``program_id``: one card per program.

        Stores refuse a second aggregate with the same id, so deriving it keeps a customer
        from holding two memberships of one program.

        Example:
            >>> Membership.id_for("tea_club", "cus_1")
            'mem_tea_club_cus_1'
        """
        check_id(program_id, "program_id")
        check_id(customer_id, "customer_id")
        plain = f"mem_{program_id}_{customer_id}"
        if len(plain) <= 64:
            return plain
        return f"mem_{_digest(program_id, customer_id)}"

    @classmethod
    def enroll(
        cls,
        *,
        id: str,
        program: LoyaltyProgram,
        customer_id: str,
        now: datetime,
        birthday: date | None = None,
        actor: str | None = None,
    ) -> Membership:
        """Enroll a customer in ``program`` (in its base tier) and record the enrollment.

        ``birthday`` (a date) is kept as month and day only, for the birthday bonus.

        Example:
            >>> from datetime import date, datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> m = Membership.enroll(id="mem_1", program=program, customer_id="cus_1",
            ...     now=datetime(2026, 1, 1, tzinfo=timezone.utc), birthday=date(1990, 5, 17))
            >>> (m.birth_month, m.birth_day), m.pending_events[0].event_type
            ((5, 17), 'loyalty.MembershipEnrolled')
        """
        now = check_now(now, actor)
        _check_program(program)
        if birthday is not None and (
            not isinstance(birthday, date) or isinstance(birthday, datetime)
        ):
            raise ValidationError(f"must be a date, not {type(birthday).__name__}", path="birthday")
        membership = cls(
            id=id,
            program_id=program.id,
            customer_id=customer_id,
            enrolled_at=now,
            as_of=now,
            birth_month=None if birthday is None else birthday.month,
            birth_day=None if birthday is None else birthday.day,
        )
        membership._emit(
            MembershipEnrolled,
            occurred_at=now,
            actor=actor,
            program_id=program.id,
            customer_id=customer_id,
            tier=None if program.tiers is None else program.tiers.tiers[0].id,
        )
        membership._tracker_for(program)
        return membership

    # ----- queries -----------------------------------------------------------------------------

    def available(self, now: datetime) -> int:
        """Points that can be spent at ``now`` (negative while a negative balance is owed).

        O(1) after the lazy advance to ``now`` (which may record expiries).

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> Membership.enroll(id="m", program=program, customer_id="c",
            ...                   now=now).available(now)
            0
        """
        if now is not self.as_of:
            self._advance_lots(now)
        return self._book.available - self.negative

    def pending(self, now: datetime) -> int:
        """Points earned but still in their pending period at ``now``.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> Membership.enroll(id="m", program=program, customer_id="c", now=now).pending(now)
            0
        """
        if now is not self.as_of:
            self._advance_lots(now)
        return self._book.pending

    def balance(self, now: datetime) -> PointsBalance:
        """Available, pending, debt and negative balance at ``now`` (O(1) after the advance).

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> Membership.enroll(id="m", program=program, customer_id="c", now=now).balance(now)
            PointsBalance(available=0, pending=0, debt=0, negative=0)
        """
        if now is not self.as_of:
            self._advance_lots(now)
        book = self._book
        return _trusted_balance(
            book.available - self.negative, book.pending, self.debt, self.negative
        )

    def expiring_before(self, when: datetime, now: datetime) -> int:
        """Points (available or pending at ``now``) that will expire at or before ``when``.

        O(b + p): b live expiry instants (one per local day at most), p pending lots.

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import (BaseRate, EarnRules, ExpiryPolicy,
            ...     LoyaltyProgram)
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD", time_zone="UTC",
            ...     point_value=Money("1", "TWD"), expiry=ExpiryPolicy(kind="rolling_months",
            ...     months=1), earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> now = datetime(2026, 1, 10, tzinfo=timezone.utc)
            >>> m = Membership.enroll(id="m", program=program, customer_id="c", now=now)
            >>> _ = m.adjust(program, 70, reference="a1", reason="gift", actor="u1", now=now)
            >>> m.expiring_before(now + timedelta(days=30), now=now)   # expires 2026-02-11
            0
            >>> m.expiring_before(now + timedelta(days=32), now=now)
            70
        """
        when = ensure_aware(when, "when")
        if now is not self.as_of:
            self._advance_lots(now)
        return self._book.expiring_by(when)

    def entry_for(self, kind: EntryKind | str, reference: str) -> LedgerEntry | None:
        """The entry a command of ``kind`` with ``reference`` made, if any (O(1)).

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> m = Membership.enroll(id="m", program=program, customer_id="c",
            ...                       now=datetime(2026, 1, 1, tzinfo=timezone.utc))
            >>> m.entry_for("earn", "o_1") is None
            True
        """
        return self._refs.get((v.to_enum(EntryKind, "kind")(kind), reference))

    def member_context(self, program: LoyaltyProgram, now: datetime) -> MemberContext:
        """What the earn rules know about this member at ``now`` (tier, caps, birthday).

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> m = Membership.enroll(id="m", program=program, customer_id="c", now=now)
            >>> m.member_context(program, now).first_order
            True
        """
        local = ensure_aware(now, "now").astimezone(program.zone)
        return MemberContext(
            tier=self.tier if program.tiers is not None else None,
            first_order=not self._orders,
            birth_month=self.birth_month,
            birthday_points_given=self.birthday_points_year == local.year,
            earned_today=self.cap_day_points if self.cap_day == local.date() else 0,
        )

    def tier_status(self, program: LoyaltyProgram, now: datetime) -> TierStatus:
        """Where the member stands in the program's tiers at ``now`` (applying evaluations).

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> from crmkit.loyalty.tiers import Tier, TierModel
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))),
            ...     tiers=TierModel(metric="spend", period="calendar",
            ...                     tiers=[Tier(id="member", name="Member", threshold=0)]))
            >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> m = Membership.enroll(id="m", program=program, customer_id="c", now=now)
            >>> m.tier_status(program, now).tier
            'member'
        """
        now = self._begin(program, now, None)
        self._advance(program, now)
        tracker = self._tracker_for(program)
        if tracker is None:
            raise RuleViolation(
                f"program {program.id!r} has no tiers", details={"program_id": program.id}
            )
        return tracker.status(now, self.tier_history)

    # ----- commands ----------------------------------------------------------------------------

    def advance(self, program: LoyaltyProgram, now: datetime) -> None:
        """Apply what time has done up to ``now``: maturing, expiry, repayments, evaluations.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> m = Membership.enroll(id="m", program=program, customer_id="c",
            ...                       now=datetime(2026, 1, 1, tzinfo=timezone.utc))
            >>> m.advance(program, datetime(2026, 2, 1, tzinfo=timezone.utc))
            >>> m.as_of.month
            2
        """
        now = self._begin(program, now, None)
        self._advance(program, now)

    def earn(
        self,
        program: LoyaltyProgram,
        order: EarnOrder,
        *,
        now: datetime,
        actor: str | None = None,
    ) -> LedgerEntry:
        """Credit the points ``order`` earns (see :func:`~crmkit.loyalty.program.compute_earn`).

        Points are pending for the program's pending period, then available until they
        expire. The order counts towards the tier at once. Every order is recorded, even one
        that earns nothing, so its refunds and the first-purchase rule know it. The same order
        id twice returns the first entry; with other lines or another time it is refused.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> m = Membership.enroll(id="m", program=program, customer_id="c", now=now)
            >>> first = m.earn(program, EarnOrder.of("o_1", Money("880", "TWD")), now=now)
            >>> again = m.earn(program, EarnOrder.of("o_1", Money("880", "TWD")), now=now)
            >>> first is again, m.available(now)
            (True, 8)
        """
        now = self._begin(program, now, actor)
        if not isinstance(order, EarnOrder):
            raise ValidationError(f"must be an EarnOrder, not {type(order).__name__}", path="order")
        fingerprint = _digest(
            [
                (line.amount.amount.normalize(), line.amount.currency, line.category, line.sku)
                for line in order.lines
            ],
            None if order.placed_at is None else order.placed_at.timestamp(),
        )
        first = self._replay(EntryKind.EARN, order.id, fingerprint)
        if first is not None:
            return first
        # What compute_earn would refuse, refused before time is applied.
        if order.currency != program.currency:
            raise ValidationError(
                f"order {order.id!r} is in {order.currency}, the program in {program.currency}",
                path="order.lines",
            )
        if order.placed_at is not None and order.placed_at > now:
            raise ValidationError(
                f"must not be after now ({now.isoformat()}), got {order.placed_at.isoformat()}",
                path="order.placed_at",
            )
        self._advance(program, now)
        context = self.member_context(program, now)
        breakdown = compute_earn(program, order, context, now)
        entry = self._credit(
            program,
            EntryKind.EARN,
            order.id,
            breakdown,
            now,
            actor,
            fingerprint,
            pending=True,
            order_id=order.id,
        )
        self._orders[order.id] = _OrderState(entry)
        if (
            program.earn.birthday is not None
            and program.earn.birthday.points
            and not context.birthday_points_given
            and breakdown.contribution("birthday") is not None
        ):
            _set(self, "birthday_points_year", now.astimezone(program.zone).year)
        self._qualify(
            program,
            QualifyingActivity(
                at=now,
                points=entry.points,
                spend=breakdown.spend.amount,
                orders=1,
                reference=order.id,
            ),
        )
        return entry

    def reward_activity(
        self,
        program: LoyaltyProgram,
        kind: str,
        *,
        reference: str,
        now: datetime,
        actor: str | None = None,
    ) -> LedgerEntry:
        """Credit the program's points for an activity (``kind``: a review, a survey).

        Activity points are available at once and count towards a points-based tier.
        ``reference`` is the activity's own id (the review id), so it pays once.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import (ActivityReward, BaseRate, EarnRules,
            ...     LoyaltyProgram)
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD")),
            ...         activities=[ActivityReward(kind="review", name="Review", points=20)]))
            >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> m = Membership.enroll(id="m", program=program, customer_id="c", now=now)
            >>> m.reward_activity(program, "review", reference="rev_9", now=now).points
            20
        """
        now = self._begin(program, now, actor)
        check_id(reference, "reference")
        fingerprint = str(kind)
        first = self._replay(EntryKind.ACTIVITY, reference, fingerprint)
        if first is not None:
            return first
        program.earn.activity(kind)  # an unknown kind is refused before time is applied
        self._advance(program, now)
        context = self.member_context(program, now)
        breakdown = compute_activity(program, kind, reference, context)
        entry = self._credit(
            program, EntryKind.ACTIVITY, reference, breakdown, now, actor, fingerprint
        )
        if entry.points:
            self._qualify(
                program, QualifyingActivity(at=now, points=entry.points, reference=reference)
            )
        return entry

    def redeem(
        self,
        program: LoyaltyProgram,
        points: int,
        *,
        reference: str,
        now: datetime,
        purpose: str | None = None,
        actor: str | None = None,
    ) -> LedgerEntry:
        """Spend ``points`` from the available lots, soonest-expiring first.

        ``reference`` is the redemption's id: a reward redemption, or a payment that uses
        points as partial payment; ``purpose`` says which (``"reward:R1"``, ``"payment"``).
        At least the program's ``min_redemption``; at most what is available, else
        :class:`~crmkit.loyalty.ledger.InsufficientPoints`. Redeeming never changes the tier.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> m = Membership.enroll(id="m", program=program, customer_id="c", now=now)
            >>> _ = m.adjust(program, 300, reference="a1", reason="gift", actor="u1", now=now)
            >>> e = m.redeem(program, 120, reference="pay_1", now=now, purpose="payment")
            >>> e.points, [(d.lot, d.points) for d in e.draws], m.available(now)
            (-120, [('lot-1', 120)], 180)
        """
        if type(points) is not int or points < 1:
            check_points(points)
        if now.__class__ is not datetime or now.utcoffset() is None:
            now = ensure_aware(now, "now")
        if actor is not None:
            check_id(actor, "actor")
        if program.__class__ is not LoyaltyProgram or program.id != self.program_id:
            _check_program(program, self.program_id)
        check_id(reference, "reference")
        if purpose is not None:
            purpose = _purpose(purpose)
        fingerprint = f"{points}|{purpose}"
        key = (EntryKind.REDEEM, reference)
        first = self._refs.get(key)
        if first is not None:
            if first.fingerprint != fingerprint:
                raise mismatch("redeem", reference, first.fingerprint, fingerprint)
            return first
        if now is not self.as_of:
            self._advance(program, now)
        if points < program.min_redemption:
            raise RuleViolation(
                f"cannot redeem {points} points: the program's minimum is {program.min_redemption}",
                details={"requested": points, "minimum": program.min_redemption},
            )
        book = self._book
        available = book.available - self.negative
        if points > available:
            raise InsufficientPoints(
                f"cannot redeem {points} points: {available} available",
                details={"requested": points, "available": available},
            )
        seq = len(self.entries) + 1
        entry = _trusted_redemption(
            seq, reference, now, points, book.draw(points), purpose, actor, fingerprint
        )
        self.entries.append(entry)
        self._refs[key] = entry
        # The event's values were checked above: build it without its validators (hot path).
        event = _new(PointsRedeemed)
        _set(event, "aggregate_id", self.id)
        _set(event, "occurred_at", now)
        _set(event, "actor", actor)
        _set(event, "aggregate_version", self.version + 1)
        _set(event, "event_id", new_event_id())
        _set(event, "entry", seq)
        _set(event, "reference", reference)
        _set(event, "points", points)
        _set(event, "purpose", purpose)
        self._events.append(event)
        return entry

    def reverse_redemption(
        self,
        program: LoyaltyProgram,
        reference: str,
        *,
        now: datetime,
        actor: str | None = None,
    ) -> LedgerEntry:
        """Give the points of redemption ``reference`` back to the lots it drew from.

        The reversal is a new ``restore`` entry (the redemption's entry is never changed);
        its ``draws`` list the lots given back to. Points drawn from a lot that has expired
        by ``now`` stay expired: they would be gone had they not been spent. A lot that is
        no longer live (spent to nothing) is rebuilt under its id with the availability and
        expiry the program gives its earn date. Restored points pay back a negative balance
        or debt first, as any new points do. The same reference twice returns the first
        reversal.

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import (BaseRate, EarnRules, ExpiryPolicy,
            ...     LoyaltyProgram)
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="UTC", point_value=Money("1", "TWD"),
            ...     expiry=ExpiryPolicy(kind="rolling_months", months=1),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> t0 = datetime(2026, 1, 10, tzinfo=timezone.utc)
            >>> m = Membership.enroll(id="m", program=program, customer_id="c", now=t0)
            >>> _ = m.adjust(program, 50, reference="a1", reason="gift", actor="u1", now=t0)
            >>> _ = m.adjust(program, 50, reference="a2", reason="gift", actor="u1",
            ...              now=t0 + timedelta(days=30))
            >>> _ = m.redeem(program, 80, reference="rdm_1", now=t0 + timedelta(days=30))
            >>> later = t0 + timedelta(days=40)   # lot-1 (50 points drawn) expired meanwhile
            >>> e = m.reverse_redemption(program, "rdm_1", now=later)
            >>> e.kind.value, e.points, e.draws, m.available(later)
            ('restore', 30, (LotDraw(lot='lot-2', points=30),), 50)
        """
        now = self._begin(program, now, actor)
        check_id(reference, "reference")
        first = self._replay(EntryKind.RESTORE, reference, reference)
        if first is not None:
            return first
        redemption = self._refs.get((EntryKind.REDEEM, reference))
        if redemption is None:
            raise RuleViolation(
                f"membership {self.id!r} has no redemption {reference!r} to reverse",
                details={"reference": reference},
            )
        self._advance(program, now)
        book = self._book
        restored: list[LotDraw] = []
        revived: list[Lot] = []
        expired = 0
        for draw in redemption.draws:
            lot = self.lots.get(draw.lot)
            if lot is not None:
                book.restore(lot, draw.points)
                restored.append(draw)
                revived.append(lot)
                continue
            source = self.entries[int(draw.lot.rsplit("-", 1)[1]) - 1]
            expires_at = program.expires_at(source.at)
            if expires_at is not None and expires_at <= self.as_of:
                expired += draw.points
                continue
            pending = source.kind is EntryKind.EARN
            available_at = source.at + program.pending_period if pending else source.at
            lot = Lot(
                id=draw.lot,
                entry=source.seq,
                kind=source.kind,
                source=source.reference,
                points=source.points,
                remaining=draw.points,
                earned_at=source.at,
                available_at=min(available_at, self.as_of),
                expires_at=expires_at,
            )
            book.restore(lot, draw.points)
            restored.append(draw)
            revived.append(lot)
        seq = len(self.entries) + 1
        points = sum(d.points for d in restored)
        entry = LedgerEntry(
            seq=seq,
            kind=EntryKind.RESTORE,
            reference=reference,
            at=now,
            points=points,
            draws=restored,
            purpose=redemption.purpose,
            actor=actor,
            fingerprint=reference,
        )
        self._append(entry)
        self._emit(
            RedemptionReversed,
            occurred_at=now,
            actor=actor,
            entry=seq,
            reference=reference,
            points=points,
            expired=expired,
        )
        for lot in revived:
            self._repay(lot, now, actor)
        return entry

    def adjust(
        self,
        program: LoyaltyProgram,
        points: int,
        *,
        reference: str,
        reason: str,
        actor: str,
        now: datetime,
    ) -> LedgerEntry:
        """Adjust the points by hand: ``points`` > 0 adds a lot, < 0 takes like a redemption.

        ``reason`` and ``actor`` are required. A positive adjustment is available at once and
        expires under the program's policy; it does not count towards the tier (grant a tier
        with :meth:`grant_tier` instead). A negative one may not take more than is available.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> m = Membership.enroll(id="m", program=program, customer_id="c", now=now)
            >>> _ = m.adjust(program, 50, reference="a1", reason="apology", actor="u1", now=now)
            >>> m.adjust(program, -20, reference="a2", reason="typo fix", actor="u1",
            ...          now=now).draws
            (LotDraw(lot='lot-1', points=20),)
        """
        now = self._begin(program, now, actor)
        check_id(actor, "actor")
        check_points(points, allow_negative=True)
        check_id(reference, "reference")
        if not isinstance(reason, str) or not reason.strip():
            raise ValidationError("must say why (a non-empty text)", path="reason")
        reason = reason.strip()
        fingerprint = _digest(points, reason)
        first = self._replay(EntryKind.ADJUST, reference, fingerprint)
        if first is not None:
            return first
        self._advance(program, now)
        seq = len(self.entries) + 1
        if points > 0:
            lot = self._new_lot(program, seq, points, now, EntryKind.ADJUST, reference, False)
            entry = LedgerEntry(
                seq=seq,
                kind=EntryKind.ADJUST,
                reference=reference,
                at=now,
                points=points,
                lot=lot.id,
                reason=reason,
                actor=actor,
                fingerprint=fingerprint,
            )
            self._append(entry)
            self._add_lot(lot)
        else:
            available = self._book.available - self.negative
            if -points > available:
                raise InsufficientPoints(
                    f"cannot take {-points} points: {available} available",
                    details={"requested": -points, "available": available},
                )
            entry = LedgerEntry(
                seq=seq,
                kind=EntryKind.ADJUST,
                reference=reference,
                at=now,
                points=points,
                draws=self._book.draw(-points),
                reason=reason,
                actor=actor,
                fingerprint=fingerprint,
            )
            self._append(entry)
        self._emit(
            PointsAdjusted,
            occurred_at=now,
            actor=actor,
            entry=seq,
            reference=reference,
            points=points,
            reason=reason,
        )
        if points > 0:
            self._repay(self.lots[entry.lot or ""], now, actor)
        return entry

    def reverse(
        self,
        program: LoyaltyProgram,
        *,
        order_id: str,
        refund_id: str,
        refunded: Money,
        now: datetime,
        actor: str | None = None,
    ) -> LedgerEntry:
        """Claw back the points of ``order_id`` for a refund of ``refunded`` of its spend.

        ``refunded`` is the part of the order's eligible spend given back (in the order's
        currency); refunds of one order may not add up to more than its eligible spend. See
        the module docstring for the proportion, the order of sources and the shortfall.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))))
            >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> m = Membership.enroll(id="m", program=program, customer_id="c", now=now)
            >>> _ = m.earn(program, EarnOrder.of("o_1", Money("1000", "TWD")), now=now)
            >>> m.reverse(program, order_id="o_1", refund_id="rf_1",
            ...           refunded=Money("250", "TWD"), now=now).points   # floor(10 x 250/1000)
            -2
            >>> m.reverse(program, order_id="o_1", refund_id="rf_2",
            ...           refunded=Money("750", "TWD"), now=now).points   # 10 in all
            -8
        """
        now = self._begin(program, now, actor)
        check_id(order_id, "order_id")
        check_id(refund_id, "refund_id")
        if not isinstance(refunded, Money) or refunded.amount <= 0:
            raise ValidationError(f"must be Money above 0, got {refunded!r}", path="refunded")
        fingerprint = f"{order_id}|{refunded.amount}|{refunded.currency}"
        first = self._replay(EntryKind.REVERSE, refund_id, fingerprint)
        if first is not None:
            return first
        state = self._orders.get(order_id)
        if state is None:
            raise RuleViolation(
                f"order {order_id!r} earned nothing on membership {self.id!r}: nothing to claw "
                "back",
                details={"order_id": order_id},
            )
        spend = state.entry.amount or Money.zero(program.currency)
        if refunded.currency != spend.currency:
            raise ValidationError(
                f"is in {refunded.currency}, the order in {spend.currency}", path="refunded"
            )
        so_far = state.refunded + refunded.amount
        if so_far > spend.amount:
            raise RuleViolation(
                f"refunds of order {order_id!r} would add up to {so_far} {spend.currency}, "
                f"more than its eligible spend of {spend}",
                details={"order_id": order_id, "refunded": str(so_far), "spend": str(spend)},
            )
        self._advance(program, now)
        earned = state.entry.points
        if so_far == spend.amount:
            target = earned
        else:
            target = int((earned * so_far / spend.amount).to_integral_value(ROUND_FLOOR))
        claw = target - state.clawed
        book = self._book
        draws: list[LotDraw] = []
        lot = self.lots.get(state.entry.lot or "")
        if lot is not None and claw:
            own = min(claw, lot.remaining)
            draws.append(LotDraw(lot.id, own))
            book.take(lot, own, pending=lot.available_at > self.as_of)
        rest = claw - sum(d.points for d in draws)
        from_available = min(rest, book.available)
        if from_available > 0:
            draws += book.draw(from_available)
        shortfall = rest - max(from_available, 0)
        policy = program.shortfall
        negative = shortfall if policy is ShortfallPolicy.NEGATIVE_BALANCE else 0
        debt = shortfall if policy is ShortfallPolicy.DEBT else 0
        written_off = shortfall if policy is ShortfallPolicy.WRITE_OFF else 0
        _set(self, "negative", self.negative + negative)
        _set(self, "debt", self.debt + debt)
        seq = len(self.entries) + 1
        from_lots = sum(d.points for d in draws)
        entry = LedgerEntry(
            seq=seq,
            kind=EntryKind.REVERSE,
            reference=refund_id,
            at=now,
            points=-from_lots,
            negative=negative,
            debt=debt,
            written_off=written_off,
            draws=draws,
            order_id=order_id,
            amount=refunded,
            actor=actor,
            fingerprint=fingerprint,
        )
        self._append(entry)
        state.refunded = so_far
        state.clawed += claw
        self._emit(
            PointsClawedBack,
            occurred_at=now,
            actor=actor,
            entry=seq,
            refund_id=refund_id,
            order_id=order_id,
            refunded=refunded,
            points=claw,
            from_lots=from_lots,
            shortfall=shortfall,
            policy=policy,
        )
        self._qualify(
            program,
            QualifyingActivity(
                at=now,
                points=-claw,
                spend=-refunded.amount,
                orders=-1 if so_far == spend.amount else 0,
                reference=refund_id,
            ),
        )
        return entry

    def grant_tier(
        self,
        program: LoyaltyProgram,
        tier: str,
        *,
        reference: str,
        reason: str,
        actor: str,
        now: datetime,
        until: datetime | None = None,
    ) -> TierGrant:
        """Hold the member at ``tier`` from ``now`` until ``until`` (``None``: no end).

        The member's tier is the higher of the computed tier and the grant while it lasts.
        The same reference twice returns the first grant.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.loyalty.program import BaseRate, EarnRules, LoyaltyProgram
            >>> from crmkit.loyalty.tiers import Tier, TierModel
            >>> program = LoyaltyProgram(id="p", name="P", currency="TWD",
            ...     time_zone="Asia/Taipei", point_value=Money("1", "TWD"),
            ...     earn=EarnRules(base=BaseRate(per=Money("100", "TWD"))),
            ...     tiers=TierModel(metric="points", period="calendar", tiers=[
            ...         Tier(id="member", name="Member", threshold=0),
            ...         Tier(id="gold", name="Gold", threshold=5000)]))
            >>> now = datetime(2026, 1, 1, tzinfo=timezone.utc)
            >>> m = Membership.enroll(id="m", program=program, customer_id="c", now=now)
            >>> _ = m.grant_tier(program, "gold", reference="g_1", reason="VIP courtesy",
            ...                  actor="u_amy", now=now, until=datetime(2026, 7, 1,
            ...                  tzinfo=timezone.utc))
            >>> m.tier, m.tier_status(program, datetime(2026, 7, 1, tzinfo=timezone.utc)).tier
            ('gold', 'member')
        """
        now = self._begin(program, now, actor)
        check_id(actor, "actor")
        if program.tiers is None:
            raise RuleViolation(
                f"program {program.id!r} has no tiers to grant", details={"tier": tier}
            )
        program.tiers.index(tier)
        until = None if until is None else ensure_aware(until, "until")
        for grant in self.grants:
            if grant.reference == reference:
                if (grant.tier, grant.ends_at, grant.reason) != (tier, until, str(reason).strip()):
                    raise mismatch(
                        "grant",
                        reference,
                        f"{grant.tier} until {grant.ends_at}",
                        f"{tier} until {until}",
                    )
                return grant
        if until is not None and until <= now:
            raise ValidationError(f"must be after now ({now.isoformat()})", path="until")
        grant = TierGrant(
            reference=reference,
            tier=tier,
            starts_at=now,
            ends_at=until,
            reason=reason,
            actor=actor,
        )
        self._advance(program, now)
        self.grants.append(grant)
        self._emit(
            TierGranted,
            occurred_at=now,
            actor=actor,
            reference=reference,
            tier=tier,
            reason=grant.reason,
            until=until,
        )
        tracker = self._tracker_for(program)
        if tracker is not None:
            self._apply_tier(program, tracker, tracker.advance(now))
        return grant

    # ----- internals ---------------------------------------------------------------------------

    def _begin(self, program: object, now: object, actor: object) -> datetime:
        checked = check_now(now, actor)
        _check_program(program, self.program_id)
        return checked

    def _replay(self, kind: EntryKind, reference: str, fingerprint: str) -> LedgerEntry | None:
        check_id(reference, "reference")
        first = self._refs.get((kind, reference))
        if first is None:
            return None
        if first.fingerprint != fingerprint:
            raise mismatch(kind.value, reference, first.fingerprint, fingerprint)
        return first

    def _append(self, entry: LedgerEntry) -> None:
        self.entries.append(entry)
        if entry.kind is not EntryKind.EXPIRE and entry.kind is not EntryKind.REPAY:
            self._refs[(entry.kind, entry.reference)] = entry

    def _emit(self, event_class: type[DomainEvent], /, **fields: Any) -> None:
        """Record an event of this change (as ``record`` does, without its ``evolve`` copy)."""
        self._events.append(
            event_class(
                aggregate_id=self.id,
                aggregate_version=self.version + 1,
                event_id=new_event_id(),
                **fields,
            )
        )

    def _new_lot(
        self,
        program: LoyaltyProgram,
        seq: int,
        points: int,
        now: datetime,
        kind: EntryKind,
        source: str,
        pending: bool,
    ) -> Lot:
        return Lot(
            id=f"lot-{seq}",
            entry=seq,
            kind=kind,
            source=source,
            points=points,
            remaining=points,
            earned_at=now,
            available_at=now + program.pending_period if pending else now,
            expires_at=program.expires_at(now),
        )

    def _add_lot(self, lot: Lot) -> None:
        self.lots[lot.id] = lot
        self._book.add(lot, self.as_of)

    def _credit(
        self,
        program: LoyaltyProgram,
        kind: EntryKind,
        reference: str,
        breakdown: EarnBreakdown,
        now: datetime,
        actor: str | None,
        fingerprint: str,
        *,
        pending: bool = False,
        order_id: str | None = None,
    ) -> LedgerEntry:
        points = breakdown.total
        seq = len(self.entries) + 1
        lot = None
        if points > 0:
            lot = self._new_lot(program, seq, points, now, kind, reference, pending)
        entry = LedgerEntry(
            seq=seq,
            kind=kind,
            reference=reference,
            at=now,
            points=points,
            lot=None if lot is None else lot.id,
            order_id=order_id,
            amount=breakdown.spend if kind is EntryKind.EARN else None,
            actor=actor,
            fingerprint=fingerprint,
        )
        self._append(entry)
        day = now.astimezone(program.zone).date()
        if self.cap_day != day:
            _set(self, "cap_day", day)
            _set(self, "cap_day_points", 0)
        _set(self, "cap_day_points", self.cap_day_points + points)
        self._emit(
            PointsEarned,
            occurred_at=now,
            actor=actor,
            entry=seq,
            source=kind,
            reference=reference,
            points=points,
            breakdown=breakdown,
            available_at=None if lot is None else lot.available_at,
            expires_at=None if lot is None else lot.expires_at,
        )
        if lot is not None:
            self._add_lot(lot)
            if lot.available_at <= self.as_of:
                self._repay(lot, now, actor)
        return entry

    def _repay(self, lot: Lot, at: datetime, actor: str | None) -> None:
        owed = self.negative + self.debt
        if not owed or not lot.remaining:
            return
        take = min(owed, lot.remaining)
        negative = min(self.negative, take)
        debt = take - negative
        self._book.take(lot, take, pending=False)
        _set(self, "negative", self.negative - negative)
        _set(self, "debt", self.debt - debt)
        seq = len(self.entries) + 1
        self._append(
            LedgerEntry(
                seq=seq,
                kind=EntryKind.REPAY,
                reference=lot.id,
                at=at,
                points=-take,
                negative=-negative,
                debt=-debt,
                draws=(LotDraw(lot.id, take),),
                actor=actor,
            )
        )
        self._emit(DebtRepaid, occurred_at=at, actor=actor, entry=seq, points=take, lot=lot.id)

    def _advance_lots(self, now: datetime) -> None:
        """Mature and expire lots up to ``now``, in time order (expiry first on a tie)."""
        if now.__class__ is not datetime or now.utcoffset() is None:
            now = ensure_aware(now, "now")
        if now < self.as_of:
            raise RuleViolation(
                f"membership {self.id!r} is already at {self.as_of.isoformat()}; "
                f"{now.isoformat()} would go back in time",
                details={"as_of": self.as_of.isoformat(), "now": now.isoformat()},
            )
        book = self._book
        keys, heap = book.keys, book.heap
        if (not keys or keys[0] > now) and (not heap or heap[0][0] > now):
            _set(self, "as_of", now)  # checked above; skips the attrs validator (hot path)
            return
        while True:
            expiry = book.next_expiry()
            if expiry is not None and expiry > now:
                expiry = None
            maturity = book.next_maturity()
            if maturity is not None and maturity > now:
                maturity = None
            if expiry is None and maturity is None:
                break
            if maturity is None or (expiry is not None and expiry <= maturity):
                lots = book.expire_first()
                if lots:
                    at = lots[0].expires_at or now
                    _set(self, "as_of", max(self.as_of, at))
                    self._expire(lots, at)
            else:
                lot = book.mature()
                _set(self, "as_of", max(self.as_of, lot.available_at))
                self._repay(lot, lot.available_at, None)
        _set(self, "as_of", now)

    def _expire(self, lots: list[Lot], at: datetime) -> None:
        draws = tuple(LotDraw(lot.id, lot.remaining) for lot in lots)
        points = sum(d.points for d in draws)
        for lot in lots:
            lot.remaining = 0
        seq = len(self.entries) + 1
        self._append(
            LedgerEntry(
                seq=seq,
                kind=EntryKind.EXPIRE,
                reference=f"expiry-{seq}",
                at=at,
                points=-points,
                draws=draws,
            )
        )
        self._emit(
            PointsExpired,
            occurred_at=at,
            entry=seq,
            points=points,
            lots=tuple(d.lot for d in draws),
        )

    def _advance(self, program: LoyaltyProgram, now: datetime) -> None:
        self._advance_lots(now)
        if program.tiers is not None:
            tracker = self._tracker_for(program)
            if tracker is not None and tracker.due(now):
                self._apply_tier(program, tracker, tracker.advance(now))

    def _qualify(self, program: LoyaltyProgram, activity: QualifyingActivity) -> None:
        self.qualifying.append(activity)
        tracker = self._tracker_for(program, appended=True)
        if tracker is not None:
            self._apply_tier(program, tracker, tracker.add(activity))

    def _tracker_for(
        self, program: LoyaltyProgram, *, appended: bool = False
    ) -> _TierTracker | None:
        """The tier tracker for ``program``'s model, rebuilt from the persisted state if needed.

        ``appended``: the caller has just appended an activity the tracker must not count yet.
        """
        model = program.tiers
        if model is None:
            return None
        tracker = self._tracker
        if (
            tracker is not None
            and (tracker.model is model or tracker.model == model)
            and tracker.zone is program.zone
        ):
            return tracker
        history = self.qualifying[:-1] if appended else self.qualifying
        if self.tier is None:  # never tracked (new, or the program gained tiers): replay
            tracker, first = _TierTracker.start(model, program.zone, self.enrolled_at, self.grants)
            changes = [first]
            for activity in history:
                changes += tracker.add(activity)
            self._tracker = tracker
            self._apply_tier(program, tracker, changes)
            return tracker
        tracker = _TierTracker(
            model,
            program.zone,
            self.enrolled_at,
            computed=model.index(self.computed_tier or self.tier),
            effective=model.index(self.tier),
            changed_at=self.tier_changed_at or self.enrolled_at,
            next_evaluation=self.next_tier_evaluation,
            as_of=self.tier_as_of or self.enrolled_at,
            grants=self.grants,
            history=history,
        )
        self._tracker = tracker
        return tracker

    def _apply_tier(
        self, program: LoyaltyProgram, tracker: _TierTracker, changes: list[TierChange]
    ) -> None:
        tiers = tracker.model.tiers
        # The tracker's state is valid by construction: set it without the field validators.
        _set(self, "tier", tiers[tracker.effective].id)
        _set(self, "computed_tier", tiers[tracker.computed].id)
        _set(self, "tier_changed_at", tracker.changed_at)
        _set(self, "next_tier_evaluation", tracker.next_evaluation)
        _set(self, "tier_as_of", tracker.as_of)
        for change in changes:
            self.tier_history.append(change)
            self._emit(
                TierChanged,
                occurred_at=change.at,
                program_id=program.id,
                from_tier=change.from_tier,
                to_tier=change.to_tier,
                reason=change.reason,
                value=change.value,
            )


def _check_program(program: object, program_id: str | None = None) -> LoyaltyProgram:
    if not isinstance(program, LoyaltyProgram):
        raise ValidationError(
            f"must be a LoyaltyProgram, not {type(program).__name__}", path="program"
        )
    if program_id is not None and program.id != program_id:
        raise ValidationError(
            f"the membership belongs to program {program_id!r}, not {program.id!r}",
            path="program",
        )
    return program
