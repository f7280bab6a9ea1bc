"""crmkit errors as RFC 9457 problem details: an HTTP status and a problem+json body.

Nothing here imports a web framework: a FastAPI, Django or Flask host calls
:func:`problem_details` from its exception handler (``examples/fastapi_service`` shows FastAPI).

The status comes from the error's class: walk ``type(error).__mro__`` and take the first class
the :data:`HTTP_STATUS` table lists, so a subclass gets its family's status unless it is listed
itself (``ConcurrencyError`` is a ``ConflictError``: 409; ``NaiveDatetimeError`` is a
``ValidationError``: 422). Anything the table does not know is a 500.

The body carries the standard members and crmkit's own:

* ``type``: a URI naming the kind of problem: the reference page of the crmkit error class;
* ``title``: a short summary of that kind, the same for every occurrence;
* ``status``: the HTTP status, repeated for clients that only see the body;
* ``detail``: the error's message, which says what was wrong and with what value;
* ``instance``: the request path, when given;
* ``code``: the error's stable ``code``, the thing a client should branch on;
* ``errors``: for a validation error, every field problem as ``{"path", "message"}``;
* ``details``: the rest of the error's structured ``details`` (ids, versions, unmet guards),
  left out of server errors (5xx), whose details are for the log, not the client.

Example:
    >>> status, body = problem_details(errors.RuleViolation("a won deal cannot move"))
    >>> status, body["code"], body["detail"]
    (409, 'rule_violation', 'a won deal cannot move')

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from crmkit import errors

__all__ = [
    "HTTP_STATUS",
    "PROBLEM_JSON",
    "TYPE_BASE",
    "field_problems",
    "http_problem",
    "problem_details",
    "status_for",
]

#: The media type of an RFC 9457 problem details body.
PROBLEM_JSON = "application/problem+json"

#: Where a problem ``type`` points: crmkit's reference page of the error class.
TYPE_BASE = "https://crmkit.readthedocs.io/reference/errors/"

#: Error family to HTTP status. Order does not matter: the error's ``__mro__`` decides.
HTTP_STATUS: dict[type[errors.CRMError], int] = {
    errors.ValidationError: 422,  # well-formed JSON, invalid data; .errors lists each field
    errors.DefinitionError: 422,  # an admin sent an invalid rule set
    errors.NotFoundError: 404,
    errors.ConflictError: 409,  # ConcurrencyError (reload and retry) and DuplicateError
    errors.RuleViolation: 409,  # valid input, but a rule forbids the change in this state
    errors.PermissionDeniedError: 403,
    errors.StorageError: 503,  # the client may retry later
    errors.MissingDependencyError: 501,  # the server lacks an optional extra
}

_TITLES = {
    "validation_error": "Invalid input",
    "currency_mismatch": "Currencies do not match",
    "naive_datetime": "Datetime without a time zone",
    "definition_error": "Invalid definition",
    "not_found": "Not found",
    "conflict": "Conflict with the stored state",
    "concurrency_conflict": "Changed by someone else",
    "duplicate": "Already exists",
    "rule_violation": "Refused by a business rule",
    "permission_denied": "Permission denied",
    "storage_error": "Storage unavailable",
    "delivery_error": "Delivery failed",
    "missing_dependency": "Feature not installed",
}


def status_for(error: errors.CRMError) -> int:
    """Return the HTTP status for ``error``: its nearest family in :data:`HTTP_STATUS`, else 500.

    Example:
        >>> status_for(errors.ConcurrencyError.stale("leads", "l1", expected=1, actual=2))
        409

    .. versionadded:: 0.1.0
    """
    return next((HTTP_STATUS[c] for c in type(error).__mro__ if c in HTTP_STATUS), 500)


def _crmkit_class(error: errors.CRMError) -> type[errors.CRMError]:
    """The nearest class crmkit.errors defines (a host's own subclass points at its family)."""
    for cls in type(error).__mro__:
        if cls.__module__ == errors.__name__ and issubclass(cls, errors.CRMError):
            return cls
    return errors.CRMError


def problem_details(
    error: errors.CRMError, *, instance: str | None = None, type_base: str = TYPE_BASE
) -> tuple[int, dict[str, Any]]:
    """Return ``(status, body)`` for ``error``; send the body as ``application/problem+json``.

    Example:
        >>> status, body = problem_details(
        ...     errors.NotFoundError("no leads record with id 'lead_9'", details={"id": "lead_9"}),
        ...     instance="/leads/lead_9")
        >>> status, body["code"], body["title"], body["details"]
        (404, 'not_found', 'Not found', {'id': 'lead_9'})
        >>> body["type"]
        'https://crmkit.readthedocs.io/reference/errors/#crmkit.errors.NotFoundError'

    .. versionadded:: 0.1.0
    """
    status = status_for(error)
    cls = _crmkit_class(error)
    body: dict[str, Any] = {
        "type": f"{type_base}#{cls.__module__}.{cls.__qualname__}",
        "title": _TITLES.get(error.code) or HTTPStatus(status).phrase,
        "status": status,
        "detail": error.message,
    }
    if instance is not None:
        body["instance"] = instance
    body["code"] = error.code
    if isinstance(error, errors.ValidationError):
        body["errors"] = [{"path": e.path, "message": e.message} for e in error.errors]
    details = {k: v for k, v in error.details.items() if k != "errors"}
    if details and status < 500:
        body["details"] = details
    return status, body


def field_problems(
    errors_found: list[tuple[str, str]], *, instance: str | None = None
) -> tuple[int, dict[str, Any]]:
    """Problem details for input the web framework refused before crmkit saw it (a 422).

    ``errors_found`` lists ``(path, message)`` pairs; the body is the one a crmkit
    :class:`~crmkit.errors.ValidationError` with those field errors would get.

    Example:
        >>> status, body = field_problems([("lines[0].quantity", "Field required")])
        >>> status, body["code"], body["errors"]
        (422, 'validation_error', [{'path': 'lines[0].quantity', 'message': 'Field required'}])

    .. versionadded:: 0.1.0
    """
    error = errors.ValidationError(
        errors=[errors.FieldError(path, message) for path, message in errors_found]
    )
    return problem_details(error, instance=instance)


def http_problem(status: int, detail: str, *, instance: str | None = None) -> dict[str, Any]:
    """A plain problem body for an HTTP-level error (no route, wrong method): ``about:blank``.

    Example:
        >>> http_problem(405, "Method Not Allowed")["title"]
        'Method Not Allowed'

    .. versionadded:: 0.1.0
    """
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance is not None:
        body["instance"] = instance
    body["code"] = HTTPStatus(status).name.lower()
    return body
