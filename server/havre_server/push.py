"""Push: one transaction per batch, each mutation applied exactly once.

For each mutation, in the order sent: a mutation id already in ``applied_mutations`` answers
``duplicate`` with the first result (or ``rejected`` if it came from another device); otherwise
it is checked (table, fields, values, role, scope), applied under the table's policy inside a
savepoint, and its result written to ``applied_mutations`` in the same savepoint. A refused
mutation rolls back its savepoint only, and its refusal is recorded too, so a retry gets the same
answer. The log entries of the batch are written last (see changelog.flush), then one commit.

That is the careful pass (:func:`_apply_batch` alone). A batch is first applied in one
optimistic pass (:func:`_apply`): the same steps without the savepoints, the batch's inserts,
changes and results written together in a few pipelined statements (about 13 statements for a
push of 50 instead of 170). When something would need a savepoint (an id already taken, a
refusal after a write), the transaction is rolled back and the batch goes the careful way.

Policies (sync.md):

* contacts, planned contacts — per field, last writer wins by (HLC, device). When the server's
  value of a field changed since the client's ``base_version`` (by another device) and the values
  differ, the winner is applied and both values are kept in a ``conflicts`` row (``local_*`` =
  the mutation just received, ``remote_*`` = the value the server held), sent to the agents
  concerned and to coordinators. A field the client had already seen (unchanged on the server
  since its base version) is the client's newer edit and is applied whatever the clocks say.
  The base version is what the device pulled, never what an acknowledgement said (sync.md):
  a field last changed by this same device is its own earlier edit, not a conflict.
* every table — a ``base_version`` above the row's own version is refused: no device can have
  seen it, and it would hide the changes up to it from the merge.
* visits — append-only by UUID; a correction is a new revision by its author, who must still see
  the person. A visit logged while the author still had access (by its HLC) is accepted even if
  the access was lost since (it happened); the author then gets it removed at the next pull.
* consents, register enrolment, evaluations — created once, then only the closing fields change.
* handouts given, reception encounters, audit entries — append only (the last two up only).
* facilities and actions — server-authoritative: coordinators and administrators only.
* a stamp later than server time + 5 min is replaced by the server's receive time (the original
  is kept in ``applied_mutations`` and ``change_log.original_hlc``).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Insert,
    Integer,
    Table,
    Update,
    bindparam,
    event,
    exists,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError

from havre_common import campaign as campaign_rules
from havre_common import contract
from havre_common.contract import REGISTER_TABLES
from havre_common.hlc import Timestamp
from havre_common.messages import ANONYMISED_FILE, clock_skew_message
from havre_common.protocol import (
    MAX_CLOCK_SKEW_MS,
    Mutation,
    MutationResult,
    PushReply,
    PushRequest,
)
from havre_server import audit, schema
from havre_server.catalogue_rules import territories_of, territory_problem
from havre_server.changelog import ChangeBuffer, Entry, Ordering, flush
from havre_server.db import dumps
from havre_server.domain import (
    CLIENT_LOCAL_COLUMNS,
    NOT_VISIBLE,
    SPECS,
    Reject,
    Spec,
    clean,
    decode,
    emit_person_move,
    encode,
    entry_for,
    evaluation_entry,
    is_empty,
    load_row,
    person_territory,
)
from havre_server.errors import ApiError
from havre_server.reference import Reference
from havre_server.scope import (
    CATALOGUE_ROLES,
    COORDINATOR,
    RECEPTION,
    RECEPTION_CONTACT_FIELDS,
    Principal,
)

log = logging.getLogger("havre.server.push")

RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def iso_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Outcome:
    status: str
    server_version: int | None = None
    conflict_ids: list[str] = field(default_factory=list)
    reason: str | None = None


@dataclass
class Ctx:
    conn: Connection
    p: Principal
    ref: Reference
    now_ms: int
    buffer: ChangeBuffer
    stamp: str = ""
    stamp_ms: int = 0
    mutation: Mutation | None = None
    # Ids the batch inserts, looked up in erased_rows in one query before applying it:
    # those checked, and among them those erased (see _erased_among).
    inserts_checked: frozenset[tuple[str, str]] = frozenset()
    inserts_erased: frozenset[tuple[str, str]] = frozenset()
    # Persons the batch's identifying values are about, looked up once (_anonymised_among).
    persons_checked: frozenset[str] = frozenset()
    persons_anonymised: frozenset[str] = frozenset()
    # Persons' territories (None: no live contact), read once for the whole batch; kept
    # right by the batch's own writes of contacts (_contacts), dropped when one is rolled back.
    territories: dict[str, str | None] = field(default_factory=dict)
    # The optimistic pass: inserts written later (conn is then this object too).
    later: _Later | None = None


def push(
    engine: Engine, p: Principal, request: PushRequest, ref: Reference, ordering: Ordering
) -> PushReply:
    received = now_ms()
    skew = request.client_time_ms - received
    if abs(skew) > MAX_CLOCK_SKEW_MS:
        minutes = round(abs(skew) / 60000)
        raise ApiError("clock_skew", clock_skew_message(minutes))
    if request.device_id != p.device_id:
        raise ApiError("forbidden", "Ce lot a été préparé par un autre appareil : refusé.")
    careful, attempt = False, 0
    while True:
        try:
            with engine.begin() as conn:
                if careful:
                    results, buffer = _apply_batch(conn, p, request, ref, received)
                else:
                    results, buffer = _apply(conn, p, request, ref, received)
                flush(conn, buffer, ordering, seqs=False)
            break
        except (_Undo, IntegrityError) as exc:
            if careful:  # the careful pass answers integrity errors itself: not one of those
                raise
            careful = True  # the transaction is rolled back: the batch again, with care
            log.info("push applied again mutation by mutation (%s)", type(exc).__name__)
        except DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            if state not in RETRYABLE_SQLSTATES or attempt == 4:
                raise
            attempt += 1
            log.info("push retried after %s", state)
    counts: dict[str, int] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
    log.info(
        "push agent=%s device=%s mutations=%d %s",
        p.agent_id,
        p.device_id,
        len(results),
        " ".join(f"{k}={v}" for k, v in sorted(counts.items())),
    )
    return PushReply(results=results, server_time_ms=now_ms())


class _Undo(Exception):
    """The optimistic pass met what only a savepoint per mutation can undo."""


def _apply(
    conn: Connection, p: Principal, request: PushRequest, ref: Reference, received: int
) -> tuple[list[MutationResult], ChangeBuffer]:
    """The batch in one optimistic pass, without a savepoint per mutation.

    The optimistic pass runs every mutation as the careful one does, but with no savepoint
    around each, and writes the batch's results to ``applied_mutations`` at the end in one
    statement (psycopg: one pipelined round trip). It holds as long as nothing needs undoing:
    a mutation refused before it wrote anything (the usual refusals are checks) is recorded
    as refused; a mutation refused after a write (_Undo), or any integrity error (an id or a
    mutation id already taken, possibly by a concurrent push), ends it: :func:`push` rolls the
    transaction back and applies the batch again in a new one with :func:`_apply_batch`,
    mutation by mutation, whose answers are the reference. Same results, same rows, same log
    entries either way."""
    later = _Later(conn, _watch_writes(conn))
    try:
        return _apply_batch(cast(Connection, later), p, request, ref, received, later=later)
    finally:
        conn.info.pop(_WRITES, None)


_WRITES = "havre_push_writes"


def _watch_writes(conn: Connection) -> list[int]:
    """A counter of the statements other than SELECT that this connection runs from now on
    (until ``conn.info[_WRITES]`` is removed)."""
    engine = conn.engine
    if not event.contains(engine, "before_cursor_execute", _count_write):
        event.listen(engine, "before_cursor_execute", _count_write)
    counter = [0]
    conn.info[_WRITES] = counter
    return counter


class _Later:
    """The optimistic pass's connection: the rows the batch inserts and the changes it makes
    to rows it has read and locked are written just before the next statement, whatever it is
    (so that every read sees them), or at the end of the batch. Inserts go first, grouped by
    table; then the changes, those of one row merged into one (the later value of a column
    wins, as when run one after the other), grouped by the columns they set. Each group is
    one prepared statement run for each row (psycopg: in a pipeline, one round trip). Inserts
    name every column (those not given with their default, see _row_as_stored): the row the
    pass goes on with is then the one the database holds."""

    def __init__(self, conn: Connection, writes: list[int]) -> None:
        self.conn = conn
        self.writes = writes
        self.inserts: dict[Insert, list[dict[str, Any]]] = {}
        self.changes: dict[tuple[Table, str], dict[str, Any]] = {}
        # Contacts the batch changes, read and locked at its start (FOR UPDATE, in id order),
        # then as the batch leaves them (_existing, _insert and _update keep them right).
        self.locked: dict[str, dict[str, Any]] = {}

    def insert(self, statement: Insert, row: dict[str, Any]) -> None:
        self.inserts.setdefault(statement, []).append(row)
        self.writes[0] += 1

    def change(self, table: Table, row_id: str, values: dict[str, Any]) -> None:
        """Set these columns of a row this transaction has read and locked."""
        self.changes.setdefault((table, row_id), {}).update(values)
        self.writes[0] += 1

    def flush(self) -> None:
        counted = self.writes[0]  # counted when added: a later mutation did not write them
        inserts, self.inserts = self.inserts, {}
        changes, self.changes = self.changes, {}
        for adding, rows in inserts.items():
            self.conn.execute(adding, rows)
        groups: dict[Update, list[dict[str, Any]]] = {}
        for (table, row_id), values in changes.items():
            setting = _update_only(table, frozenset(values))
            groups.setdefault(setting, []).append({**values, "row_pk": row_id})
        for setting, params in groups.items():
            self.conn.execute(setting, params)
        self.writes[0] = counted

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.flush()
        return self.conn.execute(*args, **kwargs)

    def exec_driver_sql(self, *args: Any, **kwargs: Any) -> Any:
        self.flush()
        return self.conn.exec_driver_sql(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)


def _count_write(
    conn: Connection,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    counter = conn.info.get(_WRITES)
    if counter is not None and statement.lstrip()[:6].upper() != "SELECT":
        counter[0] += 1


def _apply_batch(
    conn: Connection,
    p: Principal,
    request: PushRequest,
    ref: Reference,
    received: int,
    *,
    later: _Later | None = None,
) -> tuple[list[MutationResult], ChangeBuffer]:
    """Apply the mutations in order. With ``later`` (the optimistic pass, ``conn`` is then
    ``later``), no savepoint per mutation, inserts and results written later; raises _Undo
    when a savepoint was needed."""
    optimistic = later is not None
    buffer = ChangeBuffer()
    results: list[MutationResult] = []
    records: dict[str, dict[str, Any]] = {}  # optimistic: written at the end
    counter = 0
    answered = _previous_many(conn, [m.mutation_id for m in request.mutations])
    checked = frozenset((m.table_name, m.row_id) for m in request.mutations if m.op == "insert")
    erased = _erased_among(conn, checked)
    persons = frozenset(
        who for m in request.mutations if (who := _identified_person(m)) is not None
    )
    anonymised = _anonymised_among(conn, persons)
    territories = _territories_of(conn, request.mutations)
    if later is not None:
        later.locked = _lock_contacts(conn, request.mutations)
    handled: set[str] = set()
    for m in request.mutations:
        if m.mutation_id in handled:  # sent twice in one batch: the first one is recorded
            previous = records.get(m.mutation_id) or _previous(conn, m.mutation_id)
        else:
            previous = answered.get(m.mutation_id)
        handled.add(m.mutation_id)
        if previous is not None:
            results.append(_duplicate(previous, p))
            continue
        original = Timestamp.parse(m.hlc)
        adjusted: str | None = None
        stamp = original
        if original.millis > received + MAX_CLOCK_SKEW_MS:
            stamp = Timestamp(received, counter, original.node)
            counter += 1
            adjusted = str(stamp)
        ctx = Ctx(
            conn,
            p,
            ref,
            received,
            ChangeBuffer(),
            str(stamp),
            stamp.millis,
            m,
            checked,
            erased,
            persons,
            anonymised,
            territories,
            later,
        )
        done = False
        if optimistic:
            assert later is not None
            before = later.writes[0]
            try:
                outcome = _apply_one(ctx, m)
            except Reject as exc:
                if later.writes[0] != before:
                    raise _Undo from exc
                outcome = Outcome("rejected", reason=exc.reason)
                records[m.mutation_id] = _record_row(p, m, outcome, None, received)
                results.append(
                    MutationResult(
                        mutation_id=m.mutation_id, status="rejected", reason=outcome.reason
                    )
                )
                continue
            _stamp_entries(ctx, m, adjusted)
            records[m.mutation_id] = _record_row(p, m, outcome, adjusted, received)
            buffer.extend(ctx.buffer)
            results.append(_result(m, outcome, adjusted))
            continue
        try:
            with _savepoint(conn):
                outcome = _apply_one(ctx, m)
                _stamp_entries(ctx, m, adjusted)
                _record(conn, p, m, outcome, adjusted, received)
            buffer.extend(ctx.buffer)
            done = True
        except Reject as exc:
            outcome = Outcome("rejected", reason=exc.reason)
            results.append(_record_rejection(conn, p, m, outcome, received))
            continue
        except IntegrityError:
            previous = _previous(conn, m.mutation_id)
            if previous is not None:
                results.append(_duplicate(previous, p))
            else:
                outcome = Outcome("rejected", reason="Identifiant déjà utilisé : refusé.")
                results.append(_record_rejection(conn, p, m, outcome, received))
            continue
        finally:
            if m.table_name == "contacts" and not done:  # rolled back: read it again if named
                territories.pop(m.row_id, None)
        results.append(_result(m, outcome, adjusted))
    if later is not None:
        later.flush()
        if records:
            later.conn.execute(_RECORD, list(records.values()))
    return results, buffer


def _stamp_entries(ctx: Ctx, m: Mutation, adjusted: str | None) -> None:
    """The mutation's log entries carry its stamp, author, device and id."""
    for entry in ctx.buffer.entries:
        entry.hlc = ctx.stamp
        entry.original_hlc = m.hlc if adjusted else None
        entry.author_agent_id = ctx.p.agent_id
        entry.device_id = ctx.p.device_id
        entry.mutation_id = m.mutation_id


