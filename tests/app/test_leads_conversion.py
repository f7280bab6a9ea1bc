"""Converting leads: one unit of work (atomic), once (idempotent), with attribution carried over,
on the in-memory and SQLite stores."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit import (
    CRM,
    Contact,
    Customer,
    ManualClock,
    NotFoundError,
    RuleViolation,
    StorageError,
    ValidationError,
    bootstrap,
)
from crmkit.adapters.memory import MemoryStore
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.leads import LeadSettings
from crmkit.kernel import SequentialIds
from crmkit.kernel.query import Query
from crmkit.leads import IntakeConsent, Lead
from crmkit.ports import Outbox, UnitOfWork

TPE = ZoneInfo("Asia/Taipei")
START = datetime(2026, 3, 2, 9, 0, tzinfo=TPE)


class FailingContacts:
    """The contacts repository of a store whose disk fills up when a contact is added."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def add(self, contact: Contact) -> None:
        raise StorageError("disk full while adding a contact")


class FailingUnitOfWork:
    def __init__(self, inner: UnitOfWork) -> None:
        self._inner = inner
        self.contacts = FailingContacts(inner.contacts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> FailingUnitOfWork:
        self._inner.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    def commit(self) -> Any:
        return self._inner.commit()

    def rollback(self) -> None:
        self._inner.rollback()


class SwitchableStore:
    """A store whose contacts repository fails on ``add`` while ``failing`` is set."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failing = False

    def unit_of_work(self) -> Any:
        uow = self.inner.unit_of_work()
        return FailingUnitOfWork(uow) if self.failing else uow

    @property
    def outbox(self) -> Outbox:
        return self.inner.outbox  # type: ignore[no-any-return]


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest) -> Iterator[SwitchableStore]:
    inner = MemoryStore() if request.param == "memory" else SQLiteStore(":memory:")
    yield SwitchableStore(inner)
    if isinstance(inner, SQLiteStore):
        inner.close()


@pytest.fixture
def crm(store: SwitchableStore) -> CRM:
    return bootstrap(
        store=store,
        clock=ManualClock(START),
        ids=SequentialIds(),
        leads=LeadSettings(timezone="Asia/Taipei"),
    )


def customers(crm: CRM) -> list[Customer]:
    with crm.store.unit_of_work() as uow:
        return list(uow.customers.query(Query().take(1000)).items)


def contacts(crm: CRM) -> list[Contact]:
    with crm.store.unit_of_work() as uow:
        return list(uow.contacts.query(Query().take(1000)).items)


def qualified(crm: CRM, **capture: Any) -> Lead:
    args: dict[str, Any] = {
        "name": "Amy Chen",
        "company": "Acme Ltd",
        "email": "Amy.Chen@Acme.example",
        "phone": "+886912345678",
        "job_title": "CTO",
        "campaign": "2023 trade show",
        "owner": "u_amy",
        **capture,
    }
    lead = crm.capture_lead(args.pop("channel", "trade_show"), **args).lead
    crm.start_working_lead(lead.id)
    return crm.qualify_lead(lead.id)


class TestConversion:
    def test_creates_a_customer_and_a_contact_carrying_the_attribution(self, crm: CRM) -> None:
        lead = qualified(crm)
        crm.capture_lead("web_form", email="amy.chen@acme.example", campaign="spring promo")
        done = crm.convert_lead(lead.id, tags=["VIP"], actor="u_amy")
        assert (done.customer_created, done.contact_created, done.repeated) == (True, True, False)
        customer, contact = done.customer, done.contact
        assert (customer.name, customer.kind.value, customer.owner) == (
            "Acme Ltd",
            "company",
            "u_amy",
        )
        assert customer.source == "2023 trade show"
        assert customer.tags == ("vip", "trade_show", "web_form")
        assert (contact.name, contact.customer_id, contact.role) == ("Amy Chen", customer.id, "CTO")
        assert (contact.emails, contact.phones) == (("Amy.Chen@acme.example",), ("+886912345678",))
        assert done.result.customer_id == customer.id and done.result.contact_id == contact.id
        stored = crm.get_lead(lead.id)
        assert stored.status.value == "converted" and stored.conversion == done.result
        assert customers(crm) == [customer] and contacts(crm) == [contact]
        converted = [e.event for e in crm.store.outbox.pending(1000)][-1]
        assert (converted.event_type, converted.campaign) == (  # type: ignore[attr-defined]
            "leads.LeadConverted",
            "2023 trade show",
        )

    def test_a_person_without_a_company_becomes_a_person_customer(self, crm: CRM) -> None:
        lead = qualified(crm, company=None, campaign=None, channel="referral")
        done = crm.convert_lead(lead.id)
        assert (done.customer.name, done.customer.kind.value) == ("Amy Chen", "person")
        assert done.customer.source == "referral"

    def test_the_name_and_kind_can_be_chosen(self, crm: CRM) -> None:
        lead = qualified(crm)
        done = crm.convert_lead(lead.id, customer_name="Acme Holdings", customer_kind="person")
        assert (done.customer.name, done.customer.kind.value) == ("Acme Holdings", "person")

    def test_converting_twice_returns_the_first_result_and_creates_nothing(self, crm: CRM) -> None:
        lead = qualified(crm)
        first = crm.convert_lead(lead.id)
        events = len(crm.store.outbox.pending(1000))
        again = crm.convert_lead(lead.id)
        assert again.repeated and again.result == first.result
        assert (again.customer, again.contact) == (first.customer, first.contact)
        assert len(customers(crm)) == 1 and len(contacts(crm)) == 1
        assert len(crm.store.outbox.pending(1000)) == events
        assert crm.get_lead(lead.id).version == first.lead.version

    def test_a_repeat_naming_another_customer_is_refused(self, crm: CRM) -> None:
        lead = qualified(crm)
        crm.convert_lead(lead.id)
        other = crm.register_customer("Other Co")
        with pytest.raises(RuleViolation, match="converted to customer 'cus_000001' already"):
            crm.convert_lead(lead.id, customer_id=other.id)

    def test_a_lead_linked_to_a_customer_converts_into_it(self, crm: CRM) -> None:
        acme = crm.register_customer("Acme Co., Ltd.")
        amy = crm.add_contact(acme.id, "Amy Chen", emails=["amy.chen@acme.example"])
        lead = qualified(crm, duplicates="link")
        assert lead.customer_link is not None
        done = crm.convert_lead(lead.id)
        assert (done.customer.id, done.contact.id) == (acme.id, amy.id)
        assert (done.customer_created, done.contact_created) == (False, False)
        assert len(customers(crm)) == 1 and len(contacts(crm)) == 1

    def test_an_existing_customer_reuses_its_contact_with_the_leads_email(self, crm: CRM) -> None:
        acme = crm.register_customer("Acme Trading")  # another company key: no link at capture
        amy = crm.add_contact(acme.id, "A. Chen", emails=["AMY.CHEN@acme.example"])
        lead = qualified(crm, duplicates="create_and_flag")
        done = crm.convert_lead(lead.id, customer_id=acme.id)
        assert done.contact.id == amy.id and not done.contact_created

    def test_an_existing_customer_gets_a_new_contact_when_none_matches(self, crm: CRM) -> None:
        acme = crm.register_customer("Acme Trading")
        lead = qualified(crm)
        done = crm.convert_lead(lead.id, customer_id=acme.id)
        assert done.contact_created and done.contact.customer_id == acme.id
        assert done.customer.tags == () and done.customer.source is None  # left as it was

    def test_a_contact_of_another_customer_is_refused(self, crm: CRM) -> None:
        acme = crm.register_customer("Acme Trading")
        other = crm.add_contact(crm.register_customer("Other").id, "Bob")
        lead = qualified(crm)
        with pytest.raises(RuleViolation, match="belongs to customer 'cus_000002'"):
            crm.convert_lead(lead.id, customer_id=acme.id, contact_id=other.id)
        assert crm.get_lead(lead.id).status.value == "qualified"

    def test_a_contact_alone_names_its_customer(self, crm: CRM) -> None:
        acme = crm.register_customer("Acme Trading")
        bob = crm.add_contact(acme.id, "Bob")
        lead = qualified(crm)
        done = crm.convert_lead(lead.id, contact_id=bob.id)
        assert (done.customer.id, done.contact.id) == (acme.id, bob.id)

    def test_the_intake_consent_and_a_later_unsubscribe_go_to_the_new_contact(
        self, crm: CRM
    ) -> None:
        consent = IntakeConsent(marketing=True, source="badge scan opt-in", at=START)
        lead = qualified(crm, consent=consent)
        crm.clock.advance(timedelta(minutes=5))  # type: ignore[attr-defined]
        crm.log_lead_activity(lead.id, "unsubscribed")
        done = crm.convert_lead(lead.id)
        history = [(r.granted, r.source) for r in done.contact.consents]
        assert history == [
            (True, f"lead {lead.id}: badge scan opt-in"),
            (False, f"lead {lead.id}: unsubscribed"),
        ]
        assert done.contact.consent_for("email").granted is False

    def test_only_a_qualified_lead_converts_and_nothing_is_stored_otherwise(self, crm: CRM) -> None:
        lead = crm.capture_lead("ads", email="amy@acme.example").lead
        with pytest.raises(RuleViolation, match="only a qualified lead converts"):
            crm.convert_lead(lead.id)
        assert customers(crm) == [] and contacts(crm) == []
        assert crm.get_lead(lead.id) == lead

    def test_a_missing_lead_or_customer_is_not_found(self, crm: CRM) -> None:
        with pytest.raises(NotFoundError):
            crm.convert_lead("lead_404")
        lead = qualified(crm)
        with pytest.raises(NotFoundError):
            crm.convert_lead(lead.id, customer_id="cus_404")
        assert customers(crm) == [] and crm.get_lead(lead.id).status.value == "qualified"


class TestOpportunityHook:
    def test_the_hook_runs_in_the_unit_of_work_and_its_id_is_recorded(self, crm: CRM) -> None:
        seen: list[tuple[str, str, str]] = []

        def open_opportunity(
            uow: UnitOfWork, lead: Lead, customer: Customer, contact: Contact
        ) -> str:
            seen.append((lead.id, customer.id, contact.id))
            return "opp_1"

        lead = qualified(crm)
        done = crm.convert_lead(lead.id, create_opportunity=open_opportunity)
        assert done.result.opportunity_id == "opp_1"
        assert seen == [(lead.id, done.customer.id, done.contact.id)]
        assert crm.convert_lead(lead.id, create_opportunity=open_opportunity).repeated
        assert len(seen) == 1  # not run again

    def test_the_crms_default_hook_applies(self, store: SwitchableStore) -> None:
        from crmkit.app import leads as leads_app
        from crmkit.app.messagebus import MessageBus
        from crmkit.leads.commands import ConvertLead

        crm = bootstrap(store=store, clock=ManualClock(START), ids=SequentialIds())
        bus = MessageBus(store)
        handlers = leads_app.command_handlers(
            clock=crm.clock,
            ids=crm.ids,
            policy=crm.policy,
            create_opportunity=lambda uow, lead, customer, contact: "opp_default",
        )
        bus.register(ConvertLead, handlers[ConvertLead])
        lead = qualified(crm)
        assert bus.handle(ConvertLead(lead.id)).result.opportunity_id == "opp_default"

    def test_a_failing_hook_leaves_no_customer_or_contact_and_the_lead_unconverted(
        self, crm: CRM
    ) -> None:
        def broken(uow: UnitOfWork, lead: Lead, customer: Customer, contact: Contact) -> str:
            raise RuntimeError("pipeline unavailable")

        lead = qualified(crm)
        events = len(crm.store.outbox.pending(1000))
        with pytest.raises(RuntimeError, match="pipeline unavailable"):
            crm.convert_lead(lead.id, create_opportunity=broken)
        assert customers(crm) == [] and contacts(crm) == []
        assert crm.get_lead(lead.id) == lead
        assert len(crm.store.outbox.pending(1000)) == events
        assert crm.convert_lead(lead.id).customer_created  # and it converts when it works

    def test_a_bad_opportunity_id_is_refused_and_nothing_stored(self, crm: CRM) -> None:
        lead = qualified(crm)
        with pytest.raises(ValidationError, match="opportunity_id"):
            crm.convert_lead(lead.id, create_opportunity=lambda *args: "has space")
        assert customers(crm) == [] and crm.get_lead(lead.id) == lead


def test_a_failure_saving_the_contact_leaves_nothing(crm: CRM, store: SwitchableStore) -> None:
    lead = qualified(crm)
    events = len(crm.store.outbox.pending(1000))
    store.failing = True
    with pytest.raises(StorageError, match="disk full"):
        crm.convert_lead(lead.id)
    store.failing = False
    assert customers(crm) == [] and contacts(crm) == []
    assert crm.get_lead(lead.id) == lead
    assert len(crm.store.outbox.pending(1000)) == events


@settings(max_examples=25)
@given(
    st.lists(st.sampled_from(["convert", "convert", "fail"]), min_size=1, max_size=6),
    st.booleans(),
)
def test_however_often_conversion_is_tried_there_is_one_customer_and_contact(
    attempts: list[str], linked: bool
) -> None:
    store = SwitchableStore(MemoryStore())
    crm = bootstrap(store=store, clock=ManualClock(START), ids=SequentialIds())
    if linked:
        acme = crm.register_customer("Acme Ltd")
        crm.add_contact(acme.id, "Amy Chen", emails=["amy.chen@acme.example"])
    lead = qualified(crm, duplicates="link")
    results = []
    for attempt in attempts:
        store.failing = attempt == "fail"
        with contextlib.suppress(StorageError):
            results.append(crm.convert_lead(lead.id).result)
    store.failing = False
    converted = bool(results)
    assert len(customers(crm)) == (1 if linked or converted else 0)
    assert len(contacts(crm)) == (1 if linked or converted else 0)
    assert len(set(results)) <= 1
    assert crm.get_lead(lead.id).status.value == ("converted" if converted else "qualified")


class TestOpportunityInAPipeline:
    """open_opportunity_in: conversion opens a deal in the default pipeline, atomically."""

    def _pipeline(self, crm: CRM) -> str:
        from crmkit.testing.contracts._support import full_pipeline

        pipeline = full_pipeline()
        with crm.store.unit_of_work() as uow:
            uow.pipelines.add(pipeline)
            uow.commit()
        return pipeline.id

    def test_conversion_opens_a_deal_for_the_new_customer(self, crm: CRM) -> None:
        from crmkit.app.leads import open_opportunity_in
        from crmkit.kernel.money import Money

        pipeline_id = self._pipeline(crm)
        hook = open_opportunity_in(pipeline_id, clock=crm.clock, ids=SequentialIds(start=900))
        lead = qualified(crm, budget=Money("250000", "TWD"))
        done = crm.convert_lead(lead.id, create_opportunity=hook)
        assert done.lead.conversion is not None
        opportunity_id = done.lead.conversion.opportunity_id
        assert opportunity_id is not None
        with crm.store.unit_of_work() as uow:
            deal = uow.opportunities.get(opportunity_id)
        assert deal.customer_id == done.lead.conversion.customer_id
        assert deal.stage == "lead" and deal.owner == "u_amy"
        assert deal.amount == Money("250000", "TWD")
        again = crm.convert_lead(lead.id, create_opportunity=hook)  # idempotent: no second deal
        assert again.lead.conversion == done.lead.conversion
        with crm.store.unit_of_work() as uow:
            assert len(uow.opportunities.query(Query()).items) == 1

    def test_a_missing_pipeline_stores_nothing(self, crm: CRM) -> None:
        from crmkit.app.leads import open_opportunity_in

        hook = open_opportunity_in("nope@1", clock=crm.clock, ids=SequentialIds(start=900))
        lead = qualified(crm)
        with pytest.raises(NotFoundError):
            crm.convert_lead(lead.id, create_opportunity=hook)
        assert customers(crm) == [] and contacts(crm) == []
        assert crm.get_lead(lead.id).conversion is None
