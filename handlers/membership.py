"""Slack's channel membership events: who joined or left a channel changes which tenants they
see at once, without waiting for the next read of their channels."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.usecases import UseCases


def register(app: AsyncApp, cases: UseCases) -> None:
    @app.event("member_joined_channel")
    async def joined(event: dict[str, Any]) -> None:
        cases.member_joined(str(event.get("user", "")), str(event.get("channel", "")))

    @app.event("member_left_channel")
    async def left(event: dict[str, Any]) -> None:
        cases.member_left(str(event.get("user", "")), str(event.get("channel", "")))
