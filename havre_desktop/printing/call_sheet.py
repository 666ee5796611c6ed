"""The call sheet of an alert campaign: one agent's list on paper, for an agent without a
laptop (or a colleague lending a hand by phone). Rank, name, phones, address with floor and
access, the emergency contacts, why the person is on top of the list, what to do next, a box
for each outcome and a line for a note; the coordinator types the ticked boxes in later.

A4 landscape in large print (14 pt, never smaller), black on white: an urgent case and every
outcome are said in words and boxes, never by colour. Each person is one block that never
breaks across two pages. The register serves the alert plan only: the sheet is built through
``contract.check_purpose`` with the ``ALERT_PLAN`` purpose (the caller reads the rows).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from havre_common import contract
from havre_common.french import count, long_date
from havre_desktop.core import audit
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import fonts
from havre_desktop.printing.layout import AUTHOR, BUILD_LOCK, CITY_IDENTITY, CREATOR, LANGUAGE
from havre_desktop.printing.text import emergency_lines, floor_and_access, markup, upper_first

log = logging.getLogger("havre.printing")

SIZE = 14  # large print: read at arm's length, on a clipboard, with a phone in the other hand
MARGIN = 12 * mm
CAMPAIGN_TABLES = ("alert_campaigns", "campaign_calls", "campaign_outcomes", "contacts")


@dataclass(frozen=True)
class SheetRow:
    """One person on the sheet (plain text, already in French)."""

    rank: int
    name: str
    phones: str
    address: str
    access: str  # floor, lift, door code…
    emergency: str  # "Nom (lien) téléphone", one per line
    reasons: str  # why the person is high on the list
    next_step: str  # "À appeler", "Rappeler à 14 h 30", "Appeler le contact d'urgence"…
    urgent: bool = False
    note: str = ""  # "Aussi appelée par …", "Réattribuée à …"


@dataclass(frozen=True)
class CallSheet:
    campaign: str  # "Canicule — niveau orange : …"
    agent: str
    day: date
    rows: tuple[SheetRow, ...]
    outcomes: tuple[tuple[str, str], ...]  # (code, label) in key order


def _tick_box() -> Drawing:
    """An empty square to tick with a pen (drawn: no font glyph needed)."""
    side = 5.5 * mm
    box = Drawing(side, side)
    box.initialFontName = fonts.REGULAR  # type: ignore[attr-defined]  # no unembedded Helvetica
    square = Rect(0, 0, side, side)
    square.strokeColor, square.strokeWidth, square.fillColor = colors.black, 1.2, None
    box.add(square)
    return box


def _footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(fonts.REGULAR, SIZE)
    width, _height = landscape(A4)
    canvas.drawString(MARGIN, 6 * mm, CITY_IDENTITY + " — document confidentiel (plan d'alerte)")
    canvas.drawRightString(width - MARGIN, 6 * mm, f"Page {doc.page}")
    canvas.restoreState()


def call_sheet_pdf(sheet: CallSheet) -> bytes:
    """The sheet as PDF bytes."""
    contract.check_purpose(CAMPAIGN_TABLES, contract.ALERT_PLAN)
    fonts.register_fonts()
    body = ParagraphStyle("call", fontName=fonts.REGULAR, fontSize=SIZE, leading=SIZE * 1.2)
    bold = ParagraphStyle("call-bold", parent=body, fontName=fonts.BOLD)
    title = ParagraphStyle("call-title", parent=bold, fontSize=SIZE * 1.5, leading=SIZE * 1.9)

    def cell(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(markup(text).replace("\n", "<br/>"), style)

    width = landscape(A4)[0] - 2 * MARGIN
    # Outcomes: a box and its words, four to a line across the sheet.
    per_line = 4
    box_rows: list[list[object]] = []
    for start in range(0, len(sheet.outcomes), per_line):
        line: list[object] = []
        for _code, label in sheet.outcomes[start : start + per_line]:
            # The words in brackets are the screen's ("visite aujourd'hui"): "À faire" says
            # it on paper, and a label on one line keeps three persons to a page.
            line += [_tick_box(), cell(label.split(" (")[0])]
        line += [""] * (2 * per_line - len(line))
        box_rows.append(line)
    label_width = (width - 2 * mm) / per_line - 8 * mm
    box_widths = [8 * mm, label_width] * per_line
    whom = Table(
        [
            [
                cell("Appel à :"),
                _tick_box(),
                cell("la personne"),
                _tick_box(),
                cell("son contact d'urgence"),
                _tick_box(),
                cell("visite à domicile"),
                cell("Heure : ..........   Note :"),
            ]
        ],
        colWidths=[26 * mm, 8 * mm, 34 * mm, 8 * mm, 56 * mm, 8 * mm, 45 * mm, None],
        hAlign="LEFT",
    )
    compact = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), fonts.REGULAR, SIZE),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), 1),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ]
    )
    whom.setStyle(compact)

    story: list[object] = [
        Paragraph(markup(f"Liste d'appels — {sheet.campaign}"), title),
        Paragraph(
            markup(
                f"{sheet.agent} — {long_date(sheet.day)} — "
                + count(len(sheet.rows), "{n} personne à appeler", "{n} personnes à appeler")
            ),
            body,
        ),
        Paragraph(
            markup(
                "Si la personne ne va pas bien ou est en danger : appelez le 15, "
                "puis prévenez la coordination. Cochez une case par appel."
            ),
            bold,
        ),
        Spacer(1, 3 * mm),
    ]
    for row in sheet.rows:
        who = f"{row.rank}. {row.name}\n{row.phones}"
        where = row.address + (f"\n{row.access}" if row.access else "")
        first = [
            cell(who, bold),
            cell(where),
            cell("Contact d'urgence :\n" + (row.emergency or "aucun"), body),
        ]
        step = f"<b>À faire : {markup(row.next_step)}</b>"
        if row.urgent:
            step = "<b>URGENT : appelez le 15.</b><br/>" + step
        extra = " — ".join(markup(x) for x in (row.reasons, row.note) if x)
        if extra:  # why she is high on the list, on the same line when there is room
            step += " — " + extra.replace("\n", " ; ")
        outcome_table = Table(box_rows, colWidths=box_widths, hAlign="LEFT")
        outcome_table.setStyle(compact)
        lines: list[list[Any]] = [  # what to do full width, then the boxes to tick
            first,
            [Paragraph(step, body), "", ""],
            [outcome_table, "", ""],
            [whom, "", ""],
        ]
        block = Table(lines, colWidths=[width * 0.34, width * 0.33, width * 0.33], hAlign="LEFT")
        block.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), fonts.REGULAR, SIZE),
                    ("BOX", (0, 0), (-1, -1), 1.2, colors.black),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
                    *(("SPAN", (0, i), (2, i)) for i in range(1, len(lines))),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ]
            )
        )
        story += [KeepTogether([block]), Spacer(1, 2 * mm)]
    if not sheet.rows:
        story.append(Paragraph("Personne sur cette liste.", body))
    heading = f"Liste d'appels — {sheet.agent}"
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 6 * mm,
        title=heading,
        author=AUTHOR,
        creator=CREATOR,
        lang=LANGUAGE,
        initialFontName=fonts.REGULAR,
    )
    with BUILD_LOCK:
        doc.build(story, onFirstPage=_footer, onLaterPages=_footer)  # type: ignore[arg-type]
    log.info("call sheet built: %d persons", len(sheet.rows))
    return buffer.getvalue()


def sheet_outcomes(labels: dict[str, str], codes: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """The outcome boxes in key order, with their labels from the contract's enum."""
    return tuple((code, labels.get(code, code)) for code in codes)


