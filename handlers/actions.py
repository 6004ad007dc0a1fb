"""Buttons on alert messages: ack first, authorise, delegate to the services, answer privately.

Slack waits three seconds for the ack; the work (a rerun runner, a slow SMTP server) runs
after it. A button's value carries the alert's ID only.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.services import Alert, Answer, Services
from bot.slack import ids

log = logging.getLogger(__name__)


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


async def _guarded(
    services: Services, body: dict[str, Any], respond: Any, action: str
) -> tuple[str, str, Alert] | None:
    """Who clicked, the value, and the alert it names, when they may act on it; otherwise
    they have been told why not and None comes back."""
    user, value = _clicked(body)
    alert, problem = await services.alert_for(value, user)
    if alert is None:
        await answer(respond, problem or Answer("?"))
        return None
    refusal = await services.authorize(user, action, tenant=alert.tenant, alert_id=alert.id)
    if refusal is not None:
        await answer(respond, refusal)
        return None
    return user, value, alert


def register(app: AsyncApp, services: Services) -> None:
    @app.action(ids.ACTION_ACK)
    async def acknowledge(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        if guarded := await _guarded(services, body, respond, "ack"):
            user, _, alert = guarded
            await answer(respond, await services.acknowledge(alert, user))

    @app.action(ids.ACTION_SNOOZE)
    async def snooze(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        if guarded := await _guarded(services, body, respond, "snooze"):
            user, value, alert = guarded
            choice = value.split(":", 1)[1] if ":" in value else ""
            await answer(respond, await services.snooze(alert, choice, user))

    @app.action(ids.ACTION_RERUN)
    async def rerun(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        if guarded := await _guarded(services, body, respond, "rerun"):
            user, _, alert = guarded
            tenant = services.tenant(alert.tenant)
            if tenant is not None:
                await answer(respond, await services.rerun(tenant, user, alert.id))

    @app.action(ids.ACTION_RERUN_TENANT)
    async def rerun_tenant(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        user, value = _clicked(body)
        tenant = services.tenant(value)
        refusal = await services.authorize(user, "rerun", tenant=value)
        if refusal or tenant is None:
            await answer(respond, refusal or Answer("?"))
            return
        await answer(respond, await services.rerun(tenant, user))

    async def open_ticket(body: dict[str, Any], respond: Any, client: Any, again: bool) -> None:
        if guarded := await _guarded(services, body, respond, "ticket"):
            user, _, alert = guarded
            view = await services.ticket_view(alert, user, again=again)
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
        await services.publish_home(body["user"]["id"])
