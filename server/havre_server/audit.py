"""The server's audit log: append-only and hash-chained.

Every entry the server stores — pushed by a device (who opened, printed or exported which file)
or written by the server itself (device revoked, person erased…) — goes through
:func:`append`, the only code that writes ``audit_log``; nothing updates or deletes its rows
(erasure included: entries name a file by its id, never by its content — a pushed entry whose
detail holds free text is refused — so nothing personal has to be taken out of them).

The database refuses it too (Alembic 0004: triggers on ``UPDATE``, ``DELETE`` and, on
PostgreSQL, ``TRUNCATE``), so a bug cannot rewrite history; someone with the database's rights
can remove that guard, and the chain shows what they did next. (SQLite: a later revision that
rebuilds ``audit_log`` through a table copy must create the guard again.)

The chain: entries are numbered 1, 2, 3… (``chain_seq``, unique, no gap); each stores the hash of
the previous one (``prev_hash``, 64 zeros for the first) and its own, ``entry_hash`` = SHA-256
of the canonical JSON (UTF-8, keys sorted, no spaces) of every other column of the entry
(:data:`HASHED`) and ``prev_hash``. Changing a column of an entry breaks its hash; deleting an
entry leaves a gap in the numbering (or, renumbered, a ``prev_hash`` that no longer follows);
rewriting one entry's hash breaks the next entry's link. :func:`verify` walks the chain
(``havre-server audit-verify``) and names the first broken link.

What the chain alone cannot show: entries removed from the end, or a chain recomputed from some
point by someone with write access to the database. ``audit-verify`` prints the head (number
and hash): noted elsewhere (an operations log, the backup notes), a later verification shows
the chain still holds it.

PostgreSQL: appends take a transaction-level advisory lock (released at commit), so two
transactions cannot both extend the same head; SQLite's ``BEGIN IMMEDIATE`` already
serialises writers. The unique index on ``chain_seq`` refuses a fork in any case.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, insert, or_, select, text

from havre_common import contract
from havre_common.french import count
from havre_common.protocol import AuditEntryOut, AuditPage
from havre_server import schema
from havre_server.db import is_postgres
from havre_server.errors import forbidden
from havre_server.scope import ADMINISTRATOR, COORDINATOR, Principal

GENESIS = "0" * 64
AUDIT_LOCK_KEY = 0x4A5544  # pg_advisory_xact_lock key of the audit chain ("AUD")
CHAIN_COLUMNS = ("prev_hash", "entry_hash")
HASHED: tuple[str, ...] = tuple(
    name
    for name in (*contract.AUDIT_LOG.names, *contract.AUDIT_LOG.server_columns)
    if name not in CHAIN_COLUMNS
)
"""The columns an entry's hash covers: all of them but the hashes themselves."""


_CODE = re.compile(r"[A-Za-z0-9:_.-]{1,100}")
FREE_TEXT_REFUSED = (
    "Le détail d'une entrée d'audit ne contient que des identifiants, des codes et des "
    "nombres (jamais de texte libre) : refusé."
)


def detail_is_coded(detail: Mapping[str, Any]) -> bool:
    """Whether an entry's detail holds only ids, codes, numbers and booleans: no free text,
    so no name or note can enter the audit (it is never changed, erasure included)."""
    return all(
        _CODE.fullmatch(key) is not None
        and (
            value is None
            or isinstance(value, bool | int)
            or (isinstance(value, str) and _CODE.fullmatch(value) is not None)
        )
        for key, value in detail.items()
    )


def canonical(entry: Mapping[str, Any], prev_hash: str) -> bytes:
    """The bytes hashed for one entry: canonical JSON of its columns and the previous hash."""
    payload = {name: entry.get(name) for name in HASHED}
    payload["prev_hash"] = prev_hash
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode(
        "utf-8"
    )


