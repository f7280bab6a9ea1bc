"""A webshop plugin that keeps a sales pipeline in step with the shop's B2B orders.

The shop (any e-commerce or ERP system) owns orders and payments; the plugin owns the deals.
Each shop hook (quote requested, quote sent, deposit paid, order paid, order cancelled) runs one
unit of work: load the deal and its pipeline definition, call the pure rule, save, commit, and
hand the committed events to the shop's outbound queue. Guards read the shop's own data through
named predicates. The pipeline definition is JSON kept in the shop's settings.

Run: ``python examples/pipeline_plugin.py`` (it works in a temporary SQLite file).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from crmkit.adapters.sqlite import SQLiteStore
from crmkit.errors import RuleViolation
from crmkit.kernel import ManualClock, Money, Query
from crmkit.pipeline import OPPORTUNITIES, PIPELINES, Opportunity, Pipeline
from crmkit.pipeline.forecast import stalled_deals, weighted_pipeline
from crmkit.serialization import from_json

#: What the shop's admin screen stores: the B2B order pipeline, as JSON.
PIPELINE_JSON = """
{
  "key": "b2b_orders",
  "name": "B2B orders",
  "labels": {"zh_Hant_TW": "企業訂單"},
  "stages": [
    {"key": "inquiry", "label": "Inquiry", "probability": 10,
     "labels": {"zh_Hant_TW": "詢價"}, "stall_after_days": 7},
    {"key": "quoted", "label": "Quote sent", "probability": 40, "forecast_category": "best_case",
     "labels": {"zh_Hant_TW": "已報價"}, "stall_after_days": 14},
    {"key": "deposit", "label": "Deposit paid", "probability": 80, "forecast_category": "commit",
     "labels": {"zh_Hant_TW": "已付訂金"}},
    {"key": "won", "label": "Paid in full", "probability": 100, "kind": "won",
     "labels": {"zh_Hant_TW": "已付清"}},
    {"key": "lost", "label": "Cancelled", "probability": 0, "kind": "lost",
     "labels": {"zh_Hant_TW": "已取消"}}
  ],
  "transitions": [
    {"source": "inquiry", "target": "quoted", "guards": [
      {"kind": "field", "name": "amount"},
      {"kind": "field", "name": "close_date", "message": "a delivery date"},
      {"kind": "field", "name": "decision_maker", "message": "the buyer's purchasing manager"}]},
    {"source": "quoted", "target": "inquiry"},
    {"source": "quoted", "target": "deposit", "guards": [
      {"kind": "predicate", "name": "deposit_paid", "message": "the 30% deposit"}]},
    {"source": "deposit", "target": "won", "guards": [
      {"kind": "predicate", "name": "paid_in_full", "message": "full payment"}]},
    {"source": "inquiry", "target": "lost"},
    {"source": "quoted", "target": "lost"},
    {"source": "deposit", "target": "lost"},
    {"source": "lost", "target": "inquiry"}
  ],
  "lost_reasons": ["price", "out_of_stock", "delivery_time", "customer_cancelled"],
  "inactive_after_days": 10
}
"""

TAIPEI = ZoneInfo("Asia/Taipei")


class ShopOrders:
    """Stands in for the shop's order system (its database in a real plugin)."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}

    def paid(self, deal: Opportunity) -> Money:
        order = self.orders[deal.id.removeprefix("opp_")]
        return Money(order["paid"], order["currency"])

    def predicates(self) -> Mapping[str, Callable[[Opportunity], bool]]:
        """The guards the pipeline names, answered from the shop's own data."""
        return {
            "deposit_paid": lambda deal: (
                deal.amount is not None and self.paid(deal) >= deal.amount * "0.3"
            ),
            "paid_in_full": lambda deal: deal.amount is not None and self.paid(deal) >= deal.amount,
        }


