# Chinese labels are the point of this module.
# ruff: noqa: RUF001, RUF002
"""Quote documents for the customer (HTML and plain text) and the waterfall explanation.

Texts come from a small table of labels per locale kept in this module (``en``,
``zh_Hant_TW``, ``zh_Hans_CN``; any other locale is resolved with
:func:`crmkit.i18n.resolve_locale`, so ``zh-TW`` reads Traditional Chinese and ``fr`` English).
Numbers, dates and money are formatted by babel in that locale; the formatter never rounds
money (amounts are exact already). Every text that comes from data (names, addresses, rule
names) is HTML-escaped in :func:`render_html`.

Example:
    >>> from crmkit.pricing.engine import _example
    >>> company = CompanyHeader(name="Formosa Tea <Co.>", address_lines=["台北市信義路 1 號"],
    ...                         tax_id="12345678")
    >>> html = render_html(_example(), company=company, locale="zh_Hant_TW", quote_id="q_1")
    >>> "報價單" in html, "Formosa Tea &lt;Co.&gt;" in html, "$4,320.00" in html
    (True, True, True)
    >>> print(render_text(_example(), company=company, locale="en").splitlines()[0])
    Formosa Tea <Co.>

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import html
import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
from babel.dates import format_date
from babel.numbers import format_decimal

from crmkit.errors import RuleViolation, ValidationError
from crmkit.i18n import resolve_locale
from crmkit.kernel import _validators as v
from crmkit.kernel.money import Money
from crmkit.pricing.engine import (
    Clamp,
    DiscountKind,
    PricedLine,
    PricedQuote,
)

if TYPE_CHECKING:
    from crmkit.pricing._model import Quote

__all__ = ["CompanyHeader", "explain", "render_html", "render_text"]

_EN: dict[str, str] = {
    "quotation": "Quotation",
    "quote_no": "Quote no.",
    "revision": "Revision",
    "date": "Date",
    "valid_until": "Valid until",
    "customer": "Customer",
    "tax_id": "Tax ID",
    "phone": "Phone",
    "email": "Email",
    "item": "Item",
    "quantity": "Qty",
    "unit_price": "Unit price",
    "discount": "Discount",
    "amount": "Amount",
    "subtotal": "Subtotal",
    "quote_discounts": "Quote discounts",
    "tax": "Tax",
    "tax_included": "Tax included",
    "total": "Total",
    "total_incl": "Total (tax included)",
    "of_which_tax": "of which {name} {rate}%",
    "plus_tax": "{name} {rate}%",
    "vat": "VAT",
    "priced": "Priced {when} in {currency}",
    "rounding": "rounding {mode}, tax {per}, {incl}",
    "per_line": "per line",
    "per_total": "per total",
    "incl": "prices include tax",
    "excl": "prices exclude tax",
    "list_price": "List price",
    "price_book": "Price book {book}, {mode}",
    "volume": "volume tier",
    "graduated": "graduated tiers",
    "net": "Net",
    "quote_share": "Share of quote discounts",
    "line_tax": "Tax {category} {rate}%",
    "line_tax_incl": "Tax {category} {rate}% (included)",
    "line_total": "Total",
    "allocated": "allocated",
    "summary_discount": "Discount {amount} = {pct}% of the price-book amount {base}",
    "below_list": "{pct}% below list {list}",
    "not_applied": "Not applied",
    "sep": "; ",
    "cap": "Discount cap: {cap}",
    "line": "line",
    "manual": "manual",
    "limited_base": "limited to the amount",
    "limited_floor": "limited by the floor price",
    "limited_cap": "limited by the discount cap",
    "kind_group_price": "group price",
    "kind_promotion": "promotion",
    "kind_buy_x_get_y": "buy X get Y",
    "kind_bundle": "bundle",
    "kind_manual": "manual",
    "kind_quote_discount": "quote discount",
    "kind_coupon": "coupon",
    "Line discount": "Line discount",
    "Quote discount": "Quote discount",
    "reason_unknown_code": "unknown code",
    "reason_not_yet_valid": "not valid yet",
    "reason_expired": "expired",
    "reason_customer_group": "not for this customer group",
    "reason_usage_limit": "usage limit reached",
    "reason_customer_limit": "used up by this customer",
    "reason_currency": "other currency",
    "reason_min_order": "minimum order not met",
    "reason_not_best": "a better option applied",
    "reason_excluded": "excluded by an exclusive rule",
}

_ZH_HANT: dict[str, str] = {
    "quotation": "報價單",
    "quote_no": "報價單號",
    "revision": "版次",
    "date": "日期",
    "valid_until": "有效期限",
    "customer": "客戶",
    "tax_id": "統一編號",
    "phone": "電話",
    "email": "電子郵件",
    "item": "品項",
    "quantity": "數量",
    "unit_price": "單價",
    "discount": "折扣",
    "amount": "金額",
    "subtotal": "小計",
    "quote_discounts": "整單折扣",
    "tax": "稅額",
    "tax_included": "含稅",
    "total": "總計",
    "total_incl": "總計（含稅）",
    "of_which_tax": "內含{name} {rate}%",
    "plus_tax": "{name} {rate}%",
    "vat": "營業稅",
    "priced": "計價時間 {when}，幣別 {currency}",
    "rounding": "捨入 {mode}，稅額{per}，{incl}",
    "per_line": "逐行計算",
    "per_total": "整單計算",
    "incl": "價格含稅",
    "excl": "價格未稅",
    "list_price": "定價",
    "price_book": "價目表 {book}，{mode}",
    "volume": "數量級距",
    "graduated": "累進級距",
    "net": "淨額",
    "quote_share": "分攤整單折扣",
    "line_tax": "稅額 {category} {rate}%",
    "line_tax_incl": "稅額 {category} {rate}%（內含）",
    "line_total": "合計",
    "allocated": "分攤",
    "summary_discount": "折扣 {amount}，為價目表金額 {base} 的 {pct}%",
    "below_list": "比定價 {list} 低 {pct}%",
    "not_applied": "未套用",
    "sep": "；",
    "cap": "折扣總額上限：{cap}",
    "line": "第",
    "manual": "手動",
    "limited_base": "以金額為限",
    "limited_floor": "受最低價限制",
    "limited_cap": "受折扣上限限制",
    "kind_group_price": "客群價",
    "kind_promotion": "促銷",
    "kind_buy_x_get_y": "買X送Y",
    "kind_bundle": "組合價",
    "kind_manual": "手動",
    "kind_quote_discount": "整單折扣",
    "kind_coupon": "優惠券",
    "Line discount": "單行折扣",
    "Quote discount": "整單折扣",
    "reason_unknown_code": "查無此代碼",
    "reason_not_yet_valid": "尚未生效",
    "reason_expired": "已過期",
    "reason_customer_group": "不適用此客群",
    "reason_usage_limit": "已達使用上限",
    "reason_customer_limit": "此客戶已用完",
    "reason_currency": "幣別不同",
    "reason_min_order": "未達最低消費",
    "reason_not_best": "已套用更優惠的方案",
    "reason_excluded": "不可與獨享優惠併用",
}

_ZH_HANS: dict[str, str] = {
    "quotation": "报价单",
    "quote_no": "报价单号",
    "revision": "版本",
    "date": "日期",
    "valid_until": "有效期至",
    "customer": "客户",
    "tax_id": "纳税人识别号",
    "phone": "电话",
    "email": "电子邮件",
    "item": "品项",
    "quantity": "数量",
    "unit_price": "单价",
    "discount": "折扣",
    "amount": "金额",
    "subtotal": "小计",
    "quote_discounts": "整单折扣",
    "tax": "税额",
    "tax_included": "含税",
    "total": "总计",
    "total_incl": "总计（含税）",
    "of_which_tax": "其中{name} {rate}%",
    "plus_tax": "{name} {rate}%",
    "vat": "增值税",
    "priced": "计价时间 {when}，币种 {currency}",
    "rounding": "舍入 {mode}，税额{per}，{incl}",
    "per_line": "逐行计算",
    "per_total": "整单计算",
    "incl": "价格含税",
    "excl": "价格不含税",
    "list_price": "标价",
    "price_book": "价目表 {book}，{mode}",
    "volume": "数量阶梯",
    "graduated": "累进阶梯",
    "net": "净额",
    "quote_share": "分摊整单折扣",
    "line_tax": "税额 {category} {rate}%",
    "line_tax_incl": "税额 {category} {rate}%（含）",
    "line_total": "合计",
    "allocated": "分摊",
    "summary_discount": "折扣 {amount}，为价目表金额 {base} 的 {pct}%",
    "below_list": "比标价 {list} 低 {pct}%",
    "not_applied": "未使用",
    "sep": "；",
    "cap": "折扣总额上限：{cap}",
    "line": "第",
    "manual": "手动",
    "limited_base": "以金额为限",
    "limited_floor": "受最低价限制",
    "limited_cap": "受折扣上限限制",
    "kind_group_price": "客群价",
    "kind_promotion": "促销",
    "kind_buy_x_get_y": "买X送Y",
    "kind_bundle": "组合价",
    "kind_manual": "手动",
    "kind_quote_discount": "整单折扣",
    "kind_coupon": "优惠券",
    "Line discount": "单行折扣",
    "Quote discount": "整单折扣",
    "reason_unknown_code": "无此代码",
    "reason_not_yet_valid": "尚未生效",
    "reason_expired": "已过期",
    "reason_customer_group": "不适用此客群",
    "reason_usage_limit": "已达使用上限",
    "reason_customer_limit": "此客户已用完",
    "reason_currency": "币种不同",
    "reason_min_order": "未达最低消费",
    "reason_not_best": "已使用更优惠的方案",
    "reason_excluded": "不可与独享优惠同用",
}

_LABELS: dict[str, dict[str, str]] = {"en": _EN, "zh_Hant_TW": _ZH_HANT, "zh_Hans_CN": _ZH_HANS}


def _labels(locale: object) -> tuple[str, dict[str, str]]:
    if not isinstance(locale, str):
        raise ValidationError(f"must be a locale name, not {type(locale).__name__}", path="locale")
    resolved = resolve_locale(locale)
    return resolved, _LABELS.get(resolved, _EN)


def _lines(value: object) -> tuple[str, ...]:
    return v.text_tuple("address_lines", max_items=6)(value)


@attrs.frozen(kw_only=True)
class CompanyHeader:
    """The seller's header on a quote document.

    Example:
        >>> CompanyHeader(name="Formosa Tea Co.", address_lines=["Taipei"], tax_id="12345678").name
        'Formosa Tea Co.'

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(converter=v.strip, validator=v.text(200))
    address_lines: tuple[str, ...] = attrs.field(default=(), converter=_lines)
    tax_id: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(50)
    )
    phone: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(50)
    )
    email: str | None = attrs.field(
        default=None, converter=v.strip_optional, validator=v.optional_text(200)
    )


