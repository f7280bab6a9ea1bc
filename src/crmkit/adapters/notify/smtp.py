# The examples show Chinese punctuation.
# ruff: noqa: RUF002
"""Deliver email notifications over SMTP, rendered in the recipient's language.

:class:`SMTPNotifier` renders each notification with a
:class:`~crmkit.notifications.TemplateRenderer` (subject, plain text, HTML, translated and
formatted for the recipient's locale and time zone) and sends it with the standard library's
``smtplib`` as one UTF-8 message: ``multipart/alternative`` with a ``text/plain`` and a
``text/html`` part (``text/plain`` only for a template without HTML). Headers: ``Subject``,
``From``, ``To``, ``Date``, ``Message-ID``, ``Content-Language``, and ``Idempotency-Key`` plus
``X-Crmkit-Idempotency-Key`` with the notification's key. A notification with a key gets a
``Message-ID`` derived from it, so a retried send is recognisably the same message.

Connection security: ``starttls`` (the default on port 587) upgrades the connection with
STARTTLS and fails if the server does not offer it; ``ssl=True`` speaks TLS from the first byte
(port 465). Certificates are verified with ``ssl.create_default_context()`` unless you pass
``ssl_context``. With ``username``, the notifier logs in (after TLS, when TLS is on).

The standard library is used on purpose: one message per notification needs no pooling, and
crmkit stays free of extra dependencies for it. Test against a real server: the tests run
``aiosmtpd`` on localhost (see the "Send email from crmkit" how-to).

Example:
    >>> from crmkit.ports import Notifier
    >>> notifier = SMTPNotifier("smtp.example.com", sender="Acme CRM <crm@acme.example>",
    ...                         username="crm", password="s3cret")
    >>> isinstance(notifier, Notifier), notifier
    (True, SMTPNotifier('smtp.example.com', 587, sender='crm@acme.example', starttls=True,
    ssl=False, username='crm'))

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import contextlib
import email.policy
import email.utils
import hashlib
import html
import smtplib
import ssl as ssl_module
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any, NoReturn

from crmkit.errors import DeliveryError, ValidationError
from crmkit.kernel.time import Clock, SystemClock, ensure_aware
from crmkit.notifications.templates import RenderedMessage, TemplateRenderer
from crmkit.ports import Notification

__all__ = ["SMTPNotifier"]

_CHANNEL = "email"


class _NotOffered(Exception):
    """The server lacks an extension the configuration requires (STARTTLS, AUTH)."""


def _addr_spec(value: object, path: str) -> tuple[str, str]:
    """``(display header value, bare address)`` of one email address; ValidationError if not."""
    if not isinstance(value, str):
        raise ValidationError(
            f"must be an email address as str, not {type(value).__name__}", path=path
        )
    if "\r" in value or "\n" in value:
        raise ValidationError("must not contain line breaks", path=path)
    pairs = email.utils.getaddresses([value])
    if len(pairs) != 1 or not pairs[0][1] or "@" not in pairs[0][1]:
        raise ValidationError(
            f"must be one email address such as 'crm@example.com' or 'Acme <crm@example.com>', "
            f"not {value!r}",
            path=path,
        )
    name, address = pairs[0]
    local, _, domain = address.rpartition("@")
    if not local or not domain or any(c.isspace() for c in address):
        raise ValidationError(f"{address!r} is not an email address", path=path)
    if not name:
        return address, address
    try:
        return str(Address(display_name=name, addr_spec=address)), address
    except (ValueError, TypeError, IndexError):
        raise ValidationError(f"{value!r} is not a valid address header", path=path) from None


def _bcp47(locale: str) -> str:
    return locale.replace("_", "-")


def _positive(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValidationError(f"must be a positive number of seconds, not {value!r}", path=path)
    return float(value)


class SMTPNotifier:
    """Send each ``email`` notification over SMTP; implements :class:`crmkit.ports.Notifier`.

    ``send`` returns once the server accepted the message. Otherwise it raises
    ``DeliveryError`` whose ``details`` hold ``host``, ``port``, ``status`` (the SMTP reply
    code, when the server gave one) and ``retryable``: true for refused or dropped connections,
    timeouts and ``4xx`` replies (send again later, with the same idempotency key); false for
    ``5xx`` rejections, failed logins, a server without STARTTLS or AUTH when they are
    configured, and certificate failures (fix the configuration or the notification first).
    A notification for another channel, or one that cannot be rendered, raises the renderer's
    ``ValidationError`` or ``NotFoundError`` before any connection is made.

    Args:
        host: the SMTP server's host name or address.
        port: 587 (submission with STARTTLS) by default; 465 with ``ssl=True``; 25 for relays.
        sender: the ``From`` address, optionally with a display name
            (``"Acme CRM <crm@acme.example>"``); its address is also the envelope sender.
        starttls: upgrade the connection with STARTTLS, and fail if the server does not offer
            it. Defaults to ``not ssl``.
        ssl: use TLS from the first byte (``smtplib.SMTP_SSL``); excludes ``starttls``.
        username: log in with this user (``password`` required too); no login when ``None``.
        password: the login password; never shown by ``repr`` or in errors.
        timeout: seconds to wait for the connection and for each reply.
        renderer: renders the notifications; ``TemplateRenderer()`` (the built-in templates
            and crmkit's catalogs) by default.
        local_hostname: the name given in ``EHLO``; the machine's FQDN by default.
        ssl_context: for ``starttls`` and ``ssl``; ``ssl.create_default_context()`` (verifying
            the server's certificate and name) by default.
        clock: gives the ``Date`` header; the system clock by default.

    Example:
        >>> SMTPNotifier("smtp.example.com", sender="crm@acme.example", ssl=True, starttls=True)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: starttls: cannot be combined with ssl=True ...
        >>> SMTPNotifier("smtp.example.com", 465, sender="crm@acme.example", ssl=True).starttls
        False

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        sender: str,
        starttls: bool | None = None,
        ssl: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        renderer: TemplateRenderer | None = None,
        local_hostname: str | None = None,
        ssl_context: ssl_module.SSLContext | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host):
            raise ValidationError(f"must be a host name or address, not {host!r}", path="host")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValidationError(f"must be a TCP port from 1 to 65535, not {port!r}", path="port")
        if not isinstance(ssl, bool):
            raise ValidationError(f"must be True or False, not {ssl!r}", path="ssl")
        if starttls is None:
            starttls = not ssl
        elif not isinstance(starttls, bool):
            raise ValidationError(f"must be True, False or None, not {starttls!r}", path="starttls")
        if starttls and ssl:
            raise ValidationError(
                "cannot be combined with ssl=True (the connection is already TLS); "
                "use ssl=True for port 465, or starttls=True for port 587",
                path="starttls",
            )
        if username is not None and (not isinstance(username, str) or not username):
            raise ValidationError(
                f"must be a non-empty str or None, not {username!r}", path="username"
            )
        if password is not None and not isinstance(password, str):
            raise ValidationError(
                f"must be a str or None, not {type(password).__name__}", path="password"
            )
        if (username is None) != (password is None):
            missing = "password" if password is None else "username"
            raise ValidationError(
                "username and password go together: give both to log in, or neither",
                path=missing,
            )
        if renderer is not None and not isinstance(renderer, TemplateRenderer):
            raise ValidationError(
                f"must be a crmkit.notifications.TemplateRenderer, not {type(renderer).__name__}",
                path="renderer",
            )
        if local_hostname is not None and (
            not isinstance(local_hostname, str) or not local_hostname.strip()
        ):
            raise ValidationError(
                f"must be a host name or None, not {local_hostname!r}", path="local_hostname"
            )
        if ssl_context is not None and not isinstance(ssl_context, ssl_module.SSLContext):
            raise ValidationError(
                f"must be an ssl.SSLContext or None, not {type(ssl_context).__name__}",
                path="ssl_context",
            )
        self.host = host
        self.port = port
        self.sender, self._sender_address = _addr_spec(sender, "sender")
        self.starttls = starttls
        self.ssl = ssl
        self.username = username
        self._password = password
        self.timeout = _positive(timeout, "timeout")
        self.renderer = renderer if renderer is not None else TemplateRenderer()
        self.local_hostname = local_hostname
        self._ssl_context = ssl_context
        self.clock: Clock = clock if clock is not None else SystemClock()

    def __repr__(self) -> str:
        user = f", username={self.username!r}" if self.username is not None else ""
        return (
            f"SMTPNotifier({self.host!r}, {self.port}, sender={self._sender_address!r}, "
            f"starttls={self.starttls}, ssl={self.ssl}{user})"
        )

    # ----- the message ---------------------------------------------------------------------
    def message(self, notification: Notification) -> EmailMessage:
        """Render ``notification`` and build the email ``send`` would send, without sending.

        Example:
            >>> from datetime import datetime, timezone
            >>> from crmkit.kernel.time import ManualClock
            >>> from crmkit.ports import Notification
            >>> notifier = SMTPNotifier("smtp.example.com", sender="crm@acme.example",
            ...     clock=ManualClock(datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)))
            >>> msg = notifier.message(Notification("amy@example.com", "email",
            ...     "birthday_greeting", "zh_Hant_TW", context={"name": "Amy", "business": "Acme"},
            ...     idempotency_key="bday-2026:cus_1"))
            >>> msg["Subject"], msg["To"], msg["Date"], msg["Content-Language"]
            ('Amy，生日快樂！', 'amy@example.com', 'Sun, 01 Mar 2026 09:00:00 +0000', 'zh-Hant-TW')
            >>> msg.get_content_type(), [p.get_content_type() for p in msg.iter_parts()]
            ('multipart/alternative', ['text/plain', 'text/html'])
            >>> msg["Idempotency-Key"], msg["Message-ID"]
            ('bday-2026:cus_1', '<crmkit.d578232723efbe4c44f0119b97fe5a35@acme.example>')
        """
        notification = self._check(notification)
        rendered = self.renderer.render(notification)
        return self._build(notification, rendered)

    def _check(self, notification: object) -> Notification:
        if not isinstance(notification, Notification):
            raise ValidationError(
                f"must be a crmkit.ports.Notification, not {type(notification).__name__}",
                path="notification",
            )
        if notification.channel != _CHANNEL:
            raise ValidationError(
                f"SMTPNotifier sends channel 'email' only, not {notification.channel!r}; "
                "route other channels to their own notifier",
                path="channel",
            )
        _addr_spec(notification.recipient, "recipient")
        key = notification.idempotency_key
        if not isinstance(key, str) or "\r" in key or "\n" in key:
            raise ValidationError(
                "must be a str without line breaks (it becomes a header)", path="idempotency_key"
            )
        return notification

    def _build(self, notification: Notification, rendered: RenderedMessage) -> EmailMessage:
        msg = EmailMessage(policy=email.policy.SMTP)
        msg["Subject"] = rendered.subject
        msg["From"] = self.sender
        msg["To"] = notification.recipient.strip()
        now = ensure_aware(self.clock.now(), "clock.now()")
        msg["Date"] = email.utils.format_datetime(now)
        domain = self._sender_address.rpartition("@")[2]
        key = notification.idempotency_key
        if key:
            digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
            msg["Message-ID"] = f"<crmkit.{digest}@{domain}>"
            msg["Idempotency-Key"] = key
            msg["X-Crmkit-Idempotency-Key"] = key
        else:
            msg["Message-ID"] = email.utils.make_msgid("crmkit", domain=domain)
        msg.set_content(rendered.text, subtype="plain", charset="utf-8")
        if rendered.html is not None:
            msg.add_alternative(
                _html_document(rendered.html, rendered.subject, rendered.locale),
                subtype="html",
                charset="utf-8",
            )
        # After the body: set_content() and add_alternative() move or drop Content-* headers.
        msg["Content-Language"] = _bcp47(rendered.locale)
        return msg

    # ----- sending -------------------------------------------------------------------------
    def send(self, notification: Notification) -> None:
        """Render and send ``notification``; return once the server accepted it.

        Raises ``DeliveryError`` (with ``details["retryable"]``) when it could not be
        delivered, and the renderer's errors when it cannot be rendered.
        """
        msg = self.message(notification)
        recipient = _addr_spec(notification.recipient, "recipient")[1]
        phase = "connect"
        client: smtplib.SMTP | None = None
        try:
            if self.ssl:
                client = smtplib.SMTP_SSL(
                    self.host,
                    self.port,
                    local_hostname=self.local_hostname,
                    timeout=self.timeout,
                    context=self._context(),
                )
            else:
                client = smtplib.SMTP(
                    self.host, self.port, local_hostname=self.local_hostname, timeout=self.timeout
                )
            phase = "ehlo"
            client.ehlo_or_helo_if_needed()
            if self.starttls:
                phase = "starttls"
                if not client.has_extn("starttls"):
                    raise _NotOffered("STARTTLS")
                client.starttls(context=self._context())
                client.ehlo_or_helo_if_needed()  # starttls() forgot the first EHLO's answer
            if self.username is not None:
                phase = "login"
                if not client.has_extn("auth"):
                    raise _NotOffered("AUTH")
                client.login(self.username, self._password or "")
            phase = "send"
            client.send_message(msg, from_addr=self._sender_address, to_addrs=[recipient])
            phase = "quit"
        except _NotOffered as exc:
            self._not_offered(notification, str(exc))
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (None, b""))
            self._rejected(notification, "refused the recipient", code, reply)
        except smtplib.SMTPSenderRefused as exc:
            self._rejected(notification, "refused the sender", exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPAuthenticationError as exc:
            self._rejected(notification, "refused the login", exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPResponseException as exc:
            what = {
                "connect": "refused the connection",
                "ehlo": "refused EHLO",
                "starttls": "refused STARTTLS",
                "login": "refused the login",
            }.get(phase, "rejected the message")
            self._rejected(notification, what, exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPNotSupportedError as exc:
            self._fail(
                notification,
                f"cannot take this message ({exc}): the server does not support an extension "
                "it needs (SMTPUTF8 for a non-ASCII address)",
                retryable=False,
            )
        except smtplib.SMTPServerDisconnected as exc:
            self._unreachable(notification, exc)
        except ssl_module.SSLCertVerificationError as exc:
            self._fail(
                notification,
                f"presented a certificate that does not verify ({exc.verify_message}); "
                "fix the server's certificate or pass an ssl_context that trusts it",
                retryable=False,
            )
        except smtplib.SMTPException as exc:
            retryable = phase not in ("login", "starttls")
            self._fail(notification, f"failed during {phase} ({exc})", retryable=retryable)
        except OSError as exc:  # refused, reset, DNS failure, timeout, TLS failure
            self._unreachable(notification, exc)
        finally:
            if client is not None:
                _close(client, polite=phase == "quit")

    def _context(self) -> ssl_module.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl_module.create_default_context()
        return self._ssl_context

    # ----- errors --------------------------------------------------------------------------
    def _details(self, notification: Notification, retryable: bool) -> dict[str, Any]:
        return {
            "notifier": "smtp",
            "host": self.host,
            "port": self.port,
            "retryable": retryable,
            "channel": notification.channel,
            "template": notification.template,
            "idempotency_key": notification.idempotency_key,
        }

    def _where(self) -> str:
        return f"SMTP server {self.host}:{self.port}"

    def _fail(
        self,
        notification: Notification,
        what: str,
        *,
        retryable: bool,
        status: int | None = None,
    ) -> NoReturn:
        details = self._details(notification, retryable)
        if status is not None:
            details["status"] = status
        advice = (
            "send it again later with the same idempotency key"
            if retryable
            else "retrying will not help until this is fixed"
        )
        raise DeliveryError(
            f"{self._where()} {what} for {notification.template!r}: {advice}", details=details
        ) from None

    def _rejected(
        self, notification: Notification, what: str, code: int | None, reply: bytes | str
    ) -> NoReturn:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        retryable = code is not None and 400 <= code < 500
        shown = f"{code} {' '.join(text.split())}".strip() if code is not None else text
        self._fail(notification, f"{what}: {shown}", retryable=retryable, status=code)

    def _not_offered(self, notification: Notification, extension: str) -> NoReturn:
        if extension == "STARTTLS":
            hint = (
                "does not offer STARTTLS; use ssl=True if it speaks TLS from the start (port "
                "465), or starttls=False only on a network you trust"
            )
        else:
            hint = (
                "does not offer AUTH, so username/password cannot be used; many servers offer "
                "it only after TLS (starttls=True or ssl=True), or leave username unset"
            )
        self._fail(notification, hint, retryable=False)

    def _unreachable(self, notification: Notification, reason: BaseException) -> NoReturn:
        # smtplib reports a reply that never came as SMTPServerDisconnected from a TimeoutError.
        if isinstance(reason, TimeoutError) or isinstance(reason.__context__, TimeoutError):
            what = f"did not answer within {self.timeout:g} s"
        else:
            what = f"could not be reached ({type(reason).__name__}: {reason})"
        self._fail(notification, what, retryable=True)


def _close(client: smtplib.SMTP, *, polite: bool) -> None:
    """End the session; a failure here never turns a delivered message into an error."""
    try:
        if polite:
            client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        with contextlib.suppress(OSError):
            client.close()


def _html_document(body: str, subject: str, locale: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(_bcp47(locale), quote=True)}">\n'
        '<head><meta charset="utf-8">'
        f"<title>{html.escape(subject, quote=False)}</title></head>\n"
        f"<body>\n{body}\n</body>\n"
        "</html>\n"
    )
