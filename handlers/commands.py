"""`/eadm`: ack at once, then answer through `respond` (private unless `status public`). The
channel it was typed in goes along: it says the tenant when none is named."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.usecases import UseCases
from bot.slack import ids
from handlers.actions import answer


def register(app: AsyncApp, cases: UseCases) -> None:
    @app.command(ids.COMMAND)
    async def eadm(ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack()
        reply = await cases.dispatch.command(
            command.get("text") or "", command["user_id"], command.get("channel_id")
        )
        await answer(respond, reply)
