"""What an alert's changes owe: the notification pipeline, one named decision per stage. Pure.

`lifecycle.plan` says what happened to each of a tenant's alerts on a poll (open, change,
keep, remind, resolve). `outcomes` passes every decision through these stages, in this order,
and returns one `Outcome` for each:

1. `ends_snooze`: a new condition speaks up even through a snooze, and a reminder due after a
   snooze ran out returns the alert to open.
2. `owed`: the messages the decision owes Slack. A new alert is posted; a new condition or a
   resolution redraws the alert's message and says why in its thread; a reminder is a line in
   the thread; an unchanged alert owes nothing.
3. `silenced`: an alert opened inside a maintenance window says nothing until the window ends.

A window's end (`window_over`, `end_window`), people's actions (`acknowledged`, `snoozed`,
`ticket_opened`, `text_reply`) and what Event Viewer says (`events_reply`,
`ignored_start_reply`) have their own functions below. The store writes what these return, and
the messages, in one transaction; it decides nothing. Imports only the core.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.core.domain import Finding, Snapshot
from bot.core.lifecycle import (
    AlertState,
    AlertView,
    Change,
    Decision,
    Keep,
    Open,
    Remind,
    Resolve,
    plan,
)


class OutboxKind(StrEnum):
    """What an outbox row asks of Slack, one owner for the store, these decisions and delivery.
    The values are what the outbox table holds, in rows written by every version, so they
    never change."""

    POST = "post"  # the alert's own message in the channel
    UPDATE = "update"  # the alert's message redrawn in place
    REPLY = "reply"  # a line in the alert's thread (for an alert in a digest: the digest's)
    NOTICE = "notice"  # a channel message tied to no alert (a maintenance window's start)
    DIGEST = "digest"  # a storm digest: posted the first time, redrawn in place after


@dataclass(frozen=True, slots=True)
class Message:
    """A message owed to Slack about one alert. A reply names its words in the message
    catalogue (`msg`, `params`), or carries text its caller has written (`text`)."""

    kind: OutboxKind
    msg: str | None = None
    params: Mapping[str, str | int] = field(default_factory=dict)
    text: str | None = None

    @property
    def payload(self) -> dict[str, Any]:
        if self.text is not None:
            return {"text": self.text}
        if self.msg is not None:
            return {"msg": self.msg, "params": dict(self.params)}
        return {}


POST = Message(OutboxKind.POST)
UPDATE = Message(OutboxKind.UPDATE)
DIGEST = Message(OutboxKind.DIGEST)


def reply(msg: str, **params: str | int) -> Message:
    return Message(OutboxKind.REPLY, msg=msg, params=params)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one lifecycle decision means for its alert and for the channel."""

    decision: Decision
    state: AlertState | None = None  # the alert's new state; None leaves it as it is
    snooze_ended: bool = False  # the snooze is over: forget when it was to end
    silenced: bool = False  # inside a maintenance window: the alert owes nothing
    messages: tuple[Message, ...] = ()


def outcomes(
    alerts: Sequence[AlertView],
    findings: Sequence[Finding],
    snapshot: Snapshot | None,
    *,
    now: datetime,
    remind_after: float,
    window_until: datetime | None,
) -> list[Outcome]:
    """Everything one poll of one tenant changes and owes, in the order it was decided.

    `alerts` are the tenant's unresolved alerts, `window_until` the end of its maintenance
    window (None without one), `snapshot` None when the poll failed."""
    by_id = {alert.id: alert for alert in alerts}
    in_window = window_open(window_until, now)
    result: list[Outcome] = []
    for decision in plan(alerts, findings, snapshot, now=now, remind_after=remind_after):
        alert = None if isinstance(decision, Open) else by_id[decision.alert_id]
        snooze_ended = ends_snooze(decision, alert)
        messages = owed(decision, alert, now)
        quiet = silenced(decision, alert, in_window)
        result.append(
            Outcome(
                decision,
                state=_new_state(decision, snooze_ended),
                snooze_ended=snooze_ended,
                silenced=quiet,
                messages=() if quiet else messages,
            )
        )
    return result


# -- the stages ----------------------------------------------------------------------------


def ends_snooze(decision: Decision, alert: AlertView | None) -> bool:
    """A snooze quiets reminders of the same trouble, not news: a new condition ends it. A
    reminder is only due once the snooze ran out, and it returns the alert to open."""
    if alert is None or alert.state is not AlertState.SNOOZED:
        return False
    return isinstance(decision, Change | Remind)


