"""The sync client's side of the local database: bookkeeping, status, rejections, wipe.

Tables (db/migrations): ``sync_meta`` (key/value), ``outbox`` (written by the core with every
edit), ``sync_rejections`` (edits refused, kept visible until dismissed), ``sync_history``,
``sync_snapshot_seen`` (rows received during a full download), ``sync_acked`` (versions the
server gave this device's own edits, not received by a pull yet) and ``conflicts``.

What a device has seen is what it pulled: a row's ``server_version`` is set by pulls only, and
the base version of an edit comes from it (``Workspace.update_row``). An acknowledgement goes
to ``sync_acked``, which only lets a pull skip states of the row older than the device's own
edit; it is never a base version.

Keys of ``sync_meta`` written here: ``server_url``, ``account_login``, ``bound_agent_id``,
``token_expires_at_ms``, ``pull_cursor``, ``full_download_due``, ``server_schema_version``,
``last_success_at``, ``last_wipe_at``, ``last_wipe_discarded``; ``device_id`` and
``last_hlc`` belong to the workspace.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from havre_common import contract
from havre_common.hlc import HybridLogicalClock, Timestamp
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace

log = logging.getLogger("havre.sync")

# -- what travels (derived from the contract, havre_common.contract) ----------------------------

REF_TABLES = contract.REFERENCE_TABLE_NAMES
PULLED_TABLES = contract.PULLED_TABLES
MERGE_TABLES = contract.MERGE_TABLES
# Columns only the desktop has: a server that sends them is not speaking the protocol.
LOCAL_ONLY_COLUMNS = contract.DESKTOP_LOCAL_COLUMNS | {
    contract.CLOCK_COLUMN,
    *contract.SYNC_STATE_COLUMNS,
}
# Rows of a person, removed with her (children before parents: a follow-up names its visit).
PERSON_DEPENDENTS: tuple[tuple[str, str], ...] = tuple(reversed(contract.PERSON_DEPENDENTS))
# Tables a full download is authoritative for (children before parents).
SNAPSHOT_TABLES = tuple(
    name for name in reversed(contract.TABLES) if name in PULLED_TABLES and name not in REF_TABLES
)
# Everything a wipe deletes (the owner's own agent row excepted, and the reference lists).
WIPED_TABLES = (
    *(name for name in reversed(contract.TABLES) if name not in REF_TABLES and name != "agents"),
    "outbox",
    "sync_rejections",
    "sync_snapshot_seen",
    "sync_acked",
)
# Tables of personal data: a rejected edit about a row of these that is no longer on the device
# loses its values.
PERSONAL_TABLES = contract.PERSONAL_TABLES
# Tables whose rows mean "this profile holds data" (signing in as another account is refused).
DATA_TABLES = (
    *(
        name
        for name, spec in contract.TABLES.items()
        if name in contract.PUSHED_TABLES and spec.policy is not contract.Policy.CATALOGUE
    ),
    "outbox",
    "sync_rejections",
)


def may_hold(
    role: str | None,
    owner_id: str | None,
    table: str,
    row: dict[str, Any],
    register_right: bool = True,
) -> bool:
    """Whether an agent of this role may keep this row on the device (the matrix of sync.md).

    Used on rows received (a server sending more is not trusted) and on rows this device sent
    but will never receive back (reception encounters, a follow-up assigned to a colleague,
    a reception agent's handouts): those leave the device once acknowledged. The contract says
    which roles read a table; two tables add a rule about the row itself.
    """
    spec = contract.TABLES.get(table)
    if spec is None or table not in PULLED_TABLES:
        return False
    # The register of vulnerable persons: only with the register right (named staff).
    registre = table in contract.REGISTER_TABLES or (
        table == "consents" and row.get("purpose") == "registre"
    )
    if registre and not register_right:
        return False
    if spec.readers == contract.ALL_ROLES:
        return True
    if table == "consents" and role == contract.RECEPTION:
        return row.get("purpose") == "registre"
    if table == "planned_contacts" and role == contract.SOCIAL_WORKER:
        return row.get("agent_id") == owner_id
    if table == "campaign_calls" and role != contract.COORDINATOR:
        # Her own calls, and those she held before a reassignment ("réattribuée à …").
        return owner_id in (row.get("agent_id"), row.get("previous_agent_id"))
    return role in spec.readers


def projection(role: str | None, table: str) -> frozenset[str] | None:
    """The fields of a row this role may hold (None: all of them). The agent directory's
    projection is the server's (an agent's own row carries their login)."""
    spec = contract.TABLES.get(table)
    if spec is None or table == "agents" or not spec.projected_for(role):
        return None
    return spec.readable_by(role)


# -- small helpers --------------------------------------------------------------------------------


def iso_now(ws: Workspace) -> str:
    return ws.clock.now_iso()


def iso_from_ms(millis: int) -> str:
    moment = datetime.fromtimestamp(millis / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def get_meta(store: Store, key: str) -> str | None:
    value = store.scalar("SELECT value FROM sync_meta WHERE key = ?", (key,))
    return None if value is None else str(value)


def set_meta(store: Store, key: str, value: str | None) -> None:
    """Write one sync_meta key (joins the current transaction if there is one)."""
    with store.transaction() as conn:
        if value is None:
            conn.execute("DELETE FROM sync_meta WHERE key = ?", (key,))
        else:
            conn.execute(
                "INSERT INTO sync_meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                "SET value = excluded.value",
                (key, value),
            )


FULL_DOWNLOAD_DUE = "full_download_due"


def restart_full_download(store: Store) -> None:
    """The next pull starts a full download (the outbox is kept). It sends the rows as they
    are now, never older than an acknowledgement already received: ``sync_acked`` has
    nothing left to skip."""
    with store.transaction() as conn:
        set_meta(store, "pull_cursor", "0")
        conn.execute("DELETE FROM sync_snapshot_seen")
        conn.execute("DELETE FROM sync_acked")


def record_ack(store: Store, table: str, row_id: str, version: int) -> None:
    """Remember the version the server gave this device's own edit of a row (inside the
    caller's transaction), until a pull brings the row at that version or later."""
    store.conn.execute(
        "INSERT INTO sync_acked VALUES (?, ?, ?) ON CONFLICT(table_name, row_id) "
        "DO UPDATE SET server_version = max(server_version, excluded.server_version)",
        (table, row_id, version),
    )


