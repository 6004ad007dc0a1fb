"""Maintenance windows and silences through the use cases, as the running bot builds them (a
real SQLite store, the Slack double over HTTP), on a clock the test holds: T0 (at(0)) is
Tuesday 2026-11-24 22:00 in Oslo, the start of the tenants' patch night "tue 22:00-02:00"."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import Adapters
from bot.app.context import Answer
from bot.app.usecases import UseCases
from bot.core.domain import Condition, Finding, StepState
from bot.core.settings import load_settings
from bot.sim.slack import SlackDouble
from bot.sources.api import EadmSource
from bot.store import Store, Target
from tests import store_rows
from tests.cycles import at, cycle

ADMIN = "UADMIN"
TENANTS = """
[[tenants]]
name = "north"
eadm_url = "http://north.invalid"
channel = "CSHARED"

[[tenants]]
name = "south"
eadm_url = "http://south.invalid"
channel = "CSHARED"

[[tenants]]
name = "east"
eadm_url = "http://east.invalid"
channel = "CEAST"
maintenance = []

[[tenants]]
name = "west"
eadm_url = "http://west.invalid"
channels = ["CWEST", "CWESTCOPY"]
maintenance = []
"""


@dataclass
class World:
    cases: UseCases
    store: Store
    slack: SlackDouble
    now: datetime

    def at(self, minutes: float) -> None:
        self.now = at(minutes)

    async def command(self, text: str) -> str:
        answer = await self.cases.dispatch.command(text, ADMIN)
        assert isinstance(answer, Answer)
        return answer.text + json.dumps(answer.blocks or [], ensure_ascii=False)

    def texts(self) -> list[tuple[str, str]]:
        return [
            (m.channel, (m.payload or {}).get("text", ""))
            for m in store_rows.messages(self.store)
            if m.kind == "notice"
        ]


@pytest_asyncio.fixture
async def world(tmp_path: Path, migrated_sqlite_url: str) -> AsyncIterator[World]:
    slack = SlackDouble(users={ADMIN: {"name": "kari"}})
    await slack.start()
    config = tmp_path / "tenants.toml"
    config.write_text(TENANTS, encoding="utf-8")
    settings = load_settings(
        require_slack=False,
        eadm_bot_config=config,
        admin_users=ADMIN,
        database_url=migrated_sqlite_url,
        maintenance="tue 22:00-02:00",
    )
    store = Store(settings.database_url)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    sources = {t.name: EadmSource(t.eadm_url, t.name) for t in settings.tenants}
    cases = UseCases(settings, store, client, sources, Adapters.resolve(settings.tenants))
    made = World(cases, store, slack, at(-60))
    cases.ctx.clock = lambda: made.now
    try:
        yield made
    finally:
        await cases.aclose()
        for source in sources.values():
            await source.aclose()
        store.dispose()
        await slack.stop()


async def test_tenants_of_one_channel_hear_one_notice_and_one_summary(world: World) -> None:
    world.at(1)
    await world.cases.windows.tick()
    world.store.apply_poll(
        "south",
        Target("CSHARED", "en"),
        [Finding("south", "c1", "Import AD", Condition.FAILED, since=at(0))],
        cycle({"Import AD": StepState.FAILED}, upto=3, tenant="south"),
        now=at(2),
        remind_after=7200,
        window=world.cases.windows.window_at(world.cases.ctx.settings.tenants[1], at(2)),
    )
    await world.cases.windows.tick()
    world.at(241)
    await world.cases.windows.tick()
    (began, summary) = world.texts()
    assert began == (
        "CSHARED",
        ":wrench: Maintenance window for north, south until 02:00: alerts are held until it "
        "ends. Findings are still recorded; a summary follows, and what is still wrong is "
        "posted then.",
    )
    assert summary[0] == "CSHARED"
    assert summary[1].splitlines() == [
        ":bell: The maintenance window is over for 2 tenants (24.11 22:00–02:00).",
        "Nothing went wrong for north.",
        "*south*: 1 problem was recorded while it lasted:",
        "• 24.11 22:00 Import AD failed (still open; its alert follows)",
    ]
    assert [m.kind for m in store_rows.messages(world.store)][-1] == "post"
    assert not any(channel == "CEAST" for channel, _ in world.texts()), "east has no windows"


async def test_status_and_home_show_the_window_and_the_next(world: World) -> None:
    world.at(30)
    shown = await world.command("status north")
    assert "In a maintenance window until 02:00" in shown
    assert "Next maintenance window: 01.12 22:00–02:00" in shown
    world.at(-60)
    assert "In a maintenance window" not in (shown := await world.command("status north"))
    assert "Next maintenance window: 22:00–02:00" in shown
    assert "maintenance window" not in await world.command("status east")
    await world.cases.status.publish_home(ADMIN)
    (call,) = world.slack.calls("views.publish")
    assert "Next maintenance window: 22:00–02:00" in json.dumps(
        call.params["view"], ensure_ascii=False
    )


async def test_a_silence_planned_ahead_is_shown_and_can_be_called_off(world: World) -> None:
    answer = await world.command("silence 2026-12-24 08:00-16:00 east Jul")
    assert "planned a silence for east from 24.12 08:00 to 24.12 16:00 (Jul)" in answer
    state = world.store.tenant_state("east")
    assert state is not None and state.silenced_since is not None
    assert state.silenced_since.isoformat() == "2026-12-24T07:00:00+00:00"
    assert "Alerts are to be silenced 24.12 08:00–16:00, planned by <@UADMIN> (Jul)" in (
        await world.command("status east")
    )
    assert "called off" in await world.command("unsilence east")
    assert "were not silenced" in await world.command("unsilence east")


async def test_a_planned_silence_that_is_past_or_clashes_is_refused(world: World) -> None:
    assert "over already (24.11 08:00–16:00)" in await world.command(
        "silence 2026-11-24 08:00-16:00 east"
    )
    await world.command("silence 2h east")
    assert "are silenced until 23:00" in await world.command("silence 2026-12-24 08:00-16:00 east")
    grown = await world.command("silence 2026-11-24 22:30-23:30 east")
    assert "silenced alerts for east until 23:30" in grown, "it begins before that one ends"
    state = world.store.tenant_state("east")
    assert state is not None and state.silenced_until == at(90), "made longer, never shorter"


async def test_unsilence_ends_only_the_silence_typed_by_hand(world: World) -> None:
    world.at(30)
    await world.cases.windows.tick()
    assert "held by a maintenance window until 02:00" in await world.command("unsilence north")
    await world.command("silence 6h north")
    answer = await world.command("unsilence north")
    assert "but its maintenance window holds alerts until 02:00" in answer
    assert [channel for channel, _ in world.texts()] == ["CSHARED", "CSHARED"], "no summary"


async def test_a_new_silence_replaces_one_planned_ahead_and_says_so(world: World) -> None:
    await world.command("silence 2026-12-24 08:00-16:00 east")
    assert "It replaces the silence planned for 24.12 08:00–24.12 16:00." in (
        await world.command("silence 30m east")
    )


async def test_every_channel_of_a_tenant_hears_its_silence_begin_and_end(world: World) -> None:
    """A tenant whose alerts go to two channels: both hear why they go quiet, and both hear
    that alerts are on again."""
    assert "silenced alerts for west" in await world.command("silence 30m west patching")
    began = [(channel, text) for channel, text in world.texts() if "west" in text]
    assert [channel for channel, _ in began] == ["CWEST", "CWESTCOPY"]
    assert began[0][1] == began[1][1] and "(patching)" in began[0][1]
    await world.command("unsilence west")
    told = [channel for channel, text in world.texts() if "west" in text]
    assert told.count("CWEST") == told.count("CWESTCOPY") == 2, "the end in both, as the start"


def test_the_calendar_answers_as_the_windows_do_at_every_instant() -> None:
    """It remembers its answers until the window ends or the next begins: swept across both
    daylight-saving changes of 2026, forwards and back, they never differ."""
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    from bot.app.windows import Calendar
    from bot.core.maintenance import active_window, next_window, parse_windows

    oslo = ZoneInfo("Europe/Oslo")
    windows = parse_windows("sun 01:30-03:30, sat 23:00-00:30, last sun 02:15-02:45")
    calendar = Calendar(oslo)
    for first in (datetime(2026, 3, 27, tzinfo=UTC), datetime(2026, 10, 23, tzinfo=UTC)):
        instants = [first + timedelta(minutes=11 * n) for n in range(4 * 24 * 60 // 11)]
        for instant in [*instants, *reversed(instants)]:
            assert calendar.at(windows, instant) == active_window(windows, instant, oslo), instant
            following = calendar.following(windows, instant)
            assert following == next_window(windows, instant, oslo), instant
