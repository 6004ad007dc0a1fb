"""Each tenant is polled at its own moment of every tick, the same in every process, so a group
of leases passing between replicas never leaves a tenant unpolled for longer than an interval."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app.leases import tick_of
from bot.runtime.poll_clock import OnTheClock, phase_of

T0 = datetime(2026, 12, 2, 6, 0, 0, 250_000, tzinfo=UTC)


def fire_times(trigger: OnTheClock, count: int) -> list[datetime]:
    times: list[datetime] = []
    previous = None
    for _ in range(count):
        nxt = trigger.get_next_fire_time(previous, previous or T0)
        assert nxt is not None
        times.append(nxt)
        previous = nxt
    return times


@pytest.mark.parametrize("interval", [1.0, 2.5, 60.0, 600.0])
def test_a_tenants_phase_is_within_the_tick_and_the_same_everywhere(interval: float) -> None:
    phases = [phase_of(f"kommune-{i}", interval) for i in range(2000)]
    assert all(0 <= p < interval for p in phases)
    assert phases == [phase_of(f"kommune-{i}", interval) for i in range(2000)]
    # Spread over the whole tick: every tenth of it has some of them.
    assert {int(p / interval * 10) for p in phases} == set(range(10))


@pytest.mark.parametrize(
    ("interval", "first_after"),
    [(60.0, 0.0), (60.0, 29.9), (60.0, 59.0), (1.0, 0.3), (600.0, 1.0)],
)
def test_polls_after_the_first_are_one_interval_apart_one_in_each_tick(
    interval: float, first_after: float
) -> None:
    phase = phase_of("voss", interval)
    first = T0 + timedelta(seconds=first_after)
    times = fire_times(OnTheClock(interval, phase, first), 12)
    assert times[0] == first
    second = (times[1] - times[0]).total_seconds()
    assert interval / 2 <= second <= interval * 1.5
    for earlier, later in itertools.pairwise(times[1:]):
        assert (later - earlier).total_seconds() == pytest.approx(interval)
    assert all(t.timestamp() % interval == pytest.approx(phase, abs=1e-4) for t in times[1:])
    ticks = [tick_of(t, interval) for t in times[1:]]
    assert ticks == list(range(ticks[0], ticks[0] + len(ticks)))


def test_replicas_started_apart_poll_a_tenant_at_the_same_moments() -> None:
    interval, phase = 60.0, phase_of("bergen", 60.0)
    one = fire_times(OnTheClock(interval, phase, T0 + timedelta(seconds=3)), 8)
    other = fire_times(OnTheClock(interval, phase, T0 + timedelta(seconds=97)), 5)
    assert set(other[1:]) <= set(one[1:])  # after its first poll, each moment is the other's


def test_a_scheduler_behind_its_time_runs_the_poll_once_and_keeps_the_moment() -> None:
    interval, phase = 60.0, 12.5
    trigger = OnTheClock(interval, phase, T0)
    late = T0 + timedelta(seconds=200)  # the event loop was held up past several moments
    previous = T0
    due = []
    while (nxt := trigger.get_next_fire_time(previous, late)) is not None and nxt <= late:
        due.append(nxt)
        previous = nxt
    assert len(due) == 3  # what APScheduler coalesces into one run
    assert nxt is not None and nxt > late
    assert nxt.timestamp() % interval == pytest.approx(phase, abs=1e-4)


def test_a_phase_outside_the_tick_is_refused() -> None:
    with pytest.raises(ValueError, match="not within an interval"):
        OnTheClock(60.0, 60.0, T0)


async def test_the_scheduler_takes_the_trigger_and_polls_first_at_first() -> None:
    scheduler = AsyncIOScheduler(timezone=UTC)
    first = datetime.now(UTC) + timedelta(hours=1)
    scheduler.start(paused=True)
    try:
        job = scheduler.add_job(lambda: None, OnTheClock(60.0, phase_of("t", 60.0), first))
        assert job.next_run_time == first
    finally:
        scheduler.shutdown(wait=False)
