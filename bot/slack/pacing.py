"""How fast the bot writes to each channel: Slack's pace of about one message per second per
channel with short bursts, kept by the bot itself instead of learned from 429s. Delivery
takes a channel's turn before each message and holds a channel when Slack says Retry-After.
Pure bookkeeping on a clock: no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class ChannelPace:
    """How fast each channel may be written to: `rate` messages per second, after a burst of
    `burst`. A generic cell rate algorithm: each channel keeps the time its next message is
    due in steady state; a message may go once that time is at most `burst - 1` intervals
    ahead. `rate` 0 turns pacing off.

    This process's own pace: several replicas each keep theirs, and Slack's Retry-After
    (`hold`) still tells each of them when it has been too fast.
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.slack = max(0, burst - 1) * self.interval  # how far ahead a burst may run
        self.clock = clock
        self._due: dict[str, float] = {}

    def reserve(self, channel: str, max_wait: float) -> float | None:
        """Take the channel's next turn if it comes within `max_wait` seconds; returns how
        long to wait for it, or None (and takes nothing) when it is further off."""
        if not self.interval:
            return 0.0
        now = self.clock()
        due = max(self._due.get(channel, now), now)
        wait = max(0.0, due - self.slack - now)
        if wait > max_wait:
            return None
        self._due[channel] = due + self.interval
        if len(self._due) > 1000:  # forget channels that have been quiet for a while
            self._due = {c: t for c, t in self._due.items() if t > now}
        return wait

    def hold(self, channel: str, seconds: float) -> None:
        """Slack said wait `seconds` (Retry-After): nothing goes to the channel before."""
        if not self.interval:
            return
        now = self.clock()
        self._due[channel] = max(self._due.get(channel, now), now + seconds + self.slack)
