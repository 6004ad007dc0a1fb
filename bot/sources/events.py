"""The events command's output: what Event Viewer holds about the sync task, as PowerShell's
`ConvertTo-Json` prints it, read into the core's `EventsReading`.

The shipped script (`data/get-sync-events.ps1`) prints one object,
`{"OperationalLogEnabled": true, "Events": [...]}`. A command of the site's own may print the
events without that wrapper: a bare array, or a single event object (PowerShell 5.1 prints one
item unwrapped; so may `Events` be). Each event has `TimeCreated` (Windows PowerShell 5.1:
`"\\/Date(ms)\\/"`; PowerShell 7: ISO 8601 with the server's offset and seven fractional
digits), `Id`, `ProviderName`, `LogName`, `LevelDisplayName`, `Message` (null when Windows
lacks the provider's texts) and `Data`, the named EventData (missing from a plain
`Select-Object`). No output at all is no events: `ConvertTo-Json` of nothing prints nothing.

Output over `MAX_OUTPUT` bytes or `MAX_EVENTS` events, JSON of any other shape, or text that is
not JSON raise `EventsError`, one type, saying what was wrong. Messages and data are cut here to
bounded lengths so that redaction and storing them stay cheap.

Also here: running the command once for a window (`read_events`, as every source's command is
run, with the task command's timeout), the one redactor event texts pass through
(`events_redactor`), and the events' form in the status contract, as the agent serves them
(`contract_events`, `events_from_contract`). Imports only the core and the sibling modules
that run commands and parse PowerShell's times.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from bot.core.errors import EadmBotError, SourceError
from bot.core.inputs import BadJson, TooDeep, parse_json
from bot.core.redact import Redactor
from bot.core.settings import Tenant
from bot.core.windows_events import Event, EventsReading
from bot.sources.commands import powershell_script, run_command, shipped_script
from bot.sources.task import parse_time

SCRIPT = "get-sync-events.ps1"
SETTING = "EADM_EVENTS_COMMAND"
NO_EVENTS = "No events were found that match the specified selection criteria"
MAX_OUTPUT = 2_000_000  # bytes; the script asks Get-WinEvent for at most 200 events a log
MAX_EVENTS = 1000
MESSAGE_LIMIT = 4000  # characters of one event's Message kept
DATA_LIMIT = 1000  # characters of one EventData value kept
DATA_FIELDS = 64  # named EventData values kept per event


class EventsError(EadmBotError):
    """The events command's output is not the events as JSON (or far too much of them)."""


def script_path() -> Path:
    """The PowerShell script shipped with the package (the task's events as JSON)."""
    return shipped_script(SCRIPT)


def default_command() -> list[str] | None:
    """On Windows: the shipped script, run locally, with `{task}` and `{since}` to fill in
    (`command_for`). Elsewhere there is no sensible default."""
    if sys.platform != "win32":
        return None
    return powershell_script(SCRIPT, "-TaskName", "{task}", "-Since", "{since}")


def events_command(tenant: Tenant) -> list[str] | None:
    """The command that reads a tenant's events: its own `events_command`, else, where the bot
    runs the shipped task script on the server itself, the shipped events script; None where
    there is none (the agent's events then come with the status, if at all)."""
    if tenant.events_command:
        return list(tenant.events_command)
    if tenant.task_source == "task" and not tenant.task_command:
        return default_command()
    return None


def events_redactor(tenant: Tenant | None = None) -> Redactor:
    """The one redactor every event text passes through before it is stored, rendered or
    sent: the tenant's own (identity numbers, REDACT_PATTERNS, its `redact_patterns`), or,
    where no tenant is known, identity numbers alone (the agent gives its own)."""
    return tenant.redactor if tenant is not None else Redactor()


def redacted(reading: EventsReading, redactor: Redactor) -> EventsReading:
    """The reading with every text of every event redacted (they were cut to their limits
    when parsed, so redaction stays cheap)."""
    events = tuple(
        replace(
            event,
            provider=redactor(event.provider),
            log=redactor(event.log),
            level=redactor(event.level),
            message=redactor(event.message),
            data={key: redactor(value) for key, value in event.data.items()},
        )
        for event in reading.events
    )
    return replace(reading, events=events)


async def read_events(
    command: list[str],
    *,
    task_name: str,
    since: datetime,
    seconds: float,
    tz: tzinfo,
    redactor: Redactor,
) -> EventsReading:
    """Run the events command once for the window from `since`, redacted. Raises EventsError
    (never a SourceError: a broken events command must not make the task look down) when it
    cannot run, fails, hangs past `seconds`, floods or prints anything but the events."""
    argv = command_for(command, task_name=task_name, since=since)
    try:
        code, out, err = await run_command(
            argv,
            seconds=seconds,
            max_output=MAX_OUTPUT,
            setting=SETTING,
            expects="the few events of one run as JSON",
        )
    except SourceError as exc:
        raise EventsError(str(exc)) from None
    if code != 0:
        text = err.decode("utf-8", errors="replace")
        if NO_EVENTS.casefold() in text.casefold():  # Get-WinEvent's own words for "none"
            return EventsReading(None, ())
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        first = lines[0][:300] if lines else "nothing on stderr"
        raise EventsError(f"{SETTING} exited with code {code}: {first}")
    try:
        reading = parse_events(out, tz=tz)
    except EventsError as exc:
        raise EventsError(f"{SETTING}'s output: {exc}") from None
    return redacted(reading, redactor)


# -- the status contract's form (the agent's `task.events`) ---------------------------------


