"""Which alerts read Event Viewer and from when, what a reading is kept as, and what the
alert's thread then says: one row per alert kind, then the recorded outputs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.domain import (
    EXPORT_AD,
    TASK_STEP,
    Condition,
    Finding,
    Snapshot,
    StepRun,
    StepState,
    TaskInfo,
    TaskState,
)
from bot.core.event_report import (
    EARLY,
    KEEP,
    LINES,
    EventsReport,
    ignored_news,
    in_window,
    report_for,
    section,
    window_start,
)
from bot.core.event_rules import OPERATIONAL_LOG, TASK_SCHEDULER, Event
from bot.core.windows_events import EventsReading
from bot.sources.events import parse_events

EVENTS = Path(__file__).parents[1] / "fixtures" / "events"
RUN = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
CYCLE = datetime(2026, 11, 27, 4, 30, tzinfo=UTC)
WATCHED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NAME = "eAdm synkronisering"
NOW = RUN + timedelta(hours=3)


def snapshot(task: TaskInfo | None = None) -> Snapshot:
    steps = (StepRun(EXPORT_AD, StepState.FAILED),)
    return Snapshot("t", "c1", CYCLE, None, steps, task=task)


TASK = TaskInfo(NAME, TaskState.READY, last_run_at=RUN, watched_since=WATCHED)


def finding(step: str | None, condition: Condition) -> Finding:
    return Finding("t", "c1", step, condition, since=RUN + timedelta(minutes=7))


@pytest.mark.parametrize(
    "step,condition,task,since",
    [
        # The sync task's own run: from a minute before it started.
        (TASK_STEP, Condition.FAILED, TASK, RUN - EARLY),
        (TASK_STEP, Condition.STUCK, TASK, RUN - EARLY),
        # No new cycle, from the task's last run (or since it is watched).
        (None, Condition.NO_NEW_CYCLE, TASK, RUN),
        (None, Condition.NO_NEW_CYCLE, replace(TASK, last_run_at=None), WATCHED),
        # A failed step where the task is watched beside the status API: the cycle's start.
        (EXPORT_AD, Condition.FAILED, TASK, CYCLE),
        # Nothing to read for the others, nor without the task.
        (TASK_STEP, Condition.DISABLED, TASK, None),
        (EXPORT_AD, Condition.STUCK, TASK, None),
        (EXPORT_AD, Condition.NOT_STARTED, TASK, None),
        (None, Condition.SOURCE_UNREACHABLE, TASK, None),
        (EXPORT_AD, Condition.FAILED, None, None),
        (None, Condition.NO_NEW_CYCLE, None, None),
    ],
)
def test_which_alerts_read_and_from_when(
    step: str | None, condition: Condition, task: TaskInfo | None, since: datetime | None
) -> None:
    assert window_start(finding(step, condition), snapshot(task)) == since


def test_no_snapshot_reads_nothing() -> None:
    assert window_start(finding(TASK_STEP, Condition.FAILED), None) is None


def read(name: str) -> EventsReading:
    return parse_events((EVENTS / name).read_bytes())


def test_a_report_keeps_the_window_newest_first_and_bounded() -> None:
    reading = read("ps51-dotnet-crash.json")
    report = report_for(reading, since=RUN + timedelta(minutes=3), now=NOW)
    assert [e.id for e in report.events] == [1001, 201, 102, 1000, 1026]  # from 05:03 on
    assert report.read_at == NOW and report.operational_log_enabled is True
    many = EventsReading(True, tuple(replace(reading.events[0], time=RUN + timedelta(seconds=n))
                                     for n in range(KEEP + 20)))  # fmt: skip
    kept = in_window(many, RUN).events
    assert len(kept) == KEEP and kept[0].time == RUN + timedelta(seconds=KEEP + 19)


def test_a_report_round_trips_through_the_store() -> None:
    report = replace(report_for(read("ps51-ignored-start.json"), since=RUN, now=NOW))
    report = replace(report, history_off_told=True)
    assert EventsReport.from_dict(report.to_dict()) == report


@pytest.mark.parametrize(
    "fixture,condition,ids,ignored,history",
    [
        ("ps51-dotnet-crash.json", Condition.FAILED, [1026, 1000, 201], False, False),
        ("ps7-exit-code.json", Condition.FAILED, [201], False, False),
        ("ps51-start-failed.json", Condition.NO_NEW_CYCLE, [101], False, False),
        # The hung run: its ignored starts are told in words of their own, not as a line.
        ("ps51-ignored-start.json", Condition.STUCK, [], True, False),
        # On another alert a 322 is one line among the others.
        ("ps51-ignored-start.json", Condition.FAILED, [322], False, False),
        ("ps7-time-limit.json", Condition.FAILED, [329, 111], False, False),
        ("ps51-history-off.json", Condition.FAILED, [], False, True),
    ],
)
def test_what_the_thread_says(
    fixture: str, condition: Condition, ids: list[int], ignored: bool, history: bool
) -> None:
    report = report_for(read(fixture), since=RUN - EARLY, now=NOW)
    said = section(report, condition=condition, task_name=NAME, history_off=True)
    assert [line.id for line in said.lines] == ids
    assert (said.ignored is not None) is ignored
    assert said.history_off is history
    assert said.empty is (not ids and not ignored and not history)
    # History off is said only where the tenant was not told yet.
    quiet = section(report, condition=condition, task_name=NAME, history_off=False)
    assert quiet.history_off is False


def test_the_first_ignored_start_is_told() -> None:
    report = report_for(read("ps51-ignored-start.json"), since=RUN - EARLY, now=NOW)
    said = section(report, condition=Condition.STUCK, task_name=NAME, history_off=False)
    assert said.ignored is not None and said.ignored.time == RUN + timedelta(hours=1)
    # Another task's 322 is not this run's.
    other = section(report, condition=Condition.STUCK, task_name="Other task", history_off=False)
    assert other.ignored is None


def test_the_thread_tells_few_events() -> None:
    event = Event(RUN, 101, TASK_SCHEDULER, OPERATIONAL_LOG, "Error", "", {"ResultCode": "1"})
    many = tuple(
        replace(event, time=RUN + timedelta(minutes=n), data={"ResultCode": str(n)})
        for n in range(1, 20)
    )
    report = EventsReport(RUN, NOW, True, many)
    said = section(report, condition=Condition.FAILED, task_name=NAME, history_off=False)
    assert len(said.lines) == LINES
    assert said.lines[-1].time == RUN + timedelta(minutes=19)  # the newest, oldest first


def test_an_ignored_start_found_later_is_news_once() -> None:
    hung = report_for(read("ps51-ignored-start.json"), since=RUN - EARLY, now=NOW)
    before = replace(hung, events=tuple(e for e in hung.events if e.id != 322))
    assert ignored_news(before, hung, task_name=NAME) is not None
    assert ignored_news(None, hung, task_name=NAME) is not None
    assert ignored_news(hung, hung, task_name=NAME) is None  # told already
    assert ignored_news(before, before, task_name=NAME) is None  # nothing new


def test_an_earlier_run_in_the_window_is_not_this_runs() -> None:
    """The window starts a minute early: a run that crashed just before this one started is
    not what this run's alert tells."""
    crash = read("ps51-dotnet-crash.json").events  # a run from 05:00, crashed at 05:03
    later = RUN + timedelta(minutes=4)
    start = next(e for e in crash if e.id == 100)
    hung = (replace(start, time=later), *read("ps51-ignored-start.json").events[:2])
    report = EventsReport(later - EARLY, NOW, True, (*hung, *crash))
    said = section(report, condition=Condition.STUCK, task_name=NAME, history_off=False)
    assert said.lines == ()  # not the earlier run's crash
    assert said.ignored is not None
    # Without a start in the window (history off, or a start that failed), all of it counts.
    no_start = EventsReport(RUN, NOW, True, tuple(e for e in crash if e.id != 100))
    said = section(no_start, condition=Condition.FAILED, task_name=NAME, history_off=False)
    assert [line.id for line in said.lines] == [1026, 1000, 201]
