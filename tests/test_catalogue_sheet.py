"""Reading the City's catalogue spreadsheet (xlsx, CSV in several encodings) and its report."""

from __future__ import annotations

import pytest

from havre_common.catalogue_sheet import convert, read_sheet
from havre_common.reference import load_reference
from tests.catalogue_sheets import (
    ACCENTED,
    MESSY_BAD_LINES,
    csv_bytes,
    fixed_rows,
    fixed_xlsx,
    messy_rows,
    messy_xlsx,
    mixed_encoding_csv,
)


def test_the_messy_sheet_names_every_bad_line_with_its_column() -> None:
    sheet = read_sheet(messy_xlsx("T"), "catalogue.xlsx")
    lines, problems, _ignored = convert(sheet, load_reference(), {})
    assert lines == []  # every line is bad in some way
    assert {p.line for p in problems} == MESSY_BAD_LINES
    said = {(p.line, p.column): p.message for p in problems}
    assert said[(4, "Territoires")] == "territoire « Atlantide » inconnu."
    assert said[(5, "Début")].startswith("date « 31/02/2027 » invalide")
    assert "aussi donné ligne(s) 6" in said[(3, "Code")]
    assert "aussi donné ligne(s) 3" in said[(6, "Code")]
    assert said[(7, "Fin")] == "la fin précède le début."
    assert said[(8, "Publics")].startswith("cellules fusionnées (F7:F8)")
    assert said[(7, "Publics")].startswith("cellules fusionnées (F7:F8)")


def test_the_fixed_sheet_reads_with_its_title_and_blank_line_skipped() -> None:
    sheet = read_sheet(fixed_xlsx("T"), "catalogue.xlsx")
    lines, problems, ignored = convert(sheet, load_reference(), {})
    assert problems == [] and ignored == []
    assert [line.line for line in lines] == [3, 4, 6, 7, 8, 9]  # a blank line after line 4
    first, second, cooled = lines[0].values, lines[1].values, lines[2].values
    assert first["territory_ids"] == ["nord"] and first["priority_id"] == "P03"
    assert first["status"] == "en-cours" and first["start_date"] == "2027-03-01"
    assert second["priority_id"] == "P04" and second["end_date"] == "2027-06-30"
    assert cooled["seasonal"] == {
        "salle-rafraichie": True,
        "refuge-climatique": True,
        "lieu-chauffe": False,
    }
    assert lines[5].values["title"] == ACCENTED and lines[5].values["status"] == "arretee"


@pytest.mark.parametrize(
    ("encoding", "sep"),
    [("utf-8", ";"), ("utf-8-sig", ";"), ("cp1252", ";"), ("latin-1", ","), ("utf-8", ",")],
)
def test_csv_in_every_encoding_and_separator_reads_the_same(encoding: str, sep: str) -> None:
    rows = [[cell.replace(",", " ") for cell in row] for row in fixed_rows("T")]
    if encoding == "latin-1":  # latin-1 has no « Œ » nor dashes
        rows = [[c.replace("Œ", "Oe").replace("—", "-").replace("–", "-") for c in r] for r in rows]
    sheet = read_sheet(csv_bytes(rows, sep=sep, encoding=encoding), "catalogue.csv")
    lines, problems, _ignored = convert(sheet, load_reference(), {})
    assert problems == []
    assert [line.values["title"] for line in lines] == [row[1] for row in rows]


def test_lines_of_two_encodings_in_one_file_keep_their_accents() -> None:
    rows = fixed_rows("T")
    sheet = read_sheet(mixed_encoding_csv(rows), "catalogue.csv")
    lines, problems, _ignored = convert(sheet, load_reference(), {})
    assert problems == []
    assert [line.values["title"] for line in lines] == [row[1] for row in rows]
    assert lines[5].values["title"] == ACCENTED


def test_a_messy_csv_is_reported_like_the_xlsx() -> None:
    sheet = read_sheet(csv_bytes(messy_rows("T"), encoding="cp1252"), "catalogue.csv")
    _lines, problems, _ignored = convert(sheet, load_reference(), {})
    # No title line in a CSV: the header is line 1, the data from line 2; no merged cells.
    assert {p.line for p in problems} == {2, 3, 4, 5, 6}


def test_a_sheet_without_the_columns_is_refused_in_french() -> None:
    sheet = read_sheet(b"Nom;Adresse\r\nA;B\r\n", "x.csv")
    _lines, problems, _ignored = convert(sheet, load_reference(), {})
    assert problems[0].text().startswith("Ligne 1 : aucune ligne d'en-tête")
    sheet = read_sheet(b"not a workbook", "x.xlsx")
    _lines, problems, _ignored = convert(sheet, load_reference(), {})
    assert "n'est pas un classeur Excel" in problems[0].message
