"""``crmkit dispatch``: one pass on a SQLite file, failed deliveries, replay, bad input."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import pytest

from crmkit.adapters.sqlite import SQLiteStore
from crmkit.cli import main
from crmkit.customers import Customer
from crmkit.kernel.query import Query

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "crm.db"
    store = SQLiteStore(path)
    with store.unit_of_work() as uow:
        uow.customers.add(Customer.register(id="cus_1", name="Acme", kind="company", now=NOW))
        uow.commit()
    store.close()
    return path


@pytest.fixture
def subscriptions(tmp_path: Path) -> Path:
    path = tmp_path / "subs.json"
    path.write_text(
        json.dumps(
            [
                {
                    "name": "new-customer",
                    "event_type": "customers.CustomerRegistered",
                    "template": "customer_registered",
                    "to": {"kind": "address", "value": "sales@example.com"},
                    "context": {"business": "Formosa Tea"},
                }
            ]
        )
    )
    return path


@pytest.fixture(autouse=True)
def _no_notifier_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CRMKIT_SMTP_HOST", "CRMKIT_WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)


def test_one_pass_sends_to_the_log_when_no_notifier_is_configured(
    database: Path,
    subscriptions: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="crmkit.notify")
    argv = ["dispatch", "--database", str(database), "--subscriptions", str(subscriptions)]
    assert main(argv) == 0
    assert "planned 1, sent 1" in capsys.readouterr().out
    assert "sales@example.com" in caplog.text
    assert main(argv) == 0  # the event was handed over once: nothing more to do
    assert "planned 0, sent 0" in capsys.readouterr().out
    assert main(["dispatch", "--database", str(database), "--failed"]) == 0
    assert "no failed deliveries" in capsys.readouterr().out


def test_follow_with_a_pass_limit_stops(
    database: Path, subscriptions: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["dispatch", "--database", str(database), "--subscriptions", str(subscriptions),
            "--follow", "--passes", "2", "--interval", "0"]  # fmt: skip
    assert main(argv) == 0
    assert "sent 1" in capsys.readouterr().out


def test_failed_deliveries_are_listed_and_can_be_replayed(
    database: Path, subscriptions: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("CRMKIT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CRMKIT_SMTP_PORT", "1")  # nothing listens there: connection refused
    monkeypatch.setenv("CRMKIT_SMTP_SENDER", "crm@example.com")
    argv = ["dispatch", "--database", str(database), "--subscriptions", str(subscriptions)]
    assert main(argv) == 0
    assert "retrying 1" in capsys.readouterr().out
    store = SQLiteStore(database)
    with store.unit_of_work() as uow:
        (delivery,) = uow.deliveries.query(Query()).items
        delivery.claim(delivery.next_attempt_at)
        delivery.fail(delivery.next_attempt_at, "550 no such user", retryable=False)
        uow.deliveries.save(delivery)
        uow.commit()
    store.close()
    assert main(["dispatch", "--database", str(database), "--failed"]) == 0
    listed = capsys.readouterr().out
    assert delivery.idempotency_key in listed and "550 no such user" in listed
    assert (
        main(["dispatch", "--database", str(database), "--replay", delivery.idempotency_key]) == 0
    )
    assert "due now" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "give --subscriptions"),
        (["--subscriptions", "/nonexistent/subs.json"], "no such file"),
    ],
)
def test_bad_input_is_refused_with_a_message(
    database: Path, extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dispatch", "--database", str(database), *extra]) == 1
    assert message in capsys.readouterr().err


def test_a_missing_database_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dispatch", "--database", str(tmp_path / "none.db"), "--failed"]) == 1
    assert "no such database" in capsys.readouterr().err


def test_webhook_without_secret_is_refused(
    database: Path, subscriptions: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv("CRMKIT_WEBHOOK_URL", "http://127.0.0.1:9/in")
    monkeypatch.delenv("CRMKIT_WEBHOOK_SECRET", raising=False)
    argv = ["dispatch", "--database", str(database), "--subscriptions", str(subscriptions)]
    assert main(argv) == 1
    assert "CRMKIT_WEBHOOK_SECRET" in capsys.readouterr().err
