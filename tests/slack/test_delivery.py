"""Delivery in one process: a real store, the Slack Web API double over HTTP, and the
deliverer between them. Each outbox kind reaches Slack the way it should, and Slack's answers
are told apart by their error code. (Outages, crashes and restarts with `eadm-bot run` as a
process: tests/e2e/test_delivery.py; pacing: tests/slack/test_pacing.py.)"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import datetime

import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot.adapters.registry import Adapters
from bot.core.domain import Condition, Finding, StepState
from bot.core.notify import EscalationRule, OutboxKind
from bot.core.playbook import load_playbook
from bot.core.settings import load_settings
from bot.sim.slack import SlackDouble
from bot.slack.compose import Composer
from bot.slack.delivery import Deliverer
from bot.store import Store, Target
from bot.store.tables import Outbox
from tests.cycles import at, cycle

TOKEN = "xoxb-delivery-test"
CHANNEL = "C0ALERTS"
TENANT = "demo-kommune"


@pytest.fixture
def store(sqlite_url: str) -> Iterator[Store]:
    s = Store(sqlite_url)
    s.migrate()
    yield s
    s.dispose()


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[SlackDouble]:
    double = SlackDouble(token=TOKEN)
    await double.start()
    yield double
    await double.stop()


class Clock:
    """The deliverer's clock, moved on by the test so that a retry falls due."""

    def __init__(self) -> None:
        self.now = at(20)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deliverer(store: Store, slack: SlackDouble, clock: Clock) -> Deliverer:
    settings = load_settings(require_slack=False, require_tenants=False)
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url, timeout=5)
    composer = Composer(settings, load_playbook(), Adapters.resolve(settings.tenants))
    return Deliverer(store, client, composer, owner="test", retry_cap=60, clock=clock)


def open_alert(store: Store, now: float = 20, escalation: EscalationRule | None = None) -> None:
    snapshot = cycle({"Export AD": StepState.FAILED}, upto=5, message="LDAP error 52")
    finding = Finding(TENANT, "c1", "Export AD", Condition.FAILED, since=at(16), error="LDAP 52")
    store.apply_poll(
        TENANT,
        Target(channel=CHANNEL, language="en"),
        [finding],
        snapshot,
        now=at(now),
        remind_after=7200,
        escalation=escalation,
    )


def resolve_alert(store: Store) -> None:
    store.apply_poll(
        TENANT,
        Target(channel=CHANNEL, language="en"),
        [],
        cycle(cycle_id="c2", start=at(100)),
        now=at(130),
        remind_after=7200,
    )


def rows(store: Store) -> list[Outbox]:
    with store.session() as s:
        return list(s.exec(select(Outbox).order_by(Outbox.id)).all())  # type: ignore[arg-type]


def test_the_stored_kinds_never_change() -> None:
    """Rows written by every earlier version hold these words; renaming one strands them."""
    assert {kind.value for kind in OutboxKind} == {
        "post",
        "update",
        "reply",
        "notice",
        "digest",
        "escalation",
    }


async def test_an_alert_is_posted_redrawn_and_answered_in_its_thread_once_each(
    store: Store, slack: SlackDouble, deliverer: Deliverer, clock: Clock
) -> None:
    open_alert(store)
    assert await deliverer.run_once() == 1
    [posted] = slack.messages(CHANNEL)
    assert posted["metadata"]["event_payload"] == {"outbox_id": 1, "alert_id": 1}
    assert store.get_alert(1).message_ts == posted["ts"]

    resolve_alert(store)
    clock.now = at(130)
    assert await deliverer.run_once() == 2  # the reply and the redraw
    [redrawn] = slack.messages(CHANNEL)
    assert redrawn["ts"] == posted["ts"] and "edited" in redrawn
    [reply] = slack.thread(CHANNEL, posted["ts"])
    assert reply["metadata"]["event_payload"]["outbox_id"] == 3
    assert [row.kind for row in rows(store)] == ["post", "update", "reply"]
    assert all(row.delivered_at is not None for row in rows(store))
    assert len(slack.calls("chat.postMessage")) == 2 and len(slack.calls("chat.update")) == 1


async def test_a_notice_is_posted_as_written(
    store: Store, slack: SlackDouble, deliverer: Deliverer
) -> None:
    store.owe_notice(TENANT, CHANNEL, {"text": "maintenance until 22:00"}, at(20))
    assert await deliverer.run_once() == 1
    [notice] = slack.messages(CHANNEL)
    assert notice["text"] == "maintenance until 22:00"


async def test_a_retry_adopts_the_post_an_earlier_attempt_made(
    store: Store, slack: SlackDouble, deliverer: Deliverer, clock: Clock
) -> None:
    open_alert(store)
    slack.fail("chat.postMessage", "accept_then_error")  # posted, but the answer is lost
    assert await deliverer.run_once() == 0
    clock.now = at(60)
    assert await deliverer.run_once() == 1
    assert len(slack.messages(CHANNEL)) == 1, "looked for, found, not posted again"
    assert len(slack.calls("chat.postMessage")) == 1
    assert store.get_alert(1).message_ts == slack.messages(CHANNEL)[0]["ts"]


