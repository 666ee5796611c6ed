"""The catalogue CSV import (the City's spreadsheet) stores each cell as typed, line breaks too."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.server.support import ServerProcess

DESCRIPTION = (
    "Atelier d'écriture ; deux heures.\n"
    "Chaque mardi, salle 2.\n"
    "\n"
    'Apporter « un cahier » et "un stylo".'
)
HOURS = "Lundi : 9 h – 12 h\nMardi, mercredi : fermé"


def _csv(rows: list[list[str]], sep: str, row_end: str, cell_break: str) -> str:
    """A spreadsheet's CSV: a cell with a separator, a quote or a line break is quoted."""

    def cell(value: str) -> str:
        value = value.replace("\n", cell_break)
        if any(c in value for c in (sep, '"', "\r", "\n")):
            return '"' + value.replace('"', '""') + '"'
        return value

    return "".join(sep.join(cell(v) for v in row) + row_end for row in rows)


@pytest.mark.parametrize(
    ("sep", "row_end", "cell_break", "encoding"),
    [
        pytest.param(",", "\n", "\n", "utf-8", id="lf"),
        # Excel's "CSV UTF-8" in French: BOM, ";", rows ending in CRLF, LF inside a cell.
        pytest.param(";", "\r\n", "\n", "utf-8-sig", id="excel"),
        pytest.param(";", "\r\n", "\r\n", "utf-8-sig", id="crlf-in-cells"),
    ],
)
def test_quoted_cells_keep_their_line_breaks(
    server_factory: Callable[..., ServerProcess],
    tmp_path: Path,
    sep: str,
    row_end: str,
    cell_break: str,
    encoding: str,
) -> None:
    server = server_factory("sqlite")
    facility_id, action_id, other_id = (str(uuid.uuid4()) for _ in range(3))
    facilities = tmp_path / "lieux.csv"
    facilities.write_bytes(
        _csv(
            [
                ["id", "kind_id", "name", "territory_id", "opening_hours"],
                [facility_id, "bibliotheque-musee", "Bibliothèque Oscar Niemeyer", "sud", HOURS],
            ],
            sep,
            row_end,
            cell_break,
        ).encode(encoding)
    )
    actions = tmp_path / "actions.csv"
    actions.write_bytes(
        _csv(
            [
                ["id", "code", "title", "priority_id", "status", "territory_ids", "description"],
                [action_id, "T-1", "Atelier d'écriture", "P05", "en-test", "sud", DESCRIPTION],
                [other_id, "T-2", "Après la ligne coupée", "P05", "en-test", "sud", "Une ligne"],
            ],
            sep,
            row_end,
            cell_break,
        ).encode(encoding)
    )
    out = server.cli("import-catalogue", "--facilities", str(facilities), "--actions", str(actions))
    assert "1 lieux, 2 actions" in out
    # Every line break kept, stored as the contract stores multi-line text (LF, CRLF folded).
    stored = dict(server.sql("SELECT id, description FROM actions WHERE code LIKE 'T-%'"))
    assert stored == {
        action_id: DESCRIPTION,
        other_id: "Une ligne",
    }
    hours = server.sql("SELECT opening_hours FROM facilities WHERE id = :id", id=facility_id)
    assert hours == [(HOURS,)]
