"""How the service context's aggregates are stored and queried.

SLA deadlines are not projected: they are computed on read from the case's history, its policy
and its calendar (see :func:`crmkit.service.sla.sla_status`), so a stored deadline would go
stale the moment a policy or a calendar changed. What is projected is what the use cases and
the triggers select by: open cases, a case's owner and team, the latest rule that assigned it
(round robin resumes after it), resolutions without a CSAT score, contracts near their end.
"""

from __future__ import annotations

from datetime import date, timedelta

from crmkit.kernel.query import RecordType
from crmkit.service._model import Complaint
from crmkit.service.configuration import StoredCalendar, StoredSlaPolicySet
from crmkit.service.maintenance import MaintenanceContract, WorkOrder, WorkOrderStatus

__all__ = [
    "BUSINESS_CALENDARS",
    "COMPLAINTS",
    "MAINTENANCE_CONTRACTS",
    "SLA_POLICY_SETS",
    "WORK_ORDERS",
]


def _renewal_from(contract: MaintenanceContract) -> date:
    """The first day of the renewal notice, as ``contracts_due_for_renewal`` counts it."""
    return contract.ends_on - timedelta(days=contract.renewal_notice.days)


#: Complaints (cases): queryable by public reference, customer and contact, status (and
#: ``is_open``), priority, channel, category, owner, team, customer tier, the order and
#: product references, when they were filed, acknowledged, first answered, resolved and closed,
#: the latest assignment's rule and time, the CSAT score, the compensation references granted,
#: the cases linked as duplicates and the SLA targets recorded as breached.
COMPLAINTS: RecordType[Complaint] = RecordType(
    "complaints",
    Complaint,
    {
        "reference": lambda c: c.reference,
        "customer_id": lambda c: c.customer_id,
        "contact_id": lambda c: c.contact_id,
        "status": lambda c: c.status.value,
        "is_open": lambda c: c.is_open,
        "priority": lambda c: c.priority.value,
        "channel": lambda c: c.channel.value,
        "category": lambda c: c.category,
        "root_cause": lambda c: c.root_cause,
        "owner": lambda c: c.owner,
        "team": lambda c: c.team,
        "customer_tier": lambda c: c.customer_tier,
        "order_ref": lambda c: c.order_ref,
        "product_ref": lambda c: c.product_ref,
        "filed_at": lambda c: c.filed_at,
        "updated_at": lambda c: c.updated_at,
        "acknowledged_at": lambda c: c.acknowledged_at,
        "first_response_at": lambda c: c.first_response_at,
        "resolved_at": lambda c: c.resolved_at,
        "closed_at": lambda c: c.closed_at,
        "next_update_at": lambda c: c.next_update_at,
        "assignment_rule": lambda c: c.assignments[-1].rule if c.assignments else None,
        "assigned_at": lambda c: c.assignments[-1].at if c.assignments else None,
        "reopened": lambda c: c.reopened,
        "csat_score": lambda c: None if c.csat is None else c.csat.score,
        "compensation_refs": lambda c: tuple(comp.reference for comp in c.compensations),
        "duplicates": lambda c: tuple(link.case_id for link in c.duplicates),
        "breached": lambda c: tuple(sorted({b.target.value for b in c.breaches})),
    },
    kinds={
        "is_open": "boolean",
        "filed_at": "datetime",
        "updated_at": "datetime",
        "acknowledged_at": "datetime",
        "first_response_at": "datetime",
        "resolved_at": "datetime",
        "closed_at": "datetime",
        "next_update_at": "datetime",
        "assigned_at": "datetime",
        "reopened": "integer",
        "csat_score": "integer",
        "compensation_refs": "multi",
        "duplicates": "multi",
        "breached": "multi",
    },
)

#: Maintenance contracts: queryable by customer, term (``starts_on``, ``ends_on``), the day
#: their renewal notice starts (``renewal_from``), the plan's name and the serial numbers of
#: the equipment covered (``serials``, multi-valued).
MAINTENANCE_CONTRACTS: RecordType[MaintenanceContract] = RecordType(
    "maintenance_contracts",
    MaintenanceContract,
    {
        "customer_id": lambda c: c.customer_id,
        "starts_on": lambda c: c.starts_on,
        "ends_on": lambda c: c.ends_on,
        "renewal_from": _renewal_from,
        "plan": lambda c: c.plan.name,
        "serials": lambda c: tuple(e.serial for e in c.equipment),
        "signed_at": lambda c: c.signed_at,
        "updated_at": lambda c: c.updated_at,
    },
    kinds={
        "starts_on": "date",
        "ends_on": "date",
        "renewal_from": "date",
        "serials": "multi",
        "signed_at": "datetime",
        "updated_at": "datetime",
    },
)

_OPEN_WORK = (WorkOrderStatus.OPEN, WorkOrderStatus.DISPATCHED, WorkOrderStatus.IN_PROGRESS)

#: Work orders: queryable by equipment serial, kind, status (and ``is_open``), contract, case,
#: technician, the dispatch window and when they were opened, completed and last changed.
WORK_ORDERS: RecordType[WorkOrder] = RecordType(
    "work_orders",
    WorkOrder,
    {
        "serial": lambda w: w.serial,
        "kind": lambda w: w.kind.value,
        "status": lambda w: w.status.value,
        "is_open": lambda w: w.status in _OPEN_WORK,
        "contract_id": lambda w: w.contract_id,
        "case_id": lambda w: w.case_id,
        "technician": lambda w: w.technician,
        "window_start": lambda w: w.window_start,
        "window_end": lambda w: w.window_end,
        "opened_at": lambda w: w.opened_at,
        "completed_at": lambda w: w.completed_at,
        "updated_at": lambda w: w.updated_at,
    },
    kinds={
        "is_open": "boolean",
        "window_start": "datetime",
        "window_end": "datetime",
        "opened_at": "datetime",
        "completed_at": "datetime",
        "updated_at": "datetime",
    },
)

#: Stored business calendars: queryable by the calendar's name and time zone.
BUSINESS_CALENDARS: RecordType[StoredCalendar] = RecordType(
    "business_calendars",
    StoredCalendar,
    {
        "name": lambda s: s.calendar.name,
        "timezone": lambda s: s.calendar.timezone,
        "updated_at": lambda s: s.updated_at,
    },
    kinds={"updated_at": "datetime"},
)

#: Stored SLA policy sets: queryable by their default policy's name (``default_policy``).
SLA_POLICY_SETS: RecordType[StoredSlaPolicySet] = RecordType(
    "sla_policy_sets",
    StoredSlaPolicySet,
    {
        "default_policy": lambda s: s.policies.default,
        "updated_at": lambda s: s.updated_at,
    },
    kinds={"updated_at": "datetime"},
)
