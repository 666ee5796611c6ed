"""Finding a resident's territory from a street name (Accueil), in the street table the City
loads on its server (contract table ``streets``, see :mod:`havre_common.streets`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from havre_common.reference import load_reference
from havre_common.streets import SAMPLE_STREETS, match_rank, read_streets
from havre_desktop.core.workspace import Workspace

log = logging.getLogger("havre.core.streets")

MAX_FOUND = 20


@dataclass(frozen=True)
class Street:
    name: str
    territory_id: str
    postcode: str
    sample: bool


def count_streets(ws: Workspace) -> int:
    return int(ws.store.scalar("SELECT count(*) FROM streets WHERE deleted = 0") or 0)


def find_streets(ws: Workspace, text: str, limit: int = MAX_FOUND) -> list[Street]:
    """The streets whose name the text names (accents, case and short forms ignored, every
    word typed beginning a word of the name), best first, then by name."""
    rows = ws.store.query(
        "SELECT name, territory_id, postcode, is_sample FROM streets WHERE deleted = 0"
    )
    ranked = []
    for row in rows:
        rank = match_rank(text, str(row["name"]))
        if rank is not None:
            ranked.append((rank, str(row["name"]).casefold(), row))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [
        Street(
            str(row["name"]),
            str(row["territory_id"]),
            str(row["postcode"] or ""),
            bool(row["is_sample"]),
        )
        for _rank, _name, row in ranked[:limit]
    ]


def load_sample_streets(ws: Workspace) -> int:
    """The sample street list in a demo profile (marked sample; a server sends the City's)."""
    read = read_streets(SAMPLE_STREETS.read_text("utf-8"), load_reference())
    with ws.store.transaction() as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO streets (id, name, territory_id, postcode, is_sample) "
            "VALUES (?, ?, ?, ?, 1)",
            [(r["id"], r["name"], r["territory_id"], r.get("postcode")) for r in read.rows],
        )
    log.info("sample streets loaded: %d", len(read.rows))
    return len(read.rows)
