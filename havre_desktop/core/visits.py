"""Visits, planned contacts, reception-desk encounters and handouts given.

Visits are append-only: a correction is a new revision by its author. Logging a visit
also closes the planned contact it fulfils, in the same transaction — unless the person
was not reached (absent, postponed): then what was planned stays open, moved to the new
date when one is given, so nobody drops off *Ma journée* without having been seen.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from array import array
from datetime import date, timedelta
from typing import Any

from havre_common import contract
from havre_common.french import french_date
from havre_common.values import parse_datetime
from havre_desktop.core import agents, audit, contacts
from havre_desktop.core.errors import PermissionDeniedError, ValidationError
from havre_desktop.core.validation import Checker
from havre_desktop.core.workspace import Workspace, decode_row

log = logging.getLogger("havre.core.visits")

# What an agent records about a visit (the contract's fields, without the bookkeeping).
VISIT_FIELDS = tuple(
    f.name
    for f in contract.VISITS.fields
    if f.updatable and f.name not in ("revision", "created_at", "updated_at")
)


# Outcomes after which the planned contact is still to be done.
NOT_REACHED_OUTCOMES = frozenset({"absent", "reportee"})
PLANNED_KINDS = contract.ENUMS["planned_kinds"]
FOLLOW_UP_KINDS = {"suivi-visite": "une visite", "suivi-appel": "un appel"}
# Kinds listed under "Suivis promis" ("suivi" alone: before the visit/call choice).
PROMISED_KINDS = ("suivi", *FOLLOW_UP_KINDS)


def _require_visit_role(ws: Workspace) -> None:
    role = agents.current_role(ws)
    if role is not None and role not in agents.ROLES_WITH_VISIT_NOTES:
        raise PermissionDeniedError(
            "Votre rôle ne permet pas de consigner ni de consulter les visites."
        )


def clean_visit(ws: Workspace, values: dict[str, Any]) -> dict[str, Any]:
    check = Checker()
    now = ws.clock.now()
    occurred_at: str | None = None
    raw = values.get("occurred_at")
    if raw in (None, ""):
        check.fail("occurred_at", "Date de la visite : ce champ est obligatoire.")
    else:
        try:
            moment = parse_datetime(raw)
            if moment.tzinfo is None:
                from havre_desktop.core.clock import PARIS

                moment = moment.replace(tzinfo=PARIS)
            if moment > now + timedelta(minutes=5):
                check.fail(
                    "occurred_at", "Date de la visite : la date ne peut pas être dans le futur."
                )
            else:
                occurred_at = moment.isoformat(timespec="minutes")
        except ValueError as exc:
            check.fail("occurred_at", f"Date de la visite : {exc}")
    row: dict[str, Any] = {
        "occurred_at": occurred_at,
        "kind": check.choice(values, "kind", "Type de contact", ws.reference("visit_kinds")),
        "outcome": check.choice(values, "outcome", "Résultat", ws.reference("visit_outcomes")),
        "duration_min": check.integer(
            values, "duration_min", "Durée (minutes)", minimum=1, maximum=600
        ),
        "wellbeing": check.integer(values, "wellbeing", "Bien-être", minimum=1, maximum=5),
        "need_ids": check.choices(values, "need_ids", "Besoin", ws.reference("need_kinds")),
        "proposed_action_ids": [str(a) for a in values.get("proposed_action_ids") or []],
        "handout_given": bool(values.get("handout_given")),
        "follow_up_on": check.date(values, "follow_up_on", "Date de suivi", today=ws.clock.today()),
        "notes": check.optional_text(values, "notes"),
        "notes_private": bool(values.get("notes_private")),
    }
    if row["follow_up_on"] and occurred_at and row["follow_up_on"] < occurred_at[:10]:
        check.fail("follow_up_on", "Date de suivi : elle doit suivre la date de la visite.")
    unknown = [
        a
        for a in row["proposed_action_ids"]
        if not ws.store.scalar("SELECT 1 FROM actions WHERE id = ? AND deleted = 0", (a,))
    ]
    if unknown:
        check.fail("proposed_action_ids", "Une action proposée n'existe pas dans le catalogue.")
    check.raise_if_any()
    return row


def _follow_up(ws: Workspace, values: dict[str, Any], visit: dict[str, Any]) -> tuple[str, str]:
    """What was promised: by a visit or a call (by default, as this contact was made) and why
    (by default, the contact it was promised at)."""
    check = Checker()
    default = "suivi-appel" if str(visit.get("kind") or "").startswith("appel") else "suivi-visite"
    kind = check.choice(
        {"k": values.get("follow_up_kind") or default}, "k", "Suivi par", FOLLOW_UP_KINDS
    )
    reason = check.optional_text(values, "follow_up_reason")
    if check.errors:
        raise ValidationError({"follow_up_kind": next(iter(check.errors.values()))})
    kind_label = contract.ENUMS["planned_kinds"].get(str(kind), "")
    day = french_date(str(visit["occurred_at"]))
    return str(kind), reason or f"{kind_label}, promis le {day}"


def log_visit(ws: Workspace, person_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """Record a visit, call or desk encounter with a known person (one transaction)."""
    _require_visit_role(ws)
    row = clean_visit(ws, values)
    follow_kind, follow_reason = _follow_up(ws, values, row) if row["follow_up_on"] else ("", "")
    ws.get_row("contacts", person_id)
    contacts.refuse_identity_if_anonymised(ws, person_id, "visits", row)
    if not ws.agent_id:
        raise ValidationError({"agent_id": "Aucun agent n'est associé à ce profil."})
    now = ws.clock.now_iso()
    with ws.store.transaction():
        visit = ws.write_row(
            "visits",
            {
                "person_id": person_id,
                "agent_id": ws.agent_id,
                **row,
                "revision": 1,
                "created_at": now,
                "updated_at": now,
            },
        )
        due = ws.store.query(
            "SELECT id FROM planned_contacts WHERE person_id = ? AND done_by_visit_id IS NULL "
            "AND cancelled = 0 AND deleted = 0 AND due_on <= ?",
            (person_id, row["occurred_at"][:10]),
        )
        reached = row["outcome"] not in NOT_REACHED_OUTCOMES
        for planned in due:
            if reached:
                ws.update_row("planned_contacts", planned["id"], {"done_by_visit_id": visit["id"]})
            elif row["follow_up_on"]:  # still to do, on the new date
                ws.update_row("planned_contacts", planned["id"], {"due_on": row["follow_up_on"]})
        if row["follow_up_on"] and (reached or not due):
            ws.write_row(
                "planned_contacts",
                {
                    "person_id": person_id,
                    "agent_id": ws.agent_id,
                    "due_on": row["follow_up_on"],
                    "kind": follow_kind,
                    "reason": follow_reason,
                    "updated_at": now,
                },
            )
    log.info("visit logged id=%s", visit["id"])
    return get(ws, visit["id"])


def correct_visit(ws: Workspace, visit_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A correction by the visit's author: a new revision of the same visit."""
    _require_visit_role(ws)
    current = get(ws, visit_id)
    if current["agent_id"] != ws.agent_id:
        raise PermissionDeniedError("Seul l'auteur d'une visite peut la corriger.")
    row = clean_visit(ws, {**current, **changes})
    edit = {k: row[k] for k in VISIT_FIELDS if k in changes}
    contacts.refuse_identity_if_anonymised(ws, current["person_id"], "visits", edit)
    edit["revision"] = int(current["revision"]) + 1
    with ws.store.transaction():
        ws.update_row("visits", visit_id, edit)
    return get(ws, visit_id)


