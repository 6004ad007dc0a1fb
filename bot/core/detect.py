"""Detection: every rule of the troubleshooting guide, as one pure function.

Snapshot + step-duration history + source health + clock + thresholds in, findings out.
No I/O and no clock of its own, so every rule is tested table-style. Imports only the domain.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.core.domain import SYNCHRONIZATION, Condition, Finding, Snapshot, StepState
from bot.core.settings import Thresholds

# An error text that names the import filter, a threshold or too many changes (en and nb).
SAFETY_THRESHOLD_TEXT = re.compile(
    r"import\s*-?filter|threshold|safety|too many (changes|deletions|deletes)"
    r"|terskel|sikkerhetsgrense|for mange (endringer|slettinger|sletting)",
    re.IGNORECASE,
)

_WAITING = (StepState.PENDING, StepState.QUEUED)


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """How the last polls of one tenant's eAdm went."""

    tenant: str
    failing_since: datetime | None = None  # first failed poll of the current outage
    error: str | None = None


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
    normal = normal or {}
    findings: list[Finding] = []
    for index, run in enumerate(snapshot.steps):
        if run.state in (StepState.FAILED, StepState.STOPPED):
            condition = (
                Condition.SAFETY_THRESHOLD
                if is_safety_threshold(run.state, run.name, run.message)
                else Condition.FAILED
            )
            since = run.finished_at or run.started_at or snapshot.started_at or now
            findings.append(_finding(snapshot, run.name, condition, since, run.message))
        elif run.state is StepState.RUNNING and run.started_at:
            limit = max(thresholds.stuck_after, thresholds.stuck_factor * normal.get(run.name, 0))
            if (now - run.started_at).total_seconds() > limit:
                findings.append(_finding(snapshot, run.name, Condition.STUCK, run.started_at))
        elif run.state in _WAITING:
            ready_at = _ready_at(snapshot, index)
            if ready_at and (now - ready_at).total_seconds() > thresholds.not_started_after:
                findings.append(_finding(snapshot, run.name, Condition.NOT_STARTED, ready_at))
    ended = snapshot.ended_at
    if ended and not findings and (now - ended).total_seconds() > thresholds.cycle_due_after:
        findings.append(_finding(snapshot, None, Condition.NO_NEW_CYCLE, ended))
    return findings


def _ready_at(snapshot: Snapshot, index: int) -> datetime | None:
    """When step `index` could have started: its predecessor's end (the cycle's start for
    the first step). None while anything before it is unfinished or in trouble, since then
    it is right to wait, or the trouble is reported where it is."""
    if index == 0:
        return snapshot.started_at
    before = snapshot.steps[:index]
    if any(run.state is not StepState.COMPLETED for run in before):
        return None
    return before[-1].finished_at


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
    error: str | None = None,
) -> Finding:
    return Finding(
        tenant=snapshot.tenant,
        cycle_id=snapshot.cycle_id,
        step=step,
        condition=condition,
        since=since,
        error=error,
    )
