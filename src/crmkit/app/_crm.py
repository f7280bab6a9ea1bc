"""The CRM facade: the one object a host holds to run crmkit's use cases."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, TypeVar, cast

import attrs

from crmkit.app.messagebus import MessageBus
from crmkit.customers import (
    Channel,
    Contact,
    Customer,
    Interaction,
    Lifecycle,
    Purpose,
    QuietHours,
)
from crmkit.customers.commands import (
    AddContact,
    AssignCustomerOwner,
    LogInteraction,
    RecordConsent,
    RegisterCustomer,
    RenameCustomer,
    SetContactPreferences,
    TagCustomer,
)
from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.ids import IdGenerator, check_id
from crmkit.kernel.query import Op, Page, Query
from crmkit.kernel.time import Clock
from crmkit.ports import AccessPolicy, Notifier, Store

__all__ = ["CRM"]

A = TypeVar("A")


def _optional_search_text(value: object, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"must be text or None, not {type(value).__name__}", path=path)
    return value.strip() or None


@attrs.frozen(kw_only=True)
class CRM:
    """crmkit, wired: run use cases and read customers. Build it with :func:`bootstrap`.

    Every write goes through :attr:`bus` as a command, in its own unit of work, and returns the
    aggregate as stored. Reads return fresh copies from :attr:`store`.

    Attributes:
        store: where aggregates live (``unit_of_work()`` and ``outbox``).
        clock: the time used for ``now``.
        ids: makes new ids.
        notifier: delivers notifications.
        policy: decides who may do what.
        bus: the message bus commands go through; subscribe event handlers here.

    Example:
        >>> from crmkit import bootstrap
        >>> crm = bootstrap()
        >>> tea = crm.register_customer("Formosa Tea Co.", tags=["tea"], source="2023 trade show")
        >>> amy = crm.add_contact(tea.id, "Lin Mei-ling", phones=["0912 345 678"], region="TW")
        >>> call = crm.log_interaction(tea.id, "call", "Asked for a quote", contact_id=amy.id)
        >>> [c.phones for c in crm.contacts_of(tea.id)], crm.timeline(tea.id)[0].summary
        ([('+886912345678',)], 'Asked for a quote')

    .. versionadded:: 0.1.0
    """

    store: Store
    clock: Clock
    ids: IdGenerator
    notifier: Notifier
    policy: AccessPolicy
    bus: MessageBus

    # ----- writes ------------------------------------------------------------------------
    def handle(self, command: object) -> Any:
        """Handle any command through the bus and return its handler's result.

        Example:
            >>> from crmkit import bootstrap
            >>> from crmkit.customers.commands import RegisterCustomer
            >>> bootstrap().handle(RegisterCustomer("Acme", "company")).kind.value
            'company'

        .. versionadded:: 0.1.0
        """
        return self.bus.handle(command)

    def _run(self, command: object, result: type[A]) -> A:
        return cast(A, self.bus.handle(command))

    def register_customer(
        self,
        name: str,
        kind: str = "company",
        *,
        tags: Iterable[str] = (),
        source: str | None = None,
        owner: str | None = None,
        actor: str | None = None,
    ) -> Customer:
        """Register a customer (``kind`` is ``"company"`` or ``"person"``) and return it.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> crm.register_customer("Wang Xiao-ming", "person", tags=["VIP"]).tags
            ('vip',)
            >>> crm.register_customer("")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: name: must not be empty

        .. versionadded:: 0.1.0
        """
        command = RegisterCustomer(name, kind, tags=tags, source=source, owner=owner, actor=actor)
        return self._run(command, Customer)

    def add_contact(
        self,
        customer_id: str,
        name: str,
        *,
        emails: Iterable[str] = (),
        phones: Iterable[str] = (),
        region: str | None = None,
        role: str | None = None,
        decision_maker: bool = False,
        birthday: date | None = None,
        locale: str | None = None,
        preferred_channel: Channel | str | None = None,
        actor: str | None = None,
    ) -> Contact:
        """Add a contact to a customer; phones local to ``region`` are stored in E.164.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> shop = crm.register_customer("Huangpu Trading")
            >>> li = crm.add_contact(shop.id, "Li Na", phones=["138 0013 8000"], region="CN",
            ...                      emails=["li.na@example.com"], preferred_channel="wechat")
            >>> li.phones, li.preferred_channel.value
            (('+8613800138000',), 'wechat')

        .. versionadded:: 0.1.0
        """
        command = AddContact(
            customer_id,
            name,
            emails=emails,
            phones=phones,
            region=region,
            role=role,
            decision_maker=decision_maker,
            birthday=birthday,
            locale=locale,
            preferred_channel=preferred_channel,
            actor=actor,
        )
        return self._run(command, Contact)

    def log_interaction(
        self,
        customer_id: str,
        kind: str,
        summary: str,
        *,
        occurred_at: datetime | None = None,
        by: str | None = None,
        contact_id: str | None = None,
        channel: Channel | str | None = None,
        links: Iterable[str] = (),
        actor: str | None = None,
    ) -> Interaction:
        """Log an interaction with a customer; ``occurred_at`` (aware) defaults to now.

        Example:
            >>> from datetime import datetime
            >>> from zoneinfo import ZoneInfo
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> at = datetime(2026, 3, 2, 15, 0, tzinfo=ZoneInfo("Asia/Taipei"))
            >>> crm.log_interaction(tea.id, "meeting", "Tasting", occurred_at=at).occurred_at.hour
            15

        .. versionadded:: 0.1.0
        """
        command = LogInteraction(
            customer_id,
            kind,
            summary,
            occurred_at=occurred_at,
            by=by,
            contact_id=contact_id,
            channel=channel,
            links=links,
            actor=actor,
        )
        return self._run(command, Interaction)

    def rename_customer(self, customer_id: str, name: str, *, actor: str | None = None) -> Customer:
        """Rename a customer and return it.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea")
            >>> crm.rename_customer(tea.id, "Formosa Tea Co.").name
            'Formosa Tea Co.'

        .. versionadded:: 0.1.0
        """
        return self._run(RenameCustomer(customer_id, name, actor=actor), Customer)

    def tag_customer(
        self,
        customer_id: str,
        *,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        actor: str | None = None,
    ) -> Customer:
        """Add and remove a customer's tags and return it.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.", tags=["lead"])
            >>> crm.tag_customer(tea.id, add=["Wholesale"], remove=["lead"]).tags
            ('wholesale',)

        .. versionadded:: 0.1.0
        """
        command = TagCustomer(customer_id, add=add, remove=remove, actor=actor)
        return self._run(command, Customer)

    def assign_customer_owner(
        self, customer_id: str, owner: str | None, *, actor: str | None = None
    ) -> Customer:
        """Give a customer to user ``owner`` (or to nobody with ``None``) and return it.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> crm.assign_customer_owner(tea.id, "u_amy").owner
            'u_amy'

        .. versionadded:: 0.1.0
        """
        return self._run(AssignCustomerOwner(customer_id, owner, actor=actor), Customer)

    def record_consent(
        self,
        contact_id: str,
        channel: Channel | str,
        granted: bool,
        *,
        source: str,
        purpose: Purpose | str = Purpose.MARKETING,
        at: datetime | None = None,
        by: str | None = None,
        note: str | None = None,
        actor: str | None = None,
    ) -> Contact:
        """Record an opt-in (``granted=True``) or opt-out for a contact's channel; return it.

        The consent history only grows; the latest statement counts. ``source`` says how you
        know (``"web form"``, ``"phone call"``, ``"import"``); ``at`` (aware, not in the future)
        is when the contact said so and defaults to now; ``purpose`` is ``"marketing"`` unless
        you say ``"transactional"``.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> amy = crm.add_contact(crm.register_customer("Acme").id, "Amy")
            >>> _ = crm.record_consent(amy.id, "sms", True, source="web form")
            >>> amy = crm.record_consent(amy.id, "sms", False, source="replied STOP")
            >>> [(r.granted, r.source) for r in amy.consents]
            [(True, 'web form'), (False, 'replied STOP')]

        .. versionadded:: 0.1.0
        """
        command = RecordConsent(
            contact_id,
            channel,
            granted,
            source=source,
            purpose=purpose,
            at=at,
            by=by,
            note=note,
            actor=actor,
        )
        return self._run(command, Contact)

    def set_contact_preferences(
        self,
        contact_id: str,
        *,
        timezone: str | None = None,
        quiet_hours: QuietHours | tuple[object, object] | None = None,
        preferred_channel: Channel | str | None = None,
        clear: Iterable[str] = (),
        actor: str | None = None,
    ) -> Contact:
        """Set a contact's time zone, quiet hours and preferred channel; return the contact.

        A preference left ``None`` keeps its value; name it in ``clear`` to remove it.
        ``quiet_hours`` is a ``(start, end)`` pair of wall-clock times in the contact's zone and
        may wrap midnight (``("22:00", "08:00")``).

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> amy = crm.add_contact(crm.register_customer("Acme").id, "Amy")
            >>> amy = crm.set_contact_preferences(amy.id, timezone="Asia/Taipei",
            ...     quiet_hours=("22:00", "08:00"), preferred_channel="line")
            >>> amy.timezone, str(amy.quiet_hours), amy.preferred_channel.value
            ('Asia/Taipei', '22:00-08:00', 'line')
            >>> crm.set_contact_preferences(amy.id, clear=["quiet_hours"]).quiet_hours is None
            True

        .. versionadded:: 0.1.0
        """
        command = SetContactPreferences(
            contact_id,
            timezone=timezone,
            quiet_hours=quiet_hours,
            preferred_channel=preferred_channel,
            clear=clear,
            actor=actor,
        )
        return self._run(command, Contact)

    # ----- reads -------------------------------------------------------------------------
    def get_customer(self, id: str) -> Customer:
        """Return the customer with ``id`` (``NotFoundError`` if there is none).

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> crm.get_customer(tea.id).name
            'Formosa Tea Co.'
            >>> crm.get_customer("cus_404")
            Traceback (most recent call last):
            ...
            crmkit.errors.NotFoundError: ...

        .. versionadded:: 0.1.0
        """
        check_id(id, "id")
        with self.store.unit_of_work() as uow:
            return uow.customers.get(id)

    def find_customers(
        self,
        *,
        name: str | None = None,
        tag: str | None = None,
        owner: str | None = None,
        lifecycle: Lifecycle | str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[Customer]:
        """Return one page of customers, sorted by name; every filter given must hold.

        Args:
            name: the name starts with this, ignoring case (blank means no filter).
            tag: the customer has this tag (ASCII tags ignore case; blank means no filter).
            owner: the customer is owned by this user id.
            lifecycle: ``"prospect"``, ``"active"``, ``"at_risk"`` or ``"churned"``.
            limit: page size, 1 to 1000.
            cursor: ``next_cursor`` of the previous page, to get the next one.

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> for name in ["Formosa Tea Co.", "Huangpu Trading", "Formosa Oolong Ltd."]:
            ...     _ = crm.register_customer(name)
            >>> page = crm.find_customers(name="formosa", limit=1)
            >>> [c.name for c in page.items]
            ['Formosa Oolong Ltd.']
            >>> [c.name for c in crm.find_customers(name="formosa", cursor=page.next_cursor).items]
            ['Formosa Tea Co.']

        .. versionadded:: 0.1.0
        """
        query = Query().order("name_folded").take(limit)
        prefix = _optional_search_text(name, "name")
        if prefix is not None:
            query = query.filter("name_folded", Op.STARTSWITH, prefix.casefold())
        wanted_tag = _optional_search_text(tag, "tag")
        if wanted_tag is not None:
            folded = wanted_tag.casefold() if wanted_tag.isascii() else wanted_tag
            query = query.filter("tags", Op.CONTAINS, folded)
        if owner is not None:
            query = query.filter("owner", Op.EQ, check_id(owner, "owner"))
        if lifecycle is not None:
            stage = v.to_enum(Lifecycle, "lifecycle")(lifecycle)
            query = query.filter("lifecycle", Op.EQ, stage.value)
        if cursor is not None and not isinstance(cursor, str):
            raise ValidationError(
                f"must be a cursor string or None, not {type(cursor).__name__}", path="cursor"
            )
        query = query.after(cursor)
        with self.store.unit_of_work() as uow:
            return uow.customers.query(query)

    def contacts_of(self, customer_id: str) -> list[Contact]:
        """Return a customer's contacts, oldest first (``NotFoundError`` for no such customer).

        Example:
            >>> from crmkit import bootstrap
            >>> crm = bootstrap()
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> _ = crm.add_contact(tea.id, "Lin Mei-ling")
            >>> _ = crm.add_contact(tea.id, "Chen Wei")
            >>> [c.name for c in crm.contacts_of(tea.id)]
            ['Lin Mei-ling', 'Chen Wei']

        .. versionadded:: 0.1.0
        """
        check_id(customer_id, "customer_id")
        query = Query.where(customer_id=customer_id).take(1000)
        with self.store.unit_of_work() as uow:
            uow.customers.get(customer_id)
            return _all_pages(uow.contacts.query, query)

    def timeline(self, customer_id: str) -> list[Interaction]:
        """Return a customer's interactions, newest first (``NotFoundError`` for no customer).

        Example:
            >>> from datetime import timedelta
            >>> from crmkit import bootstrap, ManualClock
            >>> crm = bootstrap(clock=ManualClock())
            >>> tea = crm.register_customer("Formosa Tea Co.")
            >>> _ = crm.log_interaction(tea.id, "call", "First call")
            >>> _ = crm.clock.advance(timedelta(days=1))
            >>> _ = crm.log_interaction(tea.id, "meeting", "Tasting")
            >>> [i.summary for i in crm.timeline(tea.id)]
            ['Tasting', 'First call']

        .. versionadded:: 0.1.0
        """
        check_id(customer_id, "customer_id")
        query = Query.where(customer_id=customer_id).order("-occurred_at", "-id").take(1000)
        with self.store.unit_of_work() as uow:
            uow.customers.get(customer_id)
            return _all_pages(uow.interactions.query, query)


def _all_pages(run: Callable[[Query], Page[A]], query: Query) -> list[A]:
    found: list[A] = []
    while True:
        page = run(query)
        found.extend(page.items)
        if page.next_cursor is None:
            return found
        query = query.after(page.next_cursor)