def _result(m: Mutation, outcome: Outcome, adjusted: str | None) -> MutationResult:
    return MutationResult(
        mutation_id=m.mutation_id,
        status=outcome.status,  # type: ignore[arg-type]
        reason=outcome.reason,
        server_version=outcome.server_version,
        conflict_ids=outcome.conflict_ids,
        hlc_adjusted_to=adjusted,
    )


@contextmanager
def _savepoint(conn: Connection) -> Iterator[None]:
    """One mutation's savepoint: what it wrote is undone if it fails.

    Never released: ``RELEASE`` costs a round trip to the database for every mutation (on
    PostgreSQL, with ``SAVEPOINT``, two of the five statements of a new visit). The next
    mutation's ``SAVEPOINT`` of the same name nests inside it, ``ROLLBACK TO`` goes back to the
    latest one of that name (this mutation's: the earlier ones' work is kept), and the commit of
    the batch ends them all. Same on SQLite.
    """
    conn.exec_driver_sql(f"SAVEPOINT {_SAVEPOINT}")
    try:
        yield
    except BaseException:
        conn.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        raise


_SAVEPOINT = "havre_mutation"
_PERSON_COLUMNS = ("person_id", "contact_id")
"""The fields by which a pushed row names its person (contact_id: consents)."""
_TERRITORIES = select(
    schema.contacts.c.id, schema.contacts.c.territory_id, schema.contacts.c.deleted
).where(schema.contacts.c.id.in_(bindparam("ids", expanding=True)))


