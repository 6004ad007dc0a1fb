"""The eAdm simulator: serves the status contract over HTTP and plays cycles that go wrong.

Timestamps are real wall-clock times; `speed` compresses how long steps take and how long
the scheduler waits between cycles (at speed 60 a three-minute step takes three seconds), so
the bot under test measures real time against real timestamps. State is computed from the
clock on every request, which keeps it deterministic under a test's `SimClock.advance`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from bot import serving
from bot.core.domain import EXPORT_AD, IMPORT_AD, SYNCHRONIZATION, canonical_step

log = logging.getLogger(__name__)

# Each step and how long it takes, in simulated seconds.
STEP_PLAN: tuple[tuple[str, float], ...] = (
    ("Import HR", 120),
    ("Import HR Future", 60),
    ("Import Hierarchy", 30),
    ("Import AD", 90),
    ("Synchronization", 180),
    ("Export AD", 120),
    ("Import AD Results", 30),
    ("Export Azure", 60),
    ("Export eFeide", 45),
)
STEPS = tuple(name for name, _ in STEP_PLAN)
GAP = 30 * 60  # simulated seconds between the end of one cycle and the start of the next

ERRORS: dict[str, str] = {
    "Import HR": "Visma HRM Enterprise answered 500 Internal Server Error on /hrm/v2/employees",
    "Import HR Future": "Timeout after 300 s reading future employments from the HR system",
    "Import Hierarchy": "Organisation unit 4410 has parent 9999, which does not exist",
    "Import AD": "LDAP bind failed: 80090308: LdapErr: DSID-0C09044E, data 52e",
    "Synchronization": "Rule 'Ansatt-grunnpakke' threw NullReferenceException for person 1012",
    "Export AD": "Client did not answer: the connection to eAdm client on EADM01 timed out",
    "Import AD Results": "No result file from the client for export batch 8812",
    "Export Azure": "Microsoft Graph answered 403 Authorization_RequestDenied",
    "Export eFeide": "Feide API rejected the batch: 401 invalid_token",
}
THRESHOLD_MESSAGE = (
    "Import filter stopped the synchronization: 14.2 % of users would be deleted "
    "(limit 10 %). Review Import History and resume the cycle."
)


@dataclass(frozen=True)
class Fault:
    step: str
    kind: str  # fail | stuck | not_started | safety_threshold
    message: str | None = None
    hold: float | None = None  # simulated seconds until it clears by itself; None: never


@dataclass
class Cycle:
    start: datetime
    fault: Fault | None = None


@dataclass(frozen=True)
class Scenario:
    about: str
    plan: tuple[Fault | None, ...]  # faults of successive cycles, repeated
    more_cycles: bool = True  # False: after the first cycle, none follows
    api: str = "up"  # up | down | garbage


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def _scenarios() -> dict[str, Scenario]:
    found: dict[str, Scenario] = {
        "healthy": Scenario("every cycle completes", (None,)),
        "tour": Scenario(
            "a bit of everything, with recoveries in between (the demo)",
            (
                None,
                Fault(EXPORT_AD, "fail"),
                None,
                Fault(SYNCHRONIZATION, "safety_threshold", hold=40 * 60),
                Fault(IMPORT_AD, "not_started", hold=30 * 60),
                None,
            ),
        ),
        "safety-threshold": Scenario(
            "Synchronization stopped by the import filter (too many deletions)",
            (Fault(SYNCHRONIZATION, "safety_threshold"),),
        ),
        "no-new-cycle": Scenario("one cycle completes, then none starts", (None,), False),
        "api-down": Scenario("the status API answers 503", (None,), api="down"),
        "garbage": Scenario("the status API answers 200 with broken JSON", (None,), api="garbage"),
    }
    for name in STEPS:
        found[f"fail:{_slug(name)}"] = Scenario(
            f"{name} fails in every cycle", (Fault(name, "fail"),)
        )
        found[f"not-started:{_slug(name)}"] = Scenario(
            f"{name} never starts after the step before it", (Fault(name, "not_started"),)
        )
        found[f"stuck:{_slug(name)}"] = Scenario(
            f"{name} starts and never completes", (Fault(name, "stuck"),)
        )
    return found


SCENARIOS_FULL = _scenarios()
SCENARIOS: dict[str, str] = {name: s.about for name, s in SCENARIOS_FULL.items()}


def find_scenario(name: str) -> Scenario:
    key = name.strip().lower()
    if ":" in key:
        kind, step = key.split(":", 1)
        key = f"{kind}:{_slug(canonical_step(step.replace('-', ' ')))}"
    if key not in SCENARIOS_FULL:
        raise ValueError(
            f"unknown scenario {name!r}; choose one of: {', '.join(sorted(SCENARIOS_FULL))}"
        )
    return SCENARIOS_FULL[key]


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


def _iso(value: datetime | None) -> str | None:
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
            step["started_at"] = _iso(t)
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
                        finished_at=_iso(failed_at),
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
                    step["started_at"] = _iso(resumed_at)
                    end = resumed_at + self.real(duration * 2 / 3)
            if now < end:
                step["state"] = "running"
                blocked = True
                continue
            step.update(state="completed", finished_at=_iso(end))
            t = end
        if not blocked:
            ended = t
        finished = t if not blocked else None
        data = {
            "tenant": "demo-kommune",
            "cycle_id": cycle_id(cycle.start),
            "started_at": _iso(cycle.start),
            "finished_at": _iso(finished),
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


# -- HTTP ---------------------------------------------------------------------------------------

SIM_KEY = web.AppKey("simulation", Simulation)


def build_app(
    scenario_name: str | Scenario = "tour",
    speed: float = 60.0,
    *,
    token: str | None = None,
    clock: SimClock | None = None,
) -> web.Application:
    chosen = scenario_name if isinstance(scenario_name, Scenario) else find_scenario(scenario_name)
    sim = Simulation(chosen, speed=speed, clock=clock or SimClock())
    app = web.Application(middlewares=[_auth(token), _api_mode])
    app[SIM_KEY] = sim
    app.router.add_get("/api/v1/sync/cycles/current", _current)
    app.router.add_get("/api/v1/sync/cycles", _cycles)
    app.router.add_post("/api/v1/sync/run", _run)
    app.router.add_post("/_sim/fault", _fault)
    app.router.add_post("/_sim/scenario", _scenario)
    app.router.add_post("/_sim/advance", _advance)
    app.router.add_post("/_sim/api", _api)
    app.router.add_get("/_sim/state", _state)
    return app


def _auth(token: str | None) -> Any:
    @web.middleware
    async def middleware(request: web.Request, handler: Any) -> web.StreamResponse:
        guarded = token and request.path.startswith("/api/")
        if guarded and request.headers.get("Authorization") != f"Bearer {token}":
            return web.json_response({"error": "missing or wrong bearer token"}, status=401)
        return await handler(request)

    return middleware


@web.middleware
async def _api_mode(request: web.Request, handler: Any) -> web.StreamResponse:
    sim = request.app[SIM_KEY]
    if request.path.startswith("/api/") and sim.api == "down":
        return web.json_response({"error": "service unavailable"}, status=503)
    if request.path.startswith("/api/") and sim.api == "garbage":
        return web.Response(
            text='{"cycle_id": "c-1", "steps": [{"name": ',
            status=200,
            content_type="application/json",
        )
    return await handler(request)


async def _current(request: web.Request) -> web.Response:
    return web.json_response(request.app[SIM_KEY].current())


async def _cycles(request: web.Request) -> web.Response:
    try:
        limit = max(1, min(100, int(request.query.get("limit", "10"))))
    except ValueError:
        return web.json_response({"error": "limit must be a whole number"}, status=400)
    return web.json_response(request.app[SIM_KEY].history(limit))


async def _run(request: web.Request) -> web.Response:
    status, body = request.app[SIM_KEY].start_cycle()
    return web.json_response(body, status=status)


async def json_object(request: web.Request) -> dict[str, Any]:
    """A control request's body as a JSON object, or a 400 that asks for one (the simulator's
    requests and the demo page's alike)."""
    try:
        data = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(text="send a JSON object") from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(text="send a JSON object")
    return data


