"""The daily purge: nothing kept longer than RETENTION_DAYS and AUDIT_RETENTION_DAYS say.

One replica at a time runs it (a lease held for most of a day, so however many replicas
schedule it, it runs once a day), in small batches with a pause between them, so a poll or a
click never waits long behind it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.retention import Cutoffs
from bot.core.settings import Settings
from bot.store import Store, utcnow
from bot.store.retention import Kept

log = logging.getLogger(__name__)

JOB = "purge"
HOLD = 23 * 3600.0  # seconds the lease is held: a daily job, whichever replica runs it
BATCH = 500  # rows deleted in one transaction
PAUSE = 0.05  # seconds between batches, for the polls and clicks waiting to write


@dataclass
class Purged:
    """What one run deleted, by kind, and how long it took."""

    counts: dict[Kept, int] = field(default_factory=dict)
    seconds: float = 0.0
    batches: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def plan(cutoffs: Cutoffs) -> list[tuple[Kept, datetime]]:
    """Each kind with the time before which it goes; a kind whose cut-off is None stays."""
    when = {
        Kept.DELIVERED: cutoffs.delivered,
        Kept.AUDIT: cutoffs.audit,
    }
    return [
        (kept, before) for kept in Kept if (before := when.get(kept, cutoffs.history)) is not None
    ]


class Purge:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        owner: str,
        clock: Callable[[], datetime] = utcnow,
        batch: int = BATCH,
        pause: float = PAUSE,
    ) -> None:
        self.settings = settings
        self.store = store
        self.owner = owner
        self.clock = clock
        self.batch = batch
        self.pause = pause
        self._stopping = False

    def stop(self) -> None:
        """Stop after the batch under way: the process is shutting down; tomorrow goes on."""
        self._stopping = True

    def describe(self) -> str:
        """What the database keeps, for the start-up log."""
        return f"the database {self.settings.retention.describe()}"

    async def run(self) -> Purged | None:
        """Delete what is kept no longer; None when another replica has done it today, or
        nothing is ever deleted. Never raises: a failed purge is tried again tomorrow."""
        try:
            return await self._run()
        except Exception:
            log.exception("the purge of old data failed; it is tried again in a day")
            return None

    async def _run(self) -> Purged | None:
        now = self.clock()
        steps = plan(self.settings.retention.cutoffs(now))
        if not steps:
            return None
        if not await asyncio.to_thread(self.store.claim_job, JOB, self.owner, now, HOLD):
            log.debug("the purge of old data ran on another replica today")
            return None
        configured = [tenant.name for tenant in self.settings.tenants]
        purged = Purged()
        started = time.perf_counter()
        for kept, before in steps:
            while True:
                gone = await asyncio.to_thread(
                    self.store.purge, kept, before, self.batch, configured=configured
                )
                purged.batches += 1
                purged.counts[kept] = purged.counts.get(kept, 0) + gone
                if gone < self.batch or self._stopping:
                    break
                await asyncio.sleep(self.pause)
            if self._stopping:
                break
        purged.seconds = time.perf_counter() - started
        await asyncio.to_thread(self.store.job_done, JOB, self.clock())
        if purged.total:
            counts = ", ".join(f"{n} {kept.value}" for kept, n in purged.counts.items() if n)
            log.info("deleted what is kept no longer: %s (%.1f s)", counts, purged.seconds)
        return purged
