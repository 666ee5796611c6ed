"""A main window over a real encrypted demo profile, and keyboard helpers."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QFont, QKeyEvent, QPalette
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QWidget
from pytestqt.qtbot import QtBot

from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.main_window import MainWindow, build_context
from havre_desktop.ui.worker import DatabaseService
from tests.helpers import MemoryKeyring, new_workspace


@dataclass
class Keyboard:
    """Sends keys to the focused widget, as a person would, and counts them."""

    qtbot: QtBot
    presses: int = 0
    log: list[str] = field(default_factory=list)

    def _target(self) -> QWidget:
        widget = QApplication.focusWidget()
        assert widget is not None, "no widget has the keyboard focus"
        return widget

    def key(
        self, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier
    ) -> None:
        self.presses += 1
        self.qtbot.keyClick(self._target(), key, modifier)
        focus = QApplication.focusWidget()
        where = (focus.accessibleName() or type(focus).__name__) if focus else "-"
        self.log.append(f"{modifier.name}+{key.name}→{where}")

    def type(self, text: str, *, counted: bool = True) -> None:
        """One key press per character; accented ones through a QKeyEvent (keyClicks aborts)."""
        for char in text:
            target = self._target()
            if char.isascii():
                self.qtbot.keyClicks(target, char)
            else:
                for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                    QApplication.sendEvent(
                        target,
                        QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, char),
                    )
            if counted:
                self.presses += 1
                self.log.append(char)


class DialogDriver:
    """Drives a modal dialog from inside its event loop; a failure closes it and is re-raised."""

    def __init__(self, qtbot: QtBot) -> None:
        self.qtbot = qtbot
        self.errors: list[BaseException] = []
        self._timers: list[QTimer] = []

    def soon(self, action: Callable[[], None]) -> None:
        """Run `action` once the dialog is up, then expect the dialog to close by itself."""

        def guarded() -> None:
            try:
                action()
                modal = QApplication.activeModalWidget()
                if modal is not None:
                    try:
                        self.qtbot.waitUntil(lambda: not modal.isVisible(), timeout=10_000)
                    except Exception as timeout:
                        shown = [
                            label.text()
                            for label in modal.findChildren(QLabel)
                            if label.isVisible() and label.property("role") == "error"
                        ]
                        raise AssertionError(
                            f"the dialog stayed open; errors shown: {shown}"
                        ) from timeout
            except BaseException as exc:  # re-raised by check(); the dialog must not hang
                self.errors.append(exc)
                modal = QApplication.activeModalWidget()
                if isinstance(modal, QDialog):
                    modal.reject()

        QTimer.singleShot(0, guarded)

    def when(self, kind: type, action: Callable[[QDialog], None], timeout_ms: int = 10_000) -> None:
        """Run `action(dialog)` as soon as a modal dialog of this type is up (it may open
        later, after the worker answered), then expect it to close by itself."""
        timer = QTimer()
        timer.setInterval(20)
        waited = [0]

        def poll() -> None:
            waited[0] += 20
            modal = QApplication.activeModalWidget()
            if isinstance(modal, kind):
                timer.stop()
                self.soon(lambda: action(modal))  # type: ignore[arg-type]
            elif waited[0] > timeout_ms:
                timer.stop()
                self.errors.append(AssertionError(f"no {kind.__name__} appeared"))

        timer.timeout.connect(poll)
        timer.start()
        self._timers.append(timer)

    def check(self) -> None:
        if self.errors:
            raise self.errors[0]


@pytest.fixture
def dialogs(qtbot: QtBot) -> DialogDriver:
    return DialogDriver(qtbot)


@pytest.fixture
def keyboard(qtbot: QtBot) -> Keyboard:
    return Keyboard(qtbot)


@dataclass
class DemoApp:
    window: MainWindow
    ws: Workspace
    database: DatabaseService
    qtbot: QtBot
    recovery: str = ""  # the profile's recovery passphrase (the app lock asks it after 5 PINs)

    def settle(self) -> None:
        """Wait until the worker has answered everything asked so far."""
        self.qtbot.waitUntil(lambda: self.database.pending == 0, timeout=10_000)
        QApplication.processEvents()

    def open_fiche(self, search: str = "lefevre jeanne") -> None:
        """Search on *Personnes* and open the first fiche found (Jeanne Lefèvre has visits)."""
        persons = self.window.persons_page
        persons.search_field.setText(search)
        persons._search()
        self.settle()
        persons.open_fiche(0)
        self.settle()

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[dict[str, object]]:
        """Read the database through the worker (the thread that owns the connection)."""
        result: list[list[dict[str, object]]] = []
        self.database.submit(lambda ws: ws.store.query(sql, params), result.append)
        self.qtbot.waitUntil(lambda: bool(result), timeout=10_000)
        return result[0]


def pdf_printer(path: Path) -> QPrinter:
    """A real QPrinter writing a PDF file: what "Imprimer" sends is checked page by page."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


def make_app(
    tmp_path: Path,
    qtbot: QtBot,
    role: str = "travailleur-social",
    prepare: Callable[[Workspace], None] | None = None,
) -> Iterator[DemoApp]:
    """A demo profile and its window; `prepare` writes in the profile before the window opens
    (what an earlier version of the application left there)."""
    ws, manager, recovery = new_workspace(
        tmp_path / "profile", MemoryKeyring(), role=role, territories=["nord"]
    )
    seed_demo(ws, DemoSize(persons=600, organisations=10, visits=2_000), with_owner=False)
    ws.store.set_setting("demo", "1")
    if prepare is not None:
        prepare(ws)
    data = load_context_data(ws)
    database = DatabaseService(ws)
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    # The theme changes the application's font, palette and style sheet: put them back
    # after the test, or the next window's 100 % would be this one's 200 %.
    font, palette, style_sheet = QFont(qapp.font()), QPalette(qapp.palette()), qapp.styleSheet()
    window = MainWindow(build_context(database, data), str(tmp_path / "profile"), manager)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    window.build_remaining_pages(one_at_a_time=False)  # the app does it after Ma journée
    window.activateWindow()
    qtbot.waitActive(window)
    app = DemoApp(window, ws, database, qtbot, recovery)
    app.settle()
    yield app
    app.settle()
    database.shutdown()
    # pytest-qt closes the widgets it was given before this teardown runs, and on a loaded
    # machine their deferred deletion may already have happened.
    if shiboken6.isValid(window):
        window.close()
        window.deleteLater()
    QApplication.processEvents()
    gc.collect()  # free this test's Qt objects now, not all together at interpreter exit
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    if qapp.styleSheet() != style_sheet:  # re-polishing every widget is not free
        qapp.setStyleSheet(style_sheet)
    qapp.setPalette(palette)
    qapp.setFont(font)


@pytest.fixture
def demo_app(tmp_path: Path, qtbot: QtBot) -> Iterator[DemoApp]:
    yield from make_app(tmp_path, qtbot)


@pytest.fixture
def coordinator_app(tmp_path: Path, qtbot: QtBot) -> Iterator[DemoApp]:
    yield from make_app(tmp_path, qtbot, role="coordinateur")


@pytest.fixture
def reception_app(tmp_path: Path, qtbot: QtBot) -> Iterator[DemoApp]:
    yield from make_app(tmp_path, qtbot, role="accueil")
