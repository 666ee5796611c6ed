"""Alert campaigns on the agent's laptop: her call list, the outcomes she records, progress.

Everything here works offline, from the synced rows: ``alert_campaigns`` and
``campaign_calls`` come from the server (a coordinator starts, reassigns and closes a
campaign online, :mod:`havre_desktop.sync.transport`), ``campaign_outcomes`` are written here
(append-only events, sent up at the next sync, never in conflict). The rules of a call (call
again, emergency contact, visit today, escalation) are :mod:`havre_common.campaign`'s, shared
with the server.

The campaign tables serve the alert plan only (contract purpose ``alert-plan``): only agents
with the register right read or write them (:func:`require_right`).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from havre_common import campaign as rules
from havre_common import contract
from havre_common.values import parse_datetime
from havre_desktop.core import agents
from havre_desktop.core.clock import iso_utc
from havre_desktop.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from havre_desktop.core.workspace import Workspace, decode_row

log = logging.getLogger("havre.core.campaign")

RIGHT_NEEDED = (
    "Votre compte n'a pas accès au registre des personnes vulnérables ni aux campagnes "
    "d'alerte : demandez ce droit à votre coordinateur."
)
CLOSED = "Cette campagne est close : plus aucun résultat ne peut y être enregistré."
READS = ("alert_campaigns", "campaign_calls", "campaign_outcomes", "contacts", "agents")


def require_right(ws: Workspace) -> None:
    if not agents.has_register_right(ws):
        raise PermissionDeniedError(RIGHT_NEEDED)


def _check(ws: Workspace) -> None:
    require_right(ws)
    contract.check_purpose(READS, contract.ALERT_PLAN)


# -- campaigns ------------------------------------------------------------------------------------


def active_campaigns(ws: Workspace) -> list[dict[str, Any]]:
    """The campaigns not closed yet, the latest first."""
    _check(ws)
    rows = ws.store.query(
        "SELECT * FROM alert_campaigns WHERE deleted = 0 AND closed_on IS NULL "
        "ORDER BY starts_on DESC, updated_at DESC"
    )
    return [decode_row(r) for r in rows]


def get_campaign(ws: Workspace, campaign_id: str) -> dict[str, Any]:
    _check(ws)
    row = ws.store.query_one(
        "SELECT * FROM alert_campaigns WHERE id = ? AND deleted = 0", (campaign_id,)
    )
    if row is None:
        raise NotFoundError("Cette campagne n'existe pas sur ce poste (synchronisez).")
    return decode_row(row)


def campaign_rules(row: dict[str, Any]) -> rules.CampaignRules:
    return rules.CampaignRules.from_row(row)


# -- the call list --------------------------------------------------------------------------------


@dataclass
class CallRow:
    """One person on an agent's call list, with everything needed to call her."""

    call_id: str
    person_id: str
    rank: int
    name: str
    birth_date: str | None
    phones: list[str]
    address: str
    territory_id: str | None
    floor: int | None
    lift: bool | None
    access_notes: str | None
    emergency_contacts: list[dict[str, Any]]
    risk_score: int
    risk_reasons: list[str]
    attempts: list[dict[str, Any]]
    step: rules.Step
    agent_id: str
    reassigned_to: str | None = None  # the call went to this agent (name): read only here
    reassigned_from: str | None = None  # it came from this agent (name)
    also_called_by: list[str] = field(default_factory=list)  # other agents' names

    @property
    def mine(self) -> bool:
        """Whether the agent whose list this is still holds the call."""
        return self.reassigned_to is None


def _names(ws: Workspace) -> dict[str, str]:
    return {
        str(r["id"]): str(r["display_name"])
        for r in ws.store.query("SELECT id, display_name FROM agents")
    }


def _name(names: dict[str, str], agent_id: str | None) -> str:
    if not agent_id:
        return ""
    return names.get(agent_id, "un autre agent")


def _attempt(row: dict[str, Any]) -> rules.Attempt:
    return rules.Attempt(
        str(row["outcome"]),
        str(row["called_whom"]),
        parse_datetime(str(row["called_at"])),
        bool(row["urgent"]),
    )


