"""The opened profile as repositories see it: store, clock, HLC, current agent.

`Workspace.write_row` and `Workspace.update_row` are the only paths by which a
user's edit reaches a synced table: they write the row *and* its outbox entry
in the same transaction, stamp per-field clocks where the table merges per
field, and keep the HLC monotonic across restarts.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from havre_common import contract
from havre_common.hlc import HybridLogicalClock, Timestamp
from havre_common.validation import ContractViolation, clean
from havre_desktop.core.clock import Clock, iso_utc
from havre_desktop.core.errors import NotFoundError, ValidationError

if TYPE_CHECKING:  # the server shares this module's column lists without the encrypted store
    from havre_desktop.core.store import Store

log = logging.getLogger("havre.core.workspace")

# Tables whose rows merge field by field (sync.md: contacts, planned contacts).
PER_FIELD_TABLES = contract.MERGE_TABLES
# Columns that are bookkeeping, never sent as a user's change (the contract's local columns,
# the sync state and the clocks that travel apart).
LOCAL_COLUMNS = contract.DESKTOP_LOCAL_COLUMNS | {
    "server_version",
    contract.CLOCK_COLUMN,
    contract.SAMPLE_COLUMN,
}
JSON_COLUMNS = contract.JSON_FIELDS | {contract.CLOCK_COLUMN}
# Columns stamped once at creation or by the store itself, never merged per field.
UNMERGED_COLUMNS = frozenset({"id", "created_at", "updated_at", "deleted"})


def new_id() -> str:
    return str(uuid.uuid4())


def encode_row(row: dict[str, Any]) -> dict[str, Any]:
    """Python values → SQLite values (JSON columns as text, booleans as 0/1)."""
    encoded: dict[str, Any] = {}
    for key, value in row.items():
        if key in JSON_COLUMNS and not isinstance(value, str):
            encoded[key] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        elif isinstance(value, bool):
            encoded[key] = int(value)
        else:
            encoded[key] = value
    return encoded


def decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """SQLite values → Python values (JSON columns decoded)."""
    decoded = dict(row)
    for key in JSON_COLUMNS.intersection(decoded):
        value = decoded[key]
        if isinstance(value, str):
            decoded[key] = json.loads(value)
    return decoded


_NOT_CHECKED = LOCAL_COLUMNS | {"deleted"}


def _checked(table: str, values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """A user's edit as the contract stores it; refused as the server would refuse it (the
    same validation, the same French messages), before anything is written."""
    if table not in contract.TABLES:
        return {}
    try:
        return clean(table, values, creating=creating, ignore=_NOT_CHECKED)
    except ContractViolation as exc:
        raise ValidationError(exc.errors) from None


@dataclass(frozen=True)
class PendingChanges:
    """The user's own edits waiting in the outbox (see Workspace.pending_status)."""

    waiting: int  # not yet acknowledged by the server
    overdue: int  # of which made longer ago than the warning delay
    oldest_at: str | None  # when the oldest was made (ISO, UTC), None when none waits


