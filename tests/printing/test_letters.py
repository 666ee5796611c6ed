"""Batch letters: progress, cancel, the register kept to the alert plan, one file at the end."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from reportlab.lib.units import mm

from havre_desktop.core import audit, contacts
from havre_desktop.core.errors import PermissionDeniedError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import data, letters
from havre_desktop.printing.data import Recipient
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
    pdfcheck.assert_large_print(pdf, body=16, window=True)
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
    pdfcheck.assert_large_print(pdf, body=22, window=True)
    text = pdfcheck.body_text(pdf)
    assert f"{HOSTILE_GIVEN} {HOSTILE_FAMILY} 2 rue <des> Lilas & Roses 76600 Le Havre" in text
    assert "Sansadresse" not in text
    assert "Les activités de l'été près de chez vous" in text
    assert "ont lieu dans votre quartier : Le Havre Sud." in text


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


def _summer(ws: Workspace, target: Path, **options: Any) -> letters.BatchResult:
    """Summer letters to the persons the profile's agent follows."""
    assert ws.agent_id
    return write_letters(ws, LetterKind.PROGRAMME_ETE, FollowedBy(ws.agent_id), target, **options)


def _first_followed(ws: Workspace) -> Recipient:
    assert ws.agent_id
    return letters.recipients_for(ws, LetterKind.PROGRAMME_ETE, FollowedBy(ws.agent_id))[0]


def _letters(pdf: bytes) -> list[tuple[int, int]]:
    """(first PDF page, page count) of each letter, read from the "Page 1 sur N" footers."""
    found = []
    for line in pdfcheck.text_lines(pdf):
        match = re.fullmatch(r"Page 1 sur (\d+)", line.text.strip())
        if match:
            found.append((line.page, int(match.group(1))))
    return found


@pytest.mark.parametrize("variant", list(Variant))
def test_summer_letters_keep_to_4_pages_and_each_starts_a_sheet(
    demo_ws: Workspace, tmp_path: Path, variant: Variant
) -> None:
    target = tmp_path / "ete.pdf"
    result = _summer(demo_ws, target, variant=variant)
    pdf = target.read_bytes()
    found = _letters(pdf)
    assert len(found) == result.done > 5
    for first, pages in found:
        assert pages <= letters.LETTER_PAGES
        assert first % 2 == 1, "each letter starts on the front of a sheet"
    assert result.pages == pdfcheck.page_count(pdf) and result.pages % 2 == 0
    per_page = pdfcheck.body_lines_per_page(pdf)
    # Every printed page but the blank backs holds at least 6 lines.
    assert all(n == 0 or n >= 6 for n in per_page.values()), per_page
    pdfcheck.assert_large_print(pdf, body=pdfcheck_body(variant), window=True)


def pdfcheck_body(variant: Variant) -> float:
    return 16.0 if variant is Variant.LARGE else 22.0


