"""Alert lifecycle decisions: open, change, keep, remind, escalate, resolve. Pure.

Given the tenant's unresolved alerts, this poll's findings and snapshot, and the clock, `plan`
says what happened to each alert. `bot.core.notify` then says what each decision owes (a snooze
ended, a window's silence, the messages to Slack), and the store writes both in one
transaction. Imports only the domain.

Reminders and escalation count from when an alert was first shown in Slack (an alert opened in
a maintenance window is shown when the window ends), and again from the end of a snooze.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.domain import Condition, Finding, Snapshot, StepState


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    RECOVERED = "recovered"  # the step is fine again in the same cycle
    PASSED_LATER = "passed_later"  # a later cycle got through the step
    SUPERSEDED = "superseded"  # a later cycle is in trouble at the same step: its alert speaks
    NEW_CYCLE = "new_cycle"  # no_new_cycle: a cycle has started
    SOURCE_BACK = "source_back"  # source_unreachable: the status reads again


@dataclass(frozen=True, slots=True)
class AlertView:
    """What lifecycle and notification decisions need to know of an alert."""

    id: int
    key: str
    cycle_id: str | None
    step: str | None
    condition: Condition
    state: AlertState
    opened_at: datetime
    last_reminded_at: datetime | None = None
    snoozed_until: datetime | None = None
    since: datetime | None = None  # when the trouble began, as detect saw it
    silenced: bool = False  # opened inside a maintenance window and not posted since
    resolved_at: datetime | None = None
    resolution: str | None = None  # a Resolution's value, once resolved
    shown_at: datetime | None = None  # first told in Slack; None: when it was opened
    unsnoozed_at: datetime | None = None  # when its last snooze ended
    escalated_at: datetime | None = None
    held: bool = False  # shown before a maintenance window that kept its news back

    @property
    def shown(self) -> datetime:
        """When the alert was first in front of people: alerts from before `shown_at` was
        recorded were told when they opened."""
        return self.shown_at or self.opened_at


@dataclass(frozen=True, slots=True)
class Open:
    finding: Finding


@dataclass(frozen=True, slots=True)
class Change:
    """Same step, new condition: the alert is updated in place and the thread is told."""

    alert_id: int
    finding: Finding
    previous: Condition


@dataclass(frozen=True, slots=True)
class Keep:
    """Same finding as before: nothing to post, but the alert's cycle view is refreshed."""

    alert_id: int
    finding: Finding


@dataclass(frozen=True, slots=True)
class Remind:
    alert_id: int


@dataclass(frozen=True, slots=True)
class Escalate:
    """Nobody acknowledged the alert within the tenant's ESCALATE_AFTER: the next people are
    called, once. `waited` is how long it had been waiting, in seconds."""

    alert_id: int
    waited: int


@dataclass(frozen=True, slots=True)
class Resolve:
    alert_id: int
    resolution: Resolution


Decision = Open | Change | Keep | Remind | Escalate | Resolve


def plan(
    alerts: Sequence[AlertView],
    findings: Sequence[Finding],
    snapshot: Snapshot | None,
    *,
    now: datetime,
    remind_after: float,
    escalate_after: float = 0,
) -> list[Decision]:
    """The decisions for one poll of one tenant. `snapshot` is None when the poll failed;
    `escalate_after` 0 never escalates."""
    by_key = {alert.key: alert for alert in alerts}
    decisions: list[Decision] = []
    found_keys = set()
    for finding in findings:
        found_keys.add(finding.key)
        alert = by_key.get(finding.key)
        if alert is None:
            decisions.append(Open(finding))
        elif alert.condition is not finding.condition:
            decisions.append(Change(alert.id, finding, alert.condition))
        else:
            decisions.append(Keep(alert.id, finding))
            decisions += _timers(alert, now, remind_after, escalate_after)
    troubled_steps = {f.step for f in findings if f.step is not None}
    for alert in alerts:
        if alert.key in found_keys:
            continue
        resolution = _resolution(alert, snapshot, troubled_steps)
        if resolution is not None:
            decisions.append(Resolve(alert.id, resolution))
        else:
            decisions += _timers(alert, now, remind_after, escalate_after)
    return decisions


def _timers(
    alert: AlertView, now: datetime, remind_after: float, escalate_after: float
) -> list[Decision]:
    due: list[Decision] = []
    if reminder_due(alert, now, remind_after):
        due.append(Remind(alert.id))
    if (waited := escalation_due(alert, now, escalate_after)) is not None:
        due.append(Escalate(alert.id, waited))
    return due


def _resolution(
    alert: AlertView, snapshot: Snapshot | None, troubled_steps: set[str]
) -> Resolution | None:
    if snapshot is None:
        return None  # a failed poll proves nothing about the cycle
    if alert.condition is Condition.SOURCE_UNREACHABLE:
        return Resolution.SOURCE_BACK
    if alert.cycle_id == snapshot.cycle_id:
        return Resolution.RECOVERED  # same cycle, and detect no longer sees the trouble
    if alert.condition is Condition.NO_NEW_CYCLE:
        return Resolution.NEW_CYCLE
    if alert.step in troubled_steps:
        return Resolution.SUPERSEDED
    run = snapshot.step(alert.step) if alert.step else None
    if run is not None and run.state is StepState.COMPLETED:
        return Resolution.PASSED_LATER
    if snapshot.all_completed:
        # The later cycle finished without this step (an integration removed, say).
        return Resolution.PASSED_LATER
    return None


def reminder_at(alert: AlertView, remind_after: float) -> datetime | None:
    """When the alert's next reminder comes due: `remind_after` after it was shown, last
    reminded or snoozed until, and not before a snooze ends; None for an acknowledged alert."""
    if alert.state is AlertState.ACKNOWLEDGED:
        return None
    last = max(
        t for t in (alert.shown, alert.last_reminded_at, alert.snoozed_until) if t is not None
    )
    due = last + timedelta(seconds=remind_after)
    return max(due, alert.snoozed_until) if alert.snoozed_until is not None else due


def reminder_due(alert: AlertView, now: datetime, remind_after: float) -> bool:
    at = reminder_at(alert, remind_after)
    return at is not None and now >= at


def escalation_at(alert: AlertView, escalate_after: float) -> datetime | None:
    """When the alert escalates if nobody acknowledges it: `escalate_after` after it was
    first shown, or after its last snooze ended, and not before a snooze ends; None when it
    never will (no rule, acknowledged, or escalated already)."""
    if escalate_after <= 0 or alert.escalated_at is not None:
        return None
    if alert.state is AlertState.ACKNOWLEDGED:
        return None
    start = max(t for t in (alert.shown, alert.unsnoozed_at, alert.snoozed_until) if t)
    due = start + timedelta(seconds=escalate_after)
    return max(due, alert.snoozed_until) if alert.snoozed_until is not None else due


def escalation_due(alert: AlertView, now: datetime, escalate_after: float) -> int | None:
    """How long (seconds) an alert nobody acknowledged has waited, once that is
    `escalate_after` or more; None when it is not due. The clock starts when the alert was
    first shown and again when a snooze ends (an acknowledged alert that is snoozed is waiting
    again once the snooze is over); an alert escalates once."""
    at = escalation_at(alert, escalate_after)
    if at is None or now < at:
        return None
    start = max(t for t in (alert.shown, alert.unsnoozed_at, alert.snoozed_until) if t)
    return int((now - start).total_seconds())
