"""The City's details come from the server: a coordinator changes them in Paramètres (online),
a social worker's laptop prints them after its sync, and says so while they are the sample.

Real parts: a ``havre-server`` process on loopback, two desktop profiles (SQLCipher) with their
windows and sync engines; the handout is built, previewed and printed as an agent does."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pdfplumber
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from havre_desktop.sync.errors import RequestRefusedError
from havre_desktop.ui.context import load_context_data
from havre_desktop.ui.pages.city_details import CityDetailsDialog
from havre_desktop.ui.pages.handout_dialog import HandoutChoiceDialog
from havre_desktop.ui.print_preview import PdfPreviewDialog
from tests.server.support import ServerProcess, World
from tests.ui.conftest import DialogDriver, Keyboard, pdf_printer
from tests.ui.test_sync_ui import (  # noqa: F401  (fixtures)
    Desk,
    desks,
    new_person,
    server,
    sign_in,
    sync,
    world,
)

SAMPLE = "02 61 91 00 00"
REAL = "02 35 19 45 45"


def _text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "\n".join(page.extract_text() or "" for page in document.pages)


def _print_handout(desk: Desk, dialogs: DialogDriver, tmp_path: Path, name: str) -> tuple[str, str]:
    """From the fiche of `name`: choose one action, preview, print; the document's text (as
    pdfplumber reads it) and the warnings the preview showed before printing."""
    persons = desk.window.persons_page
    desk.window.go_to(persons)
    desk.app.open_fiche(name)
    printed = tmp_path / f"{name.replace(' ', '-')}-{len(list(tmp_path.iterdir()))}.pdf"
    seen: list[tuple[str, str]] = []

    def choose(dialog: QDialog) -> None:
        assert isinstance(dialog, HandoutChoiceDialog)
        dialog.action_list.item(0).setCheckState(Qt.CheckState.Checked)
        dialog.accept()

    def preview(dialog: QDialog) -> None:
        assert isinstance(dialog, PdfPreviewDialog)
        desk.app.qtbot.waitUntil(lambda: dialog.document.pageCount() > 0)
        warnings = dialog.warnings.text() if not dialog.warnings.isHidden() else ""
        dialog.print_to(pdf_printer(printed))
        seen.append((_text(dialog.pdf), warnings))
        dialog.accept()

    dialogs.when(HandoutChoiceDialog, choose)
    dialogs.when(PdfPreviewDialog, preview)
    persons.print_button.click()
    desk.app.qtbot.waitUntil(lambda: bool(seen) or bool(dialogs.errors), timeout=30_000)
    dialogs.check()
    desk.app.settle()
    assert printed.stat().st_size > 0  # sent to the (PDF) printer
    return seen[0]


def test_a_coordinator_sets_the_number_and_a_social_workers_handout_prints_it(
    qtbot: QtBot,
    world: World,  # noqa: F811
    server: ServerProcess,  # noqa: F811
    desks: Any,  # noqa: F811
    dialogs: DialogDriver,
    keyboard: Keyboard,
    tmp_path: Path,
) -> None:
    server.sql("DELETE FROM city_details")  # this module's server: no details yet
    worker = desks("travailleur", role="travailleur-social")
    sign_in(qtbot, worker, server.base_url, world.create_agent("travailleur-social", ["nord"]))
    new_person(qtbot, worker, family_name="Exemplaire", given_names="Odette", territory_id="nord")
    sync(qtbot, worker)

    # Nothing from the City yet: the sample number is printed, and said before printing.
    text, warnings = _print_handout(worker, dialogs, tmp_path, "exemplaire odette")
    assert SAMPLE in text
    assert "numéro d'exemple" in warnings
    box = worker.window.settings_page.city
    assert box.edit_button.isHidden()  # a social worker reads, she does not edit
    assert "(exemple fictif)" in box.summary.text()

    # The coordinator, signed in, changes them in Paramètres with the keyboard.
    chief = desks("coordinatrice", role="coordinateur")
    sign_in(qtbot, chief, server.base_url, world.create_agent("coordinateur", ["nord"]))
    settings = chief.window.settings_page
    chief.window.go_to(settings)
    chief.window.activateWindow()
    qtbot.waitActive(chief.window)
    settings.city.desk.setFocus()
    chief.app.settle()
    assert settings.city.edit_button.isVisible()
    keyboard.key(Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: getattr(settings.city, "editor", None) is not None)
    editor: CityDetailsDialog = settings.city.editor
    qtbot.waitUntil(lambda: QApplication.activeWindow() is editor and bool(editor.focusWidget()))
    assert editor.row_id == "ville"
    keyboard.key(Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)  # Numéro du stan&dard
    assert editor.fields["standard_phone"].hasFocus()
    editor.fields["standard_phone"].selectAll()
    keyboard.type("02 35 19 4")  # too short: refused here, in French, nothing sent
    keyboard.key(Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: not editor.error.isHidden())
    assert editor.error.text().startswith("Numéro du standard : ")
    assert server.sql("SELECT count(*) FROM city_details") == [(0,)]
    editor.fields["standard_phone"].setFocus()
    editor.fields["standard_phone"].selectAll()
    keyboard.type("0235194545")
    with qtbot.waitSignal(chief.controller.finished, timeout=30_000):  # saved, then synced
        keyboard.key(Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    assert not editor.isVisible()
    assert server.sql("SELECT standard_phone FROM city_details WHERE id = 'ville'") == [(REAL,)]
    chief.app.settle()
    qtbot.waitUntil(lambda: REAL in settings.city.summary.text(), timeout=10_000)
    events = server.sql("SELECT event FROM audit_log WHERE entity = 'city_details'")
    assert [e[0] for e in events] == ["coordonnees-ville"]

    # The social worker's laptop, after its sync, prints the real number and no warning.
    sync(qtbot, worker)
    qtbot.waitUntil(lambda: REAL in box.summary.text(), timeout=10_000)
    text, warnings = _print_handout(worker, dialogs, tmp_path, "exemplaire odette")
    assert REAL in text
    assert SAMPLE not in text and "fictif" not in text
    assert warnings == ""

    # A social worker's laptop cannot change them: the server refuses, in French.
    with pytest.raises(RequestRefusedError) as refused:
        worker.controller.engine.save_city_details("ville", {"standard_phone": "02 35 00 00 00"})
    assert refused.value.status == 403
    assert refused.value.message == (
        "Les coordonnées de la Ville sont saisies par les coordinateurs et les administrateurs."
    )
    assert server.sql("SELECT standard_phone FROM city_details WHERE id = 'ville'") == [(REAL,)]


def test_a_desk_of_the_territory_is_printed_and_another_can_be_chosen(
    qtbot: QtBot,
    world: World,  # noqa: F811
    server: ServerProcess,  # noqa: F811
    desks: Any,  # noqa: F811
    dialogs: DialogDriver,
    tmp_path: Path,
) -> None:
    admin = world.admin
    for row_id, values in (
        ("ville", {"standard_phone": REAL}),
        (
            "nord-annexe",
            {
                "territory_id": "nord",
                "desk_name": "Mairie annexe Exemple Nord",
                "address": "1 place de l'Exemple, 76620 Le Havre",
                "opening_hours": "du lundi au vendredi, de 9 h à 17 h",
            },
        ),
        ("sud-annexe", {"territory_id": "sud", "desk_name": "Mairie annexe Exemple Sud"}),
    ):
        reply = admin.client.put(
            f"/api/v1/admin/city-details/{row_id}",
            json={"values": values},
            headers=admin.headers(),
        )
        assert reply.status_code == 200, reply.text
    worker = desks("travailleuse", role="travailleur-social")
    sign_in(qtbot, worker, server.base_url, world.create_agent("travailleur-social", ["nord"]))
    new_person(qtbot, worker, family_name="Modele", given_names="Irene", territory_id="nord")
    sync(qtbot, worker)
    text, _warnings = _print_handout(worker, dialogs, tmp_path, "modele irene")
    assert "Mairie annexe Exemple Nord" in text
    # Paramètres: this laptop prints the Sud desk instead (a local choice among the synced).
    box = worker.window.settings_page.city
    worker.window.go_to(worker.window.settings_page)
    worker.app.settle()
    assert [box.desk.itemText(i) for i in range(box.desk.count())] == [
        "Celui de mon territoire",
        "Mairie annexe Exemple Nord (Le Havre Nord)",
        "Mairie annexe Exemple Sud (Le Havre Sud)",
    ]
    box.desk.setCurrentIndex(2)
    box.desk.activated.emit(2)
    worker.app.settle()
    assert worker.query("SELECT value FROM settings WHERE key = 'city_desk'")[0]["value"] == (
        "sud-annexe"
    )
    text, _warnings = _print_handout(worker, dialogs, tmp_path, "modele irene")
    assert "Mairie annexe Exemple Sud" in text and "Exemple Nord" not in text
    # The choice is read again at the next start (the window then shows it).
    started: list[dict[str, Any]] = []
    worker.app.database.submit(load_context_data, started.append)
    qtbot.waitUntil(lambda: bool(started))
    assert started[0]["settings"]["city_desk"] == "sud-annexe"


def test_the_street_list_loaded_on_the_server_reaches_accueil_at_the_sync(
    qtbot: QtBot,
    world: World,  # noqa: F811
    server: ServerProcess,  # noqa: F811
    desks: Any,  # noqa: F811
    keyboard: Keyboard,
) -> None:
    reply = world.client.post(
        "/api/v1/admin/streets",
        json={"csv": "rue;territoire;code_postal\nAllée des Essais;Le Havre Est;76610\n"},
        headers=world.admin.headers(),
    )
    assert reply.status_code == 200, reply.text
    desk = desks("accueil", role="accueil")
    page = desk.window.reception_page
    desk.window.activateWindow()
    qtbot.waitActive(desk.window)
    page.need.setFocus()
    keyboard.key(Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    keyboard.type("allee des ess")
    qtbot.waitUntil(lambda: "Aucune liste de rues n'est chargée" in page.street_status.text())
    sign_in(qtbot, desk, server.base_url, world.create_agent("accueil", ["nord"]))
    sync(qtbot, desk)
    # The sync announced the streets: the search typed before runs again.
    qtbot.waitUntil(lambda: page.street_results.count() == 1, timeout=10_000)
    assert page.street_results.item(0).text() == "Allée des Essais — Le Havre Est (76610)"
    page.street.setFocus()
    keyboard.key(Qt.Key.Key_Return)
    assert page.territory.currentData() == "est"
    assert page.street_status.text() == "Allée des Essais : Le Havre Est."
