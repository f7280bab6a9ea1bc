"""``crmkit dispatch``: the dispatcher on a SQLite database, configured from the environment.

Example:
    >>> notifiers_from_env({})
    {}
    >>> sorted(notifiers_from_env({"CRMKIT_WEBHOOK_URL": "https://erp.example.com/in",
    ...                            "CRMKIT_WEBHOOK_SECRET": "s3cret"}))
    ['webhook']

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from crmkit.adapters.notify import LogNotifier, SMTPNotifier, WebhookNotifier
from crmkit.adapters.sqlite import SQLiteStore
from crmkit.app.dispatch import Dispatcher, DispatchReport
from crmkit.app.triggers import BirthdayTrigger, InactiveCustomerTrigger
from crmkit.errors import ValidationError
from crmkit.notifications.subscriptions import Subscription, Subscriptions
from crmkit.ports import Notifier
from crmkit.serialization import structure

__all__ = [
    "load_subscriptions",
    "notifiers_from_env",
    "run_dispatch",
]


def notifiers_from_env(env: Mapping[str, str]) -> dict[str, Notifier]:
    """Build the ``email`` and ``webhook`` notifiers the ``CRMKIT_*`` variables configure."""
    notifiers: dict[str, Notifier] = {}
    if env.get("CRMKIT_SMTP_HOST"):
        sender = env.get("CRMKIT_SMTP_SENDER")
        if not sender:
            raise ValidationError(
                "CRMKIT_SMTP_HOST is set but CRMKIT_SMTP_SENDER is not; set the From address",
                path="CRMKIT_SMTP_SENDER",
            )
        port_text = env.get("CRMKIT_SMTP_PORT", "587")
        if not port_text.isdigit():
            raise ValidationError(
                f"must be a port number, not {port_text!r}", path="CRMKIT_SMTP_PORT"
            )
        starttls = env.get("CRMKIT_SMTP_STARTTLS")
        notifiers["email"] = SMTPNotifier(
            env["CRMKIT_SMTP_HOST"],
            int(port_text),
            sender=sender,
            starttls=None if starttls is None else starttls not in ("0", "false", "no"),
            username=env.get("CRMKIT_SMTP_USERNAME") or None,
            password=env.get("CRMKIT_SMTP_PASSWORD") or None,
        )
    if env.get("CRMKIT_WEBHOOK_URL"):
        secret = env.get("CRMKIT_WEBHOOK_SECRET")
        if not secret:
            raise ValidationError(
                "CRMKIT_WEBHOOK_URL is set but CRMKIT_WEBHOOK_SECRET is not; webhooks are "
                "always signed",
                path="CRMKIT_WEBHOOK_SECRET",
            )
        notifiers["webhook"] = WebhookNotifier(env["CRMKIT_WEBHOOK_URL"], secret)
    return notifiers


class _Channels(dict[str, Notifier]):
    """The configured notifiers; any other channel goes to the log."""

    def __missing__(self, channel: str) -> Notifier:
        return self.setdefault(channel, LogNotifier())

    def get(self, channel: str, default: object = None) -> Notifier:
        return self[channel]


def load_subscriptions(path: str) -> Subscriptions:
    """Read a JSON list of subscriptions (the converter's shape) from ``path``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationError(f"no such file: {path}", path="subscriptions") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{path} is not JSON: {exc}", path="subscriptions") from None
    if not isinstance(data, list):
        raise ValidationError(
            f"{path} must hold a JSON list of subscriptions", path="subscriptions"
        )
    return Subscriptions(tuple(structure(data, list[Subscription])))


def _print_failed(dispatcher: Dispatcher, out: TextIO) -> None:
    failed = dispatcher.failed(limit=1000)
    if not failed:
        print("no failed deliveries", file=out)
    for d in failed:
        print(
            f"{d.idempotency_key}  {d.channel} to {d.recipient}  {len(d.attempts)} tries  "
            f"last error: {d.last_error}",
            file=out,
        )


def run_dispatch(args: argparse.Namespace, out: TextIO) -> int:
    """Run ``crmkit dispatch`` with parsed ``args``; return the exit status."""
    if not Path(args.database).exists():
        raise ValidationError(f"no such database: {args.database}", path="database")
    store = SQLiteStore(args.database)
    try:
        if args.failed or args.replay:
            dispatcher = Dispatcher(store, {}, [])
            if args.replay:
                d = dispatcher.replay(args.replay)
                print(f"replaying {d.idempotency_key}: due now", file=out)
            else:
                _print_failed(dispatcher, out)
            return 0
        if not args.subscriptions:
            raise ValidationError(
                "give --subscriptions FILE: without subscriptions every event would be "
                "handed over with nothing sent",
                path="subscriptions",
            )
        channels = _Channels(notifiers_from_env(os.environ))
        triggers = [BirthdayTrigger(), InactiveCustomerTrigger()] if args.triggers else []
        dispatcher = Dispatcher(
            store, channels, load_subscriptions(args.subscriptions), triggers=triggers
        )
        if not args.follow:
            report = dispatcher.run_once()
        else:
            stop = threading.Event()
            try:
                report = dispatcher.follow(interval=args.interval, stop=stop, passes=args.passes)
            except KeyboardInterrupt:
                stop.set()
                report = DispatchReport()
        print(str(report), file=out)
        return 0
    finally:
        store.close()