def _pct(value: Decimal, locale: str) -> str:
    return format_decimal(value, format="#,##0.##", locale=locale)


def _qty(value: Decimal, locale: str) -> str:
    return format_decimal(value, format="#,##0.######", locale=locale)


def _when(value: datetime) -> str:
    offset = value.utcoffset()
    if not offset:
        return f"{value:%Y-%m-%d %H:%M} UTC"
    sign = "-" if offset.days < 0 else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{value:%Y-%m-%d %H:%M} UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(1, width - _width(text))


def _discount_name(name: str, labels: dict[str, str]) -> str:
    return labels.get(name, name)


def _discount_label(
    name: str, kind: DiscountKind, percent: Decimal | None, locale: str, labels: dict[str, str]
) -> str:
    detail = labels[f"kind_{kind.value}"]
    if percent is not None:
        detail += f", {_pct(percent, locale)}%"
    return f"{_discount_name(name, labels)} ({detail})"


def _clamp(clamp: Clamp | None, labels: dict[str, str]) -> str:
    return "" if clamp is None else f"  [{labels[f'limited_{clamp.value}']}]"


def explain(priced: PricedQuote, locale: str = "en") -> str:
    """Return the waterfall of ``priced`` as readable text in ``locale``.

    Per line: list price, price book and tier, each discount with its rule, the net, its share
    of quote-level discounts, tax and total; then the quote's subtotal, each quote-level
    discount with its allocation, tax, total, the derived discount percentage and what did not
    apply and why. :meth:`PricedQuote.explain` calls this.

    Example:
        >>> from crmkit.pricing.engine import _example
        >>> text = explain(_example(), "zh_Hant_TW")
        >>> "促銷" in text and "總計" in text
        True

    .. versionadded:: 0.1.0
    """
    if not isinstance(priced, PricedQuote):
        raise ValidationError(f"must be a PricedQuote, not {type(priced).__name__}", path="priced")
    loc, labels = _labels(locale)
    m = _money_formatter(loc, priced.cash)
    out: list[str] = []
    per = labels["per_line"] if priced.tax_rounding.value == "per_line" else labels["per_total"]
    incl = labels["incl"] if priced.tax_included else labels["excl"]
    out.append(
        labels["priced"].format(when=_when(priced.priced_at), currency=priced.currency)
        + " ("
        + labels["rounding"].format(mode=priced.rounding.name, per=per, incl=incl)
        + ")"
    )
    col = 40
    for n, line in enumerate(priced.lines, 1):
        out.extend(_explain_line(n, line, loc, labels, m, col, priced.tax_included))
    out.append("")
    out.append(_pad(labels["subtotal"], col) + m(priced.subtotal))
    for q in priced.quote_discounts:
        label = _discount_label(q.name, q.kind, q.percent, loc, labels)
        if q.code:
            label += f" {q.code}"
        out.append(_pad(f"− {label}", col) + "−" + m(q.amount) + _clamp(q.limited_by, labels))
        shares = [f"{n}: −{m(s)}" for n, s in enumerate(q.shares, 1) if not s.is_zero()]
        if shares:
            out.append(f"    {labels['allocated']}: " + ", ".join(shares))
    for t in priced.taxes:
        name = labels["vat"]
        key = "of_which_tax" if priced.tax_included else "plus_tax"
        text = labels[key].format(name=name, rate=_pct(t.rate, loc))
        out.append(_pad(f"{text} ({t.category})", col) + m(t.tax))
    total_label = labels["total_incl"] if priced.tax_included else labels["total"]
    out.append(_pad(f"= {total_label}", col) + m(priced.total))
    out.append(
        labels["summary_discount"].format(
            amount=m(priced.discount_total),
            pct=_pct(priced.effective_discount_percent, loc),
            base=m(priced.tier_total),
        )
        + labels["sep"]
        + labels["below_list"].format(
            pct=_pct(priced.list_discount_percent, loc), list=m(priced.list_total)
        )
    )
    if priced.cap is not None:
        out.append(labels["cap"].format(cap=m(priced.cap)))
    for u in priced.unapplied:
        reason = labels[f"reason_{u.reason.value}"]
        out.append(f"{labels['not_applied']}: {u.code or u.name} — {reason} ({u.detail})")
    return "\n".join(out)


