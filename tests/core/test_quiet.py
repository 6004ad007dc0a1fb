"""A tenant's quiet, row by row: maintenance windows and a silence typed by hand adding up,
and what begins, ends or moves between what the store recorded and the calendar now. Times
are wall-clock times in Oslo on a Tuesday and Wednesday of November 2026 (UTC+1)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.core.maintenance import Occurrence, active_window, parse_windows
from bot.core.quiet import Begin, End, Moved, changes, per_channel, quiet_now, silence, span

OSLO = ZoneInfo("Europe/Oslo")
PATCH_NIGHT = parse_windows("tue 22:00-02:00")  # 2026-11-24 is a Tuesday


def at(clock: str, day: int = 24) -> datetime:
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime(2026, 11, day, hours, minutes, tzinfo=OSLO)


def stretch(start: str, end: str, end_day: int = 25, start_day: int = 24) -> Occurrence:
    return Occurrence(at(start, start_day), at(end, end_day))


SPANS = [
    ("outside every window, nothing typed", PATCH_NIGHT, None, at("21:00"), None),
    ("inside the window", PATCH_NIGHT, None, at("23:00"), stretch("22:00", "02:00")),
    (
        "a silence alone",
        [],
        stretch("10:00", "12:00", 24),
        at("11:00"),
        stretch("10:00", "12:00", 24),
    ),
    (
        "a silence typed during the window that outlasts it",
        PATCH_NIGHT,
        stretch("23:30", "04:00"),
        at("23:45"),
        stretch("22:00", "04:00"),
    ),
    (
        "a silence that runs into the window: one stretch to the window's end",
        PATCH_NIGHT,
        stretch("20:00", "22:30", 24),
        at("21:00"),
        stretch("20:00", "02:00"),
    ),
    (
        "a silence that ends where the window begins: touching is one stretch",
        PATCH_NIGHT,
        stretch("20:00", "22:00", 24),
        at("21:00"),
        stretch("20:00", "02:00"),
    ),
    (
        "the window, and a silence after it that does not touch: the window alone",
        PATCH_NIGHT,
        stretch("03:00", "04:00", 25, 25),
        at("23:00"),
        stretch("22:00", "02:00"),
    ),
    (
        "a silence planned ahead holds nothing yet",
        [],
        stretch("10:00", "12:00", 25, 25),
        at("09:00", 25),
        None,
    ),
]


@pytest.mark.parametrize(
    ("windows", "typed", "now", "expected"),
    [pytest.param(*row, id=case) for case, *row in SPANS],
)
def test_the_stretch_of_quiet_now_is_in(windows, typed, now, expected) -> None:
    found = span(windows, OSLO, typed, now, active_window(windows, now, OSLO))
    assert (found and (found.start.isoformat(), found.end.isoformat())) == (
        expected and (expected.start.isoformat(), expected.end.isoformat())
    )


CHANGES = [
    ("nothing recorded, nothing now", None, None, None, at("21:00"), []),
    (
        "a window begins",
        None,
        None,
        stretch("22:00", "02:00"),
        at("22:00"),
        [Begin(at("22:00"), at("02:00", 25))],
    ),
    ("it goes on", at("22:00"), at("02:00", 25), stretch("22:00", "02:00"), at("23:00"), []),
    (
        "a silence makes it longer",
        at("22:00"),
        at("02:00", 25),
        stretch("22:00", "04:00"),
        at("23:00"),
        [Moved(at("04:00", 25))],
    ),
    (
        "it is over: it ended when it was to end",
        at("22:00"),
        at("02:00", 25),
        None,
        at("02:00", 25),
        [End(at("22:00"), at("02:00", 25))],
    ),
    (
        "ended early: it ends now",
        at("22:00"),
        at("02:00", 25),
        None,
        at("23:10"),
        [End(at("22:00"), at("23:10"))],
    ),
    (
        "one ended and another began while nobody looked: both are told",
        at("22:00"),
        at("02:00", 25),
        stretch("03:00", "04:00", 25, 25),
        at("03:30", 25),
        [End(at("22:00"), at("02:00", 25)), Begin(at("03:00", 25), at("04:00", 25))],
    ),
]


@pytest.mark.parametrize(
    ("since", "until", "current", "now", "expected"),
    [pytest.param(*row, id=case) for case, *row in CHANGES],
)
def test_what_begins_ends_or_moves(since, until, current, now, expected) -> None:
    assert changes(since, until, current, now) == expected


@pytest.mark.parametrize(
    ("since", "planned", "typed", "quiet"),
    [
        (None, None, None, False),
        (at("22:00"), None, None, True),  # the window is over, its end not yet told
        (None, stretch("22:00", "02:00"), None, True),  # begun, not yet told
        (None, None, stretch("22:00", "23:00", 24), True),
        (None, None, stretch("23:00", "23:30", 24), False),  # planned ahead
        (None, stretch("21:00", "22:00", 24), None, False),  # the calendar's one just ended
    ],
)
def test_a_poll_is_quiet_until_the_end_is_told(since, planned, typed, quiet) -> None:
    assert quiet_now(since, planned, typed, at("22:30")) is quiet


def test_a_silence_recorded_without_its_start_began_before_it_ended() -> None:
    found = silence(None, at("12:00"))
    assert found is not None and found.start < at("12:00") and found.end == at("12:00")
    assert silence(at("10:00"), None) is None


def test_a_channel_hears_once_for_all_its_tenants() -> None:
    channels = {"bergen": ("C1", "COPS"), "voss": ("C2", "COPS"), "ulvik": ("C1", "C1")}
    gathered = per_channel([("bergen", 1), ("voss", 2), ("ulvik", 3)], channels)
    assert gathered == {
        "C1": [("bergen", 1), ("ulvik", 3)],
        "COPS": [("bergen", 1), ("voss", 2)],
        "C2": [("voss", 2)],
    }
