"""Status, history and the App Home: what the cycle looks like now, read from the store."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.app.access import Access
from bot.app.context import Answer, Context
from bot.core.domain import Condition, Snapshot, snapshot_from_dict
from bot.core.settings import Tenant
from bot.slack.calls import permalink, publish_home
from bot.slack.render import (
    AlertLink,
    StatusFacts,
    render_history,
    render_home,
    render_status,
)
from bot.store.tables import Alert, TenantState


class Status:
    def __init__(self, ctx: Context, access: Access, client: AsyncWebClient) -> None:
        self.ctx = ctx
        self.access = access
        self.client = client
        self._home_viewers: set[str] = set()

    async def facts(self, tenant: Tenant) -> StatusFacts:
        store = self.ctx.store

        def read() -> tuple[TenantState | None, list[Snapshot], list[Alert]]:
            return (
                store.tenant_state(tenant.name),
                store.recent_cycles(tenant.name, 50),
                store.unresolved_alerts(tenant.name),
            )

        state, recent, alerts = await asyncio.to_thread(read)
        links = await asyncio.gather(
            *(permalink(self.client, a.channel, a.message_ts) for a in alerts)
        )
        snapshot = None
        if state is not None and state.current_cycle:
            snapshot = snapshot_from_dict(state.current_cycle)
        failing = state is not None and state.failing_since is not None
        return StatusFacts(
            tenant=tenant.name,
            snapshot=snapshot,
            last_success=next((c.ended_at for c in recent if c.all_completed), None),
            alerts=tuple(
                AlertLink(a.step, Condition(a.condition), link, a.state)
                for a, link in zip(alerts, links, strict=True)
            ),
            source_error=state.last_error if state is not None and failing else None,
            failing_since=state.failing_since if state is not None else None,
            silenced_until=state.silenced_until if state is not None else None,
            silenced_by=state.silenced_by if state is not None else None,
            silence_reason=state.silence_reason if state is not None else None,
        )

    async def status(self, user_id: str, tenant: Tenant, lang: str, public: bool) -> Answer:
        await self.ctx.audit("status", "shown", user_id=user_id, tenant=tenant.name)
        facts = await self.facts(tenant)
        message = render_status(facts, lang, tz=self.ctx.settings.tz, now=self.ctx.clock())
        return Answer(message.text, message.blocks, public=public)

    async def history(self, user_id: str, tenant: Tenant, count: int, lang: str) -> Answer:
        await self.ctx.audit("history", "shown", user_id=user_id, tenant=tenant.name)
        cycles = await asyncio.to_thread(self.ctx.store.recent_cycles, tenant.name, count)
        message = render_history(
            tenant.name, cycles, lang, tz=self.ctx.settings.tz, now=self.ctx.clock()
        )
        return Answer(message.text, message.blocks)

    # -- the App Home ------------------------------------------------------------------------------

    async def home_view(self, user_id: str) -> dict[str, Any]:
        person = await self.access.person(user_id)
        parts: list[tuple[StatusFacts, list[Snapshot]]] = []
        for tenant in self.ctx.settings.tenants:
            facts = await self.facts(tenant)
            recent = await asyncio.to_thread(self.ctx.store.recent_cycles, tenant.name, 5)
            parts.append((facts, recent))
        return render_home(parts, person.lang, tz=self.ctx.settings.tz, now=self.ctx.clock())

    async def publish_home(self, user_id: str) -> None:
        """Show this person's Home tab, and keep it fresh after every change from now on."""
        self._home_viewers.add(user_id)
        await publish_home(self.client, user_id, await self.home_view(user_id))

    def refresh_homes(self) -> None:
        for user_id in list(self._home_viewers):
            self.ctx.background(self.publish_home(user_id))
