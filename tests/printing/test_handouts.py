"""Large-print handouts read back from the PDF: typography, wording, escaping, flow."""

from __future__ import annotations

import re
from datetime import date

import pytest
from reportlab.lib.units import cm

from havre_desktop.core import agents, visits
from havre_desktop.core.errors import ValidationError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import fonts, handouts
from havre_desktop.printing.data import ActionInfo, AgentInfo
from havre_desktop.printing.handouts import HandoutData, Programme
from havre_desktop.printing.layout import MIN_LINES, TYPOGRAPHY, Para, Span, Variant, wrap
from tests.printing import pdfcheck
from tests.printing.conftest import (
    FACILITY_ID,
    HOSTILE_FAMILY,
    HOSTILE_GIVEN,
    HOSTILE_TITLE,
    action,
    hostile_person,
    import_actions,
    lefevre,
    senior_actions,
)

BODY = {Variant.LARGE: 16.0, Variant.VERY_LARGE: 22.0}


@pytest.mark.parametrize("variant", list(Variant))
def test_personal_handout_follows_every_typography_rule(
    demo_ws: Workspace, variant: Variant
) -> None:
    person = lefevre(demo_ws)
    visits.plan_contact(demo_ws, person, {"due_on": "2026-12-01", "kind": "visite"})
    pdf = handouts.personal_handout_for(
        demo_ws, person, senior_actions(demo_ws), variant=variant, alert=True
    )
    pdfcheck.assert_large_print(pdf, body=BODY[variant])
    assert BODY[variant] >= (20 if variant is Variant.VERY_LARGE else 16)
    text = pdfcheck.body_text(pdf)
    assert "Ce document est pour Jeanne Lefèvre." in text
    assert "Date : mercredi 25 novembre 2026." in text
    assert "Prochaine visite chez vous : le mardi 1er décembre 2026." in text
    # The most common size is the body size.
    sizes = [float(str(c["size"])) for page in pdfcheck.chars(pdf) for c in page]
    assert max(set(sizes), key=sizes.count) == BODY[variant]


def test_headers_and_page_numbers_are_always_in_the_same_place(demo_ws: Workspace) -> None:
    pdf = handouts.personal_handout_for(demo_ws, lefevre(demo_ws), senior_actions(demo_ws, 6))
    lines = pdfcheck.text_lines(pdf)
    pages = pdfcheck.page_count(pdf)
    assert pages >= 2
    headers = {
        (line.baseline, line.chars[0]["x0"]) for line in lines if line.text == pdfcheck.HEADER
    }
    footers = {
        (line.baseline, line.chars[0]["x0"])
        for line in lines
        if pdfcheck.PAGE_LINE.match(line.text)
    }
    assert len(headers) == 1 and len(footers) == 1
    numbers = [line.text for line in lines if pdfcheck.PAGE_LINE.match(line.text)]
    assert numbers == [f"Page {n} sur {pages}" for n in range(1, pages + 1)]


def test_text_is_left_aligned_from_one_margin(demo_ws: Workspace) -> None:
    pdf = handouts.personal_handout_for(demo_ws, lefevre(demo_ws), senior_actions(demo_ws))
    starts = pdfcheck.line_starts(pdf)
    margin = round(2.5 * cm, 1)
    box_indent = round(2.5 * cm + 0.6 * 16, 1)
    assert starts <= {margin, box_indent}, starts


def test_hostile_names_and_texts_print_exactly_as_typed(demo_ws: Workspace) -> None:
    person = hostile_person(demo_ws)
    ids = import_actions(demo_ws, [action("hostile-001", HOSTILE_TITLE)])
    message = "Rendez-vous chez Mme O'Brien & fils <vendredi> « à 10 h » : Œuvre, cœur, Ærø."
    pdf = handouts.personal_handout_for(demo_ws, person, ids, message=message)
    text = pdfcheck.body_text(pdf)
    assert f"Ce document est pour {HOSTILE_GIVEN} {HOSTILE_FAMILY}." in text
    assert HOSTILE_TITLE in text
    assert message in text
    pdfcheck.assert_large_print(pdf, body=16)


def test_a_5000_character_note_flows_over_pages_with_nothing_cut(demo_ws: Workspace) -> None:
    sentences = [f"Phrase numéro {n} du message, avec des mots simples." for n in range(200)]
    message = " ".join(sentences)[:5000]
    message = message[: message.rfind(" ")]
    assert len(message) > 4900
    for variant in Variant:
        pdf = handouts.personal_handout_for(
            demo_ws, lefevre(demo_ws), senior_actions(demo_ws, 2), message=message, variant=variant
        )
        assert message in pdfcheck.body_text(pdf)
        assert pdfcheck.page_count(pdf) >= 4
        pdfcheck.assert_large_print(pdf, body=BODY[variant])


