"""The dashboard as one self-contained HTML page with static SVG charts (matplotlib).

The charts are drawn with matplotlib's object API (:class:`matplotlib.figure.Figure` and its
SVG canvas): no pyplot, no GUI backend, no global backend switch, nothing at import. Text in
the charts is kept as SVG ``<text>`` (``svg.fonttype: none``) so the browser draws it with the
reader's fonts; matplotlib only measures it. When no font matplotlib knows has CJK glyphs
(``fc-list :lang=zh`` empty), labels are measured with DejaVu Sans, the "missing glyph"
warnings are silenced, and the labels still show in the browser (slightly differently spaced).

The page has no script, no external URL (no web font, no CDN), a viewport meta tag, and CSS
that stacks the cards and scales the charts (``max-width: 100%``) on a phone.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache
from html import escape
from typing import TYPE_CHECKING, Any

from babel.numbers import format_compact_decimal

from crmkit.analytics._dashboard_text import Formatter, Section, Table, display_width, sections
from crmkit.analytics.dashboard import (
    CustomersSection,
    Dashboard,
    LoyaltySection,
    SalesSection,
    ServiceSection,
)
from crmkit.errors import MissingDependencyError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# Colour-blind-safe (Okabe-Ito) hues.
BLUE, ORANGE, GREEN, GREY, RED = "#0072B2", "#E69F00", "#009E73", "#8C8C8C", "#D55E00"

_CJK_FAMILIES = (
    "Noto Sans CJK TC",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Sans TC",
    "Noto Sans SC",
    "Source Han Sans TW",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
    "AR PL UMing TW",
    "AR PL UKai TW",
)


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise MissingDependencyError.for_extra(
            "matplotlib", "report", "Dashboard.to_html (charts)"
        ) from exc


@cache
def cjk_fonts() -> tuple[str, ...]:
    """The CJK font families matplotlib can measure with, best first (may be empty)."""
    from matplotlib import font_manager

    known = {font.name for font in font_manager.fontManager.ttflist}
    return tuple(name for name in _CJK_FAMILIES if name in known)


def _rc(salt: str) -> Any:
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": salt,
        "svg.id": f"chart-{salt}",
        "font.family": ["sans-serif"],
        "font.sans-serif": [*cjk_fonts(), "DejaVu Sans"],
        "font.size": 11,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.edgecolor": GREY,
        "axes.titlesize": 11,
        "xtick.color": "#333333",
        "ytick.color": "#333333",
    }


_WIDTH = 5.6  # inches; the page scales the SVG to its card


def _svg(
    salt: str, height: float, draw: Callable[[Axes], None], *, left: float = 0.6, top: float = 0.15
) -> str:
    """Draw one chart and return its ``<svg>`` element, ids unique per ``salt``.

    Margins are fixed (``left`` inches for the labels) rather than computed by a layout
    engine, which would draw every chart twice.
    """
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_rc(salt)), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from font")
        figure = Figure(figsize=(_WIDTH, height))
        figure.subplots_adjust(
            left=left / _WIDTH, right=1 - 0.2 / _WIDTH, bottom=0.45 / height, top=1 - top / height
        )
        FigureCanvasSVG(figure)
        draw(figure.add_subplot())
        buffer = io.StringIO()
        figure.savefig(
            buffer,
            format="svg",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    text = buffer.getvalue()
    return _scoped_ids(text[text.index("<svg") :].strip(), salt)


_ID = re.compile(r'(\sid="|xlink:href="#|href="#|url\(#)([^"()]+)')


def _scoped_ids(svg: str, salt: str) -> str:
    """Prefix every element id, and every reference to one, with ``salt``.

    matplotlib numbers its groups ``figure_1``, ``axes_1``... in every chart; ids must be
    unique in a page.
    """
    root = f'id="chart-{salt}"'
    scoped = _ID.sub(lambda m: f"{m.group(1)}{salt}-{m.group(2)}", svg)
    return scoped.replace(f'id="{salt}-chart-{salt}"', root, 1)


def _compact(f: Formatter, axis: Any) -> None:
    """Whole-number ticks on ``axis``, written short in the locale (``20K``, ``2萬``)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    def tick(value: float, _position: int) -> str:
        rounded = Decimal(round(value))
        return str(format_compact_decimal(rounded, locale=f.locale, fraction_digits=1))

    axis.set_major_locator(MaxNLocator(nbins=6, integer=True, min_n_ticks=1))
    axis.set_major_formatter(FuncFormatter(tick))


