"""A storm and several channels, end to end: `eadm-bot run` as a process between simulators and
a Slack double that keeps Slack's pace (429 beyond about one message per second per channel).

Thirty tenants in one channel fail at once: the channel gets one digest (and at most two alerts
of their own before the storm showed), no 429, every alert told exactly once; an alert picked
on the digest opens with its buttons, acknowledging it is told in the digest's thread, and the
digest turns green when all recovered. A tenant with two channels gets its alert in each, and
an action on one copy reaches both, even when Slack refused a redraw for a while.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from bot.core.domain import EXPORT_AD
from bot.sim.eadm import Fault, Scenario
from bot.sim.signing import block_actions_body
from bot.sim.slack import SlackDouble
from bot.slack import ids
from bot.store import Store
from testkit.e2e import BOT_TOKEN, eventually, send_signed
from testkit.world import World
from tests import store_rows

ADMIN = "UADMIN"
STORM = "C0STORM"


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """A Slack double that keeps Slack's pace (chat.postMessage's per channel, chat.update's
    per workspace), and knows the admin."""
    slack = SlackDouble(token=BOT_TOKEN, users={ADMIN: {"name": "kari"}})
    slack.limit_rate(per_second=1.0, burst=4)
    slack.limit_updates(per_minute=50, burst=8)
    async with World.open(tmp_path, slack=slack) as world:
        yield world


def _alert_ids(slack: SlackDouble, channel: str) -> list[int]:
    return [
        m["metadata"]["event_payload"]["alert_id"]
        for m in slack.messages(channel)
        if m.get("metadata") and m["metadata"]["event_payload"]["alert_id"]
    ]


def _digest(slack: SlackDouble, channel: str) -> dict[str, Any] | None:
    return next(
        (
            m
            for m in slack.messages(channel)
            if m.get("metadata", {}).get("event_payload", {}).get("alert_id") == 0
        ),
        None,
    )


async def test_a_storm_is_told_in_one_digest_at_slacks_pace(world: World) -> None:
    slack = world.slack
    tenants = 30
    # Export AD fails in the first cycle (red after about 3.6 s); the next cycle gets through.
    scenario = Scenario("storm", (Fault(EXPORT_AD, "fail"), None))
    for i in range(tenants):
        await world.add_tenant(f"t{i:02d}", scenario, speed=150, channel=STORM)
    bot = await world.start_bot(ADMIN_USERS=ADMIN)
    store = Store(world.db_url)
    try:

        def told() -> bool:
            alerts = store_rows.alerts(store)
            return len(alerts) == tenants and all(
                a.message_ts or any(c.digest_id for c in store_rows.copies(store, a.id or 0))
                for a in alerts
            )

        await eventually(told, timeout=30, what="every tenant's alert told")
        digest = await eventually(lambda: _digest(slack, STORM), timeout=15, what="the digest")
        assert "new alerts at once" in digest["blocks"][0]["text"]["text"]

        # Pick an alert on the digest: its own message comes back, with its buttons.
        picker = next(b for b in digest["blocks"] if b["type"] == "actions")["elements"][0]
        picked = picker["options"][0]["value"]
        body = block_actions_body(
            ids.ACTION_DIGEST_PICK,
            picked,
            user_id=ADMIN,
            channel_id=STORM,
            message_ts=digest["ts"],
            selected=True,
            response_url=slack.response_url("pick"),
        )
        assert (await send_signed(bot.url, body)).status_code == 200
        answer = await eventually(lambda: slack.responses, timeout=10, what="the picked alert")
        buttons = [
            e["action_id"]
            for b in answer[0]["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        ]
        assert ids.ACTION_ACK in buttons

        # Acknowledge it from there: the digest's thread says so.
        body = block_actions_body(ids.ACTION_ACK, picked, user_id=ADMIN, channel_id=STORM)
        assert (await send_signed(bot.url, body)).status_code == 200
        await eventually(
            lambda: slack.thread(STORM, _digest(slack, STORM)["ts"]),  # type: ignore[index]
            timeout=15,
            what="the acknowledgement in the digest's thread",
        )

        # The next cycle gets through everywhere: the digest turns green.
        await eventually(
            lambda: "recovered" in _digest(slack, STORM)["blocks"][0]["text"]["text"],  # type: ignore[index]
            timeout=40,
            what="the digest turning green",
        )
    finally:
        await bot.stop()
        store.dispose()
    assert len(slack.messages(STORM)) <= 3, "one digest and at most two alerts before it"
    assert slack.rate_limited() == [], "delivery kept Slack's pace"
    assert slack.rate_limited("chat.update") == []
    alone = _alert_ids(slack, STORM)
    assert len(alone) == len(set(alone)), "no alert posted twice"
    check = Store(world.db_url)
    try:
        for alert in store_rows.alerts(check):
            in_digest = any(c.digest_id for c in store_rows.copies(check, alert.id or 0))
            assert in_digest != (alert.id in alone), f"{alert.tenant} told exactly once"
    finally:
        check.dispose()


async def test_an_alert_in_two_channels_is_one_alert_whatever_copy_is_clicked(
    world: World,
) -> None:
    slack = world.slack
    scenario = Scenario("one", (Fault(EXPORT_AD, "fail"),), more_cycles=False)
    await world.add_tenant("kunde", scenario, speed=6000, toml='channels = ["C0KUNDE", "C0DRIFT"]')
    bot = await world.start_bot(ADMIN_USERS=ADMIN)
    try:
        await eventually(
            lambda: slack.messages("C0KUNDE") and slack.messages("C0DRIFT"),
            timeout=20,
            what="the alert in both channels",
        )
        [alert_id] = _alert_ids(slack, "C0KUNDE")
        assert _alert_ids(slack, "C0DRIFT") == [alert_id], "the same alert, once in each"

        # Slack refuses the next two redraws: one copy stays stale for a while.
        slack.fail("chat.update", "server_error", times=2)
        body = block_actions_body(
            ids.ACTION_ACK, str(alert_id), user_id=ADMIN, channel_id="C0DRIFT"
        )
        assert (await send_signed(bot.url, body)).status_code == 200

        def acknowledged(channel: str) -> bool:
            [message] = slack.messages(channel)
            return "kari" in str(message["blocks"]) or "UADMIN" in str(message["blocks"])

        await eventually(
            lambda: acknowledged("C0KUNDE") and acknowledged("C0DRIFT"),
            timeout=30,
            what="both copies showing the acknowledgement",
        )
        for channel in ("C0KUNDE", "C0DRIFT"):
            [message] = slack.messages(channel)
            await eventually(
                lambda ch=channel, ts=message["ts"]: slack.thread(ch, ts),
                timeout=15,
                what=f"the acknowledgement in {channel}'s thread",
            )
    finally:
        await bot.stop()
    assert len(slack.messages("C0KUNDE")) == len(slack.messages("C0DRIFT")) == 1
