# Chinese punctuation in expected strings is the point.
# ruff: noqa: RUF001
"""SMTPNotifier against a real SMTP server (aiosmtpd) started by the tests on 127.0.0.1.

TLS uses the test-only certificate authority in ``smtp_tls/``: ``ca.pem`` signed
``localhost.pem`` (certificate and key for ``localhost`` and ``127.0.0.1``, valid until 2126).
They were made with::

    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 36500 ...
    openssl req -new -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr ...
    openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -days 36500 -extfile ...

(the CA key was thrown away). Never trust that CA outside these tests.
"""

from __future__ import annotations

import email.policy
import socket
import ssl
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from babel.dates import format_date, format_time

from crmkit.adapters.notify import SMTPNotifier
from crmkit.errors import DeliveryError, NotFoundError, ValidationError
from crmkit.kernel.money import Money
from crmkit.kernel.time import ManualClock
from crmkit.notifications import Template, TemplateRenderer
from crmkit.ports import Notification, Notifier

TLS_DIR = Path(__file__).resolve().parent / "smtp_tls"
SENDER = "Formosa Tea 客服 <crm@formosa-tea.example>"
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)
DUE = datetime(2026, 3, 5, 9, 30, tzinfo=timezone.utc)  # 2026-03-05 17:30 in Taipei
USER, PASSWORD = "crm", "s3cret-pw"

pytestmark = [
    # aiosmtpd sets its own deprecated Session.login_data after a successful AUTH.
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning"),
]


@attrs.define
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    authenticated: bool


@attrs.define
class Handler:
    """Collects what the server accepts; ``data_reply``/``rcpt_reply`` script a refusal."""

    received: list[Received] = attrs.Factory(list)
    data_reply: str = "250 2.0.0 OK"
    rcpt_reply: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self.data_reply.startswith("250"):
            return self.data_reply
        parsed = BytesParser(policy=email.policy.default).parsebytes(envelope.original_content)
        assert isinstance(parsed, EmailMessage)
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, session.authenticated)
        )
        return self.data_reply


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False: let aiosmtpd answer 535 itself on failure.
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS_DIR / "localhost.pem")
    return context


def _client_context() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(TLS_DIR / "ca.pem"))


@attrs.define
class Server:
    host: str
    port: int
    handler: Handler


StartServer = Callable[..., Server]


@pytest.fixture
def start_server() -> Iterator[StartServer]:
    """Start aiosmtpd on 127.0.0.1 and a free port; stopped after the test."""
    controllers: list[Controller] = []

    def start(handler: Handler | None = None, **kwargs: Any) -> Server:
        handler = handler if handler is not None else Handler()
        for attempt in range(5):  # a free port can be taken between the probe and the bind
            port = _free_port()
            controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
            try:
                controller.start()
            except OSError:
                if attempt == 4:
                    raise
                continue
            controllers.append(controller)
            return Server("127.0.0.1", port, handler)
        raise AssertionError("unreachable")

    try:
        yield start
    finally:
        for controller in controllers:
            controller.stop()


@pytest.fixture
def server(start_server: StartServer) -> Server:
    """A plain SMTP server: no TLS, no AUTH."""
    return start_server()


def notifier(server: Server, **kwargs: Any) -> SMTPNotifier:
    options: dict[str, Any] = {
        "sender": SENDER,
        "starttls": False,
        "timeout": 5.0,
        "clock": ManualClock(NOW),
        "local_hostname": "crm.formosa-tea.example",
    }
    options.update(kwargs)
    return SMTPNotifier(server.host, server.port, **options)


def quote_note(locale: str = "zh_Hant_TW", **kwargs: Any) -> Notification:
    options: dict[str, Any] = {
        "recipient": "lin@example.com",
        "channel": "email",
        "template": "quote_expiring",
        "locale": locale,
        "context": {
            "name": "林小姐",
            "quote": "Q-1024",
            "amount": Money("1234.5", "TWD"),
            "due_at": DUE,
        },
        "idempotency_key": "quote_expiring:Q-1024:2026-03-05",
        "timezone": "Asia/Taipei",
    }
    options.update(kwargs)
    return Notification(**options)


def _text(part: MIMEPart) -> str:
    """A text part's content with the CRLF line ends of MIME's canonical form made ``\\n``."""
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def _parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): _text(part) for part in message.iter_parts()}


