"""The dispatcher: outbox to deliveries, retries with backoff, consent, replay, triggers."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest

from crmkit.adapters.memory import MemoryStore, RecordingNotifier, StaticDirectory
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.dispatch import Dispatcher, DispatchReport, dispatch
from crmkit.app.triggers import BirthdayTrigger, InactiveCustomerTrigger
from crmkit.customers import Contact, Customer, Interaction
from crmkit.errors import CRMError, DeliveryError, RuleViolation, ValidationError
from crmkit.kernel import ManualClock
from crmkit.notifications import (
    DeliveryStatus,
    Recipient,
    RetryPolicy,
    Subscription,
    Subscriptions,
)
from crmkit.ports import Notification, Person, Store

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # 09:00 in Taipei, a Monday

TO_SALES = Subscription(
    name="registered-to-sales",
    event_type="customers.CustomerRegistered",
    template="customer_registered",
    to=Recipient.address("sales@example.com"),
)
NO_JITTER = RetryPolicy(first_delay=timedelta(seconds=30), jitter_percent=0, max_attempts=4)


def register(store: Store, clock: ManualClock, n: int = 1, owner: str | None = None) -> list[str]:
    ids = [f"cus_{i:05d}" for i in range(n)]
    with store.unit_of_work() as uow:
        uow.customers.add_many(
            Customer.register(id=i, name=f"Shop {i}", kind="company", now=clock.now(), owner=owner)
            for i in ids
        )
        uow.commit()
    return ids


def all_deliveries(store: Store) -> list[Any]:
    from crmkit.app.triggers import scan

    with store.unit_of_work() as uow:
        return list(scan(uow.deliveries))


class Flaky:
    """A notifier that fails on given calls (1-based) and records every call."""

    def __init__(self, fails: Any, error: Exception | None = None) -> None:
        self.fails = fails
        self.error = error or ConnectionError("connection reset by peer")
        self.calls: list[Notification] = []
        self.delivered: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.calls.append(notification)
        if self.fails(len(self.calls)):
            raise self.error
        self.delivered.append(notification)


def drain(dispatcher: Dispatcher, clock: ManualClock, passes: int = 50) -> DispatchReport:
    """Run passes, moving the clock past every backoff, until nothing is pending."""
    total = DispatchReport()
    for _ in range(passes):
        total += dispatcher.run_once()
        pending = [
            d for d in all_deliveries(dispatcher.store) if d.status is DeliveryStatus.PENDING
        ]
        if not pending:
            return total
        clock.set(max(clock.now(), max(d.next_attempt_at for d in pending)))
    raise AssertionError("the dispatcher did not drain")


# ----- routing ---------------------------------------------------------------------------


def test_an_event_reaches_each_matching_subscription_once() -> None:
    store, clock, notifier = MemoryStore(), ManualClock(T0), RecordingNotifier()
    register(store, clock, owner="usr_amy")
    people = StaticDirectory(
        [
            Person(
                id="usr_amy",
                name="Amy",
                email="amy@example.com",
                locale="zh_Hant_TW",
                timezone="Asia/Taipei",
            )
        ]
    )
    to_owner = Subscription(
        name="registered-to-owner",
        event_type="customers.CustomerRegistered",
        template="customer_registered",
        to=Recipient.user("owner"),
    )
    report = dispatch(store, notifier, [TO_SALES, to_owner], clock=clock, people=people)
    assert (report.planned, report.sent) == (2, 2)
    by_recipient = {n.recipient: n for n in notifier.sent}
    assert set(by_recipient) == {"sales@example.com", "amy@example.com"}
    amy = by_recipient["amy@example.com"]
    assert (amy.locale, amy.timezone) == ("zh_Hant_TW", "Asia/Taipei")
    assert amy.context["name"] == "Shop cus_00000"
    assert amy.context["recipient_name"] == "Amy"
    # a second pass finds nothing new: the outbox entry was handed over once
    assert dispatch(store, notifier, [TO_SALES, to_owner], clock=clock, people=people).planned == 0
    assert len(notifier.sent) == 2


def test_disabled_subscriptions_and_when_filters_send_nothing() -> None:
    store, clock, notifier = MemoryStore(), ManualClock(T0), RecordingNotifier()
    register(store, clock)
    subs = Subscriptions.of(
        TO_SALES,
        Subscription(
            name="persons-only",
            event_type="customers.CustomerRegistered",
            template="customer_registered",
            to=Recipient.address("b2c@example.com"),
            when={"kind": "person"},
        ),
    ).switch("registered-to-sales", enabled=False)
    assert dispatch(store, notifier, subs, clock=clock).planned == 0
    assert notifier.sent == []


def test_a_record_without_owner_sends_nothing_but_an_unknown_user_is_a_visible_failure() -> None:
    store, clock, notifier = MemoryStore(), ManualClock(T0), RecordingNotifier()
    register(store, clock, owner=None)
    register_owned = Customer.register(
        id="cus_owned", name="Owned", kind="company", now=T0, owner="usr_ghost"
    )
    with store.unit_of_work() as uow:
        uow.customers.add(register_owned)
        uow.commit()
    sub = Subscription(
        name="to-owner",
        event_type="customers.CustomerRegistered",
        template="customer_registered",
        to=Recipient.user("owner"),
    )
    dispatcher = Dispatcher(store, notifier, [sub], clock=clock, people=StaticDirectory([]))
    report = dispatcher.run_once()
    assert (report.planned, report.sent, report.failed) == (1, 0, 1)
    (failed,) = dispatcher.failed()
    assert "usr_ghost" in (failed.last_error or "")
    assert notifier.sent == []


def test_contact_recipients_use_the_contacts_address_language_and_zone() -> None:
    store, clock, notifier = MemoryStore(), ManualClock(T0), RecordingNotifier()
    with store.unit_of_work() as uow:
        uow.contacts.add(
            Contact.add(
                id="con_1",
                customer_id="cus_1",
                name="Mei",
                now=T0,
                emails=["mei@example.tw"],
                locale="zh_Hant_TW",
                timezone="Asia/Taipei",
            )
            if hasattr(Contact, "add")
            else Contact(
                id="con_1",
                customer_id="cus_1",
                name="Mei",
                emails=("mei@example.tw",),
                locale="zh_Hant_TW",
                timezone="Asia/Taipei",
            )
        )
        uow.commit()
    sub = Subscription(
        name="birthday",
        event_type="notifications.BirthdayDue",
        template="birthday_greeting",
        to=Recipient.contact("aggregate_id"),
        context={"business": "Formosa Tea"},
    )
    with store.unit_of_work() as uow:
        contact = uow.contacts.get("con_1")
        contact.birthday = date(1990, 3, 2)
        uow.contacts.save(contact)
        uow.commit()
    dispatcher = Dispatcher(store, notifier, [sub], clock=clock, triggers=[BirthdayTrigger()])
    report = dispatcher.run_once()
    assert (report.triggered, report.sent) == (1, 1)
    (sent,) = notifier.sent
    assert (sent.recipient, sent.locale, sent.timezone) == (
        "mei@example.tw",
        "zh_Hant_TW",
        "Asia/Taipei",
    )
    # the trigger fires again on the next pass the same day: same event id, nothing new
    clock.advance(timedelta(hours=3))
    assert dispatcher.run_once().planned == 0
    assert len(notifier.sent) == 1


# ----- retries, backoff, failures, replay ---------------------------------------------------


def test_a_flaky_notifier_is_retried_with_exponential_backoff_until_it_succeeds() -> None:
    store, clock = MemoryStore(), ManualClock(T0)
    register(store, clock)
    notifier = Flaky(lambda call: call <= 2)
    dispatcher = Dispatcher(store, notifier, [TO_SALES], clock=clock, retry=NO_JITTER)
    assert dispatcher.run_once().retrying == 1
    (d,) = all_deliveries(store)
    assert d.next_attempt_at == T0 + timedelta(seconds=30)
    assert dispatcher.run_once().sent == 0  # not due yet: nothing is sent early
    clock.set(d.next_attempt_at)
    assert dispatcher.run_once().retrying == 1
    (d,) = all_deliveries(store)
    assert d.next_attempt_at == clock.now() + timedelta(seconds=60)
    clock.set(d.next_attempt_at)
    assert dispatcher.run_once().sent == 1
    (d,) = all_deliveries(store)
    assert d.status is DeliveryStatus.SUCCEEDED
    assert [a.error is None for a in d.attempts] == [False, False, True]
    assert {n.idempotency_key for n in notifier.calls} == {d.idempotency_key}
    assert len(notifier.calls) == 3


def test_jitter_stays_within_the_policy() -> None:
    policy = RetryPolicy(first_delay=timedelta(seconds=10), jitter_percent=50, max_attempts=10)
    rng = random.Random(7)
    for tries in range(1, 10):
        full = min(timedelta(seconds=10) * 2 ** (tries - 1), policy.max_delay)
        delay = policy.delay(tries, rng)
        assert full / 2 <= delay <= full


def test_permanent_errors_fail_at_once_and_replay_sends_again_with_the_same_key() -> None:
    store, clock = MemoryStore(), ManualClock(T0)
    register(store, clock)
    notifier = Flaky(
        lambda call: call == 1,
        DeliveryError("550 mailbox unavailable", details={"retryable": False}),
    )
    dispatcher = Dispatcher(store, notifier, [TO_SALES], clock=clock, retry=NO_JITTER)
    assert dispatcher.run_once().failed == 1
    (failed,) = dispatcher.failed()
    assert "550 mailbox unavailable" in (failed.last_error or "")
    replayed = dispatcher.replay(failed.idempotency_key, by="usr_ops")
    assert replayed.status is DeliveryStatus.PENDING
    assert dispatcher.run_once().sent == 1
    assert dispatcher.failed() == []
    assert [n.idempotency_key for n in notifier.calls] == [failed.idempotency_key] * 2
    with pytest.raises(RuleViolation, match="never sent twice"):
        dispatcher.replay(failed.id)


def test_the_policy_gives_up_after_max_attempts_and_keeps_every_error() -> None:
    store, clock = MemoryStore(), ManualClock(T0)
    register(store, clock)
    notifier = Flaky(lambda call: True)
    dispatcher = Dispatcher(store, notifier, [TO_SALES], clock=clock, retry=NO_JITTER)
    report = drain(dispatcher, clock)
    assert (report.retrying, report.failed, report.sent) == (3, 1, 0)
    (failed,) = dispatcher.failed()
    assert len(failed.attempts) == 4
    assert all("connection reset" in (a.error or "") for a in failed.attempts)


def test_a_missing_notifier_for_the_channel_is_a_visible_permanent_failure() -> None:
    store, clock = MemoryStore(), ManualClock(T0)
    register(store, clock)
    sms = Subscription(
        name="sms",
        event_type="customers.CustomerRegistered",
        template="customer_registered",
        to=Recipient.address("+886912345678"),
        channel="sms",
    )
    dispatcher = Dispatcher(store, {"email": RecordingNotifier()}, [sms], clock=clock)
    assert dispatcher.run_once().failed == 1
    assert "no notifier for channel 'sms'" in (dispatcher.failed()[0].last_error or "")


def test_a_lapsed_lease_sends_again_with_the_same_key() -> None:
    """A dispatcher that dies after claiming leaves the delivery to the next pass."""
    store, clock, notifier = MemoryStore(), ManualClock(T0), RecordingNotifier()
    register(store, clock)
    crashed = Dispatcher(store, notifier, [TO_SALES], clock=clock, lease=timedelta(minutes=2))
    crashed.plan()
    (d,) = all_deliveries(store)
    crashed._claim(d.id, clock.now())  # claimed and committed, then the process died
    assert Dispatcher(store, notifier, [TO_SALES], clock=clock).deliver().sent == 0
    clock.advance(timedelta(minutes=2))
    assert Dispatcher(store, notifier, [TO_SALES], clock=clock).deliver().sent == 1
    (d,) = all_deliveries(store)
    assert d.status is DeliveryStatus.SUCCEEDED
    assert any("lease lapsed" in note for note in d.notes)


def test_planning_twice_after_a_crash_before_marking_the_outbox_plans_nothing_new() -> None:
    store, clock, notifier = MemoryStore(), ManualClock(T0), RecordingNotifier()
    register(store, clock, n=3)
    dispatcher = Dispatcher(store, notifier, [TO_SALES], clock=clock)
    entries = store.outbox.pending()
    dispatcher._store_planned([e.event for e in entries])  # planned, then died before marking
    assert dispatcher.plan().planned == 0  # the same keys are found, nothing planned twice
    assert dispatcher.deliver().sent == 3
    assert len(notifier.sent) == 3


# ----- the fault test ---------------------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite-file"])
def fault_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        yield MemoryStore()
    else:
        store = SQLiteStore(tmp_path / "crm.db")
        yield store
        store.close()


def test_every_third_call_failing_across_1000_events_loses_and_duplicates_nothing(
    fault_store: Store,
) -> None:
    clock = ManualClock(T0)
    ids = register(fault_store, clock, n=1000)
    notifier = Flaky(lambda call: call % 3 == 0)
    patient = RetryPolicy(first_delay=timedelta(seconds=30), max_attempts=30)
    dispatcher = Dispatcher(
        fault_store, notifier, [TO_SALES], clock=clock, retry=patient, rng=random.Random(1)
    )
    report = drain(dispatcher, clock)
    assert report.failed == 0, report
    delivered = Counter(n.context["aggregate_id"] for n in notifier.delivered)
    assert set(delivered) == set(ids)  # none lost
    assert max(delivered.values()) == 1  # none duplicated on the successful side
    assert report.sent == 1000 and report.failed == 0
    deliveries = all_deliveries(fault_store)
    assert len(deliveries) == 1000
    assert all(d.status is DeliveryStatus.SUCCEEDED for d in deliveries)
    failures = [a for d in deliveries for a in d.attempts if a.error is not None]
    assert len(failures) == len(notifier.calls) - 1000 == report.retrying
    assert all("connection reset by peer" in (a.error or "") for a in failures)
    assert fault_store.outbox.pending() == []


# ----- consent and quiet hours ------------------------------------------------------------


def _contact_with(store: Store, **changes: Any) -> None:
    contact = Contact(
        id="con_1",
        customer_id="cus_1",
        name="Mei",
        emails=("mei@example.tw",),
        timezone="Asia/Taipei",
    )
    if changes.get("opted_out"):
        contact.record_consent(
            "email", False, source="unsubscribe link", now=T0 - timedelta(days=1)
        )
    if changes.get("opted_in"):
        contact.record_consent("email", True, source="web form", now=T0 - timedelta(days=1))
    if changes.get("quiet"):
        contact.set_quiet_hours(("08:00", "12:00"), now=T0 - timedelta(days=1))
    with store.unit_of_work() as uow:
        uow.contacts.add(contact)
        uow.commit()


def _greeting(purpose: str) -> Subscription:
    return Subscription(
        name=f"birthday-{purpose}",
        event_type="notifications.BirthdayDue",
        template="birthday_greeting",
        to=Recipient.contact("aggregate_id"),
        purpose=purpose,
        context={"business": "Formosa Tea"},
    )


class Today:
    """A trigger that says it is con_1's birthday."""

    name = "today"

    def fire(self, uow: Any, now: datetime) -> list[Any]:
        from crmkit.notifications import BirthdayDue, occurrence_id

        return [
            BirthdayDue(
                aggregate_id="con_1",
                occurred_at=now,
                customer_id="cus_1",
                name="Mei",
                birthday=date(1990, 3, 2),
                event_id=occurrence_id("t", "con_1", "2026"),
            )
        ]


