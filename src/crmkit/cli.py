"""The ``crmkit`` command: ``crmkit --version``, ``crmkit demo`` and ``crmkit dispatch``.

``crmkit demo`` tells a short story on the embedded SQLite store: two customers (one in Taipei,
one in Shanghai), their contacts and interactions, an amount of money formatted for a locale, and
a refused command that stores nothing. It uses a fixed clock and predictable ids, so the output
is the same on every run. Without ``--database`` it works in a new file in a temporary directory
that is deleted afterwards; with ``--database PATH`` it writes a new file at PATH and keeps it.

``crmkit dispatch --database PATH --subscriptions FILE.json`` runs the notification dispatcher
(:mod:`crmkit.app.dispatch`) on a SQLite database: one pass, or ``--follow`` to keep going
every ``--interval`` seconds until interrupted. ``--failed`` lists failed deliveries and
``--replay KEY`` sends one again. Notifiers come from environment variables, so no secret is
on the command line: ``CRMKIT_SMTP_HOST``, ``CRMKIT_SMTP_PORT``, ``CRMKIT_SMTP_SENDER``,
``CRMKIT_SMTP_USERNAME``, ``CRMKIT_SMTP_PASSWORD``, ``CRMKIT_SMTP_STARTTLS`` (``1``/``0``) for
the ``email`` channel, ``CRMKIT_WEBHOOK_URL`` and ``CRMKIT_WEBHOOK_SECRET`` for ``webhook``;
a channel with none configured is written to the log instead.

Exit status: 0 on success, 1 when crmkit refuses something (the message goes to stderr), 2 for a
usage error.

Example:
    >>> main(["--version"])
    crmkit 0.1.0
    0

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from babel.dates import format_datetime

import crmkit
from crmkit.errors import CRMError, ValidationError

__all__ = ["main"]

LOCALES = ("en", "zh_Hant_TW", "zh_Hans_CN")
TAIPEI = ZoneInfo("Asia/Taipei")
DEMO_START = datetime(2026, 3, 2, 9, 0, tzinfo=TAIPEI)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crmkit",
        description="crmkit, an embeddable CRM domain library.",
    )
    parser.add_argument("--version", action="version", version=f"crmkit {crmkit.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    demo = commands.add_parser(
        "demo",
        help="run a short story on the embedded SQLite store",
        description="Register customers, add contacts, log interactions and list them, "
        "on a SQLite file, with a fixed clock so the output is always the same.",
    )
    demo.add_argument(
        "--database",
        metavar="PATH",
        help="write a new SQLite file at PATH and keep it "
        "(default: a temporary file, deleted afterwards)",
    )
    demo.add_argument(
        "--locale",
        choices=LOCALES,
        default="en",
        help="locale for money and dates (default: en)",
    )
    dispatch = commands.add_parser(
        "dispatch",
        help="send the notifications the outbox and triggers call for",
        description="Drain the outbox into deliveries and send them (retrying failures with "
        "backoff), once or with --follow; or list failed deliveries, or replay one.",
    )
    dispatch.add_argument("--database", metavar="PATH", required=True, help="the SQLite file")
    dispatch.add_argument(
        "--subscriptions",
        metavar="FILE",
        help="JSON list of subscriptions (see the Notifications page); required to send",
    )
    dispatch.add_argument("--follow", action="store_true", help="keep running until interrupted")
    dispatch.add_argument(
        "--interval", type=float, default=5.0, metavar="SECONDS", help="pause between passes"
    )
    dispatch.add_argument(
        "--passes", type=int, metavar="N", help="with --follow, stop after N passes"
    )
    dispatch.add_argument(
        "--triggers",
        action="store_true",
        help="also run the built-in triggers (birthdays, customers needing attention)",
    )
    dispatch.add_argument("--failed", action="store_true", help="list failed deliveries")
    dispatch.add_argument("--replay", metavar="KEY", help="send a failed delivery again")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``crmkit`` command with ``argv`` (default: the process arguments).

    Returns the exit status: 0 on success, 1 when crmkit raised a ``CRMError`` (its message is
    printed on stderr), 2 for a usage error.

    Example:
        >>> main(["demo", "--locale", "fr"])  # the usage message goes to stderr
        2

    .. versionadded:: 0.1.0
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --version, --help, or a usage error
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    try:
        if args.command == "demo":
            return _demo(args.database, args.locale, sys.stdout)
        if args.command == "dispatch":
            from crmkit._dispatch_cli import run_dispatch

            return run_dispatch(args, sys.stdout)
    except CRMError as exc:
        print(f"crmkit: error: {exc}", file=sys.stderr)
        return 1
    return 2  # pragma: no cover - argparse only accepts known commands


def _demo(database: str | None, locale: str, out: TextIO) -> int:
    if database is not None:
        path = Path(database)
        if path.exists():
            raise ValidationError(
                f"{database} already exists; the demo writes a new database, so give a path "
                "that does not exist yet (or leave out --database)",
                path="database",
            )
        _story(path, kept=True, locale=locale, out=out)
        return 0
    with tempfile.TemporaryDirectory(prefix="crmkit-demo-") as folder:
        _story(Path(folder) / "demo.sqlite3", kept=False, locale=locale, out=out)
    return 0


def _story(path: Path, *, kept: bool, locale: str, out: TextIO) -> None:
    from crmkit.adapters.sqlite import SQLiteStore
    from crmkit.customers import Contact, Customer
    from crmkit.kernel import ManualClock, SequentialIds
    from crmkit.kernel.money import Money

    def say(line: str = "") -> None:
        print(line, file=out)

    store = SQLiteStore(path)
    try:
        clock = ManualClock(DEMO_START)
        crm = crmkit.bootstrap(store=store, clock=clock, ids=SequentialIds())
        say(f"crmkit {crmkit.__version__} demo on SQLite file {path}")
        say(
            f"({'kept' if kept else 'deleted afterwards'}; locale {locale}; "
            f"clock fixed at {DEMO_START:%Y-%m-%d %H:%M} Asia/Taipei)"
        )
        say()

        tea = crm.register_customer(
            "Formosa Tea Co.",
            tags=["Tea", "Wholesale", "Taipei"],
            source="2023 trade show",
            owner="u_amy",
        )
        huangpu = crm.register_customer(
            "Huangpu Trading Ltd.",
            tags=["Shanghai", "Distributor"],
            source="referral",
            owner="u_ben",
        )
        say(f"Registered {tea.name} [{tea.id}] and {huangpu.name} [{huangpu.id}]")

        def add(customer: Customer, name: str, phone: str, region: str, **more: Any) -> Contact:
            contact = crm.add_contact(customer.id, name, phones=[phone], region=region, **more)
            say(f"Added contact {name}: {phone} ({region}) stored as {contact.phones[0]}")
            return contact

        mei = add(
            tea,
            "Lin Mei-ling",
            "0912 345 678",
            "TW",
            role="Purchasing manager",
            decision_maker=True,
            emails=["meiling@formosatea.example"],
            preferred_channel="line",
        )
        add(tea, "Chen Wei", "(02) 2345-6789", "TW", role="Shop manager")
        li = add(
            huangpu,
            "Li Na",
            "138 0013 8000",
            "CN",
            role="Import director",
            emails=["li.na@huangpu.example"],
            preferred_channel="wechat",
        )

        per_kg = Money("1850", "TWD")
        quote = per_kg * 200
        clock.advance(timedelta(minutes=30))
        crm.log_interaction(
            tea.id,
            "call",
            f"Asked for a quote: 200 kg of high-mountain oolong at "
            f"{per_kg.format(locale, cash=True)}/kg",
            by="u_amy",
            contact_id=mei.id,
            channel="phone",
        )
        clock.advance(timedelta(days=1, hours=1))
        crm.log_interaction(
            tea.id,
            "meeting",
            "Tasting session at the Taipei office",
            by="u_amy",
            channel="in_person",
        )
        clock.advance(timedelta(hours=3))
        crm.log_interaction(
            huangpu.id,
            "email",
            "Sent the 2026 export price list",
            by="u_ben",
            contact_id=li.id,
            channel="email",
        )
        say("Logged a call, a meeting and an email")
        say()

        page = crm.find_customers()
        say(f"Customers ({len(page.items)}), times in Asia/Taipei:")
        for customer in page.items:
            say(f"* {customer.name} [{customer.id}], {customer.kind.value}, owner {customer.owner}")
            say(f"    tags: {', '.join(customer.tags)}; source: {customer.source}")
            say("    contacts:")
            for c in crm.contacts_of(customer.id):
                role = f", {c.role}" if c.role else ""
                decides = " (decides)" if c.decision_maker else ""
                say(f"      {c.name}{role}{decides}: {', '.join((*c.phones, *c.emails))}")
            say("    timeline, newest first:")
            timeline = [
                (format_datetime(i.occurred_at, "short", tzinfo=TAIPEI, locale=locale), i)
                for i in crm.timeline(customer.id)
            ]
            width = max(len(when) for when, _ in timeline)
            for when, i in timeline:
                say(f"      {when:<{width}}  {i.kind.value:<7}  {i.summary}")
        say()
        say(
            f"Quote from the call: 200 kg x {per_kg.format(locale, cash=True)} = "
            f"{quote.format(locale, cash=True)} (stored exactly as {quote})"
        )
        say()

        try:
            crm.add_contact(tea.id, "Wang Jun", emails=["wang.jun@"])
        except CRMError as exc:
            say(f"Refused ({type(exc).__name__}): {exc}")
        try:
            crm.log_interaction(tea.id, "note", "Wrong contact", contact_id=li.id)
        except CRMError as exc:
            say(f"Refused ({type(exc).__name__}): {exc}")
        after_contacts = len(crm.contacts_of(tea.id))
        after_timeline = len(crm.timeline(tea.id))
        say(
            f"Nothing was stored: {tea.name} still has {after_contacts} contacts "
            f"and {after_timeline} interactions."
        )
    finally:
        store.close()
