# Chinese labels and the minus sign are what the documents print.
# ruff: noqa: RUF001
"""Quote documents as PDF: the same content as HTML/text, CJK fonts that viewers can show."""

from __future__ import annotations

import io
import subprocess
import sys
import time
import types
from datetime import timedelta

import pypdf
import pytest
import reportlab.lib.utils
from hypothesis import given
from hypothesis import strategies as st

from crmkit.errors import CRMError, MissingDependencyError, RuleViolation, ValidationError
from crmkit.kernel.money import Money
from crmkit.pricing import CompanyHeader, ManualDiscount, Quote, QuoteLine, price_quote
from crmkit.pricing.engine import _example, _example_setup
from crmkit.pricing.pdf import _CHAINS, _covers, _runs, render_pdf
from crmkit.pricing.render import _content

COMPANY = CompanyHeader(
    name="Formosa Tea Co.",
    address_lines=["台北市信義區信義路五段 7 號"],
    tax_id="12345678",
    phone="+886 2 2345 6789",
)

#: Each Unicode CMap and the character collection (CIDSystemInfo /Ordering) it is made for.
CMAP_ORDERING = {
    "/UniCNS-UCS2-H": "CNS1",
    "/UniGB-UCS2-H": "GB1",
    "/UniJIS-UCS2-H": "Japan1",
    "/UniKS-UCS2-H": "Korea1",
}


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _squash(text: str) -> str:
    """Text without whitespace: extraction spaces runs of different fonts its own way."""
    return "".join(text.split())


def _fonts(pdf: bytes) -> dict[str, pypdf.generic.DictionaryObject]:
    """Every font the pages use, by base font name."""
    found = {}
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            found[str(font["/BaseFont"]).lstrip("/")] = font
    return found


def _cid_fonts(pdf: bytes) -> dict[str, tuple[str, str]]:
    """The Type0 (CID) fonts: base font name -> (CMap, ordering of the descendant font)."""
    found = {}
    for name, font in _fonts(pdf).items():
        if font["/Subtype"] == "/Type0":
            descendant = font["/DescendantFonts"][0].get_object()
            ordering = descendant["/CIDSystemInfo"]["/Ordering"]
            found[name] = (str(font["/Encoding"]), str(ordering))
    return found


def _priced(count: int = 1):
    """``count`` lines of tea; line n is n boxes (volume tiers at 10 and 50, a 10% promotion)."""
    catalog, rules, tax, now = _example_setup()
    lines = [QuoteLine(line_id=f"l{n}", sku="TEA-500", quantity=n) for n in range(1, count + 1)]
    return price_quote(lines, catalog, rules, now, currency="TWD", tax=tax)


def _quote():
    catalog, rules, tax, now = _example_setup()
    quote = Quote.create(
        id="q_7",
        customer_id="cus_1",
        currency="TWD",
        now=now,
        valid_until=now + timedelta(days=30),
        discount=ManualDiscount(amount=Money("100", "TWD")),
        lines=[
            QuoteLine(line_id="l1", sku="TEA-500", quantity=60, discount=ManualDiscount(percent=5)),
            QuoteLine(line_id="l2", sku="TEA-500", quantity=3, description="Gift <b>box</b>"),
        ],
    )
    quote.price(catalog, rules, now=now, tax=tax)
    return quote


# ----- what the document says --------------------------------------------------------------------


def test_the_bytes_are_a_one_page_pdf():
    pdf = render_pdf(_example(), company=COMPANY, locale="en", quote_id="Q-0042")

    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert reader.metadata.title == "Quotation Q-0042"
    assert reader.metadata.author == "Formosa Tea Co."


def test_the_traditional_chinese_document_has_its_labels_and_amounts_as_text():
    text = _pages(
        render_pdf(
            _example(),
            company=COMPANY,
            locale="zh_Hant_TW",
            quote_id="Q-0042",
            customer_name="林小姐",
        )
    )[0]

    for label in ("報價單", "報價單號", "統一編號", "品項", "數量", "單價", "折扣", "金額"):
        assert label in text
    for label in ("小計", "內含營業稅 5%", "總計（含稅）", "林小姐", "台北市信義區信義路五段"):
        assert _squash(label) in _squash(text)
    # 60 boxes at the 50+ tier price 80 = 4,800; the 10% promotion takes 480 -> 4,320,
    # of which VAT 5% (included) = 4,320 x 5 / 105 = 205.714... -> 205.71.
    for amount in ("$80.00", "−$480.00", "$4,320.00", "$205.71"):
        assert amount in text
    assert "报价单" not in text