def _territories_of(conn: Connection, mutations: list[Mutation]) -> dict[str, str | None]:
    """The territory of every person a batch names, in one query (one per mutation before):
    None for an id with no live contact."""
    ids = {m.row_id for m in mutations if m.table_name == "contacts"}
    for m in mutations:
        for column in _PERSON_COLUMNS:
            value = m.changed_fields.get(column)
            if isinstance(value, str):
                ids.add(value)
    found: dict[str, str | None] = dict.fromkeys(ids)
    if ids:
        for row in conn.execute(_TERRITORIES, {"ids": sorted(ids)}):
            found[str(row.id)] = None if row.deleted else str(row.territory_id)
    return found


def _territory(ctx: Ctx, person_id: str | None) -> str | None:
    """`person_territory`, from the batch's cache when it has the person."""
    if person_id is None:
        return None
    if person_id not in ctx.territories:
        ctx.territories[person_id] = person_territory(ctx.conn, person_id)
    return ctx.territories[person_id]


def _previous(conn: Connection, mutation_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(schema.applied_mutations).where(
            schema.applied_mutations.c.mutation_id == mutation_id
        )
    ).first()
    return None if row is None else dict(row._mapping)


# Statements run for every mutation, built once (see domain.py).
_AM = schema.applied_mutations
_PREVIOUS_MANY = select(_AM).where(_AM.c.mutation_id.in_(bindparam("ids", expanding=True)))
_RECORD = insert(_AM)
_ERASED = select(
    exists().where(
        schema.erased_rows.c.table_name == bindparam("erased_table"),
        schema.erased_rows.c.row_id == bindparam("erased_id"),
    )
)


_ER = schema.erased_rows
_ERASED_AMONG = select(_ER.c.table_name, _ER.c.row_id).where(
    _ER.c.table_name.in_(bindparam("tables", expanding=True)),  # the primary key's order
    _ER.c.row_id.in_(bindparam("ids", expanding=True)),
)


@cache
def _insert_returning(table: Table) -> Insert:
    return insert(table).returning(*table.c)


@cache
def _update_returning(table: Table) -> Update:
    return update(table).where(table.c.id == bindparam("row_pk")).returning(*table.c)


