"""The append-only change log that pulls read, and its ordering protection.

Every write collects its log entries in a :class:`ChangeBuffer` and :func:`flush` writes them
at the very end of the transaction, just before commit.

**Ordering (the PostgreSQL trap).** ``seq`` comes from a sequence; two concurrent transactions
can take 11 and 12 and commit 12 first. A puller that reads "everything after 10" at that moment
gets 12, moves its cursor to 12 and never sees 11. On PostgreSQL, :func:`flush` therefore takes
a *transaction-level* advisory lock (``pg_advisory_xact_lock``) before taking sequence values;
the lock is released by the commit, so seq values become visible in seq order and every pull sees
a gap-free prefix. The lock is held only for the final inserts and the commit, not while the
push is applied. SQLite needs nothing: ``BEGIN IMMEDIATE`` already serialises writers.

**Compaction** (:func:`compact`, run periodically by ``havre-server serve`` and by
``havre-server compact-log``). History stays on the server, but not forever: an entry goes once
every active device has passed it. *Active*: not revoked and seen (signed in, pushed or pulled)
in the last ``active_days`` days (``HAVRE_SERVER_ACTIVE_DEVICE_DAYS``, 30 by default, the
lifetime of a token). The floor is the lowest position (``device_pull_state.cursor_seq``) of the
active devices; entries at or below it are removed and ``log_floor`` is raised to it, so that a
device coming back from further behind gets ``reset_required`` and downloads everything again
(its outbox is kept by the client). Entries superseded by a later entry about the same row for
the same readers (same audience, territory and agents) are removed wherever they are: that
later entry, a whole row or a removal, tells every one of those readers all they need. The
entry at the head is always kept: SQLite hands out ``max(seq) + 1`` as the next seq, and a
reused seq would be skipped by a device whose cursor is already there.

**Restore** (:func:`open_restore_gap`, run by ``havre-server restore``). A restored database
holds the log up to the backup's head ``R``; devices that pulled later hold cursors above ``R``
that name entries the restored server never had, and would skip the entries it writes next
under the same numbers. So the next seq after a restore is ``R + RESTORE_GAP + 1`` (a marker
entry no one may see holds ``R + RESTORE_GAP`` on SQLite; PostgreSQL's sequence is moved too),
and ``(R, R + RESTORE_GAP)`` is recorded in ``sync_state``: a cursor inside answers
``reset_required`` (pull.py), whatever the head has become since.

Test-only settings (environment, read by :func:`ordering_from_env`; never set in production):
``HAVRE_SERVER_TEST_UNSAFE_SEQ=1`` switches the lock off, and
``HAVRE_SERVER_TEST_COMMIT_DELAY_MS=N`` waits a random 0–N ms between taking seq values and
committing (commits then finish in random order), so that a test can show a skipped change
without the protection and none with it.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, exists, func, or_, select, text

from havre_server.db import dumps, get_state, is_postgres, set_state
from havre_server.schema import change_log, device_pull_state, devices

log = logging.getLogger("havre.server.changelog")

ADVISORY_LOCK_KEY = 7423002
UNSAFE_ENV = "HAVRE_SERVER_TEST_UNSAFE_SEQ"
DELAY_ENV = "HAVRE_SERVER_TEST_COMMIT_DELAY_MS"
ACTIVE_DAYS_ENV = "HAVRE_SERVER_ACTIVE_DEVICE_DAYS"
DEFAULT_ACTIVE_DAYS = 30
DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class Ordering:
    protected: bool = True
    commit_delay_ms: int = 0


def ordering_from_env() -> Ordering:
    return Ordering(
        protected=os.environ.get(UNSAFE_ENV, "") != "1",
        commit_delay_ms=int(os.environ.get(DELAY_ENV, "0") or 0),
    )


@dataclass
class Entry:
    table_name: str
    row_id: str
    op: str  # upsert | remove
    audience: str
    reason: str | None = None
    fields: dict[str, Any] | None = None
    field_hlc: dict[str, str] | None = None
    server_version: int = 0
    territory_id: str | None = None
    scope_agent_ids: list[str] | None = None
    person_id: str | None = None
    hlc: str | None = None
    original_hlc: str | None = None
    author_agent_id: str | None = None
    device_id: str | None = None
    mutation_id: str | None = None


@dataclass
class ChangeBuffer:
    entries: list[Entry] = field(default_factory=list)

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def extend(self, other: ChangeBuffer) -> None:
        self.entries.extend(other.entries)


def flush(
    conn: Connection, buffer: ChangeBuffer, ordering: Ordering, *, seqs: bool = True
) -> list[int]:
    """Write the buffered entries (last statement before commit); returns their seq values,
    or nothing with ``seqs=False``: the rows then go as one prepared statement run for each
    (psycopg: in a pipeline, one round trip) instead of one statement with a VALUES list of
    every row, which psycopg parses afresh each time (12 ms for 50 rows: too long to cache)."""
    if not buffer.entries:
        return []
    now = int(time.time() * 1000)
    rows = [
        {
            "table_name": e.table_name,
            "row_id": e.row_id,
            "op": e.op,
            "reason": e.reason,
            "fields": None if e.fields is None else dumps(e.fields),
            "field_hlc": None if e.field_hlc is None else dumps(e.field_hlc),
            "server_version": e.server_version,
            "hlc": e.hlc,
            "original_hlc": e.original_hlc,
            "author_agent_id": e.author_agent_id,
            "device_id": e.device_id,
            "mutation_id": e.mutation_id,
            "audience": e.audience,
            "territory_id": e.territory_id,
            "scope_agent_ids": None if e.scope_agent_ids is None else dumps(e.scope_agent_ids),
            "person_id": e.person_id,
            "created_at_ms": now,
        }
        for e in buffer.entries
    ]
    # The rows are made before the lock: every other writer waits while it is held.
    if is_postgres(conn) and ordering.protected:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    written: list[int] = []
    if seqs:
        result = conn.execute(
            change_log.insert().returning(change_log.c.seq, sort_by_parameter_order=True), rows
        )
        written = [int(r[0]) for r in result]
    else:
        conn.execute(change_log.insert(), rows)
    buffer.entries.clear()
    if ordering.commit_delay_ms:
        time.sleep(random.uniform(0, ordering.commit_delay_ms) / 1000)
    return written


def head_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(change_log.c.seq), 0))).scalar_one())


# -- compaction -----------------------------------------------------------------------------------


def active_days_from_env() -> int:
    return int(os.environ.get(ACTIVE_DAYS_ENV, str(DEFAULT_ACTIVE_DAYS)) or DEFAULT_ACTIVE_DAYS)


@dataclass(frozen=True)
class Compaction:
    floor: int
    head: int
    active_devices: int
    superseded: int
    below_floor: int


def log_floor_for(conn: Connection, head: int, now_ms: int, active_days: int) -> tuple[int, int]:
    """(lowest position of the active devices, or the head when none; how many are active)."""
    d, s = devices, device_pull_state
    seen = func.coalesce(s.c.seen_at_ms, 0)
    since = now_ms - active_days * DAY_MS
    row = conn.execute(
        select(func.min(s.c.cursor_seq), func.count())
        .select_from(d.join(s, s.c.device_pk == d.c.id))
        .where(
            d.c.revoked_at_ms.is_(None),
            or_(d.c.last_seen_at_ms >= since, seen >= since),
        )
    ).one()
    lowest, count = row
    return (head if lowest is None else min(int(lowest), head)), int(count)


def compact(engine: Engine, active_days: int, now_ms: int | None = None) -> Compaction:
    """Remove the entries every active device has passed, and superseded ones (see above)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    with engine.begin() as conn:
        if is_postgres(conn):
            # Writers commit their entries under this lock: once held, every seq up to the
            # head is committed, and no entry is written while this runs.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        head = head_seq(conn)
        lowest, active = log_floor_for(conn, head, now, active_days)
        floor = max(lowest, int(get_state(conn, "log_floor", "0")))
        later = change_log.alias("later")
        superseded = conn.execute(
            delete(change_log).where(
                exists().where(
                    later.c.table_name == change_log.c.table_name,
                    later.c.row_id == change_log.c.row_id,
                    later.c.seq > change_log.c.seq,
                    later.c.audience == change_log.c.audience,
                    later.c.territory_id.is_not_distinct_from(change_log.c.territory_id),
                    later.c.scope_agent_ids.is_not_distinct_from(change_log.c.scope_agent_ids),
                )
            )
        ).rowcount
        below = conn.execute(
            delete(change_log).where(and_(change_log.c.seq <= floor, change_log.c.seq < head))
        ).rowcount
        set_state(conn, "log_floor", str(floor))
    result = Compaction(floor, head, active, int(superseded or 0), int(below or 0))
    log.info(
        "change log compacted floor=%d head=%d active_devices=%d superseded=%d below_floor=%d",
        result.floor,
        result.head,
        result.active_devices,
        result.superseded,
        result.below_floor,
    )
    return result


