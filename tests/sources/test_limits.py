"""What a source may send: answers read as a stream and dropped past SOURCE_MAX_BYTES (after gzip
is undone), a Content-Length over it refused unread, JSON too deep for the contract, and a task
command cut off when the poll gives up on it. Against servers on loopback that answer 300 MiB
or a gzip bomb."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import sys
import time
import tracemalloc
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from bot.core.errors import NotStatusContract, SourceError
from bot.sim.eadm import Scenario, build_app
from bot.sources.api import EadmSource, status_client
from bot.sources.capped import TooLarge, get_capped, size_text
from bot.sources.exporter import ExporterSource
from bot.sources.task import TaskSource
from testkit.e2e import eventually, serve_app

MiB = 1024 * 1024
CAP = 4 * MiB
CHUNK = b"x" * 65536


def endless(total: int, *, declared: bool = False, pause: float = 0.0) -> Any:
    """A handler that streams `total` bytes (with their Content-Length when `declared`)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        if declared:
            response.content_length = total
        await response.prepare(request)
        sent = 0
        try:
            while sent < total:
                await response.write(CHUNK)
                sent += len(CHUNK)
                if pause:
                    await asyncio.sleep(pause)
        except (ConnectionResetError, asyncio.CancelledError):
            return response  # the reader hung up, as it should
        return response

    return handler


@pytest_asyncio.fixture
async def served() -> AsyncIterator[Any]:
    runners: list[web.AppRunner] = []

    async def serve(routes: dict[str, Any]) -> str:
        app = web.Application()
        for path, handler in routes.items():
            app.router.add_get(path, handler)
        runner, url = await serve_app(app)
        runners.append(runner)
        return url

    yield serve
    for runner in runners:
        await runner.cleanup()


CURRENT = "/api/v1/sync/cycles/current"


async def test_a_300_mib_answer_is_dropped_at_the_cap_without_reading_it_whole(
    served: Any,
) -> None:
    url = await served({CURRENT: endless(300 * MiB)})
    tracemalloc.start()
    started = time.monotonic()
    try:
        async with EadmSource(url, "t") as source:
            with pytest.raises(SourceError, match=r"the answer was larger than 4 MiB \(SOURCE"):
                await source.current()
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 5
    assert peak < 3 * CAP, f"reading it took {peak / MiB:.0f} MiB"


async def test_a_content_length_over_the_cap_is_refused_before_the_body(served: Any) -> None:
    url = await served({CURRENT: endless(300 * MiB, declared=True, pause=0.05)})
    started = time.monotonic()
    async with EadmSource(url, "t", max_bytes=MiB) as source:
        with pytest.raises(SourceError, match="larger than 1 MiB") as raised:
            await source.current()
    assert time.monotonic() - started < 1  # 64 KiB every 50 ms: 1 MiB would take 0.8 s
    assert "raise SOURCE_MAX_BYTES" in str(raised.value)


def gzipped(data: bytes) -> Any:
    body = gzip.compress(data, compresslevel=9)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(
            body=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
        )

    return handler, len(body)


async def test_a_gzip_bomb_is_counted_after_it_is_undone(served: Any) -> None:
    bomb, size = gzipped(b"[" + b" " * (200 * MiB) + b"]")
    assert size < 300_000  # a few hundred kilobytes on the wire
    url = await served({CURRENT: bomb})
    tracemalloc.start()
    try:
        async with EadmSource(url, "t") as source:
            with pytest.raises(SourceError, match="larger than 4 MiB"):
                await source.current()
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * CAP, f"undoing it took {peak / MiB:.0f} MiB"


async def test_a_gzipped_answer_within_the_cap_reads_as_ever(served: Any) -> None:
    sim = build_app(Scenario("t", (None,), more_cycles=False))
    runner, sim_url = await serve_app(sim)
    try:
        async with EadmSource(sim_url, "t") as plain_source:
            expected = await plain_source.current()
    finally:
        await runner.cleanup()
    cycle = {"cycle_id": expected.cycle_id, "steps": [{"name": "Import HR", "state": "ok"}]}
    handler, _size = gzipped(json.dumps(cycle).encode())
    async with EadmSource(await served({CURRENT: handler}), "t") as source:
        snapshot = await source.current()
    assert snapshot.cycle_id == expected.cycle_id and snapshot.steps[0].name == "Import HR"


async def test_json_deeper_than_the_contract_is_not_the_contract(served: Any) -> None:
    async def deep(request: web.Request) -> web.Response:
        return web.Response(text="[" * 100_000 + "]" * 100_000, content_type="application/json")

    async with EadmSource(await served({CURRENT: deep}), "t") as source:
        with pytest.raises(NotStatusContract, match="nests deeper than 64 levels"):
            await source.current()


async def test_an_encoding_not_asked_for_is_refused(served: Any) -> None:
    async def brotli(request: web.Request) -> web.Response:
        assert request.headers["Accept-Encoding"] == "gzip"
        return web.Response(body=b"\x00" * 10, headers={"Content-Encoding": "br"})

    async with EadmSource(await served({CURRENT: brotli}), "t") as source:
        with pytest.raises(SourceError, match="br-encoded, which was not asked for"):
            await source.current()


async def test_the_exporter_is_capped_too(served: Any) -> None:
    url = await served({"/metrics": endless(300 * MiB)})
    async with ExporterSource("t", url + "/metrics", task_name="eAdm", max_bytes=MiB) as source:
        with pytest.raises(SourceError, match="larger than 1 MiB") as raised:
            await source.read()
    assert "limit the scheduled_task collector" in str(raised.value)


async def test_one_client_reads_capped_and_uncapped_answers_alike(served: Any) -> None:
    async def small(request: web.Request) -> web.Response:
        return web.Response(text="ok", reason="Fine Thank You")

    url = await served({"/": small})
    async with status_client() as client:
        answer = await get_capped(client, url + "/", max_bytes=2, read_timeout=5)
        assert (answer.status, answer.reason, answer.text) == (200, "Fine Thank You", "ok")
        with pytest.raises(TooLarge):
            await get_capped(client, url + "/", max_bytes=1, read_timeout=5)


@pytest.mark.parametrize(
    ("size", "text"),
    [(4 * MiB, "4 MiB"), (1536 * 1024, "1.5 MiB"), (512 * 1024, "512 KiB"), (900, "900 bytes")],
)
def test_sizes_read_as_an_admin_writes_them(size: int, text: str) -> None:
    assert size_text(size) == text


# -- a command cut off ---------------------------------------------------------------------


async def test_a_task_command_cut_off_by_the_deadline_does_not_live_on(tmp_path: Path) -> None:
    started = tmp_path / "pid"
    script = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"
    source = TaskSource(
        "t", [sys.executable, "-c", script, str(started)], task_name="x", timeout=30
    )
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1.5):
            await source.read()
    pid = int(started.read_text())

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    await eventually(gone, timeout=5, what=f"the task command (pid {pid}) to be stopped")


def test_a_command_printing_json_too_deep_for_a_task_is_a_source_error() -> None:
    from bot.sources.events import EventsError, parse_events
    from bot.sources.task import parse_output

    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(
        SourceError, match="JSON that cannot be a task: the JSON nests deeper than 64"
    ):
        parse_output(deep, task_name="eAdm")
    with pytest.raises(
        EventsError, match="JSON that cannot be its events: the JSON nests deeper than 64"
    ):
        parse_events(deep)
