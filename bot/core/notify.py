"""What an alert's changes owe: the notification pipeline, one named decision per stage. Pure.

`lifecycle.plan` says what happened to each of a tenant's alerts on a poll (open, change,
keep, remind, escalate, resolve). `outcomes` passes every decision through these stages, in
this order, and returns one `Outcome` for each:

1. `ends_snooze`: a new condition speaks up even through a snooze, and a reminder due after a
   snooze ran out returns the alert to open.
2. `owed`: the messages the decision owes Slack. A new alert is posted; a new condition or a
   resolution redraws the alert's message and says why in its thread; a reminder is a line in
   the thread; an escalation is a line in the thread that calls ESCALATE_TO (and a short
   message in ESCALATE_CHANNEL, where there is one); an unchanged alert owes nothing.
3. `hush`: while the tenant is quiet (a maintenance window, or a silence typed by hand;
   `bot.core.quiet`) nothing speaks. A new alert is silenced until the quiet ends, the news
   of an alert shown before it is held back for its end, and a reminder or an escalation is
   not due until then (a deadline inside the quiet moves to its end). Once the quiet is over,
   an alert still silenced is posted at once.

The end of a stretch of quiet (`window_over`, `end_window`), whether anything is due for a
tenant at all (`due`), people's actions (`acknowledged`, `snoozed`, `ticket_opened`,
`text_reply`) and what Event Viewer says (`events_reply`, `ignored_start_reply`) have their
own functions below. The store writes what these return, and the messages, in one
transaction; it decides nothing. Imports only the core.
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
    Escalate,
    Keep,
    Open,
    Remind,
    Resolve,
    escalation_due,
    plan,
    reminder_due,
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
    ESCALATION = "escalation"  # in ESCALATE_CHANNEL: who is called, and a link to the alert


@dataclass(frozen=True, slots=True)
class Message:
    """A message owed to Slack about one alert. A reply names its words in the message
    catalogue (`msg`, `params`), or carries text its caller has written (`text`). `channel`
    names a channel outside the alert's own (the escalation channel)."""

    kind: OutboxKind
    msg: str | None = None
    params: Mapping[str, str | int] = field(default_factory=dict)
    text: str | None = None
    channel: str | None = None

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
class EscalationRule:
    """ESCALATE_AFTER, ESCALATE_TO and ESCALATE_CHANNEL as they hold for one tenant: after
    `after` seconds without an acknowledgement, `to` (a checked MENTION value) is called in
    the alert's thread, and in `channel` too when there is one."""

    after: float
    to: str
    channel: str | None = None


