"""The poll's one deadline for all its reads: 80 % of POLL_INTERVAL, at most 30 s. A source that
trickles its answer (each read within its own timeout) meets it; a real poll job against a
server on loopback that sends a byte a tenth of a second."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from aiohttp import web

from bot.app.polling import Poller
from bot.core.settings import load_settings
from bot.sources.api import EadmSource
from bot.store import Store
from testkit.e2e import serving

CURRENT = "/api/v1/sync/cycles/current"


async def trickle(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    for _ in range(10_000):
        await response.write(b" ")
        await asyncio.sleep(0.1)
    return response


async def test_a_source_that_trickles_its_answer_meets_the_polls_deadline(
    tmp_path: Path,
) -> None:
    """Each read comes within its timeout, a byte a tenth of a second; the poll still ends at
    80 % of POLL_INTERVAL, and the next tenant's poll is not kept waiting by it."""

    app = web.Application()
    app.router.add_get(CURRENT, trickle)
    async with serving(app) as url:
        await poll_once(url, tmp_path)


async def poll_once(url: str, tmp_path: Path) -> None:
    settings = load_settings(
        require_slack=False,
        tenant_name="slow",
        eadm_url=url,
        alert_channel="CSLOW",
        poll_interval=1.5,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
    )
    assert settings.poll_deadline == pytest.approx(1.2)
    store = Store(settings.database_url)
    store.migrate()
    (tenant,) = settings.tenants
    source = EadmSource(tenant.eadm_url, tenant.name, timeout=5)
    poller = Poller(settings, store, {tenant.name: source}, None, owner="test")
    try:
        started = time.monotonic()
        await poller.poll(tenant)
        took = time.monotonic() - started
    finally:
        await poller.aclose()
        await source.aclose()
        state = store.tenant_state(tenant.name)
        store.dispose()
    assert 1.1 < took < 2.5, took
    assert state is not None and state.last_error is not None
    assert "longer than the poll's deadline of 1.2 s (80 % of POLL_INTERVAL" in state.last_error


def test_the_deadline_is_80_percent_of_the_interval_and_at_most_30_s() -> None:
    def deadline(interval: float) -> float:
        return load_settings(
            require_slack=False, require_tenants=False, poll_interval=interval
        ).poll_deadline

    assert deadline(1) == pytest.approx(0.8)
    assert deadline(30) == pytest.approx(24)
    assert deadline(60) == 30
    assert deadline(3600) == 30
