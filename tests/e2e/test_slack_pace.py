"""Slack's pace with `eadm-bot run` as a process: many alerts for one channel reach it one by
one, without a 429, from a Slack double that refuses beyond about one message per second per
channel as Slack does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from bot.core.domain import EXPORT_AD
from bot.sim.eadm import Fault, Scenario
from bot.sim.slack import SlackDouble
from testkit.e2e import BOT_TOKEN, eventually, start_tenants_bot

TENANTS = 7
CHANNEL = "C0BUSY"


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    double = SlackDouble(token=BOT_TOKEN)
    double.limit_rate(per_second=1.0, burst=4)
    await double.start()
    yield double
    await double.stop()


async def _run_storm(slack: SlackDouble, tmp_path: Path, **env: str) -> None:
    """TENANTS tenants in one channel, each failing at Export AD at once; wait until every
    alert is in the channel."""
    scenario = Scenario("test", (Fault(EXPORT_AD, "fail"),), more_cycles=False)
    tenants = [(f"t{i}", scenario, 6000.0, f'channel = "{CHANNEL}"') for i in range(TENANTS)]
    # STORM_AFTER: this is about pace, not the digest.
    bot, runners = await start_tenants_bot(slack, tmp_path, tenants, STORM_AFTER="100", **env)
    try:
        await eventually(
            lambda: len(slack.messages(CHANNEL)) >= TENANTS,
            timeout=60,
            what=f"{TENANTS} alerts in {CHANNEL}",
        )
    finally:
        await bot.stop()
        for runner in runners:
            await runner.cleanup()
    texts = [m["text"] for m in slack.messages(CHANNEL)]
    assert len(texts) == TENANTS, "each alert once"
    assert sorted(m["metadata"]["event_payload"]["alert_id"] for m in slack.messages(CHANNEL)) == (
        list(range(1, TENANTS + 1))
    )


async def test_paced_delivery_meets_no_rate_limit(slack: SlackDouble, tmp_path: Path) -> None:
    await _run_storm(slack, tmp_path)
    assert slack.rate_limited() == []
    posts = [c.at for c in slack.calls("chat.postMessage")]
    assert posts[-1] - posts[0] >= TENANTS - 4 - 1, "one a second after the burst"
