"""First run and unlocking: keyring, passphrase fallback, lost key — driven through the dialogs."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QMessageBox

from havre_desktop import KEYRING_SERVICE
from havre_desktop.core import agents
from havre_desktop.core.profile import ProfileManager, ProfileState
from havre_desktop.ui.startup import (
    AgentDialog,
    LostKeyDialog,
    PassphraseDialog,
    RecoveryDialog,
    open_profile,
)
from tests.helpers import MemoryKeyring
from tests.ui.conftest import DialogDriver


def _note_recovery(shown: list[str]) -> object:
    def act(dialog: QDialog) -> None:
        assert isinstance(dialog, RecoveryDialog)
        (field,) = dialog.findChildren(QLineEdit)  # the phrase, shown once, read-only
        assert field.isReadOnly()
        shown.append(field.text())
        dialog.noted.setChecked(True)  # "Continuer" is enabled only once it is noted
        dialog.accept()

    return act


def _fill_agent(dialog: QDialog) -> None:
    assert isinstance(dialog, AgentDialog)
    dialog.name.setText("Agent Fictif Premier")
    dialog.role.setCurrentIndex(dialog.role.findData("travailleur-social"))
    dialog.phone.setText("12")
    dialog._save()
    assert "Numéro de téléphone invalide" in dialog.error.text()
    assert "au moins un territoire" in dialog.error.text()
    dialog.territories["nord"].setChecked(True)
    dialog.phone.setText("02 61 91 00 07")
    dialog._save()


def test_first_run_with_the_keyring(tmp_path: Path, dialogs: DialogDriver) -> None:
    memory = MemoryKeyring()
    manager = ProfileManager(tmp_path, memory)
    shown: list[str] = []
    dialogs.when(RecoveryDialog, _note_recovery(shown))  # type: ignore[arg-type]
    dialogs.when(AgentDialog, _fill_agent)
    ws = open_profile(manager)
    dialogs.check()
    assert ws is not None
    agent = agents.current(ws)
    assert (agent["display_name"], agent["territory_ids"]) == ("Agent Fictif Premier", ["nord"])
    ws.store.close()
    assert (KEYRING_SERVICE, manager.profile_id) in memory.secrets
    assert manager.state() is ProfileState.KEYRING
    # The phrase shown once really unlocks the profile.
    manager.unlock_with_recovery(shown[0]).close()
    # Later runs open without asking anything.
    again = open_profile(manager)
    assert again is not None and again.agent_id == agent["id"]
    again.store.close()


def test_first_run_without_keyring_uses_a_passphrase(
    tmp_path: Path, dialogs: DialogDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(fail.Keyring())
    try:
        manager = ProfileManager(tmp_path, None)

        def choose(dialog: QDialog) -> None:
            assert isinstance(dialog, PassphraseDialog)
            explanation = dialog.findChildren(QLabel)[0].text()
            assert "Aucun trousseau sécurisé" in explanation  # the reason is explained
            dialog.passphrase.setText("court")
            dialog.confirmation.setText("court")
            dialog._check()
            assert "au moins 10 caractères" in dialog.error.text()
            dialog.passphrase.setText("Marée haute à Étretat")
            dialog.confirmation.setText("Marée basse à Étretat")
            dialog._check()
            assert dialog.error.text() == "Les deux saisies ne sont pas identiques."
            dialog.confirmation.setText("Marée haute à Étretat")
            dialog._check()

        dialogs.when(PassphraseDialog, choose)
        dialogs.when(RecoveryDialog, _note_recovery([]))  # type: ignore[arg-type]
        dialogs.when(AgentDialog, _fill_agent)
        ws = open_profile(manager)
        dialogs.check()
        assert ws is not None
        ws.store.close()
    finally:
        keyring.set_keyring(MemoryKeyring())
    assert manager.state() is ProfileState.PASSPHRASE
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.StandardButton.Ok)
    attempts: list[str] = []

    def unlock(dialog: QDialog) -> None:
        assert isinstance(dialog, PassphraseDialog)
        attempt = "mauvais mot" if not attempts else "Marée haute à Étretat"
        attempts.append(attempt)
        dialog.passphrase.setText(attempt)
        dialog._check()

    dialogs.when(PassphraseDialog, unlock)
    dialogs.when(PassphraseDialog, unlock, timeout_ms=20_000)
    ws = open_profile(manager)
    dialogs.check()
    assert ws is not None and attempts == ["mauvais mot", "Marée haute à Étretat"]
    ws.store.close()


def test_lost_key_recovered_with_the_phrase_or_moved_aside(
    tmp_path: Path, dialogs: DialogDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    memory = MemoryKeyring()
    manager = ProfileManager(tmp_path, memory)
    shown: list[str] = []
    dialogs.when(RecoveryDialog, _note_recovery(shown))  # type: ignore[arg-type]
    dialogs.when(AgentDialog, _fill_agent)
    ws = open_profile(manager)
    assert ws is not None
    ws.store.close()
    memory.secrets.clear()

    def recover(dialog: QDialog) -> None:
        assert isinstance(dialog, LostKeyDialog)
        dialog.recovery.setText(shown[0].lower())
        dialog.accept()

    dialogs.when(LostKeyDialog, recover)
    ws = open_profile(manager)
    dialogs.check()
    assert ws is not None and agents.current(ws)["display_name"] == "Agent Fictif Premier"
    ws.store.close()

    memory.secrets.clear()
    messages: list[str] = []

    def read_and_close(box: QDialog) -> None:
        assert isinstance(box, QMessageBox)
        messages.append(box.text())
        box.accept()

    def start_new(dialog: QDialog) -> None:
        assert isinstance(dialog, LostKeyDialog)
        dialog._new()

    dialogs.when(LostKeyDialog, start_new)
    dialogs.when(QMessageBox, read_and_close)  # "moved aside", Qt's own message box
    dialogs.when(RecoveryDialog, _note_recovery([]))  # type: ignore[arg-type]
    dialogs.when(AgentDialog, _fill_agent)
    ws = open_profile(manager)
    dialogs.check()
    assert ws is not None
    assert ws.store.scalar("SELECT count(*) FROM agents") == 1  # a fresh profile
    ws.store.close()
    assert "mise de côté, intacte" in messages[0]
    (moved,) = (tmp_path / "mis-de-cote").iterdir()
    assert (moved / "havre.db").stat().st_size > 0


class LockedKeyring(MemoryKeyring):
    """A keyring whose collection stays locked: reading asks to unlock, the user refuses."""

    locked = False

    def get_password(self, service: str, username: str) -> str | None:
        if self.locked:
            raise RuntimeError("Failed to unlock the collection!")  # keyring's KeyringLocked
        return super().get_password(service, username)


def test_a_locked_keyring_is_named_in_the_recovery_dialog_and_nothing_is_lost(
    tmp_path: Path, dialogs: DialogDriver
) -> None:
    locked = LockedKeyring()
    manager = ProfileManager(tmp_path, locked)
    dialogs.when(RecoveryDialog, _note_recovery([]))  # type: ignore[arg-type]
    dialogs.when(AgentDialog, _fill_agent)
    ws = open_profile(manager)
    assert ws is not None
    ws.store.close()
    before = (tmp_path / "havre.db").read_bytes()
    locked.locked = True
    shown: list[str] = []

    def read_and_close(dialog: QDialog) -> None:
        assert isinstance(dialog, LostKeyDialog)
        shown.extend(label.text() for label in dialog.findChildren(QLabel) if label.text())
        dialog.reject()

    dialogs.when(LostKeyDialog, read_and_close)
    assert open_profile(ProfileManager(tmp_path, locked)) is None  # the user closed it
    dialogs.check()
    message = shown[0]
    assert "Le trousseau du système ne répond pas (est-il verrouillé ?)" in message
    assert "Déverrouillez votre session" in message
    assert "phrase de récupération" in message
    assert "n'est plus dans le trousseau" not in message  # the key is not said to be lost
    assert (tmp_path / "havre.db").read_bytes() == before
    assert not (tmp_path / "mis-de-cote").exists()