def _erased_among(conn: Connection, keys: frozenset[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """Which of these (table, id) were erased (RGPD), in one query for a whole batch. An id
    erased while the batch runs belonged to a row that existed: inserting it again fails
    on the primary key or answers "duplicate", as before."""
    if not keys:
        return frozenset()
    tables = sorted({table for table, _id in keys})
    rows = conn.execute(_ERASED_AMONG, {"tables": tables, "ids": sorted({i for _t, i in keys})})
    return frozenset((str(r.table_name), str(r.row_id)) for r in rows) & keys


def _previous_many(conn: Connection, mutation_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The recorded results of a batch's mutations, in one query (those already received)."""
    rows = conn.execute(_PREVIOUS_MANY, {"ids": sorted(set(mutation_ids))})
    return {str(r.mutation_id): dict(r._mapping) for r in rows}


def _duplicate(previous: dict[str, Any], p: Principal) -> MutationResult:
    if previous["device_id"] != p.device_id:
        return MutationResult(
            mutation_id=previous["mutation_id"],
            status="rejected",
            reason="Cette modification a déjà été reçue d'un autre appareil : refusée.",
        )
    return MutationResult(
        mutation_id=previous["mutation_id"],
        status="duplicate",
        original_status=previous["status"],
        reason=previous["reason"],
        server_version=previous["server_version"],
        conflict_ids=json.loads(previous["conflict_ids"] or "[]"),
        hlc_adjusted_to=previous["adjusted_hlc"],
    )


def _record(
    conn: Connection,
    p: Principal,
    m: Mutation,
    outcome: Outcome,
    adjusted: str | None,
    received: int,
) -> None:
    conn.execute(_RECORD, _record_row(p, m, outcome, adjusted, received))


def _record_row(
    p: Principal, m: Mutation, outcome: Outcome, adjusted: str | None, received: int
) -> dict[str, Any]:
    """The mutation's row of ``applied_mutations`` (what a retry is answered)."""
    return {
        "mutation_id": m.mutation_id,
        "device_id": p.device_id,
        "agent_id": p.agent_id,
        "table_name": m.table_name,
        "row_id": m.row_id,
        "status": outcome.status,
        "reason": outcome.reason,
        "server_version": outcome.server_version,
        "conflict_ids": dumps(outcome.conflict_ids),
        "hlc": m.hlc,
        "adjusted_hlc": adjusted,
        "received_at_ms": received,
    }


def _record_rejection(
    conn: Connection, p: Principal, m: Mutation, outcome: Outcome, received: int
) -> MutationResult:
    try:
        with _savepoint(conn):
            _record(conn, p, m, outcome, None, received)
    except IntegrityError:
        previous = _previous(conn, m.mutation_id)
        if previous is not None:
            return _duplicate(previous, p)
    return MutationResult(mutation_id=m.mutation_id, status="rejected", reason=outcome.reason)


# -- dispatch --------------------------------------------------------------------------------------


def _apply_one(ctx: Ctx, m: Mutation) -> Outcome:
    spec = SPECS.get(m.table_name)
    if spec is None:
        raise Reject(
            f"La table « {m.table_name} » est inconnue ou gérée par le serveur : "
            "modification refusée."
        )
    if Timestamp.parse(m.hlc).node != ctx.p.device_id:
        raise Reject("Horodatage émis par un autre appareil : modification refusée.")
    values = {k: v for k, v in m.changed_fields.items() if k not in CLIENT_LOCAL_COLUMNS}
    if "id" in values and values.pop("id") != m.row_id:
        raise Reject("L'identifiant de la ligne ne correspond pas : modification refusée.")
    if m.op == "delete":
        values.pop("deleted", None)
        values.pop("updated_at", None)
        if values:
            raise Reject("Une suppression ne porte pas d'autres modifications.")
    elif "deleted" in values:
        raise Reject("Utilisez une suppression pour effacer une ligne.")
    _refuse_identity_of_anonymised(ctx, spec, m, values)
    handler = HANDLERS[m.table_name]
    return handler(ctx, spec, m, values)


def _carries_identity(table_name: str, values: dict[str, Any]) -> bool:
    return any(not is_empty(values.get(n)) for n in contract.IDENTIFYING.get(table_name, ()))


def _identified_person(m: Mutation) -> str | None:
    """The person a mutation's identifying values are about, when the mutation names her."""
    spec = contract.TABLES.get(m.table_name)
    if spec is None or spec.person_column is None:
        return None
    if not _carries_identity(m.table_name, m.changed_fields):
        return None
    found = m.row_id if spec.person_column == "id" else m.changed_fields.get(spec.person_column)
    return found if isinstance(found, str) else None


def _anonymised_among(conn: Connection, persons: frozenset[str]) -> frozenset[str]:
    """Which of these persons' files were anonymised (retention), in one query per batch."""
    if not persons:
        return frozenset()
    c = schema.contacts
    rows = conn.execute(
        select(c.c.id).where(c.c.id.in_(sorted(persons)), c.c.anonymised_on.is_not(None))
    )
    return frozenset(str(r[0]) for r in rows)


def _refuse_identity_of_anonymised(
    ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]
) -> None:
    """An anonymised file (retention) takes no identity, contact details or free text again:
    a device that had not synced yet cannot bring back what the anonymisation removed.
    The batch's persons are looked up at once; a correction that does not name its person
    (a visit's notes edited) is looked up alone."""
    column = spec.contract.person_column
    if column is None or not _carries_identity(spec.table.name, values):
        return
    person_id = m.row_id if column == "id" else values.get(column)
    if isinstance(person_id, str) and person_id in ctx.persons_checked:
        anonymised = person_id in ctx.persons_anonymised
    else:
        table = spec.table
        if person_id is None:
            person_id = ctx.conn.execute(
                select(table.c[column]).where(table.c.id == m.row_id)
            ).scalar()
        anonymised = person_id is not None and bool(
            ctx.conn.execute(
                select(schema.contacts.c.anonymised_on).where(schema.contacts.c.id == person_id)
            ).scalar()
        )
    if anonymised:
        raise Reject(ANONYMISED_FILE)


def _require_insert_fields(spec: Spec, values: dict[str, Any]) -> None:
    missing = sorted(k for k in spec.required if values.get(k) in (None, ""))
    if missing:
        raise Reject(f"Champs obligatoires manquants : {', '.join(missing)}.")


def _only_updatable(spec: Spec, values: dict[str, Any]) -> None:
    extra = sorted(set(values) - spec.updatable)
    if extra:
        raise Reject(f"Ces champs ne se modifient pas : {', '.join(extra)}.")


def _is_erased(conn: Connection, table: str, row_id: str) -> bool:
    return bool(conn.execute(_ERASED, {"erased_table": table, "erased_id": row_id}).scalar())


_LOCK_CONTACTS = (
    select(schema.contacts)
    .where(schema.contacts.c.id.in_(bindparam("ids", expanding=True)))
    .order_by(schema.contacts.c.id)
    .with_for_update()
)


def _lock_contacts(conn: Connection, mutations: list[Mutation]) -> dict[str, dict[str, Any]]:
    """The contacts a batch changes, read and locked in one query. Only the contacts handler
    writes a contact (after _existing, through _insert and _update, which keep the batch's copy
    as the database then holds it): the row handed out is the current one."""
    ids = sorted({m.row_id for m in mutations if m.table_name == "contacts" and m.op != "insert"})
    if not ids:
        return {}
    return {str(r.id): decode(r) for r in conn.execute(_LOCK_CONTACTS, {"ids": ids})}


def _existing(ctx: Ctx, spec: Spec, row_id: str) -> dict[str, Any]:
    row = None
    if ctx.later is not None and spec.table is schema.contacts:
        row = ctx.later.locked.get(row_id)
    if row is None:
        row = load_row(ctx.conn, spec.table, row_id, for_update=True)
    if row is None:
        if _is_erased(ctx.conn, spec.table.name, row_id):
            raise Reject("Cette fiche a été effacée (RGPD) : modification refusée.")
        raise Reject(NOT_VISIBLE)
    return row


def _seen_version(m: Mutation, row: dict[str, Any]) -> None:
    """Refuse a base version the row never had. A device has seen only versions it pulled;
    a higher base would hide from the merge every change up to it (a concurrent edit then
    overwritten with no conflict). Checked once the row is known to be visible to the agent."""
    version = int(row.get("server_version") or 0)
    if m.base_version > version:
        raise Reject(
            f"Version de la fiche inconnue du serveur (version {m.base_version} annoncée, "
            f"le serveur en est à la version {version}) : modification refusée."
        )


def _visible_person(ctx: Ctx, person_id: str | None, *, care: bool) -> str:
    """The person's territory if the pushing agent may see her now; refused otherwise."""
    territory = _territory(ctx, person_id)
    # An erased person has no row left: looked up only then, for the message (one query
    # less per mutation in the usual case).
    if territory is None and person_id is not None and _is_erased(ctx.conn, "contacts", person_id):
        raise Reject("Cette personne a été effacée (RGPD) : modification refusée.")
    allowed = ctx.p.is_care if care else ctx.p.sees_persons
    if territory is None or not allowed or not ctx.p.has_territory(territory):
        raise Reject(NOT_VISIBLE)
    return territory


def _new_version(row: dict[str, Any] | None) -> int:
    return 1 if row is None else int(row.get("server_version") or 0) + 1


def _insert(ctx: Ctx, spec: Spec, row_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """The new row as stored. An id already used raises IntegrityError (primary key; in the
    optimistic pass, when the batch's rows are written), which `_apply_batch` answers
    "Identifiant déjà utilisé"; an erased row's id is refused here."""
    key = (spec.table.name, row_id)
    if key in ctx.inserts_erased or (
        key not in ctx.inserts_checked and _is_erased(ctx.conn, spec.table.name, row_id)
    ):
        raise Reject("Identifiant déjà utilisé : refusé.")
    stored = encode({"id": row_id, **values, "server_version": 1})
    row = _row_as_stored(spec.table, stored) if ctx.later is not None else None
    if ctx.later is not None and row is not None:
        ctx.later.insert(_insert_all(spec.table), row)
        fresh = decode(row)
    else:
        fresh = decode(ctx.conn.execute(_insert_returning(spec.table), stored).one())
    if ctx.later is not None and spec.table is schema.contacts:
        ctx.later.locked[row_id] = fresh
    return fresh


@cache
def _insert_all(table: Table) -> Insert:
    return insert(table)


@cache
def _defaults(table: Table) -> dict[str, Any] | None:
    """Each column's value when an insert does not give it: its server default, as the
    database returns it (an integer column's as an integer), else NULL. None when a default
    is not a plain value (an expression): that table's rows are inserted at once."""
    found: dict[str, Any] = {}
    for column in table.c:
        default = column.server_default
        value = None if default is None else getattr(default, "arg", None)
        if default is not None and not isinstance(value, str):
            return None
        if value is not None and isinstance(column.type, Integer):
            try:
                value = int(value)
            except ValueError:
                return None
        found[column.name] = value
    return found


def _row_as_stored(table: Table, stored: dict[str, Any]) -> dict[str, Any] | None:
    """Every column of the new row, as ``INSERT … RETURNING *`` would give it back; None when
    a value is not of its column's type (the database would convert it) or a default is an
    expression: the row is then inserted at once."""
    defaults = _defaults(table)
    if defaults is None:
        return None
    row = {**defaults, **stored}
    return row if _typed_as_columns(table, row) else None


def _typed_as_columns(table: Table, values: dict[str, Any]) -> bool:
    """Every value is a column's, of its type (int for integer columns, str for the others)
    or None: the database stores and returns it as it is."""
    kinds = _column_kinds(table)
    for name, value in values.items():
        kind = kinds.get(name)
        if kind is None or (value is not None and type(value) is not kind):
            return False
    return True


@cache
def _column_kinds(table: Table) -> dict[str, type]:
    return {c.name: int if isinstance(c.type, Integer) else str for c in table.c}


def _update(ctx: Ctx, spec: Spec, row: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    version = _new_version(row)
    changes = {**encode(values), "server_version": version}
    if ctx.later is not None and _typed_as_columns(spec.table, changes):
        # The row was read (and locked) by this transaction: the database will hold it with
        # these changes.
        ctx.later.change(spec.table, row["id"], changes)
        fresh = {**row, **decode(changes)}
    else:
        params = {**changes, "row_pk": row["id"]}
        fresh = decode(ctx.conn.execute(_update_returning(spec.table), params).one())
    if ctx.later is not None and spec.table is schema.contacts:
        ctx.later.locked[fresh["id"]] = fresh
    return fresh


@cache
def _update_only(table: Table, columns: frozenset[str]) -> Update:
    """UPDATE of these columns (one statement per set of columns, so that rows changing the
    same columns go together)."""
    return update(table).where(table.c.id == bindparam("row_pk"))


# -- contacts and planned contacts: per-field merge ------------------------------------------------


def _merge(
    ctx: Ctx, spec: Spec, m: Mutation, row: dict[str, Any], values: dict[str, Any], person_id: str
) -> tuple[dict[str, Any], list[str]]:
    """Apply the fields that win; record a conflict where both sides changed a field."""
    field_hlc: dict[str, str] = json.loads(row.get("field_hlc") or "{}")
    meta: dict[str, dict[str, Any]] = json.loads(row.get("field_meta") or "{}")
    version = _new_version(row)
    incoming = Timestamp.parse(ctx.stamp)
    applied: dict[str, Any] = {}
    conflict_ids: list[str] = []
    # A contact's own territory is on its row, read and locked just before.
    territory = row["territory_id"] if spec.table is schema.contacts else _territory(ctx, person_id)
    for key, value in values.items():
        if key == "updated_at":
            continue
        current = row.get(key)
        info = meta.get(key, {})
        theirs = int(info.get("v", 0)) > m.base_version and info.get("d") != ctx.p.device_id
        server_stamp = field_hlc.get(key)
        if not theirs:
            wins = True
        else:
            wins = server_stamp is None or incoming > Timestamp.parse(server_stamp)
        if theirs and _comparable(current) != _comparable(value):
            conflict_ids.append(
                _record_conflict(
                    ctx, spec, row, key, value, current, server_stamp, info, person_id, territory
                )
            )
        if wins and _comparable(current) != _comparable(value):
            applied[key] = value
            stamp = ctx.stamp
            if server_stamp is not None and Timestamp.parse(server_stamp) > incoming:
                stamp = server_stamp
            field_hlc[key] = stamp
            meta[key] = {"v": version, "a": ctx.p.agent_id, "d": ctx.p.device_id}
    if not applied:
        return row, conflict_ids
    if "updated_at" in values:
        applied["updated_at"] = values["updated_at"]
    applied["field_hlc"] = dumps(field_hlc)
    applied["field_meta"] = dumps(meta)
    return _update(ctx, spec, row, applied), conflict_ids


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _record_conflict(
    ctx: Ctx,
    spec: Spec,
    row: dict[str, Any],
    key: str,
    value: Any,
    current: Any,
    server_stamp: str | None,
    info: dict[str, Any],
    person_id: str,
    territory: str | None,
) -> str:
    conflict_id = str(uuid.uuid4())
    conflict = {
        "id": conflict_id,
        "table_name": spec.table.name,
        "row_id": row["id"],
        "field": key,
        "local_value": json.dumps(value, ensure_ascii=False),
        "remote_value": json.dumps(_comparable(current), ensure_ascii=False),
        "local_hlc": ctx.stamp,
        "remote_hlc": server_stamp,
        "local_agent_id": ctx.p.agent_id,
        "remote_agent_id": info.get("a"),
        "created_at": iso_now(),
        "person_id": person_id,
        "server_version": 1,
    }
    ctx.conn.execute(insert(schema.conflicts).values(**conflict))
    ctx.buffer.add(entry_for("conflicts", conflict, territory_id=territory))
    return conflict_id


def _insert_merged(ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]) -> dict[str, Any]:
    stamped = [k for k in values if k not in ("created_at", "updated_at")]
    extra = {
        "field_hlc": dumps({k: ctx.stamp for k in stamped}),
        "field_meta": dumps(
            {k: {"v": 1, "a": ctx.p.agent_id, "d": ctx.p.device_id} for k in stamped}
        ),
    }
    return _insert(ctx, spec, m.row_id, {**values, **extra})


def _contacts(ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]) -> Outcome:
    p = ctx.p
    if p.role == RECEPTION:
        hidden = [k for k, v in values.items() if k not in RECEPTION_CONTACT_FIELDS]
        if any(not is_empty(values[k]) for k in hidden) or (m.op == "delete"):
            raise Reject(
                "Votre rôle ne permet de modifier que l'identité et les coordonnées : refusé."
            )
        values = {k: v for k, v in values.items() if k in RECEPTION_CONTACT_FIELDS}
    if m.op == "insert":
        cleaned = clean(spec, ctx.ref, values)
        _require_insert_fields(spec, cleaned)
        if not p.sees_persons or not p.has_territory(cleaned["territory_id"]):
            raise Reject("Vous ne pouvez créer une fiche que dans vos territoires : refusé.")
        if cleaned["kind"] == "person" and not (
            cleaned.get("family_name") and cleaned.get("given_names")
        ):
            raise Reject("Nom et prénom sont obligatoires pour une personne.")
        cleaned.setdefault("emergency_contacts", [])
        row = _insert_merged(ctx, spec, m, cleaned)
        ctx.territories[row["id"]] = row["territory_id"]
        _territory_history(ctx, row["id"], None, row["territory_id"])
        ctx.buffer.add(entry_for("contacts", row, territory_id=row["territory_id"]))
        return Outcome("applied", row["server_version"])
    row = _existing(ctx, spec, m.row_id)
    if row["deleted"] or not p.sees_persons or not p.has_territory(row["territory_id"]):
        raise Reject(NOT_VISIBLE)
    _seen_version(m, row)
    old_territory = row["territory_id"]
    if m.op == "delete":
        if not p.is_care:
            raise Reject("Votre rôle ne permet pas de supprimer une fiche.")
        fresh = _update(ctx, spec, row, {"deleted": 1})
        ctx.territories[row["id"]] = None
        emit_person_move(ctx.conn, ctx.buffer, fresh, old_territory, None, "deleted")
        for table, column in (
            (schema.consents, "contact_id"),
            (schema.register_enrolments, "person_id"),
            (schema.register_events, "person_id"),
            (schema.planned_contacts, "person_id"),
        ):
            ctx.conn.execute(
                update(table)
                .where(table.c[column] == row["id"], table.c.deleted == 0)
                .values(deleted=1, server_version=table.c.server_version + 1)
            )
        return Outcome("applied", fresh["server_version"])
    _only_updatable(spec, values)
    cleaned = clean(spec, ctx.ref, values)
    if "territory_id" in cleaned and cleaned["territory_id"] is None:
        raise Reject("Territoire : ce champ est obligatoire.")
    fresh, conflicts = _merge(ctx, spec, m, row, cleaned, row["id"])
    new_territory = fresh["territory_id"]
    ctx.territories[row["id"]] = new_territory
    if new_territory != old_territory:
        _territory_history(ctx, row["id"], old_territory, new_territory)
        emit_person_move(ctx.conn, ctx.buffer, fresh, old_territory, new_territory, "revoked")
    elif fresh is not row:
        ctx.buffer.add(entry_for("contacts", fresh, territory_id=new_territory))
    reason = None
    if row.get("archived") and fresh is not row:
        reason = "Fiche archivée : votre modification est conservée et signalée."
    return Outcome(
        "conflict" if conflicts else "applied", fresh["server_version"], conflicts, reason
    )


def _territory_history(ctx: Ctx, person_id: str, old: str | None, new: str) -> None:
    history = schema.territory_history
    at = min(ctx.stamp_ms, ctx.now_ms)
    if old is not None:
        ctx.conn.execute(
            update(history)
            .where(history.c.person_id == person_id, history.c.to_ms.is_(None))
            .values(to_ms=at)
        )
    row = {"person_id": person_id, "territory_id": new, "from_ms": at, "to_ms": None}
    if ctx.later is not None:
        ctx.later.insert(_HISTORY_INSERT, row)
    else:
        ctx.conn.execute(_HISTORY_INSERT, row)


_HISTORY_INSERT = insert(schema.territory_history)


def _assignable(ctx: Ctx, agent_id: str, territory: str) -> None:
    a = schema.agents
    row = ctx.conn.execute(
        select(a.c.role)
        .join(schema.agent_territories, schema.agent_territories.c.agent_id == a.c.id)
        .where(
            a.c.id == agent_id,
            a.c.deleted == 0,
            schema.agent_territories.c.territory_id == territory,
        )
    ).first()
    if row is None or row.role not in ("travailleur-social", COORDINATOR):
        raise Reject("L'agent désigné ne suit pas ce territoire : refusé.")


def _planned(ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]) -> Outcome:
    p = ctx.p
    if m.op == "insert":
        cleaned = clean(spec, ctx.ref, values)
        _require_insert_fields(spec, cleaned)
        territory = _visible_person(ctx, cleaned["person_id"], care=True)
        if cleaned["agent_id"] != p.agent_id:
            _assignable(ctx, cleaned["agent_id"], territory)
        row = _insert_merged(ctx, spec, m, cleaned)
        ctx.buffer.add(entry_for("planned_contacts", row, territory_id=territory))
        return Outcome("applied", row["server_version"])
    row = _existing(ctx, spec, m.row_id)
    if row["deleted"]:
        raise Reject("Ce contact prévu a été supprimé entre-temps : modification non appliquée.")
    territory = _visible_person(ctx, row["person_id"], care=True)
    if p.role != COORDINATOR and row["agent_id"] != p.agent_id:
        raise Reject(NOT_VISIBLE)
    _seen_version(m, row)
    if m.op == "delete":
        fresh = _update(ctx, spec, row, {"deleted": 1})
        ctx.buffer.add(
            entry_for(
                "planned_contacts", fresh, territory_id=territory, op="remove", reason="deleted"
            )
        )
        return Outcome("applied", fresh["server_version"])
    _only_updatable(spec, values)
    cleaned = clean(spec, ctx.ref, values)
    if cleaned.get("agent_id") is not None and cleaned["agent_id"] != row["agent_id"]:
        _assignable(ctx, cleaned["agent_id"], territory)
    if cleaned.get("done_by_visit_id"):
        visit = load_row(ctx.conn, schema.visits, cleaned["done_by_visit_id"])
        if visit is None or visit["person_id"] != row["person_id"]:
            raise Reject("La visite indiquée n'existe pas pour cette personne : refusé.")
    fresh, conflicts = _merge(ctx, spec, m, row, cleaned, row["person_id"])
    if fresh is not row:
        ctx.buffer.add(entry_for("planned_contacts", fresh, territory_id=territory))
        if fresh["agent_id"] != row["agent_id"] and not _is_coordinator_of(
            ctx, row["agent_id"], territory
        ):
            ctx.buffer.add(_target_removal("planned_contacts", row["id"], row["agent_id"]))
    return Outcome("conflict" if conflicts else "applied", fresh["server_version"], conflicts)


def _is_coordinator_of(ctx: Ctx, agent_id: str, territory: str) -> bool:
    a = schema.agents
    return (
        ctx.conn.execute(
            select(a.c.id)
            .join(schema.agent_territories, schema.agent_territories.c.agent_id == a.c.id)
            .where(
                a.c.id == agent_id,
                a.c.role == COORDINATOR,
                schema.agent_territories.c.territory_id == territory,
            )
        ).first()
        is not None
    )


def _target_removal(table: str, row_id: str, agent_id: str) -> Entry:
    return Entry(
        table_name=table,
        row_id=row_id,
        op="remove",
        reason="revoked",
        audience="target",
        scope_agent_ids=[agent_id],
    )


# -- visits: append-only, author revisions ---------------------------------------------------------


def had_access_at(conn: Connection, agent_id: str, person_id: str, at_ms: int) -> bool:
    """Could this agent see this person at that moment (territory histories overlap)?"""
    th, ah = schema.territory_history, schema.agent_territory_history
    query = (
        select(th.c.id)
        .join(ah, ah.c.territory_id == th.c.territory_id)
        .where(
            th.c.person_id == person_id,
            ah.c.agent_id == agent_id,
            th.c.from_ms <= at_ms,
            or_(th.c.to_ms.is_(None), th.c.to_ms > at_ms),
            ah.c.from_ms <= at_ms,
            or_(ah.c.to_ms.is_(None), ah.c.to_ms > at_ms),
        )
        .limit(1)
    )
    return conn.execute(query).first() is not None


def _visits(ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]) -> Outcome:
    p = ctx.p
    if m.op == "delete":
        raise Reject("Une visite ne se supprime pas : corrigez-la (nouvelle révision).")
    if m.op == "insert":
        cleaned = clean(spec, ctx.ref, values)
        _require_insert_fields(spec, cleaned)
        if cleaned["agent_id"] != p.agent_id:
            raise Reject("Une visite ne peut être enregistrée qu'au nom de son auteur : refusé.")
        if not p.is_care:
            raise Reject("Votre rôle ne permet pas d'enregistrer des visites.")
        territory = _territory(ctx, cleaned["person_id"])
        if territory is None:  # an erased person has no row left: the reason, then
            if _is_erased(ctx.conn, "contacts", cleaned["person_id"]):
                raise Reject("Cette personne a été effacée (RGPD) : visite refusée.")
            raise Reject(NOT_VISIBLE)
        sees_now = p.has_territory(territory)
        if not sees_now and not had_access_at(
            ctx.conn, p.agent_id, cleaned["person_id"], ctx.stamp_ms
        ):
            raise Reject(
                "Vous n'aviez pas accès à cette personne quand la visite a été saisie : refusé."
            )
        _check_actions(ctx, cleaned.get("proposed_action_ids") or [])
        cleaned.setdefault("revision", 1)
        row = _insert(ctx, spec, m.row_id, cleaned)
        ctx.buffer.add(entry_for("visits", row, territory_id=territory))
        if not sees_now:
            ctx.buffer.add(_target_removal("visits", row["id"], p.agent_id))
        return Outcome("applied", row["server_version"])
    row = _existing(ctx, spec, m.row_id)
    if row["agent_id"] != p.agent_id:
        raise Reject("Seul l'auteur d'une visite peut la corriger : refusé.")
    territory = _visible_person(ctx, row["person_id"], care=True)
    _seen_version(m, row)
    _only_updatable(spec, values)
    cleaned = clean(spec, ctx.ref, values)
    _check_actions(ctx, cleaned.get("proposed_action_ids") or [])
    revision = cleaned.get("revision") or int(row["revision"]) + 1
    if revision <= int(row["revision"]):
        revision = int(row["revision"]) + 1
    cleaned["revision"] = revision
    fresh = _update(ctx, spec, row, cleaned)
    ctx.buffer.add(entry_for("visits", fresh, territory_id=territory))
    return Outcome("applied", fresh["server_version"])


