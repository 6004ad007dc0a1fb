"""an alert's copies in several channels, and storm digests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_copy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("primary", sa.Boolean(), nullable=False),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("owed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("alert_id", "target", "owed_at", "digest_id"):
        op.create_index(f"ix_alert_copy_{column}", "alert_copy", [column])
    op.create_table(
        "digest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("language", sa.String(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_added_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_ts", sa.String(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_digest_target", "digest", ["target"])
    op.create_index(
        "uq_digest_open_target",
        "digest",
        ["target"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("copy_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("digest_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_outbox_copy_id", ["copy_id"])
        batch_op.create_index("ix_outbox_digest_id", ["digest_id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_digest_id")
        batch_op.drop_index("ix_outbox_copy_id")
        batch_op.drop_column("digest_id")
        batch_op.drop_column("copy_id")
    op.drop_index("uq_digest_open_target", table_name="digest")
    op.drop_index("ix_digest_target", table_name="digest")
    op.drop_table("digest")
    for column in ("alert_id", "target", "owed_at", "digest_id"):
        op.drop_index(f"ix_alert_copy_{column}", table_name="alert_copy")
    op.drop_table("alert_copy")
