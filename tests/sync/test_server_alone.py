"""The server installs and runs without the desktop: a fresh virtual environment with only the
shared contract (common/) and the server (server/), no PySide6, no SQLCipher, no reportlab;
``havre-server init`` and ``serve`` from it, and a real desktop profile syncing against it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from havre_desktop.core import contacts
from tests.helpers import person_values
from tests.server.support import ServerProcess, World, install_server, make_server, started
from tests.sync.support import Laptop

DESKTOP_ONLY = {"pyside6", "pyside6-essentials", "shiboken6", "sqlcipher3", "reportlab"}


@pytest.fixture(scope="module")
def server_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("server-only") / "venv"
    install_server(venv)
    return venv


@pytest.fixture
def lone_server(server_venv: Path, tmp_path: Path) -> Iterator[ServerProcess]:
    process = make_server(
        "sqlite",
        f"sqlite:///{tmp_path / 'lone.db'}",
        tmp_path / "server",
        binary=server_venv / "bin" / "havre-server",
    )
    with started(process, "--min-client-version", "0.1.0"):
        yield process


def test_the_server_venv_holds_nothing_of_the_desktop(server_venv: Path) -> None:
    listed = subprocess.run(
        [str(server_venv / "bin" / "pip"), "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installed = {line.split("==")[0].lower() for line in listed.splitlines() if "==" in line}
    assert {"havre-ensemble-server", "havre-ensemble-common", "fastapi"} <= installed
    assert installed & DESKTOP_ONLY == set()
    assert "havre-desktop" not in installed
    probe = subprocess.run(
        [
            str(server_venv / "bin" / "python"),
            "-c",
            "import havre_server.app, havre_server.cli, sys;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'havre_desktop', 'PySide6', 'sqlcipher3', 'reportlab'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=server_venv,  # not the repository: nothing importable by accident
    )
    assert probe.stdout.strip() == "[]"


def test_a_desktop_syncs_with_the_server_installed_alone(
    lone_server: ServerProcess, tmp_path: Path
) -> None:
    world = World(lone_server)
    laptop = Laptop(tmp_path / "laptop", "travailleur-social", ["nord"])
    try:
        laptop.sign_in(world, world.create_agent("travailleur-social", ["nord"]))
        person = contacts.create_person(laptop.ws, person_values(family_name="Serveurseul"))
        report = laptop.sync()
        assert report.pushed == 1
        rows = lone_server.sql("SELECT family_name FROM contacts WHERE id = :id", id=person["id"])
        assert rows == [("Serveurseul",)]
        # Subject access without reportlab: the JSON file, and a word on the missing PDF.
        out = lone_server.cli("subject-access", person["id"], "--out", str(tmp_path / "acces"))
        assert "PDF non produit : reportlab n'est pas installé" in out
        assert [p.name for p in (tmp_path / "acces").iterdir()] == [f"acces-{person['id']}.json"]
    finally:
        laptop.close()
        world.close()
