"""Rows of the domain tables: what a client may write, how values are checked, how rows travel.

Values pushed by a device are checked again here with the desktop's own French rules
(``havre_desktop.core.validation``: phones, postcodes, e-mails, dates) and the shared reference
lists, so that a modified or hostile client cannot store what the desktop would refuse.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, bindparam, select

from havre_desktop.core import catalogue, contacts, visits, workspace
from havre_desktop.core.validation import (
    Checker,
    normalise_phone,
    parse_date,
    parse_datetime,
)
from havre_server import schema
from havre_server.changelog import ChangeBuffer, Entry
from havre_server.reference import Reference
from havre_server.scope import consent_audience

# The desktop's JSON columns (field_hlc is sent apart) and its bookkeeping columns, which a
# client may send and the server ignores: one definition, shared with the desktop.
JSON_COLUMNS = workspace.JSON_COLUMNS - {"field_hlc"}
CLIENT_LOCAL_COLUMNS = workspace.LOCAL_COLUMNS
# Never sent down in `fields` (server bookkeeping; versions and clocks travel apart).
SERVER_ONLY_COLUMNS = frozenset(
    {"field_meta", "field_hlc", "server_version", "deleted", "scope_changed_seq"}
)
# Server-only columns of one table (the desktop's table has no such column).
SERVER_ONLY_BY_TABLE: dict[str, frozenset[str]] = {
    "conflicts": frozenset({"person_id"}),
    "audit_log": frozenset({"device_id", "received_at_ms"}),
}

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
PLANNED_KINDS = {"visite": "", "appel": "", "suivi": "", "appel-alerte": ""}
CONSENT_PURPOSES = {"fiche": "", "registre": "", "partage-partenaires": ""}
REQUESTERS = {"personne": "", "tiers": ""}
VERDICTS = {"poursuivre": "", "adapter": "", "arreter": ""}
VARIANTS = {"large": "", "very-large": ""}
KINDS = {"person": "", "organisation": ""}
ACCESSIBILITY_FLAGS = frozenset(
    {"step_free", "hearing_loop", "easy_read", "sign_language", "adapted_transport"}
)


class Reject(Exception):
    """A mutation refused, with the French reason the agent will see."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


NOT_VISIBLE = "Fiche inconnue ou hors de votre périmètre : modification refusée."


# -- value checks -------------------------------------------------------------------------------

Check = Callable[[Checker, str, Any, Reference], Any]


