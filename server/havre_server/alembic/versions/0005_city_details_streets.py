"""The City's details and the street table, both written on the server and sent to every device.

Revision ID: 0005
Revises: 0004

``city_details``: the row ``ville`` holds the standard number, its label and the heatwave
information line; every other row a desk or service that receives the public (name, address,
opening hours), usually of one territory. Coordinators and administrators edit them
(``havre-server city-details``, ``PUT /api/v1/admin/city-details/{id}``).

``streets``: the street names the City loads (``havre-server streets import``), each with its
territory; Accueil finds a resident's territory from them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "city_details",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("territory_id", sa.String(length=40), nullable=True),
        sa.Column("desk_name", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("opening_hours", sa.Text(), nullable=True),
        sa.Column("standard_label", sa.Text(), nullable=True),
        sa.Column("standard_phone", sa.Text(), nullable=True),
        sa.Column("heatwave_line", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.Column("is_sample", sa.Integer(), server_default="0", nullable=False),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "streets",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("territory_id", sa.String(length=40), nullable=False),
        sa.Column("postcode", sa.Text(), nullable=True),
        sa.Column("is_sample", sa.Integer(), server_default="0", nullable=False),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("streets_territory", "streets", ["territory_id"])


def downgrade() -> None:
    op.drop_index("streets_territory", table_name="streets")
    op.drop_table("streets")
    op.drop_table("city_details")
