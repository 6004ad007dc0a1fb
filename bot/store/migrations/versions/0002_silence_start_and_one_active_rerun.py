"""silence start, and at most one active rerun per tenant

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 05:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "status IN ('requested', 'started')"


def upgrade() -> None:
    with op.batch_alter_table("tenant_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("silenced_since", sa.DateTime(timezone=True), nullable=True))
    # Two clicks, in one process or two replicas, cannot both start a sync.
    op.create_index(
        "uq_rerun_active",
        "rerun",
        ["tenant"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_rerun_active", table_name="rerun")
    with op.batch_alter_table("tenant_state", schema=None) as batch_op:
        batch_op.drop_column("silenced_since")
