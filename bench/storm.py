"""bench.scale's storm part: N tenants posting to one channel turn red at once, against the
Slack double keeping chat.postMessage's documented pace; and the simulated installations it
and the acks part serve in the benchmark's own process (a few, each on its own port).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.tenants import tenants_toml
from bot.core.domain import EXPORT_AD
from bot.serving import serve
from bot.sim.eadm import Fault, Scenario, build_app
from bot.sim.slack import SlackDouble
from testkit.e2e import BOT_TOKEN, BotProcess, bot_env, eventually

EADM_DELAY = 0.1  # seconds each simulated eAdm takes to answer

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
