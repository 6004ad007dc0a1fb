"""Where an alert's messages go: one outbox row per copy (channel), or, for a copy in a storm
digest, a redraw of the digest or a line in its thread. The routes are decided in
`bot.core.storm`; this module reads what they need and writes what they say, in the
caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.core import storm as storm_rules
from bot.core.domain import Condition
from bot.core.lifecycle import AlertState
from bot.core.notify import DIGEST, Message, OutboxKind
from bot.store.db import Database
from bot.store.tables import Alert, AlertCopy, Digest, Outbox


def add_copies(s: Session, alert: Alert, channels: Sequence[str]) -> None:
    """An alert's copy in each channel it goes to; the first is its own message."""
    assert alert.id is not None
    seen: set[str] = set()
    for index, channel in enumerate(channels):
        if channel in seen:
            continue
        seen.add(channel)
        s.add(AlertCopy(alert_id=alert.id, target=channel, channel=channel, primary=index == 0))
    s.flush()


def owe(
    s: Session,
    alert: Alert,
    message: Message,
    now: datetime,
    storm: storm_rules.StormRule | None = None,
) -> None:
    """Add what `message` about `alert` owes to the outbox, for every channel it is in (a
    message for a channel of its own, such as the escalation channel, once, there)."""
    copies = list(s.exec(select(AlertCopy).where(AlertCopy.alert_id == alert.id)).all())
    if message.channel is not None:
        _owe_elsewhere(s, alert, copies, message, now)
        return
    if not copies:  # an alert from before copies existed: its one channel
        _row(s, alert.tenant, alert.channel, message, now, alert_id=alert.id)
        return
    for copy in copies:
        if copy.digest_id is not None:
            _owe_in_digest(s, alert, copy, message, now)
        elif message.kind is OutboxKind.POST and copy.message_ts is None:
            _owe_post(s, alert, copy, message, now, storm or storm_rules.StormRule())
        else:
            _row(s, alert.tenant, copy.channel, message, now, alert_id=alert.id, copy=copy)


def _row(
    s: Session,
    tenant: str,
    channel: str,
    message: Message,
    when: datetime,
    *,
    alert_id: int | None = None,
    copy: AlertCopy | None = None,
    digest_id: int | None = None,
) -> None:
    s.add(
        Outbox(
            tenant=tenant,
            alert_id=alert_id,
            kind=message.kind.value,
            channel=channel,
            payload=message.payload,
            created_at=when,
            next_attempt_at=when,
            copy_id=copy.id if copy else None,
            digest_id=digest_id,
        )
    )


def _owe_elsewhere(
    s: Session, alert: Alert, copies: Sequence[AlertCopy], message: Message, now: datetime
) -> None:
    """A message in a channel outside the alert's own that links the alert: it waits behind
    the alert's own message (or its digest's), whose link it carries."""
    assert message.channel is not None
    primary = next((c for c in copies if c.primary), copies[0] if copies else None)
    _row(
        s,
        alert.tenant,
        message.channel,
        message,
        now,
        alert_id=alert.id,
        copy=primary,
        digest_id=primary.digest_id if primary else None,
    )


def _owe_post(
    s: Session,
    alert: Alert,
    copy: AlertCopy,
    message: Message,
    now: datetime,
    storm: storm_rules.StormRule,
) -> None:
    since = now - timedelta(seconds=storm.window)
    tenants = s.exec(
        select(Alert.tenant)
        .join(AlertCopy, col(AlertCopy.alert_id) == col(Alert.id))
        .where(AlertCopy.target == copy.target)
        .where(col(AlertCopy.owed_at) >= since)
        .where(col(AlertCopy.id) != copy.id)
    ).all()
    others = len(set(tenants) - {alert.tenant})  # STORM_AFTER counts tenants, not alerts
    current = s.exec(
        select(Digest)
        .where(Digest.target == copy.target)
        .where(col(Digest.closed_at).is_(None))
        .order_by(col(Digest.id).desc())
    ).first()
    gathering = current is not None and storm_rules.gathering(
        current.last_added_at, now, storm.window
    )
    route = storm_rules.route_new(others, gathering, after=storm.after)
    copy.owed_at = now
    s.add(copy)
    match route:
        case storm_rules.Route.POST_NOW:
            _row(s, alert.tenant, copy.channel, message, now, alert_id=alert.id, copy=copy)
        case storm_rules.Route.POST_HELD:
            later = now + timedelta(seconds=storm_rules.HOLD)
            _row(s, alert.tenant, copy.channel, message, later, alert_id=alert.id, copy=copy)
        case storm_rules.Route.JOIN:
            assert current is not None
            _join(s, current, copy, now)
        case storm_rules.Route.START:
            opened = Digest(
                target=copy.target,
                channel=copy.channel,
                language=alert.language,
                opened_at=now,
                last_added_at=now,
            )
            s.add(opened)
            s.flush()
            _absorb(s, opened, since, now)
            _join(s, opened, copy, now)


