"""*What Event Viewer says* in an alert's thread, and the ticket's `event-viewer.txt`, from the
recorded outputs: in both languages, bounded, with the event texts as outside text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.domain import Condition
from bot.core.event_report import EARLY, EventsReport, report_for
from bot.core.event_rules import APPLICATION_LOG, DOTNET_RUNTIME, OPERATIONAL_LOG, Event
from bot.core.i18n import t
from bot.slack.render import events_file, render_events_reply
from bot.slack.render.events import THREAD_MAX
from bot.sources.events import parse_events

EVENTS = Path(__file__).parents[1] / "fixtures" / "events"
OSLO = ZoneInfo("Europe/Oslo")
RUN = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
NOW = RUN + timedelta(hours=2)
NAME = "eAdm synkronisering"


def report(fixture: str) -> EventsReport:
    return report_for(parse_events((EVENTS / fixture).read_bytes()), since=RUN - EARLY, now=NOW)


def reply(found: EventsReport, condition: Condition = Condition.FAILED, lang: str = "en") -> str:
    return render_events_reply(
        found, condition=condition, task_name=NAME, lang=lang, tz=OSLO, now=NOW
    )


def test_a_crash_in_english() -> None:
    text = reply(report("ps51-dotnet-crash.json"))
    lines = text.splitlines()
    assert lines[0] == "*What Event Viewer says*"
    assert lines[1] == (
        "• 06:03 · Windows Logs > Application, event 1026: The eAdm client stopped on an "
        "unhandled .NET exception: System.Net.WebException."
    )
    assert "```at System.Net.HttpWebRequest.GetResponse()" in text  # the stack's first lines
    assert "event 1000: eAdm.Client.exe crashed in KERNELBASE.dll." in text
    assert "event 201: The sync program ended with a failure. Exit code 0xE0434352" in text
    assert "event 1001" not in text and "event 100:" not in text  # what does not matter


def test_a_crash_in_bokmal() -> None:
    text = reply(report("ps51-dotnet-crash.json"), lang="nb")
    assert text.startswith("*Hva Hendelsesliste (Event Viewer) sier*\n")
    assert "hendelse 1026: eAdm-klienten stoppet på et ubehandlet .NET-unntak" in text
    assert "Avslutningskode 0xE0434352 (3762504530)" in text


def test_a_hung_run_that_blocks_the_schedule() -> None:
    text = reply(report("ps51-ignored-start.json"), Condition.STUCK)
    assert ":warning: Task Scheduler ignored a scheduled start at 07:00" in text
    assert "Contact Identum support; do not start a second run." in text
    assert "event 322" not in text  # told once, in its own words


def test_history_off_is_said_only_where_the_tenant_is_told() -> None:
    off = report("ps51-history-off.json")
    told = reply(replace(off, history_off_told=True))
    assert t("en", "events.history_off") in told
    assert "Enable All Tasks History" in told
    assert t("en", "events.history_off") not in reply(off)
    assert t("nb", "events.history_off") in reply(replace(off, history_off_told=True), lang="nb")


def test_event_text_is_outside_text() -> None:
    hostile = "Exception Info: <!channel> *bold* <https://evil.example|click>\n   at <@U1>()\n"
    event = Event(
        RUN,
        1026,
        DOTNET_RUNTIME,
        APPLICATION_LOG,
        "Error",
        "Application: eAdm.Client.exe\n" + hostile + "   at ```x```\n",
    )
    text = reply(EventsReport(RUN - EARLY, NOW, True, (event,)))
    assert "<!channel>" not in text and "<https" not in text and "<@U1>" not in text
    assert "&lt;!channel&gt;" in text
    assert text.count("```") == 2  # the stack's own fence cannot close the block


def test_the_reply_is_bounded() -> None:
    long = "Exception Info: System.Exception\n" + "   at " + "x" * 400 + "\n"
    many = tuple(
        Event(RUN + timedelta(minutes=n), 1026, DOTNET_RUNTIME, APPLICATION_LOG, "Error", long * 5)
        for n in range(5)
    )
    crashes = tuple(
        replace(e, message="Application: eAdm.Client.exe\n" + e.message.replace("System", f"E{n}"))
        for n, e in enumerate(many)
    )
    text = reply(EventsReport(RUN - EARLY, NOW, True, crashes))
    assert len(text) <= THREAD_MAX
    assert text.count("```") % 2 == 0  # no block cut in half
    assert "more that matter are in the ticket's attachment, event-viewer.txt." in text


@pytest.mark.parametrize("lang", ["en", "nb"])
def test_the_tickets_file(lang: str) -> None:
    found = report("ps51-dotnet-crash.json")
    text = events_file(found, condition=Condition.FAILED, task_name=NAME, lang=lang, tz=OSLO)
    assert text.startswith(t(lang, "events.title") + "\n")
    assert "since 2026-11-27 05:59:00 (times in Europe/Oslo)" in text or lang == "nb"
    assert "2026-11-27 06:03:39  " in text  # the crash, in the server's local time
    # Every event of the window with its message and data, not only those that matter.
    assert f"{OPERATIONAL_LOG}  100  Information" in text
    assert "Data: TaskName=\\eAdm synkronisering; UserContext=KOMMUNE\\svc-eadm" in text
    assert "at eAdm.Client.Program.Main(System.String[])" in text


def test_the_file_of_a_server_without_history() -> None:
    off = report("ps51-history-off.json")
    text = events_file(off, condition=Condition.FAILED, task_name=NAME, lang="en", tz=OSLO)
    assert t("en", "events.history_off") in text
    assert text.count("(none)") == 2
