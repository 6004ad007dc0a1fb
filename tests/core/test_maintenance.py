"""Maintenance windows, row by row: how people write them, every way to write one wrong, and
the calendar around both daylight-saving changes of 2026 in Europe/Oslo (29 March, 02:00 ->
03:00; 25 October, 03:00 -> 02:00), month ends, patch night and the one-off date.

Times in the rows are month-day (of 2026, unless a year is written) and the wall-clock time with
the offset Oslo has at that instant, so a row says which of two equal wall-clock times it
means."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.maintenance import (
    MaintenanceError,
    Occurrence,
    Window,
    active_window,
    next_window,
    parse_windows,
)

OSLO = ZoneInfo("Europe/Oslo")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(text: str) -> datetime:
    """ "12-01 22:00+01" is 2026-12-01T22:00:00+01:00; a time of another year names it."""
    if text[2] == "-":
        text = "2026-" + text
    text = text.replace(" ", "T")
    return datetime.fromisoformat(text + ":00" if re.search(r"[+-]\d\d$", text) else text)


def span(start: str, end: str) -> Occurrence:
    return Occurrence(at(start), at(end))


def readings(found: Occurrence | None) -> tuple[str, str] | None:
    """An occurrence as its instants in UTC and its wall-clock readings with their offsets.
    (Python never finds a time in a repeated hour equal to one in another zone, so the rows
    compare these instead of the datetimes.)"""
    if found is None:
        return None
    return (
        f"{found.start.astimezone(UTC).isoformat()} = {found.start.isoformat()}",
        f"{found.end.astimezone(UTC).isoformat()} = {found.end.isoformat()}",
    )


# -- parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,weekdays,nth,on,start,end",
    [
        ("tue 22:00-02:00", {TUE}, None, None, 22 * 60, 2 * 60),
        ("Tuesday 22:00-02:00", {TUE}, None, None, 1320, 120),
        ("tir 22:00-02:00", {TUE}, None, None, 1320, 120),
        ("TIRSDAG 22:00 - 02:00", {TUE}, None, None, 1320, 120),
        ("søn 06:00-08:00", {SUN}, None, None, 360, 480),
        ("søndag 6:00-8:00", {SUN}, None, None, 360, 480),
        ("lørdag 06:00-08:00", {SAT}, None, None, 360, 480),
        ("lordag 06:00-08:00", {SAT}, None, None, 360, 480),
        ("thurs 06:00–08:00", {THU}, None, None, 360, 480),  # an en dash
        ("mon-fri 07:00-08:00", {MON, TUE, WED, THU, FRI}, None, None, 420, 480),
        ("man - fre 07:00-08:00", {MON, TUE, WED, THU, FRI}, None, None, 420, 480),
        ("fri-mon 20:00-06:00", {FRI, SAT, SUN, MON}, None, None, 1200, 360),
        ("sun-sun 20:00-21:00", {SUN}, None, None, 1200, 1260),
        ("daily 00:00-24:00", set(range(7)), None, None, 0, 1440),
        ("daglig 03:00-04:00", set(range(7)), None, None, 180, 240),
        ("weekdays 12:00-12:30", set(range(5)), None, None, 720, 750),
        ("hverdager 12:00-12:30", set(range(5)), None, None, 720, 750),
        ("first mon 01:00-02:00", {MON}, 1, None, 60, 120),
        ("second tue 22:00-02:00", {TUE}, 2, None, 1320, 120),
        ("third wed 01:00-02:00", {WED}, 3, None, 60, 120),
        ("fourth thu 01:00-02:00", {THU}, 4, None, 60, 120),
        ("last sun 01:00-02:00", {SUN}, -1, None, 60, 120),
        ("første mandag 01:00-02:00", {MON}, 1, None, 60, 120),
        ("andre tirsdag 22:00-02:00", {TUE}, 2, None, 1320, 120),
        ("tredje onsdag 01:00-02:00", {WED}, 3, None, 60, 120),
        ("fjerde torsdag 01:00-02:00", {THU}, 4, None, 60, 120),
        ("siste søndag 01:00-02:00", {SUN}, -1, None, 60, 120),
        ("2026-12-24 00:00-24:00", set(), None, date(2026, 12, 24), 0, 1440),
        ("2026-12-31 23:00-01:00", set(), None, date(2026, 12, 31), 1380, 60),
        ("sun 23:59-23:58", {SUN}, None, None, 1439, 1438),
    ],
)
def test_parse_one(
    text: str, weekdays: set[int], nth: int | None, on: date | None, start: int, end: int
) -> None:
    (window,) = parse_windows(text)
    assert window == Window(window.text, start, end, frozenset(weekdays), nth, on)
    assert str(window) == " ".join(text.split())


def test_parse_many_and_lists() -> None:
    text = "tue 22:00-02:00, sun 06:00-08:00"
    assert [str(w) for w in parse_windows(text)] == ["tue 22:00-02:00", "sun 06:00-08:00"]
    listed = parse_windows(["second tue 22:00-02:00", "sat 01:00-02:00, sun 01:00-02:00"])
    assert [w.weekdays for w in listed] == [{TUE}, {SAT}, {SUN}]
    assert parse_windows("") == parse_windows("   ") == parse_windows([]) == []
    assert parse_windows(None) == []


@pytest.mark.parametrize(
    "text,bad,why",
    [
        ("tue", "tue", "no times"),
        ("tue 22:00", "tue 22:00", "no times"),
        ("tue 22-02", "tue 22-02", "no times"),
        ("22:00-02:00", "22:00-02:00", "no days"),
        ("tue 25:00-02:00", "tue 25:00-02:00", "25:00 is not a time"),
        ("tue 22:60-02:00", "tue 22:60-02:00", "22:60 is not a time"),
        ("tue 24:00-02:00", "tue 24:00-02:00", "24:00 is not a time from 00:00 to 23:59"),
        ("tue 22:00-24:30", "tue 22:00-24:30", "24:30 is not a time from 00:00 to 24:00"),
        ("tue 22:00-22:00", "tue 22:00-22:00", "same time"),
        ("daily 00:00-00:00", "daily 00:00-00:00", "whole day is 00:00-24:00"),
        ("tuesdayy 22:00-02:00", "tuesdayy 22:00-02:00", "'tuesdayy' is not a day"),
        ("mon-xyz 22:00-02:00", "mon-xyz 22:00-02:00", "'xyz' is not a weekday"),
        ("mon-fri-sun 22:00-02:00", "mon-fri-sun 22:00-02:00", "is not a day"),
        ("second 22:00-02:00", "second 22:00-02:00", "needs a weekday after it"),
        ("siste 22:00-02:00", "siste 22:00-02:00", "needs a weekday after it"),
        ("fifth tue 22:00-02:00", "fifth tue 22:00-02:00", "'fifth' is not first"),
        ("mon tue 22:00-02:00", "mon tue 22:00-02:00", "'mon' is not first"),
        ("second mon-fri 22:00-02:00", "second mon-fri 22:00-02:00", "is not a weekday"),
        ("second daily 22:00-02:00", "second daily 22:00-02:00", "is not a weekday"),
        ("last sun extra 01:00-02:00", "last sun extra 01:00-02:00", "more than one day word"),
        ("2026-02-30 00:00-24:00", "2026-02-30 00:00-24:00", "2026-02-30 is not a date"),
        ("24.12.2026 00:00-24:00", "24.12.2026 00:00-24:00", "is not a day"),
        ("tue 22:00-02:00 please", "tue 22:00-02:00 please", "no times"),
        ("tue 22:00-02:00,, sun 06:00-08:00", "", "two commas in a row"),
        ("tue 22:00-02:00,", "", "one at the end"),
    ],
)
def test_parse_errors_name_the_window_and_show_one(text: str, bad: str, why: str) -> None:
    with pytest.raises(MaintenanceError) as caught:
        parse_windows(f"sun 06:00-08:00, {text}")
    message = str(caught.value)
    assert caught.value.window == bad
    assert f'"{bad}"' in message
    assert why in message
    assert '"second tue 22:00-02:00"' in message  # a correct one to copy
    assert isinstance(caught.value, ValueError)  # settings' validators report it as such


def test_parse_error_in_a_list_item() -> None:
    with pytest.raises(MaintenanceError, match='"tue 22:00"'):
        parse_windows(["sun 06:00-08:00", "tue 22:00"])
    with pytest.raises(MaintenanceError, match="is not text"):
        parse_windows(["sun 06:00-08:00", 5])  # type: ignore[list-item]


# -- the calendar ----------------------------------------------------------------------------

# fmt: off
ACTIVE = [  # windows, instant, and the start and end expected (or None)
    # An ordinary week in winter: a window that crosses midnight belongs to its start day.
    ("tue 22:00-02:00", "12-01 21:59:59+01", None, None),
    ("tue 22:00-02:00", "12-01 22:00+01", "12-01 22:00+01", "12-02 02:00+01"),
    ("tue 22:00-02:00", "12-02 01:59+01", "12-01 22:00+01", "12-02 02:00+01"),
    # the end is not inside
    ("tue 22:00-02:00", "12-02 02:00+01", None, None),
    # Monday's night is not Tuesday's
    ("tue 22:00-02:00", "12-01 01:00+01", None, None),
    # the same instant, given in UTC
    ("tue 22:00-02:00", "12-01 00:30Z", None, None),
    ("tue 22:00-02:00", "12-01 21:30Z", "12-01 22:00+01", "12-02 02:00+01"),
    # 29 March 2026, 02:00 -> 03:00: the skipped hour.
    ("sun 02:30-04:00", "03-29 01:59+01", None, None),
    # begins when the skipped hour ends
    ("sun 02:30-04:00", "03-29 03:00+02", "03-29 03:00+02", "03-29 04:00+02"),
    # keeps its wall-clock times: an hour shorter
    ("sun 01:00-03:30", "03-29 01:59+01", "03-29 01:00+01", "03-29 03:30+02"),
    # ends in the skipped hour: when that hour ends
    ("sun 01:00-02:30", "03-29 01:30+01", "03-29 01:00+01", "03-29 03:00+02"),
    ("sun 01:00-02:30", "03-29 03:00+02", None, None),
    # swallowed whole: no window
    ("sun 02:15-02:45", "03-29 03:00+02", None, None),
    # across the change: seven hours instead of eight
    ("sat 22:00-06:00", "03-29 05:00+02", "03-28 22:00+01", "03-29 06:00+02"),
    # a day of 23 hours
    ("sun 00:00-24:00", "03-29 12:00+02", "03-29 00:00+01", "03-30 00:00+02"),
    ("2026-03-29 00:00-24:00", "03-29 12:00+02", "03-29 00:00+01", "03-30 00:00+02"),
    # the last Sunday of March is the change itself
    ("last sun 02:00-04:00", "03-29 03:30+02", "03-29 03:00+02", "03-29 04:00+02"),
    # 25 October 2026, 03:00 -> 02:00: the repeated hour.
    # covers both occurrences: the first ...
    ("sun 02:15-02:45", "10-25 02:30+02", "10-25 02:15+02", "10-25 02:45+01"),
    # ... and the second
    ("sun 02:15-02:45", "10-25 02:30+01", "10-25 02:15+02", "10-25 02:45+01"),
    ("sun 02:15-02:45", "10-25 02:45+01", None, None),
    ("sun 02:15-02:45", "10-25 02:14+02", None, None),
    # ends when the clock first reads 02:00
    ("sat 22:00-02:00", "10-25 01:59+02", "10-24 22:00+02", "10-25 02:00+02"),
    ("sat 22:00-02:00", "10-25 02:30+02", None, None),
    ("sat 22:00-02:00", "10-25 02:30+01", None, None),
    # the repeated hour, both times: two hours
    ("sun 02:00-03:00", "10-25 02:10+01", "10-25 02:00+02", "10-25 03:00+01"),
    # ends at the second 02:30
    ("sun 01:00-02:30", "10-25 02:20+01", "10-25 01:00+02", "10-25 02:30+01"),
    # after the change: untouched
    ("sun 03:00-04:00", "10-25 03:00+01", "10-25 03:00+01", "10-25 04:00+01"),
    # a day of 25 hours
    ("2026-10-25 00:00-24:00", "10-25 23:59+01", "10-25 00:00+02", "10-26 00:00+01"),
    ("last sun 02:00-04:00", "10-25 02:30+02", "10-25 02:00+02", "10-25 04:00+01"),
    # Patch night: the second Tuesday (8 December 2026) into the Wednesday.
    ("second tue 22:00-02:00", "12-09 01:00+01", "12-08 22:00+01", "12-09 02:00+01"),
    # after the first Tuesday
    ("second tue 22:00-02:00", "12-02 01:00+01", None, None),
    # the third Tuesday
    ("second tue 22:00-02:00", "12-15 23:00+01", None, None),
    # February: 10th
    ("andre tirsdag 22:00-02:00", "02-10 23:00+01", "02-10 22:00+01", "02-11 02:00+01"),
    # Month and year ends.
    # 31 May 2026 is a Sunday and the month's last day
    ("last sun 06:00-08:00", "05-31 07:00+02", "05-31 06:00+02", "05-31 08:00+02"),
    ("last sun 06:00-08:00", "05-24 07:00+02", None, None),
    # 28 February 2026, the last day of a short month
    ("fourth sat 06:00-08:00", "02-28 07:00+01", "02-28 06:00+01", "02-28 08:00+01"),
    # 28 February into 1 March
    ("last sat 23:00-01:00", "03-01 00:30+01", "02-28 23:00+01", "03-01 01:00+01"),
    # 31 December 2026 into the new year
    ("last thu 22:00-02:00", "2027-01-01 01:00+01", "12-31 22:00+01", "2027-01-01 02:00+01"),
    ("2026-12-31 23:00-01:00", "2027-01-01 00:59+01", "12-31 23:00+01", "2027-01-01 01:00+01"),
    # The one-off date.
    ("2026-12-24 00:00-24:00", "12-24 00:00+01", "12-24 00:00+01", "12-25 00:00+01"),
    ("2026-12-24 00:00-24:00", "12-25 00:00+01", None, None),
    ("2026-12-24 00:00-24:00", "2027-12-24 12:00+01", None, None),
    # Ranges and sets of days.
    # Monday's night runs into Tuesday
    ("fri-mon 20:00-06:00", "12-15 03:00+01", "12-14 20:00+01", "12-15 06:00+01"),
    ("fri-mon 20:00-06:00", "12-15 21:00+01", None, None),
    ("fri-mon 20:00-06:00", "12-17 03:00+01", None, None),
    # a Saturday
    ("hverdager 07:00-08:00", "12-12 07:30+01", None, None),
    ("weekdays 07:00-08:00", "12-14 07:30+01", "12-14 07:00+01", "12-14 08:00+01"),
    # Overlapping and touching windows are one.
    ("daily 22:00-24:00, daily 00:00-06:00", "12-10 23:00+01", "12-10 22:00+01", "12-11 06:00+01"),
    ("daily 22:00-24:00, daily 00:00-06:00", "12-11 05:00+01", "12-10 22:00+01", "12-11 06:00+01"),
    ("tue 22:00-02:00, wed 01:00-03:00", "12-02 02:30+01", "12-01 22:00+01", "12-02 03:00+01"),
    ("sun 06:00-08:00, sun 07:00-07:30", "12-06 07:15+01", "12-06 06:00+01", "12-06 08:00+01"),
    ("second tue 22:00-02:00, 2026-12-08 20:00-23:00", "12-08 21:00+01",
     "12-08 20:00+01", "12-09 02:00+01"),
    ("", "12-08 21:00+01", None, None),
]
# fmt: on


@pytest.mark.parametrize("text,instant,start,end", ACTIVE)
def test_active_window(text: str, instant: str, start: str | None, end: str | None) -> None:
    expected = span(start, end) if start and end else None
    found = active_window(parse_windows(text), at(instant), OSLO)
    assert readings(found) == readings(expected)
    if found is not None:
        assert found.start.tzinfo is OSLO and found.end.tzinfo is OSLO


# fmt: off
NEXT = [  # windows, instant, and the start and end expected (or None)
    ("tue 22:00-02:00", "12-01 12:00+01", "12-01 22:00+01", "12-02 02:00+01"),
    # inside one: the one after it
    ("tue 22:00-02:00", "12-01 23:00+01", "12-08 22:00+01", "12-09 02:00+01"),
    # exactly at a start: that one is the active one
    ("tue 22:00-02:00", "12-01 22:00+01", "12-08 22:00+01", "12-09 02:00+01"),
    # across the year's end: 12 January 2027
    ("second tue 22:00-02:00", "12-10 12:00+01", "2027-01-12 22:00+01", "2027-01-13 02:00+01"),
    # the skipped hour swallows 29 March's
    ("daily 02:15-02:45", "03-28 12:00+01", "03-30 02:15+02", "03-30 02:45+02"),
    ("sun 02:30-04:00", "03-29 01:00+01", "03-29 03:00+02", "03-29 04:00+02"),
    # seen from the first 02:50, the repeated hour's is still on
    ("sun 02:15-02:45", "10-25 02:50+02", "11-01 02:15+01", "11-01 02:45+01"),
    ("sun 02:15-02:45", "10-25 02:00+02", "10-25 02:15+02", "10-25 02:45+01"),
    # touching windows joined
    ("daily 22:00-24:00, daily 00:00-06:00", "12-10 12:00+01", "12-10 22:00+01", "12-11 06:00+01"),
    # the earlier of two
    ("sun 06:00-08:00, tue 22:00-02:00", "12-05 12:00+01", "12-06 06:00+01", "12-06 08:00+01"),
    ("2026-12-24 00:00-24:00", "01-01 00:00+01", "12-24 00:00+01", "12-25 00:00+01"),
    # a one-off further off than a year is still found
    ("2028-12-24 00:00-24:00", "01-01 00:00+01", "2028-12-24 00:00+01", "2028-12-25 00:00+01"),
    # the last one is on
    ("2026-12-24 00:00-24:00", "12-24 12:00+01", None, None),
    ("2026-12-24 00:00-24:00", "12-26 12:00+01", None, None),
    ("", "12-26 12:00+01", None, None),
]
# fmt: on


@pytest.mark.parametrize("text,instant,start,end", NEXT)
def test_next_window(text: str, instant: str, start: str | None, end: str | None) -> None:
    expected = span(start, end) if start and end else None
    found = next_window(parse_windows(text), at(instant), OSLO)
    assert readings(found) == readings(expected)
    if found is not None:
        assert found.start > at(instant)


def test_always_in_maintenance() -> None:
    """Daily all day never ends: the calendar answers for a year around and says no next."""
    windows = parse_windows("daily 00:00-24:00")
    instant = at("2026-03-29T12:00:00+02:00")
    found = active_window(windows, instant, OSLO)
    assert found is not None
    assert found.start <= instant - timedelta(days=365)
    assert found.end >= instant + timedelta(days=365)
    assert next_window(windows, instant, OSLO) is None


def test_every_minute_around_both_changes() -> None:
    """A sweep: "sun 01:30-03:30" holds exactly the instants whose wall-clock reading lies in
    01:30-03:30, apart from what lies between the two readings of a repeated time."""
    windows = parse_windows("sun 01:30-03:30")
    for day in ("2026-03-29", "2026-10-25"):
        instant = datetime.fromisoformat(f"{day}T00:00:00").replace(tzinfo=OSLO)
        instant = instant.astimezone(UTC) - timedelta(hours=1)
        stop = instant + timedelta(hours=6)
        found = set()
        while instant < stop:
            if active_window(windows, instant, OSLO) is not None:
                found.add(instant)
            instant += timedelta(minutes=1)
        first, last = min(found), max(found) + timedelta(minutes=1)
        assert len(found) == (last - first) / timedelta(minutes=1)  # one unbroken stretch
        assert first.astimezone(OSLO).strftime("%H:%M") == "01:30"
        assert last.astimezone(OSLO).strftime("%H:%M") == "03:30"
        hours = (last - first) / timedelta(hours=1)
        assert hours == (1 if day.endswith("03-29") else 3)


def test_instants_must_be_aware() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        active_window(parse_windows("daily 01:00-02:00"), datetime(2026, 12, 1, 1, 30), OSLO)
    with pytest.raises(ValueError, match="no time zone"):
        next_window(parse_windows("daily 01:00-02:00"), datetime(2026, 12, 1, 1, 30), OSLO)


def test_nth_weekdays_of_2026() -> None:
    """Each month's second Tuesday (patch night) and last Sunday, against the calendar."""
    second_tue = parse_windows("second tue 22:00-23:00")[0]
    last_sun = parse_windows("last sun 22:00-23:00")[0]
    day, seconds, lasts = date(2026, 1, 1), [], []
    while day.year == 2026:
        if second_tue.starts_on(day):
            seconds.append(day.isoformat())
        if last_sun.starts_on(day):
            lasts.append(day.isoformat())
        day += timedelta(days=1)
    assert seconds == [
        "2026-01-13", "2026-02-10", "2026-03-10", "2026-04-14", "2026-05-12", "2026-06-09",
        "2026-07-14", "2026-08-11", "2026-09-08", "2026-10-13", "2026-11-10", "2026-12-08",
    ]  # fmt: skip
    assert lasts == [
        "2026-01-25", "2026-02-22", "2026-03-29", "2026-04-26", "2026-05-31", "2026-06-28",
        "2026-07-26", "2026-08-30", "2026-09-27", "2026-10-25", "2026-11-29", "2026-12-27",
    ]  # fmt: skip
