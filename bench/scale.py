"""A provider's scale, in one run: many tenants in one process, an alert storm in one channel,
and how fast the bot acks under concurrent clicks and commands.

Every figure is printed beside a baseline measured in the same run:

- tenants: one `eadm-bot run` watching N tenants (default 1,000), each a simulator on its own
  loopback port answering every poll after 100 ms, polled every POLL_INTERVAL (default 60 s).
  Resident memory (VmRSS) and the share of one core the process used over whole ticks, beside
  the same bot watching one tenant.
- storm: N tenants (default 200) posting to one channel turn red at once; the Slack double
  keeps chat.postMessage's documented pace (about one message per second per channel, short
  bursts, 429 with Retry-After beyond). Top-level messages, seconds until every alert is in
  the channel, 429 answers, alerts lost or told twice.
- acks: 50 concurrent signed `/eadm status` commands and Acknowledge clicks sent to the bot's
  HTTP endpoint, beside a bare slack_bolt AsyncApp that only acks, served the same way in a
  process of its own. Ack latency is the time until the HTTP answer.

    python -m bench.scale [--tenants 1000] [--ticks 3] [--storm 200] [--concurrency 50]
                          [--only tenants,storm,acks]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from aiohttp import web

from bot.core.domain import EXPORT_AD
from bot.serving import serve
from bot.sim.eadm import Fault, Scenario, build_app
from bot.sim.signing import block_actions_body, form_headers, slash_command_body
from bot.sim.slack import SlackDouble
from bot.slack.ids import ACTION_ACK, COMMAND
from testkit.e2e import BOT_TOKEN, SIGNING_SECRET, BotProcess, bot_env, eventually, free_port

EADM_DELAY = 0.1  # seconds each simulated eAdm takes to answer


# -- measuring a process ------------------------------------------------------------------------


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS line")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0]
    return f"{model}, {os.cpu_count()} cores, load {load:.1f}, Python {sys.version.split()[0]}"


# -- simulated eAdm installations ----------------------------------------------------------------


POLLS = web.AppKey("polls", list)


@web.middleware
async def _slow(request: web.Request, handler: Any) -> web.StreamResponse:
    if request.path.endswith("/current"):
        request.app[POLLS].append(time.monotonic())
    await asyncio.sleep(EADM_DELAY)
    return await handler(request)


class Installations:
    """N simulators, each on its own loopback port (its own origin, as real tenants are)."""

    def __init__(self) -> None:
        self.runners: list[web.AppRunner] = []
        self.apps: list[web.Application] = []
        self.urls: list[str] = []

    async def add(self, scenario: str | Scenario, speed: float) -> str:
        app = build_app(scenario, speed=speed)
        app[POLLS] = []
        app.middlewares.append(_slow)
        runner, port = await serve(app, "127.0.0.1", 0, backlog=64)
        self.runners.append(runner)
        self.apps.append(app)
        self.urls.append(f"http://127.0.0.1:{port}")
        return self.urls[-1]

    def polls(self) -> list[list[float]]:
        """When each installation was asked for its current cycle."""
        return [app[POLLS] for app in self.apps]

    async def close(self) -> None:
        for runner in self.runners:
            await runner.cleanup()


def tenants_toml(urls: list[str], channel: str | None = None) -> str:
    return "\n".join(
        f'[[tenants]]\nname = "t{i:04d}"\neadm_url = "{url}"\n'
        f'channel = "{channel or f"C{i:04d}"}"\n'
        for i, url in enumerate(urls)
    )


@contextlib.asynccontextmanager
async def running_bot(
    tmp: Path,
    name: str,
    slack: SlackDouble,
    toml: str,
    database_url: str | None = None,
    **env: Any,
) -> AsyncIterator[BotProcess]:
    config = tmp / f"{name}.toml"
    config.write_text(toml, encoding="utf-8")
    bot = BotProcess(
        bot_env(
            slack_api_url=slack.api_url,
            eadm_url="http://unused.invalid",
            database_url=database_url or f"sqlite:///{tmp / f'{name}.db'}",
            EADM_BOT_CONFIG=str(config),
            LOG_LEVEL="WARNING",
            **env,
        ),
        tmp / f"{name}.log",
    )
    await bot.start(timeout=120)
    try:
        yield bot
    finally:
        await bot.stop(timeout=60)


# -- tenants: memory and CPU --------------------------------------------------------------------


@dataclass
class TenantsFigures:
    tenants: int
    rss_mib: float
    peak_mib: float
    cpu_share: float
    ticks: int
    worst_gap: float  # the longest time any tenant went unpolled while measured, in seconds


async def measure_tenants(
    tmp: Path,
    slack: SlackDouble,
    tenants: int,
    poll_interval: float,
    ticks: int,
    *,
    replicas: int = 1,
    database_url: str | None = None,
) -> TenantsFigures:
    """With several `replicas` (on one PostgreSQL at `database_url`), RSS and peak are the
    largest replica's, and the CPU share is theirs together."""
    sims = Installations()
    try:
        for _ in range(tenants):
            await sims.add("healthy", speed=1.0)
        async with contextlib.AsyncExitStack() as stack:
            bots = [
                await stack.enter_async_context(
                    running_bot(
                        tmp,
                        f"tenants{tenants}r{index}",
                        slack,
                        tenants_toml(sims.urls),
                        database_url,
                        POLL_INTERVAL=poll_interval,
                    )
                )
                for index in range(replicas)
            ]
            pids = [bot.proc.pid for bot in bots if bot.proc is not None]
            # The first tick spreads the tenants' first polls and reads their history: warm-up.
            await eventually(
                lambda: all(sims.polls()),
                timeout=poll_interval * 3 + 60,
                what="every tenant's first poll",
            )
            cpu0, wall0 = sum(cpu_seconds(pid) for pid in pids), time.monotonic()
            peak = max(rss_mib(pid) for pid in pids)
            end = wall0 + ticks * poll_interval
            while time.monotonic() < end:
                await asyncio.sleep(min(1.0, end - time.monotonic()))
                peak = max(peak, *(rss_mib(pid) for pid in pids))
            wall1 = time.monotonic()
            cpu = (sum(cpu_seconds(pid) for pid in pids) - cpu0) / (wall1 - wall0)
            rss = max(rss_mib(pid) for pid in pids)
    finally:
        await sims.close()
    worst = 0.0
    for polls in sims.polls():
        seen = [wall0, *(t for t in polls if wall0 < t < wall1), wall1]
        last_before = max((t for t in polls if t <= wall0), default=wall0)
        seen[0] = last_before
        worst = max(worst, *(b - a for a, b in itertools.pairwise(seen)))
    return TenantsFigures(
        tenants=tenants,
        rss_mib=rss,
        peak_mib=max(peak, rss),
        cpu_share=cpu,
        ticks=ticks,
        worst_gap=worst,
    )


