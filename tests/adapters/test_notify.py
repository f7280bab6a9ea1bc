"""The notifier adapters: LogNotifier, and WebhookNotifier against a real local HTTP server."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import attrs
import pytest

from crmkit.adapters.notify import LogNotifier, WebhookNotifier, verify_signature
from crmkit.errors import DeliveryError, ValidationError
from crmkit.kernel.money import Money
from crmkit.kernel.query import Query
from crmkit.kernel.time import ManualClock
from crmkit.ports import Notification, Notifier

SECRET = "whsec_test"
START = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


@attrs.define
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@attrs.define
class Receiver:
    """A local webhook receiver: records requests, answers with a scripted status sequence."""

    url: str
    requests: list[Received]
    statuses: list[int]
    hang: threading.Event  # while unset, a request with path /slow waits for it


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    requests: list[Received] = []
    statuses: list[int] = []
    hang = threading.Event()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.path.startswith("/slow"):
                hang.wait()
            with lock:
                requests.append(Received(self.path, dict(self.headers.items()), body))
                status = statuses.pop(0) if statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield Receiver(f"http://{host}:{port}", requests, statuses, hang)
    finally:
        hang.set()
        server.shutdown()
        server.server_close()
        thread.join()


def note(**changes: object) -> Notification:
    base = Notification(
        recipient="amy@example.com",
        channel="webhook",
        template="customer_registered",
        locale="zh_Hant_TW",
        context={"name": "Acme 台北", "tier": "gold"},
        idempotency_key="evt_1:owner",
    )
    return attrs.evolve(base, **changes)


def notifier(url: str, **kwargs: object) -> WebhookNotifier:
    kwargs.setdefault("clock", ManualClock(START))
    return WebhookNotifier(url, SECRET, **kwargs)  # type: ignore[arg-type]


# --- WebhookNotifier --------------------------------------------------------------------------


def test_webhook_and_log_notifiers_implement_the_port() -> None:
    assert isinstance(WebhookNotifier("https://example.com/h", SECRET), Notifier)
    assert isinstance(LogNotifier(), Notifier)


def test_posts_the_notification_as_json_with_idempotency_and_signature_headers(
    receiver: Receiver,
) -> None:
    notifier(receiver.url + "/hooks?token=abc").send(note())

    [got] = receiver.requests
    assert got.path == "/hooks?token=abc"
    assert json.loads(got.body) == {
        "idempotency_key": "evt_1:owner",
        "template": "customer_registered",
        "channel": "webhook",
        "recipient": "amy@example.com",
        "locale": "zh_Hant_TW",
        "context": {"name": "Acme 台北", "tier": "gold"},
    }
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Idempotency-Key"] == "evt_1:owner"
    assert got.headers["X-Crmkit-Timestamp"] == str(int(START.timestamp()))
    assert got.headers["X-Crmkit-Signature"].startswith("v1=")


def test_extra_headers_are_sent_but_cannot_replace_crmkits_own(receiver: Receiver) -> None:
    extra = {"X-Api-Key": "gw-1", "X-Crmkit-Signature": "v1=forged"}
    notifier(receiver.url, headers=extra).send(note())

    [got] = receiver.requests
    assert got.headers["X-Api-Key"] == "gw-1"
    assert got.headers["X-Crmkit-Signature"] != "v1=forged"


def test_the_received_signature_verifies_and_tampering_or_staleness_is_refused(
    receiver: Receiver,
) -> None:
    notifier(receiver.url).send(note())
    [got] = receiver.requests
    timestamp = got.headers["X-Crmkit-Timestamp"]
    signature = got.headers["X-Crmkit-Signature"]

    verify_signature(SECRET, got.body, timestamp, signature, now=START + timedelta(minutes=4))

    with pytest.raises(ValidationError) as tampered:
        verify_signature(
            SECRET, got.body.replace(b"gold", b"plat"), timestamp, signature, now=START
        )
    assert tampered.value.errors[0].path == "signature"

    with pytest.raises(ValidationError) as other_secret:
        verify_signature("another", got.body, timestamp, signature, now=START)
    assert other_secret.value.errors[0].path == "signature"

    with pytest.raises(ValidationError) as moved_timestamp:
        verify_signature(SECRET, got.body, str(int(timestamp) + 1), signature, now=START)
    assert moved_timestamp.value.errors[0].path == "signature"

    with pytest.raises(ValidationError) as stale:
        verify_signature(SECRET, got.body, timestamp, signature, now=START + timedelta(minutes=6))
    assert stale.value.errors[0].path == "timestamp"

    with pytest.raises(ValidationError) as future:
        verify_signature(SECRET, got.body, timestamp, signature, now=START - timedelta(minutes=6))
    assert future.value.errors[0].path == "timestamp"

    verify_signature(
        SECRET,
        got.body,
        timestamp,
        signature,
        now=START + timedelta(minutes=20),
        tolerance=timedelta(minutes=30),
    )


def test_the_signed_timestamp_follows_the_clock(receiver: Receiver) -> None:
    clock = ManualClock(START)
    webhook = notifier(receiver.url, clock=clock)
    webhook.send(note())
    clock.advance(timedelta(hours=1))
    webhook.send(note())

    first, second = (int(r.headers["X-Crmkit-Timestamp"]) for r in receiver.requests)
    assert second - first == 3600


@pytest.mark.parametrize(
    ("timestamp", "signature", "path"),
    [
        ("", "v1=00", "timestamp"),
        ("12:00", "v1=00", "timestamp"),
        ("١٢٣", "v1=00", "timestamp"),  # non-ASCII digits
        ("1772355600", "", "signature"),
        ("1772355600", "v1=zz", "signature"),
        ("9" * 30, "v1=00", "signature"),
    ],
)
def test_verify_signature_refuses_malformed_headers(
    timestamp: str, signature: str, path: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        verify_signature(SECRET, b"{}", timestamp, signature, now=START)
    assert caught.value.errors[0].path == path


def test_verify_signature_refuses_an_implausible_but_correctly_signed_timestamp() -> None:
    import hashlib
    import hmac

    timestamp = "9" * 30
    sig = hmac.new(SECRET.encode(), f"{timestamp}.".encode() + b"{}", hashlib.sha256).hexdigest()
    with pytest.raises(ValidationError) as caught:
        verify_signature(SECRET, b"{}", timestamp, f"v1={sig}", now=START)
    assert caught.value.errors[0].path == "timestamp"


def test_verify_signature_refuses_bad_arguments() -> None:
    with pytest.raises(ValidationError, match="secret"):
        verify_signature("", b"{}", "1", "v1=00", now=START)
    with pytest.raises(ValidationError, match="body"):
        verify_signature(SECRET, "{}", "1", "v1=00", now=START)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="now"):
        verify_signature(SECRET, b"{}", "1", "v1=00", now=datetime(2026, 1, 1))


def test_a_retried_notification_keeps_its_idempotency_key(receiver: Receiver) -> None:
    receiver.statuses.extend([500, 500, 200])
    webhook = notifier(receiver.url + "/hooks")

    for _ in range(2):
        with pytest.raises(DeliveryError) as caught:
            webhook.send(note())
        assert caught.value.details["retryable"] is True
        assert caught.value.details["status"] == 500
    webhook.send(note())

    assert [r.headers["Idempotency-Key"] for r in receiver.requests] == ["evt_1:owner"] * 3
    assert len({r.body for r in receiver.requests}) == 1


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (404, False), (422, False), (408, True), (429, True),
     (502, True), (503, True), (302, False)],
)  # fmt: skip
def test_status_codes_decide_whether_a_retry_may_help(
    receiver: Receiver, status: int, retryable: bool
) -> None:
    receiver.statuses.append(status)
    with pytest.raises(DeliveryError) as caught:
        notifier(receiver.url + "/hooks?token=secret-token").send(note())

    details = caught.value.details
    assert details["retryable"] is retryable
    assert details["status"] == status
    assert details["url"] == receiver.url + "/hooks"
    assert "secret-token" not in str(caught.value)
    assert str(status) in str(caught.value)


def test_a_receiver_that_does_not_answer_in_time_is_retryable(receiver: Receiver) -> None:
    with pytest.raises(DeliveryError) as caught:
        notifier(receiver.url + "/slow", timeout=0.2).send(note())

    assert caught.value.details["retryable"] is True
    assert "status" not in caught.value.details
    assert "0.2 s" in str(caught.value)
    assert caught.value.__cause__ is None


def test_an_unreachable_receiver_is_a_retryable_delivery_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on: bound, then closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DeliveryError) as caught:
        notifier(f"http://127.0.0.1:{port}/hooks", timeout=2).send(note())

    assert caught.value.details["retryable"] is True
    assert caught.value.details["url"] == f"http://127.0.0.1:{port}/hooks"
    assert "status" not in caught.value.details


def test_money_and_aware_datetimes_in_the_context_serialize(receiver: Receiver) -> None:
    due = datetime(2026, 3, 31, 17, 0, tzinfo=timezone(timedelta(hours=8)))
    context = {"total": Money("1234.50", "TWD"), "due_at": due, "lines": [Money("1", "USD")]}
    notifier(receiver.url).send(note(context=context))

    sent = json.loads(receiver.requests[0].body)["context"]
    assert sent == {
        "total": {"amount": "1234.50", "currency": "TWD"},
        "due_at": "2026-03-31T17:00:00+08:00",
        "lines": [{"amount": "1", "currency": "USD"}],
    }
    assert Decimal(sent["total"]["amount"]) == Money("1234.50", "TWD").amount


def test_an_unserializable_context_is_a_validation_error_and_nothing_is_sent(
    receiver: Receiver,
) -> None:
    with pytest.raises(ValidationError) as caught:
        notifier(receiver.url).send(note(context={"blob": object()}))
    assert caught.value.errors[0].path == "notification.context"
    assert receiver.requests == []


def test_a_notification_without_idempotency_key_sends_no_such_header(receiver: Receiver) -> None:
    notifier(receiver.url).send(note(idempotency_key=""))
    assert "Idempotency-Key" not in receiver.requests[0].headers


def test_send_refuses_what_is_not_a_notification() -> None:
    with pytest.raises(ValidationError, match="notification"):
        notifier("http://127.0.0.1:9/h").send({"recipient": "x"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"url": "ftp://example.com/h"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "example.com/h"}, "url"),
        ({"url": "https:///h"}, "url"),
        ({"url": "https://example.com:http/h"}, "url"),
        ({"url": 42}, "url"),
        ({"secret": ""}, "secret"),
        ({"secret": b""}, "secret"),
        ({"secret": None}, "secret"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"headers": {"X-A": "1\r\nX-B: 2"}}, "headers['X-A']"),
        ({"headers": {"X-A": 1}}, "headers['X-A']"),
        ({"headers": ["X-A"]}, "headers"),
    ],
)
def test_construction_validates_its_arguments(kwargs: dict[str, object], path: str) -> None:
    args: dict[str, object] = {"url": "https://example.com/h", "secret": SECRET, **kwargs}
    url, secret = args.pop("url"), args.pop("secret")
    with pytest.raises(ValidationError) as caught:
        WebhookNotifier(url, secret, **args)  # type: ignore[arg-type]
    assert caught.value.errors[0].path == path


def test_repr_hides_the_query_string_and_credentials() -> None:
    webhook = WebhookNotifier("https://user:pw@example.com/h?token=t", b"key")
    assert repr(webhook) == "WebhookNotifier('https://example.com/h')"


# --- LogNotifier ------------------------------------------------------------------------------


def test_log_notifier_logs_context_keys_but_never_values(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="crmkit.notify")
    context = {"total": Money("999.99", "TWD"), "address": "台北市信義路五段7號"}
    LogNotifier().send(note(context=context))

    [record] = caplog.records
    assert record.name == "crmkit.notify"
    assert record.levelno == logging.INFO
    line = record.getMessage()
    for shown in ("webhook", "customer_registered", "amy@example.com", "zh_Hant_TW"):
        assert shown in line
    assert "evt_1:owner" in line
    assert "['address', 'total']" in line
    assert "999.99" not in line
    assert "信義路" not in line


def test_log_notifier_uses_the_given_logger_and_level(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="host.audit")
    LogNotifier(logging.getLogger("host.audit"), level=logging.DEBUG).send(note())
    [record] = caplog.records
    assert (record.name, record.levelno) == ("host.audit", logging.DEBUG)


def test_log_notifier_writes_one_line_even_for_hostile_fields(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="crmkit.notify")
    LogNotifier().send(note(recipient="amy@example.com\nFAKE admin login"))
    assert "\n" not in caplog.records[0].getMessage()


def test_log_notifier_validates_its_arguments() -> None:
    with pytest.raises(ValidationError, match="level"):
        LogNotifier(level="INFO")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="logger"):
        LogNotifier("crmkit")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="notification"):
        LogNotifier().send("hello")  # type: ignore[arg-type]


def test_the_dispatcher_retries_a_failing_receiver_and_records_one_success(
    receiver: Receiver,
) -> None:
    """500, 500, 200: three requests with one idempotency key, one success on record."""
    from crmkit.adapters.memory import MemoryStore
    from crmkit.app.dispatch import Dispatcher
    from crmkit.customers import Customer
    from crmkit.notifications import DeliveryStatus, Recipient, RetryPolicy, Subscription

    receiver.statuses.extend([500, 500, 200])
    clock = ManualClock(START)
    store = MemoryStore()
    with store.unit_of_work() as uow:
        uow.customers.add(Customer.register(id="cus_1", name="Acme", kind="company", now=START))
        uow.commit()
    hook = Subscription(
        name="crm-to-erp",
        event_type="customers.CustomerRegistered",
        template="customer_registered",
        to=Recipient.address("erp"),
        channel="webhook",
    )
    dispatcher = Dispatcher(
        store,
        {"webhook": notifier(receiver.url + "/hooks", clock=clock)},
        [hook],
        clock=clock,
        retry=RetryPolicy(jitter_percent=0),
    )
    for _ in range(3):
        dispatcher.run_once()
        with store.unit_of_work() as uow:
            (delivery,) = uow.deliveries.query(Query()).items
        clock.set(max(clock.now(), delivery.next_attempt_at))

    assert [r.headers["Idempotency-Key"] for r in receiver.requests] == [
        delivery.idempotency_key
    ] * 3
    assert delivery.status is DeliveryStatus.SUCCEEDED
    assert [a.succeeded for a in delivery.attempts] == [False, False, True]
    assert "500" in (delivery.attempts[0].error or "")
    for request in receiver.requests:  # each signature verifies with the documented recipe
        verify_signature(
            SECRET,
            request.body,
            timestamp=request.headers["X-Crmkit-Timestamp"],
            signature=request.headers["X-Crmkit-Signature"],
            now=clock.now(),
            tolerance=timedelta(hours=1),
        )
    dispatcher.run_once()
    assert len(receiver.requests) == 3  # a succeeded key is never sent again
