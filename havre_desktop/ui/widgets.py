"""Small building blocks shared by the pages: labelled fields with inline errors."""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QElapsedTimer, QRect, QSize, Qt
from PySide6.QtGui import QFocusEvent, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDateTimeEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from havre_common import contract
from havre_common.french import count

if TYPE_CHECKING:
    from havre_desktop.core.workspace import Workspace
    from havre_desktop.ui.worker import DatabaseService


def scrolling(page: QWidget, content: QWidget) -> None:
    """`content` fills `page` and scrolls when taller (200 % text size): nothing is cut."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(content)
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scroll)


def hide_unless(allowed: bool, *widgets: QWidget) -> None:
    """Hide what this agent may not see or use, while a page is being built.

    Never *shows*: a widget shown before it has a parent opens as a window of its own for a
    moment and takes the keyboard focus from the main window; children show with their page.
    """
    if not allowed:
        for widget in widgets:
            widget.setVisible(False)


class Caption(QLabel):
    """A form's label, its Alt letter giving the focus to its buddy. Asks for a few pixels more
    than its text: Qt clips a label's text to the text's own width, and at 200 % a last letter
    that overhangs it lost its right edge (the "e" of "Type d'alerte", by 3 pixels)."""

    def __init__(self, text: str, buddy: QWidget) -> None:
        super().__init__(text)
        self.setBuddy(buddy)

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        return QSize(hint.width() + 6, hint.height())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(hint.width() + 6, hint.height())


def add_captioned_rows(form: QFormLayout, rows: Iterable[tuple[str, QWidget]]) -> None:
    """A form's rows, each label's Alt letter giving the focus to its field; an empty label
    puts the widget under the field above (a line that explains it)."""
    for text, widget in rows:
        form.addRow(Caption(text, widget) if text else QLabel(), widget)


def save_on_server_buttons(
    save: Callable[[], None], cancel: Callable[[], None]
) -> tuple[QDialogButtonBox, QPushButton]:
    """The buttons of the dialogs whose save goes to the server (a coordinator's or an
    administrator's edit, online): "Enregistrer sur le serveur" and "Annuler"."""
    from havre_desktop.ui.i18n import tr

    buttons = QDialogButtonBox(
        QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
    )
    save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
    save_button.setText(tr("&Enregistrer sur le serveur"))
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Annuler"))
    buttons.accepted.connect(save)
    buttons.rejected.connect(cancel)
    return buttons, save_button


def error_label() -> QLabel:
    label = QLabel()
    label.setProperty("role", "error")
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def characters(n: int) -> str:
    return count(n, "{n} caractère", "{n} caractères")


class LengthHint(QLabel):
    """Under a multi-line text: how much room is left once near the contract's limit, and by
    how much it is over (the text is kept: the agent shortens it, nothing is cut silently)."""

    def __init__(self, edit: QPlainTextEdit, limit: int) -> None:
        super().__init__()
        self.edit = edit
        self.limit = limit
        self.setWordWrap(True)
        self.setAccessibleName("Longueur du texte")
        edit.textChanged.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        length = len(self.edit.toPlainText())
        if length > self.limit:
            self.setProperty("role", "error")
            self.setText(
                f"Trop long de {characters(length - self.limit)} : "
                f"raccourcissez le texte (au plus {characters(self.limit)})."
            )
        elif length >= self.limit * 0.9:
            self.setProperty("role", None)
            self.setText(
                count(
                    self.limit - length,
                    "Encore {n} caractère possible.",
                    "Encore {n} caractères possibles.",
                )
            )
        else:
            self.setText("")
        self.style().unpolish(self)
        self.style().polish(self)
        self.setVisible(bool(self.text()))


class FormErrors:
    """Maps field names to the error label shown under each field.

    Given the contract's table, each field's input takes the contract's maximum length (the
    limit the server checks): a one-line input stops there, a multi-line text shows how much
    room is left."""

    def __init__(self, table: str | None = None) -> None:
        self.labels: dict[str, QLabel] = {}
        self.widgets: dict[str, QWidget] = {}
        self.table = table

    def add_row(self, form: QFormLayout, text: str, field: str, widget: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(widget)
        label.setWordWrap(True)
        if not widget.accessibleName():
            widget.setAccessibleName(text.replace("&", "").rstrip(" :"))
        error = error_label()
        error.setAccessibleName(f"Erreur : {widget.accessibleName()}")
        container = QWidget()
        from PySide6.QtWidgets import QVBoxLayout

        box = QVBoxLayout(container)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(widget)
        limit = self._limit(field)
        if limit and isinstance(widget, QLineEdit):
            widget.setMaxLength(limit)
        elif limit and isinstance(widget, QPlainTextEdit):
            box.addWidget(LengthHint(widget, limit))
        box.addWidget(error)
        form.addRow(label, container)
        self.labels[field] = error
        self.widgets[field] = widget
        return label

    def _limit(self, field: str) -> int:
        spec = contract.TABLES.get(self.table or "")
        if spec is None or field not in spec.by_name:
            return 0
        return contract.ui_max_length(spec.name, field)

    def clear(self) -> None:
        for label in self.labels.values():
            label.clear()
            label.setVisible(False)

    def show(self, errors: dict[str, str]) -> list[str]:
        """Show each message under its field; return the messages with no field here."""
        self.clear()
        unplaced = []
        first: QWidget | None = None
        for field, message in errors.items():
            label = self.labels.get(field)
            if label is None:
                unplaced.append(message)
                continue
            label.setText(message)
            label.setVisible(True)
            if first is None:
                first = self.widgets[field]
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)
        return unplaced


class DateTimeField(QDateTimeEdit):
    """A date-time edit that Tab leaves (sections are changed with ← → and ↑ ↓),
    so Tab moves from field to field in a form as everywhere else."""

    def focusNextPrevChild(self, next: bool) -> bool:
        return QWidget.focusNextPrevChild(self, next)


def fold(text: str) -> str:
    """Lower case without accents: typing "ecole" finds "École"."""
    return "".join(
        c for c in unicodedata.normalize("NFD", text.casefold()) if not unicodedata.combining(c)
    )


class CheckList(QListWidget):
    """Check boxes driven from the keyboard: type the first letters to jump, Space ticks.

    The typed prefix ignores accents and case, and starts afresh after Space, so
    "i", Space, "m", Space ticks "Isolement" then "Mobilité" however fast one types.
    """

    def __init__(self) -> None:
        super().__init__()
        self._typed = ""
        self._typed_at = QElapsedTimer()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Select):
            self._typed = ""
            item = self.currentItem()
            if item is not None:
                checked = item.checkState() == Qt.CheckState.Checked
                item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)
            event.accept()
            return
        if (
            text
            and text.isprintable()
            and not event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier
        ):
            interval = QApplication.keyboardInputInterval()
            if not self._typed_at.isValid() or self._typed_at.elapsed() > interval:
                self._typed = ""
            self._typed_at.restart()
            self._typed += fold(text)
            for row in range(self.count()):
                if fold(self.item(row).text()).startswith(self._typed):
                    self.setCurrentRow(row)
                    break
            event.accept()
            return
        super().keyPressEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._typed = ""
        super().focusOutEvent(event)


