"""Reference data: the same file as the desktop's (``havre_desktop.db/reference_data.json``)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import Connection, delete

from havre_server.changelog import ChangeBuffer, Entry
from havre_server.db import get_state, set_state
from havre_server.schema import ref_items, ref_priorities, ref_stakes, ref_territories

_TOP_LEVEL = {"territories", "stakes", "priorities", "version"}


def reference_text() -> str:
    return resources.files("havre_desktop.db").joinpath("reference_data.json").read_text("utf-8")


@dataclass(frozen=True)
class Reference:
    """id → French label, per list (territories, roles, visit_kinds, …)."""

    lists: dict[str, dict[str, str]]

    def labels(self, name: str) -> dict[str, str]:
        return self.lists.get(name, {})

    @property
    def territories(self) -> dict[str, str]:
        return self.lists["territories"]


@cache
def load_reference() -> Reference:
    data: dict[str, Any] = json.loads(reference_text())
    lists: dict[str, dict[str, str]] = {}
    for name, items in data.items():
        if isinstance(items, list):
            lists[name] = {str(i["id"]): str(i["name"]) for i in items}
    return Reference(lists)


def reference_rows() -> dict[str, list[dict[str, Any]]]:
    """Rows of the four ref_* tables, as the desktop's store loads them."""
    data: dict[str, Any] = json.loads(reference_text())
    rows: dict[str, list[dict[str, Any]]] = {
        "ref_territories": [
            {"id": t["id"], "name": t["name"], "sort": t["sort"]} for t in data["territories"]
        ],
        "ref_stakes": [
            {"id": s["id"], "number": s["number"], "name": s["name"]} for s in data["stakes"]
        ],
        "ref_priorities": [
            {"id": p["id"], "number": p["number"], "stake_id": p["stake_id"], "name": p["name"]}
            for p in data["priorities"]
        ],
        "ref_items": [],
    }
    for list_name, items in data.items():
        if list_name in _TOP_LEVEL or not isinstance(items, list):
            continue
        for sort, item in enumerate(items, start=1):
            rows["ref_items"].append(
                {"list": list_name, "id": item["id"], "name": item["name"], "sort": sort}
            )
    return rows


def ref_row_id(table: str, row: dict[str, Any]) -> str:
    return f"{row['list']}:{row['id']}" if table == "ref_items" else str(row["id"])


def install_reference(conn: Connection, buffer: ChangeBuffer) -> bool:
    """Load the file into the ref_* tables when it changed; the change goes to every device."""
    digest = hashlib.sha256(reference_text().encode("utf-8")).hexdigest()
    if get_state(conn, "reference_sha256", "") == digest:
        return False
    tables = {
        "ref_territories": ref_territories,
        "ref_stakes": ref_stakes,
        "ref_priorities": ref_priorities,
        "ref_items": ref_items,
    }
    version = int(get_state(conn, "reference_version", "0")) + 1
    for name, rows in reference_rows().items():
        table = tables[name]
        conn.execute(delete(table))
        conn.execute(table.insert(), rows)
        for row in rows:
            buffer.add(
                Entry(
                    table_name=name,
                    row_id=ref_row_id(name, row),
                    op="upsert",
                    audience="all",
                    fields=dict(row),
                    server_version=version,
                )
            )
    set_state(conn, "reference_sha256", digest)
    set_state(conn, "reference_version", str(version))
    return True
