"""A provider's scale, in one run: many tenants in one process, an alert storm in one channel,
and how fast the bot acks under concurrent clicks and commands.

Every figure is printed beside a baseline measured in the same run:

- metrics: what one /metrics scrape costs at N tenants, beside the per-tenant series the bot
  had before (bench.scrape).
- tenants: one `eadm-bot run` watching N tenants (default 1,000) of bench.fleet, a process of
  its own that gives each tenant a loopback port and answers every poll after 100 ms, polled
  every POLL_INTERVAL (default 60 s). CPU time per poll and the share of one core the process
  used over whole ticks, resident memory, the longest any tenant went unpolled, and from its
  start while the first tick's polls run: when /healthz first answered, and how long /healthz
  and `/eadm status` took to be answered (bench.tenants). Beside the same bot watching one
  tenant; `--big 5000` adds 5,000 tenants. `--tls` adds the N tenants over HTTPS (a
  certificate made for the run, trusted through SSL_CERT_FILE), with servers that keep an
  idle connection 120 s (as IIS does) and servers that close it after 5 s, beside plain HTTP;
  `--history H` adds the N tenants with a year of hourly cycles in the database for H of them.
- storm: N tenants (default 200) posting to one channel turn red at once; the Slack double
  keeps chat.postMessage's documented pace (about one message per second per channel, short
  bursts, 429 with Retry-After beyond). Top-level messages, seconds until every alert is in
  the channel, 429 answers, alerts lost or told twice.
- acks: 50 concurrent signed `/eadm status` commands and Acknowledge clicks sent to the bot's
  HTTP endpoint, beside a bare slack_bolt AsyncApp that only acks, served the same way in a
  process of its own. Ack latency is the time until the HTTP answer.

    python -m bench.scale [--tenants 1000] [--big 5000] [--tls] [--history 100] [--ticks 3]
                          [--storm 200] [--concurrency 50] [--only metrics,tenants,storm,acks]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
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

from bench.scrape import print_scrapes
from bench.storm import Installations, measure_storm, print_storm
from bench.tenants import ADMIN, TenantsFigures, measure_tenants, print_tenants
from bot.core.domain import EXPORT_AD
from bot.sim.eadm import Fault, Scenario
from bot.sim.signing import block_actions_body, form_headers, slash_command_body
from bot.sim.slack import SlackDouble
from bot.slack.ids import ACTION_ACK, COMMAND
from testkit.e2e import BOT_TOKEN, SIGNING_SECRET, BotProcess, bot_env, eventually, free_port

# -- the machine --------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0]
    return f"{model}, {os.cpu_count()} cores, load {load:.1f}, Python {sys.version.split()[0]}"


# -- tenants on replicas ---------------------------------------------------------------------


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
        f"all replicas together {f.cpu_share:.1%} of one core, {f.cpu_ms_per_poll:.2f} ms of "
        f"CPU per poll, longest unpolled {f.worst_gap:.1f} s"
    )
    polled = f.worst_gap <= poll_interval * 1.5
    print(f"  every tenant polled every tick: {'yes' if polled else 'NO'}")


# -- acks: latency under concurrent commands and clicks ------------------------------------------

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


async def tenants_rows(
    tmp: Path, slack: SlackDouble, args: argparse.Namespace
) -> list[tuple[TenantsFigures, TenantsFigures]]:
    """The tenants part's rows, each beside the baseline it is compared with."""

    async def run(tenants: int, label: str = "", **options: Any) -> TenantsFigures:
        return await measure_tenants(
            tmp, slack, tenants, args.poll_interval, args.ticks, label=label, **options
        )

    one = await run(1)
    many = await run(args.tenants)
    rows = [(many, one)]
    if args.big:
        rows.append((await run(args.big), one))
    if args.tls:
        kept = await run(args.tenants, "TLS", tls=True)
        rows.append((kept, many))
        closed = await run(args.tenants, "TLS, server closes idle", tls=True, server_keepalive=5)
        rows.append((closed, kept))
    if args.history:
        rows.append((await run(args.tenants, "a year of history", history=args.history), many))
    return rows


async def main(args: argparse.Namespace) -> None:
    parts = set(args.only.split(","))
    print(f"bench.scale on {machine()}")
    users = {ADMIN: {"name": "kari", "real_name": "Kari Nordmann", "locale": "nb-NO"}}
    slack = SlackDouble(token=BOT_TOKEN, users=users)
    await slack.start()
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            if "metrics" in parts:
                print_scrapes(args.tenants)
            if "tenants" in parts:
                print_tenants(await tenants_rows(tmp, slack, args), args.poll_interval)
            if args.replicas > 1:
                with postgres_database() as url:
                    shared = await measure_tenants(
                        tmp,
                        slack,
                        args.tenants,
                        args.poll_interval,
                        args.ticks,
                        label=f"{args.replicas} replicas",
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
    parser.add_argument(
        "--big", type=int, default=0, help="also this many tenants (5000: about 8 minutes more)"
    )
    parser.add_argument(
        "--tls", action="store_true", help="also the tenants over TLS, servers keeping or not"
    )
    parser.add_argument(
        "--history",
        type=int,
        default=0,
        help="also the tenants with a year of hourly cycles in the database for this many "
        "of them (100: 876,000 cycles, about 2 GB of SQLite)",
    )
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
    parser.add_argument("--only", default="metrics,tenants,storm,acks")
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="also run the tenants on this many replicas sharing one PostgreSQL "
        "(127.0.0.1:5432, user postgres)",
    )
    asyncio.run(main(parser.parse_args()))