def test_an_action_without_venue_or_phone_prints_cleanly(demo_ws: Workspace) -> None:
    bare = action(
        "bare-001",
        "Appels du mardi",
        facility_id=None,
        contact_phone=None,
        contact_name=None,
        schedule=None,
        signup=None,
        summary="",
        accessibility={},
        is_free=False,
        price_label=None,
    )
    ids = import_actions(demo_ws, [bare])
    pdf = handouts.personal_handout_for(demo_ws, lefevre(demo_ws), ids)
    text = pdfcheck.body_text(pdf)
    assert "Où : il n'y a pas de lieu fixe." in text
    assert "Quand : demandez les dates par téléphone." in text
    assert "Prix : payant. Demandez le prix par téléphone." in text
    # No phone for the action: the agent's own number is given instead.
    assert "Qui appeler : votre contact à la Ville, Agent Fictif 02 61 91 00 01" in text
    assert "None" not in text
    pdfcheck.assert_large_print(pdf, body=16)

    # And with an agent without a phone either: the City's number.
    agents.update_owner(demo_ws, {"work_phone": None})
    text = pdfcheck.body_text(handouts.personal_handout_for(demo_ws, lefevre(demo_ws), ids))
    assert "Qui appeler : la Ville du Havre 02 61 91 00 00" in text


def test_action_details_where_price_access_signup(demo_ws: Workspace) -> None:
    paid = action("paid-001", "Gym douce d'essai", is_free=False, price_label="2 € la séance")
    ids = import_actions(demo_ws, [paid, action("free-001", "Balade d'essai")])
    text = pdfcheck.body_text(handouts.personal_handout_for(demo_ws, lefevre(demo_ws), ids))
    assert "Où : Maison municipale d'essai (fictive) 1 rue de l'Essai, 76620 Le Havre" in text
    assert "Prix : payant, 2 € la séance. Accès : sans marche." in text
    assert "Prix : gratuit. Accès : sans marche." in text
    assert "Pour vous inscrire : Inscription par téléphone." in text
    assert "Qui appeler : Service Seniors (fictif) 02 61 91 44 55" in text


def test_addresses_and_phone_numbers_are_on_their_own_lines(demo_ws: Workspace) -> None:
    ids = import_actions(demo_ws, [action("own-001", "Activité d'essai")])
    pdf = handouts.personal_handout_for(demo_ws, lefevre(demo_ws), ids)
    lines = [line.text.strip() for line in pdfcheck.text_lines(pdf)]
    assert "1 rue de l'Essai, 76620 Le Havre" in lines
    assert "02 61 91 44 55" in lines
    assert "02 61 91 00 00" in lines  # the City's number, in the useful numbers
    # The emergency numbers: the three short ones on one line, the SMS one on its own.
    assert "15 Samu – 18 Pompiers – 112 Urgences" in lines
    assert "114 Urgences par SMS (sourds et malentendants)" in lines


def test_useful_numbers_heatwave_line_only_during_an_alert(demo_ws: Workspace) -> None:
    ids = senior_actions(demo_ws, 1)
    calm = pdfcheck.body_text(handouts.personal_handout_for(demo_ws, lefevre(demo_ws), ids))
    alert = pdfcheck.body_text(
        handouts.personal_handout_for(demo_ws, lefevre(demo_ws), ids, alert=True)
    )
    for text in (calm, alert):
        assert "15 Samu – 18 Pompiers – 112 Urgences" in text
        assert "114 Urgences par SMS (sourds et malentendants)" in text
        assert "Ville du Havre, standard (numéro fictif) : 02 61 91 00 00" in text
        assert (
            "Registre canicule et grand froid : la Ville vous appelle pendant une alerte. "
            "Inscription gratuite à ce numéro." in text
        )
    assert "0 800 06 66 66" not in calm
    assert "Canicule info service, appel gratuit : 0 800 06 66 66" in alert
    assert "Buvez de l'eau souvent, même sans soif." in alert


def test_no_internal_codes_or_ids_are_printed(demo_ws: Workspace) -> None:
    ids = senior_actions(demo_ws)
    text = pdfcheck.all_text(handouts.personal_handout_for(demo_ws, lefevre(demo_ws), ids))
    assert not re.search(r"A-P\d\d-\d{3}", text)
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", text)
    for code in ("en-cours", "en-test", "seniors", "nord"):
        assert code not in text


