"""Subject access (RGPD art. 15) and portability: everything the server holds about one person.

The export walks the data contract at the time it runs, never a list typed here:

* every table with a ``person_column`` (the fiche itself, consents, register enrolment, visits,
  planned contacts, handouts given…): the rows naming her, every column the contract declares;
* every table marked ``personal`` without such a column: read by a finder of
  :data:`FINDERS` (the conflicts about her name her in a server-only column);
* the audit entries about her file or one of its rows (who opened, printed, exported it, when,
  from which device), with the agents' names;
* the server's own bookkeeping that names her (:data:`BOOKKEEPING`): earlier versions of her
  rows still in the change log, the territories her file belonged to.

A table the export cannot read — a personal table with no finder, a table with no server table,
a server table with a person column that nothing here reads — raises
:class:`SubjectAccessError` naming it: the export fails loudly rather than leave a table out.

Files: ``acces-<id>.json`` (``FORMAT``; values as stored, JSON lists and objects decoded) and,
when reportlab is installed (``pip install 'havre-ensemble-server[pdf]'``, not a dependency of
the server), a readable ``acces-<id>.pdf`` with the contract's French labels. Producing an
export writes an audit entry (``acces-personne``): the export itself is an access to her file.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, select

from havre_common import contract
from havre_common.subject_access import FORMAT, write_pdf
from havre_server import audit, schema
from havre_server.auth import now_ms
from havre_server.db import dumps
from havre_server.domain import decode, person_territory
from havre_server.errors import ApiError, forbidden, not_found
from havre_server.push import iso_now
from havre_server.scope import ADMINISTRATOR, COORDINATOR, Principal

PERSON_COLUMNS = frozenset({"person_id", "contact_id"})
"""Column names that, in any server table, name a person (checked: each one is read)."""


class SubjectAccessError(ApiError):
    """A table about persons that the export cannot read (the export refuses to go on)."""

    def __init__(self, message: str) -> None:
        super().__init__("internal_error", message)


Finder = Callable[[Connection, Table, str], list[dict[str, Any]]]


def _by_column(column: str) -> Finder:
    def find(conn: Connection, table: Table, person_id: str) -> list[dict[str, Any]]:
        rows = conn.execute(select(table).where(table.c[column] == person_id)).all()
        return [decode(r) for r in rows]

    return find


FINDERS: dict[str, Finder] = {
    # A conflict names its person in a server-only column (scope and erasure).
    "conflicts": _by_column("person_id"),
}
"""How to read the rows about a person of a ``personal`` table without a ``person_column``."""


@dataclass(frozen=True)
class Bookkeeping:
    label: str
    column: str
    shown: tuple[str, ...]


BOOKKEEPING: dict[str, Bookkeeping] = {
    "change_log": Bookkeeping(
        "Versions de ses données conservées dans le journal des modifications",
        "person_id",
        ("seq", "table_name", "row_id", "op", "reason", "fields", "author_agent_id", "device_id"),
    ),
    "territory_history": Bookkeeping(
        "Territoires successifs de sa fiche", "person_id", ("territory_id", "from_ms", "to_ms")
    ),
}
"""Server tables outside the contract that name a person, and what they are."""


def _contract_sections(conn: Connection, person_id: str) -> list[dict[str, Any]]:
    sections: list[dict[str, Any]] = []
    for spec in contract.TABLES.values():
        if spec.name == contract.AUDIT_LOG.name:
            continue  # read below, by the ids of her rows
        if spec.person_column:
            finder = _by_column(spec.person_column)
        elif spec.personal:
            if spec.name not in FINDERS:
                raise SubjectAccessError(
                    f"Export impossible : la table « {spec.label} » ({spec.name}) concerne des "
                    "personnes mais l'export ne sait pas la lire (ajoutez-la aux FINDERS de "
                    "havre_server/subject_access.py)."
                )
            finder = FINDERS[spec.name]
        else:
            continue
        table = schema.metadata.tables.get(spec.name)
        if table is None:
            raise SubjectAccessError(
                f"Export impossible : la table « {spec.label} » ({spec.name}) du contrat "
                "n'existe pas sur le serveur."
            )
        keep = set(spec.names) | (set(spec.server_columns) - {"field_meta"})
        rows = [{k: v for k, v in r.items() if k in keep} for r in finder(conn, table, person_id)]
        sections.append({"table": spec.name, "libelle": spec.label, "lignes": rows})
    return sections


def _bookkeeping_sections(conn: Connection, person_id: str) -> list[dict[str, Any]]:
    read = {s.name for s in contract.TABLES.values() if s.person_column or s.personal}
    unread = sorted(
        name
        for name, table in schema.metadata.tables.items()
        if name not in read and name not in BOOKKEEPING and PERSON_COLUMNS & set(table.c.keys())
    )
    if unread:
        raise SubjectAccessError(
            "Export impossible : table(s) du serveur nommant une personne que l'export ne lit "
            f"pas : {', '.join(unread)} (ajoutez-les à BOOKKEEPING dans "
            "havre_server/subject_access.py)."
        )
    sections = []
    for name, book in BOOKKEEPING.items():
        rows = [
            {k: row.get(k) for k in book.shown}
            for row in _by_column(book.column)(conn, schema.metadata.tables[name], person_id)
        ]
        for row in rows:
            stored = row.get("fields")
            if isinstance(stored, str):
                row["fields"] = json.loads(stored)
        sections.append({"table": name, "libelle": book.label, "lignes": rows})
    return sections


def _audit_section(conn: Connection, ids: Sequence[str]) -> dict[str, Any]:
    log, agents = schema.audit_log, schema.agents
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), 500):
        found = conn.execute(
            select(log, agents.c.display_name.label("agent_name"))
            .outerjoin(agents, agents.c.id == log.c.agent_id)
            .where(log.c.entity_id.in_(ids[start : start + 500]))
        ).all()
        rows.extend(decode(r) for r in found)
    rows.sort(key=lambda r: int(r["chain_seq"]))
    keep = (
        "id",
        "at",
        "event",
        "entity",
        "entity_id",
        "agent_id",
        "agent_name",
        "device_id",
        "detail",
    )
    return {
        "table": contract.AUDIT_LOG.name,
        "libelle": "Accès à son dossier (journal d'audit)",
        "lignes": [{k: r.get(k) for k in keep} for r in rows],
    }


def collect(engine: Engine, person_id: str) -> dict[str, Any]:
    """Everything held about this person (a fresh read; nothing written). The register is
    included: her right of access is not another use of it (contract.SUBJECT_ACCESS)."""
    contract.check_purpose(tuple(contract.TABLES), contract.SUBJECT_ACCESS)
    with engine.connect() as conn:
        person = conn.execute(
            select(schema.contacts.c.id).where(
                schema.contacts.c.id == person_id, schema.contacts.c.kind == "person"
            )
        ).first()
        if person is None:
            raise not_found("Personne introuvable (identifiant inconnu, ou fiche effacée).")
        sections = _contract_sections(conn, person_id)
        ids = sorted({person_id, *(str(r["id"]) for s in sections for r in s["lignes"])})
        sections += _bookkeeping_sections(conn, person_id)
        sections.append(_audit_section(conn, ids))
    return {
        "format": FORMAT,
        "produit_le": iso_now(),
        "personne_id": person_id,
        "sections": sections,
    }


def for_agent(engine: Engine, actor: Principal | None, person_id: str) -> dict[str, Any]:
    """The export as a coordinator of her territory or an administrator may ask it (from the
    desktop, online); audited."""
    if actor is not None and actor.role not in (ADMINISTRATOR, COORDINATOR):
        raise forbidden()
    if actor is not None and actor.role == COORDINATOR:
        with engine.connect() as conn:
            if person_territory(conn, person_id) not in actor.territories:
                raise not_found("Personne introuvable ou hors de votre périmètre.")
    data = collect(engine, person_id)
    _audit(engine, actor, person_id, data, "json")
    return data


def export(engine: Engine, actor: Principal | None, person_id: str, out_dir: Path) -> list[Path]:
    """Write the JSON file (and the PDF when reportlab is there); audit the access."""
    if actor is not None and actor.role not in (ADMINISTRATOR, COORDINATOR):
        raise forbidden()
    data = collect(engine, person_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / f"acces-{person_id}.json"]
    written[0].write_text(json.dumps(data, ensure_ascii=False, indent=2), "utf-8")
    pdf = write_pdf(data, out_dir / f"acces-{person_id}.pdf")
    if pdf is not None:
        written.append(pdf)
    _audit(engine, actor, person_id, data, "json-pdf" if pdf is not None else "json")
    return written


def _audit(
    engine: Engine, actor: Principal | None, person_id: str, data: dict[str, Any], form: str
) -> None:
    counts = {s["table"]: len(s["lignes"]) for s in data["sections"] if s["lignes"]}
    with engine.begin() as conn:
        audit.append(
            conn,
            {
                "id": str(uuid.uuid4()),
                "at": iso_now(),
                "agent_id": None if actor is None else actor.agent_id,
                "event": "acces-personne",
                "entity": "contacts",
                "entity_id": person_id,
                "detail": dumps({"format": form, **counts}),
                "device_id": None if actor is None else actor.device_id,
                "received_at_ms": now_ms(),
            },
        )
