"""The window over a real encrypted demo profile, driven from the keyboard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from havre_desktop.core import audit
from havre_desktop.core.demo import DemoSize, seed_demo
from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.main_window import MainWindow, workspace_summary
from havre_desktop.ui.worker import DatabaseService
from tests.helpers import MemoryKeyring, new_workspace


@pytest.fixture
def demo_window(tmp_path: Path, qtbot: QtBot) -> Iterator[tuple[MainWindow, Workspace]]:
    ws, _m, _r = new_workspace(tmp_path / "p", MemoryKeyring())
    seed_demo(ws, DemoSize(persons=400, organisations=5, visits=800))
    ws.store.set_setting("demo", "1")
    database = DatabaseService(ws)
    window = MainWindow(database, workspace_summary(ws))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.persons_page.model.rowCount() > 0)
    yield window, ws
    database.shutdown()


def test_find_a_person_by_typing_and_open_the_fiche(
    demo_window: tuple[MainWindow, Workspace], qtbot: QtBot
) -> None:
    window, _ws = demo_window
    page = window.persons_page
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert page.search_field.hasFocus()
    with qtbot.waitSignal(page.model.loaded, timeout=5000):
        qtbot.keyClicks(page.search_field, "lefe")
    names = [page.model.data(page.model.index(r, 0)) for r in range(page.model.rowCount())]
    assert names and all("LEF" in n for n in names)
    assert "LEFÈVRE Jeanne" in names
    # Enter opens the first result's fiche; the opening is audited.
    page.search_field.setText("lefevre jeanne")
    qtbot.keyClick(page.search_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "LEFÈVRE Jeanne" in page.fiche.toPlainText(), timeout=5000)
    assert "4e étage sans ascenseur" in page.fiche.toPlainText()
    assert "Le Havre Nord" in page.fiche.toPlainText()
    assert window.windowTitle().endswith("démonstration (données fictives)")


def test_person_model_passes_the_model_tester(
    demo_window: tuple[MainWindow, Workspace], qtmodeltester: object
) -> None:
    window, _ws = demo_window
    qtmodeltester.check(window.persons_page.model)  # type: ignore[attr-defined]


def test_lists_fetch_lazily(demo_window: tuple[MainWindow, Workspace], qtbot: QtBot) -> None:
    window, _ws = demo_window
    model = window.persons_page.model
    assert model.rowCount() == 100  # one page, not the whole table
    assert model.canFetchMore()
    with qtbot.waitSignal(model.loaded, timeout=5000):
        model.fetchMore()
    assert model.rowCount() == 200


def test_opening_the_fiche_from_the_list_writes_an_audit_entry(
    demo_window: tuple[MainWindow, Workspace], qtbot: QtBot
) -> None:
    window, _ws = demo_window
    page = window.persons_page
    person_id = page.model.person_id(3)
    page.table.setFocus()
    page.table.selectRow(3)
    page.open_fiche(3)
    qtbot.waitUntil(lambda: page.fiche.toPlainText() != "", timeout=5000)
    got: list[list[dict[str, object]]] = []
    window._db.submit(lambda w: audit.entries(w, person_id), got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=5000)
    assert [e["event"] for e in got[0]] == ["fiche-ouverte"]
