"""Purchase history: orders and refunds as idempotent facts, the summary, and an order's life
as a hypothesis state machine."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from crmkit.customers import (
    ORDERS,
    Order,
    OrderLine,
    PurchaseSummary,
    RefundConflict,
    RefundExceedsOrder,
    summarize_purchases,
)
from crmkit.customers import events as ev
from crmkit.errors import CRMError, ValidationError
from crmkit.kernel.money import Money
from crmkit.serialization import structure, unstructure
from crmkit.testing.strategies import orders

AT = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)


def _order(amount: str = "1000", currency: str = "TWD", **fields: object) -> Order:
    values: dict[str, object] = {
        "customer_id": "cus_1",
        "source": "shop",
        "external_ref": "#1001",
        "ordered_at": AT,
        "total": Money(amount, currency),
        "now": AT,
    }
    values.update(fields)
    return Order.report(**values)  # type: ignore[arg-type]


# ----- the order ---------------------------------------------------------------------------------


def test_report_records_the_fact_and_an_event() -> None:
    """A reported order keeps what CRM rules need and records OrderRecorded."""
    order = _order(
        lines=[{"sku": "TEA-500", "name": "Oolong", "quantity": 2, "amount": Money("900", "TWD")}],
        channel="web",
        region="tw",
    )

    [event] = order.pending_events
    assert isinstance(event, ev.OrderRecorded)
    assert (event.total, event.external_ref, event.channel) == (
        Money("1000", "TWD"),
        "#1001",
        "web",
    )
    assert order.lines == (
        OrderLine(sku="TEA-500", name="Oolong", quantity=Decimal(2), amount=Money("900", "TWD")),
    )
    assert order.region == "TW"
    assert order.id == Order.id_for("shop", "#1001")


def test_the_id_is_derived_from_source_and_reference() -> None:
    """Same source and reference give the same id; another source another id."""
    assert Order.id_for("shop", "#1") == Order.id_for("shop", " #1 ")
    assert Order.id_for("shop", "#1") != Order.id_for("pos", "#1")
    assert Order.id_for("shop", "#1") != Order.id_for("shop", "#2")


@pytest.mark.parametrize(
    ("fields", "path"),
    [
        ({"ordered_at": datetime(2026, 3, 2)}, "ordered_at"),
        ({"total": Money("-1", "TWD")}, "total"),
        ({"total": "1000"}, "total"),
        ({"external_ref": "  "}, "external_ref"),
        ({"source": "my shop"}, "source"),
        ({"region": "Taiwan"}, "region"),
        ({"lines": [{"name": "Tea", "amount": Money("1", "USD")}]}, "lines[0].amount"),
        ({"lines": [{"name": "Tea", "quantity": -1, "amount": Money("1", "TWD")}]}, "lines[0]"),
        ({"lines": "tea"}, "lines"),
    ],
)
def test_bad_reports_are_refused_with_the_field(fields: dict[str, object], path: str) -> None:
    """An invalid report is a ValidationError naming the field."""
    with pytest.raises(ValidationError) as caught:
        _order(**fields)  # type: ignore[arg-type]

    assert caught.value.errors[0].path.startswith(path)


def test_differences_name_each_changed_field() -> None:
    """A second report is compared field by field; the instant, not the zone, counts."""
    first = _order()
    same_instant = _order(ordered_at=AT.astimezone(timezone(timedelta(hours=8))))
    changed = _order("1100", channel="store")

    assert first.differences(same_instant) == {}
    assert set(first.differences(changed)) == {"total", "channel"}


def test_partial_refunds_add_up_and_the_last_cent_can_be_refunded() -> None:
    """Refunds reduce the net amount; the whole total can be refunded, no more."""
    order = _order("100.05")
    order.refund("r-1", Money("50", "TWD"), refunded_at=AT, now=AT)
    order.refund("r-2", Money("50.05", "TWD"), refunded_at=AT, now=AT)

    assert order.net == Money("0", "TWD")
    assert order.fully_refunded
    with pytest.raises(RefundExceedsOrder) as caught:
        order.refund("r-3", Money("0.01", "TWD"), refunded_at=AT, now=AT)
    assert caught.value.details["requested"] == "0.01"


def test_a_refund_beyond_the_total_changes_nothing() -> None:
    """A refund of more than what is left is refused, and nothing is recorded."""
    order = _order("500")
    order.pull_events()

    with pytest.raises(RefundExceedsOrder, match="at most 500 TWD is left"):
        order.refund("r-1", Money("500.01", "TWD"), refunded_at=AT, now=AT)
    assert (order.refunds, order.pending_events) == ((), ())


def test_a_repeated_refund_has_the_effect_of_once() -> None:
    """The same refund reference with the same data returns the first refund."""
    order = _order()
    first = order.refund("r-1", Money("100", "TWD"), refunded_at=AT, now=AT, reason="broken")
    order.pull_events()
    again = order.refund(
        "r-1", Money("100", "TWD"), refunded_at=AT, now=AT + timedelta(days=1), reason="broken"
    )

    assert again == first
    assert (len(order.refunds), order.pending_events) == (1, ())


def test_a_conflicting_refund_report_is_a_clear_rule_violation() -> None:
    """The same refund reference with another amount says what it was and what it is now."""
    order = _order()
    order.refund("r-1", Money("100", "TWD"), refunded_at=AT, now=AT)

    with pytest.raises(RefundConflict, match=r"already reported as 100 TWD.*says 120 TWD"):
        order.refund("r-1", Money("120", "TWD"), refunded_at=AT, now=AT)


def test_a_refund_in_another_currency_is_refused() -> None:
    """Refunds are in the order's currency."""
    with pytest.raises(ValidationError, match="refund in the order's currency"):
        _order().refund("r-1", Money("1", "USD"), refunded_at=AT, now=AT)


