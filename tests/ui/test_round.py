"""Ma journée as a round sheet, from the keyboard: the weekday in the title, each row saying
who, where and what to do (overdue in words), "Absent" on a row moving the contact to the next
working day, "Fait…" opening the visit form with the right kind, and the round printed."""

from __future__ import annotations

import io

import pdfplumber
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from havre_common.french import long_date
from havre_desktop.core import visits
from havre_desktop.core.rounds import round_stop
from havre_desktop.ui.pages.visit_form import VisitForm
from havre_desktop.ui.print_preview import PdfPreviewDialog
from tests.ui.conftest import DemoApp, DialogDriver, Keyboard


def test_each_row_says_who_where_and_what_to_do(demo_app: DemoApp) -> None:
    page = demo_app.window.today_page
    today = demo_app.window.ctx.today
    assert page.title.text().startswith(f"Ma journée — {long_date(today)} : ")
    model = page.follow_model
    assert model.rowCount() == 2
    for row in range(model.rowCount()):
        planned = model.row(row)
        assert planned is not None
        stop = round_stop(planned, today)
        who = str(model.data(model.index(row, 0)))
        what = str(model.data(model.index(row, 1)))
        assert who.startswith(stop.name) and stop.address.split("\n")[0] in who
        assert what.startswith("Suivi par ")
        assert "En retard : prévu le " in what  # the demo's follow-ups are 1 to 3 days late
    due = page.due_model
    order = [visits.round_order(due.row(r) or {}) for r in range(due.rowCount())]
    assert order == sorted(order)  # territory, street, number: a round, not a list of dates
    assert all("Prévu aujourd’hui" in str(due.data(due.index(r, 1))) for r in range(due.rowCount()))


def test_absent_on_a_row_moves_the_contact_to_the_next_working_day(
    demo_app: DemoApp, keyboard: Keyboard
) -> None:
    window, page = demo_app.window, demo_app.window.today_page
    today = window.ctx.today
    table = page.tables["due"]
    window.activateWindow()
    table.setFocus()
    table.selectRow(0)
    planned = page.due_model.row(0)
    assert planned is not None
    before = page.due_model.rowCount()
    keyboard.key(Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)  # Ab&sent (an animated click)
    demo_app.qtbot.waitUntil(lambda: page.status.text() != "")
    demo_app.settle()
    again = visits.next_working_day(window.ctx.local_now().date())
    (moved,) = demo_app.query(
        "SELECT due_on, done_by_visit_id FROM planned_contacts WHERE id = ?", (planned["id"],)
    )
    assert moved == {"due_on": again.isoformat(), "done_by_visit_id": None}
    (visit,) = demo_app.query(
        "SELECT outcome FROM visits WHERE person_id = ? AND is_sample = 0",
        (planned["person_id"],),
    )
    assert visit["outcome"] == "absent"
    demo_app.qtbot.waitUntil(lambda: page.due_model.rowCount() == before - 1)
    assert page.status.text() == (
        f"Personne absente : {round_stop(planned, today).name}. "
        f"Le contact est reporté au {long_date(again)}."
    )


def test_done_opens_the_visit_form_with_the_kind_planned(
    demo_app: DemoApp, keyboard: Keyboard, dialogs: DialogDriver
) -> None:
    window, page = demo_app.window, demo_app.window.today_page
    table = page.tables["follow_ups"]
    window.activateWindow()
    table.setFocus()
    table.selectRow(0)
    planned = page.follow_model.row(0)
    assert planned is not None
    expected = "appel" if planned["kind"] == "suivi-appel" else "visite-domicile"
    seen: list[str] = []

    def check(dialog: object) -> None:
        assert isinstance(dialog, VisitForm)
        seen.append(str(dialog.kind.currentData()))
        assert dialog.person["id"] == planned["person_id"]
        dialog.save()

    dialogs.when(VisitForm, check)
    keyboard.key(Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)  # &Fait…
    demo_app.qtbot.waitUntil(lambda: bool(seen) or bool(dialogs.errors), timeout=10_000)
    dialogs.check()
    demo_app.settle()
    assert seen == [expected]
    (done,) = demo_app.query(
        "SELECT done_by_visit_id FROM planned_contacts WHERE id = ?", (planned["id"],)
    )
    assert done["done_by_visit_id"] is not None
    demo_app.qtbot.waitUntil(lambda: page.follow_model.rowCount() == 1)


def test_the_round_prints_with_addresses_and_what_is_late(demo_app: DemoApp) -> None:
    page = demo_app.window.today_page
    page.print_button.click()
    demo_app.qtbot.waitUntil(
        lambda: isinstance(QApplication.activeModalWidget(), PdfPreviewDialog), timeout=10_000
    )
    preview = QApplication.activeModalWidget()
    assert isinstance(preview, PdfPreviewDialog)
    with pdfplumber.open(io.BytesIO(preview.pdf)) as pdf:
        text = "\n".join(p.extract_text() or "" for p in pdf.pages)
        fonts = {c["fontname"] for p in pdf.pages for c in p.chars}
    preview.accept()
    today = demo_app.window.ctx.today
    assert f"Tournée du {long_date(today)}" in text
    assert "8 contacts prévus" in text
    for rows in (page.due_model.rows, page.follow_model.rows):
        for planned in rows:
            stop = round_stop(planned, today)
            assert stop.name in text
            assert stop.address.split("\n")[0].split(",")[0] in text
    assert text.count("En retard : prévu le") == 2
    assert all("Atkinson" in font for font in fonts)  # embedded, legible
