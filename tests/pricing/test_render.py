# Chinese punctuation and the multiplication and minus signs are what documents print.
# ruff: noqa: RUF001
"""Quote documents (HTML, text) and the waterfall explanation, in en, zh_Hant_TW, zh_Hans_CN."""

from __future__ import annotations

import html.parser
from datetime import timedelta

import pytest

from crmkit.errors import RuleViolation
from crmkit.kernel.money import Money
from crmkit.pricing import (
    CompanyHeader,
    Coupon,
    DiscountRuleSet,
    ManualDiscount,
    Quote,
    QuoteLine,
    explain,
    price_quote,
    render_html,
    render_text,
)
from crmkit.pricing.engine import _example, _example_setup

COMPANY = CompanyHeader(
    name="Formosa Tea Co.",
    address_lines=["台北市信義區信義路五段 7 號"],
    tax_id="12345678",
    phone="+886 2 2345 6789",
    email="sales@formosatea.tw",
)


def _full():
    """A quote with a promotion, a manual line discount, a coupon and a manual quote discount."""
    catalog, rules, tax, now = _example_setup()
    coupon = Coupon(code="TEA5", name="Tea <5%>", created_at=now, percent=5)
    quote = Quote.create(
        id="q_1",
        customer_id="cus_1",
        currency="TWD",
        now=now,
        valid_until=now + timedelta(days=30),
        coupon_codes=["TEA5", "NOPE"],
        discount=ManualDiscount(amount=Money("100", "TWD")),
        lines=[
            QuoteLine(line_id="l1", sku="TEA-500", quantity=60, discount=ManualDiscount(percent=5)),
            QuoteLine(line_id="l2", sku="TEA-500", quantity=3, description="Gift <b>box</b>"),
        ],
    )
    quote.price(catalog, rules, now=now, tax=tax, coupons=[coupon])
    return quote


class _Checker(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en", ["Quotation", "Total (tax included)", "of which VAT 5%", "NT$"]),
        ("zh_Hant_TW", ["報價單", "統一編號", "總計（含稅）", "內含營業稅 5%", "$4,"]),
        ("zh_Hans_CN", ["报价单", "总计（含税）", "其中增值税 5%"]),
        ("zh-TW", ["報價單"]),
        ("fr_FR", ["Quotation"]),
    ],
)
def test_documents_in_each_locale(locale, words):
    quote = _full()
    page = render_html(quote, company=COMPANY, locale=locale, customer_name="王小明")
    text = render_text(quote, company=COMPANY, locale=locale, customer_name="王小明")

    for word in words:
        assert word in page
        assert word in text
    assert "王小明" in page and "q_1" in page


def test_html_escapes_every_data_field():
    quote = _full()
    page = render_html(
        quote,
        company=CompanyHeader(name="A & <B>"),
        locale="en",
        customer_name="<script>alert(1)</script>",
    )
    checker = _Checker()
    checker.feed(page)

    assert "script" not in checker.tags and "b" not in checker.tags
    assert "&lt;script&gt;" in page
    assert "A &amp; &lt;B&gt;" in page
    assert "Gift &lt;b&gt;box&lt;/b&gt;" in page
    assert "Tea &lt;5%&gt;" in page


def test_documents_list_lines_discounts_tax_and_totals():
    quote = _full()
    text = render_text(quote, company=COMPANY, locale="en")
    priced = quote.priced

    assert priced.total.format("en") in text
    assert "Spring sale (promotion, 10%)" in text
    assert "Tea <5%> (coupon, 5%) TEA5" in text
    assert "Quote discount (manual)" in text
    for line in priced.lines:
        assert line.net.format("en") in text


def test_an_unpriced_quote_cannot_be_rendered():
    now = _example_setup()[3]
    quote = Quote.create(
        id="q_1", customer_id="c", currency="TWD", now=now, valid_until=now + timedelta(days=1)
    )
    with pytest.raises(RuleViolation, match="not priced"):
        render_html(quote, company=COMPANY, locale="en")


def test_the_explanation_shows_the_waterfall():
    priced = _full().priced
    text = priced.explain()

    assert text.splitlines()[0].startswith("Priced 2026-03-02 09:00 UTC in TWD")
    for expected in (
        "1. TEA-500 Oolong tea 500 g × 60 box",
        "List price",
        "Price book pb_twd, volume tier",
        "60 × NT$80.00 = NT$4,800.00",
        "− Spring sale (promotion, 10%)",
        "−NT$480.00",
        "− Line discount (manual, 5%)",
        "−NT$216.00",
        "= Net",
        "Share of quote discounts",
        "− Tea <5%> (coupon, 5%) TEA5",
        "allocated: 1: −",
        "of which VAT 5% (standard)",
        "= Total (tax included)",
        "Not applied: NOPE — unknown code",
    ):
        assert expected in text, expected
    assert explain(priced, "zh_Hant_TW") == priced.explain("zh_Hant_TW")
    assert "整單折扣" in priced.explain("zh_Hant_TW")
    assert "优惠券" in priced.explain("zh_Hans_CN")


def test_graduated_lines_show_their_bands():
    from crmkit.pricing import Catalog, PriceBook, PriceBookEntry, PriceTier, Product

    now = _example_setup()[3]
    catalog = Catalog(
        products=[Product(sku="A", name="A", category="x")],
        price_books=[
            PriceBook(
                id="pb",
                name="pb",
                currency="USD",
                entries=[
                    PriceBookEntry(
                        sku="A",
                        unit_price=Money("10", "USD"),
                        tiers=[PriceTier(5, Money("8", "USD"))],
                        tier_mode="graduated",
                    )
                ],
            )
        ],
    )
    priced = price_quote(
        [QuoteLine(line_id="l", sku="A", quantity=6)],
        catalog,
        DiscountRuleSet.empty(),
        now,
        currency="USD",
    )

    assert "4 × $10.00 + 2 × $8.00 = $56.00" in priced.explain()


def test_the_example_explains_itself_in_every_locale():
    for locale in ("en", "zh_Hant_TW", "zh_Hans_CN"):
        assert _example().explain(locale).count("\n") > 8