def print_tenants(base: TenantsFigures, many: TenantsFigures, poll_interval: float) -> None:
    print(f"\ntenants: one process, SQLite, POLL_INTERVAL={poll_interval:g} s, eAdm answering")
    print(f"  in {EADM_DELAY * 1000:.0f} ms; measured over {many.ticks} ticks after a warm-up")
    print(
        f"  {'tenants':>8} {'RSS MiB':>8} {'peak MiB':>9} {'CPU of one core':>16} "
        f"{'longest unpolled':>17}"
    )
    for f in (base, many):
        print(
            f"  {f.tenants:8d} {f.rss_mib:8.1f} {f.peak_mib:9.1f} {f.cpu_share:15.1%} "
            f"{f.worst_gap:15.1f} s"
        )
    polled = many.worst_gap <= poll_interval * 1.5
    print(
        f"  every tenant polled every tick: {'yes' if polled else 'NO'}; "
        "goal: under 150 MiB and 25 % of one core"
    )


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh database on the local PostgreSQL, dropped afterwards."""
    import uuid

    import sqlalchemy as sa

    admin = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT"
    )
    name = f"bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def print_replicas(f: TenantsFigures, replicas: int, poll_interval: float) -> None:
    print(f"\ntenants on {replicas} replicas sharing one PostgreSQL,", end=" ")
    print(f"POLL_INTERVAL={poll_interval:g} s")
    print(
        f"  {f.tenants} tenants: largest replica {f.rss_mib:.1f} MiB (peak {f.peak_mib:.1f}), "
        f"all replicas together {f.cpu_share:.1%} of one core, longest unpolled "
        f"{f.worst_gap:.1f} s"
    )
    polled = f.worst_gap <= poll_interval * 1.5
    print(f"  every tenant polled every tick: {'yes' if polled else 'NO'}")


# -- storm: many alerts for one channel at once --------------------------------------------------

STORM_CHANNEL = "C0STORM"
RED_AFTER = 25.0  # seconds from the simulators' start to the red step: the bot is up by then
RED_SIM = 540.0  # simulated seconds from a cycle's start to Export AD failing (STEP_PLAN)


@dataclass
class StormFigures:
    tenants: int
    top_level: int
    seconds: float  # from the first step turning red until every tenant was in the channel
    rate_limited: int
    lost: int
    doubled: int
    calls: int  # chat.postMessage and chat.update calls the channel got


async def measure_storm(
    tmp: Path, tenants: int, poll_interval: float, name: str, **env: Any
) -> StormFigures:
    slack = SlackDouble(token=BOT_TOKEN)
    slack.limit_rate(per_second=1.0, burst=4)
    await slack.start()
    sims = Installations()
    scenario = Scenario("storm", (Fault(EXPORT_AD, "fail"),), more_cycles=False)
    started = time.time()
    try:
        for _ in range(tenants):
            await sims.add(scenario, speed=RED_SIM / (RED_AFTER - (time.time() - started)))
        red = started + RED_AFTER
        names = [f"t{i:04d}" for i in range(tenants)]
        async with running_bot(
            tmp,
            name,
            slack,
            tenants_toml(sims.urls, STORM_CHANNEL),
            POLL_INTERVAL=poll_interval,
            **env,
        ):

            def told() -> tuple[dict[str, int], int]:
                """How often each tenant's alert was told (its own message, or a digest that
                reached the channel), and how many posts and digests are still owed."""
                return tally(tmp / f"{name}.db", slack, names)

            await eventually(
                lambda: (lambda counts, owed: all(counts.values()) and not owed)(*told()),
                timeout=RED_AFTER + tenants * 3 + 120,
                interval=0.5,
                what=f"all {tenants} tenants told in {STORM_CHANNEL}",
            )
            done = time.time()
            await asyncio.sleep(5)  # anything owed still, or told twice, shows by now
            counts, _ = told()
    finally:
        await sims.close()
        await slack.stop()
    writes = [
        c
        for c in slack.calls()
        if c.method in ("chat.postMessage", "chat.update")
        and slack.channel_id(str(c.params.get("channel", ""))) == STORM_CHANNEL
    ]
    return StormFigures(
        tenants=tenants,
        top_level=len(slack.messages(STORM_CHANNEL)),
        seconds=done - red,
        rate_limited=len(slack.rate_limited()),
        lost=sum(1 for n in counts.values() if n == 0),
        doubled=sum(1 for n in counts.values() if n > 1),
        calls=len(writes),
    )


def tally(db: Path, slack: SlackDouble, names: list[str]) -> tuple[dict[str, int], int]:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as con:
        try:
            alerts = dict(con.execute("SELECT id, tenant FROM alert").fetchall())
            digested = {
                row[0]
                for row in con.execute(
                    "SELECT c.alert_id FROM alert_copy c JOIN digest d ON d.id = c.digest_id "
                    "WHERE d.message_ts IS NOT NULL"
                )
            }
            owed = con.execute(
                "SELECT count(*) FROM outbox WHERE delivered_at IS NULL "
                "AND kind IN ('post', 'digest')"
            ).fetchone()[0]
        except sqlite3.OperationalError:  # the bot has not made its tables yet
            return dict.fromkeys(names, 0), 1
    counts = dict.fromkeys(names, 0)
    for message in slack.messages(STORM_CHANNEL):
        alert_id = ((message.get("metadata") or {}).get("event_payload") or {}).get("alert_id")
        if alert_id in alerts:
            counts[alerts[alert_id]] += 1
    for alert_id in digested:
        if alert_id in alerts:  # an alert opened between the two reads counts next time
            counts[alerts[alert_id]] += 1
    return counts, owed


def print_storm(figures: list[tuple[str, StormFigures]], poll_interval: float) -> None:
    first = figures[0][1]
    print(
        f"\nstorm: {first.tenants} tenants posting to one channel turn red at once; "
        f"POLL_INTERVAL={poll_interval:g} s;"
    )
    print("  the Slack double keeps 1 chat.postMessage per second per channel (burst 4)")
    print(
        f"  {'':>24} {'top-level':>9} {'seconds':>8} {'429s':>5} {'lost':>5} {'doubled':>8} "
        f"{'writes':>7}"
    )
    for label, f in figures:
        print(
            f"  {label:>24} {f.top_level:9d} {f.seconds:8.1f} {f.rate_limited:5d} {f.lost:5d} "
            f"{f.doubled:8d} {f.calls:7d}"
        )
    print("  goal: at most 3 top-level messages within 60 s, no 429, nothing lost or doubled")


# -- acks: latency under concurrent commands and clicks ------------------------------------------

ADMIN = "UADMIN"
SLACK_DOUBLE = """
import asyncio, sys
from bot.sim.slack import SlackDouble
from testkit.e2e import BOT_TOKEN

