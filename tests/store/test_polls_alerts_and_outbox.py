"""The store on real SQLite and real PostgreSQL: leases, claims, and one alert per finding."""

from __future__ import annotations

import threading
from datetime import timedelta

from bot.core.domain import Condition, Finding, StepState
from bot.core.lifecycle import Keep, Open, Resolve
from bot.store import Store, Target
from tests import store_rows
from tests.cycles import T0, at, cycle

TARGET = Target(channel="C-ALERTS", language="en")


def failed_export() -> tuple:
    snapshot = cycle({"Export AD": StepState.FAILED}, upto=5, message="LDAP error 52")
    finding = Finding(
        "demo-kommune", "c1", "Export AD", Condition.FAILED, since=at(16), error="LDAP error 52"
    )
    return snapshot, finding


def test_open_keep_resolve_writes_the_owed_messages(store: Store) -> None:
    snapshot, finding = failed_export()
    first = store.apply_poll(
        "demo-kommune", TARGET, [finding], snapshot, now=at(20), remind_after=7200
    ).decisions
    assert [type(d) for d in first] == [Open]
    again = store.apply_poll(
        "demo-kommune", TARGET, [finding], snapshot, now=at(21), remind_after=7200
    ).decisions
    assert [type(d) for d in again] == [Keep]
    assert [m.kind for m in store_rows.messages(store)] == ["post"]
    recovered = cycle(cycle_id="c2", start=at(100))
    done = store.apply_poll(
        "demo-kommune", TARGET, [], recovered, now=at(130), remind_after=7200
    ).decisions
    assert [type(d) for d in done] == [Resolve]
    assert [m.kind for m in store_rows.messages(store)] == ["post", "update", "reply"]
    (alert,) = store_rows.alerts(store)
    assert alert.state == "resolved" and alert.resolution == "passed_later"
    assert alert.since == at(16) and alert.resolved_at == at(130)
    assert store.unresolved_alerts() == []


def test_only_one_process_wins_a_poll_tick(store: Store) -> None:
    tick, next_tick = T0 + timedelta(seconds=60), T0 + timedelta(seconds=120)
    assert store.claim_tick("3", "a", T0, tick)
    assert not store.claim_tick("3", "b", T0, tick)
    assert store.claim_tick("4", "b", T0, tick)  # another group is another lease
    assert store.claim_tick("3", "b", tick, next_tick)
    assert not store.claim_tick("3", "a", tick, next_tick)
    assert not store.claim_tick("3", "a", T0, tick)  # a tick gone by is never taken again


