"""Slack's pace per channel: the delivery's own pacing, the rate-limiting Slack double, and the
two together with `eadm-bot run` as a process: many alerts for one channel reach it one by one
without a 429. (Retry-After when Slack does refuse: tests/test_e2e_delivery.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.core.domain import EXPORT_AD
from bot.sim.eadm import Fault, Scenario
from bot.sim.slack import Pace, SlackDouble
from bot.slack.delivery import ChannelPace
from testkit.e2e import BOT_TOKEN, eventually, start_tenants_bot


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("rate", "burst", "asks", "waits"),
    [
        # A burst goes at once, then one a second.
        (1.0, 3, [0, 0, 0, 0, 0], [0, 0, 0, 1, 2]),
        (1.0, 1, [0, 0, 0], [0, 1, 2]),
        (2.0, 2, [0, 0, 0, 0], [0, 0, 0.5, 1.0]),
        # A quiet second earns its turn back.
        (1.0, 3, [0, 0, 0, 1, 0], [0, 0, 0, 0, 1]),
        # A quiet spell refills the burst, and no more.
        (1.0, 2, [0, 0, 10, 0, 0], [0, 0, 0, 0, 1]),
        # Off.
        (0.0, 1, [0, 0, 0], [0, 0, 0]),
    ],
)
def test_channel_pace_lets_a_burst_through_then_one_per_interval(
    rate: float, burst: int, asks: list[float], waits: list[float]
) -> None:
    clock = Clock()
    pace = ChannelPace(rate, burst, clock)
    got = []
    for step in asks:
        clock.now += step
        got.append(pace.reserve("C1", max_wait=60))
    assert got == pytest.approx(waits)


def test_channel_pace_keeps_channels_apart_and_leaves_far_turns_untaken() -> None:
    clock = Clock()
    pace = ChannelPace(1.0, 1, clock)
    assert pace.reserve("C1", max_wait=2) == 0
    assert pace.reserve("C2", max_wait=2) == 0, "another channel has its own pace"
    assert pace.reserve("C1", max_wait=2) == 1
    assert pace.reserve("C1", max_wait=2) == 2
    assert pace.reserve("C1", max_wait=2) is None, "three seconds off: not taken"
    assert pace.reserve("C1", max_wait=2) is None, "and nothing was reserved by asking"


def test_retry_after_holds_the_channel() -> None:
    clock = Clock()
    pace = ChannelPace(1.0, 3, clock)
    pace.hold("C1", 5)
    assert pace.reserve("C1", max_wait=60) == 5
    assert pace.reserve("C2", max_wait=60) == 0


@pytest.mark.parametrize(
    ("asks", "answers"),
    [
        ([0, 0, 0, 0], [None, None, None, 1]),
        ([0, 0, 0, 1, 0], [None, None, None, None, 1]),
        ([0, 0, 0, 0.5], [None, None, None, 1]),
        ([0, 0, 0, 5, 0, 0, 0], [None, None, None, None, None, None, 1]),
    ],
)
def test_the_double_answers_like_slack_beyond_a_burst(
    asks: list[float], answers: list[int | None]
) -> None:
    pace = Pace(per_second=1.0, burst=3)
    now = 0.0
    got = []
    for step in asks:
        now += step
        got.append(pace.retry_after("C1", now))
    assert got == answers
    assert pace.retry_after("C2", now) is None


# -- end to end --------------------------------------------------------------------------------

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


@pytest.mark.e2e
async def test_paced_delivery_meets_no_rate_limit(slack: SlackDouble, tmp_path: Path) -> None:
    await _run_storm(slack, tmp_path)
    assert slack.rate_limited() == []
    posts = [c.at for c in slack.calls("chat.postMessage")]
    assert posts[-1] - posts[0] >= TENANTS - 4 - 1, "one a second after the burst"
