"""bench.scale's tenants part: one `eadm-bot run` (or several replicas) watching N tenants of
the fleet (bench.fleet, a process of its own), measured over whole ticks.

What is measured, all from the bot's own process: its CPU time over the ticks measured, per
poll (CPU seconds over the polls the fleet answered meanwhile) and as a share of one core; its
resident memory; the longest any tenant went unpolled; and from its start, while the first
tick's polls run: how long until /healthz first answered 200, how long each /healthz (once a
second, 2 s allowed) and each signed `/eadm status` (every two seconds) took to be answered.

With `history`, the database is filled before the bot starts: a year of hourly cycles for the
first `history` tenants, with two resolved alerts a day each (their copies and messages) and
thirty audit rows a day, written in bulk as bench.retention writes it (testkit.history), then
purged as the daily purge leaves it when the bot keeps a year: the old messages gone, the rest
kept. The bot then keeps a year too, so its own purge finds nothing to do while measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.fleet import self_signed
from bot.sim.signing import form_headers, slash_command_body
from bot.sim.slack import SlackDouble
from bot.slack.ids import COMMAND
from testkit.e2e import SIGNING_SECRET, BotProcess, bot_env
from testkit.history import Year

ADMIN = "UADMIN"
HEALTH_EVERY = 1.0  # seconds between two /healthz probes while the first tick runs
HEALTH_TIMEOUT = 2.0
STATUS_EVERY = 2.0  # seconds between two `/eadm status` while the first tick runs
ACK_WITHIN = 3.0  # Slack's limit for an answer
# With a year of history the bot keeps a year (RETENTION_DAYS, AUDIT_RETENTION_DAYS), and the
# prefill runs the purge first: the figures are a poll's with a year in the database, not the
# first purge of a backlog (bench.retention measures that).
KEEP_DAYS = 400
PURGE_BATCH = 5000


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS line")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Fleet:
    """bench.fleet as a child process: N tenants' simulated eAdm, each on its own port."""

    def __init__(self, proc: asyncio.subprocess.Process, urls: list[str], control: int) -> None:
        self.proc = proc
        self.urls = urls
        self.control = f"http://127.0.0.1:{control}"

    @classmethod
    async def start(
        cls, tenants: int, folder: Path, *, tls: bool, keepalive: float
    ) -> tuple[Fleet, Path | None]:
        argv = [sys.executable, "-m", "bench.fleet", "--tenants", str(tenants)]
        argv += ["--keepalive", str(keepalive)]
        cert = None
        if tls:
            cert, key = self_signed(folder)
            argv += ["--tls", str(cert), str(key)]
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, limit=64 * 1024 * 1024
        )
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=300)
        if not line:
            raise RuntimeError("bench.fleet exited before it listened")
        told = json.loads(line)
        return cls(proc, told["urls"], told["control"]), cert

    async def polls(self) -> dict[int, list[float]]:
        async with httpx.AsyncClient(timeout=60) as client:
            got = (await client.get(f"{self.control}/polls")).json()
        return {int(k): v for k, v in got.items()}

    async def served(self) -> dict[str, int]:
        async with httpx.AsyncClient(timeout=60) as client:
            return dict((await client.get(f"{self.control}/served")).json())

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    async def close(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            await self.proc.wait()


def tenants_toml(urls: list[str], channel: str | None = None) -> str:
    return "\n".join(
        f'[[tenants]]\nname = "t{i:04d}"\neadm_url = "{url}"\n'
        f'channel = "{channel or f"C{i:04d}"}"\n'
        for i, url in enumerate(urls)
    )


def prefill(database_url: str, names: list[str]) -> tuple[float, dict[str, int]]:
    """A year of history for `names`, written before the bot starts, as the daily purge leaves
    it when the bot keeps a year (KEEP_DAYS): the messages Slack took long ago are gone, the
    cycles, alerts and audit rows stay. Seconds and rows written."""
    from bot.app.retention import plan
    from bot.core.retention import Retention
    from bot.store import Store, utcnow

    store = Store(database_url)
    store.migrate()
    started = time.perf_counter()
    now = utcnow()
    counts = Year(tuple(names), now, cycle_every=timedelta(hours=1), audit_a_day=30).write(store)
    for kept, before in plan(Retention(KEEP_DAYS, KEEP_DAYS).cutoffs(now)):
        while store.purge(kept, before, PURGE_BATCH, configured=names) == PURGE_BATCH:
            pass
    store.dispose()
    return time.perf_counter() - started, counts


@dataclass
class Probes:
    """What the bot answered while its first tick ran."""

    healthy_after: float = 0.0  # seconds from start to the first /healthz 200
    health: list[float | None] = field(default_factory=list)  # None: not 200 within 2 s
    acks: list[float | None] = field(default_factory=list)  # None: no 200 at all

    @staticmethod
    def summary(samples: list[float | None], limit: float) -> str:
        answered = sorted(s for s in samples if s is not None)
        late = sum(1 for s in samples if s is None or s > limit)
        if not answered:
            return f"none answered of {len(samples)}"
        return (
            f"median {statistics.median(answered) * 1000:.0f} ms, max {answered[-1] * 1000:.0f} "
            f"ms, {late} of {len(samples)} over {limit:g} s"
        )


async def probe(bot_url: str, slack_url: str, probes: Probes, stop: asyncio.Event) -> None:
    """/healthz every second and a signed `/eadm status` every two, until `stop`."""
    body = slash_command_body(
        COMMAND, "status t0000", user_id=ADMIN, response_url=f"{slack_url}/_double/response/b"
    )

    async def one(client: httpx.AsyncClient, into: list[float | None], **request: Any) -> None:
        started = time.perf_counter()
        try:
            answer = await client.request(**request)
        except httpx.HTTPError:
            into.append(None)
            return
        into.append(time.perf_counter() - started if answer.status_code == 200 else None)

    async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT) as client:
        pending: set[asyncio.Task[None]] = set()
        for n in itertools.count():
            if stop.is_set():
                break
            pending.add(
                asyncio.create_task(
                    one(client, probes.health, method="GET", url=f"{bot_url}/healthz")
                )
            )
            if n % round(STATUS_EVERY / HEALTH_EVERY) == 0:
                headers = form_headers(SIGNING_SECRET, body)
                pending.add(
                    asyncio.create_task(
                        one(
                            client,
                            probes.acks,
                            method="POST",
                            url=f"{bot_url}/slack/events",
                            content=body,
                            headers=headers,
                            timeout=10.0,
                        )
                    )
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), HEALTH_EVERY)
        await asyncio.gather(*pending)