def test_a_stored_order_with_refunds_above_the_total_cannot_be_built() -> None:
    """The invariant holds for documents too: refunds never exceed the order."""
    document = unstructure(_order("100"))
    document["refunds"] = [
        {
            "external_ref": "r-1",
            "amount": {"amount": "150", "currency": "TWD"},
            "refunded_at": AT.isoformat(),
            "recorded_at": AT.isoformat(),
        }
    ]

    with pytest.raises(ValidationError, match="more than the order's total"):
        structure(document, Order)


def test_orders_round_trip_through_the_converter_and_record_type() -> None:
    """An order's document reads back equal; projections expose the queryable fields."""
    order = _order(lines=[OrderLine(name="Tea", amount=Money("1", "TWD"))], region="TW")
    order.refund("r-1", Money("1000", "TWD"), refunded_at=AT, now=AT)

    assert structure(unstructure(order), Order) == order
    assert ORDERS.project(order)["fully_refunded"] is True
    assert ORDERS.project(order)["currency"] == "TWD"


# ----- the summary -------------------------------------------------------------------------------


def test_summary_by_hand() -> None:
    """Counts, first and last order, net value and refunds per currency, never summed."""
    a = _order("1000", external_ref="a", ordered_at=AT)
    b = _order("20", "USD", external_ref="b", ordered_at=AT + timedelta(days=5))
    c = _order("300", external_ref="c", ordered_at=AT - timedelta(days=5))
    c.refund("r", Money("300", "TWD"), refunded_at=AT, now=AT)
    a.refund("r", Money("100", "TWD"), refunded_at=AT, now=AT)

    summary = summarize_purchases([a, b, c])

    assert summary == PurchaseSummary(
        order_count=3,
        refunded_orders=1,
        first_order_at=c.ordered_at,
        last_order_at=b.ordered_at,
        last_order_id=b.id,
        lifetime_value=(Money("900", "TWD"), Money("20", "USD")),
        refunded=(Money("400", "TWD"),),
    )
    assert summary.value_in("JPY") == Money("0", "JPY")


