"""Pull bookkeeping: where each device stands in the log, and the rows a pull had to skip.

Revision ID: 0003
Revises: 0002

``device_pull_state`` lets the server send a device only the log after its own download began
(history stays on the server) and compact the log below every active device's position;
``unservable_rows`` lists, by ids only, rows a pull skipped instead of failing every device.
A device known before this revision has no row yet: its next pull downloads everything again,
once (its outbox is kept).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_pull_state",
        sa.Column("device_pk", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("start_seq", sa.BigInteger(), nullable=False),
        sa.Column("cursor_seq", sa.BigInteger(), nullable=False),
        sa.Column("seen_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("device_pk"),
    )
    op.create_table(
        "unservable_rows",
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.String(length=100), nullable=False),
        sa.Column("problem", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("first_seen_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("occurrences", sa.BigInteger(), server_default="1", nullable=False),
        sa.PrimaryKeyConstraint("table_name", "row_id"),
    )


def downgrade() -> None:
    op.drop_table("unservable_rows")
    op.drop_table("device_pull_state")