def _money_formatter(locale: str, cash: bool) -> Any:
    """Format money in ``locale``; a quote priced in cash digits shows cash digits.

    An amount is shown in cash digits only when it has no more digits than that (unit prices
    may), so the formatter never rounds.
    """
    cache: dict[Money, str] = {}

    def fmt(value: Money) -> str:
        found = cache.get(value)
        if found is None:
            whole = cash and value.round(cash=True).amount == value.amount
            found = cache[value] = value.format(locale, cash=whole)
        return found

    return fmt


def _explain_line(
    n: int,
    line: PricedLine,
    loc: str,
    labels: dict[str, str],
    m: Any,
    col: int,
    tax_included: bool,
) -> list[str]:
    qty = _qty(line.quantity, loc)
    out = [f"{n}. {line.sku} {line.name} × {qty} {line.unit}"]
    out.append(
        "   "
        + _pad(labels["list_price"], col - 3)
        + f"{qty} × {m(line.list_price)} = {m(line.list_amount)}"
    )
    mode = labels[line.tier_mode.value]
    book = labels["price_book"].format(book=line.price_book_id, mode=mode)
    if line.tiers:
        bands = " + ".join(f"{_qty(t.quantity, loc)} × {m(t.unit_price)}" for t in line.tiers)
    else:
        bands = f"{qty} × {m(line.tier_price)}"
    out.append("   " + _pad(book, col - 3) + f"{bands} = {m(line.tier_amount)}")
    for d in line.discounts:
        label = _discount_label(d.name, d.kind, d.percent, loc, labels)
        out.append(
            "   " + _pad(f"− {label}", col - 3) + "−" + m(d.amount) + _clamp(d.limited_by, labels)
        )
    out.append("   " + _pad(f"= {labels['net']}", col - 3) + m(line.net))
    if not line.quote_discount.is_zero():
        out.append(
            "   " + _pad(f"− {labels['quote_share']}", col - 3) + "−" + m(line.quote_discount)
        )
    key = "line_tax_incl" if tax_included else "line_tax"
    tax = labels[key].format(category=line.tax_category, rate=_pct(line.tax_rate, loc))
    out.append("   " + _pad(tax, col - 3) + m(line.tax))
    out.append("   " + _pad(f"= {labels['line_total']}", col - 3) + m(line.total))
    return out


