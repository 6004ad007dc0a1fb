"""How the tenants' first polls are spread at start: never more begun in a second than the
ticks after them need, and never beyond one interval."""

from __future__ import annotations

import pytest

from bot.runtime.wiring import FIRST_POLLS_A_SECOND, first_spread


@pytest.mark.parametrize(
    ("tenants", "poll_interval", "spread"),
    [
        (1, 60, 0),  # one tenant is polled at once
        (2, 60, 30),
        (1000, 60, 30),  # 33 a second
        (5000, 60, 60),  # over the whole interval: 83 a second, as every tick after
        (2500, 60, 50),
        (5000, 300, 100),
        (10, 5, 5),  # never beyond one interval
    ],
)
def test_first_polls_are_spread(tenants: int, poll_interval: float, spread: float) -> None:
    assert first_spread(tenants, poll_interval) == spread


def test_at_most_so_many_first_polls_a_second_within_an_interval() -> None:
    for tenants in (100, 1000, 3000, 5000):
        spread = first_spread(tenants, 600)
        assert tenants / spread <= FIRST_POLLS_A_SECOND
