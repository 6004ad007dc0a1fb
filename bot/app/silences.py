"""The silence typed by hand: `/eadm silence` for a while from now or planned ahead on a date,
and `/eadm unsilence`, which ends only that one (a maintenance window of the calendar keeps
its own hours). Their ends are told by `bot.app.windows`, like a window's."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.app.access import Access
from bot.app.context import Answer, Context
from bot.app.windows import Windows
from bot.core.i18n import t
from bot.core.maintenance import Window
from bot.core.settings import Tenant
from bot.slack.render import escape, fmt_time, fmt_until, one_line, outside
from bot.store.silences import Unsilenced
from bot.store.tables import TenantState

REASON_MAX = 300  # characters of a silence's reason kept


class Silences:
    def __init__(self, ctx: Context, access: Access, windows: Windows) -> None:
        self.ctx = ctx
        self.access = access
        self.windows = windows

    async def silence(
        self, user_id: str, tenant_name: str | None, seconds: int, reason: str | None
    ) -> Answer:
        """Silence the tenant from now for `seconds`."""
        allowed = await self.access.to_tenant(user_id, "silence", tenant_name)
        if isinstance(allowed, Answer):
            return allowed
        now = self.ctx.clock()
        until = now + timedelta(seconds=seconds)
        return await self._silence(
            user_id, allowed.tenant, allowed.person.lang, now, until, reason, now
        )

    async def plan(
        self, user_id: str, tenant_name: str | None, window: Window, reason: str | None
    ) -> Answer:
        """Silence the tenant on a date, at the times of `window` (in TIMEZONE), planned ahead;
        one that has begun already runs from now."""
        allowed = await self.access.to_tenant(user_id, "silence", tenant_name)
        if isinstance(allowed, Answer):
            return allowed
        tenant, lang = allowed.tenant, allowed.person.lang
        tz, now = self.ctx.settings.tz, self.ctx.clock()
        assert window.on is not None
        found = window.occurrence(window.on, tz)
        if found is None:  # wholly inside the hour a change to summer time skips
            return Answer(t(lang, "silence.bad_plan"))
        if found.end <= now:
            await self._audit(user_id, tenant, "past", window.text)
            start = f"{window.on:%d.%m} {_clock(window.start)}"
            return Answer(t(lang, "silence.past", start=start, end=_clock(window.end)))
        state = await asyncio.to_thread(self.ctx.store.tenant_state, tenant.name)
        running = _running(state, now)
        if found.start > now and running is not None and found.start > running[1]:
            until = fmt_time(running[1], tz, now)
            return Answer(t(lang, "silence.busy", tenant=escape(tenant.name), until=until))
        if running is not None:  # it begins before the running one ends: that one grows
            until = max(found.end, running[1])
            return await self._silence(user_id, tenant, lang, now, until, reason, now)
        return await self._silence(
            user_id, tenant, lang, max(found.start, now), found.end, reason, now
        )

    async def _silence(
        self,
        user_id: str,
        tenant: Tenant,
        lang: str,
        start: datetime,
        until: datetime,
        reason: str | None,
        now: datetime,
    ) -> Answer:
        tz = self.ctx.settings.tz
        # Typed by a person: cut, then redacted with the tenant's patterns too.
        reason = tenant.redactor.within(reason, REASON_MAX) if reason else None
        before = await asyncio.to_thread(self.ctx.store.tenant_state, tenant.name)
        await asyncio.to_thread(
            self.ctx.store.silence, tenant.name, start, until, reason, user_id, now
        )
        planned = start > now
        detail = f"{'from ' + start.isoformat() + ' ' if planned else ''}until {until.isoformat()}"
        await self._audit(user_id, tenant, "done", f"{detail}: {reason or ''}")
        words = {
            "user": user_id,
            "tenant": escape(tenant.name),
            "until": fmt_time(until, tz, now),
            "start": fmt_time(start, tz, now),
            "end": fmt_time(until, tz, now),
            "reason": f" ({outside(one_line(reason), REASON_MAX, lang)})" if reason else "",
        }
        key = "silence.planned" if planned else "silence.started"
        channel_text = t(tenant.language, key, **words)
        for channel in tenant.all_channels:  # each channel that hears its alerts hears why not
            await asyncio.to_thread(
                self.ctx.store.owe_notice, tenant.name, channel, {"text": channel_text}, now
            )
        self.ctx.kick(tenant.name)
        answer = t(lang, key, **words)
        replaced = _planned_ahead(before, now)
        if replaced is not None and replaced != (start, until):
            old_start, old_end = (fmt_time(at, tz, now) for at in replaced)
            answer += "\n" + t(lang, "silence.replaced", start=old_start, end=old_end)
        return Answer(answer)

    async def unsilence(self, user_id: str, tenant_name: str | None) -> Answer:
        """End the silence typed by hand, or call off the one planned ahead."""
        allowed = await self.access.to_tenant(user_id, "unsilence", tenant_name)
        if isinstance(allowed, Answer):
            return allowed
        tenant, lang = allowed.tenant, allowed.person.lang
        tz, now = self.ctx.settings.tz, self.ctx.clock()
        state = await asyncio.to_thread(self.ctx.store.tenant_state, tenant.name)
        planned = _planned_ahead(state, now)
        window = self.windows.window_at(tenant, now)
        result = await asyncio.to_thread(
            self.ctx.store.end_silence,
            tenant.name,
            now,
            window,
            tenant.all_channels,
            self.windows.summarize,
        )
        await self.ctx.audit(
            "unsilence",
            "done" if result is not Unsilenced.NOT_SILENCED else "not_silenced",
            user_id=user_id,
            tenant=tenant.name,
        )
        if result is not Unsilenced.NOT_SILENCED:
            self.ctx.kick(tenant.name)
        words: dict[str, str] = {"tenant": escape(tenant.name)}
        if window is not None:
            words["end"] = fmt_until(window.end, tz, now)
        match result:
            case Unsilenced.ENDED:
                return Answer(t(lang, "silence.ended", **words))
            case Unsilenced.CANCELLED:
                assert planned is not None
                start, end = (fmt_time(at, tz, now) for at in planned)
                return Answer(t(lang, "silence.cancelled", start=start, end=end, **words))
            case Unsilenced.WINDOW_GOES_ON:
                return Answer(t(lang, "silence.window_goes_on", **words))
        key = "silence.only_window" if window is not None else "silence.not_silenced"
        return Answer(t(lang, key, **words))

    async def _audit(self, user_id: str, tenant: Tenant, result: str, detail: str) -> None:
        await self.ctx.audit("silence", result, user_id=user_id, tenant=tenant.name, detail=detail)


def _running(state: TenantState | None, now: datetime) -> tuple[datetime, datetime] | None:
    """The silence typed by hand that runs at `now`, its start and end."""
    if state is None or state.silenced_until is None or state.silenced_until <= now:
        return None
    since = state.silenced_since or now
    return (since, state.silenced_until) if since <= now else None


def _planned_ahead(state: TenantState | None, now: datetime) -> tuple[datetime, datetime] | None:
    """The silence typed by hand that is yet to begin, its start and end."""
    if state is None or state.silenced_since is None or state.silenced_until is None:
        return None
    return (state.silenced_since, state.silenced_until) if state.silenced_since > now else None


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
