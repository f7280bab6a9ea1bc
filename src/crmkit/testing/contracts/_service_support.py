"""Sample service-context records for the contract suites (private).

One of each stored kind, with as many fields set as the aggregates allow: a complaint taken
through most of its life (owner changes, public replies and internal notes, an attachment, a
duplicate link, a pause for the customer, compensation in money and in points, a breach and an
escalation recorded, a reopening, a CSAT score), a stored calendar with holidays and a closure
across a daylight-saving change, a stored SLA policy set with rules and escalation levels, a
maintenance contract, and a work order with parts.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.calendar import BusinessCalendar, Closure
from crmkit.kernel.money import Money
from crmkit.service import (
    CompensationLimit,
    Complaint,
    ComplaintPolicy,
    StoredCalendar,
    StoredSlaPolicySet,
)
from crmkit.service.maintenance import Equipment, MaintenanceContract, ServicePlan, WorkOrder
from crmkit.service.sla import EscalationLevel, SlaPolicy, SlaPolicySet, SlaRule

__all__ = ["service_records"]

_LONDON = ZoneInfo("Europe/London")
#: A Friday afternoon in London, two days before the clocks go back.
_FILED = datetime(2026, 10, 23, 16, 30, tzinfo=_LONDON)


@attrs.frozen
class ServiceRecords:
    """The sample records, by kind."""

    complaint: Complaint
    calendar: StoredCalendar
    policies: StoredSlaPolicySet
    contract: MaintenanceContract
    work_order: WorkOrder

    def all(self) -> list[Aggregate]:
        """Every record, in the order to store them."""
        return [self.complaint, self.calendar, self.policies, self.contract, self.work_order]


def _calendar() -> BusinessCalendar:
    london = BusinessCalendar.office_hours(
        "Europe/London",
        ("09:00", "12:30"),
        ("13:30", "17:30"),
        holidays=[date(2026, 12, 25), date(2026, 12, 28)],
        name="London support",
    )
    move = Closure(
        start=datetime(2026, 10, 30, 13, 30, tzinfo=_LONDON),
        end=datetime(2026, 11, 2, 12, 30, tzinfo=_LONDON),
        reason="office move",
    )
    return london.with_closures(move, date(2026, 11, 11))


def _policies() -> SlaPolicySet:
    return SlaPolicySet(
        default="standard",
        policies=[
            SlaPolicy(
                name="standard",
                first_response=timedelta(hours=4),
                resolution=timedelta(hours=40),
                warn_at="0.75",
                escalations=[
                    EscalationLevel(
                        level="team_lead",
                        target="resolution",
                        after=timedelta(hours=30),
                        notify="team_lead",
                    ),
                    EscalationLevel(
                        level="manager", target="resolution", after=timedelta(hours=40)
                    ),
                ],
            ),
            SlaPolicy(
                name="gold",
                first_response=timedelta(hours=1),
                resolution=timedelta(hours=16),
                pause_statuses=["awaiting_customer", "acknowledged"],
            ),
        ],
        rules=[
            SlaRule(name="gold members", policy="gold", tiers=["Gold"], channels=["phone"]),
            SlaRule(name="critical", policy="gold", priorities=["critical"]),
        ],
    )


def _complaint(calendar: BusinessCalendar, policy: SlaPolicy) -> Complaint:
    h = timedelta(hours=1)
    rules = ComplaintPolicy(
        categories=["delivery", "billing"],
        root_causes=["carrier_delay"],
        reopen_within=timedelta(days=30),
        compensation_limits=[
            CompensationLimit(role="team_lead", kind="voucher", max_amount=Money("500", "GBP")),
            CompensationLimit(role="team_lead", kind="goodwill_points", max_points=2000),
        ],
    )
    case = Complaint.file(
        id="case_full",
        reference="CS-2026-0042",
        now=_FILED + h,
        filed_at=_FILED,
        channel="phone",
        customer_id="cus_full",
        contact_id="con_full",
        subject="Kettle arrived broken 壺破了",
        description="The box was crushed.\nPhotos attached.",
        product_ref="KET-200",
        order_ref="SO-7781",
        category="delivery",
        impact="high",
        urgency="medium",
        customer_tier="Gold",
        team="logistics",
        policy=rules,
        actor="u_desk",
    )
    case.acknowledge(now=_FILED + 2 * h, owner="u_amy", actor="u_amy")
    case.add_note("Carrier confirms damage in transit", now=_FILED + 2 * h, by="u_amy")
    case.attach(
        "files/ket-200.jpg",
        filename="kettle.jpg",
        content_type="image/jpeg",
        now=_FILED + 2 * h,
        by="u_amy",
    )
    case.link_duplicate("case_0041", now=_FILED + 2 * h, by="u_amy", note="same order")
    case.reply(
        "Sorry! Could you send the order number?",
        now=_FILED + 3 * h,
        by="u_amy",
        wait_for_customer=True,
    )
    case.receive_customer_message("It is SO-7781.", now=_FILED + 70 * h)
    case.assign(
        "u_bob",
        team="logistics",
        now=_FILED + 71 * h,
        rule="by category",
        reason="logistics handles breakage",
        actor="u_lead",
    )
    case.promise_update(_FILED + 96 * h, now=_FILED + 71 * h, by="u_bob")
    case.record_breaches(_FILED + 270 * h, policy=policy, calendar=calendar, actor="scheduler")
    case.grant_compensation(
        reference="comp-v1",
        kind="voucher",
        amount=Money("300", "GBP"),
        approved_by="u_lead",
        approver_role="team_lead",
        policy=rules,
        now=_FILED + 271 * h,
        description="voucher for the next order",
    )
    case.grant_compensation(
        reference="comp-p1",
        kind="goodwill_points",
        points=1500,
        approved_by="u_lead",
        approver_role="team_lead",
        policy=rules,
        now=_FILED + 271 * h,
    )
    case.resolve(
        now=_FILED + 272 * h,
        summary="Replacement sent",
        root_cause="carrier_delay",
        policy=rules,
        actor="u_bob",
    )
    case.reopen(now=_FILED + 300 * h, reason="replacement also broken", policy=rules, actor="u_bob")
    case.resolve(now=_FILED + 310 * h, summary="Refunded in full", policy=rules, actor="u_bob")
    case.record_csat(4, now=_FILED + 311 * h, comment="slow but fair 還可以", survey_ref="sv-9")
    case.close(now=_FILED + 350 * h, actor="u_bob")
    case.pull_events()
    return case


def service_records() -> ServiceRecords:
    """One record of each service kind, every optional field set where the rules allow."""
    calendar = _calendar()
    policies = _policies()
    at = _FILED - timedelta(days=30)
    stored_calendar = StoredCalendar(
        id="cal_london", calendar=calendar, updated_at=at, updated_by="u_admin"
    )
    stored_policies = StoredSlaPolicySet(id="sla_default", policies=policies, updated_at=at)
    contract = MaintenanceContract.sign(
        id="mc_full",
        customer_id="cus_full",
        starts_on=date(2026, 1, 15),
        ends_on=date(2026, 12, 31),
        renewal_notice=timedelta(days=45),
        now=at,
        plan=ServicePlan(
            name="quarterly", rule="FREQ=MONTHLY;INTERVAL=3", move_to_working_day=False
        ),
        equipment=[
            Equipment(
                serial="AC-0042",
                model="Daikin FTXM35",
                site="台北辦公室 Taipei",
                installed_on=date(2025, 12, 20),
            ),
            Equipment(
                serial="AC-0043",
                model="Daikin FTXM50",
                site="Taipei",
                installed_on=date(2025, 12, 21),
            ),
        ],
        actor="u_sales",
    )
    contract.renew(date(2027, 12, 31), now=_FILED, actor="u_sales")
    contract.pull_events()
    job = WorkOrder.open(
        id="wo_full",
        serial="AC-0042",
        kind="repair",
        summary="noisy fan",
        contract_id="mc_full",
        case_id="case_full",
        now=_FILED,
    )
    job.dispatch(
        "u_tech",
        start=_FILED + timedelta(days=3),
        end=_FILED + timedelta(days=3, hours=2),
        now=_FILED,
    )
    job.start(now=_FILED + timedelta(days=3), actor="u_tech")
    job.use_part(
        "FAN-12",
        1,
        now=_FILED + timedelta(days=3, hours=1),
        description="fan motor",
        serial="FM-889",
    )
    job.complete("Fan motor replaced; runs quietly", now=_FILED + timedelta(days=3, hours=2))
    job.pull_events()
    complaint = _complaint(calendar, policies.policy("standard"))
    return ServiceRecords(complaint, stored_calendar, stored_policies, contract, job)
