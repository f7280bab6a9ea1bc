"""Subscriptions: which event sends which template, to whom, through which channel.

Subscriptions are data: a host writes them in code, JSON or YAML and switches each on or off.
A :class:`Subscription` names an ``event_type``, an optional ``when`` filter on the event's
fields, the ``template``, the ``channel``, the ``purpose`` (marketing or transactional, which
decides how consent applies) and who gets it (:class:`Recipient`): a fixed address, the user
named by one of the event's fields (looked up in the host's people directory), or the contact
named by one of the event's fields (whose consent and quiet hours then apply).

Example:
    >>> subs = Subscriptions.of(Subscription(
    ...     name="welcome-owner", event_type="customers.CustomerRegistered",
    ...     template="customer_registered", to=Recipient.user("owner")))
    >>> from crmkit.serialization import structure, unstructure
    >>> structure(unstructure(subs), Subscriptions) == subs
    True
    >>> [s.name for s in subs.for_event_type("customers.CustomerRegistered")]
    ['welcome-owner']

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from crmkit.customers import Purpose
from crmkit.errors import DefinitionError, FieldError, ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.events import DomainEvent

__all__ = [
    "Recipient",
    "RecipientKind",
    "Subscription",
    "Subscriptions",
    "event_fields",
]


class RecipientKind(StrEnum):
    """How a subscription finds its recipient.

    Example:
        >>> RecipientKind("contact")
        <RecipientKind.CONTACT: 'contact'>

    .. versionadded:: 0.1.0
    """

    ADDRESS = "address"  # a fixed address: value is the address itself
    USER = "user"  # value names the event field holding a user id (the people directory)
    CONTACT = "contact"  # value names the event field holding a contact id


def _kind(value: object) -> RecipientKind:
    return RecipientKind(value)


@attrs.frozen
class Recipient:
    """Who a subscription's message goes to.

    Example:
        >>> Recipient.address("ops@example.com"), Recipient.contact("contact_id").kind.value
        (Recipient(kind=<RecipientKind.ADDRESS: 'address'>, value='ops@example.com'), 'contact')

    .. versionadded:: 0.1.0
    """

    kind: RecipientKind = attrs.field(converter=_kind)
    value: str = attrs.field(validator=v.text(500))

    @classmethod
    def address(cls, address: str) -> Recipient:
        """A fixed address (an email address, a webhook name, a phone number)."""
        return cls(RecipientKind.ADDRESS, address)

    @classmethod
    def user(cls, field: str) -> Recipient:
        """The user whose id is in the event's ``field`` (e.g. ``"owner"``)."""
        return cls(RecipientKind.USER, field)

    @classmethod
    def contact(cls, field: str) -> Recipient:
        """The contact whose id is in the event's ``field`` (e.g. ``"contact_id"``)."""
        return cls(RecipientKind.CONTACT, field)


def _purpose(value: object) -> Purpose:
    return Purpose(value)


def _flat_values(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Mapping):
        raise ValidationError(f"must be a dict, not {type(value).__name__}", path=attribute.name)
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, (str, int, bool)) or item is None:
            raise ValidationError(
                f"must map names to str, int or bool values, got {key!r}: {item!r}",
                path=f"{attribute.name}.{key}",
            )


def event_fields(event: DomainEvent) -> dict[str, Any]:
    """Return an event's fields by name, enums as their values, for filters and templates.

    Example:
        >>> from datetime import datetime, timezone
        >>> e = DomainEvent(aggregate_id="cus_1",
        ...                 occurred_at=datetime(2026, 1, 5, tzinfo=timezone.utc))
        >>> sorted(event_fields(e))
        ['actor', 'aggregate_id', 'aggregate_version', 'event_id', 'event_type', 'occurred_at']

    .. versionadded:: 0.1.0
    """
    fields: dict[str, Any] = {"event_type": event.event_type}
    for attribute in attrs.fields(type(event)):
        value = getattr(event, attribute.name)
        if isinstance(value, StrEnum):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        fields[attribute.name] = value
    return fields


