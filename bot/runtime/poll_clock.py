"""When the scheduler polls a tenant: once soon after start, then at the tenant's own moment
of every tick, the same moment in every process.

A tick is a stretch of POLL_INTERVAL on the clock (`bot.app.leases`), and whichever process
holds a tenant's group of leases in a tick polls the tenant in it. Each tenant has a phase in
the tick, from a hash of its name alone, so every replica polls it at the same moment of each
tick: a group passing from one replica to another between two ticks still has each of its
tenants polled one interval after the last poll, whoever made that one. (With a moment of its
own in each process, such a hand-over left some tenants unpolled for up to two intervals.)

The first poll after start comes at `first`, which the caller spreads over the first seconds
as before; the next at the tenant's phase at least half an interval later, so the first two
polls are between half an interval and one and a half apart, and every later pair exactly one.
"""

from __future__ import annotations

import math
import zlib
from datetime import UTC, datetime

from apscheduler.triggers.base import BaseTrigger


def phase_of(tenant: str, interval: float) -> float:
    """Seconds into every tick at which `tenant` is polled: the same in every process."""
    return zlib.crc32(f"phase:{tenant}".encode()) / 2**32 * interval


class OnTheClock(BaseTrigger):
    """An APScheduler trigger: `first`, then the moments `phase` seconds into each tick of
    `interval` seconds on the clock."""

    __slots__ = ("first", "interval", "phase")

    def __init__(self, interval: float, phase: float, first: datetime) -> None:
        if interval <= 0 or not 0 <= phase < interval:
            raise ValueError(f"phase {phase} is not within an interval of {interval} s")
        self.interval = interval
        self.phase = phase
        self.first = first

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        if previous_fire_time is None:
            return self.first
        after = previous_fire_time.timestamp() + self.interval / 2
        tick = math.ceil((after - self.phase) / self.interval)
        return datetime.fromtimestamp(tick * self.interval + self.phase, UTC)

    def __repr__(self) -> str:
        return f"<OnTheClock (every {self.interval:g} s, {self.phase:.3f} s into each tick)>"
