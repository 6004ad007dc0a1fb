"""Log excerpts from the eAdm client's log folder (c:/eadm/logg), for support tickets.

The vendor's support asks for the client log first; an excerpt of the lines that look like
problems, near the time the step failed, saves a round trip. The folder is optional and often
unreadable from where the bot runs, so every failure here is quiet: no excerpt, a debug line.

This is where the client's log lines enter the bot: each line picked is cut to its limit and
redacted (identity numbers always, the tenant's patterns where the caller gives its redactor)
before an excerpt is made of it, whoever asked for it (an alert, a ticket, the agent).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.redact import Redactor, cut
from bot.core.said import Param, Said, Voice, Words

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=2)
MAX_CHARS = 6000
MAX_LINE = 400  # one stack-trace line or JSON dump must not eat the whole excerpt
TAIL_BYTES = 2 * 1024 * 1024  # logs grow for months; what matters is at the end
_SKIP_SUFFIXES = (".zip", ".gz", ".7z", ".rar", ".bak", ".tmp", ".lock")

# Words that mark a problem, in English and in the Norwegian of the eAdm client. "exception"
# and "error" match inside words too (NullReferenceException, SqlError); the upper-case short
# levels are Serilog's ("[22:14:07 ERR] ...").
_PROBLEM = re.compile(
    r"exception|error|\bfail|\bfatal|\bwarn|\bfeil|\badvarsel|\bunntak|\bmislyk"
    r"|(?-i:\b(?:ERR|WRN|FTL)\b)",
    re.IGNORECASE,
)
# Summary lines that mention the words while saying all is well.
_BENIGN = re.compile(
    r"\b(?:0|no|zero|without|ingen|uten)\s+(?:errors?|feil|warnings?|advarsler)\b", re.IGNORECASE
)
_ISO = re.compile(
    r"^\W{0,2}(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,7}))?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)
_NORWEGIAN = re.compile(r"^\W{0,2}(\d{1,2})\.(\d{1,2})\.(\d{4})\s+(\d{1,2})[:.](\d{2})[:.](\d{2})")


@dataclass(frozen=True, slots=True)
class Excerpt:
    files: tuple[str, ...]  # names inside the log folder, newest first
    text: str
    note: Words  # one sentence on what was picked, in the reader's language

    @property
    def said(self) -> Said:
        """The excerpt as an alert tells it: the bot's note, then the lines as they are."""
        return Said.words(Voice.LOG, self.note) + Said.quote(Voice.LOG, self.text)


@dataclass(frozen=True, slots=True)
class _Hit:
    index: int  # line number, 0-based
    when: datetime | None


def line_time(line: str, tz: tzinfo) -> datetime | None:
    """The timestamp a log line starts with, or None. Naive times are read in `tz`."""
    match = _ISO.match(line)
    if match:
        year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
        zone = match.group(8)
    else:
        match = _NORWEGIAN.match(line)
        if not match:
            return None
        day, month, year, hour, minute, second = (int(g) for g in match.groups())
        zone = None
    try:
        when = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    if zone is None:
        return when.replace(tzinfo=tz)
    if zone == "Z":
        return when.replace(tzinfo=UTC)
    sign = 1 if zone[0] == "+" else -1
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return when.replace(tzinfo=timezone(sign * offset))


def is_problem(line: str) -> bool:
    return bool(_PROBLEM.search(_BENIGN.sub("", line)))


