"""public_view shows a customer their own case and nothing else: no internal notes, no staff
ids, no other case's data."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.errors import ValidationError
from crmkit.kernel.calendar import BusinessCalendar
from crmkit.kernel.money import Money
from crmkit.service import (
    CompensationLimit,
    Complaint,
    ComplaintPolicy,
    PublicCaseView,
    public_view,
)
from crmkit.service.sla import SlaPolicy, sla_status

UTC = timezone.utc
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = ComplaintPolicy(
    categories=["delivery"],
    compensation_limits=[
        CompensationLimit(role="agent", kind="voucher", max_amount=Money("999", "TWD"))
    ],
)
SECRETS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=12, max_size=60
).map(lambda s: f"SECRET-{s.strip()}-END")


#: Replies: letters, spaces and punctuation (no digits, ids or paths that could look leaked).
REPLIES = st.sampled_from(["We are sending a new one today.", "寄出了, 請查收"]) | st.text(
    alphabet=st.characters(categories=("L", "Zs", "P")), min_size=1, max_size=200
).filter(lambda s: s.strip() and "_" not in s and "/" not in s)


def busy_case(
    case_id: str, reference: str, customer: str, secret: str, public: str, owner: str
) -> Complaint:
    case = Complaint.file(
        id=case_id,
        reference=reference,
        now=NOW,
        channel="web_form",
        customer_id=customer,
        contact_id=f"con_{customer}",
        subject=f"subject {secret}",
        description=f"description {secret}",
        order_ref=f"order-{case_id}",
        category="delivery",
        impact="high",
        urgency="low",
        policy=POLICY,
    )
    case.acknowledge(now=NOW, owner=owner, team=f"team {secret}")
    case.add_note(f"note {secret}", now=NOW, by=owner)
    case.attach(f"files/{case_id}", filename=f"{secret}.pdf", now=NOW, by=owner)
    case.reply(public, now=NOW + timedelta(hours=1), by=owner)
    case.grant_compensation(
        reference=f"comp-{case_id}",
        kind="voucher",
        amount=Money("321", "TWD"),
        approved_by=owner,
        approver_role="agent",
        description=f"voucher {secret}",
        policy=POLICY,
        now=NOW,
    )
    return case


@settings(max_examples=60)
@given(SECRETS, SECRETS, REPLIES)
def test_the_public_view_never_holds_internal_notes_or_other_cases_data(
    mine: str, theirs: str, reply: str
) -> None:
    case = busy_case("case_1", "CS-1001", "cus_1", mine, reply, "u_amy")
    other = busy_case("case_2", "CS-2002", "cus_2", theirs, f"other {theirs}", "u_bob")
    case.link_duplicate("case_2", now=NOW, by="u_amy", note=f"see {theirs}")
    view = public_view(case)
    text = "\n".join(_strings(attrs.asdict(view, recurse=True, value_serializer=_plain)))
    assert view.reference == "CS-1001" and view.status == "acknowledged"
    assert [m.body for m in view.messages] == [reply.strip()]
    for leaked in (
        mine,  # notes, subject, description, team, attachment names, compensation text
        theirs,  # anything of the other case, even through the duplicate link
        "case_2",
        "CS-2002",
        "cus_2",
        "u_amy",  # staff ids
        "u_bob",
        "files/",
        "321",
        other.reference,
    ):
        assert leaked not in text, leaked
    assert set(attrs.fields_dict(PublicCaseView)) == {
        "reference",
        "status",
        "messages",
        "expected_next_update",
    }


def _plain(_inst: object, _field: object, value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _strings(value: object) -> list[str]:
    """Every string in the view's data, unescaped."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return [] if value is None else [str(value)]


def test_the_expected_next_update() -> None:
    case = busy_case("case_1", "CS-1", "cus_1", "x" * 12, "hello", "u_amy")
    calendar = BusinessCalendar.office_hours("UTC", ("09:00", "17:00"))
    policy = SlaPolicy(
        name="std", first_response=timedelta(hours=4), resolution=timedelta(hours=16)
    )
    now = NOW + timedelta(hours=2)
    # The first response was met; the resolution deadline (16 h: Mon and Tue) is next.
    view = public_view(case, sla_status(case, policy, calendar, now))
    assert view.expected_next_update == NOW + timedelta(days=1, hours=8)
    case.promise_update(NOW + timedelta(hours=5), now=now, by="u_amy")
    assert public_view(case).expected_next_update == NOW + timedelta(hours=5)
    case.reply("Could you send a photo?", now=now, by="u_amy", wait_for_customer=True)
    assert public_view(case).expected_next_update is None  # we wait for them
    other = busy_case("case_2", "CS-2", "cus_2", "y" * 12, "hi", "u_bob")
    with pytest.raises(ValidationError, match="SLA status of case 'case_2'"):
        public_view(case, sla_status(other, policy, calendar, now))