class Workspace:
    """Everything a repository needs, passed in (no globals).

    Several workspaces may share one database (the screens' connection and the sync's). What
    the sync changes about the profile's identity is therefore read back from the database,
    never only remembered: the agent id (replaced by the server's at the first sign-in), the
    device id (a new one after a remote wipe) and the last clock stamp (moved past the stamps
    received at sync, so that a later edit is stamped later).
    """

    def __init__(self, store: Store, clock: Clock | None = None, agent_id: str | None = None):
        self.store = store
        self.clock = clock or Clock()
        self._agent_id = agent_id
        device_id = self.sync_meta("device_id")
        if device_id is None:
            device_id = uuid.uuid4().hex
            self.set_sync_meta("device_id", device_id)
        self.device_id = device_id
        self.hlc = HybridLogicalClock(
            device_id, last=self.sync_meta("last_hlc"), wall=self.clock.millis
        )

    @property
    def agent_id(self) -> str | None:
        """The profile's own agent, as stored (another connection may have bound it)."""
        stored = self.store.get_setting("owner_agent_id")
        return stored or self._agent_id

    @agent_id.setter
    def agent_id(self, value: str | None) -> None:
        self._agent_id = value

    def catch_up_clock(self) -> None:
        """Follow the device id and clock stamps another connection may have written."""
        device_id = self.sync_meta("device_id") or self.device_id
        stored = self.sync_meta("last_hlc")
        last = self.hlc.last
        if stored and Timestamp.parse(stored) > Timestamp.parse(last):
            last = stored
        if device_id != self.device_id or last != self.hlc.last:
            self.device_id = device_id
            self.hlc = HybridLogicalClock(device_id, last=last, wall=self.clock.millis)

    # -- sync_meta --------------------------------------------------------------------

    def sync_meta(self, key: str) -> str | None:
        value = self.store.scalar("SELECT value FROM sync_meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_sync_meta(self, key: str, value: str) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO sync_meta VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                "SET value = excluded.value",
                (key, value),
            )

    # -- the write paths --------------------------------------------------------------

    def write_row(self, table: str, row: dict[str, Any], *, outbox: bool = True) -> dict[str, Any]:
        """Insert a new synced row (and its outbox entry) inside the current transaction."""
        assert self.store.in_transaction, "write_row must run inside store.transaction()"
        row = dict(row)
        row.setdefault("id", new_id())
        if outbox:
            row.update(_checked(table, row, creating=True))
            self.catch_up_clock()
        stamp = self.hlc.now() if outbox else None
        if table in PER_FIELD_TABLES and stamp:
            row["field_hlc"] = json.dumps(
                {k: stamp for k in row if k not in LOCAL_COLUMNS | UNMERGED_COLUMNS}
            )
        encoded = encode_row(row)
        columns = ", ".join(encoded)
        marks = ", ".join("?" for _ in encoded)
        self.store.conn.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(encoded.values())
        )
        if outbox and stamp:
            self._record_mutation(table, row["id"], "insert", row, 0, stamp)
        return row

    def update_row(
        self, table: str, row_id: str, changes: dict[str, Any], *, outbox: bool = True
    ) -> dict[str, Any]:
        """Change some fields of a row; only fields whose value differs are recorded."""
        assert self.store.in_transaction, "update_row must run inside store.transaction()"
        current = self.store.query_one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
        if current is None or current.get("deleted"):
            raise NotFoundError("Cette fiche n'existe plus (elle a peut-être été supprimée).")
        before = decode_row(current)
        changed = {
            k: v
            for k, v in changes.items()
            if k not in LOCAL_COLUMNS and encode_row({k: v})[k] != encode_row({k: before.get(k)})[k]
        }
        derived = {k: v for k, v in changes.items() if k in LOCAL_COLUMNS}
        if not changed:
            return before
        if outbox:
            changed.update(_checked(table, changed, creating=False))
        if outbox:
            self.catch_up_clock()
        stamp = self.hlc.now() if outbox else None
        sets = dict(changed)
        sets.update(derived)
        if "updated_at" in current:
            sets["updated_at"] = self.clock.now_iso()
        if table in PER_FIELD_TABLES and stamp:
            field_hlc = json.loads(current.get("field_hlc") or "{}")
            field_hlc.update({k: stamp for k in changed if k not in UNMERGED_COLUMNS})
            sets["field_hlc"] = json.dumps(field_hlc)
        encoded = encode_row(sets)
        assignments = ", ".join(f"{k} = ?" for k in encoded)
        self.store.conn.execute(
            f"UPDATE {table} SET {assignments} WHERE id = ?", (*encoded.values(), row_id)
        )
        if outbox and stamp:
            op = "delete" if changed.get("deleted") else "update"
            base = self._base_version(table, row_id, current, changed)
            self._record_mutation(table, row_id, op, changed, base, stamp)
        after = dict(before)
        after.update(sets)
        return decode_row(encode_row(after))

    def _base_version(
        self, table: str, row_id: str, current: dict[str, Any], changed: dict[str, Any]
    ) -> int:
        """The version of the server's row this edit was made on: the one last pulled (an
        acknowledgement never changes it), or less for a field with an edit still waiting.

        A pull keeps a waiting field's local value while it moves the row to a newer version,
        so the device has seen that field only up to the base of its first waiting edit. One
        base covers the whole edit: the lowest of its fields' (a conflict may then be recorded
        on a field seen later, never a concurrent change hidden).
        """
        base = int(current.get("server_version") or 0)
        fields = set(changed) - UNMERGED_COLUMNS
        for text, waiting_base in self.store.conn.execute(
            "SELECT changed_fields, base_version FROM outbox WHERE table_name = ? AND row_id = ?",
            (table, row_id),
        ):
            try:
                waiting = json.loads(text)
            except ValueError:
                continue  # unreadable: the sync rejects it without sending it
            if int(waiting_base) < base and isinstance(waiting, dict) and fields & waiting.keys():
                base = int(waiting_base)
        return base

    def _record_mutation(
        self,
        table: str,
        row_id: str,
        op: str,
        fields: dict[str, Any],
        base_version: int,
        stamp: str,
    ) -> None:
        payload = {k: v for k, v in fields.items() if k not in LOCAL_COLUMNS}
        self.store.conn.execute(
            "INSERT INTO outbox (mutation_id, table_name, row_id, op, changed_fields, "
            "base_version, hlc, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new_id(),
                table,
                row_id,
                op,
                json.dumps(payload, ensure_ascii=False, default=str),
                base_version,
                stamp,
                self.clock.now_iso(),
            ),
        )
        self.store.conn.execute(
            "INSERT INTO sync_meta VALUES ('last_hlc', ?) ON CONFLICT(key) DO UPDATE "
            "SET value = excluded.value",
            (stamp,),
        )

    # -- reading ----------------------------------------------------------------------

    def get_row(self, table: str, row_id: str, *, include_deleted: bool = False) -> dict[str, Any]:
        row = self.store.query_one(f"SELECT * FROM {table} WHERE id = ?", (row_id,))
        if row is None or (row.get("deleted") and not include_deleted):
            raise NotFoundError("Cette fiche n'existe pas ou a été supprimée.")
        return decode_row(row)

    def reference(self, list_name: str) -> dict[str, str]:
        """id → French label for one reference list (territories, audiences, …)."""
        if list_name == "territories":
            rows = self.store.query("SELECT id, name FROM ref_territories ORDER BY sort")
        elif list_name == "priorities":
            rows = self.store.query("SELECT id, name FROM ref_priorities ORDER BY number")
        elif list_name == "stakes":
            rows = self.store.query("SELECT id, name FROM ref_stakes ORDER BY number")
        else:
            rows = self.store.query(
                "SELECT id, name FROM ref_items WHERE list = ? ORDER BY sort", (list_name,)
            )
        return {r["id"]: r["name"] for r in rows}

    def pending_changes(self) -> int:
        """The user's own edits not yet acknowledged (audit entries are never counted)."""
        return int(self.store.scalar("SELECT count(*) FROM outbox") or 0)

    def pending_status(self, warn_after_days: int) -> PendingChanges:
        """The edits not yet acknowledged, and how many of them have waited unsent for more
        than `warn_after_days` days by this workspace's clock."""
        cutoff = iso_utc(self.clock.now() - timedelta(days=warn_after_days))
        row = self.store.query_one(
            "SELECT count(*) AS waiting, coalesce(sum(created_at < ?), 0) AS overdue, "
            "min(created_at) AS oldest FROM outbox",
            (cutoff,),
        )
        assert row is not None  # an aggregate always has its row
        return PendingChanges(int(row["waiting"]), int(row["overdue"]), row["oldest"])

    def outbox_entries(self, row_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        rows = self.store.query("SELECT * FROM outbox ORDER BY seq")
        if row_ids is not None:
            wanted = set(row_ids)
            rows = [r for r in rows if r["row_id"] in wanted]
        for r in rows:
            r["changed_fields"] = json.loads(r["changed_fields"])
        return rows
