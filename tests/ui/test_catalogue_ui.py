"""Coordinators keep the catalogue true from the app, online: the City's spreadsheet (preview,
report, all or nothing, twice changes nothing), an action created, changed and suspended, a
temporary closure typed by keyboard that a reception desk receives at its sync and prints on its
handouts of that period only. Social workers and reception agents see no editing.

Real parts: a ``havre-server`` process on loopback, desktop profiles (SQLCipher) with their
windows and sync engines; the handout is previewed and printed as an agent does, read back with
pdfplumber; dates come from the application's clock."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pdfplumber
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from havre_common.french import period
from havre_desktop.core.clock import FixedClock
from havre_desktop.ui.pages.actions_page import ActionsPage
from havre_desktop.ui.pages.catalogue_editor import (
    ActionEditor,
    FacilityEditor,
    SheetImportDialog,
    TemporaryChangeDialog,
)
from havre_desktop.ui.pages.handout_dialog import HandoutChoiceDialog
from havre_desktop.ui.print_preview import PdfPreviewDialog
from tests.catalogue_sheets import MESSY_BAD_LINES, fixed_xlsx, messy_xlsx
from tests.server.support import ServerProcess, World
from tests.ui.conftest import DemoApp, DialogDriver, Keyboard, pdf_printer
from tests.ui.test_sync_ui import (  # noqa: F401  (fixtures)
    Desk,
    desks,
    server,
    sign_in,
    sync,
    world,
)


def _codes(process: ServerProcess, prefix: str) -> list[Any]:
    return process.sql("SELECT code FROM actions WHERE code LIKE :p ORDER BY code", p=f"{prefix}-%")


def _coordinator(qtbot: QtBot, make: Any, agents: World, process: ServerProcess) -> Desk:
    chief: Desk = make("coordinatrice", role="coordinateur")
    sign_in(qtbot, chief, process.base_url, agents.create_agent("coordinateur", ["nord"]))
    sync(qtbot, chief)
    return chief


def _actions_page(desk: Desk) -> ActionsPage:
    desk.window.show_page("actions")
    desk.app.settle()
    page = desk.window.pages.currentWidget()
    assert isinstance(page, ActionsPage)
    desk.window.activateWindow()
    desk.app.qtbot.waitActive(desk.window)
    page.table.setFocus()
    desk.app.settle()
    desk.app.qtbot.waitUntil(page.table.hasFocus)
    return page


def _press(keyboard: Keyboard, letter: Qt.Key) -> None:
    keyboard.key(letter, Qt.KeyboardModifier.AltModifier)


def test_the_import_dialog_refuses_a_messy_sheet_then_imports_the_fixed_one_once(
    qtbot: QtBot,
    world: World,  # noqa: F811
    server: ServerProcess,  # noqa: F811
    desks: Any,  # noqa: F811
    keyboard: Keyboard,
    tmp_path: Path,
) -> None:
    prefix = "U" + uuid.uuid4().hex[:6].upper()
    messy, fixed = tmp_path / "catalogue-brouillon.xlsx", tmp_path / "catalogue.xlsx"
    messy.write_bytes(messy_xlsx(prefix))
    fixed.write_bytes(fixed_xlsx(prefix))
    chief = _coordinator(qtbot, desks, world, server)
    page = _actions_page(chief)
    page.table.setFocus()
    _press(keyboard, Qt.Key.Key_I)  # &Importer un tableur…
    qtbot.waitUntil(lambda: isinstance(page.editor, SheetImportDialog))
    dialog = page.editor
    assert isinstance(dialog, SheetImportDialog)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    _press(keyboard, Qt.Key.Key_F)  # &Fichier
    assert dialog.path.hasFocus()
    keyboard.type(str(messy), counted=False)
    _press(keyboard, Qt.Key.Key_A)  # &Aperçu
    qtbot.waitUntil(lambda: dialog.summary.text().startswith("Tableau refusé"), timeout=20_000)
    assert "6 ligne(s) à corriger" in dialog.summary.text()
    shown = {dialog.lines_model.row(i)["line"] for i in range(dialog.lines_model.rowCount())}
    assert shown == MESSY_BAD_LINES
    cells = [
        (r["line"], r["where"], r["what"])
        for r in (dialog.lines_model.row(i) for i in range(dialog.lines_model.rowCount()))
    ]
    assert (4, "Territoires", "territoire « Atlantide » inconnu.") in cells
    assert not dialog.import_button.isEnabled()
    assert _codes(server, prefix) == []

    # The fixed sheet: preview, then import (all six), then the laptop has them after its sync.
    dialog.path.setFocus()
    dialog.path.selectAll()
    keyboard.type(str(fixed), counted=False)
    _press(keyboard, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: dialog.summary.text().startswith("Aperçu"), timeout=20_000)
    assert "6 action(s) créée(s), 0 modifiée(s), 0 inchangée(s)" in dialog.summary.text()
    assert _codes(server, prefix) == []
    qtbot.waitUntil(dialog.import_button.isEnabled)
    with qtbot.waitSignal(chief.controller.finished, timeout=30_000):
        _press(keyboard, Qt.Key.Key_I)  # &Importer
    assert dialog.summary.text().startswith("Tableau importé : 6 action(s) créée(s)")
    assert len(_codes(server, prefix)) == 6
    chief.app.settle()
    local = chief.app.query("SELECT code FROM actions WHERE code LIKE ?", (f"{prefix}-%",))
    assert len(local) == 6

    # The same sheet again: nothing to import.
    _press(keyboard, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: "6 inchangée(s)" in dialog.summary.text(), timeout=20_000)
    assert "Rien à importer" in dialog.summary.text()
    assert not dialog.import_button.isEnabled()
    dialog.reject()


def _select(desk: Desk, page: ActionsPage, action_id: str) -> None:
    desk.app.qtbot.waitUntil(
        lambda: any(page.model.row(i)["id"] == action_id for i in range(page.model.rowCount())),
        timeout=10_000,
    )
    row = next(i for i in range(page.model.rowCount()) if page.model.row(i)["id"] == action_id)
    desk.window.activateWindow()
    desk.app.qtbot.waitActive(desk.window)
    page.table.setFocus()
    desk.app.qtbot.waitUntil(page.table.hasFocus)
    page.table.selectRow(row)
    desk.app.qtbot.waitUntil(
        lambda: page.browser.current is not None and page.browser.current["id"] == action_id
    )


def test_create_change_and_suspend_an_action_from_the_app(
    qtbot: QtBot,
    world: World,  # noqa: F811
    server: ServerProcess,  # noqa: F811
    desks: Any,  # noqa: F811
    keyboard: Keyboard,
) -> None:
    code = "N" + uuid.uuid4().hex[:6].upper()
    chief = _coordinator(qtbot, desks, world, server)
    page = _actions_page(chief)
    page.table.setFocus()
    _press(keyboard, Qt.Key.Key_N)  # &Nouvelle action…
    qtbot.waitUntil(lambda: isinstance(page.editor, ActionEditor))
    editor = page.editor
    assert isinstance(editor, ActionEditor)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is editor and bool(editor.focusWidget()))
    _press(keyboard, Qt.Key.Key_E)  # nothing typed: refused here, in French, nothing sent
    qtbot.waitUntil(lambda: not editor.error.isHidden())
    assert "Code : ce champ est obligatoire." in editor.error.text()
    _press(keyboard, Qt.Key.Key_O)  # C&ode
    keyboard.type(code)
    _press(keyboard, Qt.Key.Key_I)  # &Intitulé
    keyboard.type("Thé dansant à l'Atelier")
    editor.status_choice.setCurrentIndex(editor.status_choice.findData("en-test"))
    _press(keyboard, Qt.Key.Key_D)  # &Début
    keyboard.type(chief.app.window.ctx.local_now().strftime("%d/%m/%Y"))
    assert editor.territories.item(0).checkState() == Qt.CheckState.Checked  # her territory
    with qtbot.waitSignal(chief.controller.finished, timeout=30_000):
        _press(keyboard, Qt.Key.Key_E)
    (row,) = server.sql(
        "SELECT id, title, status, territory_ids FROM actions WHERE code = :c", c=code
    )
    assert row[1:] == ("Thé dansant à l'Atelier", "en-test", '["nord"]')
    action_id = str(row[0])

    # Changed: the new title only travels; then suspended.
    _select(chief, page, action_id)
    _press(keyboard, Qt.Key.Key_M)  # &Modifier…
    qtbot.waitUntil(lambda: isinstance(page.editor, ActionEditor) and page.editor is not editor)
    editor = page.editor
    assert isinstance(editor, ActionEditor)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is editor and bool(editor.focusWidget()))
    assert editor.values() == {}
    _press(keyboard, Qt.Key.Key_I)
    editor.title.selectAll()
    keyboard.type("Thé dansant du dimanche")
    assert editor.values() == {"title": "Thé dansant du dimanche"}
    with qtbot.waitSignal(chief.controller.finished, timeout=30_000):
        _press(keyboard, Qt.Key.Key_E)
    qtbot.waitUntil(lambda: page.browser.current is not None)
    _select(chief, page, action_id)
    # Confirmed still true today (the app's clock): its 6-month check starts again.
    qtbot.waitUntil(lambda: not chief.controller.running, timeout=30_000)
    page.edit_status.clear()
    _press(keyboard, Qt.Key.Key_C)  # &Confirmer à jour
    qtbot.waitUntil(
        lambda: page.edit_status.text().startswith("Action confirmée à jour sur le serveur"),
        timeout=30_000,
    )
    today = chief.window.ctx.local_now().date().isoformat()
    assert server.sql("SELECT reviewed_on FROM actions WHERE id = :i", i=action_id) == [(today,)]
    qtbot.waitUntil(lambda: not chief.controller.running, timeout=30_000)
    _select(chief, page, action_id)
    page.edit_status.clear()
    _press(keyboard, Qt.Key.Key_D)  # Suspen&dre (animateClick: waited for, not assumed)
    qtbot.waitUntil(
        lambda: page.edit_status.text().startswith("Action suspendue sur le serveur"),
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: not chief.controller.running, timeout=30_000)
    assert server.sql("SELECT title, status FROM actions WHERE id = :i", i=action_id) == [
        ("Thé dansant du dimanche", "suspendue")
    ]
    events = server.sql("SELECT event FROM audit_log WHERE entity_id = :i", i=action_id)
    assert [e[0] for e in events] == ["catalogue-modifie"] * 4
    chief.app.settle()
    assert chief.app.query("SELECT status FROM actions WHERE id = ?", (action_id,)) == [
        {"status": "suspendue"}
    ]

    # Its facility closed from the same page (Lieu…): the server has it, the laptop after sync.
    (facility_id,) = chief.app.query(
        "SELECT facility_id FROM actions WHERE deleted = 0 AND facility_id IS NOT NULL "
        "AND territory_ids = '[\"nord\"]' AND status = 'en-cours' ORDER BY code LIMIT 1"
    )[0].values()
    (with_facility,) = chief.app.query(
        "SELECT id FROM actions WHERE facility_id = ? AND status = 'en-cours' LIMIT 1",
        (facility_id,),
    )[0].values()
    _select(chief, page, str(with_facility))
    _press(keyboard, Qt.Key.Key_L)  # &Lieu…
    qtbot.waitUntil(lambda: isinstance(page.editor, FacilityEditor))
    place = page.editor
    assert isinstance(place, FacilityEditor)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is place and bool(place.focusWidget()))
    assert place.row_id == facility_id
    _press(keyboard, Qt.Key.Key_I)  # État du l&ieu
    assert place.state.hasFocus()
    place.state.setCurrentIndex(place.state.findData("ferme"))
    assert place.values() == {"status": "ferme"}
    with qtbot.waitSignal(chief.controller.finished, timeout=30_000):
        _press(keyboard, Qt.Key.Key_E)
    assert server.sql("SELECT status FROM facilities WHERE id = :i", i=facility_id) == [("ferme",)]
    chief.app.settle()
    assert chief.app.query("SELECT status FROM facilities WHERE id = ?", (facility_id,)) == [
        {"status": "ferme"}
    ]

    # A social worker and a reception agent see the catalogue, not the editing.
    for role in ("travailleur-social", "accueil"):
        other: Desk = desks(f"poste-{role}", role=role)
        other_page = _actions_page(other)
        assert other_page.edit_buttons == {} and other_page.stale_only.isHidden()
        assert other_page.freshness.isHidden()


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return " ".join(" ".join((p.extract_text() or "").split()) for p in document.pages)


def _print_at_desk(desk: Desk, dialogs: DialogDriver, action_id: str, printed: Path) -> str:
    """Accueil: print an anonymous handout of this action; the PDF's text."""
    page = desk.window.reception_page
    desk.window.show_page("reception")
    desk.app.settle()
    seen: list[str] = []

    def choose(dialog: QDialog) -> None:
        assert isinstance(dialog, HandoutChoiceDialog)
        dialog.whole_catalogue.setChecked(True)
        for i in range(dialog.action_list.count()):
            item = dialog.action_list.item(i)
            if item.data(256) == action_id:
                item.setCheckState(Qt.CheckState.Checked)
        dialog.accept()

    def preview(dialog: QDialog) -> None:
        assert isinstance(dialog, PdfPreviewDialog)
        desk.app.qtbot.waitUntil(lambda: dialog.document.pageCount() > 0)
        dialog.print_to(pdf_printer(printed))
        seen.append(_text(dialog.pdf))
        dialog.accept()

    dialogs.when(HandoutChoiceDialog, choose)
    dialogs.when(PdfPreviewDialog, preview)
    page.print_button.click()
    desk.app.qtbot.waitUntil(lambda: bool(seen) or bool(dialogs.errors), timeout=30_000)
    dialogs.check()
    desk.app.settle()
    assert printed.stat().st_size > 0
    return seen[0]


