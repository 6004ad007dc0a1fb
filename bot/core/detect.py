"""Detection: every rule of the troubleshooting guide, as one pure function.

Snapshot + step-duration history + source health + clock + thresholds in, findings out.
No I/O and no clock of its own, so every rule is tested table-style. Imports only the domain
and the words it says beside eAdm's (`said`).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from bot.core.domain import SYNCHRONIZATION, TASK_STEP, Condition, Finding, Snapshot, StepState
from bot.core.said import Said, Voice, Words, as_said
from bot.core.task_rules import task_findings
from bot.core.thresholds import Thresholds

# The import filter's stop, as eAdm words it in English or Bokmål: the filter itself, the
# safety threshold by that name, its limits on changes or deletions, or too many of them.
# "threshold", "safety", "limit" or "terskel" alone never match: "timeout threshold exceeded"
# or "rate limit exceeded" is a failure for support, not a stop for review.
_CHANGES_EN = r"(changes|changed|deletions|deletes|deleted|removals|removed)"
_CHANGES_NB = r"(endringer|endrede|slettinger|sletting|slettede|slettet|fjernede|fjerning)"
SAFETY_THRESHOLD_TEXT = re.compile(
    "|".join(
        (
            r"\bimport[\s_-]*filter",  # also Norwegian: importfilter, importfilteret
            r"\bsafety[\s_-]*threshold",
            r"\btoo\s+many\s+" + _CHANGES_EN,
            r"\b(change|deletion|delete)s?[\s_-]*(limit|threshold)",
            r"\b(limit|threshold)s?\s+(for|of|on)\s+(the\s+)?(number\s+of\s+)?" + _CHANGES_EN,
            r"\b(share|percentage|proportion)\s+of\s+(deleted|removed)\b",
            r"\bsikkerhets[\s-]*(grense|terskel)",
            r"\bfor\s+mange\s+" + _CHANGES_NB,
            r"\b(endrings|slette|slettings)[\s-]*(grense|terskel)",
            r"\b(grense|terskel)(n|en)?\s+for\s+(antall\s+)?" + _CHANGES_NB,
            r"\b(andel|andelen|prosentandel)\s+(av\s+)?(slettede|fjernede)\b",
        )
    ),
    re.IGNORECASE,
)

_WAITING = (StepState.PENDING, StepState.QUEUED)


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How the last polls of one tenant's eAdm went."""

    tenant: str
    failing_since: datetime | None = None  # first failed poll of the current outage
    error: Said | None = None  # what the source said (the bot's own words)

    def __post_init__(self) -> None:
        object.__setattr__(self, "error", as_said(self.error, Voice.BOT))


def normal_durations(history: Iterable[Snapshot]) -> dict[str, float]:
    """Median duration per step over completed runs in recent cycles."""
    samples: dict[str, list[float]] = {}
    for snapshot in history:
        for run in snapshot.steps:
            if run.state is StepState.COMPLETED and run.duration_s is not None:
                samples.setdefault(run.name, []).append(run.duration_s)
    return {name: statistics.median(values) for name, values in samples.items()}


def is_safety_threshold(state: StepState, step: str, message: str | None) -> bool:
    if state is StepState.STOPPED:
        return True
    if state is StepState.FAILED and step == SYNCHRONIZATION:
        return bool(message and SAFETY_THRESHOLD_TEXT.search(message))
    return False


def detect(
    snapshot: Snapshot | None,
    *,
    now: datetime,
    thresholds: Thresholds,
    health: SourceHealth,
    normal: dict[str, float] | None = None,
) -> list[Finding]:
    """What is wrong with this tenant's cycle now. `snapshot` is None when the poll failed."""
    if snapshot is None:
        return _source_findings(now, thresholds, health)
    if snapshot.task is None:
        return _step_findings(snapshot, now, thresholds, normal or {})
    # The sync task's row has rules of its own (bot.core.task_rules); the status API's steps, when
    # the tenant combines both, keep theirs. "No new cycle" is one alert whichever saw it.
    for_task = task_findings(snapshot, now=now, thresholds=thresholds, normal=normal)
    steps = tuple(run for run in snapshot.steps if run.name != TASK_STEP)
    for_steps = (
        _step_findings(replace(snapshot, steps=steps, task=None), now, thresholds, normal or {})
        if steps
        else []
    )
    findings = [f for f in for_steps + for_task if f.condition is not Condition.NO_NEW_CYCLE]
    if not findings:
        findings = [f for f in for_task + for_steps if f.condition is Condition.NO_NEW_CYCLE][:1]
    return findings


