"""What Event Viewer says with an alert, through the real poll job: the task source and the
events command are stand-ins printing recorded PowerShell output, the store is real SQLite, and
the thread's reply is written by the composer delivery uses.

Every alert about the sync task reads its window once; a command that fails, hangs, floods,
prints something else or finds nothing is one log line, and the alert stays as it went out,
never told later, never twice. Task history off is told once per tenant; a start ignored while
a run hangs is told on its alert, found at once or later."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from bot.adapters.registry import Adapters
from bot.app.context import Context
from bot.app.event_viewer import AGENT_POLLS, EventViewer
from bot.app.polling import Poller
from bot.app.support import Support
from bot.core.domain import snapshot_to_dict
from bot.core.i18n import t
from bot.core.playbook import load_playbook
from bot.core.settings import Settings, load_settings
from bot.core.task_rules import task_snapshot
from bot.slack.compose import Composer
from bot.slack.people import Person
from bot.sources import Source, source_for
from bot.sources.events import contract_events, parse_events
from bot.sources.task import TaskWatch, judge_result, parse_output
from bot.store import Store
from bot.store.tables import Alert, Outbox
from testkit.e2e import serve_app
from tests import store_rows

FIXTURES = Path(__file__).parents[1] / "fixtures"
STAND_IN = [sys.executable, str(Path(__file__).parents[1] / "doubles" / "task_command.py")]
RUN = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
VIEWER_LOG = "bot.app.event_viewer"
HISTORY_OFF = t("en", "events.history_off")


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    tmp: Path
    settings: Settings
    store: Store
    poller: Poller
    viewer: EventViewer
    clock: Clock
    task: Path  # holds the path of the task fixture the task command prints
    events: Path  # holds the path of the events fixture the events command prints
    runs: Path  # one line per run of the events command
    composer: Composer = field(init=False)

    def __post_init__(self) -> None:
        self.composer = Composer(self.settings, load_playbook(), Adapters.resolve([]))

    def prints(self, task: str | None = None, events: str | Path | None = None) -> None:
        if task is not None:
            self.task.write_text(str(FIXTURES / "task" / task))
        if events is not None:
            path = events if isinstance(events, Path) else FIXTURES / "events" / events
            self.events.write_text(str(path))

    async def poll(self, times: int = 1) -> None:
        (tenant,) = self.settings.tenants
        for _ in range(times):
            await self.poller.poll(tenant)
            self.clock.now += timedelta(seconds=self.settings.poll_interval)
            await self.viewer.idle()

    def reads(self) -> list[str]:
        return self.runs.read_text().splitlines() if self.runs.exists() else []

    def told(self) -> list[str]:
        """What the threads were told of Event Viewer, as delivery writes it."""
        out = []
        for row in store_rows.messages(self.store):
            msg = str((row.payload or {}).get("msg", ""))
            if row.kind == "reply" and msg.startswith("events."):
                out.append(self.composer.reply_text(row, self.alert(row), self.clock.now))
        return out

    def alert(self, row: Outbox) -> Alert:
        assert row.alert_id is not None
        found = self.store.get_alert(row.alert_id)
        assert found is not None
        return found

    def posts(self) -> list[Outbox]:
        return [row for row in store_rows.messages(self.store) if row.kind == "post"]


async def world_for(
    tmp: Path, events_argv: list[str] | None, source: Callable[[Settings], Source] | None = None,
    **env: Any,
) -> AsyncIterator[World]:  # fmt: skip
    task, events, runs = tmp / "task.path", tmp / "events.path", tmp / "runs.txt"
    task.write_text(str(FIXTURES / "task" / "ps51-failed-dotnet.json"))
    events.write_text(str(FIXTURES / "events" / "ps51-dotnet-crash.json"))
    argv = events_argv or [*STAND_IN, str(events), "--count", str(runs)]
    argv += ["-TaskName", "{task}", "-Since", "{since}"]
    settings = load_settings(
        _env_file=None,
        require_slack=False,
        tenant_name="voss",
        alert_channel="CVOSS",
        eadm_source=env.pop("eadm_source", "task"),
        eadm_task_command=json.dumps([*STAND_IN, str(task)]),
        eadm_events_command=json.dumps(argv),
        eadm_task_timeout=env.pop("eadm_task_timeout", 5),
        database_url=f"sqlite:///{tmp / 'bot.db'}",
        timezone="Europe/Oslo",
        stuck_after=600,
        **env,
    )
    store = Store(settings.database_url)
    store.migrate()
    clock = Clock(RUN + timedelta(hours=2))
    ctx = Context(settings, store, Adapters.resolve(settings.tenants), clock=clock)
    viewer = EventViewer(ctx)
    (tenant,) = settings.tenants
    made = source(settings) if source else source_for(tenant, settings.tz)
    poller = Poller(settings, store, {tenant.name: made}, None, owner="test", clock=clock)
    poller.listeners.append(viewer.on_poll)
    try:
        yield World(tmp, settings, store, poller, viewer, clock, task, events, runs)
    finally:
        await poller.aclose()
        await viewer.aclose()
        await made.aclose()
        store.dispose()


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async for made in world_for(tmp_path, None):
        yield made


async def test_a_failed_run_is_told_what_event_viewer_says_once(world: World) -> None:
    await world.poll()
    assert len(world.posts()) == 1
    (said,) = world.told()
    assert said.startswith("*What Event Viewer says*\n")
    assert "event 1026: The eAdm client stopped on an unhandled .NET exception" in said
    assert "Exit code 0xE0434352 (3762504530)" in said
    # The window: from a minute before the run's start, as ISO 8601 UTC.
    (argv,) = world.reads()
    assert argv == "-TaskName eAdm synkronisering -Since 2026-11-27T04:59:00Z"
    # More polls of the same trouble read nothing again and say nothing more.
    await world.poll(3)
    assert len(world.reads()) == 1 and len(world.told()) == 1 and len(world.posts()) == 1
    (alert,) = store_rows.alerts(world.store)
    assert alert.events is not None and len(alert.events["events"]) == 8


BAD = [
    (
        [*STAND_IN, "--stderr", str(FIXTURES / "events" / "access-denied.stderr"), "--exit", "1"],
        logging.WARNING,
        "exited with code 1: Attempted to perform an unauthorized operation",
    ),
    ([*STAND_IN, "--hang"], logging.WARNING, "did not finish within 1 s"),
    ([*STAND_IN, "--flood", "3000000"], logging.WARNING, "printed more than 2000 kB"),
    ([*STAND_IN, str(FIXTURES / "events" / "not-json.txt")], logging.WARNING, "not print JSON"),
    ([*STAND_IN, "--text", ""], logging.INFO, "has no events of the sync task"),
    (
        [*STAND_IN, "--text", '{"OperationalLogEnabled": true, "Events": []}'],
        logging.INFO,
        "has no events of the sync task",
    ),
]


@pytest.mark.parametrize(
    "argv,level,words", BAD, ids=["fails", "hangs", "floods", "not-json", "empty", "none-found"]
)
async def test_bad_input_is_one_log_line_and_the_alert_goes_without(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, argv: list[str], level: int, words: str
) -> None:
    counted = [*argv, "--count", str(tmp_path / "runs.txt")]
    async for world in world_for(tmp_path, counted, eadm_task_timeout=1):
        with caplog.at_level(logging.INFO, logger=VIEWER_LOG):
            await world.poll(3)
        lines = [r for r in caplog.records if r.name == VIEWER_LOG]
        assert [(r.levelno, words in r.getMessage()) for r in lines] == [(level, True)], [
            r.getMessage() for r in lines
        ]
        assert len(world.posts()) == 1  # the alert went out, once
        assert world.told() == []  # without the section, and not later
        assert len(world.reads()) == 1  # read once, never again
        (alert,) = store_rows.alerts(world.store)
        assert alert.events is None


async def test_history_off_is_told_once_per_tenant(world: World, tmp_path: Path) -> None:
    world.prints(events="ps51-history-off.json")
    await world.poll()
    (said,) = world.told()
    assert HISTORY_OFF in said and "Enable All Tasks History" in said
    # The next run fails too, on a server still without history: not told again.
    later = tmp_path / "later.json"
    text = (FIXTURES / "task" / "ps51-failed-dotnet.json").read_text()
    later.write_text(text.replace("1795755600000", "1795759200000"))
    world.task.write_text(str(later))
    await world.poll()
    assert len(world.posts()) == 2 and len(world.reads()) == 2
    assert len(world.told()) == 1


async def test_a_hung_run_that_blocks_the_schedule(world: World) -> None:
    world.prints(task="ps51-running.json", events="ps51-ignored-start.json")
    await world.poll()
    (alert,) = store_rows.alerts(world.store)
    assert alert.condition == "stuck"
    (said,) = world.told()
    assert "Task Scheduler ignored a scheduled start at 07:00" in said
    assert "do not start a second run" in said


async def test_a_start_ignored_after_the_alert_is_told_when_the_schedule_passes(
    world: World, tmp_path: Path
) -> None:
    before = tmp_path / "before.json"
    early = [e for e in json.loads((FIXTURES / "events" / "ps51-ignored-start.json").read_text())[
        "Events"] if e["Id"] != 322]  # fmt: skip
    before.write_text(json.dumps({"OperationalLogEnabled": True, "Events": early}))
    world.prints(task="ps51-running.json", events=before)
    await world.poll()
    assert world.told() == []  # nothing that explains it yet: the run just goes on
    await world.poll(2)  # the same scheduled time: nothing read again
    assert len(world.reads()) == 1
    # The next scheduled start passes (its time moves on), and Task Scheduler ignored it.
    moved = tmp_path / "moved.json"
    moved.write_text(
        (FIXTURES / "task" / "ps51-running.json").read_text().replace("1795759200", "1795762800")
    )
    world.task.write_text(str(moved))
    world.prints(events="ps51-ignored-start.json")
    await world.poll()
    (said,) = world.told()
    assert said.startswith("Task Scheduler ignored a scheduled start at 07:00 because this run")
    assert len(world.reads()) == 2
    # Told once: the next scheduled time is not looked at again for this alert.
    moved.write_text(moved.read_text().replace("1795762800", "1795766400"))
    await world.poll(2)
    assert len(world.told()) == 1 and len(world.reads()) == 2


# -- the agent's events ----------------------------------------------------------------------


@dataclass
class Agent:
    """A stand-in agent: the status contract with the task, and its events when read."""

    events: str | None = None

    def body(self) -> dict[str, Any]:
        reading = parse_output(
            (FIXTURES / "task" / "ps51-failed-dotnet.json").read_bytes(),
            task_name="eAdm synkronisering",
        )
        task = TaskWatch().observe(reading, RUN, last_ok=judge_result(reading))
        body = snapshot_to_dict(task_snapshot("voss", task, RUN))
        if self.events is not None:
            served = parse_events((FIXTURES / "events" / self.events).read_bytes())
            assert isinstance(body["task"], dict)
            body["task"].update(contract_events(served))
        return body

    async def current(self, _request: web.Request) -> web.Response:
        return web.json_response(self.body())

    async def cycles(self, _request: web.Request) -> web.Response:
        return web.json_response([])


async def agent_world(tmp: Path, agent: Agent) -> AsyncIterator[World]:
    app = web.Application()
    app.router.add_get("/api/v1/sync/cycles/current", agent.current)
    app.router.add_get("/api/v1/sync/cycles", agent.cycles)
    runner, url = await serve_app(app)
    try:
        async for world in world_for(tmp, None, eadm_source="api", eadm_url=url):
            world.runs.unlink(missing_ok=True)
            yield world
    finally:
        await runner.cleanup()


async def test_the_agents_events_are_told_without_a_command_of_its_own(tmp_path: Path) -> None:
    agent = Agent("ps51-dotnet-crash.json")
    async for world in agent_world(tmp_path, agent):
        (tenant,) = world.settings.tenants
        tenant.events_command = None  # a central bot: no Get-WinEvent of its own
        await world.poll()
        (said,) = world.told()
        assert "event 1026" in said and world.reads() == []


async def test_the_agents_reading_may_come_a_poll_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    agent = Agent(None)
    async for world in agent_world(tmp_path, agent):
        (tenant,) = world.settings.tenants
        tenant.events_command = None
        await world.poll()
        assert world.told() == []
        agent.events = "ps7-exit-code.json"
        await world.poll(3)
        (said,) = world.told()
        assert "event 201" in said
    agent.events = None
    (tmp_path / "never").mkdir()
    async for world in agent_world(tmp_path / "never", agent):
        (tenant,) = world.settings.tenants
        tenant.events_command = None
        with caplog.at_level(logging.INFO, logger=VIEWER_LOG):
            await world.poll(AGENT_POLLS + 3)
        lines = [r.getMessage() for r in caplog.records if r.name == VIEWER_LOG]
        assert len(lines) == 1 and "carried none" in lines[0]
        assert world.told() == []


# -- the ticket ------------------------------------------------------------------------------


async def test_the_ticket_attaches_event_viewer_beside_the_log_excerpt(tmp_path: Path) -> None:
    received: list[dict[str, Any]] = []

    async def helpdesk(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({"id": "HD-1"})

    app = web.Application()
    app.router.add_post("/tickets", helpdesk)
    runner, url = await serve_app(app)
    logs = tmp_path / "logg"
    logs.mkdir()
    (logs / "eAdm.Client.log").write_text(
        "2026-11-27 06:03:38 ERR Unhandled exception: System.Net.WebException\n", encoding="utf-8"
    )
    try:
        async for world in world_for(
            tmp_path, None, ticket_webhook_url=f"{url}/tickets", eadm_log_dir=str(logs)
        ):
            await world.poll()
            (alert,) = store_rows.alerts(world.store)
            (tenant,) = world.settings.tenants
            ctx = world.viewer.ctx
            support = Support(ctx, None)  # type: ignore[arg-type]  # no Slack person to ask
            person = Person("UADMIN", "Kari Nordmann", "kari@kommune.no", "en")
            result, _answer = await support.submit(alert, tenant, person, "subject", "body")
            assert result == "opened"
    finally:
        await runner.cleanup()
    (ticket,) = received
    files = {a["filename"]: a["content"] for a in ticket["attachments"]}
    assert set(files) == {"eadm-logg.txt", "event-viewer.txt"}
    assert "System.Net.WebException" in files["eadm-logg.txt"]
    viewer = files["event-viewer.txt"]
    assert viewer.startswith("What Event Viewer says\n")
    assert "Windows Logs > Application, 1026: The eAdm client stopped" in viewer
    assert "Every event of the window, newest first:" in viewer
    assert t("en", "events.attached") in ticket["description"]
