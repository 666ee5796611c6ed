"""Applying one pull page to the local database: all of it and its cursor, or nothing.

Rules (sync.md):

* A row arrives whole (``fields`` is the row as this agent may see it). Fields with an edit
  still waiting in the outbox keep their local value: a pull never overwrites a pending edit.
  Every other field takes the server's value — the server merges, the device follows.
* The row's ``server_version`` becomes the version received: what the device has seen is what
  it pulled, and the base version of its next edit comes from there. A state older than the
  row's (replayed) is skipped, and so is a state older than this device's own acknowledged
  edit of the row (``sync_acked``): the newer state, which contains it, is still to come.
* Contacts and planned contacts keep the server's per-field clocks (``field_hlc``); a conflict
  row received tells which of the two values won (the later stamp, as on the server) and the
  device shows the winner in the row when the field is not pending, so a device whose edit
  lost converges even when the row itself did not change on the server.
* Visits are append-only with author revisions: a revision is an ordinary row upsert.
* The catalogue and reference lists are server-authoritative.
* Removals (``deleted``, ``revoked``, ``erased``) delete the row and, for a person, everything
  about her. Edits waiting for a removed row stay in the outbox (the server decides: a visit
  logged before access was lost is accepted), except after an erasure: the person's data then
  leaves the device entirely, the edits are listed as rejected without their values. Rejected
  edits about rows no longer on the device keep their reason and field names, not the values.
* A full download (cursor ``"0"``) is authoritative: on its last page (``snapshot_done``),
  rows not received are removed, rows with pending edits excepted.
* Anything that is not what the protocol allows — an unknown table or column, a wrong type, a
  snapshot page outside a full download — raises :class:`ProtocolError` and the transaction
  rolls back: the page and its cursor are not applied.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import sqlcipher3

from havre_common import contract
from havre_common.hlc import ClockDriftError, Timestamp
from havre_common.protocol import Change, PullReply
from havre_desktop.core import agents
from havre_desktop.core.validation import phone_search_text
from havre_desktop.core.workspace import JSON_COLUMNS, Workspace, encode_row
from havre_desktop.sync.errors import ProtocolError
from havre_desktop.sync.local import (
    FULL_DOWNLOAD_DUE,
    LOCAL_ONLY_COLUMNS,
    MERGE_TABLES,
    PERSON_DEPENDENTS,
    PULLED_TABLES,
    REF_TABLES,
    SNAPSHOT_TABLES,
    Pending,
    acked_versions,
    foreign_keys_off,
    forget_values_of_absent_rows,
    may_hold,
    pending_rows,
    projection,
    reject_entry,
    set_meta,
)

log = logging.getLogger("havre.sync")

ERASED_REASON = (
    "Cette personne a été effacée à sa demande (RGPD) : la modification n'a pas pu être "
    "envoyée et son contenu a été supprimé de cet ordinateur."
)
REF_KEYS: dict[str, tuple[str, ...]] = {
    "ref_territories": ("id",),
    "ref_stakes": ("id",),
    "ref_priorities": ("id",),
    "ref_items": ("list", "id"),
}
WIRE_JSON_COLUMNS = JSON_COLUMNS - {"field_hlc"}
OVERLAY_EXCLUDED = frozenset(
    {"seq", "search_phones", "search_audiences", "field_hlc", "last_visit_at"}
)
UNMERGED = frozenset({"id", "created_at", "updated_at", "deleted"})


@dataclass
class TableInfo:
    name: str
    types: dict[str, str]
    empty: dict[str, Any]
    """The value of each column when the agent may not hold it (NULL, or its default)."""

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(self.types)


def _literal(text: Any) -> Any:
    if text is None:
        return None
    value = str(text)
    if value.startswith("'") and value.endswith("'"):
        return value[1:-1].replace("''", "'")
    try:
        return int(value)
    except ValueError:
        return value


def table_infos(ws: Workspace) -> dict[str, TableInfo]:
    infos = {}
    for table in sorted(PULLED_TABLES):
        rows = ws.store.query(f"PRAGMA table_info({table})")
        infos[table] = TableInfo(
            table,
            {str(r["name"]): str(r["type"]).upper() for r in rows},
            {str(r["name"]): _literal(r["dflt_value"]) for r in rows},
        )
    return infos


@dataclass
class PageStats:
    received: int = 0
    removed: int = 0
    ignored: int = 0
    # Tables whose rows the page changed here: the open pages refresh what they show of them.
    tables: set[str] = field(default_factory=set)


class _Inserts:
    """New rows of a page, written by ``executemany`` in runs of one table and column list.

    A run is written before any other statement of the page that could read or change rows
    (updates, removals, conflicts, lookups), so the order of effects is unchanged.
    """

    def __init__(self, conn: sqlcipher3.Connection) -> None:
        self.conn = conn
        self.key: tuple[str, tuple[str, ...]] | None = None
        self.rows: list[tuple[Any, ...]] = []

    def add(self, table: str, row: dict[str, Any]) -> None:
        key = (table, tuple(row))
        if key != self.key:
            self.flush()
            self.key = key
        self.rows.append(tuple(row.values()))

    def flush(self) -> None:
        if self.key is None:
            return
        table, columns = self.key
        rows, self.rows, self.key = self.rows, [], None
        marks = ", ".join("?" for _ in columns)
        self.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


class PageApplier:
    """Applies pull pages for one workspace (one instance per sync)."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.tables = table_infos(ws)
        self._audience_labels: dict[str, str] | None = None
        self._inserts = _Inserts(ws.store.conn)
        self._right: bool | None = None  # the register right, read once until agents change
        self._known: dict[str, dict[str, dict[str, Any]]] | None = None
        self._acked: dict[tuple[str, str], int] = {}

    # -- entry point ------------------------------------------------------------------------

    def apply(self, page: PullReply, sent_cursor: str) -> PageStats:
        in_snapshot = sent_cursor == "0" or sent_cursor.startswith("s.")
        if page.reset_required:
            raise ProtocolError("remise à zéro traitée ailleurs")  # the engine handles it
        if in_snapshot and page.phase != "snapshot":
            raise ProtocolError("téléchargement complet interrompu par le serveur")
        if not in_snapshot and (page.phase == "snapshot" or page.snapshot_done):
            raise ProtocolError("téléchargement complet inattendu")
        if page.snapshot_done and not page.has_more:
            raise ProtocolError("fin de téléchargement complet sans suite")
        if in_snapshot and not page.has_more and not page.snapshot_done:
            raise ProtocolError("téléchargement complet inachevé")
        encoded = [self._check_shape(change) for change in page.changes]
        store = self.ws.store
        stats = PageStats()
        seen: list[tuple[str, str]] = []
        try:
            with foreign_keys_off(store), store.transaction():
                role = agents.current_role(self.ws)
                owner = store.get_setting("owner_agent_id")
                pending = pending_rows(store)
                self._inserts = _Inserts(store.conn)
                self._right = None
                self._known = self._existing_rows(page)
                self._acked = acked_versions(store)
                for change, values in zip(page.changes, encoded, strict=True):
                    if change.op == "remove":
                        removed = self._remove(change, pending, owner)
                        stats.removed += removed
                        if removed:
                            stats.tables.add(change.table_name)
                    elif self._upsert(change, values, pending, role, owner):
                        stats.received += 1
                        stats.tables.add(change.table_name)
                        if change.table_name == "agents" and change.row_id == owner:
                            self._inserts.flush()
                            role = agents.current_role(self.ws)  # may have changed
                        if page.phase == "snapshot" and change.table_name not in REF_TABLES:
                            seen.append((change.table_name, change.row_id))
                    else:
                        stats.ignored += 1
                self._inserts.flush()
                store.conn.executemany(
                    "INSERT OR IGNORE INTO sync_snapshot_seen VALUES (?, ?)", seen
                )
                if page.snapshot_done:
                    swept = self._sweep(owner)
                    stats.removed += swept
                    if swept:  # rows the snapshot did not bring again, of any table
                        stats.tables.update(contract.PULLED_TABLES)
                    set_meta(store, FULL_DOWNLOAD_DUE, None)
                if stats.removed:
                    forget_values_of_absent_rows(store)
                set_meta(store, "pull_cursor", page.next_cursor)
                self._receive_stamps(page)
        except sqlcipher3.IntegrityError as exc:
            log.warning("pull page refused by local constraints: %s", exc)
            raise ProtocolError("données incompatibles avec la base locale") from None
        return stats

    # -- checks -----------------------------------------------------------------------------

    def _check_shape(self, change: Change) -> dict[str, Any] | None:
        """Checks a change before anything is written; returns its values as stored."""
        table = change.table_name
        if table not in PULLED_TABLES:
            raise ProtocolError(f"table « {table} » inconnue de cette application")
        if change.fields is None:
            return None
        info = self.tables[table]
        allowed = info.columns - (set() if table in REF_TABLES else LOCAL_ONLY_COLUMNS)
        unknown = sorted(set(change.fields) - allowed)
        if unknown:
            raise ProtocolError(f"champ « {unknown[0][:40]} » inconnu dans {table}")
        if table in REF_TABLES:
            key = ":".join(str(change.fields.get(k)) for k in REF_KEYS[table])
            if key != change.row_id:
                raise ProtocolError(f"identifiant incohérent dans {table}")
        elif change.fields.get("id", change.row_id) != change.row_id:
            raise ProtocolError(f"identifiant incohérent dans {table}")
        if change.field_hlc is not None:
            unknown = sorted(set(change.field_hlc) - info.columns)
            if unknown or table not in MERGE_TABLES:
                raise ProtocolError(f"horodatages inattendus dans {table}")
        return self._encode_row(info, change.fields)

    def _encode_row(self, info: TableInfo, fields: dict[str, Any]) -> dict[str, Any]:
        """`_encode` of every field, the common cases (text, integer, null) inline."""
        types = info.types
        encoded: dict[str, Any] = {}
        for column, value in fields.items():
            if column not in WIRE_JSON_COLUMNS:
                kind = type(value)
                if kind is str and types.get(column) != "INTEGER":
                    encoded[column] = value
                    continue
                if value is None:
                    encoded[column] = None
                    continue
                if kind is int and types.get(column) != "TEXT":
                    encoded[column] = value
                    continue
            encoded[column] = self._encode(info, column, value)
        return encoded

    def _encode(self, info: TableInfo, column: str, value: Any) -> Any:
        """A value received → the value stored; wrong types are refused."""
        if column in WIRE_JSON_COLUMNS:
            if value is None or isinstance(value, (list, dict)):
                return None if value is None else json.dumps(value, ensure_ascii=False)
            raise ProtocolError(f"type inattendu pour {info.name}.{column}")
        if isinstance(value, (list, dict)):
            raise ProtocolError(f"type inattendu pour {info.name}.{column}")
        if isinstance(value, bool):
            return int(value)
        kind = info.types.get(column, "")
        if value is None:
            return None
        if kind == "INTEGER" and not isinstance(value, int):
            raise ProtocolError(f"type inattendu pour {info.name}.{column}")
        if kind == "TEXT" and not isinstance(value, str):
            raise ProtocolError(f"type inattendu pour {info.name}.{column}")
        return value

    # -- upserts ----------------------------------------------------------------------------

    def _existing_rows(self, page: PullReply) -> dict[str, dict[str, dict[str, Any]]] | None:
        """The local rows of a page's upserts, read in a few queries instead of one per row.

        Only for pages whose changes touch each row once, with no removal and no conflict:
        then nothing else writes those rows while the page is applied, and what is read here
        is what a lookup at each row would read. None otherwise (rows are read one by one).
        """
        wanted: dict[str, list[str]] = {}
        keys: set[tuple[str, str]] = set()
        for change in page.changes:
            key = (change.table_name, change.row_id)
            if change.op != "upsert" or change.table_name == "conflicts" or key in keys:
                return None
            keys.add(key)
            if change.table_name not in REF_TABLES:
                wanted.setdefault(change.table_name, []).append(change.row_id)
        known: dict[str, dict[str, dict[str, Any]]] = {}
        for table, ids in wanted.items():
            rows = known.setdefault(table, {})
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ", ".join("?" for _ in chunk)
                for row in self.ws.store.query(
                    f"SELECT * FROM {table} WHERE id IN ({marks})", tuple(chunk)
                ):
                    rows[str(row["id"])] = row
        return known

    def _register_right(self, table: str) -> bool:
        """The agent's register right, read only for the tables it guards (the agent's own
        row, with the right, comes before them in a pull)."""
        if table not in contract.REGISTER_TABLES and table != "consents":
            return True
        if self._right is None:
            self._inserts.flush()
            self._right = agents.has_register_right(self.ws)
        return self._right

    def _existing(self, table: str, row_id: str) -> dict[str, Any] | None:
        if self._known is not None:
            return self._known.get(table, {}).get(row_id)
        self._inserts.flush()
        return self.ws.store.query_one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))

    def _upsert(
        self,
        change: Change,
        values_in: dict[str, Any] | None,
        pending: dict[tuple[str, str], Pending],
        role: str | None,
        owner: str | None,
    ) -> bool:
        table, row_id = change.table_name, change.row_id
        fields = dict(change.fields or {})
        info = self.tables[table]
        conn = self.ws.store.conn
        if table in REF_TABLES:
            self._inserts.flush()
            self._upsert_reference(info, fields)
            return True
        if table == "agents":
            self._right = None  # perhaps the agent's own row, and her register right
        if not may_hold(role, owner, table, fields, self._register_right(table)):
            log.warning("row of %s not meant for this role: ignored", table)
            return False
        allowed = projection(role, table)
        encoded: dict[str, Any] = {}
        if allowed is not None:
            fields = {k: v for k, v in fields.items() if k in allowed}
            # What this role may not hold is emptied (a role may have changed since).
            hidden = info.columns - allowed - LOCAL_ONLY_COLUMNS - {"is_sample"}
            encoded.update({k: info.empty[k] for k in hidden})
        stored = values_in or {}
        encoded.update({k: stored[k] for k in fields if k != "id"})
        existing = self._existing(table, row_id)
        mine = pending.get((table, row_id))
        keep = mine.fields if mine else set()
        if table == "conflicts":
            self._inserts.flush()
            self._upsert_conflict(row_id, encoded, existing, mine, pending, role)
            return True
        version = change.server_version
        if existing is not None and int(existing.get("server_version") or 0) > version:
            return True  # an older state replayed after a newer one (idempotent)
        acked = self._acked.get((table, row_id))
        if acked is not None:
            if acked > version:
                return True  # older than this device's own edit: the newer state will come
            del self._acked[(table, row_id)]
            conn.execute(
                "DELETE FROM sync_acked WHERE table_name = ? AND row_id = ?", (table, row_id)
            )
        values = {k: v for k, v in encoded.items() if k not in keep}
        if "server_version" in info.columns:
            values["server_version"] = version
        if table in MERGE_TABLES:
            stamps: dict[str, str] = (
                json.loads(existing.get("field_hlc") or "{}") if existing else {}
            )
            for key, stamp in (change.field_hlc or {}).items():
                if key not in keep:
                    stamps[key] = stamp
            if existing is None and mine is not None:
                stamps.update({k: s for k, s in mine.stamps.items() if k in info.columns})
            values["field_hlc"] = json.dumps(stamps, sort_keys=True)
        if existing is None:
            row = {"id": row_id, **values}
            if mine is not None:
                overlay = {
                    k: v
                    for k, v in mine.values.items()
                    if k in info.columns and k not in OVERLAY_EXCLUDED and k != "id"
                }
                row.update(encode_row(overlay))
            row.update(self._derived(table, row))
            self._inserts.add(table, row)
        else:
            self._inserts.flush()
            values.update(self._derived(table, {**existing, **values}))
            assignments = ", ".join(f"{k} = ?" for k in values)
            conn.execute(
                f"UPDATE {table} SET {assignments} WHERE id = ?", (*values.values(), row_id)
            )
        return True

    def _upsert_reference(self, info: TableInfo, fields: dict[str, Any]) -> None:
        keys = REF_KEYS[info.name]
        encoded = {k: self._encode(info, k, v) for k, v in fields.items()}
        missing = [k for k in keys if encoded.get(k) is None]
        if missing:
            raise ProtocolError(f"identifiant manquant dans {info.name}")
        columns = ", ".join(encoded)
        marks = ", ".join("?" for _ in encoded)
        updates = ", ".join(f"{k} = excluded.{k}" for k in encoded if k not in keys)
        conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        self.ws.store.conn.execute(
            f"INSERT INTO {info.name} ({columns}) VALUES ({marks}) "
            f"ON CONFLICT({', '.join(keys)}) {conflict}",
            tuple(encoded.values()),
        )

    def _derived(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        if table == "contacts":
            return {"search_phones": phone_search_text(row.get("phone_1"), row.get("phone_2"))}
        if table == "actions":
            try:
                ids = json.loads(row.get("audience_ids") or "[]")
            except ValueError:
                ids = []
            labels = self._labels()
            return {"search_audiences": " ".join(labels.get(str(a), str(a)) for a in ids)}
        return {}

    def _labels(self) -> dict[str, str]:
        if self._audience_labels is None:
            self._audience_labels = self.ws.reference("audiences")
        return self._audience_labels

    # -- conflicts --------------------------------------------------------------------------

    def _upsert_conflict(
        self,
        row_id: str,
        encoded: dict[str, Any],
        existing: dict[str, Any] | None,
        mine: Pending | None,
        pending: dict[tuple[str, str], Pending],
        role: str | None,
    ) -> None:
        conn = self.ws.store.conn
        if mine is not None:
            return  # this device's resolution is on its way: keep it
        if encoded.get("resolved_at"):
            conn.execute("DELETE FROM conflicts WHERE id = ?", (row_id,))
            return
        row = {"id": row_id, **encoded}
        if existing is None:
            columns = ", ".join(row)
            marks = ", ".join("?" for _ in row)
            conn.execute(f"INSERT INTO conflicts ({columns}) VALUES ({marks})", tuple(row.values()))
        else:
            assignments = ", ".join(f"{k} = ?" for k in encoded)
            if assignments:
                conn.execute(
                    f"UPDATE conflicts SET {assignments} WHERE id = ?",
                    (*encoded.values(), row_id),
                )
        self._show_winner(row, pending, role)

    def _show_winner(
        self, conflict: dict[str, Any], pending: dict[tuple[str, str], Pending], role: str | None
    ) -> None:
        """Put the winning value of a conflict in the row (same rule as the server)."""
        table, field = conflict.get("table_name"), conflict.get("field")
        if table not in MERGE_TABLES or not isinstance(field, str):
            return
        info = self.tables[table]
        if field not in info.columns or field in LOCAL_ONLY_COLUMNS or field in UNMERGED:
            return
        allowed = projection(role, table)
        if allowed is not None and field not in allowed:
            return
        row_id = str(conflict.get("row_id"))
        mine = pending.get((table, row_id))
        if mine is not None and field in mine.fields:
            return
        row = self.ws.store.query_one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
        if row is None:
            return
        try:
            local = Timestamp.parse(str(conflict.get("local_hlc")))
            remote_text = conflict.get("remote_hlc")
            remote = Timestamp.parse(str(remote_text)) if remote_text else None
            if remote is None or local > remote:
                winner, stamp = json.loads(str(conflict.get("local_value"))), local
            else:
                winner, stamp = json.loads(str(conflict.get("remote_value"))), remote
            stamps: dict[str, str] = json.loads(row.get("field_hlc") or "{}")
            current = stamps.get(field)
            if current is not None and Timestamp.parse(current) > stamp:
                return  # the row already holds a later value
        except ValueError:
            raise ProtocolError("conflit illisible") from None
        value = self._encode(info, field, winner)
        stamps[field] = str(stamp)
        values = {field: value, "field_hlc": json.dumps(stamps, sort_keys=True)}
        values.update(self._derived(table, {**row, **values}))
        assignments = ", ".join(f"{k} = ?" for k in values)
        self.ws.store.conn.execute(
            f"UPDATE {table} SET {assignments} WHERE id = ?", (*values.values(), row_id)
        )

    # -- removals ---------------------------------------------------------------------------

    def _remove(
        self, change: Change, pending: dict[tuple[str, str], Pending], owner: str | None
    ) -> int:
        table, row_id = change.table_name, change.row_id
        if table in REF_TABLES or (table == "agents" and row_id == owner):
            return 0
        self._inserts.flush()
        conn = self.ws.store.conn
        targets: list[tuple[str, str]] = []
        if table == "contacts":
            for child, column in PERSON_DEPENDENTS:
                ids = conn.execute(f"SELECT id FROM {child} WHERE {column} = ?", (row_id,))
                targets.extend((child, str(r[0])) for r in ids)
        targets.append((table, row_id))
        if change.reason == "erased":
            self._discard_erased(targets, row_id if table == "contacts" else None, pending)
        removed = 0
        for target_table, target_id in targets:
            if self._acked.pop((target_table, target_id), None) is not None:
                conn.execute(
                    "DELETE FROM sync_acked WHERE table_name = ? AND row_id = ?",
                    (target_table, target_id),
                )
            if target_table != "conflicts":
                conn.execute(
                    "DELETE FROM conflicts WHERE table_name = ? AND row_id = ?",
                    (target_table, target_id),
                )
            cursor = conn.execute(f"DELETE FROM {target_table} WHERE id = ?", (target_id,))
            removed += max(cursor.rowcount, 0)
        return removed

    def _discard_erased(
        self,
        targets: list[tuple[str, str]],
        person_id: str | None,
        pending: dict[tuple[str, str], Pending],
    ) -> None:
        """An erased person's data leaves the device, unsent edits and rejected ones included."""
        store = self.ws.store
        entries = []
        for table, row_id in targets:
            entries += store.query(
                "SELECT * FROM outbox WHERE table_name = ? AND row_id = ?", (table, row_id)
            )
            pending.pop((table, row_id), None)
        if person_id is not None:
            entries += store.query(
                "SELECT * FROM outbox WHERE json_extract(changed_fields, '$.person_id') = ? "
                "OR json_extract(changed_fields, '$.contact_id') = ?",
                (person_id, person_id),
            )
        at = self.ws.clock.now_iso()
        seen: set[str] = set()
        for entry in entries:
            if entry["mutation_id"] in seen:
                continue
            seen.add(entry["mutation_id"])
            reject_entry(store, entry, ERASED_REASON, at, keep_values=False)
            pending.pop((entry["table_name"], entry["row_id"]), None)
        if seen:
            log.info("erasure: %d unsent edits discarded", len(seen))

    # -- end of a full download ---------------------------------------------------------------

    def _sweep(self, owner: str | None) -> int:
        conn = self.ws.store.conn
        removed = 0
        for table in SNAPSHOT_TABLES:
            extra = " AND id IS NOT ?" if table == "agents" else ""
            params: tuple[Any, ...] = (table, table, owner) if extra else (table, table)
            cursor = conn.execute(
                f"DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM sync_snapshot_seen s "
                f"WHERE s.table_name = ? AND s.row_id = {table}.id) AND NOT EXISTS (SELECT 1 "
                f"FROM outbox o WHERE o.table_name = ? AND o.row_id = {table}.id){extra}",
                params,
            )
            removed += max(cursor.rowcount, 0)
        for child, column in PERSON_DEPENDENTS:
            cursor = conn.execute(
                f"DELETE FROM {child} WHERE {column} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM contacts c WHERE c.id = {child}.{column})"
            )
            removed += max(cursor.rowcount, 0)
        conn.execute("DELETE FROM sync_snapshot_seen")
        for table in SNAPSHOT_TABLES:
            conn.execute(
                f"DELETE FROM sync_acked WHERE table_name = ? AND NOT EXISTS "
                f"(SELECT 1 FROM {table} t WHERE t.id = sync_acked.row_id)",
                (table,),
            )
        return removed

    # -- clocks -----------------------------------------------------------------------------

    def _receive_stamps(self, page: PullReply) -> None:
        """Move this device's clock past every stamp received (causality of later edits)."""
        latest: Timestamp | None = None
        stamps: set[str] = set()  # a row's fields often share one stamp: parse each once
        for change in page.changes:
            stamps.update((change.field_hlc or {}).values())
            if change.table_name == "conflicts" and change.fields:
                stamps.update(
                    str(change.fields[k])
                    for k in ("local_hlc", "remote_hlc")
                    if isinstance(change.fields.get(k), str)
                )
        for text in stamps:
            try:
                stamp = Timestamp.parse(text)
            except ValueError:
                continue
            if latest is None or stamp > latest:
                latest = stamp
        if latest is None:
            return
        try:
            self.ws.hlc.receive(str(latest))
        except ClockDriftError:
            log.warning("a received stamp is more than 5 minutes ahead of this clock: ignored")
            return
        set_meta(self.ws.store, "last_hlc", self.ws.hlc.last)
