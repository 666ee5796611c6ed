"""The register's letters (acknowledgment with the information notice, removal, information)
and the heatwave letter's wording, which depends on the real enrolment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from havre_desktop.core import audit, contacts, register
from havre_desktop.core.errors import PermissionDeniedError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import register_letters
from havre_desktop.printing.layout import Variant
from havre_desktop.printing.letters import BatchOptions, FollowedBy, LetterKind, letters_pdf
from tests.helpers import MemoryKeyring, new_workspace, person_values
from tests.printing import pdfcheck

REGISTERED = "Votre nom est sur le registre canicule et grand froid de la Ville."
NOT_REGISTERED = "Votre nom n'est pas sur le registre canicule et grand froid de la Ville."
UNKNOWN = "La Ville a un registre canicule et grand froid."


@pytest.fixture
def registrar(tmp_path: Path, memory_keyring: MemoryKeyring) -> Iterator[Workspace]:
    ws, _manager, _recovery = new_workspace(tmp_path / "registre", memory_keyring)
    with ws.store.transaction() as conn:
        conn.execute("UPDATE agents SET register_right = 1")
    yield ws
    ws.store.close()


def _followed(ws: Workspace, family: str) -> str:
    return str(
        contacts.create_person(
            ws, person_values(family_name=family, referent_agent_id=ws.agent_id)
        )["id"]
    )


def _enrol(ws: Workspace, person_id: str, **extra: object) -> dict[str, object]:
    values: dict[str, object] = {
        "requested_on": "20/11/2026",
        "requested_by": "personne",
        "consent_given": True,
        "notice_how": "remise",
    }
    values.update(extra)
    return register.enrol(ws, person_id, values)


def test_heatwave_letters_say_registered_only_to_the_registered(registrar: Workspace) -> None:
    """The review's finding: letters told persons NOT on the register that they were."""
    registered = _followed(registrar, "Martin")
    _followed(registrar, "Durand")
    _enrol(registrar, registered)
    result = letters_pdf(
        registrar, LetterKind.CONSEILS_CANICULE, FollowedBy(str(registrar.agent_id)), BatchOptions()
    )
    assert result.pdf is not None and result.done == 2
    text = pdfcheck.body_text(result.pdf)
    assert text.count(REGISTERED) == 1 and text.count(NOT_REGISTERED) == 1
    # Each sentence is in the right person's letter (letters are in name order: Durand, Martin).
    first, second = text.split("Canicule : les bons gestes")[1:3]
    assert NOT_REGISTERED in first and REGISTERED not in first
    assert REGISTERED in second
    # Removed from the register: the next letter no longer says she is on it.
    enrolment = register.active_enrolment(registrar, registered)
    assert enrolment is not None
    register.remove(registrar, str(enrolment["id"]), "25/11/2026", "À sa demande")
    again = letters_pdf(
        registrar, LetterKind.CONSEILS_CANICULE, FollowedBy(str(registrar.agent_id)), BatchOptions()
    )
    assert again.pdf is not None
    assert REGISTERED not in pdfcheck.body_text(again.pdf)


def test_without_the_register_right_the_letter_claims_nothing(workspace: Workspace) -> None:
    _followed(workspace, "Martin")
    result = letters_pdf(
        workspace,
        LetterKind.CONSEILS_GRAND_FROID,
        FollowedBy(str(workspace.agent_id)),
        BatchOptions(),
    )
    assert result.pdf is not None
    text = pdfcheck.body_text(result.pdf)
    assert UNKNOWN in text and REGISTERED not in text and NOT_REGISTERED not in text


def test_acknowledgment_letter_in_large_print_with_the_notice(registrar: Workspace) -> None:
    person = _followed(registrar, "Martin")
    enrolment = _enrol(
        registrar,
        person,
        requested_by="tiers",
        requester_name="Paul Martin",
        requester_relation="fils",
        written_request=True,
        consent_given=False,
    )
    for variant, body in ((Variant.LARGE, 16), (Variant.VERY_LARGE, 22)):
        pdf = register_letters.register_letter_pdf(
            registrar, str(enrolment["id"]), "accuse", variant=variant
        )
        pdfcheck.assert_large_print(pdf, body=body, window=True)
    text = pdfcheck.body_text(pdf)
    assert "Votre inscription au registre canicule et grand froid" in text
    assert (
        "Nous avons bien reçu, le 20 novembre 2026, la demande d'inscription faite par "
        "Paul Martin (fils)." in text
    )
    assert "Vous n'avez pas fait cette demande vous-même." in text
    # The information notice: sole purpose, optional, recipients, rights.
    for words in (
        "sert à une seule chose",
        "Elle n'est pas obligatoire.",
        "Seuls les agents de la Ville chargés du registre voient vos informations.",
        "sortir du registre quand vous voulez",
    ):
        assert words in text
    entry = audit.entries(registrar)[-1]
    assert entry["event"] == "impression" and entry["entity_id"] == enrolment["id"]
    assert "Martin" not in str(entry)


def test_removal_and_information_letters(registrar: Workspace) -> None:
    person = _followed(registrar, "Martin")
    enrolment = _enrol(registrar, person)
    register.remove(registrar, str(enrolment["id"]), "25/11/2026", "À sa demande")
    text = pdfcheck.body_text(
        register_letters.register_letter_pdf(registrar, str(enrolment["id"]), "radiation")
    )
    assert "Votre nom a été retiré du registre le 25 novembre 2026." in text
    register.import_transmitted(
        registrar,
        "nom;prenom;date_naissance;adresse;motif\nDubois;Marcel;01/02/1940;3 rue Lesueur;65-plus\n",
        "departement",
        "nord",
    )
    transmitted = [d for d in register.letters_due(registrar) if d.kind == "information"]
    assert len(transmitted) == 1
    text = pdfcheck.body_text(
        register_letters.register_letter_pdf(registrar, transmitted[0].enrolment_id, "information")
    )
    assert "Le département de la Seine-Maritime nous a transmis votre nom" in text
    assert (
        "Votre nom sera ajouté au registre le 25 décembre 2026, sauf si vous ne le voulez pas."
        in text
    )


def test_register_letters_need_the_right(workspace: Workspace) -> None:
    with pytest.raises(PermissionDeniedError):
        register_letters.register_letter_pdf(
            workspace, "00000000-0000-0000-0000-000000000000", "accuse"
        )
