"""What Event Viewer says about the sync task: the events as the bot holds them, which of them
matter for an alert, and what each means in the reader's language.

Windows writes the task's history to Task Scheduler's Operational log (when task history is
on) and a crash of the eAdm client to the Application log. Of those, an alert about the task
shows the few that explain it:

| log | provider | id | meaning |
| --- | --- | --- | --- |
| Operational | TaskScheduler | 101 | the task failed to start (with an error value) |
| Operational | TaskScheduler | 103 | an instance of the task failed to start (error value) |
| Operational | TaskScheduler | 203 | the action (the program) failed to launch (error value) |
| Operational | TaskScheduler | 201 | the action ended; only a failing `ResultCode` (exit code) |
| Operational | TaskScheduler | 202 | the task failed to complete (error value) |
| Operational | TaskScheduler | 111 | the run was terminated |
| Operational | TaskScheduler | 329 | the run was stopped at the task's time limit |
| Operational | TaskScheduler | 322 | a scheduled start was ignored: a run was still going |
| Application | .NET Runtime | 1026 | an unhandled exception ended the client: type, first lines |
| Application | Application Error | 1000 | the program crashed: faulting module, exception code |

A field (`TaskName`, `ResultCode`, ...) is read from the event's named EventData where the
command gave it, since `Message` is in the server's display language; from `Message` otherwise.
Codes are Task Scheduler's unsigned 32-bit values, shown in hex and decimal, with the meanings
`task_rules` knows. Pure: imports only the core's words (`windows_events`, whose `Event` and
`EventsReading` it names again here), `task_rules` and the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bot.core.i18n import t
from bot.core.task_rules import FAILURES, code32, is_failure
from bot.core.windows_events import Event, EventsReading

__all__ = [
    "APPLICATION_LOG",
    "OPERATIONAL_LOG",
    "TASK_SCHEDULER",
    "Event",
    "EventLine",
    "EventsReading",
    "code_key",
    "code_text",
    "describe",
    "event_field",
    "explain",
    "ignored_start",
    "log_label",
    "same_task",
    "select_events",
]

OPERATIONAL_LOG = "Microsoft-Windows-TaskScheduler/Operational"
APPLICATION_LOG = "Application"
TASK_SCHEDULER = "Microsoft-Windows-TaskScheduler"
DOTNET_RUNTIME = ".NET Runtime"
APPLICATION_ERROR = "Application Error"
PROGRAM = "eAdm.Client.exe"

IGNORED_START = 322

# Windows error values (HRESULTs of Win32 errors) an admin meets when a task cannot start,
# beside Task Scheduler's own codes in task_rules.FAILURES.
WIN32_ERRORS = (0x80070002, 0x80070005, 0x8007052E, 0x80070569, 0x800704DD)


def code_key(code: int) -> str:
    """The message key of a code's meaning (in `events.code`)."""
    return f"events.code.x{code32(code):x}"


# Where Message holds what named EventData would: the English texts of Microsoft's
# documentation, and the Norwegian words for return code and error value.
_MESSAGE_FIELDS: dict[str, re.Pattern[str]] = {
    "TaskName": re.compile(r'[«"](\\[^»"]*)[»"]'),
    "ResultCode": re.compile(
        r"(?:return code|error value(?: is)?|returkode|feilverdi(?:en)?(?: er)?)\s*:?\s*"
        r"(0x[0-9a-f]+|\d+)",
        re.IGNORECASE,
    ),
    "AppName": re.compile(
        r"^(?:Application|Faulting application name|Navn på program med feil):\s*([^,\r\n]+)",
        re.IGNORECASE | re.MULTILINE,
    ),
    "ModuleName": re.compile(
        r"^(?:Faulting module name|Navn på modul med feil):\s*([^,\r\n]+)",
        re.IGNORECASE | re.MULTILINE,
    ),
    "ExceptionCode": re.compile(
        r"^(?:Exception code|Unntakskode):\s*(0x[0-9a-f]+)", re.IGNORECASE | re.MULTILINE
    ),
    "ExceptionInfo": re.compile(r"^Exception Info:\s*(\S+)", re.MULTILINE),
}