def test_pdf_metadata_title_author_subject_and_french_language(demo_ws: Workspace) -> None:
    pdf = handouts.personal_handout_for(demo_ws, lefevre(demo_ws), senior_actions(demo_ws, 1))
    meta = pdfcheck.metadata(pdf)
    assert meta["/Title"] == "Des activités pour vous — Ville du Havre"
    assert meta["/Author"] == "Ville du Havre — Le Havre Ensemble"
    assert meta["/Subject"].startswith("Fiche remise à une personne")
    assert meta["/Lang"] == "fr-FR"
    # The person's name never goes into the metadata.
    assert "Lefèvre" not in " ".join(meta.values())


def test_reception_handout_is_anonymous(demo_ws: Workspace) -> None:
    facility = demo_ws.store.scalar(
        "SELECT id FROM facilities WHERE kind_id = 'mairie-annexe' ORDER BY name LIMIT 1"
    )
    pdf = handouts.reception_handout_for(
        demo_ws, senior_actions(demo_ws, 2), facility_id=facility, variant=Variant.VERY_LARGE
    )
    pdfcheck.assert_large_print(pdf, body=22)
    text = pdfcheck.body_text(pdf)
    assert "Vous avez reçu ce document à l'accueil : Mairie annexe" in text
    assert "Ce document est pour" not in text
    assert pdfcheck.metadata(pdf)["/Subject"].startswith("Fiche remise à l'accueil")


def test_unknown_actions_are_refused_in_french(demo_ws: Workspace) -> None:
    with pytest.raises(ValidationError, match="n'existe plus dans le catalogue"):
        handouts.personal_handout_for(demo_ws, lefevre(demo_ws), ["absent"])
    with pytest.raises(ValidationError, match="au moins une action"):
        handouts.personal_handout_for(demo_ws, lefevre(demo_ws), [])


@pytest.mark.parametrize("variant", list(Variant))
def test_territory_programme_of_40_actions_flows_with_nothing_cut(
    demo_ws: Workspace, variant: Variant
) -> None:
    many = [
        action(
            f"prog-{n:03d}",
            f"Activité numéro {n:02d} du programme",
            summary=f"Description courte numéro {n:02d}, pour savoir de quoi il s'agit.",
            territory_ids=["sud"],
            status="en-test" if n % 7 == 0 else "en-cours",
            facility_id=None if n % 5 == 0 else FACILITY_ID,
        )
        for n in range(40)
    ]
    import_actions(demo_ws, many)
    pdf = handouts.territory_programme_for(demo_ws, "sud", variant=variant)
    pdfcheck.assert_large_print(pdf, body=BODY[variant])
    # No near-empty page anywhere in the booklet.
    assert min(pdfcheck.body_lines_per_page(pdf).values()) >= MIN_LINES
    text = pdfcheck.body_text(pdf)
    assert "Quartier : Le Havre Sud." in text
    for n in range(40):
        assert f"Activité numéro {n:02d} du programme" in text
        assert f"Description courte numéro {n:02d}, pour savoir de quoi il s'agit." in text
    assert "Nouveau : cette activité est à l'essai." in text
    # The contents list gives the right page for each activity.
    lines = pdfcheck.text_lines(pdf)
    for n in (0, 17, 39):
        title = f"Activité numéro {n:02d} du programme"
        entry = next(line.text for line in lines if line.text.startswith(f"{title} : page"))
        page = int(entry.rsplit(" ", 1)[1])
        assert any(line.page == page and line.text == title for line in lines), (title, page)


def test_programme_only_lists_current_actions_for_seniors(demo_ws: Workspace) -> None:
    import_actions(
        demo_ws,
        [
            action("cur-001", "Activité en cours d'essai", territory_ids=["est"]),
            action("old-001", "Activité terminée", territory_ids=["est"], status="realisee"),
            action("kid-001", "Activité enfants", territory_ids=["est"], audience_ids=["enfants"]),
        ],
    )
    text = pdfcheck.body_text(handouts.territory_programme_for(demo_ws, "est"))
    assert "Activité en cours d'essai" in text
    assert "Activité terminée" not in text
    assert "Activité enfants" not in text


def test_empty_programme_still_prints_useful_numbers() -> None:
    pdf = handouts.programme_pdf(Programme("Le Havre Nord", (), date(2026, 6, 1)))
    text = pdfcheck.body_text(pdf)
    assert "Il n'y a pas d'activité pour les seniors dans ce quartier en ce moment." in text
    assert "Numéros utiles" in text
    pdfcheck.assert_large_print(pdf, body=16)


