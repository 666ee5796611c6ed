"""Alert campaigns (issue 14, second half): campaigns, call lists, call outcomes.

Revision ID: 0009
Revises: 0008

``alert_campaigns`` (server-authoritative), ``campaign_calls`` (one row per person on a call
list, server-authoritative) and ``campaign_outcomes`` (append-only events pushed by devices),
all three the alert plan's (register right). ``campaign_call_holders``: every agent who held a
call, so a former holder's late outcome is still accepted.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _sync() -> list[sa.Column[object]]:
    return [
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "alert_campaigns",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("territory_ids", sa.Text(), server_default="[]", nullable=False),
        sa.Column("starts_on", sa.Text(), nullable=False),
        sa.Column("expected_end_on", sa.Text(), nullable=True),
        sa.Column("closed_on", sa.Text(), nullable=True),
        sa.Column("retry_delay_min", sa.Integer(), server_default="60", nullable=False),
        sa.Column(
            "failed_calls_before_emergency", sa.Integer(), server_default="2", nullable=False
        ),
        sa.Column("created_by", sa.String(36), nullable=True),
        sa.Column("updated_at", sa.Text(), nullable=False),
        *_sync(),
    )
    op.create_table(
        "campaign_calls",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("campaign_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("agent_id", sa.String(36), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("risk_score", sa.Integer(), server_default="0", nullable=False),
        sa.Column("risk_reasons", sa.Text(), server_default="[]", nullable=False),
        sa.Column("previous_agent_id", sa.String(36), nullable=True),
        sa.Column("assigned_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        *_sync(),
    )
    op.create_index("campaign_calls_list", "campaign_calls", ["campaign_id", "agent_id", "rank"])
    op.create_index("campaign_calls_person", "campaign_calls", ["person_id"])
    op.create_table(
        "campaign_outcomes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("campaign_id", sa.String(36), nullable=False),
        sa.Column("call_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("agent_id", sa.String(36), nullable=False),
        sa.Column("called_whom", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("urgent", sa.Integer(), server_default="0", nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("offered_action_id", sa.String(36), nullable=True),
        sa.Column("entered_by", sa.String(36), nullable=True),
        sa.Column("called_at", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        *_sync(),
    )
    op.create_index(
        "campaign_outcomes_call", "campaign_outcomes", ["campaign_id", "call_id", "called_at"]
    )
    op.create_index("campaign_outcomes_person", "campaign_outcomes", ["person_id"])
    op.create_table(
        "campaign_call_holders",
        sa.Column("call_id", sa.String(36), primary_key=True),
        sa.Column("agent_id", sa.String(36), primary_key=True),
        sa.Column("from_ms", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("campaign_call_holders")
    op.drop_index("campaign_outcomes_person", table_name="campaign_outcomes")
    op.drop_index("campaign_outcomes_call", table_name="campaign_outcomes")
    op.drop_table("campaign_outcomes")
    op.drop_index("campaign_calls_person", table_name="campaign_calls")
    op.drop_index("campaign_calls_list", table_name="campaign_calls")
    op.drop_table("campaign_calls")
    op.drop_table("alert_campaigns")
