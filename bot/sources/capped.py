"""Reading a source's HTTP answer with a cap on its size: the status API and windows_exporter
alike, through the one shared client.

The answer is read as a stream and dropped as soon as it passes `max_bytes`, so a server that
answers 300 MiB (or a gzip bomb: the cap counts the bytes after decompression) costs the bot
at most the cap, never the whole answer; a Content-Length over the cap is refused before a
byte of the body is read. Only gzip is asked for, and decompressed here in steps of at most
what the cap has room for; a plain answer within its Content-Length is read at once. Time is
bounded by the caller: the client's timeouts for each read, the poll's deadline for the whole
(`bot.app.polling`). Imports only the core and the wire.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import httpx

from bot.core.errors import SourceError
from bot.core.inputs import SOURCE_MAX_BYTES
from bot.sources.wire import send

DEFAULT_MAX_BYTES = SOURCE_MAX_BYTES
READ_CHUNK = 64 * 1024  # bytes decompressed at a time, at most


@dataclass(frozen=True, slots=True)
class Answer:
    """A source's HTTP answer: its status and reason, its content type, and its body (read
    only when the status is 200)."""

    status: int
    reason: str
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class TooLarge(SourceError):
    """The answer was larger than the cap; `limit` is the cap in bytes."""

    def __init__(self, limit: int) -> None:
        super().__init__("source.capped.too_large", size=size_text(limit))
        self.limit = limit


def size_text(size: int) -> str:
    """A byte count as an admin reads it: 4 MiB, 512 KiB, 900 bytes."""
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} bytes"


def prepare(
    client: httpx.AsyncClient,
    url: str,
    *,
    read_timeout: float,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> httpx.Request:
    """The GET of `url` that `read_capped` sends, each read within `read_timeout` seconds. A
    source reading the same URL at every poll builds it once and sends it each time."""
    asked = {**(headers or {}), "Accept-Encoding": "gzip"}
    return client.build_request("GET", url, params=params, headers=asked, timeout=read_timeout)


async def get_capped(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    read_timeout: float,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> Answer:
    """GET `url`, each read within `read_timeout` seconds (`read_capped`)."""
    request = prepare(client, url, read_timeout=read_timeout, headers=headers, params=params)
    return await read_capped(client, request, max_bytes=max_bytes)


async def read_capped(
    client: httpx.AsyncClient, request: httpx.Request, *, max_bytes: int
) -> Answer:
    """Send `request`; raises TooLarge past `max_bytes` and httpx's errors for the caller to
    put in its own words. A status other than 200 comes back without its body."""
    got = await send(client, request)
    try:
        given = got.headers
        kind = given.get("content-type", "")
        if got.status_code != 200:
            return Answer(got.status_code, got.reason_phrase, kind, b"")
        declared = given.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise TooLarge(max_bytes)
        coding = given.get("content-encoding", "identity").strip().lower()
        if coding in ("", "identity") and declared.isdigit():
            body = await got.aread()  # framed by its Content-Length, already within the cap
        else:
            body = await _read(got, coding, max_bytes)
    finally:
        await got.aclose()
    return Answer(200, got.reason_phrase, kind, body)


async def _read(response: httpx.Response, coding: str, max_bytes: int) -> bytes:
    """The body as a stream, undoing gzip in bounded steps, dropped past `max_bytes`."""
    if coding not in ("", "identity", "gzip"):
        raise SourceError("source.capped.encoding", coding=coding)
    inflate = zlib.decompressobj(wbits=31) if coding == "gzip" else None
    parts: list[bytes] = []
    size = 0
    try:
        async for raw in response.aiter_raw():
            room = max_bytes - size + 1
            pieces = [raw] if inflate is None else _inflated(inflate, raw, room)
            for piece in pieces:
                size += len(piece)
                if size > max_bytes:
                    raise TooLarge(max_bytes)
                parts.append(piece)
        if inflate is not None:
            parts.append(inflate.flush(max(0, max_bytes - size + 1)))
    except zlib.error:
        raise SourceError("source.capped.gzip") from None
    body = b"".join(parts)
    if len(body) > max_bytes:
        raise TooLarge(max_bytes)
    return body


def _inflated(inflate: Any, data: bytes, room: int) -> list[bytes]:
    """`data` decompressed in steps of at most READ_CHUNK bytes, stopping once `room` is
    used up (the caller refuses the answer then)."""
    out: list[bytes] = []
    while data and room > 0:
        piece = inflate.decompress(data, min(READ_CHUNK, room))
        out.append(piece)
        room -= len(piece)
        data = inflate.unconsumed_tail
    return out
