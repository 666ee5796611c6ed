"""The server's tables (SQLAlchemy Core), one definition for SQLite and PostgreSQL.

The synced tables are built from the data contract (:mod:`havre_common.contract`): the desktop
has the same table and column names, JSON lists and objects stored as JSON text, booleans as
0/1, so a row travels between both sides without renaming. Columns that only the desktop needs
(``seq`` for FTS, ``search_*``) are declared there as local; server-only columns are:

* ``server_version`` (mirrored name): incremented by every change of the row;
* ``field_meta`` on the per-field merged tables: field → ``{"v": version, "a": agent,
  "d": device}`` of its last change, to tell a real conflict (both sides changed the field since
  the client's base version) from a stale echo of one's own edit.

Bookkeeping: ``change_log`` (append-only, what pulls read), ``applied_mutations`` (exactly
once), accounts, devices, tokens, ``login_failures``, ``agent_territories`` (scope
membership), ``territory_history``/``agent_territory_history`` (who could see whom, when: a
visit logged offline before access was lost is still accepted), ``erased_rows`` (ids only, so an
erased person cannot come back through a late push) and ``sync_state``. The history of this
schema is Alembic's (``havre_server/alembic``).
"""

from __future__ import annotations

from collections.abc import Callable
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

from havre_common import contract

metadata = MetaData()

BigId = BigInteger().with_variant(Integer(), "sqlite")


def _bool(name: str, default: int = 0) -> Column[int]:
    return Column(name, Integer, nullable=False, server_default=str(default))


def _sync_columns() -> list[Column[Any]]:
    return [
        Column("server_version", BigInteger, nullable=False, server_default="0"),
        _bool("deleted"),
    ]


# -- synced tables, derived from the contract (havre_common.contract) ---------------------------


def _column(f: contract.Field) -> Column[Any]:
    """The server column of one contract field (same name and meaning as on the desktop)."""
    kind: Any
    if f.kind in (contract.Kind.INTEGER, contract.Kind.BOOLEAN):
        kind = Integer
    elif f.stored_length is not None:
        kind = String(f.stored_length)
    else:
        kind = Text
    primary = f.name == "id"
    return Column(
        f.name,
        kind,
        primary_key=primary,
        nullable=not (primary or f.not_null),
        server_default=f.default,
    )


_SERVER_COLUMNS: dict[str, Callable[[], Column[Any]]] = {
    # field → {"v": version, "a": agent, "d": device} of its last change (per-field merge).
    "field_meta": lambda: Column("field_meta", Text, nullable=False, server_default="{}"),
    # The change-log seq of the last change of an agent's own scope (role or territories);
    # a pull cursor below it must re-download (reset_required).
    "scope_changed_seq": lambda: Column(
        "scope_changed_seq", BigInteger, nullable=False, server_default="0"
    ),
    # The person a conflict is about, for scope and erasure.
    "person_id": lambda: Column("person_id", String(36)),
    # Which device sent an audit entry (NULL for the server's own) and when.
    "device_id": lambda: Column("device_id", String(64)),
    "received_at_ms": lambda: Column("received_at_ms", BigInteger, nullable=False),
    # The audit chain (havre_server.audit): position 1, 2, 3… with no gap, the previous
    # entry's SHA-256 (64 zeros for the first) and the entry's own.
    "chain_seq": lambda: Column("chain_seq", BigInteger, nullable=False),
    "prev_hash": lambda: Column("prev_hash", String(64), nullable=False),
    "entry_hash": lambda: Column("entry_hash", String(64), nullable=False),
}


def contract_table(spec: contract.Table, *extra: Index) -> Table:
    """A server table with exactly the contract's columns and its bookkeeping."""
    columns: list[Column[Any]] = []
    for f in spec.fields:
        column = _column(f)
        if spec.primary_key != ("id",) and f.name in spec.primary_key:
            column = Column(f.name, column.type, primary_key=True)
        columns.append(column)
    if spec.field_clocks:
        columns.append(Column(contract.CLOCK_COLUMN, Text, nullable=False, server_default="{}"))
    if spec.sample_flag:
        columns.append(_bool(contract.SAMPLE_COLUMN))
    if spec.synced_state:
        columns.extend(_sync_columns())
    columns.extend(_SERVER_COLUMNS[name]() for name in spec.server_columns)
    return Table(spec.name, metadata, *columns, *extra)


