"""The register in the window: enrolment from the fiche (the form and its French messages),
the acknowledgment in Ma journée until printed, and nothing of it for an agent without the
register right."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from PySide6.QtWidgets import QDialog

from havre_desktop.ui.pages.person_form import PersonForm
from havre_desktop.ui.pages.register_form import RegisterDialog, RegisterForm
from tests.ui.conftest import DemoApp, DialogDriver


def _unenrolled_senior(app: DemoApp) -> dict[str, object]:
    (row,) = app.query(
        "SELECT * FROM contacts WHERE kind = 'person' AND deleted = 0 AND birth_date <= ? "
        "AND id NOT IN (SELECT person_id FROM register_enrolments) ORDER BY id LIMIT 1",
        ("1955-01-01",),
    )
    return row


def test_enrolment_from_the_fiche_then_acknowledgment_in_ma_journee(
    coordinator_app: DemoApp, dialogs: DialogDriver, tmp_path: Path
) -> None:
    app = coordinator_app
    person = _unenrolled_senior(app)
    persons = app.window.persons_page
    app.window.show_page("persons")
    persons.open_person(str(person["id"]))
    app.settle()
    assert persons.register_button.isVisible()
    assert "Registre des personnes vulnérables" in persons.fiche.toPlainText()
    assert "pas d'inscription" in persons.fiche.toPlainText()
    persons.register_button.click()
    dialog = persons.register_dialog
    assert isinstance(dialog, RegisterDialog)
    app.qtbot.waitUntil(lambda: "pas inscrite" in dialog.status.text())
    assert dialog.enrol_button.isEnabled() and not dialog.remove_button.isEnabled()

    def fill(form: QDialog) -> None:
        assert isinstance(form, RegisterForm)
        form.requested_by.setCurrentIndex(form.requested_by.findData("tiers"))
        assert not form.consent.isEnabled()  # a third party: non-objection, no consent asked
        form.requester_name.setText("Paul Démo (fictif)")
        form.requester_relation.setText("fils")
        form.floor.setText("4")
        form.lift.setCurrentIndex(form.lift.findData(False))
        form.save()
        # Refused: a third party's request is written; the message is under the checkbox.
        app.qtbot.waitUntil(lambda: form.errors.labels["written_request"].isVisible())
        assert "se fait par écrit" in form.errors.labels["written_request"].text()
        assert form.isVisible()
        form.written_request.setChecked(True)
        form.save()

    dialogs.when(RegisterForm, fill)
    dialog.enrol_button.click()
    dialogs.check()
    app.qtbot.waitUntil(lambda: "Inscrite" in dialog.status.text(), timeout=10_000)
    (row,) = app.query(
        "SELECT * FROM register_enrolments WHERE person_id = ?", (str(person["id"]),)
    )
    assert row["status"] == "inscrite" and row["requested_by"] == "tiers"
    assert row["consent_given"] == 0 and row["written_request"] == 1 and row["floor"] == 4
    assert row["ack_due_on"] == (app.window.ctx.today + timedelta(days=8)).isoformat()
    assert dialog.history_model.rowCount() == 2  # demande, inscription
    dialog.accept()
    # The steps are in the fiche's history too, with the visits.
    app.qtbot.waitUntil(
        lambda: any(
            persons.history_model.index(i, 1).data() == "Registre"
            for i in range(persons.history_model.rowCount())
        )
    )
    assert "inscrite le" in persons.fiche.toPlainText()

    # Ma journée lists the acknowledgment until it is printed (or saved).
    today = app.window.today_page
    app.window.show_page("today")
    today.refresh()
    app.settle()
    app.qtbot.waitUntil(lambda: today.letters_box.isVisible())
    names = [today.letters_model.row(i) for i in range(today.letters_model.rowCount())]
    mine = [i for i, d in enumerate(names) if d is not None and d.enrolment_id == row["id"]]
    assert len(mine) == 1 and names[mine[0]] is not None
    assert names[mine[0]].kind == "accuse"  # type: ignore[union-attr]
    today.letters_table.setCurrentIndex(today.letters_model.index(mine[0], 0))
    today.letter_button.click()
    app.qtbot.waitUntil(lambda: today.property("registerPreview") is not None)
    preview = today.property("registerPreview")
    app.qtbot.waitUntil(lambda: preview.isVisible())
    preview.save_to(tmp_path / "accuse.pdf")
    assert (tmp_path / "accuse.pdf").read_bytes().startswith(b"%PDF")
    app.qtbot.waitUntil(
        lambda: (
            app.query(
                "SELECT ack_printed_on FROM register_enrolments WHERE id = ?", (str(row["id"]),)
            )[0]["ack_printed_on"]
            is not None
        )
    )
    preview.close()
    app.settle()
    app.qtbot.waitUntil(
        lambda: all(
            (d := today.letters_model.row(i)) is not None and d.enrolment_id != row["id"]
            for i in range(today.letters_model.rowCount())
        )
    )
    (event,) = app.query(
        "SELECT event FROM register_events WHERE enrolment_id = ? AND event = 'accuse-imprime'",
        (str(row["id"]),),
    )
    assert event["event"] == "accuse-imprime"


def test_removal_from_the_register_dialog(coordinator_app: DemoApp) -> None:
    app = coordinator_app
    (row,) = app.query(
        "SELECT r.id, r.person_id FROM register_enrolments r WHERE r.status = 'inscrite' "
        "AND r.ack_printed_on IS NOT NULL ORDER BY r.id LIMIT 1"
    )
    persons = app.window.persons_page
    app.window.show_page("persons")
    persons.open_person(str(row["person_id"]))
    app.settle()
    persons.register_button.click()
    dialog = persons.register_dialog
    app.qtbot.waitUntil(lambda: dialog.remove_button.isEnabled())
    # The information notice, handed over at the desk today.
    dialog.notice.setCurrentIndex(dialog.notice.findData("remise"))
    dialog.notice_button.click()
    app.qtbot.waitUntil(lambda: "Notice d'information remise le" in dialog.status.text())
    steps = [dialog.history_model.row(i) for i in range(dialog.history_model.rowCount())]
    assert [s["event"] for s in steps if s is not None][-1] == "notice"
    dialog.remove_button.click()  # no reason given: refused, nothing changed
    app.qtbot.waitUntil(lambda: "Motif de radiation" in dialog.message.text())
    dialog.reason.setText("À sa demande, par téléphone")
    dialog.remove_button.click()
    app.qtbot.waitUntil(lambda: "Radiée" in dialog.status.text())
    assert dialog.letter_button.isEnabled() and "radiation" in dialog.letter_button.text()
    (after,) = app.query("SELECT * FROM register_enrolments WHERE id = ?", (str(row["id"]),))
    assert after["status"] == "radiee" and after["removal_reason"] == "À sa demande, par téléphone"
    dialog.accept()


def test_an_agent_without_the_register_right_sees_nothing_of_it(demo_app: DemoApp) -> None:
    app = demo_app
    assert not app.window.ctx.register_right
    app.open_fiche()
    persons = app.window.persons_page
    assert not persons.register_button.isVisible()
    assert "Registre" not in persons.fiche.toPlainText()
    app.window.show_page("today")
    app.window.today_page.refresh()
    app.settle()
    assert not app.window.today_page.letters_box.isVisible()
    reception = app.window.show_page("reception")
    assert not reception.register_button.isVisible()


def test_the_coordinator_exports_the_register_for_the_prefect(
    coordinator_app: DemoApp, tmp_path: Path
) -> None:
    app = coordinator_app
    page = app.window.show_page("prints")
    prints = app.window.prints_page
    assert prints is not None and page is prints
    assert prints.prefect_box.isVisible()
    target = tmp_path / "registre.csv"
    prints.export_prefect_csv(target)
    app.qtbot.waitUntil(lambda: "exportée" in prints.prefect_status.text())
    (enrolled,) = app.query(
        "SELECT count(*) AS n FROM register_enrolments r JOIN contacts c ON c.id = r.person_id "
        "WHERE r.status = 'inscrite' AND r.deleted = 0 AND c.territory_id = 'nord'"
    )  # her territory
    lines = target.read_text("utf-8-sig").splitlines()
    assert len(lines) == int(str(enrolled["n"])) + 1 and lines[0].startswith("Nom;Prénom")
    (entry,) = app.query(
        "SELECT detail FROM audit_log WHERE event = 'export' AND entity = 'register_enrolments'"
    )
    assert "prefet" in str(entry["detail"])


def test_no_prefect_export_without_the_right(demo_app: DemoApp) -> None:
    demo_app.window.show_page("prints")
    prints = demo_app.window.prints_page
    assert prints is not None and not prints.prefect_box.isVisible()


def test_a_transmitted_list_is_imported_whole_or_not_at_all(
    coordinator_app: DemoApp, tmp_path: Path
) -> None:
    app = coordinator_app
    app.window.show_page("prints")
    prints = app.window.prints_page
    assert prints is not None
    header = "nom;prenom;date_naissance;adresse;code_postal;ville;telephone;motif\n"
    bad = tmp_path / "mauvaise.csv"
    bad.write_text(
        header
        + "Dubois;Marcel;01/02/1940;3 rue Lesueur;76600;Le Havre;;65-plus\n"
        + "Petit;Anne;31/02/1950;2 rue Victor-Hugo;76600;Le Havre;;retraite\n",
        "utf-8",
    )
    (before,) = app.query("SELECT count(*) AS n FROM contacts")
    prints.import_transmitted_file(bad)
    app.qtbot.waitUntil(lambda: "Rien n'a été importé" in prints.prefect_status.text())
    text = prints.prefect_status.text()
    assert "Ligne 3, colonne « date_naissance »" in text and "Ligne 3, colonne « motif »" in text
    assert app.query("SELECT count(*) AS n FROM contacts") == [before]
    good = tmp_path / "liste.csv"
    good.write_text(header + "Dubois;Marcel;01/02/1940;3 rue Lesueur;76600;Le Havre;;65-plus\n")
    prints.import_transmitted_file(good)
    app.qtbot.waitUntil(lambda: "à informer" in prints.prefect_status.text())
    (row,) = app.query(
        "SELECT r.status, r.source FROM register_enrolments r JOIN contacts c "
        "ON c.id = r.person_id WHERE c.family_name = 'Dubois' AND c.given_names = 'Marcel'"
    )
    assert row == {"status": "a-informer", "source": "departement"}


def test_enrolment_at_the_accueil_desk(coordinator_app: DemoApp, dialogs: DialogDriver) -> None:
    """A resident asks at the desk: her fiche, then her enrolment, one after the other."""
    app = coordinator_app
    reception = app.window.show_page("reception")
    button = reception.register_button
    assert button.isVisible()

    def fill_person(form: QDialog) -> None:
        assert isinstance(form, PersonForm)
        form.family_name.setText("Quesnel")
        form.given_names.setText("Odette")
        form.birth_date.setText("03/04/1938")
        form.address_line.setText("5 rue de la Mailleraye (fictive)")
        form.save()

    def fill_register(form: QDialog) -> None:
        assert isinstance(form, RegisterForm)
        assert "QUESNEL Odette" in form.identity.text()
        form.save()  # her own request, her consent (the defaults)

    dialogs.when(PersonForm, fill_person)
    dialogs.when(RegisterForm, fill_register, timeout_ms=20_000)
    button.click()
    dialogs.check()
    app.qtbot.waitUntil(lambda: "Inscription au registre enregistrée" in reception.status.text())
    (row,) = app.query(
        "SELECT r.status, r.requested_by, r.consent_given FROM register_enrolments r "
        "JOIN contacts c ON c.id = r.person_id WHERE c.family_name = 'Quesnel'"
    )
    assert row == {"status": "inscrite", "requested_by": "personne", "consent_given": 1}
