"""Test configuration: data folders redirected to tmp, offscreen Qt, fast Argon2."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from havre_desktop.core import keys
from havre_desktop.core.workspace import Workspace
from tests.helpers import MemoryKeyring, new_workspace


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test touches the real profile folder; Argon2 made cheap (its cost is not under test)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("HAVRE_PROFILE", raising=False)
    monkeypatch.setattr(keys, "ARGON2_TIME_COST", 1)
    monkeypatch.setattr(keys, "ARGON2_MEMORY_KIB", 8 * 1024)


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def workspace(tmp_path: Path, memory_keyring: MemoryKeyring) -> Iterator[Workspace]:
    ws, _manager, _recovery = new_workspace(tmp_path / "profile", memory_keyring)
    yield ws
    ws.store.close()


INSTALLER_ENV = "HAVRE_BUILD_INSTALLER"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`installer` tests build the desktop bundle: run only with HAVRE_BUILD_INSTALLER=1.

    Otherwise they are deselected (counted as such in the summary), not skipped.
    """
    if os.environ.get(INSTALLER_ENV) == "1":
        return
    dropped = [item for item in items if item.get_closest_marker("installer")]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not item.get_closest_marker("installer")]
