"""Commands of the customers context: what a user asks crmkit to do with customers.

Commands are imperative (``RegisterCustomer``, not ``CustomerRegistered``), immutable, and checked
when they are built: a command that exists is well-formed, and a malformed one raises a
:class:`~crmkit.errors.ValidationError` naming the field. Whether the command is *allowed* (the
customer exists, the actor may do it) is decided when the message bus handles it.

Every command carries ``actor``: the id of the user (or system) asking, or ``None``.

Example:
    >>> from crmkit.customers.commands import RegisterCustomer
    >>> cmd = RegisterCustomer("Formosa Tea Co.", "company", tags=["Tea", "tea"], actor="u_amy")
    >>> cmd.kind.value, cmd.tags, cmd.actor
    ('company', ('tea',), 'u_amy')
    >>> RegisterCustomer("  ", "company")
    Traceback (most recent call last):
    ...
    crmkit.errors.ValidationError: name: must not be empty

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import attrs
import phonenumbers

from crmkit.customers._consent import Channel, Purpose, QuietHours, _timezone_name
from crmkit.customers._contact_points import normalize_phone
from crmkit.customers._model import (
    CustomerKind,
    InteractionKind,
    _emails,
    _links,
    _locale,
    _to_quiet_hours,
)
from crmkit.customers.purchases import OrderLine, _lines
from crmkit.customers.purchases import _region as _purchase_region
from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel.ids import check_id
from crmkit.kernel.money import Money
from crmkit.kernel.time import validate_aware, validate_optional_aware

__all__ = [
    "AddContact",
    "AssignCustomerOwner",
    "LogInteraction",
    "RecordConsent",
    "RecordOrder",
    "RecordRefund",
    "RegisterCustomer",
    "RenameCustomer",
    "SetContactPreferences",
    "ShowCustomer360",
    "ShowSegments",
    "TagCustomer",
]


def _id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_id(value, attribute.name)


def _optional_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _fold_tag(tag: str) -> str:
    # The same normalisation as Customer.tags: ASCII tags are case-insensitive.
    return tag.casefold() if tag.isascii() else tag


_to_tags = v.text_tuple("tags", _fold_tag)
_to_add = v.text_tuple("add", _fold_tag)
_to_remove = v.text_tuple("remove", _fold_tag)
_to_customer_kind = v.to_enum(CustomerKind, "kind")
_to_interaction_kind = v.to_enum(InteractionKind, "kind")
_to_preferred_channel = v.to_optional_enum(Channel, "preferred_channel")
_to_channel = v.to_optional_enum(Channel, "channel")


def _tags(value: object) -> tuple[str, ...]:
    return _to_tags(value)


def _add(value: object) -> tuple[str, ...]:
    return _to_add(value)


def _remove(value: object) -> tuple[str, ...]:
    return _to_remove(value)


def _customer_kind(value: object) -> CustomerKind:
    return _to_customer_kind(value)


def _interaction_kind(value: object) -> InteractionKind:
    return _to_interaction_kind(value)


def _preferred_channel(value: object) -> Channel | None:
    return _to_preferred_channel(value)


def _channel(value: object) -> Channel | None:
    return _to_channel(value)


def _date(instance: Any, attribute: Any, value: date | None) -> None:
    v.optional_date(instance, attribute, value)


def _aware(instance: Any, attribute: Any, value: datetime | None) -> None:
    validate_optional_aware(instance, attribute, value)


def _region(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="region")
    code = value.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise ValidationError(
            f"{value!r} is not a region code for phone numbers (e.g. 'TW', 'CN', 'HK', 'US')",
            path="region",
        )
    return code


def _phones(value: object) -> tuple[str, ...]:
    return v.text_tuple("phones", max_items=10)(value)


def _phones_readable(instance: AddContact, _attribute: object, value: tuple[str, ...]) -> None:
    for i, phone in enumerate(value):
        try:
            normalize_phone(phone, instance.region)
        except ValidationError as exc:
            raise exc.at(f"phones[{i}]") from None


@attrs.frozen
class RegisterCustomer:
    """Register a new customer: a company or a person.

    Args:
        name: the customer's name (1 to 200 characters).
        kind: ``"company"`` or ``"person"`` (or a :class:`~crmkit.customers.CustomerKind`).
        tags: labels; ASCII tags are compared without case, duplicates dropped.
        source: where the customer came from (``"2023 trade show"``).
        owner: the id of the user who owns the relationship.
        actor: who asks.

    Example:
        >>> RegisterCustomer("Acme", "shop")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: kind: 'shop' is not one of 'company', 'person'

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    kind: CustomerKind = attrs.field(converter=_customer_kind)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_tags)
    source: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(200)
    )
    owner: str | None = attrs.field(default=None, validator=_optional_id)
    actor: str | None = attrs.field(default=None, validator=_optional_id)


