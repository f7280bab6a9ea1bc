"""crmkit: an embeddable CRM domain library.

The names most users need are here: :func:`bootstrap` builds a :class:`CRM`, the object you hold
to run use cases; :class:`Money`, the clocks, queries, the aggregates of the customers context,
and every error crmkit raises on purpose (all :class:`CRMError` subclasses).

Example:
    >>> import crmkit
    >>> crm = crmkit.bootstrap()
    >>> tea = crm.register_customer("Formosa Tea Co.", tags=["tea"])
    >>> crm.get_customer(tea.id).tags
    ('tea',)
    >>> try:
    ...     crm.register_customer("   ")
    ... except crmkit.ValidationError as exc:
    ...     print(exc)
    name: must not be empty

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from crmkit.app import CRM, MessageBus, bootstrap
from crmkit.customers import Contact, Customer, Interaction
from crmkit.errors import (
    ConcurrencyError,
    ConflictError,
    CRMError,
    CurrencyMismatchError,
    DefinitionError,
    DeliveryError,
    DuplicateError,
    FieldError,
    NaiveDatetimeError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolation,
    StorageError,
    ValidationError,
)
from crmkit.kernel import (
    Aggregate,
    Clock,
    DomainEvent,
    ManualClock,
    Money,
    Page,
    Query,
    Rounding,
    SystemClock,
)

__all__ = [
    "Aggregate",
    "CRM",
    "CRMError",
    "Clock",
    "ConcurrencyError",
    "ConflictError",
    "Contact",
    "CurrencyMismatchError",
    "Customer",
    "DefinitionError",
    "DeliveryError",
    "DomainEvent",
    "DuplicateError",
    "FieldError",
    "Interaction",
    "ManualClock",
    "MessageBus",
    "Money",
    "NaiveDatetimeError",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "Query",
    "Rounding",
    "RuleViolation",
    "StorageError",
    "SystemClock",
    "ValidationError",
    "bootstrap",
]


def __getattr__(name: str) -> str:
    """Compute ``__version__`` on first use, from the installed distribution's metadata.

    Example:
        >>> import crmkit
        >>> crmkit.__version__
        '0.1.0'

    .. versionadded:: 0.1.0
    """
    if name == "__version__":
        from importlib.metadata import version

        return version("crmkit")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
