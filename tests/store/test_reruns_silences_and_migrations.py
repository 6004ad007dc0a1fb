"""The store's part in actions, on real SQLite and PostgreSQL: one rerun under way per tenant,
maintenance windows that end once, and a schema that matches its migrations."""

from __future__ import annotations

import re
import threading
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from bot.core.domain import Condition, Finding, StepState
from bot.core.rerun_status import ACTIVE, RerunStatus
from bot.store import Store, Target
from bot.store.db import MIGRATIONS
from bot.store.silences import Ended, Unsilenced
from bot.store.tables import RERUN_ACTIVE, Rerun
from tests import store_rows
from tests.cycles import at, cycle
from tests.store.ticks import tick

TENANT = "demo-kommune"


def record(store: Store, minutes: float, tenant: str = TENANT) -> Rerun | None:
    return store.record_rerun(
        tenant,
        alert_id=None,
        user_id="U1",
        runner="schtasks",
        cycle_before="c1",
        now=at(minutes),
        grace=600,
    )


def test_one_rerun_under_way_per_tenant_and_each_move_made_once(store: Store) -> None:
    first = record(store, 0)
    assert first is not None and first.id is not None and first.status == RerunStatus.REQUESTED
    assert record(store, 1) is None, "a second while the first is requested"
    assert record(store, 1, tenant="other") is not None, "another tenant's is its own"
    assert store.move_rerun(first.id, RerunStatus.STARTED)
    assert record(store, 2) is None, "a second while the first is started"
    assert [r.id for r in store.reruns_awaiting_cycle() if r.tenant == TENANT] == [first.id]
    assert store.move_rerun(first.id, RerunStatus.CONFIRMED, new_cycle_id="c2")
    assert not store.move_rerun(first.id, RerunStatus.NO_CYCLE), "a second replica's move"
    assert [r.tenant for r in store.reruns_awaiting_cycle()] == []
    assert record(store, 3) is not None, "the cool-down is the guard's, not the store's"


def test_what_the_guard_reads_of_a_tenants_reruns(store: Store) -> None:
    def standing() -> tuple[bool, Any]:
        return store.rerun_is_active(TENANT), store.last_rerun_ran_at(TENANT)

    assert standing() == (False, None)
    failed = record(store, 0)
    assert failed is not None and failed.id is not None
    assert standing() == (True, None)
    store.move_rerun(failed.id, RerunStatus.FAILED, detail="no such file")
    assert standing() == (False, None), "a runner that failed counts toward no cool-down"
    ran = record(store, 5)
    assert ran is not None and ran.id is not None
    store.move_rerun(ran.id, RerunStatus.STARTED)
    assert standing() == (True, at(5))
    store.move_rerun(ran.id, RerunStatus.NO_CYCLE)
    assert standing() == (False, at(5))
    assert (store.rerun_is_active("other"), store.last_rerun_ran_at("other")) == (False, None)


def test_the_applied_migration_keeps_the_statuses_under_way() -> None:
    # A migration is never edited once applied, so its literal is checked, not shared.
    migration = ScriptDirectory(str(MIGRATIONS)).get_revision("0002")
    assert migration is not None
    literal = migration.module.ACTIVE
    assert set(re.findall(r"'(\w+)'", literal)) == {status.value for status in ACTIVE}
    assert literal == RERUN_ACTIVE


