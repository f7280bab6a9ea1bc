"""The points ledger: append-only entries, lots of points with their expiry, and the live index.

Every change to a member's points is a :class:`LedgerEntry` appended to the membership's ledger
and never changed afterwards. Points live in :class:`Lot` records: an earn (an order, an
activity) or a positive adjustment creates a lot with its ``available_at`` (after the pending
period) and ``expires_at``; a redemption, a negative adjustment, a refund's clawback and an
expiry take points out of lots and say which (:class:`LotDraw`). An expiry only ever removes
what is *left* of a lot, so points already spent are never taken twice.

The identities the ledger keeps (checked whenever a membership is built or loaded):

* the sum of every entry's ``points`` equals the points left in live lots;
* the sum of ``negative`` and of ``debt`` equal the membership's negative balance and debt;
* available = points left in available (matured, unexpired) lots - the negative balance.

**How queries stay fast.** The membership does not scan its history to answer. It keeps the
live lots in an index (rebuilt from the lots when a membership is loaded):

* available lots grouped in buckets by expiry instant, the bucket keys in a sorted list
  (``bisect``), each bucket a FIFO queue with its running total, and a running total of all
  of them; rolling expiry falls at the end of a local day, so there is at most one bucket per
  day (about 366 for a 12-month policy);
* pending lots in a heap by ``available_at`` (``heapq``), with their running total.

The membership advances the index lazily to ``now``: due lots mature (oldest first) and due
buckets expire (one ``expire`` entry per expiry instant) in time order. Each lot matures and
expires at most once, so the amortised cost is O(log n) per lot. Then, with *b* live expiry
buckets, *k* lots drawn and *p* pending lots:

=====================================  =======================================
query / command                        cost
=====================================  =======================================
available, pending, balance            O(1) (after the lazy advance)
redeem, negative adjust                O(k + b) (the bucket list shifts when one empties)
refund clawback                        O(k + b)
earn, activity, positive adjust        O(log p + b) (heap push or bucket insert)
points expiring by a date              O(b + p)
a repeated reference                   O(1) (a dict of (kind, reference))
=====================================  =======================================

Example:
    >>> from datetime import datetime, timezone
    >>> lot = Lot(id="lot-1", entry=1, kind="earn", source="o_1", points=120, remaining=20,
    ...           earned_at=datetime(2026, 3, 1, tzinfo=timezone.utc),
    ...           available_at=datetime(2026, 3, 15, tzinfo=timezone.utc),
    ...           expires_at=datetime(2027, 3, 2, tzinfo=timezone.utc))
    >>> lot.remaining, lot.spent
    (20, 100)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right, insort
from collections import deque
from datetime import datetime, timezone
from typing import Any, ClassVar

import attrs

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.money import Money
from crmkit.kernel.time import validate_aware, validate_optional_aware
from crmkit.loyalty._common import (
    id_field,
    non_negative_int,
    optional_id,
    optional_money,
    plain_int,
    tuple_of,
)

__all__ = [
    "EntryKind",
    "InsufficientPoints",
    "LedgerEntry",
    "Lot",
    "LotDraw",
    "PointsBalance",
]

#: The key of lots that never expire: after every real instant.
_NEVER = datetime.max.replace(tzinfo=timezone.utc)


class EntryKind(StrEnum):
    """What a ledger entry records, and what its ``reference`` names.

    * ``earn``: an order's points (reference: the order id);
    * ``activity``: an activity reward (reference: the activity's id, e.g. the review id);
    * ``redeem``: points spent on a reward or as payment (reference: the redemption's id);
    * ``adjust``: a manual adjustment, with reason and actor (reference: the adjustment id);
    * ``reverse``: a refund's clawback (reference: the refund id; ``order_id`` the order);
    * ``expire``: what was left of the lots expiring at one instant;
    * ``repay``: new points paying back a negative balance or debt (reference: the lot);
    * ``restore``: a reversed redemption giving its points back to the lots it drew from
      (reference: the redemption's id; ``draws`` lists the lots given back to, and a lot that
      expired meanwhile is left out: its points stay expired).

    Example:
        >>> EntryKind("reverse") is EntryKind.REVERSE
        True

    .. versionadded:: 0.1.0
    """

    EARN = "earn"
    ACTIVITY = "activity"
    REDEEM = "redeem"
    ADJUST = "adjust"
    REVERSE = "reverse"
    EXPIRE = "expire"
    REPAY = "repay"
    RESTORE = "restore"


def _kind(value: object) -> EntryKind:
    return v.to_enum(EntryKind, "kind")(value)


class InsufficientPoints(RuleViolation):
    """A redemption or negative adjustment asks for more points than are available.

    ``details`` holds ``requested`` and ``available``.

    Example:
        >>> InsufficientPoints.code
        'loyalty.insufficient_points'

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "loyalty.insufficient_points"


def _positive(_instance: object, attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        name = str(getattr(attribute, "name", "points"))
        raise ValidationError(f"must be an int >= 1, got {value!r}", path=name)


def _remaining(instance: Lot, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= instance.points:
        raise ValidationError(
            f"must be an int from 0 to points ({instance.points}), got {value!r}",
            path="remaining",
        )


def _lot_times(instance: Lot, _attribute: object, value: datetime | None) -> None:
    if instance.available_at < instance.earned_at:
        raise ValidationError(
            f"must not be before earned_at ({instance.earned_at.isoformat()})",
            path="available_at",
        )
    if value is not None and value <= instance.available_at:
        raise ValidationError(
            f"must be after available_at ({instance.available_at.isoformat()}), "
            f"got {value.isoformat()}",
            path="expires_at",
        )


@attrs.define(kw_only=True)
class Lot:
    """A lot of points: what one earn (or positive adjustment) created, and what is left.

    ``points`` never changes; ``remaining`` goes down as redemptions, clawbacks, repayments
    and the expiry take from it. The lot can be spent from ``available_at`` until
    ``expires_at`` (``None``: never). ``entry`` is the ledger entry that created it and
    ``source`` that entry's reference (an order id, an adjustment id).

    Example:
        >>> from datetime import datetime, timezone
        >>> t = datetime(2026, 3, 1, tzinfo=timezone.utc)
        >>> Lot(id="lot-1", entry=1, kind="earn", source="o_1", points=10, remaining=11,
        ...     earned_at=t, available_at=t, expires_at=None)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: remaining: must be an int from 0 to points (10), got 11

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=id_field)
    entry: int = attrs.field(validator=_positive)
    kind: EntryKind = attrs.field(converter=_kind)
    source: str = attrs.field(validator=id_field)
    points: int = attrs.field(validator=_positive)
    remaining: int = attrs.field(validator=_remaining)
    earned_at: datetime = attrs.field(validator=validate_aware)
    available_at: datetime = attrs.field(validator=validate_aware)
    expires_at: datetime | None = attrs.field(validator=[validate_optional_aware, _lot_times])

    @property
    def spent(self) -> int:
        """The points taken from the lot so far (by anything but its expiry)."""
        return self.points - self.remaining


@attrs.frozen
class LotDraw:
    """Points taken from one lot by one entry.

    Example:
        >>> LotDraw("lot-3", 40)
        LotDraw(lot='lot-3', points=40)

    .. versionadded:: 0.1.0
    """

    lot: str = attrs.field(validator=id_field)
    points: int = attrs.field(validator=_positive)


def _draws(value: object) -> tuple[LotDraw, ...]:
    return tuple_of(LotDraw, "draws")(value)


@attrs.frozen(kw_only=True)
class LedgerEntry:
    """One immutable line of the ledger.

    ``seq`` numbers entries from 1. ``points`` is the signed change of the points held in lots
    (an earn adds its lot; a redemption, expiry, clawback or repayment takes what ``draws``
    lists); ``negative`` and ``debt`` the signed changes of the negative balance and the debt;
    ``written_off`` the shortfall a ``write_off`` program forgave. ``lot`` is the lot the entry
    created. ``order_id`` and ``amount`` carry an earn's order and eligible spend, or a
    clawback's order and refunded amount. ``fingerprint`` identifies the command's payload, so
    the same reference with another payload is refused.

    Example:
        >>> from datetime import datetime, timezone
        >>> e = LedgerEntry(seq=2, kind="redeem", reference="rdm_1", points=-150,
        ...     at=datetime(2026, 4, 1, tzinfo=timezone.utc), purpose="reward:tumbler",
        ...     draws=[LotDraw("lot-1", 150)])
        >>> e.kind.value, e.points, e.draws[0].lot
        ('redeem', -150, 'lot-1')

    .. versionadded:: 0.1.0
    """

    seq: int = attrs.field(validator=_positive)
    kind: EntryKind = attrs.field(converter=_kind)
    reference: str = attrs.field(validator=id_field)
    at: datetime = attrs.field(validator=validate_aware)
    points: int = attrs.field(validator=plain_int)
    negative: int = attrs.field(default=0, validator=plain_int)
    debt: int = attrs.field(default=0, validator=plain_int)
    written_off: int = attrs.field(default=0, validator=non_negative_int)
    lot: str | None = attrs.field(default=None, validator=optional_id)
    draws: tuple[LotDraw, ...] = attrs.field(default=(), converter=_draws)
    order_id: str | None = attrs.field(default=None, validator=optional_id)
    amount: Money | None = attrs.field(default=None, validator=optional_money)
    purpose: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(200)
    )
    reason: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(500)
    )
    actor: str | None = attrs.field(default=None, validator=optional_id)
    fingerprint: str = attrs.field(default="", validator=v.of_type(str))


@attrs.frozen(kw_only=True)
class PointsBalance:
    """A member's points at one moment.

    ``available`` can be spent now (negative while a ``negative_balance`` program's member
    owes points); ``pending`` waits for its pending period; ``debt`` is what a ``debt``
    program's member owes (paid back from later points); ``negative`` the negative part of the
    balance.

    Example:
        >>> PointsBalance(available=120, pending=30, debt=0, negative=0).total
        150

    .. versionadded:: 0.1.0
    """

    available: int = attrs.field(validator=plain_int)
    pending: int = attrs.field(validator=non_negative_int)
    debt: int = attrs.field(validator=non_negative_int)
    negative: int = attrs.field(validator=non_negative_int)

    @property
    def total(self) -> int:
        """Available plus pending points."""
        return self.available + self.pending


_new = object.__new__
_set = object.__setattr__
_UTC = timezone.utc


def _trusted_draw(lot: str, points: int) -> LotDraw:
    """A LotDraw from values the ledger computed itself (skips the validators: hot path)."""
    draw = _new(LotDraw)
    _set(draw, "lot", lot)
    _set(draw, "points", points)
    return draw


def _trusted_redemption(
    seq: int,
    reference: str,
    at: datetime,
    points: int,
    draws: tuple[LotDraw, ...],
    purpose: str | None,
    actor: str | None,
    fingerprint: str,
) -> LedgerEntry:
    """A redeem entry from values the membership already checked (skips the validators).

    Redemption is the ledger's hot path; building the frozen entry field by field costs a
    third of what its validating ``__init__`` does. Every value here was checked by the
    caller (``reference`` and ``actor`` with ``check_id``, ``purpose`` stripped and at most
    200 characters, ``at`` aware) or computed by the ledger.
    """
    entry = _new(LedgerEntry)
    _set(entry, "seq", seq)
    _set(entry, "kind", EntryKind.REDEEM)
    _set(entry, "reference", reference)
    _set(entry, "at", at)
    _set(entry, "points", -points)
    _set(entry, "negative", 0)
    _set(entry, "debt", 0)
    _set(entry, "written_off", 0)
    _set(entry, "lot", None)
    _set(entry, "draws", draws)
    _set(entry, "order_id", None)
    _set(entry, "amount", None)
    _set(entry, "purpose", purpose)
    _set(entry, "reason", None)
    _set(entry, "actor", actor)
    _set(entry, "fingerprint", fingerprint)
    return entry


def _trusted_balance(available: int, pending: int, debt: int, negative: int) -> PointsBalance:
    """A PointsBalance from the book's own running totals (skips the validators: hot path)."""
    balance = _new(PointsBalance)
    _set(balance, "available", available)
    _set(balance, "pending", pending)
    _set(balance, "debt", debt)
    _set(balance, "negative", negative)
    return balance


def _utc(when: datetime) -> datetime:
    """``when`` in UTC: index keys share one tzinfo, so comparing them skips utcoffset()."""
    return when if when.tzinfo is _UTC else when.astimezone(_UTC)


class _LotBook:
    """The index of live lots (see the module docstring); never persisted, rebuilt on load.

    ``lots`` is the membership's own dict of live lots: the book removes a lot from it when
    nothing is left of it.
    """

    __slots__ = ("available", "buckets", "heap", "keys", "lots", "pending", "sums")

    def __init__(self, lots: dict[str, Lot], as_of: datetime) -> None:
        self.lots = lots
        self.keys: list[datetime] = []
        self.buckets: dict[datetime, deque[Lot]] = {}
        self.sums: dict[datetime, int] = {}
        self.available = 0
        self.heap: list[tuple[datetime, int, Lot]] = []
        self.pending = 0
        for lot in sorted(lots.values(), key=lambda x: (x.available_at, x.entry)):
            self.add(lot, as_of)

    def add(self, lot: Lot, as_of: datetime) -> None:
        """Index a live lot: available if ``available_at`` has come, pending otherwise."""
        if lot.available_at <= as_of:
            self.add_available(lot)
        else:
            heapq.heappush(self.heap, (_utc(lot.available_at), lot.entry, lot))
            self.pending += lot.remaining

    def add_available(self, lot: Lot) -> None:
        key = _NEVER if lot.expires_at is None else _utc(lot.expires_at)
        bucket = self.buckets.get(key)
        if bucket is None:
            insort(self.keys, key)
            bucket = self.buckets[key] = deque()
            self.sums[key] = 0
        bucket.append(lot)
        self.sums[key] += lot.remaining
        self.available += lot.remaining

    def restore(self, lot: Lot, points: int) -> None:
        """Give ``points`` back to an available lot, live or revived (a reversed redemption).

        A revived lot (not in ``lots``) takes its place in its bucket by availability and
        entry, where a freshly loaded book would put it, so reloading never reorders draws.
        """
        key = _NEVER if lot.expires_at is None else _utc(lot.expires_at)
        if lot.id in self.lots:
            _set(lot, "remaining", lot.remaining + points)
            self.sums[key] += points
            self.available += points
            return
        self.lots[lot.id] = lot
        bucket = self.buckets.get(key)
        if bucket is None:
            self.add_available(lot)
            return
        order = (lot.available_at, lot.entry)
        index = next(
            (i for i, other in enumerate(bucket) if (other.available_at, other.entry) > order),
            len(bucket),
        )
        bucket.insert(index, lot)
        self.sums[key] += lot.remaining
        self.available += lot.remaining

    def next_maturity(self) -> datetime | None:
        """When the next pending lot matures (dropping lots clawed back to nothing)."""
        heap = self.heap
        while heap and heap[0][2].remaining == 0:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def mature(self) -> Lot:
        """Move the next pending lot to the available lots and return it."""
        lot = heapq.heappop(self.heap)[2]
        self.pending -= lot.remaining
        self.add_available(lot)
        return lot

    def next_expiry(self) -> datetime | None:
        """The earliest expiry instant among available lots."""
        keys = self.keys
        return keys[0] if keys and keys[0] is not _NEVER else None

    def expire_first(self) -> list[Lot]:
        """Remove the earliest bucket; return its lots that still hold points."""
        key = self.keys.pop(0)
        bucket = self.buckets.pop(key)
        self.available -= self.sums.pop(key)
        alive = [lot for lot in bucket if lot.remaining]
        for lot in alive:
            del self.lots[lot.id]
        return alive

    def draw(self, points: int) -> tuple[LotDraw, ...]:
        """Take ``points`` (at most ``available``) from the soonest-expiring lots, FIFO."""
        draws: list[LotDraw] = []
        keys, buckets, sums = self.keys, self.buckets, self.sums
        self.available -= points
        while points:
            key = keys[0]
            bucket = buckets[key]
            lot = bucket[0]
            have = lot.remaining
            if not have:
                bucket.popleft()
                continue
            take = have if have <= points else points
            points -= take
            _set(lot, "remaining", have - take)  # 0 <= have - take <= points: no validator
            sums[key] -= take
            draws.append(_trusted_draw(lot.id, take))
            if take == have:
                bucket.popleft()
                del self.lots[lot.id]
                if not sums[key]:
                    del keys[0]
                    del buckets[key]
                    del sums[key]
        return tuple(draws)

    def take(self, lot: Lot, points: int, *, pending: bool) -> None:
        """Take ``points`` (at most what is left) from one given lot."""
        _set(lot, "remaining", lot.remaining - points)
        if pending:
            self.pending -= points
        else:
            key = _NEVER if lot.expires_at is None else _utc(lot.expires_at)
            self.available -= points
            self.sums[key] -= points
            if not self.sums[key]:
                index = bisect_left(self.keys, key)
                del self.keys[index]
                del self.buckets[key]
                del self.sums[key]
        if not lot.remaining:
            del self.lots[lot.id]

    def expiring_by(self, when: datetime) -> int:
        """Points in available and pending lots that expire at or before ``when``."""
        end = bisect_right(self.keys, _utc(when))
        total = sum(self.sums[key] for key in self.keys[:end])
        for _at, _entry, lot in self.heap:
            if lot.remaining and lot.expires_at is not None and lot.expires_at <= when:
                total += lot.remaining
        return total
