"""Cycles as last seen: the history `/eadm history` shows and normal durations are learned from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core.domain import Snapshot, snapshot_from_dict, snapshot_to_dict
from bot.store.db import Database
from bot.store.tables import CycleRecord, UTCDateTime

_cycles = CycleRecord.__table__  # type: ignore[attr-defined]
_SEEN = (
    sa.update(_cycles)
    .where(_cycles.c.tenant == sa.bindparam("t"), _cycles.c.cycle_id == sa.bindparam("c"))
    .values(
        started_at=sa.func.coalesce(
            sa.bindparam("started", type_=UTCDateTime),
            _cycles.c.started_at,
            sa.bindparam("now", type_=UTCDateTime),
        ),
        finished_at=sa.bindparam("finished", type_=UTCDateTime),
        seen_at=sa.bindparam("now", type_=UTCDateTime),
        data=sa.bindparam("data", type_=_cycles.c.data.type),
    )
)


def upsert_cycle(
    s: Session, snapshot: Snapshot, now: datetime, *, data: dict[str, Any] | None = None
) -> None:
    """Record a cycle as seen now, in the caller's transaction: one UPDATE, and an INSERT
    the first time the cycle is seen (a poll writes its cycle every time it changed). `data`:
    the snapshot as `snapshot_to_dict` gives it, when the caller has it already."""
    values = {
        "t": snapshot.tenant,
        "c": snapshot.cycle_id,
        "started": snapshot.started_at,
        "finished": snapshot.ended_at,
        "now": now,
        "data": data if data is not None else snapshot_to_dict(snapshot),
    }
    if s.execute(_SEEN, values).rowcount == 0:  # type: ignore[attr-defined]
        s.execute(
            sa.insert(_cycles),
            {
                "tenant": snapshot.tenant,
                "cycle_id": snapshot.cycle_id,
                "started_at": snapshot.started_at or now,
                "finished_at": snapshot.ended_at,
                "seen_at": now,
                "data": values["data"],
            },
        )


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
