"""Alembic keeps the schema's revision (``alembic_version``): ``schema_version`` goes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("schema_version")


def downgrade() -> None:
    op.create_table(
        "schema_version",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("applied_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    schema_version = sa.table(
        "schema_version",
        sa.column("version", sa.Integer),
        sa.column("name", sa.String),
        sa.column("applied_at_ms", sa.BigInteger),
    )
    op.bulk_insert(schema_version, [{"version": 1, "name": "initial", "applied_at_ms": 0}])
