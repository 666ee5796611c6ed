"""The day's round on paper: who to see or call, where (floor, access), the phone, what was
promised, and boxes to tick "fait" or "absent" — for a social worker without a laptop on the
doorstep. A4 landscape, 12 pt, one table that repeats its header; overdue rows say so in
words (a printer in black and white shows no colour)."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from datetime import date

from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from havre_common.french import count, long_date
from havre_desktop.core.rounds import RoundStop, overdue_text
from havre_desktop.printing import fonts
from havre_desktop.printing.layout import AUTHOR, BUILD_LOCK, CREATOR, LANGUAGE
from havre_desktop.printing.text import markup

log = logging.getLogger("havre.printing")

SIZE = 12  # the agent's sheet, not a handout: legible on a clipboard, six rows a page at most
MARGIN = 12 * mm


def _tick_box() -> Drawing:
    """An empty square to tick with a pen (drawn: no font glyph needed)."""
    side = 6 * mm
    box = Drawing(side, side)
    square = Rect(0, 0, side, side)
    square.strokeColor, square.strokeWidth, square.fillColor = colors.black, 1.2, None
    box.add(square)
    return box


def round_sheet_pdf(day: date, agent_name: str, stops: Sequence[RoundStop]) -> bytes:
    """The sheet as PDF bytes."""
    fonts.register_fonts()
    body = ParagraphStyle("round", fontName=fonts.REGULAR, fontSize=SIZE, leading=SIZE * 1.3)
    bold = ParagraphStyle("round-bold", parent=body, fontName=fonts.BOLD)
    title = ParagraphStyle(
        "round-title", parent=bold, fontSize=SIZE * 1.6, leading=SIZE * 2, spaceAfter=4
    )

    def cell(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(markup(text).replace("\n", "<br/>"), style)

    header = ["Fait", "Absent", "Personne", "Adresse et accès", "Téléphone", "À faire"]
    table_rows: list[list[object]] = [[cell(h, bold) for h in header]]
    for stop in stops:
        where = stop.address + (f"\nAccès : {stop.access}" if stop.access else "")
        what = stop.to_do + (f"\n{overdue_text(stop)}" if stop.overdue_days else "")
        texts = [cell(stop.name, bold), cell(where), cell(stop.phones), cell(what)]
        table_rows.append([_tick_box(), _tick_box(), *texts])
    width = landscape(A4)[0] - 2 * MARGIN
    widths = [14 * mm, 22 * mm, 50 * mm, 80 * mm, 40 * mm]  # "Absent" on one line
    widths.append(width - sum(widths))
    table = Table(table_rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), fonts.REGULAR, SIZE),
                ("GRID", (0, 0), (-1, -1), 0.75, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 1), (1, -1), "CENTER"),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 7),
            ]
        )
    )
    heading = f"Tournée du {long_date(day)}"
    summary = count(len(stops), "{n} contact prévu", "{n} contacts prévus")
    story: list[object] = [
        Paragraph(markup(heading), title),
        Paragraph(markup(f"{agent_name} — {summary}"), body),
        Spacer(1, 4 * mm),
    ]
    if stops:
        story.append(table)
    else:
        story.append(Paragraph("Aucun contact prévu ce jour.", body))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=heading,
        author=AUTHOR,
        creator=CREATOR,
        lang=LANGUAGE,
    )
    with BUILD_LOCK:
        doc.build(story)  # type: ignore[arg-type]
    log.info("round sheet built: %d stops", len(stops))
    return buffer.getvalue()
