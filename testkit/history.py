"""A year of synthetic history in the bot's database, written the way a year of polls and clicks
leaves it: recorded cycles, alerts that opened and resolved with their copies and messages,
storm digests, reruns and the audit log. For the purge's test and its benchmark, which both
need far more rows than any test makes by acting, and in seconds.

The rows go in with bulk inserts, straight into the tables the migrations made; what they
hold follows the bot's own shapes (`snapshot_to_dict`), so the bot reads them as its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot.core.domain import CORE_STEPS, Snapshot, StepRun, StepState, snapshot_to_dict
from bot.store import Store
from bot.store.tables import (
    Alert,
    AlertCopy,
    AuditEntry,
    CycleRecord,
    Digest,
    Outbox,
    Rerun,
)

STEPS = (*CORE_STEPS, "Export Azure")
ERROR = "Bruker [fnr] mangler e-postadresse i HR; eksporten til AD stoppet for denne brukeren"


@dataclass
class Year:
    tenants: tuple[str, ...]
    now: datetime
    days: int = 365
    cycle_every: timedelta = timedelta(hours=2)
    alerts_a_day: int = 2
    audit_a_day: int = 10
    counts: dict[str, int] = field(default_factory=dict)

    def write(self, store: Store, chunk: int = 2000) -> dict[str, int]:
        """Write the year into `store`; returns how many rows each table got."""
        start = self.now - timedelta(days=self.days)
        with store.engine.begin() as conn:
            self._cycles(conn, start, chunk)
            self._alerts(conn, start, chunk)
            self._rest(conn, start, chunk)
        return self.counts

    def _insert(self, conn: sa.Connection, table: sa.Table, rows: list[dict], chunk: int) -> None:
        for at in range(0, len(rows), chunk):
            conn.execute(sa.insert(table), rows[at : at + chunk])
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)

    def _cycles(self, conn: sa.Connection, start: datetime, chunk: int) -> None:
        rows = []
        for tenant in self.tenants:
            when = start
            while when < self.now:
                data = recorded(tenant, when)
                rows.append(
                    {
                        "tenant": tenant,
                        "cycle_id": data["cycle_id"],
                        "started_at": when,
                        "finished_at": when + CYCLE_LENGTH,
                        "seen_at": when + timedelta(minutes=30),
                        "data": data,
                    }
                )
                when += self.cycle_every
        self._insert(conn, CycleRecord.__table__, rows, chunk)  # type: ignore[attr-defined]

    def _alerts(self, conn: sa.Connection, start: datetime, chunk: int) -> None:
        alerts, copies, outbox = [], [], []
        next_id = 1
        for tenant in self.tenants:
            for day in range(self.days):
                for n in range(self.alerts_a_day):
                    opened = start + timedelta(days=day, hours=3 + 8 * n)
                    data = recorded(tenant, opened, failed=True)
                    alerts.append(
                        {
                            "id": next_id,
                            "key": f"{tenant}|{data['cycle_id']}|Export AD",
                            "tenant": tenant,
                            "cycle_id": data["cycle_id"],
                            "step": "Export AD",
                            "condition": "failed",
                            "error": ERROR,
                            "since": opened,
                            "state": "resolved",
                            "opened_at": opened,
                            "updated_at": opened + timedelta(hours=1),
                            "resolved_at": opened + timedelta(hours=1),
                            "resolution": "new_cycle",
                            "channel": f"C{tenant.upper()}",
                            "language": "nb",
                            "message_ts": f"{opened.timestamp():.6f}",
                            "cycle": data,
                            "silenced": False,
                        }
                    )
                    copies.append(
                        {
                            "alert_id": next_id,
                            "target": f"C{tenant.upper()}",
                            "channel": f"C{tenant.upper()}",
                            "primary": True,
                            "message_ts": f"{opened.timestamp():.6f}",
                            "owed_at": opened,
                        }
                    )
                    for kind, later in (("post", 0), ("reply", 20), ("update", 60)):
                        at = opened + timedelta(minutes=later)
                        payload = {"msg": "reply.resolved", "params": {}} if kind == "reply" else {}
                        outbox.append(
                            {
                                "tenant": tenant,
                                "alert_id": next_id,
                                "kind": kind,
                                "channel": f"C{tenant.upper()}",
                                "payload": payload,
                                "created_at": at,
                                "attempts": 1,
                                "next_attempt_at": at,
                                "delivered_at": at,
                            }
                        )
                    next_id += 1
        self._insert(conn, Alert.__table__, alerts, chunk)  # type: ignore[attr-defined]
        self._insert(conn, AlertCopy.__table__, copies, chunk)  # type: ignore[attr-defined]
        self._insert(conn, Outbox.__table__, outbox, chunk)  # type: ignore[attr-defined]

    def _rest(self, conn: sa.Connection, start: datetime, chunk: int) -> None:
        audit, reruns, digests = [], [], []
        for day in range(self.days):
            when = start + timedelta(days=day)
            tenant = self.tenants[day % len(self.tenants)]
            for n in range(self.audit_a_day):
                at = when + timedelta(minutes=37 * n)
                audit.append(
                    {
                        "at": at,
                        "tenant": tenant,
                        "user_id": "U0ADMIN",
                        "action": "status",
                        "alert_id": None,
                        "result": "shown",
                        "detail": None,
                    }
                )
            reruns.append(
                {
                    "tenant": tenant,
                    "requested_by": "U0ADMIN",
                    "requested_at": when,
                    "runner": "POST https://runbook.example.no",
                    "status": "confirmed",
                    "detail": "HTTP 202",
                }
            )
            if day % 7 == 0:
                digests.append(
                    {
                        "target": "COPS",
                        "channel": "COPS",
                        "language": "nb",
                        "opened_at": when,
                        "last_added_at": when,
                        "message_ts": f"{when.timestamp():.6f}",
                        "closed_at": when + timedelta(hours=2),
                    }
                )
        self._insert(conn, AuditEntry.__table__, audit, chunk)  # type: ignore[attr-defined]
        self._insert(conn, Rerun.__table__, reruns, chunk)  # type: ignore[attr-defined]
        self._insert(conn, Digest.__table__, digests, chunk)  # type: ignore[attr-defined]


CYCLE_LENGTH = timedelta(minutes=5 * len(STEPS))
_TEMPLATES: dict[bool, dict[str, Any]] = {}


def recorded(tenant: str, start: datetime, *, failed: bool = False) -> dict[str, Any]:
    """A cycle as the store records it, made from one template of its steps: a year holds
    tens of thousands, and the purge reads their times, not their steps'."""
    if failed not in _TEMPLATES:
        _TEMPLATES[failed] = snapshot_to_dict(cycle(tenant, start, failed=failed))
    iso = start.astimezone(UTC).isoformat()
    return {
        **_TEMPLATES[failed],
        "tenant": tenant,
        "cycle_id": f"c-{start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
        "started_at": iso,
        "finished_at": None if failed else (start + CYCLE_LENGTH).astimezone(UTC).isoformat(),
        "fetched_at": iso,
    }


