"""Reference data with fixed ids (territories, stakes, priorities, small lists), shipped once.

``reference_data.json`` is the one file both sides load: the desktop into its ``ref_*`` tables
at open time, the server into its own and down to every device.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

TOP_LEVEL_LISTS = frozenset({"territories", "stakes", "priorities", "version"})
"""Keys of the file that are not small ``ref_items`` lists."""


@cache
def reference_text() -> str:
    return resources.files("havre_common").joinpath("reference_data.json").read_text("utf-8")


def load_reference_data() -> dict[str, Any]:
    """The file as parsed JSON (a fresh copy each call)."""
    data: dict[str, Any] = json.loads(reference_text())
    return data


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
    lists: dict[str, dict[str, str]] = {}
    for name, items in load_reference_data().items():
        if isinstance(items, list):
            lists[name] = {str(i["id"]): str(i["name"]) for i in items}
    return Reference(lists)


def reference_rows() -> dict[str, list[dict[str, Any]]]:
    """Rows of the four ``ref_*`` tables, as both sides store them."""
    data = load_reference_data()
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
        if list_name in TOP_LEVEL_LISTS or not isinstance(items, list):
            continue
        for sort, item in enumerate(items, start=1):
            rows["ref_items"].append(
                {"list": list_name, "id": item["id"], "name": item["name"], "sort": sort}
            )
    return rows


def ref_row_id(table: str, row: dict[str, Any]) -> str:
    """The row id a ``ref_*`` row travels under (``ref_items`` are keyed by list and id)."""
    return f"{row['list']}:{row['id']}" if table == "ref_items" else str(row["id"])
