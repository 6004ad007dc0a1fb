"""What Event Viewer says with an alert about the sync task: read once per alert, kept with it,
told in its thread (and attached to its ticket by `support`).

A poll listener. Once a poll has written its decisions and kicked delivery, every alert about
the sync task that was just opened or changed to another condition gets one reading of its
window (`bot.core.event_report.window_start`), in the background: a slow or broken events
command never holds up the alert, nor the tenant's next poll. A command that fails, hangs
(the task command's timeout applies), floods, prints something else or finds nothing costs
one log line; the alert stays as it went out, without the section, and is not read again.

The events come from the tenant's events command where it has one (EADM_EVENTS_COMMAND, or
the shipped script where the bot runs the task's own on the server), else from the events
the agent serves with the task's last run; when the agent's reading is not there yet, the next
AGENT_POLLS polls may bring it. Every text passes through `events_redactor`.

While a run that does not complete stays open, each scheduled start that passes (the task's
next run time moves on) is looked at once more: a start Task Scheduler ignored because the run
was still going (322) is told in the thread once, with the advice that comes with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.app.context import Context
from bot.core.domain import TASK_STEP, Condition, Finding, Snapshot
from bot.core.event_report import report_for, section, window_start
from bot.core.lifecycle import Change, Decision, Keep, Open, Resolve
from bot.core.settings import Tenant
from bot.core.windows_events import EventsReading
from bot.sources.events import (
    EventsError,
    events_command,
    events_redactor,
    read_events,
    redacted,
)

log = logging.getLogger(__name__)

AT_ONCE = 4  # events commands running at once, whatever the number of tenants in trouble
AGENT_POLLS = 3  # polls that may bring the agent's reading of a run after its alert
REMEMBERED = 1000  # alerts followed at most (the oldest is forgotten)


@dataclass
class _Awaited:
    """An alert whose agent had not read the run's events yet when it was told."""

    alert_id: int | None
    finding: Finding
    since: datetime
    polls_left: int = AGENT_POLLS


@dataclass
class _Hung:
    """An open alert about a run that does not complete, watched for ignored starts. `seen`
    marks what was last looked at: the task's next run time where the bot reads the events
    itself, the served reading where the agent does."""

    alert_id: int
    since: datetime
    seen: object
    told: bool = False


