"""Full-text search over persons and actions (FTS5, accents and case ignored).

What the user types is split into words; each word becomes a prefix term, and
all must match: "lefe" finds Lefèvre, "06 12" finds 06 12 34 56 78, "bois coq"
finds an address avenue du Bois-au-Coq. Results come a page at a time.
Search lists are not audited (opening a fiche is).
"""

from __future__ import annotations

import re
from typing import Any

from havre_common.values import normalise_phone
from havre_desktop.core.workspace import Workspace, decode_row

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8
# Below this many typed characters, ranking every match costs more than it helps
# (a 2-letter prefix matches tens of thousands of rows): results come in index order.
RANK_FROM_CHARS = 4

# Only the columns a result list shows: building full rows (JSON fields decoded)
# would cost more than the query itself. Fiches are opened by id.
PERSON_LIST_COLUMNS = (
    "seq", "id", "kind", "family_name", "given_names", "organisation_name", "birth_date",
    "address_line", "postcode", "city", "territory_id", "phone_1", "phone_2", "archived",
)  # fmt: skip
PERSON_SEARCH_SQL = (
    "SELECT " + ", ".join(f"c.{c}" for c in PERSON_LIST_COLUMNS) + " FROM contacts_fts "
    "JOIN contacts c ON c.seq = contacts_fts.rowid "
    "WHERE contacts_fts MATCH ? AND c.deleted = 0 AND c.archived IN ({archived}) "
    "{order} LIMIT ? OFFSET ?"
)
ACTION_SEARCH_SQL = (
    "SELECT a.* FROM actions_fts JOIN actions a ON a.seq = actions_fts.rowid "
    "WHERE actions_fts MATCH ? AND a.deleted = 0 ORDER BY actions_fts.rank LIMIT ? OFFSET ?"
)


def fts_query(text: str) -> str | None:
    """User text → an FTS5 query of quoted prefix terms, or None when there is nothing to find.

    A whole phone number, however it is written, becomes its ten digits run together
    (indexed as one token), which is both exact and much faster than five 2-digit terms.
    """
    try:
        digits = normalise_phone(text).replace(" ", "")
    except ValueError:
        pass
    else:
        return f'"{digits}"*'
    words = _WORD.findall(text.replace("_", " "))[:MAX_TERMS]
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


def is_ranked(text: str) -> bool:
    """Whether the results for this text come closest first (the list says so)."""
    words = _WORD.findall(text)
    typed = sum(len(w) for w in words)
    has_letters = any(not w.isdigit() for w in words)  # digits (phones): ranking says nothing
    return has_letters and typed >= RANK_FROM_CHARS


def person_search_sql(text: str, *, include_archived: bool = False) -> str:
    """The SQL `search_persons` runs for this text (the benchmark runs it directly too)."""
    order = "ORDER BY contacts_fts.rank" if is_ranked(text) else ""
    return PERSON_SEARCH_SQL.format(archived="0, 1" if include_archived else "0", order=order)


def search_persons(
    ws: Workspace,
    text: str,
    *,
    limit: int = 50,
    offset: int = 0,
    include_archived: bool = False,
) -> list[dict[str, Any]]:
    """Persons and organisations whose name, phone or address match every word typed."""
    query = fts_query(text)
    if query is None:
        return []
    sql = person_search_sql(text, include_archived=include_archived)
    rows = ws.store.conn.execute(sql, (query, limit, offset)).fetchall()
    return [dict(zip(PERSON_LIST_COLUMNS, row, strict=True)) for row in rows]


def search_actions(
    ws: Workspace, text: str, *, limit: int = 50, offset: int = 0
) -> list[dict[str, Any]]:
    """Actions whose title, summary or audiences match every word typed."""
    query = fts_query(text)
    if query is None:
        return []
    cursor = ws.store.conn.execute(ACTION_SEARCH_SQL, (query, limit, offset))
    names = [d[0] for d in cursor.description]
    return [decode_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]
