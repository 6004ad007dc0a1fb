"""How long the database keeps what: the rule behind the daily purge, and the sentence that tells
an admin (at start-up and in `eadm-bot check`). Pure.

`RETENTION_DAYS` covers the bot's history: cycles by when they were last seen, alerts by when
they resolved, storm digests by when they closed, reruns by when they were asked for, and the
state of tenants no longer configured by their last poll; each with its copies and messages.
Messages Slack has taken are needed only until then, and go after a day. `AUDIT_RETENTION_DAYS`
covers the audit log by its time. `0` keeps that part for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DELIVERED_DAYS = 1  # a message Slack has taken is kept this long (for a look at what was sent)


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """What is older than these goes; None keeps that part."""

    history: datetime | None
    delivered: datetime | None
    audit: datetime | None

    @property
    def nothing(self) -> bool:
        return self.history is None and self.delivered is None and self.audit is None


@dataclass(frozen=True, slots=True)
class Retention:
    days: int = 90
    audit_days: int = 365

    def cutoffs(self, now: datetime) -> Cutoffs:
        def before(days: float) -> datetime | None:
            return now - timedelta(days=days) if days > 0 else None

        # RETENTION_DAYS=0 keeps everything of the history, the messages it owed included.
        return Cutoffs(
            history=before(self.days),
            delivered=before(DELIVERED_DAYS) if self.days > 0 else None,
            audit=before(self.audit_days),
        )

    def describe(self) -> str:
        """One sentence: what is kept how long."""
        if self.days > 0:
            history = (
                f"cycles, resolved alerts, closed digests and finished reruns for {self.days} "
                f"day{_s(self.days)}, messages Slack has taken for {DELIVERED_DAYS} day"
            )
        else:
            history = "cycles, alerts, digests, reruns and messages for ever (RETENTION_DAYS=0)"
        if self.audit_days > 0:
            audit = f"the audit log for {self.audit_days} day{_s(self.audit_days)}"
        else:
            audit = "the audit log for ever (AUDIT_RETENTION_DAYS=0)"
        return f"keeps {history}; {audit}"


def _s(count: int) -> str:
    return "" if count == 1 else "s"
