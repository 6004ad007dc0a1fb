"""Sending one row the way its kind asks, against the Slack double over HTTP: Slack's answers
become the errors delivery retries, told apart by their error code. (Each kind end to end
through the outbox: tests/slack/test_delivery.py.)"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import Adapters
from bot.core.errors import SlackMisconfigured, SlackRateLimited, SlackRefused
from bot.core.notify import OutboxKind
from bot.core.playbook import load_playbook
from bot.core.settings import load_settings
from bot.sim.slack import SlackDouble
from bot.slack.compose import Composer
from bot.slack.sending import About, Sender
from bot.store import utcnow
from bot.store.tables import Outbox

TOKEN = "xoxb-sending-test"
NOTHING_ABOUT = About(None, None, None, [])


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    double = SlackDouble(token=TOKEN)
    await double.start()
    yield double
    await double.stop()


@pytest.fixture
def sender(slack: SlackDouble) -> Sender:
    settings = load_settings(require_slack=False, require_tenants=False)
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url, timeout=5)
    composer = Composer(settings, load_playbook(), Adapters.resolve(settings.tenants))
    return Sender(client, composer, utcnow)


def notice(text: str = "maintenance until 22:00") -> Outbox:
    return Outbox(id=7, tenant="t", kind="notice", channel="C1", payload={"text": text})


def test_every_kind_has_its_method(sender: Sender) -> None:
    assert set(sender.by_kind) == set(OutboxKind)


async def test_a_notice_lands_with_its_outbox_id(sender: Sender, slack: SlackDouble) -> None:
    ts, channel = await sender.send(notice(), NOTHING_ABOUT, retrying=False)
    [posted] = slack.messages("C1")
    assert (ts, channel) == (posted["ts"], "C1")
    assert posted["metadata"]["event_payload"] == {"outbox_id": 7, "alert_id": 0}


async def test_a_rate_limit_says_how_long_to_wait(sender: Sender, slack: SlackDouble) -> None:
    ts, channel = await sender.send(notice(), NOTHING_ABOUT, retrying=False)
    assert ts is not None and channel is not None
    slack.limit_updates(per_minute=50, burst=1)
    await sender._redraw(channel, ts, text="a", blocks=None)
    with pytest.raises(SlackRateLimited) as raised:
        await sender._redraw(channel, ts, text="b", blocks=None)
    assert raised.value.retry_after == 2.0  # 50 a minute: the next turn in 1.2 s, said as 2


async def test_a_misconfiguration_is_said_once_and_other_refusals_by_their_code(
    sender: Sender, slack: SlackDouble, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fail("chat.postMessage", "not_in_channel", times=2)
    with caplog.at_level(logging.ERROR, logger="bot.slack.sending"):
        for _ in range(2):
            with pytest.raises(SlackMisconfigured):
                await sender.send(notice(), NOTHING_ABOUT, retrying=False)
    assert caplog.text.count("invite it with /invite @eadm-bot") == 1
    slack.fail("chat.postMessage", "msg_too_long")
    with pytest.raises(SlackRefused) as raised:
        await sender.send(notice(), NOTHING_ABOUT, retrying=False)
    assert raised.value.error == "msg_too_long"
