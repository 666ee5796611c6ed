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

History stays on the server (sync.md). A device receives log entries only from the snapshot
point of its own current full download (``device_pull_state.start_seq``, noted when it asks for
``"0"``) and from the last change of its agent's scope: a new device, a new agent, an agent who
gained a territory or a cursor copied from another profile get ``reset_required``, never the
log from before. And an entry is sent only if no later entry about the same row, visible to
the reader, is already in the log (a superseded one would hand out the old values of an edited
row, or a row deleted since, e.g. to a device whose snapshot was read after them).

``reset_required`` (the client starts again from ``"0"``, keeping its outbox) when the cursor is
below the retained log (``log_floor``, raised by compaction: changelog.compact), beyond the head
(a cursor from another or a restored server), inside the gap a restore opened (a cursor
handed out after the backup by the server whose later history was lost: changelog.py), below
the agent's ``scope_changed_seq`` (their role or territories changed: the full download brings
what entered the scope and, being authoritative, removes what left it) or below the device's
own start.

One row never blocks everyone: a row or log entry that cannot be put in a reply (larger than
``MAX_ROW_JSON_BYTES`` or invalid for the reply model: written behind the server's back, or by
an older server) is skipped, logged by ids and recorded in ``unservable_rows`` for
administrators (``havre-server unservable-rows``); the other rows are served.

Work per request is bounded: at most ``limit`` changes, and at most ``SCAN_LIMIT`` log entries
examined (entries of other territories are skipped by SQL; the finer rules run in Python).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Select, Table, and_, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from havre_common.protocol import MAX_ROW_JSON_BYTES, Change, PullReply
from havre_server import schema
from havre_server.changelog import head_seq, void_ranges
from havre_server.db import get_state, is_postgres
from havre_server.domain import decode, wire_fields
from havre_server.errors import ApiError
from havre_server.reference import ref_row_id
from havre_server.schema import device_pull_state, unservable_rows
from havre_server.scope import (
    ADMINISTRATOR,
    CATALOGUE_ROLES,
    COORDINATOR,
    RECEPTION,
    Principal,
    entry_visible,
    field_hlc_for,
    project,
)

log = logging.getLogger("havre.server.pull")

SCAN_LIMIT = 5000
SEEN_REFRESH_MS = 3600 * 1000
"""A device's pull state is written when its position moves, else at most once an hour."""

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
    if p.role == ADMINISTRATOR:
        return select(t).where(t.c.deleted == 0)
    # A coordinator reads the evaluations of her territories (a JSON list of fixed ids: the
    # quoted id matches whole) and those that name none.
    concerned = [t.c.territory_ids.like(f'%"{territory}"%') for territory in sorted(p.territories)]
    return select(t).where(t.c.deleted == 0, or_(t.c.territory_ids == "[]", *concerned))


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
        if not p.sees_register:
            return None
        query = query.where(t.c.purpose == "registre")
    elif not p.sees_register:
        # Consents to the register are register data (named staff only).
        query = query.where(t.c.purpose != "registre")
    return query


def _q_register(table: Table) -> Callable[[Principal], Select[Any] | None]:
    """A table of the register: only for agents with the register right."""

    def query(p: Principal) -> Select[Any] | None:
        if not p.sees_register:
            return None
        return select(table).where(table.c.deleted == 0, _person_in_scope(p, table.c.person_id))

    return query


def _q_campaigns(p: Principal) -> Select[Any] | None:
    """Alert campaigns of the agent's territories: agents with the register right."""
    if not p.sees_register:
        return None
    t = schema.alert_campaigns
    concerned = [t.c.territory_ids.like(f'%"{territory}"%') for territory in sorted(p.territories)]
    return select(t).where(t.c.deleted == 0, or_(*concerned))


def _q_calls(p: Principal) -> Select[Any] | None:
    """Call lists: a coordinator's territories whole; an agent's own calls and those she held
    before a reassignment."""
    if not p.sees_register:
        return None
    t = schema.campaign_calls
    query = select(t).where(t.c.deleted == 0, _person_in_scope(p, t.c.person_id))
    if p.role != COORDINATOR:
        query = query.where(or_(t.c.agent_id == p.agent_id, t.c.previous_agent_id == p.agent_id))
    return query


