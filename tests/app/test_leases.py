"""Poll leases per group of tenants per tick: two poll jobs on one database (SQLite and
PostgreSQL) never both poll a tenant in a tick, one process asks the store once per group and
tick, and what a process remembers of a tenant is forgotten once another one polled it; the
holder of a group keeps it while it runs, and another process takes it over once it is gone."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app.leases import GROUPS, TickLeases, grace_for, group_of
from bot.core.domain import CORE_STEPS, StepState, snapshot_from_dict
from bot.store import Store
from tests.app.pollworld import (
    START,
    Answers,
    Clock,
    poller,
    running,
    settings_for,
    statements,
    status_server,
    wire,
)

TENANTS = [f"t{i}" for i in range(12)]


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    return str(request.getfixturevalue("postgres_url"))  # skips, saying why, without one


async def test_two_poll_jobs_on_one_database_never_poll_a_tenant_twice_in_a_tick(
    tmp_path: Path, database_url: str
) -> None:
    answers = Answers(current={name: wire(running(3, tenant=name)) for name in TENANTS})
    clock = Clock(START)
    async with status_server(answers) as url:
        settings = settings_for(tmp_path, url, TENANTS, database_url)
        async with poller(settings, clock, "a") as a, poller(settings, clock, "b") as b:
            polled: Counter[tuple[str, int]] = Counter()
            by: Counter[str] = Counter()
            for tick in range(6):
                jobs = [(job, t) for t in settings.tenants for job in (a, b)]
                if tick % 2:
                    jobs.reverse()  # now one, now the other asks first
                done = await asyncio.gather(*(job.poll(t) for job, t in jobs))
                for (job, t), decisions in zip(jobs, done, strict=True):
                    if decisions is not None:
                        polled[(t.name, tick)] += 1
                        by[job.owner] += 1
                clock.next_tick()
            assert set(polled.values()) == {1}
            assert len(polled) == 6 * len(TENANTS)  # every tenant, every tick
            assert sum(answers.reads.values()) == 6 * len(TENANTS)
            assert set(by) <= {"a", "b"}


@pytest.fixture
def sqlite_store(migrated_sqlite_url: str) -> Iterator[Store]:
    store = Store(migrated_sqlite_url)
    yield store
    store.dispose()


async def held_by_a(store: Store, grace: float) -> tuple[TickLeases, TickLeases, Clock, int]:
    """Leases of processes a and b (b waiting `grace` before asking for a group it lost), and
    the first tick, in which a took t1's group and b, asking after it, did not."""
    a, b = TickLeases(store, "a", 60), TickLeases(store, "b", 60, grace=grace)
    clock = Clock(START)
    first = a.tick(clock.now)
    assert await a.take("t1", clock.now) == first
    assert await b.take("t1", clock.now) is None
    return a, b, clock, first


async def test_one_process_asks_the_store_once_per_group_and_tick(sqlite_store: Store) -> None:
    leases = TickLeases(sqlite_store, "a", 60)
    names = [f"tenant-{i}" for i in range(200)]
    later = START + timedelta(seconds=60)
    for name in names:  # the first tick makes each group's row
        assert await leases.take(name, START) is not None
    with statements(sqlite_store) as seen:
        for name in names:
            assert await leases.take(name, later) is not None
    groups = {group_of(name) for name in names}
    assert len(groups) == GROUPS
    assert len([s for s in seen if "job_lease" in s and s.startswith("UPDATE")]) == GROUPS
    assert not [s for s in seen if "tenant_state" in s]  # no heartbeats to carry
    assert leases.held_since(names[0], leases.tick(START))


async def test_a_run_of_ticks_held_is_broken_by_a_tick_another_process_took(
    sqlite_store: Store,
) -> None:
    a = TickLeases(sqlite_store, "a", 60, grace=0.01)
    b = TickLeases(sqlite_store, "b", 60, grace=0.01)
    clock = Clock(START)
    first = a.tick(clock.now)
    assert await a.take("t1", clock.now) == first
    clock.next_tick()
    assert await a.take("t1", clock.now) == first + 1
    assert a.held_since("t1", first)
    clock.next_tick()
    assert await b.take("t1", clock.now) == first + 2
    assert await a.take("t1", clock.now) is None
    assert not a.held_since("t1", first)
    clock.next_tick()
    assert await a.take("t1", clock.now) == first + 3
    assert not a.held_since("t1", first) and a.held_since("t1", first + 3)


async def test_the_holder_keeps_its_group_though_the_other_process_asks_first(
    sqlite_store: Store,
) -> None:
    a, b, clock, first = await held_by_a(sqlite_store, grace=0.5)
    for tick in range(first + 1, first + 4):
        clock.next_tick()
        asking = asyncio.create_task(b.take("t1", clock.now))
        await asyncio.sleep(0)  # b asks first, and waits its grace
        assert await a.take("t1", clock.now) == tick
        assert await asking is None
    assert a.held_since("t1", first)


async def test_a_group_whose_holder_is_gone_is_taken_over_a_grace_late(
    sqlite_store: Store,
) -> None:
    _, b, clock, first = await held_by_a(sqlite_store, grace=0.5)
    clock.next_tick()  # a has stopped: it asks no more
    started = time.monotonic()
    assert await b.take("t1", clock.now) == first + 1
    assert time.monotonic() - started >= 0.5
    clock.next_tick()
    started = time.monotonic()
    assert await b.take("t1", clock.now) == first + 2  # the holder now: at once
    assert time.monotonic() - started < 0.5


def test_the_grace_is_two_seconds_at_most_and_a_twentieth_of_the_interval() -> None:
    assert [grace_for(i) for i in (1.0, 20.0, 40.0, 60.0, 600.0)] == [0.05, 1.0, 2.0, 2.0, 2.0]


async def test_what_was_seen_is_forgotten_once_another_process_polled_the_tenant(
    tmp_path: Path,
) -> None:
    """a writes the cycle; b polls the next tick and writes a new one; the status then shows
    the first again: a must write it, though it is what a last wrote itself."""
    first, second = running(3, tenant="t1"), running(4, tenant="t1")
    answers = Answers(current={"t1": wire(first)})
    clock = Clock(START)
    async with status_server(answers) as url:
        settings = settings_for(tmp_path, url, ["t1"], f"sqlite:///{tmp_path / 'bot.db'}")
        (tenant,) = settings.tenants
        async with poller(settings, clock, "a") as a, poller(settings, clock, "b") as b:
            assert await a.poll(tenant) is not None
            clock.next_tick()
            answers.current["t1"] = wire(second)
            assert await b.poll(tenant) is not None
            assert await a.poll(tenant) is None
            clock.next_tick()
            answers.current["t1"] = wire(first)
            assert await a.poll(tenant) is not None
            state = a.store.tenant_state("t1")
            assert state is not None and state.current_cycle is not None
            shown = snapshot_from_dict(state.current_cycle)
            assert shown.step(CORE_STEPS[3]).state is StepState.RUNNING  # type: ignore[union-attr]
