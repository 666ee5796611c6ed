"""The coordinator's activity report: visits, desk encounters, actions, needs, handouts.

A staff document, so normal print sizes (9 pt at the smallest) and platypus for
tables; charts are drawn by reportlab.graphics in the same font, in black and
greys with every value written on its bar (colour never carries meaning alone),
and each chart is followed by the table of its numbers.

All figures are counts: the report holds no personal data. Every text that
comes from the database (action titles, names) is escaped before it enters
Paragraph markup, so "<", "&" and quotes print as typed.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from havre_common import contract
from havre_desktop.core import agents, indicators
from havre_desktop.core.errors import PermissionDeniedError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import fonts
from havre_desktop.printing.layout import AUTHOR, BUILD_LOCK, CITY_IDENTITY, CREATOR, LANGUAGE
from havre_desktop.printing.text import clean, day_month_year, markup

log = logging.getLogger("havre.printing")

ROLES_FOR_REPORTS = frozenset({"coordinateur", "administrateur"})
MARGIN = 2.0 * cm
BODY = 10.5
SMALL = 9.0  # the smallest text of the report (table cells, chart labels)
DARK = colors.Color(0.15, 0.15, 0.15)
LIGHT = colors.Color(0.72, 0.72, 0.72)
MONTHS_SHORT = (
    "janv.",
    "févr.",
    "mars",
    "avr.",
    "mai",
    "juin",
    "juil.",
    "août",
    "sept.",
    "oct.",
    "nov.",
    "déc.",
)


@dataclass(frozen=True)
class ActivityData:
    """The figures of one report (plain values: the UI may show them on screen too)."""

    since: date
    until: date  # inclusive
    made_on: date
    author: str
    territories: tuple[tuple[str, str], ...]  # (id, name) in the report
    all_territories: bool
    visits_by_territory: dict[str, dict[str, int]]  # territory -> visit kind -> count
    encounters_by_territory: dict[str, int]
    visits_by_month: tuple[tuple[str, int], ...]  # ("2026-09", n)
    encounters_by_month: tuple[tuple[str, int], ...]
    actions_by_status: tuple[tuple[str, int], ...]  # (label, n)
    needs: tuple[tuple[str, int, int], ...]  # (label, in visits, at the desk)
    handouts_by_action: tuple[tuple[str, int], ...]  # (action title, n), most given first
    handouts_total: int
    verdicts: dict[str, int] = field(default_factory=dict)
    visit_kind_labels: dict[str, str] = field(default_factory=dict)


def load_activity(
    ws: Workspace, since: date, until: date, territory_ids: Sequence[str] | None = None
) -> ActivityData:
    """Count the activity of a period (inclusive dates), for some territories or all.

    The figures are the dashboard's (core/indicators.py): the same queries, so the printed
    report and the screen never disagree."""
    if agents.current_role(ws) not in ROLES_FOR_REPORTS:
        raise PermissionDeniedError("Seuls les coordinateurs peuvent établir ce rapport.")
    f = indicators.Filters(since, until, tuple(territory_ids or ()))
    f.bounds()  # a period that ends before it starts is refused first
    names = ws.reference("territories")
    chosen = indicators.territories(ws, f)
    statuses = ws.reference("action_statuses")
    need_labels = ws.reference("need_kinds")
    visit_needs = indicators.needs_in_visits(ws, f)
    desk_needs = indicators.encounters_by_need(ws, f)
    needs = sorted(
        (
            (need_labels.get(n, n), visit_needs.get(n, 0), desk_needs.get(n, 0))
            for n in set(visit_needs) | set(desk_needs)
        ),
        key=lambda item: (-(item[1] + item[2]), item[0]),
    )
    author = ws.store.scalar("SELECT display_name FROM agents WHERE id = ?", (ws.agent_id,))
    return ActivityData(
        since=since,
        until=until,
        made_on=ws.clock.today(),
        author=clean(author) if author else "",
        territories=tuple((t, names[t]) for t in chosen),
        all_territories=territory_ids is None or set(chosen) == set(names),
        visits_by_territory=indicators.visits_by_territory_kind(ws, f),
        encounters_by_territory=indicators.encounters_by_territory(ws, f),
        visits_by_month=tuple(indicators.visits_by_month(ws, f)),
        encounters_by_month=tuple(indicators.encounters_by_month(ws, f)),
        actions_by_status=tuple((statuses[s], n) for s, n in indicators.actions_by_status(ws, f)),
        needs=tuple(needs),
        handouts_by_action=tuple(
            (clean(title), n) for title, n in indicators.handouts_by_action(ws, f)
        ),
        handouts_total=indicators.handouts_total(ws, f),
        verdicts=indicators.verdicts(ws, f),
        visit_kind_labels=ws.reference("visit_kinds"),
    )


# -- document ---------------------------------------------------------------------------


def number(value: int) -> str:
    """French thousands separator (a no-break space): 12 345."""
    return f"{value:,}".replace(",", "\u00a0")


def _month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{MONTHS_SHORT[int(month) - 1]} {year[2:]}"


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "body",
        fontName=fonts.REGULAR,
        fontSize=BODY,
        leading=BODY * 1.4,
        alignment=TA_LEFT,
        spaceAfter=4,
    )
    return {
        "body": base,
        "h1": ParagraphStyle(
            "h1", parent=base, fontName=fonts.BOLD, fontSize=18, leading=24, spaceAfter=6
        ),
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=fonts.BOLD,
            fontSize=13,
            leading=18,
            spaceBefore=12,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=SMALL, leading=SMALL * 1.3),
        "head": ParagraphStyle(
            "head", parent=base, fontName=fonts.BOLD, fontSize=SMALL, leading=SMALL * 1.3
        ),
    }


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> Table:
    styles = _styles()
    cells = [[Paragraph(markup(h), styles["head"]) for h in header]]
    cells += [[Paragraph(markup(str(c)), styles["cell"]) for c in row] for row in rows]
    table = Table(cells, colWidths=list(widths), repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                # Cells draw with this font even around a Paragraph: ours, not Helvetica.
                ("FONT", (0, 0), (-1, -1), fonts.REGULAR, SMALL),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _bar_chart(
    categories: Sequence[str],
    series: Sequence[Sequence[int]],
    names: Sequence[str],
    width: float,
    height: float = 170,
) -> Drawing:
    """Vertical bars, values written on each bar, legend when there are several series."""
    drawing = _drawing(width, height + (18 if len(series) > 1 else 0))
    chart = VerticalBarChart()
    chart.x, chart.y = 36, 34
    chart.width, chart.height = int(width - 46), int(height - 50)
    chart.data = [list(s) for s in series]
    chart.categoryAxis.categoryNames = list(categories)
    chart.categoryAxis.labels.fontName = fonts.REGULAR
    chart.categoryAxis.labels.fontSize = SMALL
    chart.categoryAxis.labels.boxAnchor = "n"
    chart.valueAxis.labels.fontName = fonts.REGULAR
    chart.valueAxis.labels.fontSize = SMALL
    chart.valueAxis.valueMin = 0
    top = max((max(s) if s else 0) for s in series) if series else 0
    chart.valueAxis.valueMax = max(4, int(top * 1.2) + 1)
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = fonts.REGULAR
    chart.barLabels.fontSize = SMALL
    chart.barLabels.nudge = 6
    chart.barSpacing = 2
    chart.groupSpacing = 8
    for index, fill in enumerate((DARK, LIGHT)[: len(series)]):
        chart.bars[index].fillColor = fill
        chart.bars[index].strokeColor = colors.black
    drawing.add(chart)
    if len(series) > 1:
        legend = Legend()
        legend.x, legend.y = 40, int(height + 10)
        legend.fontName = fonts.REGULAR
        legend.fontSize = SMALL
        legend.alignment = "right"
        legend.columnMaximum = 1
        legend.dx = legend.dy = 8
        legend.deltax = 200
        legend.colorNamePairs = list(zip((DARK, LIGHT), names, strict=False))
        drawing.add(legend)
    return drawing


def _hbar_chart(labels: Sequence[str], values: Sequence[int], width: float) -> Drawing:
    """Horizontal bars for long labels (needs, action titles), value at the end of each bar."""
    row = 16
    height = max(60, row * len(values) + 30)
    label_width = min(230.0, width * 0.5)
    drawing = _drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = int(label_width), 20
    chart.width, chart.height = int(width - label_width - 30), int(height - 30)
    chart.data = [list(reversed(values))]
    chart.categoryAxis.categoryNames = [_shorten(label, 42) for label in reversed(labels)]
    chart.categoryAxis.labels.fontName = fonts.REGULAR
    chart.categoryAxis.labels.fontSize = SMALL
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.valueAxis.labels.fontName = fonts.REGULAR
    chart.valueAxis.labels.fontSize = SMALL
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = max(4, int(max(values or [0]) * 1.15) + 1)
    chart.bars[0].fillColor = DARK
    chart.bars[0].strokeColor = colors.black
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = fonts.REGULAR
    chart.barLabels.fontSize = SMALL
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 4
    drawing.add(chart)
    return drawing


def _drawing(width: float, height: float) -> Drawing:
    """A drawing whose default font is ours (else reportlab lists an unembedded Helvetica)."""
    drawing = Drawing(width, height)
    drawing.initialFontName = fonts.REGULAR  # type: ignore[attr-defined]
    return drawing


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _no_data(width: float, message: str) -> Drawing:
    drawing = _drawing(width, 24)
    drawing.add(String(0, 8, message, fontName=fonts.REGULAR, fontSize=BODY))
    return drawing


class _NumberedCanvas(Canvas):
    """Draws "Page x sur y" once the page count is known (single pass)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fonts.prepare_document(self._doc)  # type: ignore[attr-defined]
        self._saved: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._saved.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]

    def save(self) -> None:
        total = len(self._saved)
        for number_, state in enumerate(self._saved, start=1):
            self.__dict__.update(state)
            self.setFont(fonts.REGULAR, SMALL)
            self.setFillColorRGB(0, 0, 0)
            self.drawString(MARGIN, MARGIN - 14, f"Page {number_} sur {total}")
            super().showPage()
        super().save()