@attrs.frozen
class AddContact:
    """Add a contact person to an existing customer.

    Phone numbers may be written the local way when ``region`` says where (``"0912 345 678"``
    with ``region="TW"``); they are stored in E.164 (``"+886912345678"``).

    Args:
        customer_id: the customer the contact belongs to.
        name: the contact's name.
        emails: email addresses (checked and normalised).
        phones: phone numbers, in E.164 or local to ``region``.
        region: the ISO 3166 region code to read local phone numbers (``"TW"``, ``"CN"``).
        role: the contact's role (``"Purchasing manager"``).
        decision_maker: whether the contact decides on purchases.
        birthday: a ``date``.
        locale: the contact's language (``"zh_Hant_TW"``).
        preferred_channel: how they like to be reached (``"line"``, ``"email"``, ...).
        actor: who asks.

    Example:
        >>> cmd = AddContact("cus_1", "Lin Mei-ling", phones=["0912 345 678"], region="tw",
        ...                  emails=["Mei@Example.com"])
        >>> cmd.region, cmd.emails
        ('TW', ('Mei@example.com',))
        >>> AddContact("cus_1", "Lin", phones=["12345"], region="TW")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: phones[0]: '12345' is not a valid phone number for region TW

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    emails: tuple[str, ...] = attrs.field(default=(), converter=_emails)
    phones: tuple[str, ...] = attrs.field(default=(), converter=_phones, validator=_phones_readable)
    region: str | None = attrs.field(default=None, converter=_region)
    role: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(100)
    )
    decision_maker: bool = attrs.field(default=False, validator=v.of_type(bool))
    birthday: date | None = attrs.field(default=None, validator=_date)
    locale: str | None = attrs.field(default=None, converter=_locale)
    preferred_channel: Channel | None = attrs.field(default=None, converter=_preferred_channel)
    actor: str | None = attrs.field(default=None, validator=_optional_id)


@attrs.frozen
class LogInteraction:
    """Log a call, email, meeting, visit, message or note with an existing customer.

    Args:
        customer_id: the customer it was with.
        kind: ``"call"``, ``"email"``, ``"meeting"``, ``"visit"``, ``"message"`` or ``"note"``.
        summary: what happened (1 to 2000 characters).
        occurred_at: when (timezone-aware); ``None`` means now, by the CRM's clock.
        by: the id of the user who had the interaction.
        contact_id: the customer's contact it was with, if any.
        channel: the channel used (``"phone"``, ``"line"``, ...).
        links: ids of related records (a quote, an opportunity).
        actor: who asks.

    Example:
        >>> from datetime import datetime
        >>> LogInteraction("cus_1", "call", "Asked for a quote", occurred_at=datetime(2026, 3, 2))
        Traceback (most recent call last):
        ...
        crmkit.errors.NaiveDatetimeError: occurred_at: must be timezone-aware ...

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    kind: InteractionKind = attrs.field(converter=_interaction_kind)
    summary: str = attrs.field(converter=v.strip, validator=v.text(2000))
    occurred_at: datetime | None = attrs.field(default=None, validator=_aware)
    by: str | None = attrs.field(default=None, validator=_optional_id)
    contact_id: str | None = attrs.field(default=None, validator=_optional_id)
    channel: Channel | None = attrs.field(default=None, converter=_channel)
    links: tuple[str, ...] = attrs.field(default=(), converter=_links)
    actor: str | None = attrs.field(default=None, validator=_optional_id)


