"""Buttons on alert messages: ack first, delegate to one use case, answer privately.

Slack waits three seconds for the ack; the work (a rerun runner, a slow SMTP server) runs
after it. A button's value carries the alert's ID only; the use case decides who may act.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.context import Answer
from bot.app.usecases import UseCases
from bot.slack import ids


async def answer(respond: Any, reply: Answer) -> None:
    await respond(
        text=reply.text,
        blocks=reply.blocks,
        response_type="in_channel" if reply.public else "ephemeral",
        replace_original=False,
    )


def _clicked(body: dict[str, Any]) -> tuple[str, str]:
    """Who clicked, and the value of what they clicked (a select's chosen option)."""
    action = body["actions"][0]
    value = action.get("value") or (action.get("selected_option") or {}).get("value", "")
    return body["user"]["id"], str(value)


def _message(body: dict[str, Any]) -> tuple[str, str]:
    """The channel and ts of the message the click was on (a digest's picker opens its own
    alerts alone)."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
    return str(channel), str(container.get("message_ts") or "")


def register(app: AsyncApp, cases: UseCases) -> None:
    @app.action(ids.ACTION_ACK)
    async def acknowledge(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await answer(respond, await cases.alerts.acknowledge(*_clicked(body)))

    @app.action(ids.ACTION_DIGEST_PICK)
    async def digest_pick(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await answer(respond, await cases.alerts.details(*_clicked(body), *_message(body)))

    @app.action(ids.ACTION_SNOOZE)
    async def snooze(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await answer(respond, await cases.alerts.snooze(*_clicked(body)))

    @app.action(ids.ACTION_RERUN)
    async def rerun(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await answer(respond, await cases.reruns.from_alert(*_clicked(body)))

    @app.action(ids.ACTION_RERUN_TENANT)
    async def rerun_tenant(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        await answer(respond, await cases.reruns.for_tenant(*_clicked(body)))

    async def open_ticket(body: dict[str, Any], respond: Any, client: Any, again: bool) -> None:
        user, value = _clicked(body)
        view = await cases.support.ticket_view(user, value, again=again)
        if isinstance(view, Answer):
            await answer(respond, view)
        else:
            await client.views_open(trigger_id=body["trigger_id"], view=view)

    @app.action(ids.ACTION_TICKET)
    async def ticket(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        await open_ticket(body, respond, client, again=False)

    @app.action(ids.ACTION_TICKET_AGAIN)
    async def ticket_again(ack: Any, body: dict[str, Any], respond: Any, client: Any) -> None:
        await ack()
        await open_ticket(body, respond, client, again=True)

    @app.action(ids.ACTION_HOME_REFRESH)
    async def refresh_home(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        await cases.status.publish_home(body["user"]["id"])
