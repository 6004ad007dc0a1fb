"""A rate with a burst, as a generic cell rate algorithm: one number per budget, the time its
next turn is due in steady state. Pure arithmetic on times given in seconds; where the number
is kept (in memory per channel, or in the store for a whole workspace) is the caller's.

A turn may be taken once the due time is at most `burst - 1` intervals ahead of now; taking
it moves the due time on by one interval. `keep` turns of the burst can be left for others:
a message that keeps one may go only while at least one more turn would still be free.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float  # 0: no limit
    burst: int = 1

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second if self.per_second > 0 else 0.0

    def ahead(self, keep: int = 0) -> float:
        """How far ahead of now the due time may be for a turn to be taken."""
        return max(0, self.burst - 1 - max(0, keep)) * self.interval


@dataclass(frozen=True, slots=True)
class Take:
    wait: float  # taken: seconds to wait before sending; not taken: seconds until one is free
    due: float | None  # the new due time when taken, None when not

    @property
    def taken(self) -> bool:
        return self.due is not None


def take(rate: Rate, due: float | None, now: float, max_wait: float, keep: int = 0) -> Take:
    """A turn of `rate` whose next turn was `due` (None: never used), if it comes within
    `max_wait` seconds of `now`."""
    if not rate.interval:
        return Take(0.0, now)
    start = now if due is None else max(due, now)
    wait = max(0.0, start - rate.ahead(keep) - now)
    if wait > max_wait:
        return Take(wait, None)
    return Take(wait, start + rate.interval)
