"""The City's catalogue spreadsheet as the tests use it: a deliberately messy one and its fix.

Written with openpyxl (xlsx) or as CSV bytes in a chosen encoding; the lines and columns named
here are those the validation report must name."""

from __future__ import annotations

import io
from typing import Final

import openpyxl

HEADER: Final = [
    "Code",
    "Intitulé",
    "Priorité",
    "Statut",
    "Territoires",
    "Publics",
    "Besoins",
    "Début",
    "Fin",
    "Horaires",
    "Gratuit",
    "Usage saisonnier",
]

ACCENTED: Final = "Café des aînés « Œuvre » — l'été à Sainte-Adresse"


def fixed_rows(prefix: str) -> list[list[str]]:
    """The corrected sheet: six actions, accents included."""
    return [
        [
            f"{prefix}-001",
            "Repas partagé du jeudi",
            "P03",
            "En cours",
            "Le Havre Nord",
            "seniors",
            "isolement",
            "01/03/2027",
            "",
            "Jeudi 12 h",
            "oui",
            "",
        ],
        [
            f"{prefix}-002",
            "Marche douce",
            "4",
            "en test",
            "nord",
            "Seniors",
            "loisirs",
            "2027-04-01",
            "30/06/2027",
            "Mardi 10 h",
            "oui",
            "",
        ],
        [
            f"{prefix}-003",
            "Salle fraîche de l'Atelier",
            "P05",
            "En cours",
            "Le Havre Nord",
            "seniors",
            "sante",
            "01/06/2027",
            "",
            "Tous les jours 14 h – 18 h",
            "oui",
            "Salle rafraîchie | Refuge climatique",
        ],
        [
            f"{prefix}-004",
            "Atelier numérique",
            "P06",
            "Proposée",
            "nord",
            "seniors",
            "numerique",
            "",
            "",
            "",
            "non",
            "",
        ],
        [
            f"{prefix}-005",
            "Goûter chauffé de l'hiver",
            "P03",
            "Suspendue",
            "nord",
            "seniors",
            "isolement",
            "01/12/2026",
            "",
            "",
            "oui",
            "lieu chauffé",
        ],
        [
            f"{prefix}-006",
            ACCENTED,
            "P03",
            "Arrêtée",
            "nord",
            "tout-public",
            "culture-sport",
            "01/01/2026",
            "31/12/2026",
            "",
            "oui",
            "",
        ],
    ]


def messy_rows(prefix: str) -> list[list[str]]:
    """Lines 3…: the fixed ones with mistakes; what each bad line is, in MESSY_PROBLEMS."""
    rows = fixed_rows(prefix)
    rows[1][4] = "Atlantide"  # unknown territory
    rows[2][7] = "31/02/2027"  # bad date
    rows[3][0] = f"{prefix}-001"  # duplicate code (of the first line)
    rows[4][8] = "01/01/2026"  # ends before it starts
    return rows


def _xlsx(rows: list[list[str]], *, title: bool, blank_after: int | None, merge: bool) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Actions"
    if title:
        sheet.append(["Catalogue des actions 2027 (Ville du Havre)"])
        sheet.merge_cells("A1:E1")
    sheet.append(HEADER)
    for index, row in enumerate(rows):
        sheet.append(row)
        if blank_after is not None and index == blank_after:
            sheet.append([])
    if merge:
        # The "Publics" cell of the last two lines merged (the spreadsheet's habit).
        last = sheet.max_row
        sheet.merge_cells(f"F{last - 1}:F{last}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def messy_xlsx(prefix: str) -> bytes:
    """Title merged above the header (fine), a blank line (skipped), and bad lines:
    line 4 unknown territory, line 5 bad date, lines 3 and 6 the same code, line 7 ends before
    it starts, lines 7 and 8 a merged cell (lines: title 1, header 2, data 3…, blank after 5)."""
    return _xlsx(messy_rows(prefix), title=True, blank_after=None, merge=True)


MESSY_BAD_LINES: Final = {3, 4, 5, 6, 7, 8}


def fixed_xlsx(prefix: str) -> bytes:
    return _xlsx(fixed_rows(prefix), title=True, blank_after=1, merge=False)


def csv_bytes(rows: list[list[str]], *, sep: str = ";", encoding: str = "utf-8") -> bytes:
    """A CSV as a spreadsheet writes it, in one encoding (``utf-8-sig``: with a BOM)."""
    lines = [sep.join(HEADER)] + [sep.join(row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def mixed_encoding_csv(rows: list[list[str]]) -> bytes:
    """Lines pasted together from two files: the header and odd lines in UTF-8, even lines in
    cp1252 (Excel's "CSV" on a French Windows)."""
    out = [";".join(HEADER).encode("utf-8")]
    for index, row in enumerate(rows):
        out.append(";".join(row).encode("cp1252" if index % 2 else "utf-8"))
    return b"\r\n".join(out) + b"\r\n"
