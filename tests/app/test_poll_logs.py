"""What the poll job logs about a tenant whose eAdm cannot be read: the outage once when it
starts, each further failed poll at DEBUG, and the recovery once with how long it lasted.
A real poll job against the simulator's status API (switched down and up) and a closed port."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from bot.app.polling import Poller, outage_length
from bot.core.settings import Settings, load_settings
from bot.sim.eadm import Scenario, build_app
from bot.sources.api import EadmSource
from bot.store import Store, utcnow
from testkit.e2e import serve_app

TENANT = "bergen"
POLLER_LOG = "bot.app.polling"


@dataclass
class Clock:
    """The poll job's clock, moved one poll interval per poll so every poll gets its lease."""

    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    poller: Poller
    settings: Settings
    clock: Clock
    sim_url: str

    async def poll(self, times: int = 1) -> None:
        (tenant,) = self.settings.tenants
        for _ in range(times):
            await self.poller.poll(tenant)
            assert self.poller.last_poll[TENANT] == self.clock.now, "the poll did not run"
            self.clock.now += timedelta(seconds=self.settings.poll_interval)

    async def eadm(self, mode: str) -> None:
        async with httpx.AsyncClient() as client:
            answer = await client.post(f"{self.sim_url}/_sim/api", json={"mode": mode})
            answer.raise_for_status()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def poll_world(tmp_path: Path, eadm_url: str, sim_url: str = "") -> AsyncIterator[World]:
    settings = load_settings(
        require_slack=False,
        tenant_name=TENANT,
        eadm_url=eadm_url,
        alert_channel="CBERGEN",
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
    )
    store = Store(settings.database_url)
    store.migrate()
    sources = {t.name: EadmSource(t.eadm_url, t.name, timeout=5) for t in settings.tenants}
    clock = Clock()
    poller = Poller(settings, store, dict(sources), None, owner="test", clock=clock)
    try:
        yield World(poller, settings, clock, sim_url)
    finally:
        await poller.aclose()
        for source in sources.values():
            await source.aclose()
        store.dispose()


@pytest_asyncio.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    runner, sim_url = await serve_app(build_app(Scenario("healthy", (None,)), speed=60))
    try:
        async for made in poll_world(tmp_path, sim_url, sim_url):
            yield made
    finally:
        await runner.cleanup()


def lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == POLLER_LOG and r.levelno == level]


async def test_an_outage_is_warned_once_and_its_recovery_told_once_with_its_length(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=POLLER_LOG)
    await world.poll()
    assert lines(caplog, logging.WARNING) == [] and lines(caplog, logging.INFO) == []

    await world.eadm("down")
    await world.poll(times=5)
    (warning,) = lines(caplog, logging.WARNING)
    assert warning.startswith(f"[{TENANT}] eAdm status API at "), "the tenant, then the error"
    assert "answered 503" in warning and "logged again when" in warning
    still = lines(caplog, logging.DEBUG)
    assert len(still) == 4 and all(f"[{TENANT}] still cannot read" in line for line in still)
    assert "(down 4 min 0 s)" in still[-1]
    assert lines(caplog, logging.INFO) == []

    await world.eadm("up")
    await world.poll(times=3)
    # Down from the first failed poll to the first that read the status: five intervals.
    assert lines(caplog, logging.INFO) == [
        f"[{TENANT}] the eAdm status can be read again, after 5 min 0 s down"
    ]
    assert len(lines(caplog, logging.WARNING)) == 1

    # A second outage is a new one, and is warned about again.
    await world.eadm("garbage")
    await world.poll(times=2)
    warnings = lines(caplog, logging.WARNING)
    assert len(warnings) == 2 and "not JSON" in warnings[1]


async def test_a_closed_port_is_warned_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger=POLLER_LOG)
    async for world in poll_world(tmp_path, f"http://127.0.0.1:{free_port()}"):
        await world.poll(times=3)
    (warning,) = lines(caplog, logging.WARNING)
    assert warning.startswith(f"[{TENANT}] cannot reach the eAdm status API at "), warning
    assert "check EADM_URL" in warning
    assert len(lines(caplog, logging.DEBUG)) == 2
    assert lines(caplog, logging.INFO) == []


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0, "0 s"), (45, "45 s"), (750, "12 min 30 s"), (7500, "2 h 5 min"), (90061, "25 h 1 min")],
)
def test_an_outage_length_reads_as_a_person_says_it(seconds: int, said: str) -> None:
    assert outage_length(timedelta(seconds=seconds)) == said
