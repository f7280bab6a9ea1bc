"""Sample aggregates and small steps the contract suites share (private)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crmkit.customers import Contact, Customer, Interaction, Order, OrderLine
from crmkit.kernel.aggregate import Aggregate
from crmkit.kernel.events import DomainEvent
from crmkit.kernel.money import Money
from crmkit.kernel.query import Query
from crmkit.kernel.time import ManualClock
from crmkit.leads import IntakeConsent, Lead
from crmkit.notifications.delivery import Delivery, RetryPolicy
from crmkit.pipeline import Opportunity, Pipeline, Stage, Transition
from crmkit.ports import Repository, Store, UnitOfWork

#: When every contract test's clock starts: a Monday morning in Taipei.
START = datetime(2026, 1, 5, 9, 0, tzinfo=ZoneInfo("Asia/Taipei"))


def new_clock() -> ManualClock:
    """Return a fresh clock standing at :data:`START`."""
    return ManualClock(START)


def customer(id: str, name: str = "Acme", *, now: datetime = START, **fields: Any) -> Customer:
    """Register a company customer (``fields`` go to ``Customer.register``)."""
    fields.setdefault("kind", "company")
    return Customer.register(id=id, name=name, now=now, **fields)


def contact(id: str, customer_id: str, *, now: datetime = START, **fields: Any) -> Contact:
    """Create a contact of ``customer_id`` (``fields`` go to ``Contact.create``)."""
    fields.setdefault("name", "Amy Chen")
    return Contact.create(id=id, customer_id=customer_id, now=now, **fields)


def interaction(id: str, customer_id: str, *, now: datetime = START, **fields: Any) -> Interaction:
    """Log a call with ``customer_id`` (``fields`` go to ``Interaction.log``)."""
    fields.setdefault("kind", "call")
    fields.setdefault("summary", "Asked for a quote")
    fields.setdefault("occurred_at", now - timedelta(hours=1))
    return Interaction.log(id=id, customer_id=customer_id, now=now, **fields)


def full_customer(id: str = "cus_full") -> Customer:
    """A customer with every optional field set and a changed lifecycle."""
    c = Customer.register(
        id=id,
        name="Ōkami 大神 Trading",
        kind="person",
        now=START,
        tags=["VIP", "台北", "wholesale"],
        source="2025 trade show",
        owner="u_amy",
    )
    c.change_lifecycle("active", now=START)
    return c


def full_contact(id: str = "con_full", customer_id: str = "cus_full") -> Contact:
    """A contact with every optional field set."""
    return Contact.create(
        id=id,
        customer_id=customer_id,
        name="Chen Mei-Ling 陳美玲",
        now=START,
        emails=["Mei@Example.com", "ml.chen@example.org"],
        phones=["0912-345-678", "+886 2 2345 6789"],
        region="TW",
        role="CFO",
        decision_maker=True,
        birthday=date(1990, 4, 1),
        locale="zh-Hant-TW",
        preferred_channel="line",
    )


def full_interaction(
    id: str = "int_full", customer_id: str = "cus_full", contact_id: str = "con_full"
) -> Interaction:
    """An interaction with every optional field set."""
    return Interaction.log(
        id=id,
        customer_id=customer_id,
        kind="meeting",
        summary="Walked through the 20-seat quote; 需要報價單",
        occurred_at=START - timedelta(days=1, minutes=30),
        now=START,
        by="u_amy",
        contact_id=contact_id,
        channel="in_person",
        links=["quo_1", "opp_7"],
    )


def full_order(customer_id: str = "cus_full", external_ref: str = "#1001") -> Order:
    """An order with lines, channel, region and two refunds (one of them refunding to zero)."""
    order = Order.report(
        customer_id=customer_id,
        source="shop",
        external_ref=external_ref,
        ordered_at=START - timedelta(days=3),
        total=Money("1250.50", "TWD"),
        now=START,
        lines=[
            OrderLine(
                sku="TEA-500", name="凍頂烏龍 500 g", quantity=2, amount=Money("1000", "TWD")
            ),
            OrderLine(name="Shipping", amount=Money("250.50", "TWD")),
        ],
        channel="web",
        region="TW",
    )
    order.refund("r-1", Money("250.50", "TWD"), refunded_at=START, now=START, reason="late")
    return order


def full_delivery(id_key: str = "evt_full:sub:amy@example.com") -> Delivery:
    """A delivery with a rich context, one failed try and a note: every field set."""
    delivery = Delivery.plan(
        idempotency_key=id_key,
        subscription="sub",
        event_type="customers.CustomerRegistered",
        event_id="evt_full",
        recipient="amy@example.com",
        channel="email",
        template="customer_registered",
        locale="zh_Hant_TW",
        timezone="Asia/Taipei",
        context={
            "name": "台北茶行",
            "amount": Money("1234.5", "TWD"),
            "due_at": START + timedelta(days=1),
            "on": date(2026, 2, 1),
            "lines": [{"sku": "T-1", "qty": 2}],
        },
        purpose="marketing",
        contact_id="con_full",
        urgent=False,
        now=START,
    )
    delivery.claim(START)
    delivery.fail(START, "SMTP 451 try later", retryable=True, policy=RetryPolicy(jitter_percent=0))
    delivery.note("consent: marketing (opted in)")
    return delivery


def full_lead(id: str = "lea_full") -> Lead:
    """A lead with most fields set, an owner, activities and a qualification answer."""
    lead = Lead.capture(
        id=id,
        now=START,
        source_channel="trade_show",
        name="Lin Mei-ling",
        email="Mei@Formosa-Tea.example",
        phone="0912 345 678",
        phone_region="TW",
        job_title="Purchasing manager",
        company="Formosa Tea Co., Ltd.",
        industry="food",
        company_size=80,
        region="TW",
        budget=Money("250000", "TWD"),
        campaign="2026 Taipei trade show",
        external_ref="form-7781",
        consent=IntakeConsent(marketing=True, source="trade show form", at=START),
        follow_up_due_at=START + timedelta(hours=24),
    )
    lead.assign_owner("usr_amy", now=START, rule="round_robin:north", reason="next in turn")
    lead.log_activity("page_visited", now=START, detail="/pricing")
    lead.log_activity("call", now=START + timedelta(hours=2), by="usr_amy", detail="intro call")
    lead.answer("budget", evidence="NT$250k approved for Q2", now=START, by="usr_amy")
    return lead


def full_pipeline() -> Pipeline:
    """A small four-stage pipeline with a reopen transition."""
    return Pipeline(
        key="new_business",
        name="New business",
        stages=[
            Stage("lead", "Lead", 10),
            Stage("proposal", "Proposal", 50),
            Stage("won", "Closed won", 100, kind="won"),
            Stage("lost", "Closed lost", 0, kind="lost"),
        ],
        transitions=[
            Transition("lead", "proposal"),
            Transition("proposal", "won"),
            Transition("lead", "lost"),
            Transition("proposal", "lost"),
            Transition("lost", "lead"),
        ],
    )


def full_opportunity(pipeline: Pipeline, id: str = "opp_full") -> Opportunity:
    """A deal with an amount, close date, a contact and one stage move in its history."""
    deal = Opportunity.open(
        id=id, customer_id="cus_full", name="Formosa Tea: 20 seats", pipeline=pipeline,
        now=START, owner="usr_amy",
    )  # fmt: skip
    deal.change_amount(Money("120000", "TWD"), now=START)
    deal.change_close_date(date(2026, 6, 30), now=START)
    deal.add_contact("con_full", "decision_maker", now=START)
    deal.move("proposal", pipeline=pipeline, now=START + timedelta(days=2), by="usr_amy")
    return deal


def repository_for(uow: UnitOfWork, aggregate: Aggregate) -> Repository[Any]:
    """Return the repository of ``uow`` that stores ``aggregate``'s class."""
    if isinstance(aggregate, Customer):
        return uow.customers
    if isinstance(aggregate, Contact):
        return uow.contacts
    if isinstance(aggregate, Interaction):
        return uow.interactions
    if isinstance(aggregate, Order):
        return uow.orders
    if isinstance(aggregate, Delivery):
        return uow.deliveries
    if isinstance(aggregate, Lead):
        return uow.leads
    from crmkit.pricing import Coupon, DiscountRuleSet, PriceBook, Product, Quote

    for cls, repository in (
        (Product, uow.products),
        (PriceBook, uow.price_books),
        (DiscountRuleSet, uow.discount_rule_sets),
        (Coupon, uow.coupons),
        (Quote, uow.quotes),
    ):
        if isinstance(aggregate, cls):
            return repository
    if isinstance(aggregate, Pipeline):
        return uow.pipelines
    if isinstance(aggregate, Opportunity):
        return uow.opportunities
    from crmkit.service import Complaint, StoredCalendar, StoredSlaPolicySet
    from crmkit.service.maintenance import MaintenanceContract, WorkOrder

    for service_cls, service_repository in (
        (Complaint, uow.complaints),
        (StoredCalendar, uow.business_calendars),
        (StoredSlaPolicySet, uow.sla_policy_sets),
        (MaintenanceContract, uow.maintenance_contracts),
        (WorkOrder, uow.work_orders),
    ):
        if isinstance(aggregate, service_cls):
            return service_repository
    from crmkit.loyalty import LoyaltyProgram, Membership, Referral

    for loyalty_cls, loyalty_repository in (
        (LoyaltyProgram, uow.loyalty_programs),
        (Membership, uow.memberships),
        (Referral, uow.referrals),
    ):
        if isinstance(aggregate, loyalty_cls):
            return loyalty_repository
    raise TypeError(f"no repository for {type(aggregate).__name__}")  # pragma: no cover


