"""The bot's resident memory over a long run of simulated cycles at high speed.

Several tenants play the `tour` scenario (failures, a safety-threshold stop, a step that does
not start, recoveries) at a high speed, so an hour of wall time is weeks of cycles; one
`eadm-bot run` process watches them all. Resident memory (VmRSS, Linux) is sampled as it goes.

    python -m bench.memory [--minutes 60] [--tenants 10] [--speed 600]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from aiohttp import web

from bot.sim.eadm import build_app
from bot.sim.slack import SlackDouble
from testkit.e2e import BOT_TOKEN, BotProcess, bot_env, serve_app


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS line")


async def main(minutes: float, tenants: int, speed: float) -> None:
    slack = SlackDouble(token=BOT_TOKEN)
    await slack.start()
    runners: list[web.AppRunner] = []
    toml = []
    for i in range(tenants):
        runner, url = await serve_app(build_app("tour", speed=speed))
        runners.append(runner)
        toml.append(
            f'[[tenants]]\nname = "t{i:02d}"\neadm_url = "{url}"\n'
            f'channel = "C{i:03d}"\nrerun = {{ kind = "simulator" }}\n'
        )
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "tenants.toml"
        config.write_text("\n".join(toml), encoding="utf-8")
        env = bot_env(
            slack_api_url=slack.api_url,
            eadm_url="http://unused.invalid",
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            EADM_BOT_CONFIG=str(config),
            POLL_INTERVAL="1",
            NOT_STARTED_AFTER=str(max(1.0, 900 / speed)),
            STUCK_AFTER=str(max(2.0, 3600 / speed)),
            CYCLE_DUE_AFTER=str(max(4.0, 7200 / speed)),
            REMIND_AFTER=str(max(5.0, 7200 / speed)),
            LOG_LEVEL="WARNING",
        )
        bot = BotProcess(env, Path(tmp) / "bot.log")
        await bot.start()
        assert bot.proc is not None
        pid = bot.proc.pid
        started = time.monotonic()
        end = started + minutes * 60
        every = max(5.0, minutes * 60 / 12)
        print(f"{tenants} tenants, tour scenario at speed {speed:g}, {minutes:g} min")
        print(f"{'minute':>7} {'RSS MiB':>8} {'posts':>6} {'updates':>8} {'replies':>8}")
        samples = []
        while True:
            await asyncio.sleep(min(every, max(0.0, end - time.monotonic())) or 0.01)
            rss = rss_mib(pid)
            samples.append(rss)
            posts = slack.calls("chat.postMessage")
            print(
                f"{(time.monotonic() - started) / 60:7.1f} {rss:8.1f} "
                f"{sum('thread_ts' not in c.params for c in posts):6d} "
                f"{len(slack.calls('chat.update')):8d} "
                f"{sum('thread_ts' in c.params for c in posts):8d}",
                flush=True,
            )
            if time.monotonic() >= end:
                break
        simulated_h = minutes * 60 * speed / 3600
        await bot.stop()
    for runner in runners:
        await runner.cleanup()
    await slack.stop()
    print(f"simulated time per tenant: {simulated_h:.0f} h")
    print(
        f"RSS first sample {samples[0]:.1f} MiB, last {samples[-1]:.1f} MiB, "
        f"peak {max(samples):.1f} MiB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--speed", type=float, default=600)
    args = parser.parse_args()
    asyncio.run(main(args.minutes, args.tenants, args.speed))
