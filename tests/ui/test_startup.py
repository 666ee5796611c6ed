"""The first screen comes first: Ma journée alone is built before it is on screen."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pytestqt.qtbot import QtBot

from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.main_window import MainWindow, build_context
from havre_desktop.ui.worker import DatabaseService
from tests.helpers import MemoryKeyring, new_workspace

REPO = Path(__file__).resolve().parents[2]

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


def test_other_pages_are_built_after_ma_journee_is_shown(tmp_path: Path, qtbot: QtBot) -> None:
    ws, _manager, _recovery = new_workspace(tmp_path / "profile", MemoryKeyring())
    seed_demo(ws, DemoSize(persons=200, organisations=5, visits=600), with_owner=False)
    database = DatabaseService(ws)
    try:
        window = MainWindow(build_context(database, load_context_data(ws)))
        qtbot.addWidget(window)
        assert window.pages_built == ["today"]
        with qtbot.waitSignal(window.today_page.loaded, timeout=10_000):
            window.show()
        assert window.today_page.not_seen_model.rowCount() > 0
        qtbot.waitUntil(
            lambda: (
                window.pages_built
                == ["today", "persons", "visits", "actions", "reception", "prints", "settings"]
            ),
            timeout=10_000,
        )
        qtbot.waitUntil(lambda: window.persons_page.model.rowCount() > 0, timeout=10_000)
        # A page built in the background keeps its place: Alt+2 is still Personnes.
        window.navigation.setCurrentRow(1)
        assert window.pages.currentWidget() is window.persons_page
        window.navigation.setCurrentRow(0)
        assert window.pages.currentWidget() is window.today_page
    finally:
        database.shutdown()