@attrs.frozen
class Subscription:
    """One rule: on ``event_type`` (when its fields match ``when``), send ``template`` to ``to``.

    ``channel`` names the notifier to use (``"email"``, ``"sms"``, ``"webhook"``...), or is
    ``"preferred"``: the contact's preferred channel (email when they have none).
    ``context`` adds fixed values to the template's context (the event's fields are there
    already); ``locale`` forces a language (else the recipient's); ``urgent`` lets the message
    through a contact's quiet hours.

    Example:
        >>> sub = Subscription(name="vip-welcome", event_type="customers.CustomerTagged",
        ...     template="customer_registered", to=Recipient.address("vip-desk@example.com"),
        ...     when={"tag": "vip"})
        >>> sub.purpose.value, sub.enabled
        ('transactional', True)

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=v.text(200))
    event_type: str = attrs.field(validator=v.text(200))
    template: str = attrs.field(validator=v.text(200))
    to: Recipient = attrs.field(validator=attrs.validators.instance_of(Recipient))
    channel: str = attrs.field(default="email", validator=v.text(50))
    purpose: Purpose = attrs.field(default=Purpose.TRANSACTIONAL, converter=_purpose)
    enabled: bool = True
    urgent: bool = False
    locale: str | None = None
    when: Mapping[str, Any] = attrs.field(factory=dict, validator=_flat_values)
    context: Mapping[str, Any] = attrs.field(factory=dict, validator=_flat_values)

    def matches(self, event: DomainEvent, fields: Mapping[str, Any] | None = None) -> bool:
        """Whether this enabled subscription applies to ``event``.

        A ``when`` value matches a field equal to it, or a list field that contains it.
        """
        if not self.enabled or event.event_type != self.event_type:
            return False
        if not self.when:
            return True
        fields = event_fields(event) if fields is None else fields
        for key, wanted in self.when.items():
            actual = fields.get(key)
            if actual != wanted and not (isinstance(actual, list) and wanted in actual):
                return False
        return True


@attrs.frozen
class Subscriptions:
    """A set of subscriptions with unique names, looked up by event type.

    Example:
        >>> a = Subscription(name="a", event_type="x.Y", template="t",
        ...                  to=Recipient.address("o@x.io"))
        >>> subs = Subscriptions.of(a)
        >>> subs.switch("a", enabled=False).get("a").enabled
        False
        >>> Subscriptions.of(a, a)
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: items[1].name: the name 'a' is used twice; ...

    .. versionadded:: 0.1.0
    """

    items: tuple[Subscription, ...] = ()

    def __attrs_post_init__(self) -> None:
        problems: list[FieldError] = []
        seen: set[str] = set()
        for n, sub in enumerate(self.items):
            if not isinstance(sub, Subscription):
                problems.append(
                    FieldError(f"items[{n}]", f"must be a Subscription, not {type(sub).__name__}")
                )
            elif sub.name in seen:
                problems.append(
                    FieldError(
                        f"items[{n}].name",
                        f"the name {sub.name!r} is used twice; each subscription needs its own",
                    )
                )
            else:
                seen.add(sub.name)
        if problems:
            raise DefinitionError("; ".join(f"{p.path}: {p.message}" for p in problems))

    @classmethod
    def of(cls, *items: Subscription) -> Subscriptions:
        """Build a set from the given subscriptions."""
        return cls(tuple(items))

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def get(self, name: str) -> Subscription:
        """Return the subscription called ``name``."""
        for sub in self.items:
            if sub.name == name:
                return sub
        known = ", ".join(s.name for s in self.items) or "none"
        raise ValidationError(f"no subscription named {name!r}; known: {known}", path="name")

    def for_event_type(self, event_type: str) -> list[Subscription]:
        """Return the enabled subscriptions for ``event_type``, in order."""
        return [s for s in self.items if s.enabled and s.event_type == event_type]

    def switch(self, name: str, *, enabled: bool) -> Subscriptions:
        """Return a copy with ``name`` switched on or off."""
        self.get(name)
        return Subscriptions(
            tuple(attrs.evolve(s, enabled=enabled) if s.name == name else s for s in self.items)
        )

    def plus(self, items: Iterable[Subscription]) -> Subscriptions:
        """Return a copy with ``items`` added (names must stay unique)."""
        return Subscriptions((*self.items, *items))
