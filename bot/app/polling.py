"""The poll job: the running bot's one caller of sources, but for the rerun guard, which reads
the status afresh before it starts a sync. Read, remember, detect, decide, deliver.

One call polls one tenant once. The database decides which process polls a tenant on a given
tick (a lease), so several replicas can run the same schedule without polling twice.

An outage of a tenant's source is logged when it starts and when it ends, not at every poll:
each process remembers which tenants it has logged as down, so with several replicas each logs
its own view of the outage.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.adapters.log_folder import log_excerpt
from bot.app.leases import TickLeases
from bot.app.state_writes import StateWrites
from bot.app.windows import Calendar
from bot.core import metrics
from bot.core.detect import SourceHealth, detect, normal_durations
from bot.core.domain import TASK_STEP, Condition, Finding, Snapshot
from bot.core.due import Applied, applied, as_seen, unchanged
from bot.core.errors import SourceError
from bot.core.lifecycle import Change, Decision, Escalate, Keep, Open, Resolve
from bot.core.said import Said, Voice
from bot.core.settings import Settings, Tenant
from bot.slack.delivery import Deliverer
from bot.sources import Source
from bot.store import Store, Target, utcnow

log = logging.getLogger(__name__)

HISTORY_CYCLES = 20
# An unchanged cycle is written again after this long, so its `seen_at` (by which the purge
# deletes old cycles) stays within it of the truth.
REWRITE_AFTER = timedelta(hours=1)

# Told after every poll: (tenant, snapshot or None, decisions). Rerun checks and the App Home
# listen here instead of polling themselves.
PollListener = Callable[[Tenant, Snapshot | None, Sequence[Decision]], Awaitable[None]]


class Poller:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        sources: dict[str, Source],
        deliverer: Deliverer | None,
        *,
        owner: str,
        clock: Callable[[], datetime] = utcnow,
        lease_grace: float | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.sources = sources
        self.deliverer = deliverer
        self.owner = owner
        self.clock = clock
        self.listeners: list[PollListener] = []
        self._learned: set[str] = set()  # tenants whose cycle history was read this process
        self.last_poll: dict[str, datetime] = {}
        self._log_lines: dict[str, Said] = {}  # alert key -> log lines added to its error
        self._outages: dict[str, datetime] = {}  # tenant -> first failed poll, as logged here
        self.calendar = Calendar(settings.tz)
        # lease_grace: the wait before asking for a group another process held (by default
        # grace_for(POLL_INTERVAL)); tests make it short.
        self.leases = TickLeases(store, owner, settings.poll_interval, lease_grace)
        self._seen: dict[str, _Seen] = {}  # tenant -> what this process last saw and wrote
        self.writes = StateWrites(store)  # changed states, a second's together

    async def flush(self) -> None:
        """Write the changed states still waiting for their second."""
        await self.writes.flush()

    async def aclose(self) -> None:
        """Write what is waiting; the poller can be dropped then."""
        await self.writes.aclose()

    async def poll(self, tenant: Tenant) -> list[Decision] | None:
        """Poll one tenant, unless another process holds this tick. Never raises."""
        try:
            return await self._poll(tenant)
        except Exception:
            # A bug must not stop the schedule: log it with the tenant and go on next tick.
            log.exception("[%s] poll failed unexpectedly; trying again next tick", tenant.name)
            return None

    async def _poll(self, tenant: Tenant) -> list[Decision] | None:
        now = self.clock()
        tick = await self.leases.take(tenant.name, now)
        if tick is None:
            return None
        seen = self._seen.pop(tenant.name, None)
        if seen is not None and not self.leases.held_since(tenant.name, seen.tick):
            seen = None  # another process polled the tenant since: what was seen may not hold
        source = self.sources[tenant.name]
        metrics.POLLS.labels(tenant=tenant.name).inc()
        started = time.perf_counter()
        # One deadline for every read of this poll: a source that trickles its answer byte by
        # byte (each read within its own timeout) still ends here.
        deadline = asyncio.get_running_loop().time() + self.settings.poll_deadline
        snapshot: Snapshot | None
        try:
            snapshot = await self._read(source, deadline)
        except SourceError as exc:
            metrics.POLL_ERRORS.labels(tenant=tenant.name).inc()
            said = Said.words(Voice.BOT, exc.words)
            await self.writes.settle(tenant.name)
            health = await asyncio.to_thread(self.store.record_failure, tenant.name, said, now)
            self.leases.written(tenant.name)
            self._log_failure(tenant.name, exc, health.failing_since or now, now)
            snapshot = None
            seen = _Seen(
                tick, None, now, seen.normal if seen else None, seen.applied if seen else None
            )
        else:
            metrics.POLL_LATENCY.observe(time.perf_counter() - started)
            metrics.LAST_POLL.labels(tenant=tenant.name).set(now.timestamp())
            learned = await self._learn(tenant, source, now, deadline)
            seen = self._remember(tenant.name, snapshot, seen, tick, now, learned)
            health = SourceHealth(tenant=tenant.name)
            self._log_recovery(tenant.name, now)
        self.last_poll[tenant.name] = now
        if seen.normal is None:
            await self.writes.settle(tenant.name)  # the cycle just completed is among them
            history = await asyncio.to_thread(self.store.recent_cycles, tenant.name, HISTORY_CYCLES)
            seen.normal = normal_durations(history)
        self._seen[tenant.name] = seen
        findings = detect(
            snapshot,
            now=now,
            thresholds=self.settings.thresholds,
            health=health,
            normal=seen.normal,
        )
        findings = await self._with_log_lines(tenant, findings)
        decisions: list[Decision] | None = unchanged(seen.applied, findings, snapshot, now)
        if decisions is None:
            decisions = await self._apply(tenant, findings, snapshot, now, seen)
        _count(tenant.name, findings, decisions)
        if any(not _quiet(d) for d in decisions):
            # News goes out with the state it came from: `/eadm status`, asked about an alert
            # just told, shows the cycle the alert is about.
            await self.writes.settle(tenant.name)
            if self.deliverer is not None:
                self.deliverer.kick()  # not awaited: a busy channel's pace must not hold polls
        for listener in self.listeners:
            try:
                await listener(tenant, snapshot, decisions)
            except Exception:
                log.exception("[%s] a poll listener failed", tenant.name)
        return decisions

    def _remember(
        self,
        tenant: str,
        snapshot: Snapshot,
        seen: _Seen | None,
        tick: int,
        now: datetime,
        learned: bool,
    ) -> _Seen:
        """Write the tenant's state and cycle when they changed since this process last wrote
        them (or an hour ago, so the cycle's `seen_at` stays near the truth), else leave a
        heartbeat for the next lease. Normal durations are learned again when the stored
        cycles changed in a way that matters to them: history recorded, a new cycle, or the
        cycle completed."""
        cycle = as_seen(snapshot)
        stale = seen is None or seen.cycle is None or now - seen.written_at >= REWRITE_AFTER
        if stale or (seen is not None and seen.cycle != cycle):
            self.writes.add(tenant, snapshot, now)
            self.leases.written(tenant)
            written_at = now
        else:
            assert seen is not None
            self.leases.beat(tenant, now)
            written_at = seen.written_at
        normal = seen.normal if seen is not None else None
        before = seen.cycle if seen is not None else None
        if learned or before is None or _completed(before, snapshot):
            normal = None
        return _Seen(tick, cycle, written_at, normal, seen.applied if seen else None)

    async def _apply(
        self,
        tenant: Tenant,
        findings: list[Finding],
        snapshot: Snapshot | None,
        now: datetime,
        seen: _Seen,
    ) -> list[Decision]:
        window = self.calendar.at(self.settings.maintenance_windows(tenant), now)
        escalation = self.settings.escalation(tenant)
        done = await asyncio.to_thread(
            self.store.apply_poll,
            tenant.name,
            Target(tenant.channel, tenant.language, tenant.all_channels[1:]),
            findings,
            snapshot,
            now=now,
            remind_after=self.settings.remind_after,
            window=window,
            escalation=escalation,
        )
        seen.applied = applied(
            findings,
            snapshot,
            done.alerts,
            remind_after=self.settings.remind_after,
            escalate_after=escalation.after if escalation is not None else 0,
        )
        return done.decisions

    def _log_failure(self, tenant: str, error: SourceError, since: datetime, now: datetime) -> None:
        """Warn once per outage: a thousand tenants behind one broken network would otherwise
        write a thousand warnings at every tick. `since` is the store's first failed poll, so a
        new outage (after a recovery another replica saw) is told again."""
        if self._outages.get(tenant) == since:
            log.debug(
                "[%s] still cannot read the eAdm status (down %s): %s",
                tenant,
                outage_length(now - since),
                error,
            )
            return
        self._outages[tenant] = since
        log.warning(
            "[%s] %s (logged again when the eAdm status can be read; each failed poll until "
            "then at DEBUG)",
            tenant,
            error,
        )

    def _log_recovery(self, tenant: str, now: datetime) -> None:
        since = self._outages.pop(tenant, None)
        if since is not None:
            log.info(
                "[%s] the eAdm status can be read again, after %s down",
                tenant,
                outage_length(now - since),
            )

    async def _with_log_lines(self, tenant: Tenant, findings: list[Finding]) -> list[Finding]:
        """A failed sync task's alert carries the newest problem lines of the log folder,
        read once per alert (not at every poll)."""
        if tenant.log_dir is None:
            return findings
        out = []
        for finding in findings:
            if finding.step == TASK_STEP and finding.condition is Condition.FAILED:
                if finding.key not in self._log_lines:
                    excerpt = await asyncio.to_thread(
                        log_excerpt,
                        tenant.log_dir,
                        finding.since,
                        max_lines=12,
                        tz=self.settings.tz,
                        redact=tenant.redactor,
                    )
                    self._log_lines[finding.key] = excerpt.said if excerpt else Said()
                    while len(self._log_lines) > 1000:
                        self._log_lines.pop(next(iter(self._log_lines)))
                extra = self._log_lines[finding.key]
                if extra:
                    finding = dataclasses.replace(finding, error=(finding.error or Said()) + extra)
            out.append(finding)
        return out

    async def _read(self, source: Source, deadline: float) -> Snapshot:
        """The source's current cycle, read before `deadline` (the event loop's clock)."""
        try:
            async with asyncio.timeout_at(deadline):
                return await source.current()
        except TimeoutError:
            raise self._late() from None

    def _late(self) -> SourceError:
        return SourceError("source.deadline", seconds=f"{self.settings.poll_deadline:g}")

    async def _learn(self, tenant: Tenant, source: Source, now: datetime, deadline: float) -> bool:
        """Read recent cycles once per process, so normal step durations are known at once;
        within what is left of the poll's deadline. True when history was recorded now."""
        if tenant.name in self._learned:
            return False
        recorded = False
        try:
            async with asyncio.timeout_at(deadline):
                cycles = await source.history(HISTORY_CYCLES)
        except TimeoutError:
            log.info(
                "[%s] could not read cycle history (%s); learning from polls instead",
                tenant.name,
                self._late(),
            )
        except SourceError as exc:
            log.info(
                "[%s] could not read cycle history (%s); learning from polls instead",
                tenant.name,
                exc,
            )
        else:
            await self.writes.settle(tenant.name)
            await asyncio.to_thread(self.store.record_history, tenant.name, cycles, now)
            recorded = True
        self._learned.add(tenant.name)
        return recorded


