"""Maintenance windows and escalation, end to end: `eadm-bot run` as a process between the
simulator and the Slack double.

A failure during a window is not posted; when the window ends while it still fails, the
channel gets the summary and then the alert, once, with its buttons and mention. An alert
nobody acknowledges escalates once (in its thread, and in the escalation channel with a link),
also across a restart; an acknowledged one never does.

A window's times are minutes of the wall clock (the bot's own clock, as in production), so the
window test takes a window that holds now and ends at the next turn of a minute at least
`LEAST_LEFT` seconds away: it waits 12 to 72 seconds for the window to end.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest_asyncio

from bot.core.domain import EXPORT_AD, IMPORT_AD
from bot.sim.eadm import Fault, Scenario
from bot.sim.signing import block_actions_body
from bot.slack import ids
from bot.store import Store
from testkit.e2e import CHANNEL, eventually, metric, send_signed, settled
from testkit.world import World
from tests import store_rows

ADMIN = "UADMIN"
LEAST_LEFT = 12.0  # seconds of window the bot needs to start, poll and find the failure
FAILING = Scenario("failing", (Fault(IMPORT_AD, "fail"),), more_cycles=False)


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with World.open(tmp_path, users={ADMIN: {"name": "kari"}}) as world:
        yield world


def window_ending_soon() -> tuple[str, float]:
    """A one-off window in UTC from this minute to the next turn of a minute at least
    LEAST_LEFT seconds away: its MAINTENANCE text, and when it ends (as time.time())."""
    now = datetime.now(UTC)
    start = now.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=1)
    if (end - now).total_seconds() < LEAST_LEFT:
        end += timedelta(minutes=1)
    return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}", end.timestamp()


def texts(world: World, channel: str = CHANNEL) -> list[str]:
    return [m["text"] for m in world.slack.messages(channel)]


async def test_a_failure_in_a_window_is_posted_once_when_it_ends(world: World) -> None:
    started = time.monotonic()
    eadm_url = await world.simulator(FAILING)
    window, ends = window_ending_soon()
    bot = await world.start_bot(
        eadm_url, MAINTENANCE=window, TIMEZONE="UTC", MENTION="S0ADMINS", ADMIN_USERS=ADMIN
    )
    store = Store(world.db_url)
    try:
        await eventually(
            lambda: any(a.silenced for a in store_rows.alerts(store)),
            timeout=LEAST_LEFT,
            what="the failure found inside the window",
        )
        await settled(bot, polls_more=2)
        assert time.time() < ends, "the window must still hold for this to say anything"
        (notice,) = texts(world)
        assert notice.startswith(":wrench: Maintenance window for demo-kommune until ")
        assert "<!" not in notice, "told quietly"
        await eventually(
            lambda: len(texts(world)) == 3, timeout=ends - time.time() + 20, what="its end"
        )
        await settled(bot, polls_more=3)
        notice, summary, alert = world.slack.messages(CHANNEL)
        assert summary["text"].startswith(":bell: The maintenance window for demo-kommune is over")
        assert "Import AD failed (still open; its alert follows)" in summary["text"]
        assert alert["blocks"][0]["text"]["text"] == "Import AD failed · demo-kommune"
        assert alert["text"].startswith("<!subteam^S0ADMINS>"), "with its mention"
        assert any(block["type"] == "actions" for block in alert["blocks"]), "and its buttons"
        assert world.slack.posted_at[alert["ts"]] >= ends, "posted when the window ended"
        posts = [m for m in store_rows.messages(store) if m.kind == "post"]
        assert len(posts) == 1 and len(world.slack.messages(CHANNEL)) == 3, "once"
    finally:
        store.dispose()
    print(f"\nwindow test: {time.monotonic() - started:.1f} s")


def _alert(world: World, channel: str) -> dict[str, Any]:
    (message,) = [m for m in world.slack.messages(channel) if m.get("metadata")]
    return message


def _thread(world: World, channel: str) -> list[str]:
    """The thread of the channel's alert (none before it is posted)."""
    if not any(m.get("metadata") for m in world.slack.messages(channel)):
        return []
    return [m["text"] for m in world.slack.thread(channel, _alert(world, channel)["ts"])]


async def test_an_unacknowledged_alert_escalates_once_an_acknowledged_one_never(
    world: World,
) -> None:
    started = time.monotonic()
    failing = Scenario("failing", (Fault(EXPORT_AD, "fail"),), more_cycles=False)
    await world.add_tenant("loud", failing, channel="CLOUD")
    await world.add_tenant("heard", failing, channel="CHEARD")
    settings = {
        "ADMIN_USERS": ADMIN,
        "ESCALATE_AFTER": "4",
        "ESCALATE_TO": "S0ONCALL",
        "ESCALATE_CHANNEL": "C0ONCALL",
        "REMIND_AFTER": "3600",
    }
    bot = await world.start_bot(**settings)
    await world.alerts_in(["CLOUD", "CHEARD"], timeout=30)
    heard = _alert(world, "CHEARD")
    alert_id = str(heard["metadata"]["event_payload"]["alert_id"])
    body = block_actions_body(ids.ACTION_ACK, alert_id, user_id=ADMIN, channel_id="CHEARD")
    assert (await send_signed(bot.url, body)).status_code == 200
    called = await eventually(
        lambda: [t for t in _thread(world, "CLOUD") if "has waited" in t],
        timeout=20,
        what="the escalation in the alert's thread",
    )
    assert called[0].startswith(":rotating_light: <!subteam^S0ONCALL> *Export AD failed · loud*")
    (elsewhere,) = await eventually(
        lambda: texts(world, "C0ONCALL"), what="the escalation channel's message"
    )
    assert "/archives/CLOUD/p" in elsewhere and "|open the alert>" in elsewhere
    # Long past ESCALATE_AFTER for the acknowledged alert too, and a restart in between.
    await eventually(
        lambda: time.time() - world.slack.posted_at[heard["ts"]] > 8, timeout=15, what="8 s"
    )
    await bot.stop()
    world.bots.remove(bot)
    bot = await world.start_bot(**settings)
    await settled(bot, polls_more=3)
    assert [t for t in _thread(world, "CLOUD") if "has waited" in t] == called, "once"
    assert len(texts(world, "C0ONCALL")) == 1
    assert not [t for t in _thread(world, "CHEARD") if "has waited" in t], "acknowledged: never"
    assert await metric(bot.url, "eadm_bot_escalations_total") in ({}, {"loud": 0.0}), (
        "the restarted process escalated nothing"
    )
    store = Store(world.db_url)
    try:
        entries = [e for e in store_rows.audit_log(store) if e.action == "escalate"]
        assert [(e.tenant, e.result) for e in entries] == [("loud", "done")]
    finally:
        store.dispose()
    print(f"\nescalation test: {time.monotonic() - started:.1f} s")


async def test_an_escalation_is_counted_in_the_metrics(world: World) -> None:
    failing = Scenario("failing", (Fault(EXPORT_AD, "fail"),), more_cycles=False)
    bot = await world.start_bot(
        await world.simulator(failing), ESCALATE_AFTER="1", ESCALATE_TO="U0KARI"
    )

    (thread_line,) = await eventually(
        lambda: [t for t in _thread(world, CHANNEL) if "has waited" in t],
        timeout=20,
        what="the escalation",
    )
    assert thread_line.startswith(":rotating_light: <@U0KARI> *Export AD failed · demo-kommune*")
    assert await metric(bot.url, "eadm_bot_escalations_total") == {"demo-kommune": 1.0}