ref_territories = contract_table(contract.TABLES["ref_territories"])
ref_stakes = contract_table(contract.TABLES["ref_stakes"])
ref_priorities = contract_table(contract.TABLES["ref_priorities"])
ref_items = contract_table(contract.TABLES["ref_items"])
agents = contract_table(contract.AGENTS)
facilities = contract_table(contract.FACILITIES)
city_details = contract_table(contract.CITY_DETAILS)
streets = contract_table(contract.STREETS, Index("streets_territory", "territory_id"))
actions = contract_table(contract.ACTIONS, Index("actions_code", "code"))
temporary_changes = contract_table(
    contract.TEMPORARY_CHANGES,
    Index("temporary_changes_action", "action_id"),
    Index("temporary_changes_facility", "facility_id"),
)
action_evaluations = contract_table(contract.ACTION_EVALUATIONS)
contacts = contract_table(contract.CONTACTS, Index("contacts_territory", "territory_id"))
consents = contract_table(contract.CONSENTS, Index("consents_contact", "contact_id"))
register_enrolments = contract_table(
    contract.REGISTER_ENROLMENTS, Index("register_person", "person_id")
)
register_events = contract_table(
    contract.REGISTER_EVENTS, Index("register_events_person", "person_id")
)
alert_campaigns = contract_table(contract.ALERT_CAMPAIGNS)
campaign_calls = contract_table(
    contract.CAMPAIGN_CALLS,
    Index("campaign_calls_list", "campaign_id", "agent_id", "rank"),
    Index("campaign_calls_person", "person_id"),
)
campaign_outcomes = contract_table(
    contract.CAMPAIGN_OUTCOMES,
    Index("campaign_outcomes_call", "campaign_id", "call_id", "called_at"),
    Index("campaign_outcomes_person", "person_id"),
)
visits = contract_table(contract.VISITS, Index("visits_person", "person_id"))
planned_contacts = contract_table(contract.PLANNED_CONTACTS, Index("planned_person", "person_id"))
reception_encounters = contract_table(contract.RECEPTION_ENCOUNTERS)
handouts_given = contract_table(contract.HANDOUTS_GIVEN, Index("handouts_person", "person_id"))
audit_log = contract_table(contract.AUDIT_LOG, Index("audit_log_chain", "chain_seq", unique=True))
conflicts = contract_table(contract.CONFLICTS, Index("conflicts_row", "table_name", "row_id"))

# Every agent who has held a call of a campaign (server-only): an outcome a stale device
# recorded for a call reassigned since is still accepted from a former holder (it happened).
campaign_call_holders = Table(
    "campaign_call_holders",
    metadata,
    Column("call_id", String(36), primary_key=True),
    Column("agent_id", String(36), primary_key=True),
    Column("from_ms", BigInteger, nullable=False),
)

# -- agents' accounts, devices and scope (server-only) --------------------------------------

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

# Pull bookkeeping (havre_server.pull): where each device stands in the change log, as told by
# its own pull requests — ``start_seq`` is the snapshot point of its current full download (no
# log entry at or below it is ever sent to that device: history stays on the server),
# ``cursor_seq`` the lowest position it may still ask from (compaction keeps every entry above
# the lowest ``cursor_seq`` of the active devices), ``seen_at_ms`` its last pull; and the rows
# or log entries a pull had to skip (too large for a pull page, or invalid for the reply model),
# by ids only, for administrators (``havre-server unservable-rows``).
device_pull_state = Table(
    "device_pull_state",
    metadata,
    Column("device_pk", BigInteger, primary_key=True, autoincrement=False),  # devices.id
    Column("start_seq", BigInteger, nullable=False),
    Column("cursor_seq", BigInteger, nullable=False),
    Column("seen_at_ms", BigInteger, nullable=False),
)

unservable_rows = Table(
    "unservable_rows",
    metadata,
    Column("table_name", String(40), primary_key=True),
    Column("row_id", String(100), primary_key=True),
    Column("problem", String(20), nullable=False),  # too_large | invalid
    Column("seq", BigInteger),  # the last log entry that could not be served (NULL: snapshot)
    Column("first_seen_at_ms", BigInteger, nullable=False),
    Column("last_seen_at_ms", BigInteger, nullable=False),
    Column("occurrences", BigInteger, nullable=False, server_default="1"),
)

TABLES: dict[str, Table] = {t.name: t for t in metadata.sorted_tables}
