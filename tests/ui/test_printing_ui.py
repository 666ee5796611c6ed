"""Preview, print to a PDF printer, save, record the handout; programmes, letters, reports."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from havre_desktop.core.workspace import Workspace
from havre_desktop.ui.pages.handout_dialog import HandoutChoiceDialog
from havre_desktop.ui.print_preview import PdfPreviewDialog
from tests.ui.conftest import DemoApp, DialogDriver, make_app, pdf_printer


def test_handout_from_the_fiche_preview_print_and_record(
    demo_app: DemoApp, dialogs: DialogDriver, tmp_path: Path
) -> None:
    persons = demo_app.window.persons_page
    demo_app.open_fiche()
    person_id = persons.current["id"]  # type: ignore[index]
    printed = tmp_path / "imprime.pdf"
    chosen: list[str] = []
    pages: list[int] = []

    def choose(dialog: QDialog) -> None:
        assert isinstance(dialog, HandoutChoiceDialog)
        items = [dialog.action_list.item(i) for i in range(dialog.action_list.count())]
        for item in items[:2]:
            item.setCheckState(item.checkState().Checked)
        dialog.very_large.setChecked(True)
        chosen.extend(dialog.chosen())
        dialog.accept()

    def preview(dialog: QDialog) -> None:
        assert isinstance(dialog, PdfPreviewDialog)
        demo_app.qtbot.waitUntil(lambda: dialog.document.pageCount() > 0)
        # The demo profile still prints the sample City number: said before printing.
        assert not dialog.warnings.isHidden()
        assert "numéro d'exemple" in dialog.warnings.text()
        assert dialog.pages_label.text() == (
            f"{dialog.document.pageCount()} page" + ("s" if dialog.document.pageCount() > 1 else "")
        )
        pages.append(dialog.print_to(pdf_printer(printed)))
        dialog.accept()

    dialogs.when(HandoutChoiceDialog, choose)
    dialogs.when(PdfPreviewDialog, preview)
    persons.print_button.click()
    demo_app.qtbot.waitUntil(lambda: bool(pages) or bool(dialogs.errors), timeout=20_000)
    dialogs.check()
    demo_app.settle()
    reader = pypdf.PdfReader(printed)
    assert len(reader.pages) == pages[0] >= 1
    (given,) = demo_app.query("SELECT * FROM handouts_given WHERE person_id = ?", (person_id,))
    assert given["variant"] == "very-large"
    assert sorted(given["action_ids"].strip("[]").replace('"', "").split(",")) == sorted(chosen)
    events = [r["event"] for r in demo_app.query("SELECT event FROM audit_log")]
    assert "impression" in events


def test_programme_preview_and_save(demo_app: DemoApp, tmp_path: Path) -> None:
    page = demo_app.window.prints_page
    page.programme_territory.setCurrentIndex(page.programme_territory.findData("nord"))
    page.programme_button.click()
    demo_app.qtbot.waitUntil(lambda: getattr(page, "last_preview", None) is not None)
    preview = page.last_preview
    target = tmp_path / "programme.pdf"
    preview.save_to(target)
    assert target.read_bytes() == preview.pdf
    text = "".join(p.extract_text() for p in pypdf.PdfReader(target).pages)
    assert "Le Havre Nord" in text
    preview.close()
    demo_app.settle()
    assert [r["event"] for r in demo_app.query("SELECT event FROM audit_log")] == ["export"]


def test_batch_letters_run_with_progress_and_can_be_cancelled(demo_app: DemoApp) -> None:
    page = demo_app.window.prints_page
    qtbot = demo_app.qtbot
    page.letter_kind.setCurrentIndex(page.letter_kind.findData("programme-ete"))
    page.letter_source.setCurrentIndex(page.letter_source.findData("followed"))
    # The batch's thread holds after its first letter until the agent has clicked Annuler: on
    # a quiet machine the 84 letters are done before a click could land.
    clicked = threading.Event()

    def hold(done: int, _total: int) -> None:
        if done == 1:
            clicked.wait(30)

    page._signals.progress.connect(hold, Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(page.batch_finished, timeout=60_000) as finished:
        page.letter_button.click()
        qtbot.waitUntil(lambda: page.progress.value() >= 1, timeout=30_000)
        page.cancel_button.click()
        clicked.set()
    page._signals.progress.disconnect(hold)
    result = finished.args[0]
    assert result.cancelled and result.pdf is None and result.done < result.total
    assert "annulés" in page.letter_status.text()
    assert page.letter_button.isEnabled() and not page.cancel_button.isEnabled()

    page.letter_kind.setCurrentIndex(page.letter_kind.findData("conseils-canicule"))
    with qtbot.waitSignal(page.batch_finished, timeout=120_000) as finished:
        page.letter_button.click()
    result = finished.args[0]
    assert not result.cancelled and result.done == result.total - result.without_address
    assert page.progress.value() == page.progress.maximum()
    assert "courriers prêts" in page.letter_status.text()
    # The letters stay in memory until the agent prints or saves them.
    assert result.path is None and result.pdf is not None and result.pdf.startswith(b"%PDF-")
    assert page.last_preview.pdf == result.pdf
    page.last_preview.close()
    # Closed, the preview lets the letters go.
    assert page.last_preview.pdf == b"" and page.last_preview.document.pageCount() == 0


def test_register_mailing_outside_the_alert_plan_is_refused(coordinator_app: DemoApp) -> None:
    demo_app = coordinator_app
    page = demo_app.window.prints_page
    page.letter_kind.setCurrentIndex(page.letter_kind.findData("programme-ete"))
    page.letter_source.setCurrentIndex(page.letter_source.findData("register:nord"))
    demo_app.window.go_to(page)
    page.letter_button.click()
    demo_app.settle()
    assert page.error.isVisible()
    assert "uniquement au plan d'alerte" in page.error.text()
    assert page.letter_button.isEnabled()


def test_only_coordinators_get_reports_and_register_mailings(demo_app: DemoApp) -> None:
    page = demo_app.window.prints_page
    demo_app.window.go_to(page)
    assert not page.report_box.isVisible()
    sources = [page.letter_source.itemData(i) for i in range(page.letter_source.count())]
    assert sources == ["followed"]


def test_activity_report_preview(coordinator_app: DemoApp) -> None:
    demo_app = coordinator_app
    page = demo_app.window.prints_page
    demo_app.window.go_to(page)
    assert page.report_box.isVisible()
    page.report_button.click()
    demo_app.qtbot.waitUntil(
        lambda: getattr(page, "last_preview", None) is not None, timeout=20_000
    )
    preview = page.last_preview
    demo_app.qtbot.waitUntil(lambda: preview.document.pageCount() > 0)
    assert preview.windowTitle() == "Rapport d'activité"
    preview.close()
    QApplication.processEvents()


def _before_the_upgrade(ws: Workspace) -> None:
    """What Paramètres stored on a laptop before the City's details came from the server."""
    ws.store.set_setting("city_phone", "02 61 91 77 77")
    ws.store.set_setting("city_hours", "du lundi au vendredi, de 9 h à 17 h")


