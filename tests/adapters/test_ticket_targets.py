"""The ticket targets against real servers on 127.0.0.1: SMTP, a webhook, a Zendesk double."""

from __future__ import annotations

import base64
import email
import json
import re
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage, MIMEPart
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.typedefs import Handler
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from bot.adapters.runners import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from bot.adapters.ticket_targets import (
    Attachment,
    EmailTarget,
    Ticket,
    WebhookTarget,
    ZendeskTarget,
    parse_smtp_url,
    tag,
    target_for,
)
from bot.core.errors import ActionError, ConfigError
from bot.core.settings import Tenant, TicketConfig
from testkit.e2e import serving

TICKET = Ticket(
    subject="[eAdm] Export AD feilet i Bærum kommune",
    description="Export AD failed at 21:14.\nClient did not answer: EADM01 timed out.\n",
    tenant="Bærum kommune",
    alert_id=42,
    requester_name="Kari Ødegård",
    requester_email="kari.nordmann@baerum.kommune.no",
    attachments=(
        Attachment("timeline.txt", "21:00 Import HR completed\n21:14 Export AD failed\n"),
        Attachment("eadm-logg.txt", "2026-11-24 21:14:02 FEIL: Klienten svarte ikke (æøå)\n"),
    ),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- SMTP ---------------------------------------------------------------------------------------


@dataclass
class Cert:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    """A self-signed certificate for localhost and 127.0.0.1."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed; it makes the test certificate")
    folder = tmp_path_factory.mktemp("tls")
    made = Cert(folder / "cert.pem", folder / "key.pem")
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=localhost"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"),
            *("-keyout", str(made.key), "-out", str(made.cert)),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return made


@dataclass
class Mailbox:
    """An SMTP handler that keeps what it receives, and whether it came over TLS."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    over_tls: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        transport = server.transport
        assert transport is not None
        self.over_tls.append(transport.get_extra_info("sslcontext") is not None)
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"


USER, PASSWORD = "eadm@kommune.no", "p@ss:word/æ"


def text(part: MIMEPart) -> str:
    """A text part's content with the wire's CRLF line ends undone."""
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    good = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    # handled=False: let the server answer 535 itself.
    return AuthResult(success=good, handled=False, auth_data=auth_data)


@pytest.fixture
def smtp_tls(cert: Cert) -> Iterator[tuple[Mailbox, int]]:
    """STARTTLS required, AUTH only after it."""
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        tls_context=cert.server_context(),
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_plain() -> Iterator[tuple[Mailbox, int]]:
    """An internal relay: no TLS, no login."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def url_with_credentials(port: int, password: str = PASSWORD) -> str:
    quote = {"@": "%40", ":": "%3A", "/": "%2F"}
    user = "".join(quote.get(c, c) for c in USER)
    secret = "".join(quote.get(c, c) for c in password).replace("æ", "%C3%A6")
    return f"smtp://{user}:{secret}@127.0.0.1:{port}"


async def test_email_over_starttls_with_login(smtp_tls: tuple[Mailbox, int], cert: Cert) -> None:
    box, port = smtp_tls
    target = EmailTarget(
        "support@identum.no",
        url_with_credentials(port),
        "eAdm-varsler <eadm-bot@baerum.kommune.no>",
        tls_context=cert.client_context(),
        timeout=5,
    )
    assert target.describe == "e-mail to support@identum.no"
    ok, message = await target.check()
    assert ok, message
    assert "TLS" in message
    ref = await target.open(TICKET)

    [received] = box.messages
    assert box.over_tls == [True]
    assert box.envelopes[0].rcpt_tos == ["support@identum.no"]
    assert received["Subject"] == TICKET.subject
    assert received["To"] == "support@identum.no"
    assert received["From"].addresses[0].addr_spec == "eadm-bot@baerum.kommune.no"
    assert received["Reply-To"].addresses[0].addr_spec == "kari.nordmann@baerum.kommune.no"
    assert received["Reply-To"].addresses[0].display_name == "Kari Ødegård"
    assert received["Message-ID"] == ref.reference  # short enough not to be folded
    assert ref.reference.endswith("@baerum.kommune.no>")
    assert received["X-Eadm-Alert-Id"] == "42"
    body = received.get_body(("plain",))
    assert body is not None and text(body) == TICKET.description
    files = {part.get_filename(): part for part in received.iter_attachments()}
    assert set(files) == {"timeline.txt", "eadm-logg.txt"}
    assert files["eadm-logg.txt"].get_content_type() == "text/plain"
    assert text(files["eadm-logg.txt"]) == TICKET.attachments[1].content


async def test_email_wrong_password_names_smtp_url(
    smtp_tls: tuple[Mailbox, int], cert: Cert
) -> None:
    box, port = smtp_tls
    target = EmailTarget(
        "support@identum.no",
        url_with_credentials(port, password="wrong"),
        tls_context=cert.client_context(),
        timeout=5,
    )
    with pytest.raises(ActionError, match="SMTP_URL") as caught:
        await target.open(TICKET)
    assert "refused the user name or password" in str(caught.value)
    assert "wrong" not in str(caught.value)
    ok, message = await target.check()
    assert not ok and "SMTP_URL" in message
    assert box.messages == []


async def test_email_untrusted_certificate_is_refused(smtp_tls: tuple[Mailbox, int]) -> None:
    box, port = smtp_tls
    target = EmailTarget("support@identum.no", url_with_credentials(port), timeout=5)
    with pytest.raises(ActionError, match=r"TLS certificate of the SMTP server .* could not be"):
        await target.open(TICKET)
    assert box.messages == []


async def test_email_never_sends_a_password_without_tls(smtp_plain: tuple[Mailbox, int]) -> None:
    box, port = smtp_plain
    target = EmailTarget("support@identum.no", url_with_credentials(port), timeout=5)
    with pytest.raises(ActionError, match="does not offer STARTTLS"):
        await target.open(TICKET)
    assert box.messages == []


async def test_email_names_a_server_that_offers_no_login(cert: Cert) -> None:
    """aiosmtpd offers AUTH over STARTTLS only: over implicit TLS a login finds none."""
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        ssl_context=cert.server_context(),
        authenticator=authenticator,
    )
    controller.start()
    try:
        url = url_with_credentials(port).replace("smtp://", "smtps://")
        target = EmailTarget("support@identum.no", url, tls_context=cert.client_context())
        with pytest.raises(ActionError, match="does not offer login; remove user and password"):
            await target.open(TICKET)
        ok, message = await target.check()
        assert not ok and "does not offer login" in message
    finally:
        controller.stop()
    assert box.messages == []


async def test_email_over_implicit_tls_to_a_port_without_tls(
    smtp_plain: tuple[Mailbox, int],
) -> None:
    box, port = smtp_plain
    target = EmailTarget("support@identum.no", f"smtps://127.0.0.1:{port}", timeout=5)
    with pytest.raises(ActionError, match=r"^TLS with the SMTP server .* use smtp://"):
        await target.open(TICKET)
    assert box.messages == []


async def test_email_through_a_plain_relay(smtp_plain: tuple[Mailbox, int]) -> None:
    box, port = smtp_plain
    target = EmailTarget("servicedesk@kommune.no", f"smtp://127.0.0.1:{port}", timeout=5)
    assert (await target.check())[0]
    anonymous = Ticket(
        subject="eAdm: no new cycle",
        description="No cycle since 21:00.",
        tenant="demo",
        alert_id=3,
        requester_name="Ola",
        requester_email=None,
    )
    ref = await target.open(anonymous)
    [received] = box.messages
    assert box.over_tls == [False]
    assert received["Reply-To"] is None
    assert received["From"].addresses[0].username == "eadm-bot"
    assert received["Message-ID"].strip() == ref.reference
    assert text(received) == "No cycle since 21:00.\n"
    assert list(received.iter_attachments()) == []


async def test_email_over_implicit_tls(cert: Cert) -> None:
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box,
        hostname="127.0.0.1",
        port=port,
        ssl_context=cert.server_context(),
        authenticator=authenticator,
        # aiosmtpd only counts STARTTLS as TLS for this check; this session is TLS throughout.
        auth_require_tls=False,
    )
    controller.start()
    try:
        url = url_with_credentials(port).replace("smtp://", "smtps://")
        target = EmailTarget("support@identum.no", url, tls_context=cert.client_context())
        await target.open(TICKET)
        # Without trust in the certificate nothing is sent.
        untrusting = EmailTarget("support@identum.no", url, timeout=3)
        ok, message = await untrusting.check()
        assert not ok and "TLS certificate of the SMTP server" in message
    finally:
        controller.stop()
    assert [m["Subject"] for m in box.messages] == [TICKET.subject]
    assert box.over_tls == [True]


async def test_email_unreachable_server() -> None:
    target = EmailTarget("support@identum.no", f"smtp://127.0.0.1:{free_port()}", timeout=3)
    with pytest.raises(ActionError, match="SMTP_URL"):
        await target.open(TICKET)
    ok, message = await target.check()
    assert not ok and "cannot connect" in message and "SMTP_URL" in message


def test_smtp_url_forms() -> None:
    plain = parse_smtp_url("smtp://mail.kommune.no")
    assert (plain.host, plain.port, plain.implicit_tls, plain.username) == (
        "mail.kommune.no",
        587,
        False,
        None,
    )
    tls = parse_smtp_url("smtps://u%40k.no:p%3Aw@smtp.office365.com")
    assert (tls.port, tls.implicit_tls, tls.username, tls.password) == (
        465,
        True,
        "u@k.no",
        "p:w",
    )
    assert parse_smtp_url("smtp://relay:2525").port == 2525
    for bad in ("http://mail", "smtp://", "smtp://host:notaport"):
        with pytest.raises(ConfigError, match="SMTP_URL"):
            parse_smtp_url(bad)


# -- webhook ------------------------------------------------------------------------------------


def ticket_hook(secret: bytes, seen: list[dict[str, Any]], answer: Any) -> web.Application:
    async def hook(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        if not verify(
            secret,
            request.headers.get(TIMESTAMP_HEADER, ""),
            raw,
            request.headers.get(SIGNATURE_HEADER, ""),
        ):
            return web.json_response({"error": "bad signature"}, status=401)
        seen.append(json.loads(raw))
        if answer is None:
            return web.Response(status=204)
        return web.json_response(answer, status=201)

    app = web.Application()
    app.router.add_post("/inbound/eadm", hook)
    return app


async def test_webhook_ticket_with_reference_in_the_answer() -> None:
    seen: list[dict[str, Any]] = []
    answer = {"reference": "INC0012345", "url": "https://helpdesk.example/INC0012345"}
    async with serving(ticket_hook(b"delt-hemmelighet", seen, answer)) as base:
        target = WebhookTarget(f"{base}/inbound/eadm", "delt-hemmelighet")
        ref = await target.open(TICKET)
        assert (await target.check())[0]
    assert (ref.reference, ref.url) == ("INC0012345", "https://helpdesk.example/INC0012345")
    [payload] = seen
    assert payload["action"] == "ticket"
    assert payload["subject"] == TICKET.subject
    assert payload["description"] == TICKET.description
    assert payload["tenant"] == "Bærum kommune"
    assert payload["alert_id"] == 42
    assert payload["requester_name"] == "Kari Ødegård"
    assert payload["requester_email"] == "kari.nordmann@baerum.kommune.no"
    assert payload["attachments"] == [
        {"filename": a.filename, "content": a.content} for a in TICKET.attachments
    ]


async def test_webhook_ticket_without_reference_gets_one_made_up() -> None:
    seen: list[dict[str, Any]] = []
    async with serving(ticket_hook(b"s", seen, None)) as base:
        ref = await WebhookTarget(f"{base}/inbound/eadm", "s").open(TICKET)
    async with serving(ticket_hook(b"s", seen, {"key": "EADM-7"})) as base:
        keyed = await WebhookTarget(f"{base}/inbound/eadm", "s").open(TICKET)
    assert re.fullmatch(r"EADM-42-\d{12}", ref.reference)
    assert ref.url is None
    assert keyed.reference == "EADM-7"


async def test_webhook_ticket_failures() -> None:
    async with serving(ticket_hook(b"right", [], {})) as base:
        with pytest.raises(ActionError, match="TICKET_WEBHOOK_SECRET"):
            await WebhookTarget(f"{base}/inbound/eadm", "wrong").open(TICKET)
        with pytest.raises(ActionError, match="TICKET_WEBHOOK_URL"):
            await WebhookTarget(f"{base}/elsewhere", "right").open(TICKET)
    target = WebhookTarget(f"http://127.0.0.1:{free_port()}/inbound", "s", timeout=2)
    with pytest.raises(ActionError, match="cannot reach"):
        await target.open(TICKET)
    ok, message = await target.check()
    assert not ok and "TICKET_WEBHOOK_URL" in message


# -- Zendesk ------------------------------------------------------------------------------------

AGENT, API_TOKEN = "servicedesk@kommune.no", "zd-api-token-123"


@dataclass
class ZendeskDouble:
    """Answers like Zendesk Support for the three calls the target makes."""

    token: str = API_TOKEN
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    tickets: list[dict[str, Any]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def authorized(self, request: web.Request) -> bool:
        expected = base64.b64encode(f"{AGENT}/token:{self.token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}"

    def app(self) -> web.Application:
        @web.middleware
        async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
            self.calls.append(f"{request.method} {request.path}")
            if not self.authorized(request):
                return web.json_response({"error": "Couldn't authenticate you"}, status=401)
            return await handler(request)

        app = web.Application(middlewares=[auth])
        app.router.add_post("/api/v2/uploads.json", self.upload)
        app.router.add_post("/api/v2/tickets.json", self.create)
        app.router.add_get("/api/v2/users/me.json", self.me)
        return app

    async def upload(self, request: web.Request) -> web.Response:
        assert request.content_type == "text/plain"
        name = request.query["filename"]
        token = f"upl{len(self.uploads) + 1}x7K"
        self.uploads[token] = (name, await request.read())
        attachment = {"id": 498, "file_name": name, "content_type": "text/plain"}
        return web.json_response({"upload": {"token": token, "attachment": attachment}}, status=201)

    async def create(self, request: web.Request) -> web.Response:
        assert request.content_type == "application/json"
        data = await request.json()
        ticket = data["ticket"]
        for token in ticket["comment"].get("uploads", []):
            if token not in self.uploads:
                return web.json_response(
                    {"error": "RecordInvalid", "details": {"uploads": ["unknown token"]}},
                    status=422,
                )
        if not ticket.get("subject") or not ticket["comment"].get("body"):
            return web.json_response({"error": "RecordInvalid"}, status=422)
        self.tickets.append(ticket)
        return web.json_response(
            {"ticket": {"id": 35436, "subject": ticket["subject"], "status": "new"}}, status=201
        )

    async def me(self, request: web.Request) -> web.Response:
        return web.json_response({"user": {"id": 1, "email": AGENT, "role": "agent"}})


async def test_zendesk_uploads_then_creates_the_ticket() -> None:
    double = ZendeskDouble()
    async with serving(double.app()) as base:
        target = ZendeskTarget(base + "/", AGENT, API_TOKEN)
        assert target.describe == f"Zendesk at {base}"
        ref = await target.open(TICKET)
        ok, message = await target.check()
    assert ok, message
    assert (ref.reference, ref.url) == ("#35436", f"{base}/agent/tickets/35436")
    assert double.calls[:3] == [
        "POST /api/v2/uploads.json",
        "POST /api/v2/uploads.json",
        "POST /api/v2/tickets.json",
    ]
    assert sorted(double.uploads.values()) == sorted(
        (a.filename, a.content.encode()) for a in TICKET.attachments
    )
    [ticket] = double.tickets
    assert ticket == {
        "subject": TICKET.subject,
        "comment": {"body": TICKET.description, "uploads": list(double.uploads)},
        "requester": {"name": "Kari Ødegård", "email": "kari.nordmann@baerum.kommune.no"},
        "priority": "high",
        "tags": ["eadm", "eadm-bot", "baerum-kommune"],
    }


async def test_zendesk_without_requester_email_or_attachments() -> None:
    double = ZendeskDouble()
    bare = Ticket("s", "body", "demo", 1, "Ola", None)
    async with serving(double.app()) as base:
        await ZendeskTarget(base, AGENT, API_TOKEN).open(bare)
    [ticket] = double.tickets
    assert "requester" not in ticket
    assert ticket["comment"] == {"body": "body"}
    assert double.uploads == {}


async def test_zendesk_wrong_token() -> None:
    double = ZendeskDouble(token="the-real-one")
    async with serving(double.app()) as base:
        target = ZendeskTarget(base, AGENT, "revoked")
        with pytest.raises(ActionError, match="ZENDESK_TOKEN") as caught:
            await target.open(TICKET)
        ok, message = await target.check()
    assert "401" in str(caught.value) and "ZENDESK_EMAIL" in str(caught.value)
    assert double.tickets == []
    assert not ok and "ZENDESK_TOKEN" in message


async def test_zendesk_invalid_ticket_and_server_error() -> None:
    async def invalid(request: web.Request) -> web.Response:
        details = {"requester": [{"description": "Requester: Email is not properly formatted"}]}
        return web.json_response({"error": "RecordInvalid", "details": details}, status=422)

    async def broken(request: web.Request) -> web.Response:
        return web.json_response({"error": "oops"}, status=503)

    app = web.Application()
    app.router.add_post("/api/v2/tickets.json", invalid)
    app.router.add_post("/down/api/v2/tickets.json", broken)
    bare = Ticket("s", "body", "demo", 1, "Ola", "not-an-address")
    async with serving(app) as base:
        with pytest.raises(ActionError, match="Email is not properly formatted"):
            await ZendeskTarget(base, AGENT, API_TOKEN).open(bare)
        with pytest.raises(ActionError, match=r"503.*try again"):
            await ZendeskTarget(f"{base}/down", AGENT, API_TOKEN).open(bare)


async def test_zendesk_unreachable() -> None:
    target = ZendeskTarget(f"http://127.0.0.1:{free_port()}", AGENT, API_TOKEN, timeout=2)
    with pytest.raises(ActionError, match="ZENDESK_URL"):
        await target.open(TICKET)
    ok, message = await target.check()
    assert not ok and "ZENDESK_URL" in message


def test_tags_are_ascii_slugs() -> None:
    assert tag("Bærum kommune") == "baerum-kommune"
    assert tag("Tromsø") == "tromso"
    assert tag("Våler (Innlandet)") == "vaaler-innlandet"


# -- choosing -----------------------------------------------------------------------------------


def tenant(**ticket: Any) -> Tenant:
    return Tenant(
        name="demo-kommune",
        eadm_url="https://eadm.example.no",
        channel="C0123",
        ticket=TicketConfig(**ticket),
    )


def test_target_for_each_kind() -> None:
    assert target_for(tenant()) is None
    mail = target_for(
        tenant(kind="email", email_to="support@identum.no", smtp_url="smtp://mail.kommune.no")
    )
    assert isinstance(mail, EmailTarget) and mail.describe == "e-mail to support@identum.no"
    hook = target_for(tenant(kind="webhook", url="https://hd.example/in", secret="x"))
    assert isinstance(hook, WebhookTarget) and hook.secret == "x"
    zendesk = target_for(
        tenant(
            kind="zendesk",
            url="https://kommune.zendesk.com",
            zendesk_email=AGENT,
            zendesk_token="t",
        )
    )
    assert isinstance(zendesk, ZendeskTarget)
    assert zendesk.describe == "Zendesk at https://kommune.zendesk.com"
    with pytest.raises(ConfigError) as caught:
        target_for(tenant(kind="zendesk", url="https://kommune.zendesk.com"))
    assert [p.split(":")[0] for p in caught.value.problems] == ["ZENDESK_EMAIL", "ZENDESK_TOKEN"]
    with pytest.raises(ConfigError, match="SMTP_URL"):
        target_for(tenant(kind="email", email_to="support@identum.no"))
