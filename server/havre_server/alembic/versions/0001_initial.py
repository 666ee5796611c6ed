"""The first schema: every table as the server created it before Alembic (frozen).

Revision ID: 0001
Revises: (none)

Frozen on purpose: this file never changes when the contract or ``havre_server/schema.py``
change; a later change is a later revision. A database created by the pre-Alembic server
(``schema_version`` = 1) has exactly this schema and is stamped 0001 (``havre_server.migrations``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("login", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("disabled", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agent_id"),
        sa.UniqueConstraint("login"),
    )
    op.create_table(
        "action_evaluations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("action_id", sa.String(length=36), nullable=False),
        sa.Column("evaluated_on", sa.Text(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("indicators", sa.Text(), server_default="{}", nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("author_agent_id", sa.String(length=36), nullable=True),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), server_default="", nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("priority_id", sa.String(length=40), nullable=False),
        sa.Column("audience_ids", sa.Text(), server_default="[]", nullable=False),
        sa.Column("need_ids", sa.Text(), server_default="[]", nullable=False),
        sa.Column("territory_ids", sa.Text(), server_default="[]", nullable=False),
        sa.Column("facility_id", sa.String(length=36), nullable=True),
        sa.Column("schedule", sa.Text(), nullable=True),
        sa.Column("contact_name", sa.Text(), nullable=True),
        sa.Column("contact_phone", sa.Text(), nullable=True),
        sa.Column("signup", sa.Text(), nullable=True),
        sa.Column("is_free", sa.Integer(), server_default="1", nullable=False),
        sa.Column("price_label", sa.Text(), nullable=True),
        sa.Column("accessibility", sa.Text(), server_default="{}", nullable=False),
        sa.Column("accessibility_note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("start_date", sa.Text(), nullable=True),
        sa.Column("end_date", sa.Text(), nullable=True),
        sa.Column("is_sample", sa.Integer(), server_default="0", nullable=False),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "agent_territories",
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("territory_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("agent_id", "territory_id"),
    )
    op.create_index(
        "agent_territories_territory", "agent_territories", ["territory_id"], unique=False
    )
    op.create_table(
        "agent_territory_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("territory_id", sa.String(length=40), nullable=False),
        sa.Column("from_ms", sa.BigInteger(), nullable=False),
        sa.Column("to_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "agent_territory_history_agent", "agent_territory_history", ["agent_id"], unique=False
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("territory_ids", sa.Text(), server_default="[]", nullable=False),
        sa.Column("work_phone", sa.Text(), nullable=True),
        sa.Column("server_account", sa.String(length=100), nullable=True),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.Column("scope_changed_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "applied_mutations",
        sa.Column("mutation_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("server_version", sa.BigInteger(), nullable=True),
        sa.Column("conflict_ids", sa.Text(), server_default="[]", nullable=False),
        sa.Column("hlc", sa.Text(), nullable=False),
        sa.Column("adjusted_hlc", sa.Text(), nullable=True),
        sa.Column("received_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("mutation_id"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=True),
        sa.Column("event", sa.String(length=60), nullable=False),
        sa.Column("entity", sa.String(length=60), nullable=True),
        sa.Column("entity_id", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("received_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "change_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.String(length=100), nullable=False),
        sa.Column("op", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=10), nullable=True),
        sa.Column("fields", sa.Text(), nullable=True),
        sa.Column("field_hlc", sa.Text(), nullable=True),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("hlc", sa.Text(), nullable=True),
        sa.Column("original_hlc", sa.Text(), nullable=True),
        sa.Column("author_agent_id", sa.String(length=36), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("mutation_id", sa.String(length=36), nullable=True),
        sa.Column("audience", sa.String(length=20), nullable=False),
        sa.Column("territory_id", sa.String(length=40), nullable=True),
        sa.Column("scope_agent_ids", sa.Text(), nullable=True),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("change_log_person", "change_log", ["person_id"], unique=False)
    op.create_index("change_log_row", "change_log", ["table_name", "row_id"], unique=False)
    op.create_table(
        "conflicts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("local_value", sa.Text(), nullable=True),
        sa.Column("remote_value", sa.Text(), nullable=True),
        sa.Column("local_hlc", sa.Text(), nullable=True),
        sa.Column("remote_hlc", sa.Text(), nullable=True),
        sa.Column("local_agent_id", sa.String(length=36), nullable=True),
        sa.Column("remote_agent_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("resolved_at", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("conflicts_row", "conflicts", ["table_name", "row_id"], unique=False)
    op.create_table(
        "consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("contact_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("given", sa.Integer(), nullable=False),
        sa.Column("recorded_on", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("recorded_by_agent_id", sa.String(length=36), nullable=True),
        sa.Column("withdrawn_on", sa.Text(), nullable=True),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("consents_contact", "consents", ["contact_id"], unique=False)
    op.create_table(
        "contacts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("family_name", sa.Text(), nullable=True),
        sa.Column("given_names", sa.Text(), nullable=True),
        sa.Column("organisation_name", sa.Text(), nullable=True),
        sa.Column("birth_date", sa.Text(), nullable=True),
        sa.Column("address_line", sa.Text(), nullable=True),
        sa.Column("postcode", sa.Text(), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("territory_id", sa.String(length=40), nullable=False),
        sa.Column("phone_1", sa.Text(), nullable=True),
        sa.Column("phone_2", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("lives_alone", sa.Integer(), nullable=True),
        sa.Column("mobility", sa.String(length=40), nullable=True),
        sa.Column("access_notes", sa.Text(), nullable=True),
        sa.Column("emergency_contacts", sa.Text(), server_default="[]", nullable=False),
        sa.Column("referent_agent_id", sa.String(length=36), nullable=True),
        sa.Column("archived", sa.Integer(), server_default="0", nullable=False),
        sa.Column("field_hlc", sa.Text(), server_default="{}", nullable=False),
        sa.Column("field_meta", sa.Text(), server_default="{}", nullable=False),
        sa.Column("is_sample", sa.Integer(), server_default="0", nullable=False),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("contacts_territory", "contacts", ["territory_id"], unique=False)
    op.create_table(
        "devices",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("label", sa.String(length=100), server_default="", nullable=False),
        sa.Column("client_version", sa.String(length=20), nullable=True),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at_ms", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("device_id", "account_id", name="devices_device_account"),
    )
    op.create_index("devices_device", "devices", ["device_id"], unique=False)
    op.create_table(
        "erased_rows",
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("erased_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", "row_id"),
    )
    op.create_table(
        "facilities",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("address_line", sa.Text(), nullable=True),
        sa.Column("postcode", sa.Text(), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("territory_id", sa.String(length=40), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("opening_hours", sa.Text(), nullable=True),
        sa.Column("step_free", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_sample", sa.Integer(), server_default="0", nullable=False),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "handouts_given",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("given_at", sa.Text(), nullable=False),
        sa.Column("action_ids", sa.Text(), server_default="[]", nullable=False),
        sa.Column("variant", sa.String(length=20), server_default="large", nullable=False),
        sa.Column("visit_id", sa.String(length=36), nullable=True),
        sa.Column("territory_id", sa.String(length=40), nullable=True),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("handouts_person", "handouts_given", ["person_id"], unique=False)
    op.create_table(
        "login_failures",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("login_failures_key", "login_failures", ["key", "at_ms"], unique=False)
    op.create_table(
        "planned_contacts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("due_on", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("done_by_visit_id", sa.String(length=36), nullable=True),
        sa.Column("cancelled", sa.Integer(), server_default="0", nullable=False),
        sa.Column("field_hlc", sa.Text(), server_default="{}", nullable=False),
        sa.Column("field_meta", sa.Text(), server_default="{}", nullable=False),
        sa.Column("is_sample", sa.Integer(), server_default="0", nullable=False),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("planned_person", "planned_contacts", ["person_id"], unique=False)
    op.create_table(
        "reception_encounters",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("occurred_at", sa.Text(), nullable=False),
        sa.Column("territory_id", sa.String(length=40), nullable=False),
        sa.Column("need_id", sa.String(length=40), nullable=False),
        sa.Column("age_group_id", sa.String(length=40), nullable=True),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("facility_id", sa.String(length=36), nullable=True),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ref_items",
        sa.Column("list", sa.String(length=40), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("list", "id"),
    )
    op.create_table(
        "ref_priorities",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("stake_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ref_stakes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ref_territories",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "register_enrolments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("enrolled_on", sa.Text(), nullable=False),
        sa.Column("basis", sa.String(length=40), nullable=False),
        sa.Column("requested_by", sa.String(length=20), nullable=False),
        sa.Column("requester_name", sa.Text(), nullable=True),
        sa.Column("consent_given", sa.Integer(), nullable=False),
        sa.Column("consent_date", sa.Text(), nullable=False),
        sa.Column("removed_on", sa.Text(), nullable=True),
        sa.Column("removal_reason", sa.Text(), nullable=True),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("register_person", "register_enrolments", ["person_id"], unique=False)
    op.create_table(
        "schema_version",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("applied_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "sync_state",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "territory_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("territory_id", sa.String(length=40), nullable=False),
        sa.Column("from_ms", sa.BigInteger(), nullable=False),
        sa.Column("to_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("territory_history_person", "territory_history", ["person_id"], unique=False)
    op.create_table(
        "tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("device_pk", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("created_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("tokens_device", "tokens", ["device_pk"], unique=False)
    op.create_table(
        "visits",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("occurred_at", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("duration_min", sa.Integer(), nullable=True),
        sa.Column("wellbeing", sa.Integer(), nullable=True),
        sa.Column("need_ids", sa.Text(), server_default="[]", nullable=False),
        sa.Column("proposed_action_ids", sa.Text(), server_default="[]", nullable=False),
        sa.Column("handout_given", sa.Integer(), server_default="0", nullable=False),
        sa.Column("follow_up_on", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("revision", sa.Integer(), server_default="1", nullable=False),
        sa.Column("is_sample", sa.Integer(), server_default="0", nullable=False),
        sa.Column("server_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("visits_person", "visits", ["person_id"], unique=False)

    sync_state = sa.table("sync_state", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.bulk_insert(
        sync_state,
        [{"key": "log_floor", "value": "0"}, {"key": "reference_version", "value": "0"}],
    )


def downgrade() -> None:
    op.drop_index("visits_person", table_name="visits")
    op.drop_table("visits")
    op.drop_index("tokens_device", table_name="tokens")
    op.drop_table("tokens")
    op.drop_index("territory_history_person", table_name="territory_history")
    op.drop_table("territory_history")
    op.drop_table("sync_state")
    op.drop_table("schema_version")
    op.drop_index("register_person", table_name="register_enrolments")
    op.drop_table("register_enrolments")
    op.drop_table("ref_territories")
    op.drop_table("ref_stakes")
    op.drop_table("ref_priorities")
    op.drop_table("ref_items")
    op.drop_table("reception_encounters")
    op.drop_index("planned_person", table_name="planned_contacts")
    op.drop_table("planned_contacts")
    op.drop_index("login_failures_key", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index("handouts_person", table_name="handouts_given")
    op.drop_table("handouts_given")
    op.drop_table("facilities")
    op.drop_table("erased_rows")
    op.drop_index("devices_device", table_name="devices")
    op.drop_table("devices")
    op.drop_index("contacts_territory", table_name="contacts")
    op.drop_table("contacts")
    op.drop_index("consents_contact", table_name="consents")
    op.drop_table("consents")
    op.drop_index("conflicts_row", table_name="conflicts")
    op.drop_table("conflicts")
    op.drop_index("change_log_row", table_name="change_log")
    op.drop_index("change_log_person", table_name="change_log")
    op.drop_table("change_log")
    op.drop_table("audit_log")
    op.drop_table("applied_mutations")
    op.drop_table("agents")
    op.drop_index("agent_territory_history_agent", table_name="agent_territory_history")
    op.drop_table("agent_territory_history")
    op.drop_index("agent_territories_territory", table_name="agent_territories")
    op.drop_table("agent_territories")
    op.drop_table("actions")
    op.drop_table("action_evaluations")
    op.drop_table("accounts")
