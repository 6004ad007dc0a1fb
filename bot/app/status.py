"""Status, history and the App Home: what the cycle looks like now, read from the store.

Each person's Home tab shows the tenants they may see (`Access.visible`), and a change of one
tenant refreshes only the open Home tabs of those who see it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from slack_sdk.web.async_client import AsyncWebClient

from bot.app.access import Access, MembershipUnknown
from bot.app.context import Answer, Context
from bot.app.windows import Windows
from bot.core.domain import Condition, Snapshot, snapshot_from_dict
from bot.core.i18n import t
from bot.core.lifecycle import AlertState
from bot.core.said import Voice, kept
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

log = logging.getLogger(__name__)

HOME_CYCLES = 5  # the last cycles each tenant shows on the App Home
REFRESH_EVERY = 10.0  # seconds: one person's Refresh rereads every tenant at most this often

HomePart = tuple[StatusFacts, list[Snapshot]]


def _unshown(tenant: str, error: Exception) -> None:
    log.error(
        "[%s] the App Home cannot show this tenant: %s: %s", tenant, type(error).__name__, error
    )


class Status:
    def __init__(
        self, ctx: Context, access: Access, client: AsyncWebClient, windows: Windows
    ) -> None:
        self.ctx = ctx
        self.access = access
        self.client = client
        self.windows = windows
        self._home_viewers: set[str] = set()
        self._refreshed: dict[str, float] = {}  # person -> when their Refresh last reread

    async def facts(self, tenant: Tenant) -> StatusFacts:
        return (await self._read(tenant))[0]

    async def _read(self, tenant: Tenant) -> tuple[StatusFacts, list[Snapshot]]:
        """The tenant's status, and its recent cycles newest first (read for the last
        successful one; the App Home shows the first few)."""
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
        window, following = self.windows.now_and_next(tenant, self.ctx.clock())
        facts = StatusFacts(
            tenant=tenant.name,
            snapshot=snapshot,
            last_success=next((c.ended_at for c in recent if c.all_completed), None),
            alerts=tuple(
                AlertLink(a.step, Condition(a.condition), link, AlertState(a.state))
                for a, link in zip(alerts, links, strict=True)
            ),
            source_error=(
                kept(state.last_error_said, state.last_error, Voice.BOT)
                if state is not None and failing
                else None
            ),
            failing_since=state.failing_since if state is not None else None,
            silenced_until=state.silenced_until if state is not None else None,
            silenced_by=state.silenced_by if state is not None else None,
            silence_reason=state.silence_reason if state is not None else None,
            silenced_since=state.silenced_since if state is not None else None,
            window_until=window.end if window is not None else None,
            next_window=(following.start, following.end) if following is not None else None,
        )
        return facts, recent

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

    async def _home_parts(self, tenants: list[Tenant]) -> dict[str, HomePart]:
        """Each tenant's status and last cycles, as a Home tab shows them."""
        parts = {}
        for tenant in tenants:
            facts, recent = await self._read(tenant)
            parts[tenant.name] = (facts, recent[:HOME_CYCLES])
        return parts

    async def _publish(
        self, user_id: str, tenants: list[Tenant], parts: dict[str, HomePart]
    ) -> None:
        person = await self.access.person(user_id)
        shown = [parts[tenant.name] for tenant in tenants if tenant.name in parts]
        note = None if tenants else t(person.lang, "access.none")
        view = render_home(
            shown,
            person.lang,
            tz=self.ctx.settings.tz,
            now=self.ctx.clock(),
            note=note,
            failed=_unshown,
        )
        await publish_home(self.client, user_id, view)

    async def publish_home(self, user_id: str) -> None:
        """Show this person's Home tab with the tenants they may see, and keep it fresh after
        every change of those from now on."""
        self._home_viewers.add(user_id)
        try:
            tenants = await self.access.visible(user_id)
        except MembershipUnknown:
            lang = (await self.access.person(user_id)).lang
            view = render_home(
                [],
                lang,
                tz=self.ctx.settings.tz,
                now=self.ctx.clock(),
                note=t(lang, "access.unknown"),
            )
            await publish_home(self.client, user_id, view)
            return
        await self._publish(user_id, tenants, await self._home_parts(tenants))

    async def refresh_home(self, user_id: str) -> None:
        """The Home tab's Refresh button. Each click rereads every tenant, so one person gets
        it at most once per REFRESH_EVERY seconds; their tab is kept fresh after every change
        anyway."""
        now = time.monotonic()
        if now - self._refreshed.get(user_id, -REFRESH_EVERY) < REFRESH_EVERY:
            return
        self._refreshed = {u: at for u, at in self._refreshed.items() if now - at < REFRESH_EVERY}
        self._refreshed[user_id] = now
        await self.publish_home(user_id)

    def refresh_homes(self, tenant: str | None = None) -> None:
        """The open Home tabs again: of those who see `tenant` when given, else all."""
        if self._home_viewers:
            self.ctx.background(self._refresh_homes(tenant))

    def refresh_home_of(self, user_id: str) -> None:
        """One person's Home tab again, if they have looked at it (their channels changed)."""
        if user_id in self._home_viewers:
            self.ctx.background(self.publish_home(user_id))

    async def _refresh_homes(self, changed: str | None) -> None:
        """The open Home tabs that show what changed, from one read of each tenant (and one
        permalink per open alert) for all of them, not one per person. A person whose
        channels Slack does not say now keeps the tab they have."""
        viewers: dict[str, list[Tenant]] = {}
        for user in list(self._home_viewers):
            try:
                tenants = await self.access.visible(user, recheck=False)
            except MembershipUnknown:
                continue
            if changed is None or any(tenant.name == changed for tenant in tenants):
                viewers[user] = tenants
        wanted = {tenant.name: tenant for tenants in viewers.values() for tenant in tenants}
        parts = await self._home_parts(list(wanted.values()))
        await asyncio.gather(
            *(self._publish(user, tenants, parts) for user, tenants in viewers.items())
        )
