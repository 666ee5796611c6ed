"""Text size (100–200 %) and the high-contrast theme, applied to the whole application."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

MIN_SCALE, MAX_SCALE = 100, 200

HIGH_CONTRAST_QSS = """
QWidget { background: #000000; color: #ffffff; }
QLineEdit, QTextEdit, QPlainTextEdit, QComboBox, QSpinBox, QDateEdit, QDateTimeEdit,
QListView, QTableView, QTextBrowser {
    background: #000000; color: #ffffff; border: 2px solid #ffffff;
    selection-background-color: #ffff00; selection-color: #000000;
}
QPushButton { background: #000000; color: #ffff00; border: 2px solid #ffff00; padding: 4px 10px; }
QPushButton:focus, QLineEdit:focus, QComboBox:focus, QListView:focus, QTableView:focus,
QSpinBox:focus, QTextEdit:focus, QPlainTextEdit:focus, QCheckBox:focus {
    outline: 3px solid #00ffff; border: 3px solid #00ffff;
}
QHeaderView::section { background: #000000; color: #ffffff; border: 1px solid #ffffff; }
QLabel[role="error"] { color: #ffff00; font-weight: bold; }
"""
NORMAL_QSS = """
QLabel[role="error"] { color: #a00000; font-weight: bold; }
QLabel[role="banner"] { background: #fff4ce; color: #000000; padding: 4px; }
QListWidget#navigation::item { padding: 8px 6px; }
QListWidget#navigation::item:selected { background: #1d4f91; color: #ffffff; }
"""


class Theme:
    """Remembers the base font so the scale can change any number of times."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self.base_font = QFont(app.font())
        self.base_palette = QPalette(app.palette())
        self.scale = 100
        self.high_contrast = False

    def apply(self, scale: int | None = None, high_contrast: bool | None = None) -> None:
        if scale is not None:
            self.scale = max(MIN_SCALE, min(MAX_SCALE, int(scale)))
        if high_contrast is not None:
            self.high_contrast = bool(high_contrast)
        font = QFont(self.base_font)
        size = self.base_font.pointSizeF()
        if size <= 0:
            size = 10.0
        font.setPointSizeF(size * self.scale / 100)
        self.app.setFont(font)
        if self.high_contrast:
            palette = QPalette()
            for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
                palette.setColor(role, QColor("#000000"))
            for role in (
                QPalette.ColorRole.WindowText,
                QPalette.ColorRole.Text,
                QPalette.ColorRole.ButtonText,
            ):
                palette.setColor(role, QColor("#ffffff"))
            palette.setColor(QPalette.ColorRole.Highlight, QColor("#ffff00"))
            palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#000000"))
            self.app.setPalette(palette)
            self.app.setStyleSheet(HIGH_CONTRAST_QSS)
        else:
            self.app.setPalette(self.base_palette)
            self.app.setStyleSheet(NORMAL_QSS)
        # Widgets with their own font (set before) follow the application font again.
        for widget in self.app.allWidgets():
            widget.setFont(font) if not widget.property("keepFont") else None
