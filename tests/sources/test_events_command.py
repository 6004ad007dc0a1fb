"""Running the events command once for a window: a stand-in printing the recorded outputs, and
every way a command goes wrong (fails, hangs, floods, prints something else), each one
EventsError that says which; the one redactor; the events' form in the status contract; which
command a tenant reads with; and the Task Scheduler stand-in writing events as a server does."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.settings import Tenant
from bot.core.windows_events import EventsReading
from bot.sim import scheduler
from bot.sources.events import (
    EventsError,
    contract_events,
    events_command,
    events_from_contract,
    events_redactor,
    parse_events,
    read_events,
    redacted,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "events"
STAND_IN = [sys.executable, str(Path(__file__).parents[1] / "doubles" / "task_command.py")]
OSLO = ZoneInfo("Europe/Oslo")
SINCE = datetime(2026, 11, 27, 4, 59, tzinfo=UTC)
NAME = "eAdm synkronisering"
FNR = "15076500565"  # checksum-valid (a test number): a fødselsnummer the redactor removes


async def run(argv: list[str], seconds: float = 10) -> EventsReading:
    return await read_events(
        argv, task_name=NAME, since=SINCE, seconds=seconds, tz=OSLO, redactor=events_redactor()
    )


async def test_the_shipped_scripts_output() -> None:
    reading = await run([*STAND_IN, str(FIXTURES / "ps51-dotnet-crash.json")])
    assert reading.operational_log_enabled is True
    assert [event.id for event in reading.events][:3] == [1001, 201, 102]


async def test_the_window_and_the_task_are_filled_in(tmp_path: Path) -> None:
    seen = tmp_path / "argv.json"
    script = f"import json,sys; open({str(seen)!r},'w').write(json.dumps(sys.argv[1:]))"
    await run([sys.executable, "-c", script, "-TaskName", "{task}", "-Since", "{since}"])
    assert json.loads(seen.read_text()) == ["-TaskName", NAME, "-Since", "2026-11-27T04:59:00Z"]


async def test_get_winevents_no_match_is_no_events() -> None:
    argv = [*STAND_IN, "--stderr", str(FIXTURES / "no-events.stderr"), "--exit", "1"]
    assert await run(argv) == EventsReading(None, ())


async def test_nothing_printed_is_no_events() -> None:
    assert await run([*STAND_IN, "--text", ""]) == EventsReading(None, ())


@pytest.mark.parametrize(
    "argv,seconds,words",
    [
        (
            [*STAND_IN, "--stderr", str(FIXTURES / "access-denied.stderr"), "--exit", "1"],
            10,
            "EADM_EVENTS_COMMAND exited with code 1: Attempted to perform an unauthorized",
        ),
        ([*STAND_IN, "--hang"], 1, "EADM_EVENTS_COMMAND ("),
        ([*STAND_IN, "--flood", "3000000"], 10, "printed more than 2000 kB"),
        ([*STAND_IN, str(FIXTURES / "not-json.txt")], 10, "did not print JSON"),
        ([*STAND_IN, "--text", '{"TaskName": "eAdm"}'], 10, 'neither {"Events": [...]}'),
        (["no-such-program-anywhere"], 10, "cannot run EADM_EVENTS_COMMAND"),
    ],
    ids=["fails", "hangs", "floods", "not-json", "other-json", "missing"],
)
async def test_bad_commands_are_one_error(argv: list[str], seconds: float, words: str) -> None:
    started = time.monotonic()
    with pytest.raises(EventsError) as caught:
        await run(argv, seconds=seconds)
    assert words in str(caught.value)
    assert time.monotonic() - started < seconds + 6  # the task command's timeout applies


async def test_a_hung_command_is_stopped_at_the_timeout() -> None:
    with pytest.raises(EventsError, match="did not finish within 1 s"):
        await run([*STAND_IN, "--hang"], seconds=1)


def test_every_text_of_an_event_is_redacted() -> None:
    text = (FIXTURES / "ps51-dotnet-crash.json").read_text(encoding="utf-8")
    text = text.replace("KOMMUNE\\\\svc-eadm", f"KOMMUNE\\\\{FNR}")
    text = text.replace("System.Net.WebException", f"System.Net.WebException {FNR}")
    reading = redacted(parse_events(text), events_redactor())
    dumped = json.dumps([event.to_dict() for event in reading.events])
    assert FNR not in dumped and "[fnr]" in dumped
    assert any("[fnr]" in value for event in reading.events for value in event.data.values())


def test_the_status_contracts_events_round_trip() -> None:
    reading = parse_events((FIXTURES / "ps51-ignored-start.json").read_bytes())
    task = {"name": NAME, **contract_events(reading)}
    assert events_from_contract(json.loads(json.dumps(task))) == reading
    assert events_from_contract({"name": NAME}) is None  # a bot's own source, or none read
    with pytest.raises(EventsError, match="malformed"):
        events_from_contract({"events": [{"id": 1}], "operational_log_enabled": True})
    with pytest.raises(EventsError, match="not a list"):
        events_from_contract({"events": "many"})


def test_which_command_a_tenant_reads_with(monkeypatch: pytest.MonkeyPatch) -> None:
    own = ["ssh", "eadm01", "get-sync-events.ps1", "-Since", "{since}"]
    ssh = ["ssh", "eadm01", "get-sync-task.ps1"]
    base = {"name": "t", "channel": "C1", "eadm_url": "http://eadm"}
    assert events_command(Tenant(**base, sources=["task"], task_command=ssh)) is None
    assert events_command(Tenant(**base, events_command=own)) == own
    assert events_command(Tenant(**base, sources=["api"])) is None
    monkeypatch.setattr(sys, "platform", "win32")
    local = events_command(Tenant(**base, sources=["task"]))
    assert local is not None and local[0] == "powershell.exe"
    assert local[-4:] == ["-TaskName", "{task}", "-Since", "{since}"]
    assert events_command(Tenant(**base, sources=["task"], task_command=ssh)) is None


def test_the_stand_in_writes_events_as_a_server_does(tmp_path: Path) -> None:
    state = tmp_path / "task.json"
    start = datetime.now(UTC) - timedelta(seconds=30)
    scheduler.set_task(state, interval=10.0, run_seconds=25.0, run_result=scheduler.FAILED_CODE)
    data = scheduler.begin(scheduler.load(state), start, by_user=True)
    scheduler.save(state, data)
    printed = scheduler_events(state, start - timedelta(minutes=1))
    ids = [event.id for event in printed.events]
    # Newest first: the crash, two starts ignored while it ran, and its start.
    assert ids[:5] == [102, 201, 1001, 1000, 1026]
    assert ids.count(322) == 2 and ids[-4:] == [200, 129, 100, 110]
    (exit_code,) = [e for e in printed.events if e.id == 201]
    assert exit_code.data["ResultCode"] == str(scheduler.FAILED_CODE)
    # History off: Task Scheduler's own events are gone, the crash's stay.
    scheduler.set_task(state, history=False, events=[])
    scheduler.save(state, scheduler.begin(scheduler.load(state), start, by_user=False))
    off = scheduler_events(state, start - timedelta(minutes=1))
    assert off.operational_log_enabled is False
    assert [e.id for e in off.events] == [1001, 1000, 1026]


def scheduler_events(state: Path, since: datetime) -> EventsReading:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        argv = ["events", str(state), "--task", NAME, "--since", since.isoformat(), "--shape"]
        assert scheduler.main([*argv, "ps51"]) == 0
    return parse_events(out.getvalue())