def owed(decision: Decision, alert: AlertView | None, now: datetime) -> tuple[Message, ...]:
    """The messages a decision owes, before any silence is considered."""
    match decision:
        case Open():
            return (POST,)
        case Change(finding=finding, previous=previous):
            return (
                UPDATE,
                reply("reply.changed", previous=previous.value, condition=finding.condition.value),
            )
        case Remind():
            return (reply("reply.reminder"),)
        case Resolve(resolution=resolution):
            assert alert is not None
            began = alert.since or alert.opened_at
            return (
                UPDATE,
                reply(
                    "reply.resolved",
                    resolution=resolution.value,
                    seconds=int((now - began).total_seconds()),
                ),
            )
        case Keep():
            return ()


def silenced(decision: Decision, alert: AlertView | None, in_window: bool) -> bool:
    """An alert opened inside a maintenance window stays quiet for as long as it lives or
    until the window ends, whichever is first; the window's summary tells of it."""
    if isinstance(decision, Open):
        return in_window
    return alert is not None and alert.silenced


def _new_state(decision: Decision, snooze_ended: bool) -> AlertState | None:
    if isinstance(decision, Resolve):
        return AlertState.RESOLVED
    if snooze_ended:
        return AlertState.OPEN
    return None


# -- maintenance windows --------------------------------------------------------------------


def window_open(until: datetime | None, now: datetime) -> bool:
    return until is not None and until > now


def window_over(until: datetime | None, now: datetime, *, early: bool = False) -> bool:
    """Whether a window ends now: when its time is up, or at once when ended early."""
    return until is not None and (early or until <= now)


@dataclass(frozen=True, slots=True)
class WindowEnd:
    """What a maintenance window's end says and posts."""

    ended_at: datetime  # the window's planned end, or now when it ends early
    hidden: tuple[AlertView, ...]  # the alerts it kept quiet, oldest first: the summary
    reposted: Mapping[int, tuple[Message, ...]]  # still wrong: now ordinary alerts, posted


def end_window(
    since: datetime | None, until: datetime, now: datetime, quiet: Sequence[AlertView]
) -> WindowEnd:
    """`quiet` are the tenant's silenced alerts; those opened since the window began are its
    summary, and those of them still unresolved are posted right after it, with their buttons
    and reminders, as if they had been opened now."""
    start = since or now
    hidden = tuple(
        sorted((a for a in quiet if a.silenced and a.opened_at >= start), key=lambda a: a.id)
    )
    return WindowEnd(
        ended_at=min(until, now),
        hidden=hidden,
        reposted={a.id: (POST,) for a in hidden if a.resolved_at is None},
    )


# -- people's actions -----------------------------------------------------------------------


def acknowledged(alert: AlertView, user_id: str) -> tuple[Message, ...] | None:
    """The message shows who is on it. None when it already was acknowledged."""
    if alert.state is AlertState.ACKNOWLEDGED:
        return None
    return (UPDATE, reply("reply.acknowledged", user=user_id))


def snoozed(user_id: str, until: datetime) -> tuple[Message, ...]:
    return (UPDATE, reply("reply.snoozed", user=user_id, until=until.isoformat()))


def ticket_opened(user_id: str, ref: str, url: str | None) -> tuple[Message, ...]:
    return (UPDATE, reply("reply.ticket", user=user_id, ref=ref, url=url or ""))


EVENTS_REPLY = "events.reply"  # rendered from the Event Viewer reading kept with the alert


def events_reply(alert: AlertView) -> tuple[Message, ...]:
    """The thread's *What Event Viewer says*, written from the reading kept with the alert
    when it is sent. A silenced alert has no thread yet; an alert told in a storm digest is
    not told there either (the digest's thread would not say whose events they are)."""
    if alert.silenced:
        return ()
    return (reply(EVENTS_REPLY),)


def ignored_start_reply(alert: AlertView, when: datetime) -> tuple[Message, ...]:
    """A start Task Scheduler ignored while the alert's run (not completing) still went on,
    found after the alert was told: the hung run now also blocks the schedule."""
    if alert.silenced:
        return ()
    return (reply("events.ignored_while_running", time=when.isoformat()),)


def text_reply(alert: AlertView, text: str) -> tuple[Message, ...]:
    """A thread line whose text is written now (rerun progress, a log excerpt). A silenced
    alert has no thread yet, so it owes nothing."""
    if alert.silenced:
        return ()
    return (Message(OutboxKind.REPLY, text=text),)
