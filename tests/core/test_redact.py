"""Redaction, row by row: fødselsnummer and D-numbers made here by the check-digit algorithm
(synthetic, never a real person's), the near-misses that must stay, and a site's patterns.

Cost, measured on the shared two-core development machine under a load average of 7: a 3 KB
text with timestamps but no identity number redacts in about 28 µs, one without digits in
about 13 µs, one carrying a number in about 29 µs (`Redactor()` without site patterns, best of
five runs of 20,000). `test_cheap` keeps a bound thirty times looser than that, so only a
pattern that tries every position of the text again would fail it.
"""

from __future__ import annotations

import re
import time
from datetime import date

import pytest

from bot.core.redact import (
    FNR_MARK,
    REDACTED_MARK,
    PatternError,
    Redactor,
    compile_patterns,
    is_fnr,
    redact_fnr,
    redact_json,
)

W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def check(digits: str, weights: tuple[int, ...]) -> int:
    return (11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11) % 11


def make(day: int, month: int, year: int, individual: int = 123, *, d_number: bool = False) -> str:
    """A synthetic number for that date whose check digits are right: the first individual
    number from `individual` on whose check digits are not 10 (those are never issued)."""
    for ind in range(individual, individual + 50):
        base = f"{day + (40 if d_number else 0):02d}{month:02d}{year % 100:02d}{ind:03d}"
        k1 = check(base, W1)
        if k1 == 10:
            continue
        k2 = check(base + str(k1), W2)
        if k2 == 10:
            continue
        return f"{base}{k1}{k2}"
    raise AssertionError("no check digits found")


def wrong_k1(number: str) -> str:
    return number[:9] + str((int(number[9]) + 1) % 10) + number[10]


def wrong_k2(number: str) -> str:
    return number[:10] + str((int(number[10]) + 1) % 10)


FNR = make(1, 1, 1990)  # born 1 January 1990
D_NUMBER = make(17, 5, 1985, d_number=True)  # day 57
LEAP_2000 = make(29, 2, 2000, 500)  # individual 500-999 with year 00: 2000, a leap year
LEAP_1900 = make(29, 2, 1900, 100)  # individual 000-499 with year 00: 1900, not a leap year
OLD = make(3, 4, 1860, 600)  # individual 500-749 with year 54-99: the 1800s
LATE_1900S = make(3, 4, 1945, 950)  # individual 900-999 with year 40-99: the 1900s
UNISSUED = make(3, 4, 1945, 600)  # individual 500-749 with year 40-53: never issued


def spaced(number: str, sep: str) -> str:
    return number[:6] + sep + number[6:]