def test_summary_refuses_what_is_not_an_order() -> None:
    """A summary of non-orders is a ValidationError with the position."""
    with pytest.raises(ValidationError, match=r"orders\[0\]"):
        summarize_purchases(["ord_1"])  # type: ignore[list-item]


@given(st.lists(orders("cus_1"), max_size=6))
def test_summary_properties(bought: list[Order]) -> None:
    """Per currency the lifetime value is the sum of the nets, and never negative."""
    summary = summarize_purchases(bought)

    assert summary.order_count == len(bought)
    for value in summary.lifetime_value:
        mine = [o.net for o in bought if o.total.currency == value.currency]
        assert value == Money.sum(mine, currency=value.currency)
        assert not value.is_negative()
    assert {v.currency for v in summary.lifetime_value} == {o.total.currency for o in bought}


@given(orders(), st.integers(0, 10**7))
def test_refunds_never_exceed_the_order(order: Order, units: int) -> None:
    """Whatever is asked, the refunds of an order stay within its total."""
    amount = Money.from_minor(max(units, 1), order.total.currency)
    with contextlib.suppress(CRMError):
        order.refund("r-x", amount, refunded_at=AT, now=AT)

    assert order.refunded <= order.total
    assert not order.net.is_negative()


@given(orders())
def test_a_report_twice_is_the_same_fact(order: Order) -> None:
    """Reporting the same order again with the same data differs in nothing."""
    again = Order.report(
        customer_id=order.customer_id,
        source=order.source,
        external_ref=order.external_ref,
        ordered_at=order.ordered_at,
        total=order.total,
        now=order.ordered_at + timedelta(days=1),
        lines=order.lines,
        channel=order.channel,
        region=order.region,
    )

    assert order.differences(again) == {}
    assert again.id == order.id


# ----- an order's life ---------------------------------------------------------------------------


class OrderLife(RuleBasedStateMachine):
    """Refunds, repeats and conflicts in any order: the ledger of refunds stays consistent."""

    def __init__(self) -> None:
        super().__init__()
        self.order = _order("1000.00")
        self.order.pull_events()
        self.reported: dict[str, Money] = {}

    @rule(ref=st.sampled_from(["r-1", "r-2", "r-3", "r-4"]), cents=st.integers(1, 60_000))
    def refund(self, ref: str, cents: int) -> None:
        """Report a refund; a repeat or a conflict changes nothing."""
        amount = Money.from_minor(cents, "TWD")
        before = (self.order.refunds, self.order.net)
        try:
            self.order.refund(ref, amount, refunded_at=AT, now=AT)
        except RefundConflict:
            assert self.reported[ref] != amount
            assert (self.order.refunds, self.order.net) == before
            return
        except RefundExceedsOrder:
            assert ref not in self.reported
            assert amount > before[1]
            assert (self.order.refunds, self.order.net) == before
            return
        if ref in self.reported:
            assert self.reported[ref] == amount
            assert self.order.refunds == before[0]
        else:
            self.reported[ref] = amount

    @rule()
    def round_trip(self) -> None:
        """A stored order reads back equal at any point of its life."""
        events = self.order.pull_events()
        assert all(isinstance(e, ev.OrderRefunded) for e in events)
        assert structure(unstructure(self.order), Order) == self.order

    @invariant()
    def refunds_match_what_was_accepted(self) -> None:
        """The refunds are exactly the accepted reports, within the total."""
        assert {r.external_ref: r.amount for r in self.order.refunds} == self.reported
        assert self.order.refunded == Money.sum(self.reported.values(), currency="TWD")
        assert self.order.refunded + self.order.net == self.order.total
        assert not self.order.net.is_negative()


TestOrderLife = OrderLife.TestCase
TestOrderLife.settings = settings(max_examples=50, stateful_step_count=20)
