"""What nothing else answers: a button, a form, a shortcut, a menu or an event this app does not
know (an old message's button, another app's payload, a request Slack would not send). Each is
acked, so Slack does not show an error, counted in the log, and where a person waits for an
answer, told in a short sentence. Registered last: the listeners before it win.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.usecases import UseCases
from bot.slack import payloads
from handlers.actions import answer

ANY = re.compile(".*")


def _name(value: Any) -> str:
    return repr(value)[:60]


def register(app: AsyncApp, cases: UseCases) -> None:
    @app.action(ANY)
    async def unknown_action(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else body
        what = (
            (first.get("action_id") or first.get("callback_id"))
            if isinstance(first, dict)
            else None
        )
        why = payloads.Refused("unknown", f"the action {_name(what)}", user=payloads.user_of(body))
        await answer(respond, cases.refused(why))

    @app.view(ANY)
    async def unknown_view(ack: Any, body: dict[str, Any]) -> None:
        view = body.get("view") or {}
        why = payloads.Refused(
            "unknown",
            f"the form {_name(view.get('callback_id'))}",
            answer="refused.form",
            user=payloads.user_of(body),
        )
        await ack(response_action="update", view=cases.refused_view(why))

    @app.view_closed(ANY)
    async def unknown_view_closed(ack: Any, body: dict[str, Any]) -> None:
        await ack()
        view = body.get("view") or {}
        cases.refused(
            payloads.Refused("unknown", f"the closed form {_name(view.get('callback_id'))}")
        )

    @app.shortcut(ANY)
    async def unknown_shortcut(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        why = payloads.Refused("unknown", f"the shortcut {_name(body.get('callback_id'))}")
        await answer(respond, cases.refused(why))

    @app.options(ANY)
    async def unknown_options(ack: Any, body: dict[str, Any]) -> None:
        await ack(options=[])
        cases.refused(payloads.Refused("unknown", f"the menu {_name(body.get('action_id'))}"))

    @app.command(ANY)
    async def unknown_command(ack: Any, command: dict[str, Any]) -> None:
        """A command this app never registered with Slack."""
        why = payloads.Refused(
            "unknown", f"the command {_name(command.get('command'))}", answer="refused.command"
        )
        await ack(text=cases.refused(why).text)

    @app.event(ANY)
    async def unknown_event(event: dict[str, Any]) -> None:
        cases.refused(payloads.Refused("unknown", f"the event {_name(event.get('type'))}"))
