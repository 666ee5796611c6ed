"""The database key in the real Secret Service (gnome-keyring under dbus-run-session)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from havre_desktop import KEYRING_SERVICE
from havre_desktop.core.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _in_keyring_session(tmp_path: Path, command: str) -> subprocess.CompletedProcess[str]:
    """Run `command` in a private D-Bus session with an unlocked gnome-keyring."""
    script = (
        "set -e\n"
        # A (test-only) password creates and unlocks a fresh 'login' keyring in $HOME;
        # an empty one leaves no default collection and keyring would need a prompt.
        "printf 'mot-de-passe-de-test' | "
        "gnome-keyring-daemon --unlock --replace --components=secrets >/dev/null\n"
        f"{command}\n"
    )
    env = dict(os.environ)
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "home" / ".local" / "share")
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        ["dbus-run-session", "--", "bash", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.secret_service
def test_key_is_stored_in_and_read_back_from_the_secret_service(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    child = f"{shlex.quote(sys.executable)} -m tests.core.secret_service_child {profile}"
    lookup = (
        "pid=$(python3 -c \"import json,sys;print(json.load(open(sys.argv[1]))['profile_id'])\" "
        f"{profile}/profile.json)\n"
        f'secret-tool lookup service {KEYRING_SERVICE} username "$pid" > {tmp_path}/key.txt'
    )
    result = _in_keyring_session(tmp_path, f"{child} > {tmp_path}/child.json\n{lookup}")
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "child.json").read_text())
    assert report["backend"] == "keyring.backends.SecretService.Keyring"
    assert report["remembered_backend"] == report["backend"]  # reopened through it
    assert report["state_after_restart"] == "keyring"
    assert report["persons"] == 1
    # The app's start reads the key on a thread from the Secret Service, then opens with it.
    assert report["read_ahead_backend"] == report["backend"]
    assert (report["read_ahead_state"], report["read_ahead_persons"]) == ("keyring", 1)
    key_hex = (tmp_path / "key.txt").read_text().strip()
    key = bytes.fromhex(key_hex)
    assert len(key) == 32
    # What secret-tool read back really is the key of the database.
    store = Store.open(profile / "havre.db", key)
    assert store.scalar("SELECT family_name FROM contacts") == "Trousseau"
    store.close()
    assert key_hex not in "".join(
        p.read_text(errors="ignore") for p in profile.rglob("*") if p.is_file()
    )


def _session_steps(tmp_path: Path, steps: list[str]) -> list[dict[str, object]]:
    """Run each step of tests/core/secret_service_reader_child.py in turn, in one private
    D-Bus session with gnome-keyring; the JSON line each printed."""
    child = f"{shlex.quote(sys.executable)} -m tests.core.secret_service_reader_child"
    lines = [f"{child} {step} > {tmp_path}/step{n}.json" for n, step in enumerate(steps)]
    result = _in_keyring_session(tmp_path, "\n".join(lines))
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads((tmp_path / f"step{n}.json").read_text()) for n in range(len(steps))]


@pytest.mark.secret_service
def test_the_key_is_read_without_keyring_then_a_missing_item_is_said(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    forget = (
        "pid=$(python3 -c \"import json,sys;print(json.load(open(sys.argv[1]))['profile_id'])\" "
        f"{profile}/profile.json); secret-tool clear service {KEYRING_SERVICE} username $pid; "
        "echo '{}'"
    )
    steps = _session_steps(tmp_path, [f"create {profile}", f"start {profile}"])
    created, started = steps
    assert started["lookup"] == "found"
    assert started["backend_class"] == "SecretServiceKeyring"
    # Named as keyring's backend: profile.json does not change between the two readers.
    assert started["backend"] == "keyring.backends.SecretService.Keyring"
    assert started["remembered_backend"] == started["backend"]
    assert started["keyring_imported_by_read_ahead"] is False
    assert (started["state"], started["persons"]) == ("keyring", 1)

    # The item is gone from the keyring: the recovery dialog says so, the database is intact.
    result = _in_keyring_session(
        tmp_path,
        f"{forget} > /dev/null\n{shlex.quote(sys.executable)} -m "
        f"tests.core.secret_service_reader_child start {profile} > {tmp_path}/gone.json",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    gone = json.loads((tmp_path / "gone.json").read_text())
    assert gone["lookup"] == "not-found"
    assert gone["lookup_message"] == (
        "La clé de ce profil n'est pas dans le trousseau par défaut du système."
    )
    assert gone["keyring_imported_by_read_ahead"] is False
    assert gone["state"] == "key-missing"
    assert "n'est plus dans le trousseau du système" in str(gone["message"])
    assert "phrase de récupération" in str(gone["message"])
    assert gone["digest"] == created["digest"]


@pytest.mark.secret_service
def test_a_key_in_another_collection_is_not_taken_and_the_phrase_puts_it_back(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "profile"
    # One session for the whole story: gnome-keyring's "session" collection lives in memory.
    first = _session_steps(
        tmp_path, [f"create {profile}", f"move-to-session {profile}", f"start {profile}"]
    )
    created, moved, started = first
    assert moved["moved"] == 1
    # keyring reads the default collection only: the key elsewhere is not used.
    assert started["lookup"] == "not-found"
    assert started["state"] == "key-missing"
    assert "n'est plus dans le trousseau du système" in str(started["message"])
    assert started["digest"] == created["digest"]  # nothing written, nothing lost

    phrase = shlex.quote(str(created["recovery"]))
    recovered, again = _session_steps(tmp_path, [f"recover {profile} {phrase}", f"start {profile}"])
    assert recovered["persons"] == 1
    # The recovery put the key back where keyring looks; the next start reads it there.
    assert (again["lookup"], again["state"], again["persons"]) == ("found", "keyring", 1)
    assert again["keyring_imported_by_read_ahead"] is False


@pytest.mark.secret_service
def test_a_locked_keyring_goes_through_keyring_and_says_it_is_locked(tmp_path: Path) -> None:
    profile = tmp_path / "profile"
    created, locked, started = _session_steps(
        tmp_path, [f"create {profile}", "lock", f"start {profile}"]
    )
    assert locked["locked"] is True
    assert started["lookup"] == "locked"
    assert started["lookup_message"] == "Le trousseau du système est verrouillé."
    # keyring takes over (on a desktop it asks to unlock; here no one answers its prompt).
    assert started["keyring_imported_by_read_ahead"] is True
    assert started["state"] == "key-missing"
    assert "verrouillé" in str(started["message"])
    assert "Déverrouillez votre session" in str(started["message"])
    assert "phrase de récupération" in str(started["message"])
    assert started["digest"] == created["digest"]
