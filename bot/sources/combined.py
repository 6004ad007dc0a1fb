"""Sources together: what every source offers the poll job, the status API combined with the
sync task, and the one place that builds a tenant's source from its settings (redacting what
it reads, see `redacting`).

Imports only the core and the sibling source modules.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Protocol

import httpx

from bot.core.domain import Snapshot
from bot.core.settings import Tenant
from bot.core.task_rules import with_task
from bot.sources.api import EadmSource
from bot.sources.capped import DEFAULT_MAX_BYTES
from bot.sources.exporter import ExporterSource
from bot.sources.redacting import RedactingSource
from bot.sources.task import TaskSource, default_command


class Source(Protocol):
    """What the poll job, the rerun guard and `check` ask of a source."""

    async def current(self) -> Snapshot: ...

    async def history(self, limit: int = 20) -> list[Snapshot]: ...

    async def aclose(self) -> None: ...


class CombinedSource:
    """The status API's cycle with the sync task as a row of its own. Either part failing
    fails the poll: a half-read status could hide the other half's trouble."""

    def __init__(self, api: EadmSource, task: TaskSource | ExporterSource) -> None:
        self.api = api
        self.task = task

    async def current(self) -> Snapshot:
        snapshot = await self.api.current()
        return with_task(snapshot, await self.task.read())

    async def history(self, limit: int = 20) -> list[Snapshot]:
        return await self.api.history(limit)

    async def aclose(self) -> None:
        await self.api.aclose()
        await self.task.aclose()


def task_reader(
    tenant: Tenant,
    tz: tzinfo,
    client: httpx.AsyncClient | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> TaskSource | ExporterSource | None:
    """The tenant's reader of the sync task (task or exporter), if it watches one. `client`
    is an HTTP client to share (its owner closes it); `max_bytes` caps an HTTP answer."""
    if tenant.task_source == "task":
        command = tenant.task_command or default_command(tenant.task_name)
        if not command:
            raise ValueError(f"tenant {tenant.name}: source task needs task_command")
        return TaskSource(
            tenant.name, command, task_name=tenant.task_name, timeout=tenant.task_timeout, tz=tz
        )
    if tenant.task_source == "exporter":
        assert tenant.exporter_url
        return ExporterSource(
            tenant.name,
            tenant.exporter_url,
            task_name=tenant.task_name,
            client=client,
            max_bytes=max_bytes,
        )
    return None


def source_for(
    tenant: Tenant,
    tz: tzinfo,
    client: httpx.AsyncClient | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Source:
    """The source a tenant's settings ask for, redacting with the tenant's redactor whatever
    it reads; HTTP sources share `client` when given, and read at most `max_bytes`
    (SOURCE_MAX_BYTES) of an answer."""
    return RedactingSource(_reader_for(tenant, tz, client, max_bytes), tenant.redactor)


def _reader_for(
    tenant: Tenant, tz: tzinfo, client: httpx.AsyncClient | None, max_bytes: int
) -> EadmSource | TaskSource | ExporterSource | CombinedSource:
    reader = task_reader(tenant, tz, client, max_bytes)
    if reader is None or "api" in tenant.sources:
        token = tenant.eadm_api_token.get_secret_value() if tenant.eadm_api_token else None
        api = EadmSource(tenant.eadm_url, tenant.name, token, client=client, max_bytes=max_bytes)
        return api if reader is None else CombinedSource(api, reader)
    return reader