class EventViewer:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.store = ctx.store
        self._gate = asyncio.Semaphore(AT_ONCE)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._awaited: dict[str, _Awaited] = {}  # alert key ->
        self._hung: dict[str, _Hung] = {}  # alert key ->

    # -- the poll's news ---------------------------------------------------------------------

    async def on_poll(
        self, tenant: Tenant, snapshot: Snapshot | None, decisions: Sequence[Decision]
    ) -> None:
        """One reading for each alert about the sync task this poll opened or changed; a
        second look at hung runs whose scheduled start passed."""
        self._served_late(tenant, snapshot)
        for decision in decisions:
            match decision:
                case Open(finding):
                    self._news(tenant, snapshot, finding, None)
                case Change(alert_id, finding):
                    self._news(tenant, snapshot, finding, alert_id)
                case Keep(alert_id, finding) if _hung(finding):
                    self._look_again(tenant, snapshot, alert_id, finding)
                case Resolve(alert_id):
                    self._forget(alert_id)

    def _news(
        self, tenant: Tenant, snapshot: Snapshot | None, finding: Finding, alert_id: int | None
    ) -> None:
        if alert_id is not None:
            self._forget(alert_id)
        since = window_start(finding, snapshot)
        if since is None:
            return
        if events_command(tenant) is None and _served(snapshot) is None:
            self._remember(self._awaited, finding.key, _Awaited(alert_id, finding, since))
            return
        self._spawn(self.tell(tenant, snapshot, finding, since, alert_id))

    def _served_late(self, tenant: Tenant, snapshot: Snapshot | None) -> None:
        """The agent's reading of a run, where an alert was told before it came."""
        for key, awaited in list(self._awaited.items()):
            if awaited.finding.tenant != tenant.name:
                continue
            if _served(snapshot) is not None:
                del self._awaited[key]
                self._spawn(
                    self.tell(tenant, snapshot, awaited.finding, awaited.since, awaited.alert_id)
                )
                continue
            awaited.polls_left -= 1
            if awaited.polls_left <= 0:
                del self._awaited[key]
                log.info(
                    "[%s] no Event Viewer events for alert %s: the status carried none in %d "
                    "polls (an events command, or the agent's, prints them)",
                    tenant.name,
                    awaited.alert_id or awaited.finding.key,
                    AGENT_POLLS,
                )

    def _look_again(
        self, tenant: Tenant, snapshot: Snapshot | None, alert_id: int, finding: Finding
    ) -> None:
        if snapshot is None or snapshot.task is None:
            return
        seen = self._seen(tenant, snapshot)
        hung = self._hung.get(finding.key)
        if hung is None:  # first seen by this process (a restart): a baseline, no reading
            since = window_start(finding, snapshot) or finding.since
            self._remember(self._hung, finding.key, _Hung(alert_id, since, seen))
            return
        if hung.told or seen == hung.seen:
            return
        hung.seen = seen
        self._spawn(self._recheck(tenant, snapshot, hung))

    def _seen(self, tenant: Tenant, snapshot: Snapshot) -> object:
        """What moves on when a scheduled start passes: the next run time, or the agent's
        reading (it reads again when the next run time moves on)."""
        if events_command(tenant) is not None:
            return snapshot.task.next_run_at if snapshot.task else None
        served = _served(snapshot)
        if served is None:
            return None
        return (len(served.events), max((event.time for event in served.events), default=None))

    def _forget(self, alert_id: int) -> None:
        for table in (self._awaited, self._hung):
            for key, entry in list(table.items()):
                if entry.alert_id == alert_id:
                    del table[key]

    def _remember(self, table: dict[str, Any], key: str, entry: Any) -> None:
        table[key] = entry
        while len(table) > REMEMBERED:
            table.pop(next(iter(table)))

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        """Stop readings still under way (their commands are killed): a stopping bot does not
        wait for a hung server."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)

    async def idle(self) -> None:
        """Wait until every reading started so far is told (for tests and the demo)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    # -- reading and telling -------------------------------------------------------------------

    async def tell(
        self,
        tenant: Tenant,
        snapshot: Snapshot | None,
        finding: Finding,
        since: datetime,
        alert_id: int | None = None,
    ) -> bool:
        """Read the window once and tell it in the alert's thread. True when a reply was owed;
        never raises."""
        try:
            return await self._tell(tenant, snapshot, finding, since, alert_id)
        except Exception:
            log.exception("[%s] reading Event Viewer failed unexpectedly", tenant.name)
            return False

    async def _tell(
        self,
        tenant: Tenant,
        snapshot: Snapshot | None,
        finding: Finding,
        since: datetime,
        alert_id: int | None,
    ) -> bool:
        if alert_id is None:
            alert = await asyncio.to_thread(self.store.open_alert, tenant.name, finding.key)
            if alert is None:  # resolved already, or opened by another process's poll
                return False
            alert_id = alert.id
        assert alert_id is not None
        reading = await self._read_logged(tenant, snapshot, since, alert_id)
        if reading is None:
            return False
        report = report_for(reading, since=since, now=self.ctx.clock())
        found = section(
            report, condition=finding.condition, task_name=tenant.task_name, history_off=False
        )
        if _hung(finding) and snapshot is not None and snapshot.task is not None:
            hung = _Hung(alert_id, since, self._seen(tenant, snapshot), found.ignored is not None)
            self._remember(self._hung, finding.key, hung)
        if not report.events and not report.history_off:
            log.info(
                "[%s] Event Viewer has no events of the sync task since %s for alert %s",
                tenant.name,
                since.isoformat(timespec="seconds"),
                alert_id,
            )
            return False
        owed = await asyncio.to_thread(
            self.store.record_events,
            alert_id,
            report,
            says_more=not found.empty,
            now=self.ctx.clock(),
        )
        if owed:
            self.ctx.kick()
        elif found.empty:
            log.info(
                "[%s] Event Viewer holds %d event(s) since %s for alert %s, none that explains "
                "it; they go with its ticket",
                tenant.name,
                len(report.events),
                since.isoformat(timespec="seconds"),
                alert_id,
            )
        return owed

    async def _recheck(self, tenant: Tenant, snapshot: Snapshot | None, hung: _Hung) -> bool:
        """A hung run's window once more: a start ignored meanwhile is news once."""
        try:
            reading = await self._read_logged(tenant, snapshot, hung.since, hung.alert_id)
            if reading is None:
                return False
            report = report_for(reading, since=hung.since, now=self.ctx.clock())
            owed = await asyncio.to_thread(
                self.store.record_ignored_start,
                hung.alert_id,
                report,
                task_name=tenant.task_name,
                now=self.ctx.clock(),
            )
        except Exception:
            log.exception("[%s] reading Event Viewer failed unexpectedly", tenant.name)
            return False
        if owed:
            hung.told = True
            self.ctx.kick()
        return owed

    async def _read_logged(
        self, tenant: Tenant, snapshot: Snapshot | None, since: datetime, alert_id: int
    ) -> EventsReading | None:
        """The reading, or None after one log line saying why there is none."""
        try:
            reading = await self.read(tenant, snapshot, since)
        except EventsError as exc:
            log.warning(
                "[%s] could not read Event Viewer for alert %s, which goes without it: %s",
                tenant.name,
                alert_id,
                exc,
            )
            return None
        if reading is None:
            log.info(
                "[%s] no Event Viewer events for alert %s: no events command, and the status "
                "carries none",
                tenant.name,
                alert_id,
            )
        return reading

    async def read(
        self, tenant: Tenant, snapshot: Snapshot | None, since: datetime
    ) -> EventsReading | None:
        """The window's events, redacted; None where there is nowhere to read them from.
        Raises EventsError when the command does not give them."""
        redactor = events_redactor(tenant)
        command = events_command(tenant)
        if command is not None:
            async with self._gate:
                return await read_events(
                    command,
                    task_name=tenant.task_name,
                    since=since,
                    seconds=tenant.task_timeout,
                    tz=self.settings.tz,
                    redactor=redactor,
                )
        served = _served(snapshot)
        return redacted(served, redactor) if served is not None else None


def _served(snapshot: Snapshot | None) -> EventsReading | None:
    """The events the status carried with the task's last run (the agent's)."""
    task = snapshot.task if snapshot is not None else None
    return task.events if task is not None else None


def _hung(finding: Finding) -> bool:
    return finding.step == TASK_STEP and finding.condition is Condition.STUCK
