"""The support ticket modal's submission: ack (which closes the modal), then send the ticket
and tell the person how it went, privately, in the alert's channel."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.services import Services
from bot.slack import ids

log = logging.getLogger(__name__)


def _value(view: dict[str, Any], block: str) -> str:
    return str(view["state"]["values"][block]["value"].get("value") or "")


def register(app: AsyncApp, services: Services) -> None:
    @app.view(ids.VIEW_TICKET)
    async def ticket_submitted(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        view = body["view"]
        user = body["user"]["id"]
        refusal = await services.authorize(user, "ticket")
        if refusal:
            return
        alert, reply = await services.submit_ticket(
            view.get("private_metadata", ""),
            user,
            _value(view, "subject"),
            _value(view, "description"),
        )
        channel = alert.channel if alert else None
        if channel is None:
            return
        try:
            await client.chat_postEphemeral(
                channel=channel,
                user=user,
                text=reply.text,
                thread_ts=alert.message_ts if alert else None,
            )
        except Exception as exc:  # the ticket went out; a lost note must not hide that
            log.warning("could not tell %s how the ticket went: %s", user, exc)
