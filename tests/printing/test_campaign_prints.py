"""The alert campaign's prints, read back as a reader would: the call sheet of one agent's list
(large print, boxes for each outcome, each person kept on one page) and the campaign report for
the préfet (its figures as printed)."""

from __future__ import annotations

import io
import re
from datetime import date

import pdfplumber

from havre_desktop.printing import call_sheet
from havre_desktop.printing.call_sheet import CallSheet, SheetRow, call_sheet_pdf
from havre_desktop.printing.campaign_report import CampaignReport, Figures, campaign_report_pdf
from tests.printing import pdfcheck
from tests.printing.conftest import HOSTILE_FAMILY, HOSTILE_GIVEN

LABELS = (
    ("joint-bien", "Jointe, va bien"),
    ("besoin-aide", "Besoin d'aide (visite aujourd'hui)"),
    ("pas-de-reponse", "Pas de réponse"),
    ("hospitalise", "Hospitalisée"),
    ("absent", "Absente (partie, en vacances)"),
    ("refuse-appels", "Refuse les appels"),
    ("decede", "Décédée"),
)
OUTCOMES = tuple((code, f"{key} {label}") for key, (code, label) in enumerate(LABELS, start=1))


def _row(rank: int, name: str, urgent: bool = False) -> SheetRow:
    return SheetRow(
        rank=rank,
        name=name,
        phones="02 35 12 34 56",
        address="12 rue de l'Église, 76620 Le Havre",
        access="3e étage sans ascenseur",
        emergency="Sophie Lefèvre (fille) 06 11 22 33 44",
        reasons="Personne vivant seule, Mobilité réduite",
        next_step="Rappeler à 14 h 30",
        urgent=urgent,
    )


def test_the_call_sheet_prints_every_person_with_boxes_in_large_print() -> None:
    hostile = f"{HOSTILE_GIVEN} {HOSTILE_FAMILY}"
    rows = (*(_row(i, f"Personne {i}") for i in range(1, 12)), _row(12, hostile, True))
    pdf = call_sheet_pdf(
        CallSheet("Canicule — niveau orange", "Camille Démo", date(2026, 6, 18), rows, OUTCOMES)
    )
    text = pdfcheck.body_text(pdf)
    assert "12 personnes à appeler" in text
    # "<", "&", quotes and accents print exactly (the name wraps at its column's edge)
    assert "« Zoë » Ænéas N'Diaye" in text and '<b>Lefèvre</b> & "Œuvre"' in text
    assert "URGENT : appelez le 15." in text  # said in words, not by colour
    for _code, label in OUTCOMES:
        assert label.split(" (")[0] in text  # the words in brackets may wrap
    assert text.count("Appel à :") == 12 and text.count("Contact d'urgence :") == 12
    # One box a outcome and three for whom was called, for each person: drawn squares.
    squares = 0
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        for page in doc.pages:
            squares += sum(
                1 for r in page.rects if abs(r["width"] - r["height"]) < 0.5 and r["width"] < 20
            )
        # Each person's block stays on one page: its rank and its note line together.
        for page in doc.pages:
            words = page.extract_text() or ""
            assert words.count("Appel à :") == len(re.findall(r"^\d+\. ", words, re.M))
    assert squares == 12 * (len(OUTCOMES) + 3)
    sizes = {round(float(str(c["size"])), 1) for page in pdfcheck.chars(pdf) for c in page}
    assert min(sizes) >= call_sheet.SIZE
    for name, embedded in pdfcheck.font_objects(pdf):
        assert pdfcheck.embedded_family(name) and embedded, name
    assert pdfcheck.metadata(pdf)["/Lang"] == "fr-FR" or pdfcheck.metadata(pdf)["/Lang"]


def test_an_empty_list_says_so() -> None:
    pdf = call_sheet_pdf(
        CallSheet("Grand froid — niveau jaune", "Camille Démo", date(2026, 1, 8), (), OUTCOMES)
    )
    assert "Personne sur cette liste." in pdfcheck.body_text(pdf)


def test_the_campaign_report_prints_its_figures() -> None:
    north = Figures(on_lists=7, reached=5, not_reached=2, escalated=1, hospitalised=1, deceased=0)
    south = Figures(on_lists=3, reached=3, not_reached=0, escalated=0, hospitalised=0, deceased=1)
    total = Figures(10, 8, 2, 1, 1, 1)
    report = CampaignReport(
        title="Canicule de juin <2026> & « suite »",
        kind="Canicule",
        level="Orange",
        starts_on=date(2026, 6, 18),
        expected_end_on=date(2026, 6, 22),
        closed_on=date(2026, 6, 22),
        territories=("Le Havre Nord", "Le Havre Sud"),
        made_on=date(2026, 6, 22),
        totals=total,
        by_territory=(("Le Havre Nord", north), ("Le Havre Sud", south)),
        by_day=(
            (date(2026, 6, 18), {"calls": 9, "reached": 6, "no_answer": 3, "escalations": 1}),
            (date(2026, 6, 19), {"calls": 3, "reached": 2, "deceased": 1}),
        ),
        source="Chiffres du serveur.",
    )
    pdf = campaign_report_pdf(report)
    with pdfplumber.open(io.BytesIO(pdf)) as doc:  # cells apart: words spaced by their gaps
        text = "\n".join(page.extract_text() or "" for page in doc.pages)
    lines = text.splitlines()
    assert "Canicule de juin <2026> & « suite »" in text
    assert "Du 18 juin 2026 au 22 juin 2026 (campagne close)." in text
    assert "Personnes sur les listes 10" in lines
    assert "Jointes 8" in lines and "Pas encore jointes 2" in lines
    assert "Décédées 1" in lines and "Hospitalisées 1" in lines
    assert "Le Havre Nord 7 5 2 1 1 0" in lines
    assert "Le Havre Sud 3 3 0 0 0 1" in lines
    assert "18 juin 2026 9 6 3 0 0 0 0 1 0" in lines
    assert "19 juin 2026 3 2 0 0 0 0 1 0 0" in lines
    assert min(float(str(c["size"])) for page in pdfcheck.chars(pdf) for c in page) >= 9
