"""Servers that slow clients cannot starve: slow clients on loopback (half-sent headers, a body
that never ends, idle connections, more connections than the cap) against `serve`, while real
requests keep being answered, and the log hears of them once a minute at most."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from aiohttp import web

from bot.serving import Limits, serve
from testkit.e2e import eventually

FAST = Limits(header_timeout=0.5, body_timeout=0.5, keepalive=0.5, max_connections=50)


@dataclass
class Server:
    url: str
    port: int
    release: asyncio.Event


@pytest.fixture
async def server(request: pytest.FixtureRequest) -> AsyncIterator[Server]:
    limits: Limits = getattr(request, "param", FAST)
    release = asyncio.Event()

    async def hello(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def echo(request: web.Request) -> web.Response:
        return web.Response(body=await request.read())

    async def hold(_request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(text="held")

    app = web.Application()
    app.router.add_get("/", hello)
    app.router.add_post("/echo", echo)
    app.router.add_get("/hold", hold)
    runner, port = await serve(app, "127.0.0.1", 0, limits=limits)
    try:
        yield Server(f"http://127.0.0.1:{port}", port, release)
    finally:
        release.set()
        await runner.cleanup()


async def half_sent(
    port: int, count: int
) -> list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    """`count` connections that began a request and never finish its headers."""
    held = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        await writer.drain()
        held.append((reader, writer))
    return held


async def closed(reader: asyncio.StreamReader) -> bool:
    try:
        return await asyncio.wait_for(reader.read(1024), 0.01) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


async def all_closed(held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]) -> bool:
    return all([await closed(reader) for reader, _writer in held])


def slow_client_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.serving"]


async def test_three_hundred_half_sent_requests_do_not_keep_real_ones_out(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.serving")
    held = await half_sent(server.port, 300)
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=5) as client:
        answers = await asyncio.gather(*(client.get(server.url + "/") for _ in range(20)))
    took = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * 20
    assert took < 2, f"20 real requests took {took:.1f} s behind 300 slow ones"
    await eventually(lambda: all_closed(held), timeout=5, what="the slow connections closed")
    lines = slow_client_lines(caplog)
    assert len(lines) == 1, lines  # the first; the other 299 and more are counted
    assert "slow clients are counted and told once a minute at most" in lines[0]


# aiohttp's own timer comes long after the guard's in these two, so the guard is what acts.
@pytest.mark.parametrize(
    "server", [Limits(header_timeout=0.5, keepalive=3, max_connections=50)], indirect=True
)
async def test_headers_sent_a_byte_at_a_time_meet_the_header_timeout(server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    started = time.monotonic()
    request = b"GET / HTTP/1.1\r\nHost: x\r\nX-Dribble: " + b"a" * 200
    for byte in request:
        if await closed(reader):
            break
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("a request dribbled over 4 s was let be")
    assert 0.4 < time.monotonic() - started < 2
    writer.close()


async def test_a_body_that_never_ends_is_answered_408(server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
    await writer.drain()
    started = time.monotonic()
    answer = await asyncio.wait_for(reader.read(200), 5)
    assert answer.startswith(b"HTTP/1.1 408")
    assert 0.4 < time.monotonic() - started < 1.5
    writer.close()


async def test_a_whole_body_reaches_the_handler(server: Server) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await client.post(server.url + "/echo", content=b"x" * 100_000)
    assert answer.content == b"x" * 100_000


@pytest.mark.parametrize(
    "server", [Limits(header_timeout=5, keepalive=0.5, max_connections=50)], indirect=True
)
async def test_an_idle_connection_is_closed_after_the_keep_alive(server: Server) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    assert (await asyncio.wait_for(reader.readuntil(b"}"), 5)).startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    await eventually(lambda: closed(reader), timeout=5, what="the idle connection closed")
    assert time.monotonic() - started < 2
    writer.close()


async def test_past_the_cap_the_longest_waiting_connection_makes_room(server: Server) -> None:
    held = await half_sent(server.port, 50)  # the cap, all waiting for their headers
    async with httpx.AsyncClient(timeout=5) as client:
        assert (await client.get(server.url + "/")).status_code == 200
    assert await closed(held[0][0])  # the first to come was the first to go


@pytest.mark.parametrize(
    "server", [Limits(header_timeout=5, keepalive=5, max_connections=10)], indirect=True
)
async def test_past_the_cap_with_every_connection_busy_a_new_one_gets_503(
    server: Server,
) -> None:
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=20)) as client:
        busy = [asyncio.ensure_future(client.get(server.url + "/hold")) for _ in range(10)]
        await asyncio.sleep(0)  # let them connect
        answer = await eventually(
            lambda: _answer_when_full(server.port), timeout=5, what="a connection past the cap"
        )
        assert answer.startswith(b"HTTP/1.1 503")
        server.release.set()
        assert [r.status_code for r in await asyncio.gather(*busy)] == [200] * 10


async def _answer_when_full(port: int) -> bytes | None:
    """What a new connection is told at once, or None while it is let in (the busy requests
    are not all in their handlers yet)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await asyncio.wait_for(reader.read(200), 0.3)
    except TimeoutError:
        return None
    finally:
        writer.close()
