"""The eAdm status client: tolerant of spellings, strict about shape, never a crash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from aiohttp import web

from bot import serving
from bot.core.domain import Snapshot, StepState
from bot.core.errors import SourceError
from bot.sim.eadm import build_app
from bot.sources.api import EadmSource, StatusClients, parse_cycle, parse_cycles
from testkit.e2e import cycle_reaches

NOW = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)


def cycle(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"cycle_id": "c-1", "started_at": "2026-11-24T21:00:00Z", "steps": list(steps), **extra}


def test_the_contract_as_documented() -> None:
    snap = parse_cycle(
        cycle(
            {
                "name": "Import HR",
                "state": "completed",
                "started_at": "2026-11-24T21:00:02Z",
                "finished_at": "2026-11-24T21:03:10Z",
                "message": None,
            },
            {"name": "Import HR Future", "state": "running", "started_at": "2026-11-24T21:03:11Z"},
        ),
        tenant="t",
        fetched_at=NOW,
    )
    assert snap.cycle_id == "c-1"
    assert [s.name for s in snap.steps] == ["Import HR", "Import HR Future"]
    assert snap.steps[0].state is StepState.COMPLETED
    assert snap.steps[0].finished_at == datetime(2026, 11, 24, 21, 3, 10, tzinfo=UTC)
    assert snap.steps[1].state is StepState.RUNNING


@pytest.mark.parametrize(
    ("raw_name", "raw_state", "name", "state"),
    [
        ("import_hr", "OK", "Import HR", StepState.COMPLETED),
        ("ImportHR", "success", "Import HR", StepState.COMPLETED),
        ("Importer HR", "done", "Import HR", StepState.COMPLETED),
        ("Importhierarki", "error", "Import Hierarchy", StepState.FAILED),
        ("Synkronisering", "stanset", "Synchronization", StepState.STOPPED),
        ("synchronization", "Stopped", "Synchronization", StepState.STOPPED),
        ("export_ad", "in_progress", "Export AD", StepState.RUNNING),
        ("Import AD Results", "waiting", "Import AD Results", StepState.QUEUED),
        ("Export Azure", "crashed", "Export Azure", StepState.FAILED),
        ("Export eFeide", "Started", "Export eFeide", StepState.RUNNING),
    ],
)
def test_aliases_of_names_and_states(
    raw_name: str, raw_state: str, name: str, state: StepState
) -> None:
    snap = parse_cycle(cycle({"name": raw_name, "status": raw_state}), tenant="t", fetched_at=NOW)
    assert (snap.steps[0].name, snap.steps[0].state) == (name, state)


def test_aliases_of_keys() -> None:
    snap = parse_cycle(
        {
            "cycleId": "c-2",
            "startedAt": "2026-11-24T21:00:00+01:00",
            "Steps": [{"step": "Import AD", "Status": "Error", "errorMessage": "LDAP bind failed"}],
        },
        tenant="t",
        fetched_at=NOW,
    )
    assert snap.cycle_id == "c-2"
    assert snap.started_at == datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    assert snap.steps[0].message == "LDAP bind failed"


def test_an_unknown_state_fails_that_step_not_the_poll() -> None:
    snap = parse_cycle(
        cycle({"name": "Import HR", "state": "completed"}, {"name": "Import AD", "state": "zzz"}),
        tenant="t",
        fetched_at=NOW,
    )
    assert snap.steps[0].state is StepState.COMPLETED
    assert snap.steps[1].state is StepState.FAILED
    assert snap.steps[1].message is None, "eAdm's own words only"
    assert dict(snap.problems) == {"Import AD": "'zzz'"}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ([], "expected a cycle object"),
        ({"steps": []}, "no cycle_id"),
        ({"cycle_id": "c", "steps": "Import HR"}, "no list of steps"),
        (cycle("Import HR"), "not an object"),
        (cycle({"state": "ok"}), "has no name"),
        (cycle({"name": "Import HR", "state": "ok", "started_at": "yesterday"}), "ISO 8601"),
        (cycle({"name": "Import HR", "state": "ok", "started_at": 17}), "not a timestamp"),
    ],
)
def test_malformed_cycles_are_a_clear_error(data: object, words: str) -> None:
    with pytest.raises(SourceError, match=words):
        parse_cycle(data, tenant="t", fetched_at=NOW)


def test_history_is_a_list_of_cycles() -> None:
    assert len(parse_cycles([cycle(), cycle()], tenant="t", fetched_at=NOW)) == 2
    with pytest.raises(SourceError, match="list of cycles"):
        parse_cycles({"cycles": 1}, tenant="t", fetched_at=NOW)


# -- over HTTP, against the simulator and a misbehaving server ------------------------------


@pytest_asyncio.fixture
async def served() -> AsyncIterator[Any]:
    runners: list[web.AppRunner] = []

    async def serve(app: web.Application) -> str:
        runner, port = await serving.serve(app, "127.0.0.1", 0)
        runners.append(runner)
        return f"http://127.0.0.1:{port}"

    yield serve
    for runner in runners:
        await runner.cleanup()


async def test_reads_the_simulator_with_a_bearer_token(served: Any) -> None:
    url = await served(build_app("healthy", speed=60, token="s3cret"))
    async with EadmSource(url, "t", "s3cret") as source:
        snap = await source.current()
        assert snap.steps[0].name == "Import HR"
        assert len(await source.history(5)) == 1
    async with EadmSource(url, "t", "wrong") as source:
        with pytest.raises(SourceError, match=r"401.*EADM_API_TOKEN"):
            await source.current()


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (web.Response(status=503, text="down"), "503"),
        (web.Response(status=200, text="<html>login</html>"), "not JSON"),
        (web.json_response({"hello": "world"}), "not the status contract"),
    ],
)
async def test_a_bad_answer_is_a_source_error(served: Any, reply: web.Response, words: str) -> None:
    app = web.Application()

    async def handler(_request: web.Request) -> web.Response:
        return reply

    app.router.add_get("/api/v1/sync/cycles/current", handler)
    async with EadmSource(await served(app), "t") as source:
        with pytest.raises(SourceError, match=words):
            await source.current()


async def test_nobody_listening_and_timeouts_say_what_to_check(served: Any) -> None:
    async with EadmSource("http://127.0.0.1:9", "t", timeout=2) as source:
        with pytest.raises(SourceError, match="EADM_URL"):
            await source.current()
    app = web.Application()
    answer = asyncio.Event()  # the server answers only once the bot has given up

    async def slow(_request: web.Request) -> web.Response:
        await answer.wait()
        return web.json_response({})

    app.router.add_get("/api/v1/sync/cycles/current", slow)
    async with EadmSource(await served(app), "t", timeout=0.3) as source:
        with pytest.raises(SourceError, match="did not answer within"):
            await source.current()
    answer.set()


def _import_ad_running(snapshot: Snapshot) -> bool:
    run = snapshot.step("Import AD")
    return run is not None and run.state is StepState.RUNNING


async def test_the_simulator_refuses_to_start_a_sync_while_a_step_runs(served: Any) -> None:
    url = await served(build_app("stuck:import-ad", speed=6000))
    await cycle_reaches(url, _import_ad_running, what="Import AD running, for good")
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{url}/api/v1/sync/run")
    assert response.status_code == 409
    assert "cycle is running" in response.json()["error"]


@pytest.mark.parametrize("word", ["paused", "halted"])
def test_paused_and_halted_are_not_the_import_filters_stop(word: str) -> None:
    """The vendor calls the import filter's stop "Stopped" and never these: read as held, the
    step would get review-and-resume advice no such stop asks for."""
    snap = parse_cycle(
        cycle({"name": "Synchronization", "state": word}), tenant="t", fetched_at=NOW
    )
    assert snap.steps[0].state is not StepState.STOPPED
    assert dict(snap.problems) == {"Synchronization": repr(word)}


# -- one client per tenant, kept from poll to poll ---------------------------------------------


async def test_a_tenants_connection_is_kept_from_one_poll_to_the_next() -> None:
    async def current(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        body = cycle({"name": "Import HR", "state": "completed"}, cycle_id=f"c-{peer[1]}")
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/api/v1/sync/cycles/current", current)
    runner, port = await serving.serve(app, "127.0.0.1", 0)
    clients = StatusClients.for_interval(60)
    try:
        url = f"http://127.0.0.1:{port}"
        one, other = (EadmSource(url, name, client=clients.new()) for name in ("a", "b"))
        first, again = await one.current(), await one.current()
        assert first.cycle_id == again.cycle_id, "the same connection (client port) both times"
        # Plain HTTP shares one pool: a second tenant at the same origin takes the kept one.
        assert (await other.current()).cycle_id == first.cycle_id
    finally:
        await clients.aclose()
        await runner.cleanup()


def test_an_idle_connection_outlives_the_poll_interval() -> None:
    assert StatusClients.for_interval(60).keepalive > 60
    assert StatusClients.for_interval(1).keepalive > 1
