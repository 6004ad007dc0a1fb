"""`eadm-bot demo`: the simulator, a local Slack and the bot, all on this machine.

The bot runs exactly as in production (real HTTP to both sides); only Slack is the local
double, which prints each message the bot posts, updates or threads. With `--web`, the
double's channel is also a page in the browser, where a person clicks, types `/eadm` and
opens the App Home as in Slack.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.cli.lifetime import run_until_stopped
from bot.core.settings import Settings, load_settings
from bot.core.thresholds import Thresholds
from bot.sim import eadm, scheduler
from bot.sim.slack import Call, SlackDouble
from bot.sim.slack_terminal import render_terminal
from bot.sim.web import DemoPage, Person, Playing

DEFAULTS = Thresholds()


def _default(field: str) -> float:
    """A setting's default, as the schema writes it once."""
    return float(Settings.model_fields[field].default)


TOKEN = "xoxb-demo-token"
SIGNING_SECRET = "demo-signing-secret"
CHANNEL = "#eadm-alerts"
# Who the page lets you be: an admin, who may act, and a colleague, who is refused.
PEOPLE = [
    Person("U0ADMIN", "Kari Nordmann", admin=True),
    Person("U0COLLEAGUE", "Ola Hansen", admin=False),
]


def _print(call: Call) -> None:
    print(render_terminal(call), flush=True)


class DemoStack:
    """The simulator and the bot, started against one Slack double; started again from
    scratch (a fresh database, an empty channel) when the page picks another scenario."""

    def __init__(
        self,
        double: SlackDouble,
        *,
        language: str,
        port: int,
        workdir: Path,
        source: str = "api",
    ) -> None:
        self.double = double
        self.source = source  # api: the simulated status API; task: a simulated sync task
        self.director: asyncio.Task[None] | None = None
        self.language = language
        self.port = port
        self.workdir = workdir
        self.bot: Any = None
        self.sim: Any = None
        self.runs = 0

    @property
    def bot_url(self) -> str:
        return f"http://127.0.0.1:{self.bot.port if self.bot else self.port}"

    async def start(self, scenario: str | eadm.Scenario, speed: float) -> None:
        from bot.runtime.wiring import Bot

        self.runs += 1
        if self.source == "task":
            await self._start_task()
            return
        runner, sim_port = await eadm.serve("127.0.0.1", 0, scenario_name=scenario, speed=speed)
        self.sim = runner
        # The guide's clock, compressed as much as the simulator compresses eAdm's.
        settings = load_settings(
            _env_file=None,
            slack_bot_token=TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=self.double.api_url,
            eadm_url=f"http://127.0.0.1:{sim_port}",
            eadm_portal_url="https://demo-kommune.eadm.example.no",
            alert_channel=CHANNEL,
            tenant_name="demo-kommune",
            language=self.language,
            database_url=f"sqlite:///{self.workdir / f'demo-{self.runs}.db'}",
            host="127.0.0.1",
            port=self.port,
            poll_interval=2,
            # The defaults, sped up as the simulator is; a step is called stuck at half the
            # default so the tour shows it within its first cycles.
            not_started_after=DEFAULTS.not_started_after / speed,
            stuck_after=DEFAULTS.stuck_after / 2 / speed,
            cycle_due_after=2 * eadm.GAP / speed,
            source_down_after=DEFAULTS.source_down_after / speed,
            remind_after=_default("remind_after") / speed,
            delivery_retry_cap=5,
            rerun_cooldown=60,
            rerun_grace=_default("rerun_grace") / speed,
            admin_users=[p.id for p in PEOPLE if p.admin],
        )
        settings.tenants[0].rerun.kind = "simulator"
        self.bot = Bot(settings)
        await self.bot.start()

    async def _start_task(self) -> None:
        """The bot reads a simulated sync task through the task source, as on a client
        server; the director plays the task's troubles over and over."""
        from bot.runtime.wiring import Bot

        state = self.workdir / f"task-{self.runs}.json"
        scheduler.set_task(state, last_run=datetime.now(UTC), result=0, interval=40.0)
        stuck_after, due_after = 8.0, 30.0
        settings = load_settings(
            _env_file=None,
            slack_bot_token=TOKEN,
            slack_signing_secret=SIGNING_SECRET,
            slack_api_url=self.double.api_url,
            alert_channel=CHANNEL,
            tenant_name="demo-kommune",
            language=self.language,
            database_url=f"sqlite:///{self.workdir / f'demo-{self.runs}.db'}",
            host="127.0.0.1",
            port=self.port,
            poll_interval=1,
            stuck_after=stuck_after,
            cycle_due_after=due_after,
            source_down_after=10,
            remind_after=3600,
            delivery_retry_cap=5,
            rerun_cooldown=5,
            rerun_grace=20,
            admin_users=[p.id for p in PEOPLE if p.admin],
            **scheduler.commands(state),
        )
        self.bot = Bot(settings)
        await self.bot.start()
        self.director = asyncio.create_task(
            scheduler.direct(state, stuck_after=stuck_after, due_after=due_after, run_s=3.0)
        )

    async def stop(self) -> None:
        if self.director is not None:
            self.director.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.director
            self.director = None
        if self.bot is not None:
            await self.bot.stop()
            self.bot = None
        if self.sim is not None:
            await self.sim.cleanup()
            self.sim = None

    async def restart(self, scenario: str, speed: float) -> None:
        await self.stop()
        self.double.reset()
        await self.start(scenario, speed)


