"""The store's named operations. Every read and write of the database goes through here.

Written for several processes on one database: poll leases and outbox claims are conditional
UPDATEs that only one process can win, and an alert's key is unique among unresolved alerts,
so the same finding cannot be opened twice. Nothing here talks to Slack or eAdm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, create_engine, select

from bot.core.detect import SourceHealth
from bot.core.domain import (
    Condition,
    Finding,
    Snapshot,
    snapshot_from_dict,
    snapshot_to_dict,
)
from bot.core.lifecycle import (
    AlertState,
    AlertView,
    Change,
    Decision,
    Keep,
    Open,
    Remind,
    Resolve,
    plan,
)
from bot.store.tables import Alert, AuditEntry, CycleRecord, Outbox, Rerun, TenantState

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a tenant's alerts go and in which language."""

    channel: str
    language: str


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}
            )
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)

    # -- schema and health --------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to the newest version (Alembic upgrade head)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        command.upgrade(config, "head")

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            return True
        except Exception as exc:  # any driver error means "not reachable"
            log.warning("database not reachable: %s", exc)
            return False

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    # -- polling ---------------------------------------------------------------------------

    def claim_poll(self, tenant: str, owner: str, now: datetime, ttl: float) -> bool:
        """Take this tenant's poll for this tick. Exactly one process wins a given tick."""
        with self.session() as s:
            if s.get(TenantState, tenant) is None:
                s.add(TenantState(tenant=tenant))
                try:
                    s.commit()
                except IntegrityError:
                    s.rollback()
            result = s.execute(
                sa.update(TenantState)
                .where(col(TenantState.tenant) == tenant)
                .where(
                    sa.or_(
                        col(TenantState.lease_until).is_(None),
                        col(TenantState.lease_until) <= now,
                    )
                )
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=ttl))
            )
            s.commit()
            return result.rowcount == 1  # type: ignore[attr-defined]

    def record_success(self, tenant: str, snapshot: Snapshot, now: datetime) -> None:
        with self.session() as s:
            state = s.get(TenantState, tenant) or TenantState(tenant=tenant)
            state.last_poll_at = now
            state.last_success_at = now
            state.failing_since = None
            state.last_error = None
            state.current_cycle = snapshot_to_dict(snapshot)
            s.add(state)
            _upsert_cycle(s, snapshot, now)
            s.commit()

    def record_failure(self, tenant: str, error: str, now: datetime) -> SourceHealth:
        with self.session() as s:
            state = s.get(TenantState, tenant) or TenantState(tenant=tenant)
            state.last_poll_at = now
            state.failing_since = state.failing_since or now
            state.last_error = error
            s.add(state)
            s.commit()
            return SourceHealth(tenant=tenant, failing_since=state.failing_since, error=error)

    def record_history(self, tenant: str, snapshots: Sequence[Snapshot], now: datetime) -> None:
        with self.session() as s:
            for snapshot in snapshots:
                _upsert_cycle(s, snapshot, now)
            s.commit()

    def tenant_state(self, tenant: str) -> TenantState | None:
        with self.session() as s:
            return s.get(TenantState, tenant)

    def recent_cycles(self, tenant: str, limit: int = 20) -> list[Snapshot]:
        with self.session() as s:
            rows = s.exec(
                select(CycleRecord)
                .where(CycleRecord.tenant == tenant)
                .order_by(col(CycleRecord.started_at).desc())
                .limit(limit)
            ).all()
            return [snapshot_from_dict(row.data) for row in rows if row.data]

    # -- alerts ------------------------------------------------------------------------------

    def apply_findings(
        self,
        tenant: str,
        target: Target,
        findings: Sequence[Finding],
        snapshot: Snapshot | None,
        *,
        now: datetime,
        remind_after: float,
    ) -> list[Decision]:
        """Plan the lifecycle decisions for this poll and write them with the messages they
        owe, in one transaction. Retries once when another process opened an alert first."""
        for attempt in (1, 2):
            try:
                return self._apply(tenant, target, findings, snapshot, now, remind_after)
            except IntegrityError:
                if attempt == 2:
                    raise
                log.info("[%s] another process recorded the same alert; re-reading", tenant)
        raise AssertionError("unreachable")

    def _apply(
        self,
        tenant: str,
        target: Target,
        findings: Sequence[Finding],
        snapshot: Snapshot | None,
        now: datetime,
        remind_after: float,
    ) -> list[Decision]:
        with self.session() as s:
            rows = _unresolved(s, tenant)
            by_id = {row.id: row for row in rows}
            decisions = plan(
                [_view(row) for row in rows],
                findings,
                snapshot,
                now=now,
                remind_after=remind_after,
            )
            silenced = _silenced(s, tenant, now)
            cycle = snapshot_to_dict(snapshot) if snapshot else None
            for decision in decisions:
                match decision:
                    case Open(finding):
                        alert = Alert(
                            key=finding.key,
                            tenant=tenant,
                            cycle_id=finding.cycle_id,
                            step=finding.step,
                            condition=finding.condition.value,
                            error=finding.error,
                            since=finding.since,
                            opened_at=now,
                            updated_at=now,
                            channel=target.channel,
                            language=target.language,
                            cycle=cycle,
                            silenced=silenced,
                        )
                        s.add(alert)
                        s.flush()
                        if not silenced:
                            _owe(s, alert, "post", now)
                    case Change(alert_id, finding, previous):
                        alert = by_id[alert_id]
                        alert.condition = finding.condition.value
                        alert.error = finding.error
                        alert.since = finding.since
                        alert.updated_at = now
                        alert.cycle = cycle or alert.cycle
                        if alert.state == AlertState.SNOOZED:
                            # A new condition speaks up even through a snooze.
                            alert.state = AlertState.OPEN.value
                            alert.snoozed_until = None
                        s.add(alert)
                        if not alert.silenced:
                            _owe(s, alert, "update", now)
                            _owe_reply(
                                s,
                                alert,
                                "reply.changed",
                                now,
                                previous=previous.value,
                                condition=finding.condition.value,
                            )
                    case Keep(alert_id, finding):
                        alert = by_id[alert_id]
                        if cycle and alert.cycle != cycle and alert.cycle_id == finding.cycle_id:
                            alert.cycle = cycle
                            alert.error = finding.error
                            s.add(alert)
                    case Remind(alert_id):
                        alert = by_id[alert_id]
                        alert.last_reminded_at = now
                        if alert.state == AlertState.SNOOZED:
                            alert.state = AlertState.OPEN.value
                            alert.snoozed_until = None
                        s.add(alert)
                        if not alert.silenced:
                            _owe_reply(s, alert, "reply.reminder", now)
                    case Resolve(alert_id, resolution):
                        alert = by_id[alert_id]
                        alert.state = AlertState.RESOLVED.value
                        alert.resolution = resolution.value
                        alert.resolved_at = now
                        alert.updated_at = now
                        if alert.cycle_id == (snapshot.cycle_id if snapshot else None):
                            alert.cycle = cycle
                        s.add(alert)
                        if not alert.silenced:
                            _owe(s, alert, "update", now)
                            opened = alert.since or alert.opened_at or now
                            _owe_reply(
                                s,
                                alert,
                                "reply.resolved",
                                now,
                                resolution=resolution.value,
                                seconds=int((now - opened).total_seconds()),
                            )
            s.commit()
            return decisions

    def get_alert(self, alert_id: int) -> Alert | None:
        with self.session() as s:
            return s.get(Alert, alert_id)

    def unresolved_alerts(self, tenant: str | None = None) -> list[Alert]:
        with self.session() as s:
            query = select(Alert).where(col(Alert.resolved_at).is_(None))
            if tenant is not None:
                query = query.where(Alert.tenant == tenant)
            return list(s.exec(query.order_by(col(Alert.id))).all())

    def alerts(self, tenant: str | None = None) -> list[Alert]:
        with self.session() as s:
            query = select(Alert)
            if tenant is not None:
                query = query.where(Alert.tenant == tenant)
            return list(s.exec(query.order_by(col(Alert.id))).all())

    def acknowledge(self, alert_id: int, user_id: str, now: datetime) -> Alert | None:
        """Mark an alert acknowledged; the message shows who is on it. None if resolved."""
        with self.session() as s:
            alert = s.get(Alert, alert_id)
            if alert is None or alert.resolved_at is not None:
                return None
            if alert.state != AlertState.ACKNOWLEDGED:
                alert.state = AlertState.ACKNOWLEDGED.value
                alert.acked_by = user_id
                alert.acked_at = now
                alert.snoozed_until = None
                alert.updated_at = now
                s.add(alert)
                _owe(s, alert, "update", now)
                _owe_reply(s, alert, "reply.acknowledged", now, user=user_id)
            s.commit()
            return alert

    def snooze(self, alert_id: int, user_id: str, until: datetime, now: datetime) -> Alert | None:
        """Quiet an alert's reminders until `until`. None if resolved."""
        with self.session() as s:
            alert = s.get(Alert, alert_id)
            if alert is None or alert.resolved_at is not None:
                return None
            alert.state = AlertState.SNOOZED.value
            alert.snoozed_until = until
            alert.snoozed_by = user_id
            alert.updated_at = now
            s.add(alert)
            _owe(s, alert, "update", now)
            _owe_reply(s, alert, "reply.snoozed", now, user=user_id, until=until.isoformat())
            s.commit()
            return alert

    def set_ticket(
        self, alert_id: int, ref: str, url: str | None, user_id: str, now: datetime
    ) -> Alert | None:
        with self.session() as s:
            alert = s.get(Alert, alert_id)
            if alert is None:
                return None
            alert.ticket_ref = ref
            alert.ticket_url = url
            alert.updated_at = now
            s.add(alert)
            _owe(s, alert, "update", now)
            _owe_reply(s, alert, "reply.ticket", now, user=user_id, ref=ref, url=url or "")
            s.commit()
            return alert

    def owe_text(self, alert_id: int, text: str, now: datetime) -> bool:
        """A thread reply whose text is written now (rerun progress, a log excerpt)."""
        with self.session() as s:
            alert = s.get(Alert, alert_id)
            if alert is None or alert.silenced:
                return False
            _owe(s, alert, "reply", now, {"text": text})
            s.commit()
            return True

    # -- outbox -------------------------------------------------------------------------------

    def due_messages(self, now: datetime, limit: int = 50) -> list[Outbox]:
        """Undelivered messages whose time has come, oldest first, and per alert only the
        oldest: an alert's update must not overtake its post."""
        with self.session() as s:
            pending = s.exec(
                select(Outbox)
                .where(col(Outbox.delivered_at).is_(None))
                .order_by(col(Outbox.id))
                .limit(limit * 4)
            ).all()
        due: list[Outbox] = []
        blocked: set[int] = set()
        for row in pending:
            if row.alert_id is not None:
                if row.alert_id in blocked:
                    continue
                blocked.add(row.alert_id)
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
            if row.kind == "post" and row.alert_id is not None and ts:
                alert = s.get(Alert, row.alert_id)
                if alert is not None:
                    alert.message_ts = ts
                    # Slack answers with the channel's ID even when we posted to its name,
                    # and chat.update wants the ID.
                    alert.channel = channel or alert.channel
                    s.add(alert)
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

    def messages(self, alert_id: int | None = None) -> list[Outbox]:
        with self.session() as s:
            query = select(Outbox)
            if alert_id is not None:
                query = query.where(Outbox.alert_id == alert_id)
            return list(s.exec(query.order_by(col(Outbox.id))).all())

    def owe_notice(self, tenant: str, channel: str, payload: dict[str, Any], now: datetime) -> None:
        """A channel message tied to no alert (a maintenance-window summary, say)."""
        with self.session() as s:
            s.add(
                Outbox(
                    tenant=tenant,
                    kind="notice",
                    channel=channel,
                    payload=payload,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            s.commit()

    # -- audit and reruns --------------------------------------------------------------------

    def audit(
        self,
        action: str,
        result: str,
        *,
        user_id: str | None,
        tenant: str | None = None,
        alert_id: int | None = None,
        detail: str | None = None,
        now: datetime | None = None,
    ) -> None:
        with self.session() as s:
            s.add(
                AuditEntry(
                    at=now or utcnow(),
                    tenant=tenant,
                    user_id=user_id,
                    action=action,
                    alert_id=alert_id,
                    result=result,
                    detail=detail,
                )
            )
            s.commit()

    def audit_log(self, limit: int = 100) -> list[AuditEntry]:
        with self.session() as s:
            return list(
                s.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)).all()
            )

    def reruns(self, tenant: str | None = None) -> list[Rerun]:
        with self.session() as s:
            query = select(Rerun)
            if tenant is not None:
                query = query.where(Rerun.tenant == tenant)
            return list(s.exec(query.order_by(col(Rerun.id))).all())

    def begin_rerun(
        self,
        tenant: str,
        *,
        alert_id: int | None,
        user_id: str,
        runner: str,
        cycle_before: str | None,
        now: datetime,
        grace: float,
        cooldown: float,
    ) -> Rerun | str:
        """Record a rerun about to start, or say why not: "pending" while another is active,
        "cooldown" within `cooldown` seconds of the last one. Safe against double clicks and
        replicas: the partial unique index lets only one active rerun per tenant exist."""
        with self.session() as s:
            last = s.exec(
                select(Rerun).where(Rerun.tenant == tenant).order_by(col(Rerun.id).desc())
            ).first()
            if last is not None and last.status in ("requested", "started"):
                return "pending"
            # Only a sync that really started counts towards the cool-down: after a runner
            # that failed (a wrong command, say) the admin may fix it and try again at once.
            ran = s.exec(
                select(Rerun)
                .where(Rerun.tenant == tenant)
                .where(col(Rerun.status).in_(("started", "confirmed", "no_cycle")))
                .order_by(col(Rerun.id).desc())
            ).first()
            if (
                ran is not None
                and ran.requested_at is not None
                and (now - ran.requested_at).total_seconds() < cooldown
            ):
                return "cooldown"
            rerun = Rerun(
                tenant=tenant,
                alert_id=alert_id,
                requested_by=user_id,
                requested_at=now,
                runner=runner,
                cycle_before=cycle_before,
                deadline=now + timedelta(seconds=grace),
            )
            s.add(rerun)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                return "pending"
            s.refresh(rerun)
            return rerun

    def finish_rerun(
        self,
        rerun_id: int,
        status: str,
        *,
        detail: str | None = None,
        new_cycle_id: str | None = None,
        deadline: datetime | None = None,
        only_from: tuple[str, ...] | None = None,
    ) -> Rerun | None:
        """Move a rerun on. With `only_from`, only a rerun in one of those states moves (the
        one process that wins reports it); returns None when it did not move."""
        with self.session() as s:
            query = sa.update(Rerun).where(col(Rerun.id) == rerun_id)
            if only_from is not None:
                query = query.where(col(Rerun.status).in_(only_from))
            values: dict[str, Any] = {"status": status}
            if detail is not None:
                values["detail"] = detail
            if new_cycle_id is not None:
                values["new_cycle_id"] = new_cycle_id
            if deadline is not None:
                values["deadline"] = deadline
            result = s.execute(query.values(**values))
            s.commit()
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            return s.get(Rerun, rerun_id)

    def active_reruns(self) -> list[Rerun]:
        with self.session() as s:
            return list(
                s.exec(select(Rerun).where(col(Rerun.status) == "started").order_by(col(Rerun.id)))
            )

    # -- maintenance windows -----------------------------------------------------------------

    def silence(
        self, tenant: str, until: datetime, reason: str | None, user_id: str, now: datetime
    ) -> TenantState:
        with self.session() as s:
            state = s.get(TenantState, tenant) or TenantState(tenant=tenant)
            if not (state.silenced_until and state.silenced_until > now):
                state.silenced_since = now
            state.silenced_until = until
            state.silence_reason = reason
            state.silenced_by = user_id
            s.add(state)
            s.commit()
            s.refresh(state)
            return state

    def end_silence(
        self,
        tenant: str,
        channel: str,
        now: datetime,
        summarize: Callable[[TenantState, list[Alert]], dict[str, Any]],
        *,
        early: bool = False,
    ) -> bool:
        """End a window that is over (or any window, with `early`), owe its summary and post
        what is still open, in one transaction: exactly one caller ends it, and a crash cannot
        lose the summary."""
        with self.session() as s:
            state = s.get(TenantState, tenant)
            if state is None or state.silenced_until is None:
                return False
            if not early and state.silenced_until > now:
                return False
            ended = TenantState.model_validate(state.model_dump())
            ended.silenced_until = min(state.silenced_until, now)
            result = s.execute(
                sa.update(TenantState)
                .where(col(TenantState.tenant) == tenant)
                .where(col(TenantState.silenced_until) == state.silenced_until)
                .values(silenced_until=None, silenced_since=None, silence_reason=None)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                s.rollback()
                return False
            since = ended.silenced_since or now
            quiet = list(
                s.exec(
                    select(Alert)
                    .where(Alert.tenant == tenant)
                    .where(col(Alert.silenced).is_(True))
                    .where(col(Alert.opened_at) >= since)
                    .order_by(col(Alert.id))
                ).all()
            )
            s.add(
                Outbox(
                    tenant=tenant,
                    kind="notice",
                    channel=channel,
                    payload=summarize(ended, quiet),
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            # What is still wrong when the window closes becomes an ordinary alert, with its
            # buttons and reminders, right after the summary.
            for alert in quiet:
                if alert.resolved_at is None:
                    alert.silenced = False
                    alert.updated_at = now
                    s.add(alert)
                    s.flush()
                    _owe(s, alert, "post", now)
            s.commit()
            return True


# -- helpers --------------------------------------------------------------------------------


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the HTTP handlers read while a poll writes; a busy timeout rides out the rest.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _upsert_cycle(s: Session, snapshot: Snapshot, now: datetime) -> None:
    row = s.get(CycleRecord, (snapshot.tenant, snapshot.cycle_id))
    if row is None:
        row = CycleRecord(tenant=snapshot.tenant, cycle_id=snapshot.cycle_id)
    row.started_at = snapshot.started_at or row.started_at or now
    row.finished_at = snapshot.ended_at
    row.seen_at = now
    row.data = snapshot_to_dict(snapshot)
    s.add(row)


def _unresolved(s: Session, tenant: str) -> list[Alert]:
    return list(
        s.exec(
            select(Alert)
            .where(Alert.tenant == tenant)
            .where(col(Alert.resolved_at).is_(None))
            .order_by(col(Alert.id))
        ).all()
    )


def _silenced(s: Session, tenant: str, now: datetime) -> bool:
    state = s.get(TenantState, tenant)
    return bool(state and state.silenced_until and state.silenced_until > now)


def _view(row: Alert) -> AlertView:
    assert row.id is not None and row.opened_at is not None
    return AlertView(
        id=row.id,
        key=row.key,
        cycle_id=row.cycle_id,
        step=row.step,
        condition=Condition(row.condition),
        state=AlertState(row.state),
        opened_at=row.opened_at,
        last_reminded_at=row.last_reminded_at,
        snoozed_until=row.snoozed_until,
    )


def _owe(
    s: Session, alert: Alert, kind: str, now: datetime, payload: dict[str, Any] | None = None
) -> None:
    s.add(
        Outbox(
            tenant=alert.tenant,
            alert_id=alert.id,
            kind=kind,
            channel=alert.channel,
            payload=payload or {},
            created_at=now,
            next_attempt_at=now,
        )
    )


def _owe_reply(s: Session, alert: Alert, key: str, now: datetime, **params: Any) -> None:
    _owe(s, alert, "reply", now, {"msg": key, "params": params})