def acked_versions(store: Store) -> dict[tuple[str, str], int]:
    """(table, row id) → the latest acknowledged version not yet received by a pull."""
    return {
        (str(table), str(row_id)): int(version)
        for table, row_id, version in store.conn.execute(
            "SELECT table_name, row_id, server_version FROM sync_acked"
        )
    }


def full_download_due(store: Store) -> None:
    """A full download is needed after the incremental pull (edits were rejected)."""
    set_meta(store, FULL_DOWNLOAD_DUE, "1")


@contextmanager
def foreign_keys_off(store: Store) -> Iterator[None]:
    """Rows received from the server may refer to rows this agent does not see (the server is
    the authority for them): local foreign keys are not enforced while they are applied."""
    store.conn.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        store.conn.execute("PRAGMA foreign_keys = ON")


_TABLES: dict[int, frozenset[str]] = {}


def is_local_table(store: Store, table: str) -> bool:
    key = id(store)
    if key not in _TABLES:
        names = store.query("SELECT name FROM sqlite_master WHERE type = 'table'")
        _TABLES[key] = frozenset(str(r["name"]) for r in names)
    return table in _TABLES[key]


def holds_data(store: Store) -> bool:
    return any(store.scalar(f"SELECT 1 FROM {table} LIMIT 1") for table in DATA_TABLES)


# -- pending edits --------------------------------------------------------------------------------


@dataclass
class Pending:
    """The edits of one row still waiting in the outbox."""

    fields: set[str] = field(default_factory=set)
    values: dict[str, Any] = field(default_factory=dict)
    stamps: dict[str, str] = field(default_factory=dict)
    inserted: bool = False


