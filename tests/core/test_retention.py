"""How long the database keeps what: the cut-off times the purge deletes before, and the
sentence that tells an admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.retention import Retention

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "days,audit_days,history,delivered,audit",
    [
        (90, 365, NOW - timedelta(days=90), NOW - timedelta(days=1), NOW - timedelta(days=365)),
        (7, 30, NOW - timedelta(days=7), NOW - timedelta(days=1), NOW - timedelta(days=30)),
        (0, 365, None, None, NOW - timedelta(days=365)),  # 0 keeps the history and its messages
        (90, 0, NOW - timedelta(days=90), NOW - timedelta(days=1), None),
    ],
)
def test_the_cutoffs(
    days: int,
    audit_days: int,
    history: datetime | None,
    delivered: datetime | None,
    audit: datetime | None,
) -> None:
    cutoffs = Retention(days, audit_days).cutoffs(NOW)
    assert (cutoffs.history, cutoffs.delivered, cutoffs.audit) == (history, delivered, audit)
    assert cutoffs.nothing is (days == 0 and audit_days == 0)
    assert Retention(0, 0).cutoffs(NOW).nothing


def test_it_says_what_is_kept() -> None:
    assert Retention().describe() == (
        "keeps cycles, resolved alerts, closed digests and finished reruns for 90 days, "
        "messages Slack has taken for 1 day; the audit log for 365 days"
    )
    forever = Retention(0, 0).describe()
    assert "for ever (RETENTION_DAYS=0)" in forever and "(AUDIT_RETENTION_DAYS=0)" in forever
    assert Retention(1, 1).describe().endswith("the audit log for 1 day")
