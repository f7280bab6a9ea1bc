"""Purchase history through the facade, the Customer 360 view (with access and masking),
segments through the bus, and the "needs attention" trigger."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest

from crmkit import bootstrap
from crmkit.adapters.memory import MemoryStore
from crmkit.app._crm import CRM
from crmkit.app.customer360 import CustomerSettings, NoRecentOrderTrigger
from crmkit.app.loyalty import _example_program
from crmkit.customers import (
    Lifecycle,
    OrderConflict,
    RefundExceedsOrder,
    RfmModel,
    SegmentationRules,
    SegmentRule,
)
from crmkit.errors import NotFoundError, PermissionDeniedError, ValidationError
from crmkit.kernel.ids import SequentialIds
from crmkit.kernel.money import Money
from crmkit.kernel.time import ManualClock
from crmkit.leads import Lead
from crmkit.loyalty import Membership
from crmkit.testing.contracts._support import full_opportunity, full_pipeline

T0 = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)


def _crm(**kwargs: Any) -> CRM:
    return bootstrap(clock=ManualClock(T0), ids=SequentialIds(), **kwargs)


def _all() -> Any:
    from crmkit.kernel.query import Query

    return Query().take(1000)


def _orders(crm: CRM) -> list[tuple[str, int, Money]]:
    with crm.store.unit_of_work() as uow:
        return [(o.id, o.version, o.net) for o in uow.orders.query(_all()).items]


# ----- recording orders and refunds --------------------------------------------------------------


def test_recording_an_order_twice_has_the_effect_of_once() -> None:
    """The same source and reference with the same data returns the stored order unchanged."""
    crm = _crm()
    tea = crm.register_customer("Formosa Tea Co.")
    lines = [{"sku": "TEA-500", "name": "Oolong", "quantity": 2, "amount": Money("900", "TWD")}]
    first = crm.record_order(tea.id, "shop", "#1", T0, Money("900", "TWD"), lines=lines)
    outbox = len(crm.store.outbox.pending())

    again = crm.record_order(tea.id, "shop", "#1", T0, Money("900", "TWD"), lines=lines)

    assert (again, again.version) == (first, 1)
    assert len(crm.store.outbox.pending()) == outbox
    assert len(_orders(crm)) == 1


def test_a_conflicting_second_report_is_refused_and_changes_nothing() -> None:
    """A different total for a stored reference is an OrderConflict naming the field."""
    crm = _crm()
    tea = crm.register_customer("Formosa Tea Co.")
    crm.record_order(tea.id, "shop", "#1", T0, Money("900", "TWD"))
    before = _orders(crm)

    with pytest.raises(OrderConflict) as caught:
        crm.record_order(tea.id, "shop", "#1", T0, Money("950", "TWD"), channel="web")

    assert set(caught.value.details["fields"]) == {"total", "channel"}
    assert "total was 900 TWD, now 950 TWD" in str(caught.value)
    assert _orders(crm) == before


def test_orders_need_a_stored_customer() -> None:
    """An order for an unknown customer is NotFound and stores nothing."""
    crm = _crm()

    with pytest.raises(NotFoundError):
        crm.record_order("cus_404", "shop", "#1", T0, Money("900", "TWD"))
    assert _orders(crm) == []


def test_refunds_are_idempotent_and_bounded_through_the_facade() -> None:
    """A repeated refund changes nothing; one beyond the order changes nothing either."""
    crm = _crm()
    tea = crm.register_customer("Formosa Tea Co.")
    crm.record_order(tea.id, "shop", "#1", T0, Money("900", "TWD"))
    crm.record_refund("shop", "#1", "r-1", Money("300", "TWD"), T0, reason="broken cup")
    after_first = _orders(crm)

    again = crm.record_refund("shop", "#1", "r-1", Money("300", "TWD"), T0, reason="broken cup")
    with pytest.raises(RefundExceedsOrder):
        crm.record_refund("shop", "#1", "r-2", Money("600.01", "TWD"), T0)
    with pytest.raises(NotFoundError):
        crm.record_refund("shop", "#2", "r-1", Money("1", "TWD"), T0)

    assert again.net == Money("600", "TWD")
    assert _orders(crm) == after_first


def test_orders_of_lists_latest_first() -> None:
    """A customer's orders come back newest first; another customer's are not there."""
    crm = _crm()
    tea = crm.register_customer("Formosa Tea Co.")
    other = crm.register_customer("Huangpu Trading")
    for n in range(3):
        crm.record_order(tea.id, "pos", f"A-{n}", T0 + timedelta(days=n), Money("100", "TWD"))
    crm.record_order(other.id, "pos", "B-1", T0, Money("100", "TWD"))

    assert [o.external_ref for o in crm.orders_of(tea.id)] == ["A-2", "A-1", "A-0"]


# ----- the 360 view ------------------------------------------------------------------------------


def _full_crm(**kwargs: Any) -> tuple[CRM, str]:
    """One customer with something in every section of the 360 view."""
    crm = _crm(**kwargs)
    tea = crm.register_customer("Formosa Tea Co.", tags=["vip"], owner="u_amy")
    other = crm.register_customer("Huangpu Trading")
    amy = crm.add_contact(tea.id, "Lin Mei-ling", emails=["mei@formosa.example"])
    crm.add_contact(other.id, "Someone Else")
    for n in range(3):
        crm.log_interaction(tea.id, "call", f"Call {n}", occurred_at=T0 - timedelta(days=3 - n))
    crm.record_order(tea.id, "shop", "#1", T0 - timedelta(days=40), Money("1000", "TWD"))
    crm.record_order(tea.id, "shop", "#2", T0 - timedelta(days=10), Money("500", "TWD"))
    crm.record_order(tea.id, "shop", "#3", T0 - timedelta(days=5), Money("20", "USD"))
    crm.record_refund("shop", "#1", "r-1", Money("100", "TWD"), T0)
    crm.record_order(other.id, "shop", "#9", T0, Money("99", "TWD"))
    crm.file_complaint(
        tea.id, "Parcel never arrived", category="delivery", channel="email", contact_id=amy.id
    )
    pipeline = full_pipeline()
    program = _example_program()
    with crm.store.unit_of_work() as uow:
        uow.pipelines.add(pipeline)
        opportunity = attrs.evolve(full_opportunity(pipeline), customer_id=tea.id)
        uow.opportunities.add(opportunity)
        lead = Lead.capture(id="lea_1", now=T0, source_channel="ads", email="x@formosa.example")
        lead.link_to_customer(tea.id, reason="same domain", now=T0)
        uow.leads.add(lead)
        uow.loyalty_programs.add(program)
        uow.memberships.add(
            Membership.enroll(
                id=Membership.id_for(program.id, tea.id),
                program=program,
                customer_id=tea.id,
                now=T0,
            )
        )
        uow.commit()
    return crm, tea.id


def test_the_360_view_gathers_every_section() -> None:
    """Profile, contacts, timeline, leads, opportunities, orders, loyalty, complaints, segments."""
    crm, tea = _full_crm()

    view = crm.customer_360(tea, timeline=2)

    assert view.profile["name"] == "Formosa Tea Co."
    assert [c["name"] for c in view.contacts] == ["Lin Mei-ling"]
    assert [i["summary"] for i in view.timeline] == ["Call 2", "Call 1"]
    assert [lead["id"] for lead in view.open_leads] == ["lea_1"]
    assert [o["customer_id"] for o in view.open_opportunities] == [tea]
    assert [o["external_ref"] for o in view.orders] == ["#3", "#2"]
    assert view.purchases.order_count == 3
    assert view.purchases.lifetime_value == (Money("1400", "TWD"), Money("20", "USD"))
    assert view.purchases.refunded == (Money("100", "TWD"),)
    assert view.purchases.last_order_at == T0 - timedelta(days=5)
    assert [(m.program_id, m.document["points_available"]) for m in view.loyalty] == [
        (_example_program().id, 0)
    ]
    [complaint] = view.complaints
    assert complaint.document["subject"] == "Parcel never arrived"
    assert complaint.sla is not None and complaint.sla.case_id == complaint.document["id"]
    assert view.segments.lifecycle.status is Lifecycle.NEW
    assert not view.segments.attention.flagged


def test_the_360_view_includes_quotes() -> None:
    """Quotes of the customer are in the view, newest first."""
    from crmkit.app.quotes import _example_crm

    crm, quote = _example_crm()

    view = crm.customer_360(quote.customer_id)

    assert [q["id"] for q in view.quotes] == [quote.id]


def test_segments_in_the_view_use_the_configured_rules_and_rfm_over_everyone() -> None:
    """Rule segments and an RFM score scored within the whole population."""
    settings = CustomerSettings(
        segmentation=SegmentationRules(
            segments=[SegmentRule(name="vip", tags=["vip"])], rfm=RfmModel(currency="TWD")
        )
    )
    crm, tea = _full_crm(customers=settings)

    segments = crm.customer_360(tea).segments

    assert segments.names == ("vip",)
    assert segments.rfm is not None
    # Two buyers (3 orders and 1): the cuts are none, none, 1, 1; 3 beats all four.
    assert segments.rfm.frequency.boundaries == (None, None, Decimal(1), Decimal(1))
    assert (segments.rfm.frequency.value, segments.rfm.frequency.score) == (3, 5)


def test_an_unknown_customer_is_not_found_and_a_bad_argument_is_refused() -> None:
    """NotFound for no customer; a ValidationError for a bad timeline size."""
    crm = _crm()

    with pytest.raises(NotFoundError):
        crm.customer_360("cus_404")
    with pytest.raises(ValidationError):
        crm.customer_360(crm.register_customer("Acme").id, timeline=0)


@attrs.frozen
class _AgentPolicy:
    """Reads allowed to everyone but ``u_stranger``; amounts hidden from ``u_agent``."""

    def check(self, actor: str | None, action: str, resource: object | None = None) -> None:
        if actor == "u_stranger" and action.startswith("customers.read"):
            raise PermissionDeniedError(f"{actor} may not {action}")

    def mask(self, actor: Any, record_type: str, document: dict[str, Any]) -> dict[str, Any]:
        if actor != "u_agent":
            return document
        shown = dict(document)
        for key in ("total", "refunds", "lines"):
            if key in shown:
                shown[key] = None
        if record_type == "contacts":
            shown["emails"] = ["***"]
        return shown


def test_the_view_is_checked_and_masked_for_the_actor() -> None:
    """A stranger is refused; an agent sees no amounts, in documents or summaries."""
    settings = CustomerSettings(
        segmentation=SegmentationRules(
            segments=[SegmentRule(name="big", lifetime_value_above=[Money("1000", "TWD")])],
            rfm=RfmModel(currency="TWD"),
        )
    )
    crm, tea = _full_crm(policy=_AgentPolicy(), customers=settings)

    with pytest.raises(PermissionDeniedError):
        crm.customer_360(tea, actor="u_stranger")
    agent = crm.customer_360(tea, actor="u_agent")
    owner = crm.customer_360(tea, actor="u_amy")

    assert agent.purchases.amounts_hidden and agent.purchases.lifetime_value is None
    assert agent.purchases.order_count == owner.purchases.order_count == 3
    assert all(o["total"] is None for o in agent.orders)
    assert agent.contacts[0]["emails"] == ["***"]
    assert agent.segments.matches[0].conditions[0].reason == "lifetime value (hidden)"
    assert agent.segments.rfm is not None and agent.segments.rfm.monetary.value is None
    assert "TWD" not in repr(agent.segments)
    assert not owner.purchases.amounts_hidden
    assert owner.purchases.lifetime_value == (Money("1400", "TWD"), Money("20", "USD"))


# ----- segments and the trigger ------------------------------------------------------------------


def test_segment_customers_filters_by_rule_or_rfm_segment() -> None:
    """The report lists everyone; a segment name keeps its members."""
    settings = CustomerSettings(
        segmentation=SegmentationRules(
            segments=[SegmentRule(name="vip", tags=["vip"])], rfm=RfmModel(currency="TWD")
        )
    )
    crm, tea = _full_crm(customers=settings)

    everyone = crm.segment_customers()
    vip = crm.segment_customers(segment="vip")
    champions = crm.segment_customers(segment="champions")

    assert len(everyone) == 2
    assert [s.customer_id for s in vip] == [tea]
    assert all(s.rfm is not None and s.rfm.segment == "champions" for s in champions)


def test_bootstrap_refuses_settings_of_the_wrong_type() -> None:
    """``customers=`` must be CustomerSettings."""
    with pytest.raises(ValidationError):
        bootstrap(customers="vip")  # type: ignore[arg-type]


def test_no_recent_order_trigger_fires_once_per_quiet_spell() -> None:
    """Six months without an order fires once; a new order starts a new spell."""
    store = MemoryStore()
    clock = ManualClock(T0)
    crm = bootstrap(store=store, clock=clock, ids=SequentialIds())
    tea = crm.register_customer("Formosa Tea Co.", owner="u_amy")
    crm.record_order(tea.id, "shop", "#1", T0, Money("900", "TWD"))
    trigger = NoRecentOrderTrigger()

    with store.unit_of_work() as uow:
        early = trigger.fire(uow, T0 + timedelta(days=181))
        due = trigger.fire(uow, T0 + timedelta(days=182))
        later = trigger.fire(uow, T0 + timedelta(days=250))
    crm.record_order(tea.id, "shop", "#2", T0 + timedelta(days=251), Money("900", "TWD"))
    with store.unit_of_work() as uow:
        quiet_again = trigger.fire(uow, T0 + timedelta(days=251 + 182))

    assert early == []
    assert [e.event_id for e in due] == [e.event_id for e in later]
    assert due[0].owner == "u_amy" and due[0].last_activity_at == T0
    assert quiet_again[0].event_id != due[0].event_id


def test_racing_reports_of_one_order_store_it_once(tmp_path: Any) -> None:
    """Eight threads report the same order (and refund) at once: one order, one refund."""
    import threading

    from crmkit.adapters.sqlite import SQLiteStore

    crm = bootstrap(store=SQLiteStore(tmp_path / "crm.db"), clock=ManualClock(T0))
    tea = crm.register_customer("Formosa Tea Co.")
    results: list[object] = []
    start = threading.Barrier(8)

    def report() -> None:
        start.wait()
        order = crm.record_order(tea.id, "shop", "#1", T0, Money("900", "TWD"))
        refunded = crm.record_refund("shop", "#1", "r-1", Money("100", "TWD"), T0)
        results.append((order.id, refunded.net))

    threads = [threading.Thread(target=report) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    [order] = crm.orders_of(tea.id)
    assert len(results) == 8 and set(results) == {(order.id, Money("800", "TWD"))}
    assert len(order.refunds) == 1
