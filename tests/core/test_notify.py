"""What each lifecycle decision owes, one row per situation: snoozes, reminders,
escalation, acknowledgements, maintenance windows and their end, and whether anything is due
at all."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.core import notify
from bot.core.domain import Condition, Finding, StepState
from bot.core.lifecycle import (
    AlertState,
    AlertView,
    Change,
    Escalate,
    Keep,
    Open,
    Remind,
    Resolution,
    Resolve,
)
from bot.core.notify import (
    POST,
    UPDATE,
    EscalationRule,
    Hush,
    Message,
    OutboxKind,
    Outcome,
    due,
    end_window,
    outcomes,
    reply,
    window_over,
)
from tests.cycles import T0, at, cycle

REMIND = 7200.0
HOUR = timedelta(hours=1)


def finding(step: str | None = "Export AD", condition: Condition = Condition.FAILED) -> Finding:
    return Finding("demo-kommune", "c1", step, condition, since=T0, error=None)


def alert(
    condition: Condition = Condition.FAILED,
    *,
    id: int = 1,
    state: AlertState = AlertState.OPEN,
    opened_at: datetime = T0,
    snoozed_until: datetime | None = None,
    silenced: bool = False,
    since: datetime | None = None,
    resolved_at: datetime | None = None,
    resolution: str | None = None,
    shown_at: datetime | None = None,
    unsnoozed_at: datetime | None = None,
    escalated_at: datetime | None = None,
    held: bool = False,
) -> AlertView:
    return AlertView(
        id=id,
        key=finding("Export AD", condition).key,
        cycle_id="c1",
        step="Export AD",
        condition=condition,
        state=state,
        opened_at=opened_at,
        snoozed_until=snoozed_until,
        silenced=silenced,
        since=since,
        resolved_at=resolved_at,
        resolution=resolution,
        shown_at=shown_at,
        unsnoozed_at=unsnoozed_at,
        escalated_at=escalated_at,
        held=held,
    )


FAILED = cycle({"Export AD": StepState.FAILED}, upto=5, message="LDAP error 52")
RUNNING = cycle({"Export AD": StepState.RUNNING}, upto=5)
LATE = T0 + timedelta(hours=10)  # long after any reminder was due
CHANGED = reply("reply.changed", previous="stuck", condition="failed")


def run(
    alerts: list[AlertView],
    findings: list[Finding],
    *,
    now: datetime = LATE,
    quiet: bool = False,
    escalation: EscalationRule | None = None,
    snapshot=FAILED,
) -> list[Outcome]:
    return outcomes(
        alerts,
        findings,
        snapshot,
        now=now,
        remind_after=REMIND,
        quiet=quiet,
        escalation=escalation,
    )


# -- a poll's outcomes ----------------------------------------------------------------------


POLL_CASES = [
    (
        "a new finding is posted",
        [],
        False,
        [Outcome(Open(finding()), messages=(POST,))],
    ),
    (
        "a new finding inside a maintenance window says nothing",
        [],
        True,
        [Outcome(Open(finding()), hush=Hush.SILENCED)],
    ),
    (
        "a new condition redraws the message and says so in the thread",
        [alert(Condition.STUCK, opened_at=LATE - HOUR)],
        False,
        [Outcome(Change(1, finding(), Condition.STUCK), messages=(UPDATE, CHANGED))],
    ),
    (
        "a new condition speaks up through a snooze, and ends it",
        [alert(Condition.STUCK, state=AlertState.SNOOZED, snoozed_until=LATE + HOUR)],
        False,
        [
            Outcome(
                Change(1, finding(), Condition.STUCK),
                state=AlertState.OPEN,
                snooze_ended=True,
                messages=(UPDATE, CHANGED),
            )
        ],
    ),
    (
        "a new condition leaves an acknowledged alert acknowledged",
        [alert(Condition.STUCK, state=AlertState.ACKNOWLEDGED)],
        False,
        [Outcome(Change(1, finding(), Condition.STUCK), messages=(UPDATE, CHANGED))],
    ),
    (
        "a new condition of a silenced alert is kept quiet, yet ends its snooze",
        [
            alert(
                Condition.STUCK,
                state=AlertState.SNOOZED,
                snoozed_until=LATE + HOUR,
                silenced=True,
            )
        ],
        True,
        [
            Outcome(
                Change(1, finding(), Condition.STUCK),
                state=AlertState.OPEN,
                snooze_ended=True,
                hush=Hush.SILENCED,
            )
        ],
    ),
    (
        "the same finding, reminded lately, owes nothing",
        [alert(opened_at=LATE - HOUR)],
        False,
        [Outcome(Keep(1, finding()))],
    ),
    (
        "the same finding past the reminder period owes a reminder",
        [alert()],
        False,
        [Outcome(Keep(1, finding())), Outcome(Remind(1), messages=(reply("reply.reminder"),))],
    ),
    (
        "an acknowledged alert is never reminded",
        [alert(state=AlertState.ACKNOWLEDGED)],
        False,
        [Outcome(Keep(1, finding()))],
    ),
    (
        "a snoozed alert is not reminded while the snooze lasts",
        [alert(state=AlertState.SNOOZED, snoozed_until=LATE + HOUR)],
        False,
        [Outcome(Keep(1, finding()))],
    ),
    (
        "a snooze that ran out a reminder period ago: reminded, and open again",
        [alert(state=AlertState.SNOOZED, snoozed_until=LATE - timedelta(seconds=REMIND))],
        False,
        [
            Outcome(Keep(1, finding())),
            Outcome(
                Remind(1),
                state=AlertState.OPEN,
                snooze_ended=True,
                messages=(reply("reply.reminder"),),
            ),
        ],
    ),
    (
        "a snooze that ran out lately: not reminded yet, still snoozed",
        [alert(state=AlertState.SNOOZED, snoozed_until=LATE - HOUR)],
        False,
        [Outcome(Keep(1, finding()))],
    ),
    (
        "a silenced alert is not reminded aloud: the reminder waits for the window's end",
        [alert(silenced=True)],
        True,
        [Outcome(Keep(1, finding()), hush=Hush.SILENCED), Outcome(Remind(1), hush=Hush.DEFERRED)],
    ),
    (
        "a shown alert's new condition inside a window is held back for its end",
        [alert(Condition.STUCK, opened_at=LATE - HOUR)],
        True,
        [Outcome(Change(1, finding(), Condition.STUCK), hush=Hush.HELD)],
    ),
    (
        "a shown alert's reminder due inside a window waits for its end",
        [alert()],
        True,
        [Outcome(Keep(1, finding())), Outcome(Remind(1), hush=Hush.DEFERRED)],
    ),
    (
        "a snooze that ran out inside a window: the reminder waits, the snooze stands",
        [alert(state=AlertState.SNOOZED, snoozed_until=LATE - timedelta(seconds=REMIND))],
        True,
        [Outcome(Keep(1, finding())), Outcome(Remind(1), hush=Hush.DEFERRED)],
    ),
    (
        "a silenced alert once the window is over is posted, and not reminded yet",
        [alert(silenced=True)],
        False,
        [
            Outcome(Keep(1, finding()), hush=Hush.RELEASED, messages=(POST,)),
            Outcome(Remind(1), hush=Hush.DEFERRED),
        ],
    ),
    (
        "a silenced alert with a new condition once the window is over is posted as it is now",
        [alert(Condition.STUCK, silenced=True, opened_at=LATE - HOUR)],
        False,
        [Outcome(Change(1, finding(), Condition.STUCK), hush=Hush.RELEASED, messages=(POST,))],
    ),
    (
        "reminders count from when the alert was first shown, not when it opened",
        [alert(shown_at=LATE - HOUR)],
        False,
        [Outcome(Keep(1, finding()))],
    ),
]


@pytest.mark.parametrize(
    ("alerts", "quiet", "expected"),
    [pytest.param(*row, id=case) for case, *row in POLL_CASES],
)
def test_what_a_poll_owes(alerts: list[AlertView], quiet: bool, expected: list[Outcome]) -> None:
    assert run(alerts, [finding()], quiet=quiet) == expected


def test_a_resolution_redraws_the_message_and_says_how_long_it_lasted() -> None:
    began = T0 - timedelta(minutes=30)
    (outcome,) = run([alert(since=began)], [], snapshot=cycle(cycle_id="c1"), now=at(60))
    assert outcome == Outcome(
        Resolve(1, Resolution.RECOVERED),
        state=AlertState.RESOLVED,
        messages=(UPDATE, reply("reply.resolved", resolution="recovered", seconds=90 * 60)),
    )


def test_a_resolution_counts_from_the_opening_when_the_start_is_unknown() -> None:
    (outcome,) = run([alert()], [], snapshot=cycle(cycle_id="c1"), now=at(45))
    assert outcome.messages[1].params["seconds"] == 45 * 60


def test_a_silenced_alert_resolves_without_a_word() -> None:
    (outcome,) = run([alert(silenced=True)], [], snapshot=cycle(cycle_id="c1"), now=at(45))
    assert outcome.state is AlertState.RESOLVED and outcome.silenced and outcome.messages == ()


def test_a_resolution_ends_a_snooze_by_resolving() -> None:
    snoozed = alert(state=AlertState.SNOOZED, snoozed_until=at(600))
    (outcome,) = run([snoozed], [], snapshot=cycle(cycle_id="c1"), now=at(45))
    assert outcome.state is AlertState.RESOLVED and not outcome.snooze_ended


def test_a_failed_poll_keeps_everything_and_reminds_what_is_due() -> None:
    result = run([alert()], [], snapshot=None)
    assert result == [Outcome(Remind(1), messages=(reply("reply.reminder"),))]


# -- a maintenance window's end -------------------------------------------------------------


@pytest.mark.parametrize(
    ("until", "now", "early", "over"),
    [
        (None, at(10), False, False),
        (None, at(10), True, False),
        (at(30), at(10), False, False),
        (at(30), at(10), True, True),
        (at(30), at(30), False, True),
        (at(30), at(45), False, True),
    ],
)
def test_when_a_window_is_over(until: datetime | None, now: datetime, early: bool, over: bool):
    assert window_over(until, now, early=early) is over


def test_a_window_end_tells_what_came_and_went_and_owes_what_it_kept_back() -> None:
    earlier_window = alert(id=1, opened_at=at(-120), silenced=True, resolved_at=at(-100))
    shown = alert(id=2, opened_at=at(-10))  # shown before the window, nothing held: not told
    still = alert(id=3, opened_at=at(10), silenced=True)
    fixed = alert(id=4, opened_at=at(12), silenced=True, resolved_at=at(20))
    changed = alert(id=5, opened_at=at(-30), held=True)
    recovered = alert(
        id=6,
        opened_at=at(-30),
        since=at(-40),
        held=True,
        resolved_at=at(25),
        resolution="recovered",
    )
    end = end_window(
        at(0), at(30), at(31), [still, earlier_window, shown, fixed, recovered, changed]
    )
    assert [a.id for a in end.told] == [3, 4, 5, 6]
    assert end.owed == {
        3: (POST,),
        5: (UPDATE,),
        6: (UPDATE, reply("reply.resolved", resolution="recovered", seconds=65 * 60)),
    }
    assert end.ended_at == at(30), "a window ended by the timer ends when it was to end"


def test_a_silenced_alert_from_before_the_window_is_posted_though_not_told() -> None:
    older = alert(id=7, opened_at=at(-90), silenced=True)
    end = end_window(at(0), at(30), at(31), [older])
    assert end.told == () and end.owed == {7: (POST,)}


def test_a_window_ended_early_ends_now_and_may_have_hidden_nothing() -> None:
    end = end_window(at(0), at(120), at(5), [])
    assert end == notify.WindowEnd(ended_at=at(5), told=(), owed={})


def test_a_window_without_a_recorded_start_counts_from_its_end() -> None:
    before = alert(id=1, opened_at=at(1), silenced=True, resolved_at=at(2))
    end = end_window(None, at(30), at(31), [before])
    assert end.told == () and end.owed == {}


# -- escalation -----------------------------------------------------------------------------

ONCALL = EscalationRule(after=3600, to="S0ONCALL")
CALLED = reply("reply.escalated", to="S0ONCALL", seconds=10 * 3600)
ELSEWHERE = Message(
    OutboxKind.ESCALATION,
    msg="escalation.posted",
    params={"to": "S0ONCALL", "seconds": 10 * 3600},
    channel="C0ONCALL",
)

ESCALATION_CASES = [
    (
        "waited past ESCALATE_AFTER unacknowledged: called once",
        [alert()],
        ONCALL,
        False,
        [Outcome(Escalate(1, 36000), messages=(CALLED,))],
    ),
    (
        "with an escalation channel: told there too",
        [alert()],
        EscalationRule(3600, "S0ONCALL", "C0ONCALL"),
        False,
        [Outcome(Escalate(1, 36000), messages=(CALLED, ELSEWHERE))],
    ),
    ("acknowledged: never", [alert(state=AlertState.ACKNOWLEDGED)], ONCALL, False, []),
    ("escalated once already: never again", [alert(escalated_at=at(70))], ONCALL, False, []),
    (
        "snoozed: not while it lasts",
        [alert(state=AlertState.SNOOZED, snoozed_until=LATE + HOUR)],
        ONCALL,
        False,
        [],
    ),
    (
        "a snooze that ended half an hour ago: the clock started again then",
        [alert(state=AlertState.SNOOZED, snoozed_until=LATE - HOUR / 2)],
        ONCALL,
        False,
        [],
    ),
    (
        "a snooze that ended two hours ago and nobody acknowledged: called",
        [alert(unsnoozed_at=LATE - 2 * HOUR)],
        ONCALL,
        False,
        [
            Outcome(
                Escalate(1, 7200), messages=(reply("reply.escalated", to="S0ONCALL", seconds=7200),)
            )
        ],
    ),
    (
        "first shown half an hour ago (after a window): not yet",
        [alert(shown_at=LATE - HOUR / 2)],
        ONCALL,
        False,
        [],
    ),
    (
        "due inside a window: it waits for the window's end",
        [alert()],
        ONCALL,
        True,
        [Outcome(Escalate(1, 36000), hush=Hush.DEFERRED)],
    ),
    (
        "never shown (silenced): waits until it is",
        [alert(silenced=True)],
        ONCALL,
        False,
        [Outcome(Escalate(1, 36000), hush=Hush.DEFERRED)],
    ),
    ("no rule: never", [alert()], None, False, []),
    ("ESCALATE_AFTER 0: never", [alert()], EscalationRule(0, "S0ONCALL"), False, []),
]


@pytest.mark.parametrize(
    ("alerts", "rule", "quiet", "expected"),
    [pytest.param(*row, id=case) for case, *row in ESCALATION_CASES],
)
def test_escalation(
    alerts: list[AlertView], rule: EscalationRule | None, quiet: bool, expected: list[Outcome]
) -> None:
    found = run(alerts, [finding()], escalation=rule, quiet=quiet)
    assert [o for o in found if isinstance(o.decision, Escalate)] == expected


def test_an_alert_that_recovers_is_not_escalated() -> None:
    found = run([alert()], [], snapshot=cycle(cycle_id="c1"), escalation=ONCALL)
    assert [type(o.decision) for o in found] == [Resolve]


# -- is anything due ------------------------------------------------------------------------

DUE_CASES = [
    ("nothing open", [], False, False, False),
    ("a window begins or ends", [], False, True, True),
    ("a reminder is due", [alert()], False, False, True),
    ("a reminder is due, but a window holds it", [alert()], True, False, False),
    ("shown lately", [alert(shown_at=LATE - HOUR / 2)], False, False, False),
    ("an escalation is due", [alert(shown_at=LATE - 1.5 * HOUR)], False, False, True),
    ("acknowledged", [alert(state=AlertState.ACKNOWLEDGED)], False, False, False),
    (
        "a silenced alert after its window",
        [alert(silenced=True, shown_at=LATE)],
        False,
        False,
        True,
    ),
    ("resolved alerts are nobody's business", [alert(resolved_at=at(5))], False, False, False),
    ("snoozed", [alert(state=AlertState.SNOOZED, snoozed_until=LATE + HOUR)], False, False, False),
    (
        "a snooze ended and its reminder is due",
        [alert(state=AlertState.SNOOZED, snoozed_until=LATE - 2 * HOUR)],
        False,
        False,
        True,
    ),
]


@pytest.mark.parametrize(
    ("alerts", "quiet", "changes", "expected"),
    [pytest.param(*row, id=case) for case, *row in DUE_CASES],
)
def test_whether_anything_is_due(
    alerts: list[AlertView], quiet: bool, changes: bool, expected: bool
) -> None:
    found = due(
        alerts,
        now=LATE,
        remind_after=REMIND,
        escalate_after=3600,
        quiet=quiet,
        quiet_changes=changes,
    )
    assert found is expected


# -- people's actions -----------------------------------------------------------------------


def test_acknowledging_says_who_once() -> None:
    assert notify.acknowledged(alert(), "U1") == (
        UPDATE,
        reply("reply.acknowledged", user="U1"),
    )
    assert notify.acknowledged(alert(state=AlertState.ACKNOWLEDGED), "U2") is None


def test_a_snooze_and_a_ticket_redraw_the_message_and_say_so() -> None:
    assert notify.snoozed("U1", at(240)) == (
        UPDATE,
        reply("reply.snoozed", user="U1", until=at(240).isoformat()),
    )
    assert notify.ticket_opened("U1", "INC-7", None) == (
        UPDATE,
        reply("reply.ticket", user="U1", ref="INC-7", url=""),
    )


def test_a_written_reply_goes_to_the_thread_unless_the_alert_is_silenced() -> None:
    (message,) = notify.text_reply(alert(), "Rerun started")
    assert message.payload == {"text": "Rerun started"}
    assert notify.text_reply(alert(silenced=True), "Rerun started") == ()


def test_payloads_are_what_delivery_reads() -> None:
    assert POST.payload == {} and UPDATE.payload == {}
    assert reply("reply.reminder").payload == {"msg": "reply.reminder", "params": {}}


def test_what_event_viewer_says_waits_like_the_news_a_window_holds() -> None:
    assert notify.events_reply(alert()) == (reply(notify.EVENTS_REPLY),)
    assert notify.events_reply(alert(silenced=True)) == ()
    assert notify.events_reply(alert(held=True)) == (), "a window holds the change it is about"
    assert notify.ignored_start_reply(alert(held=True), at(5)) == ()
    assert notify.ignored_start_reply(alert(), at(5))
