"""The agent who owns this profile, and colleagues synced from the server."""

from __future__ import annotations

import json
import logging
from typing import Any

from havre_common.contract import COORDINATOR, PERSON_ROLES
from havre_desktop.core.errors import ValidationError
from havre_desktop.core.validation import Checker
from havre_desktop.core.workspace import Workspace, decode_row, new_id

log = logging.getLogger("havre.core.agents")

ROLES_WITH_VISIT_NOTES = frozenset({"travailleur-social", "coordinateur"})
ROLES_EDITING_CATALOGUE = frozenset({"coordinateur", "administrateur"})

# Columns that may hold the id of the profile's own agent: rewritten when the profile is bound
# to its server account (the server only accepts its own id for the signed-in agent).
OWNER_ID_COLUMNS: tuple[tuple[str, str], ...] = (
    ("visits", "agent_id"),
    ("planned_contacts", "agent_id"),
    ("reception_encounters", "agent_id"),
    ("handouts_given", "agent_id"),
    ("consents", "recorded_by_agent_id"),
    ("action_evaluations", "author_agent_id"),
    ("contacts", "referent_agent_id"),
    ("audit_log", "agent_id"),
    ("conflicts", "local_agent_id"),
    ("conflicts", "remote_agent_id"),
)
OWNER_ID_FIELDS = frozenset(column for _, column in OWNER_ID_COLUMNS)


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
        # A coordinator has the register right by default (the server's row decides later).
        right = int(agent["role"] == COORDINATOR)
        ws.write_row(
            "agents",
            {"id": agent_id, **agent, "register_right": right, "updated_at": ws.clock.now_iso()},
            outbox=False,
        )
        ws.store.set_setting("owner_agent_id", agent_id)
    ws.agent_id = agent_id
    return get(ws, agent_id)


def bind_to_server(ws: Workspace, server_agent: dict[str, Any], login: str) -> dict[str, Any]:
    """Make the profile's agent the server account's agent, in one transaction.

    The desktop made up its own agent id at first run; the server knows the agent by its own
    id and refuses any other in ``agent_id``-like fields. The local id is therefore replaced
    by the server's everywhere: the agent row, rows already written (visits, consents, audit
    entries…) and the edits waiting in the outbox. Name, role and territories become the
    server's (it decides what this agent may see). Refusing another account on a profile that
    holds data is the caller's decision (``havre_desktop.sync``).
    """
    new_id = str(server_agent["id"])
    old_id = ws.store.get_setting("owner_agent_id")
    with ws.store.transaction() as conn:
        if old_id and old_id != new_id:
            conn.execute("DELETE FROM agents WHERE id = ?", (new_id,))  # a directory copy
            conn.execute("UPDATE agents SET id = ? WHERE id = ?", (new_id, old_id))
            for table, column in OWNER_ID_COLUMNS:
                conn.execute(
                    f"UPDATE {table} SET {column} = ? WHERE {column} = ?", (new_id, old_id)
                )
            entries = conn.execute("SELECT seq, changed_fields FROM outbox").fetchall()
            for seq, text in entries:
                fields = json.loads(text)
                keys = [k for k in OWNER_ID_FIELDS.intersection(fields) if fields[k] == old_id]
                if keys:
                    fields.update(dict.fromkeys(keys, new_id))
                    conn.execute(
                        "UPDATE outbox SET changed_fields = ? WHERE seq = ?",
                        (json.dumps(fields, ensure_ascii=False), seq),
                    )
        conn.execute(
            "INSERT INTO agents (id, display_name, role, territory_ids, work_phone, "
            "server_account, register_right, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE "
            "SET display_name = excluded.display_name, role = excluded.role, "
            "territory_ids = excluded.territory_ids, work_phone = excluded.work_phone, "
            "server_account = excluded.server_account, "
            "register_right = excluded.register_right, deleted = 0",
            (
                new_id,
                str(server_agent["display_name"]),
                str(server_agent["role"]),
                json.dumps(list(server_agent.get("territory_ids") or []), ensure_ascii=False),
                server_agent.get("work_phone"),
                login,
                int(bool(server_agent.get("register_right"))),
                ws.clock.now_iso(),
            ),
        )
        ws.store.set_setting("owner_agent_id", new_id)
    if old_id != new_id:
        log.info("profile agent bound to its server account")
    ws.agent_id = new_id
    return get(ws, new_id)


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


def has_register_right(ws: Workspace) -> bool:
    """Whether this profile's agent may see the register of vulnerable persons (the server's
    ``register_right``, pulled with the agent's own row; named staff only)."""
    agent_id = ws.store.get_setting("owner_agent_id")
    if not agent_id:
        return False
    row = ws.store.query_one(
        "SELECT register_right, role FROM agents WHERE id = ? AND deleted = 0", (agent_id,)
    )
    return row is not None and bool(row["register_right"]) and row["role"] in PERSON_ROLES


def colleagues(ws: Workspace) -> list[dict[str, Any]]:
    rows = ws.store.query("SELECT * FROM agents WHERE deleted = 0 ORDER BY display_name")
    return [decode_row(r) for r in rows]
