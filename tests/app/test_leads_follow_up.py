"""Speed to lead end to end: capture, the deadline passes, the trigger fires, the dispatcher
reminds the owner through the built-in ``lead_follow_up_due`` template, once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit import CRM, ManualClock, bootstrap
from crmkit.adapters.memory import MemoryStore, RecordingNotifier, StaticDirectory
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.dispatch import Dispatcher
from crmkit.app.leads import LeadSettings
from crmkit.app.triggers import LeadFollowUpTrigger
from crmkit.kernel import SequentialIds
from crmkit.notifications import (
    TEMPLATES,
    LeadFollowUpOverdue,
    Recipient,
    Subscription,
    TemplateRenderer,
)
from crmkit.ports import Person
from crmkit.serialization import structure, unstructure

TPE = ZoneInfo("Asia/Taipei")
MONDAY_9AM = datetime(2026, 3, 2, 9, 0, tzinfo=TPE)
DUE = datetime(2026, 3, 4, 15, 0, tzinfo=TPE)  # 24 business hours later

REMIND_OWNER = Subscription(
    name="remind-owner",
    event_type="notifications.LeadFollowUpOverdue",
    template="lead_follow_up_due",
    to=Recipient.user("owner"),
)
PEOPLE = StaticDirectory(
    [
        Person(
            id="u_amy",
            name="Amy Lin",
            email="amy@example.com",
            locale="zh_Hant_TW",
            timezone="Asia/Taipei",
        )
    ]
)


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest) -> Iterator[CRM]:
    store = MemoryStore() if request.param == "memory" else SQLiteStore(":memory:")
    yield bootstrap(
        store=store,
        clock=ManualClock(MONDAY_9AM),
        ids=SequentialIds(),
        leads=LeadSettings(timezone="Asia/Taipei"),
    )
    if isinstance(store, SQLiteStore):
        store.close()


def dispatcher(crm: CRM, notifier: RecordingNotifier) -> Dispatcher:
    return Dispatcher(
        crm.store,
        notifier,
        [REMIND_OWNER],
        clock=crm.clock,
        people=PEOPLE,
        triggers=[LeadFollowUpTrigger(people=PEOPLE)],
    )


def set_clock(crm: CRM, when: datetime) -> None:
    assert isinstance(crm.clock, ManualClock)
    crm.clock.set(when)


def test_the_owner_is_reminded_once_when_the_deadline_passes(crm: CRM) -> None:
    notifier = RecordingNotifier()
    lead = crm.capture_lead(
        "web_form", name="Bob Wang", company="Formosa Tea", email="bob@tea.example", owner="u_amy"
    ).lead
    assert lead.follow_up_due_at == DUE
    run = dispatcher(crm, notifier)
    set_clock(crm, DUE - timedelta(minutes=1))
    assert run.run_once().triggered == 0
    set_clock(crm, DUE)
    report = run.run_once()
    assert (report.triggered, report.sent) == (1, 1)
    (sent,) = notifier.sent
    assert (sent.recipient, sent.template, sent.locale) == (
        "amy@example.com",
        "lead_follow_up_due",
        "zh_Hant_TW",
    )
    assert sent.context["lead"] == "Bob Wang" and sent.context["name"] == "Amy Lin"
    assert sent.context["company"] == "Formosa Tea" and sent.context["owner"] == "u_amy"
    # the context holds every placeholder of the built-in template, so it renders
    assert TEMPLATES["lead_follow_up_due"].placeholders <= set(sent.context)
    message = TemplateRenderer().render(sent)
    assert "Bob Wang" in message.subject and "Amy Lin" in message.text
    set_clock(crm, DUE + timedelta(hours=2))
    assert run.run_once().planned == 0  # the same deadline: never again
    assert len(notifier.sent) == 1


def test_a_contacted_or_closed_lead_is_not_reminded(crm: CRM) -> None:
    notifier = RecordingNotifier()
    called = crm.capture_lead("web_form", email="a@tea.example", owner="u_amy").lead
    closed = crm.capture_lead("web_form", email="b@tea.example", owner="u_amy").lead
    crm.capture_lead("web_form", email="c@tea.example", owner="u_amy")
    crm.log_lead_activity(called.id, "call", by="u_amy")
    crm.disqualify_lead(closed.id, "spam")
    set_clock(crm, DUE + timedelta(days=1))
    assert dispatcher(crm, notifier).run_once().sent == 1
    assert [n.context["lead"] for n in notifier.sent] == ["c@tea.example"]


def test_a_lead_without_an_owner_reaches_a_fixed_address_with_its_own_greeting(
    crm: CRM,
) -> None:
    notifier = RecordingNotifier()
    crm.capture_lead("phone", phone="+886912345678")
    to_desk = Subscription(
        name="remind-desk",
        event_type="notifications.LeadFollowUpOverdue",
        template="lead_follow_up_due",
        to=Recipient.address("sales-desk@example.com"),
        context={"name": "sales desk"},
    )
    set_clock(crm, DUE)
    run = Dispatcher(
        crm.store,
        notifier,
        [REMIND_OWNER, to_desk],
        clock=crm.clock,
        people=PEOPLE,
        triggers=[LeadFollowUpTrigger()],
    )
    assert run.run_once().sent == 1  # nobody owns it: only the desk hears
    (sent,) = notifier.sent
    assert (sent.recipient, sent.context["name"], sent.context["lead"]) == (
        "sales-desk@example.com",
        "sales desk",
        "+886912345678",
    )
    assert "+886912345678" in TemplateRenderer().render(sent).text


def test_a_rescheduled_deadline_fires_again(crm: CRM) -> None:
    lead = crm.capture_lead("web_form", email="a@tea.example", owner="u_amy").lead
    trigger = LeadFollowUpTrigger()
    with crm.store.unit_of_work() as uow:
        (first,) = trigger.fire(uow, DUE)
        (same,) = trigger.fire(uow, DUE + timedelta(hours=1))
        assert first.event_id == same.event_id
        stored = uow.leads.get(lead.id)
        stored.schedule_follow_up(DUE + timedelta(days=1), now=DUE)
        uow.leads.save(stored)
        uow.commit()
    with crm.store.unit_of_work() as uow:
        assert trigger.fire(uow, DUE + timedelta(hours=1)) == []
        (later,) = trigger.fire(uow, DUE + timedelta(days=1))
    assert later.event_id != first.event_id
    assert isinstance(later, LeadFollowUpOverdue) and later.name == "u_amy"  # no directory


def test_the_event_round_trips_through_the_converter() -> None:
    # crmkit.kernel.events.event_class may find the class attrs replaced (slots=True) until the
    # garbage collector frees it; collect first (reported: the check wants the class's own
    # __attrs_attrs__, not an inherited one).
    gc.collect()
    event = LeadFollowUpOverdue(
        aggregate_id="lead_1",
        occurred_at=DUE,
        owner=None,
        name="",
        lead="Bob",
        company=None,
        due_at=DUE,
    )
    assert structure(unstructure(event), LeadFollowUpOverdue) == event


@settings(max_examples=25)
@given(st.lists(st.integers(min_value=0, max_value=96), min_size=1, max_size=5))
def test_each_overdue_lead_is_reminded_exactly_once_however_often_the_dispatcher_runs(
    hours: list[int],
) -> None:
    crm = bootstrap(clock=ManualClock(MONDAY_9AM), ids=SequentialIds())
    due = [
        crm.capture_lead("ads", email=f"p{n}@tea.example", owner="u_amy").lead.follow_up_due_at
        for n in range(3)
    ]
    # the default calendar: 09:00-18:00 UTC; Monday 01:00 UTC + 24 business hours
    assert due == [datetime(2026, 3, 4, 15, 0, tzinfo=ZoneInfo("UTC"))] * 3
    notifier = RecordingNotifier()
    run = dispatcher(crm, notifier)
    for h in sorted(hours):
        set_clock(crm, MONDAY_9AM + timedelta(hours=h))
        run.run_once()
    last = MONDAY_9AM + timedelta(hours=max(hours))
    assert len(notifier.sent) == (3 if due[0] is not None and last >= due[0] else 0)
