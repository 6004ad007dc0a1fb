"""The cycle view: a cycle's steps as the eAdm portal's cycle view lists them, the sync task's
row as Task Scheduler lists it, and a cycle's outcome in one icon and a few words.

One rendering of a cycle serves the alert, the ticket, `/eadm status`, `/eadm history` and the
App Home, so they never disagree about what a step did. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.core.domain import TASK_STEP, Snapshot, StepState, TaskInfo, TaskState
from bot.core.i18n import t, t_count
from bot.core.task_rules import code32
from bot.slack.render.formatting import (
    STATE_ICONS,
    code,
    escape,
    fmt_duration,
    fmt_time,
    one_line,
    step_name,
    truncate,
)

MESSAGE_MAX = 200  # characters of a step's message on its line


def cycle_lines(
    snapshot: Snapshot,
    lang: str,
    tz: tzinfo,
    now: datetime,
    *,
    errors: bool = False,
    mrkdwn: bool = True,
) -> list[str]:
    """One line per step as the eAdm cycle view shows it: icon, name, state, start, duration.
    eAdm's own words (an integration's name, a step's message) are escaped for mrkdwn unless
    `mrkdwn` is False (a ticket's plain text)."""
    shown = escape if mrkdwn else (lambda text: text)
    lines = []
    for run in snapshot.steps:
        state = t(lang, f"state.{run.state.value}")
        if run.name == TASK_STEP and run.state is StepState.QUEUED:
            state = t(lang, "cycle.task_queued")  # Task Scheduler's Queued: waiting to start
        parts = [STATE_ICONS[run.state], f"*{shown(step_name(run.name, lang))}*", state]
        if run.started_at:
            parts.append(t(lang, "cycle.started", time=fmt_time(run.started_at, tz, now)))
            end = run.finished_at or (now if run.state is StepState.RUNNING else None)
            if end:
                parts.append(f"({fmt_duration((end - run.started_at).total_seconds(), lang)})")
        if run.name == TASK_STEP and snapshot.task is not None:
            parts.append("· " + task_details(snapshot.task, lang, tz, now))
        line = " ".join(parts)
        if errors and run.message and run.state in (StepState.FAILED, StepState.STOPPED):
            message = code(one_line(run.message)) if mrkdwn else one_line(run.message)
            line += f"\n      `{truncate(message, MESSAGE_MAX, lang)}`"
        lines.append(line)
    return lines


def task_details(task: TaskInfo, lang: str, tz: tzinfo, now: datetime) -> str:
    """The sync task's row: last run, result, next run (as Task Scheduler lists them)."""
    parts = []
    if task.state is TaskState.DISABLED:
        parts.append(t(lang, "cycle.task_disabled"))
    if task.last_run_at:
        parts.append(t(lang, "cycle.task_last_run", time=fmt_time(task.last_run_at, tz, now)))
    else:
        parts.append(t(lang, "cycle.task_never_ran"))
    if task.last_result is not None:
        parts.append(t(lang, "cycle.task_result", code=f"0x{code32(task.last_result):X}"))
    if task.next_run_at:
        parts.append(t(lang, "cycle.task_next_run", time=fmt_time(task.next_run_at, tz, now)))
    elif task.last_run_at or task.state is TaskState.DISABLED:
        parts.append(t(lang, "cycle.task_no_next_run"))
    if task.missed_since_run:
        parts.append(t_count(lang, "cycle.task_missed", task.missed_since_run))
    return " · ".join(parts)


def outcome(snapshot: Snapshot, lang: str) -> tuple[str, str]:
    """A cycle in one icon and a few words (mrkdwn): completed, which step failed or where it
    is."""
    for run in snapshot.steps:
        name = escape(step_name(run.name, lang))
        if run.state is StepState.FAILED:
            return STATE_ICONS[run.state], t(lang, "command.outcome_failed", step=name)
        if run.state is StepState.STOPPED:
            return STATE_ICONS[run.state], t(lang, "command.outcome_stopped", step=name)
        if run.state is StepState.RUNNING:
            return STATE_ICONS[run.state], t(lang, "command.outcome_running", step=name)
        if run.state in (StepState.QUEUED, StepState.PENDING):
            return STATE_ICONS[StepState.QUEUED], t(lang, "command.outcome_waiting", step=name)
    return STATE_ICONS[StepState.COMPLETED], t(lang, "command.outcome_ok")
