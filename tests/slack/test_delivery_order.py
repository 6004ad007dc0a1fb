"""Delivery's order and pace in one process (a real store, the Slack double over HTTP): a new
alert's post before older alerts' replies and redraws, a redraw a newer one makes needless
sent once, and chat.update's budget shared by every deliverer on one store. (With
`eadm-bot run` as a process: tests/e2e/test_busy_channel.py; the order itself, row by row:
tests/core/test_outbox_order.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import Adapters
from bot.core.budget import Rate
from bot.core.domain import Condition, Finding, StepState
from bot.core.notify import OutboxKind
from bot.core.playbook import load_playbook
from bot.core.settings import load_settings
from bot.sim.slack import SlackDouble
from bot.slack.compose import Composer
from bot.slack.delivery import Deliverer
from bot.slack.pacing import ChannelPace
from bot.store import Store, Target
from bot.store.tables import Outbox
from testkit.e2e import eventually
from tests import store_rows
from tests.cycles import at, cycle

TOKEN = "xoxb-order-test"
CHANNEL = "C0BUSY"
TENANT = "t"


class Clock:
    def __init__(self) -> None:
        self.now = at(20)

    def __call__(self) -> datetime:
        return self.now


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


def deliverer(
    store: Store,
    slack: SlackDouble,
    clock: Clock | None = None,
    *,
    pace: ChannelPace | None = None,
    updates: Rate | None = None,
) -> Deliverer:
    settings = load_settings(require_slack=False, require_tenants=False)
    client = AsyncWebClient(token=TOKEN, base_url=slack.api_url, timeout=5)
    composer = Composer(settings, load_playbook(), Adapters.resolve(settings.tenants))
    kwargs = {"clock": clock} if clock is not None else {}
    return Deliverer(store, client, composer, owner="test", pace=pace, updates=updates, **kwargs)


def fail(store: Store, cycle_id: str, now: float) -> None:
    """Export AD fails in cycle `cycle_id`: a new alert, which resolves the alert of the
    cycle before (a redraw and a thread reply owed, then the new alert's post)."""
    snapshot = cycle({"Export AD": StepState.FAILED}, upto=5, cycle_id=cycle_id, start=at(now - 20))
    finding = Finding(
        TENANT, cycle_id, "Export AD", Condition.FAILED, since=at(now - 1), error="LDAP"
    )
    store.apply_poll(
        TENANT,
        Target(channel=CHANNEL, language="en"),
        [finding],
        snapshot,
        now=at(now),
        remind_after=7200,
    )


def owe(store: Store, kind: OutboxKind, *, alert_id: int, **extra: Any) -> None:
    """A row about the alert's message, as acknowledging (a redraw) or a reminder (a reply)
    owes one."""
    (copy,) = store_rows.copies(store, alert_id)
    with store.session() as s:
        s.add(
            Outbox(
                tenant=TENANT,
                kind=kind.value,
                channel=CHANNEL,
                alert_id=alert_id,
                copy_id=copy.id,
                created_at=at(30),
                next_attempt_at=at(30),
                **extra,
            )
        )
        s.commit()


def writes(slack: SlackDouble) -> list[tuple[str, str]]:
    """What reached the channel, in order: ("post", alert), ("reply", ts), ("update", ts)."""
    found = []
    for call in slack.recorded:
        if call.method == "chat.update":
            found.append(("update", str(call.params["ts"])))
        elif call.method == "chat.postMessage" and call.params.get("thread_ts"):
            found.append(("reply", str(call.params["thread_ts"])))
        elif call.method == "chat.postMessage":
            found.append(("post", str(call.params["channel"])))
    return found


async def test_a_new_alert_goes_before_the_older_alerts_reply_and_redraw(
    store: Store, slack: SlackDouble
) -> None:
    clock = Clock()
    d = deliverer(store, slack, clock)
    fail(store, "c1", now=20)
    assert await d.run_once() == 1
    older = store.get_alert(1).message_ts
    owe(store, OutboxKind.REPLY, alert_id=1, payload={"text": "a line owed earlier"})
    fail(store, "c2", now=40)  # resolves c1's alert (a redraw, a reply) and opens its own
    assert [r.kind for r in store_rows.messages(store)][1:] == ["reply", "post", "update", "reply"]
    clock.now = at(40)
    assert await d.run_once() == 4  # those behind their alert's older rows in the same pass
    assert writes(slack)[1:] == [
        ("post", CHANNEL),
        ("reply", older),
        ("update", older),
        ("reply", older),
    ]
    assert store.outbox_depth() == 0


async def test_a_reply_leaves_the_channels_last_turn_to_a_new_alert(
    store: Store, slack: SlackDouble
) -> None:
    clock = Clock()
    pace_clock = [100.0]
    d = deliverer(store, slack, clock, pace=ChannelPace(1.0, 3, lambda: pace_clock[0]))
    fail(store, "c1", now=20)
    assert await d.run_once() == 1  # one turn of three
    fail(store, "c2", now=40)
    clock.now = at(40)
    # The new post and the older alert's redraw (a budget of its own) go; its reply would
    # take the channel's last turn, which it leaves to whatever new alert may follow.
    assert await d.run_once() == 2
    fail(store, "c3", now=60)
    clock.now = at(60)
    assert await d.run_once() == 2, "the new post at once, ahead of the reply owed before it"
    assert [kind for kind, _ in writes(slack)] == ["post", "post", "update", "post", "update"]
    pace_clock[0] = 101.0
    assert await d.run_once() == 0
    pace_clock[0] = 102.0  # one a second, from here on
    assert await d.run_once() == 1
    pace_clock[0] = 103.0
    assert await d.run_once() == 1
    assert [kind for kind, _ in writes(slack)][-2:] == ["reply", "reply"]
    assert store.outbox_depth() == 0


async def test_a_redraw_a_newer_one_makes_needless_is_sent_once(
    store: Store, slack: SlackDouble
) -> None:
    clock = Clock()
    d = deliverer(store, slack, clock)
    fail(store, "c1", now=20)
    assert await d.run_once() == 1
    for _ in range(3):
        owe(store, OutboxKind.UPDATE, alert_id=1)
    clock.now = at(140)
    assert await d.run_once() == 1
    assert len(slack.calls("chat.update")) == 1
    assert store.outbox_depth() == 0
    superseded = [r for r in store_rows.messages(store) if r.last_error]
    assert [r.last_error for r in superseded] == ["superseded by message 4"] * 2


async def test_two_deliverers_on_one_store_share_the_update_budget(
    store: Store, slack: SlackDouble, sqlite_url: str
) -> None:
    clock = Clock()
    for i in (1, 2, 3):  # three alerts in Slack, each owing a redraw
        fail(store, f"c{i}", now=20 + i)
        clock.now = at(20 + i)
        assert await deliverer(store, slack, clock).run_once() >= 1
    for alert_id in (1, 2, 3):
        owe(store, OutboxKind.UPDATE, alert_id=alert_id)
    slack.recorded.clear()
    budget = Rate(50 / 60, 2)  # two at once, then one each 1.2 s, for the whole workspace
    other = Store(sqlite_url)
    first = deliverer(store, slack, clock, updates=budget)
    second = deliverer(other, slack, clock, updates=budget)
    try:
        clock.now = at(140)
        assert await first.run_once() == 2
        assert await second.run_once() == 0, "the other replica finds the budget spent"
        clock.now = at(140) + timedelta(seconds=1.2)
        assert await second.run_once() == 1
        assert len(slack.calls("chat.update")) == 3
        assert store.outbox_depth() == 0
    finally:
        await first.aclose()
        await second.aclose()
        other.dispose()


async def test_a_redraw_without_a_turn_goes_when_its_turn_comes(
    store: Store, slack: SlackDouble
) -> None:
    for i in (1, 2, 3):
        fail(store, f"c{i}", now=20 + i)
        await deliverer(store, slack).run_once()
    slack.recorded.clear()
    d = deliverer(store, slack, updates=Rate(0.5, 1))  # the real clock: a turn each 2 s
    for alert_id in (1, 2, 3):
        owe(store, OutboxKind.UPDATE, alert_id=alert_id)
    assert await d.run_once() < 3
    # No sweep and no new message: the pass the turn wakes sends the rest.
    await eventually(lambda: len(slack.calls("chat.update")) == 3, timeout=15, what="3 redraws")
    await d.aclose()
    assert store.outbox_depth() == 0
