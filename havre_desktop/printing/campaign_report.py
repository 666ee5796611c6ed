"""The report of an alert campaign, for the préfet (and the City's records): the campaign, its
dates and territories, how many persons were on the call lists, reached, not reached,
escalated (the City's welfare-check procedure), hospitalised, deceased, and the outcomes by day
and by territory.

Counts only, no name: the figures come from the server's progress and daily figures (or, offline,
from the synced rows). A staff document (11 pt body, 9 pt at the smallest, like the activity
report), black and greys, every value written as a number. Built through
``contract.check_purpose`` with the ``ALERT_PLAN`` purpose: the campaign serves the alert plan.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from havre_common import contract
from havre_common.french import day_month_year
from havre_desktop.printing import fonts
from havre_desktop.printing.layout import AUTHOR, BUILD_LOCK, CITY_IDENTITY, CREATOR, LANGUAGE
from havre_desktop.printing.text import markup

log = logging.getLogger("havre.printing")

MARGIN = 2.0 * cm
BODY = 11.0
SMALL = 9.0
CAMPAIGN_TABLES = ("alert_campaigns", "campaign_calls", "campaign_outcomes")
FIGURE_LABELS = (
    ("on_lists", "Personnes sur les listes"),
    ("reached", "Jointes"),
    ("not_reached", "Pas encore jointes"),
    ("escalated", "Procédure de vérification (escalade)"),
    ("hospitalised", "Hospitalisées"),
    ("deceased", "Décédées"),
)
SHORT_LABELS = {  # the column heads of the territory table (the summary says them in full)
    "on_lists": "Sur les listes",
    "escalated": "Escalade",
    "not_reached": "Non jointes",
    "hospitalised": "Hôpital",
}
OUTCOME_HEADS = {  # the column heads of the day table
    "joint-bien": "Jointes, vont bien",
    "besoin-aide": "Besoin d'aide",
    "pas-de-reponse": "Pas de réponse",
    "hospitalise": "Hôpital",
    "absent": "Absence",
    "refuse-appels": "Refus",
    "decede": "Décès",
}


@dataclass(frozen=True)
class Figures:
    """Persons counted once each (their last outcome), for the whole campaign or a territory."""

    on_lists: int
    reached: int
    not_reached: int
    escalated: int
    hospitalised: int
    deceased: int

    def get(self, key: str) -> int:
        return int(getattr(self, key))


@dataclass(frozen=True)
class CampaignReport:
    title: str
    kind: str  # "Canicule"
    level: str  # "Orange"
    starts_on: date
    expected_end_on: date | None
    closed_on: date | None
    territories: tuple[str, ...]  # names
    made_on: date
    totals: Figures
    by_territory: tuple[tuple[str, Figures], ...]  # (territory name, figures)
    by_day: tuple[tuple[date, dict[str, int]], ...]  # (day, outcome code -> calls that day)
    outcome_labels: tuple[tuple[str, str], ...]  # (code, label) in the contract's order
    source: str = ""  # "Chiffres du serveur au …" / "Chiffres de cet ordinateur …"


def _footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(fonts.REGULAR, SMALL)
    width, _height = A4
    canvas.drawString(MARGIN, 1.2 * cm, CITY_IDENTITY + " — plan d'alerte, document confidentiel")
    canvas.drawRightString(width - MARGIN, 1.2 * cm, f"Page {doc.page}")
    canvas.restoreState()


def _grid(rows: list[list[Any]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), fonts.REGULAR, SMALL),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ]
        )
    )
    return table


def campaign_report_pdf(report: CampaignReport) -> bytes:
    """The report as PDF bytes."""
    contract.check_purpose(CAMPAIGN_TABLES, contract.ALERT_PLAN)
    fonts.register_fonts()
    body = ParagraphStyle("r", fontName=fonts.REGULAR, fontSize=BODY, leading=BODY * 1.4)
    bold = ParagraphStyle("rb", parent=body, fontName=fonts.BOLD)
    small = ParagraphStyle("rs", fontName=fonts.REGULAR, fontSize=SMALL, leading=SMALL * 1.3)
    small_bold = ParagraphStyle("rsb", parent=small, fontName=fonts.BOLD)
    title = ParagraphStyle("rt", parent=bold, fontSize=18, leading=23, spaceAfter=6)
    h2 = ParagraphStyle("rh", parent=bold, fontSize=13, leading=17, spaceBefore=10, spaceAfter=4)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(markup(text), style)

    width = A4[0] - 2 * MARGIN
    dates = f"Du {day_month_year(report.starts_on)}"
    if report.closed_on is not None:
        dates += f" au {day_month_year(report.closed_on)} (campagne close)"
    elif report.expected_end_on is not None:
        dates += f", fin prévue le {day_month_year(report.expected_end_on)} (campagne en cours)"
    story: list[object] = [
        p(f"Campagne d'alerte — {report.kind}, niveau {report.level.lower()}", title),
        p(report.title, bold),
        p(dates + "."),
        p("Territoires : " + ", ".join(report.territories) + "."),
        p(f"Rapport établi le {day_month_year(report.made_on)}. {report.source}".strip()),
        p("Bilan", h2),
    ]
    summary: list[list[Any]] = [[p("Personnes", small_bold), p("Nombre", small_bold)]]
    for key, label in FIGURE_LABELS:
        summary.append([p(label, small), p(str(report.totals.get(key)), small)])
    story.append(_grid(summary, [width * 0.6, width * 0.2]))

    story.append(p("Par territoire", h2))
    head: list[Any] = [p("Territoire", small_bold)] + [
        p(SHORT_LABELS.get(key, label), small_bold) for key, label in FIGURE_LABELS
    ]
    rows: list[list[Any]] = [head]
    for name, figures in report.by_territory:
        rows.append([p(name, small)] + [p(str(figures.get(k)), small) for k, _l in FIGURE_LABELS])
    first = width * 0.2
    story.append(_grid(rows, [first] + [(width - first) / len(FIGURE_LABELS)] * 6))

    story.append(p("Appels par jour et par résultat", h2))
    story.append(
        p(
            "Chaque appel, appel au contact d'urgence ou visite compte une fois, le jour où il "
            "a eu lieu.",
            small,
        )
    )
    story.append(Spacer(1, 4))
    codes = [code for code, _label in report.outcome_labels]
    head = [p("Jour", small_bold)] + [
        p(OUTCOME_HEADS.get(code, label), small_bold) for code, label in report.outcome_labels
    ]
    head.append(p("Total", small_bold))
    day_rows: list[list[Any]] = [head]
    for day, counts in report.by_day:
        values = [counts.get(code, 0) for code in codes]
        day_rows.append(
            [p(day_month_year(day), small)]
            + [p(str(v), small) for v in values]
            + [p(str(sum(values)), small)]
        )
    if not report.by_day:
        day_rows.append([p("Aucun appel enregistré.", small)] + [""] * (len(codes) + 1))
    first = width * 0.16
    story.append(_grid(day_rows, [first] + [(width - first) / (len(codes) + 1)] * (len(codes) + 1)))

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"Campagne d'alerte — {report.title}",
        author=AUTHOR,
        creator=CREATOR,
        lang=LANGUAGE,
        initialFontName=fonts.REGULAR,
    )
    with BUILD_LOCK:
        doc.build(story, onFirstPage=_footer, onLaterPages=_footer)  # type: ignore[arg-type]
    log.info("campaign report built: %d persons", report.totals.on_lists)
    return buffer.getvalue()