PRIVATE_NOTE_WITHHELD = "Note privée (réservée à son auteur et aux coordinateurs)"


def shown_note(visit: dict[str, Any]) -> str:
    """A visit's note as lists show it: a private note is marked; one the server withheld from
    this agent (a colleague's private note) says so instead of looking empty."""
    note = str(visit.get("notes") or "")
    if not visit.get("notes_private"):
        return note
    return f"Privée : {note}" if note else PRIVATE_NOTE_WITHHELD


def get(ws: Workspace, visit_id: str) -> dict[str, Any]:
    return ws.get_row("visits", visit_id)


def _journal_where(
    person_id: str | None,
    agent_id: str | None,
    territory_id: str | None,
    kind: str | None,
    outcome: str | None,
    since: str | None,
    until: str | None,
) -> tuple[str, list[Any]]:
    where = ["v.deleted = 0"]
    params: list[Any] = []
    for column, value in (
        ("v.person_id", person_id),
        ("v.agent_id", agent_id),
        ("c.territory_id", territory_id),
        ("v.kind", kind),
        ("v.outcome", outcome),
    ):
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if since:
        where.append("v.occurred_at >= ?")
        params.append(since)
    if until:
        where.append("v.occurred_at < ?")
        params.append(until)
    return " AND ".join(where), params


