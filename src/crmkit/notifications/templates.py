# Chinese punctuation in the examples is the point of this module.
# ruff: noqa: RUF002
"""Message templates and their rendering in the recipient's language, money, dates and zone.

A :class:`Template` holds three msgids (English source texts): a one-line ``subject``, a plain
``text`` body and an optional ``html`` body, with ``str.format``-style ``{placeholders}``
(plain names only: no ``{0}``, ``{a.b}``, ``{x:>5}`` or ``{x!r}``). :class:`TemplateRenderer`
renders a :class:`crmkit.ports.Notification` against one:

1. the notification's ``locale`` picks a catalog (:func:`crmkit.i18n.resolve_locale`: unknown
   locales get English);
2. each msgid is translated through the host's catalogs, then crmkit's; a text missing from
   every catalog, or a translation whose placeholders differ from the msgid's, shows the
   English msgid instead (a broken translation is logged to ``crmkit.i18n``, never raised);
3. every context value a placeholder uses is formatted with :func:`crmkit.i18n.format_value`
   for the recipient's locale and time zone (``Notification.timezone``), HTML-escaped in the
   HTML body and kept on one line in the subject.

Built-in templates (:data:`TEMPLATES`), by key and placeholder. ``name`` is always the
recipient's name. ``due_at`` is the deadline: an aware ``datetime`` (shown in the recipient's
zone) or a ``date``. ``amount`` is :class:`~crmkit.kernel.money.Money`, ``points`` an ``int``;
the others are text (or any value :func:`~crmkit.i18n.format_value` takes).

* ``customer_registered``: ``name``, ``business`` (the sender's trading name)
* ``lead_follow_up_due``: ``name`` (the rep), ``lead``, ``due_at``
* ``sla_first_response_due``: ``name`` (the agent), ``case``, ``customer``, ``due_at``
* ``sla_resolution_due``: ``name`` (the agent), ``case``, ``customer``, ``due_at``
* ``sla_breached``: ``name`` (the agent), ``case``, ``customer``, ``due_at``
* ``birthday_greeting``: ``name``, ``business``
* ``customer_needs_attention``: ``name`` (the account owner), ``customer``, ``last_contact_at``
* ``win_back``: ``name``, ``business``, ``amount`` (the offer), ``code`` (a coupon), ``due_at``
* ``loyalty_tier_upgraded``: ``name``, ``tier``, ``program``
* ``points_expiring``: ``name``, ``points``, ``program``, ``value`` (Money), ``due_at`` (last day)
* ``quote_expiring``: ``name``, ``quote`` (its reference), ``amount``, ``due_at``
* ``maintenance_due``: ``name``, ``asset``, ``due_at``
* ``maintenance_renewal_due``: ``name``, ``contract`` (its reference), ``due_at`` (its end)
* ``complaint_acknowledged``: ``name``, ``case``, ``due_at`` (when the business will reply)
* ``csat_survey``: ``name`` (the customer's contact), ``case`` (the resolved case)

A host adds its own templates with :meth:`TemplateRenderer.with_templates` (or the
``templates`` argument) and its own translations with :meth:`TemplateRenderer.with_catalog`:
a directory laid out like crmkit's (``<localedir>/<locale>/LC_MESSAGES/<domain>.mo``), tried
before crmkit's catalog, so it can also reword a built-in text.

Example:
    >>> from datetime import datetime, timezone
    >>> from crmkit.kernel.money import Money
    >>> from crmkit.ports import Notification
    >>> sorted(TEMPLATES)[:3]
    ['birthday_greeting', 'complaint_acknowledged', 'csat_survey']
    >>> message = TemplateRenderer().render(Notification(
    ...     "amy@example.com", "email", "quote_expiring", "zh_Hant_TW",
    ...     context={"name": "Amy", "quote": "Q-1024", "amount": Money("1234.5", "TWD"),
    ...              "due_at": datetime(2026, 3, 5, 9, 30, tzinfo=timezone.utc)},
    ...     timezone="Asia/Taipei"))
    >>> print(message.subject)
    您的報價單 Q-1024 將於 2026年3月5日 下午5:30 到期
    >>> print(message.text)
    親愛的 Amy：
    <BLANKLINE>
    您的報價單 Q-1024，金額 $1,234.50，有效期限至 2026年3月5日 下午5:30。...

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
import html as html_module
import logging
import os
import re
import string
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import attrs
from babel.support import Translations

from crmkit.errors import FieldError, NotFoundError, ValidationError
from crmkit.i18n import (
    DOMAIN,
    LOCALE_DIR,
    N_,
    _format_locale,
    _zone,
    format_value,
    resolve_locale,
    translations,
)
from crmkit.ports import Notification

__all__ = ["RenderedMessage", "TEMPLATES", "Template", "TemplateRenderer"]

_logger = logging.getLogger("crmkit.i18n")
_FORMATTER: Final = string.Formatter()
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


def _placeholders(text: str) -> frozenset[str]:
    """The placeholder names of ``text``; ``ValueError`` if it is not a valid template text."""
    names: set[str] = set()
    for _literal, field, spec, conversion in _FORMATTER.parse(text):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            shown = "{" + field + (f"!{conversion}" if conversion else "")
            shown += (f":{spec}" if spec else "") + "}"
            raise ValueError(
                f"placeholder {shown} is not a plain name; write {{name}} (values are "
                "formatted by crmkit for the recipient's locale)"
            )
        names.add(field)
    return frozenset(names)


def _substitute(text: str, values: Mapping[str, str]) -> str:
    """Fill the placeholders of a text that :func:`_placeholders` accepted."""
    out: list[str] = []
    for literal, field, _spec, _conversion in _FORMATTER.parse(text):
        out.append(literal)
        if field is not None:
            out.append(values[field])
    return "".join(out)


def _check_key(_instance: object, _attribute: object, value: Any) -> None:
    if not isinstance(value, str) or not _KEY.match(value):
        raise ValidationError(
            "must be a non-empty name of letters, digits and '_', '.', ':' or '-' "
            f"(e.g. 'quote_expiring'), not {value!r}",
            path="key",
        )


def _text_validator(name: str, *, one_line: bool = False, optional: bool = False) -> Any:
    def check(_instance: object, _attribute: object, value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str) or not value.strip():
            kind = "a non-empty str or None" if optional else "a non-empty str"
            raise ValidationError(f"must be {kind}, not {value!r}", path=name)
        if one_line and ("\n" in value or "\r" in value):
            raise ValidationError("must be one line (it becomes an email subject)", path=name)
        try:
            _placeholders(value)
        except ValueError as exc:
            raise ValidationError(str(exc), path=name) from None

    return check


@attrs.frozen
class Template:
    r"""A message: subject, plain text and optional HTML msgids with ``{placeholders}``.

    Each text is an English msgid, translated through the gettext catalogs when rendered; mark
    it with :func:`crmkit.i18n.N_` so ``pybabel extract`` finds it. Placeholders are plain
    names (``{name}``, ``{amount}``); values are formatted by the renderer, and escaped in
    ``html``. Use ``{{`` and ``}}`` for literal braces.

    Args:
        key: the name notifications use in ``Notification.template``.
        subject: one line.
        text: the plain-text body.
        html: the HTML body (a fragment: no ``<html>`` or ``<body>``), or ``None`` for a
            text-only message.

    Example:
        >>> t = Template("order_shipped", "Order {order} has shipped",
        ...              "Hello {name},\n\nOrder {order} is on its way.")
        >>> sorted(t.placeholders)
        ['name', 'order']
        >>> Template("bad", "Total {total:.2f}", "...")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: subject: placeholder {total:.2f} is not a plain name; ...

    .. versionadded:: 0.1.0
    """

    key: str = attrs.field(validator=_check_key)
    subject: str = attrs.field(validator=_text_validator("subject", one_line=True))
    text: str = attrs.field(validator=_text_validator("text"))
    html: str | None = attrs.field(default=None, validator=_text_validator("html", optional=True))

    @property
    def placeholders(self) -> frozenset[str]:
        """Every placeholder name the subject, text and HTML use: the context must hold each.

        Example:
            >>> sorted(TEMPLATES["points_expiring"].placeholders)
            ['due_at', 'name', 'points', 'program', 'value']
        """
        names = _placeholders(self.subject) | _placeholders(self.text)
        if self.html is not None:
            names |= _placeholders(self.html)
        return names


@attrs.frozen
class RenderedMessage:
    """A rendered notification: what a notifier sends.

    ``locale`` is the catalog locale actually used (``"en"`` for an unknown locale); a text
    missing from that catalog still shows in English. ``html`` is ``None`` for a text-only
    template.

    Example:
        >>> from crmkit.ports import Notification
        >>> TemplateRenderer().render(Notification("amy@example.com", "email",
        ...     "birthday_greeting", "fr_FR", context={"name": "Amy", "business": "Acme"}))
        RenderedMessage(subject='Happy birthday, Amy!', text='Dear Amy,...',
        html='<p>Dear Amy,</p>...', locale='en')

    .. versionadded:: 0.1.0
    """

    subject: str
    text: str
    html: str | None
    locale: str


_CatalogRef = tuple[Path, str]


def _catalog(localedir: object, domain: object) -> _CatalogRef:
    if not isinstance(localedir, (str, os.PathLike)):
        raise ValidationError(
            f"must be a directory path, not {type(localedir).__name__}", path="localedir"
        )
    path = Path(localedir)
    if not path.is_dir():
        raise ValidationError(
            f"{str(path)!r} is not a directory; give the folder holding "
            "<locale>/LC_MESSAGES/<domain>.mo",
            path="localedir",
        )
    if not isinstance(domain, str) or not domain or "/" in domain or os.sep in domain:
        raise ValidationError(f"must be a gettext domain name, not {domain!r}", path="domain")
    return path.resolve(), domain


def _check_templates(templates: object) -> dict[str, Template]:
    if not isinstance(templates, Mapping):
        raise ValidationError(
            f"must be a mapping of key to Template, not {type(templates).__name__}",
            path="templates",
        )
    checked: dict[str, Template] = {}
    for key, template in templates.items():
        if not isinstance(template, Template):
            raise ValidationError(
                f"must be a Template, not {type(template).__name__}", path=f"templates[{key!r}]"
            )
        if key != template.key:
            raise ValidationError(
                f"is stored under {key!r} but its key is {template.key!r}",
                path=f"templates[{key!r}]",
            )
        checked[key] = template
    return checked


@functools.cache
def _report_broken(domain: str, locale: str, msgid: str) -> None:
    _logger.warning(
        "the %s translation of %r in domain %r uses other placeholders than the msgid "
        "(or is malformed); showing English",
        locale,
        msgid,
        domain,
    )


def _one_line(value: str) -> str:
    return " ".join(value.split()) if ("\n" in value or "\r" in value) else value


class TemplateRenderer:
    """Render notifications from templates, translated and formatted for their recipient.

    Args:
        templates: the templates by key; :data:`TEMPLATES` by default.
        catalogs: extra ``(localedir, domain)`` gettext catalogs, tried in order before
            crmkit's own (which is always last).

    Example:
        >>> from crmkit.i18n import N_
        >>> from crmkit.ports import Notification
        >>> renderer = TemplateRenderer().with_templates(
        ...     Template("order_shipped", N_("Order {order} has shipped"),
        ...              N_("Hello {name}, order {order} is on its way."),
        ...              N_("<p>Hello {name}, order <b>{order}</b> is on its way.</p>")))
        >>> renderer.render(Notification("amy@example.com", "email", "order_shipped", "en",
        ...     context={"name": "Amy <amy@example.com>", "order": "SO-7"})).html
        '<p>Hello Amy &lt;amy@example.com&gt;, order <b>SO-7</b> is on its way.</p>'
        >>> renderer.render(Notification("amy@example.com", "email", "order_shipped", "en"))
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: 2 problems: context.name: is required by template
        'order_shipped' ...
        >>> TemplateRenderer().render(Notification("amy@example.com", "email", "nope", "en"))
        Traceback (most recent call last):
        ...
        crmkit.errors.NotFoundError: no notification template 'nope'; known templates: ...

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        templates: Mapping[str, Template] | None = None,
        *,
        catalogs: Iterable[tuple[str | os.PathLike[str], str]] = (),
    ) -> None:
        self._templates: Mapping[str, Template] = MappingProxyType(
            _check_templates(TEMPLATES if templates is None else templates)
        )
        if isinstance(catalogs, (str, bytes)) or not isinstance(catalogs, Iterable):
            raise ValidationError(
                "must be a sequence of (localedir, domain) pairs", path="catalogs"
            )
        found: list[_CatalogRef] = []
        for i, pair in enumerate(catalogs):
            if not isinstance(pair, tuple) or len(pair) != 2:
                raise ValidationError(
                    f"must be a (localedir, domain) pair, not {pair!r}", path=f"catalogs[{i}]"
                )
            try:
                found.append(_catalog(*pair))
            except ValidationError as exc:
                raise exc.at(f"catalogs[{i}]") from None
        self._catalogs: tuple[_CatalogRef, ...] = (*found, (LOCALE_DIR, DOMAIN))

    def __repr__(self) -> str:
        return f"TemplateRenderer({len(self._templates)} templates, {len(self._catalogs)} catalogs)"

    @property
    def templates(self) -> Mapping[str, Template]:
        """The templates this renderer knows, by key (read-only).

        Example:
            >>> "quote_expiring" in TemplateRenderer().templates
            True
        """
        return self._templates

    @property
    def catalogs(self) -> tuple[tuple[Path, str], ...]:
        """The ``(localedir, domain)`` catalogs in the order tried; crmkit's own is last.

        Example:
            >>> [domain for _dir, domain in TemplateRenderer().catalogs]
            ['crmkit']
        """
        return self._catalogs

    def with_templates(self, *templates: Template) -> TemplateRenderer:
        """Return a renderer that also knows ``templates`` (replacing any of the same key).

        Example:
            >>> extra = Template("ping", "Ping {name}", "Ping, {name}.")
            >>> sorted(TemplateRenderer({}).with_templates(extra).templates)
            ['ping']
        """
        merged = dict(self._templates)
        for i, template in enumerate(templates):
            if not isinstance(template, Template):
                raise ValidationError(
                    f"must be a Template, not {type(template).__name__}", path=f"templates[{i}]"
                )
            merged[template.key] = template
        return self._copy(merged, self._catalogs[:-1])

    def with_catalog(self, localedir: str | os.PathLike[str], domain: str) -> TemplateRenderer:
        """Return a renderer that tries the catalog ``domain`` in ``localedir`` first.

        The directory is laid out as crmkit's: ``<localedir>/<locale>/LC_MESSAGES/<domain>.mo``
        for the locales of :data:`crmkit.i18n.SUPPORTED_LOCALES` (``zh_Hant_TW``,
        ``zh_Hans_CN``; ``en`` optional). Msgids it lacks fall through to the catalogs already
        configured.

        Example:
            >>> from crmkit.i18n import LOCALE_DIR
            >>> r = TemplateRenderer().with_catalog(LOCALE_DIR, "crmkit")
            >>> len(r.catalogs)
            2
            >>> TemplateRenderer().with_catalog("/no/such/dir", "myapp")
            Traceback (most recent call last):
            ...
            crmkit.errors.ValidationError: localedir: '/no/such/dir' is not a directory; ...
        """
        first = _catalog(localedir, domain)
        return self._copy(dict(self._templates), (first, *self._catalogs[:-1]))

    def _copy(
        self, templates: Mapping[str, Template], catalogs: tuple[_CatalogRef, ...]
    ) -> TemplateRenderer:
        return TemplateRenderer(templates, catalogs=catalogs)

    def render(self, notification: Notification) -> RenderedMessage:
        """Render ``notification`` with its template, locale, time zone and context.

        Raises:
            NotFoundError: no template has the notification's key (``details["known"]``
                lists the keys).
            ValidationError: a placeholder's value is missing from the context or cannot be
                formatted (``path="context.<name>"``), or the time zone is unknown
                (``path="timezone"``).

        Example:
            >>> from datetime import date
            >>> from crmkit.kernel.money import Money
            >>> from crmkit.ports import Notification
            >>> TemplateRenderer().render(Notification("amy@example.com", "email",
            ...     "points_expiring", "zh_Hans_CN",
            ...     context={"name": "Amy", "points": 1200, "program": "Tea Club",
            ...              "value": Money("120", "CNY"), "due_at": date(2026, 3, 31)})).subject
            '您有 1,200 积分将于 2026年3月31日 到期'
        """
        if not isinstance(notification, Notification):
            raise ValidationError(
                f"must be a crmkit.ports.Notification, not {type(notification).__name__}",
                path="notification",
            )
        template = self._templates.get(notification.template)
        if template is None:
            known = sorted(self._templates)
            raise NotFoundError(
                f"no notification template {notification.template!r}; known templates: "
                f"{', '.join(known) or '(none)'}",
                details={"template": notification.template, "known": known},
            )
        locale = resolve_locale(notification.locale)
        values = self._values(template, notification, _format_locale(notification.locale, locale))
        chain = [translations(locale, localedir=d, domain=dm) for d, dm in self._catalogs]
        subject = self._text(chain, locale, template.subject)
        text = self._text(chain, locale, template.text)
        html = None
        if template.html is not None:
            escaped = {k: html_module.escape(v, quote=True) for k, v in values.items()}
            html = _substitute(self._text(chain, locale, template.html), escaped)
        return RenderedMessage(
            subject=_substitute(subject, {k: _one_line(v) for k, v in values.items()}),
            text=_substitute(text, values),
            html=html,
            locale=locale,
        )

    def _values(
        self, template: Template, notification: Notification, locale: str
    ) -> dict[str, str]:
        zone = _zone(notification.timezone)
        context = notification.context
        if not isinstance(context, Mapping):
            raise ValidationError(
                f"must be a mapping of placeholder name to value, not {type(context).__name__}",
                path="context",
            )
        needed = sorted(template.placeholders)
        values: dict[str, str] = {}
        errors: list[FieldError] = []
        for name in needed:
            if name not in context:
                errors.append(
                    FieldError(
                        f"context.{name}",
                        f"is required by template {template.key!r} "
                        f"(its placeholders: {', '.join(needed)})",
                    )
                )
                continue
            try:
                values[name] = format_value(context[name], locale, zone)
            except ValidationError as exc:
                errors.extend(FieldError(f"context.{name}", e.message) for e in exc.errors)
        if errors:
            raise ValidationError(errors=errors)
        return values

    def _text(self, chain: list[Translations], locale: str, msgid: str) -> str:
        expected = _placeholders(msgid)
        for catalog, (_dir, domain) in zip(chain, self._catalogs, strict=True):
            candidate = catalog.gettext(msgid)
            if candidate == msgid or not isinstance(candidate, str) or not candidate:
                continue
            try:
                if _placeholders(candidate) == expected:
                    return candidate
            except ValueError:
                pass
            _report_broken(domain, locale, msgid)
        return msgid