async def _fault(request: web.Request) -> web.Response:
    data = await json_object(request)
    try:
        request.app[SIM_KEY].inject(str(data["step"]), str(data["kind"]), data.get("message"))
    except (KeyError, ValueError) as exc:
        return web.json_response({"error": str(exc)}, status=400)
    return web.json_response({"ok": True})


async def _scenario(request: web.Request) -> web.Response:
    data = await json_object(request)
    sim = request.app[SIM_KEY]
    try:
        sim.scenario = find_scenario(str(data.get("name", "")))
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
    sim.api = sim.scenario.api
    sim._plan_index = 0
    return web.json_response({"ok": True})


async def _advance(request: web.Request) -> web.Response:
    data = await json_object(request)
    request.app[SIM_KEY].clock.advance(float(data.get("seconds", 0)))
    return web.json_response({"ok": True})


async def _api(request: web.Request) -> web.Response:
    data = await json_object(request)
    sim = request.app[SIM_KEY]
    if "mode" in data:
        if data["mode"] not in ("up", "down", "garbage"):
            return web.json_response({"error": "mode is up, down or garbage"}, status=400)
        sim.api = data["mode"]
    if "run_starts_cycle" in data:
        sim.run_starts_cycle = bool(data["run_starts_cycle"])
    return web.json_response({"ok": True})


async def _state(request: web.Request) -> web.Response:
    sim = request.app[SIM_KEY]
    return web.json_response(
        {
            "api": sim.api,
            "speed": sim.speed,
            "cycles": len(sim.cycles),
            "runs": sim.runs,
            "now": _iso(sim.clock.now()),
        }
    )


async def serve(host: str, port: int, **kwargs: Any) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner (for cleanup) and the bound port."""
    return await serving.serve(build_app(**kwargs), host, port)


def run(
    host: str, port: int, *, scenario: str = "tour", speed: float = 60.0, token: str | None = None
) -> None:
    """Serve until Ctrl-C or SIGTERM."""
    find_scenario(scenario)  # fail early, before binding, on an unknown name

    async def main() -> None:
        runner, bound = await serve(host, port, scenario_name=scenario, speed=speed, token=token)
        print(f"eAdm simulator on http://{host}:{bound} playing '{scenario}' at speed {speed:g}")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


__all__ = ["SCENARIOS", "SimClock", "build_app", "find_scenario", "run", "serve"]