def pending_rows(store: Store) -> dict[tuple[str, str], Pending]:
    """(table, row id) → what is waiting for that row, in outbox order (last value wins)."""
    found: dict[tuple[str, str], Pending] = {}
    for table, row_id, op, text, hlc in store.conn.execute(
        "SELECT table_name, row_id, op, changed_fields, hlc FROM outbox ORDER BY seq"
    ):
        entry = found.setdefault((str(table), str(row_id)), Pending())
        try:
            fields = json.loads(text)
        except ValueError:
            fields = {}
        if not isinstance(fields, dict):
            fields = {}
        if op == "delete":
            fields = {**fields, "deleted": True}
        if op == "insert":
            entry.inserted = True
        entry.fields.update(fields)
        entry.values.update(fields)
        entry.stamps.update(dict.fromkeys(fields, str(hlc)))
    return found


# -- rejections -----------------------------------------------------------------------------------


def _without_values(text: str) -> str:
    try:
        fields = json.loads(text)
    except ValueError:
        fields = {}
    names = sorted(fields) if isinstance(fields, dict) else []
    return json.dumps(dict.fromkeys(names), ensure_ascii=False)


def reject_entry(
    store: Store,
    entry: dict[str, Any],
    reason: str,
    at: str,
    *,
    keep_values: bool = True,
) -> None:
    """Move one outbox entry to ``sync_rejections`` (inside the caller's transaction)."""
    changed = entry["changed_fields"]
    text = changed if isinstance(changed, str) else json.dumps(changed, ensure_ascii=False)
    store.conn.execute(
        "INSERT INTO sync_rejections (mutation_id, table_name, row_id, op, changed_fields, "
        "values_removed, hlc, created_at, rejected_at, reason) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(mutation_id) DO UPDATE SET reason = excluded.reason, "
        "rejected_at = excluded.rejected_at",
        (
            entry["mutation_id"],
            entry["table_name"],
            entry["row_id"],
            entry["op"],
            text if keep_values else _without_values(text),
            0 if keep_values else 1,
            entry.get("hlc"),
            entry.get("created_at") or at,
            at,
            reason[:2000],
        ),
    )
    store.conn.execute("DELETE FROM outbox WHERE mutation_id = ?", (entry["mutation_id"],))


def _gone_condition(table: str) -> str:
    """SQL, over a rejection ``r`` of ``table``: the person it is about is no longer here."""
    column = dict(contract.PERSON_DEPENDENTS).get(table)
    if table == "contacts":
        return "NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = r.row_id)"
    if column is None:  # conflicts: about a row, whose person the device does not keep
        return f"NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = r.row_id)"
    person = (
        f"COALESCE(json_extract(r.changed_fields, '$.{column}'), "
        f"(SELECT t.{column} FROM {table} t WHERE t.id = r.row_id))"
    )
    return f"({person} IS NULL OR NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = {person}))"


def forget_values_of_absent_rows(store: Store) -> int:
    """Rejected edits about people no longer on the device keep their field names and reason,
    not the values typed (least data: deleted, no longer permitted or erased).

    An edit about a person still on the device keeps what was typed even when its own row is
    gone (a new visit the server refused is removed by the next full download): the agent sees
    it with the reason until they correct or discard it. Nothing an agent saved is lost.
    """
    forgotten = 0
    for table in PERSONAL_TABLES:
        rows = store.query(
            "SELECT r.mutation_id, r.changed_fields FROM sync_rejections r "
            f"WHERE r.table_name = ? AND r.values_removed = 0 AND {_gone_condition(table)}",
            (table,),
        )
        for row in rows:
            store.conn.execute(
                "UPDATE sync_rejections SET changed_fields = ?, values_removed = 1 "
                "WHERE mutation_id = ?",
                (_without_values(row["changed_fields"]), row["mutation_id"]),
            )
            forgotten += 1
    return forgotten


# -- status ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RejectedEdit:
    mutation_id: str
    table_name: str
    row_id: str
    op: str
    changed_fields: dict[str, Any]
    values_removed: bool
    reason: str
    created_at: str
    rejected_at: str


