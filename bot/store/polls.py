"""Poll leases and source health: which process polls a group of tenants this tick, and one
row per tenant that says when it was last read, since when it has been failing and the cycle it
showed.

A lease is a conditional UPDATE that only one process can win, so replicas on one database
poll each tenant once per tick. It is taken once per tick for a whole group of tenants (in
`job_lease`, beside the daily purge's), not once per tenant: with one process it costs a few
statements a tick, whatever the number of tenants. The lease columns of `tenant_state` are no
longer written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.core.detect import SourceHealth
from bot.core.domain import Snapshot, snapshot_to_dict
from bot.core.said import Said, Voice, as_said
from bot.store.cycles import upsert_cycle
from bot.store.db import Database
from bot.store.tables import JobLease, TenantState, UTCDateTime

POLL_LEASE = "poll:"  # a group of tenants' lease, in job_lease: `poll:<group>`

_jobs = JobLease.__table__  # type: ignore[attr-defined]
_states = TenantState.__table__  # type: ignore[attr-defined]
_TAKE = (
    sa.update(_jobs)
    .where(_jobs.c.name == sa.bindparam("lease"))
    .where(
        sa.or_(_jobs.c.until.is_(None), _jobs.c.until <= sa.bindparam("start", type_=UTCDateTime))
    )
    .values(owner=sa.bindparam("who"), until=sa.bindparam("end", type_=UTCDateTime))
)
_BEAT = (
    sa.update(_states)
    .where(_states.c.tenant == sa.bindparam("t"))
    .values(
        last_poll_at=sa.bindparam("at", type_=UTCDateTime),
        last_success_at=sa.bindparam("at", type_=UTCDateTime),
    )
)

# A good poll that changed the cycle: a heartbeat that also clears the error and sets the cycle.
_SUCCEEDED = _BEAT.values(
    failing_since=None,
    last_error=None,
    last_error_said=None,
    current_cycle=sa.bindparam("cycle", type_=_states.c.current_cycle.type),
)


class PollStore(Database):
    def claim_tick(
        self,
        group: str,
        owner: str,
        start: datetime,
        end: datetime,
        beats: Mapping[str, datetime] | None = None,
    ) -> bool:
        """Take the polls of one group of tenants for the tick from `start` to `end`: a
        conditional UPDATE of the group's lease that only one process wins, held until the
        tick's end. In the same transaction, `beats`: when this process last polled tenants
        whose state it had no reason to write (their poll changed nothing), so every replica's
        readiness sees them polled."""
        name = f"{POLL_LEASE}{group}"
        with self.engine.begin() as conn:
            if beats:
                self._beat(conn, beats)
            taken = conn.execute(_TAKE, {"lease": name, "who": owner, "start": start, "end": end})
            if taken.rowcount == 1:
                return True
        with self.session() as s:
            if s.get(JobLease, name) is not None:
                return False
            s.add(JobLease(name=name))
            try:
                s.commit()
            except IntegrityError:
                s.rollback()  # another process made it first: it may have taken the tick too
        with self.engine.begin() as conn:
            taken = conn.execute(_TAKE, {"lease": name, "who": owner, "start": start, "end": end})
            return taken.rowcount == 1

    def record_beats(self, beats: Mapping[str, datetime]) -> None:
        """When tenants were last polled and read, where nothing else was written."""
        if beats:
            with self.engine.begin() as conn:
                self._beat(conn, beats)

    @staticmethod
    def _beat(conn: sa.Connection, beats: Mapping[str, datetime]) -> None:
        conn.execute(_BEAT, [{"t": tenant, "at": at} for tenant, at in beats.items()])

    def record_success(self, tenant: str, snapshot: Snapshot, now: datetime) -> None:
        """A good poll that changed the cycle (`record_successes` of one)."""
        self.record_successes([(tenant, snapshot, now)])

    def record_successes(self, polls: Sequence[tuple[str, Snapshot, datetime]]) -> None:
        """Good polls that changed their cycles, in the order they were made, in one
        transaction: two UPDATEs each (an INSERT the first time), without loading a row."""
        if not polls:
            return
        with self.session() as s:
            for tenant, snapshot, now in polls:
                cycle = snapshot_to_dict(snapshot)
                done = s.execute(_SUCCEEDED, {"t": tenant, "at": now, "cycle": cycle})
                if done.rowcount == 0:  # type: ignore[attr-defined]
                    s.add(
                        TenantState(
                            tenant=tenant,
                            last_poll_at=now,
                            last_success_at=now,
                            current_cycle=cycle,
                        )
                    )
                    s.flush()  # the row exists before a later poll of the batch updates it
                upsert_cycle(s, snapshot, now, data=cycle)
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
