"""The City's details (``city_details``) and the street table (``streets``) on the server.

Both are written here only: by the operator (command line, actor ``None``), or through the admin
API by a coordinator or an administrator; every device receives them at its next pull (audience
``all``). Every change is audited (``coordonnees-ville``, ``rues-importees``: ids and counts only).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import Engine, insert, select, update

from havre_common import contract, validation
from havre_common.city import CITY_ROW, EDITABLE_FIELDS, SAMPLE_CITY_DETAILS, row_problems
from havre_common.streets import StreetFile
from havre_common.validation import ContractViolation
from havre_server import schema
from havre_server.admin import server_audit
from havre_server.changelog import ChangeBuffer, Entry, Ordering, flush
from havre_server.domain import load_row, wire_fields
from havre_server.errors import ApiError, forbidden, not_found
from havre_server.push import iso_now
from havre_server.reference import Reference
from havre_server.scope import ADMINISTRATOR, COORDINATOR, Principal

log = logging.getLogger("havre.server.city")

ROW_ID = re.compile(contract.CITY_DETAILS.field("id").pattern or "")
EDITORS_ONLY = (
    "Les coordonnées de la Ville sont saisies par les coordinateurs et les administrateurs."
)
STREETS_EDITORS_ONLY = "La liste des rues est chargée par les coordinateurs et les administrateurs."


def _require_editor(actor: Principal | None, message: str) -> None:
    if actor is not None and actor.role not in (ADMINISTRATOR, COORDINATOR):
        raise forbidden(message)


def _sent(row: dict[str, Any], table: str) -> dict[str, Any]:
    """The row as it travels down (the sample mark stays on the server, as for the catalogue)."""
    return {k: v for k, v in wire_fields(row, table).items() if k != contract.SAMPLE_COLUMN}


OTHER_TERRITORY = (
    "Cet accueil relève d'un territoire qui n'est pas le vôtre : un coordinateur de ce "
    "territoire ou un administrateur le modifie."
)


def _check_desk_territory(actor: Principal | None, *territories: object) -> None:
    """A coordinator changes the City-wide row and the desks of her own territories (a desk
    moved from or to another territory included); administrators and the operator, any."""
    if actor is None or actor.role != COORDINATOR:
        return
    if any(t and str(t) not in actor.territories for t in territories):
        raise forbidden(OTHER_TERRITORY)


def _entry(table: str, row: dict[str, Any]) -> Entry:
    removed = bool(row.get("deleted"))
    return Entry(
        table_name=table,
        row_id=str(row["id"]),
        op="remove" if removed else "upsert",
        reason="deleted" if removed else None,
        audience="all",
        fields=None if removed else _sent(row, table),
        server_version=int(row["server_version"]),
    )


# -- the City's details -------------------------------------------------------------------------


def list_city_details(engine: Engine, actor: Principal | None) -> list[dict[str, Any]]:
    """Every live row (every role may read them: they are printed on every document)."""
    table = schema.city_details
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.deleted == 0).order_by(table.c.id))
        return [
            {**wire_fields(dict(r._mapping), "city_details"), "is_sample": bool(r.is_sample)}
            for r in rows
        ]


def set_city_details(
    engine: Engine,
    actor: Principal | None,
    row_id: str,
    values: dict[str, Any],
    ref: Reference,
    ordering: Ordering,
    *,
    sample: bool = False,
) -> dict[str, Any]:
    """Create or change one row (the given fields only; an empty value clears a field).

    Checked by the contract field by field, then as a whole row (:func:`row_problems`); every
    problem comes back at once, in French, and nothing is written."""
    _require_editor(actor, EDITORS_ONLY)
    if not ROW_ID.fullmatch(row_id):
        raise ApiError(
            "invalid_request",
            "Identifiant : lettres minuscules sans accent, chiffres et tirets (40 au plus).",
        )
    unknown = sorted(set(values) - set(EDITABLE_FIELDS))
    if unknown:
        raise ApiError(
            "invalid_request",
            f"Champ inconnu dans les coordonnées de la Ville : {', '.join(unknown)[:200]}.",
        )
    spec_table = schema.city_details
    try:
        cleaned = validation.clean(contract.CITY_DETAILS, values, creating=False, ref=ref)
    except ContractViolation as exc:
        raise ApiError("invalid_request", str(exc), details=list(exc.errors.values())) from None
    buffer = ChangeBuffer()
    with engine.begin() as conn:
        existing = load_row(conn, spec_table, row_id, for_update=True)
        live = existing if existing is not None and not existing.get("deleted") else None
        merged = {name: (live or {}).get(name) for name in EDITABLE_FIELDS} | cleaned
        _check_desk_territory(actor, (live or {}).get("territory_id"), merged["territory_id"])
        problems = row_problems(row_id, merged)
        if problems:
            raise ApiError("invalid_request", " ".join(problems.values()))
        changed = sorted(k for k in cleaned if live is None or live.get(k) != cleaned[k])
        stamp = {"updated_at": iso_now(), "is_sample": int(sample)}
        if existing is None:
            conn.execute(insert(spec_table).values(id=row_id, server_version=1, **merged, **stamp))
        elif changed or existing.get("deleted") or int(existing["is_sample"]) != int(sample):
            conn.execute(
                update(spec_table)
                .where(spec_table.c.id == row_id)
                .values(
                    server_version=int(existing["server_version"]) + 1,
                    deleted=0,
                    **merged,
                    **stamp,
                )
            )
        else:
            return {**wire_fields(existing, "city_details"), "is_sample": bool(sample)}
        fresh = load_row(conn, spec_table, row_id)
        assert fresh is not None
        buffer.add(_entry("city_details", fresh))
        server_audit(
            conn, actor, "coordonnees-ville", "city_details", row_id, {"fields": changed or ["row"]}
        )
        flush(conn, buffer, ordering)
    log.info("city details changed row=%s fields=%d", row_id, len(changed))
    return {**wire_fields(fresh, "city_details"), "is_sample": bool(fresh["is_sample"])}


def remove_city_details(
    engine: Engine, actor: Principal | None, row_id: str, ordering: Ordering
) -> None:
    """Remove a desk (the City-wide row stays: it can be emptied, not removed)."""
    _require_editor(actor, EDITORS_ONLY)
    if row_id == CITY_ROW:
        raise ApiError(
            "invalid_request",
            f"La ligne « {CITY_ROW} » vaut pour toute la Ville : videz ses champs au besoin, "
            "elle ne se supprime pas.",
        )
    table = schema.city_details
    buffer = ChangeBuffer()
    with engine.begin() as conn:
        existing = (
            load_row(conn, table, row_id, for_update=True) if ROW_ID.fullmatch(row_id) else None
        )
        if existing is None or existing.get("deleted"):
            raise not_found("Cet accueil n'existe pas.")
        _check_desk_territory(actor, existing.get("territory_id"))
        version = int(existing["server_version"]) + 1
        conn.execute(
            update(table).where(table.c.id == row_id).values(server_version=version, deleted=1)
        )
        buffer.add(_entry("city_details", {**existing, "server_version": version, "deleted": 1}))
        server_audit(conn, actor, "coordonnees-ville", "city_details", row_id, {"removed": True})
        flush(conn, buffer, ordering)
    log.info("city desk removed row=%s", row_id)


def install_sample_city_details(engine: Engine, ref: Reference, ordering: Ordering) -> bool:
    """A demo server's sample values, when it has no City-wide row yet (never over real ones)."""
    with engine.connect() as conn:
        if load_row(conn, schema.city_details, CITY_ROW) is not None:
            return False
    for row_id, values in SAMPLE_CITY_DETAILS.items():
        set_city_details(engine, None, row_id, dict(values), ref, ordering, sample=True)
    return True