UNEXPECTED_SAVE_ERROR = (
    "L'enregistrement a échoué à cause d'une erreur inattendue. Votre saisie est "
    "conservée ; réessayez."
)


def show_save_error(
    errors: FormErrors, general: QLabel, error: Exception, logger: logging.Logger
) -> None:
    """A refused or failed save: messages under the fields, or one general message.

    What the user typed stays in the form in every case. A validation or environment
    error is the user's to fix; anything else is a bug, logged with its traceback.
    """
    from havre_desktop.core.errors import HavreError, ValidationError
    from havre_desktop.ui.i18n import tr

    if isinstance(error, ValidationError):
        unplaced = errors.show(error.errors)
        general.setText("\n".join(unplaced))
        general.setVisible(bool(unplaced))
        return
    if isinstance(error, HavreError):
        general.setText(error.message)
    else:
        logger.error("saving a form failed", exc_info=error)
        general.setText(tr(UNEXPECTED_SAVE_ERROR))
    general.setVisible(True)


def checkable_list(items: Iterable[tuple[str, str]], accessible_name: str) -> CheckList:
    """A `CheckList` of these (id, label) items."""
    widget = CheckList()
    widget.setAccessibleName(accessible_name)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    for item_id, label in items:
        item = QListWidgetItem(label)
        item.setData(Qt.ItemDataRole.UserRole, item_id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Unchecked)
        widget.addItem(item)
    return widget