@pytest.mark.parametrize(
    "text,expected",
    [
        (FNR, FNR_MARK),
        (spaced(FNR, " "), FNR_MARK),
        (spaced(FNR, "."), FNR_MARK),
        (D_NUMBER, FNR_MARK),
        (spaced(D_NUMBER, " "), FNR_MARK),
        (spaced(D_NUMBER, "."), FNR_MARK),
        (LEAP_2000, FNR_MARK),
        (OLD, FNR_MARK),
        (LATE_1900S, FNR_MARK),
        (f"Bruker {FNR} finnes ikke i AD.", f"Bruker {FNR_MARK} finnes ikke i AD."),
        (f"fnr={FNR};", f"fnr={FNR_MARK};"),
        (f"({spaced(FNR, ' ')})", f"({FNR_MARK})"),
        (f'"{D_NUMBER}",', f'"{FNR_MARK}",'),
        (f"{FNR}\n{D_NUMBER}", f"{FNR_MARK}\n{FNR_MARK}"),
        (f"ansatt-{FNR}-x", f"ansatt-{FNR_MARK}-x"),
        (f"ID:{FNR}.", f"ID:{FNR_MARK}."),
        (f"{FNR} og {spaced(FNR, '.')} og {FNR}", f"{FNR_MARK} og {FNR_MARK} og {FNR_MARK}"),
        # Near-misses: left exactly as they are.
        (wrong_k1(FNR), wrong_k1(FNR)),
        (wrong_k2(FNR), wrong_k2(FNR)),
        (wrong_k2(D_NUMBER), wrong_k2(D_NUMBER)),
        (make(32, 1, 1990), make(32, 1, 1990)),  # no 32nd day
        (make(1, 13, 1990), make(1, 13, 1990)),  # no 13th month
        (make(30, 2, 1990), make(30, 2, 1990)),
        (make(29, 2, 1991), make(29, 2, 1991)),  # not a leap year
        (make(32, 1, 1990, d_number=True), make(32, 1, 1990, d_number=True)),  # day 72
        (make(0, 1, 1990), make(0, 1, 1990)),  # day 00
        (LEAP_1900, LEAP_1900),
        (UNISSUED, UNISSUED),
        (FNR + "7", FNR + "7"),  # twelve digits
        ("7" + FNR, "7" + FNR),
        (f"order 4{FNR}2", f"order 4{FNR}2"),  # inside a longer run of digits
        (f"{FNR}{FNR}", f"{FNR}{FNR}"),
        (f"3.{FNR}", f"3.{FNR}"),  # a decimal number
        (f"{FNR},5", f"{FNR},5"),
        (f"{spaced(FNR, ' ')}12", f"{spaced(FNR, ' ')}12"),
        (f"12{spaced(FNR, '.')}", f"12{spaced(FNR, '.')}"),
        (spaced(FNR, "  "), spaced(FNR, "  ")),  # two spaces: two numbers, not one
        (spaced(FNR, "-"), spaced(FNR, "-")),  # not a way the numbers are written
        (FNR[:4] + " " + FNR[4:], FNR[:4] + " " + FNR[4:]),  # separator elsewhere
        ("Ordre 12345678901 er sendt", "Ordre 12345678901 er sendt"),  # fails the check
        ("00000000000", "00000000000"),
        ("", ""),
        ("no digits at all", "no digits at all"),
    ],
)
def test_identity_numbers(text: str, expected: str) -> None:
    assert redact_fnr(text) == expected
    assert Redactor()(text) == expected


def test_the_test_numbers_are_what_they_claim() -> None:
    """The generator above must make what each row says, or a near-miss row proves nothing."""
    assert check(FNR[:9], W1) == int(FNR[9]) and check(FNR[:10], W2) == int(FNR[10])
    assert int(D_NUMBER[:2]) == 57
    assert int(LEAP_1900[6:9]) < 500 and int(LEAP_2000[6:9]) >= 500
    assert 500 <= int(UNISSUED[6:9]) <= 749 and 40 <= int(UNISSUED[4:6]) <= 53
    assert is_fnr(FNR) and is_fnr(D_NUMBER) and is_fnr(LEAP_2000)
    assert not is_fnr(LEAP_1900) and not is_fnr(UNISSUED)
    assert not is_fnr(FNR[:10]) and not is_fnr("٠١٠١٩٠١٢٣٤٥")  # Arabic-Indic digits


def test_every_day_of_a_year_both_kinds() -> None:
    """A sweep, so that no month length or D-number day slips through the table."""
    day = date(1988, 1, 1)
    while day.year == 1988:
        for d_number in (False, True):
            number = make(day.day, day.month, day.year, d_number=d_number)
            assert redact_fnr(f"x {number} y") == f"x {FNR_MARK} y", number
            assert redact_fnr(wrong_k2(number)) == wrong_k2(number)
        day = date.fromordinal(day.toordinal() + 1)


@pytest.mark.parametrize(
    "patterns,text,expected",
    [
        (["EMP-\\d{5}"], "employee EMP-12345 failed", f"employee {REDACTED_MARK} failed"),
        ('["EMP-\\\\d{5}"]', "EMP-12345 and EMP-54321", f"{REDACTED_MARK} and {REDACTED_MARK}"),
        (["(?i)ansattnr \\d+"], "ANSATTNR 42 mangler", f"{REDACTED_MARK} mangler"),
        (["Kari", "Nordmann"], "Kari Nordmann", f"{REDACTED_MARK} {REDACTED_MARK}"),
        # Identity numbers go first: a pattern sees the marker, not the number.
        (["\\d{11}"], f"{FNR} 12345678901", f"{FNR_MARK} {REDACTED_MARK}"),
        # A pattern that matches a position only marks nothing.
        (["\\b"], "a b", "a b"),
        ([], "EMP-12345", "EMP-12345"),
        ("", "EMP-12345", "EMP-12345"),
        (None, "EMP-12345", "EMP-12345"),
    ],
)
def test_site_patterns(patterns: object, text: str, expected: str) -> None:
    assert Redactor.from_patterns(patterns)(text) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "patterns,named,why",
    [
        (["EMP-\\d{5}", "EMP-("], "EMP-(", "not a valid regular expression"),
        (["[a-"], "[a-", "not a valid regular expression"),
        ([""], "''", "is empty"),
        (["x*"], "x*", "matches the empty text"),
        (["(a|)"], "(a|)", "matches the empty text"),
        ([5], "5", "is not a string"),
        ("[abc", "[abc", "not a JSON list"),
        ('{"a": "b"}', '{"a": "b"}', "not a JSON list"),
        ('"EMP"', '"EMP"', "not a JSON list"),
    ],
)
def test_bad_patterns_are_named(patterns: object, named: str, why: str) -> None:
    with pytest.raises(PatternError) as caught:
        compile_patterns(patterns)  # type: ignore[arg-type]
    assert named in str(caught.value)
    assert why in str(caught.value)
    assert isinstance(caught.value, ValueError)  # settings' validators report it as such


