"""Triggers: scans that turn the passing of time into events the dispatcher can route.

A trigger looks at the store at ``now`` and returns events (see
:mod:`crmkit.notifications.events`) whose ids are stable for what they are about and when, so
running it every few minutes plans each message once. The :class:`~crmkit.app.dispatch.Dispatcher`
runs the triggers it is given before it drains the outbox; subscriptions decide who hears of
them, and a host switches a trigger off by not passing it (or its subscriptions off).

:class:`LeadFollowUpTrigger` reminds about leads nobody contacted by their speed-to-lead
deadline. Triggers of contexts that come later (SLA breach, points and quote expiry,
maintenance due) are added by those contexts in the same shape.

Example:
    >>> from datetime import date, datetime, timezone
    >>> from crmkit.adapters.memory import MemoryStore
    >>> from crmkit.customers import Contact
    >>> store = MemoryStore()
    >>> with store.unit_of_work() as uow:
    ...     uow.contacts.add(Contact(id="con_1", customer_id="cus_1", name="Amy",
    ...                              birthday=date(1990, 5, 4), timezone="Asia/Taipei"))
    ...     _ = uow.commit()
    >>> now = datetime(2026, 5, 3, 17, tzinfo=timezone.utc)  # 01:00 on 4 May in Taipei
    >>> with store.unit_of_work() as uow:
    ...     [e.name for e in BirthdayTrigger().fire(uow, now)]
    ['Amy']

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import attrs

from crmkit.customers import Contact, Customer
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.query import Op, Query
from crmkit.kernel.time import ensure_aware
from crmkit.leads import Lead
from crmkit.notifications.events import (
    BirthdayDue,
    CustomerNeedsAttention,
    LeadFollowUpOverdue,
    occurrence_id,
)
from crmkit.ports import PeopleDirectory, Repository, UnitOfWork

__all__ = [
    "BirthdayTrigger",
    "InactiveCustomerTrigger",
    "LeadFollowUpTrigger",
    "Trigger",
    "scan",
]

_PAGE = 500


@runtime_checkable
class Trigger(Protocol):
    """Finds, at ``now``, the events time has made happen.

    Example:
        >>> isinstance(BirthdayTrigger(), Trigger)
        True

    .. versionadded:: 0.1.0
    """

    name: str

    def fire(self, uow: UnitOfWork, now: datetime) -> list[DomainEvent]:
        """Return the events due at ``now`` (the same ids however often it runs)."""
        ...


def scan(repository: Repository[Any], query: Query | None = None) -> Iterator[Any]:
    """Yield every record ``query`` matches, a page at a time (by id unless ordered).

    Example:
        >>> from crmkit.adapters.memory import MemoryStore
        >>> with MemoryStore().unit_of_work() as uow:
        ...     list(scan(uow.customers))
        []

    .. versionadded:: 0.1.0
    """
    query = (query or Query()).take(_PAGE)
    while True:
        page = repository.query(query)
        yield from page.items
        if page.next_cursor is None:
            return
        query = query.after(page.next_cursor)


def _birthday_in(year: int, birthday: date) -> date:
    try:
        return birthday.replace(year=year)
    except ValueError:  # 29 February in a common year: celebrate on the 28th
        return date(year, 2, 28)


@attrs.frozen
class BirthdayTrigger:
    """Emits :class:`~crmkit.notifications.events.BirthdayDue` on each contact's birthday.

    "Today" is read in the contact's time zone (``default_timezone`` for a contact without
    one). A birthday on 29 February is kept on 28 February in common years.

    Example:
        >>> BirthdayTrigger().name
        'birthday'

    .. versionadded:: 0.1.0
    """

    name: str = "birthday"
    default_timezone: str = "UTC"

    def fire(self, uow: UnitOfWork, now: datetime) -> list[DomainEvent]:
        """Return a ``BirthdayDue`` for each contact whose birthday it is at ``now``."""
        now = ensure_aware(now, "now")
        zones: dict[str, tzinfo] = {}
        events: list[DomainEvent] = []
        contact: Contact
        for contact in scan(uow.contacts):
            if contact.birthday is None:
                continue
            zone_name = contact.timezone or self.default_timezone
            zone = zones.get(zone_name) or zones.setdefault(zone_name, ZoneInfo(zone_name))
            today = now.astimezone(zone).date()
            if _birthday_in(today.year, contact.birthday) != today:
                continue
            events.append(
                BirthdayDue(
                    aggregate_id=contact.id,
                    occurred_at=now,
                    event_id=occurrence_id(self.name, contact.id, str(today.year)),
                    customer_id=contact.customer_id,
                    name=contact.name,
                    birthday=contact.birthday,
                )
            )
        return events


@attrs.frozen
class InactiveCustomerTrigger:
    """Emits :class:`~crmkit.notifications.events.CustomerNeedsAttention` for quiet customers.

    A customer is quiet when its latest interaction (or, with none, its registration) is at
    least ``after`` ago (about six months by default). It fires once per quiet spell: a new
    interaction starts a new spell.

    Example:
        >>> InactiveCustomerTrigger().after.days
        182

    .. versionadded:: 0.1.0
    """

    name: str = "customer_needs_attention"
    after: timedelta = timedelta(days=182)

    def fire(self, uow: UnitOfWork, now: datetime) -> list[DomainEvent]:
        """Return a ``CustomerNeedsAttention`` for each customer quiet for ``after``."""
        now = ensure_aware(now, "now")
        events: list[DomainEvent] = []
        customer: Customer
        for customer in scan(uow.customers):
            latest = uow.interactions.query(
                Query.where(customer_id=customer.id).order("-occurred_at").take(1)
            ).items
            last = latest[0].occurred_at if latest else customer.created_at
            if now - last < self.after:
                continue
            events.append(
                CustomerNeedsAttention(
                    aggregate_id=customer.id,
                    occurred_at=now,
                    event_id=occurrence_id(self.name, customer.id, last.isoformat()),
                    name=customer.name,
                    owner=customer.owner,
                    last_activity_at=last,
                    inactive_days=(now - last).days,
                )
            )
        return events


def _lead_label(lead: Lead) -> str:
    return lead.name or lead.company or lead.email or lead.phone or lead.id


@attrs.frozen
class LeadFollowUpTrigger:
    """Emits :class:`~crmkit.notifications.events.LeadFollowUpOverdue` for leads not followed up.

    A lead is overdue when it is open, nobody has contacted it yet (``first_contacted_at`` is
    unset) and its ``follow_up_due_at`` is at or before ``now``. It fires once per deadline:
    the event id derives from the lead and its deadline, so a rescheduled deadline fires again.

    The event carries what the built-in ``lead_follow_up_due`` template needs: ``lead`` (the
    lead's name, else its company, email or phone), ``due_at``, and ``name``, whom the message
    greets: the owner's name from ``people`` (a :class:`~crmkit.ports.PeopleDirectory`, the one
    the dispatcher uses), else the owner's user id, else empty. A subscription to a fixed
    address (a sales manager) sets its own ``name`` in ``Subscription.context``, which the
    dispatcher lays over the event's fields.

    Example:
        >>> from datetime import datetime, timedelta, timezone
        >>> from crmkit.adapters.memory import MemoryStore, StaticDirectory
        >>> from crmkit.leads import Lead
        >>> from crmkit.ports import Person
        >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
        >>> store = MemoryStore()
        >>> with store.unit_of_work() as uow:
        ...     lead = Lead.capture(id="lead_1", now=now, source_channel="web_form",
        ...         name="Bob Lin", email="bob@acme.example",
        ...         follow_up_due_at=now + timedelta(hours=24))
        ...     lead.assign_owner("u_amy", now=now)
        ...     uow.leads.add(lead)
        ...     _ = uow.commit()
        >>> trigger = LeadFollowUpTrigger(people=StaticDirectory([Person(id="u_amy", name="Amy")]))
        >>> with store.unit_of_work() as uow:
        ...     early = trigger.fire(uow, now + timedelta(hours=23))
        ...     due = trigger.fire(uow, now + timedelta(hours=24))
        >>> early, [(e.owner, e.name, e.lead, e.due_at.isoformat()) for e in due]
        ([], [('u_amy', 'Amy', 'Bob Lin', '2026-01-06T09:00:00+00:00')])

    .. versionadded:: 0.1.0
    """

    name: str = "lead_follow_up"
    people: PeopleDirectory | None = attrs.field(default=None, eq=False)

    def fire(self, uow: UnitOfWork, now: datetime) -> list[DomainEvent]:
        """Return a ``LeadFollowUpOverdue`` for each open, uncontacted lead due by ``now``."""
        now = ensure_aware(now, "now")
        query = (
            Query.where(is_open=True, first_contacted_at=None)
            .filter("follow_up_due_at", Op.LE, now)
            .order("follow_up_due_at")
        )
        names: dict[str, str] = {}
        events: list[DomainEvent] = []
        lead: Lead
        for lead in scan(uow.leads, query):
            due = lead.follow_up_due_at
            if due is None:  # pragma: no cover - the query selects leads with a deadline
                continue
            owner = lead.owner
            if owner is not None and owner not in names:
                person = self.people.person(owner) if self.people is not None else None
                names[owner] = person.name if person is not None else owner
            events.append(
                LeadFollowUpOverdue(
                    aggregate_id=lead.id,
                    occurred_at=now,
                    event_id=occurrence_id(
                        self.name, lead.id, due.astimezone(timezone.utc).isoformat()
                    ),
                    owner=owner,
                    name="" if owner is None else names[owner],
                    lead=_lead_label(lead),
                    company=lead.company,
                    due_at=due,
                )
            )
        return events