def read_lines(path: Path) -> list[str]:
    """The end of a log file as lines, in whatever encoding the client wrote.

    UTF-8 (with or without BOM) first; UTF-16 when it has a BOM; otherwise cp1252, the ANSI
    code page of Norwegian Windows, which decodes any byte and keeps æøå right.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
        size = handle.seek(0, os.SEEK_END)
        start = max(0, size - TAIL_BYTES)
        utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
        if utf16:
            start -= start % 2
        handle.seek(start)
        data = handle.read()
    if utf16:
        codec = "utf-16-le" if head.startswith(b"\xff\xfe") else "utf-16-be"
        text = data.decode(codec, errors="replace").lstrip("\ufeff")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
    lines = text.splitlines()
    if start > 0 and lines:
        lines = lines[1:]  # the first line was cut by the seek
    return lines


Redact = Callable[[str], str]
_FNR_ONLY = Redactor()  # identity numbers, for a caller that gives no redactor of its own


def _clip(line: str, redact: Redact) -> str:
    """One line as an excerpt shows it: cut to its limit, then redacted."""
    return redact(cut(line.rstrip(), MAX_LINE))


def _hits(lines: list[str], tz: tzinfo) -> list[_Hit]:
    """Problem lines, each with the time of its own line or of the entry it continues
    (a stack trace's "at ..." lines carry no time of their own)."""
    hits = []
    current: datetime | None = None
    for index, line in enumerate(lines):
        when = line_time(line, tz)
        if when is not None:
            current = when
        if is_problem(line):
            hits.append(_Hit(index, current))
    return hits


def _log_files(log_dir: Path) -> list[tuple[float, Path]] | None:
    try:
        entries = list(log_dir.iterdir())
    except OSError as exc:
        log.debug("no eAdm log excerpt: cannot list %s (%s)", log_dir, exc)
        return None
    found = []
    for entry in entries:
        if entry.name.lower().endswith(_SKIP_SUFFIXES):
            continue
        try:
            if entry.is_file():
                found.append((entry.stat().st_mtime, entry))
        except OSError:
            continue
    found.sort(key=lambda item: item[0], reverse=True)
    return found


def _render(lines: list[str], indices: list[int], redact: Redact) -> list[str]:
    out: list[str] = []
    previous = None
    for index in indices:
        if previous is not None and index != previous + 1:
            out.append("--")
        out.append(_clip(lines[index], redact))
        previous = index
    return out


def log_excerpt(
    log_dir: Path,
    around: datetime | None,
    *,
    max_files: int = 3,
    max_lines: int = 40,
    tz: tzinfo | None = None,
    redact: Redact = _FNR_ONLY,
) -> Excerpt | None:
    """The problem lines of the newest log files, with one line of context each, each cut and
    redacted with `redact` (the tenant's redactor; identity numbers alone by default).

    When `around` is given and lines carry timestamps, lines within two hours of it are
    preferred; without any there, the newest problem lines are shown and the note says so.
    Naive times in the logs and in `around` are read in `tz` (default Europe/Oslo, where the
    eAdm client writes local time). None when the folder is missing or cannot be read.
    """
    zone = tz or ZoneInfo("Europe/Oslo")
    if around is not None and around.tzinfo is None:
        around = around.replace(tzinfo=zone)
    files = _log_files(log_dir)
    if not files:
        if files == []:
            log.debug("no eAdm log excerpt: %s has no log files", log_dir)
        return None

    read: list[tuple[str, list[str], list[_Hit]]] = []
    for _, path in files[:max_files]:
        try:
            lines = read_lines(path)
        except OSError as exc:
            log.debug("skipping eAdm log %s (%s)", path, exc)
            continue
        read.append((path.name, lines, _hits(lines, zone)))
    if not read:
        log.debug("no eAdm log excerpt: none of the newest files in %s could be read", log_dir)
        return None

    in_window = 0
    if around is not None:
        low, high = around - WINDOW, around + WINDOW
        near = [
            (name, lines, [h for h in hits if h.when is not None and low <= h.when <= high])
            for name, lines, hits in read
        ]
        in_window = sum(len(hits) for _, _, hits in near)
        if in_window:
            read = near

    budget = max_lines
    blocks: list[tuple[str, list[str]]] = []
    for name, lines, hits in read:
        if budget <= 0 or not hits:
            continue
        # The newest problems first: walk back from the end until the budget is spent.
        chosen: set[int] = set()
        for hit in reversed(hits):
            wanted = {i for i in (hit.index - 1, hit.index, hit.index + 1) if 0 <= i < len(lines)}
            extra = len(wanted - chosen)
            if extra > budget:
                break
            chosen |= wanted
            budget -= extra
        if chosen:
            blocks.append((name, _render(lines, sorted(chosen), redact)))

    if not blocks:
        name, lines, _ = read[0]
        last = [line for line in lines if line.strip()][-min(10, max_lines) :]
        tail = [_clip(line, redact) for line in last]
        if not tail:
            return None
        text, cut = _join([(name, tail)])
        note = Words.of(
            "log.quiet",
            files=_counted("log.newest_files", len(read)),
            lines=len(tail),
            name=name,
            cut=_cut_note(cut),
        )
        return Excerpt(files=(name,), text=text, note=note)

    text, cut = _join(blocks)
    count = sum(1 for _, body in blocks for line in body if line != "--")
    where = Words.of("log.newest")
    if around is not None:
        time = f"{around.astimezone(zone):%Y-%m-%d %H:%M}"
        where = Words.of("log.within" if in_window else "log.not_within", time=time)
    note = Words.of(
        "log.picked",
        count=count,
        files=_counted("log.files", len(blocks)),
        where=where,
        cut=_cut_note(cut),
    )
    return Excerpt(files=tuple(name for name, _ in blocks), text=text, note=note)


def _join(blocks: list[tuple[str, list[str]]]) -> tuple[str, bool]:
    """The blocks as text, cut at whole lines to MAX_CHARS; whether anything was cut."""
    out: list[str] = []
    size = 0
    for name, body in blocks:
        for line in [f"== {name} ==", *body]:
            if size + len(line) + 1 > MAX_CHARS:
                return "\n".join(out), True
            out.append(line)
            size += len(line) + 1
        out.append("")
        size += 1
    return "\n".join(out).rstrip("\n"), False


def _cut_note(cut: bool) -> Param:
    return Words.of("log.cut", max=MAX_CHARS) if cut else ""


def _counted(key: str, n: int) -> Words:
    return Words.of(f"{key}.{'one' if n == 1 else 'many'}", n=n)


__all__ = ["Excerpt", "is_problem", "line_time", "log_excerpt", "read_lines"]