def test_summer_letter_presents_the_chosen_actions_and_offers_the_booklet(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    person = _first_followed(demo_ws)
    territory = data.territory_actions(demo_ws, person.territory_id)
    assert len(territory) > 2
    chosen = [territory[1].id, "absente", territory[0].id]
    target = tmp_path / "ete.pdf"
    result = _summer(demo_ws, target, action_ids=chosen, recipient_ids=[person.id])
    assert result.done == 1
    text = pdfcheck.body_text(target.read_bytes())
    assert person.name in text
    assert "La Ville du Havre vous présente 2 activités pour cet été." in text
    assert text.index(territory[1].title) < text.index(territory[0].title)
    for other in territory[2:]:
        assert other.title not in text
    assert "Le programme complet de votre quartier est dans un livret." not in text


def test_the_address_shows_in_the_window_of_a_french_dl_envelope(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    """Address frame of La Poste's window envelopes: 110 mm from the left, 55 mm from the
    top, 85 x 33 mm (the DL envelope's 100 x 45 mm window, 20 mm from its right edge)."""
    person = _first_followed(demo_ws)
    target = tmp_path / "ete.pdf"
    _summer(demo_ws, target, recipient_ids=[person.id])
    lines = [line for line in pdfcheck.text_lines(target.read_bytes()) if line.page == 1]
    wanted = list(letters.letter_address(person))
    address = [line for line in lines if line.text.strip() in wanted]
    assert [line.text.strip() for line in address] == wanted
    for line in address:
        for char in line.chars:
            assert 110 * mm - 0.5 <= float(str(char["x0"])) <= float(str(char["x1"]))
            assert float(str(char["x1"])) <= (110 + 85) * mm
            assert 55 * mm - 0.5 <= float(str(char["top"]))
            assert float(str(char["bottom"])) <= (55 + 33) * mm
    # Nothing else in the window, so nothing else shows through it.
    for line in lines:
        if line not in address:
            top = min(float(str(c["top"])) for c in line.chars)
            assert line.baseline < 55 * mm or top > (55 + 45) * mm, line.text


def test_the_batch_preview_counts_the_pages_the_batch_prints(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    assert demo_ws.agent_id
    preview = letters.preview_batch(demo_ws, LetterKind.PROGRAMME_ETE, FollowedBy(demo_ws.agent_id))
    ticked = [r.id for r in preview.recipients if r.address_line][::3]
    assert len(ticked) > 3
    result = _summer(demo_ws, tmp_path / "ete.pdf", recipient_ids=ticked)
    assert result.done == len(ticked)
    assert result.pages == preview.total_pages(ticked)
    assert all(preview.pages[r.id] == 0 for r in preview.recipients if not r.address_line)


def test_a_name_with_a_character_no_font_has_is_warned_about(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    person = contacts.create_person(
        demo_ws,
        {
            "family_name": "Durand \U0001f33b",
            "given_names": "Rose",
            "territory_id": "sud",
            "address_line": "3 rue des Tournesols",
            "postcode": "76600",
            "referent_agent_id": demo_ws.agent_id,
        },
    )
    result = _summer(demo_ws, tmp_path / "ete.pdf", recipient_ids=[person["id"]])
    assert result.done == 1
    assert result.warnings == (
        "Nom d'un destinataire : « \U0001f33b » (U+1F33B) ne peut pas être imprimé ; il "
        "apparaîtra comme un carré vide. Remplacez-le ou retirez-le avant d'imprimer.",
    )
    assert "Rose Durand \U0001f33b" in pdfcheck.body_text((tmp_path / "ete.pdf").read_bytes())


def test_the_city_desk_is_the_sender_left_of_the_window_and_in_the_useful_numbers(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    city = data.city_contact(
        {
            "city_phone": "02 61 91 77 77",
            "city_service": "Accueil des seniors (fictif)",
            "city_address": "1 place de l'Essai, 76600 Le Havre",
            "city_hours": "du lundi au vendredi, de 9 h à 17 h",
        }
    )
    person = _first_followed(demo_ws)
    target = tmp_path / "ete.pdf"
    _summer(demo_ws, target, recipient_ids=[person.id], city=city)
    pdf = target.read_bytes()
    lines = [line for line in pdfcheck.text_lines(pdf) if line.page == 1]
    # The sender's characters: left of the window, on the window's lines (a baseline may
    # hold a sender line and an address line side by side).
    window = [line for line in lines if 55 * mm < line.baseline < 100 * mm]
    sender = [[c for c in line.chars if float(str(c["x0"])) < 100 * mm] for line in window]
    texts = " ".join("".join(str(c["text"]) for c in chars) for chars in sender)
    assert "Ville du Havre" in texts and "Accueil des seniors (fictif)" in texts
    assert "de 9 h à 17 h" in texts
    for chars in sender:
        # Clear of the window (it starts about 95 mm from the sheet's left edge).
        assert all(float(str(c["x1"])) < 92 * mm for c in chars)
    # Below both, the letter itself.
    first_body = next(line for line in lines if line.text.startswith("Le Havre, le"))
    assert first_body.baseline > max(line.baseline for line in window) + 10 * mm
    text = pdfcheck.body_text(pdf)
    assert (
        "Accueil : Accueil des seniors (fictif), 1 place de l'Essai, 76600 Le Havre, "
        "du lundi au vendredi, de 9 h à 17 h." in text
    )
    pdfcheck.assert_large_print(pdf, body=16, window=True)


def test_activities_that_do_not_fit_the_letter_are_offered_as_the_booklet(
    demo_ws: Workspace, tmp_path: Path
) -> None:
    person = _first_followed(demo_ws)
    territory = data.territory_actions(demo_ws, person.territory_id)
    chosen = [a.id for a in territory[:6]]
    assert len(chosen) == 6
    target = tmp_path / "ete.pdf"
    result = _summer(
        demo_ws, target, recipient_ids=[person.id], action_ids=chosen, variant=Variant.VERY_LARGE
    )
    pdf = target.read_bytes()
    ((_first, pages),) = _letters(pdf)
    assert pages <= letters.LETTER_PAGES and result.pages == pages + pages % 2
    text = pdfcheck.body_text(pdf)
    shown = [a for a in territory[:6] if a.title in text]
    assert 0 < len(shown) < 6
    assert f"La Ville du Havre vous présente {len(shown)} activités pour cet été." in text
    assert (
        "Le programme complet de votre quartier est dans un livret. "
        "Pour le recevoir, appelez la Ville." in text
    )
