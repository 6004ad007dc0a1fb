"""The running bot: assembles settings, store, sources, adapters, use cases, Slack and the
scheduler into one process, and schedules its jobs.

`Bot` owns every long-lived object and their start and stop order. The decisions live
elsewhere (detect, lifecycle, render); so do the Slack client's instrumentation
(`slack_client`), the health routes (`health_routes`) and Socket Mode (`socket_mode`). This
module only assembles and runs them.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import random
import socket
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_bolt.async_app import AsyncApp

from bot.adapters.registry import Adapters
from bot.app.polling import Poller
from bot.app.retention import Purge
from bot.app.usecases import UseCases
from bot.core.budget import Rate
from bot.core.playbook import load_playbook
from bot.core.settings import Settings
from bot.core.storm import StormRule
from bot.runtime import health, slack_http
from bot.runtime.acks import AckFirst
from bot.runtime.health_routes import HealthRoutes
from bot.runtime.poll_clock import OnTheClock, phase_of
from bot.runtime.slack_client import slack_client
from bot.runtime.slack_http import SlackEndpoint, report_errors
from bot.serving import serve
from bot.slack.compose import Composer
from bot.slack.delivery import Deliverer
from bot.slack.pacing import ChannelPace
from bot.sources import source_for
from bot.sources.api import StatusClients
from bot.store import Store, utcnow

log = logging.getLogger(__name__)

DELIVERY_INTERVAL = 2.0  # seconds between outbox sweeps (retries; fresh alerts go at once)
PURGE_EVERY = 86400.0  # seconds between runs of the purge of old data
PURGE_FIRST = (60.0, 600.0)  # seconds after start-up its first run comes, at random between
# The first polls after start: spread over at least this many seconds, and at most this many
# begun in a second (5,000 tenants at POLL_INTERVAL=60 spread over the whole minute), so the
# first tick is no busier than the ticks after it.
FIRST_SPREAD = 30.0
FIRST_POLLS_A_SECOND = 50.0
# Threads for blocking work (the database, mostly). Few on purpose: each holds the GIL while it
# runs Python, and every thread more takes turns from the event loop that answers Slack.
WORKER_THREADS = 2


def first_spread(tenants: int, poll_interval: float) -> float:
    """Seconds over which the tenants' first polls are spread at start: FIRST_SPREAD, or long
    enough that no more than FIRST_POLLS_A_SECOND start in a second, within one interval."""
    if tenants <= 1:
        return 0.0
    return min(poll_interval, max(FIRST_SPREAD, tenants / FIRST_POLLS_A_SECOND))


def process_owner() -> str:
    """A name for this process in leases and claims: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _bolt_logger() -> logging.Logger:
    """Bolt's logger, minus its warning that our client wins over SLACK_BOT_TOKEN, which Bolt
    reads from the environment by itself: that is exactly what we intend."""
    from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

    logger = logging.getLogger("bot.slack")
    skipped = warning_client_prioritized_and_token_skipped()
    if not any(getattr(f, "name", "") == "client-wins" for f in logger.filters):
        quiet = logging.Filter("client-wins")
        quiet.filter = lambda record: record.getMessage() != skipped  # type: ignore[method-assign]
        logger.addFilter(quiet)
    return logger


