"""Every use case, built once and wired to each other: what handlers and timers are given.

Handlers call one method of one use case and answer with what it returns; each method that
changes something asks `Access` first, so no entry point can skip it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import Adapters
from bot.app.access import Access
from bot.app.alerts import Alerts
from bot.app.context import Answer, Context
from bot.app.dispatch import Dispatch
from bot.app.event_viewer import EventViewer
from bot.app.polling import PollListener
from bot.app.refusals import Refusals
from bot.app.reruns import Reruns
from bot.app.silences import Silences
from bot.app.status import Status
from bot.app.support import Support
from bot.app.windows import Windows
from bot.core.domain import Snapshot
from bot.core.i18n import t
from bot.core.lifecycle import Decision, Keep
from bot.core.playbook import load_playbook
from bot.core.settings import Settings, Tenant
from bot.slack.compose import Composer
from bot.slack.delivery import Deliverer
from bot.slack.membership import Membership
from bot.slack.payloads import Refused
from bot.slack.people import People
from bot.slack.render import notice_modal
from bot.sources import Source
from bot.store import Store
from bot.store.tables import Rerun

log = logging.getLogger(__name__)


class UseCases:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        client: AsyncWebClient,
        sources: dict[str, Source],
        adapters: Adapters,
        deliverer: Deliverer | None = None,
        composer: Composer | None = None,
    ) -> None:
        """`composer` is the one delivery renders with (the process's playbook and adapters);
        without one, one is made from the settings."""
        composer = composer or Composer(settings, load_playbook(settings.playbook_extra), adapters)
        self.ctx = Context(settings, store, adapters)
        self.refusals = Refusals()
        self.access = Access(self.ctx, People(settings, client), Membership(client))
        self.alerts = Alerts(self.ctx, self.access, composer)
        self.reruns = Reruns(self.ctx, self.access, sources, composer.playbook, client)
        self.support = Support(self.ctx, self.access)
        self.events = EventViewer(self.ctx)
        self.windows = Windows(self.ctx)
        self.silences = Silences(self.ctx, self.access, self.windows)
        self.status = Status(self.ctx, self.access, client, self.windows)
        self.dispatch = Dispatch(self.ctx, self.access, self.status, self.reruns, self.silences)
        if deliverer is not None:
            kick = deliverer.kick
            self.ctx.after_change.append(lambda _tenant: kick())
        self.ctx.after_change.append(self.status.refresh_homes)

    async def aclose(self) -> None:
        await self.events.aclose()
        await self.ctx.aclose()

    # -- requests refused before any use case ----------------------------------------------------

    def refused(self, why: Refused) -> Answer:
        """Count a request Slack would not send, and the short answer for whoever sent it (in
        the bot's language: who asked is not known well enough to look them up)."""
        self.refusals.refuse(why.kind, why.detail, who=why.user)
        return Answer(t(self.ctx.settings.language, why.answer))

    def refused_view(self, why: Refused) -> dict[str, Any]:
        """The same, for a form: a modal in place of the one submitted."""
        return notice_modal(self.refused(why).text, self.ctx.settings.language)

    # -- timers and poll listeners -------------------------------------------------------------

    async def tick(self) -> None:
        """Timers that are not polls: maintenance windows and silences that begin or end,
        rerun deadlines. Both are read once for every tenant, not once per tenant."""
        try:
            await self.windows.tick()
        except Exception:
            log.exception("maintenance windows failed; trying again at the next tick")
        awaiting: list[Rerun] = []
        try:
            awaiting = await self.reruns.awaiting.get(fresh=True)
        except Exception:
            log.exception("could not read the reruns under way; checking them at the next tick")
        for tenant in self.ctx.settings.tenants:
            try:
                await self.reruns.verify(tenant, None, awaiting)
            except Exception:
                log.exception("[%s] timer failed; trying again at the next tick", tenant.name)

    def poll_listeners(self) -> list[PollListener]:
        return [self.on_poll, self.events.on_poll]

    async def on_poll(
        self, tenant: Tenant, snapshot: Snapshot | None, decisions: Sequence[Decision]
    ) -> None:
        await self.reruns.verify(tenant, snapshot)
        if any(not isinstance(d, Keep) for d in decisions):
            self.status.refresh_homes(tenant.name)

    # -- Slack's membership events -------------------------------------------------------------

    def member_joined(self, user_id: str, channel: str) -> None:
        """Someone joined a channel: they may see its tenants now, on their Home tab too."""
        self.access.membership.joined(user_id, channel)
        self.status.refresh_home_of(user_id)

    def member_left(self, user_id: str, channel: str) -> None:
        self.access.membership.left(user_id, channel)
        self.status.refresh_home_of(user_id)