def _absorb(s: Session, opened: Digest, since: datetime, now: datetime) -> None:
    """The channel's held posts not yet sent join the digest instead. A post a process has
    already claimed is left to go out on its own: it is never told twice."""
    held = s.exec(
        select(AlertCopy)
        .where(AlertCopy.target == opened.target)
        .where(col(AlertCopy.owed_at) >= since)
        .where(col(AlertCopy.digest_id).is_(None))
        .where(col(AlertCopy.message_ts).is_(None))
    ).all()
    for copy in held:
        taken = s.execute(
            sa.update(Outbox)
            .where(col(Outbox.copy_id) == copy.id)
            .where(col(Outbox.kind) == OutboxKind.POST.value)
            .where(col(Outbox.delivered_at).is_(None))
            .where(sa.or_(col(Outbox.claimed_until).is_(None), col(Outbox.claimed_until) <= now))
            .values(delivered_at=now, last_error=f"told in storm digest {opened.id}")
        )
        if taken.rowcount:  # type: ignore[attr-defined]
            copy.digest_id = opened.id
            s.add(copy)


def _join(s: Session, into: Digest, copy: AlertCopy, now: datetime) -> None:
    copy.digest_id = into.id
    into.last_added_at = now
    s.add(copy)
    s.add(into)
    _redraw(s, into, now)


def _owe_in_digest(
    s: Session, alert: Alert, copy: AlertCopy, message: Message, now: datetime
) -> None:
    told = storm_rules.in_digest(message)
    if told is None:
        return
    current = s.get(Digest, copy.digest_id)
    if current is None:
        return
    if told.kind is OutboxKind.DIGEST:
        _redraw(s, current, now)
    else:
        _row(
            s,
            alert.tenant,
            current.channel,
            told,
            now,
            alert_id=alert.id,
            copy=copy,
            digest_id=current.id,
        )


def _redraw(s: Session, current: Digest, now: datetime) -> None:
    """Owe the digest's message (posted the first time, redrawn after), unless a redraw is
    already waiting: it will show the digest as it is when it is sent. Once every alert in it
    has recovered, the digest is closed and takes no more."""
    assert current.id is not None
    members = s.exec(
        select(Alert.resolved_at)
        .join(AlertCopy, col(AlertCopy.alert_id) == col(Alert.id))
        .where(AlertCopy.digest_id == current.id)
    ).all()
    if members and all(resolved is not None for resolved in members):
        current.closed_at = now
        s.add(current)
    waiting = s.exec(
        select(Outbox.id)
        .where(Outbox.digest_id == current.id)
        .where(Outbox.kind == OutboxKind.DIGEST.value)
        .where(col(Outbox.delivered_at).is_(None))
        .where(col(Outbox.claimed_until).is_(None))
    ).first()
    if waiting is None:
        _row(s, "", current.channel, DIGEST, now, digest_id=current.id)


class DigestStore(Database):
    storm: storm_rules.StormRule  # given to Store's constructor

    def digest(self, digest_id: int) -> tuple[Digest, list[storm_rules.Member]] | None:
        """A digest and its alerts, as the digest shows them."""
        with self.session() as s:
            found = s.get(Digest, digest_id)
            if found is None:
                return None
            rows = s.exec(
                select(Alert)
                .join(AlertCopy, col(AlertCopy.alert_id) == col(Alert.id))
                .where(AlertCopy.digest_id == digest_id)
                .order_by(col(Alert.id))
            ).all()
            members = [
                storm_rules.Member(
                    alert_id=row.id or 0,
                    tenant=row.tenant,
                    step=row.step,
                    condition=Condition(row.condition),
                    state=AlertState(row.state),
                    acked_by=row.acked_by,
                )
                for row in rows
            ]
            return found, members

    def in_digest_message(self, alert_id: int, channel: str, message_ts: str) -> bool:
        """Whether the alert is one the digest message at `channel`/`message_ts` tells: its
        picker opens those alone, whatever ID a click carries."""
        with self.session() as s:
            found = s.exec(
                select(AlertCopy.id)
                .join(Digest, col(Digest.id) == col(AlertCopy.digest_id))
                .where(AlertCopy.alert_id == alert_id)
                .where(Digest.channel == channel)
                .where(Digest.message_ts == message_ts)
            ).first()
            return found is not None

    def copy(self, copy_id: int) -> AlertCopy | None:
        with self.session() as s:
            return s.get(AlertCopy, copy_id)