# ----- what arrives -----------------------------------------------------------------------------


def test_a_multipart_message_arrives_with_subject_recipients_text_and_html(server: Server) -> None:
    notifier(server).send(quote_note("en", context={**quote_note().context, "name": "Amy"}))
    [got] = server.handler.received
    assert got.mail_from == "crm@formosa-tea.example"
    assert got.rcpt_tos == ["lin@example.com"]
    msg = got.message
    assert msg["Subject"] == "Your quote Q-1024 expires on Mar 5, 2026, 5:30\u202fPM"
    assert msg["To"] == "lin@example.com"
    assert msg["From"] == SENDER
    assert msg.get_content_type() == "multipart/alternative"
    parts = _parts(msg)
    assert list(parts) == ["text/plain", "text/html"]
    assert parts["text/plain"].startswith("Dear Amy,\n\nYour quote Q-1024 for NT$1,234.50 is")
    assert "<p>Dear Amy,</p>" in parts["text/html"]
    assert '<html lang="en">' in parts["text/html"]
    assert "<strong>NT$1,234.50</strong>" in parts["text/html"]


def test_zh_hant_tw_shows_the_twd_amount_and_the_date_in_taipei(server: Server) -> None:
    notifier(server).send(quote_note("zh_Hant_TW"))
    [got] = server.handler.received
    msg = got.message
    # What babel produces for zh_Hant_TW, computed here...
    taipei = DUE.astimezone(ZoneInfo("Asia/Taipei"))
    amount = Money("1234.5", "TWD").format("zh_Hant_TW")
    when = (
        f"{format_date(taipei, 'medium', locale='zh_Hant_TW')} "
        f"{format_time(taipei, 'short', locale='zh_Hant_TW')}"
    )
    # ...and pinned as literals, so a change in formatting is caught.
    assert (amount, when) == ("$1,234.50", "2026年3月5日 下午5:30")
    assert msg["Subject"] == f"您的報價單 Q-1024 將於 {when} 到期"
    assert msg["Content-Language"] == "zh-Hant-TW"
    parts = _parts(msg)
    assert parts["text/plain"] == (
        "親愛的 林小姐：\n\n您的報價單 Q-1024，金額 $1,234.50，有效期限至 2026年3月5日 下午5:30。"
        "請於期限前確認接受，以保留此報價；如有任何問題，歡迎直接回覆此封電子郵件。\n"
    )
    html = parts["text/html"]
    assert '<html lang="zh-Hant-TW">' in html
    assert "<title>您的報價單 Q-1024 將於 2026年3月5日 下午5:30 到期</title>" in html
    assert (
        "金額 <strong>$1,234.50</strong>，有效期限至 <strong>2026年3月5日 下午5:30</strong>" in html
    )


def test_headers_carry_the_idempotency_key_date_and_a_stable_message_id(server: Server) -> None:
    smtp = notifier(server)
    smtp.send(quote_note())
    smtp.send(quote_note())  # a retry of the same notification
    smtp.send(quote_note(idempotency_key=""))
    first, retry, keyless = (r.message for r in server.handler.received)
    assert first["Idempotency-Key"] == "quote_expiring:Q-1024:2026-03-05"
    assert first["X-Crmkit-Idempotency-Key"] == "quote_expiring:Q-1024:2026-03-05"
    assert first["Date"] == "Sun, 01 Mar 2026 09:00:00 +0000"
    assert first["Message-ID"] == retry["Message-ID"]
    assert first["Message-ID"].endswith("@formosa-tea.example>")
    assert keyless["Idempotency-Key"] is None
    assert keyless["Message-ID"] != first["Message-ID"]


def test_a_text_only_template_sends_a_single_text_part(server: Server) -> None:
    renderer = TemplateRenderer().with_templates(Template("ping", "Ping {name}", "Ping, {name}."))
    notifier(server, renderer=renderer).send(
        Notification("amy@example.com", "email", "ping", "en", context={"name": "Amy"})
    )
    [got] = server.handler.received
    assert got.message.get_content_type() == "text/plain"
    assert _text(got.message) == "Ping, Amy.\n"


def test_a_recipient_with_a_display_name_is_addressed_by_its_address(server: Server) -> None:
    notifier(server).send(quote_note(recipient="林小姐 <lin@example.com>"))
    [got] = server.handler.received
    assert got.rcpt_tos == ["lin@example.com"]
    assert got.message["To"] == "林小姐 <lin@example.com>"


