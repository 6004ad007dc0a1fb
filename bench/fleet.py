"""Many simulated eAdm installations in a process of their own, for bench.scale.

Every tenant gets a loopback port of its own (its own origin, as real tenants have), but the
ports share one simulator and one aiohttp application: a thousand applications cost the
benchmark's own process more than the bot it measures. Being a process of its own, the fleet
never takes the event loop from the benchmark's probes of /healthz and `/eadm status`, and its
CPU time is read apart from the bot's.

Every answer waits EADM_DELAY first. With `--tls CERT KEY` every port speaks HTTPS with that
certificate; `--keepalive` is how long an idle connection is kept open (aiohttp's
keepalive_timeout; IIS, in front of most eAdm installations, keeps one 120 s).

The fleet prints one JSON line once every port listens: {"urls": [...], "control": port}. GET
/polls on the control port answers when each tenant was asked for its current cycle
(time.time(), by tenant index); GET /served says how many requests and connections it took.

    python -m bench.fleet --tenants 1000 [--tls cert.pem key.pem] [--keepalive 120]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import ssl
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.sim.eadm import build_app

EADM_DELAY = 0.1  # seconds each simulated eAdm takes to answer
PORTS_AT_ONCE = 200  # sites started together; thousands at once trip the listen backlog
ANSWERED = web.AppKey("answered", dict)


@dataclass
class Served:
    polls: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    requests: int = 0
    connections: int = 0


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost that is its own CA, made with the openssl
    command (the project has no X.509 library among its dependencies): the bot trusts it
    through SSL_CERT_FILE, which httpx reads."""
    cert, key = folder / "fleet-cert.pem", folder / "fleet-key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=eadm-bench",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


async def run(tenants: int, tls: tuple[str, str] | None, keepalive: float) -> None:
    served = Served()
    app = build_app("healthy", speed=1.0)
    by_port: dict[int, int] = {}

    @web.middleware
    async def slow(request: web.Request, handler: Any) -> web.StreamResponse:
        served.requests += 1
        # aiohttp counts the requests each connection has carried: 1 is a new connection.
        if getattr(request.protocol, "_request_count", 1) <= 1:
            served.connections += 1
        if request.path.endswith("/current"):
            sock = request.transport.get_extra_info("sockname") if request.transport else None
            if sock is not None and sock[1] in by_port:
                served.polls[by_port[sock[1]]].append(time.time())
        await asyncio.sleep(EADM_DELAY)
        return await handler(request)

    app.middlewares.append(slow)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=keepalive)
    await runner.setup()
    context = None
    if tls is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*tls)
    sites = [web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context) for _ in range(tenants)]
    for at in range(0, tenants, PORTS_AT_ONCE):
        await asyncio.gather(*(site.start() for site in sites[at : at + PORTS_AT_ONCE]))
    scheme = "https" if tls else "http"
    urls = []
    for index, site in enumerate(sites):
        server = site._server  # the one public way to a site's bound port is its name
        port = int(server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        by_port[port] = index
        urls.append(f"{scheme}://127.0.0.1:{port}")

    control = web.Application()

    async def polls(_request: web.Request) -> web.Response:
        return web.json_response({str(k): v for k, v in served.polls.items()})

    async def counts(_request: web.Request) -> web.Response:
        return web.json_response({"requests": served.requests, "connections": served.connections})

    control.router.add_get("/polls", polls)
    control.router.add_get("/served", counts)
    control_runner = web.AppRunner(control, access_log=None)
    await control_runner.setup()
    control_site = web.TCPSite(control_runner, "127.0.0.1", 0)
    await control_site.start()
    control_port = int(control_site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    print(json.dumps({"urls": urls, "control": control_port}), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await control_runner.cleanup()
    await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--keepalive", type=float, default=120.0)
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args.tenants, tuple(args.tls) if args.tls else None, args.keepalive)))
