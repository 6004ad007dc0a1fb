"""The eAdm status client: reads the status contract (docs/sources.md) into Snapshots.

Parsing is tolerant of spellings and strict about shape: aliases of keys, step names and
states are accepted; anything that is not a cycle raises NotStatusContract (a SourceError)
with a message an admin can act on. An unknown state word fails that step, not the poll.
Imports nothing from Slack, the store or handlers.
"""

from __future__ import annotations

import dataclasses
import logging
import ssl
from datetime import UTC, datetime
from typing import Any, Self

import httpx

from bot.core.domain import (
    Snapshot,
    StepRun,
    StepState,
    canonical_step,
    parse_state,
    task_from_dict,
)
from bot.core.errors import NotStatusContract, SourceError
from bot.core.inputs import MAX_DEPTH, BadJson, TooDeep, parse_json
from bot.core.said import Param, Words
from bot.core.task_rules import with_task
from bot.core.windows_events import EventsReading
from bot.sources.capped import DEFAULT_MAX_BYTES, TooLarge, prepare, read_capped
from bot.sources.events import EventsError, events_from_contract
from bot.sources.wire import AiohttpTransport, Shared, StatusClient, transports_for

log = logging.getLogger(__name__)

CURRENT = "/api/v1/sync/cycles/current"
CYCLES = "/api/v1/sync/cycles"
RUN = "/api/v1/sync/run"

# Each field, and the other keys it may arrive under.
_KEYS: dict[str, tuple[str, ...]] = {
    "cycle_id": ("cycle_id", "cycleId", "id"),
    "started_at": ("started_at", "startedAt", "start", "started"),
    "finished_at": ("finished_at", "finishedAt", "end", "ended_at", "finished", "completed_at"),
    "steps": ("steps", "Steps"),
    "name": ("name", "step", "Name"),
    "state": ("state", "status", "State", "Status"),
    "message": ("message", "error", "errorMessage", "error_message", "Message"),
}
_warned: set[tuple[str, str, str]] = set()  # unknown state words already logged


def _get(data: dict[str, Any], field: str) -> Any:
    for key in _KEYS[field]:
        if key in data:
            return data[key]
    return None


def _timestamp(value: Any, what: Param) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise NotStatusContract("source.api.not_timestamp", what=what, value=repr(value))
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise NotStatusContract("source.api.not_iso", what=what, value=repr(value)) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _cycle_field(name: str) -> Words:
    return Words.of("source.api.cycle_field", field=name)


def parse_cycle(data: object, *, tenant: str, fetched_at: datetime) -> Snapshot:
    """One cycle of the contract as a Snapshot. Raises NotStatusContract for anything else."""
    if not isinstance(data, dict):
        raise NotStatusContract("source.api.not_cycle", got=type(data).__name__)
    cycle_id = _get(data, "cycle_id")
    if cycle_id in (None, ""):
        raise NotStatusContract("source.api.no_cycle_id")
    steps_raw = _get(data, "steps")
    if not isinstance(steps_raw, list):
        raise NotStatusContract("source.api.no_steps", cycle=str(cycle_id))
    steps: list[StepRun] = []
    problems: list[tuple[str, str]] = []
    for index, raw in enumerate(steps_raw, start=1):
        if not isinstance(raw, dict):
            raise NotStatusContract("source.api.step_not_object", index=index, cycle=str(cycle_id))
        name_raw = _get(raw, "name")
        if not isinstance(name_raw, str) or not name_raw.strip():
            raise NotStatusContract("source.api.step_no_name", index=index, cycle=str(cycle_id))
        name = canonical_step(name_raw)
        word = _get(raw, "state")
        message = _get(raw, "message")
        message = None if message in (None, "") else str(message)
        state = parse_state(word) if isinstance(word, str) else None
        if state is None:
            # The step fails; detect says so in the bot's own words beside eAdm's message.
            problems.append((name, repr(word)))
            if (tenant, name, str(word)) not in _warned:
                _warned.add((tenant, name, str(word)))
                log.error(
                    "[%s] %s: eAdm reported an unknown state %r for this step; treating it "
                    "as failed",
                    tenant,
                    name,
                    word,
                )
            state = StepState.FAILED
        steps.append(
            StepRun(
                name=name,
                state=state,
                started_at=_timestamp(_get(raw, "started_at"), f"{name} started_at"),
                finished_at=_timestamp(_get(raw, "finished_at"), f"{name} finished_at"),
                message=message,
            )
        )
    snapshot = Snapshot(
        tenant=tenant,
        cycle_id=str(cycle_id),
        started_at=_timestamp(_get(data, "started_at"), _cycle_field("started_at")),
        finished_at=_timestamp(_get(data, "finished_at"), _cycle_field("finished_at")),
        steps=tuple(steps),
        fetched_at=fetched_at,
        problems=tuple(problems),
    )
    task = data.get("task")
    if isinstance(task, dict):
        # `eadm-bot agent` adds the sync task itself, so the task's own rules apply here too.
        try:
            info = task_from_dict(task)
        except (KeyError, ValueError, TypeError) as exc:
            raise NotStatusContract(
                "source.api.malformed_task", cycle=str(cycle_id), error=str(exc)
            ) from None
        combined = with_task(snapshot, dataclasses.replace(info, events=_events(task, tenant)))
        return combined
    return snapshot


