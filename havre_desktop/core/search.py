"""Full-text search over persons and actions (FTS5, accents and case ignored).

What the user types is split into words; each word becomes a prefix term, and
all must match: "lefe" finds Lefèvre, "06 12" finds 06 12 34 56 78, "bois coq"
finds an address avenue du Bois-au-Coq. Results come a page at a time.
Search lists are not audited (opening a fiche is).
"""

from __future__ import annotations

import re
from typing import Any

from havre_desktop.core.workspace import Workspace, decode_row

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 8

PERSON_SEARCH_SQL = (
    "SELECT c.* FROM contacts_fts JOIN contacts c ON c.seq = contacts_fts.rowid "
    "WHERE contacts_fts MATCH ? AND c.deleted = 0 AND c.archived IN ({archived}) "
    "ORDER BY contacts_fts.rank LIMIT ? OFFSET ?"
)
ACTION_SEARCH_SQL = (
    "SELECT a.* FROM actions_fts JOIN actions a ON a.seq = actions_fts.rowid "
    "WHERE actions_fts MATCH ? AND a.deleted = 0 ORDER BY actions_fts.rank LIMIT ? OFFSET ?"
)


def fts_query(text: str) -> str | None:
    """User text → an FTS5 query of quoted prefix terms, or None when there is nothing to find."""
    words = _WORD.findall(text.replace("_", " "))[:MAX_TERMS]
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


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
    sql = PERSON_SEARCH_SQL.format(archived="0, 1" if include_archived else "0")
    cursor = ws.store.conn.execute(sql, (query, limit, offset))
    names = [d[0] for d in cursor.description]
    return [decode_row(dict(zip(names, row, strict=True))) for row in cursor.fetchall()]


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
