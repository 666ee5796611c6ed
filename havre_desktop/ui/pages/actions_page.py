"""Actions: the catalogue with filters, and the detail of one action."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from havre_common.french import count
from havre_desktop.core import catalogue
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import french_date, tr
from havre_desktop.ui.models import Column, RowsModel
from havre_desktop.ui.operations import Changes
from havre_desktop.ui.widgets import table_view


def render_action_html(action: dict[str, Any], ctx: UiContext) -> str:
    """The detail of an action as a reader needs it: what, when, where, how, price, access."""
    refs = ctx.references
    parts = [f"<h2>{escape(action['title'])}</h2>", f"<p>{escape(action.get('summary') or '')}</p>"]
    if action.get("description"):
        parts.append(f"<p>{escape(action['description'])}</p>")
    facility = action.get("facility")
    rows: list[tuple[str, str]] = [
        (tr("Quand"), action.get("schedule") or tr("à convenir")),
        (
            tr("Où"),
            ", ".join(
                p
                for p in (
                    facility.get("name") if facility else None,
                    facility.get("address_line") if facility else None,
                    facility.get("postcode") if facility else None,
                )
                if p
            )
            or tr("à domicile ou lieu à préciser"),
        ),
        (
            tr("Accès de plain-pied"),
            (tr("oui") if facility.get("step_free") else tr("non")) if facility else tr("—"),
        ),
        (tr("Inscription"), action.get("signup") or ""),
        (
            tr("Contact"),
            " – ".join(p for p in (action.get("contact_name"), action.get("contact_phone")) if p),
        ),
        (tr("Prix"), action.get("price_label") or (tr("Gratuit") if action.get("is_free") else "")),
        (tr("Statut"), refs["action_statuses"].get(action.get("status") or "", "")),
        (tr("Priorité"), refs["priorities"].get(action.get("priority_id") or "", "")),
        (
            tr("Publics"),
            ", ".join(refs["audiences"].get(a, a) for a in action.get("audience_ids") or []),
        ),
        (
            tr("Territoires"),
            ", ".join(refs["territories"].get(t, t) for t in action.get("territory_ids") or []),
        ),
        (tr("Accessibilité"), action.get("accessibility_note") or ""),
        (tr("Depuis le"), french_date(action.get("start_date"))),
    ]
    flags = [
        label
        for key, label in catalogue.ACCESSIBILITY_FLAGS.items()
        if (action.get("accessibility") or {}).get(key)
    ]
    if flags:
        rows.append((tr("Aménagements"), ", ".join(flags)))
    for label, value in rows:
        if value:
            parts.append(f"<p><b>{escape(label)} :</b> {escape(value)}</p>")
    return "\n".join(parts)


class ActionBrowser(QSplitter):
    """A list of actions on the left and the selected one's detail on the right."""

    def __init__(self, context: UiContext, columns: list[Column], list_name: str) -> None:
        super().__init__()
        self.ctx = context
        self.model = RowsModel(columns)
        self.table = table_view(list_name)
        self.table.setModel(self.model)
        self.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self.show_action(current.row())
        )
        self.detail = QTextBrowser()
        self.detail.setAccessibleName(tr("Détail de l'action"))
        self.addWidget(self.table)
        self.addWidget(self.detail)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)

    def show_rows(self, rows: list[dict[str, Any]]) -> None:
        self.model.set_rows(rows)
        self.table.resizeColumnsToContents()
        self.detail.clear()
        if rows:
            self.table.selectRow(0)

    def show_action(self, row: int) -> None:
        found = self.model.row(row)
        if not found:
            return
        action_id = found["id"]

        def job(ws: Workspace) -> dict[str, Any]:
            return catalogue.get_action(ws, action_id)

        self.ctx.database.submit(
            job, lambda action: self.detail.setHtml(render_action_html(action, self.ctx))
        )


class ActionsPage(QWidget):
    """Filters on top, the list on the left, the detail on the right."""

    def __init__(self, context: UiContext) -> None:
        super().__init__()
        self.ctx = context
        context.database.changes.changed.connect(self._changes)
        refs = context.references
        self.stake = self._combo(tr("Tous les enjeux"), refs["stakes"])
        self.priority = self._combo(tr("Toutes les priorités"), refs["priorities"])
        self.territory = self._combo(tr("Tous les territoires"), refs["territories"])
        self.audience = self._combo(tr("Tous les publics"), refs["audiences"])
        self.status = self._combo(tr("En cours ou en test"), refs["action_statuses"])
        self.step_free = QCheckBox(tr("Accès de &plain-pied"))
        self.free_only = QCheckBox(tr("&Gratuit uniquement"))
        grid = QGridLayout()
        for position, (text, widget) in enumerate(
            (
                (tr("&Enjeu :"), self.stake),
                (tr("P&riorité :"), self.priority),
                (tr("&Territoire :"), self.territory),
                (tr("P&ublic :"), self.audience),
                (tr("&Statut :"), self.status),
            )
        ):
            label = QLabel(text)
            label.setBuddy(widget)
            widget.setAccessibleName(text.replace("&", "").rstrip(" :"))
            grid.addWidget(label, position // 3, (position % 3) * 2)
            grid.addWidget(widget, position // 3, (position % 3) * 2 + 1)
            widget.currentIndexChanged.connect(self.refresh)
        checks = QHBoxLayout()  # a row of their own: beside the lists they widen the page
        checks.addWidget(self.step_free)
        checks.addWidget(self.free_only)
        checks.addStretch(1)
        grid.addLayout(checks, 2, 0, 1, 6)
        self.step_free.toggled.connect(self.refresh)
        self.free_only.toggled.connect(self.refresh)
        self.browser = ActionBrowser(
            context,
            [
                (tr("Action"), lambda a: a["title"]),
                (tr("Quand"), lambda a: a.get("schedule") or ""),
                (tr("Prix"), lambda a: a.get("price_label") or ""),
                (tr("Statut"), lambda a: refs["action_statuses"].get(a["status"], "")),
            ],
            tr("Actions du catalogue"),
        )
        self.model, self.table, self.detail = (
            self.browser.model,
            self.browser.table,
            self.browser.detail,
        )
        self.count = QLabel()
        self.count.setAccessibleName(tr("Nombre d'actions"))
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self.count)

    @staticmethod
    def _combo(all_label: str, items: dict[str, str]) -> QComboBox:
        combo = QComboBox()
        combo.addItem(all_label, None)
        for item_id, label in items.items():
            combo.addItem(label, item_id)
        return combo

    def filters(self) -> dict[str, Any]:
        status = self.status.currentData()
        return {
            "stake_id": self.stake.currentData(),
            "priority_id": self.priority.currentData(),
            "territory_id": self.territory.currentData(),
            "audience_id": self.audience.currentData(),
            "step_free": self.step_free.isChecked(),
            "free_only": self.free_only.isChecked(),
            "statuses": [status] if status else ["en-cours", "en-test"],
        }

    def _changes(self, changes: Changes) -> None:
        if changes.touches("actions", "facilities"):
            self.refresh()

    def refresh(self) -> None:
        filters = self.filters()
        self.ctx.database.submit(
            lambda ws: catalogue.list_actions(ws, **filters), self._show_actions
        )

    def _show_actions(self, rows: list[dict[str, Any]]) -> None:
        self.browser.show_rows(rows)
        self.count.setText(count(len(rows), tr("{n} action"), tr("{n} actions")))
