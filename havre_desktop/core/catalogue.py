"""The catalogue of actions and the facilities where they take place.

The catalogue is server-authoritative: a real profile receives it at sync;
only coordinators and administrators edit it. Demo profiles (and the server's
import command) load the sample catalogue shipped in db/.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from typing import Any, Protocol

from havre_common import contract
from havre_common.french import period
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
            row["status"] = row["status"] or "ouvert"
            row["seasonal"] = json.dumps(row["seasonal"] or {})
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
            row["seasonal"] = json.dumps(row["seasonal"] or {})
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
    """An action with its facility and its temporary changes (now and to come)."""
    action = ws.get_row("actions", action_id)
    action["facility"] = (
        ws.get_row("facilities", action["facility_id"]) if action.get("facility_id") else None
    )
    action["changes"] = changes_of(ws, action_id, ws.clock.today())
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


# -- a catalogue that stays true (issue 16) ------------------------------------------------------

CURRENT_STATUSES = ("proposee", "en-test", "en-cours", "suspendue", "arretee")
"""The statuses an action is given today; older ones (réalisée, abandonnée) stay readable."""
LIVE_STATUSES = ("en-cours", "en-test")
"""Actions proposed to residents (Accueil, handouts, campaign offers)."""
ENDED_STATUSES = ("arretee", "realisee", "abandonnee")
FRESHNESS_DAYS = 183
"""An action not confirmed for 6 months is flagged to the coordinators of its territories."""
SEASONS: dict[str, tuple[str, ...]] = {
    "canicule": ("salle-rafraichie", "refuge-climatique"),
    "grand-froid": ("lieu-chauffe",),
}
"""A campaign's kind → the seasonal flags that answer it (contract enum ``seasonal_flags``)."""
SEASON_NAMES: dict[str, str] = {
    "canicule": "canicule",
    "heatwave": "canicule",
    "chaleur": "canicule",
    "grand-froid": "grand-froid",
    "froid": "grand-froid",
    "cold": "grand-froid",
}
"""The names a campaign may give its kind (French or English)."""


class _HasStore(Protocol):
    @property
    def store(self) -> Any: ...


@dataclass(frozen=True)
class TemporaryChange:
    """A closure, other hours or a message for an action or a facility, over a period."""

    id: str
    kind: str
    starts_on: date
    ends_on: date
    hours: str
    message: str
    action_id: str | None
    facility_id: str | None
    subject: str  # the action's title or the facility's name

    def sentence(self) -> str:
        """What a resident is told, in French (Accueil, the catalogue, the handout)."""
        when = period(self.starts_on, self.ends_on)
        place = " (le lieu)" if self.facility_id else ""
        if self.kind == "fermeture":
            text = f"Fermé{place} {when}."
        elif self.kind == "horaires":
            text = f"Horaires différents {when} : {self.hours.rstrip('.')}."
        else:
            text = f"À noter, {when} :"
        if self.message:
            text += " " + self.message.rstrip(".") + "."
        return text


def _store(source: _HasStore | Any) -> Any:
    return source.store if hasattr(source, "store") else source


def temporary_changes(
    source: _HasStore | Any, day: date, action_ids: Sequence[str] | None = None
) -> dict[str, list[TemporaryChange]]:
    """Changes in effect on ``day`` (``starts_on`` ≤ day ≤ ``ends_on``), by action: each
    action's own and those of its facility. ``action_ids`` None: every action."""
    store = _store(source)
    iso = day.isoformat()
    params: list[Any] = [iso, iso]
    where = ""
    if action_ids is not None:
        if not action_ids:
            return {}
        where = f" AND a.id IN ({','.join('?' for _ in action_ids)})"
        params += list(action_ids)
    rows = store.query(
        "SELECT a.id AS for_action, c.*, COALESCE(ca.title, f.name) AS subject "
        "FROM temporary_changes c "
        "LEFT JOIN actions ca ON ca.id = c.action_id "
        "LEFT JOIN facilities f ON f.id = c.facility_id "
        "JOIN actions a ON a.deleted = 0 AND (a.id = c.action_id OR a.facility_id = c.facility_id) "
        "WHERE c.deleted = 0 AND c.starts_on <= ? AND c.ends_on >= ?"
        + where
        + " ORDER BY c.starts_on, c.kind, c.id",
        tuple(params),
    )
    found: dict[str, list[TemporaryChange]] = {}
    for row in rows:
        found.setdefault(str(row["for_action"]), []).append(_change(row))
    return found


