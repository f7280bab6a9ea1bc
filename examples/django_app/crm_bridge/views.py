"""Two JSON views over crmkit's use cases, with crmkit's errors mapped to HTTP statuses.

``GET /customers/?name=&tag=&cursor=`` lists customers (a page and its cursor);
``POST /customers/`` registers one (``{"name": ..., "kind": ..., "tags": [...]}``);
``GET /customers/<id>/`` shows a customer with its contacts and timeline.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET, require_http_methods

from crmkit.errors import (
    ConflictError,
    CRMError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolation,
    ValidationError,
)
from crmkit.serialization import unstructure

from .services import get_crm

#: HTTP status per error family, most specific first; any other CRMError is a 500.
STATUS: tuple[tuple[type[CRMError], int], ...] = (
    (ValidationError, 422),
    (NotFoundError, 404),
    (PermissionDeniedError, 403),
    (ConflictError, 409),
    (RuleViolation, 409),
)


def _error(exc: CRMError) -> JsonResponse:
    status = next((s for cls, s in STATUS if isinstance(exc, cls)), 500)
    return JsonResponse({"code": exc.code, "message": str(exc)}, status=status)


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationError("must be a JSON object", path="body") from None
    if not isinstance(body, dict):
        raise ValidationError(f"must be a JSON object, not {type(body).__name__}", path="body")
    return body


@require_http_methods(["GET", "POST"])
def customers(request: HttpRequest) -> JsonResponse:
    """List customers (GET) or register one (POST)."""
    crm = get_crm()
    try:
        if request.method == "POST":
            body = _body(request)
            customer = crm.register_customer(
                body.get("name"),  # type: ignore[arg-type]  # crmkit validates it
                kind=body.get("kind", "company"),
                tags=body.get("tags", ()),
            )
            return JsonResponse(unstructure(customer), status=201)
        page = crm.find_customers(
            name=request.GET.get("name"),
            tag=request.GET.get("tag"),
            cursor=request.GET.get("cursor"),
        )
    except CRMError as exc:
        return _error(exc)
    return JsonResponse(
        {"items": [unstructure(c) for c in page.items], "next_cursor": page.next_cursor}
    )


@require_GET
def customer_detail(request: HttpRequest, customer_id: str) -> JsonResponse:
    """One customer, with its contacts and its timeline (newest first)."""
    crm = get_crm()
    try:
        customer = crm.get_customer(customer_id)
        contacts = crm.contacts_of(customer_id)
        timeline = crm.timeline(customer_id)
    except CRMError as exc:
        return _error(exc)
    return JsonResponse(
        {
            "customer": unstructure(customer),
            "contacts": [unstructure(c) for c in contacts],
            "timeline": [unstructure(i) for i in timeline],
        }
    )
