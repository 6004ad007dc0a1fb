"""What Windows writes to Event Viewer about the sync task, as the Task Scheduler stand-in
(`scheduler`) plays it, and what the shipped events script prints of it.

Task Scheduler's Operational log gets, while task history is on: 110 (a start asked for by a
user, as `schtasks /Run` does), 100 (started), 129 (the process launched), 200 (the action
launched), 322 for each scheduled start that came while the run still went on, then 201 (the
action completed, with the program's exit code as `ResultCode`) and 102 (finished). With
history off it gets nothing. The Application log gets a crash of the eAdm client whatever the
history: .NET Runtime 1026 with the exception and its stack, Application Error 1000, and
Windows Error Reporting 1001. Texts and EventData follow Microsoft's documentation, as the
recorded fixtures do; names and numbers are made up.

The events live in the task's state file (its `events` list, oldest first, the newest KEEP).
Imports nothing from the package but the standard library.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

OPERATIONAL = "Microsoft-Windows-TaskScheduler/Operational"
TASK_SCHEDULER = "Microsoft-Windows-TaskScheduler"
PROGRAM = r"C:\eAdm\eAdm.Client.exe"
USER = r"DEMO-KOMMUNE\svc-eadm"
DOTNET_CRASH = 0xE0434352
KEEP = 400

_STACK = (
    "Application: eAdm.Client.exe\r\nFramework Version: v4.0.30319\r\n"
    "Description: The process was terminated due to an unhandled exception.\r\n"
    "Exception Info: System.Net.WebException\r\n"
    "   at System.Net.HttpWebRequest.GetResponse()\r\n"
    "   at eAdm.Client.Api.ApiClient.Send(System.Net.HttpWebRequest)\r\n"
    "   at eAdm.Client.Sync.Runner.ImportHr()\r\n"
    "   at eAdm.Client.Program.Main(System.String[])\r\n"
)
_FAULT = (
    "Faulting application name: eAdm.Client.exe, version: 3.4.0.0, time stamp: 0x65a1b2c3\r\n"
    "Faulting module name: KERNELBASE.dll, version: 10.0.17763.5830, time stamp: 0x2f1e3c4d\r\n"
    "Exception code: 0xe0434352\r\nFault offset: 0x0000000000034f69\r\n"
    "Faulting application path: C:\\eAdm\\eAdm.Client.exe\r\n"
)
_REPORT = "Fault bucket , type 0\r\nEvent Name: CLR20r3\r\nResponse: Not available\r\n"


def _add(
    state: dict[str, Any],
    when: datetime,
    number: int,
    message: str,
    *,
    level: str = "Information",
    provider: str = TASK_SCHEDULER,
    log: str = OPERATIONAL,
    **data: str,
) -> None:
    if log == OPERATIONAL and not state.get("history", True):
        return  # task history is off: the Operational log holds nothing of the task
    events = state.setdefault("events", [])
    events.append(
        {
            "time": when.astimezone(UTC).isoformat(),
            "id": number,
            "provider": provider,
            "log": log,
            "level": level,
            "message": message,
            "data": data,
        }
    )
    del events[:-KEEP]


def _task(state: dict[str, Any]) -> str:
    return "\\" + str(state["name"]).lstrip("\\")


def run_started(state: dict[str, Any], when: datetime, *, by_user: bool) -> None:
    task, instance = _task(state), "{" + str(uuid.uuid4()) + "}"
    state["instance"] = instance
    if by_user:
        _add(
            state,
            when,
            110,
            f'Task Scheduler launched "{instance}"  instance of task "{task}" for user "{USER}" .',
            TaskName=task,
            InstanceId=instance,
            UserName=USER,
        )
    _add(
        state,
        when,
        100,
        f'Task Scheduler started "{instance}" instance of the "{task}" task for user "{USER}".',
        TaskName=task,
        UserContext=USER,
        InstanceId=instance,
    )
    _add(
        state,
        when,
        129,
        f'Task Scheduler launch task "{task}" , instance "{PROGRAM}"  with process ID 4711.',
        TaskName=task,
        Path=PROGRAM,
        ProcessID="4711",
        Priority="16384",
    )
    _add(
        state,
        when,
        200,
        f'Task Scheduler launched action "{PROGRAM}" in instance "{instance}" of task "{task}".',
        TaskName=task,
        ActionName=PROGRAM,
        TaskInstanceId=instance,
    )


def run_ended(state: dict[str, Any], when: datetime, result: int) -> None:
    task, instance = _task(state), str(state.get("instance") or "{}")
    if result == DOTNET_CRASH:
        app = {"provider": ".NET Runtime", "log": "Application", "level": "Error"}
        _add(state, when - timedelta(seconds=2), 1026, _STACK, **app)
        app["provider"] = "Application Error"
        _add(state, when - timedelta(seconds=1), 1000, _FAULT, **app)
        app.update(provider="Windows Error Reporting", level="Information")
        _add(state, when, 1001, _REPORT, **app)
    _add(
        state,
        when,
        201,
        f'Task Scheduler successfully completed task "{task}" , instance '
        f'"{instance}" , action "{PROGRAM}" with return code {result}.',
        TaskName=task,
        TaskInstanceId=instance,
        ActionName=PROGRAM,
        ResultCode=str(result),
    )
    _add(
        state,
        when,
        102,
        f'Task Scheduler successfully finished "{instance}" instance of the '
        f'"{task}" task for user "{USER}".',
        TaskName=task,
        UserContext=USER,
        InstanceId=instance,
    )


def ignored_starts(state: dict[str, Any], started: datetime, now: datetime) -> None:
    """A 322 for each scheduled time that came while the run started at `started` went on."""
    interval = float(state.get("interval") or 0)
    if interval <= 0:
        return
    through = state.get("ignored_through")
    last = datetime.fromisoformat(through) if through else started
    when = started + timedelta(seconds=interval)
    while when <= now:
        if when > last:
            task, instance = _task(state), str(state.get("instance") or "{}")
            _add(
                state,
                when,
                322,
                f'Task Scheduler did not launch task "{task}"  because '
                f'instance "{instance}" of the same task is already running.',
                level="Warning",
                TaskName=task,
                InstanceId=instance,
            )
            state["ignored_through"] = when.isoformat()
        when += timedelta(seconds=interval)


def printed(state: dict[str, Any], *, since: datetime, task: str, shape: str) -> str:
    """What the shipped events script prints: the task's Operational events and the eAdm
    client's Application events since `since`, newest first, as Windows PowerShell 5.1
    (`ps51`) or PowerShell 7 (`ps7`) writes them."""
    wanted = "\\" + task.lstrip("\\")
    out = []
    for event in reversed(state.get("events") or []):
        when = datetime.fromisoformat(event["time"])
        if when < since:
            continue
        if event["log"] == OPERATIONAL and event["data"].get("TaskName") != wanted:
            continue
        if shape == "ps51":
            created: str = f"/Date({int(when.timestamp() * 1000)})/"
        else:
            created = when.astimezone().isoformat(timespec="microseconds")
        out.append(
            {
                "TimeCreated": created,
                "Id": event["id"],
                "ProviderName": event["provider"],
                "LogName": event["log"],
                "LevelDisplayName": event["level"],
                "Message": event["message"],
                "Data": event["data"],
            }
        )
    text = json.dumps(
        {"OperationalLogEnabled": bool(state.get("history", True)), "Events": out},
        separators=(",", ":"),
    )
    return text.replace("/Date(", "\\/Date(").replace(")/", ")\\/") if shape == "ps51" else text
