"""Characters Atkinson Hyperlegible lacks (issue 13): drawn with an embedded fallback font,
present in the PDF's text, or named in a warning before printing; never silently dropped."""

from __future__ import annotations

from datetime import date

from bidi import get_display

from havre_desktop.core import contacts
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import handouts, record
from havre_desktop.printing.data import (
    ActionInfo,
    AgentInfo,
    CityContact,
    city_contact,
    city_source,
)
from havre_desktop.printing.handouts import HandoutData
from havre_desktop.printing.layout import Variant
from tests.helpers import person_values
from tests.printing import pdfcheck
from tests.printing.conftest import senior_actions

ARABIC_GIVEN = "فاطمة الزهراء"
ARABIC_FAMILY = "بن علي"
CYRILLIC = "Олена Коваленко"
EMOJI = "\U0001f600"


def _action() -> ActionInfo:
    return ActionInfo(
        "x", "Repas partagé", "", "", None, "", "", "", True, "", None, "", "en-cours"
    )


def _name_chars(pdf: bytes, line_start: str) -> list[dict[str, object]]:
    line = next(line for line in pdfcheck.text_lines(pdf) if line.text.startswith(line_start))
    return [c for c in line.chars if str(c["text"]).strip() and ord(str(c["text"])) > 0x2FF]


def test_an_arabic_name_is_shaped_drawn_with_an_embedded_font_and_in_the_text(
    demo_ws: Workspace,
) -> None:
    person = contacts.create_person(
        demo_ws, person_values(family_name=ARABIC_FAMILY, given_names=ARABIC_GIVEN)
    )
    name = f"{ARABIC_GIVEN} {ARABIC_FAMILY}"
    for variant in Variant:
        prepared = record.prepare_personal_handout(
            demo_ws, str(person["id"]), senior_actions(demo_ws, 1), variant=variant
        )
        pdf = prepared.pdf
        text = pdfcheck.all_text(pdf)
        # Every letter, in the order it is seen (right to left), is in the text layer.
        assert get_display(name, base_dir="L") in text
        for char in name.replace(" ", ""):
            assert text.count(char) >= name.count(char), char
        # Drawn with the embedded Arabic fallback, in its joining forms (not boxes).
        drawn = _name_chars(pdf, "Ce document est pour")
        assert len(drawn) == len(name.replace(" ", ""))
        assert {str(c["fontname"]).split("+")[1] for c in drawn} == {"IBMPlexSansArabic-Regular"}
        assert ("/AAAAAA+IBMPlexSansArabic-Regular", True) in pdfcheck.font_objects(pdf)
        pdfcheck.assert_large_print(pdf, body=16 if variant is Variant.LARGE else 22)
        assert not [w for w in prepared.warnings if "Nom de la personne" in w]


def test_the_joining_forms_are_drawn_not_the_isolated_letters() -> None:
    pdf = handouts.handout_pdf(
        HandoutData(actions=(_action(),), given_on=date(2026, 7, 1), recipient_name="محمد")
    )
    streams = b"".join(pdfcheck.content_streams(pdf))
    assert b"IBMPlexSansArabic" not in streams  # fonts are referenced by resource name
    fonts_used = {name for name, _ in pdfcheck.font_objects(pdf)}
    assert any("IBMPlexSansArabic" in name for name in fonts_used)
    # The text layer reads back the letters typed (the joining forms map back to them).
    assert get_display("محمد", base_dir="L") in pdfcheck.all_text(pdf)


def test_cyrillic_is_drawn_with_the_second_fallback() -> None:
    pdf = handouts.handout_pdf(
        HandoutData(actions=(_action(),), given_on=date(2026, 7, 1), recipient_name=CYRILLIC)
    )
    assert f"Ce document est pour {CYRILLIC}." in pdfcheck.body_text(pdf)
    drawn = _name_chars(pdf, "Ce document est pour")
    assert {str(c["fontname"]).split("+")[1] for c in drawn} == {"NotoSans-Regular"}
    pdfcheck.assert_large_print(pdf, body=16)


