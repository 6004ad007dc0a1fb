"""Reruns: a sync started by hand, and whether a new cycle followed.

At most one active rerun per tenant (a partial unique index), so a double click or two replicas
cannot start the sync twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.store.db import Database
from bot.store.tables import Rerun


class RerunStore(Database):
    def rerun_standing(
        self, tenant: str, *, active: Sequence[str], ran: Sequence[str]
    ) -> tuple[bool, datetime | None]:
        """Whether one of the tenant's reruns is in an `active` state, and when the newest one
        in a `ran` state was asked for: what the rerun guard needs, without the whole history."""
        with self.session() as s:
            busy = s.exec(
                select(Rerun.id)
                .where(Rerun.tenant == tenant)
                .where(col(Rerun.status).in_(active))
                .limit(1)
            ).first()
            last = s.exec(
                select(sa.func.max(Rerun.requested_at))
                .where(Rerun.tenant == tenant)
                .where(col(Rerun.status).in_(ran))
            ).first()
            return busy is not None, last

    def begin_rerun(
        self,
        tenant: str,
        *,
        alert_id: int | None,
        user_id: str,
        runner: str,
        cycle_before: str | None,
        now: datetime,
        grace: float,
        cooldown: float,
    ) -> Rerun | str:
        """Record a rerun about to start, or say why not: "pending" while another is active,
        "cooldown" within `cooldown` seconds of the last one. Safe against double clicks and
        replicas: the partial unique index lets only one active rerun per tenant exist."""
        with self.session() as s:
            last = s.exec(
                select(Rerun).where(Rerun.tenant == tenant).order_by(col(Rerun.id).desc())
            ).first()
            if last is not None and last.status in ("requested", "started"):
                return "pending"
            # Only a sync that really started counts towards the cool-down: after a runner
            # that failed (a wrong command, say) the admin may fix it and try again at once.
            ran = s.exec(
                select(Rerun)
                .where(Rerun.tenant == tenant)
                .where(col(Rerun.status).in_(("started", "confirmed", "no_cycle")))
                .order_by(col(Rerun.id).desc())
            ).first()
            if (
                ran is not None
                and ran.requested_at is not None
                and (now - ran.requested_at).total_seconds() < cooldown
            ):
                return "cooldown"
            rerun = Rerun(
                tenant=tenant,
                alert_id=alert_id,
                requested_by=user_id,
                requested_at=now,
                runner=runner,
                cycle_before=cycle_before,
                deadline=now + timedelta(seconds=grace),
            )
            s.add(rerun)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return "pending"
            s.refresh(rerun)
            return rerun

    def finish_rerun(
        self,
        rerun_id: int,
        status: str,
        *,
        detail: str | None = None,
        new_cycle_id: str | None = None,
        deadline: datetime | None = None,
        only_from: tuple[str, ...] | None = None,
    ) -> Rerun | None:
        """Move a rerun on. With `only_from`, only a rerun in one of those states moves (the
        one process that wins reports it); returns None when it did not move."""
        with self.session() as s:
            query = sa.update(Rerun).where(col(Rerun.id) == rerun_id)
            if only_from is not None:
                query = query.where(col(Rerun.status).in_(only_from))
            values: dict[str, Any] = {"status": status}
            if detail is not None:
                values["detail"] = detail
            if new_cycle_id is not None:
                values["new_cycle_id"] = new_cycle_id
            if deadline is not None:
                values["deadline"] = deadline
            result = s.execute(query.values(**values))
            s.commit()
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return s.get(Rerun, rerun_id)

    def active_reruns(self) -> list[Rerun]:
        with self.session() as s:
            return list(
                s.exec(select(Rerun).where(col(Rerun.status) == "started").order_by(col(Rerun.id)))
            )
