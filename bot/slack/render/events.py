"""What Event Viewer says: the alert's thread reply (*What Event Viewer says*) and its ticket's
attachment, `event-viewer.txt`, both written from the reading kept with the alert. Pure.

Event texts come from the client server: outside text. In the thread every piece of it is
escaped for mrkdwn (`formatting.escape`) and a stack's first lines sit in a code block they
cannot break out of (`formatting.code`), and the reply stays within
THREAD_MAX characters by leaving out whole lines, which the ticket's file then holds. The file
is plain text: every event of the window, with its message and named EventData.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, tzinfo

from bot.core.domain import Condition
from bot.core.event_report import EventsReport, section
from bot.core.event_rules import EventLine, describe, log_label
from bot.core.i18n import t
from bot.slack.render.formatting import code, escape, fmt_time

THREAD_MAX = 2500  # characters of the thread's reply
FILE_MESSAGE_MAX = 2000  # characters of one event's message in the file
FILE_VALUE_MAX = 200  # characters of one EventData value in the file


def render_events_reply(
    report: EventsReport,
    *,
    condition: Condition,
    task_name: str | None,
    lang: str,
    tz: tzinfo,
    now: datetime,
) -> str:
    """The thread's *What Event Viewer says*: the few events that matter, each with its time,
    log, id and meaning, a start ignored while this run went on, and (once a tenant) that task
    history is off."""
    found = section(
        report, condition=condition, task_name=task_name, history_off=report.history_off_told
    )
    head = f"*{t(lang, 'events.title')}*"
    notes = []
    if found.ignored is not None:
        when = fmt_time(found.ignored.time, tz, now)
        notes.append(":warning: " + t(lang, "events.ignored_while_running", time=when))
    if found.history_off:
        notes.append(t(lang, "events.history_off"))
    budget = THREAD_MAX - len(head) - sum(len(note) + 1 for note in notes)
    lines: list[str] = []
    for n, line in enumerate(found.lines):
        text = _line(line, lang, tz, now)
        more = len(found.lines) - n
        reserve = len(t(lang, "events.more", n=more)) + 1 if more > 1 else 0
        if len(text) + 1 > budget - reserve:
            lines.append(t(lang, "events.more", n=more))
            break
        lines.append(text)
        budget -= len(text) + 1
    return "\n".join([head, *lines, *notes])


def _line(line: EventLine, lang: str, tz: tzinfo, now: datetime) -> str:
    escaped = replace(line, params={key: escape(value) for key, value in line.params.items()})
    text = "• " + t(
        lang,
        "events.line",
        time=fmt_time(line.time, tz, now),
        log=log_label(line.log, lang),
        id=line.id,
        meaning=describe(escaped, lang),
    )
    if line.detail:
        text += "\n```" + "\n".join(code(detail) for detail in line.detail) + "```"
    return text


def events_file(
    report: EventsReport,
    *,
    condition: Condition,
    task_name: str,
    lang: str,
    tz: tzinfo,
) -> str:
    """`event-viewer.txt`: what the thread said, then every event of the window."""
    found = section(report, condition=condition, task_name=task_name, history_off=True)

    def when(value: datetime) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")

    out = [
        t(lang, "events.title"),
        t(lang, "events.file_intro", task=task_name, since=when(report.since), tz=str(tz)),
        "",
    ]
    if found.history_off:
        out += [t(lang, "events.history_off"), ""]
    if found.ignored is not None:
        out += [t(lang, "events.ignored_while_running", time=when(found.ignored.time)), ""]
    out.append(t(lang, "events.file_matter"))
    for line in found.lines:
        where = f"{log_label(line.log, lang)}, {line.id}"
        out.append(f"  {when(line.time)}  {where}: {describe(line, lang)}")
        out += [f"      {detail}" for detail in line.detail]
    if not found.lines:
        out.append("  " + t(lang, "events.file_none"))
    out += ["", t(lang, "events.file_all")]
    for event in report.events:
        head = f"{event.log}  {event.id}  {event.level}  {event.provider}"
        out.append(f"  {when(event.time)}  {head}")
        message = event.message[:FILE_MESSAGE_MAX]
        out += [f"      {text.rstrip()}" for text in message.splitlines() if text.strip()]
        if event.data:
            pairs = "; ".join(f"{k}={v[:FILE_VALUE_MAX]}" for k, v in event.data.items())
            out.append(f"      Data: {pairs}")
    if not report.events:
        out.append("  " + t(lang, "events.file_none"))
    return "\n".join(out) + "\n"