def mark_notices(
    source: _HasStore | Any, rows: list[dict[str, Any]], day: date
) -> list[dict[str, Any]]:
    """The actions with ``notice``: what is changed on ``day`` ("Fermeture temporaire"…), for
    the lists of the catalogue and of Accueil (one query)."""
    found = temporary_changes(source, day, [str(r["id"]) for r in rows])
    kinds = contract.ENUMS["temporary_change_kinds"]
    for row in rows:
        changes = found.get(str(row["id"]))
        if changes:
            row["notice"] = ", ".join(dict.fromkeys(kinds[c.kind] for c in changes))
    return rows


def _change(row: dict[str, Any]) -> TemporaryChange:
    return TemporaryChange(
        id=str(row["id"]),
        kind=str(row["kind"]),
        starts_on=date.fromisoformat(row["starts_on"]),
        ends_on=date.fromisoformat(row["ends_on"]),
        hours=str(row.get("hours") or ""),
        message=str(row.get("message") or ""),
        action_id=row.get("action_id"),
        facility_id=row.get("facility_id"),
        subject=str(row.get("subject") or ""),
    )


def changes_of(source: _HasStore | Any, action_id: str, today: date) -> list[TemporaryChange]:
    """An action's changes (its own and its facility's) now and to come (the catalogue page)."""
    store = _store(source)
    rows = store.query(
        "SELECT c.*, COALESCE(ca.title, f.name) AS subject FROM temporary_changes c "
        "LEFT JOIN actions ca ON ca.id = c.action_id "
        "LEFT JOIN facilities f ON f.id = c.facility_id "
        "JOIN actions a ON a.id = ? AND (a.id = c.action_id OR a.facility_id = c.facility_id) "
        "WHERE c.deleted = 0 AND c.ends_on >= ? ORDER BY c.starts_on, c.id",
        (action_id, today.isoformat()),
    )
    return [_change(r) for r in rows]


@dataclass(frozen=True)
class SeasonalOffer:
    """An action or a facility a campaign can offer (cooled room, climate refuge, heated place)."""

    kind: str  # "action" or "facility"
    id: str
    name: str
    flags: tuple[str, ...]  # the seasonal flags that matched (of the action or its place)
    facility_id: str | None
    facility_name: str
    address: str
    territory_ids: tuple[str, ...]


