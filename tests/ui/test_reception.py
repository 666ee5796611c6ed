"""Accueil as a reception desk uses it: the age group filters the actions, the choice of what
to print lists what was found, printing counts the walk-in once (no second click), and a
reception agent's session opens on Accueil and cannot archive a fiche."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from havre_desktop.core import contacts
from havre_desktop.core.catalogue import AGE_GROUP_AUDIENCES
from havre_desktop.core.errors import PermissionDeniedError
from havre_desktop.ui.pages.handout_dialog import HandoutChoiceDialog
from havre_desktop.ui.print_preview import PdfPreviewDialog
from tests.ui.conftest import DemoApp, DialogDriver, Keyboard, pdf_printer


def _matching(app: DemoApp, need: str, territory: str, age_group: str | None) -> set[str]:
    sql = (
        "SELECT id FROM actions WHERE deleted = 0 AND status IN ('en-cours', 'en-test') "
        "AND EXISTS (SELECT 1 FROM json_each(territory_ids) WHERE value = ?) "
        "AND EXISTS (SELECT 1 FROM json_each(need_ids) WHERE value = ?)"
    )
    params: list[str] = [territory, need]
    if age_group:
        audiences = sorted(AGE_GROUP_AUDIENCES[age_group])
        sql += (
            " AND EXISTS (SELECT 1 FROM json_each(audience_ids) WHERE value IN ("
            + ",".join("?" for _ in audiences)
            + "))"
        )
        params += audiences
    return {r["id"] for r in app.query(sql, tuple(params))}


def _shown(page: object) -> set[str]:
    model = page.model  # type: ignore[attr-defined]
    return {model.row(r)["id"] for r in range(model.rowCount())}


def test_the_age_group_filters_the_actions(demo_app: DemoApp) -> None:
    page = demo_app.window.reception_page
    page.need.setCurrentIndex(page.need.findData("isolement"))
    page.territory.setCurrentIndex(page.territory.findData("nord"))
    demo_app.settle()
    everyone = _matching(demo_app, "isolement", "nord", None)
    assert _shown(page) == everyone
    results: dict[str, set[str]] = {}
    for group in ("moins-25", "85-plus"):
        page.age_group.setCurrentIndex(page.age_group.findData(group))
        demo_app.settle()
        results[group] = _shown(page)
        assert results[group] == _matching(demo_app, "isolement", "nord", group)
        assert page.result_label.text().startswith(f"{len(results[group])} action")
    # The filter filters: the youngest and the oldest are not offered the same actions.
    assert results["moins-25"] != results["85-plus"]
    assert results["85-plus"] < everyone or results["moins-25"] < everyone


def test_printing_for_the_resident_lists_what_was_found_and_counts_the_walk_in_once(
    demo_app: DemoApp, dialogs: DialogDriver, tmp_path: Path
) -> None:
    app = demo_app
    page = app.window.reception_page
    app.window.show_page("reception")
    page.need.setCurrentIndex(page.need.findData("loisirs"))
    page.territory.setCurrentIndex(page.territory.findData("est"))
    page.age_group.setCurrentIndex(page.age_group.findData("75-84"))
    app.settle()
    found = _shown(page)
    catalogue = {a["id"] for a in app.window.ctx.current_actions}
    assert 0 < len(found) < len(catalogue)
    listed: list[set[str]] = []
    printed: list[int] = []

    def choose(dialog: QDialog) -> None:
        assert isinstance(dialog, HandoutChoiceDialog)
        ids = {dialog.action_list.item(i).data(256) for i in range(dialog.action_list.count())}
        listed.append(ids)
        dialog.whole_catalogue.setChecked(True)
        listed.append(
            {dialog.action_list.item(i).data(256) for i in range(dialog.action_list.count())}
        )
        dialog.whole_catalogue.setChecked(False)
        dialog.action_list.item(0).setCheckState(dialog.action_list.item(0).checkState().Checked)
        dialog.accept()

    def preview(dialog: QDialog) -> None:
        assert isinstance(dialog, PdfPreviewDialog)
        app.qtbot.waitUntil(lambda: dialog.document.pageCount() > 0)
        printed.append(dialog.print_to(pdf_printer(tmp_path / "accueil.pdf")))
        dialog.accept()

    dialogs.when(HandoutChoiceDialog, choose)
    dialogs.when(PdfPreviewDialog, preview)
    page.print_button.click()
    app.qtbot.waitUntil(lambda: bool(printed) or bool(dialogs.errors), timeout=20_000)
    dialogs.check()
    app.settle()
    # Only the actions found were offered, until the whole catalogue was asked for.
    assert listed[0] == found and listed[1] == catalogue
    (given,) = app.query("SELECT territory_id FROM handouts_given")
    assert given["territory_id"] == "est"
    # The print counted the walk-in: one encounter, and no second click needed or possible.
    app.qtbot.waitUntil(lambda: bool(app.query("SELECT 1 FROM reception_encounters")))
    (encounter,) = app.query("SELECT need_id, territory_id, age_group_id FROM reception_encounters")
    assert encounter == {"need_id": "loisirs", "territory_id": "est", "age_group_id": "75-84"}
    assert page.status.text().startswith("Passage compté")
    assert not page.count_button.isEnabled()
    page.count_encounter()
    app.settle()
    assert len(app.query("SELECT 1 FROM reception_encounters")) == 1
    # The next question (another need) is another encounter to count.
    page.need.setCurrentIndex(page.need.findData("isolement"))
    app.settle()
    assert page.count_button.isEnabled() and page.status.text() == ""
    page.count_button.click()
    app.settle()
    assert len(app.query("SELECT 1 FROM reception_encounters")) == 2


def test_a_reception_agent_opens_on_accueil_and_cannot_archive(reception_app: DemoApp) -> None:
    window = reception_app.window
    assert window.pages.currentWidget() is window.reception_page
    assert window.navigation.currentItem().text() == "Accueil"
    persons = window.persons_page
    persons.open_fiche(0)
    reception_app.settle()
    assert persons.archive_button.isHidden()
    person_id = persons.current["id"]  # type: ignore[index]
    refused: list[Exception] = []
    reception_app.database.submit(
        lambda ws: contacts.archive(ws, person_id), lambda _row: None, refused.append
    )
    reception_app.qtbot.waitUntil(lambda: bool(refused))
    assert isinstance(refused[0], PermissionDeniedError)
    assert refused[0].message == "Votre rôle ne permet pas d'archiver une fiche."
    (row,) = reception_app.query("SELECT archived FROM contacts WHERE id = ?", (person_id,))
    assert row["archived"] == 0
    assert not reception_app.query(
        "SELECT 1 FROM outbox WHERE table_name = 'contacts' AND changed_fields LIKE '%archived%'"
    )


def _street_results(page: Any) -> list[str]:
    return [page.street_results.item(i).text() for i in range(page.street_results.count())]


def test_the_street_typed_gives_the_territory_by_keyboard(
    reception_app: DemoApp, keyboard: Keyboard
) -> None:
    """The demo profile holds the sample street list (generic names, fictitious territories)."""
    app, qtbot = reception_app, reception_app.qtbot
    page = app.window.reception_page
    assert app.window.pages.currentWidget() is page
    page.need.setFocus()
    keyboard.key(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert page.street.hasFocus()
    keyboard.type("av foch")  # a short form, lower case
    qtbot.waitUntil(
        lambda: _street_results(page)[:1] == ["Avenue Foch — Le Havre Centre Ouest (76600)"]
    )
    keyboard.key(Qt.Key.Key_Return)
    assert page.territory.currentData() == "centre-ouest"
    assert page.filters()["territory_id"] == "centre-ouest"
    assert page.street_status.text() == (
        "Avenue Foch : Le Havre Centre Ouest. (liste de rues d'exemple, fictive)"
    )
    assert page.need.hasFocus()  # on to the resident's need
    app.settle()
    assert page.result_label.text().endswith("pour ce besoin")

    # Capitals, and a namesake further down the list: ↓ then Entrée.
    keyboard.key(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    page.street.selectAll()
    keyboard.type("RUE DE PARIS")
    qtbot.waitUntil(lambda: len(_street_results(page)) == 2)
    assert _street_results(page) == [
        "Rue de Paris — Le Havre Centre Ouest (76600)",
        "Rue Jean de Paris — Le Havre Nord (76620)",
    ]
    keyboard.key(Qt.Key.Key_Down)
    assert page.street_results.hasFocus() and page.street_results.currentRow() == 1
    keyboard.key(Qt.Key.Key_Return)
    assert page.territory.currentData() == "nord"

    # No accent typed, part of the name only.
    keyboard.key(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    page.street.selectAll()
    keyboard.type("eglise")
    qtbot.waitUntil(lambda: _street_results(page) == ["Rue de l'Église — Le Havre Nord (76620)"])
    assert page.street_status.text() == "1 rue trouvée : Entrée choisit son territoire."

    page.street.selectAll()
    keyboard.type("zzz")
    qtbot.waitUntil(lambda: page.street_status.text() == "Aucune rue ne correspond à « zzz ».")
    assert page.street_results.isHidden()
    keyboard.key(Qt.Key.Key_Return)  # nothing found: the territory stays as it was
    assert page.territory.currentData() == "nord"
