"""Several replicas on one PostgreSQL: each tenant's poll goes to one replica per tick, and an
alert is posted exactly once whichever replica found it; when one replica dies, the other
carries on alone. Replicas starting together migrate the database once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest_asyncio

from bot.core.domain import EXPORT_AD, IMPORT_AD
from bot.sim.eadm import Fault, Scenario
from bot.store import Store
from testkit.e2e import eventually, polls, settled
from testkit.world import World

TENANTS = 6
INTERVAL = 1.0  # POLL_INTERVAL in the harness
LEASE = 0.8 * INTERVAL  # a poll holds its tenant this long: no other replica polls it then


@pytest_asyncio.fixture
async def world(postgres_url: str, tmp_path: Path) -> AsyncIterator[World]:
    async with World.open(tmp_path, database_url=postgres_url) as world:
        yield world


async def test_two_replicas_post_each_alert_once(world: World) -> None:
    slack = world.slack
    urls: list[str] = []
    for i in range(TENANTS):
        scenario = Scenario("t", (Fault(EXPORT_AD, "fail"),), more_cycles=False)
        urls.append(str(await world.add_tenant(f"t{i}", scenario, channel=f"C{i:03d}")))
    replicas = await asyncio.gather(
        *(world.start_bot(log=f"bot-{name}.log", CYCLE_DUE_AFTER="600") for name in ("a", "b"))
    )
    channels = [f"C{i:03d}" for i in range(TENANTS)]
    await world.alerts_in(channels, timeout=30, what="every alert")
    # Many more ticks on both replicas, each ticking every second for every tenant.
    started, before = time.monotonic(), await polls(*replicas)
    await settled(*replicas, polls_more=5)
    after, elapsed = await polls(*replicas), time.monotonic() - started
    for channel in channels:
        assert len(slack.messages(channel)) == 1, channel
    assert len(slack.calls("chat.postMessage")) == TENANTS
    # However the leases fell between the replicas, every tick was polled once at most:
    # two replicas without leases would poll each tenant twice a second.
    most = elapsed / LEASE + 2
    for tenant in (f"t{i}" for i in range(TENANTS)):
        done = after[tenant] - before[tenant]
        assert 5 <= done <= most, (tenant, done, f"{elapsed:.1f} s")

    # One replica dies; the other picks up every tenant and still posts each alert once.
    replicas[0].kill()
    async with httpx.AsyncClient() as client:
        await client.post(f"{urls[0]}/_sim/fault", json={"step": IMPORT_AD, "kind": "fail"})
    await eventually(
        lambda: len(slack.messages("C000")) == 2, timeout=20, what="the new cycle's alert"
    )
    await settled(replicas[1])
    assert len(slack.messages("C000")) == 2
    assert "Traceback" not in replicas[1].log()


def test_replicas_starting_together_migrate_once(postgres_url: str) -> None:
    # Processes, not threads: Alembic's migration context is one per process.
    code = "import sys; from bot.store import Store; Store(sys.argv[1]).migrate()"
    procs = [
        subprocess.Popen([sys.executable, "-c", code, postgres_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=60)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], errors
    store = Store(postgres_url)
    assert store.ping()
    store.dispose()
