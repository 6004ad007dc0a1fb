"""what Event Viewer said with an alert, and whether a tenant was told its task history is off

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(sa.Column("events", sa.JSON(), nullable=True))
    with op.batch_alter_table("tenant_state", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("history_off_told_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("tenant_state", schema=None) as batch_op:
        batch_op.drop_column("history_off_told_at")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("events")
