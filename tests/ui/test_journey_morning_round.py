"""Journey 1 (journeys.md): a morning round, offline, from the keyboard alone."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from havre_desktop.core import visits
from havre_desktop.ui.pages.person_form import PersonForm
from havre_desktop.ui.pages.visit_form import VisitForm
from tests.ui.conftest import DemoApp, DialogDriver, Keyboard

KEY_BUDGET = 40
CTRL = Qt.KeyboardModifier.ControlModifier


def _active_dialog(kind: type) -> object:
    widget = QApplication.activeModalWidget()
    assert isinstance(widget, kind), widget
    return widget


def _day_plan(app: DemoApp, day: date) -> dict[str, list[dict[str, Any]]]:
    """Ma journée's lists for another day, read through the database thread."""
    found: list[dict[str, list[dict[str, Any]]]] = []
    app.database.submit(lambda ws: visits.day_plan(ws, day, 60), found.append)
    app.qtbot.waitUntil(lambda: bool(found))
    return found[0]


def test_find_lefevre_and_log_the_visit_with_the_keyboard_only(
    demo_app: DemoApp, keyboard: Keyboard, dialogs: DialogDriver
) -> None:
    app, qtbot = demo_app, demo_app.qtbot
    window, persons = app.window, app.window.persons_page
    (jeanne,) = app.query(
        "SELECT id FROM contacts WHERE family_name = 'Lefèvre' AND given_names = 'Jeanne'"
    )
    window.activateWindow()
    window.navigation.setFocus()

    keyboard.key(Qt.Key.Key_F, CTRL)
    assert persons.search_field.hasFocus()
    keyboard.type("lefe")
    qtbot.waitUntil(lambda: persons.model.search_text == "lefe" and persons.model.rowCount() > 0)
    app.settle()
    rows = [persons.model.person_id(r) for r in range(persons.model.rowCount())]
    assert jeanne["id"] in rows
    names = [persons.model.data(persons.model.index(r, 0)) for r in range(len(rows))]
    assert all(name.startswith("LEF") for name in names)  # "lefe" found Lefèvre, Lefebvre…
    keyboard.key(Qt.Key.Key_Down)  # into the results, first row
    for _ in range(rows.index(jeanne["id"])):
        keyboard.key(Qt.Key.Key_Down)
    keyboard.key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: persons.current is not None and persons.current["id"] == jeanne["id"])
    assert "4e étage sans ascenseur" in persons.fiche.toPlainText()

    def fill_visit() -> None:
        form = _active_dialog(VisitForm)
        assert isinstance(form, VisitForm)
        qtbot.waitUntil(form.kind.hasFocus)
        assert form.kind.currentData() == "visite-domicile"
        keyboard.key(Qt.Key.Key_Tab)  # date and time: now
        keyboard.key(Qt.Key.Key_Tab)  # outcome: réalisée
        keyboard.key(Qt.Key.Key_Tab)
        keyboard.type("45")  # duration
        keyboard.key(Qt.Key.Key_Tab)
        keyboard.type("2")  # wellbeing
        keyboard.key(Qt.Key.Key_Tab)
        keyboard.type("i")  # needs: Isolement…
        keyboard.key(Qt.Key.Key_Space)
        keyboard.type("m")  # …and Mobilité
        keyboard.key(Qt.Key.Key_Space)
        keyboard.key(Qt.Key.Key_Tab)
        keyboard.type("caf")  # actions near her that meet a need come first
        keyboard.key(Qt.Key.Key_Space)
        keyboard.type("tr")
        keyboard.key(Qt.Key.Key_Space)
        keyboard.key(Qt.Key.Key_Tab)
        keyboard.type("15")  # follow-up in 15 days
        keyboard.key(Qt.Key.Key_Tab)  # by a visit (as this contact was)
        assert form.follow_up_kind.currentData() == "suivi-visite"
        keyboard.key(Qt.Key.Key_Tab)  # what was promised
        keyboard.type("Apporter le dossier d'aide à domicile", counted=False)
        keyboard.key(Qt.Key.Key_Tab)
        keyboard.key(Qt.Key.Key_Space)  # handout given
        keyboard.key(Qt.Key.Key_Tab)
        assert form.notes.hasFocus(), (QApplication.focusWidget(), keyboard.log)
        keyboard.type("Personne fictive : parle de sa fille. Escalier difficile.", counted=False)
        keyboard.key(Qt.Key.Key_Return, CTRL)

    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None)
    dialogs.soon(fill_visit)
    keyboard.key(Qt.Key.Key_N, CTRL)  # opens the quick-entry form (modal until saved)
    dialogs.check()
    app.settle()

    assert keyboard.presses <= KEY_BUDGET, keyboard.log
    (visit,) = app.query(
        "SELECT * FROM visits WHERE person_id = ? AND is_sample = 0", (jeanne["id"],)
    )
    assert visit["kind"] == "visite-domicile" and visit["outcome"] == "realisee"
    assert visit["duration_min"] == 45 and visit["wellbeing"] == 2
    assert visit["need_ids"] == '["isolement","mobilite"]'
    titles = {
        r["title"]
        for r in app.query(
            "SELECT title FROM actions WHERE id IN (SELECT value FROM json_each(?))",
            (visit["proposed_action_ids"],),
        )
    }
    assert titles == {"Café des seniors du jeudi", "Transport accompagné vers les courses"}
    assert visit["handout_given"] == 1
    assert visit["notes"] == "Personne fictive : parle de sa fille. Escalier difficile."
    today = app.window.ctx.today
    assert visit["follow_up_on"] == (today + timedelta(days=15)).isoformat()
    history = persons.history_model
    qtbot.waitUntil(lambda: history.rowCount() > 0 and history.row(0)["id"] == visit["id"])

    # She also corrects the senior's new phone number.
    def fix_phone() -> None:
        form = _active_dialog(PersonForm)
        assert isinstance(form, PersonForm)
        qtbot.waitUntil(form.isActiveWindow)
        form.phone_1.setFocus()
        form.phone_1.selectAll()
        keyboard.type("06 39 98 41 07", counted=False)
        keyboard.key(Qt.Key.Key_Return)

    # The offscreen platform does not hand activation back to the window after a dialog.
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    dialogs.soon(fix_phone)
    keyboard.key(Qt.Key.Key_E, CTRL)
    dialogs.check()
    app.settle()
    (row,) = app.query("SELECT phone_1 FROM contacts WHERE id = ?", (jeanne["id"],))
    assert row["phone_1"] == "06 39 98 41 07"

    # Back at the office: three changes waiting (visit, follow-up, phone number).
    qtbot.waitUntil(lambda: window.pending_label.text() == "3 modifications en attente")
    # Two weeks later the follow-up is in her Ma journée.
    later = _day_plan(app, today + timedelta(days=15))
    due_for_her = [p for p in later["follow_ups"] if p["person_id"] == jeanne["id"]]
    assert [(p["due_on"], p["kind"], p["reason"]) for p in due_for_her] == [
        (
            (today + timedelta(days=15)).isoformat(),
            "suivi-visite",
            "Apporter le dossier d'aide à domicile",
        )
    ]


