"""The audit log: every click and command, allowed or refused."""

from __future__ import annotations

from datetime import datetime

from bot.store.db import Database, utcnow
from bot.store.tables import AuditEntry


class AuditStore(Database):
    def audit(
        self,
        action: str,
        result: str,
        *,
        user_id: str | None,
        tenant: str | None = None,
        alert_id: int | None = None,
        detail: str | None = None,
        now: datetime | None = None,
    ) -> None:
        with self.session() as s:
            s.add(
                AuditEntry(
                    at=now or utcnow(),
                    tenant=tenant,
                    user_id=user_id,
                    action=action,
                    alert_id=alert_id,
                    result=result,
                    detail=detail,
                )
            )
            s.commit()
