"""A FastAPI service over crmkit: leads, pipeline moves and quote pricing, errors as problem+json.

The shape every endpoint has: a pydantic model checks the *shape* of the request (which fields,
which JSON types), crmkit checks its *meaning* (a valid email, a known SKU, a move the pipeline
allows) and the access policy decides who may do it. Whatever crmkit refuses comes back as an
RFC 9457 ``application/problem+json`` body with the error's ``code`` and message (see
:mod:`crmkit.http`): 422 for invalid input, 404 for an unknown id, 409 for a move a rule forbids,
403 for an actor the policy refuses.

Run it (from the repository root)::

    uvicorn examples.fastapi_service.app:app --reload

and open http://127.0.0.1:8000/docs. The ``X-Actor`` header says who is calling (``u_amy``,
``u_lin``, ``u_ivy``: see :mod:`access`); a real service takes it from its authentication.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from crmkit import CRM, CRMError, Money
from crmkit.app.leads import CaptureOutcome
from crmkit.errors import PermissionDeniedError, ValidationError
from crmkit.http import PROBLEM_JSON, field_problems, http_problem, problem_details
from crmkit.pricing import Quote, QuoteLine
from crmkit.serialization import structure, unstructure

from . import deals
from .seed import demo_crm

__all__ = ["app", "create_app"]

log = logging.getLogger(__name__)

# ----- request models: the shape of the JSON; crmkit validates the values ------------------


def _exact_number(value: object) -> object:
    """Let integers and decimal strings through; refuse floats, which cannot hold cents."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(
            f'must be a whole number or a decimal string such as "2.5", not '
            f"{type(value).__name__} ({value!r})"
        )
    return value


