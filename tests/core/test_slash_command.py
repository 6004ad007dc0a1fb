"""`/eadm` arguments, row by row: what an admin types and what it means."""

from __future__ import annotations

import pytest

from bot.core.maintenance import parse_window
from bot.core.slash_command import (
    DEFAULT_HISTORY,
    MAX_SILENCE,
    Help,
    History,
    PlannedSilence,
    Rerun,
    Silence,
    Status,
    Unsilence,
    Usage,
    parse,
    parse_duration,
)

ONE = ["eadm"]
MANY = ["baerum", "asker", "drammen"]


@pytest.mark.parametrize(
    ("text", "tenants", "expected"),
    [
        ("", ONE, Status(None)),
        ("status", ONE, Status(None)),
        ("STATUS public", ONE, Status(None, public=True)),
        ("status asker", MANY, Status("asker")),
        ("status public Asker", MANY, Status("asker", public=True)),
        ("history", ONE, History(None, DEFAULT_HISTORY)),
        ("history 3", ONE, History(None, 3)),
        ("history 500", ONE, History(None, 50)),
        ("history drammen 5", MANY, History("drammen", 5)),
        ("historikk 2", ONE, History(None, 2)),
        ("rerun", ONE, Rerun(None)),
        ("rerun baerum", MANY, Rerun("baerum")),
        ("silence 2h", ONE, Silence(None, 7200, None)),
        ("silence 30m patching the DC", ONE, Silence(None, 1800, "patching the DC")),
        ("silence 1h30m asker server move", MANY, Silence("asker", 5400, "server move")),
        ("silence 60d", ONE, Silence(None, MAX_SILENCE, None)),
        (
            "silence 2026-12-24 08:00-16:00 asker Jul",
            MANY,
            PlannedSilence("asker", parse_window("2026-12-24 08:00-16:00"), "Jul"),
        ),
        (
            "silence 2026-12-31 22:00-02:00",
            ONE,
            PlannedSilence(None, parse_window("2026-12-31 22:00-02:00"), None),
        ),
        ("unsilence", ONE, Unsilence(None)),
        ("unsilence asker", MANY, Unsilence("asker")),
        ("help", ONE, Help()),
        ("hjelp", ONE, Help()),
    ],
)
def test_commands(text: str, tenants: list[str], expected: object) -> None:
    assert parse(text, tenants) == expected


@pytest.mark.parametrize(
    ("text", "tenants", "key"),
    [
        ("frobnicate", ONE, "command.unknown"),
        ("status loud", ONE, "command.unknown"),
        ("status oslo", MANY, "command.tenant_unknown"),
        ("history ten", ONE, "command.unknown"),
        ("history 0", ONE, "command.bad_number"),
        ("history -3", ONE, "command.bad_number"),
        ("silence", ONE, "silence.bad"),
        ("silence soon", ONE, "silence.bad"),
        ("silence 0m", ONE, "silence.bad"),
        ("silence 2026-12-24", ONE, "silence.bad_plan"),
        ("silence 2026-12-24 8-16", ONE, "silence.bad_plan"),
        ("silence 2026-12-24 08:00-25:00", ONE, "silence.bad_plan"),
        ("silence 2026-02-30 08:00-16:00", ONE, "silence.bad_plan"),
        ("rerun now", ONE, "command.unknown"),
        ("unsilence please", ONE, "command.unknown"),
    ],
)
def test_malformed_input_becomes_usage(text: str, tenants: list[str], key: str) -> None:
    result = parse(text, tenants)
    assert isinstance(result, Usage) and result.key == key


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("45", 45 * 60),
        ("30m", 1800),
        ("90 min", 5400),
        ("2h", 7200),
        ("2t", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("10s", 10),
        ("", None),
        ("h", None),
        ("2x", None),
        ("m30", None),
    ],
)
def test_durations(text: str, seconds: int | None) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Digits to str.isdigit that are no number a person typed: not numbers here either.
        ("history ²", Usage("command.unknown", (("arg", "²"),))),
        ("history １２", Usage("command.unknown", (("arg", "１２"),))),
        ("silence ²", Usage("silence.bad")),
        ("silence ٣h", Usage("silence.bad")),
        # A thousand digits are read without int() meeting them, and capped as ever.
        ("history " + "9" * 5000, History(None, 50)),
        ("silence " + "9" * 5000, Silence(None, MAX_SILENCE, None)),
        ("silence " + "9" * 30 + "m why", Silence(None, MAX_SILENCE, "why")),
        ("history " + "0" * 5000, Usage("command.bad_number", (("arg", "0" * 40),))),
    ],
)
def test_odd_numbers_are_refused_or_capped_without_an_error(text: str, expected: object) -> None:
    assert parse(text, ONE) == expected