class PipelinePlugin:
    """The shop's hooks, each one unit of work on crmkit's store."""

    def __init__(self, store: SQLiteStore, clock: ManualClock, shop: ShopOrders) -> None:
        self.store = store
        self.clock = clock
        self.shop = shop
        self.outbox: list[str] = []  # the shop's queue for CRM events (webhooks, e-mail...)

    def install(self, pipeline_json: str) -> Pipeline:
        """Store the pipeline definition from the shop's settings (once per revision)."""
        pipeline = from_json(pipeline_json, Pipeline)
        with self.store.unit_of_work() as uow:
            uow.repository(PIPELINES).add(pipeline)
            uow.commit()
        return pipeline

    def _change(self, order_id: str, change: Callable[[Opportunity, Pipeline], None]) -> None:
        with self.store.unit_of_work() as uow:
            deal = uow.repository(OPPORTUNITIES).get(f"opp_{order_id}")
            pipeline = uow.repository(PIPELINES).get(deal.pipeline_id)
            change(deal, pipeline)
            uow.repository(OPPORTUNITIES).save(deal)
            events = uow.commit()
        self.outbox += [e.event_type for e in events]

    def _move(self, order_id: str, to: str, *, by: str, reason: str | None = None) -> None:
        def move(deal: Opportunity, pipeline: Pipeline) -> None:
            deal.move(
                to,
                pipeline=pipeline,
                now=self.clock.now(),
                by=by,
                predicates=self.shop.predicates(),
                reason=reason,
            )

        self._change(order_id, move)

    # ----- the shop's hooks ---------------------------------------------------------------

    def quote_requested(
        self,
        order_id: str,
        *,
        customer_id: str,
        company: str,
        total: str,
        delivery: date,
        buyer_contact: str | None,
        sales_rep: str,
    ) -> None:
        now = self.clock.now()
        self.shop.orders[order_id] = {"paid": "0", "currency": "TWD"}
        with self.store.unit_of_work() as uow:
            latest = uow.repository(PIPELINES).query(
                Query.where(key="b2b_orders").order("-revision").take(1)
            )
            deal = Opportunity.open(
                id=f"opp_{order_id}",
                customer_id=customer_id,
                name=f"{company}: {order_id}",
                pipeline=latest.items[0],
                now=now,
                owner=sales_rep,
                amount=Money(total, "TWD"),
                expected_close_date=delivery,
                by=sales_rep,
            )
            if buyer_contact is not None:
                deal.add_contact(buyer_contact, "decision_maker", now=now, by=sales_rep)
            uow.repository(OPPORTUNITIES).add(deal)
            events = uow.commit()
        self.outbox += [e.event_type for e in events]

    def quote_sent(self, order_id: str, *, by: str) -> None:
        self._move(order_id, "quoted", by=by)

    def payment_received(self, order_id: str, amount: str) -> str | None:
        """Book a payment and move the deal on if it now may; return why not, if it may not."""
        order = self.shop.orders[order_id]
        order["paid"] = (Money(order["paid"], "TWD") + Money(amount, "TWD")).amount
        onward = {"quoted": "deposit", "deposit": "won"}

        def advance(deal: Opportunity, pipeline: Pipeline) -> None:
            now = self.clock.now()
            deal.record_activity(now, now=now, by="shop")
            if deal.stage in onward:
                deal.move(
                    onward[deal.stage],
                    pipeline=pipeline,
                    now=now,
                    by="shop",
                    predicates=self.shop.predicates(),
                )

        try:
            self._change(order_id, advance)
        except RuleViolation as refused:
            return str(refused)  # nothing was stored: the unit of work rolled back
        return None

    def order_cancelled(self, order_id: str, reason: str) -> None:
        self._move(order_id, "lost", by="shop", reason=reason)


def main() -> None:
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=TAIPEI))
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "shop-crm.sqlite3")
        shop = ShopOrders()
        plugin = PipelinePlugin(store, clock, shop)
        pipeline = plugin.install(PIPELINE_JSON)
        print(
            f"Installed pipeline {pipeline.id}: "
            + " -> ".join(s.label_for("zh_Hant_TW") for s in pipeline.stages)
        )

        plugin.quote_requested(
            "SO-1001",
            customer_id="cus_formosa",
            company="Formosa Tea",
            total="480000",
            delivery=date(2026, 4, 30),
            buyer_contact="con_amy",
            sales_rep="u_ben",
        )
        plugin.quote_requested(
            "SO-1002",
            customer_id="cus_jade",
            company="Jade Trading",
            total="125000",
            delivery=date(2026, 5, 15),
            buyer_contact=None,
            sales_rep="u_ben",
        )
        plugin.quote_requested(
            "SO-1003",
            customer_id="cus_dragon",
            company="Dragon Well",
            total="260000",
            delivery=date(2026, 7, 10),
            buyer_contact="con_li",
            sales_rep="u_cho",
        )

        clock.advance(timedelta(days=2))
        for order in ("SO-1001", "SO-1002", "SO-1003"):
            try:
                plugin.quote_sent(order, by="u_ben")
            except RuleViolation as refused:  # shown to the shop admin as it is
                print(f"Refused for {order}: {refused}")

        clock.advance(timedelta(days=3))
        print(
            "Payment of 100,000 on SO-1001:",
            plugin.payment_received("SO-1001", "100000") or "moved on",
        )
        print(
            "Payment of 44,000 on SO-1001:",
            plugin.payment_received("SO-1001", "44000") or "moved on",
        )
        plugin.order_cancelled("SO-1003", "delivery_time")

        clock.advance(timedelta(days=20))
        print(
            "Payment of 336,000 on SO-1001:",
            plugin.payment_received("SO-1001", "336000") or "moved on",
        )

        with store.unit_of_work() as uow:
            deals = list(uow.repository(OPPORTUNITIES).query(Query().take(100)).items)
        for deal in deals:
            path = " -> ".join(deal.stages_visited())
            print(
                f"{deal.id}: {path} ({deal.probability}%"
                f"{', ' + deal.close_reason if deal.close_reason else ''})"
            )
        forecast = weighted_pipeline(deals, currency="TWD", period="month", include_won=True)
        for line in forecast.lines:
            print(
                f"Forecast {line.period.label('zh_Hant_TW')} {line.owner} "
                f"{line.category.value}: {line.weighted.format('zh_Hant_TW')}"
            )
        for stalled in stalled_deals(deals, pipelines=[pipeline], now=clock.now()):
            print(
                f"Stalled: {stalled.opportunity_id} in {stalled.stage} "
                f"({', '.join(r.value for r in stalled.reasons)})"
            )
        print(f"Events handed to the shop's queue: {len(plugin.outbox)}, last: {plugin.outbox[-1]}")


if __name__ == "__main__":
    main()
