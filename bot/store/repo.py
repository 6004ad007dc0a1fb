"""The store's named operations, one module per aggregate, behind one `Store`.

Every read and write of the database goes through here. Written for several processes on one
database: poll leases and outbox claims are conditional UPDATEs that only one process can win,
and an alert's key is unique among unresolved alerts, so the same finding cannot be opened
twice. Nothing here talks to Slack or eAdm, and nothing here decides: what happens to an alert
and what it owes comes from `bot.core.notify`.
"""

from __future__ import annotations

from bot.core.storm import StormRule
from bot.store.alerts import AlertStore, Target
from bot.store.audit import AuditStore
from bot.store.budget import BudgetStore
from bot.store.cycles import CycleStore
from bot.store.db import MIGRATIONS, utcnow
from bot.store.events import EventsStore
from bot.store.outbox import OutboxStore
from bot.store.polls import PollStore
from bot.store.reruns import RerunStore
from bot.store.retention import RetentionStore
from bot.store.silences import SilenceStore

__all__ = ["MIGRATIONS", "Store", "Target", "utcnow"]

DEFAULT_STORM = StormRule()  # the rule's own defaults, for stores that are given none


class Store(
    PollStore,
    CycleStore,
    AlertStore,
    EventsStore,
    OutboxStore,
    SilenceStore,
    RerunStore,
    AuditStore,
    RetentionStore,
    BudgetStore,
):
    """One database, all its operations: polls and leases (`polls`), cycle history
    (`cycles`), alerts (`alerts`), what Event Viewer said with them (`events`), messages owed
    to Slack (`outbox`), maintenance windows (`silences`), reruns (`reruns`), the audit log
    (`audit`), what is deleted when (`retention`) and the budgets of Slack calls all
    replicas share (`budget`).

    `storm` is STORM_AFTER and STORM_WINDOW, by which new alerts are routed into digests.
    """

    def __init__(self, url: str, *, storm: StormRule = DEFAULT_STORM) -> None:
        super().__init__(url)
        self.storm = storm
