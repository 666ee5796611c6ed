"""The register of vulnerable persons: its legal rules as tests (CASF L121-6-1, R121-2 to 12).

Real SQLCipher profiles; each test asserts on what the database holds (the enrolment, its
append-only history, the outbox) and on the French messages an agent reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from havre_common import contract
from havre_desktop.core import agents, contacts, register
from havre_desktop.core.clock import FixedClock
from havre_desktop.core.errors import PermissionDeniedError, ValidationError
from havre_desktop.core.workspace import Workspace
from tests.helpers import TEST_NOW, MemoryKeyring, new_workspace, person_values

TODAY = TEST_NOW.date()  # 25 November 2026


@pytest.fixture
def registrar(tmp_path: Path, memory_keyring: MemoryKeyring) -> Iterator[Workspace]:
    """A social worker to whom the server gave the register right (as a pull brings it)."""
    ws, _manager, _recovery = new_workspace(tmp_path / "registre", memory_keyring)
    with ws.store.transaction() as conn:
        conn.execute("UPDATE agents SET register_right = 1")
    assert agents.has_register_right(ws)
    yield ws
    ws.store.close()


def _person(ws: Workspace, **overrides: object) -> str:
    return str(contacts.create_person(ws, person_values(**overrides))["id"])


def _request(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "requested_on": "2026-11-20",
        "requested_by": "personne",
        "consent_given": True,
        "lives_at_home": True,
        "floor": "4",
        "lift": False,
        "help_at_home": True,
        "help_service": "ADMR Le Havre (fictif)",
        "notice_how": "remise",
    }
    values.update(overrides)
    return values


def _events(ws: Workspace, person_id: str) -> list[str]:
    return [e["event"] for e in register.history(ws, person_id)]


def _born(years: int, days: int = 0) -> str:
    """A birth date making the person exactly `years` old today (+ `days` younger)."""
    birth = date(TODAY.year - years, TODAY.month, TODAY.day) + timedelta(days=days)
    return birth.strftime("%d/%m/%Y")


# -- eligibility: objective criteria only ------------------------------------------------------


@pytest.mark.parametrize(
    ("age_days", "unfit", "benefit", "basis"),
    [
        ((65, 0), False, None, "65-plus"),
        ((60, 0), True, None, "60-inapte"),
        ((45, 0), False, "aah", "handicap"),
        ((30, 0), False, "cmi-invalidite", "handicap"),
        ((70, 0), False, "pch", "65-plus"),
    ],
)
def test_eligible_on_the_objective_criteria(
    age_days: tuple[int, int], unfit: bool, benefit: str | None, basis: str
) -> None:
    years, days = age_days
    birth = date(TODAY.year - years, TODAY.month, TODAY.day) + timedelta(days=days)
    found = register.eligibility(
        birth_date=birth,
        today=TODAY,
        lives_at_home=True,
        unfit_for_work=unfit,
        benefit=benefit,
        benefits={"aah": "AAH", "cmi-invalidite": "CMI", "pch": "PCH"},
    )
    assert found == basis


def test_not_eligible_is_refused_with_the_reason_and_nothing_saved(registrar: Workspace) -> None:
    too_young = _person(registrar, birth_date=_born(65, 1))  # 65 tomorrow: 64 today
    at_sixty = _person(registrar, birth_date=_born(62), family_name="Martin")
    old = _person(registrar, family_name="Durand")
    outbox = registrar.pending_changes()
    with pytest.raises(ValidationError) as caught:
        register.enrol(registrar, too_young, _request())
    assert caught.value.errors["basis"].startswith("Cette personne a 64 ans : le registre")
    # 60 or over is not enough without the recognised unfitness for work …
    with pytest.raises(ValidationError):
        register.enrol(registrar, at_sixty, _request())
    # … nor is living in an institution.
    with pytest.raises(ValidationError) as caught:
        register.enrol(registrar, old, _request(lives_at_home=False))
    assert caught.value.errors == {
        "lives_at_home": "Le registre concerne les personnes qui vivent à domicile."
    }
    assert registrar.store.scalar("SELECT count(*) FROM register_enrolments") == 0
    assert registrar.store.scalar("SELECT count(*) FROM register_events") == 0
    assert registrar.pending_changes() == outbox
    # With the unfitness (no document asked: the agent records what she is told).
    enrolment = register.enrol(registrar, at_sixty, _request(unfit_for_work=True))
    assert enrolment["basis"] == "60-inapte"


def test_a_disabled_adult_with_a_listed_benefit(registrar: Workspace) -> None:
    person = _person(registrar, birth_date=_born(41))
    benefits = registrar.reference("register_benefits")
    assert {"aah", "cmi-invalidite", "pch", "pension-invalidite"} <= set(benefits)
    with pytest.raises(ValidationError) as caught:
        register.enrol(registrar, person, _request(benefit="carte-de-bus"))
    assert caught.value.errors == {"benefit": "Prestation ou carte inconnue « carte-de-bus »."}
    enrolment = register.enrol(registrar, person, _request(benefit="pension-invalidite"))
    assert enrolment["basis"] == "handicap" and enrolment["status"] == "inscrite"


# -- who asked and how -------------------------------------------------------------------------


def test_the_person_enrols_with_her_consent(registrar: Workspace) -> None:
    person = _person(registrar)
    with pytest.raises(ValidationError) as caught:
        register.enrol(registrar, person, _request(consent_given=False))
    assert caught.value.errors == {
        "consent_given": "Le consentement de la personne est obligatoire pour l'inscription "
        "au registre."
    }
    enrolment = register.enrol(registrar, person, _request(lives_alone=True, mobility="fauteuil"))
    assert enrolment["status"] == "inscrite" and enrolment["consent_given"] == 1
    assert enrolment["requested_on"] == "2026-11-20" == enrolment["consent_date"]
    assert (enrolment["floor"], enrolment["lift"], enrolment["help_at_home"]) == (4, 0, 1)
    assert enrolment["help_service"] == "ADMR Le Havre (fictif)"
    # The situation at home the fiche holds is updated with it.
    assert contacts.get(registrar, person)["mobility"] == "fauteuil"
    assert _events(registrar, person) == ["demande", "inscription", "notice"]
    with pytest.raises(ValidationError, match="déjà inscrite"):
        register.enrol(registrar, person, _request())
    # Every write is in the outbox (it syncs), history included.
    tables = {str(r["table_name"]) for r in registrar.store.query("SELECT table_name FROM outbox")}
    assert {"register_enrolments", "register_events", "contacts"} <= tables


def test_a_legal_representative_consents_for_the_person(registrar: Workspace) -> None:
    person = _person(registrar)
    with pytest.raises(ValidationError) as caught:
        register.enrol(
            registrar, person, _request(requested_by="representant", consent_given=False)
        )
    assert caught.value.errors == {
        "requester_name": "Nom du demandeur : obligatoire quand un autre que la personne fait "
        "la demande.",
        "consent_given": "Le consentement de son représentant légal est obligatoire pour "
        "l'inscription au registre.",
    }
    enrolment = register.enrol(
        registrar,
        person,
        _request(requested_by="representant", requester_name="UDAF 76 (fictif)"),
    )
    assert enrolment["requested_by"] == "representant" and enrolment["consent_given"] == 1


def test_third_party_request_in_writing_stands_unless_the_person_objects(
    registrar: Workspace,
) -> None:
    person = _person(registrar)
    with pytest.raises(ValidationError) as caught:
        register.enrol(
            registrar, person, _request(requested_by="tiers", requester_name="Paul Lefèvre")
        )
    assert caught.value.errors == {
        "requester_relation": "Lien avec la personne : obligatoire pour la demande d'un tiers.",
        "written_request": "La demande d'un tiers se fait par écrit : cochez « Demande écrite "
        "reçue » quand vous l'avez.",
    }
    enrolment = register.enrol(
        registrar,
        person,
        _request(
            requested_by="tiers",
            requester_name="Paul Lefèvre",
            requester_relation="fils",
            written_request=True,
            consent_given=False,
        ),
    )
    # Valid at once, on the person's non-objection (no consent of hers is recorded).
    assert enrolment["status"] == "inscrite" and enrolment["consent_given"] == 0
    assert enrolment["consent_date"] is None and enrolment["written_request"] == 1
    assert register.enrolled_ids(registrar, [person], contract.ALERT_PLAN) == {person}
    # She objects: the objection is recorded, she is no longer on the register.
    objected = register.record_objection(registrar, enrolment["id"], "25/11/2026", "au téléphone")
    assert objected["status"] == "opposee" and objected["objected_on"] == "2026-11-25"
    assert register.enrolled_ids(registrar, [person], contract.ALERT_PLAN) == set()
    assert _events(registrar, person)[-1] == "opposition"
    # No acknowledgment telling her she is on the register any more.
    assert [d for d in register.letters_due(registrar) if d.kind == "accuse"] == []
    history = register.history(registrar, person)
    assert history[0]["note"] == "Un tiers : Paul Lefèvre (fils)"
    with pytest.raises(ValidationError, match="Opposition de la personne"):
        register.record_objection(registrar, enrolment["id"], "25/11/2026")


# -- acknowledgment, removal, information notice ---------------------------------------------


def test_acknowledgment_due_eight_days_after_the_request_until_printed(
    registrar: Workspace,
) -> None:
    person = _person(registrar)
    enrolment = register.enrol(registrar, person, _request(requested_on="20/11/2026"))
    assert enrolment["ack_due_on"] == "2026-11-28"  # request + 8 days
    due = register.letters_due(registrar)
    assert [(d.enrolment_id, d.kind, d.due_on, d.overdue) for d in due] == [
        (enrolment["id"], "accuse", date(2026, 11, 28), False)
    ]
    assert due[0].name == "LEFÈVRE Jeanne"
    # Still there on the 29th, overdue.
    clock = registrar.clock
    assert isinstance(clock, FixedClock)
    clock.advance(days=4)
    assert [d.overdue for d in register.letters_due(registrar)] == [True]
    register.mark_printed(registrar, enrolment["id"], "accuse")
    assert register.letters_due(registrar) == []
    assert register.get(registrar, enrolment["id"])["ack_printed_on"] == "2026-11-29"
    assert _events(registrar, person)[-1] == "accuse-imprime"


def test_removal_at_any_time_with_its_own_letter(registrar: Workspace) -> None:
    person = _person(registrar)
    enrolment = register.enrol(registrar, person, _request())
    register.mark_printed(registrar, enrolment["id"], "accuse")
    with pytest.raises(ValidationError) as caught:
        register.remove(registrar, enrolment["id"], "25/11/2026", "  ")
    assert caught.value.errors == {"reason": "Motif de radiation : ce champ est obligatoire."}
    removed = register.remove(registrar, enrolment["id"], "25/11/2026", "À sa demande")
    assert removed["status"] == "radiee" and removed["removed_on"] == "2026-11-25"
    assert register.enrolled_ids(registrar, [person], contract.ALERT_PLAN) == set()
    assert [(d.kind, d.due_on) for d in register.letters_due(registrar)] == [
        ("radiation", date(2026, 11, 25))
    ]
    register.mark_printed(registrar, enrolment["id"], "radiation")
    assert register.letters_due(registrar) == []
    assert _events(registrar, person) == [
        "demande",
        "inscription",
        "notice",
        "accuse-imprime",
        "radiation",
        "lettre-radiation",
    ]
    # She may enrol again later: a new enrolment, the old one stays in the history.
    again = register.enrol(registrar, person, _request(requested_on="25/11/2026"))
    assert again["id"] != enrolment["id"] and again["status"] == "inscrite"


def test_information_notice_recorded_as_given(registrar: Workspace) -> None:
    person = _person(registrar)
    enrolment = register.enrol(registrar, person, _request(notice_how=None))
    assert enrolment["notice_given_on"] is None
    with pytest.raises(ValidationError):
        register.record_notice(registrar, enrolment["id"], "pigeon")
    given = register.record_notice(registrar, enrolment["id"], "courrier")
    assert given["notice_given_on"] == "2026-11-25" and given["notice_how"] == "courrier"
    notice = register.history(registrar, person)[-1]
    assert notice["event"] == "notice" and notice["note"] == "Notice envoyée par courrier"


def test_the_history_is_append_only(registrar: Workspace) -> None:
    person = _person(registrar)
    register.enrol(registrar, person, _request())
    with (
        pytest.raises(Exception, match="ajout seulement"),
        registrar.store.transaction() as conn,
    ):
        conn.execute("UPDATE register_events SET event = 'radiation'")
    assert _events(registrar, person) == ["demande", "inscription", "notice"]


# -- who may -----------------------------------------------------------------------------------


def test_without_the_register_right_nothing_is_enrolled_nor_read(workspace: Workspace) -> None:
    assert not agents.has_register_right(workspace)
    person = _person(workspace)
    with pytest.raises(PermissionDeniedError, match="accès au registre"):
        register.enrol(workspace, person, _request())
    with pytest.raises(PermissionDeniedError):
        register.history(workspace, person)
    assert register.letters_due(workspace) == []
    assert workspace.store.scalar("SELECT count(*) FROM register_enrolments") == 0


def test_a_coordinator_has_the_right_by_default(tmp_path: Path) -> None:
    ws, _manager, _recovery = new_workspace(tmp_path / "coord", role="coordinateur")
    try:
        assert agents.has_register_right(ws)
    finally:
        ws.store.close()


# -- lists transmitted by another body ---------------------------------------------------------

TRANSMITTED = (
    "nom;prenom;date_naissance;adresse;code_postal;ville;telephone;motif\n"
    "Lefèvre;Jeanne;12/03/1939;14 rue de la Mare-Rouge;76620;Le Havre;02 61 91 12 34;65-plus\n"
    "Dubois;Marcel;01/02/1940;3 rue Lesueur;76600;Le Havre;;65-plus\n"
)


def test_import_reports_every_problem_and_imports_nothing(registrar: Workspace) -> None:
    bad = (
        "nom;prenom;date_naissance;adresse;code_postal;ville;telephone;motif\n"
        "Dubois;Marcel;01/02/1940;3 rue Lesueur;76600;Le Havre;;65-plus\n"
        ";Anne;31/02/1950;2 rue X;7660;Le Havre;123;retraite\n"
    )
    before = registrar.store.scalar("SELECT count(*) FROM contacts")
    with pytest.raises(register.ImportRefusedError) as caught:
        register.import_transmitted(registrar, bad, "departement", "nord")
    found = {(p.line, p.column) for p in caught.value.problems}
    assert {(3, "nom"), (3, "date_naissance"), (3, "motif")} <= found
    assert all(str(p).startswith("Ligne 3, colonne « ") for p in caught.value.problems)
    assert registrar.store.scalar("SELECT count(*) FROM contacts") == before
    assert registrar.store.scalar("SELECT count(*) FROM register_enrolments") == 0


def test_transmitted_persons_are_informed_then_enrolled_unless_they_object(
    registrar: Workspace,
) -> None:
    jeanne = _person(registrar)
    registrar.store.set_setting(register.INFORM_DAYS_SETTING, "15")
    result = register.import_transmitted(registrar, TRANSMITTED, "caisse-retraite", "nord")
    assert (result.to_inform, result.matched_persons, result.created_persons) == (2, 1, 1)
    assert result.inform_until == date(2026, 12, 10)
    rows = registrar.store.query(
        "SELECT * FROM register_enrolments WHERE status = 'a-informer' ORDER BY requested_on"
    )
    assert len(rows) == 2 and all(r["enrolled_on"] is None for r in rows)
    assert (
        register.enrolled_ids(registrar, [str(r["person_id"]) for r in rows], "alert-plan") == set()
    )
    # Their information letters are due (Ma journée), then printed.
    due = register.letters_due(registrar)
    assert sorted(d.kind for d in due) == ["information", "information"]
    marcel = next(str(r["person_id"]) for r in rows if str(r["person_id"]) != jeanne)
    marcel_enrolment = next(str(r["id"]) for r in rows if str(r["person_id"]) == marcel)
    jeanne_enrolment = next(str(r["id"]) for r in rows if str(r["person_id"]) == jeanne)
    for d in due:
        register.mark_printed(registrar, d.enrolment_id, d.kind)
    # Jeanne objects within the delay; Marcel says nothing.
    clock = registrar.clock
    assert isinstance(clock, FixedClock)
    clock.advance(days=5)
    register.record_objection(registrar, jeanne_enrolment, "30/11/2026")
    assert register.confirm_due(registrar) == 0  # not before the delay
    clock.advance(days=10)
    assert register.confirm_due(registrar) == 1
    assert register.get(registrar, marcel_enrolment)["status"] == "inscrite"
    assert register.get(registrar, jeanne_enrolment)["status"] == "opposee"
    assert register.enrolled_ids(registrar, [jeanne, marcel], "alert-plan") == {marcel}
    assert _events(registrar, marcel) == ["a-informer", "lettre-information", "inscription"]
