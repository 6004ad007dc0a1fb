"""In which order the outbox goes to Slack, and which redraws are needless. Pure.

Every pass of delivery looks at all the messages still owed and sends first what a person
in the channel most needs to hear: a maintenance window's or a silence's notice (it says
why alerts do or do not follow), then new alerts (posts, a digest's first post, an
escalation's call), then lines in threads, then redraws of messages already in Slack. Within
a lane, oldest first.

One message in Slack (an alert's copy in a channel, a digest) keeps its own order whatever
the lanes say: nothing about it goes before its post, its thread's lines go in the order they
were owed, and its redraws too, so a reply never goes before its alert's post exists and an
older redraw never after a newer one. A line and a redraw need not wait for each other: the
redraw draws the message as it is when it is sent, whatever was said in the thread. So a
redraw with a newer one of the same message still owed is needless: the newer one alone shows
everything, and the older is marked done without a call.

Lifecycle and `notify` decide what is owed; this decides only the order it goes in, and
delivery's pacing how fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from bot.core.notify import OutboxKind

Thread = tuple[str, int]  # the message in Slack a row is about ("copy", 7), ("digest", 2), ...


class Lane(IntEnum):
    """What kind of news a row is, in the order lanes go."""

    NOTICE = 0  # a window's or a silence's notice: before the alerts it introduces
    POST = 1  # a new message: an alert, a digest's first post, an escalation's call
    REPLY = 2  # a line in a thread
    REDRAW = 3  # a message already in Slack drawn again (chat.update)


@dataclass(frozen=True, slots=True)
class Pending:
    """An outbox row still owed, as ordering needs to know it."""

    id: int
    kind: str  # an OutboxKind's value; a newer version's kind goes last
    channel: str
    thread: Thread | None = None  # None: tied to no message in Slack (a notice)
    due: bool = True  # its time has come (no backoff) and no process holds it
    claimed: bool = False  # a process holds it now: it may be on its way to Slack
    drawn: bool = False  # a digest's row whose digest is already in Slack: a redraw


@dataclass(frozen=True, slots=True)
class Turn:
    row: Pending
    lane: Lane


@dataclass(frozen=True, slots=True)
class Plan:
    turns: list[Turn]  # what may go now, in the order to try it
    superseded: dict[int, int]  # a needless redraw's row ID -> the newer redraw that shows it


_LANES = {
    OutboxKind.NOTICE.value: Lane.NOTICE,
    OutboxKind.POST.value: Lane.POST,
    OutboxKind.ESCALATION.value: Lane.POST,
    OutboxKind.REPLY.value: Lane.REPLY,
    OutboxKind.UPDATE.value: Lane.REDRAW,
}


def lane(row: Pending, *, first_of_digest: bool = True) -> Lane:
    """A row's lane. A digest's row is its first post while the digest is not in Slack and
    no earlier row of it is owed; every other digest row redraws it."""
    if row.kind == OutboxKind.DIGEST.value:
        return Lane.POST if first_of_digest and not row.drawn else Lane.REDRAW
    return _LANES.get(row.kind, Lane.REDRAW)


def plan(pending: Sequence[Pending]) -> Plan:
    """The order to try the owed rows in, and the redraws that need no call."""
    rows = sorted(pending, key=lambda r: r.id)
    lanes: dict[int, Lane] = {}
    digest_seen: set[Thread] = set()
    newest_redraw: dict[Thread, int] = {}
    for row in rows:
        first = row.thread not in digest_seen
        if row.kind == OutboxKind.DIGEST.value and row.thread is not None:
            digest_seen.add(row.thread)
        lanes[row.id] = lane(row, first_of_digest=first)
        if lanes[row.id] is Lane.REDRAW and row.kind in _REDRAWS and row.thread is not None:
            newest_redraw[row.thread] = row.id
    superseded = {
        row.id: newest_redraw[row.thread]
        for row in rows
        if row.thread is not None
        and lanes[row.id] is Lane.REDRAW
        and row.kind in _REDRAWS
        and not row.claimed
        and newest_redraw[row.thread] != row.id
    }
    heads: list[Turn] = []
    seen: set[Thread] = set()  # messages with an older row still owed
    blocked: set[tuple[Thread, str]] = set()  # (message, "all" | "said" | "redraw")
    for row in rows:
        if row.id in superseded:
            continue
        if row.thread is not None:
            queue = _queue(row, lanes[row.id])
            behind = (row.thread, "all") in blocked or (row.thread, queue) in blocked
            behind = behind or (queue == "all" and row.thread in seen)
            seen.add(row.thread)
            blocked.add((row.thread, queue))
            if behind:
                continue  # behind an older row about the same message
        if row.due:
            heads.append(Turn(row, lanes[row.id]))
    heads.sort(key=lambda t: (t.lane, t.row.id))
    return Plan(heads, superseded)


_REDRAWS = {OutboxKind.UPDATE.value, OutboxKind.DIGEST.value}
_SAID = {OutboxKind.REPLY.value, OutboxKind.ESCALATION.value}


def _queue(row: Pending, row_lane: Lane) -> str:
    """Which of its message's orders a row keeps: the message's own post (and a row of a
    kind this version does not know) goes before everything about it; the lines said about
    it (thread replies, escalations) keep their order among themselves, and so do its
    redraws, but a line need not wait for a redraw nor a redraw for a line."""
    if row_lane is Lane.REDRAW and row.kind in _REDRAWS:
        return "redraw"
    if row.kind in _SAID:
        return "said"
    return "all"