def test_a_closure_typed_by_a_coordinator_is_printed_at_a_reception_desk_in_its_period_only(
    qtbot: QtBot,
    world: World,  # noqa: F811
    server: ServerProcess,  # noqa: F811
    desks: Any,  # noqa: F811
    dialogs: DialogDriver,
    keyboard: Keyboard,
    tmp_path: Path,
) -> None:
    chief = _coordinator(qtbot, desks, world, server)
    (action_id, title) = chief.app.query(
        "SELECT id, title FROM actions WHERE deleted = 0 AND status = 'en-cours' "
        "AND territory_ids = '[\"nord\"]' AND audience_ids LIKE '%seniors%' ORDER BY code LIMIT 1"
    )[0].values()
    page = _actions_page(chief)
    _select(chief, page, str(action_id))
    _press(keyboard, Qt.Key.Key_H)  # C&hangement temporaire…
    qtbot.waitUntil(lambda: isinstance(page.editor, TemporaryChangeDialog))
    dialog = page.editor
    assert isinstance(dialog, TemporaryChangeDialog)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog and bool(dialog.focusWidget()))
    today = chief.window.ctx.local_now().date()
    until = today + timedelta(days=3)
    assert dialog.starts.text() == today.strftime("%d/%m/%Y")  # the app's clock
    _press(keyboard, Qt.Key.Key_A)  # &Au
    dialog.ends.selectAll()
    keyboard.type(until.strftime("%d/%m/%Y"))
    _press(keyboard, Qt.Key.Key_M)  # &Message
    keyboard.type("Travaux dans la salle")
    with qtbot.waitSignal(chief.controller.finished, timeout=30_000):
        _press(keyboard, Qt.Key.Key_E)
    (stored,) = server.sql(
        "SELECT kind, starts_on, ends_on, message FROM temporary_changes WHERE action_id = :a",
        a=str(action_id),
    )
    assert stored == ("fermeture", today.isoformat(), until.isoformat(), "Travaux dans la salle")
    qtbot.waitUntil(lambda: "Fermé " in page.detail.toPlainText(), timeout=10_000)

    # A reception desk of the territory: at its next sync it has it, prints it in the period…
    desk: Desk = desks("accueil", role="accueil")
    sign_in(qtbot, desk, server.base_url, world.create_agent("accueil", ["nord"]))
    sync(qtbot, desk)
    assert len(desk.app.query("SELECT 1 FROM temporary_changes")) >= 1
    closed = f"Fermé {period(today, until)}. Travaux dans la salle."
    # Accueil says it: in the list of the resident's need, and in the action's detail.
    (need,) = desk.app.query(
        "SELECT json_extract(need_ids, '$[0]') AS need FROM actions WHERE id = ?", (action_id,)
    )
    reception = desk.window.reception_page
    desk.window.show_page("reception")
    reception.need.setCurrentIndex(reception.need.findData(need["need"]))
    reception.territory.setCurrentIndex(reception.territory.findData("nord"))
    desk.app.settle()
    rows = {reception.model.row(i)["id"]: i for i in range(reception.model.rowCount())}
    assert reception.model.row(rows[action_id])["notice"] == "Fermeture temporaire"
    reception.table.selectRow(rows[action_id])
    qtbot.waitUntil(lambda: closed in " ".join(reception.detail.toPlainText().split()))
    text = _print_at_desk(desk, dialogs, str(action_id), tmp_path / "pendant.pdf")
    assert title in text and f"Attention : {closed}" in text

    # …and not after it (the application's clock, four days later).
    clock = desk.app.ws.clock
    assert isinstance(clock, FixedClock)
    clock.at = clock.at + timedelta(days=4)
    text = _print_at_desk(desk, dialogs, str(action_id), tmp_path / "apres.pdf")
    assert title in text and "Fermé" not in text and "Travaux dans la salle" not in text


