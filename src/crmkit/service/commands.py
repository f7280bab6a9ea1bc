"""Commands of the service context: what a user asks crmkit to do with cases and contracts.

Commands are imperative (``ResolveComplaint``, not ``ComplaintResolved``), immutable, and
checked when they are built: a command that exists is well-formed, and a malformed one raises a
:class:`~crmkit.errors.ValidationError` naming the field. Whether the command is *allowed* (the
case exists, its status permits the move, the actor may do it, the approver's role may grant
that much) is decided when the message bus handles it (see :mod:`crmkit.app.service`).

Every command carries ``actor``: the id of the user (or system) asking, or ``None``. A reply,
a note and a compensation need a person: their ``by`` (or ``actor``) is the agent or approver.

* Cases: :class:`FileComplaint`, :class:`AcknowledgeComplaint`, :class:`AssignComplaint`,
  :class:`ReplyToComplaint`, :class:`RecordCustomerMessage`, :class:`AddComplaintNote`,
  :class:`StartComplaintWork`, :class:`ResolveComplaint`, :class:`CloseComplaint`,
  :class:`ReopenComplaint`, :class:`CancelComplaint`, :class:`GrantCompensation`,
  :class:`RecordCsat`.
* Reading and scheduling: :class:`ShowComplaintSla`, :class:`ShowPublicComplaint`,
  :class:`CheckSlaBreaches`.
* Configuration: :class:`SaveBusinessCalendar`, :class:`SaveSlaPolicySet`.
* Maintenance: :class:`SignMaintenanceContract`, :class:`RenewMaintenanceContract`,
  :class:`OpenWorkOrder`, :class:`DispatchWorkOrder`, :class:`StartWorkOrder`,
  :class:`RecordWorkOrderPart`, :class:`CompleteWorkOrder`, :class:`CancelWorkOrder`,
  :class:`ListUpcomingServices`, :class:`ListRenewalsDue`.

Example:
    >>> from crmkit.service.commands import FileComplaint, GrantCompensation
    >>> FileComplaint("cus_1", " Parcel never arrived ", category="delivery",
    ...               channel="email").subject
    'Parcel never arrived'
    >>> GrantCompensation("case_1", reference="comp-1", kind="voucher", approver_role="agent")
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: amount: a voucher needs an amount (Money)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import attrs

from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money
from crmkit.kernel.time import validate_aware, validate_optional_aware
from crmkit.service._enums import CancelReason, Channel, CompensationKind, Impact, Urgency
from crmkit.service.maintenance import Equipment, ServicePlan, WorkOrderKind
from crmkit.service.sla import SlaPolicySet

__all__ = [
    "AcknowledgeComplaint",
    "AddComplaintNote",
    "AssignComplaint",
    "CancelComplaint",
    "CancelWorkOrder",
    "CheckSlaBreaches",
    "CloseComplaint",
    "CompleteWorkOrder",
    "DispatchWorkOrder",
    "FileComplaint",
    "GrantCompensation",
    "ListRenewalsDue",
    "ListUpcomingServices",
    "OpenWorkOrder",
    "RecordCsat",
    "RecordCustomerMessage",
    "RecordWorkOrderPart",
    "RenewMaintenanceContract",
    "ReopenComplaint",
    "ReplyToComplaint",
    "ResolveComplaint",
    "SaveBusinessCalendar",
    "SaveSlaPolicySet",
    "ShowComplaintSla",
    "ShowPublicComplaint",
    "SignMaintenanceContract",
    "StartComplaintWork",
    "StartWorkOrder",
]


# ----- field helpers ---------------------------------------------------------------------------


def _id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_id(value, attribute.name)


def _optional_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _optional_id_field() -> Any:
    return attrs.field(default=None, kw_only=True, validator=_optional_id)


def _actor() -> Any:
    return attrs.field(default=None, kw_only=True, validator=_optional_id)


def _optional_text(n: int) -> Any:
    return attrs.field(
        default=None, kw_only=True, converter=v.strip_optional, validator=v.optional_text(n)
    )


def _date(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError(f"must be a date, not {type(value).__name__}", path=attribute.name)


def _instance(cls: type, path: str) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if not isinstance(value, cls):
            raise ValidationError(
                f"must be a {cls.__name__}, not {type(value).__name__}", path=path
            )

    return check


def _bool(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise ValidationError(
            f"must be True or False, not {type(value).__name__}", path=attribute.name
        )


def _channel(value: object) -> Channel:
    return v.to_enum(Channel, "channel")(value)


def _impact(value: object) -> Impact:
    return v.to_enum(Impact, "impact")(value)


def _urgency(value: object) -> Urgency:
    return v.to_enum(Urgency, "urgency")(value)


def _cancel_reason(value: object) -> CancelReason:
    return v.to_enum(CancelReason, "reason")(value)


def _compensation_kind(value: object) -> CompensationKind:
    return v.to_enum(CompensationKind, "kind")(value)


def _work_order_kind(value: object) -> WorkOrderKind:
    return v.to_enum(WorkOrderKind, "kind")(value)


def _role(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="approver_role")
    return check_id(value.strip(), "approver_role")


def _equipment(value: object) -> tuple[Equipment, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(
            f"must be a list of Equipment, not {type(value).__name__}", path="equipment"
        )
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, Equipment):
            raise ValidationError(
                f"must be an Equipment, not {type(item).__name__}", path=f"equipment[{i}]"
            )
    return items


def _notice(_instance: object, _attribute: object, value: object) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValidationError(
            f"must be a non-negative timedelta, got {value!r}", path="renewal_notice"
        )


def _positive_int(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"must be a positive int, got {value!r}", path=attribute.name)


def _score(_instance: object, _attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise ValidationError(f"must be an int from 1 to 5, got {value!r}", path="score")


# ----- cases -----------------------------------------------------------------------------------


@attrs.frozen
class FileComplaint:
    """File a complaint for a stored customer, through a channel, in a category.

    The priority follows the complaint policy's impact x urgency matrix. ``reference`` is the
    public reference number (default: made from the new case's id); filing again with a
    reference that exists returns that case (an intake retried), unless it belongs to another
    customer. ``customer_tier`` (``"gold"``) picks faster SLA targets; without it the
    ``ServiceHooks.tier_lookup`` hook is asked. ``owner`` and ``team`` skip the assignment
    rules. ``filed_at`` is when the customer reached us (default: now); the SLA clocks start
    there.

    Example:
        >>> FileComplaint("cus_1", "Wrong size", category="returns", channel="fax")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: channel: 'fax' is not one of 'phone', 'email', ...

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    subject: str = attrs.field(converter=v.strip, validator=v.text(300))
    category: str = attrs.field(kw_only=True, converter=v.strip, validator=v.text(100))
    channel: Channel = attrs.field(kw_only=True, converter=_channel)
    impact: Impact = attrs.field(default=Impact.MEDIUM, kw_only=True, converter=_impact)
    urgency: Urgency = attrs.field(default=Urgency.MEDIUM, kw_only=True, converter=_urgency)
    description: str | None = _optional_text(20_000)
    contact_id: str | None = _optional_id_field()
    product_ref: str | None = _optional_text(100)
    order_ref: str | None = _optional_text(100)
    customer_tier: str | None = _optional_text(50)
    owner: str | None = _optional_id_field()
    team: str | None = _optional_text(100)
    reference: str | None = _optional_text(64)
    filed_at: datetime | None = attrs.field(
        default=None, kw_only=True, validator=validate_optional_aware
    )
    actor: str | None = _actor()


@attrs.frozen
class AcknowledgeComplaint:
    """Acknowledge a new case; without an owner (given here or before) the rules choose one.

    Example:
        >>> AcknowledgeComplaint("case_1", owner="u_amy").owner
        'u_amy'

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    owner: str | None = _optional_id_field()
    team: str | None = _optional_text(100)
    actor: str | None = _actor()


@attrs.frozen
class AssignComplaint:
    """Give a case to ``owner`` (and ``team``) by hand, or to whom the rules choose (no owner).

    Example:
        >>> AssignComplaint("case_1", "u_bob", reason="speaks Hakka").reason
        'speaks Hakka'

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    owner: str | None = attrs.field(default=None, validator=_optional_id)
    team: str | None = _optional_text(100)
    reason: str = attrs.field(
        default="assigned by hand", kw_only=True, converter=v.strip, validator=v.text(500)
    )
    actor: str | None = _actor()


@attrs.frozen
class ReplyToComplaint:
    """Send the customer a public reply (``by``: the agent, default ``actor``).

    With ``wait_for_customer=True`` the case waits for the customer's answer and its SLA
    clocks pause.

    Example:
        >>> ReplyToComplaint("case_1", "Could you send a photo?", by="u_amy",
        ...                  wait_for_customer=True).wait_for_customer
        True
        >>> ReplyToComplaint("case_1", "Hello")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: by: a reply needs the agent who sends it: give by= or actor=

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    body: str = attrs.field(converter=v.strip, validator=v.text(10_000))
    by: str | None = _optional_id_field()
    wait_for_customer: bool = attrs.field(default=False, kw_only=True, validator=_bool)
    actor: str | None = _actor()

    def __attrs_post_init__(self) -> None:
        if self.by is None and self.actor is None:
            raise ValidationError(
                "a reply needs the agent who sends it: give by= or actor=", path="by"
            )

    @property
    def agent(self) -> str:
        """Who sends the reply: ``by``, else ``actor``."""
        return str(self.by or self.actor)


@attrs.frozen
class RecordCustomerMessage:
    """Record what the customer wrote; a case waiting for them resumes (its clocks run again).

    Example:
        >>> RecordCustomerMessage("case_1", "  Here is the photo. ").body
        'Here is the photo.'

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    body: str = attrs.field(converter=v.strip, validator=v.text(10_000))
    actor: str | None = _actor()


@attrs.frozen
class AddComplaintNote:
    """Add an internal note for colleagues (``by``: its author, default ``actor``).

    Example:
        >>> AddComplaintNote("case_1", "VIP: handle with care", by="u_amy").by
        'u_amy'

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    body: str = attrs.field(converter=v.strip, validator=v.text(10_000))
    by: str | None = _optional_id_field()
    actor: str | None = _actor()

    def __attrs_post_init__(self) -> None:
        if self.by is None and self.actor is None:
            raise ValidationError("a note needs its author: give by= or actor=", path="by")

    @property
    def author(self) -> str:
        """Who wrote the note: ``by``, else ``actor``."""
        return str(self.by or self.actor)


@attrs.frozen
class StartComplaintWork:
    """Move an acknowledged case (or one awaiting the customer) to ``in_progress``.

    Example:
        >>> StartComplaintWork("case_1", actor="u_amy").case_id
        'case_1'

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class ResolveComplaint:
    """Resolve a case with a summary and, optionally, its root cause.

    Example:
        >>> ResolveComplaint("case_1", "Re-shipped", root_cause="carrier_delay").root_cause
        'carrier_delay'

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    summary: str = attrs.field(converter=v.strip, validator=v.text(5000))
    root_cause: str | None = _optional_text(100)
    actor: str | None = _actor()


@attrs.frozen
class CloseComplaint:
    """Close a resolved case.

    Example:
        >>> CloseComplaint("case_1").case_id
        'case_1'

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class ReopenComplaint:
    """Reopen a resolved or closed case within the complaint policy's window.

    Example:
        >>> ReopenComplaint("case_1", "").reason
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: reason: must not be empty

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    reason: str = attrs.field(converter=v.strip, validator=v.text(500))
    actor: str | None = _actor()


@attrs.frozen
class CancelComplaint:
    """Cancel a case as a ``duplicate`` (of ``duplicate_of``) or as ``spam``, with a note.

    Example:
        >>> CancelComplaint("case_2", "duplicate", note="same parcel", duplicate_of="case_1"
        ...                 ).reason.value
        'duplicate'

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    reason: CancelReason = attrs.field(converter=_cancel_reason)
    note: str = attrs.field(kw_only=True, converter=v.strip, validator=v.text(500))
    duplicate_of: str | None = _optional_id_field()
    actor: str | None = _actor()


@attrs.frozen
class GrantCompensation:
    """Grant compensation on a case, approved by ``actor`` in ``approver_role``.

    ``reference`` is the outside reference (the refund or voucher request): granting it again
    changes nothing. Money kinds (refund, voucher, upgrade, replacement) take ``amount``;
    goodwill points take ``points``. The complaint policy caps each role's grants; the access
    policy is asked whether the actor holds ``approver_role`` (see
    :class:`crmkit.app.service.CompensationRequest`).

    Example:
        >>> from crmkit.kernel.money import Money
        >>> GrantCompensation("case_1", reference="comp-1", kind="voucher",
        ...     approver_role="team_lead", amount=Money("300", "TWD"), actor="u_lead").kind.value
        'voucher'

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    reference: str = attrs.field(kw_only=True, converter=v.strip, validator=v.text(100))
    kind: CompensationKind = attrs.field(kw_only=True, converter=_compensation_kind)
    approver_role: str = attrs.field(kw_only=True, converter=_role)
    amount: Money | None = attrs.field(default=None, kw_only=True)
    points: int | None = attrs.field(default=None, kw_only=True)
    description: str | None = _optional_text(500)
    actor: str | None = _actor()

    def __attrs_post_init__(self) -> None:
        if self.kind.in_points:
            if self.amount is not None:
                raise ValidationError("goodwill points take points, not an amount", path="amount")
            if isinstance(self.points, bool) or not isinstance(self.points, int) or self.points < 1:
                raise ValidationError(
                    f"goodwill points need a positive number of points, got {self.points!r}",
                    path="points",
                )
        else:
            if self.points is not None:
                raise ValidationError(
                    f"a {self.kind.value} takes an amount, not points", path="points"
                )
            if not isinstance(self.amount, Money):
                raise ValidationError(f"a {self.kind.value} needs an amount (Money)", path="amount")


@attrs.frozen
class RecordCsat:
    """Record the customer's 1-5 satisfaction score (and comment) on a resolved case.

    Example:
        >>> RecordCsat("case_1", 6)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: score: must be an int from 1 to 5, got 6

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    score: int = attrs.field(validator=_score)
    comment: str | None = _optional_text(2000)
    survey_ref: str | None = _optional_text(100)
    actor: str | None = _actor()


# ----- reading and scheduling ------------------------------------------------------------------


@attrs.frozen
class ShowComplaintSla:
    """Compute a case's SLA status at ``at`` (default: now): both clocks, explained.

    Example:
        >>> ShowComplaintSla("case_1").at is None
        True

    .. versionadded:: 0.1.0
    """

    case_id: str = attrs.field(validator=_id)
    at: datetime | None = attrs.field(default=None, kw_only=True, validator=validate_optional_aware)
    actor: str | None = _actor()


@attrs.frozen
class ShowPublicComplaint:
    """Show a case by its public reference, as its customer may see it.

    With ``customer_id`` (the signed-in customer), a case of another customer is not found.

    Example:
        >>> ShowPublicComplaint(" CS-1001 ", customer_id="cus_1").reference
        'CS-1001'

    .. versionadded:: 0.1.0
    """

    reference: str = attrs.field(converter=v.strip, validator=v.text(64))
    customer_id: str | None = _optional_id_field()
    actor: str | None = _actor()


@attrs.frozen
class CheckSlaBreaches:
    """Record every SLA breach and escalation of the open cases, at now (for a scheduler).

    Example:
        >>> CheckSlaBreaches(actor="scheduler").actor
        'scheduler'

    .. versionadded:: 0.1.0
    """

    actor: str | None = _actor()


# ----- configuration ---------------------------------------------------------------------------


@attrs.frozen
class SaveBusinessCalendar:
    """Store ``calendar`` under ``calendar_id``: add it, or replace the stored one.

    Example:
        >>> from crmkit.kernel.calendar import BusinessCalendar
        >>> SaveBusinessCalendar("cal_tpe", BusinessCalendar.office_hours(
        ...     "Asia/Taipei", ("09:00", "18:00"))).calendar.timezone
        'Asia/Taipei'

    .. versionadded:: 0.1.0
    """

    calendar_id: str = attrs.field(validator=_id)
    calendar: BusinessCalendar = attrs.field(validator=_instance(BusinessCalendar, "calendar"))
    actor: str | None = _actor()


@attrs.frozen
class SaveSlaPolicySet:
    """Store ``policies`` under ``policy_set_id``: add them, or replace the stored set.

    Example:
        >>> SaveSlaPolicySet("sla_default", "24h")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: policies: must be a SlaPolicySet, not str

    .. versionadded:: 0.1.0
    """

    policy_set_id: str = attrs.field(validator=_id)
    policies: SlaPolicySet = attrs.field(validator=_instance(SlaPolicySet, "policies"))
    actor: str | None = _actor()


# ----- maintenance -----------------------------------------------------------------------------


@attrs.frozen
class SignMaintenanceContract:
    """Sign a maintenance contract covering a customer's equipment under a service plan.

    Example:
        >>> from datetime import date
        >>> from crmkit.service.maintenance import Equipment, ServicePlan
        >>> cmd = SignMaintenanceContract("cus_1", [Equipment(serial="AC-0042", model="FTXM35",
        ...     site="Taipei office", installed_on=date(2025, 10, 9))],
        ...     ServicePlan(name="half-yearly", rule="FREQ=MONTHLY;INTERVAL=6"),
        ...     starts_on=date(2025, 10, 9), ends_on=date(2027, 10, 8))
        >>> cmd.renewal_notice.days
        60

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    equipment: tuple[Equipment, ...] = attrs.field(converter=_equipment)
    plan: ServicePlan = attrs.field(validator=_instance(ServicePlan, "plan"))
    starts_on: date = attrs.field(kw_only=True, validator=_date)
    ends_on: date = attrs.field(kw_only=True, validator=_date)
    renewal_notice: timedelta = attrs.field(
        default=timedelta(days=60), kw_only=True, validator=_notice
    )
    actor: str | None = _actor()


@attrs.frozen
class RenewMaintenanceContract:
    """Extend a contract to ``until``.

    Example:
        >>> from datetime import date
        >>> RenewMaintenanceContract("mc_1", date(2028, 10, 8)).until.year
        2028

    .. versionadded:: 0.1.0
    """

    contract_id: str = attrs.field(validator=_id)
    until: date = attrs.field(validator=_date)
    actor: str | None = _actor()


@attrs.frozen
class OpenWorkOrder:
    """Open a work order on a piece of equipment (for a contract's visit, a case, or alone).

    Example:
        >>> OpenWorkOrder("AC-0042", "maintenance", "half-yearly service",
        ...               contract_id="mc_1").kind.value
        'maintenance'

    .. versionadded:: 0.1.0
    """

    serial: str = attrs.field(converter=v.strip, validator=v.text(100))
    kind: WorkOrderKind = attrs.field(converter=_work_order_kind)
    summary: str = attrs.field(converter=v.strip, validator=v.text(500))
    contract_id: str | None = _optional_id_field()
    case_id: str | None = _optional_id_field()
    actor: str | None = _actor()


@attrs.frozen
class DispatchWorkOrder:
    """Send a technician for a time window (again to reschedule).

    Example:
        >>> from datetime import datetime, timezone
        >>> DispatchWorkOrder("wo_1", "u_tech", start=datetime(2026, 4, 9, 9,
        ...     tzinfo=timezone.utc), end=datetime(2026, 4, 9, 11, tzinfo=timezone.utc)
        ...     ).technician
        'u_tech'

    .. versionadded:: 0.1.0
    """

    work_order_id: str = attrs.field(validator=_id)
    technician: str = attrs.field(validator=_id)
    start: datetime = attrs.field(kw_only=True, validator=validate_aware)
    end: datetime = attrs.field(kw_only=True, validator=validate_aware)
    actor: str | None = _actor()


@attrs.frozen
class StartWorkOrder:
    """The technician starts the work.

    Example:
        >>> StartWorkOrder("wo_1", actor="u_tech").actor
        'u_tech'

    .. versionadded:: 0.1.0
    """

    work_order_id: str = attrs.field(validator=_id)
    actor: str | None = _actor()


@attrs.frozen
class RecordWorkOrderPart:
    """Record a part used while the work is in progress.

    Example:
        >>> RecordWorkOrderPart("wo_1", "FLT-200", 0)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: quantity: must be a positive int, got 0

    .. versionadded:: 0.1.0
    """

    work_order_id: str = attrs.field(validator=_id)
    sku: str = attrs.field(converter=v.strip, validator=v.text(64))
    quantity: int = attrs.field(validator=_positive_int)
    description: str | None = _optional_text(200)
    serial: str | None = _optional_text(100)
    actor: str | None = _actor()


@attrs.frozen
class CompleteWorkOrder:
    """Complete the work with resolution notes.

    Example:
        >>> CompleteWorkOrder("wo_1", "Filters replaced").notes
        'Filters replaced'

    .. versionadded:: 0.1.0
    """

    work_order_id: str = attrs.field(validator=_id)
    notes: str = attrs.field(converter=v.strip, validator=v.text(5000))
    actor: str | None = _actor()


@attrs.frozen
class CancelWorkOrder:
    """Cancel a work order before the work starts.

    Example:
        >>> CancelWorkOrder("wo_1", "customer sold the unit").reason
        'customer sold the unit'

    .. versionadded:: 0.1.0
    """

    work_order_id: str = attrs.field(validator=_id)
    reason: str = attrs.field(converter=v.strip, validator=v.text(500))
    actor: str | None = _actor()


@attrs.frozen
class ListUpcomingServices:
    """List the service visits scheduled from ``start`` to ``end`` (optionally one customer's).

    Example:
        >>> from datetime import date
        >>> ListUpcomingServices(date(2026, 5, 1), date(2026, 4, 1))
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: end: must not be before start (2026-05-01), got 2026-04-01

    .. versionadded:: 0.1.0
    """

    start: date = attrs.field(validator=_date)
    end: date = attrs.field(validator=_date)
    customer_id: str | None = _optional_id_field()
    actor: str | None = _actor()

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise ValidationError(
                f"must not be before start ({self.start}), got {self.end}", path="end"
            )


@attrs.frozen
class ListRenewalsDue:
    """List the contracts within their renewal notice on ``today`` (default: today).

    Example:
        >>> ListRenewalsDue().today is None
        True

    .. versionadded:: 0.1.0
    """

    today: date | None = attrs.field(default=None, validator=v.optional_date)
    actor: str | None = _actor()
