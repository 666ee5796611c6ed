"""Every page driven like a user, on a real encrypted demo profile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QApplication, QDialog, QWidget
from pytestqt.qtbot import QtBot

from havre_desktop.core.catalogue import AGE_GROUP_AUDIENCES
from havre_desktop.ui.pages.person_form import PersonForm
from tests.ui.conftest import DemoApp, DialogDriver, Keyboard, make_app
from tests.ui.layout_checks import clipped_cells, clipped_texts, unnamed_controls

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.mark.parametrize("scale", [100, 200])
def test_no_clipped_text_and_every_control_named_on_every_page(
    demo_app: DemoApp, scale: int
) -> None:
    window = demo_app.window
    assert window.theme is not None
    window.theme.apply(scale)
    window.adapt_to_font()
    demo_app.settle()
    demo_app.open_fiche()
    problems = []
    for row, name in enumerate(window.page_names):
        window.navigation.setCurrentRow(row)
        demo_app.settle()
        window.adapt_to_font()
        QApplication.processEvents()
        problems += [f"{name} ({scale} %): {p}" for p in clipped_texts(window)]
        problems += [f"{name} ({scale} %): {p}" for p in unnamed_controls(window)]
    for table in window.today_page.tables.values():  # every word of the day's lists shows
        problems += [f"Ma journée ({scale} %): {p}" for p in clipped_cells(table)]
    assert problems == [], "\n".join(problems)


MODELS = {
    "personnes": lambda w: w.persons_page.model,
    "historique": lambda w: w.persons_page.history_model,
    "journee-prevus": lambda w: w.today_page.due_model,
    "journee-suivis": lambda w: w.today_page.follow_model,
    "journee-alertes": lambda w: w.today_page.alert_model,
    "journee-non-vus": lambda w: w.today_page.not_seen_model,
    "journal-visites": lambda w: (w.go_to(w.visits_page), w.visits_page.model)[1],
    "actions": lambda w: w.actions_page.model,
    "accueil": lambda w: w.reception_page.model,
}


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_passes_the_model_tester(
    demo_app: DemoApp, qtmodeltester: object, name: str
) -> None:
    window = demo_app.window
    demo_app.open_fiche()
    model = MODELS[name](window)
    demo_app.settle()
    if name != "journee-alertes":  # no alert campaign in the demo data
        assert model.rowCount() > 0
    qtmodeltester.check(model, force_py=True)  # type: ignore[attr-defined]
    demo_app.settle()  # pages fetched during the check arrive while the tester listens


def test_ma_journee_lists_today_and_opens_the_fiche(demo_app: DemoApp, keyboard: Keyboard) -> None:
    window, today = demo_app.window, demo_app.window.today_page
    due = demo_app.query(
        "SELECT person_id FROM planned_contacts WHERE due_on <= ? AND kind IN ('visite', 'appel') "
        "AND done_by_visit_id IS NULL",
        (window.ctx.today.isoformat(),),
    )
    assert today.due_model.rowCount() == len(due) == 6
    assert today.follow_model.rowCount() == 2
    assert "6 contacts prévus, 2 suivis promis" in today.title.text()
    assert today.not_seen_model.rowCount() > 0
    table = today.tables["due"]
    table.setFocus()
    table.selectRow(2)
    keyboard.key(Qt.Key.Key_Return)
    expected = today.due_model.row(2)["person_id"]
    demo_app.qtbot.waitUntil(
        lambda: (
            window.persons_page.current is not None
            and window.persons_page.current["id"] == expected
        )
    )
    assert window.pages.currentWidget() is window.persons_page


def test_create_person_shows_french_errors_inline_then_saves(
    demo_app: DemoApp, dialogs: DialogDriver, keyboard: Keyboard
) -> None:
    persons = demo_app.window.persons_page

    def fill() -> None:
        form = QApplication.activeModalWidget()
        assert isinstance(form, PersonForm)
        form.family_name.setText("N'Diaye")
        form.given_names.setText("Awa")
        form.birth_date.setText("31/02/1950")
        form.phone_1.setText("12 34")
        form.save()
        demo_app.qtbot.waitUntil(lambda: form.errors.labels["phone_1"].isVisible())
        assert form.errors.labels["phone_1"].text().startswith("Numéro de téléphone invalide")
        assert "Date invalide" in form.errors.labels["birth_date"].text()
        assert form.phone_1.text() == "12 34"  # what was typed is still there
        saved = demo_app.query("SELECT count(*) n FROM contacts WHERE is_sample = 0")
        assert saved[0]["n"] == 0  # nothing half-saved
        form.birth_date.setText("03/07/1948")
        form.phone_1.setText("0639981122")
        form.save()

    dialogs.soon(fill)
    persons.new_button.click()
    dialogs.check()
    demo_app.settle()
    (row,) = demo_app.query("SELECT * FROM contacts WHERE is_sample = 0")
    assert row["family_name"] == "N'Diaye" and row["phone_1"] == "06 39 98 11 22"
    assert row["birth_date"] == "1948-07-03" and row["territory_id"] == "nord"
    assert persons.current is not None and persons.current["id"] == row["id"]
    assert "N'DIAYE Awa" in persons.fiche.toPlainText()
    outbox = demo_app.query("SELECT op FROM outbox WHERE row_id = ?", (row["id"],))
    assert [o["op"] for o in outbox] == ["insert"]


def test_archive_removes_the_person_from_the_list(demo_app: DemoApp, dialogs: DialogDriver) -> None:
    from PySide6.QtWidgets import QMessageBox

    persons = demo_app.window.persons_page
    demo_app.open_fiche()
    person_id = persons.current["id"]  # type: ignore[index]
    asked: list[str] = []

    def confirm(box: QDialog) -> None:
        assert isinstance(box, QMessageBox)
        asked.append(box.text())
        box.button(QMessageBox.StandardButton.Yes).click()

    dialogs.when(QMessageBox, confirm)
    persons.archive_button.click()
    dialogs.check()
    demo_app.settle()
    assert "reste conservée" in asked[0]
    (row,) = demo_app.query("SELECT archived FROM contacts WHERE id = ?", (person_id,))
    assert row["archived"] == 1
    assert persons.model.rowCount() == 0
    assert persons.fiche.toPlainText() == ""


def test_visit_journal_filters(demo_app: DemoApp) -> None:
    page = demo_app.window.visits_page
    assert page is not None
    assert page.model.rowCount() == 0  # the journal loads when its page is first opened
    demo_app.window.go_to(page)
    demo_app.settle()
    assert page.model.rowCount() > 0
    page.period.setCurrentIndex(page.period.findData(""))  # all time
    demo_app.settle()
    total = demo_app.query("SELECT count(*) n FROM visits WHERE deleted = 0")[0]["n"]
    assert page.model.rowCount() == total
    colleague = page.agent.itemData(2)  # all, me, then the colleagues by name
    page.agent.setCurrentIndex(2)
    demo_app.settle()
    by_colleague = demo_app.query("SELECT count(*) n FROM visits WHERE agent_id = ?", (colleague,))[
        0
    ]["n"]
    assert page.model.rowCount() == by_colleague > 0
    page.agent.setCurrentIndex(0)
    page.kind.setCurrentIndex(page.kind.findData("appel"))
    page.territory.setCurrentIndex(page.territory.findData("sud"))
    demo_app.settle()
    expected = demo_app.query(
        "SELECT count(*) n FROM visits v JOIN contacts c ON c.id = v.person_id "
        "WHERE v.kind = 'appel' AND c.territory_id = 'sud'"
    )[0]["n"]
    assert page.model.rowCount() == expected > 0
    for row in range(min(30, page.model.rowCount())):
        page.model.row(row)
    demo_app.settle()
    kinds = {page.model.data(page.model.index(r, 2)) for r in range(min(30, expected))}
    territories = {page.model.data(page.model.index(r, 4)) for r in range(min(30, expected))}
    assert kinds == {"Appel"} and territories == {"Le Havre Sud"}
    assert page.count.text() == f"{expected} visites"


def test_actions_catalogue_filters_and_detail(demo_app: DemoApp) -> None:
    page = demo_app.window.actions_page
    page.territory.setCurrentIndex(page.territory.findData("nord"))
    page.audience.setCurrentIndex(page.audience.findData("seniors"))
    page.step_free.setChecked(True)
    page.free_only.setChecked(True)
    demo_app.settle()
    expected = demo_app.query(
        "SELECT title FROM actions WHERE status IN ('en-cours', 'en-test') AND is_free = 1 "
        "AND json_extract(accessibility, '$.step_free') = 1 "
        "AND EXISTS (SELECT 1 FROM json_each(territory_ids) WHERE value = 'nord') "
        "AND EXISTS (SELECT 1 FROM json_each(audience_ids) WHERE value = 'seniors')"
    )
    shown = {page.model.row(r)["title"] for r in range(page.model.rowCount())}  # type: ignore[index]
    assert shown == {r["title"] for r in expected} and shown
    demo_app.qtbot.waitUntil(lambda: page.detail.toPlainText() != "")
    detail = page.detail.toPlainText()
    assert page.model.row(0)["title"] in detail  # type: ignore[index]
    assert "Où :" in detail and "Prix : Gratuit" in detail


def test_reception_finds_actions_and_counts_the_encounter(demo_app: DemoApp) -> None:
    page = demo_app.window.reception_page
    page.need.setCurrentIndex(page.need.findData("loisirs"))
    page.territory.setCurrentIndex(page.territory.findData("est"))
    page.step_free.setChecked(True)
    page.age_group.setCurrentIndex(page.age_group.findData("60-74"))
    demo_app.settle()
    expected = demo_app.query(
        "SELECT id FROM actions WHERE status IN ('en-cours', 'en-test') "
        "AND json_extract(accessibility, '$.step_free') = 1 "
        "AND EXISTS (SELECT 1 FROM json_each(territory_ids) WHERE value = 'est') "
        "AND EXISTS (SELECT 1 FROM json_each(need_ids) WHERE value = 'loisirs') "
        "AND EXISTS (SELECT 1 FROM json_each(audience_ids) WHERE value IN "
        f"({','.join('?' for _ in AGE_GROUP_AUDIENCES['60-74'])}))",
        tuple(AGE_GROUP_AUDIENCES["60-74"]),
    )
    assert page.model.rowCount() == len(expected) > 0
    page.count_button.click()
    demo_app.settle()
    (encounter,) = demo_app.query("SELECT * FROM reception_encounters")
    assert (encounter["need_id"], encounter["territory_id"], encounter["age_group_id"]) == (
        "loisirs",
        "est",
        "60-74",
    )
    assert page.status.text() == "Passage compté : Loisirs, rompre l'isolement, Le Havre Est."
    demo_app.qtbot.waitUntil(
        lambda: demo_app.window.pending_label.text() == "1 modification en attente"
    )


def test_settings_change_text_size_and_contrast_and_are_kept(demo_app: DemoApp) -> None:
    page = demo_app.window.settings_page
    base = QApplication.font().pointSizeF()
    page.text_scale.setValue(200)
    demo_app.settle()
    assert QApplication.font().pointSizeF() == pytest.approx(base * 2)
    page.high_contrast.setChecked(True)
    demo_app.settle()
    assert "background: #000000" in QApplication.instance().styleSheet()  # type: ignore[union-attr]
    page.not_seen.setValue(90)
    demo_app.settle()
    stored = {
        r["key"]: r["value"]
        for r in demo_app.query(
            "SELECT key, value FROM settings WHERE key IN "
            "('text_scale', 'high_contrast', 'not_seen_days')"
        )
    }
    assert stored == {"text_scale": "200", "high_contrast": "1", "not_seen_days": "90"}
    assert "plus de 90 jours" in demo_app.window.today_page.not_seen_box.title()
    page.text_scale.setValue(100)
    page.high_contrast.setChecked(False)
    demo_app.settle()


def test_reception_agent_sees_no_visits(reception_app: DemoApp) -> None:
    window = reception_app.window
    assert window.visits_page is None
    assert "Visites" not in window.page_names
    persons = window.persons_page
    persons.open_fiche(0)
    reception_app.settle()
    assert not persons.visit_button.isVisible() and not persons.history.isVisible()


def test_pages_reachable_by_keyboard(demo_app: DemoApp, keyboard: Keyboard) -> None:
    window = demo_app.window
    window.activateWindow()
    window.navigation.setFocus()
    for number, name in enumerate(window.page_names, start=1):
        keyboard.key(getattr(Qt.Key, f"Key_{number}"), Qt.KeyboardModifier.AltModifier)
        assert window.navigation.currentItem().text() == name
    keyboard.key(Qt.Key.Key_PageDown, CTRL)
    assert window.navigation.currentRow() == 0


def test_unexpected_error_is_logged_and_what_was_typed_is_kept(
    demo_app: DemoApp, dialogs: DialogDriver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from havre_desktop.core import visits
    from havre_desktop.core.logs import close_logging, configure_logging
    from havre_desktop.ui.pages.visit_form import VisitForm

    log_path = configure_logging(tmp_path / "logs")
    persons = demo_app.window.persons_page
    demo_app.open_fiche()

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(visits, "log_visit", broken)
    seen: list[str] = []

    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, VisitForm)
        dialog.notes.setPlainText("Une note longue que l'agent ne doit pas perdre.")
        dialog.save()
        demo_app.qtbot.waitUntil(dialog.general_error.isVisible)
        seen.append(dialog.general_error.text())
        assert dialog.notes.toPlainText() == "Une note longue que l'agent ne doit pas perdre."
        dialog.reject()

    dialogs.when(VisitForm, fill)
    persons.visit_button.click()
    dialogs.check()
    close_logging()
    assert "erreur inattendue" in seen[0] and "Votre saisie est conservée" in seen[0]
    # The traceback is in the log, without the message (it may quote what was typed).
    logged = log_path.read_text("utf-8")
    assert "builtins.RuntimeError (message not logged)" in logged and "in broken" in logged
    assert "panne simulée" not in logged
    assert demo_app.query("SELECT count(*) n FROM visits WHERE is_sample = 0")[0]["n"] == 0

    # An error in a task nobody handles: logged, and a short French word in the status bar.
    demo_app.database.submit(lambda ws: broken(), lambda _r: None)
    demo_app.settle()
    assert "erreur inattendue" in demo_app.window.statusBar().currentMessage()


def test_inputs_take_the_contracts_limits_and_a_long_note_is_kept_with_a_message(
    demo_app: DemoApp, dialogs: DialogDriver
) -> None:
    """The limits the server checks are the inputs' own (issue 11): a name stops at 200
    characters; a note over 10,000 says by how much and is refused before saving, kept."""
    from havre_common import contract
    from havre_desktop.ui.pages.person_form import PersonForm
    from havre_desktop.ui.pages.visit_form import VisitForm
    from havre_desktop.ui.widgets import LengthHint

    persons = demo_app.window.persons_page
    demo_app.open_fiche()
    seen: dict[str, object] = {}

    def edit(dialog: QDialog) -> None:
        assert isinstance(dialog, PersonForm)
        seen["family_name"] = dialog.family_name.maxLength()
        seen["postcode"] = dialog.postcode.maxLength()
        seen["phone_1"] = dialog.phone_1.maxLength()
        dialog.reject()

    dialogs.when(PersonForm, edit)
    persons.edit_button.click()
    dialogs.check()
    assert seen == {
        "family_name": contract.CONTACTS.field("family_name").max_length,
        "postcode": 5,
        "phone_1": contract.CONTACTS.field("phone_1").max_length,
    }
    limit = int(contract.VISITS.field("notes").max_length or 0)
    before = demo_app.query("SELECT count(*) n FROM visits")[0]["n"]

    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, VisitForm)
        (hint,) = dialog.findChildren(LengthHint)
        dialog.notes.setPlainText("n" * (limit - 100))
        seen["near"] = hint.text()
        dialog.notes.setPlainText("n" * (limit + 1))
        seen["over"] = hint.text()
        dialog.save()
        demo_app.qtbot.waitUntil(dialog.errors.labels["notes"].isVisible)
        seen["error"] = dialog.errors.labels["notes"].text()
        seen["kept"] = len(dialog.notes.toPlainText())
        dialog.reject()

    dialogs.when(VisitForm, fill)
    persons.visit_button.click()
    dialogs.check()
    assert seen["near"] == "Encore 100 caractères possibles."
    assert seen["over"] == (
        "Trop long de 1 caractère : raccourcissez le texte (au plus 10\u202f000 caractères)."
    )
    assert seen["error"] == "Notes : texte trop long (10\u202f001 caractères, au plus 10\u202f000)."
    assert seen["kept"] == limit + 1
    assert demo_app.query("SELECT count(*) n FROM visits")[0]["n"] == before


def test_a_visit_note_marked_private_is_saved_so_and_shown_as_private(
    demo_app: DemoApp, dialogs: DialogDriver
) -> None:
    """The visit form's "Note privée" box (issue 15): the note is saved marked private (the
    server then sends it to its author and the coordinators only), and the history says so."""
    from havre_desktop.ui.pages.visit_form import VisitForm

    persons = demo_app.window.persons_page
    demo_app.open_fiche()
    seen: dict[str, str] = {}

    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, VisitForm)
        seen["label"] = dialog.notes_private.text()
        assert not dialog.notes_private.isChecked()  # shared unless the author says otherwise
        dialog.notes.setPlainText("Confie des soucis d'argent (note fictive).")
        dialog.notes_private.setChecked(True)
        dialog.save()

    dialogs.when(VisitForm, fill)
    persons.visit_button.click()
    dialogs.check()
    demo_app.settle()
    assert seen["label"] == "Note privée (vous et les coordinateurs)"
    (saved,) = demo_app.query(
        "SELECT notes, notes_private FROM visits WHERE notes LIKE 'Confie des soucis%'"
    )
    assert saved["notes_private"] == 1
    model = persons.history_model
    shown = [model.index(r, 3).data() for r in range(model.rowCount())]
    assert "Privée : Confie des soucis d'argent (note fictive)." in shown


class _WindowsShown(QObject):
    """Notes every top-level widget shown (a widget shown before it has a parent is one)."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        shown = event.type() == QEvent.Type.Show
        if shown and isinstance(watched, QWidget) and watched.isWindow():
            text = getattr(watched, "text", None) or getattr(watched, "title", None)
            label = text() if callable(text) else watched.windowTitle()
            self.shown.append(f"{type(watched).__name__} {label!r}")
        return False


@pytest.fixture(params=["coordinateur", "accueil", "travailleur-social"])
def watched_app(
    tmp_path: Path, qtbot: QtBot, request: pytest.FixtureRequest
) -> Iterator[tuple[DemoApp, _WindowsShown]]:
    """A role's window built while every top-level widget shown is noted."""
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    watcher = _WindowsShown()
    qapp.installEventFilter(watcher)
    try:
        for app in make_app(tmp_path, qtbot, role=request.param):
            yield app, watcher
    finally:
        qapp.removeEventFilter(watcher)


def test_building_the_pages_opens_no_stray_window_and_the_keyboard_keeps_its_place(
    watched_app: tuple[DemoApp, _WindowsShown],
) -> None:
    # A button shown before it was put in a layout flashed as a window of its own while the
    # settings page was built in the background, and the keyboard focus went with it.
    app, watcher = watched_app
    window = app.window
    window.navigation.setFocus()
    app.settle()
    stray = [s for s in watcher.shown if not s.startswith("MainWindow")]
    assert stray == [], "\n".join(stray)
    assert QApplication.activeWindow() is window
    assert QApplication.focusWidget() is window.navigation
