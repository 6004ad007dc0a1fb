"""The demo page's server without a browser: what it refuses, and the scenario picker."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio

from bot.cli.demo import PEOPLE, DemoStack, demo_page, slack_double
from bot.sim.web import DemoPage
from testkit.e2e import eventually


@pytest_asyncio.fixture
async def page() -> AsyncIterator[tuple[DemoPage, DemoStack]]:
    workdir = Path(tempfile.mkdtemp(prefix="eadm-demo-page-"))
    double = slack_double()
    stack = DemoStack(double, language="en", port=0, workdir=workdir)
    page = demo_page(double, stack, "fail:export-ad", 600)
    await double.start()
    await stack.start("fail:export-ad", 600)
    await page.start()
    try:
        yield page, stack
    finally:
        await page.stop()
        await stack.stop()
        await double.stop()
        shutil.rmtree(workdir, ignore_errors=True)


async def test_the_page_and_its_files_are_served(page: tuple[DemoPage, DemoStack]) -> None:
    demo, _ = page
    async with httpx.AsyncClient(base_url=demo.url) as client:
        index = await client.get("/")
        assert index.status_code == 200 and "/static/app.js" in index.text
        for name in ("app.js", "app.css"):
            assert (await client.get(f"/static/{name}")).status_code == 200
        state = (await client.get("/api/state", params={"user": PEOPLE[1].id})).json()
    assert state["me"]["id"] == PEOPLE[1].id and not state["me"]["admin"]
    assert state["channel"] == {"id": demo.channel_id, "name": "eadm-alerts"}


async def test_the_message_box_takes_the_bots_command_only(
    page: tuple[DemoPage, DemoStack],
) -> None:
    demo, _ = page
    async with httpx.AsyncClient(base_url=demo.url) as client:
        answer = await client.post("/api/command", json={"user": PEOPLE[0].id, "text": "hello"})
    assert answer.status_code == 400
    assert "/eadm help" in answer.json()["error"]
    async with httpx.AsyncClient(base_url=demo.url) as client:
        for body in ("not json", "[1, 2]"):
            answer = await client.post("/api/command", content=body)
            assert (answer.status_code, answer.text) == (400, "send a JSON object")


async def test_the_picker_starts_again_with_an_empty_channel(
    page: tuple[DemoPage, DemoStack],
) -> None:
    demo, stack = page
    await eventually(lambda: demo.double.messages(demo.channel_id), timeout=30)
    async with httpx.AsyncClient(base_url=demo.url, timeout=30) as client:
        wrong = await client.post("/api/scenario", json={"scenario": "nonsense", "speed": 60})
        assert wrong.status_code == 400 and "scenario" in wrong.json()["error"]
        ok = await client.post("/api/scenario", json={"scenario": "healthy", "speed": 120})
        assert ok.status_code == 200
        state = (await client.get("/api/state")).json()
    assert state["playing"]["scenario"] == "healthy" and state["playing"]["speed"] == 120
    assert state["messages"] == [] and demo.double.calls("chat.postMessage") == []
    assert stack.runs == 2


async def test_response_url_answers_land_where_slack_puts_them() -> None:
    """Ephemeral to the one who clicked, in_channel as a message, replace_original and
    delete_original on the message clicked."""
    double = slack_double()
    await double.start()
    try:
        channel = "CEADMALERTS"
        posted = double._m_chat_postMessage({"channel": channel, "text": "alert"})
        url = double.expect_response("a1", channel=channel, user="U0ADMIN", message_ts=posted["ts"])
        async with httpx.AsyncClient() as client:
            await client.post(url, json={"text": "only you", "response_type": "ephemeral"})
            await client.post(url, json={"text": "everyone", "response_type": "in_channel"})
            await client.post(url, json={"text": "new alert text", "replace_original": True})
        assert [(m["user"], m["text"]) for m in double.ephemeral] == [("U0ADMIN", "only you")]
        assert [m["text"] for m in double.messages(channel)] == ["new alert text", "everyone"]
        async with httpx.AsyncClient() as client:
            await client.post(url, json={"delete_original": True})
        assert [m["text"] for m in double.messages(channel)] == ["everyone"]
    finally:
        await double.stop()
