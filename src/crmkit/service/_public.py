"""What a customer may see of their case: reference, status, public messages, next update."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import attrs

from crmkit.errors import ValidationError
from crmkit.service._enums import CaseStatus, MessageAuthor
from crmkit.service._model import Complaint

if TYPE_CHECKING:
    from crmkit.service.sla import SlaStatus

__all__ = ["PublicCaseView", "PublicMessage", "public_view"]


@attrs.frozen(kw_only=True)
class PublicMessage:
    """A message as the customer sees it: who wrote it (us or them), what, and when.

    The agent's user id is left out.

    Example:
        >>> from datetime import datetime, timezone
        >>> PublicMessage(author="agent", body="On its way",
        ...               at=datetime(2026, 1, 5, tzinfo=timezone.utc)).author
        'agent'

    .. versionadded:: 0.1.0
    """

    author: str
    body: str
    at: datetime


@attrs.frozen(kw_only=True)
class PublicCaseView:
    """A case as its customer may see it, and nothing more.

    Only the public reference, the status, the public messages (our replies and the
    customer's own words) and when they can expect to hear from us next: never internal
    notes, owners, attachments, compensation approvals, or anything about other cases.

    Example:
        >>> from crmkit.service._model import _example
        >>> view = public_view(_example())
        >>> view.reference, view.status, view.messages, view.expected_next_update
        ('CS-1001', 'new', (), None)

    .. versionadded:: 0.1.0
    """

    reference: str
    status: str
    messages: tuple[PublicMessage, ...]
    expected_next_update: datetime | None


def public_view(case: Complaint, sla: SlaStatus | None = None) -> PublicCaseView:
    """What the customer may see of ``case``.

    The expected next update is the one an agent promised (``Complaint.promise_update``);
    without a promise, and given the case's ``sla`` status, it is the deadline of the first
    running clock (the first response, then the resolution). A case waiting for the
    customer, or no longer open, expects no update from us.

    Example:
        >>> from datetime import timedelta
        >>> from crmkit.kernel.calendar import BusinessCalendar
        >>> from crmkit.service._model import _example
        >>> from crmkit.service.sla import SlaPolicy, sla_status
        >>> case = _example()           # filed Monday 2026-01-05 09:00 UTC
        >>> cal = BusinessCalendar.office_hours("UTC", ("09:00", "17:00"))
        >>> policy = SlaPolicy(name="std", first_response=timedelta(hours=4),
        ...                    resolution=timedelta(hours=40))
        >>> public_view(case, sla_status(case, policy, cal, case.filed_at)
        ...             ).expected_next_update.isoformat()
        '2026-01-05T13:00:00+00:00'

    .. versionadded:: 0.1.0
    """
    if not isinstance(case, Complaint):
        raise ValidationError(f"must be a Complaint, not {type(case).__name__}", path="case")
    if sla is not None and sla.case_id != case.id:
        raise ValidationError(
            f"is the SLA status of case {sla.case_id!r}, not of {case.id!r}", path="sla"
        )
    expected: datetime | None = None
    if case.status.is_open and case.status is not CaseStatus.AWAITING_CUSTOMER:
        if case.next_update_at is not None:
            expected = case.next_update_at
        elif sla is not None:
            for clock in sla.clocks:
                if clock.stopped_at is None and not clock.paused:
                    expected = clock.deadline
                    break
    return PublicCaseView(
        reference=case.reference,
        status=case.status.value,
        messages=tuple(
            PublicMessage(author=MessageAuthor(m.author).value, body=m.body, at=m.at)
            for m in case.messages
        ),
        expected_next_update=expected,
    )
