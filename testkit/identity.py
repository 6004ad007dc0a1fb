"""Synthetic Norwegian identity numbers for tests and benchmarks: made here by the check-digit
algorithm for a date of our choosing, never a real person's, so that a test can plant one in
eAdm's texts and prove it never comes out again. Written apart from the bot's own detector,
so a mistake in that cannot hide itself in both."""

from __future__ import annotations

_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _check(digits: str, weights: tuple[int, ...]) -> int:
    return (11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11) % 11


def synthetic_fnr(
    day: int, month: int, year: int, individual: int = 123, *, d_number: bool = False
) -> str:
    """Eleven digits for that date (40 added to the day for a D-number) with both check digits
    right: the first individual number from `individual` on that has them (10 is never
    issued)."""
    for number in range(individual, individual + 60):
        base = f"{day + (40 if d_number else 0):02d}{month:02d}{year % 100:02d}{number:03d}"
        first = _check(base, _W1)
        if first == 10:
            continue
        second = _check(base + str(first), _W2)
        if second == 10:
            continue
        return f"{base}{first}{second}"
    raise ValueError("no individual number with valid check digits near that one")


def spaced(number: str, separator: str = " ") -> str:
    """The number as people also write it: `DDMMYY NNNNN` or `DDMMYY.NNNNN`."""
    return number[:6] + separator + number[6:]