@dataclass(frozen=True)
class ConflictView:
    """One field on which two agents disagreed: both values, who typed them, and when."""

    id: str
    table_name: str
    row_id: str
    field: str
    local_value: Any
    remote_value: Any
    local_agent_id: str | None
    remote_agent_id: str | None
    local_agent_name: str | None
    remote_agent_name: str | None
    local_at: str | None
    remote_at: str | None
    created_at: str
    current_value: Any
    row_label: str | None


@dataclass(frozen=True)
class HistoryEntry:
    started_at: str
    finished_at: str
    outcome: str
    pushed: int
    conflicts: int
    rejected: int
    received: int
    removed: int
    message: str


@dataclass(frozen=True)
class SyncStatus:
    """What the UI shows about sync; read from the local database only (works offline)."""

    signed_in: bool
    server_url: str | None
    account_login: str | None
    pending: int
    last_success_at: str | None
    rejected: list[RejectedEdit]
    conflicts: list[ConflictView]
    history: list[HistoryEntry]
    last_wipe_at: str | None
    last_wipe_discarded: int | None


def _json_or_text(text: Any) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _stamp_time(stamp: Any) -> str | None:
    if not isinstance(stamp, str):
        return None
    try:
        return iso_from_ms(Timestamp.parse(stamp).millis)
    except ValueError:
        return None


def rejected_edits(store: Store) -> list[RejectedEdit]:
    rows = store.query(
        "SELECT * FROM sync_rejections WHERE dismissed_at IS NULL ORDER BY rejected_at, rowid"
    )
    out = []
    for r in rows:
        values = _json_or_text(r["changed_fields"])
        out.append(
            RejectedEdit(
                mutation_id=r["mutation_id"],
                table_name=r["table_name"],
                row_id=r["row_id"],
                op=r["op"],
                changed_fields=values if isinstance(values, dict) else {},
                values_removed=bool(r["values_removed"]),
                reason=r["reason"],
                created_at=r["created_at"],
                rejected_at=r["rejected_at"],
            )
        )
    return out


def open_conflicts(store: Store) -> list[ConflictView]:
    rows = store.query(
        "SELECT c.*, la.display_name AS local_name, ra.display_name AS remote_name "
        "FROM conflicts c LEFT JOIN agents la ON la.id = c.local_agent_id "
        "LEFT JOIN agents ra ON ra.id = c.remote_agent_id "
        "WHERE c.resolved_at IS NULL ORDER BY c.created_at, c.id"
    )
    out = []
    for r in rows:
        current: Any = None
        label: str | None = None
        if r["table_name"] in MERGE_TABLES and _is_column(store, r["table_name"], r["field"]):
            row = store.query_one(
                f"SELECT {r['field']} AS value FROM {r['table_name']} WHERE id = ?",
                (r["row_id"],),
            )
            current = None if row is None else _json_or_text(row["value"])
        if r["table_name"] == "contacts":
            contact = store.query_one(
                "SELECT family_name, given_names, organisation_name FROM contacts WHERE id = ?",
                (r["row_id"],),
            )
            if contact:
                label = (
                    contact["organisation_name"]
                    or f"{(contact['family_name'] or '').upper()} {contact['given_names'] or ''}"
                ).strip()
        out.append(
            ConflictView(
                id=r["id"],
                table_name=r["table_name"],
                row_id=r["row_id"],
                field=r["field"],
                local_value=_json_or_text(r["local_value"]),
                remote_value=_json_or_text(r["remote_value"]),
                local_agent_id=r["local_agent_id"],
                remote_agent_id=r["remote_agent_id"],
                local_agent_name=r["local_name"],
                remote_agent_name=r["remote_name"],
                local_at=_stamp_time(r["local_hlc"]),
                remote_at=_stamp_time(r["remote_hlc"]),
                created_at=r["created_at"],
                current_value=current,
                row_label=label,
            )
        )
    return out


_COLUMNS: dict[tuple[int, str], frozenset[str]] = {}


def _is_column(store: Store, table: str, column: str) -> bool:
    key = (id(store), table)
    if key not in _COLUMNS:
        _COLUMNS[key] = frozenset(
            str(r["name"]) for r in store.query(f"PRAGMA table_info({table})")
        )
    return column in _COLUMNS[key]


