"""What a channel is told about maintenance windows: the notice when one begins, and the
summary of what came and went when it ends, each one message for all of the channel's tenants
in it. Quiet on purpose: no mention in either. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum

from bot.core.domain import Condition
from bot.core.i18n import t, t_count
from bot.slack.render.formatting import escape, fmt_time, fmt_until, title

SUMMARY_LINES = 30  # alerts a summary lists; the rest are counted


class Came(StrEnum):
    """How an alert the summary lists stands when the window ends."""

    OPEN = "summary_open"  # opened in the window, still in trouble: its alert follows
    RESOLVED = "summary_resolved"  # recovered before the window ended
    CHANGED = "summary_changed"  # shown before the window, changed in it: redrawn now


@dataclass(frozen=True, slots=True)
class CameAndWent:
    since: datetime
    step: str | None
    condition: Condition
    came: Came


@dataclass(frozen=True, slots=True)
class WindowTold:
    """One tenant's window that ended, and what came and went in it."""

    tenant: str
    start: datetime
    end: datetime
    alerts: Sequence[CameAndWent]


def window_began(
    ends: Sequence[tuple[str, datetime]], lang: str, *, tz: tzinfo, now: datetime
) -> str:
    """The notice in a channel when its tenants' windows begin: `ends` names each tenant
    and when its window ends, in the order they are to be named."""
    by_end: dict[str, list[str]] = {}
    for tenant, end in ends:
        by_end.setdefault(fmt_until(end, tz, now), []).append(escape(tenant))
    if len(by_end) == 1:
        ((end, tenants),) = by_end.items()
        return t(lang, "window.began", tenants=", ".join(tenants), end=end)
    lines = [t(lang, "window.began_some")]
    lines += [t(lang, "window.until", tenants=", ".join(ts), end=end) for end, ts in by_end.items()]
    return "\n".join(lines)


def window_summary(told: Sequence[WindowTold], lang: str, *, tz: tzinfo, now: datetime) -> str:
    """The summary in a channel when its tenants' windows end: for one tenant, its window and
    what came and went; for several, the tenants that had nothing in one line and the others
    each with their alerts, at most `SUMMARY_LINES` alerts in all."""
    if len(told) == 1:
        return "\n".join(_one(told[0], lang, tz, now, SUMMARY_LINES))
    start = min(w.start for w in told)
    end = max(w.end for w in told)
    lines = [
        t(
            lang,
            "window.over_some",
            count=len(told),
            start=fmt_time(start, tz, now),
            end=fmt_time(end, tz, now),
        )
    ]
    calm = [escape(w.tenant) for w in told if not w.alerts]
    if calm:
        lines.append(t(lang, "window.quiet_ones", tenants=", ".join(calm)))
    room = SUMMARY_LINES
    for window in told:
        if not window.alerts:
            continue
        name = escape(window.tenant)
        lines.append(t_count(lang, "window.tenant_some", len(window.alerts), tenant=name))
        lines += _alerts(window.alerts, lang, tz, now, room)
        room = max(0, room - len(window.alerts))
    return "\n".join(lines)


def _one(window: WindowTold, lang: str, tz: tzinfo, now: datetime, room: int) -> list[str]:
    lines = [
        t(
            lang,
            "silence.summary",
            tenant=escape(window.tenant),
            start=fmt_time(window.start, tz, now),
            end=fmt_time(window.end, tz, now),
        )
    ]
    if not window.alerts:
        return [*lines, t(lang, "silence.summary_none")]
    lines.append(t_count(lang, "silence.summary_some", len(window.alerts)))
    return lines + _alerts(window.alerts, lang, tz, now, room)


def _alerts(
    alerts: Sequence[CameAndWent], lang: str, tz: tzinfo, now: datetime, room: int
) -> list[str]:
    lines = [
        f"• {fmt_time(a.since, tz, now)} {escape(title(a.condition, a.step, lang))} "
        f"({t(lang, f'silence.{a.came.value}')})"
        for a in alerts[:room]
    ]
    if len(alerts) > room:
        lines.append(t(lang, "window.more", count=len(alerts) - room))
    return lines
