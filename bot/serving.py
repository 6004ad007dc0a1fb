"""Serving an aiohttp application on a host and port, learning which port it got, and keeping
slow clients from starving it.

Port 0 asks the system for any free port, which is how the simulator, the demo and the tests
run side by side; the bound port is read from the runner's public `addresses`, so no caller
reaches into aiohttp's sites for it.

aiohttp's server waits for a request as long as its keep-alive lasts (about an hour by
default) and accepts any number of connections, so whoever can reach the port could hold it
with half-sent requests. Every server here gets `Limits`: a request's headers must be whole
within `header_timeout` seconds of its first byte, its body within `body_timeout` (408
otherwise), a connection idle for `keepalive` seconds (new, or done with its last request)
is closed, and at most `max_connections` are open: one more closes the one that has waited
longest without a request in progress, or, when all are busy, is answered 503. What was
closed is logged once, then summed up once a minute at most.

May import: aiohttp only. Every layer above the core may use it (the core may not import
aiohttp).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

AIOHTTP_SHUTDOWN_TIMEOUT = 60.0  # aiohttp's own default: how long open requests get at cleanup
AIOHTTP_BACKLOG = 128  # aiohttp's own default listen backlog
SWEEP_EVERY = 0.5  # seconds between two looks at the open connections
BUSY = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


@dataclass(frozen=True, slots=True)
class Limits:
    """What one server allows its clients; the defaults suit Slack's requests and the
    central bot's, which send a whole request at once."""

    header_timeout: float = 10.0
    body_timeout: float = 10.0
    keepalive: float = 5.0
    max_connections: int = 256
    log_every: float = 60.0


class _Watched(asyncio.Protocol):
    """One connection: aiohttp's protocol, with what the guard needs to know about it."""

    def __init__(self, guard: _Guard, inner: Any) -> None:
        self.guard = guard
        self.inner = inner
        self.transport: asyncio.Transport | None = None
        self.admitted = False
        self.busy = 0  # requests of this connection inside a handler now
        self.idle_since = time.monotonic()
        self.sent_at: float | None = None  # the first byte since it was last idle

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        if not self.guard.admit(self):
            return
        self.admitted = True
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.admitted:
            if not self.busy and self.sent_at is None:
                self.sent_at = time.monotonic()
            self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.admitted else None

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.forget(self)
        if self.admitted:
            self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self.admitted:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.admitted:
            self.inner.resume_writing()

    def peer(self) -> str:
        name = self.transport.get_extra_info("peername") if self.transport else None
        return str(name[0]) if isinstance(name, tuple) and name else "?"

    def close(self, *, hard: bool = True) -> None:
        if self.transport is not None:
            if hard:
                self.transport.abort()
            else:
                self.transport.close()


class _Factory:
    """What the site's `create_server` calls for each connection: aiohttp's server (a protocol
    factory), its protocols watched; everything else is the server's own."""

    def __init__(self, server: web.Server, guard: _Guard) -> None:
        self._server = server
        self._guard = guard

    def __call__(self) -> _Watched:
        return _Watched(self._guard, self._server())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


