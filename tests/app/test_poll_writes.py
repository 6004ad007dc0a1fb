"""A poll that changed nothing writes nothing: the poll job against a real SQLite store and a
status server over HTTP, its statements counted. A changed status is written, the heartbeat
keeps every tenant's last poll in the store for readiness, normal durations are learned again
when a cycle completes, and the alert transaction runs only when news or a timer is due."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.core.domain import CORE_STEPS, StepState, snapshot_from_dict
from bot.core.lifecycle import Keep, Open, Remind
from tests import store_rows
from tests.app.pollworld import (
    START,
    Answers,
    Clock,
    polling,
    running,
    statements,
    wire,
)
from tests.cycles import at, cycle


def writes(seen: list[str]) -> list[str]:
    return [s for s in seen if not s.upper().startswith("SELECT")]


def touching(seen: list[str], table: str) -> list[str]:
    return [s for s in seen if f" {table} " in f" {s} " or f" {table}." in s]


async def test_a_poll_of_an_unchanged_status_writes_nothing_but_its_heartbeat(
    tmp_path: Path,
) -> None:
    answers = Answers(current={"t1": wire(running(3, tenant="t1"))})
    clock = Clock(START)
    async with polling(tmp_path, answers, clock) as job:
        (tenant,) = job.settings.tenants
        assert await job.poll(tenant) == []  # the first poll writes the state
        clock.next_tick()
        with statements(job.store) as seen:
            assert await job.poll(tenant) == []
        # One statement for the tick's lease; no read, no state, no cycle, no alerts.
        assert [s.split()[0:2] for s in seen] == [["UPDATE", "job_lease"]]
        clock.next_tick()
        with statements(job.store) as seen:
            await job.poll(tenant)
        # The next tick's lease carries the last poll's heartbeat.
        assert [s.split()[0:2] for s in seen] == [
            ["UPDATE", "tenant_state"],
            ["UPDATE", "job_lease"],
        ]
        assert job.store.last_polls() == {"t1": START + timedelta(seconds=60)}
        assert answers.reads["t1"] == 3


async def test_a_changed_status_is_written_and_status_reads_it(tmp_path: Path) -> None:
    answers = Answers(current={"t1": wire(running(3, tenant="t1"))})
    clock = Clock(START)
    async with polling(tmp_path, answers, clock) as job:
        (tenant,) = job.settings.tenants
        await job.poll(tenant)
        answers.current["t1"] = wire(running(4, tenant="t1"))
        clock.next_tick(seconds=180)
        with statements(job.store) as seen:
            await job.poll(tenant)
        assert touching(writes(seen), "tenant_state") and touching(writes(seen), "cycle")
        state = job.store.tenant_state("t1")
        assert state is not None and state.current_cycle is not None
        shown = snapshot_from_dict(state.current_cycle)
        assert shown.step(CORE_STEPS[4]).state is StepState.RUNNING  # type: ignore[union-attr]
        assert state.last_poll_at == clock.now
        (stored,) = job.store.recent_cycles("t1")
        assert stored.step(CORE_STEPS[3]).state is StepState.COMPLETED  # type: ignore[union-attr]


async def test_an_unchanged_cycle_is_written_again_after_an_hour(tmp_path: Path) -> None:
    answers = Answers(current={"t1": wire(cycle(tenant="t1"))})
    clock = Clock(START)
    async with polling(tmp_path, answers, clock, cycle_due_after=86400) as job:
        (tenant,) = job.settings.tenants
        await job.poll(tenant)
        clock.next_tick(seconds=3600)
        with statements(job.store) as seen:
            await job.poll(tenant)
        assert touching(writes(seen), "cycle")


async def test_normal_durations_are_learned_again_when_a_cycle_completes(tmp_path: Path) -> None:
    answers = Answers(current={"t1": wire(running(3, tenant="t1"))})
    clock = Clock(START)
    async with polling(tmp_path, answers, clock) as job:
        (tenant,) = job.settings.tenants

        async def cycle_reads() -> int:
            with statements(job.store) as seen:
                await job.poll(tenant)
            clock.next_tick()
            # The read of recent cycles (the write of a changed one reads its own row).
            return len([s for s in seen if "ORDER BY cycle.started_at DESC" in s])

        assert await cycle_reads() == 1  # the first poll learns them
        assert await cycle_reads() == 0  # unchanged
        answers.current["t1"] = wire(running(5, tenant="t1"))
        assert await cycle_reads() == 0  # a step done: the stored cycles' durations hold
        answers.current["t1"] = wire(cycle(tenant="t1"))
        assert await cycle_reads() == 1  # the cycle completed
        assert await cycle_reads() == 0
        answers.current["t1"] = wire(running(1, tenant="t1", cycle_id="c2", start=at(40)))
        assert await cycle_reads() == 1  # a new cycle


async def test_the_alert_transaction_runs_only_for_news_or_a_timer_due(tmp_path: Path) -> None:
    failed = cycle({"Export AD": StepState.FAILED}, upto=5, message="LDAP error 52", tenant="t1")
    answers = Answers(current={"t1": wire(failed)})
    clock = Clock(START)
    async with polling(tmp_path, answers, clock, remind_after=600) as job:
        (tenant,) = job.settings.tenants
        decisions = await job.poll(tenant)
        assert [type(d) for d in decisions or []] == [Open]
        (alert,) = store_rows.alerts(job.store)
        for _ in range(8):  # nothing new, no reminder due for ten minutes
            clock.next_tick()
            with statements(job.store) as seen:
                decisions = await job.poll(tenant)
            assert decisions == [Keep(alert.id, decisions[0].finding)]  # type: ignore[union-attr]
            assert not touching(seen, "alert"), seen
        clock.next_tick(seconds=120)  # ten minutes since it was shown: a reminder is due
        with statements(job.store) as seen:
            decisions = await job.poll(tenant)
        assert Remind(alert.id) in (decisions or [])
        assert touching(seen, "alert") and touching(writes(seen), "outbox")
        kinds = [(m.kind, (m.payload or {}).get("msg")) for m in store_rows.messages(job.store)]
        assert kinds == [("post", None), ("reply", "reply.reminder")]
        clock.next_tick()
        with statements(job.store) as seen:
            await job.poll(tenant)
        assert not touching(seen, "alert")  # the next reminder is ten minutes off again
