"""Event Viewer's events as the bot holds them: one `Event` as Get-WinEvent gives it, and an
`EventsReading`, what one reading of the events command (or the agent) found.

Plain values with no rules, so that the domain's `TaskInfo` can carry the events of the
task's last run (the agent serves them) and `event_rules` can tell which of them matter.
Imports nothing of the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """One event as Get-WinEvent gives it. `time` is in UTC; `level` and `message` are in the
    server's display language; `data` holds the event's named EventData (may be empty)."""

    time: datetime
    id: int
    provider: str
    log: str
    level: str = ""
    message: str = ""
    data: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The event in the status contract (`task.events` of the agent)."""
        return {
            "time": self.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "id": self.id,
            "log": self.log,
            "provider": self.provider,
            "level": self.level,
            "message": self.message,
            "data": dict(self.data),
        }

    @classmethod
    def from_dict(cls, value: Any) -> Event:
        """An event of the status contract. Raises ValueError saying what is wrong."""
        if not isinstance(value, Mapping):
            raise ValueError(f"an event is an object, not {type(value).__name__}")
        try:
            time = datetime.fromisoformat(str(value["time"]).replace("Z", "+00:00"))
            number = value["id"]
        except (KeyError, ValueError) as exc:
            raise ValueError(f"an event needs time (ISO 8601) and id ({exc})") from None
        if time.tzinfo is None or isinstance(number, bool) or not isinstance(number, int):
            raise ValueError("an event's time needs its offset and its id is a number")
        data = value.get("data") or {}
        if not isinstance(data, Mapping):
            raise ValueError("an event's data is an object")
        return cls(
            time=time.astimezone(UTC),
            id=number,
            provider=str(value.get("provider") or ""),
            log=str(value.get("log") or ""),
            level=str(value.get("level") or ""),
            message=str(value.get("message") or ""),
            data={str(k): "" if v is None else str(v) for k, v in data.items()},
        )


@dataclass(frozen=True, slots=True)
class EventsReading:
    """What the events command printed. `operational_log_enabled` is None when the output did
    not say (a bare list of events, or a single event)."""

    operational_log_enabled: bool | None
    events: tuple[Event, ...] = ()
