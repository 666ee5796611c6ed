"""Ma journée: who to see or call today, promised follow-ups, people not seen for long."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from havre_common import contract
from havre_common.french import count
from havre_desktop.core import contacts, visits
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import french_date, french_datetime, relative_days, tr
from havre_desktop.ui.models import RowsModel
from havre_desktop.ui.widgets import table_view, wrap_short_list

PLANNED_KINDS = contract.ENUMS["planned_kinds"]


class TodayPage(QWidget):
    """Four short lists; Enter on a row opens the person's fiche."""

    open_person = Signal(str)
    loaded = Signal()

    def __init__(self, context: UiContext) -> None:
        super().__init__()
        self.ctx = context
        today = context.today
        territories = context.references["territories"]

        def name(row: dict[str, Any]) -> str:
            return contacts.display_name({**row, "kind": row.get("contact_kind", "person")})

        planned_columns = [
            (tr("Personne"), name),
            (
                tr("Prévu"),
                lambda r: f"{french_date(r['due_on'])} ({relative_days(r['due_on'], today)})",
            ),
            (tr("Type"), lambda r: tr(PLANNED_KINDS.get(r["kind"], r["kind"]))),
            (tr("Motif"), lambda r: r.get("reason") or ""),
        ]
        self.due_model = RowsModel(planned_columns)
        self.follow_model = RowsModel(planned_columns)
        self.alert_model = RowsModel(planned_columns)
        self.not_seen_model = RowsModel(
            [
                (tr("Personne"), name),
                (
                    tr("Dernier contact"),
                    lambda r: french_datetime(r.get("last_visit")) or tr("jamais"),
                ),
                (tr("Territoire"), lambda r: territories.get(r.get("territory_id") or "", "")),
                (tr("Téléphone"), lambda r: r.get("phone_1") or ""),
            ]
        )
        self.title = QLabel()
        self.title.setAccessibleName(tr("Titre de la page"))
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        self.refresh_button = QPushButton(tr("&Actualiser"))
        self.refresh_button.setAccessibleName(tr("Actualiser Ma journée"))
        self.refresh_button.clicked.connect(self.refresh)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        self.tables: dict[str, QTableView] = {}
        for key, label, model in (
            ("due", tr("À voir ou appeler aujourd'hui (et en retard)"), self.due_model),
            ("follow_ups", tr("Suivis promis"), self.follow_model),
            ("alerts", tr("Appels d'alerte"), self.alert_model),
            ("not_seen", "", self.not_seen_model),
        ):
            box = QGroupBox(label)
            box_layout = QVBoxLayout(box)
            table = table_view(label or tr("Personnes non vues depuis longtemps"))
            table.setModel(model)
            wrap_short_list(table)
            table.activated.connect(
                lambda index, m=model: self._activate(m, index.row())  # type: ignore[misc]
            )
            box_layout.addWidget(table)
            layout.addWidget(box, 1)
            self.tables[key] = table
            if key == "not_seen":
                self.not_seen_box = box
            if key == "alerts":
                self.alert_box = box
        layout.addWidget(self.refresh_button)

    def _activate(self, model: RowsModel, row: int) -> None:
        found = model.row(row)
        if found:
            self.open_person.emit(found.get("person_id") or found["id"])

    def refresh(self) -> None:
        days = int(self.ctx.settings.get("not_seen_days", "60"))
        today = self.ctx.today

        def job(ws: Workspace) -> dict[str, list[dict[str, Any]]]:
            return visits.day_plan(ws, today, days)

        self.ctx.database.submit(job, self._show)

    def _show(self, plan: dict[str, list[dict[str, Any]]]) -> None:
        days = self.ctx.settings.get("not_seen_days", "60")
        self.title.setText(
            tr("Ma journée — {date} : ").format(date=french_date(self.ctx.today))
            + count(len(plan["due"]), tr("{n} contact prévu"), tr("{n} contacts prévus"))
            + ", "
            + count(len(plan["follow_ups"]), tr("{n} suivi promis"), tr("{n} suivis promis"))
        )
        self.due_model.set_rows(plan["due"])
        self.follow_model.set_rows(plan["follow_ups"])
        self.alert_model.set_rows(plan["alerts"])
        self.alert_box.setVisible(bool(plan["alerts"]))
        self.not_seen_model.set_rows(plan["not_seen"])
        self.not_seen_box.setTitle(
            tr("Personnes non contactées depuis plus de {days} jours").format(days=days)
        )
        self.loaded.emit()
