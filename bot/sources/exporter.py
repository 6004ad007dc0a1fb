"""The `exporter` source: windows_exporter's `scheduled_task` collector, read over HTTP and
parsed with prometheus_client's text parser.

Metrics read, each labelled `task` with the task's path (`/eAdm synkronisering`):
`windows_scheduled_task_state{state}` (1 for the current state),
`windows_scheduled_task_last_result_status{status}` where the exporter is new enough,
else the older `windows_scheduled_task_last_result` (1 when the last result was zero), and
`windows_scheduled_task_missed_runs`. The collector has no times: `TaskWatch` times runs from
this process's own polls. Imports only the core (and httpx, prometheus_client).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any, Self

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.core.domain import Snapshot, TaskInfo, TaskState
from bot.core.errors import SourceError
from bot.core.said import Words
from bot.core.task_rules import task_snapshot
from bot.sources.capped import DEFAULT_MAX_BYTES, TooLarge, get_capped
from bot.sources.task import TaskReading, TaskWatch

log = logging.getLogger(__name__)

PREFIX = "windows_scheduled_task_"
# How to make windows_exporter publish the task, said where it does not.
ENABLE = Words.of("source.exporter.enable")

# windows_exporter's result status words and the Task Scheduler codes they stand for.
STATUS_CODES: dict[str, int] = {
    "success": 0x0,
    "ready": 0x41300,
    "running": 0x41301,
    "disabled": 0x41302,
    "has_not_run": 0x41303,
    "no_more_runs": 0x41304,
    "not_scheduled": 0x41305,
    "terminated": 0x41306,
    "no_valid_triggers": 0x41307,
    "event_trigger": 0x41308,
    "queued": 0x41325,
}


def task_label(name: str) -> str:
    """A task name or path as the exporter's `task` label spells it: /Folder/name."""
    path = name.replace("\\", "/")
    return path if path.startswith("/") else "/" + path


def matches(label: str, name: str) -> bool:
    """The configured name, with or without its folder, against a label."""
    wanted = task_label(name).casefold()
    label = label.casefold()
    if "/" in name.replace("\\", "/").strip("/"):
        return label == wanted
    return label == wanted or label.rsplit("/", 1)[-1] == wanted.lstrip("/")


def parse_metrics(text: str, *, task_name: str) -> tuple[TaskReading, bool | None, str | None]:
    """(the task's reading, did its last run succeed, the result status word). Raises
    SourceError when the text is not metrics or the task is not among them."""
    samples: dict[str, list[Any]] = {}
    try:
        for family in text_string_to_metric_families(text):
            if family.name.startswith(PREFIX):
                for sample in family.samples:
                    samples.setdefault(sample.name, []).append(sample)
    except (ValueError, TypeError, IndexError) as exc:
        raise SourceError("source.exporter.not_metrics", error=str(exc)) from None
    states = samples.get(PREFIX + "state", [])
    if not states:
        raise SourceError("source.exporter.no_metrics", enable=ENABLE)
    labels = sorted({s.labels.get("task", "") for s in states})
    found = [label for label in labels if matches(label, task_name)]
    if not found:
        seen = ", ".join(labels[:5]) + (" ..." if len(labels) > 5 else "")
        raise SourceError("source.exporter.no_task", task=task_name, seen=seen, enable=ENABLE)
    if len(found) > 1:
        raise SourceError("source.exporter.many_tasks", task=task_name, found=", ".join(found))
    label = found[0]

    def mine(name: str) -> list[Any]:
        return [s for s in samples.get(PREFIX + name, []) if s.labels.get("task") == label]

    current = [s.labels.get("state", "") for s in mine("state") if s.value == 1]
    try:
        state = TaskState(current[0].lower()) if current else TaskState.UNKNOWN
    except ValueError:
        state = TaskState.UNKNOWN
    missed = mine("missed_runs")
    status = next(
        (s.labels.get("status") for s in mine("last_result_status") if s.value == 1), None
    )
    code: int | None = None
    ok: bool | None
    if status is not None:
        code = STATUS_CODES.get(status)
        if status == "has_not_run":
            ok = None
        elif status == "unknown":
            ok = False  # an exit code or scheduler error the exporter has no name for
        else:
            ok = status != "terminated"
    else:
        last = mine("last_result")
        if not last:
            ok = None  # never ran
        elif last[0].value == 1:
            ok, code = True, 0
        else:
            # The old metric reads 0 for a running task too: judge only a task at rest.
            ok = None if state in (TaskState.RUNNING, TaskState.QUEUED) else False
    reading = TaskReading(
        name=label.rsplit("/", 1)[-1],
        path=label.rsplit("/", 1)[0].replace("/", "\\") + "\\",
        state=state,
        last_run_at=None,
        next_run_at=None,
        last_result=code,
        missed_runs=int(missed[0].value) if missed else None,
    )
    return reading, ok, status


class ExporterSource:
    """Reads the sync task from windows_exporter's /metrics; one per tenant, kept across polls."""

    kind = "exporter"

    def __init__(
        self,
        tenant: str,
        url: str,
        *,
        task_name: str,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
        clock: Any = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.tenant = tenant
        self.url = url
        self.task_name = task_name
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.watch = TaskWatch()
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._clock = clock or (lambda: datetime.now(UTC))

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def read_text(self) -> str:
        try:
            response = await get_capped(
                self._client,
                self.url,
                headers={"Accept": "text/plain", "User-Agent": "eadm-bot"},
                read_timeout=self.timeout,
                max_bytes=self.max_bytes,
            )
        except TooLarge as exc:
            raise SourceError(
                "source.exporter.too_large", url=self.url, problem=exc.words, enable=ENABLE
            ) from None
        except SourceError as exc:
            raise SourceError("source.exporter.wrapped", url=self.url, problem=exc.words) from None
        except httpx.TimeoutException:
            raise SourceError(
                "source.exporter.timeout", url=self.url, seconds=f"{self.timeout:.0f}"
            ) from None
        except httpx.HTTPError as exc:
            raise SourceError(
                "source.exporter.unreachable", url=self.url, error=f"{type(exc).__name__}: {exc}"
            ) from None
        if response.status != 200:
            status = f"{response.status} {response.reason}"
            raise SourceError("source.exporter.status", url=self.url, status=status)
        text = response.text
        kind = response.content_type
        if "html" in kind or text.lstrip().startswith("<"):
            raise SourceError("source.exporter.web_page", url=self.url)
        return text

    async def read(self) -> TaskInfo:
        text = await self.read_text()
        try:
            reading, ok, _status = parse_metrics(text, task_name=self.task_name)
        except SourceError as exc:
            raise SourceError("source.exporter.wrapped", url=self.url, problem=exc.words) from None
        return self.watch.observe(reading, self._clock(), last_ok=ok, timed=False)

    async def current(self) -> Snapshot:
        task = await self.read()
        return task_snapshot(self.tenant, task, self._clock())

    async def history(self, limit: int = 20) -> list[Snapshot]:
        """The exporter keeps no history: learn from polls."""
        return []
