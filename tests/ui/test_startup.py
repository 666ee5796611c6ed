"""The first screen comes first: Ma journée alone is built before it is on screen."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication, QHeaderView
from pytestqt.qtbot import QtBot

from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.main_window import MainWindow, build_context
from havre_desktop.ui.sync_controller import SyncController
from havre_desktop.ui.worker import DatabaseService
from tests.helpers import MemoryKeyring, new_workspace

REPO = Path(__file__).resolve().parents[2]
CTRL = Qt.KeyboardModifier.ControlModifier

# Modules the first screen does not need: each costs tens of milliseconds at every start.
NOT_BEFORE_FIRST_SCREEN = (
    "reportlab",
    "httpx",
    "pydantic",
    "sqlite_utils",
    "PySide6.QtPdf",
    "PySide6.QtPrintSupport",
    "havre_desktop.printing",
    "havre_desktop.sync",
    "havre_desktop.ui.pages.persons",
    "havre_desktop.ui.pages.visits_page",
    "havre_desktop.ui.print_preview",
)


def test_the_main_window_module_imports_nothing_the_first_screen_does_not_need() -> None:
    code = (
        "import json, sys\n"
        "import havre_desktop.app, havre_desktop.ui.main_window, havre_desktop.ui.startup\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True
        ).stdout
    )
    early = [
        m for m in loaded if any(m == n or m.startswith(n + ".") for n in NOT_BEFORE_FIRST_SCREEN)
    ]
    assert early == []
    assert "havre_desktop.ui.pages.today" in loaded  # the check sees what it should


# The PDF engine: loaded when a document is built, not by the pages built in the background.
PDF_ENGINE = (
    "reportlab",
    "PySide6.QtPdf",
    "PySide6.QtPrintSupport",
    "havre_desktop.ui.print_preview",
)


def test_the_pages_built_in_the_background_do_not_load_the_pdf_engine() -> None:
    """About 20 MB of memory (reportlab, its fonts, QtPdf) wait for the first document, and
    the protocol's pydantic models for sync."""
    pages = (
        "persons",
        "visits_page",
        "actions_page",
        "reception",
        "settings_page",
        "today",
        "catalogue_editor",
        "city_details",
    )
    code = (
        "import json, sys\n"
        + "".join(f"import havre_desktop.ui.pages.{page}\n" for page in pages)
        + "import havre_desktop.ui.pages.handout_dialog, havre_desktop.printing.data\n"
        + "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True
        ).stdout
    )
    assert [m for m in loaded if m.split(".")[0] == "reportlab" or m in PDF_ENGINE] == []
    # Nor pydantic (14 MB with the protocol's models): sync loads it, when there is sync.
    assert [m for m in loaded if m.split(".")[0] in ("pydantic", "httpx")] == []
    assert "havre_desktop.ui.pages.persons" in loaded  # the check sees what it should


def test_other_pages_are_built_after_ma_journee_is_shown(tmp_path: Path, qtbot: QtBot) -> None:
    """As the application starts: Ma journée, then sync arrives while the other pages are
    being built in the background; every navigation entry still opens its own page."""
    keyring = MemoryKeyring()
    ws, manager, _recovery = new_workspace(tmp_path / "profile", keyring)
    seed_demo(ws, DemoSize(persons=200, organisations=5, visits=600), with_owner=False)
    data = load_context_data(ws)
    sync_store = ws.store.open_another()
    database = DatabaseService(ws)
    controller = SyncController.for_store(ws, sync_store, manager.profile_id, keyring)
    window = MainWindow(build_context(database, data))
    qtbot.addWidget(window)
    try:
        assert window.pages_built == ["today"]
        with qtbot.waitSignal(window.today_page.loaded, timeout=10_000):
            window.show()
        assert window.today_page.not_seen_model.rowCount() > 0
        window.attach_sync(controller)  # the application does it right after this signal
        assert len(window.pages_built) < 7  # the other pages are still on their way
        # Impressions waits for its first opening (it loads the PDF engine).
        background = ["today", "persons", "visits", "actions", "reception", "settings"]
        qtbot.waitUntil(lambda: window.pages_built == background, timeout=10_000)
        qtbot.waitUntil(lambda: window.persons_page.model.rowCount() > 0, timeout=10_000)
        expected = {
            "Ma journée": window.today_page,
            "Personnes": window.persons_page,
            "Visites": window.visits_page,
            "Actions": window.actions_page,
            "Accueil": window.reception_page,
            "Impressions": window.prints_page,
            "Synchronisation": window.sync_page,
            "Paramètres": window.settings_page,
        }
        assert window.page_names == list(expected)
        for row, page in enumerate(expected.values()):
            window.navigation.setCurrentRow(row)
            assert window.pages.currentWidget() is page, window.page_names[row]
        assert window.pages.count() == len(expected)  # no stand-in left behind
    finally:
        window.sync = None  # nothing to send: closing must not ask
        controller.shutdown()
        database.shutdown()


