"""`eadm-bot demo`: the simulator, a local Slack and the bot, all on this machine.

The bot runs exactly as in production (real HTTP to both sides); only Slack is the local
double, which prints each message the bot posts, updates or threads.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bot.cli.main import run_until_stopped
from bot.core.settings import load_settings
from bot.sim import eadm
from bot.sim.slack import Call, SlackDouble, render_terminal

TOKEN = "xoxb-demo-token"
CHANNEL = "#eadm-alerts"


def _print(call: Call) -> None:
    print(render_terminal(call), flush=True)


def run_demo(
    *,
    scenario: str = "tour",
    speed: float = 60.0,
    language: str = "en",
    port: int = 0,
    duration: float = 0,
) -> int:
    try:
        eadm.find_scenario(scenario)
    except ValueError as exc:
        print(f"eadm-bot demo: {exc}")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="eadm-bot-demo-"))
    double = SlackDouble(token=TOKEN, on_message=_print)
    state: dict[str, object] = {}

    async def start() -> None:
        from bot.runtime.wiring import Bot

        runner, sim_port = await eadm.serve("127.0.0.1", 0, scenario_name=scenario, speed=speed)
        state["sim"] = runner
        await double.start()
        # The guide's clock, compressed as much as the simulator compresses eAdm's.
        settings = load_settings(
            _env_file=None,
            slack_bot_token=TOKEN,
            slack_signing_secret="demo-signing-secret",
            slack_api_url=double.api_url,
            eadm_url=f"http://127.0.0.1:{sim_port}",
            eadm_portal_url="https://demo-kommune.eadm.example.no",
            alert_channel=CHANNEL,
            tenant_name="demo-kommune",
            language=language,
            database_url=f"sqlite:///{workdir / 'demo.db'}",
            host="127.0.0.1",
            port=port,
            poll_interval=2,
            not_started_after=900 / speed,
            stuck_after=1800 / speed,
            cycle_due_after=2 * eadm.GAP / speed,
            source_down_after=600 / speed,
            remind_after=7200 / speed,
            delivery_retry_cap=5,
            rerun_cooldown=60,
            rerun_grace=600 / speed,
        )
        settings.tenants[0].rerun.kind = "simulator"
        bot = Bot(settings)
        state["bot"] = bot
        await bot.start()
        print(
            f"eadm-bot demo: the simulator plays '{scenario}' at {speed:g}x; the bot polls every "
            f"2 s and posts to {CHANNEL} in a local Slack. Messages follow; Ctrl-C stops.\n",
            flush=True,
        )

    async def stop() -> None:
        bot = state.get("bot")
        if bot is not None:
            await bot.stop()  # type: ignore[attr-defined]
        await double.stop()
        sim = state.get("sim")
        if sim is not None:
            await sim.cleanup()  # type: ignore[attr-defined]

    try:
        run_until_stopped(start, stop, duration=duration)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the demo's database is thrown away
    return 0
