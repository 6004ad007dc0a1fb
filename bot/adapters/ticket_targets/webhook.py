"""The webhook ticket target: the whole ticket as signed JSON, for a helpdesk's inbound
automation (TopDesk, ServiceNow, Jira and the like).
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from bot.adapters.runners import probe
from bot.adapters.signing import post_signed
from bot.adapters.ticket_targets.ticket import (
    Ticket,
    TicketRef,
    excerpt,
    fallback_reference,
    json_or_none,
)
from bot.core.credentials import mask_text, safe_url
from bot.core.errors import ActionError


class WebhookTarget:
    """POSTs the whole ticket as signed JSON, for a helpdesk's inbound automation."""

    def __init__(self, url: str, secret: str | bytes | None = None, timeout: float = 20.0) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.shown = safe_url(url)  # the address may carry the receiver's credential
        self.describe = f"webhook {self.shown}"

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
                f"the ticket webhook {self.shown} did not answer within {self.timeout:g} s; the "
                "ticket may or may not exist, so check the helpdesk before trying again"
            ) from None
        except httpx.HTTPError as exc:
            raise ActionError(
                f"cannot reach the ticket webhook {self.shown} ({type(exc).__name__}); check "
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
                f"the ticket webhook {self.shown} answered {status} {response.reason_phrase} "
                f"({mask_text(excerpt(response.text, 150))}); {hint}"
            )
        data = json_or_none(response)
        reference = None
        url = None
        if isinstance(data, dict):
            found = next((data[k] for k in ("reference", "id", "key") if data.get(k)), None)
            reference = str(found) if found is not None else None
            url = str(data["url"]) if data.get("url") else None
        return TicketRef(reference=reference or fallback_reference(ticket), url=url)

    async def check(self) -> tuple[bool, str]:
        return await probe(self.url, "TICKET_WEBHOOK_URL", seconds=min(self.timeout, 10.0))
