"""Paramètres → the City's details printed on every document.

They come from the server (``city_details``): every agent sees what her prints carry and where
each value comes from, chooses which desk her prints name (else her territory's), and sees the
values typed on this laptop before the upgrade (printed only while the server has none).
Coordinators and administrators change them, online, in :class:`CityDetailsDialog`: the
server checks and stores the change, and the next sync brings it to every laptop.
"""

from __future__ import annotations

import logging
import re
from html import escape
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract, validation
from havre_common.city import (
    CITY_ROW,
    CITY_WIDE_FIELDS,
    DESK_FIELDS,
    SAMPLE_CITY_PHONE,
    row_problems,
)
from havre_common.city import label as field_label
from havre_common.streets import fold
from havre_desktop.core.errors import HavreError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.data import (
    DESK_SETTING,
    SERVER_FIELDS,
    CitySource,
    city_rows,
    read_city_source,
)
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.operations import Changes
from havre_desktop.ui.widgets import error_label, hide_unless, save_on_server_buttons

log = logging.getLogger("havre.ui.settings")

EDITORS = frozenset({contract.COORDINATOR, contract.ADMINISTRATOR})
ORIGINS = {
    "ville": "",
    "local": " (valeur de ce poste, en attendant celle de la Ville)",
    "exemple": " (exemple fictif)",
}
PRINTED = (
    ("label", "Standard"),
    ("phone", "Numéro du standard"),
    ("heatwave_line", "Ligne canicule"),
    ("service", "Accueil"),
    ("address", "Adresse de l'accueil"),
    ("hours", "Horaires"),
)


def _desk_label(row: dict[str, Any], territories: dict[str, str]) -> str:
    territory = territories.get(str(row.get("territory_id") or ""), "")
    return f"{row['desk_name']} ({territory})" if territory else str(row["desk_name"])


