"""a tenant's newest cycles by an index on (tenant, started_at), not a sort of its history

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_cycle_tenant_started_at", "cycle", ["tenant", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_cycle_tenant_started_at", table_name="cycle")
