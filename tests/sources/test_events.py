"""The events command's output against recorded Windows outputs (written from Microsoft's
documentation, see fixtures/events/README.md), every shape PowerShell prints, and bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.errors import EadmBotError, SourceError
from bot.core.event_rules import Event, EventsReading
from bot.sources.events import (
    MAX_EVENTS,
    MAX_OUTPUT,
    MESSAGE_LIMIT,
    EventsError,
    command_for,
    parse_events,
    script_path,
)

EVENTS = Path(__file__).parents[1] / "fixtures" / "events"
OSLO = ZoneInfo("Europe/Oslo")
RUN = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)
OPERATIONAL = "Microsoft-Windows-TaskScheduler/Operational"


def read(name: str) -> EventsReading:
    return parse_events((EVENTS / name).read_bytes(), tz=OSLO)


@pytest.mark.parametrize(
    "fixture,enabled,ids",
    [
        ("ps51-dotnet-crash.json", True, [1001, 201, 102, 1000, 1026, 129, 200, 100]),
        ("ps7-exit-code.json", True, [201, 102, 129, 200, 100]),
        ("ps51-start-failed.json", True, [101]),
        ("ps51-history-off.json", False, []),
        ("ps51-ignored-start.json", True, [322, 322, 129, 200, 100]),
        ("ps7-time-limit.json", True, [111, 329, 129, 200, 100]),
        ("ps51-single-event.json", None, [203]),
        ("ps7-bare-array.json", None, [201, 102, 129, 200, 100]),
        ("ps51-events-single-object.json", True, [202]),
        ("ps51-norwegian.json", True, [201, 102, 200, 100]),
    ],
)
def test_fixtures(fixture: str, enabled: bool | None, ids: list[int]) -> None:
    reading = read(fixture)
    assert reading.operational_log_enabled is enabled
    assert [event.id for event in reading.events] == ids
    for event in reading.events:
        assert event.time.tzinfo is UTC
        assert RUN <= event.time < RUN.replace(hour=8)
        assert event.provider and event.log and event.level and event.message


def test_windows_powershell_51_fields() -> None:
    crash = {event.id: event for event in read("ps51-dotnet-crash.json").events}
    result = crash[201]
    assert result.time == datetime(2026, 11, 27, 5, 3, 41, tzinfo=UTC)  # "\/Date(ms)\/"
    assert result.provider == "Microsoft-Windows-TaskScheduler"
    assert result.log == OPERATIONAL
    assert result.level == "Information"
    assert result.data["TaskName"] == "\\eAdm synkronisering"
    assert result.data["ResultCode"] == "3762504530"
    assert result.data["ActionName"] == "C:\\eAdm\\eAdm.Client.exe"
    assert crash[1026].provider == ".NET Runtime" and crash[1026].log == "Application"
    assert crash[1026].data == {}  # its EventData has no names
    assert "Exception Info: System.Net.WebException" in crash[1026].message


def test_powershell_7_fields() -> None:
    (result, *_) = read("ps7-exit-code.json").events
    # 06:03:41.1234567+01:00: the seventh fractional digit is below what Python keeps.
    assert result.time == datetime(2026, 11, 27, 5, 3, 41, 123456, tzinfo=UTC)
    assert result.data["ResultCode"] == "1"


def test_events_without_data_keep_their_message() -> None:
    (event,) = read("ps51-single-event.json").events
    assert event.data == {}
    assert event.message.endswith("Error Value: 2147942402.")


def test_norwegian_display_language() -> None:
    events = read("ps51-norwegian.json").events
    assert {event.level for event in events} == {"Informasjon"}
    assert "returkode" in events[0].message
    assert events[0].data["ResultCode"] == "3"


def test_a_time_without_offset_is_the_servers() -> None:
    text = json.dumps({"TimeCreated": "2026-11-27T06:00:00", "Id": 100, "LogName": OPERATIONAL})
    (event,) = parse_events(text, tz=OSLO).events
    assert event.time == RUN


@pytest.mark.parametrize(
    "output,enabled",
    [
        (b"", None),  # ConvertTo-Json of nothing prints nothing
        (b"  \r\n", None),
        (b"null", None),
        (b"[]", None),
        (b'{"OperationalLogEnabled": true, "Events": null}', True),
        (b'{"OperationalLogEnabled": true, "Events": []}', True),
        (b'{"Events": []}', None),
        (b'{"operationallogenabled": false, "events": []}', False),
        (b'\xef\xbb\xbf{"OperationalLogEnabled": true, "Events": []}', True),  # a BOM
    ],
)
def test_no_events(output: bytes, enabled: bool | None) -> None:
    assert parse_events(output) == EventsReading(enabled, ())


def big_event(**over: object) -> dict[str, object]:
    event: dict[str, object] = {
        "TimeCreated": "\\/Date(1795755600000)\\/",
        "Id": 100,
        "ProviderName": "Microsoft-Windows-TaskScheduler",
        "LogName": OPERATIONAL,
        "LevelDisplayName": "Information",
        "Message": "Task Scheduler started ...",
        "Data": {"TaskName": "\\eAdm synkronisering"},
    }
    event.update(over)
    return event


def test_bounded_lengths_and_loose_values() -> None:
    event = big_event(
        Message="x" * (MESSAGE_LIMIT + 500),
        Id="322",
        Data={"ResultCode": 2147942402, "Empty": None, "Long": "y" * 5000},
    )
    (parsed,) = parse_events(json.dumps([event])).events
    assert len(parsed.message) == MESSAGE_LIMIT
    assert parsed.id == 322
    assert parsed.data["ResultCode"] == "2147942402"
    assert parsed.data["Empty"] == ""
    assert len(parsed.data["Long"]) == 1000
    (bare,) = parse_events(json.dumps([big_event(Message=None, Data=None)])).events
    assert bare.message == "" and bare.data == {}


@pytest.mark.parametrize(
    "output,words",
    [
        ((EVENTS / "not-json.txt").read_bytes(), "did not print JSON"),
        (b"Get-WinEvent : No events were found", "did not print JSON"),
        (b'{"TaskName": "eAdm", "State": 3}', "neither"),  # the task script's output
        (b'"events"', "is not an event"),
        (b"42", "is not an event"),
        (b"[1, 2]", "event 1 is not an event"),
        (json.dumps([big_event(), {"Id": 1}]).encode(), "event 2 is not an event"),
        (json.dumps({"Events": [big_event(TimeCreated="yesterday")]}).encode(), "TimeCreated"),
        (json.dumps([big_event(TimeCreated=None)]).encode(), "has no TimeCreated"),
        (json.dumps([big_event(TimeCreated=1795755600000)]).encode(), "TimeCreated"),
        (json.dumps([big_event(Id="one")]).encode(), "Id is 'one'"),
        (json.dumps([big_event(Id=True)]).encode(), "Id is True"),
        (json.dumps([big_event(Message=["a"])]).encode(), "Message is list"),
        (json.dumps([big_event(Data=["TaskName"])]).encode(), "Data is list"),
        (json.dumps([big_event(Data={"TaskName": {"a": 1}})]).encode(), "not a single value"),
        (
            json.dumps({"OperationalLogEnabled": "yes", "Events": []}).encode(),
            "OperationalLogEnabled is 'yes'",
        ),
        (json.dumps([big_event()] * (MAX_EVENTS + 1)).encode(), f"more than {MAX_EVENTS}"),
        (b" " * (MAX_OUTPUT + 1), "more than"),
    ],
)
def test_bad_output_is_one_error(output: bytes, words: str) -> None:
    with pytest.raises(EventsError) as caught:
        parse_events(output, tz=OSLO)
    assert words in str(caught.value)
    assert isinstance(caught.value, EadmBotError)
    # Not a SourceError: a broken events command must never make the task's source look down.
    assert not isinstance(caught.value, SourceError)


def test_command_fills_in_the_task_and_the_start() -> None:
    since = datetime(2026, 11, 27, 5, 59, 30, 123456, tzinfo=OSLO)
    argv = command_for(
        ["ssh", "eadm01", "get-sync-events.ps1", "-TaskName", "{task}", "-Since", "{since}"],
        task_name="eAdm synkronisering",
        since=since,
    )
    assert argv[-3:] == ["eAdm synkronisering", "-Since", "2026-11-27T04:59:30Z"]


def test_the_shipped_script() -> None:
    """What the parser relies on the script to do, so that an edit cannot drop it unnoticed."""
    script = script_path().read_text(encoding="utf-8")
    assert "Data[@Name='TaskName']" in script  # the task's own Operational events
    assert "'.NET Runtime'" in script and "'Application Error'" in script
    assert "$ProgramName = 'eAdm.Client.exe'" in script
    assert "NoMatchingEventsFound" in script  # no events is an empty list
    assert "-ListLog $operational" in script and ".IsEnabled" in script
    assert "GetAttribute('Name')" in script  # named EventData into Data
    assert "ConvertTo-Json -Depth 4" in script
    for field in ("TimeCreated", "Id", "ProviderName", "LogName", "LevelDisplayName", "Message"):
        assert f"{field} " in script or f"{field}=" in script


def test_an_event_of_the_status_contract_round_trips() -> None:
    (event, *_) = read("ps51-dotnet-crash.json").events
    data = event.to_dict()
    assert data["time"] == "2026-11-27T05:03:41Z"
    assert set(data) == {"time", "id", "log", "provider", "level", "message", "data"}
    assert Event.from_dict(json.loads(json.dumps(data))) == event
    with pytest.raises(ValueError, match="needs time"):
        Event.from_dict({"id": 1})
    with pytest.raises(ValueError, match="offset"):
        Event.from_dict({"time": "2026-11-27T05:00:00", "id": 1})
