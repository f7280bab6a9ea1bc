"""Customer, Contact and Interaction: the customers context's aggregates and values."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, cast

import attrs
from babel.core import Locale, UnknownLocaleError

from crmkit.customers._consent import (
    Channel,
    ConsentRecord,
    Purpose,
    QuietHours,
    _latest,
    _timezone_name,
)
from crmkit.customers._contact_points import normalize_email
from crmkit.customers.events import (
    ConsentRecorded,
    ContactAdded,
    ContactPreferredChannelChanged,
    ContactQuietHoursChanged,
    ContactTimeZoneChanged,
    ContactUpdated,
    CustomerLifecycleChanged,
    CustomerOwnerAssigned,
    CustomerRegistered,
    CustomerRenamed,
    CustomerTagged,
    InteractionLogged,
)
from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.ids import check_id
from crmkit.kernel.time import ensure_aware, validate_aware

__all__ = [
    "Channel",
    "Contact",
    "Customer",
    "CustomerKind",
    "Interaction",
    "InteractionKind",
    "Lifecycle",
]


class CustomerKind(StrEnum):
    """Whether a customer is a company (B2B) or a person (B2C).

    Example:
        >>> CustomerKind("company")
        <CustomerKind.COMPANY: 'company'>

    .. versionadded:: 0.1.0
    """

    COMPANY = "company"
    PERSON = "person"


class Lifecycle(StrEnum):
    """Where a customer stands: prospect, new (first order lately), active, at risk, churned.

    Example:
        >>> Lifecycle.ACTIVE.value
        'active'

    .. versionadded:: 0.1.0
    """

    PROSPECT = "prospect"
    NEW = "new"
    ACTIVE = "active"
    AT_RISK = "at_risk"
    CHURNED = "churned"


class InteractionKind(StrEnum):
    """What kind of interaction was logged.

    Example:
        >>> InteractionKind("meeting").value
        'meeting'

    .. versionadded:: 0.1.0
    """

    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    VISIT = "visit"
    MESSAGE = "message"
    NOTE = "note"


def _id_field(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    check_id(value, attribute.name)


def _optional_id(_instance: object, attribute: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        check_id(value, attribute.name)


def _check_call(now: object, actor: object) -> None:
    """Check a method's ``now`` and ``actor`` before it changes anything."""
    ensure_aware(now, "now")
    if actor is not None:
        check_id(actor, "actor")


def _tag(text: str) -> str:
    if len(text) > 50:
        raise ValidationError(f"must be at most 50 characters, got {len(text)}")
    return text.casefold() if text.isascii() else text


def _tags(value: object) -> tuple[str, ...]:
    return v.text_tuple("tags", _tag)(value)