async def test_a_retry_adopts_no_other_apps_message_with_the_same_metadata(
    store: Store, slack: SlackDouble, deliverer: Deliverer, clock: Clock
) -> None:
    """Anyone in the channel can post a message carrying the bot's metadata: had the retry
    adopted it, the alert would never appear."""
    open_alert(store)
    slack.fail("chat.postMessage", "server_error")  # refused: nothing was posted
    assert await deliverer.run_once() == 0
    decoy = {"event_type": "eadm_bot_message", "event_payload": {"outbox_id": 1, "alert_id": 1}}
    slack.channels.setdefault(CHANNEL, []).append(
        {
            "type": "message",
            "user": "U0OTHER",
            "bot_id": "B0OTHERAPP",
            "ts": "1.000100",
            "text": "nothing to see",
            "metadata": decoy,
        }
    )
    clock.now = at(60)
    assert await deliverer.run_once() == 1
    ours = [m for m in slack.messages(CHANNEL) if m.get("bot_id") == "B0BOT"]
    assert len(ours) == 1 and store.get_alert(1).message_ts == ours[0]["ts"]
    assert len(slack.calls("auth.test")) == 1  # asked once, for the bot's own bot_id


async def test_an_update_of_a_deleted_message_is_dropped_by_slacks_error_code(
    store: Store,
    slack: SlackDouble,
    deliverer: Deliverer,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    open_alert(store)
    await deliverer.run_once()
    slack.channels[CHANNEL].clear()  # someone deleted the alert's message in Slack
    resolve_alert(store)
    clock.now = at(130)
    with caplog.at_level(logging.WARNING, logger="bot.slack.sending"):
        assert await deliverer.run_once() == 2  # the update dropped, then the reply
    update = rows(store)[1]
    assert update.kind == "update" and update.delivered_at is not None
    assert update.last_error is None
    assert "message was deleted in Slack; not updating" in caplog.text


async def test_another_refusal_of_an_update_is_tried_again(
    store: Store, slack: SlackDouble, deliverer: Deliverer, clock: Clock
) -> None:
    open_alert(store)
    await deliverer.run_once()
    resolve_alert(store)
    clock.now = at(130)
    slack.fail("chat.update", "cant_update_message")
    assert await deliverer.run_once() == 1  # the reply need not wait for the redraw
    update = rows(store)[1]
    assert update.delivered_at is None
    assert update.last_error == "chat.update: Slack answered cant_update_message"
    clock.now = at(200)
    assert await deliverer.run_once() == 1
    assert "edited" in slack.messages(CHANNEL)[0]


async def test_a_kind_this_version_does_not_know_waits_for_one_that_does(
    store: Store, slack: SlackDouble, deliverer: Deliverer
) -> None:
    with store.session() as s:
        s.add(Outbox(tenant=TENANT, kind="poll", channel=CHANNEL, created_at=at(20)))
        s.commit()
    store.owe_notice(TENANT, CHANNEL, {"text": "still here"}, at(20))
    assert await deliverer.run_once() == 1, "the notice goes; the unknown row does not stop it"
    unknown = rows(store)[0]
    assert unknown.delivered_at is None and unknown.next_attempt_at is not None
    assert unknown.last_error == "kind 'poll' is not one this version sends"
    assert [m["text"] for m in slack.messages(CHANNEL)] == ["still here"]


async def test_an_escalation_calls_in_the_thread_and_links_the_alert_elsewhere(
    store: Store, slack: SlackDouble, deliverer: Deliverer, clock: Clock
) -> None:
    oncall = EscalationRule(600, "S0ONCALL", "C0ONCALL")
    open_alert(store)
    open_alert(store, now=31, escalation=oncall)  # owed before the alert's post went out
    clock.now = at(31)
    # In order behind the alert's own message, whose thread and link they need, in one pass.
    assert [await deliverer.run_once() for _ in range(2)] == [3, 0]
    [posted] = slack.messages(CHANNEL)
    [called] = slack.thread(CHANNEL, posted["ts"])
    assert called["text"] == (
        ":rotating_light: <!subteam^S0ONCALL> *Export AD failed · demo-kommune* has waited "
        "11 min and nobody has acknowledged it."
    )
    [elsewhere] = slack.messages("C0ONCALL")
    link = f"https://demo-kommune.slack.com/archives/{CHANNEL}/p{posted['ts'].replace('.', '')}"
    assert elsewhere["text"].startswith(":rotating_light: <!subteam^S0ONCALL> *Export AD failed")
    assert elsewhere["text"].endswith(f"<{link}|open the alert>.")
    assert [row.kind for row in rows(store)] == ["post", "reply", "escalation"]
