"""The tables: what the bot remembers between polls, restarts and replicas.

SQLModel classes only; the operations that read and write them live in one module per
aggregate beside this one, put together as `bot.store.repo.Store`.
Alembic migrations in `bot/store/migrations` create these tables; keep the two in step.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from bot.core.rerun_status import ACTIVE, RerunStatus, in_order


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite forgets the zone on its own)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _json() -> Any:
    return Field(default=None, sa_type=sa.JSON, nullable=True)


# The rerun index's condition: the statuses of a rerun under way. The migration that created the
# index wrote the same text as a literal; a test holds the two equal.
RERUN_ACTIVE = "status IN ({})".format(", ".join(f"'{status}'" for status in in_order(ACTIVE)))


class TenantState(SQLModel, table=True):
    """One row per tenant: its poll lease, its source health, the silence typed by hand
    (`silenced_*`; its start may lie ahead, planned) and the stretch of quiet (maintenance
    windows and that silence together) recorded as begun (`quiet_*`)."""

    __tablename__ = "tenant_state"

    tenant: str = Field(primary_key=True)
    lease_owner: str | None = None
    lease_until: datetime | None = _ts()
    last_poll_at: datetime | None = _ts()
    last_success_at: datetime | None = _ts()
    failing_since: datetime | None = _ts()
    last_error: str | None = None  # in English, for logs
    last_error_said: dict[str, Any] | None = _json()  # the same, as `bot.core.said.Said`
    current_cycle: dict[str, Any] | None = _json()
    silenced_since: datetime | None = _ts()
    silenced_until: datetime | None = _ts()
    silence_reason: str | None = None
    silenced_by: str | None = None
    # When the tenant was told that task history is off in Task Scheduler (once, until a
    # reading finds it on again).
    history_off_told_at: datetime | None = _ts()
    quiet_since: datetime | None = _ts()  # its beginning was told; None: not quiet
    quiet_until: datetime | None = _ts()  # when it was last expected to end


class CycleRecord(SQLModel, table=True):
    """A cycle as last seen: the history `/eadm history` shows and durations are learned from."""

    __tablename__ = "cycle"
    # A tenant's newest cycles are read by this index, not by sorting all of its history.
    __table_args__ = (sa.Index("ix_cycle_tenant_started_at", "tenant", "started_at"),)

    tenant: str = Field(primary_key=True)
    cycle_id: str = Field(primary_key=True)
    started_at: datetime | None = _ts(index=True)
    finished_at: datetime | None = _ts()
    seen_at: datetime | None = _ts(index=True)  # the purge deletes by it
    data: dict[str, Any] | None = _json()


class Alert(SQLModel, table=True):
    """A finding the channel was told about, with its lifecycle.

    At most one unresolved alert per key (tenant x cycle x step), enforced by a partial unique
    index, so two replicas that find the same thing cannot both open it.
    """

    __tablename__ = "alert"
    __table_args__ = (
        sa.Index(
            "uq_alert_open_key",
            "key",
            unique=True,
            sqlite_where=sa.text("resolved_at IS NULL"),
            postgresql_where=sa.text("resolved_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True)
    tenant: str = Field(index=True)
    cycle_id: str | None = None
    step: str | None = None
    condition: str
    error: str | None = None  # in English, for logs; older rows: eAdm's words
    error_said: dict[str, Any] | None = _json()  # who said what, as `bot.core.said.Said`
    since: datetime | None = _ts()
    state: str = "open"  # open | acknowledged | snoozed | resolved
    opened_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()
    resolved_at: datetime | None = _ts(index=True)
    resolution: str | None = None  # recovered | passed_later | superseded | new_cycle | ...
    channel: str
    language: str = "en"
    message_ts: str | None = None
    cycle: dict[str, Any] | None = _json()  # the cycle's steps when the alert last changed
    acked_by: str | None = None
    acked_at: datetime | None = _ts()
    snoozed_until: datetime | None = _ts()
    snoozed_by: str | None = None
    last_reminded_at: datetime | None = _ts()
    ticket_ref: str | None = None
    ticket_url: str | None = None
    silenced: bool = False  # opened during a maintenance window: never posted
    # What Event Viewer said when the alert was told (bot.core.event_report.EventsReport).
    events: dict[str, Any] | None = _json()
    held: bool = False  # shown before a maintenance window that kept its news back
    shown_at: datetime | None = _ts()  # first owed to Slack; reminders count from here
    unsnoozed_at: datetime | None = _ts()  # its last snooze ended: escalation counts again
    escalated_at: datetime | None = _ts()  # escalated (once)


class Outbox(SQLModel, table=True):
    """A message owed to Slack, written in the same transaction as the change that owes it."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(index=True)
    alert_id: int | None = Field(default=None, index=True)
    kind: str  # an OutboxKind's value (bot.core.notify)
    channel: str
    payload: dict[str, Any] | None = _json()
    created_at: datetime | None = _ts()
    attempts: int = 0
    next_attempt_at: datetime | None = _ts(index=True)
    claimed_by: str | None = None
    claimed_until: datetime | None = _ts()
    delivered_at: datetime | None = _ts(index=True)
    result_ts: str | None = None
    last_error: str | None = None
    copy_id: int | None = Field(default=None, index=True)  # the alert's message in one channel
    digest_id: int | None = Field(default=None, index=True)  # a storm digest, or its thread


