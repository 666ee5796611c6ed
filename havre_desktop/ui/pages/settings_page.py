"""Paramètres: text size, high contrast, idle lock delay, days before "not seen", the City's
details printed on every document (from the server), profile."""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from havre_common.french import count
from havre_desktop.core import applock
from havre_desktop.core.errors import HavreError
from havre_desktop.core.profile import ProfileManager
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.data import DESK_SETTING
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.pages.city_details import CityDetailsBox
from havre_desktop.ui.widgets import scrolling

if TYPE_CHECKING:
    from havre_desktop.ui.sync_controller import SyncController

log = logging.getLogger("havre.ui.settings")


class SettingsPage(QWidget):
    """Changes apply at once and are kept in the (encrypted) profile."""

    changed = Signal(str, str)  # setting key, new value
    lock_now = Signal()
    pin_changed = Signal()

    def __init__(
        self, context: UiContext, profile_folder: str = "", profile: ProfileManager | None = None
    ) -> None:
        super().__init__()
        self.ctx = context
        self.profile = profile
        settings = context.settings
        self.text_scale = QSpinBox()
        self.text_scale.setRange(100, 200)
        self.text_scale.setSingleStep(10)
        self.text_scale.setSuffix(" %")
        self.text_scale.setValue(int(settings.get("text_scale", "100")))
        self.high_contrast = QCheckBox(tr("Thème à fort &contraste (texte blanc sur fond noir)"))
        self.high_contrast.setChecked(settings.get("high_contrast") == "1")
        self.idle_lock = QSpinBox()
        self.idle_lock.setRange(1, 120)
        self.idle_lock.setSuffix(tr(" min"))
        self.idle_lock.setValue(int(settings.get("idle_lock_minutes", "10")))
        self.not_seen = QSpinBox()
        self.not_seen.setRange(7, 365)
        self.not_seen.setSuffix(tr(" jours"))
        self.not_seen.setValue(int(settings.get("not_seen_days", "60")))
        self.unsent_days = QSpinBox()
        self.unsent_days.setRange(1, 30)
        self.unsent_days.setSuffix(tr(" jours"))
        self.unsent_days.setValue(int(settings.get("unsent_warning_days", "3")))
        display = QGroupBox(tr("Affichage"))
        display_form = QFormLayout(display)
        work = QGroupBox(tr("Travail"))
        work_form = QFormLayout(work)
        for form, text, widget in (
            (display_form, tr("&Taille du texte :"), self.text_scale),
            (display_form, "", self.high_contrast),
            (work_form, tr("&Verrouillage après inactivité :"), self.idle_lock),
            (work_form, tr("Personnes &non vues depuis plus de :"), self.not_seen),
            (work_form, tr("Avertir des modifications non &envoyées après :"), self.unsent_days),
        ):
            if text:
                label = QLabel(text)  # short: unwrapped, a wrapped label was cut at 200 %
                label.setBuddy(widget)
                widget.setAccessibleName(text.replace("&", "").rstrip(" :"))
                form.addRow(label, widget)
            else:
                form.addRow(widget)
        self.text_scale.valueChanged.connect(lambda v: self._save("text_scale", str(v)))
        self.high_contrast.toggled.connect(
            lambda on: self._save("high_contrast", "1" if on else "0")
        )
        self.idle_lock.valueChanged.connect(lambda v: self._save("idle_lock_minutes", str(v)))
        self.not_seen.valueChanged.connect(lambda v: self._save("not_seen_days", str(v)))
        self.unsent_days.valueChanged.connect(lambda v: self._save("unsent_warning_days", str(v)))
        self.city = CityDetailsBox(context)
        self.city.desk_chosen.connect(lambda value: self.changed.emit(DESK_SETTING, value))
        security = QGroupBox(tr("Verrouillage"))
        security_layout = QVBoxLayout(security)
        self.pin_status = QLabel()
        self.pin_status.setWordWrap(True)
        self.pin_status.setAccessibleName(tr("Code de verrouillage"))
        self.pin_button = QPushButton(tr("C&hoisir le code de verrouillage…"))
        self.pin_button.clicked.connect(self.choose_pin)
        lock_button = QPushButton(tr("Verrouiller &maintenant (Ctrl+L)"))
        lock_button.clicked.connect(self.lock_now)
        buttons = QHBoxLayout()
        buttons.addWidget(self.pin_button)
        buttons.addWidget(lock_button)
        buttons.addStretch(1)
        security_layout.addWidget(self.pin_status)
        security_layout.addLayout(buttons)
        self._read_pin_state()
        profile_box = QGroupBox(tr("Profil"))
        profile_layout = QVBoxLayout(profile_box)
        agent = context.agent
        refs = context.references
        territories = ", ".join(refs["territories"].get(t, t) for t in context.territories)
        info = QLabel(
            "<p><b>{agent_label} :</b> {name}<br><b>{role_label} :</b> {role}<br>"
            "<b>{territories_label} :</b> {territories}<br><b>{phone_label} :</b> {phone}<br>"
            "<b>{folder_label} :</b> {folder}<br>{demo}</p>".format(
                agent_label=escape(tr("Agent")),
                name=escape(str(agent.get("display_name") or "")),
                role_label=escape(tr("Rôle")),
                role=escape(refs["roles"].get(context.role, context.role)),
                territories_label=escape(tr("Territoires")),
                territories=escape(territories),
                phone_label=escape(tr("Téléphone professionnel")),
                phone=escape(str(agent.get("work_phone") or "")),
                folder_label=escape(tr("Dossier du profil")),
                folder=escape(profile_folder or tr("profil de démonstration temporaire")),
                demo=escape(tr("Données fictives de démonstration.")) if context.demo else "",
            )
        )
        info.setWordWrap(True)
        info.setAccessibleName(tr("Informations du profil"))
        profile_layout.addWidget(info)
        self.backup_button = QPushButton(tr("&Sauvegarder le profil…"))
        self.backup_button.clicked.connect(self.choose_backup_file)
        self.backup_status = QLabel()
        self.backup_status.setWordWrap(True)
        self.backup_status.setAccessibleName(tr("État de la sauvegarde"))
        backup_row = QHBoxLayout()
        backup_row.addWidget(self.backup_button)
        backup_row.addStretch(1)
        profile_layout.addLayout(backup_row)
        profile_layout.addWidget(self.backup_status)
        self.backup_button.setVisible(self.profile is not None)  # a demo profile has none
        # The groups scroll: at 200 % text they are taller than a 768-pixel screen.
        content = QWidget()
        inner = QVBoxLayout(content)
        inner.addWidget(display)
        inner.addWidget(work)
        inner.addWidget(self.city)
        inner.addWidget(security)
        inner.addWidget(profile_box)
        inner.addStretch(1)
        scrolling(self, content)

    def attach_sync(self, sync: SyncController) -> None:
        """The sync is ready: a coordinator's changes to the City's details can be sent."""
        self.city.sync = sync

    def _save(self, key: str, value: str) -> None:
        self.ctx.settings[key] = value

        def job(ws: Workspace) -> None:
            ws.store.set_setting(key, value)

        self.ctx.database.submit(job, lambda _r: self.changed.emit(key, value))

    # -- the lock code ----------------------------------------------------------------

    def _read_pin_state(self) -> None:
        self.ctx.database.submit(applock.has_pin, self._show_pin_state)

    def _show_pin_state(self, has_pin: bool) -> None:
        self.has_pin = has_pin
        self.pin_status.setText(
            tr("Un code de verrouillage est choisi : il rouvre l'application verrouillée.")
            if has_pin
            else tr(
                "Aucun code de verrouillage n'est choisi : l'application verrouillée ne se "
                "rouvre qu'avec le mot de passe du profil ou la phrase de récupération."
            )
        )
        self.pin_button.setText(
            tr("C&hanger le code de verrouillage…")
            if has_pin
            else tr("C&hoisir le code de verrouillage…")
        )

    def choose_pin(self) -> None:
        from havre_desktop.ui.lock import PinDialog, pin_explanation

        self.pin_dialog = PinDialog(pin_explanation(), self)
        if self.pin_dialog.exec() != QDialog.DialogCode.Accepted:
            return
        pin = self.pin_dialog.pin.text()
        self.ctx.database.submit(lambda ws: applock.set_pin(ws, pin), self._pin_saved)

    def _pin_saved(self, _result: object) -> None:
        self._show_pin_state(True)
        self.pin_changed.emit()

    # -- backup -----------------------------------------------------------------------

    def choose_backup_file(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        from havre_desktop.core.backup import BACKUP_SUFFIX

        name, _filter = QFileDialog.getSaveFileName(
            self,
            tr("Sauvegarder le profil"),
            f"havre-profil-{self.ctx.today.isoformat()}{BACKUP_SUFFIX}",
            tr("Sauvegardes Havre Ensemble (*{suffix})").format(suffix=BACKUP_SUFFIX),
        )
        if name:
            self.backup_to(Path(name if name.endswith(BACKUP_SUFFIX) else name + BACKUP_SUFFIX))

    def backup_to(self, path: Path) -> None:
        """Write the backup on the database worker; say what it holds and how it opens."""
        from havre_desktop.core.backup import BackupInfo, create_backup

        profile = self.profile
        assert profile is not None
        self.backup_button.setEnabled(False)
        self.backup_status.setText(tr("Sauvegarde en cours…"))

        def done(info: BackupInfo) -> None:
            self.backup_button.setEnabled(True)
            self.backup_status.setText(
                count(
                    info.outbox,
                    tr("Sauvegarde enregistrée ({n} modification non envoyée incluse). "),
                    tr("Sauvegarde enregistrée ({n} modifications non envoyées incluses). "),
                )
                + tr(
                    "Elle est chiffrée : seule la phrase de récupération du profil l'ouvre "
                    "(havre-desktop --restaurer FICHIER sur le nouvel ordinateur)."
                )
            )

        def failed(error: Exception) -> None:
            self.backup_button.setEnabled(True)
            message = error.message if isinstance(error, HavreError) else None
            if isinstance(error, OSError):
                message = tr("Le fichier n'a pas pu être écrit : {e}").format(e=error.strerror)
            if message is None:
                log.error("backup failed", exc_info=error)
                message = tr("La sauvegarde a échoué (erreur inattendue).")
            self.backup_status.setText(message)

        self.ctx.database.submit(lambda ws: create_backup(ws, profile, path), done, failed)