@attrs.frozen
class RenameCustomer:
    """Give a customer a new name.

    Example:
        >>> RenameCustomer("cus_1", " Formosa Tea Company ").name
        'Formosa Tea Company'

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    actor: str | None = attrs.field(default=None, validator=_optional_id)


@attrs.frozen
class TagCustomer:
    """Add tags to and remove tags from a customer (tags in both are removed).

    Example:
        >>> TagCustomer("cus_1", add=["VIP"], remove=["new"]).add
        ('vip',)
        >>> TagCustomer("cus_1", add="vip")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: add: must be a list of text, not str

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    add: tuple[str, ...] = attrs.field(default=(), converter=_add)
    remove: tuple[str, ...] = attrs.field(default=(), converter=_remove)
    actor: str | None = attrs.field(default=None, validator=_optional_id)


@attrs.frozen
class AssignCustomerOwner:
    """Give a customer to a user (``owner`` is a user id), or to nobody with ``None``.

    Example:
        >>> AssignCustomerOwner("cus_1", "u_amy").owner
        'u_amy'
        >>> AssignCustomerOwner("cus_1", None).owner is None
        True

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    owner: str | None = attrs.field(validator=_optional_id)
    actor: str | None = attrs.field(default=None, validator=_optional_id)


_to_consent_channel = v.to_enum(Channel, "channel")
_to_purpose = v.to_enum(Purpose, "purpose")
#: The preferences :class:`SetContactPreferences` can set or clear.
_PREFERENCES = ("preferred_channel", "quiet_hours", "timezone")


def _consent_channel(value: object) -> Channel:
    return _to_consent_channel(value)


def _purpose(value: object) -> Purpose:
    return _to_purpose(value)


def _timezone(value: object) -> str | None:
    return _timezone_name(value, "timezone")


def _quiet_hours(value: object) -> QuietHours | None:
    return _to_quiet_hours(value)


def _clear(value: object) -> tuple[str, ...]:
    names = v.text_tuple("clear", max_items=len(_PREFERENCES))(value)
    for i, name in enumerate(names):
        if name not in _PREFERENCES:
            raise ValidationError(
                f"{name!r} is not a preference; clear any of {', '.join(_PREFERENCES)}",
                path=f"clear[{i}]",
            )
    return tuple(sorted(names))


@attrs.frozen
class RecordConsent:
    """Record that a contact opted in to (``granted=True``) or out of a purpose on a channel.

    The contact's consent history only grows: this appends a
    :class:`~crmkit.customers.ConsentRecord`, it never edits one.

    Args:
        contact_id: the contact who said so.
        channel: ``"email"``, ``"sms"``, ``"line"``, ... (a :class:`~crmkit.customers.Channel`).
        granted: ``True`` to opt in, ``False`` to opt out.
        source: how we know (``"web form"``, ``"phone call"``, ``"import"``), 1 to 200
            characters; it is the evidence, so it is required.
        purpose: ``"marketing"`` (the default) or ``"transactional"``.
        at: when the contact said so (aware); ``None`` means now. Not in the future.
        by: the user who took the statement; defaults to ``actor``.
        note: free text kept with the record (up to 1000 characters).
        actor: who asks.

    Example:
        >>> cmd = RecordConsent("con_1", "sms", False, source=" phone call ")
        >>> cmd.channel.value, cmd.purpose.value, cmd.source
        ('sms', 'marketing', 'phone call')
        >>> RecordConsent("con_1", "email", "yes", source="web form")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: granted: must be bool, not str

    .. versionadded:: 0.1.0
    """

    contact_id: str = attrs.field(validator=_id)
    channel: Channel = attrs.field(converter=_consent_channel)
    granted: bool = attrs.field(validator=v.of_type(bool))
    source: str = attrs.field(converter=v.strip, validator=v.text(200))
    purpose: Purpose = attrs.field(default=Purpose.MARKETING, converter=_purpose)
    at: datetime | None = attrs.field(default=None, validator=_aware)
    by: str | None = attrs.field(default=None, validator=_optional_id)
    note: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(1000)
    )
    actor: str | None = attrs.field(default=None, validator=_optional_id)


@attrs.frozen
class SetContactPreferences:
    """Set or clear a contact's time zone, quiet hours and preferred channel in one go.

    A preference left ``None`` stays as it is; name it in ``clear`` to remove it. Consent is
    not a preference: record it with :class:`RecordConsent`.

    Args:
        contact_id: the contact.
        timezone: an IANA time zone name (``"Asia/Taipei"``).
        quiet_hours: a :class:`~crmkit.customers.QuietHours` or a ``(start, end)`` pair of
            wall-clock times in that zone, e.g. ``("22:00", "08:00")``.
        preferred_channel: ``"line"``, ``"email"``, ...
        clear: names of preferences to remove: ``"timezone"``, ``"quiet_hours"``,
            ``"preferred_channel"``.
        actor: who asks.

    Example:
        >>> cmd = SetContactPreferences("con_1", timezone="Asia/Taipei",
        ...                             quiet_hours=("22:00", "08:00"), clear=["preferred_channel"])
        >>> cmd.timezone, str(cmd.quiet_hours), cmd.clear
        ('Asia/Taipei', '22:00-08:00', ('preferred_channel',))
        >>> SetContactPreferences("con_1", timezone="Asia/Taipei", clear=["timezone"])
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: clear: 'timezone' is both set and cleared; do one of them

    .. versionadded:: 0.1.0
    """

    contact_id: str = attrs.field(validator=_id)
    timezone: str | None = attrs.field(default=None, converter=_timezone)
    quiet_hours: QuietHours | None = attrs.field(default=None, converter=_quiet_hours)
    preferred_channel: Channel | None = attrs.field(default=None, converter=_preferred_channel)
    clear: tuple[str, ...] = attrs.field(default=(), converter=_clear)
    actor: str | None = attrs.field(default=None, validator=_optional_id)

    def __attrs_post_init__(self) -> None:
        for name in self.clear:
            if getattr(self, name) is not None:
                raise ValidationError(
                    f"{name!r} is both set and cleared; do one of them", path="clear"
                )
        if not self.clear and all(getattr(self, name) is None for name in _PREFERENCES):
            raise ValidationError(
                "nothing to change: give timezone, quiet_hours or preferred_channel, or name "
                "preferences to clear"
            )


def _order_lines(value: object) -> tuple[OrderLine, ...]:
    return _lines(value)


def _refund_money(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Money):
        raise ValidationError(f"must be Money, not {type(value).__name__}", path=attribute.name)
    if value.amount <= 0:
        raise ValidationError(f"must be more than zero, got {value}", path=attribute.name)


def _total(instance: Any, attribute: Any, value: Any) -> None:
    if not isinstance(value, Money):
        raise ValidationError(f"must be Money, not {type(value).__name__}", path=attribute.name)
    if value.is_negative():
        raise ValidationError(f"must not be negative, got {value}", path=attribute.name)


def _required_aware(instance: Any, attribute: Any, value: Any) -> None:
    validate_aware(instance, attribute, value)


def _order_region(value: object) -> str | None:
    return _purchase_region(value)


@attrs.frozen
class RecordOrder:
    """Record an order the host reports for a customer (idempotent by source and reference).

    The same ``source`` and ``external_ref`` again with the same data has the effect of once;
    with different data it is an :class:`~crmkit.customers.OrderConflict`.

    Args:
        customer_id: the customer who bought.
        source: the system reporting the order (an id: ``"shopify"``, ``"pos"``).
        external_ref: the order's reference in that system.
        ordered_at: when the order was placed (timezone-aware).
        total: what the customer paid (:class:`~crmkit.kernel.money.Money`, at least zero).
        lines: a summary of what was bought (:class:`~crmkit.customers.OrderLine` or
            mappings with ``sku``, ``name``, ``quantity``, ``amount``).
        channel: where it was sold (``"web"``, ``"store"``...).
        region: the ISO 3166 region it went to (``"TW"``).
        actor: who asks.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> cmd = RecordOrder("cus_1", "shop", "#1001", datetime(2026, 3, 2, tzinfo=timezone.utc),
        ...                   Money("1200", "TWD"), lines=[{"name": "Oolong", "quantity": 2,
        ...                   "amount": Money("1200", "TWD")}], region="tw")
        >>> cmd.lines[0].quantity, cmd.region
        (Decimal('2'), 'TW')
        >>> RecordOrder("cus_1", "shop", "#1001", datetime(2026, 3, 2), Money("1", "TWD"))
        Traceback (most recent call last):
        ...
        crmkit.errors.NaiveDatetimeError: ordered_at: must be timezone-aware ...

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    source: str = attrs.field(validator=_id)
    external_ref: str = attrs.field(converter=v.strip, validator=v.text(100))
    ordered_at: datetime = attrs.field(validator=_required_aware)
    total: Money = attrs.field(validator=_total)
    lines: tuple[OrderLine, ...] = attrs.field(default=(), converter=_order_lines)
    channel: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(50)
    )
    region: str | None = attrs.field(default=None, converter=_order_region)
    actor: str | None = attrs.field(default=None, validator=_optional_id)