def test_tenant_patterns_add_to_the_global_ones() -> None:
    site = Redactor.from_patterns(["EMP-\\d{5}"])
    tenant = site.extended(["VOSS-\\d+"])
    text = "EMP-12345 VOSS-7"
    assert site(text) == f"{REDACTED_MARK} VOSS-7"
    assert tenant(text) == f"{REDACTED_MARK} {REDACTED_MARK}"
    assert site.extended([]) is site
    with pytest.raises(PatternError, match=re.escape("'VOSS-('")):
        site.extended(["VOSS-("])


def test_json_structures() -> None:
    redactor = Redactor.from_patterns(["EMP-\\d{5}"])
    payload = {
        "tenant": "voss",
        "steps": [
            {"name": "Import HR", "message": f"Bruker {FNR} (EMP-12345) mangler", "n": 3},
            {"name": "Export AD", "message": None, "ok": True},
        ],
        "pair": (FNR, 11),
        FNR: "keys are field names and stay",
    }
    assert redact_json(payload, redactor) == {
        "tenant": "voss",
        "steps": [
            {
                "name": "Import HR",
                "message": f"Bruker {FNR_MARK} ({REDACTED_MARK}) mangler",
                "n": 3,
            },
            {"name": "Export AD", "message": None, "ok": True},
        ],
        "pair": (FNR_MARK, 11),
        FNR: "keys are field names and stay",
    }
    assert redact_json(FNR, redactor) == FNR_MARK
    assert redact_json(42, redactor) == 42


def test_cheap() -> None:
    """A 3 KB status answer's texts redact in well under 0.1 ms (see the module docstring)."""
    line = "Import HR failed at 2026-11-27T06:00:00Z: 120 of 4711 users updated, step 4 of 8. "
    texts = [(line * 40)[:3000], ("no numbers here, only words " * 110)[:3000]]
    redactor = Redactor()
    for text in texts:
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(200):
                redactor(text)
            best = min(best, (time.perf_counter() - start) / 200)
        assert best < 0.001, f"{best * 1e6:.0f} µs for 3 KB"


@pytest.mark.parametrize(
    "text,limit,cut_to",
    [
        ("short", 10, "short"),
        ("a" * 20, 10, "a" * 9 + "…"),
        # A cut through a number drops its first part: no date of birth is left behind.
        (f"error for {FNR} in HR", 16, "error for …"),
        (f"error for {spaced(FNR, ' ')} in HR", 22, "error for …"),
        (f"error for {FNR[:6]} {FNR[6:]}", 17, "error for …"),
        ("code 42 then a long tail", 7, "code …"),
        ("code 42 then a long tail", 9, "code 42 …"),
    ],
)
def test_a_cut_leaves_no_first_part_of_a_number(text: str, limit: int, cut_to: str) -> None:
    from bot.core.redact import cut

    assert cut(text, limit) == cut_to
    assert len(cut(text, limit)) <= limit


def test_within_cuts_before_the_patterns_run() -> None:
    # A pattern that would only match across the cut matches nothing: the cut came first.
    redactor = Redactor.from_patterns([r"SECRET-TAIL"])
    assert redactor.within("x" * 50 + "SECRET-TAIL", 20) == "x" * 19 + "…"
    assert redactor.within(f"{FNR} SECRET-TAIL", 100) == f"{FNR_MARK} {REDACTED_MARK}"