def _header(canvas: Canvas, doc: Any) -> None:
    width, height = A4
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont(fonts.BOLD, SMALL)
    canvas.drawString(MARGIN, height - MARGIN + 10, f"{CITY_IDENTITY} · Rapport d'activité")
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, height - MARGIN + 5, width - MARGIN, height - MARGIN + 5)
    canvas.line(MARGIN, MARGIN - 4, width - MARGIN, MARGIN - 4)
    canvas.restoreState()


def report_story(activity: ActivityData, width: float) -> list[Flowable]:
    s = _styles()
    period = f"du {day_month_year(activity.since)} au {day_month_year(activity.until)}"
    territory_text = (
        "tous les territoires"
        if activity.all_territories
        else ", ".join(name for _id, name in activity.territories)
    )
    visits_total = sum(sum(k.values()) for k in activity.visits_by_territory.values())
    desk_total = sum(activity.encounters_by_territory.values())
    story: list[Flowable] = [
        Paragraph("Rapport d'activité", s["h1"]),
        Paragraph(markup(f"Période : {period}."), s["body"]),
        Paragraph(markup(f"Territoires : {territory_text}."), s["body"]),
        Paragraph(
            markup(
                f"Établi le {day_month_year(activity.made_on)}"
                + (f" par {activity.author}." if activity.author else ".")
            ),
            s["body"],
        ),
        Paragraph(
            markup(
                f"En résumé : {number(visits_total)} visites et appels, "
                f"{number(desk_total)} passages anonymes à l'accueil des mairies annexes, "
                f"{number(activity.handouts_total)} fiches remises."
            ),
            s["body"],
        ),
    ]

    # Visits and encounters by territory.
    story.append(Paragraph("Visites et accueil par territoire", s["h2"]))
    kinds = activity.visit_kind_labels
    names = [name for _id, name in activity.territories]
    visits = [sum(activity.visits_by_territory[t].values()) for t, _ in activity.territories]
    desk = [activity.encounters_by_territory[t] for t, _ in activity.territories]
    short_names = [name.replace("Le Havre ", "") for name in names]
    story.append(
        _bar_chart(
            short_names,
            [visits, desk],
            ["Visites et appels (personnes suivies)", "Accueil anonyme en mairie annexe"],
            width,
        )
    )
    kind_ids = list(kinds)
    rows = []
    for (territory, name), desk_count in zip(activity.territories, desk, strict=True):
        counts = activity.visits_by_territory[territory]
        rows.append([name, *(number(counts.get(k, 0)) for k in kind_ids), number(desk_count)])
    rows.append(
        [
            "Total",
            *(
                number(
                    sum(activity.visits_by_territory[t].get(k, 0) for t, _ in activity.territories)
                )
                for k in kind_ids
            ),
            number(desk_total),
        ]
    )
    first = 0.26 * width
    rest = (width - first) / (len(kind_ids) + 1)
    story.append(Spacer(1, 6))
    story.append(
        _table(
            ["Territoire", *(kinds[k] for k in kind_ids), "Accueil anonyme"],
            rows,
            [first] + [rest] * (len(kind_ids) + 1),
        )
    )

    # By month.
    story.append(Paragraph("Activité par mois", s["h2"]))
    months = [_month_label(m) for m, _n in activity.visits_by_month]
    story.append(
        KeepTogether(
            _bar_chart(
                months,
                [
                    [n for _m, n in activity.visits_by_month],
                    [n for _m, n in activity.encounters_by_month],
                ],
                ["Visites et appels (personnes suivies)", "Accueil anonyme en mairie annexe"],
                width,
            )
        )
    )

    # Needs.
    story.append(Paragraph("Besoins repérés", s["h2"]))
    if activity.needs:
        story.append(
            _hbar_chart(
                [label for label, _v, _d in activity.needs],
                [v + d for _label, v, d in activity.needs],
                width,
            )
        )
        story.append(Spacer(1, 6))
        story.append(
            _table(
                ["Besoin", "Lors des visites", "Accueil anonyme", "Total"],
                [[label, number(v), number(d), number(v + d)] for label, v, d in activity.needs],
                [0.46 * width, 0.18 * width, 0.18 * width, 0.18 * width],
            )
        )
    else:
        story.append(Paragraph("Aucun besoin n'a été noté sur la période.", s["body"]))

    # Actions by status.
    story.append(Paragraph("Actions par statut", s["h2"]))
    story.append(
        _hbar_chart(
            [label for label, _n in activity.actions_by_status],
            [n for _label, n in activity.actions_by_status],
            width,
        )
    )
    if activity.verdicts:
        labels = {"poursuivre": "poursuivre", "adapter": "adapter", "arreter": "arrêter"}
        verdict_text = ", ".join(
            f"{labels.get(v, v)} : {number(n)}" for v, n in sorted(activity.verdicts.items())
        )
        story.append(Paragraph(markup(f"Évaluations sur la période : {verdict_text}."), s["body"]))

    # Handouts per action.
    story.append(Paragraph("Fiches remises, par action", s["h2"]))
    if activity.handouts_by_action:
        top = activity.handouts_by_action[:12]
        story.append(_hbar_chart([t for t, _n in top], [n for _t, n in top], width))
        story.append(Spacer(1, 6))
        story.append(
            _table(
                ["Action", "Fiches remises"],
                [[title, number(n)] for title, n in activity.handouts_by_action],
                [0.78 * width, 0.22 * width],
            )
        )
    else:
        story.append(Paragraph("Aucune fiche n'a été remise sur la période.", s["body"]))
    return story


