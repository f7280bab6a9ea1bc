"""Events that time makes happen: what triggers find when they look at the records.

Nothing is saved when a birthday comes round or a customer goes quiet, so no aggregate records
these; a trigger (see :mod:`crmkit.app.triggers`) scans the store and emits them, and the
dispatcher routes them through subscriptions like any committed event. Their ``event_id`` is
derived from what they are about and when (:func:`occurrence_id`), so scanning twice on the
same day plans nothing new.

Example:
    >>> from datetime import date, datetime, timezone
    >>> e = BirthdayDue(aggregate_id="con_1", occurred_at=datetime(2026, 5, 4, tzinfo=timezone.utc),
    ...                 event_id=occurrence_id("birthday", "con_1", "2026"),
    ...                 customer_id="cus_1", name="Amy", birthday=date(1990, 5, 4))
    >>> e.event_type, e.event_id == occurrence_id("birthday", "con_1", "2026")
    ('notifications.BirthdayDue', True)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime

import attrs

from crmkit.kernel.events import DomainEvent

__all__ = [
    "BirthdayDue",
    "CustomerNeedsAttention",
    "LeadFollowUpOverdue",
    "occurrence_id",
]


def occurrence_id(trigger: str, subject: str, period: str) -> str:
    """Return a stable event id for ``trigger`` firing about ``subject`` in ``period``.

    Example:
        >>> occurrence_id("birthday", "con_1", "2026") == occurrence_id("birthday", "con_1", "2026")
        True
        >>> len(occurrence_id("birthday", "con_1", "2026"))
        40

    .. versionadded:: 0.1.0
    """
    digest = hashlib.sha256(f"{trigger}\x1f{subject}\x1f{period}".encode()).hexdigest()
    return "trg_" + digest[:36]


@attrs.frozen(kw_only=True)
class BirthdayDue(DomainEvent):
    """It is a contact's birthday today, in the contact's time zone.

    Example:
        >>> BirthdayDue.event_type
        'notifications.BirthdayDue'

    .. versionadded:: 0.1.0
    """

    event_type = "notifications.BirthdayDue"
    customer_id: str
    name: str
    birthday: date


@attrs.frozen(kw_only=True)
class CustomerNeedsAttention(DomainEvent):
    """A customer has had no activity for ``inactive_days`` days (since ``last_activity_at``).

    Example:
        >>> CustomerNeedsAttention.event_type
        'notifications.CustomerNeedsAttention'

    .. versionadded:: 0.1.0
    """

    event_type = "notifications.CustomerNeedsAttention"
    name: str
    owner: str | None
    last_activity_at: datetime
    inactive_days: int


@attrs.frozen(kw_only=True)
class LeadFollowUpOverdue(DomainEvent):
    """A lead's speed-to-lead deadline ``due_at`` passed and nobody has contacted it yet.

    The fields fill the built-in ``lead_follow_up_due`` template: ``name`` is whom the
    reminder greets (the owner's name, see :class:`crmkit.app.triggers.LeadFollowUpTrigger`),
    ``lead`` the lead's name (else its company, email or phone), ``due_at`` the deadline.
    ``owner`` (a user id, or ``None``) is what ``Recipient.user("owner")`` reaches.

    Example:
        >>> from datetime import datetime, timezone
        >>> due = datetime(2026, 1, 6, 9, tzinfo=timezone.utc)
        >>> e = LeadFollowUpOverdue(aggregate_id="lead_1", occurred_at=due, owner="u_amy",
        ...     name="Amy", lead="Bob Lin", company="Acme", due_at=due)
        >>> e.event_type, e.lead
        ('notifications.LeadFollowUpOverdue', 'Bob Lin')

    .. versionadded:: 0.1.0
    """

    event_type = "notifications.LeadFollowUpOverdue"
    owner: str | None
    name: str
    lead: str
    company: str | None
    due_at: datetime
