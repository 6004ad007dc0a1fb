"""When a tenant is quiet: its maintenance windows (`MAINTENANCE`, read by
`bot.core.maintenance`) and its silence typed by hand (`/eadm silence`), together. Pure.

The two add up. The tenant is quiet while either lasts, and one stretch of quiet runs from the
first of them to begin to the last to end, however they overlap or touch: a silence typed
during a window that outlasts it keeps the tenant quiet, and so does a window that begins
before a silence ends. The store remembers the stretch it has begun (`since`, and the `until`
it expected); `changes` compares that with the calendar and the silence now and says what
begins, ends or moves, so that each is told once: a notice when a stretch begins, a summary
and what is still wrong when it ends.

A poll is quiet (`quiet_now`) from the moment the calendar or the silence says so until the
stretch's end has been handled, so nothing slips out between a window's end and its summary.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import NamedTuple, TypeVar

from bot.core.maintenance import Occurrence, Window, active_window

_BEFORE = timedelta(microseconds=1)  # what touches a start from before ends at it
# A silence recorded before its start was (older rows) began at most this long before it ends.
_LONGEST_SILENCE = timedelta(days=8)
T = TypeVar("T")


def silence(start: datetime | None, until: datetime | None) -> Occurrence | None:
    """A silence typed by hand, from the store's columns (one without a recorded start began
    before starts were recorded, which is at most the longest silence ago)."""
    if until is None:
        return None
    return Occurrence(start or until - _LONGEST_SILENCE, until)


def _covers(stretch: Occurrence | None, instant: datetime) -> bool:
    return stretch is not None and stretch.start <= instant < stretch.end


def quiet_now(
    since: datetime | None,
    planned: Occurrence | None,
    typed: Occurrence | None,
    now: datetime,
) -> bool:
    """Whether a poll at `now` keeps quiet: a stretch is recorded as begun and not yet ended,
    or a maintenance window (`planned`, the calendar's one at `now`) or the silence typed by
    hand holds `now`. Costs nothing beyond the calendar look-up the caller made."""
    return since is not None or _covers(planned, now) or _covers(typed, now)


def span(
    windows: Sequence[Window],
    tz: tzinfo,
    typed: Occurrence | None,
    now: datetime,
    planned: Occurrence | None,
) -> Occurrence | None:
    """The stretch of quiet `now` is in: every window and the silence that overlap or touch
    it, joined; None when neither holds `now`. `planned` is the calendar's window at `now`
    (`active_window`, whose chain of windows is joined already), as the caller looked it up."""
    if typed is None:
        return planned if _covers(planned, now) else None
    holding = [o for o in (planned, typed) if _covers(o, now)]
    if not holding:
        return None
    start = min(o.start for o in holding)
    end = max(o.end for o in holding)
    while True:
        found = [typed] if typed.start <= end and typed.end >= start else []
        if windows:
            found += [o for o in (active_window(windows, end, tz),) if o is not None]
            found += [o for o in (active_window(windows, start - _BEFORE, tz),) if o is not None]
        wider_start = min([start, *(o.start for o in found)])
        wider_end = max([end, *(o.end for o in found)])
        if (wider_start, wider_end) == (start, end):
            return Occurrence(start, end)
        start, end = wider_start, wider_end


class Begin(NamedTuple):
    """A stretch of quiet begins: the channel is told, quietly."""

    start: datetime
    end: datetime


class End(NamedTuple):
    """A stretch of quiet is over: its summary, and what is still wrong, posted."""

    since: datetime
    ended_at: datetime


class Moved(NamedTuple):
    """The stretch goes on, and now ends at `until` (a silence made it longer or shorter)."""

    until: datetime


Change = Begin | End | Moved


def changes(
    since: datetime | None, until: datetime | None, current: Occurrence | None, now: datetime
) -> list[Change]:
    """What happened to a tenant's quiet, between the stretch the store recorded (`since`,
    `until`; None when none is) and the one `now` is in (`current`, from `span`). A stretch
    that ended while nobody looked and another that began after it are both told."""
    if since is None:
        return [Begin(current.start, current.end)] if current is not None else []
    ended_at = min(until, now) if until is not None else now
    if current is None:
        return [End(since, ended_at)]
    if until is not None and current.start >= until and current.start > since:
        return [End(since, ended_at), Begin(current.start, current.end)]
    if current.end != until:
        return [Moved(current.end)]
    return []


def tenant_changes(
    windows: Sequence[Window],
    tz: tzinfo,
    *,
    planned: Occurrence | None,
    since: datetime | None,
    until: datetime | None,
    silenced_since: datetime | None,
    silenced_until: datetime | None,
    now: datetime,
) -> list[Change]:
    """`changes` for one tenant, from its calendar (`planned`, its window at `now`) and what
    the store holds of its quiet (the stretch recorded, and the silence typed by hand)."""
    typed = silence(silenced_since, silenced_until)
    return changes(since, until, span(windows, tz, typed, now, planned), now)


def per_channel(
    told: Iterable[tuple[str, T]], channels: Mapping[str, Sequence[str]]
) -> dict[str, list[tuple[str, T]]]:
    """What several tenants have to tell, gathered per channel (each of a tenant's channels),
    so that a channel hears one message for all its tenants at once. Tenants keep the order
    they came in."""
    gathered: dict[str, list[tuple[str, T]]] = {}
    for tenant, item in told:
        for channel in dict.fromkeys(channels.get(tenant, ())):
            gathered.setdefault(channel, []).append((tenant, item))
    return gathered
