"""Contacts (persons and organisations) and consent records (the register: ``register``).

Persons are personal data about vulnerable people: every user edit goes
through `Workspace.write_row`/`update_row` (outbox + per-field clocks), opening
a fiche writes an audit entry, and nothing here logs a name.
"""

from __future__ import annotations

import logging
from typing import Any

from havre_common import contract
from havre_common.messages import ANONYMISED_FILE
from havre_common.values import normalise_phone
from havre_desktop.core import agents, audit
from havre_desktop.core.errors import PermissionDeniedError, ValidationError
from havre_desktop.core.validation import Checker, phone_search_text
from havre_desktop.core.workspace import Workspace, decode_row, new_id

log = logging.getLogger("havre.core.contacts")

PERSON_FIELDS = (
    "family_name",
    "given_names",
    "birth_date",
    "address_line",
    "postcode",
    "city",
    "territory_id",
    "phone_1",
    "phone_2",
    "email",
    "lives_alone",
    "mobility",
    "access_notes",
    "emergency_contacts",
    "referent_agent_id",
)
ORGANISATION_FIELDS = (
    "organisation_name",
    "address_line",
    "postcode",
    "city",
    "territory_id",
    "phone_1",
    "phone_2",
    "email",
    "referent_agent_id",
)


def _clean_emergency_contacts(check: Checker, values: dict[str, Any]) -> list[dict[str, str]]:
    cleaned: list[dict[str, str]] = []
    for index, item in enumerate(values.get("emergency_contacts") or [], start=1):
        name = str(item.get("name") or "").strip()
        relation = str(item.get("relation") or "").strip()
        if not name:
            check.fail(
                "emergency_contacts", f"Contact d'urgence n° {index} : le nom est obligatoire."
            )
            continue
        typed = str(item.get("phone") or "").strip()
        if not typed:
            check.fail(
                "emergency_contacts",
                f"Contact d'urgence n° {index} : le téléphone est obligatoire.",
            )
            continue
        try:
            phone = normalise_phone(typed)
        except ValueError:
            check.fail(
                "emergency_contacts",
                f"Contact d'urgence n° {index} : numéro de téléphone invalide.",
            )
            continue
        cleaned.append({"name": name, "relation": relation, "phone": phone})
    return cleaned


def clean_person(ws: Workspace, values: dict[str, Any]) -> dict[str, Any]:
    """Validate a person's fiche; French message per field."""
    check = Checker()
    today = ws.clock.today()
    row: dict[str, Any] = {
        "family_name": check.required_text(values, "family_name", "Nom"),
        "given_names": check.required_text(values, "given_names", "Prénom"),
        "birth_date": check.date(
            values, "birth_date", "Date de naissance", today=today, not_future=True
        ),
        "address_line": check.optional_text(values, "address_line"),
        "postcode": check.postcode(values, "postcode"),
        "city": check.optional_text(values, "city") or "Le Havre",
        "territory_id": check.choice(
            values, "territory_id", "Territoire", ws.reference("territories")
        ),
        "phone_1": check.phone(values, "phone_1"),
        "phone_2": check.phone(values, "phone_2"),
        "email": check.email(values, "email"),
        "lives_alone": None if values.get("lives_alone") is None else bool(values["lives_alone"]),
        "mobility": check.choice(
            values, "mobility", "Mobilité", ws.reference("mobility_levels"), required=False
        ),
        "access_notes": check.optional_text(values, "access_notes"),
        "emergency_contacts": _clean_emergency_contacts(check, values),
        "referent_agent_id": check.optional_text(values, "referent_agent_id"),
    }
    check.raise_if_any()
    return row