JOURNAL_COLUMNS = (
    "v.rowid AS rowid, v.*, c.family_name, c.given_names, c.organisation_name, c.kind AS "
    "contact_kind, c.territory_id, c.anonymised_on"
)


def journal(
    ws: Workspace,
    *,
    person_id: str | None = None,
    agent_id: str | None = None,
    territory_id: str | None = None,
    kind: str | None = None,
    outcome: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """A page of the visit journal, newest first, with filters."""
    _require_visit_role(ws)
    where, params = _journal_where(person_id, agent_id, territory_id, kind, outcome, since, until)
    sql = (
        f"SELECT {JOURNAL_COLUMNS} FROM visits v JOIN contacts c ON c.id = v.person_id "
        f"WHERE {where} ORDER BY v.occurred_at DESC, v.rowid DESC LIMIT ? OFFSET ?"
    )
    return [decode_row(r) for r in ws.store.query(sql, (*params, limit, offset))]


def journal_rowids(
    ws: Workspace,
    *,
    person_id: str | None = None,
    agent_id: str | None = None,
    territory_id: str | None = None,
    kind: str | None = None,
    outcome: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> array[int]:
    """The journal's row numbers in display order (4 bytes a visit), for lazy lists."""
    _require_visit_role(ws)
    where, params = _journal_where(person_id, agent_id, territory_id, kind, outcome, since, until)
    join = " JOIN contacts c ON c.id = v.person_id" if territory_id else ""
    # 4 bytes a row number while they fit (4 billion visits), 8 after: 4 MB less a million.
    ids: array[int] = array("I")
    with ws.store.lean_cache():  # a million index entries, read once
        cursor = ws.store.conn.execute(
            f"SELECT v.rowid FROM visits v{join} WHERE {where} "
            "ORDER BY v.occurred_at DESC, v.rowid DESC",
            params,
        )
        while True:
            chunk = [r[0] for r in cursor.fetchmany(10_000)]  # transient: kept small
            if not chunk:
                return ids
            before = len(ids)
            try:
                ids.extend(chunk)
            except OverflowError:  # a row number past 2**32 - 1 (or negative): 8 bytes each
                ids = array("q", ids[:before])
                ids.extend(chunk)


def journal_rows(ws: Workspace, rowids: list[int]) -> list[dict[str, Any]]:
    """The journal rows for these row numbers, in the same order."""
    if not rowids:
        return []
    marks = ",".join("?" for _ in rowids)
    rows = ws.store.query(
        f"SELECT {JOURNAL_COLUMNS} FROM visits v JOIN contacts c ON c.id = v.person_id "
        f"WHERE v.rowid IN ({marks})",
        tuple(rowids),
    )
    by_rowid = {r["rowid"]: decode_row(r) for r in rows}
    return [by_rowid[r] for r in rowids if r in by_rowid]


# -- planned contacts -----------------------------------------------------------------------


def plan_contact(ws: Workspace, person_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """A scheduled visit or call, or a follow-up; due dates may be in the future."""
    check = Checker()
    due_on = check.date(values, "due_on", "Date prévue", today=ws.clock.today(), required=True)
    kind = check.choice(values, "kind", "Type de contact prévu", PLANNED_KINDS)
    reason = check.optional_text(values, "reason")
    agent_id = values.get("agent_id") or ws.agent_id
    if not agent_id:
        check.fail("agent_id", "Agent : ce champ est obligatoire.")
    check.raise_if_any()
    ws.get_row("contacts", person_id)
    contacts.refuse_identity_if_anonymised(ws, person_id, "planned_contacts", {"reason": reason})
    with ws.store.transaction():
        row = ws.write_row(
            "planned_contacts",
            {
                "person_id": person_id,
                "agent_id": agent_id,
                "due_on": due_on,
                "kind": kind,
                "reason": reason,
                "updated_at": ws.clock.now_iso(),
            },
        )
    return ws.get_row("planned_contacts", row["id"])


def cancel_planned(ws: Workspace, planned_id: str) -> dict[str, Any]:
    with ws.store.transaction():
        ws.update_row("planned_contacts", planned_id, {"cancelled": True})
    return ws.get_row("planned_contacts", planned_id)


def due_contacts(ws: Workspace, on: date, agent_id: str | None = None) -> list[dict[str, Any]]:
    """Planned contacts due on or before `on` and not yet done, in the order of a round:
    by territory, then street and number (an overdue one is marked, not put first)."""
    rows = ws.store.query(
        "SELECT p.*, c.family_name, c.given_names, c.territory_id, c.kind AS contact_kind, "
        "c.organisation_name, c.address_line, c.postcode, c.city, c.phone_1, c.phone_2, "
        "c.access_notes, c.anonymised_on, t.sort AS territory_sort FROM planned_contacts p "
        "JOIN contacts c ON c.id = p.person_id "
        "LEFT JOIN ref_territories t ON t.id = c.territory_id WHERE p.agent_id = ? "
        "AND p.due_on <= ? AND p.done_by_visit_id IS NULL AND p.cancelled = 0 "
        "AND p.deleted = 0 AND c.deleted = 0",
        (agent_id or ws.agent_id, on.isoformat()),
    )
    return sorted((decode_row(r) for r in rows), key=round_order)


_HOUSE_NUMBER = re.compile(r"^\s*(\d+)\s*(bis|ter|quater|[a-z])?\b[\s,]*", re.IGNORECASE)


def round_order(row: dict[str, Any]) -> tuple[Any, ...]:
    """Territory, then street (accents and case ignored, as in a map's street index), then
    house number, then name: "3 rue Émile-Zola" before "12 rue Émile-Zola"."""
    address = str(row.get("address_line") or "").split(",")[0]
    found = _HOUSE_NUMBER.match(address)
    number = int(found.group(1)) if found else 0
    street = address[found.end() :] if found else address
    folded = "".join(
        c for c in unicodedata.normalize("NFD", street.casefold()) if not unicodedata.combining(c)
    )
    return (
        row.get("territory_sort") if row.get("territory_sort") is not None else 999,
        folded.strip(),
        number,
        str(row.get("family_name") or row.get("organisation_name") or "").casefold(),
    )


def next_working_day(day: date) -> date:
    """The day after `day`, Saturday and Sunday skipped (a new try after an absence)."""
    following = day + timedelta(days=1)
    while following.weekday() >= 5:
        following += timedelta(days=1)
    return following


def not_seen_since(
    ws: Workspace, days: int, territory_ids: list[str], limit: int = 100
) -> list[dict[str, Any]]:
    """Persons of these territories with no visit for more than `days` days, longest first.

    Reads the latest visit the store keeps on each person (``last_visit_at``, migration
    0005) through a partial index, one territory at a time: the cost follows `limit`,
    not the number of visits. ``last_visit`` is None for a person never visited.
    """
    cutoff = (ws.clock.today() - timedelta(days=days)).isoformat()
    found: list[dict[str, Any]] = []
    for territory in dict.fromkeys(territory_ids):
        found += ws.store.query(
            "SELECT *, last_visit_at AS last_visit FROM contacts "
            "WHERE kind = 'person' AND deleted = 0 AND archived = 0 "
            "AND territory_id = ? AND last_visit_at < ? ORDER BY last_visit_at LIMIT ?",
            (territory, cutoff, limit),
        )
    found.sort(key=lambda r: (r["last_visit_at"], r["seq"]))
    rows = [decode_row(r) for r in found[:limit]]
    for row in rows:
        row["last_visit"] = row["last_visit"] or None
    return rows


# -- reception desk -------------------------------------------------------------------------


def count_encounter(ws: Workspace, values: dict[str, Any]) -> dict[str, Any]:
    """An anonymous count at a mairie annexe: need, territory, age group; no person."""
    check = Checker()
    territory = check.choice(values, "territory_id", "Territoire", ws.reference("territories"))
    need = check.choice(values, "need_id", "Besoin", ws.reference("need_kinds"))
    age_group = check.choice(
        values, "age_group_id", "Tranche d'âge", ws.reference("age_groups"), required=False
    )
    if not ws.agent_id:
        check.fail("agent_id", "Aucun agent n'est associé à ce profil.")
    check.raise_if_any()
    with ws.store.transaction():
        row = ws.write_row(
            "reception_encounters",
            {
                "occurred_at": ws.clock.now_iso(),
                "territory_id": territory,
                "need_id": need,
                "age_group_id": age_group,
                "agent_id": ws.agent_id,
                "facility_id": values.get("facility_id"),
            },
        )
    return ws.get_row("reception_encounters", row["id"])


# -- handouts given ---------------------------------------------------------------------------


def record_handout(
    ws: Workspace,
    action_ids: list[str],
    *,
    person_id: str | None = None,
    variant: str = "large",
    visit_id: str | None = None,
    territory_id: str | None = None,
) -> dict[str, Any]:
    """Who received which actions on paper (synced; counts in the evaluation of actions)."""
    if variant not in {"large", "very-large"}:
        raise ValidationError({"variant": f"Variante d'impression inconnue : « {variant} »."})
    if not action_ids:
        raise ValidationError({"action_ids": "Choisissez au moins une action à imprimer."})
    with ws.store.transaction():
        row = ws.write_row(
            "handouts_given",
            {
                "person_id": person_id,
                "agent_id": ws.agent_id or "",
                "given_at": ws.clock.now_iso(),
                "action_ids": list(action_ids),
                "variant": variant,
                "visit_id": visit_id,
                "territory_id": territory_id,
            },
        )
        audit.record(ws, "impression", "handouts_given", row["id"], {"actions": len(action_ids)})
    return ws.get_row("handouts_given", row["id"])


def planned_for_person(ws: Workspace, person_id: str) -> list[dict[str, Any]]:
    """Planned contacts of one person not yet done or cancelled, soonest first."""
    rows = ws.store.query(
        "SELECT * FROM planned_contacts WHERE person_id = ? AND done_by_visit_id IS NULL "
        "AND cancelled = 0 AND deleted = 0 ORDER BY due_on",
        (person_id,),
    )
    return [decode_row(r) for r in rows]


def day_plan(ws: Workspace, today: date, not_seen_days: int) -> dict[str, list[dict[str, Any]]]:
    """Ma journée: contacts due today or overdue, promised follow-ups, alert calls, and the
    persons of the agent's territories not contacted for longer than `not_seen_days`."""
    due = due_contacts(ws, today)
    agent = ws.store.query_one("SELECT territory_ids FROM agents WHERE id = ?", (ws.agent_id,))
    territories = decode_row(agent)["territory_ids"] if agent else []
    return {
        "due": [p for p in due if p["kind"] in ("visite", "appel")],
        "follow_ups": [p for p in due if p["kind"] in PROMISED_KINDS],
        "alerts": [p for p in due if p["kind"] == "appel-alerte"],
        "not_seen": not_seen_since(ws, not_seen_days, territories, limit=100),
    }
