"""The store's part in maintenance windows and escalation, on real SQLite and PostgreSQL: a
window's beginning and end each told once per channel for all its tenants, what it kept back
owed when it ends, a silence and a window adding up, and an alert escalated once, whichever
replica gets there first.

T0 (at(0)) is Tuesday 2026-11-24 22:00 in Oslo, so "tue 22:00-02:00" runs from at(0) to
at(240)."""

from __future__ import annotations

import threading
from typing import Any

from bot.core.domain import Condition, Finding, StepState
from bot.core.maintenance import active_window, parse_windows
from bot.core.notify import EscalationRule
from bot.core.storm import StormRule
from bot.store import Store, Target
from bot.store.silences import Unsilenced
from bot.store.tables import Outbox
from tests import store_rows
from tests.cycles import at, cycle
from tests.store.ticks import OSLO, summed_up, tick

TENANT = "bergen"
PATCH_NIGHT = parse_windows("tue 22:00-02:00")
FAILED = cycle({"Import AD": StepState.FAILED}, upto=3, message="LDAP bind failed")
STUCK = cycle({"Import AD": StepState.RUNNING}, upto=3)


def failing(tenant: str = TENANT, condition: Condition = Condition.FAILED) -> Finding:
    return Finding(tenant, "c1", "Import AD", condition, since=at(-30))


def poll(store: Store, minutes: float, findings: list[Finding], tenant: str = TENANT, **kw: Any):
    snapshot = FAILED if any(f.condition is Condition.FAILED for f in findings) else STUCK
    window = active_window(kw.pop("windows", PATCH_NIGHT), at(minutes), OSLO)
    return store.apply_poll(
        tenant,
        Target(kw.pop("channel", "C1"), "en"),
        findings,
        snapshot,
        now=at(minutes),
        remind_after=kw.pop("remind_after", 7200),
        window=window,
        **kw,
    ).decisions


def said(store: Store) -> list[tuple[str, str, Any]]:
    return [(m.kind, m.channel, (m.payload or {}).get("text")) for m in store_rows.messages(store)]


def test_a_window_holds_everything_and_its_end_tells_and_posts_once(store: Store) -> None:
    # Shown before the window: stuck at first.
    poll(store, -20, [failing(condition=Condition.STUCK)])
    assert [m.kind for m in store_rows.messages(store)] == ["post"]
    assert tick(store, at(1), {TENANT: PATCH_NIGHT}) == ([TENANT], [])
    assert tick(store, at(2), {TENANT: PATCH_NIGHT}) == ([], []), "begun once"
    # Inside: the old alert fails now (held back), another step fails anew (silenced).
    poll(store, 30, [failing(), Finding(TENANT, "c1", "Export AD", Condition.FAILED, at(25))])
    assert [m.kind for m in store_rows.messages(store)] == ["post", "notice"]
    old, new = store_rows.alerts(store)
    assert old.held and not old.silenced and new.silenced and not new.held
    assert tick(store, at(239), {TENANT: PATCH_NIGHT}) == ([], [])
    assert tick(store, at(241), {TENANT: PATCH_NIGHT}) == ([], [TENANT])
    assert tick(store, at(242), {TENANT: PATCH_NIGHT}) == ([], []), "ended once"
    rows = store_rows.messages(store)[2:]
    assert [(m.kind, m.alert_id) for m in rows] == [
        ("notice", None),
        ("update", old.id),
        ("post", new.id),
    ]
    assert rows[0].payload == {"text": f"{TENANT}: ['Import AD', 'Export AD']"}
    old, new = store_rows.alerts(store)
    assert not old.held and not new.silenced and new.shown_at == at(241)
    both = [failing(), Finding(TENANT, "c1", "Export AD", Condition.FAILED, at(25))]
    poll(store, 245, both, remind_after=86400)
    assert len(store_rows.messages(store)) == 5, "nothing posted twice after the window"


def test_reminders_wait_for_the_window_and_count_from_the_first_post(store: Store) -> None:
    poll(store, -130, [failing()], remind_after=3600)
    tick(store, at(0), {TENANT: PATCH_NIGHT})
    poll(store, 60, [failing()], remind_after=3600)
    (alert,) = store_rows.alerts(store)
    assert alert.last_reminded_at is None, "due inside the window: not spent there"
    tick(store, at(241), {TENANT: PATCH_NIGHT})
    poll(store, 242, [failing()], remind_after=3600)
    (alert,) = store_rows.alerts(store)
    assert alert.last_reminded_at == at(242), "reminded at the window's end"
    assert (store_rows.messages(store)[-1].payload or {}).get("msg") == "reply.reminder"


