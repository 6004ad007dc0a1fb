"""Which process polls a tenant on a tick: one lease per group of tenants per tick, taken in
the store by whichever process polls one of the group first in that tick, and remembered here
for the rest of it.

A tick is a stretch of POLL_INTERVAL on the clock (the n-th since the epoch), the same on every
replica. Tenants fall into `GROUPS` groups by a hash of their name alone, so replicas with
different tenants files still agree on a tenant's group. With one process this costs a
statement per group per tick; with several, the groups share out among them.

It also keeps the heartbeat: polls that changed nothing write nothing of their own, so the
times of those polls go to the store with this process's next lease, in the same transaction,
and readiness on every replica sees them. And it knows whether this process has held a
tenant's group at every tick since a given one: if so, no other process polled the tenant in
between, and what the poll job remembers of it still holds.

Replicas poll a tenant at the same moment of every tick, so whichever asked first would take
the group, now one, now the other, and each would read and write afresh what the other had
just seen. So a process that lost a group the last time it asked lets the holder ask first: it
waits a grace (`grace_for`) before asking. The holder keeps its groups tick after tick, and
when it is gone the other takes them over that same tick, a grace late.
"""

from __future__ import annotations

import asyncio
import math
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.store import Store

GROUPS = 16
GRACE = 2.0  # seconds a process that lost a group waits before asking for it again


def grace_for(interval: float) -> float:
    """The wait before asking for a group held by another process: at most a twentieth of
    the interval, so a tenant taken over is still polled early in its tick."""
    return min(GRACE, interval / 20)


def group_of(tenant: str) -> int:
    return zlib.crc32(tenant.encode("utf-8")) % GROUPS


def tick_of(now: datetime, interval: float) -> int:
    return math.floor(now.timestamp() / interval)


@dataclass
class _Held:
    tick: int  # the tick last asked about
    won: bool
    since: int | None  # the first tick of the unbroken run this process has held, if it holds


class TickLeases:
    def __init__(
        self, store: Store, owner: str, interval: float, grace: float | None = None
    ) -> None:
        self.store = store
        self.owner = owner
        self.interval = interval
        self.grace = grace_for(interval) if grace is None else grace
        self._held: dict[int, _Held] = {}
        self._locks = [asyncio.Lock() for _ in range(GROUPS)]
        self._beats: dict[str, datetime] = {}  # tenant -> a poll not written yet

    def tick(self, now: datetime) -> int:
        return tick_of(now, self.interval)

    async def take(self, tenant: str, now: datetime) -> int | None:
        """The tick `now` is in, when this process polls `tenant` in it; None when another
        process does. The store is asked once per group and tick."""
        tick, group = self.tick(now), group_of(tenant)
        held = self._held.get(group)
        if held is not None and held.tick == tick:
            return tick if held.won else None
        async with self._locks[group]:
            held = self._held.get(group)
            if held is None or held.tick != tick:
                if held is not None and not held.won:
                    await asyncio.sleep(self.grace)  # the holder asks first
                held = await self._claim(group, tick, held)
        return tick if held.won else None

    async def _claim(self, group: int, tick: int, before: _Held | None) -> _Held:
        start = datetime.fromtimestamp(tick * self.interval, UTC)
        beats, self._beats = self._beats, {}
        try:
            won = await asyncio.to_thread(
                self.store.claim_tick,
                str(group),
                self.owner,
                start,
                start + timedelta(seconds=self.interval),
                beats,
            )
        except BaseException:
            for tenant, at in beats.items():
                self._beats.setdefault(tenant, at)  # told with the next lease instead
            raise
        since = None
        if won:
            unbroken = before is not None and before.since is not None and before.tick == tick - 1
            since = before.since if unbroken and before is not None else tick
        held = _Held(tick, won, since)
        self._held[group] = held
        return held

    def held_since(self, tenant: str, tick: int) -> bool:
        """Whether this process has held the tenant's group at every tick from `tick` to the
        last one it asked about: then no other process polled the tenant in between."""
        held = self._held.get(group_of(tenant))
        return held is not None and held.since is not None and held.since <= tick

    def beat(self, tenant: str, at: datetime) -> None:
        """A poll that read the status and wrote nothing: its time goes with the next lease."""
        self._beats[tenant] = at

    def written(self, tenant: str) -> None:
        """The poll wrote the tenant's state itself, poll time included."""
        self._beats.pop(tenant, None)