def _outcomes_by_person(
    ws: Workspace, campaign_id: str, person_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for start in range(0, len(person_ids), 500):
        chunk = person_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in ws.store.query(
            "SELECT id, call_id, person_id, agent_id, called_whom, outcome, urgent, note, "
            "offered_action_id, entered_by, called_at FROM campaign_outcomes "
            f"WHERE campaign_id = ? AND deleted = 0 AND person_id IN ({marks}) "
            "ORDER BY called_at, id",
            (campaign_id, *chunk),
        ):
            found[str(row["person_id"])].append(row)
    return found


def _address(row: dict[str, Any]) -> str:
    town = " ".join(str(row[k]) for k in ("postcode", "city") if row.get(k))
    return ", ".join(part for part in (row.get("address_line") or "", town) if part)


def call_list(
    ws: Workspace, campaign_id: str, agent_id: str | None = None, now: datetime | None = None
) -> list[CallRow]:
    """An agent's call list in its order (1 = most at risk), with the next step of each call.

    It also holds the calls the agent had before the coordinator reassigned them
    ("réattribuée à …", read only), and says when another agent recorded an outcome for the
    same person (``also_called_by``: shown, never hidden).
    """
    _check(ws)
    campaign = get_campaign(ws, campaign_id)
    agent_id = agent_id or ws.agent_id
    now = now or ws.clock.now()
    rule = campaign_rules(campaign)
    calls = ws.store.query(
        "SELECT k.id AS call_id, k.person_id, k.agent_id, k.rank, k.risk_score, k.risk_reasons, "
        "k.previous_agent_id, c.family_name, c.given_names, c.birth_date, c.phone_1, "
        "c.phone_2, c.address_line, c.postcode, c.city, c.territory_id, c.access_notes, "
        "c.emergency_contacts, "
        "(SELECT e.floor FROM register_enrolments e WHERE e.person_id = k.person_id "
        " AND e.deleted = 0 ORDER BY e.requested_on DESC LIMIT 1) AS floor, "
        "(SELECT e.lift FROM register_enrolments e WHERE e.person_id = k.person_id "
        " AND e.deleted = 0 ORDER BY e.requested_on DESC LIMIT 1) AS lift "
        "FROM campaign_calls k LEFT JOIN contacts c ON c.id = k.person_id "
        "WHERE k.campaign_id = ? AND k.deleted = 0 AND (k.agent_id = ? OR k.previous_agent_id = ?) "
        "ORDER BY k.agent_id <> ?, k.rank",
        (campaign_id, agent_id, agent_id, agent_id),
    )
    names = _names(ws)
    outcomes = _outcomes_by_person(ws, campaign_id, [str(r["person_id"]) for r in calls])
    result: list[CallRow] = []
    for row in calls:
        person_id = str(row["person_id"])
        done = outcomes.get(person_id, [])
        contacts_list = json.loads(row["emergency_contacts"] or "[]")
        step = rules.next_step(
            [_attempt(o) for o in done], rule, now, has_emergency_contact=bool(contacts_list)
        )
        holder = str(row["agent_id"])
        others = sorted(
            {_name(names, str(o["agent_id"])) for o in done if o["agent_id"] not in (agent_id,)}
        )
        name = (
            " ".join(part for part in (row.get("family_name"), row.get("given_names")) if part)
            or "(fiche non reçue)"
        )
        result.append(
            CallRow(
                call_id=str(row["call_id"]),
                person_id=person_id,
                rank=int(row["rank"]),
                name=name,
                birth_date=row.get("birth_date"),
                phones=[p for p in (row.get("phone_1"), row.get("phone_2")) if p],
                address=_address(row),
                territory_id=row.get("territory_id"),
                floor=row.get("floor"),
                lift=None if row.get("lift") is None else bool(row["lift"]),
                access_notes=row.get("access_notes"),
                emergency_contacts=contacts_list,
                risk_score=int(row["risk_score"] or 0),
                risk_reasons=json.loads(row["risk_reasons"] or "[]"),
                attempts=done,
                step=step,
                agent_id=holder,
                reassigned_to=None if holder == agent_id else _name(names, holder),
                reassigned_from=(
                    _name(names, row.get("previous_agent_id"))
                    if holder == agent_id and row.get("previous_agent_id")
                    else None
                ),
                also_called_by=others,
            )
        )
    return result


# -- recording an outcome -------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    """What one recorded outcome wrote: the event, the visit planned (if any), the next step."""

    outcome: dict[str, Any]
    planned_visit: dict[str, Any] | None
    step: rules.Step


def record_outcome(
    ws: Workspace,
    call_id: str,
    outcome: str,
    *,
    called_whom: str = rules.PERSON,
    note: str | None = None,
    urgent: bool = False,
    offered_action_id: str | None = None,
    called_at: datetime | None = None,
    for_agent_id: str | None = None,
) -> Recorded:
    """Record one call (or door knocked) in one transaction: the outcome, and the visit today
    when the next step is a home visit (needs help; nobody answering, the emergency contact
    neither). ``for_agent_id``: a coordinator typing the outcome of an agent's paper call
    sheet (she is recorded as ``entered_by``). The City's procedure (``called_whom`` =
    :data:`rules.CITY_PROCEDURE`: started, then what was found) is recorded by a coordinator
    in her own name."""
    _check(ws)
    coordinator = agents.current_role(ws) == contract.COORDINATOR
    refused = rules.outcome_error(called_whom, outcome, coordinator=coordinator)
    if refused:
        field = (
            "called_whom"
            if outcome in rules.OUTCOMES and called_whom not in rules.CALLEES
            else "outcome"
        )
        if called_whom == rules.CITY_PROCEDURE and not coordinator:
            raise PermissionDeniedError(refused)
        raise ValidationError({field: refused})
    note = (note or "").strip() or None
    call = ws.store.query_one(
        "SELECT * FROM campaign_calls WHERE id = ? AND deleted = 0", (call_id,)
    )
    if call is None:
        raise NotFoundError("Cet appel n'est plus sur votre liste (synchronisez).")
    campaign = get_campaign(ws, str(call["campaign_id"]))
    if campaign.get("closed_on"):
        raise ValidationError({"campaign": CLOSED})
    me = ws.agent_id
    entered_by = None
    caller = me
    if for_agent_id and for_agent_id != me:
        if not coordinator:
            raise PermissionDeniedError(
                "Seul un coordinateur saisit les résultats d'une feuille d'appels papier."
            )
        caller, entered_by = for_agent_id, me
    now = ws.clock.now()
    when = called_at or now
    if when > now:
        raise ValidationError(
            {"called_at": "Heure de l'appel : elle ne peut pas être dans le futur."}
        )
    person_id = str(call["person_id"])
    with ws.store.transaction():
        row = ws.write_row(
            "campaign_outcomes",
            {
                "campaign_id": call["campaign_id"],
                "call_id": call_id,
                "person_id": person_id,
                "agent_id": caller,
                "called_whom": called_whom,
                "outcome": outcome,
                "urgent": urgent,
                "note": note,
                "offered_action_id": offered_action_id,
                "entered_by": entered_by,
                "called_at": iso_utc(when),
                "created_at": ws.clock.now_iso(),
            },
        )
        attempts = _outcomes_by_person(ws, str(call["campaign_id"]), [person_id])[person_id]
        has_contact = bool(
            json.loads(
                str(
                    ws.store.scalar(
                        "SELECT emergency_contacts FROM contacts WHERE id = ?", (person_id,)
                    )
                    or "[]"
                )
            )
        )
        step = rules.next_step(
            [_attempt(a) for a in attempts],
            campaign_rules(campaign),
            now,
            has_emergency_contact=has_contact,
        )
        planned = None
        # A reception agent plans no visit (not hers to hold): the coordinator sees the step.
        if step.code == rules.VISIT_TODAY and agents.current_role(ws) in contract.CARE_ROLES:
            planned = _plan_visit(ws, person_id, str(caller), campaign, step)
    log.info("campaign outcome recorded", extra={"campaign": call["campaign_id"]})
    return Recorded(decode_row(row), planned, step)


def visit_reason(campaign: dict[str, Any], step: rules.Step) -> str:
    return f"Campagne « {campaign['title']} » : {step.label}"


def _plan_visit(
    ws: Workspace, person_id: str, agent_id: str, campaign: dict[str, Any], step: rules.Step
) -> dict[str, Any] | None:
    """A visit due today for this campaign, unless one is already planned for today."""
    today = ws.clock.today().isoformat()
    reason = visit_reason(campaign, step)
    open_today = ws.store.scalar(
        "SELECT id FROM planned_contacts WHERE person_id = ? AND due_on = ? AND deleted = 0 "
        "AND cancelled = 0 AND done_by_visit_id IS NULL AND kind = 'visite' "
        "AND reason LIKE ?",
        (person_id, today, f"Campagne « {campaign['title']} »%"),
    )
    if open_today:
        return None
    return ws.write_row(
        "planned_contacts",
        {
            "person_id": person_id,
            "agent_id": agent_id,
            "due_on": today,
            "kind": "visite",
            "reason": reason,
            "updated_at": ws.clock.now_iso(),
        },
    )


# -- progress (from the synced rows: the coordinator's view offline) ----------------------------


@dataclass
class TerritoryProgress:
    territory_id: str
    persons: int = 0
    reached: int = 0
    escalated: int = 0
    open: int = 0
    by_outcome: dict[str, int] = field(default_factory=dict)


@dataclass
class Progress:
    """A campaign's progress as this device knows it: by territory and by outcome, and who has
    not been reached yet (with the next step of each)."""

    campaign_id: str
    persons: int
    reached: int
    escalated: int
    territories: list[TerritoryProgress]
    not_reached: list[dict[str, Any]]
    for_coordinator: list[dict[str, Any]]
    called_twice: list[dict[str, Any]]


def local_progress(ws: Workspace, campaign_id: str, now: datetime | None = None) -> Progress:
    _check(ws)
    campaign = get_campaign(ws, campaign_id)
    now = now or ws.clock.now()
    rule = campaign_rules(campaign)
    calls = ws.store.query(
        "SELECT k.id, k.person_id, k.agent_id, k.rank, c.territory_id, c.family_name, "
        "c.given_names, c.emergency_contacts FROM campaign_calls k "
        "LEFT JOIN contacts c ON c.id = k.person_id "
        "WHERE k.campaign_id = ? AND k.deleted = 0 ORDER BY c.territory_id, k.agent_id, k.rank",
        (campaign_id,),
    )
    outcomes = _outcomes_by_person(ws, campaign_id, [str(r["person_id"]) for r in calls])
    names = _names(ws)
    visitors = {
        str(r["id"])
        for r in ws.store.query("SELECT id, role FROM agents")
        if r["role"] in contract.CARE_ROLES
    }
    by_territory: dict[str, TerritoryProgress] = {}
    not_reached: list[dict[str, Any]] = []
    coordinator: list[dict[str, Any]] = []
    twice: list[dict[str, Any]] = []
    reached = escalated = 0
    for row in calls:
        done = outcomes.get(str(row["person_id"]), [])
        attempts = [_attempt(o) for o in done]
        step = rules.next_step(
            attempts,
            rule,
            now,
            has_emergency_contact=bool(json.loads(row["emergency_contacts"] or "[]")),
        )
        territory = str(row["territory_id"] or "")
        t = by_territory.setdefault(territory, TerritoryProgress(territory))
        t.persons += 1
        key = step.outcome or "a-appeler"
        t.by_outcome[key] = t.by_outcome.get(key, 0) + 1
        name = " ".join(p for p in (row.get("family_name"), row.get("given_names")) if p)
        entry = {
            "call_id": row["id"],
            "person_id": row["person_id"],
            "name": name,
            "territory_id": territory,
            "agent": _name(names, str(row["agent_id"])),
            "step": step,
        }
        if step.reached:
            t.reached += 1
            reached += 1
        else:
            not_reached.append(entry)
        if rules.escalated(attempts, step):
            t.escalated += 1
            escalated += 1
        elif step.open:
            t.open += 1
        told = rules.coordinator_label(step, holder_makes_visits=str(row["agent_id"]) in visitors)
        if told:
            coordinator.append({**entry, "told": told})
        callers = {str(o["agent_id"]) for o in done}
        if len(callers) > 1:
            twice.append({**entry, "agents": sorted(_name(names, a) for a in callers)})
    return Progress(
        campaign_id,
        len(calls),
        reached,
        escalated,
        [by_territory[k] for k in sorted(by_territory)],
        not_reached,
        coordinator,
        twice,
    )
