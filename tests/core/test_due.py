"""Whether a poll owes its tenant's alerts a transaction: when time alone brings something due,
and when a poll found nothing new. One row per situation."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from bot.core.domain import Condition, Finding, StepState
from bot.core.due import AT_ONCE, Applied, applied, as_seen, next_due, unchanged
from bot.core.lifecycle import (
    AlertState,
    AlertView,
    Keep,
    escalation_at,
    escalation_due,
    reminder_at,
    reminder_due,
)
from tests.cycles import T0, at, cycle

REMIND = 7200.0  # two hours
ESCALATE = 3600.0  # one hour


def alert(**changes: object) -> AlertView:
    base = AlertView(
        id=1,
        key="demo-kommune:c1:Export AD:failed",
        cycle_id="c1",
        step="Export AD",
        condition=Condition.FAILED,
        state=AlertState.OPEN,
        opened_at=T0,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


NEXT_DUE_CASES = [
    ("nothing open", [], 0, None),
    ("a reminder, two hours after it was shown", [alert()], 0, at(120)),
    ("shown later than opened", [alert(shown_at=at(30))], 0, at(150)),
    ("reminded since", [alert(last_reminded_at=at(100))], 0, at(220)),
    ("escalation comes first", [alert()], ESCALATE, at(60)),
    ("escalated already: the reminder", [alert(escalated_at=at(60))], ESCALATE, at(120)),
    ("acknowledged: never", [alert(state=AlertState.ACKNOWLEDGED)], ESCALATE, None),
    (
        "snoozed: two hours after the snooze ends",
        [alert(state=AlertState.SNOOZED, snoozed_until=at(300))],
        0,
        at(420),
    ),
    (
        "snoozed: escalation an hour after the snooze ends",
        [alert(state=AlertState.SNOOZED, snoozed_until=at(300))],
        ESCALATE,
        at(360),
    ),
    ("the earliest of several", [alert(), alert(id=2, shown_at=at(-60))], 0, at(60)),
    ("a silenced alert: at once", [alert(), alert(id=2, silenced=True)], 0, AT_ONCE),
    ("resolved alerts count for nothing", [alert(resolved_at=at(5), silenced=True)], 0, None),
]


@pytest.mark.parametrize(
    ("alerts", "escalate_after", "expected"),
    [pytest.param(*row, id=case) for case, *row in NEXT_DUE_CASES],
)
def test_when_time_alone_brings_something_due(
    alerts: list[AlertView], escalate_after: float, expected: datetime | None
) -> None:
    found = next_due(alerts, remind_after=REMIND, escalate_after=escalate_after)
    assert found == expected


@pytest.mark.parametrize("alert_", [row[1][0] for row in NEXT_DUE_CASES if row[1]])
@pytest.mark.parametrize("minutes", [0, 59, 60, 119, 120, 121, 299, 300, 360, 420, 421])
def test_the_due_times_agree_with_the_lifecycle_s_own_rules(
    alert_: AlertView, minutes: int
) -> None:
    """What `next_due` is built from says due exactly when the lifecycle does."""
    now = at(minutes)
    remind = reminder_at(alert_, REMIND)
    assert reminder_due(alert_, now, REMIND) is (remind is not None and now >= remind)
    escalate = escalation_at(alert_, ESCALATE)
    due = escalation_due(alert_, now, ESCALATE)
    assert (due is not None) is (escalate is not None and now >= escalate)


FAILED = cycle({"Export AD": StepState.FAILED}, upto=5, message="LDAP error 52")
FINDING = Finding("demo-kommune", "c1", "Export AD", Condition.FAILED, since=at(16))
LAST = Applied(
    findings=(FINDING,),
    snapshot=as_seen(FAILED),
    alerts={FINDING.key: 7},
    due_at=at(140),
)
LATER_READ = dataclasses.replace(FAILED, fetched_at=at(30))

UNCHANGED_CASES = [
    ("nothing remembered", None, [FINDING], FAILED, at(30), None),
    ("the same finding, read again", LAST, [FINDING], LATER_READ, at(30), [Keep(7, FINDING)]),
    ("a reminder due", LAST, [FINDING], FAILED, at(140), None),
    (
        "a finding more",
        LAST,
        [FINDING, dataclasses.replace(FINDING, step="Import AD")],
        FAILED,
        at(30),
        None,
    ),
    ("the trouble is gone", LAST, [], FAILED, at(30), None),
    (
        "a new condition",
        LAST,
        [dataclasses.replace(FINDING, condition=Condition.STUCK)],
        FAILED,
        at(30),
        None,
    ),
    (
        "the cycle moved on",
        LAST,
        [FINDING],
        cycle({"Export AD": StepState.FAILED}, upto=6),
        at(30),
        None,
    ),
    ("the poll failed this time", LAST, [FINDING], None, at(30), None),
    (
        "nothing wrong, nothing open",
        Applied((), as_seen(FAILED), {}, None),
        [],
        FAILED,
        at(9999),
        [],
    ),
    (
        "nothing wrong, nothing open, the cycle moved on",
        Applied((), as_seen(FAILED), {}, None),
        [],
        cycle({"Export AD": StepState.RUNNING}, upto=6),
        at(30),
        [],
    ),
    (
        "nothing wrong, nothing open, the poll failed",
        Applied((), as_seen(FAILED), {}, None),
        [],
        None,
        at(30),
        [],
    ),
    (
        "a finding whose alert is not known",
        dataclasses.replace(LAST, alerts={}),
        [FINDING],
        FAILED,
        at(30),
        None,
    ),
]


@pytest.mark.parametrize(
    ("last", "findings", "snapshot", "now", "expected"),
    [pytest.param(*row, id=case) for case, *row in UNCHANGED_CASES],
)
def test_a_poll_skips_the_transaction_only_when_nothing_is_new_and_nothing_due(
    last: Applied | None,
    findings: list[Finding],
    snapshot: object,
    now: datetime,
    expected: list[Keep] | None,
) -> None:
    assert unchanged(last, findings, snapshot, now) == expected  # type: ignore[arg-type]


def test_what_is_remembered_of_a_transaction() -> None:
    kept = applied(
        [FINDING],
        LATER_READ,
        [alert(id=7, key=FINDING.key), alert(id=8, key="gone", resolved_at=at(20))],
        remind_after=REMIND,
        escalate_after=ESCALATE,
    )
    assert kept == Applied((FINDING,), as_seen(FAILED), {FINDING.key: 7}, at(60))
    assert kept.snapshot is not None and kept.snapshot.fetched_at is None
    assert as_seen(None) is None
    assert unchanged(kept, [FINDING], FAILED, at(59)) == [Keep(7, FINDING)]
    assert unchanged(kept, [FINDING], FAILED, at(60) + timedelta(seconds=1)) is None
