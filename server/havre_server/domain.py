"""Rows of the domain tables: what a client may write, how values are checked, how rows travel.

Values pushed by a device are checked with the contract's own validation
(:mod:`havre_common.validation`), the very function the desktop runs before saving, so that a
modified or hostile client cannot store what the desktop would refuse, and the desktop cannot
save what the server would refuse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, and_, bindparam, or_, select

from havre_common import contract, validation
from havre_common.contract import ADMINISTRATOR, COORDINATOR, Policy
from havre_common.validation import ContractViolation
from havre_server import schema
from havre_server.changelog import ChangeBuffer, Entry
from havre_server.reference import Reference
from havre_server.scope import consent_audience

JSON_COLUMNS = contract.JSON_FIELDS
# Desktop bookkeeping a client may send and the server ignores (one definition, the contract's).
CLIENT_LOCAL_COLUMNS = contract.DESKTOP_LOCAL_COLUMNS | {
    contract.SAMPLE_COLUMN,
    contract.CLOCK_COLUMN,
    "server_version",
}


class Reject(Exception):
    """A mutation refused, with the French reason the agent will see."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


NOT_VISIBLE = "Fiche inconnue ou hors de votre périmètre : modification refusée."


# -- table specifications (from the contract) -----------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """A pushable table: its contract and its server table."""

    contract: contract.Table
    table: Table

    @property
    def required(self) -> frozenset[str]:
        return self.contract.required - {"id"}

    @property
    def updatable(self) -> frozenset[str]:
        return self.contract.updatable

    @property
    def policy(self) -> Policy:
        return self.contract.policy


SPECS: dict[str, Spec] = {
    name: Spec(contract.TABLES[name], schema.TABLES[name]) for name in contract.PUSHED_TABLES
}


def clean(
    spec: Spec, ref: Reference, values: dict[str, Any], *, role: str | None = None
) -> dict[str, Any]:
    """Checked values (only the given keys); raises Reject with every problem in French.

    A stamp the server fills (``Field.filled``) sent empty is left out, so that the writer fills
    it as when absent: its column is NOT NULL."""
    try:
        cleaned = validation.clean(spec.contract, values, creating=False, role=role, ref=ref)
    except ContractViolation as exc:
        raise Reject(str(exc)) from None
    for name in _filled(spec.contract.name) & cleaned.keys():
        if cleaned[name] is None:
            del cleaned[name]
    return cleaned


@cache
def _filled(table: str) -> frozenset[str]:
    return frozenset(f.name for f in contract.TABLES[table].fields if f.filled)


def is_empty(value: Any) -> bool:
    """The values a reception agent's client sends for fields it may not set."""
    return value is None or value in ("", [], {}, False, 0)


# -- rows as they travel --------------------------------------------------------------------------


def encode(values: dict[str, Any]) -> dict[str, Any]:
    """Python values → stored values (JSON columns as text)."""
    return {
        k: (json.dumps(v, ensure_ascii=False, separators=(",", ":")) if k in JSON_COLUMNS else v)
        for k, v in values.items()
    }


def decode(row: Row[Any] | dict[str, Any]) -> dict[str, Any]:
    data = dict(row._mapping) if isinstance(row, Row) else dict(row)
    for key in JSON_COLUMNS.intersection(data):
        if isinstance(data[key], str):
            data[key] = json.loads(data[key])
    return data


def wire_fields(row: dict[str, Any], table: str) -> dict[str, Any]:
    """The row as it travels down: the server's bookkeeping of this table left out."""
    hidden = _never_sent_down(table)
    return {k: v for k, v in row.items() if k not in hidden}


@cache
def _never_sent_down(table: str) -> frozenset[str]:
    spec = contract.TABLES.get(table)
    own = frozenset(spec.server_columns) if spec is not None else frozenset()
    return own | {contract.CLOCK_COLUMN, *contract.SYNC_STATE_COLUMNS}


# Statements run for every mutation are built once, with named parameters: building one per
# call (values coerced into bind parameters, cache key computed again) cost the server more
# CPU than the database spent answering it.


@cache
def _load_row_query(table: Table, for_update: bool) -> Select[Any]:
    query = select(table).where(table.c.id == bindparam("row_pk"))
    return query.with_for_update() if for_update else query


_PERSON_TERRITORY = select(schema.contacts.c.territory_id, schema.contacts.c.deleted).where(
    schema.contacts.c.id == bindparam("row_pk")
)


