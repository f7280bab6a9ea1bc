# ruff: noqa: RUF001
"""Formatting a dashboard for people, and its plain-text rendering for a terminal.

Everything goes through babel in the dashboard's locale and crmkit's message catalogs
(:func:`crmkit.i18n.translations`): labels, money, percentages, durations, periods and dates.
Table columns are measured in terminal cells with :func:`display_width` (East Asian wide and
fullwidth characters take two cells), so Chinese labels line up with English ones.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import attrs
from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit

from crmkit.analytics._common import Ratio
from crmkit.analytics.dashboard import (
    CustomersSection,
    Dashboard,
    LoyaltySection,
    SalesSection,
    ServiceSection,
)
from crmkit.i18n import translations
from crmkit.kernel.money import Money

DASH = "—"
_SECONDS_PER_DAY = Decimal(86400)


def display_width(text: str) -> int:
    """Terminal cells ``text`` takes: two for wide and fullwidth characters, none for marks."""
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def pad(text: str, width: int, *, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` cells (on the left when ``right``)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def shorten(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` cells, ending in ``…`` when cut."""
    if display_width(text) <= width:
        return text
    out = ""
    for char in text:
        if display_width(out + char) > width - 1:
            break
        out += char
    return out + "…"


class Formatter:
    """Labels, numbers, money, ratios, durations and periods of one dashboard, in its locale."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self.locale = dashboard.locale
        self.gettext = translations(dashboard.locale).gettext
        self.zone = ZoneInfo(dashboard.periods.time_zone)
        self._periods = {p.key: p for p in dashboard.periods.periods}

    def money(self, value: Money | None) -> str:
        return DASH if value is None else value.format(self.locale)

    def number(self, value: int | Decimal | None) -> str:
        return DASH if value is None else format_decimal(value, locale=self.locale)

    def percent(self, value: Decimal | None) -> str:
        if value is None:
            return DASH
        return format_percent(value, "#,##0.#%", locale=self.locale)

    def ratio(self, value: Ratio | None) -> str:
        """``80% (4/5)``; a dash for an empty ratio."""
        if value is None or value.value is None:
            return DASH
        return f"{self.percent(value.value)} ({value.part}/{value.whole})"

    def duration(self, value: timedelta | None) -> str:
        if value is None:
            return DASH
        seconds = Decimal(int(value.total_seconds()))
        if seconds >= _SECONDS_PER_DAY:
            days = seconds / _SECONDS_PER_DAY
            return format_unit(
                days, "duration-day", length="short", format="#,##0.#", locale=self.locale
            )
        hours = seconds / Decimal(3600)
        return format_unit(
            hours, "duration-hour", length="short", format="#,##0.#", locale=self.locale
        )

    def period(self, key: str) -> str:
        found = self._periods.get(key)
        return key if found is None else found.label(self.locale)

    def span(self) -> str:
        periods = self.dashboard.periods.periods
        first, last = periods[0].label(self.locale), periods[-1].label(self.locale)
        return first if len(periods) == 1 else f"{first} – {last}"

    def generated(self) -> str:
        at = self.dashboard.generated_at
        return format_datetime(at, "medium", tzinfo=self.zone, locale=self.locale)

    def title(self) -> str:
        return self.dashboard.title or self.gettext("Dashboard")

    def heading(self) -> str:
        d = self.dashboard
        return self.gettext("{title}: {periods} ({time_zone}), {currency}").format(
            title=self.title(),
            periods=self.span(),
            time_zone=d.periods.time_zone,
            currency=d.currency,
        )

    def flag(self, below: bool) -> str:
        return self.gettext("below the team") if below else ""

    def lifecycle(self, status: str) -> str:
        """A lifecycle status for people (an unknown one as it is stored)."""
        _ = self.gettext
        names = {
            "prospect": _("prospect"),
            "new": _("new"),
            "active": _("active"),
            "at_risk": _("at risk"),
            "churned": _("churned"),
        }
        return names.get(status, status)

    def tier(self, name: str | None, tier: str | None) -> str:
        return name or tier or self.gettext("(no tiers)")


@attrs.frozen
class Table:
    """Rows of formatted cells; ``right``: the numeric columns; ``chart``: the chart drawing it."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right: tuple[int, ...] = ()
    chart: str | None = None
    caption: str = ""
    flagged: tuple[bool, ...] = ()
    note: str | None = None


