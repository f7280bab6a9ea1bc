"""The errors crmkit raises on purpose, all of them ``CRMError`` subclasses.

Every error has a stable ``code`` (for logs, translations and HTTP mapping), a human ``message``
that says what was wrong and what would be right, and structured ``details``.  Families also
inherit the builtin exception a Python user would catch, so ``except ValueError`` still works.

The tree::

    CRMError(Exception)
    ├── ValidationError(CRMError, ValueError)        bad input; .errors: FieldError(path, message)
    │   ├── CurrencyMismatchError                    Money of two currencies combined
    │   └── NaiveDatetimeError                       a datetime without tzinfo
    ├── DefinitionError(CRMError, ValueError)        a rule set (pipeline, program...) is invalid
    ├── NotFoundError(CRMError, LookupError)         no record with that id
    ├── ConflictError(CRMError)                      the store disagrees with the command
    │   ├── ConcurrencyError                         stale version: someone saved first
    │   └── DuplicateError                           the record (or its unique key) already exists
    ├── RuleViolation(CRMError)                      valid input, forbidden by a rule now
    ├── PermissionDeniedError(CRMError, PermissionError)
    ├── StorageError(CRMError)                       the storage backend failed
    └── DeliveryError(CRMError)                      a notifier could not deliver a message

Example:
    >>> from crmkit.errors import CRMError, ValidationError
    >>> try:
    ...     raise ValidationError("must not be empty", path="name")
    ... except CRMError as exc:
    ...     (exc.code, str(exc), exc.details["errors"][0]["path"])
    ('validation_error', 'name: must not be empty', 'name')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import attrs

__all__ = [
    "CRMError",
    "ConcurrencyError",
    "ConflictError",
    "CurrencyMismatchError",
    "DefinitionError",
    "DeliveryError",
    "DuplicateError",
    "FieldError",
    "MissingDependencyError",
    "NaiveDatetimeError",
    "NotFoundError",
    "PermissionDeniedError",
    "RuleViolation",
    "StorageError",
    "ValidationError",
]


class CRMError(Exception):
    """Root of every error crmkit raises on purpose.

    Args:
        message: what was wrong and, where it helps, what would be right.
        details: structured context a host can log or return (JSON-friendly values).

    Example:
        >>> err = CRMError("something failed", details={"id": "c1"})
        >>> err.code, err.message, dict(err.details)
        ('crm_error', 'something failed', {'id': 'c1'})

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "crm_error"

    def __init__(self, message: str, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: Mapping[str, Any] = dict(details or {})

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly view: ``code``, ``message`` and ``details``.

        Example:
            >>> NotFoundError("no customer 'c9'").to_dict()
            {'code': 'not_found', 'message': "no customer 'c9'", 'details': {}}
        """
        return {"code": self.code, "message": self.message, "details": dict(self.details)}


@attrs.frozen
class FieldError:
    """One problem with one field of the input: where (a dotted path) and what.

    Example:
        >>> FieldError("contacts[0].email", "not a valid email address")
        FieldError(path='contacts[0].email', message='not a valid email address')

    .. versionadded:: 0.1.0
    """

    path: str
    message: str


class ValidationError(CRMError, ValueError):
    """The input is malformed: a wrong type, a missing or empty field, a value out of range.

    Raise it with one ``path`` and a message, or with ``errors`` listing every problem found.
    ``str(error)`` names each field; ``error.errors`` gives them as :class:`FieldError`.

    Example:
        >>> err = ValidationError(errors=[FieldError("name", "must not be empty"),
        ...                               FieldError("email", "is not an email address")])
        >>> print(err)
        2 problems: name: must not be empty; email: is not an email address
        >>> [e.path for e in err.errors]
        ['name', 'email']

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "validation_error"

    def __init__(
        self,
        message: str | None = None,
        *,
        path: str | None = None,
        errors: Iterable[FieldError] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        found: list[FieldError] = list(errors or ())
        if message is not None:
            found.insert(0, FieldError(path or "", message))
        if not found:
            found.append(FieldError(path or "", "is invalid"))
        self.errors: Sequence[FieldError] = tuple(found)
        text = "; ".join(f"{e.path}: {e.message}" if e.path else e.message for e in found)
        if len(found) > 1:
            text = f"{len(found)} problems: {text}"
        merged = dict(details or {})
        merged["errors"] = [{"path": e.path, "message": e.message} for e in found]
        super().__init__(text, details=merged)

    def at(self, prefix: str) -> ValidationError:
        """Return the same error with every path placed under ``prefix``.

        Example:
            >>> ValidationError("is empty", path="name").at("contacts[1]").errors[0].path
            'contacts[1].name'
        """
        moved = [FieldError(_join(prefix, e.path), e.message) for e in self.errors]
        clone = type(self).__new__(type(self))
        ValidationError.__init__(clone, errors=moved, details=_without_errors(self.details))
        return clone


def _join(prefix: str, path: str) -> str:
    if not path:
        return prefix
    if not prefix:
        return path
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def _without_errors(details: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in details.items() if k != "errors"}


class CurrencyMismatchError(ValidationError):
    """Two amounts in different currencies were combined or compared.

    Example:
        >>> from crmkit.kernel.money import Money
        >>> Money("1", "USD") + Money("1", "TWD")
        Traceback (most recent call last):
        ...
        crmkit.errors.CurrencyMismatchError: cannot add USD and TWD amounts; convert one first

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "currency_mismatch"


class NaiveDatetimeError(ValidationError):
    """A datetime without a time zone was given where crmkit needs an aware one.

    Example:
        >>> from datetime import datetime
        >>> from crmkit.kernel.time import ensure_aware
        >>> ensure_aware(datetime(2026, 1, 1), "due_at")
        Traceback (most recent call last):
        ...
        crmkit.errors.NaiveDatetimeError: due_at: must be timezone-aware ...

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "naive_datetime"


class DefinitionError(CRMError, ValueError):
    """A rule set (a pipeline, a program, a policy) is invalid as defined; lists every problem.

    Example:
        >>> raise DefinitionError("pipeline 'sales' has no won stage")
        Traceback (most recent call last):
        ...
        crmkit.errors.DefinitionError: pipeline 'sales' has no won stage

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "definition_error"


class NotFoundError(CRMError, LookupError):
    """No record of that kind with that id exists (or the actor may not know it exists).

    Example:
        >>> NotFoundError("no customer with id 'cus_1'", details={"id": "cus_1"}).code
        'not_found'

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "not_found"


class ConflictError(CRMError):
    """The command conflicts with what is stored.

    Example:
        >>> issubclass(ConcurrencyError, ConflictError)
        True

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "conflict"


class ConcurrencyError(ConflictError):
    """Optimistic concurrency failed: the record was saved by someone else since it was read.

    ``details`` holds ``expected_version`` (what the caller read) and ``actual_version`` (what is
    stored now, or ``None`` when the record was removed). Reload, re-apply and save again.

    Example:
        >>> err = ConcurrencyError.stale("customers", "cus_1", expected=3, actual=4)
        >>> print(err)
        customers 'cus_1' was changed by someone else (read version 3, stored version 4); ...
        >>> err.details["actual_version"]
        4

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "concurrency_conflict"

    @classmethod
    def stale(cls, kind: str, id: str, *, expected: int, actual: int | None) -> ConcurrencyError:
        """Build the standard message for a stale save of ``kind`` record ``id``.

        Example:
            >>> print(ConcurrencyError.stale("leads", "l1", expected=1, actual=None))
            leads 'l1' was changed by someone else (read version 1, it was removed); ...
        """
        stored = "it was removed" if actual is None else f"stored version {actual}"
        return cls(
            f"{kind} {id!r} was changed by someone else (read version {expected}, {stored}); "
            "reload and retry",
            details={
                "kind": kind,
                "id": id,
                "expected_version": expected,
                "actual_version": actual,
            },
        )


class DuplicateError(ConflictError):
    """A record with that id (or that unique key) already exists.

    Example:
        >>> DuplicateError("customer 'cus_1' already exists").code
        'duplicate'

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "duplicate"


class RuleViolation(CRMError):
    """The input is well-formed but a business rule forbids the move now.

    Example:
        >>> RuleViolation("a closed case cannot be reopened after 14 days").code
        'rule_violation'

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "rule_violation"


class PermissionDeniedError(CRMError, PermissionError):
    """The actor may not perform this action on this record.

    Example:
        >>> PermissionDeniedError("rep 'u2' may not edit customer 'cus_1'").code
        'permission_denied'

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "permission_denied"


class StorageError(CRMError):
    """The storage backend failed (connection lost, disk full, schema missing).

    Example:
        >>> StorageError("database is locked").code
        'storage_error'

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "storage_error"


class DeliveryError(CRMError):
    """A notifier could not deliver a notification (server down, refused, timed out).

    ``details`` says which notifier and, where known, whether a retry may succeed
    (``retryable``).

    Example:
        >>> DeliveryError("webhook answered 500", details={"retryable": True}).code
        'delivery_error'

    .. versionadded:: 0.1.0
    """

    code: ClassVar[str] = "delivery_error"


class MissingDependencyError(CRMError, ImportError):
    """An optional feature was used without the package (the extra) it needs.

    ``details`` names the ``package``, the crmkit ``extra`` that installs it and the
    ``install`` command. It is an :class:`ImportError` too, as a Python user would expect.

    Example:
        >>> err = MissingDependencyError.for_extra("reportlab", "pdf", "rendering a PDF")
        >>> print(err)
        rendering a PDF needs reportlab, which is not installed; install it with: pip install "crmkit[pdf]"
        >>> err.code, err.details["extra"], isinstance(err, ImportError)
        ('missing_dependency', 'pdf', True)

    .. versionadded:: 0.1.0
    """  # noqa: E501

    code: ClassVar[str] = "missing_dependency"

    @classmethod
    def for_extra(cls, package: str, extra: str, feature: str) -> MissingDependencyError:
        """Build the standard message: ``feature`` needs ``package``, from the extra ``extra``.

        Example:
            >>> MissingDependencyError.for_extra("reportlab", "pdf", "render_pdf").details
            {'package': 'reportlab', 'extra': 'pdf', 'install': 'pip install "crmkit[pdf]"'}
        """
        install = f'pip install "crmkit[{extra}]"'
        return cls(
            f"{feature} needs {package}, which is not installed; install it with: {install}",
            details={"package": package, "extra": extra, "install": install},
        )
