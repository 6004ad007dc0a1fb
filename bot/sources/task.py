"""The `task` source: the sync script's scheduled task, read through a command that prints it
as PowerShell's `ConvertTo-Json` does.

The input is one JSON object (or an array of one) with `TaskName`, `TaskPath`, `State`,
`LastRunTime`, `NextRunTime`, `LastTaskResult` and `NumberOfMissedRuns`, as either Windows
PowerShell 5.1 (State as the enum's integer, times as "/Date(ms)/") or PowerShell 7 (State as a
name, times as ISO 8601 with an offset) writes it. Anything else, a command that fails, hangs
or floods, raises SourceError saying which and what to fix.

`TaskWatch` remembers, across polls, what Task Scheduler does not tell: when a run ended and
how many scheduled runs were missed since the last one. The command is run as `commands` runs
every source's command. Imports only the core and `commands`.
"""

from __future__ import annotations

import logging
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Self

from bot.core.domain import Snapshot, TaskInfo, TaskState
from bot.core.errors import SourceError
from bot.core.inputs import MAX_DEPTH, BadJson, TooDeep, parse_json
from bot.core.said import Param, Words
from bot.core.task_rules import HAS_NOT_RUN, NEVER_YEAR, code32, is_failure, task_snapshot
from bot.sources.commands import powershell_script, run_command, shipped_script

log = logging.getLogger(__name__)

MAX_OUTPUT = 1_000_000  # bytes of stdout the task's JSON may take; a flood is cut here
NOT_FOUND = "No MSFT_ScheduledTask objects found"
SCRIPT = "get-sync-task.ps1"

# State as Windows PowerShell 5.1 writes it (the enum's integer) and as a name.
_STATES_BY_NUMBER = {
    0: TaskState.UNKNOWN,
    1: TaskState.DISABLED,
    2: TaskState.QUEUED,
    3: TaskState.READY,
    4: TaskState.RUNNING,
}
_MS_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")


def script_path() -> Path:
    """The PowerShell script shipped with the package (Get-ScheduledTask + Info as JSON)."""
    return shipped_script(SCRIPT)


def default_command(task_name: str) -> list[str] | None:
    """On Windows: the shipped script, run locally. Elsewhere there is no sensible default."""
    if sys.platform != "win32":
        return None
    return powershell_script(SCRIPT, "-TaskName", task_name)


# -- parsing ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TaskReading:
    """The task as one reading shows it, before the watch adds what it remembers."""

    name: str
    path: str
    state: TaskState
    last_run_at: datetime | None
    next_run_at: datetime | None
    last_result: int | None
    missed_runs: int | None


def parse_state(value: Any) -> TaskState:
    if isinstance(value, bool):
        raise SourceError("source.task.state_bool", value=repr(value))
    if isinstance(value, int):
        if value in _STATES_BY_NUMBER:
            return _STATES_BY_NUMBER[value]
        raise SourceError("source.task.state_number", value=value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word.isdigit() and int(word) in _STATES_BY_NUMBER:
            return _STATES_BY_NUMBER[int(word)]
        try:
            return TaskState(word)
        except ValueError:
            pass
    raise SourceError("source.task.state_word", value=repr(value))


def parse_time(value: Any, what: str, tz: tzinfo) -> datetime | None:
    """A DateTime as PowerShell 5.1 or 7 prints it; None for null and for Task Scheduler's
    "never" (1999-11-30). A time without an offset is the server's local time, `tz`."""
    if isinstance(value, dict) and "value" in value:  # 5.1 with extended properties
        value = value["value"]
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise SourceError("source.task.not_time", what=what, value=repr(value))
    text = value.strip()
    if match := _MS_DATE.match(text.replace("\\/", "/")):
        parsed = datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC)
    else:
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise SourceError("source.task.time_format", what=what, value=repr(value)) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=tz)
    if parsed.astimezone(UTC).year <= NEVER_YEAR:
        return None
    return parsed.astimezone(UTC)


