"""Handouts that fit in a hand (issue 13): page targets, numbers on page 1, no near-empty
page, names never cut inside a word. Read back from the PDFs with pdfplumber.

The actions are those of the sample catalogue for seniors, with a place (two lines of
address), with the longest texts (title, summary, schedule, sign-up, accessibility
note): the realistic worst case an agent can pick.
"""

from __future__ import annotations

import pytest

from havre_desktop.core import contacts, visits
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import handouts
from havre_desktop.printing.data import city_contact
from havre_desktop.printing.handouts import page_target
from havre_desktop.printing.layout import MIN_LINES, Variant
from tests.helpers import person_values
from tests.printing import pdfcheck
from tests.printing.conftest import lefevre

BODY = {Variant.LARGE: 16.0, Variant.VERY_LARGE: 22.0}
TARGET = {Variant.LARGE: 2, Variant.VERY_LARGE: 4}
LONG_NAME_GIVEN = "Marie-Bénédicte-Anne-Thérèse"
LONG_NAME_FAMILY = "Vandenberghe-Kerjean-Dupont-Lefèvre-Saint-Exupéry"


def longest_senior_actions(ws: Workspace, count: int) -> list[str]:
    rows = ws.store.query(
        "SELECT id FROM actions WHERE status IN ('en-cours', 'en-test') AND deleted = 0 "
        "AND facility_id IS NOT NULL "
        "AND EXISTS (SELECT 1 FROM json_each(audience_ids) WHERE value = 'seniors') "
        "ORDER BY length(title) + length(coalesce(summary, '')) + length(coalesce(schedule, ''))"
        " + length(coalesce(signup, '')) + length(coalesce(accessibility_note, '')) DESC, id "
        "LIMIT ?",
        (count,),
    )
    assert len(rows) == count
    return [str(r["id"]) for r in rows]


def assert_packed(pdf: bytes) -> None:
    """The numbers box on page 1 and no page holding fewer than MIN_LINES lines."""
    assert pdfcheck.page_of(pdf, "Numéros utiles") == 1
    assert pdfcheck.page_of(pdf, "15 Samu – 18 Pompiers – 112 Urgences") == 1
    per_page = pdfcheck.body_lines_per_page(pdf)
    assert min(per_page.values()) >= MIN_LINES, per_page


@pytest.mark.parametrize("variant", list(Variant))
@pytest.mark.parametrize("count", [1, 2, 3])
def test_personal_handout_of_up_to_3_actions_fits_its_sheets(
    demo_ws: Workspace, variant: Variant, count: int
) -> None:
    person = lefevre(demo_ws)
    visits.plan_contact(demo_ws, person, {"due_on": "2026-12-01", "kind": "visite"})
    message = "Comme promis, voici les activités dont nous avons parlé mardi."
    pdf = handouts.personal_handout_for(
        demo_ws,
        person,
        longest_senior_actions(demo_ws, count),
        variant=variant,
        message=message,
    )
    pages = pdfcheck.page_count(pdf)
    assert pages <= TARGET[variant] == page_target(count, variant), pages
    assert_packed(pdf)
    pdfcheck.assert_large_print(pdf, body=BODY[variant])
    text = pdfcheck.body_text(pdf)
    assert message in text
    assert "Ce document est pour Jeanne Lefèvre." in text


@pytest.mark.parametrize("variant", list(Variant))
def test_reception_handout_of_2_actions_is_one_sheet(demo_ws: Workspace, variant: Variant) -> None:
    facility = demo_ws.store.scalar(
        "SELECT id FROM facilities WHERE kind_id = 'mairie-annexe' ORDER BY name LIMIT 1"
    )
    pdf = handouts.reception_handout_for(
        demo_ws, longest_senior_actions(demo_ws, 2), facility_id=facility, variant=variant
    )
    pages = pdfcheck.page_count(pdf)
    assert pages <= (2 if variant is Variant.LARGE else 4), pages
    assert_packed(pdf)


@pytest.mark.parametrize("variant", list(Variant))
def test_an_action_block_is_never_split_over_two_pages(
    demo_ws: Workspace, variant: Variant
) -> None:
    ids = longest_senior_actions(demo_ws, 5)
    titles = [
        str(demo_ws.store.scalar("SELECT title FROM actions WHERE id = ?", (i,))) for i in ids
    ]
    pdf = handouts.personal_handout_for(demo_ws, lefevre(demo_ws), ids, variant=variant)
    lines = pdfcheck.text_lines(pdf)
    texts = [line.text.strip() for line in lines]
    for title in titles:
        # The block runs from its title to its phone number ("Qui appeler" then the number).
        first = next(i for i, t in enumerate(texts) if title.startswith(t) and t)
        end = next(i for i in range(first, len(texts)) if texts[i].startswith("Qui appeler"))
        body = [line for line in lines[first : end + 2] if line.text.strip() != pdfcheck.HEADER]
        assert len({line.page for line in body if not pdfcheck.PAGE_LINE.match(line.text)}) == 1
        assert "(suite)" not in " ".join(texts)
    assert_packed(pdf)


@pytest.mark.parametrize("variant", list(Variant))
def test_a_long_name_is_never_cut_inside_a_word(demo_ws: Workspace, variant: Variant) -> None:
    person = contacts.create_person(
        demo_ws, person_values(family_name=LONG_NAME_FAMILY, given_names=LONG_NAME_GIVEN)
    )
    pdf = handouts.personal_handout_for(
        demo_ws, str(person["id"]), longest_senior_actions(demo_ws, 1), variant=variant
    )
    pdfcheck.assert_words_whole(pdf, f"{LONG_NAME_GIVEN} {LONG_NAME_FAMILY}")
    assert f"Ce document est pour {LONG_NAME_GIVEN} {LONG_NAME_FAMILY}." in pdfcheck.body_text(
        pdf
    ).replace("- ", "-")


@pytest.mark.parametrize("variant", list(Variant))
def test_with_the_city_desk_set_3_actions_still_fit(demo_ws: Workspace, variant: Variant) -> None:
    """The desk's line goes into the useful numbers only where the sheets have room."""
    city = city_contact(
        {
            "city_phone": "02 61 91 77 77",
            "city_service": "Accueil des seniors (fictif)",
            "city_address": "1 place de l'Essai, 76600 Le Havre",
            "city_hours": "du lundi au vendredi, de 9 h à 17 h",
        }
    )
    person = lefevre(demo_ws)
    visits.plan_contact(demo_ws, person, {"due_on": "2026-12-01", "kind": "visite"})
    pdf = handouts.personal_handout_for(
        demo_ws, person, longest_senior_actions(demo_ws, 3), variant=variant, city=city
    )
    assert pdfcheck.page_count(pdf) <= TARGET[variant]
    assert_packed(pdf)
    one = handouts.personal_handout_for(
        demo_ws, person, longest_senior_actions(demo_ws, 1), variant=variant, city=city
    )
    assert "Accueil : Accueil des seniors (fictif)" in pdfcheck.body_text(one)
