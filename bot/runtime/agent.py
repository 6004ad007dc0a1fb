"""`eadm-bot agent`: on the eAdm client server, serves the status contract built from the sync
task (and the log folder), and starts the task on a signed request, for a bot that runs
elsewhere (a provider's central bot).

- `GET /api/v1/sync/cycles/current` and `GET /api/v1/sync/cycles?limit=N`, with
  `Authorization: Bearer AGENT_TOKEN`: the task's run as a cycle with one row, plus the task
  itself under `task`, so the central bot applies the task's own rules. The current cycle's
  task also carries what Event Viewer says of that run (`events`, `operational_log_enabled`),
  read once when the last run changes (`RunEvents`), so the central bot needs no Get-WinEvent
  of its own; the history leaves them out, to stay small.
- `POST /api/v1/sync/run`, signed exactly as the bot's rerun webhook signs (the same headers,
  the same HMAC, secret AGENT_SECRET): 401 for a bad, stale or replayed signature, 400 for a
  body that is not `{"action": "rerun", "tenant": <TENANT_NAME>}` (a signed ticket, or a
  rerun meant for another tenant's agent: nothing runs), 409 while the task runs, 202 when
  it was started.

The signature code is the rerun webhook's own (bot.adapters.runners), so there is one scheme
with one implementation; starting the task is the rerun command runner's work.

What the agent serves leaves the server redacted: identity numbers (and REDACT_PATTERNS) are
removed from the log lines, the task's texts and every error before they are sent or logged.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import json
import logging
import time
from collections import OrderedDict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.adapters.log_folder import log_excerpt
from bot.adapters.runners import SIGNATURE_HEADER, TIMESTAMP_HEADER, CommandRunner, verify
from bot.app.refusals import Refusals
from bot.core.domain import Snapshot, StepState, TaskState, snapshot_to_dict
from bot.core.errors import SourceError
from bot.core.inputs import BadJson, parse_json_object
from bot.core.settings import Settings
from bot.core.task_rules import task_snapshot
from bot.runtime.agent_events import RunEvents
from bot.serving import serve
from bot.sources import events
from bot.sources.api import CURRENT, CYCLES, RUN
from bot.sources.redacting import ERROR_LIMIT, redact_error, redact_snapshot
from bot.sources.task import TaskSource, default_command

log = logging.getLogger(__name__)

MAX_AGE = 300.0  # seconds a signed request stays valid, as for the webhooks
FRESH_FOR = 2.0  # seconds one reading of the task serves requests, so a burst runs it once
HISTORY = 50  # runs kept in memory for /cycles
LOG_LINES = 12  # problem lines of the log folder added to a failed run's message


class Agent:
    def __init__(
        self,
        settings: Settings,
        *,
        source: TaskSource | None = None,
        starter: CommandRunner | None = None,
        run_events: RunEvents | None = None,
    ) -> None:
        assert settings.agent_token is not None and settings.agent_secret is not None
        self.settings = settings
        self.tenant = settings.tenant_name
        command = settings.eadm_task_command or default_command(settings.eadm_task_name)
        assert command, "check_agent_settings makes sure there is a command"
        self.source = source or TaskSource(
            self.tenant,
            command,
            task_name=settings.eadm_task_name,
            timeout=settings.eadm_task_timeout,
            tz=settings.tz,
        )
        start = settings.agent_start_command or ["schtasks", "/Run", "/TN", "{task}"]
        start = [part.replace("{task}", settings.eadm_task_name) for part in start]
        self.starter = starter or CommandRunner(start, timeout=settings.rerun_timeout)
        events_command = settings.eadm_events_command or events.default_command()
        self.events = run_events or RunEvents(
            events_command,
            task_name=settings.eadm_task_name,
            seconds=settings.eadm_task_timeout,
            tz=settings.tz,
            redactor=settings.redactor,
        )
        self.redactor = settings.redactor
        self._token = settings.agent_token.get_secret_value().encode()
        self._secret = settings.agent_secret.get_secret_value().encode()
        self._seen: dict[str, float] = {}  # signatures already used, and when they expire
        # The used signatures are remembered in memory only. One made before this process
        # started may have been used before a restart, so it is refused: a replay across a
        # restart cannot be told from a new request.
        self._since = time.time()
        self._history: OrderedDict[str, Snapshot] = OrderedDict()
        self._last: tuple[float, Snapshot] | None = None
        self._lock = asyncio.Lock()
        self.refusals = Refusals("a run request")
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # -- reading --------------------------------------------------------------------------------

    async def snapshot(self) -> Snapshot:
        """The task now (one reading serves requests for FRESH_FOR seconds)."""
        async with self._lock:
            if self._last and time.monotonic() - self._last[0] < FRESH_FOR:
                return self._last[1]
            try:
                task = await self.events.with_events(await self.source.read())
            except SourceError as exc:
                raise redact_error(exc, self.redactor) from None
            snapshot = task_snapshot(self.tenant, task, datetime.now(UTC))
            snapshot = await asyncio.to_thread(self._with_log_lines, snapshot)
            snapshot = redact_snapshot(snapshot, self.redactor)
            self._last = (time.monotonic(), snapshot)
            self._history[snapshot.cycle_id] = snapshot
            self._history.move_to_end(snapshot.cycle_id)
            while len(self._history) > HISTORY:
                self._history.popitem(last=False)
            return snapshot

    def _with_log_lines(self, snapshot: Snapshot) -> Snapshot:
        """A failed run carries the newest problem lines of the log folder (`task.log`), which
        the bot elsewhere cannot read; it tells them under their own label."""
        log_dir: Path | None = self.settings.eadm_log_dir
        row = snapshot.steps[0]
        if log_dir is None or row.state is not StepState.FAILED or snapshot.task is None:
            return snapshot
        excerpt = log_excerpt(
            log_dir, row.started_at, max_lines=LOG_LINES, tz=self.settings.tz, redact=self.redactor
        )
        if excerpt is None:
            return snapshot
        task = dataclasses.replace(snapshot.task, log=excerpt.said)
        return dataclasses.replace(snapshot, task=task)

    # -- HTTP ------------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(CURRENT, self._current)
        app.router.add_get(CYCLES, self._cycles)
        app.router.add_post(RUN, self._run)
        app.router.add_get("/healthz", self._healthz)
        return app

    async def start(self, host: str = "0.0.0.0", port: int | None = None) -> None:
        self._runner, self.port = await serve(
            self.app(), host, self.settings.agent_port if port is None else port
        )
        log.info(
            'eadm-bot agent serving the status of task "%s" on port %s',
            self.settings.eadm_task_name,
            self.port,
        )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        await self.events.aclose()
        await self.source.aclose()

    def _authorised(self, request: web.Request) -> bool:
        given = request.headers.get("Authorization", "")
        scheme, _, token = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), self._token)

    @staticmethod
    def _refuse(status: int, error: str) -> web.Response:
        return web.json_response({"error": error}, status=status)

    async def _current(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._refuse(401, "send Authorization: Bearer <AGENT_TOKEN>")
        try:
            snapshot = await self.snapshot()
        except SourceError as exc:
            log.warning("cannot read the sync task: %s", exc)
            return self._refuse(502, f"the agent cannot read the sync task: {exc}")
        body = snapshot_to_dict(snapshot)
        task = snapshot.task
        if task is not None and task.events is not None and isinstance(body["task"], dict):
            body["task"].update(events.contract_events(task.events))
        return web.json_response(body)

    async def _cycles(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return self._refuse(401, "send Authorization: Bearer <AGENT_TOKEN>")
        try:
            limit = max(1, min(int(request.query.get("limit", "20")), HISTORY))
        except ValueError:
            return self._refuse(400, "limit must be a number")
        cycles = list(reversed(self._history.values()))[:limit]
        return web.json_response([snapshot_to_dict(s) for s in cycles])

    async def _healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    def _fresh_signature(self, timestamp: str, signature: str, body: bytes) -> str | None:
        """Why a run request is refused, or None when its signature is good and new."""
        if not timestamp or not signature:
            return f"sign the request: {TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are missing"
        if not verify(self._secret, timestamp, body, signature, max_age=MAX_AGE):
            return "the signature is wrong or older than five minutes; check AGENT_SECRET"
        if int(timestamp) < int(self._since):
            return "the request was signed before the agent started; send a new one"
        now = time.time()
        self._seen = {sig: until for sig, until in self._seen.items() if until > now}
        if signature in self._seen:
            return "this signed request was already used; a new request needs a new signature"
        self._seen[signature] = now + 2 * MAX_AGE
        return None

    def _asked(self, body: bytes) -> dict[str, Any] | str:
        """The signed request's body when it asks this agent to start its own task; else
        why not, naming what it asked for and what this agent starts."""
        expected = json.dumps({"action": "rerun", "tenant": self.tenant}, ensure_ascii=False)
        try:
            data = parse_json_object(body)
        except BadJson as exc:
            return f"{exc}; this agent starts its task only for {expected}"
        action, tenant = data.get("action"), data.get("tenant")
        if action == "rerun" and tenant == self.tenant:
            return data
        got = json.dumps({"action": action, "tenant": tenant}, ensure_ascii=False)[:300]
        return f"the request asks for {got}; this agent starts its task only for {expected}"

    async def _run(self, request: web.Request) -> web.Response:
        body = await request.read()
        refusal = self._fresh_signature(
            request.headers.get(TIMESTAMP_HEADER, ""),
            request.headers.get(SIGNATURE_HEADER, ""),
            body,
        )
        if refusal is not None:
            self.refusals.refuse("signature", refusal, who=request.remote)
            return self._refuse(401, refusal)
        asked = self._asked(body)
        if isinstance(asked, str):
            self.refusals.refuse("body", asked, who=request.remote)
            return self._refuse(400, asked)
        who = str(asked.get("requested_by") or "?")[:100]
        async with self._lock:
            self._last = None  # the start decision reads the task afresh
        try:
            snapshot = await self.snapshot()
        except SourceError as exc:
            return self._refuse(502, f"the agent cannot read the sync task: {exc}")
        task = snapshot.task
        assert task is not None
        if task.state in (TaskState.RUNNING, TaskState.QUEUED):
            return self._refuse(409, f'the sync task "{task.name}" is {task.state.value}')
        if task.state is TaskState.DISABLED:
            return self._refuse(409, f'the sync task "{task.name}" is disabled; enable it first')
        result = await self.starter.run(tenant=self.tenant, requested_by=who, alert_id=None)
        async with self._lock:
            self._last = None
        if not result.ok:
            detail = self.redactor.within(result.detail, ERROR_LIMIT)
            log.error("could not start the sync task: %s", detail)
            return self._refuse(502, f"starting the sync task failed: {detail}")
        log.info('started the sync task "%s" for %s', task.name, who)
        return web.json_response({"started": True, "task": task.name}, status=202)
