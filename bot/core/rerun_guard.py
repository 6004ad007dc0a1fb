"""May the sync be started by hand now? The rerun guard's rules, as pure functions.

The vendor warns against starting a sync over a running or failed one, and the guide says
where a rerun is the advice at all: `can_allow_rerun` holds that rule, step by condition, and
is the one place it is written. `judge` applies it to a click's alert and to the failed steps
it meets; the playbook is checked against it when it loads, so an alert offers the Rerun button
exactly where a rerun can go through. The use case gathers the facts (the status read afresh,
the alert the click named as it reads now, the tenant's open alerts, its reruns) and asks
`judge`; every entry point (an alert's button, `/eadm rerun`, any later one) goes through it.
The store only refuses a second rerun under way atomically, for two replicas clicking at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.detect import is_safety_threshold
from bot.core.domain import (
    EXPORT_AD,
    IMPORT_HR_FUTURE,
    TASK_STEP,
    Condition,
    Snapshot,
    StepState,
    TaskState,
    guide_step,
)


class Refusal(StrEnum):
    """Why not; the value is the audit log's result word."""

    NO_RUNNER = "not_configured"
    RESOLVED = "refused_resolved"  # the clicked alert is resolved
    ADVICE = "refused_advice"  # the clicked alert's condition now calls for no rerun
    PENDING = "refused_pending"  # a rerun is already under way
    COOLDOWN = "refused_cooldown"  # one started less than the cool-down ago
    UNREADABLE = "refused_unreadable"  # the status cannot be read
    DISABLED = "refused_disabled"  # the sync task is disabled in Task Scheduler
    THRESHOLD = "refused_threshold"  # a step is held by the import filter
    FAILED = "refused_failed"  # a step failed where the guide's advice is support
    RUNNING = "refused_running"
    QUEUED = "refused_queued"


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


@dataclass(frozen=True, slots=True)
class Verdict:
    refusal: Refusal | None = None
    step: str | None = None  # the step the refusal is about
    alert: AlertFact | None = None  # the alert to link (and offer a ticket on)


GO = Verdict()


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
            # A stalled cycle is what a rerun is for, except at Import HR Future, whose
            # problems the guide says are never the admin's to resolve.
            return row != IMPORT_HR_FUTURE
        case Condition.NO_NEW_CYCLE:
            return True
        case _:
            # The import filter waits for a person's review, a stuck step is still running,
            # an unreadable status or a disabled task cannot be started over.
            return False


def judge(facts: RerunFacts) -> Verdict:
    """GO, or the first reason not to start the sync, in the order a person should hear it."""
    if not facts.has_runner:
        return Verdict(Refusal.NO_RUNNER)
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
    snapshot = facts.snapshot
    if snapshot is None:
        return Verdict(Refusal.UNREADABLE)
    if snapshot.task is not None and snapshot.task.state is TaskState.DISABLED:
        # A disabled task refuses to start; the guide's way back is to enable it.
        return Verdict(Refusal.DISABLED, TASK_STEP)
    for run in snapshot.steps:
        if is_safety_threshold(run.state, run.name, run.message):
            return Verdict(Refusal.THRESHOLD, run.name)
    for run in snapshot.steps:
        if run.state is StepState.FAILED and not can_allow_rerun(run.name, Condition.FAILED):
            return Verdict(Refusal.FAILED, run.name, _alert_for(facts, run.name, Condition.FAILED))
    for run in snapshot.steps:
        if run.state is StepState.RUNNING:
            return Verdict(Refusal.RUNNING, run.name)
    for run in snapshot.steps:
        # The rotating circle is "running or queued next". A queued step the bot has already
        # reported as not started is stalled, and a rerun is the advice for exactly that.
        if run.state is StepState.QUEUED and not _alert_for(facts, run.name, Condition.NOT_STARTED):
            return Verdict(Refusal.QUEUED, run.name)
    return GO


def _alert_for(facts: RerunFacts, step: str, condition: Condition) -> AlertFact | None:
    return next((a for a in facts.open_alerts if a.step == step and a.condition is condition), None)
