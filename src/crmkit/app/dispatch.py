"""The dispatcher: drains the outbox into deliveries and sends them, at least once, never twice.

One pass (:meth:`Dispatcher.run_once`, or :func:`dispatch` from a host's scheduler) does three
things, each in its own short transactions:

1. **Triggers** (birthdays, quiet customers, ...) emit their events for ``now``.
2. **Plan**: each committed outbox event, and each trigger event, is matched against the
   subscriptions; every (event, subscription, recipient) becomes a stored
   :class:`~crmkit.notifications.delivery.Delivery` whose id derives from its idempotency key
   ``"<event id>:<subscription>:<address>"``. Then the outbox entries are marked delivered. A
   crash between the two re-plans the same keys next time, which finds the deliveries already
   there: nothing is planned twice, nothing is lost.
3. **Deliver**: every due delivery is claimed (a lease, committed), checked against the
   contact's consent and quiet hours, sent, and its outcome committed. A failed try is retried
   with exponential backoff and jitter until the retry policy gives up; then it stays ``failed``
   with every error kept, for :meth:`Dispatcher.failed` and :meth:`Dispatcher.replay`. A
   succeeded delivery is final: its key is never sent again.

Example:
    >>> from crmkit.adapters.memory import MemoryStore, RecordingNotifier
    >>> from crmkit.customers import Customer
    >>> from crmkit.kernel import ManualClock
    >>> from crmkit.notifications import Recipient, Subscription
    >>> store, clock, outbox_reader = MemoryStore(), ManualClock(), RecordingNotifier()
    >>> with store.unit_of_work() as uow:
    ...     uow.customers.add(Customer.register(id="cus_1", name="Acme", kind="company",
    ...                                         now=clock.now()))
    ...     _ = uow.commit()
    >>> report = dispatch(store, outbox_reader, [Subscription(
    ...     name="new-customer-to-sales", event_type="customers.CustomerRegistered",
    ...     template="customer_registered", to=Recipient.address("sales@example.com"))],
    ...     clock=clock)
    >>> report.planned, report.sent, [n.recipient for n in outbox_reader.sent]
    (1, 1, ['sales@example.com'])

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from crmkit.customers import Channel, Contact
from crmkit.errors import (
    ConcurrencyError,
    CRMError,
    DeliveryError,
    DuplicateError,
    NotFoundError,
    RuleViolation,
    ValidationError,
)
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.query import Op, Query
from crmkit.kernel.time import Clock, SystemClock
from crmkit.notifications.consent import Verdict, decide
from crmkit.notifications.delivery import Delivery, DeliveryStatus, RetryPolicy, delivery_id
from crmkit.notifications.subscriptions import (
    RecipientKind,
    Subscription,
    Subscriptions,
    event_fields,
)
from crmkit.ports import Notifier, PeopleDirectory, Store, UnitOfWork

__all__ = [
    "DispatchReport",
    "Dispatcher",
    "dispatch",
]

log = logging.getLogger("crmkit.dispatch")

_QUERY_PAGE = 200


@attrs.frozen
class DispatchReport:
    """What one or more passes did, by count.

    ``planned`` deliveries were made from events (``triggered`` of those events came from
    triggers); ``sent`` succeeded; ``retrying`` failed and wait for their next try; ``failed``
    gave up (see :meth:`Dispatcher.failed`); ``deferred`` wait for quiet hours to end;
    ``suppressed`` must not be sent (consent).

    Example:
        >>> print(DispatchReport(planned=3, sent=2, retrying=1))
        planned 3, sent 2, retrying 1, failed 0, deferred 0, suppressed 0, triggered 0

    .. versionadded:: 0.1.0
    """

    planned: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    deferred: int = 0
    suppressed: int = 0
    triggered: int = 0

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in attrs.fields(DispatchReport)
            }
        )

    def __str__(self) -> str:
        return (
            ", ".join(
                f"{f.name} {getattr(self, f.name)}"
                for f in attrs.fields(DispatchReport)
                if f.name != "triggered"
            )
            + f", triggered {self.triggered}"
        )


@attrs.frozen
class _Target:
    address: str | None
    locale: str
    timezone: str
    contact_id: str | None = None
    name: str | None = None
    problem: str | None = None
    channel: str | None = None  # the contact's preferred channel, for channel="preferred"


#: The subscription channel that means "the contact's preferred channel" (email if none).
PREFERRED = "preferred"


def _subscriptions(value: object) -> Subscriptions:
    if isinstance(value, Subscriptions):
        return value
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be Subscriptions or a list of Subscription, not {type(value).__name__}",
            path="subscriptions",
        )
    return Subscriptions(tuple(value))


def _notifiers(value: object) -> Mapping[str, Notifier] | Notifier:
    if isinstance(value, Mapping):
        for channel, notifier in value.items():
            if not isinstance(notifier, Notifier):
                raise ValidationError(
                    f"must be a Notifier (with a send method), not {type(notifier).__name__}",
                    path=f"notifiers.{channel}",
                )
        return value
    if isinstance(value, Notifier):
        return value
    raise ValidationError(
        "must be a Notifier, or a dict of channel name to Notifier "
        f"(e.g. {{'email': SMTPNotifier(...)}}), not {type(value).__name__}",
        path="notifiers",
    )


class Dispatcher:
    """Turns committed events into sent notifications; see the module documentation.

    Args:
        store: where the outbox and the deliveries are.
        notifiers: one :class:`~crmkit.ports.Notifier` for every channel, or a dict of channel
            name (``"email"``, ``"webhook"``, ``"sms"``...) to notifier.
        subscriptions: which events send which template to whom.
        clock: the time source (``SystemClock`` by default).
        people: the host's user directory, for subscriptions to a record's owner or agent.
        triggers: time-based triggers to run on each pass (:mod:`crmkit.app.triggers`).
        retry: backoff and give-up policy for failed tries.
        rng: the jitter's random source (pass a seeded ``random.Random`` for repeatable runs).
        batch_size: how many outbox entries or deliveries to take per transaction.
        lease: how long a claimed delivery is held before another pass may send it again.
        default_locale, default_timezone: for recipients that name neither.
        require_opt_in: marketing needs the contact's recorded opt-in (see
            :func:`crmkit.notifications.consent.decide`).

    Example:
        >>> from crmkit.adapters.memory import MemoryStore, RecordingNotifier
        >>> dispatcher = Dispatcher(MemoryStore(), RecordingNotifier(), [])
        >>> print(dispatcher.run_once())
        planned 0, sent 0, retrying 0, failed 0, deferred 0, suppressed 0, triggered 0

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        store: Store,
        notifiers: Mapping[str, Notifier] | Notifier,
        subscriptions: Subscriptions | Iterable[Subscription],
        *,
        clock: Clock | None = None,
        people: PeopleDirectory | None = None,
        triggers: Sequence[Any] = (),
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        batch_size: int = 100,
        lease: timedelta = timedelta(minutes=5),
        default_locale: str = "en",
        default_timezone: str = "UTC",
        require_opt_in: bool = True,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValidationError(f"must be a positive int, got {batch_size!r}", path="batch_size")
        if not isinstance(lease, timedelta) or lease <= timedelta(0):
            raise ValidationError(f"must be a positive timedelta, got {lease!r}", path="lease")
        self.store = store
        self.notifiers = _notifiers(notifiers)
        self.subscriptions = _subscriptions(subscriptions)
        self.clock = clock or SystemClock()
        self.people = people
        self.triggers = tuple(triggers)
        self.retry = retry or RetryPolicy()
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.batch_size = min(batch_size, 1000)
        self.lease = lease
        self.default_locale = default_locale
        self.default_timezone = default_timezone
        self.require_opt_in = require_opt_in

    # ----- planning ----------------------------------------------------------------------

    def _target(self, uow: UnitOfWork, sub: Subscription, fields: Mapping[str, Any]) -> Any:
        """Resolve a subscription's recipient for one event; ``None`` when there is nobody."""
        locale = sub.locale or self.default_locale
        if sub.to.kind is RecipientKind.ADDRESS:
            return _Target(sub.to.value, locale, self.default_timezone)
        who = fields.get(sub.to.value)
        if who is None:
            return None  # e.g. a record without an owner: there is no one to tell
        if sub.to.kind is RecipientKind.USER:
            person = self.people.person(str(who)) if self.people is not None else None
            if person is None:
                why = "no people directory was given" if self.people is None else "unknown"
                return _Target(
                    None,
                    locale,
                    self.default_timezone,
                    problem=(
                        f"user {who!r} ({sub.to.value} of the event) is not in the people "
                        f"directory ({why})"
                    ),
                )
            address = person.address_for(sub.channel)
            return _Target(
                address,
                sub.locale or person.locale,
                person.timezone,
                name=person.name,
                problem=None if address else f"user {who!r} has no {sub.channel} address",
            )
        try:
            contact: Contact = uow.contacts.get(str(who))
        except NotFoundError:
            return _Target(
                None,
                locale,
                self.default_timezone,
                contact_id=str(who),
                problem=f"contact {who!r} does not exist",
            )
        channel = sub.channel
        if channel == PREFERRED:
            preferred = contact.preferred_channel
            channel = preferred.value if preferred is not None else "email"
        address = _contact_address(contact, channel)
        return _Target(
            address,
            sub.locale or contact.locale or self.default_locale,
            contact.timezone or self.default_timezone,
            contact_id=contact.id,
            name=contact.name,
            problem=None if address else f"contact {contact.id} has no {channel} address",
            channel=channel,
        )

    def _plan_event(self, uow: UnitOfWork, event: DomainEvent, now: datetime) -> list[Delivery]:
        subs = self.subscriptions.for_event_type(event.event_type)
        if not subs:
            return []
        fields = event_fields(event)
        planned: list[Delivery] = []
        for sub in subs:
            if not sub.matches(event, fields):
                continue
            target = self._target(uow, sub, fields)
            if target is None:
                continue
            address = target.address or f"<{sub.to.kind.value}:{fields.get(sub.to.value)}>"
            context = {**fields, **sub.context}
            if target.name is not None:
                context.setdefault("recipient_name", target.name)
            delivery = Delivery.plan(
                idempotency_key=f"{event.event_id}:{sub.name}:{address}",
                subscription=sub.name,
                event_type=event.event_type,
                event_id=event.event_id,
                recipient=address,
                channel=target.channel or sub.channel,
                template=sub.template,
                locale=target.locale,
                timezone=target.timezone,
                context=context,
                purpose=sub.purpose,
                contact_id=target.contact_id,
                urgent=sub.urgent,
                now=now,
            )
            if target.problem is not None:
                delivery.claim(now, self.lease)
                delivery.fail(now, target.problem, retryable=False, policy=self.retry)
            planned.append(delivery)
        return planned

    def _store_planned(self, events: Sequence[DomainEvent]) -> tuple[int, int]:
        """Plan deliveries for ``events`` in one transaction; return (planned, failed now)."""
        now = self.clock.now()
        with self.store.unit_of_work() as uow:
            planned: dict[str, Delivery] = {}
            for event in events:
                for delivery in self._plan_event(uow, event, now):
                    planned.setdefault(delivery.id, delivery)
            if not planned:
                return 0, 0
            existing = _existing_ids(uow, list(planned))
            new = [d for d in planned.values() if d.id not in existing]
            uow.deliveries.add_many(new)
            uow.commit()
        return len(new), sum(d.status is DeliveryStatus.FAILED for d in new)

    def plan(self) -> DispatchReport:
        """Turn every pending outbox event into deliveries, then mark the events delivered."""
        report = DispatchReport()
        while True:
            entries = self.store.outbox.pending(limit=self.batch_size)
            if not entries:
                return report
            events = [e.event for e in entries]
            planned, failed = self._retrying_conflicts(
                functools.partial(self._store_planned, events)
            )
            self.store.outbox.mark_delivered([e.position for e in entries])
            report += DispatchReport(planned=planned, failed=failed)

    def fire_triggers(self) -> DispatchReport:
        """Run every trigger at the clock's now and plan deliveries for what they emit."""
        if not self.triggers:
            return DispatchReport()
        now = self.clock.now()
        events: list[DomainEvent] = []
        with self.store.unit_of_work() as uow:
            for trigger in self.triggers:
                events.extend(trigger.fire(uow, now))
        report = DispatchReport(triggered=len(events))
        for start in range(0, len(events), self.batch_size):
            chunk = events[start : start + self.batch_size]
            planned, failed = self._retrying_conflicts(
                functools.partial(self._store_planned, chunk)
            )
            report += DispatchReport(planned=planned, failed=failed)
        return report

    @staticmethod
    def _retrying_conflicts(plan: Callable[[], tuple[int, int]]) -> tuple[int, int]:
        # Another dispatcher may plan the same keys at the same moment: the loser's commit
        # raises DuplicateError; planning again then finds them stored and adds nothing.
        for _ in range(5):
            try:
                return plan()
            except DuplicateError:
                continue
        return plan()

    # ----- delivering --------------------------------------------------------------------

    def _due_ids(self, now: datetime) -> list[str]:
        with self.store.unit_of_work() as uow:
            pending = uow.deliveries.query(
                Query.where(status=DeliveryStatus.PENDING.value)
                .filter("next_attempt_at", Op.LE, now)
                .order("next_attempt_at")
                .take(self.batch_size)
            ).items
            lapsed = uow.deliveries.query(
                Query.where(status=DeliveryStatus.SENDING.value)
                .filter("lease_until", Op.LE, now)
                .take(self.batch_size)
            ).items
        return [d.id for d in (*pending, *lapsed)]

    def _claim(self, delivery_id: str, now: datetime) -> tuple[Delivery | None, str]:
        """Check consent and claim one delivery; return it if it is to be sent now."""
        with self.store.unit_of_work() as uow:
            delivery = uow.deliveries.get(delivery_id)
            if not delivery.due(now):
                return None, "gone"
            outcome = "send"
            if delivery.contact_id is not None:
                outcome = self._apply_consent(uow, delivery, now)
            if outcome == "send":
                delivery.claim(now, self.lease)
            uow.deliveries.save(delivery)
            uow.commit()
        return (delivery if outcome == "send" else None), outcome

    def _apply_consent(self, uow: UnitOfWork, delivery: Delivery, now: datetime) -> str:
        try:
            contact = uow.contacts.get(delivery.contact_id or "")
        except NotFoundError:
            delivery.suppress(now, f"contact {delivery.contact_id} no longer exists")
            return "suppressed"
        try:
            channel = Channel(delivery.channel)
        except ValueError:
            return "send"  # not a channel to a person (a webhook to a system): no consent rules
        decision = decide(
            contact,
            channel,
            delivery.purpose,
            now,
            require_opt_in=self.require_opt_in,
            urgent=delivery.urgent,
            default_timezone=self.default_timezone,
        )
        if decision.verdict is Verdict.SUPPRESS:
            delivery.suppress(now, decision.reason)
            return "suppressed"
        if decision.verdict is Verdict.DEFER and decision.send_at is not None:
            delivery.defer(decision.send_at, decision.reason)
            return "deferred"
        delivery.note(f"{now.isoformat()}: consent: {decision.logged_as}")
        return "send"

    def _notifier_for(self, channel: str) -> Notifier | None:
        if isinstance(self.notifiers, Mapping):
            return self.notifiers.get(channel)
        return self.notifiers

    def _send(self, delivery: Delivery) -> tuple[str | None, bool]:
        """Send; return (error, retryable) — (None, False) on success."""
        notifier = self._notifier_for(delivery.channel)
        if notifier is None:
            known = ", ".join(self.notifiers) if isinstance(self.notifiers, Mapping) else ""
            return f"no notifier for channel {delivery.channel!r} (have: {known})", False
        try:
            notifier.send(delivery.notification())
        except DeliveryError as exc:
            return f"{type(exc).__name__}: {exc}", bool(exc.details.get("retryable", True))
        except (ValidationError, NotFoundError) as exc:
            # the message itself is wrong (unknown template, missing placeholder): no retry helps
            return f"{type(exc).__name__}: {exc}", False
        except Exception as exc:  # a notifier's own failure: assume it may pass next time
            return f"{type(exc).__name__}: {exc}", True
        return None, False

    def _record(self, delivery: Delivery, error: str | None, retryable: bool) -> str:
        now = self.clock.now()
        with self.store.unit_of_work() as uow:
            stored = uow.deliveries.get(delivery.id)
            if stored.version != delivery.version or stored.status is not DeliveryStatus.SENDING:
                # our lease lapsed and another pass took it over: its outcome counts
                log.warning(
                    "delivery %s was taken over while sending; outcome dropped", delivery.id
                )
                return "taken over"
            if error is None:
                stored.succeed(now)
                outcome = "sent"
            else:
                stored.fail(now, error, retryable=retryable, policy=self.retry, rng=self.rng)
                outcome = "failed" if stored.status.final else "retrying"
            uow.deliveries.save(stored)
            uow.commit()
        return outcome

    def deliver(self) -> DispatchReport:
        """Send every delivery due now; return what happened."""
        counts = {"sent": 0, "retrying": 0, "failed": 0, "deferred": 0, "suppressed": 0}
        seen: set[str] = set()
        while True:
            now = self.clock.now()
            ids = [i for i in self._due_ids(now) if i not in seen]
            if not ids:
                return DispatchReport(**counts)
            for due_id in ids:
                seen.add(due_id)
                try:
                    claimed, outcome = self._claim(due_id, now)
                except (ConcurrencyError, RuleViolation):
                    continue  # another dispatcher claimed it first
                if claimed is None:
                    if outcome in counts:
                        counts[outcome] += 1
                    continue
                error, retryable = self._send(claimed)
                try:
                    outcome = self._record(claimed, error, retryable)
                except ConcurrencyError:
                    continue
                if outcome in counts:
                    counts[outcome] += 1
                if error is not None:
                    log.info("delivery %s: %s (%s)", due_id, error, outcome)

    # ----- passes ------------------------------------------------------------------------

    def run_once(self) -> DispatchReport:
        """One full pass: triggers, planning, delivery."""
        return self.fire_triggers() + self.plan() + self.deliver()

    def follow(
        self,
        *,
        interval: float = 5.0,
        stop: threading.Event | None = None,
        passes: int | None = None,
        sleep: Callable[[float], Any] | None = None,
    ) -> DispatchReport:
        """Run passes every ``interval`` seconds until ``stop`` is set (or ``passes`` ran).

        A pass that raises a ``CRMError`` (say the database is briefly unreachable) is logged
        and the next pass tries again.
        """
        total = DispatchReport()
        done = 0
        wait = sleep or (stop.wait if stop is not None else time.sleep)
        while (stop is None or not stop.is_set()) and (passes is None or done < passes):
            try:
                total += self.run_once()
            except CRMError:
                log.exception("dispatch pass failed; trying again in %s s", interval)
            done += 1
            if passes is None or done < passes:
                wait(interval)
        return total

    # ----- inspection --------------------------------------------------------------------

    def failed(self, limit: int = 100, cursor: str | None = None) -> list[Delivery]:
        """Return failed deliveries (each with its tries and errors), oldest first."""
        with self.store.unit_of_work() as uow:
            return list(
                uow.deliveries.query(
                    Query.where(status=DeliveryStatus.FAILED.value)
                    .order("created_at")
                    .take(limit)
                    .after(cursor)
                ).items
            )

    def replay(self, delivery_id_or_key: str, *, by: str | None = None) -> Delivery:
        """Make a failed delivery due again now (by id or idempotency key); return it."""
        with self.store.unit_of_work() as uow:
            try:
                delivery = uow.deliveries.get(delivery_id_or_key)
            except (NotFoundError, ValidationError):
                delivery = uow.deliveries.get(delivery_id(delivery_id_or_key))
            delivery.replay(self.clock.now(), by=by)
            uow.deliveries.save(delivery)
            uow.commit()
        return delivery


