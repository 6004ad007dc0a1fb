"""A rate with a burst (the generic cell rate algorithm): turns taken, refused and kept."""

from __future__ import annotations

import pytest

from bot.core.budget import Rate, take


def turns(rate: Rate, asks: list[float], keep: list[int] | None = None) -> list[float | None]:
    """The wait each ask at its time gets (None: refused, with nothing taken)."""
    due: float | None = None
    got: list[float | None] = []
    for i, now in enumerate(asks):
        result = take(rate, due, now, max_wait=0.0, keep=(keep or [0] * len(asks))[i])
        got.append(result.wait if result.taken else None)
        due = result.due if result.taken else due
    return got


@pytest.mark.parametrize(
    ("rate", "asks", "keep", "expected"),
    [
        # A burst of three at once, then one a second.
        (Rate(1.0, 3), [0, 0, 0, 0, 1, 1], None, [0, 0, 0, None, 0, None]),
        (Rate(1.0, 1), [0, 0, 1], None, [0, None, 0]),
        # 50 a minute: a turn every 1.2 s after the burst.
        (Rate(50 / 60, 2), [0, 0, 0, 1.2, 1.3, 2.4], None, [0, 0, None, 0, None, 0]),
        # Keeping one turn of the burst: the reply is refused while only one is left,
        (Rate(1.0, 3), [0, 0, 0], [1, 1, 0], [0, 0, 0]),
        (Rate(1.0, 3), [0, 0, 0, 0], [1, 1, 1, 0], [0, 0, None, 0]),
        # ... and keeping needs a burst to keep from.
        (Rate(1.0, 1), [0, 1], [1, 1], [0, 0]),
        # No limit.
        (Rate(0.0), [0, 0, 0], None, [0, 0, 0]),
    ],
)
def test_turns_are_taken_at_the_rate_after_the_burst(
    rate: Rate, asks: list[float], keep: list[int] | None, expected: list[float | None]
) -> None:
    assert turns(rate, asks, keep) == expected


def test_a_refused_turn_says_how_far_off_it_is_and_a_near_one_is_waited_for() -> None:
    rate = Rate(1.0, 1)
    first = take(rate, None, 10.0, max_wait=0)
    assert first.taken and first.due == 11.0
    assert take(rate, first.due, 10.25, max_wait=0) == take(rate, 11.0, 10.25, 0)
    refused = take(rate, first.due, 10.25, max_wait=0.5)
    assert not refused.taken and refused.wait == pytest.approx(0.75)
    waited = take(rate, first.due, 10.75, max_wait=0.5)
    assert waited.taken and waited.wait == pytest.approx(0.25) and waited.due == 12.0
