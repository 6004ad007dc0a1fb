"""Every tenant's reruns awaiting their new cycle, read once a tick for all polls rather than
once per poll: after each poll the rerun check looks for the tenant's among them.

This process's own starts and moves make it read again at the next poll; a rerun another
replica started is seen at the next tick's read at the latest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot.store import Store
from bot.store.tables import Rerun


class AwaitingReruns:
    def __init__(
        self, store: Store, every: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.every = every
        self.clock = clock
        self._rows: list[Rerun] = []
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def get(self, *, fresh: bool = False) -> list[Rerun]:
        """The reruns awaiting their cycle as read at most a tick ago (`fresh`: read now)."""
        async with self._lock:
            read_at = self._read_at
            if fresh or read_at is None or self.clock() - read_at >= self.every:
                self._read_at = self.clock()
                try:
                    self._rows = await asyncio.to_thread(self.store.reruns_awaiting_cycle)
                except BaseException:
                    self._read_at = None
                    raise
            return self._rows

    def changed(self) -> None:
        """A rerun started or moved here: read again at the next ask."""
        self._read_at = None
