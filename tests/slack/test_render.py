"""What every rendered surface shares (durations, times, truncation), the cycle view, thread
replies, and a package that imports nothing that does I/O."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.domain import EXPORT_AD, SYNCHRONIZATION, StepState
from bot.slack import render as render_package
from bot.slack.render import cycle_lines, fmt_duration, fmt_time, outcome, render_reply, truncate
from tests.cycles import T0, at, cycle

OSLO = ZoneInfo("Europe/Oslo")


@pytest.mark.parametrize(
    ("seconds", "en", "nb"),
    [
        (42, "42 s", "42 s"),
        (60 * 7, "7 min", "7 min"),
        (3600 * 2 + 60 * 5, "2 h 5 min", "2 t 5 min"),
        (3600 * 50, "2 d 2 h", "2 d 2 t"),
    ],
)
def test_durations(seconds: float, en: str, nb: str) -> None:
    assert fmt_duration(seconds, "en") == en
    assert fmt_duration(seconds, "nb") == nb


def test_times_are_local_and_dated_when_not_today() -> None:
    assert fmt_time(T0, OSLO, T0 + timedelta(minutes=5)) == "22:00"
    assert fmt_time(T0, OSLO, T0 + timedelta(days=1)) == "24.11 22:00"


def test_cycle_lines_icons_and_durations() -> None:
    snap = cycle({SYNCHRONIZATION: StepState.RUNNING}, upto=4)
    lines = cycle_lines(snap, "en", OSLO, at(14))
    assert lines[0] == ":white_check_mark: *Import HR* completed from 22:00 (3 min)"
    assert lines[4].startswith(":arrows_counterclockwise: *Synchronization*")
    assert "(2 min)" in lines[4]
    assert lines[5] == ":white_circle: *Export AD* not started"


def test_truncate_keeps_short_text() -> None:
    assert truncate("short", 100, "en") == "short"


def test_replies() -> None:
    text = render_reply(
        "reply.resolved", {"seconds": 1500, "resolution": "recovered"}, "en", tz=OSLO, now=T0
    )
    assert "25 min" in text


@pytest.mark.parametrize(
    ("states", "icon", "words"),
    [
        ({}, ":white_check_mark:", "completed"),
        ({EXPORT_AD: StepState.FAILED}, ":x:", "Export AD failed"),
        ({SYNCHRONIZATION: StepState.STOPPED}, ":octagonal_sign:", "Synchronization stopped"),
        ({SYNCHRONIZATION: StepState.RUNNING}, ":arrows_counterclockwise:", "running, at"),
    ],
)
def test_outcome(states: dict[str, StepState], icon: str, words: str) -> None:
    upto = None if not states else 4 if SYNCHRONIZATION in states else 5
    got = outcome(cycle(states, upto=upto), "en")
    assert got[0] == icon and words in got[1]


# -- the package is pure ---------------------------------------------------------------------

# What a rendering module may import: the core, the action IDs, its sibling modules, Block Kit's
# models and a few of the standard library's pure modules: no client, store or file (and the
# time comes in as `now`).
PURE_IMPORTS = (
    "__future__",
    "collections.abc",
    "dataclasses",
    "datetime",
    "enum",
    "re",
    "typing",
    "bot.core",
    "bot.slack.ids",
    "bot.slack.render",
    "slack_sdk.models",
)


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            # A relative import can only reach a sibling in the package.
            module = "bot.slack.render" if node.level else node.module
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize(
    "path", sorted(Path(render_package.__file__).parent.glob("*.py")), ids=lambda p: p.name
)
def test_rendering_imports_nothing_that_does_io(path: Path) -> None:
    impure = {
        name
        for name in imported(path)
        if not any(name == ok or name.startswith(ok + ".") for ok in PURE_IMPORTS)
    }
    assert not impure, f"{path.name} imports {sorted(impure)}"
