"""What one poll costs the bot's process, in CPU: the poll job against a real SQLite store and
N simulated eAdm installations, beside the least a poll can cost, measured in the same run: a
bare GET of the same answer over an httpx client, its JSON parsed; and the source's read alone
(what the poll does before it judges and writes), so the poll's own part shows beside it.

The simulators run in a process of their own (`--serve`), so the figures are the poller's CPU
alone (time.process_time of this process). Every tenant is polled once a round, one after
another, with the poll's listeners (rerun checks, Event Viewer) as the bot wires them, one
round a tick on the poll job's clock and the ticks in a row, as the scheduler polls (the
rounds follow each other at once: CPU time is what is measured); the first round (which writes
every tenant's state) is not measured. The three kinds take turns tenant by tenant, so a busy
moment of a shared machine falls on all of them.

    python -m bench.pollcost [--tenants 200] [--rounds 5] [--poll-interval 60]
                             [--history-days 0] [--profile]

`--history-days 365` writes a year of cycles and alerts per tenant first (as a year of polls
leaves them); `--profile` prints the top of a pyinstrument profile of the measured rounds
(pyinstrument must be installed; it is not one of the bot's dependencies).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import Adapters
from bot.app.polling import Poller
from bot.app.usecases import UseCases
from bot.core.settings import Settings, load_settings
from bot.serving import serve
from bot.sim.eadm import build_app
from bot.sources import source_for
from bot.sources.api import status_client
from bot.store import Store
from testkit.history import Year

CURRENT = "/api/v1/sync/cycles/current"


# -- the simulators, in a process of their own ---------------------------------------------------


async def _serve_simulators(count: int) -> None:
    runners = []
    for _ in range(count):
        runner, port = await serve(build_app("healthy", speed=1.0), "127.0.0.1", 0, backlog=64)
        runners.append(runner)
        print(f"http://127.0.0.1:{port}", flush=True)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed
    for runner in runners:
        await runner.cleanup()


def start_simulators(count: int) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.pollcost", "--serve", str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    urls: list[str] = []
    for line in proc.stdout:
        if line.strip() == "ready":
            return proc, urls
        urls.append(line.strip())
    raise RuntimeError("the simulators did not start")


# -- the figures -------------------------------------------------------------------------------


def tenants_toml(urls: list[str]) -> str:
    return "\n".join(
        f'[[tenants]]\nname = "t{i:04d}"\neadm_url = "{url}"\nchannel = "C{i:04d}"\n'
        for i, url in enumerate(urls)
    )


def settings_for(tmp: Path, urls: list[str], poll_interval: float) -> Settings:
    config = tmp / "tenants.toml"
    config.write_text(tenants_toml(urls), encoding="utf-8")
    return load_settings(
        require_slack=False,
        eadm_bot_config=config,
        poll_interval=poll_interval,
        database_url=f"sqlite:///{tmp / 'bot.db'}",
    )


class Inline(ThreadPoolExecutor):
    """Runs what `asyncio.to_thread` is given at once, on the event loop's thread: for the
    profile only, which samples one thread (the figures use the bot's worker threads)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)
        return future


class RoundClock:
    """The poll job's clock: a round is a tick, and the rounds are ticks in a row whatever
    time a busy machine takes over one (as in the bot, where a process that holds every tick in
    a row knows nobody else polled its tenants). Within a round it runs with the real clock."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.tick = math.floor(time.time() / interval)
        self.started = time.monotonic()

    def next_round(self) -> None:
        self.tick += 1
        self.started = time.monotonic()

    def __call__(self) -> datetime:
        within = min(time.monotonic() - self.started, self.interval * 0.99)
        return datetime.fromtimestamp(self.tick * self.interval + within, UTC)


Call = Callable[[], Awaitable[Any]]


async def cpu_per_call(
    kinds: dict[str, list[Call]], rounds: int, clock: RoundClock, profile: str | None = None
) -> tuple[dict[str, float], str]:
    """CPU milliseconds per call of each kind over `rounds` rounds, a round a tick. Within a
    round the kinds take turns tenant by tenant, so a busy moment of a shared machine falls
    on all of them. With `profile`, the text of a profile of that kind's calls."""
    spent = dict.fromkeys(kinds, 0.0)
    profiler: Any = None
    if profile is not None:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002, async_mode="disabled")
        asyncio.get_running_loop().set_default_executor(Inline())
    for _ in range(rounds):
        clock.next_round()
        for calls in zip(*kinds.values(), strict=True):
            for kind, call in zip(kinds, calls, strict=True):
                if kind == profile:
                    profiler.start()
                started = time.process_time()
                await call()
                spent[kind] += time.process_time() - started
                if kind == profile:
                    profiler.stop()
    text = ""
    if profiler is not None:
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=2))
        text = profiler.output_text(unicode=False, color=False, show_all=False)
    count = rounds * len(next(iter(kinds.values())))
    return {kind: cpu * 1000 / count for kind, cpu in spent.items()}, text


