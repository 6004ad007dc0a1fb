"""Maintenance windows on the timer: every tick, each tenant's calendar (MAINTENANCE or its
own `maintenance`) and its silence typed by hand are compared with the quiet the store
recorded; what begins is told (one notice per channel), what ends is summed up (one summary
per channel) and what it kept back is posted, through the storm rule like any new alert.

Also the calendar (`Calendar`) that polls, the timer and the status views ask: the window a
tenant is in, and the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from bot.app.context import Context
from bot.core import metrics, quiet
from bot.core.domain import Condition
from bot.core.maintenance import Occurrence, Window, active_window, next_window
from bot.core.quiet import Begin
from bot.core.settings import Tenant
from bot.slack.render import Came, CameAndWent, WindowTold, window_began, window_summary
from bot.store.silences import Ended, Payload, Quiet

log = logging.getLogger(__name__)


class Calendar:
    """The maintenance window a list of windows is in at an instant, remembered until that
    window ends or the next begins: every poll of every tenant asks, and the answer changes
    only at those instants (so a thousand tenants sharing MAINTENANCE cost one look-up, not a
    thousand)."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._known: dict[tuple[Window, ...], tuple[datetime, datetime, Occurrence | None]] = {}
        self._next: dict[tuple[Window, ...], tuple[datetime, datetime, Occurrence | None]] = {}

    def at(self, windows: Sequence[Window], now: datetime) -> Occurrence | None:
        if not windows:
            return None
        key = tuple(windows)
        known = self._known.get(key)
        if known is not None and known[0] <= now < known[1]:
            return known[2]
        found = active_window(windows, now, self.tz)
        if found is not None:
            self._known[key] = (found.start, found.end, found)
        else:
            following = next_window(windows, now, self.tz)
            until = following.start if following is not None else now + timedelta(days=1)
            self._known[key] = (now, until, None)
        return found

    def following(self, windows: Sequence[Window], now: datetime) -> Occurrence | None:
        """The next window after `now` and after the one it is in, remembered until it begins
        (the status views ask for every tenant)."""
        if not windows:
            return None
        key = tuple(windows)
        known = self._next.get(key)
        if known is not None and known[0] <= now < known[1]:
            return known[2]
        found = next_window(windows, now, self.tz)
        self._next[key] = (now, found.start if found else now + timedelta(days=1), found)
        return found


class Windows:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.calendar = Calendar(ctx.settings.tz)

    # -- the calendar ----------------------------------------------------------------------------

    def now_and_next(
        self, tenant: Tenant, now: datetime
    ) -> tuple[Occurrence | None, Occurrence | None]:
        """The tenant's maintenance window at `now` (None outside one) and the next one."""
        windows = self.ctx.settings.maintenance_windows(tenant)
        return self.calendar.at(windows, now), self.calendar.following(windows, now)

    def window_at(self, tenant: Tenant, now: datetime) -> Occurrence | None:
        return self.calendar.at(self.ctx.settings.maintenance_windows(tenant), now)

    # -- the timer --------------------------------------------------------------------------------

    async def tick(self) -> None:
        """Begin and end every tenant's stretch of quiet that is due, in one transaction."""
        settings, now = self.ctx.settings, self.ctx.clock()
        recorded = {q.tenant: q for q in await asyncio.to_thread(self.ctx.store.quiet_states)}
        changes: dict[str, list[quiet.Change]] = {}
        for tenant in settings.tenants:
            was = recorded.get(tenant.name) or Quiet(tenant.name, None, None, None, None)
            windows = settings.maintenance_windows(tenant)
            found = quiet.tenant_changes(
                windows,
                settings.tz,
                planned=self.calendar.at(windows, now),
                since=was.since,
                until=was.until,
                silenced_since=was.silenced_since,
                silenced_until=was.silenced_until,
                now=now,
            )
            if found:
                changes[tenant.name] = found
                recorded[tenant.name] = was
        if not changes:
            return
        begun, ended = await asyncio.to_thread(
            self.ctx.store.apply_quiet,
            changes,
            recorded,
            now,
            {t.name: t.all_channels for t in settings.tenants},
            announce=self.announce,
            summarize=self.summarize,
        )
        for event, tenants in (("began", begun), ("ended", ended)):
            if tenants:
                metrics.WINDOWS.labels(event=event).inc(len(tenants))
                more = f" and {len(tenants) - 10} more" if len(tenants) > 10 else ""
                log.info("maintenance window %s for %s%s", event, ", ".join(tenants[:10]), more)
        if begun or ended:
            self.ctx.kick()

    # -- what the channels are told ---------------------------------------------------------------

    def _language(self, tenants: Sequence[str]) -> str:
        """A channel's notice speaks the language of the first of its tenants in it."""
        first = self.ctx.settings.tenant(tenants[0]) if tenants else None
        return first.language if first is not None else self.ctx.settings.language

    def announce(self, channel: str, begun: list[tuple[str, Begin]]) -> Payload:
        now, tz = self.ctx.clock(), self.ctx.settings.tz
        lang = self._language([tenant for tenant, _ in begun])
        ends = [(tenant, begin.end) for tenant, begin in begun]
        return {"text": window_began(ends, lang, tz=tz, now=now)}

    def summarize(self, channel: str, ended: list[Ended]) -> Payload:
        now, tz = self.ctx.clock(), self.ctx.settings.tz
        lang = self._language([item.tenant for item in ended])
        told = [
            WindowTold(
                tenant=item.tenant,
                start=item.since,
                end=item.ended_at,
                alerts=[
                    CameAndWent(
                        since=alert.since or alert.opened_at or now,
                        step=alert.step,
                        condition=Condition(alert.condition),
                        came=_came(alert.resolved_at is not None, alert.silenced),
                    )
                    for alert in item.told
                ],
            )
            for item in ended
        ]
        return {"text": window_summary(told, lang, tz=tz, now=now)}


def _came(resolved: bool, silenced: bool) -> Came:
    if resolved:
        return Came.RESOLVED
    return Came.OPEN if silenced else Came.CHANGED
