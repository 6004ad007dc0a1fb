"""May the sync be started by hand now? The rerun guard's rules, as pure functions.

The vendor's procedure for starting a sync by hand comes first: check Synchronization Status,
and start one only when no cycle is in progress (the last one completed, every step green);
never while a cycle runs or has failed. The guide makes the exceptions: a cycle that stalled
(a step overdue to start) is answered with "run the sync script" at most steps, and so is a
failed Export AD. `judge` applies that pre-check to the status read afresh, with detection's own
test of a stalled step (`detect.is_overdue`, NOT_STARTED_AFTER), so no open alert is needed:

| the current cycle | verdict |
| --- | --- |
| every step completed (green) | allowed, however soon the next cycle is due |
| a step running, or queued and not overdue (parallel integrations too) | RUNNING / QUEUED |
| completed steps, then a pending one not yet overdue | IN_PROGRESS, naming that step |
| a step overdue to start where the guide says run the sync script | allowed |
| the same stall at Import HR Future or Import AD Results | STALLED, with the guide's advice |
| Export AD failed (the steps after it pending) | allowed |
| any other failed step | FAILED: support, the ticket offered |
| a step held by the import filter | THRESHOLD: review and resume |

The sync task's own row (task and exporter sources, an agent) adds its states: running and
queued (waiting to start) refuse, disabled refuses until it is enabled, and a failed start no
new start can mend (`task_rules.cannot_start`) refuses until its cause is fixed.

`can_allow_rerun` holds where a rerun can ever be the advice, step by condition, and is the one
place it is written; the playbook is checked against it when it loads, so an alert offers the
Rerun button exactly where a rerun can go through. The guard runs whether or not a runner is
set up: the manual route (Task Scheduler by hand) is given only where the guard would let a
rerun through, and elsewhere the guard's reason is. The use case gathers the facts (the status
read afresh, the alert the click named as it reads now, the tenant's open alerts, its reruns) and
asks `judge`; every entry point (an alert's button, `/eadm rerun` before it asks and at the
confirmation, any later one) goes through it. The store only refuses a second rerun under way
atomically, for two replicas clicking at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from bot.core.detect import is_overdue, is_safety_threshold
from bot.core.domain import (
    EXPORT_AD,
    IMPORT_AD_RESULTS,
    IMPORT_HR_FUTURE,
    TASK_STEP,
    Condition,
    Snapshot,
    StepState,
    TaskState,
    guide_step,
)
from bot.core.task_rules import cannot_start
from bot.core.thresholds import Thresholds


class Refusal(StrEnum):
    """Why not; the value is the audit log's result word."""

    NO_RUNNER = "not_configured"  # the guard would allow it, but no runner is set up
    RESOLVED = "refused_resolved"  # the clicked alert is resolved
    ADVICE = "refused_advice"  # the clicked alert's condition now calls for no rerun
    PENDING = "refused_pending"  # a rerun is already under way
    COOLDOWN = "refused_cooldown"  # one started less than the cool-down ago
    UNREADABLE = "refused_unreadable"  # the status cannot be read
    DISABLED = "refused_disabled"  # the sync task is disabled in Task Scheduler
    CANNOT_START = "refused_cannot_start"  # the task's last start failed past a new start's help
    THRESHOLD = "refused_threshold"  # a step is held by the import filter
    FAILED = "refused_failed"  # a step failed where the guide's advice is support
    RUNNING = "refused_running"
    QUEUED = "refused_queued"  # queued and not overdue: the cycle (or the task) goes on
    IN_PROGRESS = "refused_in_progress"  # completed steps, then one not yet due to start
    STALLED = "refused_stalled"  # overdue to start where the guide's advice is not a rerun


@dataclass(frozen=True, slots=True)
class AlertFact:
    """An alert as the store holds it now."""

    id: int
    step: str | None
    condition: Condition
    resolved: bool = False


@dataclass(frozen=True, slots=True)
class RerunFacts:
    has_runner: bool
    snapshot: Snapshot | None  # None: the status could not be read
    now: datetime
    cooldown_s: float
    clicked: AlertFact | None = None  # the alert whose button was clicked, re-read
    open_alerts: Sequence[AlertFact] = ()  # the tenant's unresolved alerts
    rerun_active: bool = False  # one of the tenant's reruns is under way (`ACTIVE`)
    last_ran_at: datetime | None = None  # when the last sync started by hand really ran (`RAN`)
    # NOT_STARTED_AFTER as detection uses it: when a waiting step counts as stalled.
    not_started_after: float = Thresholds().not_started_after


@dataclass(frozen=True, slots=True)
class Verdict:
    refusal: Refusal | None = None
    step: str | None = None  # the step the refusal is about
    alert: AlertFact | None = None  # the alert to link (and offer a ticket on)


GO = Verdict()

# Steps whose only advice for a stall is not "run the sync script": the guide says Import HR
# Future's problems are for support, and Import AD Results' are the log folder and support.
_STALL_NOT_RERUN = (IMPORT_HR_FUTURE, IMPORT_AD_RESULTS)