async def main():
    users = {"UADMIN": {"name": "kari", "real_name": "Kari Nordmann", "locale": "nb-NO"}}
    double = SlackDouble(token=BOT_TOKEN, users=users)
    await double.start(port=int(sys.argv[1]))
    await asyncio.Event().wait()

asyncio.run(main())
"""


@contextlib.asynccontextmanager
async def process(argv: list[str], health: str, log: Path) -> AsyncIterator[None]:
    """A helper process (the bare Bolt app, a Slack double), up once `health` answers."""
    with log.open("ab") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        async with httpx.AsyncClient() as client:

            async def up() -> bool:
                with contextlib.suppress(httpx.HTTPError):
                    return (await client.get(health)).status_code < 500
                return False

            await eventually(up, timeout=30, what=f"{argv[2]} to answer")
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class AckFigures:
    samples: list[float]

    def q(self, fraction: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def fire(
    session: aiohttp.ClientSession, url: str, bodies: list[str], into: list[float]
) -> None:
    """Send the requests at once, each signed as Slack signs it; note each one's latency."""
    signed = [(body, form_headers(SIGNING_SECRET, body)) for body in bodies]

    async def one(body: str, headers: dict[str, str]) -> None:
        started = time.perf_counter()
        async with session.post(url, data=body, headers=headers) as response:
            await response.read()
            into.append(time.perf_counter() - started)
            if response.status != 200:
                raise RuntimeError(f"{url} answered {response.status}")

    await asyncio.gather(*(one(body, headers) for body, headers in signed))


