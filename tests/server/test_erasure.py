"""Erasure (RGPD) leaves no byte of the person in the server's database: not in any table (old
log entries, refusal reasons, conflicts…) and, on SQLite, not in the files either — free space
and the write-ahead log included."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, text

from havre_common.protocol import API_PREFIX
from havre_server.changelog import compact
from havre_server.db import make_engine
from tests.server.history import edit, fake_name, fake_phone
from tests.server.support import (
    Replica,
    ServerProcess,
    World,
    new_person,
    new_visit,
)


def _rows_holding(server: ServerProcess, needles: list[str]) -> list[str]:
    """``table: value`` for every stored row (any table) that contains one of the needles."""
    found: list[str] = []
    with server.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                values = " ".join(str(v) for v in row)
                found += [f"{table}: {n}" for n in needles if n in values]
    return found


def _files_holding(server: ServerProcess, needles: list[str]) -> list[str]:
    """The SQLite files (database, -wal, -shm) whose raw bytes contain one of the needles."""
    path = Path(server.database_url.removeprefix("sqlite:///"))
    found: list[str] = []
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists():
            data = file.read_bytes()
            found += [f"{file.name}: {n}" for n in needles if n.encode("utf-8") in data]
    return found


def _compact_as_most_sqlite_builds_would(server: ServerProcess) -> None:
    """The server's compaction, on SQLite with ``secure_delete`` off (the default of most
    builds, Python's for Windows included; Debian's has it on): deleted bytes stay in free
    space. Then a checkpoint, as SQLite does by itself every 1,000 pages."""
    if server.backend != "sqlite":
        server.cli("compact-log")
        return
    engine = make_engine(server.database_url)

    @event.listens_for(engine, "connect")
    def _plain_sqlite(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA secure_delete = OFF")

    try:
        assert compact(engine, active_days=30).superseded > 0
        raw = engine.raw_connection()  # a checkpoint runs outside any transaction
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
    finally:
        engine.dispose()


def test_erasure_leaves_no_byte_of_her_in_the_database(world: World) -> None:
    server = world.server
    worker = world.agent("travailleur-social", ["centre-ouest"])
    colleague = world.agent("travailleur-social", ["centre-ouest"])
    name, phones = fake_name(), [fake_phone() for _ in range(4)]
    person_id = new_person(worker, "centre-ouest", family_name=name, phone_1=phones[0])
    # Her file lives: edits (every version in the log), a conflict keeping both values, a visit,
    # a follow-up, and a refused edit whose reason quotes what was typed.
    version = edit(worker, "contacts", person_id, 1, phone_1=phones[1])
    version = edit(worker, "contacts", person_id, version, phone_1=phones[2])
    clash = colleague.push(
        colleague.mutation("contacts", person_id, "update", {"phone_1": phones[3]}, 1)
    )[0]
    assert clash["status"] == "conflict", clash
    new_visit(worker, person_id, notes=f"Visite chez Mme {name}.")
    planned_id = str(uuid.uuid4())
    planned = worker.push(
        worker.mutation(
            "planned_contacts",
            planned_id,
            "insert",
            {
                "person_id": person_id,
                "agent_id": worker.agent_id,
                "due_on": "2026-12-01",
                "kind": "appel",
                "reason": f"Rappeler Mme {name}",
                "updated_at": "2026-11-20T10:00:00Z",
            },
        )
    )[0]
    assert planned["status"] == "applied", planned
    refused = worker.push(
        worker.mutation("contacts", person_id, "update", {"mobility": name}, version)
    )[0]
    assert refused["status"] == "rejected" and name in refused["reason"]
    Replica(colleague).sync()
    # The periodic compaction removes the log entries of her older versions, and SQLite copies
    # its write-ahead log into the database file by itself every 1,000 pages: both done here.
    _compact_as_most_sqlite_builds_would(server)
    needles = [name, *phones]
    assert _rows_holding(server, needles)  # she is there before

    response = world.client.post(
        f"{API_PREFIX}/admin/persons/{person_id}/erase",
        json={"reason": "demande-personne"},
        headers=world.admin.headers(),
    )
    assert response.status_code == 200, response.text

    assert _rows_holding(server, needles) == []
    if server.backend == "sqlite":
        assert _files_holding(server, needles) == []
    # What stays: ids, so that she cannot come back through a late push, and the audit entry.
    assert server.sql("SELECT count(*) FROM erased_rows WHERE row_id = :i", i=person_id)[0][0]
    late = worker.push(
        worker.mutation("contacts", person_id, "update", {"city": "Harfleur"}, version)
    )[0]
    assert late["status"] == "rejected" and "effacée" in late["reason"]
