"""Use cases of the customers context: one handler per command in :mod:`crmkit.customers.commands`.

Each handler checks the access policy (actions ``customers.register``, ``customers.add_contact``,
``customers.log_interaction``, ``customers.rename``, ``customers.tag``,
``customers.assign_owner``, ``customers.record_consent``, ``customers.set_contact_preferences``,
``customers.record_order``, ``customers.record_refund``; the resource is the customer acted on,
or the contact's or order's customer, ``None`` for a registration),
loads what it needs through the unit of work, calls the aggregate, stores the result and commits.
Handlers take their collaborators as keyword arguments; :func:`command_handlers` binds them for
the message bus (``bootstrap()`` does this for you).

Example:
    >>> from crmkit.access import AllowAll
    >>> from crmkit.adapters.memory import MemoryStore
    >>> from crmkit.customers.commands import RegisterCustomer
    >>> from crmkit.kernel import ManualClock, SequentialIds
    >>> store = MemoryStore()
    >>> with store.unit_of_work() as uow:
    ...     customer = register_customer(RegisterCustomer("Acme", "company"), uow,
    ...         clock=ManualClock(), ids=SequentialIds(), policy=AllowAll())
    >>> customer.id, customer.version
    ('cus_000001', 1)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TypeVar

from crmkit.app.messagebus import CommandHandler
from crmkit.customers import Contact, Customer, Interaction, Order, OrderConflict
from crmkit.customers.commands import (
    AddContact,
    AssignCustomerOwner,
    LogInteraction,
    RecordConsent,
    RecordOrder,
    RecordRefund,
    RegisterCustomer,
    RenameCustomer,
    SetContactPreferences,
    TagCustomer,
)
from crmkit.errors import ConflictError, NotFoundError, RuleViolation
from crmkit.kernel.ids import IdGenerator
from crmkit.kernel.time import Clock
from crmkit.ports import AccessPolicy, UnitOfWork

__all__ = [
    "add_contact",
    "assign_customer_owner",
    "command_handlers",
    "log_interaction",
    "record_consent",
    "record_order",
    "record_refund",
    "register_customer",
    "rename_customer",
    "set_contact_preferences",
    "tag_customer",
]


def register_customer(
    command: RegisterCustomer,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
) -> Customer:
    """Register a new customer with a new ``cus_`` id; return it as stored.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> crm.handle(RegisterCustomer("Acme", "company")).name
        'Acme'

    .. versionadded:: 0.1.0
    """
    policy.check(command.actor, "customers.register", None)
    customer = Customer.register(
        id=ids.new_id("cus"),
        name=command.name,
        kind=command.kind,
        now=clock.now(),
        tags=command.tags,
        source=command.source,
        owner=command.owner,
        actor=command.actor,
    )
    uow.customers.add(customer)
    uow.commit()
    return customer


def add_contact(
    command: AddContact,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
) -> Contact:
    """Add a contact to an existing customer (``NotFoundError`` if there is none).

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> crm.handle(AddContact("cus_404", "Amy"))
        Traceback (most recent call last):
        ...
        crmkit.errors.NotFoundError: ...

    .. versionadded:: 0.1.0
    """
    customer = uow.customers.get(command.customer_id)
    policy.check(command.actor, "customers.add_contact", customer)
    contact = Contact.create(
        id=ids.new_id("con"),
        customer_id=customer.id,
        name=command.name,
        now=clock.now(),
        emails=command.emails,
        phones=command.phones,
        region=command.region,
        role=command.role,
        decision_maker=command.decision_maker,
        birthday=command.birthday,
        locale=command.locale,
        preferred_channel=command.preferred_channel,
        actor=command.actor,
    )
    uow.contacts.add(contact)
    uow.commit()
    return contact


def log_interaction(
    command: LogInteraction,
    uow: UnitOfWork,
    *,
    clock: Clock,
    ids: IdGenerator,
    policy: AccessPolicy,
) -> Interaction:
    """Log an interaction with an existing customer; ``occurred_at`` defaults to now.

    The customer must exist (``NotFoundError``). A ``contact_id`` must name an existing contact
    (``NotFoundError``) of that same customer (``RuleViolation`` naming both ids otherwise).

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> acme = crm.register_customer("Acme")
        >>> crm.handle(LogInteraction(acme.id, "call", "Asked for a quote")).kind.value
        'call'

    .. versionadded:: 0.1.0
    """
    customer = uow.customers.get(command.customer_id)
    policy.check(command.actor, "customers.log_interaction", customer)
    if command.contact_id is not None:
        contact = uow.contacts.get(command.contact_id)
        if contact.customer_id != customer.id:
            raise RuleViolation(
                f"contact {contact.id!r} belongs to customer {contact.customer_id!r}, not to "
                f"{customer.id!r}; choose a contact of {customer.id!r} or log the interaction "
                f"on {contact.customer_id!r}",
                details={
                    "contact_id": contact.id,
                    "customer_id": customer.id,
                    "contact_customer_id": contact.customer_id,
                },
            )
    now = clock.now()
    interaction = Interaction.log(
        id=ids.new_id("int"),
        customer_id=customer.id,
        kind=command.kind,
        summary=command.summary,
        occurred_at=command.occurred_at if command.occurred_at is not None else now,
        now=now,
        by=command.by,
        contact_id=command.contact_id,
        channel=command.channel,
        links=command.links,
        actor=command.actor,
    )
    uow.interactions.add(interaction)
    uow.commit()
    return interaction


def _change_customer(
    customer_id: str,
    actor: str | None,
    action: str,
    uow: UnitOfWork,
    policy: AccessPolicy,
    change: Callable[[Customer], None],
) -> Customer:
    """Load a customer, check ``action`` for ``actor``, apply ``change``, save and commit."""
    customer = uow.customers.get(customer_id)
    policy.check(actor, action, customer)
    change(customer)
    uow.customers.save(customer)
    uow.commit()
    return customer


def rename_customer(
    command: RenameCustomer, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Customer:
    """Rename an existing customer; return it as stored.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> acme = crm.register_customer("Acme")
        >>> crm.handle(RenameCustomer(acme.id, "Acme Corp")).name
        'Acme Corp'

    .. versionadded:: 0.1.0
    """
    return _change_customer(
        command.customer_id,
        command.actor,
        "customers.rename",
        uow,
        policy,
        lambda customer: customer.rename(command.name, now=clock.now(), actor=command.actor),
    )


def tag_customer(
    command: TagCustomer, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Customer:
    """Add and remove an existing customer's tags; return it as stored.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> acme = crm.register_customer("Acme", tags=["new"])
        >>> crm.handle(TagCustomer(acme.id, add=["VIP"], remove=["new"])).tags
        ('vip',)

    .. versionadded:: 0.1.0
    """
    return _change_customer(
        command.customer_id,
        command.actor,
        "customers.tag",
        uow,
        policy,
        lambda customer: customer.tag(
            command.add, command.remove, now=clock.now(), actor=command.actor
        ),
    )


def assign_customer_owner(
    command: AssignCustomerOwner, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Customer:
    """Give an existing customer to a user (or to nobody); return it as stored.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> acme = crm.register_customer("Acme")
        >>> crm.handle(AssignCustomerOwner(acme.id, "u_amy")).owner
        'u_amy'

    .. versionadded:: 0.1.0
    """
    return _change_customer(
        command.customer_id,
        command.actor,
        "customers.assign_owner",
        uow,
        policy,
        lambda customer: customer.assign_owner(command.owner, now=clock.now(), actor=command.actor),
    )


def _change_contact(
    contact_id: str,
    actor: str | None,
    action: str,
    uow: UnitOfWork,
    policy: AccessPolicy,
    change: Callable[[Contact], None],
) -> Contact:
    """Load a contact, check ``action`` on its customer for ``actor``, apply, save and commit."""
    contact = uow.contacts.get(contact_id)
    customer = uow.customers.get(contact.customer_id)
    policy.check(actor, action, customer)
    change(contact)
    uow.contacts.save(contact)
    uow.commit()
    return contact


def record_consent(
    command: RecordConsent, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Contact:
    """Append an opt-in or opt-out to an existing contact's consent history; return the contact.

    ``at`` defaults to now and must not be later than now (``ValidationError``).

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> amy = crm.add_contact(crm.register_customer("Acme").id, "Amy")
        >>> amy = crm.handle(RecordConsent(amy.id, "email", True, source="web form"))
        >>> amy.consent_for("email").granted
        True

    .. versionadded:: 0.1.0
    """

    def change(contact: Contact) -> None:
        contact.record_consent(
            command.channel,
            command.granted,
            source=command.source,
            now=clock.now(),
            purpose=command.purpose,
            at=command.at,
            by=command.by,
            note=command.note,
            actor=command.actor,
        )

    return _change_contact(
        command.contact_id, command.actor, "customers.record_consent", uow, policy, change
    )


def set_contact_preferences(
    command: SetContactPreferences, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Contact:
    """Set or clear an existing contact's time zone, quiet hours and preferred channel.

    Each preference that changes records its own event (``ContactTimeZoneChanged``,
    ``ContactQuietHoursChanged``, ``ContactPreferredChannelChanged``); an unchanged one none.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> amy = crm.add_contact(crm.register_customer("Acme").id, "Amy")
        >>> amy = crm.handle(SetContactPreferences(amy.id, timezone="Asia/Taipei"))
        >>> amy.timezone
        'Asia/Taipei'

    .. versionadded:: 0.1.0
    """

    def change(contact: Contact) -> None:
        now = clock.now()
        cleared = set(command.clear)
        if command.timezone is not None or "timezone" in cleared:
            contact.set_time_zone(command.timezone, now=now, actor=command.actor)
        if command.quiet_hours is not None or "quiet_hours" in cleared:
            contact.set_quiet_hours(command.quiet_hours, now=now, actor=command.actor)
        if command.preferred_channel is not None or "preferred_channel" in cleared:
            contact.set_preferred_channel(command.preferred_channel, now=now, actor=command.actor)

    return _change_contact(
        command.contact_id, command.actor, "customers.set_contact_preferences", uow, policy, change
    )


# ----- purchase history ----------------------------------------------------------------------

_ATTEMPTS = 10
R = TypeVar("R")


def _retry(uow: UnitOfWork, once: Callable[[], R]) -> R:
    """Run ``once``; when a concurrent writer got there first, roll back and run it again.

    The second run reads what the other writer stored, so a report racing with the same
    report is answered as a repeat (the effect of once), never as a second order or refund.
    """
    attempt = 1
    while True:
        try:
            return once()
        except ConflictError:
            uow.rollback()
            if attempt >= _ATTEMPTS:
                raise
            attempt += 1


def record_order(
    command: RecordOrder, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Order:
    """Record an order the host reports; the same report again returns the stored order.

    The customer must exist (``NotFoundError``). The order's id is
    :meth:`Order.id_for(source, external_ref) <crmkit.customers.Order.id_for>`: a report of
    a reference already stored with the same data changes nothing and returns the stored
    order; with different data it is an :class:`~crmkit.customers.OrderConflict` naming each
    field that differs.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit import bootstrap
        >>> from crmkit.kernel.money import Money
        >>> crm = bootstrap()
        >>> acme = crm.register_customer("Acme")
        >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> first = crm.handle(RecordOrder(acme.id, "shop", "#1001", at, Money("900", "TWD")))
        >>> again = crm.handle(RecordOrder(acme.id, "shop", "#1001", at, Money("900", "TWD")))
        >>> (again.id, again.version) == (first.id, first.version)
        True
        >>> crm.handle(RecordOrder(acme.id, "shop", "#1001", at, Money("950", "TWD")))
        Traceback (most recent call last):
        ...
        crmkit.customers.purchases.OrderConflict: order '#1001' from 'shop' was already ...

    .. versionadded:: 0.1.0
    """

    def once() -> Order:
        customer = uow.customers.get(command.customer_id)
        policy.check(command.actor, "customers.record_order", customer)
        order = Order.report(
            customer_id=customer.id,
            source=command.source,
            external_ref=command.external_ref,
            ordered_at=command.ordered_at,
            total=command.total,
            now=clock.now(),
            lines=command.lines,
            channel=command.channel,
            region=command.region,
            actor=command.actor,
        )
        try:
            stored = uow.orders.get(order.id)
        except NotFoundError:
            uow.orders.add(order)
            uow.commit()
            return order
        differences = stored.differences(order)
        if differences:
            listed = "; ".join(
                f"{name} was {was}, now {now}" for name, (was, now) in differences.items()
            )
            raise OrderConflict(
                f"order {order.external_ref!r} from {order.source!r} was already reported "
                f"with other data ({listed}); report a changed order as a new reference, or "
                "a refund for what was given back",
                details={
                    "order_id": order.id,
                    "source": order.source,
                    "external_ref": order.external_ref,
                    "fields": {
                        name: {"stored": was, "reported": now}
                        for name, (was, now) in differences.items()
                    },
                },
            )
        return stored

    return _retry(uow, once)


def record_refund(
    command: RecordRefund, uow: UnitOfWork, *, clock: Clock, policy: AccessPolicy
) -> Order:
    """Record a refund of a reported order; return the order with its refunds.

    The order is found by its source and reference (``NotFoundError`` if it was never
    reported). The same refund reference again changes nothing; see
    :meth:`crmkit.customers.Order.refund` for conflicts and the limit.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit import bootstrap
        >>> from crmkit.kernel.money import Money
        >>> crm = bootstrap()
        >>> acme = crm.register_customer("Acme")
        >>> at = datetime(2026, 3, 2, tzinfo=timezone.utc)
        >>> _ = crm.handle(RecordOrder(acme.id, "shop", "#1001", at, Money("900", "TWD")))
        >>> crm.handle(RecordRefund("shop", "#1001", "r-1", Money("200", "TWD"), at)).net
        Money('700', 'TWD')

    .. versionadded:: 0.1.0
    """

    def once() -> Order:
        order = uow.orders.get(Order.id_for(command.source, command.order_ref))
        customer = uow.customers.get(order.customer_id)
        policy.check(command.actor, "customers.record_refund", customer)
        order.refund(
            command.refund_ref,
            command.amount,
            refunded_at=command.refunded_at,
            now=clock.now(),
            reason=command.reason,
            actor=command.actor,
        )
        if order.pending_events:
            uow.orders.save(order)
            uow.commit()
        return order

    return _retry(uow, once)


def command_handlers(
    *, clock: Clock, ids: IdGenerator, policy: AccessPolicy
) -> Mapping[type, CommandHandler]:
    """Return this context's command handlers bound to their collaborators, by command class.

    Example:
        >>> from crmkit.access import AllowAll
        >>> from crmkit.kernel import ManualClock, SequentialIds
        >>> handlers = command_handlers(clock=ManualClock(), ids=SequentialIds(), policy=AllowAll())
        >>> sorted(cls.__name__ for cls in handlers)  # doctest: +NORMALIZE_WHITESPACE
        ['AddContact', 'AssignCustomerOwner', 'LogInteraction', 'RecordConsent',
         'RecordOrder', 'RecordRefund', 'RegisterCustomer', 'RenameCustomer',
         'SetContactPreferences', 'TagCustomer']

    .. versionadded:: 0.1.0
    """
    return {
        RegisterCustomer: functools.partial(register_customer, clock=clock, ids=ids, policy=policy),
        AddContact: functools.partial(add_contact, clock=clock, ids=ids, policy=policy),
        LogInteraction: functools.partial(log_interaction, clock=clock, ids=ids, policy=policy),
        RenameCustomer: functools.partial(rename_customer, clock=clock, policy=policy),
        TagCustomer: functools.partial(tag_customer, clock=clock, policy=policy),
        AssignCustomerOwner: functools.partial(assign_customer_owner, clock=clock, policy=policy),
        RecordConsent: functools.partial(record_consent, clock=clock, policy=policy),
        SetContactPreferences: functools.partial(
            set_contact_preferences, clock=clock, policy=policy
        ),
        RecordOrder: functools.partial(record_order, clock=clock, policy=policy),
        RecordRefund: functools.partial(record_refund, clock=clock, policy=policy),
    }
