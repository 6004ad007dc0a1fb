"""A stand-in for the sync task in Windows Task Scheduler, for the demo and the tests.

The task lives in a small JSON state file. Three commands play what Windows would do:

    python -m bot.sim.scheduler print STATE [--shape ps51|ps7]   # what the shipped script prints
    python -m bot.sim.scheduler start STATE                      # what `schtasks /Run` does
    python -m bot.sim.scheduler events STATE --task NAME --since ISO [--shape ps51|ps7]
                                                  # what the shipped events script prints

`print` writes the task as Windows PowerShell 5.1 (State as a number, "/Date(ms)/" times)
or PowerShell 7 (State as a name, ISO 8601 times) writes it; a run that was started ends
after `run_seconds` with `run_result`. `start` refuses a running task (0x8004131F) and a
disabled one, as Task Scheduler does. Every run writes its events as a real server would
(`event_log`), to the Operational log only while `history` is on. `set_task` lets a director
change it; `direct` is the director of `eadm-bot demo --source task`: a failed run, a run that
does not complete (and blocks the schedule), a disabled task and a cycle that does not come
(with task history off).
Imports nothing from the package but the standard library and its sibling `event_log`.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.sim import event_log

NAME = "eAdm synkronisering"
STATES = {"unknown": 0, "disabled": 1, "queued": 2, "ready": 3, "running": 4}
RUNNING, HAS_NOT_RUN = 0x41301, 0x41303
NEVER = datetime(1999, 11, 30, tzinfo=UTC)

DEFAULTS: dict[str, Any] = {
    "name": NAME,
    "state": "ready",  # ready | disabled (running is derived from `started`)
    "last_run": None,  # ISO time of the last run's start
    "result": HAS_NOT_RUN,  # LastTaskResult of the last run
    "missed": 0,
    "interval": 3600.0,  # seconds between scheduled runs, for NextRunTime
    "run_seconds": 5.0,  # how long a started run takes
    "run_result": 0,  # what a started run ends with
    "started": None,  # ISO time a run began, while it runs
    "hang": False,  # a started run never ends
    "starts": 0,  # how many times `start` started it
    "history": True,  # Task Scheduler's "Enable All Tasks History"
    "events": [],  # what Event Viewer holds (event_log), oldest first
    "instance": None,  # the running instance's id, as its events name it
    "ignored_through": None,  # the last scheduled start a 322 was written for
}


def _now() -> datetime:
    return datetime.now(UTC)


def load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    return {**DEFAULTS, **data}


def save(path: Path, data: dict[str, Any]) -> None:
    """Atomically, so a `print` never reads half a file while `start` writes."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".task-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out)
    os.replace(tmp, path)


def set_task(path: Path, **fields: Any) -> dict[str, Any]:
    """Change the simulated task (times may be given as datetimes)."""
    data = load(path)
    for key, value in fields.items():
        if key not in DEFAULTS:
            raise KeyError(f"the simulated task has no field {key!r}")
        data[key] = value.isoformat() if isinstance(value, datetime) else value
    save(path, data)
    return data