def event_field(event: Event, name: str) -> str | None:
    """A field of the event: its named EventData where present, else read from Message."""
    value = event.data.get(name)
    if value not in (None, ""):
        return value.strip()
    pattern = _MESSAGE_FIELDS.get(name)
    if pattern is None or not event.message:
        return None
    match = pattern.search(event.message)
    return match.group(1).strip() if match else None


def _code(text: str | None, *, hex_digits: bool = False) -> int | None:
    """A code as Windows writes it: decimal in EventData and messages, `0x...` in some
    messages; an exception code may come as bare hex digits (`e0434352`)."""
    if not text:
        return None
    try:
        if hex_digits:
            return code32(int(text.lower().removeprefix("0x"), 16))
        return code32(int(text, 0))
    except ValueError:
        return None


def same_task(found: str | None, task_name: str | None) -> bool:
    """Whether an event's TaskName (a path, `\\eAdm synkronisering`) is the watched task."""
    if task_name is None or found is None:
        return True
    have, want = found.strip("\\").casefold(), task_name.strip("\\").casefold()
    return have == want or have.rsplit("\\", 1)[-1] == want


def _same_program(found: str | None, program: str | None) -> bool:
    if program is None or found is None:
        return True
    return found.replace("/", "\\").rsplit("\\", 1)[-1].casefold() == program.casefold()


# -- what matters ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventLine:
    """One event that matters, ready to be told: its meaning is the message `key` filled with
    `params`; `code` (exit code, error value or exception code, as `code_kind` says) and the
    first lines of an exception (`detail`) follow it. `count` is how many alike events it
    stands for (the newest of them)."""

    time: datetime
    log: str
    id: int
    key: str
    params: Mapping[str, str] = field(default_factory=dict)
    code: int | None = None
    code_kind: str | None = None  # "exit", "error" or "exception"
    detail: tuple[str, ...] = ()
    count: int = 1

    def alike(self) -> tuple[object, ...]:
        return (self.log, self.id, self.key, tuple(sorted(self.params.items())), self.code)


_ERROR_EVENTS = {
    101: "events.meaning.start_failed",
    103: "events.meaning.instance_failed",
    203: "events.meaning.action_failed",
    202: "events.meaning.not_completed",
}
_PLAIN_EVENTS = {
    111: "events.meaning.terminated",
    329: "events.meaning.time_limit",
    IGNORED_START: "events.meaning.ignored_start",
}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + "…"


def explain(
    event: Event,
    *,
    task_name: str | None = None,
    program: str | None = PROGRAM,
    detail_lines: int = 4,
    max_chars: int = 300,
) -> EventLine | None:
    """What the event means for an alert about the sync task, or None when it does not
    matter (a success, another task's or program's event, an id of no interest)."""

    def line(key: str, **kw: Any) -> EventLine:
        return EventLine(event.time, event.log, event.id, key, **kw)

    if event.provider == TASK_SCHEDULER or event.log == OPERATIONAL_LOG:
        if not same_task(event_field(event, "TaskName"), task_name):
            return None
        if event.id in _ERROR_EVENTS:
            code = _code(event_field(event, "ResultCode"))
            kind = None if code is None else "error"
            return line(_ERROR_EVENTS[event.id], code=code, code_kind=kind)
        if event.id == 201:
            code = _code(event_field(event, "ResultCode"))
            if code is None or not is_failure(code):
                return None
            return line("events.meaning.exit_code", code=code, code_kind="exit")
        if event.id in _PLAIN_EVENTS:
            return line(_PLAIN_EVENTS[event.id])
        return None
    if event.provider == DOTNET_RUNTIME and event.id == 1026:
        if not _same_program(event_field(event, "AppName"), program):
            return None
        exception = event_field(event, "ExceptionInfo")
        lines = [text.strip() for text in event.message.splitlines() if text.strip()]
        start = next(
            (n + 1 for n, text in enumerate(lines) if text.startswith("Exception Info:")), 0
        )
        detail = tuple(_cut(text, max_chars) for text in lines[start : start + detail_lines])
        if exception is None:
            return line("events.meaning.dotnet_crash_unknown", detail=detail)
        params = {"exception": _cut(exception, max_chars)}
        return line("events.meaning.dotnet_crash", params=params, detail=detail)
    if event.provider == APPLICATION_ERROR and event.id == 1000:
        app = event_field(event, "AppName")
        if not _same_program(app, program):
            return None
        code = _code(event_field(event, "ExceptionCode"), hex_digits=True)
        kind = "exception" if code is not None else None
        module = event_field(event, "ModuleName")
        if module is None:
            return line("events.meaning.app_crash_unknown", code=code, code_kind=kind)
        params = {"program": _cut(app or program or "?", 80), "module": _cut(module, 80)}
        return line("events.meaning.app_crash", params=params, code=code, code_kind=kind)
    return None


