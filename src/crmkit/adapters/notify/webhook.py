"""Deliver notifications as signed JSON POSTs to an HTTP(S) endpoint, and verify them on receipt.

:class:`WebhookNotifier` sends each notification as one JSON document::

    {"idempotency_key": ..., "template": ..., "channel": ..., "recipient": ...,
     "locale": ..., "context": {...}}

with the headers ``Content-Type: application/json``, ``Idempotency-Key: <key>``,
``X-Crmkit-Timestamp: <unix seconds>`` and ``X-Crmkit-Signature: v1=<hex>``, where the hex is
HMAC-SHA256 keyed with the shared secret over ``f"{timestamp}.".encode() + body``. A receiver
checks it with :func:`verify_signature` and drops duplicates by ``Idempotency-Key``: a retried
notification carries the same key.

The HTTP client is the standard library's ``urllib.request``, on purpose: a webhook is one JSON
POST per notification, with no connection pooling or streaming to gain from a third-party
client, and crmkit stays installable with zero extra dependencies for it.

Example:
    >>> from crmkit.ports import Notifier
    >>> notifier = WebhookNotifier("https://crm-hooks.example.com/in", secret="s3cret", timeout=5)
    >>> isinstance(notifier, Notifier), notifier
    (True, WebhookNotifier('https://crm-hooks.example.com/in'))

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, NoReturn

from crmkit.errors import DeliveryError, ValidationError
from crmkit.kernel.time import Clock, SystemClock, ensure_aware
from crmkit.ports import Notification
from crmkit.serialization import dumps, unstructure

__all__ = ["WebhookNotifier", "verify_signature"]

_SCHEME = "v1"
_RETRYABLE_4XX = frozenset({408, 429})


def _secret_bytes(secret: object, path: str = "secret") -> bytes:
    if isinstance(secret, str):
        key = secret.encode("utf-8")
    elif isinstance(secret, bytes):
        key = secret
    else:
        raise ValidationError(f"must be str or bytes, not {type(secret).__name__}", path=path)
    if not key:
        raise ValidationError(
            "must not be empty: give the secret shared with the receiver", path=path
        )
    return key


def _sign(key: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _public_url(url: str) -> str:
    """The URL without user info, query string or fragment: safe to put in errors and logs."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse redirects: urllib would turn a redirected POST into a GET and lose the body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class WebhookNotifier:
    """POST each notification as signed JSON to ``url``; implements :class:`crmkit.ports.Notifier`.

    ``send`` returns when the receiver answers 2xx. Anything else raises ``DeliveryError`` whose
    ``details`` hold ``url`` (without query string or credentials), ``status`` when an answer came,
    and ``retryable``: true for 5xx, 408, 429, timeouts and connection failures (send again later,
    with the same idempotency key), false for other 4xx and for redirects (fix the configuration
    or the notification). Redirects are not followed.

    Args:
        url: the receiver's ``http://`` or ``https://`` URL.
        secret: the HMAC key shared with the receiver (non-empty ``str`` or ``bytes``).
        timeout: seconds to wait for the connection and for each read.
        clock: gives the signed timestamp; the system clock by default.
        headers: extra headers to send (an API gateway key, say); crmkit's own headers
            (``Content-Type``, ``Idempotency-Key``, ``X-Crmkit-*``) always win.

    Example:
        >>> WebhookNotifier("ftp://example.com/hooks", "s3cret")
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: url: must be an http:// or https:// URL, not 'ftp://...'
        >>> WebhookNotifier("https://example.com/hooks?token=x", "s3cret").url
        'https://example.com/hooks?token=x'

    .. versionadded:: 0.1.0
    """

    def __init__(
        self,
        url: str,
        secret: str | bytes,
        *,
        timeout: float = 10.0,
        clock: Clock | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.url = _check_url(url)
        self._key = _secret_bytes(secret)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValidationError(
                f"must be a positive number of seconds, not {timeout!r}", path="timeout"
            )
        self.timeout = float(timeout)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.headers = _check_headers(headers)
        self._opener = urllib.request.build_opener(_NoRedirect())

    def __repr__(self) -> str:
        return f"WebhookNotifier({_public_url(self.url)!r})"

    def send(self, notification: Notification) -> None:
        """POST ``notification``; return on 2xx, raise ``DeliveryError`` otherwise."""
        if not isinstance(notification, Notification):
            raise ValidationError(
                f"must be a crmkit.ports.Notification, not {type(notification).__name__}",
                path="notification",
            )
        body = _body(notification)
        timestamp = str(int(ensure_aware(self.clock.now(), "clock.now()").timestamp()))
        headers = dict(self.headers)
        headers["Content-Type"] = "application/json"
        if notification.idempotency_key:
            headers["Idempotency-Key"] = notification.idempotency_key
        headers["X-Crmkit-Timestamp"] = timestamp
        headers["X-Crmkit-Signature"] = f"{_SCHEME}={_sign(self._key, timestamp, body)}"
        # The scheme was checked in __init__: only http:// and https:// reach urllib.
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                self._refused(notification, exc.code, exc.reason)
        except urllib.error.URLError as exc:
            self._unreachable(notification, exc.reason)
        except (OSError, http.client.HTTPException) as exc:
            self._unreachable(notification, exc)

    def _details(self, notification: Notification, retryable: bool) -> dict[str, Any]:
        return {
            "notifier": "webhook",
            "url": _public_url(self.url),
            "retryable": retryable,
            "channel": notification.channel,
            "template": notification.template,
            "idempotency_key": notification.idempotency_key,
        }

    def _refused(self, notification: Notification, status: int, reason: object) -> NoReturn:
        retryable = status >= 500 or status in _RETRYABLE_4XX
        details = self._details(notification, retryable)
        details["status"] = status
        if 300 <= status < 400:
            advice = "webhook URLs are not followed through redirects; configure the final URL"
        elif retryable:
            advice = "send it again later with the same idempotency key"
        else:
            advice = "the receiver rejected it; retrying will not help"
        raise DeliveryError(
            f"webhook {details['url']} answered {status} {reason} to {notification.template!r}: "
            f"{advice}",
            details=details,
        ) from None

    def _unreachable(self, notification: Notification, reason: object) -> NoReturn:
        details = self._details(notification, True)
        if isinstance(reason, TimeoutError):
            what = f"did not answer within {self.timeout:g} s"
        else:
            what = f"could not be reached ({type(reason).__name__}: {reason})"
        raise DeliveryError(
            f"webhook {details['url']} {what} for {notification.template!r}: "
            "send it again later with the same idempotency key",
            details=details,
        ) from None


def _check_url(url: object) -> str:
    if not isinstance(url, str):
        raise ValidationError(f"must be a str, not {type(url).__name__}", path="url")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a malformed port)
    except ValueError as exc:
        raise ValidationError(f"is not a valid URL ({exc})", path="url") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = f"{parts.scheme}://..." if parts.scheme else url
        raise ValidationError(f"must be an http:// or https:// URL, not {shown!r}", path="url")
    if not parts.hostname:
        raise ValidationError("must name a host, as in https://example.com/hooks", path="url")
    return url


