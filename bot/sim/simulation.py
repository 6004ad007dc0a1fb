"""The simulated eAdm: cycles that follow each other by the scheduler's gap and play their
faults, rendered as the status contract shows them at a moment.

Timestamps are real wall-clock times; `speed` compresses how long steps take and how long
the scheduler waits between cycles (at speed 60 a three-minute step takes three seconds), so
the bot under test measures real time against real timestamps. State is computed from the
clock on every request, which keeps it deterministic under a test's `SimClock.advance`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.domain import canonical_step
from bot.sim.scenarios import ERRORS, GAP, STEP_PLAN, THRESHOLD_MESSAGE, Fault, Scenario


@dataclass
class Cycle:
    start: datetime
    fault: Fault | None = None


class SimClock:
    """Wall-clock time, which a test may move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


def cycle_id(start: datetime) -> str:
    return f"c-{start:%Y-%m-%dT%H:%M:%S}Z"


def iso(value: datetime | None) -> str | None:
    """A time as the status contract writes it (ISO 8601, Z for UTC)."""
    return value.isoformat().replace("+00:00", "Z") if value else None


@dataclass
class Simulation:
    scenario: Scenario
    speed: float = 60.0
    clock: SimClock = field(default_factory=SimClock)
    api: str = "up"
    run_starts_cycle: bool = True
    cycles: list[Cycle] = field(default_factory=list)
    _plan_index: int = 0
    runs: int = 0

    def __post_init__(self) -> None:
        self.api = self.scenario.api
        self.cycles.append(Cycle(self.clock.now(), self._next_fault()))

    def real(self, simulated: float) -> timedelta:
        return timedelta(seconds=simulated / self.speed)

    def play(self, scenario: Scenario) -> None:
        """Play `scenario` from its first fault on, from the next cycle (the API's mode at
        once)."""
        self.scenario = scenario
        self.api = scenario.api
        self._plan_index = 0

    def _next_fault(self) -> Fault | None:
        plan = self.scenario.plan
        fault = plan[self._plan_index % len(plan)]
        self._plan_index += 1
        return fault

    # -- the state at `now` ------------------------------------------------------------------

    def render(self, cycle: Cycle, now: datetime) -> tuple[dict[str, Any], datetime | None]:
        """The cycle as the contract shows it at `now`, and when it ended (None: not yet)."""
        steps: list[dict[str, Any]] = []
        t = cycle.start
        blocked = False
        ended: datetime | None = None
        for name, duration in STEP_PLAN:
            fault = cycle.fault if cycle.fault and cycle.fault.step == name else None
            step: dict[str, Any] = {
                "name": name,
                "state": "pending",
                "started_at": None,
                "finished_at": None,
                "message": None,
            }
            steps.append(step)
            if blocked:
                continue
            if fault and fault.kind == "not_started":
                if fault.hold is None or now < t + self.real(fault.hold):
                    step["state"] = "queued"
                    blocked = True
                    continue
                t += self.real(fault.hold)
            if now < t:
                blocked = True
                continue
            step["started_at"] = iso(t)
            end = t + self.real(duration)
            if fault and fault.kind == "stuck":
                if fault.hold is None or now < t + self.real(fault.hold):
                    step["state"] = "running"
                    blocked = True
                    continue
                end = t + self.real(fault.hold)
            elif fault and fault.kind == "fail":
                failed_at = t + self.real(duration / 2)
                if now >= failed_at:
                    step.update(
                        state="failed",
                        finished_at=iso(failed_at),
                        message=fault.message or ERRORS.get(name, "Unexpected error"),
                    )
                    ended = failed_at
                else:
                    step["state"] = "running"
                blocked = True
                continue
            elif fault and fault.kind == "safety_threshold":
                stopped_at = t + self.real(duration / 3)
                resumed_at = stopped_at + self.real(fault.hold) if fault.hold else None
                if now >= stopped_at and (resumed_at is None or now < resumed_at):
                    step.update(state="stopped", message=fault.message or THRESHOLD_MESSAGE)
                    blocked = True
                    continue
                if resumed_at is not None:
                    # Resumed from the portal: eAdm shows the step running again from then.
                    step["started_at"] = iso(resumed_at)
                    end = resumed_at + self.real(duration * 2 / 3)
            if now < end:
                step["state"] = "running"
                blocked = True
                continue
            step.update(state="completed", finished_at=iso(end))
            t = end
        if not blocked:
            ended = t
        finished = t if not blocked else None
        data = {
            "tenant": "demo-kommune",
            "cycle_id": cycle_id(cycle.start),
            "started_at": iso(cycle.start),
            "finished_at": iso(finished),
            "steps": steps,
        }
        return data, ended

    def advance_cycles(self, now: datetime) -> None:
        """Start the cycles the scheduler would have started by `now`."""
        while self.scenario.more_cycles:
            _, ended = self.render(self.cycles[-1], now)
            if ended is None:
                return
            start = ended + self.real(GAP)
            if start > now:
                return
            self.cycles.append(Cycle(start, self._next_fault()))

    def current(self) -> dict[str, Any]:
        now = self.clock.now()
        self.advance_cycles(now)
        return self.render(self.cycles[-1], now)[0]

    def history(self, limit: int) -> list[dict[str, Any]]:
        now = self.clock.now()
        self.advance_cycles(now)
        return [self.render(c, now)[0] for c in reversed(self.cycles[-limit:])]

    def start_cycle(self) -> tuple[int, dict[str, Any]]:
        """A sync started by hand: refused while a step runs, as the vendor warns."""
        now = self.clock.now()
        self.advance_cycles(now)
        data = self.current()
        if any(s["state"] == "running" for s in data["steps"]):
            return 409, {"error": "a synchronization cycle is running; wait for it to finish"}
        self.runs += 1
        if not self.run_starts_cycle:
            return 202, {"accepted": True, "cycle_id": None}
        cycle = Cycle(now, None)  # a hand-started cycle runs clean
        self.cycles.append(cycle)
        return 202, {"accepted": True, "cycle_id": cycle_id(now)}

    def inject(self, step: str, kind: str, message: str | None = None) -> None:
        """A fault in the running cycle (or the next one, if it has ended)."""
        now = self.clock.now()
        self.advance_cycles(now)
        fault = Fault(canonical_step(step), kind, message)
        if kind not in ("fail", "stuck", "not_started", "safety_threshold"):
            raise ValueError(f"unknown fault kind {kind!r}")
        _, ended = self.render(self.cycles[-1], now)
        if ended is None:
            self.cycles[-1].fault = fault
        else:
            self.cycles.append(Cycle(now, fault))
