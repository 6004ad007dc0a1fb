"""`/eadm`: ack at once, then answer through `respond` (private unless `status public`). The
channel it was typed in goes along: it says the tenant when none is named.

A command Slack would not send (no user, a text longer than any command) is answered in the
ack itself, which Slack shows the person at once."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.usecases import UseCases
from bot.slack import ids, payloads
from handlers.actions import answer


def register(app: AsyncApp, cases: UseCases) -> None:
    @app.command(ids.COMMAND)
    async def eadm(ack: Any, command: dict[str, Any], respond: Any) -> None:
        asked = payloads.command(command)
        if isinstance(asked, payloads.Refused):
            await ack(text=cases.refused(asked).text)
            return
        await ack()
        reply = await cases.dispatch.command(asked.text, asked.user, asked.channel)
        await answer(respond, reply)