async def measure_acks(tmp: Path, concurrency: int, rounds: int) -> tuple[AckFigures, AckFigures]:
    slack_port, bare_port = free_port(), free_port()
    slack_url = f"http://127.0.0.1:{slack_port}"
    scenario = Scenario("bench", (Fault(EXPORT_AD, "fail"),), more_cycles=False)
    sims = Installations()
    eadm_url = await sims.add(scenario, speed=6000)
    async with (
        process(
            [sys.executable, "-c", SLACK_DOUBLE, str(slack_port)],
            f"{slack_url}/_double/calls",
            tmp / "slack.log",
        ),
        process(
            [sys.executable, "-m", "bench.bare_bolt", str(bare_port), f"{slack_url}/api/"],
            f"http://127.0.0.1:{bare_port}/healthz",
            tmp / "bare.log",
        ),
    ):
        config = tmp / "acks.toml"
        config.write_text(
            f'[[tenants]]\nname = "t0"\neadm_url = "{eadm_url}"\nchannel = "C0ACKS"\n',
            encoding="utf-8",
        )
        bot = BotProcess(
            bot_env(
                slack_api_url=f"{slack_url}/api/",
                eadm_url="http://unused.invalid",
                database_url=f"sqlite:///{tmp / 'acks.db'}",
                EADM_BOT_CONFIG=str(config),
                ADMIN_USERS=ADMIN,
                POLL_INTERVAL=5,
                LOG_LEVEL="WARNING",
            ),
            tmp / "acks-bot.log",
        )
        await bot.start(timeout=60)
        try:
            async with (
                httpx.AsyncClient(timeout=30) as client,
                aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=concurrency * 2),
                    timeout=aiohttp.ClientTimeout(total=30),
                ) as session,
            ):

                async def alert_id() -> int | None:
                    answer = await client.get(
                        f"{slack_url}/_double/messages", params={"channel": "C0ACKS"}
                    )
                    messages = answer.json()
                    if not messages:
                        return None
                    return int(messages[0]["metadata"]["event_payload"]["alert_id"])

                alert = await eventually(alert_id, timeout=30, what="the alert to click")
                response_url = f"{slack_url}/_double/response/bench"

                def bodies() -> list[str]:
                    out = []
                    for i in range(concurrency):
                        if i % 2:
                            out.append(
                                block_actions_body(
                                    ACTION_ACK,
                                    str(alert),
                                    user_id=ADMIN,
                                    channel_id="C0ACKS",
                                    response_url=response_url,
                                )
                            )
                        else:
                            out.append(
                                slash_command_body(
                                    COMMAND, "status", user_id=ADMIN, response_url=response_url
                                )
                            )
                    return out

                bot_samples: list[float] = []
                bare_samples: list[float] = []
                bare_url = f"http://127.0.0.1:{bare_port}/slack/events"
                # A round each in turn, so both meet the same load on the machine.
                for n in range(rounds + 1):
                    into_bot = bot_samples if n else []  # the first round warms up
                    into_bare = bare_samples if n else []
                    await fire(session, f"{bot.url}/slack/events", bodies(), into_bot)
                    await asyncio.sleep(1.0)  # let the work after the acks finish
                    await fire(session, bare_url, bodies(), into_bare)
                    await asyncio.sleep(0.2)
        finally:
            await bot.stop()
            await sims.close()
    return AckFigures(bot_samples), AckFigures(bare_samples)


