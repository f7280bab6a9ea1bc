"""How the pipeline context's aggregates are stored and queried."""

from __future__ import annotations

from decimal import Decimal

from crmkit.kernel.query import RecordType
from crmkit.pipeline._model import Opportunity
from crmkit.pipeline.definition import Pipeline

__all__ = ["OPPORTUNITIES", "PIPELINES"]


def _amount(opp: Opportunity) -> Decimal | None:
    return None if opp.amount is None else opp.amount.amount


def _currency(opp: Opportunity) -> str | None:
    return None if opp.amount is None else opp.amount.currency


#: Opportunities: queryable by customer, owner, pipeline (key, revision, id), stage and its
#: derived values (kind, open or not, forecast category, probability), amount and currency,
#: the dates forecasts and stalled-deal reports filter on, the close reason, and the contacts.
OPPORTUNITIES: RecordType[Opportunity] = RecordType(
    "opportunities",
    Opportunity,
    {
        "customer_id": lambda o: o.customer_id,
        "name_folded": lambda o: o.name.casefold(),
        "owner": lambda o: o.owner,
        "pipeline_key": lambda o: o.pipeline_key,
        "pipeline_revision": lambda o: o.pipeline_revision,
        "pipeline_id": lambda o: o.pipeline_id,
        "stage": lambda o: o.stage,
        "stage_kind": lambda o: o.stage_kind.value,
        "is_open": lambda o: o.is_open,
        "forecast_category": lambda o: o.forecast_category.value,
        "probability": lambda o: o.probability,
        "amount": _amount,
        "currency": _currency,
        "expected_close_date": lambda o: o.expected_close_date,
        "created_at": lambda o: o.created_at,
        "stage_entered_at": lambda o: o.stage_entered_at,
        "last_activity_at": lambda o: o.last_activity_at,
        "closed_at": lambda o: o.closed_at,
        "close_reason": lambda o: o.close_reason,
        "contact_ids": lambda o: tuple(c.contact_id for c in o.contacts),
    },
    kinds={
        "pipeline_revision": "integer",
        "is_open": "boolean",
        "probability": "integer",
        "amount": "decimal",
        "expected_close_date": "date",
        "created_at": "datetime",
        "stage_entered_at": "datetime",
        "last_activity_at": "datetime",
        "closed_at": "datetime",
        "contact_ids": "multi",
    },
)

#: Pipeline definitions, one record per revision (id ``key@revision``): queryable by key and
#: revision, so a host finds the latest revision of a pipeline with
#: ``Query.where(key="new_business").order("-revision").take(1)``.
PIPELINES: RecordType[Pipeline] = RecordType(
    "pipelines",
    Pipeline,
    {
        "key": lambda p: p.key,
        "revision": lambda p: p.revision,
        "name": lambda p: p.name,
    },
    kinds={"revision": "integer"},
)
