"""Acknowledge and snooze an alert from its buttons."""

from __future__ import annotations

import asyncio

from bot.app.access import Access
from bot.app.context import Answer, Context
from bot.core.i18n import t
from bot.core.inputs import parse_id
from bot.core.lifecycle import AlertState
from bot.core.snooze import snooze_until
from bot.slack.compose import Composer
from bot.slack.render import fmt_time


class Alerts:
    def __init__(self, ctx: Context, access: Access, composer: Composer) -> None:
        self.ctx = ctx
        self.access = access
        self.composer = composer

    async def details(
        self, user_id: str, value: str, channel: str = "", message_ts: str = ""
    ) -> Answer:
        """An alert picked on a storm digest: its own message, with the guide's advice and
        its buttons, shown to the one who picked it. Only an alert of the digest the click
        came from (`channel`, `message_ts`), of a tenant the person sees; the buttons ask
        `Access` as ever."""
        person = await self.access.person(user_id)
        store = self.ctx.store
        alert_id = parse_id(value)
        alert = await asyncio.to_thread(store.get_alert, alert_id) if alert_id else None
        if alert is None or alert.id is None:
            return Answer(t(person.lang, "answer.gone"))
        told = await asyncio.to_thread(store.in_digest_message, alert.id, channel, message_ts)
        if not told:
            await self.ctx.audit(
                "details",
                "refused_not_in_digest",
                user_id=user_id,
                tenant=alert.tenant,
                alert_id=alert.id,
            )
            return Answer(t(person.lang, "answer.bad_value"))
        tenant = self.ctx.settings.tenant(alert.tenant)
        if tenant is None:
            return Answer(t(person.lang, "answer.gone"))
        hidden = await self.access.alert_hidden(person, "details", alert, tenant)
        if hidden is not None:
            return hidden
        message = self.composer.alert_message(alert, self.ctx.clock())
        return Answer(message.text, message.blocks)

    async def acknowledge(self, user_id: str, value: str) -> Answer:
        allowed = await self.access.to_alert(user_id, "ack", value)
        if isinstance(allowed, Answer):
            return allowed
        alert, lang = allowed.alert, allowed.person.lang
        assert alert is not None and alert.id is not None
        if alert.state == AlertState.ACKNOWLEDGED and alert.acked_by:
            await self.ctx.audit(
                "ack", "already", user_id=user_id, tenant=alert.tenant, alert_id=alert.id
            )
            return Answer(t(lang, "answer.already_acked", user=alert.acked_by))
        await asyncio.to_thread(self.ctx.store.acknowledge, alert.id, user_id, self.ctx.clock())
        await self.ctx.audit("ack", "done", user_id=user_id, tenant=alert.tenant, alert_id=alert.id)
        self.ctx.kick(alert.tenant)
        return Answer(t(lang, "answer.acked"))

    async def snooze(self, user_id: str, value: str) -> Answer:
        """`value` is the select's option: "<alert id>:<1h|4h|tomorrow>"."""
        allowed = await self.access.to_alert(user_id, "snooze", value)
        if isinstance(allowed, Answer):
            return allowed
        alert, lang = allowed.alert, allowed.person.lang
        assert alert is not None and alert.id is not None
        now = self.ctx.clock()
        choice = value.split(":", 1)[1] if ":" in value else ""
        until = snooze_until(choice, now, self.ctx.settings.tz)
        if until is None:
            return Answer(t(lang, "answer.bad_value"))
        await asyncio.to_thread(self.ctx.store.snooze, alert.id, user_id, until, now)
        await self.ctx.audit(
            "snooze",
            "done",
            user_id=user_id,
            tenant=alert.tenant,
            alert_id=alert.id,
            detail=until.isoformat(),
        )
        self.ctx.kick(alert.tenant)
        return Answer(t(lang, "answer.snoozed", until=fmt_time(until, self.ctx.settings.tz, now)))
