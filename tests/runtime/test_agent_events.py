"""The agent serves what Event Viewer says inside the task it reports: read once when the last
run changes, kept with that run, bounded, redacted; a broken events command costs one log line
and the task is served without. In-process, over HTTP, against the Task Scheduler stand-in."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bot.core.domain import TaskInfo, TaskState
from bot.core.event_report import KEEP
from bot.core.settings import load_settings
from bot.core.windows_events import Event, EventsReading
from bot.runtime.agent import Agent
from bot.runtime.agent_events import SERVED_MAX, RunEvents, bounded, run_key
from bot.sim import scheduler
from bot.sources.events import DATA_FIELDS, DATA_LIMIT, MESSAGE_LIMIT, events_from_contract

TOKEN = "agent-token-0123456789abcdef"
SECRET = "agent-secret-0123456789abcdef"
SIM = [sys.executable, "-m", "bot.sim.scheduler"]
STAND_IN = [sys.executable, str(Path(__file__).parents[1] / "doubles" / "task_command.py")]
AGENT_LOG = "bot.runtime.agent_events"


def agent_for(state: Path, events: list[str]) -> Agent:
    settings = load_settings(
        _env_file=None,
        require_slack=False,
        require_tenants=False,
        agent_token=TOKEN,
        agent_secret=SECRET,
        eadm_task_command=json.dumps([*SIM, "print", str(state), "--shape", "ps51"]),
        eadm_events_command=json.dumps(events),
        agent_start_command=json.dumps([*SIM, "start", str(state)]),
        tenant_name="voss",
        eadm_task_timeout=2,
    )
    return Agent(settings)


def sim_events(state: Path) -> list[str]:
    return [*SIM, "events", str(state), "--task", "{task}", "--since", "{since}", "--shape", "ps51"]


def crashed(state: Path, minutes_ago: float = 10) -> None:
    """A run that crashed on an unhandled .NET exception, with what Windows wrote of it."""
    start = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    scheduler.set_task(state, run_seconds=20.0, run_result=scheduler.FAILED_CODE, interval=3600.0)
    data = scheduler.begin(scheduler.load(state), start, by_user=False)
    scheduler.save(state, scheduler.advance(data, datetime.now(UTC)))
    scheduler.set_task(state, run_result=0, run_seconds=2.0)


@pytest_asyncio.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Agent, Path, httpx.AsyncClient]]:
    state = tmp_path / "task.json"
    crashed(state)
    agent = agent_for(state, sim_events(state))
    await agent.start("127.0.0.1", 0)
    client = httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{agent.port}",
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=20,
    )
    try:
        yield agent, state, client
    finally:
        await client.aclose()
        await agent.stop()


async def current(client: httpx.AsyncClient) -> dict[str, Any]:
    answer = await client.get("/api/v1/sync/cycles/current")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_the_task_carries_its_runs_events(
    running: tuple[Agent, Path, httpx.AsyncClient],
) -> None:
    agent, _state, client = running
    started = time.perf_counter()
    body = await current(client)
    first = time.perf_counter() - started
    task = body["task"]
    assert task["operational_log_enabled"] is True
    assert [e["id"] for e in task["events"]][:5] == [102, 201, 1001, 1000, 1026]
    assert set(task["events"][0]) == {"time", "id", "log", "provider", "level", "message", "data"}
    reading = events_from_contract(task)
    assert reading is not None and len(reading.events) == 8
    # Read once for the run: later answers serve the same reading.
    for _ in range(3):
        agent._last = None  # past FRESH_FOR: the task is read again, its events are not
        assert (await current(client))["task"]["events"] == task["events"]
    assert agent.events.reads == 1
    size = len(json.dumps(body).encode())
    print(f"\nagent answer with events: {size} bytes; first answer {first:.2f} s")
    assert size < 64_000
    # The history stays small: no events in it.
    history = (await client.get("/api/v1/sync/cycles?limit=5")).json()
    assert history and all("events" not in cycle["task"] for cycle in history)


async def test_a_new_run_is_read_again(running: tuple[Agent, Path, httpx.AsyncClient]) -> None:
    agent, state, client = running
    await current(client)
    data = scheduler.begin(scheduler.load(state), datetime.now(UTC), by_user=True)
    scheduler.save(state, data)
    agent._last = None
    task = (await current(client))["task"]
    assert task["state"] == "running"
    assert [e["id"] for e in task["events"]] == [200, 129, 100, 110]  # this run's window only
    assert agent.events.reads == 2


def test_what_makes_a_run_worth_reading_again() -> None:
    run = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
    hour = timedelta(hours=1)

    def task(state: TaskState, next_run: datetime, result: int | None = None) -> TaskInfo:
        return TaskInfo("t", state, last_run_at=run, next_run_at=next_run, last_result=result)

    going = task(TaskState.RUNNING, run + hour)
    assert run_key(going) != run_key(task(TaskState.READY, run + hour, 0))  # it ended
    assert run_key(task(TaskState.READY, run + hour, 0)) != run_key(
        task(TaskState.READY, run + hour, 1)
    )
    # While it runs, a scheduled start passing (a 322 may follow) is a change; once it has
    # ended, the schedule moving on is not.
    assert run_key(going) != run_key(task(TaskState.RUNNING, run + 2 * hour))
    assert run_key(task(TaskState.READY, run + hour, 0)) == run_key(
        task(TaskState.READY, run + 2 * hour, 0)
    )


@pytest.mark.parametrize(
    "argv,words",
    [
        ([*STAND_IN, "--hang"], "did not finish within 2 s"),
        ([*STAND_IN, "--text", "Get-WinEvent : Access is denied."], "did not print JSON"),
        ([*STAND_IN, "--flood", "3000000"], "printed more than"),
    ],
    ids=["hangs", "not-json", "floods"],
)
async def test_a_broken_events_command_serves_the_task_without(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, argv: list[str], words: str
) -> None:
    state = tmp_path / "task.json"
    crashed(state)
    agent = agent_for(state, argv)
    await agent.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{agent.port}",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=20,
        ) as client:
            with caplog.at_level(logging.WARNING, logger=AGENT_LOG):
                started = time.perf_counter()
                body = await current(client)
                # The answer does not wait for a hung command past a few seconds.
                assert time.perf_counter() - started < 6
                assert "events" not in body["task"] and body["task"]["last_ok"] is False
                pending = agent.events._pending
                if pending is not None:
                    await pending
                for _ in range(2):
                    agent._last = None
                    assert "events" not in (await current(client))["task"]
        lines = [r.getMessage() for r in caplog.records if r.name == AGENT_LOG]
        assert len(lines) == 1 and words in lines[0]
        assert agent.events.reads == 1
    finally:
        await agent.stop()


async def test_the_served_events_are_bounded_and_redacted(tmp_path: Path) -> None:
    state = tmp_path / "task.json"
    crashed(state, minutes_ago=30)
    data = scheduler.load(state)
    fnr = "15076500565"
    last = datetime.fromisoformat(data["last_run"])
    for n in range(3 * KEEP):  # a flood of the client's crashes in the window
        data["events"].append(
            {
                "time": (last + timedelta(seconds=n)).isoformat(),
                "id": 1026,
                "provider": ".NET Runtime",
                "log": "Application",
                "level": "Error",
                "message": f"Application: eAdm.Client.exe\r\nException Info: E {fnr}\r\n",
                "data": {},
            }
        )
    scheduler.save(state, data)
    reading = RunEvents(sim_events(state), task_name="eAdm synkronisering", seconds=5, tz=UTC)
    task = TaskInfo("eAdm synkronisering", TaskState.READY, last_run_at=last, last_result=1)
    served = (await reading.with_events(task)).events
    assert served is not None and len(served.events) == KEEP
    assert all(fnr not in e.message for e in served.events)
    assert any("[fnr]" in e.message for e in served.events)


def test_the_served_events_fit_their_bytes() -> None:
    run = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
    huge = tuple(
        Event(run + timedelta(seconds=n), 201, "p", "l", "Error", "m" * MESSAGE_LIMIT,
              {f"k{i}": "v" * DATA_LIMIT for i in range(DATA_FIELDS)})
        for n in reversed(range(KEEP))
    )  # fmt: skip
    kept = bounded(EventsReading(True, huge))
    size = len(json.dumps([e.to_dict() for e in kept.events]))
    print(f"\nworst case served: {len(kept.events)} of {KEEP} events, {size} bytes")
    # The newest kept (as a reading holds them, newest first), the oldest left out.
    assert size <= SERVED_MAX and kept.events == huge[: len(kept.events)]
    assert kept.events[0].time == run + timedelta(seconds=KEEP - 1)
