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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

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
DAY_COLUMNS = (  # the préfet's daily figures (the server's, one line a day)
    ("calls", "Appels"),
    ("reached", "Jointes"),
    ("no_answer", "Sans réponse"),
    ("home_visits", "Visites"),
    ("needs_help", "Besoin d'aide"),
    ("hospitalised", "Hôpital"),
    ("deceased", "Décès"),
    ("escalations", "Escalades"),
    ("not_reached_at_end_of_day", "Non jointes le soir"),
)


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
    by_day: tuple[tuple[date, dict[str, int]], ...]  # (day, DAY_COLUMNS key -> count)
    source: str = ""  # "Chiffres du serveur au …" / "Chiffres de cet ordinateur …"


def _footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(fonts.REGULAR, SMALL)
    width, _height = landscape(A4)
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
    h2 = ParagraphStyle(
        "rh", parent=bold, fontSize=13, leading=17, spaceBefore=10, spaceAfter=4, keepWithNext=1
    )
    note = ParagraphStyle("rn", parent=small, keepWithNext=1)  # stays with its table

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(markup(text), style)

    width = landscape(A4)[0] - 2 * MARGIN  # landscape: the day table's ten columns
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
    story.append(_grid(summary, [width * 0.4, width * 0.15]))

    story.append(p("Par territoire", h2))
    head: list[Any] = [p("Territoire", small_bold)] + [
        p(SHORT_LABELS.get(key, label), small_bold) for key, label in FIGURE_LABELS
    ]
    rows: list[list[Any]] = [head]
    for name, figures in report.by_territory:
        rows.append([p(name, small)] + [p(str(figures.get(k)), small) for k, _l in FIGURE_LABELS])
    first = width * 0.2
    story.append(_grid(rows, [first] + [(width - first) / len(FIGURE_LABELS)] * 6))

    story.append(p("Jour par jour", h2))
    story.append(
        p(
            "Appels : appels à la personne, à son contact d'urgence et visites à domicile "
            "du jour. Non jointes le soir : personnes pas encore jointes à la fin du jour.",
            note,
        )
    )
    head = [p("Jour", small_bold)] + [p(label, small_bold) for _key, label in DAY_COLUMNS]
    day_rows: list[list[Any]] = [head]
    for day, counts in report.by_day:
        day_rows.append(
            [p(day_month_year(day), small)]
            + [p(str(counts.get(key, 0)), small) for key, _label in DAY_COLUMNS]
        )
    if not report.by_day:
        day_rows.append([p("Aucun appel enregistré.", small)] + [""] * len(DAY_COLUMNS))
    first = width * 0.16
    rest = (width - first) / len(DAY_COLUMNS)
    story.append(_grid(day_rows, [first] + [rest] * len(DAY_COLUMNS)))

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
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


def _figures(persons: int, reached: int, escalated: int, by_outcome: dict[str, int]) -> Figures:
    return Figures(
        on_lists=persons,
        reached=reached,
        not_reached=persons - reached,
        escalated=escalated,
        hospitalised=by_outcome.get("hospitalise", 0),
        deceased=by_outcome.get("decede", 0),
    )


def report_data(
    campaign: dict[str, Any],
    territory_names: dict[str, str],
    progress: Any,
    days: Sequence[Any],
    made_on: date,
    source: str,
) -> CampaignReport:
    """The report's values from a campaign row, its progress (the server's ``CampaignProgress``
    or this device's ``core.campaign.Progress``: both list territories with persons, reached,
    escalated and counts by outcome) and its daily figures (the server's ``CampaignDay`` rows)."""
    by_territory = tuple(
        (
            territory_names.get(t.territory_id, t.territory_id or "Territoire inconnu"),
            _figures(t.persons, t.reached, t.escalated, dict(t.by_outcome)),
        )
        for t in progress.territories
    )
    merged: dict[str, int] = {}
    for t in progress.territories:
        for key, n in t.by_outcome.items():
            merged[key] = merged.get(key, 0) + n
    totals = _figures(
        sum(t.persons for t in progress.territories),
        sum(t.reached for t in progress.territories),
        sum(t.escalated for t in progress.territories),
        merged,
    )
    kinds = dict(contract.ENUMS["campaign_kinds"])
    levels = dict(contract.ENUMS["alert_levels"])

    def day_of(value: Any) -> date | None:
        return None if not value else date.fromisoformat(str(value)[:10])

    starts = day_of(campaign.get("starts_on")) or made_on
    return CampaignReport(
        title=str(campaign.get("title") or ""),
        kind=kinds.get(str(campaign.get("kind")), str(campaign.get("kind"))),
        level=levels.get(str(campaign.get("level")), str(campaign.get("level"))),
        starts_on=starts,
        expected_end_on=day_of(campaign.get("expected_end_on")),
        closed_on=day_of(campaign.get("closed_on")),
        territories=tuple(territory_names.get(t, t) for t in campaign.get("territory_ids") or ()),
        made_on=made_on,
        totals=totals,
        by_territory=by_territory,
        by_day=tuple(
            (date.fromisoformat(str(d.day)[:10]), {k: int(getattr(d, k)) for k, _l in DAY_COLUMNS})
            for d in days
        ),
        source=source,
    )
