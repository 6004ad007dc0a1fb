"""`/eadm` arguments parsed into a command, or the reason they are not one. Pure.

With several tenants a command may name one anywhere after the subcommand; with one tenant the
name may be left out. Anything not understood becomes a `Usage` that says what went wrong.
`/eadm silence` takes a length (`2h`) or, to plan one ahead, a date and its times
(`2026-12-24 08:00-16:00`), read as a one-off maintenance window is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.maintenance import MaintenanceError, Window, parse_window

DEFAULT_HISTORY = 10
MAX_HISTORY = 50
# ASCII digits only: "²" and "１２" are digits to str.isdigit and \d, but not numbers a
# person means (and int() refuses the first).
_DURATION = re.compile(r"([0-9]+)\s*(min|d|t|h|m|s)", re.IGNORECASE)
_UNIT = {"d": 86400, "t": 3600, "h": 3600, "m": 60, "min": 60, "s": 1}
MAX_SILENCE = 7 * 86400
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Status:
    tenant: str | None
    public: bool = False


@dataclass(frozen=True, slots=True)
class History:
    tenant: str | None
    count: int = DEFAULT_HISTORY


@dataclass(frozen=True, slots=True)
class Rerun:
    tenant: str | None


@dataclass(frozen=True, slots=True)
class Silence:
    tenant: str | None
    seconds: int
    reason: str | None


@dataclass(frozen=True, slots=True)
class PlannedSilence:
    """A silence planned ahead: `window` is a one-off (its `on` date and times), read in
    TIMEZONE by the caller."""

    tenant: str | None
    window: Window
    reason: str | None


@dataclass(frozen=True, slots=True)
class Unsilence:
    tenant: str | None


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Usage:
    """Not a command: `key` and `params` name the catalogue text that says why."""

    key: str
    params: tuple[tuple[str, str], ...] = ()


Command = Status | History | Rerun | Silence | PlannedSilence | Unsilence | Help | Usage


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _number(digits: str) -> int:
    """ASCII digits as a number; one of more than 15 digits is taken as 10**15, which every
    caller caps far below, so int() never meets a thousand digits."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 15 else 10**15


def parse_duration(text: str) -> int | None:
    """'30m', '2h', '1d', '1h30m', '90 min', '2t' (Norwegian 'timer') as seconds."""
    compact = text.strip().lower().replace(" ", "")
    if not compact:
        return None
    if _digits(compact):  # a bare number is minutes, as people type it
        return _number(compact) * 60
    total, pos = 0, 0
    for match in _DURATION.finditer(compact):
        if match.start() != pos:
            return None
        total += _number(match.group(1)) * _UNIT[match.group(2).lower()]
        pos = match.end()
    if pos != len(compact) or total <= 0:
        return None
    return total


def parse(text: str, tenants: Sequence[str]) -> Command:
    words = text.split()
    if not words:
        return Status(None)
    sub, rest = words[0].lower(), words[1:]
    names = {name.lower(): name for name in tenants}

    def take_tenant(args: list[str]) -> tuple[str | None, list[str]]:
        for index, arg in enumerate(args):
            if arg.lower() in names:
                return names[arg.lower()], args[:index] + args[index + 1 :]
        return None, args

    tenant, rest = take_tenant(rest)
    if sub in ("help", "hjelp", "-h", "--help", "?"):
        return Help()
    if sub == "status":
        public = [a for a in rest if a.lower() in ("public", "offentlig", "kanal")]
        others = [a for a in rest if a not in public]
        if others:
            return _unknown_or_tenant(others[0], tenants)
        return Status(tenant, public=bool(public))
    if sub in ("history", "historikk"):
        count = DEFAULT_HISTORY
        for arg in rest:
            if not _digits(arg) or _number(arg) < 1:
                if _digits(arg) or _digits(arg.lstrip("-")):
                    return Usage("command.bad_number", (("arg", arg[:40]),))
                return _unknown_or_tenant(arg, tenants)
            count = min(_number(arg), MAX_HISTORY)
        return History(tenant, count)
    if sub == "rerun":
        if rest:
            return _unknown_or_tenant(rest[0], tenants)
        return Rerun(tenant)
    if sub == "silence":
        if rest and _DATE.fullmatch(rest[0]):
            return _planned(tenant, rest)
        if not rest or (seconds := parse_duration(rest[0])) is None:
            return Usage("silence.bad")
        reason = " ".join(rest[1:]).strip() or None
        return Silence(tenant, min(seconds, MAX_SILENCE), reason)
    if sub == "unsilence":
        if rest:
            return _unknown_or_tenant(rest[0], tenants)
        return Unsilence(tenant)
    return Usage("command.unknown", (("arg", words[0][:40]),))


def _planned(tenant: str | None, rest: list[str]) -> Command:
    """`2026-12-24 08:00-16:00 [reason]`: one window on one date, as MAINTENANCE reads it."""
    if len(rest) < 2:
        return Usage("silence.bad_plan")
    try:
        window = parse_window(f"{rest[0]} {rest[1]}")
    except MaintenanceError:
        return Usage("silence.bad_plan")
    reason = " ".join(rest[2:]).strip() or None
    return PlannedSilence(tenant, window, reason)


def _unknown_or_tenant(arg: str, tenants: Sequence[str]) -> Usage:
    if len(tenants) > 1:
        # The tenants to offer are those the person may see, which the caller knows.
        return Usage("command.tenant_unknown", (("name", arg[:40]),))
    return Usage("command.unknown", (("arg", arg[:40]),))
