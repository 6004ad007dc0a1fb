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
from testkit.e2e import BOT_TOKEN, eventually
from testkit.world import World

TENANTS = 7
CHANNEL = "C0BUSY"


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """A Slack double that keeps Slack's pace: chat.postMessage's per channel, chat.update's
    per workspace."""
    slack = SlackDouble(token=BOT_TOKEN)
    slack.limit_rate(per_second=1.0, burst=4)
    slack.limit_updates(per_minute=50, burst=8)
    async with World.open(tmp_path, slack=slack) as world:
        yield world


async def _run_storm(world: World, **env: str) -> None:
    """TENANTS tenants in one channel, each failing at Export AD at once; wait until every
    alert is in the channel."""
    slack = world.slack
    scenario = Scenario("test", (Fault(EXPORT_AD, "fail"),), more_cycles=False)
    for i in range(TENANTS):
        await world.add_tenant(f"t{i}", scenario, speed=6000.0, channel=CHANNEL)
    # STORM_AFTER: this is about pace, not the digest.
    bot = await world.start_bot(STORM_AFTER="100", **env)
    try:
        await eventually(
            lambda: len(slack.messages(CHANNEL)) >= TENANTS,
            timeout=60,
            what=f"{TENANTS} alerts in {CHANNEL}",
        )
    finally:
        await bot.stop()
    texts = [m["text"] for m in slack.messages(CHANNEL)]
    assert len(texts) == TENANTS, "each alert once"
    assert sorted(m["metadata"]["event_payload"]["alert_id"] for m in slack.messages(CHANNEL)) == (
        list(range(1, TENANTS + 1))
    )


async def test_paced_delivery_meets_no_rate_limit(world: World) -> None:
    slack = world.slack
    await _run_storm(world)
    assert slack.rate_limited() == []
    assert slack.rate_limited("chat.update") == []
    posts = [c.at for c in slack.calls("chat.postMessage")]
    assert posts[-1] - posts[0] >= TENANTS - 4 - 1, "one a second after the burst"
