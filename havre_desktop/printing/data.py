"""What the prints need, read from a Workspace into plain frozen dataclasses.

The documents themselves are built from these values only, so the UI (or a
test) can build a handout from data it already holds, and the database is
read in a handful of queries per document (the batch benchmark counts them).
Reading the register of isolated people is deliberately *not* here: it lives
in letters.py behind the alert-plan check.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from havre_common.city import (
    CITY_LABEL,
    CITY_ROW,
    CITY_WIDE_FIELDS,
    HEATWAVE_LINE,
    SAMPLE_CITY_LABEL,
    SAMPLE_CITY_PHONE,
    display_phone,
)
from havre_desktop.core.catalogue import temporary_changes
from havre_desktop.core.errors import NotFoundError, ValidationError
from havre_desktop.core.workspace import Workspace
from havre_desktop.printing.text import clean, person_name

log = logging.getLogger("havre.printing")

CURRENT_STATUSES = ("en-cours", "en-test")
SENIORS = "seniors"


@dataclass(frozen=True)
class CityContact:
    """The City's details printed on every document.

    They come from the server (contract table ``city_details``, see :mod:`havre_common.city`);
    until it sends a value, a value typed on this laptop before the upgrade is printed, else
    the sample: a number from the range the French regulator reserves for fiction, like all
    demo data, which a print says before printing.
    """

    label: str = SAMPLE_CITY_LABEL
    phone: str = SAMPLE_CITY_PHONE
    heatwave_line: str = HEATWAVE_LINE
    # The desk or service that receives the public: printed only when set (no sample).
    service: str = ""
    address: str = ""
    hours: str = ""

    def desk_lines(self) -> tuple[str, ...]:
        """The service, its address and its opening hours, those that are set."""
        return tuple(part for part in (self.service, self.address, self.hours) if part)

    @property
    def is_sample(self) -> bool:
        """Whether this is still the sample number (a print says so before printing)."""
        return self.phone == SAMPLE_CITY_PHONE


# The settings a laptop held before the City's details came from the server (Paramètres), and
# the attribute each one filled: still printed where the server has no value (see README).
CITY_SETTINGS = {
    "city_label": "label",
    "city_phone": "phone",
    "city_heatwave_line": "heatwave_line",
    "city_service": "service",
    "city_address": "address",
    "city_hours": "hours",
}
SERVER_FIELDS = {
    "label": "standard_label",
    "phone": "standard_phone",
    "heatwave_line": "heatwave_line",
    "service": "desk_name",
    "address": "address",
    "hours": "opening_hours",
}
"""Each printed attribute and the ``city_details`` field it comes from."""
DESK_SETTING = "city_desk"
"""The desk this laptop prints (a ``city_details`` id); unset: the desk of the agent's territory."""
DEMO_CITY_CONTACT = CityContact()


@dataclass(frozen=True)
class CitySource:
    """Where each printed value comes from: ``ville`` (the server), ``local`` (typed on this
    laptop before the upgrade, the server has nothing yet) or ``exemple``; and the local values
    the server's now replace (attribute → (local value, server value))."""

    contact: CityContact
    origin: dict[str, str]
    replaced: dict[str, tuple[str, str]]
    desk_id: str | None


def _desk_row(
    rows: Sequence[Mapping[str, Any]], territories: Sequence[str], chosen: str
) -> Mapping[str, Any] | None:
    desks = {str(r["id"]): r for r in rows if r["id"] != CITY_ROW and r.get("desk_name")}
    if chosen in desks:
        return desks[chosen]
    for territory in territories:
        found = sorted(
            (r for r in desks.values() if r.get("territory_id") == territory),
            key=lambda r: str(r["id"]),
        )
        if found:
            return found[0]
    return None


def city_source(
    settings: Mapping[str, str | None],
    rows: Sequence[Mapping[str, Any]] = (),
    territories: Sequence[str] = (),
) -> CitySource:
    """The City's details to print, from the server's rows (live ``city_details``), the agent's
    territories and this laptop's settings (its desk choice, its values from before)."""
    local = {
        attr: str(settings[key]).strip()
        for key, attr in CITY_SETTINGS.items()
        if str(settings.get(key) or "").strip()
    }
    city_row = next((r for r in rows if r["id"] == CITY_ROW), {})
    desk = _desk_row(rows, territories, str(settings.get(DESK_SETTING) or ""))
    desk_source: Mapping[str, Any] = desk if desk is not None else city_row
    values: dict[str, str] = {}
    origin: dict[str, str] = {}
    replaced: dict[str, tuple[str, str]] = {}
    for attr, name in SERVER_FIELDS.items():
        source = city_row if name in CITY_WIDE_FIELDS else desk_source
        server = str(source.get(name) or "").strip()
        if name in ("standard_phone", "heatwave_line") and server:
            server = display_phone(server)
        if server:
            values[attr], origin[attr] = server, "ville"
            if attr in local and local[attr] != server:
                replaced[attr] = (local[attr], server)
        elif attr in local:
            values[attr], origin[attr] = local[attr], "local"
        else:
            origin[attr] = "exemple" if attr in ("label", "phone") else "ville"
    if "phone" in values and "label" not in values and values["phone"] != SAMPLE_CITY_PHONE:
        values["label"], origin["label"] = CITY_LABEL, origin["phone"]
    contact = replace(DEMO_CITY_CONTACT, **values)
    if contact.is_sample:
        origin["phone"] = "exemple"
    return CitySource(contact, origin, replaced, None if desk is None else str(desk["id"]))


