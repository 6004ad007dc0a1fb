"""A command's lifetime: start, wait for Ctrl-C or SIGTERM (or a set time), stop cleanly. Shared
by `run`, `agent` and `demo`, so none of them imports another's module."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable

log = logging.getLogger("bot")


def run_until_stopped(
    start: Callable[[], Awaitable[object]], stop: Callable[[], Awaitable[None]], duration: float = 0
) -> None:
    """Start, wait for Ctrl-C or SIGTERM (or `duration` seconds), then stop cleanly."""

    async def body() -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            # Windows has no signal handlers in asyncio: Ctrl-C raises KeyboardInterrupt there.
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stopping.set)
        await start()
        try:
            if duration > 0:
                await asyncio.wait_for(stopping.wait(), timeout=duration)
            else:
                await stopping.wait()
        except TimeoutError:
            pass
        finally:
            log.info("stopping")
            await stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(body())