class Bot:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.owner = process_owner()
        self.store = Store(
            settings.database_url, storm=StormRule(settings.storm_after, settings.storm_window)
        )
        self.playbook = load_playbook(settings.playbook_extra)
        self.client = slack_client(settings)
        # Runners and ticket targets, once per tenant; what is set up wrong is said once here.
        self.adapters = Adapters.resolve(settings.tenants)
        for problem in self.adapters.misconfigured:
            log.error("%s", problem.line())
        self.composer = Composer(settings, self.playbook, self.adapters)
        # A client per tenant, kept from poll to poll, and one TLS context for them all.
        self.http = StatusClients.for_interval(settings.poll_interval)
        self.sources = {
            tenant.name: source_for(
                tenant, settings.tz, client=self.http.new(), max_bytes=settings.source_max_bytes
            )
            for tenant in settings.tenants
        }
        self.deliverer = Deliverer(
            self.store,
            self.client,
            self.composer,
            owner=self.owner,
            retry_cap=settings.delivery_retry_cap,
            pace=ChannelPace(settings.slack_channel_rate, settings.slack_channel_burst),
            updates=Rate(settings.slack_update_rate / 60, settings.slack_update_burst),
        )
        self.poller = Poller(settings, self.store, self.sources, self.deliverer, owner=self.owner)
        self.cases = UseCases(
            settings,
            self.store,
            self.client,
            self.sources,
            self.adapters,
            self.deliverer,
            self.composer,
        )
        self.poller.listeners.extend(self.cases.poll_listeners())
        self.purge = Purge(settings, self.store, owner=self.owner)
        self.bolt = AsyncApp(
            client=self.client,
            signing_secret=(
                settings.slack_signing_secret.get_secret_value()
                if settings.slack_signing_secret
                else None
            ),
            request_verification_enabled=not settings.socket_mode,
            process_before_response=False,
            # A request nothing answers is told by the endpoint in one line, not by Bolt's
            # warning with its sample code.
            raise_error_for_unhandled_request=True,
            logger=_bolt_logger(),
        )
        report_errors(self.bolt, self.cases.refusals)
        self.bolt.use(
            AckFirst(lambda: self.client.session)
        )  # Slack hears every ack before listeners' work goes on
        from handlers import register_listeners

        register_listeners(self.bolt, self.cases)
        self.scheduler = AsyncIOScheduler(timezone=settings.tz)
        self.slack_auth = health.SlackAuth(self.client.auth_test)
        self.health = HealthRoutes(
            scheduler=self.scheduler,
            store=self.store,
            slack=self.slack_auth,
            tenants=[tenant.name for tenant in settings.tenants],
            seen=self.poller.last_poll,
            poll_interval=settings.poll_interval,
        )
        self._inflight: set[asyncio.Task[Any]] = set()
        self._runner: web.AppRunner | None = None
        self._ops_runner: web.AppRunner | None = None
        self._socket_handler: Any = None
        self.port: int | None = None
        self.ops_port: int | None = None  # /readyz and /metrics, when OPS_PORT is set

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, *, migrate: bool = True, serve_http: bool = True) -> None:
        from handlers import register_fallbacks

        register_fallbacks(self.bolt, self.cases)  # last: after any listener added since
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="eadm-bot")
        )
        # One session (connection pool) for every Web API call and every respond(): without
        # it slack_sdk opens and closes a connection per call.
        self.client.session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.client.timeout)
        )
        if migrate:
            await asyncio.to_thread(self.store.migrate)
        if self.settings.socket_mode:
            # Imported here: HTTP mode never loads slack_sdk's WebSocket client.
            from bot.runtime import socket_mode

            assert self.settings.slack_app_token is not None
            self._socket_handler = await socket_mode.connect(
                self.bolt, self.settings.slack_app_token.get_secret_value()
            )
            if serve_http:
                await self._serve(self._probes(web.Application()))
        elif serve_http:
            assert self.settings.slack_signing_secret is not None
            endpoint = SlackEndpoint(
                self.bolt,
                self.settings.slack_signing_secret.get_secret_value(),
                self.cases.refusals,
            )
            app = web.Application()
            app.router.add_post(slack_http.PATH, endpoint.handle)
            await self._serve(self._probes(app))
        if serve_http and self.settings.ops_port is not None:
            ops = self.health.add_to(web.Application())
            self._ops_runner, self.ops_port = await serve(
                ops, self.settings.ops_host, self.settings.ops_port
            )
        interval = self.settings.poll_interval
        spread = first_spread(len(self.settings.tenants), interval)
        for tenant in self.settings.tenants:
            self.scheduler.add_job(
                self._tracked(self.poller.poll),
                # The first polls spread over the first seconds, so hundreds of tenants do not
                # hit eAdm and the database in the same instant; then each tenant at its own
                # moment of every tick, the same on every replica.
                OnTheClock(
                    interval,
                    phase_of(tenant.name, interval),
                    utcnow() + timedelta(seconds=random.uniform(0, spread)),
                ),
                args=[tenant],
                id=f"poll:{tenant.name}",
                name=f"poll {tenant.name}",
                max_instances=1,  # a slow eAdm must not pile up polls of the same tenant
                coalesce=True,
                misfire_grace_time=None,
            )
        self.scheduler.add_job(
            self._tracked(self.deliverer.run_once),
            IntervalTrigger(seconds=min(DELIVERY_INTERVAL, self.settings.poll_interval)),
            id="deliver",
            name="deliver outbox",
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.add_job(
            self._tracked(self.purge.run),
            IntervalTrigger(seconds=PURGE_EVERY),
            id="purge",
            name="purge old data (one replica a day)",
            next_run_time=utcnow() + timedelta(seconds=random.uniform(*PURGE_FIRST)),
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.add_job(
            self._tracked(self.cases.tick),
            IntervalTrigger(seconds=min(30.0, self.settings.poll_interval)),
            id="tick",
            name="timers (silences, reruns)",
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.start()
        # Everything made so far lives as long as the process: keep it out of the garbage
        # collector's full passes, which otherwise stop the event loop (and every ack) for
        # tens of milliseconds now and then.
        gc.collect()
        gc.freeze()
        log.info(
            "eadm-bot running: %d tenant(s), polling every %.0f s, %s",
            len(self.settings.tenants),
            self.settings.poll_interval,
            "Socket Mode" if self.settings.socket_mode else f"HTTP on port {self.port}",
        )
        log.info("%s (RETENTION_DAYS, AUDIT_RETENTION_DAYS)", self.purge.describe())
        if self.ops_port is not None:
            log.info(
                "/readyz and /metrics on %s port %d (OPS_HOST, OPS_PORT)",
                self.settings.ops_host,
                self.ops_port,
            )

    def _tracked(self, job: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        """A job whose run stop() can wait for, so a poll is never cut off mid-write."""

        async def run(*args: Any) -> Any:
            task = asyncio.current_task()
            assert task is not None
            self._inflight.add(task)
            try:
                return await job(*args)
            finally:
                self._inflight.discard(task)

        run.__name__ = getattr(job, "__name__", "job")
        return run

    async def stop(self, grace: float = 20.0) -> None:
        """Stop taking work, let running jobs finish, then close connections."""
        # Pause first: shutting the scheduler down cancels the jobs that are running.
        if self.scheduler.running:
            self.scheduler.pause()
        self.purge.stop()
        if self._inflight:
            log.info("waiting for %d running job(s) to finish", len(self._inflight))
            await asyncio.wait(set(self._inflight), timeout=grace)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        try:
            await self.poller.aclose()  # the changed states still waiting for their second
        except Exception as exc:
            log.error("tenant states of the last second not written: %s", exc)
        if self._socket_handler is not None:
            await self._socket_handler.close_async()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._ops_runner is not None:
            await self._ops_runner.cleanup()
        await self.cases.aclose()
        await self.deliverer.aclose()
        for source in self.sources.values():
            await source.aclose()
        await self.http.aclose()
        if self.client.session is not None:
            await self.client.session.close()
        self.store.dispose()
        log.info("eadm-bot stopped")

    # -- HTTP --------------------------------------------------------------------------------

    def _probes(self, app: web.Application) -> web.Application:
        """The health routes on PORT: all of them, or /healthz alone when the operations
        listener (OPS_PORT) serves the rest."""
        return self.health.add_to(app, ops=self.settings.ops_port is None)

    async def _serve(self, app: web.Application) -> None:
        self._runner, self.port = await serve(app, self.settings.host, self.settings.port)
