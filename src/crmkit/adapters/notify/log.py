"""A notifier that only logs: for development, and as an audit trail beside a real one.

It writes one line per notification to the ``crmkit.notify`` logger: channel, template,
recipient, locale, idempotency key and the *keys* of the context. Context values are business
data (amounts, names, addresses) and never reach the log.

Example:
    >>> from crmkit.ports import Notifier
    >>> isinstance(LogNotifier(), Notifier)
    True

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import logging

from crmkit.errors import ValidationError
from crmkit.ports import Notification

__all__ = ["LogNotifier"]

_LOGGER_NAME = "crmkit.notify"


class LogNotifier:
    """Log each notification as one line; implements :class:`crmkit.ports.Notifier`.

    Every field is written with ``repr`` so a recipient or key holding a newline cannot forge
    a second log line. Sending never fails unless the notification is not a ``Notification``.

    Args:
        logger: where to write; ``logging.getLogger("crmkit.notify")`` by default.
        level: the level of each line (``logging.INFO`` by default).

    Example:
        >>> import logging, sys
        >>> from crmkit.ports import Notification
        >>> logger = logging.getLogger("example.notify")
        >>> logger.propagate = False
        >>> handler = logging.StreamHandler(sys.stdout)
        >>> logger.addHandler(handler)
        >>> LogNotifier(logger, level=logging.WARNING).send(Notification(
        ...     "amy@example.com", "email", "welcome", "en",
        ...     context={"name": "Acme", "total": "100"}, idempotency_key="evt_1:owner"))
        notification channel='email' template='welcome' recipient='amy@example.com' locale='en'
        idempotency_key='evt_1:owner' context_keys=['name', 'total']
        >>> logger.removeHandler(handler)

    .. versionadded:: 0.1.0
    """

    def __init__(self, logger: logging.Logger | None = None, level: int = logging.INFO) -> None:
        if logger is not None and not isinstance(logger, logging.Logger):
            raise ValidationError(
                f"must be a logging.Logger or None, not {type(logger).__name__}", path="logger"
            )
        if isinstance(level, bool) or not isinstance(level, int):
            raise ValidationError(
                f"must be a logging level such as logging.INFO, not {level!r}", path="level"
            )
        self.logger = logger if logger is not None else logging.getLogger(_LOGGER_NAME)
        self.level = level

    def send(self, notification: Notification) -> None:
        """Write one log line describing ``notification`` (context keys only)."""
        if not isinstance(notification, Notification):
            raise ValidationError(
                f"must be a crmkit.ports.Notification, not {type(notification).__name__}",
                path="notification",
            )
        keys = sorted(str(key) for key in notification.context)
        self.logger.log(
            self.level,
            "notification channel=%r template=%r recipient=%r locale=%r idempotency_key=%r "
            "context_keys=%r",
            notification.channel,
            notification.template,
            notification.recipient,
            notification.locale,
            notification.idempotency_key,
            keys,
        )