def _step_findings(
    snapshot: Snapshot, now: datetime, thresholds: Thresholds, normal: dict[str, float]
) -> list[Finding]:
    findings: list[Finding] = []
    held: list[tuple[str, datetime, str | None]] = []  # steps the import filter stopped
    for index, run in enumerate(snapshot.steps):
        if run.state in (StepState.FAILED, StepState.STOPPED):
            since = run.finished_at or run.started_at or snapshot.started_at or now
            if is_safety_threshold(run.state, run.name, run.message):
                held.append((run.name, since, run.message))
            else:
                error = _unknown_state(snapshot, run.name) + Said.quote(Voice.EADM, run.message)
                findings.append(_finding(snapshot, run.name, Condition.FAILED, since, error))
        elif run.state is StepState.RUNNING and run.started_at:
            limit = max(thresholds.stuck_after, thresholds.stuck_factor * normal.get(run.name, 0))
            if (now - run.started_at).total_seconds() > limit:
                findings.append(_finding(snapshot, run.name, Condition.STUCK, run.started_at))
        elif run.state in _WAITING and is_overdue(
            snapshot, index, now, thresholds.not_started_after
        ):
            since = ready_at(snapshot, index)
            assert since is not None
            findings.append(_finding(snapshot, run.name, Condition.NOT_STARTED, since))
    if held:
        findings.append(_threshold_finding(snapshot, held))
    ended = snapshot.ended_at
    if ended and not findings and (now - ended).total_seconds() > thresholds.cycle_due_after:
        findings.append(_finding(snapshot, None, Condition.NO_NEW_CYCLE, ended))
    return findings


def _threshold_finding(snapshot: Snapshot, held: list[tuple[str, datetime, str | None]]) -> Finding:
    """One alert for one stop: the import filter holds eAdm and every target system at once,
    so the portal may show several steps as stopped. The alert sits on Synchronization when it
    is among them (where the guide places the stop), else on the first; it carries the first
    error text eAdm gave and the earliest time."""
    names = [name for name, _, _ in held]
    step = SYNCHRONIZATION if SYNCHRONIZATION in names else names[0]
    since = min(when for _, when, _ in held)
    message = next((text for _, _, text in held if text), None)
    error = Said.quote(Voice.EADM, message)
    return _finding(snapshot, step, Condition.SAFETY_THRESHOLD, since, error)


def _unknown_state(snapshot: Snapshot, step: str) -> Said:
    """The bot's own words for a step it fails because eAdm gave a state word nobody knows."""
    word = dict(snapshot.problems).get(step)
    if word is None:
        return Said()
    return Said.words(Voice.BOT, Words.of("said.unknown_state", word=word))


def ready_at(snapshot: Snapshot, index: int) -> datetime | None:
    """When step `index` could have started: its predecessor's end (the cycle's start for
    the first step). None while anything before it is unfinished or in trouble, since then
    it is right to wait, or the trouble is reported where it is."""
    if index == 0:
        return snapshot.started_at
    before = snapshot.steps[:index]
    if any(run.state is not StepState.COMPLETED for run in before):
        return None
    return before[-1].finished_at


def is_overdue(snapshot: Snapshot, index: int, now: datetime, not_started_after: float) -> bool:
    """Whether step `index` should have started by now: NOT_STARTED_AFTER has passed since it
    could (see `ready_at`). The one test of a stalled cycle, for detection and the rerun guard
    alike, so the guard lets a rerun through exactly where an alert says the cycle stalled."""
    since = ready_at(snapshot, index)
    return since is not None and (now - since).total_seconds() > not_started_after


def _source_findings(now: datetime, thresholds: Thresholds, health: SourceHealth) -> list[Finding]:
    since = health.failing_since
    if since is None or (now - since).total_seconds() < thresholds.source_down_after:
        return []
    return [
        Finding(
            tenant=health.tenant,
            cycle_id=None,
            step=None,
            condition=Condition.SOURCE_UNREACHABLE,
            since=since,
            error=health.error,
        )
    ]


def _finding(
    snapshot: Snapshot,
    step: str | None,
    condition: Condition,
    since: datetime,
    error: Said | None = None,
) -> Finding:
    return Finding(
        tenant=snapshot.tenant,
        cycle_id=snapshot.cycle_id,
        step=step,
        condition=condition,
        since=since,
        error=error,
    )
