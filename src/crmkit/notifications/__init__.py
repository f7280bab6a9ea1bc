# The example shows Chinese punctuation.
# ruff: noqa: RUF002
"""The notifications context: pure rules.

What a notification says and how it reads in the recipient's language: message
:class:`Template` objects (msgids with ``{placeholders}``), the built-in :data:`TEMPLATES`, and
the :class:`TemplateRenderer` that turns a :class:`crmkit.ports.Notification` into a
:class:`RenderedMessage` (subject, plain text, HTML) translated through crmkit's gettext
catalogs, with money, dates and times formatted for the recipient's locale and time zone.
Nothing here sends anything: notifier adapters (``crmkit.adapters.notify``) do.

Example:
    >>> from crmkit.notifications import TemplateRenderer
    >>> from crmkit.ports import Notification
    >>> message = TemplateRenderer().render(Notification(
    ...     "amy@example.com", "email", "birthday_greeting", "zh_TW",
    ...     context={"name": "Amy", "business": "Formosa Tea"}))
    >>> message.locale, message.subject
    ('zh_Hant_TW', 'Amy，生日快樂！')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from crmkit.notifications.consent import ConsentDecision, Purpose, Verdict, decide
from crmkit.notifications.context import decode_context, encode_context
from crmkit.notifications.delivery import (
    DELIVERIES,
    Attempt,
    Delivery,
    DeliveryStatus,
    RetryPolicy,
    delivery_id,
)
from crmkit.notifications.events import (
    BirthdayDue,
    CustomerNeedsAttention,
    LeadFollowUpOverdue,
    occurrence_id,
)
from crmkit.notifications.subscriptions import (
    Recipient,
    RecipientKind,
    Subscription,
    Subscriptions,
    event_fields,
)
from crmkit.notifications.templates import (
    TEMPLATES,
    RenderedMessage,
    Template,
    TemplateRenderer,
)

__all__ = [
    "Attempt",
    "BirthdayDue",
    "ConsentDecision",
    "CustomerNeedsAttention",
    "DELIVERIES",
    "Delivery",
    "DeliveryStatus",
    "LeadFollowUpOverdue",
    "Purpose",
    "Recipient",
    "RecipientKind",
    "RenderedMessage",
    "RetryPolicy",
    "Subscription",
    "Subscriptions",
    "TEMPLATES",
    "Template",
    "TemplateRenderer",
    "Verdict",
    "decide",
    "decode_context",
    "delivery_id",
    "encode_context",
    "event_fields",
    "occurrence_id",
]