def test_handout_from_plain_data_without_a_database() -> None:
    info = ActionInfo(
        id="x",
        title="Repas & chansons <du> jeudi",
        summary="",
        schedule="",
        venue=None,
        signup="",
        contact_name="",
        contact_phone="",
        is_free=True,
        price_label="",
        step_free=None,
        accessibility_note="",
        status="en-cours",
    )
    pdf = handouts.handout_pdf(
        HandoutData(actions=(info,), given_on=date(2026, 7, 1), agent=AgentInfo("Léa", ""))
    )
    text = pdfcheck.body_text(pdf)
    assert "Repas & chansons <du> jeudi" in text
    assert "Qui appeler : la Ville du Havre 02 61 91 00 00" in text
    assert "Pour joindre Léa, appelez la Ville : 02 61 91 00 00" in text


# -- the line breaker -------------------------------------------------------------------


def test_lines_never_exceed_70_characters_even_in_narrow_letters() -> None:
    typo = TYPOGRAPHY[Variant.LARGE]
    narrow = " ".join(["il"] * 60)  # narrow enough that 70 characters fit in the width
    lines = wrap(Para((Span(narrow),), typo.body), 453.5, typo)
    assert len(lines) > 1
    assert all(line.chars <= 70 for line in lines)
    assert max(line.chars for line in lines) >= 66


def test_lines_never_exceed_the_width_measured_with_the_font() -> None:
    typo = TYPOGRAPHY[Variant.VERY_LARGE]
    text = "Mmmm WWWW " * 30
    for line in wrap(Para((Span(text, bold=True),), typo.body), 300, typo):
        measured = sum(fonts.text_width(t, b, typo.body) for t, b in line.segments)
        assert measured <= 300 + 1e-6


def test_a_word_longer_than_a_line_is_cut_not_lost() -> None:
    typo = TYPOGRAPHY[Variant.LARGE]
    word = "https://www.lehavre.fr/" + "x" * 150
    lines = wrap(Para((Span(word),), typo.body), 453.5, typo)
    assert len(lines) >= 3
    assert "".join(line.text for line in lines) == word


def test_newlines_are_kept_and_control_characters_dropped() -> None:
    typo = TYPOGRAPHY[Variant.LARGE]
    lines = wrap(Para((Span("Première ligne\nDeuxième\x07 ligne\u202fici"),), 16), 400, typo)
    assert [line.text for line in lines] == ["Première ligne", "Deuxième ligne\u00a0ici"]


def test_a_handout_message_title_is_elided() -> None:
    info = ActionInfo("x", "Repas", "", "", None, "", "", "", True, "", None, "", "en-cours")
    for name, title in (("Agent Fictif", "Un mot d'Agent Fictif"), ("Léa", "Un mot de Léa")):
        pdf = handouts.handout_pdf(
            HandoutData(
                actions=(info,),
                given_on=date(2026, 7, 1),
                agent=AgentInfo(name, ""),
                message="Bonjour.",
            )
        )
        assert title in pdfcheck.body_text(pdf)
        assert "de Agent" not in pdfcheck.body_text(pdf)


def test_a_name_wider_than_a_line_shrinks_within_the_allowed_sizes_rather_than_being_cut() -> None:
    typo = TYPOGRAPHY[Variant.VERY_LARGE]
    word = "Wolfeschlegelsteinhausenbergerdorff"  # one word, no hyphen
    width = fonts.text_width(word, False, 21) + 1  # fits at 21 pt, not at 22
    lines = wrap(Para((Span(word),), typo.body, min_size=typo.min_body), width, typo)
    assert [line.text for line in lines] == [word]
    assert lines[0].size == 21
    # Too wide even at the smallest allowed size: cut, never set below it.
    narrow = fonts.text_width(word, False, typo.min_body) - 5
    lines = wrap(Para((Span(word),), typo.body, min_size=typo.min_body), narrow, typo)
    assert len(lines) == 2 and lines[0].size == typo.min_body
    assert "".join(line.text for line in lines) == word


def test_a_compound_word_wider_than_a_line_wraps_after_its_own_hyphens() -> None:
    typo = TYPOGRAPHY[Variant.VERY_LARGE]
    name = "Vandenberghe-Kerjean-Dupont-Lefèvre-Saint-Exupéry"
    lines = wrap(Para((Span(f"Pour {name}."),), typo.body), 300, typo)
    texts = [line.text for line in lines]
    assert len(texts) > 1
    assert all(text.endswith("-") for text in texts[:-1]), texts  # never inside a part
    assert "".join(texts) == f"Pour {name}."
    assert all(line.width <= 300 for line in lines)
