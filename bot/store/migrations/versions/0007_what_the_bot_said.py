"""who said what in an alert's error and a source's last error, in the catalogue's words

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The English text stays in `error` / `last_error` for logs and for older rows; these hold
    # the parts (eAdm's words, Task Scheduler's report, the bot's own) a message renders in
    # its reader's language.
    op.add_column("alert", sa.Column("error_said", sa.JSON(), nullable=True))
    op.add_column("tenant_state", sa.Column("last_error_said", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("tenant_state", "last_error_said")
    op.drop_column("alert", "error_said")
