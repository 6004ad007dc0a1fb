"""Alerts: a poll's outcomes and people's actions, written with the messages they owe.

What happens to an alert and what it owes is decided in `bot.core.notify`; this module reads
what those decisions need, writes their results and the outbox rows in one transaction, and
nothing more. An alert's key is unique among unresolved alerts (a partial unique index), so two
processes that find the same thing cannot both open it: the loser re-reads and tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core import notify, quiet
from bot.core.domain import Condition, Finding, Snapshot, snapshot_to_dict
from bot.core.lifecycle import (
    AlertState,
    AlertView,
    Change,
    Decision,
    Escalate,
    Keep,
    Open,
    Remind,
    Resolve,
)
from bot.core.maintenance import Occurrence
from bot.core.notify import Hush
from bot.core.said import Said
from bot.store.digests import DigestStore, add_copies, owe
from bot.store.tables import Alert, AuditEntry, TenantState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a tenant's alerts go and in which language: `channel`, and `also` the other
    channels each alert is copied to."""

    channel: str
    language: str
    also: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AppliedPoll:
    """A poll's transaction: what it decided and did, and the tenant's unresolved alerts as
    it left them."""

    decisions: list[Decision]
    alerts: list[AlertView]


def view(row: Alert) -> AlertView:
    """What the core's decisions need to know of a stored alert."""
    assert row.id is not None and row.opened_at is not None
    return AlertView(
        id=row.id,
        key=row.key,
        cycle_id=row.cycle_id,
        step=row.step,
        condition=Condition(row.condition),
        state=AlertState(row.state),
        opened_at=row.opened_at,
        last_reminded_at=row.last_reminded_at,
        snoozed_until=row.snoozed_until,
        since=row.since,
        silenced=row.silenced,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
        shown_at=row.shown_at,
        unsnoozed_at=row.unsnoozed_at,
        escalated_at=row.escalated_at,
        held=row.held,
    )


class AlertStore(DigestStore):
    def apply_poll(
        self,
        tenant: str,
        target: Target,
        findings: Sequence[Finding],
        snapshot: Snapshot | None,
        *,
        now: datetime,
        remind_after: float,
        window: Occurrence | None = None,
        escalation: notify.EscalationRule | None = None,
    ) -> AppliedPoll:
        """Decide this poll's outcomes and write them with the messages they owe, in one
        transaction. `window` is the tenant's maintenance window at `now` (None outside one),
        `escalation` its rule. Returns what was decided and done (a reminder or escalation
        that a window holds back is not), and the tenant's unresolved alerts as the
        transaction left them: what the poll job remembers to skip the next transaction when
        nothing is due. Retries once when another process opened an alert first."""
        for attempt in (1, 2):
            try:
                return self._apply(
                    tenant, target, findings, snapshot, now, remind_after, window, escalation
                )
            except IntegrityError:
                if attempt == 2:
                    raise
                log.info("[%s] another process recorded the same alert; re-reading", tenant)
        raise AssertionError("unreachable")

    def _apply(
        self,
        tenant: str,
        target: Target,
        findings: Sequence[Finding],
        snapshot: Snapshot | None,
        now: datetime,
        remind_after: float,
        window: Occurrence | None,
        escalation: notify.EscalationRule | None,
    ) -> AppliedPoll:
        with self.session() as s:
            rows = {row.id: row for row in _unresolved(s, tenant)}
            state = s.get(TenantState, tenant)
            typed = quiet.silence(state.silenced_since, state.silenced_until) if state else None
            outcomes = notify.outcomes(
                [view(row) for row in rows.values()],
                findings,
                snapshot,
                now=now,
                remind_after=remind_after,
                quiet=quiet.quiet_now(state.quiet_since if state else None, window, typed, now),
                escalation=escalation,
            )
            cycle = snapshot_to_dict(snapshot) if snapshot else None
            done: list[Decision] = []
            touched = list(rows.values())
            for outcome in outcomes:
                alert = _write(s, tenant, target, outcome, rows, snapshot, cycle, now)
                if alert is None:
                    continue  # held back by a window, or done by another process first
                done.append(outcome.decision)
                if isinstance(outcome.decision, Open):
                    touched.append(alert)
                for message in outcome.messages:
                    owe(s, alert, message, now, self.storm)
            s.commit()
            left = [view(row) for row in touched if row.resolved_at is None]
            return AppliedPoll(done, left)

    def get_alert(self, alert_id: int) -> Alert | None:
        with self.session() as s:
            return s.get(Alert, alert_id)

    def unresolved_alerts(self, tenant: str | None = None) -> list[Alert]:
        with self.session() as s:
            query = select(Alert).where(col(Alert.resolved_at).is_(None))
            if tenant is not None:
                query = query.where(Alert.tenant == tenant)
            return list(s.exec(query.order_by(col(Alert.id))).all())

    def acknowledge(self, alert_id: int, user_id: str, now: datetime) -> Alert | None:
        """Mark an alert acknowledged; the message shows who is on it. None if resolved."""
        with self.session() as s:
            alert = s.get(Alert, alert_id)
            if alert is None or alert.resolved_at is not None:
                return None
            messages = notify.acknowledged(view(alert), user_id)
            if messages is not None:
                alert.state = AlertState.ACKNOWLEDGED.value
                alert.acked_by = user_id
                alert.acked_at = now
                alert.snoozed_until = None
                alert.updated_at = now
                s.add(alert)
                _owe_all(s, alert, messages, now)
            s.commit()
            return alert

    def snooze(self, alert_id: int, user_id: str, until: datetime, now: datetime) -> Alert | None:
        """Quiet an alert's reminders until `until`. None if resolved."""
        with self.session() as s:
            alert = s.get(Alert, alert_id)
            if alert is None or alert.resolved_at is not None:
                return None
            alert.state = AlertState.SNOOZED.value
            alert.snoozed_until = until
            alert.snoozed_by = user_id
            alert.updated_at = now
            s.add(alert)
            _owe_all(s, alert, notify.snoozed(user_id, until), now)
            s.commit()
            return alert

    def set_ticket(
        self, alert_id: int, ref: str, url: str | None, user_id: str, now: datetime
    ) -> Alert | None:
        with self.session() as s:
            alert = s.get(Alert, alert_id)
            if alert is None:
                return None
            alert.ticket_ref = ref
            alert.ticket_url = url
            alert.updated_at = now
            s.add(alert)
            _owe_all(s, alert, notify.ticket_opened(user_id, ref, url), now)
            s.commit()
            return alert

    def owe_text(self, alert_id: int, text: str, now: datetime) -> bool:
        """A thread reply whose text is written now (rerun progress, a log excerpt)."""
        with self.session() as s:
            alert = s.get(Alert, alert_id)
            if alert is None:
                return False
            messages = notify.text_reply(view(alert), text)
            _owe_all(s, alert, messages, now)
            s.commit()
            return bool(messages)