def checked_ids(widget: QListWidget) -> list[str]:
    return [
        str(widget.item(i).data(Qt.ItemDataRole.UserRole))
        for i in range(widget.count())
        if widget.item(i).checkState() == Qt.CheckState.Checked
    ]


def set_checked_ids(widget: QListWidget, ids: Iterable[str]) -> None:
    wanted = set(ids)
    for i in range(widget.count()):
        item = widget.item(i)
        state = (
            Qt.CheckState.Checked
            if item.data(Qt.ItemDataRole.UserRole) in wanted
            else Qt.CheckState.Unchecked
        )
        item.setCheckState(state)


def table_view(accessible_name: str) -> QTableView:
    view = QTableView()
    view.setAccessibleName(accessible_name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(True)
    view.verticalHeader().hide()
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    view.setTabKeyNavigation(False)  # Tab leaves the table: keyboard users move between controls
    return view


def viewport_made_in_python(view: QAbstractItemView) -> QWidget:
    """Give `view` a viewport (the area its rows are painted in) made here, as Qt makes its
    own, and return it. Watching a viewport Qt made means bringing it into Python, and a
    plain QWidget made in C++ reaching Python the first time has PySide try every widget
    class of QtWidgets for its type, creating their enums: about 10 ms of the start."""
    viewport = QWidget()
    viewport.setObjectName("qt_scrollarea_viewport")
    viewport.setBackgroundRole(QPalette.ColorRole.Base)
    viewport.setAutoFillBackground(True)
    view.setViewport(viewport)
    return viewport


def one_line_row_height(view: QTableView) -> int:
    """How tall `view` makes a row of one line of text when sizing rows to their contents:
    its first row's first cell unwrapped and the grid line, or the (hidden) row header's
    own size for that row if taller, as QHeaderView counts them."""
    model = view.model()
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.widget = view
    option.rect = QRect(0, 0, 100_000, 1_000)  # wide enough never to wrap
    option.features |= QStyleOptionViewItem.ViewItemFeature.WrapText
    hint = view.itemDelegate().sizeHint(option, model.index(0, 0)).height()
    grid = 1 if view.showGrid() else 0
    return max(view.verticalHeader().sectionSizeHint(0), hint + grid)


def wrap_short_list(view: QTableView) -> None:
    """For lists of at most a few hundred rows: every column but the last as wide as its
    contents, the last one takes the rest and its text wraps, rows as tall as they need.
    Nothing is cut, even at 200 % text size (sizes follow the data and the font). Modes
    for the whole header, not per section: a model reset forgets per-section modes."""
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)


class SavingForm(QDialog):
    """A form whose *Enregistrer* runs one job on the database thread.

    While the job runs the buttons wait (a second press does nothing); a refusal shows its
    French messages under the fields and everything typed stays; success closes the dialog
    with `saved` set to the row the job returned. Subclasses build their fields, add
    `general_error` and `buttons` to their layout, and say what to save in `save_job`."""

    announces: tuple[str, ...]  # the tables a save changes, set by each subclass

    def __init__(
        self,
        database: DatabaseService,
        table: str,
        logger: logging.Logger,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        from havre_desktop.ui.i18n import tr

        self._db = database
        self._log = logger
        self.saved: dict[str, Any] | None = None
        self.errors = FormErrors(table)
        self.general_error = error_label()
        self.general_error.setAccessibleName(tr("Erreur"))
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(tr("&Enregistrer"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("Annuler"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

    def save_job(self) -> Callable[[Workspace], dict[str, Any]]:
        """The job that saves what the form holds (its values read now, on the UI thread)."""
        raise NotImplementedError

    def save(self) -> None:
        if not self.buttons.isEnabled():
            return  # a save is already on its way
        job = self.save_job()
        self.buttons.setEnabled(False)
        self._db.submit(job, self._saved, self._failed)

    def _saved(self, row: dict[str, Any]) -> None:
        self.buttons.setEnabled(True)
        self.saved = row
        self.accept()
        self._db.changes.announce(self.announces)

    def _failed(self, error: Exception) -> None:
        self.buttons.setEnabled(True)
        show_save_error(self.errors, self.general_error, error, self._log)
