"""The demo CRM: crmkit wired with the demo's policy, settings and a small tea catalog.

A real host calls ``bootstrap()`` once at start-up with its own store (``database="crm.db"``
or an SQLAlchemy store), clock and policy, and loads its catalog from its own admin screens.
"""

from __future__ import annotations

from datetime import timedelta

from crmkit import CRM, bootstrap
from crmkit.app.leads import LeadSettings
from crmkit.app.quotes import PricingSettings
from crmkit.kernel import Clock, IdGenerator, Money, SystemClock
from crmkit.leads.assignment import AssignmentRules
from crmkit.ports import AccessPolicy, Store
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

from .access import DEMO_POLICY

__all__ = ["demo_crm"]

TWD = "TWD"


def demo_crm(
    *,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    store: Store | None = None,
    policy: AccessPolicy = DEMO_POLICY,
) -> CRM:
    """A CRM with the demo's policy, Taiwan VAT, the spring rule set and the tea catalog.

    New leads go to ``u_amy`` (the assignment rules' fallback owner); quotes are priced with
    prices including 5% VAT and the ``rs_spring`` rules (10% off tea); coupon ``WELCOME5``
    takes another 5% off, once per customer.
    """
    clock = clock or SystemClock()
    crm = bootstrap(
        store=store,
        clock=clock,
        ids=ids,
        policy=policy,
        leads=LeadSettings(
            timezone="Asia/Taipei", assignment_rules=AssignmentRules(fallback_owner="u_amy")
        ),
        pricing=PricingSettings(
            tax=TaxPolicy(rates={"standard": 5}, prices_include_tax=True, name="Taiwan VAT"),
            rule_set_id="rs_spring",
            valid_for=timedelta(days=14),
        ),
    )
    now = clock.now()
    # Reference data, loaded as a deployment would (not a user's action, so no policy check).
    with crm.store.unit_of_work() as uow:
        uow.products.add_many(
            [
                Product(sku="TEA-500", name="Oolong tea 500 g", category="tea", unit="box"),
                Product(sku="POT-YX", name="Yixing teapot", category="ware", unit="piece"),
            ]
        )
        uow.price_books.add(
            PriceBook(
                id="pb_twd",
                name="Standard TWD",
                currency=TWD,
                entries=[
                    PriceBookEntry(
                        sku="TEA-500",
                        unit_price=Money("100", TWD),
                        tiers=[PriceTier(10, Money("90", TWD)), PriceTier(50, Money("80", TWD))],
                    ),
                    PriceBookEntry(sku="POT-YX", unit_price=Money("1200", TWD)),
                ],
            )
        )
        uow.discount_rule_sets.add(
            DiscountRuleSet(
                id="rs_spring",
                name="Spring",
                promotions=[
                    Promotion(
                        id="spring",
                        name="Spring sale",
                        created_at=now,
                        percent=10,
                        categories=["tea"],
                    )
                ],
            )
        )
        uow.coupons.add(
            Coupon(
                code="WELCOME5",
                name="Welcome 5%",
                percent=5,
                created_at=now,
                usage_limit=1000,
                per_customer_limit=1,
            )
        )
        uow.commit()
    return crm
