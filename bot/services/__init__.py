"""Services: what handlers and timers call. Each action a person can take lives in its own
module here; handlers only ack, authorise through `Services.is_admin`, delegate and answer."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.compose import Composer
from bot.config import Settings, Tenant
from bot.delivery import Deliverer
from bot.domain import Snapshot
from bot.lifecycle import Decision
from bot.playbook import Playbook
from bot.poller import PollListener
from bot.sources.eadm import EadmSource
from bot.store import Store, utcnow

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    store: Store
    client: AsyncWebClient
    composer: Composer
    playbook: Playbook
    sources: dict[str, EadmSource]
    deliverer: Deliverer
    _listeners: list[PollListener] = field(default_factory=list)

    def poll_listeners(self) -> list[PollListener]:
        return list(self._listeners)

    async def tick(self) -> None:
        """Timers that are not polls (silence ends, rerun deadlines)."""

    async def readiness(self, last_poll: dict[str, datetime]) -> list[dict[str, Any]]:
        now = utcnow()
        checks: list[dict[str, Any]] = [{"name": "database", "ok": self.store.ping()}]
        for tenant in self.settings.tenants:
            seen = last_poll.get(tenant.name)
            state = self.store.tenant_state(tenant.name)
            last = max(
                (t for t in (seen, state.last_poll_at if state else None) if t), default=None
            )
            age = (now - last).total_seconds() if last else None
            ok = age is not None and age < 3 * self.settings.poll_interval
            checks.append({"name": f"poll:{tenant.name}", "ok": ok, "age_s": age})
        return checks

    async def aclose(self) -> None:
        return None

    def tenant(self, name: str | None) -> Tenant | None:
        return self.settings.tenant(name)

    async def on_poll(
        self, tenant: Tenant, snapshot: Snapshot | None, decisions: Sequence[Decision]
    ) -> None:
        return None