def outage_length(delta: timedelta) -> str:
    """`2 h 5 min`, `12 min 30 s`, `45 s`: how long an outage lasted, for a person reading logs."""
    seconds = max(0, round(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s"
    return f"{seconds} s"


@dataclass
class _Seen:
    """What this process last saw of a tenant, valid while it holds the tenant's lease group
    at every tick since `tick`: the cycle as written to the store (None: the poll failed, so
    the next good one writes), when it was written, the normal step durations learned from
    the stored cycles (None: learn them again), and what the last alert transaction was
    given and left."""

    tick: int
    cycle: Snapshot | None
    written_at: datetime
    normal: dict[str, float] | None
    applied: Applied | None


def _completed(before: Snapshot, now: Snapshot) -> bool:
    """A new cycle, or the same one now ended: the stored cycles changed in what normal
    durations are learned from (a step's duration counts once its cycle is recorded)."""
    return before.cycle_id != now.cycle_id or (before.ended_at is None) != (now.ended_at is None)


def _quiet(decision: Decision) -> bool:
    return isinstance(decision, Keep)


def _count(tenant: str, findings: Sequence[Finding], decisions: Sequence[Decision]) -> None:
    for finding in findings:
        metrics.FINDINGS.labels(condition=finding.condition.value).inc()
    for decision in decisions:
        if isinstance(decision, Open):
            metrics.ALERTS.labels(condition=decision.finding.condition.value, event="opened").inc()
        elif isinstance(decision, Change):
            metrics.ALERTS.labels(condition=decision.finding.condition.value, event="changed").inc()
        elif isinstance(decision, Resolve):
            metrics.ALERTS.labels(condition="any", event="resolved").inc()
        elif isinstance(decision, Escalate):
            metrics.ESCALATIONS.labels(tenant=tenant).inc()
