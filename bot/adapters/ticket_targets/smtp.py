"""The e-mail ticket target: the ticket as a plain-text e-mail over SMTP, for any helpdesk
with an inbound address and for the vendor's support address.
"""

from __future__ import annotations

import logging
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, parseaddr
from secrets import token_hex
from urllib.parse import unquote, urlsplit

import aiosmtplib

from bot.adapters.ticket_targets.ticket import Ticket, TicketRef, excerpt
from bot.core.errors import ActionError, ConfigError

log = logging.getLogger(__name__)


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
                f"{excerpt(exc.message, 120)}); check the user and password in SMTP_URL "
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
            reason = getattr(exc, "verify_message", None) or excerpt(text, 120)
            return (
                f"the TLS certificate of the SMTP server {where} could not be verified ({reason}); "
                "check that the host name in SMTP_URL is the one on the certificate and that a "
                "certificate authority this machine trusts issued it"
            )
        # aiosmtplib reports a failed implicit-TLS handshake as a connect error raised from it.
        if _raised_from(exc, ssl.SSLError) is not None:
            return (
                f"TLS with the SMTP server {where} failed ({excerpt(text, 120)}); if that port "
                "does not speak TLS from the start, use smtp:// (STARTTLS, usually port 587) "
                "instead of smtps:// in SMTP_URL"
            )
        if isinstance(exc, aiosmtplib.SMTPConnectError | OSError):
            return (
                f"cannot connect to the SMTP server {where} ({excerpt(str(exc), 120)}); check "
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
        return f"the SMTP server {where} failed: {excerpt(text, 160)}; check SMTP_URL"


async def _close(smtp: aiosmtplib.SMTP) -> None:
    """QUIT politely when still connected; a failing QUIT must not hide the real error."""
    if not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()
