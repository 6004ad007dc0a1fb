"""The sync task end to end: `eadm-bot run` as a process watching tenants through the `task`
source (a stand-in command printing recorded PowerShell output), the `exporter` source (a
metrics double over HTTP serving recorded windows_exporter text) and `api` + `task` combined.

Every condition, and every bad input, must give exactly one alert with the guide's advice:
never a crash, never a false "failed".
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from bot.core.domain import TASK_STEP, Condition
from bot.core.playbook import load_playbook
from bot.sim.eadm import Scenario
from bot.slack import ids
from bot.slack.render import title
from testkit.e2e import BUTTONS, block_texts, eventually, settled
from testkit.world import World

pytestmark = pytest.mark.asyncio(loop_scope="module")

FIXTURES = Path(__file__).parents[1] / "fixtures"
STAND_IN = [sys.executable, str(Path(__file__).parents[1] / "doubles" / "task_command.py")]
THRESHOLDS = {
    "STUCK_AFTER": "3",
    "CYCLE_DUE_AFTER": "4",
    # A command slowed by a busy machine fails a poll or two; only a source failing for longer
    # than that is an outage to tell.
    "SOURCE_DOWN_AFTER": "8",
    "NOT_STARTED_AFTER": "30",
    "REMIND_AFTER": "3600",
    "POLL_INTERVAL": "2",
}


@dataclass(frozen=True)
class Case:
    name: str
    step: str | None
    condition: Condition
    command: list[str] | None = None  # task source
    metrics: str | None = None  # exporter source: a fixture, or "html"
    combined: bool = False  # api (the simulator) + task
    says: str = ""  # words the alert must carry
    events: list[str] | None = None  # events_command
    thread: str | None = None  # words the thread must carry (None: no Event Viewer section)

    @property
    def channel(self) -> str:
        return "C" + self.name.upper().replace("-", "")


def fixture(name: str) -> list[str]:
    return [*STAND_IN, str(FIXTURES / "task" / name)]


def events(name: str) -> list[str]:
    """An events command printing a recorded output, with the script's own parameters."""
    return [*STAND_IN, str(FIXTURES / "events" / name), "-TaskName", "{task}", "-Since", "{since}"]


CASES = [
    Case(
        "ps51-failed",
        TASK_STEP,
        Condition.FAILED,
        fixture("ps51-failed-dotnet.json"),
        says="0xE0434352 (3762504530)",
        events=events("ps51-dotnet-crash.json"),
        thread="event 1026: The eAdm client stopped on an unhandled .NET exception",
    ),
    Case(
        "ps7-failed",
        TASK_STEP,
        Condition.FAILED,
        fixture("ps7-failed-terminated.json"),
        says="0x41306 (267014)",
        events=[*STAND_IN, "--hang"],  # the alert goes without the section
    ),
    Case("ps7-stuck", TASK_STEP, Condition.STUCK, fixture("ps7-running.json")),
    Case(
        "ps51-stuck",
        TASK_STEP,
        Condition.STUCK,
        fixture("ps51-running.json"),
        events=events("ps51-ignored-start.json"),
        thread="07:00 because this run was still going: the hung run now also blocks",
    ),
    Case(
        "ps51-no-new-cycle",
        None,
        Condition.NO_NEW_CYCLE,
        fixture("ps51-ready.json"),
        events=events("ps51-history-off.json"),
        thread="Enable All Tasks History",
    ),
    Case("ps7-disabled", TASK_STEP, Condition.DISABLED, fixture("ps7-disabled.json")),
    Case("ps51-disabled", TASK_STEP, Condition.DISABLED, fixture("ps51-disabled.json")),
    Case(
        "task-missing",
        None,
        Condition.SOURCE_UNREACHABLE,
        [*STAND_IN, "--stderr", str(FIXTURES / "task" / "not-found.stderr"), "--exit", "1"],
        says='no task named "eAdm synkronisering"',
    ),
    Case(
        "task-hangs",
        None,
        Condition.SOURCE_UNREACHABLE,
        [*STAND_IN, "--hang"],
        says="did not finish within 1 s",
    ),
    Case(
        "task-floods",
        None,
        Condition.SOURCE_UNREACHABLE,
        [*STAND_IN, "--flood", "2000000"],
        says="printed more than",
    ),
    Case(
        "task-not-json",
        None,
        Condition.SOURCE_UNREACHABLE,
        [*STAND_IN, "--text", "Get-ScheduledTask : Access is denied."],
        says="did not print JSON",
    ),
    Case(
        "task-other-shape",
        None,
        Condition.SOURCE_UNREACHABLE,
        fixture("ps51-cim-object.json"),
        says="not a scheduled task",
    ),
    Case(
        "task-exits",
        None,
        Condition.SOURCE_UNREACHABLE,
        [
            *STAND_IN,
            "--text",
            "ssh: connect to host eadm01 port 22: Connection refused",
            "--exit",
            "255",
        ],
        says="exited with code 255",
    ),
    Case(
        "exp-failed", TASK_STEP, Condition.FAILED, metrics="failed-terminated.prom", says="0x41306"
    ),
    Case("exp-disabled", TASK_STEP, Condition.DISABLED, metrics="disabled.prom"),
    Case("exp-stuck", TASK_STEP, Condition.STUCK, metrics="running.prom"),
    Case("exp-no-new-cycle", None, Condition.NO_NEW_CYCLE, metrics="ready.prom"),
    Case(
        "exp-missing",
        None,
        Condition.SOURCE_UNREACHABLE,
        metrics="without-task.prom",
        says="--collector.scheduled_task.include",
    ),
    Case("exp-html", None, Condition.SOURCE_UNREACHABLE, metrics="html", says="web page"),
    Case("exp-404", None, Condition.SOURCE_UNREACHABLE, metrics="404", says="404"),
    Case(
        "api-task-disabled",
        TASK_STEP,
        Condition.DISABLED,
        fixture("ps7-disabled.json"),
        combined=True,
    ),
]


