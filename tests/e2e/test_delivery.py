"""Nothing lost, nothing twice: Slack outages, lost answers, crashes and restarts, with
`eadm-bot run` as a process between the Slack double and the simulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.core.domain import EXPORT_AD
from bot.sim.eadm import Fault, Scenario
from bot.sim.slack import SlackDouble
from bot.store import Store
from testkit.e2e import CHANNEL, BotProcess, eventually, settled
from testkit.world import World
from tests import store_rows

FAST = {"NOT_STARTED_AFTER": "2", "STUCK_AFTER": "3", "CYCLE_DUE_AFTER": "600"}


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with World.open(tmp_path) as world:
        yield world


@pytest.fixture
def slack(world: World) -> SlackDouble:
    return world.slack


@pytest_asyncio.fixture
async def eadm_url(world: World) -> str:
    """A simulator whose one cycle fails at Export AD, and then stays as it is."""
    return await world.simulator(Scenario("test", (Fault(EXPORT_AD, "fail"),), more_cycles=False))


async def _bot(world: World, eadm_url: str, **extra: str) -> BotProcess:
    """A bot on the world's database: a second one there is the first one started again."""
    return await world.start_bot(eadm_url, **{**FAST, **extra})


def _posts(slack: SlackDouble) -> int:
    return len(slack.calls("chat.postMessage"))


async def test_slack_outage_of_several_failed_posts_delivers_exactly_once(
    slack: SlackDouble, eadm_url: str, world: World
) -> None:
    slack.fail("chat.postMessage", "server_error", times=3)
    bot = await _bot(world, eadm_url)
    try:
        await eventually(lambda: slack.messages(CHANNEL), timeout=20, what="the alert")
        await settled(bot)  # further polls and sweeps must not post again
        assert len(slack.messages(CHANNEL)) == 1
        assert _posts(slack) >= 4, "three refused attempts, then the one that landed"
    finally:
        await bot.stop()


async def test_rate_limit_is_waited_out_and_delivers_once(
    slack: SlackDouble, eadm_url: str, world: World
) -> None:
    slack.fail("chat.postMessage", "ratelimited", times=3, retry_after=1)
    bot = await _bot(world, eadm_url)
    try:
        await eventually(lambda: slack.messages(CHANNEL), timeout=20, what="the alert")
        await settled(bot)
        assert len(slack.messages(CHANNEL)) == 1
        faults = [c.fault for c in slack.calls("chat.postMessage")]
        assert faults.count("ratelimited") == 3
    finally:
        await bot.stop()


async def test_an_answer_lost_after_slack_accepted_the_post_is_not_posted_again(
    slack: SlackDouble, eadm_url: str, world: World
) -> None:
    slack.fail("chat.postMessage", "accept_then_error", times=2)
    bot = await _bot(world, eadm_url)
    try:
        await eventually(lambda: slack.messages(CHANNEL), timeout=20, what="the alert")
        await eventually(lambda: slack.calls("conversations.history"), timeout=10, what="a look-up")
        await settled(bot)
        assert len(slack.messages(CHANNEL)) == 1, "the retry must find the accepted post"
    finally:
        await bot.stop()


async def test_a_crash_right_after_posting_and_a_restart_post_nothing_twice(
    slack: SlackDouble, eadm_url: str, world: World
) -> None:
    # Slack takes the post but the answer never reaches the bot, which then dies.
    slack.fail("chat.postMessage", "accept_then_error", times=1)
    bot = await _bot(world, eadm_url)
    await eventually(lambda: slack.calls("chat.postMessage"), timeout=20, what="a post")
    # It dies once it has noted that its post may not have landed (not while it holds the
    # message: a claim would keep the next process off it for a minute).
    store = Store(world.db_url)
    try:
        await eventually(
            lambda: any(m.last_error for m in store_rows.messages(store)), what="the failure noted"
        )
    finally:
        store.dispose()
    bot.kill()
    assert len(slack.messages(CHANNEL)) == 1

    again = await _bot(world, eadm_url)
    try:
        await settled(again)  # several polls and outbox sweeps on the same database
        assert len(slack.messages(CHANNEL)) == 1
        assert "Traceback" not in again.log()
    finally:
        await again.stop()


async def test_a_clean_restart_on_the_same_database_posts_nothing_twice(
    slack: SlackDouble, eadm_url: str, world: World
) -> None:
    bot = await _bot(world, eadm_url)
    await eventually(lambda: slack.messages(CHANNEL), timeout=20, what="the alert")
    assert await bot.stop() == 0, bot.log()
    posts = _posts(slack)

    again = await _bot(world, eadm_url)
    try:
        await settled(again)
        assert _posts(slack) == posts
        assert len(slack.messages(CHANNEL)) == 1
    finally:
        await again.stop()


async def test_a_revoked_token_is_said_once_and_the_alert_waits_for_the_fix(
    slack: SlackDouble, eadm_url: str, world: World
) -> None:
    slack.fail("chat.postMessage", "invalid_auth", times=None)
    bot = await _bot(world, eadm_url)
    try:
        await eventually(lambda: _posts(slack) >= 2, timeout=20, what="repeated attempts")
        assert slack.messages(CHANNEL) == []
        said = [line for line in bot.log().splitlines() if "SLACK_BOT_TOKEN" in line]
        assert len(said) == 1, bot.log()
        slack.clear_faults()
        await eventually(lambda: slack.messages(CHANNEL), timeout=20, what="the alert")
        await settled(bot)
        assert len(slack.messages(CHANNEL)) == 1
    finally:
        await bot.stop()


async def test_an_open_alert_is_reminded_in_its_thread(
    slack: SlackDouble, eadm_url: str, world: World
) -> None:
    bot = await _bot(world, eadm_url, REMIND_AFTER="3")
    try:
        await eventually(lambda: slack.messages(CHANNEL), timeout=20, what="the alert")
        ts = slack.messages(CHANNEL)[0]["ts"]
        (reply,) = await eventually(
            lambda: slack.thread(CHANNEL, ts), timeout=15, what="a reminder"
        )
        assert "still" in reply["text"].lower(), reply["text"]
        assert len(slack.messages(CHANNEL)) == 1
    finally:
        await bot.stop()