def test_the_simplified_chinese_document_has_its_labels_and_amounts_as_text():
    text = _pages(render_pdf(_example(), company=COMPANY, locale="zh_Hans_CN"))[0]

    for label in ("报价单", "纳税人识别号", "品项", "数量", "单价", "金额", "小计"):
        assert label in text
    assert _squash("总计（含税）") in _squash(text)
    assert _squash("其中增值税 5%") in _squash(text)
    for amount in ("NT$4,320.00", "NT$205.71", "−NT$480.00"):
        assert amount in text
    assert "報價單" not in text


@pytest.mark.parametrize("locale", ["en", "zh_Hant_TW", "zh_Hans_CN"])
def test_the_pdf_shows_every_text_of_the_html_and_text_documents(locale):
    quote = _quote()
    content = _content(quote, COMPANY, locale, None, "王小明", None)
    text = _squash(
        "".join(_pages(render_pdf(quote, company=COMPANY, locale=locale, customer_name="王小明")))
    )

    cells = [*content.header, *content.heads, content.labels["quotation"]]
    cells += [cell for pair in content.meta + content.totals for cell in pair]
    cells += [cell for row in content.rows for cell in row]
    assert "q_7" in cells and "Gift <b>box</b>" in "".join(cells)
    for cell in cells:
        assert _squash(cell) in text


def test_markup_in_data_is_shown_as_text():
    pdf = render_pdf(
        _example(),
        company=CompanyHeader(name='A & <b>B</b> </font><font face="x">'),
        locale="en",
        customer_name="&lt;script&gt;",
    )
    text = _pages(pdf)[0]

    assert 'A & <b>B</b> </font><font face="x">' in text
    assert "&lt;script&gt;" in text


def test_a_priced_quote_gives_its_id_and_revision():
    text = _pages(render_pdf(_quote(), company=COMPANY, locale="en"))[0]

    assert "Quote no." in text and "q_7" in text
    assert "Revision" in text
    assert "Valid until" in text and "April 1, 2026" in text


def test_bad_input_is_refused_like_the_html_renderer():
    now = _example_setup()[3]
    unpriced = Quote.create(
        id="q_1", customer_id="c", currency="TWD", now=now, valid_until=now + timedelta(days=1)
    )

    with pytest.raises(RuleViolation, match="not priced"):
        render_pdf(unpriced, company=COMPANY, locale="en")
    with pytest.raises(ValidationError, match="CompanyHeader"):
        render_pdf(_example(), company="Formosa", locale="en")
    with pytest.raises(ValidationError, match="locale"):
        render_pdf(_example(), company=COMPANY, locale=None)


# ----- fonts -------------------------------------------------------------------------------------


def test_traditional_chinese_is_set_in_msung_light_with_the_cns1_cmap():
    pdf = render_pdf(_example(), company=COMPANY, locale="zh_Hant_TW", customer_name="林小姐")

    assert _cid_fonts(pdf) == {"MSung-Light": ("/UniCNS-UCS2-H", "CNS1")}
    assert "Helvetica" in _fonts(pdf)


def test_simplified_chinese_is_set_in_stsong_light_with_the_gb1_cmap():
    # The Traditional address is in the GB1 collection too, so it needs no other font.
    pdf = render_pdf(_example(), company=COMPANY, locale="zh_Hans_CN", customer_name="王小明")

    assert _cid_fonts(pdf) == {"STSong-Light": ("/UniGB-UCS2-H", "GB1")}


def test_an_english_quote_without_cjk_text_uses_no_cjk_font():
    pdf = render_pdf(_example(), company=CompanyHeader(name="Formosa Tea Co."), locale="en")

    assert _cid_fonts(pdf) == {}
    assert {"Helvetica", "Helvetica-Bold"} <= set(_fonts(pdf))


def test_cjk_names_in_an_english_quote_get_a_font_that_has_them():
    pdf = render_pdf(
        _example(),
        company=COMPANY,
        locale="en",
        customer_name="林小姐 / 张伟 / 김민준 / やまだ",
    )

    assert _cid_fonts(pdf) == {
        "MSung-Light": ("/UniCNS-UCS2-H", "CNS1"),
        "STSong-Light": ("/UniGB-UCS2-H", "GB1"),
        "HYSMyeongJo-Medium": ("/UniKS-UCS2-H", "Korea1"),
        "HeiseiMin-W3": ("/UniJIS-UCS2-H", "Japan1"),
    }
    assert _squash("林小姐 / 张伟 / 김민준 / やまだ") in _squash(_pages(pdf)[0])