def _check_actions(ctx: Ctx, action_ids: list[str]) -> None:
    if not action_ids:
        return
    found = ctx.conn.execute(
        select(schema.actions.c.id).where(
            schema.actions.c.id.in_(action_ids), schema.actions.c.deleted == 0
        )
    ).all()
    if len(found) != len(set(action_ids)):
        raise Reject("Une action proposée n'existe pas dans le catalogue : refusé.")


# -- consents, register enrolment ------------------------------------------------------------------


REGISTER_RIGHT_NEEDED = (
    "Votre compte n'a pas accès au registre des personnes vulnérables : demandez ce droit à "
    "votre coordinateur. Cette modification n'a pas été appliquée."
)


def _register_guard(
    ctx: Ctx, spec: Spec, values: dict[str, Any], row: dict[str, Any] | None
) -> None:
    """Register data is written only by agents with the register right."""
    purpose = (row or values).get("purpose") if spec.table.name == "consents" else None
    if (spec.table.name in REGISTER_TABLES or purpose == "registre") and not ctx.p.sees_register:
        raise Reject(REGISTER_RIGHT_NEEDED)


def _register_request_rules(row: dict[str, Any]) -> None:
    """Who asked and how (R121-3), as the desktop checks it: the person or her legal
    representative consent; a third party asks in writing (then the person's non-objection
    stands); a representative or a third party is named."""
    by = row.get("requested_by")
    if by in ("personne", "representant") and row.get("consent_given") != 1:
        raise Reject(
            "Le consentement de la personne ou de son représentant légal est obligatoire "
            "pour l'inscription au registre."
        )
    if by in ("representant", "tiers") and not row.get("requester_name"):
        raise Reject("Nom du demandeur : obligatoire quand un autre que la personne le demande.")
    if by == "tiers" and row.get("written_request") != 1:
        raise Reject("La demande d'un tiers se fait par écrit : inscription refusée.")