@dataclass
class TenantsFigures:
    label: str
    tenants: int
    rss_mib: float
    peak_mib: float
    cpu_share: float
    polls: int  # polls the fleet answered while measured
    ticks: int
    worst_gap: float  # the longest time any tenant went unpolled while measured, in seconds
    fleet_share: float  # the fleet process's share of one core meanwhile
    connections_per_poll: float  # new connections the fleet took, per poll
    metrics_bytes: int
    probes: Probes
    window: float  # seconds measured

    @property
    def cpu_ms_per_poll(self) -> float:
        return self.cpu_share * self.window / max(1, self.polls) * 1000

    @property
    def over_fleet(self) -> float:
        """The bot's CPU per poll over the fleet's: the fleet's work per poll is fixed (an
        aiohttp answer), so this ratio holds where the machine's speed does not."""
        return self.cpu_share / self.fleet_share if self.fleet_share else 0.0


async def measure_tenants(
    tmp: Path,
    slack: SlackDouble,
    tenants: int,
    poll_interval: float,
    ticks: int,
    *,
    label: str = "",
    tls: bool = False,
    server_keepalive: float = 120.0,
    history: int = 0,
    replicas: int = 1,
    database_url: str | None = None,
) -> TenantsFigures:
    """With several `replicas` (on one PostgreSQL at `database_url`), RSS and peak are the
    largest replica's, and the CPU share is theirs together."""
    name = f"tenants{tenants}-{label or 'plain'}".replace(" ", "-")
    database_url = database_url or f"sqlite:///{tmp / f'{name}.db'}"
    fleet, cert = await Fleet.start(tenants, tmp, tls=tls, keepalive=server_keepalive)
    try:
        if history:
            seconds, counts = prefill(database_url, [f"t{i:04d}" for i in range(history)])
            print(f"  ({label}: wrote a year for {history} tenants in {seconds:.0f} s: {counts})")
        config = tmp / f"{name}.toml"
        config.write_text(tenants_toml(fleet.urls), encoding="utf-8")
        env: dict[str, Any] = {"POLL_INTERVAL": poll_interval, "ADMIN_USERS": ADMIN}
        if history:
            env |= {"RETENTION_DAYS": KEEP_DAYS, "AUDIT_RETENTION_DAYS": KEEP_DAYS}
        if cert is not None:
            env["SSL_CERT_FILE"] = str(cert)  # httpx trusts the fleet's certificate through it
        bots = [
            BotProcess(
                bot_env(
                    slack_api_url=slack.api_url,
                    eadm_url="http://unused.invalid",
                    database_url=database_url,
                    EADM_BOT_CONFIG=str(config),
                    LOG_LEVEL="WARNING",
                    **env,
                ),
                tmp / f"{name}-r{index}.log",
            )
            for index in range(replicas)
        ]
        probes = Probes()
        stop = asyncio.Event()
        try:
            started = time.monotonic()
            await asyncio.gather(*(bot.start(timeout=300) for bot in bots))
            probes.healthy_after = time.monotonic() - started
            prober = asyncio.create_task(
                probe(bots[0].url, slack.api_url.rsplit("/api", 1)[0], probes, stop)
            )
            pids = [bot.proc.pid for bot in bots if bot.proc is not None]
            # Warm-up: the first polls spread over the first seconds, and each tenant's second
            # at its own moment of the tick, half an interval to one and a half later; from
            # then on every tenant is polled once an interval.
            deadline = time.monotonic() + poll_interval * 3 + 60
            while time.monotonic() < deadline:
                if sum(len(times) >= 2 for times in (await fleet.polls()).values()) >= tenants:
                    break
                await asyncio.sleep(2)  # past the deadline, those never polled show as such
            stop.set()
            await prober
            served0 = await fleet.served()
            cpu0, fleet0, wall0 = sum(cpu_seconds(p) for p in pids), fleet.cpu(), time.time()
            peak = max(rss_mib(pid) for pid in pids)
            end = wall0 + ticks * poll_interval
            while time.time() < end:
                await asyncio.sleep(min(1.0, end - time.time()))
                peak = max(peak, *(rss_mib(pid) for pid in pids))
            wall1 = time.time()
            cpu = sum(cpu_seconds(p) for p in pids) - cpu0
            fleet_cpu = fleet.cpu() - fleet0
            served1 = await fleet.served()
            rss = max(rss_mib(pid) for pid in pids)
            async with httpx.AsyncClient(timeout=30) as client:
                metrics_bytes = len((await client.get(f"{bots[0].url}/metrics")).content)
        finally:
            stop.set()
            for bot in bots:
                await bot.stop(timeout=60)
        polled = await fleet.polls()
    finally:
        await fleet.close()
    worst, count = 0.0, 0
    for index in range(tenants):
        times = polled.get(index, [])
        count += sum(1 for t in times if wall0 < t <= wall1)
        last_before = max((t for t in times if t <= wall0), default=wall0)
        seen = [last_before, *(t for t in times if wall0 < t < wall1), wall1]
        worst = max(worst, *(b - a for a, b in itertools.pairwise(seen)))
    window = wall1 - wall0
    figures = TenantsFigures(
        label=label,
        tenants=tenants,
        rss_mib=rss,
        peak_mib=max(peak, rss),
        cpu_share=cpu / window,
        polls=count,
        ticks=ticks,
        worst_gap=worst,
        fleet_share=fleet_cpu / window,
        connections_per_poll=(served1["connections"] - served0["connections"]) / max(1, count),
        metrics_bytes=metrics_bytes,
        probes=probes,
        window=window,
    )
    return figures


