"""Where the probes are served: with OPS_PORT, /readyz and /metrics (which name every tenant) on a
listener of their own on OPS_HOST, /healthz on PORT as well; without it, everything on PORT as
before. The bot in-process in HTTP mode, the Slack double and the simulator over loopback."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.core.settings import load_settings
from bot.runtime.wiring import Bot
from bot.sim import eadm
from bot.sim.slack import SlackDouble
from testkit.e2e import eventually


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "EADM_", "ALERT_", "RERUN_", "TICKET_", "ADMIN_", "OPS_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.fixture
async def started(tmp_path: Path) -> AsyncIterator[Any]:
    slack = SlackDouble(token="xoxb-test")
    await slack.start()
    sim, sim_port = await eadm.serve("127.0.0.1", 0, scenario_name="healthy")
    bots: list[Bot] = []

    async def start(**extra: Any) -> Bot:
        settings = load_settings(
            slack_bot_token="xoxb-test",
            slack_signing_secret="ops-test-secret",
            slack_api_url=slack.api_url,
            eadm_url=f"http://127.0.0.1:{sim_port}",
            alert_channel="#eadm-alerts",
            database_url=f"sqlite:///{tmp_path / f'bot{len(bots)}.db'}",
            port=0,
            host="127.0.0.1",
            poll_interval=1,
            **extra,
        )
        bot = Bot(settings)
        bots.append(bot)
        await bot.start()
        return bot

    try:
        yield start
    finally:
        for bot in bots:
            await bot.stop()
        await sim.cleanup()
        await slack.stop()


async def status(port: int | None, path: str) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        return (await client.get(f"http://127.0.0.1:{port}{path}")).status_code


async def test_with_ops_port_the_tenants_are_named_only_on_it(started: Any) -> None:
    bot = await started(ops_port=0)
    assert bot.ops_port is not None and bot.ops_port != bot.port
    assert await status(bot.port, "/healthz") == 200  # container probes keep working
    assert await status(bot.port, "/readyz") == 404
    assert await status(bot.port, "/metrics") == 404
    assert await status(bot.ops_port, "/healthz") == 200
    assert await status(bot.ops_port, "/metrics") == 200
    await eventually(
        lambda: _ready(bot.ops_port), timeout=15, what="/readyz 200 on the ops listener"
    )


async def test_the_ops_listener_is_on_loopback_unless_told_otherwise(started: Any) -> None:
    bot = await started(ops_port=0)
    assert bot.settings.ops_host == "127.0.0.1"
    (address,) = bot._ops_runner.addresses  # type: ignore[union-attr]
    assert address[0] == "127.0.0.1"


async def test_without_ops_port_everything_stays_on_port(started: Any) -> None:
    bot = await started()
    assert bot.ops_port is None
    for path in ("/healthz", "/metrics"):
        assert await status(bot.port, path) == 200
    await eventually(lambda: _ready(bot.port), timeout=15, what="/readyz 200 on PORT")


async def _ready(port: int | None) -> bool:
    return await status(port, "/readyz") == 200