# ----- documents ---------------------------------------------------------------------------------


@attrs.frozen
class _Doc:
    priced: PricedQuote
    quote_id: str | None
    revision: int | None
    customer_name: str | None
    valid_until: datetime | None


def _document(
    document: Quote | PricedQuote,
    quote_id: str | None,
    customer_name: str | None,
    valid_until: datetime | None,
) -> _Doc:
    if isinstance(document, PricedQuote):
        return _Doc(document, quote_id, None, customer_name, valid_until)
    priced = getattr(document, "priced", None)
    if priced is None:
        raise RuleViolation(
            f"quote {getattr(document, 'id', '?')!r} is not priced; price it before rendering"
        )
    return _Doc(
        priced,
        quote_id or document.id,
        document.revision,
        customer_name,
        valid_until or document.valid_until,
    )


def _rows(doc: _Doc, loc: str, labels: dict[str, str]) -> list[list[str]]:
    m = _money_formatter(loc, doc.priced.cash)
    rows = []
    for n, line in enumerate(doc.priced.lines, 1):
        names = [_discount_label(d.name, d.kind, d.percent, loc, labels) for d in line.discounts]
        discount = line.tier_amount - line.net
        rows.append(
            [
                str(n),
                f"{line.sku} {line.name}",
                f"{_qty(line.quantity, loc)} {line.unit}",
                m(line.tier_price) if not line.tiers else "—",
                ("−" + m(discount)) if not discount.is_zero() else "",
                m(line.net),
                "; ".join(names),
            ]
        )
    return rows


