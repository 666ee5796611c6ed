"""Paramètres > Sauvegarder le profil, then `havre-desktop --restaurer FICHIER`'s dialogs."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from havre_desktop.app import open_demo_workspace
from havre_desktop.core import contacts
from havre_desktop.core.profile import ProfileManager, ProfileState
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.main_window import MainWindow, build_context
from havre_desktop.ui.startup import RestorePhraseDialog, restore_profile
from havre_desktop.ui.worker import DatabaseService
from tests.helpers import MemoryKeyring, person_values
from tests.ui.conftest import DemoApp, DialogDriver


def test_backup_from_settings_then_restore_with_the_recovery_phrase(
    demo_app: DemoApp, dialogs: DialogDriver, tmp_path: Path
) -> None:
    app = demo_app
    done: list[object] = []
    app.database.submit(
        lambda ws: contacts.create_person(ws, person_values(family_name="Emportée")), done.append
    )
    app.qtbot.waitUntil(lambda: bool(done))
    page = app.window.settings_page
    app.window.go_to(page)
    assert page.backup_button.isVisible()
    target = tmp_path / "usb" / "profil.havre-sauvegarde"
    target.parent.mkdir()
    page.backup_to(target)
    app.qtbot.waitUntil(lambda: page.backup_button.isEnabled(), timeout=20_000)
    assert page.backup_status.text().startswith(
        "Sauvegarde enregistrée (1 modification non envoyée incluse). Elle est chiffrée"
    )
    assert target.is_file()

    manager = ProfileManager(tmp_path / "nouvel-ordinateur", MemoryKeyring())
    seen: list[str] = []

    def answer(box: QDialog) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.accept()

    def wrong(dialog: QDialog) -> None:
        assert isinstance(dialog, RestorePhraseDialog)
        dialogs.when(
            QMessageBox, lambda box: (dialogs.when(RestorePhraseDialog, right), answer(box))
        )
        dialog.passphrase.setText("AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH")
        dialog.accept()

    def right(dialog: QDialog) -> None:
        assert isinstance(dialog, RestorePhraseDialog)
        dialogs.when(QMessageBox, answer)
        dialog.passphrase.setText(app.recovery)
        dialog.accept()

    dialogs.when(RestorePhraseDialog, wrong)
    ws = restore_profile(manager, target)
    dialogs.check()
    assert ws is not None
    assert seen[0] == "La phrase de récupération ne correspond pas à cette sauvegarde."
    assert seen[1].startswith("Le profil a été restauré avec ses modifications non envoyées.")
    assert [r["table_name"] for r in ws.outbox_entries()] == ["contacts"]
    ws.store.close()
    assert manager.state() is ProfileState.KEYRING


def test_a_demo_profile_offers_no_backup(qtbot: QtBot, tmp_path: Path) -> None:
    """The throwaway demo profile has no recovery phrase: nothing to back up."""
    ws = open_demo_workspace(tmp_path, 20)
    assert isinstance(ws, Workspace)
    database = DatabaseService(ws)
    window = MainWindow(build_context(database, load_context_data(ws)))
    qtbot.addWidget(window)
    try:
        window.show()
        window.go_to(window.settings_page)
        assert window.settings_page.isVisible()
        assert not window.settings_page.backup_button.isVisible()
    finally:
        database.shutdown()
