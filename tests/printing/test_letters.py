"""Batch letters: progress, cancel, the register kept to the alert plan, one file at the end."""

from __future__ import annotations

from pathlib import Path

import pytest

from havre_desktop.core import audit, contacts
from havre_desktop.core.errors import PermissionDeniedError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import letters
from havre_desktop.printing.layout import Variant
from havre_desktop.printing.letters import (
    FollowedBy,
    LetterKind,
    RegisterOf,
    RegisterUseRefusedError,
    write_letters,
)
from tests.printing import pdfcheck
from tests.printing.conftest import HOSTILE_FAMILY, HOSTILE_GIVEN


def _register_count(ws: Workspace, territory: str) -> int:
    return int(
        ws.store.scalar(
            "SELECT count(DISTINCT c.id) FROM register_enrolments r JOIN contacts c "
            "ON c.id = r.person_id WHERE r.removed_on IS NULL AND r.deleted = 0 "
            "AND c.deleted = 0 AND c.archived = 0 AND c.territory_id = ?",
            (territory,),
        )
    )


def test_heatwave_letters_to_the_register_of_a_territory(
    coordinator_ws: Workspace, tmp_path: Path
) -> None:
    territory = "nord"
    expected = _register_count(coordinator_ws, territory)
    assert expected >= 2
    seen: list[tuple[int, int]] = []
    target = tmp_path / "canicule.pdf"
    result = write_letters(
        coordinator_ws,
        LetterKind.CONSEILS_CANICULE,
        RegisterOf(territory),
        target,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert result.done == result.total == expected
    assert not result.cancelled and result.path == target
    assert seen == [(n, expected) for n in range(1, expected + 1)]
    pdf = target.read_bytes()
    assert pdfcheck.page_count(pdf) == result.pages
    pdfcheck.assert_large_print(pdf, body=16)
    text = pdfcheck.body_text(pdf)
    assert text.count("Canicule : les bons gestes") == expected
    assert "Votre nom est sur le registre canicule et grand froid de la Ville." in text
    assert "Canicule info service, appel gratuit : 0 800 06 66 66" in text
    # Each letter has its own page numbers, starting at 1.
    lines = pdfcheck.text_lines(pdf)
    numbers = [line.text for line in lines if pdfcheck.PAGE_LINE.match(line.text)]
    assert numbers.count(numbers[0]) == expected and numbers[0].startswith("Page 1 sur ")
    # The batch is audited, without any personal data.
    entry = audit.entries(coordinator_ws)[-1]
    assert entry["event"] == "impression" and entry["entity"] == "register_enrolments"
    assert "conseils-canicule" in entry["detail"]


@pytest.mark.parametrize("kind", [LetterKind.PROGRAMME_ETE])
def test_the_register_only_serves_the_alert_plan(
    coordinator_ws: Workspace, tmp_path: Path, kind: LetterKind
) -> None:
    out = tmp_path / "impressions"
    out.mkdir()
    target = out / "ete.pdf"
    with pytest.raises(RegisterUseRefusedError) as refused:
        write_letters(coordinator_ws, kind, RegisterOf("nord"), target)
    message = refused.value.message
    assert "sert uniquement au plan d'alerte (canicule, grand froid)" in message
    assert "« Programme de l'été »" in message
    assert isinstance(refused.value, PermissionDeniedError)
    assert list(out.iterdir()) == []
    for alert_kind in letters.ALERT_PLAN_KINDS:
        letters.check_register_use(alert_kind)  # allowed


def test_register_mailing_is_for_coordinators(demo_ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(PermissionDeniedError, match="coordinateurs"):
        write_letters(demo_ws, LetterKind.CONSEILS_CANICULE, RegisterOf("nord"), tmp_path / "x.pdf")


def test_summer_programme_to_every_person_an_agent_follows(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    contacts.create_person(
        demo_ws,
        {
            "family_name": HOSTILE_FAMILY,
            "given_names": HOSTILE_GIVEN,
            "territory_id": "sud",
            "address_line": "2 rue <des> Lilas & Roses",
            "postcode": "76600",
            "referent_agent_id": demo_ws.agent_id,
        },
    )
    contacts.create_person(
        demo_ws,
        {
            "family_name": "Sansadresse",
            "given_names": "Paul",
            "territory_id": "sud",
            "referent_agent_id": demo_ws.agent_id,
        },
    )
    followed = int(
        demo_ws.store.scalar(
            "SELECT count(*) FROM contacts WHERE kind = 'person' AND deleted = 0 "
            "AND archived = 0 AND referent_agent_id = ?",
            (demo_ws.agent_id,),
        )
    )
    target = tmp_path / "ete.pdf"
    assert demo_ws.agent_id
    result = write_letters(
        demo_ws,
        LetterKind.PROGRAMME_ETE,
        FollowedBy(demo_ws.agent_id),
        target,
        variant=Variant.VERY_LARGE,
    )
    assert result.without_address == 1
    assert result.done == result.total == followed - 1
    pdf = target.read_bytes()
    pdfcheck.assert_large_print(pdf, body=22)
    text = pdfcheck.body_text(pdf)
    assert f"{HOSTILE_GIVEN} {HOSTILE_FAMILY} 2 rue <des> Lilas & Roses 76600 Le Havre" in text
    assert "Sansadresse" not in text
    assert "Les activités de l'été près de chez vous" in text
    assert "Ces activités ont lieu dans votre quartier : Le Havre Sud." in text


def test_cancel_stops_reports_progress_and_leaves_no_file(
    coordinator_ws: Workspace, tmp_path: Path
) -> None:
    assert coordinator_ws.agent_id
    asked: list[int] = []
    done_calls: list[int] = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) > 3

    out = tmp_path / "impressions"
    out.mkdir()
    target = out / "lettres.pdf"
    result = write_letters(
        coordinator_ws,
        LetterKind.PROGRAMME_ETE,
        FollowedBy(coordinator_ws.agent_id),
        target,
        progress=lambda done, total: done_calls.append(done),
        cancelled=cancelled,
    )
    assert result.total > 3
    assert result.cancelled
    assert result.done == 3 and done_calls == [1, 2, 3]
    assert result.path is None
    assert list(out.iterdir()) == []  # no file, no partial file


def test_grand_froid_letter_wording(coordinator_ws: Workspace, tmp_path: Path) -> None:
    target = tmp_path / "froid.pdf"
    write_letters(coordinator_ws, LetterKind.CONSEILS_GRAND_FROID, RegisterOf("est"), target)
    text = pdfcheck.body_text(target.read_bytes())
    assert "Grand froid : les bons gestes" in text
    assert "Couvrez-vous bien : bonnet, écharpe et gants." in text
    assert "0 800 06 66 66" not in text
    meta = pdfcheck.metadata(target.read_bytes())
    assert meta["/Lang"] == "fr-FR"
    assert meta["/Title"] == "Conseils en cas de grand froid — lettres — Ville du Havre"