def contract_events(reading: EventsReading) -> dict[str, Any]:
    """What the agent adds to the status contract's `task`."""
    return {
        "events": [event.to_dict() for event in reading.events],
        "operational_log_enabled": reading.operational_log_enabled,
    }


def events_from_contract(task: Mapping[str, Any]) -> EventsReading | None:
    """The events a status contract's `task` carries; None when it carries none (a bot's own
    source, or an agent that read none for this run). Raises EventsError when malformed."""
    if "events" not in task:
        return None
    items = task["events"]
    enabled = task.get("operational_log_enabled")
    if not isinstance(items, list) or not (enabled is None or isinstance(enabled, bool)):
        raise EventsError("task.events is not a list, or operational_log_enabled not a boolean")
    if len(items) > MAX_EVENTS:
        raise EventsError(f"task.events holds {len(items)} events, more than {MAX_EVENTS}")
    try:
        events = tuple(Event.from_dict(item) for item in items)
    except ValueError as exc:
        raise EventsError(f"an event of task.events is malformed: {exc}") from None
    return EventsReading(enabled, events)


def command_for(command: list[str], *, task_name: str, since: datetime) -> list[str]:
    """The command with `{task}` (the task's name) and `{since}` (ISO 8601 UTC) filled in."""
    when = since.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return [part.replace("{task}", task_name).replace("{since}", when) for part in command]


def parse_events(stdout: bytes | str, *, tz: tzinfo = UTC) -> EventsReading:
    """The command's output. A time without an offset is the server's local time, `tz`."""
    if len(stdout) > MAX_OUTPUT:
        raise EventsError(
            f"the events command printed more than {MAX_OUTPUT // 1000} kB; it should print "
            "the few events of one run (the shipped script asks for at most 200 a log)"
        )
    text = stdout.decode("utf-8-sig", errors="replace") if isinstance(stdout, bytes) else stdout
    text = text.strip()
    if not text:
        return EventsReading(None, ())
    try:
        data = parse_json(text)
    except TooDeep as exc:
        raise EventsError(
            f"the events command printed JSON that cannot be its events: {exc}"
        ) from None
    except BadJson:
        first = text.splitlines()[0][:120]
        raise EventsError(
            f"the events command did not print JSON (it began with {first!r}); end it with "
            "ConvertTo-Json, as the shipped script does"
        ) from None
    return parse_events_json(data, tz=tz)


def parse_events_json(data: Any, *, tz: tzinfo = UTC) -> EventsReading:
    """The decoded JSON, in any of the shapes above."""
    enabled: bool | None = None
    if data is None:
        return EventsReading(None, ())
    if isinstance(data, dict) and not _is_event(data):
        keys = {key.casefold(): key for key in data}
        if "events" not in keys:
            found = ", ".join(sorted(data)[:8]) or "none"
            raise EventsError(
                'the events command printed an object that is neither {"Events": [...]} nor '
                f"an event (TimeCreated, Id, ...); its keys: {found}"
            )
        value = data.get(keys.get("operationallogenabled", ""))
        if value is not None and not isinstance(value, bool):
            raise EventsError(f"OperationalLogEnabled is {value!r}, not true or false")
        enabled = value
        data = data[keys["events"]]
        if data is None:
            return EventsReading(enabled, ())
    items = data if isinstance(data, list) else [data]
    if len(items) > MAX_EVENTS:
        raise EventsError(
            f"the events command printed {len(items)} events, more than {MAX_EVENTS}; limit "
            "it to the run's window (Get-WinEvent -MaxEvents)"
        )
    events = tuple(_event(item, n, tz) for n, item in enumerate(items, 1))
    return EventsReading(enabled, events)


def _is_event(item: dict[str, Any]) -> bool:
    return "TimeCreated" in item or "Id" in item


def _event(item: Any, n: int, tz: tzinfo) -> Event:
    if not isinstance(item, dict) or not {"TimeCreated", "Id"} <= item.keys():
        got = ", ".join(sorted(item)[:8]) if isinstance(item, dict) else type(item).__name__
        raise EventsError(
            f"event {n} is not an event as Get-WinEvent prints it (expected TimeCreated, Id, "
            f"ProviderName, LogName, LevelDisplayName, Message, Data; got {got or 'nothing'})"
        )
    try:
        time = parse_time(item["TimeCreated"], f"event {n}'s TimeCreated", tz)
    except SourceError as exc:
        raise EventsError(str(exc)) from None
    if time is None:
        raise EventsError(f"event {n} has no TimeCreated")
    return Event(
        time=time,
        id=_id(item["Id"], n),
        provider=_text(item.get("ProviderName"), n, "ProviderName", 200),
        log=_text(item.get("LogName"), n, "LogName", 200),
        level=_text(item.get("LevelDisplayName"), n, "LevelDisplayName", 100),
        message=_text(item.get("Message"), n, "Message", MESSAGE_LIMIT),
        data=_data(item.get("Data"), n),
    )


def _id(value: Any, n: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise EventsError(f"event {n}'s Id is {value!r}, not a number")


def _text(value: Any, n: int, what: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise EventsError(f"event {n}'s {what} is {type(value).__name__}, not text")
    return value[:limit]


def _data(value: Any, n: int) -> dict[str, str]:
    """Named EventData as the script gives it: an object of names and values."""
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise EventsError(
            f"event {n}'s Data is {type(value).__name__}, not an object of EventData names "
            "and values"
        )
    data: dict[str, str] = {}
    for key, item in list(value.items())[:DATA_FIELDS]:
        if isinstance(item, dict | list):
            raise EventsError(f"event {n}'s Data value {key!r} is not a single value")
        data[str(key)[:100]] = "" if item is None else str(item)[:DATA_LIMIT]
    return data
