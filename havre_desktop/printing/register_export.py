"""The register passed to the préfet when an alert plan is triggered (R121-8): CSV and PDF,
all the coordinator's territories or some, by coordinators with the register right only,
audited (ids and counts, never a name).

This is the alert plan: it reads the register through ``contract.check_purpose`` with the
``ALERT_PLAN`` purpose. The files stay in memory; the agent chooses where to save them.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from havre_common import contract
from havre_common.french import french_date
from havre_desktop.core import agents, audit, register
from havre_desktop.core.errors import PermissionDeniedError, ValidationError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing import fonts
from havre_desktop.printing.layout import AUTHOR, BUILD_LOCK, CREATOR, LANGUAGE
from havre_desktop.printing.text import day_month_year, markup

log = logging.getLogger("havre.printing")

ROLES = frozenset({contract.COORDINATOR, contract.ADMINISTRATOR})
COLUMNS = (
    ("Nom", "family_name"),
    ("Prénom", "given_names"),
    ("Date de naissance", "birth_date"),
    ("Adresse", "address_line"),
    ("Code postal", "postcode"),
    ("Ville", "city"),
    ("Territoire", "territory"),
    ("Téléphone", "phone_1"),
    ("Autre téléphone", "phone_2"),
    ("Personne vivant seule", "lives_alone"),
    ("Étage", "floor"),
    ("Ascenseur", "lift"),
    ("Mobilité", "mobility"),
    ("Aide à domicile", "help"),
    ("Contacts d'urgence", "emergency"),
    ("Inscription le", "enrolled_on"),
    ("Motif", "basis"),
)


@dataclass(frozen=True)
class PrefectExport:
    csv: bytes
    pdf: bytes
    count: int


def _yes_no(value: Any) -> str:
    return "" if value is None else ("oui" if value else "non")


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet never runs as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def _rows(ws: Workspace, territory_ids: Sequence[str]) -> list[dict[str, str]]:
    marks = ",".join("?" for _ in territory_ids)
    found = ws.store.query(
        "SELECT c.*, r.enrolled_on, r.basis, r.floor, r.lift, r.help_at_home, r.help_service "
        "FROM register_enrolments r JOIN contacts c ON c.id = r.person_id "
        "WHERE r.deleted = 0 AND r.status = 'inscrite' AND c.deleted = 0 "
        f"AND c.territory_id IN ({marks}) "
        "ORDER BY c.territory_id, c.family_name COLLATE NOCASE, c.given_names COLLATE NOCASE",
        tuple(territory_ids),
    )
    territories = ws.reference("territories")
    mobility = ws.reference("mobility_levels")
    bases = ws.reference("register_bases")
    rows = []
    for r in found:
        emergency = json.loads(r.get("emergency_contacts") or "[]")
        help_text = ""
        if r.get("help_at_home"):
            help_text = "oui" + (f" ({r['help_service']})" if r.get("help_service") else "")
        rows.append(
            {
                "family_name": str(r.get("family_name") or "").upper(),
                "given_names": str(r.get("given_names") or ""),
                "birth_date": french_date(r.get("birth_date")),
                "address_line": str(r.get("address_line") or ""),
                "postcode": str(r.get("postcode") or ""),
                "city": str(r.get("city") or ""),
                "territory": territories.get(str(r.get("territory_id")), ""),
                "phone_1": str(r.get("phone_1") or ""),
                "phone_2": str(r.get("phone_2") or ""),
                "lives_alone": _yes_no(r.get("lives_alone")),
                "floor": "" if r.get("floor") is None else str(r["floor"]),
                "lift": _yes_no(r.get("lift")),
                "mobility": mobility.get(str(r.get("mobility") or ""), ""),
                "help": help_text,
                "emergency": "; ".join(
                    f"{c.get('name', '')} ({c.get('relation', '')}) {c.get('phone', '')}".strip()
                    for c in emergency
                ),
                "enrolled_on": french_date(r.get("enrolled_on")),
                "basis": bases.get(str(r.get("basis") or ""), ""),
            }
        )
    return rows


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([label for label, _key in COLUMNS])
    for row in rows:
        writer.writerow([_cell(row[key]) for _label, key in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # the BOM: Excel reads the accents


def _pdf(rows: list[dict[str, str]], territories: list[str], day: date) -> bytes:
    fonts.register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=1 * cm,
        rightMargin=1 * cm,
        topMargin=1 * cm,
        bottomMargin=1 * cm,
        title="Registre des personnes vulnérables — transmission au préfet",
        author=AUTHOR,
        creator=CREATOR,
        lang=LANGUAGE,
        initialFontName=fonts.REGULAR,
    )
    title = ParagraphStyle("t", fontName=fonts.BOLD, fontSize=14, leading=18)
    body = ParagraphStyle("b", fontName=fonts.REGULAR, fontSize=7, leading=8.5)
    head = ParagraphStyle("h", fontName=fonts.BOLD, fontSize=7, leading=8.5)
    shown = (
        "family_name",
        "given_names",
        "birth_date",
        "address_line",
        "territory",
        "phone_1",
        "lives_alone",
        "floor",
        "lift",
        "mobility",
        "help",
        "emergency",
    )
    labels = {key: label for label, key in COLUMNS}
    labels.update({"lives_alone": "Seule", "birth_date": "Naissance"})
    table = [[Paragraph(labels[k], head) for k in shown]]
    for row in rows:
        address = " ".join(p for p in (row["address_line"], row["postcode"], row["city"]) if p)
        values = {**row, "address_line": address}
        table.append([Paragraph(markup(values[k]), body) for k in shown])
    widths = [2.5, 2.2, 1.9, 4.4, 2.2, 2.2, 1.3, 1.2, 1.8, 2.2, 2.3, 3.5]  # 27.7 cm
    grid = Table(table, colWidths=[w * cm for w in widths], repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.9, 0.9, 0.9)),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story = [
        Paragraph("Registre des personnes vulnérables — transmission au préfet", title),
        Paragraph(
            f"Ville du Havre, le {day_month_year(day)}. Territoires : {', '.join(territories)}. "
            f"{len(rows)} personne(s) inscrite(s). Document confidentiel : il sert uniquement "
            "au plan d'alerte (CASF, art. L121-6-1).",
            ParagraphStyle("s", fontName=fonts.REGULAR, fontSize=9, leading=12),
        ),
        Spacer(1, 0.4 * cm),
        grid,
    ]
    with BUILD_LOCK:
        doc.build(story)
    return buffer.getvalue()


def prefect_export(ws: Workspace, territory_ids: Sequence[str] | None = None) -> PrefectExport:
    """The register of these territories (None: all the coordinator's), CSV and PDF."""
    contract.check_purpose(contract.REGISTER_TABLES, contract.ALERT_PLAN)
    if agents.current_role(ws) not in ROLES:
        raise PermissionDeniedError("Seuls les coordinateurs transmettent le registre au préfet.")
    register.require_right(ws)
    own = list(agents.current(ws).get("territory_ids") or [])
    chosen = list(territory_ids) if territory_ids else own
    outside = [t for t in chosen if t not in own]
    if outside or not chosen:
        raise ValidationError({"territory_ids": "Territoires : choisissez parmi les vôtres."})
    rows = _rows(ws, chosen)
    names = [ws.reference("territories").get(t, t) for t in chosen]
    result = PrefectExport(_csv(rows), _pdf(rows, names, ws.clock.today()), len(rows))
    audit.record(
        ws,
        "export",
        "register_enrolments",
        None,
        {"destinataire": "prefet", "lignes": len(rows), "territoires": len(chosen)},
    )
    log.info("register export for the prefect: %d rows, %d territories", len(rows), len(chosen))
    return result