def _q_outcomes(p: Principal) -> Select[Any] | None:
    """Call outcomes: of the calls the agent holds or held (any caller), and her own."""
    if not p.sees_register:
        return None
    t, k = schema.campaign_outcomes, schema.campaign_calls.alias("held_call")
    query = select(t).where(t.c.deleted == 0, _person_in_scope(p, t.c.person_id))
    if p.role != COORDINATOR:
        held = exists().where(
            k.c.id == t.c.call_id,
            or_(k.c.agent_id == p.agent_id, k.c.previous_agent_id == p.agent_id),
        )
        query = query.where(or_(t.c.agent_id == p.agent_id, held))
    return query


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
    (schema.city_details, _q_all(schema.city_details)),
    (schema.streets, _q_all(schema.streets)),
    (schema.actions, _q_all(schema.actions)),
    (schema.action_evaluations, _q_evaluations),
    (schema.contacts, _q_contacts),
    (schema.consents, _q_consents),
    (schema.register_enrolments, _q_register(schema.register_enrolments)),
    (schema.register_events, _q_register(schema.register_events)),
    (schema.alert_campaigns, _q_campaigns),
    (schema.campaign_calls, _q_calls),
    (schema.campaign_outcomes, _q_outcomes),
    (schema.visits, _q_visits),
    (schema.handouts_given, _q_handouts),
    (schema.planned_contacts, _q_planned),
    (schema.conflicts, _q_conflicts),
    # Last: a snapshot cursor names its table by position (one taken before an upgrade goes on).
    (schema.temporary_changes, _q_all(schema.temporary_changes)),
]


_NUMBER = r"(0|[1-9][0-9]{0,17})"  # below 2**63: fits PostgreSQL's bigint
_LOG_CURSOR = re.compile(_NUMBER)
# An empty row id means the table from its beginning (what "0" starts with).
_SNAPSHOT_CURSOR = re.compile(rf"s\.{_NUMBER}\.{_NUMBER}\.([A-Za-z0-9:_.-]{{0,100}})")


def _invalid_cursor() -> ApiError:
    return ApiError("invalid_cursor", "Curseur de synchronisation invalide.")


@dataclass(frozen=True)
class DeviceState:
    start_seq: int
    cursor_seq: int
    seen_at_ms: int


@dataclass(frozen=True)
class Position:
    """Where the device stands after this request: ``start`` is set when a download begins."""

    cursor_seq: int
    start: bool = False


@dataclass(frozen=True)
class Unservable:
    table_name: str
    row_id: str
    problem: str  # too_large | invalid
    seq: int | None


def pull(engine: Engine, p: Principal, cursor: str, limit: int) -> PullReply:
    if _SNAPSHOT_CURSOR.fullmatch(cursor) is None and _LOG_CURSOR.fullmatch(cursor) is None:
        raise _invalid_cursor()
    with engine.connect().execution_options(havre_read_only=True) as conn, conn.begin():
        state = _device_state(conn, p.device_pk)
        reply, position, skipped = _serve(conn, p, state, cursor, limit)
    _remember(engine, p, state, position, skipped)
    return reply


def _serve(
    conn: Connection, p: Principal, state: DeviceState | None, cursor: str, limit: int
) -> tuple[PullReply, Position | None, list[Unservable]]:
    head = head_seq(conn)
    if cursor == "0":
        reply, skipped = _snapshot(conn, p, head, head, 0, "", limit)
        return reply, Position(head, start=True), skipped
    snapshot = _SNAPSHOT_CURSOR.fullmatch(cursor)
    if snapshot is not None:
        at, table_index, last = int(snapshot[1]), int(snapshot[2]), snapshot[3]
        if table_index >= len(SNAPSHOT) or _too_old(conn, p, state, head, at):
            return _reset(head), None, []
        reply, skipped = _snapshot(conn, p, head, at, table_index, last, limit)
        return reply, Position(at), skipped
    if _LOG_CURSOR.fullmatch(cursor) is None:  # checked before: pull() refuses it (400)
        raise _invalid_cursor()
    since = int(cursor)
    if _too_old(conn, p, state, head, since):
        return _reset(head), None, []
    reply, skipped = _log(conn, p, head, since, limit)
    # PostgreSQL reads each statement at its own moment: a compaction committed after the
    # floor was checked may have removed entries this page needed. Checked again, afterwards.
    if since < int(get_state(conn, "log_floor", "0")):
        return _reset(head), None, []
    return reply, Position(since), skipped


