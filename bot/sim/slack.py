"""A local stand-in for Slack's Web API, served over real HTTP.

The real slack_sdk client talks to it at `http://127.0.0.1:PORT/api/`. It records every call,
keeps what a workspace holds (`slack_workspace`: each channel's messages with threads,
updates and metadata, private answers, modals, Home tabs) and can be told to fail: rate
limits with Retry-After, server errors, invalid_auth, or hanging. The test suite drives it;
`eadm-bot demo` shows the bot's messages in a terminal (`slack_terminal`), and `demo --web`
shows what it holds as a Slack client would, through `bot.sim.web`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
from aiohttp import web

from bot.serving import serve
from bot.sim.signing import event_body, json_headers
from bot.sim.slack_workspace import SCOPES, Workspace

# The methods whose effect a person sees.
SEEN = (
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "views.publish",
    "views.open",
    "views.update",
)


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.time)
    fault: str | None = None  # the fault this call was answered with, if any


@dataclass
class Pace:
    """Slack's documented limit for chat.postMessage: about one message per second per
    channel, short bursts allowed. Each channel is a token bucket; an empty one answers 429
    with Retry-After, in whole seconds as Slack sends it."""

    per_second: float = 1.0
    burst: int = 4
    buckets: dict[str, tuple[float, float]] = field(default_factory=dict)  # tokens, at

    def retry_after(self, channel: str, now: float) -> int | None:
        """None when a message may go now (and takes its token); else seconds to wait."""
        tokens, at = self.buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.per_second)
        if tokens >= 1:
            self.buckets[channel] = (tokens - 1, now)
            return None
        self.buckets[channel] = (tokens, now)
        return max(1, math.ceil((1 - tokens) / self.per_second))


def per_workspace(per_minute: float = 50.0, burst: int = 8) -> Pace:
    """Slack's Tier 3 for chat.update: 50+ calls per minute per workspace, with short bursts;
    one bucket for every channel (its key is "")."""
    return Pace(per_minute / 60.0, burst)


@dataclass
class Fault:
    # ratelimited | server_error | invalid_auth | channel_not_found | hang, or accept_then_error:
    # do the work, then answer 500, as when Slack's answer is lost after it accepted a post.
    mode: str
    times: int | None  # None: until cleared
    retry_after: int = 1


class SlackDouble(Workspace):
    def __init__(
        self,
        *,
        token: str = "xoxb-test",
        users: dict[str, dict[str, Any]] | None = None,
        usergroups: dict[str, list[str]] | None = None,
        on_message: Callable[[Call], None] | None = None,
        socket_url: str | None = None,
    ) -> None:
        super().__init__(users=users, usergroups=usergroups, socket_url=socket_url)
        self.token = token
        self.on_message = on_message
        self.recorded: list[Call] = []
        self.responses: list[dict[str, Any]] = []  # what respond() sent to response_urls
        self.faults: dict[str, Fault] = {}
        self.version = 0  # grows with every change a person could see
        self._changed = asyncio.Event()
        self.pace: Pace | None = None
        self.update_pace: Pace | None = None  # chat.update's, per workspace
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- running -----------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_post("/_double/fault", self._control_fault)
        app.router.add_get("/_double/calls", self._control_calls)
        app.router.add_get("/_double/messages", self._control_messages)
        app.router.add_post("/_double/reset", self._control_reset)
        app.router.add_post("/_double/response/{id}", self._response_url)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner, self.port = await serve(self.app(), host, port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.url}/_double/response/{name}"

    # -- what tests read ---------------------------------------------------------------------

    def calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self.recorded if method is None or c.method == method]

    def fail(self, method: str, mode: str, times: int | None = 1, retry_after: int = 1) -> None:
        self.faults[method] = Fault(mode, times, retry_after)

    def clear_faults(self) -> None:
        self.faults.clear()

    def touch(self) -> None:
        """Something a person could see changed: wake whoever waits in `wait_change`."""
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_change(self, after: int, timeout: float) -> int:
        """The version once it is past `after`, or as it is after `timeout` seconds."""
        if self.version <= after:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return self.version

    def expect_response(self, name: str, **context: Any) -> str:
        """A response_url that answers in `context` (channel, user, message_ts): ephemeral
        answers go to that user, replace_original and delete_original act on that message."""
        self.response_targets[name] = context
        return self.response_url(name)

    async def join(
        self, channel: str, user: str, *, bot_url: str | None = None, secret: str | None = None
    ) -> str:
        """Put a person in a channel and, with the bot's address and signing secret, tell the
        bot as Slack does: a signed `member_joined_channel` event at POST /slack/events.
        Returns the channel's ID."""
        channel_id = self.add_member(channel, user)
        await self._member_event("member_joined_channel", channel_id, user, bot_url, secret)
        return channel_id

    async def leave(
        self, channel: str, user: str, *, bot_url: str | None = None, secret: str | None = None
    ) -> str:
        """Take a person out of a channel, and tell the bot (`member_left_channel`)."""
        channel_id = self.remove_member(channel, user)
        await self._member_event("member_left_channel", channel_id, user, bot_url, secret)
        return channel_id

    async def _member_event(
        self, kind: str, channel: str, user: str, bot_url: str | None, secret: str | None
    ) -> None:
        if bot_url is None:
            return
        event = {"type": kind, "user": user, "channel": channel, "channel_type": "C"}
        event["event_ts"] = f"{time.time():.6f}"
        body = event_body(event)
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{bot_url}/slack/events", data=body, headers=json_headers(secret or "", body)
            ) as response,
        ):
            if response.status != 200:
                raise RuntimeError(f"the bot answered {response.status} to {kind}")

    def close_view(self, view_id: str) -> None:
        self.closed_views.add(view_id)
        self.touch()

    def limit_rate(self, per_second: float = 1.0, burst: int = 4) -> None:
        """Keep Slack's pace for chat.postMessage per channel (thread replies included),
        answering 429 with Retry-After when a channel gets more."""
        self.pace = Pace(per_second, burst)

    def limit_updates(self, per_minute: float = 50.0, burst: int = 8) -> None:
        """Keep chat.update's Tier 3 limit for the whole workspace, answering 429 with
        Retry-After beyond it."""
        self.update_pace = per_workspace(per_minute, burst)

    def rate_limited(self, method: str = "chat.postMessage") -> list[Call]:
        return [c for c in self.calls(method) if c.fault == "ratelimited"]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(self.calls(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"expected {count} {method} call(s) within {timeout} s, "
                    f"got {len(self.calls(method))}"
                )
            await asyncio.sleep(0.02)
        return self.calls(method)

    # -- the Web API -------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _params(request)
        call = Call(method, params)
        self.recorded.append(call)
        fault = self.faults.get(method)
        if fault is not None:
            call.fault = fault.mode
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self.faults[method]
            if fault.mode == "ratelimited":
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(fault.retry_after)},
                )
            if fault.mode == "server_error":
                return web.json_response({"ok": False, "error": "internal_error"}, status=500)
            if fault.mode == "hang":
                await asyncio.sleep(3600)
            if fault.mode == "accept_then_error":
                handler = getattr(self, "_m_" + method.replace(".", "_"))
                handler(params)
                self.touch()
                return web.json_response({"ok": False, "error": "internal_error"}, status=500)
            return web.json_response({"ok": False, "error": fault.mode})
        if (wait := self._over_limit(method, params)) is not None:
            call.fault = "ratelimited"
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(wait)},
            )
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = token or str(params.get("token", ""))
        if not token:
            return web.json_response({"ok": False, "error": "not_authed"})
        if token != self.token:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        body = handler(params)
        headers = {"x-oauth-scopes": SCOPES} if method == "auth.test" else None
        if method in SEEN:
            self.touch()
            if self.on_message is not None:
                self.on_message(self.recorded[-1])
        return web.json_response(body, headers=headers)

    def _over_limit(self, method: str, params: dict[str, Any]) -> int | None:
        """Seconds to wait when `method` is beyond its limit now (its Retry-After), else None
        (and the call takes its turn)."""
        if self.pace is not None and method == "chat.postMessage":
            channel = self.channel_id(str(params.get("channel", "")))
            return self.pace.retry_after(channel, time.monotonic())
        if self.update_pace is not None and method == "chat.update":
            return self.update_pace.retry_after("", time.monotonic())
        return None

    # -- control API, for a test driving a double in another process -----------------------

    async def _control_fault(self, request: web.Request) -> web.Response:
        data = await request.json()
        self.fail(data["method"], data["mode"], data.get("times", 1), data.get("retry_after", 1))
        return web.json_response({"ok": True})

    async def _control_calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        return web.json_response(
            [{"method": c.method, "params": c.params, "at": c.at} for c in self.calls(method)]
        )

    async def _control_messages(self, request: web.Request) -> web.Response:
        return web.json_response(self.messages(request.query.get("channel", "")))

    async def _control_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    def reset(self) -> None:
        """An empty workspace again: no calls, messages, answers, views or faults."""
        for kept in (
            self.recorded,
            self.channels,
            self.faults,
            self.views,
            self.responses,
            self.ephemeral,
            self.response_targets,
            self.trigger_users,
            self.view_users,
            self.closed_views,
            self.posted_at,
            self.members,
            self.names,
        ):
            kept.clear()
        self.touch()

    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        name = request.match_info["id"]
        self.responses.append({"id": name, **body})
        target = self.response_targets.get(name)
        if target is not None:
            self._answer(target, body)
            self.touch()
        if self.on_message is not None:
            self.on_message(Call("respond", body))
        return web.Response(text="ok")


async def _params(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    params: dict[str, Any] = dict(request.query)
    if not raw:
        return params
    if request.content_type == "application/json":
        data = json.loads(raw)
        if isinstance(data, dict):
            params.update(data)
    else:
        params.update(parse_qsl(raw.decode(), keep_blank_values=True))
    return params
