"""Reading the store's tables whole, for tests that check what was written.

The bot itself never reads a whole table; its store answers named questions. A test wants to
see every row, in the order it was written, so these read the tables directly.
"""

from __future__ import annotations

from sqlmodel import col, select

from bot.store import Store
from bot.store.tables import Alert, AlertCopy, AuditEntry, Outbox, Rerun


def alerts(store: Store, tenant: str | None = None) -> list[Alert]:
    query = select(Alert)
    if tenant is not None:
        query = query.where(Alert.tenant == tenant)
    with store.session() as s:
        return list(s.exec(query.order_by(col(Alert.id))).all())


def reruns(store: Store, tenant: str | None = None) -> list[Rerun]:
    query = select(Rerun)
    if tenant is not None:
        query = query.where(Rerun.tenant == tenant)
    with store.session() as s:
        return list(s.exec(query.order_by(col(Rerun.id))).all())


def messages(store: Store) -> list[Outbox]:
    """Every outbox row, delivered or not."""
    with store.session() as s:
        return list(s.exec(select(Outbox).order_by(col(Outbox.id))).all())


def copies(store: Store, alert_id: int) -> list[AlertCopy]:
    """An alert's copies, one per channel it is told in."""
    query = select(AlertCopy).where(AlertCopy.alert_id == alert_id)
    with store.session() as s:
        return list(s.exec(query.order_by(col(AlertCopy.id))).all())


def audit_log(store: Store, limit: int = 100) -> list[AuditEntry]:
    """The newest `limit` audit entries, newest first."""
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    with store.session() as s:
        return list(s.exec(query).all())
