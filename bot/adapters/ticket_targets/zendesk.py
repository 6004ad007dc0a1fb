"""The Zendesk ticket target: a ticket through the Zendesk Support API, its attachments
uploaded first.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

import httpx

from bot.adapters.ticket_targets.ticket import Attachment, Ticket, TicketRef, excerpt, json_or_none
from bot.core.credentials import safe_url
from bot.core.errors import ActionError

log = logging.getLogger(__name__)


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
        self.describe = f"Zendesk at {safe_url(self.base_url)}"

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
        created = json_or_none(response)
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
        data = json_or_none(response)
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
        data = json_or_none(response)
        user = data.get("user") if isinstance(data, dict) else None
        # Without valid credentials some accounts answer 200 with the anonymous user.
        if not isinstance(user, dict) or user.get("id") is None:
            return False, (
                f"{self.describe} did not accept the credentials; check ZENDESK_EMAIL and "
                "ZENDESK_TOKEN"
            )
        return True, f"{self.describe} accepts ZENDESK_TOKEN for {user.get('email', self.email)}"


def _zendesk_details(response: httpx.Response) -> str:
    data = json_or_none(response)
    if isinstance(data, dict):
        details = data.get("details")
        if isinstance(details, dict):
            parts = []
            for field, problems in details.items():
                for problem in problems if isinstance(problems, list) else [problems]:
                    text = problem.get("description") if isinstance(problem, dict) else problem
                    parts.append(f"{field}: {text}")
            if parts:
                return excerpt("; ".join(parts), 200)
        for key in ("description", "error", "message"):
            if isinstance(data.get(key), str):
                return excerpt(data[key], 200)
    return excerpt(response.text, 200)