def test_an_alert_opened_in_a_window_is_reminded_from_when_it_was_posted(store: Store) -> None:
    tick(store, at(0), {TENANT: PATCH_NIGHT})
    poll(store, 10, [failing()], remind_after=3600)
    tick(store, at(241), {TENANT: PATCH_NIGHT})
    poll(store, 241 + 59, [failing()], remind_after=3600)
    assert store_rows.alerts(store)[0].last_reminded_at is None
    poll(store, 241 + 60, [failing()], remind_after=3600)
    assert store_rows.alerts(store)[0].last_reminded_at == at(301)


def test_one_notice_and_one_summary_per_channel_for_all_its_tenants(store: Store) -> None:
    channels = {"bergen": ["C1", "COPS"], "voss": ["C2", "COPS"], "ulvik": ["C1"]}
    windows = dict.fromkeys(channels, PATCH_NIGHT)
    begun, _ = tick(store, at(0), windows, channels)
    assert sorted(begun) == ["bergen", "ulvik", "voss"]
    notices = sorted((channel, text) for kind, channel, text in said(store) if kind == "notice")
    assert notices == [
        ("C1", "began: bergen, ulvik"),
        ("C2", "began: voss"),
        ("COPS", "began: bergen, voss"),
    ]
    poll(store, 5, [failing("voss")], tenant="voss", channel="C2")
    _, ended = tick(store, at(240), windows, channels)
    assert sorted(ended) == ["bergen", "ulvik", "voss"]
    summaries = sorted(
        (channel, text) for kind, channel, text in said(store)[3:] if kind == "notice"
    )
    assert summaries == [
        ("C1", "bergen: []; ulvik: []"),
        ("C2", "voss: ['Import AD']"),
        ("COPS", "bergen: []; voss: ['Import AD']"),
    ]


def test_a_silence_and_a_window_add_up_and_unsilence_ends_only_the_silence(store: Store) -> None:
    store.silence(TENANT, at(-60), at(60), "upgrade", "U1", at(-60))  # told by the command
    assert tick(store, at(1), {TENANT: PATCH_NIGHT}) == ([], []), "already quiet: no notice"
    assert (
        store.end_silence(
            TENANT, at(30), active_window(PATCH_NIGHT, at(30), OSLO), ["C1"], summed_up
        )
        is Unsilenced.WINDOW_GOES_ON
    )
    assert store_rows.messages(store) == [], "the window goes on: no summary yet"
    state = store.tenant_state(TENANT)
    assert state is not None and state.quiet_since == at(-60) and state.quiet_until == at(240)
    assert tick(store, at(241), {TENANT: PATCH_NIGHT}) == ([], [TENANT])
    (summary,) = store_rows.messages(store)
    assert summary.kind == "notice", "one summary when the last of them ends"


def test_a_silence_planned_ahead_begins_and_ends_on_the_timer(store: Store) -> None:
    store.silence(TENANT, at(300), at(360), "christmas", "U1", at(0))
    poll(store, 10, [failing()], windows=[])
    assert [m.kind for m in store_rows.messages(store)] == ["post"], "not quiet before it"
    assert tick(store, at(299)) == ([], [])
    assert tick(store, at(301)) == ([TENANT], [])
    assert tick(store, at(361)) == ([], [TENANT])
    assert [m.kind for m in store_rows.messages(store)] == ["post", "notice", "notice"]
    state = store.tenant_state(TENANT)
    assert state is not None and state.silenced_until is None, "over: forgotten"


def test_unsilence_calls_off_a_silence_planned_ahead(store: Store) -> None:
    store.silence(TENANT, at(300), at(360), None, "U1", at(0))
    assert store.end_silence(TENANT, at(5), None, ["C1"], summed_up) is Unsilenced.CANCELLED
    assert tick(store, at(301)) == ([], [])
    assert store_rows.messages(store) == []


