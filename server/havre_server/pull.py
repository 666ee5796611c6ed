"""Pull: a full download (snapshot of the agent's current scope), then the change log.

Cursors (opaque to clients):

* ``"0"`` — start a full download. The server notes the head of the log ``H`` and sends every
  row the agent may see now, table by table, ordered by id (``"s.H.T.last_id"`` while it runs).
  The page that ends the snapshot has ``snapshot_done`` and the cursor ``"H"``.
* ``"N"`` — log phase: entries with ``seq > N`` whose audience includes the agent now (see
  scope.py), projected for the agent's role. Entries written after ``H`` during a snapshot are
  sent again afterwards: applying them is idempotent (a row carries its server version).

A cursor is read by a strict grammar (ASCII digits, no sign, no leading zero, at most 18 digits,
row ids as the protocol writes them); anything else is a 400 ``invalid_cursor``. ``int()`` and
``str.isdigit()`` alone would take ``'١٢٣'``, ``'1_000'`` or ``' 12 '`` for numbers, or fail
on ``'²'``, and a NUL in the row id is an error of PostgreSQL.

``reset_required`` (the client starts again from ``"0"``, keeping its outbox) when the cursor is
below the retained log (``log_floor``), beyond the head (a cursor from another or a restored
server), or below the agent's ``scope_changed_seq`` (their role or territories changed: the full
download brings what entered the scope and, being authoritative, removes what left it).

Work per request is bounded: at most ``limit`` changes, and at most ``SCAN_LIMIT`` log entries
examined (entries of other territories are skipped by SQL; the finer rules run in Python).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, and_, exists, or_, select

from havre_common.protocol import Change, PullReply
from havre_server import schema
from havre_server.changelog import head_seq
from havre_server.db import get_state
from havre_server.domain import decode, wire_fields
from havre_server.errors import ApiError
from havre_server.reference import ref_row_id
from havre_server.scope import (
    CATALOGUE_ROLES,
    COORDINATOR,
    RECEPTION,
    Principal,
    entry_visible,
    field_hlc_for,
    project,
)

SCAN_LIMIT = 5000

c = schema.contacts


# A snapshot page is ``WHERE <scope> AND id > :last ORDER BY id LIMIT n``. The scope must not
# offer the planner an index of its own: SQLite would then read every row of the agent's
# territories through it and sort them all, for every page -- a full download quadratic in
# the size of the scope (20,000 persons and 200,000 visits: hours). Written as below, each
# page walks the primary key from ``last`` and stops after ``n`` rows (PostgreSQL plans it
# the same way), so a whole download reads each row once.


def _person_in_scope(p: Principal, person_id: Any) -> Any:
    """The row's person is a live contact of the agent's territories (correlated EXISTS)."""
    person = c.alias("scope_person")
    return exists().where(
        person.c.id == person_id,
        person.c.territory_id.in_(sorted(p.territories)),
        person.c.deleted == 0,
    )


def _territory_in_scope(p: Principal, column: Any) -> Any:
    """``column IN (territories)``, through an expression no index matches (see above)."""
    return (column + "").in_(sorted(p.territories))


def _q_all(table: Table) -> Callable[[Principal], Select[Any] | None]:
    def query(_p: Principal) -> Select[Any] | None:
        if "deleted" in table.c:
            return select(table).where(table.c.deleted == 0)
        return select(table)

    return query


def _q_agents(p: Principal) -> Select[Any] | None:
    at = schema.agent_territories
    sharing = select(at.c.agent_id).where(at.c.territory_id.in_(sorted(p.territories)))
    a = schema.agents
    return select(a).where(a.c.deleted == 0, or_(a.c.id.in_(sharing), a.c.id == p.agent_id))


def _q_evaluations(p: Principal) -> Select[Any] | None:
    if p.role not in CATALOGUE_ROLES:
        return None
    t = schema.action_evaluations
    return select(t).where(t.c.deleted == 0)


def _q_contacts(p: Principal) -> Select[Any] | None:
    if not p.sees_persons:
        return None
    return select(c).where(_territory_in_scope(p, c.c.territory_id), c.c.deleted == 0)


def _q_consents(p: Principal) -> Select[Any] | None:
    if not p.sees_persons:
        return None
    t = schema.consents
    query = select(t).where(t.c.deleted == 0, _person_in_scope(p, t.c.contact_id))
    if p.role == RECEPTION:
        query = query.where(t.c.purpose == "registre")
    return query


def _q_register(p: Principal) -> Select[Any] | None:
    if not p.sees_persons:
        return None
    t = schema.register_enrolments
    return select(t).where(t.c.deleted == 0, _person_in_scope(p, t.c.person_id))


def _q_visits(p: Principal) -> Select[Any] | None:
    if not p.is_care:
        return None
    t = schema.visits
    return select(t).where(t.c.deleted == 0, _person_in_scope(p, t.c.person_id))


def _q_handouts(p: Principal) -> Select[Any] | None:
    if not p.is_care:
        return None
    t = schema.handouts_given
    return select(t).where(
        t.c.deleted == 0,
        or_(
            _person_in_scope(p, t.c.person_id),
            and_(t.c.person_id.is_(None), t.c.territory_id.in_(sorted(p.territories))),
        ),
    )


def _q_planned(p: Principal) -> Select[Any] | None:
    if not p.is_care:
        return None
    t = schema.planned_contacts
    query = select(t).where(t.c.deleted == 0, _person_in_scope(p, t.c.person_id))
    if p.role != COORDINATOR:
        query = query.where(t.c.agent_id == p.agent_id)
    return query


def _q_conflicts(p: Principal) -> Select[Any] | None:
    if not p.sees_persons:
        return None
    t = schema.conflicts
    query = select(t).where(
        t.c.deleted == 0, t.c.resolved_at.is_(None), _person_in_scope(p, t.c.person_id)
    )
    if p.role != COORDINATOR:
        query = query.where(
            or_(t.c.local_agent_id == p.agent_id, t.c.remote_agent_id == p.agent_id)
        )
    return query


SNAPSHOT: list[tuple[Table, Callable[[Principal], Select[Any] | None]]] = [
    (schema.ref_territories, _q_all(schema.ref_territories)),
    (schema.ref_stakes, _q_all(schema.ref_stakes)),
    (schema.ref_priorities, _q_all(schema.ref_priorities)),
    (schema.ref_items, _q_all(schema.ref_items)),
    (schema.agents, _q_agents),
    (schema.facilities, _q_all(schema.facilities)),
    (schema.actions, _q_all(schema.actions)),
    (schema.action_evaluations, _q_evaluations),
    (schema.contacts, _q_contacts),
    (schema.consents, _q_consents),
    (schema.register_enrolments, _q_register),
    (schema.visits, _q_visits),
    (schema.handouts_given, _q_handouts),
    (schema.planned_contacts, _q_planned),
    (schema.conflicts, _q_conflicts),
]


_NUMBER = r"(0|[1-9][0-9]{0,17})"  # below 2**63: fits PostgreSQL's bigint
_LOG_CURSOR = re.compile(_NUMBER)
_SNAPSHOT_CURSOR = re.compile(rf"s\.{_NUMBER}\.{_NUMBER}\.([A-Za-z0-9:_.-]{{1,100}})")


def _invalid_cursor() -> ApiError:
    return ApiError("invalid_cursor", "Curseur de synchronisation invalide.")


def pull(engine: Engine, p: Principal, cursor: str, limit: int) -> PullReply:
    snapshot = _SNAPSHOT_CURSOR.fullmatch(cursor)
    if snapshot is None and _LOG_CURSOR.fullmatch(cursor) is None:
        raise _invalid_cursor()
    with engine.connect().execution_options(havre_read_only=True) as conn, conn.begin():
        head = head_seq(conn)
        if cursor == "0":
            return _snapshot(conn, p, head, head, 0, "", limit)
        if snapshot is not None:
            at, table_index, last = int(snapshot[1]), int(snapshot[2]), snapshot[3]
            if at > head or table_index >= len(SNAPSHOT) or at < p.scope_changed_seq:
                return _reset(head)
            if at < int(get_state(conn, "log_floor", "0")):
                return _reset(head)
            return _snapshot(conn, p, head, at, table_index, last, limit)
        since = int(cursor)
        floor = int(get_state(conn, "log_floor", "0"))
        if since > head or since < floor or since < p.scope_changed_seq:
            return _reset(head)
        return _log(conn, p, head, since, limit)


def _reset(head: int) -> PullReply:
    return PullReply(
        changes=[], next_cursor="0", has_more=False, reset_required=True, phase="log", head_seq=head
    )


def _snapshot(
    conn: Connection, p: Principal, head: int, at: int, table_index: int, last: str, limit: int
) -> PullReply:
    changes: list[Change] = []
    for index in range(table_index, len(SNAPSHOT)):
        table, make_query = SNAPSHOT[index]
        query = make_query(p)
        after = last if index == table_index else ""
        if query is None:
            continue
        if table.name == "ref_items":
            if after:
                list_name, _, item_id = after.partition(":")
                query = query.where(
                    or_(
                        table.c.list > list_name,
                        and_(table.c.list == list_name, table.c.id > item_id),
                    )
                )
            query = query.order_by(table.c.list, table.c.id)
        else:
            if after:
                query = query.where(table.c.id > after)
            query = query.order_by(table.c.id)
        wanted = limit - len(changes)
        rows = conn.execute(query.limit(wanted)).all()
        for row in rows:
            data = decode(row)
            changes.append(_snapshot_change(p, table.name, data, at))
        if len(rows) == wanted:
            last_id = changes[-1].row_id
            return PullReply(
                changes=changes,
                next_cursor=f"s.{at}.{index}.{last_id}",
                has_more=True,
                phase="snapshot",
                head_seq=head,
            )
    return PullReply(
        changes=changes,
        next_cursor=str(at),
        has_more=True,
        phase="snapshot",
        snapshot_done=True,
        head_seq=head,
    )


def _snapshot_change(p: Principal, table: str, data: dict[str, Any], at: int) -> Change:
    field_hlc = None
    if "field_hlc" in data:
        field_hlc = field_hlc_for(p, table, json.loads(data["field_hlc"] or "{}"))
    row_id = ref_row_id(table, data) if table.startswith("ref_") else str(data["id"])
    return Change(
        seq=at,
        table_name=table,
        row_id=row_id,
        op="upsert",
        fields=project(p, table, wire_fields(data, table)),
        field_hlc=field_hlc,
        server_version=int(data.get("server_version") or 0),
    )


def _log(conn: Connection, p: Principal, head: int, since: int, limit: int) -> PullReply:
    log = schema.change_log
    territories = sorted(p.territories)
    territory_filter = (
        or_(log.c.territory_id.is_(None), log.c.territory_id.in_(territories))
        if territories
        else log.c.territory_id.is_(None)
    )
    rows = conn.execute(
        select(log)
        .where(log.c.seq > since, log.c.seq <= head, territory_filter)
        .order_by(log.c.seq)
        .limit(SCAN_LIMIT)
    ).all()
    changes: list[Change] = []
    cursor = since
    stopped_early = False
    for row in rows:
        agents = json.loads(row.scope_agent_ids) if row.scope_agent_ids else []
        if entry_visible(p, row.audience, row.territory_id, agents):
            changes.append(_log_change(p, row))
        cursor = int(row.seq)
        if len(changes) == limit:
            stopped_early = True
            break
    if not stopped_early and len(rows) < SCAN_LIMIT:
        cursor = head
    has_more = cursor < head
    return PullReply(
        changes=changes, next_cursor=str(cursor), has_more=has_more, phase="log", head_seq=head
    )


def _log_change(p: Principal, row: Any) -> Change:
    if row.op == "remove":
        return Change(
            seq=int(row.seq),
            table_name=row.table_name,
            row_id=row.row_id,
            op="remove",
            reason=row.reason,
            server_version=int(row.server_version or 0),
        )
    fields = json.loads(row.fields) if row.fields else {}
    field_hlc = (
        field_hlc_for(p, row.table_name, json.loads(row.field_hlc)) if row.field_hlc else None
    )
    return Change(
        seq=int(row.seq),
        table_name=row.table_name,
        row_id=row.row_id,
        op="upsert",
        fields=project(p, row.table_name, fields),
        field_hlc=field_hlc,
        server_version=int(row.server_version or 0),
    )