def test_every_cmap_matches_its_fonts_character_collection():
    # ReportLab's own MSung-Light pairs the GB1 CMap with the CNS1 font: viewers show nothing.
    pdf = render_pdf(
        _example(), company=COMPANY, locale="zh_Hant_TW", customer_name="张伟 김민준 やまだ"
    )

    found = _cid_fonts(pdf)
    assert len(found) == 4
    for cmap, ordering in found.values():
        assert CMAP_ORDERING[cmap] == ordering


def test_a_simplified_only_name_in_a_traditional_quote_uses_the_simplified_font():
    assert _runs("客戶 张伟 Café", _CHAINS["zh_Hant_TW"]) == [
        ("MSung-Light", "客戶"),
        ("Helvetica", " "),
        ("STSong-Light", "张伟"),
        ("Helvetica", " Café"),
    ]


def test_the_minus_sign_and_the_won_sign_are_drawn_with_fonts_that_have_them():
    # U+2212 is in no CJK CMap: it goes to Helvetica (ReportLab draws it from Symbol);
    # U+20A9 is in none of the fonts: its fullwidth form U+FFE6 is, in the Korean one.
    assert _runs("−₩1,000", _CHAINS["zh_Hant_TW"]) == [
        ("Helvetica", "−"),
        ("HYSMyeongJo-Medium", "\uffe6"),
        ("Helvetica", "1,000"),
    ]


@given(st.text(st.characters(codec="utf-16", exclude_categories=["Cs"]), max_size=40))
def test_runs_keep_the_text_and_use_a_font_that_has_each_character(text):
    for chain in _CHAINS.values():
        runs = _runs(text, chain)

        assert len("".join(piece for _, piece in runs)) == len(text)
        for font, piece in runs:
            assert piece
            for ch in piece:
                if any(_covers(f, ch) for f in ("Helvetica", *chain)):
                    assert _covers(font, ch)


# ----- pages -------------------------------------------------------------------------------------


def test_a_long_quote_runs_over_pages_with_headings_and_totals_on_the_last():
    priced = _priced(120)
    pages = _pages(render_pdf(priced, company=COMPANY, locale="zh_Hant_TW", quote_id="Q-0120"))

    assert len(pages) > 1
    total = priced.total.format("zh_Hant_TW")
    for number, page in enumerate(pages, 1):
        assert "品項" in page and "金額" in page  # the heading repeats
        assert f"Q-0120 {number} / {len(pages)}" in " ".join(page.split())
        assert ("總計（含稅）" in page) == (number == len(pages))
        assert (total in page) == (number == len(pages))
    assert sum(page.count("TEA-500") for page in pages) == 120


def test_a_long_customer_name_breaks_over_pages_instead_of_failing():
    pdf = render_pdf(_example(), company=COMPANY, locale="zh_Hant_TW", customer_name="茶" * 6000)

    pages = _pages(pdf)
    assert len(pages) > 1
    assert sum(page.count("茶") for page in pages) == 6000


# ----- bytes -------------------------------------------------------------------------------------


def test_the_same_quote_gives_the_same_bytes_at_any_time(monkeypatch):
    first = render_pdf(_example(), company=COMPANY, locale="zh_Hant_TW", quote_id="Q-1")
    later = types.SimpleNamespace(
        time=lambda: time.time() + 86400 * 400, localtime=time.localtime, gmtime=time.gmtime
    )
    monkeypatch.setattr(reportlab.lib.utils, "time", later)

    again = render_pdf(_example(), company=COMPANY, locale="zh_Hant_TW", quote_id="Q-1")

    assert again == first
    assert render_pdf(_example(), company=COMPANY, locale="zh_Hant_TW", quote_id="Q-2") != first


# ----- the optional dependency -------------------------------------------------------------------


def test_without_reportlab_render_pdf_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "reportlab", None)

    with pytest.raises(MissingDependencyError) as caught:
        render_pdf(_example(), company=COMPANY, locale="en")

    err = caught.value
    assert isinstance(err, CRMError) and isinstance(err, ImportError)
    assert 'pip install "crmkit[pdf]"' in str(err)
    assert err.code == "missing_dependency"
    assert err.details == {
        "package": "reportlab",
        "extra": "pdf",
        "install": 'pip install "crmkit[pdf]"',
    }
    assert isinstance(err.__cause__, ImportError)


def test_importing_crmkit_pricing_does_not_need_reportlab():
    code = (
        "import sys; sys.modules['reportlab'] = None\n"
        "import crmkit.pricing, crmkit.pricing.pdf\n"
        "print(crmkit.pricing.pdf.render_pdf.__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "render_pdf"