def test_a_character_no_font_has_is_warned_about_and_kept_in_the_text() -> None:
    message = f"Bonne journée {EMOJI} à bientôt"
    handout = HandoutData(
        actions=(_action(),),
        given_on=date(2026, 7, 1),
        agent=AgentInfo("Léa", ""),
        message=message,
        city=CityContact("Ville du Havre, standard", "02 61 91 77 77"),
    )
    warnings = handouts.handout_warnings(handout)
    assert len(warnings) == 1
    assert warnings[0].startswith("Message : « \U0001f600 » (U+1F600) ne peut pas être imprimé")
    pdf = handouts.handout_pdf(handout)
    assert message in pdfcheck.body_text(pdf)
    # Drawn (as an empty box, the warning says so) by an embedded font, not dropped.
    (char,) = [c for page in pdfcheck.chars(pdf) for c in page if c["text"] == EMOJI]
    assert "AtkinsonHyperlegible-Missing" in str(char["fontname"])
    pdfcheck.assert_large_print(pdf, body=16)


def test_the_real_city_number_replaces_the_sample_one_everywhere() -> None:
    real = CityContact("Ville du Havre, standard", "02 61 91 77 77")
    handout = HandoutData(actions=(_action(),), given_on=date(2026, 7, 1), city=real)
    text = pdfcheck.body_text(handouts.handout_pdf(handout))
    assert "Ville du Havre, standard : 02 61 91 77 77" in text
    assert "02 61 91 00 00" not in text and "fictif" not in text
    assert handouts.handout_warnings(handout) == ()
    sample = HandoutData(actions=(_action(),), given_on=date(2026, 7, 1))
    assert "numéro d'exemple" in handouts.handout_warnings(sample)[0]


def test_the_servers_values_win_the_laptops_old_ones_fill_the_gaps_and_are_shown_replaced() -> None:
    old = {"city_phone": "02 61 91 77 77", "city_service": "Accueil du poste"}
    rows = [
        {"id": "ville", "standard_phone": "02 35 19 45 45", "heatwave_line": "0800066666"},
        {"id": "nord-a", "territory_id": "nord", "desk_name": "Mairie annexe Nord"},
        {"id": "sud-a", "territory_id": "sud", "desk_name": "Mairie annexe Sud"},
    ]
    source = city_source(old, rows, ["nord"])
    assert source.contact.phone == "02 35 19 45 45"
    assert source.contact.label == "Ville du Havre, standard"
    assert source.contact.heatwave_line == "0 800 06 66 66"  # a free number, written so
    assert source.contact.service == "Mairie annexe Nord"
    assert source.replaced == {
        "phone": ("02 61 91 77 77", "02 35 19 45 45"),
        "service": ("Accueil du poste", "Mairie annexe Nord"),
    }
    assert source.origin["phone"] == "ville" and source.desk_id == "nord-a"
    # A laptop's own choice of desk, among those the server sent.
    assert city_source({"city_desk": "sud-a"}, rows, ["nord"]).contact.service == (
        "Mairie annexe Sud"
    )
    # A choice no longer sent (removed desk): the territory's again.
    assert city_source({"city_desk": "parti"}, rows, ["nord"]).desk_id == "nord-a"
    # Nothing from the server yet: the laptop's old values, said to be its own.
    alone = city_source(old)
    assert alone.contact.phone == "02 61 91 77 77" and alone.origin["phone"] == "local"
    assert not alone.contact.is_sample
    # Nothing at all: the sample, said to be the sample.
    assert city_source({}).contact.is_sample and city_source({}).origin["phone"] == "exemple"


def test_city_details_come_from_the_profile_settings() -> None:
    assert city_contact({}).is_sample
    assert city_contact({"city_phone": "  "}).is_sample
    real = city_contact({"city_phone": "02 61 91 77 77", "city_heatwave_line": "0 800 11 22 33"})
    assert not real.is_sample
    assert real.label == "Ville du Havre, standard"
    handout = HandoutData(actions=(_action(),), given_on=date(2026, 7, 1), city=real, alert=True)
    text = pdfcheck.body_text(handouts.handout_pdf(handout))
    assert "Ville du Havre, standard : 02 61 91 77 77" in text
    assert "Canicule info service, appel gratuit : 0 800 11 22 33" in text
