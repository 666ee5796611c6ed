"""Choose the actions and the print size of a handout, then preview, print, record."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidgetItem,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from havre_desktop.core import audit
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.variant import Variant
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.widgets import checkable_list, checked_ids, error_label, fold

if TYPE_CHECKING:  # the PDF engine loads when a document is built
    from havre_desktop.printing.record import PreparedHandout

log = logging.getLogger("havre.ui.printing")

Prepare = Callable[[Workspace, list[str], Variant], "PreparedHandout"]


class HandoutChoiceDialog(QDialog):
    """Tick the actions to print (preselected: those proposed), pick 16 or 22 pt."""

    def __init__(
        self,
        context: UiContext,
        preselected: list[str],
        territory_id: str | None,
        title: str,
        parent: QWidget | None = None,
        matching: list[dict[str, Any]] | None = None,
    ) -> None:
        """`matching`: the actions that fit what was asked (Accueil's search); only those are
        listed until "tout le catalogue" is ticked. None: the whole current catalogue."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self._catalogue = context.current_actions
        self._matching = matching
        self._territory_id = territory_id
        self.action_list = checkable_list([], tr("Actions à imprimer"))
        self.whole_catalogue = QCheckBox(tr("Montrer tout &le catalogue"))
        self.whole_catalogue.setVisible(matching is not None)
        self.whole_catalogue.toggled.connect(lambda _on: self._fill(set(self.chosen())))
        self._fill(set(preselected))
        self.large = QRadioButton(tr("&Grands caractères (16 points)"))
        self.very_large = QRadioButton(tr("&Très grands caractères (22 points)"))
        self.large.setChecked(True)
        self.error = error_label()
        self.error.setAccessibleName(tr("Erreur"))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(tr("&Aperçu"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Annuler"))
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        hint = QLabel(tr("Espace coche ou décoche l'action choisie."))
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        label = QLabel(tr("A&ctions à imprimer :"))
        label.setBuddy(self.action_list)
        layout.addWidget(label)
        layout.addWidget(self.action_list, 1)
        layout.addWidget(self.whole_catalogue)
        layout.addWidget(hint)
        layout.addWidget(self.large)
        layout.addWidget(self.very_large)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, 560)

    def _fill(self, chosen: set[str]) -> None:
        """The list: the ticked actions first, then those of the territory, by title."""
        territory_id = self._territory_id
        shown = (
            self._catalogue
            if self._matching is None or self.whole_catalogue.isChecked()
            else self._matching
        )
        listed = {a["id"] for a in shown}
        extra = [a for a in self._catalogue if a["id"] in chosen and a["id"] not in listed]

        def rank(action: dict[str, Any]) -> tuple[int, str]:
            near = territory_id in (action.get("territory_ids") or [])
            return (0 if action["id"] in chosen else 1 if near else 2, fold(action["title"]))

        self.action_list.clear()
        for action in sorted([*shown, *extra], key=rank):
            item = QListWidgetItem(action["title"])
            item.setData(Qt.ItemDataRole.UserRole, action["id"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if action["id"] in chosen else Qt.CheckState.Unchecked
            )
            self.action_list.addItem(item)

    @property
    def variant(self) -> Variant:
        return Variant.VERY_LARGE if self.very_large.isChecked() else Variant.LARGE

    def chosen(self) -> list[str]:
        return checked_ids(self.action_list)

    def _check(self) -> None:
        if not self.chosen():
            self.error.setText(tr("Choisissez au moins une action à imprimer."))
            self.error.setVisible(True)
            return
        self.accept()


def preview_handout(
    context: UiContext,
    prepare: Prepare,
    action_ids: list[str],
    variant: Variant,
    title: str,
    suggested_name: str,
    parent: QWidget | None,
    on_recorded: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """Build on the worker, preview; the first print or save records the handout as given."""

    def show(prepared: PreparedHandout) -> None:
        from havre_desktop.printing.record import record_given
        from havre_desktop.ui.print_preview import PdfPreviewDialog

        recorded: list[bool] = []

        def on_output(how: str) -> None:
            if how == "saved":  # a file the agent chose to keep: audited each time (ids only)
                entity = "contacts" if prepared.person_id else "handouts_given"
                context.database.submit(
                    lambda ws: audit.record(ws, "export", entity, prepared.person_id),
                    lambda _r: None,
                )
            if recorded:
                return  # printed twice or printed and saved: one handout given
            recorded.append(True)
            context.database.submit(
                lambda ws: record_given(ws, prepared),
                on_recorded or (lambda _row: None),
            )

        dialog = PdfPreviewDialog(
            prepared.pdf, title, suggested_name, on_output, parent, warnings=prepared.warnings
        )
        dialog.exec()

    context.database.submit(lambda ws: prepare(ws, action_ids, variant), show)
