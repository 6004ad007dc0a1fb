"""The words of the domain: steps, step states, conditions, snapshots and findings.

Plain frozen dataclasses and the name/state normalisation every source shares. Imports nothing
from the rest of the package but the plain Event Viewer values (`windows_events`) and what is
said about a finding (`said`), so sources, detection, rendering and the store can all use it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.core.said import Said, as_said
from bot.core.windows_events import EventsReading


class StepState(StrEnum):
    COMPLETED = "completed"  # green check
    FAILED = "failed"  # red cross
    STOPPED = "stopped"  # held by the import filter (safety threshold)
    RUNNING = "running"  # rotating circle
    QUEUED = "queued"  # rotating circle, next in line
    PENDING = "pending"  # not reached yet


class Condition(StrEnum):
    FAILED = "failed"
    SAFETY_THRESHOLD = "safety_threshold"
    NOT_STARTED = "not_started"
    STUCK = "stuck"
    NO_NEW_CYCLE = "no_new_cycle"
    SOURCE_UNREACHABLE = "source_unreachable"
    DISABLED = "disabled"  # the sync task is disabled in Task Scheduler
    # The sync task's last start failed in a way a new start cannot mend (the Task Scheduler
    # service is not running, or Windows refused the request): the cause is fixed first.
    CANNOT_START = "cannot_start"


class TaskState(StrEnum):
    """Task Scheduler's state of the sync task (the enum's names, in lower case)."""

    UNKNOWN = "unknown"
    DISABLED = "disabled"
    QUEUED = "queued"
    READY = "ready"
    RUNNING = "running"


# The seven named steps of a cycle, in order. Anything else eAdm shows is an integration.
IMPORT_HR = "Import HR"
IMPORT_HR_FUTURE = "Import HR Future"
IMPORT_HIERARCHY = "Import Hierarchy"
IMPORT_AD = "Import AD"
SYNCHRONIZATION = "Synchronization"
EXPORT_AD = "Export AD"
IMPORT_AD_RESULTS = "Import AD Results"
OTHER_INTEGRATIONS = "Other Integrations"
# The sync script's scheduled task, shown as a row of its own beside (or instead of) the steps.
TASK_STEP = "Sync task"

CORE_STEPS: tuple[str, ...] = (
    IMPORT_HR,
    IMPORT_HR_FUTURE,
    IMPORT_HIERARCHY,
    IMPORT_AD,
    SYNCHRONIZATION,
    EXPORT_AD,
    IMPORT_AD_RESULTS,
)
# Every step the guide has advice for: the seven, integrations as one group, and the task.
GUIDE_STEPS: tuple[str, ...] = (*CORE_STEPS, OTHER_INTEGRATIONS, TASK_STEP)


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


_STEP_ALIASES: dict[str, str] = {_squash(name): name for name in CORE_STEPS}
_STEP_ALIASES.update(
    {
        # Norwegian portal words (see the vendor's Norwegian pages).
        _squash("Importer HR"): IMPORT_HR,
        _squash("Importer HR fremtidig"): IMPORT_HR_FUTURE,
        _squash("Importhierarki"): IMPORT_HIERARCHY,
        _squash("Importer hierarki"): IMPORT_HIERARCHY,
        _squash("Importer AD"): IMPORT_AD,
        _squash("Synkronisering"): SYNCHRONIZATION,
        _squash("Sync"): SYNCHRONIZATION,
        _squash("Eksport AD"): EXPORT_AD,
        _squash("Eksporter AD"): EXPORT_AD,
        _squash("Importer AD-resultater"): IMPORT_AD_RESULTS,
        _squash("Import AD Result"): IMPORT_AD_RESULTS,
    }
)

_STATE_ALIASES: dict[str, StepState] = {s.value: s for s in StepState}
_STATE_ALIASES.update(
    {
        "ok": StepState.COMPLETED,
        "success": StepState.COMPLETED,
        "succeeded": StepState.COMPLETED,
        "successful": StepState.COMPLETED,
        "done": StepState.COMPLETED,
        "finished": StepState.COMPLETED,
        "complete": StepState.COMPLETED,
        "fullfort": StepState.COMPLETED,
        "fullført": StepState.COMPLETED,
        "error": StepState.FAILED,
        "errored": StepState.FAILED,
        "crashed": StepState.FAILED,
        "failure": StepState.FAILED,
        "feilet": StepState.FAILED,
        "feil": StepState.FAILED,
        "in_progress": StepState.RUNNING,
        "inprogress": StepState.RUNNING,
        "started": StepState.RUNNING,
        "active": StepState.RUNNING,
        "pagar": StepState.RUNNING,
        "pågår": StepState.RUNNING,
        "waiting": StepState.QUEUED,
        "scheduled": StepState.QUEUED,
        "venter": StepState.QUEUED,
        # The import filter's stop, as the portal words it. Not "paused" or "halted": the
        # vendor never uses them for it, and a step read as held waits for a review that no
        # such stop asks for; an unknown word fails the step, said as the bot's own words.
        "stanset": StepState.STOPPED,
        "stoppet": StepState.STOPPED,
        "not_started": StepState.PENDING,
        "notstarted": StepState.PENDING,
        "none": StepState.PENDING,
        "idle": StepState.PENDING,
    }
)


def canonical_step(name: str) -> str:
    """The guide's name for a step eAdm reports, or the name itself for an integration."""
    return _STEP_ALIASES.get(_squash(name), name.strip())


