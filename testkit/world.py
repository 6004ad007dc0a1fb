"""The world an end-to-end test stands up: the Slack double, a simulated eAdm (or another
stand-in) for each tenant, the tenants file naming them, the bot's environment, and `eadm-bot
run` (or `eadm-bot agent`) as child processes; all of it stopped and removed again when the
world closes, last started first, whatever the test did.

Every end-to-end module builds its world here, so that a module says only which tenants it
needs and what it checks, and no test leaves a process or a port behind.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from bot.sim.eadm import Scenario, SimClock, build_app
from bot.sim.slack import SlackDouble
from testkit.e2e import BOT_TOKEN, BotProcess, bot_env, eventually, serve_app

UNUSED_EADM_URL = "http://unused.invalid"  # with a tenants file, each tenant names its own


class World:
    """Open one with `World.open(tmp)`; a module may subclass it for its own helpers."""

    def __init__(self, tmp: Path, slack: SlackDouble, database_url: str | None = None) -> None:
        self.tmp = tmp
        self.slack = slack
        self.db_url = database_url or f"sqlite:///{tmp / 'bot.db'}"
        self.sims: dict[str, str] = {}  # tenant: the URL of the eAdm it reads
        self.bots: list[BotProcess] = []  # bots and agents, in the order they started
        self.tenants_file = tmp / "tenants.toml"
        self._tables: list[str] = []
        self._closing = AsyncExitStack()

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        tmp: Path,
        *,
        slack: SlackDouble | None = None,
        users: dict[str, dict[str, Any]] | None = None,
        database_url: str | None = None,
    ) -> AsyncIterator[Self]:
        """A world with its Slack double running (`slack`, or one that knows `users`); the
        bot's database is a SQLite file in `tmp` unless `database_url` names another."""
        world = cls(tmp, slack or SlackDouble(token=BOT_TOKEN, users=users), database_url)
        await world.slack.start()
        world.on_close(world.slack.stop)
        try:
            yield world
        finally:
            await world._closing.aclose()

    def on_close(self, callback: Callable[[], Awaitable[Any] | Any]) -> None:
        """Call `callback` when the world closes, before whatever was started before it."""

        async def call() -> None:
            result = callback()
            if isinstance(result, Awaitable):
                await result

        self._closing.push_async_callback(call)

    # -- the eAdm side ------------------------------------------------------------------------

    async def serve(self, app: web.Application) -> str:
        """Serve `app` on a free loopback port until the world closes; returns its base URL."""
        runner, url = await serve_app(app)
        self.on_close(runner.cleanup)
        return url

    async def simulator(
        self, scenario: Scenario, *, speed: float = 600.0, clock: SimClock | None = None
    ) -> str:
        """A simulated eAdm of its own playing `scenario`; returns its URL."""
        return await self.serve(build_app(scenario, speed=speed, clock=clock))

    async def add_tenant(
        self,
        name: str,
        scenario: Scenario | None = None,
        *,
        speed: float = 600.0,
        clock: SimClock | None = None,
        eadm_url: str | None = None,
        channel: str | None = None,
        toml: str = "",
    ) -> str | None:
        """A `[[tenants]]` table in the tenants file: its eAdm is `eadm_url`, or a simulator of
        its own playing `scenario`, or (with neither) what its `toml` lines name, such as a
        task command. Returns the URL of its eAdm, if it has one."""
        if eadm_url is None and scenario is not None:
            eadm_url = await self.simulator(scenario, speed=speed, clock=clock)
        lines = ["[[tenants]]", f"name = {json.dumps(name)}"]
        if eadm_url is not None:
            self.sims[name] = eadm_url
            lines.append(f"eadm_url = {json.dumps(eadm_url)}")
        if channel is not None:
            lines.append(f"channel = {json.dumps(channel)}")
        if toml.strip():
            lines.append(toml.strip("\n"))
        self._tables.append("\n".join(lines) + "\n")
        return eadm_url

    # -- the bot ------------------------------------------------------------------------------

    def env(self, eadm_url: str | None = None, **extra: Any) -> dict[str, str]:
        """The bot's environment: the Slack double, the world's database, and the tenants file
        if tenants were added (else the one eAdm at `eadm_url`), with `extra`'s settings."""
        if self._tables:
            self.tenants_file.write_text("\n".join(self._tables), encoding="utf-8")
            extra.setdefault("EADM_BOT_CONFIG", str(self.tenants_file))
            eadm_url = eadm_url or UNUSED_EADM_URL
        if eadm_url is None:
            raise ValueError("a bot needs tenants or an eadm_url to watch")
        return bot_env(
            slack_api_url=self.slack.api_url,
            eadm_url=eadm_url,
            database_url=self.db_url,
            **extra,
        )

    async def start_bot(
        self, eadm_url: str | None = None, *, log: str = "bot.log", **extra: Any
    ) -> BotProcess:
        """`eadm-bot run` on the world's tenants (or on `eadm_url`), healthy when it returns.
        Several bots on one database are replicas, or one bot started again."""
        return await self.start(self.env(eadm_url, **extra), log=log)

    async def start(
        self, env: dict[str, str], *, log: str, command: str = "run", port_var: str = "PORT"
    ) -> BotProcess:
        """Any long-running subcommand (`run`, `agent`) with the environment given, its log
        in `tmp`; stopped when the world closes, even if it never became healthy."""
        process = BotProcess(env, self.tmp / log, command=command, port_var=port_var)
        self.bots.append(process)
        self._closing.push_async_callback(process.stop)
        await process.start()
        return process

    @property
    def bot(self) -> BotProcess:
        """The `eadm-bot run` started first."""
        for process in self.bots:
            if process.command == "run":
                return process
        raise RuntimeError("no bot was started in this world")

    async def alerts_in(
        self, channels: Iterable[str], *, timeout: float = 30.0, what: str = ""
    ) -> None:
        """Wait until each of `channels` has a message."""
        wanted = list(channels)
        await eventually(
            lambda: all(self.slack.messages(channel) for channel in wanted),
            timeout=timeout,
            what=what or f"an alert in each of {len(wanted)} channels",
        )
