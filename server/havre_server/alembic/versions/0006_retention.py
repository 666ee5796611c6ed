"""Retention: a person's file can be anonymised.

Revision ID: 0006
Revises: 0005

``contacts.anonymised_on`` (ISO date): set by the server (``havre_server.retention``) when a
coordinator confirms the anonymisation of a file whose retention period has ended; its
identity, contact details and free text are then empty. Existing files: NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("anonymised_on", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("anonymised_on")