def test_an_unknown_locale_falls_back_to_english_in_the_email(server: Server) -> None:
    notifier(server).send(quote_note("fr_FR"))
    [got] = server.handler.received
    assert got.message["Subject"].startswith("Your quote Q-1024 expires on")
    assert got.message["Content-Language"] == "en"


# ----- TLS and AUTH -----------------------------------------------------------------------------


def test_starttls_then_login(start_server: StartServer) -> None:
    server = start_server(
        tls_context=_server_context(), require_starttls=True, authenticator=_authenticate
    )
    smtp = notifier(
        server, starttls=True, username=USER, password=PASSWORD, ssl_context=_client_context()
    )
    smtp.send(quote_note())
    [got] = server.handler.received
    assert got.authenticated
    assert got.message["Subject"] == "您的報價單 Q-1024 將於 2026年3月5日 下午5:30 到期"


def test_implicit_tls(start_server: StartServer) -> None:
    server = start_server(ssl_context=_server_context())
    notifier(server, ssl=True, ssl_context=_client_context()).send(quote_note())
    assert len(server.handler.received) == 1


def test_a_server_without_starttls_is_a_clear_permanent_error(server: Server) -> None:
    with pytest.raises(DeliveryError) as info:
        notifier(server, starttls=True).send(quote_note())
    assert "does not offer STARTTLS" in str(info.value)
    assert info.value.details["retryable"] is False
    assert server.handler.received == []


def test_a_certificate_that_does_not_verify_is_a_permanent_error(
    start_server: StartServer,
) -> None:
    server = start_server(tls_context=_server_context())
    with pytest.raises(DeliveryError) as info:
        notifier(server, starttls=True).send(quote_note())  # the system CAs do not know ours
    assert "certificate" in str(info.value)
    assert info.value.details["retryable"] is False
    assert server.handler.received == []


def test_a_wrong_password_is_a_permanent_error_that_never_shows_the_password(
    start_server: StartServer,
) -> None:
    server = start_server(tls_context=_server_context(), authenticator=_authenticate)
    smtp = notifier(
        server, starttls=True, username=USER, password="wrong-pw", ssl_context=_client_context()
    )
    with pytest.raises(DeliveryError) as info:
        smtp.send(quote_note())
    assert info.value.details["retryable"] is False
    assert info.value.details["status"] == 535
    assert "refused the login" in str(info.value)
    assert "wrong-pw" not in str(info.value) and "wrong-pw" not in repr(info.value.details)
    assert server.handler.received == []


def test_a_server_without_auth_is_a_clear_permanent_error(server: Server) -> None:
    with pytest.raises(DeliveryError) as info:
        notifier(server, username=USER, password=PASSWORD).send(quote_note())
    assert "does not offer AUTH" in str(info.value)
    assert info.value.details["retryable"] is False


# ----- refusals and failures --------------------------------------------------------------------


def test_a_5xx_rejection_is_permanent(start_server: StartServer) -> None:
    server = start_server(Handler(data_reply="550 5.7.1 Message rejected as spam"))
    with pytest.raises(DeliveryError) as info:
        notifier(server).send(quote_note())
    assert info.value.details["retryable"] is False
    assert info.value.details["status"] == 550
    assert "550 5.7.1 Message rejected as spam" in str(info.value)
    assert info.value.details["idempotency_key"] == "quote_expiring:Q-1024:2026-03-05"


def test_a_4xx_reply_is_retryable(start_server: StartServer) -> None:
    server = start_server(Handler(data_reply="451 4.3.0 Try again later"))
    with pytest.raises(DeliveryError) as info:
        notifier(server).send(quote_note())
    assert info.value.details["retryable"] is True
    assert info.value.details["status"] == 451


def test_a_refused_recipient_is_permanent(start_server: StartServer) -> None:
    server = start_server(Handler(rcpt_reply="550 5.1.1 No such user"))
    with pytest.raises(DeliveryError) as info:
        notifier(server).send(quote_note())
    assert info.value.details["retryable"] is False
    assert info.value.details["status"] == 550
    assert "refused the recipient" in str(info.value)