def city_contact(
    settings: Mapping[str, str | None],
    rows: Sequence[Mapping[str, Any]] = (),
    territories: Sequence[str] = (),
) -> CityContact:
    """The City's details to print (see :func:`city_source`)."""
    return city_source(settings, rows, territories).contact


def city_rows(ws: Workspace) -> list[dict[str, Any]]:
    """The City's details the server sent (live rows), the City-wide row first."""
    return ws.store.query(
        "SELECT * FROM city_details WHERE deleted = 0 ORDER BY id != ?, id", (CITY_ROW,)
    )


def read_city_source(ws: Workspace) -> CitySource:
    """The City's details as this laptop prints them now (read on the database thread)."""
    settings = {key: ws.store.get_setting(key) for key in (*CITY_SETTINGS, DESK_SETTING)}
    territories: list[str] = []
    if ws.agent_id:
        raw = ws.store.scalar("SELECT territory_ids FROM agents WHERE id = ?", (ws.agent_id,))
        territories = list(json.loads(raw or "[]"))
    return city_source(settings, city_rows(ws), territories)


def read_city_contact(ws: Workspace) -> CityContact:
    return read_city_source(ws).contact


SAMPLE_CITY_WARNING = (
    "Le numéro de la Ville imprimé est le numéro d'exemple (02 61 91 00 00, fictif) : "
    "le vrai numéro est saisi par un coordinateur (Paramètres, « Modifier les coordonnées "
    "de la Ville ») et arrive à la synchronisation."
)


@dataclass(frozen=True)
class Venue:
    name: str
    address_line: str
    postcode: str
    city: str
    step_free: bool


@dataclass(frozen=True)
class ActionInfo:
    """One action of the catalogue, as a senior reads it (no code, no internal id shown)."""

    id: str
    title: str
    summary: str
    schedule: str
    venue: Venue | None
    signup: str
    contact_name: str
    contact_phone: str
    is_free: bool
    price_label: str
    step_free: bool | None
    accessibility_note: str
    status: str
    # Temporary changes in effect on the print date (closure, other hours, a message), as
    # sentences: printed on the handouts of that period only.
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class AgentInfo:
    name: str
    phone: str


@dataclass(frozen=True)
class NextContact:
    due_on: date
    kind: str  # visite, appel, suivi, appel-alerte
    agent_name: str


@dataclass(frozen=True)
class Recipient:
    """A person a letter goes to (name and postal address as typed)."""

    id: str
    name: str
    address_line: str
    postcode: str
    city: str
    territory_id: str
    # On the register of vulnerable persons (alert-plan letters only): True, False, or None
    # when this device cannot know (its agent has no register right: no register data).
    registered: bool | None = None


_ACTION_SQL = (
    "SELECT a.id, a.title, a.summary, a.schedule, a.signup, a.contact_name, a.contact_phone, "
    "a.is_free, a.price_label, a.accessibility, a.accessibility_note, a.status, "
    "f.name AS venue_name, f.address_line AS venue_address, f.postcode AS venue_postcode, "
    "f.city AS venue_city, f.step_free AS venue_step_free "
    "FROM actions a LEFT JOIN facilities f ON f.id = a.facility_id AND f.deleted = 0 "
)


def _action(row: dict[str, Any]) -> ActionInfo:
    venue = None
    if row.get("venue_name"):
        venue = Venue(
            name=clean(row["venue_name"]),
            address_line=clean(row.get("venue_address")),
            postcode=clean(row.get("venue_postcode")),
            city=clean(row.get("venue_city")) or "Le Havre",
            step_free=bool(row.get("venue_step_free")),
        )
    flags = row.get("accessibility") or "{}"
    accessibility = json.loads(flags) if isinstance(flags, str) else dict(flags)
    step_free = accessibility.get("step_free")
    return ActionInfo(
        id=str(row["id"]),
        title=clean(row["title"]),
        summary=clean(row.get("summary")),
        schedule=clean(row.get("schedule")),
        venue=venue,
        signup=clean(row.get("signup")),
        contact_name=clean(row.get("contact_name")),
        contact_phone=clean(row.get("contact_phone")),
        is_free=bool(row.get("is_free")),
        price_label=clean(row.get("price_label")),
        step_free=None if step_free is None else bool(step_free),
        accessibility_note=clean(row.get("accessibility_note")),
        status=str(row.get("status") or ""),
    )


