"""How long a snooze lasts. Pure.

"1h" and "4h" are that many real hours, whatever a wall clock does across a change to or from
summer time. "tomorrow" is 08:00 on the next calendar day in the bot's time zone, so a snooze
set late in the evening or in the small hours both wake the alert at the start of the next
working morning on the wall clock, summer time or not.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

SNOOZE_HOURS: dict[str, int] = {"1h": 1, "4h": 4}
MORNING_HOUR = 8  # "until tomorrow" means 08:00 local time


def snooze_until(choice: str, now: datetime, tz: tzinfo) -> datetime | None:
    """When a snooze chosen at `now` ends; None for a choice that is not offered."""
    if choice in SNOOZE_HOURS:
        return now + timedelta(hours=SNOOZE_HOURS[choice])
    if choice == "tomorrow":
        local = now.astimezone(tz)
        # Wall-clock arithmetic: the next day's date, then 08:00 there; the zone gives the
        # offset that holds at that moment.
        return (local + timedelta(days=1)).replace(
            hour=MORNING_HOUR, minute=0, second=0, microsecond=0
        )
    return None