def test_a_refused_connection_is_retryable() -> None:
    port = _free_port()  # nothing listens there now
    smtp = SMTPNotifier("127.0.0.1", port, sender=SENDER, starttls=False, timeout=5)
    with pytest.raises(DeliveryError) as info:
        smtp.send(quote_note())
    assert info.value.details["retryable"] is True
    assert info.value.details["port"] == port
    assert "could not be reached" in str(info.value)


def test_a_server_that_never_answers_times_out_retryably() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the TCP connection, never sends a greeting
        port = silent.getsockname()[1]
        smtp = SMTPNotifier("127.0.0.1", port, sender=SENDER, starttls=False, timeout=0.2)
        with pytest.raises(DeliveryError) as info:
            smtp.send(quote_note())
    assert info.value.details["retryable"] is True
    assert "did not answer within 0.2 s" in str(info.value)


# ----- what is refused before connecting ---------------------------------------------------------


def test_only_the_email_channel_is_accepted(server: Server) -> None:
    with pytest.raises(ValidationError) as info:
        notifier(server).send(quote_note(channel="sms"))
    assert info.value.errors[0].path == "channel"
    assert server.handler.received == []


def test_an_unknown_template_is_not_found_before_connecting() -> None:
    smtp = SMTPNotifier("127.0.0.1", _free_port(), sender=SENDER, starttls=False)
    with pytest.raises(NotFoundError):
        smtp.send(quote_note(template="no_such_template"))


def test_a_missing_placeholder_is_a_validation_error_before_connecting() -> None:
    smtp = SMTPNotifier("127.0.0.1", _free_port(), sender=SENDER, starttls=False)
    with pytest.raises(ValidationError) as info:
        smtp.send(quote_note(context={"name": "Amy"}))
    assert "context.amount" in [e.path for e in info.value.errors]


@pytest.mark.parametrize(
    ("recipient", "key"),
    [
        ("not an address", "k"),
        ("a@example.com, b@example.com", "k"),
        ("amy@example.com\r\nBcc: x@example.com", "k"),
        ("amy@example.com", "key\r\nBcc: x@example.com"),
    ],
)
def test_malformed_recipients_and_keys_are_refused(recipient: str, key: str) -> None:
    smtp = SMTPNotifier("127.0.0.1", _free_port(), sender=SENDER, starttls=False)
    with pytest.raises(ValidationError):
        smtp.send(quote_note(recipient=recipient, idempotency_key=key))


# ----- construction -----------------------------------------------------------------------------


def test_it_is_a_notifier_and_its_repr_hides_the_password() -> None:
    smtp = SMTPNotifier("smtp.example.com", sender=SENDER, username=USER, password=PASSWORD)
    assert isinstance(smtp, Notifier)
    assert PASSWORD not in repr(smtp)
    assert repr(smtp) == (
        "SMTPNotifier('smtp.example.com', 587, sender='crm@formosa-tea.example', "
        "starttls=True, ssl=False, username='crm')"
    )
    assert PASSWORD not in str(vars(smtp).get("password", ""))


def test_defaults_follow_the_port_conventions() -> None:
    submission = SMTPNotifier("smtp.example.com", sender=SENDER)
    assert (submission.port, submission.starttls, submission.ssl) == (587, True, False)
    implicit = SMTPNotifier("smtp.example.com", 465, sender=SENDER, ssl=True)
    assert (implicit.starttls, implicit.ssl) == (False, True)


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"host": ""}, "host"),
        ({"host": "smtp example.com"}, "host"),
        ({"port": 0}, "port"),
        ({"port": 70000}, "port"),
        ({"port": True}, "port"),
        ({"sender": "not an address"}, "sender"),
        ({"sender": "a@example.com\nBcc: b@example.com"}, "sender"),
        ({"ssl": True, "starttls": True}, "starttls"),
        ({"ssl": "yes"}, "ssl"),
        ({"username": "crm"}, "password"),
        ({"password": "pw"}, "username"),
        ({"username": "", "password": "pw"}, "username"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"renderer": object()}, "renderer"),
        ({"local_hostname": ""}, "local_hostname"),
        ({"ssl_context": "tls"}, "ssl_context"),
    ],
)
def test_configuration_mistakes_are_named(kwargs: dict[str, Any], path: str) -> None:
    options: dict[str, Any] = {"host": "smtp.example.com", "sender": SENDER}
    options.update(kwargs)
    with pytest.raises(ValidationError) as info:
        SMTPNotifier(**options)
    assert [e.path for e in info.value.errors] == [path]
