"""Reruns: a sync started by hand, and whether a new cycle followed.

The rerun guard decides whether one may start; this module writes what it decided and keeps
only what a database must decide: at most one rerun under way per tenant (a partial unique
index), so of two clicks or two replicas at once one records its rerun and the other loses, and
of two replicas moving one rerun on, one moves it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.core.rerun_status import ACTIVE, AWAITING_CYCLE, MOVES_FROM, RAN, RerunStatus, in_order
from bot.store.db import Database
from bot.store.tables import Rerun


class RerunStore(Database):
    def rerun_is_active(self, tenant: str) -> bool:
        """Whether one of the tenant's reruns is under way."""
        with self.session() as s:
            found = s.exec(
                select(Rerun.id)
                .where(Rerun.tenant == tenant)
                .where(col(Rerun.status).in_(in_order(ACTIVE)))
                .limit(1)
            ).first()
            return found is not None

    def active_rerun(self, tenant: str) -> Rerun | None:
        """The tenant's rerun under way, if any (the unique index allows one)."""
        with self.session() as s:
            return s.exec(
                select(Rerun)
                .where(Rerun.tenant == tenant)
                .where(col(Rerun.status).in_(in_order(ACTIVE)))
            ).first()

    def last_rerun_ran_at(self, tenant: str) -> datetime | None:
        """When the tenant's newest rerun whose sync really started was asked for."""
        with self.session() as s:
            return s.exec(
                select(sa.func.max(Rerun.requested_at))
                .where(Rerun.tenant == tenant)
                .where(col(Rerun.status).in_(in_order(RAN)))
            ).first()

    def record_rerun(
        self,
        tenant: str,
        *,
        alert_id: int | None,
        user_id: str,
        runner: str,
        cycle_before: str | None,
        now: datetime,
        grace: float,
    ) -> Rerun | None:
        """The rerun the guard allowed, recorded as requested; None when the tenant has one
        under way already, which only a click or replica that got there first can cause: the
        partial unique index lets one through."""
        with self.session() as s:
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
                return None
            s.refresh(rerun)
            return rerun

    def move_rerun(
        self,
        rerun_id: int,
        status: RerunStatus,
        *,
        detail: str | None = None,
        new_cycle_id: str | None = None,
        deadline: datetime | None = None,
    ) -> bool:
        """Whether this call moved the rerun to `status`: it moves only from the status
        `MOVES_FROM` names, so of two replicas that see its new cycle (or its deadline) at once,
        one moves it and says so."""
        values: dict[str, Any] = {"status": status}
        if detail is not None:
            values["detail"] = detail
        if new_cycle_id is not None:
            values["new_cycle_id"] = new_cycle_id
        if deadline is not None:
            values["deadline"] = deadline
        with self.session() as s:
            result = s.execute(
                sa.update(Rerun)
                .where(col(Rerun.id) == rerun_id)
                .where(col(Rerun.status) == MOVES_FROM[status])
                .values(**values)
            )
            s.commit()
            return result.rowcount == 1  # type: ignore[attr-defined]

    def reruns_awaiting_cycle(self) -> list[Rerun]:
        """Every tenant's reruns whose sync started and whose new cycle is not yet seen."""
        with self.session() as s:
            return list(
                s.exec(
                    select(Rerun)
                    .where(col(Rerun.status).in_(in_order(AWAITING_CYCLE)))
                    .order_by(col(Rerun.id))
                )
            )