class _Guard:
    """The open connections of one server, and what it closed and why."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.open: dict[_Watched, None] = {}  # in the order they came
        self.by_handler: dict[Any, _Watched] = {}
        self.closed: dict[str, int] = {}  # why -> connections since the last line
        self.said_at: float | None = None
        self.last_peer = "?"
        self._sweeper: asyncio.Task[None] | None = None

    # -- connections --------------------------------------------------------------------------

    def admit(self, conn: _Watched) -> bool:
        if len(self.open) >= self.limits.max_connections:
            waiting = [c for c in self.open if not c.busy]
            if not waiting:
                self._close(conn, self._over, answer=BUSY)
                return False
            self._close(min(waiting, key=lambda c: c.idle_since), self._over)
        self.open[conn] = None
        self.by_handler[conn.inner] = conn
        return True

    @property
    def _over(self) -> str:
        return f"came when {self.limits.max_connections} were open"

    def forget(self, conn: _Watched) -> None:
        self.open.pop(conn, None)
        self.by_handler.pop(conn.inner, None)

    def sweep(self) -> None:
        now = time.monotonic()
        for conn in list(self.open):
            if conn.busy:
                continue
            if conn.sent_at is not None and now - conn.sent_at > self.limits.header_timeout:
                self._close(conn, f"sent no whole request within {self.limits.header_timeout:g} s")
            elif conn.sent_at is None and now - conn.idle_since > self.limits.keepalive:
                # Idle keep-alive is no fault of the client's: closed, not told.
                self.forget(conn)
                conn.close(hard=False)

    def _close(self, conn: _Watched, why: str, *, answer: bytes | None = None) -> None:
        self.forget(conn)
        if answer is not None and conn.transport is not None:
            with contextlib.suppress(Exception):
                conn.transport.write(answer)
            conn.close(hard=False)
        else:
            conn.close()
        self._tell(why, conn.peer())

    # -- what the log hears -------------------------------------------------------------------

    def _tell(self, why: str, peer: str) -> None:
        self.closed[why] = self.closed.get(why, 0) + 1
        self.last_peer = peer
        now = time.monotonic()
        if self.said_at is None:
            self.said_at = now
            self.closed.clear()
            log.warning(
                "closed a connection from %s that %s; slow clients are counted and told once "
                "a minute at most",
                peer,
                why,
            )
        elif now - self.said_at >= self.limits.log_every:
            counts = ", ".join(f"{n} {w}" for w, n in sorted(self.closed.items()))
            log.warning(
                "closed %d connection(s) of slow clients in the last %.0f s: %s; the latest "
                "from %s",
                sum(self.closed.values()),
                now - self.said_at,
                counts,
                peer,
            )
            self.said_at = now
            self.closed.clear()

    # -- requests -----------------------------------------------------------------------------

    @web.middleware
    async def middleware(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        """A request in a handler keeps its connection busy; its body has `body_timeout`."""
        conn = self.by_handler.get(request.protocol)
        if conn is not None:
            conn.busy += 1
        try:
            if request.can_read_body:
                try:
                    async with asyncio.timeout(self.limits.body_timeout):
                        await request.read()
                except TimeoutError:
                    why = f"sent no whole body within {self.limits.body_timeout:g} s"
                    self._tell(why, str(request.remote))
                    return web.Response(status=408, headers={"Connection": "close"})
            return await handler(request)
        finally:
            if conn is not None:
                conn.busy -= 1
                if not conn.busy:
                    conn.idle_since, conn.sent_at = time.monotonic(), None

    # -- running ------------------------------------------------------------------------------

    async def start(self, _app: web.Application) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def stop(self, _app: web.Application) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_EVERY)
            self.sweep()


class _GuardedRunner(web.AppRunner):
    def __init__(self, app: web.Application, guard: _Guard, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.guard = guard

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return _Factory(server, self.guard)  # type: ignore[return-value]


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    shutdown_timeout: float = AIOHTTP_SHUTDOWN_TIMEOUT,
    backlog: int = AIOHTTP_BACKLOG,
    limits: Limits | None = None,
) -> tuple[web.AppRunner, int]:
    """Start serving `app` within `limits` (the defaults without); returns the runner (the
    caller cleans it up) and the bound port.

    A failure to bind (an OSError: the port is taken) leaves nothing behind.
    """
    limits = limits or Limits()
    guard = _Guard(limits)
    app.middlewares.insert(0, guard.middleware)
    app.on_startup.append(guard.start)
    app.on_cleanup.append(guard.stop)
    runner = _GuardedRunner(
        app,
        guard,
        access_log=None,
        shutdown_timeout=shutdown_timeout,
        # aiohttp's own timer, behind the guard's: the guard closes first and says why.
        keepalive_timeout=limits.keepalive + limits.header_timeout,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, backlog=backlog).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, int(runner.addresses[0][1])
