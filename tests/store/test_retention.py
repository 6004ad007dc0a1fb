"""What the purge deletes, on real SQLite and PostgreSQL: each kind only when old enough, with
what belongs to it, never more than a batch at once; the lease that lets one process at a
time run it; and the migration that scrubbed identity numbers from what was already stored."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlmodel import select

from bot.store import Store
from bot.store.retention import Kept
from bot.store.tables import (
    Alert,
    AlertCopy,
    AuditEntry,
    CycleRecord,
    Digest,
    Outbox,
    Rerun,
    TenantState,
)
from testkit.identity import spaced, synthetic_fnr
from tests.cycles import at

NOW = at(0) + timedelta(days=400)
OLD, RECENT = NOW - timedelta(days=100), NOW - timedelta(days=10)


def table(name: str, *columns: str, **documents: bool) -> sa.TableClause:
    """A table as the migration before 0004 left it, for inserting rows the old way."""
    return sa.table(
        name, *(sa.column(c) for c in columns), *(sa.column(d, sa.JSON) for d in documents)
    )


def count(store: Store, model: type) -> int:
    with store.session() as s:
        return len(s.exec(select(model)).all())


def seed(store: Store) -> None:
    """For each kind, one row past the cut-off (90 days) and one inside it."""
    with store.session() as s:
        for when, name in ((OLD, "old"), (RECENT, "new")):
            s.add(CycleRecord(tenant="voss", cycle_id=name, seen_at=when, data={"steps": []}))
            alert = Alert(key=name, tenant="voss", condition="failed", channel="C1")
            alert.resolved_at = when
            s.add(alert)
            s.flush()
            s.add(AlertCopy(alert_id=alert.id, target="C1", channel="C1", primary=True))
            s.add(Outbox(tenant="voss", alert_id=alert.id, kind="post", channel="C1"))
            digest = Digest(target="C1", channel="C1", closed_at=when)
            s.add(digest)
            s.flush()
            s.add(Outbox(tenant="", digest_id=digest.id, kind="digest", channel="C1"))
            s.add(
                Rerun(
                    tenant="voss",
                    requested_by="U1",
                    requested_at=when,
                    runner="x",
                    status="confirmed",
                )
            )
            s.add(AuditEntry(at=when, action="ack", result="done"))
            s.add(Outbox(tenant="voss", kind="notice", channel="C1", delivered_at=when))
        # Under way, a rerun stays however old; so does a configured tenant's state.
        s.add(Rerun(tenant="os", requested_by="U1", requested_at=OLD, runner="x", status="started"))
        s.add(TenantState(tenant="gone", last_poll_at=OLD))
        s.add(TenantState(tenant="voss", last_poll_at=OLD))
        s.add(TenantState(tenant="new", last_poll_at=RECENT))
        s.commit()


def test_each_kind_goes_when_old_enough_with_what_belongs_to_it(store: Store) -> None:
    seed(store)
    before = NOW - timedelta(days=90)
    assert store.purge(Kept.DELIVERED, NOW - timedelta(days=1), 500) == 2  # both notices
    for kept in (Kept.ALERTS, Kept.DIGESTS, Kept.RERUNS, Kept.CYCLES, Kept.AUDIT):
        assert store.purge(kept, before, 500) == 1, kept
    assert store.purge(Kept.TENANTS, before, 500, configured=["voss"]) == 1
    with store.session() as s:
        assert [c.cycle_id for c in s.exec(select(CycleRecord))] == ["new"]
        (alert,) = s.exec(select(Alert)).all()
        assert alert.key == "new"
        assert [c.alert_id for c in s.exec(select(AlertCopy))] == [alert.id]
        rows = s.exec(select(Outbox)).all()
        assert {(o.kind, o.alert_id is not None) for o in rows} == {
            ("post", True),
            ("digest", False),
        }
        assert [d.closed_at for d in s.exec(select(Digest))] == [RECENT]
        assert sorted(r.status for r in s.exec(select(Rerun))) == ["confirmed", "started"]
        assert [a.at for a in s.exec(select(AuditEntry))] == [RECENT]
        assert sorted(t.tenant for t in s.exec(select(TenantState))) == ["new", "voss"]
    for kept in Kept:
        assert store.purge(kept, before, 500, configured=["voss"]) == 0, "nothing left to go"


def test_a_batch_deletes_no_more_than_its_limit(store: Store) -> None:
    with store.session() as s:
        for n in range(25):
            s.add(AuditEntry(at=OLD - timedelta(minutes=n), action="status", result="shown"))
        s.commit()
    assert [store.purge(Kept.AUDIT, RECENT, 10) for _ in range(4)] == [10, 10, 5, 0]
    assert count(store, AuditEntry) == 0


def test_one_process_at_a_time_holds_the_daily_job(store: Store) -> None:
    hold = 23 * 3600.0
    assert store.claim_job("purge", "a", NOW, hold)
    assert not store.claim_job("purge", "b", NOW + timedelta(hours=5), hold)
    assert not store.claim_job("purge", "a", NOW + timedelta(hours=22), hold), "once a day"
    assert store.claim_job("purge", "b", NOW + timedelta(hours=23), hold)
    store.job_done("purge", NOW + timedelta(hours=23, minutes=1))


def test_the_migration_scrubbed_identity_numbers_already_stored(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from bot.store.db import MIGRATIONS

    store = Store(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = store.engine
    command.upgrade(config, "0003")
    number, d_number = synthetic_fnr(8, 8, 1958), synthetic_fnr(22, 1, 1999, d_number=True)
    text = f"Bruker {number} og {spaced(d_number, '.')} mangler; ordre 12345678901"
    cycle = {"steps": [{"name": "Export AD", "message": text}], "cycle_id": "c1"}
    with store.engine.begin() as conn:
        rows = [{"tenant": "voss", "cycle_id": f"c{n:04d}", "data": cycle} for n in range(1200)]
        conn.execute(sa.insert(table("cycle", "tenant", "cycle_id", data=True)), rows)
        alert = {"id": 1, "key": "k", "tenant": "voss", "condition": "failed", "channel": "C1"}
        alert |= {"language": "en", "state": "open", "silenced": False, "error": text}
        conn.execute(sa.insert(table("alert", *alert, cycle=True)), [{**alert, "cycle": cycle}])
        state = {"tenant": "voss", "last_error": text, "silence_reason": text}
        conn.execute(sa.insert(table("tenant_state", *state)), [state])
        owed = {"tenant": "voss", "kind": "reply", "channel": "C1", "attempts": 0}
        payload = {"text": text, "params": {"error": text}}
        conn.execute(
            sa.insert(table("outbox", *owed, payload=True)), [{**owed, "payload": payload}]
        )
        entry = {"action": "silence", "result": "done", "detail": text}
        conn.execute(sa.insert(table("audit", *entry)), [entry])
        rerun = {"tenant": "voss", "requested_by": "U1", "runner": "x", "status": "failed"}
        conn.execute(sa.insert(table("rerun", *rerun, "detail")), [{**rerun, "detail": text}])
    store.migrate()
    with store.engine.connect() as conn:
        everything = " ".join(
            repr(conn.execute(sa.text(f'SELECT * FROM "{table}"')).all())
            for table in ("cycle", "alert", "tenant_state", "outbox", "audit", "rerun")
        )
    assert (
        number not in everything and d_number not in everything and d_number[:6] not in everything
    )
    assert everything.count("Bruker [fnr] og [fnr] mangler; ordre 12345678901") >= 1200 + 6
    assert "job_lease" in sa.inspect(store.engine).get_table_names()
    store.dispose()
