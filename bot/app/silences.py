"""Maintenance windows: `/eadm silence` and `unsilence`, and the summary when one ends."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from bot.app.access import Access
from bot.app.context import Answer, Context
from bot.core.domain import Condition
from bot.core.i18n import t
from bot.core.settings import Tenant
from bot.slack.render import fmt_time, title
from bot.store.tables import Alert, TenantState

SUMMARY_LINES = 30  # alerts listed in a window's summary; the rest are counted
REASON_MAX = 300  # characters of a window's reason kept


class Silences:
    def __init__(self, ctx: Context, access: Access) -> None:
        self.ctx = ctx
        self.access = access

    async def silence(
        self, user_id: str, tenant_name: str | None, seconds: int, reason: str | None
    ) -> Answer:
        allowed = await self.access.to_tenant(user_id, "silence", tenant_name)
        if isinstance(allowed, Answer):
            return allowed
        tenant, lang = allowed.tenant, allowed.person.lang
        tz, now = self.ctx.settings.tz, self.ctx.clock()
        until = now + timedelta(seconds=seconds)
        # Typed by a person: cut, then redacted with the tenant's patterns too.
        reason = tenant.redactor.within(reason, REASON_MAX) if reason else None
        await asyncio.to_thread(self.ctx.store.silence, tenant.name, until, reason, user_id, now)
        await self.ctx.audit(
            "silence",
            "done",
            user_id=user_id,
            tenant=tenant.name,
            detail=f"until {until.isoformat()}: {reason or ''}",
        )
        words = {
            "user": user_id,
            "tenant": tenant.name,
            "until": fmt_time(until, tz, now),
            "reason": f" ({reason})" if reason else "",
        }
        channel_text = t(tenant.language, "silence.started", **words)
        await asyncio.to_thread(
            self.ctx.store.owe_notice, tenant.name, tenant.channel, {"text": channel_text}, now
        )
        self.ctx.kick(tenant.name)
        return Answer(t(lang, "silence.started", **words))

    async def unsilence(self, user_id: str, tenant_name: str | None) -> Answer:
        allowed = await self.access.to_tenant(user_id, "unsilence", tenant_name)
        if isinstance(allowed, Answer):
            return allowed
        tenant = allowed.tenant
        ended = await self.end(tenant, early=True)
        await self.ctx.audit(
            "unsilence", "done" if ended else "not_silenced", user_id=user_id, tenant=tenant.name
        )
        key = "silence.ended" if ended else "silence.not_silenced"
        return Answer(t(allowed.person.lang, key, tenant=tenant.name))

    async def end(self, tenant: Tenant, *, early: bool = False) -> bool:
        """End the tenant's window when it is over (or now, if `early`), with its summary."""
        now = self.ctx.clock()
        lang, tz = tenant.language, self.ctx.settings.tz

        def summarize(ended: TenantState, alerts: list[Alert]) -> dict[str, Any]:
            start = ended.silenced_since or now
            lines = [
                t(
                    lang,
                    "silence.summary",
                    tenant=tenant.name,
                    start=fmt_time(start, tz, now),
                    end=fmt_time(ended.silenced_until or now, tz, now),
                )
            ]
            if not alerts:
                lines.append(t(lang, "silence.summary_none"))
            else:
                lines.append(t(lang, "silence.summary_some", count=len(alerts)))
                for alert in alerts[:SUMMARY_LINES]:
                    state = "summary_resolved" if alert.resolved_at else "summary_open"
                    since = fmt_time(alert.since or alert.opened_at or now, tz, now)
                    headline = title(Condition(alert.condition), alert.step, lang)
                    lines.append(f"• {since} {headline} ({t(lang, f'silence.{state}')})")
            return {"text": "\n".join(lines)}

        ended = await asyncio.to_thread(
            self.ctx.store.end_silence, tenant.name, tenant.channel, now, summarize, early=early
        )
        if ended:
            self.ctx.kick(tenant.name)
        return ended