def cycle(tenant: str, start: datetime, *, failed: bool = False) -> Snapshot:
    """One cycle of nine steps, five minutes each; Export AD failed when `failed`."""
    runs = []
    for index, name in enumerate(STEPS):
        began = start + timedelta(minutes=5 * index)
        broken = failed and name == "Export AD"
        runs.append(
            StepRun(
                name=name,
                state=StepState.FAILED if broken else StepState.COMPLETED,
                started_at=began,
                finished_at=began + timedelta(minutes=5),
                message=ERROR if broken else None,
            )
        )
    return Snapshot(
        tenant=tenant,
        cycle_id=f"c-{start.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}",
        started_at=start,
        finished_at=None if failed else start + CYCLE_LENGTH,
        steps=tuple(runs),
    )


def used_bytes(store: Store) -> int:
    """What the database's rows take: SQLite's pages in use (a file keeps its free pages for
    new rows), or on PostgreSQL the size of the live rows of the bot's tables (their files
    keep the space of deleted rows for new ones, which autovacuum makes reusable)."""
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            pages = conn.execute(sa.text("PRAGMA page_count")).scalar_one()
            free = conn.execute(sa.text("PRAGMA freelist_count")).scalar_one()
            size = conn.execute(sa.text("PRAGMA page_size")).scalar_one()
            return int((pages - free) * size)
        query = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        tables = [row[0] for row in conn.execute(sa.text(query))]
        return sum(
            int(
                conn.execute(
                    sa.text(f'SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM "{table}" t')
                ).scalar_one()
            )
            for table in tables
        )


def row_counts(store: Store) -> dict[str, int]:
    names = ("cycle", "alert", "alert_copy", "outbox", "digest", "rerun", "audit")
    with store.engine.connect() as conn:
        return {
            name: int(conn.execute(sa.text(f'SELECT count(*) FROM "{name}"')).scalar_one())
            for name in names
        }