def _totals(doc: _Doc, loc: str, labels: dict[str, str]) -> list[tuple[str, str]]:
    priced = doc.priced
    m = _money_formatter(loc, priced.cash)
    rows = [(labels["subtotal"], m(priced.subtotal))]
    for q in priced.quote_discounts:
        label = _discount_label(q.name, q.kind, q.percent, loc, labels)
        if q.code:
            label += f" {q.code}"
        rows.append((label, "−" + m(q.amount)))
    for t in priced.taxes:
        key = "of_which_tax" if priced.tax_included else "plus_tax"
        rows.append((labels[key].format(name=labels["vat"], rate=_pct(t.rate, loc)), m(t.tax)))
    total_label = labels["total_incl"] if priced.tax_included else labels["total"]
    rows.append((total_label, m(priced.total)))
    return rows


def _header(doc: _Doc, company: CompanyHeader, loc: str, labels: dict[str, str]) -> list[str]:
    lines = [company.name, *company.address_lines]
    if company.tax_id:
        lines.append(f"{labels['tax_id']}: {company.tax_id}")
    if company.phone:
        lines.append(f"{labels['phone']}: {company.phone}")
    if company.email:
        lines.append(f"{labels['email']}: {company.email}")
    return lines


def _meta(doc: _Doc, loc: str, labels: dict[str, str]) -> list[tuple[str, str]]:
    found = []
    if doc.quote_id:
        found.append((labels["quote_no"], doc.quote_id))
    if doc.revision:
        found.append((labels["revision"], str(doc.revision)))
    found.append((labels["date"], format_date(doc.priced.priced_at, format="long", locale=loc)))
    if doc.valid_until is not None:
        found.append(
            (labels["valid_until"], format_date(doc.valid_until, format="long", locale=loc))
        )
    if doc.customer_name:
        found.append((labels["customer"], doc.customer_name))
    return found


def _check_company(company: object) -> CompanyHeader:
    if not isinstance(company, CompanyHeader):
        raise ValidationError(
            f"must be a CompanyHeader, not {type(company).__name__}", path="company"
        )
    return company


def _heads(labels: dict[str, str]) -> list[str]:
    return [
        "#",
        labels["item"],
        labels["quantity"],
        labels["unit_price"],
        labels["discount"],
        labels["amount"],
    ]


@attrs.frozen
class _Content:
    """What a quote document shows, built once and laid out by each format (text, HTML, PDF).

    ``rows`` hold seven cells: number, item, quantity, unit price, discount, amount and the
    names of the line's discounts (empty when none); ``header`` starts with the company name.
    """

    locale: str
    labels: dict[str, str]
    doc: _Doc
    header: list[str]
    meta: list[tuple[str, str]]
    heads: list[str]
    rows: list[list[str]]
    totals: list[tuple[str, str]]


def _content(
    document: Quote | PricedQuote,
    company: object,
    locale: str,
    quote_id: str | None,
    customer_name: str | None,
    valid_until: datetime | None,
) -> _Content:
    checked = _check_company(company)
    loc, labels = _labels(locale)
    doc = _document(document, quote_id, customer_name, valid_until)
    return _Content(
        locale=loc,
        labels=labels,
        doc=doc,
        header=_header(doc, checked, loc, labels),
        meta=_meta(doc, loc, labels),
        heads=_heads(labels),
        rows=_rows(doc, loc, labels),
        totals=_totals(doc, loc, labels),
    )


