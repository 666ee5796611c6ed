"""The fiche says what an agent needs at the door: the address written the French way, the
referent, consent (or that none is recorded, with a way to record one, from the keyboard),
the register status without "inscrite ou inscrit" doublets, what is planned and why; search
results tell namesakes apart by age and say in what order they come."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from havre_desktop.ui.i18n import age_on
from havre_desktop.ui.pages.consent_form import ConsentForm
from tests.ui.conftest import DemoApp, DialogDriver, Keyboard


def _open(app: DemoApp, text: str) -> None:
    persons = app.window.persons_page
    app.window.show_page("persons")
    persons.search_field.setText(text)
    persons._search()
    app.settle()
    app.qtbot.waitUntil(lambda: persons.model.rowCount() > 0)
    persons.open_fiche(0)
    app.qtbot.waitUntil(lambda: persons.current is not None)
    app.settle()


def test_the_fiche_reads_as_an_agent_needs_it(demo_app: DemoApp) -> None:
    _open(demo_app, "lefevre jeanne")
    persons = demo_app.window.persons_page
    text = persons.fiche.toPlainText()
    # The street on one line, postcode and town on the next.
    assert "Adresse :\n14 rue de la Mare-Rouge, 4e étage\n76620 Le Havre" in text, text
    # No register right (a social worker by default): the fiche says nothing of the register.
    assert "Registre des personnes" not in text
    assert "inscrite ou" not in text and "inscrit ou" not in text
    (jeanne,) = demo_app.query(
        "SELECT referent_agent_id, birth_date FROM contacts WHERE family_name = 'Lefèvre' "
        "AND given_names = 'Jeanne'"
    )
    names = {
        r["id"]: r["display_name"] for r in demo_app.query("SELECT id, display_name FROM agents")
    }
    if jeanne["referent_agent_id"]:
        assert f"Référent : {names[jeanne['referent_agent_id']]}" in text
    else:
        assert "Référent : aucun référent désigné" in text
    consents = demo_app.query(
        "SELECT 1 FROM consents c JOIN contacts p ON p.id = c.contact_id "
        "WHERE p.family_name = 'Lefèvre' AND p.given_names = 'Jeanne'"
    )
    if not consents:
        assert "Consentement : aucun consentement enregistré" in text
    # The results: her age beside her name, and the order stated.
    model = persons.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers[:3] == ["Nom", "Âge", "Téléphone"]
    age = age_on(jeanne["birth_date"], demo_app.window.ctx.today)
    assert model.data(model.index(0, 1)) == f"{age} ans"
    assert model.data(model.index(0, 3)) == "14 rue de la Mare-Rouge, 4e étage, 76620 Le Havre"
    persons.search_field.setText("lefe")
    persons._search()
    demo_app.settle()
    demo_app.qtbot.waitUntil(lambda: model.rowCount() > 1)
    assert persons.count_label.text().endswith(", les plus proches de la recherche d'abord")
    persons.search_field.setText("le")
    persons._search()
    demo_app.settle()
    demo_app.qtbot.waitUntil(lambda: model.rowCount() > 1)
    assert "sans classement : tapez au moins 4 lettres pour classer" in persons.count_label.text()


def test_a_consent_is_recorded_from_the_fiche_with_the_keyboard(
    demo_app: DemoApp, keyboard: Keyboard, dialogs: DialogDriver
) -> None:
    app = demo_app
    persons = app.window.persons_page
    (person,) = app.query(
        "SELECT id, family_name FROM contacts WHERE kind = 'person' AND id NOT IN "
        "(SELECT contact_id FROM consents) ORDER BY family_name LIMIT 1"
    )
    _open(app, person["family_name"])
    app.qtbot.waitUntil(lambda: persons.current is not None)
    persons.open_person(person["id"])
    app.qtbot.waitUntil(
        lambda: persons.current is not None and persons.current["id"] == person["id"]
    )
    app.settle()
    assert "aucun consentement enregistré" in persons.fiche.toPlainText()

    def fill() -> None:
        form = QApplication.activeModalWidget()
        assert isinstance(form, ConsentForm)
        app.qtbot.waitUntil(form.purpose.hasFocus)
        keyboard.type("P")  # Partage avec les partenaires (the register's is in Registre…)
        assert form.purpose.currentData() == "partage-partenaires"
        keyboard.key(Qt.Key.Key_Tab)  # the answer: she consents
        keyboard.key(Qt.Key.Key_Tab)  # the date: today
        keyboard.key(Qt.Key.Key_Tab)  # how: orally, the first choice
        keyboard.key(Qt.Key.Key_Return)

    app.window.activateWindow()
    persons.consent_button.setFocus()
    dialogs.soon(fill)
    keyboard.key(Qt.Key.Key_Space)
    dialogs.check()
    app.settle()
    (consent,) = app.query(
        "SELECT purpose, given, recorded_on, method FROM consents WHERE contact_id = ?",
        (person["id"],),
    )
    today: date = app.window.ctx.today
    assert consent == {
        "purpose": "partage-partenaires",
        "given": 1,
        "recorded_on": today.isoformat(),
        "method": "Oral, en présence de l'agent",
    }
    app.qtbot.waitUntil(
        lambda: (
            "Consentement (Partage avec les partenaires) : donné le " + today.strftime("%d/%m/%Y")
            in persons.fiche.toPlainText()
        )
    )
    (outbox,) = app.query(
        "SELECT count(*) AS n FROM outbox WHERE table_name = 'consents' AND row_id IN "
        "(SELECT id FROM consents WHERE contact_id = ?)",
        (person["id"],),
    )
    assert outbox["n"] == 1