def _existing_ids(uow: UnitOfWork, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), _QUERY_PAGE):
        chunk = ids[start : start + _QUERY_PAGE]
        page = uow.deliveries.query(Query().filter("id", Op.IN, chunk).take(len(chunk)))
        found.update(d.id for d in page.items)
    return found


def _contact_address(contact: Contact, channel: str) -> str | None:
    if channel == "email":
        return contact.emails[0] if contact.emails else None
    if channel in ("sms", "phone", "whatsapp", "line", "wechat"):
        # messaging apps are reached through the phone number the host's notifier maps
        return contact.phones[0] if contact.phones else None
    return None


def dispatch(
    store: Store,
    notifiers: Mapping[str, Notifier] | Notifier,
    subscriptions: Subscriptions | Iterable[Subscription],
    **options: Any,
) -> DispatchReport:
    """Run one dispatch pass: the function to call from cron, Celery beat or APScheduler.

    ``options`` are :class:`Dispatcher`'s keyword arguments.

    Example:
        >>> from crmkit.adapters.memory import MemoryStore, RecordingNotifier
        >>> dispatch(MemoryStore(), RecordingNotifier(), []).sent
        0

    .. versionadded:: 0.1.0
    """
    return Dispatcher(store, notifiers, subscriptions, **options).run_once()