def _int(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise SourceError("source.task.not_number", what=what, value=repr(value))
    try:
        return int(value, 0) if isinstance(value, str) else value
    except ValueError:
        raise SourceError("source.task.not_number", what=what, value=repr(value)) from None


def _pick(data: Any, task_name: str) -> dict[str, Any]:
    if isinstance(data, list):
        tasks = [item for item in data if isinstance(item, dict)]
        if not tasks:
            raise SourceError("source.task.empty_list")
        if len(tasks) > 1:
            named = [t for t in tasks if str(t.get("TaskName", "")).lower() == task_name.lower()]
            if len(named) != 1:
                places = ", ".join(
                    f"{t.get('TaskPath', '?')}{t.get('TaskName', '?')}" for t in tasks[:5]
                )
                raise SourceError("source.task.many_tasks", n=len(tasks), places=places)
            tasks = named
        data = tasks[0]
    if not isinstance(data, dict):
        raise SourceError("source.task.not_object", got=type(data).__name__)
    return data


def parse_task(data: Any, *, task_name: str, tz: tzinfo = UTC) -> TaskReading:
    """The task object as PowerShell prints it. Raises SourceError for any other shape."""
    task = _pick(data, task_name)
    if "State" not in task or not ({"LastRunTime", "LastTaskResult"} & task.keys()):
        keys: Param = ", ".join(sorted(task)[:8]) or Words.of("source.task.no_keys")
        raise SourceError("source.task.not_task", keys=keys)
    name = str(task.get("TaskName") or task_name)
    return TaskReading(
        name=name,
        path=str(task.get("TaskPath") or "\\"),
        state=parse_state(task["State"]),
        last_run_at=parse_time(task.get("LastRunTime"), "LastRunTime", tz),
        next_run_at=parse_time(task.get("NextRunTime"), "NextRunTime", tz),
        last_result=_int(task.get("LastTaskResult"), "LastTaskResult"),
        missed_runs=_int(task.get("NumberOfMissedRuns"), "NumberOfMissedRuns"),
    )


def parse_output(stdout: bytes, *, task_name: str, tz: tzinfo = UTC) -> TaskReading:
    text = stdout.decode("utf-8-sig", errors="replace").strip()
    if not text:
        raise SourceError("source.task.printed_nothing")
    try:
        data = parse_json(text)
    except TooDeep:
        deep = Words.of("source.too_deep", depth=MAX_DEPTH)
        raise SourceError("source.task.too_deep", problem=deep) from None
    except BadJson:
        first = text.splitlines()[0][:120]
        raise SourceError("source.task.not_json", first=repr(first)) from None
    return parse_task(data, task_name=task_name, tz=tz)


# -- what polls remember ----------------------------------------------------------------------


class TaskWatch:
    """What one process has seen of the task across polls: when runs ended, when runs began
    (for the exporter, which has no times), and missed runs since the last run."""

    def __init__(self) -> None:
        self.watched_since: datetime | None = None
        self._state: TaskState | None = None
        self._run_start: datetime | None = None  # observed, for a source without times
        self._seen_running: datetime | None = None  # the run (its start) seen running
        self._finished: dict[datetime, datetime] = {}
        self._missed_base: dict[datetime | None, int] = {}

    def observe(
        self,
        reading: TaskReading,
        now: datetime,
        *,
        last_ok: bool | None,
        timed: bool = True,
    ) -> TaskInfo:
        if self.watched_since is None:
            self.watched_since = now
        running = reading.state is TaskState.RUNNING
        last_run = reading.last_run_at
        if not timed:
            # No times from the source: a run begins when a poll first sees it running.
            if running and self._state is not TaskState.RUNNING:
                self._run_start = now
            last_run = self._run_start
        if running and last_run is not None:
            self._seen_running = last_run
        elif self._seen_running is not None and last_run == self._seen_running:
            self._finished.setdefault(last_run, now)
            self._seen_running = None
        self._state = reading.state
        missed_since = 0
        if reading.missed_runs is not None:
            base = self._missed_base.setdefault(last_run, reading.missed_runs)
            missed_since = max(0, reading.missed_runs - base)
            # Only the current run's baseline matters.
            self._missed_base = {last_run: base}
        return TaskInfo(
            name=reading.name,
            state=reading.state,
            path=reading.path,
            last_run_at=last_run,
            next_run_at=reading.next_run_at,
            last_result=reading.last_result,
            last_ok=last_ok,
            missed_runs=reading.missed_runs,
            missed_since_run=missed_since,
            finished_at=self._finished.get(last_run) if last_run else None,
            watched_since=self.watched_since,
        )


def judge_result(reading: TaskReading) -> bool | None:
    """Did the last run succeed? None when there is no run to judge."""
    if reading.last_result is None or reading.last_run_at is None:
        return None
    if code32(reading.last_result) == HAS_NOT_RUN:
        return None
    return not is_failure(reading.last_result)


# -- running the command -------------------------------------------------------------------


def explain_exit(code: int, stderr: bytes, task_name: str) -> SourceError:
    """Why the command failed: the task is not there, or what it said on stderr."""
    text = stderr.decode("utf-8", errors="replace")
    if NOT_FOUND.lower() in text.lower():
        return SourceError("source.task.no_such_task", task=task_name)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    last: Param = lines[0][:300] if lines else Words.of("source.task.no_stderr")
    return SourceError("source.task.exit", code=code, last=last)


class TaskSource:
    """Reads the sync task by running a command; one per tenant, kept across polls."""

    kind = "task"

    def __init__(
        self,
        tenant: str,
        command: list[str],
        *,
        task_name: str,
        timeout: float = 30.0,
        tz: tzinfo = UTC,
        clock: Any = None,
    ) -> None:
        self.tenant = tenant
        self.task_name = task_name
        self.command = [part.replace("{task}", task_name) for part in command]
        self.timeout = timeout
        self.tz = tz
        self.watch = TaskWatch()
        self._clock = clock or (lambda: datetime.now(UTC))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        return None

    def describe(self) -> str:
        return f'task "{self.task_name}" via {" ".join(self.command[:3])}'

    async def read(self) -> TaskInfo:
        """The task now, with what this process remembers of it."""
        code, out, err = await run_command(
            self.command, seconds=self.timeout, max_output=MAX_OUTPUT
        )
        if code != 0:
            raise explain_exit(code, err, self.task_name)
        try:
            reading = parse_output(out, task_name=self.task_name, tz=self.tz)
        except SourceError as exc:
            raise SourceError("source.task.output", problem=exc.words) from None
        return self.watch.observe(reading, self._clock(), last_ok=judge_result(reading))

    async def current(self) -> Snapshot:
        task = await self.read()
        return task_snapshot(self.tenant, task, self._clock())

    async def history(self, limit: int = 20) -> list[Snapshot]:
        """Task Scheduler keeps no cycle history the bot can read: learn from polls."""
        return []