async def measure(args: argparse.Namespace) -> None:
    proc, urls = start_simulators(args.tenants)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            await _measure(Path(tmp), urls, args)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)


async def _measure(tmp: Path, urls: list[str], args: argparse.Namespace) -> None:
    # As the bot runs its blocking work: two worker threads.
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=2))
    settings = settings_for(tmp, urls, args.poll_interval)
    store = Store(settings.database_url)
    store.migrate()
    if args.history_days:
        now = datetime.now(UTC)
        names = tuple(t.name for t in settings.tenants)
        Year(names, now, days=args.history_days).write(store)
    http, http_read = status_client(), status_client()
    sources = {
        t.name: source_for(t, settings.tz, client=http, max_bytes=settings.source_max_bytes)
        for t in settings.tenants
    }
    # The read alone through sources of its own: no connection of the polls' is reused.
    readers = [
        source_for(t, settings.tz, client=http_read, max_bytes=settings.source_max_bytes)
        for t in settings.tenants
    ]
    slack = AsyncWebClient(token="xoxb-unused", base_url="http://127.0.0.1:9/api/")
    cases = UseCases(settings, store, slack, sources, Adapters.resolve(settings.tenants))
    clock = RoundClock(settings.poll_interval)
    poller = Poller(settings, store, sources, None, owner="bench", clock=clock)
    poller.listeners.extend(cases.poll_listeners())
    bare = httpx.AsyncClient(timeout=10)

    async def get_and_parse(url: str) -> None:
        answer = await bare.get(url + CURRENT)
        json.loads(answer.content)

    try:
        polls = [lambda t=t: poller.poll(t) for t in settings.tenants]  # type: ignore[misc]
        gets = [lambda u=u: get_and_parse(u) for u in urls]  # type: ignore[misc]
        reads = [lambda s=s: s.current() for s in readers]  # type: ignore[misc]
        kinds = {"get": gets, "read": reads, "poll": polls}
        await cpu_per_call(kinds, 1, clock)  # the first poll of each tenant writes its state
        gc.collect()
        gc.freeze()  # as the bot does once started
        figures, _ = await cpu_per_call(kinds, args.rounds, clock)
        baseline, read, poll = figures["get"], figures["read"], figures["poll"]
        profile = ""
        if args.profile:
            _, profile = await cpu_per_call(kinds, args.rounds, clock, profile="poll")
    finally:
        await poller.aclose()
        await bare.aclose()
        await http.aclose()
        await http_read.aclose()
        await cases.aclose()
        store.dispose()
    history = f", {args.history_days} days of history" if args.history_days else ""
    interval = f"POLL_INTERVAL={args.poll_interval:g}"
    print(f"{args.tenants} tenants, {args.rounds} rounds, {interval}{history}")
    print(f"  a poll:                            {poll:7.2f} ms CPU")
    ratio = poll / baseline
    print(f"  baseline, GET + JSON parse:        {baseline:7.2f} ms CPU  (poll: {ratio:.1f} x)")
    print(f"  the source's read alone:           {read:7.2f} ms CPU")
    print(f"  the poll beyond its read:          {poll - read:7.2f} ms CPU")
    share = poll * len(urls) / (args.poll_interval * 1000) * 100
    per_thousand = poll * 1000 / 60_000 * 100
    print(f"  share of one core at this interval: {share:.1f} %")
    print(f"  1,000 tenants at POLL_INTERVAL=60:  {per_thousand:.1f} % of one core")
    if profile:
        print(profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--poll-interval", type=float, default=60.0)
    parser.add_argument("--history-days", type=int, default=0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve_simulators(args.serve))
        return
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