def _too_old(
    conn: Connection, p: Principal, state: DeviceState | None, head: int, since: int
) -> bool:
    """Whether a cursor at ``since`` must start again from ``"0"`` (see the module's doc)."""
    if state is None or since < state.start_seq:
        return True  # not from this device's own download: history before it stays here
    if since > head or since < p.scope_changed_seq:
        return True
    if any(low < since < high for low, high in void_ranges(conn)):
        return True  # handed out by a server whose later history a restore lost
    return since < int(get_state(conn, "log_floor", "0"))


def _device_state(conn: Connection, device_pk: int) -> DeviceState | None:
    s = device_pull_state
    row = conn.execute(
        select(s.c.start_seq, s.c.cursor_seq, s.c.seen_at_ms).where(s.c.device_pk == device_pk)
    ).first()
    if row is None:
        return None
    return DeviceState(int(row.start_seq), int(row.cursor_seq), int(row.seen_at_ms))


def _upsert(conn: Connection, table: Table, values: dict[str, Any], update: dict[str, Any]) -> Any:
    dialect: Any = postgresql if is_postgres(conn) else sqlite
    keys = [c.name for c in table.primary_key.columns]
    statement = dialect.insert(table).values(**values)
    return statement.on_conflict_do_update(index_elements=keys, set_=update)


def _remember(
    engine: Engine,
    p: Principal,
    state: DeviceState | None,
    position: Position | None,
    skipped: list[Unservable],
) -> None:
    """Write the device's position (for history and compaction) and the skipped rows.

    A separate short transaction after the read: a pull holds no write lock while it reads.
    """
    now = int(time.time() * 1000)
    moved = position is not None and (
        position.start
        or state is None
        or state.cursor_seq != position.cursor_seq
        or now - state.seen_at_ms >= SEEN_REFRESH_MS
    )
    if not moved and not skipped:
        return
    with engine.begin() as conn:
        if moved:
            assert position is not None
            values = {"cursor_seq": position.cursor_seq, "seen_at_ms": now}
            if position.start:
                values["start_seq"] = position.cursor_seq
            conn.execute(
                _upsert(
                    conn,
                    device_pull_state,
                    {"device_pk": p.device_pk, "start_seq": position.cursor_seq, **values},
                    values,
                )
            )
        for item in skipped:
            u = unservable_rows
            conn.execute(
                _upsert(
                    conn,
                    u,
                    {
                        "table_name": item.table_name,
                        "row_id": item.row_id,
                        "problem": item.problem,
                        "seq": item.seq,
                        "first_seen_at_ms": now,
                        "last_seen_at_ms": now,
                        "occurrences": 1,
                    },
                    {
                        "problem": item.problem,
                        "seq": item.seq,
                        "last_seen_at_ms": now,
                        "occurrences": u.c.occurrences + 1,
                    },
                )
            )


def _reset(head: int) -> PullReply:
    return PullReply(
        changes=[], next_cursor="0", has_more=False, reset_required=True, phase="log", head_seq=head
    )


