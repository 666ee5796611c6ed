"""Shared test helpers: test keyrings (in memory, in a file), ready-made profiles on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from havre_desktop.core import agents
from havre_desktop.core.clock import Clock, FixedClock
from havre_desktop.core.files import write_file
from havre_desktop.core.profile import ProfileManager
from havre_desktop.core.workspace import Workspace

# "Today" for tests that need a fixed date: a Wednesday in Le Havre.
TEST_NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps secrets in a dict (unit tests only)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.secrets[(service, username)]
        except KeyError:
            raise PasswordDeleteError("absent") from None


class FileKeyring(MemoryKeyring):
    """A test keyring whose secrets live in one owner-only JSON file, read at every call and
    replaced whole at every change: a child process started by a test (tests/sync/sync_child.py)
    opens the same profile with the same key and token, and what one process deletes (a wiped
    device's token) the other no longer finds, as with the system's keyring. Tests only."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._load()

    def _load(self) -> None:
        if self.path.exists():
            entries = json.loads(self.path.read_text("utf-8"))
            self.secrets = {(service, user): secret for service, user, secret in entries}
        else:
            self.secrets = {}

    def _save(self) -> None:
        entries = [[service, user, secret] for (service, user), secret in self.secrets.items()]
        write_file(self.path, json.dumps(entries).encode("utf-8"))

    def get_password(self, service: str, username: str) -> str | None:
        self._load()
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self._load()
        super().set_password(service, username, password)
        self._save()

    def delete_password(self, service: str, username: str) -> None:
        self._load()
        super().delete_password(service, username)
        self._save()


def new_workspace(
    root: Path,
    keyring: KeyringBackend | None = None,
    *,
    role: str = "travailleur-social",
    territories: list[str] | None = None,
    now: datetime = TEST_NOW,
    clock: Clock | None = None,
    name: str = "Agent Fictif",
) -> tuple[Workspace, ProfileManager, str]:
    """A fresh encrypted profile with its agent; returns (workspace, manager, recovery).
    Its clock is fixed at `now` unless another `clock` is given (the real one: Clock())."""
    manager = ProfileManager(root, keyring or MemoryKeyring())
    created = manager.create()
    ws = Workspace(created.store, clock=clock or FixedClock(now))
    agents.create_owner(
        ws,
        {
            "display_name": name,
            "role": role,
            "territory_ids": territories or ["nord"],
            "work_phone": "02 61 91 00 01",
        },
    )
    return ws, manager, created.recovery_passphrase


def person_values(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "family_name": "Lefèvre",
        "given_names": "Jeanne",
        "birth_date": "12/03/1939",
        "territory_id": "nord",
        "address_line": "14 rue de la Mare-Rouge",
        "postcode": "76620",
        "phone_1": "02 61 91 12 34",
        "lives_alone": True,
        "mobility": "deambulateur",
    }
    values.update(overrides)
    return values


PROJECT_ROOT = Path(__file__).resolve().parents[1]


def start_child(
    module: str,
    *args: str,
    env: dict[str, str] | None = None,
    stderr: IO[str] | int = subprocess.PIPE,
) -> subprocess.Popen[str]:
    """Start `python -m module` from the project's root, as a real separate process (the tests
    that SIGKILL a writer or a sync need one); pipes for stdin and stdout, text in UTF-8."""
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), child_env.get("PYTHONPATH", "")) if p
    )
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=PROJECT_ROOT,
        env=child_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        encoding="utf-8",
    )