def clean_organisation(ws: Workspace, values: dict[str, Any]) -> dict[str, Any]:
    check = Checker()
    row: dict[str, Any] = {
        "organisation_name": check.required_text(values, "organisation_name", "Nom de l'organisme"),
        "address_line": check.optional_text(values, "address_line"),
        "postcode": check.postcode(values, "postcode"),
        "city": check.optional_text(values, "city") or "Le Havre",
        "territory_id": check.choice(
            values, "territory_id", "Territoire", ws.reference("territories")
        ),
        "phone_1": check.phone(values, "phone_1"),
        "phone_2": check.phone(values, "phone_2"),
        "email": check.email(values, "email"),
        "referent_agent_id": check.optional_text(values, "referent_agent_id"),
    }
    check.raise_if_any()
    return row


def _derived(row: dict[str, Any]) -> dict[str, Any]:
    return {"search_phones": phone_search_text(row.get("phone_1"), row.get("phone_2"))}


def create_person(ws: Workspace, values: dict[str, Any]) -> dict[str, Any]:
    row = clean_person(ws, values)
    now = ws.clock.now_iso()
    with ws.store.transaction():
        created = ws.write_row(
            "contacts",
            {
                "id": new_id(),
                "kind": "person",
                **row,
                **_derived(row),
                "created_at": now,
                "updated_at": now,
            },
        )
    log.info("person created id=%s", created["id"])
    return get(ws, created["id"])


def create_organisation(ws: Workspace, values: dict[str, Any]) -> dict[str, Any]:
    row = clean_organisation(ws, values)
    now = ws.clock.now_iso()
    with ws.store.transaction():
        created = ws.write_row(
            "contacts",
            {
                "id": new_id(),
                "kind": "organisation",
                **row,
                **_derived(row),
                "created_at": now,
                "updated_at": now,
            },
        )
    return get(ws, created["id"])


def refuse_identity_if_anonymised(
    ws: Workspace, person_id: str, table: str, values: dict[str, Any]
) -> None:
    """A file anonymised at the end of its retention period takes no identity, contact
    details or free text again (the server refuses it too, with the same message)."""
    typed = [n for n in contract.IDENTIFYING.get(table, ()) if values.get(n) not in (None, "", [])]
    if not typed:
        return
    anonymised = ws.store.scalar("SELECT anonymised_on FROM contacts WHERE id = ?", (person_id,))
    if anonymised:
        raise ValidationError({typed[0]: ANONYMISED_FILE})


def update(ws: Workspace, contact_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Edit a fiche: the whole fiche is revalidated, only changed fields are sent."""
    current = get(ws, contact_id)
    refuse_identity_if_anonymised(ws, contact_id, "contacts", changes)
    merged = {**current, **changes}
    fields: tuple[str, ...]
    if current["kind"] == "person":
        row = clean_person(ws, merged)
        fields = PERSON_FIELDS
    else:
        row = clean_organisation(ws, merged)
        fields = ORGANISATION_FIELDS
    edit = {k: row[k] for k in fields if k in changes}
    if "phone_1" in edit or "phone_2" in edit:
        edit.update(_derived(row))
    with ws.store.transaction():
        ws.update_row("contacts", contact_id, edit)
    return get(ws, contact_id)


def archive(ws: Workspace, contact_id: str, archived: bool = True) -> dict[str, Any]:
    """Archived fiches leave the lists but stay on record (and keep syncing). Not a
    reception desk's decision (the contract's writers; the server refuses it too)."""
    writers = contract.CONTACTS.field("archived").writers
    role = agents.current_role(ws)
    if role is not None and writers is not None and role not in writers:
        raise PermissionDeniedError("Votre rôle ne permet pas d'archiver une fiche.")
    with ws.store.transaction():
        ws.update_row("contacts", contact_id, {"archived": archived})
    return get(ws, contact_id)


def get(ws: Workspace, contact_id: str) -> dict[str, Any]:
    """The fiche's data without writing an audit entry (internal reads)."""
    return ws.get_row("contacts", contact_id)


def fiche(ws: Workspace, contact_id: str) -> dict[str, Any]:
    """What the fiche shows: the data, the register status and the consents (not audited:
    a fiche already open, shown again after a change)."""
    found = get(ws, contact_id)
    found["register"] = register_status(ws, contact_id)
    found["consents"] = consents(ws, contact_id)
    return found


