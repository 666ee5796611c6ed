"""Create or edit a person's fiche, with inline French validation messages."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from havre_desktop.core import contacts
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.i18n import french_date, tr
from havre_desktop.ui.widgets import SavingForm
from havre_desktop.ui.worker import DatabaseService

log = logging.getLogger("havre.ui.persons")


class PersonForm(SavingForm):
    """The fiche form. Saving runs on the worker; on error, what was typed stays."""

    announces = ("contacts",)

    def __init__(
        self,
        database: DatabaseService,
        references: dict[str, dict[str, str]],
        person: dict[str, Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(database, "contacts", log, parent)
        self.person = person
        self.setWindowTitle(tr("Modifier la fiche") if person else tr("Nouvelle personne"))
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.family_name = QLineEdit()
        self.given_names = QLineEdit()
        self.birth_date = QLineEdit()
        self.birth_date.setPlaceholderText(tr("JJ/MM/AAAA"))
        self.address_line = QLineEdit()
        self.postcode = QLineEdit()
        self.postcode.setMaxLength(5)
        self.territory = QComboBox()
        for territory_id, label in references["territories"].items():
            self.territory.addItem(label, territory_id)
        self.phone_1 = QLineEdit()
        self.phone_1.setPlaceholderText("06 39 98 12 34")
        self.phone_2 = QLineEdit()
        self.lives_alone = QCheckBox(tr("Personne vivant seule"))
        self.mobility = QComboBox()
        self.mobility.addItem(tr("Non précisée"), None)
        for mobility_id, label in references["mobility_levels"].items():
            self.mobility.addItem(label, mobility_id)
        self.access_notes = QPlainTextEdit()
        self.access_notes.setTabChangesFocus(True)
        self.access_notes.setMaximumHeight(80)
        self.emergency_name = QLineEdit()
        self.emergency_relation = QLineEdit()
        self.emergency_phone = QLineEdit()
        for text, field, widget in (
            (tr("&Nom :"), "family_name", self.family_name),
            (tr("&Prénom :"), "given_names", self.given_names),
            (tr("Date de nai&ssance :"), "birth_date", self.birth_date),
            (tr("&Adresse :"), "address_line", self.address_line),
            (tr("&Code postal :"), "postcode", self.postcode),
            (tr("&Territoire :"), "territory_id", self.territory),
            (tr("Télép&hone :"), "phone_1", self.phone_1),
            (tr("Autre téléph&one :"), "phone_2", self.phone_2),
            (tr("Situation :"), "lives_alone", self.lives_alone),
            (tr("&Mobilité :"), "mobility", self.mobility),
            (tr("Accès au &logement :"), "access_notes", self.access_notes),
            (tr("Contact d'&urgence (nom) :"), "emergency_contacts", self.emergency_name),
            (tr("Lien avec la personne :"), "emergency_relation", self.emergency_relation),
            (tr("Téléphone du contact :"), "emergency_phone", self.emergency_phone),
        ):
            self.errors.add_row(form, text, field, widget)
        inner = QWidget()
        inner.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        intro = QLabel(tr("Les champs Nom, Prénom et Territoire sont obligatoires."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        if person:
            self._fill(person)
        self.resize(640, 720)

    def _fill(self, person: dict[str, Any]) -> None:
        self.family_name.setText(person.get("family_name") or "")
        self.given_names.setText(person.get("given_names") or "")
        self.birth_date.setText(french_date(person.get("birth_date")))
        self.address_line.setText(person.get("address_line") or "")
        self.postcode.setText(person.get("postcode") or "")
        self.territory.setCurrentIndex(max(0, self.territory.findData(person.get("territory_id"))))
        self.phone_1.setText(person.get("phone_1") or "")
        self.phone_2.setText(person.get("phone_2") or "")
        self.lives_alone.setChecked(bool(person.get("lives_alone")))
        self.mobility.setCurrentIndex(max(0, self.mobility.findData(person.get("mobility"))))
        self.access_notes.setPlainText(person.get("access_notes") or "")
        emergency = (person.get("emergency_contacts") or [{}])[0] if person else {}
        self.emergency_name.setText(emergency.get("name", "") if emergency else "")
        self.emergency_relation.setText(emergency.get("relation", "") if emergency else "")
        self.emergency_phone.setText(emergency.get("phone", "") if emergency else "")

    def values(self) -> dict[str, Any]:
        emergency = []
        if self.emergency_name.text().strip() or self.emergency_phone.text().strip():
            emergency.append(
                {
                    "name": self.emergency_name.text(),
                    "relation": self.emergency_relation.text(),
                    "phone": self.emergency_phone.text(),
                }
            )
        if self.person and len(self.person.get("emergency_contacts") or []) > 1:
            emergency += self.person["emergency_contacts"][1:]
        return {
            "family_name": self.family_name.text(),
            "given_names": self.given_names.text(),
            "birth_date": self.birth_date.text(),
            "address_line": self.address_line.text(),
            "postcode": self.postcode.text(),
            "territory_id": self.territory.currentData(),
            "phone_1": self.phone_1.text(),
            "phone_2": self.phone_2.text(),
            "lives_alone": self.lives_alone.isChecked(),
            "mobility": self.mobility.currentData(),
            "access_notes": self.access_notes.toPlainText(),
            "emergency_contacts": emergency,
        }

    def save_job(self) -> Callable[[Workspace], dict[str, Any]]:
        values = self.values()
        person_id = self.person["id"] if self.person else None

        def job(ws: Workspace) -> dict[str, Any]:
            if person_id:
                return contacts.update(ws, person_id, values)
            return contacts.create_person(ws, values)

        return job