def _register_history(ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]) -> Outcome:
    """The register's history: append-only, by agents with the register right."""
    p = ctx.p
    if m.op != "insert":
        raise Reject("L'historique du registre ne se modifie pas : refusé.")
    _register_guard(ctx, spec, values, None)
    cleaned = clean(spec, ctx.ref, values)
    _require_insert_fields(spec, cleaned)
    if cleaned.get("agent_id") not in (None, p.agent_id):
        raise Reject("Une étape du registre est enregistrée au nom de son auteur : refusé.")
    cleaned["agent_id"] = p.agent_id
    territory = _visible_person(ctx, cleaned["person_id"], care=False)
    enrolment = load_row(ctx.conn, schema.register_enrolments, cleaned["enrolment_id"])
    if enrolment is not None and enrolment["person_id"] != cleaned["person_id"]:
        raise Reject("Cette étape ne concerne pas la personne de l'inscription : refusé.")
    row = _insert(ctx, spec, m.row_id, cleaned)
    ctx.buffer.add(entry_for(spec.table.name, row, territory_id=territory))
    return Outcome("applied", row["server_version"])


# -- alert campaigns: call outcomes (append-only events) -------------------------------------------


def _campaign_outcome(ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]) -> Outcome:
    """An outcome of a campaign call: append-only, never in conflict (two agents' outcomes for
    one person are both kept). Accepted from an agent with the register right who holds or
    held the call (a stale device's outcome for a call reassigned since still counts: the
    call happened), or from a coordinator of the person's territory (a paper call sheet,
    ``entered_by``). The campaign must be open, or the call made before it closed."""
    p = ctx.p
    if m.op != "insert":
        raise Reject("Le résultat d'un appel ne se modifie pas (ajoutez-en un autre) : refusé.")
    _register_guard(ctx, spec, values, None)
    cleaned = clean(spec, ctx.ref, values)
    _require_insert_fields(spec, cleaned)
    call = load_row(ctx.conn, schema.campaign_calls, cleaned["call_id"])
    if call is None or call["deleted"]:
        raise Reject("Cet appel n'est sur aucune liste de campagne : résultat refusé.")
    if (call["campaign_id"], call["person_id"]) != (cleaned["campaign_id"], cleaned["person_id"]):
        raise Reject("Ce résultat ne correspond pas à l'appel de la liste : refusé.")
    campaign = load_row(ctx.conn, schema.alert_campaigns, call["campaign_id"])
    if campaign is None or campaign["deleted"]:
        raise Reject("Cette campagne n'existe plus : résultat refusé.")
    closed = campaign.get("closed_on")
    if closed and str(cleaned["called_at"])[:10] > str(closed):
        raise Reject("La campagne était close quand cet appel a été noté : résultat refusé.")
    territory = _territory(ctx, call["person_id"])
    if territory is None:
        raise Reject(NOT_VISIBLE)
    coordinator = p.role == COORDINATOR and p.has_territory(territory)
    refused = campaign_rules.outcome_error(
        str(cleaned["called_whom"]), str(cleaned["outcome"]), coordinator=coordinator
    )
    if refused:
        raise Reject(f"{refused} Refusé.")
    own = cleaned["agent_id"] == p.agent_id and cleaned.get("entered_by") is None
    typed = coordinator and cleaned.get("entered_by") == p.agent_id
    if not (own or typed):
        raise Reject(
            "Un résultat est enregistré au nom de l'agent qui a appelé ; seul un "
            "coordinateur du territoire saisit ceux d'une feuille d'appels papier : refusé."
        )
    h = schema.campaign_call_holders
    held = cleaned["agent_id"] in (call["agent_id"], call.get("previous_agent_id")) or (
        ctx.conn.execute(
            select(h.c.call_id).where(
                h.c.call_id == call["id"], h.c.agent_id == cleaned["agent_id"]
            )
        ).first()
        is not None
    )
    if not held and not coordinator:
        raise Reject("Cet appel ne vous a jamais été attribué : résultat refusé.")
    row = _insert(ctx, spec, m.row_id, cleaned)
    entry = entry_for(spec.table.name, row, territory_id=territory)
    entry.scope_agent_ids = sorted(
        {str(a) for a in (call["agent_id"], call.get("previous_agent_id"), row["agent_id"]) if a}
    )
    ctx.buffer.add(entry)
    return Outcome("applied", row["server_version"])


