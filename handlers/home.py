"""The App Home tab: published when someone opens it, and again when the state changes."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.usecases import UseCases
from bot.slack import payloads


def register(app: AsyncApp, cases: UseCases) -> None:
    @app.event("app_home_opened")
    async def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user = payloads.home_user(event)
        if isinstance(user, payloads.Refused):
            cases.refused(user)
            return
        await cases.status.publish_home(user)
