"""A local stand-in for Slack's Web API, served over real HTTP.

The real slack_sdk client talks to it at `http://127.0.0.1:PORT/api/`. It records every call,
keeps each channel's messages (with threads, updates and metadata) and can be told to fail:
rate limits with Retry-After, server errors, invalid_auth, or hanging. The test suite drives
it; `eadm-bot demo` uses it to show the bot's messages in a terminal, and `demo --web` shows
what it holds (messages, ephemeral answers, open modals, App Home tabs) as a Slack client
would, through `bot.sim.web`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from bot.serving import serve

# The methods whose effect a person sees.
SEEN = (
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "views.publish",
    "views.open",
    "views.update",
)

# What the demo and the tests see of Slack's answers; shapes follow Slack's documentation.
TEAM = {"team": "Demo kommune", "team_id": "T0DEMO", "url": "https://demo-kommune.slack.com/"}
BOT = {"user": "eadm-bot", "user_id": "U0BOT", "bot_id": "B0BOT"}
SCOPES = (
    "chat:write,chat:write.public,channels:history,groups:history,channels:read,groups:read,"
    "commands,users:read,users:read.email,usergroups:read"
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


@dataclass
class Fault:
    # ratelimited | server_error | invalid_auth | channel_not_found | hang, or accept_then_error:
    # do the work, then answer 500, as when Slack's answer is lost after it accepted a post.
    mode: str
    times: int | None  # None: until cleared
    retry_after: int = 1


class SlackDouble:
    def __init__(
        self,
        *,
        token: str = "xoxb-test",
        users: dict[str, dict[str, Any]] | None = None,
        usergroups: dict[str, list[str]] | None = None,
        on_message: Callable[[Call], None] | None = None,
        socket_url: str | None = None,
    ) -> None:
        self.token = token
        self.users = users or {}
        self.usergroups = usergroups or {}
        self.on_message = on_message
        self.socket_url = socket_url
        self.recorded: list[Call] = []
        self.channels: dict[str, list[dict[str, Any]]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.responses: list[dict[str, Any]] = []  # what respond() sent to response_urls
        self.faults: dict[str, Fault] = {}
        # What a person sees besides the channel: answers only they see (chat.postEphemeral
        # and ephemeral response_url posts), and whose screen a modal opened on.
        self.ephemeral: list[dict[str, Any]] = []
        self.response_targets: dict[str, dict[str, Any]] = {}  # response_url name -> context
        self.trigger_users: dict[str, str] = {}  # trigger_id -> the person who clicked
        self.view_users: dict[str, str] = {}  # view ID -> the person it was opened for
        self.closed_views: set[str] = set()
        self.posted_at: dict[str, float] = {}  # ts -> wall-clock time (the ts are made up)
        self.version = 0  # grows with every change a person could see
        self._changed = asyncio.Event()
        self.pace: Pace | None = None
        self._ts = itertools.count(1)
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

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Top-level messages of a channel, oldest first, as they read now."""
        return [m for m in self.channels.get(channel, []) if "thread_ts" not in m]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        return [m for m in self.channels.get(channel, []) if m.get("thread_ts") == ts]

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

    def open_modals(self, user: str) -> list[dict[str, Any]]:
        return [
            view
            for view_id, view in self.views.items()
            if self.view_users.get(view_id) == user and view_id not in self.closed_views
        ]

    def close_view(self, view_id: str) -> None:
        self.closed_views.add(view_id)
        self.touch()

    def limit_rate(self, per_second: float = 1.0, burst: int = 4) -> None:
        """Keep Slack's pace for chat.postMessage per channel (thread replies included),
        answering 429 with Retry-After when a channel gets more."""
        self.pace = Pace(per_second, burst)

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
        if self.pace is not None and method == "chat.postMessage":
            channel = self.channel_id(str(params.get("channel", "")))
            if (wait := self.pace.retry_after(channel, time.monotonic())) is not None:
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

    def _next_ts(self) -> str:
        ts = f"{1764000000 + next(self._ts)}.000100"
        self.posted_at[ts] = time.time()
        return ts

    def channel_id(self, channel: str) -> str:
        """The ID Slack answers with for a channel, even when its name (`#eadm-alerts`) was
        given."""
        return (
            "C" + channel.lstrip("#").upper().replace("-", "")[:10]
            if channel.startswith("#")
            else channel
        )

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, **TEAM, **BOT}

    def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT["user_id"],
            "bot_id": BOT["bot_id"],
            "ts": self._next_ts(),
            "text": params.get("text", ""),
            "blocks": _json(params.get("blocks")) or [],
        }
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        if params.get("metadata"):
            message["metadata"] = _json(params["metadata"])
        self.channels.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        for message in self.channels.get(channel, []):
            if message["ts"] == params.get("ts"):
                message["text"] = params.get("text", message["text"])
                if "blocks" in params:
                    message["blocks"] = _json(params["blocks"]) or []
                message["edited"] = {"user": BOT["user_id"], "ts": self._next_ts()}
                return {
                    "ok": True,
                    "channel": channel,
                    "ts": message["ts"],
                    "text": message["text"],
                }
        return {"ok": False, "error": "message_not_found"}

    def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        message = self._ephemeral(channel, str(params.get("user", "")), params)
        return {"ok": True, "message_ts": message["ts"]}

    def _ephemeral(self, channel: str, user: str, params: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "ephemeral",
            "channel": channel,
            "user": user,  # the one person who sees it
            "bot_id": BOT["bot_id"],
            "ts": self._next_ts(),
            "text": params.get("text", ""),
            "blocks": _json(params.get("blocks")) or [],
        }
        if params.get("thread_ts"):
            message["thread_ts"] = params["thread_ts"]
        self.ephemeral.append(message)
        return message

    def _m_chat_getPermalink(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = str(params.get("message_ts", "")).replace(".", "")
        link = f"{TEAM['url']}archives/{params.get('channel')}/p{ts}"
        return {"ok": True, "channel": params.get("channel"), "permalink": link}

    def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        limit = int(params.get("limit", 100))
        messages = list(reversed(self.messages(channel)))[:limit]
        return {
            "ok": True,
            "messages": self._with_metadata(messages, params),
            "has_more": False,
            "channel": channel,
        }

    def _m_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        ts = str(params.get("ts", ""))
        parent = [m for m in self.channels.get(channel, []) if m["ts"] == ts]
        messages = parent + self.thread(channel, ts)
        return {
            "ok": True,
            "messages": self._with_metadata(messages, params),
            "has_more": False,
            "channel": channel,
        }

    @staticmethod
    def _with_metadata(messages: list[dict[str, Any]], params: dict[str, Any]) -> list[dict]:
        if _truthy(params.get("include_all_metadata")):
            return messages
        return [{k: v for k, v in m.items() if k != "metadata"} for m in messages]

    def _m_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channel_id(str(params.get("channel", "")))
        return {"ok": True, "channel": {"id": channel, "name": channel.lower(), "is_member": True}}

    def _m_conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._m_conversations_info(params)

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = {"id": f"V{len(self.views) + 1:04d}", **(_json(params.get("view")) or {})}
        self.views[view["id"]] = view
        user = self.trigger_users.get(str(params.get("trigger_id", "")))
        if user:
            self.view_users[view["id"]] = user
        return {"ok": True, "view": view}

    def _m_views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view_id = str(params.get("view_id", ""))
        if view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        self.views[view_id] = {"id": view_id, **(_json(params.get("view")) or {})}
        return {"ok": True, "view": self.views[view_id]}

    def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = {"id": f"VHOME-{params.get('user_id')}", **(_json(params.get("view")) or {})}
        self.views[view["id"]] = view
        return {"ok": True, "view": view}

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user", ""))
        user = self.users.get(user_id)
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        body = {
            "id": user_id,
            "name": user.get("name", user_id),
            "real_name": user.get("real_name", user.get("name", user_id)),
            "tz": user.get("tz", "Europe/Oslo"),
            "profile": {"email": user.get("email"), "real_name": user.get("real_name", "")},
        }
        if _truthy(params.get("include_locale")):
            body["locale"] = user.get("locale", "en-US")
        return {"ok": True, "user": body}

    def _m_usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = str(params.get("usergroup", ""))
        if group not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": self.usergroups[group]}

    def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.socket_url:
            return {"ok": False, "error": "invalid_auth"}
        return {"ok": True, "url": self.socket_url}

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

    def _answer(self, target: dict[str, Any], body: dict[str, Any]) -> None:
        """What Slack does with a response_url post, as its documentation describes."""
        channel = str(target.get("channel", ""))
        original = target.get("message_ts")
        if _truthy(body.get("delete_original")) and original:
            messages = self.channels.get(channel, [])
            self.channels[channel] = [m for m in messages if m["ts"] != original]
        elif _truthy(body.get("replace_original")) and original:
            self._m_chat_update({"channel": channel, "ts": original, **body})
        elif body.get("response_type") == "in_channel":
            self._m_chat_postMessage({"channel": channel, **body})
        else:
            self._ephemeral(channel, str(target.get("user", "")), body)


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


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


# -- the terminal, for the demo -----------------------------------------------------------------


EMOJI = {
    ":white_check_mark:": "✅",
    ":x:": "❌",
    ":arrows_counterclockwise:": "🔄",
    ":white_circle:": "⚪",
    ":octagonal_sign:": "🛑",
    ":hourglass:": "⌛",
    ":zzz:": "💤",
    ":electric_plug:": "🔌",
    ":warning:": "⚠️",
    ":wrench:": "🔧",
}


def _mrkdwn(text: str) -> str:
    for code, char in EMOJI.items():
        text = text.replace(code, char)
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<@([A-Z0-9]+)>", r"@\1", text)
    return text.replace("*", "").replace("```", "").replace("`", "'")


def render_terminal(call: Call) -> str:
    """A readable plain-text rendering of a posted, updated or published message."""
    params = call.params
    blocks = _json(params.get("blocks")) or (_json(params.get("view")) or {}).get("blocks") or []
    head = {
        "chat.postMessage": "new message" if not params.get("thread_ts") else "thread reply",
        "chat.update": "message updated",
        "chat.postEphemeral": "visible only to you",
        "views.publish": "App Home",
        "views.open": "dialog",
        "respond": "answer",
    }.get(call.method, call.method)
    indent = "    ↳ " if params.get("thread_ts") else ""
    lines = [f"── {head} " + "─" * max(0, 60 - len(head))]
    if not blocks:
        lines.append(indent + _mrkdwn(str(params.get("text", ""))))
    for block in blocks:
        kind = block.get("type")
        text = (block.get("text") or {}).get("text", "")
        if kind == "header":
            lines += [text, "=" * min(len(text), 78)]
        elif kind == "section":
            lines += [indent + line for line in _mrkdwn(text).splitlines()]
            for f in block.get("fields") or []:
                lines.append(indent + _mrkdwn(f.get("text", "")))
        elif kind == "context":
            lines.append(indent + " ".join(_mrkdwn(e.get("text", "")) for e in block["elements"]))
        elif kind == "divider":
            lines.append(indent + "-" * 40)
        elif kind == "actions":
            labels = []
            for element in block.get("elements", []):
                label = (element.get("text") or element.get("placeholder") or {}).get("text", "")
                labels.append(f"[{label}]")
            lines.append(indent + " ".join(labels))
    return "\n".join(lines)


def main() -> None:  # pragma: no cover - manual use
    import sys

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8090
    double = SlackDouble(on_message=lambda call: print(render_terminal(call), flush=True))

    async def serve() -> None:
        await double.start(port=port)
        print(f"Slack double on {double.api_url} (bot token {double.token})")
        await asyncio.Event().wait()

    asyncio.run(serve())