OUTCOME_KEYS = ("1", "2", "3", "4", "5", "6", "7")
"""The key of each outcome, in the contract's order (the Alerte page's keys, on paper too)."""


def whole(phone: str) -> str:
    """A phone number that never breaks across two lines (non-breaking spaces)."""
    return phone.replace(" ", "\u00a0")


def _whole_phones(contacts_list: Sequence[dict[str, Any]]) -> list[dict[str, object]]:
    return [{**c, "phone": whole(str(c.get("phone") or ""))} for c in contacts_list]


def call_sheet_for(ws: Workspace, campaign_id: str, agent_id: str) -> bytes:
    """The call sheet of one agent's list as it stands on this device (open calls only)."""
    from havre_desktop.core import campaign

    contract.check_purpose(CAMPAIGN_TABLES, contract.ALERT_PLAN)
    found = campaign.get_campaign(ws, campaign_id)
    rows = [
        r
        for r in campaign.call_list(ws, campaign_id, agent_id)
        if r.reassigned_to is None and (r.step.open or r.step.code == "escalade")
    ]
    names = dict(contract.ENUMS["campaign_risks"])
    agent = str(ws.store.scalar("SELECT display_name FROM agents WHERE id = ?", (agent_id,)) or "")
    kinds = dict(contract.ENUMS["campaign_kinds"])
    levels = dict(contract.ENUMS["alert_levels"])
    title = (
        f"{kinds.get(found['kind'], found['kind'])} — niveau "
        f"{levels.get(found['level'], found['level']).lower()} : {found['title']}"
    )
    sheet_rows = []
    for r in rows:
        notes = []
        if r.reassigned_from:
            notes.append(f"Reprise de la liste de {r.reassigned_from}")
        if r.also_called_by:
            notes.append("Aussi appelée par " + ", ".join(r.also_called_by))
        sheet_rows.append(
            SheetRow(
                rank=r.rank,
                name=r.name,
                phones=" — ".join(whole(p) for p in r.phones) or "pas de téléphone",
                address=r.address,
                access=upper_first(floor_and_access(r.floor, r.lift, r.access_notes)),
                emergency="\n".join(emergency_lines(_whole_phones(r.emergency_contacts))),
                reasons=", ".join(names.get(x, x) for x in r.risk_reasons),
                next_step=r.step.label,
                urgent=r.step.urgent,
                note=". ".join(notes),
            )
        )
    labels = dict(contract.ENUMS["campaign_outcomes"])
    outcomes = tuple(
        (code, f"{key} {labels[code]}") for key, code in zip(OUTCOME_KEYS, labels, strict=False)
    )
    pdf = call_sheet_pdf(CallSheet(title, agent, ws.clock.today(), tuple(sheet_rows), outcomes))
    audit.record(ws, "impression", "campaign_calls", None, {"lignes": len(sheet_rows)})
    return pdf
