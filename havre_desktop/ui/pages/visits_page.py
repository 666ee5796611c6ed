"""Visites: the journal with filters, and quick entry for any person."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from havre_common.french import count
from havre_desktop.core import contacts, visits
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import french_datetime, tr
from havre_desktop.ui.models import PersonSearchModel, VisitJournalModel
from havre_desktop.ui.operations import Changes
from havre_desktop.ui.pages.visit_form import VisitForm
from havre_desktop.ui.widgets import table_view

PERIODS = (
    ("7", "7 derniers jours"),
    ("30", "30 derniers jours"),
    ("365", "12 derniers mois"),
    ("", "Toute la période"),
)


class PersonPicker(QDialog):
    """Type a few letters, Enter picks the first (or the selected) person."""

    def __init__(self, context: UiContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Choisir la personne"))
        self.person_id: str | None = None
        self.field = QLineEdit()
        self.field.setAccessibleName(tr("Rechercher une personne"))
        self.model = PersonSearchModel(
            context.database, context.references["territories"], lambda: context.today
        )
        self.table = table_view(tr("Personnes trouvées"))
        self.table.setModel(self.model)
        self.field.textChanged.connect(self.model.set_search_text)
        self.field.returnPressed.connect(self._pick_first)
        self.table.activated.connect(lambda index: self._pick(index.row()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Annuler"))
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(tr("&Personne :"), self.field)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(640, 420)

    def _pick_first(self) -> None:
        self._pick(self.table.currentIndex().row() if self.table.currentIndex().isValid() else 0)

    def _pick(self, row: int) -> None:
        self.person_id = self.model.person_id(row)
        if self.person_id:
            self.accept()


class VisitsPage(QWidget):
    """The journal newest first; filters by period, agent, territory, kind and outcome."""

    open_person = Signal(str)
    visit_saved = Signal(dict)

    def __init__(self, context: UiContext) -> None:
        super().__init__()
        self.ctx = context
        self._shown = False  # the journal is read when its page is first opened
        context.database.changes.changed.connect(self._changes)
        refs = context.references
        self.period = QComboBox()
        for value, label in PERIODS:
            self.period.addItem(tr(label), value)
        self.period.setCurrentIndex(1)
        self.agent = QComboBox()
        self.agent.addItem(tr("Tous les agents"), None)
        self.agent.addItem(tr("Moi"), context.agent.get("id"))
        for colleague in context.colleagues:
            if colleague["id"] != context.agent.get("id"):
                self.agent.addItem(colleague["display_name"], colleague["id"])
        self.territory = QComboBox()
        self.territory.addItem(tr("Tous les territoires"), None)
        for territory_id, label in refs["territories"].items():
            self.territory.addItem(label, territory_id)
        self.kind = QComboBox()
        self.kind.addItem(tr("Tous les types"), None)
        for kind_id, label in refs["visit_kinds"].items():
            self.kind.addItem(label, kind_id)
        self.outcome = QComboBox()
        self.outcome.addItem(tr("Tous les résultats"), None)
        for outcome_id, label in refs["visit_outcomes"].items():
            self.outcome.addItem(label, outcome_id)
        filters = QGridLayout()
        for position, (text, combo) in enumerate(
            (
                (tr("Pé&riode :"), self.period),
                (tr("A&gent :"), self.agent),
                (tr("&Territoire :"), self.territory),
                (tr("T&ype :"), self.kind),
                (tr("Rés&ultat :"), self.outcome),
            )
        ):
            field_label = QLabel(text)
            field_label.setBuddy(combo)
            combo.setAccessibleName(text.replace("&", "").rstrip(" :"))
            combo.currentIndexChanged.connect(self.apply_filters)
            filters.addWidget(field_label, position // 3, (position % 3) * 2)
            filters.addWidget(combo, position // 3, (position % 3) * 2 + 1)
        self.new_button = QPushButton(tr("&Nouvelle visite…"))
        self.new_button.setAccessibleName(tr("Nouvelle visite"))
        self.new_button.clicked.connect(self.quick_entry)
        self.model = VisitJournalModel(
            context.database,
            [
                (tr("Date"), lambda r: french_datetime(r.get("occurred_at"))),
                (
                    tr("Personne"),
                    lambda r: contacts.display_name({**r, "kind": r.get("contact_kind")}),
                ),
                (tr("Type"), lambda r: refs["visit_kinds"].get(r.get("kind") or "", "")),
                (tr("Résultat"), lambda r: refs["visit_outcomes"].get(r.get("outcome") or "", "")),
                (
                    tr("Territoire"),
                    lambda r: refs["territories"].get(r.get("territory_id") or "", ""),
                ),
                (tr("Notes"), visits.shown_note),
            ],
        )
        self.table = table_view(tr("Journal des visites"))
        self.table.setModel(self.model)
        self.table.setWordWrap(False)
        self.table.activated.connect(self._activate)
        self.count = QLabel()
        self.count.setAccessibleName(tr("Nombre de visites"))
        self.model.loaded.connect(self._loaded)
        # The button takes the grid's free sixth place: beside the filters it would widen the
        # page past a 1366-pixel screen at 200 % text.
        filters.addWidget(self.new_button, 1, 4, 1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)

    def _loaded(self) -> None:
        self.count.setText(count(self.model.rowCount(), tr("{n} visite"), tr("{n} visites")))
        if self.model.rowCount() and self.model.is_loaded(0):
            self.table.resizeColumnsToContents()  # measures the visible rows only

    def current_filters(self) -> dict[str, Any]:
        days = self.period.currentData()
        since = (self.ctx.today - timedelta(days=int(days))).isoformat() if days else None
        return {
            "since": since,
            "agent_id": self.agent.currentData(),
            "territory_id": self.territory.currentData(),
            "kind": self.kind.currentData(),
            "outcome": self.outcome.currentData(),
        }

    def apply_filters(self) -> None:
        self._shown = True
        self.model.set_filters(self.current_filters())

    def _changes(self, changes: Changes) -> None:
        """Once the journal was shown: visits saved here or pulled, names changed, the
        period's start moved by a new day."""
        if self._shown and changes.touches("visits", "contacts"):
            self.apply_filters()

    def _activate(self, index: Any) -> None:
        row = self.model.row(index.row())
        if row:
            self.open_person.emit(row["person_id"])

    def quick_entry(self) -> None:
        picker = PersonPicker(self.ctx, self)
        if picker.exec() != QDialog.DialogCode.Accepted or not picker.person_id:
            return
        person_id = picker.person_id
        self.ctx.database.submit(lambda ws: contacts.get(ws, person_id), self._enter_visit)

    def _enter_visit(self, person: dict[str, Any]) -> None:
        form = VisitForm.for_person(self.ctx, person, self)
        if form.exec() == QDialog.DialogCode.Accepted and form.saved:
            self.visit_saved.emit(form.saved)  # the journal follows the announcement
