"""Maintenance windows: a tenant's alerts are kept quiet until a time, and the window's end is
told once, as a summary of what it hid, followed by what is still wrong.

Which alerts the summary lists and which become ordinary alerts is decided in
`bot.core.notify`; this module writes that, with the summary, in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from bot.core import notify
from bot.store.alerts import view
from bot.store.digests import DigestStore, owe
from bot.store.outbox import owe_channel_notice
from bot.store.tables import Alert, TenantState


class SilenceStore(DigestStore):
    def silence(
        self, tenant: str, until: datetime, reason: str | None, user_id: str, now: datetime
    ) -> TenantState:
        with self.session() as s:
            state = s.get(TenantState, tenant) or TenantState(tenant=tenant)
            if not notify.window_open(state.silenced_until, now):
                state.silenced_since = now  # a new window; extending one keeps its start
            state.silenced_until = until
            state.silence_reason = reason
            state.silenced_by = user_id
            s.add(state)
            s.commit()
            s.refresh(state)
            return state

    def end_silence(
        self,
        tenant: str,
        channel: str,
        now: datetime,
        summarize: Callable[[TenantState, list[Alert]], dict[str, Any]],
        *,
        early: bool = False,
    ) -> bool:
        """End a window that is over (or any window, with `early`), owe its summary and post
        what is still open, in one transaction: exactly one caller ends it, and a crash cannot
        lose the summary."""
        with self.session() as s:
            state = s.get(TenantState, tenant)
            if state is None or state.silenced_until is None:
                return False
            since, until = state.silenced_since, state.silenced_until
            if not notify.window_over(until, now, early=early):
                return False
            ended = TenantState.model_validate(state.model_dump())  # as it was, for the summary
            # Only the caller whose UPDATE still sees the window it read goes on.
            result = s.execute(
                sa.update(TenantState)
                .where(col(TenantState.tenant) == tenant)
                .where(col(TenantState.silenced_until) == until)
                .values(silenced_until=None, silenced_since=None, silence_reason=None)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                s.rollback()
                return False
            quiet = {
                row.id: row
                for row in s.exec(
                    select(Alert)
                    .where(Alert.tenant == tenant)
                    .where(col(Alert.silenced).is_(True))
                    .order_by(col(Alert.id))
                ).all()
            }
            end = notify.end_window(since, until, now, [view(row) for row in quiet.values()])
            ended.silenced_until = end.ended_at
            summary = summarize(ended, [quiet[a.id] for a in end.hidden])
            owe_channel_notice(s, tenant, channel, summary, now)
            for alert_id, messages in end.reposted.items():
                alert = quiet[alert_id]
                alert.silenced = False
                alert.updated_at = now
                s.add(alert)
                for message in messages:
                    owe(s, alert, message, now, self.storm)
            s.commit()
            return True
