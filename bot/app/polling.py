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
from datetime import datetime, timedelta

from bot.adapters.log_folder import log_excerpt
from bot.app.windows import Calendar
from bot.core import metrics
from bot.core.detect import SourceHealth, detect, normal_durations
from bot.core.domain import TASK_STEP, Condition, Finding, Snapshot
from bot.core.errors import SourceError
from bot.core.lifecycle import Change, Decision, Escalate, Keep, Open, Resolve
from bot.core.said import Said, Voice
from bot.core.settings import Settings, Tenant
from bot.slack.delivery import Deliverer
from bot.sources import Source
from bot.store import Store, Target, utcnow

log = logging.getLogger(__name__)

HISTORY_CYCLES = 20

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
        ttl = self.settings.poll_interval * 0.8
        if not await asyncio.to_thread(self.store.claim_poll, tenant.name, self.owner, now, ttl):
            return None
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
            health = await asyncio.to_thread(self.store.record_failure, tenant.name, said, now)
            self._log_failure(tenant.name, exc, health.failing_since or now, now)
            snapshot = None
        else:
            metrics.POLL_LATENCY.observe(time.perf_counter() - started)
            metrics.LAST_POLL.labels(tenant=tenant.name).set(now.timestamp())
            await self._learn(tenant, source, now, deadline)
            await asyncio.to_thread(self.store.record_success, tenant.name, snapshot, now)
            health = SourceHealth(tenant=tenant.name)
            self._log_recovery(tenant.name, now)
        self.last_poll[tenant.name] = now
        history = await asyncio.to_thread(self.store.recent_cycles, tenant.name, HISTORY_CYCLES)
        findings = detect(
            snapshot,
            now=now,
            thresholds=self.settings.thresholds,
            health=health,
            normal=normal_durations(history),
        )
        findings = await self._with_log_lines(tenant, findings)
        window = self.calendar.at(self.settings.maintenance_windows(tenant), now)
        decisions = await asyncio.to_thread(
            self.store.apply_findings,
            tenant.name,
            Target(tenant.channel, tenant.language, tenant.all_channels[1:]),
            findings,
            snapshot,
            now=now,
            remind_after=self.settings.remind_after,
            window=window,
            escalation=self.settings.escalation(tenant),
        )
        _count(tenant.name, findings, decisions)
        if self.deliverer is not None and any(not _quiet(d) for d in decisions):
            self.deliverer.kick()  # not awaited: a busy channel's pace must not hold up polls
        for listener in self.listeners:
            try:
                await listener(tenant, snapshot, decisions)
            except Exception:
                log.exception("[%s] a poll listener failed", tenant.name)
        return decisions

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

    async def _learn(self, tenant: Tenant, source: Source, now: datetime, deadline: float) -> None:
        """Read recent cycles once per process, so normal step durations are known at once;
        within what is left of the poll's deadline."""
        if tenant.name in self._learned:
            return
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
            await asyncio.to_thread(self.store.record_history, tenant.name, cycles, now)
        self._learned.add(tenant.name)


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
