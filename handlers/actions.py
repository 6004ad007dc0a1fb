"""Buttons on alert messages: ack first, delegate to one use case, answer privately.

Slack waits three seconds for the ack; the work (a rerun runner, a slow SMTP server) runs
after it. A button's value carries the alert's ID only; the use case decides who may act. A
click Slack would not send (no user, no value) is refused with a short answer.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.context import Answer
from bot.app.usecases import UseCases
from bot.slack import ids, payloads


async def answer(respond: Any, reply: Answer) -> None:
    """Tell the person privately (or the channel, for a public answer); a request without a
    response URL has nobody to tell."""
    if respond is None or not respond.response_url:
        return
    await respond(
        text=reply.text,
        blocks=reply.blocks,
        response_type="in_channel" if reply.public else "ephemeral",
        replace_original=False,
    )


def register(app: AsyncApp, cases: UseCases) -> None:
    async def clicked(body: dict[str, Any], respond: Any) -> payloads.Click | None:
        """Who clicked and what; None (and a short answer) for a click Slack would not send."""
        click = payloads.click(body)
        if isinstance(click, payloads.Refused):
            await answer(respond, cases.refused(click))
            return None
        return click

    @app.action(ids.ACTION_ACK)
    async def acknowledge(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        if click := await clicked(body, respond):
            await answer(respond, await cases.alerts.acknowledge(click.user, click.value))

    @app.action(ids.ACTION_DIGEST_PICK)
    async def digest_pick(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        if click := await clicked(body, respond):
            # The digest's own message: its picker opens its own alerts alone.
            reply = await cases.alerts.details(
                click.user, click.value, click.channel, click.message_ts
            )
            await answer(respond, reply)

    @app.action(ids.ACTION_SNOOZE)
    async def snooze(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        if click := await clicked(body, respond):
            await answer(respond, await cases.alerts.snooze(click.user, click.value))

    @app.action(ids.ACTION_RERUN)
    async def rerun(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        if click := await clicked(body, respond):
            await answer(respond, await cases.reruns.from_alert(click.user, click.value))

    @app.action(ids.ACTION_RERUN_TENANT)
    async def rerun_tenant(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        if click := await clicked(body, respond):
            await answer(respond, await cases.reruns.for_tenant(click.user, click.value))

    async def open_ticket(body: dict[str, Any], respond: Any, client: Any, again: bool) -> None:
        click = await clicked(body, respond)
        if click is None:
            return
        view = await cases.support.ticket_view(click.user, click.value, again=again)
        if isinstance(view, Answer):
            await answer(respond, view)
        elif click.trigger_id is None:
            why = payloads.Refused("field", "a ticket click without a trigger", user=click.user)
            await answer(respond, cases.refused(why))
        else:
            await client.views_open(trigger_id=click.trigger_id, view=view)

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
        user = payloads.user_of(body)
        if user is None:
            cases.refused(payloads.Refused("field", "a Refresh without a Slack user ID"))
            return
        await cases.status.refresh_home(user)
