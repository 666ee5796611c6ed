"""Paramètres: text size, high contrast, idle lock delay, days before "not seen", the City's
details printed on every document, profile."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from havre_common.values import normalise_phone
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.data import DEMO_CITY_CONTACT, SAMPLE_CITY_PHONE
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.widgets import scrolling


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
                # Short labels on one line: wrapped, "Taille du texte :" was cut by its row.
                label.setWordWrap(len(text) > 30)
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
        city = QGroupBox(tr("Coordonnées de la Ville (imprimées sur chaque document)"))
        city_form = QFormLayout(city)
        self.city_fields: dict[str, QLineEdit] = {}
        for key, text, placeholder in (
            ("city_label", tr("&Libellé du standard :"), "Ville du Havre, standard"),
            ("city_phone", tr("&Numéro du standard :"), SAMPLE_CITY_PHONE),
            (
                "city_heatwave_line",
                tr("Ligne d'information &canicule :"),
                DEMO_CITY_CONTACT.heatwave_line,
            ),
            ("city_service", tr("&Service ou accueil :"), tr("Accueil des seniors")),
            ("city_address", tr("&Adresse de l'accueil :"), tr("numéro, rue, code postal")),
            ("city_hours", tr("&Horaires d'ouverture :"), tr("du lundi au vendredi, 9 h - 17 h")),
        ):
            field = QLineEdit(settings.get(key, ""))
            field.setPlaceholderText(placeholder)
            field.editingFinished.connect(lambda key=key: self._save_city(key))
            self.city_fields[key] = field
            label = QLabel(text)
            label.setBuddy(field)
            field.setAccessibleName(text.replace("&", "").rstrip(" :"))
            city_form.addRow(label, field)
        self.city_error = QLabel()
        self.city_error.setObjectName("fieldError")
        self.city_error.setWordWrap(True)
        self.city_error.setVisible(False)
        city_form.addRow(self.city_error)
        self.city_sample = QLabel(
            tr(
                "Tant que le numéro du standard n'est pas indiqué, les documents portent "
                "le numéro d'exemple {n} et l'aperçu le signale avant d'imprimer."
            ).format(n=SAMPLE_CITY_PHONE)
        )
        self.city_sample.setWordWrap(True)
        city_form.addRow(self.city_sample)
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
        # At 200 % text size the page is taller than the window: it scrolls, nothing is cut.
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.addWidget(display)
        layout.addWidget(work)
        layout.addWidget(city)
        layout.addWidget(profile)
        layout.addStretch(1)
        scrolling(self, content)

    def _save_city(self, key: str) -> None:
        """Save one of the City's details; a phone number is checked and written the French way."""
        field = self.city_fields[key]
        value = field.text().strip()
        if value and key in ("city_phone", "city_heatwave_line"):
            try:
                normalised = normalise_phone(value)
            except ValueError as error:
                self.city_error.setText(f"{field.accessibleName()} : {error}")
                self.city_error.setVisible(True)
                return
            # The free line keeps its own way of writing ("0 800 06 66 66").
            if key == "city_phone":
                value = normalised
                field.setText(value)
        self.city_error.setVisible(False)
        if self.ctx.settings.get(key, "") != value:
            self._save(key, value)

    def _save(self, key: str, value: str) -> None:
        self.ctx.settings[key] = value

        def job(ws: Workspace) -> None:
            ws.store.set_setting(key, value)

        self.ctx.database.submit(job, lambda _r: self.changed.emit(key, value))
