"""Cycles as last seen: the history `/eadm history` shows and normal durations are learned from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from bot.core.domain import Snapshot, snapshot_from_dict, snapshot_to_dict
from bot.store.db import Database
from bot.store.tables import CycleRecord


def upsert_cycle(s: Session, snapshot: Snapshot, now: datetime) -> None:
    """Record a cycle as seen now, in the caller's transaction."""
    row = s.get(CycleRecord, (snapshot.tenant, snapshot.cycle_id))
    if row is None:
        row = CycleRecord(tenant=snapshot.tenant, cycle_id=snapshot.cycle_id)
    row.started_at = snapshot.started_at or row.started_at or now
    row.finished_at = snapshot.ended_at
    row.seen_at = now
    row.data = snapshot_to_dict(snapshot)
    s.add(row)


class CycleStore(Database):
    def record_history(self, tenant: str, snapshots: Sequence[Snapshot], now: datetime) -> None:
        with self.session() as s:
            for snapshot in snapshots:
                upsert_cycle(s, snapshot, now)
            s.commit()

    def recent_cycles(self, tenant: str, limit: int = 20) -> list[Snapshot]:
        with self.session() as s:
            rows = s.exec(
                select(CycleRecord)
                .where(CycleRecord.tenant == tenant)
                .order_by(col(CycleRecord.started_at).desc())
                .limit(limit)
            ).all()
            return [snapshot_from_dict(row.data) for row in rows if row.data]
