"""Text size (100–200 %) and the high-contrast theme, applied to the whole application."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

MIN_SCALE, MAX_SCALE = 100, 200

# The high-contrast theme: white text on black, yellow for what can be pressed or is chosen,
# cyan for the keyboard focus; every pair at least 7:1 (WCAG AAA), checked on rendered widgets
# by tests/ui/test_contrast.py. A disabled control is grey *and* dashed (not by colour alone).
HC_TEXT, HC_BACKGROUND, HC_ALTERNATE = "#ffffff", "#000000", "#262626"
HC_ACTION, HC_FOCUS, HC_DISABLED = "#ffff00", "#00ffff", "#b3b3b3"

HIGH_CONTRAST_QSS = """
QWidget { background: #000000; color: #ffffff; }
QWidget:disabled { color: #b3b3b3; }
QLineEdit, QTextEdit, QPlainTextEdit, QComboBox, QSpinBox, QDateEdit, QDateTimeEdit,
QListView, QTableView, QTextBrowser {
    background: #000000; color: #ffffff; border: 2px solid #ffffff;
    selection-background-color: #ffff00; selection-color: #000000;
}
QAbstractItemView { alternate-background-color: #262626; }
QAbstractItemView::item:selected { background: #ffff00; color: #000000; }
QLineEdit:disabled, QTextEdit:disabled, QPlainTextEdit:disabled, QComboBox:disabled,
QSpinBox:disabled, QDateEdit:disabled, QDateTimeEdit:disabled {
    color: #b3b3b3; border: 2px dashed #b3b3b3;
}
QPushButton { background: #000000; color: #ffff00; border: 2px solid #ffff00; padding: 4px 10px; }
QPushButton:default { border-width: 3px; }
QPushButton:disabled { color: #b3b3b3; border: 2px dashed #b3b3b3; }
QPushButton:focus, QLineEdit:focus, QComboBox:focus, QListView:focus, QTableView:focus,
QSpinBox:focus, QTextEdit:focus, QPlainTextEdit:focus, QCheckBox:focus, QDateEdit:focus,
QDateTimeEdit:focus, QTextBrowser:focus {
    outline: 3px solid #00ffff; border: 3px solid #00ffff;
}
QListView, QTableView, QListView:focus, QTableView:focus {
    outline: none; /* no cyan frame on the yellow current row: the view's frame says focus */
}
QCheckBox::indicator, QRadioButton::indicator, QAbstractItemView::indicator {
    width: 1em; height: 1em; background: #000000; border: 2px solid #ffffff;
}
QRadioButton::indicator { border-radius: 0.6em; }
QCheckBox::indicator:checked, QAbstractItemView::indicator:checked {
    background: #ffff00; image: url(@CHECK@);
}
QRadioButton::indicator:checked { background: #ffff00; border: 4px solid #000000; }
QCheckBox::indicator:disabled { border: 2px dashed #b3b3b3; }
QSpinBox, QDateEdit, QDateTimeEdit { padding-right: 1.4em; }
QSpinBox::up-button, QDateEdit::up-button, QDateTimeEdit::up-button {
    subcontrol-origin: border; subcontrol-position: top right; width: 1.2em;
    border-left: 2px solid #ffffff; border-bottom: 1px solid #ffffff; background: #000000;
}
QSpinBox::down-button, QDateEdit::down-button, QDateTimeEdit::down-button {
    subcontrol-origin: border; subcontrol-position: bottom right; width: 1.2em;
    border-left: 2px solid #ffffff; border-top: 1px solid #ffffff; background: #000000;
}
QSpinBox::up-arrow, QDateEdit::up-arrow, QDateTimeEdit::up-arrow {
    image: url(@UP@); width: 0.7em; height: 0.5em;
}
QSpinBox::down-arrow, QDateEdit::down-arrow, QDateTimeEdit::down-arrow, QComboBox::down-arrow {
    image: url(@DOWN@); width: 0.7em; height: 0.5em;
}
QComboBox::drop-down {
    subcontrol-origin: padding; subcontrol-position: top right; width: 1.4em;
    border-left: 2px solid #ffffff; background: #000000;
}
QComboBox QAbstractItemView { border: 2px solid #ffffff; }
QScrollBar:vertical { background: #000000; border: 1px solid #ffffff; width: 16px; }
QScrollBar:horizontal { background: #000000; border: 1px solid #ffffff; height: 16px; }
QScrollBar::handle { background: #ffffff; min-height: 24px; min-width: 24px; }
QScrollBar::add-line, QScrollBar::sub-line { width: 0; height: 0; }
QHeaderView::section { background: #000000; color: #ffffff; border: 1px solid #ffffff; }
QToolTip { background: #000000; color: #ffffff; border: 2px solid #ffffff; }
QGroupBox { border: 1px solid #ffffff; margin-top: 1.2em; }
QGroupBox::title { subcontrol-origin: margin; left: 6px; color: #ffffff; }
QTabBar::tab { background: #000000; color: #ffffff; border: 2px solid #ffffff; padding: 4px 10px; }
QTabBar::tab:selected { background: #ffff00; color: #000000; }
QTabBar::tab:selected:focus { border: 3px solid #00ffff; }
QListWidget#navigation::item { padding: 8px 6px; }
QListWidget#navigation::item:selected { background: #ffff00; color: #000000; }
QLabel[role="error"] { color: #ffff00; font-weight: bold; }
QLabel[role="banner"] {
    background: #000000; color: #ffff00; border: 2px solid #ffff00; padding: 4px;
}
"""
NORMAL_QSS = """
QLabel[role="error"] { color: #a00000; font-weight: bold; }
QLabel[role="banner"] { background: #fff4ce; color: #000000; padding: 4px; }
QListWidget#navigation::item { padding: 8px 6px; }
QListWidget#navigation::item:selected { background: #1d4f91; color: #ffffff; }
/* Drawn by the style sheet, not the platform style: Fusion's tabs cut the accent off a
   capital (the "É" of "Évaluations"). The current tab says when the tab bar has the focus. */
QTabBar::tab {
    background: #e4e4e4; color: #000000; border: 1px solid #9a9a9a; border-bottom: none;
    border-top-left-radius: 3px; border-top-right-radius: 3px;
    padding: 5px 12px; margin-right: 2px; margin-top: 3px;
}
QTabBar::tab:selected { background: #fafafa; margin-top: 0px; border-top: 3px solid #1d4f91; }
QTabBar::tab:hover:!selected { background: #efefef; }
QTabBar::tab:selected:focus {
    background: #dce8f7; border: 2px solid #1d4f91; border-top: 3px solid #1d4f91;
    border-bottom: none;
}
"""


class Theme:
    """Remembers the base font so the scale can change any number of times."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self.base_font = QFont(app.font())
        self.base_palette = QPalette(app.palette())
        self.scale = 100
        self.high_contrast = False
        self.applied = False

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
            self.app.setPalette(high_contrast_palette())
            self.app.setStyleSheet(high_contrast_qss())
        else:
            self.app.setPalette(self.base_palette)
            self.app.setStyleSheet(NORMAL_QSS)
        # On a change, widgets with their own font (set before) follow the application font
        # again. Not on the first application, as the window is built: every widget then
        # takes the application's font, and going through all of them (each one's Python
        # type found, ~100 widgets) was 8 ms of the start.
        if self.applied:
            for widget in self.app.allWidgets():
                widget.setFont(font) if not widget.property("keepFont") else None
        self.applied = True


def high_contrast_palette() -> QPalette:
    """The palette under the style sheet: what the style draws itself (indicators, frames,
    placeholder text, disabled states) also follows the theme."""
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: HC_BACKGROUND,
        QPalette.ColorRole.Base: HC_BACKGROUND,
        QPalette.ColorRole.AlternateBase: HC_ALTERNATE,
        QPalette.ColorRole.Button: HC_BACKGROUND,
        QPalette.ColorRole.ToolTipBase: HC_BACKGROUND,
        QPalette.ColorRole.WindowText: HC_TEXT,
        QPalette.ColorRole.Text: HC_TEXT,
        QPalette.ColorRole.ButtonText: HC_ACTION,
        QPalette.ColorRole.ToolTipText: HC_TEXT,
        QPalette.ColorRole.BrightText: HC_ACTION,
        QPalette.ColorRole.PlaceholderText: HC_DISABLED,
        QPalette.ColorRole.Highlight: HC_ACTION,
        QPalette.ColorRole.HighlightedText: HC_BACKGROUND,
        QPalette.ColorRole.Link: HC_FOCUS,
        QPalette.ColorRole.LinkVisited: HC_FOCUS,
        QPalette.ColorRole.Light: HC_TEXT,
        QPalette.ColorRole.Midlight: HC_TEXT,
        QPalette.ColorRole.Mid: HC_TEXT,
        QPalette.ColorRole.Dark: HC_TEXT,
        QPalette.ColorRole.Shadow: HC_TEXT,
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(HC_DISABLED))
    return palette


def high_contrast_qss() -> str:
    """The style sheet with the paths of its images (check mark, arrows) filled in."""
    folder = resources.files("havre_desktop.resources").joinpath("contraste")
    images = {"@CHECK@": "coche.svg", "@UP@": "fleche-haut.svg", "@DOWN@": "fleche-bas.svg"}
    qss = HIGH_CONTRAST_QSS
    for marker, name in images.items():
        qss = qss.replace(marker, Path(str(folder.joinpath(name))).as_posix())
    return qss
