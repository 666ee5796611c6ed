"""Record a person's consent (or refusal) from the fiche: what for, when, and how it was given."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any, cast

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract
from havre_desktop.core import contacts
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.widgets import SavingForm
from havre_desktop.ui.worker import DatabaseService

log = logging.getLogger("havre.ui.persons")

# How consent is usually collected at a visit or a desk (the agent may write something else).
METHODS = ("Oral, en présence de l'agent", "Écrit, formulaire signé", "Par téléphone")


class ConsentForm(SavingForm):
    """One consent or refusal, for one purpose; saving runs on the worker, errors inline."""

    announces = ("consents",)

    def __init__(
        self,
        database: DatabaseService,
        person: dict[str, Any],
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(database, "consents", log, parent)
        self.person = person
        self.setWindowTitle(tr("Consentement — {name}").format(name=contacts.display_name(person)))
        self.purpose = QComboBox()
        for purpose_id, label in contract.ENUMS["consent_purposes"].items():
            # The register's consent (or non-objection) is part of the enrolment (Registre…).
            if purpose_id != "registre":
                self.purpose.addItem(label, purpose_id)
        self.answer = QComboBox()
        self.answer.addItem(tr("La personne consent"), True)
        self.answer.addItem(tr("La personne refuse"), False)
        self.recorded_on = QDateEdit(QDate(today.year, today.month, today.day))
        self.recorded_on.setDisplayFormat("dd/MM/yyyy")
        self.recorded_on.setMaximumDate(QDate(today.year, today.month, today.day))
        self.recorded_on.setCalendarPopup(True)
        self.method = QComboBox()
        self.method.setEditable(True)
        self.method.addItems([tr(m) for m in METHODS])
        method_edit = self.method.lineEdit()
        assert isinstance(method_edit, QLineEdit)
        method_edit.setMaxLength(contract.ui_max_length("consents", "method"))
        form = QFormLayout()
        for text, field, widget in (
            (tr("&Objet :"), "purpose", self.purpose),
            (tr("&Réponse :"), "given", self.answer),
            (tr("&Date :"), "recorded_on", self.recorded_on),
            (tr("Re&cueilli comment :"), "method", self.method),
        ):
            self.errors.add_row(form, text, field, widget)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.general_error)
        layout.addWidget(self.buttons)
        self.purpose.setFocus()

    def values(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose.currentData(),
            "given": bool(self.answer.currentData()),
            "recorded_on": cast(date, self.recorded_on.date().toPython()).isoformat(),
            "method": self.method.currentText(),
        }

    def save_job(self) -> Callable[[Workspace], dict[str, Any]]:
        values, person_id = self.values(), self.person["id"]
        return lambda ws: contacts.record_consent(ws, person_id, values)