def activity_report_pdf(activity: ActivityData) -> bytes:
    """The report as PDF bytes (A4, Atkinson Hyperlegible, page numbers "x sur y")."""
    fonts.register_fonts()
    buffer = io.BytesIO()
    width, height = A4
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title="Rapport d'activité — Ville du Havre",
        author=AUTHOR,
        subject=(
            f"Activité du {day_month_year(activity.since)} au {day_month_year(activity.until)}"
        ),
        creator=CREATOR,
        lang=LANGUAGE,
        keywords=["Ville du Havre", "Le Havre Ensemble", "rapport d'activité"],
        initialFontName=fonts.REGULAR,
        initialFontSize=BODY,
    )
    frame = Frame(MARGIN, MARGIN, width - 2 * MARGIN, height - 2 * MARGIN, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_header)])
    with BUILD_LOCK:
        doc.build(report_story(activity, width - 2 * MARGIN - 12), canvasmaker=_NumberedCanvas)
    return buffer.getvalue()


# What the activity report reads, declared (contract.check_purpose): an ordinary report, so
# it can never draw on the register of vulnerable persons.
READS = (
    "visits",
    "contacts",
    "actions",
    "action_evaluations",
    "handouts_given",
    "reception_encounters",
    "agents",
)


def activity_report_for(
    ws: Workspace, since: date, until: date, territory_ids: Sequence[str] | None = None
) -> bytes:
    contract.check_purpose(READS, None)
    activity = load_activity(ws, since, until, territory_ids)
    log.info("activity report built: %s to %s", since.isoformat(), until.isoformat())
    return activity_report_pdf(activity)
