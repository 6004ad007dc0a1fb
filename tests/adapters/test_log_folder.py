"""Log excerpts from a log folder laid out like the eAdm client's, in tmp_path."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.log_folder import MAX_CHARS, is_problem, line_time, log_excerpt, read_lines

OSLO = ZoneInfo("Europe/Oslo")
# 22:14 in Oslo (winter time, UTC+1): when Export AD failed in these logs.
FAILED_AT = datetime(2026, 11, 24, 21, 14, tzinfo=UTC)


def write(
    folder: Path, name: str, lines: list[str], *, age: float, encoding: str = "utf-8"
) -> Path:
    """A log file whose mtime is `age` seconds ago, so the newest-first order is known."""
    path = folder / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    stamp = datetime.now().timestamp() - age
    os.utime(path, (stamp, stamp))
    return path


def test_newest_files_first_problems_with_context(tmp_path: Path) -> None:
    write(
        tmp_path,
        "eAdmClient_20261124.log",
        [
            "2026-11-24 22:10:01,120 INFO  Starter eksport til AD",
            "2026-11-24 22:10:02,004 INFO  Leser batch 8812",
            "2026-11-24 22:14:07,551 ERROR Eksport feilet: tidsavbrudd mot EADM01",
            "   at Identum.Client.Export.Run()",
            "2026-11-24 22:14:08,000 INFO  Venter på neste syklus",
            "2026-11-24 22:15:00,000 INFO  Completed with 0 errors",
        ],
        age=10,
    )
    write(
        tmp_path,
        "eAdmClient_20261123.log",
        ["2026-11-23 22:00:00 INFO ok", "2026-11-23 22:01:00 WARN Disk nesten full"],
        age=86400,
    )
    write(tmp_path, "eAdmClient_20261101.log", ["2026-11-01 01:00:00 FATAL old"], age=86400 * 20)
    write(tmp_path, "eAdmClient_20261001.log", ["2026-10-01 01:00:00 FATAL older"], age=86400 * 50)

    excerpt = log_excerpt(tmp_path, None, max_files=3)

    assert excerpt is not None
    assert excerpt.files == (
        "eAdmClient_20261124.log",
        "eAdmClient_20261123.log",
        "eAdmClient_20261101.log",
    )
    lines = excerpt.text.splitlines()
    assert lines[0] == "== eAdmClient_20261124.log =="
    assert lines[1:4] == [
        "2026-11-24 22:10:02,004 INFO  Leser batch 8812",
        "2026-11-24 22:14:07,551 ERROR Eksport feilet: tidsavbrudd mot EADM01",
        "   at Identum.Client.Export.Run()",
    ]
    assert "Completed with 0 errors" not in excerpt.text
    assert "Starter eksport" not in excerpt.text
    assert "WARN Disk nesten full" in excerpt.text
    assert "FATAL old" in excerpt.text
    assert "older" not in excerpt.text  # the fourth-newest file is past max_files
    assert excerpt.text.index("20261124") < excerpt.text.index("20261123")


def test_cp1252_file_keeps_norwegian_letters(tmp_path: Path) -> None:
    write(
        tmp_path,
        "klient.log",
        ["24.11.2026 22:14:07 Feil: Brukeren Åse Ødegård ble ikke oppdatert (æøå)"],
        age=5,
        encoding="cp1252",
    )
    write(tmp_path, "bom.log", ["\ufeff2026-11-24 22:14:09 Advarsel: ærlig talt"], age=60)

    excerpt = log_excerpt(tmp_path, FAILED_AT)

    assert excerpt is not None
    assert "Brukeren Åse Ødegård ble ikke oppdatert (æøå)" in excerpt.text
    assert "\ufeff" not in excerpt.text
    assert "Advarsel: ærlig talt" in excerpt.text
    assert "�" not in excerpt.text


def test_lines_near_the_failure_are_preferred(tmp_path: Path) -> None:
    write(
        tmp_path,
        "eadm.log",
        [
            "2026-11-24 08:00:00 ERROR morning trouble, long before",
            "2026-11-24 12:00:00 INFO quiet",
            "2026-11-24 21:30:00 Exception in rule 'Ansatt-grunnpakke'",
            "System.NullReferenceException: Object reference not set",
            "2026-11-24 23:00:00 INFO quiet again",
            "2026-11-25 03:00:00 Unntak: next night, too late",
        ],
        age=1,
    )

    excerpt = log_excerpt(tmp_path, FAILED_AT)  # 22:14 Oslo time

    assert excerpt is not None
    assert "rule 'Ansatt-grunnpakke'" in excerpt.text
    assert "NullReferenceException" in excerpt.text
    assert "morning trouble" not in excerpt.text
    assert "too late" not in excerpt.text
    assert "within ±2 h of 2026-11-24 22:14" in str(excerpt.note)

    # Naive `around` is Oslo time, like the log.
    naive = log_excerpt(tmp_path, datetime(2026, 11, 24, 8, 30))
    assert naive is not None and "morning trouble" in naive.text
    assert "too late" not in naive.text

    # Nothing in the window: the newest problems, and the note says so.
    far = log_excerpt(tmp_path, FAILED_AT - timedelta(days=30))
    assert far is not None
    assert "too late" in far.text
    assert "none were within ±2 h" in str(far.note)


def test_timestamps_with_zones(tmp_path: Path) -> None:
    assert line_time("2026-11-24T21:14:07Z ERROR x", OSLO) == FAILED_AT.replace(second=7)
    assert line_time("[2026-11-24 22:14:07.1234567 +01:00] x", OSLO) == FAILED_AT.replace(second=7)
    assert line_time("24.11.2026 22:14:07 x", OSLO) == FAILED_AT.replace(second=7)
    assert line_time("at Identum.Client.Run()", OSLO) is None
    assert line_time("2026-13-45 99:00:00 not a date", OSLO) is None


def test_problem_words() -> None:
    for line in (
        "ERROR x",
        "Synkronisering mislyktes",
        "Advarsel: lite plass",
        "Feil ved import",
        "unntak kastet",
        "System.NullReferenceException",
        "Export failed",
        "[14:07:01 ERR] Serilog style",
        "[14:07:01 WRN] Serilog style",
        "Warning: x",
        "FATAL",
    ):
        assert is_problem(line), line
    for line in ("INFO ok", "Completed with 0 errors", "Fullført uten feil", "Ingen feil funnet"):
        assert not is_problem(line), line


def test_line_budget_keeps_the_newest(tmp_path: Path) -> None:
    lines = []
    for minute in range(50):
        lines += [f"2026-11-24 22:{minute:02d}:00 INFO step {minute}"]
        lines += [f"2026-11-24 22:{minute:02d}:30 ERROR problem {minute}"]
    write(tmp_path, "busy.log", lines, age=1)

    excerpt = log_excerpt(tmp_path, None, max_lines=10)

    assert excerpt is not None
    body = [line for line in excerpt.text.splitlines()[1:] if line != "--"]
    assert len(body) <= 10
    assert "problem 49" in excerpt.text
    assert "problem 40" not in excerpt.text


def test_size_is_capped_with_a_note(tmp_path: Path) -> None:
    long = [f"2026-11-24 22:{m:02d}:00 ERROR {'x' * 350} {m}" for m in range(60)]
    write(tmp_path, "huge.log", long, age=1)

    excerpt = log_excerpt(tmp_path, None, max_lines=60)

    assert excerpt is not None
    assert len(excerpt.text) <= MAX_CHARS
    assert "Cut to" in str(excerpt.note)
    assert all(len(line) <= 400 for line in excerpt.text.splitlines())


def test_no_problems_gives_the_last_lines(tmp_path: Path) -> None:
    write(
        tmp_path, "calm.log", [f"2026-11-24 22:{m:02d}:00 INFO fine {m}" for m in range(30)], age=1
    )
    excerpt = log_excerpt(tmp_path, FAILED_AT)
    assert excerpt is not None
    assert "fine 29" in excerpt.text and "fine 19" not in excerpt.text
    assert "No lines that look like errors" in str(excerpt.note)


def test_only_the_end_of_a_large_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    filler = ("2026-11-24 20:00:00 INFO " + "y" * 100 + "\n") * 30_000  # about 3.8 MB
    path.write_text("2026-11-24 19:00:00 ERROR at the very start\n" + filler + "ERROR last\n")
    lines = read_lines(path)
    assert lines[-1] == "ERROR last"
    assert all(line.startswith("2026-11-24 20:00:00") for line in lines[:-1])


def test_utf16_log(tmp_path: Path) -> None:
    write(tmp_path, "ps.log", ["\ufeffFeil i skript: æøå"], age=1, encoding="utf-16-le")
    excerpt = log_excerpt(tmp_path, None)
    assert excerpt is not None and "Feil i skript: æøå" in excerpt.text


def test_missing_or_empty_folder_gives_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.adapters.log_folder")
    assert log_excerpt(tmp_path / "logg", FAILED_AT) is None
    assert "cannot list" in caplog.text
    assert log_excerpt(tmp_path, FAILED_AT) is None
    (tmp_path / "a-file-not-a-folder").write_text("x")
    assert log_excerpt(tmp_path / "a-file-not-a-folder", FAILED_AT) is None


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root reads any folder; needs POSIX modes"
)
def test_unreadable_folder_gives_none(tmp_path: Path) -> None:
    folder = tmp_path / "logg"
    folder.mkdir()
    write(folder, "x.log", ["ERROR x"], age=1)
    folder.chmod(0)
    try:
        assert log_excerpt(folder, None) is None
    finally:
        folder.chmod(0o755)


def test_every_line_of_an_excerpt_is_cut_then_redacted(tmp_path: Path) -> None:
    from bot.core.redact import FNR_MARK, REDACTED_MARK, Redactor
    from testkit.identity import spaced, synthetic_fnr

    number = synthetic_fnr(5, 6, 1977)
    long_tail = "y" * 600
    write(
        tmp_path,
        "eAdmClient_20261124.log",
        [
            f"2026-11-24 22:14:07 ERROR Bruker {number} finnes ikke i AD (ANS-4411)",
            f"2026-11-24 22:14:08 ERROR D-nr {spaced(synthetic_fnr(9, 9, 1999, d_number=True))}",
            f"2026-11-24 22:14:09 ERROR {long_tail} {number}",
            "2026-11-24 22:14:10 INFO  ordre 12345678901 behandlet",
        ],
        age=10,
    )
    site = Redactor.from_patterns([r"ANS-\d{4}"])
    excerpt = log_excerpt(tmp_path, FAILED_AT, tz=OSLO, redact=site)
    assert excerpt is not None
    assert f"Bruker {FNR_MARK} finnes ikke i AD ({REDACTED_MARK})" in excerpt.text
    assert f"D-nr {FNR_MARK}" in excerpt.text
    assert number not in excerpt.text and "ordre 12345678901" in excerpt.text
    assert all(len(line) <= 400 for line in excerpt.text.splitlines())
    # Without the tenant's redactor, identity numbers still go.
    plain = log_excerpt(tmp_path, FAILED_AT, tz=OSLO)
    assert plain is not None and number not in plain.text and "ANS-4411" in plain.text
