"""A busy channel with `eadm-bot run` as a process: one tenant failing at a new step about
every 1.5 s, each failure resolving the alert before it (a redraw and a thread reply), more
than the channel's pace can carry. The pace is one post every two seconds here, so the older
news is certain to wait however fast or slow the machine polls. A new alert's post goes
before the older alerts' replies and redraws still waiting, chat.update keeps its own budget,
and nothing is lost, told twice, answered 429 or reordered within one alert. (The latency of
it: `python -m bench.busy_channel`.)"""

from __future__ import annotations

import statistics
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio
from sqlmodel import col, select

from bot.sim.eadm import GAP, STEP_PLAN, STEPS, Fault, Scenario
from bot.sim.slack import SlackDouble
from bot.store import Store
from bot.store.tables import Outbox
from testkit.e2e import BOT_TOKEN, eventually, settled
from testkit.world import World

CHANNEL = "C0BUSY"
ALERTS = 8
TO_RED = [sum(d for _, d in STEP_PLAN[:i]) + STEP_PLAN[i][1] / 2 for i in range(len(STEPS))]
SPEED = (GAP + statistics.mean(TO_RED)) / 1.5  # a new failure about every 1.5 s
PACE = 0.5  # posts a second in the channel, for the bot and the Slack double alike


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """A Slack double that keeps chat.postMessage's pace per channel and chat.update's per
    workspace, as Slack does."""
    slack = SlackDouble(token=BOT_TOKEN)
    slack.limit_rate(per_second=PACE, burst=4)
    slack.limit_updates(per_minute=50, burst=8)
    async with World.open(tmp_path, slack=slack) as world:
        yield world


def rows(world: World) -> list[Outbox]:
    store = Store(world.db_url)
    try:
        with store.session() as s:
            return list(s.exec(select(Outbox).order_by(col(Outbox.id))).all())
    finally:
        store.dispose()


async def test_a_new_alert_goes_before_older_news_and_nothing_is_lost(world: World) -> None:
    slack = world.slack
    scenario = Scenario("busy", tuple(Fault(step, "fail") for step in STEPS))
    url = await world.add_tenant("t0", scenario, speed=SPEED, channel=CHANNEL)
    bot = await world.start_bot(POLL_INTERVAL="1", SLACK_CHANNEL_RATE=str(PACE))
    await eventually(
        lambda: len(slack.messages(CHANNEL)) >= ALERTS, timeout=60, what=f"{ALERTS} alerts"
    )
    async with httpx.AsyncClient() as client:  # no more failures: the outbox empties
        await client.post(f"{url}/_sim/scenario", json={"name": "healthy"})
    await settled(bot, polls_more=3, timeout=120)
    owed = rows(world)

    # Nothing lost, nothing told twice: every post and reply is in Slack once, by its ID.
    assert all(row.delivered_at is not None for row in owed)
    posts = slack.messages(CHANNEL)
    told = [m["metadata"]["event_payload"]["outbox_id"] for m in posts]
    for post in posts:
        told += [
            m["metadata"]["event_payload"]["outbox_id"] for m in slack.thread(CHANNEL, post["ts"])
        ]
    assert len(told) == len(set(told))
    sent = {row.id for row in owed if row.kind in ("post", "reply") and row.result_ts}
    assert sent == set(told)
    assert sorted(m["metadata"]["event_payload"]["alert_id"] for m in posts) == list(
        range(1, len(posts) + 1)
    ), "each alert once"
    assert slack.rate_limited("chat.postMessage") == []
    assert slack.rate_limited("chat.update") == []

    # Each alert's own messages in their order: its post, then its thread and redraws.
    posted_at = {}
    for call in slack.calls("chat.postMessage"):
        if not call.params.get("thread_ts"):
            posted_at[call.params["metadata"]["event_payload"]["alert_id"]] = call.at
    by_ts = {m["ts"]: m["metadata"]["event_payload"]["alert_id"] for m in posts}
    for call in slack.calls("chat.postMessage") + slack.calls("chat.update"):
        ts = call.params.get("thread_ts") or (call.method == "chat.update" and call.params["ts"])
        if ts in by_ts:
            assert call.at >= posted_at[by_ts[ts]], f"{call.method} before its alert's post"
    for post in posts:
        thread = [
            m["metadata"]["event_payload"]["outbox_id"] for m in slack.thread(CHANNEL, post["ts"])
        ]
        assert thread == sorted(thread)

    # The busy channel had older news waiting while new alerts went before it.
    overtaken = [
        (older.id, newer.id)
        for newer in owed
        if newer.kind == "post"
        for older in owed
        if older.kind in ("reply", "update")
        and older.id < newer.id
        and older.delivered_at is not None
        and newer.delivered_at is not None
        and older.delivered_at > newer.delivered_at
    ]
    assert overtaken, "no new alert went before an older one's pending reply or redraw"