def load_row(
    conn: Connection, table: Table, row_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    row = conn.execute(_load_row_query(table, for_update), {"row_pk": row_id}).first()
    return None if row is None else decode(row)


def person_territory(conn: Connection, person_id: str | None) -> str | None:
    """The territory of a live contact, or None when it does not exist (or was deleted)."""
    if person_id is None:
        return None
    row = conn.execute(_PERSON_TERRITORY, {"row_pk": person_id}).first()
    if row is None or row.deleted:
        return None
    return str(row.territory_id)


# -- change-log entries for a row -----------------------------------------------------------------


def entry_for(
    table: str,
    row: dict[str, Any],
    *,
    territory_id: str | None,
    op: str = "upsert",
    reason: str | None = None,
) -> Entry:
    """The log entry that tells the right readers about this row (full row, or removal)."""
    audience = "all"
    person_id: str | None = None
    agents: list[str] | None = None
    if table == "contacts":
        audience, person_id = "person", row["id"]
    elif table == "consents":
        audience, person_id = consent_audience(row.get("purpose")), row["contact_id"]
    elif table == "alert_campaigns":
        audience = "register"  # one entry per territory of the campaign (havre_server.campaigns)
    elif table in ("campaign_calls", "campaign_outcomes"):
        audience, person_id = "campaign", row["person_id"]
        holders = (row.get("agent_id"), row.get("previous_agent_id"))
        agents = sorted({str(a) for a in holders if a})
    elif table in contract.REGISTER_TABLES:
        audience, person_id = "register", row["person_id"]
    elif table in ("visits", "handouts_given"):
        audience, person_id = "care", row.get("person_id")
    elif table == "planned_contacts":
        audience, person_id, agents = "planned", row["person_id"], [row["agent_id"]]
    elif table == "conflicts":
        audience, person_id = "conflict", row.get("person_id")
        agents = [a for a in (row.get("local_agent_id"), row.get("remote_agent_id")) if a]
    elif table == "action_evaluations":
        audience = "coord"
    field_hlc = None
    if op == "upsert" and "field_hlc" in row:
        raw = row["field_hlc"]
        field_hlc = json.loads(raw) if isinstance(raw, str) else raw
    return Entry(
        table_name=table,
        row_id=str(row["id"]),
        op=op,
        reason=reason,
        audience=audience,
        fields=wire_fields(row, table) if op == "upsert" else None,
        field_hlc=field_hlc,
        server_version=int(row.get("server_version") or 0),
        territory_id=territory_id,
        scope_agent_ids=agents,
        person_id=person_id,
    )


def evaluation_entry(conn: Connection, row: dict[str, Any]) -> Entry:
    """An evaluation's log entry: read by the coordinators of the territories it concerns
    and by the administrators (all coordinators when it names no territory)."""
    entry = entry_for("action_evaluations", row, territory_id=None)
    territories = row.get("territory_ids") or []
    if isinstance(territories, str):
        territories = json.loads(territories)
    if not territories:
        return entry
    a, at = schema.agents, schema.agent_territories
    readers = conn.execute(
        select(a.c.id)
        .where(
            a.c.deleted == 0,
            or_(
                a.c.role == ADMINISTRATOR,
                and_(
                    a.c.role == COORDINATOR,
                    a.c.id.in_(
                        select(at.c.agent_id).where(at.c.territory_id.in_(sorted(territories)))
                    ),
                ),
            ),
        )
        .order_by(a.c.id)
    ).scalars()
    agents = sorted({str(agent) for agent in readers} | {str(row.get("author_agent_id") or "")})
    entry.audience = "target"
    entry.scope_agent_ids = [agent for agent in agents if agent]
    return entry


PERSON_DEPENDENTS: tuple[tuple[Table, str], ...] = (
    *((schema.TABLES[name], column) for name, column in contract.PERSON_DEPENDENTS),
    # Conflicts name their person in a server-only column (scope and erasure).
    (schema.conflicts, "person_id"),
)


def dependents(conn: Connection, person_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every live row that belongs to a person (in a stable order)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for table, column in PERSON_DEPENDENTS:
        rows = conn.execute(
            select(table)
            .where(table.c[column] == person_id, table.c.deleted == 0)
            .order_by(table.c.id)
        )
        found.extend((table.name, decode(r)) for r in rows)
    return found


def emit_person_move(
    conn: Connection,
    buffer: ChangeBuffer,
    person: dict[str, Any],
    old_territory: str | None,
    new_territory: str | None,
    reason: str,
) -> None:
    """A person leaves ``old_territory`` (removals) and/or enters ``new_territory`` (full rows).

    Removals come first, so an agent who holds both territories ends with the rows present.
    """
    rows = [("contacts", person), *dependents(conn, person["id"])]
    if old_territory is not None:
        for table, row in reversed(rows):
            buffer.add(
                entry_for(table, row, territory_id=old_territory, op="remove", reason=reason)
            )
    if new_territory is not None:
        for table, row in rows:
            buffer.add(entry_for(table, row, territory_id=new_territory))
