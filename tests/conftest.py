"""Test configuration: data folders redirected to tmp, offscreen Qt, fast Argon2."""

from __future__ import annotations

import os
import sys
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


_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """Leave without the interpreter's final garbage collection once everything is reported.

    With PySide6 6.12 on Python 3.11, collecting the Qt wrappers that pytest-qt keeps
    until the end aborts the process at shutdown ("Fatal Python error: bool_dealloc"),
    after every test has run and been reported. Ending here keeps the run's real exit
    status. Remove when a PySide6 release no longer does it (check with
    `pytest tests/ui; echo $?`).
    """
    if "PySide6" in sys.modules and _exit_status:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[0])
