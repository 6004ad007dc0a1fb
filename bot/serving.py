"""Serving an aiohttp application on a host and port, and learning which port it got.

Port 0 asks the system for any free port, which is how the simulator, the demo and the tests
run side by side; the bound port is read from the runner's public `addresses`, so no caller
reaches into aiohttp's sites for it.

May import: aiohttp only. Every layer above the core may use it (the core may not import
aiohttp).
"""

from __future__ import annotations

from aiohttp import web

AIOHTTP_SHUTDOWN_TIMEOUT = 60.0  # aiohttp's own default: how long open requests get at cleanup
AIOHTTP_BACKLOG = 128  # aiohttp's own default listen backlog


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    shutdown_timeout: float = AIOHTTP_SHUTDOWN_TIMEOUT,
    backlog: int = AIOHTTP_BACKLOG,
) -> tuple[web.AppRunner, int]:
    """Start serving `app`; returns the runner (the caller cleans it up) and the bound port.

    A failure to bind (an OSError: the port is taken) leaves nothing behind.
    """
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, backlog=backlog).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, int(runner.addresses[0][1])