def _text(limit: int, required: bool = False) -> Check:
    def check(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
        if value is None or value == "":
            if required:
                c.fail(field, f"{field} : ce champ est obligatoire.")
            return None
        if not isinstance(value, str):
            c.fail(field, f"{field} : texte attendu.")
            return None
        if len(value) > limit:
            c.fail(field, f"{field} : texte trop long (au plus {limit} caractères).")
            return None
        return value.strip() or None

    return check


def _choice(list_name: str | dict[str, str], required: bool = False) -> Check:
    def check(c: Checker, field: str, value: Any, ref: Reference) -> Any:
        allowed = list_name if isinstance(list_name, dict) else ref.labels(list_name)
        if value is not None and not isinstance(value, str):
            c.fail(field, f"{field} : valeur inconnue.")
            return None
        return c.choice({field: value}, field, field, allowed, required=required)

    return check


def _choices(list_name: str) -> Check:
    def check(c: Checker, field: str, value: Any, ref: Reference) -> Any:
        if value is None:
            return []
        if not isinstance(value, list) or len(value) > 50:
            c.fail(field, f"{field} : liste attendue.")
            return []
        return c.choices({field: value}, field, field, ref.labels(list_name))

    return check


def _uuid(required: bool = False) -> Check:
    def check(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
        if value is None or value == "":
            if required:
                c.fail(field, f"{field} : ce champ est obligatoire.")
            return None
        if not isinstance(value, str) or not UUID_RE.match(value):
            c.fail(field, f"{field} : identifiant invalide.")
            return None
        return value

    return check


def _uuid_list(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 50:
        c.fail(field, f"{field} : liste attendue.")
        return []
    for item in value:
        if not isinstance(item, str) or not UUID_RE.match(item):
            c.fail(field, f"{field} : identifiant invalide.")
            return []
    return list(dict.fromkeys(value))


def _bool(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and value in (0, 1):
        return value
    c.fail(field, f"{field} : oui ou non attendu.")
    return None


def _int(minimum: int, maximum: int) -> Check:
    def check(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            c.fail(field, f"{field} : nombre entier attendu.")
            return None
        return c.integer({field: value}, field, field, minimum=minimum, maximum=maximum)

    return check


def _date(required: bool = False) -> Check:
    def check(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
        if value is None or value == "":
            if required:
                c.fail(field, f"{field} : ce champ est obligatoire.")
            return None
        if not isinstance(value, str) or len(value) > 40:
            c.fail(field, f"{field} : date invalide.")
            return None
        try:
            parsed = parse_date(value)
        except ValueError as exc:
            c.fail(field, f"{field} : {exc}")
            return None
        if parsed is None or parsed.year < 1900 or parsed.year > 2200:
            c.fail(field, f"{field} : date invalide.")
            return None
        return parsed.isoformat()

    return check


def _datetime(required: bool = False) -> Check:
    def check(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
        if value is None or value == "":
            if required:
                c.fail(field, f"{field} : ce champ est obligatoire.")
            return None
        if not isinstance(value, str) or len(value) > 40:
            c.fail(field, f"{field} : date et heure invalides.")
            return None
        try:
            parse_datetime(value)
        except ValueError as exc:
            c.fail(field, f"{field} : {exc}")
            return None
        return value

    return check


def _phone(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 40:
        c.fail(field, "Numéro de téléphone invalide.")
        return None
    return c.phone({field: value}, field)


def _email(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
    if value is not None and (not isinstance(value, str) or len(value) > 200):
        c.fail(field, "Adresse électronique invalide.")
        return None
    return c.email({field: value}, field)


def _postcode(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
    if value is not None and not isinstance(value, str):
        c.fail(field, "Code postal invalide.")
        return None
    return c.postcode({field: value}, field)


def _emergency(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 10:
        c.fail(field, "Contacts d'urgence : liste attendue (au plus 10).")
        return []
    cleaned = []
    for index, item in enumerate(value, start=1):
        if not isinstance(item, dict) or set(item) - {"name", "relation", "phone"}:
            c.fail(field, f"Contact d'urgence n° {index} : format invalide.")
            return []
        name = item.get("name")
        relation = item.get("relation") or ""
        phone = item.get("phone")
        if not isinstance(name, str) or not name.strip() or len(name) > 200:
            c.fail(field, f"Contact d'urgence n° {index} : le nom est obligatoire.")
            return []
        if not isinstance(relation, str) or len(relation) > 100:
            c.fail(field, f"Contact d'urgence n° {index} : lien invalide.")
            return []
        try:
            normalised = normalise_phone(str(phone or ""))
        except ValueError:
            c.fail(field, f"Contact d'urgence n° {index} : numéro de téléphone invalide.")
            return []
        cleaned.append({"name": name.strip(), "relation": relation.strip(), "phone": normalised})
    return cleaned


def _flags(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - ACCESSIBILITY_FLAGS:
        c.fail(field, "Accessibilité : indicateurs inconnus.")
        return {}
    if not all(isinstance(v, bool) for v in value.values()):
        c.fail(field, "Accessibilité : oui ou non attendu.")
        return {}
    return dict(value)


def _small_object(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            c.fail(field, f"{field} : objet JSON attendu.")
            return {}
    if not isinstance(value, dict) or len(json.dumps(value)) > 4000:
        c.fail(field, f"{field} : objet JSON attendu (au plus 4 000 caractères).")
        return {}
    return value


def _pattern(regex: str, limit: int) -> Check:
    compiled = re.compile(regex)

    def check(c: Checker, field: str, value: Any, _ref: Reference) -> Any:
        if value is None:
            return None
        if not isinstance(value, str) or len(value) > limit or not compiled.match(value):
            c.fail(field, f"{field} : valeur invalide.")
            return None
        return value

    return check


# -- table specifications -----------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    table: Table
    checks: dict[str, Check]
    required: frozenset[str]
    updatable: frozenset[str]
    policy: str  # merge | revision | append | catalogue | up | resolution


_STAMPS: dict[str, Check] = {"created_at": _datetime(), "updated_at": _datetime()}

SPECS: dict[str, Spec] = {
    "contacts": Spec(
        schema.contacts,
        {
            "kind": _choice(KINDS, True),
            "family_name": _text(200),
            "given_names": _text(200),
            "organisation_name": _text(200),
            "birth_date": _date(),
            "address_line": _text(300),
            "postcode": _postcode,
            "city": _text(100),
            "territory_id": _choice("territories", True),
            "phone_1": _phone,
            "phone_2": _phone,
            "email": _email,
            "lives_alone": _bool,
            "mobility": _choice("mobility_levels"),
            "access_notes": _text(2000),
            "emergency_contacts": _emergency,
            "referent_agent_id": _uuid(),
            "archived": _bool,
            **_STAMPS,
        },
        frozenset({"kind", "territory_id", "created_at", "updated_at"}),
        frozenset(contacts.PERSON_FIELDS)
        | frozenset(contacts.ORGANISATION_FIELDS)
        | {"archived", "updated_at"},
        "merge",
    ),
    "planned_contacts": Spec(
        schema.planned_contacts,
        {
            "person_id": _uuid(True),
            "agent_id": _uuid(True),
            "due_on": _date(True),
            "kind": _choice(PLANNED_KINDS, True),
            "reason": _text(2000),
            "done_by_visit_id": _uuid(),
            "cancelled": _bool,
            "updated_at": _datetime(),
        },
        frozenset({"person_id", "agent_id", "due_on", "kind", "updated_at"}),
        frozenset({"agent_id", "due_on", "kind", "reason", "done_by_visit_id", "cancelled"})
        | {"updated_at"},
        "merge",
    ),
    "visits": Spec(
        schema.visits,
        {
            "person_id": _uuid(True),
            "agent_id": _uuid(True),
            "occurred_at": _datetime(True),
            "kind": _choice("visit_kinds", True),
            "outcome": _choice("visit_outcomes", True),
            "duration_min": _int(1, 600),
            "wellbeing": _int(1, 5),
            "need_ids": _choices("need_kinds"),
            "proposed_action_ids": _uuid_list,
            "handout_given": _bool,
            "follow_up_on": _date(),
            "notes": _text(10000),
            "revision": _int(1, 10000),
            **_STAMPS,
        },
        frozenset({"person_id", "agent_id", "occurred_at", "kind", "outcome", "created_at"})
        | {"updated_at"},
        frozenset(visits.VISIT_FIELDS) | {"revision", "updated_at"},
        "revision",
    ),
    "consents": Spec(
        schema.consents,
        {
            "contact_id": _uuid(True),
            "purpose": _choice(CONSENT_PURPOSES, True),
            "given": _bool,
            "recorded_on": _date(True),
            "method": _text(500, True),
            "recorded_by_agent_id": _uuid(),
            "withdrawn_on": _date(),
            "updated_at": _datetime(),
        },
        frozenset({"contact_id", "purpose", "given", "recorded_on", "method", "updated_at"}),
        frozenset({"withdrawn_on", "updated_at"}),
        "revision",
    ),
    "register_enrolments": Spec(
        schema.register_enrolments,
        {
            "person_id": _uuid(True),
            "enrolled_on": _date(True),
            "basis": _choice("register_bases", True),
            "requested_by": _choice(REQUESTERS, True),
            "requester_name": _text(200),
            "consent_given": _bool,
            "consent_date": _date(True),
            "removed_on": _date(),
            "removal_reason": _text(500),
            "updated_at": _datetime(),
        },
        frozenset(
            {
                "person_id",
                "enrolled_on",
                "basis",
                "requested_by",
                "consent_given",
                "consent_date",
                "updated_at",
            }
        ),
        frozenset({"removed_on", "removal_reason", "updated_at"}),
        "revision",
    ),
    "handouts_given": Spec(
        schema.handouts_given,
        {
            "person_id": _uuid(),
            "agent_id": _uuid(True),
            "given_at": _datetime(True),
            "action_ids": _uuid_list,
            "variant": _choice(VARIANTS, True),
            "visit_id": _uuid(),
            "territory_id": _choice("territories"),
        },
        frozenset({"agent_id", "given_at", "variant"}),
        frozenset(),
        "append",
    ),
    "reception_encounters": Spec(
        schema.reception_encounters,
        {
            "occurred_at": _datetime(True),
            "territory_id": _choice("territories", True),
            "need_id": _choice("need_kinds", True),
            "age_group_id": _choice("age_groups"),
            "agent_id": _uuid(True),
            "facility_id": _uuid(),
        },
        frozenset({"occurred_at", "territory_id", "need_id", "agent_id"}),
        frozenset(),
        "up",
    ),
    "audit_log": Spec(
        schema.audit_log,
        {
            "at": _datetime(True),
            "agent_id": _uuid(),
            "event": _pattern(r"^[a-z][a-z0-9-]{0,59}$", 60),
            "entity": _pattern(r"^[a-z_]{1,60}$", 60),
            "entity_id": _pattern(r"^[A-Za-z0-9:_.-]{1,100}$", 100),
            "detail": _small_object,
        },
        frozenset({"at", "event"}),
        frozenset(),
        "up",
    ),
    "facilities": Spec(
        schema.facilities,
        {
            "kind_id": _choice("facility_kinds", True),
            "name": _text(300, True),
            "address_line": _text(300),
            "postcode": _postcode,
            "city": _text(100),
            "territory_id": _choice("territories"),
            "phone": _phone,
            "opening_hours": _text(1000),
            "step_free": _bool,
            "updated_at": _datetime(),
        },
        frozenset({"kind_id", "name"}),
        frozenset(
            {
                "kind_id",
                "name",
                "address_line",
                "postcode",
                "city",
                "territory_id",
                "phone",
                "opening_hours",
                "step_free",
                "updated_at",
            }
        ),
        "catalogue",
    ),
    "actions": Spec(
        schema.actions,
        {
            "code": _text(40, True),
            "title": _text(300, True),
            "summary": _text(2000),
            "description": _text(10000),
            "priority_id": _choice("priorities", True),
            "audience_ids": _choices("audiences"),
            "need_ids": _choices("need_kinds"),
            "territory_ids": _choices("territories"),
            "facility_id": _uuid(),
            "schedule": _text(1000),
            "contact_name": _text(200),
            "contact_phone": _phone,
            "signup": _text(1000),
            "is_free": _bool,
            "price_label": _text(200),
            "accessibility": _flags,
            "accessibility_note": _text(2000),
            "status": _choice("action_statuses", True),
            "start_date": _date(),
            "end_date": _date(),
            "updated_at": _datetime(),
        },
        frozenset({"code", "title", "priority_id", "status"}),
        (frozenset(catalogue.ACTION_COLUMNS) - {"id"}) | {"updated_at"},
        "catalogue",
    ),
    "action_evaluations": Spec(
        schema.action_evaluations,
        {
            "action_id": _uuid(True),
            "evaluated_on": _date(True),
            "participants": _int(0, 1_000_000),
            "verdict": _choice(VERDICTS, True),
            "indicators": _small_object,
            "comment": _text(5000),
            "author_agent_id": _uuid(),
            "updated_at": _datetime(),
        },
        frozenset({"action_id", "evaluated_on", "verdict"}),
        frozenset({"evaluated_on", "participants", "verdict", "indicators", "comment"})
        | {"updated_at"},
        "revision",
    ),
    "conflicts": Spec(
        schema.conflicts,
        {"resolved_at": _datetime(), "resolution": _text(2000)},
        frozenset(),
        frozenset({"resolved_at", "resolution"}),
        "resolution",
    ),
}


def clean(spec: Spec, ref: Reference, values: dict[str, Any]) -> dict[str, Any]:
    """Checked values (only the given keys); raises Reject with every problem in French."""
    checker = Checker()
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        check = spec.checks.get(key)
        if check is None:
            raise Reject(f"Champ « {key} » inconnu ou non modifiable dans {spec.table.name}.")
        cleaned[key] = check(checker, key, value, ref)
    if checker.errors:
        raise Reject(" ".join(checker.errors.values()))
    return cleaned


def is_empty(value: Any) -> bool:
    """The values a reception agent's client sends for fields it may not set."""
    return value is None or value in ("", [], {}, False, 0)


# -- rows as they travel --------------------------------------------------------------------------


def encode(values: dict[str, Any]) -> dict[str, Any]:
    """Python values → stored values (JSON columns as text)."""
    return {
        k: (json.dumps(v, ensure_ascii=False, separators=(",", ":")) if k in JSON_COLUMNS else v)
        for k, v in values.items()
    }


def decode(row: Row[Any] | dict[str, Any]) -> dict[str, Any]:
    data = dict(row._mapping) if isinstance(row, Row) else dict(row)
    for key in JSON_COLUMNS.intersection(data):
        if isinstance(data[key], str):
            data[key] = json.loads(data[key])
    return data


def wire_fields(row: dict[str, Any], table: str = "") -> dict[str, Any]:
    """The row as it travels down: server bookkeeping left out."""
    extra = SERVER_ONLY_BY_TABLE.get(table, frozenset())
    return {k: v for k, v in row.items() if k not in SERVER_ONLY_COLUMNS and k not in extra}


# Statements run for every mutation are built once, with named parameters: building one per
# call (values coerced into bind parameters, cache key computed again) cost the server more
# CPU than the database spent answering it.


@cache
def _load_row_query(table: Table, for_update: bool) -> Select[Any]:
    query = select(table).where(table.c.id == bindparam("row_pk"))
    return query.with_for_update() if for_update else query


_PERSON_TERRITORY = select(schema.contacts.c.territory_id, schema.contacts.c.deleted).where(
    schema.contacts.c.id == bindparam("row_pk")
)


def load_row(
    conn: Connection, table: Table, row_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    row = conn.execute(_load_row_query(table, for_update), {"row_pk": row_id}).first()
    return None if row is None else decode(row)


def person_territory(conn: Connection, person_id: str | None) -> str | None:
    """The territory of a live contact, or None when it does not exist (or was deleted)."""
    if person_id is None:
        return None
    row = conn.execute(_PERSON_TERRITORY, {"row_pk": person_id}).first()
    if row is None or row.deleted:
        return None
    return str(row.territory_id)


# -- change-log entries for a row -----------------------------------------------------------------


def entry_for(
    table: str,
    row: dict[str, Any],
    *,
    territory_id: str | None,
    op: str = "upsert",
    reason: str | None = None,
) -> Entry:
    """The log entry that tells the right readers about this row (full row, or removal)."""
    audience = "all"
    person_id: str | None = None
    agents: list[str] | None = None
    if table == "contacts":
        audience, person_id = "person", row["id"]
    elif table == "consents":
        audience, person_id = consent_audience(row.get("purpose")), row["contact_id"]
    elif table == "register_enrolments":
        audience, person_id = "person", row["person_id"]
    elif table in ("visits", "handouts_given"):
        audience, person_id = "care", row.get("person_id")
    elif table == "planned_contacts":
        audience, person_id, agents = "planned", row["person_id"], [row["agent_id"]]
    elif table == "conflicts":
        audience, person_id = "conflict", row.get("person_id")
        agents = [a for a in (row.get("local_agent_id"), row.get("remote_agent_id")) if a]
    elif table == "action_evaluations":
        audience = "coord"
    field_hlc = None
    if op == "upsert" and "field_hlc" in row:
        raw = row["field_hlc"]
        field_hlc = json.loads(raw) if isinstance(raw, str) else raw
    return Entry(
        table_name=table,
        row_id=str(row["id"]),
        op=op,
        reason=reason,
        audience=audience,
        fields=wire_fields(row, table) if op == "upsert" else None,
        field_hlc=field_hlc,
        server_version=int(row.get("server_version") or 0),
        territory_id=territory_id,
        scope_agent_ids=agents,
        person_id=person_id,
    )


PERSON_DEPENDENTS: tuple[tuple[Table, str], ...] = (
    (schema.consents, "contact_id"),
    (schema.register_enrolments, "person_id"),
    (schema.visits, "person_id"),
    (schema.handouts_given, "person_id"),
    (schema.planned_contacts, "person_id"),
    (schema.conflicts, "person_id"),
)


def dependents(conn: Connection, person_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every live row that belongs to a person (in a stable order)."""
    found: list[tuple[str, dict[str, Any]]] = []
    for table, column in PERSON_DEPENDENTS:
        rows = conn.execute(
            select(table)
            .where(table.c[column] == person_id, table.c.deleted == 0)
            .order_by(table.c.id)
        )
        found.extend((table.name, decode(r)) for r in rows)
    return found


def emit_person_move(
    conn: Connection,
    buffer: ChangeBuffer,
    person: dict[str, Any],
    old_territory: str | None,
    new_territory: str | None,
    reason: str,
) -> None:
    """A person leaves ``old_territory`` (removals) and/or enters ``new_territory`` (full rows).

    Removals come first, so an agent who holds both territories ends with the rows present.
    """
    rows = [("contacts", person), *dependents(conn, person["id"])]
    if old_territory is not None:
        for table, row in reversed(rows):
            buffer.add(
                entry_for(table, row, territory_id=old_territory, op="remove", reason=reason)
            )
    if new_territory is not None:
        for table, row in rows:
            buffer.add(entry_for(table, row, territory_id=new_territory))