def seasonal_offers(store_or_ws: _HasStore | Any, kind: str) -> list[SeasonalOffer]:
    """What a heatwave (``canicule``) or a cold spell (``grand-froid``) campaign can offer:
    open facilities flagged for it, and live actions (en cours, en test) flagged for it
    themselves or through their (open) facility. Facilities first, then actions, by name."""
    season = SEASON_NAMES.get(kind)
    if season is None:
        raise ValueError(f"Saison inconnue : {kind} (canicule ou grand-froid).")
    store = _store(store_or_ws)
    wanted = SEASONS[season]
    marks = ",".join("?" for _ in wanted)
    facilities = store.query(
        "SELECT f.id, f.name, f.address_line, f.postcode, f.city, f.territory_id, "
        "(SELECT json_group_array(key) FROM json_each(f.seasonal) "
        f" WHERE value = 1 AND key IN ({marks})) AS flags "
        "FROM facilities f WHERE f.deleted = 0 AND f.status = 'ouvert' AND EXISTS ("
        f"SELECT 1 FROM json_each(f.seasonal) WHERE value = 1 AND key IN ({marks})) "
        "ORDER BY f.name COLLATE NOCASE",
        (*wanted, *wanted),
    )
    actions = store.query(
        "SELECT a.id, a.title, a.territory_ids, f.id AS facility_id, f.name AS facility_name, "
        "f.address_line, f.postcode, f.city, "
        "(SELECT json_group_array(DISTINCT key) FROM ("
        "  SELECT key, value FROM json_each(a.seasonal) UNION ALL "
        "  SELECT key, value FROM json_each(CASE WHEN f.status = 'ouvert' THEN f.seasonal END)"
        f") WHERE value = 1 AND key IN ({marks})) AS flags "
        "FROM actions a LEFT JOIN facilities f ON f.id = a.facility_id AND f.deleted = 0 "
        f"WHERE a.deleted = 0 AND a.status IN ({','.join('?' for _ in LIVE_STATUSES)}) "
        "ORDER BY a.title COLLATE NOCASE",
        (*wanted, *LIVE_STATUSES),
    )
    out = [
        SeasonalOffer(
            "facility",
            str(r["id"]),
            str(r["name"]),
            tuple(json.loads(r["flags"])),
            str(r["id"]),
            str(r["name"]),
            _address(r),
            (str(r["territory_id"]),) if r.get("territory_id") else (),
        )
        for r in facilities
    ]
    for r in actions:
        flags = tuple(json.loads(r["flags"] or "[]"))
        if not flags:
            continue
        out.append(
            SeasonalOffer(
                "action",
                str(r["id"]),
                str(r["title"]),
                flags,
                r.get("facility_id"),
                str(r.get("facility_name") or ""),
                _address(r),
                tuple(json.loads(r["territory_ids"] or "[]")),
            )
        )
    return out


def _address(row: dict[str, Any]) -> str:
    town = " ".join(str(row[k]) for k in ("postcode", "city") if row.get(k))
    return ", ".join(p for p in (str(row.get("address_line") or ""), town) if p)


@dataclass(frozen=True)
class StaleAction:
    """An action its coordinators have not confirmed for 6 months (or never)."""

    id: str
    code: str
    title: str
    status: str
    reviewed_on: date | None
    territory_ids: tuple[str, ...]


def stale_actions(
    source: _HasStore | Any, today: date, territories: Iterable[str] | None = None
) -> list[StaleAction]:
    """Actions still running (not stopped) whose last confirmation (``reviewed_on``) is more
    than 6 months old, or missing; ``territories``: those concerning one of them only."""
    store = _store(source)
    limit = (today - timedelta(days=FRESHNESS_DAYS)).isoformat()
    params: list[Any] = [*ENDED_STATUSES, limit]
    where = ""
    if territories is not None:
        chosen = sorted(set(territories))
        if not chosen:
            return []
        where = (
            " AND EXISTS (SELECT 1 FROM json_each(a.territory_ids) WHERE value IN ("
            + ",".join("?" for _ in chosen)
            + "))"
        )
        params += chosen
    rows = store.query(
        "SELECT a.id, a.code, a.title, a.status, a.reviewed_on, a.territory_ids FROM actions a "
        f"WHERE a.deleted = 0 AND a.status NOT IN ({','.join('?' for _ in ENDED_STATUSES)}) "
        "AND (a.reviewed_on IS NULL OR a.reviewed_on < ?)"
        + where
        + " ORDER BY a.reviewed_on IS NOT NULL, a.reviewed_on, a.title COLLATE NOCASE",
        tuple(params),
    )
    return [
        StaleAction(
            str(r["id"]),
            str(r["code"]),
            str(r["title"]),
            str(r["status"]),
            date.fromisoformat(r["reviewed_on"]) if r.get("reviewed_on") else None,
            tuple(json.loads(r["territory_ids"] or "[]")),
        )
        for r in rows
    ]


def is_stale(action: dict[str, Any], today: date) -> bool:
    """Whether one action (a row) needs its coordinator's confirmation (same rule)."""
    if action.get("status") in ENDED_STATUSES:
        return False
    reviewed = action.get("reviewed_on")
    return not reviewed or str(reviewed) < (today - timedelta(days=FRESHNESS_DAYS)).isoformat()
