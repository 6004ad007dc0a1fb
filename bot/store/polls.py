"""Poll leases and source health: one row per tenant says who polls it this tick, when it was
last read and since when it has been failing.

A lease is a conditional UPDATE that only one process can win, so replicas on one database
poll each tenant once per tick.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.core.detect import SourceHealth
from bot.core.domain import Snapshot, snapshot_to_dict
from bot.core.said import Said, Voice, as_said
from bot.store.cycles import upsert_cycle
from bot.store.db import Database
from bot.store.tables import TenantState


class PollStore(Database):
    def claim_poll(self, tenant: str, owner: str, now: datetime, ttl: float) -> bool:
        """Take this tenant's poll for this tick. Exactly one process wins a given tick."""
        with self.session() as s:
            if s.get(TenantState, tenant) is None:
                s.add(TenantState(tenant=tenant))
                try:
                    s.commit()
                except IntegrityError:
                    s.rollback()
            result = s.execute(
                sa.update(TenantState)
                .where(col(TenantState.tenant) == tenant)
                .where(
                    sa.or_(
                        col(TenantState.lease_until).is_(None),
                        col(TenantState.lease_until) <= now,
                    )
                )
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=ttl))
            )
            s.commit()
            return result.rowcount == 1  # type: ignore[attr-defined]

    def record_success(self, tenant: str, snapshot: Snapshot, now: datetime) -> None:
        with self.session() as s:
            state = s.get(TenantState, tenant) or TenantState(tenant=tenant)
            state.last_poll_at = now
            state.last_success_at = now
            state.failing_since = None
            state.last_error = None
            state.last_error_said = None
            state.current_cycle = snapshot_to_dict(snapshot)
            s.add(state)
            upsert_cycle(s, snapshot, now)
            s.commit()

    def record_failure(self, tenant: str, error: Said | str, now: datetime) -> SourceHealth:
        """A failed poll; `error` is what the source said (plain text: the bot's own words)."""
        said = as_said(error, Voice.BOT)
        with self.session() as s:
            state = s.get(TenantState, tenant) or TenantState(tenant=tenant)
            state.last_poll_at = now
            state.failing_since = state.failing_since or now
            state.last_error = said.english if said else None
            state.last_error_said = said.to_json() if said else None
            s.add(state)
            s.commit()
            return SourceHealth(tenant=tenant, failing_since=state.failing_since, error=said)

    def tenant_state(self, tenant: str) -> TenantState | None:
        with self.session() as s:
            return s.get(TenantState, tenant)

    def last_polls(self) -> dict[str, datetime | None]:
        """When each tenant was last polled, by whichever process: one read for all of them
        (readiness asks at every probe)."""
        with self.session() as s:
            rows = s.execute(sa.select(col(TenantState.tenant), col(TenantState.last_poll_at)))
            return {tenant: at for tenant, at in rows}
