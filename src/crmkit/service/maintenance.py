"""Maintenance contracts: installed equipment, service plans as recurrence rules, work orders.

A :class:`MaintenanceContract` covers a customer's installed :class:`Equipment` (serial number,
model, site, install date) from ``starts_on`` to ``ends_on`` under a :class:`ServicePlan`: an
RFC 5545 recurrence rule as text (``"FREQ=MONTHLY;INTERVAL=6"``, read by dateutil's
``rrulestr``), counted from the contract's start. A visit that falls on a day the service team
does not work (a weekend, a public holiday of its
:class:`~crmkit.kernel.calendar.BusinessCalendar`) moves to the next working day.

:func:`upcoming_services` and :func:`contracts_due_for_renewal` are the queries notification
triggers read; a :class:`WorkOrder` carries one job from opening through dispatch to a
technician, the work (parts used) and its resolution notes.

Example:
    >>> from datetime import date, datetime, timezone
    >>> from crmkit.kernel.calendar import BusinessCalendar
    >>> calendar = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00"),
    ...                                          holidays=[date(2026, 10, 9)])
    >>> contract = MaintenanceContract.sign(
    ...     id="mc_1", customer_id="cus_1", starts_on=date(2025, 10, 9),
    ...     ends_on=date(2027, 10, 8), now=datetime(2025, 10, 1, tzinfo=timezone.utc),
    ...     plan=ServicePlan(name="half-yearly", rule="FREQ=MONTHLY;INTERVAL=6"),
    ...     equipment=[Equipment(serial="AC-0042", model="Daikin FTXM35", site="Taipei office",
    ...                          installed_on=date(2025, 10, 9))])
    >>> [(v.due_on.isoformat(), v.scheduled_on.isoformat())
    ...  for v in upcoming_services([contract], calendar, start=date(2026, 1, 1),
    ...                             end=date(2026, 12, 31))]
    [('2026-04-09', '2026-04-09'), ('2026-10-09', '2026-10-12')]

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

import attrs
from dateutil.rrule import rrulestr

from crmkit.errors import RuleViolation, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.ids import check_id
from crmkit.kernel.time import ensure_aware, validate_aware, validate_optional_aware
from crmkit.service._policy import tuple_of
from crmkit.service.events import (
    MaintenanceContractRenewed,
    MaintenanceContractSigned,
    WorkOrderCancelled,
    WorkOrderCompleted,
    WorkOrderDispatched,
    WorkOrderOpened,
    WorkOrderPartUsed,
    WorkOrderStarted,
)

__all__ = [
    "Equipment",
    "MaintenanceContract",
    "PartUsed",
    "RenewalDue",
    "ScheduledVisit",
    "ServicePlan",
    "WORK_ORDER_GRAPH",
    "WorkOrder",
    "WorkOrderChange",
    "WorkOrderKind",
    "WorkOrderStatus",
    "contracts_due_for_renewal",
    "upcoming_services",
]

_LOOKBACK = timedelta(days=31)  # a visit due before a query's start may move into it


def _id_field(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    check_id(value, attribute.name)


def _optional_id(_instance: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _date(_instance: object, attribute: attrs.Attribute[date], value: object) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError(
            f"must be a date, not {type(value).__name__}", path=attribute.name.lstrip("_")
        )


def _text(n: int) -> Any:
    return attrs.field(converter=v.strip, validator=v.text(n))


def _optional_text(n: int) -> Any:
    return attrs.field(default=None, converter=v.strip_optional, validator=v.optional_text(n))


@attrs.frozen(kw_only=True)
class Equipment:
    """A piece of equipment installed at a customer's site.

    Example:
        >>> from datetime import date
        >>> Equipment(serial="AC-0042", model="Daikin FTXM35", site="Taipei office",
        ...           installed_on=date(2025, 10, 9)).serial
        'AC-0042'

    .. versionadded:: 0.1.0
    """

    serial: str = _text(100)
    model: str = _text(200)
    site: str = _text(300)
    installed_on: date = attrs.field(validator=_date)


_FREQ = re.compile(r"(^|;)\s*FREQ\s*=\s*(YEARLY|MONTHLY|WEEKLY|DAILY)\s*(;|$)", re.IGNORECASE)


def _rule(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(
            f"must be an RFC 5545 RRULE such as 'FREQ=MONTHLY;INTERVAL=6', not "
            f"{type(value).__name__}",
            path="rule",
        )
    text = value.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:].strip()
    if "DTSTART" in text.upper() or "\n" in text:
        raise ValidationError(
            "must be one RRULE without DTSTART: visits are counted from the contract's start",
            path="rule",
        )
    if _FREQ.search(text) is None:
        raise ValidationError(
            f"{value!r} needs FREQ=YEARLY, MONTHLY, WEEKLY or DAILY (visits fall on dates)",
            path="rule",
        )
    try:
        rrulestr(text, dtstart=datetime.combine(date(2000, 1, 1), time(0)))
    except (ValueError, TypeError) as exc:
        raise ValidationError(f"{value!r} is not a recurrence rule: {exc}", path="rule") from None
    return text


@attrs.frozen(kw_only=True)
class ServicePlan:
    """How often equipment is serviced: an RFC 5545 recurrence rule, as text.

    Visits are counted from the contract's start (which is not itself a visit). With
    ``move_to_working_day`` a visit on a day the team does not work moves to the next one.

    Example:
        >>> from datetime import date
        >>> plan = ServicePlan(name="quarterly", rule="FREQ=MONTHLY;INTERVAL=3;COUNT=4")
        >>> [d.isoformat() for d in plan.dates(date(2026, 1, 15), date(2026, 1, 1),
        ...                                   date(2026, 12, 31))]
        ['2026-04-15', '2026-07-15', '2026-10-15']
        >>> ServicePlan(name="x", rule="FREQ=HOURLY")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: rule: 'FREQ=HOURLY' needs FREQ=YEARLY, MONTHLY, WEEKLY ...

    .. versionadded:: 0.1.0
    """

    name: str = _text(100)
    rule: str = attrs.field(converter=_rule)
    move_to_working_day: bool = attrs.field(default=True, validator=v.of_type(bool))

    def dates(self, anchor: date, start: date, end: date) -> tuple[date, ...]:
        """Visit dates from ``start`` to ``end`` (both included), counted from ``anchor``.

        Example:
            >>> from datetime import date
            >>> ServicePlan(name="yearly", rule="FREQ=YEARLY").dates(
            ...     date(2024, 2, 29), date(2025, 1, 1), date(2028, 12, 31))
            (datetime.date(2028, 2, 29),)
        """
        for name, value in (("anchor", anchor), ("start", start), ("end", end)):
            if not isinstance(value, date) or isinstance(value, datetime):
                raise ValidationError(f"must be a date, not {type(value).__name__}", path=name)
        rule = rrulestr(self.rule, dtstart=datetime.combine(anchor, time(0)))
        low = datetime.combine(max(start, anchor + timedelta(days=1)), time(0))
        high = datetime.combine(end, time(0))
        if high < low:
            return ()
        return tuple(moment.date() for moment in rule.between(low, high, inc=True))


def _equipment(value: object) -> tuple[Equipment, ...]:
    items = tuple_of(Equipment, "equipment", value)
    serials = [e.serial for e in items]
    twice = sorted({s for s in serials if serials.count(s) > 1})
    if twice:
        raise ValidationError(f"lists serial {', '.join(twice)} more than once", path="equipment")
    return items


def _plan(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, ServicePlan):
        raise ValidationError(f"must be a ServicePlan, not {type(value).__name__}", path="plan")


def _notice(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValidationError(f"must be a non-negative timedelta, got {value!r}", path="notice")


@attrs.define(kw_only=True)
class MaintenanceContract(Aggregate):
    """A customer's maintenance contract: the equipment covered, the plan, the term.

    ``renewal_notice`` is how long before ``ends_on`` the renewal falls due (60 days).

    Example:
        >>> from datetime import date, datetime, timezone
        >>> contract = MaintenanceContract.sign(id="mc_1", customer_id="cus_1",
        ...     starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
        ...     now=datetime(2025, 12, 1, tzinfo=timezone.utc),
        ...     plan=ServicePlan(name="yearly", rule="FREQ=YEARLY"), equipment=[])
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: equipment: a contract covers at least one piece of ...

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id_field)
    equipment: tuple[Equipment, ...] = attrs.field(converter=_equipment)
    plan: ServicePlan = attrs.field(validator=_plan)
    starts_on: date = attrs.field(validator=_date)
    ends_on: date = attrs.field(validator=_date)
    renewal_notice: timedelta = attrs.field(default=timedelta(days=60), validator=_notice)
    signed_at: datetime = attrs.field(validator=validate_aware)
    updated_at: datetime = attrs.field(validator=validate_aware)

    def __attrs_post_init__(self) -> None:
        if not self.equipment:
            raise ValidationError(
                "a contract covers at least one piece of equipment", path="equipment"
            )
        if self.ends_on < self.starts_on:
            raise ValidationError(
                f"must not be before starts_on ({self.starts_on}), got {self.ends_on}",
                path="ends_on",
            )

    @classmethod
    def sign(
        cls,
        *,
        id: str,
        customer_id: str,
        equipment: Iterable[Equipment],
        plan: ServicePlan,
        starts_on: date,
        ends_on: date,
        now: datetime,
        renewal_notice: timedelta = timedelta(days=60),
        actor: str | None = None,
    ) -> MaintenanceContract:
        """Create a contract and record ``MaintenanceContractSigned``.

        Example:
            >>> from datetime import date, datetime, timezone
            >>> c = MaintenanceContract.sign(id="mc_1", customer_id="cus_1",
            ...     starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31),
            ...     now=datetime(2025, 12, 1, tzinfo=timezone.utc),
            ...     plan=ServicePlan(name="yearly", rule="FREQ=YEARLY"),
            ...     equipment=[Equipment(serial="S1", model="M", site="HQ",
            ...                          installed_on=date(2025, 12, 20))])
            >>> [e.event_type for e in c.pull_events()]
            ['service.MaintenanceContractSigned']
        """
        now = ensure_aware(now, "now")
        if actor is not None:
            check_id(actor, "actor")
        contract = cls(
            id=id,
            customer_id=customer_id,
            equipment=tuple(equipment),
            plan=plan,
            starts_on=starts_on,
            ends_on=ends_on,
            renewal_notice=renewal_notice,
            signed_at=now,
            updated_at=now,
        )
        contract.record(
            MaintenanceContractSigned(
                aggregate_id=contract.id,
                occurred_at=now,
                actor=actor,
                customer_id=contract.customer_id,
                starts_on=contract.starts_on,
                ends_on=contract.ends_on,
            )
        )
        return contract

    def is_active(self, on: date) -> bool:
        """Whether the contract covers the day ``on``.

        Example:
            >>> from datetime import date
            >>> _contract().is_active(date(2026, 6, 1)), _contract().is_active(date(2027, 1, 1))
            (True, False)
        """
        return self.starts_on <= on <= self.ends_on

    def renew(self, until: date, *, now: datetime, actor: str | None = None) -> None:
        """Extend the contract to ``until`` (later than the current end).

        Example:
            >>> from datetime import date, datetime, timezone
            >>> c = _contract()
            >>> c.renew(date(2027, 12, 31), now=datetime(2026, 11, 1, tzinfo=timezone.utc))
            >>> c.ends_on
            datetime.date(2027, 12, 31)
        """
        now = ensure_aware(now, "now")
        if actor is not None:
            check_id(actor, "actor")
        if not isinstance(until, date) or isinstance(until, datetime):
            raise ValidationError(f"must be a date, not {type(until).__name__}", path="until")
        if until <= self.ends_on:
            raise RuleViolation(
                f"contract {self.id!r} already runs to {self.ends_on}; a renewal extends it "
                f"beyond that, not to {until}",
                details={"ends_on": self.ends_on.isoformat()},
            )
        old = self.ends_on
        self.ends_on = until
        self.updated_at = now
        self.record(
            MaintenanceContractRenewed(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                old_ends_on=old,
                new_ends_on=until,
            )
        )