def test_a_person_absent_stays_to_visit_on_a_new_date(
    demo_app: DemoApp, keyboard: Keyboard, dialogs: DialogDriver
) -> None:
    """Nobody at the door: the visit is logged as "Personne absente", the planned visit
    stays open and moves to the date proposed (the next working day); she does not drop
    off Ma journée."""
    app, qtbot = demo_app, demo_app.qtbot
    window, today_page = app.window, app.window.today_page
    today = window.ctx.today
    first = today_page.due_model.row(0)
    assert first is not None
    planned_id, person_id = first["id"], first["person_id"]
    table = today_page.tables["due"]
    window.activateWindow()
    table.setFocus()
    table.selectRow(0)
    keyboard.key(Qt.Key.Key_Return)  # her fiche
    persons = window.persons_page
    qtbot.waitUntil(lambda: persons.current is not None and persons.current["id"] == person_id)
    proposed = today + timedelta(days=1)
    while proposed.weekday() >= 5:
        proposed += timedelta(days=1)

    def absent() -> None:
        form = _active_dialog(VisitForm)
        assert isinstance(form, VisitForm)
        qtbot.waitUntil(form.kind.hasFocus)
        keyboard.key(Qt.Key.Key_Tab)  # date and time: now
        keyboard.key(Qt.Key.Key_Tab)  # outcome
        keyboard.type("P")  # Personne absente
        assert form.outcome.currentData() == "absent"
        assert form.follow_up.value() == (proposed - today).days
        shown = form.follow_up_date.text()
        day = proposed.strftime("%d/%m/%Y")
        assert shown == f"Le contact prévu reste à faire : il est reporté au {day}.", shown
        keyboard.key(Qt.Key.Key_Return, CTRL)

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)
    dialogs.soon(absent)
    keyboard.key(Qt.Key.Key_N, CTRL)
    dialogs.check()
    app.settle()
    (visit,) = app.query(
        "SELECT outcome FROM visits WHERE person_id = ? AND is_sample = 0", (person_id,)
    )
    assert visit["outcome"] == "absent"
    (planned,) = app.query(
        "SELECT due_on, done_by_visit_id FROM planned_contacts WHERE id = ?", (planned_id,)
    )
    assert planned == {"due_on": proposed.isoformat(), "done_by_visit_id": None}
    assert planned_id in [p["id"] for p in _day_plan(app, proposed)["due"]]