def slack_double(on_message: Any = None) -> SlackDouble:
    users = {p.id: {"name": p.name.split()[0].lower(), "real_name": p.name} for p in PEOPLE}
    return SlackDouble(token=TOKEN, users=users, on_message=on_message)


def demo_page(double: SlackDouble, stack: DemoStack, scenario: str, speed: float) -> DemoPage:
    return DemoPage(
        double,
        bot_url=lambda: stack.bot_url,
        signing_secret=SIGNING_SECRET,
        channel=CHANNEL,
        people=PEOPLE,
        playing=Playing(scenario, speed, dict(eadm.SCENARIOS)),
        restart=stack.restart,
    )


def run_demo(
    *,
    scenario: str = "tour",
    speed: float = 60.0,
    language: str = "en",
    port: int = 0,
    duration: float = 0,
    web: bool = False,
    web_port: int = 8765,
    source: str = "api",
) -> int:
    try:
        eadm.find_scenario(scenario)
    except ValueError as exc:
        print(f"eadm-bot demo: {exc}")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="eadm-bot-demo-"))
    double = slack_double(on_message=_print)
    stack = DemoStack(double, language=language, port=port, workdir=workdir, source=source)
    if source == "task":
        scenario, speed = "the sync task (task source)", 1.0
    page = demo_page(double, stack, scenario, speed) if web else None

    async def start() -> None:
        if page is not None:
            try:
                await page.start(port=web_port)
            except OSError:  # taken: any free port will do, the address is printed below
                print(f"eadm-bot demo: port {web_port} is taken; the page takes a free one.")
                await page.start(port=0)
        await double.start()
        await stack.start(scenario, speed)
        if source == "task":
            print(
                "eadm-bot demo: the bot reads a simulated sync task in Task Scheduler through "
                "the task source, every second, while it fails, hangs, is disabled and stops "
                f"running; it posts to {CHANNEL} in a local Slack"
                + (f", shown at {page.url}" if page is not None else "")
                + ". Ctrl-C stops.\n",
                flush=True,
            )
            return
        if page is not None:
            print(
                f"eadm-bot demo: open {page.url} in a browser. The simulator plays "
                f"'{scenario}' at {speed:g}x; the bot polls every 2 s and posts to {CHANNEL} "
                "in a local Slack, shown on that page and below. Ctrl-C stops.\n",
                flush=True,
            )
            return
        print(
            f"eadm-bot demo: the simulator plays '{scenario}' at {speed:g}x; the bot polls every "
            f"2 s and posts to {CHANNEL} in a local Slack. Messages follow; Ctrl-C stops. "
            "(`eadm-bot demo --web` shows them in a browser, with buttons that work.)\n",
            flush=True,
        )

    async def stop() -> None:
        if page is not None:
            await page.stop()
        await stack.stop()
        await double.stop()

    try:
        run_until_stopped(start, stop, duration=duration)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)  # the demo's database is thrown away
    return 0