@attrs.frozen
class Section:
    """One card of the dashboard, formatted: key figures, then tables (each with its chart)."""

    id: str
    title: str
    figures: tuple[tuple[str, str], ...]
    tables: tuple[Table, ...]
    notes: tuple[str, ...]
    source: object


def _sales(f: Formatter, s: SalesSection) -> Section:
    _ = f.gettext
    target = s.target
    attained = None
    if target is not None and target.amount:
        attained = (s.total.amount / target.amount).quantize(Decimal("0.0001"))
    tables = [
        Table(
            (_("Period"), _("Won"), _("Deals"), _("Target"), _("Attainment")),
            tuple(
                (
                    f.period(r.period),
                    f.money(r.won),
                    f.number(r.deals),
                    f.money(r.target),
                    f.percent(r.attainment),
                )
                for r in s.revenue
            ),
            right=(1, 2, 3, 4),
            chart="revenue",
            caption=_("Revenue against target"),
        )
    ]
    if s.stages:
        tables.append(
            Table(
                (_("Stage"), _("Deals")),
                tuple((r.stage, f.number(r.deals)) for r in s.stages),
                right=(1,),
                chart="stages",
                caption=_("Deals by stage"),
            )
        )
    if s.reps:
        tables.append(
            Table(
                (_("Rep"), _("Won"), _("Deals won"), _("Win rate"), _("vs team"), ""),
                tuple(
                    (
                        r.owner,
                        f.money(r.won),
                        f.number(r.deals_won),
                        f.ratio(r.win_rate),
                        f.percent(r.vs_team),
                        f.flag(r.below),
                    )
                    for r in s.reps
                ),
                right=(1, 2, 3, 4),
                chart="reps",
                caption=_("Reps against the team average ({amount}, dashed line)").format(
                    amount=f.money(s.team_average)
                ),
                flagged=tuple(r.below for r in s.reps),
                note=_("Team average {amount}; flagged under {share} of it").format(
                    amount=f.money(s.team_average), share=f.percent(s.threshold)
                ),
            )
        )
    figures = (
        (_("Revenue (won)"), f.money(s.total)),
        (_("Target"), f"{f.money(target)} ({f.percent(attained)})"),
        (_("Open pipeline"), f"{f.money(s.open_pipeline)} ({s.open_deals})"),
        (_("Weighted pipeline"), f.money(s.weighted_pipeline)),
        (_("Win rate"), f.ratio(s.win_rate)),
        (_("Average deal size"), f.money(s.average_deal)),
        (_("Average sales cycle"), f.duration(s.average_cycle)),
    )
    return Section("sales", _("Sales"), figures, tuple(tables), s.notes, s)


def _service(f: Formatter, s: ServiceSection) -> Section:
    _ = f.gettext
    figures = (
        (_("Complaints"), f.number(s.complaints)),
        (_("First response within SLA"), f.ratio(s.first_response)),
        (_("Resolution within SLA"), f.ratio(s.resolution)),
        (_("Average handling time"), f.duration(s.handling)),
        (_("Reopened"), f.ratio(s.reopened)),
        (_("CSAT (1-5)"), f"{f.number(s.csat)} ({s.csat_responses})"),
    )
    tables: tuple[Table, ...] = ()
    if s.categories:
        tables = (
            Table(
                (_("Category"), _("Root cause"), _("Complaints")),
                tuple(
                    (r.category, r.root_cause or DASH, f.number(r.complaints)) for r in s.categories
                ),
                right=(2,),
                chart="complaints",
                caption=_("Complaints by category"),
            ),
        )
    return Section("service", _("Service"), figures, tables, s.notes, s)


