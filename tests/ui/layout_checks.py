"""Automated layout checks: clipped text and controls without an accessible name."""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QTextEdit,
    QWidget,
)

INTERACTIVE = (
    QAbstractButton,
    QLineEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
    QTextEdit,
    QPlainTextEdit,
)


def _plain(text: str) -> str:
    """The text as drawn: mnemonic ampersands removed ("&&" stays one "&")."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&")


def _rich(text: str) -> bool:
    return "<" in text and ">" in text


def _shown(widget: QWidget, root: QWidget) -> bool:
    return widget.isVisible() and widget.window() is root.window() and widget.width() > 0


def clipped_texts(root: QWidget) -> list[str]:
    """Every visible label, button, group title, header or list item whose text is wider
    than the room it has (word-wrapped labels excepted)."""
    problems: list[str] = []
    for widget in root.findChildren(QWidget):
        if not _shown(widget, root):
            continue
        metrics = widget.fontMetrics()
        if isinstance(widget, QLabel):
            text = widget.text()
            if not text or widget.wordWrap() or _rich(text) or not widget.pixmap().isNull():
                continue
            lines = _plain(text).split("\n")
            need = max(metrics.horizontalAdvance(line) for line in lines)
            room = widget.contentsRect().width() - 2 * widget.margin() - 2 * widget.indent()
            if need > room + 1:
                problems.append(f"label «{text}»: {need}px of text in {room}px")
        elif isinstance(widget, (QPushButton, QCheckBox)):
            text = _plain(widget.text())
            if text and widget.sizeHint().width() > widget.width() + 1:
                problems.append(
                    f"{type(widget).__name__} «{text}»: needs {widget.sizeHint().width()}px, "
                    f"has {widget.width()}px"
                )
        elif isinstance(widget, QGroupBox):
            title = _plain(widget.title())
            if title and metrics.horizontalAdvance(title) > widget.width() - 10:
                problems.append(f"group «{title}» wider than its box")
        elif isinstance(widget, QHeaderView) and widget.orientation() == Qt.Orientation.Horizontal:
            model = widget.model()
            if model is None:
                continue
            margin = 2 * widget.style().pixelMetric(widget.style().PixelMetric.PM_HeaderMargin)
            for section in range(widget.count()):
                if widget.isSectionHidden(section) or widget.sectionSize(section) == 0:
                    continue
                text = str(model.headerData(section, Qt.Orientation.Horizontal) or "")
                need = metrics.horizontalAdvance(text) + margin
                if text and need > widget.sectionSize(section) + 1:
                    problems.append(
                        f"header «{text}»: {need}px in a {widget.sectionSize(section)}px column"
                    )
        elif isinstance(widget, QTableView):
            if widget.horizontalHeader().sectionResizeMode(0) == (
                QHeaderView.ResizeMode.ResizeToContents
            ):
                problems += clipped_cells(widget)
        elif isinstance(widget, QListWidget):
            room = widget.viewport().width()
            for row in range(widget.count()):
                item = widget.item(row)
                need = metrics.horizontalAdvance(item.text()) + 8
                if widget.objectName() == "navigation" and need > room:
                    problems.append(f"navigation item «{item.text()}»: {need}px in {room}px")
    return problems


def clipped_cells(table: QTableView) -> list[str]:
    """Cells whose text, wrapped to its column, does not fit in its row. Checked on the
    short lists that size themselves (Ma journée…); long lists (journal, search) elide."""
    model = table.model()
    header = table.horizontalHeader()
    if model is None:
        return []
    metrics = table.fontMetrics()
    problems = []
    style = table.style()
    margin = 2 * (style.pixelMetric(style.PixelMetric.PM_FocusFrameHMargin, None, table) + 1)
    for column in range(model.columnCount()):
        right = header.sectionViewportPosition(column) + header.sectionSize(column)
        if model.rowCount() and right > table.viewport().width() + 1:
            title = model.headerData(column, Qt.Orientation.Horizontal)
            problems.append(
                f"column «{title}» of {table.accessibleName()} ends at {right}px, "
                f"past the visible {table.viewport().width()}px"
            )
    for row in range(min(model.rowCount(), 50)):
        for column in range(model.columnCount()):
            text = str(model.data(model.index(row, column)) or "")
            room = QRect(0, 0, header.sectionSize(column) - margin, 100_000)
            need = metrics.boundingRect(room, Qt.TextFlag.TextWordWrap, text)
            if text and (need.width() > room.width() or need.height() > table.rowHeight(row)):
                problems.append(
                    f"cell «{text}» of {table.accessibleName()}: {need.width()}×"
                    f"{need.height()}px in {room.width()}×{table.rowHeight(row)}px"
                )
    return problems


def unnamed_controls(root: QWidget) -> list[str]:
    """Interactive controls a screen reader could not name."""
    problems = []
    for widget in root.findChildren(QWidget):
        if not _shown(widget, root) or not isinstance(widget, INTERACTIVE):
            continue
        if isinstance(widget, QHeaderView):
            continue  # part of its table, which carries the name
        if isinstance(widget, QLineEdit) and isinstance(
            widget.parent(), (QComboBox, QAbstractSpinBox)
        ):
            continue  # the editor inside a combo or spin box: the outer control carries the name
        name = widget.accessibleName()
        if not name and isinstance(widget, QAbstractButton):
            name = _plain(widget.text())
        if not name.strip():
            problems.append(
                f"{type(widget).__name__} {widget.objectName()!r} has no accessible name"
            )
    return problems
