"""What an alert about the sync task says of Event Viewer: which alerts read the events and from
when, what one reading is kept as with its alert, and what the alert's thread then tells.

The window of a reading (its `{since}`):

| the alert | since |
| --- | --- |
| the sync task failed, or is not completing | the last run's start, less a minute |
| no new cycle (no run, or missed runs) where the task is watched | the last run's start |
| a step of the status API failed, where the task is watched beside it | the cycle's start |

Every other alert reads nothing. A reading is kept with its alert as an `EventsReport` (the
window's newest events, already redacted); the thread's section (`Section`) is the few that
matter, a start Task Scheduler ignored while a run that does not complete was still going
(event 322: the hung run now blocks the schedule too), and, once per tenant, that task history
is off. Pure: imports only the core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from bot.core.domain import TASK_STEP, Condition, Finding, Snapshot
from bot.core.event_rules import (
    IGNORED_START,
    TASK_SCHEDULER,
    EventLine,
    event_field,
    ignored_start,
    same_task,
    select_events,
)
from bot.core.windows_events import Event, EventsReading

EARLY = timedelta(minutes=1)  # a run's first events may come just before its LastRunTime
STARTED = 100  # Task Scheduler started the task: a run's own events begin here
KEEP = 50  # events of the window kept with an alert (newest first), for its ticket
LINES = 5  # events that matter told in the thread
DETAIL_LINES = 3  # first lines of an exception's stack told with it
LINE_CHARS = 200  # characters of one such line


def window_start(finding: Finding, snapshot: Snapshot | None) -> datetime | None:
    """Since when Event Viewer is read for this finding's alert; None when the alert is not
    about the sync task (or the task is not watched)."""
    task = snapshot.task if snapshot is not None else None
    if task is None:
        return None
    if finding.step == TASK_STEP and finding.condition in (Condition.FAILED, Condition.STUCK):
        return (task.last_run_at or finding.since) - EARLY
    if finding.condition is Condition.NO_NEW_CYCLE:
        return task.last_run_at or task.watched_since or finding.since
    if finding.condition is Condition.FAILED and finding.step not in (None, TASK_STEP):
        assert snapshot is not None
        return snapshot.started_at or finding.since
    return None


def in_window(reading: EventsReading, since: datetime) -> EventsReading:
    """The reading's events from `since` on, newest first, at most KEEP: what an alert keeps
    (the agent's reading of a run may begin earlier than the alert's window)."""
    events = sorted(
        (e for e in reading.events if e.time >= since), key=lambda e: e.time, reverse=True
    )
    return replace(reading, events=tuple(events[:KEEP]))


@dataclass(frozen=True, slots=True)
class EventsReport:
    """One reading of Event Viewer, kept with the alert it was read for. `history_off_told`:
    this alert's thread is where the tenant is told that task history is off."""

    since: datetime
    read_at: datetime
    operational_log_enabled: bool | None
    events: tuple[Event, ...] = ()
    history_off_told: bool = False

    @property
    def history_off(self) -> bool:
        return self.operational_log_enabled is False

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "read_at": self.read_at.isoformat(),
            "operational_log_enabled": self.operational_log_enabled,
            "events": [event.to_dict() for event in self.events],
            "history_off_told": self.history_off_told,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EventsReport:
        return cls(
            since=datetime.fromisoformat(data["since"]),
            read_at=datetime.fromisoformat(data["read_at"]),
            operational_log_enabled=data.get("operational_log_enabled"),
            events=tuple(Event.from_dict(item) for item in data.get("events") or ()),
            history_off_told=bool(data.get("history_off_told")),
        )


def report_for(reading: EventsReading, *, since: datetime, now: datetime) -> EventsReport:
    return EventsReport(
        since=since,
        read_at=now,
        operational_log_enabled=reading.operational_log_enabled,
        events=in_window(reading, since).events,
    )


@dataclass(frozen=True, slots=True)
class Section:
    """What the alert's thread says under *What Event Viewer says*."""

    lines: tuple[EventLine, ...] = ()
    ignored: Event | None = None  # a start ignored while this run (not completing) went on
    history_off: bool = False  # tell that task history is off, and how to turn it on

    @property
    def empty(self) -> bool:
        return not self.lines and self.ignored is None and not self.history_off


def this_run(events: Sequence[Event], task_name: str | None) -> tuple[Event, ...]:
    """The events from the newest start of the task in the window on: what came before that
    start (the window begins a minute early) is an earlier run's. Without a start event (task
    history off) every event of the window counts."""
    starts = [
        event.time
        for event in events
        if event.id == STARTED
        and event.provider == TASK_SCHEDULER
        and same_task(event_field(event, "TaskName"), task_name)
    ]
    if not starts:
        return tuple(events)
    began = max(starts)
    return tuple(event for event in events if event.time >= began)


def section(
    report: EventsReport, *, condition: Condition, task_name: str | None, history_off: bool
) -> Section:
    """The few events that matter for the alert, and what else its thread tells.
    `history_off`: whether this thread tells that task history is off (said once a tenant)."""
    events = this_run(report.events, task_name)
    ignored = None
    if condition is Condition.STUCK:
        ignored = ignored_start(events, since=report.since, task_name=task_name)
    lines = select_events(
        events,
        task_name=task_name,
        limit=LINES,
        detail_lines=DETAIL_LINES,
        max_chars=LINE_CHARS,
    )
    if ignored is not None:  # told in words of its own
        lines = [line for line in lines if line.id != IGNORED_START]
    return Section(tuple(lines), ignored, history_off and report.history_off)


def worth_telling(
    report: EventsReport, *, condition: Condition, task_name: str | None, history_off: bool
) -> bool:
    """Whether the thread has anything to say of this reading (else it says nothing)."""
    found = section(report, condition=condition, task_name=task_name, history_off=history_off)
    return not found.empty


def ignored_news(
    told: EventsReport | None, new: EventsReport, *, task_name: str | None
) -> Event | None:
    """A start ignored while the run went on (322) that `new` shows and the reading the alert
    was told with (`told`) did not: found later, it is news once."""
    found = ignored_start(new.events, since=new.since, task_name=task_name)
    if found is None:
        return None
    if told is not None and ignored_start(told.events, since=told.since, task_name=task_name):
        return None
    return found
