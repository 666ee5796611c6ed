"""The register of vulnerable persons: enrolment workflow, its history, the register right.

Revision ID: 0007
Revises: 0006

``register_enrolments`` gains the workflow of issue 14 (status, request date, who asked and
how, non-objection, the situation at home, the information notice, the acknowledgment due in
8 days, the removal letter); ``enrolled_on`` and ``consent_date`` become optional (a third
party's request stands unless the person objects; a transmitted person is "à informer" until
the delay ends). Existing enrolments: requested and acknowledged on the day they were enrolled.

``register_events``: the append-only history of each enrolment.

``agents.register_right``: only agents with it receive register data; coordinators have it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_NEW = (
    ("status", sa.String(20), "'inscrite'", False),
    ("requested_on", sa.Text(), None, True),
    ("source", sa.String(20), "'saisie'", False),
    ("requester_relation", sa.Text(), None, True),
    ("written_request", sa.Integer(), "0", False),
    ("objected_on", sa.Text(), None, True),
    ("inform_until", sa.Text(), None, True),
    ("floor", sa.Integer(), None, True),
    ("lift", sa.Integer(), None, True),
    ("help_at_home", sa.Integer(), "0", False),
    ("help_service", sa.Text(), None, True),
    ("notice_given_on", sa.Text(), None, True),
    ("notice_how", sa.String(20), None, True),
    ("ack_due_on", sa.Text(), None, True),
    ("ack_printed_on", sa.Text(), None, True),
    ("removal_letter_printed_on", sa.Text(), None, True),
)


def upgrade() -> None:
    with op.batch_alter_table("register_enrolments") as batch:
        for name, kind, default, nullable in _NEW:
            server_default = sa.text(default) if default is not None else None
            batch.add_column(
                sa.Column(name, kind, server_default=server_default, nullable=nullable)
            )
        batch.alter_column("enrolled_on", existing_type=sa.Text(), nullable=True)
        batch.alter_column("consent_date", existing_type=sa.Text(), nullable=True)
    enrolments = sa.table(
        "register_enrolments",
        sa.column("enrolled_on"),
        sa.column("removed_on"),
        sa.column("status"),
        sa.column("requested_on"),
        sa.column("ack_printed_on"),
    )
    op.execute(
        sa.update(enrolments).values(
            requested_on=enrolments.c.enrolled_on, ack_printed_on=enrolments.c.enrolled_on
        )
    )
    op.execute(
        sa.update(enrolments).where(enrolments.c.removed_on.is_not(None)).values(status="radiee")
    )
    with op.batch_alter_table("register_enrolments") as batch:
        batch.alter_column("requested_on", existing_type=sa.Text(), nullable=False)
    op.create_table(
        "register_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("enrolment_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("occurred_on", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.String(36), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_index("register_events_person", "register_events", ["person_id"])
    with op.batch_alter_table("agents") as batch:
        batch.add_column(
            sa.Column("register_right", sa.Integer(), server_default="0", nullable=False)
        )
    agents = sa.table("agents", sa.column("role"), sa.column("register_right"))
    op.execute(sa.update(agents).where(agents.c.role == "coordinateur").values(register_right=1))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch:
        batch.drop_column("register_right")
    op.drop_index("register_events_person", table_name="register_events")
    op.drop_table("register_events")
    with op.batch_alter_table("register_enrolments") as batch:
        for name, *_rest in reversed(_NEW):
            batch.drop_column(name)
