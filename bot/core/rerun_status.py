"""A rerun's statuses, the sets the guard and the store read them by, and how one moves on.

A rerun is a sync started by hand. The guard asks whether one is under way and when the last
one really ran; the poll asks which ones still wait for their new cycle; the store keeps at most
one under way per tenant; a requested one whose runner never answered lapses (`has_lapsed`,
which the use case asks and the store only carries out). All of them read the sets here, so a
status added or renamed changes them together. The database migrations that created the
store's index keep their own literal (a migration never changes once applied); a test holds it
equal to `ACTIVE`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class RerunStatus(StrEnum):
    """The value is what the store writes in `rerun.status`."""

    REQUESTED = "requested"  # recorded; the runner has not answered yet
    STARTED = "started"  # the runner started the sync; waiting for the new cycle
    FAILED = "failed"  # the runner could not start it
    CONFIRMED = "confirmed"  # a new cycle followed
    NO_CYCLE = "no_cycle"  # no new cycle followed within the grace period
    LAPSED = "lapsed"  # requested, and no runner ever answered: the process asking stopped


# Under way: the guard's "pending", and the store's unique index allows one per tenant.
ACTIVE: frozenset[RerunStatus] = frozenset({RerunStatus.REQUESTED, RerunStatus.STARTED})
# The sync really started, so it counts toward the cool-down. A runner that failed (a wrong
# command, say) does not: the admin may fix it and try again at once. A lapsed one may have
# started the sync before its process stopped, so it counts, to be safe.
RAN: frozenset[RerunStatus] = frozenset(
    {RerunStatus.STARTED, RerunStatus.CONFIRMED, RerunStatus.NO_CYCLE, RerunStatus.LAPSED}
)
# What each poll looks at: the sync started, and its cycle has not been seen or given up on.
AWAITING_CYCLE: frozenset[RerunStatus] = frozenset({RerunStatus.STARTED})

# The one status a rerun must be in to move to each other status. Moves that race (two replicas
# seeing the new cycle, or the deadline, at once) are settled by it: only one of them finds the
# rerun still in the status it moves from.
MOVES_FROM: dict[RerunStatus, RerunStatus] = {
    RerunStatus.STARTED: RerunStatus.REQUESTED,
    RerunStatus.FAILED: RerunStatus.REQUESTED,
    RerunStatus.CONFIRMED: RerunStatus.STARTED,
    RerunStatus.NO_CYCLE: RerunStatus.STARTED,
    RerunStatus.LAPSED: RerunStatus.REQUESTED,
}

# A requested rerun is moved on by the process that asked, once its runner answers, within the
# runner's own timeout. A process that stopped in between (a crash, a restart) never does, and
# its rerun would block the tenant's reruns for good: past the timeout and this margin it
# lapses. The margin covers the moments around the run (recording it, a slow database).
LAPSE_MARGIN_S = 60.0


def has_lapsed(
    status: RerunStatus, requested_at: datetime | None, runner_timeout: float, now: datetime
) -> bool:
    """Whether a rerun under way is one no runner will ever answer for."""
    if status is not RerunStatus.REQUESTED or requested_at is None:
        return False
    return now > requested_at + timedelta(seconds=runner_timeout + LAPSE_MARGIN_S)


def in_order(statuses: frozenset[RerunStatus]) -> tuple[RerunStatus, ...]:
    """A set's statuses in the enum's order, for text that must read the same every time."""
    return tuple(status for status in RerunStatus if status in statuses)
