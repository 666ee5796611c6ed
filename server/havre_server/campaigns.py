"""Alert campaigns on the server: start (call lists), progress, reassignment, close, daily figures.

A coordinator (her territories) or an administrator, both with the register right, starts a
campaign: the persons on the register (live enrolments: enrolled, not removed, not objected)
living in the chosen territories are read in one query with what their risk is computed from
(:func:`havre_common.campaign.risk_score`), split among the chosen agents
(:func:`havre_common.campaign.split_calls`: each on one list, balanced, an agent's own
territory) and written in a few bulk statements with their change-log entries. The lists
then travel by the ordinary pull (``campaign`` audience, havre_server.scope): an agent gets
her own calls and those she held before a reassignment; a coordinator every call of her
territories. Outcomes come back by push (append-only, ``push._campaign_outcome``).

Progress and the daily figures run the same rules as the laptops
(:func:`havre_common.campaign.next_step`) over the outcomes received. Every operation is
audited (ids and counts only). Names never leave the server here: the coordinator's device
holds the fiches and shows them.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Text,
    cast,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)

from havre_common import campaign as rules
from havre_common import contract
from havre_common.protocol import (
    CampaignClose,
    CampaignClosed,
    CampaignDaily,
    CampaignDay,
    CampaignList,
    CampaignPerson,
    CampaignProgress,
    CampaignReassign,
    CampaignReassigned,
    CampaignStart,
    CampaignStarted,
    CampaignTerritory,
)
from havre_server import schema
from havre_server.admin import server_audit
from havre_server.changelog import ChangeBuffer, Entry, Ordering, flush
from havre_server.db import dumps, is_postgres
from havre_server.domain import decode, entry_for, load_row
from havre_server.errors import ApiError, forbidden, not_found
from havre_server.push import iso_now
from havre_server.reference import Reference
from havre_server.scope import ADMINISTRATOR, COORDINATOR, PERSON_ROLES, Principal

log = logging.getLogger("havre.server.campaigns")

PARIS = ZoneInfo("Europe/Paris")
NOT_ALLOWED = (
    "Les campagnes d'alerte sont lancées et suivies par les coordinateurs et les "
    "administrateurs qui ont accès au registre des personnes vulnérables."
)
ONLY_HERS = "Un coordinateur lance et suit les campagnes de ses territoires seulement."
CLOSED = "Cette campagne est close : elle ne peut plus être modifiée."
DIFFICULT = ("besoin-aide", "hospitalise")


def _require(actor: Principal | None, territories: Iterable[str]) -> None:
    """Coordinators of every territory concerned and administrators, with the register right
    (``None``: the operator on the server's command line)."""
    if actor is None:
        return
    if actor.role == ADMINISTRATOR and actor.register_right:
        return
    if actor.role == COORDINATOR and actor.sees_register:
        if not set(territories) <= set(actor.territories):
            raise forbidden(ONLY_HERS)
        return
    raise forbidden(NOT_ALLOWED)


def _campaign(conn: Connection, campaign_id: str) -> dict[str, Any]:
    row = load_row(conn, schema.alert_campaigns, campaign_id)
    if row is None or row["deleted"]:
        raise not_found("Campagne introuvable.")
    return row


def _campaign_entries(row: dict[str, Any], buffer: ChangeBuffer) -> None:
    """A campaign row reaches the register-right agents of each of its territories."""
    for territory in row["territory_ids"]:
        buffer.add(entry_for("alert_campaigns", row, territory_id=territory))


def _call_entry(row: dict[str, Any], territory: str) -> Entry:
    return entry_for("campaign_calls", row, territory_id=territory)


def _age(birth: str | None, today: date) -> int | None:
    if not birth:
        return None
    try:
        born = date.fromisoformat(str(birth)[:10])
    except ValueError:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _days_since(moment: str | None, today: date) -> int | None:
    if not moment:
        return None
    try:
        return (today - date.fromisoformat(str(moment)[:10])).days
    except ValueError:
        return None


def eligible_persons(
    conn: Connection, territories: list[str], today: date
) -> list[rules.Candidate]:
    """The persons on the register living in these territories, with their risk (one query)."""
    c, e, v, o = (
        schema.contacts,
        schema.register_enrolments,
        schema.visits,
        schema.campaign_outcomes,
    )
    live = (
        select(
            e.c.person_id,
            func.max(e.c.help_at_home).label("help_at_home"),
            func.max(e.c.floor).label("floor"),
            func.min(e.c.lift).label("lift"),
        )
        .where(
            e.c.deleted == 0,
            e.c.status == "inscrite",
            e.c.removed_on.is_(None),
            e.c.objected_on.is_(None),
        )
        .group_by(e.c.person_id)
        .subquery("live")
    )
    last_visit = (
        select(func.max(v.c.occurred_at))
        .where(v.c.person_id == c.c.id, v.c.deleted == 0)
        .scalar_subquery()
    )
    difficult = exists().where(
        o.c.person_id == c.c.id,
        o.c.deleted == 0,
        or_(o.c.outcome.in_(DIFFICULT), o.c.urgent == 1, o.c.called_whom == "visite-domicile"),
    )
    query = (
        select(
            c.c.id,
            c.c.territory_id,
            c.c.address_line,
            c.c.lives_alone,
            c.c.mobility,
            (func.coalesce(c.c.emergency_contacts, "[]") != "[]").label("has_contact"),
            c.c.birth_date,
            live.c.help_at_home,
            live.c.floor,
            live.c.lift,
            last_visit.label("last_visit"),
            difficult.label("difficult"),
        )
        .join(live, live.c.person_id == c.c.id)
        .where(
            c.c.deleted == 0,
            c.c.kind == "person",
            c.c.anonymised_on.is_(None),
            c.c.territory_id.in_(sorted(territories)),
        )
    )
    found: list[rules.Candidate] = []
    for row in conn.execute(query):
        score, reasons = rules.risk_score(
            rules.RiskFeatures(
                lives_alone=bool(row.lives_alone),
                emergency_contacts=int(bool(row.has_contact)),
                mobility=row.mobility,
                help_at_home=bool(row.help_at_home),
                floor=row.floor,
                lift=None if row.lift is None else bool(row.lift),
                days_since_contact=_days_since(row.last_visit, today),
                previous_campaign_difficult=bool(row.difficult),
                age=_age(row.birth_date, today),
            )
        )
        found.append(
            rules.Candidate(
                str(row.id),
                str(row.territory_id),
                score,
                rules.street_of(row.address_line),
                tuple(reasons),
            )
        )
    return found


def _call_agents(conn: Connection, agent_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The agents asked for, with their territories (unknown ones left out)."""
    a, at = schema.agents, schema.agent_territories
    found: dict[str, dict[str, Any]] = {}
    for row in conn.execute(
        select(a.c.id, a.c.role, a.c.register_right, a.c.deleted, a.c.display_name).where(
            a.c.id.in_(sorted(set(agent_ids)))
        )
    ):
        found[str(row.id)] = {
            "role": row.role,
            "register_right": bool(row.register_right),
            "deleted": bool(row.deleted),
            "territories": set(),
        }
    for place in conn.execute(
        select(at.c.agent_id, at.c.territory_id).where(at.c.agent_id.in_(sorted(found)))
    ):
        found[str(place.agent_id)]["territories"].add(str(place.territory_id))
    return found


def _check_agents(
    found: dict[str, dict[str, Any]], agent_ids: list[str], territories: list[str]
) -> None:
    missing = [a for a in agent_ids if a not in found or found[a]["deleted"]]
    if missing:
        raise ApiError("invalid_request", f"Agent inconnu : {', '.join(missing)}.")
    without = [
        a
        for a in agent_ids
        if not (found[a]["register_right"] and found[a]["role"] in PERSON_ROLES)
    ]
    if without:
        raise ApiError(
            "invalid_request",
            f"{len(without)} agent(s) choisi(s) n'ont pas accès au registre : une liste "
            "d'appels ne peut être confiée qu'à un agent qui a ce droit.",
            details=without,
        )
    elsewhere = [a for a in agent_ids if not found[a]["territories"] & set(territories)]
    if elsewhere:
        raise ApiError(
            "invalid_request",
            f"{len(elsewhere)} agent(s) choisi(s) ne travaillent sur aucun territoire de la "
            "campagne.",
            details=elsewhere,
        )


def start_campaign(
    engine: Engine,
    actor: Principal | None,
    request: CampaignStart,
    ref: Reference,
    ordering: Ordering,
) -> CampaignStarted:
    territories = list(dict.fromkeys(request.territory_ids))
    unknown = [t for t in territories if t not in ref.territories]
    if unknown:
        raise ApiError("invalid_request", f"Territoire inconnu : {', '.join(unknown)}.")
    _require(actor, territories)
    try:
        starts = date.fromisoformat(request.starts_on)
        ends = date.fromisoformat(request.expected_end_on) if request.expected_end_on else None
    except ValueError:
        raise ApiError("invalid_request", "Date invalide (AAAA-MM-JJ).") from None
    if ends is not None and ends < starts:
        raise ApiError("invalid_request", "La fin prévue précède le début de la campagne.")
    title = request.title.strip()
    if not title:
        raise ApiError("invalid_request", "Intitulé : ce champ est obligatoire.")
    agent_ids = list(dict.fromkeys(request.agent_ids))
    campaign_id = str(uuid.uuid4())
    stamp = iso_now()
    buffer = ChangeBuffer()
    with engine.begin() as conn:
        found = _call_agents(conn, agent_ids)
        _check_agents(found, agent_ids, territories)
        covered = set().union(*(found[a]["territories"] for a in agent_ids))
        uncovered = [t for t in territories if t not in covered]
        if uncovered:
            names = ", ".join(ref.territories[t] for t in uncovered)
            raise ApiError(
                "invalid_request",
                f"Aucun agent choisi ne travaille sur : {names}. Ajoutez-en un pour que chaque "
                "personne du registre soit appelée.",
            )
        persons = eligible_persons(conn, territories, datetime.now(PARIS).date())
        lists = rules.split_calls(
            persons,
            [
                rules.CallAgent(a, frozenset(found[a]["territories"] & set(territories)))
                for a in agent_ids
            ],
        )
        row = {
            "id": campaign_id,
            "kind": request.kind,
            "level": request.level,
            "title": title,
            "territory_ids": dumps(territories),
            "starts_on": request.starts_on,
            "expected_end_on": request.expected_end_on,
            "closed_on": None,
            "retry_delay_min": request.retry_delay_min,
            "failed_calls_before_emergency": request.failed_calls_before_emergency,
            "created_by": None if actor is None else actor.agent_id,
            "updated_at": stamp,
            "server_version": 1,
        }
        conn.execute(insert(schema.alert_campaigns).values(**row))
        campaign = _campaign(conn, campaign_id)
        _campaign_entries(campaign, buffer)
        calls: list[dict[str, Any]] = []
        for agent_id, chosen in lists.items():
            for rank, person in enumerate(chosen, start=1):
                calls.append(
                    {
                        "id": str(uuid.uuid4()),
                        "campaign_id": campaign_id,
                        "person_id": person.person_id,
                        "agent_id": agent_id,
                        "rank": rank,
                        "risk_score": person.score,
                        # Reason ids are plain codes of the contract (no quote to escape).
                        "risk_reasons": "[" + ",".join(f'"{r}"' for r in person.reasons) + "]",
                        "previous_agent_id": None,
                        "assigned_at": stamp,
                        "updated_at": stamp,
                        "server_version": 1,
                        "deleted": 0,
                    }
                )
        if calls:
            # The first holder of a call is its agent_id (push checks both): only a
            # reassignment writes campaign_call_holders.
            conn.execute(insert(schema.campaign_calls), calls)
        audit_id = server_audit(
            conn,
            actor,
            "campagne-lancee",
            "alert_campaigns",
            campaign_id,
            {
                "territoires": ":".join(territories),
                "personnes": len(calls),
                "agents": len(agent_ids),
                "niveau": request.level,
                "type": request.kind,
            },
        )
        flush(conn, buffer, ordering, seqs=False)  # takes the log's lock (PostgreSQL)
        _log_calls(conn, campaign_id)
    log.info(
        "campaign started campaign=%s persons=%d agents=%d", campaign_id, len(calls), len(agent_ids)
    )
    return CampaignStarted(
        campaign_id=campaign_id,
        persons=len(calls),
        lists=[CampaignList(agent_id=a, calls=len(lists.get(a, []))) for a in agent_ids],
        audit_id=audit_id,
    )


def _log_calls(conn: Connection, campaign_id: str) -> None:
    """The change-log entries of a new campaign's calls, written set-wise (one INSERT …
    SELECT: the row as JSON built by the database, for the call's holder and coordinators
    of the person's territory), after the campaign's own entries."""
    k, c = schema.campaign_calls, schema.contacts
    postgres = is_postgres(conn)
    pairs: list[Any] = []
    for column in k.c:
        if column.name in ("server_version", "deleted"):
            continue
        value: Any = column
        if column.name == "risk_reasons":
            value = cast(column, JSON) if postgres else func.json(column)
        pairs += [literal_column(f"'{column.name}'"), value]
    if postgres:
        fields: Any = cast(func.json_build_object(*pairs), Text)
        agents: Any = cast(func.json_build_array(k.c.agent_id), Text)
    else:
        fields, agents = func.json_object(*pairs), func.json_array(k.c.agent_id)
    rows = (
        select(
            literal_column("'campaign_calls'"),
            k.c.id,
            literal_column("'upsert'"),
            fields,
            k.c.server_version,
            literal_column("'campaign'"),
            c.c.territory_id,
            agents,
            k.c.person_id,
            literal_column(str(int(time.time() * 1000))),
        )
        .join(c, c.c.id == k.c.person_id)
        .where(k.c.campaign_id == campaign_id)
        .order_by(k.c.agent_id, k.c.rank)
    )
    names = ("table_name", "row_id", "op", "fields", "server_version", "audience")
    conn.execute(
        insert(schema.change_log).from_select(
            [*names, "territory_id", "scope_agent_ids", "person_id", "created_at_ms"], rows
        )
    )


# -- where the calls stand -------------------------------------------------------------------------


@dataclass
class CallState:
    call: dict[str, Any]
    territory_id: str
    attempts: list[rules.Attempt]
    callers: list[str]
    step: rules.Step
    has_contact: bool


def _states(conn: Connection, campaign: dict[str, Any], now: datetime) -> list[CallState]:
    k, c, o = schema.campaign_calls, schema.contacts, schema.campaign_outcomes
    outcomes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(
        select(o.c.call_id, o.c.agent_id, o.c.outcome, o.c.called_whom, o.c.called_at, o.c.urgent)
        .where(o.c.campaign_id == campaign["id"], o.c.deleted == 0)
        .order_by(o.c.called_at, o.c.id)
    ):
        outcomes[str(row.call_id)].append(dict(row._mapping))
    rule = rules.CampaignRules.from_row(campaign)
    states: list[CallState] = []
    for row in conn.execute(
        select(k, c.c.territory_id.label("person_territory"), c.c.emergency_contacts)
        .join(c, c.c.id == k.c.person_id)
        .where(k.c.campaign_id == campaign["id"], k.c.deleted == 0, c.c.deleted == 0)
        .order_by(c.c.territory_id, k.c.agent_id, k.c.rank)
    ):
        call = decode(dict(row._mapping))
        done = outcomes.get(call["id"], [])
        attempts = [
            rules.Attempt(
                str(a["outcome"]),
                str(a["called_whom"]),
                datetime.fromisoformat(str(a["called_at"]).replace("Z", "+00:00")),
                bool(a["urgent"]),
            )
            for a in done
        ]
        has_contact = bool(call.get("emergency_contacts"))
        states.append(
            CallState(
                call,
                str(call["person_territory"]),
                attempts,
                sorted({str(a["agent_id"]) for a in done}),
                rules.next_step(attempts, rule, now, has_emergency_contact=has_contact),
                has_contact,
            )
        )
    return states


def _person(state: CallState, label: str | None = None) -> CampaignPerson:
    step = state.step
    return CampaignPerson(
        call_id=state.call["id"],
        person_id=state.call["person_id"],
        territory_id=state.territory_id,
        agent_id=state.call["agent_id"],
        step=step.code,
        label=label or step.label,
        failed_calls=step.failed_calls,
        urgent=step.urgent,
        outcome=step.outcome,
        called_by=state.callers,
    )


def progress(
    engine: Engine, actor: Principal | None, campaign_id: str, now: datetime | None = None
) -> CampaignProgress:
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        campaign = _campaign(conn, campaign_id)
        _require(actor, campaign["territory_ids"])
        states = _states(conn, campaign, now)
        holders = _call_agents(conn, [s.call["agent_id"] for s in states])
    by_territory: dict[str, dict[str, Any]] = {}
    for state in states:
        t = by_territory.setdefault(
            state.territory_id,
            {"persons": 0, "reached": 0, "escalated": 0, "open": 0, "by_outcome": {}},
        )
        t["persons"] += 1
        key = state.step.outcome or rules.TO_CALL
        t["by_outcome"][key] = t["by_outcome"].get(key, 0) + 1
        t["reached"] += state.step.reached
        t["escalated"] += rules.escalated(state.attempts, state.step)
        t["open"] += state.step.open

    def makes_visits(state: CallState) -> bool:
        holder = holders.get(str(state.call["agent_id"]))
        return holder is not None and holder["role"] in contract.CARE_ROLES

    return CampaignProgress(
        campaign_id=campaign_id,
        title=campaign["title"],
        closed_on=campaign["closed_on"],
        persons=len(states),
        reached=sum(s.step.reached for s in states),
        escalated=sum(rules.escalated(s.attempts, s.step) for s in states),
        territories=[
            CampaignTerritory(territory_id=t, **by_territory[t]) for t in sorted(by_territory)
        ],
        not_reached=[_person(s) for s in states if not s.step.reached],
        for_coordinator=[
            _person(s, told)
            for s in states
            if (told := rules.coordinator_label(s.step, holder_makes_visits=makes_visits(s)))
        ],
        called_twice=[_person(s) for s in states if len(s.callers) > 1],
    )


# -- reassignment ----------------------------------------------------------------------------------


def reassign(
    engine: Engine,
    actor: Principal | None,
    campaign_id: str,
    request: CampaignReassign,
    ordering: Ordering,
) -> CampaignReassigned:
    """Move the open calls of an unreachable agent to another. The former holder keeps them
    on her device, marked "réattribuée à …"; her outcomes recorded offline before she syncs
    are still accepted and counted (the person then shows as called by two agents)."""
    if request.from_agent_id == request.to_agent_id:
        raise ApiError("invalid_request", "Choisissez un autre agent pour reprendre ces appels.")
    buffer = ChangeBuffer()
    now = datetime.now(UTC)
    stamp = iso_now()
    k = schema.campaign_calls
    with engine.begin() as conn:
        campaign = _campaign(conn, campaign_id)
        _require(actor, campaign["territory_ids"])
        if campaign["closed_on"]:
            raise ApiError("conflict", CLOSED)
        found = _call_agents(conn, [request.to_agent_id])
        _check_agents(found, [request.to_agent_id], list(campaign["territory_ids"]))
        theirs = {
            s.call["id"]: s
            for s in _states(conn, campaign, now)
            if s.call["agent_id"] == request.from_agent_id
        }
        if request.call_ids is not None:
            stray = [i for i in request.call_ids if i not in theirs]
            if stray:
                raise ApiError(
                    "invalid_request",
                    f"{len(stray)} appel(s) ne sont pas sur la liste de cet agent.",
                    details=stray,
                )
            moving = [theirs[i] for i in request.call_ids]
        else:
            moving = [s for s in theirs.values() if s.step.open]
        outside = [
            s.call["id"]
            for s in moving
            if s.territory_id not in found[request.to_agent_id]["territories"]
        ]
        if outside:
            raise ApiError(
                "invalid_request",
                f"{len(outside)} appel(s) concernent un territoire où cet agent ne travaille "
                "pas : il ne recevrait pas leurs fiches.",
                details=outside,
            )
        ranks = _ranks_after(conn, campaign_id, request.to_agent_id, [s.call["id"] for s in moving])
        h = schema.campaign_call_holders
        # Every holder of a call, so a former one's late outcome is still accepted (the
        # first holder was only the call's agent_id until now).
        held = {
            (str(r.call_id), str(r.agent_id))
            for r in conn.execute(
                select(h.c.call_id, h.c.agent_id).where(
                    h.c.call_id.in_([s.call["id"] for s in moving])
                )
            )
        }
        o = schema.campaign_outcomes
        # The receiver's calls already there move down where a moved one is more at risk.
        moving_ids = {s.call["id"] for s in moving}
        for row in conn.execute(
            select(k, schema.contacts.c.territory_id.label("person_territory"))
            .join(schema.contacts, schema.contacts.c.id == k.c.person_id)
            .where(
                k.c.campaign_id == campaign_id,
                k.c.agent_id == request.to_agent_id,
                k.c.deleted == 0,
            )
        ):
            kept = decode(dict(row._mapping))
            if kept["id"] in moving_ids or kept["rank"] == ranks[kept["id"]]:
                continue
            conn.execute(
                update(k)
                .where(k.c.id == kept["id"])
                .values(
                    rank=ranks[kept["id"]],
                    server_version=int(kept["server_version"]) + 1,
                    updated_at=stamp,
                )
            )
            fresh = load_row(conn, k, kept["id"])
            assert fresh is not None
            buffer.add(_call_entry(fresh, str(kept["person_territory"])))
        for state in sorted(moving, key=lambda s: ranks[s.call["id"]]):
            call = state.call
            before = {call["agent_id"], call.get("previous_agent_id")}
            conn.execute(
                update(k)
                .where(k.c.id == call["id"])
                .values(
                    agent_id=request.to_agent_id,
                    previous_agent_id=request.from_agent_id,
                    rank=ranks[call["id"]],
                    server_version=int(call["server_version"]) + 1,
                    updated_at=stamp,
                )
            )
            for holder in (request.from_agent_id, request.to_agent_id):
                if (call["id"], holder) not in held:
                    conn.execute(
                        insert(h).values(
                            call_id=call["id"], agent_id=holder, from_ms=int(time.time() * 1000)
                        )
                    )
            fresh = load_row(conn, k, call["id"])
            assert fresh is not None
            buffer.add(_call_entry(fresh, state.territory_id))
            keep = {request.to_agent_id, request.from_agent_id}
            # An agent who held it two reassignments ago no longer receives it: it leaves her
            # device with the outcomes others recorded (her own stay: she made those calls).
            # A coordinator of the territory keeps everything (she sees every call).
            gone = [
                a
                for a in sorted(x for x in before if x and x not in keep)
                if not _coordinator_of(conn, a, state.territory_id)
            ]
            for agent in gone:
                buffer.add(_removal("campaign_calls", call["id"], agent))
            # The new holder receives the outcomes recorded so far.
            for outcome in conn.execute(
                select(o).where(o.c.call_id == call["id"], o.c.deleted == 0)
            ):
                out = decode(outcome)
                entry = entry_for("campaign_outcomes", out, territory_id=state.territory_id)
                entry.scope_agent_ids = sorted(keep | {str(out["agent_id"])})
                buffer.add(entry)
                for agent in gone:
                    if agent != out["agent_id"]:
                        buffer.add(_removal("campaign_outcomes", out["id"], agent))
        audit_id = server_audit(
            conn,
            actor,
            "campagne-reattribuee",
            "alert_campaigns",
            campaign_id,
            {"de": request.from_agent_id, "vers": request.to_agent_id, "appels": len(moving)},
        )
        flush(conn, buffer, ordering, seqs=False)
    log.info("campaign calls reassigned campaign=%s moved=%d", campaign_id, len(moving))
    return CampaignReassigned(moved=len(moving), audit_id=audit_id)


def _ranks_after(
    conn: Connection, campaign_id: str, agent_id: str, moving: list[str]
) -> dict[str, int]:
    """The ranks of an agent's list once the moving calls join it: the whole list in the
    order a new list has (:func:`havre_common.campaign.list_order`: most at risk first, then
    by street), so a person at risk moved from an unreachable colleague is not called last."""
    k, c = schema.campaign_calls, schema.contacts
    rows = conn.execute(
        select(k.c.id, k.c.person_id, k.c.risk_score, c.c.territory_id, c.c.address_line)
        .join(c, c.c.id == k.c.person_id)
        .where(
            k.c.campaign_id == campaign_id,
            k.c.deleted == 0,
            or_(k.c.agent_id == agent_id, k.c.id.in_(moving)),
        )
    )
    order = [
        (
            rules.Candidate(
                str(r.person_id),
                str(r.territory_id),
                int(r.risk_score or 0),
                rules.street_of(r.address_line),
            ),
            str(r.id),
        )
        for r in rows
    ]
    ranked = sorted(order, key=lambda pair: rules.list_order(pair[0]))
    return {call_id: rank for rank, (_c, call_id) in enumerate(ranked, start=1)}


def _removal(table: str, row_id: str, agent_id: str) -> Entry:
    return Entry(
        table_name=table,
        row_id=row_id,
        op="remove",
        reason="revoked",
        audience="target",
        scope_agent_ids=[agent_id],
    )


def _coordinator_of(conn: Connection, agent_id: str, territory: str) -> bool:
    a, at = schema.agents, schema.agent_territories
    found = conn.execute(
        select(a.c.id)
        .join(at, at.c.agent_id == a.c.id)
        .where(a.c.id == agent_id, a.c.role == COORDINATOR, at.c.territory_id == territory)
    ).first()
    return found is not None


# -- closing -------------------------------------------------------------------------------------


def close(
    engine: Engine,
    actor: Principal | None,
    campaign_id: str,
    request: CampaignClose,
    ordering: Ordering,
) -> CampaignClosed:
    buffer = ChangeBuffer()
    today = datetime.now(PARIS).date()
    closed_on = request.closed_on or today.isoformat()
    with engine.begin() as conn:
        campaign = _campaign(conn, campaign_id)
        _require(actor, campaign["territory_ids"])
        if campaign["closed_on"]:
            raise ApiError("conflict", "Cette campagne est déjà close.")
        if closed_on < str(campaign["starts_on"]):
            raise ApiError("invalid_request", "La date de clôture précède le début de la campagne.")
        if closed_on > today.isoformat():
            raise ApiError("invalid_request", "La date de clôture ne peut pas être dans le futur.")
        t = schema.alert_campaigns
        conn.execute(
            update(t)
            .where(t.c.id == campaign_id)
            .values(
                closed_on=closed_on,
                server_version=int(campaign["server_version"]) + 1,
                updated_at=iso_now(),
            )
        )
        fresh = _campaign(conn, campaign_id)
        _campaign_entries(fresh, buffer)
        states = _states(conn, fresh, datetime.now(UTC))
        reached = sum(s.step.reached for s in states)
        escalated = sum(rules.escalated(s.attempts, s.step) for s in states)
        audit_id = server_audit(
            conn,
            actor,
            "campagne-close",
            "alert_campaigns",
            campaign_id,
            {"personnes": len(states), "jointes": reached, "escalades": escalated},
        )
        flush(conn, buffer, ordering)
    return CampaignClosed(
        campaign_id=campaign_id,
        closed_on=closed_on,
        persons=len(states),
        reached=reached,
        escalated=escalated,
        audit_id=audit_id,
    )


# -- daily figures (the préfet may ask for them) ---------------------------------------------


def _day_of(moment: datetime) -> date:
    return moment.astimezone(PARIS).date()


def daily(
    engine: Engine, actor: Principal | None, campaign_id: str, now: datetime | None = None
) -> CampaignDaily:
    """Per day (Le Havre's date) from the start to the close (or today): calls made, persons
    called, reached, no answer, calls to emergency contacts, home visits, needs help,
    hospitalised, deceased, urgent, escalations, and who was still not reached that evening."""
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        campaign = _campaign(conn, campaign_id)
        _require(actor, campaign["territory_ids"])
        states = _states(conn, campaign, now)
    first = date.fromisoformat(str(campaign["starts_on"]))
    last = date.fromisoformat(str(campaign["closed_on"])) if campaign["closed_on"] else _day_of(now)
    for state in states:
        for a in state.attempts:
            first, last = min(first, _day_of(a.called_at)), max(last, _day_of(a.called_at))
    rule = rules.CampaignRules.from_row(campaign)
    days: list[CampaignDay] = []
    day = first
    escalated_before: set[str] = set()
    while day <= last:
        counts: dict[str, int] = defaultdict(int)
        called: set[str] = set()
        evening = datetime.combine(day + timedelta(days=1), dtime(0, 0), PARIS)
        not_reached = 0
        for state in states:
            today = [a for a in state.attempts if _day_of(a.called_at) == day]
            for a in today:
                counts["hospitalised"] += a.outcome == "hospitalise"
                counts["deceased"] += a.outcome == "decede"
                if a.called_whom == rules.CITY_PROCEDURE:
                    continue  # not a call: the escalation is counted from the step below
                counts["calls"] += 1
                counts["reached"] += a.outcome != rules.NO_ANSWER
                counts["no_answer"] += a.outcome == rules.NO_ANSWER
                counts["emergency"] += a.called_whom == rules.EMERGENCY_CONTACT
                counts["visits"] += a.called_whom == rules.HOME_VISIT
                counts["help"] += a.outcome == rules.NEEDS_HELP
                counts["urgent"] += a.urgent
                called.add(state.call["person_id"])
            until = [a for a in state.attempts if a.called_at < evening]
            step = rules.next_step(until, rule, evening, has_emergency_contact=state.has_contact)
            not_reached += not step.reached
            if rules.escalated(until, step) and state.call["id"] not in escalated_before:
                escalated_before.add(state.call["id"])
                counts["escalations"] += 1
        days.append(
            CampaignDay(
                day=day.isoformat(),
                calls=counts["calls"],
                persons_called=len(called),
                reached=counts["reached"],
                no_answer=counts["no_answer"],
                emergency_contact_calls=counts["emergency"],
                home_visits=counts["visits"],
                needs_help=counts["help"],
                hospitalised=counts["hospitalised"],
                deceased=counts["deceased"],
                urgent=counts["urgent"],
                escalations=counts["escalations"],
                not_reached_at_end_of_day=not_reached,
            )
        )
        day += timedelta(days=1)
    return CampaignDaily(campaign_id=campaign_id, persons=len(states), days=days)


__all__ = ["close", "daily", "eligible_persons", "progress", "reassign", "start_campaign"]