def store_all(store: Store, aggregates: Iterable[Aggregate]) -> tuple[DomainEvent, ...]:
    """Add every aggregate in one unit of work and commit it; return the committed events."""
    with store.unit_of_work() as uow:
        for aggregate in aggregates:
            repository_for(uow, aggregate).add(aggregate)
        return uow.commit()


def add_and_commit(uow: UnitOfWork, aggregate: Aggregate) -> tuple[DomainEvent, ...]:
    """Add ``aggregate`` and commit ``uow`` (a conflict may surface at either step)."""
    repository_for(uow, aggregate).add(aggregate)
    return uow.commit()


def save_and_commit(uow: UnitOfWork, aggregate: Aggregate) -> tuple[DomainEvent, ...]:
    """Save ``aggregate`` and commit ``uow`` (a conflict may surface at either step)."""
    repository_for(uow, aggregate).save(aggregate)
    return uow.commit()


def remove_and_commit(uow: UnitOfWork, aggregate: Aggregate) -> tuple[DomainEvent, ...]:
    """Remove ``aggregate`` and commit ``uow`` (a conflict may surface at either step)."""
    repository_for(uow, aggregate).remove(aggregate)
    return uow.commit()


def read_customer(store: Store, id: str) -> Customer:
    """Read one customer in a fresh unit of work."""
    with store.unit_of_work() as uow:
        return uow.customers.get(id)


def customer_ids(store: Store) -> list[str]:
    """Return the ids of every stored customer, in id order."""
    with store.unit_of_work() as uow:
        found: list[str] = []
        query = Query().take(1000)
        page = uow.customers.query(query)
        found += [c.id for c in page.items]
        while page.next_cursor is not None:
            page = uow.customers.query(query.after(page.next_cursor))
            found += [c.id for c in page.items]
        return found