def with_notices(
    ws: Workspace, actions: tuple[ActionInfo, ...], day: date
) -> tuple[ActionInfo, ...]:
    """The actions with the temporary changes in effect on ``day`` (one query)."""
    found = temporary_changes(ws, day, [a.id for a in actions])
    if not found:
        return actions
    return tuple(
        replace(a, notices=tuple(clean(c.sentence()) for c in found[a.id])) if a.id in found else a
        for a in actions
    )


def load_actions(
    ws: Workspace, action_ids: Sequence[str], on: date | None = None
) -> tuple[ActionInfo, ...]:
    """The chosen actions, in the order chosen (one query); unknown ids are refused.

    ``on``: the print date, whose temporary changes are printed with each action."""
    if not action_ids:
        raise ValidationError({"action_ids": "Choisissez au moins une action à imprimer."})
    unique = list(dict.fromkeys(action_ids))
    marks = ",".join("?" for _ in unique)
    rows = ws.store.query(f"{_ACTION_SQL}WHERE a.deleted = 0 AND a.id IN ({marks})", tuple(unique))
    by_id = {str(r["id"]): _action(r) for r in rows}
    missing = [a for a in unique if a not in by_id]
    if missing:
        raise ValidationError({"action_ids": "Une action choisie n'existe plus dans le catalogue."})
    chosen = tuple(by_id[a] for a in unique)
    return chosen if on is None else with_notices(ws, chosen, on)


def territory_actions(
    ws: Workspace, territory_id: str, audience_id: str = SENIORS
) -> tuple[ActionInfo, ...]:
    """Every current action (en cours, en test) of a territory for one audience, A to Z."""
    rows = ws.store.query(
        f"{_ACTION_SQL}WHERE a.deleted = 0 AND a.status IN ('en-cours', 'en-test') "
        "AND EXISTS (SELECT 1 FROM json_each(a.territory_ids) WHERE value = ?) "
        "AND EXISTS (SELECT 1 FROM json_each(a.audience_ids) WHERE value = ?) "
        "ORDER BY a.title COLLATE NOCASE",
        (territory_id, audience_id),
    )
    return tuple(_action(r) for r in rows)


def territory_name(ws: Workspace, territory_id: str) -> str:
    name = ws.store.scalar("SELECT name FROM ref_territories WHERE id = ?", (territory_id,))
    if name is None:
        raise ValidationError({"territory_id": "Territoire inconnu."})
    return str(name)


def load_agent(ws: Workspace, agent_id: str | None = None) -> AgentInfo | None:
    """The agent named on a print (the profile's owner by default)."""
    agent_id = agent_id or ws.agent_id
    if not agent_id:
        return None
    row = ws.store.query_one(
        "SELECT display_name, work_phone FROM agents WHERE id = ? AND deleted = 0", (agent_id,)
    )
    if row is None:
        return None
    return AgentInfo(name=clean(row["display_name"]), phone=clean(row.get("work_phone")))


def load_person(ws: Workspace, person_id: str) -> dict[str, Any]:
    row = ws.store.query_one(
        "SELECT id, kind, family_name, given_names, address_line, postcode, city, "
        "territory_id FROM contacts WHERE id = ? AND deleted = 0",
        (person_id,),
    )
    if row is None:
        raise NotFoundError("Cette fiche n'existe pas ou a été supprimée.")
    if row["kind"] != "person":
        raise ValidationError({"person_id": "Une fiche ne peut être remise qu'à une personne."})
    return row


def recipient(row: dict[str, Any]) -> Recipient:
    return Recipient(
        id=str(row["id"]),
        name=person_name(row.get("given_names"), row.get("family_name")),
        address_line=clean(row.get("address_line")),
        postcode=clean(row.get("postcode")),
        city=clean(row.get("city")) or "Le Havre",
        territory_id=str(row.get("territory_id") or ""),
    )


def next_contact(ws: Workspace, person_id: str, today: date) -> NextContact | None:
    """The next visit or call planned for this person, today or later."""
    row = ws.store.query_one(
        "SELECT p.due_on, p.kind, a.display_name FROM planned_contacts p "
        "LEFT JOIN agents a ON a.id = p.agent_id WHERE p.person_id = ? "
        "AND p.done_by_visit_id IS NULL AND p.cancelled = 0 AND p.deleted = 0 "
        "AND p.due_on >= ? ORDER BY p.due_on LIMIT 1",
        (person_id, today.isoformat()),
    )
    if row is None:
        return None
    return NextContact(
        due_on=date.fromisoformat(row["due_on"]),
        kind=str(row["kind"]),
        agent_name=clean(row.get("display_name")),
    )


def followed_persons(ws: Workspace, agent_id: str) -> list[Recipient]:
    """Persons whose referent is this agent (not archived), by name."""
    rows = ws.store.query(
        "SELECT id, family_name, given_names, address_line, postcode, city, territory_id "
        "FROM contacts WHERE kind = 'person' AND deleted = 0 AND archived = 0 "
        "AND referent_agent_id = ? ORDER BY family_name COLLATE NOCASE, "
        "given_names COLLATE NOCASE",
        (agent_id,),
    )
    return [recipient(r) for r in rows]
