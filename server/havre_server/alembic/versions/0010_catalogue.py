"""A catalogue that stays true (issue 16): temporary changes, seasonal flags, freshness.

Revision ID: 0010
Revises: 0009

``facilities`` gains ``status`` (ouvert, suspendu, ferme) and ``seasonal`` (JSON flags);
``actions`` gains ``seasonal`` and ``reviewed_on`` and an index on ``code`` (the City's
spreadsheet is matched on it); ``temporary_changes`` holds a closure, other hours or a message
for an action or a facility over a period (server-authoritative, sent to every device).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("facilities") as batch:
        batch.add_column(
            sa.Column("status", sa.String(length=20), server_default="ouvert", nullable=False)
        )
        batch.add_column(sa.Column("seasonal", sa.Text(), server_default="{}", nullable=False))
    with op.batch_alter_table("actions") as batch:
        batch.add_column(sa.Column("seasonal", sa.Text(), server_default="{}", nullable=False))
        batch.add_column(sa.Column("reviewed_on", sa.Text(), nullable=True))
    op.create_index("actions_code", "actions", ["code"])
    op.create_table(
        "temporary_changes",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("action_id", sa.String(length=36), nullable=True),
        sa.Column("facility_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("starts_on", sa.Text(), nullable=False),
        sa.Column("ends_on", sa.Text(), nullable=False),
        sa.Column("hours", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("author_agent_id", sa.String(length=36), nullable=True),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("temporary_changes_action", "temporary_changes", ["action_id"])
    op.create_index("temporary_changes_facility", "temporary_changes", ["facility_id"])


def downgrade() -> None:
    op.drop_index("temporary_changes_facility", table_name="temporary_changes")
    op.drop_index("temporary_changes_action", table_name="temporary_changes")
    op.drop_table("temporary_changes")
    op.drop_index("actions_code", table_name="actions")
    with op.batch_alter_table("actions") as batch:
        batch.drop_column("reviewed_on")
        batch.drop_column("seasonal")
    with op.batch_alter_table("facilities") as batch:
        batch.drop_column("seasonal")
        batch.drop_column("status")
