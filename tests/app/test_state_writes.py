"""Changed tenant states are written a second's worth at a time: the poll job against a real
SQLite store and a status server over HTTP, its statements counted. Nothing is lost or
reordered: a failed poll, the history and the cycles read back see every poll before them,
a write the database refused is tried again, and closing the poller writes what waits."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from bot.app.polling import Poller
from bot.app.state_writes import StateWrites
from bot.core.domain import CORE_STEPS, Snapshot, StepState, snapshot_from_dict
from bot.core.lifecycle import Open
from bot.core.settings import Tenant
from bot.store import Store
from testkit.e2e import eventually
from tests.app.pollworld import (
    INTERVAL,
    START,
    Answers,
    Clock,
    polling,
    running,
    statements,
    wire,
)
from tests.cycles import at, cycle

TENANTS = ["t1", "t2", "t3"]


def shown_step(store: Store, tenant: str) -> StepState | None:
    state = store.tenant_state(tenant)
    if state is None or state.current_cycle is None:
        return None
    run = snapshot_from_dict(state.current_cycle).step(CORE_STEPS[4])
    return run.state if run is not None else None


async def a_change_waiting(
    job: Poller, answers: Answers, clock: Clock, seconds: float = INTERVAL
) -> Tenant:
    """t1 polled, then polled again `seconds` later with its step further on: the changed
    state waits for its second, not written yet."""
    (tenant,) = job.settings.tenants
    await job.poll(tenant)
    answers.current["t1"] = wire(running(4, tenant="t1"))
    clock.next_tick(seconds)
    await job.poll(tenant)
    assert job.writes.pending("t1")
    return tenant


async def test_a_seconds_changed_states_go_in_one_transaction(tmp_path: Path) -> None:
    answers = Answers(current={t: wire(running(3, tenant=t)) for t in TENANTS})
    clock = Clock(START)
    async with polling(tmp_path, answers, clock) as job:
        for tenant in job.settings.tenants:
            await job.poll(tenant)
        await job.flush()
        for name in TENANTS:
            answers.current[name] = wire(running(4, tenant=name))
        clock.next_tick()
        with statements(job.store) as seen:
            for tenant in job.settings.tenants:
                await job.poll(tenant)
        assert not [s for s in seen if "tenant_state" in s or "cycle" in s]
        assert shown_step(job.store, "t1") is StepState.PENDING, "not written yet"
        commits: list[object] = []
        count = commits.append
        sa.event.listen(job.store.engine, "commit", count)
        with statements(job.store) as seen:
            await job.flush()
        sa.event.remove(job.store.engine, "commit", count)
        states = [s for s in seen if s.startswith("UPDATE tenant_state")]
        assert len(states) == len(TENANTS)
        assert len(commits) == 1, "one transaction for the three"
        for name in TENANTS:
            assert shown_step(job.store, name) is StepState.RUNNING


async def test_a_changed_state_is_written_within_a_second_unasked(tmp_path: Path) -> None:
    answers = Answers(current={"t1": wire(running(3, tenant="t1"))})
    clock = Clock(START)
    async with polling(tmp_path, answers, clock) as job:
        await a_change_waiting(job, answers, clock)
        await eventually(
            lambda: shown_step(job.store, "t1") is StepState.RUNNING,
            timeout=5,
            what="the changed state in the store",
        )
        assert not job.writes.pending("t1")


async def test_a_failed_poll_comes_after_the_success_still_waiting(tmp_path: Path) -> None:
    answers = Answers(current={"t1": wire(running(3, tenant="t1"))})
    clock = Clock(START)
    async with polling(tmp_path, answers, clock) as job:
        tenant = await a_change_waiting(job, answers, clock, seconds=1)
        answers.current["t1"] = {"not": "a cycle"}
        clock.next_tick(seconds=1)
        await job.poll(tenant)
        state = job.store.tenant_state("t1")
        assert state is not None
        assert state.failing_since == clock.now, "the failure is the newest word"
        assert shown_step(job.store, "t1") is StepState.RUNNING, "the success before it too"
        assert not job.writes.pending("t1")


async def test_closing_the_poller_writes_what_waits(tmp_path: Path) -> None:
    answers = Answers(current={"t1": wire(running(3, tenant="t1"))})
    clock = Clock(START)
    async with polling(tmp_path, answers, clock) as job:
        await a_change_waiting(job, answers, clock)
        database = job.settings.database_url
    store = Store(database)
    try:
        assert shown_step(store, "t1") is StepState.RUNNING
    finally:
        store.dispose()


class Refusing(Store):
    """A real store that refuses the first `refusals` batches, as a database away would."""

    def __init__(self, url: str, refusals: int) -> None:
        super().__init__(url)
        self.refusals = refusals
        self.batches: list[list[str]] = []

    def record_successes(self, polls: Sequence[tuple[str, Snapshot, datetime]]) -> None:
        if self.refusals:
            self.refusals -= 1
            raise OperationalError("UPDATE tenant_state", {}, Exception("database is locked"))
        self.batches.append([f"{tenant}:{snapshot.cycle_id}" for tenant, snapshot, _ in polls])
        super().record_successes(polls)


async def test_a_refused_write_is_kept_and_tried_again_before_newer_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Refusing(f"sqlite:///{tmp_path / 'bot.db'}", refusals=2)
    store.migrate()
    writes = StateWrites(store, every=0.05)
    try:
        first = running(3, tenant="t1", cycle_id="c-1")
        newer = running(4, tenant="t1", cycle_id="c-1")
        writes.add("t1", first, at(0))
        writes.add("t2", running(3, tenant="t2", cycle_id="c-9"), at(0))
        with pytest.raises(OperationalError):
            await writes.flush()
        writes.add("t1", newer, at(60))  # the same cycle again: replaces the one waiting
        writes.add("t1", running(0, tenant="t1", cycle_id="c-2"), at(120))  # a new cycle
        await eventually(lambda: store.batches, timeout=5, what="the write tried again")
        assert store.batches == [["t2:c-9", "t1:c-1", "t1:c-2"]]
        assert "nothing is dropped" in caplog.text
        state = store.tenant_state("t1")
        assert state is not None and state.current_cycle is not None
        assert snapshot_from_dict(state.current_cycle).cycle_id == "c-2", "the newest poll last"
        (kept,) = [c for c in store.recent_cycles("t1") if c.cycle_id == "c-1"]
        assert kept.step(CORE_STEPS[4]).state is StepState.RUNNING  # type: ignore[union-attr]
        assert store.tenant_state("t2") is not None
    finally:
        await writes.aclose()
        store.dispose()


async def test_a_poll_with_news_writes_its_state_before_the_news_goes_out(tmp_path: Path) -> None:
    """`/eadm status`, asked about an alert just told, shows the cycle the alert is about."""
    answers = Answers(current={"t1": wire(running(3, tenant="t1"))})
    clock = Clock(START)
    async with polling(tmp_path, answers, clock) as job:
        (tenant,) = job.settings.tenants
        await job.poll(tenant)
        failed = cycle({CORE_STEPS[4]: StepState.FAILED}, upto=4, tenant="t1")
        answers.current["t1"] = wire(failed)
        clock.next_tick()
        decisions = await job.poll(tenant)
        assert any(isinstance(d, Open) for d in decisions or [])
        assert not job.writes.pending("t1")
        assert shown_step(job.store, "t1") is StepState.FAILED