def select_events(
    events: Iterable[Event],
    *,
    task_name: str | None = None,
    program: str | None = PROGRAM,
    limit: int = 5,
    detail_lines: int = 4,
    max_chars: int = 300,
) -> list[EventLine]:
    """The newest `limit` events that matter, oldest first; alike events (a 322 every hour)
    are one line with their count, so they cannot push the one that explains it out."""
    newest: dict[tuple[object, ...], EventLine] = {}
    for event in sorted(events, key=lambda e: e.time, reverse=True):
        found = explain(
            event,
            task_name=task_name,
            program=program,
            detail_lines=detail_lines,
            max_chars=max_chars,
        )
        if found is None:
            continue
        key = found.alike()
        if key in newest:
            kept = newest[key]
            newest[key] = replace(kept, count=kept.count + 1)
        elif len(newest) < limit:
            newest[key] = found
    return sorted(newest.values(), key=lambda found: found.time)


def ignored_start(
    events: Iterable[Event],
    *,
    since: datetime,
    until: datetime | None = None,
    task_name: str | None = None,
) -> Event | None:
    """The first scheduled start Task Scheduler ignored (322: a run was still going) from
    `since` up to `until`, or None: the hung run is then also blocking the schedule."""
    ignored = [
        event
        for event in events
        if event.id == IGNORED_START
        and (event.provider == TASK_SCHEDULER or event.log == OPERATIONAL_LOG)
        and since <= event.time
        and (until is None or event.time < until)
        and same_task(event_field(event, "TaskName"), task_name)
    ]
    return min(ignored, key=lambda event: event.time, default=None)


# -- in words --------------------------------------------------------------------------------


def code_text(code: int) -> str:
    value = code32(code)
    return f"0x{value:X} ({value})"


def code_meaning_key(code: int, kind: str) -> str:
    """The key of what a code means where it appears: Task Scheduler's own codes everywhere,
    Windows' error values where the event carries one, the program's own exit code else."""
    value = code32(code)
    if value in FAILURES or (kind != "exit" and value in WIN32_ERRORS):
        return code_key(value)
    return "events.code.exit_own" if kind == "exit" else "events.code.other"


def describe(found: EventLine, lang: str) -> str:
    """The event's meaning in the language, with its code and how often it came; the time,
    log and id are the renderer's to lay out (`log_label` names the log)."""
    text = t(lang, found.key, **found.params)
    if found.code is not None and found.code_kind is not None:
        meaning = t(lang, code_meaning_key(found.code, found.code_kind))
        text += " " + t(
            lang, f"events.{found.code_kind}_code", code=code_text(found.code), meaning=meaning
        )
    if found.count > 1:
        text += " " + t(lang, "events.repeated", n=found.count)
    return text


def log_label(log: str, lang: str) -> str:
    """Where Event Viewer shows the log, in the language of its menus."""
    if log == OPERATIONAL_LOG:
        return t(lang, "events.log.operational")
    if log == APPLICATION_LOG:
        return t(lang, "events.log.application")
    return log
