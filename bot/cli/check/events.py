"""The Event Viewer check: the tenant's events command, run once for the last day, and what it
found (how many events, how many of them an alert would tell, whether task history is on); and
the same words for the events an agent serves with the status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.cli.check.verdict import Verdict, failed, passed
from bot.core.event_rules import select_events
from bot.core.settings import Settings, Tenant
from bot.core.windows_events import EventsReading
from bot.sources.events import EventsError, events_command, events_redactor, read_events

WINDOW = timedelta(days=1)  # how far back the check reads
_FIX = (
    "make EADM_EVENTS_COMMAND (events_command) print the events as the shipped script does "
    "(eadm-bot task-script --events), and give its account membership of Event Log Readers"
)


def found(reading: EventsReading, task_name: str) -> str:
    """How many events, how many an alert would tell, and whether task history is on."""
    told = len(select_events(reading.events, task_name=task_name, limit=1000))
    history = {
        True: "task history is on",
        False: "task history is OFF, so Task Scheduler's own events are missing; turn it on "
        "in Task Scheduler (Actions: Enable All Tasks History)",
        None: "the output does not say whether task history is on",
    }[reading.operational_log_enabled]
    return f"{len(reading.events)} event(s), {told} an alert would tell; {history}"


async def check_events(settings: Settings, tenant: Tenant) -> Verdict:
    """Run the tenant's events command once, for the last day."""
    item = f"[{tenant.name}] Event Viewer"
    command = events_command(tenant)
    assert command is not None, "checked only where the tenant has an events command"
    since = datetime.now(UTC) - WINDOW
    try:
        reading = await read_events(
            command,
            task_name=tenant.task_name,
            since=since,
            seconds=tenant.task_timeout,
            tz=settings.tz,
            redactor=events_redactor(tenant),
        )
    except EventsError as exc:
        return failed(item, str(exc), _FIX)
    where = " ".join(tenant.events_command or ["the shipped PowerShell script"])
    return passed(
        item,
        f"{where}: since {since.astimezone(settings.tz):%Y-%m-%d %H:%M}, "
        + found(reading, tenant.task_name),
    )
