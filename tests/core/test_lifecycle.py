"""Alert lifecycle decisions, one row per situation."""

from __future__ import annotations

from datetime import timedelta

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
    plan,
)
from tests.cycles import T0, at, cycle

REMIND = 7200.0


def finding(step: str | None, condition: Condition, cycle_id: str | None = "c1") -> Finding:
    return Finding("demo-kommune", cycle_id, step, condition, since=T0, error=None)


def alert(
    step: str | None,
    condition: Condition,
    *,
    cycle_id: str | None = "c1",
    state: AlertState = AlertState.OPEN,
    opened_at=T0,
    reminded=None,
    snoozed_until=None,
    id: int = 1,
) -> AlertView:
    f = finding(step, condition, cycle_id)
    return AlertView(
        id=id,
        key=f.key,
        cycle_id=cycle_id,
        step=step,
        condition=condition,
        state=state,
        opened_at=opened_at,
        last_reminded_at=reminded,
        snoozed_until=snoozed_until,
    )


def test_a_new_finding_opens_an_alert() -> None:
    f = finding("Export AD", Condition.FAILED)
    assert plan([], [f], cycle(), now=at(5), remind_after=REMIND) == [Open(f)]


def test_the_same_finding_on_a_later_poll_posts_nothing() -> None:
    f = finding("Export AD", Condition.FAILED)
    decisions = plan(
        [alert("Export AD", Condition.FAILED)], [f], cycle(), now=at(5), remind_after=REMIND
    )
    assert decisions == [Keep(1, f)]


def test_a_new_condition_on_the_same_step_changes_the_alert_in_place() -> None:
    f = finding("Synchronization", Condition.STUCK)
    a = alert("Synchronization", Condition.NOT_STARTED)
    assert plan([a], [f], cycle(), now=at(5), remind_after=REMIND) == [
        Change(1, f, Condition.NOT_STARTED)
    ]


def test_recovery_in_the_same_cycle_resolves() -> None:
    a = alert("Export AD", Condition.STUCK)
    assert plan([a], [], cycle(cycle_id="c1"), now=at(30), remind_after=REMIND) == [
        Resolve(1, Resolution.RECOVERED)
    ]


def test_a_later_cycle_passing_the_step_resolves() -> None:
    a = alert("Export AD", Condition.FAILED, cycle_id="c1")
    later = cycle(cycle_id="c2", start=at(120))
    assert plan([a], [], later, now=at(200), remind_after=REMIND) == [
        Resolve(1, Resolution.PASSED_LATER)
    ]


def test_a_later_cycle_not_yet_at_the_step_keeps_the_alert_open() -> None:
    a = alert("Export AD", Condition.FAILED, cycle_id="c1", opened_at=at(100))
    later = cycle(cycle_id="c2", start=at(120), upto=2)
    assert plan([a], [], later, now=at(130), remind_after=REMIND) == []


def test_a_later_cycle_failing_at_the_same_step_supersedes() -> None:
    a = alert("Export AD", Condition.FAILED, cycle_id="c1")
    later = cycle({"Export AD": StepState.FAILED}, cycle_id="c2", start=at(120), upto=5)
    f = finding("Export AD", Condition.FAILED, cycle_id="c2")
    assert plan([a], [f], later, now=at(140), remind_after=REMIND) == [
        Open(f),
        Resolve(1, Resolution.SUPERSEDED),
    ]


def test_no_new_cycle_resolves_when_a_cycle_starts() -> None:
    a = alert(None, Condition.NO_NEW_CYCLE, cycle_id="c1")
    assert plan([a], [], cycle(cycle_id="c2", upto=1), now=at(300), remind_after=REMIND) == [
        Resolve(1, Resolution.NEW_CYCLE)
    ]


def test_source_back_resolves_source_unreachable_and_a_failed_poll_resolves_nothing() -> None:
    down = alert(None, Condition.SOURCE_UNREACHABLE, cycle_id=None)
    other = alert("Export AD", Condition.FAILED, id=2)
    assert plan([down, other], [], None, now=at(5), remind_after=REMIND) == []
    assert plan([down], [], cycle(upto=3), now=at(5), remind_after=REMIND) == [
        Resolve(1, Resolution.SOURCE_BACK)
    ]


def test_reminder_after_remind_after_then_not_again_until_the_next_period() -> None:
    f = finding("Export AD", Condition.FAILED)
    a = alert("Export AD", Condition.FAILED)
    now = T0 + timedelta(seconds=REMIND)
    assert plan([a], [f], cycle(), now=now, remind_after=REMIND) == [Keep(1, f), Remind(1)]
    reminded = alert("Export AD", Condition.FAILED, reminded=now)
    assert plan([reminded], [f], cycle(), now=now + timedelta(seconds=60), remind_after=REMIND) == [
        Keep(1, f)
    ]


def test_no_reminder_when_acknowledged_or_snoozed() -> None:
    f = finding("Export AD", Condition.FAILED)
    late = T0 + timedelta(hours=10)
    acked = alert("Export AD", Condition.FAILED, state=AlertState.ACKNOWLEDGED)
    snoozed = alert(
        "Export AD",
        Condition.FAILED,
        state=AlertState.SNOOZED,
        snoozed_until=late + timedelta(hours=1),
    )
    for a in (acked, snoozed):
        assert plan([a], [f], cycle(), now=late, remind_after=REMIND) == [Keep(1, f)]


def test_snooze_end_restarts_the_reminder_clock() -> None:
    f = finding("Export AD", Condition.FAILED)
    until = T0 + timedelta(hours=4)
    snoozed = alert("Export AD", Condition.FAILED, state=AlertState.SNOOZED, snoozed_until=until)
    assert plan([snoozed], [f], cycle(), now=until + timedelta(hours=1), remind_after=REMIND) == [
        Keep(1, f)
    ]
    assert plan(
        [snoozed], [f], cycle(), now=until + timedelta(seconds=REMIND), remind_after=REMIND
    ) == [Keep(1, f), Remind(1)]