def test_ma_journee_flags_the_actions_a_coordinator_has_not_confirmed_for_6_months(
    coordinator_app: DemoApp,
) -> None:
    app = coordinator_app
    today = app.window.ctx.today
    # Two actions of her territory confirmed recently, the others never (sample catalogue).
    fresh = [
        r["id"]
        for r in app.query(
            "SELECT id FROM actions WHERE territory_ids LIKE '%\"nord\"%' AND status = 'en-cours' "
            "ORDER BY code LIMIT 2"
        )
    ]
    with app.ws.store.transaction() as conn:
        conn.executemany(
            "UPDATE actions SET reviewed_on = ? WHERE id = ?",
            [(today.isoformat(), action_id) for action_id in fresh],
        )
    app.window.data_changed()
    page = app.window.today_page
    page.refresh()
    app.settle()
    (expected,) = app.query(
        "SELECT count(*) AS n FROM actions WHERE deleted = 0 AND status NOT IN "
        "('arretee', 'realisee', 'abandonnee') AND (reviewed_on IS NULL OR reviewed_on < ?) "
        "AND EXISTS (SELECT 1 FROM json_each(territory_ids) WHERE value = 'nord')",
        ((today - timedelta(days=183)).isoformat(),),
    )
    assert expected["n"] > 0
    app.qtbot.waitUntil(lambda: page.stale_box.isVisible())
    assert page.stale_label.text().startswith(f"{expected['n']} actions de vos territoires")
    page.stale_button.click()
    app.settle()
    actions = app.window.pages.currentWidget()
    assert isinstance(actions, ActionsPage) and actions.stale_only.isChecked()
    app.qtbot.waitUntil(lambda: actions.model.rowCount() == expected["n"])
    shown = {actions.model.row(i)["id"] for i in range(actions.model.rowCount())}
    assert not shown & set(fresh)
    assert actions.freshness.text().startswith(f"{expected['n']} actions de vos territoires")


