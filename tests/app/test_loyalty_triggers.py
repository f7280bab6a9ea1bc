# Chinese punctuation in expected strings is the point.
# ruff: noqa: RUF001
"""The "points expiring soon" reminder: PointsExpiringTrigger, loyalty_subscriptions, template.

What a host relies on: each member hears once about each date their points expire, in time
(within the notice) and never about points that already expired or expire later; the message
reaches the customer's first contact in their language with the points, their value and the
last day to use them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from crmkit import CRM, ManualClock, bootstrap
from crmkit.adapters.memory import MemoryStore, RecordingNotifier
from crmkit.app.dispatch import Dispatcher
from crmkit.app.loyalty import LoyaltySettings, PointsExpiringTrigger, loyalty_subscriptions
from crmkit.customers import Customer
from crmkit.errors import ValidationError
from crmkit.kernel import SequentialIds
from crmkit.kernel.money import Money
from crmkit.loyalty import (
    BaseRate,
    EarnRules,
    ExpiryPolicy,
    LoyaltyProgram,
    Membership,
    points_expiring,
)
from crmkit.loyalty.events import PointsExpiringSoon
from crmkit.notifications import Purpose, TemplateRenderer

TPE = ZoneInfo("Asia/Taipei")
START = datetime(2026, 3, 2, 10, tzinfo=TPE)
SETTINGS = LoyaltySettings(program_id="tea_club")  # expiring_within_days = 30


def program() -> LoyaltyProgram:
    """Tea Club: points worth NT$0.5, lots live 12 months, pending 14 days."""
    return LoyaltyProgram(
        id="tea_club",
        name="Tea Club",
        currency="TWD",
        time_zone="Asia/Taipei",
        point_value=Money("0.5", "TWD"),
        pending_period=timedelta(days=14),
        expiry=ExpiryPolicy(kind="rolling_months", months=12),
        earn=EarnRules(base=BaseRate(points=1, per=Money("100", "TWD"))),
    )


def make_crm(database: str | None = None) -> CRM:
    crm = bootstrap(
        clock=ManualClock(START), ids=SequentialIds(), loyalty=SETTINGS, database=database
    )
    crm.save_loyalty_program(program())
    return crm


def member_with_lots(crm: CRM) -> str:
    """Amy (zh_Hant_TW) with three lots, each expiring at midnight ending its last day.

    500 points given 2026-03-02 (last day 2027-03-02), 300 on 2026-03-12 (last day
    2027-03-12), 200 on 2026-05-01 (last day 2027-05-01).
    """
    customer = crm.register_customer("Formosa Tea Co.")
    crm.add_contact(
        customer.id, "Lin Mei-ling", emails=["mei@formosa-tea.example"], locale="zh_Hant_TW"
    )
    crm.enroll_member(customer.id)
    for when, points, ref in (
        (START, 500, "g1"),
        (datetime(2026, 3, 12, 10, tzinfo=TPE), 300, "g2"),
        (datetime(2026, 5, 1, 10, tzinfo=TPE), 200, "g3"),
    ):
        crm.clock.set(when)  # type: ignore[attr-defined]
        crm.adjust_points(customer.id, points, reference=ref, reason="gift", actor="u_amy")
    return customer.id


def at(crm: CRM, when: datetime) -> list[PointsExpiringSoon]:
    crm.clock.set(when)  # type: ignore[attr-defined]
    with crm.store.unit_of_work() as uow:
        events = PointsExpiringTrigger(SETTINGS).fire(uow, when)
    assert all(isinstance(e, PointsExpiringSoon) for e in events)
    return events  # type: ignore[return-value]


@pytest.fixture(params=["memory", "sqlite"])
def crm(request: pytest.FixtureRequest, tmp_path: Path) -> CRM:
    return make_crm(None if request.param == "memory" else str(tmp_path / "crm.db"))


def test_each_expiry_date_is_announced_once_to_the_first_contact(crm: CRM) -> None:
    member_with_lots(crm)
    notifier = RecordingNotifier()
    # require_opt_in (the default) would suppress a marketing message to a contact without
    # consent: the reminder arrives because it is transactional.
    run = Dispatcher(
        crm.store,
        notifier,
        loyalty_subscriptions(),
        clock=crm.clock,
        triggers=[PointsExpiringTrigger(SETTINGS)],
        default_timezone="Asia/Taipei",
    )
    # 2027-02-12 10:00 + 30 days = 2027-03-14 10:00: the lots expiring 2027-03-03 00:00 and
    # 2027-03-13 00:00 are in; the one expiring 2027-05-02 00:00 is not.
    crm.clock.set(datetime(2027, 2, 12, 10, tzinfo=TPE))  # type: ignore[attr-defined]
    first = run.run_once()
    second = run.run_once()
    for day in (datetime(2027, 2, 20, 10, tzinfo=TPE), datetime(2027, 3, 5, 10, tzinfo=TPE)):
        crm.clock.set(day)  # type: ignore[attr-defined]
        assert run.run_once().sent == 0
    sent = [
        (n.recipient, n.locale, n.context["points"], n.context["value"], n.context["due_at"])
        for n in notifier.sent
    ]
    assert (first.triggered, first.sent, second.sent) == (2, 2, 0)
    assert sent == [
        # 500 x NT$0.5 = NT$250; 300 x NT$0.5 = NT$150
        ("mei@formosa-tea.example", "zh_Hant_TW", 500, Money("250", "TWD"), date(2027, 3, 2)),
        ("mei@formosa-tea.example", "zh_Hant_TW", 300, Money("150", "TWD"), date(2027, 3, 12)),
    ]
    assert all(n.context["value"].currency == "TWD" for n in notifier.sent)
    # the third lot comes within the notice later and gets its own reminder, once
    crm.clock.set(datetime(2027, 4, 5, 10, tzinfo=TPE))  # type: ignore[attr-defined]
    assert run.run_once().sent == 1
    assert run.run_once().sent == 0
    assert [n.context["points"] for n in notifier.sent] == [500, 300, 200]


def test_the_message_in_taiwanese_chinese_shows_points_value_and_last_day() -> None:
    crm = make_crm()
    member_with_lots(crm)
    notifier = RecordingNotifier()
    run = Dispatcher(
        crm.store,
        notifier,
        loyalty_subscriptions(),
        clock=crm.clock,
        triggers=[PointsExpiringTrigger(SETTINGS)],
    )
    crm.clock.set(datetime(2027, 2, 10, 10, tzinfo=TPE))  # type: ignore[attr-defined]
    run.run_once()
    (notification,) = notifier.sent
    message = TemplateRenderer().render(notification)
    assert message.locale == "zh_Hant_TW"
    # the lot expires at 2027-03-03 00:00 in Taipei: 2 March is the last day to use it
    assert message.subject == "您有 500 點將於 2027年3月2日 到期"
    assert message.text == (
        "親愛的 Lin Mei-ling：\n\n"
        "您在 Tea Club 的 500 點（價值 $250.00）將於 2027年3月2日 當日結束時到期，"
        "請把握時間在到期前使用，以免權益受損。"
    )


def test_nothing_fires_for_points_expiring_after_the_notice_or_already_expired() -> None:
    crm = make_crm()
    member_with_lots(crm)
    # 2027-01-31 10:00 + 30 days = 2027-03-02 10:00: the first lot expires 2027-03-03 00:00
    assert at(crm, datetime(2027, 1, 31, 10, tzinfo=TPE)) == []
    # 14 hours later the horizon passes 2027-03-03 00:00
    assert [e.points for e in at(crm, datetime(2027, 2, 1, 0, tzinfo=TPE))] == [500]
    # exactly at the expiry instant the 500 are gone (expired, not yet advanced or saved)
    assert [e.points for e in at(crm, datetime(2027, 3, 3, 0, tzinfo=TPE))] == [300]
    # after every lot expired: nothing, although advance_memberships never ran
    assert at(crm, datetime(2027, 5, 2, 0, tzinfo=TPE)) == []


def test_the_notice_defaults_to_the_settings_and_can_be_set() -> None:
    crm = make_crm()
    member_with_lots(crm)
    now = datetime(2027, 2, 12, 10, tzinfo=TPE)
    with crm.store.unit_of_work() as uow:
        default = PointsExpiringTrigger(SETTINGS).fire(uow, now)
        week = PointsExpiringTrigger(SETTINGS, notice=timedelta(days=7)).fire(uow, now)
        wide = PointsExpiringTrigger(
            LoyaltySettings(program_id="tea_club", expiring_within_days=90)
        ).fire(uow, now)
    assert [e.points for e in default] == [500, 300]  # type: ignore[attr-defined]
    assert week == []  # 2027-02-19 10:00 is before the first expiry
    assert [e.points for e in wide] == [500, 300, 200]  # type: ignore[attr-defined]
    # the same occurrence has the same id whatever the notice
    assert [e.event_id for e in wide][:2] == [e.event_id for e in default]


def test_the_event_carries_the_exact_instant_and_names_the_membership() -> None:
    crm = make_crm()
    customer_id = member_with_lots(crm)
    (event, _) = at(crm, datetime(2027, 2, 12, 10, tzinfo=TPE))
    assert event.aggregate_id == Membership.id_for("tea_club", customer_id)
    assert event.customer_id == customer_id
    assert event.contact_id is not None
    assert event.name == "Lin Mei-ling"
    assert (event.program_id, event.program) == ("tea_club", "Tea Club")
    assert event.expires_at == datetime(2027, 3, 3, tzinfo=TPE)
    assert event.event_type == "loyalty.PointsExpiringSoon"


def test_a_customer_without_a_contact_gets_no_message() -> None:
    crm = make_crm()
    customer = crm.register_customer("No Contact Ltd")
    crm.enroll_member(customer.id)
    crm.adjust_points(customer.id, 100, reference="g1", reason="gift", actor="u_amy")
    (event,) = at(crm, datetime(2027, 2, 12, 10, tzinfo=TPE))
    assert (event.contact_id, event.name) == (None, "No Contact Ltd")
    notifier = RecordingNotifier()
    report = Dispatcher(
        crm.store,
        notifier,
        loyalty_subscriptions(),
        clock=crm.clock,
        triggers=[PointsExpiringTrigger(SETTINGS)],
    ).run_once()
    assert (report.triggered, report.planned, notifier.sent) == (1, 0, [])


def test_without_a_stored_program_nothing_fires() -> None:
    store = MemoryStore()
    with store.unit_of_work() as uow:
        assert PointsExpiringTrigger(SETTINGS).fire(uow, START) == []


@pytest.mark.parametrize("notice", [timedelta(0), timedelta(days=-1), 30, "30 days"])
def test_a_bad_notice_is_refused(notice: object) -> None:
    with pytest.raises(ValidationError) as caught:
        PointsExpiringTrigger(SETTINGS, notice=notice)  # type: ignore[arg-type]
    assert caught.value.errors[0].path == "notice"


def test_the_trigger_needs_loyalty_settings() -> None:
    with pytest.raises(ValidationError) as caught:
        PointsExpiringTrigger({"program_id": "tea_club"})  # type: ignore[arg-type]
    assert caught.value.errors[0].path == "settings"


def test_the_subscription_is_transactional_and_routes_to_the_template() -> None:
    (sub,) = loyalty_subscriptions(channel="line")
    assert (sub.event_type, sub.template, sub.channel) == (
        "loyalty.PointsExpiringSoon",
        "points_expiring",
        "line",
    )
    assert sub.purpose is Purpose.TRANSACTIONAL


# ----- properties --------------------------------------------------------------------------------

gifts = st.lists(
    st.tuples(st.integers(0, 400), st.integers(1, 1000)),  # (day after START, points)
    min_size=1,
    max_size=8,
)


def test_a_member_saved_after_the_pass_read_the_clock_does_not_break_it() -> None:
    crm = make_crm()
    member_with_lots(crm)
    crm.clock.set(datetime(2027, 2, 12, 10, tzinfo=TPE))  # type: ignore[attr-defined]
    crm.advance_memberships()  # saved as of 10:00
    earlier = datetime(2027, 2, 12, 9, 59, 59, tzinfo=TPE)  # the dispatcher's now
    with crm.store.unit_of_work() as uow:
        events = PointsExpiringTrigger(SETTINGS).fire(uow, earlier)
    assert [e.points for e in events] == [500, 300]  # type: ignore[attr-defined]


@hypothesis_settings(max_examples=50, deadline=None)
@given(gifts=gifts, offset=st.integers(250, 400), notice=st.integers(1, 60))
def test_reminders_add_up_to_the_report_once_per_date(
    gifts: list[tuple[int, int]], offset: int, notice: int
) -> None:
    """``offset`` days after the last gift the trigger and the report agree."""
    tea_club = program()
    store = MemoryStore()
    member = Membership.enroll(id="m1", program=tea_club, customer_id="cus_1", now=START)
    for n, (day, points) in enumerate(sorted(gifts)):
        member.adjust(
            tea_club,
            points,
            reference=f"g{n}",
            reason="gift",
            actor="u1",
            now=START + timedelta(days=day),
        )
    with store.unit_of_work() as uow:
        uow.loyalty_programs.add(tea_club)
        uow.customers.add(Customer.register(id="cus_1", name="Amy", kind="person", now=START))
        uow.memberships.add(member)
        uow.commit()
    now = START + timedelta(days=max(day for day, _ in gifts) + offset)
    trigger = PointsExpiringTrigger(SETTINGS, notice=timedelta(days=notice))
    with store.unit_of_work() as uow:
        events = trigger.fire(uow, now)
        again = trigger.fire(uow, now)
        loaded = uow.memberships.get("m1")
    report = points_expiring([loaded], now=now, days=notice)
    expected = report[0].points if report else 0
    reminders: list[PointsExpiringSoon] = events  # type: ignore[assignment]
    assert sum(e.points for e in reminders) == expected
    assert [e.event_id for e in again] == [e.event_id for e in reminders]
    days = [e.due_at for e in reminders]
    assert days == sorted(set(days))  # one reminder per date, soonest first
    for e in reminders:
        assert now < e.expires_at <= now + timedelta(days=notice)
        assert e.value == tea_club.value_of(e.points)
        assert e.due_at == (e.expires_at.astimezone(TPE) - timedelta(microseconds=1)).date()
