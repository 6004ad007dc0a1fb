"""Deleting what is kept no longer, a small batch at a time, and the lease that lets one replica
at a time do it.

Each call deletes at most `limit` rows of one kind, with what belongs to them, in one short
transaction: polls and clicks never wait long behind it, on SQLite's single writer least of
all. What is old enough is said by the caller (`bot.core.retention`); this module only
deletes what it is told.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.rerun_status import ACTIVE
from bot.store.db import Database
from bot.store.tables import (
    Alert,
    AlertCopy,
    AuditEntry,
    CycleRecord,
    Digest,
    JobLease,
    Outbox,
    Rerun,
    TenantState,
)


class Kept(StrEnum):
    """What the purge deletes, in the order it does."""

    DELIVERED = "delivered"  # messages Slack has taken
    ALERTS = "alerts"  # resolved alerts, their copies and messages
    DIGESTS = "digests"  # closed storm digests and their messages
    RERUNS = "reruns"  # reruns no longer under way
    CYCLES = "cycles"  # cycles by when they were last seen
    TENANTS = "tenants"  # the state of tenants no longer configured
    AUDIT = "audit"  # the audit log


class RetentionStore(Database):
    # -- the lease ---------------------------------------------------------------------------

    def claim_job(self, name: str, owner: str, now: datetime, hold: float) -> bool:
        """Take the job for `hold` seconds, unless another process holds it. Held for most
        of a day, a daily job runs once a day however many replicas schedule it."""
        with self.session() as s:
            if s.get(JobLease, name) is None:
                s.add(JobLease(name=name))
                try:
                    s.commit()
                except IntegrityError:
                    s.rollback()
            taken = s.execute(
                sa.update(JobLease)
                .where(col(JobLease.name) == name)
                .where(sa.or_(col(JobLease.until).is_(None), col(JobLease.until) <= now))
                .values(owner=owner, until=now + timedelta(seconds=hold))
            )
            s.commit()
            return taken.rowcount == 1  # type: ignore[attr-defined]

    def job_done(self, name: str, now: datetime) -> None:
        with self.session() as s:
            s.execute(sa.update(JobLease).where(col(JobLease.name) == name).values(last_run_at=now))
            s.commit()

    # -- deleting ----------------------------------------------------------------------------

    def purge(
        self, kept: Kept, before: datetime, limit: int, *, configured: Collection[str] = ()
    ) -> int:
        """Delete at most `limit` rows of one kind older than `before`, with what belongs to
        them. `configured`: the tenants watched, whose state is never deleted. Returns how
        many rows of that kind went."""
        with self.session() as s:
            gone = _PURGES[kept](s, before, limit, configured)
            s.commit()
            return gone


def _ids(s: Session, column: Any, *where: Any, limit: int) -> list[int]:
    """The first `limit` IDs of the rows that match."""
    query = select(column)
    for condition in where:
        query = query.where(condition)
    return [row for row in s.exec(query.limit(limit)).all() if row is not None]


def _delivered(s: Session, before: datetime, limit: int, _: Collection[str]) -> int:
    ids = _ids(s, Outbox.id, col(Outbox.delivered_at) < before, limit=limit)
    if ids:
        s.execute(sa.delete(Outbox).where(col(Outbox.id).in_(ids)))
    return len(ids)


def _alerts(s: Session, before: datetime, limit: int, _: Collection[str]) -> int:
    ids = _ids(s, Alert.id, col(Alert.resolved_at) < before, limit=limit)
    if ids:
        s.execute(sa.delete(Outbox).where(col(Outbox.alert_id).in_(ids)))
        s.execute(sa.delete(AlertCopy).where(col(AlertCopy.alert_id).in_(ids)))
        s.execute(sa.delete(Alert).where(col(Alert.id).in_(ids)))
    return len(ids)


def _digests(s: Session, before: datetime, limit: int, _: Collection[str]) -> int:
    ids = _ids(s, Digest.id, col(Digest.closed_at) < before, limit=limit)
    if ids:
        s.execute(sa.delete(Outbox).where(col(Outbox.digest_id).in_(ids)))
        s.execute(
            sa.update(AlertCopy).where(col(AlertCopy.digest_id).in_(ids)).values(digest_id=None)
        )
        s.execute(sa.delete(Digest).where(col(Digest.id).in_(ids)))
    return len(ids)


def _reruns(s: Session, before: datetime, limit: int, _: Collection[str]) -> int:
    finished = col(Rerun.status).not_in([status.value for status in ACTIVE])
    ids = _ids(s, Rerun.id, col(Rerun.requested_at) < before, finished, limit=limit)
    if ids:
        s.execute(sa.delete(Rerun).where(col(Rerun.id).in_(ids)))
    return len(ids)


def _cycles(s: Session, before: datetime, limit: int, _: Collection[str]) -> int:
    keys = s.exec(
        select(CycleRecord.tenant, CycleRecord.cycle_id)
        .where(col(CycleRecord.seen_at) < before)
        .limit(limit)
    ).all()
    by_tenant: dict[str, list[str]] = {}
    for tenant, cycle_id in keys:
        by_tenant.setdefault(tenant, []).append(cycle_id)
    # One tenant at a time: its key's index finds the rows, where a list of (tenant, cycle_id)
    # pairs makes SQLite read the whole table.
    for tenant, cycle_ids in by_tenant.items():
        s.execute(
            sa.delete(CycleRecord)
            .where(col(CycleRecord.tenant) == tenant)
            .where(col(CycleRecord.cycle_id).in_(cycle_ids))
        )
    return len(keys)


def _tenants(s: Session, before: datetime, limit: int, configured: Collection[str]) -> int:
    query = select(TenantState.tenant).where(col(TenantState.last_poll_at) < before)
    if configured:
        query = query.where(col(TenantState.tenant).not_in(list(configured)))
    names = list(s.exec(query.limit(limit)).all())
    if names:
        s.execute(sa.delete(TenantState).where(col(TenantState.tenant).in_(names)))
    return len(names)


def _audit(s: Session, before: datetime, limit: int, _: Collection[str]) -> int:
    ids = _ids(s, AuditEntry.id, col(AuditEntry.at) < before, limit=limit)
    if ids:
        s.execute(sa.delete(AuditEntry).where(col(AuditEntry.id).in_(ids)))
    return len(ids)


_PURGES = {
    Kept.DELIVERED: _delivered,
    Kept.ALERTS: _alerts,
    Kept.DIGESTS: _digests,
    Kept.RERUNS: _reruns,
    Kept.CYCLES: _cycles,
    Kept.TENANTS: _tenants,
    Kept.AUDIT: _audit,
}