def history(store: Store, limit: int = 50) -> list[HistoryEntry]:
    rows = store.query("SELECT * FROM sync_history ORDER BY id DESC LIMIT ?", (limit,))
    return [
        HistoryEntry(
            started_at=r["started_at"],
            finished_at=r["finished_at"],
            outcome=r["outcome"],
            pushed=r["pushed"],
            conflicts=r["conflicts"],
            rejected=r["rejected"],
            received=r["received"],
            removed=r["removed"],
            message=r["message"],
        )
        for r in rows
    ]


HISTORY_KEPT = 500


def record_history(
    store: Store,
    *,
    started_at: str,
    finished_at: str,
    outcome: str,
    counts: dict[str, int],
    message: str,
) -> None:
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO sync_history (started_at, finished_at, outcome, pushed, conflicts, "
            "rejected, received, removed, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                started_at,
                finished_at,
                outcome,
                counts.get("pushed", 0),
                counts.get("conflicts", 0),
                counts.get("rejected", 0),
                counts.get("received", 0),
                counts.get("removed", 0),
                message[:2000],
            ),
        )
        conn.execute(
            "DELETE FROM sync_history WHERE id <= (SELECT max(id) FROM sync_history) - ?",
            (HISTORY_KEPT,),
        )


def status(ws: Workspace, signed_in: bool) -> SyncStatus:
    store = ws.store
    discarded = get_meta(store, "last_wipe_discarded")
    return SyncStatus(
        signed_in=signed_in,
        server_url=get_meta(store, "server_url"),
        account_login=get_meta(store, "account_login"),
        pending=ws.pending_changes(),
        last_success_at=get_meta(store, "last_success_at"),
        rejected=rejected_edits(store),
        conflicts=open_conflicts(store),
        history=history(store),
        last_wipe_at=get_meta(store, "last_wipe_at"),
        last_wipe_discarded=None if discarded is None else int(discarded),
    )


# -- wipe -----------------------------------------------------------------------------------------

KEPT_META = frozenset({"server_url", "account_login", "bound_agent_id"})


def wipe(ws: Workspace) -> int:
    """Delete every row received or typed on this device; return how many edits were lost.

    Kept: the schema, the reference lists shipped with the application, the settings of the
    profile and its own agent row (so the profile still opens), the server address and the
    account it is bound to. Deleted: persons and everything about them, visits, the
    catalogue, the agent directory, the outbox (unsent edits: counted), rejected edits,
    conflicts, audit entries, the pull cursor. Freed pages are overwritten (``secure_delete``)
    and the file is rebuilt (``VACUUM``) so deleted rows do not linger in it. The device gets a
    new id: the revoked one stays revoked on the server; signing in again makes a new device.
    """
    store = ws.store
    discarded = int(store.scalar("SELECT count(*) FROM outbox") or 0)
    owner = store.get_setting("owner_agent_id")
    new_device = uuid.uuid4().hex
    store.conn.execute("PRAGMA secure_delete = ON")
    with foreign_keys_off(store), store.transaction() as conn:
        for table in WIPED_TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM agents WHERE id IS NOT ?", (owner,))
        conn.execute("INSERT INTO contacts_fts(contacts_fts) VALUES ('optimize')")
        conn.execute("INSERT INTO actions_fts(actions_fts) VALUES ('optimize')")
        keep = ",".join("?" for _ in KEPT_META)
        conn.execute(f"DELETE FROM sync_meta WHERE key NOT IN ({keep})", tuple(sorted(KEPT_META)))
        set_meta(store, "device_id", new_device)
        set_meta(store, "last_hlc", ws.hlc.last)
        set_meta(store, "last_wipe_at", iso_now(ws))
        set_meta(store, "last_wipe_discarded", str(discarded))
    store.conn.execute("VACUUM")
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    ws.device_id = new_device
    ws.hlc = HybridLogicalClock(new_device, last=ws.hlc.last, wall=ws.clock.millis)
    log.warning("device revoked by the server: local data wiped, %d unsent edits lost", discarded)
    return discarded