class AlertCopy(SQLModel, table=True):
    """An alert's message in one of its tenant's channels. The first channel's copy is the
    alert's own `channel`/`message_ts` as well. A copy in a storm digest has no message of its
    own: the digest tells it."""

    __tablename__ = "alert_copy"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(index=True)
    target: str = Field(index=True)  # the channel as configured (the storm is counted by it)
    channel: str  # the channel's ID once Slack has answered
    primary: bool = False
    message_ts: str | None = None
    owed_at: datetime | None = _ts(index=True)  # when its post was owed
    digest_id: int | None = Field(default=None, index=True)


class Digest(SQLModel, table=True):
    """One message telling a storm of new alerts in one channel (see `bot.core.storm`)."""

    __tablename__ = "digest"
    # One open digest per channel, so two replicas meeting one storm cannot both open one:
    # the second's transaction fails, is retried, and joins the first's.
    __table_args__ = (
        sa.Index(
            "uq_digest_open_target",
            "target",
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    target: str = Field(index=True)
    channel: str
    language: str = "en"
    opened_at: datetime | None = _ts()
    last_added_at: datetime | None = _ts()
    message_ts: str | None = None
    closed_at: datetime | None = _ts(index=True)  # every alert in it recovered


class AuditEntry(SQLModel, table=True):
    """Every click and command, allowed or refused."""

    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime | None = _ts(index=True)
    tenant: str | None = None
    user_id: str | None = None
    action: str
    alert_id: int | None = None
    result: str
    detail: str | None = None


class Rerun(SQLModel, table=True):
    """A sync started by hand, and whether a new cycle followed.

    At most one rerun under way (`bot.core.rerun_status.ACTIVE`) per tenant, enforced by a
    partial unique index, so a double click or two replicas cannot start the sync twice.
    """

    __tablename__ = "rerun"
    __table_args__ = (
        sa.Index(
            "uq_rerun_active",
            "tenant",
            unique=True,
            sqlite_where=sa.text(RERUN_ACTIVE),
            postgresql_where=sa.text(RERUN_ACTIVE),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant: str = Field(index=True)
    alert_id: int | None = None
    requested_by: str
    requested_at: datetime | None = _ts(index=True)
    runner: str
    status: str = RerunStatus.REQUESTED  # a RerunStatus
    cycle_before: str | None = None
    new_cycle_id: str | None = None
    deadline: datetime | None = _ts()
    detail: str | None = None


class JobLease(SQLModel, table=True):
    """A job that one replica at a time runs (the daily purge): who holds it, until when, and
    when it last ran to its end."""

    __tablename__ = "job_lease"

    name: str = Field(primary_key=True)
    owner: str | None = None
    until: datetime | None = _ts()
    last_run_at: datetime | None = _ts()


class SendBudget(SQLModel, table=True):
    """A rate Slack allows per workspace (chat.update's), shared by every replica: when its
    next turn is due in steady state, in milliseconds since the epoch (`bot.core.budget`)."""

    __tablename__ = "send_budget"

    name: str = Field(primary_key=True)  # the Slack method it paces, such as "chat.update"
    due_ms: int = Field(sa_type=sa.BigInteger)
