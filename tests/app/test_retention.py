"""The daily purge, in-process as the running bot runs it: once a day on one replica, nothing
deleted with RETENTION_DAYS=0, and a year of synthetic history purged while polls (against
the simulator over HTTP) and `/eadm status` go on at their speed.

Measured on the shared two-core development machine (load average about 4.5), SQLite: a year
of three tenants (13,140 cycles, 2,190 alerts with 6,570 messages, 3,665 audit rows) takes
35.9 MB in use, 8.9 MB after the purge, which takes about 3.7 s in 42 batches of 500; polls
took a median 68 ms before it and 69 ms while it ran, `/eadm status` 57 and 64 ms. The larger
year of `bench/retention.py` is in docs/performance.md.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.registry import Adapters
from bot.app.polling import Poller
from bot.app.retention import PAUSE, Purge
from bot.app.usecases import UseCases
from bot.core.settings import Settings, load_settings
from bot.sim.eadm import Scenario, build_app
from bot.sim.slack import SlackDouble
from bot.sources import source_for
from bot.store import Store, utcnow
from bot.store.retention import Kept
from testkit.e2e import serve_app
from testkit.history import Year, row_counts, used_bytes

TENANTS = ("voss", "os", "ulvik")
ADMIN = "UADMIN"


@dataclass
class World:
    settings: Settings
    store: Store
    cases: UseCases
    poller: Poller
    now: datetime = field(default_factory=utcnow)  # the purge's clock


@pytest_asyncio.fixture
async def world(tmp_path: Path, migrated_sqlite_url: str) -> AsyncIterator[World]:
    slack = SlackDouble(users={ADMIN: {"name": "kari"}})
    await slack.start()
    runner, url = await serve_app(build_app(Scenario("ok", (None,)), speed=60))
    config = tmp_path / "tenants.toml"
    config.write_text(
        "".join(
            f'[[tenants]]\nname = "{n}"\neadm_url = "{url}"\nchannel = "C{n.upper()}"\n'
            for n in TENANTS
        ),
        encoding="utf-8",
    )
    settings = load_settings(
        require_slack=False,
        eadm_bot_config=config,
        admin_users=ADMIN,
        database_url=migrated_sqlite_url,
        poll_interval=0.01,  # a lease of 8 ms: the test polls as often as it likes
    )
    store = Store(settings.database_url)
    client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url)
    sources = {t.name: source_for(t, settings.tz) for t in settings.tenants}
    cases = UseCases(settings, store, client, sources, Adapters.resolve(settings.tenants))
    poller = Poller(settings, store, sources, None, owner="test")
    try:
        yield World(settings, store, cases, poller)
    finally:
        await poller.aclose()
        await cases.aclose()
        for source in sources.values():
            await source.aclose()
        store.dispose()
        await runner.cleanup()
        await slack.stop()


def purge(world: World, owner: str = "a", pause: float = 0, **settings: object) -> Purge:
    chosen = world.settings.model_copy(update=settings) if settings else world.settings
    return Purge(chosen, world.store, owner=owner, clock=lambda: world.now, pause=pause)


async def test_the_purge_runs_once_a_day_on_one_replica(world: World) -> None:
    Year(TENANTS[:1], utcnow(), days=120).write(world.store)
    first = await purge(world, "a").run()
    assert first is not None and first.counts[Kept.CYCLES] > 0
    assert await purge(world, "b").run() is None, "another replica, the same day"
    world.now += timedelta(hours=23, seconds=1)
    again = await purge(world, "b").run()
    assert again is not None and again.counts[Kept.CYCLES] == 12, "one more day of cycles"


async def test_retention_days_zero_keeps_everything(world: World) -> None:
    Year(TENANTS[:1], utcnow(), days=120).write(world.store)
    before = row_counts(world.store)
    assert await purge(world, retention_days=0, audit_retention_days=0).run() is None
    assert row_counts(world.store) == before
    kept = await purge(world, retention_days=0).run()  # the audit log alone goes
    assert kept is not None and set(kept.counts) == {Kept.AUDIT}
    assert row_counts(world.store)["cycle"] == before["cycle"]


async def timed(work: object) -> float:
    started = time.perf_counter()
    await work  # type: ignore[misc]
    return time.perf_counter() - started


async def test_a_year_of_history_shrinks_while_polls_and_status_keep_their_speed(
    world: World,
) -> None:
    written = Year(TENANTS, world.now).write(world.store)
    assert written["cycle"] == 3 * 365 * 12 and written["alert"] == 3 * 365 * 2
    tenants = world.settings.tenants

    async def poll_and_ask(rounds: int) -> tuple[list[float], list[float]]:
        polls, asked = [], []
        for index in range(rounds):
            tenant = tenants[index % len(tenants)]
            polls.append(await timed(world.poller.poll(tenant)))
            asked.append(await timed(world.cases.dispatch.command(f"status {tenant.name}", ADMIN)))
            await asyncio.sleep(0.01)
        return polls, asked

    polls_before, status_before = await poll_and_ask(15)
    size_before, rows_before = used_bytes(world.store), row_counts(world.store)

    running = asyncio.create_task(purge(world, pause=PAUSE).run())
    polls_during, status_during = [], []
    while not running.done():
        polls, asked = await poll_and_ask(1)
        polls_during += polls
        status_during += asked
    purged = running.result()
    assert purged is not None

    size_after, rows_after = used_bytes(world.store), row_counts(world.store)
    assert rows_after["cycle"] == pytest.approx(3 * 90 * 12, abs=12)
    assert rows_after["alert"] == pytest.approx(3 * 90 * 2, abs=6)
    # The audit log is kept 365 days: none of this year is older; each status is audited.
    assert rows_after["audit"] == rows_before["audit"] + len(status_during)
    assert size_after < size_before * 0.4, (size_before, size_after)
    assert purged.batches > 20, "small batches, not one long transaction"
    assert polls_during and status_during, "polls and answers went on while it ran"
    for before, during in ((polls_before, polls_during), (status_before, status_during)):
        assert max(during) < 1.0, during
        assert statistics.median(during) < statistics.median(before) * 3 + 0.05
    print(
        f"\npurge {purged.seconds:.2f} s in {purged.batches} batches; used "
        f"{size_before / 1e6:.1f} MB -> {size_after / 1e6:.1f} MB; rows {rows_before} -> "
        f"{rows_after}; poll median {statistics.median(polls_before) * 1000:.0f} ms before, "
        f"{statistics.median(polls_during) * 1000:.0f} ms during (max "
        f"{max(polls_during) * 1000:.0f}); status median "
        f"{statistics.median(status_before) * 1000:.0f} ms before, "
        f"{statistics.median(status_during) * 1000:.0f} ms during (max "
        f"{max(status_during) * 1000:.0f})"
    )
