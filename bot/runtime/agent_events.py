"""The agent's Event Viewer readings: one reading for each change of the task's last run, kept
with that run and served inside the task it reports.

The last run changes when a run starts, when it ends (its state or its result), and, while it
runs, when its next scheduled time passes (Task Scheduler may have ignored that start because
the run was still going: event 322). A change starts one reading in the background; the answer
waits for it up to WAIT seconds and otherwise goes out without events, which a later answer
then carries. A reading that fails, hangs (EADM_TASK_TIMEOUT applies), floods or prints
something else is one log line and is not tried again for the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import replace
from datetime import datetime, tzinfo

from bot.core.domain import TaskInfo, TaskState
from bot.core.event_report import EARLY, in_window
from bot.core.redact import Redactor
from bot.core.windows_events import EventsReading
from bot.sources.events import EventsError, events_redactor, read_events

log = logging.getLogger(__name__)

WAIT = 3.0  # seconds an answer waits for a reading that a change of the run started
# Bytes the served events may take as JSON: far inside SOURCE_MAX_BYTES, which caps what the
# central bot reads of a whole answer. Beyond it the oldest events are left out.
SERVED_MAX = 256_000

RunKey = tuple[datetime | None, TaskState, int | None, datetime | None]


def run_key(task: TaskInfo) -> RunKey:
    """What, when it changes, makes the last run's events worth reading again."""
    running = task.state is TaskState.RUNNING
    return (task.last_run_at, task.state, task.last_result, task.next_run_at if running else None)


class RunEvents:
    def __init__(
        self,
        command: list[str] | None,
        *,
        task_name: str,
        seconds: float,
        tz: tzinfo,
        redactor: Redactor | None = None,
    ) -> None:
        self.command = command
        self.task_name = task_name
        self.seconds = seconds
        self.tz = tz
        # The agent's REDACT_PATTERNS with the identity numbers; those alone without it.
        self.redactor = redactor or events_redactor()
        self.reads = 0  # readings started, for tests and the log
        self._key: RunKey | None = None
        self._reading: EventsReading | None = None
        self._pending: asyncio.Task[None] | None = None

    async def with_events(self, task: TaskInfo) -> TaskInfo:
        """The task with its last run's events, where they are read (or not yet)."""
        if self.command is None or task.last_run_at is None:
            return task
        key = run_key(task)
        if key != self._key:
            self._key, self._reading = key, None
            if self._pending is not None:
                self._pending.cancel()
            self.reads += 1
            self._pending = asyncio.ensure_future(self._read(key, task.last_run_at - EARLY))
        if self._pending is not None and not self._pending.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._pending), WAIT)
        return replace(task, events=self._reading) if self._reading is not None else task

    async def _read(self, key: RunKey, since: datetime) -> None:
        assert self.command is not None
        try:
            reading = await read_events(
                self.command,
                task_name=self.task_name,
                since=since,
                seconds=self.seconds,
                tz=self.tz,
                redactor=self.redactor,
            )
        except EventsError as exc:
            log.warning(
                "could not read Event Viewer for the sync task's run of %s; it is served "
                "without: %s",
                since.isoformat(timespec="seconds"),
                exc,
            )
            return
        if key == self._key:
            self._reading = bounded(in_window(reading, since))

    async def aclose(self) -> None:
        if self._pending is not None and not self._pending.done():
            self._pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pending


def bounded(reading: EventsReading) -> EventsReading:
    """The newest events that fit SERVED_MAX bytes of JSON."""
    events = list(reading.events)
    size = sum(len(json.dumps(event.to_dict())) + 1 for event in events)
    while events and size > SERVED_MAX:
        size -= len(json.dumps(events.pop().to_dict())) + 1
    return replace(reading, events=tuple(events))