def _events(task: dict[str, Any], tenant: str) -> EventsReading | None:
    """The Event Viewer events the agent read with the task's last run. Malformed ones are
    left out, logged once: they must not make the status unreadable."""
    try:
        return events_from_contract(task)
    except EventsError as exc:
        if (tenant, "events", str(exc)) not in _warned:
            _warned.add((tenant, "events", str(exc)))
            log.warning("[%s] ignoring the task's Event Viewer events: %s", tenant, exc)
        return None


def parse_cycles(data: object, *, tenant: str, fetched_at: datetime) -> list[Snapshot]:
    """The list endpoint; a malformed cycle is skipped (and logged), not fatal."""
    if isinstance(data, dict):
        data = data.get("cycles")
    if not isinstance(data, list):
        raise NotStatusContract("source.api.not_cycle_list")
    cycles = []
    for item in data:
        try:
            cycles.append(parse_cycle(item, tenant=tenant, fetched_at=fetched_at))
        except NotStatusContract as exc:
            log.warning("[%s] skipping a cycle in the history: %s", tenant, exc)
    return cycles


# Connections one tenant's client may hold: a poll reads its status (and, once, its history)
# in turn, and an exporter or a rerun guard's fresh read may need one more at the same time.
MAX_CONNECTIONS = 4
MAX_KEEPALIVE = 2  # the status API's origin and windows_exporter's
KEEPALIVE_MARGIN = 15.0  # seconds an idle connection outlives the poll interval