def _builtin(*templates: Template) -> Mapping[str, Template]:
    return MappingProxyType({t.key: t for t in templates})


TEMPLATES: Final[Mapping[str, Template]] = _builtin(
    Template(
        "customer_registered",
        # TRANSLATORS: {business} is the sender's trading name, {name} the new customer.
        N_("Welcome to {business}, {name}"),
        N_(
            "Hello {name},\n\n"
            "Thank you for registering with {business}. Your customer account is ready, and "
            "we will keep you posted about your orders, points and offers.\n\n"
            "We look forward to serving you."
        ),
        N_(
            "<p>Hello {name},</p>\n"
            "<p>Thank you for registering with <strong>{business}</strong>. Your customer "
            "account is ready, and we will keep you posted about your orders, points and "
            "offers.</p>\n"
            "<p>We look forward to serving you.</p>"
        ),
    ),
    Template(
        "lead_follow_up_due",
        # TRANSLATORS: to a sales rep {name}; {lead} is a lead's name, {due_at} a date or time.
        N_("Follow up with {lead} by {due_at}"),
        N_(
            "Hello {name},\n\n"
            "The lead {lead} is due for a follow-up by {due_at}. Log a call, an email or a "
            "meeting to keep it moving."
        ),
        N_(
            "<p>Hello {name},</p>\n"
            "<p>The lead <strong>{lead}</strong> is due for a follow-up by "
            "<strong>{due_at}</strong>. Log a call, an email or a meeting to keep it "
            "moving.</p>"
        ),
    ),
    Template(
        "sla_first_response_due",
        # TRANSLATORS: to a service agent {name}; {case} is a case (ticket) reference.
        N_("First response due for case {case} by {due_at}"),
        N_(
            "Hello {name},\n\n"
            "Case {case} from {customer} needs a first response by {due_at} to meet its "
            "service level."
        ),
        N_(
            "<p>Hello {name},</p>\n"
            "<p>Case <strong>{case}</strong> from {customer} needs a first response by "
            "<strong>{due_at}</strong> to meet its service level.</p>"
        ),
    ),
    Template(
        "sla_resolution_due",
        # TRANSLATORS: to a service agent {name}; {case} is a case (ticket) reference.
        N_("Resolution due for case {case} by {due_at}"),
        N_(
            "Hello {name},\n\n"
            "Case {case} from {customer} must be resolved by {due_at} to meet its service "
            "level. If you are waiting for someone, tell the customer when they will hear "
            "from us."
        ),
        N_(
            "<p>Hello {name},</p>\n"
            "<p>Case <strong>{case}</strong> from {customer} must be resolved by "
            "<strong>{due_at}</strong> to meet its service level. If you are waiting for "
            "someone, tell the customer when they will hear from us.</p>"
        ),
    ),
    Template(
        "sla_breached",
        # TRANSLATORS: to a service agent {name}; {due_at} is the deadline that passed.
        N_("Service level breached: case {case}"),
        N_(
            "Hello {name},\n\n"
            "Case {case} from {customer} missed its service-level deadline of {due_at}. "
            "Please take it over now and tell the customer what happens next."
        ),
        N_(
            "<p>Hello {name},</p>\n"
            "<p>Case <strong>{case}</strong> from {customer} missed its service-level "
            "deadline of <strong>{due_at}</strong>. Please take it over now and tell the "
            "customer what happens next.</p>"
        ),
    ),
    Template(
        "birthday_greeting",
        # TRANSLATORS: to a customer {name}; {business} is the sender's trading name.
        N_("Happy birthday, {name}!"),
        N_(
            "Dear {name},\n\n"
            "Everyone at {business} wishes you a very happy birthday and a wonderful year "
            "ahead."
        ),
        N_(
            "<p>Dear {name},</p>\n"
            "<p>Everyone at <strong>{business}</strong> wishes you a very happy birthday and "
            "a wonderful year ahead.</p>"
        ),
    ),
    Template(
        "customer_needs_attention",
        # TRANSLATORS: to an account owner {name}; {customer} is a customer's name.
        N_("{customer} needs attention"),
        N_(
            "Hello {name},\n\n"
            "{customer} has not been contacted since {last_contact_at}. Reach out before the "
            "relationship goes cold."
        ),
        N_(
            "<p>Hello {name},</p>\n"
            "<p><strong>{customer}</strong> has not been contacted since "
            "{last_contact_at}. Reach out before the relationship goes cold.</p>"
        ),
    ),
    Template(
        "win_back",
        # TRANSLATORS: to a lapsed customer {name}; {amount} off with coupon {code}.
        N_("We miss you, {name}"),
        N_(
            "Dear {name},\n\n"
            "It has been a while since your last visit to {business}. Here is {amount} off "
            "your next order with the code {code}, valid until {due_at}.\n\n"
            "We hope to see you again soon."
        ),
        N_(
            "<p>Dear {name},</p>\n"
            "<p>It has been a while since your last visit to {business}. Here is "
            "<strong>{amount}</strong> off your next order with the code "
            "<strong>{code}</strong>, valid until {due_at}.</p>\n"
            "<p>We hope to see you again soon.</p>"
        ),
    ),
    Template(
        "loyalty_tier_upgraded",
        # TRANSLATORS: {tier} is a tier's name (Gold), {program} the loyalty program's name.
        N_("Congratulations, you are now {tier}"),
        N_(
            "Dear {name},\n\n"
            "Congratulations! You have reached the {tier} tier of {program}. Your new "
            "benefits apply from today."
        ),
        N_(
            "<p>Dear {name},</p>\n"
            "<p>Congratulations! You have reached the <strong>{tier}</strong> tier of "
            "{program}. Your new benefits apply from today.</p>"
        ),
    ),
    Template(
        "points_expiring",
        # TRANSLATORS: {points} loyalty points worth {value}; {due_at} is the last day to use them.
        N_("{points} points expire on {due_at}"),
        N_(
            "Dear {name},\n\n"
            "{points} of your {program} points, worth {value}, will expire at the end of "
            "{due_at}. Use them before then so they do not go to waste."
        ),
        N_(
            "<p>Dear {name},</p>\n"
            "<p><strong>{points}</strong> of your {program} points, worth "
            "<strong>{value}</strong>, will expire at the end of <strong>{due_at}</strong>. "
            "Use them before then so they do not go to waste.</p>"
        ),
    ),
    Template(
        "quote_expiring",
        # TRANSLATORS: {quote} is a quote's reference, {amount} its total, {due_at} its expiry.
        N_("Your quote {quote} expires on {due_at}"),
        N_(
            "Dear {name},\n\n"
            "Your quote {quote} for {amount} is valid until {due_at}. Accept it before then "
            "to keep these prices, or reply to this email with any questions."
        ),
        N_(
            "<p>Dear {name},</p>\n"
            "<p>Your quote <strong>{quote}</strong> for <strong>{amount}</strong> is valid "
            "until <strong>{due_at}</strong>. Accept it before then to keep these prices, or "
            "reply to this email with any questions.</p>"
        ),
    ),
    Template(
        "maintenance_due",
        # TRANSLATORS: {asset} is the customer's equipment or product under contract.
        N_("Maintenance due for {asset}"),
        N_(
            "Dear {name},\n\n"
            "Scheduled maintenance for {asset} is due on {due_at}. Reply to this email to "
            "book a visit at a time that suits you."
        ),
        N_(
            "<p>Dear {name},</p>\n"
            "<p>Scheduled maintenance for <strong>{asset}</strong> is due on "
            "<strong>{due_at}</strong>. Reply to this email to book a visit at a time that "
            "suits you.</p>"
        ),
    ),
    Template(
        "maintenance_renewal_due",
        # TRANSLATORS: {contract} is the maintenance contract's reference, {due_at} its end.
        N_("Your maintenance contract {contract} ends on {due_at}"),
        N_(
            "Dear {name},\n\n"
            "Your maintenance contract {contract} ends on {due_at}. Renew it before then to "
            "keep your equipment serviced on schedule; reply to this email and we will send "
            "you the renewal."
        ),
        N_(
            "<p>Dear {name},</p>\n"
            "<p>Your maintenance contract <strong>{contract}</strong> ends on "
            "<strong>{due_at}</strong>. Renew it before then to keep your equipment serviced "
            "on schedule; reply to this email and we will send you the renewal.</p>"
        ),
    ),
    Template(
        "complaint_acknowledged",
        # TRANSLATORS: {case} is the complaint's case reference, {due_at} when we will reply.
        N_("We have received your complaint ({case})"),
        N_(
            "Dear {name},\n\n"
            "Thank you for letting us know. We have recorded your complaint as case {case} "
            "and will reply by {due_at}. Please quote this reference if you contact us about "
            "it."
        ),
        N_(
            "<p>Dear {name},</p>\n"
            "<p>Thank you for letting us know. We have recorded your complaint as case "
            "<strong>{case}</strong> and will reply by <strong>{due_at}</strong>. Please "
            "quote this reference if you contact us about it.</p>"
        ),
    ),
    Template(
        "csat_survey",
        # TRANSLATORS: sent to the customer when their complaint (case {case}) is resolved.
        N_("How did we do with case {case}?"),
        N_(
            "Dear {name},\n\n"
            "We have resolved your case {case}. How satisfied are you with how we handled "
            "it? Reply to this email with a score from 1 (not at all) to 5 (very), and tell "
            "us what we could do better."
        ),
        N_(
            "<p>Dear {name},</p>\n"
            "<p>We have resolved your case <strong>{case}</strong>. How satisfied are you with "
            "how we handled it? Reply to this email with a score from 1 (not at all) to 5 "
            "(very), and tell us what we could do better.</p>"
        ),
    ),
)