def render_text(
    document: Quote | PricedQuote,
    *,
    company: CompanyHeader,
    locale: str,
    quote_id: str | None = None,
    customer_name: str | None = None,
    valid_until: datetime | None = None,
) -> str:
    """Render a priced quote as a plain-text document in ``locale``.

    Give a priced :class:`~crmkit.pricing.Quote` (its id, revision and validity are used) or a
    :class:`~crmkit.pricing.engine.PricedQuote` with the details as keywords.

    Example:
        >>> from crmkit.pricing.engine import _example
        >>> text = render_text(_example(), company=CompanyHeader(name="Formosa Tea"),
        ...                    locale="zh_Hans_CN")
        >>> "报价单" in text and "总计（含税）" in text
        True

    .. versionadded:: 0.1.0
    """
    content = _content(document, company, locale, quote_id, customer_name, valid_until)
    out = list(content.header)
    out += ["", content.labels["quotation"]]
    out += [f"{k}: {val}" for k, val in content.meta]
    out.append("")
    heads, rows = content.heads, content.rows
    widths = [max(_width(r[c]) for r in [heads, *rows]) + 2 for c in range(len(heads))]
    out.append("".join(_pad(h, w) for h, w in zip(heads, widths, strict=True)).rstrip())
    for row in rows:
        out.append("".join(_pad(c, w) for c, w in zip(row[:6], widths, strict=True)).rstrip())
        if row[6]:
            out.append(" " * widths[0] + row[6])
    out.append("")
    totals = content.totals
    width = max(_width(k) for k, _ in totals) + 2
    out += [_pad(k, width) + val for k, val in totals]
    return "\n".join(out) + "\n"


_STYLE = (
    "body{font-family:'Noto Sans TC','Noto Sans SC','PingFang TC','Microsoft JhengHei',"
    "sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}"
    "th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}"
    "td.n{text-align:right;white-space:nowrap}.muted{color:#666;font-size:90%}"
    ".totals td{border:none}.total td{font-weight:bold;border-top:2px solid #222}"
)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def render_html(
    document: Quote | PricedQuote,
    *,
    company: CompanyHeader,
    locale: str,
    quote_id: str | None = None,
    customer_name: str | None = None,
    valid_until: datetime | None = None,
) -> str:
    """Render a priced quote as a self-contained HTML document in ``locale``; text is escaped.

    Example:
        >>> from crmkit.pricing.engine import _example
        >>> page = render_html(_example(), company=CompanyHeader(name="A & B"), locale="en",
        ...                    customer_name="<script>")
        >>> "A &amp; B" in page, "<script>" in page, '<html lang="en">' in page
        (True, False, True)

    .. versionadded:: 0.1.0
    """
    content = _content(document, company, locale, quote_id, customer_name, valid_until)
    labels, doc = content.labels, content.doc
    lang = content.locale.replace("_", "-")
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{_esc(lang)}">',
        '<head><meta charset="utf-8">',
        f"<title>{_esc(labels['quotation'])} {_esc(doc.quote_id or '')}</title>",
        f"<style>{_STYLE}</style></head>",
        "<body>",
        "<header>",
    ]
    header = content.header
    parts.append(f"<h2>{_esc(header[0])}</h2>")
    parts += [f'<div class="muted">{_esc(text)}</div>' for text in header[1:]]
    parts.append("</header>")
    parts.append(f"<h1>{_esc(labels['quotation'])}</h1>")
    parts.append("<dl>")
    for key, val in content.meta:
        parts.append(f"<dt>{_esc(key)}</dt><dd>{_esc(val)}</dd>")
    parts.append("</dl>")
    parts.append(
        "<table><thead><tr>"
        + "".join(f"<th>{_esc(h)}</th>" for h in content.heads)
        + "</tr></thead><tbody>"
    )
    for row in content.rows:
        item = _esc(row[1])
        if row[6]:
            item += f'<div class="muted">{_esc(row[6])}</div>'
        cells = [
            f"<td>{_esc(row[0])}</td>",
            f"<td>{item}</td>",
            *(f'<td class="n">{_esc(c)}</td>' for c in row[2:6]),
        ]
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    parts.append('<table class="totals">')
    totals = content.totals
    for i, (key, val) in enumerate(totals):
        css = ' class="total"' if i == len(totals) - 1 else ""
        parts.append(f'<tr{css}><td>{_esc(key)}</td><td class="n">{_esc(val)}</td></tr>')
    parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
