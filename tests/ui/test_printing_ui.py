"""Preview, print to a PDF printer, save, record the handout; programmes, letters, reports."""

from __future__ import annotations

from pathlib import Path

import pypdf
from PySide6.QtWidgets import QApplication, QDialog

from havre_desktop.ui.pages.handout_dialog import HandoutChoiceDialog
from havre_desktop.ui.print_preview import PdfPreviewDialog
from tests.ui.conftest import DemoApp, DialogDriver, pdf_printer


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
        items = [dialog.actions.item(i) for i in range(dialog.actions.count())]
        for item in items[:2]:
            item.setCheckState(item.checkState().Checked)
        dialog.very_large.setChecked(True)
        chosen.extend(dialog.chosen())
        dialog.accept()

    def preview(dialog: QDialog) -> None:
        assert isinstance(dialog, PdfPreviewDialog)
        demo_app.qtbot.waitUntil(lambda: dialog.document.pageCount() > 0)
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
    with qtbot.waitSignal(page.batch_finished, timeout=60_000) as finished:
        page.letter_button.click()
        qtbot.waitUntil(lambda: page.progress.value() >= 1, timeout=30_000)
        page.cancel_button.click()
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
