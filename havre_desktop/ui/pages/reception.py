"""Accueil: a resident walks in; find what fits their need nearby, then count the visit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from havre_common.french import count
from havre_desktop.core import catalogue, streets, visits
from havre_desktop.core.errors import HavreError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.data import read_city_contact
from havre_desktop.printing.variant import Variant
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.operations import Changes, Operation
from havre_desktop.ui.pages.actions_page import ActionBrowser
from havre_desktop.ui.pages.handout_dialog import HandoutChoiceDialog, preview_handout
from havre_desktop.ui.widgets import error_label, hide_unless

if TYPE_CHECKING:  # the PDF engine loads when a document is built
    from havre_desktop.printing.record import PreparedHandout


class ReceptionPage(QWidget):
    """Need, territory, situation → matching current actions; one click counts the encounter."""

    counted = Signal(dict)

    def __init__(self, context: UiContext) -> None:
        super().__init__()
        self.ctx = context
        refs = context.references
        self.need = QComboBox()
        self.need.setAccessibleName(tr("Besoin exprimé"))
        for need_id, label in refs["need_kinds"].items():
            self.need.addItem(label, need_id)
        self.territory = QComboBox()
        self.territory.setAccessibleName(tr("Territoire du résident"))
        for territory_id, label in refs["territories"].items():
            self.territory.addItem(label, territory_id)
        if context.territories:
            self.territory.setCurrentIndex(self.territory.findData(context.territories[0]))
        # The resident's street → their territory (the street table the City loads).
        self.street = QLineEdit()
        self.street.setAccessibleName(tr("Rue du résident"))
        self.street.setPlaceholderText(tr("ex. : rue de paris, av foch"))
        self.street.setMaxLength(200)
        self.street.setClearButtonEnabled(True)
        self.street.textChanged.connect(self.find_street)
        self.street.returnPressed.connect(self.choose_street)
        self.street.installEventFilter(self)
        self.street_results = QListWidget()
        self.street_results.setAccessibleName(tr("Rues trouvées"))
        self.street_results.itemActivated.connect(lambda _item: self.choose_street())
        self.street_results.setVisible(False)
        self.street_results.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.street_results.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.street_status = QLabel()
        self.street_status.setAccessibleName(tr("Territoire trouvé"))
        self.street_status.setWordWrap(True)
        self._street_request = 0
        self.age_group = QComboBox()
        self.age_group.setAccessibleName(tr("Tranche d'âge"))
        self.age_group.addItem(tr("Non précisée"), None)
        for age_id, label in refs["age_groups"].items():
            self.age_group.addItem(label, age_id)
        self.step_free = QCheckBox(tr("Accès de plain-pied &nécessaire"))
        self.free_only = QCheckBox(tr("&Gratuit uniquement"))
        form = QFormLayout()
        street_label = QLabel(tr("&Rue du résident :"))
        street_label.setBuddy(self.street)
        form.addRow(street_label, self.street)
        form.addRow(self.street_results)
        form.addRow(self.street_status)
        for text, widget in (
            (tr("&Besoin :"), self.need),
            (tr("&Territoire :"), self.territory),
            (tr("Tranche &d'âge :"), self.age_group),
        ):
            field_label = QLabel(text)
            field_label.setBuddy(widget)
            form.addRow(field_label, widget)
        form.addRow(self.step_free)
        form.addRow(self.free_only)
        for combo in (self.need, self.territory, self.age_group):
            combo.currentIndexChanged.connect(self.refresh)
            # Another need, place or age: another resident (or another question), to count.
            combo.currentIndexChanged.connect(self._new_encounter)
        self._encounter_counted = False
        context.database.changes.changed.connect(self._changes)
        self.step_free.toggled.connect(self.refresh)
        self.free_only.toggled.connect(self.refresh)
        self.print_button = QPushButton(tr("&Imprimer pour le résident"))
        self.print_button.setAccessibleName(tr("Imprimer un document pour le résident"))
        self.print_button.clicked.connect(self.print_handout)
        self.count_button = QPushButton(tr("&Compter ce passage"))
        self.count_button.setAccessibleName(tr("Compter ce passage"))
        self.count_button.clicked.connect(self.count_encounter)
        # Enrolment on the register of vulnerable persons, at the desk (register right only).
        self.register_button = QPushButton(tr("In&scription au registre…"))
        self.register_button.setAccessibleName(
            tr("Inscription au registre des personnes vulnérables")
        )
        self.register_button.clicked.connect(self.enrol_in_register)
        hide_unless(context.register_right, self.register_button)
        self.status = QLabel()
        self.status.setAccessibleName(tr("Confirmation"))
        self.status.setWordWrap(True)
        self.error = error_label()
        self.error.setAccessibleName(tr("Erreur"))
        self.browser = ActionBrowser(
            context,
            [
                (tr("Action"), lambda a: a["title"]),
                (tr("Quand"), lambda a: a.get("schedule") or tr("à convenir")),
                (tr("Prix"), lambda a: a.get("price_label") or ""),
                (tr("À noter"), lambda a: a.get("notice") or ""),
            ],
            tr("Actions correspondantes"),
        )
        self.model, self.table, self.detail = (
            self.browser.model,
            self.browser.table,
            self.browser.detail,
        )
        self.result_label = QLabel()
        self.result_label.setAccessibleName(tr("Nombre d'actions trouvées"))
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addLayout(form)
        buttons = QHBoxLayout()
        buttons.addWidget(self.count_button)
        buttons.addWidget(self.print_button)
        buttons.addStretch(1)
        left_layout.addLayout(buttons)
        left_layout.addWidget(self.register_button)
        left_layout.addWidget(self.status)
        left_layout.addWidget(self.error)
        left_layout.addStretch(1)
        column = QWidget()
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.addWidget(self.result_label)
        column_layout.addWidget(self.browser, 1)
        layout = QHBoxLayout(self)
        layout.addWidget(left, 1)
        layout.addWidget(column, 3)

    def enrol_in_register(self) -> None:
        """A resident asks to be on the register: her fiche (new here), then the enrolment.
        A person the City already follows is enrolled from her fiche (Personnes, Registre…)."""
        from havre_desktop.ui.pages.person_form import PersonForm
        from havre_desktop.ui.pages.register_form import RegisterForm

        person_form = PersonForm(self.ctx.database, self.ctx.references, None, self)
        territory = self.territory.currentData()
        person_form.territory.setCurrentIndex(person_form.territory.findData(territory))
        if person_form.exec() != QDialog.DialogCode.Accepted or not person_form.saved:
            return
        self.register_form = RegisterForm(self.ctx, person_form.saved, self)
        if self.register_form.exec() == QDialog.DialogCode.Accepted:
            self.status.setText(
                tr(
                    "Inscription au registre enregistrée. "
                    "L'accusé de réception est dans Ma journée."
                )
            )

    def filters(self) -> dict[str, Any]:
        return {
            "need_id": self.need.currentData(),
            "territory_id": self.territory.currentData(),
            "age_group_id": self.age_group.currentData(),
            "step_free": self.step_free.isChecked(),
            "free_only": self.free_only.isChecked(),
            "statuses": ["en-cours", "en-test"],
        }

    def _changes(self, changes: Changes) -> None:
        if changes.touches("actions", "facilities", "temporary_changes"):
            self.refresh()
        if changes.touches("streets") and self.street.text().strip():
            self.find_street(self.street.text())

    # -- the street → the territory ---------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Down from the street field goes into the streets found."""
        if (
            watched is self.street
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Down
            and self.street_results.count()
        ):
            self.street_results.setFocus()
            self.street_results.setCurrentRow(min(1, self.street_results.count() - 1))
            return True
        return super().eventFilter(watched, event)

    def find_street(self, text: str) -> None:
        self._street_request += 1
        request = self._street_request
        typed = text.strip()
        if not typed:
            self.street_results.clear()
            self.street_results.setVisible(False)
            self.street_status.clear()
            return

        def job(ws: Workspace) -> tuple[int, list[streets.Street]]:
            return streets.count_streets(ws), streets.find_streets(ws, typed)

        def show(result: tuple[int, list[streets.Street]]) -> None:
            if request == self._street_request:  # an older search answered late: dropped
                self._show_streets(typed, *result)

        Operation(self.ctx.database, job).success(show).run()

    def _show_streets(self, typed: str, loaded: int, found: list[streets.Street]) -> None:
        territories = self.ctx.references["territories"]
        self.street_results.clear()
        for street in found:
            where = territories.get(street.territory_id, street.territory_id)
            text = f"{street.name} — {where}"
            if street.postcode:
                text += f" ({street.postcode})"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, street)
            self.street_results.addItem(item)
        self.street_results.setVisible(bool(found))
        if found:
            self.street_results.setCurrentRow(0)
            # As tall as the streets found (at most 6 rows), not a tall empty box.
            rows = min(len(found), 6)
            frame = 2 * self.street_results.frameWidth() + 4
            self.street_results.setFixedHeight(rows * self.street_results.sizeHintForRow(0) + frame)
            self.street_status.setText(
                count(
                    len(found),
                    tr("{n} rue trouvée : Entrée choisit son territoire."),
                    tr("{n} rues trouvées : Entrée choisit la première, ↓ les autres."),
                )
            )
        elif not loaded:
            self.street_status.setText(
                tr(
                    "Aucune liste de rues n'est chargée sur ce poste : la Ville la charge sur "
                    "son serveur, elle arrive à la synchronisation."
                )
            )
        else:
            self.street_status.setText(
                tr("Aucune rue ne correspond à « {text} ».").format(text=typed)
            )

    def choose_street(self) -> None:
        """The chosen street's territory becomes the Accueil filter."""
        item = self.street_results.currentItem()
        if item is None:
            return
        street: streets.Street = item.data(Qt.ItemDataRole.UserRole)
        index = self.territory.findData(street.territory_id)
        if index < 0:
            return
        self.territory.setCurrentIndex(index)
        self.street_status.setText(
            tr("{street} : {territory}.").format(
                street=street.name, territory=self.territory.itemText(index)
            )
            + (tr(" (liste de rues d'exemple, fictive)") if street.sample else "")
        )
        self.street_results.setVisible(False)
        self.need.setFocus()

    def refresh(self) -> None:
        filters = self.filters()

        def job(ws: Workspace) -> list[dict[str, Any]]:
            rows = catalogue.list_actions(ws, **filters)
            return catalogue.mark_notices(ws, rows, ws.clock.today())  # closed today…

        self.ctx.database.submit(job, self._show)

    def _show(self, rows: list[dict[str, Any]]) -> None:
        self.browser.show_rows(rows)
        self.result_label.setText(
            count(len(rows), tr("{n} action pour ce besoin"), tr("{n} actions pour ce besoin"))
        )

    def print_handout(self) -> None:
        """An anonymous handout of the actions shown (the selected one ticked first)."""
        selected = (
            self.model.row(self.table.currentIndex().row()) if self.model.rowCount() else None
        )
        preselected = [selected["id"]] if selected else []
        territory = self.territory.currentData()
        dialog = HandoutChoiceDialog(
            self.ctx,
            preselected,
            territory,
            tr("Document pour le résident"),
            self,
            matching=self.model.rows,
        )
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return

        def prepare(ws: Workspace, action_ids: list[str], variant: Variant) -> PreparedHandout:
            from havre_desktop.printing.record import prepare_reception_handout

            city = read_city_contact(ws)  # the agent's desk, as the server last sent it
            return prepare_reception_handout(
                ws, action_ids, territory_id=territory, variant=variant, city=city
            )

        preview_handout(
            self.ctx,
            prepare,
            dialog.chosen(),
            dialog.variant,
            tr("Document pour le résident"),
            "document-accueil.pdf",
            self,
            self._handout_given,
        )

    def _handout_given(self, row: dict[str, Any]) -> None:
        """A document printed for the resident: the visit counts too (once, no second click)."""
        self.ctx.database.changes.announce(["handouts_given"])
        self.counted.emit(row)
        if not self._encounter_counted:
            self.count_encounter()

    def _new_encounter(self, *_args: object) -> None:
        self._encounter_counted = False
        self.count_button.setEnabled(True)
        self.status.clear()

    def count_encounter(self) -> None:
        if self._encounter_counted:
            return
        values = {
            "territory_id": self.territory.currentData(),
            "need_id": self.need.currentData(),
            "age_group_id": self.age_group.currentData(),
        }
        self.count_button.setEnabled(False)
        Operation(self.ctx.database, lambda ws: visits.count_encounter(ws, values)).success(
            self._counted
        ).failure(self._failed).announces("reception_encounters").run()

    def _counted(self, encounter: dict[str, Any]) -> None:
        self._encounter_counted = True
        self.count_button.setEnabled(False)  # until another need, place or age is chosen
        self.error.setVisible(False)
        self.status.setText(
            tr("Passage compté : {need}, {territory}.").format(
                need=self.need.currentText(), territory=self.territory.currentText()
            )
        )
        self.counted.emit(encounter)

    def _failed(self, error: Exception) -> None:
        self.count_button.setEnabled(True)
        message = error.message if isinstance(error, HavreError) else tr("Erreur inattendue.")
        self.error.setText(message)
        self.error.setVisible(True)