def _check_headers(headers: object) -> dict[str, str]:
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise ValidationError(
            f"must be a mapping of str to str, not {type(headers).__name__}", path="headers"
        )
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise ValidationError("names and values must be str", path=f"headers[{name!r}]")
        if any(c in name + value for c in "\r\n") or not name.strip():
            raise ValidationError(
                "must be a non-empty name and a value without line breaks",
                path=f"headers[{name!r}]",
            )
        checked[name] = value
    return checked


def _body(notification: Notification) -> bytes:
    try:
        context = unstructure(dict(notification.context))
        document = {
            "idempotency_key": notification.idempotency_key,
            "template": notification.template,
            "channel": notification.channel,
            "recipient": notification.recipient,
            "locale": notification.locale,
            "context": context,
        }
        return dumps(document).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"must hold JSON-ready values, Money, dates and crmkit objects only ({exc})",
            path="notification.context",
        ) from None


def verify_signature(
    secret: str | bytes,
    body: bytes,
    timestamp: str,
    signature: str,
    *,
    now: datetime,
    tolerance: timedelta = timedelta(minutes=5),
) -> None:
    """Check a webhook from :class:`WebhookNotifier`: return if genuine and fresh, else raise.

    Pass the raw request body (the bytes received, before any JSON parsing), the
    ``X-Crmkit-Timestamp`` and ``X-Crmkit-Signature`` headers, and the receiver's current time.
    The signature is compared in constant time; a timestamp further than ``tolerance`` from
    ``now`` (either way) is refused, so a captured request cannot be replayed later.

    Raises:
        ValidationError: naming ``signature`` or ``timestamp`` when the check fails, or the
            argument that is malformed.

    Example:
        >>> import hashlib, hmac
        >>> from datetime import datetime, timezone
        >>> body = b'{"template":"welcome"}'
        >>> sig = "v1=" + hmac.new(b"s3cret", b"1767258000." + body, hashlib.sha256).hexdigest()
        >>> now = datetime(2026, 1, 1, 9, 2, tzinfo=timezone.utc)  # 2 minutes later
        >>> verify_signature("s3cret", body, "1767258000", sig, now=now)
        >>> verify_signature("s3cret", body + b" ", "1767258000", sig, now=now)
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: signature: does not match the body and timestamp ...
        >>> verify_signature("s3cret", body, "1767258000", sig,
        ...                  now=datetime(2026, 1, 1, 10, 0, tzinfo=timezone.utc))
        Traceback (most recent call last):
        ...
        crmkit.errors.ValidationError: timestamp: is 3600 s away from now...

    .. versionadded:: 0.1.0
    """
    key = _secret_bytes(secret)
    if not isinstance(body, (bytes, bytearray)):
        raise ValidationError(
            f"must be the raw request body as bytes, not {type(body).__name__}", path="body"
        )
    now = ensure_aware(now, "now")
    if not isinstance(tolerance, timedelta) or tolerance < timedelta(0):
        raise ValidationError(
            f"must be a non-negative timedelta, not {tolerance!r}", path="tolerance"
        )
    if not isinstance(timestamp, str) or not timestamp.isascii() or not timestamp.isdigit():
        raise ValidationError(
            f"must be the X-Crmkit-Timestamp header: unix seconds as digits, not {timestamp!r}",
            path="timestamp",
        )
    if not isinstance(signature, str):
        raise ValidationError(
            f"must be the X-Crmkit-Signature header as str, not {type(signature).__name__}",
            path="signature",
        )
    expected = f"{_SCHEME}={_sign(key, timestamp, bytes(body))}"
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace")):
        raise ValidationError(
            "does not match the body and timestamp under this secret: the request was altered, "
            "or signed with another secret",
            path="signature",
        )
    try:
        sent = datetime.fromtimestamp(int(timestamp), tz=timezone.utc)
    except (OverflowError, OSError, ValueError):
        raise ValidationError(
            f"is not a plausible unix time: {timestamp!r}", path="timestamp"
        ) from None
    skew = abs(now - sent)
    if skew > tolerance:
        raise ValidationError(
            f"is {skew.total_seconds():.0f} s away from now, more than the "
            f"{tolerance.total_seconds():.0f} s allowed: a stale or replayed request",
            path="timestamp",
        )
