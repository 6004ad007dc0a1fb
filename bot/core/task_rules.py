"""The sync task's rules: what Task Scheduler's result codes mean, the task's row in the cycle
view, and the conditions the task itself can be in. Pure: no clock, no I/O.

The `task` and `exporter` sources describe the task as a `TaskInfo`; this module turns it into
a row of the cycle (a `StepRun` named `TASK_STEP`) and into findings:

- failed: the last result is a failure code (not 0 nor one of the informational codes);
- cannot_start: that failure is one a new start cannot mend (`START_REFUSED`);
- stuck: running longer than STUCK_AFTER, or STUCK_FACTOR x its normal run time;
- no_new_cycle: no run started for CYCLE_DUE_AFTER, or a scheduled run was missed since the
  last one;
- disabled: the task is disabled, so it will never start by itself.

Imports only the domain, the thresholds and the catalogue's words.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.core.domain import (
    TASK_STEP,
    Condition,
    Finding,
    Snapshot,
    StepRun,
    StepState,
    TaskInfo,
    TaskState,
)
from bot.core.said import Said, Voice, Words
from bot.core.thresholds import Thresholds

# Task Scheduler's informational results, none of which says the last run went wrong, and the
# failures an admin meets: each code's meaning is a text of the catalogue (`result.*`), so it
# reads in either language.
INFORMATIONAL: dict[int, str] = {
    code: f"result.x{code:x}"
    for code in (
        0x0,
        0x41300,
        0x41301,
        0x41302,
        0x41303,
        0x41304,
        0x41305,
        0x41307,
        0x41308,
        0x41325,
    )
}
FAILURES: dict[int, str] = {
    code: f"result.x{code:x}"
    for code in (
        0x41306,
        0x8004131F,
        0x80041315,
        0x800710E0,
        0x2,
        0xE0434352,
        0xC0000005,
        0xC000013A,
    )
}
OWN_EXIT_CODE = "result.own"  # anything else: the sync program's own exit code

HAS_NOT_RUN = 0x41303

# Failures a new start cannot mend: the service that starts tasks is not running, or Windows
# refused the request (a start condition, the account's rights). A second start meets the
# same cause, so the cause is fixed first (`Condition.CANNOT_START`).
START_REFUSED: frozenset[int] = frozenset({0x80041315, 0x800710E0})

# Task Scheduler's time for "never": a task that never ran reports this LastRunTime.
NEVER_YEAR = 1999


def code32(code: int) -> int:
    """A result code as Task Scheduler's unsigned 32-bit value (some tools print it signed)."""
    return code & 0xFFFFFFFF


def is_failure(code: int) -> bool:
    return code32(code) not in INFORMATIONAL


def cannot_start(task: TaskInfo) -> bool:
    """Whether the task's last run failed with a result no new start mends."""
    return (
        task.last_ok is False
        and task.last_result is not None
        and code32(task.last_result) in START_REFUSED
    )


def result_words(code: int) -> Words:
    """The code in hex and decimal, and what it means."""
    value = code32(code)
    meaning = INFORMATIONAL.get(value) or FAILURES.get(value) or OWN_EXIT_CODE
    return Words.of("task.result", hex=f"{value:X}", code=value, meaning=Words.of(meaning))


def describe_result(code: int) -> str:
    """`result_words` in English, for logs and `eadm-bot check`."""
    return result_words(code).text("en")


def task_row(task: TaskInfo) -> StepRun:
    """The task as one row of the cycle view."""
    if task.state is TaskState.RUNNING:
        return StepRun(TASK_STEP, StepState.RUNNING, started_at=task.last_run_at)
    if task.state is TaskState.QUEUED:
        return StepRun(TASK_STEP, StepState.QUEUED, started_at=task.last_run_at)
    if task.state is TaskState.DISABLED:
        return StepRun(
            TASK_STEP, StepState.PENDING, started_at=task.last_run_at, message="disabled"
        )
    if task.last_ok is False:
        # No message of its own: what Task Scheduler reports is said in the alert, in the
        # reader's language, from the task itself (`failure_words`).
        return StepRun(
            TASK_STEP, StepState.FAILED, started_at=task.last_run_at, finished_at=task.finished_at
        )
    if task.last_run_at is None:
        return StepRun(TASK_STEP, StepState.PENDING)
    return StepRun(
        TASK_STEP, StepState.COMPLETED, started_at=task.last_run_at, finished_at=task.finished_at
    )


