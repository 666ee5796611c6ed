"""The catalogue of actions and the facilities where they take place.

The catalogue is server-authoritative: a real profile receives it at sync;
only coordinators and administrators edit it. Demo profiles (and the server's
import command) load the sample catalogue shipped in db/.
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any

from havre_common import contract
from havre_desktop.core import agents
from havre_desktop.core.errors import PermissionDeniedError
from havre_desktop.core.validation import Checker
from havre_desktop.core.workspace import Workspace, decode_row

log = logging.getLogger("havre.core.catalogue")

ACCESSIBILITY_FLAGS = {
    "step_free": "Accès de plain-pied ou ascenseur",
    "hearing_loop": "Boucle magnétique",
    "easy_read": "Documents faciles à lire (FALC)",
    "sign_language": "Langue des signes",
    "adapted_transport": "Transport adapté possible",
}
# The catalogue's columns as the contract declares them (what an import or an edit may set).
FACILITY_COLUMNS = tuple(n for n in contract.FACILITIES.names if n != "updated_at")
ACTION_COLUMNS = tuple(n for n in contract.ACTIONS.names if n != "updated_at")


def load_sample_catalogue() -> dict[str, Any]:
    text = resources.files("havre_desktop.db").joinpath("sample_catalogue.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _audience_text(ws: Workspace, audience_ids: list[str]) -> str:
    labels = ws.reference("audiences")
    return " ".join(labels.get(a, a) for a in audience_ids)


def import_catalogue(ws: Workspace, catalogue: dict[str, Any], *, sample: bool) -> tuple[int, int]:
    """Insert or replace facilities and actions as received (no outbox: not a user edit)."""
    now = ws.clock.now_iso()
    with ws.store.transaction() as conn:
        for facility in catalogue.get("facilities", []):
            row = {k: facility.get(k) for k in FACILITY_COLUMNS}
            row["step_free"] = int(bool(row["step_free"]))
            conn.execute(
                f"INSERT INTO facilities ({', '.join(row)}, is_sample, updated_at) VALUES "
                f"({', '.join('?' for _ in row)}, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                + ", ".join(f"{k} = excluded.{k}" for k in row if k != "id"),
                (*row.values(), int(sample), now),
            )
        for action in catalogue.get("actions", []):
            row = {k: action.get(k) for k in ACTION_COLUMNS}
            for key in ("audience_ids", "need_ids", "territory_ids"):
                row[key] = json.dumps(row[key] or [], ensure_ascii=False)
            row["accessibility"] = json.dumps(row["accessibility"] or {})
            row["is_free"] = int(bool(row["is_free"]))
            row["search_audiences"] = _audience_text(ws, action.get("audience_ids") or [])
            conn.execute(
                f"INSERT INTO actions ({', '.join(row)}, is_sample, updated_at) VALUES "
                f"({', '.join('?' for _ in row)}, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                + ", ".join(f"{k} = excluded.{k}" for k in row if k != "id"),
                (*row.values(), int(sample), now),
            )
    counts = (len(catalogue.get("facilities", [])), len(catalogue.get("actions", [])))
    log.info("catalogue imported: %d facilities, %d actions", *counts)
    return counts


def get_action(ws: Workspace, action_id: str) -> dict[str, Any]:
    action = ws.get_row("actions", action_id)
    action["facility"] = (
        ws.get_row("facilities", action["facility_id"]) if action.get("facility_id") else None
    )
    return action


# Who an action is for, by the resident's age group (Accueil asks the age group, the
# catalogue states audiences): an action fits when one of its audiences is the group's.
AGE_GROUP_AUDIENCES: dict[str, frozenset[str]] = {
    "moins-25": frozenset({"enfants", "jeunes", "familles", "handicap", "tout-public"}),
    "25-59": frozenset(
        {"familles", "demandeurs-emploi", "associations", "handicap", "tout-public"}
    ),
    "60-74": frozenset({"seniors", "demandeurs-emploi", "associations", "handicap", "tout-public"}),
    "75-84": frozenset({"seniors", "associations", "handicap", "tout-public"}),
    "85-plus": frozenset({"seniors", "associations", "handicap", "tout-public"}),
}


def list_actions(
    ws: Workspace,
    *,
    stake_id: str | None = None,
    priority_id: str | None = None,
    territory_id: str | None = None,
    audience_id: str | None = None,
    need_id: str | None = None,
    age_group_id: str | None = None,
    step_free: bool = False,
    free_only: bool = False,
    statuses: list[str] | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Actions matching every given filter, by priority then title."""
    where = ["a.deleted = 0"]
    params: list[Any] = []
    if stake_id:
        where.append("p.stake_id = ?")
        params.append(stake_id)
    if priority_id:
        where.append("a.priority_id = ?")
        params.append(priority_id)
    for column, value in (
        ("a.territory_ids", territory_id),
        ("a.audience_ids", audience_id),
        ("a.need_ids", need_id),
    ):
        if value:
            where.append(f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)")
            params.append(value)
    if age_group_id:
        audiences = sorted(AGE_GROUP_AUDIENCES[age_group_id])
        where.append(
            "EXISTS (SELECT 1 FROM json_each(a.audience_ids) WHERE value IN ("
            + ",".join("?" for _ in audiences)
            + "))"
        )
        params += audiences
    if step_free:
        where.append("json_extract(a.accessibility, '$.step_free') = 1")
    if free_only:
        where.append("a.is_free = 1")
    if statuses:
        where.append(f"a.status IN ({','.join('?' for _ in statuses)})")
        params += statuses
    sql = (
        "SELECT a.* FROM actions a JOIN ref_priorities p ON p.id = a.priority_id WHERE "
        + " AND ".join(where)
        + " ORDER BY p.number, a.title COLLATE NOCASE LIMIT ? OFFSET ?"
    )
    return [decode_row(r) for r in ws.store.query(sql, (*params, limit, offset))]