class CityDetailsBox(QGroupBox):
    """What the prints carry, the desk choice, and (coordinators) the way to change them."""

    desk_chosen = Signal(str)

    def __init__(self, context: UiContext) -> None:
        super().__init__(tr("Coordonnées de la Ville (imprimées sur chaque document)"))
        self.ctx = context
        self.sync: Any = None  # the SyncController, once the sync is ready
        self.rows: list[dict[str, Any]] = []
        self.source: CitySource | None = None
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(tr("Coordonnées imprimées"))
        self.local_note = QLabel()
        self.local_note.setWordWrap(True)
        self.local_note.setAccessibleName(tr("Valeurs de ce poste"))
        self.local_note.setVisible(False)
        self.desk = QComboBox()
        self.desk.setAccessibleName(tr("Accueil imprimé"))
        self.desk.activated.connect(self._desk_activated)
        desk_label = QLabel(tr("&Accueil imprimé :"))
        desk_label.setBuddy(self.desk)
        self.edit_button = QPushButton(tr("Mo&difier les coordonnées de la Ville…"))
        self.edit_button.clicked.connect(self.open_editor)
        self.edit_note = QLabel(
            tr(
                "Les coordonnées viennent du serveur de la Ville : un coordinateur les modifie "
                "(connecté), elles arrivent sur chaque poste à la synchronisation."
            )
        )
        self.edit_note.setWordWrap(True)
        form = QFormLayout()
        form.addRow(desk_label, self.desk)
        buttons = QHBoxLayout()
        buttons.addWidget(self.edit_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.local_note)
        layout.addLayout(form)
        layout.addWidget(self.edit_note)
        layout.addLayout(buttons)
        hide_unless(context.role in EDITORS, self.edit_button)
        context.database.changes.changed.connect(self._changes)
        self.refresh()

    def _changes(self, changes: Changes) -> None:
        if changes.touches("city_details", "agents"):
            self.refresh()

    def refresh(self) -> None:
        def job(ws: Workspace) -> tuple[list[dict[str, Any]], CitySource]:
            return city_rows(ws), read_city_source(ws)

        self.ctx.database.submit(job, self._show)

    def _show(self, result: tuple[list[dict[str, Any]], CitySource]) -> None:
        self.rows, self.source = result
        source = self.source
        contact = source.contact
        values = {attr: str(getattr(contact, attr) or "") for attr, _ in PRINTED}

        def origin(attr: str) -> str:
            said = source.origin.get(attr, "ville")
            if said == "exemple" and "fictif" in values[attr]:
                return ""  # the sample label says it already
            return tr(ORIGINS[said])

        lines = [
            f"<b>{escape(tr(name))} :</b> {escape(values[attr])}{escape(origin(attr))}"
            for attr, name in PRINTED
            if values[attr]
        ]
        if not values["service"]:
            lines.append(
                f"<b>{escape(tr('Accueil'))} :</b> "
                + escape(tr("aucun indiqué par la Ville pour votre territoire (non imprimé)"))
            )
        if contact.is_sample:
            lines.append(
                escape(
                    tr(
                        "Le numéro du standard est encore le numéro d'exemple {n} : "
                        "l'aperçu le signale avant chaque impression."
                    ).format(n=SAMPLE_CITY_PHONE)
                )
            )
        self.summary.setText("<br>".join(lines))
        replaced = [
            tr("{what} : « {old} », remplacée par « {new} » (valeur de la Ville)").format(
                what=tr(dict(PRINTED)[attr]), old=old, new=new
            )
            for attr, (old, new) in source.replaced.items()
        ]
        self.local_note.setText(
            tr("Valeurs saisies sur ce poste avant la mise à jour : ") + " ; ".join(replaced) + "."
            if replaced
            else ""
        )
        self.local_note.setVisible(bool(replaced))
        territories = self.ctx.references["territories"]
        self.desk.blockSignals(True)
        self.desk.clear()
        self.desk.addItem(tr("Celui de mon territoire"), "")
        for row in self.rows:
            if row["id"] != CITY_ROW and row.get("desk_name"):
                self.desk.addItem(_desk_label(row, territories), row["id"])
        chosen = self.ctx.settings.get(DESK_SETTING, "")
        self.desk.setCurrentIndex(max(0, self.desk.findData(chosen)))
        self.desk.blockSignals(False)

    def _desk_activated(self, _index: int) -> None:
        value = str(self.desk.currentData() or "")
        self.ctx.settings[DESK_SETTING] = value

        def job(ws: Workspace) -> None:
            ws.store.set_setting(DESK_SETTING, value)

        def saved(_result: None) -> None:
            self.desk_chosen.emit(value)
            self.refresh()

        self.ctx.database.submit(job, saved)

    def open_editor(self) -> None:
        self.editor = CityDetailsDialog(self.ctx, self.sync, self.rows, self.source, self)
        self.editor.open()


