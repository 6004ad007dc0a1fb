"""Maintenance windows: the `MAINTENANCE` setting's parser and its calendar.

Owns what a window is (`<days> HH:MM-HH:MM`, as people write them, in English or Norwegian), the
concrete occurrence of the windows around an instant, and how a window keeps its wall-clock
times across a daylight-saving change. Pure: the instant and the time zone are passed in; no
clock, no I/O, nothing of the project imported.

Days: a weekday (`tue`, `tuesday`, `tir`, `tirsdag`), a range (`mon-fri`; `fri-mon` runs over
the week's end), `daily`/`daglig`, `weekdays`/`hverdager`, an nth weekday of the month
(`second tue`, `last sun`; `andre tirsdag`, `siste søndag`), or a date for a one-off
(`2026-12-24`). Times: `HH:MM`, the end may be `24:00`; an end at or before the start is on the
next day, and the window belongs to the day it starts on (`second tue 22:00-02:00` runs from
the second Tuesday into the Wednesday after it).

A window covers the wall-clock times from its start to its end. Where a daylight-saving change
skips an hour, a time in it begins when the skipped hour ends; where a change repeats an hour,
the window reaches from the first occurrence of its start to the last of its end, so a window
inside the repeated hour covers both. Occurrences that overlap or touch are one window to the
calendar: the quiet lasts until the last of them ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import NamedTuple

EXAMPLE = '"tue 22:00-02:00", "second tue 22:00-02:00" or "2026-12-24 00:00-24:00"'

# How far the calendar looks for a window to begin or for a chain of touching windows to end.
HORIZON = timedelta(days=366)

_WEEKDAYS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        ("mon", "monday", "man", "mandag"),
        ("tue", "tues", "tuesday", "tir", "tirs", "tirsdag"),
        ("wed", "wednesday", "ons", "onsdag"),
        ("thu", "thur", "thurs", "thursday", "tor", "tors", "torsdag"),
        ("fri", "friday", "fre", "fredag"),
        ("sat", "saturday", "lør", "lørdag", "lor", "lordag", "loer", "loerdag"),
        ("sun", "sunday", "søn", "søndag", "son", "sondag", "soen", "soendag"),
    )
):
    _WEEKDAYS.update(dict.fromkeys(_names, _number))

_ORDINALS: dict[str, int] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "last": -1,
    "første": 1,
    "forste": 1,
    "foerste": 1,
    "andre": 2,
    "tredje": 3,
    "fjerde": 4,
    "siste": -1,
}
_EVERY_DAY = frozenset(range(7))
_DAY_SETS: dict[str, frozenset[int]] = {
    "daily": _EVERY_DAY,
    "daglig": _EVERY_DAY,
    "weekdays": frozenset(range(5)),
    "hverdager": frozenset(range(5)),
}
_TIMES = re.compile(r"^(?P<days>.*?)\s*(?P<start>\d{1,2}:\d{2})\s*[-–]\s*(?P<end>\d{1,2}:\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class MaintenanceError(ValueError):
    """A window that cannot be read; the message names it and shows a correct one."""

    def __init__(self, window: str, why: str) -> None:
        self.window = window
        super().__init__(
            f'maintenance window "{window}": {why}; write <days> HH:MM-HH:MM, e.g. {EXAMPLE}'
        )


class Occurrence(NamedTuple):
    """One concrete stretch of maintenance, as aware datetimes in the windows' time zone.

    Compare them with < and <=, or in UTC: Python never finds a time in a repeated hour equal
    (==) to a datetime of another zone, even at the same instant."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Window:
    """One window as written. `start` and `end` are minutes after midnight; an end at or before
    the start is on the next day. Exactly one of `weekdays` (Monday is 0), `nth` with its one
    weekday, or `on` says on which days it starts."""

    text: str
    start: int
    end: int
    weekdays: frozenset[int] = frozenset()
    nth: int | None = None  # 1 to 4, or -1 for the last such weekday of the month
    on: date | None = None

    def __str__(self) -> str:
        return self.text

    def starts_on(self, day: date) -> bool:
        if self.on is not None:
            return day == self.on
        if day.weekday() not in self.weekdays:
            return False
        if self.nth is None:
            return True
        if self.nth == -1:
            return (day + timedelta(days=7)).month != day.month
        return (day.day - 1) // 7 + 1 == self.nth

    def occurrence(self, day: date, tz: tzinfo) -> Occurrence | None:
        """The window as it falls on `day` (None when it does not start that day, or when a
        skipped hour swallows it whole)."""
        if not self.starts_on(day):
            return None
        midnight = datetime.combine(day, time())
        end = self.end if self.end > self.start else self.end + 1440
        first = _first_instant(midnight + timedelta(minutes=self.start), tz)
        last = _end_instant(midnight + timedelta(minutes=end), tz)
        if last <= first:
            return None
        return Occurrence(first.astimezone(tz), last.astimezone(tz))


