"""Storm digests: when many tenants' new alerts are owed to one channel at once, one message
tells them all. Pure: the store asks these functions and writes what they say.

A storm is many tenants at once. A channel's new alerts are looked at over `STORM_WINDOW`
seconds, counted by the tenants they come from. The first goes out at once; an alert that
follows another tenant's inside the window is held back a moment (`HOLD`) so that a storm that
is forming can still take it in. One tenant's own alerts, however many (a cycle failing at
several steps, a restart after an outage), are never held and never open a digest: each is
told with its own advice and buttons. When more than `STORM_AFTER` tenants have new alerts for
the channel within the window, a digest opens: the held alerts not yet sent join it, and so
does every new alert for the channel for as long as they keep coming (each within
`STORM_WINDOW` of the last). The digest is one message, grouped by step and condition, redrawn
in place as its alerts change and green when all recovered.

An alert in a digest has no message of its own in that channel: its redraws become a redraw
of the digest, people's actions on it are told in the digest's thread, and its lifecycle
lines (changed, reminded, resolved) show in the digest itself instead of a thread of their
own. Imports only the core.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.domain import Condition
from bot.core.lifecycle import AlertState
from bot.core.notify import DIGEST, Message, OutboxKind

HOLD = 3.0  # seconds a second new alert in a busy channel waits for a storm to show


@dataclass(frozen=True, slots=True)
class StormRule:
    """STORM_AFTER and STORM_WINDOW: when more than `after` tenants have new alerts for one
    channel within `window` seconds, they are told as one digest."""

    after: int = 5
    window: float = 30.0


class Route(StrEnum):
    POST_NOW = "post_now"  # its own message, at once
    POST_HELD = "post_held"  # its own message, after HOLD seconds unless a digest takes it
    JOIN = "join"  # into the channel's digest, which is gathering
    START = "start"  # opens the channel's digest, with the held alerts not yet sent


def route_new(others: int, gathering: bool, *, after: int) -> Route:
    """Where a new alert for a channel goes. `others` counts the other tenants with new alerts
    for the channel inside the storm window (this alert's own tenant is one more, however
    many alerts it has); `gathering` says whether the channel's digest still takes new alerts.
    Alone, a tenant's alerts are never held and never a storm: a storm is many tenants."""
    if gathering:
        return Route.JOIN
    if others == 0:
        return Route.POST_NOW
    if others + 1 > after:
        return Route.START
    return Route.POST_HELD


def gathering(last_added: datetime | None, now: datetime, window: float) -> bool:
    """A digest takes new alerts while they keep coming, each within `window` of the last."""
    return last_added is not None and (now - last_added).total_seconds() <= window


# Replies that tell of a person's action, or call the next people (an escalation); the
# digest's thread carries them. The rest (changed, reminder, resolved) is what the digest
# shows by itself.
_TOLD_IN_THREAD = {"reply.acknowledged", "reply.snoozed", "reply.ticket", "reply.escalated"}


def in_digest(message: Message) -> Message | None:
    """What a message about an alert in a digest becomes: a redraw of the digest, a line in
    its thread, or nothing."""
    if message.kind is OutboxKind.POST or message.kind is OutboxKind.UPDATE:
        return DIGEST
    if message.text is not None or message.msg in _TOLD_IN_THREAD:
        return message
    return None


# -- what the digest shows ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    """An alert in a digest, as the digest shows it."""

    alert_id: int
    tenant: str
    step: str | None
    condition: Condition
    state: AlertState
    acked_by: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """The digest's alerts of one step and condition, still in trouble first."""

    step: str | None
    condition: Condition
    members: tuple[Member, ...]

    @property
    def tenants(self) -> int:
        return len({m.tenant for m in self.members})

    @property
    def open(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.state is not AlertState.RESOLVED)

    @property
    def recovered(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.state is AlertState.RESOLVED)


@dataclass(frozen=True, slots=True)
class Summary:
    groups: tuple[Group, ...]
    total: int
    open: int

    @property
    def all_recovered(self) -> bool:
        return self.total > 0 and self.open == 0


def summarize(members: Sequence[Member]) -> Summary:
    """Group by step and condition: the biggest group first, each group's tenants by name,
    those still in trouble before those recovered."""
    grouped: dict[tuple[str | None, Condition], list[Member]] = {}
    for member in members:
        grouped.setdefault((member.step, member.condition), []).append(member)

    def order(member: Member) -> tuple[bool, str, int]:
        return (member.state is AlertState.RESOLVED, member.tenant, member.alert_id)

    groups = [
        Group(step, condition, tuple(sorted(found, key=order)))
        for (step, condition), found in grouped.items()
    ]
    groups.sort(key=lambda g: (-len(g.open), -len(g.members), g.step or "", g.condition.value))
    open_count = sum(1 for m in members if m.state is not AlertState.RESOLVED)
    return Summary(tuple(groups), len(members), open_count)


def pickable(summary: Summary, limit: int) -> tuple[Member, ...]:
    """The alerts a picker on the digest offers (Slack takes at most `limit` options): those
    still in trouble, group by group."""
    chosen: list[Member] = []
    for group in summary.groups:
        for member in group.open:
            if len(chosen) == limit:
                return tuple(chosen)
            chosen.append(member)
    return tuple(chosen)
