"""LEADS: the projected fields adapters store and queries use (duplicate keys, refs, deadlines)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import get_args

from hypothesis import given, settings

from crmkit.kernel.query import FieldKind, Query, run_query
from crmkit.leads import LEADS, ConversionResult, Lead
from crmkit.leads.scoring import RegionRule, ScoringModel, score
from crmkit.testing._lead_strategies import leads

NOW = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)


def amy() -> Lead:
    lead = Lead.capture(
        id="lead_1",
        now=NOW,
        source_channel="web_form",
        campaign="spring promo",
        external_ref="form-1",
        name="Amy  CHEN",
        email="Amy.Chen@Acme.example",
        phone="0912 345 678",
        phone_region="TW",
        company="Acme Co., Ltd.",
        region="TW",
        follow_up_due_at=NOW + timedelta(hours=24),
    )
    lead.record_score(
        score(lead, ScoringModel(name="geo", regions=[RegionRule("home", ["TW"], 12)]), NOW),
        now=NOW,
    )
    return lead


def test_the_projection_holds_the_duplicate_keys_and_the_deadlines() -> None:
    row = LEADS.project(amy())
    assert row["email"] == "amy.chen@acme.example"
    assert row["phone"] == "+886912345678"
    assert row["company_folded"] == "acme"
    assert row["name_folded"] == "amy chen"
    assert (row["status"], row["is_open"], row["source_channel"]) == ("new", True, "web_form")
    assert row["external_refs"] == ("form-1",)
    assert (row["score"], row["fit_grade"]) == (Decimal("12.00"), "C")
    assert row["follow_up_due_at"] == NOW + timedelta(hours=24)
    assert row["first_contacted_at"] is None and row["customer_id"] is None


def test_merged_captures_add_their_references_and_campaigns() -> None:
    lead = amy()
    again = Lead.capture(
        id="lead_2",
        now=NOW,
        source_channel="trade_show",
        campaign="2023 trade show",
        external_ref="badge-9",
        email="amy.chen@acme.example",
    )
    lead.merge_capture(again, now=NOW)
    row = LEADS.project(lead)
    assert row["external_refs"] == ("form-1", "badge-9")
    assert row["campaigns"] == ("spring promo", "2023 trade show")
    assert row["external_ref"] == "form-1"


def test_queries_find_leads_by_key_and_by_overdue_deadline() -> None:
    converted = Lead.capture(id="lead_3", now=NOW, source_channel="ads", email="x@y.example")
    converted.start_working(now=NOW)
    converted.qualify(now=NOW)
    converted.mark_converted(ConversionResult(customer_id="cus_1", contact_id="con_1"), now=NOW)
    rows = [(lead.id, LEADS.project(lead), lead) for lead in (amy(), converted)]
    by_ref = run_query(rows, Query().filter("external_refs", "contains", "form-1"))
    assert [lead.id for lead in by_ref.items] == ["lead_1"]
    overdue = run_query(
        rows,
        Query.where(is_open=True)
        .filter("first_contacted_at", "eq", None)
        .filter("follow_up_due_at", "lt", NOW + timedelta(days=2)),
    )
    assert [lead.id for lead in overdue.items] == ["lead_1"]
    by_customer = run_query(rows, Query.where(customer_id="cus_1"))
    assert [lead.id for lead in by_customer.items] == ["lead_3"]
    LEADS.check_query(Query.where(email="a@b.example", company_folded="acme"))


def test_kinds_are_declared_for_sql_adapters() -> None:
    assert LEADS.name == "leads" and LEADS.cls is Lead
    assert set(LEADS.kinds.values()) <= set(get_args(FieldKind))
    assert LEADS.kind("captured_at") == "datetime"
    assert LEADS.kind("external_refs") == "multi"
    assert LEADS.kind("score") == "decimal"
    assert LEADS.kind("email") == "text"


@settings(max_examples=40)
@given(leads())
def test_every_lead_projects_values_of_the_declared_kinds(lead: Lead) -> None:
    row = LEADS.project(lead)
    for field, value in row.items():
        kind = LEADS.kind(field)
        if value is None:
            continue
        expected = {
            "text": str,
            "boolean": bool,
            "datetime": datetime,
            "decimal": Decimal,
            "multi": tuple,
        }[kind]
        assert isinstance(value, expected), (field, value)
