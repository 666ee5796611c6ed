"""Finding a resident's territory from a street name (Accueil), in the street table the City
loads on its server (contract table ``streets``, see :mod:`havre_common.streets`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from havre_common.reference import load_reference
from havre_common.streets import SAMPLE_STREETS, match_words, read_streets, words_of
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


_Index = list[tuple[str, list[str], Street]]
_indexes: dict[int, tuple[tuple[object, ...], _Index]] = {}


def _index(ws: Workspace) -> _Index:
    """Every street with its folded words, kept while the table is unchanged (a sync or an
    import changes the count, a version or a row id): folding 2,000 names at each keystroke
    took 70 ms, more than the whole search should."""
    key = tuple(
        ws.store.query(
            "SELECT count(*) n, total(server_version) v, max(rowid) r, total(is_sample) s "
            "FROM streets WHERE deleted = 0"
        )[0].values()
    )
    cached = _indexes.get(id(ws.store))
    if cached is not None and cached[0] == key:
        return cached[1]
    rows = ws.store.query(
        "SELECT name, territory_id, postcode, is_sample FROM streets WHERE deleted = 0"
    )
    index = [
        (
            " " + " ".join(words_of(str(row["name"]))),
            words_of(str(row["name"])),
            Street(
                str(row["name"]),
                str(row["territory_id"]),
                str(row["postcode"] or ""),
                bool(row["is_sample"]),
            ),
        )
        for row in rows
    ]
    _indexes[id(ws.store)] = (key, index)
    return index


def find_streets(ws: Workspace, text: str, limit: int = MAX_FOUND) -> list[Street]:
    """The streets whose name the text names (accents, case and short forms ignored, every
    word typed beginning a word of the name), best first, then by name."""
    wanted = words_of(text)
    starts = [" " + typed for typed in wanted]
    ranked = []
    for joined, words, street in _index(ws):
        if not all(start in joined for start in starts):
            continue  # a word typed begins no word of the name (checked in C, fast)
        rank = match_words(wanted, words)
        if rank is not None:
            ranked.append((rank, street.name.casefold(), street))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [street for _rank, _name, street in ranked[:limit]]


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