def print_acks(bot: AckFigures, bare: AckFigures, concurrency: int) -> None:
    print(
        f"\nacks: {concurrency} concurrent signed requests (half `/eadm status`, half "
        f"Acknowledge clicks), {len(bot.samples) // concurrency} rounds"
    )
    print(f"  {'':>16} {'p50 ms':>8} {'p99 ms':>8}")
    for name, f in (("eadm-bot", bot), ("bare Bolt app", bare)):
        print(f"  {name:>16} {f.q(0.5) * 1000:8.1f} {f.q(0.99) * 1000:8.1f}")
    ratio = bot.q(0.99) / bare.q(0.99)
    print(f"  p99 ratio {ratio:.2f}x (goal: at most 1.5x)")


# -- the whole run ------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    parts = set(args.only.split(","))
    print(f"bench.scale on {machine()}")
    slack = SlackDouble(token=BOT_TOKEN)
    await slack.start()
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            if "tenants" in parts:
                base = await measure_tenants(tmp, slack, 1, args.poll_interval, args.ticks)
                many = await measure_tenants(
                    tmp, slack, args.tenants, args.poll_interval, args.ticks
                )
                print_tenants(base, many, args.poll_interval)
            if args.replicas > 1:
                with postgres_database() as url:
                    shared = await measure_tenants(
                        tmp,
                        slack,
                        args.tenants,
                        args.poll_interval,
                        args.ticks,
                        replicas=args.replicas,
                        database_url=url,
                    )
                print_replicas(shared, args.replicas, args.poll_interval)
            if "storm" in parts:
                storms = [
                    (
                        "paced, digest",
                        await measure_storm(tmp, args.storm, args.storm_poll, "storm"),
                    )
                ]
                if args.storm_baseline:
                    storms.append(
                        (
                            "unpaced, no digest",
                            await measure_storm(
                                tmp,
                                args.storm,
                                args.storm_poll,
                                "storm-baseline",
                                STORM_AFTER=100_000,
                                SLACK_CHANNEL_RATE=0,
                            ),
                        )
                    )
                print_storm(storms, args.storm_poll)
            if "acks" in parts:
                bot_acks, bare_acks = await measure_acks(tmp, args.concurrency, args.rounds)
                print_acks(bot_acks, bare_acks, args.concurrency)
    finally:
        await slack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--poll-interval", type=float, default=60.0)
    parser.add_argument("--ticks", type=int, default=3)
    parser.add_argument("--storm", type=int, default=200)
    parser.add_argument("--storm-poll", type=float, default=10.0)
    parser.add_argument(
        "--storm-baseline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the storm unpaced and without a digest (takes minutes)",
    )
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--only", default="tenants,storm,acks")
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="also run the tenants on this many replicas sharing one PostgreSQL "
        "(127.0.0.1:5432, user postgres)",
    )
    asyncio.run(main(parser.parse_args()))