def _person_records(ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]) -> Outcome:
    p = ctx.p
    column = "contact_id" if spec.table.name == "consents" else "person_id"
    if m.op == "insert":
        _register_guard(ctx, spec, values, None)
        cleaned = clean(spec, ctx.ref, values)
        _require_insert_fields(spec, cleaned)
        territory = _visible_person(ctx, cleaned[column], care=False)
        if spec.table.name == "consents":
            if p.role == RECEPTION and cleaned["purpose"] != "registre":
                raise Reject("Votre rôle ne permet d'enregistrer que le consentement au registre.")
            if cleaned.get("recorded_by_agent_id") not in (None, p.agent_id):
                raise Reject("Un consentement est enregistré au nom de son auteur : refusé.")
            cleaned["recorded_by_agent_id"] = p.agent_id
        else:
            _register_request_rules(cleaned)
            kind = ctx.conn.execute(
                select(schema.contacts.c.kind).where(schema.contacts.c.id == cleaned[column])
            ).scalar()
            if kind != "person":
                raise Reject("Seule une personne peut être inscrite au registre.")
        row = _insert(ctx, spec, m.row_id, cleaned)
        ctx.buffer.add(entry_for(spec.table.name, row, territory_id=territory))
        return Outcome("applied", row["server_version"])
    row = _existing(ctx, spec, m.row_id)
    _register_guard(ctx, spec, values, row)
    territory = _visible_person(ctx, row[column], care=False)
    if row["deleted"]:
        raise Reject("Cette ligne a été supprimée entre-temps : modification non appliquée.")
    if p.role == RECEPTION and spec.table.name == "consents" and row["purpose"] != "registre":
        raise Reject(NOT_VISIBLE)
    _seen_version(m, row)
    if m.op == "delete":
        if not p.is_care:
            raise Reject("Votre rôle ne permet pas cette suppression.")
        fresh = _update(ctx, spec, row, {"deleted": 1})
        ctx.buffer.add(
            entry_for(spec.table.name, fresh, territory_id=territory, op="remove", reason="deleted")
        )
        return Outcome("applied", fresh["server_version"])
    _only_updatable(spec, values)
    fresh = _update(ctx, spec, row, clean(spec, ctx.ref, values))
    ctx.buffer.add(entry_for(spec.table.name, fresh, territory_id=territory))
    return Outcome("applied", fresh["server_version"])