def status_client(
    timeout: float = 10.0,
    *,
    verify: ssl.SSLContext | bool = True,
    keepalive: float = 5.0,
    plain: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An HTTP client for one tenant's status reads (`StatusClients` makes one per tenant):
    plain HTTP over aiohttp (`plain` when given, shared), HTTPS over httpx's transport, both
    sent to straight (`wire`); httpx's own client where a proxy is set."""
    limits = httpx.Limits(
        max_connections=MAX_CONNECTIONS,
        max_keepalive_connections=MAX_KEEPALIVE,
        keepalive_expiry=keepalive,
    )
    return StatusClient(
        timeout=timeout,
        verify=verify,
        limits=limits,  # for httpx's own transport, where a proxy is set
        wires=transports_for(verify, limits, plain=plain),
        headers={"Accept": "application/json", "User-Agent": "eadm-bot"},
    )


class StatusClients:
    """One small HTTP client per tenant, all sharing one TLS context and one plain pool.

    The TLS context, with the CA bundle loaded (SSL_CERT_FILE or SSL_CERT_DIR when set, else
    certifi's), is about 0.8 MB, so it is made once; a client without one is a few KB. Each
    tenant's connection is kept open from one poll to the next (`keepalive` is set above
    POLL_INTERVAL), where the server keeps it: no TCP or TLS handshake per poll. HTTPS pools
    are per tenant because httpx's pool looks at every connection it holds at each request:
    one pool holding a thousand tenants' connections cost more CPU per poll than a handshake.
    Plain HTTP shares one aiohttp pool, which finds a connection by its origin at once.
    """

    def __init__(self, *, keepalive: float, timeout: float = 10.0) -> None:
        self.keepalive = keepalive
        self.timeout = timeout
        self._tls = httpx.create_ssl_context()
        self._plain = Shared(AiohttpTransport(keepalive=keepalive, per_origin=MAX_CONNECTIONS))
        self._clients: list[httpx.AsyncClient] = []

    @classmethod
    def for_interval(cls, poll_interval: float) -> StatusClients:
        return cls(keepalive=poll_interval + KEEPALIVE_MARGIN)

    def new(self) -> httpx.AsyncClient:
        client = status_client(
            self.timeout, verify=self._tls, keepalive=self.keepalive, plain=self._plain
        )
        self._clients.append(client)
        return client

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        self._clients.clear()
        await self._plain.close()


class EadmSource:
    """Reads one tenant's eAdm status over HTTP.

    Pass `client` (from `StatusClients`, or one shared among tenants) and the source leaves
    closing it to its owner. Without one it makes and closes its own.
    """

    def __init__(
        self,
        base_url: str,
        tenant: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tenant = tenant
        self.timeout = timeout
        self.max_bytes = max_bytes
        # What the last current cycle said of itself: the tenant it names, and whether it
        # came from `eadm-bot agent` (it carries the sync task), for `eadm-bot check`.
        self.reported_tenant: str | None = None
        self.from_agent = False
        headers = {"Accept": "application/json", "User-Agent": "eadm-bot"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._owns_client = client is None
        self._client = client or status_client(timeout)
        self._headers = headers
        self._current = self._request(CURRENT)  # the same GET at every poll, built once

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def current(self) -> Snapshot:
        data = await self._get(CURRENT)
        if isinstance(data, dict):
            named = data.get("tenant")
            self.reported_tenant = named if isinstance(named, str) else None
            self.from_agent = isinstance(data.get("task"), dict)
        try:
            return parse_cycle(data, tenant=self.tenant, fetched_at=datetime.now(UTC))
        except NotStatusContract as exc:
            raise self._bad(CURRENT, exc.words) from None

    async def history(self, limit: int = 20) -> list[Snapshot]:
        data = await self._get(CYCLES, params={"limit": limit})
        try:
            return parse_cycles(data, tenant=self.tenant, fetched_at=datetime.now(UTC))
        except NotStatusContract as exc:
            raise self._bad(CYCLES, exc.words) from None

    def _bad(self, path: str, problem: Words) -> NotStatusContract:
        return NotStatusContract(
            "source.api.not_contract", url=f"{self.base_url}{path}", problem=problem
        )

    def _request(self, path: str, params: dict[str, Any] | None = None) -> httpx.Request:
        url = f"{self.base_url}{path}"
        return prepare(
            self._client, url, params=params, headers=self._headers, read_timeout=self.timeout
        )

    async def _get(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        url = f"{self.base_url}{path}"
        request = self._current if path == CURRENT and not params else self._request(path, params)
        try:
            response = await read_capped(self._client, request, max_bytes=self.max_bytes)
        except TooLarge as exc:
            raise SourceError("source.api.too_large", url=url, problem=exc.words) from None
        except SourceError as exc:
            raise SourceError("source.api.wrapped", url=url, problem=exc.words) from None
        except httpx.TimeoutException:
            raise SourceError(
                "source.api.timeout", url=url, seconds=f"{self.timeout:.0f}"
            ) from None
        except httpx.HTTPError as exc:
            raise SourceError(
                "source.api.unreachable", url=url, error=f"{type(exc).__name__}: {exc}"
            ) from None
        status = f"{response.status} {response.reason}"
        if response.status in (401, 403):
            raise SourceError("source.api.refused", url=url, status=status)
        if response.status != 200:
            raise SourceError("source.api.status", url=url, status=status)
        try:
            return parse_json(response.body)
        except TooDeep:
            raise self._bad(path, Words.of("source.too_deep", depth=MAX_DEPTH)) from None
        except BadJson:
            raise self._bad(path, Words.of("source.api.not_json")) from None