def list_facilities(ws: Workspace, territory_id: str | None = None) -> list[dict[str, Any]]:
    if territory_id:
        rows = ws.store.query(
            "SELECT * FROM facilities WHERE deleted = 0 AND territory_id = ? ORDER BY name",
            (territory_id,),
        )
    else:
        rows = ws.store.query("SELECT * FROM facilities WHERE deleted = 0 ORDER BY name")
    return [decode_row(r) for r in rows]


def _require_catalogue_role(ws: Workspace) -> None:
    if agents.current_role(ws) not in agents.ROLES_EDITING_CATALOGUE:
        raise PermissionDeniedError(
            "Seuls les coordinateurs et les administrateurs peuvent modifier le catalogue."
        )


def update_action(ws: Workspace, action_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A coordinator's edit of an action (sent up; the server decides)."""
    _require_catalogue_role(ws)
    check = Checker()
    if "status" in changes:
        check.choice(changes, "status", "Statut", ws.reference("action_statuses"))
    if "title" in changes:
        check.required_text(changes, "title", "Titre")
    if "contact_phone" in changes:
        changes = {**changes, "contact_phone": check.phone(changes, "contact_phone")}
    check.raise_if_any()
    edit = {k: v for k, v in changes.items() if k in ACTION_COLUMNS and k != "id"}
    if "audience_ids" in edit:
        edit["search_audiences"] = _audience_text(ws, edit["audience_ids"])
    with ws.store.transaction():
        ws.update_row("actions", action_id, edit)
    return get_action(ws, action_id)


def add_evaluation(ws: Workspace, action_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """A coordinator's evaluation: continue, adapt or stop the action."""
    _require_catalogue_role(ws)
    check = Checker()
    evaluated_on = check.date(
        values,
        "evaluated_on",
        "Date d'évaluation",
        today=ws.clock.today(),
        required=True,
        not_future=True,
    )
    verdict = check.choice(
        values,
        "verdict",
        "Décision",
        {"poursuivre": "Poursuivre", "adapter": "Adapter", "arreter": "Arrêter"},
    )
    participants = check.integer(
        values, "participants", "Participants", minimum=0, maximum=1_000_000
    )
    period_start = check.date(
        values, "period_start", "Début de la période évaluée", today=ws.clock.today()
    )
    period_end = check.date(
        values, "period_end", "Fin de la période évaluée", today=ws.clock.today()
    )
    if period_start and period_end and period_end < period_start:
        check.fail("period_end", "La fin de la période évaluée doit suivre son début.")
    check.raise_if_any()
    action = ws.get_row("actions", action_id)
    with ws.store.transaction():
        row = ws.write_row(
            "action_evaluations",
            {
                "action_id": action_id,
                "evaluated_on": evaluated_on,
                "participants": participants,
                "verdict": verdict,
                "indicators": values.get("indicators") or {},
                "comment": check.optional_text(values, "comment"),
                "author_agent_id": ws.agent_id,
                "updated_at": ws.clock.now_iso(),
                "period_start": period_start,
                "period_end": period_end,
                # The territories concerned: the action's, as they are when it is evaluated.
                "territory_ids": list(action.get("territory_ids") or []),
            },
        )
    return ws.get_row("action_evaluations", row["id"])


def evaluations(ws: Workspace, action_id: str) -> list[dict[str, Any]]:
    rows = ws.store.query(
        "SELECT * FROM action_evaluations WHERE action_id = ? AND deleted = 0 "
        "ORDER BY evaluated_on DESC",
        (action_id,),
    )
    return [decode_row(r) for r in rows]
