"""Profile creation and unlocking: keyring, passphrase fallback, lost key, recovery."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from havre_desktop import KEYRING_SERVICE
from havre_desktop.core import contacts, keys
from havre_desktop.core.errors import (
    KeyMissingError,
    KeyringUnavailableError,
    ProfileError,
    WrongPassphraseError,
)
from havre_desktop.core.paths import PROFILE_ENV, resolve_profile_dir
from havre_desktop.core.profile import KeyPrefetch, ProfileManager, ProfileState
from havre_desktop.core.workspace import Workspace
from tests.helpers import MemoryKeyring, person_values


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_key_lives_in_the_keyring_never_in_a_plain_file(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    manager = ProfileManager(tmp_path, memory_keyring)
    assert manager.state() is ProfileState.NEW
    created = manager.create()
    created.store.close()
    stored = memory_keyring.secrets[(KEYRING_SERVICE, manager.profile_id)]
    key = bytes.fromhex(stored)
    assert len(key) == 32
    for path in tmp_path.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            assert key not in raw and stored.encode() not in raw, path.name
    assert manager.state() is ProfileState.KEYRING
    manager.unlock().close()


def test_recovery_passphrase_unlocks_after_keyring_entry_is_lost(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    manager = ProfileManager(tmp_path, memory_keyring)
    created = manager.create()
    person = contacts.create_person(Workspace(created.store), person_values())
    created.store.close()
    memory_keyring.secrets.clear()  # the keyring lost the entry (new session, reset…)
    before = _digest(manager.paths.database)

    assert manager.state() is ProfileState.KEY_MISSING
    with pytest.raises(KeyMissingError) as caught:
        manager.unlock()
    assert "phrase de récupération" in caught.value.message
    assert _digest(manager.paths.database) == before  # no new key over the file
    with pytest.raises(WrongPassphraseError):
        manager.unlock_with_recovery("AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH")
    assert _digest(manager.paths.database) == before

    typed = created.recovery_passphrase.lower().replace("-", " ")  # as a person might type it
    store = manager.unlock_with_recovery(typed)
    assert store.scalar("SELECT given_names FROM contacts WHERE id = ?", (person["id"],)) == (
        "Jeanne"
    )
    store.close()
    # The key went back to the keyring: the next start unlocks silently.
    assert manager.state() is ProfileState.KEYRING
    manager.unlock().close()


def test_lost_key_without_recovery_moves_database_aside_intact(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    manager = ProfileManager(tmp_path, memory_keyring)
    created = manager.create()
    contacts.create_person(Workspace(created.store), person_values())
    created.store.close()
    memory_keyring.secrets.clear()
    before = _digest(manager.paths.database)
    size = manager.paths.database.stat().st_size

    target = manager.move_aside()
    moved = target / "havre.db"
    assert moved.exists() and _digest(moved) == before and moved.stat().st_size == size
    assert (target / "keyslots.json").exists()
    assert "mise de côté, intacte" in manager.moved_aside_message(target)
    assert manager.state() is ProfileState.NEW
    fresh = manager.create()
    assert fresh.store.scalar("SELECT count(*) FROM contacts") == 0
    fresh.store.close()
    # The set-aside database still opens with its own recovery passphrase.
    old = ProfileManager(target, MemoryKeyring())
    old_store = old.unlock_with_recovery(created.recovery_passphrase)
    assert old_store.scalar("SELECT count(*) FROM contacts") == 1
    old_store.close()


def test_creating_over_an_existing_profile_is_refused(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    manager = ProfileManager(tmp_path, memory_keyring)
    manager.create().store.close()
    before = _digest(manager.paths.database)
    with pytest.raises(ProfileError):
        manager.create()
    assert _digest(manager.paths.database) == before


def test_passphrase_fallback_when_no_keyring_backend(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(KeyringUnavailableError) as caught:
            keys.usable_keyring()
    finally:
        keyring.set_keyring(MemoryKeyring())
    assert "mot de passe" in caught.value.message and "trousseau" in caught.value.message

    manager = ProfileManager(tmp_path, None)
    created = manager.create(passphrase="Marée haute à Étretat")
    created.store.close()
    info = json.loads(manager.paths.profile_info.read_text("utf-8"))
    assert info["unlock_method"] == "passphrase"
    assert manager.state() is ProfileState.PASSPHRASE
    with pytest.raises(WrongPassphraseError) as wrong:
        manager.unlock_with_passphrase("marée basse")
    assert wrong.value.message == "Mot de passe incorrect."
    manager.unlock_with_passphrase("Marée haute à Étretat").close()
    manager.change_passphrase("Marée haute à Étretat", "Falaises d'Étretat 2026")
    manager.unlock_with_passphrase("Falaises d'Étretat 2026").close()
    manager.unlock_with_recovery(created.recovery_passphrase).close()


def test_key_slots_hold_wrapped_keys_only(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    manager = ProfileManager(tmp_path, memory_keyring)
    manager.create().store.close()
    key = bytes.fromhex(memory_keyring.secrets[(KEYRING_SERVICE, manager.profile_id)])
    slots = json.loads(manager.paths.keyslots.read_text("utf-8"))["slots"]
    assert [s["kind"] for s in slots] == ["recovery"]
    assert slots[0]["kdf"] == "argon2id" and slots[0]["cipher"] == "aes-256-gcm"
    assert key.hex() not in manager.paths.keyslots.read_text("utf-8")


def test_profile_folder_from_option_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve_profile_dir(tmp_path / "cli") == (tmp_path / "cli").resolve()
    monkeypatch.setenv(PROFILE_ENV, str(tmp_path / "env"))
    assert resolve_profile_dir(None) == (tmp_path / "env").resolve()
    assert resolve_profile_dir(tmp_path / "cli") == (tmp_path / "cli").resolve()
    monkeypatch.delenv(PROFILE_ENV)
    default = resolve_profile_dir(None)
    assert "havre-desktop" in str(default)
    assert str(default).startswith(str(Path.home()))


def test_the_key_never_goes_to_an_insecure_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    from keyring.backends import chainer, null

    secure = MemoryKeyring()
    monkeypatch.setattr(
        chainer.ChainerBackend, "backends", property(lambda self: [null.Keyring(), secure])
    )
    keyring.set_keyring(chainer.ChainerBackend())
    try:
        assert keys.usable_keyring() is secure  # the chain's null backend is skipped
        monkeypatch.setattr(
            chainer.ChainerBackend, "backends", property(lambda self: [null.Keyring()])
        )
        with pytest.raises(KeyringUnavailableError, match="Aucun trousseau sécurisé"):
            keys.usable_keyring()
    finally:
        keyring.set_keyring(MemoryKeyring())


def test_the_backend_holding_the_key_is_remembered_and_used_at_the_next_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real file-based backend (keyrings.alt, allowed for tests only) stands for the
    system's: once it holds the key, the next start goes straight to it, even when a
    search through the installed backends would find none."""
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(keys.INSECURE_KEYRING_ENV, "1")
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)  # no Secret Service here
    manager = ProfileManager(tmp_path / "profile", PlaintextKeyring())
    manager.create().store.close()
    assert manager.remembered_backend == "keyrings.alt.file.PlaintextKeyring"

    keyring.set_keyring(fail.Keyring())  # the search would find no backend at all
    try:
        at_start = ProfileManager(tmp_path / "profile", None)
        at_start.keyring_backend = keys.usable_keyring(at_start.remembered_backend)
        assert at_start.state() is ProfileState.KEYRING
        at_start.unlock().close()
        # A backend that cannot run here (no D-Bus session): back to the search, which
        # here says there is no keyring, and the passphrase fallback takes over.
        with pytest.raises(KeyringUnavailableError):
            keys.usable_keyring("keyring.backends.SecretService.Keyring")
        # Never a plaintext file on an agent's computer, even if one was remembered.
        monkeypatch.delenv(keys.INSECURE_KEYRING_ENV)
        with pytest.raises(KeyringUnavailableError):
            keys.usable_keyring("keyrings.alt.file.PlaintextKeyring")
    finally:
        keyring.set_keyring(MemoryKeyring())


