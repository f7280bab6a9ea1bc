"""The ``crmkit`` command: ``--version``, ``demo``, ``dispatch``, ``export`` and ``import``.

``crmkit demo`` tells a month in the life of a small tea company on the embedded SQLite store
(leads, deals, a quote, an order and points, a complaint, a maintenance visit; see
:mod:`crmkit._demo_story`), then prints its dashboard and writes it as HTML (``--html FILE``;
by default beside the database). It uses a fixed clock and predictable ids, so the output is the
same on every run, in the ``--locale``'s language, money and dates. Without ``--database`` it
works in a new file in a temporary directory that is deleted afterwards; with ``--database
PATH`` it writes a new file at PATH and keeps it.

``crmkit report --database PATH [--html FILE] [--json FILE]`` prints the dashboard of a store
(see :mod:`crmkit._report_cli`).

``crmkit dispatch --database PATH --subscriptions FILE.json`` runs the notification dispatcher
(:mod:`crmkit.app.dispatch`) on a SQLite database: one pass, or ``--follow`` to keep going
every ``--interval`` seconds until interrupted. ``--failed`` lists failed deliveries and
``--replay KEY`` sends one again. Notifiers come from environment variables, so no secret is
on the command line: ``CRMKIT_SMTP_HOST``, ``CRMKIT_SMTP_PORT``, ``CRMKIT_SMTP_SENDER``,
``CRMKIT_SMTP_USERNAME``, ``CRMKIT_SMTP_PASSWORD``, ``CRMKIT_SMTP_STARTTLS`` (``1``/``0``) for
the ``email`` channel, ``CRMKIT_WEBHOOK_URL`` and ``CRMKIT_WEBHOOK_SECRET`` for ``webhook``;
a channel with none configured is written to the log instead.

``crmkit export --database PATH FILE`` backs up every record and the pending outbox (or
``--url URL`` for a SQLAlchemy database); ``crmkit import --url URL FILE`` restores it into an
empty store (see :mod:`crmkit.adapters.backup`), and ``crmkit import --customers`` imports
customers from CSV or JSON Lines (see :mod:`crmkit.app.transfer`).

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
from pathlib import Path
from typing import TextIO

import crmkit
from crmkit.errors import CRMError, ValidationError

__all__ = ["main"]

LOCALES = ("en", "zh_Hant_TW", "zh_Hans_CN")


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
        help="language, money and dates of the story (default: en)",
    )
    demo.add_argument(
        "--html",
        metavar="FILE",
        help="write the dashboard as HTML to FILE (default: beside the database; "
        "needs crmkit[report])",
    )
    report = commands.add_parser(
        "report",
        help="print the dashboard of a SQLite database; write it as HTML or JSON",
        description="Sales, service, loyalty and customer metrics of the last months, as a "
        "table in the terminal, and with --html a page with charts (needs crmkit[report]).",
    )
    from crmkit._report_cli import add_arguments as add_report_arguments

    add_report_arguments(report, LOCALES)
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
    export = commands.add_parser(
        "export",
        help="write every record and the pending outbox to a backup file (JSON Lines)",
        description="Back up a store: every record of every type, with its version, and the "
        "pending outbox. Restore it into any store with crmkit import.",
    )
    restore = commands.add_parser(
        "import",
        help="restore a backup into a store, or import customers from CSV/JSON Lines",
        description="Restore a backup made by crmkit export (into an empty store unless "
        "--allow-existing), or with --customers import customers and contacts.",
    )
    for sub in (export, restore):
        where = sub.add_mutually_exclusive_group(required=True)
        where.add_argument("--database", metavar="PATH", help="a SQLite file")
        where.add_argument("--url", metavar="URL", help="a SQLAlchemy database URL")
        sub.add_argument("file", metavar="FILE", help="the backup file (or customers' file)")
    restore.add_argument(
        "--allow-existing", action="store_true", help="restore beside records already stored"
    )
    restore.add_argument(
        "--customers", action="store_true", help="FILE is customers as CSV or JSON Lines"
    )
    restore.add_argument("--mapping", metavar="JSON", help="with --customers: the column mapping")
    restore.add_argument("--dry-run", action="store_true", help="with --customers: check only")
    restore.add_argument(
        "--all-or-nothing", action="store_true", help="with --customers: no rows if any is bad"
    )
    restore.add_argument("--region", help="with --customers: region of local phone numbers")
    restore.add_argument(
        "--phone-check", choices=("e164", "full"), default="e164", help="with --customers"
    )
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
            return _demo(args.database, args.locale, sys.stdout, args.html)
        if args.command == "report":
            from crmkit._report_cli import run_report

            return run_report(args, sys.stdout)
        if args.command == "dispatch":
            from crmkit._dispatch_cli import run_dispatch

            return run_dispatch(args, sys.stdout)
        if args.command in ("export", "import"):
            from crmkit._transfer_cli import run_export, run_import

            return (run_export if args.command == "export" else run_import)(args, sys.stdout)
    except CRMError as exc:
        print(f"crmkit: error: {exc}", file=sys.stderr)
        return 1
    return 2  # pragma: no cover - argparse only accepts known commands


def _demo(database: str | None, locale: str, out: TextIO, html: str | None = None) -> int:
    if database is not None:
        path = Path(database)
        if path.exists():
            raise ValidationError(
                f"{database} already exists; the demo writes a new database, so give a path "
                "that does not exist yet (or leave out --database)",
                path="database",
            )
        _story(path, kept=True, locale=locale, out=out, html=html)
        return 0
    with tempfile.TemporaryDirectory(prefix="crmkit-demo-") as folder:
        _story(Path(folder) / "demo.sqlite3", kept=False, locale=locale, out=out, html=html)
    return 0


def _story(path: Path, *, kept: bool, locale: str, out: TextIO, html: str | None) -> None:
    from crmkit._demo_story import tell

    tell(path, kept=kept, locale=locale, out=out, html=None if html is None else Path(html))
