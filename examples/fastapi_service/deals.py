"""Pipeline use cases the host adds itself: open a deal at conversion, move it, read it.

crmkit's facade has no pipeline methods yet, but its message bus takes new commands: this
module registers :class:`MoveOpportunity` on ``crm.bus``, so a move runs like every crmkit
command (one unit of work, the access policy first, committed events dispatched). The moves
themselves are crmkit's pure rules: :meth:`Opportunity.move` checks the pipeline's graph and
guards and, when it refuses, raises a ``RuleViolation`` listing all that is missing.

The pipeline guards the win with a predicate, ``quote_accepted``: the customer has accepted a
quote. A predicate is a function of the deal; this one reads the quotes in the same unit of
work.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from crmkit import CRM, Query
from crmkit.customers import Contact, Customer
from crmkit.errors import DefinitionError, NotFoundError
from crmkit.leads import Lead
from crmkit.pipeline import (
    Guard,
    Opportunity,
    OpportunityContact,
    Pipeline,
    Stage,
    StageChange,
    Transition,
)
from crmkit.ports import UnitOfWork

__all__ = [
    "PIPELINE_KEY",
    "MoveOpportunity",
    "Moved",
    "install",
    "open_deal_hook",
    "opportunity_view",
    "sales_pipeline",
]

#: The key of the pipeline the deals of converted leads run on.
PIPELINE_KEY = "new_business"


def sales_pipeline() -> Pipeline:
    """The sales pipeline, a new object each call (storing one bumps its version).

    Rules are data: a host would keep this as JSON in its database and edit it in an admin
    screen (``crmkit.serialization.to_json(sales_pipeline())``).
    """
    return Pipeline(
        key=PIPELINE_KEY,
        name="New business",
        stages=[
            Stage("discovery", "Discovery", 20),
            Stage("proposal", "Proposal", 50, forecast_category="best_case"),
            Stage("won", "Closed won", 100, kind="won"),
            Stage("lost", "Closed lost", 0, kind="lost"),
        ],
        transitions=[
            Transition("discovery", "proposal", guards=[Guard.requires("amount", "an amount")]),
            Transition(
                "proposal", "won", guards=[Guard.predicate("quote_accepted", "an accepted quote")]
            ),
            Transition("proposal", "discovery"),
            Transition("discovery", "lost"),
            Transition("proposal", "lost"),
            Transition("lost", "discovery"),
        ],
    )


@attrs.frozen(kw_only=True)
class MoveOpportunity:
    """Move deal ``opportunity_id`` to stage ``to`` (``reason``: why it was lost or reopened)."""

    opportunity_id: str
    to: str
    reason: str | None = None
    actor: str | None = None


@attrs.frozen(kw_only=True)
class Moved:
    """What a move did: the deal as stored and the stage change it recorded."""

    opportunity: Opportunity
    change: StageChange


def _predicates(uow: UnitOfWork) -> Mapping[str, Callable[[Opportunity], bool]]:
    """The pipeline's named guards, answered from what is stored."""

    def quote_accepted(deal: Opportunity) -> bool:
        query = Query.where(customer_id=deal.customer_id, status="accepted").take(1)
        return bool(uow.quotes.query(query).items)

    return {"quote_accepted": quote_accepted}


def _latest_pipeline(uow: UnitOfWork, key: str) -> Pipeline:
    found = uow.pipelines.query(Query.where(key=key).order("-revision").take(1)).items
    if not found:
        raise NotFoundError(
            f"no pipeline {key!r} is stored; run install(crm) first", details={"key": key}
        )
    return found[0]


def install(crm: CRM) -> None:
    """Register :class:`MoveOpportunity` on ``crm.bus`` (once per CRM) and store the pipeline.

    The pipeline is stored unless a revision of it already is.
    """

    def move(command: MoveOpportunity, uow: UnitOfWork) -> Moved:
        deal = uow.opportunities.get(command.opportunity_id)
        crm.policy.check(command.actor, "opportunities.move", deal)
        pipeline = uow.pipelines.get(deal.pipeline_id)
        change = deal.move(
            command.to,
            pipeline=pipeline,
            now=crm.clock.now(),
            by=command.actor,
            predicates=_predicates(uow),
            reason=command.reason,
        )
        uow.opportunities.save(deal)
        uow.commit()
        return Moved(opportunity=deal, change=change)

    # A second create_app() on the same CRM finds the handler in place (a command has one).
    with contextlib.suppress(DefinitionError):
        crm.bus.register(MoveOpportunity, move)
    with crm.store.unit_of_work() as uow:
        if not uow.pipelines.query(Query.where(key=PIPELINE_KEY).take(1)).items:
            uow.pipelines.add(sales_pipeline())
            uow.commit()


def open_deal_hook(
    crm: CRM, *, actor: str | None
) -> Callable[[UnitOfWork, Lead, Customer, Contact], str]:
    """The ``create_opportunity`` hook for ``crm.convert_lead``: open a deal, return its id.

    It runs in the conversion's unit of work, so the customer, the contact, the deal and the
    converted lead are stored together or not at all. The deal starts in the pipeline's first
    stage with the lead's budget as its amount and the contact as the decision maker.
    """

    def open_deal(uow: UnitOfWork, lead: Lead, customer: Customer, contact: Contact) -> str:
        deal = Opportunity.open(
            id=crm.ids.new_id("opp"),
            customer_id=customer.id,
            name=f"{customer.name}: first order",
            pipeline=_latest_pipeline(uow, PIPELINE_KEY),
            now=crm.clock.now(),
            owner=lead.owner,
            amount=lead.budget,
            contacts=[OpportunityContact(contact.id, "decision_maker")],
            by=actor,
        )
        uow.opportunities.add(deal)
        return deal.id

    return open_deal


def opportunity_view(crm: CRM, opportunity_id: str, *, actor: str | None) -> dict[str, Any]:
    """A deal as JSON, with where it may go next and what each move still needs.

    Every answer explains itself: ``next`` lists each stage the pipeline allows from here and
    the blockers (unmet guards) a move there would hit now; an empty list means "go".
    """
    from crmkit.serialization import unstructure

    with crm.store.unit_of_work() as uow:
        deal = uow.opportunities.get(opportunity_id)
        crm.policy.check(actor, "opportunities.read", deal)
        pipeline = uow.pipelines.get(deal.pipeline_id)
        predicates = _predicates(uow)
        onward = [
            {
                "stage": to,
                "blockers": [
                    {"kind": b.kind, "name": b.name, "text": b.text}
                    for b in deal.blockers(to, pipeline=pipeline, predicates=predicates)
                ],
            }
            for to in deal.allowed_moves(pipeline)
        ]
    view: dict[str, Any] = unstructure(deal)
    view["next"] = onward
    return view
