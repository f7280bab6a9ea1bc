"""How the leads context's aggregate is stored and queried."""

from __future__ import annotations

from crmkit.errors import ValidationError
from crmkit.kernel.query import RecordType
from crmkit.leads._model import Lead
from crmkit.leads.normalize import company_key, email_key, fold_text

__all__ = ["LEADS"]


def _external_refs(lead: Lead) -> tuple[str, ...]:
    refs = [t.external_ref for t in lead.touches if t.external_ref is not None]
    if lead.external_ref is not None:
        refs.insert(0, lead.external_ref)
    return tuple(dict.fromkeys(refs))


def _campaigns(lead: Lead) -> tuple[str, ...]:
    found = [t.campaign for t in lead.touches if t.campaign is not None]
    if lead.campaign is not None:
        found.insert(0, lead.campaign)
    return tuple(dict.fromkeys(found))


#: Leads: queryable by status, owner, source and campaign, the duplicate-matching keys (email
#: case-folded, E.164 phone, folded company name), every external reference merged in (for
#: idempotent capture), the stored score and fit grade, the speed-to-lead timestamps, and the
#: rule that assigned the current owner and when (round robin resumes after the latest one).
def _company_folded(lead: Lead) -> str | None:
    """The company's match key; ``None`` for no company or one with no letters or digits."""
    if lead.company is None:
        return None
    try:
        return company_key(lead.company)
    except ValidationError:
        return None


LEADS: RecordType[Lead] = RecordType(
    "leads",
    Lead,
    {
        "status": lambda lead: lead.status.value,
        "is_open": lambda lead: lead.is_open,
        "owner": lambda lead: lead.owner,
        "source_channel": lambda lead: lead.source_channel.value,
        "campaign": lambda lead: lead.campaign,
        "campaigns": _campaigns,
        "name_folded": lambda lead: None if lead.name is None else fold_text(lead.name),
        "email": lambda lead: None if lead.email is None else email_key(lead.email),
        "phone": lambda lead: lead.phone,
        "company_folded": _company_folded,
        "industry": lambda lead: lead.industry,
        "region": lambda lead: lead.region,
        "external_ref": lambda lead: lead.external_ref,
        "external_refs": _external_refs,
        "score": lambda lead: lead.score,
        "fit_grade": lambda lead: None if lead.fit_grade is None else lead.fit_grade.value,
        "captured_at": lambda lead: lead.captured_at,
        "updated_at": lambda lead: lead.updated_at,
        "follow_up_due_at": lambda lead: lead.follow_up_due_at,
        "first_contacted_at": lambda lead: lead.first_contacted_at,
        "customer_id": lambda lead: (
            lead.conversion.customer_id
            if lead.conversion is not None
            else (None if lead.customer_link is None else lead.customer_link.customer_id)
        ),
        "duplicate_of": lambda lead: None if lead.duplicate is None else lead.duplicate.of,
        "assignment_rule": lambda lead: None if lead.assignment is None else lead.assignment.rule,
        "assigned_at": lambda lead: None if lead.assignment is None else lead.assignment.at,
    },
    kinds={
        "is_open": "boolean",
        "campaigns": "multi",
        "external_refs": "multi",
        "score": "decimal",
        "captured_at": "datetime",
        "updated_at": "datetime",
        "follow_up_due_at": "datetime",
        "first_contacted_at": "datetime",
        "assigned_at": "datetime",
    },
)