def open_fiche(ws: Workspace, contact_id: str) -> dict[str, Any]:
    """What a user sees when opening a fiche: the data, and the opening is audited."""
    found = fiche(ws, contact_id)
    audit.record(ws, "fiche-ouverte", "contacts", contact_id)
    return found


ANONYMISED_NAME = "Personne anonymisée"
"""How a file anonymised at the end of its retention period is named in lists (no name left)."""


def display_name(contact: dict[str, Any]) -> str:
    if contact.get("kind") == "organisation":
        return str(contact.get("organisation_name") or "")
    family = str(contact.get("family_name") or "").upper()
    name = f"{family} {contact.get('given_names') or ''}".strip()
    if not name and contact.get("anonymised_on"):
        return ANONYMISED_NAME
    return name


def names_of(ws: Workspace, ids: list[str]) -> dict[str, str]:
    """id → display name of the fiches among these that this device holds (no audit entry:
    a list of names, not an opened fiche)."""
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" for _ in chunk)
        for row in ws.store.query(
            "SELECT id, kind, family_name, given_names, organisation_name, anonymised_on "
            "FROM contacts "
            f"WHERE id IN ({marks})",
            tuple(chunk),
        ):
            found[str(row["id"])] = display_name(row)
    return found


def list_page(
    ws: Workspace,
    *,
    territory_ids: list[str] | None = None,
    include_archived: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """One page of persons ordered by name (lists never load a whole table)."""
    where = ["deleted = 0"]
    params: list[Any] = []
    if not include_archived:
        where.append("archived = 0")
    if territory_ids:
        where.append(f"territory_id IN ({','.join('?' for _ in territory_ids)})")
        params += territory_ids
    sql = (
        "SELECT * FROM contacts WHERE " + " AND ".join(where) + " ORDER BY family_name COLLATE "
        "NOCASE, given_names COLLATE NOCASE LIMIT ? OFFSET ?"
    )
    return [decode_row(r) for r in ws.store.query(sql, (*params, limit, offset))]


# -- consent ------------------------------------------------------------------------------


def record_consent(ws: Workspace, contact_id: str, values: dict[str, Any]) -> dict[str, Any]:
    check = Checker()
    purpose = check.choice(
        values, "purpose", "Objet du consentement", contract.ENUMS["consent_purposes"]
    )
    recorded_on = check.date(
        values,
        "recorded_on",
        "Date du consentement",
        today=ws.clock.today(),
        required=True,
        not_future=True,
    )
    method = check.required_text(values, "method", "Forme du consentement")
    if "given" not in values:
        check.fail("given", "Indiquez si la personne consent ou refuse.")
    check.raise_if_any()
    get(ws, contact_id)
    with ws.store.transaction():
        row = ws.write_row(
            "consents",
            {
                "contact_id": contact_id,
                "purpose": purpose,
                "given": bool(values["given"]),
                "recorded_on": recorded_on,
                "method": method,
                "recorded_by_agent_id": ws.agent_id,
                "updated_at": ws.clock.now_iso(),
            },
        )
    return ws.get_row("consents", row["id"])


def consents(ws: Workspace, contact_id: str) -> list[dict[str, Any]]:
    return ws.store.query(
        "SELECT * FROM consents WHERE contact_id = ? AND deleted = 0 ORDER BY recorded_on",
        (contact_id,),
    )


# -- register of isolated older and disabled people (CASF L121-6-1) ---------------------


def register_status(ws: Workspace, person_id: str) -> dict[str, Any] | None:
    """The person's latest enrolment on the register, whatever its state (the fiche shows it;
    the workflow is in :mod:`havre_desktop.core.register`). None on a device whose agent has
    no register right: the server never sends it the register."""
    return ws.store.query_one(
        "SELECT * FROM register_enrolments WHERE person_id = ? AND deleted = 0 "
        "ORDER BY requested_on DESC, updated_at DESC LIMIT 1",
        (person_id,),
    )