def entry_hash(entry: Mapping[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical(entry, prev_hash)).hexdigest()


def append(conn: Connection, values: Mapping[str, Any]) -> None:
    """Add one entry at the head of the chain (in the caller's transaction)."""
    unknown = set(values) - set(HASHED)
    if unknown:
        raise ValueError(f"not audit columns: {sorted(unknown)}")
    if is_postgres(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY})
    log = schema.audit_log
    head = conn.execute(
        select(log.c.chain_seq, log.c.entry_hash).order_by(log.c.chain_seq.desc()).limit(1)
    ).first()
    entry: dict[str, Any] = {name: values.get(name) for name in HASHED}
    entry["chain_seq"] = 1 if head is None else int(head.chain_seq) + 1
    prev = GENESIS if head is None else str(head.entry_hash)
    conn.execute(insert(log).values(**entry, prev_hash=prev, entry_hash=entry_hash(entry, prev)))


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` found: the entries checked, the head, the first broken link."""

    entries: int
    head_seq: int
    head_hash: str
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None

    def message(self) -> str:
        if self.problem is not None:
            return f"Journal d'audit altéré : {self.problem}"
        if not self.entries:
            return "Journal d'audit vide."
        return (
            "Journal d'audit intègre : "
            + count(self.entries, "{n} entrée chaînée", "{n} entrées chaînées")
            + " ; "
            f"tête n° {self.head_seq}, empreinte {self.head_hash}."
        )


def _rows(engine: Engine, batch: int = 1000) -> Iterator[dict[str, Any]]:
    log = schema.audit_log
    after = 0
    while True:
        with engine.connect() as conn:
            rows = conn.execute(
                select(log).where(log.c.chain_seq > after).order_by(log.c.chain_seq).limit(batch)
            ).all()
        if not rows:
            return
        for row in rows:
            yield dict(row._mapping)
        after = int(rows[-1].chain_seq)


def verify(engine: Engine) -> Verification:
    """Walk the chain from its first entry; stop at the first broken link."""
    expected, prev, count = 1, GENESIS, 0
    for row in _rows(engine):
        seq, name = int(row["chain_seq"]), f"n° {row['chain_seq']} (id {row['id']})"
        if seq != expected:
            missing = f"n° {expected}" if seq == expected + 1 else f"n° {expected} à {seq - 1}"
            return Verification(
                count,
                expected - 1,
                prev,
                f"entrée {missing} manquante (supprimée ?) : la chaîne reprend à l'entrée {name}.",
            )
        if row["prev_hash"] != prev:
            return Verification(
                count,
                seq - 1,
                prev,
                f"l'entrée {name} ne suit plus l'entrée précédente (empreinte précédente "
                "différente : une entrée a été supprimée, insérée ou réécrite avant elle).",
            )
        if entry_hash(row, prev) != row["entry_hash"]:
            return Verification(
                count,
                seq - 1,
                prev,
                f"l'entrée {name} a été modifiée : son contenu ne correspond plus à son empreinte.",
            )
        expected, prev, count = seq + 1, str(row["entry_hash"]), count + 1
    return Verification(count, expected - 1, prev)


# -- reading it (the coordinators' audit viewer) --------------------------------------------------


@dataclass(frozen=True)
class Filters:
    entity_id: str | None = None
    agent_id: str | None = None
    event: str | None = None
    since: str | None = None  # ISO date or timestamp, inclusive
    until: str | None = None  # ISO date (the whole day) or timestamp, inclusive
    before: int | None = None  # chain_seq: older entries only (paging)
    limit: int = 200


def list_entries(engine: Engine, actor: Principal | None, filters: Filters) -> AuditPage:
    """Entries newest first. Administrators see every entry; a coordinator those about a
    person or an agent of one of their territories, and those written by an agent of one of
    them (but not about an agent of other territories)."""
    if actor is not None and actor.role not in (ADMINISTRATOR, COORDINATOR):
        raise forbidden()
    log, agents = schema.audit_log, schema.agents
    query = select(log, agents.c.display_name.label("agent_name")).outerjoin(
        agents, agents.c.id == log.c.agent_id
    )
    if actor is not None and actor.role == COORDINATOR:
        mine = sorted(actor.territories)
        colleagues = select(schema.agent_territories.c.agent_id).where(
            schema.agent_territories.c.territory_id.in_(mine)
        )
        persons = select(schema.contacts.c.id).where(schema.contacts.c.territory_id.in_(mine))
        about_agents = log.c.entity == "agents"
        query = query.where(
            or_(
                # What the agents of her territories did (but an entry about an agent —
                # created, changed, disabled, new password — only if that agent is hers).
                and_(or_(log.c.entity.is_(None), ~about_agents), log.c.agent_id.in_(colleagues)),
                and_(log.c.entity == "contacts", log.c.entity_id.in_(persons)),
                and_(about_agents, log.c.entity_id.in_(colleagues)),
            )
        )
    for column, value in (
        (log.c.entity_id, filters.entity_id),
        (log.c.agent_id, filters.agent_id),
        (log.c.event, filters.event),
    ):
        if value:
            query = query.where(column == value)
    if filters.since:
        query = query.where(log.c.at >= filters.since)
    if filters.until:
        bound = filters.until + ("T99" if len(filters.until) == 10 else "")
        query = query.where(log.c.at <= bound)
    if filters.before is not None:
        query = query.where(log.c.chain_seq < filters.before)
    limit = max(1, min(filters.limit, 500))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(log.c.chain_seq.desc()).limit(limit + 1)).all()
    more = len(rows) > limit
    entries = [
        AuditEntryOut(
            id=r.id,
            seq=r.chain_seq,
            at=r.at,
            agent_id=r.agent_id,
            agent_name=r.agent_name,
            device_id=r.device_id,
            event=r.event,
            entity=r.entity,
            entity_id=r.entity_id,
            detail=json.loads(r.detail or "{}"),
        )
        for r in rows[:limit]
    ]
    return AuditPage(entries=entries, next_before=entries[-1].seq if more else None)
