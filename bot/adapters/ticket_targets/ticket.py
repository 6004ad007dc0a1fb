"""What a ticket target is given and answers: the prepared ticket, its attachments, and the
reference the helpdesk gave it; with the few helpers every target uses to read an answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx


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


def fallback_reference(ticket: Ticket) -> str:
    return f"EADM-{ticket.alert_id}-{datetime.now(UTC):%Y%m%d%H%M}"


def excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def json_or_none(response: httpx.Response) -> Any:
    """The body as JSON, or None when it is not: a target reads what it can of an answer."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