def test_a_start_wipes_the_letters_an_earlier_version_left_in_the_temp_folder(
    tmp_path: Path,
) -> None:
    """Earlier versions wrote batch letters (names, addresses) to a temporary folder and never
    deleted it; every start removes such folders. A demo run leaves nothing behind either."""
    tmp = tmp_path / "tmp"
    leftover = tmp / "havre-courriers-abc123"
    leftover.mkdir(parents=True)
    (leftover / "courriers-programme-ete.pdf").write_bytes(b"%PDF-1.3 fictif")
    unrelated = tmp / "autre-logiciel"
    unrelated.mkdir()
    env = {
        **os.environ,
        "TMPDIR": str(tmp),
        "QT_QPA_PLATFORM": "offscreen",
        "HAVRE_EXIT_AFTER_START": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "havre_desktop", "--demo", "--demo-persons", "20"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert sorted(p.name for p in tmp.iterdir()) == ["autre-logiciel"]


@contextlib.contextmanager
def _window_over_demo(
    tmp_path: Path, qtbot: QtBot, hold: threading.Event | None = None
) -> Iterator[tuple[MainWindow, DatabaseService]]:
    """A window over a small demo profile; `hold` keeps its database thread busy until set.
    Deleted afterwards, with its lock (whose filter on the application would veil the
    dialogs of the next tests), and the application's look put back."""
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    font, palette, style_sheet = QFont(qapp.font()), QPalette(qapp.palette()), qapp.styleSheet()
    ws, _manager, _recovery = new_workspace(tmp_path / "profile", MemoryKeyring())
    seed_demo(ws, DemoSize(persons=60, organisations=3, visits=120), with_owner=False)
    data = load_context_data(ws)
    database = DatabaseService(ws)
    if hold is not None:  # before the window asks for Ma journée's rows
        database.submit(lambda _ws: hold.wait(30), lambda _r: None)
    window = MainWindow(build_context(database, data))
    try:
        yield window, database
    finally:
        if hold is not None:
            hold.set()
        qtbot.waitUntil(lambda: bool(window.today_page.plan), timeout=10_000)  # nothing late
        database.shutdown()
        if shiboken6.isValid(window):
            window.close()
            window.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        qapp.setStyleSheet(style_sheet)
        qapp.setPalette(palette)
        qapp.setFont(font)


def test_the_lock_hears_the_keyboard_from_the_first_screen_on(tmp_path: Path, qtbot: QtBot) -> None:
    """The lock's filter on every event of the application waits for Ma journée's first
    paint (it would make each event of that layout and paint a call into Python)."""
    with _window_over_demo(tmp_path, qtbot) as (window, _database):
        assert not window.lock.listening
        with qtbot.waitSignal(window.first_screen.painted, timeout=10_000):
            window.show()
        assert window.lock.listening
        window.today_page.tables["due"].setFocus()
        qtbot.keyClick(window.today_page.tables["due"], Qt.Key.Key_L, CTRL)
        assert window.lock.locked and window.windowTitle() == "Havre Ensemble — verrouillé"


def test_the_lock_hears_the_keyboard_even_if_ma_journee_never_comes(
    tmp_path: Path, qtbot: QtBot
) -> None:
    """The database thread is held by a long job: Ma journée's rows do not arrive, its first
    screen is not painted, and yet Ctrl+L locks within a second or so of the window."""
    release = threading.Event()
    with _window_over_demo(tmp_path, qtbot, release) as (window, _database):
        painted: list[bool] = []
        window.first_screen.painted.connect(lambda: painted.append(True))
        window.show()
        qtbot.waitUntil(lambda: window.lock.listening, timeout=5_000)
        assert painted == [] and window.today_page.due_model.rowCount() == 0
        window.navigation.setFocus()
        qtbot.keyClick(window.navigation, Qt.Key.Key_L, CTRL)
        assert window.lock.locked


@pytest.mark.parametrize(("scale", "high_contrast"), [(100, False), (200, False), (100, True)])
def test_not_seen_rows_are_painted_one_line_tall_then_follow_their_contents(
    tmp_path: Path, qtbot: QtBot, scale: int, high_contrast: bool
) -> None:
    """Until the first screen is painted, the list of persons not seen for long gives each
    row one line (measuring every cell first was 10 ms of the start); then its rows follow
    their contents again: in a window wide enough, not one row changes height."""
    with _window_over_demo(tmp_path, qtbot) as (window, _database):
        table = window.today_page.tables["not_seen"]
        header = table.verticalHeader()
        assert window.theme is not None
        window.theme.apply(scale, high_contrast)
        window.resize(1280, 800)
        with qtbot.waitSignal(window.today_page.loaded, timeout=10_000):
            window.show()
        assert window.today_page.not_seen_model.rowCount() >= 5
        assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.Fixed
        painted_first = [table.rowHeight(r) for r in range(5)]
        assert painted_first[0] >= table.fontMetrics().height()
        qtbot.waitUntil(
            lambda: header.sectionResizeMode(0) == QHeaderView.ResizeMode.ResizeToContents,
            timeout=10_000,
        )
        table.resizeRowsToContents()  # what the header does at its next layout
        assert [table.rowHeight(r) for r in range(5)] == painted_first
