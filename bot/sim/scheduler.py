"""A stand-in for the sync task in Windows Task Scheduler, for the demo and the tests.

The task lives in a small JSON state file. Two commands play what Windows would do:

    python -m bot.sim.scheduler print STATE [--shape ps51|ps7]   # what the shipped script prints
    python -m bot.sim.scheduler start STATE                      # what `schtasks /Run` does

`print` writes the task as Windows PowerShell 5.1 (State as a number, "/Date(ms)/" times)
or PowerShell 7 (State as a name, ISO 8601 times) writes it; a run that was started ends
after `run_seconds` with `run_result`. `start` refuses a running task (0x8004131F) and a
disabled one, as Task Scheduler does. `set_task` lets a director change it; `direct` is the
director of `eadm-bot demo --source task`: a failed run, a run that does not complete, a
disabled task and a cycle that does not come.
Imports nothing from the package but the standard library.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

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


def _advance(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """End a started run whose time is up."""
    if data["started"] and not data["hang"]:
        started = datetime.fromisoformat(data["started"])
        if (now - started).total_seconds() >= float(data["run_seconds"]):
            data.update(last_run=data["started"], result=data["run_result"], started=None)
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
    """The task source's and the rerun's settings for a simulated task (Windows PowerShell
    5.1's shape, as the shipped script prints it there)."""
    python = sys.executable
    return {
        "eadm_source": "task",
        "eadm_task_command": json.dumps(
            [python, "-m", "bot.sim.scheduler", "print", str(state), "--shape", "ps51"]
        ),
        "rerun_command": json.dumps([python, "-m", "bot.sim.scheduler", "start", str(state)]),
    }


def _start(state: Path, **fields: Any) -> None:
    data = load(state)
    if not data["started"]:
        set_task(state, started=datetime.now(UTC), **fields)
    else:
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
        say("eadm-bot demo: the next run hangs", flush=True)
        _start(state, hang=True)
        await asyncio.sleep(stuck_after + 8)
        set_task(state, hang=False, run_seconds=0)
        await asyncio.sleep(5)
        say("eadm-bot demo: someone disables the task in Task Scheduler", flush=True)
        set_task(state, state="disabled")
        await asyncio.sleep(10)
        set_task(state, state="ready")
        _start(state, run_result=0, run_seconds=run_s)
        await asyncio.sleep(run_s + 3)
        say("eadm-bot demo: the task stops being started by its schedule", flush=True)
        await asyncio.sleep(due_after + 8)
        say("eadm-bot demo: the schedule starts it again", flush=True)
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
    args = parser.parse_args(argv)
    now = _now()
    before = load(args.state)
    data = _advance(dict(before), now)
    if args.command == "print":
        if data != before:  # a run ended; otherwise write nothing, so no start is lost
            save(args.state, data)
        print(render(reading(data, now), args.shape))
        return 0
    if data["started"]:
        print("ERROR: An instance of the task is already running (0x8004131F).", file=sys.stderr)
        return 1
    if data["state"] == "disabled":
        print("ERROR: The task is disabled.", file=sys.stderr)
        return 1
    data.update(started=now.isoformat(), starts=int(data["starts"]) + 1)
    save(args.state, data)
    print(f'SUCCESS: Attempted to run the scheduled task "{data["name"]}".')
    return 0


if __name__ == "__main__":
    sys.exit(main())
