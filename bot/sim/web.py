"""The demo's channel as a page: what the Slack stand-in holds, shown as a person sees it in
Slack, and a person's clicks sent to the bot as Slack sends them.

The page (static files beside this module, no build step) renders the exact Block Kit the bot
sent. Every click, `/eadm` command, modal submission and opening of the App Home goes to the
bot's real `POST /slack/events`, signed with its signing secret (`bot.sim.signing`); the
bot's answers come back through the Slack stand-in (Web API calls and response_url posts), and
the page shows them from there. Nothing here decides anything the bot decides.

May import: the core, the other stand-ins. Must not import: Slack's SDK, the store, sources,
adapters, app or runtime.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.serving import serve
from bot.sim import signing
from bot.sim.eadm import json_object
from bot.sim.slack import SlackDouble

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
COMMAND = "/eadm"
LONG_POLL = 20.0  # seconds a page's request for news waits before answering "nothing new"


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    admin: bool


@dataclass
class Playing:
    """What the simulator plays now; the page's picker changes it through `restart`."""

    scenario: str
    speed: float
    scenarios: dict[str, str] = field(default_factory=dict)


class DemoPage:
    def __init__(
        self,
        double: SlackDouble,
        *,
        bot_url: Callable[[], str],
        signing_secret: str,
        channel: str,
        people: list[Person],
        playing: Playing,
        restart: Callable[[str, float], Awaitable[None]] | None = None,
    ) -> None:
        self.double = double
        self.bot_url = bot_url
        self.secret = signing_secret
        self.channel = channel
        self.channel_id = double.channel_id(channel)
        self.people = people
        self.playing = playing
        self.restart = restart
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- running -----------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_static("/static/", STATIC)
        app.router.add_get("/api/state", self._state)
        app.router.add_post("/api/action", self._action)
        app.router.add_post("/api/command", self._command)
        app.router.add_post("/api/submit", self._submit)
        app.router.add_post("/api/close", self._close)
        app.router.add_post("/api/home", self._home)
        app.router.add_post("/api/scenario", self._scenario)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve the page; an OSError (a taken port) leaves nothing behind."""
        self._runner, self.port = await serve(self.app(), host, port, shutdown_timeout=1)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def stop(self) -> None:
        self.double.touch()  # let waiting pages answer before the server closes
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    # -- what the page shows -----------------------------------------------------------------

    def person(self, user_id: str) -> Person:
        return next((p for p in self.people if p.id == user_id), self.people[0])

    def state(self, user_id: str) -> dict[str, Any]:
        """Everything one person sees: the channel with its threads, the answers only they
        see (placed in time among the messages), their open modal and their App Home."""
        me = self.person(user_id)
        everything = self.double.channels.get(self.channel_id, [])
        mine = [
            m
            for m in self.double.ephemeral
            if m["user"] == me.id and m["channel"] == self.channel_id
        ]
        at = self.double.posted_at
        seen = [
            {**m, "at": at.get(m["ts"])}
            for m in sorted(everything + mine, key=lambda m: float(m["ts"]))
        ]
        messages = [
            {**m, "replies": [r for r in seen if r.get("thread_ts") == m["ts"]]}
            for m in seen
            if not m.get("thread_ts")
        ]
        modals = self.double.open_modals(me.id)
        home = self.double.views.get(f"VHOME-{me.id}")
        return {
            "version": self.double.version,
            "me": me.__dict__,
            "people": [p.__dict__ for p in self.people],
            "names": {
                **{p.id: p.name for p in self.people},
                "U0BOT": "eadm-bot",
            },
            "channel": {"id": self.channel_id, "name": self.channel.lstrip("#")},
            "messages": messages,
            "modal": modals[-1] if modals else None,
            "home": home,
            "playing": {
                "scenario": self.playing.scenario,
                "speed": self.playing.speed,
                "scenarios": self.playing.scenarios,
            },
        }

    async def _index(self, _request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def _state(self, request: web.Request) -> web.Response:
        after = int(request.query.get("after", "-1"))
        await self.double.wait_change(after, LONG_POLL)
        return web.json_response(self.state(request.query.get("user", "")))

    # -- what a person does, sent as Slack sends it ------------------------------------------

    async def _send(self, body: str, *, json_body: bool = False) -> tuple[int, str]:
        assert self._session is not None
        headers = (signing.json_headers if json_body else signing.form_headers)(self.secret, body)
        url = self.bot_url().rstrip("/") + "/slack/events"
        try:
            async with self._session.post(url, data=body.encode(), headers=headers) as response:
                return response.status, await response.text()
        except aiohttp.ClientError as exc:
            log.warning("the bot did not answer at %s: %s", url, exc)
            return 502, json.dumps({"error": f"the bot did not answer: {exc}"})

    def _next(self, kind: str) -> str:
        return f"{kind}{next(self._ids)}"

    async def _action(self, request: web.Request) -> web.Response:
        data = await json_object(request)
        me = self.person(str(data.get("user", "")))
        trigger = self._next("trigger.")
        self.double.trigger_users[trigger] = me.id
        view = None
        if data.get("view_id"):
            view = self.double.views.get(str(data["view_id"]))
        message_ts = str(data.get("message_ts", ""))
        response_url = self.double.expect_response(
            self._next("action-"), channel=self.channel_id, user=me.id, message_ts=message_ts
        )
        body = signing.block_actions_body(
            str(data.get("action_id", "")),
            str(data.get("value", "")),
            user_id=me.id,
            channel_id=self.channel_id,
            message_ts=message_ts,
            response_url=response_url,
            selected=bool(data.get("selected")),
            trigger_id=trigger,
            block_id=str(data.get("block_id", "")),
            label=str(data.get("label", "")),
            view=view,
            is_ephemeral=bool(data.get("ephemeral")),
        )
        status, _ = await self._send(body)
        return web.json_response({"status": status}, status=200 if status < 400 else 502)

    async def _command(self, request: web.Request) -> web.Response:
        data = await json_object(request)
        me = self.person(str(data.get("user", "")))
        typed = str(data.get("text", "")).strip()
        word, _, rest = typed.partition(" ")
        if word != COMMAND:
            return web.json_response(
                {"error": f"this demo channel takes the bot's command: {COMMAND} help"},
                status=400,
            )
        response_url = self.double.expect_response(
            self._next("command-"), channel=self.channel_id, user=me.id
        )
        trigger = self._next("trigger.")
        self.double.trigger_users[trigger] = me.id
        body = signing.slash_command_body(
            COMMAND,
            rest.strip(),
            user_id=me.id,
            channel_id=self.channel_id,
            response_url=response_url,
            trigger_id=trigger,
            user_name=me.name,
        )
        status, _ = await self._send(body)
        return web.json_response({"status": status}, status=200 if status < 400 else 502)

    async def _submit(self, request: web.Request) -> web.Response:
        data = await json_object(request)
        me = self.person(str(data.get("user", "")))
        view_id = str(data.get("view_id", ""))
        view = self.double.views.get(view_id)
        if view is None:
            return web.json_response({"error": "that modal is no longer open"}, status=404)
        body = signing.view_submission_body(
            str(view.get("callback_id", "")),
            data.get("values") or {},
            user_id=me.id,
            private_metadata=str(view.get("private_metadata", "")),
            view_id=view_id,
        )
        status, text = await self._send(body)
        answer: dict[str, Any] = {}
        if text.strip().startswith("{"):
            answer = json.loads(text)
        if status < 400 and answer.get("response_action") != "errors":
            self.double.close_view(view_id)  # Slack closes a modal whose submission was acked
        return web.json_response({"status": status, **answer})

    async def _close(self, request: web.Request) -> web.Response:
        data = await json_object(request)
        self.double.close_view(str(data.get("view_id", "")))
        return web.json_response({"ok": True})

    async def _home(self, request: web.Request) -> web.Response:
        data = await json_object(request)
        me = self.person(str(data.get("user", "")))
        event = {
            "type": "app_home_opened",
            "user": me.id,
            "channel": "D0HOME",
            "tab": "home",
            "event_ts": f"{self.double.version}.0",
        }
        status, _ = await self._send(signing.event_body(event), json_body=True)
        return web.json_response({"status": status}, status=200 if status < 400 else 502)

    async def _scenario(self, request: web.Request) -> web.Response:
        data = await json_object(request)
        if self.restart is None:
            return web.json_response({"error": "this page cannot change the scenario"}, 400)
        scenario = str(data.get("scenario", self.playing.scenario))
        try:
            speed = float(data.get("speed", self.playing.speed))
        except (TypeError, ValueError):
            return web.json_response({"error": "speed is a number, like 60"}, status=400)
        if scenario not in self.playing.scenarios or not 1 <= speed <= 3600:
            return web.json_response(
                {"error": "choose a listed scenario and a speed from 1 to 3600"}, status=400
            )
        await self.restart(scenario, speed)
        self.playing.scenario, self.playing.speed = scenario, speed
        self.double.touch()
        return web.json_response({"ok": True})
