"""The wire under the status clients: httpx's client, plain HTTP moved by aiohttp.

httpx stays the interface (requests, timeouts, responses, errors). Plain HTTP goes over
aiohttp's connections, which the Slack client already runs on: at 1,000 tenants a poll's read
costs about a third less CPU than through httpx's own transport (docs/performance.md), and the
read is most of a poll. HTTPS stays on httpx's transport (`transports_for` says why). Both are
called straight from `send`, without the client's cookie and redirect handling around them.

What httpx's transport would do, the aiohttp one does alike:
- every failure is one of httpx's errors, of the same kind: a refused connection is a
  ConnectError, no connection in time a ConnectTimeout, no answer in time a ReadTimeout, an
  answer cut off or not HTTP a RemoteProtocolError;
- each read waits at most the request's read timeout, the connection at most its connect
  timeout;
- the body is handed on as it arrives, undecoded, so the caller's cap counts every byte
  (`capped.read_capped`); an answer not read to its end closes its connection;
- idle connections are kept for `keepalive` seconds.

Proxies from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY) are httpx's to
apply: where any is set, `transports_for` gives None and the client keeps httpx's own
transport for everything. Imports only httpx and aiohttp.
"""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import httpx
from yarl import URL

# aiohttp's failures and the httpx error each one is; the first that matches is taken, so a
# subclass comes before its base.
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.ClientError, httpx.NetworkError),
    (TimeoutError, httpx.PoolTimeout),
    (OSError, httpx.NetworkError),
)
_CAUGHT = (aiohttp.ClientError, TimeoutError, OSError)


def as_httpx_error(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """`exc`, raised by aiohttp, as the httpx error httpx's own transport would raise."""
    kind = next(httpx_kind for kind, httpx_kind in _ERRORS if isinstance(exc, kind))
    message = str(exc) or type(exc).__name__
    if kind is httpx.ReadTimeout and not str(exc):
        message = "no answer within the read timeout"
    return kind(message, request=request)


def proxies_in_environment() -> bool:
    """Whether the environment names a proxy (the same variables httpx reads)."""
    return any(urllib.request.getproxies_environment().values())


def transports_for(
    verify: ssl.SSLContext | bool,
    limits: httpx.Limits,
    *,
    plain: httpx.AsyncBaseTransport | None = None,
) -> dict[str, httpx.AsyncBaseTransport] | None:
    """A status client's transports by scheme, or None (httpx's own, applying the proxy)
    where the environment names a proxy.

    Plain HTTP goes over aiohttp: `plain` when given (one shared by every tenant, see
    `Shared`), else one of the client's own. HTTPS stays on httpx's transport: asyncio's TLS,
    which aiohttp uses, holds a 256 KiB read buffer for every open connection (about 250 MiB
    at 1,000 tenants kept connected), where httpx's holds none."""
    if proxies_in_environment():
        return None
    keepalive = limits.keepalive_expiry or 0.0
    return {
        "http": plain or AiohttpTransport(keepalive=keepalive, limit=limits.max_connections or 0),
        "https": httpx.AsyncHTTPTransport(verify=verify, limits=limits),
    }


class StatusClient(httpx.AsyncClient):
    """httpx's client, knowing the transports under it by scheme (none: httpx's own). HTTPS's
    is the client's own transport, so no other is made beside it."""

    def __init__(
        self, *, wires: dict[str, httpx.AsyncBaseTransport] | None, **options: Any
    ) -> None:
        self.wires = wires or {}
        super().__init__(
            transport=self.wires.get("https"),
            mounts={"http://": self.wires["http"]} if self.wires else None,
            **options,
        )


async def send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """`client.send(request, stream=True)`, straight to the transport of its scheme.

    That skips what the client would add around it and a status read has no use for: cookies
    (taken from every answer and put on every request), authentication flows (the token is a
    header of the request), redirects (not followed either way) and event hooks. The caller
    closes the response."""
    wire = client.wires.get(request.url.scheme) if isinstance(client, StatusClient) else None
    if wire is None:
        return await client.send(request, stream=True)
    if client.is_closed:
        raise RuntimeError("the status client is closed")
    return await wire.handle_async_request(request)


class Shared(httpx.AsyncBaseTransport):
    """One aiohttp transport lent to every tenant's client: closing a client leaves it open;
    its owner closes it (`close`). aiohttp's pool finds a connection by its origin at once,
    however many origins it holds, so one pool serves a thousand tenants."""

    def __init__(self, transport: AiohttpTransport) -> None:
        self._transport = transport

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._transport.handle_async_request(request)

    async def aclose(self) -> None:
        return None  # a client closing gives back its loan

    async def close(self) -> None:
        await self._transport.aclose()


class AiohttpTransport(httpx.AsyncBaseTransport):
    """Plain HTTP over aiohttp's connections, opened on the first request (inside the running
    loop)."""

    def __init__(self, *, keepalive: float, limit: int = 0, per_origin: int = 0) -> None:
        self._keepalive = keepalive
        self._limit = limit  # connections in all (0: no limit)
        self._per_origin = per_origin  # connections to one origin (0: no limit)
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            ssl=False,  # plain HTTP only: HTTPS goes through httpx's transport
            limit=self._limit,
            limit_per_host=self._per_origin,
            keepalive_timeout=self._keepalive,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,  # the caller undoes gzip, counting against its cap
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        timeout = request.extensions.get("timeout", {})
        body = await request.aread()
        try:
            answer = await session.request(
                request.method,
                URL(str(request.url), encoded=True),
                headers=request.headers.multi_items(),
                data=body or None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=timeout.get("pool"),
                    sock_connect=timeout.get("connect"),
                    sock_read=timeout.get("read"),
                ),
            )
        except _CAUGHT as exc:
            raise as_httpx_error(exc, request) from exc
        return httpx.Response(
            answer.status,
            headers=list(answer.raw_headers),
            stream=_Body(answer, request),
            request=request,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": (answer.reason or "").encode("ascii", "replace"),
            },
        )

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class _Body(httpx.AsyncByteStream):
    """An answer's body as aiohttp reads it, in the pieces it arrives in."""

    def __init__(self, answer: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self._answer = answer
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for piece in self._answer.content.iter_any():
                yield piece
        except _CAUGHT as exc:
            raise as_httpx_error(exc, self._request) from exc

    async def aclose(self) -> None:
        if self._answer.content.at_eof():
            self._answer.release()  # read to its end: the connection goes back to the pool
        else:
            self._answer.close()  # not read to its end: the connection cannot be reused
