"""Refused requests in the log: one line for the first of each kind, then only a count.

Anyone who can reach the bot's port can send it garbage, so a refusal must never cost more
than a line: no traceback, and a flood of the same refusal is counted and summed up once a
minute at most instead of written out again. Every refusal is counted in
`eadm_bot_refused_requests_total` by its kind, a short fixed word; what exactly was wrong
goes in the line.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.core import metrics

log = logging.getLogger("bot.requests")

SUMMARY_EVERY = 60.0  # seconds between two lines about the same kind of refusal


@dataclass(slots=True)
class _Kind:
    said_at: float  # when a line about this kind was last written
    since: int = 0  # refusals of this kind since that line
    latest: str = ""


class Refusals:
    def __init__(
        self,
        what: str = "a request",
        *,
        every: float = SUMMARY_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.what = what
        self.every = every
        self.clock = clock
        self._kinds: dict[str, _Kind] = {}

    def refuse(self, kind: str, detail: str, *, who: str | None = None) -> None:
        """Note a refused request: `kind` a short word (a metric label), `detail` what was
        wrong, `who` where it came from (a Slack user or an address) when known."""
        metrics.REFUSED.labels(reason=kind).inc()
        text = f"{detail} (from {who})" if who else detail
        now = self.clock()
        seen = self._kinds.get(kind)
        if seen is None:
            self._kinds[kind] = _Kind(said_at=now)
            log.warning("refused %s: %s; more like it are counted", self.what, text)
            return
        seen.since += 1
        seen.latest = text
        if now - seen.said_at >= self.every:
            log.warning(
                "refused %d more like that (%s) in the last %.0f s; the latest: %s",
                seen.since,
                kind,
                now - seen.said_at,
                text,
            )
            seen.said_at, seen.since = now, 0

    def count(self, kind: str) -> int:
        """Refusals of `kind` since its last line (for tests and the summary)."""
        seen = self._kinds.get(kind)
        return seen.since if seen else 0
