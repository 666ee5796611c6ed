"""The server's tables (SQLAlchemy Core), one definition for SQLite and PostgreSQL.

Domain tables mirror the desktop's (``db/migrations/0001_initial.sql``): same table names, same
column names, JSON lists and objects stored as JSON text, booleans as 0/1, so a row travels
between both sides without renaming. Columns that only the desktop needs (``seq`` for FTS,
``search_*``) are not here; server-only columns are:

* ``server_version`` (mirrored name): incremented by every change of the row;
* ``field_meta`` on the per-field merged tables: field → ``{"v": version, "a": agent,
  "d": device}`` of its last change, to tell a real conflict (both sides changed the field since
  the client's base version) from a stale echo of one's own edit.

Bookkeeping: ``change_log`` (append-only, what pulls read), ``applied_mutations`` (exactly
once), accounts, devices, tokens, ``login_failures``, ``agent_territories`` (scope
membership), ``territory_history``/``agent_territory_history`` (who could see whom, when: a
visit logged offline before access was lost is still accepted), ``erased_rows`` (ids only, so an
erased person cannot come back through a late push), ``sync_state`` and ``schema_version``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

BigId = BigInteger().with_variant(Integer(), "sqlite")


def _bool(name: str, default: int = 0) -> Column[int]:
    return Column(name, Integer, nullable=False, server_default=str(default))


def _sync_columns() -> list[Column[Any]]:
    return [
        Column("server_version", BigInteger, nullable=False, server_default="0"),
        _bool("deleted"),
    ]


# -- reference data -------------------------------------------------------------------------

ref_territories = Table(
    "ref_territories",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("sort", Integer, nullable=False),
)
ref_stakes = Table(
    "ref_stakes",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("number", Integer, nullable=False),
    Column("name", Text, nullable=False),
)
ref_priorities = Table(
    "ref_priorities",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("number", Integer, nullable=False),
    Column("stake_id", String(40), nullable=False),
    Column("name", Text, nullable=False),
)
ref_items = Table(
    "ref_items",
    metadata,
    Column("list", String(40), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("name", Text, nullable=False),
    Column("sort", Integer, nullable=False),
)

# -- agents and accounts --------------------------------------------------------------------

agents = Table(
    "agents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("role", String(40), nullable=False),
    Column("territory_ids", Text, nullable=False, server_default="[]"),
    Column("work_phone", Text),
    Column("server_account", String(100)),
    *_sync_columns(),
    Column("updated_at", Text, nullable=False),
    # Server-only: the change-log seq of the last change of this agent's own scope (role or
    # territories); a pull cursor below it must re-download (reset_required).
    Column("scope_changed_seq", BigInteger, nullable=False, server_default="0"),
)
agent_territories = Table(
    "agent_territories",
    metadata,
    Column("agent_id", String(36), primary_key=True),
    Column("territory_id", String(40), primary_key=True),
    Index("agent_territories_territory", "territory_id"),
)
agent_territory_history = Table(
    "agent_territory_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("agent_id", String(36), nullable=False),
    Column("territory_id", String(40), nullable=False),
    Column("from_ms", BigInteger, nullable=False),
    Column("to_ms", BigInteger),
    Index("agent_territory_history_agent", "agent_id"),
)
accounts = Table(
    "accounts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("login", String(100), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("agent_id", String(36), nullable=False, unique=True),
    _bool("disabled"),
    Column("created_at_ms", BigInteger, nullable=False),
)
devices = Table(
    "devices",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("device_id", String(64), nullable=False),
    Column("account_id", String(36), nullable=False),
    Column("label", String(100), nullable=False, server_default=""),
    Column("client_version", String(20)),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("last_seen_at_ms", BigInteger),
    Column("revoked_at_ms", BigInteger),
    UniqueConstraint("device_id", "account_id", name="devices_device_account"),
    Index("devices_device", "device_id"),
)
tokens = Table(
    "tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("device_pk", BigInteger, nullable=False),
    Column("account_id", String(36), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False),
    Column("revoked_at_ms", BigInteger),
    Index("tokens_device", "device_pk"),
)
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Index("login_failures_key", "key", "at_ms"),
)

# -- catalogue ------------------------------------------------------------------------------

facilities = Table(
    "facilities",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind_id", String(40), nullable=False),
    Column("name", Text, nullable=False),
    Column("address_line", Text),
    Column("postcode", Text),
    Column("city", Text),
    Column("territory_id", String(40)),
    Column("phone", Text),
    Column("opening_hours", Text),
    _bool("step_free"),
    _bool("is_sample"),
    *_sync_columns(),
    Column("updated_at", Text, nullable=False),
)
actions = Table(
    "actions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("code", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("summary", Text, nullable=False, server_default=""),
    Column("description", Text, nullable=False, server_default=""),
    Column("priority_id", String(40), nullable=False),
    Column("audience_ids", Text, nullable=False, server_default="[]"),
    Column("need_ids", Text, nullable=False, server_default="[]"),
    Column("territory_ids", Text, nullable=False, server_default="[]"),
    Column("facility_id", String(36)),
    Column("schedule", Text),
    Column("contact_name", Text),
    Column("contact_phone", Text),
    Column("signup", Text),
    _bool("is_free", 1),
    Column("price_label", Text),
    Column("accessibility", Text, nullable=False, server_default="{}"),
    Column("accessibility_note", Text),
    Column("status", String(40), nullable=False),
    Column("start_date", Text),
    Column("end_date", Text),
    _bool("is_sample"),
    *_sync_columns(),
    Column("updated_at", Text, nullable=False),
)
action_evaluations = Table(
    "action_evaluations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("action_id", String(36), nullable=False),
    Column("evaluated_on", Text, nullable=False),
    Column("participants", Integer),
    Column("verdict", String(20), nullable=False),
    Column("indicators", Text, nullable=False, server_default="{}"),
    Column("comment", Text),
    Column("author_agent_id", String(36)),
    *_sync_columns(),
    Column("updated_at", Text, nullable=False),
)

# -- personal data --------------------------------------------------------------------------

contacts = Table(
    "contacts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("family_name", Text),
    Column("given_names", Text),
    Column("organisation_name", Text),
    Column("birth_date", Text),
    Column("address_line", Text),
    Column("postcode", Text),
    Column("city", Text),
    Column("territory_id", String(40), nullable=False),
    Column("phone_1", Text),
    Column("phone_2", Text),
    Column("email", Text),
    Column("lives_alone", Integer),
    Column("mobility", String(40)),
    Column("access_notes", Text),
    Column("emergency_contacts", Text, nullable=False, server_default="[]"),
    Column("referent_agent_id", String(36)),
    _bool("archived"),
    Column("field_hlc", Text, nullable=False, server_default="{}"),
    Column("field_meta", Text, nullable=False, server_default="{}"),
    _bool("is_sample"),
    *_sync_columns(),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Index("contacts_territory", "territory_id"),
)
consents = Table(
    "consents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("contact_id", String(36), nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("given", Integer, nullable=False),
    Column("recorded_on", Text, nullable=False),
    Column("method", Text, nullable=False),
    Column("recorded_by_agent_id", String(36)),
    Column("withdrawn_on", Text),
    *_sync_columns(),
    Column("updated_at", Text, nullable=False),
    Index("consents_contact", "contact_id"),
)
register_enrolments = Table(
    "register_enrolments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False),
    Column("enrolled_on", Text, nullable=False),
    Column("basis", String(40), nullable=False),
    Column("requested_by", String(20), nullable=False),
    Column("requester_name", Text),
    Column("consent_given", Integer, nullable=False),
    Column("consent_date", Text, nullable=False),
    Column("removed_on", Text),
    Column("removal_reason", Text),
    *_sync_columns(),
    Column("updated_at", Text, nullable=False),
    Index("register_person", "person_id"),
)
visits = Table(
    "visits",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False),
    Column("agent_id", String(36), nullable=False),
    Column("occurred_at", Text, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("duration_min", Integer),
    Column("wellbeing", Integer),
    Column("need_ids", Text, nullable=False, server_default="[]"),
    Column("proposed_action_ids", Text, nullable=False, server_default="[]"),
    _bool("handout_given"),
    Column("follow_up_on", Text),
    Column("notes", Text),
    Column("revision", Integer, nullable=False, server_default="1"),
    _bool("is_sample"),
    *_sync_columns(),
    Column("created_at", Text, nullable=False),
    Column("updated_at", Text, nullable=False),
    Index("visits_person", "person_id"),
)
planned_contacts = Table(
    "planned_contacts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("person_id", String(36), nullable=False),
    Column("agent_id", String(36), nullable=False),
    Column("due_on", Text, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("reason", Text),
    Column("done_by_visit_id", String(36)),
    _bool("cancelled"),
    Column("field_hlc", Text, nullable=False, server_default="{}"),
    Column("field_meta", Text, nullable=False, server_default="{}"),
    _bool("is_sample"),
    *_sync_columns(),
    Column("updated_at", Text, nullable=False),
    Index("planned_person", "person_id"),
)
reception_encounters = Table(
    "reception_encounters",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("occurred_at", Text, nullable=False),
    Column("territory_id", String(40), nullable=False),
    Column("need_id", String(40), nullable=False),
    Column("age_group_id", String(40)),
    Column("agent_id", String(36), nullable=False),
    Column("facility_id", String(36)),
    *_sync_columns(),
)
handouts_given = Table(
    "handouts_given",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("person_id", String(36)),
    Column("agent_id", String(36), nullable=False),
    Column("given_at", Text, nullable=False),
    Column("action_ids", Text, nullable=False, server_default="[]"),
    Column("variant", String(20), nullable=False, server_default="large"),
    Column("visit_id", String(36)),
    Column("territory_id", String(40)),
    *_sync_columns(),
    Index("handouts_person", "person_id"),
)
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("at", Text, nullable=False),
    Column("agent_id", String(36)),
    Column("event", String(60), nullable=False),
    Column("entity", String(60)),
    Column("entity_id", String(100)),
    Column("detail", Text),
    # Server-only: which device sent it (NULL for the server's own entries) and when.
    Column("device_id", String(64)),
    Column("received_at_ms", BigInteger, nullable=False),
)
conflicts = Table(
    "conflicts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("table_name", String(40), nullable=False),
    Column("row_id", String(36), nullable=False),
    Column("field", String(64), nullable=False),
    Column("local_value", Text),
    Column("remote_value", Text),
    Column("local_hlc", Text),
    Column("remote_hlc", Text),
    Column("local_agent_id", String(36)),
    Column("remote_agent_id", String(36)),
    Column("created_at", Text, nullable=False),
    Column("resolved_at", Text),
    Column("resolution", Text),
    # Server-only: the person the row belongs to, for scope and erasure.
    Column("person_id", String(36)),
    *_sync_columns(),
    Index("conflicts_row", "table_name", "row_id"),
)

# -- sync bookkeeping -----------------------------------------------------------------------

change_log = Table(
    "change_log",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("table_name", String(40), nullable=False),
    Column("row_id", String(100), nullable=False),
    Column("op", String(10), nullable=False),  # upsert | remove
    Column("reason", String(10)),  # deleted | revoked | erased (removals)
    Column("fields", Text),  # the whole row as JSON (upserts)
    Column("field_hlc", Text),
    Column("server_version", BigInteger, nullable=False, server_default="0"),
    Column("hlc", Text),
    Column("original_hlc", Text),  # the client's stamp when it was clamped (future clock)
    Column("author_agent_id", String(36)),
    Column("device_id", String(64)),
    Column("mutation_id", String(36)),
    # Scope: who may receive this entry (see havre_server/scope.py).
    Column("audience", String(20), nullable=False),
    Column("territory_id", String(40)),
    Column("scope_agent_ids", Text),  # JSON list: assignee, agents in a conflict, target
    Column("person_id", String(36)),
    Column("created_at_ms", BigInteger, nullable=False),
    Index("change_log_row", "table_name", "row_id"),
    Index("change_log_person", "person_id"),
)
applied_mutations = Table(
    "applied_mutations",
    metadata,
    Column("mutation_id", String(36), primary_key=True),
    Column("device_id", String(64), nullable=False),
    Column("agent_id", String(36), nullable=False),
    Column("table_name", String(40), nullable=False),
    Column("row_id", String(36), nullable=False),
    Column("status", String(10), nullable=False),
    Column("reason", Text),
    Column("server_version", BigInteger),
    Column("conflict_ids", Text, nullable=False, server_default="[]"),
    Column("hlc", Text, nullable=False),
    Column("adjusted_hlc", Text),
    Column("received_at_ms", BigInteger, nullable=False),
)
territory_history = Table(
    "territory_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("person_id", String(36), nullable=False),
    Column("territory_id", String(40), nullable=False),
    Column("from_ms", BigInteger, nullable=False),
    Column("to_ms", BigInteger),
    Index("territory_history_person", "person_id"),
)
erased_rows = Table(
    "erased_rows",
    metadata,
    Column("table_name", String(40), primary_key=True),
    Column("row_id", String(36), primary_key=True),
    Column("erased_at_ms", BigInteger, nullable=False),
)
sync_state = Table(
    "sync_state",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)
schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("applied_at_ms", BigInteger, nullable=False),
)

TABLES: dict[str, Table] = {t.name: t for t in metadata.sorted_tables}
