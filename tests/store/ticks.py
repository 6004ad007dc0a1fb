"""The timer's pass over maintenance windows, as `bot.app.windows` makes it, for store tests:
the calendar and the recorded quiet compared in the core, the result written by the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import quiet
from bot.core.maintenance import Window, active_window
from bot.store import Store
from bot.store.silences import Ended, Quiet

OSLO = ZoneInfo("Europe/Oslo")


def announced(channel: str, begun: list[tuple[str, quiet.Begin]]) -> dict[str, Any]:
    return {"text": "began: " + ", ".join(tenant for tenant, _ in begun)}


def summed_up(channel: str, ended: list[Ended]) -> dict[str, Any]:
    return {"text": "; ".join(f"{e.tenant}: {[a.step for a in e.told]}" for e in ended)}


def tick(
    store: Store,
    now: datetime,
    windows: Mapping[str, Sequence[Window]] | None = None,
    channels: Mapping[str, Sequence[str]] | None = None,
    *,
    summarize: Any = summed_up,
    announce: Any = announced,
) -> tuple[list[str], list[str]]:
    """One pass at `now` over the tenants of `windows` (and every tenant the store knows):
    the tenants whose quiet it began and ended."""
    recorded = {q.tenant: q for q in store.quiet_states()}
    windows = windows or {}
    changes: dict[str, list[quiet.Change]] = {}
    for tenant in sorted({*recorded, *windows}):
        was = recorded.get(tenant) or Quiet(tenant, None, None, None, None)
        own = windows.get(tenant, ())
        found = quiet.tenant_changes(
            own,
            OSLO,
            planned=active_window(own, now, OSLO),
            since=was.since,
            until=was.until,
            silenced_since=was.silenced_since,
            silenced_until=was.silenced_until,
            now=now,
        )
        if found:
            changes[tenant] = found
            recorded[tenant] = was
    if not changes:
        return [], []
    channels = channels or {tenant: ["C1"] for tenant in changes}
    return store.apply_quiet(
        changes, recorded, now, channels, announce=announce, summarize=summarize
    )
