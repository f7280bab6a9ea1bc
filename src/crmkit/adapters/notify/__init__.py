"""Notifier adapters: implementations of :class:`crmkit.ports.Notifier` that leave the process.

* :class:`LogNotifier` writes one line per notification to the ``crmkit.notify`` logger
  (the context's keys only, never its values).
* :class:`SMTPNotifier` sends each ``email`` notification over SMTP, rendered in the
  recipient's language (text and HTML), with STARTTLS or TLS and login when configured.
* :class:`WebhookNotifier` POSTs each notification as signed JSON to an HTTP(S) endpoint;
  a receiver checks the signature with :func:`verify_signature`.

Example:
    >>> from crmkit.adapters.notify import LogNotifier, WebhookNotifier
    >>> from crmkit.ports import Notifier
    >>> isinstance(LogNotifier(), Notifier)
    True
    >>> isinstance(WebhookNotifier("https://example.com/hooks", "s3cret"), Notifier)
    True

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from crmkit.adapters.notify.log import LogNotifier
from crmkit.adapters.notify.smtp import SMTPNotifier
from crmkit.adapters.notify.webhook import WebhookNotifier, verify_signature

__all__ = [
    "LogNotifier",
    "SMTPNotifier",
    "WebhookNotifier",
    "verify_signature",
]
