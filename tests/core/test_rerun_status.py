"""A rerun's statuses: a requested one whose runner never answered lapses after the runner's
timeout and a margin, and only a requested one does."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.rerun_status import (
    ACTIVE,
    LAPSE_MARGIN_S,
    MOVES_FROM,
    RAN,
    RerunStatus,
    has_lapsed,
)
from tests.cycles import T0

TIMEOUT = 60.0


@pytest.mark.parametrize(
    ("status", "seconds_ago", "lapsed"),
    [
        (RerunStatus.REQUESTED, 5, False),  # the runner is still at it
        (RerunStatus.REQUESTED, TIMEOUT, False),  # it may answer at its timeout
        (RerunStatus.REQUESTED, TIMEOUT + LAPSE_MARGIN_S, False),
        (RerunStatus.REQUESTED, TIMEOUT + LAPSE_MARGIN_S + 1, True),  # nobody will answer
        (RerunStatus.REQUESTED, 86400, True),
        (RerunStatus.STARTED, 86400, False),  # it answered: waiting for its cycle is the poll's
        (RerunStatus.CONFIRMED, 86400, False),
    ],
)
def test_a_requested_rerun_lapses_past_its_runners_timeout_and_a_margin(
    status: RerunStatus, seconds_ago: float, lapsed: bool
) -> None:
    now = T0 + timedelta(seconds=seconds_ago)
    assert has_lapsed(status, T0, TIMEOUT, now) is lapsed


def test_a_rerun_with_no_time_of_asking_never_lapses() -> None:
    assert not has_lapsed(RerunStatus.REQUESTED, None, TIMEOUT, T0)


def test_a_lapsed_rerun_is_no_longer_under_way_and_counts_toward_the_cool_down() -> None:
    assert RerunStatus.LAPSED not in ACTIVE
    assert RerunStatus.LAPSED in RAN, "it may have started the sync before its process stopped"
    assert MOVES_FROM[RerunStatus.LAPSED] is RerunStatus.REQUESTED
