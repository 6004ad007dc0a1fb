"""Acks first: every request is acked at once, however much work listeners still have after
their ack, and that work takes turns. Signed requests through a real Bolt AsyncApp whose client
talks to the Slack double; answers go to the double's response URL over one shared session."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.acks import AckFirst
from bot.sim.signing import form_headers, slash_command_body
from bot.sim.slack import SlackDouble
from testkit.e2e import BOT_TOKEN, SIGNING_SECRET, eventually


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    double = SlackDouble(token=BOT_TOKEN)
    await double.start()
    yield double
    await double.stop()


def _request(slack: SlackDouble, n: int) -> AsyncBoltRequest:
    body = slash_command_body(
        "/eadm", f"status {n}", user_id="U1", response_url=slack.response_url(f"r{n}")
    )
    return AsyncBoltRequest(body=body, headers=form_headers(SIGNING_SECRET, body))


async def test_acks_go_out_at_once_while_the_work_after_them_takes_turns(
    slack: SlackDouble,
) -> None:
    async with aiohttp.ClientSession() as session:
        app = AsyncApp(
            client=AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url, session=session),
            signing_secret=SIGNING_SECRET,
        )
        app.use(AckFirst(lambda: session, turns=1))
        working: list[str] = []
        release = asyncio.Event()

        @app.command("/eadm")
        async def eadm(ack: Any, command: dict[str, Any], respond: Any) -> None:
            await ack()
            working.append(command["text"])
            await release.wait()
            await respond(text=f"done {command['text']}")

        answers = await asyncio.wait_for(
            asyncio.gather(*(app.async_dispatch(_request(slack, n)) for n in range(3))),
            timeout=10,
        )
        assert [a.status for a in answers] == [200, 200, 200], "all three acked"
        await eventually(lambda: working, timeout=5, what="one listener at work")
        for _ in range(50):  # give the others every chance to start (they must not)
            await asyncio.sleep(0)
        assert len(working) == 1, "the others wait for their turn"
        release.set()
        await eventually(lambda: len(slack.responses) == 3, timeout=5, what="three answers")
        assert sorted(r["text"] for r in slack.responses) == [
            "done status 0",
            "done status 1",
            "done status 2",
        ]
        assert not session.closed, "answers used the shared session and left it open"
