"""How fast the bot writes to each channel: Slack's pace of about one message per second per
channel with short bursts (chat.postMessage's own limit, thread replies included), kept by
the bot itself instead of learned from 429s. Delivery takes a channel's turn before each
post and holds a channel when Slack says Retry-After. Pure bookkeeping on a clock: no I/O.
(Redraws are chat.update, paced per workspace through the store: `delivery`.)
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.core.budget import Rate, Take, take


class ChannelPace:
    """How fast each channel may be written to: `rate` messages per second, after a burst of
    `burst` (`bot.core.budget`, one due time per channel). `rate` 0 turns pacing off.

    This process's own pace: several replicas each keep theirs, and Slack's Retry-After
    (`hold`) still tells each of them when it has been too fast.
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = Rate(rate, burst)
        self.interval = self.rate.interval
        self.clock = clock
        self._due: dict[str, float] = {}

    def turn(self, channel: str, max_wait: float, keep: int = 0) -> Take:
        """Take the channel's next turn if it comes within `max_wait` seconds, leaving `keep`
        turns of the burst to messages that matter more; or say how far off it is."""
        now = self.clock()
        got = take(self.rate, self._due.get(channel), now, max_wait, keep)
        if got.due is not None and self.interval:
            self._due[channel] = got.due
            if len(self._due) > 1000:  # forget channels that have been quiet for a while
                self._due = {c: t for c, t in self._due.items() if t > now}
        return got

    def reserve(self, channel: str, max_wait: float, keep: int = 0) -> float | None:
        """The wait for the channel's next turn, taken, or None (nothing taken) when it is
        further off than `max_wait`."""
        got = self.turn(channel, max_wait, keep)
        return got.wait if got.taken else None

    def hold(self, channel: str, seconds: float) -> None:
        """Slack said wait `seconds` (Retry-After): nothing goes to the channel before."""
        if not self.interval:
            return
        now = self.clock()
        ahead = self.rate.ahead()
        self._due[channel] = max(self._due.get(channel, now), now + seconds + ahead)