# -- restore --------------------------------------------------------------------------------------

RESTORE_GAP = 10**12
"""Seq values skipped after a restore: more than a server writes in its life (the cursors of
the lost entries all fall inside the gap). Cursors have at most 18 digits: a million restores."""
VOID_RANGES_KEY = "void_seq_ranges"


def void_ranges(conn: Connection) -> list[tuple[int, int]]:
    """The gaps opened by restores: a cursor strictly inside one was handed out by a server
    whose later history was lost."""
    return [
        (int(low), int(high)) for low, high in json.loads(get_state(conn, VOID_RANGES_KEY, "[]"))
    ]


def open_restore_gap(conn: Connection) -> tuple[int, int]:
    """After a restore: new entries start beyond a gap no lost cursor can reach (see above).
    Returns (the restored head, the first seq of the gap's end marker)."""
    if is_postgres(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
    head = head_seq(conn)
    marker = head + RESTORE_GAP
    conn.execute(
        change_log.insert().values(
            seq=marker,
            table_name="sync_state",
            row_id="restore",
            op="marker",
            audience="nobody",  # entry_visible(): seen by no one
            created_at_ms=int(time.time() * 1000),
        )
    )
    if is_postgres(conn):
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('change_log', 'seq'), :v)"), {"v": marker}
        )
    ranges = void_ranges(conn)
    ranges.append((head, marker))
    set_state(conn, VOID_RANGES_KEY, json.dumps(ranges))
    log.info("restore gap opened restored_head=%d next_seq=%d", head, marker + 1)
    return head, marker
