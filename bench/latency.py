"""Latency from a step turning red in the simulator to the alert reaching Slack.

Twenty tenants, each a simulator whose one cycle fails at a different step and moment, watched
by one `eadm-bot run` process with POLL_INTERVAL=1. For each tenant the figure is the time
between the failed step's `finished_at` (the moment eAdm shows the red cross) and the
`chat.postMessage` call arriving at the Slack double.

    python -m bench.latency [--tenants 20] [--poll-interval 1]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from datetime import datetime
from pathlib import Path

import httpx
from aiohttp import web

from bot.sim.eadm import STEP_PLAN, Fault, Scenario, build_app
from bot.sim.slack import SlackDouble
from testkit.e2e import BOT_TOKEN, BotProcess, bot_env, eventually, serve_app

START_AFTER = 4.0  # seconds: the bot is up and polling before the first step turns red
SPREAD = 0.53  # seconds between the red moments of successive tenants


def _red_after(index: int) -> tuple[str, float]:
    """The step that fails for tenant `index`, and simulated seconds from cycle start to red."""
    step_index = index % len(STEP_PLAN)
    before = sum(duration for _, duration in STEP_PLAN[:step_index])
    name, duration = STEP_PLAN[step_index]
    return name, before + duration / 2


async def main(tenants: int, poll_interval: float) -> None:
    slack = SlackDouble(token=BOT_TOKEN)
    await slack.start()
    runners: list[web.AppRunner] = []
    urls: list[str] = []
    toml = []
    for i in range(tenants):
        step, red_sim = _red_after(i)
        speed = red_sim / (START_AFTER + SPREAD * i)
        scenario = Scenario("bench", (Fault(step, "fail"),), more_cycles=False)
        runner, url = await serve_app(build_app(scenario, speed=speed))
        runners.append(runner)
        urls.append(url)
        toml.append(f'[[tenants]]\nname = "t{i:02d}"\neadm_url = "{url}"\nchannel = "C{i:03d}"\n')
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "tenants.toml"
        config.write_text("\n".join(toml), encoding="utf-8")
        env = bot_env(
            slack_api_url=slack.api_url,
            eadm_url="http://unused.invalid",
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            EADM_BOT_CONFIG=str(config),
            POLL_INTERVAL=str(poll_interval),
            LOG_LEVEL="WARNING",
        )
        bot = BotProcess(env, Path(tmp) / "bot.log")
        await bot.start()
        try:
            await eventually(
                lambda: len(slack.calls("chat.postMessage")) >= tenants,
                timeout=START_AFTER + SPREAD * tenants + 30,
                what="every alert",
            )
        finally:
            await bot.stop()
    latencies = []
    async with httpx.AsyncClient() as client:
        for i, url in enumerate(urls):
            cycle = (await client.get(f"{url}/api/v1/sync/cycles/current")).json()
            red = next(s for s in cycle["steps"] if s["state"] == "failed")
            red_at = datetime.fromisoformat(red["finished_at"].replace("Z", "+00:00")).timestamp()
            post = next(
                c for c in slack.calls("chat.postMessage") if c.params["channel"] == f"C{i:03d}"
            )
            latencies.append(post.at - red_at)
    for runner in runners:
        await runner.cleanup()
    await slack.stop()
    latencies.sort()
    print(f"red step -> Slack post, {tenants} tenants, POLL_INTERVAL={poll_interval:g} s")
    print(f"  median {statistics.median(latencies):.3f} s")
    print(f"  worst  {latencies[-1]:.3f} s")
    print(f"  best   {latencies[0]:.3f} s")
    print("  all    " + " ".join(f"{x:.2f}" for x in latencies))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    args = parser.parse_args()
    asyncio.run(main(args.tenants, args.poll_interval))
