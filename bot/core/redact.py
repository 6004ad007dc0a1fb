"""Redaction: Norwegian national identity numbers and a site's own patterns removed from text.

Owns the rules for what counts as a fødselsnummer or D-number, the markers that replace what is
removed, the compiling of `REDACT_PATTERNS`, and the `Redactor` that applies both. Pure: no
clock, no I/O; imports nothing of the project, so every layer may redact where text enters.

A fødselsnummer is DDMMYY III K1 K2: a date of birth, an individual number whose range says the
century, and two mod-11 check digits. A D-number has 40 added to the day. They are written as
eleven digits in a row, or with a space or a dot after the sixth. Each one found becomes `[fnr]`
whatever the language a text is later shown in; a number that fails the date or either check
digit (an order number, a phone number with a prefix) is left alone, and so are eleven digits
inside a longer run of digits or a decimal number.

Site patterns run after the identity numbers, in their order, each match becoming `[redacted]`.
Python's regular expressions have no time limit, so a careless pattern can backtrack for long on
long text: callers cut a text to its limit before they redact it, never after.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

FNR_MARK = "[fnr]"
REDACTED_MARK = "[redacted]"

_EXAMPLE = r'["EMP-\\d{5}"]'

_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

# Eleven ASCII digits, or six and five with one space or dot between, that are not part of a
# longer run of digits or of a decimal number ("3.14159265358", "1,01019012345"). The pattern
# begins with the digit itself and looks behind from there: a pattern that begins with a
# lookbehind is tried at every position of the text, one that begins with a character class is
# scanned for in C, which keeps a text without numbers nearly free.
_CANDIDATE = re.compile(
    r"([0-9](?<![0-9][0-9])(?<![0-9][.,][0-9])[0-9]{5})[ .]?([0-9]{5})(?![0-9])(?![.,][0-9])"
)


def _check_digit(digits: Sequence[int], weights: Sequence[int]) -> int | None:
    remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    check = (11 - remainder) % 11
    return None if check == 10 else check  # 10 is never issued: no number has it


def _century(year: int, individual: int) -> int | None:
    """The century of the birth year, from the individual number's range (None: not issued)."""
    if individual <= 499:
        return 1900
    if individual <= 749 and year >= 54:
        return 1800
    if year <= 39:
        return 2000
    if individual >= 900:
        return 1900
    return None


def is_fnr(digits: str) -> bool:
    """Whether eleven digits are a valid fødselsnummer or D-number: a real date (40 added to
    the day for a D-number), an individual number issued for that century, both check digits."""
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        return False
    numbers = [int(c) for c in digits]
    if _check_digit(numbers[:9], _WEIGHTS_1) != numbers[9]:
        return False
    if _check_digit(numbers[:10], _WEIGHTS_2) != numbers[10]:
        return False
    day, month, year = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    if day > 40:
        day -= 40  # a D-number
    century = _century(year, int(digits[6:9]))
    if century is None:
        return False
    try:
        date(century + year, month, day)
    except ValueError:
        return False
    return True


# The digits a cut went through: up to eleven, with the one space or dot a number may have.
_CUT_DIGITS = re.compile(r"[0-9]{1,6}[ .]?[0-9]{0,5}$")


def cut(text: str, limit: int) -> str:
    """`text` in at most `limit` characters, ending in "…" when it was longer. Where the cut
    goes through a number, the number's first part is dropped too: a date of birth and the
    first digits of an identity number are no number redaction can recognise any more."""
    if len(text) <= limit:
        return text
    head = text[: max(limit - 1, 0)]
    if head and head[-1].isdigit() and (text[len(head)].isdigit() or text[len(head)] in " ."):
        head = _CUT_DIGITS.sub("", head)
    return head + "…"


def _replace(match: re.Match[str]) -> str:
    return FNR_MARK if is_fnr(match.group(1) + match.group(2)) else match.group(0)


def redact_fnr(text: str) -> str:
    """The text with every fødselsnummer and D-number replaced by `[fnr]`."""
    if len(text) < 11:
        return text
    return _CANDIDATE.sub(_replace, text)


class PatternError(ValueError):
    """A site pattern that cannot be used; the message names it and says why."""

    def __init__(self, pattern: object, why: str, *, whole: bool = False) -> None:
        self.pattern = pattern
        super().__init__(f"{pattern!r} {why}" if whole else f"pattern {pattern!r} {why}")


def compile_patterns(patterns: str | Iterable[str] | None) -> tuple[re.Pattern[str], ...]:
    """The site's patterns, compiled once (at start-up): a JSON list of Python regular
    expressions as text, or the list itself. Raises PatternError naming the first bad one."""
    if patterns is None:
        return ()
    if isinstance(patterns, str):
        text = patterns.strip()
        if not text:
            return ()
        try:
            patterns = json.loads(text)
        except json.JSONDecodeError:
            raise PatternError(
                text[:80], f"is not a JSON list of strings, e.g. {_EXAMPLE}", whole=True
            ) from None
        if not isinstance(patterns, list):
            raise PatternError(
                text[:80], f"is not a JSON list of strings, e.g. {_EXAMPLE}", whole=True
            )
    compiled: list[re.Pattern[str]] = []
    for pattern in patterns:
        if not isinstance(pattern, str):
            raise PatternError(pattern, "is not a string")
        if not pattern:
            raise PatternError(pattern, "is empty")
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise PatternError(pattern, f"is not a valid regular expression: {exc}") from None
        if regex.search("") is not None:
            # It would match between every two characters and mark the whole text.
            raise PatternError(
                pattern, "matches the empty text; make it match at least one character"
            )
        compiled.append(regex)
    return tuple(compiled)


def _mark(match: re.Match[str]) -> str:
    # A pattern that matches nothing but a position (a lookahead, \b) marks nothing.
    return REDACTED_MARK if match.group(0) else ""


@dataclass(frozen=True, slots=True)
class Redactor:
    """Identity numbers always, then the site's patterns. Call it on text where it enters the
    bot, after cutting it to its limit."""

    patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def from_patterns(cls, patterns: str | Iterable[str] | None) -> Redactor:
        return cls(compile_patterns(patterns))

    def extended(self, patterns: str | Iterable[str] | None) -> Redactor:
        """This redactor with more patterns after its own (a tenant's `redact_patterns`)."""
        more = compile_patterns(patterns)
        return Redactor((*self.patterns, *more)) if more else self

    def __call__(self, text: str) -> str:
        if not text:
            return text
        text = redact_fnr(text)
        for pattern in self.patterns:
            text = pattern.sub(_mark, text)
        return text

    def within(self, text: str, limit: int) -> str:
        """The text cut to `limit` characters first (see `cut`), then redacted: the order that
        keeps a site pattern from running long on a long text."""
        return self(cut(text, limit))


def redact_json(value: Any, redactor: Redactor) -> Any:
    """A JSON-like value (dicts, lists, tuples, scalars) with every string in it redacted.
    Keys are left as they are: they are the contract's field names, not eAdm's text."""
    if isinstance(value, str):
        return redactor(value)
    if isinstance(value, Mapping):
        return {key: redact_json(item, redactor) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_json(item, redactor) for item in value]
    if isinstance(value, tuple):
        return tuple(redact_json(item, redactor) for item in value)
    return value