Exact = Annotated[int | str, BeforeValidator(_exact_number)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyIn(_Model):
    """An amount of money: ``{"amount": "250000", "currency": "TWD"}``."""

    amount: Exact
    currency: str


class CaptureLeadIn(_Model):
    """A lead from a web form, an ad, a trade show... (an email or a phone is required)."""

    source_channel: str = "web_form"
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    phone_region: str | None = Field(None, description="ISO region for a local phone number")
    job_title: str | None = None
    company: str | None = None
    industry: str | None = None
    company_size: int | None = None
    region: str | None = None
    budget: MoneyIn | None = None
    campaign: str | None = None
    external_ref: str | None = Field(None, description="the form submission id: idempotency")


class DisqualifyIn(_Model):
    """Why a lead is dropped: one of the CRM's reason codes, and an optional note."""

    reason: str
    note: str | None = None


class ConvertIn(_Model):
    """Extra tags for the customer a conversion creates."""

    tags: list[str] = []


class MoveIn(_Model):
    """Where a deal goes next; ``reason`` when it is lost (a reason code) or reopened."""

    to: str
    reason: str | None = None


class ApproveIn(_Model):
    """An approval decision in a role (``sales_manager``, ``director``), with a comment."""

    role: str
    comment: str | None = None


class CartLineIn(_Model):
    """One cart line: a SKU and a quantity (an integer or a decimal string)."""

    sku: str
    quantity: Exact
    line_id: str | None = None


class CartIn(_Model):
    """A cart to price for a customer, with coupon codes."""

    customer_id: str
    currency: str
    lines: list[CartLineIn] = Field(min_length=1)
    coupon_codes: list[str] = []
    customer_group: str | None = None


Actor = Annotated[
    str | None,
    Header(alias="X-Actor", description="who is calling (stands in for authentication)"),
]
Locale = Literal["en", "zh_Hant_TW", "zh_Hans_CN"]

# ----- helpers --------------------------------------------------------------------------------


def _money(value: MoneyIn | None, path: str) -> Money | None:
    if value is None:
        return None
    try:
        return structure(value.model_dump(), Money)
    except ValidationError as exc:
        raise exc.at(path) from None


def _cart_lines(lines: list[CartLineIn]) -> list[QuoteLine]:
    built = []
    for i, line in enumerate(lines):
        try:
            built.append(
                QuoteLine(line_id=line.line_id or f"l{i + 1}", sku=line.sku, quantity=line.quantity)
            )
        except ValidationError as exc:
            raise exc.at(f"lines[{i}]") from None
    return built


def _quote_view(quote: Quote) -> dict[str, Any]:
    """A quote as JSON, plus the approvals it still waits for."""
    view: dict[str, Any] = unstructure(quote)
    view["pending_approvals"] = list(quote.pending_approvals)
    return view


def _path(loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a crmkit field path: ``("body", "lines", 0)``: ``lines[0]``."""
    parts = loc[1:] if loc and loc[0] == "body" else loc
    path = ""
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _problem_response(status: int, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


# ----- the app ---------------------------------------------------------------------------------


def create_app(crm: CRM | None = None) -> FastAPI:
    """Build the service around ``crm`` (default: :func:`seed.demo_crm`, in memory).

    ``crm.policy`` decides who may do what; the pipeline use cases of :mod:`deals` are
    registered on ``crm.bus``. The CRM is also ``app.state.crm``.
    """
    crm = crm if crm is not None else demo_crm()
    deals.install(crm)
    app = FastAPI(
        title="crmkit example service",
        version="0.1.0",
        description="Leads, pipeline moves and quote pricing with crmkit. Errors are "
        "RFC 9457 problem details (application/problem+json) carrying crmkit's error code.",
    )
    app.state.crm = crm

    # ----- errors -------------------------------------------------------------------------

    @app.exception_handler(CRMError)
    async def crm_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, CRMError)
        status, body = problem_details(exc, instance=request.url.path)
        if status >= 500:
            log.error("crmkit %s on %s: %s", exc.code, request.url.path, exc.to_dict())
        return _problem_response(status, body)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        found = [
            (_path(tuple(e["loc"])), str(e["msg"]).removeprefix("Value error, "))
            for e in exc.errors()
        ]
        status, body = field_problems(found, instance=request.url.path)
        return _problem_response(status, body)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        body = http_problem(exc.status_code, str(exc.detail), instance=request.url.path)
        return JSONResponse(
            body, status_code=exc.status_code, media_type=PROBLEM_JSON, headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path, exc_info=exc)
        body = http_problem(500, "an unexpected error occurred", instance=request.url.path)
        return _problem_response(500, body)

    # ----- leads --------------------------------------------------------------------------

    @app.post("/leads", status_code=201, tags=["leads"])
    def capture_lead(body: CaptureLeadIn, response: Response, actor: Actor = None) -> Any:
        """Capture a lead; 201 for a new lead, 200 when it joined (or is) a known one."""
        result = crm.capture_lead(
            body.source_channel,
            name=body.name,
            email=body.email,
            phone=body.phone,
            phone_region=body.phone_region,
            job_title=body.job_title,
            company=body.company,
            industry=body.industry,
            company_size=body.company_size,
            region=body.region,
            budget=_money(body.budget, "budget"),
            campaign=body.campaign,
            external_ref=body.external_ref,
            actor=actor,
        )
        new = result.outcome in (CaptureOutcome.CREATED, CaptureOutcome.FLAGGED) or (
            result.outcome is CaptureOutcome.LINKED and result.lead.version == 1
        )
        response.status_code = 201 if new else 200
        response.headers["Location"] = f"/leads/{result.lead.id}"
        return {
            "outcome": result.outcome.value,
            "reason": result.reason,
            "lead": unstructure(result.lead),
        }

    @app.get("/leads/{lead_id}", tags=["leads"])
    def get_lead(lead_id: str, actor: Actor = None) -> Any:
        """Read a lead."""
        lead = crm.get_lead(lead_id)
        crm.policy.check(actor, "leads.read", lead)
        return unstructure(lead)

    def _lead_move(name: str, run: Callable[..., Any], summary: str) -> None:
        @app.post(f"/leads/{{lead_id}}/{name}", tags=["leads"], summary=summary)
        def move(lead_id: str, actor: Actor = None) -> Any:
            return unstructure(run(lead_id, actor=actor))

    _lead_move("work", crm.start_working_lead, "Start working a lead (new or nurturing)")
    _lead_move("qualify", crm.qualify_lead, "Qualify a lead that is being worked")
    _lead_move("nurture", crm.nurture_lead, "Put a lead in nurturing (not ready yet)")

    @app.post("/leads/{lead_id}/disqualify", tags=["leads"])
    def disqualify_lead(lead_id: str, body: DisqualifyIn, actor: Actor = None) -> Any:
        """Disqualify a lead for one of the CRM's reasons."""
        return unstructure(crm.disqualify_lead(lead_id, body.reason, note=body.note, actor=actor))

    @app.post("/leads/{lead_id}/convert", status_code=201, tags=["leads"])
    def convert_lead(
        lead_id: str, response: Response, body: ConvertIn | None = None, actor: Actor = None
    ) -> Any:
        """Convert a qualified lead: a customer, a contact and a deal, atomically and once."""
        done = crm.convert_lead(
            lead_id,
            tags=body.tags if body is not None else (),
            create_opportunity=deals.open_deal_hook(crm, actor=actor),
            actor=actor,
        )
        opportunity_id = done.result.opportunity_id
        response.status_code = 200 if done.repeated else 201
        if opportunity_id is not None:
            response.headers["Location"] = f"/opportunities/{opportunity_id}"
        return {
            "repeated": done.repeated,
            "customer": unstructure(done.customer),
            "contact": unstructure(done.contact),
            "opportunity_id": opportunity_id,
        }

    # ----- the pipeline -------------------------------------------------------------------

    @app.get("/opportunities/{opportunity_id}", tags=["pipeline"])
    def get_opportunity(opportunity_id: str, actor: Actor = None) -> Any:
        """Read a deal, with the stages it may move to next and what each move still needs."""
        return deals.opportunity_view(crm, opportunity_id, actor=actor)

    @app.post("/opportunities/{opportunity_id}/move", tags=["pipeline"])
    def move_opportunity(opportunity_id: str, body: MoveIn, actor: Actor = None) -> Any:
        """Move a deal along its pipeline; 409 lists everything a refused move still needs."""
        moved = crm.handle(
            deals.MoveOpportunity(
                opportunity_id=opportunity_id, to=body.to, reason=body.reason, actor=actor
            )
        )
        assert isinstance(moved, deals.Moved)
        return {
            "change": unstructure(moved.change),
            "opportunity": deals.opportunity_view(crm, opportunity_id, actor=actor),
        }

    # ----- quotes -------------------------------------------------------------------------

    @app.post("/quotes/price", status_code=201, tags=["quotes"])
    def price_cart(
        body: CartIn, response: Response, actor: Actor = None, locale: Locale = "en"
    ) -> Any:
        """Price a cart as a draft quote: totals, the waterfall, and the waterfall explained.

        The draft is stored (``Location``) so it can be submitted, sent and accepted.
        """
        quote = crm.create_quote(
            body.customer_id,
            body.currency,
            customer_group=body.customer_group,
            lines=_cart_lines(body.lines),
            coupon_codes=body.coupon_codes,
            owner=actor,
            actor=actor,
        )
        priced = crm.price_quote(quote.id, actor=actor)
        response.headers["Location"] = f"/quotes/{quote.id}"
        totals = {
            "list_total": priced.list_total,
            "subtotal": priced.subtotal,
            "quote_discount": priced.quote_discount,
            "discount_total": priced.discount_total,
            "tax": priced.tax,
            "tax_included": priced.tax_included,
            "total": priced.total,
            "total_excluding_tax": priced.total_excluding_tax,
            "effective_discount_percent": priced.effective_discount_percent,
        }
        return {
            "quote_id": quote.id,
            "totals": unstructure(totals),
            "breakdown": unstructure(priced),
            "explanation": priced.explain(locale),
        }

    @app.get("/quotes/{quote_id}", tags=["quotes"])
    def get_quote(quote_id: str, actor: Actor = None) -> Any:
        """Read a quote (with its pricing, once priced)."""
        quote = crm.get_quote(quote_id)
        crm.policy.check(actor, "quotes.read", quote)
        return _quote_view(quote)

    def _quote_step(name: str, run: Callable[..., Any], summary: str) -> None:
        @app.post(f"/quotes/{{quote_id}}/{name}", tags=["quotes"], summary=summary)
        def step(quote_id: str, actor: Actor = None) -> Any:
            return _quote_view(run(quote_id, actor=actor))

    _quote_step("submit", crm.submit_quote, "Submit a priced draft for approval")

    @app.post("/quotes/{quote_id}/approve", tags=["quotes"])
    def approve_quote(quote_id: str, body: ApproveIn, actor: Actor = None) -> Any:
        """Approve a quote's discount in a role the caller holds."""
        if actor is None:  # crmkit's approve needs an actor; the policy says who may
            raise PermissionDeniedError("approving a quote needs a known user, and none was given")
        quote = crm.approve_quote(quote_id, body.role, actor=actor, comment=body.comment)
        return _quote_view(quote)

    _quote_step("send", crm.send_quote, "Mark an approved quote as sent")
    _quote_step("accept", crm.accept_quote, "Accept a sent quote (redeems its coupons)")

    return app


#: The app ``uvicorn examples.fastapi_service.app:app`` serves: the demo CRM, in memory.
app = create_app()
