"""the stretch of quiet a tenant is in, and an alert's showing, its held news and escalation

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenant_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quiet_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("quiet_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("shown_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unsnoozed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True))
    # A silence running during the upgrade is a stretch of quiet already told.
    op.execute(
        "UPDATE tenant_state SET quiet_since = COALESCE(silenced_since, silenced_until), "
        "quiet_until = silenced_until WHERE silenced_until IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("unsnoozed_at")
        batch_op.drop_column("shown_at")
        batch_op.drop_column("held")
    with op.batch_alter_table("tenant_state", schema=None) as batch_op:
        batch_op.drop_column("quiet_until")
        batch_op.drop_column("quiet_since")