def test_two_processes_clicking_at_once_start_one_rerun(db_url: str) -> None:
    stores = [Store(db_url), Store(db_url)]
    stores[0].migrate()
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def click(store: Store) -> None:
        barrier.wait()
        results.append(record(store, 0))

    threads = [threading.Thread(target=click, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r is None for r in results) == [False, True]
    assert len(store_rows.reruns(stores[0])) == 1
    for s in stores:
        s.dispose()


def summary(channel: str, ended: list[Ended]) -> dict[str, Any]:
    return {"text": "; ".join(f"{e.tenant}: {[a.step for a in e.told]}" for e in ended)}


def test_a_silence_ends_once_with_a_summary_of_what_it_hid(store: Store) -> None:
    store.silence(TENANT, at(0), at(30), "patching", "U1", at(0))
    snapshot = cycle({"Import AD": StepState.FAILED}, upto=3, message="LDAP bind failed")
    finding = Finding(TENANT, "c1", "Import AD", Condition.FAILED, since=at(10))
    store.apply_poll(TENANT, Target("C1", "en"), [finding], snapshot, now=at(11), remind_after=7200)
    assert store_rows.messages(store) == [], "nothing is posted inside the silence"
    assert tick(store, at(20), summarize=summary) == ([], []), "not over yet"
    assert tick(store, at(31), summarize=summary) == ([], [TENANT])
    assert tick(store, at(32), summarize=summary) == ([], []), "ended once"
    notice, post = store_rows.messages(store)
    assert notice.kind == "notice" and notice.payload == {"text": f"{TENANT}: ['Import AD']"}
    assert post.kind == "post", "what is still wrong becomes an ordinary alert"
    (alert,) = store_rows.alerts(store)
    assert not alert.silenced and alert.shown_at == at(31)


def test_a_silence_can_end_early(store: Store) -> None:
    store.silence(TENANT, at(0), at(120), None, "U1", at(0))
    assert store.end_silence(TENANT, at(5), None, ["C1"], summary) is Unsilenced.ENDED
    state = store.tenant_state(TENANT)
    assert state is not None and state.silenced_until is None and state.quiet_since is None
    (notice,) = store_rows.messages(store)
    assert notice.payload == {"text": f"{TENANT}: []"}
    assert store.end_silence(TENANT, at(6), None, ["C1"], summary) is Unsilenced.NOT_SILENCED


def test_extending_a_silence_keeps_its_start(store: Store) -> None:
    store.silence(TENANT, at(0), at(30), None, "U1", at(0))
    state = store.silence(TENANT, at(10), at(90), "longer", "U1", at(10))
    assert state.silenced_since == at(0) and state.silenced_until == at(90)
    assert state.quiet_since == at(0) and state.quiet_until == at(90)


def test_the_models_match_the_migrations(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], diff


def test_migrations_go_down_and_up_again(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    store = Store(db_url)
    store.migrate()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = store.engine
    command.downgrade(config, "base")
    assert "alert" not in sa.inspect(store.engine).get_table_names()
    store.migrate()
    assert "alert" in sa.inspect(store.engine).get_table_names()
    store.dispose()


def test_a_new_condition_speaks_up_through_a_snooze(store: Store) -> None:
    target = Target("C1", "en")
    running = cycle({"Export AD": StepState.RUNNING}, upto=5)
    stuck = Finding(TENANT, "c1", "Export AD", Condition.STUCK, since=at(15))
    store.apply_poll(TENANT, target, [stuck], running, now=at(80), remind_after=7200)
    (alert,) = store_rows.alerts(store)
    assert alert.id is not None
    store.snooze(alert.id, "U1", at(80 + 240), at(81))
    failed = cycle({"Export AD": StepState.FAILED}, upto=5, message="LDAP error 52")
    finding = Finding(TENANT, "c1", "Export AD", Condition.FAILED, since=at(90), error="LDAP")
    store.apply_poll(TENANT, target, [finding], failed, now=at(91), remind_after=7200)
    (alert,) = store_rows.alerts(store)
    assert alert.state == "open" and alert.condition == "failed" and alert.snoozed_until is None
    kinds = [(m.kind, (m.payload or {}).get("msg")) for m in store_rows.messages(store)]
    assert ("reply", "reply.changed") in kinds


def test_a_silence_summary_leaves_out_what_an_earlier_one_hid(store: Store) -> None:
    target = Target("C1", "en")
    store.silence(TENANT, at(0), at(30), "first", "U1", at(0))
    failed = cycle({"Import AD": StepState.FAILED}, upto=3, message="LDAP bind failed")
    finding = Finding(TENANT, "c1", "Import AD", Condition.FAILED, since=at(10))
    store.apply_poll(TENANT, target, [finding], failed, now=at(11), remind_after=7200)
    fixed = cycle(cycle_id="c2", start=at(20))
    store.apply_poll(TENANT, target, [], fixed, now=at(25), remind_after=7200)
    tick(store, at(31), summarize=summary)
    store.silence(TENANT, at(60), at(90), "second", "U1", at(60))
    tick(store, at(91), summarize=summary)
    first, second = (m.payload for m in store_rows.messages(store))
    assert first == {"text": f"{TENANT}: ['Import AD']"}, "resolved inside: listed, not posted"
    assert second == {"text": f"{TENANT}: []"}


def test_a_reminder_after_a_snooze_ran_out_opens_the_alert_again(store: Store) -> None:
    target = Target("C1", "en")
    failed = cycle({"Export AD": StepState.FAILED}, upto=5, message="LDAP error 52")
    finding = Finding(TENANT, "c1", "Export AD", Condition.FAILED, since=at(15))
    store.apply_poll(TENANT, target, [finding], failed, now=at(16), remind_after=3600)
    (alert,) = store_rows.alerts(store)
    assert alert.id is not None
    store.snooze(alert.id, "U1", at(76), at(17))
    store.apply_poll(TENANT, target, [finding], failed, now=at(100), remind_after=3600)
    assert store.get_alert(alert.id).state == "snoozed", "an hour has not passed since"
    store.apply_poll(TENANT, target, [finding], failed, now=at(136), remind_after=3600)
    alert = store.get_alert(alert.id)
    assert alert.state == "open" and alert.snoozed_until is None
    assert alert.last_reminded_at == at(136)
    replies = [
        (m.payload or {}).get("msg") for m in store_rows.messages(store) if m.kind == "reply"
    ]
    assert replies == ["reply.snoozed", "reply.reminder"]
