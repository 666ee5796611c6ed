"""Actions: the catalogue with filters, and the detail of one action.

Coordinators and administrators also edit it here, online (:mod:`catalogue_editor`): new
action, change, suspend, stop, confirm it is still true (freshness: an action not confirmed for
6 months is flagged), a temporary change, the facility, and the City's spreadsheet."""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract
from havre_common.french import count
from havre_desktop.core import catalogue
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import french_date, tr
from havre_desktop.ui.models import Column, RowsModel
from havre_desktop.ui.operations import Changes
from havre_desktop.ui.pages.catalogue_editor import (
    EDITORS,
    ActionEditor,
    FacilityEditor,
    SheetImportDialog,
    TemporaryChangeDialog,
)
from havre_desktop.ui.widgets import hide_unless, table_view


def render_action_html(action: dict[str, Any], ctx: UiContext) -> str:
    """The detail of an action as a reader needs it: what, when, where, how, price, access."""
    refs = ctx.references
    parts = [f"<h2>{escape(action['title'])}</h2>"]
    for change in action.get("changes") or []:
        parts.append(
            f"<p><b>{escape(tr('Attention'))} :</b> {escape(change.sentence())}"
            + (
                f" <i>({escape(tr('lieu'))} : {escape(change.subject)})</i>"
                if change.facility_id
                else ""
            )
            + "</p>"
        )
    parts.append(f"<p>{escape(action.get('summary') or '')}</p>")
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
        (tr("Jusqu'au"), french_date(action.get("end_date"))),
        (
            tr("Usage saisonnier"),
            ", ".join(
                label
                for key, label in contract.ENUMS["seasonal_flags"].items()
                if (action.get("seasonal") or {}).get(key)
                or ((action.get("facility") or {}).get("seasonal") or {}).get(key)
            ),
        ),
        (
            tr("Lieu"),
            contract.ENUMS["facility_statuses"].get(str(facility.get("status")), "")
            if facility and facility.get("status") not in (None, "ouvert")
            else "",
        ),
    ]
    if ctx.role in EDITORS:
        reviewed = action.get("reviewed_on")
        stale = catalogue.is_stale(action, ctx.today)
        rows.append(
            (
                tr("Vérifiée le"),
                (french_date(reviewed) if reviewed else tr("jamais"))
                + (tr(" — à vérifier (plus de 6 mois)") if stale else ""),
            )
        )
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
        self.current: dict[str, Any] | None = None  # the action shown, with its facility
        self.addWidget(self.table)
        self.addWidget(self.detail)
        self.setStretchFactor(0, 3)
        self.setStretchFactor(1, 2)

    def show_rows(self, rows: list[dict[str, Any]], keep: str | None = None) -> None:
        """Show these actions; the one whose id is ``keep`` stays selected (else the first)."""
        self.model.set_rows(rows)
        self.table.resizeColumnsToContents()
        self.detail.clear()
        self.current = None
        if rows:
            ids = [str(r["id"]) for r in rows]
            self.table.selectRow(ids.index(keep) if keep in ids else 0)

    def show_action(self, row: int) -> None:
        found = self.model.row(row)
        if not found:
            return
        action_id = found["id"]

        def job(ws: Workspace) -> dict[str, Any]:
            return catalogue.get_action(ws, action_id)

        def show(action: dict[str, Any]) -> None:
            self.current = action
            self.detail.setHtml(render_action_html(action, self.ctx))

        self.ctx.database.submit(job, show)


