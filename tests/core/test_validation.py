"""Each validation rule refuses bad input with its French message, and saves nothing."""

from __future__ import annotations

import pytest

from havre_common.values import PHONE_MESSAGE, normalise_phone, parse_date
from havre_desktop.core import agents, contacts, visits
from havre_desktop.core.errors import PermissionDeniedError, ValidationError
from havre_desktop.core.workspace import Workspace
from tests.helpers import person_values


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0261911234", "02 61 91 12 34"),
        ("02 61 91 12 34", "02 61 91 12 34"),
        ("02.61.91.12.34", "02 61 91 12 34"),
        ("02-61-91-12-34", "02 61 91 12 34"),
        ("+33 6 39 98 00 12", "06 39 98 00 12"),
        ("+33 (0)6 39 98 00 12", "06 39 98 00 12"),
        ("0033 639980012", "06 39 98 00 12"),
    ],
)
def test_french_phone_formats_are_accepted(typed: str, stored: str) -> None:
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize(
    "typed", ["12345", "06 12 34 56", "00 12 34 56 78", "+44 20 7946 0000", "06 12 AB 56 78", "1"]
)
def test_bad_phone_numbers_are_refused(typed: str) -> None:
    with pytest.raises(ValueError, match="Numéro de téléphone invalide"):
        normalise_phone(typed)


def _refused(workspace: Workspace, **overrides: object) -> dict[str, str]:
    before = workspace.store.scalar("SELECT count(*) FROM contacts")
    outbox = workspace.pending_changes()
    with pytest.raises(ValidationError) as caught:
        contacts.create_person(workspace, person_values(**overrides))
    assert workspace.store.scalar("SELECT count(*) FROM contacts") == before
    assert workspace.pending_changes() == outbox
    return caught.value.errors


def test_phone_rule(workspace: Workspace) -> None:
    assert _refused(workspace, phone_1="12 34") == {"phone_1": PHONE_MESSAGE}


def test_birth_date_not_in_future(workspace: Workspace) -> None:
    errors = _refused(workspace, birth_date="01/01/2027")
    assert errors == {"birth_date": "Date de naissance : la date ne peut pas être dans le futur."}


def test_birth_date_must_be_a_date(workspace: Workspace) -> None:
    errors = _refused(workspace, birth_date="31/02/1940")
    assert errors["birth_date"].startswith("Date de naissance : Date invalide : « 31/02/1940 »")


def test_known_territory(workspace: Workspace) -> None:
    errors = _refused(workspace, territory_id="rouen")
    assert errors == {"territory_id": "Territoire : valeur inconnue « rouen »."}


def test_required_names(workspace: Workspace) -> None:
    errors = _refused(workspace, family_name="  ", given_names=None)
    assert errors == {
        "family_name": "Nom : ce champ est obligatoire.",
        "given_names": "Prénom : ce champ est obligatoire.",
    }


def test_postcode_and_email(workspace: Workspace) -> None:
    errors = _refused(workspace, postcode="7660", email="jeanne-at-exemple")
    assert errors == {
        "postcode": "Code postal invalide : 5 chiffres (par exemple 76600).",
        "email": "Adresse électronique invalide (exemple : prenom.nom@exemple.fr).",
    }


def test_emergency_contact_needs_a_valid_phone(workspace: Workspace) -> None:
    errors = _refused(
        workspace, emergency_contacts=[{"name": "Sylvie", "relation": "fille", "phone": "123"}]
    )
    assert errors == {
        "emergency_contacts": "Contact d'urgence n° 1 : numéro de téléphone invalide."
    }


def _visit(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "occurred_at": "2026-11-25T10:00",
        "kind": "visite-domicile",
        "outcome": "realisee",
        "duration_min": 45,
        "wellbeing": 2,
        "need_ids": ["isolement"],
    }
    values.update(overrides)
    return values


def test_visit_date_not_in_future_but_follow_up_may_be(workspace: Workspace) -> None:
    person = contacts.create_person(workspace, person_values())
    with pytest.raises(ValidationError) as caught:
        visits.log_visit(workspace, person["id"], _visit(occurred_at="2026-11-26T10:00"))
    assert caught.value.errors == {
        "occurred_at": "Date de la visite : la date ne peut pas être dans le futur."
    }
    visit = visits.log_visit(workspace, person["id"], _visit(follow_up_on="10/12/2026"))
    assert visit["follow_up_on"] == "2026-12-10"


def test_visit_ranges_and_lists(workspace: Workspace) -> None:
    person = contacts.create_person(workspace, person_values())
    with pytest.raises(ValidationError) as caught:
        visits.log_visit(
            workspace,
            person["id"],
            _visit(
                wellbeing=7,
                duration_min="trois",
                kind="pigeon",
                need_ids=["lune"],
                follow_up_on="2026-11-01",
            ),
        )
    assert caught.value.errors == {
        "wellbeing": "Bien-être : la valeur doit être comprise entre 1 et 5.",
        "duration_min": "Durée (minutes) : saisissez un nombre entier.",
        "kind": "Type de contact : valeur inconnue « pigeon ».",
        "need_ids": "Besoin : valeur(s) inconnue(s) lune.",
        "follow_up_on": "Date de suivi : elle doit suivre la date de la visite.",
    }
    assert workspace.store.scalar("SELECT count(*) FROM visits") == 0


def test_reception_agent_cannot_log_visits(workspace: Workspace) -> None:
    person = contacts.create_person(workspace, person_values())
    agents.update_owner(workspace, {"role": "accueil"})
    with pytest.raises(PermissionDeniedError) as caught:
        visits.log_visit(workspace, person["id"], _visit())
    assert "rôle" in caught.value.message


def test_agent_needs_a_territory(workspace: Workspace) -> None:
    with pytest.raises(ValidationError) as caught:
        agents.update_owner(workspace, {"territory_ids": [], "work_phone": "55"})
    assert caught.value.errors == {
        "territory_ids": "Territoires : choisissez au moins un territoire.",
        "work_phone": PHONE_MESSAGE,
    }


def test_dates_typed_the_french_way() -> None:
    assert parse_date("3/7/1941").isoformat() == "1941-07-03"  # type: ignore[union-attr]
    assert parse_date("1941-07-03").isoformat() == "1941-07-03"  # type: ignore[union-attr]
    assert parse_date("") is None
    with pytest.raises(ValueError, match="JJ/MM/AAAA"):
        parse_date("juillet 41")
