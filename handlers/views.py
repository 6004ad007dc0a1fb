"""The support ticket modal's submission: ack (which closes the modal), then send the ticket
and tell the person how it went (or why it was refused), privately, in the alert's channel."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.usecases import UseCases
from bot.slack import ids

log = logging.getLogger(__name__)


def _value(view: dict[str, Any], block: str) -> str:
    return str(view["state"]["values"][block]["value"].get("value") or "")


def register(app: AsyncApp, cases: UseCases) -> None:
    @app.view(ids.VIEW_TICKET)
    async def ticket_submitted(ack: Any, body: dict[str, Any], client: Any) -> None:
        await ack()
        view = body["view"]
        user = body["user"]["id"]
        done = await cases.support.submit_ticket(
            user,
            view.get("private_metadata", ""),
            _value(view, "subject"),
            _value(view, "description"),
        )
        if done.channel is None:
            log.warning("cannot tell %s how the ticket went: %s", user, done.answer.text)
            return
        try:
            await client.chat_postEphemeral(
                channel=done.channel, user=user, text=done.answer.text, thread_ts=done.thread_ts
            )
        except Exception as exc:  # the ticket went out; a lost note must not hide that
            log.warning("could not tell %s how the ticket went: %s", user, exc)
