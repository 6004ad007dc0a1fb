"""Slack's pace per channel: the delivery's own pacing, and the Slack double that keeps Slack's
pace. (The two together with `eadm-bot run` as a process: tests/e2e/test_slack_pace.py;
Retry-After when Slack does refuse: tests/e2e/test_delivery.py.)"""

from __future__ import annotations

import pytest

from bot.sim.slack import Pace, per_workspace
from bot.slack.pacing import ChannelPace


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


def test_the_double_keeps_chat_updates_limit_for_the_whole_workspace() -> None:
    """Tier 3: 50 a minute for every channel together, after a short burst."""
    pace = per_workspace(per_minute=50, burst=2)
    assert [pace.retry_after("", 0.0) for _ in range(3)] == [None, None, 2]
    assert pace.retry_after("", 1.2) is None
    assert pace.retry_after("", 1.3) == 2