def _hbar(
    f: Formatter,
    salt: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    colors: Sequence[str] | None = None,
    line: float | None = None,
) -> str:
    """Horizontal bars, first label on top; ``line`` marks a value (e.g. the team average)."""

    def draw(ax: Axes) -> None:
        positions = list(range(len(labels)))[::-1]
        ax.barh(positions, values, color=list(colors or [BLUE] * len(values)), height=0.6)
        ax.set_yticks(positions, labels=list(labels))
        _compact(f, ax.xaxis)
        if line is not None:
            ax.axvline(line, color=RED, linestyle="--", linewidth=1.2)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)

    # 11 pt text: about 0.085 in per terminal cell of the longest label, plus the ticks.
    longest = max((display_width(label) for label in labels), default=4)
    left = min(2.4, 0.25 + 0.085 * longest)
    return _svg(salt, 0.9 + 0.38 * max(len(labels), 1), draw, left=left)


def _legend(ax: Axes) -> None:
    """The legend in one row above the plot, where it covers no bar."""
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncol=3, frameon=False, borderaxespad=0)


def _revenue_chart(f: Formatter, s: SalesSection) -> str:
    _ = f.gettext

    def draw(ax: Axes) -> None:
        labels = [f.period(r.period) for r in s.revenue]
        x = list(range(len(labels)))
        ax.bar(x, [float(r.won.amount) for r in s.revenue], color=BLUE, width=0.6, label=_("Won"))
        targets = [(i, float(r.target.amount)) for i, r in enumerate(s.revenue) if r.target]
        if targets:
            ax.scatter(
                [i for i, _t in targets],
                [t for _i, t in targets],
                marker="_",
                s=900,
                linewidths=2.5,
                color=RED,
                label=_("Target"),
                zorder=3,
            )
        ax.set_xticks(x, labels=labels)
        _compact(f, ax.yaxis)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        _legend(ax)

    return _svg("revenue", 3.2, draw, top=0.4)


