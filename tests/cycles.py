"""Building cycles for tests: a cycle is written as the eAdm cycle view reads, step by step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.domain import CORE_STEPS, Snapshot, StepRun, StepState

T0 = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
STEP_MINUTES = 3  # each step of a made-up cycle takes three minutes
STEPS = (*CORE_STEPS, "Export Azure", "Export eFeide")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def cycle(
    states: dict[str, StepState] | None = None,
    *,
    upto: int | None = None,
    message: str | None = None,
    cycle_id: str = "c1",
    start: datetime = T0,
    steps: tuple[str, ...] = STEPS,
    tenant: str = "demo-kommune",
) -> Snapshot:
    """A cycle whose first `upto` steps completed, each STEP_MINUTES long, and the rest as
    `states` says (pending by default). A step in trouble started where the previous ended."""
    states = states or {}
    runs = []
    clock = start
    done = len(steps) if upto is None else upto
    for index, name in enumerate(steps):
        state = states.get(name, StepState.COMPLETED if index < done else StepState.PENDING)
        began = clock if state is not StepState.PENDING and state is not StepState.QUEUED else None
        ended = clock + timedelta(minutes=STEP_MINUTES) if state is StepState.COMPLETED else None
        if state in (StepState.FAILED, StepState.STOPPED):
            ended = clock + timedelta(minutes=1)
        runs.append(
            StepRun(
                name=name,
                state=state,
                started_at=began,
                finished_at=ended,
                message=message if state in (StepState.FAILED, StepState.STOPPED) else None,
            )
        )
        if ended:
            clock = ended
    finished = runs[-1].finished_at if all(r.state is StepState.COMPLETED for r in runs) else None
    return Snapshot(
        tenant=tenant,
        cycle_id=cycle_id,
        started_at=start,
        finished_at=finished,
        steps=tuple(runs),
    )


def end_of(snapshot: Snapshot, name: str) -> datetime:
    run = snapshot.step(name)
    assert run is not None and run.finished_at is not None
    return run.finished_at


def start_of(snapshot: Snapshot, name: str) -> datetime:
    run = snapshot.step(name)
    assert run is not None and run.started_at is not None
    return run.started_at
