"""Upgrade: a database and an enrolled desktop made by the previous release of the server, then
this release started on the same database; the desktop syncs on from its cursor, without a full
download, and its unsent edits are applied.

The previous release is installed from this repository's history (``PREVIOUS_RELEASE``, the
server as deployed before this release) into a virtual environment of its own. Its schema
revision is read from the database it made; this release migrates it at start (Alembic). Bump
``PREVIOUS_RELEASE`` at each release: a new revision is then checked here against the
databases the deployed server makes, devices' cursors included. A revision that must make
devices download everything once (0003 did, documented in its docstring) fails this test, on
purpose: say so and move ``PREVIOUS_RELEASE`` past it.
"""

from __future__ import annotations

import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from havre_desktop.core import contacts
from havre_server.migrations import head
from tests.helpers import person_values
from tests.server.support import (
    REPO,
    SERVER_BIN,
    PostgresCluster,
    World,
    install_server,
    make_server,
    new_person,
)
from tests.sync.scenario_helpers import log_visit
from tests.sync.support import Laptop, differences

PREVIOUS_RELEASE = "b309e29"  # main before the server-operations work (schema revision 0003)


@pytest.fixture(scope="module")
def previous_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("previous-release")
    archive = root / "source.tar"
    made = subprocess.run(
        [
            "git",
            "-C",
            str(REPO),
            "archive",
            "-o",
            str(archive),
            PREVIOUS_RELEASE,
            "common",
            "server",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, (
        f"previous release {PREVIOUS_RELEASE} not in history: {made.stderr}"
    )
    with tarfile.open(archive) as tar:
        tar.extractall(root / "source", filter="data")
    yield install_server(root / "venv", root / "source")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_device_syncs_on_after_the_server_is_upgraded(
    previous_server: Path, backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'server.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        url = cluster.new_database()
    server = make_server(backend, url, tmp_path / "server", binary=previous_server)
    server.start("--min-client-version", "0.1.0")
    world = World(server)
    laptop = Laptop(tmp_path / "laptop", "travailleur-social", ["nord"])
    try:
        laptop.sign_in(world, world.create_agent("travailleur-social", ["nord"]))
        person = str(contacts.create_person(laptop.ws, person_values(territory_id="nord"))["id"])
        assert laptop.sync().full_download
        colleague = world.agent("travailleur-social", ["nord"])
        # Unsent edits, made while the old server still runs, sent after the upgrade.
        contacts.update(laptop.ws, person, {"access_notes": "Code 4521, 3e étage"})
        visit = log_visit(laptop, person)
        assert len(laptop.outbox()) == 2
        before = str(server.sql("SELECT version_num FROM alembic_version")[0][0])
        cursor = laptop.cursor()
    finally:
        world.close()
        server.stop()

    server.binary = SERVER_BIN  # the new release, on the same database and port
    server.restart()
    world = World(server)
    try:
        after = str(server.sql("SELECT version_num FROM alembic_version")[0][0])
        assert before <= after == head()
        theirs = new_person(world.sign_in(colleague.login), "nord")  # written after the upgrade
        report = laptop.sync()
        assert not report.full_download and report.resets == 0, (before, after, cursor)
        assert (report.pushed, report.rejected) == (2, 0)
        assert laptop.outbox() == []
        assert laptop.has("contacts", theirs) and laptop.has("visits", visit)
        assert differences(laptop, world) == []
    finally:
        world.close()
        server.stop()
        laptop.close()
