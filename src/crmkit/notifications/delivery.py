"""Deliveries: one notification on its way to one recipient, with every attempt kept.

The dispatcher plans a :class:`Delivery` for each (event, subscription, recipient) and stores it
before it sends anything. Its id is derived from the idempotency key, so planning the same key
twice finds the first delivery instead of making a second one. A delivery's life::

    pending --claim--> sending --succeed--> succeeded            (final: never sent again)
                          |----fail, retryable----> pending      (next_attempt_at = now + backoff)
                          |----fail, permanent or out of tries--> failed --replay--> pending
    pending --suppress--> suppressed   (consent said no; the reason is kept)
    pending --defer-----> pending      (quiet hours; next_attempt_at moves, no try is used)

A claim holds a lease: a dispatcher that dies while sending leaves the delivery ``sending`` until
the lease runs out, then another pass sends it again with the same idempotency key (at least
once; receivers that honour the key see it once).

Example:
    >>> from datetime import datetime, timedelta, timezone
    >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    >>> d = Delivery.plan(idempotency_key="evt_1:welcome:amy@example.com", subscription="welcome",
    ...     event_type="customers.CustomerRegistered", recipient="amy@example.com",
    ...     channel="email", template="customer_registered", locale="en", now=now)
    >>> d.claim(now)
    >>> d.fail(now, "SMTP 451 try later", retryable=True, policy=RetryPolicy(jitter_percent=0))
    >>> d.status.value, d.next_attempt_at - now, d.attempts[-1].error
    ('pending', datetime.timedelta(seconds=30), 'SMTP 451 try later')
    >>> d.claim(d.next_attempt_at)
    >>> d.succeed(d.next_attempt_at)
    >>> d.status.value, len(d.attempts)
    ('succeeded', 2)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import attrs

from crmkit.customers import Purpose
from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.query import RecordType
from crmkit.kernel.time import ensure_aware, validate_aware, validate_optional_aware
from crmkit.notifications.context import decode_context, encode_context
from crmkit.ports import Notification

__all__ = [
    "Attempt",
    "DELIVERIES",
    "Delivery",
    "DeliveryStatus",
    "RetryPolicy",
    "delivery_id",
]


class DeliveryStatus(StrEnum):
    """Where a delivery is in its life.

    Example:
        >>> DeliveryStatus("succeeded").final
        True

    .. versionadded:: 0.1.0
    """

    PENDING = "pending"
    SENDING = "sending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SUPPRESSED = "suppressed"

    @property
    def final(self) -> bool:
        """Whether nothing more happens to it without a replay."""
        return self in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED, DeliveryStatus.SUPPRESSED)


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"must be a positive int, got {value!r}", path=attribute.name)


def _positive_delay(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError(f"must be a positive timedelta, got {value!r}", path=attribute.name)


def _percent(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValidationError(f"must be an int from 0 to 100, got {value!r}", path=attribute.name)


@attrs.frozen
class RetryPolicy:
    """How often and how late a failed delivery is tried again: exponential backoff with jitter.

    Try ``n`` (1-based) that fails waits ``min(first_delay * multiplier ** (n - 1), max_delay)``,
    less a random share of up to ``jitter_percent`` of it (so many failed deliveries do not all
    come back at once), then is tried again, until ``max_attempts`` tries have failed.

    Example:
        >>> policy = RetryPolicy(first_delay=timedelta(seconds=10), jitter_percent=0)
        >>> [policy.delay(n, random.Random(0)).total_seconds() for n in (1, 2, 3)]
        [10.0, 20.0, 40.0]
        >>> policy.gives_up(8), policy.gives_up(7)
        (True, False)

    .. versionadded:: 0.1.0
    """

    max_attempts: int = attrs.field(default=8, validator=_positive)
    first_delay: timedelta = attrs.field(default=timedelta(seconds=30), validator=_positive_delay)
    multiplier: int = attrs.field(default=2, validator=_positive)
    max_delay: timedelta = attrs.field(default=timedelta(hours=6), validator=_positive_delay)
    jitter_percent: int = attrs.field(default=50, validator=_percent)

    def delay(self, tries: int, rng: random.Random) -> timedelta:
        """Return how long to wait after the ``tries``-th failed try."""
        growth = self.multiplier ** max(tries - 1, 0)  # an int: no overflow before the cap
        cap = self.max_delay / self.first_delay
        base = self.max_delay if growth >= cap else self.first_delay * growth
        share = rng.random() * self.jitter_percent / 100
        return base * (1 - share)

    def gives_up(self, tries: int) -> bool:
        """Whether ``tries`` failed tries are the last allowed."""
        return tries >= self.max_attempts


@attrs.frozen
class Attempt:
    """One try to send: when, and the error if it failed (``None`` when it succeeded).

    Example:
        >>> from datetime import datetime, timezone
        >>> Attempt(at=datetime(2026, 1, 5, tzinfo=timezone.utc), error="timeout").succeeded
        False

    .. versionadded:: 0.1.0
    """

    at: datetime = attrs.field(validator=validate_aware)
    error: str | None = None
    retryable: bool = False

    @property
    def succeeded(self) -> bool:
        """Whether this try delivered the notification."""
        return self.error is None


def delivery_id(idempotency_key: str) -> str:
    """Return the delivery id for an idempotency key (stable, at most 64 characters).

    Example:
        >>> delivery_id("evt_1:welcome:amy@example.com")
        'dlv_eb914e6bd7bcd13c0b6cce34a70420d44cbd414d'
        >>> key = "evt_1:welcome:amy@example.com"
        >>> delivery_id(key) == delivery_id(key)
        True

    .. versionadded:: 0.1.0
    """
    return "dlv_" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]


def _status(value: object) -> DeliveryStatus:
    return DeliveryStatus(value)


def _purpose(value: object) -> Purpose:
    return Purpose(value)


_MAX_ERROR = 2000


@attrs.define(kw_only=True)
class Delivery(Aggregate):
    """One notification to one recipient: what to send, its status, and every try so far.

    Build one with :meth:`plan`. ``context`` holds the template's values in their stored form
    (see :mod:`crmkit.notifications.context`); :meth:`notification` gives them back as Money,
    datetimes and so on. ``notes`` explains what happened besides tries: consent decisions,
    deferrals for quiet hours, replays.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
        >>> d = Delivery.plan(idempotency_key="k1", subscription="ops", event_type="x.Y",
        ...     recipient="ops@example.com", channel="email", template="sla_breached",
        ...     locale="zh_Hant_TW", now=now, context={"ticket": "T-1"})
        >>> d.id == delivery_id("k1"), d.status.value, d.notification().context
        (True, 'pending', {'ticket': 'T-1'})

    .. versionadded:: 0.1.0
    """

    idempotency_key: str = attrs.field(validator=v.text(500))
    subscription: str = attrs.field(validator=v.text(200))
    event_type: str = attrs.field(validator=v.text(200))
    event_id: str | None = None
    recipient: str = attrs.field(validator=v.text(500))
    channel: str = attrs.field(validator=v.text(50))
    template: str = attrs.field(validator=v.text(200))
    locale: str = attrs.field(validator=v.text(50))
    timezone: str = "UTC"
    context: dict[str, Any] = attrs.field(factory=dict)
    purpose: Purpose = attrs.field(default=Purpose.TRANSACTIONAL, converter=_purpose)
    contact_id: str | None = None
    urgent: bool = False
    created_at: datetime = attrs.field(validator=validate_aware)
    status: DeliveryStatus = attrs.field(default=DeliveryStatus.PENDING, converter=_status)
    next_attempt_at: datetime = attrs.field(validator=validate_aware)
    lease_until: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    tries: int = 0
    attempts: tuple[Attempt, ...] = ()
    notes: tuple[str, ...] = ()
    delivered_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)

    @classmethod
    def plan(
        cls,
        *,
        idempotency_key: str,
        subscription: str,
        event_type: str,
        recipient: str,
        channel: str,
        template: str,
        locale: str,
        now: datetime,
        timezone: str = "UTC",
        context: Mapping[str, Any] | None = None,
        event_id: str | None = None,
        purpose: Purpose | str = Purpose.TRANSACTIONAL,
        contact_id: str | None = None,
        urgent: bool = False,
    ) -> Delivery:
        """Plan a delivery, due now; its id comes from the idempotency key."""
        if not isinstance(idempotency_key, str) or not idempotency_key:
            raise ValidationError(
                "must be a non-empty string naming this message uniquely",
                path="idempotency_key",
            )
        now = ensure_aware(now, "now")
        return cls(
            id=delivery_id(idempotency_key),
            idempotency_key=idempotency_key,
            subscription=subscription,
            event_type=event_type,
            event_id=event_id,
            recipient=recipient,
            channel=channel,
            template=template,
            locale=locale,
            timezone=timezone,
            context=encode_context(context or {}),
            purpose=purpose,
            contact_id=contact_id,
            urgent=urgent,
            created_at=now,
            next_attempt_at=now,
        )

    def notification(self) -> Notification:
        """Return the :class:`~crmkit.ports.Notification` a notifier is given."""
        return Notification(
            recipient=self.recipient,
            channel=self.channel,
            template=self.template,
            locale=self.locale,
            context=decode_context(self.context),
            idempotency_key=self.idempotency_key,
            timezone=self.timezone,
        )

    def due(self, now: datetime) -> bool:
        """Whether a dispatcher may claim it at ``now``: pending and due, or a lapsed lease."""
        if self.status is DeliveryStatus.PENDING:
            return self.next_attempt_at <= now
        if self.status is DeliveryStatus.SENDING:
            return self.lease_until is not None and self.lease_until <= now
        return False

    def claim(self, now: datetime, lease: timedelta = timedelta(minutes=5)) -> None:
        """Take it for sending until ``now + lease``; refuse if it is not :meth:`due`."""
        now = ensure_aware(now, "now")
        if not self.due(now):
            raise RuleViolation(
                f"delivery {self.id} is {self.status.value}"
                + (
                    f" until {self.next_attempt_at.isoformat()}"
                    if self.status is DeliveryStatus.PENDING
                    else ""
                )
                + "; only a due pending delivery, or one whose lease ran out, can be claimed"
            )
        if self.status is DeliveryStatus.SENDING:
            self.notes += (f"{now.isoformat()}: lease lapsed; sending again with the same key",)
        self.status = DeliveryStatus.SENDING
        self.lease_until = now + lease

    def _check_sending(self, action: str) -> None:
        if self.status is not DeliveryStatus.SENDING:
            raise RuleViolation(
                f"cannot {action} delivery {self.id}: it is {self.status.value}, not sending; "
                "claim it first"
            )

    def succeed(self, now: datetime) -> None:
        """Record a successful try. The delivery is final: it is never sent again."""
        now = ensure_aware(now, "now")
        self._check_sending("record success for")
        self.tries += 1
        self.attempts += (Attempt(at=now),)
        self.status = DeliveryStatus.SUCCEEDED
        self.delivered_at = now
        self.lease_until = None

    def fail(
        self,
        now: datetime,
        error: str,
        *,
        retryable: bool,
        policy: RetryPolicy | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Record a failed try; schedule the next with backoff, or give up (``failed``)."""
        now = ensure_aware(now, "now")
        self._check_sending("record failure for")
        policy = policy or RetryPolicy()
        self.tries += 1
        message = str(error)[:_MAX_ERROR] or "unknown error"
        self.attempts += (Attempt(at=now, error=message, retryable=retryable),)
        self.lease_until = None
        if not retryable or policy.gives_up(self.tries):
            self.status = DeliveryStatus.FAILED
            why = "permanent error" if not retryable else f"{self.tries} tries failed"
            self.notes += (f"{now.isoformat()}: gave up ({why}); replay to try again",)
            return
        self.status = DeliveryStatus.PENDING
        self.next_attempt_at = now + policy.delay(self.tries, rng or random.Random())  # noqa: S311

    def defer(self, until: datetime, reason: str) -> None:
        """Move a pending or claimed delivery to ``until`` without using a try (quiet hours)."""
        until = ensure_aware(until, "until")
        if self.status not in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            raise RuleViolation(f"cannot defer delivery {self.id}: it is {self.status.value}")
        self.status = DeliveryStatus.PENDING
        self.lease_until = None
        self.next_attempt_at = until
        self.notes += (f"deferred to {until.isoformat()}: {reason}",)

    def suppress(self, now: datetime, reason: str) -> None:
        """Stop a pending or claimed delivery for good because it must not be sent (consent)."""
        now = ensure_aware(now, "now")
        if self.status not in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            raise RuleViolation(f"cannot suppress delivery {self.id}: it is {self.status.value}")
        self.status = DeliveryStatus.SUPPRESSED
        self.lease_until = None
        self.notes += (f"{now.isoformat()}: suppressed: {reason}",)

    def note(self, text: str) -> None:
        """Add an explanation to the delivery's record (e.g. how consent logged it)."""
        self.notes += (str(text),)

    def replay(self, now: datetime, *, by: str | None = None) -> None:
        """Send a failed delivery again, with a fresh set of tries and the same key.

        A succeeded delivery is never replayed: its receiver already has it.
        """
        now = ensure_aware(now, "now")
        if self.status is not DeliveryStatus.FAILED:
            raise RuleViolation(
                f"cannot replay delivery {self.id}: it is {self.status.value}; "
                "only failed deliveries are replayed (a succeeded one is never sent twice)"
            )
        self.status = DeliveryStatus.PENDING
        self.tries = 0
        self.next_attempt_at = now
        self.notes += (f"{now.isoformat()}: replayed" + (f" by {by}" if by else ""),)

    @property
    def last_error(self) -> str | None:
        """The error of the latest try, if it failed."""
        return self.attempts[-1].error if self.attempts else None


#: Deliveries: queryable by status, when due, lease, subscription, event, contact and creation.
DELIVERIES: RecordType[Delivery] = RecordType(
    "deliveries",
    Delivery,
    {
        "status": lambda d: d.status.value,
        "next_attempt_at": lambda d: d.next_attempt_at,
        "lease_until": lambda d: d.lease_until,
        "subscription": lambda d: d.subscription,
        "event_type": lambda d: d.event_type,
        "event_id": lambda d: d.event_id,
        "contact_id": lambda d: d.contact_id,
        "channel": lambda d: d.channel,
        "created_at": lambda d: d.created_at,
    },
    kinds={"next_attempt_at": "datetime", "lease_until": "datetime", "created_at": "datetime"},
)
