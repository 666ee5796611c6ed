"""Paramètres: text size, high contrast, idle lock delay, days before "not seen", profile."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import tr


class SettingsPage(QWidget):
    """Changes apply at once and are kept in the (encrypted) profile."""

    changed = Signal(str, str)  # setting key, new value

    def __init__(self, context: UiContext, profile_folder: str = "") -> None:
        super().__init__()
        self.ctx = context
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
        display = QGroupBox(tr("Affichage"))
        display_form = QFormLayout(display)
        work = QGroupBox(tr("Travail"))
        work_form = QFormLayout(work)
        for form, text, widget in (
            (display_form, tr("&Taille du texte :"), self.text_scale),
            (display_form, "", self.high_contrast),
            (work_form, tr("&Verrouillage après inactivité :"), self.idle_lock),
            (work_form, tr("Personnes &non vues depuis plus de :"), self.not_seen),
        ):
            if text:
                label = QLabel(text)
                label.setBuddy(widget)
                label.setWordWrap(True)
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
        profile = QGroupBox(tr("Profil"))
        profile_layout = QVBoxLayout(profile)
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
        layout = QVBoxLayout(self)
        layout.addWidget(display)
        layout.addWidget(work)
        layout.addWidget(profile)
        layout.addStretch(1)

    def _save(self, key: str, value: str) -> None:
        self.ctx.settings[key] = value

        def job(ws: Workspace) -> None:
            ws.store.set_setting(key, value)

        self.ctx.database.submit(job, lambda _r: self.changed.emit(key, value))