def _plaintext_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProfileManager:
    """A keyring profile whose key is in keyrings.alt's file backend (tests only)."""
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv(keys.INSECURE_KEYRING_ENV, "1")
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    manager = ProfileManager(tmp_path / "profile", PlaintextKeyring())
    created = manager.create()
    contacts.create_person(Workspace(created.store), person_values())
    created.store.close()
    return manager


def test_the_key_read_ahead_of_the_window_opens_the_profile_with_one_keyring_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keyrings.alt.file import PlaintextKeyring

    made = _plaintext_profile(tmp_path, monkeypatch)
    fetched = KeyPrefetch.start(made.paths.root).result()
    assert fetched is not None and fetched.key is not None
    assert keys.describe_backend(fetched.backend) == "keyrings.alt.file.PlaintextKeyring"
    # The keyring forgets the key after the read ahead: the start still opens the profile
    # with the key read once, and never asks the keyring a second time.
    PlaintextKeyring().delete_password(KEYRING_SERVICE, made.profile_id)
    at_start = ProfileManager(made.paths.root, None)
    at_start.use_prefetched(fetched)
    assert at_start.state() is ProfileState.KEYRING
    store = at_start.unlock()
    assert store.scalar("SELECT family_name FROM contacts") == person_values()["family_name"]
    store.close()
    # Used once: the next unlock reads the keyring again, which has lost the key.
    assert at_start.state() is ProfileState.KEY_MISSING
    with pytest.raises(KeyMissingError):
        at_start.unlock()


def test_the_read_ahead_decides_nothing_the_usual_dialogs_still_follow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keyrings.alt.file import PlaintextKeyring

    made = _plaintext_profile(tmp_path, monkeypatch)
    root = made.paths.root
    # The key is gone from the keyring: the read ahead finds the backend, not the key.
    PlaintextKeyring().delete_password(KEYRING_SERVICE, made.profile_id)
    fetched = KeyPrefetch.start(root).result()
    assert fetched is not None and fetched.key is None and fetched.backend is not None
    at_start = ProfileManager(root, None)
    at_start.use_prefetched(fetched)
    assert at_start.state() is ProfileState.KEY_MISSING  # the recovery dialog follows

    # A key read for another profile (the folder was replaced meanwhile) is not used.
    other = ProfileManager(root, None)
    other.use_prefetched(replace(fetched, profile_id="un-autre-profil", key=b"\0" * 32))
    assert other.state() is ProfileState.KEY_MISSING

    # No profile yet, or a profile.json that cannot be read: nothing read ahead.
    first_run = KeyPrefetch.start(tmp_path / "nouveau").result()
    assert first_run is not None and (first_run.profile_id, first_run.key) == ("", None)
    made.paths.profile_info.write_text("{ pas du json", "utf-8")
    assert KeyPrefetch.start(root).result() is None


def test_a_passphrase_profile_reads_no_key_ahead(tmp_path: Path) -> None:
    manager = ProfileManager(tmp_path, None)
    manager.create("un mot de passe assez long").store.close()
    fetched = KeyPrefetch.start(tmp_path).result()
    assert fetched is None or fetched.key is None
    at_start = ProfileManager(tmp_path, None)
    if fetched is not None:
        at_start.use_prefetched(fetched)
    assert at_start.state() is ProfileState.PASSPHRASE
