"""The quiet a tenant is in: the silence typed by hand (`/eadm silence`, one per tenant, which
may be planned ahead), and the stretch of quiet that maintenance windows and that silence make
together, whose beginning is told once (a notice) and whose end is told once (a summary of what
came and went, then what is still wrong, posted).

When a stretch begins, ends or moves is decided in `bot.core.quiet`, and what its end says
and posts in `bot.core.notify`; this module writes that, with the channels' messages, in one
transaction. Each stretch is begun and ended by an UPDATE that holds only while the row is as it
was read, taken tenant by tenant in name order, so of several replicas one does it all and the
others find it done; a channel hears one message for all its tenants of one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core import notify
from bot.core.maintenance import Occurrence
from bot.core.quiet import Begin, End, Moved, per_channel
from bot.store.alerts import take_once, view
from bot.store.digests import DigestStore, owe
from bot.store.outbox import owe_channel_notice
from bot.store.tables import Alert, TenantState

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Quiet:
    """What the store remembers of one tenant's quiet: the stretch recorded as begun, and the
    silence typed by hand."""

    tenant: str
    since: datetime | None
    until: datetime | None
    silenced_since: datetime | None
    silenced_until: datetime | None


@dataclass(frozen=True, slots=True)
class Ended:
    """One tenant's stretch of quiet that ended, and what came and went in it (the alerts,
    as they were when it ended: still silenced, or held)."""

    tenant: str
    since: datetime
    ended_at: datetime
    told: list[Alert]


class Unsilenced(StrEnum):
    NOT_SILENCED = "not_silenced"  # no silence typed by hand runs or is planned
    CANCELLED = "cancelled"  # one planned ahead is called off
    WINDOW_GOES_ON = "window_goes_on"  # ended, but a maintenance window keeps the quiet
    ENDED = "ended"  # ended, and with it the quiet: the summary follows


Summarize = Callable[[str, list[Ended]], Payload]  # a channel's summary of its tenants' ends
Announce = Callable[[str, list[tuple[str, Begin]]], Payload]  # a channel's notice of begins


class SilenceStore(DigestStore):
    def silence(
        self,
        tenant: str,
        start: datetime,
        until: datetime,
        reason: str | None,
        user_id: str,
        now: datetime,
    ) -> TenantState:
        """Record the silence typed by hand, from `start` (now, or ahead) to `until`. One per
        tenant: a new one replaces one planned ahead, and extends (or shortens) the one that
        runs, keeping its start, when it begins before that one ends. One that runs from now
        begins a stretch of quiet if none has begun (the command tells the channel itself)."""
        with self.session() as s:
            state = s.get(TenantState, tenant) or TenantState(tenant=tenant)
            running = _running(state, now)
            if running is not None and start <= running.end:
                since = running.start
            else:
                since = max(start, now)
            state.silenced_since = since
            state.silenced_until = until
            state.silence_reason = reason
            state.silenced_by = user_id
            if since <= now:
                if state.quiet_since is None:
                    state.quiet_since = since
                state.quiet_until = max(state.quiet_until or until, until)
            s.add(state)
            s.commit()
            s.refresh(state)
            return state

    def end_silence(
        self,
        tenant: str,
        now: datetime,
        window: Occurrence | None,
        channels: Sequence[str],
        summarize: Summarize,
    ) -> Unsilenced:
        """`/eadm unsilence`: end the silence typed by hand now, or call off the one planned
        ahead. A maintenance window that holds `now` keeps the tenant quiet; otherwise the
        stretch of quiet ends with it, its summary owed and what is still wrong posted, in
        this one transaction."""
        with self.session() as s:
            state = s.get(TenantState, tenant)
            if state is None or state.silenced_until is None or state.silenced_until <= now:
                return Unsilenced.NOT_SILENCED
            planned = state.silenced_since is not None and state.silenced_since > now
            until, since = state.silenced_until, state.quiet_since
            # Only the caller whose UPDATE still sees the silence it read goes on.
            if not _update(
                s,
                tenant,
                col(TenantState.silenced_until) == until,
                silenced_until=None,
                silenced_since=None,
                silence_reason=None,
            ):
                return Unsilenced.NOT_SILENCED
            if planned:
                s.commit()
                return Unsilenced.CANCELLED
            if window is not None and window.end > now:
                recorded = col(TenantState.quiet_since).is_not(None)
                _update(s, tenant, recorded, quiet_until=window.end)
                s.commit()
                return Unsilenced.WINDOW_GOES_ON
            if since is not None:
                self._end(s, {tenant: End(since, now)}, now, {tenant: channels}, summarize)
            # Else the stretch was never told as begun: the next poll posts what it silenced.
            s.commit()
            return Unsilenced.ENDED

    def quiet_states(self) -> list[Quiet]:
        """Every tenant's quiet as recorded, in one read (the timer asks every tick)."""
        with self.session() as s:
            rows = s.exec(
                select(
                    TenantState.tenant,
                    TenantState.quiet_since,
                    TenantState.quiet_until,
                    TenantState.silenced_since,
                    TenantState.silenced_until,
                )
            ).all()
            return [Quiet(*row) for row in rows]

    def apply_quiet(
        self,
        changes: Mapping[str, Sequence[Begin | End | Moved]],
        recorded: Mapping[str, Quiet],
        now: datetime,
        channels: Mapping[str, Sequence[str]],
        *,
        announce: Announce,
        summarize: Summarize,
    ) -> tuple[list[str], list[str]]:
        """Write what `bot.core.quiet.changes` said for each tenant (against `recorded`, the
        rows as read), in one transaction: stretches that ended (their summaries, one per
        channel, then what is still wrong), then those that began (their notices, one per
        channel). Returns the tenants whose stretch this call began and ended; another
        replica's or an earlier call's are left out."""
        ended: dict[str, End] = {}
        begun: list[tuple[str, Begin]] = []
        with self.session() as s:
            for tenant in sorted(changes):
                was = recorded[tenant]
                for change in changes[tenant]:
                    if isinstance(change, End):
                        ended[tenant] = change
                    elif isinstance(change, Moved):
                        _update(
                            s,
                            tenant,
                            col(TenantState.quiet_since) == was.since,
                            quiet_until=change.until,
                        )
                    elif _begin(s, tenant, change):
                        begun.append((tenant, change))
            done = self._end(s, ended, now, channels, summarize)
            for channel, told in per_channel(begun, channels).items():
                owe_channel_notice(s, told[0][0], channel, announce(channel, told), now)
            s.commit()
        return [tenant for tenant, _ in begun], done

    def _end(
        self,
        s: Session,
        ends: Mapping[str, End],
        now: datetime,
        channels: Mapping[str, Sequence[str]],
        summarize: Summarize,
    ) -> list[str]:
        """End each tenant's stretch that is still as recorded; owe one summary per channel,
        then post what is still wrong and redraw what was held back. Returns the tenants
        ended here."""
        finished: list[tuple[str, Ended]] = []
        owed: list[tuple[Alert, tuple[notify.Message, ...]]] = []
        for tenant in sorted(ends):
            end = ends[tenant]
            if not _update(
                s,
                tenant,
                col(TenantState.quiet_since) == end.since,
                quiet_since=None,
                quiet_until=None,
            ):
                continue
            _forget_silence_over(s, tenant, now)
            quiet = {
                row.id: row
                for row in s.exec(
                    select(Alert)
                    .where(Alert.tenant == tenant)
                    .where(sa.or_(col(Alert.silenced).is_(True), col(Alert.held).is_(True)))
                    .order_by(col(Alert.id))
                ).all()
            }
            views = [view(row) for row in quiet.values()]
            result = notify.end_window(end.since, end.ended_at, now, views)
            told = [quiet[a.id] for a in result.told]
            finished.append((tenant, Ended(tenant, end.since, result.ended_at, told)))
            owed += [(quiet[alert_id], messages) for alert_id, messages in result.owed.items()]
        for channel, items in per_channel(finished, channels).items():
            summary = summarize(channel, [item for _, item in items])
            owe_channel_notice(s, items[0][0], channel, summary, now)
        for alert, messages in owed:
            # A poll on another replica may have posted a silenced alert already.
            if alert.silenced and not take_once(
                s, alert, col(Alert.silenced).is_(True), silenced=False, shown_at=now
            ):
                continue
            alert.held = False
            alert.updated_at = now
            s.add(alert)
            for message in messages:
                owe(s, alert, message, now, self.storm)
        return [tenant for tenant, _ in finished]


