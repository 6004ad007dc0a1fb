"""The task and exporter sources against recorded Windows outputs (written from Microsoft's and
windows_exporter's documentation), and every bad input the command or the exporter can give."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web

from bot.core.domain import TASK_STEP, StepState, TaskState
from bot.core.errors import SourceError
from bot.core.task_rules import failure_words
from bot.sources.exporter import ExporterSource, matches, parse_metrics
from bot.sources.task import TaskReading, TaskSource, TaskWatch, parse_output
from testkit.e2e import serving

FIXTURES = Path(__file__).parents[1] / "fixtures"
TASK = FIXTURES / "task"
EXPORTER = FIXTURES / "exporter"
NAME = "eAdm synkronisering"
STAND_IN = [sys.executable, "-m", "tests.doubles.task_command"]
OSLO = ZoneInfo("Europe/Oslo")


def read(name: str):
    return parse_output((TASK / name).read_bytes(), task_name=NAME, tz=OSLO)


@pytest.mark.parametrize(
    "fixture,state,last_run,result,next_run",
    [
        ("ps51-ready.json", TaskState.READY, "2026-11-27T05:00:00+00:00", 0, "06:00"),
        (
            "ps51-failed-dotnet.json",
            TaskState.READY,
            "2026-11-27T05:00:00+00:00",
            0xE0434352,
            "06:00",
        ),
        ("ps51-running.json", TaskState.RUNNING, "2026-11-27T05:00:00+00:00", 0x41301, "06:00"),
        ("ps51-disabled.json", TaskState.DISABLED, "2026-11-27T05:00:00+00:00", 0, None),
        ("ps51-never-ran.json", TaskState.READY, None, 0x41303, None),
        ("ps7-ready.json", TaskState.READY, "2026-11-27T05:00:00.123456+00:00", 0, "06:00"),
        (
            "ps7-failed-terminated.json",
            TaskState.READY,
            "2026-11-27T05:00:00.123456+00:00",
            0x41306,
            "06:00",
        ),
        (
            "ps7-running.json",
            TaskState.RUNNING,
            "2026-11-27T05:00:00.123456+00:00",
            0x41301,
            "06:00",
        ),
        ("ps7-disabled.json", TaskState.DISABLED, "2026-11-27T05:00:00.123456+00:00", 0, None),
        ("ps7-missed-runs.json", TaskState.READY, "2026-11-27T05:00:00.123456+00:00", 0, "06:00"),
    ],
)
def test_both_powershell_shapes(
    fixture: str, state: TaskState, last_run: str | None, result: int, next_run: str | None
) -> None:
    reading = read(fixture)
    assert reading.state is state
    assert reading.last_run_at == (datetime.fromisoformat(last_run) if last_run else None)
    assert reading.last_result == result
    assert (reading.next_run_at.strftime("%H:%M") if reading.next_run_at else None) == next_run


def test_disabled_fixture_of_an_older_install_keeps_its_name() -> None:
    assert read("ps51-disabled.json").name == "eAdm"


@pytest.mark.parametrize(
    "text,words",
    [
        ("", "printed nothing"),
        ("Get-ScheduledTask : Access is denied.", "did not print JSON"),
        ("[]", "empty list"),
        ('"just a string"', "not a task object"),
        ('{"TaskName": "eAdm synkronisering"}', "not a scheduled task"),
        ('{"State": 9, "LastRunTime": null}', "not one of Task Scheduler's states"),
        ('{"State": "Sleeping", "LastRunTime": null}', "not one of Task Scheduler's states"),
        ('{"State": 3, "LastRunTime": "yesterday"}', "neither"),
        ('{"State": 3, "LastRunTime": null, "LastTaskResult": "lots"}', "not a number"),
        (
            '[{"TaskName": "a", "TaskPath": "\\\\x\\\\", "State": 3, "LastTaskResult": 0},'
            ' {"TaskName": "b", "TaskPath": "\\\\y\\\\", "State": 3, "LastTaskResult": 0}]',
            "printed 2 tasks",
        ),
    ],
)
def test_other_shapes_are_refused_with_a_reason(text: str, words: str) -> None:
    with pytest.raises(SourceError, match=words):
        parse_output(text.encode(), task_name=NAME)


def test_cim_object_without_run_information_is_another_shape() -> None:
    with pytest.raises(SourceError, match="Get-ScheduledTaskInfo"):
        read("ps51-cim-object.json")


def test_bom_and_crlf_of_windows_output_are_fine() -> None:
    data = b"\xef\xbb\xbf" + (TASK / "ps7-ready.json").read_bytes().replace(b"\n", b"\r\n")
    assert parse_output(data, task_name=NAME).state is TaskState.READY


def test_naive_times_are_the_servers_local_time() -> None:
    text = b'{"State": "Ready", "LastRunTime": "2026-11-27T06:00:00", "LastTaskResult": 0}'
    reading = parse_output(text, task_name=NAME, tz=OSLO)
    assert reading.last_run_at == datetime(2026, 11, 27, 5, 0, tzinfo=UTC)


def reading(state: TaskState, last_run: datetime | None, missed: int = 0) -> TaskReading:
    return TaskReading(NAME, "\\", state, last_run, None, 0, missed)


def test_watch_remembers_when_a_run_ended_and_missed_runs_since() -> None:
    watch = TaskWatch()
    t0 = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
    minutes = [t0 + timedelta(minutes=m) for m in range(10)]
    running = watch.observe(reading(TaskState.RUNNING, t0, 4), minutes[1], last_ok=True)
    assert running.finished_at is None and running.missed_since_run == 0
    done = watch.observe(reading(TaskState.READY, t0, 4), minutes[3], last_ok=True)
    assert done.finished_at == minutes[3]
    later = watch.observe(reading(TaskState.READY, t0, 5), minutes[5], last_ok=True)
    assert later.finished_at == minutes[3] and later.missed_since_run == 1
    # A new run starts a new count.
    fresh = watch.observe(reading(TaskState.READY, minutes[6], 5), minutes[7], last_ok=True)
    assert fresh.missed_since_run == 0 and fresh.finished_at is None


def test_watch_times_runs_itself_for_a_source_without_times() -> None:
    watch = TaskWatch()
    t0 = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
    first = watch.observe(reading(TaskState.READY, None), t0, last_ok=True, timed=False)
    assert first.last_run_at is None and first.watched_since == t0
    seen = t0 + timedelta(minutes=1)
    running = watch.observe(reading(TaskState.RUNNING, None), seen, last_ok=True, timed=False)
    assert running.last_run_at == seen
    still = watch.observe(
        reading(TaskState.RUNNING, None), seen + timedelta(minutes=1), last_ok=True, timed=False
    )
    assert still.last_run_at == seen
    end = seen + timedelta(minutes=3)
    done = watch.observe(reading(TaskState.READY, None), end, last_ok=True, timed=False)
    assert (done.last_run_at, done.finished_at) == (seen, end)


# -- the command -------------------------------------------------------------------------------


async def test_command_printing_a_recorded_output_gives_the_task_row() -> None:
    source = TaskSource("t", [*STAND_IN, str(TASK / "ps51-failed-dotnet.json")], task_name=NAME)
    snapshot = await source.current()
    assert [(r.name, r.state) for r in snapshot.steps] == [(TASK_STEP, StepState.FAILED)]
    assert snapshot.task is not None and snapshot.task.last_ok is False
    assert "0xE0434352" in failure_words(snapshot.task).text("en")


@pytest.mark.parametrize(
    "argv,words",
    [
        (
            [*STAND_IN, "--stderr", str(TASK / "not-found.stderr"), "--exit", "1"],
            'no task named "eAdm synkronisering"',
        ),
        ([*STAND_IN, "--text", "Access denied", "--exit", "5"], "exited with code 5"),
        ([*STAND_IN, "--text", "<html>nope</html>"], "did not print JSON"),
        ([*STAND_IN, "--flood", "3000000"], "printed more than"),
        (["/nonexistent/powershell.exe", "-File", "x.ps1"], "was not found"),
    ],
)
async def test_bad_commands_say_what_went_wrong(argv: list[str], words: str) -> None:
    source = TaskSource("t", argv, task_name=NAME, timeout=20)
    with pytest.raises(SourceError, match=words):
        await source.current()


async def test_a_hanging_command_is_stopped_at_its_timeout() -> None:
    source = TaskSource("t", [*STAND_IN, "--hang"], task_name=NAME, timeout=1)
    with pytest.raises(SourceError, match="did not finish within 1 s"):
        await source.current()


def test_task_name_placeholder_in_the_command() -> None:
    source = TaskSource("t", ["ssh", "eadm01", "get-task '{task}'"], task_name="eAdm")
    assert source.command[-1] == "get-task 'eAdm'"


# -- windows_exporter --------------------------------------------------------------------------


def metrics(name: str, task_name: str = NAME):
    return parse_metrics((EXPORTER / name).read_text(), task_name=task_name)


@pytest.mark.parametrize(
    "fixture,state,ok,code",
    [
        ("ready.prom", TaskState.READY, True, 0),
        ("running.prom", TaskState.RUNNING, True, 0x41301),
        ("failed-terminated.prom", TaskState.READY, False, 0x41306),
        ("failed-exit-code.prom", TaskState.READY, False, None),
        ("disabled.prom", TaskState.DISABLED, True, 0),
        ("never-ran.prom", TaskState.READY, None, 0x41303),
        ("legacy-ready.prom", TaskState.READY, True, 0),
        ("legacy-failed.prom", TaskState.READY, False, None),
        ("missed-runs.prom", TaskState.READY, True, 0),
    ],
)
def test_exporter_metrics(
    fixture: str, state: TaskState, ok: bool | None, code: int | None
) -> None:
    reading, last_ok, _status = metrics(fixture)
    assert (reading.state, last_ok, reading.last_result) == (state, ok, code)


def test_exporter_missed_runs_and_folders() -> None:
    assert metrics("missed-runs.prom")[0].missed_runs == 2
    reading = metrics("in-folder.prom", "eAdm")[0]
    assert (reading.name, reading.path) == ("eAdm", "\\Identum\\")
    assert metrics("in-folder.prom", "/Identum/eAdm")[0].name == "eAdm"
    assert metrics("in-folder.prom", "\\Identum\\eAdm")[0].name == "eAdm"


@pytest.mark.parametrize(
    "label,name,hit",
    [
        ("/eAdm synkronisering", "eAdm synkronisering", True),
        ("/eAdm synkronisering", "/eAdm synkronisering", True),
        ("/Identum/eAdm", "eAdm", True),
        ("/Identum/eAdm", "/Other/eAdm", False),
        ("/eAdm synkronisering", "eAdm", False),
    ],
)
def test_task_label_matching(label: str, name: str, hit: bool) -> None:
    assert matches(label, name) is hit


@pytest.mark.parametrize(
    "fixture,words",
    [
        ("without-task.prom", "include"),
        ("collector-off.prom", "scheduled_task"),
    ],
)
def test_exporter_without_the_task_names_the_flags(fixture: str, words: str) -> None:
    with pytest.raises(SourceError, match=words) as caught:
        metrics(fixture)
    assert "--collectors.enabled" in str(caught.value)


async def _exporter(status: int, body: str, kind: str) -> web.Application:
    app = web.Application()

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type=kind)

    app.router.add_get("/metrics", handler)
    return app


@pytest.mark.parametrize(
    "status,body,kind,words",
    [
        (200, (EXPORTER / "login-page.html").read_text(), "text/html", "web page"),
        (404, "404 page not found", "text/plain", "404"),
        (200, (EXPORTER / "without-task.prom").read_text(), "text/plain", "no scheduled task"),
        (200, "this is { not metrics", "text/plain", "not Prometheus metrics"),
    ],
)
async def test_exporter_bad_answers(status: int, body: str, kind: str, words: str) -> None:
    async with serving(await _exporter(status, body, kind)) as url:
        source = ExporterSource("t", f"{url}/metrics", task_name=NAME)
        with pytest.raises(SourceError, match=words):
            await source.current()
        await source.aclose()


async def test_exporter_over_http_gives_the_task_row() -> None:
    body = (EXPORTER / "failed-terminated.prom").read_text()
    async with serving(await _exporter(200, body, "text/plain")) as url:
        source = ExporterSource("t", f"{url}/metrics", task_name=NAME)
        snapshot = await source.current()
        await source.aclose()
    assert [(r.name, r.state) for r in snapshot.steps] == [(TASK_STEP, StepState.FAILED)]
    assert snapshot.task is not None
    assert "0x41306" in failure_words(snapshot.task).text("en")


async def test_exporter_unreachable() -> None:
    async with ExporterSource("t", "http://127.0.0.1:9/metrics", task_name=NAME) as source:
        with pytest.raises(SourceError, match="cannot reach windows_exporter"):
            await source.current()


# -- the status contract with the task in it (what `eadm-bot agent` serves) --------------------


def test_a_cycle_with_the_task_gets_the_tasks_row_and_rules() -> None:
    from bot.core.domain import snapshot_to_dict
    from bot.core.task_rules import task_snapshot
    from bot.sources.api import parse_cycle

    watch = TaskWatch()
    info = watch.observe(read("ps51-failed-dotnet.json"), datetime.now(UTC), last_ok=False)
    wire = snapshot_to_dict(task_snapshot("voss", info, datetime.now(UTC)))
    wire = json.loads(json.dumps(wire))
    snapshot = parse_cycle(wire, tenant="voss", fetched_at=datetime.now(UTC))
    assert snapshot.task is not None and snapshot.task.last_result == 0xE0434352
    assert [(r.name, r.state) for r in snapshot.steps] == [(TASK_STEP, StepState.FAILED)]


def test_a_malformed_task_in_a_cycle_fails_the_poll_with_a_reason() -> None:
    from bot.sources.api import parse_cycle

    wire = {"cycle_id": "x", "steps": [], "task": {"name": "eAdm", "state": "sleeping"}}
    with pytest.raises(SourceError, match="malformed task"):
        parse_cycle(wire, tenant="voss", fetched_at=datetime.now(UTC))