class CityDetailsDialog(QDialog):
    """Change one row of the City's details on the server (coordinators, online)."""

    def __init__(
        self,
        context: UiContext,
        sync: Any,
        rows: list[dict[str, Any]],
        source: CitySource | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("Coordonnées de la Ville"))
        self.ctx = context
        self.sync = sync
        self.rows = {str(r["id"]): r for r in rows}
        self.source = source
        territories = context.references["territories"]
        self.row = QComboBox()
        self.row.setAccessibleName(tr("Ligne à modifier"))
        self.row.addItem(tr("Toute la Ville (standard, ligne canicule, accueil central)"), CITY_ROW)
        for row in rows:
            if row["id"] != CITY_ROW:
                self.row.addItem(tr("Accueil : ") + _desk_label(row, territories), row["id"])
        self.row.addItem(tr("Nouvel accueil…"), "")
        self.territory = QComboBox()
        self.territory.setAccessibleName(tr("Territoire de l'accueil"))
        self.territory.addItem(tr("Aucun"), "")
        for territory_id, name in territories.items():
            self.territory.addItem(name, territory_id)
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        texts = {
            "standard_label": tr("&Libellé du standard :"),
            "standard_phone": tr("Numéro du stan&dard :"),
            "heatwave_line": tr("Ligne d'&information canicule :"),
            "desk_name": tr("Se&rvice ou accueil :"),
            "address": tr("Adresse de l'a&ccueil :"),
            "opening_hours": tr("Horaires d'&ouverture :"),
        }
        row_label = QLabel(tr("Li&gne :"))
        row_label.setBuddy(self.row)
        form.addRow(row_label, self.row)
        self.territory_label = QLabel(tr("&Territoire :"))
        self.territory_label.setBuddy(self.territory)
        form.addRow(self.territory_label, self.territory)
        self.labels: dict[str, QLabel] = {}
        for name in (*CITY_WIDE_FIELDS, *DESK_FIELDS):
            field = QLineEdit()
            field.setMaxLength(contract.ui_max_length("city_details", name))
            field.setAccessibleName(field_label(name))
            label = QLabel(texts[name])
            label.setBuddy(field)
            self.fields[name] = field
            self.labels[name] = label
            form.addRow(label, field)
        self.error = error_label()
        self.error.setAccessibleName(tr("Erreur"))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName(tr("État"))
        self.buttons, self.save_button = save_on_server_buttons(self.save, self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.row.currentIndexChanged.connect(self._fill)
        self._fill()
        self.resize(620, 420)

    @property
    def row_id(self) -> str:
        return str(self.row.currentData() or "")

    def _fill(self, *_args: object) -> None:
        """The chosen row's values; the City-wide row prefilled with this laptop's old values
        where the server has none, so that a coordinator can send them (not lost)."""
        row_id = self.row_id
        row = self.rows.get(row_id, {})
        desk = row_id != CITY_ROW
        for name in CITY_WIDE_FIELDS:
            self.fields[name].setVisible(not desk)
            self.labels[name].setVisible(not desk)
        self.territory.setVisible(desk)
        self.territory_label.setVisible(desk)
        self.territory.setCurrentIndex(max(0, self.territory.findData(row.get("territory_id"))))
        origin = self.source.origin if self.source is not None else {}
        contact = self.source.contact if self.source is not None else None
        local = {server: attr for attr, server in SERVER_FIELDS.items()}
        for name, field in self.fields.items():
            value = str(row.get(name) or "")
            if not value and contact is not None and row_id == CITY_ROW:
                from_laptop = origin.get(local[name]) == "local"
                value = str(getattr(contact, local[name])) if from_laptop else ""
            field.setText(value)
        self.error.setVisible(False)

    def values(self) -> dict[str, Any]:
        names = (*CITY_WIDE_FIELDS, *DESK_FIELDS) if self.row_id == CITY_ROW else DESK_FIELDS
        values: dict[str, Any] = {name: self.fields[name].text().strip() for name in names}
        if self.row_id != CITY_ROW:
            values["territory_id"] = self.territory.currentData() or ""
        return values

    def _new_id(self, values: dict[str, Any]) -> str:
        words = re.sub(r"[^a-z0-9]+", "-", fold(str(values.get("desk_name") or ""))).strip("-")
        base = "-".join(p for p in (str(values.get("territory_id") or ""), words) if p)[:36]
        base = base.strip("-") or "accueil"
        row_id, n = base, 2
        while row_id in self.rows or row_id == CITY_ROW:
            row_id, n = f"{base[:36]}-{n}", n + 1
        return row_id

    def save(self) -> None:
        """Checked here as the server will (same French), then sent; a sync brings it back."""
        values = self.values()
        row_id = self.row_id or self._new_id(values)
        try:
            cleaned = validation.clean("city_details", values, creating=False)
        except validation.ContractViolation as exc:
            self._refused(" ".join(exc.errors.values()))
            return
        problems = row_problems(row_id, cleaned)
        if problems:
            self._refused(" ".join(problems.values()))
            return
        if self.sync is None:
            self._refused(tr("La synchronisation n'est pas prête : réessayez dans un instant."))
            return
        self.save_button.setEnabled(False)
        self.error.setVisible(False)
        self.status.setText(tr("Envoi au serveur…"))
        engine = self.sync.engine
        self.sync.worker.submit(
            lambda _ws: engine.save_city_details(row_id, values), self._saved, self._failed
        )

    def _saved(self, _row: dict[str, Any]) -> None:
        self.status.setText(tr("Enregistré sur le serveur : synchronisation en cours."))
        self.sync.sync_now()  # the new values come back to this laptop (and to every other)
        self.accept()

    def _failed(self, error: Exception) -> None:
        self.save_button.setEnabled(True)
        self.status.clear()
        if isinstance(error, HavreError):
            self._refused(error.message)
        else:
            log.error("city details not saved", exc_info=error)
            self._refused(tr("Les coordonnées n'ont pas pu être enregistrées (erreur inattendue)."))

    def _refused(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(True)
