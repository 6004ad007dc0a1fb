"""Which Event Viewer events matter for an alert about the sync task, and what each means:
one row per event id and shape, then the recorded outputs as an alert would show them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.event_rules import (
    APPLICATION_LOG,
    OPERATIONAL_LOG,
    TASK_SCHEDULER,
    WIN32_ERRORS,
    Event,
    EventLine,
    code_key,
    describe,
    explain,
    ignored_start,
    log_label,
    select_events,
)
from bot.core.i18n import keys
from bot.core.task_rules import FAILURES
from bot.sources.events import parse_events

EVENTS = Path(__file__).parents[1] / "fixtures" / "events"
RUN = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
TASK = "\\eAdm synkronisering"
NAME = "eAdm synkronisering"

STACK = (
    "Application: eAdm.Client.exe\r\nFramework Version: v4.0.30319\r\n"
    "Description: The process was terminated due to an unhandled exception.\r\n"
    "Exception Info: System.IO.IOException\r\n"
    "   at A.One()\r\n   at A.Two()\r\n   at A.Three()\r\n   at A.Four()\r\n   at A.Five()\r\n"
)
FAULT = (
    "Faulting application name: eAdm.Client.exe, version: 3.4.0.0, time stamp: 0x65a1b2c3\r\n"
    "Faulting module name: clr.dll, version: 4.8.4700.0, time stamp: 0x6584d4a2\r\n"
    "Exception code: 0xc0000005\r\nFault offset: 0x0000000000034f69\r\n"
)


def task_event(id: int, message: str = "", **data: str) -> Event:
    return Event(RUN, id, TASK_SCHEDULER, OPERATIONAL_LOG, "Error", message, data)


def app_event(provider: str, id: int, message: str, **data: str) -> Event:
    return Event(RUN, id, provider, APPLICATION_LOG, "Error", message, data)


def shape(found: EventLine | None) -> tuple[object, ...] | None:
    if found is None:
        return None
    code = None if found.code is None else f"0x{found.code:X}"
    return (found.key.removeprefix("events.meaning."), dict(found.params), code, found.code_kind)


@pytest.mark.parametrize(
    "event,expected",
    [
        # Start failures, with their error value from Data or from the message.
        (
            task_event(101, TaskName=TASK, ResultCode="2147943726"),
            ("start_failed", {}, "0x8007052E", "error"),
        ),
        (
            task_event(
                101, f'failed to start "{TASK}" task. Additional Data: Error Value: 2147943726.'
            ),
            ("start_failed", {}, "0x8007052E", "error"),
        ),
        (
            task_event(103, TaskName=TASK, ResultCode="2147942402"),
            ("instance_failed", {}, "0x80070002", "error"),
        ),
        (
            task_event(203, f'action "x" of task "{TASK}". The error value is: 2147942402.'),
            ("action_failed", {}, "0x80070002", "error"),
        ),
        (task_event(203, TaskName=TASK), ("action_failed", {}, None, None)),
        (
            task_event(202, TaskName=TASK, ResultCode="2147946720"),
            ("not_completed", {}, "0x800710E0", "error"),
        ),
        # The action's exit code: only a failing one matters.
        (
            task_event(201, TaskName=TASK, ResultCode="3762504530"),
            ("exit_code", {}, "0xE0434352", "exit"),
        ),
        (task_event(201, TaskName=TASK, ResultCode="1"), ("exit_code", {}, "0x1", "exit")),
        (task_event(201, TaskName=TASK, ResultCode="-1"), ("exit_code", {}, "0xFFFFFFFF", "exit")),
        (
            task_event(201, f'task "{TASK}" , action "x" with return code 2.'),
            ("exit_code", {}, "0x2", "exit"),
        ),
        (task_event(201, TaskName=TASK, ResultCode="0"), None),
        (task_event(201, TaskName=TASK, ResultCode="267009"), None),  # 0x41301: informational
        (task_event(201, "a message without a code", TaskName=TASK), None),
        # Termination, time limit, ignored start.
        (task_event(111, TaskName=TASK), ("terminated", {}, None, None)),
        (task_event(329, TaskName=TASK), ("time_limit", {}, None, None)),
        (task_event(322, TaskName=TASK), ("ignored_start", {}, None, None)),
        # A task in a folder is the task too; another task is not.
        (
            task_event(322, TaskName="\\Kommune\\eAdm synkronisering"),
            ("ignored_start", {}, None, None),
        ),
        (task_event(322, TaskName="\\Other task"), None),
        (task_event(322, 'did not launch task "\\Other task" because ...'), None),
        # What a run writes when it goes well.
        (task_event(100, TaskName=TASK), None),
        (task_event(102, TaskName=TASK), None),
        (task_event(129, TaskName=TASK), None),
        (task_event(200, TaskName=TASK), None),
        # The client's crash in the Application log.
        (
            app_event(".NET Runtime", 1026, STACK),
            ("dotnet_crash", {"exception": "System.IO.IOException"}, None, None),
        ),
        (app_event(".NET Runtime", 1026, STACK.replace("eAdm.Client.exe", "Other.exe")), None),
        (
            app_event(".NET Runtime", 1026, "Application: eAdm.Client.exe\r\nsomething else"),
            ("dotnet_crash_unknown", {}, None, None),
        ),
        (
            app_event("Application Error", 1000, FAULT),
            (
                "app_crash",
                {"program": "eAdm.Client.exe", "module": "clr.dll"},
                "0xC0000005",
                "exception",
            ),
        ),
        (
            app_event(
                "Application Error",
                1000,
                "",
                AppName="eAdm.Client.exe",
                ModuleName="KERNELBASE.dll",
                ExceptionCode="e0434352",
            ),
            (
                "app_crash",
                {"program": "eAdm.Client.exe", "module": "KERNELBASE.dll"},
                "0xE0434352",
                "exception",
            ),
        ),
        (app_event("Application Error", 1000, "Faulting application name: x"), None),
        (
            app_event("Application Error", 1000, "no names"),
            ("app_crash_unknown", {}, None, None),
        ),
        (app_event("Application Error", 1000, FAULT.replace("eAdm.Client.exe", "w3wp.exe")), None),
        (app_event("Windows Error Reporting", 1001, "P1: eAdm.Client.exe"), None),
        (app_event("Something Else", 1026, STACK), None),
    ],
)
def test_what_matters(event: Event, expected: tuple[object, ...] | None) -> None:
    assert shape(explain(event, task_name=NAME)) == expected


def test_first_lines_of_an_exception_are_bounded() -> None:
    event = app_event(".NET Runtime", 1026, STACK.replace("IOException", "IO" + "X" * 500))
    found = explain(event, detail_lines=3, max_chars=40)
    assert found is not None
    assert found.detail == ("at A.One()", "at A.Two()", "at A.Three()")
    assert len(found.params["exception"]) == 40 and found.params["exception"].endswith("…")


def read(name: str) -> list[Event]:
    return list(parse_events((EVENTS / name).read_bytes()).events)


@pytest.mark.parametrize(
    "fixture,lines",
    [
        (
            "ps51-dotnet-crash.json",
            [
                (1026, "dotnet_crash", None, 1),
                (1000, "app_crash", "0xE0434352", 1),
                (201, "exit_code", "0xE0434352", 1),
            ],
        ),
        ("ps7-exit-code.json", [(201, "exit_code", "0x1", 1)]),
        ("ps51-start-failed.json", [(101, "start_failed", "0x8007052E", 1)]),
        ("ps51-history-off.json", []),
        ("ps51-ignored-start.json", [(322, "ignored_start", None, 2)]),
        ("ps7-time-limit.json", [(329, "time_limit", None, 1), (111, "terminated", None, 1)]),
        ("ps51-single-event.json", [(203, "action_failed", "0x80070002", 1)]),
        ("ps7-bare-array.json", [(201, "exit_code", "0x2", 1)]),
        ("ps51-events-single-object.json", [(202, "not_completed", "0x800710E0", 1)]),
        ("ps51-norwegian.json", [(201, "exit_code", "0x3", 1)]),
    ],
)
def test_recorded_outputs(fixture: str, lines: list[tuple[object, ...]]) -> None:
    found = select_events(read(fixture), task_name=NAME)
    assert [
        (
            line.id,
            line.key.removeprefix("events.meaning."),
            None if line.code is None else f"0x{line.code:X}",
            line.count,
        )
        for line in found
    ] == lines
    assert [line.time for line in found] == sorted(line.time for line in found)
    for line in found:
        for lang in ("en", "nb"):
            assert describe(line, lang)  # every key and placeholder exists in both


def test_the_crash_in_both_languages() -> None:
    dotnet, fault, exit_code = select_events(read("ps51-dotnet-crash.json"), task_name=NAME)
    assert describe(dotnet, "en") == (
        "The eAdm client stopped on an unhandled .NET exception: System.Net.WebException."
    )
    assert dotnet.detail[0] == "at System.Net.HttpWebRequest.GetResponse()"
    assert describe(fault, "en") == (
        "eAdm.Client.exe crashed in KERNELBASE.dll. Exception code 0xE0434352 (3762504530): an "
        "unhandled .NET exception in the eAdm client; Event Viewer > Windows Logs > Application "
        'shows it under ".NET Runtime".'
    )
    assert describe(exit_code, "nb").startswith(
        "Synkroniseringsprogrammet avsluttet med feil. Avslutningskode 0xE0434352 (3762504530): "
        "et ubehandlet .NET-unntak i eAdm-klienten"
    )
    (start,) = select_events(read("ps51-start-failed.json"), task_name=NAME)
    assert describe(start, "nb") == (
        "Oppgaveplanlegging (Task Scheduler) kunne ikke starte oppgaven. Feilverdi 0x8007052E "
        "(2147943726): kontoen oppgaven kjører som, kunne ikke logge på: ukjent brukernavn eller "
        "feil passord (et endret passord må legges inn i oppgaven på nytt)."
    )
    (own,) = select_events(read("ps7-exit-code.json"), task_name=NAME)
    assert describe(own, "en") == (
        "The sync program ended with a failure. Exit code 0x1 (1): the sync program's own exit "
        "code (the eAdm client's log in c:/eadm/logg says what it means)."
    )
    (ignored,) = select_events(read("ps51-ignored-start.json"), task_name=NAME)
    assert describe(ignored, "nb") == (
        "En planlagt start ble hoppet over fordi en kjøring fortsatt pågikk. (2 ganger)"
    )


def test_an_unknown_error_value_is_shown_as_one() -> None:
    (line,) = select_events([task_event(101, TaskName=TASK, ResultCode="2147942487")])
    assert describe(line, "en") == (
        "Task Scheduler could not start the task. Error value 0x80070057 (2147942487): a Windows "
        "error value (Microsoft's list of system error codes says what it means)."
    )


def test_newest_few_that_matter_oldest_first() -> None:
    events = [
        Event(RUN + timedelta(minutes=n), 201, TASK_SCHEDULER, OPERATIONAL_LOG, "", "", {
            "TaskName": TASK, "ResultCode": str(n + 1)
        })
        for n in range(10)
    ]  # fmt: skip
    events += [task_event(100, TaskName=TASK)] * 50  # never crowd the few out
    found = select_events(events, limit=3)
    assert [line.code for line in found] == [8, 9, 10]
    assert select_events(events, limit=0) == []
    assert select_events([]) == []


def test_alike_events_count_into_the_newest() -> None:
    ignored = [
        Event(RUN + timedelta(hours=n), 322, TASK_SCHEDULER, OPERATIONAL_LOG, "", "", {
            "TaskName": TASK
        })
        for n in range(1, 25)
    ]  # fmt: skip
    crash = task_event(201, TaskName=TASK, ResultCode="1")
    found = select_events([*ignored, crash], limit=2)
    assert [(line.id, line.count) for line in found] == [(201, 1), (322, 24)]
    assert found[1].time == RUN + timedelta(hours=24)


def test_ignored_start_in_the_window() -> None:
    events = read("ps51-ignored-start.json")
    first, second = RUN + timedelta(hours=1), RUN + timedelta(hours=2)
    assert ignored_start(events, since=RUN).time == first  # type: ignore[union-attr]
    assert ignored_start(events, since=first).time == first  # type: ignore[union-attr]
    assert ignored_start(events, since=first + timedelta(seconds=1)).time == second  # type: ignore[union-attr]
    assert ignored_start(events, since=RUN, until=first) is None
    assert ignored_start(events, since=second + timedelta(seconds=1)) is None
    assert ignored_start(events, since=RUN, task_name=NAME) is not None
    assert ignored_start(events, since=RUN, task_name="Another task") is None
    assert ignored_start(read("ps51-dotnet-crash.json"), since=RUN) is None
    assert ignored_start([], since=RUN) is None


def test_every_code_has_its_meaning_in_both_languages() -> None:
    """Task Scheduler's codes the task rules know, and Windows' error values, each have a
    text; so do the codes no list knows."""
    for lang in ("en", "nb"):
        texts = keys(lang)
        for code in (*FAILURES, *WIN32_ERRORS):
            assert code_key(code) in texts, (lang, hex(code))
        assert {"events.code.exit_own", "events.code.other"} <= texts


def test_log_labels() -> None:
    assert "Operational" in log_label(OPERATIONAL_LOG, "en")
    assert log_label(APPLICATION_LOG, "en") == "Windows Logs > Application"
    assert log_label(APPLICATION_LOG, "nb") == "Windows-logger > Program (Application)"
    assert log_label("System", "nb") == "System"
