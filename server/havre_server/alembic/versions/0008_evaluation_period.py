"""Evaluations say their period and the territories they concern (issue 16).

Revision ID: 0008
Revises: 0007

``action_evaluations`` gains ``period_start`` and ``period_end`` (dates the indicators were
counted over) and ``territory_ids`` (JSON list, the action's territories when evaluated).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("action_evaluations") as batch:
        batch.add_column(sa.Column("period_start", sa.Text(), nullable=True))
        batch.add_column(sa.Column("period_end", sa.Text(), nullable=True))
        batch.add_column(sa.Column("territory_ids", sa.Text(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("action_evaluations") as batch:
        batch.drop_column("territory_ids")
        batch.drop_column("period_end")
        batch.drop_column("period_start")
