"""Maintenance contracts: service plans as recurrence rules on a business calendar, renewal
queries, and the work order's life."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.serialization import from_json, to_json
from crmkit.service.maintenance import (
    WORK_ORDER_GRAPH,
    Equipment,
    MaintenanceContract,
    ServicePlan,
    WorkOrder,
    WorkOrderStatus,
    contracts_due_for_renewal,
    upcoming_services,
)

UTC = timezone.utc
NOW = datetime(2025, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def taipei() -> BusinessCalendar:
    calendar = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00"), name="field")
    return calendar.with_public_holidays("TW", years=[2026, 2027])


def contract(
    rule: str = "FREQ=MONTHLY;INTERVAL=6",
    starts: date = date(2025, 10, 10),
    ends: date = date(2027, 10, 9),
    cid: str = "mc_1",
    move: bool = True,
) -> MaintenanceContract:
    return MaintenanceContract.sign(
        id=cid,
        customer_id="cus_1",
        starts_on=starts,
        ends_on=ends,
        now=NOW,
        plan=ServicePlan(name="plan", rule=rule, move_to_working_day=move),
        equipment=[
            Equipment(serial="AC-1", model="FTXM35", site="Taipei HQ", installed_on=starts),
            Equipment(serial="AC-2", model="FTXM35", site="Taipei HQ", installed_on=starts),
        ],
    )


def test_visits_on_holidays_and_weekends_move_to_the_next_working_day(
    taipei: BusinessCalendar,
) -> None:
    visits = upcoming_services([contract()], taipei, start=date(2026, 1, 1), end=date(2027, 12, 31))
    # Every 6 months from 10 October 2025: 10 April 2026 (a Friday, but Taiwan's observed
    # Tomb-Sweeping and Children's Day holidays run 3-6 April: the 10th is a working day),
    # 10 October 2026 (National Day, a Saturday) -> Monday 12 October, 10 April 2027 (a
    # Saturday) -> Monday 12 April; 10 October 2027 is after the contract ends.
    assert [(v.due_on, v.scheduled_on) for v in visits] == [
        (date(2026, 4, 10), date(2026, 4, 10)),
        (date(2026, 10, 10), date(2026, 10, 12)),
        (date(2027, 4, 10), date(2027, 4, 12)),
    ]
    assert visits[1].moved_because == "2026-10-10 is a holiday on the service calendar"
    assert visits[2].moved_because == "2027-04-10 is not a working day on the service calendar"
    assert visits[0].serials == ("AC-1", "AC-2")


def test_a_visit_due_before_the_window_that_moves_into_it_is_listed(
    taipei: BusinessCalendar,
) -> None:
    visits = upcoming_services(
        [contract()], taipei, start=date(2026, 10, 11), end=date(2026, 10, 31)
    )
    assert [(v.due_on, v.scheduled_on) for v in visits] == [
        (date(2026, 10, 10), date(2026, 10, 12))
    ]
    unmoved = upcoming_services(
        [contract(move=False)], taipei, start=date(2026, 10, 11), end=date(2026, 10, 31)
    )
    assert unmoved == ()


def test_plans_are_rfc5545_rules_counted_from_the_start() -> None:
    plan = ServicePlan(name="monthly", rule="RRULE:FREQ=MONTHLY;BYMONTHDAY=-1")
    assert plan.rule == "FREQ=MONTHLY;BYMONTHDAY=-1"
    dates = plan.dates(date(2026, 1, 31), date(2026, 1, 1), date(2026, 4, 30))
    assert dates == (date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30))
    for bad in ("FREQ=SECONDLY", "DTSTART:20260101\nRRULE:FREQ=DAILY", "FREQ=MONTHLY;BYDAY=XX"):
        with pytest.raises(ValidationError) as info:
            ServicePlan(name="x", rule=bad)
        assert info.value.errors[0].path == "rule"


@settings(max_examples=40)
@given(
    st.sampled_from(["FREQ=MONTHLY;INTERVAL=6", "FREQ=WEEKLY;INTERVAL=2", "FREQ=YEARLY"]),
    st.dates(date(2026, 1, 1), date(2026, 12, 31)),
    st.integers(0, 400),
)
def test_every_visit_lands_on_a_working_day_within_the_term(
    taipei: BusinessCalendar, rule: str, start: date, days: int
) -> None:
    term = contract(rule=rule, starts=start, ends=start + timedelta(days=days))
    visits = upcoming_services([term], taipei, start=start, end=start + timedelta(days=days + 30))
    for visit in visits:
        assert start < visit.due_on <= term.ends_on
        assert visit.scheduled_on >= visit.due_on
        midday = datetime.combine(visit.scheduled_on, datetime.min.time(), taipei.zone)
        assert taipei.is_working_time(midday + timedelta(hours=12))
        between = visit.scheduled_on - visit.due_on
        assert (between == timedelta(0)) == (visit.moved_because is None)


def test_renewals_fall_due_within_the_notice() -> None:
    early = contract(cid="mc_a", ends=date(2026, 12, 31))
    late = contract(cid="mc_b", ends=date(2027, 3, 31))
    (due,) = contracts_due_for_renewal([late, early], today=date(2026, 11, 1))
    assert (due.contract_id, due.days_left, due.notice_from) == ("mc_a", 60, date(2026, 11, 1))
    assert contracts_due_for_renewal([early], today=date(2026, 10, 31)) == ()
    assert contracts_due_for_renewal([early], today=date(2027, 1, 1)) == ()  # ended
    early.renew(date(2027, 12, 31), now=NOW)
    assert contracts_due_for_renewal([early], today=date(2026, 11, 1)) == ()
    with pytest.raises(RuleViolation, match="already runs to 2027-12-31"):
        early.renew(date(2027, 6, 30), now=NOW)
    assert [e.event_type for e in early.pull_events()] == [
        "service.MaintenanceContractSigned",
        "service.MaintenanceContractRenewed",
    ]


def test_contracts_round_trip() -> None:
    term = contract()
    assert from_json(to_json(term), MaintenanceContract) == term


# ----- work orders -----------------------------------------------------------------------------


def test_a_work_order_from_opening_to_completion() -> None:
    order = WorkOrder.open(
        id="wo_1",
        serial="AC-1",
        kind="maintenance",
        summary="half-yearly service",
        contract_id="mc_1",
        now=NOW,
    )
    window = NOW + timedelta(days=3)
    order.dispatch("u_tech", start=window, end=window + timedelta(hours=2), now=NOW)
    order.dispatch("u_tom", start=window, end=window + timedelta(hours=3), now=NOW)  # reschedule
    order.start(now=window)
    order.use_part("FLT-200", 2, now=window, description="filter")
    order.complete("Filters replaced", now=window + timedelta(hours=2), actor="u_tom")
    assert order.status is WorkOrderStatus.COMPLETED and order.technician == "u_tom"
    assert [(c.new.value, c.note) for c in order.history] == [
        ("open", None),
        ("dispatched", None),
        ("dispatched", "rescheduled"),
        ("in_progress", None),
        ("completed", None),
    ]
    assert order.parts[0].quantity == 2 and order.resolution_notes == "Filters replaced"
    assert [e.event_type for e in order.pull_events()] == [
        "service.WorkOrderOpened",
        "service.WorkOrderDispatched",
        "service.WorkOrderDispatched",
        "service.WorkOrderStarted",
        "service.WorkOrderPartUsed",
        "service.WorkOrderCompleted",
    ]
    assert from_json(to_json(order), WorkOrder) == order


def test_work_order_moves_outside_the_graph_are_refused_and_change_nothing() -> None:
    for status, allowed in WORK_ORDER_GRAPH.items():
        order = WorkOrder.open(id="wo_1", serial="S", kind="repair", summary="x", now=NOW)
        order.status = status
        order.technician, order.window_start = "u_t", NOW
        for target in WorkOrderStatus:
            if target in allowed:
                continue
            before = to_json(order)
            with pytest.raises(RuleViolation) as info:
                order._check_move(target)
            assert info.value.details["allowed"] == [s.value for s in allowed]
            assert to_json(order) == before


def test_work_orders_check_their_input() -> None:
    order = WorkOrder.open(id="wo_1", serial="S", kind="repair", summary="x", now=NOW)
    with pytest.raises(ValidationError) as info:
        order.dispatch("u_t", start=NOW, end=NOW, now=NOW)
    assert info.value.errors[0].path == "end"
    with pytest.raises(ValidationError):
        WorkOrder.open(id="wo_2", serial="S", kind="teleport", summary="x", now=NOW)
    order.dispatch("u_t", start=NOW, end=NOW + timedelta(hours=1), now=NOW)
    order.start(now=NOW)
    with pytest.raises(ValidationError):
        order.use_part("P", 0, now=NOW)
    with pytest.raises(ValidationError):
        order.complete("  ", now=NOW)
    with pytest.raises(RuleViolation):
        order.cancel("too late", now=NOW)
    assert order.status is WorkOrderStatus.IN_PROGRESS
