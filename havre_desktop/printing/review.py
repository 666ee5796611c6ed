"""The yearly review of the catalogue, on paper: every action with its last evaluation and the
date a coordinator last confirmed it (freshness), for the coordinators' review meeting.

The rows are the dashboard's (:func:`havre_desktop.core.indicators.yearly_review`); the
confirmation dates and the 6-month rule are the catalogue's (:mod:`havre_desktop.core.catalogue`).
Built with the activity report's page, fonts and table (:mod:`havre_desktop.printing.report`).
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer

from havre_common import contract
from havre_desktop.core import catalogue, indicators
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import fonts
from havre_desktop.printing.layout import AUTHOR, BUILD_LOCK, CITY_IDENTITY, CREATOR, LANGUAGE
from havre_desktop.printing.report import (
    BODY,
    MARGIN,
    SMALL,
    _NumberedCanvas,
    _shorten,
    _styles,
    _table,
)
from havre_desktop.printing.text import day_month_year, markup

READS = ("actions", "action_evaluations")


@dataclass(frozen=True)
class ReviewLine:
    code: str
    title: str
    status: str
    territories: str
    reviewed_on: date | None
    stale: bool
    evaluated_on: date | None
    verdict: str
    comment: str


def load_review(ws: Workspace, territory_ids: Sequence[str] | None = None) -> list[ReviewLine]:
    """Every action (of these territories: None, all) with its last evaluation."""
    contract.check_purpose(READS, None)
    today = ws.clock.today()
    refs = {name: ws.reference(name) for name in ("action_statuses", "territories")}
    verdicts = contract.ENUMS["verdicts"]
    extra = {
        str(r["id"]): r
        for r in ws.store.query(
            "SELECT id, reviewed_on, territory_ids FROM actions WHERE deleted = 0"
        )
    }
    wanted = set(territory_ids) if territory_ids is not None else None
    lines: list[ReviewLine] = []
    for row in indicators.yearly_review(ws):
        more = extra.get(row.action_id, {})
        territories = json.loads(more.get("territory_ids") or "[]")
        if wanted is not None and not wanted & set(territories):
            continue
        reviewed = more.get("reviewed_on")
        lines.append(
            ReviewLine(
                code=row.code,
                title=row.title,
                status=refs["action_statuses"].get(row.status, row.status),
                territories=(
                    "Toute la Ville"
                    if territories and set(territories) >= set(refs["territories"])
                    else ", ".join(refs["territories"].get(t, t) for t in territories)
                ),
                reviewed_on=date.fromisoformat(reviewed) if reviewed else None,
                stale=catalogue.is_stale({"status": row.status, "reviewed_on": reviewed}, today),
                evaluated_on=date.fromisoformat(row.evaluated_on) if row.evaluated_on else None,
                verdict=verdicts.get(row.verdict or "", ""),
                comment=row.comment or "",
            )
        )
    return lines


def _header(canvas: Canvas, _doc: object) -> None:
    width, height = landscape(A4)
    canvas.saveState()
    canvas.setFillColorRGB(0, 0, 0)
    canvas.setFont(fonts.BOLD, SMALL)
    canvas.drawString(MARGIN, height - MARGIN + 10, f"{CITY_IDENTITY} · Revue annuelle")
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, height - MARGIN + 5, width - MARGIN, height - MARGIN + 5)
    canvas.line(MARGIN, MARGIN - 4, width - MARGIN, MARGIN - 4)
    canvas.restoreState()


def _short(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def review_pdf(lines: Sequence[ReviewLine], today: date) -> bytes:
    """A4 landscape: one line per action, page numbers "x sur y"."""
    fonts.register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    width, height = landscape(A4)
    doc = BaseDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title="Revue annuelle des actions — Ville du Havre",
        author=AUTHOR,
        subject=f"Revue du {day_month_year(today)}",
        creator=CREATOR,
        lang=LANGUAGE,
        initialFontName=fonts.REGULAR,
        initialFontSize=BODY,
    )
    frame = Frame(MARGIN, MARGIN, width - 2 * MARGIN, height - 2 * MARGIN, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=_header)])
    stale = sum(1 for line in lines if line.stale)
    never = sum(1 for line in lines if line.evaluated_on is None)
    story = [
        Paragraph("Revue annuelle des actions", styles["h1"]),
        Paragraph(
            markup(
                f"Au {day_month_year(today)} : {len(lines)} action(s), dont {never} jamais "
                f"évaluée(s) et {stale} à vérifier (non confirmées depuis 6 mois)."
            ),
            styles["body"],
        ),
        Spacer(1, 6),
    ]
    usable = width - 2 * MARGIN - 12
    widths = [0.09, 0.25, 0.09, 0.14, 0.1, 0.1, 0.08, 0.15]
    story.append(
        _table(
            [
                "Code",
                "Action",
                "Statut",
                "Territoires",
                "Vérifiée le",
                "Dernière évaluation",
                "Décision",
                "Commentaire",
            ],
            [
                [
                    line.code,
                    line.title,
                    line.status,
                    line.territories,
                    (_short(line.reviewed_on) or "jamais")
                    + (" (à vérifier)" if line.stale else ""),
                    _short(line.evaluated_on) or "aucune",
                    line.verdict,
                    _shorten(line.comment, 140),
                ]
                for line in lines
            ],
            [usable * w for w in widths],
        )
    )
    with BUILD_LOCK:
        doc.build(story, canvasmaker=_NumberedCanvas)
    return buffer.getvalue()


def review_for(ws: Workspace, territory_ids: Sequence[str] | None = None) -> bytes:
    return review_pdf(load_review(ws, territory_ids), ws.clock.today())
