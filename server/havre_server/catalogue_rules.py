"""Who may change which catalogue row (the API, the spreadsheet import and a push alike)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from havre_server import schema
from havre_server.domain import load_row
from havre_server.errors import forbidden
from havre_server.scope import ADMINISTRATOR, COORDINATOR, Principal

EDITORS_ONLY = (
    "Le catalogue est modifié par les coordinateurs et les administrateurs : votre rôle ne "
    "le permet pas."
)
OTHER_TERRITORY = (
    "Cette action ou ce lieu concerne un territoire qui n'est pas le vôtre : un coordinateur "
    "de ce territoire ou un administrateur le modifie."
)
CITY_WIDE = (
    "Une action sans territoire vaut pour toute la Ville : un administrateur la modifie. "
    "Choisissez vos territoires."
)


def require_editor(actor: Principal | None) -> None:
    if actor is not None and actor.role not in (ADMINISTRATOR, COORDINATOR):
        raise forbidden(EDITORS_ONLY)


def territories_of(conn: Connection, table: str, row: dict[str, Any] | None) -> list[str] | None:
    """The territories a row concerns (None: the whole City)."""
    if row is None:
        return []
    if table == "actions":
        found = row.get("territory_ids") or []
        return list(found) if found else None
    if table == "facilities":
        return [str(row["territory_id"])] if row.get("territory_id") else None
    if row.get("action_id"):
        return territories_of(conn, "actions", load_row(conn, schema.actions, row["action_id"]))
    return territories_of(
        conn, "facilities", load_row(conn, schema.facilities, str(row.get("facility_id")))
    )


def territory_problem(actor: Principal | None, territories: list[str] | None) -> str | None:
    """Why this coordinator may not change a row of these territories (None: she may)."""
    if actor is None or actor.role != COORDINATOR:
        return None
    if territories is None:
        return CITY_WIDE
    if any(t not in actor.territories for t in territories):
        return OTHER_TERRITORY
    return None
