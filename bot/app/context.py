"""What every use case shares: settings, the store, the adapters, the clock, the audit log and
the after-change hooks (deliver what was just owed, refresh open Home tabs)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.adapters.registry import Adapters
from bot.core.metrics import ACTIONS
from bot.core.settings import Settings
from bot.store import Store, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Answer:
    """What the person who asked is told: privately unless `public`."""

    text: str
    blocks: list[dict[str, Any]] | None = None
    public: bool = False


class Context:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        adapters: Adapters,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.adapters = adapters
        self.clock = clock
        # Called after a change people should see at once (see `kick`), with its tenant.
        self.after_change: list[Callable[[str | None], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()

    def kick(self, tenant: str | None = None) -> None:
        """Deliver what was just owed now rather than at the next outbox sweep, and show the
        change on the Home tabs people have open (of those who see `tenant`, when given)."""
        for hook in self.after_change:
            hook(tenant)

    def background(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)

    async def audit(
        self,
        action: str,
        result: str,
        *,
        user_id: str,
        tenant: str | None = None,
        alert_id: int | None = None,
        detail: str | None = None,
    ) -> None:
        ACTIONS.labels(action=action, outcome=result).inc()
        log.info("[%s] %s by %s on alert %s: %s", tenant or "-", action, user_id, alert_id, result)
        await asyncio.to_thread(
            self.store.audit,
            action,
            result,
            user_id=user_id,
            tenant=tenant,
            alert_id=alert_id,
            detail=detail,
            now=self.clock(),
        )