# -- append-only and up-only -----------------------------------------------------------------------


def _handouts(ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]) -> Outcome:
    p = ctx.p
    if m.op != "insert":
        raise Reject("Une remise de document ne se modifie pas : refusé.")
    cleaned = clean(spec, ctx.ref, values)
    _require_insert_fields(spec, cleaned)
    if cleaned["agent_id"] != p.agent_id:
        raise Reject("Une remise est enregistrée au nom de son auteur : refusé.")
    if cleaned.get("person_id"):
        territory: str | None = _visible_person(ctx, cleaned["person_id"], care=False)
    else:
        territory = cleaned.get("territory_id")
        if territory is not None and not p.has_territory(territory):
            raise Reject("Territoire hors de votre périmètre : refusé.")
    _check_actions(ctx, cleaned.get("action_ids") or [])
    row = _insert(ctx, spec, m.row_id, cleaned)
    ctx.buffer.add(entry_for("handouts_given", row, territory_id=territory))
    return Outcome("applied", row["server_version"])


def _up_only(ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]) -> Outcome:
    p = ctx.p
    if m.op != "insert":
        raise Reject("Cette ligne ne se modifie pas après envoi : refusé.")
    cleaned = clean(spec, ctx.ref, values)
    _require_insert_fields(spec, cleaned)
    if cleaned.get("agent_id") not in (None, p.agent_id):
        raise Reject("Une ligne est enregistrée au nom de son auteur : refusé.")
    if spec.table.name == "audit_log":
        cleaned["agent_id"] = p.agent_id
        detail = cleaned.get("detail") or {}
        if not audit.detail_is_coded(detail):
            raise Reject(audit.FREE_TEXT_REFUSED)
        cleaned["detail"] = dumps(detail)
        if load_row(ctx.conn, spec.table, m.row_id) is not None:
            raise Reject("Identifiant déjà utilisé : refusé.")
        audit.append(
            ctx.conn,
            {"id": m.row_id, **cleaned, "device_id": p.device_id, "received_at_ms": ctx.now_ms},
        )
        return Outcome("applied", 1)
    if not p.has_territory(cleaned["territory_id"]):
        raise Reject("Territoire hors de votre périmètre : refusé.")
    row = _insert(ctx, spec, m.row_id, cleaned)
    return Outcome("applied", row["server_version"])


# -- catalogue (server-authoritative) and evaluations ----------------------------------------------


def _catalogue(ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]) -> Outcome:
    if ctx.p.role not in CATALOGUE_ROLES:
        raise Reject("Le catalogue est géré par les coordinateurs et les administrateurs : refusé.")
    row = load_row(ctx.conn, spec.table, m.row_id, for_update=True)
    if row is not None:
        _seen_version(m, row)
    cleaned = clean(spec, ctx.ref, values)
    # A coordinator changes the catalogue of her territories only (as through the API).
    for territories in (
        territories_of(ctx.conn, spec.table.name, row),
        territories_of(ctx.conn, spec.table.name, {**(row or {}), **cleaned}),
    ):
        refused = territory_problem(ctx.p, territories) if (row or territories) else None
        if refused:
            raise Reject(f"{refused} Refusé.")
    facility = cleaned.get("facility_id") if spec.table.name == "actions" else None
    if facility and load_row(ctx.conn, schema.facilities, facility) is None:
        raise Reject("Le lieu indiqué n'existe pas : refusé.")
    if m.op == "delete":
        if row is None or row["deleted"]:
            raise Reject(NOT_VISIBLE)
        fresh = _update(ctx, spec, row, {"deleted": 1})
        ctx.buffer.add(
            entry_for(spec.table.name, fresh, territory_id=None, op="remove", reason="deleted")
        )
        return Outcome("applied", fresh["server_version"])
    cleaned.setdefault("updated_at", iso_now())
    if row is None:
        if m.op != "insert":
            raise Reject(NOT_VISIBLE)
        _require_insert_fields(spec, cleaned)
        fresh = _insert(ctx, spec, m.row_id, cleaned)
    else:
        fresh = _update(ctx, spec, row, {**cleaned, "deleted": 0})
    ctx.buffer.add(entry_for(spec.table.name, fresh, territory_id=None))
    return Outcome("applied", fresh["server_version"])


def _evaluations(ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]) -> Outcome:
    p = ctx.p
    if p.role not in CATALOGUE_ROLES:
        raise Reject("Les évaluations sont saisies par les coordinateurs : refusé.")
    if m.op == "insert":
        cleaned = clean(spec, ctx.ref, values)
        _require_insert_fields(spec, cleaned)
        if cleaned.get("author_agent_id") not in (None, p.agent_id):
            raise Reject("Une évaluation est enregistrée au nom de son auteur : refusé.")
        cleaned["author_agent_id"] = p.agent_id
        cleaned.setdefault("updated_at", iso_now())
        action = load_row(ctx.conn, schema.actions, cleaned["action_id"])
        if action is None:
            raise Reject("L'action évaluée n'existe pas : refusé.")
        # The territories concerned are the action's, as the server knows them now.
        cleaned["territory_ids"] = list(action.get("territory_ids") or [])
        row = _insert(ctx, spec, m.row_id, cleaned)
        ctx.buffer.add(evaluation_entry(ctx.conn, row))
        return Outcome("applied", row["server_version"])
    row = _existing(ctx, spec, m.row_id)
    if row["author_agent_id"] != p.agent_id:
        raise Reject("Seul l'auteur d'une évaluation peut la corriger : refusé.")
    if m.op == "delete":
        raise Reject("Une évaluation ne se supprime pas : corrigez-la.")
    _seen_version(m, row)
    _only_updatable(spec, values)
    changes = clean(spec, ctx.ref, values)
    changes.pop("territory_ids", None)  # set by the server from the action, never by a device
    fresh = _update(ctx, spec, row, changes)
    ctx.buffer.add(evaluation_entry(ctx.conn, fresh))
    return Outcome("applied", fresh["server_version"])


def _resolution(ctx: Ctx, spec: Spec, m: Mutation, values: dict[str, Any]) -> Outcome:
    p = ctx.p
    if m.op != "update":
        raise Reject("Un conflit se résout, il ne se crée ni ne se supprime : refusé.")
    row = _existing(ctx, spec, m.row_id)
    territory = _territory(ctx, row.get("person_id"))
    involved = {row.get("local_agent_id"), row.get("remote_agent_id")}
    if not p.has_territory(territory) or not (
        p.role == COORDINATOR or (p.sees_persons and p.agent_id in involved)
    ):
        raise Reject(NOT_VISIBLE)
    _seen_version(m, row)
    _only_updatable(spec, values)
    fresh = _update(ctx, spec, row, clean(spec, ctx.ref, values))
    ctx.buffer.add(entry_for("conflicts", fresh, territory_id=territory))
    return Outcome("applied", fresh["server_version"])


Handler = Callable[[Ctx, Spec, Mutation, dict[str, Any]], Outcome]
HANDLERS: dict[str, Handler] = {
    "contacts": _contacts,
    "planned_contacts": _planned,
    "visits": _visits,
    "consents": _person_records,
    "register_enrolments": _person_records,
    "register_events": _register_history,
    "campaign_outcomes": _campaign_outcome,
    "handouts_given": _handouts,
    "reception_encounters": _up_only,
    "audit_log": _up_only,
    "facilities": _catalogue,
    "actions": _catalogue,
    "temporary_changes": _catalogue,
    "action_evaluations": _evaluations,
    "conflicts": _resolution,
}

__all__ = ["had_access_at", "push"]
