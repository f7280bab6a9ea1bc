"""Use cases of the customers context: one handler per command in :mod:`crmkit.customers.commands`.

Each handler checks the access policy (actions ``customers.register``, ``customers.add_contact``,
``customers.log_interaction``, ``customers.rename``, ``customers.tag``,
``customers.assign_owner``; the resource is the customer acted on, ``None`` for a registration),
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

from crmkit.app.messagebus import CommandHandler
from crmkit.customers import Contact, Customer, Interaction
from crmkit.customers.commands import (
    AddContact,
    AssignCustomerOwner,
    LogInteraction,
    RegisterCustomer,
    RenameCustomer,
    TagCustomer,
)
from crmkit.errors import RuleViolation
from crmkit.kernel.ids import IdGenerator
from crmkit.kernel.time import Clock
from crmkit.ports import AccessPolicy, UnitOfWork

__all__ = [
    "add_contact",
    "assign_customer_owner",
    "command_handlers",
    "log_interaction",
    "register_customer",
    "rename_customer",
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


def command_handlers(
    *, clock: Clock, ids: IdGenerator, policy: AccessPolicy
) -> Mapping[type, CommandHandler]:
    """Return this context's command handlers bound to their collaborators, by command class.

    Example:
        >>> from crmkit.access import AllowAll
        >>> from crmkit.kernel import ManualClock, SequentialIds
        >>> handlers = command_handlers(clock=ManualClock(), ids=SequentialIds(), policy=AllowAll())
        >>> sorted(cls.__name__ for cls in handlers)  # doctest: +NORMALIZE_WHITESPACE
        ['AddContact', 'AssignCustomerOwner', 'LogInteraction', 'RegisterCustomer',
         'RenameCustomer', 'TagCustomer']

    .. versionadded:: 0.1.0
    """
    return {
        RegisterCustomer: functools.partial(register_customer, clock=clock, ids=ids, policy=policy),
        AddContact: functools.partial(add_contact, clock=clock, ids=ids, policy=policy),
        LogInteraction: functools.partial(log_interaction, clock=clock, ids=ids, policy=policy),
        RenameCustomer: functools.partial(rename_customer, clock=clock, policy=policy),
        TagCustomer: functools.partial(tag_customer, clock=clock, policy=policy),
        AssignCustomerOwner: functools.partial(assign_customer_owner, clock=clock, policy=policy),
    }