def test_two_replicas_end_a_window_once(db_url: str) -> None:
    stores = [Store(db_url), Store(db_url)]
    stores[0].migrate()
    windows = {name: PATCH_NIGHT for name in ("alna", "bergen", "voss")}
    tick(stores[0], at(0), windows)
    for name in windows:
        poll(stores[0], 5, [failing(name)], tenant=name)
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def end(store: Store) -> None:
        barrier.wait()
        results.append(tick(store, at(241), windows))

    threads = [threading.Thread(target=end, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(len(ended) for _, ended in results) == [0, 3]
    rows = store_rows.messages(stores[0])
    assert [m.kind for m in rows].count("notice") == 2, "one notice, one summary"
    assert sorted(m.alert_id for m in rows if m.kind == "post") == [1, 2, 3]
    for s in stores:
        s.dispose()


ONCALL = EscalationRule(after=3600, to="S0ONCALL", channel="C0ONCALL")


def test_an_alert_escalates_once_audited_with_a_line_in_its_thread_and_elsewhere(
    store: Store,
) -> None:
    poll(store, 0, [failing()], windows=[], escalation=ONCALL)
    poll(store, 59, [failing()], windows=[], escalation=ONCALL)
    assert [m.kind for m in store_rows.messages(store)] == ["post"], "not yet"
    poll(store, 61, [failing()], windows=[], escalation=ONCALL)
    poll(store, 62, [failing()], windows=[], escalation=ONCALL)
    post, called, elsewhere = store_rows.messages(store)
    assert called.kind == "reply" and called.channel == "C1"
    assert called.payload == {
        "msg": "reply.escalated",
        "params": {"to": "S0ONCALL", "seconds": 3660},
    }
    assert elsewhere.kind == "escalation" and elsewhere.channel == "C0ONCALL"
    assert elsewhere.copy_id == post.copy_id, "it waits behind the alert's own message"
    (alert,) = store_rows.alerts(store)
    assert alert.escalated_at == at(61)
    (entry,) = [e for e in store_rows.audit_log(store) if e.action == "escalate"]
    assert entry.alert_id == alert.id and entry.user_id is None and entry.result == "done"


def test_an_acknowledged_alert_never_escalates(store: Store) -> None:
    poll(store, 0, [failing()], windows=[], escalation=ONCALL)
    (alert,) = store_rows.alerts(store)
    assert alert.id is not None
    store.acknowledge(alert.id, "U1", at(5))
    poll(store, 600, [failing()], windows=[], escalation=ONCALL)
    assert [m.kind for m in store_rows.messages(store)] == ["post", "update", "reply"]
    assert store_rows.alerts(store)[0].escalated_at is None


def test_a_snooze_that_ends_unacknowledged_starts_the_clock_again(store: Store) -> None:
    poll(store, 0, [failing()], windows=[], escalation=ONCALL)
    (alert,) = store_rows.alerts(store)
    assert alert.id is not None
    store.snooze(alert.id, "U1", at(120), at(30))
    poll(store, 119, [failing()], windows=[], escalation=ONCALL)
    poll(store, 179, [failing()], windows=[], escalation=ONCALL)
    assert store_rows.alerts(store)[0].escalated_at is None, "an hour from the snooze's end"
    poll(store, 181, [failing()], windows=[], escalation=ONCALL)
    assert store_rows.alerts(store)[0].escalated_at == at(181)


def test_two_replicas_escalate_an_alert_once(db_url: str) -> None:
    stores = [Store(db_url), Store(db_url)]
    stores[0].migrate()
    poll(stores[0], 0, [failing()], windows=[], escalation=ONCALL)
    barrier = threading.Barrier(2)

    def escalate(store: Store) -> None:
        barrier.wait()
        poll(store, 61, [failing()], windows=[], escalation=ONCALL)

    threads = [threading.Thread(target=escalate, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kinds = [m.kind for m in store_rows.messages(stores[0])]
    assert kinds.count("escalation") == 1 and kinds.count("reply") == 1
    for s in stores:
        s.dispose()


def test_an_escalation_due_in_a_window_waits_for_its_end(store: Store) -> None:
    poll(store, -120, [failing()], escalation=ONCALL)
    tick(store, at(0), {TENANT: PATCH_NIGHT})
    poll(store, 100, [failing()], escalation=ONCALL)
    assert store_rows.alerts(store)[0].escalated_at is None
    tick(store, at(241), {TENANT: PATCH_NIGHT})
    poll(store, 242, [failing()], escalation=ONCALL)
    assert store_rows.alerts(store)[0].escalated_at == at(242)
    assert any(isinstance(m, Outbox) and m.kind == "escalation" for m in store_rows.messages(store))


def test_an_alert_in_a_storm_digest_escalates_with_one_line_in_the_digests_thread(
    store: Store,
) -> None:
    store.storm = StormRule(after=1, window=60)
    for name in ("alna", "voss"):
        poll(store, 0, [failing(name)], tenant=name, windows=[])
    digest = next(m for m in store_rows.messages(store) if m.kind == "digest")
    poll(store, 61, [failing("voss")], tenant="voss", windows=[], escalation=ONCALL)
    called, elsewhere = store_rows.messages(store)[-2:]
    assert called.kind == "reply" and called.digest_id == digest.digest_id
    assert (called.payload or {}).get("msg") == "reply.escalated"
    assert elsewhere.kind == "escalation" and elsewhere.digest_id == digest.digest_id
