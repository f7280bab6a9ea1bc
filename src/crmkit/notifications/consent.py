"""May this message go to this contact now? Consent, opt-outs and quiet hours, decided purely.

:func:`decide` reads a :class:`~crmkit.customers.Contact`'s consent history, quiet hours and time
zone and returns a :class:`ConsentDecision`: :attr:`Verdict.SEND`, :attr:`Verdict.DEFER` (with
``send_at``, the end of the quiet window) or :attr:`Verdict.SUPPRESS`, with a ``reason`` that
names the record or the rule behind it and a ``logged_as`` label for the delivery log.

The rules, in order:

1. **Marketing respects consent.** The latest :class:`~crmkit.customers.ConsentRecord` for the
   channel counts. An opt-out suppresses. No record at all suppresses too when
   ``require_opt_in`` (the default): consent-based laws (China's PIPL, GDPR-style rules for
   electronic marketing) want a recorded opt-in; pass ``require_opt_in=False`` where marketing
   is lawful until the contact objects.
2. **Transactional messages are sent** (a complaint acknowledgement, an order notice), even to a
   contact who opted out; ``logged_as`` then says ``"transactional (sent despite opt-out)"``.
3. **Quiet hours defer, never drop.** A message whose time falls in the contact's quiet hours,
   read on the contact's own clock, waits until the window is over (``send_at``, correct across
   daylight-saving changes: see :meth:`~crmkit.customers.QuietHours.window_end`). This holds for
   both purposes; only ``urgent=True`` (transactional messages only) goes through at once.
   Consent may change while a message waits, so decide again at ``send_at``.

The contact's clock is its ``timezone``; a contact without one is read in ``default_timezone``
(UTC unless you pass your business's zone, e.g. ``"Asia/Taipei"``), and the reason says so.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.customers import Contact
    >>> now = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)
    >>> mei = Contact(id="con_1", customer_id="cus_1", name="Lin Mei-ling",
    ...               timezone="Asia/Taipei", quiet_hours=QuietHours("22:00", "08:00"))
    >>> _ = mei.record_consent("sms", False, source="replied STOP", now=now)
    >>> decide(mei, "sms", "marketing", now).verdict
    <Verdict.SUPPRESS: 'suppress'>
    >>> ack = decide(mei, "sms", "transactional", datetime(2026, 3, 2, 15, 0, tzinfo=timezone.utc))
    >>> ack.verdict, ack.send_at.isoformat(), ack.logged_as
    (<Verdict.DEFER: 'defer'>, '2026-03-03T08:00:00+08:00', 'transactional (sent despite opt-out)')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from crmkit.customers import Channel, ConsentRecord, Contact, Purpose, QuietHours
from crmkit.customers._consent import _zone
from crmkit.errors import ValidationError
from crmkit.kernel import _validators as v
from crmkit.kernel._enum import StrEnum
from crmkit.kernel.time import ensure_aware, validate_optional_aware

__all__ = ["ConsentDecision", "Purpose", "QuietHours", "Verdict", "decide"]


class Verdict(StrEnum):
    """What to do with a message: send it now, hold it until ``send_at``, or not send it.

    Example:
        >>> Verdict("defer")
        <Verdict.DEFER: 'defer'>

    .. versionadded:: 0.1.0
    """

    SEND = "send"
    DEFER = "defer"
    SUPPRESS = "suppress"


def _verdict(value: object) -> Verdict:
    return v.to_enum(Verdict, "verdict")(value)


def _channel(value: object) -> Channel:
    return v.to_enum(Channel, "channel")(value)


def _purpose(value: object) -> Purpose:
    return v.to_enum(Purpose, "purpose")(value)


def _send_at(instance: ConsentDecision, attribute: object, value: datetime | None) -> None:
    validate_optional_aware(instance, attribute, value)
    if (value is None) == (instance.verdict is Verdict.DEFER):
        raise ValidationError(
            "must be given for a deferred message and only for one "
            f"(verdict {instance.verdict.value!r}, send_at {value!r})",
            path="send_at",
        )


def _optional_record(_instance: object, _attribute: object, value: Any) -> None:
    if value is not None and not isinstance(value, ConsentRecord):
        raise ValidationError(
            f"must be a ConsentRecord or None, not {type(value).__name__}", path="consent"
        )


@attrs.frozen(kw_only=True)
class ConsentDecision:
    """The answer of :func:`decide`, explained; it round-trips through ``crmkit.serialization``.

    Attributes:
        verdict: send, defer or suppress.
        reason: why, in a sentence a person can read: the consent record (its date and source)
            or the rule, and the quiet hours and zone when they matter.
        logged_as: the label for the delivery log: ``"marketing (opted in)"``,
            ``"marketing (suppressed: opted out)"``, ``"transactional (sent despite opt-out)"``...
        channel: the channel asked about.
        purpose: the purpose asked about.
        timezone: the zone the contact's clock was read in.
        send_at: for :attr:`Verdict.DEFER` only, when the quiet window is over (aware, in
            ``timezone``).
        consent: the consent record the decision rests on, if any.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.customers import Contact
        >>> amy = Contact(id="con_1", customer_id="cus_1", name="Amy")
        >>> d = decide(amy, "email", "marketing", datetime(2026, 1, 5, tzinfo=timezone.utc))
        >>> d.verdict.value, d.logged_as, d.send_at
        ('suppress', 'marketing (suppressed: no opt-in)', None)

    .. versionadded:: 0.1.0
    """

    verdict: Verdict = attrs.field(converter=_verdict)
    reason: str = attrs.field(validator=v.text(2000))
    logged_as: str = attrs.field(validator=v.text(200))
    channel: Channel = attrs.field(converter=_channel)
    purpose: Purpose = attrs.field(converter=_purpose)
    timezone: str = attrs.field(validator=v.text(100))
    send_at: datetime | None = attrs.field(default=None, validator=_send_at)
    consent: ConsentRecord | None = attrs.field(default=None, validator=_optional_record)


def _flag(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"must be True or False, not {type(value).__name__}", path=path)
    return value


def _zone_label(zone: tzinfo) -> str:
    return zone.key if isinstance(zone, ZoneInfo) else str(zone)


def decide(
    contact: Contact,
    channel: Channel | str,
    purpose: Purpose | str,
    at: datetime,
    *,
    require_opt_in: bool = True,
    urgent: bool = False,
    default_timezone: str | tzinfo = "UTC",
) -> ConsentDecision:
    """Decide whether a message of ``purpose`` may go to ``contact`` by ``channel`` at ``at``.

    See the module documentation for the rules. ``urgent`` lets a transactional message through
    quiet hours; marketing is never urgent (``ValidationError``). ``default_timezone`` is the
    zone for a contact without one.

    Example:
        >>> from datetime import datetime, timezone
        >>> from crmkit.customers import Contact
        >>> now = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
        >>> amy = Contact(id="con_1", customer_id="cus_1", name="Amy", timezone="Asia/Taipei")
        >>> _ = amy.record_consent("email", True, source="web form", now=now)
        >>> ok = decide(amy, "email", "marketing", now)
        >>> ok.verdict.value, ok.logged_as
        ('send', 'marketing (opted in)')
        >>> print(ok.reason)
        marketing by email may be sent: the contact opted in to marketing by email on
        2026-01-05T02:00+00:00 (source: web form); no quiet hours are set

    .. versionadded:: 0.1.0
    """
    if not isinstance(contact, Contact):
        raise ValidationError(f"must be a Contact, not {type(contact).__name__}", path="contact")
    wanted = _channel(channel)
    why = _purpose(purpose)
    at = ensure_aware(at, "at")
    require_opt_in = _flag(require_opt_in, "require_opt_in")
    urgent = _flag(urgent, "urgent")
    if urgent and why is Purpose.MARKETING:
        raise ValidationError(
            "only transactional messages may be urgent; marketing always waits for quiet "
            "hours to end",
            path="urgent",
        )
    if contact.timezone is not None:
        zone: tzinfo = ZoneInfo(contact.timezone)
        zone_note = ""
    else:
        zone = _zone(default_timezone, "default_timezone")
        zone_note = (
            f" (the contact has no time zone; read in {_zone_label(zone)}, the default_timezone)"
        )
    label = _zone_label(zone)

    def decision(
        verdict: Verdict,
        reason: str,
        logged_as: str,
        record: ConsentRecord | None,
        send_at: datetime | None = None,
    ) -> ConsentDecision:
        return ConsentDecision(
            verdict=verdict,
            reason=reason,
            logged_as=logged_as,
            channel=wanted,
            purpose=why,
            timezone=label,
            send_at=send_at,
            consent=record,
        )

    what = f"{why.value} by {wanted.value}"
    record: ConsentRecord | None
    if why is Purpose.MARKETING:
        record = contact.consent_for(wanted, Purpose.MARKETING)
        if record is not None and not record.granted:
            return decision(
                Verdict.SUPPRESS,
                f"{what} is suppressed: the contact {record.describe()}; marketing is not sent "
                "after an opt-out",
                "marketing (suppressed: opted out)",
                record,
            )
        if record is None and require_opt_in:
            return decision(
                Verdict.SUPPRESS,
                f"{what} is suppressed: no consent is on record for {wanted.value}, and "
                "marketing needs a recorded opt-in (as under China's PIPL and GDPR-style "
                "consent rules); record one with record_consent(..., granted=True), or pass "
                "require_opt_in=False where marketing is lawful until the contact objects",
                "marketing (suppressed: no opt-in)",
                None,
            )
        if record is None:
            basis = (
                f"no consent is on record for {wanted.value} and opt-in is not required "
                "(require_opt_in=False)"
            )
            logged_as = "marketing (no consent on record; opt-in not required)"
        else:
            basis = f"the contact {record.describe()}"
            logged_as = "marketing (opted in)"
    else:
        record = _overridden_opt_out(contact, wanted)
        if record is None:
            basis = "transactional messages need no marketing consent"
            logged_as = "transactional"
        else:
            basis = (
                f"transactional messages are sent despite an opt-out: the contact "
                f"{record.describe()}"
            )
            logged_as = "transactional (sent despite opt-out)"

    quiet = contact.quiet_hours
    if quiet is None:
        return decision(
            Verdict.SEND, f"{what} may be sent: {basis}; no quiet hours are set", logged_as, record
        )
    local = at.astimezone(zone)
    clock = f"{local:%H:%M} in {label}{zone_note}"
    window_end = quiet.window_end(at, zone)
    if window_end is None:
        return decision(
            Verdict.SEND,
            f"{what} may be sent: {basis}; {clock} is outside the quiet hours {quiet}",
            logged_as,
            record,
        )
    if urgent:
        return decision(
            Verdict.SEND,
            f"{what} is sent now: {basis}; {clock} is within the quiet hours {quiet}, but the "
            "message is urgent",
            logged_as,
            record,
        )
    return decision(
        Verdict.DEFER,
        f"{what} waits until {window_end.isoformat(timespec='minutes')}: {basis}; {clock} is "
        f"within the quiet hours {quiet}, and quiet hours defer a message, never drop it",
        logged_as,
        record,
        window_end,
    )


def _overridden_opt_out(contact: Contact, channel: Channel) -> ConsentRecord | None:
    """The opt-out a transactional message on ``channel`` goes past, if the contact has one."""
    for purpose in (Purpose.TRANSACTIONAL, Purpose.MARKETING):
        record = contact.consent_for(channel, purpose)
        if record is not None and not record.granted:
            return record
    return None
