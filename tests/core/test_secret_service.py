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
