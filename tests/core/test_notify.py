"""What each lifecycle decision owes, one row per situation: snoozes, reminders,
acknowledgements, maintenance windows and their end."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.core import notify
from bot.core.domain import Condition, Finding, StepState
from bot.core.lifecycle import (
    AlertState,
    AlertView,
    Change,
    Keep,
    Open,
    Remind,
    Resolution,
    Resolve,
)
from bot.core.notify import POST, UPDATE, Outcome, end_window, outcomes, reply, window_over
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
    window_until: datetime | None = None,
    snapshot=FAILED,
) -> list[Outcome]:
    return outcomes(
        alerts, findings, snapshot, now=now, remind_after=REMIND, window_until=window_until
    )


# -- a poll's outcomes ----------------------------------------------------------------------


POLL_CASES = [
    (
        "a new finding is posted",
        [],
        None,
        [Outcome(Open(finding()), messages=(POST,))],
    ),
    (
        "a new finding inside a maintenance window says nothing",
        [],
        LATE + HOUR,
        [Outcome(Open(finding()), silenced=True)],
    ),
    (
        "a window whose end has come silences nothing",
        [],
        LATE,
        [Outcome(Open(finding()), messages=(POST,))],
    ),
    (
        "a new condition redraws the message and says so in the thread",
        [alert(Condition.STUCK, opened_at=LATE - HOUR)],
        None,
        [Outcome(Change(1, finding(), Condition.STUCK), messages=(UPDATE, CHANGED))],
    ),
    (
        "a new condition speaks up through a snooze, and ends it",
        [alert(Condition.STUCK, state=AlertState.SNOOZED, snoozed_until=LATE + HOUR)],
        None,
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
        None,
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
        LATE + HOUR,
        [
            Outcome(
                Change(1, finding(), Condition.STUCK),
                state=AlertState.OPEN,
                snooze_ended=True,
                silenced=True,
            )
        ],
    ),
    (
        "the same finding, reminded lately, owes nothing",
        [alert(opened_at=LATE - HOUR)],
        None,
        [Outcome(Keep(1, finding()))],
    ),
    (
        "the same finding past the reminder period owes a reminder",
        [alert()],
        None,
        [Outcome(Keep(1, finding())), Outcome(Remind(1), messages=(reply("reply.reminder"),))],
    ),
    (
        "an acknowledged alert is never reminded",
        [alert(state=AlertState.ACKNOWLEDGED)],
        None,
        [Outcome(Keep(1, finding()))],
    ),
    (
        "a snoozed alert is not reminded while the snooze lasts",
        [alert(state=AlertState.SNOOZED, snoozed_until=LATE + HOUR)],
        None,
        [Outcome(Keep(1, finding()))],
    ),
    (
        "a snooze that ran out a reminder period ago: reminded, and open again",
        [alert(state=AlertState.SNOOZED, snoozed_until=LATE - timedelta(seconds=REMIND))],
        None,
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
        None,
        [Outcome(Keep(1, finding()))],
    ),
    (
        "a silenced alert is not reminded aloud",
        [alert(silenced=True)],
        LATE + HOUR,
        [Outcome(Keep(1, finding()), silenced=True), Outcome(Remind(1), silenced=True)],
    ),
]


@pytest.mark.parametrize(
    ("alerts", "window_until", "expected"),
    [pytest.param(*row, id=case) for case, *row in POLL_CASES],
)
def test_what_a_poll_owes(
    alerts: list[AlertView],
    window_until: datetime | None,
    expected: list[Outcome],
) -> None:
    assert run(alerts, [finding()], window_until=window_until) == expected


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


def test_a_window_end_lists_what_it_hid_and_posts_what_is_still_wrong() -> None:
    earlier_window = alert(id=1, opened_at=at(-120), silenced=True, resolved_at=at(-100))
    told = alert(id=2, opened_at=at(5), silenced=False)  # opened before the window: told
    fixed = alert(id=4, opened_at=at(12), silenced=True, resolved_at=at(20))
    still = alert(id=3, opened_at=at(10), silenced=True)
    end = end_window(at(0), at(30), at(31), [still, earlier_window, told, fixed])
    assert [a.id for a in end.hidden] == [3, 4]
    assert end.reposted == {3: (POST,)}
    assert end.ended_at == at(30), "a window ended by the timer ends when it was to end"


def test_a_window_ended_early_ends_now_and_may_have_hidden_nothing() -> None:
    end = end_window(at(0), at(120), at(5), [])
    assert end == notify.WindowEnd(ended_at=at(5), hidden=(), reposted={})


def test_a_window_without_a_recorded_start_counts_from_its_end() -> None:
    before = alert(id=1, opened_at=at(1), silenced=True)
    end = end_window(None, at(30), at(31), [before])
    assert end.hidden == () and end.reposted == {}


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
