"""A desktop that stayed away longer than the change log is kept (sync.md, Policies: a device
behind the floor re-downloads): real encrypted profiles, a real server process of its own (the
compaction concerns the whole log), ``HAVRE_SYNC_BACKEND`` as for the other sync tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from havre_desktop.core import contacts
from havre_desktop.sync.engine import SyncProgress
from tests.server.support import (
    PostgresCluster,
    ServerProcess,
    World,
    make_server,
    now_ms,
    started,
)
from tests.sync.scenario_helpers import delete_row, new_person
from tests.sync.support import Laptop, differences

DAY_MS = 24 * 3600 * 1000


@pytest.fixture
def own_world(tmp_path: Path) -> Iterator[World]:
    backend = os.environ.get("HAVRE_SYNC_BACKEND", "sqlite")
    cluster: PostgresCluster | None = None
    if backend == "postgresql":
        cluster = PostgresCluster()
        cluster.start()
        url = cluster.new_database()
    else:
        url = f"sqlite:///{tmp_path / 'havre-server.db'}"
    try:
        server = make_server(backend, url, tmp_path / "server")
        with started(server, "--min-client-version", "0.1.0"):
            world = World(server)
            try:
                yield world
            finally:
                world.close()
    finally:
        if cluster is not None:
            cluster.stop()


def _laptop(tmp_path: Path, world: World, name: str) -> Laptop:
    laptop = Laptop(tmp_path / name, "travailleur-social", ["nord"])
    laptop.sign_in(world, world.create_agent("travailleur-social", ["nord"]))
    return laptop


def _not_seen_for(server: ServerProcess, device_id: str, days: int) -> None:
    then = now_ms() - days * DAY_MS
    server.sql("UPDATE devices SET last_seen_at_ms = :t WHERE device_id = :d", t=then, d=device_id)
    server.sql(
        "UPDATE device_pull_state SET seen_at_ms = :t WHERE device_pk IN"
        " (SELECT id FROM devices WHERE device_id = :d)",
        t=then,
        d=device_id,
    )


def _floor(server: ServerProcess) -> int:
    return int(server.sql("SELECT value FROM sync_state WHERE key = 'log_floor'")[0][0])


def test_a_laptop_behind_the_floor_downloads_again_and_keeps_its_edits(
    own_world: World, tmp_path: Path
) -> None:
    world, server = own_world, own_world.server
    behind, colleague = _laptop(tmp_path, world, "behind"), _laptop(tmp_path, world, "colleague")
    try:
        person_id = new_person(colleague)
        colleague.sync()
        behind.sync()
        cursor = behind.cursor()
        assert cursor is not None and cursor.isdigit()
        # Away for weeks: one edit waits in the outbox; the colleague goes on working.
        contacts.update(behind.ws, person_id, {"city": "Harfleur"})
        for phone in ("02 35 10 20 30", "02 35 10 20 31", "02 35 10 20 32"):
            contacts.update(colleague.ws, person_id, {"phone_1": phone})
            colleague.sync()
        leaving = new_person(colleague, family_name="Partie")
        colleague.sync()
        delete_row(colleague, "contacts", leaving)
        colleague.sync()
        _not_seen_for(server, behind.ws.device_id, 31)
        server.cli("compact-log")
        assert _floor(server) > int(cursor)

        # The sync asks for a full download (the small pages let the agent type meanwhile: the
        # sync runs beside the window) and keeps whatever is waiting in the outbox.
        behind.engine.pull_limit = 20
        typed: list[str] = []

        def type_during_download(progress: SyncProgress) -> None:
            if progress.phase == "réception" and not typed:
                contacts.update(behind.ws, person_id, {"access_notes": "Code porte 1234"})
                typed.append("access_notes")

        report = behind.engine.sync(type_during_download)
        assert report.resets == 1 and report.full_download
        assert typed and [e["row_id"] for e in behind.outbox()] == [person_id]
        row = behind.row("contacts", person_id)
        assert row is not None
        assert (row["city"], row["phone_1"]) == ("Harfleur", "02 35 10 20 32")
        assert row["access_notes"] == "Code porte 1234"  # not overwritten by the download
        assert not behind.has("contacts", leaving)
        assert server.sql("SELECT city FROM contacts WHERE id = :i", i=person_id)[0][0] == (
            "Harfleur"
        )

        assert behind.sync().resets == 0
        colleague.sync()
        assert behind.outbox() == []
        (stored,) = server.sql(
            "SELECT city, phone_1, access_notes FROM contacts WHERE id = :i", i=person_id
        )
        assert tuple(stored) == ("Harfleur", "02 35 10 20 32", "Code porte 1234")
        for laptop in (behind, colleague):
            assert differences(laptop, world) == []
    finally:
        behind.close()
        colleague.close()
