"""Who may act: the one place every action asks before it changes anything.

An action names its tenant (and, from a button, its alert by ID; nothing else in a Slack
payload is trusted). A refusal is audited and comes back as the answer to show the person.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.app.context import Answer, Context
from bot.core.i18n import t
from bot.core.settings import Tenant
from bot.slack.people import People, Person
from bot.store.tables import Alert


@dataclass(frozen=True, slots=True)
class Allowed:
    """Who acts, on which tenant, and on which alert when a button named one."""

    person: Person
    tenant: Tenant
    alert: Alert | None = None


class Access:
    def __init__(self, ctx: Context, people: People) -> None:
        self.ctx = ctx
        self.people = people

    async def person(self, user_id: str) -> Person:
        return await self.people.person(user_id)

    async def to_tenant(
        self, user_id: str, action: str, tenant_name: str | None
    ) -> Allowed | Answer:
        """May this person do `action` on the named tenant?"""
        person = await self.person(user_id)
        tenant = self.ctx.settings.tenant(tenant_name)
        if tenant is None:
            return Answer(t(person.lang, "answer.gone"))
        return await self._decide(person, action, tenant, None)

    async def to_alert(
        self, user_id: str, action: str, value: str, *, resolved_ok: bool = False
    ) -> Allowed | Answer:
        """May this person do `action` on the alert a button's value names? A resolved alert
        is refused unless `resolved_ok` (a ticket the person already decided to send)."""
        person = await self.person(user_id)
        try:
            alert_id = int(value.split(":", 1)[0])
        except ValueError:
            return Answer(t(person.lang, "answer.bad_value"))
        alert = await asyncio.to_thread(self.ctx.store.get_alert, alert_id)
        if alert is None:
            return Answer(t(person.lang, "answer.gone"))
        if alert.resolved_at is not None and not resolved_ok:
            await self.ctx.audit(
                action, "refused_resolved", user_id=user_id, tenant=alert.tenant, alert_id=alert_id
            )
            return Answer(t(person.lang, "answer.resolved"))
        tenant = self.ctx.settings.tenant(alert.tenant)
        if tenant is None:
            return Answer(t(person.lang, "answer.gone"))
        return await self._decide(person, action, tenant, alert)

    async def _decide(
        self, person: Person, action: str, tenant: Tenant, alert: Alert | None
    ) -> Allowed | Answer:
        if await self.people.is_admin(person.id, tenant):
            return Allowed(person, tenant, alert)
        who = self.people.who_may_act(person.lang, tenant)
        text = t(person.lang, "auth.refused", who=who) if who else t(person.lang, "auth.nobody")
        await self.ctx.audit(
            action,
            "refused",
            user_id=person.id,
            tenant=tenant.name,
            alert_id=alert.id if alert else None,
        )
        return Answer(text)
