"""Buttons on alert messages. Until the actions are wired, a click is answered politely."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.services import Services

log = logging.getLogger(__name__)


def register(app: AsyncApp, services: Services) -> None:
    @app.action(re.compile(r"^alert\."))
    async def alert_action(ack: Any, respond: Any) -> None:
        await ack()
        await respond(text="Coming soon.", response_type="ephemeral", replace_original=False)
