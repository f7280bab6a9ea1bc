"""Quote documents as PDF, through the optional ``pdf`` extra (ReportLab); CJK text included.

:func:`render_pdf` lays out the same document as :func:`~crmkit.pricing.render.render_html`
(header, quote details, one row per line with its discounts, totals) on A4 pages: the lines
table repeats its heading on every page, the totals stay together on the last one, and each page
is numbered ``n / total``. Install the extra with ``pip install "crmkit[pdf]"``; importing this
module does not need it, calling :func:`render_pdf` without it raises
:class:`~crmkit.errors.MissingDependencyError`.

Fonts need no font file: the PDF names fonts PDF viewers provide (Helvetica, one of the standard
14, and Adobe's CJK fonts, for which viewers use the CJK fonts they have). Chinese text in a
``zh_Hant_*`` quote is set in ``MSung-Light`` (Traditional), in a ``zh_Hans_*`` quote in
``STSong-Light`` (Simplified); Latin text and numbers are set in Helvetica in every locale. Any
text a font cannot show goes to the next font that can: an English quote for 林小姐 of 台北市
shows her name in ``MSung-Light``, a Simplified name such as 张伟 in a Traditional quote is set
in ``STSong-Light``, Korean in ``HYSMyeongJo-Medium`` and Japanese kana in ``HeiseiMin-W3``.
What a font can show is the character collection of its Unicode CMap (Adobe-CNS1, -GB1,
-Japan1, -Korea1). As the fonts are not embedded, the document is small (a few kilobytes) and
its text can be searched and copied; the glyphs' design is the viewer's. A character none of
these fonts has (the rupee, dong and peso signs, emoji, characters beyond the BMP) shows as a
missing glyph.

The same input gives the same bytes (the creation date and the document id written are fixed
ones), so a document can be stored, compared and hashed.

Example:
    >>> from crmkit.pricing.engine import _example
    >>> from crmkit.pricing.render import CompanyHeader
    >>> pdf = render_pdf(_example(), company=CompanyHeader(name="Formosa Tea Co."),
    ...                  locale="zh_Hant_TW", quote_id="Q-0042")
    >>> pdf[:5], pdf.rstrip().endswith(b"%%EOF")
    (b'%PDF-', True)

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import functools
import io
import itertools
import threading
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, cast
from xml.sax.saxutils import escape

from crmkit.errors import MissingDependencyError
from crmkit.pricing.render import CompanyHeader, _Content, _content

if TYPE_CHECKING:
    from crmkit.pricing._model import Quote
    from crmkit.pricing.engine import PricedQuote

__all__ = ["render_pdf"]


# ----- fonts -------------------------------------------------------------------------------------

_LATIN = "Helvetica"
_LATIN_BOLD = "Helvetica-Bold"
_TRADITIONAL = "MSung-Light"
_SIMPLIFIED = "STSong-Light"
_JAPANESE = "HeiseiMin-W3"
_KOREAN = "HYSMyeongJo-Medium"

#: Each CJK font: the horizontal Unicode CMap of its character collection, and the Python codec
#: whose repertoire approximates that collection from below, less the characters the codec has
#: and the CMap does not map (found by comparing each codec with Adobe's CMap over the BMP).
#: A character outside goes to the next font that has it; approximating from below only moves
#: a few rare characters to another font, never leaves one blank.
_CJK: dict[str, tuple[str, str, frozenset[str]]] = {
    _TRADITIONAL: (
        "UniCNS-UCS2-H",
        "cp950",
        frozenset("\x7f\xaf\u02c9\u02cd\u2027\u2215\u2295\u2299\u2574\ufe51\ufe68\uff5e")
        | frozenset("\uffe0\uffe1\uffe3\uffe5"),
    ),
    _SIMPLIFIED: (
        "UniGB-UCS2-H",
        "gbk",
        frozenset("\x7f\xb7\u0144\u0148\u0251\u0261\uf979\uf995\uf9e7\uf9f1\ufa0c")
        | frozenset(chr(c) for c in range(0xFE31, 0xFE45) if c != 0xFE32),
    ),
    _JAPANESE: ("UniJIS-UCS2-H", "cp932", frozenset("\x7f\x80")),
    _KOREAN: (
        "UniKS-UCS2-H",
        "cp949",
        frozenset("\x7f\xad\xae\xb7\u02d0\u2015\u20ac\u223c\u226a\u226b\u2299"),
    ),
}

#: The CJK fonts to try, in order, for each supported locale. Latin text is set in Helvetica
#: in every locale: its widths are standard, so the fonts a viewer puts in its place (Arial,
#: Liberation Sans, Nimbus Sans) space it evenly, which a CJK font's Latin letters do not get.
_CHAINS: dict[str, tuple[str, ...]] = {
    "zh_Hant_TW": (_TRADITIONAL, _SIMPLIFIED, _JAPANESE, _KOREAN),
    "zh_Hans_CN": (_SIMPLIFIED, _TRADITIONAL, _JAPANESE, _KOREAN),
    "en": (_TRADITIONAL, _SIMPLIFIED, _JAPANESE, _KOREAN),
}

_REGISTERED = threading.Lock()
_registered: list[bool] = []
#: ReportLab writes a CID font's PDF objects from a dictionary it shares between documents, so
#: two documents built at once could trade entries; one document is built at a time.
_BUILDING = threading.Lock()


def _font_name(face: str) -> str:
    """The name crmkit registers a CJK face under (ReportLab's own registry stays untouched)."""
    return face if face in (_LATIN, _LATIN_BOLD) else f"crmkit-{face}"


def _register_fonts() -> None:
    """Register the four CJK fonts with ReportLab once, each with the CMap of its collection.

    ReportLab (through 5.1 at least) gives ``MSung-Light`` the ``UniGB-UCS2-H`` CMap, which is
    for the Simplified (Adobe-GB1) collection; viewers then show nothing (poppler: "Unknown
    CMap 'UniGB-UCS2-H' for character collection 'Adobe-CNS1'") or wrong glyphs. Each font
    here is given the CMap of its own collection, under a crmkit name, so a font registered
    by the host under the plain face name is neither replaced nor used.
    """
    with _REGISTERED:
        if _registered:
            return
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import CIDEncoding, UnicodeCIDFont

        for face, (cmap, _codec, _missing) in _CJK.items():
            font = UnicodeCIDFont(face)
            font.encodingName = cmap
            font.encoding = CIDEncoding(cmap)
            font.name = font.fontName = _font_name(face)
            pdfmetrics.registerFont(font)
        _registered.append(True)


@functools.lru_cache(maxsize=8192)
def _covers(font: str, ch: str) -> bool:
    """Whether ``font`` can show the character ``ch``."""
    if unicodedata.category(ch) in ("Cc", "Co"):  # controls; private use, which fonts differ in
        return False
    if font == _LATIN:
        # Importing pdfmetrics registers ReportLab's codecs for the standard fonts' encodings.
        from reportlab.pdfbase import pdfmetrics  # noqa: F401

        # WinAnsi, plus the Symbol font ReportLab substitutes (the minus sign, Greek, math).
        return _encodes(ch, "winansi") or _encodes(ch, "symbol")
    if font == _SIMPLIFIED and "\u3400" <= ch <= "\u4db5":
        return True  # CJK Extension A, which GBK lacks and Adobe-GB1 has whole
    _cmap, codec, missing = _CJK[font]
    return ch not in missing and _encodes(ch, codec)


def _encodes(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


#: Characters no font here has, and the equivalent one shown instead: the won sign's fullwidth
#: form (which babel itself uses for zh_Hant) and plain spaces for the narrow ones.
_STAND_INS = {"\u20a9": "\uffe6", "\u202f": "\u00a0", "\u2009": " ", "\u2007": "\u00a0"}


def _printable(ch: str) -> str:
    """``ch``, its stand-in, a space for a control character or U+FFFD for a lone surrogate."""
    category = unicodedata.category(ch)
    if category == "Cc":
        return " "
    if category == "Cs":
        return "\ufffd"
    return _STAND_INS.get(ch, ch)


def _kind(ch: str) -> str:
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return "wide"
    return "latin" if _covers(_LATIN, ch) else "other"


def _is_kana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u30ff" or "\u31f0" <= ch <= "\u31ff" or "\uff66" <= ch <= "\uff9f"


def _runs(text: str, chain: Sequence[str]) -> list[tuple[str, str]]:
    """Split ``text`` into ``(font, piece)`` runs, each in the first font that can show it.

    Characters Helvetica has are set in Helvetica. The others are taken in stretches, wide
    (CJK) apart from the rest, and try the CJK fonts in ``chain``'s order (Japanese kana the
    Japanese font first): a stretch goes whole to the first font that shows all of it, else
    character by character; a character no font has stays in the first font tried (a few
    have a stand-in, see ``_STAND_INS``; control characters become spaces).

    Example:
        >>> _runs("Tea 台北 张伟", _CHAINS["zh_Hant_TW"])
        [('Helvetica', 'Tea '), ('MSung-Light', '台北'), ('Helvetica', ' '), ('STSong-Light', '张伟')]
    """  # noqa: E501
    out: list[tuple[str, str]] = []
    text = "".join(_printable(ch) for ch in text)
    for kind, group in itertools.groupby(text, key=_kind):
        piece = "".join(group)
        if kind == "latin":
            out.append((_LATIN, piece))
            continue
        order = tuple(chain)
        if any(_is_kana(ch) for ch in piece):
            order = (_JAPANESE, *(f for f in order if f != _JAPANESE))
        whole = next((f for f in order if all(_covers(f, ch) for ch in piece)), None)
        if whole is not None:
            out.append((whole, piece))
            continue
        for ch in piece:
            out.append((next((f for f in order if _covers(f, ch)), order[0]), ch))
    merged: list[tuple[str, str]] = []
    for font, piece in out:
        if merged and merged[-1][0] == font:
            merged[-1] = (font, merged[-1][1] + piece)
        else:
            merged.append((font, piece))
    return merged


# ----- layout ------------------------------------------------------------------------------------

_MM = 72 / 25.4
_MARGIN = 18 * _MM
_SIZE = 9.0
_LEFT: Literal[0] = 0  # reportlab.lib.enums.TA_LEFT
_RIGHT: Literal[2] = 2  # reportlab.lib.enums.TA_RIGHT
_INK = "#222222"
_GREY = "#666666"
_RULE = "#BBBBBB"


class _Writer:
    """Turns document text into ReportLab paragraphs in the fonts the locale's chain picks."""

    def __init__(self, locale: str) -> None:
        from reportlab.lib.colors import HexColor
        from reportlab.lib.styles import ParagraphStyle

        self.chain = _CHAINS.get(locale, _CHAINS["en"])
        self.styles: dict[str, Any] = {}
        styles: tuple[tuple[str, float, Literal[0, 2], str], ...] = (
            ("body", _SIZE, _LEFT, _INK),
            ("num", _SIZE, _RIGHT, _INK),
            ("muted", _SIZE - 1, _LEFT, _GREY),
            ("company", 14.0, _LEFT, _INK),
            ("title", 18.0, _LEFT, _INK),
            ("total", _SIZE + 2, _LEFT, _INK),
            ("total_num", _SIZE + 2, _RIGHT, _INK),
        )
        for name, size, align, color in styles:
            self.styles[name] = ParagraphStyle(
                name,
                fontName=_LATIN,
                fontSize=size,
                leading=size * 1.3,
                alignment=align,
                textColor=HexColor(color),
            )

    def markup(self, text: str, *, bold: bool = False) -> str:
        parts = []
        for font, piece in _runs(text, self.chain):
            face = _LATIN_BOLD if bold and font == _LATIN else _font_name(font)
            parts.append(f'<font face="{face}">{escape(piece)}</font>')
        return "".join(parts)

    def para(self, text: str, style: str = "body", *, bold: bool = False) -> Any:
        from reportlab.platypus import Paragraph

        return Paragraph(self.markup(text, bold=bold), self.styles[style])

    def width(self, text: str, size: float = _SIZE, *, bold: bool = False) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        total = 0.0
        for font, piece in _runs(text, self.chain):
            face = _LATIN_BOLD if bold and font == _LATIN else _font_name(font)
            total += stringWidth(piece, face, size)
        return total

    def draw(self, canvas: Any, x: float, y: float, text: str, size: float) -> None:
        """Draw ``text`` ending at ``x`` (right-aligned) on ``canvas``."""
        x -= self.width(text, size)
        for font, piece in _runs(text, self.chain):
            canvas.setFont(_font_name(font), size)
            canvas.drawString(x, y, piece)
            x += canvas.stringWidth(piece, _font_name(font), size)


def _column_widths(writer: _Writer, content: _Content, available: float) -> list[float]:
    """Fit the number columns to their widest cell; the item column takes what is left."""
    pad = 14.0  # the cell padding (6 + 6) and a little air
    widths = []
    for col in (0, 2, 3, 4, 5):
        head = writer.width(content.heads[col], bold=True)
        widths.append(max([head, *(writer.width(row[col]) for row in content.rows)]) + pad)
    item = available - sum(widths)
    least = 45 * _MM
    if item < least:
        scale = (available - least) / sum(widths)
        widths = [w * scale for w in widths]
        item = least
    return [widths[0], item, *widths[1:]]


def _story(writer: _Writer, content: _Content, available: float) -> list[Any]:
    from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

    story: list[Any] = [writer.para(content.header[0], "company")]
    story += [writer.para(line, "muted") for line in content.header[1:]]
    story += [Spacer(1, 6 * _MM), writer.para(content.labels["quotation"], "title")]
    story.append(Spacer(1, 3 * _MM))
    if content.meta:
        label_width = max(writer.width(k) for k, _ in content.meta) + 10
        meta = Table(
            [[writer.para(k, "muted"), writer.para(v)] for k, v in content.meta],
            colWidths=[label_width, available - label_width],
            splitInRow=1,
            hAlign="LEFT",
        )
        meta.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), *_tight()]))
        story.append(meta)
    story.append(Spacer(1, 5 * _MM))

    heads = [
        writer.para(h, "num" if col >= 2 else "body", bold=True)
        for col, h in enumerate(content.heads)
    ]
    body: list[list[Any]] = [heads]
    for row in content.rows:
        item: list[Any] = [writer.para(row[1])]
        if row[6]:
            item.append(writer.para(row[6], "muted"))
        body.append([writer.para(row[0]), item, *(writer.para(cell, "num") for cell in row[2:6])])
    lines = Table(
        body, colWidths=_column_widths(writer, content, available), repeatRows=1, splitInRow=1
    )
    lines.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, _INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.3, _RULE),
                ("BACKGROUND", (0, 0), (-1, 0), "#F2F2F2"),
            ]
        )
    )
    story += [lines, Spacer(1, 4 * _MM)]

    last = len(content.totals) - 1
    rows = [
        [
            writer.para(key, "total" if i == last else "body", bold=i == last),
            writer.para(value, "total_num" if i == last else "num", bold=i == last),
        ]
        for i, (key, value) in enumerate(content.totals)
    ]
    key_width = max(writer.width(k, _SIZE + 2, bold=True) for k, _ in content.totals) + 16
    value_width = max(writer.width(v, _SIZE + 2, bold=True) for _, v in content.totals) + 16
    totals = Table(rows, colWidths=[key_width, value_width], hAlign="RIGHT")
    totals.setStyle(TableStyle([("LINEABOVE", (0, last), (-1, last), 1.0, _INK), *_tight()]))
    story.append(KeepTogether([totals]))
    return story


