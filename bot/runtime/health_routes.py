"""The health routes: /healthz, /readyz and /metrics on the bot's HTTP server.

What each answer means is decided in `health`; these handlers measure it and serve it. In HTTP
mode they sit beside Slack's events on one server; in Socket Mode they are the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from aiohttp import web
from apscheduler.schedulers.base import BaseScheduler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.runtime import health
from bot.store import Store, utcnow


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

    def add_to(self, app: web.Application) -> web.Application:
        app.router.add_get("/healthz", self.healthz)
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
        checks = await health.readiness(
            store=self.store,
            slack=self.slack,
            tenants=self.tenants,
            seen=self.seen,
            poll_interval=self.poll_interval,
            now=utcnow(),
        )
        status, body = health.verdict(checks)
        return web.json_response(body, status=status)

    async def metrics(self, _request: web.Request) -> web.Response:
        body = generate_latest()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
