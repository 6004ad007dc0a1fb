"""The eAdm simulator over HTTP: the status contract, the run endpoint the real API lacks,
and the controls a test or the demo uses to steer it (`/_sim/...`).

What it plays lives in `scenarios`, how a cycle unfolds in `simulation`; this module serves
them. The names tests and the demo use are exported here as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from typing import Any

from aiohttp import web

from bot import serving
from bot.sim.scenarios import (
    ERRORS,
    GAP,
    SCENARIOS,
    STEP_PLAN,
    STEPS,
    THRESHOLD_MESSAGE,
    Fault,
    Scenario,
    find_scenario,
)
from bot.sim.simulation import SimClock, Simulation, iso

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
        sim.play(find_scenario(str(data.get("name", ""))))
    except ValueError as exc:
        return web.json_response({"error": str(exc)}, status=400)
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
            "now": iso(sim.clock.now()),
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


__all__ = [
    "ERRORS",
    "GAP",
    "SCENARIOS",
    "STEPS",
    "STEP_PLAN",
    "THRESHOLD_MESSAGE",
    "Fault",
    "Scenario",
    "SimClock",
    "Simulation",
    "build_app",
    "find_scenario",
    "json_object",
    "run",
    "serve",
]