def failure_words(task: TaskInfo) -> Words:
    """What Task Scheduler reports of the task's failed last run."""
    if task.last_result is None:
        return Words.of("task.failed_no_code", task=task.name)
    return Words.of("task.failed", task=task.name, result=result_words(task.last_result))


def cycle_id(task: TaskInfo) -> str:
    """One run of the task is one cycle: named after when it started."""
    start = task.last_run_at or task.watched_since
    return f"task-{start.isoformat()}" if start else "task-never"


def task_snapshot(tenant: str, task: TaskInfo, fetched_at: datetime) -> Snapshot:
    """The cycle as the task alone shows it: one row."""
    return Snapshot(
        tenant=tenant,
        cycle_id=cycle_id(task),
        started_at=task.last_run_at,
        finished_at=task.finished_at if task.state is not TaskState.RUNNING else None,
        steps=(task_row(task),),
        fetched_at=fetched_at,
        task=task,
    )


def with_task(snapshot: Snapshot, task: TaskInfo) -> Snapshot:
    """The status API's cycle with the task's row after its steps."""
    steps = tuple(run for run in snapshot.steps if run.name != TASK_STEP)
    return replace(snapshot, steps=(*steps, task_row(task)), task=task)


def task_findings(
    snapshot: Snapshot,
    *,
    now: datetime,
    thresholds: Thresholds,
    normal: dict[str, float] | None = None,
) -> list[Finding]:
    """What is wrong with the sync task now (empty when the snapshot has no task)."""
    task = snapshot.task
    if task is None:
        return []

    # Keyed by the task's own run, so that a tenant combining the status API does not get a
    # new alert for the same task trouble with every API cycle.
    run_id = cycle_id(task)

    def finding(
        step: str | None, condition: Condition, since: datetime, error: Said | None = None
    ) -> Finding:
        return Finding(snapshot.tenant, run_id, step, condition, since, error)

    if task.state is TaskState.DISABLED:
        error = _reported(Words.of("task.disabled", task=task.name))
        return [finding(TASK_STEP, Condition.DISABLED, now, error)]
    if task.state is TaskState.RUNNING:
        started = task.last_run_at
        if started is None:
            return []
        normal_s = (normal or {}).get(TASK_STEP, 0)
        limit = max(thresholds.stuck_after, thresholds.stuck_factor * normal_s)
        if (now - started).total_seconds() > limit:
            return [finding(TASK_STEP, Condition.STUCK, started)]
        return []
    if task.state is TaskState.QUEUED:
        return []
    if task.last_ok is False:
        since = task.finished_at or task.last_run_at or now
        # The log folder's lines, when the agent read them on the client server.
        error = _reported(failure_words(task)) + (task.log or Said())
        condition = Condition.CANNOT_START if cannot_start(task) else Condition.FAILED
        return [finding(TASK_STEP, condition, since, error)]
    if task.missed_since_run > 0:
        since = task.last_run_at or task.watched_since or now
        missed = "task.missed.one" if task.missed_since_run == 1 else "task.missed.many"
        error = _reported(Words.of(missed, task=task.name, n=task.missed_since_run))
        return [finding(None, Condition.NO_NEW_CYCLE, since, error)]
    last = task.last_run_at or task.watched_since
    if last is not None and (now - last).total_seconds() > thresholds.cycle_due_after:
        return [finding(None, Condition.NO_NEW_CYCLE, last)]
    return []


def _reported(words: Words) -> Said:
    return Said.words(Voice.TASK_SCHEDULER, words)