class ActionsPage(QWidget):
    """Filters on top, the list on the left, the detail on the right."""

    def __init__(self, context: UiContext, sync: Callable[[], Any] | None = None) -> None:
        super().__init__()
        self.ctx = context
        self.sync = sync or (lambda: None)
        self.editor: QDialog | None = None  # the editing dialog open, if any
        self.editing = context.role in EDITORS
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
            # Two to a row: at 200 % three cut "Tous les territoires" to "Tous les territoi".
            grid.addWidget(label, position // 2, (position % 2) * 2)
            grid.addWidget(widget, position // 2, (position % 2) * 2 + 1)
            widget.currentIndexChanged.connect(self.refresh)
        checks = QHBoxLayout()  # a row of their own: beside the lists they widen the page
        checks.addWidget(self.step_free)
        checks.addWidget(self.free_only)
        self.stale_only = QCheckBox(tr("À &vérifier (plus de 6 mois)"))
        hide_unless(self.editing, self.stale_only)
        checks.addWidget(self.stale_only)
        checks.addStretch(1)
        self.stale_only.toggled.connect(self.refresh)
        grid.addLayout(checks, 3, 0, 1, 4)
        grid.setColumnStretch(1, 1)  # the lists take the width, not their labels
        grid.setColumnStretch(3, 1)
        self.step_free.toggled.connect(self.refresh)
        self.free_only.toggled.connect(self.refresh)
        self.browser = ActionBrowser(
            context,
            [
                (tr("Action"), lambda a: a["title"]),
                (tr("Quand"), lambda a: a.get("schedule") or tr("à convenir")),
                (tr("Prix"), lambda a: a.get("price_label") or ""),
                (tr("Statut"), lambda a: refs["action_statuses"].get(a["status"], "")),
                (tr("À noter"), lambda a: a.get("notice") or ""),
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
        self.freshness = QLabel()
        self.freshness.setWordWrap(True)
        self.freshness.setAccessibleName(tr("Actions à vérifier"))
        self.freshness.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.freshness)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self.count)
        self.edit_buttons: dict[str, QPushButton] = {}
        if self.editing:
            # Two rows of four: at 200 % one row would widen the window past the screen.
            bar = QGridLayout()
            for position, (key, text, slot) in enumerate(
                (
                    ("new", tr("&Nouvelle action…"), self.new_action),
                    ("edit", tr("&Modifier…"), self.edit_action),
                    ("suspend", tr("Suspen&dre"), self.suspend_action),
                    ("stop", tr("&Arrêter…"), self.stop_action),
                    ("review", tr("&Confirmer à jour"), self.confirm_action),
                    ("change", tr("C&hangement temporaire…"), self.temporary_change),
                    ("facility", tr("&Lieu…"), self.edit_facility),
                    ("import", tr("&Importer un tableur…"), self.import_sheet),
                    ("review_pdf", tr("&Bilan annuel…"), self.print_review),
                )
            ):
                button = QPushButton(text)
                button.clicked.connect(slot)
                bar.addWidget(button, position // 4, position % 4)
                self.edit_buttons[key] = button
            bar.setColumnStretch(4, 1)
            layout.addLayout(bar)
            self.edit_status = QLabel()
            self.edit_status.setWordWrap(True)
            self.edit_status.setAccessibleName(tr("État de la modification"))
            layout.addWidget(self.edit_status)

    @staticmethod
    def _combo(all_label: str, items: dict[str, str]) -> QComboBox:
        combo = QComboBox()
        # Wide enough for "Toutes les priorités" whatever the text size, not for the longest
        # priority (the list opens wider).
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(len(all_label) + 1)
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
        if changes.touches("actions", "facilities", "temporary_changes"):
            self.refresh()

    def refresh(self) -> None:
        filters = self.filters()
        stale_only = self.editing and self.stale_only.isChecked()
        mine = self._my_territories()

        def job(ws: Workspace) -> tuple[list[dict[str, Any]], int]:
            today = ws.clock.today()
            stale = catalogue.stale_actions(ws, today, mine) if self.editing else []
            if stale_only:
                wanted = {s.id for s in stale}
                filters["statuses"] = (
                    None if filters["statuses"] == ["en-cours", "en-test"] else filters["statuses"]
                )
                rows = [
                    r
                    for r in catalogue.list_actions(ws, **filters, limit=10_000)
                    if r["id"] in wanted
                ]
            else:
                rows = catalogue.list_actions(ws, **filters)
            return catalogue.mark_notices(ws, rows, today), len(stale)

        self.ctx.database.submit(job, self._show_actions)

    def _my_territories(self) -> list[str] | None:
        """The territories whose actions this coordinator confirms (administrators: all)."""
        if self.ctx.role == contract.ADMINISTRATOR:
            return None
        return list(self.ctx.agent.get("territory_ids") or [])

    def _show_actions(self, result: tuple[list[dict[str, Any]], int]) -> None:
        rows, stale = result
        keep = str(self.browser.current["id"]) if self.browser.current else None
        self.browser.show_rows(rows, keep)
        self.count.setText(count(len(rows), tr("{n} action"), tr("{n} actions")))
        if self.editing:
            self.freshness.setText(
                count(
                    stale,
                    tr("{n} action de vos territoires n'a pas été vérifiée depuis 6 mois : "),
                    tr("{n} actions de vos territoires n'ont pas été vérifiées depuis 6 mois : "),
                )
                + tr("cochez « À vérifier », puis « Confirmer à jour » ou « Modifier ».")
            )
            self.freshness.setVisible(stale > 0)

    # -- editing (coordinators and administrators, online) -------------------------------

    def _selected_id(self) -> str | None:
        """The action chosen in the list (its row: known at once, even while the list or the
        detail is being read again after a sync)."""
        row = self.model.row(self.table.currentIndex().row()) if self.model.rowCount() else None
        if not row:
            self.edit_status.setText(tr("Choisissez d'abord une action dans la liste."))
            return None
        return str(row["id"])

    def _with_selected(self, then: Callable[[dict[str, Any]], None]) -> None:
        """``then(action)`` with the chosen action read whole (its facility, its changes)."""
        action_id = self._selected_id()
        if action_id is None:
            return
        shown = self.browser.current
        if shown is not None and str(shown["id"]) == action_id:
            then(shown)
            return
        self.ctx.database.submit(lambda ws: catalogue.get_action(ws, action_id), then)

    def _open(self, dialog: QDialog) -> None:
        self.editor = dialog
        dialog.accepted.connect(
            lambda: self.edit_status.setText(
                tr("Enregistré sur le serveur : la synchronisation l'apporte à chaque poste.")
            )
        )
        dialog.open()

    def _facilities(self, then: Callable[[list[dict[str, Any]]], None]) -> None:
        self.ctx.database.submit(lambda ws: catalogue.list_facilities(ws), then)

    def new_action(self) -> None:
        self._facilities(
            lambda facilities: self._open(
                ActionEditor(self.ctx, self.sync(), None, facilities, self)
            )
        )

    def edit_action(self, _checked: bool = False, status: str | None = None) -> None:
        def edit(action: dict[str, Any]) -> None:
            self._facilities(
                lambda facilities: self._open(
                    ActionEditor(self.ctx, self.sync(), action, facilities, self, status=status)
                )
            )

        self._with_selected(edit)

    def stop_action(self) -> None:
        """Arrêter: the editor with the status "arrêtée" and today as its end, to confirm."""
        self.edit_action(status="arretee")

    def suspend_action(self) -> None:
        self._quick_change({"status": "suspendue"}, tr("Action suspendue"))

    def confirm_action(self) -> None:
        today = self.ctx.local_now().date().isoformat()
        self._quick_change({"reviewed_on": today}, tr("Action confirmée à jour"))

    def _quick_change(self, values: dict[str, Any], done: str) -> None:
        row_id = self._selected_id()
        sync = self.sync()
        if row_id is None:
            return
        if sync is None:
            self.edit_status.setText(tr("La synchronisation n'est pas prête : réessayez."))
            return
        engine = sync.engine
        self.edit_status.setText(tr("Envoi au serveur…"))

        def saved(_row: dict[str, Any]) -> None:
            self.edit_status.setText(done + tr(" sur le serveur : synchronisation en cours."))
            sync.sync_now()

        def failed(error: Exception) -> None:
            message = getattr(error, "message", None)
            self.edit_status.setText(
                str(message) if message else tr("La modification n'a pas pu être envoyée.")
            )

        sync.worker.submit(
            lambda _ws: engine.save_catalogue_row("actions", row_id, values), saved, failed
        )

    def temporary_change(self) -> None:
        self._with_selected(
            lambda action: self._open(TemporaryChangeDialog(self.ctx, self.sync(), action, self))
        )

    def edit_facility(self) -> None:
        """The chosen action's facility (none chosen, or none: a new facility)."""
        if not self.model.rowCount() or self.table.currentIndex().row() < 0:
            self._open(FacilityEditor(self.ctx, self.sync(), None, self))
            return
        self._with_selected(
            lambda action: self._open(
                FacilityEditor(self.ctx, self.sync(), action.get("facility"), self)
            )
        )

    def print_review(self) -> None:
        """Every action of her territories with its last evaluation and its last
        confirmation, on paper (built on the database thread, previewed here)."""
        from havre_desktop.printing.review import review_for

        territories = self._my_territories()

        def show(pdf: bytes) -> None:
            from havre_desktop.ui.print_preview import PdfPreviewDialog

            name = f"revue-annuelle-{self.ctx.today.isoformat()}.pdf"
            self.editor = PdfPreviewDialog(pdf, tr("Revue annuelle des actions"), name, parent=self)
            self.editor.open()

        self.ctx.database.submit(lambda ws: review_for(ws, territories), show)

    def import_sheet(self) -> None:
        self._open(SheetImportDialog(self.ctx, self.sync(), self))
