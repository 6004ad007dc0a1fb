"""The few Web API calls use cases make outside delivery: a message's permalink and
publishing a Home tab. Each failure is logged and swallowed: neither may break an answer."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


async def permalink(client: AsyncWebClient | None, channel: str, ts: str | None) -> str | None:
    """The link to a posted message, or None when it is not posted or Slack will not say."""
    if not ts or client is None:
        return None
    try:
        response = await client.chat_getPermalink(channel=channel, message_ts=ts)
    except (SlackApiError, OSError):
        return None
    link = response.get("permalink")
    return str(link) if link else None


async def publish_home(client: AsyncWebClient, user_id: str, view: dict[str, Any]) -> bool:
    try:
        await client.views_publish(user_id=user_id, view=view)
    except (SlackApiError, OSError) as exc:
        log.warning("could not publish the Home tab for %s: %s", user_id, exc)
        return False
    return True