def _running(state: TenantState, now: datetime) -> Occurrence | None:
    """The silence typed by hand that runs at `now`."""
    if state.silenced_until is None or state.silenced_until <= now:
        return None
    since = state.silenced_since or now
    return Occurrence(since, state.silenced_until) if since <= now else None


def _update(s: Session, tenant: str, holds: Any, **values: Any) -> bool:
    """Change the tenant's row only while `holds` does: of two processes, one wins."""
    result = s.execute(
        sa.update(TenantState)
        .where(col(TenantState.tenant) == tenant)
        .where(holds)
        .values(**values)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _begin(s: Session, tenant: str, begin: Begin) -> bool:
    if s.get(TenantState, tenant) is None:  # a tenant never polled yet
        try:
            with s.begin_nested():
                s.add(TenantState(tenant=tenant))
        except IntegrityError:
            pass
    return _update(
        s,
        tenant,
        col(TenantState.quiet_since).is_(None),
        quiet_since=begin.start,
        quiet_until=begin.end,
    )


def _forget_silence_over(s: Session, tenant: str, now: datetime) -> None:
    """A silence typed by hand whose time is up ends with the stretch (one planned ahead stays)."""
    s.execute(
        sa.update(TenantState)
        .where(col(TenantState.tenant) == tenant)
        .where(col(TenantState.silenced_until) <= now)
        .values(silenced_until=None, silenced_since=None, silence_reason=None)
    )