def test_marketing_to_an_opted_out_contact_is_suppressed_with_the_reason() -> None:
    store, clock, notifier = MemoryStore(), ManualClock(T0), RecordingNotifier()
    _contact_with(store, opted_out=True)
    dispatcher = Dispatcher(
        store, notifier, [_greeting("marketing")], clock=clock, triggers=[Today()]
    )
    assert dispatcher.run_once().suppressed == 1
    assert notifier.sent == []
    (d,) = all_deliveries(store)
    assert d.status is DeliveryStatus.SUPPRESSED
    assert "unsubscribe link" in " ".join(d.notes)


def test_transactional_messages_reach_an_opted_out_contact_and_are_logged_as_such() -> None:
    store, clock, notifier = MemoryStore(), ManualClock(T0), RecordingNotifier()
    _contact_with(store, opted_out=True)
    dispatcher = Dispatcher(
        store, notifier, [_greeting("transactional")], clock=clock, triggers=[Today()]
    )
    assert dispatcher.run_once().sent == 1
    (d,) = all_deliveries(store)
    assert any("transactional" in note and "consent" in note for note in d.notes)


def test_quiet_hours_defer_the_message_and_it_goes_when_they_end() -> None:
    store, clock, notifier = MemoryStore(), ManualClock(T0), RecordingNotifier()
    _contact_with(store, opted_in=True, quiet=True)  # 08:00-12:00 Taipei; now is 09:00 there
    dispatcher = Dispatcher(
        store, notifier, [_greeting("marketing")], clock=clock, triggers=[Today()]
    )
    assert dispatcher.run_once().deferred == 1
    assert notifier.sent == []
    (d,) = all_deliveries(store)
    assert d.next_attempt_at == datetime(2026, 3, 2, 4, 0, tzinfo=timezone.utc)  # 12:00 Taipei
    assert d.tries == 0  # waiting for quiet hours uses no try
    clock.set(d.next_attempt_at)
    assert dispatcher.run_once().sent == 1


