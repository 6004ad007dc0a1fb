"""Who may see and who may act: the one place every surface and every action asks.

With several tenants a person sees a tenant when they are a global admin, one of its own
admins, or in one of its channels (`bot.core.visibility`); with one tenant, everyone does. A
tenant a person does not see is never named to them, nor are its admins. Acting needs an
admin on top. An action names its tenant (and, from a button, its alert by ID; nothing else in
a Slack payload is trusted). Every refusal is audited and comes back as the answer to show.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.app.context import Answer, Context
from bot.core import visibility
from bot.core.i18n import t
from bot.core.inputs import parse_id
from bot.core.settings import Tenant
from bot.slack.membership import Membership, MembershipUnknown
from bot.slack.people import People, Person
from bot.slack.render import code
from bot.store.tables import Alert

__all__ = ["Access", "Allowed", "MembershipUnknown"]


@dataclass(frozen=True, slots=True)
class Allowed:
    """Who acts, on which tenant, and on which alert when a button named one."""

    person: Person
    tenant: Tenant
    alert: Alert | None = None


class Access:
    def __init__(self, ctx: Context, people: People, membership: Membership) -> None:
        self.ctx = ctx
        self.people = people
        self.membership = membership

    async def person(self, user_id: str) -> Person:
        return await self.people.person(user_id)

    # -- who sees what --------------------------------------------------------------------------

    @property
    def everyone_sees(self) -> bool:
        """Exactly one tenant: the whole workspace sees it, as a municipality's own does."""
        return len(self.ctx.settings.tenants) <= 1

    async def channels(self, tenant: Tenant) -> frozenset[str]:
        """The IDs of the tenant's channels."""
        return await self.membership.channel_ids(tenant.all_channels)

    async def sees(self, user_id: str, tenant: Tenant) -> bool:
        """Whether the person may see the tenant. Raises MembershipUnknown when that turns on
        channels Slack does not say."""
        return tenant.name in {t.name for t in await self.visible(user_id, [tenant])}

    async def visible(
        self, user_id: str, among: list[Tenant] | None = None, *, recheck: bool = True
    ) -> list[Tenant]:
        """The tenants (of `among`, default all) the person may see, in the settings' order.
        `recheck`: read the person's channels again (at most once a minute) before leaving a
        tenant out. Raises MembershipUnknown when Slack does not say which channels they are
        in."""
        tenants = self.ctx.settings.tenants if among is None else among
        if self.everyone_sees or await self.people.is_admin(user_id):
            return list(tenants)
        admin_of = {t.name for t in tenants if await self.people.is_admin(user_id, t)}
        others = [t for t in tenants if t.name not in admin_of]
        seen = await self._by_channels(user_id, others, recheck)
        return [t for t in tenants if t.name in admin_of or t.name in seen]

    async def _by_channels(self, user_id: str, tenants: list[Tenant], recheck: bool) -> set[str]:
        if not tenants:
            return set()
        wanted = {t.name: await self.channels(t) for t in tenants}
        total = len(self.ctx.settings.tenants)
        for again in (False, True) if recheck else (False,):
            member_of = await self.membership.of(user_id, recheck=again)
            seen = {
                name
                for name, channels in wanted.items()
                if visibility.sees(
                    tenants_watched=total,
                    global_admin=False,
                    tenant_admin=False,
                    tenant_channels=channels,
                    member_of=member_of,
                )
            }
            if len(seen) == len(wanted):
                break  # a refusal, and only a refusal, reads the channels again
        return seen

    async def names_seen(self, user_id: str) -> list[str]:
        return [t.name for t in await self.visible(user_id)]

    # -- refusals that name nothing the person may not see ------------------------------------

    def unknown(self, lang: str) -> Answer:
        """Slack did not say which channels the person is in."""
        return Answer(t(lang, "access.unknown"))

    async def refuse_unknown(self, user_id: str, action: str, lang: str) -> Answer:
        await self.ctx.audit(action, "refused_unknown", user_id=user_id)
        return self.unknown(lang)

    async def hidden(self, user_id: str, lang: str, name: str) -> str:
        """What a person is told for a tenant they may not see: what a name nobody watches
        gets, with the tenants they do see."""
        try:
            names = await self.names_seen(user_id)
        except MembershipUnknown:
            names = []
        if names:
            return t(lang, "command.tenant_unknown", name=code(name), names=code(", ".join(names)))
        return t(lang, "command.tenant_unknown_none", name=code(name))

    # -- acting ---------------------------------------------------------------------------------

    async def to_tenant(
        self, user_id: str, action: str, tenant_name: str | None
    ) -> Allowed | Answer:
        """May this person do `action` on the named tenant?"""
        person = await self.person(user_id)
        tenant = self.ctx.settings.tenant(tenant_name)
        if tenant is None:
            return Answer(t(person.lang, "answer.gone"))
        try:
            seen = await self.sees(person.id, tenant)
        except MembershipUnknown:
            return await self.refuse_unknown(person.id, action, person.lang)
        if not seen:
            await self.ctx.audit(action, "refused_hidden", user_id=person.id, tenant=tenant.name)
            return Answer(await self.hidden(person.id, person.lang, tenant.name))
        return await self._decide(person, action, tenant, None)

    async def to_alert(
        self, user_id: str, action: str, value: str, *, resolved_ok: bool = False
    ) -> Allowed | Answer:
        """May this person do `action` on the alert a button's value names? A resolved alert
        is refused unless `resolved_ok` (a ticket the person already decided to send)."""
        person = await self.person(user_id)
        alert_id = parse_id(value.split(":", 1)[0])
        if alert_id is None:  # no alert's ID, or one past what the store can hold
            return Answer(t(person.lang, "answer.bad_value"))
        alert = await asyncio.to_thread(self.ctx.store.get_alert, alert_id)
        if alert is None:
            return Answer(t(person.lang, "answer.gone"))
        tenant = self.ctx.settings.tenant(alert.tenant)
        if tenant is None:
            return Answer(t(person.lang, "answer.gone"))
        hidden = await self.alert_hidden(person, action, alert, tenant)
        if hidden is not None:
            return hidden
        if alert.resolved_at is not None and not resolved_ok:
            await self.ctx.audit(
                action, "refused_resolved", user_id=user_id, tenant=alert.tenant, alert_id=alert_id
            )
            return Answer(t(person.lang, "answer.resolved"))
        return await self._decide(person, action, tenant, alert)

    async def alert_hidden(
        self, person: Person, action: str, alert: Alert, tenant: Tenant
    ) -> Answer | None:
        """The refusal for an alert of a tenant the person may not see (audited), or None."""
        try:
            seen = await self.sees(person.id, tenant)
        except MembershipUnknown:
            return await self.refuse_unknown(person.id, action, person.lang)
        if seen:
            return None
        await self.ctx.audit(
            action, "refused_hidden", user_id=person.id, tenant=tenant.name, alert_id=alert.id
        )
        return Answer(t(person.lang, "access.alert_hidden"))

    async def _decide(
        self, person: Person, action: str, tenant: Tenant, alert: Alert | None
    ) -> Allowed | Answer:
        if await self.people.is_admin(person.id, tenant):
            return Allowed(person, tenant, alert)
        # The person sees this tenant: its own admins may be named to them.
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
