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

Test-only settings (environment, read by :func:`ordering_from_env`; never set in production):
``HAVRE_SERVER_TEST_UNSAFE_SEQ=1`` switches the lock off, and
``HAVRE_SERVER_TEST_COMMIT_DELAY_MS=N`` waits a random 0–N ms between taking seq values and
committing (commits then finish in random order), so that a test can show a skipped change
without the protection and none with it.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select, text

from havre_server.db import dumps, is_postgres
from havre_server.schema import change_log

ADVISORY_LOCK_KEY = 7423002
UNSAFE_ENV = "HAVRE_SERVER_TEST_UNSAFE_SEQ"
DELAY_ENV = "HAVRE_SERVER_TEST_COMMIT_DELAY_MS"


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


def flush(conn: Connection, buffer: ChangeBuffer, ordering: Ordering) -> list[int]:
    """Write the buffered entries (last statement before commit); returns their seq values."""
    if not buffer.entries:
        return []
    if is_postgres(conn) and ordering.protected:
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
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
    result = conn.execute(
        change_log.insert().returning(change_log.c.seq, sort_by_parameter_order=True), rows
    )
    seqs = [int(r[0]) for r in result]
    buffer.entries.clear()
    if ordering.commit_delay_ms:
        time.sleep(random.uniform(0, ordering.commit_delay_ms) / 1000)
    return seqs


def head_seq(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(change_log.c.seq), 0))).scalar_one())
