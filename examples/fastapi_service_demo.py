"""The FastAPI example, called over HTTP: one lead from a web form to a won deal.

It builds the service of ``examples/fastapi_service`` around a demo CRM whose clock stands
still, and calls it with FastAPI's ``TestClient``, as a browser or another service would:
JSON in, JSON out, and every refusal an ``application/problem+json`` body with crmkit's error
code. Run it with ``python examples/fastapi_service_demo.py`` (needs ``pip install fastapi
httpx2``); serve the same app with ``uvicorn examples.fastapi_service.app:app``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

# Python puts this script's folder on sys.path, so the example's package imports from any cwd.
from fastapi_service.app import create_app
from fastapi_service.seed import demo_crm

from crmkit import ManualClock
from crmkit.kernel import SequentialIds

clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Taipei")))
client = TestClient(create_app(demo_crm(clock=clock, ids=SequentialIds())))


def call(method: str, path: str, actor: str | None = None, body: Any = None) -> dict[str, Any]:
    """Send one request; print the status line (and the problem, for a refusal)."""
    headers = {"X-Actor": actor} if actor else {}
    response = client.request(method, path, json=body, headers=headers)
    who = actor or "anonymous"
    print(f"{method} {path} as {who} -> {response.status_code}")
    answer: dict[str, Any] = response.json()
    if response.headers["content-type"] == "application/problem+json":
        print(f"    {answer['code']}: {answer['detail']}")
        for error in answer.get("errors", []) if len(answer.get("errors", [])) > 1 else []:
            print(f"      {error['path']}: {error['message']}")
    return answer


print("1. A web form sends a lead (no user: capturing is public).")
lead = call(
    "POST",
    "/leads",
    body={
        "name": "Lin Mei-ling",
        "email": "Mei.Lin@FormosaTea.tw",
        "company": "Formosa Tea Co.",
        "budget": {"amount": "250000", "currency": "TWD"},
        "campaign": "spring promo",
    },
)["lead"]
print(f"    {lead['id']}: {lead['email']}, owner {lead['owner']}, status {lead['status']}")
call("POST", "/leads", body={"name": "Wang", "email": "wang at example"})
call("GET", "/leads/lead_999999", actor="u_amy")

print("\n2. Qualifying: Ivy is an intern, and a new lead must be worked first.")
call("POST", f"/leads/{lead['id']}/qualify", actor="u_ivy")
call("POST", f"/leads/{lead['id']}/qualify", actor="u_amy")
call("POST", f"/leads/{lead['id']}/work", actor="u_amy")
status = call("POST", f"/leads/{lead['id']}/qualify", actor="u_amy")["status"]
print(f"    status {status}")

print("\n3. Converting opens a deal in the pipeline, in the same transaction.")
done = call("POST", f"/leads/{lead['id']}/convert", actor="u_amy")
deal_id = done["opportunity_id"]
print(f"    customer {done['customer']['id']} {done['customer']['name']!r}, deal {deal_id}")
call("POST", f"/opportunities/{deal_id}/move", actor="u_amy", body={"to": "won"})
deal = call("POST", f"/opportunities/{deal_id}/move", actor="u_amy", body={"to": "proposal"})
for onward in deal["opportunity"]["next"]:
    needs = "; ".join(b["text"] for b in onward["blockers"]) or "nothing"
    print(f"    next: {onward['stage']:<9} needs {needs}")

print("\n4. Pricing the cart: every amount explained.")
priced = call(
    "POST",
    "/quotes/price",
    actor="u_amy",
    body={
        "customer_id": done["customer"]["id"],
        "currency": "TWD",
        "lines": [{"sku": "TEA-500", "quantity": 60}, {"sku": "POT-YX", "quantity": 1}],
        "coupon_codes": ["welcome5"],
    },
)
print("\n".join(f"    {line}".rstrip() for line in priced["explanation"].splitlines()))
quote_id = priced["quote_id"]
call(
    "POST",
    "/quotes/price",
    actor="u_amy",
    body={
        "customer_id": done["customer"]["id"],
        "currency": "TWD",
        "lines": [{"sku": "TEA-500", "quantity": 0.5}],  # a float: refused before crmkit sees it
    },
)

print("\n5. A discount over 10% needs a sales manager; the customer then accepts.")
quote = call("POST", f"/quotes/{quote_id}/submit", actor="u_amy")
print(f"    {quote['status']}, waiting for {', '.join(quote['pending_approvals'])}")
call("POST", f"/quotes/{quote_id}/approve", actor="u_amy", body={"role": "sales_manager"})
call("POST", f"/quotes/{quote_id}/approve", actor="u_lin", body={"role": "sales_manager"})
call("POST", f"/quotes/{quote_id}/send", actor="u_amy")
print(f"    {call('POST', f'/quotes/{quote_id}/accept', actor='u_amy')['status']}")

print("\n6. With an accepted quote, the deal may close as won.")
won = call("POST", f"/opportunities/{deal_id}/move", actor="u_amy", body={"to": "won"})
deal = won["opportunity"]
print(f"    {deal['stage']} ({deal['probability']}%), amount {deal['amount']['amount']} TWD")
