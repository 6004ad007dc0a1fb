"""Support ticket targets: where the "Open support ticket" button sends the prepared ticket.

Three kinds, chosen per tenant: e-mail over SMTP (any helpdesk with an inbound address, and
the vendor's support address), a signed JSON webhook (automation in TopDesk, ServiceNow, Jira
and the like), and Zendesk's ticket API. The caller writes the text; a target only delivers
it. Every failure is an ActionError whose message names the setting to check, because the
admin reads it in Slack, far from the bot's log.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import ssl
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from secrets import token_hex
from typing import Any, NoReturn, Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib
import httpx

from bot.adapters.runners import post_signed, probe
from bot.core.errors import ActionError, ConfigError
from bot.core.settings import Tenant

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: str


@dataclass(frozen=True, slots=True)
class Ticket:
    subject: str
    description: str  # plain text, already written by the caller
    tenant: str
    alert_id: int
    requester_name: str
    requester_email: str | None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class TicketRef:
    reference: str
    url: str | None = None


class TicketTarget(Protocol):
    describe: str  # where the ticket goes, for the confirm dialog

    async def open(self, ticket: Ticket) -> TicketRef:
        """Deliver the ticket. Raises ActionError with what failed and what to check."""
        ...

    async def check(self) -> tuple[bool, str]:
        """Whether the target is reachable with its settings, and if not, what to fix."""
        ...


def _fallback_reference(ticket: Ticket) -> str:
    return f"EADM-{ticket.alert_id}-{datetime.now(UTC):%Y%m%d%H%M}"


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# -- e-mail -------------------------------------------------------------------------------------


class _NoStartTLS(aiosmtplib.SMTPException):
    """The server offers no STARTTLS, and the password in SMTP_URL must not cross in clear."""


class _NoLogin(aiosmtplib.SMTPException):
    """The server offers no AUTH, and SMTP_URL names a user."""


def _raised_from(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """`exc`, or the error it was raised from, when of `kind`: aiosmtplib wraps the ssl
    module's errors in its own connect error."""
    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, kind):
        seen = seen.__cause__
    return seen


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://[user:password@]host[:port]` or `smtps://...`; user and password URL-decoded.

    Raises ConfigError naming SMTP_URL, without echoing the password.
    """
    parts = urlsplit(url.strip())
    problem = None
    if parts.scheme not in ("smtp", "smtps"):
        problem = "must start with smtp:// or smtps://"
    elif not parts.hostname:
        problem = "has no host name"
    try:
        port = parts.port
    except ValueError:
        problem = "has a port that is not a number between 1 and 65535"
        port = None
    if problem:
        raise ConfigError(
            [
                f"SMTP_URL: {problem}; set it to smtp://[user:password@]host[:port] (STARTTLS) "
                "or smtps://[user:password@]host[:port] (TLS from the start)"
            ]
        )
    implicit = parts.scheme == "smtps"
    return SmtpServer(
        host=parts.hostname or "",
        port=port or (465 if implicit else 587),
        implicit_tls=implicit,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


class EmailTarget:
    """Sends the ticket as a plain-text e-mail with the attachments as text files."""

    def __init__(
        self,
        to: str,
        smtp_url: str,
        email_from: str | None = None,
        *,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.to = to
        self.server = parse_smtp_url(smtp_url)
        self.email_from = email_from or f"eadm-bot@{socket.gethostname().lower()}"
        self.timeout = timeout
        self.tls_context = tls_context
        self.describe = f"e-mail to {to}"

    def _client(self) -> aiosmtplib.SMTP:
        server = self.server
        if server.implicit_tls:
            start_tls: bool | None = False
        elif server.username:
            # A password never crosses the wire in clear: no STARTTLS, no login.
            start_tls = True
        else:
            start_tls = None  # upgrade when the server offers it
        return aiosmtplib.SMTP(
            hostname=server.host,
            port=server.port,
            use_tls=server.implicit_tls,
            start_tls=start_tls,
            tls_context=self.tls_context,
            timeout=self.timeout,
        )

    def message(self, ticket: Ticket) -> EmailMessage:
        """The e-mail for `ticket`; its Message-ID is the ticket's reference."""
        message = EmailMessage()
        sender = self.email_from
        if not parseaddr(sender)[0]:
            sender = formataddr(("eAdm bot", sender))
        domain = parseaddr(self.email_from)[1].rpartition("@")[2] or "eadm-bot.invalid"
        message["Subject"] = ticket.subject
        message["From"] = sender
        message["To"] = self.to
        if ticket.requester_email:
            message["Reply-To"] = formataddr((ticket.requester_name, ticket.requester_email))
        message["Date"] = formatdate(localtime=True)
        # Short enough not to be folded onto a second header line (make_msgid's is not), and
        # with our own domain: make_msgid's default asks DNS for this host's name.
        stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        message["Message-ID"] = f"<{stamp}.eadm-{ticket.alert_id}.{token_hex(4)}@{domain}>"
        # Lets a helpdesk's mail rules sort and deduplicate without parsing the subject.
        message["X-Eadm-Tenant"] = ticket.tenant
        message["X-Eadm-Alert-Id"] = str(ticket.alert_id)
        message.set_content(ticket.description)
        for attachment in ticket.attachments:
            message.add_attachment(
                attachment.content, subtype="plain", filename=attachment.filename
            )
        return message

    async def open(self, ticket: Ticket) -> TicketRef:
        message = self.message(ticket)
        smtp = self._client()
        try:
            await self._connect(smtp)
            await self._login(smtp)
            await smtp.send_message(message)
        except (aiosmtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise ActionError(self._explain(exc)) from None
        finally:
            await _close(smtp)
        log.info("[%s] ticket e-mailed to %s as %s", ticket.tenant, self.to, message["Message-ID"])
        return TicketRef(reference=str(message["Message-ID"]))

    async def _connect(self, smtp: aiosmtplib.SMTP) -> None:
        """aiosmtplib says "no STARTTLS" and "no AUTH" with a bare SMTPException, as it says
        other things; the call that raised it, and what the server offers, tell them apart."""
        try:
            await smtp.connect()
        except aiosmtplib.SMTPException as exc:
            starttls = bool(self.server.username) and not self.server.implicit_tls  # _client's
            if type(exc) is aiosmtplib.SMTPException and starttls:
                raise _NoStartTLS(str(exc)) from exc
            raise

    async def _login(self, smtp: aiosmtplib.SMTP) -> None:
        if not self.server.username:
            return
        try:
            await smtp.login(self.server.username, self.server.password or "")
        except aiosmtplib.SMTPException as exc:
            if type(exc) is aiosmtplib.SMTPException and not smtp.supports_extension("auth"):
                raise _NoLogin(str(exc)) from exc
            raise

    async def check(self) -> tuple[bool, str]:
        smtp = self._client()
        try:
            await self._connect(smtp)
            if smtp.is_ehlo_or_helo_needed:
                await smtp.ehlo()
            await self._login(smtp)
        except (aiosmtplib.SMTPException, ssl.SSLError, OSError) as exc:
            await _close(smtp)
            return False, self._explain(exc)
        how = "TLS" if smtp.get_transport_info("sslcontext") is not None else "no TLS"
        await _close(smtp)
        login = f", logged in as {self.server.username}" if self.server.username else ""
        return True, f"SMTP server {self._where()} answers ({how}{login})"

    def _where(self) -> str:
        return f"{self.server.host}:{self.server.port}"

    def _explain(self, exc: BaseException) -> str:
        where = self._where()
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            return (
                f"the SMTP server {where} refused the user name or password ({exc.code} "
                f"{_excerpt(exc.message, 120)}); check the user and password in SMTP_URL "
                "(URL-encode special characters, @ as %40)"
            )
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPRecipientRefused):
            return (
                f"the SMTP server {where} refused the recipient {self.to}; check "
                "TICKET_EMAIL_TO, and that the server relays to it for this sender"
            )
        if isinstance(exc, aiosmtplib.SMTPSenderRefused):
            return (
                f"the SMTP server {where} refused the sender {self.email_from}; set "
                "TICKET_EMAIL_FROM to an address this SMTP user may send as"
            )
        if isinstance(exc, aiosmtplib.SMTPConnectTimeoutError | aiosmtplib.SMTPTimeoutError):
            return (
                f"the SMTP server {where} did not answer within {self.timeout:g} s; check the "
                "host and port in SMTP_URL and that a firewall lets this machine reach it"
            )
        text = str(exc)
        if _raised_from(exc, ssl.SSLCertVerificationError) is not None:
            reason = getattr(exc, "verify_message", None) or _excerpt(text, 120)
            return (
                f"the TLS certificate of the SMTP server {where} could not be verified ({reason}); "
                "check that the host name in SMTP_URL is the one on the certificate and that a "
                "certificate authority this machine trusts issued it"
            )
        # aiosmtplib reports a failed implicit-TLS handshake as a connect error raised from it.
        if _raised_from(exc, ssl.SSLError) is not None:
            return (
                f"TLS with the SMTP server {where} failed ({_excerpt(text, 120)}); if that port "
                "does not speak TLS from the start, use smtp:// (STARTTLS, usually port 587) "
                "instead of smtps:// in SMTP_URL"
            )
        if isinstance(exc, aiosmtplib.SMTPConnectError | OSError):
            return (
                f"cannot connect to the SMTP server {where} ({_excerpt(str(exc), 120)}); check "
                "the host and port in SMTP_URL and that a firewall lets this machine reach it"
            )
        if isinstance(exc, _NoStartTLS):
            return (
                f"the SMTP server {where} does not offer STARTTLS, and the bot will not send the "
                "password from SMTP_URL unencrypted; use smtps:// or a server port with STARTTLS"
            )
        if isinstance(exc, _NoLogin):
            return (
                f"the SMTP server {where} does not offer login; remove user and password from "
                "SMTP_URL, or use the port where it offers AUTH (usually 587)"
            )
        return f"the SMTP server {where} failed: {_excerpt(text, 160)}; check SMTP_URL"


