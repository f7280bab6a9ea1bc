"""The demo shop's crmkit set-up: a tea catalog, its pricing rules and its loyalty program.

Everything here is data a shop keeps in its admin screens: a price book with a volume tier, a
rule set with an automatic promotion, a welcome coupon and the Tea Club loyalty program. A real
shop calls ``bootstrap()`` once at start-up with its own store (``database="crm.db"`` or an
SQLAlchemy store), and saves these through the same facade methods when an admin edits them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from crmkit import CRM, bootstrap
from crmkit.app.loyalty import LoyaltySettings
from crmkit.app.quotes import PricingSettings
from crmkit.kernel import Clock, IdGenerator, Money, SystemClock
from crmkit.loyalty import BaseRate, EarnRules, ExpiryPolicy, LoyaltyProgram, Tier, TierModel
from crmkit.ports import Store
from crmkit.pricing import (
    Coupon,
    DiscountRuleSet,
    PriceBook,
    PriceBookEntry,
    PriceTier,
    Product,
    Promotion,
    TaxPolicy,
)

__all__ = ["RULE_SET_ID", "demo_crm", "loyalty_program", "pricing_settings"]

TWD = "TWD"
#: The id of the shop's discount rule set.
RULE_SET_ID = "rs_web_shop"


def twd(amount: str) -> Money:
    """An amount in New Taiwan dollars."""
    return Money(amount, TWD)


def pricing_settings() -> PricingSettings:
    """How the shop prices: 5% VAT included, whole dollars, no approvals, 24 hours to pay."""
    return PricingSettings(
        approvals=None,  # a web shop's discounts are the rules below, not a sales rep's
        tax=TaxPolicy(rates={"standard": 5}, prices_include_tax=True, name="營業稅"),
        cash=True,  # Taiwan invoices are in whole dollars
        rule_set_id=RULE_SET_ID,
        valid_for=timedelta(hours=24),  # a priced cart is honoured for a day
    )


def loyalty_program() -> LoyaltyProgram:
    """Tea Club: 1 point per NT$100 paid, pending 7 days (the return window), 12 months' life."""
    return LoyaltyProgram(
        id="tea_club",
        name="Tea Club",
        currency=TWD,
        time_zone="Asia/Taipei",
        point_value=twd("1"),
        pending_period=timedelta(days=7),
        expiry=ExpiryPolicy(kind="rolling_months", months=12),
        earn=EarnRules(base=BaseRate(points=1, per=twd("100"))),
        tiers=TierModel(
            metric="spend",
            period="calendar",
            tiers=[Tier(id="member", name="Member", threshold=0)],
        ),
    )


def demo_crm(
    *, clock: Clock | None = None, ids: IdGenerator | None = None, store: Store | None = None
) -> CRM:
    """A CRM with the shop's catalog, price book, spring rule set, coupon and Tea Club.

    * ``OOLONG-150`` (tea) NT$480 a tin, NT$450 from 5 tins; ``TEAPOT`` (ware) NT$1,800;
    * the spring festival takes 10% off tea, automatically, in March and April 2026;
    * coupon ``WELCOME100`` takes NT$100 off an order of NT$1,000 or more, once per customer;
    * Tea Club gives 1 point per NT$100 paid.
    """
    clock = clock or SystemClock()
    crm = bootstrap(
        store=store,
        clock=clock,
        ids=ids,
        pricing=pricing_settings(),
        loyalty=LoyaltySettings(program_id="tea_club"),
    )
    now = clock.now()
    tz = now.tzinfo
    crm.upsert_product(Product(sku="OOLONG-150", name="凍頂烏龍茶 150 g", category="tea"))
    crm.upsert_product(Product(sku="TEAPOT", name="宜興紫砂壺", category="ware"))
    crm.upsert_price_book(
        PriceBook(
            id="pb_web_twd",
            name="Web shop TWD",
            currency=TWD,
            entries=[
                PriceBookEntry(
                    sku="OOLONG-150", unit_price=twd("480"), tiers=[PriceTier(5, twd("450"))]
                ),
                PriceBookEntry(sku="TEAPOT", unit_price=twd("1800")),
            ],
        )
    )
    crm.save_discount_rule_set(
        DiscountRuleSet(
            id=RULE_SET_ID,
            name="Web shop 2026",
            cap_percent=30,
            promotions=[
                Promotion(
                    id="spring_tea",
                    name="Spring tea festival",
                    created_at=now,
                    percent=10,
                    categories=["tea"],
                    valid_from=datetime(2026, 3, 1, tzinfo=tz),
                    valid_until=datetime(2026, 5, 1, tzinfo=tz),
                )
            ],
        )
    )
    crm.create_coupon(
        Coupon(
            code="WELCOME100",
            name="Welcome gift",
            created_at=now,
            amount=twd("100"),
            min_order=twd("1000"),
            per_customer_limit=1,
        )
    )
    crm.save_loyalty_program(loyalty_program())
    return crm