def _metrics_app(what: str) -> web.Application:
    async def handler(_request: web.Request) -> web.Response:
        if what == "html":
            page = (FIXTURES / "exporter" / "login-page.html").read_text()
            return web.Response(text=page, content_type="text/html")
        if what == "404":
            return web.Response(status=404, text="404 page not found")
        body = (FIXTURES / "exporter" / what).read_text()
        return web.Response(text=body, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", handler)
    return app


def _toml(value: Any) -> str:
    return json.dumps(value)


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    async with World.open(tmp_path_factory.mktemp("task")) as world:
        rerun = [sys.executable, "-c", "print('started')"]
        logs = world.tmp / "logg"
        logs.mkdir()
        (logs / "eAdm.Client.log").write_text(
            "2026-11-27 06:00:01 INF Starting synchronization\n"
            "2026-11-27 06:00:09 ERR Unhandled exception: System.IO.IOException: "
            "The network path was not found\n",
            encoding="utf-8",
        )
        for case in CASES:
            lines = [f'rerun = {{ kind = "command", command = {_toml(rerun)} }}']
            eadm_url = None
            if case.metrics:
                url = await world.serve(_metrics_app(case.metrics))
                lines += ['source = "exporter"', f"exporter_url = {_toml(url + '/metrics')}"]
            else:
                assert case.command
                # A hanging command is stopped by its own timeout within the poll's deadline
                # (80 % of POLL_INTERVAL), which the alert tells as "1 s". The flood needs time
                # to reach the output cap before any timeout, however busy the machine.
                timeout = {"task-hangs": 0.6, "task-floods": 1.5}.get(case.name, 1)
                lines += [f"task_command = {_toml(case.command)}", f"task_timeout = {timeout}"]
                if case.events:
                    lines.append(f"events_command = {_toml(case.events)}")
                if case.name == "ps51-failed":
                    lines.append(f"log_dir = {_toml(str(logs))}")
                if case.combined:
                    # A healthy simulated eAdm: its cycles keep coming.
                    eadm_url = await world.simulator(Scenario("test", (None,) * 50))
                    lines += ['sources = ["api", "task"]']
                else:
                    lines += ['source = "task"']
            await world.add_tenant(
                case.name, eadm_url=eadm_url, channel=case.channel, toml="\n".join(lines)
            )
        await world.start_bot(**THRESHOLDS)
        await world.alerts_in([case.channel for case in CASES], timeout=60)
        # More polls see the same findings: they must post nothing new.
        await settled(world.bot)
        yield world


PLAYBOOK = load_playbook()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_each_case_alerts_once_with_the_guides_advice(world: World, case: Case) -> None:
    posts = [
        c
        for c in world.slack.calls("chat.postMessage")
        if c.params["channel"] == case.channel and "thread_ts" not in c.params
    ]
    assert len(posts) == 1, f"{case.name}: expected one post, got {len(posts)}"
    (message,) = world.slack.messages(case.channel)
    blocks = message["blocks"]
    assert blocks[0]["text"]["text"].startswith(title(case.condition, case.step, "en"))
    entry = PLAYBOOK.entry(case.step, case.condition)
    text = block_texts(blocks)
    assert entry.advice("en").meaning in text
    assert case.says in text
    actions = {
        element["action_id"]
        for block in blocks
        if block.get("type") == "actions"
        for element in block["elements"]
    }
    assert actions == {BUTTONS[a] for a in entry.actions}
    # Rerun where the guide says run the sync script; never over a running or disabled task.
    if case.condition in (Condition.STUCK, Condition.DISABLED, Condition.SOURCE_UNREACHABLE):
        assert ids.ACTION_RERUN not in actions
    if case.condition in (Condition.FAILED, Condition.NO_NEW_CYCLE):
        assert ids.ACTION_RERUN in actions


@pytest.mark.parametrize("case", [c for c in CASES if c.events], ids=lambda c: c.name)
async def test_the_thread_says_what_event_viewer_says(world: World, case: Case) -> None:
    (message,) = world.slack.messages(case.channel)

    def said() -> list[str]:
        texts = [m.get("text", "") for m in world.slack.thread(case.channel, message["ts"])]
        return [text for text in texts if "What Event Viewer says" in text]

    if case.thread is None:  # one log line, and the thread is never told
        line = f"[{case.name}] could not read Event Viewer"
        await eventually(lambda: line in world.bot.log(), what="the log line")
        (logged,) = [text for text in world.bot.log().splitlines() if line in text]
        assert "did not finish within 1 s" in logged
        assert said() == []
        return
    (text,) = await eventually(said, what="the Event Viewer section in the thread")
    assert case.thread in text


async def test_the_task_is_its_own_row_of_the_cycle_view(world: World) -> None:
    (message,) = world.slack.messages("CPS51FAILED")
    text = block_texts(message["blocks"])
    assert "*Sync task* failed" in text
    assert "result 0xE0434352" in text and "next run" in text
    # The newest problem lines of the log folder come with it.
    assert "The network path was not found" in text


async def test_combined_shows_the_api_steps_and_the_task_row(world: World) -> None:
    (message,) = world.slack.messages("CAPITASKDISABLED")
    text = block_texts(message["blocks"])
    assert "*Import HR*" in text and "*Sync task*" in text
    assert "disabled in Task Scheduler" in text


async def test_bad_input_is_one_clear_log_line_and_no_traceback(world: World) -> None:
    log = world.bot.log()
    assert "Traceback" not in log
    assert '[task-missing] Task Scheduler has no task named "eAdm synkronisering"' in log