def test_a_social_workers_ma_journee_and_catalogue_say_nothing_of_it(demo_app: DemoApp) -> None:
    demo_app.window.today_page.refresh()
    demo_app.settle()
    assert demo_app.window.today_page.stale_box.isHidden()


def test_a_coordinators_actions_page_fits_a_1366_by_768_screen_at_200_percent(
    coordinator_app: DemoApp,
) -> None:
    """The editing buttons, the freshness line and the filters at 200 %: the window still
    fits a common laptop screen, and every button says its whole text."""
    window = coordinator_app.window
    assert window.theme is not None
    window.theme.apply(200, False)
    window.adapt_to_font()
    window.show_page("actions")
    coordinator_app.settle()
    page = window.pages.currentWidget()
    assert isinstance(page, ActionsPage)
    page.refresh()
    coordinator_app.settle()
    assert page.freshness.isVisible()
    minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
    frame = window.frameGeometry().size() - window.geometry().size()
    assert minimum.width() + frame.width() <= 1366, (minimum, frame)
    assert minimum.height() + frame.height() <= 768, (minimum, frame)
    window.resize(1366 - frame.width(), 768 - frame.height())
    coordinator_app.settle()
    for button in page.edit_buttons.values():
        text = button.text().replace("&", "")
        assert button.fontMetrics().horizontalAdvance(text) <= button.width(), text
