"""The status clients' wire: every way a read can fail comes back as the httpx error httpx's
own transport would raise, against real servers on loopback that refuse, stall, cut off or
show a certificate nobody trusts; and where the environment names a proxy, httpx's own
transport (which applies it) is used instead."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from bench.fleet import self_signed
from bot.core.errors import SourceError
from bot.sources.api import EadmSource, StatusClients, status_client
from bot.sources.wire import AiohttpTransport, StatusClient, as_httpx_error
from testkit.e2e import serve_app

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
CYCLE = {"cycle_id": "c-1", "steps": [{"name": "Import HR", "state": "completed"}]}
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest_asyncio.fixture
async def raw() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """A TCP server on loopback that answers with whatever bytes the test writes."""
    servers: list[asyncio.Server] = []

    async def serve(handler: Handler) -> str:
        server = await asyncio.start_server(handler, "127.0.0.1", 0)
        servers.append(server)
        return f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"

    yield serve
    for server in servers:
        server.close()
        await server.wait_closed()


async def _request_head(reader: asyncio.StreamReader) -> None:
    await reader.readuntil(b"\r\n\r\n")


@pytest.mark.parametrize(
    ("raised", "kind"),
    [
        (aiohttp.ConnectionTimeoutError(), httpx.ConnectTimeout),
        (aiohttp.SocketTimeoutError(), httpx.ReadTimeout),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError),
        (aiohttp.ClientPayloadError("cut"), httpx.RemoteProtocolError),
        (aiohttp.ClientConnectionResetError(), httpx.NetworkError),
        (TimeoutError(), httpx.PoolTimeout),
        (ConnectionResetError(104, "reset"), httpx.NetworkError),
    ],
)
def test_each_failure_is_the_httpx_error_of_its_kind(raised: Exception, kind: type) -> None:
    request = httpx.Request("GET", "http://eadm.example/")
    error = as_httpx_error(raised, request)
    assert type(error) is kind
    assert str(error) and error.request is request


def test_plain_http_runs_on_aiohttp_and_https_on_httpx_without_a_proxy() -> None:
    client = status_client()
    assert isinstance(client, StatusClient)
    assert isinstance(client.wires["http"], AiohttpTransport)
    assert isinstance(client.wires["https"], httpx.AsyncHTTPTransport)


async def test_nobody_listening_is_a_connect_error() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # closed again before the read: nobody listens there
    async with status_client(timeout=2) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/")


@pytest.fixture
def full_backlog() -> Iterator[str]:
    """A port whose listen queue is full: the kernel drops further connection attempts, so
    a connect neither succeeds nor fails until the client gives up."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        waiting = []
        for _ in range(4):
            queued = socket.socket()
            queued.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                queued.connect(("127.0.0.1", port))
            waiting.append(queued)
        try:
            yield f"http://127.0.0.1:{port}/"
        finally:
            for queued in waiting:
                queued.close()


async def test_a_connection_not_made_in_time_is_a_connect_timeout(full_backlog: str) -> None:
    async with status_client(timeout=0.3) as client:
        with pytest.raises(httpx.ConnectTimeout):
            await client.get(full_backlog)
    async with EadmSource(full_backlog.rstrip("/"), "t", timeout=0.3) as source:
        with pytest.raises(SourceError, match="did not answer within"):
            await source.current()


async def test_a_body_that_stalls_is_a_read_timeout(raw: Any) -> None:
    release = asyncio.Event()

    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
        await writer.drain()
        await release.wait()
        writer.close()

    url = await raw(stall)
    async with status_client(timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(url)
    release.set()


async def test_an_answer_cut_off_is_a_protocol_error(raw: Any) -> None:
    async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request_head(reader)
        writer.write(b'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{"cycle_id":')
        await writer.drain()
        writer.close()

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _request_head(reader)
        writer.close()

    async with status_client(timeout=2) as client:
        for handler in (cut, hang_up):
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(await raw(handler))


async def test_not_http_at_all_is_a_protocol_error(raw: Any) -> None:
    async def babble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        await writer.drain()
        writer.close()

    async with EadmSource(await raw(babble), "t", timeout=2) as source:
        with pytest.raises(SourceError, match="EADM_URL"):
            await source.current()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest_asyncio.fixture
async def tls_server(certificate: tuple[Path, Path]) -> AsyncIterator[str]:
    async def current(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        return web.json_response({**CYCLE, "cycle_id": f"c-{peer[1] if peer else 0}"})

    app = web.Application()
    app.router.add_get("/api/v1/sync/cycles/current", current)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"https://127.0.0.1:{port}"
    await runner.cleanup()


async def test_a_certificate_nobody_trusts_is_a_connect_error(tls_server: str) -> None:
    async with status_client(timeout=2) as client:
        with pytest.raises(httpx.ConnectError, match="certificate"):
            await client.get(f"{tls_server}/api/v1/sync/cycles/current")


async def test_a_trusted_certificate_reads_and_keeps_its_connection(
    tls_server: str, certificate: tuple[Path, Path]
) -> None:
    trusted = ssl.create_default_context(cafile=str(certificate[0]))
    async with status_client(timeout=2, verify=trusted, keepalive=60) as client:
        source = EadmSource(tls_server, "t", client=client)
        first, again = await source.current(), await source.current()
    assert first.cycle_id == again.cycle_id, "one TLS connection for both reads"


async def test_with_a_proxy_in_the_environment_httpx_applies_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The proxy answers for any origin; the origin asked for does not exist."""
    asked: list[str] = []

    async def proxy(request: web.Request) -> web.Response:
        asked.append(str(request.url))
        return web.json_response(CYCLE)

    app = web.Application()
    app.router.add_get("/{tail:.*}", proxy)
    runner, url = await serve_app(app)
    monkeypatch.setenv("HTTP_PROXY", url)
    try:
        client = status_client(timeout=2)
        assert isinstance(client, StatusClient) and client.wires == {}
        async with EadmSource("http://eadm.invalid", "t", client=client) as source:
            assert (await source.current()).cycle_id == "c-1"
        await client.aclose()
    finally:
        await runner.cleanup()
    assert asked and asked[0].endswith("/api/v1/sync/cycles/current")


async def test_one_tenants_client_closing_leaves_the_shared_pool_to_the_others() -> None:
    async def current(_request: web.Request) -> web.Response:
        return web.json_response(CYCLE)

    app = web.Application()
    app.router.add_get("/api/v1/sync/cycles/current", current)
    runner, url = await serve_app(app)
    clients = StatusClients.for_interval(60)
    try:
        one, other = clients.new(), clients.new()
        await EadmSource(url, "a", client=one).current()
        await one.aclose()
        assert (await EadmSource(url, "b", client=other).current()).cycle_id == "c-1"
    finally:
        await clients.aclose()
        await runner.cleanup()
    with pytest.raises(RuntimeError, match="closed"):
        await EadmSource(url, "b", client=other).current()
