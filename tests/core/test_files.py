"""Files replaced whole (core/files.py): owner-only, durable, and old or new after a crash."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from havre_desktop.core.files import replace_file, write_file
from havre_desktop.core.keys import KeySlots
from havre_desktop.core.profile import ProfileManager
from tests.helpers import MemoryKeyring, start_child

CHILD_TIMEOUT_S = 60
OLD = [{"kind": "old"}]
NEW = [{"kind": "new"}]  # what tests/core/atomic_writer.py writes


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The usual umask, under which a plain open() makes files readable by everyone (0644)."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or "tmp" in p.name)


def test_profile_files_are_owner_only_and_nothing_is_left_beside_them(
    tmp_path: Path, memory_keyring: MemoryKeyring, usual_umask: None
) -> None:
    manager = ProfileManager(tmp_path, memory_keyring)
    manager.create().store.close()
    manager.slots.write([*manager.slots.read(), {"kind": "ajout"}])  # a rewrite, not a creation
    assert _mode(tmp_path / "keyslots.json") == 0o600
    assert _mode(tmp_path / "profile.json") == 0o600
    assert _leftovers(tmp_path) == []


def test_a_file_readable_by_others_becomes_owner_only_when_replaced(
    tmp_path: Path, usual_umask: None
) -> None:
    path = tmp_path / "keyslots.json"
    path.write_text("{}", "utf-8")
    path.chmod(0o644)
    KeySlots(path).write(NEW)
    assert _mode(path) == 0o600 and KeySlots(path).read() == NEW


def test_a_document_the_user_saves_follows_the_umask(tmp_path: Path, usual_umask: None) -> None:
    path = tmp_path / "lettre.pdf"
    write_file(path, b"%PDF-1.4", private=False)
    assert _mode(path) == 0o644 and path.read_bytes() == b"%PDF-1.4"
    assert _leftovers(tmp_path) == []


def test_a_cancelled_or_failed_write_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    write_file(path, b"ancien")

    def cancelled(handle: IO[bytes]) -> bool:
        handle.write(b"moiti")
        return False

    def failing(handle: IO[bytes]) -> bool:
        handle.write(b"moiti")
        raise OSError("disque plein")

    assert replace_file(path, cancelled) is False
    with pytest.raises(OSError, match="disque plein"):
        replace_file(path, failing)
    assert path.read_bytes() == b"ancien"
    assert _leftovers(tmp_path) == []


def _child(path: Path, step: str) -> subprocess.Popen[str]:
    return start_child("tests.core.atomic_writer", str(path), step)


def test_the_data_is_on_disk_before_the_rename_and_the_rename_after(tmp_path: Path) -> None:
    """Without the file's fsync before the rename, a power cut can leave an empty file under
    the name; without the folder's fsync after it, the rename itself can be lost."""
    path = tmp_path / "keyslots.json"
    KeySlots(path).write(OLD)
    with _child(path, "trace") as proc:
        out, err = proc.communicate(timeout=CHILD_TIMEOUT_S)
    assert proc.returncode == 0, err
    assert out.split() == ["STEPS", "write", "fsync", "replace", "fsync"]


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("write:1", OLD),
        ("fsync:1", OLD),
        ("replace:1", OLD),
        ("replace:1:after", NEW),
        ("fsync:2", NEW),
    ],
)
def test_a_crash_at_any_step_leaves_the_old_or_the_new_file_whole(
    tmp_path: Path, step: str, expected: list[dict[str, str]]
) -> None:
    path = tmp_path / "keyslots.json"
    KeySlots(path).write(OLD)
    with _child(path, step) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        try:
            reached = proc.stdout.readline().strip()  # the child waits at the step
        finally:
            proc.send_signal(signal.SIGKILL)  # no-op if the child already exited
            proc.wait(CHILD_TIMEOUT_S)
        assert reached == f"AT {step}", proc.stderr.read()
    assert proc.returncode == -signal.SIGKILL
    assert KeySlots(path).read() == expected
    assert _mode(path) == 0o600
