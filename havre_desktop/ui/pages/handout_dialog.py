"""Choose the actions and the print size of a handout, then preview, print, record."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidgetItem,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.layout import Variant
from havre_desktop.printing.record import PreparedHandout, record_given
from havre_desktop.ui.context import UiContext
from havre_desktop.ui.i18n import tr
from havre_desktop.ui.print_preview import PdfPreviewDialog
from havre_desktop.ui.widgets import checkable_list, checked_ids, error_label, fold

log = logging.getLogger("havre.ui.printing")

Prepare = Callable[[Workspace, list[str], Variant], PreparedHandout]


class HandoutChoiceDialog(QDialog):
    """Tick the actions to print (preselected: those proposed), pick 16 or 22 pt."""

    def __init__(
        self,
        context: UiContext,
        preselected: list[str],
        territory_id: str | None,
        title: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        chosen = set(preselected)

        def rank(action: dict[str, Any]) -> tuple[int, str]:
            near = territory_id in (action.get("territory_ids") or [])
            return (0 if action["id"] in chosen else 1 if near else 2, fold(action["title"]))

        self.actions = checkable_list([], tr("Actions à imprimer"))
        for action in sorted(context.current_actions, key=rank):
            item = QListWidgetItem(action["title"])
            item.setData(Qt.ItemDataRole.UserRole, action["id"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(
                Qt.CheckState.Checked if action["id"] in chosen else Qt.CheckState.Unchecked
            )
            self.actions.addItem(item)
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
        label = QLabel(tr("&Actions à imprimer :"))
        label.setBuddy(self.actions)
        layout.addWidget(label)
        layout.addWidget(self.actions, 1)
        layout.addWidget(hint)
        layout.addWidget(self.large)
        layout.addWidget(self.very_large)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(560, 560)

    @property
    def variant(self) -> Variant:
        return Variant.VERY_LARGE if self.very_large.isChecked() else Variant.LARGE

    def chosen(self) -> list[str]:
        return checked_ids(self.actions)

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
        recorded: list[bool] = []

        def on_output(_how: str) -> None:
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