def print_tenants(rows: list[tuple[TenantsFigures, TenantsFigures]], poll_interval: float) -> None:
    """Each row beside its baseline, measured in the same run."""
    print(f"\ntenants: one process, SQLite, POLL_INTERVAL={poll_interval:g} s; every eAdm answers")
    print("  after 100 ms from bench.fleet, a process of its own; measured over whole ticks")
    print(
        f"  {'':>26} {'RSS MiB':>8} {'peak':>6} {'CPU':>6} {'ms/poll':>8} {'polls':>6} "
        f"{'unpolled':>9} {'conn/poll':>9} {'fleet CPU':>9} {'bot/fleet':>9}"
    )
    shown: set[int] = set()
    for many, base in rows:
        for f in (base, many):
            if id(f) in shown:
                continue
            shown.add(id(f))
            title = f"{f.tenants} {f.label}".strip()
            print(
                f"  {title:>26} {f.rss_mib:8.1f} {f.peak_mib:6.1f} {f.cpu_share:6.1%} "
                f"{f.cpu_ms_per_poll:8.2f} {f.polls:6d} {f.worst_gap:7.1f} s "
                f"{f.connections_per_poll:9.2f} {f.fleet_share:9.1%} {f.over_fleet:9.1f}"
            )
    for many, base in rows:
        title = f"{many.tenants} {many.label}".strip()
        ratio = many.cpu_ms_per_poll / base.cpu_ms_per_poll if base.cpu_ms_per_poll else 0
        polled = many.worst_gap <= poll_interval * 1.5
        print(
            f"  {title}: {ratio:.2f} x the CPU per poll of {base.tenants} {base.label}".rstrip()
            + f"; every tenant polled every tick: {'yes' if polled else 'NO'}; "
            f"/metrics {many.metrics_bytes / 1024:.0f} KiB"
        )
        p = many.probes
        print(
            f"    healthy {p.healthy_after:.1f} s after start; first tick: /healthz "
            f"{Probes.summary(p.health, HEALTH_TIMEOUT)}; `/eadm status` acked "
            f"{Probes.summary(p.acks, ACK_WITHIN)}"
        )