@attrs.frozen(kw_only=True)
class ScheduledVisit:
    """A planned service visit: the date the plan gives, and the working day it moves to.

    Example:
        >>> from datetime import date
        >>> v = ScheduledVisit(contract_id="mc_1", customer_id="cus_1", serials=("S1",),
        ...     plan="yearly", due_on=date(2026, 10, 10), scheduled_on=date(2026, 10, 12),
        ...     moved_because="2026-10-10 is not a working day")
        >>> v.scheduled_on - v.due_on
        datetime.timedelta(days=2)

    .. versionadded:: 0.1.0
    """

    contract_id: str
    customer_id: str
    serials: tuple[str, ...]
    plan: str
    due_on: date
    scheduled_on: date
    moved_because: str | None = None


def _day(value: object, path: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError(f"must be a date, not {type(value).__name__}", path=path)
    return value


def _check_window(start: object, end: object) -> tuple[date, date]:
    first, last = _day(start, "start"), _day(end, "end")
    if last < first:
        raise ValidationError(f"must not be before start ({first}), got {last}", path="end")
    return first, last


def _working_day(calendar: BusinessCalendar, day: date) -> date:
    opening = calendar.next_working_time(datetime.combine(day, time(0), tzinfo=calendar.zone))
    return opening.date()


def upcoming_services(
    contracts: Iterable[MaintenanceContract],
    calendar: BusinessCalendar,
    *,
    start: date,
    end: date,
) -> tuple[ScheduledVisit, ...]:
    """The service visits scheduled from ``start`` to ``end`` (both included), by date.

    Visits fall within each contract's term; one on a day the ``calendar`` does not work
    moves to its next working day (when the plan says so), and says why.

    Example:
        >>> from datetime import date
        >>> cal = BusinessCalendar.office_hours("Asia/Taipei", ("09:00", "18:00"))
        >>> [v.scheduled_on.isoformat() for v in upcoming_services([_contract()], cal,
        ...     start=date(2026, 1, 1), end=date(2026, 12, 31))]       # Saturday 2026-07-04
        ['2026-07-06']

    .. versionadded:: 0.1.0
    """
    start, end = _check_window(start, end)
    if not isinstance(calendar, BusinessCalendar):
        raise ValidationError(
            f"must be a BusinessCalendar, not {type(calendar).__name__}", path="calendar"
        )
    visits: list[ScheduledVisit] = []
    for i, contract in enumerate(contracts):
        if not isinstance(contract, MaintenanceContract):
            raise ValidationError(
                f"must be a MaintenanceContract, not {type(contract).__name__}",
                path=f"contracts[{i}]",
            )
        first = max(start - _LOOKBACK, contract.starts_on)
        last = min(end, contract.ends_on)
        for due in contract.plan.dates(contract.starts_on, first, last):
            scheduled = due
            why = None
            if contract.plan.move_to_working_day:
                scheduled = _working_day(calendar, due)
                if scheduled != due:
                    kind = "a holiday" if calendar.is_holiday(due) else "not a working day"
                    why = f"{due.isoformat()} is {kind} on the service calendar"
            if start <= scheduled <= end:
                visits.append(
                    ScheduledVisit(
                        contract_id=contract.id,
                        customer_id=contract.customer_id,
                        serials=tuple(e.serial for e in contract.equipment),
                        plan=contract.plan.name,
                        due_on=due,
                        scheduled_on=scheduled,
                        moved_because=why,
                    )
                )
    return tuple(sorted(visits, key=lambda visit: (visit.scheduled_on, visit.contract_id)))


@attrs.frozen(kw_only=True)
class RenewalDue:
    """A contract whose renewal is due: it ends on ``ends_on``, notice runs from ``notice_from``.

    Example:
        >>> from datetime import date
        >>> RenewalDue(contract_id="mc_1", customer_id="cus_1", ends_on=date(2026, 12, 31),
        ...            notice_from=date(2026, 11, 1), days_left=30).days_left
        30

    .. versionadded:: 0.1.0
    """

    contract_id: str
    customer_id: str
    ends_on: date
    notice_from: date
    days_left: int


def contracts_due_for_renewal(
    contracts: Iterable[MaintenanceContract], *, today: date
) -> tuple[RenewalDue, ...]:
    """The contracts within their renewal notice on ``today`` (and not yet ended), soonest first.

    Example:
        >>> from datetime import date
        >>> [r.days_left for r in contracts_due_for_renewal([_contract()],
        ...                                                 today=date(2026, 11, 15))]
        [46]
        >>> contracts_due_for_renewal([_contract()], today=date(2026, 6, 1))
        ()

    .. versionadded:: 0.1.0
    """
    if not isinstance(today, date) or isinstance(today, datetime):
        raise ValidationError(f"must be a date, not {type(today).__name__}", path="today")
    due: list[RenewalDue] = []
    for i, contract in enumerate(contracts):
        if not isinstance(contract, MaintenanceContract):
            raise ValidationError(
                f"must be a MaintenanceContract, not {type(contract).__name__}",
                path=f"contracts[{i}]",
            )
        notice_from = contract.ends_on - timedelta(days=contract.renewal_notice.days)
        if notice_from <= today <= contract.ends_on:
            due.append(
                RenewalDue(
                    contract_id=contract.id,
                    customer_id=contract.customer_id,
                    ends_on=contract.ends_on,
                    notice_from=notice_from,
                    days_left=(contract.ends_on - today).days,
                )
            )
    return tuple(sorted(due, key=lambda r: (r.ends_on, r.contract_id)))


# ----- work orders -----------------------------------------------------------------------------


class WorkOrderKind(StrEnum):
    """What a work order is for.

    Example:
        >>> [k.value for k in WorkOrderKind]
        ['maintenance', 'repair', 'installation', 'inspection']

    .. versionadded:: 0.1.0
    """

    MAINTENANCE = "maintenance"
    REPAIR = "repair"
    INSTALLATION = "installation"
    INSPECTION = "inspection"


class WorkOrderStatus(StrEnum):
    """Where a work order stands; :data:`WORK_ORDER_GRAPH` says which moves are allowed.

    Example:
        >>> WorkOrderStatus("dispatched")
        <WorkOrderStatus.DISPATCHED: 'dispatched'>

    .. versionadded:: 0.1.0
    """

    OPEN = "open"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


_W = WorkOrderStatus

#: From each work-order status, the statuses it may move to (dispatching again reschedules).
WORK_ORDER_GRAPH: Mapping[WorkOrderStatus, tuple[WorkOrderStatus, ...]] = MappingProxyType(
    {
        _W.OPEN: (_W.DISPATCHED, _W.CANCELLED),
        _W.DISPATCHED: (_W.DISPATCHED, _W.IN_PROGRESS, _W.CANCELLED),
        _W.IN_PROGRESS: (_W.COMPLETED,),
        _W.COMPLETED: (),
        _W.CANCELLED: (),
    }
)


def _kind(value: object) -> WorkOrderKind:
    return v.to_enum(WorkOrderKind, "kind")(value)


def _status(value: object) -> WorkOrderStatus:
    return v.to_enum(WorkOrderStatus, "status")(value)


def _optional_status(value: object) -> WorkOrderStatus | None:
    return v.to_optional_enum(WorkOrderStatus, "old")(value)


def _quantity(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"must be a positive int, got {value!r}", path="quantity")


@attrs.frozen(kw_only=True)
class PartUsed:
    """A part used on a work order.

    Example:
        >>> from datetime import datetime, timezone
        >>> PartUsed(sku="FLT-200", quantity=2, at=datetime(2026, 4, 9, tzinfo=timezone.utc),
        ...          description="air filter").quantity
        2

    .. versionadded:: 0.1.0
    """

    sku: str = _text(64)
    quantity: int = attrs.field(validator=_quantity)
    at: datetime = attrs.field(validator=validate_aware)
    description: str | None = _optional_text(200)
    serial: str | None = _optional_text(100)


@attrs.frozen(kw_only=True)
class WorkOrderChange:
    """One step of a work order's status history.

    Example:
        >>> from datetime import datetime, timezone
        >>> WorkOrderChange(old=None, new="open", at=datetime(2026, 4, 1, tzinfo=timezone.utc)
        ...                 ).new
        <WorkOrderStatus.OPEN: 'open'>

    .. versionadded:: 0.1.0
    """

    old: WorkOrderStatus | None = attrs.field(converter=_optional_status)
    new: WorkOrderStatus = attrs.field(converter=_status)
    at: datetime = attrs.field(validator=validate_aware)
    by: str | None = attrs.field(default=None, validator=_optional_id)
    note: str | None = _optional_text(500)


def _parts(value: object) -> tuple[PartUsed, ...]:
    return tuple_of(PartUsed, "parts", value)


def _history(value: object) -> tuple[WorkOrderChange, ...]:
    return tuple_of(WorkOrderChange, "history", value)


@attrs.define(kw_only=True)
class WorkOrder(Aggregate):
    """One job on a piece of equipment, from opening to completion.

    Opened, dispatched to a technician for a time window (again to reschedule), worked
    (parts used), completed with resolution notes, or cancelled before the work starts.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> now = datetime(2026, 4, 1, 9, tzinfo=timezone.utc)
        >>> job = WorkOrder.open(id="wo_1", serial="AC-0042", kind="maintenance",
        ...                      summary="half-yearly service", contract_id="mc_1", now=now)
        >>> job.start(now=now)
        Traceback (most recent call last):
        ...
        crmkit.errors.RuleViolation: cannot move work order 'wo_1' from 'open' to 'in_progress';
        from 'open' it may move to 'dispatched', 'cancelled'
        >>> job.dispatch("u_tech", start=now + timedelta(days=8),
        ...              end=now + timedelta(days=8, hours=2), now=now)
        >>> job.start(now=now + timedelta(days=8))
        >>> job.use_part("FLT-200", 2, now=now + timedelta(days=8, hours=1))
        >>> job.complete("Filters replaced, pressure normal", now=now + timedelta(days=8, hours=2))
        >>> [c.new.value for c in job.history]
        ['open', 'dispatched', 'in_progress', 'completed']

    .. versionadded:: 0.1.0
    """

    serial: str = _text(100)
    kind: WorkOrderKind = attrs.field(converter=_kind)
    summary: str = _text(500)
    contract_id: str | None = attrs.field(default=None, validator=_optional_id)
    case_id: str | None = attrs.field(default=None, validator=_optional_id)
    status: WorkOrderStatus = attrs.field(default=WorkOrderStatus.OPEN, converter=_status)
    technician: str | None = attrs.field(default=None, validator=_optional_id)
    window_start: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    window_end: datetime | None = attrs.field(default=None, validator=validate_optional_aware)
    parts: tuple[PartUsed, ...] = attrs.field(default=(), converter=_parts)
    resolution_notes: str | None = _optional_text(5000)
    history: tuple[WorkOrderChange, ...] = attrs.field(default=(), converter=_history)
    opened_at: datetime = attrs.field(validator=validate_aware)
    updated_at: datetime = attrs.field(validator=validate_aware)
    completed_at: datetime | None = attrs.field(default=None, validator=validate_optional_aware)

    def __attrs_post_init__(self) -> None:
        dispatched = self.status not in (WorkOrderStatus.OPEN, WorkOrderStatus.CANCELLED)
        if dispatched and (self.technician is None or self.window_start is None):
            raise ValidationError(
                f"a {self.status.value!r} work order has a technician and a time window",
                path="technician",
            )
        if (self.status is WorkOrderStatus.COMPLETED) != (self.resolution_notes is not None):
            raise ValidationError(
                "a completed work order carries its resolution notes, and only a completed one",
                path="resolution_notes",
            )

    @classmethod
    def open(
        cls,
        *,
        id: str,
        serial: str,
        kind: WorkOrderKind | str,
        summary: str,
        now: datetime,
        contract_id: str | None = None,
        case_id: str | None = None,
        actor: str | None = None,
    ) -> WorkOrder:
        """Open a work order (for a contract's visit, a complaint's repair, or on its own).

        Example:
            >>> from datetime import datetime, timezone
            >>> WorkOrder.open(id="wo_1", serial="AC-0042", kind="repair", summary="noisy fan",
            ...     case_id="case_1", now=datetime(2026, 4, 1, tzinfo=timezone.utc)).status
            <WorkOrderStatus.OPEN: 'open'>
        """
        now = ensure_aware(now, "now")
        if actor is not None:
            check_id(actor, "actor")
        order = cls(
            id=id,
            serial=serial,
            kind=kind,
            summary=summary,
            contract_id=contract_id,
            case_id=case_id,
            history=(WorkOrderChange(old=None, new=WorkOrderStatus.OPEN, at=now, by=actor),),
            opened_at=now,
            updated_at=now,
        )
        order.record(
            WorkOrderOpened(
                aggregate_id=order.id,
                occurred_at=now,
                actor=actor,
                serial=order.serial,
                kind=order.kind.value,
                contract_id=contract_id,
                case_id=case_id,
            )
        )
        return order

    def dispatch(
        self,
        technician: str,
        *,
        start: datetime,
        end: datetime,
        now: datetime,
        actor: str | None = None,
    ) -> None:
        """Send ``technician`` for the window ``start``-``end``; again to reschedule.

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> now = datetime(2026, 4, 1, tzinfo=timezone.utc)
            >>> job = WorkOrder.open(id="wo_1", serial="S1", kind="repair", summary="x", now=now)
            >>> job.dispatch("u_tech", start=now, end=now - timedelta(hours=1), now=now)
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: end: must be after start (2026-04-01T00:00:00+00:00)...
        """
        now = ensure_aware(now, "now")
        check_id(technician, "technician")
        start = ensure_aware(start, "start")
        end = ensure_aware(end, "end")
        if actor is not None:
            check_id(actor, "actor")
        if end <= start:
            raise ValidationError(
                f"must be after start ({start.isoformat()}), got {end.isoformat()}", path="end"
            )
        self._check_move(WorkOrderStatus.DISPATCHED)
        note = "rescheduled" if self.status is WorkOrderStatus.DISPATCHED else None
        self.technician, self.window_start, self.window_end = technician, start, end
        self._set_status(WorkOrderStatus.DISPATCHED, now, actor, note)
        self.record(
            WorkOrderDispatched(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                technician=technician,
                start=start,
                end=end,
            )
        )

    def start(self, *, now: datetime, actor: str | None = None) -> None:
        """The technician starts the work.

        Example:
            >>> from datetime import datetime, timezone
            >>> job = _work_order(dispatched=True)
            >>> job.start(now=datetime(2026, 4, 9, 9, tzinfo=timezone.utc))
            >>> job.status.value
            'in_progress'
        """
        now = ensure_aware(now, "now")
        if actor is not None:
            check_id(actor, "actor")
        self._check_move(WorkOrderStatus.IN_PROGRESS)
        self._set_status(WorkOrderStatus.IN_PROGRESS, now, actor, None)
        self.record(WorkOrderStarted(aggregate_id=self.id, occurred_at=now, actor=actor))

    def use_part(
        self,
        sku: str,
        quantity: int,
        *,
        now: datetime,
        description: str | None = None,
        serial: str | None = None,
        actor: str | None = None,
    ) -> None:
        """Record a part used while the work is in progress.

        Example:
            >>> from datetime import datetime, timezone
            >>> _work_order().use_part("FLT-200", 1, now=datetime(2026, 4, 9,
            ...                                                  tzinfo=timezone.utc))
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: parts are recorded on work order 'wo_1' while it is in
            progress, not while it is 'open'
        """
        now = ensure_aware(now, "now")
        if actor is not None:
            check_id(actor, "actor")
        part = PartUsed(sku=sku, quantity=quantity, at=now, description=description, serial=serial)
        if self.status is not WorkOrderStatus.IN_PROGRESS:
            raise RuleViolation(
                f"parts are recorded on work order {self.id!r} while it is in progress, not "
                f"while it is {self.status.value!r}",
                details={"current": self.status.value},
            )
        self.parts = (*self.parts, part)
        self.updated_at = now
        self.record(
            WorkOrderPartUsed(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                sku=part.sku,
                quantity=part.quantity,
            )
        )

    def complete(self, notes: str, *, now: datetime, actor: str | None = None) -> None:
        """Complete the work with resolution notes (what was found and done).

        Example:
            >>> from datetime import datetime, timezone
            >>> job = _work_order(dispatched=True)
            >>> job.complete("done", now=datetime(2026, 4, 9, tzinfo=timezone.utc))
            Traceback (most recent call last):
            ...
            crmkit.errors.RuleViolation: cannot move work order 'wo_1' from 'dispatched' to
            'completed'; from 'dispatched' it may move to 'dispatched', 'in_progress', 'cancelled'
        """
        now = ensure_aware(now, "now")
        if actor is not None:
            check_id(actor, "actor")
        cleaned = v.strip(notes)
        v.text(5000)(None, _Field("notes"), cleaned)
        self._check_move(WorkOrderStatus.COMPLETED)
        self.resolution_notes = str(cleaned)
        self.completed_at = now
        self._set_status(WorkOrderStatus.COMPLETED, now, actor, None)
        self.record(
            WorkOrderCompleted(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                serial=self.serial,
                contract_id=self.contract_id,
            )
        )

    def cancel(self, reason: str, *, now: datetime, actor: str | None = None) -> None:
        """Cancel the work order before the work starts.

        Example:
            >>> from datetime import datetime, timezone
            >>> job = _work_order()
            >>> job.cancel("customer sold the unit", now=datetime(2026, 4, 2,
            ...                                                   tzinfo=timezone.utc))
            >>> job.status.value
            'cancelled'
        """
        now = ensure_aware(now, "now")
        if actor is not None:
            check_id(actor, "actor")
        cleaned = v.strip(reason)
        v.text(500)(None, _Field("reason"), cleaned)
        self._check_move(WorkOrderStatus.CANCELLED)
        self._set_status(WorkOrderStatus.CANCELLED, now, actor, str(cleaned))
        self.record(
            WorkOrderCancelled(
                aggregate_id=self.id, occurred_at=now, actor=actor, reason=str(cleaned)
            )
        )

    def _check_move(self, target: WorkOrderStatus) -> None:
        allowed = WORK_ORDER_GRAPH[self.status]
        if target in allowed:
            return
        moves = (
            f"it may move to {', '.join(repr(s.value) for s in allowed)}"
            if allowed
            else "it is final: no move is allowed"
        )
        raise RuleViolation(
            f"cannot move work order {self.id!r} from {self.status.value!r} to "
            f"{target.value!r}; from {self.status.value!r} {moves}",
            details={
                "current": self.status.value,
                "target": target.value,
                "allowed": [s.value for s in allowed],
            },
        )

    def _set_status(
        self, new: WorkOrderStatus, now: datetime, actor: str | None, note: str | None
    ) -> None:
        change = WorkOrderChange(old=self.status, new=new, at=now, by=actor, note=note)
        self.status = new
        self.history = (*self.history, change)
        self.updated_at = now


@attrs.frozen
class _Field:
    """Names a value for the shared validators, which read ``.name``."""

    name: str


def _contract() -> MaintenanceContract:
    """A contract for the doctests: every 6 months from 2026-01-04, one air conditioner."""
    from datetime import timezone

    contract = MaintenanceContract.sign(
        id="mc_1",
        customer_id="cus_1",
        starts_on=date(2026, 1, 4),
        ends_on=date(2026, 12, 31),
        now=datetime(2025, 12, 1, tzinfo=timezone.utc),
        plan=ServicePlan(name="half-yearly", rule="FREQ=MONTHLY;INTERVAL=6"),
        equipment=[
            Equipment(serial="AC-0042", model="FTXM35", site="HQ", installed_on=date(2026, 1, 4))
        ],
    )
    contract.pull_events()
    return contract


def _work_order(*, dispatched: bool = False) -> WorkOrder:
    """A work order for the doctests (dispatched to ``u_tech`` if asked)."""
    from datetime import timezone

    now = datetime(2026, 4, 1, 9, tzinfo=timezone.utc)
    order = WorkOrder.open(id="wo_1", serial="AC-0042", kind="maintenance", summary="x", now=now)
    if dispatched:
        order.dispatch(
            "u_tech", start=now + timedelta(days=8), end=now + timedelta(days=8, hours=2), now=now
        )
    order.pull_events()
    return order