def can_allow_rerun(step: str | None, condition: Condition) -> bool:
    """Whether an alert on `step` (None: the cycle as a whole) in `condition` can ever be
    answered with a rerun: where the guide's advice is to run the sync script. Everywhere else
    the guard refuses, whatever the moment; the playbook's `rerun` action must say the same."""
    row = guide_step(step) if step is not None else None
    match condition:
        case Condition.FAILED:
            # Only Export AD's failure is answered with a rerun in the guide, and the sync
            # task's own failed run (its "run the sync script"); every other failed step is a
            # case for support.
            return row in (EXPORT_AD, TASK_STEP)
        case Condition.NOT_STARTED:
            # A stalled cycle is what a rerun is for, but at the steps whose advice is
            # support (and the log folder) instead.
            return row not in _STALL_NOT_RERUN
        case Condition.NO_NEW_CYCLE:
            return True
        case _:
            # The import filter waits for a person's review, a stuck step is still running,
            # an unreadable status, a disabled task or one Task Scheduler cannot start is not
            # mended by starting it again.
            return False


def judge(facts: RerunFacts) -> Verdict:
    """GO, or the first reason not to start the sync, in the order a person should hear it."""
    clicked = facts.clicked
    if clicked is not None:
        if clicked.resolved:
            return Verdict(Refusal.RESOLVED, clicked.step, clicked)
        if not can_allow_rerun(clicked.step, clicked.condition):
            return Verdict(Refusal.ADVICE, clicked.step, clicked)
    if facts.rerun_active:
        return Verdict(Refusal.PENDING)
    if (
        facts.last_ran_at is not None
        and (facts.now - facts.last_ran_at).total_seconds() < facts.cooldown_s
    ):
        return Verdict(Refusal.COOLDOWN)
    if facts.snapshot is None:
        return Verdict(Refusal.UNREADABLE)
    verdict = precheck(facts.snapshot, facts)
    if verdict.refusal is None and not facts.has_runner:
        return Verdict(Refusal.NO_RUNNER)
    return verdict


def precheck(snapshot: Snapshot, facts: RerunFacts) -> Verdict:
    """The vendor's pre-check on the cycle as it reads now (the table above)."""
    task = snapshot.task
    if task is not None:
        if task.state is TaskState.DISABLED:
            # A disabled task refuses to start; the way back is to enable it.
            return Verdict(Refusal.DISABLED, TASK_STEP)
        if cannot_start(task):
            alert = _alert_for(facts, TASK_STEP, Condition.CANNOT_START)
            return Verdict(Refusal.CANNOT_START, TASK_STEP, alert)
    # eAdm's own steps, judged as the cycle view shows them; the task's row is judged apart.
    cycle = replace(snapshot, steps=tuple(r for r in snapshot.steps if r.name != TASK_STEP))
    for run in cycle.steps:
        if is_safety_threshold(run.state, run.name, run.message):
            return Verdict(Refusal.THRESHOLD, run.name)
    for run in cycle.steps:
        if run.state is StepState.FAILED and not can_allow_rerun(run.name, Condition.FAILED):
            return Verdict(Refusal.FAILED, run.name, _alert_for(facts, run.name, Condition.FAILED))
    for run in snapshot.steps:
        if run.state is StepState.RUNNING:
            return Verdict(Refusal.RUNNING, run.name)
    if task is not None and task.state is TaskState.QUEUED:
        return Verdict(Refusal.QUEUED, TASK_STEP)
    for index, run in enumerate(cycle.steps):
        # The rotating circle is "running or queued next": queued is in progress, until it is
        # overdue (then the cycle has stalled there, and the frontier below judges it).
        if run.state is StepState.QUEUED and not _overdue(cycle, index, facts):
            return Verdict(Refusal.QUEUED, run.name)
    return _frontier(cycle, facts)


def _frontier(cycle: Snapshot, facts: RerunFacts) -> Verdict:
    """Where the cycle has got to: the first step not completed. Past every green step, or past
    a failed Export AD, nothing is in progress."""
    for index, run in enumerate(cycle.steps):
        if run.state is StepState.COMPLETED:
            continue
        if run.state is StepState.FAILED:
            return GO  # Export AD: the only failure left by now, and the guide reruns it
        if not _overdue(cycle, index, facts):
            return Verdict(Refusal.IN_PROGRESS, run.name)
        if can_allow_rerun(run.name, Condition.NOT_STARTED):
            return GO
        return Verdict(
            Refusal.STALLED, run.name, _alert_for(facts, run.name, Condition.NOT_STARTED)
        )
    return GO


def _overdue(cycle: Snapshot, index: int, facts: RerunFacts) -> bool:
    return is_overdue(cycle, index, facts.now, facts.not_started_after)


def _alert_for(facts: RerunFacts, step: str, condition: Condition) -> AlertFact | None:
    return next((a for a in facts.open_alerts if a.step == step and a.condition is condition), None)
