"""The baseline for ack latency: a slack_bolt AsyncApp that acks every command and action and
does nothing else, served over HTTP the way eadm-bot serves its own (aiohttp, Bolt's request
verification, a client pointed at the same Slack double).

    python -m bench.bare_bolt PORT SLACK_API_URL
"""

from __future__ import annotations

import re
import sys
from typing import Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from testkit.e2e import BOT_TOKEN, SIGNING_SECRET


def build(slack_api_url: str) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=BOT_TOKEN, base_url=slack_api_url),
        signing_secret=SIGNING_SECRET,
        process_before_response=False,
    )

    @app.command(re.compile(".*"))
    async def command(ack: Any) -> None:
        await ack()

    @app.action(re.compile(".*"))
    async def action(ack: Any) -> None:
        await ack()

    return app


if __name__ == "__main__":
    port, api_url = int(sys.argv[1]), sys.argv[2]
    web_app = build(api_url).web_app(path="/slack/events", port=port)
    web_app.router.add_get("/healthz", lambda _request: web.json_response({"ok": True}))
    web.run_app(web_app, host="127.0.0.1", port=port, access_log=None, print=None)
