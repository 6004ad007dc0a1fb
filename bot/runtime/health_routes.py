"""The health routes: /healthz, /readyz and /metrics on the bot's HTTP server, or /readyz and
/metrics on an operations listener of their own (OPS_PORT), with /healthz on both.

What each answer means is decided in `health`; these handlers measure it and serve it. In HTTP
mode they sit beside Slack's events on one server; in Socket Mode they are the server.
/readyz names every tenant, so with OPS_PORT it is served only there (loopback by default).
Its answer is measured from one read of the store for all tenants and kept for
`READY_FOR` seconds, so a probe every few milliseconds costs one read a second.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web
from apscheduler.schedulers.base import BaseScheduler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.runtime import health
from bot.store import Store, utcnow

READY_FOR = 1.0  # seconds one measured /readyz answer serves


class HealthRoutes:
    """The probes' view of one running bot: its scheduler, its store, Slack's answer to the
    token, and when each tenant was last polled (`seen`, kept up to date by the poller)."""

    def __init__(
        self,
        *,
        scheduler: BaseScheduler,
        store: Store,
        slack: health.SlackAuth,
        tenants: Sequence[str],
        seen: Mapping[str, datetime],
        poll_interval: float,
    ) -> None:
        self.scheduler = scheduler
        self.store = store
        self.slack = slack
        self.tenants = list(tenants)
        self.seen = seen
        self.poll_interval = poll_interval
        self._ready: tuple[float, int, dict[str, Any], str] | None = None
        self._measuring = asyncio.Lock()

    def add_to(self, app: web.Application, *, ops: bool = True) -> web.Application:
        """/healthz always; /readyz and /metrics too unless `ops` is False (they are served
        on a listener of their own)."""
        app.router.add_get("/healthz", self.healthz)
        if ops:
            app.router.add_get("/readyz", self.readyz)
            app.router.add_get("/metrics", self.metrics)
        return app

    async def healthz(self, _request: web.Request) -> web.Response:
        problems = []
        if not self.scheduler.running:
            problems.append("scheduler is not running")
        if not await health.ping(self.store):
            problems.append("database is not reachable")
        status = 503 if problems else 200
        return web.json_response({"ok": not problems, "problems": problems}, status=status)

    async def readyz(self, _request: web.Request) -> web.Response:
        _at, status, _body, text = await self.ready()
        return web.Response(text=text, status=status, content_type="application/json")

    async def ready(self) -> tuple[float, int, dict[str, Any], str]:
        """The readiness verdict (when measured, status, body, body as JSON), measured at most
        once per READY_FOR seconds; probes that come while it is measured share that one."""
        async with self._measuring:
            if self._ready is not None and time.monotonic() - self._ready[0] < READY_FOR:
                return self._ready
            checks = await health.readiness(
                store=self.store,
                slack=self.slack,
                tenants=self.tenants,
                seen=self.seen,
                poll_interval=self.poll_interval,
                now=utcnow(),
            )
            status, body = health.verdict(checks)
            self._ready = (time.monotonic(), status, body, json.dumps(body))
            return self._ready

    async def metrics(self, _request: web.Request) -> web.Response:
        body = generate_latest()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
