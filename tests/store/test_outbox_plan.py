"""The outbox read for delivery, on real SQLite and real PostgreSQL: every row still owed, in
the order `outbox_order` gives (a new alert before older news), and redraws a newer one makes
needless marked done without a call."""

from __future__ import annotations

from datetime import timedelta

from bot.core.notify import OutboxKind
from bot.core.outbox_order import plan
from bot.store import Store
from bot.store.tables import Digest, Outbox
from tests import store_rows
from tests.cycles import at

NOW = at(100)


def owe(store: Store, kind: OutboxKind, **where: int | None) -> int:
    with store.session() as s:
        row = Outbox(
            tenant="t", kind=kind.value, channel="C1", created_at=NOW, next_attempt_at=NOW, **where
        )
        s.add(row)
        s.commit()
        assert row.id is not None
        return row.id


def test_a_new_alert_goes_before_older_news(store: Store) -> None:
    redraw = owe(store, OutboxKind.UPDATE, alert_id=1, copy_id=1)
    first = owe(store, OutboxKind.REPLY, alert_id=1, copy_id=1)
    owe(store, OutboxKind.REPLY, alert_id=1, copy_id=1)  # behind the line before it
    other = owe(store, OutboxKind.REPLY, alert_id=2, copy_id=2)
    post = owe(store, OutboxKind.POST, alert_id=3, copy_id=3)
    notice = owe(store, OutboxKind.NOTICE)
    due = [m.id for m in store.due_messages(NOW)]
    assert due == [notice, post, first, other, redraw]


def test_rows_waiting_or_held_block_their_message_only(store: Store) -> None:
    first = owe(store, OutboxKind.POST, alert_id=1, copy_id=1)
    owe(store, OutboxKind.REPLY, alert_id=1, copy_id=1)
    other = owe(store, OutboxKind.POST, alert_id=2, copy_id=2)
    store.delivery_failed(first, "Slack could not be reached", NOW + timedelta(seconds=8))
    assert [m.id for m in store.due_messages(NOW)] == [other]
    assert store.claim_message(other, "a", NOW, ttl=60)
    assert store.due_messages(NOW) == []
    (waiting, held) = [p for p in store.pending_messages(NOW) if p.id in (first, other)]
    assert (waiting.due, waiting.claimed, held.due, held.claimed) == (False, False, False, True)


def test_a_redraw_a_newer_one_makes_needless_is_done_without_a_call(store: Store) -> None:
    old = owe(store, OutboxKind.UPDATE, alert_id=1, copy_id=1)
    reply = owe(store, OutboxKind.REPLY, alert_id=1, copy_id=1)
    new = owe(store, OutboxKind.UPDATE, alert_id=1, copy_id=1)
    planned = plan(store.pending_messages(NOW))
    assert planned.superseded == {old: new}
    assert store.supersede(planned.superseded, NOW) == 1
    assert [m.id for m in store.due_messages(NOW)] == [reply, new]
    done = {m.id: m for m in store_rows.messages(store)}[old]
    assert done.delivered_at == NOW and done.result_ts is None
    assert done.last_error == f"superseded by message {new}"


def test_a_redraw_on_its_way_is_not_superseded(store: Store) -> None:
    old = owe(store, OutboxKind.UPDATE, alert_id=1, copy_id=1)
    new = owe(store, OutboxKind.UPDATE, alert_id=1, copy_id=1)
    assert store.claim_message(old, "a", NOW, ttl=60)
    assert store.supersede({old: new}, NOW) == 0  # another process raced the plan to it
    assert store.due_messages(NOW) == []  # the newer waits for it


def test_a_digest_is_known_as_drawn_once_in_slack(store: Store) -> None:
    with store.session() as s:
        told = Digest(target="C1", channel="C1", opened_at=NOW)
        s.add(told)
        s.commit()
        digest_id = told.id
    first = owe(store, OutboxKind.DIGEST, digest_id=digest_id)
    (pending,) = store.pending_messages(NOW)
    assert pending.thread == ("digest", digest_id) and not pending.drawn
    store.delivered(first, "1.000", "C1", NOW)
    owe(store, OutboxKind.DIGEST, digest_id=digest_id)
    (pending,) = store.pending_messages(NOW)
    assert pending.drawn
