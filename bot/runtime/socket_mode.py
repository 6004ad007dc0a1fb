"""Socket Mode: the bot's Bolt app connected to Slack over a WebSocket instead of HTTP.

slack_sdk reconnects by itself (on a dropped socket, a failed ping or Slack's `disconnect`
message) but speaks of sessions by hash; this module makes the log say plainly that the bot
lost Slack and got it back.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp

log = logging.getLogger(__name__)


async def connect(bolt: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Connect `bolt` to Slack; the caller closes the handler (`close_async`) at shutdown."""
    handler = AsyncSocketModeHandler(bolt, app_token)
    client = handler.client
    connect_once = client.connect
    connections = 0

    async def connect_and_tell() -> None:
        nonlocal connections
        if connections:
            log.info("the Socket Mode connection to Slack was closed; reconnecting")
        await connect_once()
        if client.closed:
            return
        connections += 1
        if connections == 1:
            log.info("connected to Slack over Socket Mode")
        else:
            log.info("reconnected to Slack over Socket Mode (connection %d)", connections)

    client.connect = connect_and_tell  # type: ignore[method-assign]
    await handler.connect_async()
    return handler
