"""What Event Viewer said with an alert: the reading kept with it (for its thread and its
ticket), the thread's reply owed in the same transaction, a start Task Scheduler ignored that
a later reading found, and the tenant's memory that it was told its task history is off, so
that neither a restart nor another replica tells it again.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core import notify
from bot.core.event_report import EventsReport, ignored_news
from bot.store.alerts import view
from bot.store.db import Database
from bot.store.digests import owe
from bot.store.tables import Alert, AlertCopy, TenantState


class EventsStore(Database):
    def open_alert(self, tenant: str, key: str) -> Alert | None:
        """The tenant's unresolved alert under `key` (there is at most one)."""
        with self.session() as s:
            return s.exec(
                select(Alert)
                .where(Alert.tenant == tenant)
                .where(Alert.key == key)
                .where(col(Alert.resolved_at).is_(None))
            ).first()

    def record_events(
        self, alert_id: int, report: EventsReport, *, says_more: bool, now: datetime
    ) -> bool:
        """Keep the reading with the alert and owe its thread *What Event Viewer says* when
        there is something to say: `says_more` (events that matter), or that task history is
        off where the tenant has not been told yet. An alert that resolved meanwhile keeps the
        reading for its ticket and says nothing. True when the reply was owed."""
        with self.session() as s:
            alert = s.get(Alert, alert_id)
            if alert is None:
                return False
            told, threaded = False, _has_thread(s, alert)
            if report.operational_log_enabled:
                _forget_history_off(s, alert.tenant)
            elif report.history_off and threaded:
                told = _claim_history_off(s, alert.tenant, now)
            report = replace(report, history_off_told=told)
            alert.events = report.to_dict()
            s.add(alert)
            messages = notify.events_reply(view(alert)) if threaded and (says_more or told) else ()
            for message in messages:
                owe(s, alert, message, now)
            s.commit()
            return bool(messages)

    def record_ignored_start(
        self, alert_id: int, report: EventsReport, *, task_name: str, now: datetime
    ) -> bool:
        """A later reading of a run that does not complete: when it shows a start Task
        Scheduler ignored that the alert was not told of, keep it and owe the thread that news.
        The alert is locked while it is compared, so two processes cannot both tell it."""
        with self.session() as s:
            alert = s.get(Alert, alert_id, with_for_update=True)
            if alert is None or alert.resolved_at is not None:
                return False
            told = EventsReport.from_dict(alert.events) if alert.events else None
            found = ignored_news(told, report, task_name=task_name)
            if found is None:
                return False
            kept = told.history_off_told if told is not None else False
            alert.events = replace(report, history_off_told=kept).to_dict()
            s.add(alert)
            messages = notify.ignored_start_reply(view(alert), found.time)
            for message in messages:
                owe(s, alert, message, now)
            s.commit()
            return bool(messages)


def _claim_history_off(s: Session, tenant: str, now: datetime) -> bool:
    """Whether this transaction is the one that tells the tenant (only one can be)."""
    if s.get(TenantState, tenant) is None:
        s.add(TenantState(tenant=tenant))
        s.flush()
    result = s.execute(
        sa.update(TenantState)
        .where(col(TenantState.tenant) == tenant)
        .where(col(TenantState.history_off_told_at).is_(None))
        .values(history_off_told_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _forget_history_off(s: Session, tenant: str) -> None:
    """History is on again: should it be switched off later, that is news again."""
    s.execute(
        sa.update(TenantState)
        .where(col(TenantState.tenant) == tenant)
        .where(col(TenantState.history_off_told_at).is_not(None))
        .values(history_off_told_at=None)
    )


def _has_thread(s: Session, alert: Alert) -> bool:
    """Whether the alert has a thread to tell it in: not resolved meanwhile, not kept quiet by
    a maintenance window, and not told only in storm digests."""
    if alert.resolved_at is not None or alert.silenced:
        return False
    copies = s.exec(select(AlertCopy.digest_id).where(AlertCopy.alert_id == alert.id)).all()
    return not copies or any(digest is None for digest in copies)