@pytest.fixture
def upgraded_app(tmp_path: Path, qtbot: QtBot) -> Iterator[DemoApp]:
    yield from make_app(tmp_path, qtbot, prepare=_before_the_upgrade)


def test_city_details_typed_on_this_laptop_before_the_upgrade_are_still_printed(
    upgraded_app: DemoApp,
) -> None:
    """Before the City's details came from the server, each laptop typed them in Paramètres.
    Those values are not lost: printed while the server has none, and said to be this laptop's
    (the server's own, once synced, replace them: tests/ui/test_city_details_ui.py)."""
    demo_app = upgraded_app
    qtbot = demo_app.qtbot
    box = demo_app.window.settings_page.city
    qtbot.waitUntil(lambda: "02 61 91 77 77" in box.summary.text())
    assert "02 61 91 77 77 (valeur de ce poste, en attendant celle de la Ville)" in (
        box.summary.text()
    )
    assert box.local_note.isHidden()  # nothing of the server replaces them yet
    page = demo_app.window.prints_page
    page.programme_territory.setCurrentIndex(page.programme_territory.findData("nord"))
    page.programme_button.click()
    qtbot.waitUntil(lambda: getattr(page, "last_preview", None) is not None)
    preview = page.last_preview
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(preview.pdf)).pages)
    assert "02 61 91 77 77" in text
    assert "Accueil : du lundi au vendredi, de 9 h à 17 h." in text
    assert "02 61 91 00 00" not in text and "numéro fictif" not in text
    assert preview.warnings.isHidden()
    preview.close()
    demo_app.settle()


def test_batch_letters_to_the_recipients_ticked_with_count_and_pages(demo_app: DemoApp) -> None:
    page = demo_app.window.prints_page
    qtbot = demo_app.qtbot
    page.letter_kind.setCurrentIndex(page.letter_kind.findData("programme-ete"))
    page.letter_source.setCurrentIndex(page.letter_source.findData("followed"))
    # The summer letter presents the activities ticked (here one of Le Havre Nord).
    qtbot.waitUntil(lambda: page.letter_actions.count() > 0, timeout=30_000)
    assert not page.letter_actions_box.isHidden()
    chosen = next(
        page.letter_actions.item(i)
        for i in range(page.letter_actions.count())
        if "Le Havre Nord" in page.letter_actions.item(i).text()
    )
    chosen.setCheckState(Qt.CheckState.Checked)
    title = chosen.text().rsplit(" (", 1)[0]
    page.recipients_button.click()
    qtbot.waitUntil(lambda: page.recipients.count() > 0, timeout=30_000)
    assert not page.chooser.isHidden()
    everyone = page.recipients.count()
    with_address = len(page._batch_preview.recipients) - sum(  # type: ignore[union-attr]
        1
        for r in page._batch_preview.recipients
        if not r.address_line  # type: ignore[union-attr]
    )
    assert page.recipients_summary.text().startswith(
        f"{with_address} personnes cochées sur {everyone} : "
    )
    page.untick_shown.click()
    assert page.recipients_summary.text().startswith("0 personne cochée")
    # Only the persons of one quarter whose name or address holds an "a", ticked.
    page.recipient_territory.setCurrentIndex(page.recipient_territory.findData("nord"))
    page.recipient_filter.setText("a")
    shown = [
        page.recipients.item(i)
        for i in range(page.recipients.count())
        if not page.recipients.item(i).isHidden()
    ]
    assert 0 < len(shown) < everyone
    assert all("Le Havre Nord" in item.text() for item in shown)
    page.tick_shown.click()
    ticked = [item for item in shown if item.checkState() == Qt.CheckState.Checked]
    summary = page.recipients_summary.text()
    assert summary.startswith(f"{len(ticked)} personne")
    pages = int(summary.split(" : ")[1].split(" page")[0])
    assert pages >= 2 * len(ticked)
    with qtbot.waitSignal(page.batch_finished, timeout=120_000) as finished:
        page.letter_button.click()
    result = finished.args[0]
    assert result.done == len(ticked) and result.pages == pages
    assert result.pdf is not None
    text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(result.pdf)).pages)
    assert text.count("La Ville du Havre vous présente une activité pour cet été.") == len(ticked)
    assert text.count(title) == len(ticked)
    page.last_preview.close()
