"""Whether a poll owes its tenant's alerts a transaction at all. Pure.

Most polls find what the one before found. Such a poll changes no alert and owes Slack nothing,
unless time alone brought something due: a reminder, an escalation (both due again once a
snooze ends), or an alert a stretch of quiet kept silenced, posted once the quiet is over. The
poll job remembers what its last transaction for a tenant was given and left (`Applied`) and
asks `unchanged` before the next: when it answers with the poll's decisions (an alert kept for
each finding), the transaction is skipped.

What other processes may do to the tenant's alerts in between only postpones what is due (an
acknowledgement, a snooze) or is seen here as due at once (a silenced alert); an alert opened or
resolved elsewhere means another process polled the tenant, and the caller then forgets what it
remembered. Imports only the core.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.domain import Finding, Snapshot
from bot.core.lifecycle import AlertView, Keep, escalation_at, reminder_at

# An alert a stretch of quiet keeps silenced: whether it is posted now only the transaction
# can say (it reads the quiet), so it is due at every poll while it lasts.
AT_ONCE = datetime.min.replace(tzinfo=UTC)


def next_due(
    alerts: Sequence[AlertView], *, remind_after: float, escalate_after: float = 0
) -> datetime | None:
    """The first moment time alone brings anything due for these alerts (the unresolved ones
    count): a reminder, an escalation, or at once for a silenced alert. None: nothing ever
    comes due without news."""
    found: list[datetime] = []
    for alert in alerts:
        if alert.resolved_at is not None:
            continue
        if alert.silenced:
            return AT_ONCE
        found += [
            at
            for at in (reminder_at(alert, remind_after), escalation_at(alert, escalate_after))
            if at is not None
        ]
    return min(found, default=None)


def as_seen(snapshot: Snapshot | None) -> Snapshot | None:
    """A snapshot as polls compare it: without the moment it was read, which every poll
    changes and nothing judges by."""
    if snapshot is None or snapshot.fetched_at is None:
        return snapshot
    return dataclasses.replace(snapshot, fetched_at=None)


@dataclass(frozen=True, slots=True)
class Applied:
    """What a tenant's last alert transaction was given and left: the findings and the cycle
    it judged (`as_seen`), its unresolved alerts' ids by key, and when the first of their
    timers comes due (None: none will)."""

    findings: tuple[Finding, ...]
    snapshot: Snapshot | None
    alerts: Mapping[str, int]
    due_at: datetime | None


def applied(
    findings: Sequence[Finding],
    snapshot: Snapshot | None,
    alerts: Sequence[AlertView],
    *,
    remind_after: float,
    escalate_after: float = 0,
) -> Applied:
    """What to remember of a transaction, from the alerts as it left them."""
    open_alerts = [a for a in alerts if a.resolved_at is None]
    return Applied(
        findings=tuple(findings),
        snapshot=as_seen(snapshot),
        alerts={alert.key: alert.id for alert in open_alerts},
        due_at=next_due(open_alerts, remind_after=remind_after, escalate_after=escalate_after),
    )


def unchanged(
    last: Applied | None, findings: Sequence[Finding], snapshot: Snapshot | None, now: datetime
) -> list[Keep] | None:
    """This poll's decisions without a transaction, when there is nothing to write: the same
    findings as the last transaction's, each kept by its alert, and no timer due. A changed
    cycle is news only while an alert is open (its message shows the cycle); with nothing
    found and nothing open, a cycle moving from step to step writes no alert. None when the
    transaction must run (nothing remembered, news, or a timer due)."""
    if last is None or tuple(findings) != last.findings:
        return None
    if last.alerts and as_seen(snapshot) != last.snapshot:
        return None
    if last.due_at is not None and now >= last.due_at:
        return None
    if any(finding.key not in last.alerts for finding in findings):
        return None
    return [Keep(last.alerts[finding.key], finding) for finding in findings]
