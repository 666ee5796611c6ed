"""One instance per profile, with real separate processes of `python -m havre_desktop`.

A second start on an open profile asks the first to bring its window forward and exits 0;
another profile is not blocked; after the first is SIGKILLed its lock is stale and taken over.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyrings.alt.file import PlaintextKeyring
from PySide6.QtCore import QTimer
from PySide6.QtNetwork import QLocalServer
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from havre_desktop.app import READY_LINE
from havre_desktop.core import applock, keys
from havre_desktop.ui.instance import (
    ALREADY_OPEN_LINE,
    LOCK_NAME,
    InstanceGuard,
    server_name,
)
from tests.helpers import PROJECT_ROOT, new_workspace, start_child

START_TIMEOUT = 120  # seconds: two processes share 2 cores with other test runs


@pytest.fixture
def child_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of the app's processes: a file keyring (tests only) both this test
    and the children read, offscreen Qt. The sockets go to the usual temp folder (pytest's
    tmp_path is too long for a Unix socket path); their names differ per profile folder."""
    monkeypatch.setenv(keys.INSECURE_KEYRING_ENV, "1")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    env = dict(os.environ)
    env.update({"QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(PROJECT_ROOT)})
    for name in ("HAVRE_EXIT_WHEN_READY", "HAVRE_SAY_WHEN_READY", "HAVRE_EXIT_AFTER_START"):
        env.pop(name, None)
    return env


def make_profile(root: Path) -> Path:
    """A profile the app opens with no dialog: key in the file keyring, agent and lock code."""
    ws, _manager, _recovery = new_workspace(root, PlaintextKeyring())
    applock.set_pin(ws, "482913")
    ws.store.close()
    return root


def run_app(root: Path, env: dict[str, str], **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "havre_desktop", "--profile", str(root)],
        cwd=PROJECT_ROOT,
        env={**env, **extra},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=START_TIMEOUT,
        check=False,
    )


@pytest.fixture
def first_instance(
    tmp_path: Path, child_env: dict[str, str]
) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """The app running on a profile, its window shown (it said so on stdout)."""
    root = make_profile(tmp_path / "profil-a")
    child = start_child(
        "havre_desktop",
        "--profile",
        str(root),
        env={**child_env, "HAVRE_SAY_WHEN_READY": "1"},
        stderr=subprocess.DEVNULL,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # blocks until the window is up (or the child died)
        assert line.strip() == READY_LINE, f"first instance ended: {child.poll()}"
        yield root, child
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=30)  # reaps it and closes the pipes
        QLocalServer.removeServer(server_name(root))  # a killed child leaves its socket file


def test_a_second_start_on_the_same_profile_raises_the_first_window_and_exits_0(
    first_instance: tuple[Path, subprocess.Popen[str]], child_env: dict[str, str]
) -> None:
    root, first = first_instance
    lock = root / LOCK_NAME
    assert lock.exists()
    assert stat.S_IMODE(lock.stat().st_mode) == 0o600  # owner-only

    second = run_app(root, child_env, HAVRE_EXIT_WHEN_READY="1")

    assert second.returncode == 0, second.stderr
    assert READY_LINE not in second.stdout  # no second window was opened
    assert ALREADY_OPEN_LINE in second.stderr
    # The second exits once the first answered, and the first logs before answering.
    log_text = (root / "logs" / "havre.log").read_text("utf-8")
    assert "a second start on this profile asked to raise the window" in log_text
    assert first.poll() is None  # the first carries on


def test_another_profile_is_not_blocked_by_an_open_one(
    tmp_path: Path,
    first_instance: tuple[Path, subprocess.Popen[str]],
    child_env: dict[str, str],
) -> None:
    other = make_profile(tmp_path / "profil-b")
    started = run_app(other, child_env, HAVRE_EXIT_WHEN_READY="1")
    assert started.returncode == 0, started.stderr
    assert READY_LINE in started.stdout
    assert not (other / LOCK_NAME).exists()  # released when its window closed


def test_the_lock_of_a_killed_instance_is_taken_over(
    first_instance: tuple[Path, subprocess.Popen[str]], child_env: dict[str, str]
) -> None:
    root, first = first_instance
    first.kill()  # SIGKILL: no clean-up, the lock file and the socket stay behind
    first.communicate(timeout=30)
    assert (root / LOCK_NAME).exists()

    again = run_app(root, child_env, HAVRE_EXIT_WHEN_READY="1")

    assert again.returncode == 0, again.stderr
    assert READY_LINE in again.stdout  # it opened the window
    assert ALREADY_OPEN_LINE not in again.stderr


# The offscreen platform has no window stacking and says so; raise() is still called.
@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_the_raise_request_brings_a_minimised_window_back(
    tmp_path: Path, qtbot: QtBot, child_env: dict[str, str]
) -> None:
    """The first instance here is this test (its lock, its server, a minimised window); the
    second is a real `python -m havre_desktop` process on the same profile folder."""
    root = tmp_path / "profil"
    root.mkdir()
    guard = InstanceGuard(root)
    assert guard.acquire()
    window = QWidget()
    qtbot.addWidget(window)
    window.setWindowTitle("Havre Ensemble")
    guard.window = window
    window.showMinimized()
    assert window.isMinimized()
    with qtbot.waitSignal(guard.raise_requested, timeout=START_TIMEOUT * 1000):
        second = start_child(
            "havre_desktop", "--profile", str(root), env=child_env, stderr=subprocess.PIPE
        )
    _out, err = second.communicate(timeout=START_TIMEOUT)
    assert second.returncode == 0, err
    assert ALREADY_OPEN_LINE in err
    assert window.isVisible() and not window.isMinimized()
    guard.release()
    assert not (root / LOCK_NAME).exists()


@pytest.mark.qt_log_ignore("This plugin does not support raise")
def test_a_second_start_waits_for_a_first_one_not_yet_listening(
    tmp_path: Path, qtbot: QtBot, child_env: dict[str, str]
) -> None:
    """The first start holds the lock but listens only once its first screen is painted: a
    second start arriving before asks again until it is answered, then exits 0."""
    root = tmp_path / "profil"
    root.mkdir()
    guard = InstanceGuard(root)
    assert guard.acquire(listen=False)
    assert guard.server is None
    window = QWidget()
    qtbot.addWidget(window)
    guard.window = window
    with qtbot.waitSignal(guard.raise_requested, timeout=START_TIMEOUT * 1000):
        second = start_child(
            "havre_desktop", "--profile", str(root), env=child_env, stderr=subprocess.PIPE
        )
        QTimer.singleShot(1500, guard.listen)  # the first screen of the first start, later
    _out, err = second.communicate(timeout=START_TIMEOUT)
    assert second.returncode == 0, err
    assert ALREADY_OPEN_LINE in err
    guard.release()


def test_the_server_name_is_per_profile_and_reveals_no_path(tmp_path: Path) -> None:
    a, b = server_name(tmp_path / "profil-a"), server_name(tmp_path / "profil-b")
    assert a != b
    assert a == server_name(tmp_path / "profil-a" / ".." / "profil-a")
    assert "profil" not in a and str(tmp_path) not in a
