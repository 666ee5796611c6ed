"""Subject access (RGPD art. 15): the export's format and its readable PDF, for the server's
CLI and the coordinators' desktop alike (``havre_server.subject_access`` collects the data).

The JSON (``FORMAT``): ``{"format", "produit_le", "personne_id", "sections": [{"table",
"libelle", "lignes": [row, …]}, …]}``, values as stored, JSON lists and objects decoded. The
PDF needs reportlab, which the desktop has and the server may lack (then: no PDF, the JSON
only); it is imported only here, when a PDF is asked for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from havre_common import contract
from havre_common.reference import load_reference

FORMAT = "havre-ensemble/acces-personne/1"

LABELS = {
    "agent_name": "Nom de l'agent",
    "device_id": "Appareil",
    "seq": "N° dans le journal",
    "table_name": "Table",
    "row_id": "Ligne",
    "op": "Opération",
    "reason": "Motif",
    "fields": "Contenu",
    "author_agent_id": "Auteur",
    "from_ms": "Depuis (ms)",
    "to_ms": "Jusqu'à (ms)",
    "person_id": "Personne",
    "territory_id": "Territoire",
}
"""French labels of the columns that are not contract fields."""


def _label(table: str, column: str) -> str:
    spec = contract.TABLES.get(table)
    if spec is not None and column in spec.by_name:
        return spec.field(column).label
    return LABELS.get(column, column)


def _shown(table: str, column: str, value: Any) -> str:
    """A value as a reader understands it: yes/no, the French label of a listed value."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    spec = contract.TABLES.get(table)
    found = spec.by_name.get(column) if spec is not None else None
    if found is not None and found.kind is contract.Kind.BOOLEAN:
        return "oui" if value else "non"
    if found is not None and found.choices:
        labels = contract.ENUMS.get(found.choices) or load_reference().labels(found.choices)
        if isinstance(value, list):
            return ", ".join(labels.get(str(v), str(v)) for v in value)
        return labels.get(str(value), str(value))
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def write_pdf(data: dict[str, Any], path: Path) -> Path | None:
    """The export as a readable PDF; None when reportlab is not installed."""
    try:
        from reportlab.lib.pagesizes import A4
        from reportlab.lib.styles import getSampleStyleSheet
        from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
    except ImportError:
        return None
    from xml.sax.saxutils import escape

    styles = getSampleStyleSheet()
    story: list[Any] = [
        Paragraph("Données détenues sur une personne (RGPD, article 15)", styles["Title"]),
        Paragraph(
            escape(f"Personne {data['personne_id']} — export du {data['produit_le']}"),
            styles["Normal"],
        ),
    ]
    for section in data["sections"]:
        rows = section["lignes"]
        story += [
            Spacer(1, 10),
            Paragraph(escape(f"{section['libelle']} ({len(rows)})"), styles["Heading2"]),
        ]
        if not rows:
            story.append(Paragraph("Aucune donnée.", styles["Normal"]))
        for number, row in enumerate(rows, start=1):
            lines = [f"<b>{number}.</b>"] + [
                f"{escape(_label(section['table'], k))} : {escape(_shown(section['table'], k, v))}"
                for k, v in row.items()
            ]
            story.append(Paragraph("<br/>".join(lines), styles["Normal"]))
            story.append(Spacer(1, 4))
    SimpleDocTemplate(
        str(path), pagesize=A4, title="Accès aux données (RGPD art. 15)", author="Havre Ensemble"
    ).build(story)
    return path