def _write(
    s: Session,
    tenant: str,
    target: Target,
    outcome: notify.Outcome,
    rows: dict[int | None, Alert],
    snapshot: Snapshot | None,
    cycle: dict[str, Any] | None,
    now: datetime,
) -> Alert | None:
    """Write one outcome's changes to its alert row (a new row for an opened alert). None
    when there is nothing to write or owe: a reminder or escalation a window holds back, or a
    post or an escalation another process made first."""
    if outcome.hush is Hush.DEFERRED:
        return None
    if outcome.hush is Hush.RELEASED:
        alert = rows[outcome.decision.alert_id]  # type: ignore[union-attr]
        if not take_once(s, alert, col(Alert.silenced).is_(True), silenced=False, shown_at=now):
            return None
    match outcome.decision:
        case Open(finding):
            alert = Alert(
                key=finding.key,
                tenant=tenant,
                cycle_id=finding.cycle_id,
                step=finding.step,
                condition=finding.condition.value,
                since=finding.since,
                opened_at=now,
                updated_at=now,
                channel=target.channel,
                language=target.language,
                cycle=cycle,
                silenced=outcome.silenced,
                shown_at=None if outcome.silenced else now,
            )
            _set_error(alert, finding.error)
            s.add(alert)
            s.flush()  # the outbox rows need its id
            add_copies(s, alert, (target.channel, *target.also))
            return alert
        case Change(alert_id, finding):
            alert = rows[alert_id]
            alert.condition = finding.condition.value
            _set_error(alert, finding.error)
            alert.since = finding.since
            alert.updated_at = now
            alert.cycle = cycle or alert.cycle
        case Keep(alert_id, finding):
            # Nothing to say, but the cycle view the alert shows stays current.
            alert = rows[alert_id]
            if cycle and alert.cycle != cycle and alert.cycle_id == finding.cycle_id:
                alert.cycle = cycle
                _set_error(alert, finding.error)
        case Remind(alert_id):
            alert = rows[alert_id]
            alert.last_reminded_at = now
        case Escalate(alert_id, waited):
            alert = rows[alert_id]
            if not take_once(s, alert, col(Alert.escalated_at).is_(None), escalated_at=now):
                return None
            s.add(
                AuditEntry(
                    at=now,
                    tenant=tenant,
                    action="escalate",
                    alert_id=alert_id,
                    result="done",
                    detail=f"nobody acknowledged it for {waited} s",
                )
            )
        case Resolve(alert_id, resolution):
            alert = rows[alert_id]
            alert.resolution = resolution.value
            alert.resolved_at = now
            alert.updated_at = now
            if alert.cycle_id == (snapshot.cycle_id if snapshot else None):
                alert.cycle = cycle
    if outcome.hush is Hush.HELD:
        alert.held = True  # its news waits for the window's end
    if outcome.state is not None:
        alert.state = outcome.state.value
    if outcome.snooze_ended:
        alert.unsnoozed_at = min(alert.snoozed_until or now, now)
        alert.snoozed_until = None
    s.add(alert)
    return alert


def take_once(s: Session, alert: Alert, unless_done: Any, **values: Any) -> bool:
    """Make a change only one process may make (post a silenced alert, escalate): an UPDATE
    that holds only while `unless_done` does, so of two replicas racing one wins."""
    won = s.execute(
        sa.update(Alert).where(col(Alert.id) == alert.id).where(unless_done).values(**values)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        return False
    for name, value in values.items():
        setattr(alert, name, value)
    return True


def _set_error(alert: Alert, error: Said | None) -> None:
    alert.error = error.english if error else None
    alert.error_said = error.to_json() if error else None


def _owe_all(s: Session, alert: Alert, messages: Sequence[notify.Message], now: datetime) -> None:
    for message in messages:
        owe(s, alert, message, now)  # people's actions: never a new post, no storm to count


def _unresolved(s: Session, tenant: str) -> list[Alert]:
    return list(
        s.exec(
            select(Alert)
            .where(Alert.tenant == tenant)
            .where(col(Alert.resolved_at).is_(None))
            .order_by(col(Alert.id))
        ).all()
    )