@attrs.frozen
class RecordRefund:
    """Record a refund the host reports for an order (idempotent by its own reference).

    The order is named as it was reported: ``source`` and ``order_ref``. The same
    ``refund_ref`` again with the same amount, time and reason has the effect of once; with
    other data it is a :class:`~crmkit.customers.RefundConflict`. Refunds never add up to
    more than the order (:class:`~crmkit.customers.RefundExceedsOrder`).

    Args:
        source: the system that reported the order.
        order_ref: the order's reference there.
        refund_ref: the refund's own reference.
        amount: how much was refunded (more than zero, in the order's currency).
        refunded_at: when it was refunded (timezone-aware).
        reason: why, for people (up to 500 characters).
        actor: who asks.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.kernel.money import Money
        >>> RecordRefund("shop", "#1001", "r-1", Money("0", "TWD"),
        ...              datetime(2026, 3, 9, tzinfo=timezone.utc))
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: amount: must be more than zero, got 0 TWD

    .. versionadded:: 0.1.0
    """

    source: str = attrs.field(validator=_id)
    order_ref: str = attrs.field(converter=v.strip, validator=v.text(100))
    refund_ref: str = attrs.field(converter=v.strip, validator=v.text(100))
    amount: Money = attrs.field(validator=_refund_money)
    refunded_at: datetime = attrs.field(validator=_required_aware)
    reason: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(500)
    )
    actor: str | None = attrs.field(default=None, validator=_optional_id)


