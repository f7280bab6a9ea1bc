"""Price a tea-shop quote in TWD and print how every number came about, in zh_Hant_TW and en.

Run: ``python examples/pricing.py`` (add ``--html quote.html`` to also write the quote document
the customer gets, in Traditional Chinese; the docs show that file).

The quote: 60 boxes of oolong with volume tiers and a spring promotion, two teapots with a
15% manual discount, an automatic 2% big-order discount and a NT$500 welcome coupon, Taiwan VAT
5% included in the prices, whole dollars (TWD is paid without cents). The discount (13%)
needs the sales manager's approval; the quote is then sent and accepted, and the coupon use is
counted.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from crmkit import Money
from crmkit.pricing import (
    ApprovalPolicy,
    Catalog,
    CompanyHeader,
    Coupon,
    DiscountRuleSet,
    ManualDiscount,
    PriceBook,
    PriceBookEntry,
    PriceTier,
    Product,
    Promotion,
    Quote,
    QuoteDiscount,
    QuoteLine,
    TaxPolicy,
    render_html,
)

TAIPEI = ZoneInfo("Asia/Taipei")
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=TAIPEI)


def twd(amount: str) -> Money:
    return Money(amount, "TWD")


def build() -> tuple[Quote, Catalog, DiscountRuleSet, Coupon, TaxPolicy]:
    catalog = Catalog(
        products=[
            Product(sku="OOLONG-500", name="凍頂烏龍茶 500 g", category="tea", unit="盒"),
            Product(sku="TEAPOT", name="宜興紫砂壺", category="ware", unit="個"),
        ],
        price_books=[
            PriceBook(
                id="pb_twd",
                name="Standard TWD",
                currency="TWD",
                entries=[
                    PriceBookEntry(
                        sku="OOLONG-500",
                        unit_price=twd("1200"),
                        tiers=[PriceTier(10, twd("1100")), PriceTier(50, twd("1000"))],
                    ),
                    PriceBookEntry(sku="TEAPOT", unit_price=twd("2800"), floor_price=twd("2200")),
                ],
            )
        ],
    )
    rules = DiscountRuleSet(
        id="rs_spring",
        name="Spring 2026",
        cap_percent=30,
        promotions=[
            Promotion(
                id="spring",
                name="春季茶葉促銷",
                created_at=NOW - timedelta(days=30),
                percent=10,
                categories=["tea"],
                valid_from=datetime(2026, 3, 1, tzinfo=TAIPEI),
                valid_until=datetime(2026, 4, 1, tzinfo=TAIPEI),
            )
        ],
        quote_discounts=[
            QuoteDiscount(
                id="big_order",
                name="大量訂購",
                created_at=NOW - timedelta(days=60),
                percent=2,
                min_order=twd("50000"),
            )
        ],
    )
    coupon = Coupon(
        code="WELCOME500",
        name="新客戶禮",
        created_at=NOW - timedelta(days=30),
        amount=twd("500"),
        usage_limit=100,
        per_customer_limit=1,
    )
    tax = TaxPolicy(rates={"standard": 5}, prices_include_tax=True, name="營業稅")
    quote = Quote.create(
        id="Q-2026-0042",
        customer_id="cus_formosa",
        currency="TWD",
        now=NOW,
        valid_until=NOW + timedelta(days=30),
        owner="u_amy",
        coupon_codes=["welcome500"],
        lines=[
            QuoteLine(line_id="l1", sku="OOLONG-500", quantity=60),
            QuoteLine(line_id="l2", sku="TEAPOT", quantity=2, discount=ManualDiscount(percent=15)),
        ],
    )
    return quote, catalog, rules, coupon, tax


COMPANY = CompanyHeader(
    name="福爾摩沙茶業股份有限公司",
    address_lines=["110 台北市信義區信義路五段 7 號"],
    tax_id="12345678",
    phone="+886 2 2345 6789",
    email="sales@formosatea.example",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="write the zh_Hant_TW quote document here")
    args = parser.parse_args()

    quote, catalog, rules, coupon, tax = build()
    priced = quote.price(
        catalog,
        rules,
        now=NOW,
        tax=tax,
        coupons=[coupon],
        approvals=ApprovalPolicy.default(),
        cash=True,
    )
    print(priced.explain("zh_Hant_TW"))
    print()
    print(priced.explain("en"))
    print()
    print("Approvals needed:", ", ".join(quote.required_approvals) or "none")
    quote.submit(now=NOW)
    for role in quote.required_approvals:
        quote.approve(role, by="u_manager", now=NOW, comment="key account")
    quote.send(now=NOW)
    quote.accept(now=NOW + timedelta(days=3))
    loaded = {coupon.code: coupon}  # a host loads these by Coupon.id_for(code)
    for code in quote.applied_coupon_codes:  # save them in the quote's unit of work
        loaded[code].redeem(quote.id, quote.customer_id, NOW + timedelta(days=3))
    accepted = quote.pending_events[-1]
    print(f"{accepted.event_type}: {len(accepted.lines)} order lines, total {accepted.total}")
    print(f"Coupon {coupon.code} used {coupon.times_used} time(s) of {coupon.usage_limit}")
    if args.html:
        args.html.write_text(
            render_html(quote, company=COMPANY, locale="zh_Hant_TW", customer_name="林小姐"),
            encoding="utf-8",
        )
        print(f"Wrote {args.html}")


if __name__ == "__main__":
    main()
