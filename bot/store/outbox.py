"""The outbox: messages owed to Slack, written in the transaction of the change that owes
them, claimed by one process at a time and marked delivered once Slack accepted them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core.notify import OutboxKind
from bot.store.db import Database
from bot.store.tables import Alert, AlertCopy, Digest, Outbox


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


def _thread(row: Outbox) -> tuple[str, int] | None:
    """The message in Slack a row is about, whose rows must go in order."""
    if row.digest_id is not None:
        return ("digest", row.digest_id)
    if row.copy_id is not None:
        return ("copy", row.copy_id)
    if row.alert_id is not None:
        return ("alert", row.alert_id)
    return None


class OutboxStore(Database):
    def due_messages(self, now: datetime, limit: int = 50) -> list[Outbox]:
        """Undelivered messages whose time has come, oldest first, and per message in Slack
        (an alert's copy in one channel, a digest) only the oldest: an update must not
        overtake its post."""
        with self.session() as s:
            pending = s.exec(
                select(Outbox)
                .where(col(Outbox.delivered_at).is_(None))
                .order_by(col(Outbox.id))
                .limit(limit * 4)
            ).all()
        due: list[Outbox] = []
        blocked: set[tuple[str, int]] = set()
        for row in pending:
            if (key := _thread(row)) is not None:
                if key in blocked:
                    continue
                blocked.add(key)
            if row.next_attempt_at and row.next_attempt_at > now:
                continue
            if row.claimed_until and row.claimed_until > now:
                continue
            due.append(row)
            if len(due) >= limit:
                break
        return due

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