def _timeline_limit(_instance: object, _attribute: object, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1000:
        raise ValidationError(f"must be an int from 1 to 1000, got {value!r}", path="timeline")


@attrs.frozen
class ShowCustomer360:
    """Read one customer's 360 view (see :mod:`crmkit.app.customer360`).

    Args:
        customer_id: the customer.
        at: the time to read at (aware); ``None`` means now.
        timeline: how many of the latest interactions to include (1 to 1000, default 20).
        actor: who asks; the view holds only what the access policy lets them see.

    Example:
        >>> ShowCustomer360("cus_1").timeline
        20

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id)
    at: datetime | None = attrs.field(default=None, validator=_aware)
    timeline: int = attrs.field(default=20, validator=_timeline_limit)
    actor: str | None = attrs.field(default=None, validator=_optional_id)


def _optional_segment(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None:
        check_id(value, "segment")


@attrs.frozen
class ShowSegments:
    """Segment every customer with the configured rules (rule segments, RFM, lifecycle, attention).

    Args:
        segment: keep only the customers in this rule segment or RFM segment (by name);
            ``None`` keeps everyone.
        at: the time to segment at (aware); ``None`` means now.
        actor: who asks.

    Example:
        >>> ShowSegments("champions").segment
        'champions'

    .. versionadded:: 0.1.0
    """

    segment: str | None = attrs.field(default=None, validator=_optional_segment)
    at: datetime | None = attrs.field(default=None, validator=_aware)
    actor: str | None = attrs.field(default=None, validator=_optional_id)
