"""Coordinators edit the catalogue from the app, online: actions, facilities, temporary changes,
and the City's spreadsheet (preview, report, import).

The server holds the catalogue: every dialog here checks what was typed with the contract's own
validation (the server's French messages, before anything is sent), sends it through the
authenticated API, then syncs — the change comes back to this laptop and to every other at its
next sync. A social worker or a reception agent never sees these dialogs (and the server refuses
them: 403, in French).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract, validation
from havre_common.catalogue_sheet import CURRENT_STATUSES, read_sheet
from havre_common.values import parse_date
from havre_desktop.core.errors import HavreError
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.models import RowsModel
from havre_desktop.ui.widgets import (
    add_captioned_rows,
    checkable_list,
    checked_ids,
    error_label,
    save_on_server_buttons,
    scrolling,
    set_checked_ids,
    table_view,
)

if TYPE_CHECKING:  # pydantic's models: not loaded by a page every agent has
    from havre_common.protocol import CatalogueSheetReport

log = logging.getLogger("havre.ui.catalogue")

EDITORS = frozenset({contract.COORDINATOR, contract.ADMINISTRATOR})
NOT_READY = "La synchronisation n'est pas prête : réessayez dans un instant."
UNEXPECTED = "Le serveur n'a pas pu enregistrer la modification (erreur inattendue)."
OUTCOMES = {"created": "Créée", "changed": "Modifiée", "unchanged": "Inchangée"}


def _date_text(value: Any) -> str:
    if not value:
        return ""
    try:
        parsed = parse_date(str(value))
    except ValueError:
        return str(value)
    return parsed.strftime("%d/%m/%Y") if parsed else ""


class _ServerDialog(QDialog):
    """A dialog whose save goes to the server (then a sync brings the row back)."""

    def __init__(self, context: UiContext, sync: Any, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ctx = context
        self.sync = sync
        self.error = error_label()
        self.error.setAccessibleName(tr("Erreur"))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(tr("État"))
        self.saved_row: dict[str, Any] | None = None

    def send(self, table: str, row_id: str, values: dict[str, Any], button: QPushButton) -> None:
        """Checked here as the server will (same French), then sent."""
        try:
            validation.clean(table, values, creating=False)
        except validation.ContractViolation as exc:
            self.refused(" ".join(exc.errors.values()))
            return
        if self.sync is None:
            self.refused(tr(NOT_READY))
            return
        button.setEnabled(False)
        self.error.setVisible(False)
        self.status.setText(tr("Envoi au serveur…"))
        engine = self.sync.engine

        def failed(error: Exception) -> None:
            button.setEnabled(True)
            self.status.clear()
            self.failed(error)

        self.sync.worker.submit(
            lambda _ws: engine.save_catalogue_row(table, row_id, values), self._saved, failed
        )

    def _saved(self, row: dict[str, Any]) -> None:
        self.saved_row = row
        self.status.setText(tr("Enregistré sur le serveur : synchronisation en cours."))
        self.sync.sync_now()  # the row comes back to this laptop (and to every other)
        self.accept()

    def failed(self, error: Exception) -> None:
        if isinstance(error, HavreError):
            self.refused(error.message)
        else:
            log.error("catalogue change not saved", exc_info=error)
            self.refused(tr(UNEXPECTED))

    def refused(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(True)


def _fit(dialog: QDialog, columns: int, lines: int) -> None:
    """A size in characters and lines of the dialog's font (100 % or 200 % text), kept within
    the screen."""
    metrics = dialog.fontMetrics()
    width, height = metrics.averageCharWidth() * columns, metrics.lineSpacing() * lines
    screen = dialog.screen().availableGeometry() if dialog.screen() is not None else None
    if screen is not None:
        width, height = min(width, screen.width() - 40), min(height, screen.height() - 80)
    dialog.resize(width, height)


def _two_columns(boxes: list[QCheckBox]) -> QGridLayout:
    """Check boxes two by two (one row of four would widen the dialog at 200 %)."""
    grid = QGridLayout()
    for index, box in enumerate(boxes):
        grid.addWidget(box, index // 2, index % 2)
    grid.setColumnStretch(2, 1)
    return grid


def _line(text: str, table: str, name: str) -> QLineEdit:
    field = QLineEdit(text)
    limit = contract.ui_max_length(table, name)
    if limit and contract.TABLES[table].field(name).kind is contract.Kind.TEXT:
        field.setMaxLength(limit)
    field.setAccessibleName(contract.field_label(table, name))
    return field


def _combo(items: dict[str, str], current: Any, name: str, empty: str | None = None) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    # As wide as the form gives (a long priority is elided, not widening the dialog at 200 %).
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(16)
    if empty is not None:
        combo.addItem(empty, "")
    for key, label in items.items():
        combo.addItem(label, key)
    combo.setCurrentIndex(max(0, combo.findData(current or "")))
    return combo


class ActionEditor(_ServerDialog):
    """Create or change an action: what, when, where, for whom, status and dates."""

    def __init__(
        self,
        context: UiContext,
        sync: Any,
        action: dict[str, Any] | None,
        facilities: list[dict[str, Any]],
        parent: QWidget | None = None,
        *,
        status: str | None = None,
    ) -> None:
        super().__init__(context, sync, parent)
        self.action = action or {}
        self.row_id = str(self.action.get("id") or uuid.uuid4())
        self.setWindowTitle(tr("Modifier l'action") if action else tr("Nouvelle action"))
        refs = context.references
        a = self.action
        self.code = _line(str(a.get("code") or ""), "actions", "code")
        self.title = _line(str(a.get("title") or ""), "actions", "title")
        self.summary = QPlainTextEdit(str(a.get("summary") or ""))
        self.summary.setAccessibleName(tr("Résumé"))
        self.summary.setTabChangesFocus(True)
        self.summary.setFixedHeight(self.fontMetrics().lineSpacing() * 4)
        self.priority = _combo(refs["priorities"], a.get("priority_id"), tr("Priorité"))
        statuses = {k: refs["action_statuses"].get(k, k) for k in CURRENT_STATUSES}
        self.status_choice = _combo(
            statuses, status or a.get("status") or "proposee", tr("Statut de l'action")
        )
        self.territories = checkable_list(refs["territories"].items(), tr("Territoires"))
        set_checked_ids(
            self.territories,
            a.get("territory_ids") or list(context.agent.get("territory_ids") or [])[:1],
        )
        self.audiences = checkable_list(refs["audiences"].items(), tr("Publics"))
        set_checked_ids(self.audiences, a.get("audience_ids") or [])
        self.needs = checkable_list(refs["need_kinds"].items(), tr("Besoins"))
        set_checked_ids(self.needs, a.get("need_ids") or [])
        for checklist in (self.territories, self.audiences, self.needs):
            checklist.setFixedHeight(int(self.fontMetrics().lineSpacing() * 5.8))
        self.facility = _combo(
            {str(f["id"]): str(f["name"]) for f in facilities},
            a.get("facility_id"),
            tr("Lieu"),
            empty=tr("Sans lieu fixe"),
        )
        self.schedule = _line(str(a.get("schedule") or ""), "actions", "schedule")
        self.contact_name = _line(str(a.get("contact_name") or ""), "actions", "contact_name")
        self.contact_phone = _line(str(a.get("contact_phone") or ""), "actions", "contact_phone")
        self.signup = _line(str(a.get("signup") or ""), "actions", "signup")
        self.is_free = QCheckBox(tr("Gratuit"))
        self.is_free.setChecked(bool(a.get("is_free", 1)))
        self.price = _line(str(a.get("price_label") or ""), "actions", "price_label")
        self.start = _line(_date_text(a.get("start_date")), "actions", "start_date")
        stopped_on = context.local_now().date().isoformat()  # the app's clock
        end = a.get("end_date") or (stopped_on if status == "arretee" else "")
        self.end = _line(_date_text(end), "actions", "end_date")
        for field in (self.start, self.end):
            field.setPlaceholderText(tr("JJ/MM/AAAA"))
        seasonal = a.get("seasonal") or {}
        self.seasonal = {
            key: QCheckBox(label) for key, label in contract.ENUMS["seasonal_flags"].items()
        }
        for key, box in self.seasonal.items():
            box.setChecked(bool(seasonal.get(key)))
        form = QFormLayout()
        rows: list[tuple[str, QWidget]] = [
            (tr("C&ode :"), self.code),
            (tr("&Intitulé :"), self.title),
            (tr("Résu&mé :"), self.summary),
            (tr("&Priorité :"), self.priority),
            (tr("S&tatut :"), self.status_choice),
            (tr("Te&rritoires :"), self.territories),
            (tr("P&ublics :"), self.audiences),
            (tr("&Besoins :"), self.needs),
            (tr("&Lieu :"), self.facility),
            (tr("&Horaires :"), self.schedule),
            (tr("Co&ntact :"), self.contact_name),
            (tr("Téléphone du &contact :"), self.contact_phone),
            (tr("In&scription :"), self.signup),
            (tr("T&arif :"), self.price),
            (tr("&Début (JJ/MM/AAAA) :"), self.start),
            (tr("&Fin (JJ/MM/AAAA) :"), self.end),
        ]
        add_captioned_rows(form, rows)
        self.is_free.setText(tr("&Gratuit"))
        self.seasonal["refuge-climatique"].setText(tr("Refuge climati&que"))
        checks = _two_columns([self.is_free, *self.seasonal.values()])
        form.addRow(QLabel(tr("Prix et usage saisonnier :")))
        form.addRow(checks)  # the whole width: two check boxes side by side fit at 200 %
        content = QWidget()
        content.setLayout(form)
        body = QWidget()
        scrolling(body, content)
        self.buttons, self.save_button = save_on_server_buttons(self.save, self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(body, 1)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        _fit(self, 120, 36)

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "code": self.code.text().strip(),
            "title": self.title.text().strip(),
            "summary": self.summary.toPlainText().strip(),
            "priority_id": self.priority.currentData() or "",
            "status": self.status_choice.currentData() or "",
            "territory_ids": checked_ids(self.territories),
            "audience_ids": checked_ids(self.audiences),
            "need_ids": checked_ids(self.needs),
            "facility_id": self.facility.currentData() or "",
            "schedule": self.schedule.text().strip(),
            "contact_name": self.contact_name.text().strip(),
            "contact_phone": self.contact_phone.text().strip(),
            "signup": self.signup.text().strip(),
            "is_free": self.is_free.isChecked(),
            "price_label": self.price.text().strip(),
            "start_date": self.start.text().strip(),
            "end_date": self.end.text().strip(),
            "seasonal": {key: box.isChecked() for key, box in self.seasonal.items()},
        }
        if not self.action:
            return values
        # Only what changed travels (the server audits the fields changed).
        before = {k: self.action.get(k) for k in values}
        for key in ("start_date", "end_date"):
            before[key] = _date_text(before[key])
            values[key] = _date_text(values[key]) if values[key] else ""
        for key in ("summary", "facility_id", "schedule", "contact_name", "signup", "price_label"):
            before[key] = before[key] or ""
        before["contact_phone"] = before["contact_phone"] or ""
        before["is_free"] = bool(before["is_free"])
        before["seasonal"] = {k: bool((before["seasonal"] or {}).get(k)) for k in self.seasonal}
        return {k: v for k, v in values.items() if v != before[k]}

    def save(self) -> None:
        values = self.values()
        if self.action and not values:
            self.accept()
            return
        self.send("actions", self.row_id, values, self.save_button)


class FacilityEditor(_ServerDialog):
    """Create or change a facility; suspend or close it (its status)."""

    def __init__(
        self,
        context: UiContext,
        sync: Any,
        facility: dict[str, Any] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(context, sync, parent)
        self.facility = facility or {}
        self.row_id = str(self.facility.get("id") or uuid.uuid4())
        self.setWindowTitle(tr("Modifier le lieu") if facility else tr("Nouveau lieu"))
        refs, f = context.references, self.facility
        self.name = _line(str(f.get("name") or ""), "facilities", "name")
        self.kind = _combo(refs["facility_kinds"], f.get("kind_id"), tr("Type de lieu"))
        self.address = _line(str(f.get("address_line") or ""), "facilities", "address_line")
        self.postcode = _line(str(f.get("postcode") or ""), "facilities", "postcode")
        self.city = _line(str(f.get("city") or "Le Havre"), "facilities", "city")
        self.territory = _combo(
            refs["territories"], f.get("territory_id"), tr("Territoire"), empty=tr("Aucun")
        )
        self.phone = _line(str(f.get("phone") or ""), "facilities", "phone")
        self.hours = _line(str(f.get("opening_hours") or ""), "facilities", "opening_hours")
        self.step_free = QCheckBox(tr("Accès de p&lain-pied"))
        self.step_free.setChecked(bool(f.get("step_free")))
        self.state = _combo(
            dict(contract.ENUMS["facility_statuses"]), f.get("status") or "ouvert", tr("État")
        )
        seasonal = f.get("seasonal") or {}
        texts = {
            "salle-rafraichie": tr("Salle ra&fraîchie"),
            "refuge-climatique": tr("Refuge cli&matique"),
            "lieu-chauffe": tr("Lie&u chauffé"),
        }
        self.seasonal = {key: QCheckBox(texts[key]) for key in contract.ENUMS["seasonal_flags"]}
        for key, box in self.seasonal.items():
            box.setChecked(bool(seasonal.get(key)))
        form = QFormLayout()
        add_captioned_rows(
            form,
            (
                (tr("&Nom du lieu :"), self.name),
                (tr("&Type de lieu :"), self.kind),
                (tr("&Adresse :"), self.address),
                (tr("&Code postal :"), self.postcode),
                (tr("&Ville :"), self.city),
                (tr("Te&rritoire :"), self.territory),
                (tr("Télé&phone :"), self.phone),
                (tr("&Horaires :"), self.hours),
                (tr("État du l&ieu :"), self.state),
            ),
        )
        checks = _two_columns([self.step_free, *self.seasonal.values()])
        form.addRow(QLabel(tr("Accès et usage saisonnier :")))
        form.addRow(checks)
        self.buttons, self.save_button = save_on_server_buttons(self.save, self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        _fit(self, 120, 24)

    def values(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "name": self.name.text().strip(),
            "kind_id": self.kind.currentData() or "",
            "address_line": self.address.text().strip(),
            "postcode": self.postcode.text().strip(),
            "city": self.city.text().strip(),
            "territory_id": self.territory.currentData() or "",
            "phone": self.phone.text().strip(),
            "opening_hours": self.hours.text().strip(),
            "step_free": self.step_free.isChecked(),
            "status": self.state.currentData() or "ouvert",
            "seasonal": {key: box.isChecked() for key, box in self.seasonal.items()},
        }
        if not self.facility:
            return values
        before = {k: self.facility.get(k) for k in values}
        for key in ("address_line", "postcode", "city", "territory_id", "phone", "opening_hours"):
            before[key] = before[key] or ""
        before["step_free"] = bool(before["step_free"])
        before["seasonal"] = {k: bool((before["seasonal"] or {}).get(k)) for k in self.seasonal}
        return {k: v for k, v in values.items() if v != before[k]}

    def save(self) -> None:
        values = self.values()
        if self.facility and not values:
            self.accept()
            return
        self.send("facilities", self.row_id, values, self.save_button)


class TemporaryChangeDialog(_ServerDialog):
    """A closure, other hours or a message for an action or its facility, from a date to a
    date: shown on Accueil and in the catalogue, printed on the handouts of that period."""

    def __init__(
        self,
        context: UiContext,
        sync: Any,
        action: dict[str, Any],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(context, sync, parent)
        self.setWindowTitle(tr("Changement temporaire"))
        self.action = action
        self.target = QComboBox()
        self.target.setAccessibleName(tr("Concerne"))
        self.target.addItem(tr("L'action : ") + str(action.get("title") or ""), "action")
        facility = action.get("facility")
        if facility:
            self.target.addItem(tr("Le lieu : ") + str(facility.get("name") or ""), "facility")
        self.kind = _combo(
            dict(contract.ENUMS["temporary_change_kinds"]), "fermeture", tr("Type de changement")
        )
        today = context.local_now().date().strftime("%d/%m/%Y")
        self.starts = _line(today, "temporary_changes", "starts_on")
        self.ends = _line(today, "temporary_changes", "ends_on")
        for field in (self.starts, self.ends):
            field.setPlaceholderText(tr("JJ/MM/AAAA"))
        self.hours = _line("", "temporary_changes", "hours")
        self.message = _line("", "temporary_changes", "message")
        form = QFormLayout()
        add_captioned_rows(
            form,
            (
                (tr("C&oncerne :"), self.target),
                (tr("&Type :"), self.kind),
                (tr("&Du (JJ/MM/AAAA) :"), self.starts),
                (tr("&Au (JJ/MM/AAAA) :"), self.ends),
                (tr("&Horaires pendant la période :"), self.hours),
                (tr("&Message :"), self.message),
            ),
        )
        note = QLabel(
            tr(
                "Le changement apparaît à l'Accueil et dans le catalogue, et il est imprimé "
                "sur les documents remis pendant cette période (pas avant, pas après)."
            )
        )
        note.setWordWrap(True)
        self.buttons, self.save_button = save_on_server_buttons(self.save, self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        _fit(self, 110, 18)

    def values(self) -> dict[str, Any]:
        on_facility = self.target.currentData() == "facility"
        facility = self.action.get("facility") or {}
        return {
            "action_id": "" if on_facility else str(self.action["id"]),
            "facility_id": str(facility.get("id") or "") if on_facility else "",
            "kind": self.kind.currentData() or "",
            "starts_on": self.starts.text().strip(),
            "ends_on": self.ends.text().strip(),
            "hours": self.hours.text().strip(),
            "message": self.message.text().strip(),
        }

    def save(self) -> None:
        values = {k: v for k, v in self.values().items() if v != ""}
        self.send("temporary_changes", str(uuid.uuid4()), values, self.save_button)


class SheetImportDialog(QDialog):
    """The City's spreadsheet: choose the file, see what the import would do (or every bad
    line: line, column, French message), then import it — all or nothing, on the server."""

    def __init__(
        self,
        context: UiContext,
        sync: Any,
        parent: QWidget | None = None,
        choose_file: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Importer le tableur de la Ville"))
        self.ctx = context
        self.sync = sync
        self.choose_file = choose_file or self._ask_file
        self.report: CatalogueSheetReport | None = None
        self.path = QLineEdit()
        self.path.setAccessibleName(tr("Fichier du tableur"))
        self.path.setPlaceholderText(tr("catalogue.xlsx ou catalogue.csv"))
        path_label = QLabel(tr("&Fichier :"))
        path_label.setBuddy(self.path)
        self.browse_button = QPushButton(tr("&Choisir…"))
        self.browse_button.clicked.connect(self._browse)
        self.preview_button = QPushButton(tr("&Aperçu"))
        self.preview_button.clicked.connect(self.preview)
        self.import_button = QPushButton(tr("&Importer"))
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(self.apply)
        close = QPushButton(tr("Fe&rmer"))
        close.clicked.connect(self.reject)
        self.summary = QLabel(
            tr(
                "Une action par ligne, repérée par son code : l'aperçu dit ce qui sera créé, "
                "modifié ou inchangé, ou chaque ligne à corriger. Rien n'est importé tant "
                "qu'une ligne est fausse."
            )
        )
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(tr("Résumé de l'import"))
        self.lines_model: RowsModel[dict[str, Any]] = RowsModel(
            [
                (tr("Ligne"), lambda r: str(r["line"])),
                (tr("Colonne ou code"), lambda r: r["where"]),
                (tr("Résultat ou problème"), lambda r: r["what"]),
            ]
        )
        self.lines = table_view(tr("Lignes du tableur"))
        self.lines.setModel(self.lines_model)
        self.lines.horizontalHeader().setStretchLastSection(True)
        self.error = error_label()
        self.error.setAccessibleName(tr("Erreur"))
        top = QHBoxLayout()
        top.addWidget(path_label)
        top.addWidget(self.path, 1)
        top.addWidget(self.browse_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.path.textChanged.connect(lambda _t: self.import_button.setEnabled(False))
        self.lines.setTextElideMode(Qt.TextElideMode.ElideNone)
        _fit(self, 140, 30)

    def _ask_file(self) -> str:
        name, _filter = QFileDialog.getOpenFileName(
            self,
            tr("Tableur de la Ville"),
            "",
            tr("Tableurs (*.xlsx *.csv);;Tous les fichiers (*)"),
        )
        return name

    def _browse(self) -> None:
        name = self.choose_file()
        if name:
            self.path.setText(name)
            self.preview()

    def preview(self) -> None:
        self._send(apply=False)

    def apply(self) -> None:
        self._send(apply=True)

    def _send(self, *, apply: bool) -> None:
        path = Path(self.path.text().strip())
        if not self.path.text().strip():
            self._refused(tr("Choisissez d'abord le fichier du tableur."))
            return
        if self.sync is None:
            self._refused(tr(NOT_READY))
            return
        for button in (self.preview_button, self.import_button):
            button.setEnabled(False)
        self.error.setVisible(False)
        self.summary.setText(tr("Import en cours…") if apply else tr("Lecture et aperçu…"))
        engine = self.sync.engine

        def job(_ws: Any) -> CatalogueSheetReport:
            try:
                data = path.read_bytes()
            except OSError:
                raise HavreError(tr("Le fichier n'a pas pu être lu : vérifiez son nom.")) from None
            report: CatalogueSheetReport = engine.import_catalogue_sheet(
                read_sheet(data, path.name), apply=apply
            )
            return report

        self.sync.worker.submit(job, self._show, self._failed)

    def _show(self, report: CatalogueSheetReport) -> None:
        self.report = report
        self.preview_button.setEnabled(True)
        rows: list[dict[str, Any]]
        if report.problems:
            lines = len({p.line for p in report.problems})
            self.summary.setText(
                tr(
                    "Tableau refusé : {n} ligne(s) à corriger. Rien n'a été importé. "
                    "Corrigez le tableur puis relancez l'aperçu."
                ).format(n=lines)
            )
            rows = [{"line": p.line, "where": p.column, "what": p.message} for p in report.problems]
            self.import_button.setEnabled(False)
        else:
            counts = tr("{c} action(s) créée(s), {m} modifiée(s), {u} inchangée(s)").format(
                c=report.created, m=report.changed, u=report.unchanged
            )
            if report.applied:
                self.summary.setText(tr("Tableau importé : ") + counts + ".")
                self.sync.sync_now()  # the actions come to this laptop (and to every other)
            else:
                self.summary.setText(
                    tr("Aperçu (rien n'est encore écrit) : ")
                    + counts
                    + "."
                    + (
                        tr(" Cliquez sur Importer pour l'appliquer.")
                        if report.created or report.changed
                        else tr(" Rien à importer.")
                    )
                )
            if report.ignored_columns:
                self.summary.setText(
                    self.summary.text()
                    + tr(" Colonnes ignorées : ")
                    + ", ".join(report.ignored_columns)
                    + "."
                )
            rows = [
                {
                    "line": i.line,
                    "where": i.code,
                    "what": f"{tr(OUTCOMES[i.outcome])} : {i.title}"
                    + (f" ({', '.join(self._labels(i.fields))})" if i.fields else ""),
                }
                for i in report.items
            ]
            self.import_button.setEnabled(
                not report.applied and bool(report.created or report.changed)
            )
        self.lines_model.set_rows(rows)
        # Line and column as wide as they need; the message takes the rest and wraps.
        for column in (0, 1):
            self.lines.resizeColumnToContents(column)
        self.lines.resizeRowsToContents()

    @staticmethod
    def _labels(fields: list[str]) -> list[str]:
        names = contract.ACTIONS.by_name
        return [names[f].label.lower() if f in names else f for f in fields]

    def _failed(self, error: Exception) -> None:
        self.preview_button.setEnabled(True)
        self.summary.clear()
        if isinstance(error, HavreError):
            self._refused(error.message)
        else:
            log.error("catalogue sheet not sent", exc_info=error)
            self._refused(tr("Le tableur n'a pas pu être envoyé (erreur inattendue)."))

    def _refused(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(True)


__all__ = [
    "EDITORS",
    "ActionEditor",
    "FacilityEditor",
    "SheetImportDialog",
    "TemporaryChangeDialog",
]
