"""identity numbers scrubbed from what is stored; the daily purge's lease and indexes

Earlier versions stored eAdm's texts as they came. This revision replaces every fødselsnummer
and D-number already held (in alert errors, cycles and Event Viewer readings, recorded
cycles, each tenant's current cycle and last error, the outbox, the audit, reruns' details)
by `[fnr]`, with the same function the bot now applies where text enters. A site's
REDACT_PATTERNS are settings, not known to a migration: what they match and was stored before
stays until the purge deletes it.

It also adds what the daily purge needs: a lease row per job (so one replica at a time runs
it) and indexes on the times it deletes by.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot.core.redact import Redactor, redact_fnr, redact_json

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500  # rows read and rewritten at a time: a large database is never held in memory
_FNR_ONLY = Redactor()

# table: (its key columns, its text columns, its JSON columns)
SCRUBBED: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "alert": (("id",), ("error",), ("cycle", "events")),
    "cycle": (("tenant", "cycle_id"), (), ("data",)),
    "tenant_state": (("tenant",), ("last_error", "silence_reason"), ("current_cycle",)),
    "outbox": (("id",), ("last_error",), ("payload",)),
    "audit": (("id",), ("detail",), ()),
    "rerun": (("id",), ("detail",), ()),
}
INDEXES = {
    "cycle": "seen_at",
    "alert": "resolved_at",
    "digest": "closed_at",
    "rerun": "requested_at",
}


def upgrade() -> None:
    op.create_table(
        "job_lease",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    for table, column in INDEXES.items():
        op.create_index(f"ix_{table}_{column}", table, [column])
    connection = op.get_bind()
    for table, (keys, texts, documents) in SCRUBBED.items():
        scrub(connection, table, keys, texts, documents)


def scrub(
    connection: Any,
    table: str,
    keys: tuple[str, ...],
    texts: tuple[str, ...],
    documents: tuple[str, ...],
) -> int:
    """Rewrite every row of `table` whose texts hold an identity number, a batch at a time in
    key order; returns how many rows changed."""
    columns = [sa.column(k) for k in keys]
    columns += [sa.column(c, sa.Text()) for c in texts]
    columns += [sa.column(c, sa.JSON()) for c in documents]
    rows = sa.table(table, *columns)
    key_columns = [rows.c[k] for k in keys]
    changed = 0
    after: tuple[Any, ...] | None = None
    while True:
        query = sa.select(rows).order_by(*key_columns).limit(BATCH)
        if after is not None:
            query = query.where(sa.tuple_(*key_columns) > sa.tuple_(*after))
        batch = connection.execute(query).mappings().all()
        if not batch:
            return changed
        for row in batch:
            values = _scrubbed(row, texts, redact_fnr) | _scrubbed(row, documents, _in_json)
            if values:
                match = sa.and_(*(rows.c[k] == row[k] for k in keys))
                connection.execute(sa.update(rows).where(match).values(**values))
                changed += 1
        after = tuple(batch[-1][k] for k in keys)


def _in_json(value: Any) -> Any:
    return redact_json(value, _FNR_ONLY)


def _scrubbed(row: Any, columns: tuple[str, ...], clean: Callable[[Any], Any]) -> dict[str, Any]:
    out = {}
    for column in columns:
        value = row[column]
        if value is None:
            continue
        cleaned = clean(value)
        if cleaned != value:
            out[column] = cleaned
    return out


def downgrade() -> None:
    # What was scrubbed stays scrubbed: the numbers are gone on purpose.
    for table, column in INDEXES.items():
        op.drop_index(f"ix_{table}_{column}", table_name=table)
    op.drop_table("job_lease")
