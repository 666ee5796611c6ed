"""Journey 2 of journeys.md: a walk-in at a mairie annexe (reception desk, Le Havre Est).

A man of 72 in a wheelchair asks what there is for him nearby: the agent finds the leisure
actions of Le Havre Est with step-free access, prints a very-large-print handout of the two
he likes, and counts the encounter anonymously. (His enrolment on the register comes with
the register work, not yet built.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pdfplumber
import pypdf
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from havre_desktop.core.catalogue import AGE_GROUP_AUDIENCES
from havre_desktop.ui.pages.handout_dialog import HandoutChoiceDialog
from havre_desktop.ui.print_preview import PdfPreviewDialog
from tests.ui.conftest import DemoApp, DialogDriver, Keyboard, pdf_printer

ALT = Qt.KeyboardModifier.AltModifier


def test_walk_in_finds_step_free_leisure_prints_very_large_and_counts_anonymously(
    reception_app: DemoApp, keyboard: Keyboard, dialogs: DialogDriver, tmp_path: Path
) -> None:
    app, window = reception_app, reception_app.window
    page = window.reception_page
    window.activateWindow()
    window.navigation.setFocus()
    keyboard.key(Qt.Key.Key_4, ALT)  # Ma journée, Personnes, Actions, Accueil: no Visites
    assert window.pages.currentWidget() is page

    page.need.setCurrentIndex(page.need.findData("loisirs"))
    page.territory.setCurrentIndex(page.territory.findData("est"))
    page.step_free.setChecked(True)
    page.age_group.setCurrentIndex(page.age_group.findData("60-74"))
    app.settle()
    expected = {
        r["id"]: r["title"]
        for r in app.query(
            "SELECT id, title FROM actions WHERE deleted = 0 AND status IN ('en-cours', 'en-test') "
            "AND json_extract(accessibility, '$.step_free') = 1 "
            "AND EXISTS (SELECT 1 FROM json_each(territory_ids) WHERE value = 'est') "
            "AND EXISTS (SELECT 1 FROM json_each(need_ids) WHERE value = 'loisirs') "
            "AND EXISTS (SELECT 1 FROM json_each(audience_ids) WHERE value IN "
            f"({','.join('?' for _ in AGE_GROUP_AUDIENCES['60-74'])}))",
            tuple(AGE_GROUP_AUDIENCES["60-74"]),
        )
    }
    shown = {page.model.row(r)["id"] for r in range(page.model.rowCount())}  # type: ignore[index]
    assert shown == set(expected) and len(expected) >= 2
    assert page.result_label.text() == f"{len(expected)} actions pour ce besoin"

    page.table.setCurrentIndex(page.model.index(0, 0))
    first = page.model.row(0)["id"]  # type: ignore[index]
    printed = tmp_path / "imprime.pdf"  # what the printer receives: pages as images
    saved = tmp_path / "document-accueil.pdf"  # the same document kept as a PDF, with its text
    chosen: list[str] = []
    pages: list[int] = []

    def choose_two_very_large(dialog: QDialog) -> None:
        assert isinstance(dialog, HandoutChoiceDialog)
        assert dialog.chosen() == [first]  # the action he pointed at comes ticked
        items = [dialog.action_list.item(i) for i in range(dialog.action_list.count())]
        other = next(
            i
            for i in items
            if i.data(Qt.ItemDataRole.UserRole) in expected
            and i.data(Qt.ItemDataRole.UserRole) != first
        )
        other.setCheckState(Qt.CheckState.Checked)
        dialog.very_large.setChecked(True)
        chosen.extend(dialog.chosen())
        dialog.accept()

    def print_it(dialog: QDialog) -> None:
        assert isinstance(dialog, PdfPreviewDialog)
        app.qtbot.waitUntil(lambda: dialog.document.pageCount() > 0)
        pages.append(dialog.print_to(pdf_printer(printed)))
        dialog.save_to(saved)
        dialog.accept()

    dialogs.when(HandoutChoiceDialog, choose_two_very_large)
    dialogs.when(PdfPreviewDialog, print_it)
    page.print_button.click()
    app.qtbot.waitUntil(lambda: bool(pages) or bool(dialogs.errors), timeout=20_000)
    dialogs.check()
    app.settle()
    assert len(chosen) == 2

    (given,) = app.query("SELECT * FROM handouts_given")  # printed and saved: recorded once
    assert given["person_id"] is None  # anonymous: nobody's name on record
    assert (given["variant"], given["territory_id"]) == ("very-large", "est")
    assert sorted(json.loads(str(given["action_ids"]))) == sorted(chosen)

    assert len(pypdf.PdfReader(printed).pages) == pages[0] >= 1
    with pdfplumber.open(saved) as pdf:
        words = [w for p in pdf.pages for w in p.extract_words(extra_attrs=["size"])]
        text = " ".join(w["text"] for w in words)
    for action_id in chosen:  # each title, perhaps broken over lines
        missing = [w for w in expected[action_id].split() if w not in text]
        assert missing == [], (expected[action_id], text[:600])
    assert min(w["size"] for w in words) >= 14 and max(w["size"] for w in words) >= 22

    # Printing counted the walk-in: no second click (the button waits for the next question).
    app.qtbot.waitUntil(lambda: bool(app.query("SELECT 1 FROM reception_encounters")))
    assert not page.count_button.isEnabled()
    (encounter,) = app.query("SELECT * FROM reception_encounters")
    assert (encounter["need_id"], encounter["territory_id"], encounter["age_group_id"]) == (
        "loisirs",
        "est",
        "60-74",
    )
    columns = {r["name"] for r in app.query("PRAGMA table_info(reception_encounters)")}
    assert not columns & {"person_id", "family_name", "given_names", "phone_1", "birth_date"}
    assert page.status.text() == "Passage compté : Loisirs, rompre l'isolement, Le Havre Est."
    app.qtbot.waitUntil(lambda: window.pending_label.text() == "2 modifications en attente")
