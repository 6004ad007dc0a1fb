"""What Event Viewer said, kept with its alert on real SQLite and PostgreSQL: the thread's reply
owed with it, "task history is off" told once per tenant whatever the process, and a start
ignored later told once."""

from __future__ import annotations

from dataclasses import replace

from bot.core.domain import TASK_STEP, Condition, Finding, StepState
from bot.core.event_report import EventsReport
from bot.core.event_rules import OPERATIONAL_LOG, TASK_SCHEDULER, Event
from bot.store import Store, Target
from bot.store.tables import Alert, TenantState
from tests import store_rows
from tests.cycles import at, cycle

TARGET = Target(channel="C-ALERTS", language="en")
NAME = "eAdm synkronisering"
CRASH = Event(at(10), 201, TASK_SCHEDULER, OPERATIONAL_LOG, "Information", "", {
    "TaskName": "\\" + NAME, "ResultCode": "3762504530"})  # fmt: skip
IGNORED = Event(at(70), 322, TASK_SCHEDULER, OPERATIONAL_LOG, "Warning", "", {
    "TaskName": "\\" + NAME})  # fmt: skip


def open_alert(store: Store, tenant: str = "voss", cycle_id: str = "c1") -> int:
    snapshot = cycle({"Export AD": StepState.FAILED}, upto=5, cycle_id=cycle_id, tenant=tenant)
    finding = Finding(tenant, cycle_id, TASK_STEP, Condition.FAILED, since=at(16), error="x")
    store.apply_poll(tenant, TARGET, [finding], snapshot, now=at(20), remind_after=7200)
    alert = store.open_alert(tenant, finding.key)
    assert alert is not None and alert.id is not None
    return alert.id


def replies(store: Store) -> list[dict[str, object]]:
    """What the threads were told of Event Viewer."""
    rows = store_rows.messages(store)
    return [
        m.payload or {}
        for m in rows
        if m.kind == "reply" and str((m.payload or {}).get("msg", "")).startswith("events.")
    ]


def history_off(events: tuple[Event, ...] = ()) -> EventsReport:
    return EventsReport(at(0), at(20), False, events)


def test_a_reading_is_kept_and_its_reply_owed(store: Store) -> None:
    alert_id = open_alert(store)
    report = EventsReport(at(0), at(20), True, (CRASH,))
    assert store.record_events(alert_id, report, says_more=True, now=at(21))
    assert replies(store) == [{"msg": "events.reply", "params": {}}]
    (alert,) = store_rows.alerts(store)
    assert alert.events is not None
    assert EventsReport.from_dict(alert.events) == report


def test_nothing_to_say_keeps_the_reading_for_the_ticket(store: Store) -> None:
    alert_id = open_alert(store)
    assert not store.record_events(
        alert_id, EventsReport(at(0), at(20), True, (CRASH,)), says_more=False, now=at(21)
    )
    assert replies(store) == []
    (alert,) = store_rows.alerts(store)
    assert alert.events is not None


def test_history_off_is_told_once_per_tenant_by_any_process(store: Store) -> None:
    first = open_alert(store, cycle_id="c1")
    assert store.record_events(first, history_off(), says_more=False, now=at(21))
    # The next run's alert, read by a restarted bot or another replica: a store of its own on
    # the same database.
    second = open_alert(store, cycle_id="c2")
    other = Store(store.url)
    try:
        assert not other.record_events(second, history_off(), says_more=False, now=at(22))
    finally:
        other.dispose()
    told = [
        EventsReport.from_dict(a.events or {}).history_off_told for a in store_rows.alerts(store)
    ]
    assert told == [True, False]
    assert len(replies(store)) == 1
    # Another tenant is told for itself.
    assert store.record_events(
        open_alert(store, "bergen"), history_off(), says_more=False, now=at(23)
    )


def test_history_switched_on_again_makes_off_news_again(store: Store) -> None:
    store.record_events(
        open_alert(store, cycle_id="c1"), history_off(), says_more=False, now=at(21)
    )
    on = EventsReport(at(0), at(30), True, (CRASH,))
    store.record_events(open_alert(store, cycle_id="c2"), on, says_more=True, now=at(31))
    assert store.tenant_state("voss").history_off_told_at is None  # type: ignore[union-attr]
    assert store.record_events(
        open_alert(store, cycle_id="c3"), history_off(), says_more=False, now=at(41)
    )


def test_a_quiet_or_resolved_alert_is_not_told_and_does_not_use_up_the_note(store: Store) -> None:
    alert_id = open_alert(store)
    with store.session() as s:
        row = s.get(Alert, alert_id)
        assert row is not None
        row.silenced = True
        s.add(row)
        s.commit()
    assert not store.record_events(alert_id, history_off(), says_more=True, now=at(21))
    assert replies(store) == []
    state = store.tenant_state("voss")
    assert state is None or state.history_off_told_at is None
    with store.session() as s:
        row = s.get(Alert, alert_id)
        assert row is not None
        row.silenced, row.resolved_at = False, at(22)
        s.add(row)
        s.commit()
    assert not store.record_events(alert_id, history_off(), says_more=True, now=at(23))
    assert replies(store) == []
    with store.session() as s:
        assert (
            s.get(TenantState, "voss") or TenantState(tenant="voss")
        ).history_off_told_at is None


def test_an_ignored_start_found_later_is_told_once(store: Store) -> None:
    alert_id = open_alert(store)
    store.record_events(
        alert_id, EventsReport(at(0), at(20), True, (CRASH,)), says_more=True, now=at(21)
    )
    later = EventsReport(at(0), at(80), True, (IGNORED, CRASH))
    assert store.record_ignored_start(alert_id, later, task_name=NAME, now=at(81))
    assert not store.record_ignored_start(alert_id, later, task_name=NAME, now=at(82))
    assert not store.record_ignored_start(
        alert_id, replace(later, read_at=at(90)), task_name=NAME, now=at(91)
    )
    told = [p for p in replies(store) if p.get("msg") == "events.ignored_while_running"]
    assert told == [{"msg": "events.ignored_while_running", "params": {"time": at(70).isoformat()}}]
    # Nothing ignored: nothing to say.
    fresh = open_alert(store, cycle_id="c9")
    assert not store.record_ignored_start(
        fresh, EventsReport(at(0), at(80), True, (CRASH,)), task_name=NAME, now=at(81)
    )