# -- parsing ---------------------------------------------------------------------------------


def parse_windows(text: str | Iterable[str] | None) -> list[Window]:
    """Windows separated by commas (`MAINTENANCE`), or a list of them (a tenant's
    `maintenance`, whose items may hold commas too). Empty text or an empty list: none.
    Raises MaintenanceError for the first window it cannot read."""
    if text is None:
        return []
    items = [text] if isinstance(text, str) else list(text)
    if all(isinstance(item, str) and not item.strip() for item in items):
        return []
    windows = []
    for item in items:
        if not isinstance(item, str):
            raise MaintenanceError(str(item), "is not text")
        for part in item.split(","):
            windows.append(parse_window(part))
    return windows


def parse_window(text: str) -> Window:
    raw = " ".join(text.split())
    if not raw:
        raise MaintenanceError(raw, "is empty (two commas in a row, or one at the end)")
    match = _TIMES.match(raw.casefold())
    if match is None:
        raise MaintenanceError(raw, "has no times HH:MM-HH:MM at its end")
    start = _minutes(raw, match["start"], end=False)
    end = _minutes(raw, match["end"], end=True)
    if start == end:
        raise MaintenanceError(raw, "starts and ends at the same time; a whole day is 00:00-24:00")
    days = re.sub(r"\s*-\s*", "-", match["days"]).split()
    weekdays, nth, on = _days(raw, days)
    return Window(raw, start, end, weekdays, nth, on)


def _minutes(raw: str, text: str, *, end: bool) -> int:
    hours, minutes = (int(part) for part in text.split(":"))
    if minutes < 60 and (hours < 24 or (end and hours == 24 and minutes == 0)):
        return hours * 60 + minutes
    allowed = "00:00 to 24:00" if end else "00:00 to 23:59"
    raise MaintenanceError(raw, f"{text} is not a time from {allowed}")


def _weekday(raw: str, word: str) -> int:
    if word in _WEEKDAYS:
        return _WEEKDAYS[word]
    raise MaintenanceError(raw, f"{word!r} is not a weekday (mon ... sun, man ... søn)")


def _days(raw: str, words: Sequence[str]) -> tuple[frozenset[int], int | None, date | None]:
    if not words:
        raise MaintenanceError(raw, "says no days before its times")
    if len(words) == 2:
        if words[0] not in _ORDINALS:
            raise MaintenanceError(
                raw,
                f"{words[0]!r} is not first, second, third, fourth or last (første, andre, "
                "tredje, fjerde, siste)",
            )
        return frozenset({_weekday(raw, words[1])}), _ORDINALS[words[0]], None
    if len(words) > 2:
        raise MaintenanceError(raw, "has more than one day word before its times")
    word = words[0]
    if _DATE.match(word):
        try:
            return frozenset(), None, date.fromisoformat(word)
        except ValueError:
            raise MaintenanceError(raw, f"{word} is not a date") from None
    if word in _DAY_SETS:
        return _DAY_SETS[word], None, None
    if word in _WEEKDAYS:
        return frozenset({_WEEKDAYS[word]}), None, None
    if word in _ORDINALS:
        raise MaintenanceError(raw, f"{word!r} needs a weekday after it, e.g. second tue")
    if word.count("-") == 1:
        first, last = (_weekday(raw, part) for part in word.split("-"))
        span = (last - first) % 7
        return frozenset((first + n) % 7 for n in range(span + 1)), None, None
    raise MaintenanceError(
        raw,
        f"{word!r} is not a day: a weekday (tue, tirsdag), a range (mon-fri), daily, "
        "weekdays, first ... last <weekday>, or a date (2026-12-24)",
    )


# -- the calendar ----------------------------------------------------------------------------


def active_window(windows: Sequence[Window], instant: datetime, tz: tzinfo) -> Occurrence | None:
    """The maintenance the instant is in (start <= instant < end), with every window that
    overlaps or touches it joined in; None outside every window."""
    found = _active(windows, instant, tz)
    return found[0] if found else None