def _points_chart(f: Formatter, s: LoyaltySection, salt: str) -> str:
    _ = f.gettext

    def draw(ax: Axes) -> None:
        labels = [f.period(r.period) for r in s.points]
        series = [
            (_("Issued"), [r.issued for r in s.points], BLUE),
            (_("Redeemed"), [r.redeemed for r in s.points], GREEN),
            (_("Expired"), [r.expired for r in s.points], ORANGE),
        ]
        width = 0.8 / len(series)
        for n, (name, values, color) in enumerate(series):
            x = [i + (n - 1) * width for i in range(len(labels))]
            ax.bar(x, values, width=width, color=color, label=name)
        ax.set_xticks(list(range(len(labels))), labels=labels)
        _compact(f, ax.yaxis)
        ax.grid(axis="y", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
        _legend(ax)

    return _svg(salt, 3.2, draw, top=0.4)


_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1d1d1f;line-height:1.45;
 font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK TC",
 "PingFang TC","Microsoft JhengHei","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif}
header,main{max-width:72rem;margin:0 auto;padding:1rem}
header h1{margin:0 0 .25rem;font-size:1.5rem}
header p{margin:0;color:#555}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,30rem),1fr));gap:1rem}
section.card{background:#fff;border-radius:.75rem;padding:1rem;box-shadow:0 1px 3px #0002;
 min-width:0}
section.card h2{margin:0 0 .75rem;font-size:1.2rem}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.5rem;
 margin:0 0 1rem;padding:0;list-style:none}
.kpis li{background:#f4f7fb;border-radius:.5rem;padding:.5rem .75rem}
.kpis span{display:block;font-size:.8rem;color:#555}
.kpis strong{font-size:1.05rem;overflow-wrap:break-word}
figure{margin:0 0 1rem}
figure figcaption{font-weight:600;margin:0 0 .25rem}
figure svg{display:block;max-width:100%;height:auto}
figure svg text{font-family:system-ui,"Noto Sans","Noto Sans CJK TC","PingFang TC",
 "Microsoft JhengHei","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif!important}
.table{overflow-x:auto;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:.3rem .5rem;border-bottom:1px solid #e5e5e5;text-align:left;white-space:nowrap}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.flag td{background:#fff4e5}
details{font-size:.85rem;color:#555}
details li{margin:.25rem 0}
footer{max-width:72rem;margin:0 auto;padding:0 1rem 2rem;color:#777;font-size:.8rem}
"""


def _kpis(items: Sequence[tuple[str, str]]) -> str:
    cells = "".join(
        f"<li><span>{escape(name)}</span><strong>{escape(value)}</strong></li>"
        for name, value in items
    )
    return f'<ul class="kpis">{cells}</ul>'


def _table(table: Table) -> str:
    def cell(tag: str, c: int, text: str) -> str:
        kind = ' class="num"' if c in table.right else ""
        return f"<{tag}{kind}>{escape(text)}</{tag}>"

    head = "".join(cell("th", c, h) for c, h in enumerate(table.header))
    body = "".join(
        ('<tr class="flag">' if table.flagged and table.flagged[i] else "<tr>")
        + "".join(cell("td", c, text) for c, text in enumerate(row))
        + "</tr>"
        for i, row in enumerate(table.rows)
    )
    html = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f'<div class="table">{html}</div>'


def _chart(f: Formatter, name: str, source: object) -> str:
    """The SVG of the chart ``name`` over its section's data (``source``)."""
    if isinstance(source, SalesSection):
        if name == "revenue":
            return _revenue_chart(f, source)
        if name == "stages":
            return _hbar(
                f, name, [r.stage for r in source.stages], [r.deals for r in source.stages]
            )
        return _hbar(
            f,
            name,
            [r.owner for r in source.reps],
            [float(r.won.amount) for r in source.reps],
            colors=[ORANGE if r.below else BLUE for r in source.reps],
            line=float(source.team_average.amount),
        )
    if isinstance(source, ServiceSection):
        per_category = source.per_category
        return _hbar(f, name, [c for c, _n in per_category], [n for _c, n in per_category])
    if isinstance(source, LoyaltySection):
        if name.startswith("tiers"):
            labels = [f.tier(r.name, r.tier) for r in source.tiers]
            return _hbar(f, name, labels, [r.members for r in source.tiers])
        return _points_chart(f, source, name)
    assert isinstance(source, CustomersSection)
    return _hbar(f, name, [r.name for r in source.segments], [r.customers for r in source.segments])


def _card(f: Formatter, card: Section) -> str:
    parts = [f"<h2>{escape(card.title)}</h2>", _kpis(card.figures)]
    for table in card.tables:
        if table.chart is not None:
            svg = _chart(f, table.chart, card.source)
            parts.append(
                f'<figure class="chart" data-chart="{escape(table.chart)}">'
                f"<figcaption>{escape(table.caption)}</figcaption>{svg}</figure>"
            )
        parts.append(_table(table))
    if card.notes:
        items = "".join(f"<li>{escape(note)}</li>" for note in card.notes)
        _ = f.gettext
        summary = escape(_("How these were computed"))
        parts.append(f"<details><summary>{summary}</summary><ul>{items}</ul></details>")
    return f'<section class="card" id="{escape(card.id)}">' + "".join(parts) + "</section>"


def _lang(locale: str) -> str:
    """The BCP 47 tag of a babel locale: ``zh_Hant_TW`` is ``zh-Hant-TW``."""
    return locale.replace("_", "-")


def render_html(dashboard: Dashboard) -> str:
    """The whole page."""
    _require_matplotlib()
    f = Formatter(dashboard)
    _ = f.gettext
    cards = [_card(f, card) for card in sections(f)]
    if not cards:
        nothing = escape(_("Nothing recorded in these periods yet."))
        cards.append(f'<section class="card"><p>{nothing}</p></section>')
    subtitle = f"{f.span()} ({dashboard.periods.time_zone}), {dashboard.currency}"
    when = _("Figures as of {when}").format(when=f.generated())
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(_lang(dashboard.locale))}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(f.title())}: {escape(f.span())}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{escape(f.title())}</h1><p>{escape(subtitle)}</p></header>\n"
        "<main>\n" + "\n".join(cards) + "\n</main>\n"
        f"<footer>{escape(when)}</footer>\n</body>\n</html>\n"
    )
