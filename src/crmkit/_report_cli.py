"""``crmkit report``: the dashboard of a SQLite database, as a terminal table and HTML or JSON.

``crmkit report --database crm.db [--html out.html] [--json out.json] [--locale zh_Hant_TW]``
prints :meth:`~crmkit.analytics.dashboard.Dashboard.to_text` for the last ``--months`` months
(default 3) up to ``--end`` (a month, ``YYYY-MM``; default the current one) in ``--time-zone``.
Totals are in ``--currency``; without it, the currency of the deals (or of the first loyalty
program) is used, and a store with deals in several currencies must name one. ``--target
2026-03=100000`` (repeatable) sets a month's revenue target.

Example:
    >>> parse_target("2026-03=150000.50", "TWD")
    ('2026-03', Money('150000.50', 'TWD'))

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import argparse
import re
import shutil
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from crmkit.errors import ValidationError
from crmkit.kernel.money import Money

if TYPE_CHECKING:
    from crmkit.analytics import Periods
    from crmkit.analytics.dashboard import Dashboard
    from crmkit.app._crm import CRM

__all__ = ["add_arguments", "parse_target", "run_report", "write_dashboard"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def add_arguments(report: argparse.ArgumentParser, locales: tuple[str, ...]) -> None:
    """The options of ``crmkit report``."""
    report.add_argument("--database", metavar="PATH", required=True, help="the SQLite file")
    report.add_argument("--html", metavar="FILE", help="also write the dashboard as HTML")
    report.add_argument("--json", metavar="FILE", help="also write the dashboard as JSON")
    report.add_argument(
        "--locale", choices=locales, default="en", help="locale for labels, money and dates"
    )
    report.add_argument("--currency", help="currency of the totals (default: the deals')")
    report.add_argument("--months", type=int, default=3, help="how many months (default 3)")
    report.add_argument("--end", metavar="YYYY-MM", help="the last month (default: this one)")
    report.add_argument("--time-zone", default="UTC", help="IANA zone of the months (default UTC)")
    report.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="YYYY-MM=AMOUNT",
        help="a month's revenue target, in the report's currency (repeatable)",
    )
    report.add_argument("--title", help="the dashboard's title")


def parse_target(text: str, currency: str) -> tuple[str, Money]:
    """``YYYY-MM=AMOUNT`` as a period key and an amount in ``currency``."""
    key, sep, amount = text.partition("=")
    if not sep or not _MONTH.match(key.strip()):
        raise ValidationError(
            f"{text!r} is not YYYY-MM=AMOUNT (e.g. 2026-03=150000)", path="target"
        )
    try:
        return key.strip(), Money(amount.strip(), currency)
    except ValidationError as exc:
        raise ValidationError(f"{text!r}: {exc}", path="target") from None


def _end(text: str | None, today: date) -> date:
    if text is None:
        return today.replace(day=1)
    found = _MONTH.match(text)
    if not found or not 1 <= int(found.group(2)) <= 12:
        raise ValidationError(f"{text!r} is not a month YYYY-MM (e.g. 2026-03)", path="end")
    return date(int(found.group(1)), int(found.group(2)), 1)


def _currency(crm: CRM, periods: Periods) -> str:
    """The one currency of the deals in ``periods`` (counted by the store), else ``USD``.

    Without deals, the first loyalty program's currency is used when there is one.
    """
    from crmkit.app.triggers import scan

    facts = crm.analytics.sales_facts(periods)
    seen = {group.currency for group in facts.groups if group.currency is not None}
    if len(seen) > 1:
        raise ValidationError(
            f"the deals are in {', '.join(sorted(seen))}: choose the report's currency with "
            "--currency",
            path="currency",
        )
    if seen:
        return seen.pop()
    with crm.store.unit_of_work() as uow:
        programs = [p.currency for p in scan(uow.loyalty_programs)]
    return programs[0] if programs else "USD"


def write_dashboard(
    dashboard: Dashboard,
    out: TextIO,
    *,
    html: Path | None = None,
    json: Path | None = None,
    width: int | None = None,
) -> None:
    """Print ``dashboard`` as a table on ``out``, and write the HTML and JSON files asked for."""
    out.write(dashboard.to_text(width=width))
    from crmkit.i18n import translations

    _ = translations(dashboard.locale).gettext
    if json is not None:
        json.write_text(dashboard.to_json() + "\n", encoding="utf-8")
        print(_("Wrote the dashboard as JSON to {path}").format(path=json), file=out)
    if html is not None:
        html.write_text(dashboard.to_html(), encoding="utf-8")
        print(_("Wrote the dashboard as HTML to {path}").format(path=html), file=out)


def run_report(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``crmkit report`` with parsed ``args``; 0 on success."""
    from crmkit import bootstrap
    from crmkit.analytics import Periods
    from crmkit.app.dashboard import build_dashboard

    path = Path(args.database)
    if not path.is_file():
        raise ValidationError(
            f"{args.database} does not exist; give the SQLite file of a crmkit store "
            "(crmkit demo --database crm.db makes one)",
            path="database",
        )
    crm = bootstrap(database=path)
    try:
        periods = Periods.ending(
            _end(args.end, crm.clock.now().date()), args.months, time_zone=args.time_zone
        )
        currency = args.currency or _currency(crm, periods)
        targets = dict(parse_target(text, currency) for text in args.target)
        dashboard = build_dashboard(
            crm,
            periods,
            currency=currency,
            locale=args.locale,
            targets=targets or None,
            title=args.title,
        )
        width = shutil.get_terminal_size((100, 24)).columns
        write_dashboard(
            dashboard,
            out,
            html=None if args.html is None else Path(args.html),
            json=None if args.json is None else Path(args.json),
            width=width,
        )
    finally:
        close = getattr(crm.store, "close", None)
        if callable(close):
            close()
    return 0