async def _close(smtp: aiosmtplib.SMTP) -> None:
    """QUIT politely when still connected; a failing QUIT must not hide the real error."""
    if not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


# -- webhook ------------------------------------------------------------------------------------


class WebhookTarget:
    """POSTs the whole ticket as signed JSON, for a helpdesk's inbound automation."""

    def __init__(self, url: str, secret: str | bytes | None = None, timeout: float = 20.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.describe = f"webhook {url}"

    async def open(self, ticket: Ticket) -> TicketRef:
        payload = {
            "action": "ticket",
            "subject": ticket.subject,
            "description": ticket.description,
            "tenant": ticket.tenant,
            "alert_id": ticket.alert_id,
            "requester_name": ticket.requester_name,
            "requester_email": ticket.requester_email,
            "attachments": [
                {"filename": a.filename, "content": a.content} for a in ticket.attachments
            ],
            "requested_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        }
        try:
            response = await post_signed(self.url, payload, self.secret, self.timeout)
        except httpx.TimeoutException:
            raise ActionError(
                f"the ticket webhook {self.url} did not answer within {self.timeout:g} s; the "
                "ticket may or may not exist, so check the helpdesk before trying again"
            ) from None
        except httpx.HTTPError as exc:
            raise ActionError(
                f"cannot reach the ticket webhook {self.url} ({type(exc).__name__}); check "
                "TICKET_WEBHOOK_URL, DNS and firewalls"
            ) from None
        status = response.status_code
        if not 200 <= status < 300:
            hint = "check the receiver's log"
            if status in (401, 403):
                hint = "check that TICKET_WEBHOOK_SECRET matches the receiver's secret"
            elif status == 404:
                hint = "check TICKET_WEBHOOK_URL"
            raise ActionError(
                f"the ticket webhook {self.url} answered {status} {response.reason_phrase} "
                f"({_excerpt(response.text, 150)}); {hint}"
            )
        data = _json(response)
        reference = None
        url = None
        if isinstance(data, dict):
            found = next((data[k] for k in ("reference", "id", "key") if data.get(k)), None)
            reference = str(found) if found is not None else None
            url = str(data["url"]) if data.get("url") else None
        return TicketRef(reference=reference or _fallback_reference(ticket), url=url)

    async def check(self) -> tuple[bool, str]:
        return await probe(self.url, "TICKET_WEBHOOK_URL", seconds=min(self.timeout, 10.0))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


# -- Zendesk ------------------------------------------------------------------------------------


def tag(text: str) -> str:
    """`text` as a Zendesk tag: tags cannot hold spaces, and ASCII keeps them searchable."""
    folded = text.lower().replace("æ", "ae").replace("ø", "o").replace("å", "aa")
    folded = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9_]+", "-", folded).strip("-") or "tenant"


class ZendeskTarget:
    """Creates a ticket through the Zendesk Support API, attachments uploaded first."""

    def __init__(self, base_url: str, email: str, token: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.email = email
        self.timeout = timeout
        # Zendesk's API token form of Basic auth: the user is "<agent e-mail>/token".
        self._auth = httpx.BasicAuth(f"{email}/token", token)
        self.describe = f"Zendesk at {self.base_url}"

    async def open(self, ticket: Ticket) -> TicketRef:
        async with httpx.AsyncClient(
            auth=self._auth,
            timeout=self.timeout,
            headers={"Accept": "application/json", "User-Agent": "eadm-bot"},
        ) as client:
            tokens = [await self._upload(client, a) for a in ticket.attachments]
            comment: dict[str, Any] = {"body": ticket.description}
            if tokens:
                comment["uploads"] = tokens
            body: dict[str, Any] = {
                "subject": ticket.subject,
                "comment": comment,
                "priority": "high",
                "tags": ["eadm", "eadm-bot", tag(ticket.tenant)],
            }
            if ticket.requester_email:
                body["requester"] = {
                    "name": ticket.requester_name,
                    "email": ticket.requester_email,
                }
            response = await self._send(
                client, "POST", "/api/v2/tickets.json", "create the ticket", json={"ticket": body}
            )
        created = _json(response)
        ticket_id = created.get("ticket", {}).get("id") if isinstance(created, dict) else None
        if ticket_id is None:
            raise ActionError(
                f"{self.describe} answered {response.status_code} without a ticket id; check "
                "that ZENDESK_URL is your Zendesk address (https://<subdomain>.zendesk.com)"
            )
        log.info("[%s] Zendesk ticket #%s created", ticket.tenant, ticket_id)
        return TicketRef(
            reference=f"#{ticket_id}", url=f"{self.base_url}/agent/tickets/{ticket_id}"
        )

    async def _upload(self, client: httpx.AsyncClient, attachment: Attachment) -> str:
        response = await self._send(
            client,
            "POST",
            "/api/v2/uploads.json",
            f"upload {attachment.filename}",
            params={"filename": attachment.filename},
            content=attachment.content.encode("utf-8"),
            headers={"Content-Type": "text/plain"},
        )
        data = _json(response)
        token = data.get("upload", {}).get("token") if isinstance(data, dict) else None
        if not token:
            raise ActionError(
                f"{self.describe} took {attachment.filename} but returned no upload token; "
                "check that ZENDESK_URL is your Zendesk address"
            )
        return str(token)

    async def _send(
        self, client: httpx.AsyncClient, method: str, path: str, what: str, **kwargs: Any
    ) -> httpx.Response:
        url = f"{self.base_url}{path}"
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise ActionError(
                f"{self.describe} did not answer within {self.timeout:g} s while trying to "
                f"{what}; check the Zendesk status page, then try again"
            ) from None
        except httpx.HTTPError as exc:
            raise ActionError(
                f"cannot reach {self.describe} ({type(exc).__name__}); check ZENDESK_URL, DNS "
                "and firewalls"
            ) from None
        if response.status_code in (200, 201):
            return response
        raise ActionError(f"could not {what}: {self._explain(response)}")

    def _explain(self, response: httpx.Response) -> str:
        status = response.status_code
        head = f"{self.describe} answered {status} {response.reason_phrase}"
        if status == 401:
            return (
                f"{head}; check ZENDESK_EMAIL (an agent's e-mail address) and ZENDESK_TOKEN (an "
                "API token from Admin Center, with token access turned on)"
            )
        if status == 403:
            return (
                f"{head}; the user in ZENDESK_EMAIL may not do this: it must be an agent or "
                "admin, and attachments must be allowed in Zendesk"
            )
        if status == 404:
            return f"{head}; check ZENDESK_URL (https://<subdomain>.zendesk.com, no path)"
        if status == 422:
            return (
                f"{head}: Zendesk found the ticket invalid ({_zendesk_details(response)}); "
                "check the requester's e-mail address and required ticket fields in Zendesk"
            )
        if status == 429:
            wait = response.headers.get("Retry-After", "60")
            return f"{head}: the API rate limit is reached; try again in {wait} s"
        if status >= 500:
            return f"{head}: Zendesk has a problem of its own; try again in a few minutes"
        return f"{head} ({_zendesk_details(response)}); check ZENDESK_URL"

    async def check(self) -> tuple[bool, str]:
        url = f"{self.base_url}/api/v2/users/me.json"
        try:
            async with httpx.AsyncClient(auth=self._auth, timeout=min(self.timeout, 10.0)) as c:
                response = await c.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            return False, f"cannot reach {url} ({type(exc).__name__}); check ZENDESK_URL"
        if response.status_code != 200:
            return False, self._explain(response)
        data = _json(response)
        user = data.get("user") if isinstance(data, dict) else None
        # Without valid credentials some accounts answer 200 with the anonymous user.
        if not isinstance(user, dict) or user.get("id") is None:
            return False, (
                f"{self.describe} did not accept the credentials; check ZENDESK_EMAIL and "
                "ZENDESK_TOKEN"
            )
        return True, f"{self.describe} accepts ZENDESK_TOKEN for {user.get('email', self.email)}"


def _zendesk_details(response: httpx.Response) -> str:
    data = _json(response)
    if isinstance(data, dict):
        details = data.get("details")
        if isinstance(details, dict):
            parts = []
            for field, problems in details.items():
                for problem in problems if isinstance(problems, list) else [problems]:
                    text = problem.get("description") if isinstance(problem, dict) else problem
                    parts.append(f"{field}: {text}")
            if parts:
                return _excerpt("; ".join(parts), 200)
        for key in ("description", "error", "message"):
            if isinstance(data.get(key), str):
                return _excerpt(data[key], 200)
    return _excerpt(response.text, 200)


# -- choosing -----------------------------------------------------------------------------------


def target_for(tenant: Tenant) -> TicketTarget | None:
    """The tenant's ticket target, or None when the ticket is only copied by hand.

    Raises ConfigError listing every missing setting of the chosen kind at once.
    """
    config = tenant.ticket
    secret = config.secret.get_secret_value() if config.secret else None
    smtp_url = config.smtp_url.get_secret_value() if config.smtp_url else None
    token = config.zendesk_token.get_secret_value() if config.zendesk_token else None
    if config.kind == "none":
        return None
    if config.kind == "email":
        if config.email_to and smtp_url:
            return EmailTarget(config.email_to, smtp_url, config.email_from or None)
        _missing(
            tenant,
            ("TICKET_EMAIL_TO", config.email_to, "set the support address"),
            ("SMTP_URL", smtp_url, "set it to smtp://[user:password@]host[:port]"),
        )
    if config.kind == "webhook":
        if config.url:
            return WebhookTarget(config.url, secret)
        _missing(tenant, ("TICKET_WEBHOOK_URL", None, "set the receiver's URL"))
    if config.url and config.zendesk_email and token:
        return ZendeskTarget(config.url, config.zendesk_email, token)
    _missing(
        tenant,
        ("ZENDESK_URL", config.url, "set it to https://<subdomain>.zendesk.com"),
        ("ZENDESK_EMAIL", config.zendesk_email, "set it to the e-mail address of an agent"),
        ("ZENDESK_TOKEN", token, "create an API token in Zendesk Admin Center"),
    )


def _missing(tenant: Tenant, *settings: tuple[str, str | None, str]) -> NoReturn:
    raise ConfigError(
        [
            f"{name}: missing for tenant {tenant.name}; {fix}."
            for name, value, fix in settings
            if not value
        ]
    )


__all__ = [
    "Attachment",
    "EmailTarget",
    "Ticket",
    "TicketRef",
    "TicketTarget",
    "WebhookTarget",
    "ZendeskTarget",
    "parse_smtp_url",
    "target_for",
]
