"""The wire under the status clients: httpx's client over aiohttp's connections.

httpx stays the interface (requests, timeouts, responses, errors); this transport moves the
bytes with aiohttp, which the Slack client already runs on. At 1,000 tenants a status read
through it costs about half the CPU of httpx's own transport (docs/performance.md), and the
status read is most of a poll.

What httpx's transport would do and this one must do alike:
- every failure is one of httpx's errors, of the same kind: a refused connection or a bad
  certificate is a ConnectError, no answer in time a ConnectTimeout or ReadTimeout, an answer
  cut off a RemoteProtocolError;
- each read waits at most the request's read timeout, and the connection at most its connect
  timeout;
- the body is handed on as it arrives, undecoded, so the caller's cap counts every byte
  (`capped.get_capped`); an answer not read to its end closes its connection;
- idle connections are kept for `keepalive` seconds, at most `limit` at once.

Proxies from the environment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY) are httpx's to
apply: where any is set, `transport_for` gives None and the client keeps httpx's own
transport. Imports only httpx and aiohttp.
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


def transport_for(
    verify: ssl.SSLContext | bool, *, keepalive: float, limit: int
) -> AiohttpTransport | None:
    """The transport a status client uses: aiohttp's, or None (httpx's own) where the
    environment names a proxy."""
    if proxies_in_environment():
        return None
    return AiohttpTransport(verify, keepalive=keepalive, limit=limit)


class StatusClient(httpx.AsyncClient):
    """httpx's client, knowing the aiohttp transport under it (None: httpx's own)."""

    def __init__(self, *, wire: AiohttpTransport | None, **options: Any) -> None:
        super().__init__(transport=wire, **options)
        self.wire = wire


async def send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """`client.send(request, stream=True)`, straight to the transport where it is aiohttp's.

    That skips what the client would add around it and a status read has no use for: cookies
    (taken from every answer and put on every request), authentication flows (the token is a
    header of the request), redirects (not followed either way) and event hooks. The caller
    closes the response."""
    if isinstance(client, StatusClient) and client.wire is not None:
        if client.is_closed:
            raise RuntimeError("the status client is closed")
        return await client.wire.handle_async_request(request)
    return await client.send(request, stream=True)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """One client's connections, opened on the first request (inside the running loop)."""

    def __init__(self, verify: ssl.SSLContext | bool, *, keepalive: float, limit: int) -> None:
        # True verifies as httpx would: its CA bundle, or SSL_CERT_FILE / SSL_CERT_DIR.
        self._ssl: ssl.SSLContext | bool = (
            verify
            if isinstance(verify, ssl.SSLContext)
            else (httpx.create_ssl_context() if verify else False)
        )
        self._keepalive = keepalive
        self._limit = limit
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            ssl=self._ssl, limit=self._limit, keepalive_timeout=self._keepalive
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