def _active(
    windows: Sequence[Window], instant: datetime, tz: tzinfo
) -> tuple[Occurrence, bool] | None:
    """The active maintenance, and whether its chain ran past the horizon without ending."""
    _require_aware(instant)
    if not windows:
        return None
    day = instant.astimezone(tz).date()
    around = [
        found
        for offset in (-2, -1, 0)
        for found in _on_day(windows, day + timedelta(days=offset), tz)
        if found.start <= instant < found.end
    ]
    if not around:
        return None
    start = min(found.start for found in around)
    end = max(found.end for found in around)
    end, capped = _extend(windows, tz, end)
    return Occurrence(_extend_back(windows, tz, start), end), capped


def next_window(windows: Sequence[Window], instant: datetime, tz: tzinfo) -> Occurrence | None:
    """The next maintenance that begins after the instant and after the one it is in (None
    when there is none within a year, or the present one does not end within a year)."""
    _require_aware(instant)
    if not windows:
        return None
    after = instant
    current = _active(windows, instant, tz)
    if current is not None:
        if current[1]:
            return None
        after = current[0].end
    day = after.astimezone(tz).date()
    last_day = max([day + HORIZON, *(w.on for w in windows if w.on is not None)])
    while day <= last_day:
        later = [found for found in _on_day(windows, day, tz) if found.start > after]
        if later:
            first = min(later, key=lambda found: found.start)
            return Occurrence(first.start, _extend(windows, tz, first.end)[0])
        day += timedelta(days=1)
    return None


def _on_day(windows: Sequence[Window], day: date, tz: tzinfo) -> list[Occurrence]:
    found = [o for w in windows if (o := w.occurrence(day, tz)) is not None]
    return sorted(found)


def _extend(windows: Sequence[Window], tz: tzinfo, end: datetime) -> tuple[datetime, bool]:
    """The end of the chain of windows that overlap or touch one ending at `end`, and whether
    the chain ran past the horizon without ending."""
    day = end.astimezone(tz).date() - timedelta(days=2)
    last_day = end.astimezone(tz).date() + HORIZON
    while day <= last_day:
        if _first_instant(datetime.combine(day, time()), tz) > end:
            return end, False
        for found in _on_day(windows, day, tz):
            if found.start <= end < found.end:
                end = found.end
        day += timedelta(days=1)
    return end, True


def _extend_back(windows: Sequence[Window], tz: tzinfo, start: datetime) -> datetime:
    """The start of the chain of windows that overlap or touch one starting at `start`."""
    day = start.astimezone(tz).date()
    first_day = day - HORIZON
    while day >= first_day:
        # A window that starts on `day` ends before that day's second midnight after it.
        if _first_instant(datetime.combine(day + timedelta(days=2), time()), tz) < start:
            break
        for found in reversed(_on_day(windows, day, tz)):
            if found.start < start <= found.end:
                start = found.start
        day -= timedelta(days=1)
    return start


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{instant!r} has no time zone; pass an aware datetime")


# -- wall-clock times to instants --------------------------------------------------------------


def _wall(instant: datetime, tz: tzinfo) -> datetime:
    # Through UTC: astimezone() to the zone an aware time already has returns it unchanged,
    # even when its wall-clock time does not exist there.
    return instant.astimezone(UTC).astimezone(tz).replace(tzinfo=None)


def _exists(naive: datetime, tz: tzinfo) -> bool:
    return _wall(naive.replace(tzinfo=tz), tz) == naive


def _repeated(naive: datetime, tz: tzinfo) -> bool:
    """Whether the wall-clock time happens twice (the hour a change to winter time repeats)."""
    first, second = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    return first.utcoffset() != second.utcoffset() and _exists(naive, tz)


def _first_instant(naive: datetime, tz: tzinfo) -> datetime:
    """The first instant the clock reads `naive` or later."""
    if not _exists(naive, tz):
        return _gap_end(naive, tz)
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC)


def _end_instant(naive: datetime, tz: tzinfo) -> datetime:
    """The end of the time the clock reads before `naive`: the last occurrence of `naive`
    when the time just before it repeats, the end of a skipped hour it falls in."""
    if not _exists(naive, tz):
        return _gap_end(naive, tz)
    fold = 1 if _repeated(naive - timedelta(microseconds=1), tz) else 0
    return naive.replace(tzinfo=tz, fold=fold).astimezone(UTC)


def _gap_end(naive: datetime, tz: tzinfo) -> datetime:
    """The instant a skipped stretch of wall-clock time that holds `naive` ends."""
    a = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    b = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = int(min(a, b).timestamp()), int(max(a, b).timestamp()) + 1
    # Before the change the clock reads less than `naive`, from it on more.
    while low < high:
        middle = (low + high) // 2
        if _wall(datetime.fromtimestamp(middle, UTC), tz) > naive:
            high = middle
        else:
            low = middle + 1
    return datetime.fromtimestamp(low, UTC)