def test_a_tick_is_won_by_one_of_many_racing_processes(store: Store) -> None:
    wins: list[str] = []
    barrier = threading.Barrier(6)

    def race(owner: str) -> None:
        barrier.wait()
        if store.claim_tick("7", owner, T0, T0 + timedelta(seconds=60)):
            wins.append(owner)

    threads = [threading.Thread(target=race, args=(f"p{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1


def test_heartbeats_go_with_the_lease_and_readiness_sees_them(store: Store) -> None:
    store.record_success("t1", cycle(tenant="t1"), T0)
    store.record_success("t2", cycle(tenant="t2"), T0)
    beats = {"t1": at(1), "t2": at(2), "never-written": at(3)}
    assert store.claim_tick("1", "a", at(0), at(5), beats)
    assert store.last_polls() == {"t1": at(1), "t2": at(2)}
    store.record_beats({"t2": at(4)})
    assert store.last_polls()["t2"] == at(4)
    state = store.tenant_state("t1")
    assert state is not None and state.last_success_at == at(1)
    # Lost or won, the beats are written.
    assert not store.claim_tick("1", "b", at(0), at(5), {"t1": at(6)})
    assert store.last_polls()["t1"] == at(6)


def test_a_message_is_claimed_by_one_process_at_a_time(store: Store) -> None:
    snapshot, finding = failed_export()
    store.apply_poll("demo-kommune", TARGET, [finding], snapshot, now=at(20), remind_after=1)
    (row,) = store.due_messages(at(20))
    assert store.claim_message(row.id, "a", at(20), ttl=60)
    assert not store.claim_message(row.id, "b", at(20), ttl=60)
    assert store.due_messages(at(20)) == []  # claimed: not due for anyone else
    store.delivered(row.id, "1732500000.000100", "C0ALERTS", at(21))
    assert store.claim_message(row.id, "b", at(30), ttl=60) is False
    alert = store.get_alert(row.alert_id)
    assert alert.message_ts == "1732500000.000100" and alert.channel == "C0ALERTS"


def test_an_update_waits_behind_its_undelivered_post(store: Store) -> None:
    snapshot, finding = failed_export()
    store.apply_poll("demo-kommune", TARGET, [finding], snapshot, now=at(20), remind_after=1)
    store.apply_poll(
        "demo-kommune", TARGET, [], cycle(cycle_id="c1"), now=at(40), remind_after=7200
    )
    due = store.due_messages(at(40))
    assert [m.kind for m in due] == ["post"]


def test_two_processes_finding_the_same_thing_open_one_alert(db_url: str) -> None:
    stores = [Store(db_url) for _ in range(4)]
    stores[0].migrate()
    snapshot, finding = failed_export()
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def apply(s: Store) -> None:
        barrier.wait()
        try:
            s.apply_poll("demo-kommune", TARGET, [finding], snapshot, now=at(20), remind_after=7200)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=apply, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store_rows.alerts(stores[0])) == 1
    assert [m.kind for m in store_rows.messages(stores[0])] == ["post"]
    for s in stores:
        s.dispose()


def test_poll_failures_keep_the_first_failure_time(store: Store) -> None:
    first = store.record_failure("t", "503", T0)
    later = store.record_failure("t", "timeout", T0 + timedelta(minutes=5))
    assert first.failing_since == later.failing_since == T0
    store.record_success("t", cycle(tenant="t"), T0 + timedelta(minutes=6))
    assert store.tenant_state("t").failing_since is None
    assert [c.cycle_id for c in store.recent_cycles("t")] == ["c1"]


def test_replicas_meeting_one_storm_open_one_digest(db_url: str) -> None:
    """Five alerts in one channel, then four replicas each find another tenant's at once: the
    storm is told in one digest, whichever replica opened it."""
    from sqlmodel import Session, select

    from bot.store.tables import Digest

    stores = [Store(db_url) for _ in range(4)]
    stores[0].migrate()
    snapshot, _ = failed_export()

    def finding(tenant: str) -> Finding:
        return Finding(tenant, "c1", "Export AD", Condition.FAILED, since=at(16), error="x")

    for i in range(5):
        stores[0].apply_poll(
            f"t{i}", TARGET, [finding(f"t{i}")], snapshot, now=at(20), remind_after=7200
        )
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def apply(s: Store, tenant: str) -> None:
        barrier.wait()
        try:
            s.apply_poll(
                tenant,
                TARGET,
                [finding(tenant)],
                snapshot,
                now=at(20) + timedelta(seconds=2),
                remind_after=7200,
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=apply, args=(s, f"r{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with Session(stores[0].engine) as s:
        digests = s.exec(select(Digest)).all()
    assert len(digests) == 1 and digests[0].closed_at is None
    assert len(store_rows.alerts(stores[0])) == 9
    for s in stores:
        s.dispose()


def _digests(store: Store) -> list[object]:
    from sqlmodel import Session, select

    from bot.store.tables import Digest

    with Session(store.engine) as s:
        return list(s.exec(select(Digest)).all())


def _cycle_failing_everywhere(tenant: str) -> list[Finding]:
    """A cycle failing at several steps at once: one tenant's burst, not a storm."""
    steps = ("Import HR", "Import AD", "Export AD", "Export Azure", "Export eFeide", "Sync task")
    return [Finding(tenant, "c1", s, Condition.FAILED, since=at(16), error="x") for s in steps]


def test_one_tenants_own_alerts_however_many_are_told_one_by_one(db_url: str) -> None:
    from bot.core.storm import StormRule

    store = Store(db_url, storm=StormRule(after=2, window=30))
    store.migrate()
    try:
        snapshot, _ = failed_export()
        burst = _cycle_failing_everywhere("voss")
        store.apply_poll("voss", TARGET, burst, snapshot, now=at(20), remind_after=7200)
        later = [Finding("voss", "c2", "Import HR", Condition.FAILED, since=at(21), error="y")]
        store.apply_poll("voss", TARGET, later, snapshot, now=at(21), remind_after=7200)
        posts = [m for m in store_rows.messages(store) if m.kind == "post"]
        assert len(posts) == len(burst) + 1, "each alert its own message"
        assert all(m.next_attempt_at == m.created_at for m in posts), "none held back"
        assert _digests(store) == []
    finally:
        store.dispose()


def test_a_digest_opens_when_more_than_storm_after_tenants_have_new_alerts(db_url: str) -> None:
    from bot.core.storm import StormRule

    store = Store(db_url, storm=StormRule(after=3, window=30))
    store.migrate()
    try:
        snapshot, _ = failed_export()
        for i, tenant in enumerate(("a", "b", "c")):  # three tenants, many alerts each
            now = at(20) + timedelta(seconds=i)
            findings = _cycle_failing_everywhere(tenant)
            store.apply_poll(tenant, TARGET, findings, snapshot, now=now, remind_after=7200)
        assert _digests(store) == [], "three tenants are not more than STORM_AFTER=3"
        one = [Finding("d", "c1", "Export AD", Condition.FAILED, since=at(16), error="x")]
        store.apply_poll(
            "d", TARGET, one, snapshot, now=at(20) + timedelta(seconds=4), remind_after=7200
        )
        assert len(_digests(store)) == 1, "the fourth tenant makes it a storm"
    finally:
        store.dispose()


def test_a_changed_cycle_is_written_over_the_one_seen_before(store: Store) -> None:
    """The first poll inserts the tenant's state and the cycle; later ones update both, and a
    cycle that no longer says when it started keeps the start seen before."""
    import dataclasses

    from sqlmodel import select

    from bot.core.domain import snapshot_to_dict
    from bot.store.tables import CycleRecord

    running = cycle({"Import AD": StepState.RUNNING}, upto=3, tenant="t", start=at(0))
    store.record_success("t", running, at(5))
    store.record_failure("t", "503", at(65))
    done = dataclasses.replace(cycle(tenant="t", start=at(0)), started_at=None)
    store.record_success("t", done, at(125))
    state = store.tenant_state("t")
    assert state is not None and state.failing_since is None and state.last_error is None
    assert state.last_success_at == state.last_poll_at == at(125)
    assert state.current_cycle == snapshot_to_dict(done)
    with store.session() as s:
        (row,) = s.exec(select(CycleRecord)).all()
    assert (row.started_at, row.seen_at, row.data) == (at(0), at(125), snapshot_to_dict(done))
    assert row.finished_at == done.ended_at is not None
    fresh = dataclasses.replace(running, cycle_id="c9", started_at=None)
    store.record_success("t", fresh, at(185))  # a cycle never seen, its start unknown: now
    with store.session() as s:
        rows = s.exec(select(CycleRecord)).all()
    assert {r.cycle_id: r.started_at for r in rows} == {"c1": at(0), "c9": at(185)}