def _unservable(
    table: str, row_id: str, seq: int | None, exc: Exception, fields: Any
) -> Unservable:
    """Record of a row that cannot be served; logged by ids only (never its content)."""
    problem = "invalid"
    try:
        if isinstance(fields, str):
            fields = json.loads(fields)
        size = len(json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        if size > MAX_ROW_JSON_BYTES:
            problem = "too_large"
    except (TypeError, ValueError):
        pass
    row_id = row_id[:100]
    log.warning(
        "row not served table=%s row=%s seq=%s problem=%s error=%s",
        table,
        row_id,
        seq,
        problem,
        type(exc).__name__,
    )
    return Unservable(table, row_id, problem, seq)


def _snapshot(
    conn: Connection, p: Principal, head: int, at: int, table_index: int, last: str, limit: int
) -> tuple[PullReply, list[Unservable]]:
    changes: list[Change] = []
    skipped: list[Unservable] = []
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
        last_id = ""
        for row in rows:
            key = row._mapping
            last_id = f"{key['list']}:{key['id']}" if table.name == "ref_items" else str(key["id"])
            try:
                changes.append(_snapshot_change(p, table.name, decode(row), at))
            except (ValueError, TypeError, KeyError) as exc:
                skipped.append(_unservable(table.name, last_id, None, exc, dict(key)))
        if len(rows) == wanted:
            reply = PullReply(
                changes=changes,
                next_cursor=f"s.{at}.{index}.{last_id}",
                has_more=True,
                phase="snapshot",
                head_seq=head,
            )
            return reply, skipped
    reply = PullReply(
        changes=changes,
        next_cursor=str(at),
        has_more=True,
        phase="snapshot",
        snapshot_done=True,
        head_seq=head,
    )
    return reply, skipped


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


def _territory_filter(p: Principal) -> Any:
    log_table = schema.change_log
    territories = sorted(p.territories)
    if territories:
        return or_(log_table.c.territory_id.is_(None), log_table.c.territory_id.in_(territories))
    return log_table.c.territory_id.is_(None)


def _visible(p: Principal, row: Any) -> bool:
    agents = json.loads(row.scope_agent_ids) if row.scope_agent_ids else []
    return entry_visible(p, row.audience, row.territory_id, agents)


def _log(
    conn: Connection, p: Principal, head: int, since: int, limit: int
) -> tuple[PullReply, list[Unservable]]:
    change_log = schema.change_log
    rows = conn.execute(
        select(change_log)
        .where(change_log.c.seq > since, change_log.c.seq <= head, _territory_filter(p))
        .order_by(change_log.c.seq)
        .limit(SCAN_LIMIT)
    ).all()
    skipped: list[Unservable] = []
    # The last entry of each row this reader may see, in the scanned range and, when the scan
    # stopped short of the head, beyond it: an earlier one is never sent (see the module doc).
    latest: dict[tuple[str, str], int] = {}
    for row in rows:
        try:
            if _visible(p, row):
                latest[(row.table_name, row.row_id)] = int(row.seq)
        except ValueError as exc:  # its scope is unreadable: sent to no one, reported
            skipped.append(_unservable(row.table_name, row.row_id, int(row.seq), exc, None))
    scanned_to = int(rows[-1].seq) if len(rows) == SCAN_LIMIT else head
    later = _seen_later(conn, p, latest, scanned_to, head) if scanned_to < head else set()
    changes: list[Change] = []
    cursor = since
    stopped_early = False
    for row in rows:
        cursor = int(row.seq)
        key = (row.table_name, row.row_id)
        if latest.get(key) != cursor or key in later:
            continue  # not visible, or superseded by a later entry this reader receives
        try:
            changes.append(_log_change(p, row))
        except (ValueError, TypeError, KeyError) as exc:
            skipped.append(_unservable(row.table_name, row.row_id, cursor, exc, row.fields))
            continue
        if len(changes) == limit:
            stopped_early = True
            break
    if not stopped_early and len(rows) < SCAN_LIMIT:
        cursor = head
    has_more = cursor < head
    reply = PullReply(
        changes=changes, next_cursor=str(cursor), has_more=has_more, phase="log", head_seq=head
    )
    return reply, skipped


def _seen_later(
    conn: Connection, p: Principal, keys: Iterable[tuple[str, str]], after: int, head: int
) -> set[tuple[str, str]]:
    """Which of these rows have an entry in ``(after, head]`` that this reader may see."""
    change_log = schema.change_log
    by_table: dict[str, list[str]] = {}
    for table, row_id in keys:
        by_table.setdefault(table, []).append(row_id)
    found: set[tuple[str, str]] = set()
    for table, ids in by_table.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows = conn.execute(
                select(
                    change_log.c.table_name,
                    change_log.c.row_id,
                    change_log.c.audience,
                    change_log.c.territory_id,
                    change_log.c.scope_agent_ids,
                ).where(
                    change_log.c.table_name == table,
                    change_log.c.row_id.in_(chunk),
                    change_log.c.seq > after,
                    change_log.c.seq <= head,
                    _territory_filter(p),
                )
            ).all()
            for r in rows:
                try:
                    if _visible(p, r):
                        found.add((r.table_name, r.row_id))
                except ValueError:
                    continue  # reported when a pull reaches it
    return found


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
