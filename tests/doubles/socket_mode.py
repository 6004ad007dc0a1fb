"""A local stand-in for Slack's Socket Mode WebSocket server, served over a real socket.

It speaks the protocol slack_sdk's Socket Mode clients expect: a `hello` on connect, then
envelopes (`slash_commands`, `interactive`, `events_api`) that the app must acknowledge with
`{"envelope_id": ...}` within three seconds, and `disconnect` messages or a closed socket when
Slack wants the app to reconnect. Tests drive it to see that the bot acknowledges every request
and survives a dropped connection.

`SocketSlackDouble` is the Web API double that also hands out this server's URL from
`apps.connections.open`, which Slack authorises with the app-level token (xapp-...) rather
than the bot token.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSCloseCode, WSMsgType, web

from bot.serving import serve
from bot.sim.signing import block_actions_body, slash_command_body
from bot.sim.slack import Call, SlackDouble

APP_ID = "A0EADM"
ENVELOPE_TYPES = ("slash_commands", "interactive", "events_api")


@dataclass
class Connection:
    """One WebSocket a client opened, and what it sent."""

    number: int
    ws: web.WebSocketResponse
    ticket: str
    opened_at: float = field(default_factory=time.time)
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return not self.ws.closed


class SocketModeDouble:
    def __init__(self, *, app_id: str = APP_ID) -> None:
        self.app_id = app_id
        self.connections: list[Connection] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- running -----------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/link/", self._connect)
        app.router.add_get("/link", self._connect)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._runner, self.port = await serve(self.app(), host, port, shutdown_timeout=1)

    async def stop(self) -> None:
        # Open sockets would otherwise hold the server's shutdown until its timeout.
        for connection in self.connections:
            if connection.open:
                await connection.ws.close(code=WSCloseCode.GOING_AWAY)
        if self._runner is not None:
            await self._runner.cleanup()
        for future in self._waiting.values():
            future.cancel()

    @property
    def url(self) -> str:
        """A URL as `apps.connections.open` returns it; each call may hand out a new ticket."""
        return f"ws://127.0.0.1:{self.port}/link/?ticket={uuid.uuid4()}&app_id={self.app_id}"

    # -- what tests read and do --------------------------------------------------------------

    @property
    def connected(self) -> int:
        """How many connections were ever opened."""
        return len(self.connections)

    @property
    def open_connections(self) -> list[Connection]:
        return [c for c in self.connections if c.open]

    async def wait_connected(self, count: int = 1, timeout: float = 5.0) -> Connection:
        """Wait until `count` connections were opened; returns the newest open one."""

        def ready() -> bool:
            return self.connected >= count and bool(self.open_connections)

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            except TimeoutError:
                raise AssertionError(
                    f"expected {count} Socket Mode connection(s) within {timeout} s, "
                    f"got {self.connected} ({len(self.open_connections)} open)"
                ) from None
        return self.open_connections[-1]

    async def send_envelope(
        self,
        type_: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool | None = None,
        retry_attempt: int = 0,
    ) -> str:
        """Send a request to the newest open connection, as Slack does. Returns its envelope ID."""
        if type_ not in ENVELOPE_TYPES:
            raise ValueError(f"unknown envelope type {type_!r}; one of {ENVELOPE_TYPES}")
        connection = self._newest()
        envelope_id = str(uuid.uuid4())
        if accepts_response_payload is None:
            # Slack lets slash commands and a few interactive kinds answer in the ack.
            accepts_response_payload = type_ == "slash_commands" or payload.get("type") in (
                "block_suggestion",
                "view_submission",
            )
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": type_,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if type_ == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason="")
        self._waiting[envelope_id] = asyncio.get_running_loop().create_future()
        self.sent.append(envelope)
        await connection.ws.send_json(envelope)
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = 3.0) -> dict[str, Any]:
        """The app's acknowledgement of an envelope: `{"envelope_id", "payload"?}`."""
        if envelope_id in self.acks:
            return self.acks[envelope_id]
        future = self._waiting.get(envelope_id)
        if future is None:
            raise KeyError(f"no envelope {envelope_id} was sent")
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise AssertionError(
                f"envelope {envelope_id} was not acknowledged within {timeout} s"
            ) from None

    async def disconnect(self, reason: str = "refresh_requested", *, close: bool = True) -> None:
        """Ask the client to reconnect, as Slack does before it retires a connection.

        With `close` the socket is closed right after, so the client must reconnect even if it
        ignores the message.
        """
        connection = self._newest()
        await connection.ws.send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-double"}}
        )
        if close:
            await connection.ws.close(code=WSCloseCode.GOING_AWAY)

    async def drop(self) -> None:
        """Close the newest connection without a word, as a network failure would."""
        await self._newest().ws.close(code=WSCloseCode.ABNORMAL_CLOSURE)

    def _newest(self) -> Connection:
        open_ = self.open_connections
        if not open_:
            raise RuntimeError("no Socket Mode client is connected")
        return open_[-1]

    # -- the WebSocket -----------------------------------------------------------------------

    async def _connect(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        connection = Connection(len(self.connections) + 1, ws, request.query.get("ticket", ""))
        self.connections.append(connection)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self.open_connections),
                "debug_info": {
                    "host": "applink-double",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
        )
        await self._notify()
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._received(connection, message.data)
        finally:
            await self._notify()
        return ws

    def _received(self, connection: Connection, raw: str) -> None:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            data = {"unparsed": raw}
        if not isinstance(data, dict):
            data = {"unparsed": raw}
        connection.received.append(data)
        envelope_id = data.get("envelope_id")
        if isinstance(envelope_id, str):
            self.acks[envelope_id] = data
            future = self._waiting.get(envelope_id)
            if future is not None and not future.done():
                future.set_result(data)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()


class SocketSlackDouble(SlackDouble):
    """The Web API double with Socket Mode: `apps.connections.open` takes the app token."""

    def __init__(self, socket: SocketModeDouble, *, app_token: str = "xapp-test", **kwargs: Any):
        super().__init__(**kwargs)
        self.socket = socket
        self.app_token = app_token

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["method"] != "apps.connections.open":
            return await super()._api(request)
        self.recorded.append(Call("apps.connections.open", {}))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not token:
            return web.json_response({"ok": False, "error": "not_authed"})
        if token != self.app_token:
            # A bot token here is a common mix-up; Slack answers it this way.
            error = "not_allowed_token_type" if token.startswith("xoxb-") else "invalid_auth"
            return web.json_response({"ok": False, "error": error})
        return web.json_response({"ok": True, "url": self.socket.url})


# -- payloads as Slack puts them in envelopes ------------------------------------------------------


def slash_command_payload(
    command: str, text: str, *, user_id: str, **kwargs: Any
) -> dict[str, Any]:
    """A slash command's fields, as an object (HTTP mode sends the same fields form-encoded)."""
    return dict(parse_qsl(slash_command_body(command, text, user_id=user_id, **kwargs)))


def block_actions_payload(action_id: str, value: str, *, user_id: str, **kwargs: Any) -> dict:
    """A block_actions payload, as an object (HTTP mode sends it as a `payload` form field)."""
    form = dict(parse_qsl(block_actions_body(action_id, value, user_id=user_id, **kwargs)))
    payload: dict[str, Any] = json.loads(form["payload"])
    return payload
