"""The application layer: use cases, the message bus, and ``bootstrap()`` that wires them.

Example:
    >>> from crmkit.app import bootstrap
    >>> crm = bootstrap()
    >>> crm.register_customer("Formosa Tea Co.").lifecycle.value
    'prospect'

.. versionadded:: 0.1.0
"""

from crmkit.app._crm import CRM
from crmkit.app.bootstrap import bootstrap
from crmkit.app.messagebus import HandlerFailure, MessageBus
from crmkit.app.transfer import Duplicate, ImportReport, import_customers

__all__ = [
    "CRM",
    "Duplicate",
    "HandlerFailure",
    "ImportReport",
    "MessageBus",
    "bootstrap",
    "import_customers",
]