def _locale(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"must be text, not {type(value).__name__}", path="locale")
    try:
        return str(Locale.parse(value.strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        raise ValidationError(
            f"{value!r} is not a known locale (e.g. 'en', 'zh_Hant_TW', 'zh_Hans_CN')",
            path="locale",
        ) from None


def _timezone(value: object) -> str | None:
    return _timezone_name(value, "timezone")


def _to_quiet_hours(value: object, path: str = "quiet_hours") -> QuietHours | None:
    """Read quiet hours given as ``QuietHours``, a ``(start, end)`` pair, or ``None``."""
    if value is None or isinstance(value, QuietHours):
        return value
    if isinstance(value, (tuple, list)) and len(value) == 2:
        try:
            return QuietHours(value[0], value[1])
        except ValidationError as exc:
            raise exc.at(path) from None
    raise ValidationError(
        "must be QuietHours, a (start, end) pair such as ('22:00', '08:00'), or None; "
        f"got {type(value).__name__}",
        path=path,
    )


def _quiet_hours(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, QuietHours):
        raise ValidationError(
            f"must be QuietHours or None, not {type(value).__name__}", path="quiet_hours"
        )


def _consent_history(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, tuple):
        raise ValidationError(
            f"must be a tuple of ConsentRecord, not {type(value).__name__}", path="consents"
        )
    for i, record in enumerate(value):
        if not isinstance(record, ConsentRecord):
            raise ValidationError(
                f"must be a ConsentRecord, not {type(record).__name__}", path=f"consents[{i}]"
            )


def _kind(value: object) -> CustomerKind:
    return v.to_enum(CustomerKind, "kind")(value)


def _lifecycle(value: object) -> Lifecycle:
    return v.to_enum(Lifecycle, "lifecycle")(value)


def _interaction_kind(value: object) -> InteractionKind:
    return v.to_enum(InteractionKind, "kind")(value)


def _preferred_channel(value: object) -> Channel | None:
    return v.to_optional_enum(Channel, "preferred_channel")(value)


def _interaction_channel(value: object) -> Channel | None:
    return v.to_optional_enum(Channel, "channel")(value)


@attrs.define(kw_only=True)
class Customer(Aggregate):
    """A company or a person the business sells to.

    Build new customers with :meth:`register`, which records ``CustomerRegistered``.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
        >>> acme = Customer.register(id="cus_1", name=" Acme Ltd ", kind="company", now=now,
        ...                          tags=["VIP", "vip", "Taipei"], source="2023 trade show")
        >>> acme.name, acme.tags, acme.lifecycle.value
        ('Acme Ltd', ('vip', 'taipei'), 'prospect')
        >>> [e.event_type for e in acme.pending_events]
        ['customers.CustomerRegistered']

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    kind: CustomerKind = attrs.field(converter=_kind)
    created_at: datetime = attrs.field(validator=validate_aware)
    tags: tuple[str, ...] = attrs.field(default=(), converter=_tags)
    source: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(200)
    )
    owner: str | None = attrs.field(default=None, validator=_optional_id)
    lifecycle: Lifecycle = attrs.field(default=Lifecycle.PROSPECT, converter=_lifecycle)
    #: A postal address as one line of text, or ``None`` (dedup compares it).
    address: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(500)
    )
    #: Set when this customer was merged into another: the survivor's id (a tombstone).
    merged_into: str | None = attrs.field(default=None, validator=_optional_id)
    #: The customer's id in the system it was imported from (an import matches on it), or ``None``.
    external_id: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(200)
    )

    @classmethod
    def register(
        cls,
        *,
        id: str,
        name: str,
        kind: CustomerKind | str,
        now: datetime,
        tags: Iterable[str] = (),
        source: str | None = None,
        owner: str | None = None,
        actor: str | None = None,
        address: str | None = None,
    ) -> Customer:
        """Create a new customer and record ``CustomerRegistered``."""
        _check_call(now, actor)
        customer = cls(
            id=id,
            name=name,
            kind=kind,
            created_at=now,
            tags=tags,
            source=source,
            owner=owner,
            address=address,
        )
        customer.record(
            CustomerRegistered(
                aggregate_id=customer.id,
                occurred_at=now,
                actor=actor,
                name=customer.name,
                kind=customer.kind.value,
                source=customer.source,
                owner=customer.owner,
            )
        )
        return customer

    def rename(self, name: str, *, now: datetime, actor: str | None = None) -> None:
        """Change the name; a no-op when unchanged.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> c = Customer(id="cus_1", name="Acme", kind="company", created_at=now)
            >>> c.rename("Acme Corp", now=now); c.name
            'Acme Corp'
        """
        _check_call(now, actor)
        old = self.name
        self.name = name  # the field's converter and validator check it
        if self.name != old:
            self.record(
                CustomerRenamed(
                    aggregate_id=self.id,
                    occurred_at=now,
                    actor=actor,
                    old_name=old,
                    new_name=self.name,
                )
            )

    def tag(
        self,
        add: Iterable[str] = (),
        remove: Iterable[str] = (),
        *,
        now: datetime,
        actor: str | None = None,
    ) -> None:
        """Add and remove tags (case-insensitive for ASCII tags).

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> c = Customer(id="cus_1", name="Acme", kind="company", created_at=now, tags=["a"])
            >>> c.tag(add=["B"], remove=["a"], now=now); c.tags
            ('b',)
        """
        _check_call(now, actor)
        adding, removing = _tags(add), _tags(remove)
        before = set(self.tags)
        self.tags = tuple(t for t in (*self.tags, *adding) if t not in removing)
        added = tuple(t for t in self.tags if t not in before)
        removed = tuple(t for t in before if t not in self.tags)
        if added or removed:
            self.record(
                CustomerTagged(
                    aggregate_id=self.id,
                    occurred_at=now,
                    actor=actor,
                    added=added,
                    removed=tuple(sorted(removed)),
                )
            )

    def assign_owner(self, owner: str | None, *, now: datetime, actor: str | None = None) -> None:
        """Give the customer to ``owner`` (a user id), or to nobody with ``None``."""
        _check_call(now, actor)
        old = self.owner
        self.owner = owner
        if owner != old:
            self.record(
                CustomerOwnerAssigned(
                    aggregate_id=self.id,
                    occurred_at=now,
                    actor=actor,
                    old_owner=old,
                    new_owner=owner,
                )
            )

    def change_lifecycle(
        self, stage: Lifecycle | str, *, now: datetime, actor: str | None = None
    ) -> None:
        """Move the customer to another lifecycle stage."""
        _check_call(now, actor)
        old = self.lifecycle
        self.lifecycle = stage  # type: ignore[assignment]  # the converter makes it a Lifecycle
        if self.lifecycle is not old:
            self.record(
                CustomerLifecycleChanged(
                    aggregate_id=self.id,
                    occurred_at=now,
                    actor=actor,
                    old=old.value,
                    new=self.lifecycle.value,
                )
            )


def _emails(value: object) -> tuple[str, ...]:
    return v.text_tuple("emails", normalize_email, max_items=10)(value)


def _phones(value: object) -> tuple[str, ...]:
    # Phones arrive already normalised to E.164 (see Contact.create), stored as given.
    def e164(text: str) -> str:
        if not (text.startswith("+") and text[1:].isdigit() and 8 <= len(text) <= 16):
            raise ValidationError(f"{text!r} is not an E.164 number such as '+886912345678'")
        return text

    return v.text_tuple("phones", e164, max_items=10)(value)


@attrs.define(kw_only=True)
class Contact(Aggregate):
    """A person at (or who is) a customer: how to reach them and how they prefer it.

    Build one with :meth:`create`, which normalises phone numbers to E.164 using ``region``.

    How the contact wants to be reached lives here too: ``timezone`` (an IANA name),
    ``quiet_hours`` (a daily window in that zone), ``preferred_channel``, and ``consents``, the
    append-only history of opt-ins and opt-outs per channel (:meth:`record_consent`,
    :meth:`consent_for`). :func:`crmkit.notifications.consent.decide` reads them.

    Example:
        >>> from datetime import date, datetime, timezone
        >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
        >>> amy = Contact.create(id="con_1", customer_id="cus_1", name="Amy Chen", now=now,
        ...     emails=["Amy@Example.com"], phones=["0912-345-678"], region="TW",
        ...     decision_maker=True, birthday=date(1990, 4, 1), locale="zh-Hant-TW")
        >>> amy.emails, amy.phones, amy.locale
        (('Amy@example.com',), ('+886912345678',), 'zh_Hant_TW')

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id_field)
    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    emails: tuple[str, ...] = attrs.field(default=(), converter=_emails)
    phones: tuple[str, ...] = attrs.field(default=(), converter=_phones)
    role: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(100)
    )
    decision_maker: bool = attrs.field(default=False, validator=v.of_type(bool))
    birthday: date | None = attrs.field(default=None, validator=v.optional_date)
    locale: str | None = attrs.field(default=None, converter=_locale)
    preferred_channel: Channel | None = attrs.field(default=None, converter=_preferred_channel)
    timezone: str | None = attrs.field(default=None, converter=_timezone)
    quiet_hours: QuietHours | None = attrs.field(default=None, validator=_quiet_hours)
    consents: tuple[ConsentRecord, ...] = attrs.field(default=(), validator=_consent_history)

    @classmethod
    def create(
        cls,
        *,
        id: str,
        customer_id: str,
        name: str,
        now: datetime,
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
        """Create a contact, normalising phones with ``region``, and record ``ContactAdded``."""
        from crmkit.customers._contact_points import normalize_phone

        _check_call(now, actor)
        contact = cls(
            id=id,
            customer_id=customer_id,
            name=name,
            emails=emails,
            phones=v.text_tuple("phones", lambda p: normalize_phone(p, region))(phones),
            role=role,
            decision_maker=decision_maker,
            birthday=birthday,
            locale=locale,
            preferred_channel=preferred_channel,
        )
        contact.record(
            ContactAdded(
                aggregate_id=contact.id,
                occurred_at=now,
                actor=actor,
                customer_id=contact.customer_id,
                name=contact.name,
            )
        )
        return contact

    def update(
        self,
        *,
        now: datetime,
        actor: str | None = None,
        region: str | None = None,
        **changes: object,
    ) -> None:
        """Change some details; all are checked before any is applied.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> c = Contact(id="con_1", customer_id="cus_1", name="Amy")
            >>> c.update(now=now, role="CFO", phones=["+886 2 2345 6789"]); c.role, c.phones
            ('CFO', ('+886223456789',))
            >>> c.update(now=now, name="")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: name: must not be empty
            >>> c.name
            'Amy'
        """
        from crmkit.customers._contact_points import normalize_phone

        _check_call(now, actor)
        allowed = {
            "name",
            "emails",
            "phones",
            "role",
            "decision_maker",
            "birthday",
            "locale",
            "preferred_channel",
        }
        unknown = sorted(set(changes) - allowed)
        if unknown:
            raise ValidationError(
                f"cannot be changed; changeable fields are {', '.join(sorted(allowed))}",
                path=unknown[0],
            )
        if "phones" in changes:
            changes["phones"] = v.text_tuple("phones", lambda p: normalize_phone(p, region))(
                changes["phones"]
            )
        updated = attrs.evolve(self, **cast("dict[str, Any]", changes))  # validates all
        changed = tuple(
            name for name in sorted(changes) if getattr(updated, name) != getattr(self, name)
        )
        for name in changed:
            setattr(self, name, getattr(updated, name))
        if changed:
            self.record(
                ContactUpdated(
                    aggregate_id=self.id,
                    occurred_at=now,
                    actor=actor,
                    customer_id=self.customer_id,
                    fields=changed,
                )
            )

    # ----- consent and preferences ---------------------------------------------------------

    def record_consent(
        self,
        channel: Channel | str,
        granted: bool,
        *,
        source: str,
        now: datetime,
        purpose: Purpose | str = Purpose.MARKETING,
        at: datetime | None = None,
        by: str | None = None,
        note: str | None = None,
        actor: str | None = None,
    ) -> ConsentRecord:
        """Append an opt-in (``granted=True``) or opt-out and record ``ConsentRecorded``.

        The history is never rewritten: a withdrawal is a new record, and so is a repeated
        opt-in (a re-confirmation is evidence too). ``at`` is when the contact said so (default
        ``now``; an import passes the original date, which must not be after ``now``); ``by``
        is the user who took the statement (default ``actor``).

        Example:
            >>> from datetime import datetime, timedelta, timezone
            >>> now = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
            >>> amy = Contact(id="con_1", customer_id="cus_1", name="Amy")
            >>> _ = amy.record_consent("email", True, source="web form", now=now)
            >>> _ = amy.record_consent("email", False, source="unsubscribe link",
            ...                        now=now + timedelta(days=30))
            >>> [r.granted for r in amy.consents], amy.consent_for("email").source
            ([True, False], 'unsubscribe link')
        """
        _check_call(now, actor)
        given = now if at is None else ensure_aware(at, "at")
        if given > now:
            raise ValidationError(
                f"must not be after now ({now.isoformat()}): consent is recorded once given, "
                f"got {given.isoformat()}",
                path="at",
            )
        record = ConsentRecord(
            channel=channel,
            granted=granted,
            at=given,
            source=source,
            purpose=purpose,
            by=actor if by is None else by,
            note=note,
            recorded_at=now,
        )
        self.consents = (*self.consents, record)
        self.record(
            ConsentRecorded(
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                customer_id=self.customer_id,
                channel=record.channel.value,
                purpose=record.purpose.value,
                granted=record.granted,
                at=record.at,
                source=record.source,
                by=record.by,
                note=record.note,
            )
        )
        return record

    def consent_for(
        self, channel: Channel | str, purpose: Purpose | str = Purpose.MARKETING
    ) -> ConsentRecord | None:
        """The record in force for ``channel`` and ``purpose``: the latest ``at``, or ``None``.

        Of two records with the same ``at``, the one appended later counts.

        Example:
            >>> Contact(id="con_1", customer_id="cus_1", name="Amy").consent_for("sms") is None
            True
        """
        wanted = v.to_enum(Channel, "channel")(channel)
        why = v.to_enum(Purpose, "purpose")(purpose)
        return _latest(self.consents, wanted, why)

    def set_time_zone(
        self, timezone: str | None, *, now: datetime, actor: str | None = None
    ) -> None:
        """Set the contact's IANA time zone (``None``: unknown); a no-op when unchanged.

        Example:
            >>> from datetime import datetime, timezone as tz
            >>> now = datetime(2026, 1, 5, tzinfo=tz.utc)
            >>> amy = Contact(id="con_1", customer_id="cus_1", name="Amy")
            >>> amy.set_time_zone("Asia/Taipei", now=now); amy.timezone
            'Asia/Taipei'
            >>> amy.set_time_zone("Asia/Taipie", now=now)
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: timezone: 'Asia/Taipie' is not an IANA time zone ...
        """
        _check_call(now, actor)
        self._change("timezone", _timezone(timezone), ContactTimeZoneChanged, now, actor)

    def set_quiet_hours(
        self,
        quiet_hours: QuietHours | tuple[object, object] | None,
        *,
        now: datetime,
        actor: str | None = None,
    ) -> None:
        """Set the daily quiet hours, e.g. ``("22:00", "08:00")``, or clear them with ``None``.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> amy = Contact(id="con_1", customer_id="cus_1", name="Amy")
            >>> amy.set_quiet_hours(("22:00", "08:00"), now=now); str(amy.quiet_hours)
            '22:00-08:00'
        """
        _check_call(now, actor)
        self._change(
            "quiet_hours", _to_quiet_hours(quiet_hours), ContactQuietHoursChanged, now, actor
        )

    def set_preferred_channel(
        self, channel: Channel | str | None, *, now: datetime, actor: str | None = None
    ) -> None:
        """Set the channel the contact prefers (``None``: no preference); a no-op when unchanged.

        Example:
            >>> from datetime import datetime, timezone
            >>> now = datetime(2026, 1, 5, tzinfo=timezone.utc)
            >>> amy = Contact(id="con_1", customer_id="cus_1", name="Amy")
            >>> amy.set_preferred_channel("line", now=now); amy.preferred_channel.value
            'line'
        """
        _check_call(now, actor)
        self._change(
            "preferred_channel",
            _preferred_channel(channel),
            ContactPreferredChannelChanged,
            now,
            actor,
            event_value=lambda c: None if c is None else c.value,
        )

    def _change(
        self,
        field: str,
        new: Any,
        event: type[DomainEvent],
        now: datetime,
        actor: str | None,
        event_value: Callable[[Any], Any] = lambda value: value,
    ) -> None:
        """Set ``field`` to ``new`` and record ``event`` (with old and new), if it changes."""
        old = getattr(self, field)
        if new == old:
            return
        setattr(self, field, new)
        self.record(
            event(  # type: ignore[call-arg]
                aggregate_id=self.id,
                occurred_at=now,
                actor=actor,
                customer_id=self.customer_id,
                old=event_value(old),
                new=event_value(new),
            )
        )


def _links(value: object) -> tuple[str, ...]:
    return v.text_tuple("links", lambda s: check_id(s, ""), max_items=20)(value)


@attrs.define(kw_only=True)
class Interaction(Aggregate):
    """One touch with a customer: a call, email, meeting, visit, message or note.

    Example:
        >>> from datetime import datetime, timezone
        >>> now = datetime(2026, 1, 5, 14, tzinfo=timezone.utc)
        >>> call = Interaction.log(id="int_1", customer_id="cus_1", kind="call", now=now,
        ...     occurred_at=now, by="u_amy", summary="Asked for a quote on 20 seats")
        >>> call.kind.value, call.summary
        ('call', 'Asked for a quote on 20 seats')

    .. versionadded:: 0.1.0
    """

    customer_id: str = attrs.field(validator=_id_field)
    kind: InteractionKind = attrs.field(converter=_interaction_kind)
    occurred_at: datetime = attrs.field(validator=validate_aware)
    summary: str = attrs.field(converter=v.strip, validator=v.text(2000))
    by: str | None = attrs.field(default=None, validator=_optional_id)
    contact_id: str | None = attrs.field(default=None, validator=_optional_id)
    channel: Channel | None = attrs.field(default=None, converter=_interaction_channel)
    links: tuple[str, ...] = attrs.field(default=(), converter=_links)

    @classmethod
    def log(
        cls,
        *,
        id: str,
        customer_id: str,
        kind: InteractionKind | str,
        summary: str,
        occurred_at: datetime,
        now: datetime,
        by: str | None = None,
        contact_id: str | None = None,
        channel: Channel | str | None = None,
        links: Iterable[str] = (),
        actor: str | None = None,
    ) -> Interaction:
        """Create an interaction and record ``InteractionLogged``."""
        _check_call(now, actor)
        interaction = cls(
            id=id,
            customer_id=customer_id,
            kind=kind,
            occurred_at=occurred_at,
            summary=summary,
            by=by,
            contact_id=contact_id,
            channel=channel,
            links=links,
        )
        interaction.record(
            InteractionLogged(
                aggregate_id=interaction.id,
                occurred_at=now,
                actor=actor,
                customer_id=interaction.customer_id,
                kind=interaction.kind.value,
                summary=interaction.summary,
            )
        )
        return interaction
