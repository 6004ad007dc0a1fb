"""How long a snooze lasts, in Oslo, on ordinary days and across both changes of summer time.

In 2026 summer time begins on Sunday 29 March (02:00 CET becomes 03:00 CEST) and ends on
Sunday 25 October (03:00 CEST becomes 02:00 CET).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.snooze import snooze_until

OSLO = ZoneInfo("Europe/Oslo")


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "choice", "until"),
    [
        # An hour and four hours are real hours, whatever the wall clock does.
        (utc(11, 24, 21), "1h", utc(11, 24, 22)),
        (utc(11, 24, 21), "4h", utc(11, 25, 1)),
        # 01:30 CET on the night summer time begins: four hours later the wall reads 06:30.
        (utc(3, 29, 0, 30), "4h", utc(3, 29, 4, 30)),
        # 02:30 CEST on the night summer time ends: an hour later the wall reads 02:30 again.
        (utc(10, 25, 0, 30), "1h", utc(10, 25, 1, 30)),
        # Tomorrow is 08:00 on the next calendar day in Oslo: 07:00 UTC in winter...
        (utc(11, 24, 21), "tomorrow", utc(11, 25, 7)),
        # ...and 06:00 UTC in summer.
        (utc(6, 15, 10), "tomorrow", utc(6, 16, 6)),
        # The evening before summer time begins (22:30 CET): the morning is in CEST.
        (utc(3, 28, 21, 30), "tomorrow", utc(3, 29, 6)),
        # In the short night itself (01:30 CET), before the clocks jump: the day after.
        (utc(3, 29, 0, 30), "tomorrow", utc(3, 30, 6)),
        # The evening before summer time ends (23:30 CEST): the morning is in CET.
        (utc(10, 24, 21, 30), "tomorrow", utc(10, 25, 7)),
        # In the hour that happens twice (02:30 CEST, the first time): the day after.
        (utc(10, 25, 0, 30), "tomorrow", utc(10, 26, 7)),
        # The same wall time an hour later (02:30 CET, the second time): the same morning.
        (utc(10, 25, 1, 30), "tomorrow", utc(10, 26, 7)),
        # Just after midnight local time, "tomorrow" is still the next calendar day.
        (utc(11, 24, 23, 30), "tomorrow", utc(11, 26, 7)),
    ],
)
def test_snooze_until(now: datetime, choice: str, until: datetime) -> None:
    assert snooze_until(choice, now, OSLO) == until


@pytest.mark.parametrize(
    "now",
    [utc(3, 28, 21, 30), utc(3, 29, 0, 30), utc(10, 24, 21, 30), utc(10, 25, 1, 30)],
)
def test_tomorrow_reads_eight_on_the_wall_clock_in_oslo(now: datetime) -> None:
    until = snooze_until("tomorrow", now, OSLO)
    assert until is not None
    local = until.astimezone(OSLO)
    assert (local.hour, local.minute) == (8, 0)
    assert local.date() == now.astimezone(OSLO).date() + timedelta(days=1)


@pytest.mark.parametrize("choice", ["", "2h", "forever", "Tomorrow"])
def test_a_choice_that_is_not_offered_gives_no_time(choice: str) -> None:
    assert snooze_until(choice, utc(11, 24, 21), OSLO) is None
