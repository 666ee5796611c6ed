"""The agent who owns this profile, and colleagues synced from the server."""

from __future__ import annotations

import logging
from typing import Any

from havre_desktop.core.errors import ValidationError
from havre_desktop.core.validation import Checker
from havre_desktop.core.workspace import Workspace, decode_row, new_id

log = logging.getLogger("havre.core.agents")

ROLES_WITH_VISIT_NOTES = frozenset({"travailleur-social", "coordinateur"})
ROLES_EDITING_CATALOGUE = frozenset({"coordinateur", "administrateur"})


def clean_agent(ws: Workspace, values: dict[str, Any]) -> dict[str, Any]:
    check = Checker()
    name = check.required_text(values, "display_name", "Nom de l'agent")
    role = check.choice(values, "role", "Rôle", ws.reference("roles"))
    territories = check.choices(values, "territory_ids", "Territoire", ws.reference("territories"))
    if not territories and "territory_ids" not in check.errors:
        check.fail("territory_ids", "Territoires : choisissez au moins un territoire.")
    phone = check.phone(values, "work_phone")
    check.raise_if_any()
    return {"display_name": name, "role": role, "territory_ids": territories, "work_phone": phone}


def create_owner(ws: Workspace, values: dict[str, Any]) -> dict[str, Any]:
    """The agent of this profile, created at first run; bound to a server account later."""
    if ws.store.get_setting("owner_agent_id"):
        raise ValidationError({"profile": "Ce profil appartient déjà à un agent."})
    agent = clean_agent(ws, values)
    agent_id = new_id()
    with ws.store.transaction():
        # The agent directory flows down from the server: no outbox entry here.
        ws.write_row(
            "agents", {"id": agent_id, **agent, "updated_at": ws.clock.now_iso()}, outbox=False
        )
        ws.store.set_setting("owner_agent_id", agent_id)
    ws.agent_id = agent_id
    return get(ws, agent_id)


def update_owner(ws: Workspace, values: dict[str, Any]) -> dict[str, Any]:
    owner = current(ws)
    agent = clean_agent(ws, {**owner, **values})
    with ws.store.transaction():
        ws.update_row("agents", owner["id"], agent, outbox=False)
    return get(ws, owner["id"])


def get(ws: Workspace, agent_id: str) -> dict[str, Any]:
    return ws.get_row("agents", agent_id)


def current(ws: Workspace) -> dict[str, Any]:
    agent_id = ws.store.get_setting("owner_agent_id")
    if not agent_id:
        raise ValidationError({"profile": "Aucun agent n'est encore associé à ce profil."})
    return get(ws, agent_id)


def current_role(ws: Workspace) -> str | None:
    agent_id = ws.store.get_setting("owner_agent_id")
    if not agent_id:
        return None
    row = ws.store.query_one("SELECT role FROM agents WHERE id = ?", (agent_id,))
    return None if row is None else str(row["role"])


def colleagues(ws: Workspace) -> list[dict[str, Any]]:
    rows = ws.store.query("SELECT * FROM agents WHERE deleted = 0 ORDER BY display_name")
    return [decode_row(r) for r in rows]
