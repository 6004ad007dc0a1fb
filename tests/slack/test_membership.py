"""A person's channels and the configured channels' IDs, read from the Slack double through
slack_sdk's real client, with a clock the test moves: how often Slack is asked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.sim.slack import SlackDouble
from bot.slack.membership import CACHE_SECONDS, RECHECK_SECONDS, Membership, MembershipUnknown


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    double = SlackDouble()
    await double.start()
    yield double
    await double.stop()


def membership(slack: SlackDouble, clock: Clock) -> Membership:
    return Membership(AsyncWebClient(token="xoxb-test", base_url=slack.api_url), clock)


async def test_a_persons_channels_are_read_once_for_a_few_minutes(slack: SlackDouble) -> None:
    clock = Clock()
    slack.add_member("CVOSS", "U1")
    member = membership(slack, clock)
    assert await member.of("U1") == {"CVOSS"}
    slack.add_member("CBERGEN", "U1")  # Slack sends no event this time
    clock.now += CACHE_SECONDS - 1
    assert await member.of("U1") == {"CVOSS"}
    assert len(slack.calls("users.conversations")) == 1
    clock.now += 2
    assert await member.of("U1") == {"CVOSS", "CBERGEN"}
    assert len(slack.calls("users.conversations")) == 2


async def test_before_a_refusal_they_are_read_again_at_most_once_a_minute(
    slack: SlackDouble,
) -> None:
    clock = Clock()
    member = membership(slack, clock)
    assert await member.of("U1") == set()
    slack.add_member("CVOSS", "U1")
    clock.now += RECHECK_SECONDS - 1
    assert await member.of("U1", recheck=True) == set(), "read less than a minute ago"
    clock.now += 2
    assert await member.of("U1", recheck=True) == {"CVOSS"}
    assert len(slack.calls("users.conversations")) == 2


async def test_membership_events_change_what_is_known_without_a_read(slack: SlackDouble) -> None:
    member = membership(slack, Clock())
    await member.of("U1")
    member.joined("U1", "CVOSS")
    assert await member.of("U1") == {"CVOSS"}
    member.left("U1", "CVOSS")
    assert await member.of("U1") == set()
    member.joined("U2", "CVOSS")  # never read: nothing to change, the first look reads
    assert await member.of("U2") == set()
    assert len(slack.calls("users.conversations")) == 2


async def test_configured_names_are_resolved_once(slack: SlackDouble) -> None:
    clock = Clock()
    os_id = slack.add_member("#os-drift", "U9")
    member = membership(slack, clock)
    assert await member.channel_ids(["CVOSS", "#os-drift", "os-drift", "#nowhere"]) == {
        "CVOSS",
        os_id,
    }
    assert await member.channel_id("#OS-Drift") == os_id
    assert len(slack.calls("conversations.list")) == 1, "an unknown name waits for a while"
    clock.now += CACHE_SECONDS + 1
    assert await member.channel_id("#nowhere") is None
    assert len(slack.calls("conversations.list")) == 2


async def test_a_slack_error_is_no_answer_and_nothing_is_remembered(slack: SlackDouble) -> None:
    member = membership(slack, Clock())
    slack.fail("users.conversations", "server_error")
    with pytest.raises(MembershipUnknown):
        await member.of("U1")
    slack.add_member("CVOSS", "U1")
    assert await member.of("U1") == {"CVOSS"}
    slack.fail("conversations.list", "ratelimited")
    assert await member.channel_id("#os") is None
    slack.add_member("#os", "U1")
    assert await member.channel_id("#os") == "COS", "a failed listing is not remembered"