# ----- triggers, follow, bad input ----------------------------------------------------------


def test_inactive_customers_fire_once_per_quiet_spell() -> None:
    store, clock, notifier = MemoryStore(), ManualClock(T0), RecordingNotifier()
    register(store, clock, n=2)
    with store.unit_of_work() as uow:
        uow.interactions.add(
            Interaction(
                id="int_1",
                customer_id="cus_00001",
                kind="call",
                occurred_at=T0 + timedelta(days=100),
                summary="Checked in",
            )
        )
        uow.commit()
    sub = Subscription(
        name="attention",
        event_type="notifications.CustomerNeedsAttention",
        template="customer_needs_attention",
        to=Recipient.address("sales@example.com"),
    )
    dispatcher = Dispatcher(
        store, notifier, [sub], clock=clock, triggers=[InactiveCustomerTrigger()]
    )
    dispatcher.plan()  # the registrations have no subscription: the outbox is just emptied
    clock.set(T0 + timedelta(days=200))
    assert dispatcher.run_once().sent == 1  # cus_00000 has been quiet since registering
    clock.advance(timedelta(days=1))
    assert dispatcher.run_once().planned == 0  # same spell: not again
    clock.set(T0 + timedelta(days=290))
    assert dispatcher.run_once().sent == 1  # now cus_00001 too
    assert sorted(n.context["aggregate_id"] for n in notifier.sent) == ["cus_00000", "cus_00001"]