def advance(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """End a started run whose time is up, writing what Event Viewer would have got."""
    if data["started"]:
        started = datetime.fromisoformat(data["started"])
        end = started + timedelta(seconds=float(data["run_seconds"]))
        ended = not data["hang"] and end <= now
        event_log.ignored_starts(data, started, end if ended else now)
        if ended:
            event_log.run_ended(data, end, int(data["run_result"]))
            data.update(
                last_run=data["started"],
                result=data["run_result"],
                started=None,
                ignored_through=None,
            )
    return data


def begin(data: dict[str, Any], now: datetime, *, by_user: bool) -> dict[str, Any]:
    """Start a run: by the schedule, or by a user (`schtasks /Run`)."""
    event_log.run_started(data, now, by_user=by_user)
    data.update(started=now.isoformat(), ignored_through=None)
    return data


def reading(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The task as Get-ScheduledTask + Get-ScheduledTaskInfo give it (Python values)."""
    running = bool(data["started"])
    last = datetime.fromisoformat(
        data["started"] if running else data["last_run"] or NEVER.isoformat()
    )
    state = "running" if running else data["state"]
    next_run = None
    if state != "disabled" and data["interval"]:
        base = last if last > NEVER else now
        next_run = base + timedelta(seconds=float(data["interval"]))
        while next_run < now:
            next_run += timedelta(seconds=float(data["interval"]))
    return {
        "TaskName": data["name"],
        "TaskPath": "\\",
        "State": state,
        "LastRunTime": last,
        "NextRunTime": next_run,
        "LastTaskResult": RUNNING if running else int(data["result"]),
        "NumberOfMissedRuns": int(data["missed"]),
    }


def render(values: dict[str, Any], shape: str) -> str:
    """As Windows PowerShell 5.1 (`ps51`) or PowerShell 7 (`ps7`) prints it."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, datetime):
            if shape == "ps51":
                value = f"/Date({int(value.timestamp() * 1000)})/"
            else:
                value = value.astimezone().isoformat(timespec="microseconds")
        elif key == "State":
            value = STATES[value] if shape == "ps51" else value.capitalize()
        out[key] = value
    text = json.dumps(out, indent=4 if shape == "ps51" else 2)
    # 5.1 escapes the slashes of its dates.
    return text.replace("/Date(", "\\/Date(").replace(")/", ")\\/") if shape == "ps51" else text


# -- the demo's director -------------------------------------------------------------------

FAILED_CODE = 0xE0434352  # an unhandled .NET exception in the eAdm client


def commands(state: Path) -> dict[str, Any]:
    """The task source's, the events' and the rerun's settings for a simulated task (Windows
    PowerShell 5.1's shape, as the shipped scripts print it there)."""
    python = sys.executable
    me = [python, "-m", "bot.sim.scheduler"]
    return {
        "eadm_source": "task",
        "eadm_task_command": json.dumps([*me, "print", str(state), "--shape", "ps51"]),
        "eadm_events_command": json.dumps(
            [*me, "events", str(state), "--task", "{task}", "--since", "{since}", "--shape", "ps51"]
        ),
        "rerun_command": json.dumps([*me, "start", str(state)]),
    }


def _start(state: Path, **fields: Any) -> None:
    """A start by the task's schedule (the director plays it)."""
    now = datetime.now(UTC)
    data = advance(load(state), now)
    if not data["started"]:
        data = begin(data, now, by_user=False)
    save(state, data)
    set_task(state, **fields)


async def direct(state: Path, *, stuck_after: float, due_after: float, run_s: float) -> None:
    """The scenes, over and over. Each trouble shows long enough for its alert, then ends,
    so the alert turns green."""
    say = print
    await asyncio.sleep(1)
    while True:
        say("eadm-bot demo: the next run of the sync task crashes (0xE0434352)", flush=True)
        _start(state, run_result=FAILED_CODE, run_seconds=run_s)
        await asyncio.sleep(run_s + 10)
        say("eadm-bot demo: the task runs again and succeeds", flush=True)
        _start(state, run_result=0, run_seconds=run_s)
        await asyncio.sleep(run_s + 5)
        say(
            "eadm-bot demo: the next run hangs, and its next scheduled start is ignored", flush=True
        )
        interval = load(state)["interval"]
        _start(state, hang=True, interval=stuck_after / 2)
        await asyncio.sleep(stuck_after + 8)
        started = datetime.fromisoformat(load(state)["started"] or _now().isoformat())
        elapsed = (_now() - started).total_seconds()
        set_task(state, hang=False, run_seconds=elapsed, interval=interval)
        await asyncio.sleep(5)
        say("eadm-bot demo: someone disables the task in Task Scheduler", flush=True)
        set_task(state, state="disabled")
        await asyncio.sleep(10)
        set_task(state, state="ready")
        _start(state, run_result=0, run_seconds=run_s)
        await asyncio.sleep(run_s + 3)
        say(
            "eadm-bot demo: the task stops being started by its schedule, and task history is off",
            flush=True,
        )
        set_task(state, history=False)
        await asyncio.sleep(due_after + 8)
        say("eadm-bot demo: the schedule starts it again, with task history on", flush=True)
        set_task(state, history=True)
        _start(state, run_result=0, hang=False, run_seconds=run_s)
        await asyncio.sleep(run_s + 3)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.sim.scheduler")
    sub = parser.add_subparsers(dest="command", required=True)
    show = sub.add_parser("print", help="print the task as PowerShell's ConvertTo-Json does")
    show.add_argument("state", type=Path)
    show.add_argument("--shape", choices=("ps51", "ps7"), default="ps7")
    start = sub.add_parser("start", help="start the task, as schtasks /Run does")
    start.add_argument("state", type=Path)
    events = sub.add_parser("events", help="print the task's events, as the shipped script does")
    events.add_argument("state", type=Path)
    events.add_argument("--task", default=NAME)
    events.add_argument("--since", type=datetime.fromisoformat, required=True)
    events.add_argument("--shape", choices=("ps51", "ps7"), default="ps7")
    args = parser.parse_args(argv)
    now = _now()
    before = load(args.state)
    data = advance(copy.deepcopy(before), now)
    if args.command in ("print", "events"):
        if data != before:  # a run ended; otherwise write nothing, so no start is lost
            save(args.state, data)
        if args.command == "events":
            print(event_log.printed(data, since=args.since, task=args.task, shape=args.shape))
        else:
            print(render(reading(data, now), args.shape))
        return 0
    if data["started"]:
        print("ERROR: An instance of the task is already running (0x8004131F).", file=sys.stderr)
        return 1
    if data["state"] == "disabled":
        print("ERROR: The task is disabled.", file=sys.stderr)
        return 1
    data = begin(data, now, by_user=True)
    data.update(starts=int(data["starts"]) + 1)
    save(args.state, data)
    print(f'SUCCESS: Attempted to run the scheduled task "{data["name"]}".')
    return 0


if __name__ == "__main__":
    sys.exit(main())