def guide_step(name: str) -> str:
    """The guide row that advises a step: one of the seven, or Other Integrations."""
    canonical = canonical_step(name)
    return canonical if canonical in (*CORE_STEPS, TASK_STEP) else OTHER_INTEGRATIONS


def parse_state(word: str) -> StepState | None:
    """A state word as eAdm may spell it; None for a word nobody knows."""
    key = word.strip().casefold().replace("-", "_").replace(" ", "_")
    return _STATE_ALIASES.get(key)


@dataclass(frozen=True, slots=True)
class StepRun:
    name: str
    state: StepState
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str | None = None

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """The sync task as Task Scheduler (or windows_exporter) shows it, plus what the source
    itself saw across polls: when a run ended, and missed runs since the last one."""

    name: str
    state: TaskState
    path: str = "\\"
    last_run_at: datetime | None = None  # None: it never ran (or, from the exporter, not seen)
    next_run_at: datetime | None = None
    last_result: int | None = None  # LastTaskResult; None where the source does not tell it
    last_ok: bool | None = None  # None: no run to judge
    missed_runs: int | None = None
    missed_since_run: int = 0  # NumberOfMissedRuns grew by this much since the last run
    finished_at: datetime | None = None  # when the source saw the last run end
    watched_since: datetime | None = None  # when this process began watching the task
    # What Event Viewer said about the last run, where the source read it with the run (the
    # agent does); None where it did not. Not part of the bot's own record of a snapshot.
    events: EventsReading | None = None
    log: Said | None = None  # the log folder's lines on a failed run, read by an agent


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One cycle as eAdm shows it, read at `fetched_at`."""

    tenant: str
    cycle_id: str
    started_at: datetime | None
    finished_at: datetime | None
    steps: tuple[StepRun, ...]
    fetched_at: datetime | None = None
    # Steps eAdm gave a state word nobody knows (failed for it): step name -> the word.
    problems: tuple[tuple[str, str], ...] = field(default=())
    # The sync task, for the task and exporter sources; its row is also one of `steps`.
    task: TaskInfo | None = None

    def step(self, name: str) -> StepRun | None:
        for run in self.steps:
            if run.name == name:
                return run
        return None

    @property
    def sees_steps(self) -> bool:
        """Whether the status shows eAdm's own steps. The task and exporter sources and an
        agent give only the sync task's row: the portal's cycle is then out of the bot's
        sight, and the admin checks it there."""
        return any(run.name != TASK_STEP for run in self.steps)

    @property
    def all_completed(self) -> bool:
        return bool(self.steps) and all(s.state is StepState.COMPLETED for s in self.steps)

    @property
    def ended_at(self) -> datetime | None:
        """When the cycle finished: eAdm's own word, else the last step's end."""
        if self.finished_at:
            return self.finished_at
        ends = [s.finished_at for s in self.steps if s.finished_at]
        return max(ends) if ends and self.all_completed else None


@dataclass(frozen=True, slots=True)
class Finding:
    """What detect says about one snapshot: one step (or the cycle) in one condition."""

    tenant: str
    cycle_id: str | None  # None for source_unreachable
    step: str | None  # None for cycle-level conditions (no_new_cycle, source_unreachable)
    condition: Condition
    since: datetime
    # Who said what about it (eAdm's message, Task Scheduler's report, the bot's own words);
    # plain text is taken as eAdm's message.
    error: Said | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "error", as_said(self.error))

    @property
    def key(self) -> str:
        """One alert per tenant x cycle x step: the identity alerts are kept under."""
        return alert_key(self.tenant, self.cycle_id, self.step, self.condition)


def alert_key(tenant: str, cycle_id: str | None, step: str | None, condition: Condition) -> str:
    if condition is Condition.SOURCE_UNREACHABLE:
        return f"{tenant}|source"
    return f"{tenant}|{cycle_id or '-'}|{step or 'cycle'}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, object]:
    """The bot's own record of a snapshot (for the store), not eAdm's wire format."""
    return {
        "tenant": snapshot.tenant,
        "cycle_id": snapshot.cycle_id,
        "started_at": _iso(snapshot.started_at),
        "finished_at": _iso(snapshot.finished_at),
        "fetched_at": _iso(snapshot.fetched_at),
        "steps": [
            {
                "name": run.name,
                "state": run.state.value,
                "started_at": _iso(run.started_at),
                "finished_at": _iso(run.finished_at),
                "message": run.message,
            }
            for run in snapshot.steps
        ],
        "task": task_to_dict(snapshot.task) if snapshot.task else None,
    }


def task_to_dict(task: TaskInfo) -> dict[str, object]:
    return {
        "name": task.name,
        "state": task.state.value,
        "path": task.path,
        "last_run_at": _iso(task.last_run_at),
        "next_run_at": _iso(task.next_run_at),
        "last_result": task.last_result,
        "last_ok": task.last_ok,
        "missed_runs": task.missed_runs,
        "missed_since_run": task.missed_since_run,
        "finished_at": _iso(task.finished_at),
        "watched_since": _iso(task.watched_since),
        "log": task.log.to_json() if task.log else None,
    }


def task_from_dict(data: dict[str, Any]) -> TaskInfo:
    return TaskInfo(
        name=str(data["name"]),
        state=TaskState(data["state"]),
        path=str(data.get("path") or "\\"),
        last_run_at=_dt(data.get("last_run_at")),
        next_run_at=_dt(data.get("next_run_at")),
        last_result=data.get("last_result"),
        last_ok=data.get("last_ok"),
        missed_runs=data.get("missed_runs"),
        missed_since_run=int(data.get("missed_since_run") or 0),
        finished_at=_dt(data.get("finished_at")),
        watched_since=_dt(data.get("watched_since")),
        log=Said.from_json(data.get("log")),
    )


def snapshot_from_dict(data: dict[str, object]) -> Snapshot:
    steps = data.get("steps") or []
    assert isinstance(steps, list)
    return Snapshot(
        tenant=str(data["tenant"]),
        cycle_id=str(data["cycle_id"]),
        started_at=_dt(data.get("started_at")),  # type: ignore[arg-type]
        finished_at=_dt(data.get("finished_at")),  # type: ignore[arg-type]
        fetched_at=_dt(data.get("fetched_at")),  # type: ignore[arg-type]
        steps=tuple(
            StepRun(
                name=step["name"],
                state=StepState(step["state"]),
                started_at=_dt(step.get("started_at")),
                finished_at=_dt(step.get("finished_at")),
                message=step.get("message"),
            )
            for step in steps
        ),
        task=task_from_dict(task) if isinstance(task := data.get("task"), dict) else None,
    )
