"""Opening the profile at start: first run, passphrase, lost key. Thin over core.profile."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from havre_desktop.core import agents
from havre_desktop.core.errors import (
    HavreError,
    KeyringUnavailableError,
    ValidationError,
    WrongPassphraseError,
)
from havre_desktop.core.profile import ProfileManager, ProfileState
from havre_desktop.core.store import Store
from havre_desktop.core.workspace import Workspace

log = logging.getLogger("havre.ui.startup")

MIN_PASSPHRASE = 10


class PassphraseDialog(QDialog):
    """Choose (twice) or type the passphrase that protects the profile."""

    title = "Mot de passe du profil"
    field_name = "Mot de passe"
    cancel_text = "Annuler"

    def __init__(self, explanation: str, *, confirm: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.title)
        text = QLabel(explanation)
        text.setWordWrap(True)
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName(self.field_name)
        self.confirmation = QLineEdit()
        self.confirmation.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirmation.setAccessibleName(f"Confirmation du {self.field_name.lower()}")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Message d'erreur")
        form = QFormLayout()
        form.addRow(f"&{self.field_name} :", self.passphrase)
        if confirm:
            form.addRow("&Confirmation :", self.confirmation)
        self._confirm = confirm
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Valider")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.cancel_text)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def refusal(self, value: str) -> str | None:
        """Why a new passphrase is refused (None: accepted)."""
        if len(value) < MIN_PASSPHRASE:
            return f"Le mot de passe doit compter au moins {MIN_PASSPHRASE} caractères."
        return None

    def _check(self) -> None:
        value = self.passphrase.text()
        refused = self.refusal(value) if self._confirm else None
        if refused:
            self.error.setText(refused)
            return
        if self._confirm and value != self.confirmation.text():
            self.error.setText("Les deux saisies ne sont pas identiques.")
            return
        self.accept()


class RecoveryDialog(QDialog):
    """Shows the recovery passphrase once; the user confirms they wrote it down."""

    def __init__(self, recovery: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Phrase de récupération")
        intro = QLabel(
            "Notez cette phrase de récupération sur papier et rangez-la en lieu sûr, hors de "
            "l'ordinateur. Elle seule permet de rouvrir vos données si la clé du trousseau "
            "est perdue."
        )
        intro.setWordWrap(True)
        phrase = QLineEdit(recovery)
        phrase.setReadOnly(True)
        phrase.setAccessibleName("Phrase de récupération")
        font = QFont("monospace")
        font.setPointSizeF(font.pointSizeF() * 1.4)
        phrase.setFont(font)
        self.noted = QCheckBox("J'ai &noté la phrase de récupération")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Continuer")
        ok.setEnabled(False)
        self.noted.toggled.connect(ok.setEnabled)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(phrase)
        layout.addWidget(self.noted)
        layout.addWidget(buttons)


class AgentDialog(QDialog):
    """Who uses this profile (until a sign-in to the server fills it)."""

    def __init__(self, ws: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ws = ws
        self.setWindowTitle("Votre profil d'agent")
        self.name = QLineEdit()
        self.name.setAccessibleName("Nom et prénom")
        self.role = QComboBox()
        self.role.setAccessibleName("Rôle")
        for role_id, label in ws.reference("roles").items():
            if role_id != "administrateur":
                self.role.addItem(label, role_id)
        self.territories: dict[str, QCheckBox] = {}
        box = QGroupBox("Territoires")
        box_layout = QVBoxLayout(box)
        for territory_id, label in ws.reference("territories").items():
            check = QCheckBox(label)
            self.territories[territory_id] = check
            box_layout.addWidget(check)
        self.phone = QLineEdit()
        self.phone.setAccessibleName("Téléphone professionnel")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setAccessibleName("Message d'erreur")
        form = QFormLayout()
        form.addRow("&Nom et prénom :", self.name)
        form.addRow("&Rôle :", self.role)
        form.addRow(box)
        form.addRow("&Téléphone professionnel :", self.phone)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Enregistrer")
        buttons.accepted.connect(self._save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _save(self) -> None:
        values = {
            "display_name": self.name.text(),
            "role": self.role.currentData(),
            "territory_ids": [t for t, check in self.territories.items() if check.isChecked()],
            "work_phone": self.phone.text(),
        }
        try:
            agents.create_owner(self.ws, values)
        except ValidationError as exc:
            self.error.setText("\n".join(exc.errors.values()))
            return
        self.accept()


class LostKeyDialog(QDialog):
    """The keyring lost the key: recovery passphrase, or start afresh (old file kept)."""

    def __init__(self, message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Clé introuvable")
        self.start_new = False
        text = QLabel(message)
        text.setWordWrap(True)
        self.recovery = QLineEdit()
        self.recovery.setAccessibleName("Phrase de récupération")
        self.recovery.setPlaceholderText("XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX")
        self.error = QLabel()
        self.error.setAccessibleName("Message d'erreur")
        unlock = QPushButton("&Déverrouiller")
        unlock.setDefault(True)
        unlock.clicked.connect(self.accept)
        new = QPushButton("Commencer un &nouveau profil")
        new.clicked.connect(self._new)
        form = QFormLayout()
        form.addRow("&Phrase de récupération :", self.recovery)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(unlock)
        layout.addWidget(new)

    def _new(self) -> None:
        self.start_new = True
        self.accept()


def open_profile(manager: ProfileManager, parent: QWidget | None = None) -> Workspace | None:
    """Unlock (or create) the profile, asking only what is needed; None if the user gave up."""
    try:
        store = _unlock(manager, parent)
    except HavreError as exc:
        QMessageBox.critical(parent, "Impossible d'ouvrir vos données", exc.message)
        return None
    if store is None:
        return None
    ws = Workspace(store)
    if ws.agent_id is None:
        dialog = AgentDialog(ws, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            store.close()
            return None
    return ws


def _unlock(manager: ProfileManager, parent: QWidget | None) -> Store | None:
    state = manager.state()
    if state is ProfileState.KEYRING:
        return manager.unlock()
    if state is ProfileState.PASSPHRASE:
        for _attempt in range(5):
            dialog = PassphraseDialog(
                "Saisissez le mot de passe qui protège vos données.", confirm=False, parent=parent
            )
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            try:
                return manager.unlock_with_passphrase(dialog.passphrase.text())
            except HavreError as exc:
                QMessageBox.warning(parent, "Mot de passe", exc.message)
        return None
    if state is ProfileState.KEY_MISSING:
        while True:
            lost = LostKeyDialog(manager.key_missing_message(), parent)
            if lost.exec() != QDialog.DialogCode.Accepted:
                return None
            if lost.start_new:
                target = manager.move_aside()
                QMessageBox.information(
                    parent, "Ancienne base mise de côté", manager.moved_aside_message(target)
                )
                return _create(manager, parent)
            try:
                return manager.unlock_with_recovery(lost.recovery.text())
            except HavreError as exc:
                QMessageBox.warning(parent, "Phrase de récupération", exc.message)
    return _create(manager, parent)


class _GaveUp(Exception):
    """The user closed a dialog the start needed."""


def _keyring_or_passphrase(manager: ProfileManager, parent: QWidget | None) -> str | None:
    """For a new profile's key: the keyring (None is returned) or, where none works, a
    passphrase the user chooses now (raises _GaveUp if they close the dialog)."""
    if manager.keyring_backend is not None:
        return None
    try:
        from havre_desktop.core.keys import usable_keyring

        manager.keyring_backend = usable_keyring()
    except KeyringUnavailableError as exc:
        dialog = PassphraseDialog(exc.message, confirm=True, parent=parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            raise _GaveUp from exc
        return dialog.passphrase.text()
    return None


def _create(manager: ProfileManager, parent: QWidget | None) -> Store | None:
    try:
        passphrase = _keyring_or_passphrase(manager, parent)
    except _GaveUp:
        return None
    created = manager.create(passphrase)
    RecoveryDialog(created.recovery_passphrase, parent).exec()
    return created.store


def choose_pin_if_none(ws: Workspace, parent: QWidget | None = None) -> bool:
    """At first run (and at the first start of a profile made before the app lock): ask the
    lock code. "Plus tard" is allowed: the lock then asks the profile's passphrase or its
    recovery passphrase, and Paramètres offers to choose the code. True if one is set."""
    from havre_desktop.core import applock
    from havre_desktop.ui.lock import PinDialog, pin_explanation

    if applock.has_pin(ws):
        return True
    dialog = PinDialog(pin_explanation(), parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    applock.set_pin(ws, dialog.pin.text())
    return True


class RestorePhraseDialog(PassphraseDialog):
    """The recovery passphrase that opens a backup (typed from the paper: shown as typed)."""

    title = "Restaurer une sauvegarde"
    field_name = "Phrase de récupération"

    def __init__(self, explanation: str, parent: QWidget | None = None) -> None:
        super().__init__(explanation, confirm=False, parent=parent)
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Normal)
        self.passphrase.setPlaceholderText("XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX")


def restore_profile(
    manager: ProfileManager, source: Path, parent: QWidget | None = None
) -> Workspace | None:
    """`havre-desktop --restaurer FICHIER`: a backup becomes this computer's profile (the
    folder must hold none). Asks the recovery passphrase (again while it is wrong) and, where
    no keyring works, a new passphrase. None if the user gave up or it cannot be done."""
    from havre_desktop.core.backup import restore_backup

    if manager.state() is not ProfileState.NEW:
        QMessageBox.critical(
            parent,
            "Restauration impossible",
            "Un profil existe déjà sur cet ordinateur ; la sauvegarde ne le remplace pas. "
            "Choisissez un autre dossier de profil (--profile DOSSIER).",
        )
        return None
    try:
        passphrase = _keyring_or_passphrase(manager, parent)
    except _GaveUp:
        return None
    explanation = (
        f"Restauration de la sauvegarde « {source.name} ». Saisissez la phrase de "
        "récupération notée à la création du profil sauvegardé."
    )
    while True:
        dialog = RestorePhraseDialog(explanation, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        try:
            store = restore_backup(source, manager, dialog.passphrase.text(), passphrase)
        except WrongPassphraseError as exc:
            QMessageBox.warning(parent, "Phrase de récupération", exc.message)
            continue
        except HavreError as exc:
            QMessageBox.critical(parent, "Restauration impossible", exc.message)
            return None
        QMessageBox.information(
            parent,
            "Profil restauré",
            "Le profil a été restauré avec ses modifications non envoyées. Connectez-vous au "
            "serveur (page Synchronisation) pour les envoyer.",
        )
        return Workspace(store)
