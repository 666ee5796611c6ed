"""Encrypted backup of a server in use, restored on a fresh database, devices syncing after.

A device that synced before the backup carries on from its cursor; a device that synced after
it holds a cursor the restored log never reached: it downloads everything again, even once the
restored server has written more entries than were lost (their numbers would otherwise reach
its cursor and be skipped). Both then hold exactly the restored server's view.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path

import pytest

from tests.server.support import (
    PASSWORD,
    PostgresCluster,
    ServerProcess,
    World,
    make_server,
    new_person,
)
from tests.sync import scenario_helpers
from tests.sync.faults import FaultyTransport
from tests.sync.support import Laptop, RoundRobin, differences

PASSPHRASE = "une phrase de passe de test assez longue"
ENV = {"HAVRE_SERVER_BACKUP_PASSPHRASE": PASSPHRASE}


def _database(backend: str, request: pytest.FixtureRequest, path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{path}"
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return cluster.new_database()


def _laptop(root: Path, world: World, ports: list[int]) -> Laptop:
    """A desktop profile whose server address follows ``ports`` (the City's DNS name)."""
    laptop = Laptop(root, "travailleur-social", ["nord"])
    laptop.engine.http_wrap = lambda inner: FaultyTransport(RoundRobin(inner, ports), laptop.plan)
    laptop.sign_in(world, world.create_agent("travailleur-social", ["nord"]))
    return laptop


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_restored_backup_serves_devices_behind_and_ahead_of_it(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    before = make_server(backend, _database(backend, request, tmp_path / "a.db"), tmp_path, ENV)
    before.start("--min-client-version", "0.1.0")
    address = [before.port]
    world = World(before)
    laptops: list[Laptop] = []
    try:
        behind = _laptop(tmp_path / "behind", world, address)
        ahead = _laptop(tmp_path / "ahead", world, address)
        laptops += [behind, ahead]
        scenario_helpers.new_person(ahead)
        ahead.sync()
        behind.sync()

        # Online: another agent keeps pushing while the backup runs.
        writer = world.agent("travailleur-social", ["nord"])
        pushed = threading.Event()
        stop = threading.Event()

        def keep_writing() -> None:
            while not stop.is_set():
                new_person(writer)
                pushed.set()

        thread = threading.Thread(target=keep_writing)
        thread.start()
        try:
            pushed.wait(30)
            saved = tmp_path / "sauvegarde.havre"
            said = before.cli("backup", str(saved))
        finally:
            stop.set()
            thread.join(60)
        assert "Sauvegarde chiffrée écrite" in said
        backup_head = int(said.rsplit("journal jusqu'à ", 1)[1].split(")")[0])

        # After the backup: the ahead device syncs on (its cursor passes the backup's head).
        person_after = scenario_helpers.new_person(ahead)
        ahead.sync()
        lost = int(str(ahead.cursor())) - backup_head
        assert lost > 0
    finally:
        world.close()
        before.stop()

    after = ServerProcess(
        backend, _database(backend, request, tmp_path / "b.db"), before.env, tmp_path / "after"
    )
    after.workdir.mkdir()
    said = after.cli("restore", str(saved))
    assert "restaurée" in said and "téléchargeront tout à nouveau" in said
    again = after.cli("restore", str(saved), check=False)
    assert "La base cible n'est pas vide" in again
    after.start("--min-client-version", "0.1.0")
    address[:] = [after.port]  # the devices' server address now leads to the restored one
    world = World(after)
    try:
        # The restored server writes more entries than were lost after the backup.
        writer = world.sign_in(writer.login, PASSWORD)
        written = {new_person(writer) for _ in range(lost + 3)}

        report = behind.sync()
        assert not report.full_download and report.resets == 0
        assert written <= {row["id"] for row in behind.ws.store.query("SELECT id FROM contacts")}

        report = ahead.sync()
        assert report.full_download, "a cursor beyond the restored log must re-download"
        assert not ahead.has("contacts", person_after)  # not on the restored server
        for laptop in laptops:
            assert laptop.outbox() == []
            assert differences(laptop, world) == []
    finally:
        world.close()
        after.stop()
        for laptop in laptops:
            laptop.close()


def test_a_backup_is_encrypted_and_a_wrong_key_or_a_damaged_file_restores_nothing(
    tmp_path: Path,
) -> None:
    source = make_server("sqlite", f"sqlite:///{tmp_path / 'source.db'}", tmp_path / "s", ENV)
    saved = tmp_path / "sauvegarde.havre"
    assert "Sauvegarde chiffrée écrite" in source.cli("backup", str(saved))
    data = saved.read_bytes()
    assert data.startswith(b"HAVREBK1")
    assert b"Administration centrale" not in data and b"CREATE TABLE" not in data

    def restore(file: Path, env: dict[str, str] | None = None) -> tuple[str, Path]:
        target = tmp_path / f"cible-{uuid.uuid4().hex[:6]}.db"
        url = f"sqlite:///{target}"
        process = ServerProcess("sqlite", url, {**source.env, **(env or {})}, tmp_path)
        return process.cli("restore", str(file), check=False), target

    def tables(target: Path) -> int:
        with sqlite3.connect(target) as conn:
            return int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])

    wrong = {"HAVRE_SERVER_BACKUP_PASSPHRASE": "une autre phrase de passe"}
    damaged = tmp_path / "abimee.havre"
    damaged.write_bytes(data[:-40] + bytes([data[-40] ^ 1]) + data[-39:])
    cut = tmp_path / "coupee.havre"
    cut.write_bytes(data[: len(data) // 2])
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("rien", "utf-8")
    for file, env, message in [
        (not_a_backup, None, "n'est pas une sauvegarde Havre Ensemble"),
        (saved, wrong, "Phrase de passe incorrecte, ou sauvegarde altérée"),
        (damaged, None, "sauvegarde altérée"),
        (cut, None, "incomplète"),
    ]:
        said, target = restore(file, env)
        assert message in said and "Traceback" not in said
        assert tables(target) == 0  # nothing restored from a file that fails its checks

    nowhere = source.cli("backup", str(tmp_path / "absent" / "x.havre"), check=False)
    assert f"Dossier de la sauvegarde introuvable : {tmp_path / 'absent'}" in nowhere
    no_key = {k: v for k, v in source.env.items() if "BACKUP_PASSPHRASE" not in k}
    unkeyed = ServerProcess("sqlite", source.database_url, no_key, tmp_path)
    refused = unkeyed.cli("backup", str(tmp_path / "x.havre"), check=False)
    assert "Phrase de passe des sauvegardes absente" in refused
    assert not (tmp_path / "x.havre").exists()

    said, target = restore(saved)
    assert "restaurée" in said and tables(target) > 0