# -- the street table ---------------------------------------------------------------------------


def import_streets(
    engine: Engine,
    actor: Principal | None,
    read: StreetFile,
    ordering: Ordering,
    *,
    sample: bool = False,
) -> dict[str, int]:
    """Replace the street table by the file's streets (all or nothing).

    A file with bad lines is refused whole, its report as the message (one line per problem).
    Streets already there and unchanged are left alone (devices download nothing for them);
    streets no longer in the file are removed from every device."""
    _require_editor(actor, STREETS_EDITORS_ONLY)
    if read.problems:
        raise ApiError("invalid_request", read.report(), details=read.problems[:50])
    if not read.rows:
        raise ApiError("invalid_request", "Le fichier ne contient aucune rue.")
    table = schema.streets
    buffer = ChangeBuffer()
    counts = {"added": 0, "changed": 0, "unchanged": 0, "removed": 0}
    with engine.begin() as conn:
        current = {str(r.id): dict(r._mapping) for r in conn.execute(select(table)).all()}
        wanted = {str(row["id"]): row for row in read.rows}
        for row_id, row in wanted.items():
            values = {
                "name": row["name"],
                "territory_id": row["territory_id"],
                "postcode": row.get("postcode"),
                "is_sample": int(sample),
            }
            old = current.get(row_id)
            if old is None:
                conn.execute(insert(table).values(id=row_id, server_version=1, **values))
                counts["added"] += 1
                version = 1
            elif old["deleted"] or any(old[k] != v for k, v in values.items()):
                version = int(old["server_version"]) + 1
                conn.execute(
                    update(table)
                    .where(table.c.id == row_id)
                    .values(server_version=version, deleted=0, **values)
                )
                counts["changed"] += 1
            else:
                counts["unchanged"] += 1
                continue
            buffer.add(
                _entry("streets", {"id": row_id, **values, "server_version": version, "deleted": 0})
            )
        for row_id, old in current.items():
            if row_id in wanted or old["deleted"]:
                continue
            version = int(old["server_version"]) + 1
            conn.execute(
                update(table).where(table.c.id == row_id).values(server_version=version, deleted=1)
            )
            buffer.add(_entry("streets", {**old, "server_version": version, "deleted": 1}))
            counts["removed"] += 1
        server_audit(conn, actor, "rues-importees", "streets", "streets", dict(counts))
        flush(conn, buffer, ordering)
    log.info("streets imported %s", counts)
    return counts