def test_follow_runs_passes_until_told_to_stop() -> None:
    store, clock, notifier = MemoryStore(), ManualClock(T0), RecordingNotifier()
    waits: list[float] = []
    dispatcher = Dispatcher(store, notifier, [TO_SALES], clock=clock)

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        register(store, clock, n=1) if len(waits) == 1 else None

    total = dispatcher.follow(interval=2.5, passes=3, sleep=sleep)
    assert total.sent == 1 and waits == [2.5, 2.5]


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"notifiers": object()}, "notifiers"),
        ({"subscriptions": "welcome"}, "subscriptions"),
        ({"batch_size": 0}, "batch_size"),
        ({"lease": timedelta(0)}, "lease"),
    ],
)
def test_bad_configuration_is_refused_with_the_field_named(
    kwargs: dict[str, Any], path: str
) -> None:
    args: dict[str, Any] = {"notifiers": RecordingNotifier(), "subscriptions": [TO_SALES]}
    args.update(kwargs)
    with pytest.raises(ValidationError) as info:
        Dispatcher(MemoryStore(), **args)
    assert path in str(info.value)


def test_errors_are_crm_errors() -> None:
    assert issubclass(DeliveryError, CRMError)


def test_the_preferred_channel_follows_the_contacts_preference() -> None:
    store, clock = MemoryStore(), ManualClock(T0)
    contact = Contact(
        id="con_1", customer_id="cus_1", name="Mei", emails=("mei@example.tw",),
        phones=("+886912345678",), timezone="Asia/Taipei",
    )  # fmt: skip
    contact.set_preferred_channel("sms", now=T0)
    with store.unit_of_work() as uow:
        uow.contacts.add(contact)
        uow.commit()
    sms, email = RecordingNotifier(), RecordingNotifier()
    sub = attrs.evolve(_greeting("transactional"), channel="preferred")
    Dispatcher(store, {"sms": sms, "email": email}, [sub], clock=clock,
               triggers=[Today()]).run_once()  # fmt: skip
    assert [n.recipient for n in sms.sent] == ["+886912345678"] and email.sent == []