class Hush(StrEnum):
    """What the quiet stage made of a decision."""

    SPOKEN = "spoken"  # it says what it owes
    SILENCED = "silenced"  # a new alert while quiet, or one still silenced: it says nothing
    HELD = "held"  # the news of an alert shown before the quiet: told when the quiet ends
    DEFERRED = "deferred"  # a reminder or an escalation while quiet: not due until it ends
    RELEASED = "released"  # an alert still silenced once the quiet is over: posted now


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one lifecycle decision means for its alert and for the channel."""

    decision: Decision
    state: AlertState | None = None  # the alert's new state; None leaves it as it is
    snooze_ended: bool = False  # the snooze is over: forget when it was to end
    hush: Hush = Hush.SPOKEN
    messages: tuple[Message, ...] = ()

    @property
    def silenced(self) -> bool:
        return self.hush is Hush.SILENCED


def outcomes(
    alerts: Sequence[AlertView],
    findings: Sequence[Finding],
    snapshot: Snapshot | None,
    *,
    now: datetime,
    remind_after: float,
    quiet: bool = False,
    escalation: EscalationRule | None = None,
) -> list[Outcome]:
    """Everything one poll of one tenant changes and owes, in the order it was decided.

    `alerts` are the tenant's unresolved alerts, `quiet` whether the tenant is in a
    maintenance window or a silence (`bot.core.quiet.quiet_now`), `escalation` its rule
    (None: it never escalates), `snapshot` None when the poll failed."""
    by_id = {alert.id: alert for alert in alerts}
    after = escalation.after if escalation is not None else 0
    result: list[Outcome] = []
    decisions = plan(
        alerts, findings, snapshot, now=now, remind_after=remind_after, escalate_after=after
    )
    for decision in decisions:
        alert = None if isinstance(decision, Open) else by_id[decision.alert_id]
        told = hush(decision, alert, quiet)
        if told is Hush.DEFERRED:
            result.append(Outcome(decision, hush=told))
            continue
        snooze_ended = ends_snooze(decision, alert)
        messages = owed(decision, alert, now, escalation)
        result.append(
            Outcome(
                decision,
                state=_new_state(decision, snooze_ended),
                snooze_ended=snooze_ended,
                hush=told,
                messages=_spoken(told, messages),
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


def owed(
    decision: Decision,
    alert: AlertView | None,
    now: datetime,
    escalation: EscalationRule | None = None,
) -> tuple[Message, ...]:
    """The messages a decision owes, before any quiet is considered."""
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
        case Escalate(waited=waited):
            assert escalation is not None
            called = reply("reply.escalated", to=escalation.to, seconds=waited)
            if escalation.channel is None:
                return (called,)
            elsewhere = Message(
                OutboxKind.ESCALATION,
                msg="escalation.posted",
                params={"to": escalation.to, "seconds": waited},
                channel=escalation.channel,
            )
            return (called, elsewhere)
        case Resolve(resolution=resolution):
            assert alert is not None
            return (UPDATE, _resolved(alert, resolution.value, now))
        case Keep():
            return ()


def _resolved(alert: AlertView, resolution: str, at: datetime) -> Message:
    began = alert.since or alert.opened_at
    return reply("reply.resolved", resolution=resolution, seconds=int((at - began).total_seconds()))


def hush(decision: Decision, alert: AlertView | None, quiet: bool) -> Hush:
    """The quiet stage. While the tenant is quiet, a new alert is silenced (the summary at the
    quiet's end tells of it, and it is posted then if still in trouble), an alert shown before
    the quiet keeps its news for the end, and reminders and escalations wait. An alert opened
    in a quiet stays silenced while it lives or the quiet lasts; once the quiet is over it is
    posted, whatever the poll found."""
    if isinstance(decision, Open):
        return Hush.SILENCED if quiet else Hush.SPOKEN
    assert alert is not None
    if isinstance(decision, Remind | Escalate):
        return Hush.DEFERRED if quiet or alert.silenced else Hush.SPOKEN
    if alert.silenced:
        released = not quiet and not isinstance(decision, Resolve)
        return Hush.RELEASED if released else Hush.SILENCED
    if quiet and isinstance(decision, Change | Resolve):
        return Hush.HELD
    return Hush.SPOKEN


def _spoken(told: Hush, messages: tuple[Message, ...]) -> tuple[Message, ...]:
    if told is Hush.SPOKEN:
        return messages
    if told is Hush.RELEASED:
        return (POST,)
    return ()


def _new_state(decision: Decision, snooze_ended: bool) -> AlertState | None:
    if isinstance(decision, Resolve):
        return AlertState.RESOLVED
    if snooze_ended:
        return AlertState.OPEN
    return None


# -- the end of a stretch of quiet -----------------------------------------------------------


def window_open(until: datetime | None, now: datetime) -> bool:
    return until is not None and until > now


def window_over(until: datetime | None, now: datetime, *, early: bool = False) -> bool:
    """Whether a window ends now: when its time is up, or at once when ended early."""
    return until is not None and (early or until <= now)


@dataclass(frozen=True, slots=True)
class WindowEnd:
    """What the end of a stretch of quiet says and posts."""

    ended_at: datetime  # its planned end, or now when it ends early
    told: tuple[AlertView, ...]  # what came and went in it, oldest first: the summary
    owed: Mapping[int, tuple[Message, ...]]  # what it kept back, by alert, owed now


def end_window(
    since: datetime | None, until: datetime, now: datetime, quiet: Sequence[AlertView]
) -> WindowEnd:
    """`quiet` are the tenant's silenced alerts and those whose news was held back. The
    summary tells what came and went: the alerts opened since the quiet began, and those shown
    before it that changed or recovered in it. Every silenced alert still in trouble is posted
    right after it, with its buttons and mention, as if it had been opened now; an alert whose
    news was held is redrawn as it is now (and its thread told of a recovery)."""
    start = since or now
    told = tuple(
        sorted(
            (a for a in quiet if a.held or (a.silenced and a.opened_at >= start)),
            key=lambda a: a.id,
        )
    )
    due: dict[int, tuple[Message, ...]] = {}
    for alert in sorted(quiet, key=lambda a: a.id):
        if alert.silenced and alert.resolved_at is None:
            due[alert.id] = (POST,)
        elif alert.held and alert.resolved_at is not None and alert.resolution is not None:
            due[alert.id] = (UPDATE, _resolved(alert, alert.resolution, alert.resolved_at))
        elif alert.held:
            due[alert.id] = (UPDATE,)
    return WindowEnd(ended_at=min(until, now), told=told, owed=due)


def due(
    alerts: Sequence[AlertView],
    *,
    now: datetime,
    remind_after: float,
    escalate_after: float = 0,
    quiet: bool = False,
    quiet_changes: bool = False,
) -> bool:
    """Whether anything that time alone brings is due for a tenant now: a stretch of quiet
    beginning or ending (`quiet_changes`, from `bot.core.quiet.changes`), a reminder or an
    escalation (which a snooze's end makes due again), or an alert a quiet kept silenced that
    must now be posted. While quiet, nothing timed is due. One pass over the unresolved
    alerts, nothing else: a caller may skip a tenant's transaction when this says no and its
    findings did not change."""
    if quiet_changes:
        return True
    if quiet:
        return False
    return any(
        alert.silenced
        or reminder_due(alert, now, remind_after)
        or escalation_due(alert, now, escalate_after) is not None
        for alert in alerts
        if alert.resolved_at is None
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
    when it is sent. A silenced alert has no thread yet, and a maintenance window holds the
    news of one shown before it; an alert told in a storm digest is not told there either
    (the digest's thread would not say whose events they are)."""
    if alert.silenced or alert.held:
        return ()
    return (reply(EVENTS_REPLY),)


def ignored_start_reply(alert: AlertView, when: datetime) -> tuple[Message, ...]:
    """A start Task Scheduler ignored while the alert's run (not completing) still went on,
    found after the alert was told: the hung run now also blocks the schedule. Not while a
    maintenance window holds the alert's news."""
    if alert.silenced or alert.held:
        return ()
    return (reply("events.ignored_while_running", time=when.isoformat()),)


def text_reply(alert: AlertView, text: str) -> tuple[Message, ...]:
    """A thread line whose text is written now (rerun progress, a log excerpt). A silenced
    alert has no thread yet, so it owes nothing."""
    if alert.silenced:
        return ()
    return (Message(OutboxKind.REPLY, text=text),)
