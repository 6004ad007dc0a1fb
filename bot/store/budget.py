"""Budgets of Slack calls per workspace, shared by every replica on the database: one row
per budget holding when its next turn is due (`bot.core.budget`), taken with a compare and
set so that two processes never take the same turn. Costs one read and one write per turn
taken, which for chat.update (at most about one a second) is nothing."""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col

from bot.core.budget import Rate, Take, take
from bot.store.db import Database
from bot.store.tables import SendBudget

TRIES = 8  # compare-and-set rounds before giving up on a turn for this pass


class BudgetStore(Database):
    def take_turn(self, name: str, rate: Rate, now: float, max_wait: float, keep: int = 0) -> Take:
        """A turn of the budget `name` at `rate` if one comes within `max_wait` seconds of
        `now` (seconds since the epoch), taken for this process; or how far off it is."""
        if not rate.interval:
            return Take(0.0, now)
        for _ in range(TRIES):
            with self.session() as s:
                row = s.get(SendBudget, name)
                due = row.due_ms / 1000 if row is not None else None
                got = take(rate, due, now, max_wait, keep)
                if got.due is None:
                    return got
                if _set_due(s, name, row, round(got.due * 1000)):
                    return got
        return Take(rate.interval, None)  # contended all along: try again in a moment

    def hold_turns(self, name: str, rate: Rate, until: float) -> None:
        """Slack said wait (Retry-After): no process takes a turn of `name` before `until`
        (seconds since the epoch)."""
        if not rate.interval:
            return
        held = round((until + rate.ahead()) * 1000)
        for _ in range(TRIES):
            with self.session() as s:
                row = s.get(SendBudget, name)
                if row is not None and row.due_ms >= held:
                    return
                if _set_due(s, name, row, held):
                    return


def _set_due(s: Session, name: str, row: SendBudget | None, due_ms: int) -> bool:
    """Write `due_ms` as the budget's next turn if nobody changed it since `row` was read (or
    made it, where there was no row); False when another process came first: read it again."""
    if row is None:
        s.add(SendBudget(name=name, due_ms=due_ms))
        try:
            s.commit()
        except sa.exc.IntegrityError:
            return False
        return True
    result = s.execute(
        sa.update(SendBudget)
        .where(col(SendBudget.name) == name)
        .where(col(SendBudget.due_ms) == row.due_ms)
        .values(due_ms=due_ms)
    )
    s.commit()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
