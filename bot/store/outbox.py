"""The outbox: messages owed to Slack, written in the transaction of the change that owes
them, claimed by one process at a time and marked delivered once Slack accepted them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core import outbox_order
from bot.core.notify import OutboxKind
from bot.core.outbox_order import Pending, Thread
from bot.store.db import Database
from bot.store.tables import Alert, AlertCopy, Digest, Outbox

PENDING_READ = 5000  # undelivered rows read per pass, at most (a few columns each)


def _aware(value: datetime | None) -> datetime | None:
    """A time read by a bare column select: SQLite forgets the zone the table type restores."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def owe_channel_notice(
    s: Session, tenant: str, channel: str, payload: dict[str, Any], now: datetime
) -> None:
    """Add a channel message tied to no alert, in the caller's transaction."""
    s.add(
        Outbox(
            tenant=tenant,
            kind=OutboxKind.NOTICE.value,
            channel=channel,
            payload=payload,
            created_at=now,
            next_attempt_at=now,
        )
    )


def _thread(copy_id: int | None, digest_id: int | None, alert_id: int | None) -> Thread | None:
    """The message in Slack a row is about, whose rows must go in order."""
    if digest_id is not None:
        return ("digest", digest_id)
    if copy_id is not None:
        return ("copy", copy_id)
    if alert_id is not None:
        return ("alert", alert_id)
    return None


class OutboxStore(Database):
    def pending_messages(self, now: datetime, limit: int = PENDING_READ) -> list[Pending]:
        """Every undelivered message, oldest first, as `bot.core.outbox_order` needs to know
        it: a few columns each, so that a new alert is seen however much older news waits."""
        with self.session() as s:
            found = s.execute(
                sa.select(
                    Outbox.id,
                    Outbox.kind,
                    Outbox.channel,
                    Outbox.copy_id,
                    Outbox.digest_id,
                    Outbox.alert_id,
                    Outbox.next_attempt_at,
                    Outbox.claimed_until,
                    Digest.message_ts,
                )
                .outerjoin(Digest, col(Digest.id) == col(Outbox.digest_id))
                .where(col(Outbox.delivered_at).is_(None))
                .order_by(col(Outbox.id))
                .limit(limit)
            ).all()
        pending = []
        for id_, kind, channel, copy_id, digest_id, alert_id, retry_at, held, drawn in found:
            held = _aware(held) is not None and _aware(held) > now
            pending.append(
                Pending(
                    id=id_,
                    kind=kind,
                    channel=channel,
                    thread=_thread(copy_id, digest_id, alert_id),
                    due=not held and not (retry_at is not None and _aware(retry_at) > now),
                    claimed=held,
                    drawn=drawn is not None,
                )
            )
        return pending

    def messages(self, ids: Sequence[int]) -> list[Outbox]:
        """The rows with these IDs, in the order given."""
        if not ids:
            return []
        with self.session() as s:
            found = {
                row.id: row for row in s.exec(select(Outbox).where(col(Outbox.id).in_(ids))).all()
            }
        return [found[i] for i in ids if i in found]

    def due_messages(self, now: datetime, limit: int = 50) -> list[Outbox]:
        """Undelivered messages whose time has come, in the order they go
        (`outbox_order.plan`): per message in Slack only the oldest, so an update never
        overtakes its post."""
        turns = outbox_order.plan(self.pending_messages(now)).turns[:limit]
        return self.messages([t.row.id for t in turns])

    def supersede(self, needless: Mapping[int, int], now: datetime) -> int:
        """Mark redraws a newer redraw of the same message makes needless as delivered,
        without a call (those no process holds); returns how many."""
        done = 0
        with self.session() as s:
            for message_id, newer in needless.items():
                result = s.execute(
                    sa.update(Outbox)
                    .where(col(Outbox.id) == message_id)
                    .where(col(Outbox.delivered_at).is_(None))
                    .where(
                        sa.or_(
                            col(Outbox.claimed_until).is_(None), col(Outbox.claimed_until) <= now
                        )
                    )
                    .values(delivered_at=now, last_error=f"superseded by message {newer}")
                )
                done += result.rowcount  # type: ignore[attr-defined]
            s.commit()
        return done

    def claim_message(self, message_id: int, owner: str, now: datetime, ttl: float) -> bool:
        with self.session() as s:
            result = s.execute(
                sa.update(Outbox)
                .where(col(Outbox.id) == message_id)
                .where(col(Outbox.delivered_at).is_(None))
                .where(
                    sa.or_(
                        col(Outbox.claimed_until).is_(None),
                        col(Outbox.claimed_until) <= now,
                    )
                )
                .values(
                    claimed_by=owner,
                    claimed_until=now + timedelta(seconds=ttl),
                    attempts=Outbox.attempts + 1,
                )
            )
            s.commit()
            return result.rowcount == 1  # type: ignore[attr-defined]

    def delivered(
        self, message_id: int, ts: str | None, channel: str | None, now: datetime
    ) -> None:
        """Mark a message delivered; a post also gives its alert the Slack message reference."""
        with self.session() as s:
            row = s.get(Outbox, message_id)
            if row is None:
                return
            row.delivered_at = now
            row.result_ts = ts
            row.claimed_until = None
            row.last_error = None
            s.add(row)
            # Slack answers with the channel's ID even when we posted to its name, and
            # chat.update wants the ID.
            copy = s.get(AlertCopy, row.copy_id) if row.copy_id is not None else None
            if row.kind == OutboxKind.POST and ts and copy is not None:
                copy.message_ts = ts
                copy.channel = channel or copy.channel
                s.add(copy)
            if row.kind == OutboxKind.POST and row.alert_id is not None and ts:
                alert = s.get(Alert, row.alert_id)
                if alert is not None and (copy is None or copy.primary):
                    alert.message_ts = ts
                    alert.channel = channel or alert.channel
                    s.add(alert)
            if row.kind == OutboxKind.DIGEST and row.digest_id is not None and ts:
                told = s.get(Digest, row.digest_id)
                if told is not None and told.message_ts is None:
                    told.message_ts = ts
                    told.channel = channel or told.channel
                    s.add(told)
            s.commit()

    def delivery_failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        with self.session() as s:
            row = s.get(Outbox, message_id)
            if row is None:
                return
            row.last_error = error
            row.next_attempt_at = retry_at
            row.claimed_until = None
            s.add(row)
            s.commit()

    def outbox_depth(self) -> int:
        with self.session() as s:
            return s.exec(
                select(sa.func.count())
                .select_from(Outbox)
                .where(col(Outbox.delivered_at).is_(None))
            ).one()

    def owe_notice(self, tenant: str, channel: str, payload: dict[str, Any], now: datetime) -> None:
        """A channel message tied to no alert (a maintenance window's start, say)."""
        with self.session() as s:
            owe_channel_notice(s, tenant, channel, payload, now)
            s.commit()