def _loyalty(f: Formatter, s: LoyaltySection, n: int) -> Section:
    _ = f.gettext
    figures = [
        (_("Members"), f.number(s.members)),
        (_("Active members"), f.ratio(s.active)),
        (_("Outstanding points"), f.number(s.outstanding)),
        (_("Liability"), f.money(s.liability)),
    ]
    if s.repeat_members is not None:
        figures.append((_("Repeat purchase, members"), f.ratio(s.repeat_members)))
        figures.append((_("Repeat purchase, others"), f.ratio(s.repeat_others)))
    tables = (
        Table(
            (_("Tier"), _("Members")),
            tuple((f.tier(r.name, r.tier), f.number(r.members)) for r in s.tiers),
            right=(1,),
            chart=f"tiers{n}",
            caption=_("Members per tier"),
        ),
        Table(
            (_("Period"), _("Issued"), _("Redeemed"), _("Expired")),
            tuple(
                (f.period(r.period), f.number(r.issued), f.number(r.redeemed), f.number(r.expired))
                for r in s.points
            ),
            right=(1, 2, 3),
            chart=f"points{n}",
            caption=_("Points issued, redeemed and expired"),
        ),
    )
    title = _("Loyalty: {program}").format(program=s.name)
    return Section(f"loyalty-{n}", title, tuple(figures), tables, s.notes, s)


def _customers(f: Formatter, s: CustomersSection) -> Section:
    _ = f.gettext
    tables = []
    if s.segments:
        tables.append(
            Table(
                (_("Segment"), _("Customers")),
                tuple((r.name, f.number(r.customers)) for r in s.segments),
                right=(1,),
                chart="segments",
                caption=_("Customers per segment"),
            )
        )
    if s.lifecycle:
        tables.append(
            Table(
                (_("Lifecycle"), _("Customers")),
                tuple((f.lifecycle(r.name), f.number(r.customers)) for r in s.lifecycle),
                right=(1,),
            )
        )
    figures = ((_("Customers"), f.number(s.customers)),)
    return Section("customers", _("Customers"), figures, tuple(tables), (), s)


def sections(f: Formatter) -> list[Section]:
    """The dashboard's cards that have something to show, in order."""
    d = f.dashboard
    found = [] if d.sales is None else [_sales(f, d.sales)]
    if d.service is not None:
        found.append(_service(f, d.service))
    found.extend(_loyalty(f, program, n) for n, program in enumerate(d.loyalty))
    if d.customers is not None:
        found.append(_customers(f, d.customers))
    return found


def _table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int], width: int | None
) -> list[str]:
    """An aligned table (header underlined when there is one); ``right``: right-aligned columns."""
    body = [list(r) for r in [*([header] if header else []), *rows]]
    columns = max(len(r) for r in body)
    widths = [max(display_width(r[c]) for r in body) for c in range(columns)]
    if width is not None:
        while sum(widths) + 2 * (columns - 1) > width and max(widths) > 4:
            widths[widths.index(max(widths))] -= 1
    lines = []
    for i, r in enumerate(body):
        cells = [
            pad(shorten(cell, widths[c]), widths[c], right=c in right) for c, cell in enumerate(r)
        ]
        lines.append("  ".join(cells).rstrip())
        if header and i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def render_text(dashboard: Dashboard, *, width: int | None = None) -> str:
    """The whole dashboard as text lines, ending with a newline."""
    f = Formatter(dashboard)
    _ = f.gettext
    lines = [f.heading(), _("Figures as of {when}").format(when=f.generated())]
    cards = sections(f)
    for card in cards:
        lines += ["", card.title, "=" * display_width(card.title)]
        lines += _table((), card.figures, (), width)
        for table in card.tables:
            if table.rows:
                lines += ["", *_table(table.header, table.rows, table.right, width)]
            if table.note:
                lines.append(table.note)
    if not cards:
        lines += ["", _("Nothing recorded in these periods yet.")]
    return "\n".join(lines) + "\n"