def _tight() -> list[tuple[Any, ...]]:
    return [("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]


def _canvas_maker(writer: _Writer, footer: str, right: float) -> Any:
    """A canvas that numbers every page ``n / total`` once the total is known."""
    from reportlab.pdfgen.canvas import Canvas

    class _Numbered(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - ReportLab's name
            self._pages.append(dict(self.__dict__))
            cast("Any", self)._startPage()  # a fresh page, as Canvas.showPage leaves it

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self.setFillColor(_GREY)
                text = f"{footer}  {number} / {total}".strip()
                writer.draw(self, right, 10 * _MM, text, _SIZE - 1)
                super().showPage()
            super().save()

    return _Numbered


def _build(content: _Content) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    _register_fonts()
    writer = _Writer(content.locale)
    buffer = io.BytesIO()
    quote_id = content.doc.quote_id or ""
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN + 4 * _MM,
        title=f"{content.labels['quotation']} {quote_id}".strip(),
        author=content.header[0],
        subject=content.labels["quotation"],
        creator="crmkit",
        lang=content.locale.replace("_", "-"),
        invariant=1,
    )
    available = A4[0] - 2 * _MARGIN
    story = _story(writer, content, available)
    with _BUILDING:
        template.build(story, canvasmaker=_canvas_maker(writer, quote_id, A4[0] - _MARGIN))
    return buffer.getvalue()


def render_pdf(
    document: Quote | PricedQuote,
    *,
    company: CompanyHeader,
    locale: str,
    quote_id: str | None = None,
    customer_name: str | None = None,
    valid_until: datetime | None = None,
) -> bytes:
    """Render a priced quote as a PDF document in ``locale``; needs ``crmkit[pdf]``.

    The arguments are those of :func:`~crmkit.pricing.render.render_html`: a priced
    :class:`~crmkit.pricing.Quote` (its id, revision and validity are used) or a
    :class:`~crmkit.pricing.engine.PricedQuote` with the details as keywords. The document shows
    the same texts, amounts and labels as the HTML one. Raises
    :class:`~crmkit.errors.MissingDependencyError` when ReportLab is not installed,
    :class:`~crmkit.errors.ValidationError` for a bad ``company`` or ``locale`` and
    :class:`~crmkit.errors.RuleViolation` for an unpriced quote.

    Example:
        >>> from crmkit.pricing.engine import _example
        >>> from crmkit.pricing.render import CompanyHeader
        >>> company = CompanyHeader(name="Formosa Tea Co.", address_lines=["台北市信義路 1 號"])
        >>> pdf = render_pdf(_example(), company=company, locale="en", customer_name="林小姐")
        >>> pdf.startswith(b"%PDF-"), b"/MSung-Light" in pdf, b"/Helvetica" in pdf
        (True, True, True)
        >>> pdf == render_pdf(_example(), company=company, locale="en", customer_name="林小姐")
        True

    .. versionadded:: 0.1.0
    """
    try:
        import reportlab  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError.for_extra("reportlab", "pdf", "render_pdf") from exc
    content = _content(document, company, locale, quote_id, customer_name, valid_until)
    return _build(content)
